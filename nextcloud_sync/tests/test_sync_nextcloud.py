"""End to end against the Nextcloud emulator (WebDAV + OCS), read back from its disk."""

import os

import requests
from odoo.addons.cloud_base.tests.test_sync_common import SyncCase, disk_tree
from odoo.exceptions import UserError
from odoo.tests import tagged

from cloud_sync.emulators.nextcloud import APP_PASSWORD, FILES_DAV, USER, NextcloudEmulator


class NextcloudCase(SyncCase):
    """The sync helpers against a Nextcloud emulator of the test class's own."""

    provider_key = "nextcloud"
    version_gap = 1.05  # versions are named by the second of the content they replace

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.emulator = NextcloudEmulator().start()
        cls.addClassCleanup(cls.emulator.stop)

    def client_vals(self):
        return {"nc_url": self.emulator.url, "nc_user": USER, "nc_password": APP_PASSWORD}

    def remote_files(self, client):
        return disk_tree(self.emulator.app.fs_path(client.root_name))

    def put(self, client, path, data):
        answer = requests.put(f"{self.emulator.url}{FILES_DAV}/{client.root_name}/{path}",
                              data=data, auth=(USER, APP_PASSWORD), timeout=10)
        answer.raise_for_status()


@tagged("post_install", "-at_install")
class TestNextcloudSync(NextcloudCase):
    def test_versions_list_download_restore(self):
        self.assertVersionsListDownloadRestore(self.make_client(root_name="Versions"))

    def test_round_trip(self):
        self.round_trip()

    def test_open_in_cloud_follows_public_links_option(self):
        """Public Links off: the internal /f/ link (for signed-in users); on: a public
        share, made only for users who may change the item (readers keep /f/)."""
        client = self.make_client(root_name="Links")  # its own remote root
        file, folder, reader, editor = self.link_setup(client)
        signed_in = requests.Session()
        signed_in.auth = (USER, APP_PASSWORD)
        internal = self.open_in_cloud(file, editor)
        self.assertIn("/f/", internal)
        self.assertOpens(internal, file, signed_in)
        self.assertFalse(self.emulator.app.shares)
        client.nc_public_links = True
        public = self.open_in_cloud(file, editor)
        self.assertRegex(public, r"/s/[^/]+/download$")
        self.assertOpens(public, file)  # anonymous: the bytes
        self.assertEqual(self.open_in_cloud(file, reader), internal)
        shared_folder = self.open_in_cloud(folder, editor)
        self.assertRegex(shared_folder, r"/s/[^/]+$")
        self.assertOpens(shared_folder, folder)
        self.assertIn("/f/", self.open_in_cloud(folder, reader))
        client.sudo().database_uuid = "a-copy-of-the-database"  # shares nothing from a copy
        self.assertEqual(self.open_in_cloud(folder, editor), self.open_in_cloud(folder, reader))
        self.assertLinksRefused(file, folder, reader)
    def test_converges_under_random_faults(self):
        self.assertConvergesUnderFaults(kinds=("429", "503", "500", "timeout"))  # app password

    def test_interrupted_large_upload_resumes_in_the_next_run(self):
        """Chunking v2: the third chunk fails until the run gives up; the next run lists
        the upload folder (PROPFIND) and sends chunks 3 and 4 only."""
        self.assertInterruptedUploadResumes(r"^PUT /remote\.php/dav/uploads/[^ ]+/3$")
        self.assertEqual(os.listdir(self.emulator.app.uploads_dir), [])

    def test_wrong_app_password_is_a_clear_error(self):
        with self.assertRaises(UserError):
            self.env["clouds.client"].create({
                "name": "wrong", "provider": "nextcloud",
                **dict(self.client_vals(), nc_password="nope")})
