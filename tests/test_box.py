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
    with BoxEmulator() as emu:
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
