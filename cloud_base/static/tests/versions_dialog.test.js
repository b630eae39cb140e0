import { describe, expect, test } from "@odoo/hoot";
import { queryAllTexts } from "@odoo/hoot-dom";
import { animationFrame } from "@odoo/hoot-mock";
import { defineMailModels } from "@mail/../tests/mail_test_helpers";
import {
    contains,
    getService,
    makeServerError,
    mountWithCleanup,
    onRpc,
    patchWithCleanup,
} from "@web/../tests/web_test_helpers";
import { WebClient } from "@web/webclient/webclient";
import { VersionsDialog, versionUrl } from "@cloud_base/versions_dialog/versions_dialog";

describe.current.tags("desktop");
defineMailModels();

const VERSIONS = [
    { id: "cloud:3", time: "2026-12-07 10:00:00", size: 2048, author: "Ann", current: true, kept: false },
    { id: "cloud:2", time: "2026-12-06 10:00:00", size: 1024, author: "Bob", current: false, kept: false },
    { id: "odoo:7", time: "2026-12-01 10:00:00", size: 10, author: "", current: false, kept: true },
];

async function openDialog(props = {}) {
    await mountWithCleanup(WebClient);
    getService("dialog").add(VersionsDialog, { attachmentId: 5, name: "contract.pdf", ...props });
    await animationFrame();
    await animationFrame();
}

test("lists versions newest first: Download for each, Restore but for the current one", async () => {
    onRpc("ir.attachment", "clouds_versions", ({ args }) => {
        expect.step(`list ${args[0]}`);
        return VERSIONS;
    });
    const clicked = [];
    patchWithCleanup(HTMLAnchorElement.prototype, {
        click() {
            clicked.push(this.getAttribute("href"));
        },
    });
    await openDialog();
    expect.verifySteps(["list 5"]);
    expect(".o_clouds_version").toHaveCount(3);
    expect(".o_clouds_version_current").toHaveCount(1);
    expect(".o_clouds_version[data-version-id='cloud:3'] .o_clouds_version_restore").toHaveCount(0);
    expect(".o_clouds_version_restore").toHaveCount(2);
    expect(queryAllTexts(".o_clouds_version td:nth-child(3)")).toEqual(["Ann", "Bob", ""]);
    expect(".o_clouds_version[data-version-id='odoo:7']").toHaveText(/Kept by Odoo/);
    await contains(".o_clouds_version[data-version-id='cloud:2'] .o_clouds_version_download").click();
    expect(clicked).toEqual(["/cloud_base/version/5/cloud%3A2"]);
    expect(versionUrl(5, "cloud:a/b+c")).toBe("/cloud_base/version/5/cloud%3Aa%2Fb%2Bc");
});

test("restore asks first, then restores that version and reloads", async () => {
    let restored = false;
    onRpc("ir.attachment", "clouds_versions", () =>
        restored ? [{ ...VERSIONS[1], current: true }, { ...VERSIONS[0], current: false }] : VERSIONS
    );
    onRpc("ir.attachment", "clouds_version_restore", ({ args }) => {
        expect.step(`restore ${args[0]} ${args[1]}`);
        restored = true;
        return true;
    });
    await openDialog({ onRestored: () => expect.step("restored") });
    await contains(".o_clouds_version[data-version-id='cloud:2'] .o_clouds_version_restore").click();
    expect(".modal-body:contains(Make the version of)").toHaveCount(1);
    expect.verifySteps([]);
    await contains(".modal-footer button:contains(Restore)").click();
    await animationFrame();
    expect.verifySteps(["restore 5 cloud:2", "restored"]);
    expect(".o_clouds_version[data-version-id='cloud:2'] .o_clouds_version_current").toHaveCount(1);
    expect(".o_notification:contains(current content again)").toHaveCount(1);
});

test("a refusal of the server is said in the dialog, not as a crash", async () => {
    onRpc("ir.attachment", "clouds_versions", () => {
        throw makeServerError({
            message: "The connection “NAS” is not ready (Paused)",
            description: "The connection “NAS” is not ready (Paused)",
        });
    });
    await openDialog();
    expect(".o_clouds_versions_error").toHaveText(/is not ready/);
    expect(".o_clouds_version").toHaveCount(0);
    expect(".o_error_dialog").toHaveCount(0);
});
