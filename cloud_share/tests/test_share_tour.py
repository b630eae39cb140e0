"""Tours in Chromium: a portal user and an anonymous visitor with the link use a share."""

from odoo import Command
from odoo.tests import HttpCase, tagged

from .common import ShareSetup


@tagged("post_install", "-at_install")
class TestShareTour(HttpCase, ShareSetup):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_shares()
        cls.readme.clouds_tag_ids = [Command.link(cls.urgent.id)]

    def check_effects(self, name, uploader, message, author):
        upload = self.env["ir.attachment"].search([("name", "=", name)])
        self.assertEqual(upload.clouds_folder_id, self.plans)
        self.assertEqual(upload.create_uid, uploader)
        posted = self.share.message_ids.filtered(lambda m: message in (m.body or ""))
        self.assertEqual(posted.author_id, author)

    def test_portal_user_tour(self):
        self.start_tour("/my", "cloud_share_portal", login="shareportal")
        self.check_effects("tour-portal.txt", self.portal_user, "Hello from the portal",
                           self.portal_user.partner_id)

    def test_anonymous_tour(self):
        url = f"/my/shares/{self.share.id}?access_token={self.share.access_token}"
        self.start_tour(url, "cloud_share_anonymous")
        public = self.env.ref("base.public_user")
        self.check_effects("tour-anonymous.txt", public, "Hello from the link",
                           public.partner_id)
