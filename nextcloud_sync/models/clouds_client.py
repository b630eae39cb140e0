"""Nextcloud / ownCloud connections: server, user and app password, delegated to
``cloud_sync``."""

from odoo import _, api, fields, models

ADMIN = "cloud_base.group_clouds_admin"


class CloudsClient(models.Model):
    _inherit = "clouds.client"

    provider = fields.Selection(selection_add=[("nextcloud", "Nextcloud / ownCloud")],
                                ondelete={"nextcloud": "cascade"})
    nc_url = fields.Char(string="Server URL", groups=ADMIN,
                         help="e.g. https://cloud.example.com (without /remote.php).")
    nc_user = fields.Char(string="User", groups=ADMIN)
    nc_password = fields.Char(
        string="App Password", groups=ADMIN,
        help="Personal settings > Security > Devices & sessions > Create new app password.")
    nc_public_links = fields.Boolean(
        string="Public Links", groups=ADMIN,
        help="Links in Odoo are public share links; otherwise internal links that need a "
        "Nextcloud login.")
    nc_verify_tls = fields.Boolean(string="Verify Nextcloud TLS Certificate", default=True,
                                   groups=ADMIN)

    @api.model
    def _cloud_credential_fields(self):
        return super()._cloud_credential_fields() | {
            "nc_url", "nc_user", "nc_password", "nc_verify_tls"}

    def _cloud_link_options(self):
        """"Open in the cloud": a public link share when Public Links is set."""
        if self.provider != "nextcloud":
            return super()._cloud_link_options()
        return {"public": bool(self.sudo().nc_public_links)}

    def _cloud_provider_config(self):
        if self.provider != "nextcloud":
            return super()._cloud_provider_config()
        me = self.sudo()
        return {"url": me.nc_url, "user": me.nc_user, "password": me.nc_password,
                "public_links": me.nc_public_links, "verify_tls": me.nc_verify_tls,
                "timeout": 30}

    def _cloud_where(self, provider):
        where = super()._cloud_where(provider)
        if self.provider == "nextcloud":
            me = self.sudo()
            where.insert(0, _("%(user)s on %(url)s", user=me.nc_user, url=me.nc_url))
        return where
