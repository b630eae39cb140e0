"""The hoot unit tests of cloud_base's OWL components, run in Chromium by Odoo's own
/web/tests runner, filtered to this module (as web/tests/test_js.py does)."""

import logging
import re
from pathlib import Path

from odoo.addons.web.tests.test_js import unit_test_error_checker
from odoo.tests import HttpCase, no_retry, tagged


def hoot_job_id(name):
    """Hoot's id of a suite or test (its "job" hash): the runner's ``id`` URL filter."""
    value = 0
    for char in name:
        value = ((value << 5) - value + ord(char)) & 0xFFFFFFFF
    return f"{value:08x}"


@tagged("post_install", "-at_install")
class TestCloudBaseHoot(HttpCase):
    def test_hoot_job_id(self):
        self.assertEqual(hoot_job_id("@web/core"), "e39ce9ba")

    @no_retry
    def test_unit_tests(self):
        """Every test of the suite's own files ran: a filter that matched nothing (or a
        file hoot did not load) passes "Test suite succeeded" with zero tests."""
        tests = Path(__file__).parents[1] / "static" / "tests"
        expected = sum(len(re.findall(r"^\s*test\(", path.read_text(), re.M))
                       for path in tests.glob("*.test.js"))
        self.assertGreater(expected, 0)
        console = _Messages()
        browser_logger = self._logger.getChild("browser")
        browser_logger.addHandler(console)
        try:
            self.browser_js(
                f"/web/tests?headless&loglevel=2&preset=desktop&timeout=15000"
                f"&id={hoot_job_id('@cloud_base')}",
                "", "", login="admin", timeout=600,
                success_signal="[HOOT] Test suite succeeded",
                error_checker=unit_test_error_checker,
            )
        finally:
            browser_logger.removeHandler(console)
        passed = [int(m) for text in console.messages
                  for m in re.findall(r"Passed (\d+) tests", text)]
        self.assertTrue(passed, "hoot did not say how many tests passed")
        self.assertGreaterEqual(passed[-1], expected)


class _Messages(logging.Handler):
    """Keeps the messages of one logger (the browser console) without muting it."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())
