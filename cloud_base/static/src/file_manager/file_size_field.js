import { Component } from "@odoo/owl";
import { _t } from "@web/core/l10n/translation";
import { registry } from "@web/core/registry";
import { humanSize } from "@web/core/utils/binary";
import { standardFieldProps } from "@web/views/fields/standard_field_props";

/** A size in bytes (``file_size``, or a float column of bytes) shown as Odoo shows binary sizes: "2.40 Mb". */
export class FileSizeField extends Component {
    static template = "cloud_base.FileSizeField";
    static props = { ...standardFieldProps };

    get formattedValue() {
        const value = this.props.record.data[this.props.name];
        return Number.isInteger(value) ? humanSize(value) : "";
    }
}

export const fileSizeField = {
    component: FileSizeField,
    displayName: _t("File size"),
    supportedTypes: ["integer", "float"],
};

registry.category("fields").add("clouds_file_size", fileSizeField);
