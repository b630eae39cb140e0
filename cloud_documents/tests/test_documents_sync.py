"""Documents folders synced with a WebDAV server (wsgidav, as nas_sync's own tests):
both directions, shortcuts not duplicated, the trash not synced, cloud-only files still
downloadable through the document. Needs ``nas_sync`` installed (``make test`` installs
every addon; alone: ``tools/odoo_tests.py --addons cloud_documents,nas_sync``)."""

import unittest

import requests
from odoo import Command
from odoo.addons.nas_sync.tests.test_sync_nas import NasCase
from odoo.tests import HttpCase, tagged

from cloud_sync.emulators.webdav import PASSWORD, USER

from .common import DOCUMENT, DocumentsCase


@tagged("post_install", "-at_install")
class TestDocumentsSync(HttpCase, NasCase, DocumentsCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        installed = cls.env["ir.module.module"].search(
            [("name", "=", "nas_sync"), ("state", "=", "installed")])
        if not installed:
            raise unittest.SkipTest("nas_sync is not installed: run with --addons "
                                    "cloud_documents,nas_sync")

    def setUp(self):
        super().setUp()
        self.client = self.make_client(root_name=self._testMethodName)
        self.rule = self.make_rule(client_id=self.client.id)
        self.apply()

    def remote(self):
        return self.remote_files(self.client)

    def mkdir(self, path):
        answer = requests.request("MKCOL", f"{self.emulator.url}/{self.client.root_name}/"
                                  f"{path}", auth=(USER, PASSWORD), timeout=10)
        answer.raise_for_status()

    def test_both_directions(self):
        self.sync()
        remote = self.remote()
        self.assertEqual(remote["Documents/Internal/handbook.txt"], b"rules")
        self.assertEqual(remote["Documents/Internal/HR/contract.txt"], b"signed")
        self.assertIn("Documents/Internal/HR/Payroll", remote)
        self.assertFalse([p for p in remote if "Public" in p or "brochure" in p])
        self.assertTreesEqual(self.client)
        # Documents to the cloud: a new file and a new folder in Documents
        reviews = self.make_folder("Reviews", self.hr)
        self.make_file("memo.txt", b"memo", self.payroll)
        self.apply(full=False)
        self.sync()
        remote = self.remote()
        self.assertEqual(remote["Documents/Internal/HR/Payroll/memo.txt"], b"memo")
        self.assertIn("Documents/Internal/HR/Reviews", remote)
        # the cloud to Documents: a file and a folder made on the server
        self.put(self.client, "Documents/Internal/HR/Reviews/remote.txt", b"from the NAS")
        self.mkdir("Documents/Internal/HR/Trips")
        self.put(self.client, "Documents/Internal/HR/Trips/paris.txt", b"tickets")
        self.sync()
        self.env.invalidate_all()
        made = self.Document.search([("name", "=", "remote.txt")])
        self.assertEqual((made.type, made.folder_id), ("binary", reviews))
        self.assertEqual(made.attachment_id.raw, b"from the NAS")
        self.assertEqual((made.attachment_id.res_model, made.attachment_id.res_id),
                         (DOCUMENT, made.id))
        trips = self.Document.search([("name", "=", "Trips")])
        self.assertEqual((trips.type, trips.folder_id), ("folder", self.hr))
        paris = self.Document.search([("name", "=", "paris.txt")])
        self.assertEqual(paris.folder_id, trips)
        # the rule keeps the cloud's folder (no second "Trips"), and all is quiet
        self.apply()
        self.assertEqual(len(self.Folder.search([("name", "ilike", "Trips")])), 1)
        self.assertSyncOps(self.sync(), 0)
        self.assertTreesEqual(self.client)

    def test_documents_made_from_the_cloud_are_shared_as_their_folder(self):
        """A file and a folder made on the server become documents shared as their
        Documents folder: its internal and link access, and its members' roles (with
        their expiry); nobody gains a role the folder does not give."""
        ann = self.env["res.partner"].create({"name": "Ann"})
        bob = self.env["res.partner"].create({"name": "Bob"})
        until = "2030-01-01 00:00:00"
        self.hr.write({"access_internal": "none", "access_via_link": "view", "access_ids": [
            Command.create({"partner_id": ann.id, "role": "edit"}),
            Command.create({"partner_id": bob.id, "role": "view", "expiration_date": until}),
        ]})
        self.sync()
        self.mkdir("Documents/Internal/HR/Audit")
        self.put(self.client, "Documents/Internal/HR/Audit/report.txt", b"audit")
        self.put(self.client, "Documents/Internal/HR/offer.txt", b"offer")
        self.sync()
        self.env.invalidate_all()
        audit = self.Document.search([("name", "=", "Audit")])
        report = self.Document.search([("name", "=", "report.txt")])
        offer = self.Document.search([("name", "=", "offer.txt")])
        self.assertEqual((audit.folder_id, report.folder_id, offer.folder_id),
                         (self.hr, audit, self.hr))
        for document in audit | report | offer:
            self.assertEqual((document.access_internal, document.access_via_link),
                             ("none", "view"), document.name)
            self.assertEqual(
                sorted((a.partner_id.name, a.role, str(a.expiration_date or ""))
                       for a in document.access_ids),
                [("Ann", "edit", ""), ("Bob", "view", until)], document.name)

    def test_shortcuts_and_trash_stay_out_of_the_cloud(self):
        self.make_folder("Public (shortcut)", self.hr, shortcut_document_id=self.public.id)
        self.Document.create({"name": "brochure shortcut", "type": "binary",
                              "folder_id": self.hr.id,
                              "shortcut_document_id": self.brochure.id})
        self.apply()
        self.sync()
        remote = self.remote()
        self.assertFalse([p for p in remote if "Public" in p or "brochure" in p], remote)
        self.assertIn("Documents/Internal/HR/contract.txt", remote)
        # trashed in Documents: gone from the cloud, its bytes back in Odoo first
        self.contract.action_archive()
        self.sync()
        self.env.invalidate_all()
        self.assertNotIn("Documents/Internal/HR/contract.txt", self.remote())
        self.assertEqual(self.contract.attachment_id.raw, b"signed")
        # restored: synced again
        self.contract.action_unarchive()
        self.sync()
        self.assertEqual(self.remote()["Documents/Internal/HR/contract.txt"], b"signed")

    def test_cloud_only_file_downloads_through_the_document(self):
        self.sync()
        self.put(self.client, "Documents/Internal/HR/scan.pdf", b"%PDF-1.4 remote scan")
        self.sync()
        self.sync()
        self.env.invalidate_all()
        scan = self.Document.search([("name", "=", "scan.pdf")])
        att = scan.attachment_id
        self.assertTrue(att._clouds_link_only(), "bytes only in the cloud")
        self.assertEqual(scan.folder_id, self.hr)
        self.authenticate("admin", "admin")
        for url in (f"/web/content/{att.id}", f"/web/content/{DOCUMENT}/{scan.id}/raw",
                    f"/web/content/{DOCUMENT}/{scan.id}/datas?download=true"):
            response = self.url_open(url)
            self.assertEqual(response.status_code, 200, url)
            self.assertEqual(response.content, b"%PDF-1.4 remote scan", url)
