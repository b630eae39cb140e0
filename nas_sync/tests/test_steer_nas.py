"""Steering a connection from its form, against wsgidav: Sync now (queued, run by the
cron's trigger, the requester notified with the counts), Check connection's answer, and
the Folders tab."""

import json
from datetime import timedelta

from odoo import fields
from odoo.addons.bus.models.bus import json_dump
from odoo.addons.cloud_base.models.clouds_sync_executor import LEARNED_LIMITS
from odoo.exceptions import AccessError, UserError
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tests.common import JsonRpcException

from .test_sync_nas import NasCase


@tagged("post_install", "-at_install")
class TestSteerNas(NasCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.admin_user = new_test_user(cls.env, "steer_admin",
                                       groups="cloud_base.group_clouds_admin")
        cls.fm_user = new_test_user(cls.env, "steer_fm", groups="cloud_base.group_clouds_user")
        cls.run_cron = cls.env.ref("cloud_base.ir_cron_sync_run")

    def notifications(self, user):
        """The bus messages sent to ``user`` (their partner's channel), oldest first."""
        self.env.cr.precommit.run()  # bus.bus rows are written at commit
        channel = json_dump((self.env.cr.dbname, "res.partner", user.partner_id.id))
        rows = self.env["bus.bus"].sudo().search([("channel", "=", channel)], order="id")
        return [json.loads(row.message) for row in rows]

    def test_sync_now_queues_triggers_and_notifies_the_requester(self):
        client = self.make_client(root_name="sync now")
        self.make_tree(client)
        Trigger = self.env["ir.cron.trigger"].sudo()
        before = Trigger.search([("cron_id", "=", self.run_cron.id)])
        action = client.with_user(self.admin_user).action_sync_now()
        self.assertEqual(action["tag"], "display_notification")
        task = self.Queue.search([("client_id", "=", client.id), ("state", "=", "pending")])
        self.assertEqual(task.task_type, "sync")
        self.assertEqual(task.requested_by_ids, self.admin_user)
        self.assertTrue(Trigger.search([("cron_id", "=", self.run_cron.id)]) - before,
                        "the run cron was not triggered")
        self.assertFalse(self.notifications(self.admin_user), "notified before the run")
        # Asking again while it waits queues nothing more.
        client.with_user(self.admin_user).action_sync_now()
        self.assertEqual(self.Queue.search([("client_id", "=", client.id)]), task)

        # What the triggered cron does (``_cron_run`` commits; here one transaction).
        done = self.Queue._run_tasks()
        self.assertIn(task, done)
        log = self.env["clouds.log"].search([("task_id", "=", task.id)])
        self.assertGreater(log.operations, 0)
        messages = self.notifications(self.admin_user)
        self.assertEqual([m["type"] for m in messages], ["simple_notification"])
        payload = messages[0]["payload"]
        self.assertEqual((payload["type"], payload["ops"], payload["failed"]),
                         ("success", log.operations, 0))
        self.assertIn(f"{log.operations} operations done, 0 failed", payload["message"])
        self.assertIn(client.name, payload["message"])
        self.assertFalse(task.requested_by_ids)
        # A run nobody asked for notifies nobody.
        self.sync()
        self.assertEqual(len(self.notifications(self.admin_user)), 1)

    def test_sync_now_says_why_it_failed(self):
        client = self.make_client(root_name="sync now fails")
        self.make_tree(client)
        client.with_user(self.admin_user).action_sync_now()
        client.sudo().with_context(clouds_no_check=True).dav_password = "wrong"  # refused
        client.invalidate_recordset()
        self.Queue._run_tasks()
        payload = self.notifications(self.admin_user)[-1]["payload"]
        self.assertEqual(payload["type"], "danger", payload)
        self.assertIn(client.name, payload["message"])
        self.assertTrue(payload["sticky"])
        self.assertNotEqual(client.state, "connected")
        self.assertIn(client.pause_reason.split("\n")[0][:40], payload["message"])

    def test_sync_now_is_for_administrators(self):
        client = self.make_client(root_name="sync now refused")
        with self.assertRaises(AccessError):
            client.with_user(self.fm_user).action_sync_now()
        self.assertFalse(self.Queue.search([("client_id", "=", client.id)]))

    def test_only_administrators_choose_where_folders_sync(self):
        """Putting a folder (and everything below it) on a cloud is a decision about the
        company's data: a File Manager user who may edit the folder may not make it."""
        client = self.make_client(root_name="folder connection")
        folder = self.Folder.create({"name": "Everyone"})
        with self.assertRaises(AccessError):
            folder.with_user(self.fm_user).write({"own_client_id": client.id})
        with self.assertRaises(AccessError):
            self.Folder.with_user(self.fm_user).create({"name": "New", "own_client_id": client.id})
        folder.with_user(self.fm_user).name = "Renamed by a File Manager user"
        self.assertFalse(folder.client_id)
        folder.with_user(self.admin_user).own_client_id = client
        self.assertEqual(folder.client_id, client)
        form = self.Folder.with_user(self.fm_user).get_views([(False, "form")])
        self.assertNotIn('name="own_client_id"', form["views"]["form"]["arch"])
        self.assertIn('name="own_client_id"',
                      self.Folder.with_user(self.admin_user).get_views(
                          [(False, "form")])["views"]["form"]["arch"])

    def test_done_tasks_are_cleaned_after_a_day(self):
        """Done tasks go after a day (a large run leaves a folder task per folder); open
        and failed ones stay, and so does a done folder task of a run still waiting."""
        client = self.make_client(root_name="cleaned tasks")
        folder = self.Folder.create({"name": "Cleaned", "own_client_id": client.id})
        old = fields.Datetime.now() - timedelta(days=2)

        def task(state, done_at=None, **vals):
            return self.Queue.create(dict(vals, client_id=client.id, task_type=vals.get(
                "task_type", "sync"), state=state, done_at=done_at))

        old_run = task("done", old)
        old_part = task("done", old, task_type="folder", parent_id=old_run.id,
                        folder_id=folder.id)
        waiting_run = task("waiting")
        part_of_waiting = task("done", old, task_type="folder", parent_id=waiting_run.id,
                               folder_id=folder.id)
        recent = task("done", fields.Datetime.now())
        failed = task("failed", old)
        self.Queue._gc_done_tasks()
        self.assertFalse((old_run | old_part).exists())
        self.assertEqual((waiting_run | part_of_waiting | recent | failed).exists(),
                         waiting_run | part_of_waiting | recent | failed)

    def test_the_next_run_starts_at_the_concurrency_learned(self):
        """A NAS starts at 4 transfers and grows while it copes; the next run (a folder
        task of the same run, most often) starts where the last one ended."""
        client = self.make_client(root_name="learned concurrency", transfer_pool=8)
        folder = self.Folder.create({"name": "Learned", "own_client_id": client.id})
        key = (self.env.cr.dbname, client.id)
        self.addCleanup(LEARNED_LIMITS.pop, key, None)
        self.sync()
        self.assertIn(key, LEARNED_LIMITS)
        LEARNED_LIMITS[key] = 7  # as if a large run had grown to 7
        self.Attachment.create([{"name": f"f{i}.txt", "raw": b"x", "clouds_folder_id": folder.id}
                                for i in range(3)])
        self.sync()  # 3 uploads: from 4, the limit could not have reached 7
        self.assertGreaterEqual(LEARNED_LIMITS[key], 7)

    def test_check_connection_says_what_answered(self):
        client = self.make_client(root_name="checked")
        action = client.with_user(self.admin_user).action_check_connection()
        self.assertEqual(action["tag"], "display_notification")
        params = action["params"]
        self.assertEqual(params["type"], "success")
        self.assertIn(f"“{client.name}” works", params["message"])
        self.assertIn(f"{self.client_vals()['dav_login']} on {self.emulator.url}",
                      params["message"])
        self.assertIn("root folder “checked”", params["message"])
        client.sudo().with_context(clouds_no_check=True).dav_password = "wrong"
        with self.assertRaisesRegex(UserError, "does not work"):
            client.with_user(self.admin_user).action_check_connection()

    def test_connect_says_what_was_connected(self):
        client = self.env["clouds.client"].create({
            "name": "nas connect", "provider": self.provider_key, "root_name": "connected",
            **self.client_vals()})
        action = client.with_user(self.admin_user).action_connect()
        self.assertEqual((action["tag"], action["params"]["type"]),
                         ("display_notification", "success"))
        self.assertIn("“nas connect” is connected", action["params"]["message"])
        self.assertIn(f"{self.client_vals()['dav_login']} on {self.emulator.url}",
                      action["params"]["message"])
        self.assertIn("root folder “connected”", action["params"]["message"])
        # then the form reloads (Odoo runs the close action's onClose): it shows "Connected"
        self.assertEqual(action["params"]["next"], {"type": "ir.actions.act_window_close"})

    def test_synced_items_name_their_connection(self):
        client = self.make_client(root_name="badges")
        _rule, _people, projects = self.make_tree(client)
        loose = self.Folder.create({"name": "Not synced"})
        self.sync()
        nodes = {n["id"]: n for n in self.Folder.clouds_fm_children(False)}
        self.assertEqual(nodes[projects.id]["client_name"], client.name)
        self.assertFalse(nodes[loose.id]["client_name"])
        files = self.Attachment.search([("clouds_folder_id", "in", projects.ids)])
        self.assertEqual(files.mapped("clouds_client_name"), [client.name])
        unsynced = self.Attachment.create({"name": "here.txt", "raw": b"x",
                                           "clouds_folder_id": loose.id})
        self.assertFalse(unsynced.clouds_client_name)
        arch = self.env["ir.attachment"].get_view(
            self.env.ref("cloud_base.ir_attachment_view_kanban_file_manager").id)["arch"]
        self.assertIn("o_clouds_client", arch)

    def test_folders_tab_lists_inherited_folders(self):
        client = self.make_client(root_name="tab")
        rule, people, projects = self.make_tree(client)
        alpha = projects.child_ids
        by_rule = self.Folder.search([("rule_id", "=", rule.id), ("res_id", "in", people.ids)])
        self.assertEqual(len(by_rule), 2)
        self.assertFalse((by_rule | alpha).own_client_id, "inherited, not set on them")
        mine = client.with_user(self.admin_user)
        self.assertEqual(mine.folder_ids, self.Folder.search([("client_id", "=", client.id)]))
        self.assertLessEqual(projects | alpha | by_rule, mine.folder_ids)
        # Counts are the files one may read, as everywhere (here: every file).
        rows = {row["complete_name"]: row for row in client.folder_ids.read(
            ["complete_name", "attachment_count", "own_client_id"])}
        self.assertEqual(rows["Projects / Alpha"]["attachment_count"], 1)
        self.assertEqual(rows["Projects"]["attachment_count"], 1)
        self.assertEqual(rows["Projects"]["own_client_id"][0], client.id)
        # The form's tab shows them (the view's list of that field).
        arch = self.env["clouds.client"].get_views([(False, "form")])["views"]["form"]["arch"]
        self.assertIn('name="attachment_count"', arch)


@tagged("post_install", "-at_install")
class TestSteerRpc(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        new_test_user(cls.env, "steer_rpc_fm", groups="cloud_base.group_clouds_user")
        new_test_user(cls.env, "steer_rpc_admin", groups="cloud_base.group_clouds_admin")
        cls.client = cls.env["clouds.client"].with_context(clouds_no_check=True).create({
            "name": "rpc", "provider": "webdav", "dav_url": "http://127.0.0.1:9/",
            "state": "connected"})

    def test_sync_now_refused_to_a_file_manager_user_over_rpc(self):
        client = self.client
        self.authenticate("steer_rpc_fm", "steer_rpc_fm")
        with self.assertRaises(JsonRpcException) as caught:
            self.make_jsonrpc_request("/web/dataset/call_kw/clouds.client/action_sync_now", {
                "model": "clouds.client", "method": "action_sync_now", "args": [client.ids],
                "kwargs": {}})
        self.assertIn("AccessError", str(caught.exception))
        self.assertFalse(self.env["clouds.queue"].search([("client_id", "=", client.id)]))

    def test_oauth_start_refused_is_a_readable_page(self):
        url = f"/cloud_base/oauth/start/{self.client.id}"
        self.authenticate("steer_rpc_fm", "steer_rpc_fm")
        response = self.url_open(url, allow_redirects=False)
        self.assertEqual(response.status_code, 403)
        self.assertIn("text/html", response.headers["Content-Type"])
        self.assertIn("<h1>Not allowed</h1>", response.text)
        self.assertIn("Only cloud storage administrators connect accounts.", response.text)
        self.assertIn("href='/odoo/action-cloud_base.action_clouds_clients'", response.text)
        # An administrator on a connection without a consent page: why, not a server error.
        self.authenticate("steer_rpc_admin", "steer_rpc_admin")
        response = self.url_open(url, allow_redirects=False)
        self.assertEqual(response.status_code, 400)
        self.assertIn("<h1>Not connected</h1>", response.text)
        self.assertIn("has no connect flow", response.text)
