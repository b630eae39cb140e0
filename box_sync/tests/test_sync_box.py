"""End to end against the Box emulator: Odoo's crons sync folders and files (the events
stream drives backward sync), checked through a bare ``box_sdk_gen`` client."""

import io
import json

import requests
from box_sdk_gen import BoxClient, BoxDeveloperTokenAuth, NetworkSession
from box_sdk_gen.managers.folders import CreateFolderParent
from box_sdk_gen.managers.uploads import (
    UploadFileAttributes,
    UploadFileAttributesParentField,
    UploadFileVersionAttributes,
)
from box_sdk_gen.networking.base_urls import BaseUrls
from box_sdk_gen.networking.box_network_client import BoxNetworkClient
from odoo.addons.cloud_base.tests.test_oauth_common import RealRequestsMixin
from odoo.addons.cloud_base.tests.test_sync_common import SyncCase
from odoo.tests import tagged

from cloud_sync.emulators.box import BoxEmulator
from cloud_sync.providers.box import box_id


def _kind(entry):
    return getattr(entry.type, "value", entry.type)


class BoxSyncCase(RealRequestsMixin, SyncCase):
    """The Box emulator, a bare SDK client on it and the remote-tree helpers (no tests)."""

    provider_key = "box"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.emulator = BoxEmulator().start()
        cls.addClassCleanup(cls.emulator.stop)
        cls.bare = cls.bare_client(cls.emulator.issue_tokens()["access_token"])

    def setUp(self):
        super().setUp()
        # A fresh token for each test: some tests expire every token the server issued.
        self.bare = self.bare_client(self.emulator.issue_tokens()["access_token"])

    @classmethod
    def bare_client(cls, token):
        config = cls.emulator.provider_config()
        session = requests.Session()
        session.trust_env = False  # the emulator's CA, whatever REQUESTS_CA_BUNDLE says
        session.verify = config["ca_bundle"]
        return BoxClient(
            auth=BoxDeveloperTokenAuth(token=token),
            network_session=NetworkSession(
                network_client=BoxNetworkClient(session),
                base_urls=BaseUrls(base_url=config["api_url"], upload_url=config["upload_url"],
                                   oauth_2_url=config["oauth_url"])))

    def client_vals(self):
        config = self.emulator.provider_config()
        return {"bx_client_id": config["client_id"], "bx_client_secret": config["client_secret"],
                "bx_api_url": config["api_url"], "bx_upload_url": config["upload_url"],
                "bx_oauth_url": config["oauth_url"], "bx_ca_bundle": config["ca_bundle"],
                "bx_web_url": config["web_url"],
                "token_json": json.dumps({"access_token": config["access_token"],
                                          "refresh_token": config["refresh_token"]})}

    def entries(self, folder_id):
        return self.bare.folders.get_folder_items(folder_id, limit=1000).entries

    def remote_files(self, client):
        out = {}

        def walk(folder_id, prefix):
            for entry in self.entries(folder_id):
                path = prefix + entry.name
                if _kind(entry) == "folder":
                    out[path] = None
                    walk(entry.id, path + "/")
                else:
                    out[path] = self.bare.downloads.download_file(entry.id).read()

        walk(box_id(client.sudo().remote_root_id)[1], "")
        return out

    def put(self, client, path, data):
        *folders, name = path.split("/")
        parent = box_id(client.sudo().remote_root_id)[1]
        for part in folders:
            found = [e for e in self.entries(parent) if e.name == part]
            parent = found[0].id if found else self.bare.folders.create_folder(
                part, CreateFolderParent(id=parent)).id
        same = [e for e in self.entries(parent) if e.name == name]
        if same:
            self.bare.uploads.upload_file_version(
                same[0].id, UploadFileVersionAttributes(name=name), io.BytesIO(data))
        else:
            self.bare.uploads.upload_file(UploadFileAttributes(
                name=name, parent=UploadFileAttributesParentField(id=parent)), io.BytesIO(data))



@tagged("post_install", "-at_install")
class TestBoxSync(BoxSyncCase):
    def test_versions_list_download_restore(self):
        self.assertVersionsListDownloadRestore(self.make_client(root_name="Versions"))

    def test_open_in_cloud_follows_shared_link_access(self):
        """Shared Links: the shared link opened to anyone or to the company, made only
        for users who may change the item; readers get the item's page in the web app."""
        client = self.make_client(root_name="Links")  # its own remote root
        file, folder, reader, editor = self.link_setup(client)
        node = self.emulator.nodes[box_id(file.clouds_remote_id)[1]]
        shared = self.open_in_cloud(file, editor)
        self.assertIn("/s/", shared)
        self.assertEqual(node.shared["access"], "open")
        self.assertOpens(shared, file)
        client.bx_shared_link_access = "company"
        self.assertEqual(self.open_in_cloud(file, editor), shared)
        self.assertEqual(node.shared["access"], "company")
        node.shared = None
        internal = self.open_in_cloud(file, reader)
        self.assertIsNone(node.shared, "a reader's click shares nothing")
        self.assertIn("/file/", internal)
        self.assertOpens(internal, file)
        self.assertOpens(self.open_in_cloud(folder, editor), folder)
        self.assertIn("/folder/", self.open_in_cloud(folder, reader))
        self.assertLinksRefused(file, folder, reader)

    def test_direct_backward_through_events_and_reverse(self):
        client = self.round_trip()
        self.assertEqual(client.state, "draft")

    def test_expired_access_token_is_refreshed_and_stored(self):
        client = self.make_client(root_name="Odoo refresh")  # a remote root of its own
        self.make_tree(client)
        before = json.loads(client.sudo().token_json)["refresh_token"]
        self.emulator.expire_access_tokens()
        logs = self.sync()
        self.assertEqual(set(logs.mapped("level")), {"info"}, logs.mapped("message"))
        self.bare = self.bare_client(self.emulator.issue_tokens()["access_token"])
        self.assertTreesEqual(client)
        self.assertEqual(client.state, "connected")
        client.invalidate_recordset()
        after = json.loads(client.sudo().token_json)["refresh_token"]
        self.assertNotEqual(after, before)
        self.assertIn(after, self.emulator.refresh_tokens)
        self.assertIn(before, self.emulator.spent_refresh_tokens)

    def test_converges_under_random_faults(self):
        self.assertConvergesUnderFaults()

    def test_interrupted_large_upload_resumes_in_the_next_run(self):
        """Chunked upload session (8 MiB parts): every part after the second fails until
        the run gives up; the next run lists the session's parts and sends the rest."""
        # a fresh token for the independent client (an earlier test expires them all)
        self.bare = self.bare_client(self.emulator.issue_tokens()["access_token"])
        self.assertInterruptedUploadResumes(r"^PUT /api/2\.0/files/upload_sessions/",
                                            chunk=8 << 20, after=2)
