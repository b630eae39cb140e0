"""The sync planner: scenario tests and property tests over random edit sequences.

A small in-memory world executes the planner's operations on a local tree and a remote
tree (unique names per folder, as most providers): after any sequence of edits on both
sides, interleaved with sync runs, both sides converge and no content is ever lost.
"""

from __future__ import annotations

import hashlib
import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cloud_sync.engine.planner import (
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
    SyncedNode,
    UpdateLocal,
    UpdateRemote,
    plan,
)
from cloud_sync.naming import unique_name
from cloud_sync.providers.base import Item, Kind

FILE, FOLDER = Kind.FILE, Kind.FOLDER


def digest(content: bytes | None) -> str | None:
    return None if content is None else hashlib.sha1(content).hexdigest()


class World:
    """Both sides and the sync records, with an executor of planner operations."""

    def __init__(self):
        self.ids = itertools.count(1)
        self.local = {ROOT: {"parent": None, "name": "root", "kind": FOLDER, "content": None,
                             "protected": True}}
        self.remote = {"R": {"parent": None, "name": "root", "kind": FOLDER, "content": None,
                             "version": 0}}
        self.synced = {ROOT: SyncedNode(ROOT, "R", None, "root", FOLDER)}

    # -- views for the planner --------------------------------------------------------
    def local_nodes(self):
        return {k: LocalNode(k, v["parent"], v["name"], v["kind"], digest(v["content"]),
                             v["protected"]) for k, v in self.local.items()}

    def remote_items(self):
        return {k: Item(k, v["name"], v["kind"], v["parent"], version=str(v["version"]))
                for k, v in self.remote.items()}

    # -- edits ----------------------------------------------------------------------------
    def new_local(self, parent, name, kind, content=None, protected=False):
        key = f"L{next(self.ids)}"
        self.local[key] = {"parent": parent, "name": name, "kind": kind,
                           "content": content, "protected": protected}
        return key

    def new_remote(self, parent, name, kind, content=None):
        name = self._free_remote_name(parent, name)
        rid = f"R{next(self.ids)}"
        self.remote[rid] = {"parent": parent, "name": name, "kind": kind, "content": content,
                            "version": 1}
        return rid

    def _free_remote_name(self, parent, name, ignore=None):
        taken = [v["name"] for k, v in self.remote.items() if v["parent"] == parent
                 and k != ignore]
        return unique_name(name, taken)

    def _subtree(self, tree, key):
        out, stack = [], [key]
        while stack:
            current = stack.pop()
            out.append(current)
            stack.extend(k for k, v in tree.items() if v["parent"] == current)
        return out

    @staticmethod
    def _ancestors(tree, key):
        out = set()
        while key is not None:
            out.add(key)
            key = tree[key]["parent"]
        return out

    def delete_local(self, key):
        for k in self._subtree(self.local, key):
            del self.local[k]

    def delete_remote(self, rid):
        for k in self._subtree(self.remote, rid):
            del self.remote[k]

    # -- executor ------------------------------------------------------------------------
    def sync(self) -> int:
        ops = plan(self.local_nodes(), self.synced, self.remote_items()).ops
        keymap: dict[str, str] = {}

        def resolve(key):
            return keymap.get(key, key)

        def remote_of(key):
            return self.synced[resolve(key)].remote_id

        def record(key, rid):
            for other in [k for k, s in self.synced.items() if s.remote_id == rid and k != key]:
                del self.synced[other]
            node, item = self.local[key], self.remote[rid]
            self.synced[key] = SyncedNode(key, rid, node["parent"], node["name"], node["kind"],
                                          digest(node["content"]), str(item["version"]))

        for op in ops:
            key = resolve(op.key)
            if isinstance(op, CreateRemote):
                node = self.local[key]
                parent = remote_of(node["parent"])
                record(key, self.new_remote(parent, node["name"], node["kind"], node["content"]))
            elif isinstance(op, LinkRemote):
                record(key, op.remote_id)
            elif isinstance(op, UpdateRemote):
                rid = remote_of(key)
                self.remote[rid]["content"] = self.local[key]["content"]
                self.remote[rid]["version"] += 1
                record(key, rid)
            elif isinstance(op, MoveRemote):
                rid = remote_of(key)
                parent = remote_of(self.local[key]["parent"])
                assert rid not in self._ancestors(self.remote, parent), "remote cycle"
                self.remote[rid]["parent"] = parent
                self.remote[rid]["name"] = self._free_remote_name(
                    parent, self.local[key]["name"], ignore=rid)
                record(key, rid)
            elif isinstance(op, DeleteRemote):
                self.delete_remote(remote_of(key))
                del self.synced[key]
            elif isinstance(op, KeepRemoteCopy):
                item = self.remote[op.remote_id]
                self.new_local(self.local[key]["parent"], op.name, FILE, item["content"])
            elif isinstance(op, CreateLocal):
                item = self.remote[op.remote_id]
                new = self.new_local(resolve(op.parent), op.name, op.kind, item["content"])
                keymap[op.key] = new
                record(new, op.remote_id)
            elif isinstance(op, UpdateLocal):
                self.local[key]["content"] = self.remote[op.remote_id]["content"]
                record(key, op.remote_id)
            elif isinstance(op, MoveLocal):
                assert key not in self._ancestors(self.local, resolve(op.parent)), "local cycle"
                self.local[key]["parent"] = resolve(op.parent)
                self.local[key]["name"] = op.name
                record(key, self.synced[key].remote_id)
            elif isinstance(op, DeleteLocal):
                for k in self._subtree(self.local, key):
                    self.synced.pop(k, None)
                self.delete_local(key)
            elif isinstance(op, Forget):
                self.synced.pop(key, None)
            else:  # pragma: no cover - a new operation type must be executed here
                raise AssertionError(f"unknown operation {op}")
        return len(ops)

    def sync_until_stable(self, rounds: int = 4) -> None:
        for _ in range(rounds):
            if self.sync() == 0:
                return
        raise AssertionError("sync did not converge: " + repr(
            plan(self.local_nodes(), self.synced, self.remote_items()).ops))

    # -- observations ----------------------------------------------------------------------
    def _paths(self, tree, root):
        out = set()

        def walk(key, prefix):
            for k, v in tree.items():
                if v["parent"] == key:
                    path = f"{prefix}/{v['name']}"
                    out.add((path, v["kind"], v["content"]))
                    if v["kind"] == FOLDER:
                        walk(k, path)

        walk(root, "")
        return out

    def local_paths(self):
        return self._paths(self.local, ROOT)

    def remote_paths(self):
        return self._paths(self.remote, "R")

    def unseen_contents(self) -> set[bytes]:
        """File contents that one side has and the other has not seen yet."""
        must = set()
        by_remote = {s.remote_id: s for s in self.synced.values()}
        for key, node in self.local.items():
            last = self.synced.get(key)
            if node["kind"] == FILE and (last is None
                                         or digest(node["content"]) != last.local_content):
                must.add(node["content"])
        for rid, item in self.remote.items():
            last = by_remote.get(rid)
            if item["kind"] == FILE and (last is None or str(item["version"])
                                         != last.remote_version):
                must.add(item["content"])
        return must


# -- scenarios ---------------------------------------------------------------------------
def synced_world():
    world = World()
    folder = world.new_local(ROOT, "Customers", FOLDER)
    doc = world.new_local(folder, "offer.pdf", FILE, b"v1")
    world.sync_until_stable()
    return world, folder, doc


def test_initial_direct_sync_creates_everything_once():
    world, folder, doc = synced_world()
    assert world.remote_paths() == {("/Customers", FOLDER, None),
                                    ("/Customers/offer.pdf", FILE, b"v1")}
    assert world.sync() == 0


def test_rename_on_both_sides_direct_wins():
    world, folder, doc = synced_world()
    world.local[doc]["name"] = "local.pdf"
    world.remote[world.synced[doc].remote_id]["name"] = "remote.pdf"
    world.sync_until_stable()
    assert ("/Customers/local.pdf", FILE, b"v1") in world.remote_paths()
    assert world.local_paths() == world.remote_paths()


def test_remote_rename_and_move_follow_the_id():
    world, folder, doc = synced_world()
    other = world.new_remote("R", "Archive", FOLDER)
    rid = world.synced[doc].remote_id
    world.remote[rid].update(parent=other, name="renamed.pdf")
    ops = plan(world.local_nodes(), world.synced, world.remote_items()).ops
    assert any(isinstance(op, MoveLocal) and op.key == doc for op in ops)
    assert not any(isinstance(op, (DeleteLocal, DeleteRemote)) for op in ops)
    world.sync_until_stable()
    assert world.local[doc]["name"] == "renamed.pdf"
    assert world.local_paths() == world.remote_paths()


def test_content_conflict_keeps_the_remote_version_as_a_copy():
    world, folder, doc = synced_world()
    world.local[doc]["content"] = b"local edit"
    rid = world.synced[doc].remote_id
    world.remote[rid].update(content=b"remote edit", version=world.remote[rid]["version"] + 1)
    ops = plan(world.local_nodes(), world.synced, world.remote_items()).ops
    assert [type(op) for op in ops] == [KeepRemoteCopy, UpdateRemote]
    world.sync_until_stable()
    paths = world.remote_paths()
    assert ("/Customers/offer.pdf", FILE, b"local edit") in paths
    assert ("/Customers/offer (conflict copy).pdf", FILE, b"remote edit") in paths
    assert world.local_paths() == paths


def test_remote_edit_wins_over_local_delete():
    world, folder, doc = synced_world()
    rid = world.synced[doc].remote_id
    world.delete_local(doc)
    world.remote[rid].update(content=b"edited", version=9)
    world.sync_until_stable()
    assert ("/Customers/offer.pdf", FILE, b"edited") in world.local_paths()


def test_local_edit_wins_over_remote_delete_of_its_folder():
    world, folder, doc = synced_world()
    world.local[doc]["content"] = b"edited"
    world.delete_remote(world.synced[folder].remote_id)
    world.sync_until_stable()
    assert ("/Customers/offer.pdf", FILE, b"edited") in world.remote_paths()


def test_unchanged_items_deleted_on_one_side_are_deleted_on_the_other_once():
    world, folder, doc = synced_world()
    world.delete_remote(world.synced[folder].remote_id)
    ops = plan(world.local_nodes(), world.synced, world.remote_items()).ops
    assert ops == [DeleteLocal(folder)]  # the folder only: its file goes with it
    world.sync_until_stable()
    assert world.local_paths() == set() == world.remote_paths()


def test_protected_folder_deleted_remotely_is_recreated():
    world = World()
    rule_folder = world.new_local(ROOT, "Projects", FOLDER, protected=True)
    world.sync_until_stable()
    world.delete_remote(world.synced[rule_folder].remote_id)
    assert plan(world.local_nodes(), world.synced, world.remote_items()).ops == [
        CreateRemote(rule_folder, ROOT, "Projects", FOLDER)]
    world.sync_until_stable()
    assert ("/Projects", FOLDER, None) in world.remote_paths()


def test_new_remote_folder_with_files_becomes_local_parents_first():
    world, folder, doc = synced_world()
    sub = world.new_remote(world.synced[folder].remote_id, "Scans", FOLDER)
    world.new_remote(sub, "scan.png", FILE, b"png")
    ops = plan(world.local_nodes(), world.synced, world.remote_items()).ops
    assert [type(op) for op in ops] == [CreateLocal, CreateLocal]
    assert ops[1].parent == ops[0].key
    world.sync_until_stable()
    assert ("/Customers/Scans/scan.png", FILE, b"png") in world.local_paths()


def test_items_outside_the_root_are_ignored():
    world, folder, doc = synced_world()
    world.remote["X"] = {"parent": None, "name": "elsewhere", "kind": FOLDER, "content": None,
                         "version": 1}
    assert plan(world.local_nodes(), world.synced, world.remote_items()).ops == []


def test_both_deleted_is_forgotten():
    world, folder, doc = synced_world()
    world.delete_local(doc)
    world.delete_remote(world.synced[doc].remote_id)
    assert plan(world.local_nodes(), world.synced, world.remote_items()).ops == [Forget(doc)]


# -- property tests ----------------------------------------------------------------------
NAMES = st.sampled_from(["a", "b", "c.txt", "D", "é 📁", "مجلد"])
CONTENT = st.binary(min_size=0, max_size=6)
ACTIONS = st.sampled_from(["create_file", "create_folder", "edit", "rename", "move",
                           "delete", "sync"])


def _edit(world: World, side: str, action: str, data) -> None:
    tree = world.local if side == "local" else world.remote
    root = ROOT if side == "local" else "R"
    folders = [k for k, v in tree.items() if v["kind"] == FOLDER]
    others = [k for k in tree if k != root]
    name = data.draw(NAMES)
    if action in ("create_file", "create_folder"):
        parent = data.draw(st.sampled_from(sorted(folders)))
        kind = FILE if action == "create_file" else FOLDER
        content = data.draw(CONTENT) if kind == FILE else None
        if side == "local":
            world.new_local(parent, name, kind, content)
        else:
            world.new_remote(parent, name, kind, content)
        return
    if not others:
        return
    key = data.draw(st.sampled_from(sorted(others)))
    node = tree[key]
    if action == "edit" and node["kind"] == FILE:
        node["content"] = data.draw(CONTENT) + b"!"  # always a real change
        if side == "remote":
            node["version"] += 1
    elif action == "rename":
        node["name"] = name if side == "local" else world._free_remote_name(
            node["parent"], name, ignore=key)
    elif action == "move":
        below = set(world._subtree(tree, key))
        targets = sorted(f for f in folders if f not in below)
        node["parent"] = data.draw(st.sampled_from(targets))
        if side == "remote":
            node["name"] = world._free_remote_name(node["parent"], node["name"], ignore=key)
    elif action == "delete":
        if side == "local":
            world.delete_local(key)
        else:
            world.delete_remote(key)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_random_edits_on_both_sides_converge_without_losing_content(data):
    world = World()
    for _ in range(data.draw(st.integers(min_value=1, max_value=25))):
        action = data.draw(ACTIONS)
        if action == "sync":
            must_survive = world.unseen_contents()
            world.sync_until_stable()
            _assert_converged(world, must_survive)
        else:
            _edit(world, data.draw(st.sampled_from(["local", "remote"])), action, data)
    must_survive = world.unseen_contents()
    world.sync_until_stable()
    _assert_converged(world, must_survive)


def _assert_converged(world: World, must_survive: set[bytes]) -> None:
    local, remote = world.local_paths(), world.remote_paths()
    assert local == remote
    present = {content for _path, kind, content in local if kind == FILE}
    assert must_survive <= present, f"lost: {must_survive - present}"
    assert world.sync() == 0


def test_apply_changes_follows_ids_and_drops_deleted_subtrees():
    from cloud_sync.engine.planner import apply_changes
    from cloud_sync.providers.base import Change, ChangeType

    folder = Item("F", "Docs", FOLDER, "R")
    child = Item("F/a.txt", "a.txt", FILE, "F", version="1")
    snapshot = {"F": folder, "F/a.txt": child}
    renamed = Item("G", "Papers", FOLDER, "R")  # path-keyed provider: the id changes
    tree = apply_changes(snapshot, [Change(ChangeType.RENAMED, renamed, old_id="F")])
    assert set(tree) == {"G", "F/a.txt"} and tree["F/a.txt"].parent_id == "G"
    assert snapshot == {"F": folder, "F/a.txt": child}  # the input is left alone
    tree = apply_changes(tree, [Change(ChangeType.DELETED, renamed)])
    assert tree == {}


def test_crash_after_upload_adopts_by_the_providers_hash_type():
    """A file uploaded before a crash lost its record: with an MD5-only provider, the
    caller's ``content_matches`` recognises it, so it is linked, not uploaded or pulled
    in a second time; a different content under the same name is not adopted."""
    folder = LocalNode("f", ROOT, "Docs", FOLDER)
    same = LocalNode("a", "f", "a.txt", FILE, digest(b"A"))
    other = LocalNode("b", "f", "b.txt", FILE, digest(b"B"))
    local = {ROOT: LocalNode(ROOT, None, "root", FOLDER, protected=True),
             "f": folder, "a": same, "b": other}
    synced = {ROOT: SyncedNode(ROOT, "R", None, "root", FOLDER),
              "f": SyncedNode("f", "RF", ROOT, "Docs", FOLDER)}
    md5 = {b"A": "md5-a", b"old B": "md5-old-b"}
    remote = {"RF": Item("RF", "Docs", FOLDER, "R"),
              "RA": Item("RA", "a.txt", FILE, "RF", version="1", hash_type="md5",
                         content_hash=md5[b"A"]),
              "RB": Item("RB", "b.txt", FILE, "RF", version="1", hash_type="md5",
                         content_hash=md5[b"old B"])}
    contents = {"a": b"A", "b": b"B"}

    def matches(node, item):
        return md5.get(contents[node.key]) == item.content_hash

    ops = plan(local, synced, remote).ops
    assert LinkRemote("a", "RA") not in ops, "without the callback: no way to compare"
    ops = plan(local, synced, remote, content_matches=matches).ops
    assert LinkRemote("a", "RA") in ops
    assert not [op for op in ops if op.key in ("a", "new:RA") and op != LinkRemote("a", "RA")]
    assert CreateRemote("b", "f", "b.txt", FILE) in ops
