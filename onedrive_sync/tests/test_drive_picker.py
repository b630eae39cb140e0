"""The "Choose drive" wizard against the Graph emulator: the user's drive, then a
SharePoint site's libraries; choosing one moves the root folder into that library."""

import json

from odoo.exceptions import UserError
from odoo.tests import TransactionCase, tagged

from cloud_sync.emulators.onedrive import SITE_ID, OneDriveEmulator

from .test_sync_onedrive import graph_session


@tagged("post_install", "-at_install")
class TestDrivePicker(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.emulator = OneDriveEmulator().start()
        cls.addClassCleanup(cls.emulator.stop)
        cls.config = cls.emulator.provider_config(drive_type="business")
        cls.graph = graph_session(cls.emulator, cls.config)
        cls.archive = next(d.id for d in cls.emulator.drives.values() if d.name == "Archive")

    def make_client(self):
        config = self.config
        client = self.env["clouds.client"].create({
            "name": "Library picker", "provider": "onedrive",
            "od_client_id": config["client_id"], "od_client_secret": config["client_secret"],
            "od_tenant": config["tenant"], "od_drive_type": "business",
            "od_graph_url": config["graph_url"], "od_authority_url": config["authority_url"],
            "od_ca_bundle": config["ca_bundle"],
            "token_json": json.dumps({"access_token": config["access_token"],
                                      "refresh_token": config["refresh_token"]})})
        client.action_connect()
        return client

    def open_wizard(self, client):
        action = client.action_choose_onedrive_drive()
        return self.env[action["res_model"]].browse(action["res_id"])

    def item(self, drive_id, item_id):
        response = self.graph.get(f"{self.config['graph_url']}/drives/{drive_id}/items/"
                                  f"{item_id}", timeout=30)
        response.raise_for_status()
        return response.json()

    def test_lists_the_user_drive_then_the_site_libraries(self):
        wizard = self.open_wizard(self.make_client())
        self.assertEqual(wizard.line_ids.mapped("name"), ["My OneDrive"])
        self.assertEqual(wizard.choice_id, wizard.line_ids)
        wizard.site_id = SITE_ID
        wizard.action_list_libraries()
        self.assertEqual(sorted(wizard.line_ids.mapped("name")),
                         ["Archive", "Documents", "My OneDrive"])
        archive = wizard.line_ids.filtered(lambda line: line.name == "Archive")
        self.assertEqual((archive.drive_type, archive.drive_id, archive.site_id),
                         ("sharepoint", self.archive, SITE_ID))

    def test_unknown_site_is_a_clear_error(self):
        wizard = self.open_wizard(self.make_client())
        wizard.site_id = "contoso.sharepoint.com,no-such-site"
        with self.assertRaisesRegex(UserError, "Cannot list the libraries"):
            wizard.action_list_libraries()

    def test_choosing_a_library_moves_the_root_there(self):
        client = self.make_client()
        old_root = client.sudo().remote_root_id
        wizard = self.open_wizard(client)
        wizard.site_id = SITE_ID
        wizard.action_list_libraries()
        wizard.choice_id = wizard.line_ids.filtered(lambda line: line.name == "Archive")
        wizard.action_choose()
        me = client.sudo()
        self.assertEqual((me.od_drive_type, me.od_site_id, me.od_drive_id),
                         ("sharepoint", SITE_ID, self.archive))
        self.assertEqual(client.state, "connected")
        root = self.item(self.archive, me.remote_root_id)
        self.assertNotEqual(root["id"], old_root)
        self.assertEqual(root["name"], client.root_name)
        self.assertEqual(root["parentReference"]["driveId"], self.archive)
        # The current choice is preselected when the wizard opens again.
        self.assertEqual(self.open_wizard(client).choice_id.drive_id, self.archive)

    def test_synced_connection_keeps_its_drive(self):
        client = self.make_client()
        self.env["clouds.sync.record"].sudo().create(
            {"client_id": client.id, "key": "f1", "remote_id": "x", "kind": "folder"})
        wizard = self.open_wizard(client)
        wizard.site_id = SITE_ID
        wizard.action_list_libraries()
        wizard.choice_id = wizard.line_ids.filtered(lambda line: line.name == "Archive")
        with self.assertRaisesRegex(UserError, "already synced"):
            wizard.action_choose()
        self.assertEqual(client.sudo().od_drive_type, "business")
