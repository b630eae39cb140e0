""""Choose where to sync": My Drive or a shared drive the connected account can see,
listed through the provider after connecting (instead of typing a drive id)."""

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from cloud_sync.providers.errors import CloudError


class DrivePicker(models.TransientModel):
    _name = "google_drive_sync.drive.picker"
    _description = "Choose a Google Drive"

    client_id = fields.Many2one("clouds.client", required=True, ondelete="cascade")
    line_ids = fields.One2many("google_drive_sync.drive.picker.line", "wizard_id")
    choice_id = fields.Many2one("google_drive_sync.drive.picker.line", string="Sync Into",
                                domain="[('wizard_id', '=', id)]")

    @api.model
    def open_for(self, client):
        """List My Drive and the account's shared drives; the current one is preselected."""
        provider = client._cloud_provider(root="")
        try:
            drives = provider.shared_drives()
        except CloudError as exc:
            raise UserError(_("Cannot list the drives of “%(name)s”: %(error)s",
                              name=client.name, error=exc)) from exc
        finally:
            provider.close()
        lines = [{"name": _("My Drive"), "drive_id": False}] + [
            {"name": d["name"], "drive_id": d["id"]} for d in drives]
        wizard = self.create({"client_id": client.id,
                              "line_ids": [fields.Command.create(v) for v in lines]})
        current = client.sudo().gd_drive_id or False
        wizard.choice_id = wizard.line_ids.filtered(lambda line: line.drive_id == current)[:1]
        return {"type": "ir.actions.act_window", "res_model": self._name, "res_id": wizard.id,
                "view_mode": "form", "target": "new", "name": _("Choose where to sync")}

    def action_choose(self):
        """Write the chosen drive, then connect again (root folder picked in that drive)."""
        self.ensure_one()
        if not self.choice_id:
            raise UserError(_("Choose a drive."))
        client = self.client_id
        drive_id = self.choice_id.drive_id or False
        if drive_id != (client.sudo().gd_drive_id or False):
            if self.env["clouds.sync.record"].sudo().search_count(
                    [("client_id", "=", client.id)], limit=1):
                raise UserError(_("“%s” already synced files into its drive: moving it to "
                                  "another drive would lose track of them. Create a new "
                                  "connection for the other drive.", client.name))
            client.sudo().write({"gd_drive_id": drive_id})
        connected = client.with_context(clouds_oauth_done=True).action_connect()
        message = _("Syncing into “%(drive)s”. %(connected)s", drive=self.choice_id.name,
                    connected=connected["params"]["message"])
        return client._cloud_notification(_("Drive chosen"), message)


class DrivePickerLine(models.TransientModel):
    _name = "google_drive_sync.drive.picker.line"
    _description = "A Google Drive to choose"

    wizard_id = fields.Many2one("google_drive_sync.drive.picker", required=True,
                                ondelete="cascade")
    name = fields.Char(required=True)
    drive_id = fields.Char(help="Empty for My Drive.")
