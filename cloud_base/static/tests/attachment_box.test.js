import { describe, expect, test } from "@odoo/hoot";
import {
    click,
    contains,
    inputFiles,
    mailModels,
    openFormView,
    start,
    startServer,
} from "@mail/../tests/mail_test_helpers";
import { browser } from "@web/core/browser/browser";
import {
    defineModels,
    fields,
    models,
    onRpc,
    patchWithCleanup,
} from "@web/../tests/web_test_helpers";

describe.current.tags("desktop");

class IrAttachment extends mailModels.IrAttachment {
    clouds_folder_id = fields.Many2one({ relation: "clouds.folder" });
    clouds_cloud_url = fields.Char();
    clouds_client_id = fields.Many2one({ relation: "clouds.client" });
}

class CloudsClient extends models.Model {
    _name = "clouds.client";
    name = fields.Char();
    _records = [{ id: 1, name: "NAS" }];
}

class CloudsFolder extends models.Model {
    _name = "clouds.folder";
    name = fields.Char();
    _records = [{ id: 1, name: "Acme" }, { id: 2, name: "Specs" }];
}

defineModels({ ...mailModels, IrAttachment, CloudsFolder, CloudsClient });

async function partnerWithFiles(folderId) {
    const pyEnv = await startServer();
    const partnerId = pyEnv["res.partner"].create({ name: "Acme" });
    pyEnv["ir.attachment"].create([
        { name: "Blah.txt", mimetype: "text/plain", res_id: partnerId, res_model: "res.partner",
          clouds_folder_id: folderId },
        { name: "Synced.txt", mimetype: "text/plain", res_id: partnerId,
          res_model: "res.partner", clouds_folder_id: folderId,
          clouds_cloud_url: "https://cloud.example/synced", clouds_client_id: 1 },
    ]);
    return partnerId;
}

test("a record without a folder keeps Odoo's attachment box", async () => {
    const partnerId = await partnerWithFiles(false);
    onRpc("clouds.folder", "clouds_fm_record_root", () => false);
    await start();
    await openFormView("res.partner", partnerId);
    await click(".o-mail-Chatter-attachFiles");
    await contains(".o-mail-AttachmentBox .o-mail-AttachmentList");
    await contains(".o-mail-AttachmentBox .o-mail-AttachmentCard", { count: 2 });
    expect(".o_clouds_attachment_box").toHaveCount(0);
});

test("a record with a folder shows its folder tree and the selected folder's files", async () => {
    const partnerId = await partnerWithFiles(1);
    onRpc("clouds.folder", "clouds_fm_record_root", ({ args }) => {
        expect(args).toEqual(["res.partner", partnerId]);
        return { id: 1, name: "Acme", parent_id: false, child_count: 1, file_count: 2,
                 folder_type: "rule", cloud_url: false };
    });
    onRpc("clouds.folder", "clouds_fm_children", ({ args }) =>
        args[0] === 1
            ? [{ id: 2, name: "Specs", parent_id: 1, child_count: 0, file_count: 0,
                 folder_type: "manual", cloud_url: "https://cloud.example/specs" }]
            : []
    );
    await start();
    await openFormView("res.partner", partnerId);
    await click(".o-mail-Chatter-attachFiles");
    await contains(".o_clouds_attachment_box .o_clouds_tree_node.active .o_clouds_name", {
        text: "Acme",
    });
    await contains(".o_clouds_attachment_box .o_clouds_name", { text: "Specs" });
    await contains(".o_clouds_ab_file", { count: 2 });
    await contains(".o_clouds_ab_file:contains(Synced.txt) .fa-cloud");
    await contains(".o_clouds_ab_file:contains(Blah.txt) .fa-cloud", { count: 0 });
    // a synced file has Versions
    await contains(".o_clouds_ab_file:contains(Blah.txt) .o_clouds_ab_versions", { count: 0 });
    onRpc("ir.attachment", "clouds_versions", () => [
        { id: "cloud:2", time: "2026-12-07 10:00:00", size: 3, author: "Ann", current: true,
          kept: false },
        { id: "cloud:1", time: "2026-12-06 10:00:00", size: 2, author: "", current: false,
          kept: false },
    ]);
    await click(".o_clouds_ab_file:contains(Synced.txt) .o_clouds_ab_versions");
    await contains(".modal .o_clouds_version", { count: 2 });
    await contains(".modal .o_clouds_version_restore", { count: 1 });
    await click(".modal-footer .btn-secondary");
    await contains(".modal", { count: 0 });
    expect(".o-mail-AttachmentList").toHaveCount(0);
    // Another folder: its own files, and its cloud link.
    await click(".o_clouds_attachment_box .o_clouds_name:contains(Specs)");
    await contains(".o_clouds_ab_current", { text: "Specs" });
    await contains(".o_clouds_ab_file", { count: 0 });
    // "Open in the cloud" asks the server for the link at click time, then opens it.
    onRpc("clouds.folder", "clouds_open_in_cloud", ({ args }) => {
        expect.step(`link of ${args[0]}`);
        return "https://cloud.example/specs?shared";
    });
    const tab = {
        location: { set href(url) { expect.step(`tab to ${url}`); } },
        close: () => expect.step("closed"),
    };
    patchWithCleanup(browser, { open: () => tab });
    await click(".o_clouds_ab_open_cloud");
    await expect.waitForSteps(["link of 2", "tab to https://cloud.example/specs?shared"]);
});

test("the first upload on a record without files keeps the box open and shows the file", async () => {
    const pyEnv = await startServer();
    const partnerId = pyEnv["res.partner"].create({ name: "Empty" });
    onRpc("clouds.folder", "clouds_fm_record_root", () => ({
        id: 1, name: "Empty", parent_id: false, child_count: 0, file_count: 0,
        folder_type: "rule", cloud_url: false,
    }));
    onRpc("clouds.folder", "clouds_fm_children", () => []);
    onRpc(
        "/cloud_base/upload",
        () => {
            expect.step("upload");
            // the server files it in the folder and on the record
            const id = pyEnv["ir.attachment"].create({
                name: "First.txt", mimetype: "text/plain", res_model: "res.partner",
                res_id: partnerId, clouds_folder_id: 1,
            });
            return { ids: [id] };
        },
        { pure: true }
    );
    await start();
    await openFormView("res.partner", partnerId);
    await click(".o-mail-Chatter-attachFiles");
    await contains(".o_clouds_attachment_box");
    await contains(".o_clouds_ab_file", { count: 0 });
    const file = new File(["hello"], "First.txt", { type: "text/plain" });
    await inputFiles(".o_clouds_ab_upload input[type=file]", [file]);
    await expect.waitForSteps(["upload"]);
    await contains(".o_notification", { text: "1 file(s) uploaded." });
    await contains(".o_clouds_attachment_box .o_clouds_ab_file", { text: "First.txt" });
    expect(".o_clouds_attachment_box").toHaveCount(1);
    // deleting asks first: cancel keeps the file, confirm removes it
    await click(".o_clouds_ab_delete");
    await contains(".modal", { text: "Delete “First.txt”?" });
    await click(".modal .modal-footer .btn-secondary");
    await contains(".modal", { count: 0 });
    await contains(".o_clouds_ab_file", { count: 1 });
    const [fileId] = pyEnv["ir.attachment"].search([["res_id", "=", partnerId]]);
    onRpc("ir.attachment", "unlink", ({ args }) => {
        expect.step(`unlink ${args[0]}`);
        pyEnv["ir.attachment"].unlink(args[0]);
        return true;
    });
    await click(".o_clouds_ab_delete");
    await contains(".modal .modal-footer .btn-primary");
    await click(".modal .modal-footer .btn-primary");
    await expect.waitForSteps([`unlink ${fileId}`]);
    await contains(".o_clouds_ab_file", { count: 0 });
    expect(pyEnv["ir.attachment"].search([["res_id", "=", partnerId]])).toEqual([]);
});
