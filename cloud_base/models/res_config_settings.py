"""Cloud Storage settings: folder name length cap and the "Prepare folders" cron interval."""

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from cloud_sync.naming import DEFAULT_MAX_LENGTH

PREPARE_CRON = "cloud_base.ir_cron_prepare_folders"
MAX_NAME_LENGTH = 255


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
    clouds_prepare_interval = fields.Integer(
        string="Prepare Folders Every (minutes)",
        default=15,
        help="How often the cron applies folder rules to changed records.",
    )

    @api.constrains("clouds_folder_name_max_length", "clouds_prepare_interval",
                    "clouds_history_days")
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

    @api.model
    def _clouds_prepare_cron(self):
        cron = self.env.ref(PREPARE_CRON, raise_if_not_found=False)
        return cron and cron.sudo()

    @api.model
    def get_values(self):
        res = super().get_values()
        cron = self._clouds_prepare_cron()
        if cron:
            minutes = {"minutes": 1, "hours": 60, "days": 1440, "weeks": 10080, "months": 43200}
            res["clouds_prepare_interval"] = cron.interval_number * minutes[cron.interval_type]
        return res

    def set_values(self):
        super().set_values()
        cron = self._clouds_prepare_cron()
        if cron:
            cron.write(
                {"interval_number": self.clouds_prepare_interval, "interval_type": "minutes"}
            )
