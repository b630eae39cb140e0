"""Runs one connection's sync: builds the planner's three states from records and the
provider, plans (``cloud_sync.engine.planner``), and executes the operations on Odoo
records and the provider. The conflict policy is the planner's; this file only executes.

Every operation is idempotent or recognised on the next run (``ensure_folder``, the
planner's adoption, ``NameTaken`` checked by content), so a crash anywhere is recovered by
running again. The change-feed cursor is cleared when a run that has something to do
starts (after the poll) and stored when it ends, so a run that did not finish is
followed by a full listing.

Transfers run side by side in the connection's pool (``cloud_sync.pool``, its size the
connection's ``transfer_pool``): only the provider calls go to pool threads; reading the
records before and writing the bookkeeping after happen here, in the worker's thread,
so the ORM never leaves it.

A run may hand its file transfers to folder tasks run by other workers (``run`` with
``detach``, then ``run_part`` per folder and ``end``; the queue's docstring says when).
"""

import contextlib
import dataclasses
import io
import logging
import mimetypes
import time
from typing import NamedTuple

from odoo import _, fields
from odoo.tools import SQL, mute_logger, split_every
from psycopg2.errors import LockNotAvailable, SerializationFailure

from cloud_sync.engine.planner import (
    DIRECT,
    OPERATIONS,
    ROOT,
    CreateLocal,
    CreateRemote,
    DeleteLocal,
    DeleteRemote,
    Forget,
    KeepRemoteCopy,
    LinkRemote,
    LocalNode,
    MoveLocal,
    MoveRemote,
    Plan,
    SyncedNode,
    UpdateLocal,
    UpdateRemote,
    apply_changes,
    plan,
)
from cloud_sync.engine.scope import renamed_ids, scoped_states
from cloud_sync.hashing import HashingReader, hash_file
from cloud_sync.naming import unique_name
from cloud_sync.pool import Skipped, Throttle, TransferPool, run_ordered
from cloud_sync.providers.base import Change, ChangeType, Item, Kind, Resume
from cloud_sync.providers.errors import (
    CloudError,
    CursorExpired,
    NameTaken,
    NotFound,
    QuotaExceeded,
    ReauthRequired,
    Unsupported,
)

from .clouds_change import NO_MARK

_logger = logging.getLogger(__name__)
GUARD_MIN = 5  # the deletion guard ignores runs deleting at most this many items
# Seconds between commits in cron mode. A crash loses at most that much bookkeeping, and
# the next run finds the remote items again (ensure_folder, adoption, NameTaken checks).
COMMIT_EVERY = 1.0
PREFETCH = 200  # attachments read per query during a run (see ClientSync._prefetch_windows)
# A run plans from the items its changes touch (``cloud_sync.engine.scope``) unless that
# scope grows past this many keys: the whole tree is then read in fewer queries.
SCOPE_MAX = 2000
# ... and plans the whole tree at least this often (seconds) in each process: whatever a
# change mark may have missed is then found, as it was before planning from the changes.
FULL_PLAN_EVERY = 24 * 3600
FULL_PLANS = {}  # (database, connection id) -> time.monotonic() of its last full plan
VERIFY_PARAM = "cloud_base.verify_scoped_plans"
RECORD_COLUMNS = ("client_id", "key", "remote_id", "parent_key", "name", "kind",
                  "local_content", "remote_version")


# How many transfers each connection's server coped with at the end of its last run, per
# process: the next run (a folder task of the same run, most often) starts there instead
# of ramping up again from the provider's cautious start.
LEARNED_LIMITS = {}


LOCAL_ROOT = LocalNode(ROOT, None, "root", Kind.FOLDER, protected=True)


class DeletionGuard(CloudError):
    """A backward sync would delete too large a share of a connection's items."""


class NotSynced(CloudError):
    """The item cannot be held by the connection (a file directly in its remote root)."""


CRITICAL = (ReauthRequired, QuotaExceeded, DeletionGuard)
# What the operation log calls each operation (a move within its folder is a rename).
LINE_KINDS = {
    CreateRemote: "create", LinkRemote: "link", UpdateRemote: "update", MoveRemote: "move",
    DeleteRemote: "delete", KeepRemoteCopy: "conflict", CreateLocal: "create",
    UpdateLocal: "update", MoveLocal: "move", DeleteLocal: "delete", Forget: "forget",
}


class Handler(NamedTuple):
    """How the executor runs one kind of operation (``OPERATIONS`` in the planner says
    which side it changes and whether it may run side by side)."""

    method: str
    # The method only reads and returns (transfer, finish): transfer() makes the provider
    # calls in a pool thread, finish(result) writes the bookkeeping here.
    transfer: bool = False
    # Its database writes could fail halfway: run them in a savepoint. Without one, all
    # writes follow the last provider call (a failure leaves nothing to undo) and wait
    # in memory to be written in batches (see ``_flush_pending``).
    savepoint: bool = True


HANDLERS = {
    CreateRemote: Handler("_op_create_remote", transfer=True, savepoint=False),
    LinkRemote: Handler("_op_link_remote", savepoint=False),
    UpdateRemote: Handler("_op_update_remote", transfer=True, savepoint=False),
    MoveRemote: Handler("_op_move_remote"),
    DeleteRemote: Handler("_op_delete_remote"),
    KeepRemoteCopy: Handler("_op_keep_remote_copy", transfer=True),
    CreateLocal: Handler("_op_create_local"),
    UpdateLocal: Handler("_op_update_local", transfer=True),
    MoveLocal: Handler("_op_move_local"),
    DeleteLocal: Handler("_op_delete_local"),
    Forget: Handler("_op_forget"),
}
if HANDLERS.keys() != OPERATIONS.keys():
    raise ImportError("the executor has no handler for: %s" % ", ".join(
        sorted(t.__name__ for t in OPERATIONS.keys() ^ HANDLERS.keys())))


class ClientSync:
    """One run for one connection. ``commit`` (cron mode) commits after every operation."""

    def __init__(self, client, provider, commit=None):
        # Its own local writes set no change mark (see clouds_change): they are recorded.
        self.client = client.sudo().with_context(**{NO_MARK: True})
        self.env = self.client.env
        self.provider = provider
        self._commit = commit or (lambda: None)
        self.Record = self.env["clouds.sync.record"].sudo()
        self.Folder = self.env["clouds.folder"].sudo().with_context(active_test=False)
        self.Attachment = self.env["ir.attachment"].sudo()
        self.records, self.rid, self.by_remote = {}, {}, {}
        self.total_records = 0  # the connection's sync records (deletion guard)
        self.scoped = False  # planned from the changes' scope, not the whole tree
        self.pending = {}  # key -> values of sync records not inserted yet
        self.pending_atts = {}  # attachment id -> sync field values not written yet
        self.window = {}  # attachment id -> the ids read with it (see _prefetch_windows)
        self.keymap = {}
        self.writes = []  # this run's own remote changes, for Provider.advance
        self.synced, self.local = {}, {}  # the states the run planned from
        self.synced_children = None  # parent key -> keys, from self.synced (when needed)
        self.uploads = None  # attachment id -> (checksum, state) of interrupted uploads
        self.stats = {"ops": 0, "failed": 0, "calls": 0, "ops_up": 0, "ops_down": 0,
                      "bytes_up": 0, "bytes_down": 0}
        self.lines = []  # operation lines not inserted yet (see _line)
        self.failed_files = set()
        self.created = {}  # key of an item this run created in Odoo -> (parent, name)
        self.paths = {}
        self.requests_before = getattr(provider, "requests", 0)
        self.errors = []
        self.broken = set()  # keys of the operations that failed
        self.parts, self.pending_end = {}, None  # what run() left to folder tasks
        self.committed = time.monotonic()
        self.keep_versions = None  # the suite keeps versions (Settings), read when needed
        self.cloud_versions = None  # the cloud keeps them (see _odoo_keeps_versions)

    # ---------------------------------------------------------------- states
    def _load_records(self):
        self.records, self.rid, self.by_remote = {}, {}, {}
        self._take(self.Record.search([("client_id", "=", self.client.id)]))
        self.total_records = len(self.records)

    def _take(self, records):
        """Keep these sync records, with remote ids by key and keys by remote id in step
        (no query per lookup); returns them as :class:`SyncedNode`."""
        nodes = {}
        for rec in records:
            self.records[rec.key], self.rid[rec.key] = rec, rec.remote_id
            self.by_remote[rec.remote_id] = rec.key
            nodes[rec.key] = SyncedNode(rec.key, rec.remote_id, rec.parent_key or ROOT,
                                        rec.name, Kind(rec.kind), rec.local_content or None,
                                        rec.remote_version or None)
        return nodes

    def _load(self, domain):
        """A run planned from its changes reads the other records it needs on the way."""
        if self.scoped:
            missing = self.Record.search([("client_id", "=", self.client.id), *domain])
            self._take(missing.filtered(lambda r: r.key not in self.records))

    def _root_node(self):
        return SyncedNode(ROOT, self.client.remote_root_id, None, "root", Kind.FOLDER)

    def synced_state(self):
        synced = {ROOT: self._root_node()}
        synced.update(self._take(self.records.values()))
        return synced

    def _folders(self):
        return self.Folder.search([("client_id", "=", self.client.id), ("active", "=", True)])

    def local_state(self):
        folders = self._folders()
        atts = self.Attachment.search([("clouds_folder_id", "in", folders.ids), *FILES])
        return {ROOT: LOCAL_ROOT, **self._nodes(folders, atts, set(folders.ids))}

    def _nodes(self, folders, atts, connected):
        """The local nodes of these folders and files; ``connected``: the ids of the
        active folders of the connection among their parents (another parent is the
        root's place)."""
        safe, nodes = self.provider.safe_name, {}
        for folder in folders:
            parent = folder.parent_id.id
            nodes[f"f{folder.id}"] = LocalNode(
                f"f{folder.id}", f"f{parent}" if parent in connected else ROOT,
                safe(folder.name), Kind.FOLDER,
                protected=folder.folder_type == "rule" or bool(folder.res_model))
        for att in atts:
            nodes[f"a{att.id}"] = LocalNode(f"a{att.id}", f"f{att.clouds_folder_id.id}",
                                            safe(att.name), Kind.FILE, att.checksum or None)
        return nodes

    def snapshot(self, synced):
        """The remote tree as the records last saw it."""
        tree = {}
        for key, node in synced.items():
            if key == ROOT:
                continue
            parent = synced.get(node.parent or ROOT)
            tree[node.remote_id] = Item(node.remote_id, node.name, node.kind,
                                        parent.remote_id if parent else None,
                                        version=node.remote_version)
        return tree

    def poll(self, cursor):
        """(changes, next cursor) from the change feed, or (None, None) when there is no
        cursor or it expired (the remote state is then a walk)."""
        if cursor:
            try:
                return self.provider.changes(cursor)
            except CursorExpired:
                _logger.info("clouds.client %s: cursor expired, full listing", self.client.id)
        return None, None

    def remote_state(self, changes, new_cursor):
        """(remote tree, next cursor): the changes applied to the snapshot, or a walk."""
        if changes is not None:
            self._rekey(changes)
            return apply_changes(self.snapshot(self.synced_state()), changes), new_cursor
        new_cursor = self.provider.initial_cursor()
        return {item.id: item for item in self.provider.walk()}, new_cursor

    def marks(self):
        """The change marks of this connection's local items (see ``clouds_change``):
        {table: [(id, mark)]}, read through partial indexes (a few rows at most)."""
        client_id = self.client.id
        self.env.flush_all()
        return {
            "clouds_folder": self.env.execute_query(SQL(
                "SELECT id, clouds_change FROM clouds_folder "
                "WHERE clouds_change IS NOT NULL AND client_id = %s", client_id)),
            "ir_attachment": self.env.execute_query(SQL(
                "SELECT a.id, a.clouds_change FROM ir_attachment a "
                "JOIN clouds_folder f ON f.id = a.clouds_folder_id "
                "WHERE a.clouds_change IS NOT NULL AND f.client_id = %s", client_id)),
            "clouds_sync_record": self.env.execute_query(SQL(
                "SELECT id, clouds_change FROM clouds_sync_record "
                "WHERE clouds_change IS NOT NULL AND client_id = %s", client_id)),
        }

    def _clear_marks(self, marks):
        """Clear the marks this run planned with, unless changed since (another value).
        A user holding one of these rows (a concurrent edit) makes the clearing fail:
        everything stays marked, and the next run plans again."""
        if not any(marks.values()):
            return
        try:
            with self.env.cr.savepoint(), mute_logger("odoo.sql_db"):
                self.env.execute_query(SQL("SET LOCAL lock_timeout = '2s'"))
                for table, rows in marks.items():
                    if rows:
                        ids, values = zip(*rows, strict=True)
                        self.env.execute_query(SQL(
                            "UPDATE %s SET clouds_change = NULL WHERE (id, clouds_change) IN "
                            "(SELECT * FROM unnest(%s::int[], %s::int[]))",
                            SQL.identifier(table), list(ids), list(values)))
        except (SerializationFailure, LockNotAvailable):
            _logger.info("clouds.client %s: change marks kept (rows busy)", self.client.id)
        for model in ("clouds.folder", "ir.attachment", "clouds.sync.record"):
            self.env[model].invalidate_model(["clouds_change"])

    def _rekey(self, changes):
        """Records follow ids the provider changed (S3 keys, WebDAV paths on a move)."""
        for change in changes:
            key = self.by_remote.get(change.old_id or "")
            if key and change.old_id != change.item.id and change.item.id not in self.by_remote:
                self._set_remote_id(key, change.item.id)

    def _set_remote_id(self, key, remote_id):
        self.by_remote.pop(self.rid[key], None)
        self.rid[key], self.by_remote[remote_id] = remote_id, key
        self.records[key].remote_id = remote_id
        self._target(key).clouds_remote_id = remote_id

    # ---------------------------------------------------------------- run
    def commit(self):
        """Cron mode: make the bookkeeping so far durable (pending records first)."""
        self._flush_pending()
        self._commit()

    def _flush_pending(self):
        """Write the bookkeeping of the operations since the last flush at once: the new
        sync records in one INSERT (a plain model, no computed fields or overrides), the
        attachments' sync fields with Odoo's batched ``_write_multi`` (what its flush runs;
        no stored field depends on them)."""
        if self.pending:
            keys = list(self.pending)
            rows = [self.pending.pop(k) for k in keys]
            uid, now = self.env.uid, self.env.cr.now()
            self.Record.flush_model()
            ids = [row[0] for batch in split_every(1000, rows) for row in self.env.execute_query(
                SQL("INSERT INTO clouds_sync_record (%s, create_uid, create_date, write_uid, "
                    "write_date) VALUES %s RETURNING id",
                    SQL(", ").join(map(SQL.identifier, RECORD_COLUMNS)),
                    SQL(", ").join(SQL("(%s)", SQL(", ").join(
                        [*(r[c] or None for c in RECORD_COLUMNS), uid, now, uid, now]))
                        for r in batch)))]
            self.records.update(zip(keys, self.Record.browse(ids), strict=True))
        if self.pending_atts:
            atts = self.Attachment.browse(list(self.pending_atts))
            fnames = {f for vals in self.pending_atts.values() for f in vals}
            atts.flush_recordset(fnames)
            atts._write_multi([self.pending_atts[i] for i in atts.ids])
            atts.invalidate_recordset(fnames)
            self.pending_atts.clear()
        if self.lines:
            self.env["clouds.log.operation"].sudo().create(self.lines)
            self.lines = []

    def _drop_pending(self):
        """A failed operation's bookkeeping goes with its savepoint."""
        self.pending.clear()
        self.pending_atts.clear()
        self.lines = []

    def run(self, detach=0):
        """Plan and execute; returns the plan. Raises :class:`DeletionGuard` unexecuted.

        With ``detach``, a plan with more file transfers than that, in several folders,
        executes only its other operations: the transfers are left in ``parts`` for
        folder tasks, and the end of the run (cursor, marks) in ``pending_end``."""
        started = time.perf_counter()
        cursor = self.client.cursor
        marks = self.marks()
        changes, new_cursor = self.poll(cursor)
        if changes == [] and not any(marks.values()):
            # Nothing changed on either side: nothing to load, plan or write but the
            # cursor, and only if the feed moved it (a snapshot cursor is big).
            vals = {"last_sync": fields.Datetime.now()}
            if new_cursor != cursor:
                vals["cursor"] = new_cursor
            self.client.write(vals)
            self.commit()
            _logger.info("clouds.client %s: nothing changed (%.2fs)", self.client.id,
                         time.perf_counter() - started)
            return Plan()
        self.client.cursor = False  # until the run ends: a crash then lists everything
        self.commit()
        polled = time.perf_counter()
        remote, new_cursor = self.states(marks, changes, new_cursor)
        listed = time.perf_counter()
        the_plan = self.plan(remote)
        if self.scoped and self._verifying():
            remote, the_plan = self._verified_plan(the_plan, marks, changes, new_cursor)
        self._guard(the_plan)
        self.remote = remote
        inline, parts = self._split(the_plan.ops, detach)
        self._prefetch_windows(inline)
        planned = time.perf_counter()
        self._execute_all(inline)
        self._flush_pending()
        parts = self._unbroken(parts)
        executed = time.perf_counter()
        direct = any(op.direction == "direct" for op in the_plan.ops)
        if parts:
            # The rest goes to folder tasks; the run ends when they are done (``end``).
            self.parts = parts
            self.pending_end = {"cursor": new_cursor, "marks": marks, "direct": direct,
                                "writes": [_dump_change(c) for c in self.writes],
                                "failed": self.stats["failed"], "errors": self.errors}
            self._checked(inline).write({"clouds_last_check": fields.Datetime.now()})
            self.commit()
        else:
            self._end(new_cursor, marks, direct, checked=self._checked(inline))
        _logger.info(
            "clouds.client %s: %s operations (%s failed, %s handed to %s folder tasks) in "
            "%.2fs: feed %.2fs, states %.2fs, plan %.2fs, operations %.2fs, cursor %.2fs",
            self.client.id, self.stats["ops"], self.stats["failed"],
            sum(len(p["ops"]) for p in parts.values()), len(parts),
            time.perf_counter() - started, polled - started, listed - polled, planned - listed,
            executed - planned, time.perf_counter() - executed)
        return the_plan

    def states(self, marks, changes, new_cursor, scoped=True):
        """Load the local and synced states (``local``, ``synced``): only the part the
        changes touch when they can be scoped (``scoped`` allows it), else the whole
        tree; returns (remote state, next cursor)."""
        scope = self._scope(marks, changes) if scoped else None
        self.scoped = scope is not None
        if scope is not None:
            remote, self.synced, self.local = scope.remote, scope.synced, scope.local
        else:
            FULL_PLANS[self.env.cr.dbname, self.client.id] = time.monotonic()
            self._load_records()
            remote, new_cursor = self.remote_state(changes, new_cursor)
            self.synced = self.synced_state()
            self.local = self.local_state()
        _logger.info("clouds.client %s: planning %s (%s local, %s synced, %s remote items)",
                     self.client.id, "from the changes" if scope else "the whole tree",
                     len(self.local), len(self.synced), len(remote))
        return remote, new_cursor

    def plan(self, remote):
        return plan(self.local, self.synced, remote, name_key=self.provider.name_rules.key,
                    content_matches=self._content_matches)

    def _verifying(self):
        """``cloud_base.verify_scoped_plans`` (a system parameter): every run planned
        from its changes plans the whole tree too, and executes that plan."""
        return bool(self.env["ir.config_parameter"].sudo().get_param(VERIFY_PARAM))

    def _verified_plan(self, scoped, marks, changes, new_cursor):
        """(remote state, plan) of the whole tree; a plan that differs from the scoped
        one is logged as an error (a bug of the scope: please report it)."""
        remote, _cursor = self.states(marks, changes, new_cursor, scoped=False)
        full = self.plan(remote)
        if full.ops != scoped.ops:
            _logger.error("clouds.client %s: the plan from the changes differs from the whole "
                          "tree's, which runs: %s against %s", self.client.id,
                          scoped.ops, full.ops)
        return remote, full

    def _scope(self, marks, changes):
        """The part of the states the changes touch (``cloud_sync.engine.scope``), its
        records loaded; ``None``: plan the whole tree."""
        last_full = FULL_PLANS.get((self.env.cr.dbname, self.client.id))
        if changes is None or last_full is None or time.monotonic() - last_full > FULL_PLAN_EVERY:
            return None
        keys = {f"f{i}" for i, _mark in marks["clouds_folder"]}
        keys.update(f"a{i}" for i, _mark in marks["ir_attachment"])
        tombstones = [i for i, _mark in marks["clouds_sync_record"]]
        if tombstones:
            keys.update(key for (key,) in self.env.execute_query(SQL(
                "SELECT key FROM clouds_sync_record WHERE id = ANY(%s)", tombstones)))
        if self._crossed_connections(_ids(keys)["f"]):
            _logger.info("clouds.client %s: a folder changed connection, whole tree planned",
                         self.client.id)
            return None
        self._follow_renames(changes)
        scope = scoped_states(ScopeSource(self), keys, changes, max_keys=SCOPE_MAX)
        if scope is None:
            return None
        self.total_records = self.Record.search_count([("client_id", "=", self.client.id)])
        return scope

    def _follow_renames(self, changes):
        """The records of ids the feed renamed (and of the new ids: one may be taken)
        loaded, and made to follow the new ids, as ``remote_state`` does for the whole
        tree: one query, only when the feed renamed ids."""
        renamed = renamed_ids(changes)
        if renamed:
            self._take(self.Record.search_fetch(
                [("client_id", "=", self.client.id),
                 ("remote_id", "in", [*renamed, *renamed.values()])], RECORD_COLUMNS))
            self._rekey(changes)

    def _crossed_connections(self, folder_ids):
        """Whether one of these changed folders moved between two connections (or a
        rule sent it elsewhere): it is now in another connection, or another connection
        has a sync record of it. Such a run plans the whole tree (one query or two, only
        when folders changed)."""
        if not folder_ids:
            return False
        ids = list(folder_ids)
        return bool(self.env.execute_query(SQL(
            "SELECT 1 FROM clouds_folder WHERE id = ANY(%s) AND client_id IS NOT NULL "
            "AND client_id != %s LIMIT 1", ids, self.client.id)) or self.env.execute_query(SQL(
            "SELECT 1 FROM clouds_sync_record WHERE key = ANY(%s) AND client_id != %s LIMIT 1",
            [f"f{i}" for i in ids], self.client.id)))

    def _end(self, cursor, marks, direct, checked=None):
        """The end of a run: without failures, the cursor past its own writes and the
        change marks it planned with cleared; then committed."""
        if not self.errors:
            self.client.cursor = self._past_own_changes(direct, cursor)
            self._clear_marks(marks)
        self.client.last_sync = fields.Datetime.now()
        if checked:
            checked.write({"clouds_last_check": self.client.last_sync})
        self.commit()

    def end(self, state, parts):
        """End a run whose file transfers went to folder tasks, once they are all over:
        ``state`` is what ``run`` left (``pending_end``), ``parts`` the folder tasks'
        results (their writes; ``ok`` false when one did not do all its work)."""
        self.writes = [_load_change(c) for c in state["writes"]]
        for part in parts:
            self.writes += [_load_change(c) for c in part.get("writes", ())]
            if not part.get("ok"):
                self.errors.append(part.get("error") or "a folder task did not finish")
        self.errors += state.get("errors", [])
        marks = {table: [tuple(row) for row in rows] for table, rows in state["marks"].items()}
        self._end(state["cursor"], marks, state["direct"])

    # ---------------------------------------------------------------- folder tasks
    def _split(self, ops, detach):
        """(operations run here, {folder key: part}): with ``detach`` (the most
        transfers a run keeps), the file transfers of a plan with more than that, in
        two folders or more, go to one task per folder. Everything else (moves,
        deletions, new local items, folders something here waits for) runs here first,
        so a folder exists before its files; an item with another operation here stays
        here too (its order kept). A folder made by this run that nothing here waits
        for is made by its own task, before its files (less for the run to do alone)."""
        if not detach:
            return ops, {}
        stay = {op.key for op in ops if self._folder_of(op) is None}
        parts, inline = {}, []
        for op in ops:
            folder = self._folder_of(op) if op.key not in stay else None
            if folder is None or folder == ROOT:
                inline.append(op)
            else:
                parts.setdefault(folder, []).append(op)
        if len(parts) < 2 or sum(map(len, parts.values())) <= detach:
            return ops, {}
        needed = {key for op in inline for key in op.after if key != op.key}
        for op in [op for op in inline if isinstance(op, CreateRemote)
                   and op.key in parts and op.key not in needed]:
            inline.remove(op)
            parts[op.key].insert(0, op)
        return inline, parts

    def _folder_of(self, op):
        if type(op) not in DETACHABLE or isinstance(op, CreateRemote) and op.kind == Kind.FOLDER:
            return None
        if isinstance(op, CreateRemote | KeepRemoteCopy):
            return op.parent
        node = self.local.get(op.key)
        return node and node.parent

    def _unbroken(self, parts):
        """The parts as folder tasks will run them (JSON): operations waiting for an item
        whose operation failed here fail now, as ``run_ordered`` would have failed them."""
        out = {}
        for folder, ops in parts.items():
            folder = self.keymap.get(folder, folder)
            kept = []
            for op in ops:
                lost = next((k for k in op.after if k in self.broken), None)
                if lost is not None:
                    self._failed(op, Skipped(f"{lost} failed earlier in this run"))
                else:
                    kept.append(op)
            if kept:
                out[folder] = {
                    "ops": [_dump(op) for op in kept],
                    "nodes": [_dump(self.local[op.key]) for op in kept if op.key in self.local],
                    "items": [_dump_item(self.remote[op.remote_id]) for op in kept
                              if isinstance(op, UpdateLocal) and op.remote_id in self.remote],
                }
        return out

    def run_part(self, part, folder_id):
        """A folder task: the file transfers ``run`` handed over for one folder (see
        ``clouds_queue``). Returns its remote writes (JSON) for the run's end."""
        ops = [_load_op(o) for o in part["ops"]]
        folder_key = f"f{folder_id}"
        keys = {op.key for op in ops} | {folder_key} | {
            op.parent for op in ops if getattr(op, "parent", None) not in (None, ROOT)}
        self.records = {r.key: r for r in self.Record.search([
            ("client_id", "=", self.client.id), "|", ("key", "in", list(keys)),
            ("parent_key", "=", folder_key)])}
        self.rid = {key: rec.remote_id for key, rec in self.records.items()}
        self.by_remote = {rid: key for key, rid in self.rid.items()}
        self.local = {node.key: node for node in map(_load_node, part["nodes"])}
        self.remote = {item.id: item for item in map(_load_item, part["items"])}
        self._prefetch_windows(ops)
        self._execute_all(ops)
        self._flush_pending()
        self.Folder.browse(folder_id).write({"clouds_last_check": fields.Datetime.now()})
        self.commit()
        return [_dump_change(c) for c in self.writes]

    def _checked(self, ops):
        """The folders this run changed something in or below (on either side): only
        they get ``clouds_last_check``; unchanged folders are not written to."""
        keys = set()
        for op in ops:
            key = self.keymap.get(op.key, op.key)
            node = self.local.get(key) or self.synced.get(key)
            keys.update(k for k in (key, node and node.parent, getattr(op, "parent", None))
                        if k and k.startswith("f"))
        keys = {self.keymap.get(k, k) for k in keys}
        return self.Folder.browse([int(k[1:]) for k in keys if k.startswith("f")]).exists()

    def _past_own_changes(self, direct, cursor):
        """The cursor to store after a run that wrote remotely.

        Listing-diff feeds (S3, WebDAV, Nextcloud) compare two snapshots: a file this run
        uploaded and someone deleted before the next run would never show up as deleted
        if the cursor stayed before the upload. They apply the run's writes to their
        snapshot (``Provider.advance``, no listing). Real change feeds keep the cursor of
        the run's start: the next poll reads this run's own writes back once (the
        planner finds them agreed, no operation) together with anyone else's changes, so
        every change is read exactly once.
        """
        if not direct:
            return cursor
        try:
            return self.provider.advance(cursor, self.writes) or cursor
        except CursorExpired:
            return False

    def _content_matches(self, node, item):
        """Crash recovery: a new local file equals a same-named remote file whose hash is
        not a SHA-1 (the local bytes hashed with the provider's algorithm)."""
        att = self._target(node.key)
        return att.file_size == item.size and self._same(item, self._source(att))

    def _guard(self, the_plan):
        deletions = the_plan.remote_deletions
        share = self.client.deletion_guard / 100.0
        if deletions > GUARD_MIN and deletions > share * max(self.total_records, 1):
            raise DeletionGuard(_(
                "this run would delete %(n)s of the %(total)s synced items in Odoo because "
                "they vanished from the cloud; check the remote storage, then reconnect.",
                n=deletions, total=self.total_records))

    def _execute_all(self, ops):
        """The plan's operations, transfers side by side in the connection's pool (plan
        order kept where it matters, see ``run_ordered``); one throttle for every request
        the operations make, whichever thread makes it."""
        size = max(1, self.client.transfer_pool or 1)
        provider = self.provider
        learned = (self.env.cr.dbname, self.client.id)
        start = LEARNED_LIMITS.get(learned, provider.start_concurrency)
        throttle = Throttle(size, start=start, rates=provider.rates)
        pool = TransferPool(size, throttle, name=f"clouds-{self.client.id}")
        saved = provider.throttle, provider.owner_call
        provider.throttle, provider.owner_call = throttle, pool.call_in_owner
        try:
            run_ordered(ops, pool, self._start, self._failed, self._is_failure)
        finally:
            provider.throttle, provider.owner_call = saved
            LEARNED_LIMITS[learned] = throttle.limit
            if throttle.stats:
                _logger.info("clouds.client %s: throttled %s", self.client.id,
                             dict(throttle.stats))

    @staticmethod
    def _is_failure(exc):
        """Only the provider's typed errors fail an operation (retried by the queue);
        anything else is a bug and stops the run, as do the critical errors."""
        return isinstance(exc, CloudError) and not isinstance(exc, CRITICAL)

    def _failed(self, op, exc):
        self.broken.add(op.key)
        self.stats["failed"] += 1
        key = self.keymap.get(op.key, op.key)
        if key.startswith("a"):
            self.failed_files.add(key)
        self._line(op, key, error=str(exc) or type(exc).__name__)
        self.errors.append(f"{type(op).__name__} {op.key}: {exc!r}")
        _logger.warning("clouds.client %s: %s failed: %r", self.client.id, op, exc)

    def _start(self, op):
        """Run ``op`` here, or prepare it and return its (transfer, finish) pair."""
        key = self.keymap.get(op.key, op.key)
        handler = HANDLERS[type(op)]
        method = getattr(self, handler.method)
        if not handler.transfer:
            self._written(op, handler, method, op, key)
            return None
        transfer, finish = method(op, key)
        return transfer, lambda result: self._written(op, handler, finish, result)

    def _written(self, op, handler, write, *args):
        """The database part of an operation and its line, then a commit at most once a
        second."""
        if handler.savepoint:
            self._flush_pending()
            try:
                with self.env.cr.savepoint():
                    write(*args)
                    self._flush_pending()
            except Exception:
                self._drop_pending()
                raise
        else:
            write(*args)
        self.stats["ops"] += 1
        self.stats["ops_up" if op.direction == DIRECT else "ops_down"] += 1
        self._line(op, self.keymap.get(op.key, op.key))
        if time.monotonic() - self.committed > COMMIT_EVERY:
            self.commit()
            self.committed = time.monotonic()

    # ---------------------------------------------------------------- operation lines
    def _path(self, key, before=False):
        """The path of ``key`` under the connection's root, from the states the run
        planned with (no query), the items it created included: as the last sync left
        it (``before``), or as Odoo has it."""
        key = self.keymap.get(key, key)
        if key == ROOT or key is None:
            return ""
        if (key, before) not in self.paths:
            states = (self.synced, self.local) if before else (self.local, self.synced)
            node = states[0].get(key) or states[1].get(key)
            parent, name = (node.parent, node.name) if node else self.created.get(key, (None, "?"))
            above = self._path(parent, before) if parent and parent != key else ""
            self.paths[key, before] = f"{above}/{name}" if above else name
        return self.paths[key, before]

    def _line(self, op, key, error=None):
        """One operation line, inserted with the run's next bookkeeping batch."""
        kind = LINE_KINDS[type(op)]
        before = self._path(key, before=True) if key in self.synced else False
        after = False
        parent = getattr(op, "parent", None)
        if hasattr(op, "name") and parent is not None:
            after = "/".join(p for p in (self._path(parent), op.name) if p)
            old = self.synced.get(key)
            if kind == "move" and old and self.keymap.get(parent, parent) == old.parent:
                kind = "rename"
        elif kind in ("update", "link"):
            after = self._path(key)
        if kind == "create":
            before = False
        size = 0
        remote = self.remote.get(getattr(op, "remote_id", None) or "")
        if not error and key.startswith("a") and kind in ("create", "update", "conflict"):
            if op.direction == DIRECT:
                size = self._target(key).file_size
            elif remote is not None:
                size = remote.size or 0
            self.stats["bytes_up" if op.direction == DIRECT else "bytes_down"] += size
        gone = kind in ("delete", "forget") and op.direction != DIRECT
        # an item deleted in Odoo has no row left to point at
        deleted = kind == "delete" and op.direction == DIRECT and not self._target(key).exists()
        is_folder = key.startswith("f") or getattr(op, "kind", None) == Kind.FOLDER
        self.lines.append({
            "client_id": self.client.id, "task_id": self.env.context.get("clouds_task_id"),
            "kind": kind, "direction": "up" if op.direction == DIRECT else "down",
            "state": "failed" if error else "done", "error": error or False,
            "name": (after or before or getattr(op, "name", "") or "").rsplit("/", 1)[-1]
            or (remote.name if remote else key),
            "is_folder": is_folder, "path_before": before, "path_after": after, "size": size,
            "attachment_id": int(key[1:]) if key.startswith("a") and not (gone or deleted)
            else False,
            "folder_id": int(key[1:]) if key.startswith("f") and not deleted else False,
        })

    # ---------------------------------------------------------------- helpers
    def _remote_of(self, key):
        key = self.keymap.get(key, key)
        if key == ROOT:
            return self.client.remote_root_id
        return self.rid[key]

    def _record(self, key, item, local_content=None, verified=None, moved=False):
        """Store the agreed state of ``key`` (one record per remote id); ``verified``: an
        upload of a file was (True) or was not (False) verified. The local side is the
        node the run planned with (what was written remotely), unless the operation
        ``moved`` it or created it."""
        node = (not moved and self.local.get(key)) or self._local_node(key)
        if item.id not in self.by_remote:
            self._load([("remote_id", "=", item.id)])
        stale = self.by_remote.get(item.id)
        if stale and stale != key:
            self._forget(stale)
        vals = {"remote_id": item.id, "parent_key": node.parent, "name": node.name,
                "kind": node.kind.value, "local_content": local_content or node.content,
                "remote_version": item.version}
        if key in self.records:  # the dict holds live records only (see _forget)
            self.records[key].write(vals)
        else:
            self.pending[key] = dict(vals, client_id=self.client.id, key=key)
        self.by_remote.pop(self.rid.get(key), None)
        self.rid[key], self.by_remote[item.id] = item.id, key
        link = item.web_url or False  # where it opens in the cloud (file manager)
        if key.startswith("f"):
            self._target(key).write({"clouds_remote_id": item.id, "clouds_link": link})
            return
        sync_vals = {"clouds_remote_id": item.id, "clouds_client_id": self.client.id,
                     "clouds_version": item.version, "clouds_hash": item.content_hash,
                     "clouds_link": link}
        if verified is not None:
            sync_vals.update(clouds_state="synced" if verified else "local",
                             clouds_verified=fields.Datetime.now() if verified else None)
        self.pending_atts.setdefault(int(key[1:]), {}).update(sync_vals)

    def _wrote(self, change_type, item, old_id=None):
        self.writes.append(Change(change_type, item, old_id=old_id))

    def _forget(self, key):
        rid = self.rid.pop(key, None)
        if self.by_remote.get(rid) == key:
            del self.by_remote[rid]
        self.pending.pop(key, None)
        rec = self.records.pop(key, None)
        if rec and rec.exists():
            rec.unlink()

    def _target(self, key):
        if key.startswith("f"):
            return self.Folder.browse(int(key[1:]))
        att_id = int(key[1:])
        return self.Attachment.browse(att_id).with_prefetch(self.window.get(att_id, (att_id,)))

    def _prefetch_windows(self, ops):
        """Attachments are read in windows of ``PREFETCH`` in the plan's order: one query
        per window, and a commit (which empties Odoo's cache) costs one window again, not
        every attachment of the run."""
        order = [int(op.key[1:]) for op in ops if op.key.startswith("a")]
        for start in range(0, len(order), PREFETCH):
            block = tuple(order[start:start + PREFETCH])
            self.window.update(dict.fromkeys(block, block))

    @staticmethod
    def _source(att):
        """How a transfer opens the bytes of one attachment, read here (in the worker's
        thread, with the ORM), opened in the pool thread. A file in the filestore is
        opened there and read by the provider in chunks: an upload never holds a file
        whole, whatever its size. An attachment stored in the database has its bytes in
        memory already: ``raw`` of this record alone (on the run's prefetch set it would
        read every file of the batch)."""
        if att.store_fname:
            path = att._full_path(att.store_fname)
            return lambda: open(path, "rb")  # noqa: SIM115 - the caller closes it
        data = att.with_prefetch((att.id,)).raw or b""
        return lambda: io.BytesIO(data)

    def _local_node(self, key):
        """The local state of one item now (after an operation changed it)."""
        safe = self.provider.safe_name
        target = self._target(key)
        if target._name == "clouds.folder":
            parent = target.parent_id
            parent_key = f"f{parent.id}" if parent.client_id == self.client else ROOT
            return LocalNode(key, parent_key, safe(target.name), Kind.FOLDER)
        return LocalNode(key, f"f{target.clouds_folder_id.id}", safe(target.name), Kind.FILE,
                         target.checksum or None)

    def _upload(self, parent_id, name, source, resume=None):
        """Upload and verify (size, and hash where the provider has one)."""
        upload = self.provider.upload
        try:
            return self._send(source, lambda reader, size: upload(
                parent_id, name, reader, size, resume=resume))
        except NameTaken:
            existing = self.provider.find_child(parent_id, name, Kind.FILE)
            if existing and self._same(existing, source):
                return existing, True  # uploaded by a run that crashed before committing
            taken = [c.name for c in self.provider.list_children(parent_id)]
            other = unique_name(name, taken, self.provider.name_rules)
            return self._send(source, lambda reader, size: upload(
                parent_id, other, reader, size, resume=resume))

    def _resume(self, att, checksum):
        """The :class:`Resume` of a chunked upload of ``att`` (``None`` for a file sent
        in one request, or a provider whose sessions do not outlive a run): the state an
        interrupted run saved for this very content, and a save that commits each new
        state at once in its own transaction (in the worker's thread)."""
        provider = self.provider
        if not provider.resumes_uploads or (att.file_size or 0) <= provider.chunk_threshold:
            return None
        if self.uploads is None:  # one query per run, and only when a large file goes
            self.uploads = self.env["clouds.upload.session"]._of_client(self.client)
        saved_checksum, state = self.uploads.get(att.id, (None, None))
        sessions, client_id, att_id = self.env["clouds.upload.session"], self.client.id, att.id

        def save(new_state):
            provider.owner_call(sessions._save, client_id, att_id, checksum, new_state)

        return Resume(state if saved_checksum == checksum else None, save)

    def _uploaded(self, resume, att_id):
        """After an upload: a state an earlier run saved and that the provider did not
        drop (the file was found complete, a crash came between completing and dropping,
        or the state was for other content) goes too."""
        if resume is not None and self.uploads and att_id in self.uploads:
            del self.uploads[att_id]
            self.env["clouds.upload.session"]._save(self.client.id, att_id, None, None)

    def _send(self, source, send):
        """``send(reader, size)`` on the opened source, then (item, verified). The reader
        hashes with the provider's algorithm as the provider reads (one pass, in chunks),
        so verifying costs no second read of the file."""
        with source() as raw:
            size = _size(raw)
            reader = HashingReader(raw, [self.provider.hash_type])
            item = send(reader, size)
            size, digests = reader.digests()
        return item, self._verified(item, size, digests, source)

    def _same(self, item, source):
        """Whether a remote file holds the source's content (size, then hash)."""
        with source() as raw:
            size = _size(raw)
        return self._verified(item, size, {}, source)

    @staticmethod
    def _verified(item, size, digests, source):
        if item.size != size:
            return False
        if item.hash_type and item.content_hash:
            digest = digests.get(item.hash_type)
            if digest is None:  # not the algorithm hashed while sending: read it again
                with source() as raw:
                    digest = hash_file(item.hash_type, raw)[1]
            return digest == item.content_hash
        return True

    # ---------------------------------------------------------------- operations
    # One method per kind of operation (see HANDLERS). Transfer methods only read, and
    # return (transfer, finish): transfer() runs in a pool thread and calls the provider
    # only; finish(result) writes here.
    def _op_create_remote(self, op, key):
        parent_id = self._remote_of(op.parent)
        if op.kind == Kind.FOLDER:
            def made(item):
                self._wrote(ChangeType.CREATED, item)
                self._record(key, item)

            return (lambda: self.provider.ensure_folder(parent_id, op.name)), made
        att = self._target(key)
        source, checksum = self._source(att), att.checksum
        resume = self._resume(att, checksum)

        def uploaded(result):
            item, verified = result
            self._wrote(ChangeType.CREATED, item)
            self._record(key, item, local_content=checksum, verified=verified)
            self._uploaded(resume, att.id)

        return (lambda: self._upload(parent_id, op.name, source, resume)), uploaded

    def _op_link_remote(self, op, key):
        item = self.remote[op.remote_id]
        self._record(key, item, verified=True if key.startswith("a") else None)

    def _op_update_remote(self, op, key):
        att = self._target(key)
        source, checksum, remote_id = self._source(att), att.checksum, self._remote_of(key)
        update, resume = self.provider.update, self._resume(att, checksum)

        def updated(result):
            item, verified = result
            self._wrote(ChangeType.UPDATED, item)
            self._record(key, item, local_content=checksum, verified=verified)
            self._uploaded(resume, att.id)

        return (lambda: self._send(source, lambda reader, size: update(
            remote_id, reader, size, resume=resume))), updated

    def _op_move_remote(self, op, key):
        old_id = self._remote_of(key)
        parent_id = self._remote_of(op.parent)
        current = self.remote.get(old_id)
        if current is not None and current.parent_id == parent_id:
            item = self.provider.rename(old_id, op.name)
        else:
            item = self.provider.move(old_id, parent_id, op.name)
        if item.id != old_id and item.is_folder:  # path ids: the subtree's ids changed too
            self._load([("remote_id", "=like", _like_prefix(old_id))])
            for other, rid in list(self.rid.items()):
                if rid.startswith(old_id) and rid != old_id:
                    self._set_remote_id(other, item.id + rid[len(old_id):])
        self._wrote(ChangeType.MOVED, item, old_id=old_id)
        self._record(key, item)

    def _op_delete_remote(self, op, key):
        """The item left the connection (deleted, moved elsewhere, or its folder did):
        before its remote copy goes, every file leaving with it that is still in Odoo and
        linked to this connection gets its bytes back and is unlinked, so that the cleaner
        never drops bytes whose only copy is gone."""
        leaving = self.Attachment.browse(
            [int(k[1:]) for k in self._leaving_with(key) if k.startswith("a")]
        ).exists().filtered(lambda a: a.clouds_client_id == self.client)
        leaving._clouds_fetch_binaries()
        remote_id = self._remote_of(key)
        with contextlib.suppress(NotFound):
            self.provider.delete(remote_id)
        kind = Kind.FOLDER if key.startswith("f") else Kind.FILE
        self._wrote(ChangeType.DELETED, Item(remote_id, "", kind))
        self._forget(key)
        leaving.write({"clouds_remote_id": False, "clouds_client_id": False,
                       "clouds_state": "local", "clouds_verified": False})

    def _leaving_with(self, key):
        """``key`` and, for a folder, what the last sync saw below it that is no longer
        part of the connection (what the planner forgets when the folder goes)."""
        if key.startswith("a"):
            return [key]
        if self.synced_children is None:
            self.synced_children = {}
            for child, node in self.synced.items():
                self.synced_children.setdefault(node.parent, []).append(child)
        found, todo = [], [key]
        while todo:
            found.append(todo.pop())
            todo.extend(k for k in self.synced_children.get(found[-1], ())
                        if k not in self.local)
        return found

    def _download(self, remote_id):
        """The transfer that streams a remote file into a ``Spooled`` file of the
        filestore in a pool thread (never whole in memory); ``_clouds_store_spooled``
        then makes it an attachment's content here."""
        spooled, download = self.Attachment._clouds_spool(), self.provider.download
        return lambda: spooled.fill(download(remote_id))

    def _op_keep_remote_copy(self, op, key):
        folder_id = self._target(key).clouds_folder_id.id
        def kept(spooled):
            # a new local file, synced by a later run: it carries a change mark
            att = self.Attachment.with_context(**{NO_MARK: False}).create({
                "name": op.name, "raw": b"", "clouds_folder_id": folder_id,
                "mimetype": mimetypes.guess_type(op.name)[0] or "application/octet-stream"})
            att._clouds_store_spooled(spooled)

        return self._download(self._remote_item(key, op.remote_id).id), kept

    def _op_create_local(self, op, key):
        parent_key = self.keymap.get(op.parent, op.parent)
        item = self.remote[op.remote_id]
        known = self.by_remote.get(item.id)
        if known:  # an upload of this run found it already there (NameTaken, same content)
            self.keymap[op.key] = known
            return
        if op.kind == Kind.FOLDER:
            folder = self.Folder.create({
                "name": op.name,
                "parent_id": int(parent_key[1:]) if parent_key != ROOT else False,
                "own_client_id": self.client.id if parent_key == ROOT else False,
            })
            new = f"f{folder.id}"
        else:
            if parent_key == ROOT:
                raise NotSynced("files at the top of the connection's root are not synced")
            att = self.Attachment.create({
                "name": op.name, "type": "binary", "clouds_folder_id": int(parent_key[1:]),
                "mimetype": item.mime_type or mimetypes.guess_type(op.name)[0]
                or "application/octet-stream",
                "clouds_state": "link", "clouds_client_id": self.client.id,
                "clouds_remote_id": item.id,
            })
            att._clouds_set_size(item.size)
            new = f"a{att.id}"
        self.keymap[op.key] = new
        self.created[new] = (parent_key, op.name)
        self._record(new, item)

    def _remote_item(self, key, remote_id):
        """The planned remote item of ``key`` under the id it has now: a folder above it
        renamed by this run on a provider with path ids (S3, WebDAV) changed it."""
        item = self.remote[remote_id]
        current = self.rid.get(key, remote_id)
        return item if current == remote_id else item.evolve(id=current)

    def _op_update_local(self, op, key):
        item = self._remote_item(key, op.remote_id)
        att = self._target(key)
        if self.keep_versions is None:  # read here, in the worker's thread
            self.keep_versions = bool(self.env["clouds.file.version"]._clouds_keep_limit())
        if att._clouds_link_only():  # Odoo no longer knows the content: no checksum
            def relinked(_none):
                att._clouds_set_size(item.size)
                self._record(key, item, local_content=att.checksum)

            return (lambda: None), relinked

        download, odoo_keeps = self._download(item.id), self._odoo_keeps_versions

        def downloaded(result):
            keep, spooled = result
            if keep:  # the content replaced would be lost: Odoo keeps it as a version
                self.env["clouds.file.version"]._clouds_keep(att)
            att.with_context(clouds_no_reset=True)._clouds_store_spooled(spooled)
            self._record(key, item, local_content=att.checksum)

        return (lambda: (odoo_keeps(item.id), download())), downloaded

    def _odoo_keeps_versions(self, remote_id):
        """Whether Odoo keeps the content a backward update replaces (in a pool thread):
        when Settings keep versions and the cloud keeps none. The provider is asked once
        per run: one with versions may still say ``Unsupported`` (an S3 bucket without
        versioning); an error leaves the question open, and Odoo keeps this one."""
        if not self.keep_versions:
            return False
        if self.cloud_versions is None:
            if not self.provider.has_versions:
                self.cloud_versions = False
            else:
                try:
                    self.provider.versions(remote_id)
                    self.cloud_versions = True
                except Unsupported:
                    self.cloud_versions = False
                except CloudError:
                    return True
        return not self.cloud_versions

    def _op_move_local(self, op, key):
        parent_key = self.keymap.get(op.parent, op.parent)
        target = self._target(key)
        if target._name == "clouds.folder":
            if target.folder_type == "rule" or target.res_model:
                # rule folders follow their rule: the remote goes back (direct wins)
                node = self._local_node(key)
                self._op_move_remote(MoveRemote(key, node.parent, node.name), key)
                return
            target.write({"name": op.name,
                          "parent_id": int(parent_key[1:]) if parent_key != ROOT else False})
        else:
            if parent_key == ROOT:
                raise NotSynced("files at the top of the connection's root are not synced")
            target.write({"name": op.name, "clouds_folder_id": int(parent_key[1:])})
        self._record(key, self.remote[self._remote_of(key)], moved=True)

    def _op_delete_local(self, op, key):
        target = self._target(key)
        if target._name == "clouds.folder":
            tree = target._subtree()
            keys = {f"f{f.id}" for f in tree}
            atts = self.Attachment.search([("clouds_folder_id", "in", tree.ids)])
            self._load([("key", "in", [f"a{a.id}" for a in atts] + list(keys))])
            synced = atts.filtered(lambda a: f"a{a.id}" in self.records)
            keys |= {f"a{a.id}" for a in synced}
            synced.unlink()
            tree.action_archive()
            for k in keys:
                self._forget(k)
        else:
            target.unlink()
            self._forget(key)

    def _op_forget(self, op, key):
        self._forget(key)


# Operations a run may hand to a folder task: file transfers, independent of each other.
DETACHABLE = frozenset({CreateRemote, UpdateRemote, UpdateLocal, KeepRemoteCopy})
OP_TYPES = {t.__name__: t for t in OPERATIONS}
ITEM_FIELDS = ("id", "name", "kind", "parent_id", "size", "version", "hash_type",
               "content_hash", "web_url", "mime_type")


def _dump(value):
    """An operation or node as JSON: its class name and fields (kinds by value)."""
    out = {"type": type(value).__name__}
    for f in dataclasses.fields(value):
        v = getattr(value, f.name)
        out[f.name] = v.value if isinstance(v, Kind) else v
    return out


def _load_op(data):
    data = dict(data)
    cls = OP_TYPES[data.pop("type")]
    if "kind" in data:
        data["kind"] = Kind(data["kind"])
    return cls(**data)


def _load_node(data):
    data = {k: v for k, v in data.items() if k != "type"}
    return LocalNode(**dict(data, kind=Kind(data["kind"])))


def _dump_item(item):
    return {f: (getattr(item, f).value if f == "kind" else getattr(item, f))
            for f in ITEM_FIELDS}


def _load_item(data):
    return Item(**dict(data, kind=Kind(data["kind"])))


def _dump_change(change):
    return {"type": change.type.value, "item": _dump_item(change.item),
            "old_id": change.old_id}


def _load_change(data):
    return Change(ChangeType(data["type"]), _load_item(data["item"]), old_id=data["old_id"])


def _like_prefix(text):
    """A ``=like`` pattern for the strings that start with ``text``."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


class ScopeSource:
    """The items of a run's scope (``cloud_sync.engine.scope.Source``) from Odoo: the
    connection's sync records (kept by the run) and its active folders and their files,
    as ``ClientSync.local_state`` sees them."""

    def __init__(self, run):
        self.run = run
        self.client_id = run.client.id

    def _records(self, domain):
        return self.run._take(self.run.Record.search_fetch(
            [("client_id", "=", self.client_id), *domain], RECORD_COLUMNS))

    def synced(self, keys):
        out = {ROOT: self.run._root_node()} if ROOT in keys else {}
        if keys - {ROOT}:
            out.update(self._records([("key", "in", list(keys - {ROOT}))]))
        return out

    def synced_by_remote(self, remote_ids):
        return self._records([("remote_id", "in", list(remote_ids))])

    def synced_children(self, keys):
        return self._records([("parent_key", "in", list(keys))])

    def _connected(self, folder_ids, fetch=()):
        """The active folders of the connection among these ids."""
        return self.run.Folder.search_fetch(
            [("id", "in", list(folder_ids)), ("active", "=", True),
             ("client_id", "=", self.client_id)], fetch) if folder_ids else self.run.Folder

    def _nodes(self, folders, atts):
        parents = self._connected(set(folders.parent_id.ids) | set(atts.clouds_folder_id.ids))
        atts = atts.filtered(lambda a: a.clouds_folder_id in parents)
        return self.run._nodes(folders, atts, set(parents.ids))

    def local(self, keys):
        out = {ROOT: LOCAL_ROOT} if ROOT in keys else {}
        ids = _ids(keys)
        folders = self._connected(ids["f"], FOLDER_FIELDS)
        atts = self.run.Attachment.search_fetch(
            [("id", "in", list(ids["a"])), *FILES], FILE_FIELDS) if ids["a"] \
            else self.run.Attachment
        out.update(self._nodes(folders, atts))
        return out

    def local_children(self, keys):
        parents = self._connected(_ids(keys)["f"])
        if not parents:
            return {}
        folders = self.run.Folder.search_fetch(
            [("parent_id", "in", parents.ids), ("active", "=", True),
             ("client_id", "=", self.client_id)], FOLDER_FIELDS)
        atts = self.run.Attachment.search_fetch(
            [("clouds_folder_id", "in", parents.ids), *FILES], FILE_FIELDS)
        return self.run._nodes(folders, atts, set(parents.ids))


FOLDER_FIELDS = ("name", "parent_id", "folder_type", "res_model")  # what a local node reads
FILE_FIELDS = ("name", "clouds_folder_id", "checksum")
# The files a connection syncs, in its folders (``local_state`` and ``ScopeSource``: one
# place). ``res_field`` is said because Odoo adds it only to searches that name no id.
# The files a connection syncs; files linked from the cloud ("Add from cloud") never are.
FILES = (("type", "=", "binary"), ("clouds_folder_id", "!=", False), ("res_field", "=", False),
         ("clouds_state", "not in", ("linked", "missing")))


def _ids(keys):
    """{"f": folder ids, "a": attachment ids} of local keys."""
    out = {"f": set(), "a": set()}
    for key in keys:
        if key[:1] in out and key[1:].isdigit():
            out[key[0]].add(int(key[1:]))
    return out


def _size(raw):
    """Bytes from the start of a freshly opened file to its end (left at the start)."""
    size = raw.seek(0, io.SEEK_END)
    raw.seek(0)
    return size
