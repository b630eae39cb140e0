from . import file_manager
from . import oauth
from . import versions
