"""Sync logs: one line per task run (what it did, how long, what failed)."""

import time

from odoo import api, fields, models


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

    @api.model
    def _record(self, task, level, message, started, result=None):
        result = result or {}
        return self.create({
            "client_id": task.client_id.id, "task_id": task.id, "task_type": task.task_type,
            "level": level, "message": message, "operations": result.get("ops", 0),
            "failures": result.get("failed", 0), "duration": time.monotonic() - started,
        })

    @api.autovacuum
    def _gc_old_logs(self):
        """Keep three months of logs."""
        limit = fields.Datetime.subtract(fields.Datetime.now(), days=90)
        self.search([("create_date", "<", limit)], limit=10000).unlink()
