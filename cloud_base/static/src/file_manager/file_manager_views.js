import { _t } from "@web/core/l10n/translation";
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";
import { useFileViewer } from "@web/core/file_viewer/file_viewer_hook";
import { FileModel } from "@web/core/file_viewer/file_model";
import { ConfirmationDialog } from "@web/core/confirmation_dialog/confirmation_dialog";
import { ActionMenus } from "@web/search/action_menus/action_menus";
import { kanbanView } from "@web/views/kanban/kanban_view";
import { KanbanController } from "@web/views/kanban/kanban_controller";
import { KanbanRecord, CANCEL_GLOBAL_CLICK } from "@web/views/kanban/kanban_record";
import { KanbanRenderer } from "@web/views/kanban/kanban_renderer";
import { listView } from "@web/views/list/list_view";
import { ListController } from "@web/views/list/list_controller";
import { ListRenderer } from "@web/views/list/list_renderer";
import { FileManagerPanel, TREES_CHANGED } from "./file_manager_panel";
import { FileManagerSearchModel } from "./search_model";
import { FolderPickerDialog, TagPickerDialog } from "./picker_dialogs";
import {
    ATTACHMENTS_TYPE,
    download,
    downloadPost,
    openInCloud,
    uploadFiles,
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
        const cloud = ev.target.closest?.("[data-clouds-open-cloud-id]");
        if (cloud) {
            ev.stopPropagation();
            ev.preventDefault();
            openInCloud(renderer.env, "ir.attachment", Number(cloud.dataset.cloudsOpenCloudId));
            return;
        }
        const el = ev.target.closest?.("[data-clouds-preview-id]");
        // While files are selected, a click on a card selects it (see the card below).
        if (el && !renderer.props.list.model.root.selection.length) {
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

/**
 * A card with a selection box (Odoo 18.0's cards cannot be selected). Once a card is
 * selected, clicking a card toggles it instead of opening it, as rows do in a list.
 */
export class FileManagerKanbanRecord extends KanbanRecord {
    static template = "cloud_base.FileManagerKanbanRecord";

    getRecordClasses() {
        const selected = this.props.record.selected ? " o_clouds_selected" : "";
        return super.getRecordClasses() + selected;
    }

    onGlobalClick(ev) {
        const { record } = this.props;
        if (record.model.root.selection.length && !ev.target.closest(CANCEL_GLOBAL_CLICK)) {
            record.toggleSelection();
            return;
        }
        super.onGlobalClick(ev);
    }

    onCloudsToggleSelection() {
        this.props.record.toggleSelection();
    }
}

export class FileManagerKanbanRenderer extends KanbanRenderer {
    static template = "cloud_base.FileManagerKanbanRenderer";
    static components = {
        ...KanbanRenderer.components,
        FileManagerPanel,
        KanbanRecord: FileManagerKanbanRecord,
    };
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

/**
 * The mass actions on selected files, one implementation for the list and the cards.
 * "Select all" (the whole search, not only the page) is honoured: ids come from the
 * model's ``getResIds``.
 */
function cloudsMassActions(controller) {
    const ids = () => controller.model.root.getResIds(true);
    const reload = async () => {
        await controller.model.load();
        controller.env.bus.trigger(TREES_CHANGED);
    };
    return {
        clouds_zip: {
            sequence: 5,
            icon: "fa fa-file-archive-o",
            description: _t("Download as zip"),
            callback: async () =>
                downloadPost(
                    "/cloud_base/zip",
                    { attachment_ids: (await ids()).join(",") },
                    (error) =>
                        controller.cloudsNotification.add(error, {
                            type: "danger",
                            title: _t("The zip could not be made"),
                        })
                ),
        },
        clouds_move: {
            sequence: 6,
            icon: "fa fa-folder-open",
            description: _t("Move to folder"),
            callback: () =>
                controller.cloudsDialog.add(FolderPickerDialog, {
                    title: _t("Move to folder"),
                    confirm: async (folderId) => {
                        await controller.orm.call("ir.attachment", "clouds_fm_move", [
                            await ids(),
                            folderId,
                        ]);
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
                    allowCreate: true,
                    confirm: async (tagIds) => {
                        await controller.orm.call("ir.attachment", "clouds_fm_tag", [
                            await ids(),
                            tagIds,
                        ]);
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
                        await controller.orm.call(
                            "ir.attachment",
                            "clouds_fm_tag",
                            [await ids(), tagIds],
                            { remove: true }
                        );
                        await reload();
                    },
                }),
        },
        delete: {
            isAvailable: () => controller.props.archInfo.activeActions.delete,
            sequence: 40,
            icon: "fa fa-trash-o",
            description: _t("Delete"),
            callback: () =>
                controller.cloudsDialog.add(
                    ConfirmationDialog,
                    controller.deleteConfirmationDialogProps
                ),
        },
    };
}

export class FileManagerKanbanController extends KanbanController {
    static template = "cloud_base.FileManagerKanbanView";
    static components = { ...KanbanController.components, ActionMenus };

    setup() {
        super.setup();
        setupFileManagerController(this);
    }

    getStaticActionMenuItems() {
        return cloudsMassActions(this);
    }

    /** Select every card of the page (then "Select all" offers the whole search). */
    onCloudsSelectPage() {
        return this.model.root.toggleSelection();
    }
}

// The selection box, the action menu and the search bar hidden while files are
// selected: Odoo's list controller members, reused as they are by the card view.
for (const name of [
    "actionMenuProps",
    "actionMenuItems",
    "deleteConfirmationDialogProps",
    "display",
    "hasSelectedRecords",
    "isDomainSelected",
    "isPageSelected",
    "nbSelected",
    "nbTotal",
    "onSelectDomain",
    "onUnselectAll",
]) {
    const member = Object.getOwnPropertyDescriptor(ListController.prototype, name);
    Object.defineProperty(FileManagerKanbanController.prototype, name, member);
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
