"""The portal upload size limit."""

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

UPLOAD_LIMIT_PARAM = "cloud_share.upload_max_mb"
DEFAULT_UPLOAD_MB = 25


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    clouds_share_upload_max_mb = fields.Integer(
        string="Portal Upload Limit (MB)",
        config_parameter=UPLOAD_LIMIT_PARAM,
        default=DEFAULT_UPLOAD_MB,
        help="Larger files uploaded through a share are refused.",
    )

    @api.constrains("clouds_share_upload_max_mb")
    def _check_clouds_share_upload_max_mb(self):
        for settings in self:
            if settings.clouds_share_upload_max_mb < 1:
                raise ValidationError(_("The portal upload limit must be at least 1 MB."))

    @api.model
    def _clouds_share_upload_limit(self):
        """The limit in bytes (a broken parameter falls back to the default)."""
        value = self.env["ir.config_parameter"].sudo().get_param(UPLOAD_LIMIT_PARAM)
        try:
            megabytes = max(1, int(value or DEFAULT_UPLOAD_MB))
        except ValueError:
            megabytes = DEFAULT_UPLOAD_MB
        return megabytes * 1024 * 1024
