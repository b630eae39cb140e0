"""Amazon S3 / MinIO connections: credentials and options, delegated to ``cloud_sync``."""

from odoo import _, api, fields, models

ADMIN = "cloud_base.group_clouds_admin"


class CloudsClient(models.Model):
    _inherit = "clouds.client"

    provider = fields.Selection(selection_add=[("s3", "Amazon S3 / MinIO")],
                                ondelete={"s3": "cascade"})
    s3_bucket = fields.Char(string="Bucket", groups=ADMIN)
    s3_region = fields.Char(string="Region", default="us-east-1", groups=ADMIN)
    s3_endpoint_url = fields.Char(
        string="Endpoint URL", groups=ADMIN,
        help="Empty for Amazon S3; the server URL for MinIO or another S3-compatible store.")
    s3_path_style = fields.Boolean(string="Path-style Addressing", groups=ADMIN,
                                   help="Needed by most MinIO installations.")
    s3_access_key = fields.Char(string="Access Key ID", groups=ADMIN)
    s3_secret_key = fields.Char(string="Secret Access Key", groups=ADMIN)
    s3_link_lifetime = fields.Integer(
        string="Link Lifetime (s)", default=86400, groups=ADMIN,
        help="How long the presigned download links stay valid.")

    @api.model
    def _cloud_credential_fields(self):
        return super()._cloud_credential_fields() | {
            "s3_bucket", "s3_region", "s3_endpoint_url", "s3_path_style", "s3_access_key",
            "s3_secret_key"}

    def _cloud_provider_config(self):
        if self.provider != "s3":
            return super()._cloud_provider_config()
        me = self.sudo()
        return {
            "bucket": me.s3_bucket, "region": me.s3_region, "endpoint_url": me.s3_endpoint_url,
            "path_style": me.s3_path_style, "access_key": me.s3_access_key,
            "secret_key": me.s3_secret_key, "link_lifetime": me.s3_link_lifetime,
            "timeout": 30,
        }

    def _cloud_where(self, provider):
        where = super()._cloud_where(provider)
        if self.provider == "s3":
            me = self.sudo()
            where.insert(0, _("bucket “%(bucket)s” at %(server)s", bucket=me.s3_bucket,
                              server=me.s3_endpoint_url or _("Amazon S3 (%s)", me.s3_region)))
        return where
