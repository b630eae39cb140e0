from . import test_oauth_google_drive
from . import test_sync_google_drive
from . import test_drive_picker
from . import test_service_account_google_drive
from . import test_oauth_errors_google_drive
from . import test_picker_google_drive
