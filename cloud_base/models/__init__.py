from . import clouds_folder
from . import clouds_tag
from . import ir_attachment
from . import clouds_folder_rule
from . import res_config_settings
from . import clouds_folder_file_manager
from . import ir_attachment_file_manager
