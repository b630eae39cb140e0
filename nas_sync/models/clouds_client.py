"""NAS / WebDAV connections (Synology, QNAP, TrueNAS, any WebDAV server), delegated to
``cloud_sync``."""

import os

from odoo import _, api, fields, models
from odoo.tools import config

ADMIN = "cloud_base.group_clouds_admin"


class CloudsClient(models.Model):
    _inherit = "clouds.client"

    provider = fields.Selection(selection_add=[("webdav", "NAS / WebDAV")],
                                ondelete={"webdav": "cascade"})
    dav_url = fields.Char(string="WebDAV URL", groups=ADMIN,
                          help="e.g. https://nas.local:5006 for a Synology WebDAV Server.")
    dav_login = fields.Char(string="Login", groups=ADMIN)
    dav_password = fields.Char(string="Password", groups=ADMIN)
    dav_verify_tls = fields.Boolean(
        string="Verify TLS Certificate", default=True, groups=ADMIN,
        help="Turn off only for a NAS with a self-signed certificate on a trusted network.")
    dav_flavour = fields.Selection(
        [("generic", "Generic WebDAV"), ("synology", "Synology"), ("qnap", "QNAP"),
         ("truenas", "TrueNAS")], string="NAS", default="generic", groups=ADMIN,
        help="Sets the default root folder of the NAS family.")

    @api.model
    def _cloud_credential_fields(self):
        return super()._cloud_credential_fields() | {
            "dav_url", "dav_login", "dav_password", "dav_verify_tls", "dav_flavour"}

    def _cloud_provider_config(self):
        if self.provider != "webdav":
            return super()._cloud_provider_config()
        me = self.sudo()
        return {"url": me.dav_url, "login": me.dav_login, "password": me.dav_password,
                "verify_tls": me.dav_verify_tls, "flavour": me.dav_flavour or "generic",
                "timeout": 30, "state_dir": self._dav_state_dir()}

    def _cloud_where(self, provider):
        where = super()._cloud_where(provider)
        if self.provider == "webdav":
            me = self.sudo()
            where.insert(0, _("%(login)s on %(url)s", login=me.dav_login or _("(no login)"),
                              url=me.dav_url))
        return where

    def _dav_state_dir(self):
        """The change feed's listing snapshots live beside the database's files: they
        survive a reboot (a lost one costs a full walk) and every worker that shares the
        filestore shares them."""
        return os.path.join(config.filestore(self.env.cr.dbname), "cloud_sync", "webdav")
