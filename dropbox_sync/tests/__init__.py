from . import test_oauth_dropbox
from . import test_sync_dropbox
from . import test_picker_dropbox
