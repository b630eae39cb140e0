"""The conformance suite (cloud_sync.conformance.suite) over every provider target."""

import pytest

from cloud_sync.conformance import open_target, target_ids
from cloud_sync.conformance.suite import *  # noqa: F403 - the suite's test functions
from cloud_sync.conformance.suite import fast_retry


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
