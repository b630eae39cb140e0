"""Access rights: object folders follow their record, manual folders their groups/users,
parents must be readable, attachments in folders follow their folder (also over HTTP)."""

from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import HttpCase, TransactionCase, new_test_user, tagged

from .test_folders import FolderCase


class AccessSetup:
    """A tree of folders and users with different rights (shared by both test classes)."""

    @classmethod
    def setup_access(cls):
        env = cls.env
        Folder = env["clouds.folder"]
        RuleFolder = Folder.with_context(clouds_rule_apply=True)
        # A group whose members cannot read partners with ref SECRET (a test-made rule).
        cls.group_restricted = env["res.groups"].create({"name": "Partners except secret"})
        env["ir.rule"].create({
            "name": "No secret partners",
            "model_id": env.ref("base.model_res_partner").id,
            "groups": [Command.link(cls.group_restricted.id)],
            "domain_force": "[('ref', '!=', 'SECRET')]",
        })
        cls.group_team = env["res.groups"].create({"name": "Cloud test team"})
        clouds_user = env.ref("cloud_base.group_clouds_user").id
        cls.restricted = new_test_user(
            env, "restricted", groups_id=[clouds_user, cls.group_restricted.id])
        cls.teammate = new_test_user(env, "teammate", groups_id=[clouds_user, cls.group_team.id])
        cls.employee = new_test_user(env, "employee", groups="base.group_user")
        cls.cloud_admin = new_test_user(env, "cloudadmin", groups="cloud_base.group_clouds_admin")
        cls.portal = new_test_user(env, "portaluser", groups="base.group_portal")

        cls.p_ok = env["res.partner"].create({"name": "Visible Ltd"})
        cls.p_secret = env["res.partner"].create({"name": "Secret Ltd", "ref": "SECRET"})
        cls.title = RuleFolder.create({"name": "Contacts", "folder_type": "rule"})
        cls.f_ok, cls.f_secret = RuleFolder.create([{
            "name": p.name, "folder_type": "rule", "parent_id": cls.title.id,
            "res_model": "res.partner", "res_id": p.id,
        } for p in (cls.p_ok, cls.p_secret)])
        cls.f_secret_sub = Folder.create({"name": "Notes", "parent_id": cls.f_secret.id})
        cls.f_team = Folder.create({"name": "Team", "group_ids": [Command.link(cls.group_team.id)]})
        cls.f_team_child = Folder.create({"name": "Open inside", "parent_id": cls.f_team.id})
        cls.f_user = Folder.create({"name": "Mine", "user_ids": [Command.link(cls.restricted.id)]})
        cls.f_public = Folder.create({"name": "Everyone"})
        cls.all_folders = (cls.title | cls.f_ok | cls.f_secret | cls.f_secret_sub | cls.f_team
                           | cls.f_team_child | cls.f_user | cls.f_public)

        Attachment = env["ir.attachment"]
        cls.a_ok = Attachment.create({
            "name": "ok.txt", "raw": b"visible", "res_model": "res.partner",
            "res_id": cls.p_ok.id,
        })
        # On a partner everyone can read, but placed in the team's folder.
        cls.a_team = Attachment.create({
            "name": "team.txt", "raw": b"team only", "res_model": "res.partner",
            "res_id": cls.p_ok.id, "clouds_folder_id": cls.f_team_child.id,
        })


@tagged("post_install", "-at_install")
class TestFolderAccess(FolderCase, AccessSetup):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_access()

    def visible(self, user):
        return self.Folder.with_user(user).search([("id", "in", self.all_folders.ids)])

    def test_object_folder_follows_record(self):
        self.assertIn(self.f_ok, self.visible(self.restricted))
        self.assertNotIn(self.f_secret, self.visible(self.restricted))
        self.assertIn(self.f_secret, self.visible(self.teammate))
        self.assertIn(self.f_secret, self.visible(self.employee))

    def test_manual_folder_groups_users_and_parents(self):
        self.assertEqual(
            self.visible(self.restricted),
            self.title | self.f_ok | self.f_user | self.f_public,
        )
        self.assertEqual(
            self.visible(self.teammate),
            self.all_folders - self.f_user,
        )
        self.assertEqual(self.visible(self.cloud_admin), self.all_folders)
        self.assertEqual(
            self.Folder.with_user(self.restricted).search_count(
                [("id", "in", self.all_folders.ids)]), 4)

    def test_parent_becomes_readable(self):
        self.f_team.group_ids = [Command.link(self.group_restricted.id)]
        self.assertIn(self.f_team_child, self.visible(self.restricted))
        self.p_secret.ref = False
        self.assertIn(self.f_secret_sub, self.visible(self.restricted))

    def test_check_access_and_read(self):
        hidden = self.f_secret_sub.with_user(self.restricted)
        self.assertFalse(hidden.has_access("read"))
        self.assertTrue(self.f_ok.with_user(self.restricted).has_access("read"))
        with self.assertRaises(AccessError):
            hidden.check_access("read")
        with self.assertRaises(AccessError):
            hidden.name  # noqa: B018 -- reading is what is tested
        with self.assertRaises(AccessError):
            self.f_team.with_user(self.restricted).write({"sequence": 3})
        with self.assertRaises(AccessError):
            self.Folder.with_user(self.restricted).create(
                {"name": "Sneak", "parent_id": self.f_team.id})
        mine = self.Folder.with_user(self.restricted).create(
            {"name": "Sub", "parent_id": self.f_user.id})
        self.assertEqual(mine.complete_name, "Mine / Sub")

    def test_hidden_subfolders_block_delete_and_archive(self):
        # The restricted user sees "Mine" but not a team subfolder put inside it.
        hidden = self.Folder.create({
            "name": "Team inside", "parent_id": self.f_user.id,
            "group_ids": [Command.link(self.group_team.id)],
        })
        mine = self.f_user.with_user(self.restricted)
        with self.assertRaises(AccessError):
            mine.unlink()
        with self.assertRaises(AccessError):
            mine.action_archive()
        self.assertTrue(hidden.exists() and hidden.active and self.f_user.active)

    def test_portal_and_plain_employees(self):
        with self.assertRaises(AccessError):
            self.Folder.with_user(self.portal).search([])
        # Employees without the app still see folders (read-only), not edit them.
        self.assertIn(self.f_public, self.visible(self.employee))
        with self.assertRaises(AccessError):
            self.f_public.with_user(self.employee).write({"name": "x"})

    def test_attachments_follow_their_folder(self):
        Attachment = self.env["ir.attachment"]
        both = self.a_ok | self.a_team
        self.assertEqual(self.a_ok.clouds_folder_id, self.f_ok)
        self.assertEqual(Attachment.with_user(self.restricted).search([("id", "in", both.ids)]),
                         self.a_ok)
        self.assertEqual(Attachment.with_user(self.teammate).search([("id", "in", both.ids)]),
                         both)
        self.assertEqual(Attachment.with_user(self.cloud_admin).search(
            [("id", "in", both.ids)]), both)
        hidden = self.a_team.with_user(self.restricted)
        self.assertFalse(hidden.has_access("read"))
        with self.assertRaises(AccessError):
            hidden.check_access("read")
        with self.assertRaises(AccessError):
            hidden.raw  # noqa: B018 -- reading is what is tested
        self.assertEqual(self.a_ok.with_user(self.restricted).raw, b"visible")
        # The partner's own attachment list (chatter) hides it too.
        self.assertEqual(Attachment.with_user(self.restricted).search([
            ("res_model", "=", "res.partner"), ("res_id", "=", self.p_ok.id)]), self.a_ok)
        with self.assertRaises(AccessError):
            Attachment.with_user(self.restricted).create({
                "name": "x.txt", "raw": b"x", "clouds_folder_id": self.f_team.id})

    def test_query_count_does_not_grow(self):
        partners = self.env["res.partner"].create([{"name": f"P{i}"} for i in range(30)])
        folders = self.Folder.with_context(clouds_rule_apply=True).create([{
            "name": p.name, "folder_type": "rule", "parent_id": self.title.id,
            "res_model": "res.partner", "res_id": p.id,
        } for p in partners])
        Folder = self.Folder.with_user(self.restricted)

        def search(n):
            return lambda: Folder.search([("id", "in", folders[:n].ids)]).ids

        def check(n):
            return lambda: folders[:n].with_user(self.restricted).check_access("read")

        atts = self.env["ir.attachment"].create([
            {"name": f"{p.name}.txt", "raw": b"p", "res_model": "res.partner", "res_id": p.id}
            for p in partners
        ])
        Attachment = self.env["ir.attachment"].with_user(self.restricted)

        def search_files(n):
            return lambda: Attachment.search([("id", "in", atts[:n].ids)]).ids

        search(1)()
        search_files(1)()
        self.assertEqual(self.count_queries(search(3)), self.count_queries(search(30)))
        self.assertEqual(self.count_queries(check(3)), self.count_queries(check(30)))
        self.assertEqual(self.count_queries(search_files(3)), self.count_queries(search_files(30)))
        self.assertEqual(len(Folder.search([("id", "in", folders.ids)])), 30)
        self.assertEqual(len(Attachment.search([("id", "in", atts.ids)])), 30)


@tagged("post_install", "-at_install")
class TestAccessSettings(TransactionCase):
    def test_groups(self):
        admin_group = self.env.ref("cloud_base.group_clouds_admin")
        self.assertIn(self.env.ref("cloud_base.group_clouds_user"), admin_group.implied_ids)
        self.assertIn(self.env.ref("base.user_admin"), admin_group.users)
        system_user = new_test_user(self.env, "sysadmin", groups="base.group_system")
        self.assertTrue(system_user.has_group("cloud_base.group_clouds_admin"))
        self.assertEqual(admin_group.category_id.name, "Cloud Storage")


@tagged("post_install", "-at_install")
class TestAttachmentUrlAccess(HttpCase, AccessSetup):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_access()

    def test_web_content_respects_folders(self):
        self.authenticate("restricted", "restricted")
        ok = self.url_open(f"/web/content/{self.a_ok.id}")
        self.assertEqual(ok.status_code, 200)
        self.assertEqual(ok.content, b"visible")
        hidden = self.url_open(f"/web/content/{self.a_team.id}")
        self.assertIn(hidden.status_code, (403, 404))
        self.assertNotIn(b"team only", hidden.content)
        self.authenticate("teammate", "teammate")
        allowed = self.url_open(f"/web/content/{self.a_team.id}")
        self.assertEqual(allowed.status_code, 200)
        self.assertEqual(allowed.content, b"team only")
