"""Over HTTP: what a share shows, and every way in that must be refused."""

import contextlib
import datetime
import io
import re
import zipfile

from odoo import Command, fields
from odoo.tests import HttpCase, tagged
from odoo.tests.common import JsonRpcException

from .common import ShareSetup

CSRF = re.compile(r'csrf_token: "([^"]+)"')


@tagged("post_install", "-at_install")
class TestShareHttp(HttpCase, ShareSetup):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_shares()

    # ---------------------------------------------------------------- helpers

    def url(self, path="", share=None, token=True, **params):
        share = share or self.share
        if token is True:
            token = share.access_token
        if token:
            params["access_token"] = token
        query = "&".join(f"{k}={v}" for k, v in params.items())
        return f"/my/shares/{share.id}{path}" + (f"?{query}" if query else "")

    def get(self, url, status=200):
        response = self.url_open(url, allow_redirects=False)
        self.assertEqual(response.status_code, status, url)
        return response

    def csrf(self):
        return CSRF.search(self.get("/web/login").text).group(1)

    def upload(self, files, status=200, **params):
        response = self.url_open(
            self.url("/upload", **params), data={"csrf_token": self.csrf()},
            files=[("files", f) for f in files], allow_redirects=False,
        )
        self.assertEqual(response.status_code, status, response.text[:300])
        return response

    def zip_names(self, url):
        response = self.get(url)
        self.assertEqual(response.headers["Content-Type"], "application/zip")
        with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
            return {name: archive.read(name) for name in archive.namelist()}

    # ---------------------------------------------------------------- what is shown

    def test_page_with_token_lists_roots_and_loose_files(self):
        page = self.get(self.url()).text
        self.assertIn("Client Docs", page)
        self.assertIn("Private", page)
        self.assertNotIn("Other Client", page)
        private = self.get(self.url(folder_id=self.private.id)).text
        self.assertIn("loose.txt", private)
        self.assertNotIn("secret.txt", private)
        plans = self.get(self.url(folder_id=self.plans.id)).text
        self.assertIn("plan.txt", plans)
        tagged_page = self.get(self.url(tag_id=self.urgent.id)).text
        self.assertIn("plan.txt", tagged_page)
        self.assertNotIn("readme.txt", tagged_page)

    def test_search_by_file_folder_and_tag_names(self):
        def found(term):
            page = self.get(self.url(search=term)).text
            return {n for n in ("readme.txt", "plan.txt", "loose.txt", "secret.txt")
                    if f">{n}<" in page}
        self.assertEqual(found("read"), {"readme.txt"})
        self.assertEqual(found("Plans"), {"plan.txt"})
        self.assertEqual(found("Urgent"), {"plan.txt"})
        self.assertEqual(found("secret"), set())

    def test_portal_user_sees_list_counter_and_page(self):
        self.authenticate("shareportal", "shareportal")
        listing = self.get("/my/shares").text
        self.assertIn("ACME files", listing)
        self.assertNotIn("Other files", listing)
        counters = self.make_jsonrpc_request("/my/counters", {"counters": ["clouds_share_count"]})
        self.assertEqual(counters["clouds_share_count"], 1)
        self.assertIn("readme.txt", self.get(self.url(token=None, folder_id=self.root.id)).text)
        self.assertEqual(self.get(self.url("/files/%s" % self.readme.id, token=None)).content,
                         b"read me")

    def test_download_one_file(self):
        response = self.get(self.url("/files/%s" % self.plan.id))
        self.assertEqual(response.content, b"the plan")
        self.assertIn("attachment", response.headers["Content-Disposition"])
        self.assertEqual(response.headers["X-Content-Type-Options"], "nosniff")

    def test_zip_of_share_folder_and_tag(self):
        self.assertEqual(self.zip_names(self.url("/zip")), {
            "Client Docs/readme.txt": b"read me",
            "Client Docs/Plans/plan.txt": b"the plan",
            "Private/loose.txt": b"shared alone",
        })
        self.assertEqual(self.zip_names(self.url("/zip", folder_id=self.root.id)),
                         {"readme.txt": b"read me", "Plans/plan.txt": b"the plan"})
        self.assertEqual(self.zip_names(self.url("/zip", tag_id=self.urgent.id)),
                         {"Client Docs/Plans/plan.txt": b"the plan"})

    def test_zip_entries_cannot_escape(self):
        evil = self.env["clouds.folder"].create({"name": "..", "parent_id": self.root.id})
        self.env["ir.attachment"].create([
            {"name": n, "raw": b"x", "clouds_folder_id": evil.id}
            for n in ("../../../etc/cron.d/x", "..", "C:\\windows\\win.ini", "/root.txt")
        ])
        names = self.zip_names(self.url("/zip"))
        self.assertEqual(len(names), 7)
        for name in names:
            parts = name.split("/")
            self.assertFalse(name.startswith("/") or ":" in name or "\\" in name, name)
            self.assertFalse({"..", ".", ""} & set(parts), name)

    # ---------------------------------------------------------------- uploads

    def test_upload_into_open_folder_records_uploader(self):
        self.authenticate("shareportal", "shareportal")
        response = self.upload([("new.txt", b"hello")], folder_id=self.plans.id)
        created = self.env["ir.attachment"].browse(response.json()["files"][0]["id"])
        self.assertEqual(created.name, "new.txt")
        self.assertEqual(created.clouds_folder_id, self.plans)
        self.assertEqual(created.create_uid, self.portal_user)
        self.assertEqual(created.clouds_share_id, self.share)
        self.assertEqual(created.raw, b"hello")
        self.assertIn(created, self.share._clouds_files())
        # Landed on the folder's record: employees who see the folder read the file.
        self.assertEqual((created.res_model, created.res_id), ("clouds.folder", self.plans.id))
        self.assertEqual(created.with_user(self.manager).raw, b"hello")
        note = self.share.message_ids[0]
        self.assertIn("new.txt", note.body)
        self.assertEqual(note.author_id, self.portal_user.partner_id)

    def test_upload_at_root_goes_to_default_folder(self):
        self.share.upload_folder_id = self.other_root
        response = self.upload([("default.txt", b"d")])
        created = self.env["ir.attachment"].browse(response.json()["files"][0]["id"])
        self.assertEqual(created.clouds_folder_id, self.other_root)
        # Outside the shared folders: the file itself joins the share, nothing else does.
        self.assertIn(created, self.share.attachment_ids)
        self.assertNotIn(self.other_file, self.share._clouds_files())

    def test_upload_hostile_names_are_sanitised(self):
        names = ["../../evil.txt", "..\\..\\win.txt", "..", "a<b>:c|d?.txt", "ok\x01.txt"]
        response = self.upload([(n, b"x") for n in names], folder_id=self.root.id)
        stored = [f["name"] for f in response.json()["files"]]
        # Werkzeug reads "\\" in a quoted filename as an escape: the backslashes may already
        # be gone, so that name is checked by its shape.
        self.assertEqual(stored[0::2], ["evil.txt", "-", "ok-.txt"])
        self.assertEqual(stored[3], "a-b--c-d-.txt")
        self.assertTrue(stored[1].endswith("win.txt"))
        for name in stored:
            self.assertFalse(set("/\\\x01") & set(name), name)
        for attachment in self.env["ir.attachment"].browse(
                [f["id"] for f in response.json()["files"]]):
            self.assertEqual(attachment.clouds_folder_id, self.root)

    def test_upload_refused_when_off_too_large_or_outside(self):
        count = self.env["ir.attachment"].search_count([])
        self.upload([("x.txt", b"x")], status=404, folder_id=self.other_root.id)
        self.upload([("x.txt", b"x")], status=404, folder_id="abc")
        self.env["ir.config_parameter"].set_param("cloud_share.upload_max_mb", "1")
        self.upload([("big.bin", b"0" * (1024 * 1024 + 1))], status=413,
                    folder_id=self.root.id)
        self.upload([("ok.txt", b"x"), ("big.bin", b"0" * (1024 * 1024 + 1))], status=413,
                    folder_id=self.root.id)
        self.share.allow_upload = False
        self.upload([("x.txt", b"x")], status=403, folder_id=self.root.id)
        self.assertEqual(self.env["ir.attachment"].search_count([]), count)

    def test_upload_without_csrf_refused(self):
        response = self.url_open(self.url("/upload", folder_id=self.root.id),
                                 files=[("files", ("x.txt", b"x"))], allow_redirects=False)
        self.assertEqual(response.status_code, 400)

    def test_invitation_signature_names_the_partner(self):
        guest = self.env["res.partner"].create({"name": "Guest", "email": "g@x.test"})
        signature = {"pid": guest.id, "hash": self.share._sign_token(guest.id)}
        page = self.get(self.url(**signature)).text
        self.assertIn(f"hash={signature['hash']}", page)
        self.upload([("signed.txt", b"s")], folder_id=self.root.id, **signature)
        self.assertEqual(self.share.message_ids[0].author_id, guest)
        forged = {"pid": guest.id, "hash": "0" * 64}
        self.assertNotIn("hash=", self.get(self.url(**forged)).text)
        self.upload([("forged.txt", b"f")], folder_id=self.root.id, **forged)
        self.assertNotEqual(self.share.message_ids[0].author_id, guest)
        self.assertIn("forged.txt", self.share.message_ids[0].body)

    # ---------------------------------------------------------------- folders and tags

    def test_add_folder_and_tag(self):
        response = self.url_open(self.url("/folders"), data={
            "csrf_token": self.csrf(), "parent_id": self.plans.id, "name": "../Drafts"},
            allow_redirects=False)
        self.assertEqual(response.status_code, 303)
        folder = self.env["clouds.folder"].search([("parent_id", "=", self.plans.id)])
        self.assertEqual(folder.name, "..-Drafts")
        self.assertIn(folder.id, self.share._clouds_folder_ids())
        response = self.url_open(self.url("/files/%s/tags" % self.readme.id), data={
            "csrf_token": self.csrf(), "name": "Reviewed"}, allow_redirects=False)
        self.assertEqual(response.status_code, 303)
        self.assertEqual(self.readme.clouds_tag_ids.name, "Reviewed")
        self.assertIn(self.readme.clouds_tag_ids.id, self.share._clouds_tag_ids())

    def test_add_folder_and_tag_refused(self):
        def post(path, status, **data):
            response = self.url_open(self.url(path), data={"csrf_token": self.csrf(), **data},
                                     allow_redirects=False)
            self.assertEqual(response.status_code, status, path)
        post("/folders", 404, parent_id=self.other_root.id, name="x")
        post("/files/%s/tags" % self.secret.id, 404, name="x")
        post("/files/%s/tags" % self.readme.id, 404, tag_id=self.secret_tag.id)
        self.share.allow_create = False
        post("/folders", 403, parent_id=self.root.id, name="x")
        post("/files/%s/tags" % self.readme.id, 403, name="x")
        self.assertFalse(self.env["clouds.folder"].search([("name", "=", "x")]))
        self.assertNotIn(self.secret_tag, self.readme.clouds_tag_ids)

    # ---------------------------------------------------------------- break-in

    def assert_refused(self, share=None, token=True, status=404):
        """The page, a download, the zip and an upload of ``share`` are all refused."""
        share = share or self.share
        for path, params in (("", {}), ("", {"folder_id": self.root.id}),
                             ("/files/%s" % self.readme.id, {}), ("/zip", {})):
            self.get(self.url(path, share=share, token=token, **params), status=status)
        response = self.url_open(
            self.url("/upload", share=share, token=token, folder_id=self.root.id),
            data={"csrf_token": self.csrf()}, files=[("files", ("x.txt", b"x"))],
            allow_redirects=False)
        self.assertEqual(response.status_code, 404)

    def post_chat(self, body, token):
        """Post in the share's chat as an anonymous visitor; True if the message exists."""
        with contextlib.suppress(JsonRpcException):  # a refusal; the message tells
            self.make_jsonrpc_request("/mail/message/post", {
                "thread_model": "clouds.share", "thread_id": self.share.id, "token": token,
                "post_data": {"body": body, "message_type": "comment",
                              "subtype_xmlid": "mail.mt_comment"},
            })
        return bool(self.share.message_ids.filtered(lambda m: body in (m.body or "")))

    def test_chat_refused_without_the_current_token(self):
        old = self.share.access_token
        self.assertTrue(self.post_chat("with the token", old))
        self.assertFalse(self.post_chat("wrong token", "nope"))
        self.assertFalse(self.post_chat("foreign token", self.other_share.access_token))
        self.share.action_regenerate_token()
        self.assertFalse(self.post_chat("old token", old))
        self.share.chat_enabled = False
        self.assertFalse(self.post_chat("chat off", self.share.access_token))
        self.share.chat_enabled = True
        self.share.date_expiry = fields.Date.today() - datetime.timedelta(days=1)
        self.assertFalse(self.post_chat("expired", self.share.access_token))

    def test_wrong_and_foreign_tokens_refused(self):
        self.assert_refused(token="not-the-token")
        self.assert_refused(token=self.share.access_token[:-1] + "0")
        self.assert_refused(token=self.other_share.access_token)

    def test_regenerated_token_refused_at_once(self):
        old = self.share.access_token
        self.get(self.url(token=old))
        self.share.action_regenerate_token()
        self.assert_refused(token=old)
        self.get(self.url())

    def test_expired_or_archived_share_refused(self):
        self.share.date_expiry = fields.Date.today() - datetime.timedelta(days=1)
        self.assert_refused()
        self.authenticate("shareportal", "shareportal")
        self.assert_refused(token=None)
        self.share.date_expiry = False
        self.share.active = False
        self.assert_refused()

    def test_portal_user_without_the_share_refused(self):
        self.authenticate("stranger", "stranger")
        self.assert_refused(token=None)
        self.get(self.url(share=self.other_share, token=None))
        self.assertNotIn("ACME files", self.get("/my/shares").text)

    def test_anonymous_without_token_goes_to_login(self):
        response = self.get(self.url(token=None), status=303)
        self.assertIn("/web/login", response.headers["Location"])
        self.get(self.url("/files/%s" % self.readme.id, token=None), status=404)
        self.get(self.url("/zip", token=None), status=404)

    def test_ids_outside_the_share_refused(self):
        for attachment in (self.secret, self.other_file):
            self.get(self.url("/files/%s" % attachment.id), status=404)
        self.get(self.url("/files/999999999"), status=404)
        self.get(self.url("/files/%s" % self.readme.id, share=self.other_share), status=404)
        for params in ({"folder_id": self.other_root.id}, {"folder_id": "x"},
                       {"folder_id": -1}, {"tag_id": self.secret_tag.id}, {"tag_id": "1 OR 1"}):
            self.get(self.url(**params), status=404)
            self.get(self.url("/zip", **params), status=404)
        self.get(self.url("/nope"), status=404)
        self.get("/my/shares/999999999?access_token=%s" % self.share.access_token, status=404)

    def test_navigation_switches_respected(self):
        self.share.allow_folders = False
        self.get(self.url(folder_id=self.root.id), status=404)
        self.get(self.url("/zip", folder_id=self.root.id), status=404)
        page = self.get(self.url()).text
        self.assertIn("readme.txt", page)
        self.share.allow_tags = False
        self.get(self.url(tag_id=self.urgent.id), status=404)

    def test_expired_share_not_listed_or_counted(self):
        self.share.date_expiry = fields.Date.today() - datetime.timedelta(days=1)
        self.authenticate("shareportal", "shareportal")
        self.assertNotIn("ACME files", self.get("/my/shares").text)
        counters = self.make_jsonrpc_request("/my/counters", {"counters": ["clouds_share_count"]})
        self.assertEqual(counters["clouds_share_count"], 0)

    def test_company_partner_shares_with_its_contacts(self):
        company = self.env["res.partner"].create({"name": "ACME", "is_company": True})
        self.stranger.partner_id.parent_id = company
        self.share.partner_ids = [Command.link(company.id)]
        self.authenticate("stranger", "stranger")
        self.get(self.url(token=None))
