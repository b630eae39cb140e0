from . import test_sync_nextcloud
