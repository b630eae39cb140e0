from . import file_manager
from . import oauth
