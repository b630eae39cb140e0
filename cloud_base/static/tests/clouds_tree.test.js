import { describe, expect, test } from "@odoo/hoot";
import { queryAllTexts, queryOne } from "@odoo/hoot-dom";
import { animationFrame } from "@odoo/hoot-mock";
import { contains, mountWithCleanup } from "@web/../tests/web_test_helpers";
import { defineMailModels } from "@mail/../tests/mail_test_helpers";
import { registry } from "@web/core/registry";
import { CloudsTree } from "@cloud_base/clouds_tree/clouds_tree";
import { folderMenuItems } from "@cloud_base/clouds_tree/operations";

describe.current.tags("desktop");
defineMailModels();

const NODES = [
    { id: 1, name: "Clients", parent_id: false, child_count: 2, file_count: 3, folder_type: "rule" },
    { id: 2, name: "Acme", parent_id: 1, child_count: 1, file_count: 0, folder_type: "rule" },
    { id: 3, name: "Globex", parent_id: 1, child_count: 0, file_count: 1, folder_type: "rule" },
    { id: 4, name: "Contracts", parent_id: 2, child_count: 0, file_count: 2, folder_type: "manual" },
    { id: 5, name: "Internal", parent_id: false, child_count: 0, file_count: 0, folder_type: "manual" },
];

/** A lazy loader over NODES that records which parents were asked for. */
function lazyLoader(calls) {
    return async (parentId) => {
        calls.push(parentId);
        return NODES.filter((n) => n.parent_id === parentId);
    };
}

function names() {
    return queryAllTexts(".o_clouds_name");
}

async function mountTree(props) {
    const calls = [];
    const tree = await mountWithCleanup(CloudsTree, {
        props: {
            model: "clouds.folder",
            lazy: true,
            load: lazyLoader(calls),
            onSelect: () => {},
            dragType: "application/x-clouds-folder",
            ...props,
        },
    });
    return { tree, calls };
}

test("loads the top level, then children lazily once", async () => {
    const { calls } = await mountTree();
    expect(names()).toEqual(["Clients", "Internal"]);
    expect(calls).toEqual([false]);
    await contains(".o_clouds_tree_item[data-id='1'] .o_clouds_toggle").click();
    expect(names()).toEqual(["Clients", "Acme", "Globex", "Internal"]);
    await contains(".o_clouds_tree_item[data-id='1'] > .o_clouds_tree_node .o_clouds_toggle").click();
    expect(names()).toEqual(["Clients", "Internal"]);
    await contains(".o_clouds_tree_item[data-id='1'] > .o_clouds_tree_node .o_clouds_toggle").click();
    expect(calls).toEqual([false, 1]);
    // Counts are shown; a leaf has no caret.
    expect(".o_clouds_tree_item[data-id='1'] > .o_clouds_tree_node .badge").toHaveText("3");
    expect(".o_clouds_tree_item[data-id='3'] .fa-caret-right").toHaveCount(0);
});

test("selecting a node calls onSelect and marks it", async () => {
    const selected = [];
    await mountTree({ selectedId: 5, onSelect: (node) => selected.push(node.id) });
    expect(".o_clouds_tree_item[data-id='5'] > .o_clouds_tree_node").toHaveClass("active");
    await contains(".o_clouds_tree_item[data-id='1'] .o_clouds_name").click();
    expect(selected).toEqual([1]);
});

test("search results show only the matching branches, expanded and highlighted", async () => {
    const { calls } = await mountTree({
        search: { nodes: [NODES[0], NODES[1], NODES[3]], matches: [4] },
    });
    expect(names()).toEqual(["Clients", "Acme", "Contracts"]);
    expect(".o_clouds_match").toHaveCount(1);
    expect(".o_clouds_match").toHaveText(/Contracts/);
    // One load for the top level; the branches come from the search answer.
    expect(calls).toEqual([false]);
});

test("context menu runs an item; inline create commits on Enter", async () => {
    const created = [];
    await mountTree({
        menuItems: () => [
            { label: "Create subfolder", icon: "fa-plus", run: (n, tree) => tree.startCreate(n) },
        ],
        create: async (parent, name) => {
            created.push([parent.id, name]);
            NODES.push({ id: 6, name, parent_id: parent.id, child_count: 0, file_count: 0 });
        },
    });
    queryOne(".o_clouds_tree_item[data-id='5'] .o_clouds_name").dispatchEvent(
        new MouseEvent("contextmenu", { bubbles: true, clientX: 10, clientY: 10 })
    );
    await animationFrame();
    expect(".o_clouds_tree_menu .dropdown-item").toHaveText("Create subfolder");
    await contains(".o_clouds_tree_menu .dropdown-item").click();
    expect(".o_clouds_tree_input").toBeFocused();
    await contains(".o_clouds_tree_input").edit("Drafts", { confirm: false });
    await contains(".o_clouds_tree_input").press("Enter");
    await animationFrame();
    expect(created).toEqual([[5, "Drafts"]]);
    expect(names()).toInclude("Drafts");
    NODES.pop();
});

test("dropping on a node hands the node and the data over", async () => {
    const drops = [];
    await mountTree({
        onDrop: async (node, dataTransfer) =>
            drops.push([node.id, dataTransfer.getData("application/x-clouds-attachments")]),
    });
    const dataTransfer = new DataTransfer();
    dataTransfer.setData("application/x-clouds-attachments", "7,8");
    const target = queryOne(".o_clouds_tree_item[data-id='5'] > .o_clouds_tree_node");
    target.dispatchEvent(new DragEvent("dragover", { bubbles: true, dataTransfer }));
    await animationFrame();
    expect(target).toHaveClass("o_clouds_drop");
    target.dispatchEvent(new DragEvent("drop", { bubbles: true, dataTransfer }));
    await animationFrame();
    expect(drops).toEqual([[5, "7,8"]]);
    expect(target).not.toHaveClass("o_clouds_drop");
});

test("non-lazy trees (tags) nest all nodes from one load", async () => {
    const tags = [
        { id: 1, name: "Finance", parent_id: false, color: 2, file_count: 0 },
        { id: 2, name: "Invoices", parent_id: 1, color: 3, file_count: 4 },
    ];
    await mountTree({ lazy: false, load: async () => tags, showColor: true });
    expect(names()).toEqual(["Finance"]);
    await contains(".o_clouds_tree_item[data-id='1'] .o_clouds_toggle").click();
    expect(names()).toEqual(["Finance", "Invoices"]);
    expect(".o_clouds_tree_item[data-id='2'] .fa-tag").toHaveClass("o_tag_color_3");
});

test("the context menu stays inside the window", async () => {
    await mountTree({
        menuItems: () => [{ label: "Create subfolder", icon: "fa-plus", run: () => {} }],
    });
    queryOne(".o_clouds_tree_item[data-id='5'] .o_clouds_name").dispatchEvent(
        new MouseEvent("contextmenu", {
            bubbles: true, clientX: window.innerWidth - 2, clientY: window.innerHeight - 2,
        })
    );
    await animationFrame();
    const box = queryOne(".o_clouds_tree_menu").style;
    expect(parseInt(box.left)).toBeLessThan(window.innerWidth - 200);
    expect(parseInt(box.top)).toBeLessThan(window.innerHeight - 40);
});

test("addons add folder menu items (cloud_share's Share) to the file manager's menu", async () => {
    const menu = registry.category("cloud_base.folder_menu");
    menu.add("test_item", (env, node) =>
        node.folder_type === "manual" ? { label: "Test item", icon: "fa-star", run: () => {} } : null
    );
    try {
        const env = { services: { orm: {}, action: {} } };
        const node = { id: 7, name: "Mine", folder_type: "manual" };
        const labels = (full, n = node) =>
            folderMenuItems(env, n, { full }).map((item) => item.label);
        expect(labels(true)).toInclude("Test item");
        expect(labels(false)).not.toInclude("Test item"); // the attachment box's short menu
        expect(labels(true, { ...node, folder_type: "rule" })).not.toInclude("Test item");
    } finally {
        menu.remove("test_item");
    }
});
