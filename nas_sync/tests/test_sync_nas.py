"""End to end against wsgidav: Odoo's folders become folders on the server's disk."""

import logging
import os
import tempfile

import requests
from odoo.addons.cloud_base.tests.test_sync_common import SyncCase, disk_tree
from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged
from odoo.tools import config

from cloud_sync.emulators.webdav import PASSWORD, USER, WsgiDAVEmulator

_logger = logging.getLogger(__name__)


class NasCase(SyncCase):
    """The sync helpers against a wsgidav server of the test class's own."""

    provider_key = "webdav"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.files = tempfile.mkdtemp(prefix="nas-sync-test-")
        cls.emulator = WsgiDAVEmulator(data_dir=cls.files).start()
        cls.addClassCleanup(cls.emulator.stop)

    def client_vals(self):
        return {"dav_url": self.emulator.url, "dav_login": USER, "dav_password": PASSWORD}

    def remote_files(self, client):
        return disk_tree(os.path.join(self.files, client.root_name))

    def put(self, client, path, data):
        answer = requests.put(f"{self.emulator.url}/{client.root_name}/{path}", data=data,
                              auth=(USER, PASSWORD), timeout=10)
        answer.raise_for_status()



@tagged("post_install", "-at_install")
class TestNasSync(NasCase):
    def test_round_trip_on_disk(self):
        self.round_trip()

    def test_open_in_cloud_opens_the_item_on_the_server(self):
        """WebDAV has no sharing links: the item's address, for users who sign in."""
        client = self.make_client(root_name="Links")  # its own remote root
        file, folder, reader, editor = self.link_setup(client)
        url = self.open_in_cloud(file, editor)
        self.assertEqual(self.open_in_cloud(file, reader), url)
        session = requests.Session()
        session.auth = (USER, PASSWORD)
        self.assertEqual(self.follow(url, session).content, file.raw)
        self.assertEqual(requests.get(url, timeout=10).status_code, 401)
        with self.assertRaises(AccessError):  # a File Manager user's folder, forged
            self.Folder.with_user(editor).create(
                {"name": "forged", "clouds_remote_id": folder.clouds_remote_id})
        self.assertLinksRefused(file, folder, reader)
    def test_converges_under_random_faults(self):
        self.assertConvergesUnderFaults(kinds=("429", "503", "500", "timeout"))  # basic auth

    def test_folder_tasks_longest_unchecked_first(self):
        self.assertFolderTasksInCheckOrder()

    def test_two_workers_share_folder_tasks(self):
        self.assertWorkersShareFolderTasks()

    def test_change_feed_state_lives_in_the_filestore(self):
        client = self.make_client(root_name="state in the filestore")
        self.make_tree(client)
        self.sync()
        state = client._dav_state_dir()
        self.assertTrue(state.startswith(config.filestore(self.env.cr.dbname)))
        snapshots = [name for _dir, _subdirs, names in os.walk(state) for name in names]
        self.assertTrue(client.cursor and snapshots, "the cursor's snapshot is not there")
        self.assertIn(client.cursor.rsplit(".", 1)[1] + ".json.gz", snapshots)

    def test_steady_state_does_not_grow_with_the_tree(self):
        figures = self.assertSteadyStateScales(sizes=(200, 2000))
        _logger.info("no-change cycle (files, queries, requests): %s", figures)

    def test_a_failed_poll_keeps_the_cursor(self):
        self.assertFailedPollKeepsTheCursor()

    def test_conflict_keeps_the_remote_version_as_a_new_file(self):
        """Edited on both sides: Odoo's version wins, the cloud's comes back (streamed
        into the filestore) as a new file beside it, then both are synced."""
        client = self.make_client(root_name="Conflict")
        folder = self.Folder.create({"name": "Docs", "own_client_id": client.id})
        att = self.Attachment.create({"name": "a.txt", "raw": b"first version",
                                      "clouds_folder_id": folder.id})
        self.sync()
        self.put(client, "Docs/a.txt", b"edited in the cloud, longer")
        att.raw = b"edited in Odoo"
        self.sync()
        copy = self.Attachment.search([("clouds_folder_id", "=", folder.id),
                                       ("id", "!=", att.id)])
        self.assertEqual(len(copy), 1)
        self.assertEqual(copy.raw, b"edited in the cloud, longer")
        self.assertEqual(copy.file_size, len(copy.raw))
        self.assertTrue(copy.store_fname)
        self.assertEqual(copy.mimetype, "text/plain")
        self.assertEqual(att.raw, b"edited in Odoo")
        self.sync()
        self.assertTreesEqual(client)

    def test_wrong_password_is_a_clear_error(self):
        with self.assertRaises(UserError):
            self.env["clouds.client"].create({
                "name": "wrong", "provider": "webdav",
                **dict(self.client_vals(), dav_password="nope")})
