"""The dashboard, the operation log and the audit trail, against wsgidav: statistics and
operation lines written by real runs, the dashboard's reads bounded with a long history,
an attachment's history across sync, share download and reset, and who may read it."""

import threading

from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import HttpCase, new_test_user, tagged

from .test_sync_nas import NasCase

# the fields a dashboard card reads (the kanban view's)
CARD = ["name", "provider", "state", "pause_reason", "last_stat_id", "last_run_date",
        "last_run_duration", "last_run_operations", "last_run_failures",
        "last_run_requests", "tasks_waiting", "tasks_running", "tasks_failed",
        "files_synced", "bytes_synced", "files_waiting", "bytes_waiting", "files_failed",
        "bytes_cloud_only"]


@tagged("post_install", "-at_install")
class TestDashboardNas(NasCase):
    def test_runs_write_statistics_and_their_operations(self):
        client = self.make_client(root_name="stats")
        _rule, _people, projects = self.make_tree(client)
        log = self.sync()
        stat = client.last_stat_id
        self.assertEqual(stat.log_id, log)
        files = self.Attachment.search([("clouds_client_id", "=", client.id)])
        self.assertEqual((stat.ops_up, stat.ops_down, stat.failures),
                         (log.operations, 0, 0))
        self.assertEqual(stat.files_synced, len(files))
        self.assertEqual(stat.bytes_up, sum(files.mapped("file_size")))
        self.assertEqual(stat.bytes_moved, stat.bytes_up)
        self.assertGreater(stat.requests, log.operations, "each creation is a request")
        self.assertEqual(stat.files_waiting, 0)
        # one line per operation, on the run's log
        ops = log.operation_ids
        self.assertEqual(len(ops), log.operations)
        self.assertEqual(set(ops.mapped("direction")), {"up"})
        self.assertEqual(set(ops.mapped("kind")), {"create"})
        plan = files.filtered(lambda a: a.name == "plan.bin")
        line = ops.filtered(lambda o: o.attachment_id == plan)
        self.assertEqual((line.name, line.path_before, line.path_after, line.size),
                         ("plan.bin", False, "Projects/Alpha/plan.bin", plan.file_size))
        self.assertEqual(ops.filtered(lambda o: o.name == "Alpha").folder_id,
                         projects.child_ids)

        # A file added in the cloud and a rename in Odoo: one line down, one up.
        self.put(client, "Projects/from-cloud.txt", b"made remotely")
        plan.name = "plan-v2.bin"
        log2 = self.sync()
        kinds = {(o.kind, o.direction, o.name, o.path_before or "", o.path_after)
                 for o in log2.operation_ids}
        self.assertEqual(kinds, {
            ("create", "down", "from-cloud.txt", "", "Projects/from-cloud.txt"),
            ("rename", "up", "plan-v2.bin", "Projects/Alpha/plan.bin",
             "Projects/Alpha/plan-v2.bin"),
        })
        stat2 = client.last_stat_id
        self.assertEqual((stat2.ops_up, stat2.ops_down), (1, 1))
        self.assertEqual(stat2.bytes_down, len(b"made remotely"))
        self.assertEqual(stat2.files_synced, len(files) + 1)
        created = log2.operation_ids.filtered(lambda o: o.direction == "down").attachment_id
        self.assertEqual(created.name, "from-cloud.txt")
        # the chart "operations per hour by direction" (Sync Operations' graph view)
        groups = self.env["clouds.log.operation"].read_group(
            [("client_id", "=", client.id)], ["__count"], ["create_date:hour", "direction"],
            lazy=False)
        self.assertEqual(sorted((g["direction"], g["__count"]) for g in groups),
                         [("down", 1), ("up", log.operations + 1)])

    def test_a_run_with_nothing_to_do_takes_the_counts_of_the_row_before(self):
        """Counting the connection's files grows with the tree: a run that did nothing
        writes its row with the counts of the one before, and no counting query."""
        client = self.make_client(root_name="idle stats")
        self.make_tree(client)
        self.sync()
        self.sync()
        before = client.last_stat_id
        self.assertTrue(before.files_synced)
        queries = []
        thread = threading.current_thread()
        thread.query_hooks = (*getattr(thread, "query_hooks", ()),
                              lambda _cr, query, *_args: queries.append(str(query)))
        try:
            self.assertSyncOps(self.sync(), 0)
        finally:
            thread.query_hooks = thread.query_hooks[:-1]
        idle = client.last_stat_id
        self.assertNotEqual(idle, before)
        fields = ["files_synced", "bytes_synced", "files_waiting", "bytes_waiting",
                  "bytes_cloud_only"]
        self.assertEqual(idle.read(fields)[0] | {"id": 0}, before.read(fields)[0] | {"id": 0})
        self.assertTrue(queries)
        counting = [q for q in queries if "ir_attachment" in q and "GROUP BY" in q]
        self.assertFalse(counting, "a run with nothing to do counted the files")

    def test_a_failed_operation_has_its_line_with_the_reason(self):
        client = self.make_client(root_name="fails")
        projects = self.Folder.create({"name": "Projects", "own_client_id": client.id})
        att = self.Attachment.create({"name": "a.txt", "clouds_folder_id": projects.id,
                                      "raw": b"a"})
        self.emulator.faults.inject(400, count=1000, match=r"^PUT ")
        self.addCleanup(self.emulator.faults.clear)
        self.sync()
        log = self.env["clouds.log"].search([("client_id", "=", client.id)], limit=1)
        failed = log.operation_ids.filtered(lambda o: o.state == "failed")
        self.assertIn(att, failed.attachment_id)
        self.assertTrue(all(o.error for o in failed))
        self.assertEqual(client.last_stat_id.files_failed, 1)

    def test_dashboard_reads_in_bounded_queries_with_a_long_history(self):
        clients = [self.make_client(root_name=f"dash {i}") for i in range(2)]
        for client in clients:
            self.Folder.create({"name": f"Top {client.id}", "own_client_id": client.id})
        self.sync()
        Client = self.env["clouds.client"]
        spec = dict.fromkeys(CARD, {})

        def card_queries():
            self.env.invalidate_all()
            before = self.env.cr.sql_log_count
            rows = Client.web_search_read([("id", "in", [c.id for c in clients])], spec)
            return self.env.cr.sql_log_count - before, rows

        short, rows = card_queries()
        self.assertTrue(all(r["last_stat_id"] for r in rows["records"]))
        # 10,000 more runs of history (5,000 each)
        self.env.flush_all()
        self.env.cr.execute("""
            INSERT INTO clouds_sync_stat (client_id, date, duration, operations, ops_up,
                ops_down, failures, requests, level)
            SELECT c, now() AT TIME ZONE 'UTC' - n * interval '1 minute', 1.5, 3, 2, 1,
                   n %% 7, 9, 'info'
            FROM generate_series(1, 5000) n, unnest(%s::int[]) c""",
                            [[c.id for c in clients]])
        self.assertEqual(self.env["clouds.sync.stat"].search_count([]), 10002)
        long, rows = card_queries()
        self.assertEqual(long, short)
        self.assertLessEqual(long, 8)
        # the charts: one grouped query whatever the history
        before = self.env.cr.sql_log_count
        groups = self.env["clouds.sync.stat"].read_group(
            [], ["ops_up:sum", "ops_down:sum", "failures:sum"], ["date:hour"], lazy=False)
        self.assertLessEqual(self.env.cr.sql_log_count - before, 4)
        self.assertEqual(sum(g["ops_up"] for g in groups),
                         2 * 5000 * 2 + sum(c.last_stat_id.ops_up for c in clients))

    def test_history_is_pruned_by_the_setting(self):
        client = self.make_client(root_name="pruned")
        self.Folder.create({"name": "Top", "own_client_id": client.id})
        log = self.sync()
        self.env.flush_all()
        for table, column in (("clouds_log", "create_date"), ("clouds_sync_stat", "date"),
                              ("clouds_log_operation", "create_date")):
            self.env.cr.execute(
                f"UPDATE {table} SET {column} = now() - interval '40 days'")  # noqa: S608
        self.env["ir.config_parameter"].set_param("cloud_base.history_days", "60")
        self.env["clouds.sync.stat"]._gc_history()
        self.assertTrue(log.exists() and log.operation_ids and client.last_stat_id.exists())
        self.env["ir.config_parameter"].set_param("cloud_base.history_days", "30")
        self.env["clouds.sync.stat"]._gc_history()
        self.assertFalse(log.exists())
        self.assertFalse(self.env["clouds.log.operation"].search([("client_id", "=", client.id)]))
        self.assertFalse(client.last_stat_id)

    def test_operation_lines_are_for_administrators(self):
        client = self.make_client(root_name="lines")
        self.Folder.create({"name": "Top", "own_client_id": client.id})
        self.sync()
        fm = new_test_user(self.env, "lines_fm", groups="cloud_base.group_clouds_user")
        portal = new_test_user(self.env, "lines_portal", groups="base.group_portal")
        for user in (fm, portal):
            for model in ("clouds.log.operation", "clouds.sync.stat", "clouds.log"):
                with self.assertRaises(AccessError):
                    self.env[model].with_user(user).search([])
        # the dashboard's numbers and buttons on a connection are for administrators
        with self.assertRaises(AccessError):
            client.with_user(fm).read(["last_run_operations"])
        for action in ("action_open_last_log", "action_open_stats"):
            with self.assertRaises(AccessError):
                getattr(client.with_user(fm), action)()
        # portal users never read a file's history
        att = self.Attachment.create({"name": "mine.txt", "raw": b"x",
                                      "res_model": "res.partner",
                                      "res_id": portal.partner_id.id})
        with self.assertRaises(AccessError):
            att.with_user(portal).read(["clouds_history"])


@tagged("post_install", "-at_install")
class TestHistoryNas(NasCase, HttpCase):
    """Needs cloud_share (installed with the suite)."""

    def test_history_across_sync_share_download_and_reset(self):
        self.assertIn("clouds.share", self.env, "the suite's tests install cloud_share")
        client = self.make_client(root_name="history")
        projects = self.Folder.create({"name": "Projects", "own_client_id": client.id})
        # files of the folder itself: whoever may read the folder reads them
        att, other = self.Attachment.create([{
            "name": name, "clouds_folder_id": projects.id, "raw": data,
            "res_model": "clouds.folder", "res_id": projects.id,
        } for name, data in (("report.txt", b"quarterly"), ("other.txt", b"other"))])
        self.sync()
        att.name = "report-final.txt"
        self.sync()
        owner = new_test_user(self.env, "hist_owner", groups="cloud_base.group_clouds_user")
        fm = new_test_user(self.env, "hist_fm", groups="cloud_base.group_clouds_user")
        portal = new_test_user(self.env, "hist_portal", groups="base.group_portal")
        share = self.env["clouds.share"].with_user(owner).create({
            "name": "Reports", "attachment_ids": [Command.link(att.id), Command.link(other.id)],
            "partner_ids": [Command.link(portal.partner_id.id)]})
        share = share.sudo()
        answer = self.url_open(f"/my/shares/{share.id}/files/{att.id}"
                               f"?access_token={share.access_token}")
        self.assertEqual(answer.content, b"quarterly")
        self.authenticate("hist_portal", "hist_portal")
        self.url_open(f"/my/shares/{share.id}/files/{other.id}").raise_for_status()
        client.with_context(clouds_no_check=True)._cloud_reverse()

        accesses = self.env["clouds.share.access"].search([("share_id", "=", share.id)])
        self.assertEqual(sorted(accesses.mapped("attachment_id.name")),
                         ["other.txt", "report-final.txt"])
        self.assertEqual(set(accesses.mapped("ip")), {"127.0.0.1"})
        self.assertEqual(accesses.filtered(lambda a: a.attachment_id == other).user_id, portal)

        history = str(att.with_user(owner).clouds_history)
        for expected in ("Created (Odoo → cloud", "Renamed (Odoo → cloud",
                         "Projects/report.txt → Projects/report-final.txt", "Shared",
                         "Downloaded through the share “Reports”", "from 127.0.0.1",
                         "Brought back into Odoo"):
            self.assertIn(expected, history)
        self.assertLess(history.index("Brought back"), history.index("Created ("),
                        "newest first")
        # A File Manager user who may read the file sees its sync history, but not the
        # accesses of a share that is not theirs.
        seen = str(att.with_user(fm).clouds_history)
        self.assertIn("Renamed", seen)
        self.assertNotIn("127.0.0.1", seen)
        self.assertFalse(self.env["clouds.share.access"].with_user(fm).search([]))
        self.assertEqual(self.env["clouds.share.access"].with_user(owner).search(
            [("share_id", "=", share.id)]), accesses)
        with self.assertRaises(AccessError):
            self.env["clouds.share.access"].with_user(portal).search([])
        # folders have their history too
        self.assertIn("Created", str(projects.with_user(fm).clouds_history))


@tagged("post_install", "-at_install")
class TestDashboardTour(NasCase, HttpCase):
    def test_dashboard_tour(self):
        client = self.make_client(name="Tour NAS", root_name="tour")
        self.make_tree(client)
        self.sync()
        self.start_tour("/odoo/action-cloud_base.action_clouds_dashboard",
                        "cloud_base_dashboard", login="admin", timeout=180)
        task = self.Queue.search([("client_id", "=", client.id), ("state", "=", "pending")])
        self.assertEqual(task.requested_by_ids, self.env.ref("base.user_admin"))
