"""Share accesses: every download, preview, zip and upload through a share's portal
routes (share, item, time, IP address, visitor), for the audit trail. Read by the
share's owner and editors and by administrators (record rules); portal users and public
visitors never read them."""

from odoo import _, api, fields, models
from odoo.tools import SQL


class CloudsShareAccess(models.Model):
    _name = "clouds.share.access"
    _description = "Share Access"
    _order = "id desc"
    _rec_name = "name"

    share_id = fields.Many2one("clouds.share", string="Share", required=True, index=True,
                               ondelete="cascade")
    kind = fields.Selection(
        [("download", "Downloaded"), ("preview", "Previewed"), ("zip", "Downloaded as zip"),
         ("upload", "Uploaded")], required=True)
    name = fields.Char(string="Item")
    attachment_id = fields.Many2one("ir.attachment", string="File", index="btree_not_null",
                                    ondelete="set null")
    folder_id = fields.Many2one("clouds.folder", string="Folder", index="btree_not_null",
                                ondelete="set null")
    ip = fields.Char(string="IP Address")
    user_id = fields.Many2one("res.users", string="Visitor", ondelete="set null",
                              help="The portal user, or the public user for a link.")

    @api.model
    def _clouds_log(self, share, kind, ip, attachments=None, folder=None, name=None):
        """One line per file (or one for a zip), written in sudo by the portal routes."""
        base = {"share_id": share.id, "kind": kind, "ip": ip, "user_id": self.env.uid,
                "folder_id": folder.id if folder else False}
        if attachments:
            vals = [dict(base, attachment_id=a.id, name=a.name,
                         folder_id=a.clouds_folder_id.id or base["folder_id"])
                    for a in attachments]
        else:
            vals = [dict(base, name=name or (folder.name if folder else share.name))]
        return self.sudo().create(vals)

    @api.autovacuum
    def _gc_old_accesses(self):
        """Kept as long as the sync history (the same setting)."""
        days = self.env["clouds.sync.stat"]._history_days()
        limit = fields.Datetime.subtract(fields.Datetime.now(), days=days)
        self.flush_model()
        self.env.execute_query(SQL("DELETE FROM clouds_share_access WHERE create_date < %s",
                                   limit))
        self.invalidate_model()


class CloudsShareAccesses(models.Model):
    _inherit = "clouds.share"

    access_ids = fields.One2many("clouds.share.access", "share_id", string="Accesses")


class CloudsShareHistory(models.AbstractModel):
    _inherit = "clouds.history.mixin"

    def _clouds_history_events(self):
        """Shares holding this item and their accesses, as far as the reader may see
        them: read with the reader's rights (owner, editors, administrators)."""
        events = super()._clouds_history_events()
        field = self._clouds_history_field()
        Share = self.env["clouds.share"].with_context(active_test=False)
        if Share.has_access("read"):
            link = "attachment_ids" if field == "attachment_id" else "folder_ids"
            for share in Share.search([(link, "in", self.ids)]):
                events.append((share.create_date, _("Shared"), share.name))
        Access = self.env["clouds.share.access"]
        if Access.has_access("read"):
            kinds = dict(Access._fields["kind"]._description_selection(self.env))
            for line in Access.search([(field, "=", self.id)], limit=100):
                events.append((line.create_date, _("%(kind)s through the share “%(share)s”",
                                                   kind=kinds[line.kind],
                                                   share=line.share_id.name),
                               _("by %(who)s from %(ip)s", who=line.user_id.name or "?",
                                 ip=line.ip or "?")))
        return events
