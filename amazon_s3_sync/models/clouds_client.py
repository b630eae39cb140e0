"""Amazon S3 / MinIO connections: credentials and options, delegated to ``cloud_sync``."""

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from cloud_sync.providers.s3 import MAX_LINK_LIFETIME

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
        help="How long the presigned download links stay valid (S3 allows at most 7 days: "
        "604800 seconds).")

    @api.constrains("s3_link_lifetime")
    def _check_s3_link_lifetime(self):
        for client in self.sudo():
            if client.provider == "s3" and not 0 < client.s3_link_lifetime <= MAX_LINK_LIFETIME:
                raise ValidationError(_(
                    "The link lifetime must be between 1 second and 7 days (%s seconds): "
                    "S3 refuses longer presigned links.", MAX_LINK_LIFETIME))

    @api.model
    def _cloud_credential_fields(self):
        return super()._cloud_credential_fields() | {
            "s3_bucket", "s3_region", "s3_endpoint_url", "s3_path_style", "s3_access_key",
            "s3_secret_key"}

    def _cloud_link_options(self):
        """"Open in the cloud": a presigned address valid Link Lifetime seconds."""
        if self.provider != "s3":
            return super()._cloud_link_options()
        return {"public": False, "expires_in": self.sudo().s3_link_lifetime or None}

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
