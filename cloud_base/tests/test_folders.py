"""Folders: tree, names, sibling clashes, rule-folder refusals, archive-not-delete, settings."""

from contextlib import contextmanager

from odoo.exceptions import UserError, ValidationError
from odoo.tests import Form, TransactionCase, tagged

FORBIDDEN = "*?\"':<>/+%!@\\"


class FolderCase(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Folder = cls.env["clouds.folder"]
        cls.RuleFolder = cls.Folder.with_context(clouds_rule_apply=True)

    @contextmanager
    def assertRaisesMsg(self, exception, regex):
        """Like assertRaisesRegex, but through Odoo's assertRaises (savepoint + rollback)."""
        with self.assertRaises(exception) as cm:
            yield cm
        self.assertRegex(str(cm.exception), regex)

    def count_queries(self, func):
        """Run ``func`` and return how many SQL queries it made (after flushing)."""
        self.env.flush_all()
        before = self.cr.sql_log_count
        func()
        self.env.flush_all()
        return self.cr.sql_log_count - before


@tagged("post_install", "-at_install")
class TestFolderTree(FolderCase):
    def test_tree_and_complete_name(self):
        root = self.Folder.create({"name": "Company"})
        hr = self.Folder.create({"name": "HR", "parent_id": root.id})
        contracts = self.Folder.create({"name": "Contracts", "parent_id": hr.id})
        self.assertEqual(contracts.complete_name, "Company / HR / Contracts")
        self.assertEqual(contracts.display_name, "Company / HR / Contracts")
        self.assertEqual(root.child_ids, hr)
        self.assertEqual(self.Folder.search([("id", "child_of", root.id)]), root | hr | contracts)
        root.name = "Group"
        self.assertEqual(contracts.complete_name, "Group / HR / Contracts")
        self.assertEqual(contracts.folder_type, "manual")

    def test_cycle_refused(self):
        root = self.Folder.create({"name": "A"})
        child = self.Folder.create({"name": "B", "parent_id": root.id})
        # Odoo's parent store refuses it first ("Recursion Detected"); our constraint backs it.
        with self.assertRaises(UserError):
            root.parent_id = child
        self.assertFalse(root.parent_id)

    def test_res_name_and_open_record(self):
        partner = self.env["res.partner"].create({"name": "Acme Corp"})
        title = self.RuleFolder.create({"name": "Contacts", "folder_type": "rule"})
        folder = self.RuleFolder.create({
            "name": "Acme", "folder_type": "rule", "parent_id": title.id,
            "res_model": "res.partner", "res_id": partner.id,
        })
        self.assertEqual(folder.res_name, "Acme Corp")
        self.assertFalse(title.res_name)
        action = folder.action_open_record()
        self.assertEqual((action["res_model"], action["res_id"]), ("res.partner", partner.id))
        self.assertEqual(self.Folder._get_object_folder("res.partner", partner.id), folder)
        self.assertFalse(self.Folder._get_object_folder("res.partner", partner.id + 10**6))

    def test_object_folders_map_is_one_query(self):
        partners = self.env["res.partner"].create([{"name": f"P{i}"} for i in range(30)])
        title = self.RuleFolder.create({"name": "Contacts", "folder_type": "rule"})
        folders = self.RuleFolder.create([{
            "name": p.name, "folder_type": "rule", "parent_id": title.id,
            "res_model": "res.partner", "res_id": p.id,
        } for p in partners])
        result = {}

        def lookup(n):
            return lambda: result.update(
                self.Folder._object_folders_map("res.partner", partners[:n].ids)
            )

        self.assertEqual(self.count_queries(lookup(3)), 1)
        self.assertEqual(self.count_queries(lookup(30)), 1)
        self.assertEqual({k: v.id for k, v in result.items()},
                         dict(zip(partners.ids, folders.ids, strict=True)))
        # Archived object folders are not landing places.
        folders[0].action_archive()
        self.assertNotIn(partners[0].id, self.Folder._object_folders_map(
            "res.partner", partners.ids))


@tagged("post_install", "-at_install")
class TestFolderNames(FolderCase):
    def test_every_forbidden_character_becomes_dash(self):
        folder = self.Folder.create({"name": f"a{FORBIDDEN}b"})
        self.assertEqual(folder.name, "a" + "-" * len(FORBIDDEN) + "b")
        folder.name = "tab\there\nnew\x7fline"
        self.assertEqual(folder.name, "tab-here-new-line")

    def test_long_names_are_capped_by_the_setting(self):
        folder = self.Folder.create({"name": "x" * 300})
        self.assertEqual(folder.name, "x" * 100)
        self.env["ir.config_parameter"].sudo().set_param(
            "cloud_base.folder_name_max_length", "20")
        other = self.Folder.create({"name": "y" * 300})
        self.assertEqual(other.name, "y" * 20)
        folder.name = "z" * 50
        self.assertEqual(folder.name, "z" * 20)

    def test_emoji_and_right_to_left_names_are_kept(self):
        emoji = self.Folder.create({"name": "Photos 📷🎉"})
        rtl = self.Folder.create({"name": "مستندات العقود"})
        self.assertEqual(emoji.name, "Photos 📷🎉")
        self.assertEqual(rtl.name, "مستندات العقود")

    def test_empty_name_never_empty(self):
        folder = self.Folder.create({"name": "   "})
        self.assertEqual(folder.name, "-")

    def test_sibling_clashes_get_stable_suffixes(self):
        root = self.Folder.create({"name": "Root"})
        batch = self.Folder.create([{"name": "Docs", "parent_id": root.id} for _i in range(3)])
        self.assertEqual(batch.mapped("name"), ["Docs", "Docs (2)", "Docs (3)"])
        # Other parents are other namespaces.
        elsewhere = self.Folder.create({"name": "Docs"})
        self.assertEqual(elsewhere.name, "Docs")
        # Rewriting the same name keeps the suffix (stable), and renaming frees the name.
        batch[1].name = "Docs"
        self.assertEqual(batch[1].name, "Docs (2)")
        batch[0].name = "Archive"
        later = self.Folder.create({"name": "Docs", "parent_id": root.id})
        self.assertEqual(later.name, "Docs")
        # Moving into a parent with a clash suffixes; archived siblings count too.
        later.action_archive()
        elsewhere.parent_id = root
        self.assertEqual(elsewhere.name, "Docs (4)")

    def test_numbered_variants_and_wildcards_are_found(self):
        """Only clashing siblings are read: a taken variant is still seen, and LIKE's
        wildcards in a name match themselves only."""
        root = self.Folder.create({"name": "Root"})
        self.Folder.create([{"name": n, "parent_id": root.id}
                            for n in ("Y (2)", "a_b", "aXb (2)", "a_b (2).pdf")])
        twins = self.Folder.create([{"name": "Y", "parent_id": root.id} for _i in range(2)])
        self.assertEqual(twins.mapped("name"), ["Y", "Y (3)"])
        self.assertEqual(self.Folder.create({"name": "a_b", "parent_id": root.id}).name,
                         "a_b (2)")
        self.assertEqual(self.Folder.create({"name": "a_b.pdf", "parent_id": root.id}).name,
                         "a_b.pdf")
        self.assertEqual(self.Folder.create({"name": "a_b.pdf", "parent_id": root.id}).name,
                         "a_b (3).pdf")

    def test_naming_cost_does_not_grow_with_siblings(self):
        """Naming a batch reads the clashing siblings only: the same queries next to 10
        or 2,000 siblings (the rules engine adds record folders by thousands)."""
        def queries(siblings):
            parent = self.Folder.create({"name": f"Parent {siblings}"})
            self.Folder.create([{"name": f"Old {i}", "parent_id": parent.id}
                                for i in range(siblings)])
            self.env.flush_all()
            before = self.env.cr.sql_log_count
            self.Folder.create([{"name": f"Old {i}", "parent_id": parent.id} for i in range(5)]
                               + [{"name": f"New {i}", "parent_id": parent.id} for i in range(5)])
            return self.env.cr.sql_log_count - before

        self.assertEqual(queries(10), queries(2000))

    def test_long_clash_stays_within_the_cap(self):
        first, second = self.Folder.create([{"name": "L" * 300}, {"name": "L" * 300}])
        self.assertEqual(first.name, "L" * 100)
        self.assertEqual(second.name, "L" * 96 + " (2)")

    def test_sanitised_clash(self):
        a = self.Folder.create({"name": "a/b"})
        b = self.Folder.create({"name": "a:b"})
        self.assertEqual((a.name, b.name), ("a-b", "a-b (2)"))


@tagged("post_install", "-at_install")
class TestRuleFolderRefusals(FolderCase):
    def setUp(self):
        super().setUp()
        self.partner = self.env["res.partner"].create({"name": "Rule Partner"})
        self.title = self.RuleFolder.create({"name": "Contacts", "folder_type": "rule"})
        self.folder = self.RuleFolder.create({
            "name": "Rule Partner", "folder_type": "rule", "parent_id": self.title.id,
            "res_model": "res.partner", "res_id": self.partner.id,
        })

    def test_manual_edits_refused_with_reason(self):
        other = self.Folder.create({"name": "Manual"})
        folder = self.folder.with_env(self.env)  # without the engine's context
        for vals in ({"name": "Renamed"}, {"parent_id": False}, {"res_id": 1},
                     {"res_model": "res.users"}, {"folder_type": "manual"}):
            with self.assertRaisesMsg(UserError, "generated by a folder rule"):
                folder.write(vals)
        self.assertEqual(folder.name, "Rule Partner")
        # Other fields stay editable, and the engine's context may edit everything.
        folder.sequence = 3
        folder.with_context(clouds_rule_apply=True).name = "Renamed"
        self.assertEqual(folder.name, "Renamed")
        # Manual folders are free.
        other.name = "Manual 2"
        self.assertEqual(other.name, "Manual 2")

    def test_copy_of_rule_folder_is_manual(self):
        copy = self.folder.copy()
        self.assertEqual(copy.folder_type, "manual")
        self.assertFalse(copy.res_model or copy.res_id or copy.rule_id)
        self.assertEqual(copy.name, "Rule Partner (2)")
        copy.name = "Free to rename"
        self.assertEqual(copy.name, "Free to rename")

    def test_rule_folder_never_under_manual_folder(self):
        manual = self.Folder.create({"name": "Manual"})
        with self.assertRaisesMsg(ValidationError, "cannot sit under the manual folder"):
            self.RuleFolder.create({"name": "X", "folder_type": "rule", "parent_id": manual.id})
        with self.assertRaisesMsg(ValidationError, "cannot sit under the manual folder"):
            self.folder.with_context(clouds_rule_apply=True).parent_id = manual
        self.assertEqual(self.folder.parent_id, self.title)
        # A manual folder under a rule folder is fine (users add their own subfolders).
        sub = self.Folder.create({"name": "Mine", "parent_id": self.folder.id})
        self.assertEqual(sub.complete_name, "Contacts / Rule Partner / Mine")


@tagged("post_install", "-at_install")
class TestArchiveNotDelete(FolderCase):
    def test_unlink_refused_when_files_below(self):
        root = self.Folder.create({"name": "Root"})
        sub = self.Folder.create({"name": "Sub", "parent_id": root.id})
        att = self.env["ir.attachment"].create({
            "name": "keep.txt", "raw": b"keep", "clouds_folder_id": sub.id,
        })
        for folder in (root, sub):
            with self.assertRaisesMsg(UserError, "archive them instead"):
                folder.unlink()
        root.action_archive()
        self.assertFalse(root.active)
        self.assertFalse(sub.active)
        self.assertTrue(att.exists())
        self.assertEqual(att.clouds_folder_id, sub)
        self.assertEqual(att.raw, b"keep")
        root.action_unarchive()
        self.assertTrue(sub.active)

    def test_empty_tree_is_deleted(self):
        root = self.Folder.create({"name": "Root"})
        sub = self.Folder.create({"name": "Sub", "parent_id": root.id})
        leaf = self.Folder.create({"name": "Leaf", "parent_id": sub.id})
        root.unlink()
        self.assertFalse((root | sub | leaf).exists())

    def test_attachment_counts_in_one_query(self):
        folders = self.Folder.create([{"name": f"F{i}"} for i in range(12)])
        self.env["ir.attachment"].create([
            {"name": f"f{i}.txt", "raw": b"x", "clouds_folder_id": folders[i % 3].id}
            for i in range(9)
        ])

        def counts(n):
            return lambda: folders[:n].invalidate_recordset(["attachment_count"]) or [
                f.attachment_count for f in folders[:n]]

        self.assertEqual(self.count_queries(counts(2)), self.count_queries(counts(12)))
        self.assertEqual(folders[:4].mapped("attachment_count"), [3, 3, 3, 0])


@tagged("post_install", "-at_install")
class TestSettings(FolderCase):
    def test_name_length_setting(self):
        settings = self.env["res.config.settings"].create({"clouds_folder_name_max_length": 30})
        settings.execute()
        param = self.env["ir.config_parameter"].sudo().get_param(
            "cloud_base.folder_name_max_length")
        self.assertEqual(param, "30")
        self.assertEqual(len(self.Folder.create({"name": "n" * 80}).name), 30)
        with self.assertRaisesMsg(ValidationError, "between 1 and 255"):
            self.env["res.config.settings"].create({"clouds_folder_name_max_length": 0})

    def test_prepare_interval_drives_the_cron(self):
        cron = self.env.ref("cloud_base.ir_cron_prepare_folders")
        self.assertEqual(self.env["res.config.settings"].create({}).clouds_prepare_interval, 15)
        self.env["res.config.settings"].create({"clouds_prepare_interval": 42}).execute()
        self.assertEqual((cron.interval_number, cron.interval_type), (42, "minutes"))
        self.assertEqual(self.env["res.config.settings"].create({}).clouds_prepare_interval, 42)
        with self.assertRaisesMsg(ValidationError, "every minute"):
            self.env["res.config.settings"].create({"clouds_prepare_interval": 0})

    def test_sync_interval_drives_both_sync_crons(self):
        crons = (self.env.ref("cloud_base.ir_cron_sync_prepare")
                 | self.env.ref("cloud_base.ir_cron_sync_run"))
        self.assertEqual(self.env["res.config.settings"].create({}).clouds_sync_interval, 15)
        self.env["res.config.settings"].create({"clouds_sync_interval": 5}).execute()
        self.assertEqual(set(crons.mapped("interval_number")), {5})
        self.assertEqual(set(crons.mapped("interval_type")), {"minutes"})
        self.assertEqual(self.env["res.config.settings"].create({}).clouds_sync_interval, 5)
        prepare = self.env.ref("cloud_base.ir_cron_prepare_folders")
        self.assertEqual(prepare.interval_number, 15, "the folders cron keeps its own")
        with self.assertRaisesMsg(ValidationError, "every minute"):
            self.env["res.config.settings"].create({"clouds_sync_interval": 0})

    def test_settings_link_to_the_connections(self):
        admin = self.env.ref("base.user_admin")
        admin.groups_id = [(4, self.env.ref("cloud_base.group_clouds_admin").id)]
        arch = self.env["res.config.settings"].with_user(admin).get_view(
            view_type="form")["arch"]
        self.assertIn('name="clouds_sync_interval"', arch)
        self.assertIn('name="action_clouds_connections"', arch)
        action = self.env["res.config.settings"].with_user(admin).create(
            {}).action_clouds_connections()
        self.assertEqual(action["res_model"], "clouds.client")


@tagged("post_install", "-at_install")
class TestFolderViews(FolderCase):
    def test_folder_form(self):
        parent = self.Folder.create({"name": "Parent"})
        with Form(self.Folder) as form:
            form.name = "Invoices: 2024/Q1"
            form.parent_id = parent
        folder = form.record
        self.assertEqual(folder.complete_name, "Parent / Invoices- 2024-Q1")
        att = self.env["ir.attachment"].create(
            {"name": "a.txt", "raw": b"a", "clouds_folder_id": folder.id})
        action = folder.action_open_attachments()
        self.assertEqual(self.env["ir.attachment"].search(action["domain"]), att)
        self.assertEqual(action["context"]["default_clouds_folder_id"], folder.id)

    def test_rule_folder_form_is_read_only(self):
        folder = self.RuleFolder.create({"name": "By rule", "folder_type": "rule"})
        form = Form(folder.with_env(self.env))
        with self.assertRaises(AssertionError):
            form.name = "By hand"

    def test_attachment_form_and_menus(self):
        folder = self.Folder.create({"name": "Docs"})
        tag = self.env["clouds.tag"].create({"name": "Tagged"})
        with Form(self.env["ir.attachment"]) as form:
            form.name = "note.txt"
            form.clouds_folder_id = folder
            form.clouds_tag_ids.add(tag)
        self.assertEqual(form.record.clouds_folder_id, folder)
        self.assertEqual(tag.attachment_ids, form.record)
        root = self.env.ref("cloud_base.menu_clouds_root")
        config = self.env.ref("cloud_base.menu_clouds_config")
        self.assertEqual(self.env.ref("cloud_base.menu_clouds_folders").parent_id, root)
        self.assertEqual(config.parent_id, root)
        self.assertEqual(self.env.ref("cloud_base.menu_clouds_tags").parent_id, config)
        self.assertEqual(self.env.ref("cloud_base.menu_clouds_settings").parent_id, config)
        self.assertEqual(config.groups_id, self.env.ref("cloud_base.group_clouds_admin"))
