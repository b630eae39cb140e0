"""The conformance suite: the behaviour every provider must show against its local server.

Run by ``tests/test_conformance.py``, which provides two fixtures: ``target`` (a
:class:`cloud_sync.conformance.Target`, one per provider key and module) and
``provider`` (``target.new_provider(retry=fast_retry())``: a provider bound to a fresh,
empty root folder). Test ids carry the provider key, e.g. ``test_rename_file[s3]``.

What a target must offer (see :mod:`cloud_sync.conformance`):

- ``new_provider(config=None, **kwargs)``: ``config`` entries override the target's
  own (the suite sets ``{"timeout": seconds}``), the other kwargs go to the provider's
  constructor (``retry``, ``on_token_refresh``).
- ``read_direct(item)``: the bytes through an independent path (raw SDK or plain HTTP).
- ``expire_cursors()``: every change-feed cursor handed out so far becomes expired.
- ``emulator.faults``: the shared :class:`~cloud_sync.emulators.faults.FaultInjector`.
- optional ``extra["web_session"]()``: a ``requests.Session`` signed in as the owner, for
  servers whose internal links need credentials a browser would hold (WebDAV's Basic auth);
- optional ``extra["seed_files"](parent_id, [(name, bytes), ...])``: a fast direct way to
  create many files for the pagination test (else the provider uploads them);
- ``extra["write_direct"](item_id, bytes)``: another client's edit of a file (the
  benchmark's remote change), checked here to be one the provider sees.

What every provider must honour:

- config key ``timeout``: seconds before a request with no answer fails (a timeout is
  then :class:`RetryLater`, retried by the policy for idempotent operations);
- ``changes(cursor)`` returns every change available now (it follows the provider's
  pages itself); asking again with the returned cursor gives none;
- the class attributes of :class:`~cloud_sync.providers.base.Provider` that declare
  differences: ``unique_names``, ``name_rules`` (case sensitivity), ``resumable_upload``,
  ``has_public_links``, ``public_link_is_content``, ``internal_link_is_content``,
  ``link_options``, ``hash_type``, ``refreshes_tokens``, ``has_versions``, ``can_search``,
  ``server_side_copy``, ``aborts_uploads``.
  The suite never tests ``if key == ...``.

Faults are injected into "the next request", so each fault test first prepares its
data, then plans the fault, then runs one read (``list_children``).
"""

from __future__ import annotations

import contextlib
import hashlib
import html
import http.cookiejar
import io
import json
import os
import time
from collections import defaultdict

import pytest
import requests

from ..emulators.tls import ca_bundle
from ..hashing import hash_bytes
from ..providers.base import Change, ChangeType, Kind, Resume, Version
from ..providers.errors import (
    CloudError,
    CursorExpired,
    NameTaken,
    NotFound,
    ReauthRequired,
    RetryLater,
    Unsupported,
)
from ..retry import RetryPolicy
from .memprobe import probe_upload

LARGE_SIZE = 25 * 1024 * 1024 + 123  # 25 MB, not a multiple of any chunk size
MANY = 1050
CUT_CHUNK = 10 * 1024 * 1024 + 64 * 1024  # the largest chunk of any provider, and headroom


def fast_retry() -> RetryPolicy:
    """Short backoff so fault tests stay fast; Retry-After is still honoured in full."""
    return RetryPolicy(max_attempts=6, initial_delay=0.01, max_delay=0.1, max_total=30)


def _children(provider, folder_id) -> dict:
    return {child.name: child for child in provider.list_children(folder_id)}


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _faults(target):
    faults = target.emulator.faults
    faults.clear()
    faults.reset_counts()
    return faults


# -- folders ------------------------------------------------------------------------------
def test_create_folder(provider):
    folder = provider.create_folder(provider.root_id, "Folder A")
    assert folder.kind == Kind.FOLDER and folder.name == "Folder A"
    assert folder.parent_id == provider.root_id
    listed = _children(provider, provider.root_id)
    assert listed["Folder A"].id == folder.id and listed["Folder A"].is_folder
    assert provider.metadata(folder.id).is_folder
    assert list(provider.list_children(folder.id)) == []


def test_ensure_folder_twice_returns_the_same_folder(provider):
    first = provider.ensure_folder(provider.root_id, "Invoices")
    second = provider.ensure_folder(provider.root_id, "Invoices")
    assert first.id == second.id
    assert [c.name for c in provider.list_children(provider.root_id)] == ["Invoices"]


def test_ensure_folder_after_crash_makes_no_twin(provider):
    # a sync created the folder remotely, then died before committing locally
    created = provider.create_folder(provider.root_id, "Orders")
    again = provider.ensure_folder(provider.root_id, "Orders")
    assert again.id == created.id
    assert [c.name for c in provider.list_children(provider.root_id)] == ["Orders"]


def test_list_children_returns_every_page(target, provider):
    folder = provider.create_folder(provider.root_id, "many")
    files = [(f"file-{i:04d}.txt", b"%d" % i) for i in range(MANY)]
    seed = target.extra.get("seed_files")
    if seed:
        seed(folder.id, files)
    else:
        for name, data in files:
            provider.upload_bytes(folder.id, name, data)
    listed = list(provider.list_children(folder.id))
    assert len(listed) == MANY
    assert sorted(item.name for item in listed) == [name for name, _ in files]
    assert len({item.id for item in listed}) == MANY
    assert all(item.parent_id == folder.id for item in listed)


# -- upload and download ------------------------------------------------------------------
def test_large_file_takes_the_chunked_path_and_reads_back(target, provider):
    data = hashlib.sha256(b"seed").digest() * (LARGE_SIZE // 32) + b"tail" * 1000
    data = data[:LARGE_SIZE]
    faults = _faults(target)
    item = provider.upload(provider.root_id, "large.bin", io.BytesIO(data), len(data))
    assert item.size == LARGE_SIZE
    if provider.resumable_upload:
        assert provider.chunk_threshold < LARGE_SIZE
        assert max(faults.body_sizes) < LARGE_SIZE, "one request carried the whole file"
        assert sum(faults.body_sizes) >= LARGE_SIZE
    assert _digest(target.read_direct(item)) == _digest(data)
    if item.content_hash is not None:
        assert item.content_hash == hash_bytes(item.hash_type, data)
    chunks = list(provider.download(item.id))
    assert len(chunks) > 1
    assert max(len(chunk) for chunk in chunks) <= provider.download_chunk_size
    assert _digest(b"".join(chunks)) == _digest(data)


def _random_file(path, size) -> str:
    """Write ``size`` random bytes to ``path`` in blocks; their SHA-256."""
    digest = hashlib.sha256()
    with open(path, "wb") as out:
        for start in range(0, size, 1 << 20):
            block = os.urandom(min(1 << 20, size - start))
            digest.update(block)
            out.write(block)
    return digest.hexdigest()


def test_upload_from_a_file_streams_in_bounded_memory(provider, tmp_path):
    """An upload from a file object holds a few chunks, never the file: the peak of
    Python memory while uploading a file three times larger grows by less than a quarter
    of the difference (holding the bytes would grow by all of it) and stays below half
    the larger file. Measured in a process of its own (the local server shares this one
    and keeps what it receives)."""
    peaks = {}
    for size in (LARGE_SIZE, 3 * LARGE_SIZE):
        path = tmp_path / f"{size}.bin"
        digest = _random_file(path, size)
        result = probe_upload(provider, path, f"large {size}.bin")
        path.unlink()
        peaks[size] = result["peak"]
        assert result["size"] == size
        read = hashlib.sha256()
        for chunk in provider.download(result["id"]):
            read.update(chunk)
        assert read.hexdigest() == digest
        provider.delete(result["id"])
    growth = peaks[3 * LARGE_SIZE] - peaks[LARGE_SIZE]
    mib = {size >> 20: round(peak / 2**20, 1) for size, peak in peaks.items()}
    assert growth < 2 * LARGE_SIZE / 4, f"peak MiB by file MiB: {mib}"
    assert peaks[3 * LARGE_SIZE] < 3 * LARGE_SIZE / 2, f"peak MiB by file MiB: {mib}"


def test_empty_file(target, provider):
    item = provider.upload_bytes(provider.root_id, "empty.txt", b"")
    assert item.size == 0 and item.kind == Kind.FILE
    assert target.read_direct(item) == b""
    assert provider.read_bytes(item.id) == b""
    assert provider.metadata(item.id).size == 0


def test_download_is_streamed_in_bounded_chunks(provider):
    size = provider.download_chunk_size * 2 + 17
    data = bytes(range(256)) * (size // 256 + 1)
    item = provider.upload_bytes(provider.root_id, "stream.bin", data[:size])
    chunks = list(provider.download(item.id))
    assert len(chunks) >= 3
    assert all(len(chunk) <= provider.download_chunk_size for chunk in chunks)
    assert b"".join(chunks) == data[:size]


# -- names --------------------------------------------------------------------------------
UNICODE_NAMES = [
    "Résumé naïve café.txt",
    "日本語のファイル.txt",
    "emoji 😀🎉 party.txt",
    "שלום עולם.txt",  # right-to-left
    "مرحبا بالعالم.pdf",
]


def test_unicode_emoji_and_rtl_names(target, provider):
    folder = provider.create_folder(provider.root_id, "Dossier 📁 ملف")
    assert folder.name == "Dossier 📁 ملف"
    items = {name: provider.upload_bytes(folder.id, name, name.encode()) for name in UNICODE_NAMES}
    listed = _children(provider, folder.id)
    assert sorted(listed) == sorted(UNICODE_NAMES)
    for name, item in items.items():
        assert item.name == name
        assert provider.metadata(item.id).name == name
        assert target.read_direct(item) == name.encode()
    assert _children(provider, provider.root_id)["Dossier 📁 ملف"].id == folder.id


def test_names_are_sanitised_with_the_provider_rules(target, provider):
    raw = "a/b\\c " + provider.name_rules.forbidden_chars + "d.txt  "
    expected = provider.safe_name(raw)
    assert expected != raw and "/" not in expected
    item = provider.upload_bytes(provider.root_id, raw, b"sanitised")
    assert item.name == expected
    assert expected in _children(provider, provider.root_id)
    assert target.read_direct(item) == b"sanitised"
    folder = provider.create_folder(provider.root_id, "x/y")
    assert folder.name == provider.safe_name("x/y")
    assert provider.metadata(folder.id).name == folder.name


def test_name_clash_among_siblings(target, provider):
    first = provider.upload_bytes(provider.root_id, "same.txt", b"first")
    if provider.unique_names:
        with pytest.raises(NameTaken):
            provider.upload_bytes(provider.root_id, "same.txt", b"second")
        assert target.read_direct(first) == b"first", "a refused upload changed the file"
        provider.create_folder(provider.root_id, "Same folder")
        with pytest.raises(NameTaken):
            provider.create_folder(provider.root_id, "Same folder")
        if not provider.name_rules.case_sensitive:
            with pytest.raises(NameTaken):
                provider.upload_bytes(provider.root_id, "SAME.TXT", b"third")
    else:
        second = provider.upload_bytes(provider.root_id, "same.txt", b"second")
        assert second.id != first.id
        named = [c for c in provider.list_children(provider.root_id) if c.name == "same.txt"]
        assert len(named) == 2
        assert target.read_direct(first) == b"first"


# -- update, rename, move, delete ---------------------------------------------------------
def test_update_replaces_content(target, provider):
    item = provider.upload_bytes(provider.root_id, "notes.txt", b"version one")
    new = provider.update(item.id, io.BytesIO(b"version two, longer"), 19)
    assert new.id == item.id
    assert new.version and new.version != item.version
    assert new.size == 19
    assert target.read_direct(new) == b"version two, longer"
    assert provider.metadata(item.id).size == 19
    if provider.hash_type:
        assert new.content_hash == hash_bytes(provider.hash_type, b"version two, longer")


def test_rename_file(target, provider):
    item = provider.upload_bytes(provider.root_id, "before.txt", b"rename me")
    renamed = provider.rename(item.id, "after.txt")
    assert renamed.name == "after.txt" and renamed.parent_id == provider.root_id
    assert provider.metadata(renamed.id).name == "after.txt"
    names = _children(provider, provider.root_id)
    assert "after.txt" in names and "before.txt" not in names
    assert target.read_direct(renamed) == b"rename me"
    if renamed.id != item.id:
        assert not provider.exists(item.id)


def test_rename_folder_keeps_children(target, provider):
    folder = provider.create_folder(provider.root_id, "Old name")
    child = provider.upload_bytes(folder.id, "child.txt", b"child")
    renamed = provider.rename(folder.id, "New name")
    assert renamed.name == "New name" and renamed.is_folder
    names = _children(provider, provider.root_id)
    assert "New name" in names and "Old name" not in names
    moved_child = _children(provider, renamed.id)["child.txt"]
    assert moved_child.parent_id == renamed.id
    assert target.read_direct(moved_child) == b"child"
    if moved_child.id != child.id:
        assert not provider.exists(child.id)


def test_move_file(target, provider):
    a = provider.create_folder(provider.root_id, "A")
    b = provider.create_folder(provider.root_id, "B")
    item = provider.upload_bytes(a.id, "moving.txt", b"moving")
    moved = provider.move(item.id, b.id)
    assert moved.parent_id == b.id and moved.name == "moving.txt"
    assert "moving.txt" not in _children(provider, a.id)
    assert _children(provider, b.id)["moving.txt"].id == moved.id
    assert target.read_direct(moved) == b"moving"
    both = provider.move(moved.id, a.id, "moved and renamed.txt")
    assert both.parent_id == a.id and both.name == "moved and renamed.txt"
    assert target.read_direct(both) == b"moving"


def test_move_folder_keeps_its_tree(target, provider):
    outer = provider.create_folder(provider.root_id, "Outer")
    inner = provider.create_folder(outer.id, "Inner")
    provider.upload_bytes(inner.id, "deep.txt", b"deep")
    dest = provider.create_folder(provider.root_id, "Destination")
    moved = provider.move(outer.id, dest.id)
    assert moved.parent_id == dest.id and moved.name == "Outer"
    assert "Outer" not in _children(provider, provider.root_id)
    below = {item.name: item for item in provider.walk(moved.id)}
    assert set(below) == {"Inner", "deep.txt"}
    assert below["deep.txt"].parent_id == below["Inner"].id
    assert target.read_direct(below["deep.txt"]) == b"deep"


def test_delete_file(provider):
    item = provider.upload_bytes(provider.root_id, "doomed.txt", b"bye")
    provider.delete(item.id)
    with pytest.raises(NotFound):
        provider.metadata(item.id)
    assert "doomed.txt" not in _children(provider, provider.root_id)
    with pytest.raises(NotFound):
        provider.delete(item.id)


def test_delete_folder_with_content(provider):
    folder = provider.create_folder(provider.root_id, "Doomed folder")
    provider.upload_bytes(folder.id, "inside.txt", b"inside")
    provider.delete(folder.id)
    with pytest.raises(NotFound):
        provider.metadata(folder.id)
    assert "Doomed folder" not in _children(provider, provider.root_id)


# -- metadata, links, hashes --------------------------------------------------------------
def test_metadata(provider):
    folder = provider.create_folder(provider.root_id, "Meta")
    item = provider.upload_bytes(folder.id, "meta.txt", b"metadata!")
    meta = provider.metadata(item.id)
    assert (meta.id, meta.name, meta.kind, meta.parent_id) == (
        item.id, "meta.txt", Kind.FILE, folder.id)
    assert meta.size == 9 and meta.version
    folder_meta = provider.metadata(folder.id)
    assert (folder_meta.name, folder_meta.kind, folder_meta.parent_id) == (
        "Meta", Kind.FOLDER, provider.root_id)


def _web_session(target, signed_in: bool) -> requests.Session:
    """A browser-like session: the signed-in owner (``extra["web_session"]`` where the
    server needs credentials, e.g. WebDAV), or an anonymous visitor that keeps no
    cookies, so a link that needs a sign-in cannot open for it."""
    make = target.extra.get("web_session")
    session = make() if signed_in and make else requests.Session()
    if not signed_in:
        session.cookies.set_policy(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
    return session


def _follow(session: requests.Session, url: str) -> requests.Response:
    """GET the link through the local server, following redirects, as a browser would."""
    assert url.startswith(("http://", "https://")), url
    answer = session.get(url, timeout=10, verify=ca_bundle() if url.startswith("https") else True)
    assert answer.status_code == 200, (url, answer.status_code, answer.text[:200])
    return answer


def _assert_opens(answer: requests.Response, name: str, data: bytes, is_content: bool):
    """The link gives the content, or a page that names the item."""
    if is_content:
        assert answer.content == data
    else:
        assert "text/html" in answer.headers.get("Content-Type", "")
        assert html.escape(name) in answer.text, answer.text[:300]


def test_internal_link(target, provider):
    data = b"link"
    item = provider.upload_bytes(provider.root_id, "linked & named.txt", data)
    answer = _follow(_web_session(target, True), provider.link(item.id, public=False))
    _assert_opens(answer, "linked & named.txt", data, provider.internal_link_is_content)


def test_public_link(target, provider):
    data = b"public content"
    item = provider.upload_bytes(provider.root_id, "public.txt", data)
    if not provider.has_public_links:
        with pytest.raises(CloudError):
            provider.link(item.id, public=True)
        return
    answer = _follow(_web_session(target, False), provider.link(item.id, public=True))
    _assert_opens(answer, "public.txt", data, provider.public_link_is_content)


def test_link_options_it_cannot_honour_are_refused(provider):
    """A link option the provider has no way to honour fails instead of a wider link."""
    item = provider.upload_bytes(provider.root_id, "options.txt", b"options")
    for option, value in (("audience", "organization"), ("expires_in", 60)):
        if option not in provider.link_options:
            with pytest.raises(CloudError):
                provider.link(item.id, public=provider.has_public_links, **{option: value})


def test_content_hashes(provider):
    data = b"hash me " * 1000
    item = provider.upload_bytes(provider.root_id, "hashed.txt", data)
    listed = _children(provider, provider.root_id)["hashed.txt"]
    meta = provider.metadata(item.id)
    if provider.hash_type is None:
        assert item.content_hash is None and meta.content_hash is None
        return
    expected = hash_bytes(provider.hash_type, data)
    for seen in (item, listed, meta):
        assert seen.hash_type == provider.hash_type
        assert seen.content_hash == expected


# -- change feed --------------------------------------------------------------------------
def test_change_feed_reports_each_kind_once(provider):
    root = provider.root_id
    sub = provider.create_folder(root, "target folder")
    b = provider.upload_bytes(root, "b.txt", b"b: to be updated")
    c = provider.upload_bytes(root, "c.txt", b"c: to be renamed")
    d = provider.upload_bytes(root, "d.txt", b"d: to be moved")
    e = provider.upload_bytes(root, "e.txt", b"e: to be deleted")
    cursor = provider.initial_cursor()
    a = provider.upload_bytes(root, "a.txt", b"a: created")
    provider.update(b.id, io.BytesIO(b"b: updated!"), 11)
    c2 = provider.rename(c.id, "c renamed.txt")
    d2 = provider.move(d.id, sub.id)
    provider.delete(e.id)
    changes, _ = provider.changes(cursor)

    expected = {a.id: ChangeType.CREATED, b.id: ChangeType.UPDATED,
                c2.id: ChangeType.RENAMED, d2.id: ChangeType.MOVED, e.id: ChangeType.DELETED}
    seen = defaultdict(list)
    for change in changes:
        if change.item.id in expected:
            seen[change.item.id].append(change.type)
        elif not (change.item.is_folder and change.type == ChangeType.UPDATED):
            pytest.fail(f"unexpected change {change}")
    assert dict(seen) == {item_id: [kind] for item_id, kind in expected.items()}
    by_id = {change.item.id: change for change in changes}
    assert by_id[c2.id].item.name == "c renamed.txt"
    assert by_id[d2.id].item.parent_id == sub.id


def _keys(changes):
    return sorted((change.type.value, change.item.id) for change in changes)


def test_write_direct_is_an_edit_the_provider_sees(target, provider):
    """The benchmark's remote change (``extra["write_direct"]``, the raw SDK or HTTP) is a
    real edit of the file in place: the change feed reports it updated under the same id,
    and the provider and the independent path read the new content."""
    item = provider.upload_bytes(provider.root_id, "edited.txt", b"before")
    cursor = provider.initial_cursor()
    target.extra["write_direct"](item.id, b"after, and longer")
    changes, _ = provider.changes(cursor)
    assert ("updated", item.id) in _keys(changes)
    assert b"".join(provider.download(item.id)) == b"after, and longer"
    assert target.read_direct(item) == b"after, and longer"


def test_change_feed_cursor_resumes(provider):
    cursor = provider.initial_cursor()
    item = provider.upload_bytes(provider.root_id, "new.txt", b"new")
    first, next_cursor = provider.changes(cursor)
    assert ("created", item.id) in _keys(first)
    again, _ = provider.changes(cursor)
    assert _keys(again) == _keys(first)
    assert provider.changes(next_cursor)[0] == []


def test_advance_past_own_writes(provider):
    """``advance`` moves a cursor past the caller's own writes (or says it cannot, and
    ``changes`` reports them); anyone else's change since the cursor is still reported,
    and so is a later deletion of a file the caller wrote."""
    root = provider.root_id
    edited = provider.upload_bytes(root, "edited.txt", b"v1")
    doomed = provider.upload_bytes(root, "doomed.txt", b"doomed")
    moving = provider.upload_bytes(root, "moving.txt", b"moving")
    cursor = provider.initial_cursor()
    foreign = provider.upload_bytes(root, "foreign.txt", b"not in the writes")
    folder = provider.create_folder(root, "ours")
    new = provider.upload_bytes(folder.id, "new.txt", b"new")
    updated = provider.update(edited.id, io.BytesIO(b"v2, longer"), 10)
    moved = provider.move(moving.id, folder.id)
    provider.delete(doomed.id)
    writes = [Change(ChangeType.CREATED, folder), Change(ChangeType.CREATED, new),
              Change(ChangeType.UPDATED, updated),
              Change(ChangeType.MOVED, moved, old_parent_id=root, old_id=moving.id),
              Change(ChangeType.DELETED, doomed)]
    advanced = provider.advance(cursor, writes)
    if advanced is None:  # the feed reports the writes itself
        changes, advanced = provider.changes(cursor)
        assert {("created", new.id), ("created", foreign.id)} <= set(_keys(changes))
    else:
        changes, advanced = provider.changes(advanced)
        assert [key for key in _keys(changes) if key[0] != "updated"
                or not provider.metadata(key[1]).is_folder] == [("created", foreign.id)]
    provider.delete(new.id)
    changes, _ = provider.changes(advanced)
    assert ("deleted", new.id) in _keys(changes)


def test_expired_cursor_raises_and_a_full_listing_recovers(target, provider):
    before = provider.upload_bytes(provider.root_id, "before.txt", b"before")
    cursor = provider.initial_cursor()
    during = provider.upload_bytes(provider.root_id, "during.txt", b"during")
    target.expire_cursors()
    with pytest.raises(CursorExpired):
        provider.changes(cursor)
    # recovery: list everything again, then follow a fresh cursor
    assert {before.id, during.id} <= {item.id for item in provider.walk()}
    fresh = provider.initial_cursor()
    after = provider.upload_bytes(provider.root_id, "after.txt", b"after")
    changes, _ = provider.changes(fresh)
    assert _keys(changes) == [("created", after.id)]


# -- faults -------------------------------------------------------------------------------
def _listing_after_fault(target, provider, plan) -> tuple[float, set]:
    provider.upload_bytes(provider.root_id, "present.txt", b"present")
    faults = _faults(target)
    plan(faults)
    start = time.monotonic()
    names = {item.name for item in provider.list_children(provider.root_id)}
    return time.monotonic() - start, names


def test_throttling_429_honours_retry_after(target, provider):
    elapsed, names = _listing_after_fault(
        target, provider, lambda faults: faults.throttle(retry_after=1, count=1))
    assert "present.txt" in names
    assert target.emulator.faults.injected["status"] == 1
    assert elapsed >= 1.0, f"Retry-After: 1 not honoured (retried after {elapsed:.2f} s)"


def test_server_errors_are_retried(target, provider):
    _, names = _listing_after_fault(
        target, provider, lambda faults: faults.inject(503, count=2))
    assert "present.txt" in names
    assert target.emulator.faults.injected["status"] == 2


def test_timeouts_are_retried(target):
    provider = target.new_provider(config={"timeout": 0.5}, retry=fast_retry())
    try:
        elapsed, names = _listing_after_fault(
            target, provider, lambda faults: faults.inject_timeout(3, count=1))
    finally:
        provider.close()
    assert "present.txt" in names
    assert target.emulator.faults.injected["timeout"] == 1
    assert elapsed < 2.5, "the client waited for the server instead of timing out"


def test_expired_token_is_refreshed(target):
    refreshed = []
    provider = target.new_provider(retry=fast_retry(), on_token_refresh=refreshed.append)
    try:
        # collected only for providers that refresh tokens (tests/test_conformance.py);
        # the others prove test_rejected_credentials_raise_reauth_required instead
        assert provider.refreshes_tokens
        _, names = _listing_after_fault(
            target, provider, lambda faults: faults.expire_token(count=1))
    finally:
        provider.close()
    assert "present.txt" in names
    assert target.emulator.faults.injected["expired_token"] == 1
    assert len(refreshed) == 1 and refreshed[0]


# Every kind of operation meets a fault on its first request: a 429 with Retry-After
# (the server did not run it: every provider must retry and succeed) or a 503 (retried
# where the provider may, else the typed RetryLater); either way the outcome is checked
# on the server and nothing is written twice.
OPERATIONS = ("create_folder", "upload", "update", "download", "metadata", "list", "rename",
              "move", "delete", "changes")


def _operation(target, provider, name: str):
    """(prepare, run, check) for one kind of operation on a fresh root."""
    root = provider.root_id
    state: dict = {}

    def prepare():
        state["file"] = provider.upload_bytes(root, "f.txt", b"original")
        state["dest"] = provider.create_folder(root, "dest")
        if name == "changes":
            state["cursor"] = provider.initial_cursor()
            state["new"] = provider.upload_bytes(root, "new.txt", b"new")

    file = lambda: state["file"]  # noqa: E731 - read after prepare()
    runs = {
        "create_folder": lambda: provider.create_folder(root, "made"),
        "upload": lambda: provider.upload_bytes(root, "up.txt", b"uploaded"),
        "update": lambda: provider.update(file().id, io.BytesIO(b"updated")),
        "download": lambda: provider.read_bytes(file().id),
        "metadata": lambda: provider.metadata(file().id),
        "list": lambda: _children(provider, root),
        "rename": lambda: provider.rename(file().id, "renamed.txt"),
        "move": lambda: provider.move(file().id, state["dest"].id),
        "delete": lambda: provider.delete(file().id),
        "changes": lambda: provider.changes(state["cursor"]),
    }

    def check(result):
        names = [item.name for item in provider.list_children(root)]
        assert len(names) == len(set(names)), f"written twice: {sorted(names)}"
        moved = {"rename": "renamed.txt", "move": None, "delete": None}
        expected = {"f.txt", "dest"} | ({"new.txt"} if name == "changes" else set())
        if name in moved:
            expected.discard("f.txt")
            expected |= {moved[name]} - {None}
        expected |= {"create_folder": {"made"}, "upload": {"up.txt"}}.get(name, set())
        assert set(names) == expected
        if name == "upload":
            assert target.read_direct(result) == b"uploaded"
        if name == "update":
            assert target.read_direct(result) == b"updated"
        if name == "download":
            assert result == b"original"
        if name == "metadata":
            assert (result.id, result.name) == (file().id, "f.txt")
        if name == "list":
            assert set(result) == expected
        if name == "move":
            assert [c.name for c in provider.list_children(state["dest"].id)] == ["f.txt"]
        if name == "changes":
            assert state["new"].id in {c.item.id for c in result[0]}

    return prepare, runs[name], check


@pytest.mark.parametrize("operation", OPERATIONS)
def test_throttled_operation_is_retried(target, provider, operation):
    prepare, run, check = _operation(target, provider, operation)
    prepare()
    faults = _faults(target)
    faults.throttle(retry_after=0.05, count=1)  # honouring it: see test_throttling_429...
    result = run()
    assert faults.injected["status"] == 1 and faults.faulted == [0]
    check(result)


@pytest.mark.parametrize("operation", OPERATIONS)
def test_server_error_on_an_operation_is_retried_or_typed(target, provider, operation):
    prepare, run, check = _operation(target, provider, operation)
    prepare()
    faults = _faults(target)
    faults.inject(503, count=1)
    try:
        result = run()
    except RetryLater:  # not retried (not idempotent): the typed error, nothing done
        assert faults.injected["status"] == 1
        result = run()  # the caller's next attempt
    assert faults.injected["status"] == 1
    check(result)


def test_a_fault_in_the_middle_of_a_chunked_upload(target, provider):
    """A 503 on a request in the middle of the upload (a chunk, for providers that upload
    in chunks): the upload recovers or raises RetryLater, and either way the bytes that
    end up on the server are the file's, once."""
    data = hashlib.sha256(b"middle").digest() * (LARGE_SIZE // 32)
    faults = _faults(target)
    faults.inject(503, count=1, after=2 if provider.resumable_upload else 0)
    try:
        item = provider.upload(provider.root_id, "middle.bin", io.BytesIO(data), len(data))
    except RetryLater:
        item = provider.upload(provider.root_id, "middle.bin", io.BytesIO(data), len(data))
    assert faults.injected["status"] == 1
    if provider.resumable_upload:
        [position] = faults.faulted
        assert 0 < position < len(faults.log) - 1, "the fault was not in the middle"
    assert _digest(target.read_direct(item)) == _digest(data)
    assert [c.name for c in provider.list_children(provider.root_id)] == ["middle.bin"]


def test_a_download_cut_mid_stream(target, provider):
    """The connection closes after 1.5 MiB of a 3 MiB download (one chunk already handed
    out): the provider recovers or raises RetryLater, never a foreign error, and the
    caller's next download gives the file's bytes, once."""
    data = hashlib.sha256(b"cut").digest() * (3 * 1024 * 1024 // 32)
    item = provider.upload_bytes(provider.root_id, "cut.bin", data)
    faults = _faults(target)
    faults.cut_response(3 * 1024 * 1024 // 2, count=1)
    got = bytearray()
    try:
        for chunk in provider.download(item.id):
            got += chunk
    except RetryLater:
        assert len(got) < len(data)
        got = bytearray(provider.read_bytes(item.id))  # the caller starts over
    assert faults.injected["cut"] == 1
    assert _digest(bytes(got)) == _digest(data)


def _until_done(run, tries=6):
    """The caller's own retry (the queue's next round) of a typed RetryLater."""
    for attempt in range(tries):
        try:
            return run()
        except RetryLater:
            if attempt == tries - 1:
                raise
    return None


def test_random_faults_with_timeouts_on_every_operation(target):
    """A fifth of all requests meet a 429, a 503 or a timeout (the server holds the
    request 1 s, the client waits 0.4 s): every operation recovers or raises RetryLater,
    and what ends on the server is each operation's result, once."""
    provider = target.new_provider(config={"timeout": 0.4}, retry=fast_retry())
    try:
        root = provider.root_id
        faults = _faults(target)
        faults.random_faults(0.2, seed=11, kinds=("429", "503", "timeout"), timeout=1.0)
        cursor = _until_done(provider.initial_cursor)
        folder = _until_done(lambda: _made(provider, root, "box"))
        file = _until_done(lambda: _uploaded(provider, root, "a.txt", b"a" * 1000))
        _until_done(lambda: provider.update(file.id, io.BytesIO(b"b" * 2000)))
        renamed = _until_done(lambda: provider.rename(file.id, "b.txt"))
        moved = _until_done(lambda: provider.move(renamed.id, folder.id))
        assert _until_done(lambda: provider.read_bytes(moved.id)) == b"b" * 2000
        doomed = _until_done(lambda: _uploaded(provider, root, "doomed.txt", b"x"))
        _until_done(lambda: _deleted(provider, doomed.id))
        _until_done(lambda: provider.changes(cursor))
        injected = dict(faults.injected)
        faults.clear()
    finally:
        target.emulator.faults.clear()
        provider.close()
    assert sorted(c.name for c in provider.list_children(root)) == ["box"]
    [inside] = provider.list_children(folder.id)
    assert inside.name == "b.txt" and provider.read_bytes(inside.id) == b"b" * 2000
    assert injected.get("timeout", 0) >= 1 and sum(injected.values()) >= 3, injected


def _made(provider, parent_id, name):
    """Create a folder; after an ambiguous failure the retry finds the one made."""
    existing = _children(provider, parent_id).get(name)
    return existing or provider.create_folder(parent_id, name)


def _uploaded(provider, parent_id, name, data):
    existing = _children(provider, parent_id).get(name)
    return existing or provider.upload_bytes(parent_id, name, data)


def _deleted(provider, item_id):
    with contextlib.suppress(NotFound):  # an earlier attempt deleted it, answer lost
        provider.delete(item_id)


class _Killed(Exception):
    """The worker died (raised by the stream: nothing after it runs)."""


class _DyingFile(io.BytesIO):
    """A file whose reads fail from ``limit`` on: a worker killed in the middle of an
    upload, after the chunks read before it were sent."""

    def __init__(self, data: bytes, limit: int):
        super().__init__(data)
        self.limit = limit

    def read(self, size=-1):
        if self.tell() >= self.limit:
            raise _Killed
        return super().read(size)


def _interrupted(provider, data: bytes) -> list:
    """Upload ``data`` until the stream dies halfway; the states the provider saved."""
    saved = []
    resume = Resume(save=saved.append)
    with pytest.raises(_Killed):
        provider.upload(provider.root_id, "resumed.bin", _DyingFile(data, len(data) // 2),
                        len(data), resume=resume)
    return saved


def test_an_interrupted_upload_resumes_in_a_later_run(target, provider):
    """A chunked upload killed halfway continues, in a later attempt given the state the
    first one saved, after the chunks the server committed: no byte goes twice, and the
    file is right. Providers without sessions that outlive a run (``resumes_uploads``
    false) save nothing and send everything again."""
    data = os.urandom(LARGE_SIZE)
    faults = _faults(target)
    saved = _interrupted(provider, data)
    first = sum(faults.body_sizes)
    faults.reset_counts()
    finished = []
    resume = Resume(saved[-1] if saved else None, finished.append)
    # no sessions: the restart sends everything (under another name: a plain WebDAV
    # server such as wsgidav may keep the killed PUT's truncated file)
    name = "resumed.bin" if provider.resumes_uploads else "restarted.bin"
    item = provider.upload(provider.root_id, name, io.BytesIO(data), len(data),
                           resume=resume)
    second = sum(faults.body_sizes)
    assert _digest(target.read_direct(item)) == _digest(data)
    assert item.size == len(data)
    if not provider.resumes_uploads:
        assert saved == [] and second >= len(data)
        return
    assert [c.name for c in provider.list_children(provider.root_id)] == ["resumed.bin"]
    assert saved and saved[-1] is not None and json.loads(json.dumps(saved[-1])) == saved[-1]
    # Sizes are the requests' Content-Length: a chunk cut by the crash in the middle of
    # its body (Drive's client streams each chunk from the file) counts whole. So: at
    # least one committed chunk (4 MiB or more) is not sent again, and nothing but the
    # cut chunk goes twice (the rest is small JSON or XML bodies).
    assert 0 < second <= len(data) - 4 * 1024 * 1024
    assert len(data) <= first + second <= len(data) + CUT_CHUNK
    assert finished[-1] is None  # the state is dropped once the file is there


def test_a_forgotten_upload_session_starts_over(target, provider):
    """A saved state whose session the server no longer knows (expired, aborted) is
    dropped and the upload starts afresh; the file is right."""
    data = os.urandom(LARGE_SIZE)
    saved = _interrupted(provider, data)
    if not provider.resumes_uploads:
        assert saved == []
        return
    forgotten = {key: value + "0" if isinstance(value, str) and key not in (
        "provider", "target") else value for key, value in saved[-1].items()}
    faults = _faults(target)
    states = []
    item = provider.upload(provider.root_id, "resumed.bin", io.BytesIO(data), len(data),
                           resume=Resume(forgotten, states.append))
    assert _digest(target.read_direct(item)) == _digest(data)
    assert sum(faults.body_sizes) >= len(data)
    assert states[0] is None  # the stale state was dropped before a new session
    assert any(states[1:-1]), "the new session was not saved (a later crash could not resume)"
    assert states[-1] is None


def test_an_abandoned_upload_session_is_aborted(target, provider):
    """The session of an upload nobody will finish (its file deleted or changed) is
    ended on the server where the provider can; the state is useless afterwards."""
    data = os.urandom(LARGE_SIZE)
    saved = _interrupted(provider, data)
    if not provider.resumes_uploads:
        assert saved == []
        return
    state = saved[-1]
    if not provider.aborts_uploads:
        assert provider.abort_upload(state) is False  # the session expires by itself
        return
    assert provider.abort_upload(state) is True
    assert provider.abort_upload(state) is False, "a session already ended is not an error"
    faults = _faults(target)
    states = []
    item = provider.upload(provider.root_id, "resumed.bin", io.BytesIO(data), len(data),
                           resume=Resume(state, states.append))
    assert sum(faults.body_sizes) >= len(data), "the aborted session was continued"
    assert states[0] is None  # the server no longer knew it: dropped, a new one started
    assert _digest(target.read_direct(item)) == _digest(data)


def test_rejected_credentials_raise_reauth_required(target, provider):
    provider.upload_bytes(provider.root_id, "present.txt", b"present")
    faults = _faults(target)
    faults.expire_token(count=50)  # every attempt, refreshes included, is refused
    with pytest.raises(ReauthRequired):
        list(provider.list_children(provider.root_id))
    assert faults.injected["expired_token"] < 50, "no bound on re-authentication attempts"
    faults.clear()
    assert "present.txt" in _children(provider, provider.root_id)


# -- the cloud picker: pages, search, copy ----------------------------------------------
def test_list_page_gives_every_child_once(provider):
    folder = provider.create_folder(provider.root_id, "Paged")
    names = {f"file {n:02d}.txt" for n in range(7)}
    for name in sorted(names):
        provider.upload_bytes(folder.id, name, name.encode())
    provider.create_folder(folder.id, "Sub")
    seen, token, pages = [], None, 0
    while True:
        items, token = provider.list_page(folder.id, token, limit=3)
        assert len(items) <= 3
        seen += [item.name for item in items]
        pages += 1
        if token is None:
            break
        assert pages < 10, "list_page never ends"
    assert sorted(seen) == sorted(names | {"Sub"}), "a child was missed or given twice"
    assert pages >= 3
    assert all(item.parent_id == folder.id for item in provider.list_page(folder.id)[0])


def test_search_by_name_beneath_the_root(target, provider):
    if not provider.can_search:
        with pytest.raises(Unsupported):
            provider.search("anything")
        return
    deep = provider.ensure_folder(provider.ensure_folder(provider.root_id, "Deals").id, "2026")
    wanted = provider.upload_bytes(deep.id, "Signed Contract ACME.pdf", b"%PDF contract")
    provider.upload_bytes(provider.root_id, "Invoice.pdf", b"%PDF invoice")
    found = provider.search("contract acme")
    assert [item.id for item in found] == [wanted.id], found
    assert found[0].name == "Signed Contract ACME.pdf" and found[0].parent_id == deep.id
    assert provider.search("no such name anywhere") == []
    # Beneath the root only: a file under another connection's root is never found.
    other = target.new_provider(retry=fast_retry())
    try:
        stranger = other.upload_bytes(other.root_id, "Contract ACME copy.pdf", b"%PDF other")
        assert stranger.id not in {item.id for item in provider.search("Contract")}
    finally:
        other.close()


def test_copy_leaves_the_source_and_makes_a_new_file(target, provider):
    source = provider.upload_bytes(provider.root_id, "original.txt", b"copy me please")
    folder = provider.create_folder(provider.root_id, "Copies")
    requests_before = provider.requests
    copied = provider.copy(source.id, folder.id)
    assert copied.id != source.id and not copied.is_folder
    assert copied.name == "original.txt" and copied.parent_id == folder.id
    assert target.read_direct(copied) == b"copy me please"
    assert provider.read_bytes(source.id) == b"copy me please"
    renamed = provider.copy(source.id, folder.id, "renamed copy.txt")
    assert renamed.name == "renamed copy.txt"
    assert sorted(_children(provider, folder.id)) == ["original.txt", "renamed copy.txt"]
    if provider.server_side_copy:  # no download: a handful of requests, not a transfer
        assert provider.requests - requests_before <= 12


# -- versions -----------------------------------------------------------------------------
def test_versions_list_download_and_restore(target, provider):
    item = provider.upload_bytes(provider.root_id, "versioned.txt", b"first content")
    if not provider.has_versions:
        for call in (lambda: provider.versions(item.id),
                     lambda: list(provider.download_version(item.id, "1")),
                     lambda: provider.restore_version(item.id, "1")):
            with pytest.raises(Unsupported):
                call()
        return
    time.sleep(0.01)  # distinct modification times where the server has a clock
    provider.update(item.id, io.BytesIO(b"second, longer content"), 22)
    versions = provider.versions(item.id)
    assert all(isinstance(v, Version) for v in versions)
    assert len(versions) >= 2 and versions[0].current and not any(v.current for v in versions[1:])
    assert versions[0].size == 22 and versions[-1].size == 13
    assert b"".join(provider.download_version(item.id, versions[0].id)) == b"second, longer content"
    old = versions[-1]
    assert b"".join(provider.download_version(item.id, old.id)) == b"first content"
    restored = provider.restore_version(item.id, old.id)
    assert provider.read_bytes(restored.id) == b"first content"
    assert target.read_direct(restored) == b"first content"
    assert restored.size == 13 and restored.name == "versioned.txt"
    after = provider.versions(restored.id)
    assert after[0].current and after[0].size == 13
    kept = [b"".join(provider.download_version(restored.id, v.id)) for v in after[1:]]
    assert b"second, longer content" in kept, "restoring lost the content it replaced"
    with pytest.raises(NotFound):
        list(provider.download_version(item.id, "no-such-version"))


def test_a_version_of_another_file_is_not_found(provider):
    """A version id of another file (Dropbox revs, S3 version ids, Box version ids and
    Drive revision ids are not numbered per file) is no version of this one: read or
    restored, it is NotFound, and this file keeps its content."""
    if not provider.has_versions:
        with pytest.raises(Unsupported):
            provider.versions(provider.root_id)
        return
    one = provider.upload_bytes(provider.root_id, "one.txt", b"one")
    two = provider.upload_bytes(provider.root_id, "two.txt", b"two")
    provider.update(two.id, io.BytesIO(b"two, again"), 10)
    # Graph ("1.0", "2.0") and Nextcloud (timestamps) number versions per file: an id
    # of the other file that is also one of this file's names this file's own version.
    mine = {v.id for v in provider.versions(one.id)}
    for other in {v.id for v in provider.versions(two.id)} - mine:
        with pytest.raises(NotFound):
            list(provider.download_version(one.id, other))
        with pytest.raises(NotFound):
            provider.restore_version(one.id, other)
    assert provider.read_bytes(one.id) == b"one"


__all__ = [name for name in dir() if name.startswith("test_")]
