""""Choose where to sync": the connected user's OneDrive, or a document library of a
SharePoint site, listed through Graph after connecting (instead of typing drive ids).

Graph has no site listing the emulator serves, so the site is given by its id (or
``hostname:/sites/path``) and its libraries are listed from it."""

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from cloud_sync.providers.errors import CloudError


class DrivePicker(models.TransientModel):
    _name = "onedrive_sync.drive.picker"
    _description = "Choose a OneDrive or SharePoint library"

    client_id = fields.Many2one("clouds.client", required=True, ondelete="cascade")
    site_id = fields.Char(string="SharePoint Site",
                          help="A site id or hostname:/sites/path; then “List libraries”.")
    line_ids = fields.One2many("onedrive_sync.drive.picker.line", "wizard_id")
    choice_id = fields.Many2one("onedrive_sync.drive.picker.line", string="Sync Into",
                                domain="[('wizard_id', '=', id)]")

    @api.model
    def open_for(self, client):
        """The user's drive (unless app-only) and the libraries of the current site."""
        wizard = self.create({"client_id": client.id, "site_id": client.sudo().od_site_id})
        wizard._list()
        me = client.sudo()
        wizard.choice_id = wizard.line_ids.filtered(
            lambda line: line.drive_type == me.od_drive_type
            and (line.drive_id or False) == (me.od_drive_id or False))[:1]
        return wizard._action()

    def _action(self):
        return {"type": "ir.actions.act_window", "res_model": self._name, "res_id": self.id,
                "view_mode": "form", "target": "new", "name": _("Choose where to sync")}

    def _list(self):
        client = self.client_id.sudo()
        lines = []
        if not client.od_app_only:
            kind = client.od_drive_type if client.od_drive_type != "sharepoint" else "business"
            lines.append({"name": _("My OneDrive"), "drive_type": kind, "drive_id": False})
        if self.site_id:
            provider = self.client_id._cloud_provider(root="")
            try:
                libraries = provider.list_libraries(self.site_id)
            except CloudError as exc:
                raise UserError(_("Cannot list the libraries of site “%(site)s”: %(error)s",
                                  site=self.site_id, error=exc)) from exc
            finally:
                provider.close()
            lines += [{"name": lib["name"], "drive_type": "sharepoint", "drive_id": lib["id"],
                       "site_id": self.site_id} for lib in libraries]
        self.write({"choice_id": False, "line_ids": [fields.Command.clear()] + [
            fields.Command.create(vals) for vals in lines]})

    def action_list_libraries(self):
        self.ensure_one()
        self._list()
        return self._action()

    def action_choose(self):
        """Write the chosen drive, then connect again (root folder picked in that drive)."""
        self.ensure_one()
        line, client = self.choice_id, self.client_id
        if not line:
            raise UserError(_("Choose a drive."))
        me = client.sudo()
        vals = {"od_drive_type": line.drive_type, "od_drive_id": line.drive_id or False,
                "od_site_id": line.site_id or False}
        if any((me[key] or False) != value for key, value in vals.items()):
            if self.env["clouds.sync.record"].sudo().search_count(
                    [("client_id", "=", client.id)], limit=1):
                raise UserError(_("“%s” already synced files into its drive: moving it to "
                                  "another drive would lose track of them. Create a new "
                                  "connection for the other drive.", client.name))
            me.write(vals)
        client.with_context(clouds_oauth_done=True).action_connect()
        return {"type": "ir.actions.act_window_close"}


class DrivePickerLine(models.TransientModel):
    _name = "onedrive_sync.drive.picker.line"
    _description = "A OneDrive or SharePoint library to choose"

    wizard_id = fields.Many2one("onedrive_sync.drive.picker", required=True,
                                ondelete="cascade")
    name = fields.Char(required=True)
    drive_type = fields.Selection([("personal", "OneDrive (personal)"),
                                   ("business", "OneDrive for Business"),
                                   ("sharepoint", "SharePoint document library")],
                                  required=True)
    drive_id = fields.Char(help="Empty: the user's own drive.")
    site_id = fields.Char()
