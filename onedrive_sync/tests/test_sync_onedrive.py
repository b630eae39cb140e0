"""End to end against the Graph emulator: Odoo's crons sync folders and files (Graph
delta drives backward sync), checked with plain Graph requests; with a user's tokens in
OneDrive for Business, and with app-only access in a SharePoint library."""

import json
from urllib.parse import quote

import requests
from odoo.addons.cloud_base.tests.test_sync_common import SyncCase
from odoo.tests import tagged

from cloud_sync.emulators.onedrive import SITE_ID, TENANT_ID, OneDriveEmulator
from cloud_sync.hashing import hash_bytes


def graph_session(emulator, config, account="work"):
    """Plain Graph calls to the emulator (the independent client), as the work account
    or as the application (``account="app"``)."""
    graph = requests.Session()
    graph.trust_env = False  # the emulator's CA, not REQUESTS_CA_BUNDLE
    graph.verify = config["ca_bundle"]
    graph.headers["Authorization"] = "Bearer " + emulator.issue_tokens(account)[0]
    return graph


class GraphTree:
    """The remote tree of ``drive_id`` read and written through plain Graph calls."""

    drive_id = None

    def item_url(self, item_id):
        return f"{self.config['graph_url']}/drives/{self.drive_id}/items/{item_id}"

    def call(self, method, url, **kwargs):
        response = self.graph.request(method, url, timeout=30, **kwargs)
        response.raise_for_status()
        return response

    def children(self, folder_id):
        return self.call("GET", self.item_url(folder_id) + "/children?$top=1000").json()["value"]

    def remote_files(self, client):
        """{path: bytes}; each file's content is also checked against the quickXorHash
        Graph reports for it."""
        out = {}

        def walk(folder_id, prefix):
            for entry in self.children(folder_id):
                path = prefix + entry["name"]
                if "folder" in entry:
                    out[path] = None
                    walk(entry["id"], path + "/")
                else:
                    data = self.call("GET", self.item_url(entry["id"]) + "/content").content
                    self.assertEqual(entry["file"]["hashes"]["quickXorHash"],
                                     hash_bytes("quickxor", data), path)
                    out[path] = data

        walk(client.sudo().remote_root_id, "")
        return out

    def put(self, client, path, data):
        *folders, name = path.split("/")
        parent = client.sudo().remote_root_id
        for part in folders:
            found = [e for e in self.children(parent) if e["name"] == part]
            parent = found[0]["id"] if found else self.call(
                "POST", self.item_url(parent) + "/children",
                json={"name": part, "folder": {}}).json()["id"]
        self.call("PUT", f"{self.item_url(parent)}:/{quote(name)}:/content", data=data)


class GraphSyncCase(GraphTree, SyncCase):
    """The sync helpers against a OneDrive emulator of the test class's own, read back
    through Graph as ``account`` on a drive of ``drive_type``."""

    provider_key = "onedrive"
    drive_type, account = "business", "work"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.emulator = OneDriveEmulator().start()
        cls.addClassCleanup(cls.emulator.stop)
        cls.config = cls.emulator.provider_config(drive_type=cls.drive_type)
        cls.drive_id = cls.config["drive_id"]
        cls.graph = graph_session(cls.emulator, cls.config, account=cls.account)


class OneDriveCase(GraphSyncCase):
    """A connection with a user's tokens in OneDrive for Business (no tests)."""

    def client_vals(self):
        config = self.emulator.provider_config(drive_type="business")  # fresh tokens
        return {"od_client_id": config["client_id"], "od_client_secret": config["client_secret"],
                "od_tenant": config["tenant"], "od_drive_type": "business",
                "od_drive_id": config["drive_id"], "od_graph_url": config["graph_url"],
                "od_authority_url": config["authority_url"], "od_ca_bundle": config["ca_bundle"],
                "token_json": json.dumps({"access_token": config["access_token"],
                                          "refresh_token": config["refresh_token"]})}


@tagged("post_install", "-at_install")
class TestOneDriveSync(OneDriveCase):
    def test_versions_list_download_restore(self):
        self.assertVersionsListDownloadRestore(self.make_client(root_name="Versions"))

    def test_direct_backward_through_delta_and_reverse(self):
        client = self.round_trip()
        self.assertEqual(client.state, "draft")

    def test_open_in_cloud_follows_link_scope(self):
        """OneDrive Links: a view link for people in the organisation or for anyone,
        made only for users who may change the item; readers get the item's webUrl."""
        client = self.make_client(root_name="Links", od_link_scope="organization")
        file, folder, reader, editor = self.link_setup(client)

        def scope_of(url):
            links = self.emulator.links
            return next((scope for token, (_item, scope) in links.items()
                         if url == f"{self.emulator.url}/s/{token}"), None)

        organization = self.open_in_cloud(file, editor)
        self.assertEqual(scope_of(organization), "organization")
        client.od_link_scope = "anonymous"
        anyone = self.open_in_cloud(file, editor)
        self.assertNotEqual(anyone, organization)
        self.assertEqual(scope_of(anyone), "anonymous")
        for url in (organization, anyone):
            self.assertOpens(url, file)
        web_url = self.open_in_cloud(file, reader)
        self.assertIsNone(scope_of(web_url))
        self.assertOpens(web_url, file)
        self.assertOpens(self.open_in_cloud(folder, editor), folder)
        self.assertOpens(self.open_in_cloud(folder, reader), folder)
        self.assertLinksRefused(file, folder, reader)

    def test_converges_under_random_faults(self):
        self.assertConvergesUnderFaults(seed=7)  # fewer requests: a seed that faults > 5

    def test_interrupted_large_upload_resumes_in_the_next_run(self):
        """Upload session: the third fragment fails until the run gives up; the next run
        asks the session for nextExpectedRanges and sends fragments 3 and 4 only."""
        self.assertInterruptedUploadResumes(r"^PUT /upload/", after=2)

    def test_steady_state_does_not_grow_with_the_tree(self):
        """Through the delta feed: the same queries and requests at both sizes."""
        self.assertSteadyStateScales(sizes=(100, 1000))


@tagged("post_install", "-at_install")
class TestOneDriveAppOnlySync(GraphSyncCase):
    """App-only access (client credentials, no user, no consent page) to the default
    library of a SharePoint site."""

    drive_type, account = "sharepoint", "app"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.drive_id = cls.emulator.library.id  # the site's default library

    def client_vals(self):
        config = self.config
        return {"od_client_id": config["client_id"], "od_client_secret": config["client_secret"],
                "od_tenant": TENANT_ID, "od_app_only": True, "od_drive_type": "sharepoint",
                "od_site_id": SITE_ID, "od_graph_url": config["graph_url"],
                "od_authority_url": config["authority_url"], "od_ca_bundle": config["ca_bundle"]}

    def test_connects_with_client_credentials_without_consent(self):
        client = self.env["clouds.client"].create({
            "name": "App-only", "provider": "onedrive", "root_name": "App connect",
            **self.client_vals()})
        self.emulator.faults.reset_counts()
        action = client.action_connect()  # a notification, no consent page
        self.assertEqual((action["type"], action["params"]["type"]),
                         ("ir.actions.client", "success"))
        self.assertEqual(client.state, "connected")
        self.assertEqual(self.emulator.faults.total(r"/authorize"), 0)
        tokens = json.loads(client.sudo().token_json)
        self.assertEqual(tokens["refresh_token"], "")
        self.assertEqual(self.emulator.access_tokens[tokens["access_token"]], "app")
        root = self.call("GET", self.item_url(client.sudo().remote_root_id)).json()
        self.assertEqual((root["name"], root["parentReference"]["driveId"]),
                         ("App connect", self.drive_id))
        self.assertEqual(root["parentReference"]["siteId"], SITE_ID)

    def test_library_round_trip_through_delta_and_reverse(self):
        """Rule and manual folders up; a remote edit and a new remote file come back
        through Graph's delta feed; a reset brings every binary back byte-identical."""
        client = self.make_client(root_name="App sync")
        _rule, _people, projects = self.make_tree(client)
        self.assertSyncOps(self.sync(), 11)  # 5 folders, 6 files
        self.assertTreesEqual(client)
        self.assertCloudLinks(client)
        self.assertSteadyCalls()
        self.put(client, "Projects/Alpha/plan.bin", b"edited by the application")
        self.put(client, "Projects/remote.txt", b"made remotely")
        self.emulator.faults.reset_counts()
        self.assertSyncOps(self.sync(), 2)
        self.assertGreaterEqual(self.emulator.faults.total(r"/delta$"), 1)
        self.env.invalidate_all()
        plan = self.Attachment.search([("name", "=", "plan.bin")])
        self.assertEqual(plan.raw, b"edited by the application")
        made = self.Attachment.search([("name", "=", "remote.txt")])
        self.assertEqual((made.clouds_folder_id, made.raw), (projects, b"made remotely"))
        self.assertTreesEqual(client)
        remote_before = self.remote_files(client)
        client.action_reset()
        self.sync()
        self.env.invalidate_all()
        self.assertEqual(client.state, "draft")
        folders = self.Folder.search([("client_id", "=", client.id)])
        local = {}
        for att in self.Attachment.search([("clouds_folder_id", "in", folders.ids)]):
            self.assertTrue(att.store_fname or att.db_datas, att.name)
            local[att.name] = att.raw
        remote = {path.rsplit("/", 1)[-1]: data for path, data in remote_before.items()
                  if data is not None}
        self.assertEqual(local, remote)  # byte for byte, not only by hash
        self.assertEqual(self.remote_files(client), remote_before)  # nothing deleted remotely
