"""The OAuth connect flow shared by the SaaS provider addons (Drive, OneDrive, Dropbox, Box).

"Connect" and "Reconnect" send the administrator to ``/cloud_base/oauth/start/<id>``,
which keeps a CSRF ``state`` in the Odoo session bound to the client and redirects to the
provider's consent page; ``/cloud_base/oauth/callback`` checks that state (once), trades
the code for tokens, stores them and connects (the root folder is picked by name, so a
reconnect keeps the client's folders). An addon implements three hooks for its key:
:meth:`_cloud_oauth_enabled`, :meth:`_cloud_oauth_start` and :meth:`_cloud_oauth_finish`.
"""

import json
import secrets
import socket
import ssl
from urllib.parse import parse_qs, urlsplit

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError

from cloud_sync.providers.errors import CloudError, ReauthRequired

ADMIN = "cloud_base.group_clouds_admin"
SESSION_KEY = "clouds_oauth"
CALLBACK = "/cloud_base/oauth/callback"


class _NeedsReconnect(Exception):
    """A check found the grant lost: the connection was paused (not rolled back)."""

    def __init__(self, client, reason):
        super().__init__(str(reason))
        self.client, self.reason = client, reason


class ConnectFailed(UserError):
    """A trusted connect request the provider could not finish (code refused, server
    unreachable): the callback rolls its transaction back, then keeps the reason on the
    connection (``_cloud_connect_failed``)."""

    def __init__(self, client, message):
        super().__init__(message)
        self.client_id = client.id


class CloudsClientOAuth(models.Model):
    _inherit = "clouds.client"

    oauth_account = fields.Char(string="Connected Account", readonly=True, copy=False,
                                help="Who the connection acts as, as the provider said.")
    oauth_enabled = fields.Boolean(compute="_compute_oauth_redirect_uri")
    oauth_redirect_uri = fields.Char(
        string="Redirect URI", compute="_compute_oauth_redirect_uri",
        help="The address the provider sends the administrator back to after consent: "
        "register it in the provider's app (Google Cloud console: OAuth client > "
        "Authorized redirect URIs; Microsoft Entra: App registration > Authentication > "
        "Web > Redirect URIs; Dropbox and Box: the app's OAuth 2 redirect URIs).")

    @api.depends("provider")
    def _compute_oauth_redirect_uri(self):
        uri = self._cloud_oauth_redirect_uri()
        for client in self:
            client.oauth_enabled = bool(client.provider) and client._cloud_oauth_enabled()
            client.oauth_redirect_uri = uri if client.oauth_enabled else False

    # ---------------------------------------------------------------- addon hooks
    def _cloud_oauth_enabled(self):
        """True when this connection gets its tokens through a consent page."""
        return False

    def _cloud_oauth_start(self, redirect_uri, state):
        """(consent URL, data kept in the session until the callback). The URL carries
        ``state`` (possibly wrapped by the SDK: the state sent is read back from it)."""
        raise UserError(_("“%s” has no connect flow.", self.provider))

    def _cloud_oauth_finish(self, params, redirect_uri, data):
        """Trade the callback's query ``params`` for tokens: (token dict stored in
        ``token_json``, account name). Raises a ``CloudError`` when refused."""
        raise UserError(_("“%s” has no connect flow.", self.provider))

    def _cloud_setting(self, value, param):
        """A connection option from its form, else the system parameter ``param`` (how
        tests and the demo reach local emulators and a national cloud is set once)."""
        return value or self.env["ir.config_parameter"].sudo().get_param(param) or None

    # ---------------------------------------------------------------- actions
    def _cloud_oauth_redirect_uri(self):
        base = self.env["ir.config_parameter"].sudo().get_param("web.base.url")
        return base.rstrip("/") + CALLBACK

    def _cloud_check_on_save(self):
        """Nothing to check before the consent gave tokens."""
        waiting = self.filtered(lambda c: c._cloud_oauth_enabled() and not c.sudo().token_json)
        return super(CloudsClientOAuth, self - waiting)._cloud_check_on_save()

    def action_connect(self):
        """OAuth connections without tokens go to the consent page first."""
        consent = len(self) == 1 and self._cloud_oauth_enabled() and (
            not self.sudo().token_json or self.state == "needs_reconnect")
        if consent and not self.env.context.get("clouds_oauth_done"):
            return {"type": "ir.actions.act_url", "target": "self",
                    "url": f"/cloud_base/oauth/start/{self.id}"}
        return super().action_connect()

    def action_reconnect(self):
        """A lost grant runs the consent flow again; anything else resumes as before."""
        if len(self) != 1 or not self._cloud_oauth_enabled():
            return super().action_reconnect()
        if self.state != "needs_reconnect":
            self.action_check_connection()  # a lost grant turns into needs_reconnect
            if self.state != "needs_reconnect":
                return super().action_reconnect()
        return self.action_connect()

    def _cloud_check_one(self):
        """A revoked or expired grant puts the connection in "needs reconnect" with the
        reason (kept: the error is not raised, which would roll it back)."""
        try:
            return super()._cloud_check_one()
        except UserError as exc:
            if not (isinstance(exc.__cause__, ReauthRequired)
                    and self._cloud_oauth_enabled() and self.state != "draft"):
                raise
            self._cloud_pause(str(exc.__cause__), state="needs_reconnect")
            raise _NeedsReconnect(self, exc.__cause__) from exc

    def action_check_connection(self):
        try:
            return super().action_check_connection()
        except _NeedsReconnect as lost:
            return {"type": "ir.actions.client", "tag": "display_notification",
                    "params": {"type": "danger", "sticky": True,
                               "message": _("Reconnect “%s”: %s", lost.client.name,
                                            lost.reason)}}

    def _cloud_where(self, provider):
        where = super()._cloud_where(provider)
        if self.oauth_account:
            where.insert(0, _("account %s", self.oauth_account))
        return where

    # ---------------------------------------------------------------- the flow
    def _cloud_oauth_begin(self, session):
        """Consent URL for this client; the expected state goes into ``session``."""
        self.ensure_one()
        if not self.env.user.has_group(ADMIN):
            raise AccessError(_("Only cloud storage administrators connect accounts."))
        state = f"{self.id}.{secrets.token_urlsafe(24)}"
        try:
            url, data = self._cloud_oauth_start(self._cloud_oauth_redirect_uri(), state)
        except CloudError as exc:
            raise UserError(self._cloud_unreachable(exc) or _(
                "The provider refused to start the connect flow: %s", exc)) from exc
        except Exception as exc:
            if reason := self._cloud_unreachable(exc):
                raise UserError(reason) from exc
            raise
        sent = parse_qs(urlsplit(url).query).get("state", [state])[0]
        session[SESSION_KEY] = {"state": sent, "client_id": self.id, "data": data}
        return url

    def _cloud_oauth_refused(self, params):
        """The provider sent back an error instead of a code: say so on the form (in the
        alert that also shows why a sync paused) and in the chatter; tokens stay as they
        were."""
        provider = dict(self._fields["provider"]._description_selection(self.env)).get(
            self.provider, self.provider)
        error = params["error"]
        if error == "access_denied":
            reason = params.get("error_description") or _("the consent was declined.")
            message = _("Access was denied at %(provider)s: %(reason)s",
                        provider=provider, reason=reason)
        else:
            message = _("%(provider)s refused the connection: %(reason)s",
                        provider=provider, reason=params.get("error_description") or error)
        self._cloud_connect_failed(message)

    def _cloud_connect_failed(self, message):
        """Why connecting failed, on the form (the alert that also shows why a sync
        paused) and in the chatter, so it is still there after the error page."""
        self.sudo().write({"pause_reason": message})
        self.message_post(body=message)

    def _cloud_oauth_complete(self, params, session):
        """Check ``state`` against the session (single use), store the tokens, connect.

        Returns the client, connected or (the provider answered an ``error``, e.g. the
        user denied the consent) with the reason on its form; raises ``UserError`` when
        the request itself is not trusted.
        """
        pending = session.pop(SESSION_KEY, None)
        state = params.get("state") or ""
        if not pending or not secrets.compare_digest(str(pending["state"]), state):
            raise UserError(_("This connect request is unknown or was already used (state "
                              "mismatch). Start again from the connection's form."))
        client = self.browse(pending["client_id"]).exists()
        if not client:
            raise UserError(_("The connection no longer exists."))
        if not self.env.user.has_group(ADMIN):
            raise AccessError(_("Only cloud storage administrators connect accounts."))
        if params.get("error"):
            client._cloud_oauth_refused(params)
            return client
        try:
            tokens, account = client._cloud_oauth_finish(
                params, self._cloud_oauth_redirect_uri(), pending.get("data"))
        except CloudError as exc:
            raise ConnectFailed(client, client._cloud_unreachable(exc) or _(
                "The provider refused the code: %s", exc)) from exc
        except Exception as exc:
            if reason := client._cloud_unreachable(exc):
                raise ConnectFailed(client, reason) from exc
            raise
        client.sudo().write({"token_json": json.dumps(tokens), "oauth_account": account})
        client.with_context(clouds_oauth_done=True).action_connect()
        client.message_post(body=_("Connected as %s.", account or _("(unknown account)")))
        return client

    def _cloud_unreachable(self, exc):
        """What failed and what to check, in words, when ``exc`` (or what caused it) is a
        network, name or certificate failure on the way to the provider; else None."""
        seen = set()
        while exc is not None and id(exc) not in seen:
            seen.add(id(exc))
            text = str(exc)
            if isinstance(exc, ssl.SSLError) or "CERTIFICATE_VERIFY_FAILED" in text:
                return _(
                    "The provider's server certificate could not be verified (%(error)s). "
                    "Check the server addresses on “%(name)s” and, for a server signed by "
                    "your own authority, its CA bundle.", error=text, name=self.name)
            if (isinstance(exc, socket.gaierror) or type(exc).__name__ in (
                    "ServerNotFoundError", "NameResolutionError")
                    or "Name or service not known" in text or "nodename nor" in text):
                return _(
                    "The provider's server could not be found (%(error)s). Check the "
                    "spelling of the authority and token addresses on “%(name)s” and this "
                    "server's DNS.", error=text, name=self.name)
            if isinstance(exc, OSError):  # refused, reset, timed out (requests' too)
                return _(
                    "The provider's server could not be reached (%(error)s). Check the "
                    "authority and token addresses on “%(name)s”, and that this Odoo server "
                    "can reach them (network, firewall, proxy).", error=text, name=self.name)
            exc = exc.__cause__ or exc.__context__
        return None
