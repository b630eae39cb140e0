from . import test_oauth_google_drive
from . import test_sync_google_drive
from . import test_drive_picker
