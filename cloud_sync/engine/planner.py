"""The sync planner: pure functions from three states to a list of operations.

Inputs, all plain values (the Odoo side builds them from its records, the tests from
dictionaries):

- ``local``: the Odoo tree now, ``{key: LocalNode}``;
- ``synced``: what both sides agreed on at the last sync, ``{key: SyncedNode}``;
- ``remote``: the provider's tree now, ``{remote_id: Item}`` (a full listing, or the last
  snapshot with the change feed applied, see :func:`apply_changes`).

Identity is by key and remote id, never by name: a rename or a move is a changed name
or parent of the same id. "Changed" is decided by version markers (remote) and
content hashes (local), never by clocks.

The conflict policy lives here and only here (:func:`plan`):

- both sides renamed or moved the same item: direct (Odoo) wins;
- both sides changed a file's content: direct wins, and the remote version is first
  kept as a conflict copy in Odoo (:class:`KeepRemoteCopy`), so nothing is dropped;
- one side deleted what the other changed: the change wins (the deleted side gets the
  item back); an unchanged item deleted on one side is deleted on the other;
- a protected local folder (rule or object folder) deleted remotely is recreated.

Operations come out in an order that can be executed as listed: reverse of nothing,
parents before children for creations, children before parents for deletions.
:data:`OPERATIONS` lists every kind of operation, the side it changes and whether it may
run side by side with others; :attr:`Op.after` names the keys it must wait for.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import ClassVar, NamedTuple

from ..providers.base import Change, ChangeType, Item, Kind

ROOT = "root"  # the key of the connection's root folder on the local side


@dataclass(frozen=True)
class LocalNode:
    """One folder or file in Odoo as it is now."""

    key: str
    parent: str | None  # key of the parent folder; None only for ROOT
    name: str
    kind: Kind
    content: str | None = None  # local content hash (files); None: unknown / link only
    protected: bool = False  # rule/object folders: recreated when deleted remotely


@dataclass(frozen=True)
class SyncedNode:
    """The state both sides agreed on at the last successful sync of one item."""

    key: str
    remote_id: str
    parent: str | None
    name: str
    kind: Kind
    local_content: str | None = None
    remote_version: str | None = None


# -- operations ---------------------------------------------------------------------------
DIRECT = "direct"  # changes the cloud
BACKWARD = "backward"  # changes Odoo (or only the sync records)


@dataclass(frozen=True)
class Op:
    key: str

    # Fields naming the key of another operation's item this one needs done first.
    _after_fields: ClassVar[tuple[str, ...]] = ()

    @property
    def direction(self) -> str:
        return OPERATIONS[type(self)].direction

    @property
    def concurrent(self) -> bool:
        return OPERATIONS[type(self)].concurrent

    @property
    def after(self) -> tuple[str, ...]:
        """Keys whose earlier operations must be done before this one starts: its own
        (two operations on one item keep their order) and its parent folder's (a folder
        is created before what goes into it)."""
        return (self.key, *(getattr(self, f) for f in self._after_fields))


@dataclass(frozen=True)
class CreateRemote(Op):
    """Create ``key`` under the remote folder of ``parent`` (get-or-create for folders)."""

    _after_fields: ClassVar[tuple[str, ...]] = ("parent",)
    parent: str
    name: str
    kind: Kind


@dataclass(frozen=True)
class LinkRemote(Op):
    """Adopt the unknown remote item ``remote_id`` for the new local ``key``: a same-named
    folder, or a file with the same content hash, under the same parent. This is what
    makes a run after a crash (remote made, local commit lost) create no duplicate."""

    remote_id: str


@dataclass(frozen=True)
class UpdateRemote(Op):
    """Upload the local content of ``key`` over its remote file."""


@dataclass(frozen=True)
class MoveRemote(Op):
    """Rename and/or move the remote item of ``key``."""

    _after_fields: ClassVar[tuple[str, ...]] = ("parent",)
    parent: str
    name: str


@dataclass(frozen=True)
class DeleteRemote(Op):
    """Delete (trash) the remote item of ``key``."""


@dataclass(frozen=True)
class KeepRemoteCopy(Op):
    """Bring the current remote version of ``key`` into Odoo as a conflict copy."""

    _after_fields: ClassVar[tuple[str, ...]] = ("parent",)
    remote_id: str
    parent: str
    name: str


@dataclass(frozen=True)
class CreateLocal(Op):
    """Create a local item for the remote item ``remote_id`` (a link for files).

    ``key`` is a placeholder ``new:<remote_id>`` that later operations may use as a
    parent; the executor maps it to the record it creates.
    """

    _after_fields: ClassVar[tuple[str, ...]] = ("parent",)
    remote_id: str
    parent: str
    name: str
    kind: Kind


@dataclass(frozen=True)
class UpdateLocal(Op):
    """The remote content of ``key`` changed: point the local item at the new version."""

    remote_id: str


@dataclass(frozen=True)
class MoveLocal(Op):
    _after_fields: ClassVar[tuple[str, ...]] = ("parent",)
    parent: str
    name: str


@dataclass(frozen=True)
class DeleteLocal(Op):
    """Delete (archive) the local item of ``key``: it was deleted remotely."""


@dataclass(frozen=True)
class Forget(Op):
    """Both sides deleted ``key``: drop its sync record."""


class OpKind(NamedTuple):
    direction: str
    concurrent: bool  # may run beside other concurrent operations (after its ``after``)


# Every kind of operation in one place. Concurrent operations run side by side once the
# operations on their ``after`` keys are done; the others run alone, in plan order, after
# everything before them (moves can change the ids of a whole subtree and depend on each
# other's order; deletions take files out of Odoo first; new local items are matched
# against this run's uploads).
OPERATIONS: dict[type[Op], OpKind] = {
    CreateRemote: OpKind(DIRECT, concurrent=True),
    LinkRemote: OpKind(DIRECT, concurrent=True),
    UpdateRemote: OpKind(DIRECT, concurrent=True),
    MoveRemote: OpKind(DIRECT, concurrent=False),
    DeleteRemote: OpKind(DIRECT, concurrent=False),
    KeepRemoteCopy: OpKind(BACKWARD, concurrent=True),
    CreateLocal: OpKind(BACKWARD, concurrent=False),
    UpdateLocal: OpKind(BACKWARD, concurrent=True),
    MoveLocal: OpKind(BACKWARD, concurrent=False),
    DeleteLocal: OpKind(BACKWARD, concurrent=False),
    Forget: OpKind(BACKWARD, concurrent=False),
}


@dataclass
class Plan:
    ops: list[Op] = field(default_factory=list)

    def of(self, *types) -> list[Op]:
        return [op for op in self.ops if isinstance(op, types)]

    @property
    def remote_deletions(self) -> int:
        """Local items the plan deletes because they vanished remotely (deletion guard)."""
        return len(self.of(DeleteLocal))


def new_key(remote_id: str) -> str:
    return f"new:{remote_id}"


def conflict_name(name: str, label: str = "conflict copy") -> str:
    stem, ext = os.path.splitext(name)
    return f"{stem} ({label}){ext}"


# -- planning -----------------------------------------------------------------------------
def plan(local: dict[str, LocalNode], synced: dict[str, SyncedNode],
         remote: dict[str, Item], local_hash_type: str = "sha1",
         name_key: Callable[[str], str] = str,
         content_matches: Callable[[LocalNode, Item], bool] | None = None) -> Plan:
    """The operations that make both sides equal again (see the module docstring).

    ``local_hash_type`` names the algorithm of :attr:`LocalNode.content` (Odoo's
    attachment checksum is SHA-1); a remote file with a hash of that type and the same
    value is recognised as the same content. ``name_key`` gives the provider's comparison
    key of a name (``NameRules.key``: case-folded where names are case-insensitive).
    ``content_matches(node, item)`` says whether a new local file has the content of a
    same-named unknown remote file whose hash is of another type (S3's MD5): the caller
    hashes the local bytes with the provider's algorithm, only for these candidates.
    """
    return _Planner(local, synced, remote, local_hash_type, name_key, content_matches).run()


class _Planner:
    def __init__(self, local, synced, remote, local_hash_type, name_key, content_matches=None):
        self.local, self.synced, self.remote = local, synced, remote
        self.local_hash_type = local_hash_type
        self.name_key = name_key
        self.content_matches = content_matches
        self.by_remote = {s.remote_id: s for s in synced.values()}
        self.local_children: dict[str | None, list[str]] = {}
        for node in local.values():
            self.local_children.setdefault(node.parent, []).append(node.key)
        self.remote_children: dict[str | None, list[str]] = {}
        for item in remote.values():
            self.remote_children.setdefault(item.parent_id, []).append(item.id)
        root = synced.get(ROOT)
        self.root_id = root.remote_id if root else None
        self.in_tree = self._remote_in_tree()
        self._local_dirty: dict[str, bool] = {}
        self._remote_dirty: dict[str, bool] = {}
        self.parent_of: dict[str, str | None] = {k: n.parent for k, n in local.items()}
        self.adopted = self._adoptions()

    def _adoptions(self) -> dict[str, str]:
        """New local items that match unknown remote items under the same parent, top down.

        Adopted pairs count as synced from here on (with no agreed version, so a content
        difference is still synced), so their children pair up too.
        """
        adopted: dict[str, str] = {}
        # In key order, whatever the order of the states (a partial state, see ``scope``,
        # adopts exactly what the full one does).
        stack = sorted(self.local_children.get(ROOT, []), reverse=True)
        while stack:
            key = stack.pop()
            node = self.local[key]
            stack.extend(sorted(self.local_children.get(key, []), reverse=True))
            if key in self.synced:
                continue
            parent = self.synced.get(node.parent) or (
                self.by_remote.get(adopted.get(node.parent, "")))
            if parent is None:
                continue
            for rid in sorted(self.remote_children.get(parent.remote_id, [])):
                item = self.remote[rid]
                if (rid in self.by_remote or item.kind != node.kind
                        or self.name_key(item.name) != self.name_key(node.name)):
                    continue
                same = node.kind == Kind.FOLDER or bool(item.content_hash and (
                    item.content_hash == node.content
                    if item.hash_type == self.local_hash_type
                    else self.content_matches is not None and self.content_matches(node, item)))
                if same:
                    adopted[key] = rid
                    self.by_remote[rid] = SyncedNode(key, rid, node.parent, node.name,
                                                     node.kind, node.content, item.version)
                    break
        return adopted

    def _remote_in_tree(self) -> set[str]:
        """Remote ids beneath the root (items elsewhere are outside the sync)."""
        seen: set[str] = set()
        stack = [self.root_id] if self.root_id else []
        while stack:
            for child in self.remote_children.get(stack.pop(), []):
                if child not in seen:
                    seen.add(child)
                    stack.append(child)
        return seen

    # dirtiness: something in the subtree the other side has not seen yet
    def local_dirty(self, key: str) -> bool:
        if key not in self._local_dirty:
            node, last = self.local[key], self.synced.get(key)
            self._local_dirty[key] = (
                last is None or _local_changed(node, last)
                or (node.parent, node.name) != (last.parent, last.name)
                or any(self.local_dirty(child) for child in self.local_children.get(key, [])))
        return self._local_dirty[key]

    def remote_dirty(self, remote_id: str) -> bool:
        if remote_id not in self._remote_dirty:
            item, last = self.remote[remote_id], self.by_remote.get(remote_id)
            self._remote_dirty[remote_id] = (
                last is None or _remote_changed(item, last) or item.name != last.name
                or item.parent_id != self._synced_parent_remote_id(last)
                or any(self.remote_dirty(c) for c in self.remote_children.get(remote_id, [])
                       if c in self.in_tree))
        return self._remote_dirty[remote_id]

    def _synced_parent_remote_id(self, last: SyncedNode) -> str | None:
        parent = self.synced.get(last.parent or "")
        return parent.remote_id if parent else None

    def local_parent_for(self, remote_parent_id: str | None) -> str | None:
        """The local key that stands for a remote folder (existing or about to be made)."""
        if remote_parent_id == self.root_id:
            return ROOT
        last = self.by_remote.get(remote_parent_id or "")
        if last and last.key in self.local:
            return last.key
        if remote_parent_id in self.in_tree and self.remote_dirty(remote_parent_id):
            return new_key(remote_parent_id)
        return None

    def run(self) -> Plan:
        creates: list[Op] = []
        updates: list[Op] = []
        deletes: list[Op] = []
        for key in sorted(set(self.local) | set(self.synced)):
            if key == ROOT:
                continue
            node, last = self.local.get(key), self.synced.get(key)
            item = None
            if last and last.remote_id in self.in_tree:
                item = self.remote[last.remote_id]
            if key in self.adopted:
                creates.append(LinkRemote(key, self.adopted[key]))
            elif node and not last:
                creates.append(CreateRemote(key, node.parent, node.name, node.kind))
            elif node and item is None:
                if node.protected or self.local_dirty(key) or node.kind == Kind.FOLDER and any(
                        self.local[c].protected for c in self.local_children.get(key, [])):
                    creates.append(CreateRemote(key, node.parent, node.name, node.kind))
                elif not self._deleted_above(node.parent, remote_side=True):
                    deletes.append(DeleteLocal(key))
            elif last and not node:
                if item is None:
                    deletes.append(Forget(key))
                elif self.remote_dirty(item.id):
                    parent = self.local_parent_for(item.parent_id)
                    self.parent_of[new_key(item.id)] = parent
                    creates.append(
                        CreateLocal(new_key(item.id), item.id, parent, item.name, item.kind))
                elif self._deleted_above(last.parent, remote_side=False):
                    deletes.append(Forget(key))
                else:
                    deletes.append(DeleteRemote(key))
            else:
                parent = self.local_parent_for(item.parent_id)
                updates.extend(_plan_pair(node, last, item, parent))

        for item_id in sorted(self.in_tree - set(self.by_remote)):
            item = self.remote[item_id]
            parent = self.local_parent_for(item.parent_id)
            if parent is not None:
                self.parent_of[new_key(item.id)] = parent
                creates.append(
                    CreateLocal(new_key(item.id), item.id, parent, item.name, item.kind))

        depth = self._depth
        creates.sort(key=lambda op: (depth(op.key), op.key))
        deletes.sort(key=lambda op: (-depth(op.key), op.key))
        return Plan(creates + self._moves_without_cycles(updates) + deletes)

    def _moves_without_cycles(self, updates: list[Op]) -> list[Op]:
        """Moves that leave both trees acyclic, in an order with no transient cycle.

        A remote move that would put a folder below itself once combined with the local
        moves yields to the local structure (direct wins): it becomes a MoveRemote back.
        """
        local_now = {k: n.parent for k, n in self.local.items()}
        remote_now = {k: self.local_parent_for(self.remote[s.remote_id].parent_id)
                      for k, s in self.synced.items() if s.remote_id in self.in_tree}
        final = dict(local_now)
        local_moves, remote_moves, others = [], [], []
        for op in updates:
            if isinstance(op, MoveLocal):
                if _is_below(op.parent, op.key, final):
                    node = self.local[op.key]
                    op = MoveRemote(op.key, node.parent, node.name)
                else:
                    final[op.key] = op.parent
                    local_moves.append(op)
            if isinstance(op, MoveRemote):
                remote_moves.append(op)
            elif not isinstance(op, MoveLocal):
                others.append(op)
        return (_ordered_moves(local_moves, local_now) + _ordered_moves(remote_moves, remote_now)
                + others)

    def _deleted_above(self, parent: str | None, remote_side: bool) -> bool:
        """True if an ancestor folder is itself deleted the same way (one delete suffices)."""
        if parent in (None, ROOT):
            return False
        if remote_side:  # is the parent also vanishing remotely and being deleted locally?
            last = self.synced.get(parent)
            node = self.local.get(parent)
            return bool(last and node and last.remote_id not in self.in_tree
                        and not node.protected and not self.local_dirty(parent))
        last = self.synced.get(parent)  # is the parent also deleted locally, clean remotely?
        return bool(last and parent not in self.local and last.remote_id in self.in_tree
                    and not self.remote_dirty(last.remote_id))

    def _depth(self, key: str) -> int:
        depth, seen = 0, set()
        parent_of = self.parent_of
        synced = self.synced
        while key not in seen:
            seen.add(key)
            if key in parent_of:
                key = parent_of[key]
            elif key in synced:
                key = synced[key].parent
            else:
                break
            if key is None:
                break
            depth += 1
        return depth


def _is_below(key: str | None, ancestor: str, parent_of: dict[str, str | None]) -> bool:
    """True if ``key`` is ``ancestor`` or lies beneath it in ``parent_of``."""
    seen: set[str] = set()
    while key is not None and key not in seen:
        if key == ancestor:
            return True
        seen.add(key)
        key = parent_of.get(key)
    return False


def _ordered_moves(moves: list[Op], parent_of: dict[str, str | None]) -> list[Op]:
    """Order moves so that none puts a folder below itself at the moment it runs."""
    current, pending, ordered = dict(parent_of), list(moves), []
    while pending:
        ready = next((op for op in pending if not _is_below(op.parent, op.key, current)),
                     pending[0])
        pending.remove(ready)
        current[ready.key] = ready.parent
        ordered.append(ready)
    return ordered


def _local_changed(node: LocalNode, last: SyncedNode) -> bool:
    return node.kind == Kind.FILE and node.content is not None and (
        node.content != last.local_content)


def _remote_changed(item: Item, last: SyncedNode) -> bool:
    return item.kind == Kind.FILE and item.version != last.remote_version


def _plan_pair(node: LocalNode, last: SyncedNode, item: Item,
               item_parent: str | None) -> list[Op]:
    ops: list[Op] = []
    local_moved = (node.parent, node.name) != (last.parent, last.name)
    remote_moved = (item_parent, item.name) != (last.parent, last.name)
    if local_moved:
        ops.append(MoveRemote(node.key, node.parent, node.name))  # direct wins
    elif remote_moved and item_parent is not None:
        ops.append(MoveLocal(node.key, item_parent, item.name))
    local_changed, remote_changed = _local_changed(node, last), _remote_changed(item, last)
    if local_changed and remote_changed:
        ops.append(KeepRemoteCopy(node.key, item.id, node.parent, conflict_name(item.name)))
        ops.append(UpdateRemote(node.key))
    elif local_changed:
        ops.append(UpdateRemote(node.key))
    elif remote_changed:
        ops.append(UpdateLocal(node.key, item.id))
    return ops


# -- change feeds -------------------------------------------------------------------------
def apply_changes(snapshot: dict[str, Item], changes: Iterable[Change]) -> dict[str, Item]:
    """The remote tree after ``changes``, from the last known ``snapshot`` (a new dict).

    A deleted folder takes its descendants with it; a change whose id is renamed by the
    provider (``old_id``, S3 keys and WebDAV paths) replaces the old entry.
    """
    tree = dict(snapshot)
    for change in changes:
        if change.old_id and change.old_id != change.item.id:
            _drop(tree, change.old_id, keep_children=True, new_parent=change.item.id)
        if change.type == ChangeType.DELETED:
            _drop(tree, change.item.id)
        else:
            tree[change.item.id] = change.item
    return tree


def _drop(tree: dict[str, Item], item_id: str, keep_children: bool = False,
          new_parent: str | None = None) -> None:
    tree.pop(item_id, None)
    children = [i for i in tree.values() if i.parent_id == item_id]
    for child in children:
        if keep_children:
            tree[child.id] = child.evolve(parent_id=new_parent)
        else:
            _drop(tree, child.id)
