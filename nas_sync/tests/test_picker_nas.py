""""Add from cloud" against a wsgidav server: the shared picker tests, a linked file that
comes back at its path, and the browser tour."""

from odoo.addons.cloud_base.tests.test_picker_common import PickerCase
from odoo.tests import HttpCase, tagged

from .test_sync_nas import NasCase


@tagged("post_install", "-at_install")
class TestPickerNas(PickerCase, HttpCase, NasCase):
    def test_link_found_again_at_its_path(self):
        """WebDAV addresses items by path: a file put back where it was is linked again."""
        att = self.pick("link")
        self.remote.delete(self.library.id)
        self.Attachment._cron_clouds_check_links()
        self.assertEqual(att.clouds_state, "missing")
        folder = self.remote.ensure_folder(self.remote.root_id, "Library")
        self.remote.upload_bytes(folder.id, "contract.txt", b"the signed contract, again")
        self.Attachment._cron_clouds_check_links()
        self.assertEqual((att.clouds_state, att.file_size),
                         ("linked", len(b"the signed contract, again")))

    # ---------------------------------------------------------------- the dialog

    def test_picker_tour(self):
        """In a partner's attachment box: Add from cloud, pick a file, Link, preview."""
        self.env.ref("base.user_admin").groups_id |= self.pickers
        folder = self.Folder.with_context(clouds_rule_apply=True).create({
            "name": "Picked Ltd", "folder_type": "rule", "res_model": "res.partner",
            "res_id": self.partner.id})
        self.start_tour(f"/odoo/res.partner/{self.partner.id}", "cloud_base_cloud_picker",
                        login="admin", timeout=180)
        att = self.Attachment.search([("res_model", "=", "res.partner"),
                                      ("res_id", "=", self.partner.id)])
        self.assertEqual((att.name, att.clouds_state, att.clouds_folder_id),
                         ("contract.txt", "linked", folder))
        self.assertEqual(att.raw, b"the signed contract")

    def test_picker_tour_record_without_folder(self):
        """In Odoo's attachment box of a partner without a suite folder nor files: Add
        from cloud, Link; the file is on the partner, in no folder, and listed."""
        self.env.ref("base.user_admin").groups_id |= self.pickers
        self.assertFalse(self.Folder.clouds_fm_record_root("res.partner", self.partner.id))
        self.start_tour(f"/odoo/res.partner/{self.partner.id}",
                        "cloud_base_cloud_picker_record", login="admin", timeout=180)
        att = self.Attachment.search([("res_model", "=", "res.partner"),
                                      ("res_id", "=", self.partner.id)])
        self.assertEqual((att.name, att.clouds_state, att.clouds_folder_id.id),
                         ("contract.txt", "linked", False))
        self.assertEqual(att.raw, b"the signed contract")
