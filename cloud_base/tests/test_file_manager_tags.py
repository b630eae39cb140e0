"""Tag tree counts: a parent tag counts the files of its subtags, once each, exactly the
files the file manager lists when filtering by that tag; one grouped query for all tags."""

from odoo import Command
from odoo.tests import tagged

from .test_access import AccessSetup
from .test_folders import FolderCase


@tagged("post_install", "-at_install")
class TestTagCounts(FolderCase, AccessSetup):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_access()
        Tag = cls.env["clouds.tag"]
        # only this test's tags: the demo data's tagged files would add their own counts
        Tag.with_context(active_test=False).search([]).unlink()
        cls.finance = Tag.create({"name": "Finance"})
        cls.invoices, cls.contracts, cls.old = Tag.create([
            {"name": n, "parent_id": cls.finance.id} for n in ("Invoices", "Contracts", "Old")])
        cls.y2024 = Tag.create({"name": "2024", "parent_id": cls.invoices.id})
        cls.legal = Tag.create({"name": "Legal"})
        cls.old.active = False
        no_folder = cls.env["res.partner"].create({"name": "No folder"})

        def file(name, tags, partner=cls.p_ok):
            return cls.env["ir.attachment"].create({
                "name": name, "raw": b"x", "res_model": "res.partner", "res_id": partner.id,
                "clouds_tag_ids": [Command.set(tags.ids)],
            })
        file("a.pdf", cls.invoices)
        file("b.pdf", cls.y2024 | cls.invoices)  # twice below Finance: counted once
        file("c.pdf", cls.finance | cls.contracts | cls.legal)
        file("secret.pdf", cls.y2024, partner=cls.p_secret)  # not readable by her
        file("loose.pdf", cls.finance, partner=no_folder)  # in no folder: not listed
        file("old.pdf", cls.old)  # archived subtag: the filter ignores it too
        cls.Tag = Tag.with_user(cls.restricted)
        cls.Att = cls.env["ir.attachment"].with_user(cls.restricted)

    def listed(self, tag):
        """What the file manager lists for a tag: its action's domain and the panel's."""
        return self.Att.search([("clouds_folder_id", "!=", False),
                                ("clouds_tag_ids", "child_of", tag.id)])

    def test_parent_counts_subtag_files_once_and_agrees_with_the_filter(self):
        nodes = {n["id"]: n["file_count"] for n in self.Tag.clouds_fm_tags()}
        expected = {self.finance: 3, self.invoices: 2, self.y2024: 1, self.contracts: 1,
                    self.legal: 1}
        self.assertEqual({t.id: n for t, n in expected.items()}, nodes)
        for tag, count in expected.items():
            self.assertEqual(len(self.listed(tag)), count, tag.name)
        # Another user sees the secret file: every count follows what she may read.
        team = {n["id"]: n["file_count"] for n in self.env["clouds.tag"]
                .with_user(self.teammate).clouds_fm_tags()}
        self.assertEqual(team[self.finance.id], 4)
        self.assertEqual(team[self.y2024.id], 2)

    def test_search_answer_uses_the_same_counts(self):
        result = self.env["clouds.folder"].with_user(self.restricted).clouds_fm_search("2024")
        counts = {n["id"]: n["file_count"] for n in result["tags"]}
        self.assertEqual(counts, {self.finance.id: 3, self.invoices.id: 2, self.y2024.id: 1})

    def test_counts_in_constant_queries(self):
        """Counting 5 or 60 tags (in a deep chain, with files) costs the same queries."""
        self.Tag.clouds_fm_tags()  # warm the caches (access rules)
        self.env.invalidate_all()
        with self.assertQueryCount(10):
            self.Tag.clouds_fm_tags()
        parent = self.legal
        for i in range(55):
            parent = self.env["clouds.tag"].create({"name": f"Deep {i}", "parent_id": parent.id})
            self.env["ir.attachment"].create({
                "name": f"deep{i}.txt", "raw": b"x", "res_model": "res.partner",
                "res_id": self.p_ok.id, "clouds_tag_ids": [Command.link(parent.id)],
            })
        self.env.flush_all()
        self.env.invalidate_all()
        with self.assertQueryCount(10):
            nodes = {n["id"]: n["file_count"] for n in self.Tag.clouds_fm_tags()}
        self.assertEqual(nodes[self.legal.id], 56)
        self.assertEqual(nodes[parent.id], 1)
