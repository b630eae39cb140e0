from . import test_oauth_onedrive
