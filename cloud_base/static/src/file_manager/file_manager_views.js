import { _t } from "@web/core/l10n/translation";
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";
import { useFileViewer } from "@web/core/file_viewer/file_viewer_hook";
import { FileModel } from "@web/core/file_viewer/file_model";
import { kanbanView } from "@web/views/kanban/kanban_view";
import { KanbanController } from "@web/views/kanban/kanban_controller";
import { KanbanRenderer } from "@web/views/kanban/kanban_renderer";
import { listView } from "@web/views/list/list_view";
import { ListController } from "@web/views/list/list_controller";
import { ListRenderer } from "@web/views/list/list_renderer";
import { FileManagerPanel } from "./file_manager_panel";
import { FileManagerSearchModel } from "./search_model";
import { FolderPickerDialog, TagPickerDialog } from "./picker_dialogs";
import {
    ATTACHMENTS_TYPE,
    download,
    uploadFiles,
    zipUrl,
} from "../clouds_tree/operations";

/** What both renderers add: the side panel, drags of records, drops of desktop files. */
function setupFileManagerRenderer(renderer) {
    renderer.notification = useService("notification");
    renderer.fileViewer = useFileViewer();
    renderer.reloadView = () => renderer.props.list.model.load();
    renderer.onCloudsDragStart = (ev) => {
        const el = ev.target.closest?.("[data-clouds-att-id]");
        if (!el) {
            return;
        }
        const id = Number(el.dataset.cloudsAttId);
        const selected = renderer.props.list.selection.map((r) => r.resId);
        const ids = selected.includes(id) ? selected : [id];
        ev.dataTransfer.setData(ATTACHMENTS_TYPE, ids.join(","));
        ev.dataTransfer.effectAllowed = "move";
    };
    renderer.onCloudsDragOver = (ev) => {
        if (ev.dataTransfer.types.includes("Files")) {
            ev.preventDefault();
            ev.currentTarget.classList.add("o_clouds_dragover");
        }
    };
    renderer.onCloudsDragLeave = (ev) => ev.currentTarget.classList.remove("o_clouds_dragover");
    renderer.onCloudsDrop = async (ev) => {
        ev.currentTarget.classList.remove("o_clouds_dragover");
        if (!ev.dataTransfer.files?.length) {
            return;
        }
        ev.preventDefault();
        const folderId = renderer.env.searchModel.clouds.folderId;
        if (!folderId) {
            renderer.notification.add(_t("Select a folder to upload into."), { type: "warning" });
            return;
        }
        await uploadFiles(folderId, [...ev.dataTransfer.files]);
        await renderer.reloadView();
    };
    renderer.onCloudsClickCapture = (ev) => {
        const el = ev.target.closest?.("[data-clouds-preview-id]");
        if (el) {
            ev.stopPropagation();
            ev.preventDefault();
            renderer.previewRecord(Number(el.dataset.cloudsPreviewId));
        }
    };
    renderer.previewRecord = (resId) => {
        const files = renderer.props.list.records.map((r) =>
            Object.assign(new FileModel(), {
                id: r.resId,
                name: r.data.name,
                mimetype: r.data.mimetype,
                type: r.data.type,
                url: r.data.url,
                checksum: r.data.checksum,
            })
        );
        const file = files.find((f) => f.id === resId);
        if (file.isViewable) {
            renderer.fileViewer.open(file, files);
        } else {
            download(`/cloud_base/download/${resId}`);
        }
    };
}

export class FileManagerKanbanRenderer extends KanbanRenderer {
    static template = "cloud_base.FileManagerKanbanRenderer";
    static components = { ...KanbanRenderer.components, FileManagerPanel };
    setup() {
        super.setup();
        setupFileManagerRenderer(this);
    }
}

export class FileManagerListRenderer extends ListRenderer {
    static template = "cloud_base.FileManagerListRenderer";
    static components = { ...ListRenderer.components, FileManagerPanel };
    setup() {
        super.setup();
        setupFileManagerRenderer(this);
    }
}

/** Upload button and mass actions, shared by both controllers. */
function setupFileManagerController(controller) {
    controller.orm = useService("orm");
    controller.cloudsDialog = useService("dialog");
    controller.cloudsNotification = useService("notification");
    controller.onCloudsUpload = async (ev) => {
        const folderId = controller.env.searchModel.clouds.folderId;
        const files = [...ev.target.files];
        ev.target.value = "";
        if (!folderId) {
            controller.cloudsNotification.add(_t("Select a folder to upload into."), {
                type: "warning",
            });
            return;
        }
        await uploadFiles(folderId, files);
        await controller.model.load();
    };
}

function cloudsMassActions(controller) {
    const ids = () => controller.model.root.selection.map((r) => r.resId);
    const reload = () => controller.model.load();
    return {
        clouds_zip: {
            sequence: 5,
            icon: "fa fa-file-archive-o",
            description: _t("Download as zip"),
            callback: () => download(zipUrl({ attachment_ids: ids().join(",") })),
        },
        clouds_move: {
            sequence: 6,
            icon: "fa fa-folder-open",
            description: _t("Move to folder"),
            callback: () =>
                controller.cloudsDialog.add(FolderPickerDialog, {
                    title: _t("Move to folder"),
                    confirm: async (folderId) => {
                        await controller.orm.call("ir.attachment", "clouds_fm_move", [ids(), folderId]);
                        await reload();
                    },
                }),
        },
        clouds_tag_add: {
            sequence: 7,
            icon: "fa fa-tag",
            description: _t("Add tags"),
            callback: () =>
                controller.cloudsDialog.add(TagPickerDialog, {
                    title: _t("Add tags"),
                    confirm: async (tagIds) => {
                        await controller.orm.call("ir.attachment", "clouds_fm_tag", [ids(), tagIds]);
                        await reload();
                    },
                }),
        },
        clouds_tag_remove: {
            sequence: 8,
            icon: "fa fa-tags",
            description: _t("Remove tags"),
            callback: () =>
                controller.cloudsDialog.add(TagPickerDialog, {
                    title: _t("Remove tags"),
                    confirm: async (tagIds) => {
                        await controller.orm.call("ir.attachment", "clouds_fm_tag", [ids(), tagIds], {
                            remove: true,
                        });
                        await reload();
                    },
                }),
        },
    };
}

export class FileManagerKanbanController extends KanbanController {
    setup() {
        super.setup();
        setupFileManagerController(this);
    }
}

export class FileManagerListController extends ListController {
    setup() {
        super.setup();
        setupFileManagerController(this);
    }

    getStaticActionMenuItems() {
        return { ...super.getStaticActionMenuItems(), ...cloudsMassActions(this) };
    }
}

export const fileManagerKanbanView = {
    ...kanbanView,
    SearchModel: FileManagerSearchModel,
    Controller: FileManagerKanbanController,
    Renderer: FileManagerKanbanRenderer,
    buttonTemplate: "cloud_base.FileManagerKanbanButtons",
};

export const fileManagerListView = {
    ...listView,
    SearchModel: FileManagerSearchModel,
    Controller: FileManagerListController,
    Renderer: FileManagerListRenderer,
    buttonTemplate: "cloud_base.FileManagerListButtons",
};

registry.category("views").add("clouds_file_manager_kanban", fileManagerKanbanView);
registry.category("views").add("clouds_file_manager_list", fileManagerListView);
