"""OneDrive / SharePoint specifics: API calls per operation, upload sessions, delta, msal.

Everything goes over real HTTPS to the local Graph emulator: Graph with requests, the
identity platform with msal. Nothing is mocked.
"""

import base64
import io
import json
from urllib.parse import parse_qs, urlparse

import msal
import pytest
import requests

from cloud_sync.emulators.onedrive import (
    CLIENT_ID,
    CLIENT_SECRET,
    SITE_ID,
    TENANT_ID,
    OneDriveEmulator,
)
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
    onedrive,
)
from cloud_sync.providers.onedrive import OneDriveProvider
from cloud_sync.retry import RetryPolicy

FAST = RetryPolicy(initial_delay=0.01, max_delay=0.05, jitter=False)


@pytest.fixture(scope="module")
def emulator():
    with OneDriveEmulator(auto_consent=True) as emu:
        yield emu


def make_provider(emulator, drive_type="business", **config):
    """A provider bound to a fresh folder of the drive (created with a bare request)."""
    settings = emulator.provider_config(drive_type=drive_type)
    url = f"{settings['graph_url']}/drives/{settings['drive_id']}/items/root/children"
    answer = requests.post(url, json={"name": f"t-{len(emulator.items)}", "folder": {}},
                           headers={"Authorization": f"Bearer {settings['access_token']}"},
                           verify=ca_bundle(), timeout=10)
    answer.raise_for_status()
    stored = []
    provider = OneDriveProvider({**settings, "root": answer.json()["id"], **config},
                                retry=FAST, on_token_refresh=stored.append)
    provider.stored_tokens = stored
    return provider


@pytest.fixture
def provider(emulator):
    made = make_provider(emulator)
    yield made
    emulator.faults.clear()
    made.close()


def graph(emulator, method, path, token=None, **kwargs):
    """A bare Graph request (not through the provider)."""
    token = token or emulator.issue_tokens()[0]
    headers = {"Authorization": f"Bearer {token}", **kwargs.pop("headers", {})}
    return requests.request(method, f"{emulator.url}/v1.0{path}", verify=ca_bundle(),
                            headers=headers, timeout=10, **kwargs)


# -- QuickXorHash, checked against the vectors rclone publishes ------------------------------
@pytest.mark.parametrize("data, digest", [
    ("", "AAAAAAAAAAAAAAAAAAAAAAAAAAA="),
    ("Sg==", "SgAAAAAAAAAAAAAAAQAAAAAAAAA="),
    ("2fuxhBJXtpWFe8dOfdGeHw==", "O9tHLAghgSvYohKFyMMxnNCHaHg="),
    ("Zbu+78+e35ZIymV5KTDdub5McyI3FEO8fDxs62uWHQ9U3Oh3ZqgaZ30SnmQ=",
     "DbvbTkgNTgWRqRidA9r1jhtUjro="),
    ("Mb7EGva2rEE5fENDL85P+BsapHEEjv2/siVhKjvAQe02feExVOQSkfmuYzU/kTF1MaKjPmKF/w+c"
     "bvwfdWL8aQ==", "n1anP5NfvD4XDYWIeRPW3ZkPv1Y="),
])
def test_quickxorhash_vectors_whole_and_in_pieces(data, digest):
    raw = base64.b64decode(data)
    assert hash_bytes("quickxor", raw) == digest
    hasher_input = [raw[i:i + 7] for i in range(0, len(raw), 7)]
    from cloud_sync.hashing import hash_chunks

    assert hash_chunks("quickxor", hasher_input) == digest


# -- API calls per operation ---------------------------------------------------------------
def test_one_api_call_per_folder_and_small_file(emulator, provider):
    provider.root_id  # noqa: B018 - resolved from config, costs nothing
    emulator.faults.reset_counts()
    folder = provider.create_folder(provider.root_id, "Invoices")
    provider.upload(folder.id, "a.pdf", io.BytesIO(b"%PDF-1.4 tiny"))
    assert emulator.faults.total() == 2
    assert emulator.faults.total(r"^POST /v1\.0/drives/[^/]+/items/[^/]+/children$") == 1
    assert emulator.faults.total(r"^PUT /v1\.0/drives/.+:/a\.pdf:/content$") == 1


def test_ensure_existing_folder_costs_one_call(emulator, provider):
    made = provider.create_folder(provider.root_id, "Orders")
    emulator.faults.reset_counts()
    assert provider.ensure_folder(provider.root_id, "ORDERS").id == made.id
    assert emulator.faults.total() == 1


def test_steady_state_change_poll_costs_one_call(emulator, provider):
    cursor = provider.initial_cursor()
    for n in range(3):
        provider.create_folder(provider.root_id, f"f{n}")
    changes, cursor = provider.changes(cursor)
    assert sorted(c.item.name for c in changes) == ["f0", "f1", "f2"]
    emulator.faults.reset_counts()
    changes, same = provider.changes(cursor)
    assert changes == [] and same == cursor
    assert emulator.faults.total() == 1


def test_initial_cursor_does_not_enumerate(emulator, provider):
    emulator.seed_files(provider.drive_id, provider.root_id,
                        [(f"s{i}.txt", b"x") for i in range(300)])
    emulator.faults.reset_counts()
    cursor = provider.initial_cursor()
    # a business drive answers delta on its root only: the feed is the drive's
    assert emulator.faults.log == [f"GET /v1.0/drives/{provider.drive_id}/root/delta"
                                   "?token=latest"]
    assert provider.changes(cursor)[0] == []


# -- uploads -------------------------------------------------------------------------------
def test_large_upload_uses_fragments_without_authorization(emulator, provider):
    data = bytes(range(256)) * (9 * 1024 * 1024 // 256) + b"tail"  # 9 MiB + 4
    assert OneDriveProvider.fragment_size % (320 * 1024) == 0
    provider.fragment_size = 4 * 320 * 1024
    emulator.faults.reset_counts()
    item = provider.upload(provider.root_id, "big.bin", io.BytesIO(data))  # size unknown
    # one createUploadSession, then fragments in order, each a multiple of 320 KiB but
    # the last; the emulator refuses anything else
    assert emulator.faults.total(r"createUploadSession$") == 1
    faults = emulator.faults
    sizes = [size for line, size in zip(faults.log, faults.body_sizes, strict=True)
             if line.startswith("PUT /upload/")]
    assert sizes == [provider.fragment_size] * 7 + [len(data) - 7 * provider.fragment_size]
    assert item.size == len(data)
    assert item.content_hash == hash_bytes("quickxor", data)
    assert provider.read_bytes(item.id) == data
    # the emulator refuses fragment PUTs that carry Authorization (pre-authenticated URL)
    session = graph(emulator, "POST", f"/drives/{provider.drive_id}/items/{provider.root_id}"
                    ":/x.bin:/createUploadSession", json={}).json()
    refused = requests.put(session["uploadUrl"], data=b"x", verify=ca_bundle(), timeout=10,
                           headers={"Authorization": "Bearer x", "Content-Range": "bytes 0-0/1"})
    assert refused.status_code == 401


@pytest.mark.parametrize("size, lost", [(1000 * 1024, "first of two fragments"),
                                         (500 * 1024, "the only, last fragment")])
def test_fragment_whose_answer_was_lost_is_not_sent_again(emulator, size, lost):
    """The server stores the fragment after the client timed out; the retry asks the
    session (or the finished item) instead of failing on 416 / 404. Small sizes, so the
    whole fragment sits in the socket buffers before the client gives up."""
    provider = make_provider(emulator, timeout=0.5)
    provider.retry = RetryPolicy(initial_delay=1.5, jitter=False)  # after the slow PUT ends
    provider.chunk_threshold = 100 * 1024
    provider.fragment_size = 2 * 320 * 1024
    data = bytes(range(251)) * (size // 251) + b"!" * (size % 251)
    emulator.faults.reset_counts()
    emulator.faults.slow_down(1.0, match=r"^PUT /upload/")
    item = provider.upload(provider.root_id, "lost.bin", io.BytesIO(data), size)
    assert emulator.faults.injected["slow"] == 1, lost
    assert item.size == size and provider.read_bytes(item.id) == data
    assert emulator.faults.total(r"^GET /upload/") == 1


def test_large_update_keeps_the_id(emulator, provider):
    item = provider.upload_bytes(provider.root_id, "grow.bin", b"small")
    data = b"\x01" * (5 * 1024 * 1024)
    updated = provider.update(item.id, io.BytesIO(data), len(data))
    assert updated.id == item.id and updated.size == len(data)
    assert updated.version != item.version
    assert provider.read_bytes(item.id) == data


def test_simple_upload_is_refused_above_4_mb(emulator, provider):
    answer = graph(emulator, "PUT", f"/drives/{provider.drive_id}/items/{provider.root_id}"
                   ":/huge.bin:/content", data=b"\0" * (4 * 1024 * 1024 + 1))
    assert answer.status_code == 413


def test_fragments_must_be_multiples_of_320_kib(emulator, provider):
    session = graph(emulator, "POST", f"/drives/{provider.drive_id}/items/{provider.root_id}"
                    ":/odd.bin:/createUploadSession", json={}).json()
    answer = requests.put(session["uploadUrl"], data=b"x" * 1000, verify=ca_bundle(),
                          timeout=10, headers={"Content-Range": "bytes 0-999/5000"})
    assert answer.status_code == 400
    answer = requests.put(session["uploadUrl"], data=b"x" * 1000, verify=ca_bundle(),
                          timeout=10, headers={"Content-Range": "bytes 10-1009/5000"})
    assert answer.status_code == 416
    assert answer.json()["error"]["code"] == "invalidRange"


def test_quota_exceeded(emulator):
    provider = make_provider(emulator, drive_type="personal")
    used = graph(emulator, "GET", f"/drives/{provider.drive_id}").json()["quota"]["used"]
    emulator.set_quota(provider.drive_id, used + 10)
    try:
        with pytest.raises(QuotaExceeded):
            provider.upload_bytes(provider.root_id, "too-big.txt", b"x" * 11)
    finally:
        emulator.set_quota(provider.drive_id, 1 << 40)


# -- names -----------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ['a"b', "a*b", "a:b", "a<b", "a>b", "a?b", "a\\b", "a|b",
                                  " lead", "trail ", ".lock", "CON", "com1", "LPT9",
                                  "desktop.ini", "~$draft.docx", "x_vti_y"])
def test_refused_names_are_refused_and_sanitised(emulator, provider, name):
    answer = graph(emulator, "POST", f"/drives/{provider.drive_id}/items/"
                   f"{provider.root_id}/children", json={"name": name, "folder": {}})
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "invalidRequest"
    folder = provider.create_folder(provider.root_id, name)
    assert folder.name == provider.safe_name(name) != name


def test_names_clash_case_insensitively(provider):
    provider.create_folder(provider.root_id, "Report")
    with pytest.raises(NameTaken):
        provider.create_folder(provider.root_id, "REPORT")
    file = provider.upload_bytes(provider.root_id, "a.txt", b"a")
    provider.upload_bytes(provider.root_id, "b.txt", b"b")
    with pytest.raises(NameTaken):
        provider.rename(file.id, "B.TXT")


# -- change feed -----------------------------------------------------------------------------
def test_delta_pages_are_followed_and_deletions_carry_the_facet(emulator, provider):
    cursor = provider.initial_cursor()
    folder = provider.create_folder(provider.root_id, "gone")
    provider.upload_bytes(folder.id, "inner.txt", b"inner")
    emulator.seed_files(provider.drive_id, provider.root_id,
                        [(f"p{i}.txt", b"p") for i in range(12)])
    emulator.page_size = 5
    try:
        emulator.faults.reset_counts()
        provider.delete(folder.id)
        changes, _ = provider.changes(cursor)
    finally:
        emulator.page_size = 200
    assert emulator.faults.total(r"/delta") == 3  # 14 entries, pages of 5
    kinds = {c.item.name: c.type for c in changes}
    assert kinds["gone"] == kinds["inner.txt"] == ChangeType.DELETED
    assert [kinds[f"p{i}.txt"] for i in range(12)] == [ChangeType.CREATED] * 12


def test_fresh_instance_names_changes_from_graph_timestamps(emulator, provider):
    cursor = provider.initial_cursor()
    old = provider.upload_bytes(provider.root_id, "old.txt", b"old")
    provider.rename(old.id, "older.txt")
    new = provider.upload_bytes(provider.root_id, "new.txt", b"new")
    fresh = OneDriveProvider(provider.config, retry=FAST)  # no memory of earlier states
    kinds = {c.item.id: c.type for c in fresh.changes(cursor)[0]}
    assert kinds == {old.id: ChangeType.UPDATED, new.id: ChangeType.CREATED}


def test_business_feed_is_kept_to_the_root_subtree(emulator, provider):
    outside = make_provider(emulator)  # a sibling root in the same drive
    elsewhere = outside.create_folder(outside.root_id, "elsewhere")
    inner = provider.create_folder(provider.root_id, "inner")
    leaving = provider.upload_bytes(inner.id, "leaving.txt", b"bye")
    arriving = outside.upload_bytes(elsewhere.id, "arriving.txt", b"hi")
    answer = graph(emulator, "GET", f"/drives/{provider.drive_id}/items/{inner.id}/delta")
    assert answer.status_code == 400  # as on the real service: root delta only
    cursor = provider.initial_cursor()
    outside.upload_bytes(elsewhere.id, "noise.txt", b"not ours")
    provider.move(leaving.id, elsewhere.id)
    outside.move(arriving.id, inner.id)
    deep = provider.upload_bytes(inner.id, "deep.txt", b"deep")
    fresh = OneDriveProvider(provider.config, retry=FAST)  # knows nothing: looks parents up
    seen = {c.item.id: c.type for c in fresh.changes(cursor)[0]}
    assert seen == {deep.id: ChangeType.CREATED, arriving.id: ChangeType.UPDATED}
    kinds = {c.item.id: c for c in provider.changes(cursor)[0]}
    assert kinds[leaving.id].type == ChangeType.DELETED  # left the root: gone for us
    assert kinds[leaving.id].old_parent_id == inner.id
    assert kinds[deep.id].type == ChangeType.CREATED and arriving.id in kinds
    assert set(kinds) == {leaving.id, deep.id, arriving.id}
    emulator.faults.reset_counts()  # the next foreign change costs no lookup
    _, later = provider.changes(cursor)
    outside.upload_bytes(elsewhere.id, "more noise.txt", b"x")
    assert provider.changes(later)[0] == []
    assert emulator.faults.total(r"^GET /v1\.0/drives/[^/]+/items/[^/]+$") == 0


def test_stale_delta_token_is_410_and_cursor_expired(emulator, provider):
    cursor = provider.initial_cursor()
    emulator.expire_cursors()
    answer = requests.get(cursor, verify=ca_bundle(), timeout=10, headers={
        "Authorization": f"Bearer {provider.config['access_token']}"})
    assert answer.status_code == 410 and answer.json()["error"]["code"] == "resyncRequired"
    with pytest.raises(CursorExpired):
        provider.changes(cursor)


def test_cursor_of_another_host_is_refused(provider):
    with pytest.raises(CursorExpired):
        provider.changes("https://elsewhere.example/v1.0/drives/x/root/delta?token=1")


# -- errors, retries, tokens -----------------------------------------------------------------
def test_missing_item_is_not_found(provider):
    with pytest.raises(NotFound):
        provider.metadata("01NOTANITEM")
    with pytest.raises(NotFound):
        provider.read_bytes("01NOTANITEM")


def test_throttling_is_worded_like_graph_and_honoured(emulator, provider):
    waits = []
    provider.retry = RetryPolicy(initial_delay=0.01, sleep=waits.append)
    emulator.faults.throttle(retry_after=7, count=1)
    answer = graph(emulator, "GET", f"/drives/{provider.drive_id}")
    assert answer.status_code == 429 and answer.headers["Retry-After"] == "7"
    assert answer.json()["error"]["code"] == "activityLimitReached"
    emulator.faults.throttle(retry_after=7, count=1)
    provider.metadata(provider.root_id)
    assert waits == [7.0]


def test_server_errors_give_up_as_retry_later(emulator, provider):
    provider.retry = RetryPolicy(max_attempts=2, initial_delay=0.01)
    emulator.faults.inject(503, count=2)
    with pytest.raises(RetryLater):
        provider.metadata(provider.root_id)


def test_expired_token_refreshes_through_msal_and_reports_new_tokens(emulator, provider):
    old_access, old_refresh = provider.config["access_token"], provider.config["refresh_token"]
    emulator.expire_access_tokens()
    emulator.faults.reset_counts()
    assert provider.metadata(provider.root_id).is_folder
    assert emulator.faults.total(r"^POST /organizations/oauth2/v2\.0/token$") == 1
    [stored] = provider.stored_tokens
    assert stored["access_token"] != old_access and stored["refresh_token"] != old_refresh
    assert provider.config["refresh_token"] == stored["refresh_token"]


@pytest.mark.parametrize("state, code", [("expired", "AADSTS70008"), ("revoked", "AADSTS50173")])
def test_dead_refresh_token_raises_reauth_required(emulator, state, code):
    provider = make_provider(emulator)
    emulator.expire_access_tokens()
    emulator.expire_refresh_tokens(state)
    with pytest.raises(ReauthRequired, match=f"invalid_grant: {code}"):
        provider.metadata(provider.root_id)
    assert provider.stored_tokens == []


def test_client_credentials_grant_for_app_only_access(emulator):
    config = {**emulator.provider_config(drive_type="sharepoint"), "access_token": "",
              "refresh_token": "", "tenant": TENANT_ID}
    provider = OneDriveProvider(config, retry=FAST)
    assert provider.metadata(provider.root_id).is_folder
    assert emulator.access_tokens[provider.config["access_token"]] == "app"
    # app_only: a user's refresh token left in the config is not used
    stale = {**config, "app_only": True, "refresh_token": emulator.issue_tokens("work")[1]}
    app = OneDriveProvider(stale, retry=FAST)
    assert app.metadata(app.root_id).is_folder
    assert emulator.access_tokens[app.config["access_token"]] == "app"


# -- drives, SharePoint, links -----------------------------------------------------------
def test_sharepoint_library_is_resolved_from_the_site(emulator):
    config = {**emulator.provider_config(drive_type="sharepoint"), "drive_id": ""}
    provider = OneDriveProvider(config, retry=FAST)
    libraries = provider.list_libraries()
    assert [lib["name"] for lib in libraries] == ["Documents", "Archive"]
    assert provider.drive_id == libraries[0]["id"] == emulator.library.id
    assert provider.hash_type == "quickxor"
    item = provider.upload_bytes(provider.root_id, f"sp-{len(emulator.items)}.txt", b"sp")
    assert item.content_hash == hash_bytes("quickxor", b"sp")


def test_personal_drive_is_resolved_from_me_and_hashes_with_sha1(emulator):
    config = {**emulator.provider_config(drive_type="personal"), "drive_id": ""}
    provider = OneDriveProvider(config, retry=FAST)
    assert provider.drive_id == emulator.personal.id
    item = provider.upload_bytes(provider.root_id, f"p-{len(emulator.items)}.txt", b"me")
    assert (item.hash_type, item.content_hash) == ("sha1", hash_bytes("sha1", b"me"))


def test_me_drive_follows_the_signed_in_account(emulator):
    work = {**emulator.provider_config(drive_type="business"), "drive_id": ""}
    assert OneDriveProvider(work, retry=FAST).drive_id == emulator.business.id
    app_only = OneDriveProvider({**work, "access_token": "", "refresh_token": "",
                                 "tenant": TENANT_ID}, retry=FAST)
    with pytest.raises(Fatal, match="delegated"):  # app-only access needs a drive_id
        _ = app_only.drive_id


def test_sharepoint_needs_a_site_or_a_drive(emulator):
    config = {**emulator.provider_config(drive_type="sharepoint"), "site_id": "", "drive_id": ""}
    provider = OneDriveProvider(config, retry=FAST)  # built: it may search sites first
    assert provider.sites("Contoso")[0]["id"] == SITE_ID
    with pytest.raises(Fatal, match="site_id"):
        _ = provider.drive_id
    with pytest.raises(ValueError, match="drive_type"):
        OneDriveProvider({"drive_type": "dropbox"})


def test_links_anonymous_and_organization(emulator, provider):
    item = provider.upload_bytes(provider.root_id, "shared.txt", b"shared")
    emulator.faults.reset_counts()
    url = provider.link(item.id, public=True)
    assert emulator.faults.total(r"createLink$") == 1
    page = requests.get(url, verify=ca_bundle(), timeout=10)  # no Authorization: anonymous
    assert page.status_code == 200 and "shared.txt" in page.text
    assert provider.link(item.id, public=True) == url  # the same link is reused
    org = make_provider(emulator, link_scope="organization")
    org_item = org.upload_bytes(org.root_id, "org.txt", b"org")
    assert org.link(org_item.id, public=True) != url
    personal = make_provider(emulator, drive_type="personal", link_scope="organization")
    own = personal.upload_bytes(personal.root_id, "mine.txt", b"mine")
    with pytest.raises(Fatal, match="invalidRequest"):
        personal.link(own.id, public=True)
    assert provider.link(item.id).startswith(emulator.url)


# -- the identity platform: authorize and token endpoints --------------------------------
@pytest.mark.filterwarnings("ignore:response_mode='form_post' is recommended")
def test_authorization_code_flow_with_msal(emulator):
    app = msal.ConfidentialClientApplication(
        CLIENT_ID, client_credential=CLIENT_SECRET, authority=f"{emulator.url}/organizations",
        instance_discovery=False, verify=ca_bundle())
    flow = app.initiate_auth_code_flow(["Files.ReadWrite.All"],
                                       redirect_uri="https://odoo.example/callback")
    answer = requests.get(flow["auth_uri"], allow_redirects=False, verify=ca_bundle(),
                          timeout=10)
    assert answer.status_code == 302
    location = urlparse(answer.headers["Location"])
    assert location.netloc == "odoo.example"
    params = {k: v[0] for k, v in parse_qs(location.query).items()}
    assert params["state"] == flow["state"] and params["code"]
    result = app.acquire_token_by_auth_code_flow(flow, params)
    assert "error" not in result, result
    assert result["id_token_claims"]["aud"] == CLIENT_ID
    claims = json.loads(base64.urlsafe_b64decode(result["client_info"] + "=="))
    assert set(claims) == {"uid", "utid"}
    assert graph(emulator, "GET", "/me/drive", token=result["access_token"]).ok
    again = app.acquire_token_by_auth_code_flow(flow, params)  # a code is spent once
    assert "error" in again


def _consent(url):
    answer = requests.get(url, allow_redirects=False, verify=ca_bundle(), timeout=10)
    assert answer.status_code == 302
    return {k: v[0] for k, v in parse_qs(urlparse(answer.headers["Location"]).query).items()}


@pytest.mark.filterwarnings("ignore:response_mode='form_post' is recommended")
def test_connect_flow_helpers(emulator):
    config = emulator.provider_config(drive_type="personal")
    flow = onedrive.start_connect(config, "https://odoo.example/cb", "csrf-1")
    params = _consent(flow["auth_uri"])
    assert params["state"] == "csrf-1"
    with pytest.raises(Fatal, match="state"):  # a forged state is refused before any call
        onedrive.finish_connect(config, flow, {**params, "state": "forged"})
    tokens = onedrive.finish_connect(config, flow, params)
    assert tokens["account"] == "user@contoso.example" and tokens["refresh_token"]
    provider = OneDriveProvider({**config, **tokens}, retry=FAST)
    assert provider.metadata(provider.root_id).is_folder
    with pytest.raises(ReauthRequired, match="invalid_grant"):  # a code is spent once
        onedrive.finish_connect(config, flow, params)
    emulator.deny_consent = True
    try:
        flow = onedrive.start_connect(config, "https://odoo.example/cb", "csrf-2")
        denied = _consent(flow["auth_uri"])
    finally:
        emulator.deny_consent = False
    with pytest.raises(ReauthRequired, match="access_denied"):
        onedrive.finish_connect(config, flow, denied)


def test_consent_page_accept_and_cancel(emulator):
    """Without ``auto_consent`` the authorize URL shows the permissions page; "Accept"
    redirects back with a code, "Cancel" with access_denied and its description."""
    params = {"client_id": CLIENT_ID, "redirect_uri": "https://odoo.example/cb",
              "state": "s2", "response_type": "code", "scope": "Files.ReadWrite.All offline_access"}
    url = f"{emulator.url}/common/oauth2/v2.0/authorize"
    emulator.auto_consent = False
    try:
        page = requests.get(url, params=params, allow_redirects=False, verify=ca_bundle(),
                            timeout=10)
    finally:
        emulator.auto_consent = True
    assert page.status_code == 200 and CLIENT_ID in page.text
    assert "Files.ReadWrite.All" in page.text and ">Accept</button>" in page.text
    answers = {}
    for decision in ("allow", "deny"):
        answer = requests.get(url, params={**params, "consent": decision},
                              allow_redirects=False, verify=ca_bundle(), timeout=10)
        assert answer.status_code == 302
        answers[decision] = parse_qs(urlparse(answer.headers["Location"]).query)
    assert answers["allow"]["state"] == ["s2"] and answers["allow"]["code"]
    assert answers["deny"]["error"] == ["access_denied"]
    assert answers["deny"]["error_description"][0].startswith("AADSTS65004")


def test_denied_consent_redirects_with_access_denied(emulator):
    emulator.deny_consent = True
    try:
        answer = requests.get(
            f"{emulator.url}/common/oauth2/v2.0/authorize",
            params={"client_id": CLIENT_ID, "redirect_uri": "https://odoo.example/cb",
                    "state": "s1", "response_type": "code"},
            allow_redirects=False, verify=ca_bundle(), timeout=10)
    finally:
        emulator.deny_consent = False
    params = parse_qs(urlparse(answer.headers["Location"]).query)
    assert answer.status_code == 302
    assert params["error"] == ["access_denied"] and params["state"] == ["s1"]
    assert "code" not in params


def test_wrong_client_secret_is_invalid_client(emulator):
    answer = requests.post(f"{emulator.url}/common/oauth2/v2.0/token", verify=ca_bundle(),
                           timeout=10, data={"client_id": CLIENT_ID, "client_secret": "nope",
                                             "grant_type": "refresh_token",
                                             "refresh_token": emulator.issue_tokens()[1]})
    assert answer.status_code == 401 and answer.json()["error"] == "invalid_client"


def test_site_drives_endpoint(emulator):
    drives = graph(emulator, "GET", f"/sites/{SITE_ID}/drives").json()["value"]
    assert {d["driveType"] for d in drives} == {"documentLibrary"}


# -- SharePoint site search -----------------------------------------------------------------
def test_site_search_answers_like_graph_and_pages():
    with OneDriveEmulator() as emu:
        emu.page_size = 2
        for name in ("Marketing EU", "Marketing US", "Sales", "marketing archive"):
            emu.add_site(name)
        app_token = emu.issue_tokens("app")[0]  # app-only tokens may search too
        first = graph(emu, "GET", "/sites?search=MARKET", token=app_token).json()
        assert [s["displayName"] for s in first["value"]] == ["Marketing EU", "Marketing US"]
        assert set(first["value"][0]) >= {"id", "name", "displayName", "webUrl",
                                          "createdDateTime", "siteCollection"}
        assert first["value"][0]["webUrl"] == "https://contoso.sharepoint.com/sites/MarketingEU"
        assert first["value"][0]["id"].startswith("contoso.sharepoint.com,")
        rest = requests.get(first["@odata.nextLink"], verify=ca_bundle(), timeout=10,
                            headers={"Authorization": f"Bearer {app_token}"}).json()
        assert [s["displayName"] for s in rest["value"]] == ["marketing archive"]
        assert "@odata.nextLink" not in rest
        every = graph(emu, "GET", "/sites?search=*&$top=10").json()["value"]
        assert [s["displayName"] for s in every] == [
            "Contoso", "Marketing EU", "Marketing US", "Sales", "marketing archive"]
        both = graph(emu, "GET", "/sites?search=market us").json()["value"]
        assert [s["displayName"] for s in both] == ["Marketing US"]
        assert graph(emu, "GET", "/sites?search=nothing").json() == {"value": []}
        personal = graph(emu, "GET", "/sites?search=*", token=emu.issue_tokens("personal")[0])
        assert personal.status_code == 403
        # a site made by add_drive alone gets a display name and an address
        emu.add_drive("documentLibrary", "Docs", site_id="fabrikam.sharepoint.com,a1,b2")
        [made] = graph(emu, "GET", "/sites?search=site 6").json()["value"]
        assert (made["id"], made["displayName"], made["webUrl"]) == (
            "fabrikam.sharepoint.com,a1,b2", "Site 6", "https://fabrikam.sharepoint.com/sites/site6")
        assert graph(emu, "GET", "/sites/fabrikam.sharepoint.com:/sites/site6:/drive"
                     ).json()["name"] == "Docs"


def test_provider_sites_follow_pages_through_the_retry_path(emulator):
    emulator.add_site("Search Team One")
    emulator.add_site("Search Team Two")
    emulator.add_site("Search Team Three")
    provider = make_provider(emulator)
    emulator.page_size, before = 2, emulator.page_size
    try:
        emulator.faults.reset_counts()
        emulator.faults.throttle(retry_after=0, count=1, match=r"^GET /v1\.0/sites\?")
        found = provider.sites("search team")
        assert [s["name"] for s in found] == ["Search Team One", "Search Team Two",
                                              "Search Team Three"]
        assert set(found[0]) == {"id", "name", "web_url"}
        assert found[0]["web_url"].endswith("/sites/SearchTeamOne")
        assert emulator.faults.total(r"^GET /v1\.0/sites$") == 3  # 2 pages + the 429
        emulator.faults.reset_counts()
        assert len(provider.sites("search team", limit=2)) == 2
        assert emulator.faults.total(r"^GET /v1\.0/sites$") == 1  # no second page
        emulator.expire_access_tokens()  # an expired token is refreshed through msal
        assert provider.sites("nothing like this") == []
        assert len(provider.stored_tokens) == 1
    finally:
        emulator.page_size = before


def test_provider_resolves_a_typed_site_id_path_or_address(emulator):
    team = emulator.add_site("Typed Team", name="typed-team")
    emulator.add_drive("documentLibrary", "Typed Documents", site_id=team.id)
    provider = make_provider(emulator)
    for typed in (team.id, "contoso.sharepoint.com:/sites/typed-team",
                  "https://contoso.sharepoint.com/sites/Typed-Team/Shared%20Documents/Forms/"
                  "AllItems.aspx"):
        assert provider.site(typed) == {"id": team.id, "name": "Typed Team",
                                        "web_url": "https://contoso.sharepoint.com/sites/"
                                        "typed-team"}, typed
    libraries = provider.list_libraries("contoso.sharepoint.com:/sites/typed-team")
    assert [lib["name"] for lib in libraries] == ["Typed Documents"]
    # without the colon before /drives, Graph reads a longer site path: no such site
    assert graph(emulator, "GET", "/sites/contoso.sharepoint.com:/sites/typed-team/drives"
                 ).status_code == 404
    for unknown in ("contoso.sharepoint.com,no-such-site", "https://contoso.sharepoint.com/"
                    "sites/none", "contoso.sharepoint.com:/sites/none"):
        with pytest.raises(NotFound):
            provider.site(unknown)
    path_config = {**emulator.provider_config(drive_type="sharepoint"), "drive_id": "",
                   "site_id": "contoso.sharepoint.com:/sites/typed-team"}
    assert OneDriveProvider(path_config, retry=FAST).drive_id == team.drives[0]


def test_app_only_access_searches_sites_and_lists_libraries(emulator):
    config = {**emulator.provider_config(drive_type="sharepoint"), "access_token": "",
              "refresh_token": "", "tenant": TENANT_ID, "site_id": "", "drive_id": ""}
    provider = OneDriveProvider(config, retry=FAST)
    [contoso] = provider.sites("contoso")
    assert contoso["id"] == SITE_ID
    assert [lib["name"] for lib in provider.list_libraries(contoso["id"])][:2] == [
        "Documents", "Archive"]


# -- strictness: $select, paths with several segments, If-Match -----------------------------
def _drive(provider):
    return f"/drives/{provider.config['drive_id']}"


def test_select_returns_only_the_selected_properties(emulator, provider):
    item = provider.upload_bytes(provider.root_id, "selected.txt", b"selected")
    base = f"{_drive(provider)}/items"
    one = graph(emulator, "GET", f"{base}/{item.id}", params={"$select": "name,size"}).json()
    assert one == {"id": item.id, "name": "selected.txt", "size": 8}  # id is always sent
    for n in range(3):
        provider.upload_bytes(provider.root_id, f"more-{n}.txt", b"x")
    page = graph(emulator, "GET", f"{base}/{provider.root_id}/children",
                 params={"$select": "name,file", "$top": "2"}).json()
    assert all(set(v) == {"id", "name", "file"} for v in page["value"])
    assert "%24select=name%2Cfile" in page["@odata.nextLink"]  # paging keeps the selection
    rest = graph(emulator, "GET", page["@odata.nextLink"][len(emulator.url) + 5:]).json()
    assert all(set(v) == {"id", "name", "file"} for v in rest["value"])
    unknown = graph(emulator, "GET", f"{base}/{item.id}", params={"$select": "name,colour"})
    assert unknown.status_code == 400 and "colour" in unknown.json()["error"]["message"]
    full = graph(emulator, "GET", f"{base}/{item.id}").json()
    assert {"eTag", "cTag", "parentReference", "file", "webUrl"} <= set(full)


def test_delta_with_select_keeps_the_deleted_facet(emulator, provider):
    gone = provider.upload_bytes(provider.root_id, "to-delete.txt", b"bye")
    cursor = graph(emulator, "GET", f"{_drive(provider)}/root/delta",
                   params={"token": "latest"}).json()["@odata.deltaLink"]
    provider.delete(gone.id)
    page = graph(emulator, "GET", f"{cursor[len(emulator.url) + 5:]}&$select=name").json()
    [entry] = [v for v in page["value"] if v["id"] == gone.id]
    assert set(entry) == {"id", "name", "deleted"}
    assert "%24select=name" in page["@odata.deltaLink"]


def test_paths_with_several_segments(emulator, provider):
    base = f"{_drive(provider)}/items/{provider.root_id}"
    made = graph(emulator, "PUT", f"{base}:/deep/er/file.txt:/content", data=b"deep")
    assert made.status_code == 201  # the folders on the way are created
    fetched = graph(emulator, "GET", f"{base}:/Deep/ER/FILE.txt").json()  # case-insensitive
    assert (fetched["id"], fetched["name"]) == (made.json()["id"], "file.txt")
    listed = graph(emulator, "GET", f"{base}:/deep/er:/children").json()["value"]
    assert [v["name"] for v in listed] == ["file.txt"]
    assert graph(emulator, "GET", f"{base}:/deep:/children").json()["value"][0]["name"] == "er"
    assert graph(emulator, "GET", f"{base}:/deep/missing.txt").status_code == 404
    assert graph(emulator, "GET", f"{base}:/deep/er/file.txt/below").status_code == 404
    session = graph(emulator, "POST", f"{base}:/deep/other/big.bin:/createUploadSession",
                    json={"item": {"@microsoft.graph.conflictBehavior": "fail"}})
    assert session.status_code == 200 and session.json()["uploadUrl"]
    renamed = graph(emulator, "PATCH", f"{base}:/deep/er/file.txt", json={"name": "r.txt"})
    assert renamed.status_code == 200 and renamed.json()["name"] == "r.txt"
    assert graph(emulator, "GET", f"{base}:/deep/er/r.txt:/content",
                 allow_redirects=True).content == b"deep"


def test_if_match_with_a_stale_etag_is_412(emulator, provider):
    item = provider.upload_bytes(provider.root_id, "guarded.txt", b"v1")
    url = f"{_drive(provider)}/items/{item.id}"
    stale = graph(emulator, "GET", url).json()["eTag"]
    assert graph(emulator, "PUT", url + "/content", data=b"v2",
                 headers={"If-Match": stale}).status_code == 200
    for method, extra in (("PATCH", {"json": {"name": "x.txt"}}),
                          ("PUT", {"data": b"v3"}), ("DELETE", {})):
        answer = graph(emulator, method, url + ("/content" if method == "PUT" else ""),
                       headers={"If-Match": stale}, **extra)
        assert answer.status_code == 412, method
        assert answer.json()["error"]["code"] == "preconditionFailed"
    current = graph(emulator, "GET", url).json()
    assert current["name"] == "guarded.txt"
    assert graph(emulator, "DELETE", url, headers={"If-Match": current["eTag"]}).status_code \
        == 204


# -- picker and versions ------------------------------------------------------------------
def test_copy_polls_the_monitor_without_the_token_and_reports_clashes(emulator, provider):
    source = provider.upload_bytes(provider.root_id, "deal.txt", b"deal")
    emulator.copy_polls = 3
    try:
        emulator.faults.reset_counts()
        copied = provider.copy(source.id, provider.root_id, "deal copy.txt")
        assert emulator.faults.total(r"^GET /monitor/") == 4
        assert provider.read_bytes(copied.id) == b"deal"
        emulator.copy_polls = 0
        with pytest.raises(NameTaken):
            provider.copy(source.id, provider.root_id, "deal copy.txt")
    finally:
        emulator.copy_polls = 1
    answer = graph(emulator, "POST", f"/drives/{provider.drive_id}/items/{source.id}/copy",
                   json={"parentReference": {"id": provider.root_id}, "name": "bare.txt"})
    assert answer.status_code == 202 and "/monitor/" in answer.headers["Location"]
    status = requests.get(answer.headers["Location"], verify=ca_bundle(), timeout=10)
    assert status.status_code == 202 and status.json()["status"] == "inProgress"


def test_versions_are_graph_versions_and_unknown_ones_are_not_found(emulator, provider):
    item = provider.upload_bytes(provider.root_id, "v.txt", b"one")
    provider.update(item.id, io.BytesIO(b"two!"), 4)
    other = provider.upload_bytes(provider.root_id, "w.txt", b"other")
    listed = graph(emulator, "GET", f"/drives/{provider.drive_id}/items/{item.id}/versions")
    assert [v["id"] for v in listed.json()["value"]] == ["2.0", "1.0"]
    assert [v.id for v in provider.versions(item.id)] == ["2.0", "1.0"]
    with pytest.raises(NotFound):  # a version id is the file's own: not another file's
        list(provider.download_version(other.id, "2.0"))
    with pytest.raises(NotFound):
        provider.restore_version(item.id, "9.0")
    restored = provider.restore_version(item.id, "1.0")
    assert restored.id == item.id and provider.read_bytes(item.id) == b"one"
    assert [v.size for v in provider.versions(item.id)] == [3, 4, 3]


def test_search_keeps_names_beneath_the_root_and_pages_are_graph_links(emulator, provider):
    folder = provider.create_folder(provider.root_id, "Deep")
    provider.upload_bytes(folder.id, "Budget 2026.xlsx", b"numbers")
    provider.upload_bytes(provider.root_id, "notes.txt", b"the budget is in the other file")
    found = provider.search("budget")
    assert [i.name for i in found] == ["Budget 2026.xlsx"]  # the content match is dropped
    with pytest.raises(Fatal):  # a token pointing elsewhere never gets the bearer token
        provider.list_page(provider.root_id, "https://attacker.example/v1.0/x")


def test_faults_hit_the_version_search_copy_and_monitor_routes(emulator, provider, picker_calls):
    item = provider.upload_bytes(provider.root_id, "faulty.txt", b"x")
    for pattern in (r"/versions$", r"/versions/1\.0/content$", r"/search\(", r"/copy",
                    r"^GET /monitor/", r"/restoreVersion$"):
        emulator.faults.throttle(0.01, match=pattern)
    picker_calls(provider, item, "1.0")
    assert sum(emulator.faults.injected.values()) == 6
