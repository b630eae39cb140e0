from . import test_sync_nextcloud
from . import test_picker_nextcloud
