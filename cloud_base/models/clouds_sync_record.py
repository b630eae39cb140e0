"""What both sides agreed on at the last sync of one item: the planner's ``SyncedNode``.

One row per (connection, local key) and per (connection, remote id). Keys are ``f<id>``
for folders and ``a<id>`` for attachments; the connection's root is implicit.
"""

from odoo import fields, models


class CloudsSyncRecord(models.Model):
    _name = "clouds.sync.record"
    _description = "Cloud Sync Record"
    _order = "id"

    client_id = fields.Many2one("clouds.client", required=True, ondelete="cascade", index=True)
    key = fields.Char(required=True)
    remote_id = fields.Char(required=True)
    parent_key = fields.Char()
    name = fields.Char()
    kind = fields.Selection([("folder", "Folder"), ("file", "File")], required=True)
    local_content = fields.Char(help="Odoo checksum (SHA-1) of the content last synced.")
    remote_version = fields.Char()

    _sql_constraints = [
        ("key_uniq", "unique (client_id, key)", "One sync record per local item."),
        ("remote_uniq", "unique (client_id, remote_id)", "One sync record per remote item."),
    ]
