import { Component, useState } from "@odoo/owl";
import { Dialog } from "@web/core/dialog/dialog";
import { useService } from "@web/core/utils/hooks";
import { CloudsTree } from "../clouds_tree/clouds_tree";

/** Choose one folder in the (lazy) folder tree. */
export class FolderPickerDialog extends Component {
    static template = "cloud_base.FolderPickerDialog";
    static components = { Dialog, CloudsTree };
    static props = { title: String, confirm: Function, close: Function };

    setup() {
        this.orm = useService("orm");
        this.state = useState({ selectedId: false });
        this.load = (parentId) => this.orm.call("clouds.folder", "clouds_fm_children", [parentId]);
        this.select = (node) => (this.state.selectedId = node.id);
    }

    async confirm() {
        await this.props.confirm(this.state.selectedId);
        this.props.close();
    }
}

/** Choose tags (several) in the tag tree. */
export class TagPickerDialog extends Component {
    static template = "cloud_base.TagPickerDialog";
    static components = { Dialog, CloudsTree };
    static props = { title: String, confirm: Function, close: Function,
                     allowCreate: { type: Boolean, optional: true } };

    setup() {
        this.orm = useService("orm");
        this.state = useState({ selected: [] });
        this.load = () => this.orm.call("clouds.tag", "clouds_fm_tags", []);
        this.select = (node) => {
            const index = this.state.selected.indexOf(node.id);
            if (index >= 0) {
                this.state.selected.splice(index, 1);
            } else {
                this.state.selected.push(node.id);
            }
        };
        // "Add tags" may make a new tag (none may exist yet); it is chosen at once
        this.create = this.props.allowCreate
            ? async (parent, name) => {
                  const [id] = await this.orm.create("clouds.tag", [
                      { name, parent_id: parent ? parent.id : false },
                  ]);
                  this.state.selected.push(id);
              }
            : undefined;
    }

    async confirm() {
        await this.props.confirm([...this.state.selected]);
        this.props.close();
    }
}
