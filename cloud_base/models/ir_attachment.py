"""Attachments get a folder and tags; they land in their record's object folder."""

from collections import defaultdict

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, MissingError
from odoo.osv import expression
from odoo.tools import SQL
from odoo.tools.query import Query

from .clouds_tag import TAG_RELATION


class IrAttachment(models.Model):
    _inherit = "ir.attachment"

    clouds_folder_id = fields.Many2one(
        "clouds.folder", string="Folder", index=True, ondelete="restrict"
    )
    clouds_tag_ids = fields.Many2many(
        "clouds.tag", TAG_RELATION, "attachment_id", "tag_id", string="Tags"
    )

    @api.model
    def _clouds_landing_folders(self, pairs):
        """{(res_model, res_id): folder id} for the records' object folders (one query)."""
        return self.env["clouds.folder"].sudo()._object_folders_lookup(pairs)

    @api.model_create_multi
    def create(self, vals_list):
        # Binary fields' own attachments (res_field) are not files: they never land.
        wanted = [
            vals for vals in vals_list
            if not vals.get("clouds_folder_id") and not vals.get("res_field")
            and vals.get("res_model") and vals.get("res_id")
        ]
        found = self._clouds_landing_folders((v["res_model"], v["res_id"]) for v in wanted)
        for vals in wanted:
            if folder_id := found.get((vals["res_model"], vals["res_id"])):
                vals["clouds_folder_id"] = folder_id
        for vals in vals_list:
            if vals.get("clouds_folder_id"):
                self._clouds_follow_folder(vals)
        return super().create(vals_list)

    def write(self, vals):
        if vals.get("clouds_folder_id"):
            vals = self._clouds_follow_folder(dict(vals))
        elif "clouds_folder_id" not in vals and {"res_model", "res_id"} & vals.keys():
            return self._clouds_write_reattached(vals)
        return super().write(vals)

    @api.model
    def _clouds_follow_folder(self, vals):
        """Into an object folder, the attachment follows its record; else vals unchanged.

        Refuses a folder the user cannot read.
        """
        folder = self.env["clouds.folder"].browse(vals["clouds_folder_id"])
        if not folder._clouds_readable_ids():
            raise AccessError(_("You cannot put files in a folder you cannot see."))
        folder = folder.sudo()
        if folder.res_model and folder.res_id:
            vals.update(res_model=folder.res_model, res_id=folder.res_id)
        return vals

    def _clouds_write_reattached(self, vals):
        """Attachments moved to another record move to its object folder (or out of the old
        record's object folder)."""
        targets = {
            att: (vals.get("res_model", att.res_model), vals.get("res_id", att.res_id))
            for att in self.sudo()
        }
        found = self._clouds_landing_folders(
            t for att, t in targets.items() if not att.res_field
        )
        groups = defaultdict(list)
        for att, target in targets.items():
            folder = att.clouds_folder_id
            if att.res_field:
                new = folder.id
            elif target in found:
                new = found[target]
            elif folder.res_model and (folder.res_model, folder.res_id) != target:
                new = False
            else:
                new = folder.id
            groups[new].append(att.id)
        for folder_id, ids in groups.items():
            super(IrAttachment, self.browse(ids)).write(dict(vals, clouds_folder_id=folder_id))
        return True

    @api.model
    def _clouds_attach_to_folders(self, folders):
        """Move the linked records' attachments into these new object folders (one UPDATE).

        Only attachments without a folder or in another object folder of the same record
        move: a file a user put in a manual folder stays there.
        """
        folders = folders.filtered(lambda f: f.res_model and f.res_id)
        if not folders:
            return self.browse()
        self.env["clouds.folder"].flush_model(["res_model", "res_id"])
        self.flush_model(["res_model", "res_id", "res_field", "clouds_folder_id"])
        rows = self.env.execute_query(SQL(
            """UPDATE ir_attachment a SET clouds_folder_id = f.id
               FROM clouds_folder f
               WHERE f.id = ANY(%s) AND a.res_model = f.res_model AND a.res_id = f.res_id
                 AND a.res_field IS NULL AND a.clouds_folder_id IS DISTINCT FROM f.id
                 AND (a.clouds_folder_id IS NULL OR EXISTS (
                     SELECT 1 FROM clouds_folder o WHERE o.id = a.clouds_folder_id
                       AND o.res_model = a.res_model AND o.res_id = a.res_id))
               RETURNING a.id""",
            folders.ids,
        ))
        moved = self.browse(id_ for id_, in rows)
        moved.invalidate_recordset(["clouds_folder_id"])
        folders.invalidate_recordset(["attachment_ids", "attachment_count"])
        return moved

    # ---------------------------------------------------------------- access

    @api.model
    def _search(self, domain, offset=0, limit=None, order=None):
        Folder = self.env["clouds.folder"]
        if not Folder._clouds_unrestricted():
            readable = Query(self.env, "clouds_folder", SQL.identifier("clouds_folder"))
            readable.add_where(Folder._clouds_readable_sql(SQL.identifier("clouds_folder")))
            domain = expression.AND([
                ["|", ("clouds_folder_id", "=", False), ("clouds_folder_id", "in", readable)],
                domain,
            ])
        return super()._search(domain, offset, limit, order)

    def _clouds_servable(self):
        """Those of ``self`` whose bytes the current user may receive, as sudo records (in
        the order of ``self``): the one access decision of every route that serves bytes.

        It is the decision of Odoo's ``/web/content`` for a request without a token:
        ``public`` files for anyone; for internal users, the files they can read, that is
        what ``ir.attachment._search`` returns (the linked record's access rights and
        record rules, their own files without a record, field groups), narrowed by this
        module to files in folders they can see. Portal and public users get public files
        only, as Odoo's ``check`` refuses them the rest. ``check_access('read')`` is not
        enough: in Odoo 18 it does not look at the linked record.
        """
        atts = self.sudo().exists()
        if self.env.su or not atts:
            return atts
        allowed = set(atts.filtered("public").ids)
        rest = [id_ for id_ in atts.ids if id_ not in allowed]
        user = self.env.user
        if rest and (user._is_internal() or self.env.is_admin()):
            allowed.update(self.search([("id", "in", rest)]).ids)
        return atts.filtered(lambda a: a.id in allowed)

    def _clouds_check_servable(self):
        """Sudo ``self`` when the user may receive the bytes of all of it, else an
        AccessError (MissingError for ids that do not exist)."""
        atts = self.sudo().exists()
        if len(atts) != len(set(self.ids)):
            raise MissingError(self.env._("Some of these files do not exist any more."))
        if self._clouds_servable() != atts:
            raise AccessError(self.env._(
                "You cannot download these files: you may not read their records, or they "
                "are in folders you cannot see."))
        return atts

    def _check_access(self, operation):
        result = super()._check_access(operation)
        Folder = self.env["clouds.folder"]
        if result or Folder._clouds_unrestricted() or not any(self._ids):
            return result
        atts = self.sudo()
        folders = atts.clouds_folder_id
        readable = Folder.browse(folders.ids)._clouds_readable_ids()
        forbidden = atts.filtered(
            lambda a: a.clouds_folder_id and a.clouds_folder_id.id not in readable
        ).sudo(False)
        if not forbidden:
            return None
        message = self.env._("You cannot access these files: they are in folders you cannot see.")
        return forbidden, lambda: AccessError(message)
