"""A mistyped or unreachable authority address fails at the start of the connect flow
(msal asks the authority for its configuration): a readable page, not a server error."""

from odoo.addons.cloud_base.tests.test_oauth_common import OAuthCase
from odoo.tests import tagged

from cloud_sync.emulators.onedrive import OneDriveEmulator


@tagged("post_install", "-at_install")
class TestOneDriveConnectErrors(OAuthCase):
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

    def test_unreachable_authority_at_start(self):
        client = self.make_client(od_authority_url="https://127.0.0.1:9")
        self.assertTrue(client.oauth_redirect_uri)
        response = self.url_open(self.start_url(client, client.action_connect()),
                                 allow_redirects=False)
        self.assertEqual(response.status_code, 400, response.text[:500])
        self.assertIn("could not be reached", response.text)
        self.assertEqual(client.state, "draft")

    def test_mistyped_authority_path_at_start(self):
        authority = self.client_vals()["od_authority_url"].rstrip("/") + "/no-such-path"
        client = self.make_client(od_authority_url=authority)
        response = self.url_open(self.start_url(client, client.action_connect()),
                                 allow_redirects=False)
        self.assertEqual(response.status_code, 400, response.text[:500])
        self.assertIn("did not answer as a Microsoft identity platform", response.text)
        self.assertIn("refused to start the connect flow", response.text)
