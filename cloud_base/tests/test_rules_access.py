"""Folder rules as an oracle: attacks by a Cloud Storage administrator who is not a
Settings administrator, which must all fail.

A rule is evaluated with its author's rights: which models it may target, its domain,
the records it gives folders to, their names and the preview. Nothing a rule produces
(folders, their names, their number) may tell its author anything Odoo would not show
them.
"""

import ast

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import Form, HttpCase, JsonRpcException, new_test_user, tagged

from .test_rules import RuleCase

SECRET = "SECRET"


@tagged("post_install", "-at_install")
class TestRuleAccess(RuleCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env
        # Partners with ref SECRET are hidden from this group (a test-made record rule).
        cls.group_no_secret = env["res.groups"].create({"name": "Partners except secret"})
        env["ir.rule"].create({
            "name": "No secret partners",
            "model_id": env.ref("base.model_res_partner").id,
            "groups": [Command.link(cls.group_no_secret.id)],
            "domain_force": f"[('ref', '!=', '{SECRET}')]",
        })
        cls.editor_group = env.ref("mail.group_mail_template_editor")
        cls.cloud_admin = new_test_user(
            env, "rules_attacker", groups_id=[
                env.ref("cloud_base.group_clouds_admin").id, cls.group_no_secret.id,
                cls.editor_group.id,
            ])
        cls.AdminRule = cls.Rule.with_user(cls.cloud_admin)
        cls.visible, cls.secret = cls.make_partners(["Visible Ltd", "Secret Ltd"])
        cls.secret.write({"ref": SECRET, "comment": "launch codes"})

    def apply(self, models=("res.partner",), **context):
        """A full apply, as the cron does (as superuser)."""
        stats = self.Rule.with_context(**context)._apply_rules(full_models=set(models))
        self.env.flush_all()
        return stats

    def rule_folders(self, rule, active=True):
        return self.Folder.search([("rule_id", "=", rule.id), ("res_id", "!=", False),
                                   ("active", "=", active)])

    def admin_rule(self, **vals):
        vals.setdefault("name", "Attacker's rule")
        vals.setdefault("model_id", self.partner_model.id)
        vals.setdefault("domain", f"[('category_id', 'in', [{self.category.id}])]")
        return self.AdminRule.create(vals)

    # ------------------------------------------------------------------ models

    def test_the_attacker_is_no_settings_administrator(self):
        self.assertTrue(self.cloud_admin.has_group("cloud_base.group_clouds_admin"))
        self.assertFalse(self.cloud_admin.has_group("base.group_system"))
        self.assertFalse(self.cloud_admin.has_group("base.group_erp_manager"))

    def test_technical_models_are_refused(self):
        for model in ("ir.config_parameter", "ir.cron", "ir.actions.server", "ir.model",
                      "ir.rule", "clouds.client", "clouds.folder.rule", "res.users.apikeys",
                      "res.users.log"):
            model_id = self.env["ir.model"]._get_id(model)
            with self.subTest(model=model):
                with self.assertRaisesRegex(ValidationError, "cannot get folders"):
                    self.admin_rule(model_id=model_id, domain="[]")
                # Not for the superuser either: such models never get folders.
                with self.assertRaisesRegex(ValidationError, "cannot get folders"):
                    self.make_rule(model_id=model_id, domain="[]")
        rule = self.admin_rule()
        with self.assertRaisesRegex(ValidationError, "cannot get folders"):
            rule.write({"model_id": self.env["ir.model"]._get_id("ir.config_parameter"),
                        "domain": "[('key', '=like', 'database.secret%')]"})

    def test_transient_and_abstract_models_are_refused(self):
        for model in ("res.config.settings", "base.module.update", "mail.thread",
                      "mail.render.mixin"):
            with self.subTest(model=model), self.assertRaisesRegex(
                ValidationError, "cannot get folders"
            ):
                self.admin_rule(model_id=self.env["ir.model"]._get_id(model), domain="[]")

    def revoke_read(self, model):
        """Only Settings administrators may read ``model`` from now on."""
        model_id = self.env["ir.model"]._get_id(model)
        self.env["ir.model.access"].search([("model_id", "=", model_id)]).active = False
        self.env["ir.model.access"].create({
            "name": f"{model} system only", "model_id": model_id,
            "group_id": self.env.ref("base.group_system").id, "perm_read": True,
        })

    def test_a_model_the_author_cannot_read_is_refused(self):
        self.revoke_read("res.partner.industry")
        industry = self.env["ir.model"]._get_id("res.partner.industry")
        with self.assertRaisesRegex(ValidationError, "may not read res.partner.industry"):
            self.admin_rule(model_id=industry, domain="[]")
        self.assertTrue(self.make_rule(model_id=industry, domain="[]"),
                        "the superuser may read it")

    def test_the_form_offers_only_allowed_models(self):
        self.revoke_read("res.partner.industry")
        domain = ast.literal_eval(self.Rule._fields["model_id"].domain)
        offered = self.env["ir.model"].with_user(self.cloud_admin).search(domain).mapped(
            "model")
        self.assertIn("res.partner", offered)
        self.assertIn("res.currency", offered)
        for model in ("ir.config_parameter", "ir.attachment", "clouds.client",
                      "clouds.folder", "res.users.apikeys", "res.config.settings",
                      "mail.thread", "res.partner.industry"):
            self.assertNotIn(model, offered)
        self.assertIn("res.partner.industry", self.env["ir.model"].search(
            [("clouds_rule_allowed", "=", True)]).mapped("model"), "the superuser's list")
        self.assertEqual(self.env["ir.model"]._get("ir.config_parameter").with_user(
            self.cloud_admin).clouds_rule_allowed, False)

    def test_a_rule_whose_author_loses_the_model_is_skipped(self):
        industries = self.env["res.partner.industry"].create(
            [{"name": "Mining"}, {"name": "Fishing"}])
        rule = self.admin_rule(model_id=self.env["ir.model"]._get_id("res.partner.industry"),
                               domain=f"[('id', 'in', {industries.ids})]")
        self.apply(models=("res.partner.industry",))
        folders = self.rule_folders(rule)
        self.assertEqual(len(folders), 2)
        self.revoke_read("res.partner.industry")
        rule.needs_full_apply = True
        with self.assertLogs("odoo.addons.cloud_base.models.clouds_rule_engine",
                             "WARNING") as logs:
            stats = self.apply(models=("res.partner.industry",))
        self.assertIn("may not have a rule", "\n".join(logs.output))
        self.assertEqual(stats, {"created": 0, "updated": 0, "archived": 0})
        self.assertEqual(self.rule_folders(rule), folders, "its folders are left as they are")
        wizard = self.env["clouds.rule.preview"].with_user(self.cloud_admin).new(
            {"rule_id": rule.id})
        with self.assertRaisesRegex(UserError, "may not have a rule"):
            wizard.read(["paths"])

    # ------------------------------------------------------------------ domains

    def test_a_domain_on_a_field_the_author_may_not_read_is_refused(self):
        # signup_type is for "Administration / Access Rights" only.
        for domain in ("[('signup_type', '=', 'signup')]",
                       "[('child_ids.signup_type', '!=', False)]",
                       "[('child_ids', 'any', [('signup_type', '=', 'signup')])]"):
            with self.subTest(domain=domain), self.assertRaisesRegex(
                AccessError, "may not read"
            ):
                self.admin_rule(domain=domain)
        rule = self.admin_rule()
        with self.assertRaisesRegex(AccessError, "may not read"):
            rule.domain = "[('user_ids.signup_type', '=', 'signup')]"
        self.assertTrue(self.make_rule(domain="[('signup_type', '=', 'signup')]"),
                        "the superuser may")

    def test_the_domain_gets_no_record_to_escape_from(self):
        leak = ("[('id', '=', len(user.sudo().env['ir.config_parameter']"
                ".get_param('database.secret')))]")
        with self.assertRaisesRegex(ValidationError, "invalid domain"):
            self.admin_rule(domain=leak)
        with self.assertRaisesRegex(ValidationError, "invalid domain"):
            self.make_rule(domain=leak)
        # uid is the author's.
        rule = self.admin_rule(domain="[('user_ids', 'in', [uid])]")
        self.assertEqual(self.env["res.partner"].search(rule._domain_terms()),
                         self.cloud_admin.partner_id)

    def test_a_period_makes_its_writer_the_author_and_is_checked(self):
        rule = self.make_rule()
        self.assertEqual(rule.author_id, self.env.user)
        self.env["clouds.folder.rule.period"].with_user(self.cloud_admin).create({
            "rule_id": rule.id, "field_id": self.field("res.partner", "create_date").id,
        })
        self.assertEqual(rule.author_id, self.cloud_admin)

    # ------------------------------------------------------------------ records

    def test_folders_only_for_records_the_author_may_read(self):
        """The attack: a domain that matches only the hidden record tells, by the folder
        it makes (or not), whether the hidden record matches; it must make none."""
        probe = self.admin_rule(name="Probe", domain=(
            f"[('category_id', 'in', [{self.category.id}]), ('comment', 'ilike', 'launch')]"))
        self.apply()
        self.assertFalse(self.rule_folders(probe), "no folder for an unreadable record")
        self.assertEqual(probe.with_user(self.cloud_admin).folder_count, 0)
        wide = self.admin_rule(name="Wide", sequence=5)
        self.apply()
        self.assertEqual(self.rule_folders(wide).mapped("res_id"), self.visible.ids)
        self.assertNotIn("Secret Ltd", self.Folder.search([]).mapped("name"))

    def test_default_files_the_author_may_not_download_are_never_copied(self):
        """A default file is copied into every new folder: linking another's file would
        hand its bytes to whoever reads the folders."""
        hidden = self.env["ir.attachment"].create({
            "name": "codes.txt", "raw": b"launch codes", "res_model": "res.partner",
            "res_id": self.secret.id})
        with self.assertRaises(AccessError):
            self.admin_rule(default_file_ids=[Command.link(hidden.id)])
        rule = self.admin_rule()
        with self.assertRaises(AccessError):
            rule.write({"default_file_ids": [Command.link(hidden.id)]})
        # Linked behind the rule's back (sudo): the engine copies only what the author
        # may download.
        rule.sudo().default_file_ids = [Command.link(hidden.id)]
        self.apply()
        self.assertTrue(self.rule_folders(rule))
        copies = self.env["ir.attachment"].search([("name", "=", "codes.txt"),
                                                   ("id", "!=", hidden.id)])
        self.assertFalse(copies)

    def test_a_folder_made_with_more_rights_is_archived_for_a_new_author(self):
        rule = self.make_rule()
        self.apply()
        secret_folder = self.rule_folders(rule).filtered(lambda f: f.res_id == self.secret.id)
        self.assertTrue(secret_folder, "made by the superuser's rule")
        rule.with_user(self.cloud_admin).domain = (
            f"[('category_id', 'in', [{self.category.id}]), ('name', 'ilike', 'Ltd')]")
        self.assertEqual(rule.author_id, self.cloud_admin)
        self.assertEqual(self.apply()["archived"], 1)
        self.assertFalse(secret_folder.active)
        self.assertTrue(secret_folder.exists(), "archived, never deleted")
        self.assertEqual(self.rule_folders(rule).mapped("res_id"), self.visible.ids)

    def test_records_of_other_companies_get_no_folder(self):
        other = self.env["res.company"].create({"name": "Other Co"})
        foreign = self.make_partners(["Foreign Ltd"], company_id=other.id)
        rule = self.admin_rule()
        # The calling context's companies do not count: the author's do.
        self.apply(allowed_company_ids=[self.env.company.id, other.id])
        self.assertNotIn(foreign.id, self.rule_folders(rule).mapped("res_id"))
        self.assertIn(self.visible.id, self.rule_folders(rule).mapped("res_id"))
        self.cloud_admin.company_ids = [Command.link(other.id)]
        rule.needs_full_apply = True
        self.apply()
        self.assertIn(foreign.id, self.rule_folders(rule).mapped("res_id"))

    def test_preview_obeys_the_author_rights(self):
        rule = self.admin_rule(name_expression="{{ object.name }} ({{ object.ref or '-' }})")
        wizard = self.env["clouds.rule.preview"].with_user(self.cloud_admin).create(
            {"rule_id": rule.id})
        self.assertEqual(wizard.match_count, 1)
        self.assertEqual(wizard.paths, "Contact / Visible Ltd (-)")
        # In the dialog (an onchange on a new wizard), with the limit changed.
        self.make_partners(["Visible Too"])
        with Form(self.env["clouds.rule.preview"].with_user(self.cloud_admin).with_context(
                default_rule_id=rule.id)) as form:
            self.assertEqual((form.match_count, form.limit), (2, 20))
            form.limit = 1
            self.assertEqual((form.paths, form.limit), ("Contact / Visible Ltd (-)", 1))
            self.assertEqual(form.rule_id, rule)
        probe = self.admin_rule(name="Probe", domain=f"[('ref', '=', '{SECRET}')]")
        self.assertEqual(self.env["clouds.rule.preview"].with_user(self.cloud_admin).create(
            {"rule_id": probe.id}).match_count, 0)

    # ------------------------------------------------------------------ names

    def test_names_reaching_what_the_author_may_not_read_fall_back(self):
        hidden_parent = self.secret
        hidden_parent.signup_type = "signup"  # in the cache, read as superuser
        child, loner = self.make_partners(["Ann", "Loner"])
        child.parent_id = hidden_parent
        # A field of a record the author may not read (record rule).
        rule = self.admin_rule(
            name_expression="{{ object.name }} {{ object.parent_id.comment or '' }}")
        self.apply()
        names = dict(zip(self.rule_folders(rule).mapped("res_id"),
                         self.rule_folders(rule).mapped("name"), strict=True))
        self.assertEqual(names[loner.id], "Loner")
        self.assertEqual(names[child.id], child.with_user(self.cloud_admin).display_name,
                         "the display name the author sees, never the hidden comment")
        self.assertNotIn("launch codes", " ".join(names.values()))
        # A field the author may not read at all (field groups), on a readable record.
        self.visible.signup_type = "signup"
        (other_child,) = self.make_partners(["Bob"], parent_id=self.visible.id)
        rule.name_expression = "{{ object.name }}{{ object.parent_id.signup_type or '' }}"
        self.apply()
        folder = self.rule_folders(rule).filtered(lambda f: f.res_id == other_child.id)
        self.assertNotIn("signup", folder.name)
        self.assertEqual(folder.name, other_child.with_user(self.cloud_admin).display_name)
        # Refused on save where it fails on every record.
        with self.assertRaisesRegex(ValidationError, "fails on every sample record"):
            rule.name_expression = "{{ object.signup_type }}"

    def test_name_expressions_cannot_escape_the_sandbox_without_template_rights(self):
        self.env["ir.config_parameter"].set_param("mail.restrict.template.rendering", True)
        self.cloud_admin.groups_id = [Command.unlink(self.editor_group.id)]
        self.assertFalse(self.cloud_admin.has_group("mail.group_mail_template_editor"))
        leak = ("{{ object.sudo().env['ir.config_parameter']"
                ".get_param('database.secret') }}")
        for expression in (leak, "{{ object.name.upper() }}"):
            with self.subTest(expression=expression), self.assertRaisesRegex(
                AccessError, "beyond plain field paths"
            ):
                self.admin_rule(name_expression=expression)
        rule = self.admin_rule(name_expression="{{ object.name }}")
        with self.assertRaisesRegex(AccessError, "beyond plain field paths"):
            rule.name_expression = "{{ object.name.upper() }}"

    def test_restricted_rendering_is_checked_again_when_rendering(self):
        rule = self.admin_rule(name_expression="{{ object.name.upper() }}")
        self.apply()
        self.assertEqual(self.rule_folders(rule).name, "VISIBLE LTD")
        # The author loses the right to write such expressions: no longer rendered.
        self.env["ir.config_parameter"].set_param("mail.restrict.template.rendering", True)
        self.cloud_admin.groups_id = [Command.unlink(self.editor_group.id)]
        rule.needs_full_apply = True
        with self.assertLogs("odoo.addons.cloud_base.models.clouds_folder_rule", "WARNING"):
            self.apply()
        self.assertEqual(self.rule_folders(rule).name, "Visible Ltd")

    # ------------------------------------------------------------------ author

    def test_the_author_cannot_be_chosen_by_a_cloud_administrator(self):
        admin = self.env.ref("base.user_admin")
        with self.assertRaisesRegex(AccessError, "choose the author"):
            self.admin_rule(author_id=admin.id)
        rule = self.make_rule()
        self.assertEqual(rule.author_id, self.env.user)
        with self.assertRaisesRegex(AccessError, "choose the author"):
            rule.with_user(self.cloud_admin).write({"author_id": admin.id})
        with self.assertRaisesRegex(AccessError, "choose the author"):
            rule.with_user(self.cloud_admin).copy({"author_id": admin.id})
        self.assertTrue(self.Rule.fields_get(["author_id"])["author_id"]["readonly"])
        # Labels and order do not change what the rule sees: the author stays.
        rule.with_user(self.cloud_admin).write({"name": "Renamed", "sequence": 3,
                                                "folder_title": "Other"})
        self.assertEqual(rule.author_id, self.env.user)
        rule.with_user(self.cloud_admin).name_expression = "{{ object.name }}"
        self.assertEqual(rule.author_id, self.cloud_admin)
        self.assertEqual(rule.with_user(self.cloud_admin).copy().author_id, self.cloud_admin)
        # A Settings administrator may hand a rule over (checked with the new rights).
        rule.with_user(admin).author_id = admin
        self.assertEqual(rule.author_id, admin)
        with self.assertRaisesRegex(AccessError, "may not read"):
            rule.with_user(admin).write({"author_id": self.cloud_admin.id,
                                         "domain": "[('signup_type', '=', 'signup')]"})

    def test_query_count_does_not_grow_with_records_for_an_author(self):
        """The author's rights cost the same number of queries for 20 and 100 records."""
        self.admin_rule(name_expression="{{ object.name }} ({{ object.id }})")
        self.make_partners(["Warm-up"])
        self.apply()

        def measure(count):
            self.make_partners([f"N{count}-{i}" for i in range(count)])
            self.env.flush_all()
            self.env.invalidate_all()
            self.env.user.company_id  # noqa: B018 - the cron's user is loaded already
            before = self.env.cr.sql_log_count
            self.assertEqual(self.apply()["created"], count)
            return self.env.cr.sql_log_count - before

        small, large = measure(20), measure(100)
        self.assertEqual(small, large, f"queries: {small} for 20 records, {large} for 100")


@tagged("post_install", "-at_install")
class TestRuleAccessRpc(HttpCase):
    """The same attacks made over JSON-RPC, as a browser session would."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.attacker = new_test_user(cls.env, "rules_rpc_attacker",
                                     groups="cloud_base.group_clouds_admin")
        cls.rule = cls.env["clouds.folder.rule"].create({
            "name": "Admin's rule", "model_id": cls.env["ir.model"]._get_id("res.partner"),
            "domain": "[('id', '=', 0)]", "active": False,
        })

    def call(self, model, method, *args, **kwargs):
        return self.make_jsonrpc_request("/web/dataset/call_kw", {
            "model": model, "method": method, "args": list(args), "kwargs": kwargs,
        })

    def assert_refused(self, error, *args, **kwargs):
        with self.assertRaises(JsonRpcException) as caught:
            self.call(*args, **kwargs)
        self.assertEqual(caught.exception.args[0], f"odoo.exceptions.{error}")

    def test_rpc_attacks_fail(self):
        self.authenticate("rules_rpc_attacker", "rules_rpc_attacker")
        partner_model = self.env["ir.model"]._get_id("res.partner")
        secret_model = self.env["ir.model"]._get_id("ir.config_parameter")
        self.assert_refused("ValidationError", "clouds.folder.rule", "create", {
            "name": "Oracle", "model_id": secret_model,
            "domain": "[('key', '=like', 'database.secret%')]"})
        self.assert_refused("AccessError", "clouds.folder.rule", "create", {
            "name": "Borrowed", "model_id": partner_model,
            "author_id": self.env.ref("base.user_admin").id})
        self.assert_refused("AccessError", "clouds.folder.rule", "write", [self.rule.id], {
            "author_id": self.attacker.id})
        self.assert_refused("AccessError", "clouds.folder.rule", "create", {
            "name": "Field oracle", "model_id": partner_model,
            "domain": "[('signup_type', '=', 'signup')]"})
        self.assert_refused("ValidationError", "clouds.folder.rule", "write", [self.rule.id], {
            "model_id": secret_model, "domain": "[]"})
        offered = self.call("ir.model", "name_search", "config", args=[
            ["clouds_rule_allowed", "=", True]], limit=100)
        self.assertNotIn("System Parameter", [name for _id, name in offered])
        self.assertTrue(self.call("ir.model", "name_search", "Contact", args=[
            ["clouds_rule_allowed", "=", True]]))
        self.assertEqual(self.rule.author_id, self.env.user, "nothing was written")
        self.assertFalse(self.env["clouds.folder.rule"].with_context(active_test=False).search(
            [("name", "in", ["Oracle", "Borrowed", "Field oracle"])]))
        # What the attacker may do: a rule of their own, evaluated with their rights.
        rule_id = self.call("clouds.folder.rule", "create", {
            "name": "Mine", "model_id": partner_model, "domain": "[('id', '=', 0)]"})
        self.assertEqual(self.env["clouds.folder.rule"].browse(rule_id).author_id,
                         self.attacker)
