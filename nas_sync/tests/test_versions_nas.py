"""Versions on a plain WebDAV server, which keeps none: Odoo keeps the previous contents
the sync replaces (up to the number set in Settings), lists, streams and restores them;
access follows the file's, through the model, RPC and the download route."""

import base64

from odoo import Command
from odoo.exceptions import AccessError, MissingError, UserError, ValidationError
from odoo.tests import HttpCase, new_test_user, tagged

from .test_sync_nas import NasCase

PARAM = "cloud_base.versions_keep"


@tagged("post_install", "-at_install")
class TestVersionsNas(HttpCase, NasCase):
    def setUp(self):
        super().setUp()
        self.client = self.make_client(root_name=self._testMethodName)
        self.folder = self.Folder.create({"name": "Versions", "own_client_id": self.client.id})
        # a file of the folder's record: employees read it, only File Manager users change it
        self.att = self.Attachment.create({
            "name": "contract.txt", "raw": b"v1 first", "clouds_folder_id": self.folder.id,
            "res_model": "clouds.folder", "res_id": self.folder.id})
        self.sync()
        self.assertEqual(self.att.clouds_state, "synced")
        self.Version = self.env["clouds.file.version"]

    def edit_in_cloud(self, data):
        self.put(self.client, "Versions/contract.txt", data)
        self.assertSyncOps(self.sync(), 1)
        self.env.invalidate_all()
        self.assertEqual(self.att.raw, data)

    def kept(self):
        return self.Version.search([("attachment_id", "=", self.att.id)])

    def test_backward_update_keeps_previous_bytes_up_to_the_limit(self):
        self.env["ir.config_parameter"].set_param(PARAM, "2")
        shared = self.att.store_fname
        self.edit_in_cloud(b"v2 second")
        version = self.kept()
        self.assertEqual(len(version), 1)
        self.assertEqual((version.data, version.file_size, version.name),
                         (base64.b64encode(b"v1 first"), 8, "contract.txt"))
        # the kept version shares the filestore file the attachment had (nothing copied)
        content = version._clouds_content()
        self.assertEqual((content.raw, content.store_fname), (b"v1 first", shared))
        self.edit_in_cloud(b"v3 third")
        self.edit_in_cloud(b"v4 fourth")
        self.assertEqual([v._clouds_content().raw for v in self.kept()],
                         [b"v3 third", b"v2 second"], "not the newest two, newest first")
        listed = self.att.clouds_versions()
        self.assertEqual([(v["id"], v["current"], v["kept"], v["size"]) for v in listed], [
            ("current", True, False, 9),
            *((f"odoo:{v.id}", False, True, v.file_size) for v in self.kept())])
        self.assertEqual(self.version_bytes(self.att, listed[1]["id"]), b"v3 third")
        self.assertEqual(self.version_bytes(self.att, "current"), b"v4 fourth")
        # 0: none kept; a change made in Odoo is never kept (Odoo had it, the cloud gets it)
        self.env["ir.config_parameter"].set_param(PARAM, "0")
        self.edit_in_cloud(b"v5 fifth")
        self.att.raw = b"v6 from Odoo"
        self.env["ir.config_parameter"].set_param(PARAM, "5")
        self.assertSyncOps(self.sync(), 1)
        self.assertEqual(len(self.kept()), 2)
        # the file's versions go with it
        contents = self.kept().mapped(lambda v: v._clouds_content())
        self.att.unlink()
        self.assertFalse(self.kept().exists() or contents.exists())

    def test_restore_a_kept_version_is_synced_as_a_local_change(self):
        self.edit_in_cloud(b"v2 second, longer")
        old = self.kept()
        self.att.clouds_version_restore(f"odoo:{old.id}")
        self.env.invalidate_all()
        self.assertEqual(self.att.raw, b"v1 first")
        self.assertEqual(self.att.clouds_state, "local", "not verified: the cleaner waits")
        replaced = self.kept() - old
        self.assertEqual(replaced._clouds_content().raw, b"v2 second, longer",
                         "restoring lost the content it replaced")
        self.assertIn("Version restored", self.att.clouds_history)
        self.assertSyncOps(self.sync(), 1)  # uploaded as any local change
        self.assertEqual(self.remote_files(self.client)["Versions/contract.txt"], b"v1 first")
        self.assertEqual(self.att.clouds_state, "synced")
        self.assertSyncOps(self.sync(), 0)
        with self.assertRaises(UserError):  # the current content is not restored onto itself
            self.att.clouds_version_restore("current")

    def test_restore_onto_a_cloud_only_file_keeps_its_cloud_content(self):
        """The current bytes live only on the server (cleaned after the grace period):
        restoring a kept version fetches them first and keeps them as a version."""
        self.edit_in_cloud(b"v2 second")
        old = self.kept()
        self.client.grace_days = 0
        self.Attachment._cron_clouds_clean()
        self.env.invalidate_all()
        self.assertTrue(self.att._clouds_link_only())
        self.att.clouds_version_restore(f"odoo:{old.id}")
        self.env.invalidate_all()
        self.assertFalse(self.att._clouds_link_only())
        self.assertEqual(self.att.raw, b"v1 first")
        self.assertEqual((self.kept() - old)._clouds_content().raw, b"v2 second")
        self.assertSyncOps(self.sync(), 1)
        self.assertEqual(self.remote_files(self.client)["Versions/contract.txt"], b"v1 first")
        self.assertSyncOps(self.sync(), 0)

    def test_download_route_streams_a_listed_version_only(self):
        self.edit_in_cloud(b"v2 second")
        version = self.kept()
        other = self.Attachment.create({"name": "other.txt", "raw": b"x",
                                        "clouds_folder_id": self.folder.id})
        self.authenticate("admin", "admin")
        response = self.url_open(f"/cloud_base/version/{self.att.id}/odoo:{version.id}")
        self.assertEqual(response.status_code, 200, response.text[:300])
        self.assertEqual(response.content, b"v1 first")
        self.assertIn("contract.txt", response.headers["Content-Disposition"])
        self.assertTrue(response.headers["Content-Type"].startswith("text/plain"))
        self.assertEqual(self.url_open(f"/cloud_base/version/{self.att.id}/current").content,
                         b"v2 second")
        for forged in (f"/cloud_base/version/{other.id}/odoo:{version.id}",
                       f"/cloud_base/version/{self.att.id}/odoo:{version.id + 1000}",
                       f"/cloud_base/version/{self.att.id}/cloud:anything",
                       f"/cloud_base/version/{self.att.id + 1000}/current"):
            self.assertEqual(self.url_open(forged).status_code, 403, forged)

    def test_access_follows_the_file(self):
        self.edit_in_cloud(b"v2 second")
        version = self.kept()
        content = version._clouds_content()
        reader = new_test_user(self.env, "versions_reader", groups="base.group_user")
        editor = new_test_user(self.env, "versions_editor",
                               groups="base.group_user,cloud_base.group_clouds_user")
        # both read the file: they list, download and search its versions
        for user in (reader, editor):
            att = self.att.with_user(user)
            self.assertEqual(len(att.clouds_versions()), 2)
            self.assertEqual(self.version_bytes(att, f"odoo:{version.id}"), b"v1 first")
            self.assertEqual(self.Version.with_user(user).search_read(
                [], ["attachment_id"]), [{"id": version.id,
                                          "attachment_id": (self.att.id, "contract.txt")}])
        # the reader may not change the file (the folder's record): no restore
        with self.assertRaises(AccessError):
            self.att.with_user(reader).clouds_version_restore(f"odoo:{version.id}")
        self.att.with_user(editor).clouds_version_restore(f"odoo:{version.id}")
        self.assertEqual(self.att.raw, b"v1 first")
        # nobody changes a kept version's bytes
        for user in (reader, editor):
            with self.assertRaises(AccessError):
                content.with_user(user).write({"raw": b"forged"})
            with self.assertRaises(AccessError):
                version.with_user(user).unlink()
        # once the folder is hidden from them: nothing, by any path
        self.folder.group_ids = [Command.set(self.env.ref("cloud_base.group_clouds_admin").ids)]
        self.env.invalidate_all()
        for user in (reader, editor):
            att = self.att.with_user(user)
            with self.assertRaises(AccessError):
                att.clouds_versions()
            with self.assertRaises(AccessError):
                att.clouds_version_restore(f"odoo:{version.id}")
            with self.assertRaises(AccessError):
                att._clouds_version_stream(f"odoo:{version.id}")
            Version = self.Version.with_user(user)
            self.assertEqual(Version.search_read([], ["name"]), [])
            self.assertEqual(Version.search_count([("attachment_id", "=", self.att.id)]), 0)
            with self.assertRaises(AccessError):
                Version.browse(version.id).read(["name", "data"])
            with self.assertRaises(AccessError):
                content.with_user(user).read(["raw"])
            self.assertFalse(self.Attachment.with_user(user).search(
                [("id", "=", content.id)]))
            self.authenticate(user.login, user.login)
            for url in (f"/cloud_base/version/{self.att.id}/odoo:{version.id}",
                        f"/cloud_base/version/{self.att.id}/current",
                        f"/web/content/{content.id}",
                        f"/web/content/clouds.file.version/{version.id}/data"):
                response = self.url_open(url)
                self.assertIn(response.status_code, (403, 404), url)
                self.assertNotIn(b"v1 first", response.content, url)

    def test_settings_keep_zero_means_none(self):
        Settings = self.env["res.config.settings"]
        self.assertEqual(Settings.create({}).clouds_versions_keep, 5)  # the default
        Settings.create({"clouds_versions_keep": 0}).execute()
        self.assertEqual(Settings.create({}).clouds_versions_keep, 0)
        self.edit_in_cloud(b"v2 second")
        self.assertFalse(self.kept())
        with self.assertRaises(ValidationError):
            Settings.create({"clouds_versions_keep": -1})

    def test_connection_not_ready_is_a_clear_error(self):
        self.client.state = "paused"
        with self.assertRaisesRegex(UserError, "not ready"):
            self.att.clouds_versions()
        with self.assertRaises(MissingError):
            self.att.clouds_version_restore("odoo:0")
