from . import test_oauth_box
