"""Dropbox connections: offline (refresh) tokens from the SDK's web OAuth flow, personal
or team member accounts; delegated to ``cloud_sync.providers.dropbox``."""

import time
from datetime import timezone

from dropbox.oauth import NotApprovedException
from odoo import api, fields, models

from cloud_sync.providers import dropbox as dbx
from cloud_sync.providers.errors import Fatal, ReauthRequired

ADMIN = "cloud_base.group_clouds_admin"
PARAM = "dropbox_sync."
HOSTS = ("api_host", "content_host", "notify_host", "web_host")
CSRF_KEY = "dropbox-auth-csrf-token"


class CloudsClient(models.Model):
    _inherit = "clouds.client"

    provider = fields.Selection(selection_add=[("dropbox", "Dropbox")],
                                ondelete={"dropbox": "cascade"})
    db_app_key = fields.Char(string="App Key", groups=ADMIN)
    db_app_secret = fields.Char(string="App Secret", groups=ADMIN)
    db_team_member_id = fields.Char(string="Team Member ID", groups=ADMIN,
                                    help="Dropbox Business: the member whose space syncs "
                                    "(team apps only).")
    db_link_mode = fields.Selection([("internal", "Internal paths"),
                                     ("shared", "Shared links")],
                                    string="Dropbox Links", default="internal", groups=ADMIN)
    db_host = fields.Char(string="Server", groups=ADMIN,
                          help="host:port serving every Dropbox host (a local server); empty: "
                          "Dropbox's own (or the system parameter dropbox_sync.host).")
    db_ca_bundle = fields.Char(string="Dropbox CA Bundle", groups=ADMIN,
                               help="Path of extra trusted certificates (a local server).")

    @api.model
    def _cloud_credential_fields(self):
        return super()._cloud_credential_fields() | {"db_team_member_id", "db_link_mode"}

    def _cloud_link_options(self):
        """"Open in the cloud": a shared link or the internal path (Dropbox Links)."""
        if self.provider != "dropbox":
            return super()._cloud_link_options()
        return {"public": self.sudo().db_link_mode == "shared"}

    def _cloud_provider_config(self):
        if self.provider != "dropbox":
            return super()._cloud_provider_config()
        me = self.sudo()
        host = self._cloud_setting(me.db_host, PARAM + "host")
        config = {
            "app_key": me.db_app_key, "app_secret": me.db_app_secret,
            "team_member_id": me.db_team_member_id or None, "link_mode": me.db_link_mode,
            "ca_bundle": self._cloud_setting(me.db_ca_bundle, PARAM + "ca_bundle"),
            "timeout": 30,
        }
        if host:
            config.update(dict.fromkeys(HOSTS, host))
        return config

    def _cloud_oauth_enabled(self):
        return self.provider == "dropbox" or super()._cloud_oauth_enabled()

    def _dropbox_flow(self, redirect_uri, session):
        return dbx.OAuthFlow(self._cloud_provider_config(), redirect_uri, session, CSRF_KEY)

    def _cloud_oauth_start(self, redirect_uri, state):
        if self.provider != "dropbox":
            return super()._cloud_oauth_start(redirect_uri, state)
        session = {}
        url = self._dropbox_flow(redirect_uri, session).start(state)
        return url, session  # the SDK's CSRF token, checked again by finish()

    def _cloud_oauth_finish(self, params, redirect_uri, data):
        if self.provider != "dropbox":
            return super()._cloud_oauth_finish(params, redirect_uri, data)
        flow = self._dropbox_flow(redirect_uri, dict(data or {}))
        try:
            result = flow.finish(params)
        except NotApprovedException as exc:
            raise ReauthRequired(f"consent denied: {exc}") from exc
        except Exception as exc:  # noqa: BLE001 - the SDK's many flow errors, one message
            raise Fatal(f"Dropbox refused the connect flow: {exc}") from exc
        expires = result.expires_at  # naive UTC, as the SDK computes it
        tokens = {"access_token": result.access_token, "refresh_token": result.refresh_token,
                  "access_token_expires_at": int(
                      expires.replace(tzinfo=timezone.utc).timestamp() if expires else time.time())}
        provider = self._cloud_make_provider({**self._cloud_provider_config(), **tokens,
                                              "root": ""})
        try:
            account = provider.account()
        finally:
            provider.close()
        return tokens, account.get("email") or account.get("name")
