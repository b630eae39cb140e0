"""The "Choose drive" wizard against the Drive emulator: it lists My Drive and the
shared drives the account sees, and choosing one moves the root folder there."""

import json

from odoo.exceptions import UserError
from odoo.tests import TransactionCase, tagged

from cloud_sync.conformance.targets.google_drive import bare_service
from cloud_sync.emulators.google_drive import GoogleDriveEmulator


@tagged("post_install", "-at_install")
class TestDrivePicker(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.emulator = GoogleDriveEmulator().start()
        cls.addClassCleanup(cls.emulator.stop)
        cls.bare = bare_service(cls.emulator)
        cls.team = cls.emulator.create_shared_drive("Team Files")
        cls.emulator.create_shared_drive("Marketing")

    def make_client(self):
        config = self.emulator.provider_config()
        client = self.env["clouds.client"].create({
            "name": "Drive picker", "provider": "google_drive",
            "gd_client_id": config["client_id"], "gd_client_secret": config["client_secret"],
            "gd_api_url": config["api_url"], "gd_auth_uri": config["auth_uri"],
            "gd_token_uri": config["token_uri"], "gd_ca_bundle": config["ca_bundle"],
            "token_json": json.dumps({"refresh_token": config["refresh_token"]})})
        done = client.action_connect()
        self.assertIn("“Drive picker” is connected", done["params"]["message"])
        return client

    def open_wizard(self, client):
        action = client.action_choose_google_drive()
        return self.env[action["res_model"]].browse(action["res_id"])

    def test_lists_my_drive_and_shared_drives(self):
        wizard = self.open_wizard(self.make_client())
        self.assertEqual(sorted(wizard.line_ids.mapped("name")),
                         ["Marketing", "My Drive", "Team Files"])
        self.assertFalse(wizard.choice_id.drive_id, "My Drive is the current choice")
        team = wizard.line_ids.filtered(lambda line: line.name == "Team Files")
        self.assertEqual(team.drive_id, self.team)

    def test_choosing_a_shared_drive_moves_the_root_there(self):
        client = self.make_client()
        old_root = client.sudo().remote_root_id
        wizard = self.open_wizard(client)
        wizard.choice_id = wizard.line_ids.filtered(lambda line: line.drive_id == self.team)
        done = wizard.action_choose()
        # a notification says which drive and root folder; then the wizard closes
        self.assertEqual(done["tag"], "display_notification")
        self.assertIn("“Team Files”", done["params"]["message"])
        self.assertIn(f"root folder “{client.root_name}”", done["params"]["message"])
        self.assertEqual(done["params"]["next"], {"type": "ir.actions.act_window_close"})
        self.assertEqual(client.sudo().gd_drive_id, self.team)
        self.assertEqual(client.state, "connected")
        root = self.bare.files().get(fileId=client.sudo().remote_root_id,
                                     supportsAllDrives=True,
                                     fields="id,name,driveId,parents").execute()
        self.assertNotEqual(root["id"], old_root)
        self.assertEqual(root["driveId"], self.team)
        self.assertEqual(root["name"], client.root_name)
        # Back to My Drive: the first root folder is picked again, not a new one.
        wizard = self.open_wizard(client)
        self.assertEqual(wizard.choice_id.drive_id, self.team)
        wizard.choice_id = wizard.line_ids.filtered(lambda line: not line.drive_id)
        wizard.action_choose()
        self.assertFalse(client.sudo().gd_drive_id)
        self.assertEqual(client.sudo().remote_root_id, old_root)

    def test_synced_connection_keeps_its_drive(self):
        client = self.make_client()
        self.env["clouds.sync.record"].sudo().create({
            "client_id": client.id, "key": "f1", "remote_id": "x", "kind": "folder"})
        wizard = self.open_wizard(client)
        wizard.choice_id = wizard.line_ids.filtered(lambda line: line.drive_id == self.team)
        with self.assertRaisesRegex(UserError, "already synced"):
            wizard.action_choose()
        self.assertFalse(client.sudo().gd_drive_id)
