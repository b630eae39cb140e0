"""The "Choose drive" wizard against the Graph emulator: the user's drive, then the
libraries of the SharePoint sites a search finds (or of a typed site id or address);
choosing one moves the root folder into that library. App-only connections pick their
library before they connect."""

import json

from odoo.exceptions import UserError, ValidationError
from odoo.tests import TransactionCase, tagged

from cloud_sync.emulators.onedrive import SITE_ID, TENANT_ID, OneDriveEmulator

from .test_sync_onedrive import graph_session


@tagged("post_install", "-at_install")
class TestDrivePicker(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.emulator = emulator = OneDriveEmulator().start()
        cls.addClassCleanup(cls.emulator.stop)
        cls.config = emulator.provider_config(drive_type="business")
        cls.graph = graph_session(emulator, cls.config)
        cls.archive = next(d.id for d in emulator.drives.values() if d.name == "Archive")
        cls.eu = emulator.add_site("Marketing EU")
        cls.us = emulator.add_site("Marketing US")
        cls.campaigns = emulator.add_drive("documentLibrary", "Campaigns", site_id=cls.eu.id)
        emulator.add_drive("documentLibrary", "Assets", site_id=cls.eu.id)
        emulator.add_drive("documentLibrary", "Campaigns", site_id=cls.us.id)

    def endpoints(self):
        config = self.config
        return {"provider": "onedrive", "od_client_id": config["client_id"],
                "od_client_secret": config["client_secret"],
                "od_graph_url": config["graph_url"], "od_authority_url": config["authority_url"],
                "od_ca_bundle": config["ca_bundle"]}

    def make_client(self):
        config = self.config
        client = self.env["clouds.client"].create({
            **self.endpoints(), "name": "Library picker", "od_tenant": config["tenant"],
            "od_drive_type": "business",
            "token_json": json.dumps({"access_token": config["access_token"],
                                      "refresh_token": config["refresh_token"]})})
        client.action_connect()
        return client

    def open_wizard(self, client):
        action = client.action_choose_onedrive_drive()
        return self.env[action["res_model"]].browse(action["res_id"])

    def search(self, wizard, text):
        wizard.site_search = text
        wizard.action_search()
        return sorted(wizard.line_ids.mapped("name"))

    def line(self, wizard, name):
        return wizard.line_ids.filtered(lambda line: line.name == name)

    def item(self, drive_id, item_id):
        response = self.graph.get(f"{self.config['graph_url']}/drives/{drive_id}/items/"
                                  f"{item_id}", timeout=30)
        response.raise_for_status()
        return response.json()

    def test_search_lists_the_libraries_of_every_matching_site(self):
        wizard = self.open_wizard(self.make_client())
        self.assertEqual(wizard.line_ids.mapped("name"), ["My OneDrive"])
        self.assertEqual(wizard.choice_id, wizard.line_ids)
        self.assertEqual(self.search(wizard, "market"), [
            "Marketing EU / Assets", "Marketing EU / Campaigns", "Marketing US / Campaigns",
            "My OneDrive"])
        line = self.line(wizard, "Marketing EU / Campaigns")
        self.assertEqual((line.drive_type, line.drive_id, line.site_id),
                         ("sharepoint", self.campaigns.id, self.eu.id))
        self.assertEqual(self.search(wizard, "marketing us"),
                         ["Marketing US / Campaigns", "My OneDrive"])
        self.assertEqual(len(self.search(wizard, "*")), 6)  # Contoso's two libraries too

    def test_a_typed_site_id_or_address_lists_that_site(self):
        wizard = self.open_wizard(self.make_client())
        self.assertEqual(self.search(wizard, SITE_ID),
                         ["Contoso / Archive", "Contoso / Documents", "My OneDrive"])
        archive = self.line(wizard, "Contoso / Archive")
        self.assertEqual((archive.drive_type, archive.drive_id, archive.site_id),
                         ("sharepoint", self.archive, SITE_ID))
        address = "https://contoso.sharepoint.com/sites/MarketingUS/Shared%20Documents"
        self.assertEqual(self.search(wizard, address),
                         ["Marketing US / Campaigns", "My OneDrive"])
        self.assertEqual(self.line(wizard, "Marketing US / Campaigns").site_id, self.us.id)

    def test_no_match_and_graph_errors_are_clear(self):
        wizard = self.open_wizard(self.make_client())
        self.search(wizard, "market")
        with self.assertRaisesRegex(UserError, "No SharePoint site matches “finance”"):
            self.search(wizard, "finance")
        with self.assertRaisesRegex(UserError, "No SharePoint site at"):
            self.search(wizard, "contoso.sharepoint.com,no-such-site")
        self.emulator.faults.inject(403, match=r"^GET /v1\.0/sites\?")
        with self.assertRaisesRegex(UserError, "Cannot search SharePoint sites for “market”"):
            self.search(wizard, "market")
        self.assertEqual(len(wizard.line_ids), 4)  # the last good list is kept

    def test_many_matching_sites_are_capped_with_a_notice(self):
        for n in range(21):
            self.emulator.add_site(f"Project {n:02}")
        wizard = self.open_wizard(self.make_client())
        self.search(wizard, "project")  # those sites have no library yet
        self.assertIn("More than 20 sites match", wizard.notice)
        self.search(wizard, "marketing eu")
        self.assertFalse(wizard.notice)

    def test_a_vanished_site_still_opens_the_wizard(self):
        client = self.make_client()
        client.sudo().with_context(clouds_no_check=True).write(
            {"od_drive_type": "sharepoint", "od_site_id": "contoso.sharepoint.com,gone,gone"})
        wizard = self.open_wizard(client)
        self.assertIn("No SharePoint site at", wizard.notice)
        self.assertEqual(wizard.line_ids.mapped("name"), ["My OneDrive"])

    def test_choosing_a_library_moves_the_root_there(self):
        client = self.make_client()
        old_root = client.sudo().remote_root_id
        wizard = self.open_wizard(client)
        self.search(wizard, "contoso")
        wizard.choice_id = self.line(wizard, "Contoso / Archive")
        done = wizard.action_choose()
        self.assertIn("“Contoso / Archive”", done["params"]["message"])
        self.assertEqual(done["params"]["next"], {"type": "ir.actions.act_window_close"})
        me = client.sudo()
        self.assertEqual((me.od_drive_type, me.od_site_id, me.od_drive_id),
                         ("sharepoint", SITE_ID, self.archive))
        self.assertEqual(client.state, "connected")
        root = self.item(self.archive, me.remote_root_id)
        self.assertNotEqual(root["id"], old_root)
        self.assertEqual(root["name"], client.root_name)
        self.assertEqual(root["parentReference"]["driveId"], self.archive)
        # Opening again lists the current site (its id is in the box) with the choice set.
        again = self.open_wizard(client)
        self.assertEqual(again.site_search, SITE_ID)
        self.assertEqual(again.choice_id.name, "Contoso / Archive")

    def test_synced_connection_keeps_its_drive(self):
        client = self.make_client()
        self.env["clouds.sync.record"].sudo().create(
            {"client_id": client.id, "key": "f1", "remote_id": "x", "kind": "folder"})
        wizard = self.open_wizard(client)
        self.search(wizard, SITE_ID)
        wizard.choice_id = self.line(wizard, "Contoso / Archive")
        with self.assertRaisesRegex(UserError, "already synced"):
            wizard.action_choose()
        self.assertEqual(client.sudo().od_drive_type, "business")

    def test_app_only_connection_finds_its_library_before_connecting(self):
        """App-only access has no drive of its own: saving waits for a library, Connect
        says to choose one, and the wizard (open before connecting) searches with the
        application's token."""
        client = self.env["clouds.client"].create({
            **self.endpoints(), "name": "App-only picker", "od_tenant": TENANT_ID,
            "od_app_only": True, "od_drive_type": "sharepoint", "root_name": "App picked"})
        with self.assertRaisesRegex(UserError, "choose a SharePoint library"):
            client.action_connect()
        self.assertEqual(client.state, "draft")
        wizard = self.open_wizard(client)
        self.assertFalse(wizard.line_ids)  # no "My OneDrive" without a user
        self.assertEqual(self.search(wizard, "marketing eu"),
                         ["Marketing EU / Assets", "Marketing EU / Campaigns"])
        wizard.choice_id = self.line(wizard, "Marketing EU / Campaigns")
        wizard.action_choose()
        me = client.sudo()
        self.assertEqual(client.state, "connected")
        self.assertEqual((me.od_site_id, me.od_drive_id), (self.eu.id, self.campaigns.id))
        self.assertEqual(self.emulator.access_tokens[json.loads(me.token_json)["access_token"]],
                         "app")
        root = self.item(self.campaigns.id, me.remote_root_id)
        self.assertEqual(root["name"], "App picked")

    def test_app_only_needs_a_tenant(self):
        with self.assertRaisesRegex(ValidationError, "give its tenant"):
            self.env["clouds.client"].create({
                **self.endpoints(), "name": "App-only common", "od_tenant": "common",
                "od_app_only": True, "od_drive_type": "sharepoint"})

    def test_switching_to_app_only_drops_the_user_tokens(self):
        client = self.make_client()
        client.write({"od_tenant": TENANT_ID, "od_app_only": True, "od_drive_type": "sharepoint",
                      "od_site_id": SITE_ID})
        tokens = json.loads(client.sudo().token_json)  # stored again by the save-time check
        self.assertEqual(tokens["refresh_token"], "")
        self.assertEqual(self.emulator.access_tokens[tokens["access_token"]], "app")
