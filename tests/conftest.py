"""Shared pytest configuration for the pure-Python tests (no Odoo here)."""

import os

# The tests control TLS trust themselves (a throwaway CA per session): an inherited
# bundle setting would override every requests session's ``verify``.
for _var in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
    os.environ.pop(_var, None)
