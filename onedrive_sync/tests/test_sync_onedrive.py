"""End to end against the Graph emulator: Odoo's crons sync folders and files (Graph
delta drives backward sync), checked with plain Graph requests."""

import json
from urllib.parse import quote

import requests
from odoo.addons.cloud_base.tests.test_sync_common import SyncCase
from odoo.tests import tagged

from cloud_sync.emulators.onedrive import OneDriveEmulator


def graph_session(emulator, config):
    """Plain Graph calls to the emulator as the work account (the independent client)."""
    graph = requests.Session()
    graph.trust_env = False  # the emulator's CA, not REQUESTS_CA_BUNDLE
    graph.verify = config["ca_bundle"]
    graph.headers["Authorization"] = "Bearer " + emulator.issue_tokens("work")[0]
    return graph


@tagged("post_install", "-at_install")
class TestOneDriveSync(SyncCase):
    provider_key = "onedrive"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.emulator = OneDriveEmulator().start()
        cls.addClassCleanup(cls.emulator.stop)
        cls.config = cls.emulator.provider_config(drive_type="business")
        cls.graph = graph_session(cls.emulator, cls.config)

    def client_vals(self):
        config = self.emulator.provider_config(drive_type="business")
        return {"od_client_id": config["client_id"], "od_client_secret": config["client_secret"],
                "od_tenant": config["tenant"], "od_drive_type": "business",
                "od_drive_id": config["drive_id"], "od_graph_url": config["graph_url"],
                "od_authority_url": config["authority_url"], "od_ca_bundle": config["ca_bundle"],
                "token_json": json.dumps({"access_token": config["access_token"],
                                          "refresh_token": config["refresh_token"]})}

    def item_url(self, item_id):
        return f"{self.config['graph_url']}/drives/{self.config['drive_id']}/items/{item_id}"

    def call(self, method, url, **kwargs):
        response = self.graph.request(method, url, timeout=30, **kwargs)
        response.raise_for_status()
        return response

    def children(self, folder_id):
        return self.call("GET", self.item_url(folder_id) + "/children?$top=1000").json()["value"]

    def remote_files(self, client):
        out = {}

        def walk(folder_id, prefix):
            for entry in self.children(folder_id):
                path = prefix + entry["name"]
                if "folder" in entry:
                    out[path] = None
                    walk(entry["id"], path + "/")
                else:
                    out[path] = self.call("GET", self.item_url(entry["id"]) + "/content").content

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

    def test_direct_backward_through_delta_and_reverse(self):
        client = self.round_trip()
        self.assertEqual(client.state, "draft")

    def test_converges_under_random_faults(self):
        self.assertConvergesUnderFaults(seed=7)  # fewer requests: a seed that faults > 5
