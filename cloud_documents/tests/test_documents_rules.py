"""Rules of Documents folders: folders from a domain with their subtrees, followed by the
prepare cron; files placed; shortcuts and the trash left out; both ways inside Odoo;
access."""

from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from .common import DOCUMENT, DocumentsCase


@tagged("post_install", "-at_install")
class TestDocumentsRules(DocumentsCase):
    def test_domain_chooses_folders_with_their_subtree(self):
        rule = self.make_rule()
        self.apply()
        self.assertEqual(self.paths(rule), {
            "Documents", "Documents / Internal", "Documents / Internal / HR",
            "Documents / Internal / HR / Payroll",
        })
        self.assertFalse(self.suite_folder(self.public))
        folder = self.suite_folder(self.hr)
        self.assertEqual((folder.folder_type, folder.rule_id), ("rule", rule))
        # files of the chosen tree land in their folder's suite folder, others nowhere
        self.assertEqual(self.handbook.attachment_id.clouds_folder_id,
                         self.suite_folder(self.internal))
        self.assertEqual(self.contract.attachment_id.clouds_folder_id, folder)
        self.assertFalse(self.brochure.attachment_id.clouds_folder_id)
        # a file's record stays its document, not the Documents folder
        self.assertEqual((self.contract.attachment_id.res_model,
                          self.contract.attachment_id.res_id), (DOCUMENT, self.contract.id))
        # a file added later in Documents lands at once
        memo = self.make_file("memo.txt", b"memo", self.payroll)
        self.assertEqual(memo.attachment_id.clouds_folder_id, self.suite_folder(self.payroll))
        # a folder chosen inside a chosen tree stays in it (not a second copy)
        rule.domain = "['|', ('name', 'ilike', 'Internal'), ('name', '=', 'HR')]"
        self.apply()
        self.assertEqual(len(self.suite_folder(self.hr)), 1)
        self.assertEqual(self.suite_folder(self.hr).parent_id, self.suite_folder(self.internal))

    def test_shortcuts_and_trash_are_not_synced(self):
        rule = self.make_rule()
        # a shortcut to another folder, inside the chosen tree, gets no folder (no second
        # copy of its target's tree); a file shortcut has no file of its own
        self.make_folder("Public (shortcut)", self.hr, shortcut_document_id=self.public.id)
        self.Document.create({"name": "brochure shortcut", "type": "binary",
                              "folder_id": self.hr.id,
                              "shortcut_document_id": self.brochure.id})
        trashed = self.make_file("old.txt", b"old", self.hr)
        trashed.action_archive()
        self.apply()
        self.assertEqual(self.paths(rule), {
            "Documents", "Documents / Internal", "Documents / Internal / HR",
            "Documents / Internal / HR / Payroll",
        })
        hr = self.suite_folder(self.hr)
        self.assertEqual(hr.attachment_ids.mapped("name"), ["contract.txt"])
        self.assertFalse(self.brochure.attachment_id.clouds_folder_id)
        self.assertFalse(trashed.attachment_id.clouds_folder_id)
        # trashing a file takes it out, restoring it brings it back
        self.contract.action_archive()
        self.assertFalse(self.contract.attachment_id.clouds_folder_id)
        self.contract.action_unarchive()
        self.assertEqual(self.contract.attachment_id.clouds_folder_id, hr)

    def test_renames_moves_archiving_and_deletion_followed_by_the_cron(self):
        rule = self.make_rule()
        self.apply(full=False)
        hr, payroll = self.suite_folder(self.hr), self.suite_folder(self.payroll)
        self.hr.name = "People"
        self.payroll.folder_id = self.internal
        self.apply(full=False)
        self.assertEqual(self.paths(rule), {
            "Documents", "Documents / Internal", "Documents / Internal / People",
            "Documents / Internal / Payroll",
        })
        self.assertEqual(self.suite_folder(self.hr), hr, "renamed, not replaced")
        self.assertEqual(self.suite_folder(self.payroll), payroll, "moved, not replaced")
        # moved out of the chosen tree: its suite folder and its subtree's are archived
        self.payroll.folder_id = self.hr
        self.hr.folder_id = self.public
        self.apply(full=False)
        self.assertEqual(self.paths(rule), {"Documents", "Documents / Internal"})
        self.assertEqual(self.suite_folder(self.payroll, active=False), payroll)
        # ... and restored when it comes back, with its subtree
        self.hr.folder_id = self.internal
        self.apply(full=False)
        self.assertEqual(self.suite_folder(self.payroll), payroll)
        self.assertEqual(self.paths(rule), {
            "Documents", "Documents / Internal", "Documents / Internal / People",
            "Documents / Internal / People / Payroll",
        })
        # trashed (archived) and deleted Documents folders: suite folders archived
        self.payroll.action_archive()
        self.apply(full=False)
        self.assertFalse(self.suite_folder(self.payroll))
        self.hr.unlink()
        self.apply(full=False)
        self.assertFalse(hr.active)
        self.assertEqual(self.paths(rule), {"Documents", "Documents / Internal"})
        # a renamed chosen folder that no longer matches the domain leaves
        self.internal.name = "Archive 2020"
        self.apply(full=False)
        self.assertEqual(self.paths(rule), {"Documents"})

    def test_folders_and_files_made_in_the_suite_become_documents(self):
        self.make_rule()
        self.apply()
        hr = self.suite_folder(self.hr)
        # a subfolder made in the suite (file manager, backward sync) is a Documents folder
        made = self.Folder.create({"name": "Reviews", "parent_id": hr.id})
        documents_folder = self.Document.search([("name", "=", "Reviews")])
        self.assertEqual((documents_folder.type, documents_folder.folder_id),
                         ("folder", self.hr))
        self.assertEqual((made.res_model, made.res_id, made.folder_type),
                         (DOCUMENT, documents_folder.id, "rule"))
        self.apply()
        self.assertEqual(self.suite_folder(documents_folder), made, "kept by the rule")
        # a file made in a suite folder is a document of its Documents folder
        att = self.Attachment.create({"name": "review.txt", "raw": b"good",
                                      "clouds_folder_id": made.id})
        document = self.Document.search([("attachment_id", "=", att.id)])
        self.assertEqual((document.type, document.folder_id, document.name),
                         ("binary", documents_folder, "review.txt"))
        self.assertEqual((att.res_model, att.res_id, att.clouds_folder_id),
                         (DOCUMENT, document.id, made))
        # moving the file in the suite moves its document; out of the tree, out of it
        att.clouds_folder_id = self.suite_folder(self.internal)
        self.assertEqual(document.folder_id, self.internal)
        manual = self.Folder.create({"name": "Elsewhere"})
        att.clouds_folder_id = manual
        self.assertFalse(document.folder_id)
        self.assertEqual(att.clouds_folder_id, manual)
        # a document moved in Documents moves its file
        self.contract.folder_id = self.payroll
        self.assertEqual(self.contract.attachment_id.clouds_folder_id,
                         self.suite_folder(self.payroll))

    def test_access_follows_documents(self):
        """A suite folder of a Documents folder is visible to whoever may read that
        Documents folder; a file to whoever may read its document (``_clouds_servable``);
        the rule sees only what its author may read."""
        self.payroll.write({"access_internal": "none", "owner_id": self.env.ref(
            "base.user_admin").id})
        self.contract.write({"access_internal": "none", "owner_id": self.env.ref(
            "base.user_admin").id})
        self.make_rule()
        self.apply()
        user = new_test_user(self.env, "doc_reader",
                             groups="base.group_user,cloud_base.group_clouds_user")
        Folder = self.Folder.with_user(user)
        visible = Folder.search([("res_model", "=", DOCUMENT)])
        self.assertIn(self.suite_folder(self.hr), visible)
        self.assertNotIn(self.suite_folder(self.payroll), visible)
        atts = (self.handbook | self.contract).attachment_id
        self.assertEqual(atts.with_user(user)._clouds_servable(),
                         self.handbook.attachment_id)
        with self.assertRaises(AccessError):
            self.contract.attachment_id.with_user(user)._clouds_check_servable()
        # a rule authored by that user: Payroll, hidden from them, gets no folder
        self.Rule.search([("rule_kind", "=", "documents")]).unlink()
        theirs = self.make_rule(name="Theirs", folder_title="Their documents")
        theirs.sudo().author_id = user
        self.apply()
        self.assertEqual(self.paths(theirs), {
            "Their documents", "Their documents / Internal",
            "Their documents / Internal / HR",
        })

    def test_queries_do_not_grow_with_the_folders(self):
        """A full apply of a Documents rule costs the same number of queries for 5 or 40
        subfolders (per level of depth, not per folder)."""
        def measure(count):
            top = self.make_folder(f"Alpha {count}")
            for i in range(count):
                sub = self.make_folder(f"Team {i}", top)
                self.make_file(f"notes {i}.txt", b"n", sub)
            rule = self.make_rule(domain=f"[('id', '=', {top.id})]",
                                  name=f"Rule {count}", folder_title=f"Docs {count}")
            self.env.flush_all()
            self.env.invalidate_all()
            self.env.user.company_id  # noqa: B018 - the cron's user is loaded already
            before = self.env.cr.sql_log_count
            self.Rule._apply_rules(full_models={DOCUMENT})
            self.env.flush_all()
            spent = self.env.cr.sql_log_count - before
            self.assertEqual(len(self.paths(rule)), count + 2)
            rule.unlink()  # its folders archived: the next run has nothing of it to do
            return spent

        self.make_rule()
        self.apply()  # the other rule's folders exist already: both runs see them alike
        small, large = measure(5), measure(40)
        self.assertEqual(small, large, f"queries: {small} for 5 folders, {large} for 40")

    def test_file_manager_user_adds_files_and_folders(self):
        """With their own rights: a File Manager user's upload and new folder become a
        document and a Documents folder they own; a folder they cannot see refuses."""
        self.payroll.write({"access_internal": "none",
                            "owner_id": self.env.ref("base.user_admin").id})
        self.make_rule()
        self.apply()
        user = new_test_user(self.env, "doc_writer",
                             groups="base.group_user,cloud_base.group_clouds_user")
        hr = self.suite_folder(self.hr)
        att = self.Attachment.with_user(user).create(
            {"name": "mine.txt", "raw": b"mine", "clouds_folder_id": hr.id})
        document = self.Document.search([("attachment_id", "=", att.id)])
        self.assertEqual((document.folder_id, document.owner_id), (self.hr, user))
        folder = self.Folder.with_user(user).create({"name": "Mine", "parent_id": hr.id})
        made = self.Document.browse(folder.sudo().res_id)
        self.assertEqual((made.type, made.folder_id, made.owner_id), ("folder", self.hr, user))
        with self.assertRaises(AccessError):
            self.Attachment.with_user(user).create({
                "name": "sneaky.txt", "raw": b"x",
                "clouds_folder_id": self.suite_folder(self.payroll).id})
