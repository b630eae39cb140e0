"""Large files against moto: multipart from the filestore, memory flat in the size.

moto keeps objects in its process's memory, so the server runs in a process of its own
here (``python -m cloud_sync.emulators s3``): the peak measured in Odoo's process is the
sync's alone.
"""

import hashlib
import json
import logging
import subprocess
import sys

from odoo.addons.cloud_base.tests.test_sync_common import SyncCase
from odoo.tests import tagged

_logger = logging.getLogger(__name__)


@tagged("post_install", "-at_install")
class TestS3LargeFiles(SyncCase):
    provider_key = "s3"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        server = subprocess.Popen([sys.executable, "-m", "cloud_sync.emulators", "s3"],
                                  stdout=subprocess.PIPE, text=True)

        def stop():
            server.terminate()
            server.wait(10)
            server.stdout.close()

        cls.addClassCleanup(stop)
        cls.config = json.loads(server.stdout.readline())["config"]

    def client_vals(self):
        config = self.config
        return {"s3_bucket": config["bucket"], "s3_region": config["region"],
                "s3_endpoint_url": config["endpoint_url"], "s3_path_style": True,
                "s3_access_key": config["access_key"], "s3_secret_key": config["secret_key"]}

    def test_multipart_upload_memory_does_not_grow_with_the_size(self):
        import boto3
        from botocore.config import Config

        client = self.make_client(root_name="Large")
        s3 = boto3.client("s3", endpoint_url=self.config["endpoint_url"],
                          region_name=self.config["region"],
                          aws_access_key_id=self.config["access_key"],
                          aws_secret_access_key=self.config["secret_key"],
                          config=Config(s3={"addressing_style": "path"}))
        # both above the 8 MiB threshold: multipart in 8 MiB parts either way
        for att, peak in self.assertUploadMemoryFlat(client, small=16 << 20, large=64 << 20):
            _logger.info("s3 upload of %s MiB: peak %.1f MiB", att.file_size >> 20,
                         peak / 2**20)
            body = s3.get_object(Bucket=self.config["bucket"],
                                 Key=att.clouds_remote_id)["Body"]
            digest = hashlib.sha1()
            for block in body.iter_chunks(1 << 20):
                digest.update(block)
            self.assertEqual(digest.hexdigest(), att.checksum)
