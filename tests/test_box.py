"""Box-specific behaviour: API calls per operation, rotating refresh tokens, the events feed.

Everything goes through the real boxsdk against the local Box emulator over HTTPS.
"""

import io
from urllib.parse import parse_qs, urlparse

import pytest
import requests

from cloud_sync.emulators.box import CLIENT_ID, BoxEmulator
from cloud_sync.providers import ChangeType, NameTaken, ReauthRequired
from cloud_sync.providers.box import BoxProvider
from cloud_sync.retry import RetryPolicy

FAST = RetryPolicy(initial_delay=0.01, max_delay=0.05)


@pytest.fixture(scope="module")
def emulator():
    with BoxEmulator(auto_consent=True) as emu:
        yield emu


@pytest.fixture
def provider(emulator):
    admin = BoxProvider(emulator.provider_config(), retry=FAST)
    root = admin.create_folder(admin.root_id, f"t-{len(emulator.nodes)}")
    stored = []
    prov = BoxProvider(emulator.provider_config(root.id), retry=FAST,
                       on_token_refresh=stored.append)
    prov.stored_tokens = stored
    return prov


def test_one_api_call_per_folder_and_small_file(emulator, provider):
    emulator.faults.reset_counts()
    folder = provider.create_folder(provider.root_id, "Invoices")
    provider.upload(folder.id, "a.pdf", io.BytesIO(b"%PDF-1.4 tiny"))
    assert emulator.faults.total() == 2
    assert emulator.faults.total(r"^POST /2\.0/folders$") == 1
    assert emulator.faults.total(r"^POST /api/2\.0/files/content$") == 1


def test_steady_state_change_poll_costs_one_call(emulator, provider):
    cursor = provider.initial_cursor()
    for n in range(5):
        provider.create_folder(provider.root_id, f"f{n}")
    _changes, cursor = provider.changes(cursor)
    emulator.faults.reset_counts()
    changes, same = provider.changes(cursor)
    assert changes == [] and same == cursor
    assert emulator.faults.total() == 1


def test_refresh_tokens_rotate_and_each_new_pair_is_reported(emulator, provider):
    first_refresh = provider.config["refresh_token"]
    emulator.faults.expire_token()
    provider.metadata(provider.root_id)
    assert len(provider.stored_tokens) == 1
    new = provider.stored_tokens[0]
    assert new["refresh_token"] != first_refresh
    # the spent refresh token is refused by the server: single use
    answer = requests.post(f"{emulator.url}/oauth2/token", verify=provider.config["ca_bundle"],
                           data={"grant_type": "refresh_token", "refresh_token": first_refresh,
                                 "client_id": CLIENT_ID, "client_secret": "box-client-secret"})
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_grant"


def test_revoked_grant_raises_reauth_required(emulator):
    prov = BoxProvider(emulator.provider_config(), retry=FAST)
    emulator.revoke_refresh_tokens()
    emulator.expire_access_tokens()
    with pytest.raises(ReauthRequired):
        prov.metadata(prov.root_id)


def test_client_credentials_grant(emulator):
    config = emulator.provider_config()
    ccg = BoxProvider({**config, "auth": "ccg", "enterprise_id": "42", "access_token": None,
                       "refresh_token": None}, retry=FAST)
    folder = ccg.create_folder(ccg.root_id, "ccg-made")
    assert ccg.metadata(folder.id).name == "ccg-made"


def test_name_taken_carries_the_existing_id_case_insensitively(provider):
    first = provider.create_folder(provider.root_id, "Contracts")
    with pytest.raises(NameTaken) as caught:
        provider.create_folder(provider.root_id, "CONTRACTS")
    assert caught.value.existing_id == first.id
    assert provider.ensure_folder(provider.root_id, "contracts").id == first.id


def test_move_out_of_the_root_is_reported_as_deleted(emulator, provider):
    outside = BoxProvider(emulator.provider_config(), retry=FAST).create_folder(
        "folder:0", f"outside-{len(emulator.nodes)}")
    item = provider.upload_bytes(provider.root_id, "leaving.txt", b"bye")
    cursor = provider.initial_cursor()
    provider.move(item.id, outside.id)
    changes, _ = provider.changes(cursor)
    assert [(c.type, c.item.id) for c in changes] == [(ChangeType.DELETED, item.id)]


def test_repeated_events_are_reported_once(emulator, provider):
    cursor = provider.initial_cursor()
    provider.create_folder(provider.root_id, "once")
    with emulator.lock:
        emulator.events.append(dict(emulator.events[-1]))  # Box may deliver an event twice
    changes, _ = provider.changes(cursor)
    assert [c.item.name for c in changes] == ["once"]


def test_authorize_endpoint_redirects_with_code_or_denial(emulator):
    ca = emulator.provider_config()["ca_bundle"]
    url = f"{emulator.url}/api/oauth2/authorize"
    params = {"client_id": CLIENT_ID, "redirect_uri": "https://odoo.test/cb", "state": "s1",
              "response_type": "code"}
    answer = requests.get(url, params=params, verify=ca, allow_redirects=False)
    query = parse_qs(urlparse(answer.headers["Location"]).query)
    assert answer.status_code == 302 and query["state"] == ["s1"] and query["code"]
    emulator.deny_consent = True
    try:
        answer = requests.get(url, params=params, verify=ca, allow_redirects=False)
    finally:
        emulator.deny_consent = False
    assert parse_qs(urlparse(answer.headers["Location"]).query)["error"] == ["access_denied"]
    emulator.auto_consent = False  # the consent page, then its buttons
    try:
        page = requests.get(url, params=params, verify=ca, allow_redirects=False)
        assert page.status_code == 200 and CLIENT_ID in page.text
        assert ">Grant access to Box</button>" in page.text
        answers = {d: parse_qs(urlparse(requests.get(
            url, params={**params, "consent": d}, verify=ca, allow_redirects=False,
        ).headers["Location"]).query) for d in ("allow", "deny")}
    finally:
        emulator.auto_consent = True
    assert answers["allow"]["code"] and answers["deny"]["error"] == ["access_denied"]


# -- strictness: fields, If-Match, what events carry ----------------------------------------
MINI_FILE = {"type", "id", "etag", "sequence_id", "name", "sha1", "file_version"}


def test_fields_give_the_mini_representation_plus_what_was_asked(emulator, provider):
    item = provider.upload_bytes(provider.root_id, "fields.txt", b"fields")
    raw = item.id.split(":")[1]
    sdk = provider.client
    asked = sdk.files.get_file_by_id(raw, fields=["size"]).to_dict()
    assert set(asked) == MINI_FILE | {"size"}  # no parent, no modified_at: not asked
    standard = sdk.files.get_file_by_id(raw).to_dict()
    assert {"parent", "path_collection", "modified_at", "size"} <= set(standard)
    assert "version_number" not in standard  # sent only when asked for
    assert sdk.files.get_file_by_id(raw, fields=["version_number"]).version_number == "1"
    listed = sdk.folders.get_folder_items(provider.root_id.split(":")[1]).entries
    assert [set(e.to_dict()) for e in listed] == [MINI_FILE]  # listings: mini by default
    moved = sdk.files.update_file_by_id(raw, name="renamed.txt", fields=["name"]).to_dict()
    assert set(moved) == MINI_FILE


def test_if_match_with_a_stale_etag_is_412(emulator, provider):
    from box_sdk_gen.box.errors import BoxAPIError
    from box_sdk_gen.managers.uploads import UploadFileVersionAttributes

    item = provider.upload_bytes(provider.root_id, "etag.txt", b"one")
    raw = item.id.split(":")[1]
    sdk = provider.client
    stale = sdk.files.get_file_by_id(raw).etag
    sdk.files.update_file_by_id(raw, name="etag2.txt", if_match=stale)  # current: accepted
    refusals = [
        lambda: sdk.files.update_file_by_id(raw, name="etag3.txt", if_match=stale),
        lambda: sdk.files.delete_file_by_id(raw, if_match=stale),
        lambda: sdk.uploads.upload_file_version(
            raw, UploadFileVersionAttributes(name="etag2.txt"), io.BytesIO(b"two"),
            if_match=stale),
    ]
    for refused in refusals:
        with pytest.raises(BoxAPIError) as failed:
            refused()
        assert failed.value.response_info.status_code == 412
        assert failed.value.response_info.body["code"] == "precondition_failed"
    assert provider.read_bytes(item.id) == b"one"
    assert provider.metadata(item.id).name == "etag2.txt"
    folder = provider.create_folder(provider.root_id, "etag folder")
    folder_raw = folder.id.split(":")[1]
    with pytest.raises(BoxAPIError) as failed:
        sdk.folders.update_folder_by_id(folder_raw, name="x", if_match="999")
    assert failed.value.response_info.status_code == 412


def test_upload_events_carry_no_version_number_and_are_still_told_apart(emulator, provider):
    """An upload event's source is the standard file object, without ``version_number``:
    the provider tells a new file from a new version by ``sequence_id``."""
    cursor = provider.initial_cursor()
    item = provider.upload_bytes(provider.root_id, "versions.txt", b"v1")
    provider.update(item.id, io.BytesIO(b"v2"))
    sources = [e["source"] for e in emulator.events[-2:]]
    assert all("version_number" not in s for s in sources)
    changes, _ = provider.changes(cursor)
    assert [(c.type, c.item.id) for c in changes] == [
        (ChangeType.CREATED, item.id), (ChangeType.UPDATED, item.id)]


EVENT_SOURCE = {"item_type", "item_id", "item_name", "parent", "owned_by"}


def test_event_sources_have_the_documented_shape_per_type(emulator, provider):
    """Renames, moves and trashes carry Box's "event source" (no path, etag or sha1):
    the provider looks such an item up once per feed read, and reports a trashed one
    as deleted once, whatever happened to it before."""
    root = provider.root_id
    sub = provider.create_folder(root, "shapes")
    renamed = provider.upload_bytes(root, "r.txt", b"r")
    moved = provider.upload_bytes(root, "m.txt", b"m")
    doomed = provider.upload_bytes(root, "d.txt", b"d")
    cursor = provider.initial_cursor()
    start = len(emulator.events)
    provider.rename(renamed.id, "r2.txt")
    provider.move(moved.id, sub.id)
    provider.rename(doomed.id, "d2.txt")
    provider.delete(doomed.id)
    events = emulator.events[start:]
    assert [e["event_type"] for e in events] == [
        "ITEM_RENAME", "ITEM_MOVE", "ITEM_RENAME", "ITEM_TRASH"]
    assert all(set(e["source"]) == EVENT_SOURCE for e in events)
    assert events[1]["source"]["parent"]["id"] == sub.id.split(":")[1]
    before = provider.requests
    changes, _ = provider.changes(cursor)
    assert provider.requests - before == 1 + 3  # the page, then one lookup per item
    assert [(c.type, c.item.id) for c in changes] == [
        (ChangeType.RENAMED, renamed.id), (ChangeType.MOVED, moved.id),
        (ChangeType.DELETED, doomed.id)]
    assert changes[0].item.name == "r2.txt" and changes[1].item.parent_id == sub.id
    assert changes[0].item.content_hash == renamed.content_hash  # from the lookup


# -- the picker and versions ------------------------------------------------------------
def test_search_finds_names_containing_the_words_beneath_the_root(emulator, provider):
    """Box matches whole words (any of them); the provider keeps the names that contain
    the query, beneath the root (``ancestor_folder_ids``), in one request."""
    folder = provider.create_folder(provider.root_id, "Quarterly")
    wanted = provider.upload_bytes(folder.id, "Quarterly Report 2026.pdf", b"q")
    provider.upload_bytes(folder.id, "Report.pdf", b"r")
    emulator.faults.reset_counts()
    assert [i.id for i in provider.search("quarterly report")] == [wanted.id]
    assert emulator.faults.total(r"^GET /2\.0/search$") == 1
    assert {i.name for i in provider.search("REPORT")} == {"Quarterly Report 2026.pdf",
                                                          "Report.pdf"}
    assert {i.id for i in provider.search("Quarterly")} == {folder.id, wanted.id}


def test_copy_is_one_request_and_a_taken_name_is_refused(emulator, provider):
    source = provider.upload_bytes(provider.root_id, "source.txt", b"source")
    emulator.faults.reset_counts()
    copied = provider.copy(source.id, provider.root_id, "copy.txt")
    assert emulator.faults.total() == 1 and copied.name == "copy.txt"
    assert provider.versions(copied.id)[0].current and len(provider.versions(copied.id)) == 1
    with pytest.raises(NameTaken):
        provider.copy(source.id, provider.root_id, "COPY.txt")
