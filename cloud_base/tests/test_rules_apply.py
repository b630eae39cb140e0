"""The apply engine: folders created, renamed, moved, archived and restored by the rules."""

import base64

from odoo.addons.cloud_base.models.clouds_rule_engine import RUN_LOCK
from odoo.exceptions import UserError
from odoo.tests import new_test_user, tagged
from odoo.tools import SQL

from .test_rules import RuleCase


@tagged("post_install", "-at_install")
class TestRuleApply(RuleCase):
    def apply(self, models=("res.partner",)):
        """A full apply, as the "Apply now" button does."""
        stats = self.Rule._apply_rules(full_models=set(models))
        self.env.flush_all()
        return stats

    def folder_of(self, record):
        folders = self.Folder.search([("res_model", "=", record._name),
                                      ("res_id", "=", record.id), ("folder_type", "=", "rule")])
        self.assertLessEqual(len(folders), 1, "one object folder per record")
        return folders

    def backdate(self, *models):
        """Make every record look written an hour ago (each test is one transaction)."""
        self.env.flush_all()
        for model in models:
            self.env.cr.execute(SQL("UPDATE %s SET write_date = write_date - interval '1 hour'",
                                    SQL.identifier(self.env[model]._table)))
        self.env.invalidate_all()

    def test_apply_creates_title_and_object_folders_and_moves_attachments(self):
        ann, bob = self.make_partners(["Ann", "Bob"])
        self.make_partners(["Untagged"]).category_id = False
        existing = self.env["ir.attachment"].create({
            "name": "cv.txt", "raw": b"cv", "res_model": "res.partner", "res_id": ann.id,
        })
        self.assertFalse(existing.clouds_folder_id)
        rule = self.make_rule(folder_title="Clients", name_expression="Client {{ object.name }}")
        stats = self.apply()
        self.assertEqual(stats["created"], 2)
        title = rule.root_folder_id
        self.assertEqual((title.name, title.parent_id.id, title.folder_type, title.rule_id),
                         ("Clients", False, "rule", rule))
        folder = self.folder_of(ann)
        self.assertEqual((folder.name, folder.parent_id, folder.rule_id, folder.folder_type),
                         ("Client Ann", title, rule, "rule"))
        self.assertEqual(folder.complete_name, "Clients / Client Ann")
        self.assertEqual(self.folder_of(bob).name, "Client Bob")
        self.assertEqual(rule.folder_count, 2)
        self.assertEqual(existing.clouds_folder_id, folder, "existing files move in")
        # A file posted in a message later lands in the folder too.
        ann.message_post(body="signed", attachments=[("contract.pdf", b"%PDF-1.4 contract")])
        posted = self.env["ir.attachment"].search([("name", "=", "contract.pdf"),
                                                   ("res_id", "=", ann.id)])
        self.assertEqual(posted.clouds_folder_id, folder)
        # Applying again changes nothing.
        self.assertEqual(self.apply(), {"created": 0, "updated": 0, "archived": 0})
        self.assertFalse(rule.needs_full_apply)
        self.assertTrue(rule.last_apply)

    def test_records_leaving_the_domain_are_archived_and_restored(self):
        ann = self.make_partners(["Ann"])
        self.make_rule()
        self.apply()
        folder = self.folder_of(ann)
        att = self.env["ir.attachment"].create({
            "name": "a.txt", "raw": b"a", "res_model": "res.partner", "res_id": ann.id,
        })
        self.assertEqual(att.clouds_folder_id, folder)
        ann.category_id = False
        self.assertEqual(self.apply()["archived"], 1)
        self.assertFalse(folder.active)
        self.assertEqual((att.res_model, att.res_id, att.clouds_folder_id),
                         ("res.partner", ann.id, folder), "files stay on the record")
        ann.category_id = self.category
        self.apply()
        self.assertTrue(folder.active, "the same folder comes back")
        self.assertEqual(self.folder_of(ann), folder)
        ann.active = False
        self.apply()
        self.assertFalse(folder.active, "archived records leave the domain")

    def test_deleted_records_have_their_folder_archived(self):
        ann = self.make_partners(["Ann"])
        self.make_rule()
        self.apply()
        folder = self.folder_of(ann)
        self.backdate("res.partner")
        ann.unlink()
        stats = self.Rule._cron_prepare_folders()
        self.assertEqual(stats["archived"], 1)
        self.assertFalse(folder.active)
        self.assertTrue(folder.exists(), "folders are archived, never deleted")

    def test_renames_and_sibling_clashes_are_stable(self):
        first, second = self.make_partners(["Same", "Same"])
        self.make_rule()
        self.apply()
        names = sorted([self.folder_of(first).name, self.folder_of(second).name])
        self.assertEqual(names, ["Same", "Same (2)"])
        self.assertEqual(self.apply()["updated"], 0, "a suffixed name is not renamed again")
        first.name = "Other"
        self.apply()
        self.assertEqual(self.folder_of(first).name, "Other")

    def test_bad_names_make_sanitised_folders(self):
        forbidden = "*?\"':<>/+%!@\\"
        partners = self.make_partners(["y" * 300, f"x{forbidden}", "🚀 Émoji", "שלום"])
        self.make_rule()
        self.apply()
        names = [self.folder_of(p).name for p in partners]
        self.assertEqual(names, ["y" * 100, "x" + "-" * len(forbidden), "🚀 Émoji", "שלום"])
        self.assertEqual(partners[0].name, "y" * 300, "the record itself keeps its name")

    def test_first_rule_by_sequence_wins_and_folders_follow_sequence_changes(self):
        ann = self.make_partners(["Ann"])
        first = self.make_rule(name="First", folder_title="First", sequence=1)
        second = self.make_rule(name="Second", folder_title="Second", sequence=2)
        self.apply()
        folder = self.folder_of(ann)
        self.assertEqual((folder.rule_id, folder.parent_id), (first, first.root_folder_id))
        second.sequence = 0
        self.apply()
        self.assertEqual(self.folder_of(ann), folder, "the same folder moves")
        self.assertEqual((folder.rule_id, folder.parent_id), (second, second.root_folder_id))

    def test_child_rule_folders_sit_under_the_parent_record_folder(self):
        acme = self.env["res.partner"].create({
            "name": "Acme", "is_company": True, "category_id": [(4, self.category.id)]})
        initech = self.env["res.partner"].create({"name": "Initech", "is_company": True})
        ann, bob = self.make_partners(["Ann", "Bob"], parent_id=acme.id)
        carl = self.make_partners(["Carl"], parent_id=initech.id)
        tag = f"('category_id', 'in', [{self.category.id}])"
        companies = self.make_rule(name="Companies", folder_title="Firms",
                                   domain=f"[{tag}, ('is_company', '=', True)]")
        contacts = self.make_rule(name="Contacts", folder_title="People", sequence=20,
                                  domain=f"[{tag}, ('is_company', '=', False)]",
                                  name_expression="{{ object.name }}",
                                  parent_rule_id=companies.id,
                                  parent_field_id=self.field("res.partner", "parent_id").id)
        self.apply()
        self.assertEqual(self.folder_of(ann).complete_name, "Firms / Acme / People / Ann")
        self.assertEqual(self.folder_of(bob).complete_name, "Firms / Acme / People / Bob")
        self.assertEqual(self.folder_of(carl).complete_name, "People / Carl",
                         "a parent without folder: the rule's top-level title folder")
        self.assertEqual(contacts.root_folder_id.complete_name, "People")
        # The parent gets a folder later: its children move under it.
        initech.category_id = self.category
        self.backdate("res.partner")
        initech.name = "Initech"  # only the parent changed
        stats = self.Rule._cron_prepare_folders()
        self.assertEqual(stats, {"created": 1, "updated": 1, "archived": 0},
                         "Initech's folder is made, Carl's folder moves into it")
        self.assertEqual(self.folder_of(carl).complete_name,
                         "Firms / Initech / People / Carl")
        # The parent leaves its rule: children go back to the top-level title folder.
        acme.category_id = False
        self.apply()
        self.assertFalse(self.folder_of(acme).active)
        self.assertEqual(self.folder_of(ann).complete_name, "People / Ann")
        self.assertTrue(self.folder_of(ann).active)

    def test_default_subfolders_and_files_are_copied_once(self):
        ann, bob = self.make_partners(["Ann", "Bob"])
        template = self.env["ir.attachment"].create({
            "name": "checklist.txt", "datas": base64.b64encode(b"1. sign"),
            "res_model": "clouds.folder.rule",
        })
        rule = self.make_rule(default_file_ids=[(6, 0, template.ids)])
        Sub = self.env["clouds.folder.rule.subfolder"]
        contracts = Sub.create({"rule_id": rule.id, "name": "Contracts", "sequence": 1})
        Sub.create({"rule_id": rule.id, "name": "Signed", "parent_id": contracts.id})
        Sub.create({"rule_id": rule.id, "name": "Invoices: 2026", "sequence": 2})
        self.apply()
        for partner in (ann, bob):
            folder = self.folder_of(partner)
            self.assertEqual(sorted(folder.child_ids.mapped("name")),
                             ["Contracts", "Invoices- 2026"])
            contracts_folder = folder.child_ids.filtered(lambda f: f.name == "Contracts")
            self.assertEqual(contracts_folder.child_ids.mapped("name"), ["Signed"])
            self.assertEqual(contracts_folder.folder_type, "manual")
            copies = self.env["ir.attachment"].search([("clouds_folder_id", "=", folder.id)])
            self.assertEqual(copies.mapped("name"), ["checklist.txt"])
            self.assertEqual((copies.raw, copies.res_model, copies.res_id),
                             (b"1. sign", "res.partner", partner.id))
        rule.name_expression = "{{ object.name }}!"
        self.apply()
        folder = self.folder_of(ann)
        self.assertEqual(folder.name, "Ann-")
        self.assertEqual(len(folder.child_ids), 2, "subfolders are made once")
        self.assertEqual(self.env["ir.attachment"].search_count(
            [("clouds_folder_id", "=", folder.id)]), 1, "default files are copied once")

    def test_cron_is_incremental(self):
        partners = self.make_partners([f"P{i}" for i in range(5)])
        rule = self.make_rule()
        self.assertEqual(self.Rule._cron_prepare_folders()["created"], 5)
        self.backdate("res.partner")
        self.assertEqual(self.Rule._cron_prepare_folders(),
                         {"created": 0, "updated": 0, "archived": 0})
        partners[0].name = "Renamed"
        partners[1].category_id = False
        stats = self.Rule._cron_prepare_folders()
        self.assertEqual(stats, {"created": 0, "updated": 1, "archived": 1})
        self.assertEqual(self.folder_of(partners[0]).name, "Renamed")
        # A changed rule is re-applied entirely, even for records nobody touched.
        self.backdate("res.partner")
        rule.domain = "[('id', 'in', %s)]" % partners[2:].ids
        self.assertTrue(rule.needs_full_apply)
        self.assertEqual(self.Rule._cron_prepare_folders()["archived"], 1)
        self.assertFalse(self.folder_of(partners[0]).active)
        self.assertFalse(rule.needs_full_apply)

    def test_a_broken_rule_leaves_its_folders_alone_and_others_go_on(self):
        ann = self.make_partners(["Ann"])
        rule = self.make_rule()
        self.apply()
        folder = self.folder_of(ann)
        # A domain that went bad after saving (a field of an uninstalled module, say).
        self.env.cr.execute(SQL(
            "UPDATE clouds_folder_rule SET domain = %s, needs_full_apply = TRUE WHERE id = %s",
            "[('gone_field', '=', 1)]", rule.id))
        rule.invalidate_recordset(["domain", "needs_full_apply"])
        usd = self.env.ref("base.USD")
        self.make_rule(model_id=self.env["ir.model"]._get_id("res.currency"),
                       domain=f"[('id', '=', {usd.id})]")
        with self.assertLogs("odoo.addons.cloud_base.models.clouds_rule_engine", "WARNING"):
            stats = self.apply(models=("res.partner", "res.currency"))
        self.assertEqual(stats, {"created": 1, "updated": 0, "archived": 0})
        self.assertTrue(self.folder_of(usd).active)
        self.assertTrue(folder.active, "nothing is archived on a guess")
        self.assertTrue(rule.needs_full_apply, "the broken rule is tried again next run")

    def test_changing_the_model_of_a_rule_archives_the_old_folders(self):
        ann = self.make_partners(["Ann"])
        rule = self.make_rule()
        self.apply()
        folder = self.folder_of(ann)
        usd = self.env.ref("base.USD")
        rule.write({"model_id": self.env["ir.model"]._get_id("res.currency"),
                    "domain": f"[('id', '=', {usd.id})]"})
        stats = self.Rule._cron_prepare_folders()
        self.assertEqual((stats["created"], stats["archived"]), (1, 1))
        self.assertFalse(folder.active)
        self.assertEqual(self.folder_of(usd).parent_id, rule.root_folder_id)

    def test_one_run_at_a_time(self):
        ann = self.make_partners(["Ann"])
        rule = self.make_rule()
        with self.registry.cursor() as other:
            other.execute("SELECT pg_advisory_xact_lock(%s)", [RUN_LOCK])
            with self.assertRaisesRegex(UserError, "being applied right now"):
                rule.action_apply()
            self.assertEqual(self.Rule._cron_prepare_folders()["created"], 0)
            other.rollback()
        self.assertEqual(self.Rule._cron_prepare_folders()["created"], 1)
        self.assertTrue(self.folder_of(ann))

    def test_deleting_a_rule_archives_its_folders(self):
        ann = self.make_partners(["Ann"])
        rule = self.make_rule()
        self.apply()
        folder, title = self.folder_of(ann), rule.root_folder_id
        rule.unlink()
        self.assertFalse(folder.active or title.active)
        self.assertTrue(folder.exists() and title.exists())

    def test_apply_now_button_as_cloud_administrator(self):
        admin = new_test_user(self.env, "rules_admin", groups="cloud_base.group_clouds_admin")
        ann = self.make_partners(["Ann"])
        rule = self.make_rule()
        action = rule.with_user(admin).action_apply()
        self.assertEqual(action["params"]["type"], "success")
        self.assertIn("1 created", action["params"]["message"])
        self.assertTrue(self.folder_of(ann).active)
        opened = rule.with_user(admin).action_open_folders()
        self.assertEqual(self.env["clouds.folder"].with_user(admin).search(opened["domain"]),
                         self.folder_of(ann) | rule.root_folder_id)

    def test_query_count_does_not_grow_with_the_number_of_records(self):
        """20 and 100 new records cost the same number of queries per apply.

        Odoo splits its own INSERT/UPDATE statements every 100 rows; the sizes keep each
        statement within one such chunk (no default subfolders here, which would double the
        folder rows), so any per-record query would show up as a difference.
        """
        template = self.env["ir.attachment"].create({"name": "t.txt", "raw": b"t"})
        self.make_rule(name_expression="{{ object.name }} ({{ object.id }})",
                       default_file_ids=[(6, 0, template.ids)])
        self.make_partners(["Warm-up"])
        self.apply()  # title folder, first folder: fixed costs out of the way

        def measure(count):
            partners = self.make_partners([f"N{count}-{i}" for i in range(count)])
            self.env["ir.attachment"].create([{
                "name": "old.txt", "raw": b"o", "res_model": "res.partner", "res_id": p.id,
            } for p in partners])
            self.env.flush_all()
            self.env.invalidate_all()
            self.env.user.company_id  # noqa: B018 - the cron's user is loaded already
            before = self.env.cr.sql_log_count
            stats = self.apply()
            self.assertEqual(stats["created"], count)
            self.assertEqual(self.env["ir.attachment"].search_count([
                ("res_id", "in", partners.ids), ("res_model", "=", "res.partner"),
                ("clouds_folder_id", "!=", False)]), 2 * count, "old file moved, default copied")
            return self.env.cr.sql_log_count - before

        small, large = measure(20), measure(100)
        self.assertEqual(small, large, f"queries: {small} for 20 records, {large} for 100")
