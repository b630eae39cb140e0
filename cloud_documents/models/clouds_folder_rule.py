"""Folder rules of the kind "Documents folders".

Such a rule has the model ``documents.document``; its domain chooses Documents folders
(``type = 'folder'``, shortcuts never), and each chosen folder gets a suite folder with
the whole Documents subtree beneath it: every active Documents subfolder gets its suite
folder under its parent's. The rules engine runs it like any rule, as its author: the
chosen folders and their subfolders are those the author may read
(``_domain_terms``), so a Documents folder hidden from the author gets no folder.

Names follow the Documents folders' names (or the name expression), moves follow their
parents, archived (trashed) and deleted Documents folders get their suite folders
archived: all by the "Prepare folders" cron, like any rule folder.
"""

from collections import defaultdict

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError
from odoo.osv import expression

DOCUMENT = "documents.document"
FOLDER_TERMS = [("type", "=", "folder"), ("shortcut_document_id", "=", False)]


class CloudsFolderRule(models.Model):
    _inherit = "clouds.folder.rule"

    rule_kind = fields.Selection(
        [("records", "Records"), ("documents", "Documents folders")],
        string="Kind", default="records", required=True,
        help="Records: one folder per record of the model. Documents folders: the "
        "Documents folders chosen by the domain, each with its whole subtree.",
    )

    @api.model
    def _author_fields(self):
        return super()._author_fields() | {"rule_kind"}

    @api.model
    def _definition_fields(self):
        return super()._definition_fields() | {"rule_kind"}

    @api.onchange("rule_kind")
    def _onchange_rule_kind(self):
        if self.rule_kind == "documents":
            self.model_id = self.env["ir.model"]._get(DOCUMENT)
            self.parent_rule_id = self.parent_field_id = False
            if not self.folder_title:
                self.folder_title = _("Documents")

    @api.constrains("rule_kind", "model_id", "parent_rule_id")
    def _check_documents_kind(self):
        for rule in self:
            if rule.rule_kind == "documents" and (rule.model != DOCUMENT
                                                  or rule.parent_rule_id):
                raise ValidationError(_(
                    "Rule %(rule)s chooses Documents folders: its model is Document and it "
                    "has no parent rule (Documents subfolders come with their folder).",
                    rule=rule.name,
                ))
            if rule.parent_rule_id.rule_kind == "documents":
                raise ValidationError(_(
                    "Rule %(rule)s: a rule of Documents folders cannot be a parent rule.",
                    rule=rule.name,
                ))

    # ------------------------------------------------------------------ evaluation

    def _domain_terms(self):
        """For Documents folders: the folders the domain chooses (with the periods), as
        the author sees them, and every active subfolder below them the author may read.
        One search of the chosen folders now; the engine keeps the result for its run."""
        domain = super()._domain_terms()
        if self.rule_kind != "documents":
            return domain
        chosen = self._author_env()[DOCUMENT].search(expression.AND([FOLDER_TERMS, domain]))
        if not chosen:
            return expression.FALSE_DOMAIN
        return expression.AND([FOLDER_TERMS, [("id", "child_of", chosen.ids)]])

    def _engine_place_groups(self, records):
        """Documents folders are placed by depth, parents first, so that a subfolder finds
        its parent's suite folder in the same run."""
        if self.rule_kind != "documents":
            return super()._engine_place_groups(records)
        levels = defaultdict(list)
        for rec in records:
            levels[(rec.parent_path or "").count("/")].append(rec.id)
        return [records.browse(levels[depth]) for depth in sorted(levels)]

    def _engine_target_parents(self, engine, records):
        """A Documents folder goes into its parent's suite folder when this rule placed
        the parent, else into the rule's title folder (a chosen folder)."""
        if self.rule_kind != "documents":
            return super()._engine_target_parents(engine, records)
        author_records = records.with_env(engine._author_model(self).env)
        parent_of = {rec.id: rec.folder_id.id for rec in author_records}
        parents = engine.Folder.search([
            ("rule_id", "=", self.id), ("res_model", "=", DOCUMENT),
            ("res_id", "in", sorted({p for p in parent_of.values() if p})),
            ("folder_type", "=", "rule"),
        ])
        folder_of = {f.res_id: f.id for f in parents}
        return {rid: folder_of.get(pid) or engine._root_folder(self)
                for rid, pid in parent_of.items()}

    def _engine_dependents(self, engine, touched_ids):
        """When a Documents folder's suite folder appears or goes (moved into or out of a
        chosen tree, trashed, restored), its subfolders follow: they are re-placed."""
        if self.rule_kind != "documents" or not touched_ids:
            return super()._engine_dependents(engine, touched_ids)
        Document = engine.env[DOCUMENT].with_context(active_test=False)
        existing = Document.browse(sorted(touched_ids)).exists()  # deleted: subtree gone too
        if not existing:
            return {}
        below = Document.search([("id", "child_of", existing.ids), ("type", "=", "folder")])
        return {DOCUMENT: set(below.ids) - set(touched_ids)}
