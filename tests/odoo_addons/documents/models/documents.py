"""The public schema of Odoo 18 Enterprise ``documents`` (fields named and typed as
Enterprise documents them), nothing more: no views, no routes, no business logic.

Written from the documented field list, not from Enterprise's code. Defaults and the
record rule are the stand-in's own approximations (see README.md).
"""

from odoo import api, fields, models


class DocumentsDocument(models.Model):
    _name = "documents.document"
    _description = "Document (test stand-in)"
    _parent_store = True
    _parent_name = "folder_id"
    _order = "id"

    name = fields.Char(index=True)
    active = fields.Boolean(default=True)
    type = fields.Selection(
        [("url", "URL"), ("binary", "File"), ("folder", "Folder")],
        default="binary", required=True)
    folder_id = fields.Many2one(
        "documents.document", string="Parent Folder", index=True, ondelete="cascade",
        domain="[('type', '=', 'folder')]")
    parent_path = fields.Char(index=True)
    children_ids = fields.One2many("documents.document", "folder_id", string="Children")
    attachment_id = fields.Many2one(
        "ir.attachment", ondelete="cascade", copy=False, index="btree_not_null")
    # Enterprise: related to the attachment's bytes (used by its download routes).
    raw = fields.Binary(related="attachment_id.raw", related_sudo=True, readonly=False)
    datas = fields.Binary(related="attachment_id.datas", related_sudo=True, readonly=False)
    url = fields.Char()
    res_model = fields.Char(compute="_compute_res_record", store=True, index=True)
    res_id = fields.Many2oneReference(compute="_compute_res_record", store=True,
                                      model_field="res_model", index=True)
    shortcut_document_id = fields.Many2one(
        "documents.document", string="Source Document", ondelete="cascade", index=True)
    tag_ids = fields.Many2many("documents.tag", string="Tags")
    owner_id = fields.Many2one("res.users", default=lambda self: self.env.user, index=True)
    company_id = fields.Many2one("res.company")
    access_internal = fields.Selection(
        [("view", "Viewer"), ("edit", "Editor"), ("none", "None")], default="view",
        required=True)
    access_via_link = fields.Selection(
        [("view", "Viewer"), ("edit", "Editor"), ("none", "None")], default="none",
        required=True)
    access_ids = fields.One2many("documents.access", "document_id", string="Access")

    _sql_constraints = [
        ("attachment_unique", "unique (attachment_id)",
         "This attachment is already a document"),
    ]

    @api.depends("attachment_id.res_model", "attachment_id.res_id")
    def _compute_res_record(self):
        for doc in self:
            att = doc.attachment_id.sudo()
            doc.res_model = att.res_model or False
            doc.res_id = att.res_id or False


class DocumentsAccess(models.Model):
    _name = "documents.access"
    _description = "Document access (test stand-in)"

    document_id = fields.Many2one("documents.document", required=True, ondelete="cascade",
                                  index=True)
    partner_id = fields.Many2one("res.partner", required=True, ondelete="cascade", index=True)
    role = fields.Selection([("view", "Viewer"), ("edit", "Editor")], default="view")
    expiration_date = fields.Datetime()


class DocumentsTag(models.Model):
    _name = "documents.tag"
    _description = "Document tag (test stand-in)"
    _order = "sequence, name"

    name = fields.Char(required=True)
    sequence = fields.Integer(default=10)
