"""Share scope, tokens, expiry, chat gate, the Share action and the invitation."""

import datetime
import importlib.util
import io
import zipfile
from pathlib import Path

from odoo import Command, fields
from odoo.addons.cloud_base.zip_archive import zip_chunks
from odoo.addons.portal.utils import get_portal_partner
from odoo.exceptions import AccessError, ValidationError
from odoo.tests import TransactionCase, tagged

from .common import ShareSetup


@tagged("post_install", "-at_install")
class TestShareModels(TransactionCase, ShareSetup):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_shares()

    def test_scope_files_folders_tags(self):
        files = self.share._clouds_files()
        self.assertEqual(set(files.ids), {self.readme.id, self.plan.id, self.loose.id})
        self.assertEqual(self.share._clouds_folder_ids(),
                         {self.root.id, self.plans.id, self.private.id})
        self.assertEqual(self.share._clouds_tag_ids(), {self.urgent.id})
        self.assertEqual(self.share._clouds_top_folders(self.share._clouds_folder_ids()),
                         self.root | self.private)

    def test_tag_share_includes_subtags(self):
        sub = self.env["clouds.tag"].create({"name": "Sub", "parent_id": self.secret_tag.id})
        tagged_file = self.env["ir.attachment"].create(
            {"name": "sub.txt", "raw": b"x", "clouds_tag_ids": [Command.link(sub.id)]})
        share = self.env["clouds.share"].create({
            "name": "Tags", "tag_ids": [Command.link(self.secret_tag.id)],
            "user_id": self.admin.id})
        self.assertEqual(set(share._clouds_files().ids), {self.secret.id, tagged_file.id})
        self.assertEqual(share._clouds_tag_ids(), {self.secret_tag.id, sub.id})

    def test_empty_share_has_nothing(self):
        share = self.env["clouds.share"].create({"name": "Empty", "user_id": self.admin.id})
        self.assertFalse(share._clouds_files())
        self.assertEqual(share._clouds_folder_ids(), set())

    def test_tokens(self):
        token = self.share.access_token
        self.assertTrue(token)
        self.assertNotEqual(token, self.other_share.access_token)
        self.assertTrue(self.share._clouds_check_token(token))
        self.assertFalse(self.share._clouds_check_token(self.other_share.access_token))
        self.assertFalse(self.share._clouds_check_token(""))
        self.assertFalse(self.share._clouds_check_token(None))
        self.share.action_regenerate_token()
        self.assertFalse(self.share._clouds_check_token(token))
        self.assertTrue(self.share._clouds_check_token(self.share.access_token))
        self.assertIn(self.share.access_token, self.share.share_link)
        self.assertEqual(self.share.action_open_portal()["url"], self.share.share_link)

    def test_expiry(self):
        today = fields.Date.context_today(self.share)
        self.share.date_expiry = today
        self.assertTrue(self.share._clouds_usable())
        self.share.date_expiry = today - datetime.timedelta(days=1)
        self.assertFalse(self.share._clouds_usable())
        self.assertEqual(self.share.state, "expired")
        portal_shares = self.env["clouds.share"].with_user(self.portal_user).search([])
        self.assertNotIn(self.share, portal_shares)

    def test_portal_rule(self):
        Share = self.env["clouds.share"]
        self.assertEqual(Share.with_user(self.portal_user).search([]), self.share)
        self.assertEqual(Share.with_user(self.stranger).search([]), self.other_share)

    def test_chat_gate(self):
        public = self.env.ref("base.public_user")
        Share = self.env["clouds.share"].with_user(public)
        token = self.share.access_token
        self.assertEqual(Share._get_thread_with_access(self.share.id, token=token), self.share)
        self.assertFalse(Share._get_thread_with_access(self.share.id, token="wrong"))
        self.assertFalse(Share._get_thread_with_access(
            self.share.id, token=self.other_share.access_token))
        self.share.chat_enabled = False
        self.assertFalse(Share._get_thread_with_access(self.share.id, token=token))
        self.share.chat_enabled = True
        self.share.date_expiry = fields.Date.context_today(self.share) - datetime.timedelta(1)
        self.assertFalse(Share._get_thread_with_access(self.share.id, token=token))
        PortalShare = self.env["clouds.share"].with_user(self.portal_user)
        self.assertFalse(PortalShare._get_thread_with_access(self.share.id, mode="read"))

    def test_chat_author(self):
        """The bare link writes as nobody in particular; an invitation's signature names its
        partner."""
        share, partner = self.share.sudo(), self.portal_user.partner_id
        self.assertFalse(get_portal_partner(share, None, None, share.access_token))
        signed = get_portal_partner(share, share._sign_token(partner.id), partner.id, None)
        self.assertEqual(signed, partner)

    def test_upload_needs_a_target(self):
        with self.assertRaises(ValidationError):
            self.env["clouds.share"].create(
                {"name": "No target", "allow_upload": True, "user_id": self.admin.id})

    def test_share_action_creates_and_extends(self):
        Wizard = self.env["clouds.share.wizard"].with_user(self.manager)
        action = Wizard.action_open(self.plans)
        wizard = Wizard.with_context(action["context"]).create(
            {"partner_ids": [Command.link(self.stranger.partner_id.id)]})
        self.assertEqual(wizard.folder_ids, self.plans)
        self.assertEqual(wizard.name, self.plans.display_name)
        result = wizard.action_share()
        share = self.env["clouds.share"].browse(result["res_id"])
        self.assertEqual(share.folder_ids, self.plans)
        self.assertEqual(share.partner_ids, self.stranger.partner_id)

        # A file the manager may download (the setup's files have no record: only their
        # creator and system administrators may).
        notes = self.env["ir.attachment"].create({
            "name": "notes.txt", "raw": b"notes", "clouds_folder_id": self.private.id,
            "res_model": "res.partner", "res_id": self.manager.partner_id.id})
        extend = Wizard.with_context(
            active_model="ir.attachment", active_ids=[notes.id]
        ).create({"mode": "extend", "share_id": share.id})
        extend.action_share()
        self.assertEqual(share.attachment_ids, notes)
        self.assertIn(notes, share._clouds_files())
        with self.assertRaises(AccessError):
            Wizard.with_context(active_model="ir.attachment", active_ids=[self.secret.id]
                                ).create({"mode": "extend", "share_id": share.id})

    def test_share_server_actions_are_bound(self):
        for xmlid, records in (("action_server_share_attachments", self.readme),
                               ("action_server_share_folders", self.plans),
                               ("action_server_share_tags", self.urgent)):
            action = self.env.ref(f"cloud_share.{xmlid}")
            self.assertEqual(action.binding_model_id.model, records._name)
            result = action.with_user(self.manager).with_context(
                active_model=records._name, active_ids=records.ids, active_id=records.id).run()
            self.assertEqual(result["res_model"], "clouds.share.wizard")
            self.assertEqual(result["context"]["active_ids"], records.ids)

    def test_share_buttons_on_forms(self):
        for model, xmlid in (("clouds.folder", "action_server_share_folders"),
                             ("ir.attachment", "action_server_share_attachments")):
            arch = self.env[model].with_user(self.manager).get_views([(False, "form")])
            action_id = self.env.ref(f"cloud_share.{xmlid}").id
            self.assertIn(f'name="{action_id}"', arch["views"]["form"]["arch"], model)

    def test_share_action_refuses_unreadable(self):
        team = self.env["res.groups"].create({"name": "Share test team"})
        hidden = self.env["clouds.folder"].create(
            {"name": "Hidden", "group_ids": [Command.link(team.id)]})
        Wizard = self.env["clouds.share.wizard"].with_user(self.manager)
        with self.assertRaises(AccessError):
            Wizard.with_context(active_model="clouds.folder", active_ids=hidden.ids).create({})

    def test_invite_sends_links_and_creates_portal_users(self):
        newcomer = self.env["res.partner"].create({"name": "Newcomer", "email": "new@x.test"})
        self.portal_user.partner_id.email = "portal@x.test"
        self.share.partner_ids = [Command.link(newcomer.id)]
        wizard = self.env["clouds.share.invite"].create({"share_id": self.share.id})
        self.assertEqual(wizard.line_ids.partner_id, self.share.partner_ids)
        new_line = wizard.line_ids.filtered(lambda line: line.partner_id == newcomer)
        new_line.create_user = True
        wizard.action_send()
        self.assertTrue(newcomer.user_ids.has_group("base.group_portal"))
        mails = self.env["mail.mail"].search([("model", "=", "clouds.share"),
                                              ("res_id", "=", self.share.id)])
        by_partner = {m.recipient_ids: m.body_html for m in mails}
        self.assertIn(f"/my/shares/{self.share.id}", by_partner[newcomer])
        portal_mail = by_partner[self.portal_user.partner_id]
        self.assertIn(f"/my/shares/{self.share.id}", portal_mail)
        self.assertNotIn(self.share.access_token, portal_mail)

    def test_invite_token_link_for_partner_without_user(self):
        guest = self.env["res.partner"].create({"name": "Guest", "email": "guest@x.test"})
        wizard = self.env["clouds.share.invite"].create({"share_id": self.share.id})
        wizard.line_ids = [Command.clear(), Command.create({"partner_id": guest.id,
                                                            "email": guest.email})]
        wizard.action_send()
        self.assertIn(guest, self.share.partner_ids)
        mail = self.env["mail.mail"].search([("recipient_ids", "in", guest.ids)])
        self.assertIn(f"access_token={self.share.access_token}", mail.body_html)
        self.assertIn(f"pid={guest.id}", mail.body_html)

    def test_zip_paths_are_sanitised(self):
        evil_folder = self.env["clouds.folder"].create({"name": "..", "parent_id": self.root.id})
        evil = self.env["ir.attachment"].create([
            {"name": name, "raw": b"evil", "clouds_folder_id": evil_folder.id}
            for name in ("../../etc/passwd", "..\\..\\boot.ini", "..", "/abs.txt",
                         "a\x01b.txt", "same.txt", "SAME.txt")
        ])
        folder_ids = self.share._clouds_folder_ids()
        files = self.share._clouds_files()
        self.assertTrue(set(evil.ids) <= set(files.ids))
        layout = self.share._clouds_zip_layout(files, folder_ids)
        paths = {id_: path for path, id_ in layout.entries if id_}
        self.assertEqual(paths[self.plan.id], "Client Docs/Plans/plan.txt")
        self.assertEqual(paths[self.loose.id], "Private/loose.txt")
        for path in paths.values():
            parts = path.split("/")
            self.assertFalse(path.startswith("/"), path)
            self.assertNotIn("..", parts, path)
            self.assertNotIn(".", parts, path)
            self.assertFalse(any("\\" in p or "\x01" in p or not p for p in parts), path)
        names = [paths[a.id].rsplit("/", 1)[1] for a in evil]
        self.assertEqual(len({n.casefold() for n in names}), len(names))
        relative = {id_: path for path, id_ in
                    self.share._clouds_zip_layout(files, folder_ids, base=self.root).entries}
        self.assertEqual(relative[self.plan.id], "Plans/plan.txt")

    def test_zip_stream_is_a_valid_archive(self):
        files = self.share._clouds_files(order="id")
        entries = self.share._clouds_zip_layout(files, self.share._clouds_folder_ids()).entries
        # Streamed batches read the files in cursors of their own: the test's, here.
        self.env.flush_all()
        self.registry.enter_test_mode(self.cr)
        self.addCleanup(self.registry.leave_test_mode)
        data = b"".join(zip_chunks(self.env.cr.dbname, entries))
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            self.assertEqual(archive.read("Client Docs/Plans/plan.txt"), b"the plan")
            self.assertEqual(sorted(archive.namelist()), sorted(p for p, _id in entries))
            self.assertIn("Client Docs/Plans/", archive.namelist())


@tagged("post_install", "-at_install")
class TestShareOwnerMigration(TransactionCase, ShareSetup):
    """Upgrading from the version where ``user_id`` was an optional "Responsible"."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_shares()

    def migrate(self):
        path = Path(__file__).parents[1] / "migrations" / "18.0.1.1.0" / "pre-migrate.py"
        spec = importlib.util.spec_from_file_location("cloud_share_pre_migrate", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        self.env.flush_all()
        module.migrate(self.env.cr, "18.0.1.0.0")
        self.env.invalidate_all()

    def test_missing_owners_become_creators_and_others_fail_closed(self):
        creator = self.manager
        rows = [
            (self.share, "NULL", creator.id),       # no owner: its creator
            (self.other_share, "1", creator.id),    # the superuser account: archived
        ]
        portal_share = self.share.copy({"name": "Portal owned"})
        # The old schema (rolled back with the test): the owner was optional.
        self.env.cr.execute("ALTER TABLE clouds_share ALTER COLUMN user_id DROP NOT NULL")
        rows.append((portal_share, str(self.portal_user.id), creator.id))  # portal: archived
        for share, owner, create_uid in rows:
            self.env.cr.execute(
                "UPDATE clouds_share SET user_id = " + owner + ", create_uid = %s WHERE id = %s",
                (create_uid, share.id))
        self.migrate()
        self.assertEqual(self.share.user_id, creator)
        self.assertTrue(self.share.active)
        self.assertFalse(self.other_share.active)
        self.assertFalse(portal_share.active)
        self.assertEqual(portal_share.user_id, self.portal_user, "nothing else changes")
