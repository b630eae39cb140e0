import {
    Component,
    onWillStart,
    onWillUpdateProps,
    useEffect,
    useExternalListener,
    useRef,
    useState,
} from "@odoo/owl";
import { useService } from "@web/core/utils/hooks";

/**
 * A lazy tree of folders or tags: expand/collapse, selection, counts, a context menu,
 * inline create/rename, drag and drop, and search results shown as highlighted branches.
 *
 * Nodes are plain objects from the server ({id, name, parent_id, child_count?, file_count}).
 * With `lazy`, children come from `clouds_fm_children` when a node opens; otherwise `load`
 * returns every node at once (tags). `search` ({nodes, matches}) replaces the tree by the
 * matching branches until it is cleared.
 */
export class CloudsTree extends Component {
    static template = "cloud_base.CloudsTree";
    static props = {
        model: String,
        load: Function, // (parentId) => nodes; parentId false = top level
        lazy: { type: Boolean, optional: true },
        roots: { type: Array, optional: true }, // fixed top nodes (the attachment box's root)
        reveal: { type: Object, optional: true }, // {path, nodes}: open the tree on a folder
        selectedId: { optional: true },
        onSelect: Function,
        menuItems: { type: Function, optional: true }, // (node) => [{label, icon, run}]
        onDrop: { type: Function, optional: true }, // (node, dataTransfer) => Promise
        dragType: String,
        search: { type: Object, optional: true },
        rename: { type: Function, optional: true }, // (node, name) => Promise
        create: { type: Function, optional: true }, // (parentNode, name) => Promise
        showColor: { type: Boolean, optional: true },
    };

    setup() {
        this.orm = useService("orm");
        this.state = useState({
            nodes: {},
            children: {}, // parent key -> [ids], undefined when not loaded
            expanded: {},
            menu: null,
            editing: null, // {nodeId, parentId, value}
            dropTarget: null,
        });
        useExternalListener(window, "click", () => (this.state.menu = null));
        const input = useRef("editInput");
        useEffect(
            (editing) => editing && input.el?.focus(),
            () => [this.state.editing]
        );
        onWillStart(() => this.reset());
        onWillUpdateProps((next) => {
            if (next.roots !== this.props.roots) {
                return this.reset(next);
            }
        });
    }

    async reset(props = this.props) {
        this.state.nodes = {};
        this.state.children = {};
        if (props.roots) {
            this.insert(props.roots);
            this.state.children.top = props.roots.map((n) => n.id);
            for (const root of props.roots) {
                await this.loadChildren(root.id, props);
                this.state.expanded[root.id] = true;
            }
        } else if (props.reveal) {
            this.applyReveal(props.reveal);
        } else {
            await this.loadChildren(false, props);
        }
    }

    /** Show a path opened down to a folder from one answer of ``clouds_fm_reveal``. */
    applyReveal({ path, nodes }) {
        this.insert(nodes);
        const children = {};
        for (const node of nodes) {
            (children[this.key(node.parent_id)] ||= []).push(node.id);
        }
        for (const id of path) {
            children[id] ||= [];
            this.state.expanded[id] = true;
        }
        this.state.children = children;
    }

    insert(nodes) {
        for (const node of nodes) {
            this.state.nodes[node.id] = node;
        }
    }

    key(parentId) {
        return parentId || "top";
    }

    async loadChildren(parentId, props = this.props) {
        const nodes = await props.load(parentId);
        this.insert(nodes);
        if (props.lazy) {
            this.state.children[this.key(parentId)] = nodes.map((n) => n.id);
        } else {
            const children = {};
            for (const node of nodes) {
                (children[this.key(node.parent_id)] ||= []).push(node.id);
            }
            this.state.children = children;
        }
    }

    /** Reload the children of ``parentId`` (after a create, rename, move or drop). */
    async refresh(parentId = false) {
        if (!this.props.lazy) {
            return this.loadChildren(false);
        }
        await this.loadChildren(parentId);
        const parent = this.state.nodes[parentId];
        if (parent) {
            parent.child_count = this.state.children[parentId].length;
            this.state.expanded[parentId] = true;
        }
    }

    get searching() {
        return Boolean(this.props.search);
    }

    childIds(parentId) {
        const key = this.key(parentId);
        if (this.searching) {
            const ids = this.props.search.nodes
                .filter((n) => this.key(n.parent_id) === key)
                .map((n) => n.id);
            if (key === "top" && this.props.roots) {
                return this.props.roots.map((n) => n.id);
            }
            return ids;
        }
        return this.state.children[key] || [];
    }

    node(id) {
        if (this.searching) {
            return this.props.search.nodes.find((n) => n.id === id) || this.state.nodes[id];
        }
        return this.state.nodes[id];
    }

    hasChildren(node) {
        if (this.searching) {
            return this.childIds(node.id).length > 0;
        }
        if (this.props.lazy) {
            return node.child_count > 0;
        }
        return this.childIds(node.id).length > 0;
    }

    isExpanded(node) {
        return this.searching || Boolean(this.state.expanded[node.id]);
    }

    isMatch(node) {
        return this.searching && this.props.search.matches.includes(node.id);
    }

    async toggle(node) {
        if (this.state.expanded[node.id]) {
            this.state.expanded[node.id] = false;
            return;
        }
        if (this.props.lazy && !this.state.children[node.id]) {
            await this.loadChildren(node.id);
        }
        this.state.expanded[node.id] = true;
    }

    onContextMenu(ev, node) {
        const items = this.props.menuItems?.(node) || [];
        if (!items.length) {
            return;
        }
        ev.preventDefault();
        ev.stopPropagation();
        // kept inside the window (a menu opened near an edge would be cut)
        const x = Math.max(0, Math.min(ev.clientX, window.innerWidth - 240));
        const y = Math.max(0, Math.min(ev.clientY, window.innerHeight - 36 * items.length - 16));
        this.state.menu = { node, items, x, y };
    }

    async runMenuItem(item) {
        const node = this.state.menu.node;
        this.state.menu = null;
        await item.run(node, this);
    }

    /** Inline editing: a new child of ``parentNode`` or a rename of ``node``. */
    startCreate(parentNode) {
        if (parentNode) {
            this.state.expanded[parentNode.id] = true;
            if (this.props.lazy && !this.state.children[parentNode.id]) {
                this.loadChildren(parentNode.id);
            }
        }
        this.state.editing = { parentId: parentNode ? parentNode.id : false, value: "" };
    }

    startRename(node) {
        this.state.editing = { nodeId: node.id, value: node.name };
    }

    async onEditKeydown(ev) {
        if (ev.key === "Escape") {
            this.state.editing = null;
        } else if (ev.key === "Enter") {
            await this.commitEdit();
        }
    }

    async commitEdit() {
        const editing = this.state.editing;
        if (!editing) {
            return;
        }
        this.state.editing = null;
        const name = editing.value.trim();
        if (!name) {
            return;
        }
        if (editing.nodeId) {
            await this.props.rename(this.state.nodes[editing.nodeId], name);
            await this.refresh(this.state.nodes[editing.nodeId].parent_id);
        } else {
            await this.props.create(this.state.nodes[editing.parentId] || null, name);
            await this.refresh(editing.parentId);
        }
    }

    onDragStart(ev, node) {
        ev.dataTransfer.setData(this.props.dragType, String(node.id));
        ev.dataTransfer.effectAllowed = "move";
    }

    onDragOver(ev, node) {
        ev.preventDefault();
        this.state.dropTarget = node.id;
    }

    onDragLeave(ev, node) {
        if (this.state.dropTarget === node.id) {
            this.state.dropTarget = null;
        }
    }

    async onDrop(ev, node) {
        ev.preventDefault();
        ev.stopPropagation();
        this.state.dropTarget = null;
        await this.props.onDrop?.(node, ev.dataTransfer, this);
    }
}
