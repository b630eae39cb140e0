"""Followers of a connection, against wsgidav: one message when the sync stops (deletion
guard, lost credentials), none while it stays stopped, one when it resumes; each follower
can switch the subtype off; and the daily digest of failures (a setting)."""

import os

from odoo.tests import new_test_user, tagged

from .test_sync_nas import NasCase


@tagged("post_install", "-at_install")
class TestFollowersNas(NasCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.follower = new_test_user(cls.env, "clouds_follower", notification_type="inbox",
                                     groups="cloud_base.group_clouds_admin")
        cls.quiet = new_test_user(cls.env, "clouds_quiet", notification_type="inbox",
                                  groups="cloud_base.group_clouds_admin")

    def follow(self, client):
        """``follower`` with the default subtypes, ``quiet`` with discussions only."""
        client.message_subscribe(partner_ids=self.follower.partner_id.ids)
        client.message_subscribe(partner_ids=self.quiet.partner_id.ids,
                                 subtype_ids=self.env.ref("mail.mt_comment").ids)

    def messages(self, client, subtype):
        subtype = self.env.ref(f"cloud_base.{subtype}")
        return client.message_ids.filtered(lambda m: m.subtype_id == subtype)

    def assertNotified(self, message):
        notified = message.notification_ids.res_partner_id
        self.assertIn(self.follower.partner_id, notified)
        self.assertNotIn(self.quiet.partner_id, notified, "this follower opted out")

    def test_deletion_guard_tells_the_followers_once(self):
        client = self.make_client(root_name="guarded")
        self.follow(client)
        folder = self.Folder.create({"name": "Many", "own_client_id": client.id})
        for i in range(8):
            self.Attachment.create({"name": f"f{i}.txt", "clouds_folder_id": folder.id,
                                    "raw": b"x%d" % i})
        self.sync()
        for i in range(8):
            os.remove(os.path.join(self.files, "guarded", "Many", f"f{i}.txt"))
        with self.assertLogs("odoo.addons.cloud_base", "WARNING"):
            self.sync()
        self.assertEqual(client.state, "paused")
        stopped = self.messages(client, "mt_clouds_stopped")
        self.assertEqual(len(stopped), 1)
        self.assertIn("deletion guard", stopped.body)
        self.assertIn("delete 8", stopped.body)
        self.assertNotified(stopped)

        # Still paused: the next cycle, a Sync now and a second stop post nothing more.
        self.sync()
        self.Queue._enqueue(client, "sync")
        self.Queue._run_tasks()
        with self.assertLogs("odoo.addons.cloud_base", "WARNING"):
            client._cloud_pause("another folder task of the same run")
        self.assertEqual(self.messages(client, "mt_clouds_stopped"), stopped)
        self.assertEqual(self.Attachment.search_count([("clouds_folder_id", "=", folder.id)]),
                         8, "nothing deleted on a guess")

        client.action_reconnect()
        self.assertEqual(client.state, "connected")
        resumed = self.messages(client, "mt_clouds_resumed")
        self.assertEqual(len(resumed), 1)
        self.assertNotified(resumed)

    def test_lost_credentials_need_reconnecting_once(self):
        client = self.make_client(root_name="locked")
        self.follow(client)
        self.Folder.create({"name": "Docs", "own_client_id": client.id})
        self.emulator.faults.inject(401, count=1000)
        self.addCleanup(self.emulator.faults.clear)
        with self.assertLogs("odoo.addons.cloud_base", "WARNING"):
            self.sync()
        self.assertEqual(client.state, "needs_reconnect")
        stopped = self.messages(client, "mt_clouds_stopped")
        self.assertEqual(len(stopped), 1)
        self.assertIn("needs reconnecting", stopped.body)
        self.assertNotified(stopped)
        self.sync()
        self.assertEqual(self.messages(client, "mt_clouds_stopped"), stopped)

        self.emulator.faults.clear()
        client.action_reconnect()
        self.assertEqual(client.state, "connected")
        self.sync()
        self.assertEqual(client.state, "connected")
        self.assertEqual(self.messages(client, "mt_clouds_stopped"), stopped)

    def test_daily_digest_of_failures(self):
        failing = self.make_client(root_name="digest")
        fine = self.make_client(root_name="fine")
        for client in failing | fine:
            self.follow(client)
            folder = self.Folder.create({"name": "Projects", "own_client_id": client.id})
            self.Attachment.create({"name": "a.txt", "clouds_folder_id": folder.id,
                                    "raw": b"a"})
        self.emulator.faults.inject(400, count=1000, match=r"^PUT .*/digest/")
        self.addCleanup(self.emulator.faults.clear)
        self.sync()
        self.assertEqual(failing.last_stat_id.failures, 1)
        cron = self.env.ref("cloud_base.ir_cron_failure_digest")

        # Off by default: the cron posts nothing.
        cron.method_direct_trigger()
        self.assertFalse(self.messages(failing, "mt_clouds_digest"))

        self.env["res.config.settings"].create({"clouds_failure_digest": True}).execute()
        cron.method_direct_trigger()
        digest = self.messages(failing, "mt_clouds_digest")
        self.assertEqual(len(digest), 1)
        self.assertIn("1 runs failed or had failures, 1 operations failed", digest.body)
        self.assertIn("a.txt", digest.body)
        self.assertNotified(digest)
        self.assertFalse(self.messages(fine, "mt_clouds_digest"), "nothing failed there")

        # The cron run again the same day (twice a day, or by hand): nothing twice.
        cron.method_direct_trigger()
        self.assertEqual(self.messages(failing, "mt_clouds_digest"), digest)
        # One more failure: the next digest reports it alone (runs are told apart by
        # their statistics rows, not by the clock).
        self.emulator.faults.clear()  # a.txt goes out now; b.txt fails
        self.emulator.faults.inject(400, count=1000, match=r"^PUT .*/digest/.*b\.txt")
        self.Attachment.create({"name": "b.txt", "clouds_folder_id": self.Folder.search(
            [("own_client_id", "=", failing.id)]).id, "raw": b"b"})
        self.Queue.search([("state", "=", "pending")]).next_try = False  # retried now
        self.sync()
        cron.method_direct_trigger()
        second = self.messages(failing, "mt_clouds_digest") - digest
        self.assertEqual(len(second), 1)
        self.assertIn("1 runs failed or had failures, 1 operations failed", second.body)
        self.assertIn("b.txt", second.body)
        self.assertNotIn("a.txt", second.body)

        # Failures older than 24 hours are not repeated.
        self.env.flush_all()
        for table, column in (("clouds_sync_stat", "date"), ("clouds_log", "create_date"),
                              ("clouds_log_operation", "create_date")):
            self.env.cr.execute(
                f"UPDATE {table} SET {column} = {column} - interval '2 days'")  # noqa: S608
        self.env.invalidate_all()
        self.assertFalse(self.env["clouds.client"]._cron_failure_digest())
