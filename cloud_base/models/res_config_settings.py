"""Cloud Storage settings: folder name length cap, the intervals of the crons that
prepare folders (rules) and sync (prepare and run the sync tasks), and how many versions
Odoo keeps where the cloud keeps none."""

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from cloud_sync.naming import DEFAULT_MAX_LENGTH

MAX_NAME_LENGTH = 255
MAX_KEPT_VERSIONS = 100
MINUTES = {"minutes": 1, "hours": 60, "days": 1440, "weeks": 10080, "months": 43200}
# setting -> the crons whose interval it is (the first one is read back)
CRONS = {
    "clouds_prepare_interval": ("cloud_base.ir_cron_prepare_folders",),
    "clouds_sync_interval": ("cloud_base.ir_cron_sync_run", "cloud_base.ir_cron_sync_prepare",
                             "cloud_base.ir_cron_sync_run_2"),
}


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    clouds_folder_name_max_length = fields.Integer(
        string="Folder Name Length",
        config_parameter="cloud_base.folder_name_max_length",
        default=DEFAULT_MAX_LENGTH,
        help="Longer folder names are cut to this many characters.",
    )
    clouds_history_days = fields.Integer(
        string="Keep Sync History (days)",
        config_parameter="cloud_base.history_days",
        default=90,
        help="Sync logs, their operations, the dashboard's statistics and share accesses "
        "older than this are deleted every night.",
    )
    clouds_failure_digest = fields.Boolean(
        string="Daily Failure Digest",
        config_parameter="cloud_base.failure_digest",
        help="Once a day, the followers of each connection with sync failures in the last "
        "24 hours get one message with the counts and the first errors.",
    )
    clouds_versions_keep = fields.Integer(
        string="Versions Kept by Odoo",
        help="Where the cloud keeps no versions (plain WebDAV, an S3 bucket without "
        "versioning), the previous contents of a file the sync replaced are kept in Odoo, "
        "this many per file, the oldest dropped first (0: none).",
    )
    clouds_prepare_interval = fields.Integer(
        string="Prepare Folders Every (minutes)",
        default=15,
        help="How often the cron applies folder rules to changed records.",
    )
    clouds_sync_interval = fields.Integer(
        string="Sync Every (minutes)",
        default=15,
        help="How often the crons queue and run the sync of every connection (Sync now "
        "on a connection does not wait for them).",
    )

    @api.constrains("clouds_folder_name_max_length", "clouds_prepare_interval",
                    "clouds_history_days", "clouds_sync_interval", "clouds_versions_keep")
    def _check_clouds_values(self):
        for settings in self:
            if not 1 <= settings.clouds_folder_name_max_length <= MAX_NAME_LENGTH:
                raise ValidationError(
                    _("The folder name length must be between 1 and %s characters.",
                      MAX_NAME_LENGTH)
                )
            if settings.clouds_history_days < 1:
                raise ValidationError(_("Sync history is kept at least one day."))
            if settings.clouds_prepare_interval < 1:
                raise ValidationError(_("Folders are prepared at most every minute."))
            if settings.clouds_sync_interval < 1:
                raise ValidationError(_("The sync runs at most every minute."))
            if not 0 <= settings.clouds_versions_keep <= MAX_KEPT_VERSIONS:
                raise ValidationError(_("Odoo keeps between 0 and %s versions of a file.",
                                        MAX_KEPT_VERSIONS))

    @api.model
    def _clouds_crons(self, field):
        crons = [self.env.ref(xmlid, raise_if_not_found=False) for xmlid in CRONS[field]]
        return self.env["ir.cron"].sudo().union(*filter(None, crons))

    @api.model
    def get_values(self):
        res = super().get_values()
        for field in CRONS:
            if cron := self._clouds_crons(field)[:1]:
                res[field] = cron.interval_number * MINUTES[cron.interval_type]
        res["clouds_versions_keep"] = self.env["clouds.file.version"]._clouds_keep_limit()
        return res

    def set_values(self):
        super().set_values()
        self.env["clouds.file.version"]._clouds_set_keep_limit(self.clouds_versions_keep)
        for field in CRONS:
            self._clouds_crons(field).write(
                {"interval_number": self[field], "interval_type": "minutes"})

    def action_clouds_connections(self):
        """The cloud connections, from the settings."""
        return self.env["ir.actions.act_window"]._for_xml_id("cloud_base.action_clouds_clients")
