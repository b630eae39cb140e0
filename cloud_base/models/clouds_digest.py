"""The daily digest of sync failures: one message per connection that failed in the last
24 hours, to its followers (the "Daily failure digest" subtype), when the setting is on.
Counted from the statistics rows, the errors taken from the failed operation lines and the
failed runs' logs (never a scan of the files)."""

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

    @api.model
    def _cron_failure_digest(self):
        """Post the digests (nothing when the setting is off); returns the connections
        that got one."""
        param = self.env["ir.config_parameter"].sudo().get_param(DIGEST_PARAM)
        if not str2bool(param or "False"):
            return self.browse()
        since = fields.Datetime.subtract(fields.Datetime.now(), hours=24)
        groups = self.env["clouds.sync.stat"].sudo()._read_group(
            [("date", ">=", since), "|", ("failures", ">", 0), ("level", "!=", "info")],
            ["client_id"], ["__count", "failures:sum"])
        clients = self.browse()
        for client, runs, failures in groups:
            client._clouds_post_digest(since, runs, failures or 0)
            clients |= client
        return clients

    def _clouds_post_digest(self, since, runs, failures):
        self.ensure_one()
        lines = self.env["clouds.log.operation"].sudo().search(
            [("client_id", "=", self.id), ("state", "=", "failed"),
             ("create_date", ">=", since)], order="id", limit=DIGEST_ERRORS)
        errors = [f"{line.name or line.path_after or line.path_before}: {_short(line.error)}"
                  for line in lines]
        logs = self.env["clouds.log"].sudo().search(
            [("client_id", "=", self.id), ("level", "!=", "info"),
             ("create_date", ">=", since)], order="id", limit=DIGEST_ERRORS)
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
