"""Sync logs: one line per task run (what it did, how long, what failed), and the
operations of the run, one line each (written by the executor in its bookkeeping
batches, see ``ClientSync._line``)."""

import time

from odoo import api, fields, models
from odoo.tools import SQL

OPERATION_KINDS = [
    ("create", "Created"), ("link", "Linked (already there)"), ("update", "Updated"),
    ("move", "Moved"), ("rename", "Renamed"), ("delete", "Deleted"),
    ("conflict", "Conflict copy"), ("forget", "Forgotten (deleted on both sides)"),
    ("reverse", "Brought back into Odoo"), ("restore", "Version restored"),
]


class CloudsLog(models.Model):
    _name = "clouds.log"
    _description = "Cloud Sync Log"
    _order = "id desc"

    client_id = fields.Many2one("clouds.client", index=True, ondelete="cascade")
    task_id = fields.Many2one("clouds.queue", ondelete="set null", index=True)
    task_type = fields.Char()
    level = fields.Selection(
        [("info", "Info"), ("warning", "Retry"), ("error", "Failure")], default="info",
        required=True, index=True)
    message = fields.Text()
    operations = fields.Integer()
    failures = fields.Integer()
    duration = fields.Float(string="Duration (s)", digits=(16, 2))
    operation_ids = fields.One2many("clouds.log.operation", "log_id", string="Operation Lines")

    @api.depends("client_id", "task_type", "create_date")
    def _compute_display_name(self):
        for log in self:
            when = log.create_date and fields.Datetime.context_timestamp(
                log, log.create_date).strftime("%Y-%m-%d %H:%M")
            log.display_name = " · ".join(
                str(part) for part in (log.client_id.name, log.task_type, when) if part)

    @api.model
    def _record(self, task, level, message, started, result=None):
        """The run's log; the operation lines the run wrote join it, and its statistics
        row is written (``clouds.sync.stat``)."""
        result = result or {}
        seconds = time.monotonic() - started
        log = self.create({
            "client_id": task.client_id.id, "task_id": task.id, "task_type": task.task_type,
            "level": level, "message": message, "operations": result.get("ops", 0),
            "failures": result.get("failed", 0), "duration": seconds,
        })
        if result.get("ops") or result.get("failed") or level != "info":
            # (a run that did nothing wrote no line: no query in the steady state)
            self.env["clouds.log.operation"].flush_model()
            self.env.execute_query(SQL(
                "UPDATE clouds_log_operation SET log_id = %s "
                "WHERE task_id = %s AND log_id IS NULL", log.id, task.id))
            self.env["clouds.log.operation"].invalidate_model(["log_id"])
            log.invalidate_recordset(["operation_ids"])
        self.env["clouds.sync.stat"]._record(log, result, seconds)
        return log


class CloudsLogOperation(models.Model):
    _name = "clouds.log.operation"
    _description = "Cloud Sync Operation"
    _order = "id desc"
    _rec_name = "name"

    log_id = fields.Many2one("clouds.log", string="Run", index=True, ondelete="cascade")
    task_id = fields.Many2one("clouds.queue", ondelete="set null", index="btree_not_null")
    client_id = fields.Many2one("clouds.client", string="Connection", index=True,
                                ondelete="cascade")
    kind = fields.Selection(OPERATION_KINDS, required=True)
    direction = fields.Selection(
        [("up", "Odoo → cloud"), ("down", "Cloud → Odoo")], required=True)
    state = fields.Selection([("done", "Done"), ("failed", "Failed")], default="done",
                             required=True, string="Result")
    name = fields.Char(string="Item")
    is_folder = fields.Boolean(string="Folder")
    path_before = fields.Char(string="Path Before")
    path_after = fields.Char(string="Path After")
    size = fields.Float(string="Bytes", digits=(16, 0))
    error = fields.Text(help="Why the operation failed, as the cloud answered.")
    attachment_id = fields.Many2one("ir.attachment", string="File", index="btree_not_null",
                                    ondelete="set null")
    folder_id = fields.Many2one("clouds.folder", string="Folder Record",
                                index="btree_not_null", ondelete="set null")

    def action_open_item(self):
        """The file or folder the operation was about."""
        self.ensure_one()
        target = self.attachment_id or self.folder_id
        if not target:
            return False
        return {"type": "ir.actions.act_window", "res_model": target._name,
                "res_id": target.id, "views": [(False, "form")]}
