"""End to end against wsgidav: Odoo's folders become folders on the server's disk."""

import logging
import os
import shutil
import tempfile

import requests
from odoo.addons.cloud_base.models.clouds_sync_executor import VERIFY_PARAM
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

    def test_a_cycle_plans_only_what_its_changes_touch(self):
        """Changes on both sides (edits, a conflict, a rename, new and deleted files, a
        folder deleted remotely): the run plans from them exactly what the whole tree
        plans, then both trees are equal."""
        client = self.make_client(root_name="Scoped")
        _rule, people, projects = self.make_tree(client)
        old = self.Folder.create({"name": "Old", "parent_id": projects.id})
        self.Attachment.create({"name": "old.txt", "clouds_folder_id": old.id, "raw": b"old"})
        gone = self.Folder.create({"name": "Gone", "parent_id": projects.id})
        deeper = self.Folder.create({"name": "Deeper", "parent_id": gone.id})
        kept = self.Attachment.create({"name": "kept.txt", "clouds_folder_id": deeper.id,
                                       "raw": b"kept in Odoo"})
        self.sync()
        self.assertSyncOps(self.sync(), 0)
        plan_bin = self.Attachment.search([("name", "=", "plan.bin")])
        plan_bin.raw = b"edited in Odoo"
        plan_bin.clouds_folder_id.name = "Alpha renamed"
        self.Attachment.create({"name": "new.txt", "clouds_folder_id": projects.id,
                                "raw": b"new in Odoo"})
        self.Attachment.search([("name", "=", "Ann doc 0.txt")]).unlink()
        gone.action_archive()  # its files stay in Odoo, unmarked; the cloud's copy goes
        self.put(client, "Projects/Alpha/plan.bin", b"edited in the cloud")
        self.put(client, "Projects/notes.md", b"notes edited in the cloud")
        self.put(client, "Projects/remote.txt", b"made in the cloud")
        root = os.path.join(self.files, client.root_name)
        bob = next(path for path in disk_tree(root) if path.endswith("Bob doc 1.txt"))
        os.remove(os.path.join(root, bob))
        shutil.rmtree(os.path.join(root, "Projects", "Old"))
        self.env.flush_all()
        ops = self.assertScopedPlanIsTheFullPlan(client)
        self.assertEqual(len(ops), 12, ops)
        logs, _queries, planned = self.planned_sync()
        self.assertSyncOps(logs, 12)
        self.assertEqual(planned[0][0], "from the changes")
        self.env.invalidate_all()
        self.assertFalse(old.active)
        self.assertEqual((kept.raw, kept.clouds_state), (b"kept in Odoo", "local"))
        self.assertNotIn("Projects/Gone", self.remote_files(client))
        self.assertEqual(self.Attachment.search([("name", "=", "notes.md")]).raw,
                         b"notes edited in the cloud")
        self.assertSyncOps(self.sync(), 1)  # the conflict copy goes out
        self.assertTreesEqual(client)
        self.assertSyncOps(self.sync(), 0)
        # verifying: a run planned from its changes plans the whole tree too, and agrees
        self.env["ir.config_parameter"].set_param(VERIFY_PARAM, "1")
        kept.clouds_folder_id = projects
        logs, _queries, planned = self.planned_sync()
        self.assertSyncOps(logs, 1)
        self.assertEqual([how for how, *_items in planned], ["from the changes", "the whole tree"])

    def test_a_remote_folder_move_is_planned_from_the_changes(self):
        """A folder renamed and moved on the server changes the paths (ids) of its whole
        subtree: the records follow the new paths first, then the run plans from the
        changes exactly what the whole tree plans."""
        client = self.make_client(root_name="Moved remotely")
        _rule, _people, projects = self.make_tree(client)
        alpha = self.Folder.search([("name", "=", "Alpha"), ("parent_id", "=", projects.id)])
        self.Attachment.create({"name": "more.txt", "clouds_folder_id": alpha.id,
                                "raw": b"more"})
        done = self.Folder.create({"name": "Done", "parent_id": projects.id})
        self.sync()
        self.sync()
        root = os.path.join(self.files, client.root_name)
        os.rename(os.path.join(root, "Projects", "Alpha"),
                  os.path.join(root, "Projects", "Done", "Alpha moved"))
        ops = self.assertScopedPlanIsTheFullPlan(client)
        self.assertEqual(len(ops), 1, ops)  # the folder moves in Odoo; its files follow
        logs, _queries, planned = self.planned_sync()
        self.assertSyncOps(logs, 1)
        self.assertEqual(planned[0][0], "from the changes")
        self.assertEqual(planned[0][1], 6, planned)  # root, Projects, Done, Alpha, 2 files
        self.env.invalidate_all()
        self.assertEqual((alpha.name, alpha.parent_id), ("Alpha moved", done))
        moved = f"/{client.root_name}/Projects/Done/Alpha moved"
        self.assertEqual(alpha.clouds_remote_id, moved)
        plan_bin = self.Attachment.search([("name", "=", "plan.bin")])
        self.assertEqual(plan_bin.clouds_remote_id, f"{moved}/plan.bin")
        self.assertTreesEqual(client)
        plan_bin.raw = b"edited after the move"  # the new ids work
        self.assertSyncOps(self.sync(), 1)
        self.assertEqual(self.remote_files(client)["Projects/Done/Alpha moved/plan.bin"],
                         b"edited after the move")

    def test_steady_state_does_not_grow_with_the_tree(self):
        figures, changed, whole = self.assertSteadyStateScales(sizes=(200, 2000))
        _logger.info("no-change cycle (files, queries, requests): %s", figures)
        _logger.info("one-change cycle planned from the change (files, queries, seconds, "
                     "(local, synced, remote) items): %s; planned whole: %s", changed, whole)

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
