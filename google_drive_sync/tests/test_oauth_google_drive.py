"""Google Drive connect flow through HTTP against the Drive emulator."""

from odoo.addons.cloud_base.tests.test_oauth_common import (
    ConsentTourCase,
    OAuthCase,
    OAuthFlowTests,
)
from odoo.tests import tagged

from cloud_sync.emulators.google_drive import GoogleDriveEmulator


@tagged("post_install", "-at_install")
class TestGoogleDriveOAuth(OAuthFlowTests, OAuthCase):
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

    def deny(self, on):
        self.emulator.deny = on

    def revoke(self):
        self.emulator.revoke_refresh_tokens()
        self.emulator.expire_access_tokens()


@tagged("post_install", "-at_install")
class TestGoogleDriveConnectTour(ConsentTourCase):
    """Chromium: Connect → Google's consent page → Cancel → the form says access was
    denied → Connect → Allow → connected."""

    provider_key = "google_drive"
    client_vals = TestGoogleDriveOAuth.client_vals

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.emulator = GoogleDriveEmulator().start()
        cls.addClassCleanup(cls.emulator.stop)

    def test_connect_tour(self):
        client = self.make_client()
        self.run_connect_tour(client, "google_drive_sync_connect")
        self.assertIn("https://www.googleapis.com/auth/drive", self.consent_pages[0])
