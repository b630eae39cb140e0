from . import clouds_share, ir_attachment, res_config_settings, clouds_share_access
