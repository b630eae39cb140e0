"""A Drive connection on a service account key (JWT-bearer grant, domain-wide delegation),
end to end against the Drive emulator, which checks each assertion's signature against
the key registered for the account: no consent page, the crons sync both ways, reset
brings everything back, and a refused key pauses the connection with nothing lost."""

import json

from odoo.exceptions import UserError
from odoo.tests import tagged

from cloud_sync.conformance.targets.google_drive import bare_service

from .test_sync_google_drive import GoogleDriveSyncCase

ACCOUNT = "odoo-sync@project.iam.gserviceaccount.com"
SUBJECT = "files@example.com"


@tagged("post_install", "-at_install")
class TestGoogleDriveServiceAccount(GoogleDriveSyncCase):
    def setUp(self):
        super().setUp()
        self.key = self.emulator.service_account_key(ACCOUNT, delegated=True)  # replaces any

    def client_vals(self):
        config = self.emulator.provider_config()
        return {"gd_auth": "service_account", "gd_service_account": json.dumps(self.key),
                "gd_subject": SUBJECT, "gd_api_url": config["api_url"],
                "gd_token_uri": config["token_uri"], "gd_ca_bundle": config["ca_bundle"]}

    def test_connects_without_consent_page(self):
        start = len(self.emulator.grants)
        client = self.env["clouds.client"].create({
            "name": "Drive service account", "provider": "google_drive",
            "root_name": "Odoo SA", **self.client_vals()})
        action = client.action_connect()  # a notification, no consent page
        self.assertEqual((action["type"], action["params"]["type"]),
                         ("ir.actions.client", "success"))
        self.assertEqual(client.state, "connected")
        self.assertFalse(client.sudo().token_json)  # the key is the credential
        self.assertEqual(self.children(client.sudo().remote_root_id), [])
        self.assertEqual(set(self.emulator.grants[start:]), {(ACCOUNT, SUBJECT)})

    def test_direct_backward_through_changes_and_reverse(self):
        start = len(self.emulator.grants)
        client = self.round_trip()
        self.assertEqual(client.state, "draft")
        self.assertEqual(set(self.emulator.grants[start:]), {(ACCOUNT, SUBJECT)})

    def test_steady_cycles_take_no_new_grant(self):
        """The worker's provider keeps its token: a cycle with nothing to do costs the
        change poll alone, no grant and no write of the connection."""
        client = self.make_client(root_name="Odoo SA steady")
        self.make_tree(client)
        self.assertSyncOps(self.sync(), 11)
        start = len(self.emulator.grants)
        for _cycle in range(3):
            self.assertSteadyCalls()
        self.assertEqual(self.emulator.grants[start:], [])
        self.assertFalse(client.sudo().token_json)

    def test_refused_key_pauses_with_nothing_lost(self):
        """A wrong key is refused on save; a key revoked at Google pauses the connection
        with a translated reason; the new key resumes it and nothing was lost."""
        client = self.make_client(root_name="Odoo SA key")
        _rule, _people, projects = self.make_tree(client)
        self.assertSyncOps(self.sync(), 11)
        self.env.invalidate_all()  # sync records are inserted in SQL
        remote = self.remote_hashes(client)
        local = self.local_files(client)
        records = client.record_ids
        self.assertEqual(len(records), 11)
        # a key of the right account that Google does not know: refused on save, kept
        wrong = self.emulator.service_account_key(ACCOUNT, register=False)
        for bad, words in ((json.dumps(wrong), "Invalid JWT Signature"),
                           ("{not json", "not valid JSON")):
            with self.assertRaises(UserError) as caught:
                client.write({"gd_service_account": bad})
            self.assertIn(words, str(caught.exception))
            self.env.invalidate_all()
            self.assertEqual(json.loads(client.sudo().gd_service_account), self.key)
        # the key is revoked at Google (a new one made in the console): the cron pauses
        new_key = self.emulator.service_account_key(ACCOUNT, delegated=True)
        self.emulator.expire_access_tokens()
        self.Attachment.create({"name": "waiting.txt", "clouds_folder_id": projects.id,
                                "raw": b"made while paused"})
        logs = self.sync()
        self.assertEqual(logs.mapped("level"), ["error"])
        self.assertEqual(client.state, "needs_reconnect")
        self.assertEqual(client.pause_reason, (
            "Google refused the service account (Google refused the grant: invalid_grant: "
            "Invalid JWT Signature.). Paste a valid key (JSON) of an account that can reach "
            "the drive (with domain-wide delegation when it impersonates a user), then click "
            "Reconnect."))
        self.assertTrue(any("Sync paused" in (m.body or "") for m in client.message_ids))
        self.assertEqual(self.sync(), self.env["clouds.log"])  # paused: nothing runs
        self.bare = bare_service(self.emulator)  # its token expired too
        self.assertEqual(self.remote_hashes(client), remote)
        self.env.invalidate_all()
        self.assertEqual(client.record_ids, records)
        waiting = self.Attachment.search([("name", "=", "waiting.txt")])
        self.assertEqual(waiting.raw, b"made while paused")
        self.assertLessEqual(local.items(), self.local_files(client).items())
        # the administrator pastes the new key and reconnects: the sync resumes
        client.write({"gd_service_account": json.dumps(new_key)})
        self.assertIs(client.action_reconnect(), True)
        self.assertEqual((client.state, client.pause_reason), ("connected", False))
        self.assertSyncOps(self.sync(), 1)
        self.assertTreesEqual(client)
