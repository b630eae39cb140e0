"""`make demo` tells what it is doing while Odoo installs (tools/demo.py)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))

from demo import progress  # noqa: E402

STAMP = "2026-01-15 10:00:00,123 4242"


def test_each_module_installed_is_one_short_line():
    line = f"{STAMP} INFO demo odoo.modules.loading: Loading module project (37/41) \n"
    assert progress(line, False) == ("  project (37/41)\n", False)


def test_other_info_lines_go_to_the_log_only():
    line = f"{STAMP} INFO demo odoo.modules.registry: module project: creating tables\n"
    assert progress(line, False) == (None, False)


def test_warnings_and_errors_are_shown_with_their_traceback():
    warning = f"{STAMP} WARNING demo odoo.models: something odd\n"
    assert progress(warning, False) == (warning, True)
    assert progress("Traceback (most recent call last):\n", True) == (
        "Traceback (most recent call last):\n", True)
    info = f"{STAMP} INFO demo odoo.modules.loading: loading 41 modules...\n"
    assert progress(info, True) == (None, False)
    assert progress("  a stray line\n", False) == (None, False)
