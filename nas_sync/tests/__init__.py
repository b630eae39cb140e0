from . import test_sync_nas
from . import test_stream_nas
from . import test_move_nas
from . import test_large_nas
from . import test_steer_nas
from . import test_dashboard_nas
from . import test_followers_nas
from . import test_versions_nas
