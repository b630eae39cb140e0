"""Shared scaffolding of the end-to-end sync tests of every provider addon.

A provider addon's test subclasses :class:`SyncCase`, starts its local server, and
implements ``client_vals`` (the connection's fields) and ``remote_files`` (the remote
tree read through an independent client: ``{path: bytes}`` for files, ``{path: None}``
for folders, relative to the connection's root folder).
"""

import gc
import hashlib
import html
import json
import logging
import os
import re
import threading
import time
import tracemalloc
from datetime import timedelta
from urllib.parse import urlparse

import requests
from odoo import Command, fields
from odoo.addons.bus.models.bus import json_dump
from odoo.addons.cloud_base.models.clouds_sync_executor import (
    FULL_PLANS,
    VERIFY_PARAM,
    ClientSync,
)
from odoo.api import Transaction
from odoo.exceptions import AccessError, MissingError, UserError
from odoo.tests import TransactionCase, new_test_user
from odoo.tests.common import _super_send

from cloud_sync.emulators.tls import ca_bundle
from cloud_sync.retry import RetryPolicy

FAST_RETRY = RetryPolicy(max_attempts=8, initial_delay=0.01, max_delay=0.05, max_total=10)
EXECUTOR_LOG = "odoo.addons.cloud_base.models.clouds_sync_executor"
PLANNING = re.compile(r"planning (from the changes|the whole tree) \((\d+) local, (\d+) synced, "
                      r"(\d+) remote items\)")


def disk_tree(top):
    """{relative path: bytes or None (folder)} of a directory on disk."""
    out = {}
    for folder, dirs, files in os.walk(top):
        rel = os.path.relpath(folder, top)
        for name in dirs:
            out[os.path.normpath(os.path.join(rel, name))] = None
        for name in files:
            with open(os.path.join(folder, name), "rb") as fh:
                out[os.path.normpath(os.path.join(rel, name))] = fh.read()
    return out


class SyncCase(TransactionCase):
    provider_key = None
    steady_calls = 2  # API calls of a cycle with nothing changed, whatever the folders
    keep_short_timeouts = False  # see assertConvergesUnderFaults
    # Seconds between two contents of a file, for servers that name versions by the
    # second of the content they replace (Nextcloud: a version of the same second is lost)
    version_gap = 0.0

    @classmethod
    def _request_handler(cls, s, r, /, **kw):
        """Odoo's tests raise every ``requests`` timeout under 10 s to 10 s; the fault
        test needs the client's own short timeout to expire (local servers only)."""
        if cls.keep_short_timeouts and urlparse(r.url).hostname in ("127.0.0.1", "localhost"):
            return _super_send(s, r, **kw)
        return super()._request_handler(s, r, **kw)

    def client_vals(self):
        raise NotImplementedError

    def remote_files(self, client):
        raise NotImplementedError

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, clouds_retry_policy=FAST_RETRY,
                                       tracking_disable=True))
        cls.Folder = cls.env["clouds.folder"]
        cls.Attachment = cls.env["ir.attachment"]
        cls.Queue = cls.env["clouds.queue"]
        cls.partner_model = cls.env["ir.model"]._get("res.partner")
        cls.category = cls.env["res.partner.category"].create({"name": "Synced clients"})

    # ---------------------------------------------------------------- building
    def make_client(self, **vals):
        client = self.env["clouds.client"].create({
            "name": f"{self.provider_key} test", "provider": self.provider_key,
            **self.client_vals(), **vals})
        client.action_connect()
        return client

    def make_tree(self, client, partners=("Ann", "Bob")):
        """A rule with object folders (files on the partners) and a manual folder tree."""
        rule = self.env["clouds.folder.rule"].create({
            "name": "Synced partners", "model_id": self.partner_model.id,
            "domain": f"[('category_id', 'in', [{self.category.id}])]",
            "folder_title": "Clients", "client_id": client.id,
        })
        people = self.env["res.partner"].create(
            [{"name": n, "category_id": [(4, self.category.id)]} for n in partners])
        self.env["clouds.folder.rule"]._apply_rules(full_models={"res.partner"})
        for person in people:
            for i in range(2):
                self.Attachment.create({
                    "name": f"{person.name} doc {i}.txt", "res_model": "res.partner",
                    "res_id": person.id, "raw": f"{person.name} {i} ".encode() * (i + 1)})
        projects = self.Folder.create({"name": "Projects", "own_client_id": client.id})
        alpha = self.Folder.create({"name": "Alpha", "parent_id": projects.id})
        self.Attachment.create({"name": "plan.bin", "clouds_folder_id": alpha.id,
                                "raw": bytes(range(256)) * 40})
        self.Attachment.create({"name": "notes.md", "clouds_folder_id": projects.id,
                                "raw": b"# notes\n"})
        return rule, people, projects

    # ---------------------------------------------------------------- running
    def sync(self):
        """The two crons, in this transaction; returns the logs of the run."""
        self.Queue._cron_prepare()
        tasks = self.Queue._run_tasks()
        self.env.flush_all()
        return self.env["clouds.log"].search([("task_id", "in", tasks.ids)])

    def assertSteadyCalls(self):
        """A cycle with nothing changed costs at most ``steady_calls`` requests."""
        self.emulator.faults.reset_counts()
        self.assertSyncOps(self.sync(), 0)
        self.assertLessEqual(self.emulator.faults.total(), self.steady_calls,
                             dict(self.emulator.faults.counts))

    def add_files(self, parent, start, stop, per_folder=20, env=None):
        """Files ``start`` to ``stop`` in new folders of ``per_folder`` under ``parent``
        (bulk creates: one per batch of folders and of files)."""
        env = env or self.env
        folders = env["clouds.folder"].create([
            {"name": f"Folder {i // per_folder:04d}", "parent_id": parent.id}
            for i in range(start, stop, per_folder)])
        env["ir.attachment"].create([
            {"name": f"file-{i:05d}.txt", "raw": f"file {i}\n".encode(),
             "clouds_folder_id": folders[(i - start) // per_folder].id}
            for i in range(start, stop)])
        return folders

    def steady_cycle(self, client):
        """(SQL queries, API requests) of a sync with nothing changed; asserts that it
        wrote nothing to the connection's folders (their write dates are set in the past
        first) and ran no operation."""
        folders = self.Folder.with_context(active_test=False).search(
            [("client_id", "=", client.id)])
        self.env.flush_all()
        self.env.cr.execute("UPDATE clouds_folder SET write_date = '2000-01-01' "
                            "WHERE id = ANY(%s)", [folders.ids])
        # the run writes last_sync, to the second: Odoo skips the UPDATE when the last
        # run ended in the same second; from a past date it is written every time
        self.env.cr.execute("UPDATE clouds_client SET last_sync = '2000-01-01' WHERE id = %s",
                            [client.id])
        self.env.invalidate_all()
        self.emulator.faults.reset_counts()
        before = self.env.cr.sql_log_count
        self.assertSyncOps(self.sync(), 0)
        queries = self.env.cr.sql_log_count - before
        calls = self.emulator.faults.total()
        self.env.invalidate_all()
        written = folders.filtered(lambda f: str(f.write_date) != "2000-01-01 00:00:00")
        self.assertFalse(written, "a cycle with nothing changed wrote to folders")
        return queries, calls

    def planned_sync(self):
        """(logs, SQL queries, (how, local, synced, remote) of each planned run) of a
        sync: ``how`` says whether a run planned from its changes or the whole tree."""
        lines = []
        handler = logging.Handler(logging.INFO)
        handler.emit = lambda record: lines.append(record.getMessage())
        logger = logging.getLogger(EXECUTOR_LOG)
        level = logger.level
        logger.setLevel(logging.INFO)
        logger.addHandler(handler)
        before = self.env.cr.sql_log_count
        try:
            logs = self.sync()
        finally:
            logger.removeHandler(handler)
            logger.setLevel(level)
        queries = self.env.cr.sql_log_count - before
        planned = [(m[1], *map(int, m.groups()[1:])) for line in lines
                   if (m := PLANNING.search(line))]
        return logs, queries, planned

    def change_cycle(self, top, scoped=True):
        """(SQL queries, seconds, (local, synced, remote) items planned) of a sync after
        one file deep in ``top``'s last folder was edited; asserts that it planned from
        the change, or (``scoped`` false: the process forgets its last full plan) from
        the whole tree."""
        folder = self.Folder.search([("parent_id", "=", top.id)], order="id desc", limit=1)
        att = self.Attachment.search([("clouds_folder_id", "=", folder.id)], limit=1)
        att.raw = b"one change, %d, %s" % (att.id, str(scoped).encode())
        self.env.flush_all()
        # the run writes last_sync whatever the second it ends in (same queries each time)
        self.env.cr.execute("UPDATE clouds_client SET last_sync = '2000-01-01' WHERE id = %s",
                            [top.client_id.id])
        self.env.invalidate_all()
        if not scoped:
            FULL_PLANS.clear()
        # the run reads this cached parameter: from the cache at every size
        self.env["ir.config_parameter"].sudo().get_param(VERIFY_PARAM)
        started = time.perf_counter()
        logs, queries, planned = self.planned_sync()
        seconds = round(time.perf_counter() - started, 3)
        self.assertSyncOps(logs, 1)
        self.assertEqual(len(planned), 1, (planned, logs.mapped("message")))
        self.assertEqual(planned[0][0], "from the changes" if scoped else "the whole tree")
        self.sync()  # real change feeds read the run's own write back once
        return queries, seconds, planned[0][1:]

    def assertSteadyStateScales(self, sizes=(200, 2000), per_folder=20, max_queries=30):
        """A cycle with nothing changed costs the same SQL queries and API requests at
        every tree size, and a change deep in the big tree is still found. A cycle with
        one change costs the same queries and plans the same few items at every size
        (planning from the changes, issue 14)."""
        client = self.make_client(root_name="Steady state")
        top = self.Folder.create({"name": "Tree", "own_client_id": client.id})
        figures, changed, whole, made = [], [], [], 0
        for size in sizes:
            self.add_files(top, made, size, per_folder)
            made = size
            self.sync()  # the new files go out
            self.sync()  # real change feeds read the run's own writes back once
            # a listing feed's snapshot may differ from the one its run's own writes
            # made in what it does not report (a folder's date): stored once, here
            self.sync()
            figures.append((size, *self.steady_cycle(client)))
            whole.append((size, *self.change_cycle(top, scoped=False)))
            changed.append((size, *self.change_cycle(top)))
        for _size, queries, calls in figures:
            self.assertLessEqual(queries, max_queries, figures)
            self.assertLessEqual(calls, self.steady_calls, figures)
        self.assertEqual(len({queries for _s, queries, _c in figures}), 1, figures)
        # one change: the same queries and items at every size (seconds are printed)
        self.assertEqual(len({(f[1], f[3]) for f in changed}), 1, changed)
        self.assertLessEqual(changed[0][3][0], 4, changed)  # root, Tree, its folder, the file
        self.assertLess(changed[-1][3][0] * 100, whole[-1][3][0], (changed, whole))
        # one rename and one edit deep in the big tree
        first, last = f"file-{made * 3 // 4:05d}.txt", f"file-{made - 1:05d}.txt"
        renamed, edited = self.Attachment.search([("name", "in", (first, last))]).sorted("name")
        renamed.name = "renamed.txt"
        edited.raw = b"edited deep in the tree"
        self.assertSyncOps(self.sync(), 2)
        remote = self.remote_files(client)
        self.assertEqual(remote[f"Tree/{edited.clouds_folder_id.name}/{last}"],
                         b"edited deep in the tree")
        self.assertIn(f"Tree/{renamed.clouds_folder_id.name}/renamed.txt", remote)
        self.assertNotIn(f"Tree/{renamed.clouds_folder_id.name}/{first}", remote)
        self.sync()
        self.assertLessEqual(self.steady_cycle(client)[0], max_queries)
        return figures, changed, whole

    def planned_both_ways(self, client):
        """The operations the next run would plan from its changes' scope, then from the
        whole tree (nothing executed): ((scoped, ops), (scoped, ops))."""
        provider = client._cloud_shared_provider()
        out = []
        for scoped in (True, False):
            runner = ClientSync(client, provider)
            changes, cursor = runner.poll(client.cursor)
            remote, _cursor = runner.states(runner.marks(), changes, cursor, scoped=scoped)
            out.append((runner.scoped, runner.plan(remote).ops, len(runner.local)))
        return out

    def assertScopedPlanIsTheFullPlan(self, client):
        """The next run plans from its changes, exactly what the whole tree plans."""
        (scoped, ops, loaded), (full, full_ops, everything) = self.planned_both_ways(client)
        self.assertEqual((scoped, full), (True, False))
        self.assertTrue(ops)
        self.assertEqual(ops, full_ops)
        self.assertLess(loaded, everything)
        return ops

    def assertFailedPollKeepsTheCursor(self):
        """A run whose change feed fails (every attempt answered 503) did nothing yet:
        the stored cursor stays, so the next run reads the feed from it instead of
        listing everything (the cursor is cleared only once a run has work to do)."""
        client = self.make_client(root_name="Feed down")
        self.make_tree(client)
        self.sync()
        self.sync()
        cursor = client.cursor
        self.assertTrue(cursor)
        self.emulator.faults.inject(503, count=1000)
        try:
            logs = self.sync()
        finally:
            self.emulator.faults.clear()
        self.assertEqual(logs.mapped("level"), ["warning"], logs.mapped("message"))
        self.assertEqual(client.cursor, cursor)

    def assertSyncOps(self, logs, expected):
        self.assertEqual(logs.mapped("level"), ["info"] * len(logs), logs.mapped("message"))
        self.assertEqual(sum(logs.mapped("operations")), expected, logs.mapped("message"))

    def assertConvergesUnderFaults(self, *, seed=3,
                                   kinds=("429", "503", "500", "expired_token", "timeout")):
        """With 20 % of requests faulted, the sync converges with nothing lost: the retry
        policy absorbs most faults and the queue retries the rest on later rounds. A
        ``timeout`` fault holds a request 1.5 s while the client waits 1 s (``timeout``
        from the context), so the client sees a real timeout, not an answer."""
        client = self.make_client(root_name="Faulty")
        self.make_tree(client, partners=("Cid", "Dee", "Eve"))
        self.emulator.faults.reset_counts()
        self.emulator.faults.random_faults(0.2, seed=seed, kinds=kinds, timeout=1.5)
        self.Queue = type(self).Queue.with_context(clouds_timeout=1.0)
        self.patch(type(self), "keep_short_timeouts", True)
        try:
            for _round in range(4):
                self.Queue.search([("state", "=", "pending")]).next_try = False
                self.sync()
            injected = dict(self.emulator.faults.injected)
        finally:
            del self.Queue
            self.emulator.faults.clear()
        # What the last faulted round left to the queue's retry is done once the server
        # answers (how much is left depends on the order threads drew the faults in);
        # after that, nothing is left to do and both trees are the same.
        self.Queue.search([("state", "=", "pending")]).next_try = False
        self.sync()
        self.assertSyncOps(self.sync(), 0)
        self.assertTreesEqual(client)
        self.assertEqual(client.state, "connected")
        # The draws are seeded, but with transfers side by side the order of requests
        # (and so how many retries the faults cause) varies a little from run to run:
        # the check is that faults really happened, not their exact number.
        self.assertGreaterEqual(sum(injected.values()), 3, injected)
        if "timeout" in kinds:
            self.assertGreaterEqual(injected.get("timeout", 0), 1, injected)
        return client

    def leave_upload_session(self, chunk_request, size, after=0, root_name="Resume"):
        """(connection, attachment, logs) of a run whose chunked upload of a new file
        failed after two chunks, its session state saved (see below)."""
        client = self.make_client(root_name=root_name)
        folder = self.Folder.create({"name": "Big", "own_client_id": client.id})
        att = self.Attachment.create({"name": "big.bin", "raw": os.urandom(size),
                                      "clouds_folder_id": folder.id})
        faults = self.emulator.faults
        faults.reset_counts()
        faults.inject(503, count=1000, match=chunk_request, after=after)
        try:
            logs = self.sync()
        finally:
            faults.clear()
        self.assertEqual(sum(logs.mapped("failures")), 1)
        self.assertNotEqual(att.clouds_state, "synced")
        session = self.env["clouds.upload.session"].search([("attachment_id", "=", att.id)])
        self.assertEqual(len(session), 1)
        self.assertEqual(session.checksum, att.checksum)
        return client, att, logs

    def assertAbandonedUploadsEnded(self, chunk_request, size=35 << 20, after=0):
        """Sessions nobody will finish are ended on the server by the daily vacuum: one
        whose file changed (the next run uploads the new content in a new session) and
        one whose file was deleted. The server no longer knows either afterwards."""
        Sessions = self.env["clouds.upload.session"]
        client, att, _logs = self.leave_upload_session(chunk_request, size, after,
                                                       root_name="Abandoned")
        changed = Sessions.search([("attachment_id", "=", att.id)])
        changed_state = changed.state
        att.raw = os.urandom(size)
        self.Queue.search([("state", "=", "pending")]).next_try = False
        self.sync()
        self.assertEqual(att.clouds_state, "synced")
        self.assertFalse(changed.attachment_id, "the other content's session is not set aside")
        self.assertFalse(Sessions.search([("attachment_id", "=", att.id)]))
        other = self.Attachment.create({"name": "gone.bin", "raw": os.urandom(size),
                                        "clouds_folder_id": att.clouds_folder_id.id})
        self.emulator.faults.inject(503, count=1000, match=chunk_request, after=after)
        try:
            self.sync()
        finally:
            self.emulator.faults.clear()
        deleted = Sessions.search([("attachment_id", "=", other.id)])
        deleted_state = deleted.state
        self.assertTrue(deleted_state)
        other.unlink()
        self.assertTrue(deleted.exists() and not deleted.attachment_id)
        fresh = Sessions.create({"client_id": client.id, "attachment_id": att.id,
                                 "checksum": att.checksum, "state": {"recent": True}})
        Sessions._gc_abandoned_uploads()
        self.assertFalse((changed | deleted).exists())
        self.assertTrue(fresh.exists(), "a session of this week was ended")
        provider = client._cloud_provider()
        try:
            for state in (changed_state, deleted_state):  # already ended: nothing to end
                self.assertIs(provider.abort_upload(state), False)
        finally:
            provider.close()
        self.assertTreesEqual(client)

    def assertInterruptedUploadResumes(self, chunk_request, size=35 << 20, chunk=10 << 20,
                                       after=0):
        """A run whose chunked upload fails after two chunks (``chunk_request``: a regex of
        the third chunk's request line, or of every chunk's with ``after=2``, answered 503
        until the retries give up) leaves
        its state saved; the next run continues the provider's session: it sends less
        than the whole file again, and the file arrives whole and verified."""
        client, att, logs = self.leave_upload_session(chunk_request, size, after)
        Sessions = self.env["clouds.upload.session"]
        faults = self.emulator.faults
        first = sum(faults.body_sizes)
        self.assertGreaterEqual(first, 2 * chunk)  # two chunks went before the failures
        faults.reset_counts()
        self.Queue.search([("state", "=", "pending")]).next_try = False
        logs = self.sync() - logs  # the same task: its first log is found too
        second = sum(faults.body_sizes)
        self.assertEqual(sum(logs.mapped("failures")), 0)
        self.assertLessEqual(second, size - 2 * chunk + 64 * 1024, "the upload started over")
        self.assertEqual(att.clouds_state, "synced")
        self.assertFalse(Sessions.search([("attachment_id", "=", att.id)]))
        self.assertTreesEqual(client)
        self.assertSyncOps(self.sync(), 0)
        return first, second

    def upload_peak(self, client, size, name="large.bin"):
        """(attachment, peak bytes of Python memory) of the sync run that uploads one new
        file of ``size`` bytes in a folder of its own, measured with tracemalloc from a
        state where the test holds no copy of the bytes (they are in the filestore)."""
        folder = self.Folder.create({"name": f"Large {size}", "own_client_id": client.id})
        att = self.Attachment.create({"name": name, "clouds_folder_id": folder.id,
                                      "raw": os.urandom(size)})
        self.env.flush_all()
        self.env.invalidate_all()
        gc.collect()
        tracemalloc.start()
        try:
            logs = self.sync()
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        self.assertSyncOps(logs, 2)
        self.assertEqual(att.clouds_state, "synced", "the upload was not verified")
        return att, peak

    def assertUploadMemoryFlat(self, client, small=8 << 20, large=64 << 20):
        """The sync run that uploads a file of ``large`` bytes peaks no higher than the
        one for ``small`` bytes, give or take a few chunks: the bytes are streamed from the
        filestore, never held whole. Returns the two attachments and peaks."""
        self.sync()  # the connection's first run (walk, cursor) out of the measure
        small_att, small_peak = self.upload_peak(client, small)
        large_att, large_peak = self.upload_peak(client, large)
        growth = large_peak - small_peak
        self.assertLess(growth, (large - small) / 8,
                        f"peak {small_peak >> 20} MiB for {small >> 20} MiB, "
                        f"{large_peak >> 20} MiB for {large >> 20} MiB")
        self.assertLess(large_peak, large / 2, f"peak {large_peak >> 20} MiB")
        return (small_att, small_peak), (large_att, large_peak)

    # ---------------------------------------------------------------- folder tasks
    def assertFolderTasksInCheckOrder(self, folders=6, per_folder=10, detach=5):
        """A run with more than ``detach`` file transfers in several folders makes its
        folders first, then hands the files to one task per folder, queued the longest
        unchecked folder first; the run ends (cursor, notification) once they are done."""
        client = self.make_client(root_name="Folder tasks")
        top = self.Folder.create({"name": "Tree", "own_client_id": client.id})
        made = self.add_files(top, 0, folders * per_folder, per_folder)
        now = fields.Datetime.now()
        for n, folder in enumerate(made[1:]):  # the first never checked, then the oldest
            folder.clouds_last_check = now - timedelta(days=n)
        expected = made[:1] + made[1:][::-1]
        requester = new_test_user(self.env, "folder_tasks_admin",
                                  groups="cloud_base.group_clouds_admin")
        client.with_user(requester).action_sync_now()
        Queue = self.Queue.with_context(clouds_detach=detach)
        tasks = Queue._run_tasks()
        self.env.flush_all()
        run = tasks.filtered(lambda t: t.task_type == "sync")
        parts = run.child_ids.sorted("id")
        self.assertEqual(parts.folder_id, expected, "not the longest unchecked first")
        self.assertEqual(set(parts.mapped("state")), {"done"})
        self.assertEqual(set(parts.mapped("task_type")), {"folder"})
        self.assertEqual((run.state, run.requested_by_ids), ("done", requester.browse()))
        # one notification, once the whole run is over, with the whole run's count
        self.env.cr.precommit.run()  # bus.bus rows are written at commit
        channel = json_dump((self.env.cr.dbname, "res.partner", requester.partner_id.id))
        told = [json.loads(row.message)["payload"] for row in self.env["bus.bus"].sudo().search(
            [("channel", "=", channel)], order="id")]
        told = [p for p in told if isinstance(p, dict) and p.get("client_id") == client.id]
        self.assertEqual([(p["type"], p["ops"]) for p in told],
                         [("success", folders * per_folder + folders + 1)])
        logs = self.env["clouds.log"].search([("task_id", "in", tasks.ids)])
        self.assertSyncOps(logs, folders * per_folder + folders + 1)
        # each new folder is made by its own task (nothing else waited for it), then its
        # files; the run made only the folder above them
        self.assertEqual(sum(logs.filtered(lambda log: log.task_id in parts).mapped(
            "operations")), folders * per_folder + folders, "not through folder tasks")
        self.assertTreesEqual(client)
        self.assertTrue(client.cursor, "the run's end stored no cursor")
        self.assertTrue(all(made.mapped("clouds_last_check")))
        self.assertTrue(all(f.clouds_last_check >= now for f in made))
        self.sync()  # real change feeds read the run's own writes back once
        self.assertSyncOps(self.sync(), 0)
        return client, run

    def run_workers(self, client_id, workers=2, context=None, timeout=180):
        """``workers`` cron workers in threads, each with its own cursor, running the
        queue (committing as the cron does) until the connection has no open task; the
        ids of the tasks each ran."""
        registry = self.env.registry
        ran, errors = [[] for _n in range(workers)], []

        def worker(n):
            try:
                with registry.cursor() as cr:
                    # the test runner holds the registry lock: no Registry() lookup
                    cr.transaction = Transaction(registry)
                    env = self.env(cr=cr, context=dict(self.env.context, **(context or {})))
                    deadline = time.monotonic() + timeout
                    while time.monotonic() < deadline:
                        ran[n].extend(env["clouds.queue"]._run_tasks(commit=True).ids)
                        cr.execute("SELECT count(*) FROM clouds_queue WHERE client_id = %s "
                                   "AND state IN ('pending', 'running', 'waiting')",
                                   [client_id])
                        left = cr.fetchone()[0]
                        cr.commit()
                        if not left:
                            return
                        time.sleep(0.02)
                    errors.append(f"worker {n}: tasks left after {timeout} s")
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(workers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout + 30)
        self.assertFalse(any(t.is_alive() for t in threads), "a worker hangs")
        self.assertEqual(errors, [])
        return ran

    def assertWorkersShareFolderTasks(self, folders=8, per_folder=12):
        """Two workers with their own cursors share one connection's folder tasks: each
        task runs once, in one worker, each file is uploaded once, and both worked."""
        registry = self.env.registry
        with registry.cursor() as cr:
            env = self.env(cr=cr)
            client = env["clouds.client"].create({
                "name": "two workers", "provider": self.provider_key,
                "root_name": "Two workers", "transfer_pool": 2, **self.client_vals()})
            client.action_connect()
            top = env["clouds.folder"].create({"name": "Shared", "own_client_id": client.id})
            made = self.add_files(top, 0, folders * per_folder, per_folder, env=env)
            env["clouds.queue"]._cron_prepare()
            client_id, folder_ids = client.id, (top | made).ids
        self.emulator.faults.latency = 0.02  # what a cloud costs: tasks overlap
        try:
            ran = self.run_workers(client_id, context={"clouds_detach": 10})
            self.emulator.faults.latency = 0.0
            with registry.cursor() as cr:
                env = self.env(cr=cr)
                Queue = env["clouds.queue"]
                parts = Queue.search([("client_id", "=", client_id),
                                      ("task_type", "=", "folder")])
                self.assertEqual(len(parts), folders)
                self.assertEqual(set(parts.mapped("state")), {"done"})
                self.assertEqual(set(parts.mapped("tries")), {1})
                for part in parts:
                    self.assertEqual(sum(part.id in r for r in ran), 1, "not run exactly once")
                self.assertTrue(all(set(r) & set(parts.ids) for r in ran),
                                f"one worker ran every folder task: {ran}")
                logs = env["clouds.log"].search([("client_id", "=", client_id)])
                self.assertEqual(set(logs.mapped("level")), {"info"}, logs.mapped("message"))
                self.assertEqual(sorted(logs.filtered(lambda log: log.task_id in parts)
                                        .task_id.ids), sorted(parts.ids))
                self.assertEqual(sum(logs.mapped("operations")),
                                 folders * per_folder + folders + 1, "an item done twice")
                client = env["clouds.client"].browse(client_id)
                self.assertEqual(Queue.search([("client_id", "=", client_id),
                                               ("task_type", "=", "sync")]).state, "done")
                self.assertTrue(client.cursor)
                cr.execute("SELECT count(*), count(DISTINCT remote_id) FROM clouds_sync_record "
                           "WHERE client_id = %s", [client_id])
                total = folders * per_folder + folders + 1
                self.assertEqual(cr.fetchone(), (total, total))
                atts = env["ir.attachment"].search([("clouds_folder_id", "in", folder_ids)])
                self.assertEqual(set(atts.mapped("clouds_state")), {"synced"})
                local = {f"{a.clouds_folder_id.name}/{a.name}": hashlib.sha1(a.raw).hexdigest()
                         for a in atts}
                remote = {p: hashlib.sha1(d).hexdigest()
                          for p, d in self.remote_files(client).items() if d is not None}
                self.assertEqual(remote, {f"Shared/{p}": h for p, h in local.items()})
            return ran
        finally:
            self.emulator.faults.latency = 0.0
            with registry.cursor() as cr:
                env = self.env(cr=cr)
                env["ir.attachment"].search([("clouds_folder_id", "in", folder_ids)]).unlink()
                env["clouds.folder"].browse(folder_ids).unlink()
                env["clouds.log"].search([("client_id", "=", client_id)]).unlink()
                env["clouds.client"].browse(client_id).unlink()

    # ---------------------------------------------------------------- observing
    def local_files(self, client):
        """{path: sha1} of files, {path: None} of folders, below the connection's root."""
        folders = self.Folder.search([("client_id", "=", client.id)])
        paths = {}

        def path(folder):
            if folder.id in paths:
                return paths[folder.id]
            parent = folder.parent_id
            prefix = path(parent) + "/" if parent in folders else ""
            paths[folder.id] = prefix + folder.name
            return paths[folder.id]

        tree = {path(f): None for f in folders}
        for att in self.Attachment.search([("clouds_folder_id", "in", folders.ids)]):
            tree[f"{path(att.clouds_folder_id)}/{att.name}"] = hashlib.sha1(att.raw).hexdigest()
        return tree

    def remote_hashes(self, client):
        return {p: (hashlib.sha1(d).hexdigest() if d is not None else None)
                for p, d in self.remote_files(client).items()}

    def assertTreesEqual(self, client):
        self.assertEqual(self.remote_hashes(client), self.local_files(client))

    def assertCloudLinks(self, client):
        """Synced folders and files open where the provider says they live."""
        provider = client._cloud_provider()
        try:
            folders = self.Folder.search([("client_id", "=", client.id),
                                          ("clouds_remote_id", "!=", False)])
            files = self.Attachment.search([("clouds_client_id", "=", client.id)])
            self.assertTrue(folders and files)
            for record in [*folders, *files]:
                expected = provider.metadata(record.clouds_remote_id).web_url or False
                self.assertEqual(record._clouds_cloud_url(), expected, record.display_name)
        finally:
            provider.close()

    # ---------------------------------------------------------------- "Open in the cloud"
    def link_setup(self, client):
        """A synced file and folder (give ``client`` a root of its own: the servers
        outlive each test's rollback), an employee who may open but not change them
        (``reader``: read-only on folders) and a File Manager user who may (``editor``).
        Returns ``(file, folder, reader, editor)``."""
        folder = self.Folder.create({"name": "Linked", "own_client_id": client.id})
        file = self.Attachment.create({
            "name": "linked & named.txt", "raw": b"open me in the cloud",
            "res_model": "clouds.folder", "res_id": folder.id, "clouds_folder_id": folder.id})
        self.sync()
        self.assertTrue(file.clouds_remote_id and folder.clouds_remote_id)
        reader = new_test_user(self.env, "link_reader", groups="base.group_user")
        editor = new_test_user(self.env, "link_editor",
                               groups="base.group_user,cloud_base.group_clouds_user")
        return file, folder, reader, editor

    def open_in_cloud(self, record, user):
        """The RPC of "Open in the cloud", as ``user``."""
        return record.with_user(user).clouds_open_in_cloud()

    def follow(self, url, session=None):
        """GET the link through the local server, following redirects as a browser."""
        verify = ca_bundle() if url.startswith("https") else True
        answer = (session or requests.Session()).get(url, timeout=10, verify=verify)
        self.assertEqual(answer.status_code, 200, (url, answer.text[:300]))
        return answer

    def assertOpens(self, url, record, session=None):
        """The link gives the file's bytes, or a page that names the item."""
        answer = self.follow(url, session)
        if "text/html" in answer.headers.get("Content-Type", ""):
            self.assertIn(html.escape(record.name), answer.text, url)
        else:
            self.assertEqual(answer.content, record.raw, url)
        return answer

    def assertLinksRefused(self, file, folder, user):
        """A user who may not see the folder gets no link to it or its files, nor by
        pointing a file of their own at the remote item (only the sync sets that)."""
        folder.group_ids = [Command.set(self.env.ref("cloud_base.group_clouds_admin").ids)]
        for record in (file, folder):
            with self.assertRaises(AccessError):
                self.open_in_cloud(record, user)
        forged = {"clouds_client_id": file.clouds_client_id.id,
                  "clouds_remote_id": file.clouds_remote_id}
        Attachment = self.Attachment.with_user(user)
        with self.assertRaises(AccessError):
            Attachment.create({"name": "forged.txt", "raw": b"x", **forged})
        own = Attachment.create({"name": "own.txt", "raw": b"x"})
        with self.assertRaises(AccessError):
            own.write(forged)

    # ---------------------------------------------------------------- versions
    def version_file(self, client, data=b"first content"):
        """A synced file ``Versions/contract.txt`` (give ``client`` a root of its own)."""
        folder = self.Folder.create({"name": "Versions", "own_client_id": client.id})
        att = self.Attachment.create({"name": "contract.txt", "raw": data,
                                      "clouds_folder_id": folder.id})
        self.sync()
        self.assertTrue(att.clouds_remote_id)
        return att

    def version_bytes(self, att, version_id):
        """The bytes the download route streams for one version (as the caller's user)."""
        chunks, _size, name, _mimetype = att._clouds_version_stream(version_id)
        self.assertEqual(name, att.name)
        return b"".join(chunks)

    def assertVersionsListDownloadRestore(self, client):
        """The cloud's versions of a synced file: listed (newest first, the current one
        first), downloaded, restored; Odoo's copy follows the restore (content, size,
        checksum, remote version) so that the next sync has nothing to do; an id the
        file's listing does not give never reaches the provider."""
        att = self.version_file(client)
        time.sleep(self.version_gap)
        self.put(client, "Versions/contract.txt", b"second, longer content")
        self.sync()
        self.env.invalidate_all()
        self.assertEqual(att.raw, b"second, longer content")
        self.assertFalse(self.env["clouds.file.version"].search([("attachment_id", "=", att.id)]),
                         "the cloud keeps the versions: Odoo keeps none")
        versions = att.clouds_versions()
        self.assertGreaterEqual(len(versions), 2, versions)
        self.assertTrue(versions[0]["current"])
        self.assertFalse(any(v["current"] or v["kept"] for v in versions[1:]), versions)
        self.assertTrue(all(v["id"].startswith("cloud:") for v in versions), versions)
        self.assertEqual((versions[0]["size"], versions[-1]["size"]), (22, 13))
        self.assertTrue(all(v["time"] for v in versions), versions)
        self.assertEqual(self.version_bytes(att, versions[0]["id"]), b"second, longer content")
        self.assertEqual(self.version_bytes(att, versions[-1]["id"]), b"first content")
        self.emulator.faults.reset_counts()
        for forged in ("cloud:no-such-version", "odoo:1", "current"):
            with self.assertRaises(MissingError):
                att._clouds_version_stream(forged)
            with self.assertRaises(MissingError):
                att.clouds_version_restore(forged)
        self.assertFalse([line for line in self.emulator.faults.log if "no-such" in line])
        with self.assertRaises(UserError):  # already the current content
            att.clouds_version_restore(versions[0]["id"])

        att.clouds_version_restore(versions[-1]["id"])
        self.env.invalidate_all()
        self.assertEqual(att.raw, b"first content")
        self.assertEqual((att.file_size, att.checksum),
                         (13, hashlib.sha1(b"first content").hexdigest()))
        self.assertEqual(self.remote_files(client)["Versions/contract.txt"], b"first content")
        after = att.clouds_versions()
        self.assertTrue(after[0]["current"])
        self.assertEqual(after[0]["size"], 13)
        kept = [self.version_bytes(att, v["id"]) for v in after[1:]]
        self.assertIn(b"second, longer content", kept, "restoring lost the content it replaced")
        self.assertIn("Version restored", att.clouds_history)
        # Odoo's copy followed: no conflict, no upload, no download; one file only
        self.assertSyncOps(self.sync(), 0)
        self.assertSyncOps(self.sync(), 0)
        self.assertEqual(self.Attachment.search_count(
            [("clouds_folder_id", "=", att.clouds_folder_id.id)]), 1)
        self.assertEqual(att.raw, b"first content")
        return att

    # ---------------------------------------------------------------- the shared scenario
    def put(self, client, path, data):
        """Write a remote file through the independent client (path below the root)."""
        raise NotImplementedError

    def round_trip(self):
        """Direct sync, a remote edit and a new remote file, then reset: every binary
        comes back byte-identical."""
        client = self.make_client()
        _rule, _people, projects = self.make_tree(client)
        self.assertSyncOps(self.sync(), 11)  # 5 folders, 6 files
        self.assertTreesEqual(client)
        self.assertCloudLinks(client)
        self.assertSyncOps(self.sync(), 0)
        self.assertSteadyCalls()
        self.put(client, "Projects/Alpha/plan.bin", b"edited remotely")
        self.put(client, "Projects/remote.txt", b"made remotely")
        self.assertSyncOps(self.sync(), 2)
        self.env.invalidate_all()
        made = self.Attachment.search([("name", "=", "remote.txt")])
        self.assertEqual((made.clouds_folder_id, made.raw), (projects, b"made remotely"))
        plan = self.Attachment.search([("name", "=", "plan.bin")])
        self.assertEqual(plan.raw, b"edited remotely")
        self.assertTreesEqual(client)
        remote_before = self.remote_hashes(client)
        client.action_reset()
        self.sync()
        self.env.invalidate_all()
        self.assertEqual(client.state, "draft")
        for att in self.Attachment.search([("clouds_folder_id", "in", self.Folder.search(
                [("client_id", "=", client.id)]).ids)]):
            self.assertTrue(att.store_fname or att.db_datas, att.name)
        self.assertEqual(self.local_files(client), remote_before)
        return client
