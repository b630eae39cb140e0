from . import test_oauth_box
from . import test_sync_box
from . import test_ccg_box
from . import test_rotation_box
from . import test_picker_box
