"""Tags, and attachments landing in / following object folders."""

import base64

from odoo.exceptions import UserError
from odoo.tests import tagged

from .test_folders import FolderCase


@tagged("post_install", "-at_install")
class TestTags(FolderCase):
    def test_hierarchy_colour_and_attachments(self):
        Tag = self.env["clouds.tag"]
        legal = Tag.create({"name": "Legal", "color": 3})
        nda = Tag.create({"name": "NDA", "parent_id": legal.id})
        self.assertEqual(nda.complete_name, "Legal / NDA")
        self.assertEqual(legal.color, 3)
        self.assertIn(nda.color, range(1, 12))
        att = self.env["ir.attachment"].create({"name": "nda.pdf", "raw": b"%PDF"})
        att.clouds_tag_ids = nda | legal
        self.assertEqual(nda.attachment_ids, att)
        self.assertEqual(Tag.search([("id", "child_of", legal.id)]), legal | nda)
        self.assertEqual(
            self.env["ir.attachment"].search([("clouds_tag_ids", "child_of", legal.id)]), att)
        with self.assertRaises(UserError):
            legal.parent_id = nda
        legal.name = "Law"
        self.assertEqual(nda.complete_name, "Law / NDA")


@tagged("post_install", "-at_install")
class TestAttachmentsLand(FolderCase):
    def setUp(self):
        super().setUp()
        self.partners = self.env["res.partner"].create(
            [{"name": f"Partner {i}"} for i in range(25)])
        self.title = self.RuleFolder.create({"name": "Contacts", "folder_type": "rule"})
        self.folders = self.RuleFolder.create([{
            "name": p.name, "folder_type": "rule", "parent_id": self.title.id,
            "res_model": "res.partner", "res_id": p.id,
        } for p in self.partners])
        self.Attachment = self.env["ir.attachment"]

    def _vals(self, partners):
        return [{"name": f"{p.name}.txt", "raw": b"hello", "res_model": "res.partner",
                 "res_id": p.id} for p in partners]

    def test_create_lands_in_object_folder(self):
        no_folder = self.env["res.partner"].create({"name": "No folder"})
        atts = self.Attachment.create(self._vals(self.partners[:3] | no_folder))
        self.assertEqual(atts.mapped("clouds_folder_id"), self.folders[:3])
        self.assertFalse(atts[3].clouds_folder_id)
        self.assertEqual(self.folders[0].attachment_count, 1)
        # An explicit folder wins.
        manual = self.Folder.create({"name": "Manual"})
        explicit = self.Attachment.create(
            dict(self._vals(self.partners[:1])[0], clouds_folder_id=manual.id))
        self.assertEqual(explicit.clouds_folder_id, manual)

    def test_create_query_count_does_not_grow_with_batch(self):
        # Superuser: Odoo's own per-record access check is not what is measured here.
        Attachment = self.Attachment.sudo()

        def create(n):
            return lambda: Attachment.create(self._vals(self.partners[:n]))

        self.count_queries(create(1))  # warm caches
        self.assertEqual(self.count_queries(create(2)), self.count_queries(create(20)))

    def test_binary_field_attachments_do_not_land(self):
        self.partners[0].image_1920 = base64.b64encode(
            base64.b64decode(
                "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQ"
                "AAAABJRU5ErkJggg=="))
        field_atts = self.Attachment.sudo().with_context(skip_res_field_check=True).search([
            ("res_model", "=", "res.partner"), ("res_id", "=", self.partners[0].id),
            ("res_field", "!=", False),
        ])
        self.assertTrue(field_atts)
        self.assertFalse(field_atts.clouds_folder_id)
        self.Attachment._clouds_attach_to_folders(self.folders[:1])
        self.assertFalse(field_atts.clouds_folder_id)

    def test_message_post_attachments_land(self):
        partner = self.partners[4]
        message = partner.message_post(
            body="See attached", attachments=[("contract.txt", b"signed")])
        self.assertEqual(message.attachment_ids.clouds_folder_id, self.folders[4])
        # Uploaded first (as the chatter does), then linked by the post.
        upload = self.Attachment.create({
            "name": "scan.txt", "raw": b"scan", "res_model": "mail.compose.message", "res_id": 0,
        })
        self.assertFalse(upload.clouds_folder_id)
        partner.message_post(body="Scan", attachment_ids=upload.ids)
        self.assertEqual((upload.res_model, upload.res_id), ("res.partner", partner.id))
        self.assertEqual(upload.clouds_folder_id, self.folders[4])

    def test_folder_appearing_later_collects_attachments(self):
        partner = self.env["res.partner"].create({"name": "Late"})
        manual = self.Folder.create({"name": "Kept by hand"})
        loose, placed = self.Attachment.create([
            {"name": "a.txt", "raw": b"a", "res_model": "res.partner", "res_id": partner.id},
            {"name": "b.txt", "raw": b"b", "res_model": "res.partner", "res_id": partner.id,
             "clouds_folder_id": manual.id},
        ])
        self.assertFalse(loose.clouds_folder_id)
        folder = self.RuleFolder.create({
            "name": "Late", "folder_type": "rule", "parent_id": self.title.id,
            "res_model": "res.partner", "res_id": partner.id,
        })
        moved = self.Attachment._clouds_attach_to_folders(folder)
        self.assertEqual(moved, loose)
        self.assertEqual(loose.clouds_folder_id, folder)
        self.assertEqual(placed.clouds_folder_id, manual)
        self.assertEqual(folder.attachment_ids, loose)
        # A newer object folder of the same record takes the old one's files.
        folder.action_archive()
        newer = self.RuleFolder.create({
            "name": "Late", "folder_type": "rule", "parent_id": self.title.id,
            "res_model": "res.partner", "res_id": partner.id,
        })
        self.Attachment._clouds_attach_to_folders(newer)
        self.assertEqual(loose.clouds_folder_id, newer)

    def test_attach_to_folders_is_one_update(self):
        self.Attachment.sudo().create([
            {"name": "x", "raw": b"x", "res_model": "res.partner", "res_id": p.id,
             "clouds_folder_id": False} for p in self.partners
        ])
        self.env.flush_all()
        self.env.cr.execute("UPDATE ir_attachment SET clouds_folder_id = NULL "
                            "WHERE res_model = 'res.partner'")
        self.env.invalidate_all()

        def attach(n):
            return lambda: self.Attachment._clouds_attach_to_folders(self.folders[:n])

        self.count_queries(attach(1))  # warm caches
        self.assertEqual(self.count_queries(attach(3)), self.count_queries(attach(25)))
        self.assertEqual(self.folders.mapped("attachment_count"), [1] * 25)

    def test_moving_to_another_records_folder_reattaches(self):
        att = self.Attachment.create(self._vals(self.partners[:1]))
        att.clouds_folder_id = self.folders[1]
        self.assertEqual((att.res_model, att.res_id), ("res.partner", self.partners[1].id))
        manual = self.Folder.create({"name": "Manual"})
        att.clouds_folder_id = manual
        self.assertEqual((att.res_model, att.res_id, att.clouds_folder_id),
                         ("res.partner", self.partners[1].id, manual))

    def test_reattaching_moves_folder(self):
        att = self.Attachment.create(self._vals(self.partners[:1]))
        att.res_id = self.partners[2].id
        self.assertEqual(att.clouds_folder_id, self.folders[2])
        no_folder = self.env["res.partner"].create({"name": "No folder"})
        att.res_id = no_folder.id
        self.assertFalse(att.clouds_folder_id)
        # A file in a manual folder stays there unless its new record has an object folder.
        manual = self.Folder.create({"name": "Manual"})
        att.clouds_folder_id = manual
        other = self.env["res.partner"].create({"name": "No folder either"})
        att.res_id = other.id
        self.assertEqual(att.clouds_folder_id, manual)
        att.write({"res_id": self.partners[3].id})
        self.assertEqual(att.clouds_folder_id, self.folders[3])
