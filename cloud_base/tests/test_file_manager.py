"""File manager RPC: tree loading, search, moves and tags; constant query counts; access."""

from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged

from .test_access import AccessSetup
from .test_folders import FolderCase

KANBAN_SPEC = {
    "name": {}, "mimetype": {}, "file_size": {}, "type": {}, "url": {},
    "res_model": {}, "res_id": {}, "create_date": {}, "checksum": {},
    "clouds_folder_id": {"fields": {"display_name": {}}},
    "clouds_tag_ids": {"fields": {"display_name": {}, "color": {}}},
}


@tagged("post_install", "-at_install")
class TestFileManagerTree(FolderCase, AccessSetup):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_access()
        cls.tag_parent = cls.env["clouds.tag"].create({"name": "Finance"})
        cls.tag = cls.env["clouds.tag"].create({"name": "Invoices", "parent_id": cls.tag_parent.id})

    def grow(self, parent, n, files_each=1):
        """``n`` subfolders of ``parent``, each with a subfolder and files."""
        subs = self.Folder.create([{"name": f"Sub {parent.id} {i}", "parent_id": parent.id}
                                   for i in range(n)])
        self.Folder.create([{"name": "inner", "parent_id": s.id} for s in subs])
        self.env["ir.attachment"].create([{
            "name": f"f{i}.txt", "raw": b"x", "res_model": "clouds.folder", "res_id": s.id,
            "clouds_folder_id": s.id, "clouds_tag_ids": [Command.link(self.tag.id)],
        } for s in subs for i in range(files_each)])
        return subs

    def test_children_nodes_and_counts(self):
        root = self.Folder.create({"name": "Root"})
        subs = self.grow(root, 3, files_each=2)
        nodes = self.Folder.with_user(self.restricted).clouds_fm_children(root.id)
        self.assertEqual([n["id"] for n in nodes], subs.ids)
        self.assertEqual({(n["child_count"], n["file_count"]) for n in nodes}, {(1, 2)})
        self.assertEqual(nodes[0]["folder_type"], "manual")
        self.assertFalse(nodes[0]["cloud_url"])

    def test_children_only_readable(self):
        Folder = self.Folder.with_user(self.restricted)
        roots = {n["id"] for n in Folder.clouds_fm_children(False)}
        self.assertIn(self.title.id, roots)
        self.assertIn(self.f_user.id, roots)
        self.assertNotIn(self.f_team.id, roots)
        under_title = {n["id"] for n in Folder.clouds_fm_children(self.title.id)}
        self.assertEqual(under_title, {self.f_ok.id})
        # The title's count shows only the readable child.
        title = next(n for n in Folder.clouds_fm_children(False) if n["id"] == self.title.id)
        self.assertEqual(title["child_count"], 1)
        self.assertFalse(Folder.clouds_fm_children(self.f_team.id))

    def test_tree_and_listing_query_count_constant(self):
        """Loading children and listing a folder cost the same at 5 and 60 folders."""
        def measure(n):
            root = self.Folder.create({"name": f"Size {n}"})
            self.grow(root, n, files_each=3)
            Folder = self.Folder.with_user(self.restricted)
            Att = self.env["ir.attachment"].with_user(self.restricted)
            self.env.invalidate_all()
            tree = self.count_queries(lambda: Folder.clouds_fm_children(root.id))
            self.env.invalidate_all()
            listing = self.count_queries(lambda: Att.web_search_read(
                [("clouds_folder_id", "child_of", root.id)], KANBAN_SPEC, limit=500))
            self.env.invalidate_all()
            search = self.count_queries(lambda: Folder.clouds_fm_search(f"Sub {root.id}"))
            return tree, listing, search
        measure(2)  # warm the caches (access rules, models with folders)
        small, large = measure(5), measure(60)
        self.assertEqual(small, large)

    def test_search_returns_matches_and_ancestors(self):
        root = self.Folder.create({"name": "Archive"})
        mid = self.Folder.create({"name": "2024", "parent_id": root.id})
        leaf = self.Folder.create({"name": "Needle report", "parent_id": mid.id})
        result = self.Folder.with_user(self.restricted).clouds_fm_search("needle")
        self.assertEqual(result["folder_matches"], [leaf.id])
        self.assertEqual({n["id"] for n in result["folders"]}, {root.id, mid.id, leaf.id})
        result = self.Folder.clouds_fm_search("invoic")
        self.assertEqual(result["tag_matches"], [self.tag.id])
        self.assertEqual({n["id"] for n in result["tags"]}, {self.tag.id, self.tag_parent.id})
        # Within a subtree only (the attachment box): ancestors above the root are left out.
        result = self.Folder.clouds_fm_search("needle", root_id=mid.id)
        self.assertEqual({n["id"] for n in result["folders"]}, {mid.id, leaf.id})
        with self.assertRaises(UserError):
            self.Folder.clouds_fm_search("  ")

    def test_search_hides_unreadable(self):
        result = self.Folder.with_user(self.restricted).clouds_fm_search("Secret")
        self.assertFalse(result["folder_matches"])
        result = self.Folder.with_user(self.restricted).clouds_fm_search("Open inside")
        self.assertFalse(result["folders"])

    def test_move_folder(self):
        a = self.Folder.create({"name": "A"})
        b = self.Folder.create({"name": "B", "parent_id": a.id})
        c = self.Folder.create({"name": "C"})
        a.with_user(self.restricted).clouds_fm_move(c.id)
        self.assertEqual(a.parent_id, c)
        with self.assertRaisesMsg(UserError, "into itself or its subfolders"):
            c.clouds_fm_move(b.id)
        with self.assertRaisesMsg(UserError, "made by a folder rule"):
            self.f_ok.clouds_fm_move(c.id)
        with self.assertRaises(AccessError):
            a.with_user(self.restricted).clouds_fm_move(self.f_team.id)
        b.clouds_fm_move(False)
        self.assertFalse(b.parent_id)

    def test_reveal_opens_the_path(self):
        leaf = self.Folder.create({"name": "Leaf", "parent_id": self.f_ok.id})
        result = self.Folder.with_user(self.restricted).clouds_fm_reveal(leaf.id)
        self.assertEqual(result["path"], [self.title.id, self.f_ok.id])
        ids = {n["id"] for n in result["nodes"]}
        self.assertTrue({self.title.id, self.f_ok.id, leaf.id, self.f_public.id} <= ids)
        self.assertNotIn(self.f_secret.id, ids)
        self.assertFalse(self.Folder.with_user(self.restricted).clouds_fm_reveal(
            self.f_secret_sub.id))

    def test_record_root(self):
        node = self.Folder.clouds_fm_record_root("res.partner", self.p_ok.id)
        self.assertEqual(node["id"], self.f_ok.id)
        self.assertFalse(self.Folder.with_user(self.restricted).clouds_fm_record_root(
            "res.partner", self.p_secret.id))
        other = self.env["res.partner"].create({"name": "No folder"})
        self.assertFalse(self.Folder.clouds_fm_record_root("res.partner", other.id))

    def test_attachments_move_reattach_and_tag(self):
        att = self.env["ir.attachment"].create({
            "name": "loose.txt", "raw": b"x", "res_model": "res.partner",
            "res_id": self.p_secret.id,
        })
        self.assertEqual(att.clouds_folder_id, self.f_secret)
        att.clouds_fm_move(self.f_ok.id)
        self.assertEqual((att.clouds_folder_id, att.res_id), (self.f_ok, self.p_ok.id))
        att.clouds_fm_move(self.f_public.id)
        self.assertEqual(att.clouds_folder_id, self.f_public)
        # a rule's container folder (not a record's folder) is refused, nothing moves
        with self.assertRaisesMsg(UserError, "holds the folders of a folder rule"):
            att.clouds_fm_move(self.title.id)
        self.assertEqual(att.clouds_folder_id, self.f_public)
        # the view says why a rule's folder looks empty (instead of "No data to display")
        self.assertIn("Include subfolders", self.env.ref("cloud_base.action_clouds_files").help)
        att.clouds_fm_tag([self.tag.id])
        self.assertEqual(att.clouds_tag_ids, self.tag)
        att.clouds_fm_tag([self.tag.id], remove=True)
        self.assertFalse(att.clouds_tag_ids)
        with self.assertRaises(AccessError):
            self.a_team.with_user(self.restricted).clouds_fm_move(self.f_public.id)
        with self.assertRaises(AccessError):
            att.with_user(self.restricted).clouds_fm_move(self.f_team.id)

    def test_tags_tree_counts_and_nesting(self):
        att = self.env["ir.attachment"].create({
            "name": "t.txt", "raw": b"x", "res_model": "res.partner", "res_id": self.p_ok.id,
            "clouds_tag_ids": [Command.link(self.tag.id)],
        })
        self.a_team.clouds_tag_ids = [Command.link(self.tag.id)]
        nodes = {n["id"]: n for n in self.env["clouds.tag"].with_user(self.restricted)
                 .clouds_fm_tags()}
        self.assertEqual(nodes[self.tag.id]["parent_id"], self.tag_parent.id)
        # The team's file is not readable by her: not counted.
        self.assertEqual(nodes[self.tag.id]["file_count"], 1)
        self.assertTrue(att)
        with self.assertRaisesMsg(UserError, "under itself"):
            self.tag_parent.clouds_fm_move(self.tag.id)
        self.tag.clouds_fm_move(False)
        self.assertFalse(self.tag.parent_id)

    def test_employee_without_file_manager_sees_no_menu(self):
        files = self.env.ref("cloud_base.menu_clouds_files").id
        menus = self.env["ir.ui.menu"].with_user(self.employee).load_menus(False)
        self.assertNotIn(files, menus)
        self.assertNotIn(self.env.ref("cloud_base.menu_clouds_root").id, menus)
        menus = self.env["ir.ui.menu"].with_user(self.restricted).load_menus(False)
        self.assertIn(files, menus)

    def test_upload_into_manual_folder_is_readable_by_folder_readers(self):
        class Upload:
            filename, mimetype = "note.txt", "text/plain"

            def read(self):
                return b"hello"
        alice = new_test_user(self.env, "alice_fm", groups="cloud_base.group_clouds_user")
        att = self.env["ir.attachment"].with_user(alice)._clouds_upload(
            self.f_public, [Upload()])
        self.assertEqual((att.res_model, att.res_id), ("clouds.folder", self.f_public.id))
        self.assertEqual(att.with_user(self.restricted).raw, b"hello")
        with self.assertRaises(AccessError):
            self.env["ir.attachment"].with_user(self.restricted)._clouds_upload(
                self.f_team, [Upload()])
