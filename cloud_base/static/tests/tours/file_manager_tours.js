import { registry } from "@web/core/registry";

/** Tours of the file manager and the attachment box, doing what a user does. */

function treeNode(name, scope = document) {
    const el = [...scope.querySelectorAll(".o_clouds_tree_node")].find(
        (node) => node.querySelector(".o_clouds_name")?.textContent.trim() === name
    );
    if (!el) {
        throw new Error(`No tree node named ${name}`);
    }
    return el;
}

/** HTML5 drag and drop as the browser does it: dragstart, dragover, drop. */
function dragAndDrop(source, target) {
    const dataTransfer = new DataTransfer();
    const init = { bubbles: true, cancelable: true, dataTransfer };
    source.dispatchEvent(new DragEvent("dragstart", init));
    target.dispatchEvent(new DragEvent("dragover", init));
    target.dispatchEvent(new DragEvent("drop", init));
    source.dispatchEvent(new DragEvent("dragend", init));
}

function contextMenu(el) {
    const rect = el.getBoundingClientRect();
    el.dispatchEvent(new MouseEvent("contextmenu", {
        bubbles: true, cancelable: true, clientX: rect.left + 5, clientY: rect.top + 5,
    }));
}

function typeName(input, value) {
    input.value = value;
    input.dispatchEvent(new Event("input", { bubbles: true }));
    input.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", bubbles: true }));
}

function chooseFile(input, name, content) {
    const dataTransfer = new DataTransfer();
    dataTransfer.items.add(new File([content], name, { type: "text/plain" }));
    input.files = dataTransfer.files;
    input.dispatchEvent(new Event("change", { bubbles: true }));
}

const panel = ".o_clouds_fm_panel";
const folders = ".o_clouds_fm_folders";

registry.category("web_tour.tours").add("cloud_base_file_manager", {
    steps: () => [
        { trigger: `${folders} .o_clouds_name:contains(Tour Clients)` },
        // Search both trees: one request, the match highlighted inside its expanded parent.
        { trigger: `${panel} .o_clouds_fm_search`, run: "edit Tour Beta" },
        { trigger: `${panel} .input-group button`, run: "click" },
        {
            trigger: `${folders} .o_clouds_tree_item:has(.o_clouds_name:contains(Tour Clients)) .o_clouds_match .o_clouds_name:contains(Tour Beta)`,
        },
        { trigger: `${panel} .o_clouds_fm_search`, run: "clear" },
        { trigger: `${panel} .input-group button`, run: "click" },
        { trigger: `${folders}:not(:has(.o_clouds_match)) .o_clouds_name:contains(Tour Manual)` },
        // Create a subfolder from the context menu.
        {
            trigger: `${folders} .o_clouds_name:contains(Tour Manual)`,
            run() {
                contextMenu(treeNode("Tour Manual"));
            },
        },
        { trigger: ".o_clouds_tree_menu .dropdown-item:contains(Create subfolder)", run: "click" },
        {
            trigger: ".o_clouds_tree_input",
            run() {
                typeName(this.anchor, "Tour Sub");
            },
        },
        { trigger: `${folders} .o_clouds_name:contains(Tour Sub)` },
        // Drag a manual folder into another one.
        {
            trigger: `${folders} .o_clouds_name:contains(Tour Target)`,
            run() {
                dragAndDrop(treeNode("Tour Target"), treeNode("Tour Manual"));
            },
        },
        {
            trigger: `${folders}:not(:has(.o_clouds_name:contains(Tour Target))) .o_clouds_name:contains(Tour Manual)`,
        },
        {
            trigger: `${folders} .o_clouds_tree_item:has(> .o_clouds_tree_node .o_clouds_name:contains(Tour Manual)) > .o_clouds_tree_node .o_clouds_toggle`,
            run: "click",
        },
        {
            trigger: `${folders} .o_clouds_tree_item:has(> .o_clouds_tree_node .o_clouds_name:contains(Tour Manual)) .o_clouds_name:contains(Tour Target)`,
        },
        // A rule folder refuses to be dragged, with a clear message.
        {
            trigger: `${folders} .o_clouds_tree_item:has(> .o_clouds_tree_node .o_clouds_name:contains(Tour Clients)) > .o_clouds_tree_node .o_clouds_toggle`,
            run: "click",
        },
        {
            trigger: `${folders} .o_clouds_name:contains(Tour Alpha)`,
            run() {
                dragAndDrop(treeNode("Tour Alpha"), treeNode("Tour Manual"));
            },
        },
        { trigger: ".o_notification:contains(made by a folder rule)" },
        // Select a record's folder: its files show.
        { trigger: `${folders} .o_clouds_name:contains(Tour Alpha)`, run: "click" },
        { trigger: ".o_kanban_record:contains(alpha.txt)" },
        // Drag the file onto another record's folder: it moves and is re-attached.
        {
            trigger: ".o_kanban_record:contains(alpha.txt) [data-clouds-att-id]",
            run() {
                dragAndDrop(this.anchor, treeNode("Tour Beta"));
            },
        },
        { trigger: ".o_kanban_renderer:not(:has(.o_kanban_record:contains(alpha.txt)))" },
        // The tree stays open on the selected folder after the reload.
        { trigger: `${folders} .o_clouds_tree_node.active .o_clouds_name:contains(Tour Alpha)` },
        { trigger: `${folders} .o_clouds_name:contains(Tour Beta)`, run: "click" },
        { trigger: ".o_kanban_record:contains(alpha.txt)" },
        // Tag it by dropping it on a tag.
        {
            trigger: ".o_clouds_fm_tags .o_clouds_name:contains(TourTag)",
            run() {
                const card = document.querySelector(".o_kanban_record [data-clouds-att-id]");
                dragAndDrop(card, treeNode("TourTag", document.querySelector(".o_clouds_fm_tags")));
            },
        },
        { trigger: ".o_kanban_record:contains(alpha.txt) .o_tag:contains(TourTag)" },
        // The panel is redrawn too (the tag now counts the file) before we click in it.
        {
            trigger: ".o_clouds_fm_tags .o_clouds_tree_node:has(.o_clouds_name:contains(TourTag)) .badge:contains(1)",
        },
        // Upload into a folder.
        {
            trigger: `${folders} .o_clouds_tree_item:has(> .o_clouds_tree_node .o_clouds_name:contains(Tour Manual)) > .o_clouds_tree_node .o_clouds_toggle`,
            run: "click",
        },
        { trigger: `${folders} .o_clouds_name:contains(Tour Sub)`, run: "click" },
        { trigger: `${folders} .o_clouds_tree_node.active .o_clouds_name:contains(Tour Sub)` },
        {
            trigger: ".o_clouds_upload_input:not(:visible)",
            run() {
                chooseFile(this.anchor, "upload.txt", "uploaded by the tour");
            },
        },
        { trigger: ".o_kanban_record:contains(upload.txt)" },
        // Mass action on a selection in the list: one zip.
        { trigger: ".o_switch_view.o_list", run: "click" },
        { trigger: ".o_data_row:contains(upload.txt) .o_list_record_selector input", run: "click" },
        {
            trigger: ".o_cp_action_menus .dropdown-toggle",
            run() {
                // A selection's zip is a form posted into a hidden frame: post it here.
                window.__cloudsDownloads = [];
                HTMLFormElement.prototype.submit = function () {
                    window.__cloudsDownloads.push([this.action, new FormData(this)]);
                };
                this.anchor.click();
            },
        },
        { trigger: ".o-dropdown--menu .dropdown-item:contains(Download as zip)", run: "click" },
        {
            trigger: ".o_list_view",
            async run() {
                const [[href, body]] = window.__cloudsDownloads;
                const response = await fetch(href, { method: "POST", body });
                const bytes = new Uint8Array(await response.arrayBuffer());
                const text = new TextDecoder("latin1").decode(bytes);
                if (text.slice(0, 2) !== "PK" || !text.includes("upload.txt")) {
                    throw new Error(`Not the expected zip from ${href}`);
                }
                document.body.classList.add("o_clouds_zip_ok");
            },
        },
        { trigger: "body.o_clouds_zip_ok" },
    ],
});

registry.category("web_tour.tours").add("cloud_base_attachment_box", {
    steps: () => [
        { trigger: ".o-mail-Chatter-attachFiles", run: "click" },
        { trigger: ".o_clouds_attachment_box .o_clouds_name:contains(Tour Task)" },
        { trigger: ".o_clouds_ab_file:contains(alpha.txt)" },
        {
            trigger: ".o_clouds_attachment_box .o_clouds_name:contains(Tour Task)",
            run() {
                contextMenu(treeNode("Tour Task"));
            },
        },
        { trigger: ".o_clouds_tree_menu .dropdown-item:contains(Create subfolder)", run: "click" },
        {
            trigger: ".o_clouds_tree_input",
            run() {
                typeName(this.anchor, "Box Sub");
            },
        },
        { trigger: ".o_clouds_attachment_box .o_clouds_name:contains(Box Sub)" },
        // Drag the file into the new subfolder.
        {
            trigger: ".o_clouds_ab_file:contains(alpha.txt)",
            run() {
                dragAndDrop(this.anchor, treeNode("Box Sub"));
            },
        },
        { trigger: ".o_clouds_ab_files:not(:has(.o_clouds_ab_file:contains(alpha.txt)))" },
        { trigger: ".o_clouds_attachment_box .o_clouds_name:contains(Box Sub)", run: "click" },
        { trigger: ".o_clouds_ab_current:contains(Box Sub)" },
        { trigger: ".o_clouds_ab_file:contains(alpha.txt)" },
        {
            trigger: ".o_clouds_ab_upload input:not(:visible)",
            run() {
                chooseFile(this.anchor, "box.txt", "uploaded in the box");
            },
        },
        { trigger: ".o_clouds_ab_file:contains(box.txt)" },
    ],
});

// A record with no file yet: the first upload keeps the box open, says so and shows the
// file; deleting it asks first.
registry.category("web_tour.tours").add("cloud_base_attachment_box_first_upload", {
    steps: () => [
        { trigger: ".o-mail-Chatter-attachFiles", run: "click" },
        { trigger: ".o_clouds_attachment_box .o_clouds_name:contains(Empty Task)" },
        { trigger: ".o_clouds_attachment_box:not(:has(.o_clouds_ab_file))" },
        {
            trigger: ".o_clouds_ab_upload input:not(:visible)",
            run() {
                chooseFile(this.anchor, "first.txt", "the first file of the task");
            },
        },
        { trigger: ".o_notification:contains(1 file(s) uploaded.)" },
        { trigger: ".o_clouds_attachment_box .o_clouds_ab_file:contains(first.txt)" },
        { trigger: ".o_clouds_ab_file:contains(first.txt) .o_clouds_ab_delete", run: "click" },
        { trigger: ".modal:contains(Delete “first.txt”?) .modal-footer .btn-secondary", run: "click" },
        { trigger: "body:not(:has(.modal))" },
        { trigger: ".o_clouds_attachment_box .o_clouds_ab_file:contains(first.txt)" },
    ],
});

registry.category("web_tour.tours").add("cloud_base_file_manager_cards", {
    steps: () => [
        { trigger: `${folders} .o_clouds_name:contains(Tour Cards)`, run: "click" },
        { trigger: ".o_kanban_record:contains(card1.txt)" },
        { trigger: ".o_kanban_record:contains(card2.txt)" },
        // Sizes read as Odoo shows them.
        { trigger: ".o_kanban_record:contains(card1.txt) .o_clouds_file_size:contains(11.00 Bytes)" },
        { trigger: ".o_kanban_record:contains(card1.txt) .o_clouds_card_select", run: "click" },
        { trigger: ".o_kanban_record:contains(card2.txt) .o_clouds_card_select", run: "click" },
        { trigger: ".o_clouds_card_selection .o_list_selection_box:contains(2)" },
        { trigger: ".o_clouds_card_selection .o_cp_action_menus .dropdown-toggle", run: "click" },
        { trigger: ".o-dropdown--menu .dropdown-item:contains(Move to folder)", run: "click" },
        { trigger: ".modal .o_clouds_name:contains(Tour Dest)", run: "click" },
        { trigger: ".modal .o_clouds_picker_confirm:enabled", run: "click" },
        { trigger: ".o_kanban_renderer:not(:has(.o_kanban_record:contains(card1.txt)))" },
        { trigger: `${folders} .o_clouds_name:contains(Tour Dest)`, run: "click" },
        { trigger: ".o_kanban_record:contains(card1.txt)" },
        { trigger: ".o_kanban_record:contains(card2.txt)" },
    ],
});
