"""A folder created in the suite (file manager, backward sync) inside the suite folder of
a Documents folder becomes a Documents folder too, in the same transaction."""

from odoo import api, models

from .clouds_folder_rule import DOCUMENT

SYNCING = "cloud_documents_syncing"


class CloudsFolder(models.Model):
    _inherit = "clouds.folder"

    def _cloud_documents_folder(self):
        """The Documents folder this suite folder stands for (sudo), or an empty record."""
        self.ensure_one()
        folder = self.sudo()
        if folder.res_model == DOCUMENT and folder.res_id and folder.folder_type == "rule":
            return self.env[DOCUMENT].sudo().browse(folder.res_id).exists()
        return self.env[DOCUMENT].sudo()

    @api.model_create_multi
    def create(self, vals_list):
        folders = super().create(vals_list)
        if not self.env.context.get("clouds_rule_apply"):
            folders.filtered(lambda f: f.parent_id and not f.sudo().res_model)\
                ._cloud_documents_adopt()
        return folders

    def _cloud_documents_adopt(self):
        """Each of these new folders whose parent stands for a Documents folder gets its
        Documents folder (made with the creator's rights; as the parent's owner when
        made by the sync, which runs as superuser) and becomes that folder's rule folder,
        so the rule keeps it instead of making a second one."""
        for folder in self:
            parent = folder.parent_id._cloud_documents_folder()
            if not parent:
                continue
            sudo = folder.sudo()
            Document = self.env[DOCUMENT].with_context(**{SYNCING: True})
            document = Document.create({
                "name": sudo.name, "type": "folder", "folder_id": parent.id,
                "owner_id": parent.owner_id.id if self.env.su else self.env.uid,
                "company_id": parent.company_id.id,
                "access_internal": parent.access_internal,
                "access_via_link": parent.access_via_link,
            })
            document._cloud_documents_inherit_access(parent)
            sudo.with_context(clouds_rule_apply=True).write({
                "folder_type": "rule", "rule_id": folder.parent_id.sudo().rule_id.id,
                "res_model": DOCUMENT, "res_id": document.id,
            })
