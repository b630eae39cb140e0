"""End to end against the Dropbox emulator: Odoo's crons sync folders and files (the
list_folder cursor drives backward sync), checked through the bare ``dropbox`` SDK."""

import json

import dropbox
from odoo.addons.cloud_base.tests.test_oauth_common import RealRequestsMixin
from odoo.addons.cloud_base.tests.test_sync_common import SyncCase
from odoo.tests import tagged

from cloud_sync.emulators.dropbox import DropboxEmulator


class DropboxCase(RealRequestsMixin, SyncCase):
    """The Dropbox emulator, the bare SDK on it and the remote-tree helpers (no tests)."""

    provider_key = "dropbox"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.emulator = DropboxEmulator().start()
        cls.addClassCleanup(cls.emulator.stop)
        config = cls.emulator.provider_config()
        cls.bare = dropbox.Dropbox(oauth2_access_token=config["access_token"],
                                   ca_certs=config["ca_bundle"], max_retries_on_error=0)
        cls.bare._session.trust_env = False  # the emulator's CA, not REQUESTS_CA_BUNDLE
        host = cls.emulator.netloc
        cls.bare._host_map = {"api": host, "content": host, "notify": host}

    def client_vals(self):
        config = self.emulator.provider_config()
        return {"db_app_key": config["app_key"], "db_app_secret": config["app_secret"],
                "db_host": config["api_host"], "db_ca_bundle": config["ca_bundle"],
                "token_json": json.dumps({
                    k: config[k] for k in ("access_token", "refresh_token",
                                           "access_token_expires_at")})}

    def root_path(self, client):
        return self.bare.files_get_metadata(client.sudo().remote_root_id).path_display

    def remote_files(self, client):
        root = self.root_path(client)
        out = {}
        page = self.bare.files_list_folder(root, recursive=True)
        entries = list(page.entries)
        while page.has_more:
            page = self.bare.files_list_folder_continue(page.cursor)
            entries += page.entries
        for entry in entries:
            path = entry.path_display[len(root) + 1:]
            if not path:
                continue
            if isinstance(entry, dropbox.files.FolderMetadata):
                out[path] = None
            else:
                out[path] = self.bare.files_download(entry.path_display)[1].content
        return out

    def put(self, client, path, data):
        self.bare.files_upload(data, f"{self.root_path(client)}/{path}",
                               mode=dropbox.files.WriteMode.overwrite)


@tagged("post_install", "-at_install")
class TestDropboxSync(DropboxCase):
    def test_versions_list_download_restore(self):
        self.assertVersionsListDownloadRestore(self.make_client(root_name="Versions"))

    def test_open_in_cloud_follows_link_mode(self):
        """Dropbox Links: internal paths, or shared links made only for users who may
        change the item (readers keep the internal path)."""
        client = self.make_client(root_name="Links")  # its own remote root
        file, folder, reader, editor = self.link_setup(client)
        internal = self.open_in_cloud(file, editor)
        self.assertIn("/home", internal)
        self.assertOpens(internal, file)
        client.db_link_mode = "shared"
        shared = self.open_in_cloud(file, editor)
        self.assertIn("/scl/fi/", shared)
        self.assertOpens(shared, file)
        self.assertEqual(self.open_in_cloud(file, reader), internal)
        shared_folder = self.open_in_cloud(folder, editor)
        self.assertIn("/scl/fo/", shared_folder)
        self.assertOpens(shared_folder, folder)
        self.assertOpens(self.open_in_cloud(folder, reader), folder)
        self.assertLinksRefused(file, folder, reader)

    def test_direct_backward_through_cursor_and_reverse(self):
        client = self.round_trip()
        self.assertEqual(client.state, "draft")

    def test_converges_under_random_faults(self):
        self.assertConvergesUnderFaults()

    def test_interrupted_large_upload_resumes_in_the_next_run(self):
        """Upload session (8 MiB chunks: the start carries the first): the second append
        fails until the run gives up; the next run learns the session's offset from
        ``incorrect_offset`` and sends the rest."""
        self.assertInterruptedUploadResumes(r"upload_session/append_v2", chunk=8 << 20,
                                            after=1)
