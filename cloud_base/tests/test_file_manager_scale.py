"""The file manager on a 5,000-folder database: the panel's RPCs stay at a small, fixed
number of queries (assertQueryCount), whatever the size of the tree."""

from odoo import Command
from odoo.tests import new_test_user, tagged
from odoo.tools import SQL

from .test_folders import FolderCase

ROOTS, BRANCHES, LEAVES = 50, 9, 10  # 50 + 450 + 4,500 = 5,000 folders


@tagged("post_install", "-at_install")
class TestFileManagerScale(FolderCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env
        cls.team = env["res.groups"].create({"name": "Scale team"})
        cls.user = new_test_user(env, "scale_user", groups="cloud_base.group_clouds_user")
        # The two upper levels through the ORM; one root is the team's only.
        roots = cls.Folder.create([{"name": f"Root {r:02d}"} for r in range(ROOTS)])
        roots[-1].group_ids = cls.team
        branches = cls.Folder.create([{"name": f"Branch {r.id}-{b}", "parent_id": r.id}
                                      for r in roots for b in range(BRANCHES)])
        # The 4,500 leaves in one INSERT; parent_path and complete_name as the ORM sets them.
        cls.Folder.flush_model()
        env.cr.execute(SQL(
            """INSERT INTO clouds_folder (name, parent_id, folder_type, active, sequence,
                                          complete_name, create_uid, write_uid,
                                          create_date, write_date)
               SELECT 'Leaf ' || b.id || '-' || n, b.id, 'manual', TRUE, 10,
                      b.complete_name || ' / Leaf ' || b.id || '-' || n, %(uid)s, %(uid)s,
                      now() at time zone 'UTC', now() at time zone 'UTC'
                 FROM clouds_folder b, generate_series(1, %(n)s) n
                WHERE b.id = ANY(%(ids)s)""",
            uid=env.uid, n=LEAVES, ids=branches.ids))
        env.cr.execute(SQL(
            """UPDATE clouds_folder f SET parent_path = p.parent_path || f.id || '/'
                 FROM clouds_folder p WHERE f.parent_id = p.id AND f.parent_path IS NULL"""))
        env.invalidate_all()
        cls.roots, cls.branches = roots, branches
        cls.leaf = cls.Folder.search([("parent_id", "=", branches[0].id)], limit=1)
        # Files in 500 leaves, tagged under a parent tag; no other tag (the demo data's
        # tagged files of partners would add Odoo's access check for one more model).
        env["clouds.tag"].with_context(active_test=False).search([]).unlink()
        tag = env["clouds.tag"].create({"name": "Scale"})
        cls.subtag = env["clouds.tag"].create({"name": "Scale sub", "parent_id": tag.id})
        leaves = cls.Folder.search([("parent_id", "in", branches[:50].ids)])
        env["ir.attachment"].create([{
            "name": f"f{leaf.id}.txt", "raw": b"x", "res_model": "clouds.folder",
            "res_id": leaf.id, "clouds_folder_id": leaf.id,
            "clouds_tag_ids": [Command.link(cls.subtag.id)],
        } for leaf in leaves])
        cls.tag = tag
        # Statistics as autovacuum keeps them on a real database (the planner's estimates).
        cls.env.flush_all()
        env.cr.execute("ANALYZE clouds_folder, ir_attachment, clouds_tag_ir_attachment_rel")

    def test_tree_is_5000_folders_with_a_correct_parent_path(self):
        self.assertEqual(self.Folder.search_count([("id", "child_of", self.roots.ids)]), 5000)
        # Every parent_path is its parent's plus its own id, as the ORM keeps it.
        self.env.cr.execute(SQL(
            """SELECT count(*) FROM clouds_folder f LEFT JOIN clouds_folder p ON p.id = f.parent_id
                WHERE f.parent_path != COALESCE(p.parent_path, '') || f.id || '/'"""))
        self.assertEqual(self.env.cr.fetchone()[0], 0)
        self.assertEqual(self.leaf.complete_name,
                         f"{self.roots[0].name} / {self.branches[0].name} / {self.leaf.name}")

    def test_panel_rpcs_take_a_few_queries(self):
        Folder = self.Folder.with_user(self.user)
        Tag = self.env["clouds.tag"].with_user(self.user)

        def calls():
            return {
                "roots": lambda: Folder.clouds_fm_children(False),
                "expand root": lambda: Folder.clouds_fm_children(self.roots[0].id),
                "expand branch": lambda: Folder.clouds_fm_children(self.branches[0].id),
                "search": lambda: Folder.clouds_fm_search("Leaf"),
                "reveal": lambda: Folder.clouds_fm_reveal(self.leaf.id),
                "tags": lambda: Tag.clouds_fm_tags(),
            }

        for call in calls().values():  # warm the caches (access rights and rules)
            call()
        # Each includes reading the user, her company and groups (the cache is cleared),
        # the folder access condition, and Odoo's attachment access check per model.
        expected = {"roots": 13, "expand root": 13, "expand branch": 15, "search": 18,
                    "reveal": 19, "tags": 11}
        answers = {}
        for name, call in calls().items():
            self.env.invalidate_all()
            with self.subTest(rpc=name), self.assertQueryCount(expected[name]):
                answers[name] = call()
        roots = [n for n in answers["roots"] if n["id"] in self.roots.ids]
        self.assertEqual(len(roots), ROOTS - 1)  # the team's root is hidden from her
        self.assertEqual({n["child_count"] for n in roots}, {BRANCHES})
        self.assertEqual([n["child_count"] for n in answers["expand root"]], [LEAVES] * BRANCHES)
        self.assertEqual(sum(n["file_count"] for n in answers["expand branch"]), LEAVES)
        search = answers["search"]
        self.assertTrue(search["truncated"])
        self.assertEqual(len(search["folder_matches"]), 200)
        self.assertEqual(answers["reveal"]["path"], [self.roots[0].id, self.branches[0].id])
        tags = {n["id"]: n["file_count"] for n in answers["tags"]}
        self.assertEqual((tags[self.tag.id], tags[self.subtag.id]), (500, 500))

