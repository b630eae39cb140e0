"""The Odoo test runner's reading of Odoo's log (tools/odoo_tests.py): which addons' tests
started, so that an addon whose tests silently vanished fails the run."""

import importlib.util
from pathlib import Path

SPEC = importlib.util.spec_from_file_location(
    "odoo_tests", Path(__file__).resolve().parents[1] / "tools" / "odoo_tests.py")
odoo_tests = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(odoo_tests)


def started(line):
    match = odoo_tests.STARTED.search(line)
    return match and match.group(1)


def test_a_started_test_names_its_addon():
    line = ("2026-12-07 05:22:13,723 1178 INFO cloud_test_2c8f3530 "
            "odoo.addons.nas_sync.tests.test_steer_nas: Starting TestSteerNas.test_x ... ")
    assert started(line) == "nas_sync"


def test_other_lines_name_no_addon():
    for line in (
        "2026-12-07 05:22:13,723 1178 INFO db odoo.addons.nas_sync.models.x: Starting sync",
        "2026-12-07 05:22:13,723 1178 INFO db odoo.modules.loading: Starting post tests",
        "2026-12-07 05:22:13,723 1178 INFO db odoo.addons.cloud_base.tests.test_js: "
        "Passed 16 tests",
    ):
        assert not started(line)
