"""Over HTTP: what a share shows, and every way in that must be refused."""

import base64
import contextlib
import datetime
import io
import re
import zipfile
from urllib.parse import parse_qs, urlsplit

from lxml import html
from odoo import Command, fields
from odoo.tests import HttpCase, tagged
from odoo.tests.common import JsonRpcException

from .common import ShareSetup

CSRF = re.compile(r'csrf_token: "([^"]+)"')
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==")
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


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
            # Directory entries ("Plans/") have no content: files only.
            return {name: archive.read(name) for name in archive.namelist()
                    if not name.endswith("/")}

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
        page = self.get(self.url(token=None, folder_id=self.root.id)).text
        self.assertIn("readme.txt", page)
        self.assertIn("7.00 bytes", page)  # sizes read as Odoo shows them
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


@tagged("post_install", "-at_install")
class TestShareViewState(HttpCase, ShareSetup):
    """A form posted from the share page comes back to the page the visitor was on."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_shares()

    def form(self, url, css_class, index=0):
        """(action, fields) of a form of the page at ``url``, as the browser would post it."""
        response = self.url_open(url)
        self.assertEqual(response.status_code, 200, url)
        form = html.fromstring(response.text).find_class(css_class)[index]
        fields = {i.get("name"): i.get("value") or "" for i in form.iter("input")}
        return form.get("action"), fields

    def post_back(self, action, data):
        """Post a form; the query of the page it redirects to, and that page's text."""
        response = self.url_open(action, data=data, allow_redirects=False)
        self.assertEqual(response.status_code, 303, response.text[:300])
        location = urlsplit(response.headers["Location"])
        self.assertEqual(location.path, f"/my/shares/{self.share.id}")
        self.assertIn(location.netloc, ("", urlsplit(self.base_url()).netloc))
        page = self.url_open(response.headers["Location"])
        self.assertEqual(page.status_code, 200)
        return parse_qs(location.query), page.text

    def test_tagging_a_search_result_keeps_the_search(self):
        token = self.share.access_token
        action, fields = self.form(
            f"/my/shares/{self.share.id}?access_token={token}&search=read", "o_clouds_tag_form")
        self.assertEqual(fields["view_search"], "read")
        query, page = self.post_back(action, {**fields, "name": "Reviewed"})
        self.assertEqual(query, {"access_token": [token], "search": ["read"]})
        self.assertEqual(self.readme.clouds_tag_ids.name, "Reviewed")
        self.assertIn(">readme.txt<", page)
        self.assertNotIn(">plan.txt<", page)
        self.assertNotIn(">loose.txt<", page)

    def test_new_folder_keeps_folder_search_and_page(self):
        self.env["ir.attachment"].create([
            {"name": f"plan-{i:03d}.txt", "raw": b"p", "clouds_folder_id": self.plans.id}
            for i in range(60)])
        self.authenticate("shareportal", "shareportal")
        url = f"/my/shares/{self.share.id}/page/2?folder_id={self.plans.id}&search=plan"
        action, fields = self.form(url, "o_clouds_new_folder")
        self.assertEqual(fields["view_page"], "2")
        query, page = self.post_back(action, {**fields, "name": "Drafts"})
        self.assertEqual(query, {"folder_id": [str(self.plans.id)], "search": ["plan"],
                                 "page": ["2"]})
        self.assertTrue(self.env["clouds.folder"].search(
            [("name", "=", "Drafts"), ("parent_id", "=", self.plans.id)]))
        # Page 2 of the search in Plans: files 50 and up, in name order.
        self.assertIn(">plan.txt<", page)
        self.assertIn(">plan-059.txt<", page)
        self.assertNotIn(">plan-000.txt<", page)

    def test_pager_links_open_the_next_page(self):
        self.env["ir.attachment"].create([
            {"name": f"doc-{i:03d}.txt", "raw": b"d", "clouds_folder_id": self.root.id}
            for i in range(55)])
        first = self.url_open(f"/my/shares/{self.share.id}?access_token="
                              f"{self.share.access_token}&folder_id={self.root.id}").text
        links = [href for href in html.fromstring(first).xpath("//a/@href")
                 if href.startswith(f"/my/shares/{self.share.id}/page/2?")]
        self.assertTrue(links)
        second = self.url_open(links[0])
        self.assertEqual(second.status_code, 200)
        self.assertIn(">readme.txt<", second.text)
        self.assertNotIn(">doc-000.txt<", second.text)

    def test_view_state_is_checked_and_never_an_outside_url(self):
        token = self.share.access_token
        hostile = {
            "view_folder_id": self.other_root.id, "view_tag_id": self.secret_tag.id,
            "view_search": "  " + "x" * 500, "view_page": "2 OR 1",
            "redirect": "https://evil.example/", "view_url": "//evil.example",
        }
        action = f"/my/shares/{self.share.id}/files/{self.readme.id}/tags?access_token={token}"
        csrf = CSRF.search(self.url_open("/web/login").text).group(1)
        query, _page = self.post_back(action, {"csrf_token": csrf, "name": "x", **hostile})
        self.assertEqual(query, {"access_token": [token], "search": ["x" * 200]})
        # A folder or tag of the share is kept only while browsing by it is allowed.
        self.share.allow_folders = False
        query, _page = self.post_back(action, {"csrf_token": csrf, "name": "y",
                                               "view_folder_id": self.root.id})
        self.assertEqual(query, {"access_token": [token]})


@tagged("post_install", "-at_install")
class TestSharePreview(HttpCase, ShareSetup):
    """Images, PDFs and text open in the browser; anything that could run script
    downloads; a preview is refused wherever a download is."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_shares()
        files = {"pic.png": PNG, "doc.pdf": PDF, "page.html": b"<script>alert(1)</script>",
                 "logo.svg": b"<svg xmlns='http://www.w3.org/2000/svg'><script/></svg>",
                 "app.js": b"alert(1)"}
        cls.files = {name: cls.env["ir.attachment"].create(
            {"name": name, "raw": raw, "clouds_folder_id": cls.root.id})
            for name, raw in files.items()}
        # An image by its stored type, a script by its name: it downloads.
        cls.files["fake.svg"] = cls.env["ir.attachment"].create({
            "name": "fake.svg", "raw": PNG, "mimetype": "image/png",
            "clouds_folder_id": cls.root.id})

    def preview(self, attachment, status=200, share=None, token=True):
        share = share or self.share
        token = share.access_token if token is True else token
        query = f"?access_token={token}" if token else ""
        response = self.url_open(
            f"/my/shares/{share.id}/files/{attachment.id}/preview{query}",
            allow_redirects=False)
        self.assertEqual(response.status_code, status, attachment.name)
        return response

    def assert_inline(self, attachment, content_type, body):
        response = self.preview(attachment)
        headers = response.headers
        self.assertEqual(headers["Content-Type"], content_type)
        self.assertTrue(headers["Content-Disposition"].startswith("inline"), attachment.name)
        self.assertEqual(headers["X-Content-Type-Options"], "nosniff")
        self.assertIn("default-src 'none'", headers["Content-Security-Policy"])
        self.assertNotIn("script-src", headers["Content-Security-Policy"])
        self.assertEqual(headers["Referrer-Policy"], "no-referrer")
        self.assertEqual(response.content, body)

    def assert_downloads(self, attachment):
        headers = self.preview(attachment).headers
        self.assertTrue(headers["Content-Disposition"].startswith("attachment"),
                        attachment.name)
        self.assertEqual(headers["X-Content-Type-Options"], "nosniff")
        self.assertEqual(headers["Content-Security-Policy"], "default-src 'none'")

    def test_images_pdf_and_text_open_inline(self):
        self.assert_inline(self.files["pic.png"], "image/png", PNG)
        self.assert_inline(self.files["doc.pdf"], "application/pdf", PDF)
        self.assert_inline(self.readme, "text/plain; charset=utf-8", b"read me")

    def test_html_svg_and_scripts_download(self):
        for name in ("page.html", "logo.svg", "app.js", "fake.svg"):
            self.assert_downloads(self.files[name])

    def test_visitor_upload_of_html_downloads(self):
        """Odoo stores a visitor's HTML as text/plain: its name still makes it download."""
        csrf = CSRF.search(self.url_open("/web/login").text).group(1)
        response = self.url_open(
            f"/my/shares/{self.share.id}/upload?access_token={self.share.access_token}"
            f"&folder_id={self.root.id}", data={"csrf_token": csrf},
            files=[("files", ("evil.html", b"<script>alert(1)</script>", "text/html")),
                   ("files", ("evil.png", b"<script>alert(1)</script>", "image/png"))])
        self.assertEqual(response.status_code, 200, response.text[:300])
        html_file, fake_png = self.env["ir.attachment"].browse(
            [f["id"] for f in response.json()["files"]])
        self.assert_downloads(html_file)
        # Shown as an image only: with nosniff the browser never reads it as a page.
        self.assertEqual(self.preview(fake_png).headers["Content-Type"], "image/png")

    def test_page_links_previews_of_previewable_files_only(self):
        page = self.url_open(f"/my/shares/{self.share.id}?access_token="
                             f"{self.share.access_token}&folder_id={self.root.id}").text
        links = set(html.fromstring(page).xpath("//a[hasclass('o_clouds_preview')]/@href"))
        previewed = {a.name for a in self.env["ir.attachment"].browse(
            int(re.search(r"/files/(\d+)/preview", link).group(1)) for link in links)}
        self.assertEqual(previewed, {"pic.png", "doc.pdf", "readme.txt"})

    def test_preview_refused_like_a_download(self):
        png = self.files["pic.png"]
        self.preview(png, 404, token="not-the-token")
        self.preview(png, 404, token=self.other_share.access_token)
        self.preview(png, 404, token=None)
        self.preview(png, 404, share=self.other_share)
        for outside in (self.secret, self.other_file):
            self.preview(outside, 404)
        self.authenticate("stranger", "stranger")
        self.preview(png, 404, token=None)
        self.authenticate("shareportal", "shareportal")
        self.preview(png, 200, token=None)
        self.share.date_expiry = fields.Date.today() - datetime.timedelta(days=1)
        self.preview(png, 404, token=None)
        self.preview(png, 404)
