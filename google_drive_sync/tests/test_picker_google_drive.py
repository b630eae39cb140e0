""""Add from cloud" against the Drive emulator: the shared picker tests, with search by
name (files.list "name contains") and server-side copies (files.copy)."""

from odoo.addons.cloud_base.tests.test_picker_common import PickerCase
from odoo.tests import HttpCase, tagged

from .test_sync_google_drive import GoogleDriveSyncCase


@tagged("post_install", "-at_install")
class TestPickerGoogleDrive(PickerCase, HttpCase, GoogleDriveSyncCase):
    upload_requests = r"^(POST|PUT|PATCH) /upload/drive/v3/"  # media uploads only
    write_requests = r"^(POST|PUT|PATCH|DELETE) /(upload/)?drive/v3/"  # not the token
