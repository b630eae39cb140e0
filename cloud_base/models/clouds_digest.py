"""The daily digest of sync failures: one message per connection that failed in the last
24 hours, to its followers (the "Daily failure digest" subtype), when the setting is on.
Counted from the statistics rows, the errors taken from the failed operation lines and the
failed runs' logs (never a scan of the files). A digest covers the runs after the ones
the connection's last digest reported (at most 24 hours back): the cron run twice a day,
or by hand, never reports a failure twice."""

from markupsafe import Markup
from odoo import _, api, fields, models
from odoo.tools import str2bool

DIGEST_PARAM = "cloud_base.failure_digest"
DIGEST_ERRORS = 5


def _short(text):
    """An error in one line: a traceback's last line (the exception), else the first."""
    lines = [line.strip() for line in (text or "").strip().splitlines() if line.strip()]
    if not lines:
        return ""
    return (lines[-1] if lines[0].startswith("Traceback") else lines[0])[:300]


class CloudsClientDigest(models.Model):
    _inherit = "clouds.client"

    digest_stat_id = fields.Many2one(
        "clouds.sync.stat", string="Last Digested Run", readonly=True, copy=False,
        ondelete="set null",
        help="The last run the daily digest of failures reported: the next one reports "
             "only the runs after it.")

    @api.model
    def _cron_failure_digest(self):
        """Post the digests (nothing when the setting is off); returns the connections
        that got one."""
        param = self.env["ir.config_parameter"].sudo().get_param(DIGEST_PARAM)
        if not str2bool(param or "False"):
            return self.browse()
        since = fields.Datetime.subtract(fields.Datetime.now(), hours=24)
        failed = self.env["clouds.sync.stat"].sudo().search(
            [("date", ">=", since), "|", ("failures", ">", 0), ("level", "!=", "info")],
            order="id")
        clients = self.browse()
        for client in failed.client_id:
            # runs are told apart by their rows, not by the clock: a run that started
            # before the last digest and ended after it is still reported, once
            runs = failed.filtered(lambda r, c=client: r.client_id == c
                                   and r.id > c.digest_stat_id.id)
            if runs:
                client._clouds_post_digest(runs)
                client.digest_stat_id = runs[-1]
                clients |= client
        return clients

    def _clouds_post_digest(self, runs):
        self.ensure_one()
        logs = runs.log_id
        lines = self.env["clouds.log.operation"].sudo().search(
            [("log_id", "in", logs.ids), ("state", "=", "failed")], order="id",
            limit=DIGEST_ERRORS)
        errors = [f"{line.name or line.path_after or line.path_before}: {_short(line.error)}"
                  for line in lines]
        for log in logs.filtered(lambda log: log.level != "info").sorted("id")[:DIGEST_ERRORS]:
            error = _short(log.message)
            if error and error not in errors and not any(e.endswith(error) for e in errors):
                errors.append(error)
        body = Markup("<p>%s</p>") % _(
            "Sync failures of the last 24 hours: %(runs)s runs failed or had failures, "
            "%(failures)s operations failed.", runs=len(runs),
            failures=sum(runs.mapped("failures")))
        if errors:
            body += Markup("<p>%s</p><ul>%s</ul>") % (
                _("First errors:"),
                Markup("").join(Markup("<li>%s</li>") % e for e in errors[:DIGEST_ERRORS]))
        self.message_post(body=body, subtype_xmlid="cloud_base.mt_clouds_digest")
