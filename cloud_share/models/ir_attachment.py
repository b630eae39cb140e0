"""Reading a shared file's content: one method, so the sync addon can redirect it."""

import io

from odoo import fields, models


class IrAttachment(models.Model):
    _inherit = "ir.attachment"

    clouds_share_id = fields.Many2one(
        "clouds.share", string="Uploaded Through Share", index="btree_not_null",
        ondelete="set null", readonly=True,
        help="Set on files uploaded from the portal; the uploader is the file's creator.",
    )

    def _clouds_share_open(self):
        """A binary file object with the content of this attachment, read lazily.

        The one code path by which shares read a file (single download and zip). Files
        whose binary lives in the cloud are served by the sync addon overriding this
        method (streaming from the provider through Odoo, never exposing a provider link).
        """
        self.ensure_one()
        if self.store_fname:
            return open(self._full_path(self.store_fname), "rb")  # noqa: SIM115
        return io.BytesIO(self.raw or b"")
