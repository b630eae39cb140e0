import { _t } from "@web/core/l10n/translation";
import { browser } from "@web/core/browser/browser";
import { registry } from "@web/core/registry";

/** What both screens do with folders, tags and files: one place for each operation. */

export const ATTACHMENTS_TYPE = "application/x-clouds-attachments";
export const FOLDER_TYPE = "application/x-clouds-folder";
export const TAG_TYPE = "application/x-clouds-tag";

export function zipUrl(params) {
    return `/cloud_base/zip?${new URLSearchParams(params).toString()}`;
}

export function download(url) {
    const link = document.createElement("a");
    link.href = url;
    link.download = "";
    document.body.append(link);
    link.click();
    link.remove();
}

/**
 * Download the answer to a form posted into a hidden frame: a selection's ids can be too
 * many for a URL and the archive streams to disk. A download never loads the frame; an
 * error page does, and ``onError`` gets its title.
 */
export function downloadPost(url, params, onError) {
    const frame = document.createElement("iframe");
    frame.name = `o_clouds_download_${Date.now()}`;
    frame.className = "d-none";
    frame.addEventListener("load", () => {
        // The empty page a new frame starts with loads too: not an answer.
        if (frame.contentWindow?.location.href !== "about:blank") {
            onError?.(frame.contentDocument?.title || "");
        }
    });
    const form = document.createElement("form");
    Object.assign(form, { method: "POST", action: url, target: frame.name });
    form.className = "d-none";
    for (const [name, value] of Object.entries({ ...params, csrf_token: odoo.csrf_token })) {
        const input = document.createElement("input");
        Object.assign(input, { type: "hidden", name, value });
        form.append(input);
    }
    document.body.append(frame, form);
    form.submit();
    form.remove();
}

/** An upload the server refused, with its reason (shown as a notification). */
export class UploadRefusedError extends Error {}

/**
 * Upload files into a folder; returns the new attachment ids. A refusal rejects with an
 * ``UploadRefusedError`` carrying the server's reason; whoever lets it through gets it
 * shown as a danger notification by the error handler below, not Odoo's "Oops" dialog.
 */
export async function uploadFiles(folderId, files) {
    const data = new FormData();
    data.append("folder_id", folderId);
    data.append("csrf_token", odoo.csrf_token);
    for (const file of files) {
        data.append("ufile", file);
    }
    const response = await fetch("/cloud_base/upload", { method: "POST", body: data });
    if (!response.ok) {
        let reason = "";
        try {
            reason = (await response.json()).error || "";
        } catch {
            // not a JSON answer (a proxy's page): the status says enough
        }
        throw new UploadRefusedError(
            reason || _t("The upload was refused (%s).", response.status)
        );
    }
    return (await response.json()).ids;
}

export function uploadRefusedHandler(env, uncaughtError, originalError) {
    if (!(originalError instanceof UploadRefusedError)) {
        return false;
    }
    uncaughtError.event?.preventDefault();
    env.services.notification.add(originalError.message, {
        type: "danger",
        title: _t("Upload refused"),
    });
    return true;
}

registry
    .category("error_handlers")
    .add("cloud_base.upload_refused", uploadRefusedHandler, { sequence: 10 });

/** Ids of dragged attachments, if the drag carries any. */
export function draggedAttachments(dataTransfer) {
    const raw = dataTransfer.getData(ATTACHMENTS_TYPE);
    return raw ? raw.split(",").map(Number) : [];
}

/**
 * A drop on a folder: subfolder moved, attachments moved (re-attached to the folder's
 * record) or desktop files uploaded. Returns what happened, so the caller reloads.
 */
export async function dropOnFolder(orm, folder, dataTransfer) {
    const folderId = Number(dataTransfer.getData(FOLDER_TYPE));
    if (folderId) {
        if (folderId !== folder.id) {
            await orm.call("clouds.folder", "clouds_fm_move", [[folderId], folder.id]);
        }
        return "folder";
    }
    const ids = draggedAttachments(dataTransfer);
    if (ids.length) {
        await orm.call("ir.attachment", "clouds_fm_move", [ids, folder.id]);
        return "attachments";
    }
    if (dataTransfer.files?.length) {
        await uploadFiles(folder.id, [...dataTransfer.files]);
        return "upload";
    }
    return false;
}

/** A drop on a tag: a tag nested under it, or attachments tagged with it. */
export async function dropOnTag(orm, tag, dataTransfer) {
    const tagId = Number(dataTransfer.getData(TAG_TYPE));
    if (tagId) {
        if (tagId !== tag.id) {
            await orm.call("clouds.tag", "clouds_fm_move", [[tagId], tag.id]);
        }
        return "tag";
    }
    const ids = draggedAttachments(dataTransfer);
    if (ids.length) {
        await orm.call("ir.attachment", "clouds_fm_tag", [ids, [tag.id]]);
        return "attachments";
    }
    return false;
}

/**
 * "Open in the cloud": the link the connection's options call for, asked of the provider
 * at click time (``clouds_open_in_cloud`` checks the user may open the item). The tab is
 * opened at once, as a tab opened after the answer would be blocked as a pop-up; it
 * goes to the link, or closes and the server's reason is shown.
 */
export async function openInCloud(env, model, id) {
    const tab = browser.open("", "_blank");
    try {
        const url = await env.services.orm.call(model, "clouds_open_in_cloud", [[id]]);
        if (tab) {
            tab.opener = null;
            tab.location.href = url;
        } else {
            browser.open(url, "_blank", "noopener");
        }
        return url;
    } catch (error) {
        tab?.close();
        env.services.notification.add(error.data?.message || error.message, {
            title: _t("Cannot open in the cloud"),
            type: "danger",
        });
        return false;
    }
}

/** The folder context menu, for both screens (``options.full``: the file manager). */
export function folderMenuItems(env, node, { full, onChanged }) {
    const { orm, action } = env.services;
    const items = [
        { label: _t("Create subfolder"), icon: "fa-plus", run: (n, tree) => tree.startCreate(n) },
    ];
    if (node.folder_type === "manual") {
        items.push({ label: _t("Rename"), icon: "fa-pencil", run: (n, tree) => tree.startRename(n) });
        if (full) {
            items.push({
                label: _t("Edit settings"),
                icon: "fa-cog",
                run: (n) =>
                    action.doAction(
                        { type: "ir.actions.act_window", res_model: "clouds.folder", res_id: n.id,
                          views: [[false, "form"]], target: "new" },
                        { onClose: onChanged }
                    ),
            });
        }
    }
    if (node.cloud_url) {
        items.push({ label: _t("Open in the cloud"), icon: "fa-cloud",
                     run: (n) => openInCloud(env, "clouds.folder", n.id) });
    }
    if (full && node.res_model && node.res_id) {
        items.push({
            label: _t("Open the linked record"),
            icon: "fa-external-link",
            run: (n) =>
                action.doAction({ type: "ir.actions.act_window", res_model: n.res_model,
                                  res_id: n.res_id, views: [[false, "form"]] }),
        });
    }
    items.push({ label: _t("Download as zip"), icon: "fa-download",
                 run: (n) => download(zipUrl({ folder_id: n.id })) });
    if (full) {
        // other addons add theirs (cloud_share: "Share"): (env, node) => item or null
        for (const extra of registry.category("cloud_base.folder_menu").getAll()) {
            const item = extra(env, node);
            if (item) {
                items.push(item);
            }
        }
    }
    if (full && node.folder_type === "manual") {
        items.push({
            label: _t("Archive"),
            icon: "fa-archive",
            run: async (n) => {
                await orm.call("clouds.folder", "action_archive", [[n.id]]);
                await onChanged?.(n);
            },
        });
    }
    return items;
}
