from . import test_sync_nas
