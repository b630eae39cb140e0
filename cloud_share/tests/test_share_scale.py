"""A share of a folder with 2,000 files: the first page costs the same queries as a share of
20 files, and its zip streams in bounded memory."""

import tempfile
import tracemalloc
import zipfile

from odoo import Command
from odoo.tests import HttpCase, tagged

FILES = 2000
SIZE = 16 * 1024


@tagged("post_install", "-at_install")
class TestShareScale(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Folder, Attachment = cls.env["clouds.folder"], cls.env["ir.attachment"]
        cls.tag = cls.env["clouds.tag"].create({"name": "Batch"})
        payload = bytes(range(256)) * (SIZE // 256)

        def share_of(name, count):
            folder = Folder.create({"name": name})
            sub = Folder.create({"name": "Sub", "parent_id": folder.id})
            Attachment.create([{
                "name": f"file-{i:05d}.bin",
                "raw": b"%06d" % i + payload[6:],
                "clouds_folder_id": (sub if i % 10 == 0 else folder).id,
                "clouds_tag_ids": [Command.link(cls.tag.id)],
            } for i in range(count)])
            return cls.env["clouds.share"].create({
                "name": name, "folder_ids": [Command.link(folder.id)],
                "user_id": cls.env.ref("base.user_admin").id,
            }), folder

        cls.small, cls.small_folder = share_of("Small", 20)
        cls.big, cls.big_folder = share_of("Big", FILES)

    def url(self, share, path="", **params):
        params["access_token"] = share.access_token
        query = "&".join(f"{k}={v}" for k, v in params.items())
        return f"/my/shares/{share.id}{path}?{query}"

    def queries(self, url):
        """Queries of one request (after a first one that fills the caches)."""
        self.assertEqual(self.url_open(url).status_code, 200)
        before = self.cr.sql_log_count
        response = self.url_open(url)
        self.assertEqual(response.status_code, 200)
        return self.cr.sql_log_count - before, response.text

    def test_first_page_in_constant_queries(self):
        for params in ({}, {"folder_id": "FOLDER"}, {"tag_id": self.tag.id},
                       {"search": "file-0"}):
            counts = {}
            for share, folder in ((self.small, self.small_folder),
                                  (self.big, self.big_folder)):
                args = {k: (folder.id if v == "FOLDER" else v) for k, v in params.items()}
                counts[share.name], page = self.queries(self.url(share, **args))
                if params:
                    self.assertIn("file-00001.bin", page)
            self.assertEqual(counts["Small"], counts["Big"], params)
        # The page holds one page of files, not all of them.
        _count, page = self.queries(self.url(self.big, folder_id=self.big_folder.id))
        self.assertEqual(page.count("o_clouds_file_row"), 50)

    def test_zip_streams_in_bounded_memory(self):
        url = self.base_url() + self.url(self.big, "/zip")
        tracemalloc.start()
        try:
            with tempfile.TemporaryFile() as out:
                with self.opener.get(url, stream=True, timeout=300) as response:
                    self.assertEqual(response.status_code, 200)
                    for chunk in response.iter_content(64 * 1024):
                        out.write(chunk)
                _current, peak = tracemalloc.get_traced_memory()
                out.seek(0)
                with zipfile.ZipFile(out) as archive:
                    names = [n for n in archive.namelist() if not n.endswith("/")]
                    self.assertEqual(len(names), FILES)
                    self.assertIn("Big/Sub/file-00010.bin", names)
                    data = archive.read("Big/file-01999.bin")
                    self.assertEqual(data[:6], b"001999")
                    self.assertEqual(len(data), SIZE)
        finally:
            tracemalloc.stop()
        # 32 MB of files went through; memory stays well under it (a zip built in memory
        # would hold all of it). Half, not less: tracemalloc counts every thread of the
        # process, and a loaded machine lets the server run ahead of the reader.
        self.assertLess(peak, FILES * SIZE / 2, f"peak {peak} bytes")
