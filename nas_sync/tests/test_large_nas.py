"""Large files against wsgidav: streamed from the filestore, memory flat in the size."""

import hashlib
import logging
import os

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
