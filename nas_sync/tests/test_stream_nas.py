"""``/web/content`` and ``/web/image`` of cloud-only files over real HTTP, the bytes read
from a wsgidav server: streamed (nothing asked of the server before the body is read,
bounded memory), Odoo's own headers, Odoo's access rules, clear errors."""

import io
import os
import tracemalloc

import psutil
from odoo import Command
from odoo.addons.cloud_base.models.ir_attachment_sync import CloudStream
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tests.common import JsonRpcException
from odoo.tools.image import image_process
from PIL import Image

from .test_sync_nas import NasCase

MIB = 1024 * 1024
# Odoo's own headers (Last-Modified is the attachment's write date: the sync wrote it)
HEADERS = ("Content-Type", "Content-Length", "Content-Disposition", "ETag", "Cache-Control",
           "X-Content-Type-Options", "Content-Security-Policy")


@tagged("post_install", "-at_install")
class TestNasStream(HttpCase, NasCase):
    def setUp(self):
        super().setUp()
        self.client = self.make_client(root_name=self._testMethodName)
        self.partner = self.env["res.partner"].create({"name": "Streamed Ltd"})
        self.folder = self.Folder.create({"name": "Files", "own_client_id": self.client.id})

    def cloud_only(self, name, data, mimetype=None):
        """A file uploaded, verified and cleaned: its bytes are only on the server. Also
        its local twin (same name and bytes, never synced), to compare with Odoo's own."""
        vals = {"name": name, "raw": data, "res_model": "res.partner",
                "res_id": self.partner.id, **({"mimetype": mimetype} if mimetype else {})}
        att = self.Attachment.create(dict(vals, clouds_folder_id=self.folder.id))
        twin = self.Attachment.create(vals)
        self.sync()
        self.client.grace_days = 0
        self.Attachment._cron_clouds_clean()
        self.env.invalidate_all()
        self.assertTrue(att._clouds_link_only())
        self.assertEqual(att.file_size, len(data))
        return att, twin

    def sockets_to_server(self):
        """This process's open TCP connections to the WebDAV server."""
        port = int(self.emulator.url.rstrip("/").rsplit(":", 1)[1])
        return {c.laddr for c in psutil.Process().connections(kind="tcp")
                if c.raddr and c.raddr.port == port and c.status == psutil.CONN_ESTABLISHED}

    def requests_made(self):
        return dict(self.emulator.faults.counts)

    def test_content_is_streamed_with_odoos_headers(self):
        data = os.urandom(2 * MIB + 12345)  # three chunks of the provider
        att, twin = self.cloud_only("report.bin", data, "application/octet-stream")
        self.emulator.faults.reset_counts()
        stream = att._to_http_stream()
        self.assertIsInstance(stream, CloudStream)
        self.assertEqual(stream.size, len(data))
        body = att._clouds_download()
        self.assertEqual(self.requests_made(), {}, "nothing asked before the body is read")
        first = next(body)
        self.assertEqual(len(first), MIB, "one chunk read, not the file")
        self.assertEqual(self.emulator.faults.total("^GET "), 1)
        # Closing the body (what the server does when the response is closed, sent or
        # not) releases the provider's connection, with two chunks still unread.
        streaming = self.sockets_to_server()
        body.close()
        self.assertEqual(len(self.sockets_to_server()), len(streaming) - 1)

        self.authenticate("admin", "admin")
        for query in ("", "?download=true"):
            self.emulator.faults.reset_counts()
            response = self.url_open(f"/web/content/{att.id}{query}")
            self.assertEqual(response.status_code, 200, response.text[:300])
            self.assertEqual(response.content, data)
            self.assertEqual(sum(self.emulator.faults.counts.values()), 2,
                             self.requests_made())  # one metadata check, one download
            local = self.url_open(f"/web/content/{twin.id}{query}")
            self.assertEqual({h: response.headers.get(h) for h in HEADERS},
                             {h: local.headers.get(h) for h in HEADERS})
        self.assertEqual(response.headers["Content-Length"], str(len(data)))
        self.assertEqual(response.headers["Content-Disposition"],
                         "attachment; filename=report.bin")
        self.assertIn(att.checksum, response.headers["ETag"])

        # The browser's cache is still valid: 304, nothing asked of the server.
        self.emulator.faults.reset_counts()
        response = self.url_open(f"/web/content/{att.id}",
                                 headers={"If-None-Match": response.headers["ETag"]})
        self.assertEqual(response.status_code, 304)
        self.assertEqual(self.requests_made(), {})
        # A range request gets the whole file (ranges are not served for cloud files).
        response = self.url_open(f"/web/content/{att.id}", headers={"Range": "bytes=0-9"})
        self.assertEqual((response.status_code, response.content), (200, data))

        # raw and datas still give the whole bytes.
        self.assertEqual(att.raw, data)

    def peak_while_downloading(self, att):
        """(bytes received, peak traced memory growth) while downloading ``att``."""
        url = f"{self.base_url()}/web/content/{att.id}"
        tracemalloc.start()
        try:
            base = tracemalloc.get_traced_memory()[0]
            tracemalloc.reset_peak()
            received = 0
            with self.opener.get(url, stream=True, timeout=120) as response:
                self.assertEqual(response.status_code, 200)
                for chunk in response.iter_content(64 * 1024):
                    received += len(chunk)
            return received, tracemalloc.get_traced_memory()[1] - base
        finally:
            tracemalloc.stop()

    def test_memory_does_not_follow_the_file(self):
        """Downloading a 40 MiB cloud-only file keeps the process's traced memory (Odoo,
        the WebDAV server and the test client are all in it) under half the file: the
        body goes out chunk by chunk (about 3 to 11 MiB in flight, whatever the file's
        size). Joining it, as before, needed the whole 40 MiB at least."""
        data = os.urandom(40 * MIB)
        att, _twin = self.cloud_only("big.bin", data)
        self.authenticate("admin", "admin")
        self.peak_while_downloading(att)  # warm up: routing map, session, caches
        received, peak = self.peak_while_downloading(att)
        self.assertEqual(received, len(data))
        self.assertLess(peak, 20 * MIB, f"peak {peak / MIB:.1f} MiB")

    def test_access_rules_still_apply(self):
        att, twin = self.cloud_only("contract.txt", b"signed")
        hidden = self.env["res.groups"].create({"name": "No streamed partners"})
        self.env["ir.rule"].create({
            "name": "Hide the streamed partner", "model_id": self.env.ref(
                "base.model_res_partner").id, "groups": [Command.link(hidden.id)],
            "domain_force": f"[('id', '!=', {self.partner.id})]"})
        new_test_user(self.env, "outsider", groups_id=[
            self.env.ref("base.group_user").id, hidden.id])
        for login in ("outsider", None):
            self.authenticate(login, login)
            self.emulator.faults.reset_counts()
            response = self.url_open(f"/web/content/{att.id}")
            local = self.url_open(f"/web/content/{twin.id}")
            self.assertIn(response.status_code, (403, 404))
            self.assertEqual(response.status_code, local.status_code)
            self.assertNotIn(b"signed", response.content)
            self.assertEqual(self.requests_made(), {})

    def test_cloud_only_file_refused_on_every_route(self):
        """The suite's routes decide as /web/content does for a file whose bytes are only
        in the cloud: nothing is asked of the server, no byte is sent."""
        att, _twin = self.cloud_only("board.txt", b"MARK-cloud-only-board-minutes")
        hidden = self.env["res.groups"].create({"name": "No board partner"})
        self.env["ir.rule"].create({
            "name": "Hide the board partner", "model_id": self.env.ref(
                "base.model_res_partner").id, "groups": [Command.link(hidden.id)],
            "domain_force": f"[('id', '!=', {self.partner.id})]"})
        new_test_user(self.env, "fmoutsider", groups_id=[
            self.env.ref("cloud_base.group_clouds_user").id, hidden.id])
        new_test_user(self.env, "cloudportal", groups="base.group_portal")
        routes = (f"/cloud_base/download/{att.id}", f"/cloud_base/zip?attachment_ids={att.id}",
                  f"/web/content/{att.id}?download=true", f"/web/image/{att.id}")
        for login in ("fmoutsider", "cloudportal", None):
            self.authenticate(login, login)
            for url in routes:
                self.emulator.faults.reset_counts()
                response = self.url_open(url, allow_redirects=False)
                # /web/image answers Odoo's placeholder picture to whoever may not read.
                refusals = (200, 303) if url.startswith("/web/image") else (303, 403, 404)
                self.assertIn(response.status_code, refusals, f"{login} {url}")
                self.assertNotIn(b"MARK-cloud-only", response.content, f"{login} {url}")
                self.assertEqual(self.requests_made(), {}, f"{login} {url}")
        # In a zip of its folder the file is left out, before any request to the server.
        self.authenticate("fmoutsider", "fmoutsider")
        self.emulator.faults.reset_counts()
        response = self.url_open(f"/cloud_base/zip?folder_id={self.folder.id}")
        self.assertEqual(response.status_code, 200)
        self.assertNotIn(b"MARK-cloud-only", response.content)
        self.assertEqual(self.requests_made(), {})
        # Its owner still gets it, streamed from the server.
        self.authenticate("admin", "admin")
        response = self.url_open(f"/cloud_base/download/{att.id}")
        self.assertEqual(response.content, b"MARK-cloud-only-board-minutes")

    def test_connection_actions_refused_to_file_manager_users(self):
        """Over RPC, a File Manager user cannot connect, reset, resume or confirm the
        database of a connection (a copied database would start syncing)."""
        new_test_user(self.env, "fmclient", groups="cloud_base.group_clouds_user")
        self.client.database_uuid = "another database"
        self.authenticate("fmclient", "fmclient")
        for method in ("action_connect", "action_check_connection", "action_reconnect",
                       "action_confirm_database", "action_reset"):
            with self.assertRaises(JsonRpcException, msg=method) as caught:
                self.make_jsonrpc_request("/web/dataset/call_kw", {
                    "model": "clouds.client", "method": method, "args": [[self.client.id]],
                    "kwargs": {}})
            self.assertEqual(caught.exception.args[0], "odoo.exceptions.AccessError", method)
        self.assertEqual(self.client.database_uuid, "another database")
        self.assertFalse(self.env["clouds.queue"].search([("client_id", "=", self.client.id),
                                                          ("task_type", "=", "reverse")]))

    def test_errors_before_the_first_byte_are_clear(self):
        att, _twin = self.cloud_only("gone.txt", b"soon gone")
        kept, _twin = self.cloud_only("kept.txt", b"still there")
        self.authenticate("admin", "admin")
        os.remove(os.path.join(self.files, self.client.root_name, "Files", "gone.txt"))
        response = self.url_open(f"/cloud_base/download/{kept.id}")  # the file manager's
        self.assertEqual((response.status_code, response.content), (200, b"still there"))
        self.assertEqual(response.headers["Content-Length"], str(len(b"still there")))
        for route in ("/web/content/%s", "/cloud_base/download/%s"):
            response = self.url_open(route % att.id)
            self.assertEqual(response.status_code, 404, route)
            self.assertIn("is no longer in the cloud", response.text)
            self.assertNotIn(b"soon gone", response.content)

        self.client.with_context(clouds_no_check=True).sudo().dav_password = "revoked"
        self.env.flush_all()
        for route in ("/web/content/%s", "/cloud_base/download/%s"):
            response = self.url_open(route % kept.id)
            self.assertEqual(response.status_code, 502, route)
            self.assertIn("cannot be read from the cloud", response.text)
            self.assertNotIn(b"still there", response.content)

    def test_images_resized_or_not(self):
        buffer = io.BytesIO()
        Image.new("RGB", (64, 48), (200, 30, 30)).save(buffer, "PNG")
        png = buffer.getvalue()
        att, _twin = self.cloud_only("logo.png", png, "image/png")
        self.authenticate("admin", "admin")
        response = self.url_open(f"/web/image/{att.id}")
        self.assertEqual(response.status_code, 200)
        self.assertEqual((response.headers["Content-Type"], response.content),
                         ("image/png", png))
        response = self.url_open(f"/web/image/{att.id}/32x24")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.content, image_process(png, size=(32, 24)))
        self.assertEqual(Image.open(io.BytesIO(response.content)).size, (32, 24))
