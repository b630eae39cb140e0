"""Files of Documents folders in the suite, and the way back.

The suite folder of a Documents folder is an object folder of that ``documents.document``
(so it is visible to whoever may read the Documents folder), but unlike other object
folders a file put in it does not take the folder's record as its own: its record is
its document. A file created in such a folder (upload, backward sync) becomes a document
of the Documents folder; a file moved into one moves its document there, a file moved out
of the Documents tree takes its document out of its Documents folder.
"""

from collections import defaultdict

from odoo import _, api, models
from odoo.exceptions import AccessError
from odoo.tools import SQL

from .clouds_folder import SYNCING
from .clouds_folder_rule import DOCUMENT


class IrAttachment(models.Model):
    _inherit = "ir.attachment"

    @api.model
    def _clouds_follow_folder(self, vals):
        folder = self.env["clouds.folder"].browse(vals["clouds_folder_id"])
        if folder.sudo().res_model != DOCUMENT:
            return super()._clouds_follow_folder(vals)
        if not folder._clouds_readable_ids():
            raise AccessError(_("You cannot put files in a folder you cannot see."))
        return vals  # the file's record is its document, not the Documents folder

    @api.model
    def _clouds_attach_to_folders(self, folders):
        """New or restored suite folders of Documents folders take the files of their
        Documents folder's documents (active files, not shortcuts): one UPDATE."""
        documents = folders.filtered(lambda f: f.res_model == DOCUMENT and f.res_id)
        moved = super()._clouds_attach_to_folders(folders - documents)
        if not documents:
            return moved
        self.env["clouds.folder"].flush_model(["res_model", "res_id"])
        self.env[DOCUMENT].flush_model(
            ["folder_id", "attachment_id", "active", "type", "shortcut_document_id"])
        self.flush_model(["clouds_folder_id"])
        rows = self.env.execute_query(SQL(
            """UPDATE ir_attachment a SET clouds_folder_id = f.id
               FROM clouds_folder f JOIN documents_document d ON d.folder_id = f.res_id
               WHERE f.id = ANY(%s) AND d.attachment_id = a.id AND d.active
                 AND d.type = 'binary' AND d.shortcut_document_id IS NULL
                 AND a.clouds_folder_id IS DISTINCT FROM f.id
               RETURNING a.id""",
            documents.ids,
        ))
        files = self.browse(id_ for id_, in rows)
        files.invalidate_recordset(["clouds_folder_id"])
        documents.invalidate_recordset(["attachment_ids", "attachment_count"])
        return moved | files

    @api.model_create_multi
    def create(self, vals_list):
        atts = super().create(vals_list)
        if not self.env.context.get(SYNCING):
            atts._cloud_documents_adopt()
        return atts

    def write(self, vals):
        if self.env.context.get(SYNCING) or not (
                {"clouds_folder_id", "res_model", "res_id"} & vals.keys()):
            return super().write(vals)
        before = {att.id: att.clouds_folder_id for att in self.sudo()}
        result = super().write(vals)
        if "clouds_folder_id" in vals:
            self._cloud_documents_adopt()
            left = self.sudo().filtered(
                lambda a: before[a.id].res_model == DOCUMENT
                and a.clouds_folder_id.res_model != DOCUMENT)
            documents = self._cloud_documents_of(left)
            documents.filtered("folder_id").with_context(**{SYNCING: True}).write(
                {"folder_id": False})
        else:  # another record: its document's file goes where the document is
            self._cloud_documents_of(self.sudo())._cloud_documents_sync_files()
        return result

    def _cloud_documents_of(self, atts):
        """The documents of ``atts`` (sudo, archived ones too)."""
        return self.env[DOCUMENT].sudo().with_context(active_test=False).search(
            [("attachment_id", "in", atts.ids)])

    def _cloud_documents_adopt(self):
        """Files now in the suite folder of a Documents folder: their documents move
        there; a file without a document gets one (made with the user's rights; as the
        Documents folder's owner when made by the sync, which runs as superuser)."""
        atts = self.sudo().filtered(
            lambda a: a.clouds_folder_id.res_model == DOCUMENT and a.clouds_folder_id.res_id
            and not a.res_field)
        if not atts:
            return
        documents = {doc.attachment_id.id: doc for doc in self._cloud_documents_of(atts)}
        moves = defaultdict(list)
        creates = []
        for att in atts:
            target = att.clouds_folder_id._cloud_documents_folder()
            if not target:
                continue
            doc = documents.get(att.id)
            if doc and doc.folder_id != target:
                moves[target.id].append(doc.id)
            elif not doc:
                creates.append((att, target))
        Document = self.env[DOCUMENT]
        for folder_id, doc_ids in moves.items():
            Document.browse(doc_ids).write({"folder_id": folder_id})
        if creates:
            made = Document.create([{
                "name": att.name, "type": "binary", "folder_id": target.id,
                "attachment_id": att.id,
                "owner_id": target.owner_id.id if self.env.su else self.env.uid,
                "company_id": target.company_id.id,
                "access_internal": target.access_internal,
                "access_via_link": target.access_via_link,
            } for att, target in creates])
            for document, (_att, target) in zip(made, creates, strict=True):
                document._cloud_documents_inherit_access(target)
