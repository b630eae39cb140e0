"""Dropbox connect flow (the SDK's web flow, offline tokens) through HTTP against the
Dropbox emulator."""

from odoo.addons.cloud_base.tests.test_oauth_common import OAuthCase, OAuthFlowTests
from odoo.tests import tagged

from cloud_sync.emulators.dropbox import DropboxEmulator


@tagged("post_install", "-at_install")
class TestDropboxOAuth(OAuthFlowTests, OAuthCase):
    provider_key = "dropbox"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.emulator = DropboxEmulator().start()
        cls.addClassCleanup(cls.emulator.stop)

    def client_vals(self):
        config = self.emulator.provider_config()
        return {"db_app_key": config["app_key"], "db_app_secret": config["app_secret"],
                "db_host": config["api_host"], "db_ca_bundle": config["ca_bundle"]}

    def deny(self, on):
        self.emulator.deny = on

    def revoke(self):
        self.emulator.revoke_refresh_tokens()
        self.emulator.expire_access_tokens()
