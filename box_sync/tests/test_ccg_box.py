"""A Box connection on the client credentials grant, end to end against the Box emulator:
it connects without a consent page, syncs both ways through the crons (events feed),
renews an expired access token with a new grant and comes back whole on reset."""

from odoo.exceptions import UserError
from odoo.tests import tagged

from .test_sync_box import BoxSyncCase

ENTERPRISE = "4242"


@tagged("post_install", "-at_install")
class TestBoxCCGSync(BoxSyncCase):
    def client_vals(self):
        config = self.emulator.provider_config()
        return {"bx_auth": "ccg", "bx_enterprise_id": ENTERPRISE,
                "bx_client_id": config["client_id"], "bx_client_secret": config["client_secret"],
                "bx_api_url": config["api_url"], "bx_upload_url": config["upload_url"],
                "bx_oauth_url": config["oauth_url"], "bx_ca_bundle": config["ca_bundle"]}

    def grants_since(self, start):
        return set(self.emulator.grants[start:])

    def test_connects_without_consent_page(self):
        start = len(self.emulator.grants)
        client = self.env["clouds.client"].create({
            "name": "Box CCG", "provider": "box", "root_name": "Odoo CCG", **self.client_vals()})
        action = client.action_connect()  # a notification, no consent page
        self.assertEqual((action["type"], action["params"]["type"]),
                         ("ir.actions.client", "success"))
        self.assertEqual(client.state, "connected")
        me = client.sudo()
        self.assertTrue(me.remote_root_id)
        self.assertFalse(me.token_json)  # nothing to store: every token comes from a grant
        self.assertEqual(self.grants_since(start),
                         {("client_credentials", f"enterprise:{ENTERPRISE}")})
        root = [e for e in self.entries("0") if e.name == "Odoo CCG"]
        self.assertEqual([f"folder:{e.id}" for e in root], [me.remote_root_id])

    def test_direct_backward_through_events_and_reverse(self):
        start = len(self.emulator.grants)
        client = self.round_trip()
        self.assertEqual(client.state, "draft")
        self.assertEqual({g for g, _s in self.grants_since(start)}, {"client_credentials"})

    def test_expired_access_token_takes_a_new_grant(self):
        client = self.make_client(root_name="Odoo CCG expiry")
        self.make_tree(client)
        self.assertSyncOps(self.sync(), 11)
        start = len(self.emulator.grants)
        self.emulator.expire_access_tokens()
        self.bare = self.bare_client(self.emulator.issue_tokens()["access_token"])
        self.put(client, "Projects/late.txt", b"after expiry")
        self.assertSyncOps(self.sync(), 1)
        self.assertEqual(self.grants_since(start),
                         {("client_credentials", f"enterprise:{ENTERPRISE}")})
        self.assertTreesEqual(client)
        self.assertEqual(client.state, "connected")
        self.assertFalse(client.sudo().token_json)

    def test_wrong_secret_is_refused_and_nothing_changes(self):
        client = self.make_client(root_name="Odoo CCG secret")
        with self.assertRaises(UserError) as caught:
            client.sudo().write({"bx_client_secret": "not the secret"})
        self.assertIn("does not work", str(caught.exception))
        self.assertIn("invalid_client", str(caught.exception))
        self.env.invalidate_all()
        self.assertEqual(client.sudo().bx_client_secret, self.client_vals()["bx_client_secret"])
        self.assertEqual(client.state, "connected")
