from . import test_folders
from . import test_tags_attachments
from . import test_access
from . import test_rules
from . import test_rules_apply
from . import test_file_manager
from . import test_file_manager_http
from . import test_demo_data
