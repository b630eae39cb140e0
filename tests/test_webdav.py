"""WebDAV provider specifics, on webdavclient3 against real wsgidav and Apache mod_dav.

The conformance suite covers the contract; this covers what is particular to WebDAV:
calls per operation, the status -> typed error table, the snapshot change feed (moves
paired by ETag, the Depth-1 walk where Depth: infinity is refused), cursors kept in the
state folder, configuration, TLS, names cut to 255 bytes, and the emulator CLI.
"""

from __future__ import annotations

import io
import json
import os
import re
import socket
import subprocess
import sys
import time
from urllib.parse import quote

import pytest
import requests
from urllib3.exceptions import InsecureRequestWarning
from webdav3.client import WebDavXmlUtils

from cloud_sync.conformance.suite import fast_retry
from cloud_sync.conformance.targets.webdav import VARIANTS, open_target
from cloud_sync.emulators import webdav as webdav_emulators
from cloud_sync.emulators.tls import ca_bundle
from cloud_sync.providers.base import ChangeType, Kind
from cloud_sync.providers.errors import (
    CursorExpired,
    Fatal,
    NameTaken,
    NotFound,
    QuotaExceeded,
    ReauthRequired,
    RetryLater,
)
from cloud_sync.providers.webdav import (
    _PROPFIND_BODY,
    KEEP_SNAPSHOTS,
    MAX_NAME_BYTES,
    WALK_THREADS,
    WebDAVProvider,
    _parse_multistatus,
    _retry_after,
)
from cloud_sync.retry import NO_RETRY, RetryPolicy


@pytest.fixture(scope="module", params=VARIANTS)
def target(request, tmp_path_factory):
    with open_target(tmp_path_factory.mktemp(request.param), request.param) as opened:
        yield opened


@pytest.fixture
def provider(target):
    made = target.new_provider(retry=fast_retry())
    yield made
    target.emulator.faults.clear()
    made.close()


def _faults(target):
    faults = target.emulator.faults
    faults.clear()
    faults.reset_counts()
    return faults


def _methods(faults) -> list[str]:
    return [line.split(" ", 1)[0] for line in faults.log]


def _changes(provider, cursor):
    changes, _ = provider.changes(cursor)
    return [(c.type, c.item.id, c.old_id) for c in changes]


# -- calls per operation -----------------------------------------------------------------
def test_upload_is_one_put_plus_a_propfind_only_without_etag(target, provider):
    faults = _faults(target)
    provider.upload_bytes(provider.root_id, "one.txt", b"one call")
    methods = _methods(faults)
    assert methods[0] == "PUT"
    if target.extra["variant"] == "wsgidav":  # wsgidav answers a PUT with its ETag
        assert methods == ["PUT"]
    else:  # Apache does not: the version marker costs one PROPFIND
        assert methods == ["PUT", "PROPFIND"]


def test_name_taken_costs_no_extra_call_and_keeps_the_file(target, provider):
    first = provider.upload_bytes(provider.root_id, "taken.txt", b"original")
    faults = _faults(target)
    with pytest.raises(NameTaken) as raised:
        provider.upload_bytes(provider.root_id, "taken.txt", b"intruder")
    assert raised.value.status == 412
    assert _methods(faults) == ["PUT"]
    assert target.read_direct(first) == b"original"


def test_download_and_listing_are_one_request_each(target, provider):
    item = provider.upload_bytes(provider.root_id, "read.txt", b"read me")
    faults = _faults(target)
    assert provider.read_bytes(item.id) == b"read me"
    list(provider.list_children(provider.root_id))
    provider.metadata(item.id)
    assert _methods(faults) == ["GET", "PROPFIND", "PROPFIND"]


# -- errors --------------------------------------------------------------------------------
@pytest.mark.parametrize(("status", "error"), [
    (507, QuotaExceeded), (401, ReauthRequired), (403, ReauthRequired), (423, RetryLater),
    (502, RetryLater), (400, Fatal),
])
def test_status_table(target, status, error):
    provider = target.new_provider(retry=NO_RETRY)
    try:
        _faults(target).inject(status, match="PROPFIND")
        with pytest.raises(error) as raised:
            provider.metadata(provider.root_id)
        assert raised.value.status == status
    finally:
        target.emulator.faults.clear()
        provider.close()


def test_retry_after_in_seconds_or_as_an_http_date():
    when = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + 60))
    assert 55 <= _retry_after(when) <= 60
    assert _retry_after("2") == 2.0 and _retry_after("0.5") == 0.5
    assert _retry_after(None) is None and _retry_after("soon") is None


def test_throttled_upload_waits_and_sends_once_more(target, provider):
    faults = _faults(target)
    faults.throttle(retry_after=1, match="PUT")
    start = time.monotonic()
    item = provider.upload_bytes(provider.root_id, "throttled.txt", b"patience")
    assert time.monotonic() - start >= 1.0
    assert target.read_direct(item) == b"patience"
    assert _methods(faults).count("PUT") == 2


def test_missing_parent_missing_item_and_vanished_update(provider):
    with pytest.raises(NotFound):
        provider.upload_bytes(provider.root_id + "/no such folder", "x.txt", b"x")
    with pytest.raises(NotFound):
        provider.create_folder(provider.root_id + "/no/such", "x")
    with pytest.raises(NotFound):
        provider.read_bytes(provider.root_id + "/missing.txt")
    # update never recreates a file somebody deleted (PUT If-Match: *)
    item = provider.upload_bytes(provider.root_id, "gone.txt", b"soon gone")
    provider.delete(item.id)
    with pytest.raises(NotFound):
        provider.update(item.id, io.BytesIO(b"back?"))
    assert not provider.exists(item.id)


def test_rename_onto_a_sibling_is_name_taken_and_changes_nothing(target, provider):
    a = provider.upload_bytes(provider.root_id, "a.txt", b"a")
    b = provider.upload_bytes(provider.root_id, "b.txt", b"b")
    with pytest.raises(NameTaken):
        provider.rename(a.id, "b.txt")
    assert target.read_direct(a) == b"a" and target.read_direct(b) == b"b"


def test_bad_ids_and_the_root_are_refused(provider):
    for bad in ("relative.txt", provider.root_id + "/../escape", provider.root_id + "/", ""):
        with pytest.raises(Fatal):
            provider.metadata(bad)
    with pytest.raises(Fatal):
        provider.delete(provider.root_id)
    with pytest.raises(Fatal):
        provider.rename(provider.root_id, "elsewhere")
    assert provider.exists(provider.root_id)


# -- uploads ---------------------------------------------------------------------------------
class _Pipe(io.RawIOBase):
    """A stream that cannot seek, like a socket or a pipe."""

    def __init__(self, data: bytes):
        self._data = io.BytesIO(data)

    def readable(self):
        return True

    def readinto(self, buffer):
        chunk = self._data.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)


def test_unseekable_stream_is_sent_again_after_a_server_error(target, provider):
    data = os.urandom(300_000)
    faults = _faults(target)
    faults.inject(503, match="PUT")
    item = provider.upload(provider.root_id, "piped.bin", _Pipe(data))
    assert item.size == len(data)
    assert target.read_direct(item) == data
    assert _methods(faults).count("PUT") == 2
    assert max(faults.body_sizes) == len(data)  # a Content-Length, never chunked


def test_retried_put_that_had_landed_finds_its_own_file(target):
    # the first PUT is slower than the client's timeout but lands; the retry (later than
    # the landing) is refused with 412 and recognised as our own upload
    provider = target.new_provider(
        config={"timeout": 0.5}, retry=RetryPolicy(initial_delay=2, jitter=False))
    try:
        faults = _faults(target)
        faults.slow_down(1.0, match="PUT")
        item = provider.upload_bytes(provider.root_id, "slow.txt", b"landed once")
        assert item.size == 11 and target.read_direct(item) == b"landed once"
        assert _methods(faults).count("PUT") == 2
    finally:
        provider.close()


def test_long_names_are_cut_to_255_bytes(target, provider):
    name = "😀" * 100 + ".pdf"
    safe = provider.safe_name(name)
    assert len(safe.encode()) <= MAX_NAME_BYTES and safe.endswith(".pdf")
    item = provider.upload_bytes(provider.root_id, name, b"long")
    assert item.name == safe and target.read_direct(item) == b"long"
    assert provider.safe_name('a:b*c?"d<e>f|g.txt') == "a-b-c--d-e-f-g.txt"


# -- change feed -----------------------------------------------------------------------------
def test_folder_rename_is_one_rename_and_its_descendants_move(provider):
    folder = provider.create_folder(provider.root_id, "Quotes")
    sub = provider.create_folder(folder.id, "2024")
    deep = provider.upload_bytes(sub.id, "q1.pdf", b"quote 1")
    cursor = provider.initial_cursor()
    renamed = provider.rename(folder.id, "Quotes (old)")
    changes = _changes(provider, cursor)
    new_sub, new_deep = renamed.id + "/2024", renamed.id + "/2024/q1.pdf"
    assert changes == [
        (ChangeType.RENAMED, renamed.id, folder.id),
        (ChangeType.MOVED, new_sub, sub.id),
        (ChangeType.MOVED, new_deep, deep.id),
    ]


def test_move_with_edit_and_deleted_folder(provider):
    keep = provider.create_folder(provider.root_id, "keep")
    doomed = provider.create_folder(provider.root_id, "doomed")
    inside = provider.upload_bytes(doomed.id, "inside.txt", b"inside")
    edited = provider.upload_bytes(provider.root_id, "edited.txt", b"short")
    cursor = provider.initial_cursor()
    moved = provider.move(edited.id, keep.id)
    provider.update(moved.id, io.BytesIO(b"a longer content"))
    provider.delete(doomed.id)
    changes = _changes(provider, cursor)
    assert changes[:2] == [(ChangeType.DELETED, inside.id, None),
                           (ChangeType.DELETED, doomed.id, None)]
    # the edit changed the ETag: the move cannot be paired, reported as delete + create
    assert sorted(changes[2:]) == sorted([(ChangeType.DELETED, edited.id, None),
                                          (ChangeType.CREATED, moved.id, None)])


def test_same_size_rewrite_is_an_update(target, provider):
    item = provider.upload_bytes(provider.root_id, "same.txt", b"aaaa")
    cursor = provider.initial_cursor()
    if target.extra["variant"] == "wsgidav":
        # wsgidav's ETag is inode-mtime(seconds)-size: a same-size rewrite within the
        # same second keeps it (a documented limit), so rewrite in the next second
        time.sleep(1.05 - time.time() % 1)
    provider.update(item.id, io.BytesIO(b"bbbb"))
    assert _changes(provider, cursor) == [(ChangeType.UPDATED, item.id, None)]


def test_snapshot_requests(target, provider):
    a = provider.create_folder(provider.root_id, "a")
    provider.create_folder(a.id, "b")
    provider.upload_bytes(a.id, "f.txt", b"f")
    faults = _faults(target)
    provider.initial_cursor()
    depths = [line for line in faults.log if line.startswith("PROPFIND")]
    if target.extra["variant"] == "wsgidav":
        assert len(depths) == 1  # one PROPFIND Depth: infinity
    else:
        # Apache refuses Depth: infinity (403): one walk request per folder, and the
        # refusal is remembered for the next snapshot
        assert len(depths) == 1 + 3
        faults.reset_counts()
        provider.initial_cursor()
        assert len(faults.log) == 3


def test_cursors_expire_when_their_snapshot_is_pruned_or_foreign(target, provider):
    first = provider.initial_cursor()
    for n in range(KEEP_SNAPSHOTS):
        provider.upload_bytes(provider.root_id, f"f{n}.txt", b"x")
        provider.initial_cursor()
    with pytest.raises(CursorExpired):
        provider.changes(first)
    other = target.new_provider(retry=fast_retry())
    try:
        with pytest.raises(CursorExpired):  # a cursor of another root
            provider.changes(other.initial_cursor())
    finally:
        other.close()
    for garbled in ("", "webdav1.x.y", "webdav1." + "a" * 40, None):
        with pytest.raises(CursorExpired):
            provider.changes(garbled)


# -- configuration and transport --------------------------------------------------------------
def test_configuration_is_checked():
    with pytest.raises(ValueError, match="url"):
        WebDAVProvider({"url": "nas.local"})
    with pytest.raises(ValueError, match="flavour"):
        WebDAVProvider({"url": "https://nas", "flavour": "netgear"})
    with pytest.raises(ValueError, match="root"):
        WebDAVProvider({"url": "https://nas", "flavour": "truenas"})
    assert WebDAVProvider({"url": "https://nas:5006", "flavour": "synology"}).root_id == "/home"
    assert WebDAVProvider({"url": "https://nas", "flavour": "qnap"}).root_id == "/Public"
    assert WebDAVProvider({"url": "https://nas", "root": "odoo//files/"}).root_id == "/odoo/files"
    assert WebDAVProvider({"url": "https://nas"}).root_id == "/"


class _TLSWsgiDAV(webdav_emulators.WsgiDAVEmulator):
    tls = True


def test_tls_verification(tmp_path):
    with _TLSWsgiDAV(data_dir=str(tmp_path)) as emulator:
        config = emulator.provider_config()
        assert emulator.url.startswith("https://")
        trusted = WebDAVProvider({**config, "verify_tls": ca_bundle()}, retry=fast_retry())
        assert trusted.upload_bytes("/", "secure.txt", b"tls").size == 3
        untrusted = WebDAVProvider(config, retry=fast_retry())
        with pytest.raises(Fatal, match="TLS"):
            untrusted.metadata("/secure.txt")
        unchecked = WebDAVProvider({**config, "verify_tls": False}, retry=fast_retry())
        with pytest.warns(InsecureRequestWarning):
            assert unchecked.read_bytes("/secure.txt") == b"tls"


class _SharedWsgiDAV(webdav_emulators.WsgiDAVEmulator):
    share = "/dav"


def test_url_with_a_path_prefix(tmp_path):
    """A server whose WebDAV lives below a path (``https://nas/dav``): ids stay relative
    to the configured URL, hrefs and MOVE destinations carry the prefix."""
    with _SharedWsgiDAV(data_dir=str(tmp_path)) as emulator:
        config = {**emulator.provider_config(), "url": emulator.url + "/dav/"}
        provider = WebDAVProvider(config, retry=fast_retry())
        folder = provider.create_folder("/", "Sub folder")
        item = provider.upload_bytes(folder.id, "f.txt", b"prefixed")
        assert (folder.id, item.id) == ("/Sub folder", "/Sub folder/f.txt")
        assert [c.id for c in provider.list_children(folder.id)] == [item.id]
        item = provider.rename(item.id, "g.txt")  # MOVE's Destination carries the prefix
        assert item.id == "/Sub folder/g.txt"
        assert (tmp_path / "Sub folder" / "g.txt").read_bytes() == b"prefixed"
        assert provider.link(item.id) == emulator.url + "/dav/Sub%20folder/g.txt"
        cursor = provider.initial_cursor()
        provider.upload_bytes("/", "new.txt", b"new")
        assert _changes(provider, cursor) == [(ChangeType.CREATED, "/new.txt", None)]


def test_emulator_cli_serves_wsgidav(tmp_path):
    process = subprocess.Popen(
        [sys.executable, "-m", "cloud_sync.emulators", "webdav", "--data-dir", str(tmp_path)],
        stdout=subprocess.PIPE, text=True)
    try:
        announced = json.loads(process.stdout.readline())
        deadline = time.monotonic() + 10
        while True:  # the URL is printed just before the server binds
            try:
                socket.create_connection(("127.0.0.1", announced["config"]["url"]
                                          .rsplit(":", 1)[1]), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "the CLI server never listened"
                time.sleep(0.05)
        provider = WebDAVProvider(announced["config"], retry=fast_retry())
        provider.upload_bytes("/", "cli.txt", b"served")
        assert (tmp_path / "cli.txt").read_bytes() == b"served"
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_apache_missing_fails_with_a_clear_message(monkeypatch, tmp_path):
    monkeypatch.setattr(webdav_emulators, "APACHE_BIN", str(tmp_path / "no-apache2"))
    with pytest.raises(RuntimeError, match="apache2"):
        webdav_emulators.ApacheEmulator(data_dir=str(tmp_path))


def test_abandoned_download_leaves_the_connection_usable(target, provider):
    data = os.urandom(3 * provider.download_chunk_size)
    item = provider.upload_bytes(provider.root_id, "abandoned.bin", data)
    chunks = provider.download(item.id)
    assert len(next(chunks)) == provider.download_chunk_size
    chunks.close()  # the caller stops reading halfway
    assert provider.metadata(item.id).size == len(data)
    assert provider.read_bytes(item.id) == data


def test_an_answer_that_is_not_a_listing_is_never_an_empty_folder(target, provider):
    provider.upload_bytes(provider.root_id, "kept.txt", b"kept")
    cursor = provider.initial_cursor()
    faults = _faults(target)
    # a proxy or captive portal answering 200 with HTML instead of a 207 multistatus
    faults.error_answer, wording = (
        lambda status, retry_after: ("200 OK", [("Content-Type", "text/html")],
                                     b"<html>login</html>")), faults.error_answer
    try:
        faults.inject(200, match="PROPFIND")
        with pytest.raises(Fatal, match="does not describe"):
            provider.changes(cursor)
    finally:
        faults.error_answer = wording
    assert _changes(provider, cursor) == []


def test_ensure_folder_asks_for_the_one_path(target, provider):
    for n in range(20):
        provider.upload_bytes(provider.root_id, f"sibling-{n}.txt", b"s")
    faults = _faults(target)
    made = provider.ensure_folder(provider.root_id, "Invoices")
    assert _methods(faults) == ["PROPFIND", "MKCOL", "PROPFIND"]
    faults.reset_counts()
    assert provider.ensure_folder(provider.root_id, "Invoices").id == made.id
    assert faults.log == [f"PROPFIND {made.id}"]
    provider.upload_bytes(provider.root_id, "file not folder", b"f")
    assert provider.find_child(provider.root_id, "file not folder", kind=Kind.FOLDER) is None


def test_unusable_state_dir_is_a_clear_error(target, tmp_path):
    blocker = tmp_path / "a file"
    blocker.write_text("not a folder")
    provider = target.new_provider(config={"state_dir": str(blocker)}, retry=fast_retry())
    try:
        with pytest.raises(Fatal, match="state_dir"):
            provider.initial_cursor()
    finally:
        provider.close()


# -- the Depth-1 walk, side by side -------------------------------------------------------
def _refuse_depth_infinity(target, faults) -> None:
    """Make the next snapshot walk: wsgidav allows Depth: infinity, so refuse it once
    (403, as Apache does); Apache refuses it by itself."""
    if target.extra["variant"] == "wsgidav":
        faults.inject(403, match="PROPFIND", count=1)


def _tree(provider, folders: int = 12):
    for n in range(folders):
        folder = provider.create_folder(provider.root_id, f"d{n:02d}")
        provider.create_folder(folder.id, "inner")
        provider.upload_bytes(folder.id, f"f{n}.txt", b"x" * n)


def test_the_depth_1_walk_lists_folders_side_by_side(target, provider):
    _tree(provider)
    deep = provider.initial_cursor()  # wsgidav: Depth: infinity; Apache: the walk
    walker = target.new_provider(config={"root": provider.root_id}, retry=fast_retry())
    faults = _faults(target)
    try:
        _refuse_depth_infinity(target, faults)
        faults.latency = 0.2  # every request lasts long enough for the others to join
        walked = walker.initial_cursor()
    finally:
        faults.latency = 0.0
        walker.close()
    # one PROPFIND Depth 1 per folder (1 + 12 + 12), several in flight, never more than
    # the bound; the same snapshot as one Depth: infinity (the cursor is its digest)
    assert sum(line.startswith("PROPFIND") for line in faults.log) == 25 + 1
    assert 2 <= faults.most_in_flight <= WALK_THREADS
    assert walked == deep


def test_the_walk_retries_a_throttled_folder_and_raises_the_first_error(target, provider):
    _tree(provider, folders=4)
    expected = provider.initial_cursor()
    faults = _faults(target)
    _refuse_depth_infinity(target, faults)
    faults.throttle(retry_after=0.01, match="PROPFIND .*/d02/$")
    faults.inject(503, match="PROPFIND .*/d01/inner/$")
    walker = target.new_provider(config={"root": provider.root_id}, retry=fast_retry())
    try:
        assert walker.initial_cursor() == expected  # retried under self.call, same result
        assert faults.injected["status"] == 2 + (target.extra["variant"] == "wsgidav")
        for fault, error in ((lambda: faults.inject(400, match="PROPFIND .*/d03/$"), Fatal),
                             (lambda: faults.inject(404, match="PROPFIND .*/d00/inner/$"),
                              NotFound)):
            fault()
            with pytest.raises(error):
                walker.initial_cursor()
    finally:
        faults.clear()
        walker.close()


# -- the multistatus parser ---------------------------------------------------------------
_ODD = ["a b.txt", "100% sure.txt", "été ü 日本.txt", "hash#tag.txt", "what?.txt",
        "plus+semi;colon.txt", "amp&'quote.txt", "%41%2F.txt"]


def _sdk_view(infos) -> list[dict]:
    """The SDK's dicts (or ours) reduced to the fields ``_item`` reads, empty = None."""
    keys = ("path", "isdir", "size", "modified", "etag", "content_type")
    return [{k: (i.get(k).strip() if isinstance(i.get(k), str) else i.get(k)) or None
             for k in keys} for i in infos]


def test_parser_reads_real_answers_as_the_sdk_does(target, provider):
    odd = provider.create_folder(provider.root_id, "odd dir %# é")
    target.extra["seed_files"](odd.id, [(name, name.encode()) for name in _ODD])
    target.extra["seed_files"](provider.root_id, [("x?y#z %25.txt", b"")])
    url = target.emulator.direct_url
    session = requests.Session()
    session.auth = (webdav_emulators.USER, webdav_emulators.PASSWORD)
    answers = []
    for path, depth, body in [(odd.id + "/", "1", _PROPFIND_BODY),
                              (odd.id + "/", "1", None),  # allprop: every live property
                              (provider.root_id + "/", "1", _PROPFIND_BODY),
                              (odd.id + "/" + _ODD[4], "0", _PROPFIND_BODY)]:
        answer = session.request("PROPFIND", url + quote(path), data=body,
                                 headers={"Depth": depth})
        assert answer.status_code == 207, answer.text[:200]
        answers.append(answer.content)
    session.close()
    for content in answers:
        ours = _parse_multistatus(content)
        assert ours and _sdk_view(ours) == _sdk_view(
            WebDavXmlUtils.parse_get_list_info_response(content))
    names = {os.path.basename(i["path"]) for i in _parse_multistatus(answers[0])}
    assert names == {"", *_ODD}  # the folder itself ends with "/"
    listed = {child.name for child in provider.list_children(odd.id)}
    assert listed == set(_ODD)
    assert "x?y#z %25.txt" in {c.name for c in provider.list_children(provider.root_id)}


def test_parser_prefixes_propstats_hrefs_and_garbage():
    answer = b"""<?xml version="1.0"?>
<multistatus xmlns="DAV:" xmlns:x="urn:other">
 <response>
  <href>
   http://nas.example:5006/home/a%20b/
  </href>
  <propstat><prop><getcontentlength/><getetag/></prop>
   <status>HTTP/1.1 404 Not Found</status></propstat>
  <propstat><prop><resourcetype><collection/></resourcetype><x:getetag>"x"</x:getetag>
   <getlastmodified>Mon, 07 Dec 2026 10:00:00 GMT</getlastmodified></prop>
   <status>HTTP/1.1 200 OK</status></propstat>
 </response>
 <response><href>/home/a%20b/f%23%3F.txt</href>
  <propstat><prop><getetag>"e1"</getetag><resourcetype/></prop>
   <status>HTTP/1.1 404 Not Found</status></propstat>
  <propstat><prop><getetag>"e2"</getetag><getcontentlength>12</getcontentlength>
   <getcontenttype>text/plain</getcontenttype><resourcetype/></prop>
   <status>HTTP/1.1 200 OK</status></propstat>
 </response>
 <response><href></href></response>
</multistatus>"""
    prefixed = re.sub(rb"<(/?)(?!x:)([a-z])", rb"<\1Z:\2", answer).replace(b"xmlns=", b"xmlns:Z=")
    assert b"<Z:multistatus xmlns:Z=" in prefixed and b"</Z:href>" in prefixed
    for content in (answer, prefixed):  # a default namespace, then the prefix Z:
        assert _parse_multistatus(content) == [
            {"path": "/home/a b/", "isdir": True,
             "modified": "Mon, 07 Dec 2026 10:00:00 GMT"},
            {"path": "/home/a b/f#?.txt", "isdir": False, "etag": '"e2"', "size": "12",
             "content_type": "text/plain"},
        ]
    for garbage in (b"", b"<html>login</html>", b"<D:multistatus xmlns:D='DAV:'><D:response>",
                    b"not xml at all"):
        assert _parse_multistatus(garbage) == []
