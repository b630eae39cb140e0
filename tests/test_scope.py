"""Planning from the changes (``cloud_sync.engine.scope``): on random trees and random
small change sets on both sides, the operations planned from the scoped states are the
operations planned from the full states, and a change costs the same in a big tree."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from test_planner import World, _edit

from cloud_sync.engine.planner import ROOT, SyncedNode, apply_changes, plan
from cloud_sync.engine.scope import MemorySource, renamed_ids, scoped_states
from cloud_sync.providers.base import Change, ChangeType, Item, Kind

FILE, FOLDER = Kind.FILE, Kind.FOLDER
EDITS = st.sampled_from(["create_file", "create_folder", "edit", "rename", "move", "delete"])


def snapshot(synced: dict[str, SyncedNode]) -> dict[str, Item]:
    """The remote tree as the records last saw it (what the executor's feed path uses)."""
    return {s.remote_id: Item(s.remote_id, s.name, s.kind,
                              synced[s.parent or ROOT].remote_id if (s.parent or ROOT) in synced
                              else None, version=s.remote_version)
            for k, s in synced.items() if k != ROOT}


def local_marks(before: World, after_local: dict) -> set[str]:
    """The keys a change mark names: new, changed, moved or renamed items, and the top
    of each deleted subtree only (a folder's files deleted with it may leave no mark)."""
    marks = set()
    for key, node in after_local.items():
        old = before.get(key)
        if old is None or (old["parent"], old["name"], old["content"]) != (
                node["parent"], node["name"], node["content"]):
            marks.add(key)
    marks.update(key for key, node in before.items()
                 if key not in after_local and node["parent"] in after_local)
    return marks


def feed(snap: dict[str, Item], remote: dict[str, Item], data) -> list[Change]:
    """The change feed from ``snap`` to ``remote``: what changed, in a random order; the
    deletions below a deleted folder are reported or not (providers differ)."""
    changes = []
    for rid, item in remote.items():
        if rid == "R":
            continue
        old = snap.get(rid)
        if old is None:
            changes.append(Change(ChangeType.CREATED, item))
        elif (old.name, old.parent_id, old.version) != (item.name, item.parent_id, item.version):
            changes.append(Change(ChangeType.UPDATED, item))
    for rid, old in snap.items():
        if rid not in remote and (old.parent_id in remote or data.draw(st.booleans())):
            changes.append(Change(ChangeType.DELETED, old))
    return data.draw(st.permutations(changes))


def scoped_and_full(world: World, marks: set[str], changes: list[Change]):
    local = world.local_nodes()
    full = plan(local, world.synced, apply_changes(snapshot(world.synced), changes)).ops
    scope = scoped_states(MemorySource(local, world.synced), marks, changes)
    assert scope is not None
    return plan(scope.local, scope.synced, scope.remote).ops, full, scope


def synced_world_and_edits(data):
    """A random synced world, then 1-4 random edits on either side or both (conflicts);
    returns (world, local state before the edits, records before the edits)."""
    world = World()
    for _ in range(data.draw(st.integers(min_value=2, max_value=30))):
        side = data.draw(st.sampled_from(["local", "remote"]))
        _edit(world, side, data.draw(st.sampled_from(["create_file", "create_folder"])), data)
    world.sync_until_stable()
    if data.draw(st.booleans()):  # some history: edits and a sync
        for _ in range(data.draw(st.integers(min_value=1, max_value=6))):
            _edit(world, data.draw(st.sampled_from(["local", "remote"])), data.draw(EDITS), data)
        world.sync_until_stable()
    before = {k: dict(v) for k, v in world.local.items()}
    synced_before = dict(world.synced)
    for _ in range(data.draw(st.integers(min_value=1, max_value=4))):
        side = data.draw(st.sampled_from(["local", "remote", "both"]))
        action = data.draw(EDITS)
        if side == "both":  # the same action on both sides: conflicts
            _edit(world, "local", action, data)
            _edit(world, "remote", action, data)
        else:
            _edit(world, side, action, data)
    return world, before, synced_before


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_scoped_plan_is_the_full_plan(data):
    world, before, synced_before = synced_world_and_edits(data)
    changes = feed(snapshot(synced_before), world.remote_items(), data)
    scoped, full, _scope = scoped_and_full(world, local_marks(before, world.local), changes)
    assert scoped == full


def paths(tree: dict[str, Item]) -> dict[str, str]:
    """Stable id -> path id ("R/a/b"), as S3 keys and WebDAV paths name items."""
    out = {"R": "R"}

    def path(rid):
        if rid not in out:
            item = tree[rid]
            out[rid] = path(item.parent_id or "R") + "/" + item.name
        return out[rid]

    for rid in tree:
        path(rid)
    return out


def path_feed(before: dict[str, Item], after: dict[str, Item], data) -> list[Change]:
    """The feed of a path-id provider from ``before`` to ``after`` (both with stable
    ids, "R" the root): ids become paths; a renamed or moved item is MOVED with its
    ``old_id``, and so is every item of a moved subtree (their paths changed too);
    ordered as the providers order it: deletions, moves, creations, updates."""
    old, new = paths(before), paths(after)

    def item(rid, tree, path):
        node = tree[rid]
        return node.evolve(id=path[rid], parent_id=path[node.parent_id])

    deleted, moved, created, updated = [], [], [], []
    for rid in before.keys() - {"R"}:
        if rid not in after:
            if before[rid].parent_id in after or data.draw(st.booleans()):
                deleted.append(Change(ChangeType.DELETED, item(rid, before, old)))
        elif new[rid] != old[rid]:
            moved.append(Change(ChangeType.MOVED, item(rid, after, new), old_id=old[rid]))
        elif after[rid].version != before[rid].version:
            updated.append(Change(ChangeType.UPDATED, item(rid, after, new)))
    created = [Change(ChangeType.CREATED, item(rid, after, new)) for rid in after
               if rid not in before]
    return [*sorted(deleted, key=lambda c: c.item.id), *sorted(moved, key=lambda c: c.item.id),
            *sorted(created, key=lambda c: c.item.id), *updated]


def follow_renames(synced: dict[str, SyncedNode], changes) -> dict[str, SyncedNode]:
    """The records following renamed ids, as the executor's ``_rekey`` makes them (a
    new id another record still holds is not taken)."""
    synced = dict(synced)
    by_remote = {s.remote_id: k for k, s in synced.items()}
    for old, new in renamed_ids(changes).items():
        key = by_remote.get(old)
        if key and new not in by_remote:
            by_remote[new] = by_remote.pop(old)
            synced[key] = replace(synced[key], remote_id=new)
    return synced


def in_path_ids(world: World) -> dict[str, Item]:
    """The remote tree as the records last saw it, "R" included, with stable ids."""
    return {**snapshot(world.synced), "R": Item("R", "root", FOLDER, None)}


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_scoped_plan_is_the_full_plan_with_path_ids(data):
    """S3 keys and WebDAV paths: a remote rename or move renames the ids of a subtree;
    the records follow the new ids first, then the scope plans what the full plan does."""
    world, before, _synced = synced_world_and_edits(data)
    seen = in_path_ids(world)
    changes = path_feed(seen, world.remote_items(), data)
    event(f"ids renamed: {bool(renamed_ids(changes))}")
    old_path = paths(seen)
    world.synced = follow_renames(
        {k: replace(s, remote_id=old_path[s.remote_id]) for k, s in world.synced.items()},
        changes)
    scoped, full, _scope = scoped_and_full(world, local_marks(before, world.local), changes)
    assert scoped == full


def test_a_file_renamed_onto_the_path_of_a_deleted_one_scopes_like_the_full_plan():
    """Path reuse: ``a.txt`` deleted and ``b.txt`` renamed to ``a.txt`` remotely. The
    record of ``b.txt`` cannot take the id ``a.txt`` (the record of the deleted file
    still holds it) and keeps its old id: it must be in the scope as well."""
    world = tree(3, 0)
    folder = next(k for k, v in world.local.items() if v["name"] == "folder 1")
    a, b = (world.new_local(folder, name, FILE, name.encode()) for name in ("a.txt", "b.txt"))
    world.sync_until_stable()
    seen = in_path_ids(world)
    world.delete_remote(world.synced[a].remote_id)
    world.remote[world.synced[b].remote_id]["name"] = "a.txt"
    changes = path_feed(seen, world.remote_items(), None)
    assert [c.type for c in changes] == [ChangeType.DELETED, ChangeType.MOVED]
    old_path = paths(seen)
    world.synced = follow_renames(
        {k: replace(s, remote_id=old_path[s.remote_id]) for k, s in world.synced.items()},
        changes)
    assert world.synced[b].remote_id.endswith("/b.txt")  # it kept its old id
    scoped, full, scope = scoped_and_full(world, set(), changes)
    assert scoped == full and full
    assert {a, b} <= scope.touched


def test_a_remote_folder_rename_with_path_ids_costs_the_same_in_a_tree_ten_times_bigger():
    loaded = []
    for folders in (10, 100):
        world = tree(folders, 5)
        seen = in_path_ids(world)
        folder = next(r for r, item in seen.items() if item.name == "folder 3")
        world.remote[folder]["name"] = "renamed"
        changes = path_feed(seen, world.remote_items(), None)
        assert len(changes) == 6 and all(c.old_id for c in changes)
        old_path = paths(seen)
        world.synced = follow_renames(
            {k: replace(s, remote_id=old_path[s.remote_id]) for k, s in world.synced.items()},
            changes)
        source = MemorySource(world.local_nodes(), world.synced)
        scope = scoped_states(source, set(), changes)
        scoped = plan(scope.local, scope.synced, scope.remote).ops
        assert scoped == scoped_and_full(world, set(), changes)[1]
        assert len(scoped) == 1  # the folder renamed in Odoo
        loaded.append((len(scope.local), len(scope.synced), source.asked))
    assert loaded[0] == loaded[1], loaded
    assert loaded[0][0] == 7, loaded  # root, the folder, its five files


def test_conflicting_edits_and_a_remote_folder_deletion_scope_like_the_full_plan():
    world = World()
    docs = world.new_local(ROOT, "Docs", FOLDER)
    sub = world.new_local(docs, "Sub", FOLDER)
    files = [world.new_local(sub, f"{i}.txt", FILE, b"%d" % i) for i in range(3)]
    other = world.new_local(ROOT, "Other", FOLDER)
    world.sync_until_stable()
    before = {k: dict(v) for k, v in world.local.items()}
    snap = snapshot(world.synced)
    world.local[files[0]]["content"] = b"local"  # both sides edit one file
    rid = world.synced[files[0]].remote_id
    world.remote[rid].update(content=b"remote", version=world.remote[rid]["version"] + 1)
    edited = world.remote_items()[rid]
    world.local[files[1]]["content"] = b"edited"  # a local edit under a folder deleted remotely
    world.delete_remote(world.synced[sub].remote_id)
    world.local[other]["parent"] = docs  # and a local move
    changes = [Change(ChangeType.UPDATED, edited),
               Change(ChangeType.DELETED, snap[world.synced[sub].remote_id])]
    scoped, full, scope = scoped_and_full(world, local_marks(before, world.local), changes)
    assert scoped == full and full
    assert sub in scope.touched and set(files) <= set(scope.local)


def tree(folders: int, files: int) -> World:
    """A synced world: ``folders`` folders at the root, ``files`` files in each."""
    world = World()
    for f in range(folders):
        folder = world.new_local(ROOT, f"folder {f}", FOLDER)
        for i in range(files):
            world.new_local(folder, f"{i}.txt", FILE, b"%d" % i)
    world.sync_until_stable()
    return world


def test_one_change_costs_the_same_in_a_tree_ten_times_bigger():
    loaded = []
    for folders in (10, 100):
        world = tree(folders, 20)
        key = next(k for k, v in world.local.items() if v["name"] == "7.txt")
        world.local[key]["content"] = b"new"  # a local edit
        rid = world.synced[next(k for k, v in world.local.items() if v["name"] == "8.txt"
                                and k != key)].remote_id
        world.remote[rid].update(content=b"new", version=5)  # and a remote one
        source = MemorySource(world.local_nodes(), world.synced)
        changes = [Change(ChangeType.UPDATED, world.remote_items()[rid])]
        scope = scoped_states(source, {key}, changes)
        ops = plan(scope.local, scope.synced, scope.remote).ops
        assert ops == plan(world.local_nodes(), world.synced,
                           apply_changes(snapshot(world.synced), changes)).ops
        assert len(ops) == 2
        loaded.append((len(scope.local), len(scope.synced), len(scope.remote), source.asked))
    assert loaded[0] == loaded[1], loaded
    assert loaded[0][0] <= 4, loaded  # root, at most two folders, two files


def test_a_renamed_folder_brings_its_subtree_and_nothing_else():
    world = tree(5, 4)
    folder = next(k for k, v in world.local.items() if v["name"] == "folder 2")
    before = {k: dict(v) for k, v in world.local.items()}
    world.local[folder]["name"] = "renamed"
    scoped, full, scope = scoped_and_full(world, local_marks(before, world.local), [])
    assert scoped == full
    assert set(scope.local) == {ROOT, folder} | {
        k for k, v in world.local.items() if v["parent"] == folder}


def test_what_cannot_be_scoped_plans_the_whole_tree():
    world = tree(2, 2)
    source = MemorySource(world.local_nodes(), world.synced)
    assert scoped_states(source, set(), None) is None  # a walk, not a feed
    root = Item("R", "root", FOLDER, None)
    assert scoped_states(source, set(), [Change(ChangeType.UPDATED, root)]) is None
    assert scoped_states(source, set(world.local), [], max_keys=3) is None



def test_an_unmarked_disagreement_on_the_way_touches_its_whole_subtree():
    """A folder whose sync record is gone without a mark (the marks missed it): the edit
    below it reaches it as an ancestor, finds it not clean, and plans its subtree too,
    as the full plan does."""
    world = tree(3, 3)
    folder = next(k for k, v in world.local.items() if v["name"] == "folder 1")
    files = sorted(k for k, v in world.local.items() if v["parent"] == folder)
    del world.synced[folder]
    world.local[files[0]]["content"] = b"edited"
    scoped, full, scope = scoped_and_full(world, {files[0]}, [])
    assert scoped == full and len(full) > 1
    assert folder in scope.touched and set(files) <= set(scope.local)
