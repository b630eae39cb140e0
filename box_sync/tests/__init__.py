from . import test_oauth_box
from . import test_sync_box
