"""Connecting when the provider cannot be reached: the redirect URI the console needs,
and readable pages (not "Internal Server Error") when the token address is closed,
misspelled, or answers with a certificate this server does not trust."""

import certifi
from markupsafe import escape
from odoo.addons.cloud_base.tests.test_oauth_common import CALLBACK, OAuthCase
from odoo.tests import Form, tagged

from cloud_sync.emulators.google_drive import GoogleDriveEmulator


@tagged("post_install", "-at_install")
class TestGoogleDriveConnectErrors(OAuthCase):
    provider_key = "google_drive"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.emulator = GoogleDriveEmulator().start()
        cls.addClassCleanup(cls.emulator.stop)

    def client_vals(self):
        config = self.emulator.provider_config()
        return {"gd_client_id": config["client_id"], "gd_client_secret": config["client_secret"],
                "gd_api_url": config["api_url"], "gd_auth_uri": config["auth_uri"],
                "gd_token_uri": config["token_uri"], "gd_ca_bundle": config["ca_bundle"]}

    def test_redirect_uri_shown_for_oauth_only(self):
        client = self.make_client()
        self.assertTrue(client.oauth_enabled)
        self.assertEqual(client.oauth_redirect_uri, self.base_url() + CALLBACK)
        with Form(client) as form:  # the form loads with the copyable field
            self.assertEqual(form.oauth_redirect_uri, self.base_url() + CALLBACK)
        arch = self.env["clouds.client"].get_view(view_type="form")["arch"]
        self.assertIn('widget="CopyClipboardChar"', arch)
        client.sudo().with_context(clouds_no_check=True).gd_auth = "service_account"
        self.assertFalse(client.oauth_enabled)
        self.assertFalse(client.oauth_redirect_uri)

    def refused_callback(self, **broken):
        """Consent with a working connection, then break it and come back."""
        client = self.make_client()
        back = self.consent(self.start_url(client, client.action_connect()))
        client.sudo().write(broken)
        response = self.callback(back)
        self.assertEqual(response.status_code, 400, response.text[:500])
        self.assertNotIn("Internal Server Error", response.text)
        self.assertEqual(client.state, "draft")
        self.assertFalse(client.sudo().token_json)
        # kept on the connection: its form's alert and its chatter
        reason = client.sudo().pause_reason
        self.assertTrue(reason)
        self.assertIn(str(escape(reason)), response.text)
        self.assertIn(reason, client.message_ids[0].body)
        return response.text

    def test_closed_port(self):
        text = self.refused_callback(gd_token_uri="https://127.0.0.1:9/token")
        self.assertIn("could not be reached", text)
        self.assertIn("token addresses", text)

    def test_misspelled_host(self):
        text = self.refused_callback(gd_token_uri="https://no-such-host.invalid/token")
        self.assertIn("could not be found", text)
        self.assertIn("spelling", text)

    def test_untrusted_certificate(self):
        text = self.refused_callback(gd_ca_bundle=certifi.where())
        self.assertIn("certificate could not be verified", text)
        self.assertIn("CA bundle", text)
