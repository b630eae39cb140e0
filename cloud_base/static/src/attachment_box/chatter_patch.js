import { onWillStart, onWillUpdateProps } from "@odoo/owl";
import { Chatter } from "@mail/chatter/web_portal/chatter";
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
        onWillStart(() => this.cloudsLoadRoot(this.props));
        onWillUpdateProps((next) => {
            if (next.threadId !== this.props.threadId || next.threadModel !== this.props.threadModel) {
                return this.cloudsLoadRoot(next);
            }
        });
    },

    onClickAddAttachments() {
        if (this.state.cloudsRoot && this.attachments.length === 0) {
            this.state.isAttachmentBoxOpened = !this.state.isAttachmentBoxOpened;
            return;
        }
        return super.onClickAddAttachments(...arguments);
    },

    async cloudsLoadRoot({ threadModel, threadId }) {
        this.state.cloudsRoot = threadId
            ? await this.orm.call("clouds.folder", "clouds_fm_record_root", [threadModel, threadId])
            : false;
    },
});
