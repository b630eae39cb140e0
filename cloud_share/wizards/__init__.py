from . import clouds_share_invite, clouds_share_wizard
