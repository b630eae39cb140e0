"""Tours in Chromium: what a user does in the file manager and in a record's attachment box.
A tour that cannot run (no Chromium) fails: browser_js raises instead of skipping."""

from odoo.tests import HttpCase, tagged


@tagged("post_install", "-at_install")
class TestFileManagerTours(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env
        Folder = env["clouds.folder"]
        RuleFolder = Folder.with_context(clouds_rule_apply=True)
        cls.alpha, cls.beta = env["res.partner"].create([{"name": "Tour Alpha"},
                                                         {"name": "Tour Beta"}])
        clients = RuleFolder.create({"name": "Tour Clients", "folder_type": "rule"})
        cls.f_alpha, cls.f_beta = RuleFolder.create([{
            "name": p.name, "folder_type": "rule", "parent_id": clients.id,
            "res_model": "res.partner", "res_id": p.id,
        } for p in (cls.alpha, cls.beta)])
        cls.manual = Folder.create({"name": "Tour Manual"})
        cls.target = Folder.create({"name": "Tour Target"})
        cls.tag = env["clouds.tag"].create({"name": "TourTag"})
        cls.att = env["ir.attachment"].create({
            "name": "alpha.txt", "raw": b"alpha", "res_model": "res.partner",
            "res_id": cls.alpha.id,
        })

    def test_file_manager_tour(self):
        self.start_tour("/odoo/action-cloud_base.action_clouds_files", "cloud_base_file_manager",
                        login="admin", timeout=180)
        self.assertEqual((self.att.clouds_folder_id, self.att.res_id),
                         (self.f_beta, self.beta.id))
        self.assertEqual(self.att.clouds_tag_ids, self.tag)
        self.assertEqual(self.target.parent_id, self.manual)
        sub = self.env["clouds.folder"].search([("name", "=", "Tour Sub")])
        self.assertEqual(sub.parent_id, self.manual)
        uploaded = self.env["ir.attachment"].search([("clouds_folder_id", "=", sub.id)])
        self.assertEqual(uploaded.mapped("name"), ["upload.txt"])
        self.assertEqual(uploaded.raw, b"uploaded by the tour")

    def test_card_mass_move_tour(self):
        """Select two cards in the card view and move them with the action menu."""
        source = self.env["clouds.folder"].create({"name": "Tour Cards"})
        dest = self.env["clouds.folder"].create({"name": "Tour Dest"})
        files = self.env["ir.attachment"].create([{
            "name": name, "raw": b"card bytes!", "res_model": "clouds.folder",
            "res_id": source.id, "clouds_folder_id": source.id,
        } for name in ("card1.txt", "card2.txt", "card3.txt")])
        self.start_tour("/odoo/action-cloud_base.action_clouds_files",
                        "cloud_base_file_manager_cards", login="admin", timeout=180)
        self.assertEqual(files.mapped("clouds_folder_id"), source | dest)
        self.assertEqual(files.filtered(lambda f: f.clouds_folder_id == dest).mapped("name"),
                         ["card1.txt", "card2.txt"])

    def test_attachment_box_tour(self):
        """In a task's form (project is installed with the suite's tests)."""
        env = self.env
        project = env["project.project"].create({"name": "Tour Project"})
        task = env["project.task"].create({"name": "Tour Task", "project_id": project.id})
        f_task = env["clouds.folder"].with_context(clouds_rule_apply=True).create({
            "name": "Tour Task", "folder_type": "rule", "res_model": "project.task",
            "res_id": task.id,
        })
        att = env["ir.attachment"].create({
            "name": "alpha.txt", "raw": b"spec", "res_model": "project.task", "res_id": task.id,
        })
        self.assertEqual(att.clouds_folder_id, f_task)
        self.start_tour(f"/odoo/project.task/{task.id}", "cloud_base_attachment_box",
                        login="admin", timeout=180)
        sub = env["clouds.folder"].search([("name", "=", "Box Sub")])
        self.assertEqual(sub.parent_id, f_task)
        files = env["ir.attachment"].search([("clouds_folder_id", "=", sub.id)])
        self.assertEqual(sorted(files.mapped("name")), ["alpha.txt", "box.txt"])
        # A subfolder of the task's folder keeps its files on the task.
        self.assertEqual({(f.res_model, f.res_id) for f in files}, {("project.task", task.id)})
        # A record without a folder keeps Odoo's standard box.
        self.assertFalse(env["clouds.folder"].clouds_fm_record_root("project.project",
                                                                   project.id))

    def test_attachment_box_first_upload_tour(self):
        """On a task with no file: the first upload keeps the box open and shows the
        file (it used to close the box without a word); deleting asks first."""
        env = self.env
        project = env["project.project"].create({"name": "Tour Empty Project"})
        task = env["project.task"].create({"name": "Empty Task", "project_id": project.id})
        folder = env["clouds.folder"].with_context(clouds_rule_apply=True).create({
            "name": "Empty Task", "folder_type": "rule", "res_model": "project.task",
            "res_id": task.id,
        })
        self.assertFalse(env["ir.attachment"].search([("res_model", "=", "project.task"),
                                                      ("res_id", "=", task.id)]))
        self.start_tour(f"/odoo/project.task/{task.id}", "cloud_base_attachment_box_first_upload",
                        login="admin", timeout=180)
        files = env["ir.attachment"].search([("res_model", "=", "project.task"),
                                             ("res_id", "=", task.id)])
        self.assertEqual(files.mapped("name"), ["first.txt"], "kept: the deletion was cancelled")
        self.assertEqual((files.clouds_folder_id, files.raw),
                         (folder, b"the first file of the task"))
