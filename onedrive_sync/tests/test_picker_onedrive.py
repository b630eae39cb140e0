""""Add from cloud" against the Graph emulator (OneDrive for Business): the shared
picker tests, with search (root/search) and server-side copies (POST /copy, then the
monitor URL)."""

from odoo.addons.cloud_base.tests.test_picker_common import PickerCase
from odoo.tests import HttpCase, tagged

from .test_sync_onedrive import OneDriveCase


@tagged("post_install", "-at_install")
class TestPickerOneDrive(PickerCase, HttpCase, OneDriveCase):
    upload_requests = r"^PUT /(v1\.0/|upload/)"  # simple uploads, upload-session fragments
    write_requests = r"^(POST|PUT|PATCH|DELETE) /(v1\.0|upload)/"  # not the token endpoint
