"""Hierarchical, coloured tags on attachments."""

from random import randint

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

TAG_RELATION = "clouds_tag_ir_attachment_rel"


class CloudsTag(models.Model):
    _name = "clouds.tag"
    _description = "Cloud Storage Tag"
    _parent_store = True
    _parent_name = "parent_id"
    _order = "complete_name, id"
    _rec_name = "complete_name"

    name = fields.Char(required=True, translate=True)
    parent_id = fields.Many2one("clouds.tag", string="Parent Tag", ondelete="cascade", index=True)
    parent_path = fields.Char(index=True)
    child_ids = fields.One2many("clouds.tag", "parent_id", string="Subtags")
    complete_name = fields.Char(
        compute="_compute_complete_name", store=True, recursive=True, string="Full Name"
    )
    color = fields.Integer(default=lambda self: randint(1, 11))
    active = fields.Boolean(default=True)
    attachment_ids = fields.Many2many(
        "ir.attachment", TAG_RELATION, "tag_id", "attachment_id", string="Files"
    )

    @api.depends("name", "parent_id.complete_name")
    def _compute_complete_name(self):
        for tag in self:
            if tag.parent_id:
                tag.complete_name = f"{tag.parent_id.complete_name} / {tag.name}"
            else:
                tag.complete_name = tag.name

    @api.constrains("parent_id")
    def _check_parent_cycle(self):
        if self._has_cycle():
            raise ValidationError(_("A tag cannot be placed under itself or its subtags."))
