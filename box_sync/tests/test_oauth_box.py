"""Box connect flow through HTTP against the Box emulator, and rotating refresh tokens
shared by two workers."""

import json
import threading

from odoo.addons.cloud_base.tests.test_oauth_common import OAuthCase, OAuthFlowTests
from odoo.tests import tagged

from cloud_sync.emulators.box import BoxEmulator


@tagged("post_install", "-at_install")
class TestBoxOAuth(OAuthFlowTests, OAuthCase):
    provider_key = "box"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.emulator = BoxEmulator().start()
        cls.addClassCleanup(cls.emulator.stop)

    def client_vals(self):
        config = self.emulator.provider_config()
        return {"bx_client_id": config["client_id"], "bx_client_secret": config["client_secret"],
                "bx_api_url": config["api_url"], "bx_upload_url": config["upload_url"],
                "bx_oauth_url": config["oauth_url"], "bx_ca_bundle": config["ca_bundle"]}

    def deny(self, on):
        self.emulator.deny_consent = on

    def revoke(self):
        self.emulator.revoke_refresh_tokens()
        self.emulator.expire_access_tokens()

    def test_rotated_refresh_token_two_workers(self):
        """Two workers hit an expired access token at once: one spends the refresh token,
        the other adopts the pair it stored; the grant survives. (In an HttpCase both lock
        cursors are the test's one transaction, taking turns; test_rotation_box runs the
        same race on two real connections.)"""
        client = self.connect(self.make_client())
        first = json.loads(client.sudo().token_json)["refresh_token"]
        workers = [client._cloud_provider(), client._cloud_provider()]
        self.emulator.expire_access_tokens()
        barrier = threading.Barrier(2)
        errors = []

        def work(provider):
            try:
                barrier.wait(timeout=10)
                list(provider.list_children(provider.root_id))
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(p,)) for p in workers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        for provider in workers:
            provider.close()
        self.assertEqual(errors, [])
        client.invalidate_recordset()
        stored = json.loads(client.sudo().token_json)["refresh_token"]
        self.assertNotEqual(stored, first)
        self.assertEqual(self.emulator.spent_refresh_tokens & {first, stored}, {first})
        self.assertIn(stored, self.emulator.refresh_tokens)
        # both workers hold the stored pair: the next expiry costs one more rotation
        self.assertEqual({p.auth.token_storage.get().refresh_token for p in workers}, {stored})
        self.assertTrue(client.action_check_connection())

    def test_stale_worker_adopts_the_stored_pair(self):
        """A worker holding a refresh token another one already spent adopts the stored
        pair; spending it instead (the SDK's own refresh, unlocked) loses the grant."""
        from box_sdk_gen import BoxOAuth
        from box_sdk_gen.box.errors import BoxSDKError

        client = self.connect(self.make_client())
        config = client._cloud_config()
        first, second, stale = (client._cloud_make_provider(dict(config)) for _ in range(3))
        spent = first.auth.token_storage.get().refresh_token
        first.auth.refresh_token()
        self.assertIn(spent, self.emulator.spent_refresh_tokens)
        stored = json.loads(client.sudo().token_json)["refresh_token"]
        self.assertEqual(second.auth.refresh_token().refresh_token, stored)
        self.assertIn(stored, self.emulator.refresh_tokens)  # adopted, not spent
        with self.assertRaises(BoxSDKError):
            BoxOAuth.refresh_token(stale.auth, network_session=stale.network)
        for provider in (first, second, stale):
            provider.close()
