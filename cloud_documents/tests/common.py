"""A Documents tree and a rule of Documents folders, for the bridge's tests.

Only the public schema of Odoo 18 Enterprise Documents is used (the stand-in in
``tests/odoo_addons/documents`` declares just that), so these tests run against the
stand-in and against Enterprise alike.
"""

from odoo.tests import TransactionCase

DOCUMENT = "documents.document"


class DocumentsCase(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.Document = cls.env[DOCUMENT]
        cls.Folder = cls.env["clouds.folder"]
        cls.Attachment = cls.env["ir.attachment"]
        cls.Rule = cls.env["clouds.folder.rule"]
        cls.internal = cls.make_folder("Internal")
        cls.hr = cls.make_folder("HR", cls.internal)
        cls.payroll = cls.make_folder("Payroll", cls.hr)
        cls.public = cls.make_folder("Public")
        cls.handbook = cls.make_file("handbook.txt", b"rules", cls.internal)
        cls.contract = cls.make_file("contract.txt", b"signed", cls.hr)
        cls.brochure = cls.make_file("brochure.txt", b"hello", cls.public)

    @classmethod
    def make_folder(cls, name, parent=None, **vals):
        return cls.Document.create({"name": name, "type": "folder",
                                    "folder_id": parent.id if parent else False, **vals})

    @classmethod
    def make_file(cls, name, data, folder, **vals):
        att = cls.Attachment.create({"name": name, "raw": data})
        return cls.Document.create({"name": name, "type": "binary", "folder_id": folder.id,
                                    "attachment_id": att.id, **vals})

    def make_rule(self, domain="[('name', 'ilike', 'Internal')]", **vals):
        return self.Rule.create({
            "name": "Internal documents", "rule_kind": "documents",
            "model_id": self.env["ir.model"]._get_id(DOCUMENT), "domain": domain,
            "folder_title": "Documents", **vals,
        })

    def apply(self, full=True):
        """A full apply, or the "Prepare folders" cron (incremental)."""
        if full:
            self.Rule._apply_rules(full_models={DOCUMENT})
        else:  # the cron says "another run is in progress" for any UserError: none here
            with self.assertNoLogs("odoo.addons.cloud_base.models.clouds_folder_rule", "INFO"):
                self.Rule._cron_prepare_folders()
        self.env.flush_all()
        self.env.invalidate_all()

    def suite_folder(self, document, active=True):
        return self.Folder.with_context(active_test=False).search([
            ("res_model", "=", DOCUMENT), ("res_id", "=", document.id),
            ("active", "=", active)])

    def paths(self, rule):
        """Complete names of the rule's active folders."""
        return set(self.Folder.search([("rule_id", "=", rule.id)]).mapped("complete_name"))
