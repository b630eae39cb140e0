"""Large files against wsgidav: streamed from the filestore, memory flat in the size."""

import gc
import hashlib
import logging
import os
import tracemalloc

from odoo.tests import tagged

from .test_sync_nas import NasCase

_logger = logging.getLogger(__name__)


def file_sha1(path):
    digest = hashlib.sha1()
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


@tagged("post_install", "-at_install")
class TestNasLargeFiles(NasCase):
    def test_upload_memory_does_not_grow_with_the_size(self):
        client = self.make_client(root_name="Large")
        for att, peak in self.assertUploadMemoryFlat(client):
            _logger.info("webdav upload of %s MiB: peak %.1f MiB", att.file_size >> 20,
                         peak / 2**20)
            path = os.path.join(self.files, "Large", f"Large {att.file_size}", att.name)
            self.assertEqual(file_sha1(path), att.checksum)

    def test_download_memory_does_not_grow_with_the_size(self):
        """A file edited remotely comes back into Odoo's filestore streamed: the peak of
        the run that downloads 64 MiB is no higher than for 8 MiB, give or take a few
        chunks, and the attachment holds exactly the remote bytes."""
        client = self.make_client(root_name="Large down")
        self.sync()
        peaks = {}
        for size in (8 << 20, 64 << 20):
            att, _peak = self.upload_peak(client, size)
            path = os.path.join(self.files, "Large down", f"Large {size}", att.name)
            with open(path, "wb") as out:  # edited in the cloud: new bytes, one more
                for _block in range(size >> 20):
                    out.write(os.urandom(1 << 20))
                out.write(b"!")
            remote = file_sha1(path)
            self.env.flush_all()
            self.env.invalidate_all()
            gc.collect()
            tracemalloc.start()
            try:
                logs = self.sync()
                peaks[size] = tracemalloc.get_traced_memory()[1]
            finally:
                tracemalloc.stop()
            self.assertSyncOps(logs, 1)
            self.assertEqual(att.checksum, remote)
            self.assertEqual(file_sha1(att._full_path(att.store_fname)), remote)
            self.assertEqual(att.file_size, size + 1)
            _logger.info("webdav download of %s MiB: peak %.1f MiB", size >> 20,
                         peaks[size] / 2**20)
        growth = peaks[64 << 20] - peaks[8 << 20]
        self.assertLess(growth, (56 << 20) / 8, peaks)
        self.assertLess(peaks[64 << 20], 32 << 20, peaks)
