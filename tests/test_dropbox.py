"""Dropbox-specific behaviour: API calls per operation, per-connection hosts, tokens, the
path-based change feed turned into ids, upload sessions, longpoll, team members, links,
and the emulator's OAuth endpoints.

Everything goes through the real ``dropbox`` SDK against the local emulator over HTTPS.
"""

import io
import json
import socket
import subprocess
import sys
import threading
import time
from urllib.parse import parse_qs, urlparse

import pytest
import requests
from dropbox import exceptions as dbx_exceptions
from dropbox import files as dbx_files
from dropbox.oauth import CsrfException, NotApprovedException

from cloud_sync.emulators.dropbox import APP_KEY, APP_SECRET, DropboxEmulator
from cloud_sync.emulators.tls import ca_bundle
from cloud_sync.hashing import hash_bytes
from cloud_sync.providers import (
    ChangeType,
    CursorExpired,
    Fatal,
    NameTaken,
    NotFound,
    QuotaExceeded,
    ReauthRequired,
    RetryLater,
)
from cloud_sync.providers import dropbox as dropbox_module
from cloud_sync.providers.dropbox import DropboxProvider, OAuthFlow, dropbox_client
from cloud_sync.retry import RetryPolicy

FAST = RetryPolicy(initial_delay=0.01, max_delay=0.05)
ONCE = RetryPolicy(max_attempts=1)


@pytest.fixture(scope="module")
def emulator():
    with DropboxEmulator(auto_consent=True) as emu:
        yield emu


@pytest.fixture
def emu(emulator):
    """The shared emulator with faults, switches and counters reset after the test."""
    yield emulator
    emulator.faults.clear()
    emulator.quota = None
    emulator.deny = False
    emulator.longpoll_backoff = None
    emulator.__dict__.pop("page_size", None)
    emulator.__dict__.pop("longpoll_cap", None)


_roots = iter(range(10**6))


def make_provider(emulator, **config):
    root = emulator.create_folder(f"/t-{next(_roots)}")
    stored = []
    prov = DropboxProvider({**emulator.provider_config(root), **config}, retry=FAST,
                           on_token_refresh=stored.append)
    prov.stored_tokens = stored
    return prov


@pytest.fixture
def provider(emu):
    prov = make_provider(emu)
    yield prov
    prov.close()


@pytest.fixture
def bare(emu):
    """The SDK client alone, as another user of the same account (remote changes)."""
    client = dropbox_client(emu.provider_config())
    yield client
    client.close()


# -- calls per operation ------------------------------------------------------------------
def test_one_api_call_per_folder_and_small_file(emu, provider):
    provider.metadata(provider.root_id)  # the root's path is now known
    emu.faults.reset_counts()
    folder = provider.create_folder(provider.root_id, "Invoices")
    item = provider.upload(folder.id, "a.pdf", io.BytesIO(b"%PDF-1.4 tiny"))
    assert emu.faults.total() == 2
    assert emu.faults.total(r"^POST /2/files/create_folder_v2$") == 1
    assert emu.faults.total(r"^POST /2/files/upload$") == 1
    emu.faults.reset_counts()
    provider.update(item.id, io.BytesIO(b"%PDF-1.4 new"))
    provider.rename(item.id, "b.pdf")
    provider.move(item.id, provider.root_id)
    provider.delete(item.id)
    assert emu.faults.total() == 4


def test_steady_state_change_poll_costs_one_call_even_in_a_fresh_instance(emu, provider):
    cursor = provider.initial_cursor()
    for n in range(3):
        provider.create_folder(provider.root_id, f"f{n}")
    changes, cursor = provider.changes(cursor)
    assert len(changes) == 3
    emu.faults.reset_counts()
    assert provider.changes(cursor)[0] == []
    fresh = DropboxProvider(provider.config, retry=FAST)
    assert fresh.changes(cursor)[0] == []
    assert emu.faults.total() == 2
    assert emu.faults.total(r"^POST /2/files/list_folder/continue$") == 2


def test_a_poll_of_an_unchanged_tree_leaves_the_cursor_map_undecoded(emu, provider, called):
    """The cursor's map grows with the tree: a poll with nothing new neither decodes nor
    re-encodes it in the instance that learnt it; a change after that is still seen with
    its old path, and a fresh instance still learns the map."""
    folder = provider.create_folder(provider.root_id, "Kept")
    doomed = provider.upload(folder.id, "doomed.txt", io.BytesIO(b"doomed"))
    cursor = provider.initial_cursor()
    (changes, again), ran = called(dropbox_module, provider.changes, cursor)
    assert changes == [] and again.split(".")[-1] == cursor.split(".")[-1]
    assert not ran & {"_decode", "_encode", "_changes"}, ran
    fresh = DropboxProvider(provider.config, retry=FAST)
    (changes, _cursor), ran = called(dropbox_module, fresh.changes, again)
    assert changes == [] and "_decode" in ran  # it learns the paths once
    provider.delete(doomed.id)
    changes, _cursor = provider.changes(again)
    assert [(c.type, c.item.id, c.item.extra["path_display"]) for c in changes] == [
        (ChangeType.DELETED, doomed.id, "/".join((folder.extra["path_display"], "doomed.txt")))]


def test_unreadable_cursors_expire(provider):
    good = provider.initial_cursor()
    garbled_map = good.rpartition(".")[0] + ".bm90LXpsaWI="
    for garbled in ("", "dbx1.eJwrSS0qBgAEXQG7", "dbx2.", "dbx2.YWJj", garbled_map):
        with pytest.raises(CursorExpired):
            DropboxProvider(provider.config, retry=FAST).changes(garbled)


def test_a_fresh_instance_learns_paths_from_the_cursor(emu, provider):
    folder = provider.create_folder(provider.root_id, "Known")
    cursor = provider.initial_cursor()
    fresh = DropboxProvider(provider.config, retry=FAST)
    assert fresh.changes(cursor)[0] == []
    emu.faults.reset_counts()
    inner = fresh.create_folder(folder.id, "inner")
    assert emu.faults.total() == 1 and inner.parent_id == folder.id


def test_chunked_upload_uses_one_session_of_threshold_sized_chunks(emu, provider):
    data = bytes(range(256)) * (20 * 4096)  # 20 MiB: 8 + 8 + 4
    provider.metadata(provider.root_id)  # the root's path is now known
    emu.faults.reset_counts()
    item = provider.upload_bytes(provider.root_id, "big.bin", data)
    assert [line.split(" ")[1] for line in emu.faults.log] == [
        "/2/files/upload_session/start", "/2/files/upload_session/append_v2",
        "/2/files/upload_session/finish"]
    assert max(emu.faults.body_sizes) == provider.upload_chunk_size
    assert item.size == len(data) and item.content_hash == hash_bytes("dropbox", data)


def test_a_chunk_that_arrived_but_timed_out_is_not_sent_twice(emu):
    provider = make_provider(emu, timeout=0.5)
    provider.retry = RetryPolicy(initial_delay=1.2, jitter=False)
    data = bytes(range(256)) * (20 * 4096)
    emu.faults.reset_counts()
    emu.faults.slow_down(1, match="append_v2")  # stored, but the answer comes too late
    item = provider.upload_bytes(provider.root_id, "slow.bin", data)
    # the retry was told "incorrect_offset" at the end of the chunk: taken as stored
    assert emu.faults.total("append_v2") == 2
    assert item.size == len(data) and provider.read_bytes(item.id) == data


def test_update_keeps_the_id_and_a_large_update_takes_a_session(emu, provider):
    item = provider.upload_bytes(provider.root_id, "doc.bin", b"small")
    data = b"y" * (9 * 1024 * 1024)
    emu.faults.reset_counts()
    updated = provider.update(item.id, io.BytesIO(data))
    assert updated.id == item.id and updated.size == len(data)
    assert emu.faults.total(r"upload_session/finish$") == 1
    assert updated.version != item.version


# -- hosts, TLS and tokens ----------------------------------------------------------------
def test_each_connection_talks_to_its_own_hosts(emu, provider):
    with DropboxEmulator() as other:
        second = make_provider(other)
        emu.faults.reset_counts()
        other.faults.reset_counts()
        provider.create_folder(provider.root_id, "here")
        second.create_folder(second.root_id, "there")
        assert emu.faults.total(r"create_folder") == 1
        assert other.faults.total(r"create_folder") == 1
        # a refresh goes to the connection's own API host, not api.dropboxapi.com
        other.expire_access_tokens()
        assert [c.name for c in second.list_children(second.root_id)] == ["there"]
        assert other.faults.total(r"^POST /oauth2/token$") == 1
        assert emu.faults.total(r"^POST /oauth2/token$") == 0
        assert second.stored_tokens[-1]["access_token"]


def test_plain_http_hosts_are_refused():
    with pytest.raises(ValueError, match="HTTPS only"):
        DropboxProvider({"app_key": "k", "refresh_token": "r",
                         "api_host": "http://127.0.0.1:1"})


def test_tls_is_verified_against_the_configured_bundle(emu):
    config = emu.provider_config("")
    config["ca_bundle"] = requests.certs.where()  # public CAs only: the emulator is unknown
    provider = DropboxProvider(config, retry=FAST)
    with pytest.raises(Fatal, match="TLS"):
        list(provider.list_children(""))


def test_first_call_without_access_token_refreshes_and_reports_it(emu):
    config = emu.provider_config(emu.create_folder(f"/t-{next(_roots)}"))
    del config["access_token"], config["access_token_expires_at"]
    stored = []
    provider = DropboxProvider(config, retry=FAST, on_token_refresh=stored.append)
    assert list(provider.list_children(provider.root_id)) == []
    assert len(stored) == 1
    assert stored[0]["refresh_token"] == config["refresh_token"]
    assert stored[0]["access_token_expires_at"] > time.time() + 3600


def test_revoked_refresh_token_means_reauth_required(emu, provider):
    emu.expire_access_tokens()
    emu.revoke_refresh_tokens(provider.config["refresh_token"])
    with pytest.raises(ReauthRequired):
        provider.create_folder(provider.root_id, "never")
    assert provider.stored_tokens == []


# -- errors -------------------------------------------------------------------------------
def test_throttling_carries_retry_after_and_5xx_is_retry_later(emu):
    provider = DropboxProvider(emu.provider_config(""), retry=ONCE)
    emu.faults.throttle(retry_after=7)
    with pytest.raises(RetryLater) as caught:
        list(provider.list_children(""))
    assert caught.value.retry_after == 7
    emu.faults.inject(503)
    with pytest.raises(RetryLater) as caught:
        list(provider.list_children(""))
    assert caught.value.status == 503
    emu.faults.reset_counts()
    list(provider.list_children(""))
    assert emu.faults.total() == 1, "the SDK's own retries are off"


def test_quota_not_found_and_conflicts_are_typed(emu, provider):
    item = provider.upload_bytes(provider.root_id, "a.txt", b"a")
    with pytest.raises(NameTaken):
        provider.create_folder(provider.root_id, "A.TXT")
    folder = provider.create_folder(provider.root_id, "F")
    with pytest.raises(NameTaken):
        provider.move(item.id, provider.root_id, "f")
    provider.delete(folder.id)
    with pytest.raises(NotFound):
        provider.rename(folder.id, "G")
    with pytest.raises(NotFound):
        provider.download(folder.id)
    emu.quota = 1
    with pytest.raises(QuotaExceeded):
        provider.upload_bytes(provider.root_id, "big.txt", b"too much")


def test_reserved_names_are_renamed_by_the_provider_and_refused_by_the_server(
        emu, provider, bare):
    item = provider.upload_bytes(provider.root_id, "desktop.ini", b"[x]")
    assert item.name != "desktop.ini" and item.name == provider.safe_name("desktop.ini")
    with pytest.raises(dbx_exceptions.ApiError) as caught:
        bare.files_upload(b"[x]", f"/{item.extra['path_display'].split('/')[1]}/desktop.ini")
    assert caught.value.error.get_path().reason.is_disallowed_name()
    assert isinstance(provider.translate(caught.value), Fatal)


def test_a_name_made_elsewhere_moves_unchanged(emu, provider, bare):
    root_path = provider.metadata(provider.root_id).extra["path_display"]
    odd = bare.files_upload(b"odd", f"{root_path}/odd: name?.txt")
    folder = provider.create_folder(provider.root_id, "Dest")
    moved = provider.move(odd.id, folder.id)
    assert moved.name == "odd: name?.txt" and moved.parent_id == folder.id


def test_the_server_checks_the_content_hash_the_sdk_sends(emu, bare):
    with pytest.raises(dbx_exceptions.ApiError) as caught:
        bare.files_upload(b"data", "/hash-check.txt", content_hash="0" * 64)
    assert caught.value.error.is_content_hash_mismatch()


# -- the change feed ----------------------------------------------------------------------
def test_remote_folder_move_is_one_change_and_children_follow(emu, provider, bare):
    outer = provider.create_folder(provider.root_id, "Outer")
    inner = provider.create_folder(outer.id, "Inner")
    deep = provider.upload_bytes(inner.id, "deep.txt", b"deep")
    dest = provider.create_folder(provider.root_id, "Dest")
    cursor = provider.initial_cursor()
    bare.files_move_v2(outer.id, f"{dest.extra['path_display']}/Outer moved")
    changes, cursor = provider.changes(cursor)
    assert [(c.type, c.item.id, c.old_parent_id, c.old_name) for c in changes] == [
        (ChangeType.MOVED, outer.id, provider.root_id, "Outer")]
    assert changes[0].item.parent_id == dest.id and changes[0].item.name == "Outer moved"
    # the map followed the move: a remote deletion deep inside is still reported by id
    bare.files_delete_v2(inner.id)
    changes, _ = provider.changes(cursor)
    assert [(c.type, c.item.id, c.item.kind.value) for c in changes] == [
        (ChangeType.DELETED, deep.id, "file"), (ChangeType.DELETED, inner.id, "folder")]
    assert changes[1].item.parent_id == outer.id


def test_case_only_rename_and_recreated_path(emu, provider, bare):
    item = provider.upload_bytes(provider.root_id, "report.txt", b"one")
    cursor = provider.initial_cursor()
    renamed = provider.rename(item.id, "Report.txt")
    assert renamed.id == item.id and renamed.name == "Report.txt"
    changes, cursor = provider.changes(cursor)
    assert [(c.type, c.old_name) for c in changes] == [(ChangeType.RENAMED, "report.txt")]
    # deleted and made again at the same path: the old id is gone, the new one created
    path = renamed.extra["path_display"]
    bare.files_delete_v2(item.id)
    again = bare.files_upload(b"two", path)
    changes, _ = provider.changes(cursor)
    assert sorted((c.type.value, c.item.id) for c in changes) == sorted(
        [("deleted", item.id), ("created", again.id)])


def test_feed_pages_are_followed_in_one_changes_call(emu, provider):
    emu.page_size = 4  # kept in the cursor, as Dropbox keeps the listing's limit
    cursor = provider.initial_cursor()
    made = [provider.create_folder(provider.root_id, f"p{n}").id for n in range(10)]
    emu.faults.reset_counts()
    changes, _ = provider.changes(cursor)
    assert [c.item.id for c in changes] == made
    assert emu.faults.total(r"list_folder/continue") == 3


def test_longpoll_wakes_on_change_and_honours_backoff(emu, provider, bare):
    emu.longpoll_cap = 0.3
    cursor = provider.initial_cursor()
    assert provider.wait_for_changes(cursor) is False
    timer = threading.Timer(0.1, lambda: provider.create_folder(provider.root_id, "late"))
    timer.start()
    emu.longpoll_cap = 10
    start = time.monotonic()
    assert provider.wait_for_changes(cursor) is True
    assert time.monotonic() - start < 5
    timer.join()
    emu.longpoll_backoff = 1
    emu.longpoll_cap = 0
    provider.wait_for_changes(cursor)
    start = time.monotonic()
    provider.wait_for_changes(cursor)
    assert time.monotonic() - start >= 0.9, "the server's backoff was not honoured"


# -- team members, the drive root, links --------------------------------------------------
def test_team_member_works_in_their_own_space(emu, provider):
    emu.add_team_member("dbmid:member-1")
    member = DropboxProvider({**emu.provider_config(""), "team_member_id": "dbmid:member-1"},
                             retry=FAST)
    assert member.account()["team_member_id"] == "dbmid:member-1"
    assert provider.account()["team_member_id"] is None
    folder = member.create_folder("", "Member folder")
    assert [c.id for c in member.list_children("")] == [folder.id]
    with pytest.raises(NotFound):
        provider.metadata(folder.id)
    stranger = DropboxProvider({**emu.provider_config(""), "team_member_id": "dbmid:nobody"},
                               retry=FAST)
    with pytest.raises(Fatal):
        list(stranger.list_children(""))


def test_the_drive_root_is_the_empty_id(emu, provider):
    drive = DropboxProvider(emu.provider_config(""), retry=FAST)
    assert drive.root_id == "" and drive.metadata("").is_folder
    top = {c.id: c for c in drive.list_children("")}
    assert provider.root_id in top and top[provider.root_id].parent_id == ""
    assert drive.metadata(provider.root_id).parent_id == ""


def test_a_root_given_as_a_path_is_resolved_to_its_id(emu, provider):
    path = provider.metadata(provider.root_id).extra["path_display"]
    by_path = DropboxProvider({**emu.provider_config(path.upper())}, retry=FAST)
    assert by_path.root_id == provider.root_id


def test_links_internal_shared_and_existing(emu, provider):
    item = provider.upload_bytes(provider.root_id, "shared file.txt", b"shared bytes")
    emu.faults.reset_counts()
    internal = provider.link(item.id)
    assert emu.faults.total() == 0, "an internal link is built from the known path"
    folder_path = item.extra["path_display"].rsplit("/", 1)[0]
    assert internal == f"https://{emu.netloc}/home{folder_path}?preview=shared%20file.txt"
    url = provider.link(item.id, public=True)
    assert provider.link(item.id, public=True) == url  # shared_link_already_exists
    shared = DropboxProvider({**provider.config, "link_mode": "shared"}, retry=FAST)
    assert shared.link(item.id) == url
    answer = requests.get(url.replace("dl=0", "dl=1"), verify=ca_bundle(), timeout=10)
    assert answer.content == b"shared bytes"
    with pytest.raises(ValueError):
        DropboxProvider({**provider.config, "link_mode": "public"})


# -- the emulator's OAuth endpoints (the Odoo connect flow, issue 9) -----------------------
def _authorize(emu, **params):
    query = {"client_id": APP_KEY, "redirect_uri": "https://odoo.test/cb", "state": "s1",
             "response_type": "code", "token_access_type": "offline", **params}
    answer = requests.get(f"{emu.url}/oauth2/authorize", params=query, verify=ca_bundle(),
                          allow_redirects=False, timeout=10)
    assert answer.status_code == 302
    location = urlparse(answer.headers["Location"])
    assert location.netloc == "odoo.test"
    return {k: v[0] for k, v in parse_qs(location.query).items()}


def _token(emu, **form):
    return requests.post(f"{emu.url}/oauth2/token", verify=ca_bundle(), timeout=10,
                         data={"client_id": APP_KEY, "client_secret": APP_SECRET, **form})


def test_authorize_code_exchange_and_refresh(emu):
    back = _authorize(emu)
    assert back["state"] == "s1"
    tokens = _token(emu, grant_type="authorization_code", code=back["code"],
                    redirect_uri="https://odoo.test/cb").json()
    assert tokens["refresh_token"] and tokens["access_token"] and tokens["expires_in"] > 0
    replay = _token(emu, grant_type="authorization_code", code=back["code"],
                    redirect_uri="https://odoo.test/cb")
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
    provider = DropboxProvider({**emu.provider_config(""), "access_token": "",
                                "refresh_token": tokens["refresh_token"]}, retry=FAST)
    assert provider.metadata("").is_folder and any(True for _ in provider.list_children(""))
    emu.revoke_refresh_tokens()
    refused = _token(emu, grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"


def test_denied_consent_redirects_with_access_denied(emu):
    emu.deny = True
    back = _authorize(emu)
    assert back["error"] == "access_denied" and back["state"] == "s1" and "code" not in back


def test_consent_page_allow_and_cancel(emu):
    """Without ``auto_consent`` the authorize URL shows the consent page; its buttons
    redirect back with a code or with access_denied."""
    emu.auto_consent = False
    try:
        page = requests.get(f"{emu.url}/oauth2/authorize", verify=ca_bundle(), timeout=10,
                            params={"client_id": APP_KEY, "redirect_uri": "https://odoo.test/cb",
                                    "state": "s1", "response_type": "code"},
                            allow_redirects=False)
    finally:
        emu.auto_consent = True
    assert page.status_code == 200 and APP_KEY in page.text and ">Allow</button>" in page.text
    assert _authorize(emu, consent="allow")["code"]
    emu.auto_consent = False
    try:
        assert _authorize(emu, consent="deny")["error"] == "access_denied"
    finally:
        emu.auto_consent = True


def test_sdk_web_flow_on_the_configured_hosts(emu):
    config = emu.provider_config("")
    session = {}
    flow = OAuthFlow(config, "https://odoo.test/cb", session)
    url = flow.start("client-7")
    assert url.startswith(f"https://{emu.netloc}/oauth2/authorize?")
    answer = requests.get(url, verify=ca_bundle(), allow_redirects=False, timeout=10)
    back = {k: v[0] for k, v in parse_qs(urlparse(answer.headers["Location"]).query).items()}
    result = flow.finish(back)
    assert result.url_state == "client-7" and result.refresh_token
    provider = DropboxProvider({**config, "access_token": "",
                                "refresh_token": result.refresh_token}, retry=FAST)
    assert provider.metadata("").is_folder
    # a forged state, then a denied consent
    flow.start()
    with pytest.raises(CsrfException):
        flow.finish({**back, "state": "forged-state-that-is-long-enough"})
    emu.deny = True
    url = OAuthFlow(config, "https://odoo.test/cb", session).start()
    answer = requests.get(url, verify=ca_bundle(), allow_redirects=False, timeout=10)
    denied = {k: v[0] for k, v in parse_qs(urlparse(answer.headers["Location"]).query).items()}
    with pytest.raises(NotApprovedException):
        OAuthFlow(config, "https://odoo.test/cb", session).finish(denied)


def test_emulator_cli_prints_a_working_config(tmp_path):
    process = subprocess.Popen([sys.executable, "-m", "cloud_sync.emulators", "dropbox"],
                               stdout=subprocess.PIPE, text=True)
    try:
        started = json.loads(process.stdout.readline())
        port = urlparse(started["url"]).port
        for _ in range(100):  # the URL is printed just before the server listens
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.05)
        provider = DropboxProvider(started["config"], retry=FAST)
        folder = provider.create_folder("", "from the CLI")
        assert [c.id for c in provider.list_children("")] == [folder.id]
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_upload_session_lookup_errors_are_worded_as_dropbox_does(emu, bare):
    session = bare.files_upload_session_start(b"12345").session_id
    with pytest.raises(dbx_exceptions.ApiError) as caught:
        bare.files_upload_session_append_v2(b"678", dbx_files.UploadSessionCursor(session, 2))
    assert caught.value.error.get_incorrect_offset().correct_offset == 5
    with pytest.raises(dbx_exceptions.ApiError) as caught:
        bare.files_upload_session_finish(b"", dbx_files.UploadSessionCursor("nope", 0),
                                         dbx_files.CommitInfo("/x.txt"))
    assert caught.value.error.get_lookup_failed().is_not_found()


# -- autorename and include_deleted -------------------------------------------------------
def test_autorename_makes_a_numbered_name_instead_of_a_conflict(emu, bare):
    top = f"/autorename-{next(_roots)}"
    bare.files_create_folder_v2(top)
    bare.files_upload(b"first", f"{top}/report.pdf")
    with pytest.raises(dbx_exceptions.ApiError):  # without autorename: a conflict
        bare.files_upload(b"second", f"{top}/report.pdf")
    second = bare.files_upload(b"second", f"{top}/Report.pdf", autorename=True)
    third = bare.files_upload(b"third", f"{top}/report.pdf", autorename=True)
    assert (second.name, third.name) == ("report (1).pdf", "report (2).pdf")
    same = bare.files_upload(b"first", f"{top}/report.pdf", autorename=True)
    assert same.name == "report.pdf"  # identical bytes are not a conflict
    folder = bare.files_create_folder_v2(f"{top}/Docs").metadata
    again = bare.files_create_folder_v2(f"{top}/docs", autorename=True).metadata
    assert (folder.name, again.name) == ("Docs", "docs (1)")
    moved = bare.files_move_v2(f"{top}/report (2).pdf", f"{top}/report.pdf",
                               autorename=True).metadata
    assert moved.name == "report (2).pdf"  # the free number at the destination
    stale = bare.files_upload(b"v2", f"{top}/report.pdf",
                              mode=dbx_files.WriteMode.overwrite).rev
    conflicted = bare.files_upload(b"v3", f"{top}/report.pdf", autorename=True,
                                   mode=dbx_files.WriteMode.update(stale))
    assert conflicted.name == "report.pdf"
    kept = bare.files_upload(b"v4", f"{top}/report.pdf", autorename=True,
                             mode=dbx_files.WriteMode.update(stale))  # stale rev
    assert kept.name == "report (3).pdf"
    names = {e.name for e in bare.files_list_folder(top).entries}
    assert names == {"report.pdf", "report (1).pdf", "report (2).pdf", "report (3).pdf",
                     "Docs", "docs (1)"}


def test_include_deleted_lists_what_is_gone(emu, bare):
    top = f"/deleted-{next(_roots)}"
    bare.files_create_folder_v2(f"{top}/sub")
    bare.files_upload(b"a", f"{top}/kept.txt")
    bare.files_upload(b"b", f"{top}/gone.txt")
    bare.files_upload(b"c", f"{top}/sub/deep-gone.txt")
    bare.files_delete_v2(f"{top}/gone.txt")
    bare.files_delete_v2(f"{top}/sub/deep-gone.txt")
    plain = bare.files_list_folder(top, recursive=True).entries
    assert not any(isinstance(e, dbx_files.DeletedMetadata) for e in plain)
    every = bare.files_list_folder(top, recursive=True, include_deleted=True).entries
    deleted = {e.path_display for e in every if isinstance(e, dbx_files.DeletedMetadata)}
    assert deleted == {f"{top}/gone.txt", f"{top}/sub/deep-gone.txt"}
    flat = bare.files_list_folder(top, include_deleted=True).entries
    assert {e.name for e in flat if isinstance(e, dbx_files.DeletedMetadata)} == {"gone.txt"}
    bare.files_upload(b"back", f"{top}/gone.txt")  # back again: no longer deleted
    again = bare.files_list_folder(top, include_deleted=True).entries
    assert not any(isinstance(e, dbx_files.DeletedMetadata) for e in again)


# -- picker and versions ------------------------------------------------------------------
def test_versions_cost_and_restore_keep_the_id(emu, provider):
    item = provider.upload_bytes(provider.root_id, "v.txt", b"one")
    provider.update(item.id, io.BytesIO(b"two!"), 4)
    provider.rename(item.id, "renamed.txt")  # id mode: revisions follow the file
    emu.faults.reset_counts()
    versions = provider.versions(item.id)
    assert emu.faults.total(r"^POST /2/files/list_revisions$") == 1
    assert [v.size for v in versions] == [4, 3] and versions[0].current
    restored = provider.restore_version(item.id, versions[1].id)
    assert restored.id == item.id and restored.name == "renamed.txt"
    assert emu.faults.total(r"^POST /2/files/restore$") == 1
    assert [v.size for v in provider.versions(item.id)] == [3, 4, 3]


def test_revision_routes_are_worded_as_dropbox_does(emu, bare):
    top = f"/revs-{next(_roots)}"
    first = bare.files_upload(b"a" * 10, f"{top}/f.txt")
    bare.files_upload(b"b" * 20, f"{top}/f.txt", mode=dbx_files.WriteMode.overwrite)
    listed = bare.files_list_revisions(f"{top}/f.txt", limit=1)
    assert listed.has_more and [e.size for e in listed.entries] == [20]
    meta, response = bare.files_download(f"rev:{first.rev}")
    assert (meta.rev, response.content) == (first.rev, b"a" * 10)
    with pytest.raises(dbx_exceptions.ApiError) as missing:
        bare.files_download("rev:" + "f" * 15)
    assert missing.value.error.is_path() and missing.value.error.get_path().is_not_found()
    other = bare.files_upload(b"c", f"{top}/g.txt")
    with pytest.raises(dbx_exceptions.ApiError) as invalid:
        bare.files_restore(f"{top}/f.txt", other.rev)
    assert invalid.value.error.is_invalid_revision()
    bare.files_delete_v2(f"{top}/g.txt")
    gone = bare.files_list_revisions(f"{top}/g.txt")  # path mode: a deleted file's too
    assert gone.is_deleted and [e.rev for e in gone.entries] == [other.rev]


def test_search_pages_and_copy_conflicts(emu, provider, bare):
    for n in range(5):
        provider.upload_bytes(provider.root_id, f"Quarterly report {n}.pdf", b"q")
    provider.upload_bytes(provider.root_id, "unrelated.txt", b"u")
    emu.faults.reset_counts()
    found = provider.search("quarterly rep", limit=3)
    assert len(found) == 3 and all(i.name.startswith("Quarterly report") for i in found)
    assert provider.search("QUARTERLY REPORT", limit=10) and provider.search("   ") == []
    page = bare.files_search_v2("quart", options=dbx_files.SearchOptions(max_results=2))
    assert page.has_more and len(page.matches) == 2
    rest = bare.files_search_continue_v2(page.cursor)
    assert rest.matches
    source = provider.upload_bytes(provider.root_id, "src.txt", b"src")
    provider.copy(source.id, provider.root_id, "dup.txt")
    with pytest.raises(NameTaken):
        provider.copy(source.id, provider.root_id, "dup.txt")


def test_faults_hit_the_revision_search_and_copy_routes(emu, provider, picker_calls):
    item = provider.upload_bytes(provider.root_id, "faulty.txt", b"x")
    for route in ("list_revisions", "search_v2", "copy_v2", "restore"):
        emu.faults.throttle(0.01, match=rf"^POST /2/files/{route}$")
    emu.faults.inject(503, match=r"^POST /2/files/download$")
    picker_calls(provider, item, item.version)
    assert sum(emu.faults.injected.values()) == 5
