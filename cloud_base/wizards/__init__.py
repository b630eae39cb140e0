from . import clouds_rule_preview
