"""Shared scaffolding of the OAuth connect-flow tests of the SaaS provider addons.

Every step goes through HTTP: Odoo's start route (an ``HttpCase`` session), the
emulator's consent page (a plain ``requests`` call trusting the emulator's throwaway CA),
and Odoo's callback with whatever the consent page redirected to. An addon's test class
inherits :class:`OAuthFlowTests` and :class:`OAuthCase`, starts its emulator as
``cls.emulator`` and implements the three emulator switches below.
"""

import base64
import json
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import requests
from odoo.exceptions import AccessError
from odoo.tests import HttpCase

from cloud_sync.emulators.tls import ca_bundle

from .test_sync_common import FAST_RETRY

CALLBACK = "/cloud_base/oauth/callback"


class RealRequestsMixin:
    """Odoo's tests wrap ``requests`` (local hosts only) and compare ``timeout`` with a
    number; the Box SDK sends a (connect, read) pair. Keep the pair's longer value."""

    @classmethod
    def _request_handler(cls, s, r, **kw):
        if isinstance(kw.get("timeout"), tuple):
            kw["timeout"] = max(filter(None, kw["timeout"]), default=None)
        return super()._request_handler(s, r, **kw)


class OAuthCase(RealRequestsMixin, HttpCase):
    provider_key = None
    allow_inherited_tests_method = True  # the scenarios come from OAuthFlowTests

    def client_vals(self):
        """The connection's fields (app credentials and endpoints, no tokens)."""
        raise NotImplementedError

    def deny(self, on):
        raise NotImplementedError

    def revoke(self):
        """Revoke or expire every refresh grant and every access token."""
        raise NotImplementedError

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, clouds_retry_policy=FAST_RETRY))
        admin = cls.env.ref("base.user_admin")
        admin.groups_id = [(4, cls.env.ref("cloud_base.group_clouds_admin").id)]

    def setUp(self):
        super().setUp()
        self.env["ir.config_parameter"].sudo().set_param("web.base.url", self.base_url())
        self.authenticate("admin", "admin")

    def make_client(self, **vals):
        return self.env["clouds.client"].create({
            "name": f"{self.provider_key} oauth", "provider": self.provider_key,
            "root_name": f"Odoo {self._testMethodName}", **self.client_vals(), **vals})

    # ---------------------------------------------------------------- the three hops
    def consent(self, start_url):
        """Odoo's start route, then the provider's consent page: the callback URL."""
        response = self.url_open(start_url, allow_redirects=False)
        self.assertEqual(response.status_code, 303, response.text[:300])
        url = response.headers["Location"]
        page = requests.get(url, verify=ca_bundle(), allow_redirects=False, timeout=30)
        if page.status_code == 200:  # the consent page: press its "allow" button
            self.assertIn("name='consent' value='allow'", page.text)
            page = requests.get(url + "&consent=allow", verify=ca_bundle(),
                                allow_redirects=False, timeout=30)
        self.assertEqual(page.status_code, 302, page.text[:300])
        back = page.headers["Location"]
        self.assertTrue(back.startswith(self.base_url() + CALLBACK), back)
        return back

    def callback(self, url):
        response = self.url_open(url, allow_redirects=False, timeout=60)
        self.env.invalidate_all()
        return response

    def start_url(self, client, action):
        self.assertEqual(action["type"], "ir.actions.act_url", action)
        self.assertEqual(action["url"], f"/cloud_base/oauth/start/{client.id}")
        return action["url"]

    def connect(self, client, action=None):
        url = self.start_url(client, action or client.action_connect())
        response = self.callback(self.consent(url))
        self.assertEqual(response.status_code, 303, response.text[:500])
        self.assertEqual(client.state, "connected", client.pause_reason)
        return client

    def assertRefused(self, response, words):
        self.assertEqual(response.status_code, 400)
        self.assertIn(words, response.text)


class ConsentTourCase(OAuthCase):
    """A connect tour in Chromium through the emulator's consent page.

    Odoo's test browser answers every request outside ``http://127.0.0.1`` with
    :meth:`fetch_proxy` (Fetch domain of the DevTools protocol), so the emulator's https
    pages are fetched here, trusting its throwaway CA, and Chromium never checks a
    certificate. The tour runs on Odoo's pages only; on the consent page (no tour
    runner there) the button in ``self.decisions`` (``"allow"`` / ``"deny"``, one per
    consent page, in order) is pressed by a script added to the page served to the
    browser. The pages seen are kept in ``self.consent_pages``.
    """

    allow_inherited_tests_method = False

    def setUp(self):
        super().setUp()
        self.assertFalse(self.emulator.auto_consent)
        self.decisions, self.consent_pages = [], []

    def fetch_proxy(self, url):
        if not url.startswith(self.emulator.url + "/"):
            return super().fetch_proxy(url)
        answer = requests.get(url, verify=ca_bundle(), allow_redirects=False, timeout=30)
        body = answer.content
        if answer.status_code == 200 and b"name='consent'" in body:
            self.consent_pages.append(answer.text)
            if self.decisions:
                press = ("<script>document.querySelector('button[value=%s]').click()</script>"
                         % self.decisions.pop(0))
                body = body.replace(b"</body>", press.encode() + b"</body>")
        headers = [{"name": k, "value": v} for k, v in answer.headers.items()
                   if k.lower() in ("location", "content-type")]
        return {"body": base64.b64encode(body).decode(), "responseCode": answer.status_code,
                "responseHeaders": headers}

    def run_connect_tour(self, client, tour):
        """Deny, then allow: the tour checks the message, then the connected state."""
        self.decisions = ["deny", "allow"]
        self.start_tour(f"/odoo/action-cloud_base.action_clouds_clients/{client.id}", tour,
                        login="admin", timeout=180)
        self.env.invalidate_all()
        self.assertEqual(self.decisions, [])
        self.assertEqual(len(self.consent_pages), 2)
        self.assertIn(client.sudo()._cloud_provider_config()["client_id"],
                      self.consent_pages[0])
        self.assertEqual(client.state, "connected", client.pause_reason)
        self.assertFalse(client.pause_reason)
        self.assertTrue(json.loads(client.sudo().token_json).get("refresh_token"))


def with_state(url, state):
    """``url`` with its ``state`` query parameter replaced."""
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    query["state"] = state
    return urlunsplit(parts._replace(query=urlencode(query)))


class OAuthFlowTests:
    """The connect-flow scenarios every SaaS addon must pass (mixed into its test case)."""

    def test_connect_happy_path(self):
        client = self.make_client()
        self.assertEqual(client.state, "draft")
        self.connect(client)
        me = client.sudo()
        self.assertTrue(json.loads(me.token_json).get("refresh_token"))
        self.assertTrue(client.oauth_account)
        self.assertTrue(me.remote_root_id)
        self.assertEqual(me.database_uuid, client._database_uuid())
        self.assertTrue(any(client.oauth_account in (m.body or "") for m in client.message_ids))
        # the stored tokens work: the root folder is listed through the provider
        provider = client._cloud_provider()
        try:
            self.assertEqual(list(provider.list_children(provider.root_id)), [])
        finally:
            provider.close()

    def test_forged_and_replayed_state(self):
        client = self.make_client()
        back = self.consent(self.start_url(client, client.action_connect()))
        forged = self.callback(with_state(back, f"{client.id}.forged"))
        self.assertRefused(forged, "state mismatch")
        self.assertEqual(client.state, "draft")
        self.assertFalse(client.sudo().token_json)
        # the genuine answer after a forged one is refused too: a state is used once
        self.assertRefused(self.callback(back), "state mismatch")
        self.assertEqual(client.state, "draft")
        # a new flow connects; replaying its callback is refused
        back = self.consent(self.start_url(client, client.action_connect()))
        self.assertEqual(self.callback(back).status_code, 303)
        self.assertEqual(client.state, "connected")
        tokens = client.sudo().token_json
        self.assertRefused(self.callback(back), "state mismatch")
        self.assertEqual(client.sudo().token_json, tokens)

    def test_state_of_another_session_is_refused(self):
        client = self.make_client()
        back = self.consent(self.start_url(client, client.action_connect()))
        self.authenticate("admin", "admin")  # a new session: the state is not in it
        self.assertRefused(self.callback(back), "state mismatch")
        self.assertEqual(client.state, "draft")

    def test_denied_consent(self):
        client = self.make_client()
        self.deny(True)
        try:
            back = self.consent(self.start_url(client, client.action_connect()))
        finally:
            self.deny(False)
        self.assertIn("error=access_denied", back)
        response = self.callback(back)  # back to the form, which says why
        self.assertEqual(response.status_code, 303, response.text[:500])
        self.assertTrue(response.headers["Location"].endswith(f"/{client.id}"))
        self.assertIn("Access was denied at", client.pause_reason)
        self.assertTrue(any(client.pause_reason in (m.body or "") for m in client.message_ids))
        self.assertEqual(client.state, "draft")
        self.assertFalse(client.sudo().token_json)

    def test_other_provider_error_is_shown_on_the_form(self):
        client = self.make_client()
        back = self.consent(self.start_url(client, client.action_connect()))
        state = parse_qs(urlsplit(back).query)["state"][0]
        response = self.callback(f"{CALLBACK}?" + urlencode({
            "state": state, "error": "temporarily_unavailable",
            "error_description": "Try again later"}))
        self.assertEqual(response.status_code, 303, response.text[:500])
        label = dict(client._fields["provider"]._description_selection(self.env))[
            client.provider]
        self.assertEqual(client.pause_reason, f"{label} refused the connection: Try again later")
        self.assertEqual(client.state, "draft")
        self.assertFalse(client.sudo().token_json)

    def test_expired_grant_needs_reconnect_and_keeps_folders(self):
        client = self.connect(self.make_client())
        root_id = client.sudo().remote_root_id
        folder = self.env["clouds.folder"].create({"name": "Kept", "own_client_id": client.id})
        self.revoke()
        result = client.action_check_connection()
        self.assertEqual(result["params"]["type"], "danger")
        self.assertEqual(client.state, "needs_reconnect")
        self.assertTrue(client.pause_reason)
        self.assertTrue(any("Sync paused" in (m.body or "") for m in client.message_ids))
        self.connect(client, client.action_reconnect())
        self.assertFalse(client.pause_reason)
        self.assertEqual(client.sudo().remote_root_id, root_id)
        self.assertEqual(folder.own_client_id, client)
        self.assertTrue(client.action_check_connection())

    def test_credentials_are_for_administrators_only(self):
        client = self.make_client()
        user = self.env["res.users"].create({
            "name": "File manager", "login": f"fm_{self.provider_key}",
            "groups_id": [(6, 0, [self.env.ref("cloud_base.group_clouds_user").id])]})
        mine = client.with_user(user)
        self.assertEqual(mine.read(["name", "state"])[0]["state"], "draft")
        for field in [*self.client_vals(), "token_json", "remote_root"]:
            with self.assertRaises(AccessError, msg=field):
                mine.read([field])
        with self.assertRaises(AccessError):
            mine._cloud_oauth_begin({})

    def test_only_administrators_connect(self):
        client = self.make_client()
        self.authenticate("demo", "demo")
        response = self.url_open(f"/cloud_base/oauth/start/{client.id}",
                                 allow_redirects=False)
        self.assertIn(response.status_code, (403, 404))
