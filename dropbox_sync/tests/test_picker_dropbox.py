""""Add from cloud" against the Dropbox emulator: the shared picker tests, with search
(search_v2 beneath the root) and server-side copies (copy_v2). Every Dropbox route is a
``POST``: reads and writes are told apart by route."""

from odoo.addons.cloud_base.tests.test_picker_common import PickerCase
from odoo.tests import HttpCase, tagged

from .test_sync_dropbox import DropboxCase


@tagged("post_install", "-at_install")
class TestPickerDropbox(PickerCase, HttpCase, DropboxCase):
    upload_requests = r"^POST /2/files/upload"  # upload, upload_session/*
    write_requests = (r"^POST /2/(files/(upload|create_folder|delete|move|copy|restore|"
                      r"permanently_delete)|sharing/create)")
