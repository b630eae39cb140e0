"""The sync queue: a cron prepares tasks, crons run them, several workers at once.

Tasks: the prepare cron queues one ``sync`` task per connection (the longest unsynced
first). It owns the connection's change feed: it polls it, plans the whole connection
and runs what must happen first (moves, deletions, new local items, the folders these
wait for). When the plan has many file transfers in several folders, it hands them to
one ``folder`` task per folder (a new folder nothing else waits for is made by its task,
before its files), queued in the order of the folders' last check (the longest unchecked
first), and waits (``waiting``); every worker takes folder tasks side by side. Once they
are all over, the sync task is taken again and ends the run: it stores the cursor and
clears the change marks only if every folder task did all its work, and tells who asked
for the run ("Sync now"). A run that did not finish leaves no cursor: the next one lists
everything and finds what was done (a crash loses nothing and repeats nothing).

Claiming: ``FOR UPDATE SKIP LOCKED`` on the task row, then session advisory locks
(released in ``finally``, or by PostgreSQL when a worker dies): sync, reverse and move
tasks hold their connection's lock exclusively, folder tasks hold it shared plus their
folder's lock, so one folder is never written by two workers at once and a sync task
never plans while folder tasks of its connection run. A task left ``running`` by a dead
worker is taken again: a sync task plans again, a folder task fails (its run lists
everything again). Order: reverse and move tasks first (no folder task of their
connection starts while one waits), then by priority and age; a sync task waits for its
folder tasks, which wait for nothing (the parents of their folders exist: made before
they are queued).
"""

import logging
import time
import traceback
from datetime import datetime, timedelta

from odoo import Command, _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL, mute_logger
from psycopg2.errors import SerializationFailure

from cloud_sync.providers.errors import QuotaExceeded, ReauthRequired

from .clouds_sync_executor import CRITICAL, ClientSync, DeletionGuard

_logger = logging.getLogger(__name__)

LOCK_CLASS = 74110  # advisory lock namespace of the queue
FOLDER_LOCK_CLASS = 74111  # advisory locks of folders written by folder tasks
PRIORITY = {"reverse": 0, "move": 0, "sync": 10, "folder": 10}
# A sync run keeps up to this many file transfers; beyond, in several folders, they go to
# folder tasks (a folder task costs a few queries and a claim: not worth it for less).
DETACH = 50
OPEN = ("pending", "running", "waiting")
DONE_KEPT = timedelta(days=1)  # done tasks (and their folder tasks' plans) kept this long
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
         ("sync", "Sync"),
         ("folder", "Sync a folder's files")],
        required=True)
    parent_id = fields.Many2one(
        "clouds.queue", string="Sync Run", ondelete="cascade", index=True, readonly=True,
        help="The sync task that planned this folder task and ends once it is over.")
    child_ids = fields.One2many("clouds.queue", "parent_id", string="Folder Tasks")
    folder_id = fields.Many2one("clouds.folder", ondelete="cascade", index=True,
                                readonly=True)
    payload = fields.Json(readonly=True, copy=False)
    priority = fields.Integer(default=10, index=True)
    state = fields.Selection(
        [("pending", "Pending"), ("running", "Running"),
         ("waiting", "Waiting for its folder tasks"), ("done", "Done"),
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

    @api.autovacuum
    def _gc_done_tasks(self):
        """Done tasks older than a day go: a large run leaves one folder task per folder,
        each holding its planned operations; the logs, their operations and the
        statistics keep the history (a failed task stays until it is dealt with). A
        folder task goes only with its run done (the run reads them when it ends)."""
        self.flush_model()
        self.env.execute_query(SQL(
            "DELETE FROM clouds_queue q WHERE q.state = 'done' AND q.done_at < %s "
            "AND (q.parent_id IS NULL OR EXISTS (SELECT 1 FROM clouds_queue p "
            "WHERE p.id = q.parent_id AND p.state = 'done'))",
            fields.Datetime.now() - DONE_KEPT))
        self.invalidate_model()

    @api.model
    def _enqueue(self, clients, task_type):
        """One pending task per connection and type (no duplicates)."""
        existing = self.search([("client_id", "in", clients.ids), ("task_type", "=", task_type),
                                ("state", "in", OPEN)])
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
                task._unlock()
            if commit and task.state == "waiting":
                # woken after the unlock: a worker woken before would find it held
                task._wake_workers()
                self.env.cr.commit()
            done |= task
        return done

    def _locks(self, client_id, folder_id):
        """The advisory locks a task holds: (function, class, id)."""
        if folder_id:
            return [("pg_try_advisory_lock_shared", LOCK_CLASS, client_id),
                    ("pg_try_advisory_lock", FOLDER_LOCK_CLASS, folder_id)]
        return [("pg_try_advisory_lock", LOCK_CLASS, client_id)]

    def _lock(self, client_id, folder_id):
        """Take every lock of the task, or none."""
        held = []
        for function, lock_class, lock_id in self._locks(client_id, folder_id):
            if not self.env.execute_query(SQL("SELECT %s(%s, %s)", SQL(function),
                                              lock_class, lock_id))[0][0]:
                for taken in held:
                    self._unlock_one(*taken)
                return False
            held.append((function, lock_class, lock_id))
        return True

    def _unlock(self):
        for taken in self._locks(self.client_id.id, self.folder_id.id):
            self._unlock_one(*taken)

    def _unlock_one(self, function, lock_class, lock_id):
        unlock = "pg_advisory_unlock_shared" if function.endswith("_shared") else \
            "pg_advisory_unlock"
        self.env.execute_query(SQL("SELECT %s(%s, %s)", SQL(unlock), lock_class, lock_id))

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
            task_id, client_id, folder_id = rows[0]
            if self._lock(client_id, folder_id):
                return self.browse(task_id)
            skipped.append(task_id)  # its connection or folder is busy in another worker

    def _claim_query(self, skipped):
        return self.env.execute_query(SQL(
                """SELECT q.id, q.client_id, q.folder_id FROM clouds_queue q
                   WHERE q.state IN ('pending', 'running', 'waiting') AND NOT q.id = ANY(%s)
                     AND (q.next_try IS NULL OR q.next_try <= (now() AT TIME ZONE 'UTC'))
                     AND (q.state != 'waiting' OR NOT EXISTS (
                          SELECT 1 FROM clouds_queue c WHERE c.parent_id = q.id
                             AND c.state IN ('pending', 'running')))
                     AND (q.task_type != 'folder' OR NOT EXISTS (
                          SELECT 1 FROM clouds_queue r WHERE r.client_id = q.client_id
                             AND r.task_type IN ('reverse', 'move')
                             AND r.state IN ('pending', 'running')))
                   ORDER BY q.priority, q.id LIMIT 1 FOR UPDATE SKIP LOCKED""",
                skipped))

    def _run(self, commit):
        self.ensure_one()
        cr = self.env.cr
        client = self.client_id.sudo()
        log = self.env["clouds.log"].sudo()
        started = time.monotonic()
        if self.task_type == "folder" and self.state == "running":
            # Its worker died: its operations are not repeated blind; the run's end sees
            # a folder task that did not finish, and the next run lists everything.
            self._part_failed(_("its worker stopped before the end"), started)
            if commit:
                cr.commit()
            return
        ending = self.state == "waiting"
        self.write({"state": "running", "tries": self.tries + (not ending)})
        if commit:
            cr.commit()
        try:
            if commit:
                result = self._execute(commit=cr.commit, ending=ending)
            else:
                with cr.savepoint():
                    result = self._execute(commit=None, ending=ending)
        except CRITICAL as exc:
            if commit:
                cr.rollback()
            state = "needs_reconnect" if isinstance(exc, ReauthRequired) else "paused"
            reason = _("quota exceeded: %s", exc) if isinstance(exc, QuotaExceeded) else str(exc)
            client._cloud_pause(reason, state=state, guard=isinstance(exc, DeletionGuard))
            self.write({"state": "failed", "last_error": reason})
            log._record(self, "error", reason, started)
            self._notify_requesters("danger", reason=reason, paused=True)
        except Exception as exc:  # noqa: BLE001 - one failure never stops the others
            if commit:
                cr.rollback()
            if self.task_type == "folder":
                self._part_failed(traceback.format_exc(), started)
            else:
                self._retry_later(traceback.format_exc(), started, exc)
                self._notify_requesters("danger", reason=str(exc) or type(exc).__name__)
        else:
            if result.get("waiting"):
                self.write({"state": "waiting", "last_error": False})
                log._record(self, "info", _("%(ops)s operations, %(parts)s folder tasks "
                                            "queued", ops=result["ops"],
                                            parts=result["waiting"]), started, result)
            elif result.get("failed") and self.task_type == "folder":
                self._part_failed("\n".join(result["errors"]), started, result)
            elif result.get("failed"):
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

    def _part_failed(self, error, started, result=None):
        """A folder task is not retried (its operations were planned for one run): it
        fails, and so does its run, which is retried and plans again."""
        _logger.warning("clouds.queue %s (folder %s) failed: %s", self.id, self.folder_id.id,
                        error.splitlines()[0] if error else "")
        self.write({"state": "failed", "last_error": error,
                    "payload": dict(self.payload or {}, ok=False, error=error[:2000])})
        self.env["clouds.log"].sudo()._record(self, "warning", error, started, result)

    def _wake_workers(self):
        """Folder tasks are waiting: every cron that runs the queue starts now (one
        cron job runs in one worker at a time; each of these crons is a worker)."""
        for cron in self.env["ir.cron"].sudo().search([
                ("model_id.model", "=", "clouds.queue"), ("code", "=", "model._cron_run()"),
                ("active", "=", True)]):
            cron._trigger()

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
        ops = result.get("run_ops", result.get("ops", 0))
        counts = _("%(ops)s operations done, %(failed)s failed.",
                   ops=ops, failed=result.get("failed", 0))
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
                "sticky": kind != "success", "ops": ops,
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

    def _execute(self, commit, ending=False):
        client = self.client_id.sudo().with_context(clouds_task_id=self.id)
        if self.task_type in ("reverse", "move"):
            self._cancel_folder_tasks()
        if self.task_type == "reverse":
            return client._cloud_reverse()
        if self.task_type == "move":
            return client._cloud_move_folders(commit=commit)
        if not client._cloud_ready():
            if self.task_type == "folder":
                return {"ops": 0, "failed": 1, "errors": [client.pause_reason or _(
                    "the connection is not connected")]}
            return {"ops": 0, "skipped": True}
        provider = client._cloud_shared_provider()
        runner = ClientSync(client, provider, commit=commit)
        if self.task_type == "folder":
            writes = runner.run_part(self.payload, self.folder_id.id)
            ok = not runner.stats["failed"]
            self.payload = dict(self.payload, writes=writes, ok=ok,
                                ops=runner.stats["ops"])
            return self._run_result(runner, provider)
        if ending:
            return self._end_run(runner)
        if self.payload and self.payload.get("parts"):
            self.child_ids.parent_id = False  # a former attempt's: not this run's
        runner.run(detach=self.env.context.get("clouds_detach", DETACH))
        result = self._run_result(runner, provider)
        if runner.parts:
            folders = self.env["clouds.folder"].sudo().with_context(active_test=False).browse(
                [int(key[1:]) for key in runner.parts]).sorted(
                lambda f: (f.clouds_last_check or datetime.min, f.id))
            self.create([{
                "client_id": client.id, "task_type": "folder", "priority": PRIORITY["folder"],
                "parent_id": self.id, "folder_id": folder.id,
                "payload": runner.parts[f"f{folder.id}"],
            } for folder in folders])
            self.payload = dict(runner.pending_end, parts=len(folders),
                                ops=runner.stats["ops"])
            result["waiting"] = len(folders)
        return result

    @staticmethod
    def _run_result(runner, provider):
        """What a run (or a folder task) did, for its log, statistics and notification."""
        stats = runner.stats
        return {"ops": stats["ops"], "failed": stats["failed"], "errors": runner.errors,
                "ops_up": stats["ops_up"], "ops_down": stats["ops_down"],
                "bytes_up": stats["bytes_up"], "bytes_down": stats["bytes_down"],
                "files_failed": len(runner.failed_files),
                "requests": getattr(provider, "requests", 0) - runner.requests_before}

    def _end_run(self, runner):
        """The folder tasks of this run are over: end it (see ``ClientSync.end``)."""
        state = self.payload
        parts = self.child_ids
        results = [dict(p.payload or {}, ok=p.state == "done" and (p.payload or {}).get("ok"))
                   for p in parts]
        if len(parts) != state["parts"]:  # a folder went, and its task with it
            results.append({"ok": False, "error": _("a folder task was removed")})
        runner.end(state, results)
        ops = state["ops"] + sum(r.get("ops", 0) for r in results)
        failed = state["failed"] + sum(not r["ok"] for r in results)
        # the operations were logged by the run and its folder tasks: the whole run's
        # count goes to the requesters' notification only
        return {"ops": 0, "run_ops": ops, "failed": failed if runner.errors else 0,
                "errors": runner.errors}

    def _cancel_folder_tasks(self):
        """Reverse and move tasks change what a connection holds: the folder tasks it
        has not started were planned before and are dropped (their run plans again)."""
        self.search([("client_id", "=", self.client_id.id), ("task_type", "=", "folder"),
                     ("state", "=", "pending")]).write({
            "state": "failed", "payload": {"ok": False},
            "last_error": _("dropped: the connection was reset or folders moved away")})


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
                              ("state", "in", OPEN)])
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
        # a linked file missing in the cloud has nothing to bring back: it stays reported
        atts = self.env["ir.attachment"].sudo().search([("clouds_client_id", "=", self.id),
                                                        ("clouds_state", "!=", "missing")])
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
