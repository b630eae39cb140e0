""""Add from cloud" against the Nextcloud emulator: the shared picker tests, with search
by name (DAV SEARCH) and server-side copies (WebDAV COPY)."""

from odoo.addons.cloud_base.tests.test_picker_common import PickerCase
from odoo.tests import HttpCase, tagged

from .test_sync_nextcloud import NextcloudCase


@tagged("post_install", "-at_install")
class TestPickerNextcloud(PickerCase, HttpCase, NextcloudCase):
    pass
