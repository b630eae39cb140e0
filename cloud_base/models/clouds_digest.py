"""The daily digest of sync failures: one message per connection that failed in the last
24 hours, to its followers (the "Daily failure digest" subtype), when the setting is on.
Counted from the statistics rows, the errors taken from the failed operation lines and the
failed runs' logs (never a scan of the files). A digest covers what happened since the
connection's last one (at most 24 hours): the cron run twice a day, or by hand, never
reports a failure twice."""

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

    digest_sent_at = fields.Datetime(
        "Last Failure Digest", readonly=True, copy=False,
        help="When the last daily digest of failures was posted: the next one reports "
             "only what failed since.")

    @api.model
    def _cron_failure_digest(self):
        """Post the digests (nothing when the setting is off); returns the connections
        that got one."""
        param = self.env["ir.config_parameter"].sudo().get_param(DIGEST_PARAM)
        if not str2bool(param or "False"):
            return self.browse()
        now = fields.Datetime.now()
        day = fields.Datetime.subtract(now, hours=24)
        failed = [("date", ">=", day), "|", ("failures", ">", 0), ("level", "!=", "info")]
        stats = self.env["clouds.sync.stat"].sudo()
        clients = self.browse()
        for client, in stats._read_group(failed, ["client_id"]):
            since = max(day, client.digest_sent_at or day)
            [(runs, failures)] = stats._read_group(
                [*failed, ("client_id", "=", client.id), ("date", ">", since)],
                aggregates=["__count", "failures:sum"])
            if runs:
                client._clouds_post_digest(since, runs, failures or 0)
                client.digest_sent_at = now
                clients |= client
        return clients

    def _clouds_post_digest(self, since, runs, failures):
        self.ensure_one()
        lines = self.env["clouds.log.operation"].sudo().search(
            [("client_id", "=", self.id), ("state", "=", "failed"),
             ("create_date", ">", since)], order="id", limit=DIGEST_ERRORS)
        errors = [f"{line.name or line.path_after or line.path_before}: {_short(line.error)}"
                  for line in lines]
        logs = self.env["clouds.log"].sudo().search(
            [("client_id", "=", self.id), ("level", "!=", "info"),
             ("create_date", ">", since)], order="id", limit=DIGEST_ERRORS)
        for log in logs:
            error = _short(log.message)
            if error and error not in errors and not any(e.endswith(error) for e in errors):
                errors.append(error)
        body = Markup("<p>%s</p>") % _(
            "Sync failures of the last 24 hours: %(runs)s runs failed or had failures, "
            "%(failures)s operations failed.", runs=runs, failures=failures)
        if errors:
            body += Markup("<p>%s</p><ul>%s</ul>") % (
                _("First errors:"),
                Markup("").join(Markup("<li>%s</li>") % e for e in errors[:DIGEST_ERRORS]))
        self.message_post(body=body, subtype_xmlid="cloud_base.mt_clouds_digest")
