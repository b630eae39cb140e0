"""The apply engine: make object folders match the folder rules.

Batch-oriented: for a batch of records of one model the number of queries does not
depend on the batch size (one search per rule for ownership, one read of the existing
folders, one ``create`` of a list, grouped writes); only renames are written one by one,
and only for folders whose name changed. Finds candidates and writes folders as
superuser with the context key ``clouds_rule_apply`` that lets it edit rule folders, but
evaluates each rule as its author: which records it owns (its domain), their parent
records and their names. A record its author may not read gets no folder of that rule
(an existing one is archived like any record leaving the rule); a rule its author may
not have any more (model, domain, parent field) leaves its model's folders alone.

Incremental: records with ``write_date`` at or after the rule's ``last_apply`` (the
transaction time of the previous run), plus records whose folder vanished (record
deleted); models of rules marked ``needs_full_apply`` are processed entirely. Children
of records whose folder appeared, disappeared or changed rule are re-placed.
Known limit: a name expression or domain reading related records (the project name in
a task's folder name) is refreshed by a full apply ("Apply now"), not by edits of the
related record.
"""

import logging
import re
from collections import Counter, defaultdict

from odoo import _
from odoo.exceptions import UserError
from odoo.osv import expression
from odoo.tools import SQL

from cloud_sync.naming import sanitize

from .clouds_folder_rule import folder_name_max_length

_logger = logging.getLogger(__name__)

BATCH_SIZE = 1000
# One run at a time (cron or "Apply now"): two runs would both create a record's folder.
RUN_LOCK = 0x636C6F7564  # "cloud"
MAX_ROUNDS = 20
_SUFFIXED = re.compile(r"(.*) \((\d+)\)")


def chunks(ids, size):
    ids = sorted(ids)
    for start in range(0, len(ids), size):
        yield ids[start:start + size]


class FolderRuleEngine:
    """One run over some models; holds the per-run caches (domains, title folders)."""

    def __init__(self, env, batch_size=BATCH_SIZE):
        context = {**env.context, "clouds_rule_apply": True, "tracking_disable": True}
        context.pop("active_test", None)
        self.env = env(su=True, context=context)
        # Computed now and kept with the environment for the whole run: rendering names
        # as a rule's author drops the cache of records, and a company looked up again
        # later would cost a query (whether it does depends on garbage collection).
        self.env.company  # noqa: B018
        self.Folder = self.env["clouds.folder"]
        self.AllFolders = self.Folder.with_context(active_test=False)
        self.batch_size = batch_size
        self.now = self.env.cr.now()
        self.max_length = folder_name_max_length(self.env)
        self.stats = Counter(created=0, updated=0, archived=0)
        rules = self.env["clouds.folder.rule"].search([], order="sequence, id")
        self.rules_by_model = defaultdict(list)
        self.child_rules = defaultdict(list)  # parent model -> child rules
        for rule in rules:
            self.rules_by_model[rule.model].append(rule)
            if rule.parent_rule_id:
                self.child_rules[rule.parent_rule_id.model].append(rule)
        self.depth = {rule.id: rule._depth() for rule in rules}
        self.domains = {}
        self.authors = {}
        self.usable = {}
        self.roots = {}

    # ------------------------------------------------------------------ run

    def run(self, full_models, since):
        """Apply to every record of ``full_models`` and to records of the models in
        ``since`` ({model: datetime}) written since then."""
        self.env.cr.execute(SQL("SELECT pg_try_advisory_xact_lock(%s)", RUN_LOCK))
        if not self.env.cr.fetchone()[0]:
            raise UserError(_("Folder rules are being applied right now (by the scheduled "
                              "action or another user); try again in a minute."))
        models = {m for m in set(full_models) | set(since) if self._usable(m)}
        pending = defaultdict(set)
        for model in models:
            pending[model] |= self._candidate_ids(model, None if model in full_models
                                                  else since[model])
        for _round in range(MAX_ROUNDS):
            if not any(pending.values()):
                break
            for model in sorted(pending, key=self._model_depth):
                if not self._usable(model):
                    pending.pop(model)
                    continue
                for batch in chunks(pending.pop(model), self.batch_size):
                    touched = self._apply_batch(model, batch)
                    if touched:
                        self._queue_children(model, touched, pending)
                    # Computed at each batch, then forgotten: the cache (and so the cost
                    # of each batch) stays the same size at the 100th batch as at the 1st.
                    self.env.invalidate_all(flush=True)
        else:
            _logger.warning("folder rules: still pending after %d rounds", MAX_ROUNDS)
        done = self.env["clouds.folder.rule"].with_context(active_test=False).search(
            [("model", "in", list(models))])
        done.write({"last_apply": self.now, "needs_full_apply": False})
        _logger.info("folder rules applied to %s: %s", sorted(models), dict(self.stats))
        return dict(self.stats)

    def _usable(self, model):
        """False (and a warning) when a rule of ``model`` cannot be evaluated any more by
        its author (its domain names a field of an uninstalled module or one the author
        may no longer read, the author lost access to the model or was deleted): that
        model's folders are then left exactly as they are instead of being archived on a
        guess (or handed to the next rule)."""
        if model in self.usable:
            return self.usable[model]
        self.usable[model] = False
        if model not in self.env:
            _logger.warning("folder rules: model %s is not installed; skipped", model)
            return False
        for rule in self.rules_by_model.get(model, []):
            try:
                if not rule._model_allowed():
                    raise UserError(_("its author may not have a rule on %s", model))
                with self.env.cr.savepoint():
                    Model = self._author_model(rule)
                    Model.search(self._domain(rule), limit=1)
                    if rule.parent_field_id:
                        Model.check_field_access_rights("read", [rule.parent_field_id.name])
            except Exception as exc:  # noqa: BLE001 - reported, the other models go on
                _logger.warning("folder rules: rule %s (%s) cannot be evaluated, its model "
                                "is skipped: %s", rule.id, rule.name, exc)
                return False
        self.usable[model] = True
        return True

    def _author_model(self, rule):
        """The rule's model as the rule's author sees it (no superuser)."""
        if rule.id not in self.authors:
            self.authors[rule.id] = rule._author_env()
        return self.authors[rule.id][rule.model]

    def _model_depth(self, model):
        return min((self.depth[r.id] for r in self.rules_by_model.get(model, [])), default=0)

    def _candidate_ids(self, model, since):
        Model = self.env[model].with_context(active_test=False)
        if since is None:
            ids = set(Model.search([]).ids)
            folders = self.AllFolders.search_fetch(
                [("res_model", "=", model), ("folder_type", "=", "rule")], ["res_id"])
            return ids | set(folders.mapped("res_id"))
        ids = set(Model.search([("write_date", ">=", since)]).ids)
        return ids | self._orphan_ids(model)

    def _orphan_ids(self, model):
        """Ids of records that are gone while their folder is still active."""
        self.Folder.flush_model(["res_model", "res_id", "active"])
        self.env.cr.execute(SQL(
            "SELECT f.res_id FROM clouds_folder f WHERE f.res_model = %s AND f.active"
            " AND f.res_id IS NOT NULL AND NOT EXISTS"
            " (SELECT 1 FROM %s t WHERE t.id = f.res_id)",
            model, SQL.identifier(self.env[model]._table),
        ))
        return {row[0] for row in self.env.cr.fetchall()}

    def _queue_children(self, model, touched, pending):
        for rule in self.child_rules.get(model, []):
            Child = self.env[rule.model].with_context(active_test=False)
            ids = Child.search([(rule.parent_field_id.name, "in", list(touched))]).ids
            pending[rule.model] |= set(ids)
        # Hook: a kind of rule whose records nest in each other (Documents folders).
        for rule in self.rules_by_model.get(model, []):
            for dep_model, ids in rule._engine_dependents(self, touched).items():
                pending[dep_model] |= set(ids)

    # ------------------------------------------------------------------ one batch

    def _domain(self, rule):
        if rule.id not in self.domains:
            self.domains[rule.id] = rule._domain_terms()
        return self.domains[rule.id]

    def _apply_batch(self, model, ids):
        """Place the folders of records ``ids``; return the ids whose folder appeared,
        disappeared or changed rule (their children must be re-placed)."""
        Model = self.env[model]
        remaining = set(Model.browse(ids).exists().ids)
        owner = {}
        # The FIRST rule by sequence that matches a record owns its folder; each rule
        # sees only the records its author may read.
        for rule in self.rules_by_model.get(model, []):
            if not remaining:
                break
            matched = self._author_model(rule).search(
                expression.AND([self._domain(rule), [("id", "in", sorted(remaining))]]))
            owner.update(dict.fromkeys(matched.ids, rule))
            remaining -= set(matched.ids)
        by_res = {}
        folders = self.AllFolders.search(
            [("res_model", "=", model), ("res_id", "in", ids), ("folder_type", "=", "rule")],
            order="id")
        for folder in folders:
            current = by_res.get(folder.res_id)
            if current is None or (folder.active and not current.active):
                by_res[folder.res_id] = folder
        touched = set()
        stale = self.Folder.browse(
            [f.id for rid, f in by_res.items() if rid not in owner and f.active])
        if stale:
            stale.write({"active": False})
            self.stats["archived"] += len(stale)
            touched.update(stale.mapped("res_id"))
        by_rule = defaultdict(list)
        for rid, rule in owner.items():
            by_rule[rule].append(rid)
        for rule in sorted(by_rule, key=lambda r: (self.depth[r.id], r.sequence, r.id)):
            # Hook: a kind of rule may place its records in several steps (parents first).
            for group in rule._engine_place_groups(Model.browse(by_rule[rule])):
                touched |= self._place(rule, group, by_res)
        return touched

    def _place(self, rule, records, by_res):
        names = rule._render_names(records)
        parents = self._target_parents(rule, records)
        creates, groups, renames, revived, touched = [], defaultdict(list), [], [], set()
        for rec in records:
            name, parent = names[rec.id], parents[rec.id]
            folder = by_res.get(rec.id)
            if not folder:
                creates.append({
                    "name": name, "parent_id": parent, "folder_type": "rule",
                    "rule_id": rule.id, "res_model": rule.model, "res_id": rec.id,
                })
                continue
            vals = {}
            if not folder.active:
                vals["active"] = True
                revived.append(folder.id)
            if folder.parent_id.id != parent:
                vals["parent_id"] = parent
            if folder.rule_id != rule:
                vals["rule_id"] = rule.id
            if "active" in vals or "rule_id" in vals:
                touched.add(rec.id)
            if vals:
                groups[tuple(sorted(vals.items()))].append(folder.id)
            if not self._same_name(folder.name, name):
                renames.append((folder, name))
        for key, folder_ids in groups.items():
            self.Folder.browse(folder_ids).write(dict(key))
        for folder, name in renames:
            folder.write({"name": name})
        self.stats["updated"] += len({f for ids in groups.values() for f in ids}
                                     | {f.id for f, _name in renames})
        new = self.Folder.create(creates) if creates else self.Folder
        self.stats["created"] += len(new)
        touched.update(new.mapped("res_id"))
        if new:
            self._create_subfolders(rule, new)
        attach = new | self.Folder.browse(revived)
        if attach:
            self.env["ir.attachment"]._clouds_attach_to_folders(attach)
        if new:
            self._copy_default_files(rule, new)
        return touched

    # ------------------------------------------------------------------ targets

    def _title_name(self, rule):
        return sanitize(rule._title(), max_length=self.max_length)

    def _same_name(self, actual, wanted):
        """True when ``actual`` is ``wanted``, maybe with the sibling suffix " (n)"."""
        if actual == wanted:
            return True
        match = _SUFFIXED.fullmatch(actual or "")
        if not match:
            return False
        stem = match.group(1)
        return stem == wanted or (len(actual) >= self.max_length and wanted.startswith(stem))

    def _root_folder(self, rule):
        """The rule's top-level title folder, created or restored on first need."""
        if rule.id in self.roots:
            return self.roots[rule.id]
        title = self._title_name(rule)
        folder = rule.root_folder_id.exists()
        if folder:
            vals = {}
            if not folder.active:
                vals["active"] = True
            if folder.parent_id:
                vals["parent_id"] = False
            if not self._same_name(folder.name, title):
                vals["name"] = title
            if vals:
                folder.write(vals)
        else:
            folder = self.Folder.create({"name": title, "folder_type": "rule", "rule_id": rule.id})
            rule.root_folder_id = folder
        self.roots[rule.id] = folder.id
        return folder.id

    def _target_parents(self, rule, records):
        """``{record id: parent folder id}`` where each record's object folder belongs."""
        custom = rule._engine_target_parents(self, records)  # hook of other kinds of rule
        if custom is not None:
            return custom
        if not rule.parent_rule_id:
            return dict.fromkeys(records.ids, self._root_folder(rule))
        fname = rule.parent_field_id.name
        parent_of = {rec.id: rec[fname].id
                     for rec in records.with_env(self._author_model(rule).env)}
        parent_folders = self.Folder.search([
            ("res_model", "=", rule.parent_rule_id.model),
            ("res_id", "in", [pid for pid in set(parent_of.values()) if pid]),
            ("rule_id", "=", rule.parent_rule_id.id),
            ("folder_type", "=", "rule"),
        ])
        folder_of = {f.res_id: f.id for f in parent_folders}
        titles = self._title_folders(rule, set(folder_of.values()))
        return {
            rid: titles[folder_of[pid]] if pid in folder_of else self._root_folder(rule)
            for rid, pid in parent_of.items()
        }

    def _title_folders(self, rule, parent_folder_ids):
        """``{parent object folder id: this rule's title folder in it}``, made as needed."""
        if not parent_folder_ids:
            return {}
        title = self._title_name(rule)
        found = {}
        existing = self.AllFolders.search([
            ("rule_id", "=", rule.id), ("res_model", "=", False),
            ("parent_id", "in", list(parent_folder_ids)),
        ], order="id")
        for folder in existing:
            current = found.get(folder.parent_id.id)
            if current is None or (folder.active and not current.active):
                found[folder.parent_id.id] = folder
        chosen = self.Folder.browse([f.id for f in found.values()])
        for todo, vals in ((chosen.filtered(lambda f: not f.active), {"active": True}),
                           (chosen.filtered(lambda f: not self._same_name(f.name, title)),
                            {"name": title})):
            if todo:
                todo.write(vals)
        missing = sorted(parent_folder_ids - set(found))
        created = self.Folder.create([
            {"name": title, "parent_id": pid, "folder_type": "rule", "rule_id": rule.id}
            for pid in missing
        ]) if missing else self.Folder
        result = {pid: f.id for pid, f in found.items()}
        result.update(zip(missing, created.ids, strict=True))
        return result

    # ------------------------------------------------------------------ new folders

    def _create_subfolders(self, rule, folders):
        """The rule's default subfolder tree in each new folder, one create per level."""
        level = [(sub, folder.id) for folder in folders
                 for sub in rule.subfolder_ids.filtered(lambda s: not s.parent_id)]
        while level:
            created = self.Folder.create([
                {"name": sub.name, "parent_id": parent_id, "folder_type": "manual"}
                for sub, parent_id in level
            ])
            pairs = zip(level, created, strict=True)
            level = [(child, folder.id) for (sub, _p), folder in pairs for child in sub.child_ids]

    def _copy_default_files(self, rule, folders):
        """Copy the rule's default files once into each new folder (one create): only
        those whose bytes the rule's author may download themself."""
        files = rule.default_file_ids.with_env(self._author_model(rule).env)._clouds_servable()
        if not files:
            return
        contents = [
            {"name": f.name, "mimetype": f.mimetype, "type": f.type,
             **({"url": f.url} if f.type == "url" else {"raw": f.raw})}
            for f in files
        ]
        self.env["ir.attachment"].create([
            {**content, "res_model": rule.model, "res_id": folder.res_id,
             "clouds_folder_id": folder.id}
            for folder in folders for content in contents
        ])
