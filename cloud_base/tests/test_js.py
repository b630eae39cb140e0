"""The hoot unit tests of cloud_base's OWL components, run in Chromium by Odoo's own
/web/tests runner, filtered to this module (as web/tests/test_js.py does)."""

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
        self.browser_js(
            f"/web/tests?headless&loglevel=2&preset=desktop&timeout=15000"
            f"&id={hoot_job_id('@cloud_base')}",
            "", "", login="admin", timeout=600,
            success_signal="[HOOT] Test suite succeeded",
            error_checker=unit_test_error_checker,
        )
