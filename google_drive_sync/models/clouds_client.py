"""Google Drive connections: an OAuth web client (refresh token) or a service account,
My Drive or a shared drive; delegated to ``cloud_sync.providers.google_drive``."""

import json

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError

from cloud_sync.providers import google_drive

ADMIN = "cloud_base.group_clouds_admin"
PARAM = "google_drive_sync."


class CloudsClient(models.Model):
    _inherit = "clouds.client"

    provider = fields.Selection(selection_add=[("google_drive", "Google Drive")],
                                ondelete={"google_drive": "cascade"})
    gd_auth = fields.Selection([("oauth", "OAuth (a user's consent)"),
                                ("service_account", "Service account")],
                               string="Google Authentication", default="oauth", groups=ADMIN)
    gd_client_id = fields.Char(string="OAuth Client ID", groups=ADMIN)
    gd_client_secret = fields.Char(string="OAuth Client Secret", groups=ADMIN)
    gd_service_account = fields.Text(string="Service Account Key (JSON)", groups=ADMIN)
    gd_subject = fields.Char(string="Impersonated User", groups=ADMIN,
                             help="Domain-wide delegation: the user the service account acts as.")
    gd_drive_id = fields.Char(string="Shared Drive ID", groups=ADMIN,
                              help="Empty for My Drive.")
    gd_export_odf = fields.Boolean(string="Export as ODF", groups=ADMIN,
                                   help="Google documents come back as odt/ods/odp instead of "
                                   "docx/xlsx/pptx.")
    gd_api_url = fields.Char(string="Drive API URL", groups=ADMIN,
                             help="Empty: Google's (or the system parameter "
                             "google_drive_sync.api_url).")
    gd_auth_uri = fields.Char(string="Consent Page URL", groups=ADMIN)
    gd_token_uri = fields.Char(string="Google Token URL", groups=ADMIN)
    gd_ca_bundle = fields.Char(string="Google CA Bundle", groups=ADMIN,
                               help="Path of extra trusted certificates (a local server).")

    @api.model
    def _cloud_credential_fields(self):
        return super()._cloud_credential_fields() | {
            "gd_auth", "gd_service_account", "gd_subject", "gd_drive_id"}

    def _cloud_provider_config(self):
        if self.provider != "google_drive":
            return super()._cloud_provider_config()
        me = self.sudo()
        config = {
            "client_id": me.gd_client_id, "client_secret": me.gd_client_secret,
            "drive_id": me.gd_drive_id or None, "timeout": 30,
            "api_url": self._cloud_setting(me.gd_api_url, PARAM + "api_url"),
            "auth_uri": self._cloud_setting(me.gd_auth_uri, PARAM + "auth_uri"),
            "token_uri": self._cloud_setting(me.gd_token_uri, PARAM + "token_uri"),
            "ca_bundle": self._cloud_setting(me.gd_ca_bundle, PARAM + "ca_bundle"),
        }
        if me.gd_auth == "service_account":
            try:
                config["service_account_info"] = json.loads(me.gd_service_account or "")
            except ValueError as exc:
                raise UserError(_("The service account key is not valid JSON.")) from exc
            config["subject"] = me.gd_subject or None
        return config

    def _cloud_oauth_enabled(self):
        if self.provider != "google_drive":
            return super()._cloud_oauth_enabled()
        return self.sudo().gd_auth == "oauth"

    def _cloud_oauth_start(self, redirect_uri, state):
        if self.provider != "google_drive":
            return super()._cloud_oauth_start(redirect_uri, state)
        config = self._cloud_provider_config()
        return google_drive.authorization_url(config, redirect_uri, state), None

    def _cloud_oauth_finish(self, params, redirect_uri, data):
        if self.provider != "google_drive":
            return super()._cloud_oauth_finish(params, redirect_uri, data)
        config = self._cloud_provider_config()
        tokens = google_drive.exchange_code(config, params.get("code", ""), redirect_uri)
        provider = self._cloud_make_provider({**config, **tokens, "root": ""})
        try:
            user = provider.account().get("user", {})
        finally:
            provider.close()
        return tokens, user.get("emailAddress") or user.get("displayName")

    def _cloud_pause(self, reason, state="paused", guard=False):
        """A service account has no consent page to go through again: say what to fix."""
        for client in self:
            why = reason
            if (client.provider == "google_drive" and state == "needs_reconnect"
                    and client.sudo().gd_auth == "service_account"):
                why = _("Google refused the service account (%(error)s). Paste a valid key "
                        "(JSON) of an account that can reach the drive (with domain-wide "
                        "delegation when it impersonates a user), then click Reconnect.",
                        error=reason)
            super(CloudsClient, client)._cloud_pause(why, state=state, guard=guard)

    def action_choose_google_drive(self):
        """Pick My Drive or a shared drive from those the account can see."""
        self.ensure_one()
        if not self.env.user.has_group(ADMIN):
            raise AccessError(_("Only cloud storage administrators choose the drive."))
        return self.env["google_drive_sync.drive.picker"].open_for(self)

    def _cloud_export_native(self, provider, item):
        if self.provider != "google_drive":
            return super()._cloud_export_native(provider, item)
        mime = item.mime_type or ""
        if mime not in google_drive.EXPORT_FORMATS:
            return None
        _mime, ext = google_drive.export_format(mime, odf=self.sudo().gd_export_odf)
        data = b"".join(provider.export(item.id, ext))
        stem = item.name.rsplit(".", 1)[0] if item.name.lower().endswith("." + ext) else item.name
        return data, f"{stem}.{ext}"
