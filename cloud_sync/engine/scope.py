"""Planning from the changes: the part of the three states that a few changes touch.

A cycle with a few changes must not load and plan the whole tree. :func:`scoped_states`
asks a :class:`Source` for the items the changes touch and for what the planner needs
around them, and returns three partial states from which :func:`planner.plan` plans
exactly the operations it plans from the full states (``tests/test_scope.py`` checks it
on random trees and changes).

The planner decides deletions from absence, so every item in the scope is loaded on all
three sides (its local node, its sync record by key and by remote id, its remote item),
and the scope is closed under:

- ancestors (local parent, synced parent, the new remote parent of a changed item), up
  to the root: paths, parents and "is it beneath the root" need them;
- the whole subtree, on all three sides, of every *touched* folder: an item a change
  names (a change mark, a change of the feed), anything below a touched folder, and any
  item of the scope that is not *clean* (its local node, sync record and parent record
  do not agree, or its remote item changed): the planner looks below a folder only to
  decide about a folder that changed, vanished or was deleted on one side, and such a
  folder is touched;
- the remote ids and keys of the sync records in the scope (both ways).

An untouched item in the scope is clean on all three sides, and so is every ancestor of
it: the planner plans nothing for it and reads nothing below it.

The remote state is the last snapshot of the records in the scope with the feed's
changes applied (:func:`planner.apply_changes`), as the full plan does. A change that
renames ids (``old_id``: S3 keys, WebDAV paths after a remote rename or move, reported
for every item of a moved subtree) needs its sync record to follow the new id first, as
for the full plan: the caller does that before asking (:func:`renamed_ids`), and both
ids are seeds (a record keeps the old id when another still holds the new one). There
is no scope, and the caller plans the whole tree, when the remote side is a walk (no
feed), when a change concerns the root itself, or when the scope grows past
``max_keys``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from ..providers.base import Change, Item, Kind
from .planner import ROOT, LocalNode, SyncedNode, _local_changed, apply_changes


class Source(Protocol):
    """Where the scope's items come from (the executor's records, or dictionaries).

    Every method gets a batch and answers what exists: ``local(keys)`` the local nodes
    of these keys (``ROOT`` included); ``synced(keys)`` the sync records of these keys
    (the root's synthetic one for ``ROOT``); ``synced_by_remote(ids)`` the records of
    these remote ids; ``local_children(keys)`` / ``synced_children(keys)`` the local
    nodes / records whose parent is one of these folder keys (never asked for ``ROOT``).
    """

    def local(self, keys: set[str]) -> dict[str, LocalNode]: ...
    def synced(self, keys: set[str]) -> dict[str, SyncedNode]: ...
    def synced_by_remote(self, remote_ids: set[str]) -> dict[str, SyncedNode]: ...
    def local_children(self, keys: set[str]) -> dict[str, LocalNode]: ...
    def synced_children(self, keys: set[str]) -> dict[str, SyncedNode]: ...


@dataclass
class Scope:
    """Three partial states for :func:`planner.plan`, and what was touched."""

    local: dict[str, LocalNode]
    synced: dict[str, SyncedNode]
    remote: dict[str, Item]
    touched: set[str]


def unscopable(changes: Iterable[Change] | None, root_id: str | None) -> str | None:
    """Why these remote changes need the full plan (``None``: they can be scoped)."""
    if changes is None:
        return "no change feed (a walk)"
    for change in changes:
        if root_id in (change.item.id, change.old_id):
            return "a change concerns the root"
    return None


def renamed_ids(changes: Iterable[Change]) -> dict[str, str]:
    """{old id: new id} of the changes that rename ids (path-id providers)."""
    return {c.old_id: c.item.id for c in changes if c.old_id and c.old_id != c.item.id}


def scoped_states(source: Source, keys: Iterable[str], changes: list[Change] | None,
                  max_keys: int | None = None) -> Scope | None:
    """The part of the states that the local ``keys`` (change marks: new, changed,
    moved and deleted items, tombstones included) and the remote ``changes`` (the feed
    since the last run) touch, or ``None`` when the whole tree must be planned. The
    ``source``'s sync records already follow the ids the changes renamed."""
    root = source.synced({ROOT}).get(ROOT)
    if root is None or unscopable(changes, root.remote_id):
        return None
    local: dict[str, LocalNode] = {}
    synced: dict[str, SyncedNode] = {ROOT: root}
    by_remote: dict[str, SyncedNode] = {root.remote_id: root}
    touched = set(keys) - {ROOT}
    touched_rids = {c.item.id for c in changes} | set(renamed_ids(changes))
    want_keys = touched | {ROOT}
    want_rids = touched_rids | {c.item.parent_id for c in changes if c.item.parent_id}
    # what was asked of each side (an item found one way is not asked for again)
    local_asked: set[str] = set()
    synced_asked: set[str] = {ROOT}
    rids_asked: set[str] = set()
    expanded: set[str] = set()

    def take_synced(nodes: dict[str, SyncedNode]) -> None:
        synced.update(nodes)
        synced_asked.update(nodes)
        for node in nodes.values():
            by_remote[node.remote_id] = node

    def wanted() -> tuple[set[str], set[str], set[str]]:
        return (want_keys - local_asked, want_keys - synced_asked,
                want_rids - rids_asked - by_remote.keys())

    while True:
        need_local, need_synced, need_rids = wanted()
        if need_local:
            local_asked |= need_local
            local.update(source.local(need_local))
        if need_synced:
            synced_asked.update(need_synced)
            take_synced(source.synced(need_synced))
        if need_rids:
            rids_asked |= need_rids
            take_synced(source.synced_by_remote(need_rids))
        if max_keys is not None and len(local_asked) > max_keys:
            return None
        # closure: ancestors, keys and remote ids of the records, touched both ways
        for node in synced.values():
            want_keys.add(node.key)
            if node.parent:
                want_keys.add(node.parent)
        want_keys.update(n.parent for n in local.values() if n.parent)
        touched.update(by_remote[rid].key for rid in touched_rids if rid in by_remote)
        touched_rids.update(synced[k].remote_id for k in touched if k in synced)
        known = local_asked & synced_asked  # loaded on both sides
        touched.update(k for k in known - touched - {ROOT}
                       if _clean(local.get(k), synced.get(k), synced, synced_asked) is False)
        want_keys |= touched
        want_rids |= touched_rids
        # whole subtrees of the touched folders
        folders = {k for k in touched & (known - expanded)
                   if (node := local.get(k) or synced.get(k)) and node.kind == Kind.FOLDER}
        expanded |= folders
        if folders:
            children = source.local_children(folders)
            local.update(children)
            local_asked.update(children)
            records = source.synced_children(folders)
            take_synced(records)
            touched.update(children, records)
            want_keys.update(children, records)
        elif not any(wanted()):
            break

    snapshot = {}
    for key, node in synced.items():
        if key != ROOT:
            parent = synced.get(node.parent or ROOT)
            snapshot[node.remote_id] = Item(node.remote_id, node.name, node.kind,
                                            parent.remote_id if parent else None,
                                            version=node.remote_version)
    return Scope(local, synced, apply_changes(snapshot, changes), touched)


def _clean(node: LocalNode | None, last: SyncedNode | None, synced: dict[str, SyncedNode],
           asked: set[str]) -> bool | None:
    """Whether an item agrees with its sync record locally, under a synced parent
    (``None``: not known until its parent is loaded)."""
    if not (node and last and node.kind == last.kind
            and (node.parent, node.name) == (last.parent, last.name)
            and not _local_changed(node, last)):
        return False
    if last.parent == ROOT or last.parent in synced:
        return True
    return None if last.parent not in asked else False


class MemorySource:
    """A :class:`Source` over full states in memory (tests, and the reference)."""

    def __init__(self, local: dict[str, LocalNode], synced: dict[str, SyncedNode]):
        self._local, self._synced = local, synced
        self._by_remote = {s.remote_id: s for s in synced.values()}
        self.asked = 0  # batches asked, as a source of queries would count them

    def _ask(self) -> None:
        self.asked += 1

    def local(self, keys):
        self._ask()
        return {k: self._local[k] for k in keys if k in self._local}

    def synced(self, keys):
        self._ask()
        return {k: self._synced[k] for k in keys if k in self._synced}

    def synced_by_remote(self, remote_ids):
        self._ask()
        return {s.key: s for rid in remote_ids if (s := self._by_remote.get(rid))}

    def local_children(self, keys):
        self._ask()
        return {k: n for k, n in self._local.items() if n.parent in keys}

    def synced_children(self, keys):
        self._ask()
        return {k: s for k, s in self._synced.items() if s.parent in keys and k != ROOT}
