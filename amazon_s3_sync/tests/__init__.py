from . import test_sync_s3
