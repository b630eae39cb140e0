import { Component, onWillStart, onWillUpdateProps, useState } from "@odoo/owl";
import { _t } from "@web/core/l10n/translation";
import { useService } from "@web/core/utils/hooks";
import { useFileViewer } from "@web/core/file_viewer/file_viewer_hook";
import { FileModel } from "@web/core/file_viewer/file_model";
import { ConfirmationDialog } from "@web/core/confirmation_dialog/confirmation_dialog";
import { CloudsTree } from "../clouds_tree/clouds_tree";
import { VersionsDialog } from "../versions_dialog/versions_dialog";
import {
    ATTACHMENTS_TYPE,
    FOLDER_TYPE,
    download,
    dropOnFolder,
    folderMenuItems,
    openInCloud,
    uploadFiles,
    zipUrl,
} from "../clouds_tree/operations";

export const ATTACHMENT_FIELDS = ["name", "mimetype", "type", "url", "checksum", "file_size",
    "clouds_cloud_url", "clouds_folder_id", "clouds_state", "clouds_client_id"];

/**
 * The chatter's attachment box on a record that has a folder: the record's folder tree
 * (its object folder selected first) beside the files of the selected folder.
 */
export class CloudsAttachmentBox extends Component {
    static template = "cloud_base.CloudsAttachmentBox";
    static components = { CloudsTree };
    static props = { root: Object, canWrite: { type: Boolean, optional: true },
                     onChanged: { type: Function, optional: true } };

    setup() {
        this.orm = useService("orm");
        this.notification = useService("notification");
        this.dialog = useService("dialog");
        this.fileViewer = useFileViewer();
        this.FOLDER_TYPE = FOLDER_TYPE;
        this.state = useState({ selected: this.props.root, files: [], treeKey: 0, roots: [this.props.root] });
        onWillStart(() => this.loadFiles());
        onWillUpdateProps((next) => {
            if (next.root.id !== this.props.root.id) {
                this.state.selected = next.root;
                this.state.roots = [next.root];
                return this.loadFiles(next.root);
            }
        });
    }

    load = (parentId) => this.orm.call("clouds.folder", "clouds_fm_children", [parentId]);

    async loadFiles(folder = this.state.selected) {
        this.state.files = await this.orm.searchRead(
            "ir.attachment", [["clouds_folder_id", "=", folder.id]], ATTACHMENT_FIELDS,
            { order: "create_date desc, id desc" }
        );
    }

    select = async (node) => {
        this.state.selected = node;
        await this.loadFiles(node);
    };

    menu = (node) =>
        folderMenuItems(this.env, node, { full: false, onChanged: () => this.reloadAll() });
    create = (parent, name) => this.orm.create("clouds.folder", [{ name, parent_id: parent.id }]);
    openInCloud = (model, id) => openInCloud(this.env, model, id);
    rename = (node, name) => this.orm.write("clouds.folder", [node.id], { name });

    async reloadAll() {
        this.state.treeKey++;
        await this.loadFiles();
        await this.props.onChanged?.();
    }

    onDrop = async (node, dataTransfer) => {
        try {
            if (await dropOnFolder(this.orm, node, dataTransfer)) {
                await this.reloadAll();
            }
        } catch (error) {
            this.notification.add(error.data?.message || error.message, { type: "danger" });
        }
    };

    onFileDragStart(ev, file) {
        ev.dataTransfer.setData(ATTACHMENTS_TYPE, String(file.id));
    }

    onBoxDragOver(ev) {
        if (ev.dataTransfer.types.includes("Files")) {
            ev.preventDefault();
            ev.stopPropagation();
        }
    }

    async onBoxDrop(ev) {
        if (!ev.dataTransfer.files?.length) {
            return;
        }
        ev.preventDefault();
        ev.stopPropagation();
        await this.upload([...ev.dataTransfer.files]);
    }

    async onUploadInput(ev) {
        const files = [...ev.target.files];
        ev.target.value = "";
        await this.upload(files);
    }

    async upload(files) {
        await uploadFiles(this.state.selected.id, files);
        this.notification.add(_t("%s file(s) uploaded.", files.length), { type: "success" });
        await this.reloadAll();
    }

    downloadZip() {
        download(zipUrl({ folder_id: this.state.selected.id }));
    }

    fileModels() {
        return this.state.files.map((f) =>
            Object.assign(new FileModel(), {
                id: f.id, name: f.name, mimetype: f.mimetype, type: f.type, url: f.url,
                checksum: f.checksum,
            })
        );
    }

    preview(file) {
        const files = this.fileModels();
        const model = files.find((f) => f.id === file.id);
        if (model.isViewable) {
            this.fileViewer.open(model, files);
        } else {
            download(`/cloud_base/download/${file.id}`);
        }
    }

    versions(file) {
        this.dialog.add(VersionsDialog, {
            attachmentId: file.id, name: file.name, onRestored: () => this.reloadAll(),
        });
    }

    remove(file) {
        this.dialog.add(ConfirmationDialog, {
            title: _t("Delete file"),
            body: _t("Delete “%s”?", file.name),
            confirmLabel: _t("Delete"),
            confirm: async () => {
                await this.orm.unlink("ir.attachment", [file.id]);
                await this.reloadAll();
            },
            cancel: () => {},
        });
    }
}
