import { onWillStart, onWillUpdateProps } from "@odoo/owl";
import { Chatter } from "@mail/chatter/web_portal/chatter";
// after the backend's patch of the chatter (its paperclip does nothing without
// attachments): this patch must be applied on top of it
import "@mail/chatter/web/chatter_patch";
import { patch } from "@web/core/utils/patch";
import { useCloudPicker } from "../cloud_picker/cloud_picker";
import { CloudsAttachmentBox } from "./attachment_box";

/**
 * The chatter's attachment box shows the record's folder tree when the record has a
 * folder; records without one keep Odoo's box (the template only swaps its content), with
 * "Add from cloud" for users offered a connection (who get the box even without files).
 */
Object.assign(Chatter.components, { CloudsAttachmentBox });

patch(Chatter.prototype, {
    setup() {
        super.setup(...arguments);
        this.state.cloudsRoot = false;
        this.state.cloudsBoxOpen = false;
        this.cloudPicker = useCloudPicker();
        onWillStart(() => this.cloudsLoadRoot(this.props));
        onWillUpdateProps((next) => {
            if (next.threadId !== this.props.threadId || next.threadModel !== this.props.threadModel) {
                return this.cloudsLoadRoot(next);
            }
        });
    },

    /** The box opens without files too, for a folder's tree or for "Add from cloud". */
    get cloudsOwnBox() {
        return Boolean(this.state.cloudsRoot || this.cloudPicker.state.offered);
    },

    onClickAddAttachments() {
        if (!this.cloudsOwnBox) {
            return super.onClickAddAttachments(...arguments);
        }
        // Odoo closes its box whenever the thread (re)loads without attachments, as it
        // does after the first upload into the record's folder: this box has its own
        // open state, which only this button changes.
        const open = !(this.state.isAttachmentBoxOpened || this.state.cloudsBoxOpen);
        this.state.cloudsBoxOpen = open;
        this.state.isAttachmentBoxOpened = open;
    },

    /** "Add from cloud" in Odoo's box (a record without a folder): onto the record. */
    cloudsAddFromCloud() {
        const thread = this.state.thread;
        this.cloudPicker.open({ resModel: thread.model, resId: thread.id }, async () => {
            await thread.fetchData(["attachments"]);
            if (this.props.hasParentReloadOnAttachmentsChanged) {
                await this.reloadParentView();
            }
        });
    },

    async cloudsLoadRoot({ threadModel, threadId }) {
        this.state.cloudsRoot = threadId
            ? await this.orm.call("clouds.folder", "clouds_fm_record_root", [threadModel, threadId])
            : false;
    },
});
