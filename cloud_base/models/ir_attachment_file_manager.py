"""What the file manager and the attachment box do with files: move, tag, upload, open,
stream and lay out zip archives.

``_clouds_cloud_url`` and ``_clouds_open_stream`` are the two places where a synced file
differs from a local one; the sync addon overrides them.
"""

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.modules.registry import Registry

from ..zip_archive import ZipLayout

CHUNK = 64 * 1024


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
        folder = self.env["clouds.folder"].browse(folder_id)
        if folder.folder_type == "rule" and not folder.res_model:
            # a rule's container holds one folder per record, never files of its own
            raise UserError(_(
                "“%s” holds the folders of a folder rule, one per record: files go into a "
                "record's folder (or a folder of your own), not here.", folder.name))
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
    def _clouds_zip_layout(self, folder=None, tag=None):
        """The archive of a folder (with its structure: readable subfolders, empty ones
        too), of a tag, or of a selection (``self``), as a :class:`ZipLayout`.

        Only files whose bytes the user may receive go in (``_clouds_servable``); links
        that are not synced files have no bytes and are left out.
        """
        layout = ZipLayout()
        if folder:
            folders = folder.search([("id", "child_of", folder.id)])
            atts = self.search([("clouds_folder_id", "in", folders.ids)], order="name, id")
            paths = {}
            for sub in folders.sorted(lambda f: len(f.parent_path)):
                parent = paths.get(sub.parent_id.id, "") if sub != folder else ""
                paths[sub.id] = layout.add_directory(parent, sub.name)
            for att in atts._clouds_servable()._clouds_with_bytes():
                layout.add_file(paths[att.clouds_folder_id.id], att.name, att.id)
            return layout
        atts = self.search([("clouds_tag_ids", "child_of", tag.id)]) if tag else self
        files = atts._clouds_servable()._clouds_with_bytes()
        for att in files.sorted(lambda a: (a.name or "", a.id)):
            layout.add_file("", att.name, att.id)
        return layout

    def _clouds_with_bytes(self):
        return self.filtered(lambda a: a.type == "binary" or a._clouds_cloud_url())
