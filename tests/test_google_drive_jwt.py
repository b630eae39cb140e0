"""The Drive emulator's JWT-bearer grant (service accounts): only an assertion signed with
the key registered for its account gets a token; impersonating a user needs domain-wide
delegation. Through google-auth and the Drive provider, and with hand-made assertions."""

import base64
import json
import time

import pytest
import requests

from cloud_sync.emulators.google_drive import GOOGLE_TOKEN_URI, GoogleDriveEmulator
from cloud_sync.emulators.tls import ca_bundle
from cloud_sync.providers import ReauthRequired
from cloud_sync.providers.google_drive import GoogleDriveProvider
from cloud_sync.retry import RetryPolicy

FAST = RetryPolicy(initial_delay=0.01, max_delay=0.05)
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"


@pytest.fixture(scope="module")
def emulator():
    with GoogleDriveEmulator() as emu:
        yield emu


def _provider(emulator, info, subject=None):
    return GoogleDriveProvider({"api_url": emulator.url + "/", "token_uri": emulator.token_uri,
                                "ca_bundle": ca_bundle(), "service_account_info": info,
                                "subject": subject}, retry=FAST)


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def _grant(emulator, assertion):
    return requests.post(emulator.token_uri, verify=ca_bundle(), timeout=10,
                         data={"grant_type": JWT_BEARER, "assertion": assertion})


def test_registered_key_gets_a_token_and_the_grant_is_recorded(emulator):
    info = emulator.service_account_key("one@project.iam.gserviceaccount.com")
    stored = []
    prov = GoogleDriveProvider({"api_url": emulator.url + "/", "token_uri": emulator.token_uri,
                                "ca_bundle": ca_bundle(), "service_account_info": info},
                               retry=FAST, on_token_refresh=stored.append)
    try:
        assert prov.metadata(prov.root_id).is_folder
        emulator.expire_access_tokens()
        assert prov.metadata(prov.root_id).is_folder  # a new grant with the key
    finally:
        prov.close()
    assert emulator.grants[-2:] == [("one@project.iam.gserviceaccount.com", None)] * 2
    assert stored == []  # nothing to persist: the key is the credential


def test_key_not_registered_or_replaced_is_refused(emulator):
    stray = emulator.service_account_key("nobody@project.iam.gserviceaccount.com",
                                         register=False)
    with pytest.raises(ReauthRequired, match="account not found"):
        _provider(emulator, stray).metadata("root")
    old = emulator.service_account_key("two@project.iam.gserviceaccount.com")
    emulator.service_account_key("two@project.iam.gserviceaccount.com")  # a new key replaces it
    with pytest.raises(ReauthRequired, match="Invalid JWT Signature"):
        _provider(emulator, old).metadata("root")


def test_forged_and_unsigned_assertions_are_refused(emulator):
    emulator.service_account_key("three@project.iam.gserviceaccount.com")
    now = int(time.time())
    claims = _b64({"iss": "three@project.iam.gserviceaccount.com", "aud": GOOGLE_TOKEN_URI,
                   "iat": now, "exp": now + 3600, "scope": "https://www.googleapis.com/auth/drive"})
    given = len(emulator.grants)
    for header, signature in (({"alg": "none", "typ": "JWT"}, ""),
                              ({"alg": "RS256", "typ": "JWT"}, _b64({"forged": True}))):
        answer = _grant(emulator, f"{_b64(header)}.{claims}.{signature}")
        assert answer.status_code == 400, answer.text
        assert answer.json() == {"error": "invalid_grant",
                                 "error_description": "Invalid JWT Signature."}
    assert len(emulator.grants) == given


def test_impersonation_needs_domain_wide_delegation(emulator):
    plain = emulator.service_account_key("four@project.iam.gserviceaccount.com")
    with pytest.raises(ReauthRequired, match="unauthorized_client"):
        _provider(emulator, plain, subject="ann@example.com").metadata("root")
    delegated = emulator.service_account_key("five@project.iam.gserviceaccount.com",
                                             delegated=True)
    prov = _provider(emulator, delegated, subject="ann@example.com")
    try:
        assert prov.metadata(prov.root_id).is_folder
    finally:
        prov.close()
    assert emulator.grants[-1] == ("five@project.iam.gserviceaccount.com", "ann@example.com")
