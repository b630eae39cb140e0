"""The models a folder rule may target, offered in the rule form."""

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.osv import expression

from .clouds_folder_rule import rule_model_allowed


class IrModel(models.Model):
    _inherit = "ir.model"

    clouds_rule_allowed = fields.Boolean(
        string="Allowed for Folder Rules", compute="_compute_clouds_rule_allowed",
        search="_search_clouds_rule_allowed",
        help="A folder rule of the current user may target this model (the same decision "
        "as when the rule is saved).",
    )

    @api.depends_context("uid")
    def _compute_clouds_rule_allowed(self):
        for model in self:
            model.clouds_rule_allowed = rule_model_allowed(self.env, model.model)

    def _search_clouds_rule_allowed(self, operator, value):
        if operator not in ("=", "!="):
            raise UserError(_("Operation not supported"))
        allowed = [name for name in self.env.registry if rule_model_allowed(self.env, name)]
        wanted = (operator == "=") == bool(value)
        return [("model", "in" if wanted else "not in", allowed)] if allowed else (
            expression.FALSE_DOMAIN if wanted else expression.TRUE_DOMAIN)
