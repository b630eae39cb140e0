import { Component, onWillStart, useState } from "@odoo/owl";
import { ConfirmationDialog } from "@web/core/confirmation_dialog/confirmation_dialog";
import { Dialog } from "@web/core/dialog/dialog";
import { deserializeDateTime, formatDateTime } from "@web/core/l10n/dates";
import { _t } from "@web/core/l10n/translation";
import { humanSize } from "@web/core/utils/binary";
import { useService } from "@web/core/utils/hooks";
import { download } from "../clouds_tree/operations";

/** The URL that streams one version (the server accepts only ids the file lists). */
export function versionUrl(attachmentId, versionId) {
    return `/cloud_base/version/${attachmentId}/${encodeURIComponent(versionId)}`;
}

/**
 * "Versions" of a file: its versions as its cloud keeps them (or as Odoo kept them where
 * the cloud keeps none), newest first, each with Download and, but for the current one,
 * Restore (after a confirmation). The server's refusals (no versions, connection not
 * ready, no access) are shown in the dialog.
 */
export class VersionsDialog extends Component {
    static template = "cloud_base.VersionsDialog";
    static components = { Dialog };
    static props = {
        attachmentId: Number,
        name: String,
        close: Function,
        onRestored: { type: Function, optional: true },
    };

    setup() {
        this.orm = useService("orm");
        this.dialog = useService("dialog");
        this.notification = useService("notification");
        this.state = useState({ versions: [], error: "", loading: true, busy: false });
        onWillStart(() => this.load());
    }

    async load() {
        this.state.loading = true;
        try {
            this.state.versions = await this.orm.call("ir.attachment", "clouds_versions", [
                [this.props.attachmentId],
            ]);
            this.state.error = "";
        } catch (error) {
            this.state.versions = [];
            this.state.error = error.data?.message || error.message;
        } finally {
            this.state.loading = false;
        }
    }

    when(version) {
        return version.time ? formatDateTime(deserializeDateTime(version.time)) : "";
    }

    size(version) {
        return humanSize(version.size || 0);
    }

    download(version) {
        download(versionUrl(this.props.attachmentId, version.id));
    }

    restore(version) {
        this.dialog.add(ConfirmationDialog, {
            title: _t("Restore this version"),
            body: _t(
                "Make the version of %(when)s the current content of “%(name)s”? The current content stays among the versions.",
                { when: this.when(version), name: this.props.name }
            ),
            confirmLabel: _t("Restore"),
            confirm: async () => {
                this.state.busy = true;
                try {
                    await this.orm.call("ir.attachment", "clouds_version_restore", [
                        [this.props.attachmentId],
                        version.id,
                    ]);
                    this.notification.add(_t("The version of %s is the current content again.",
                                             this.when(version)), { type: "success" });
                    await this.load();
                    await this.props.onRestored?.();
                } catch (error) {
                    this.notification.add(error.data?.message || error.message, {
                        type: "danger",
                        title: _t("Not restored"),
                    });
                } finally {
                    this.state.busy = false;
                }
            },
            cancel: () => {},
        });
    }
}
