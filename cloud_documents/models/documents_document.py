"""Documents' files follow their documents into the suite folders of their Documents
folders (and out of them when trashed, turned into shortcuts or moved out of a synced
Documents tree)."""

from collections import defaultdict

from odoo import Command, api, models

from .clouds_folder import SYNCING
from .clouds_folder_rule import DOCUMENT

PLACEMENT_FIELDS = {"folder_id", "attachment_id", "active", "type", "shortcut_document_id"}


class DocumentsDocument(models.Model):
    _inherit = "documents.document"

    @api.model_create_multi
    def create(self, vals_list):
        documents = super().create(vals_list)
        if not self.env.context.get(SYNCING):
            documents._cloud_documents_sync_files()
        return documents

    def write(self, vals):
        result = super().write(vals)
        if PLACEMENT_FIELDS & vals.keys() and not self.env.context.get(SYNCING):
            self._cloud_documents_sync_files()
        return result

    def _cloud_documents_inherit_access(self, parent):
        """Documents made by the suite (from the cloud or the file manager) are shared as
        their Documents folder is: its members (``documents.access`` lines, expiry kept)
        get the same role on each. Only partners not listed yet are added (Documents may
        already have copied them itself); granting what the folder grants, no more."""
        lines = parent.sudo().access_ids
        for document in self.sudo():
            missing = lines.filtered(
                lambda line, present=document.access_ids.partner_id:
                line.partner_id not in present)
            if missing:
                document.access_ids = [Command.create({
                    "partner_id": line.partner_id.id, "role": line.role,
                    "expiration_date": line.expiration_date}) for line in missing]

    def _cloud_documents_sync_files(self):
        """Put each document's file where it belongs in the suite: the suite folder of its
        Documents folder when it is an active file (not a shortcut) of a Documents folder
        that has one; out of the Documents suite folders otherwise. A file of no record
        gets its document as record (so that reading it means reading the document).
        Grouped writes; the attachment's own rules apply to none of this (superuser),
        the caller already changed the document with its rights."""
        documents = self.sudo().with_context(active_test=False).filtered(
            lambda d: d.attachment_id and not d.shortcut_document_id)
        if not documents:
            return
        Folder = self.env["clouds.folder"].sudo()
        found = Folder._object_folders_lookup(
            (DOCUMENT, doc.folder_id.id) for doc in documents
            if doc.folder_id and doc.active and doc.type == "binary")
        groups = defaultdict(list)
        for doc in documents:
            att = doc.attachment_id
            current = att.clouds_folder_id
            wanted = (found.get((DOCUMENT, doc.folder_id.id))
                      if doc.active and doc.type == "binary" else None)
            if wanted is None and current.res_model == DOCUMENT:
                wanted = False  # left the synced tree, or trashed: not synced any more
            vals = {}
            if wanted is not None and current.id != wanted:
                vals["clouds_folder_id"] = wanted
            if not att.res_model:
                # with the folder, else cloud_base would take the file out of it
                vals.update(res_model=DOCUMENT, res_id=doc.id)
                vals.setdefault("clouds_folder_id", current.id)
            if vals:
                groups[tuple(sorted(vals.items()))].append(att.id)
        Attachment = self.env["ir.attachment"].sudo().with_context(**{SYNCING: True})
        for vals, ids in groups.items():
            Attachment.browse(ids).write(dict(vals))
