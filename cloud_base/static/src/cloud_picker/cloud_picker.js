import { Component, onWillStart, useEnv, useState } from "@odoo/owl";
import { _t } from "@web/core/l10n/translation";
import { Dialog } from "@web/core/dialog/dialog";
import { useService } from "@web/core/utils/hooks";
import { humanSize } from "@web/core/utils/binary";

const MODEL = "clouds.picker";
let offered = null; // the user's connections, asked once per page load

/**
 * The connections offered to the user, cached: every box asks. The call goes through the
 * service itself, not a component's ``useService`` (whose promises never settle once
 * that component is gone, and the cache outlives it).
 */
export function offeredConnections(env) {
    offered ??= env.services.orm.call(MODEL, "clouds_connections", []).catch(() => []);
    return offered;
}

/**
 * "Add from cloud" for a screen: ``state.offered`` once the user has a connection (the
 * screen renders at once; the button appears when the answer comes), and
 * ``open(target, onAdded)`` to open the dialog; ``target`` is ``{ folderId }`` or
 * ``{ resModel, resId }``.
 */
export function useCloudPicker() {
    const env = useEnv();
    const dialog = useService("dialog");
    const state = useState({ offered: false });
    onWillStart(() => {
        offeredConnections(env).then((connections) => {
            state.offered = connections.length > 0;
        });
    });
    return {
        state,
        open: (target, onAdded) => dialog.add(CloudPickerDialog, { target, onAdded }),
    };
}

/**
 * The picker: a connection, its folders from the root (a page at a time, "Load more"),
 * search by name where the provider has it, files ticked across folders, then "Link"
 * (the bytes stay in the cloud) or "Copy" (into the record's folder), and Add. The
 * server hands out a signed handle for every item; this component only passes them back.
 */
export class CloudPickerDialog extends Component {
    static template = "cloud_base.CloudPickerDialog";
    static components = { Dialog };
    static props = { target: Object, onAdded: { type: Function, optional: true },
                     close: Function };

    setup() {
        this.orm = useService("orm");
        this.notification = useService("notification");
        this.humanSize = humanSize;
        this.state = useState({
            connections: [], connection: null, path: [], items: [], next: false,
            query: "", searched: false, selected: {}, mode: "link", loading: false,
        });
        onWillStart(async () => {
            this.state.connections = await offeredConnections(this.env);
            if (this.state.connections.length === 1) {
                await this.openConnection(this.state.connections[0]);
            }
        });
    }

    get selectedCount() {
        return Object.keys(this.state.selected).length;
    }

    async openConnection(connection) {
        Object.assign(this.state, { connection, selected: {}, query: "", searched: false,
                                    path: [{ name: connection.name, handle: false }] });
        await this.load();
    }

    async call(method, args, kwargs = {}) {
        this.state.loading = true;
        try {
            return await this.orm.call(MODEL, method, args, kwargs);
        } finally {
            this.state.loading = false;
        }
    }

    async load(more = false) {
        const folder = this.state.path.at(-1).handle;
        const result = await this.call("clouds_list", [this.state.connection.id], {
            folder, page: more ? this.state.next : false,
        });
        this.state.items = more ? [...this.state.items, ...result.items] : result.items;
        this.state.next = result.next;
        this.state.searched = false;
    }

    async enter(item) {
        this.state.path.push({ name: item.name, handle: item.handle });
        await this.load();
    }

    async goTo(index) {
        this.state.path.splice(index + 1);
        await this.load();
    }

    async search() {
        const query = this.state.query.trim();
        if (!query) {
            return this.goTo(this.state.path.length - 1);
        }
        this.state.items = await this.call("clouds_search", [this.state.connection.id, query]);
        this.state.next = false;
        this.state.searched = true;
    }

    onSearchKeydown(ev) {
        if (ev.key === "Enter") {
            ev.preventDefault();
            this.search();
        }
    }

    toggle(item) {
        if (this.state.selected[item.handle]) {
            delete this.state.selected[item.handle];
        } else {
            this.state.selected[item.handle] = item.name;
        }
    }

    async add() {
        const { folderId, resModel, resId } = this.props.target;
        const ids = await this.call("clouds_add", [this.state.connection.id,
            Object.keys(this.state.selected), this.state.mode], {
            folder_id: folderId || false, res_model: resModel || false, res_id: resId || false,
        });
        this.notification.add(
            this.state.mode === "link"
                ? _t("%s file(s) linked from the cloud.", ids.length)
                : _t("%s file(s) copied from the cloud.", ids.length),
            { type: "success" }
        );
        await this.props.onAdded?.(ids);
        this.props.close();
    }
}
