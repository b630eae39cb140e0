"""OneDrive connect flow (msal auth-code flow with PKCE) through HTTP against the Graph
and identity platform emulator."""

from odoo.addons.cloud_base.tests.test_oauth_common import (
    ConsentTourCase,
    OAuthCase,
    OAuthFlowTests,
)
from odoo.tests import tagged

from cloud_sync.emulators.onedrive import OneDriveEmulator


@tagged("post_install", "-at_install")
class TestOneDriveOAuth(OAuthFlowTests, OAuthCase):
    provider_key = "onedrive"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.emulator = OneDriveEmulator().start()
        cls.addClassCleanup(cls.emulator.stop)

    def client_vals(self):
        config = self.emulator.provider_config(drive_type="business")
        return {"od_client_id": config["client_id"], "od_client_secret": config["client_secret"],
                "od_tenant": config["tenant"], "od_drive_type": "business",
                "od_drive_id": config["drive_id"], "od_graph_url": config["graph_url"],
                "od_authority_url": config["authority_url"], "od_ca_bundle": config["ca_bundle"]}

    def deny(self, on):
        self.emulator.deny_consent = on

    def revoke(self):
        self.emulator.expire_refresh_tokens("revoked")
        self.emulator.expire_access_tokens()


@tagged("post_install", "-at_install")
class TestOneDriveConnectTour(ConsentTourCase):
    """Chromium: Connect → Microsoft's permissions page → Cancel → the form says access
    was denied (AADSTS65004) → Connect → Accept → connected, "Choose drive" offered."""

    provider_key = "onedrive"
    client_vals = TestOneDriveOAuth.client_vals

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.emulator = OneDriveEmulator().start()
        cls.addClassCleanup(cls.emulator.stop)

    def test_connect_tour(self):
        client = self.make_client()
        self.run_connect_tour(client, "onedrive_sync_connect")
        self.assertIn("Files.ReadWrite.All", self.consent_pages[0])
