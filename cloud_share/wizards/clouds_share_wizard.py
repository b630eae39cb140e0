"""The "Share" action: put the selected files, folders or tags in a new or existing share."""

from odoo import _, api, fields, models
from odoo.exceptions import UserError

SOURCES = {
    "ir.attachment": "attachment_ids",
    "clouds.folder": "folder_ids",
    "clouds.tag": "tag_ids",
}


class CloudsShareWizard(models.TransientModel):
    _name = "clouds.share.wizard"
    _description = "Share Files, Folders or Tags"

    mode = fields.Selection(
        [("new", "New share"), ("extend", "Add to an existing share")],
        default="new", required=True,
    )
    share_id = fields.Many2one("clouds.share", string="Share")
    name = fields.Char(string="Share Name")
    attachment_ids = fields.Many2many("ir.attachment", string="Files")
    folder_ids = fields.Many2many("clouds.folder", string="Folders")
    tag_ids = fields.Many2many("clouds.tag", string="Tags")
    partner_ids = fields.Many2many("res.partner", string="Share With")
    date_expiry = fields.Date(string="Expires On")

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        model = self.env.context.get("active_model")
        ids = self.env.context.get("active_ids") or []
        if model in SOURCES and ids:
            records = self.env[model].browse(ids)
            # Only what the user can read may be shared (the share checks it again).
            if model == "ir.attachment":
                records._clouds_check_servable()
            else:
                records.check_access("read")
            values[SOURCES[model]] = [fields.Command.set(records.ids)]
            if not values.get("name"):
                values["name"] = records[:1].display_name + (
                    _(" and %s more", len(records) - 1) if len(records) > 1 else ""
                )
        return values

    @api.model
    def action_open(self, records):
        """The window action of the wizard for ``records`` (bound server actions call it)."""
        return {
            "type": "ir.actions.act_window",
            "name": _("Share"),
            "res_model": self._name,
            "view_mode": "form",
            "target": "new",
            "context": {"active_model": records._name, "active_ids": records.ids},
        }

    def action_share(self):
        """Create or extend the share, then open it."""
        self.ensure_one()
        if not (self.attachment_ids or self.folder_ids or self.tag_ids):
            raise UserError(_("Choose at least one file, folder or tag to share."))
        if self.mode == "extend":
            if not self.share_id:
                raise UserError(_("Choose the share to add to."))
            share = self.share_id
            share._clouds_add_items(self.attachment_ids, self.folder_ids, self.tag_ids,
                                    self.partner_ids)
            if self.date_expiry:
                share.date_expiry = self.date_expiry
        else:
            share = self.env["clouds.share"].create({
                "name": self.name or _("Share"),
                "attachment_ids": [fields.Command.set(self.attachment_ids.ids)],
                "folder_ids": [fields.Command.set(self.folder_ids.ids)],
                "tag_ids": [fields.Command.set(self.tag_ids.ids)],
                "partner_ids": [fields.Command.set(self.partner_ids.ids)],
                "date_expiry": self.date_expiry,
            })
        return {
            "type": "ir.actions.act_window",
            "res_model": "clouds.share",
            "res_id": share.id,
            "view_mode": "form",
            "target": "current",
        }
