""""Add from cloud" against the Box emulator: the shared picker tests, with search
(/search, ancestor_folder_ids = the root) and server-side copies (POST /files/{id}/copy)."""

from odoo.addons.cloud_base.tests.test_picker_common import PickerCase
from odoo.tests import HttpCase, tagged

from .test_sync_box import BoxSyncCase


@tagged("post_install", "-at_install")
class TestPickerBox(PickerCase, HttpCase, BoxSyncCase):
    upload_requests = r"^(POST|PUT) /api/2\.0/files/"  # the upload host: content, sessions
    write_requests = r"^(POST|PUT|DELETE) /(api/)?2\.0/"  # not the token endpoint
