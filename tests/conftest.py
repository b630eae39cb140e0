"""Shared pytest configuration for the pure-Python tests (no Odoo here)."""

import os

import pytest

# The tests control TLS trust themselves (a throwaway CA per session): an inherited
# bundle setting would override every requests session's ``verify``.
for _var in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
    os.environ.pop(_var, None)


def _targets() -> list[str]:
    from cloud_sync.conformance import target_ids

    return target_ids()


def pytest_terminal_summary(terminalreporter):
    """Print the conformance results per provider target (issue: counts per provider)."""
    counts: dict[str, dict[str, int]] = {}
    for outcome in ("passed", "failed", "error", "skipped"):
        for report in terminalreporter.stats.get(outcome, []):
            nodeid = getattr(report, "nodeid", "")
            if "test_conformance.py::" not in nodeid or "[" not in nodeid:
                continue
            if getattr(report, "when", "call") != "call" and outcome == "passed":
                continue
            params = nodeid.rsplit("[", 1)[1].rstrip("]")
            # the target id, also when the test has parameters of its own
            target = max((t for t in _targets() if params == t or params.startswith(t + "-")),
                         key=len, default=params)
            per = counts.setdefault(target, {"passed": 0, "failed": 0})
            per["passed" if outcome == "passed" else "failed"] += 1
    if counts:
        terminalreporter.write_sep("-", "conformance suite per provider")
        for target, per in sorted(counts.items()):
            terminalreporter.write_line(
                f"{target}: {per['passed']} passed, {per['failed']} failed")


@pytest.fixture
def picker_calls():
    """Run the picker and version calls once on ``item`` (a file under the provider's
    root holding b"x" at ``version``): the provider tests arm faults on each route first
    and check that every call still succeeds."""

    def run(provider, item, version: str, restore: bool = True) -> None:
        assert provider.versions(item.id)[0].current
        assert b"".join(provider.download_version(item.id, version)) == b"x"
        assert [found.id for found in provider.search(item.name)] == [item.id]
        assert provider.copy(item.id, provider.root_id, "copied.txt").name == "copied.txt"
        if restore:
            assert provider.restore_version(item.id, version).id == item.id

    return run


@pytest.fixture
def called():
    """``called(module, fn, *args)``: (fn's result, the names of ``module``'s functions it
    ran), observed with cProfile: what a call did, without replacing anything."""
    import cProfile
    import pstats

    def run(module, fn, *args):
        profile = cProfile.Profile()
        result = profile.runcall(fn, *args)
        names = {name for (path, _line, name) in pstats.Stats(profile).stats
                 if path == module.__file__}
        return result, names

    return run
