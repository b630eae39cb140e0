"""The sync queue: a cron prepares tasks, a cron runs them, several workers at once.

Claiming: ``FOR UPDATE SKIP LOCKED`` on the task row, then a session advisory lock on its
connection (released in ``finally``, or by PostgreSQL when a worker dies), so one
connection never runs two tasks at once and a task left ``running`` by a dead worker is
taken again. Order: reverse and move tasks, then sync tasks (each runs its connection's
plan, which creates parents before children), then cleaning. Every task is idempotent.
"""

import logging
import time
import traceback
from datetime import timedelta

from odoo import Command, _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL, mute_logger
from psycopg2.errors import SerializationFailure

from cloud_sync.providers.errors import QuotaExceeded, ReauthRequired

from .clouds_sync_executor import CRITICAL, ClientSync, DeletionGuard

_logger = logging.getLogger(__name__)

LOCK_CLASS = 74110  # advisory lock namespace of the queue
PRIORITY = {"reverse": 0, "move": 0, "sync": 10}
BACKOFF_BASE = 60  # seconds; doubled at every try, capped
BACKOFF_CAP = 3600


class CloudsQueue(models.Model):
    _name = "clouds.queue"
    _description = "Cloud Sync Task"
    _order = "priority, id"

    client_id = fields.Many2one("clouds.client", required=True, ondelete="cascade", index=True)
    task_type = fields.Selection(
        [("reverse", "Reverse sync (bring binaries back)"),
         ("move", "Move folders to another connection (bring binaries back first)"),
         ("sync", "Sync")],
        required=True)
    priority = fields.Integer(default=10, index=True)
    state = fields.Selection(
        [("pending", "Pending"), ("running", "Running"), ("done", "Done"),
         ("failed", "Failed")], default="pending", required=True, index=True)
    tries = fields.Integer(readonly=True)
    max_tries = fields.Integer(default=5)
    next_try = fields.Datetime(index=True)
    last_error = fields.Text(readonly=True)
    done_at = fields.Datetime(readonly=True)
    requested_by_ids = fields.Many2many(
        "res.users", string="Requested By", copy=False,
        help="Who asked for this task with “Sync now”: told when its run ends.")

    @api.depends("client_id", "task_type")
    def _compute_display_name(self):
        labels = dict(self._fields["task_type"]._description_selection(self.env))
        for task in self:
            task.display_name = f"{labels.get(task.task_type, '')}: {task.client_id.name or ''}"

    @api.model
    def _enqueue(self, clients, task_type):
        """One pending task per connection and type (no duplicates)."""
        existing = self.search([("client_id", "in", clients.ids), ("task_type", "=", task_type),
                                ("state", "in", ("pending", "running"))])
        todo = clients - existing.client_id
        return self.create([{"client_id": c.id, "task_type": task_type,
                             "priority": PRIORITY[task_type]} for c in todo])

    # ---------------------------------------------------------------- crons
    @api.model
    def _cron_prepare(self):
        """A sync task for every connected connection, the longest unchecked first."""
        clients = self.env["clouds.client"].sudo().search(
            [("state", "=", "connected")], order="last_sync asc nulls first, id")
        return self._enqueue(clients, "sync")

    @api.model
    def _cron_run(self, limit=50):
        """Cron entry: run tasks, committing each on its own."""
        return self._run_tasks(limit=limit, commit=True)

    @api.model
    def _run_tasks(self, limit=None, commit=False):
        """Run up to ``limit`` tasks. Without ``commit`` (tests) everything stays in the
        current transaction; each task then runs in a savepoint."""
        done = self.browse()
        skipped = []
        while limit is None or len(done) < limit:
            task = self._claim(skipped, commit)
            if task is None:
                break
            try:
                task._run(commit)
            finally:
                self.env.execute_query(SQL("SELECT pg_advisory_unlock(%s, %s)",
                                           LOCK_CLASS, task.client_id.id))
            done |= task
        return done

    def _claim(self, skipped, commit=False):
        """The next runnable task, locked, with its connection's advisory lock held.

        Odoo's transactions are REPEATABLE READ: a task another worker committed after our
        snapshot raises a serialization failure; in cron mode we start over with a fresh
        snapshot."""
        self.flush_model()
        while True:
            try:
                with mute_logger("odoo.sql_db"):
                    rows = self._claim_query(skipped)
            except SerializationFailure:
                if not commit:
                    raise
                self.env.cr.rollback()
                continue
            if not rows:
                return None
            task_id, client_id = rows[0]
            got = self.env.execute_query(SQL("SELECT pg_try_advisory_lock(%s, %s)",
                                             LOCK_CLASS, client_id))[0][0]
            if got:
                return self.browse(task_id)
            skipped.append(task_id)  # its connection is busy in another worker

    def _claim_query(self, skipped):
        return self.env.execute_query(SQL(
                """SELECT q.id, q.client_id FROM clouds_queue q
                   WHERE q.state IN ('pending', 'running') AND NOT q.id = ANY(%s)
                     AND (q.next_try IS NULL OR q.next_try <= (now() AT TIME ZONE 'UTC'))
                   ORDER BY q.priority, q.id LIMIT 1 FOR UPDATE SKIP LOCKED""",
                skipped))

    def _run(self, commit):
        self.ensure_one()
        cr = self.env.cr
        client = self.client_id.sudo()
        self.write({"state": "running", "tries": self.tries + 1})
        if commit:
            cr.commit()
        log = self.env["clouds.log"].sudo()
        started = time.monotonic()
        try:
            if commit:
                result = self._execute(commit=cr.commit)
            else:
                with cr.savepoint():
                    result = self._execute(commit=None)
        except CRITICAL as exc:
            if commit:
                cr.rollback()
            state = "needs_reconnect" if isinstance(exc, ReauthRequired) else "paused"
            reason = _("quota exceeded: %s", exc) if isinstance(exc, QuotaExceeded) else str(exc)
            client._cloud_pause(reason, state=state)
            self.write({"state": "failed", "last_error": reason})
            log._record(self, "error", reason, started)
            self._notify_requesters("danger", reason=reason, paused=True)
        except Exception as exc:  # noqa: BLE001 - one failure never stops the others
            if commit:
                cr.rollback()
            self._retry_later(traceback.format_exc(), started, exc)
            self._notify_requesters("danger", reason=str(exc) or type(exc).__name__)
        else:
            if result.get("failed"):
                self._retry_later("\n".join(result["errors"]), started, None, result)
                self._notify_requesters("warning", result=result,
                                        reason=(result["errors"] or [""])[0])
            else:
                self.write({"state": "done", "done_at": fields.Datetime.now(),
                            "last_error": False})
                log._record(self, "info", _("%s operations", result.get("ops", 0)), started,
                            result)
                if result.get("skipped"):
                    self._notify_requesters("warning", reason=client.pause_reason or _(
                        "the connection is not connected"), skipped=True)
                else:
                    self._notify_requesters("success", result=result)
        if commit:
            cr.commit()

    def _notify_requesters(self, kind, result=None, reason=None, paused=False, skipped=False):
        """Tell the users who asked for this run (``Sync now``) how it ended, through the
        bus as Odoo's ``simple_notification``, in their language; then forget them."""
        self.ensure_one()
        for user in self.requested_by_ids:
            task = self.with_context(lang=user.lang)
            user._bus_send("simple_notification", task._notification_payload(
                kind, result or {}, reason, paused=paused, skipped=skipped))
        self.requested_by_ids = [Command.clear()]

    def _notification_payload(self, kind, result, reason, paused=False, skipped=False):
        name = self.client_id.sudo().name
        counts = _("%(ops)s operations done, %(failed)s failed.",
                   ops=result.get("ops", 0), failed=result.get("failed", 0))
        reason = (reason or "").strip().split("\n", 1)[0][:300]
        if kind == "success":
            message = _("Sync of “%(name)s” finished: %(counts)s", name=name, counts=counts)
        elif skipped:
            message = _("Sync of “%(name)s” did not run: %(reason)s", name=name, reason=reason)
        elif paused:
            message = _("Sync of “%(name)s” stopped and the connection is paused: "
                        "%(reason)s", name=name, reason=reason)
        elif self.state == "failed":
            message = _("Sync of “%(name)s” failed for good after %(tries)s tries: "
                        "%(counts)s %(reason)s", name=name, tries=self.tries, counts=counts,
                        reason=reason)
        else:
            message = _("Sync of “%(name)s” failed: %(counts)s %(reason)s It is retried "
                        "automatically.", name=name, counts=counts, reason=reason)
        return {"type": kind, "title": _("Cloud sync"), "message": message,
                "sticky": kind != "success", "ops": result.get("ops", 0),
                "failed": result.get("failed", 0), "client_id": self.client_id.id}

    def _retry_later(self, error, started, exc, result=None):
        """Capped exponential backoff, up to ``max_tries``."""
        _logger.warning("clouds.queue %s (%s) failed: %s", self.id, self.task_type,
                        exc or error.splitlines()[0])
        wait = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** max(self.tries - 1, 0))
        last = self.tries >= self.max_tries
        self.write({
            "state": "failed" if last else "pending",
            "next_try": fields.Datetime.now() + timedelta(seconds=wait),
            "last_error": error,
        })
        self.env["clouds.log"].sudo()._record(self, "error" if last else "warning", error,
                                              started, result)

    def _execute(self, commit):
        client = self.client_id.sudo().with_context(clouds_task_id=self.id)
        if self.task_type == "reverse":
            return client._cloud_reverse()
        if self.task_type == "move":
            return client._cloud_move_folders(commit=commit)
        if not client._cloud_ready():
            return {"ops": 0, "skipped": True}
        provider = client._cloud_shared_provider()
        runner = ClientSync(client, provider, commit=commit)
        runner.run()
        stats = runner.stats
        return {"ops": stats["ops"], "failed": stats["failed"], "errors": runner.errors,
                "ops_up": stats["ops_up"], "ops_down": stats["ops_down"],
                "bytes_up": stats["bytes_up"], "bytes_down": stats["bytes_down"],
                "files_failed": len(runner.failed_files),
                "requests": getattr(provider, "requests", 0) - runner.requests_before}


class CloudsClientQueue(models.Model):
    _inherit = "clouds.client"

    queue_ids = fields.One2many("clouds.queue", "client_id", string="Tasks")

    def action_sync_now(self):
        """Queue this connection's sync (what the prepare cron would queue for it) and run
        it at once through the run cron's trigger, never in this request. The user is
        told by a notification when it ends (see ``clouds.queue._notify_requesters``)."""
        self.check_access("write")
        for client in self:
            if client.state != "connected":
                raise UserError(_("“%(name)s” cannot sync now: %(reason)s", name=client.name,
                                  reason=client.pause_reason or _("it is not connected.")))
        Queue = self.env["clouds.queue"].sudo()
        Queue._enqueue(self, "sync")
        tasks = Queue.search([("client_id", "in", self.ids), ("task_type", "=", "sync"),
                              ("state", "in", ("pending", "running"))])
        # Asked for now: a task waiting for its backoff runs at once too.
        tasks.filtered(lambda t: t.state == "pending").next_try = False
        tasks.requested_by_ids = [Command.link(self.env.uid)]
        self.env.ref("cloud_base.ir_cron_sync_run").sudo()._trigger()
        return {"type": "ir.actions.client", "tag": "display_notification", "params": {
            "type": "info",
            "message": _("Sync of %(names)s started; you will be notified when it ends.",
                         names=", ".join(f"“{name}”" for name in self.mapped("name"))),
        }}

    def _cloud_reverse(self):
        """Reset: every cloud-only file comes back into Odoo, then the records go."""
        self.ensure_one()
        atts = self.env["ir.attachment"].sudo().search([("clouds_client_id", "=", self.id)])
        atts._clouds_fetch_binaries()
        self.env["clouds.log.operation"].sudo().create([{
            "client_id": self.id, "task_id": self.env.context.get("clouds_task_id"),
            "kind": "reverse", "direction": "down", "name": att.name,
            "path_before": att.clouds_folder_id.complete_name, "size": att.file_size,
            "attachment_id": att.id} for att in atts])
        atts.with_context(clouds_no_reset=True).write({
            "clouds_client_id": False, "clouds_remote_id": False, "clouds_state": "local",
            "clouds_verified": False, "clouds_version": False, "clouds_hash": False})
        self.env["clouds.folder"].sudo().with_context(active_test=False).search(
            [("client_id", "=", self.id)]).write({"clouds_remote_id": False})
        self.record_ids.unlink()
        self.write({"state": "draft", "cursor": False, "pause_reason": False})
        self.message_post(body=_("Reset: %s files brought back into Odoo.", len(atts)))
        return {"ops": len(atts)}


__all__ = ["DeletionGuard"]
