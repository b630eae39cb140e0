"""The conformance suite (cloud_sync.conformance.suite) over every provider target."""

import pytest

from cloud_sync.conformance import open_target, target_ids
from cloud_sync.conformance.suite import *  # noqa: F403 - the suite's test functions
from cloud_sync.conformance.suite import fast_retry, test_expired_token_is_refreshed
from cloud_sync.providers import REGISTRY, provider_class


def _refreshes_tokens(target_id: str) -> bool:
    key = target_id if target_id in REGISTRY else target_id.rsplit("-", 1)[0]
    return provider_class(key).refreshes_tokens


# Token refresh applies only to providers with refreshable credentials: the others are
# not collected for it (never a skip counted as a pass); they prove instead that refused
# credentials raise ReauthRequired.
test_expired_token_is_refreshed = pytest.mark.parametrize(
    "target", [t for t in target_ids() if _refreshes_tokens(t)], indirect=True,
)(test_expired_token_is_refreshed)


@pytest.fixture(scope="module", params=target_ids())
def target(request, tmp_path_factory):
    """One local server per provider key, started once for the whole suite."""
    with open_target(request.param, tmp_path_factory.mktemp(request.param)) as opened:
        yield opened


@pytest.fixture
def provider(target):
    """A provider bound to a fresh, empty root folder."""
    made = target.new_provider(retry=fast_retry())
    yield made
    target.emulator.faults.clear()
    made.close()
