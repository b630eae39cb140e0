"""Change marks: what the sync of a connection must look at since its last run.

A cycle with nothing changed must not load the connection's tree. So every change that
matters to the sync planner's local state (a folder's name, parent, connection, type,
linked record or archiving; a file's name, folder, content or type) sets
``clouds_change`` on the changed row, in one UPDATE per write, from the sequence
``clouds_change_seq`` (a new value each time), and on the sync records of the changed
items (``clouds.sync.record.clouds_change``: what a connection synced and that was since
changed, deleted or moved away, wherever it went). A row with no change is NULL.

The executor reads the marks of its connection when a run starts (a few rows at most,
through partial indexes) and plans only when there is one or when the remote side
changed. It clears exactly the marks it read, by (id, value), in the commit that stores
its cursor after a run without failures: a change made during the run has another value
and stays marked; a run that fails or crashes clears nothing.

The executor's own local writes (``clouds_no_mark`` in its context) set no mark: they are
recorded in its sync records as they happen.
"""

from odoo import api, fields, models
from odoo.tools import SQL

NO_MARK = "clouds_no_mark"
SEQUENCE = "clouds_change_seq"
ATTACHMENT_FIELDS = frozenset({"name", "clouds_folder_id", "raw", "datas", "db_datas",
                               "store_fname", "checksum", "type"})
FOLDER_FIELDS = frozenset({"name", "parent_id", "active", "own_client_id", "rule_id",
                           "folder_type", "res_model", "res_id"})


def _partial_index(cr, table, column):
    cr.execute(SQL("CREATE INDEX IF NOT EXISTS %s ON %s (%s) WHERE clouds_change IS NOT NULL",
                   SQL.identifier(f"{table}_clouds_change_idx"), SQL.identifier(table),
                   SQL.identifier(column)))


def _mark_records(env, prefix, ids):
    """Mark the sync records of items ``prefix<id>`` in every connection (tombstones of
    what was synced: it changed, left the connection or was deleted)."""
    if ids:
        env.execute_query(SQL(
            "UPDATE clouds_sync_record SET clouds_change = nextval(%s) WHERE key = ANY(%s)",
            SEQUENCE, [f"{prefix}{i}" for i in ids]))
        env["clouds.sync.record"].invalidate_model(["clouds_change"])


class CloudsSyncRecordChange(models.Model):
    _inherit = "clouds.sync.record"

    key = fields.Char(index=True)
    clouds_change = fields.Integer(readonly=True, copy=False)

    def init(self):
        super().init()
        # Wraps after 2^31 changes: a value read is compared with the row's a run later.
        self.env.cr.execute(SQL("CREATE SEQUENCE IF NOT EXISTS %s MAXVALUE 2147483647 CYCLE",
                                SQL.identifier(SEQUENCE)))
        _partial_index(self.env.cr, self._table, "client_id")


class CloudsFolderChange(models.Model):
    _inherit = "clouds.folder"

    clouds_change = fields.Integer(readonly=True, copy=False)

    def init(self):
        super().init()
        _partial_index(self.env.cr, self._table, "client_id")

    def _clouds_mark(self, records=True):
        if not self or self.env.context.get(NO_MARK):
            return
        self.env.execute_query(SQL(
            "UPDATE clouds_folder SET clouds_change = nextval(%s) WHERE id = ANY(%s)",
            SEQUENCE, self.ids))
        self.invalidate_recordset(["clouds_change"])
        if records:
            _mark_records(self.env, "f", self.ids)

    @api.model_create_multi
    def create(self, vals_list):
        folders = super().create(vals_list)
        folders._clouds_mark(records=False)
        return folders

    def write(self, vals):
        result = super().write(vals)
        if FOLDER_FIELDS & vals.keys():
            self._clouds_mark()
        return result

    def unlink(self):
        if not self.env.context.get(NO_MARK):
            _mark_records(self.env, "f", self._subtree().ids)
        return super().unlink()


class IrAttachmentChange(models.Model):
    _inherit = "ir.attachment"

    clouds_change = fields.Integer(readonly=True, copy=False)

    def init(self):
        super().init()
        _partial_index(self.env.cr, self._table, "clouds_folder_id")

    def _clouds_mark(self, records=True):
        """Mark the attachments that are in a synced folder (the others concern no
        connection; their sync records, if they left one, are marked)."""
        if not self or self.env.context.get(NO_MARK):
            return
        self.flush_recordset(["clouds_folder_id"])
        self.env["clouds.folder"].flush_model(["client_id"])
        self.env.execute_query(SQL(
            """UPDATE ir_attachment a SET clouds_change = nextval(%s) FROM clouds_folder f
               WHERE a.id = ANY(%s) AND f.id = a.clouds_folder_id AND f.client_id IS NOT NULL""",
            SEQUENCE, self.ids))
        self.invalidate_recordset(["clouds_change"])
        if records:
            _mark_records(self.env, "a", self.ids)

    @api.model_create_multi
    def create(self, vals_list):
        atts = super().create(vals_list)
        atts.filtered("clouds_folder_id")._clouds_mark(records=False)
        return atts

    def write(self, vals):
        if not ATTACHMENT_FIELDS & vals.keys() or self.env.context.get(NO_MARK):
            return super().write(vals)
        # Only files that are or were in a folder can concern a connection.
        before = self.sudo().filtered("clouds_folder_id")
        result = super().write(vals)
        self.browse((before | self.sudo().filtered("clouds_folder_id")).ids)._clouds_mark()
        return result

    def unlink(self):
        if not self.env.context.get(NO_MARK):
            _mark_records(self.env, "a", self.sudo().filtered("clouds_folder_id").ids)
        return super().unlink()

    @api.model
    def _clouds_attach_to_folders(self, folders):
        moved = super()._clouds_attach_to_folders(folders)
        moved._clouds_mark()
        return moved


class CloudsFolderRuleChange(models.Model):
    _inherit = "clouds.folder.rule"

    def write(self, vals):
        result = super().write(vals)
        if "client_id" in vals:
            # The folders' connection is recomputed, not written: mark them (one mark is
            # enough for a connection to plan its whole tree).
            self.env["clouds.folder"].sudo().with_context(active_test=False).search(
                [("rule_id", "in", self.ids)])._clouds_mark()
        return result
