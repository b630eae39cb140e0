import { registry } from "@web/core/registry";

/**
 * "Add from cloud" in a record's attachment box: open the picker, go into a folder of
 * the connection, tick a file, link it, then open its preview (its bytes come from the
 * cloud). The record and the connection are made by nas_sync's TestPickerNas.
 */
registry.category("web_tour.tours").add("cloud_base_cloud_picker", {
    steps: () => [
        { trigger: ".o-mail-Chatter-attachFiles", run: "click" },
        { trigger: ".o_clouds_attachment_box .o_clouds_ab_add_cloud", run: "click" },
        { trigger: ".o_clouds_cloud_picker .o_clouds_cp_folder:contains(Library)", run: "click" },
        { trigger: ".o_clouds_cp_breadcrumb .breadcrumb-item:contains(Library)" },
        { trigger: ".o_clouds_cp_item[data-name='contract.txt'] .o_clouds_cp_check", run: "click" },
        { trigger: ".o_clouds_cp_add:contains(1):enabled" },
        { trigger: ".modal-footer label[for=o_clouds_cp_link]", run: "click" },
        { trigger: ".o_clouds_cp_add", run: "click" },
        { trigger: ".o_notification:contains(1 file(s) linked from the cloud.)" },
        { trigger: ".o_clouds_ab_file:contains(contract.txt) .o_clouds_linked" },
        { trigger: ".o_clouds_ab_file .o_clouds_ab_name:contains(contract.txt)", run: "click" },
        { trigger: ".o-FileViewer" },
    ],
});

/**
 * "Add from cloud" in Odoo's own attachment box, on a record without a suite folder and
 * without files yet: the paperclip opens the box, the picker links a file onto the
 * record, and the box lists it. Made by nas_sync's TestPickerNas.
 */
registry.category("web_tour.tours").add("cloud_base_cloud_picker_record", {
    steps: () => [
        { trigger: ".o-mail-Chatter-attachFiles", run: "click" },
        { trigger: ".o-mail-AttachmentBox .o_clouds_chatter_add_cloud", run: "click" },
        { trigger: ".o_clouds_cloud_picker .o_clouds_cp_folder:contains(Library)", run: "click" },
        { trigger: ".o_clouds_cp_item[data-name='contract.txt'] .o_clouds_cp_check", run: "click" },
        { trigger: ".o_clouds_cp_add:contains(1):enabled" },
        { trigger: ".modal-footer label[for=o_clouds_cp_link]", run: "click" },
        { trigger: ".o_clouds_cp_add", run: "click" },
        { trigger: ".o_notification:contains(1 file(s) linked from the cloud.)" },
        { trigger: ".o-mail-AttachmentBox .o-mail-AttachmentCard:contains(contract.txt)" },
    ],
});
