from . import test_sync_s3
from . import test_large_s3
from . import test_picker_s3
