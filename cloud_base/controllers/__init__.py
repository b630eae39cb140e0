from . import file_manager
