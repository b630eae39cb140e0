"""Files uploaded through a share remember it (the uploader is the file's creator).

Shares read content only through ``ir.attachment._clouds_stream()`` (cloud_base), the one
method that serves local binaries and, through the sync addon, files whose binary lives in
the cloud, so no provider link or credential ever reaches the portal.
"""

from odoo import fields, models


class IrAttachment(models.Model):
    _inherit = "ir.attachment"

    clouds_share_id = fields.Many2one(
        "clouds.share", string="Uploaded Through Share", index="btree_not_null",
        ondelete="set null", readonly=True,
        help="Set on files uploaded from the portal; the uploader is the file's creator.",
    )
