import { _t } from "@web/core/l10n/translation";
import { registry } from "@web/core/registry";

/** "Share" in the file manager's folder context menu: the folder form's Share button. */
registry.category("cloud_base.folder_menu").add("share", (env, node) => ({
    label: _t("Share"),
    icon: "fa-share-alt",
    run: (n) =>
        env.services.action.doAction("cloud_share.action_server_share_folders", {
            additionalContext: { active_id: n.id, active_ids: [n.id], active_model: "clouds.folder" },
        }),
}));
