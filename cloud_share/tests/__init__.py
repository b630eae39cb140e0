from . import test_share_models
from . import test_share_http
from . import test_share_scale
from . import test_share_tour
from . import test_attacks
from . import test_share_audit
