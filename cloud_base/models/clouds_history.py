"""The History tab of files and folders: what the sync did to them (operation lines),
and what other addons add (``cloud_share``: shared, downloaded through a share).

Operation lines are for administrators; this tab shows a file's or folder's own lines
to whoever may read that file or folder (the form's read already checked it), rendered
here, so no user gets read access to the lines themselves."""

from markupsafe import Markup, escape
from odoo import _, api, fields, models

HISTORY_LIMIT = 100


class CloudsHistoryMixin(models.AbstractModel):
    _name = "clouds.history.mixin"
    _description = "Cloud Storage History"

    clouds_history = fields.Html(string="History", compute="_compute_clouds_history",
                                 sanitize=False, groups="base.group_user")

    def _clouds_history_field(self):
        return "attachment_id" if self._name == "ir.attachment" else "folder_id"

    def _clouds_history_events(self):
        """[(when, what, details)] of this record, any order (extended by other addons)."""
        self.ensure_one()
        kinds = dict(self.env["clouds.log.operation"]._fields["kind"]._description_selection(
            self.env))
        ways = dict(self.env["clouds.log.operation"]._fields["direction"]._description_selection(
            self.env))
        lines = self.env["clouds.log.operation"].sudo().search(
            [(self._clouds_history_field(), "=", self.id)], limit=HISTORY_LIMIT)
        events = []
        for line in lines:
            what = _("%(kind)s (%(direction)s, %(connection)s)", kind=kinds[line.kind],
                     direction=ways[line.direction], connection=line.client_id.name)
            if line.path_before and line.path_after and line.path_before != line.path_after:
                details = f"{line.path_before} → {line.path_after}"
            else:
                details = line.path_after or line.path_before or ""
            if line.state == "failed":
                details = _("Failed: %(error)s %(path)s", error=line.error or "", path=details)
            events.append((line.create_date, what, details))
        return events

    @api.depends_context("uid")
    def _compute_clouds_history(self):
        """Per reader: what other addons add depends on who reads."""
        for record in self:
            if not record.id:
                record.clouds_history = False
                continue
            events = sorted(record._clouds_history_events(), key=lambda e: e[0],
                            reverse=True)[:HISTORY_LIMIT]
            if not events:
                record.clouds_history = Markup("<p class='text-muted'>%s</p>") % _(
                    "Nothing recorded yet.")
                continue
            rows = Markup("").join(
                Markup("<tr><td class='text-nowrap'>%s</td><td>%s</td><td>%s</td></tr>") % (
                    fields.Datetime.context_timestamp(record, when).strftime("%Y-%m-%d %H:%M"),
                    what, details) for when, what, details in events)
            record.clouds_history = Markup(
                "<table class='table table-sm o_clouds_history'><thead><tr><th>%s</th>"
                "<th>%s</th><th>%s</th></tr></thead><tbody>%s</tbody></table>") % (
                escape(_("When")), escape(_("What")), escape(_("Details")), rows)


class IrAttachmentHistory(models.Model):
    _name = "ir.attachment"
    _inherit = ["ir.attachment", "clouds.history.mixin"]


class CloudsFolderHistory(models.Model):
    _name = "clouds.folder"
    _inherit = ["clouds.folder", "clouds.history.mixin"]
