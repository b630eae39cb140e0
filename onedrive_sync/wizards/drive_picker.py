""""Choose where to sync": the connected user's OneDrive, or a document library of a
SharePoint site, listed through Graph (instead of typing drive ids).

One box finds the site: words of its name run Graph's site search (``*``: every site)
and every library of every matching site is listed as "Site / Library"; a site id, a
``hostname:/sites/name`` path or the site's address opens that site directly."""

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from cloud_sync.providers.errors import CloudError, NotFound

MAX_SITES = 20  # libraries are listed for this many matching sites (one call each)


def is_site_reference(text):
    """A site id (``host,guid,guid``), a ``host:/path`` or an address, not search words."""
    return "," in text or ":/" in text or text.startswith(("https://", "http://"))


class DrivePicker(models.TransientModel):
    _name = "onedrive_sync.drive.picker"
    _description = "Choose a OneDrive or SharePoint library"

    client_id = fields.Many2one("clouds.client", required=True, ondelete="cascade")
    site_search = fields.Char(
        string="Find a site",
        help="Words of the site's name (* for every site), or its address "
        "(https://contoso.sharepoint.com/sites/team) or id; then “Search”.")
    notice = fields.Char(readonly=True)
    line_ids = fields.One2many("onedrive_sync.drive.picker.line", "wizard_id")
    choice_id = fields.Many2one("onedrive_sync.drive.picker.line", string="Sync Into",
                                domain="[('wizard_id', '=', id)]")

    @api.model
    def open_for(self, client):
        """The user's drive (unless app-only) and the libraries of the current site; a
        site that cannot be listed any more is said, not raised (the wizard still opens)."""
        me = client.sudo()
        wizard = self.create({"client_id": client.id, "site_search": me.od_site_id})
        try:
            wizard._list()
        except UserError as exc:
            wizard.write({"notice": exc.args[0], "line_ids": [fields.Command.create(vals)
                                                              for vals in wizard._own_lines()]})
        wizard.choice_id = wizard.line_ids.filtered(
            lambda line: line.drive_type == me.od_drive_type
            and (line.drive_id or False) == (me.od_drive_id or False))[:1]
        return wizard._action()

    def _action(self):
        return {"type": "ir.actions.act_window", "res_model": self._name, "res_id": self.id,
                "view_mode": "form", "target": "new", "name": _("Choose where to sync")}

    def _own_lines(self):
        client = self.client_id.sudo()
        if client.od_app_only:
            return []
        kind = client.od_drive_type if client.od_drive_type != "sharepoint" else "business"
        return [{"name": _("My OneDrive"), "drive_type": kind, "drive_id": False}]

    def _site_lines(self):
        """("Site / Library" lines, notice) of the sites the search box finds."""
        text = (self.site_search or "").strip()
        provider = self.client_id._cloud_provider(root="")
        try:
            if is_site_reference(text):
                sites = [provider.site(text)]
            else:
                sites = provider.sites(text, limit=MAX_SITES + 1)
            found = [(site, provider.list_libraries(site["id"])) for site in sites[:MAX_SITES]]
        except NotFound as exc:
            raise UserError(_("No SharePoint site at “%(site)s”: check its address or id.",
                              site=text)) from exc
        except CloudError as exc:
            raise UserError(_("Cannot search SharePoint sites for “%(search)s”: %(error)s",
                              search=text, error=exc)) from exc
        finally:
            provider.close()
        if not sites:
            raise UserError(_("No SharePoint site matches “%(search)s”. Type words of its "
                              "name, * for every site, or its address.", search=text))
        notice = False
        if len(sites) > MAX_SITES:
            notice = _("More than %(count)s sites match: the libraries of the first %(count)s "
                       "are listed. Type more of the site's name.", count=MAX_SITES)
        lines = [{"name": f"{site['name']} / {library['name']}", "drive_type": "sharepoint",
                  "drive_id": library["id"], "site_id": site["id"]}
                 for site, libraries in found for library in libraries]
        return lines, notice

    def _list(self):
        lines, notice = self._own_lines(), False
        if (self.site_search or "").strip():
            site_lines, notice = self._site_lines()
            lines += site_lines
        self.write({"choice_id": False, "notice": notice, "line_ids": [
            fields.Command.clear()] + [fields.Command.create(vals) for vals in lines]})

    def action_search(self):
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
        connected = client.with_context(clouds_oauth_done=True).action_connect()
        message = _("Syncing into “%(drive)s”. %(connected)s", drive=line.name,
                    connected=connected["params"]["message"])
        return client._cloud_notification(_("Drive chosen"), message)


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
