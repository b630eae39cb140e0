"""Documents' own download routes read a document's bytes through ``ir.binary`` (its
``raw``/``datas`` fields, related to the attachment): for a file whose bytes live only in
the cloud, hand them the attachment's stream, which cloud_base streams from the provider
as ``/web/content`` does, instead of reading the whole file into memory first."""

from odoo import models

from .clouds_folder_rule import DOCUMENT


class IrBinary(models.AbstractModel):
    _inherit = "ir.binary"

    def _record_to_stream(self, record, field_name):
        if record._name == DOCUMENT and field_name in ("raw", "datas"):
            record.check_field_access_rights("read", [field_name])
            att = record.sudo().attachment_id
            if att and att._clouds_link_only():
                return att._to_http_stream()
        return super()._record_to_stream(record, field_name)
