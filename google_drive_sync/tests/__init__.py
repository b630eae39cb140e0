from . import test_oauth_google_drive
