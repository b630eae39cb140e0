import { onWillStart, onWillUpdateProps } from "@odoo/owl";
import { Chatter } from "@mail/chatter/web_portal/chatter";
// after the backend's patch of the chatter (its paperclip does nothing without
// attachments): this patch must be applied on top of it
import "@mail/chatter/web/chatter_patch";
import { patch } from "@web/core/utils/patch";
import { CloudsAttachmentBox } from "./attachment_box";

/**
 * The chatter's attachment box shows the record's folder tree when the record has a
 * folder; records without one keep Odoo's box (the template only swaps its content).
 */
Object.assign(Chatter.components, { CloudsAttachmentBox });

patch(Chatter.prototype, {
    setup() {
        super.setup(...arguments);
        this.state.cloudsRoot = false;
        this.state.cloudsBoxOpen = false;
        onWillStart(() => this.cloudsLoadRoot(this.props));
        onWillUpdateProps((next) => {
            if (next.threadId !== this.props.threadId || next.threadModel !== this.props.threadModel) {
                return this.cloudsLoadRoot(next);
            }
        });
    },

    onClickAddAttachments() {
        if (!this.state.cloudsRoot) {
            return super.onClickAddAttachments(...arguments);
        }
        // Odoo closes its box whenever the thread (re)loads without attachments, as it
        // does after the first upload into the record's folder: the folder box has its
        // own open state, which only this button changes.
        const open = !(this.state.isAttachmentBoxOpened || this.state.cloudsBoxOpen);
        this.state.cloudsBoxOpen = open;
        this.state.isAttachmentBoxOpened = open;
    },

    async cloudsLoadRoot({ threadModel, threadId }) {
        this.state.cloudsRoot = threadId
            ? await this.orm.call("clouds.folder", "clouds_fm_record_root", [threadModel, threadId])
            : false;
    },
});
