"""The Box emulator's token endpoint as the SDK meets it: the client credentials grant
needs a subject, and every grant (refresh or client credentials) is recorded in order."""

import pytest

from cloud_sync.emulators.box import BoxEmulator
from cloud_sync.providers import ReauthRequired
from cloud_sync.providers.box import BoxProvider
from cloud_sync.retry import RetryPolicy

FAST = RetryPolicy(initial_delay=0.01, max_delay=0.05)


@pytest.fixture(scope="module")
def emulator():
    with BoxEmulator() as emu:
        yield emu


def _ccg(emulator, **options):
    config = emulator.provider_config()
    return BoxProvider({**config, "auth": "ccg", "access_token": None, "refresh_token": None,
                        **options}, retry=FAST)


def test_client_credentials_grant_is_recorded_with_its_subject(emulator):
    for subject, recorded in (({"enterprise_id": "42"}, "enterprise:42"),
                              ({"user_id": "7"}, "user:7")):
        prov = _ccg(emulator, **subject)
        assert prov.metadata(prov.root_id).is_folder
        assert emulator.grants[-1] == ("client_credentials", recorded)
        # an expired token is replaced by a new client credentials grant, no refresh token
        emulator.expire_access_tokens()
        rejected = emulator.rejected_calls
        assert prov.metadata(prov.root_id).is_folder
        assert emulator.rejected_calls == rejected + 1
        assert emulator.grants[-1] == ("client_credentials", recorded)


def test_wrong_client_secret_is_refused(emulator):
    prov = _ccg(emulator, enterprise_id="42", client_secret="wrong")
    with pytest.raises(ReauthRequired, match="invalid_client"):
        prov.metadata(prov.root_id)


def test_refresh_grants_are_recorded_spent_or_not(emulator):
    config = emulator.provider_config()
    prov = BoxProvider(config, retry=FAST)
    emulator.expire_access_tokens()
    assert prov.metadata(prov.root_id).is_folder
    assert emulator.grants[-1] == ("refresh_token", config["refresh_token"])
    assert config["refresh_token"] in emulator.spent_refresh_tokens
