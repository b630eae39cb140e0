"""The audit trail of shares: every download, preview, zip and upload through the portal
routes is recorded (share, item, time, IP address, visitor); only the share's owner, its
editors and administrators read the lines."""

import re

from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import HttpCase, tagged

from .common import ShareSetup

CSRF = re.compile(r'csrf_token: "([^"]+)"')


@tagged("post_install", "-at_install")
class TestShareAudit(HttpCase, ShareSetup):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_shares()
        cls.Access = cls.env["clouds.share.access"]

    def url(self, path="", token=True, **params):
        if token is True:
            token = self.share.access_token
        params = dict(params, **({"access_token": token} if token else {}))
        query = "&".join(f"{k}={v}" for k, v in params.items())
        return f"/my/shares/{self.share.id}{path}" + (f"?{query}" if query else "")

    def lines(self):
        self.env.invalidate_all()
        return self.Access.search([("share_id", "=", self.share.id)], order="id")

    def test_every_way_out_and_in_is_recorded(self):
        self.url_open(self.url(f"/files/{self.readme.id}")).raise_for_status()
        self.url_open(self.url(f"/files/{self.plan.id}/preview")).raise_for_status()
        self.url_open(self.url("/zip", folder_id=self.plans.id)).raise_for_status()
        csrf = CSRF.search(self.url_open("/web/login").text).group(1)
        self.url_open(self.url("/upload", folder_id=self.root.id), data={"csrf_token": csrf},
                      files=[("files", ("new.txt", b"new"))]).raise_for_status()
        lines = self.lines()
        self.assertEqual(
            [(line.kind, line.name) for line in lines],
            [("download", "readme.txt"), ("preview", "plan.txt"), ("zip", "Plans (1 files)"),
             ("upload", "new.txt")])
        self.assertEqual(set(lines.mapped("ip")), {"127.0.0.1"})
        self.assertEqual(lines.user_id, self.env.ref("base.public_user"))
        self.assertEqual(lines[0].attachment_id, self.readme)
        self.assertEqual(lines[2].folder_id, self.plans)
        self.assertEqual(lines[3].attachment_id.name, "new.txt")
        # the portal partner, logged in, is named
        self.authenticate("shareportal", "shareportal")
        self.url_open(self.url(f"/files/{self.readme.id}", token=False)).raise_for_status()
        self.assertEqual(self.lines()[-1].user_id, self.portal_user)

    def test_refused_requests_record_nothing(self):
        self.assertEqual(self.url_open(self.url(f"/files/{self.readme.id}", token="x"))
                         .status_code, 404)
        self.assertEqual(self.url_open(self.url(f"/files/{self.secret.id}")).status_code, 404)
        self.assertFalse(self.lines())

    def test_only_owner_editors_and_administrators_read_the_lines(self):
        self.url_open(self.url(f"/files/{self.readme.id}")).raise_for_status()
        self.url_open(f"/my/shares/{self.other_share.id}/files/{self.other_file.id}"
                      f"?access_token={self.other_share.access_token}").raise_for_status()
        mine = self.lines()
        self.assertEqual(len(mine), 1)
        everything = self.Access.search([])
        self.assertEqual(len(everything), 2)
        self.assertEqual(self.Access.with_user(self.admin).search([]), everything)
        # a File Manager user who neither owns nor edits the share reads none of them
        self.assertFalse(self.Access.with_user(self.manager).search([]))
        with self.assertRaises(AccessError):
            mine.with_user(self.manager).read(["ip"])
        self.share.editor_ids = [Command.link(self.manager.id)]
        self.assertEqual(self.Access.with_user(self.manager).search([]), mine)
        # portal users, even the share's partner, have no right to them at all
        for user in (self.portal_user, self.stranger):
            with self.assertRaises(AccessError):
                self.Access.with_user(user).search([])
        # the History of the file shows the access to the owner only
        self.assertIn("127.0.0.1", str(self.readme.with_user(self.admin).clouds_history))
