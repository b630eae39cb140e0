"""Box connections: OAuth 2 with rotating refresh tokens, or the client credentials grant;
delegated to ``cloud_sync.providers.box``.

A Box refresh token is single use. Every refresh runs under a lock on the connection's
row (``FOR UPDATE NOWAIT``, retried): a worker that finds a newer pair stored than the one
it holds adopts it instead of spending its stale token, and a new pair is written in that
same locked transaction, so two workers never spend the same refresh token.
"""

import json
import time
from urllib.parse import urlencode

import psycopg2.errors
from box_sdk_gen.schemas.access_token import AccessToken
from odoo import api, fields, models

from cloud_sync.providers.errors import RetryLater

ADMIN = "cloud_base.group_clouds_admin"
PARAM = "box_sync."
LOCK_TRIES = 50


class CloudsClient(models.Model):
    _inherit = "clouds.client"

    provider = fields.Selection(selection_add=[("box", "Box")], ondelete={"box": "cascade"})
    bx_auth = fields.Selection([("oauth", "OAuth 2 (a user's consent)"),
                                ("ccg", "Client credentials grant")],
                               string="Box Authentication", default="oauth", groups=ADMIN)
    bx_client_id = fields.Char(string="Box Client ID", groups=ADMIN)
    bx_client_secret = fields.Char(string="Box Client Secret", groups=ADMIN)
    bx_enterprise_id = fields.Char(string="Enterprise ID", groups=ADMIN,
                                   help="Client credentials: act as the enterprise's service "
                                   "account (or set a user id).")
    bx_user_id = fields.Char(string="User ID", groups=ADMIN)
    bx_shared_link_access = fields.Selection([("open", "Anyone with the link"),
                                              ("company", "People in the company")],
                                             string="Shared Links", default="open", groups=ADMIN)
    bx_api_url = fields.Char(string="Box API URL", groups=ADMIN,
                             help="Empty: https://api.box.com (or the system parameter "
                             "box_sync.api_url).")
    bx_upload_url = fields.Char(string="Upload URL", groups=ADMIN)
    bx_oauth_url = fields.Char(string="Consent URL", groups=ADMIN,
                               help="Empty: https://account.box.com/api/oauth2.")
    bx_web_url = fields.Char(string="Web App URL", groups=ADMIN,
                             help="Where files open in Box: empty for https://app.box.com "
                             "(or the system parameter box_sync.web_url).")
    bx_ca_bundle = fields.Char(string="Box CA Bundle", groups=ADMIN,
                               help="Path of extra trusted certificates (a local server).")

    @api.model
    def _cloud_credential_fields(self):
        return super()._cloud_credential_fields() | {
            "bx_auth", "bx_client_id", "bx_client_secret", "bx_enterprise_id", "bx_user_id"}

    def _cloud_link_options(self):
        """"Open in the cloud": the shared link, opened to the chosen access."""
        if self.provider != "box":
            return super()._cloud_link_options()
        company = self.sudo().bx_shared_link_access == "company"
        return {"public": True, "audience": "organization" if company else "anyone"}

    def _cloud_provider_config(self):
        if self.provider != "box":
            return super()._cloud_provider_config()
        me = self.sudo()
        config = {
            "auth": me.bx_auth, "client_id": me.bx_client_id,
            "client_secret": me.bx_client_secret, "enterprise_id": me.bx_enterprise_id,
            "user_id": me.bx_user_id, "shared_link_access": me.bx_shared_link_access,
            "timeout": 30,
        }
        for key in ("api_url", "upload_url", "oauth_url", "web_url", "ca_bundle"):
            config[key] = self._cloud_setting(me[f"bx_{key}"], PARAM + key)
        return config

    # ---------------------------------------------------------------- connect flow
    def _cloud_oauth_enabled(self):
        if self.provider != "box":
            return super()._cloud_oauth_enabled()
        return self.sudo().bx_auth == "oauth"

    def _cloud_oauth_start(self, redirect_uri, state):
        if self.provider != "box":
            return super()._cloud_oauth_start(redirect_uri, state)
        # The SDK's get_authorize_url ignores the configured host: build it here.
        config = self._cloud_provider_config()
        base = (config["oauth_url"] or "https://account.box.com/api/oauth2").rstrip("/")
        query = urlencode({"client_id": config["client_id"], "response_type": "code",
                           "redirect_uri": redirect_uri, "state": state})
        return f"{base}/authorize?{query}", None

    def _cloud_oauth_finish(self, params, redirect_uri, data):
        if self.provider != "box":
            return super()._cloud_oauth_finish(params, redirect_uri, data)
        provider = self._cloud_make_provider({**self._cloud_provider_config(), "root": ""})
        try:
            token = provider.call(lambda: provider.auth.get_tokens_authorization_code_grant(
                params.get("code", ""), network_session=provider.network), idempotent=False)
            user = provider.call(provider.client.users.get_user_me)
        finally:
            provider.close()
        tokens = {"access_token": token.access_token, "refresh_token": token.refresh_token}
        return tokens, user.login or user.name

    # ---------------------------------------------------------------- rotating tokens
    def _cloud_make_provider(self, config, retry=None):
        provider = super()._cloud_make_provider(config, retry)
        if self.provider == "box" and config.get("auth") != "ccg" and isinstance(self.id, int):
            refresh = provider.auth.refresh_token
            # the SDK refreshes from whatever thread met the 401: the lock and the ORM
            # are the worker's own (parallel transfers hand the call over)
            provider.auth.refresh_token = (
                lambda network_session=None: provider.owner_call(
                    self._box_locked_refresh, provider, refresh,
                    network_session or provider.network))
        return provider

    def _box_locked_refresh(self, provider, refresh, network_session):
        """Refresh (or adopt a pair another worker stored) under the row lock."""
        if not self.env.registry.in_test_mode() and self._box_row_held_here():
            # This transaction wrote or locked the row (a save checking the connection):
            # a second connection would wait for us. No other worker can take the row
            # before we end, so refresh here; the new pair is committed with the save.
            self.env.cr.execute("SELECT token_json FROM clouds_client WHERE id = %s",
                                [self.id])
            token = self._box_refresh_locked(self.env.cr, provider, refresh, network_session,
                                             json.loads(self.env.cr.fetchone()[0] or "{}"))
            self.invalidate_recordset(["token_json"])
            return token
        for attempt in range(LOCK_TRIES):
            try:
                with self.env.registry.cursor() as cr:
                    # a busy row is expected here, not a "bad query" for the error log
                    cr.execute("SELECT token_json FROM clouds_client WHERE id = %s "
                               "FOR UPDATE NOWAIT", [self.id], log_exceptions=False)
                    row = cr.fetchone()
                    if row is None:  # not committed yet: nobody else can hold it
                        return refresh(network_session=network_session)
                    token = self._box_refresh_locked(cr, provider, refresh, network_session,
                                                     json.loads(row[0] or "{}"))
                self.invalidate_recordset(["token_json"])
                return token
            except (psycopg2.errors.LockNotAvailable, psycopg2.errors.SerializationFailure):
                # held by another worker, or it committed a new pair between our snapshot
                # and our lock: a new transaction sees (and adopts) that pair
                time.sleep(min(0.02 * (attempt + 1), 0.5))
        raise RetryLater("another worker is refreshing this connection's Box tokens")

    def _box_row_held_here(self):
        """True if this transaction already updated or locked the connection's row
        (pending writes flushed first). Not asked in test mode, where every cursor is the
        test's one transaction (nothing to wait for) and threads may share this one."""
        self.env.flush_all()
        self.env.cr.execute(
            "SELECT pg_current_xact_id_if_assigned()::xid IN (xmin, xmax) "
            "FROM clouds_client WHERE id = %s", [self.id])
        row = self.env.cr.fetchone()
        return bool(row and row[0])

    def _box_refresh_locked(self, cr, provider, refresh, network_session, stored):
        held = provider.auth.token_storage.get()
        saved = provider.on_token_refresh

        def store(credentials):
            cr.execute("UPDATE clouds_client SET token_json = %s WHERE id = %s",
                       [json.dumps(credentials), self.id])

        provider.on_token_refresh = store
        try:
            if stored.get("refresh_token") and held and (
                    stored["refresh_token"] != held.refresh_token):
                token = AccessToken(access_token=stored.get("access_token"),
                                    refresh_token=stored["refresh_token"], token_type="bearer")
                provider.auth.token_storage.store(token)  # adopt the newer pair
                return token
            return refresh(network_session=network_session)
        finally:
            provider.on_token_refresh = saved
