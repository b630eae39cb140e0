"""End to end against moto's S3 server: Odoo's crons sync folders and files, checked
through a bare boto3 client."""

import hashlib
import random
import signal
import subprocess
import sys
import threading
import time
from urllib.parse import parse_qs, urlparse

import odoo
from odoo.addons.cloud_base.tests.test_sync_common import SyncCase
from odoo.api import Transaction
from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged

from cloud_sync.emulators.s3 import S3Emulator


class S3ServerCase(SyncCase):
    """A moto S3 server for the class, and a bare boto3 client on it."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.emulator = S3Emulator().start()
        cls.addClassCleanup(cls.emulator.stop)
        cls.s3 = cls.emulator.client()
        cls.bucket = cls.emulator.bucket


class S3Case(S3ServerCase):
    """The sync helpers on the moto server: a connection, the remote tree (no tests)."""

    provider_key = "s3"

    def client_vals(self):
        config = self.emulator.provider_config()
        return {"s3_bucket": self.bucket, "s3_region": config["region"],
                "s3_endpoint_url": config["endpoint_url"], "s3_path_style": True,
                "s3_access_key": config["access_key"], "s3_secret_key": config["secret_key"]}

    def remote_files(self, client):
        root = client.sudo().remote_root_id
        out = {}
        pages = self.s3.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=root)
        for page in pages:
            for obj in page.get("Contents", []):
                key = obj["Key"]
                if key == root:
                    continue
                path = key[len(root):]
                if key.endswith("/"):
                    out[path.rstrip("/")] = None
                else:
                    out[path] = self.s3.get_object(
                        Bucket=self.bucket, Key=key)["Body"].read()
        return out

    def put(self, client, path, data):
        self.s3.put_object(Bucket=self.bucket,
                           Key=client.sudo().remote_root_id + path, Body=data)


@tagged("post_install", "-at_install")
class TestS3Sync(S3Case):
    # S3 has no feed: one listing page per 1,000 keys; the provider keeps the snapshot it
    # stored in memory, so nothing else is read or written when nothing changed.
    steady_calls = 1

    def test_unversioned_bucket_versions_kept_by_odoo(self):
        """A bucket without versioning keeps no versions: Odoo keeps what the sync
        replaces, and lists it after the current content."""
        att = self.version_file(self.make_client(root_name="Unversioned"), b"first")
        self.put(att.clouds_client_id, "Versions/contract.txt", b"second")
        self.sync()
        self.env.invalidate_all()
        listed = att.clouds_versions()
        self.assertEqual([(v["id"][:5], v["current"], v["size"]) for v in listed],
                         [("curre", True, 6), ("odoo:", False, 5)])
        self.assertEqual(self.version_bytes(att, listed[1]["id"]), b"first")

    def test_open_in_cloud_follows_link_lifetime(self):
        """Link Lifetime: a presigned address valid that long, for every user who may
        open the file (it shares nothing on the server); more than 7 days is refused."""
        client = self.make_client(root_name="Links", s3_link_lifetime=600)
        file, folder, reader, editor = self.link_setup(client)

        def lifetime(url):  # signature v4 names the lifetime, v2 the expiry time
            query = parse_qs(urlparse(url).query)
            if "X-Amz-Expires" in query:
                return int(query["X-Amz-Expires"][0])
            return int(query["Expires"][0]) - time.time()

        self.assertTrue(file._clouds_cloud_url().startswith("s3://"))  # the button shows
        url = self.open_in_cloud(file, reader)
        self.assertAlmostEqual(lifetime(url), 600, delta=5)
        self.assertEqual(self.follow(url).content, file.raw)
        client.s3_link_lifetime = 3600
        self.assertAlmostEqual(lifetime(self.open_in_cloud(file, editor)), 3600, delta=5)
        with self.assertRaises(ValidationError):
            client.s3_link_lifetime = 8 * 24 * 3600
        with self.assertRaises(UserError):  # S3 folders have no link
            self.open_in_cloud(folder, editor)
        self.assertLinksRefused(file, folder, reader)

    def test_wrong_bucket_is_a_clear_error(self):
        vals = dict(self.client_vals(), s3_bucket="no-such-bucket")
        with self.assertRaises(UserError):
            self.env["clouds.client"].create(
                {"name": "wrong", "provider": "s3", **vals})

    def test_connect_makes_root_and_binds_database(self):
        client = self.make_client(root_name="Odoo A")
        self.assertEqual(client.state, "connected")
        self.assertEqual(client.sudo().remote_root_id, "Odoo A/")
        self.assertEqual(self.remote_files(client), {})
        # A copied database (another uuid) pauses until an administrator confirms.
        client.sudo().database_uuid = "another-database"
        self.assertFalse(client._cloud_ready())
        self.assertEqual(client.state, "paused")
        self.assertIn("copy", client.pause_reason)
        client.action_confirm_database()
        self.assertEqual(client.state, "connected")
        self.assertTrue(client._cloud_ready())

    def test_direct_backward_and_reverse(self):
        client = self.make_client()
        rule, people, projects = self.make_tree(client)
        logs = self.sync()
        self.assertSyncOps(logs, 11)  # 5 folders + 6 files
        self.assertTreesEqual(client)
        self.assertIn("Clients/Ann/Ann doc 1.txt", self.local_files(client))
        atts = self.Attachment.search([("clouds_client_id", "=", client.id)])
        self.assertEqual(len(atts), 6)
        self.assertEqual(set(atts.mapped("clouds_state")), {"synced"})
        self.assertTrue(all(atts.mapped("clouds_verified")))
        # Nothing changed: nothing to do, in a few calls whatever the number of folders.
        self.assertSyncOps(self.sync(), 0)
        self.assertSteadyCalls()

        # The cleaner keeps binaries during the grace period, then drops only the bytes.
        self.assertEqual(self.Attachment._cron_clouds_clean(), 0)
        client.grace_days = 0
        self.assertEqual(self.Attachment._cron_clouds_clean(), 6)
        self.env.invalidate_all()
        plan = atts.filtered(lambda a: a.name == "plan.bin")
        self.assertEqual((plan.store_fname, plan.clouds_state), (False, "link"))
        self.assertEqual(plan.raw, bytes(range(256)) * 40, "read from the cloud")
        self.assertSyncOps(self.sync(), 0)

        # Remote edits come back: a new file, a new folder, a changed and a deleted file.
        self.put(client, "Projects/Beta/", b"")
        self.put(client, "Projects/Beta/spec.txt", b"remote spec")
        self.put(client, "Projects/Alpha/plan.bin", b"new plan")
        self.s3.delete_object(Bucket=self.emulator.bucket,
                              Key=client.sudo().remote_root_id + "Projects/notes.md")
        logs = self.sync()
        self.assertSyncOps(logs, 4)
        self.env.invalidate_all()
        beta = self.Folder.search([("name", "=", "Beta"), ("parent_id", "=", projects.id)])
        self.assertEqual(beta.client_id, client)
        spec = self.Attachment.search([("clouds_folder_id", "=", beta.id)])
        self.assertEqual((spec.name, spec.raw, spec.clouds_state),
                         ("spec.txt", b"remote spec", "link"))
        self.assertEqual(plan.raw, b"new plan")
        self.assertFalse(self.Attachment.search([("name", "=", "notes.md")]))
        self.assertTreesEqual(client)

        # A local rename and a new local file go out.
        projects.name = "Projects 2025"
        self.Attachment.create({"name": "late.txt", "clouds_folder_id": beta.id,
                                "raw": b"late"})
        self.sync()
        self.assertTreesEqual(client)
        self.assertIn("Projects 2025/Beta/late.txt", self.remote_files(client))

        # Reset: every binary comes back byte-identical, the remote stays untouched.
        remote_before = self.remote_files(client)
        client.action_reset()
        logs = self.sync()
        self.assertIn("reverse", logs.mapped("task_type"))
        self.assertEqual(set(logs.mapped("level")), {"info"}, logs.mapped("message"))
        self.env.invalidate_all()
        self.assertEqual(client.state, "draft")
        folders = self.Folder.search([("client_id", "=", client.id)])
        for att in self.Attachment.search([("clouds_folder_id", "in", folders.ids)]):
            self.assertTrue(att.store_fname or att.db_datas, att.name)
            self.assertEqual(att.clouds_state, "local")
        local = self.local_files(client)
        self.assertEqual(local, {p: (hashlib.sha1(d).hexdigest() if d is not None else None)
                                 for p, d in remote_before.items()})
        self.assertEqual(self.remote_files(client), remote_before)

    def test_a_remote_folder_move_is_planned_from_the_changes(self):
        """Another client moves a folder (copies its keys under a new prefix, deletes the
        old ones): every key of the subtree changed; the records follow the new keys,
        and the run plans from the changes what the whole tree plans."""
        client = self.make_client(root_name="Moved in the bucket")
        _rule, _people, projects = self.make_tree(client)
        alpha = self.Folder.search([("name", "=", "Alpha"), ("parent_id", "=", projects.id)])
        done = self.Folder.create({"name": "Done", "parent_id": projects.id})
        self.sync()
        self.sync()
        root = client.sudo().remote_root_id
        old, new = f"{root}Projects/Alpha/", f"{root}Projects/Done/Alpha moved/"
        keys = [o["Key"] for o in self.s3.list_objects_v2(
            Bucket=self.bucket, Prefix=old)["Contents"]]
        for key in keys:
            self.s3.copy_object(Bucket=self.bucket, Key=new + key[len(old):],
                                CopySource={"Bucket": self.bucket, "Key": key})
            self.s3.delete_object(Bucket=self.bucket, Key=key)
        ops = self.assertScopedPlanIsTheFullPlan(client)
        self.assertEqual(len(ops), 1, ops)  # the folder moves in Odoo; its file follows
        logs, _queries, planned = self.planned_sync()
        self.assertSyncOps(logs, 1)
        self.assertEqual(planned[0][0], "from the changes")
        self.env.invalidate_all()
        self.assertEqual((alpha.name, alpha.parent_id), ("Alpha moved", done))
        self.assertEqual(alpha.clouds_remote_id, new)
        plan_bin = self.Attachment.search([("name", "=", "plan.bin")])
        self.assertEqual(plan_bin.clouds_remote_id, new + "plan.bin")
        self.assertTreesEqual(client)
        plan_bin.raw = b"edited after the move"  # the new keys work
        self.assertSyncOps(self.sync(), 1)
        self.assertEqual(self.remote_files(client)["Projects/Done/Alpha moved/plan.bin"],
                         b"edited after the move")

    def test_deletion_guard_pauses(self):
        client = self.make_client(root_name="Guarded")
        folder = self.Folder.create({"name": "Many", "own_client_id": client.id})
        for i in range(8):
            self.Attachment.create({"name": f"f{i}.txt", "clouds_folder_id": folder.id,
                                    "raw": b"x%d" % i})
        self.sync()
        for i in range(8):
            self.s3.delete_object(Bucket=self.emulator.bucket,
                                  Key=f"Guarded/Many/f{i}.txt")
        with self.assertLogs("odoo.addons.cloud_base", "WARNING"):
            self.sync()
        self.assertEqual(client.state, "paused")
        self.assertIn("delete 8", client.pause_reason)
        self.assertEqual(self.Attachment.search_count([("clouds_folder_id", "=", folder.id)]), 8)

    def test_revoked_keys_need_reconnect_and_other_clients_go_on(self):
        broken = self.make_client(root_name="Broken")
        fine = self.make_client(root_name="Fine")
        for client in broken | fine:
            folder = self.Folder.create({"name": f"{client.root_name} docs",
                                         "own_client_id": client.id})
            self.Attachment.create({"name": "a.txt", "clouds_folder_id": folder.id,
                                    "raw": b"a"})
        # Static keys cannot be refreshed: ExpiredToken is a critical error.
        self.emulator.faults.expire_token(count=1, match="prefix=Broken")
        with self.assertLogs("odoo.addons.cloud_base", "WARNING"):
            logs = self.sync()
        self.assertEqual(broken.state, "needs_reconnect")
        self.assertIn("Sync paused", broken.message_ids[0].body)
        self.assertEqual(fine.state, "connected")
        self.assertEqual(set(self.remote_files(fine)), {"Fine docs", "Fine docs/a.txt"})
        self.assertEqual(logs.filtered(lambda log: log.client_id == broken).level, "error")
        broken.action_reconnect()
        self.assertSyncOps(self.sync(), 2)
        self.assertTreesEqual(broken)

    def test_converges_under_random_faults(self):
        self.assertConvergesUnderFaults(kinds=("429", "503", "500", "timeout"))  # SigV4: no token

    def test_folder_tasks_longest_unchecked_first(self):
        self.assertFolderTasksInCheckOrder()

    def test_two_workers_share_folder_tasks(self):
        self.assertWorkersShareFolderTasks()

    def test_interrupted_large_upload_resumes_in_the_next_run(self):
        """Multipart (8 MiB parts): part 3 fails until the run gives up (the upload is
        kept, not aborted); the next run lists its parts (ListParts) and sends the rest."""
        self.assertInterruptedUploadResumes(r"^PUT /.*[?&]partNumber=3(&|$)", chunk=8 << 20)
        self.assertFalse(self.s3.list_multipart_uploads(
            Bucket=self.emulator.bucket).get("Uploads"))

    def test_abandoned_uploads_are_aborted(self):
        """A multipart upload of a file since changed or deleted is aborted (S3 keeps and
        bills unfinished uploads forever): none is left in the bucket."""
        self.assertAbandonedUploadsEnded(r"^PUT /.*[?&]partNumber=3(&|$)")
        self.assertFalse(self.s3.list_multipart_uploads(
            Bucket=self.emulator.bucket).get("Uploads"))


@tagged("post_install", "-at_install")
class TestS3Versions(S3Case):
    """Object versions of a bucket with versioning."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.bucket = "versioned-bucket"
        cls.s3.create_bucket(Bucket=cls.bucket)
        cls.s3.put_bucket_versioning(Bucket=cls.bucket,
                                     VersioningConfiguration={"Status": "Enabled"})

    def test_versions_list_download_restore(self):
        self.assertVersionsListDownloadRestore(self.make_client(root_name="Versions"))


@tagged("post_install", "-at_install")
class TestQueueWorkers(SyncCase):
    provider_key = "s3"

    def test_refreshed_tokens_are_stored_at_once(self):
        """New tokens are committed by themselves (a rollback of the task keeps them);
        a connection not committed yet stores them in the current transaction."""
        registry = self.env.registry
        with registry.cursor() as cr:
            client = self.env(cr=cr)["clouds.client"].with_context(clouds_no_check=True).create(
                {"name": "tokens", "provider": "s3"})
            client_id = client.id
        try:
            self.env["clouds.client"].browse(client_id)._cloud_store_tokens(
                {"session_token": "rotated-1"})
            with registry.cursor() as cr:
                cr.execute("SELECT token_json FROM clouds_client WHERE id = %s", [client_id])
                self.assertEqual(cr.fetchone()[0], '{"session_token": "rotated-1"}')
            fresh = self.env["clouds.client"].with_context(clouds_no_check=True).create(
                {"name": "uncommitted", "provider": "s3"})
            fresh._cloud_store_tokens({"session_token": "rotated-2"})
            self.assertEqual(fresh.sudo().token_json, '{"session_token": "rotated-2"}')
        finally:
            with registry.cursor() as cr:
                cr.execute("DELETE FROM mail_followers WHERE res_model = 'clouds.client' "
                           "AND res_id = %s", [client_id])
                cr.execute("DELETE FROM clouds_client WHERE id = %s", [client_id])

    def test_two_workers_do_every_task_once(self):
        """Two cron workers with their own cursors share the queue: each task runs once."""
        registry = self.env.registry
        with registry.cursor() as cr:
            env = self.env(cr=cr)
            clients = env["clouds.client"].with_context(clouds_no_check=True).create(
                [{"name": f"worker {i}", "provider": "s3"} for i in range(12)])
            tasks = env["clouds.queue"]._enqueue(clients, "reverse")
            task_ids, client_ids = tasks.ids, clients.ids
        try:
            errors = []

            def worker():
                try:
                    with registry.cursor() as cr:
                        # the test runner holds the registry lock: no Registry() lookup
                        cr.transaction = Transaction(registry)
                        env = self.env(cr=cr)
                        env["clouds.queue"]._run_tasks(commit=True)
                except Exception as exc:  # noqa: BLE001 - reported below
                    errors.append(exc)

            threads = [threading.Thread(target=worker) for _ in range(2)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(20)
            self.assertFalse(any(t.is_alive() for t in threads), "a worker hangs")
            self.assertEqual(errors, [])
            with registry.cursor() as cr:
                cr.execute("SELECT state, tries FROM clouds_queue WHERE id = ANY(%s)",
                           [task_ids])
                self.assertEqual(cr.fetchall(), [("done", 1)] * len(task_ids))
                cr.execute("SELECT task_id, count(*) FROM clouds_log WHERE task_id = ANY(%s) "
                           "GROUP BY task_id", [task_ids])
                self.assertEqual(sorted(cr.fetchall()), [(t, 1) for t in sorted(task_ids)])
        finally:
            with registry.cursor() as cr:
                cr.execute("DELETE FROM clouds_log WHERE client_id = ANY(%s)", [client_ids])
                cr.execute("DELETE FROM clouds_queue WHERE id = ANY(%s)", [task_ids])
                cr.execute("DELETE FROM mail_message WHERE model = 'clouds.client' "
                           "AND res_id = ANY(%s)", [client_ids])
                cr.execute("DELETE FROM mail_followers WHERE res_model = 'clouds.client' "
                           "AND res_id = ANY(%s)", [client_ids])
                cr.execute("DELETE FROM clouds_client WHERE id = ANY(%s)", [client_ids])


WORKER = """
import sys
import odoo
from odoo import api
from odoo.modules.registry import Registry
odoo.tools.config.parse_config(sys.argv[2:])
registry = Registry(sys.argv[1])
print("ready", flush=True)
with registry.cursor() as cr:
    env = api.Environment(cr, odoo.SUPERUSER_ID, {})
    env["clouds.queue"]._cron_run(limit=None)
print("done", flush=True)
"""


@tagged("post_install", "-at_install")
class TestCrashSafety(S3Case):
    """A worker process killed at random points of a 500-file sync, then run again."""

    files = 500

    def worker(self, kill_after=None):
        """Run the queue in another process; SIGKILL it ``kill_after`` s after it starts."""
        config = odoo.tools.config
        args = [f"--addons-path={config['addons_path']}",
                f"--db_host={config['db_host'] or ''}", f"--db_port={config['db_port'] or ''}",
                f"--data-dir={config['data_dir']}", "--log-level=warn"]
        if config["db_user"]:
            args.append(f"--db_user={config['db_user']}")
        proc = subprocess.Popen([sys.executable, "-c", WORKER, self.env.cr.dbname, *args],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.assertEqual(proc.stdout.readline().strip(), "ready")
        try:
            proc.wait(timeout=kill_after if kill_after is not None else 240)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            return False
        return proc.returncode == 0

    def test_killed_worker_loses_and_duplicates_nothing(self):
        registry = self.env.registry
        rng = random.Random(8)
        with registry.cursor() as cr:
            env = self.env(cr=cr)
            client = env["clouds.client"].create({
                "name": "crash", "provider": "s3", "root_name": "Crash",
                **self.client_vals()})
            client.action_connect()
            folders = env["clouds.folder"].create([
                {"name": f"Box {i}", "own_client_id": client.id} for i in range(5)])
            env["ir.attachment"].create([
                {"name": f"file {i:03d}.bin", "clouds_folder_id": folders[i % 5].id,
                 "raw": rng.randbytes(rng.randint(1, 3000))} for i in range(self.files)])
            env["clouds.queue"]._cron_prepare()
            client_id, folder_ids = client.id, folders.ids
        try:
            kills = 0
            for delay in (0.5, 1.5, 2.5, 4.0):
                kills += not self.worker(kill_after=delay + rng.random())
            self.assertGreater(kills, 0, "no worker was killed: the test proves nothing")
            for _attempt in range(3):  # the rest, unhurried; tasks due again now
                with registry.cursor() as cr:
                    cr.execute("UPDATE clouds_queue SET next_try = NULL WHERE client_id = %s",
                               [client_id])
                    self.env(cr=cr)["clouds.queue"]._cron_prepare()
                self.assertTrue(self.worker())
            with registry.cursor() as cr:
                env = self.env(cr=cr)
                client = env["clouds.client"].browse(client_id)
                atts = env["ir.attachment"].search([("clouds_folder_id", "in", folder_ids)])
                self.assertEqual(len(atts), self.files, "nothing lost locally")
                local = {f"{a.clouds_folder_id.name}/{a.name}": hashlib.sha1(a.raw).hexdigest()
                         for a in atts}
                local.update({f.name: None for f in env["clouds.folder"].browse(folder_ids)})
                remote = {p: (hashlib.sha1(d).hexdigest() if d is not None else None)
                          for p, d in self.remote_files(client).items()}
                self.assertEqual(remote, local, "remote = local: no duplicate, no loss")
                self.assertEqual(set(atts.mapped("clouds_state")), {"synced"})
                cr.execute("SELECT count(*), count(DISTINCT remote_id) FROM clouds_sync_record "
                           "WHERE client_id = %s", [client_id])
                self.assertEqual(cr.fetchone(), (self.files + 5, self.files + 5))
        finally:
            with registry.cursor() as cr:
                env = self.env(cr=cr)
                env["ir.attachment"].search([("clouds_folder_id", "in", folder_ids)]).unlink()
                env["clouds.folder"].browse(folder_ids).unlink()
                env["clouds.log"].search([("client_id", "=", client_id)]).unlink()
                env["clouds.client"].browse(client_id).unlink()
