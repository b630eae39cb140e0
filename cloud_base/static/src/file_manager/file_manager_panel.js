import { Component, markup, onWillStart, useState } from "@odoo/owl";
import { _t } from "@web/core/l10n/translation";
import { useBus, useService } from "@web/core/utils/hooks";
import { CloudsTree } from "../clouds_tree/clouds_tree";
import { VersionsDialog } from "../versions_dialog/versions_dialog";
import {
    FOLDER_TYPE,
    TAG_TYPE,
    dropOnFolder,
    dropOnTag,
    folderMenuItems,
} from "../clouds_tree/operations";

export const TREES_CHANGED = "CLOUDS_FM:TREES_CHANGED";

/**
 * The History of a file or folder in the side panel: the form's ``clouds_history`` field,
 * read as the form reads it (the user's own access; the server renders the lines).
 */
export class FileManagerHistory extends Component {
    static template = "cloud_base.FileManagerHistory";
    static props = { model: String, resId: Number };

    setup() {
        this.orm = useService("orm");
        this.dialog = useService("dialog");
        this.state = useState({ name: "", html: null, synced: false });
        onWillStart(() => this.load());
    }

    async load() {
        const file = this.props.model === "ir.attachment";
        const [record] = await this.orm.read(this.props.model, [this.props.resId], [
            "display_name",
            "clouds_history",
            ...(file ? ["clouds_client_id"] : []),
        ]);
        if (record) {
            this.state.name = record.display_name;
            this.state.html = markup(record.clouds_history || "");
            this.state.synced = file && Boolean(record.clouds_client_id);
        }
    }

    /** A synced file's versions (the History then shows a restore). */
    openVersions() {
        this.dialog.add(VersionsDialog, {
            attachmentId: this.props.resId, name: this.state.name, onRestored: () => this.load(),
        });
    }
}

/**
 * The file manager's side panel: search box, folder tree, subfolder toggle, tag tree, and
 * the History of the one selected file (else of the selected folder).
 */
export class FileManagerPanel extends Component {
    static template = "cloud_base.FileManagerPanel";
    static components = { CloudsTree, FileManagerHistory };
    static props = {
        onChanged: Function,
        fileId: { type: [Number, { value: false }], optional: true },
    };

    setup() {
        this.orm = useService("orm");
        this.notification = useService("notification");
        this.dialog = useService("dialog");
        this.state = useState({ term: "", search: null, reloadKey: 0 });
        this.reveal = undefined;
        onWillStart(async () => {
            if (this.clouds.folderId) {
                this.reveal =
                    (await this.orm.call("clouds.folder", "clouds_fm_reveal", [
                        this.clouds.folderId,
                    ])) || undefined;
            }
        });
        this.FOLDER_TYPE = FOLDER_TYPE;
        this.TAG_TYPE = TAG_TYPE;
        // the selection's actions (tags added, files moved) change the trees' counts
        useBus(this.env.bus, TREES_CHANGED, () => this.redraw());
    }

    get clouds() {
        return this.env.searchModel.clouds;
    }

    /** Whose History the panel shows: the one selected file, else the selected folder. */
    get historyOf() {
        if (this.props.fileId) {
            return { model: "ir.attachment", resId: this.props.fileId };
        }
        if (this.clouds.folderId) {
            return { model: "clouds.folder", resId: this.clouds.folderId };
        }
        return null;
    }

    loadFolders = (parentId) => this.orm.call("clouds.folder", "clouds_fm_children", [parentId]);
    loadTags = () => this.orm.call("clouds.tag", "clouds_fm_tags", []);

    selectFolder = (node) => {
        const same = this.clouds.folderId === node.id;
        this.env.searchModel.setCloudsFilter({ folderId: same ? false : node.id });
    };

    selectTag = (node) => {
        const same = this.clouds.tagId === node.id;
        this.env.searchModel.setCloudsFilter({ tagId: same ? false : node.id });
    };

    toggleSubfolders(ev) {
        this.env.searchModel.setCloudsFilter({ includeSubfolders: ev.target.checked });
    }

    async onSearchKeydown(ev) {
        if (ev.key === "Enter") {
            await this.search();
        } else if (ev.key === "Escape") {
            this.clearSearch();
        }
    }

    async search() {
        const term = this.state.term.trim();
        if (!term) {
            return this.clearSearch();
        }
        const result = await this.orm.call("clouds.folder", "clouds_fm_search", [term]);
        this.state.search = {
            folders: { nodes: result.folders, matches: result.folder_matches },
            tags: { nodes: result.tags, matches: result.tag_matches },
            empty: !result.folder_matches.length && !result.tag_matches.length,
        };
    }

    clearSearch() {
        this.state.term = "";
        this.state.search = null;
    }

    folderMenu = (node) =>
        folderMenuItems(this.env, node, { full: true, onChanged: () => this.reload(node) });

    tagMenu = () => [
        { label: _t("Create subtag"), icon: "fa-plus", run: (n, tree) => tree.startCreate(n) },
        { label: _t("Rename"), icon: "fa-pencil", run: (n, tree) => tree.startRename(n) },
        ...[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11].map((color) => ({
            label: _t("Colour %s", color),
            icon: `fa-circle o_tag_color_${color}`,
            run: async (n, tree) => {
                await this.orm.write("clouds.tag", [n.id], { color });
                await tree.refresh();
            },
        })),
    ];

    createFolder = (parent, name) =>
        this.orm.create("clouds.folder", [{ name, parent_id: parent ? parent.id : false }]);
    renameFolder = (node, name) => this.orm.write("clouds.folder", [node.id], { name });
    createTag = (parent, name) =>
        this.orm.create("clouds.tag", [{ name, parent_id: parent ? parent.id : false }]);
    renameTag = (node, name) => this.orm.write("clouds.tag", [node.id], { name });

    /** Redraw both trees (kept open on the selected folder) and reload the view. */
    async reload() {
        await this.redraw();
        await this.props.onChanged();
    }

    /** Redraw both trees, their counts fresh (kept open on the selected folder). */
    async redraw() {
        this.clearSearch();
        const folderId = this.clouds.folderId;
        this.reveal = folderId
            ? (await this.orm.call("clouds.folder", "clouds_fm_reveal", [folderId])) || undefined
            : undefined;
        this.state.reloadKey++;
    }

    dropOnFolder = async (node, dataTransfer) => {
        await this.safely(() => dropOnFolder(this.orm, node, dataTransfer));
    };

    dropOnTag = async (node, dataTransfer) => {
        await this.safely(() => dropOnTag(this.orm, node, dataTransfer));
    };

    /** Run a drop; refusals (rule folders, cycles) are shown, and the view reloads. */
    async safely(run) {
        try {
            const done = await run();
            if (done) {
                await this.reload();
            }
        } catch (error) {
            const message = error.data?.message || error.message;
            this.notification.add(message, { type: "danger", title: _t("Not moved") });
        }
    }
}
