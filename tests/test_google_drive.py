"""Google Drive specifics: API calls per operation, resumable uploads, the change feed's
scope and pages, shared drives, service accounts, OAuth endpoints, exports, Drive errors.

Everything goes through the real google-api-python-client against the local Drive
emulator over HTTPS; ``bare`` is the plain SDK used to act "from elsewhere".
"""

import io
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qs, urlparse

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from googleapiclient.errors import HttpError

from cloud_sync.conformance.targets.google_drive import bare_service, provider_config
from cloud_sync.emulators.google_drive import FOLDER, SCOPE, GoogleDriveEmulator
from cloud_sync.emulators.tls import ca_bundle
from cloud_sync.providers import (
    ChangeType,
    CursorExpired,
    Fatal,
    Kind,
    NotFound,
    QuotaExceeded,
    ReauthRequired,
)
from cloud_sync.providers.google_drive import (
    GoogleDriveProvider,
    authorization_url,
    exchange_code,
    export_format,
)
from cloud_sync.retry import RetryPolicy

FAST = RetryPolicy(initial_delay=0.01, max_delay=0.05)
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
ODT = "application/vnd.oasis.opendocument.text"


@pytest.fixture(scope="module")
def emulator():
    with GoogleDriveEmulator(auto_consent=True) as emu:
        yield emu


@pytest.fixture(scope="module")
def bare(emulator):
    return bare_service(emulator)


@pytest.fixture
def provider(emulator, bare):
    root = bare.files().create(body={"name": "t", "mimeType": FOLDER}, fields="id").execute()
    stored = []
    prov = GoogleDriveProvider(provider_config(emulator, root["id"]), retry=FAST,
                               on_token_refresh=stored.append)
    prov.stored_tokens = stored
    yield prov
    emulator.faults.clear()
    prov.close()


# -- API calls per operation ------------------------------------------------------------
def test_one_api_call_per_folder_and_small_file(emulator, provider):
    emulator.faults.reset_counts()
    folder = provider.create_folder(provider.root_id, "Invoices")
    provider.upload(folder.id, "a.pdf", io.BytesIO(b"%PDF-1.4 tiny"))
    assert emulator.faults.total() == 2
    assert emulator.faults.total(r"^POST /drive/v3/files$") == 1
    assert emulator.faults.total(r"^POST /upload/drive/v3/files$") == 1
    assert "uploadType=multipart" in emulator.faults.log[-1]


def test_ensure_folder_asks_for_the_name_in_one_call(emulator, provider):
    for n in range(1100):
        emulator.seed_file(provider.root_id, f"file {n}", b"")
    made = provider.create_folder(provider.root_id, "Ann's \\ folder")
    emulator.faults.reset_counts()
    assert provider.ensure_folder(provider.root_id, "Ann's \\ folder").id == made.id
    assert provider.find_child(provider.root_id, "Ann's \\ folder", kind=Kind.FILE) is None
    assert provider.find_child(provider.root_id, "file 1099").size == 0
    assert emulator.faults.total() == 3


def test_steady_state_change_poll_costs_one_call(emulator, provider):
    cursor = provider.initial_cursor()
    for n in range(5):
        provider.create_folder(provider.root_id, f"f{n}")
    changes, cursor = provider.changes(cursor)
    assert sorted(c.item.name for c in changes) == [f"f{n}" for n in range(5)]
    emulator.faults.reset_counts()
    changes, same = provider.changes(cursor)
    assert changes == [] and same == cursor
    assert emulator.faults.total() == 1


def test_change_feed_follows_pages_until_new_start_token(emulator, provider):
    cursor = provider.initial_cursor()
    for n in range(1005):
        emulator.seed_file(provider.root_id, f"n{n}", b"x")
    emulator.faults.reset_counts()
    changes, _ = provider.changes(cursor)
    assert len(changes) == 1005 and {c.type for c in changes} == {ChangeType.CREATED}
    assert emulator.faults.total(r"^GET /drive/v3/changes$") == 2  # 1000 per page at most


# -- uploads ----------------------------------------------------------------------------
def test_one_provider_shared_by_threads(provider, bare):
    files = {f"t{n}.txt": os.urandom(1000 + n) for n in range(24)}
    with ThreadPoolExecutor(4) as pool:
        items = list(pool.map(lambda kv: provider.upload_bytes(provider.root_id, *kv),
                              files.items()))
        read = dict(pool.map(lambda it: (it.name, provider.read_bytes(it.id)), items))
    assert read == files


def test_resumable_upload_survives_a_failed_chunk(emulator, provider, bare):
    data = os.urandom(3 * provider.chunk_size + 1234)
    emulator.faults.reset_counts()
    emulator.faults.inject(503, match=r"^PUT /upload/drive/v3/files\?.*upload_id", count=1)
    item = provider.upload_bytes(provider.root_id, "big.bin", data)
    assert bare.files().get_media(fileId=item.id).execute() == data
    assert emulator.faults.injected["status"] == 1
    assert emulator.faults.total(r"^POST /upload/drive/v3/files$") == 1  # one session
    # the failed chunk is sent again after a status query, never the whole file
    assert sum(emulator.faults.body_sizes) < len(data) + 2 * provider.chunk_size


def test_update_of_a_large_file_is_resumable_and_keeps_the_id(emulator, provider, bare):
    item = provider.upload_bytes(provider.root_id, "grow.bin", b"small")
    data = os.urandom(provider.chunk_threshold + 10)
    emulator.faults.reset_counts()
    updated = provider.update(item.id, io.BytesIO(data))
    assert updated.id == item.id and updated.size == len(data)
    assert emulator.faults.total(r"^PATCH /upload/drive/v3/files/") == 1
    assert emulator.faults.total(r"^PUT /upload/drive/v3/files/") >= 1
    assert bare.files().get_media(fileId=item.id).execute() == data


def test_unseekable_stream_is_spooled(provider, bare):
    class Pipe(io.RawIOBase):
        def __init__(self, data):
            self._data = io.BytesIO(data)

        def readable(self):
            return True

        def readinto(self, buffer):
            chunk = self._data.read(len(buffer))
            buffer[:len(chunk)] = chunk
            return len(chunk)

    data = os.urandom(provider.chunk_threshold + 99)
    item = provider.upload(provider.root_id, "piped.bin", Pipe(data))
    assert item.size == len(data)
    assert bare.files().get_media(fileId=item.id).execute() == data


# -- change feed scope ------------------------------------------------------------------
def test_change_feed_keeps_to_the_root(emulator, provider, bare):
    outside = bare.files().create(body={"name": "elsewhere", "mimeType": FOLDER},
                                  fields="id").execute()["id"]
    stray = emulator.seed_file(outside, "stray.txt", b"not ours")
    cursor = provider.initial_cursor()
    sub = provider.create_folder(provider.root_id, "sub")
    deep = emulator.seed_file(sub.id, "deep.txt", b"deep")  # parent known from the batch
    emulator.seed_file(outside, "outside.txt", b"outside")
    bare.files().update(fileId=stray, addParents=provider.root_id, removeParents=outside,
                        fields="id").execute()  # moved in: created from the root's view
    emulator.faults.reset_counts()
    changes, cursor = provider.changes(cursor)
    assert sorted((c.type, c.item.name) for c in changes) == [
        (ChangeType.CREATED, "deep.txt"), (ChangeType.CREATED, "stray.txt"),
        (ChangeType.CREATED, "sub")]
    # the poll, then one look-up per unknown ancestor ("elsewhere" and My Drive's root)
    assert emulator.faults.total() == 3
    emulator.seed_file(outside, "outside 2.txt", b"outside")
    emulator.faults.reset_counts()
    assert provider.changes(cursor) == ([], str(int(cursor) + 1))
    assert emulator.faults.total() == 1  # ancestors are remembered
    cursor = str(int(cursor) + 1)
    bare.files().update(fileId=deep, addParents=outside, removeParents=sub.id,
                        fields="id").execute()  # moved out: gone from the root's view
    bare.files().delete(fileId=stray).execute()  # permanent deletion: "removed"
    changes, _ = provider.changes(cursor)
    assert sorted((c.type, c.item.id) for c in changes) == sorted(
        [(ChangeType.DELETED, deep), (ChangeType.DELETED, stray)])


def test_unknown_field_selection_is_refused(bare):
    with pytest.raises(HttpError, match="Invalid field selection"):
        bare.files().list(fields="files(id,nmae)").execute()


def test_untrusted_certificate_is_fatal(emulator):
    prov = GoogleDriveProvider({**provider_config(emulator), "ca_bundle": ""}, retry=FAST)
    with pytest.raises(Fatal, match="ca_bundle"):
        prov.metadata("root")


def test_garbage_cursor_is_expired(provider):
    with pytest.raises(CursorExpired):
        provider.changes("not-a-token")


# -- shared drives ----------------------------------------------------------------------
def test_shared_drive(emulator):
    drive_id = emulator.create_shared_drive("Team")
    shared = GoogleDriveProvider({**provider_config(emulator), "drive_id": drive_id},
                                 retry=FAST)
    mine = GoogleDriveProvider(provider_config(emulator), retry=FAST)
    assert shared.root_id == drive_id
    assert {"id": drive_id, "name": "Team"} in mine.shared_drives()
    assert mine.account()["user"]["emailAddress"] == "user@example.com"
    cursor, my_cursor = shared.initial_cursor(), mine.initial_cursor()
    folder = shared.create_folder(shared.root_id, "Projects")
    item = shared.upload_bytes(folder.id, "plan.txt", b"plan")
    assert item.extra["drive_id"] == drive_id
    assert [c.name for c in shared.list_children(folder.id)] == ["plan.txt"]
    assert shared.read_bytes(item.id) == b"plan"
    changes, _ = shared.changes(cursor)
    assert sorted(c.item.name for c in changes) == ["Projects", "plan.txt"]
    assert mine.changes(my_cursor)[0] == []  # My Drive's feed does not see the team's
    # without supportsAllDrives the real SDK gets Drive's 404 for shared-drive items
    bare = bare_service(emulator)
    with pytest.raises(HttpError, match="File not found"):
        bare.files().get(fileId=item.id).execute()


# -- credentials ------------------------------------------------------------------------
def test_first_call_refreshes_and_reports_the_new_token(emulator, bare):
    stored = []
    config = emulator.provider_config()
    prov = GoogleDriveProvider(config, retry=FAST, on_token_refresh=stored.append)
    assert prov.metadata(prov.root_id).is_folder
    assert len(stored) == 1
    assert stored[0]["refresh_token"] == config["refresh_token"]
    assert stored[0]["access_token"] in emulator.access_tokens


def test_revoked_refresh_token_raises_reauth_required(emulator):
    prov = GoogleDriveProvider(emulator.provider_config(), retry=FAST)
    emulator.revoke_refresh_tokens()
    try:
        with pytest.raises(ReauthRequired, match="expired or revoked"):
            prov.metadata("root")
    finally:
        emulator.refresh_token = emulator.issue_refresh_token()


def _service_account(emulator, register: bool = True):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    email = "sync@project.iam.gserviceaccount.com"
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    if register:
        emulator.service_accounts[email] = key.public_key()
    return {"type": "service_account", "client_email": email, "private_key": pem,
            "private_key_id": "k1", "token_uri": "https://oauth2.googleapis.com/token"}


def test_service_account_gets_a_token_with_a_signed_jwt(emulator):
    info = _service_account(emulator)
    drive_id = emulator.create_shared_drive("Service drive")
    prov = GoogleDriveProvider({"api_url": emulator.url + "/", "token_uri": emulator.token_uri,
                                "ca_bundle": ca_bundle(), "drive_id": drive_id,
                                "service_account_info": json.dumps(info)}, retry=FAST)
    folder = prov.create_folder(prov.root_id, "by service account")
    assert folder.extra["drive_id"] == drive_id
    emulator.service_accounts[info["client_email"]] = rsa.generate_private_key(
        public_exponent=65537, key_size=2048).public_key()  # the key was rotated
    emulator.faults.expire_token()
    with pytest.raises(ReauthRequired, match="Signature"):
        prov.metadata(folder.id)


def test_authorize_and_code_exchange(emulator):
    config = emulator.provider_config()
    redirect = "https://odoo.example.com/google_drive/callback"
    url = authorization_url(config, redirect, "s-123")
    answer = requests.get(url, verify=ca_bundle(), allow_redirects=False, timeout=10)
    assert answer.status_code == 302
    location = urlparse(answer.headers["Location"])
    query = parse_qs(location.query)
    assert location.netloc == "odoo.example.com" and query["state"] == ["s-123"]
    tokens = exchange_code(config, query["code"][0], redirect)
    assert set(tokens) == {"access_token", "refresh_token", "token_expiry"}
    with pytest.raises(ReauthRequired, match="invalid_grant"):  # a code is spent once
        exchange_code(config, query["code"][0], redirect)
    stored = []
    prov = GoogleDriveProvider({**config, **tokens}, retry=FAST, on_token_refresh=stored.append)
    assert prov.metadata(prov.root_id).is_folder
    assert stored == []  # the exchanged access token was used as it is
    emulator.deny = True
    try:
        denied = requests.get(url, verify=ca_bundle(), allow_redirects=False, timeout=10)
    finally:
        emulator.deny = False
    query = parse_qs(urlparse(denied.headers["Location"]).query)
    assert query == {"error": ["access_denied"], "state": ["s-123"]}


def test_consent_page_allow_and_cancel(emulator):
    """Without ``auto_consent`` the authorize URL shows the consent page; its buttons
    redirect back with a code or with ``error=access_denied``."""
    config = emulator.provider_config()
    url = authorization_url(config, "https://odoo.example.com/cb", "s-9")
    emulator.auto_consent = False
    try:
        page = requests.get(url, verify=ca_bundle(), allow_redirects=False, timeout=10)
    finally:
        emulator.auto_consent = True
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert config["client_id"] in page.text and SCOPE in page.text
    assert ">Allow</button>" in page.text and ">Cancel</button>" in page.text
    answers = {}
    for decision in ("allow", "deny"):
        answer = requests.get(url + "&consent=" + decision, verify=ca_bundle(),
                              allow_redirects=False, timeout=10)
        assert answer.status_code == 302
        answers[decision] = parse_qs(urlparse(answer.headers["Location"]).query)
    assert answers["allow"]["state"] == ["s-9"] and answers["allow"]["code"]
    assert answers["deny"] == {"error": ["access_denied"], "state": ["s-9"]}


# -- links, exports, errors -------------------------------------------------------------
def test_public_link_is_an_anyone_permission(emulator, provider, bare):
    item = provider.upload_bytes(provider.root_id, "shared.txt", b"shared")
    internal = provider.link(item.id)
    closed = requests.get(internal, verify=ca_bundle(), allow_redirects=False, timeout=10)
    assert closed.status_code == 302  # to the sign-in page
    public = provider.link(item.id, public=True)
    perms = bare.permissions()
    listed = perms.list(fileId=item.id, fields="permissions(type,role)").execute()
    assert {"type": "anyone", "role": "reader"} in listed["permissions"]
    assert requests.get(public, verify=ca_bundle(), timeout=10).status_code == 200
    content_link = bare.files().get(fileId=item.id, fields="webContentLink").execute()
    download = requests.get(content_link["webContentLink"], verify=ca_bundle(), timeout=10)
    assert download.content == b"shared"


def test_export_of_native_documents(emulator, provider):
    doc = emulator.seed_native(provider.root_id, "Report", "application/vnd.google-apps.document",
                               {DOCX: b"PK docx bytes", ODT: b"PK odt bytes"})
    assert export_format("application/vnd.google-apps.document") == (DOCX, "docx")
    assert export_format("application/vnd.google-apps.document", odf=True) == (ODT, "odt")
    assert export_format("application/vnd.google-apps.drawing")[1] == "pdf"
    assert b"".join(provider.export(doc, "docx")) == b"PK docx bytes"
    assert b"".join(provider.export(doc, ODT)) == b"PK odt bytes"
    with pytest.raises(Fatal, match="conversion is not supported"):
        list(provider.export(doc, "xlsx"))
    item = provider.metadata(doc)
    assert item.mime_type == "application/vnd.google-apps.document" and item.content_hash is None
    with pytest.raises(Fatal, match="fileNotDownloadable"):
        provider.read_bytes(doc)
    with pytest.raises(Fatal):
        export_format("application/pdf")


def test_403_rate_limit_is_retried(emulator, provider):
    emulator.faults.inject(403, count=1)  # plain 403 is not throttling...
    with pytest.raises(Fatal):
        provider.metadata(provider.root_id)

    def rate_limited(status, retry_after):
        body = json.dumps({"error": {"code": 403, "message": "User Rate Limit Exceeded",
                                     "errors": [{"reason": "userRateLimitExceeded"}]}})
        return "403 Forbidden", [("Content-Type", "application/json")], body.encode()

    default = emulator.faults.error_answer
    emulator.faults.error_answer = rate_limited
    try:
        emulator.faults.inject(403, count=2)
        assert provider.metadata(provider.root_id).is_folder
        assert emulator.faults.injected["status"] == 3
    finally:
        emulator.faults.error_answer = default


def test_storage_quota(emulator, provider):
    emulator.quota_bytes = sum(len(c) for c in emulator.contents.values()) + 10
    try:
        with pytest.raises(QuotaExceeded):
            provider.upload_bytes(provider.root_id, "too big.bin", b"x" * 11)
    finally:
        emulator.quota_bytes = None


def test_cli_prints_a_working_config():
    proc = subprocess.Popen([sys.executable, "-m", "cloud_sync.emulators", "google_drive"],
                            stdout=subprocess.PIPE, text=True)
    try:
        info = json.loads(proc.stdout.readline())
        prov = GoogleDriveProvider(info["config"], retry=FAST)
        assert prov.metadata(prov.root_id).name == "My Drive"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


# -- the q language and orderBy --------------------------------------------------------------
def _names(bare, q, order=None):
    args = {"q": q, "fields": "files(name)", "pageSize": 1000}
    if order:
        args["orderBy"] = order
    return [f["name"] for f in bare.files().list(**args).execute()["files"]]


def test_q_grammar_and_or_not_parentheses_and_terms(emulator, bare):
    top = bare.files().create(body={"name": "q-top", "mimeType": FOLDER},
                              fields="id").execute()["id"]
    other = bare.files().create(body={"name": "q-other", "mimeType": FOLDER},
                                fields="id").execute()["id"]

    def make(name, parent, mime="text/plain"):
        return bare.files().create(body={"name": name, "parents": [parent], "mimeType": mime},
                                   fields="id,modifiedTime").execute()

    make("HelloWorld.txt", top)
    make("say hello.txt", top)
    make("Quarterly Report.pdf", top, "application/pdf")
    make("Sub", top, FOLDER)
    early = make("old note.txt", other)
    gone = make("gone hello.txt", top)
    bare.files().update(fileId=gone["id"], body={"trashed": True}).execute()
    inside = f"'{top}' in parents"
    assert sorted(_names(bare, f"{inside} and name contains 'hello'")) == [
        "HelloWorld.txt", "gone hello.txt", "say hello.txt"]
    assert _names(bare, f"{inside} and name contains 'World'") == []  # not a word start
    assert _names(bare, f"{inside} and name contains 'quarterly rep'") == [
        "Quarterly Report.pdf"]
    assert sorted(_names(bare, f"{inside} and trashed = false and not name contains 'hello'"
                         )) == ["Quarterly Report.pdf", "Sub"]
    assert sorted(_names(bare, f"({inside} or '{other}' in parents) and mimeType != "
                               f"'{FOLDER}' and trashed=false and (name contains 'old' or "
                               "mimeType = 'application/pdf')")) == [
        "Quarterly Report.pdf", "old note.txt"]
    assert _names(bare, f"{inside} and mimeType contains 'pdf'") == ["Quarterly Report.pdf"]
    assert _names(bare, f"{inside} and trashed = true") == ["gone hello.txt"]
    beside = f"'{other}' in parents"  # one folder: the module's drive has > 1000 files
    assert _names(bare, f"{beside} and modifiedTime > '{early['modifiedTime']}'") == []
    assert _names(bare, f"{beside} and modifiedTime > '2012-06-04T12:00:00'") == [
        "old note.txt"]
    assert _names(bare, f"{beside} and modifiedTime <= '{early['modifiedTime']}'") == [
        "old note.txt"]
    assert _names(bare, r"name = 'it\'s'") == []  # an escaped quote is a quote
    for wrong in (f"{inside} and", "name contains", "name > 'a'", "(name = 'a'",
                  "trashed = 'yes'", "'x' in owners", "size = '3'", "modifiedTime > 'soon'"):
        with pytest.raises(HttpError) as refused:
            _names(bare, wrong)
        assert refused.value.resp.status == 400, wrong


def test_order_by(emulator, bare):
    top = bare.files().create(body={"name": "order-top", "mimeType": FOLDER},
                              fields="id").execute()["id"]
    for name, mime in (("b10.txt", "text/plain"), ("B2.txt", "text/plain"),
                       ("a folder", FOLDER), ("c.txt", "text/plain")):
        bare.files().create(body={"name": name, "parents": [top], "mimeType": mime}).execute()
    inside = f"'{top}' in parents"
    assert _names(bare, inside) == ["b10.txt", "B2.txt", "a folder", "c.txt"]  # creation
    assert _names(bare, inside, "name") == ["a folder", "b10.txt", "B2.txt", "c.txt"]
    assert _names(bare, inside, "name_natural") == ["a folder", "B2.txt", "b10.txt", "c.txt"]
    assert _names(bare, inside, "folder,name desc") == ["a folder", "c.txt", "B2.txt",
                                                         "b10.txt"]
    with pytest.raises(HttpError) as refused:
        _names(bare, inside, "size")
    assert refused.value.resp.status == 400


# -- picker and versions ------------------------------------------------------------------
def test_revisions_are_the_files_own_and_restore_is_a_new_head(emulator, provider, bare):
    item = provider.upload_bytes(provider.root_id, "r.txt", b"one")
    provider.update(item.id, io.BytesIO(b"two!"), 4)
    other = provider.upload_bytes(provider.root_id, "o.txt", b"other")
    listed = bare.revisions().list(fileId=item.id, fields="revisions(id,size)").execute()
    assert [r["size"] for r in listed["revisions"]] == ["3", "4"]  # Drive: oldest first
    versions = provider.versions(item.id)
    assert [v.size for v in versions] == [4, 3] and versions[0].author == "Emulator User"
    head = bare.files().get(fileId=item.id, fields="headRevisionId").execute()
    assert versions[0].id == head["headRevisionId"]
    other_head = provider.versions(other.id)[0].id
    with pytest.raises(NotFound):  # another file's revision id
        list(provider.download_version(item.id, other_head))
    restored = provider.restore_version(item.id, versions[1].id)
    assert restored.id == item.id and restored.size == 3
    assert [v.size for v in provider.versions(item.id)] == [3, 4, 3]
    kept = bare.revisions().update(fileId=item.id, revisionId=versions[1].id,
                                   body={"keepForever": True}, fields="keepForever").execute()
    assert kept == {"keepForever": True}
    with pytest.raises(HttpError) as refused:
        bare.revisions().update(fileId=item.id, revisionId=versions[1].id,
                                body={"size": "1"}).execute()
    assert refused.value.resp.status == 403


def test_copy_is_one_call_with_the_name_and_folders_are_not_copied(emulator, provider, bare):
    source = provider.upload_bytes(provider.root_id, "c.txt", b"copy")
    folder = provider.create_folder(provider.root_id, "F")
    emulator.faults.reset_counts()
    provider.copy(source.id, folder.id, "named.txt")
    assert emulator.faults.total() == 1
    assert emulator.faults.total(r"^POST /drive/v3/files/[^/]+/copy") == 1
    default = bare.files().copy(fileId=source.id, body={}, fields="name").execute()
    assert default["name"] == "Copy of c.txt"  # Drive's own default, hence the name sent
    with pytest.raises(Fatal):
        provider.copy(folder.id, provider.root_id)


def test_search_uses_name_contains_and_keeps_the_root(emulator, provider, bare):
    provider.upload_bytes(provider.root_id, "Annual Report.pdf", b"r")
    bare.files().create(body={"name": "Annual Report elsewhere.pdf"}, fields="id").execute()
    emulator.faults.reset_counts()
    found = provider.search("annual rep")
    assert [i.name for i in found] == ["Annual Report.pdf"]
    assert any("name+contains" in line or "name%20contains" in line
               for line in emulator.faults.log)
    assert provider.search("nual") == []  # Drive matches the start of words only


def test_faults_hit_the_revision_search_and_copy_routes(emulator, provider, picker_calls):
    item = provider.upload_bytes(provider.root_id, "faulty.txt", b"x")
    emulator.faults.throttle(0.01, match=r"^GET /drive/v3/files/[^/]+/revisions\?")
    emulator.faults.throttle(0.01, match=r"^GET /drive/v3/files/[^/]+/revisions/[^/?]+\?")
    emulator.faults.throttle(0.01, match=r"/copy\?")
    emulator.faults.throttle(0.01, match=r"^GET /drive/v3/files\?.*name")
    picker_calls(provider, item, item.version)
    assert sum(emulator.faults.injected.values()) == 4
