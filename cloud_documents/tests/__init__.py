from . import test_documents_rules
from . import test_documents_sync
