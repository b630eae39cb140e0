""""Add from cloud" against moto's S3 server: the shared picker tests. S3 has no search
by name (the picker says so), keys are the ids, and a copy is a CopyObject (a ``PUT``
of the new key without a body: no bytes uploaded)."""

import re

from odoo.addons.cloud_base.tests.test_picker_common import PickerCase
from odoo.tests import HttpCase, tagged

from cloud_sync.providers.s3 import STATE_PREFIX

from .test_sync_s3 import S3Case


@tagged("post_install", "-at_install")
class TestPickerS3(PickerCase, HttpCase, S3Case):
    # PutObject, UploadPart (with bytes); not the sync's listing snapshots (its cursor,
    # stored under STATE_PREFIX when the listing changed, e.g. after a copy)
    upload_requests = rf"^(PUT|POST) /[^/]+/(?!{re.escape(STATE_PREFIX)})"
    write_requests = r"^(PUT|POST|DELETE) /"
