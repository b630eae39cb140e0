"""The demo data `make demo` shows: contacts split in two, projects with their tasks beneath.

`tools/odoo_tests.py` installs Odoo's contacts and project apps first, as `make demo`
does, so the project rules of the demo are created and exercised here.
"""

from odoo.tests import TransactionCase, tagged


@tagged("post_install", "-at_install")
class TestDemoData(TransactionCase):
    def test_demo_rules_build_projects_with_their_tasks_beneath(self):
        self.assertIn("project.task", self.env, "the test run installs project first")
        rules = self.env["clouds.folder.rule"].search([])
        self.assertLessEqual({"res.partner", "project.project", "project.task"},
                             set(rules.mapped("model")))
        tasks_rule = rules.filtered(lambda r: r.model == "project.task")
        self.assertEqual(tasks_rule.parent_rule_id.model, "project.project")
        self.assertEqual(tasks_rule.parent_field_id.name, "project_id")

        rules.action_apply()
        Folder = self.env["clouds.folder"]
        task = self.env["project.task"].search([("project_id", "!=", False)], limit=1)
        task_folder = Folder._get_object_folder("project.task", task.id)
        project_folder = Folder._get_object_folder("project.project", task.project_id.id)
        self.assertTrue(task_folder and project_folder)
        self.assertTrue(task_folder.parent_path.startswith(project_folder.parent_path),
                        "a task's folder sits beneath its project's folder")

    def test_demo_contacts_are_split_into_companies_and_individuals(self):
        Folder = self.env["clouds.folder"]
        company = self.env.ref("base.res_partner_1")
        person = self.env.ref("base.res_partner_address_1")
        self.env["clouds.folder.rule"].search([("model", "=", "res.partner")]).action_apply()
        company_folder = Folder._get_object_folder("res.partner", company.id)
        person_folder = Folder._get_object_folder("res.partner", person.id)
        self.assertEqual(company_folder.rule_id.name, "Companies")
        self.assertEqual(person_folder.rule_id.name, "Individuals")

    def test_demo_files_carry_nested_tags(self):
        contract = self.env.ref("cloud_base.demo_attachment_azure_contract")
        self.assertEqual(set(contract.clouds_tag_ids.mapped("complete_name")),
                         {"Legal / Signed", "2026"})
        offer = self.env.ref("cloud_base.demo_attachment_deco_offer")
        self.assertEqual(offer.clouds_tag_ids.parent_id, self.env.ref("cloud_base.demo_tag_sales"))
        sales = self.env.ref("cloud_base.demo_tag_sales")
        tagged_files = self.env["ir.attachment"].search([("clouds_tag_ids", "child_of", sales.id)])
        self.assertEqual(len(tagged_files), 2, "the price list and the offer, through subtags")
