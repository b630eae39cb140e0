import { describe, expect, test } from "@odoo/hoot";
import { click, setInputFiles, waitFor } from "@odoo/hoot-dom";
import { animationFrame } from "@odoo/hoot-mock";
import { mailModels } from "@mail/../tests/mail_test_helpers";
import {
    contains,
    defineModels,
    fields,
    models,
    mountView,
    onRpc,
    patchWithCleanup,
    toggleActionMenu,
} from "@web/../tests/web_test_helpers";

describe.current.tags("desktop");

class IrAttachment extends mailModels.IrAttachment {
    clouds_folder_id = fields.Many2one({ relation: "clouds.folder" });
    clouds_tag_ids = fields.Many2many({ relation: "clouds.tag" });
    clouds_cloud_url = fields.Char();
    file_size = fields.Integer();
    clouds_history = fields.Html();
    clouds_client_id = fields.Many2one({ relation: "clouds.client" });
    _records = [
        { id: 1, name: "spec.txt", mimetype: "text/plain", clouds_folder_id: 1,
          file_size: 2645000, clouds_client_id: 1,
          clouds_history: "<table><tr><td>Created (Odoo → cloud, NAS)</td></tr></table>" },
        { id: 2, name: "inner.txt", mimetype: "text/plain", clouds_folder_id: 2, file_size: 3 },
        { id: 3, name: "other.txt", mimetype: "text/plain", clouds_folder_id: 3,
          clouds_cloud_url: "https://cloud.example/other", file_size: 2048 },
    ];
}

class CloudsFolder extends models.Model {
    _name = "clouds.folder";
    name = fields.Char();
    parent_id = fields.Many2one({ relation: "clouds.folder" });
    clouds_history = fields.Html();
    _records = [
        { id: 1, name: "Docs", parent_id: false,
          clouds_history: "<table><tr><td>Renamed (Odoo → cloud, NAS)</td></tr></table>" },
        { id: 2, name: "Inner", parent_id: 1 },
        { id: 3, name: "Other", parent_id: false },
    ];
}

class CloudsTag extends models.Model {
    _name = "clouds.tag";
    name = fields.Char();
    color = fields.Integer();
}

class CloudsClient extends models.Model {
    _name = "clouds.client";
    name = fields.Char();
    _records = [{ id: 1, name: "NAS" }];
}

defineModels({ ...mailModels, IrAttachment, CloudsFolder, CloudsTag, CloudsClient });

const ARCH = `
    <kanban js_class="clouds_file_manager_kanban" create="0">
        <field name="clouds_cloud_url"/>
        <templates><t t-name="card">
            <div t-att-data-clouds-att-id="record.id.raw_value"><field name="name"/></div>
            <i t-if="record.clouds_cloud_url.raw_value" class="fa fa-cloud o_clouds_sync_icon"/>
        </t></templates>
    </kanban>`;

function serveTree() {
    const byParent = {
        false: [
            { id: 1, name: "Docs", parent_id: false, child_count: 1, file_count: 1, folder_type: "manual" },
            { id: 3, name: "Other", parent_id: false, child_count: 0, file_count: 1, folder_type: "manual" },
        ],
        1: [{ id: 2, name: "Inner", parent_id: 1, child_count: 0, file_count: 1, folder_type: "manual" }],
    };
    onRpc("clouds.folder", "clouds_fm_children", ({ args }) => byParent[args[0]] || []);
    onRpc("clouds.tag", "clouds_fm_tags", () => []);
}

function names() {
    return [...document.querySelectorAll(".o_kanban_record:not(.o_kanban_ghost)")].map((el) =>
        el.textContent.trim()
    );
}

test("the side panel filters the standard kanban by folder, with or without subfolders", async () => {
    serveTree();
    const domains = [];
    onRpc("web_search_read", ({ kwargs }) => {
        domains.push(JSON.stringify(kwargs.domain));
    });
    await mountView({ type: "kanban", resModel: "ir.attachment", arch: ARCH });
    expect(".o_clouds_fm_panel .o_clouds_name").toHaveCount(2);
    expect(names()).toEqual(["spec.txt", "inner.txt", "other.txt"]);
    // The control panel and search bar of the standard view are there.
    expect(".o_control_panel .o_searchview").toHaveCount(1);

    await contains(".o_clouds_fm_panel .o_clouds_name:contains(Docs)").click();
    await animationFrame();
    expect(names()).toEqual(["spec.txt"]);
    expect(domains.at(-1)).toBe('[["clouds_folder_id","=",1]]');

    await contains(".o_clouds_fm_subfolders").click();
    await animationFrame();
    expect(domains.at(-1)).toBe('[["clouds_folder_id","child_of",1]]');

    // Selecting the selected folder again shows everything.
    await contains(".o_clouds_fm_panel .o_clouds_name:contains(Docs)").click();
    await animationFrame();
    expect(names()).toEqual(["spec.txt", "inner.txt", "other.txt"]);
});

test("synced files show a cloud icon; the panel's search asks once and highlights", async () => {
    serveTree();
    let searches = 0;
    onRpc("clouds.folder", "clouds_fm_search", ({ args }) => {
        searches++;
        expect(args).toEqual(["inn"]);
        return {
            folders: [
                { id: 1, name: "Docs", parent_id: false, child_count: 1, file_count: 1 },
                { id: 2, name: "Inner", parent_id: 1, child_count: 0, file_count: 1 },
            ],
            folder_matches: [2],
            tags: [],
            tag_matches: [],
            truncated: false,
        };
    });
    await mountView({ type: "kanban", resModel: "ir.attachment", arch: ARCH });
    expect(".o_kanban_record:contains(other.txt) .o_clouds_sync_icon").toHaveCount(1);
    expect(".o_kanban_record:contains(spec.txt) .o_clouds_sync_icon").toHaveCount(0);
    await contains(".o_clouds_fm_search").edit("inn", { confirm: false });
    await contains(".o_clouds_fm_search").press("Enter");
    await animationFrame();
    expect(searches).toBe(1);
    expect(".o_clouds_fm_folders .o_clouds_name").toHaveCount(2);
    expect(".o_clouds_match .o_clouds_name").toHaveText("Inner");
});

const LIST_ARCH = `
    <list js_class="clouds_file_manager_list">
        <field name="name"/>
        <field name="clouds_folder_id"/>
    </list>`;

test("list mass actions: move the selection to a folder chosen in the tree", async () => {
    serveTree();
    const moves = [];
    onRpc("ir.attachment", "clouds_fm_move", ({ args }) => {
        moves.push(args);
        return true;
    });
    await mountView({
        type: "list", resModel: "ir.attachment", arch: LIST_ARCH, actionMenus: {},
    });
    expect(".o_clouds_fm_panel").toHaveCount(1);
    expect(".o_clouds_upload").toHaveCount(1);
    await contains(".o_data_row:contains(spec.txt) .o_list_record_selector input").click();
    await contains(".o_data_row:contains(other.txt) .o_list_record_selector input").click();
    const posted = [];
    patchWithCleanup(HTMLFormElement.prototype, {
        submit() {
            posted.push([new URL(this.action).pathname, Object.fromEntries(new FormData(this))]);
        },
    });
    await toggleActionMenu();
    await contains(".o-dropdown--menu .dropdown-item:contains(Download as zip)").click();
    expect(posted).toEqual([
        ["/cloud_base/zip", { attachment_ids: "1,3", csrf_token: odoo.csrf_token }],
    ]);
    // The form is gone; its hidden frame stays (the download may still be streaming).
    expect(document.querySelectorAll("body > form").length).toBe(0);
    const frames = document.querySelectorAll("body > iframe[name^=o_clouds_download]");
    expect(frames.length).toBe(1);
    frames[0].remove();
    await toggleActionMenu();
    expect(".o-dropdown--menu .dropdown-item:contains(Add tags)").toHaveCount(1);
    expect(".o-dropdown--menu .dropdown-item:contains(Remove tags)").toHaveCount(1);
    await contains(".o-dropdown--menu .dropdown-item:contains(Move to folder)").click();
    expect(".modal .o_clouds_picker_confirm").toHaveAttribute("disabled");
    await contains(".modal .o_clouds_name:contains(Other)").click();
    await contains(".modal .o_clouds_picker_confirm").click();
    await animationFrame();
    expect(moves).toEqual([[[1, 3], 3]]);
    expect(".modal").toHaveCount(0);
});

test("list mass actions: tag the selection", async () => {
    serveTree();
    onRpc("clouds.tag", "clouds_fm_tags", () => [
        { id: 7, name: "Legal", parent_id: false, color: 1, file_count: 0 },
    ]);
    const tagged = [];
    onRpc("ir.attachment", "clouds_fm_tag", ({ args, kwargs }) => {
        tagged.push([args, Boolean(kwargs.remove)]);
        return true;
    });
    await mountView({
        type: "list", resModel: "ir.attachment", arch: LIST_ARCH, actionMenus: {},
    });
    await contains(".o_data_row:contains(inner.txt) .o_list_record_selector input").click();
    await toggleActionMenu();
    await contains(".o-dropdown--menu .dropdown-item:contains(Add tags)").click();
    await contains(".modal .o_clouds_name:contains(Legal)").click();
    await contains(".modal .o_clouds_picker_confirm").click();
    await animationFrame();
    expect(tagged).toEqual([[[[2], [7]], false]]);
});

test("Add tags can create a tag, chosen at once; the panel's tag counts are redrawn", async () => {
    serveTree();
    const tags = [];
    let treeLoads = 0;
    onRpc("clouds.tag", "clouds_fm_tags", () => {
        treeLoads++;
        return tags.map((t) => ({ ...t }));
    });
    onRpc("clouds.tag", "create", ({ args }) => {
        const id = 40 + tags.length;
        tags.push({ id, name: args[0][0].name, parent_id: false, color: 0, file_count: 0 });
        return [id];
    });
    const tagged = [];
    onRpc("ir.attachment", "clouds_fm_tag", ({ args }) => {
        tagged.push(args);
        tags[0].file_count = args[0].length;
        return true;
    });
    await mountView({
        type: "list", resModel: "ir.attachment", arch: LIST_ARCH, actionMenus: {},
    });
    await contains(".o_data_row:contains(inner.txt) .o_list_record_selector input").click();
    await toggleActionMenu();
    await contains(".o-dropdown--menu .dropdown-item:contains(Add tags)").click();
    // no tag exists yet: the picker offers to make one
    await contains(".modal .o_clouds_tree_add").click();
    await contains(".modal .o_clouds_tree_input").edit("Urgent", { confirm: false });
    await contains(".modal .o_clouds_tree_input").press("Enter");
    await waitFor(".modal .o_clouds_name:contains(Urgent)");
    expect(".modal .o_clouds_picker_confirm").toBeEnabled();
    const before = treeLoads;
    await contains(".modal .o_clouds_picker_confirm").click();
    await animationFrame();
    expect(tagged).toEqual([[[2], [40]]]);
    // the side panel's tag tree was loaded again, with the new count
    await waitFor(".o_clouds_fm_tags .o_clouds_tree_item:contains(Urgent) .o_clouds_count:contains(1)");
    expect(treeLoads).toBeGreaterThan(before);
});

const CARD_ARCH = `
    <kanban js_class="clouds_file_manager_kanban" create="0">
        <templates><t t-name="card">
            <field name="name" class="o_card_name"/>
            <field name="file_size" widget="clouds_file_size"/>
        </t></templates>
    </kanban>`;

function cardSelector(name) {
    return `.o_kanban_record:contains(${name}) .o_clouds_card_select`;
}

test("card mass actions: select two cards and move them to another folder", async () => {
    serveTree();
    const moves = [];
    onRpc("ir.attachment", "clouds_fm_move", ({ args }) => {
        moves.push(args);
        return true;
    });
    let opened = 0;
    await mountView({
        type: "kanban", resModel: "ir.attachment", arch: CARD_ARCH,
        selectRecord: () => opened++,
    });
    expect(".o_clouds_card_selection").toHaveCount(0);
    await contains(cardSelector("spec.txt")).click();
    await contains(cardSelector("other.txt")).click();
    expect(".o_kanban_record.o_clouds_selected").toHaveCount(2);
    expect(".o_clouds_card_selection .o_list_selection_box").toHaveText(/2\s+selected/);
    // While cards are selected, a click on a card selects it instead of opening it.
    await contains(".o_kanban_record:contains(inner.txt) .o_card_name").click();
    expect(".o_kanban_record.o_clouds_selected").toHaveCount(3);
    await contains(".o_kanban_record:contains(inner.txt) .o_card_name").click();
    expect(".o_kanban_record.o_clouds_selected").toHaveCount(2);
    expect(opened).toBe(0);
    // The list's actions, from the same place.
    await toggleActionMenu();
    for (const item of ["Download as zip", "Move to folder", "Add tags", "Remove tags", "Delete"]) {
        expect(`.o-dropdown--menu .dropdown-item:contains(${item})`).toHaveCount(1);
    }
    await contains(".o-dropdown--menu .dropdown-item:contains(Move to folder)").click();
    await contains(".modal .o_clouds_name:contains(Other)").click();
    await contains(".modal .o_clouds_picker_confirm").click();
    await animationFrame();
    expect(moves).toEqual([[[1, 3], 3]]);
    // The view reloaded: nothing selected any more, the search bar is back.
    expect(".o_kanban_record.o_clouds_selected").toHaveCount(0);
    expect(".o_clouds_card_selection").toHaveCount(0);
    expect(".o_control_panel .o_searchview").toHaveCount(1);
});

test("card selection: select the page, unselect all; without a selection a card opens", async () => {
    serveTree();
    let opened = 0;
    await mountView({
        type: "kanban", resModel: "ir.attachment", arch: CARD_ARCH,
        selectRecord: () => opened++,
    });
    await contains(cardSelector("inner.txt")).click();
    await contains(".o_clouds_select_page").click();
    expect(".o_kanban_record.o_clouds_selected").toHaveCount(3);
    expect(".o_clouds_select_page").toHaveCount(0);
    await contains(".o_list_unselect_all").click();
    expect(".o_kanban_record.o_clouds_selected").toHaveCount(0);
    await contains(".o_kanban_record:contains(inner.txt) .o_card_name").click();
    expect(opened).toBe(1);
});

test("sizes are shown as Odoo shows binary sizes, on cards and in the list", async () => {
    serveTree();
    await mountView({ type: "kanban", resModel: "ir.attachment", arch: CARD_ARCH });
    expect(".o_kanban_record:contains(spec.txt) .o_clouds_file_size").toHaveText("2.52 Mb");
    expect(".o_kanban_record:contains(other.txt) .o_clouds_file_size").toHaveText("2.00 Kb");
    expect(".o_kanban_record:contains(inner.txt) .o_clouds_file_size").toHaveText("3.00 Bytes");
    await mountView({
        type: "list", resModel: "ir.attachment",
        arch: `<list js_class="clouds_file_manager_list">
                   <field name="name"/><field name="file_size" widget="clouds_file_size"/>
               </list>`,
    });
    expect(".o_data_row:contains(spec.txt) .o_clouds_file_size").toHaveText("2.52 Mb");
});

test("a refused upload shows the server's reason as a danger notification", async () => {
    // The rejection is left to Odoo's error service, whose handler shows it.
    expect.errors(1);
    serveTree();
    const posted = [];
    onRpc(
        "/cloud_base/upload",
        async (request) => {
            posted.push((await request.formData()).get("folder_id"));
            return new Response(JSON.stringify({ error: "You may not add files to Docs." }), {
                status: 403,
                headers: { "Content-Type": "application/json" },
            });
        },
        { pure: true }
    );
    await mountView({ type: "list", resModel: "ir.attachment", arch: LIST_ARCH });
    await contains(".o_clouds_fm_panel .o_clouds_name:contains(Docs)").click();
    await animationFrame();
    await click(".o_clouds_upload_input");
    await setInputFiles([new File(["x"], "a.txt", { type: "text/plain" })]);
    await waitFor(".o_notification");
    expect(posted).toEqual(["1"]);
    expect(".o_notification").toHaveCount(1);
    expect(".o_notification .o_notification_bar.bg-danger").toHaveCount(1);
    expect(".o_notification").toHaveText(/You may not add files to Docs\./);
    expect(".o_notification_title").toHaveText("Upload refused");
    expect(".o_error_dialog").toHaveCount(0);
    expect.verifyErrors(["You may not add files to Docs."]);
});

test("the side panel shows the History of the selected folder, or of the one selected file", async () => {
    serveTree();
    const reads = [];
    onRpc("read", ({ model, args }) => {
        reads.push([model, args[0], args[1]]);
    });
    await mountView({
        type: "list", resModel: "ir.attachment", arch: LIST_ARCH, actionMenus: {},
    });
    expect(".o_clouds_fm_history").toHaveCount(0);
    await contains(".o_clouds_fm_panel .o_clouds_name:contains(Docs)").click();
    await animationFrame();
    expect(".o_clouds_fm_history_name").toHaveText("Docs");
    expect(".o_clouds_fm_history_body td").toHaveText("Renamed (Odoo → cloud, NAS)");
    expect(reads).toEqual([["clouds.folder", [1], ["display_name", "clouds_history"]]]);

    await contains(".o_data_row:contains(spec.txt) .o_list_record_selector input").click();
    await animationFrame();
    expect(".o_clouds_fm_history_name").toHaveText("spec.txt");
    expect(".o_clouds_fm_history_body td").toHaveText("Created (Odoo → cloud, NAS)");
    expect(reads.at(-1)).toEqual(
        ["ir.attachment", [1], ["display_name", "clouds_history", "clouds_client_id"]]);
    // a synced file: its Versions open from its details
    onRpc("ir.attachment", "clouds_versions", ({ args }) => {
        expect.step(`versions of ${args[0]}`);
        return [{ id: "current", time: "2026-12-07 10:00:00", size: 3, author: "Ann",
                  current: true, kept: false }];
    });
    await contains(".o_clouds_fm_versions").click();
    await animationFrame();
    expect.verifySteps(["versions of 1"]);
    expect(".modal .o_clouds_versions_name").toHaveText("spec.txt");
    expect(".modal .o_clouds_version").toHaveCount(1);
    await contains(".modal-footer .btn-secondary").click();

    // No file selected: the folder's again.
    await contains(".o_data_row:contains(spec.txt) .o_list_record_selector input").click();
    await animationFrame();
    expect(".o_clouds_fm_history_name").toHaveText("Docs");
});
