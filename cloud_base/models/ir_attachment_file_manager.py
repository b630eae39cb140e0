"""What the file manager and the attachment box do with files: move, tag, upload, open,
stream and lay out zip archives.

``_clouds_cloud_url`` and ``_clouds_open_stream`` are the two places where a synced file
differs from a local one; the sync addon overrides them.
"""

import os
from collections import defaultdict

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.modules.registry import Registry

from cloud_sync.naming import NameRules, sanitize, unique_name

CHUNK = 64 * 1024
# Entry names inside an archive: one path part each, never "..", "/" or "\\".
ZIP_RULES = NameRules(forbidden_chars="/\\", max_length=255)


def zip_part(name):
    """One sanitised path part of an archive entry."""
    return sanitize(name or "", ZIP_RULES)


def _cloud_chunks(dbname, uid, context, att_id):
    """Stream a cloud-only file in its own cursor: a streamed response is iterated after
    the request's cursor is closed, and the sync addon's stream reads its client there."""
    with Registry(dbname).cursor() as cr:
        env = api.Environment(cr, uid, context)
        yield from env["ir.attachment"].browse(att_id).sudo()._clouds_open_stream()


def _read_file(path):
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            yield chunk


class IrAttachment(models.Model):
    _inherit = "ir.attachment"

    clouds_cloud_url = fields.Char(
        string="Cloud Link", compute="_compute_clouds_cloud_url",
        help="Where a synced file opens in the cloud (empty: the file is only in Odoo).")

    def _compute_clouds_cloud_url(self):
        for att in self:
            att.clouds_cloud_url = att._clouds_cloud_url()

    def _clouds_cloud_url(self):
        """The file's web link in the cloud, or False when its binary is local."""
        self.ensure_one()
        return False

    def _clouds_open_stream(self):
        """An iterable of the bytes of a file that has no local binary (the sync addon
        streams it from the cloud). Here: the local bytes, if any.

        Streamed responses iterate it in a cursor of its own (see ``_clouds_stream``).
        """
        self.ensure_one()
        return [self.sudo().raw or b""]

    def _clouds_stream(self):
        """The file's bytes, lazily in chunks: local binary first, else the cloud."""
        self.ensure_one()
        att = self.sudo()
        if att.type == "url" and not att._clouds_cloud_url():
            raise UserError(_("“%(name)s” is a link, not a file.", name=att.name))
        if att.store_fname:
            return _read_file(att._full_path(att.store_fname))
        if att.db_datas:
            return [att.db_datas]
        if not att.file_size:
            return iter(())
        return _cloud_chunks(self.env.cr.dbname, self.env.uid, dict(self.env.context), att.id)

    # ---------------------------------------------------------------- UI operations

    def clouds_fm_move(self, folder_id):
        """Move files into a folder; in an object folder they follow its record."""
        if not folder_id:
            raise UserError(_("Choose a folder to move the files to."))
        self.check_access("write")
        self.write({"clouds_folder_id": folder_id})
        return True

    def clouds_fm_tag(self, tag_ids, remove=False):
        """Add (or remove) tags on files."""
        self.check_access("write")
        tags = self.env["clouds.tag"].browse(tag_ids)
        tags.check_access("read")
        self.write({"clouds_tag_ids": [(3 if remove else 4, t.id) for t in tags]})
        return True

    def clouds_fm_info(self):
        """What the cards need beyond the view's fields: cloud links of synced files."""
        return {att.id: att._clouds_cloud_url() for att in self}

    @api.model
    def _clouds_upload(self, folder, files):
        """Create attachments from uploaded ``files`` (werkzeug FileStorage) in ``folder``.

        A file lands on the record of the folder or of its nearest parent that has one (a
        subfolder of a task's folder keeps its files on the task); elsewhere it is attached
        to the folder itself, so whoever can see the folder can read it.
        """
        folder.check_access("read")
        folder = folder.sudo()
        chain = folder.browse(int(i) for i in reversed(folder.parent_path.split("/")) if i)
        owner = next((f for f in chain if f.res_model and f.res_id), None)
        model, res_id = (owner.res_model, owner.res_id) if owner else ("clouds.folder", folder.id)
        return self.create([{
            "name": f.filename or _("Unnamed file"),
            "raw": f.read(),
            "mimetype": f.mimetype or False,
            "res_model": model,
            "res_id": res_id,
            "clouds_folder_id": folder.id,
        } for f in files])

    # ---------------------------------------------------------------- zip archives

    @api.model
    def _clouds_zip_plan(self, folder=None, tag=None):
        """[(entry name, attachment or None for a directory)] of an archive.

        Links that are not synced files have no bytes and are left out. A folder keeps its
        structure (readable subfolders, empty ones too); a tag or a
        selection (``self``) gives a flat archive. Every part is sanitised and unique in its
        directory, so no entry can escape the archive or overwrite another.
        """
        if folder:
            folders = folder.search([("id", "child_of", folder.id)])
            atts = self.search([("clouds_folder_id", "in", folders.ids)], order="name, id")
            atts = atts._clouds_with_bytes()
            paths = {}
            taken = defaultdict(list)
            plan = []
            for sub in folders.sorted(lambda f: len(f.parent_path)):
                base = paths.get(sub.parent_id.id, "") if sub != folder else ""
                part = unique_name(zip_part(sub.name), taken[base], ZIP_RULES)
                taken[base].append(part)
                paths[sub.id] = f"{base}{part}/"
                plan.append((paths[sub.id], None))
            for att in atts:
                base = paths[att.clouds_folder_id.id]
                part = unique_name(zip_part(att.name), taken[base], ZIP_RULES)
                taken[base].append(part)
                plan.append((base + part, att))
            return plan
        if tag:
            atts = self.search([("clouds_tag_ids", "child_of", tag.id)], order="name, id")
        else:
            atts = self.search([("id", "in", self.ids)], order="name, id")
        atts = atts._clouds_with_bytes()
        taken = []
        plan = []
        for att in atts:
            part = unique_name(zip_part(att.name), taken, ZIP_RULES)
            taken.append(part)
            plan.append((part, att))
        return plan

    def _clouds_with_bytes(self):
        return self.filtered(lambda a: a.type == "binary" or a._clouds_cloud_url())

    @api.model
    def _clouds_zip_name(self, folder=None, tag=None):
        name = folder.name if folder else tag.name if tag else _("files")
        return os.path.splitext(zip_part(name))[0] + ".zip"
