from . import test_oauth_onedrive
from . import test_sync_onedrive
from . import test_drive_picker
from . import test_oauth_errors_onedrive
from . import test_picker_onedrive
