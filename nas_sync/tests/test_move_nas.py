"""Moving folders to another connection through the queue, against wsgidav: the save asks
nothing of the server, a ``move`` task brings the cloud-only binaries back, then the
folders switch and the next syncs move them; faults and crashes resume."""

import contextlib
import hashlib
import os

from odoo.addons.cloud_base.models.clouds_sync_executor import ClientSync
from odoo.tests import tagged

from .test_sync_nas import NasCase


class Crash(Exception):
    """The worker dies right after a commit."""


@tagged("post_install", "-at_install")
class TestNasMove(NasCase):
    def setUp(self):
        super().setUp()
        test = self._testMethodName  # a root of its own: the server's disk is not rolled back
        self.old = self.make_client(root_name=f"Old {test}")
        self.new = self.make_client(root_name=f"New {test}")
        self.projects = self.Folder.create({"name": "Projects", "own_client_id": self.old.id})
        self.alpha = self.Folder.create({"name": "Alpha", "parent_id": self.projects.id})
        self.kept = self.Folder.create({"name": "Stays", "own_client_id": self.old.id})
        self.contents = {}
        for folder, name, data in (
                (self.projects, "notes.md", b"# notes\n"),
                (self.projects, "big.bin", os.urandom(3 * 1024 * 1024 + 7)),
                (self.alpha, "plan.bin", bytes(range(256)) * 40),
                (self.alpha, "empty.txt", b""),
                (self.kept, "other.txt", b"stays on the old connection")):
            att = self.Attachment.create({"name": name, "clouds_folder_id": folder.id,
                                          "raw": data})
            self.contents[att] = data
        self.sync()
        self.old.grace_days = 0
        self.Attachment._cron_clouds_clean()
        self.env.invalidate_all()
        self.moving = self.Attachment.browse(
            [a.id for a in self.contents if a.clouds_folder_id != self.kept])
        self.assertTrue(all(a._clouds_link_only() for a in self.moving if a.file_size))
        self.old_remote = self.remote_files(self.old)

    def request_move(self, folder, client):
        self.emulator.faults.reset_counts()
        folder.own_client_id = client
        self.env.flush_all()
        self.assertEqual(dict(self.emulator.faults.counts), {}, "the save asks no server")

    def move_task(self):
        return self.Queue.search([("task_type", "=", "move"), ("client_id", "=", self.old.id)])

    def assertBytesBack(self, atts):
        self.env.invalidate_all()
        for att in atts:
            self.assertTrue(att.store_fname or att.db_datas or not att.file_size, att.name)
            self.assertEqual(hashlib.sha1(att.raw or b"").hexdigest(),
                             hashlib.sha1(self.contents[att]).hexdigest(), att.name)

    def assertOnOld(self):
        """Nothing moved yet: the folder syncs with the old connection, which has it all."""
        self.assertEqual(self.projects.client_id, self.old)
        self.assertEqual(self.alpha.client_id, self.old)
        self.assertEqual(self.remote_files(self.old), self.old_remote)

    def assertMovedToNew(self):
        self.env.invalidate_all()
        self.assertEqual((self.projects.client_id, self.alpha.client_id), (self.new, self.new))
        self.assertFalse(self.projects.clouds_move_pending)
        self.assertBytesBack(self.moving)
        new_remote = self.remote_files(self.new)
        self.assertEqual(set(new_remote), {"Projects", "Projects/notes.md", "Projects/big.bin",
                                           "Projects/Alpha", "Projects/Alpha/plan.bin",
                                           "Projects/Alpha/empty.txt"})
        for att in self.moving:
            path = "Projects/" + ("Alpha/" if att.clouds_folder_id == self.alpha else "")
            self.assertEqual(new_remote[path + att.name], self.contents[att])
            self.assertEqual(att.clouds_client_id, self.new)
        self.assertEqual(set(self.remote_files(self.old)), {"Stays", "Stays/other.txt"})
        self.assertTreesEqual(self.new)
        self.assertTreesEqual(self.old)
        self.assertSyncOps(self.sync(), 0)

    # ---------------------------------------------------------------- the tests
    def test_move_is_queued_then_done(self):
        self.request_move(self.projects, self.new)
        self.assertTrue(self.projects.clouds_move_pending)
        self.assertEqual(self.projects.clouds_move_to_id, self.new)
        self.assertEqual(self.projects.own_client_id, self.old)
        self.assertOnOld()
        self.assertEqual(self.move_task().state, "pending")
        self.sync()
        self.assertEqual(self.move_task().state, "done")
        self.assertMovedToNew()
        self.assertEqual(self.kept.client_id, self.old)

    def test_failing_fetch_leaves_the_folder_and_retries(self):
        self.request_move(self.projects, self.new)
        self.emulator.faults.inject(503, count=1000, match=r"^GET .*big\.bin")
        try:
            self.Queue._run_tasks()
        finally:
            self.emulator.faults.clear()
        task = self.move_task()
        self.assertEqual((task.state, task.tries), ("pending", 1))
        self.assertTrue(task.next_try and task.last_error)
        self.env.invalidate_all()
        self.assertTrue(self.projects.clouds_move_pending)
        self.assertOnOld()
        task.next_try = False
        self.sync()
        self.assertEqual((task.state, task.tries), ("done", 2))
        self.assertMovedToNew()

    def test_crash_in_the_middle_converges(self):
        self.request_move(self.projects, self.new)
        commits = []

        def crash():
            commits.append(1)
            raise Crash

        # not assertRaises: Odoo's rolls back to a savepoint, a crash keeps what was done
        with contextlib.suppress(Crash):
            self.old.sudo()._cloud_move_folders(commit=crash, batch_size=1)
        self.assertEqual(len(commits), 1)
        self.env.invalidate_all()
        back = self.moving.filtered(lambda a: not a._clouds_link_only())
        self.assertGreaterEqual(len(back), 1)
        self.assertLess(len(back.filtered("file_size")), len(self.moving.filtered("file_size")))
        self.assertOnOld()
        self.emulator.faults.reset_counts()
        self.sync()
        self.assertMovedToNew()

    def test_new_connection_syncing_first_keeps_its_links(self):
        """The old connection's sync, run after the new one's, removes its remote copies
        but leaves the files linked to the new connection."""
        self.request_move(self.projects, self.new)
        self.old.sudo()._cloud_move_folders()
        self.Queue.search([("task_type", "=", "sync"), ("state", "=", "pending")]).unlink()
        for client in (self.new, self.old):  # the other order than the move queues
            ClientSync(client, client._cloud_shared_provider()).run()
        self.assertMovedToNew()

    def test_a_file_moved_to_another_connection_keeps_its_new_link(self):
        """A file moved into a folder of another connection: when the new connection
        syncs first, the old one's deletion of its copy leaves the new link alone."""
        inbox = self.Folder.create({"name": "Inbox", "own_client_id": self.new.id})
        other = self.Attachment.search([("name", "=", "other.txt")])
        other.clouds_folder_id = inbox
        for client in (self.new, self.old):
            ClientSync(client, client._cloud_shared_provider()).run()
        self.env.invalidate_all()
        self.assertEqual(other.clouds_client_id, self.new)
        self.assertEqual(other.raw, self.contents[other])
        self.assertEqual(self.remote_files(self.new)["Inbox/other.txt"], self.contents[other])
        self.assertNotIn("Stays/other.txt", self.remote_files(self.old))
        self.assertSyncOps(self.sync(), 0)

    def test_folder_dragged_out_of_the_connection_keeps_every_binary(self):
        """A folder moved under one that syncs nowhere (its parent changed, no queued
        move): the old connection's sync removes its remote copy only after every file
        came back, cloud-only or not; none stays linked, so the cleaner keeps them."""
        fresh = self.Attachment.create({"name": "fresh.txt", "clouds_folder_id": self.alpha.id,
                                        "raw": b"synced, bytes still here"})
        self.contents[fresh] = b"synced, bytes still here"
        self.sync()
        self.assertEqual(fresh.clouds_state, "synced")
        local = self.Folder.create({"name": "Local only"})
        self.alpha.parent_id = local
        self.assertFalse(self.alpha.client_id)
        self.sync()
        self.Attachment._cron_clouds_clean()
        files = self.moving.filtered(lambda a: a.clouds_folder_id == self.alpha) | fresh
        self.assertBytesBack(files)
        self.assertEqual(set(files.mapped("clouds_state")), {"local"})
        self.assertFalse(files.clouds_client_id)
        self.assertNotIn("Projects/Alpha", self.remote_files(self.old))
        self.assertSyncOps(self.sync(), 0)

    def test_moving_back_cancels(self):
        self.request_move(self.projects, self.new)
        self.request_move(self.projects, self.old)
        self.assertFalse(self.projects.clouds_move_pending)
        self.assertFalse(self.projects.clouds_move_to_id)
        self.emulator.faults.reset_counts()
        self.sync()
        self.assertEqual(self.move_task().state, "done")
        self.assertEqual(self.emulator.faults.total("^GET "), 0, "no binary fetched")
        self.assertOnOld()
        self.assertTrue(all(a._clouds_link_only() for a in self.moving if a.file_size))

    def test_move_to_no_connection(self):
        self.request_move(self.projects, False)
        self.assertTrue(self.projects.clouds_move_pending)
        self.assertFalse(self.projects.clouds_move_to_id)
        self.assertOnOld()
        self.sync()
        self.env.invalidate_all()
        self.assertFalse(self.projects.client_id or self.alpha.client_id)
        self.assertBytesBack(self.moving)
        self.assertFalse(self.moving.clouds_client_id)
        self.assertEqual(set(self.remote_files(self.old)), {"Stays", "Stays/other.txt"})

    def test_rule_connection_change(self):
        """A rule's new connection pins its title folder (and so the folders below) to the
        old one until their binaries are back; setting it back first cancels."""
        rule, people, _projects = self.make_tree(self.old, partners=("Ann",))
        self.sync()
        self.Attachment._cron_clouds_clean()
        self.env.invalidate_all()
        folders = self.Folder.search([("rule_id", "=", rule.id)])
        files = self.Attachment.search([("clouds_folder_id", "in", folders.ids)])
        self.assertEqual(len(files), 2)
        self.contents.update({att: att.raw for att in files})
        self.env.invalidate_all()
        self.assertTrue(all(a._clouds_link_only() for a in files))

        self.emulator.faults.reset_counts()
        rule.client_id = self.new
        self.env.flush_all()
        self.assertEqual(dict(self.emulator.faults.counts), {})
        title = folders.filtered(lambda f: not f.res_id)
        self.assertEqual(folders.client_id, self.old)
        self.assertEqual(title.own_client_id, self.old)
        self.assertFalse((folders - title).own_client_id)
        self.assertEqual(folders.filtered("clouds_move_pending"), title)
        self.assertEqual(title.clouds_move_to_id, self.new)
        rule.client_id = self.old  # back before the task ran: nothing moves
        self.assertFalse(folders.own_client_id)
        self.assertFalse(any(folders.mapped("clouds_move_pending")))

        rule.client_id = self.new
        self.sync()
        self.env.invalidate_all()
        self.assertEqual(folders.client_id, self.new)
        self.assertFalse(folders.own_client_id)
        self.assertBytesBack(files)
        self.assertIn(f"Clients/Ann/{files[0].name}", self.remote_files(self.new))
        self.assertNotIn("Clients", self.remote_files(self.old))
        self.assertTreesEqual(self.new)
        self.assertSyncOps(self.sync(), 0)

    # ---------------------------------------------------------------- whole subtrees
    def assertNoStaleLinks(self):
        """Every folder, file and sync record that says where it lives remotely lives
        there, on the connection it syncs with."""
        self.env.invalidate_all()
        Folder = self.Folder.with_context(active_test=False)
        records = [(f, f.client_id, f.clouds_remote_id)
                   for f in Folder.search([("clouds_remote_id", "!=", False)])]
        records += [(a, a.clouds_client_id, a.clouds_remote_id)
                    for a in self.Attachment.search([("clouds_remote_id", "!=", False)])]
        records += [(r, r.client_id, r.remote_id)
                    for r in self.env["clouds.sync.record"].search([])]
        providers = {}
        try:
            for record, client, remote_id in records:
                self.assertTrue(client, f"{record.display_name} links {remote_id}, syncs nowhere")
                if client not in providers:
                    providers[client] = client._cloud_provider()
                self.assertTrue(providers[client].exists(remote_id),
                                f"{record.display_name}: {remote_id} is gone on {client.name}")
        finally:
            for provider in providers.values():
                provider.close()

    def test_title_folder_connection_moves_the_rule_subtree(self):
        """The demo's trial: a rule on the old connection, its title folder given the new
        one. The whole subtree follows (not only the empty title folder), nothing is
        re-created at the old root, and no link points at a removed path."""
        rule, people, _projects = self.make_tree(self.old, partners=("Ann", "Bob"))
        self.sync()
        title = self.Folder.search([("rule_id", "=", rule.id), ("res_id", "=", False)])
        self.assertEqual(len(title), 1)
        files = self.Attachment.search([("res_model", "=", "res.partner"),
                                        ("res_id", "in", people.ids)])
        self.contents.update({att: att.raw for att in files})
        title.own_client_id = self.new
        self.sync()
        self.sync()
        self.env.invalidate_all()
        self.assertEqual(self.Folder.search([("rule_id", "=", rule.id)]).client_id, self.new)
        new_remote, old_remote = self.remote_files(self.new), self.remote_files(self.old)
        for att in files:
            person = att.res_id == people[0].id and "Ann" or "Bob"
            self.assertEqual(new_remote[f"Clients/{person}/{att.name}"], self.contents[att])
        self.assertFalse({"Clients", "Ann", "Bob"} & set(old_remote), sorted(old_remote))
        self.assertTreesEqual(self.new)
        self.assertTreesEqual(self.old)
        self.assertNoStaleLinks()
        self.assertSyncOps(self.sync(), 0)

    def test_subfolder_with_its_own_connection_stays_when_its_parent_leaves(self):
        """A subfolder that names the old connection itself stays there when its parent
        moves: it is moved up to the old root, its files and links intact."""
        self.alpha.own_client_id = self.old
        self.sync()
        self.projects.own_client_id = self.new
        self.sync()
        self.sync()
        self.env.invalidate_all()
        self.assertEqual((self.projects.client_id, self.alpha.client_id), (self.new, self.old))
        old_remote = self.remote_files(self.old)
        self.assertIn("Alpha/plan.bin", old_remote)
        self.assertNotIn("Projects", old_remote)
        self.assertIn("Projects/notes.md", self.remote_files(self.new))
        self.assertTreesEqual(self.new)
        self.assertTreesEqual(self.old)
        self.assertNoStaleLinks()
        self.assertSyncOps(self.sync(), 0)
