"""Folder rules: definitions, validation, periods, name rendering and preview."""

from datetime import date, datetime, timedelta

from odoo.exceptions import ValidationError
from odoo.tests import TransactionCase, tagged


class RuleCase(TransactionCase):
    """Isolated from the demo rules (archived) with helpers to build rules."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Rule = cls.env["clouds.folder.rule"]
        cls.Folder = cls.env["clouds.folder"].with_context(active_test=False)
        demo_rules = cls.Rule.search([])
        demo_rules.write({"active": False})
        # archive the demo rules' folders now (contacts, and projects/tasks when the
        # project app is installed), so that no test counts them
        cls.Folder.search([("rule_id", "in", demo_rules.ids)]).action_archive()
        demo_rules.write({"needs_full_apply": False})
        cls.partner_model = cls.env["ir.model"]._get("res.partner")
        cls.category = cls.env["res.partner.category"].create({"name": "Rule test"})

    @classmethod
    def make_rule(cls, **vals):
        vals.setdefault("name", "Test rule")
        vals.setdefault("model_id", cls.partner_model.id)
        vals.setdefault("domain", f"[('category_id', 'in', [{cls.category.id}])]")
        return cls.Rule.create(vals)

    @classmethod
    def make_partners(cls, names, **vals):
        return cls.env["res.partner"].create([
            {"name": name, "category_id": [(4, cls.category.id)], **vals} for name in names
        ])

    def field(self, model, name):
        return self.env["ir.model.fields"]._get(model, name)


@tagged("post_install", "-at_install")
class TestRuleDefinition(RuleCase):
    def test_folder_title_defaults_to_model_name(self):
        rule = self.make_rule()
        self.assertEqual(rule.folder_title, self.partner_model.name)
        self.assertEqual(self.make_rule(folder_title="Clients").folder_title, "Clients")

    def test_invalid_domain_is_refused_with_a_clear_error(self):
        for domain in ("[('no_such_field', '=', 1)]", "[('name', '=',", "42"):
            with self.subTest(domain=domain), self.assertRaisesRegex(
                ValidationError, "invalid domain"
            ):
                self.make_rule(domain=domain)
        rule = self.make_rule()
        with self.assertRaisesRegex(ValidationError, "invalid domain"):
            rule.domain = "[('name', 'bogus_operator', 'x')]"

    def test_models_that_cannot_get_folders_are_refused(self):
        for model in ("clouds.folder", "ir.attachment", "clouds.rule.preview"):
            with self.subTest(model=model), self.assertRaisesRegex(
                ValidationError, "cannot get folders"
            ):
                self.make_rule(model_id=self.env["ir.model"]._get_id(model), domain="[]")

    def test_name_expression_syntax_error_is_shown_on_save(self):
        self.make_partners(["Sample"])
        with self.assertRaisesRegex(ValidationError, "syntax error"):
            self.make_rule(name_expression="{{ object.name + }}")
        with self.assertRaisesRegex(ValidationError, "fails on every sample record"):
            self.make_rule(name_expression="{{ object.no_such_field }}")
        rule = self.make_rule(name_expression="{{ object.name }}")
        with self.assertRaisesRegex(ValidationError, "syntax error"):
            rule.name_expression = "{{ object.name ) }}"

    def test_parent_field_must_link_to_the_parent_rule_model(self):
        parent = self.make_rule(name="Companies")
        with self.assertRaisesRegex(ValidationError, "choose the parent field"):
            self.make_rule(parent_rule_id=parent.id)
        with self.assertRaisesRegex(ValidationError, "pointing to res.partner"):
            self.make_rule(parent_rule_id=parent.id,
                           parent_field_id=self.field("res.partner", "country_id").id)
        with self.assertRaisesRegex(ValidationError, "must be a many2one of res.partner"):
            self.make_rule(parent_rule_id=parent.id,
                           parent_field_id=self.field("res.users", "partner_id").id)
        with self.assertRaisesRegex(ValidationError, "no parent rule"):
            self.make_rule(parent_field_id=self.field("res.partner", "parent_id").id)
        child = self.make_rule(parent_rule_id=parent.id,
                               parent_field_id=self.field("res.partner", "parent_id").id)
        self.assertEqual(child.parent_rule_id, parent)

    def test_cyclic_parent_rules_are_refused(self):
        parent_field = self.field("res.partner", "parent_id").id
        first = self.make_rule(name="First")
        second = self.make_rule(name="Second", parent_rule_id=first.id,
                                parent_field_id=parent_field)
        third = self.make_rule(name="Third", parent_rule_id=second.id,
                               parent_field_id=parent_field)
        with self.assertRaisesRegex(ValidationError, "cycle"):
            first.write({"parent_rule_id": third.id, "parent_field_id": parent_field})
        with self.assertRaisesRegex(ValidationError, "cycle"):
            first.write({"parent_rule_id": first.id, "parent_field_id": parent_field})

    def test_definition_changes_mark_the_rule_for_a_full_apply(self):
        rule = self.make_rule()
        self.assertTrue(rule.needs_full_apply)
        rule.write({"needs_full_apply": False, "last_apply": datetime(2026, 1, 1)})
        rule.name = "Renamed label only"
        self.assertFalse(rule.needs_full_apply, "the label does not change any folder")
        for vals in ({"domain": "[]"}, {"folder_title": "Other"}, {"sequence": 3},
                     {"name_expression": "{{ object.name }}"}, {"active": False}):
            with self.subTest(vals=vals):
                rule.needs_full_apply = False
                rule.write(vals)
                self.assertTrue(rule.needs_full_apply)
        rule.needs_full_apply = False
        period = self.env["clouds.folder.rule.period"].create({
            "rule_id": rule.id, "field_id": self.field("res.partner", "create_date").id,
        })
        self.assertTrue(rule.needs_full_apply)
        rule.needs_full_apply = False
        period.amount = 4
        self.assertTrue(rule.needs_full_apply)

    def test_default_subfolders_form_a_tree_without_cycles(self):
        rule = self.make_rule()
        other = self.make_rule(name="Other")
        Sub = self.env["clouds.folder.rule.subfolder"]
        top = Sub.create({"rule_id": rule.id, "name": "Contracts"})
        child = Sub.create({"rule_id": rule.id, "name": "Signed", "parent_id": top.id})
        self.assertEqual(top.child_ids, child)
        with self.assertRaisesRegex(ValidationError, "cycle"):
            top.parent_id = child
        with self.assertRaisesRegex(ValidationError, "another rule"):
            Sub.create({"rule_id": other.id, "name": "Stray", "parent_id": top.id})


@tagged("post_install", "-at_install")
class TestRulePeriods(RuleCase):
    RATE = "res.currency.rate"

    def period(self, field="name", model=RATE, **vals):
        """A period on a rule of ``model`` (currency rates have a Date field, ``name``)."""
        rule = self.make_rule(model_id=self.env["ir.model"]._get_id(model), domain="[]")
        return self.env["clouds.folder.rule.period"].create({
            "rule_id": rule.id, "field_id": self.field(model, field).id, **vals,
        })

    def test_bounds_for_each_direction_and_unit(self):
        today = date(2026, 11, 18)  # a Wednesday
        cases = [
            ({"direction": "last", "amount": 7, "unit": "day"},
             (date(2026, 11, 11), date(2026, 11, 19))),
            ({"direction": "last", "amount": 2, "unit": "month"},
             (date(2026, 9, 18), date(2026, 11, 19))),
            ({"direction": "next", "amount": 1, "unit": "week"},
             (date(2026, 11, 18), date(2026, 11, 26))),
            ({"direction": "next", "amount": 1, "unit": "year"},
             (date(2026, 11, 18), date(2027, 11, 19))),
            ({"direction": "this", "unit": "day"}, (date(2026, 11, 18), date(2026, 11, 19))),
            ({"direction": "this", "unit": "week"}, (date(2026, 11, 16), date(2026, 11, 23))),
            ({"direction": "this", "unit": "month"}, (date(2026, 11, 1), date(2026, 12, 1))),
            ({"direction": "this", "unit": "year"}, (date(2026, 1, 1), date(2027, 1, 1))),
        ]
        for vals, (start, end) in cases:
            with self.subTest(**vals):
                terms = self.period(**vals)._domain_terms(today=today)
                self.assertEqual(terms, [("name", ">=", start), ("name", "<", end)])

    def test_datetime_bounds_use_the_user_time_zone(self):
        period = self.period(field="create_date", model="res.partner", direction="this",
                             unit="day")
        terms = period.with_context(tz="Europe/Brussels")._domain_terms(today=date(2026, 7, 1))
        self.assertEqual(terms, [("create_date", ">=", datetime(2026, 6, 30, 22, 0)),
                                 ("create_date", "<", datetime(2026, 7, 1, 22, 0))])

    def test_period_needs_a_date_field_of_the_rule_model(self):
        with self.assertRaisesRegex(ValidationError, "date or datetime field"):
            self.period(field="rate")
        with self.assertRaisesRegex(ValidationError, "date or datetime field"):
            self.period(field="create_date", model="res.partner").field_id = self.field(
                self.RATE, "name")
        with self.assertRaisesRegex(ValidationError, "at least 1"):
            self.period(direction="last", amount=0)

    def test_several_periods_combine_with_the_domain(self):
        today = date.today()
        currency = self.env["res.currency"].create({"name": "CLD", "symbol": "c"})
        other = self.env["res.currency"].create({"name": "CLE", "symbol": "e"})
        Rate = self.env[self.RATE]
        rates = Rate.create([{"currency_id": cur.id, "name": day, "rate": 1.0}
                             for cur in (currency, other)
                             for day in (today - timedelta(days=40), today - timedelta(days=3),
                                         today, today + timedelta(days=3))])
        rule = self.make_rule(model_id=self.env["ir.model"]._get_id(self.RATE),
                              domain=f"[('currency_id', '=', {currency.id})]")
        field = self.field(self.RATE, "name").id
        self.env["clouds.folder.rule.period"].create([
            {"rule_id": rule.id, "field_id": field, "direction": "last", "amount": 1,
             "unit": "month"},
            {"rule_id": rule.id, "field_id": field, "direction": "this", "unit": "year"},
        ])
        found = Rate.search(rule._domain_terms())
        expected = rates.filtered(lambda r: r.currency_id == currency
                                  and today - timedelta(days=31) <= r.name <= today
                                  and r.name.year == today.year)
        self.assertEqual(found, expected)
        self.assertIn(today, found.mapped("name"))
        self.assertNotIn(today + timedelta(days=3), found.mapped("name"))


@tagged("post_install", "-at_install")
class TestRuleNamesAndPreview(RuleCase):
    def test_names_render_in_one_batch_with_display_name_fallback(self):
        company = self.env["res.partner"].create({"name": "Acme", "is_company": True})
        partners = self.make_partners(["Ann", "Bob"], parent_id=company.id)
        partners |= self.make_partners(["Loner"])
        rule = self.make_rule(name_expression="{{ object.parent_id.name.upper() }} - "
                                              "{{ object.name }}")
        partners.invalidate_recordset()
        names = rule._render_names(partners)
        self.assertEqual(names[partners[0].id], "ACME - Ann")
        self.assertEqual(names[partners[1].id], "ACME - Bob")
        # Fails for a record without parent: its display name, not an error.
        self.assertEqual(names[partners[2].id], "Loner")
        empty = self.make_rule(name_expression="{{ object.ref }}")
        self.assertEqual(empty._render_names(partners[2])[partners[2].id], "Loner")

    def test_bad_names_are_sanitised_and_lose_nothing_else(self):
        rule = self.make_rule()
        forbidden = "*?\"':<>/+%!@\\"
        partners = self.make_partners([
            "x" * 300, f"a{forbidden}b", "Tab\tand\nnewline", "Café 🚀 ☁️", "שלום עולם",
            "مرحبا بالعالم",
        ])
        names = rule._render_names(partners)
        self.assertEqual(names[partners[0].id], "x" * 100)
        self.assertEqual(names[partners[1].id], "a" + "-" * len(forbidden) + "b")
        self.assertEqual(names[partners[2].id], "Tab-and-newline")
        self.assertEqual(names[partners[3].id], "Café 🚀 ☁️")
        self.assertEqual(names[partners[4].id], "שלום עולם")
        self.assertEqual(names[partners[5].id], "مرحبا بالعالم")
        self.env["ir.config_parameter"].set_param("cloud_base.folder_name_max_length", "20")
        self.assertEqual(rule._render_names(partners[0])[partners[0].id], "x" * 20)

    def test_preview_shows_paths_and_creates_nothing(self):
        company = self.env["res.partner"].create({"name": "Acme", "is_company": True,
                                                  "category_id": [(4, self.category.id)]})
        people = self.make_partners(["Ann", "Bob"], parent_id=company.id)
        companies = self.make_rule(name="Companies", folder_title="Clients",
                                   domain=f"[('category_id', 'in', [{self.category.id}]),"
                                          " ('is_company', '=', True)]")
        contacts = self.make_rule(
            name="Contacts", folder_title="People", sequence=20,
            domain=f"[('category_id', 'in', [{self.category.id}]), ('is_company', '=', False)]",
            parent_rule_id=companies.id,
            parent_field_id=self.field("res.partner", "parent_id").id,
            name_expression="{{ object.name }} at {{ object.parent_id.name }}",
        )
        folders_before = self.Folder.search_count([])
        wizard = self.env["clouds.rule.preview"].create({"rule_id": contacts.id, "limit": 1})
        self.assertEqual(wizard.match_count, 2)
        self.assertEqual(wizard.paths, "Clients / Acme / People / Ann at Acme")
        wizard.limit = 20
        self.assertEqual(wizard.paths.splitlines(), [
            "Clients / Acme / People / Ann at Acme", "Clients / Acme / People / Bob at Acme",
        ])
        self.assertEqual(self.env["clouds.rule.preview"].create(
            {"rule_id": companies.id}).paths, "Clients / Acme")
        self.assertEqual(self.Folder.search_count([]), folders_before)
        action = contacts.action_preview()
        self.assertEqual((action["res_model"], action["context"]["default_rule_id"]),
                         ("clouds.rule.preview", contacts.id))
        # An earlier rule by sequence takes the records: the preview says so.
        self.make_rule(name="Everyone first", sequence=1)
        self.assertEqual(self.env["clouds.rule.preview"].create(
            {"rule_id": contacts.id}).match_count, 0)
        self.assertTrue(people)


@tagged("post_install", "-at_install")
class TestRuleDemoAndCron(TransactionCase):
    def test_cron_and_demo_rules(self):
        cron = self.env.ref("cloud_base.ir_cron_prepare_folders")
        self.assertEqual((cron.interval_number, cron.interval_type), (15, "minutes"))
        self.assertIn("_cron_prepare_folders", cron.code)
        companies = self.env.ref("cloud_base.demo_rule_companies")
        individuals = self.env.ref("cloud_base.demo_rule_individuals")
        self.assertEqual((companies.model, individuals.model), ("res.partner", "res.partner"))
        self.assertEqual(companies.subfolder_ids.mapped("name"),
                         ["Contracts", "Invoices", "Signed"])
        self.assertTrue(companies.name_expression)
        azure = self.env.ref("base.res_partner_12")  # Azure Interior, a demo company
        folder = self.env["clouds.folder"]._get_object_folder("res.partner", azure.id)
        self.assertEqual(folder.rule_id, companies)
        self.assertEqual(folder.parent_id, companies.root_folder_id)
        self.assertEqual(sorted(folder.child_ids.mapped("name")), ["Contracts", "Invoices"])
        person = self.env.ref("base.res_partner_address_15")  # Brandon Freeman
        folder = self.env["clouds.folder"]._get_object_folder("res.partner", person.id)
        self.assertEqual(folder.rule_id, individuals)
