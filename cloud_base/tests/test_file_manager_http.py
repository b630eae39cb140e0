"""File manager endpoints over real HTTP: streamed zips (structure, names, bounded memory),
downloads and uploads, and refusals of ids the user cannot read."""

import io
import re
import tracemalloc
import zipfile

from odoo.tests import HttpCase, tagged

from .test_access import AccessSetup

MIB = 1024 * 1024


@tagged("post_install", "-at_install")
class TestFileManagerHttp(HttpCase, AccessSetup):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_access()
        Folder = cls.env["clouds.folder"]
        Att = cls.env["ir.attachment"]
        cls.root = Folder.create({"name": "Projects"})
        cls.sub = Folder.create({"name": "Specs", "parent_id": cls.root.id})
        cls.empty = Folder.create({"name": "Empty", "parent_id": cls.root.id})
        cls.hidden = Folder.create({
            "name": "Board only", "parent_id": cls.root.id,
            "user_ids": [(4, cls.teammate.id)],
        })

        def put(name, folder, raw):
            return Att.create({"name": name, "raw": raw, "res_model": "clouds.folder",
                               "res_id": folder.id, "clouds_folder_id": folder.id})
        cls.a_top = put("plan.txt", cls.root, b"top")
        cls.a_evil = put("../../etc/passwd", cls.sub, b"evil")
        cls.a_twin1 = put("same.txt", cls.sub, b"one")
        cls.a_twin2 = put("same.txt", cls.sub, b"two")
        cls.a_hidden = put("secret.txt", cls.hidden, b"board")
        cls.a_empty = put("empty.txt", cls.empty, b"")

    def get_zip(self, query):
        response = self.url_open(f"/cloud_base/zip?{query}", timeout=60)
        self.assertEqual(response.status_code, 200, response.text[:300])
        self.assertEqual(response.headers["Content-Type"], "application/zip")
        archive = zipfile.ZipFile(io.BytesIO(response.content))
        return {i.filename: archive.read(i) for i in archive.infolist()}

    def test_folder_zip_keeps_structure_sanitises_and_hides(self):
        self.authenticate("restricted", "restricted")
        entries = self.get_zip(f"folder_id={self.root.id}")
        self.assertEqual(entries, {
            "Projects/": b"", "Projects/plan.txt": b"top",
            "Projects/Specs/": b"", "Projects/Specs/..-..-etc-passwd": b"evil",
            "Projects/Specs/same.txt": b"one", "Projects/Specs/same (2).txt": b"two",
            "Projects/Empty/": b"", "Projects/Empty/empty.txt": b"",
        })
        for name in entries:
            self.assertTrue(name.startswith("Projects/"))
            self.assertNotIn("..", name.split("/"))
        self.authenticate("teammate", "teammate")
        entries = self.get_zip(f"folder_id={self.root.id}")
        self.assertEqual(entries["Projects/Board only/secret.txt"], b"board")

    def test_tag_and_selection_zip(self):
        tag = self.env["clouds.tag"].create({"name": "Review"})
        (self.a_top | self.a_twin1 | self.a_hidden).clouds_tag_ids = [(4, tag.id)]
        self.authenticate("restricted", "restricted")
        self.assertEqual(self.get_zip(f"tag_id={tag.id}"), {"plan.txt": b"top",
                                                            "same.txt": b"one"})
        ids = f"{self.a_twin1.id},{self.a_twin2.id}"
        self.assertEqual(self.get_zip(f"attachment_ids={ids}"),
                         {"same.txt": b"one", "same (2).txt": b"two"})

    def test_zip_names_are_portable_and_unique_regardless_of_case(self):
        """Extracted on Windows or macOS, no entry overwrites another and none is refused
        (":" and the other characters Windows forbids are replaced)."""
        names = ("Report.txt", "report.txt", "REPORT.TXT", "a:b.txt", 'q?"<>|*.txt',
                 "CON.txt", "dots. ")
        Att = self.env["ir.attachment"]
        folder = self.env["clouds.folder"].create({"name": "Case: study"})
        Att.create([{"name": n, "raw": n.encode(), "res_model": "clouds.folder",
                     "res_id": folder.id, "clouds_folder_id": folder.id} for n in names])
        self.authenticate("restricted", "restricted")
        entries = self.get_zip(f"folder_id={folder.id}")
        files = [n for n in entries if not n.endswith("/")]
        self.assertEqual(len(files), len(names))
        self.assertEqual(len({n.casefold() for n in entries}), len(entries))
        for name in entries:
            self.assertFalse(set(':*?"<>|\\') & set(name), name)
            for part in name.rstrip("/").split("/"):
                self.assertFalse(part.endswith((" ", ".")), name)
                self.assertNotEqual(part.split(".")[0].upper(), "CON", name)
        self.assertEqual(entries["Case- study/a-b.txt"], b"a:b.txt")
        self.assertEqual(sorted(entries[n] for n in files), sorted(n.encode() for n in names))

    def test_refuses_what_she_cannot_read(self):
        self.authenticate("restricted", "restricted")
        for query in (f"folder_id={self.hidden.id}", f"folder_id={self.f_secret.id}",
                      f"attachment_ids={self.a_top.id},{self.a_hidden.id}",
                      f"attachment_ids={self.a_team.id}"):
            response = self.url_open(f"/cloud_base/zip?{query}")
            self.assertEqual(response.status_code, 403, query)
            self.assertNotIn(b"board", response.content)
        response = self.url_open(f"/cloud_base/download/{self.a_hidden.id}")
        self.assertEqual(response.status_code, 403)
        response = self.url_open(f"/cloud_base/download/{self.a_top.id}")
        self.assertEqual((response.status_code, response.content), (200, b"top"))
        self.assertEqual(self.url_open("/cloud_base/zip?folder_id=x").status_code, 400)
        self.authenticate(None, None)
        response = self.url_open(f"/cloud_base/zip?folder_id={self.root.id}")
        self.assertNotEqual(response.headers.get("Content-Type"), "application/zip")

    def peak_while_downloading(self, folder):
        """(bytes received, peak traced memory growth) while streaming a folder's zip."""
        tracemalloc.start()
        try:
            base = tracemalloc.get_traced_memory()[0]
            tracemalloc.reset_peak()
            received = 0
            url = f"{self.base_url()}/cloud_base/zip?folder_id={folder.id}"
            with self.opener.get(url, stream=True, timeout=120) as response:
                self.assertEqual(response.status_code, 200)
                for chunk in response.iter_content(64 * 1024):
                    received += len(chunk)
            return received, tracemalloc.get_traced_memory()[1] - base
        finally:
            tracemalloc.stop()

    def test_zip_streams_with_bounded_memory(self):
        """Streaming a 64 MiB archive of 8 MiB files keeps the process's traced memory
        (server and test client alike) under a quarter of the archive, and about where a
        16 MiB archive of the same files keeps it: memory does not follow the archive's
        size. A zip built in memory would need the whole 64 MiB."""
        Folder = self.env["clouds.folder"]
        small, big = Folder.create([{"name": "Small"}, {"name": "Big"}])
        self.env["ir.attachment"].create([{
            "name": f"blob{i}.bin", "raw": bytes([i]) * (8 * MIB),
            "res_model": "clouds.folder", "res_id": folder.id, "clouds_folder_id": folder.id,
        } for folder, count in ((small, 2), (big, 8)) for i in range(count)])
        self.authenticate("admin", "admin")
        self.peak_while_downloading(small)  # warm up: routing map, session, caches
        _received, small_peak = self.peak_while_downloading(small)
        received, big_peak = self.peak_while_downloading(big)
        self.assertGreater(received, 64 * MIB)
        message = f"peaks: {small_peak / MIB:.1f} MiB, {big_peak / MIB:.1f} MiB"
        self.assertLess(big_peak, 16 * MIB, message)
        # socket buffering between the in-process client and server varies by a few MiB
        self.assertLess(big_peak - small_peak, 12 * MIB, message)

    def test_upload_into_folder(self):
        self.authenticate("restricted", "restricted")
        page = self.url_open("/odoo").text
        token = re.search(r'csrf_token: "(\w+)"', page).group(1)
        files = [("ufile", ("a.txt", b"alpha", "text/plain")),
                 ("ufile", ("b.txt", b"beta", "text/plain"))]
        response = self.url_open("/cloud_base/upload", data={
            "folder_id": self.sub.id, "csrf_token": token}, files=files)
        self.assertEqual(response.status_code, 200, response.text[:300])
        atts = self.env["ir.attachment"].browse(response.json()["ids"])
        self.assertEqual(atts.mapped("raw"), [b"alpha", b"beta"])
        self.assertEqual(atts.clouds_folder_id, self.sub)
        refused = self.url_open("/cloud_base/upload", data={
            "folder_id": self.hidden.id, "csrf_token": token}, files=files)
        self.assertEqual(refused.status_code, 403)
        # The reason, for the screens to show (not a generic error page).
        self.assertEqual(refused.headers["Content-Type"], "application/json; charset=utf-8")
        reason = refused.json()["error"]
        self.assertIn(f"You cannot access these folders ({self.hidden.id})", reason)
        missing = self.url_open("/cloud_base/upload", data={
            "folder_id": self.sub.id, "csrf_token": token})
        self.assertEqual(missing.status_code, 400)
        self.assertTrue(missing.json()["error"])
