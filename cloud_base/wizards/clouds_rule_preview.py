"""Rule preview: the first paths a rule would produce, before anything is created."""

from odoo import api, fields, models


class CloudsRulePreview(models.TransientModel):
    _name = "clouds.rule.preview"
    _description = "Cloud Storage Folder Rule Preview"

    rule_id = fields.Many2one("clouds.folder.rule", required=True, ondelete="cascade")
    limit = fields.Integer(default=20, help="How many paths to show.")
    match_count = fields.Integer(compute="_compute_preview", string="Records")
    paths = fields.Text(compute="_compute_preview", string="Folder Paths")

    @api.depends("rule_id", "limit")
    def _compute_preview(self):
        for wizard in self:
            if not wizard.rule_id:
                wizard.paths, wizard.match_count = "", 0
                continue
            paths, count = wizard.rule_id._preview(limit=max(1, wizard.limit))
            wizard.paths = "\n".join(paths)
            wizard.match_count = count
