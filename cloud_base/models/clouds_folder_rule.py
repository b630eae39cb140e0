"""Folder rules: which records get an object folder, where, and under which name.

The apply engine lives in ``clouds_rule_engine.py``; this file holds the definitions,
their validation and the rendering of names and preview paths.

Several rules may target the same model: a record matching several rules gets the
folder of the FIRST rule by sequence (then id). Child rules (``parent_rule_id`` +
``parent_field_id``) put their object folders in a title folder under the parent
record's object folder ("Project A / Tasks / Task 1"); a record whose parent has no
folder of the parent rule goes to the rule's top-level title folder (``root_folder_id``).

A rule is evaluated with the rights of its author (``author_id``, whoever last wrote
its definition), never as superuser: its model, domain, periods and parent field are
checked on save as the author, the engine searches the records a rule owns as the
author, and names are rendered like Odoo's mail templates on records browsed as the
author. A Cloud Storage administrator cannot learn through a rule anything Odoo would
not show them (``rule_model_allowed``, ``_author_env``).
"""

import logging
from datetime import date, datetime, time

import pytz
from dateutil.relativedelta import relativedelta
from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.osv import expression
from odoo.tools.rendering_tools import parse_inline_template, render_inline_template
from odoo.tools.safe_eval import safe_eval, test_python_expr

from cloud_sync.naming import DEFAULT_MAX_LENGTH, sanitize

_logger = logging.getLogger(__name__)

MAX_LENGTH_PARAM = "cloud_base.folder_name_max_length"
# Fields whose change alters which folders exist or how they are named: writing any of
# them marks the rule for a full re-apply (its author's rights decide what it sees).
DEFINITION_FIELDS = {
    "active", "sequence", "model_id", "domain", "period_ids", "parent_rule_id",
    "parent_field_id", "folder_title", "name_expression", "author_id",
}
# Fields a rule is evaluated from: writing one makes the writer the rule's author.
AUTHOR_FIELDS = {
    "model_id", "domain", "period_ids", "parent_rule_id", "parent_field_id",
    "name_expression",
}
# Models a rule can never target: folders and attachments are what rules produce.
FORBIDDEN_MODELS = {"clouds.folder", "ir.attachment"}
# Nor, whoever the author, technical models: ir.* (system parameters, server actions,
# crons...), the suite's own (connections hold credentials) and the technical
# companions of users (API keys, logs, settings).
FORBIDDEN_PREFIXES = ("ir.", "clouds.", "res.users.")
TEMPLATE_EDITOR_GROUP = "mail.group_mail_template_editor"


def rule_model_allowed(env, model_name):
    """Whether a rule evaluated in ``env`` (its author's) may target ``model_name``.

    The one decision, used by the rule's constraint, the choice of models in the form
    (``ir.model.clouds_rule_allowed``) and the engine: a stored business model, not a
    technical one, whose records the author may read (access rights).
    """
    model = env.registry.get(model_name) if model_name else None
    if (
        model is None
        or model_name in FORBIDDEN_MODELS
        or model_name.startswith(FORBIDDEN_PREFIXES)
        or model._transient
        or model._abstract
        or not model._auto
    ):
        return False
    return env["ir.model.access"].check(model_name, "read", raise_exception=False)


def drop_records_cache(env):
    """Flush, then forget every cached value of the records of stored models.

    Odoo's cache is shared by every user of a transaction and served without access
    checks: a value read as superuser earlier would be rendered for an author who may
    not read it. Wizards (transient models) keep theirs: during an onchange their values
    live only in the cache.
    """
    env.flush_all()
    env.cache.invalidate([
        (field, None)
        for model in env.registry.values() if not (model._transient or model._abstract)
        for field in model._fields.values()
    ])


def folder_name_max_length(env):
    """The folder name length cap from the settings (default 100)."""
    value = env["ir.config_parameter"].sudo().get_param(MAX_LENGTH_PARAM)
    try:
        return max(1, int(value)) if value else DEFAULT_MAX_LENGTH
    except ValueError:
        return DEFAULT_MAX_LENGTH


class CloudsFolderRule(models.Model):
    _name = "clouds.folder.rule"
    _description = "Cloud Storage Folder Rule"
    _order = "sequence, id"
    _parent_name = "parent_rule_id"

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(
        default=10,
        help="A record matching several rules of the same model gets the folder of the "
        "first rule by sequence.",
    )
    active = fields.Boolean(default=True)
    model_id = fields.Many2one(
        "ir.model", string="Model", required=True, ondelete="cascade", index=True,
        domain="[('clouds_rule_allowed', '=', True)]",
        help="Business models whose records you may read; technical models (ir.*, "
        "connections, API keys...), wizards and abstract models cannot get folders.",
    )
    model = fields.Char(related="model_id.model", store=True, index=True, string="Model Name")
    domain = fields.Char(
        default="[]",
        help="Records of the model that get a folder. Leave empty for all records.",
    )
    period_ids = fields.One2many(
        "clouds.folder.rule.period", "rule_id", string="Periods", copy=True,
        help="Relative periods on date fields, all combined with the domain (AND).",
    )
    parent_rule_id = fields.Many2one(
        "clouds.folder.rule", string="Parent Rule", ondelete="restrict", index=True,
        help="Object folders of this rule are placed under the folder of the parent "
        "record (found through the parent field), in a title folder.",
    )
    parent_field_id = fields.Many2one(
        "ir.model.fields", string="Parent Field", ondelete="cascade",
        domain="[('model_id', '=', model_id), ('ttype', '=', 'many2one')]",
        help="The many2one from this rule's model to the parent rule's model "
        "(e.g. project_id on tasks).",
    )
    child_rule_ids = fields.One2many("clouds.folder.rule", "parent_rule_id", string="Child Rules")
    folder_title = fields.Char(
        compute="_compute_folder_title", store=True, readonly=False, translate=False,
        help="Name of the folder holding this rule's object folders; defaults to the "
        "model's name.",
    )
    name_expression = fields.Char(
        help="Inline template rendered for each record, e.g. "
        "{{ object.project_id.name }} - {{ object.name }}. Empty result or error: the "
        "record's display name is used.",
    )
    subfolder_ids = fields.One2many(
        "clouds.folder.rule.subfolder", "rule_id", string="Default Subfolders", copy=True,
    )
    default_file_ids = fields.Many2many(
        "ir.attachment", "clouds_folder_rule_default_file_rel", "rule_id", "attachment_id",
        string="Default Files",
        help="Copied once into each new object folder (and attached to its record).",
    )
    root_folder_id = fields.Many2one(
        "clouds.folder", string="Title Folder", ondelete="set null", readonly=True, copy=False,
    )
    folder_ids = fields.One2many("clouds.folder", "rule_id", string="Folders")
    folder_count = fields.Integer(compute="_compute_folder_count")
    last_apply = fields.Datetime(readonly=True, copy=False)
    needs_full_apply = fields.Boolean(default=True, readonly=True, copy=False)
    author_id = fields.Many2one(
        "res.users", string="Author", readonly=True, copy=False, ondelete="set null",
        help="Whoever last changed what the rule evaluates (model, domain, periods, name "
        "expression, parent): the rule sees records and fields with this user's rights.",
    )

    @api.depends("model_id")
    def _compute_folder_title(self):
        for rule in self:
            if not rule.folder_title and rule.model_id:
                rule.folder_title = rule.model_id.name

    def _compute_folder_count(self):
        counts = dict(self.env["clouds.folder"].with_context(active_test=False)._read_group(
            [("rule_id", "in", self.ids), ("res_id", "!=", False)], ["rule_id"], ["__count"],
        ))
        for rule in self:
            rule.folder_count = counts.get(rule, 0)

    # ------------------------------------------------------------------ validation

    @api.constrains("model_id", "author_id")
    def _check_model(self):
        for rule in self.filtered("model_id"):
            model = rule.model
            # As superuser, only the kind of model counts (access rights always pass).
            if not rule_model_allowed(self.env(su=True), model):
                raise ValidationError(_(
                    "Rule %(rule)s: model %(model)s cannot get folders (technical models "
                    "such as ir.*, connections and API keys, folders and attachments, "
                    "wizards and abstract models are excluded).",
                    rule=rule.name, model=model,
                ))
            env = rule._author_env()
            if not rule_model_allowed(env, model):
                raise ValidationError(_(
                    "Rule %(rule)s: %(user)s may not read %(model)s records, so a rule of "
                    "theirs cannot give them folders.",
                    rule=rule.name, user=env.user.name, model=model,
                ))

    @api.constrains("parent_rule_id")
    def _check_parent_cycle(self):
        if self._has_cycle():
            raise ValidationError(_(
                "Parent rules cannot form a cycle: a rule cannot be, directly or "
                "indirectly, its own parent."
            ))

    @api.constrains("parent_rule_id", "parent_field_id", "model_id", "author_id")
    def _check_parent_field(self):
        for rule in self:
            field = rule.parent_field_id
            if not rule.parent_rule_id:
                if field:
                    raise ValidationError(_(
                        "Rule %(rule)s has a parent field but no parent rule.", rule=rule.name,
                    ))
                continue
            if not field:
                raise ValidationError(_(
                    "Rule %(rule)s has a parent rule: choose the parent field, the many2one "
                    "from %(model)s to %(parent)s.",
                    rule=rule.name, model=rule.model, parent=rule.parent_rule_id.model,
                ))
            if (
                field.model_id != rule.model_id
                or field.ttype != "many2one"
                or field.relation != rule.parent_rule_id.model
            ):
                # no f-string inside _(): Odoo's term extractor (babel on Python 3.11)
                # evaluates it and gives up on the rest of the file
                field_path = f"{field.model}.{field.name}"
                raise ValidationError(_(
                    "Rule %(rule)s: the parent field must be a many2one of %(model)s "
                    "pointing to %(parent)s (the parent rule's model); %(field)s is not.",
                    rule=rule.name, model=rule.model, parent=rule.parent_rule_id.model,
                    field=field_path,
                ))
            if not field.store:
                raise ValidationError(_(
                    "Rule %(rule)s: the parent field %(field)s must be stored.",
                    rule=rule.name, field=field.name,
                ))
            if rule._model_allowed():
                rule._check_author_reads(lambda model, f=field: model.check_field_access_rights(
                    "read", [f.name]), _("the parent field"))

    @api.constrains("domain", "model_id", "period_ids", "author_id")
    def _check_domain(self):
        """Run the domain (with its periods) as the author: Odoo refuses, in a search of
        theirs, any field they may not read, and the rule is refused with it."""
        for rule in self.filtered("model_id"):
            if not rule._model_allowed():
                continue  # _check_model says why
            try:
                domain = rule._domain_terms()
            except Exception as exc:  # noqa: BLE001 - any failure is reported to the user
                raise ValidationError(_(
                    "Rule %(rule)s: invalid domain %(domain)s: %(error)s",
                    rule=rule.name, domain=rule.domain, error=exc,
                )) from exc
            rule._check_author_reads(lambda model, d=domain: model.search(d, limit=1),
                                     _("the domain"))

    def _check_author_reads(self, probe, what):
        """Run ``probe(model as the author)`` in a savepoint; an access error becomes a
        clear refusal of the rule, any other error an invalid domain."""
        self.ensure_one()
        env = self._author_env()
        try:
            with self.env.cr.savepoint():
                probe(env[self.model])
        except AccessError as exc:
            raise AccessError(_(
                "Rule %(rule)s: %(what)s uses fields or records that %(user)s may not "
                "read, and a rule sees only what its author may read.\n%(error)s",
                rule=self.name, what=what, user=env.user.name, error=exc,
            )) from exc
        except Exception as exc:  # noqa: BLE001 - any failure is reported to the user
            raise ValidationError(_(
                "Rule %(rule)s: invalid domain %(domain)s: %(error)s",
                rule=self.name, domain=self.domain, error=exc,
            )) from exc

    @api.constrains("default_file_ids")
    def _check_default_files(self):
        """Default files are copied into every new folder: only files the writer may
        download themself (the engine copies only what the author may, too)."""
        if not self.env.su:
            self.default_file_ids._clouds_check_servable()

    @api.constrains("name_expression", "model_id", "author_id")
    def _check_name_expression(self):
        """Test-render on save so a broken expression never reaches the cron; only authors
        Odoo lets write such mail templates may go beyond plain field paths."""
        for rule in self.filtered(lambda r: r.name_expression and r.model_id):
            if not rule._model_allowed():
                continue  # _check_model says why
            if not rule._expression_allowed():
                raise AccessError(_(
                    "Rule %(rule)s: only administrators and members of the %(group)s group "
                    "may write name expressions beyond plain field paths, as for mail "
                    "templates (see 'Restrict Template Rendering' in the settings).",
                    rule=rule.name, group=self.env.ref(TEMPLATE_EDITOR_GROUP).sudo().name,
                ))
            rule._test_render_names()

    def _test_render_names(self):
        """Refuse syntax errors, and expressions that fail on every sample record (the 10
        newest the author may read): failing on some records only is record-specific and
        falls back to the display name at apply time."""
        self.ensure_one()
        for _text, expr, _default in parse_inline_template(self.name_expression):
            if expr and (error := test_python_expr(expr, mode="eval")):
                raise ValidationError(_(
                    "Rule %(rule)s: syntax error in the name expression %(expr)s: %(error)s",
                    rule=self.name, expr=expr, error=error,
                ))
        errors = []
        for record in self._author_model().search([], limit=10, order="id desc"):
            try:
                self._render_raw(record, strict=True)
                return
            except Exception as exc:  # noqa: BLE001 - reported to the user below
                errors.append(exc)
        if errors:
            raise ValidationError(_(
                "Rule %(rule)s: the name expression %(expr)s fails on every sample record: "
                "%(error)s",
                rule=self.name, expr=self.name_expression, error=errors[0],
            ))

    # ------------------------------------------------------------------ CRUD

    @api.model_create_multi
    def create(self, vals_list):
        if any("author_id" in vals for vals in vals_list):
            self._check_author_write()
        return super().create([
            {"author_id": self.env.uid, **vals, "needs_full_apply": True}
            for vals in vals_list
        ])

    def write(self, vals):
        if "author_id" in vals:
            self._check_author_write()
        elif self._author_fields() & set(vals):
            vals = {**vals, "author_id": self.env.uid}
        if self._definition_fields() & set(vals):
            vals = {**vals, "needs_full_apply": True}
        return super().write(vals)

    def _check_author_write(self):
        """A rule sees records with its author's rights: choosing another author than
        oneself would borrow that user's rights, so only Settings administrators may."""
        if not self.env.is_system():
            raise AccessError(_(
                "Only Settings administrators may choose the author of a folder rule; it "
                "is whoever last changed what the rule evaluates."
            ))

    def _definition_changed(self):
        """A period was added, changed or removed: the writer becomes the author (and the
        domain is checked again with their rights)."""
        if self:
            self.sudo().write({"needs_full_apply": True, "author_id": self.env.uid})

    def unlink(self):
        """Archive (never delete) the folders a deleted rule made."""
        folders = self.with_context(active_test=False).folder_ids
        folders.with_context(clouds_rule_apply=True).filtered("active").write({"active": False})
        return super().unlink()

    # ------------------------------------------------------------------ hooks
    # Other kinds of rule (cloud_documents' "Documents folders") extend these; the
    # defaults are the behaviour of record rules.

    @api.model
    def _author_fields(self):
        """Fields the rule is evaluated from: writing one makes the writer its author."""
        return AUTHOR_FIELDS

    @api.model
    def _definition_fields(self):
        """Fields whose change calls for a full re-apply of the rule."""
        return DEFINITION_FIELDS

    def _engine_place_groups(self, records):
        """The engine places ``records`` (owned by this rule) group after group, in this
        order; record rules place them all at once."""
        return [records]

    def _engine_target_parents(self, engine, records):
        """``{record id: parent folder id}`` for a kind of rule that places its folders
        itself, or None for the parent rule / title folder placement."""
        return None

    def _engine_dependents(self, engine, touched_ids):
        """``{model: ids}`` to re-place after the folders of ``touched_ids`` (records of
        this rule's model) appeared, disappeared or changed rule; child rules are queued
        by the engine itself."""
        return {}

    # ------------------------------------------------------------------ helpers

    def _title(self):
        self.ensure_one()
        return self.folder_title or self.model_id.name or self.model

    def _depth(self):
        self.ensure_one()
        depth, rule = 0, self.parent_rule_id
        while rule:
            depth, rule = depth + 1, rule.parent_rule_id
        return depth

    def _author_env(self):
        """The environment the rule is evaluated in: its author's rights and companies,
        never superuser unless the superuser made it (data files, installation)."""
        self.ensure_one()
        author = self.sudo().author_id
        if not author:
            raise UserError(_(
                "Rule %(rule)s has no author any more (the user was deleted); save its "
                "definition again to make it yours.", rule=self.name,
            ))
        context = dict(self.env.context)
        for key in ("allowed_company_ids", "active_test"):
            context.pop(key, None)
        return self.env(user=author.id, su=False, context=context)

    def _author_model(self):
        """The rule's model, as its author sees it."""
        self.ensure_one()
        return self._author_env()[self.model]

    def _model_allowed(self):
        """Whether the rule's author may (still) have a rule on its model."""
        self.ensure_one()
        return rule_model_allowed(self._author_env(), self.model)

    def _expression_allowed(self, env=None):
        """Odoo's rule for inline templates, applied to the author: beyond the plain field
        paths mail templates allow everyone, only administrators and template editors
        (restricted template rendering takes everyone else out of that group)."""
        self.ensure_one()
        env = env or self._author_env()
        return (
            not self.name_expression
            or env.is_admin()
            or env.user.has_group(TEMPLATE_EDITOR_GROUP)
            or not env["mail.render.mixin"]._has_unsafe_expression_template_inline_template(
                self.name_expression, self.model)
        )

    def _domain_terms(self):
        """The rule's domain with its periods, evaluated now for the author (``uid``, today
        and the time zone are the author's). The domain is given no record: from any
        record, ``sudo()`` would reach everything."""
        self.ensure_one()
        env = self._author_env()
        today = fields.Date.context_today(self.with_env(env))
        context = {
            "uid": env.uid,
            "datetime": datetime,
            "relativedelta": relativedelta,
            "context_today": lambda: today,
        }
        domain = safe_eval(self.domain or "[]", context)
        if not isinstance(domain, (list, tuple)):
            raise ValueError(_("a domain must be a list of conditions"))
        domain = expression.normalize_domain(list(domain))
        tz = env.context.get("tz") or env.user.tz
        return expression.AND([domain, *(p._domain_terms(today=today, tz=tz)
                                         for p in self.period_ids)])

    def _render_raw(self, records, strict=False):
        """Render the name expression for ``records`` in one pass (prefetched together),
        as Odoo renders a mail template: in its sandbox, with the author's evaluation
        context, on the records browsed as the author. A path the author may not read
        fails for that record.

        Returns ``{id: text}``; a record whose rendering fails or is empty gets its
        display name, unless ``strict`` (the save-time check) where errors propagate.
        """
        self.ensure_one()
        env = self._author_env()
        expression_allowed = self._expression_allowed(env)
        name_expression = self.name_expression
        records = records.with_env(env)
        if not env.su:
            drop_records_cache(env)
        if not name_expression:
            return self._display_names(records)
        if not expression_allowed:
            _logger.warning("rule %s: its author may no longer use its name expression "
                            "(restricted template rendering); display names used", self.id)
            return self._display_names(records)
        instructions = parse_inline_template(name_expression)
        variables = env["mail.render.mixin"]._render_eval_context()
        result = {}
        for rec in records:
            variables["object"] = rec
            try:
                result[rec.id] = render_inline_template(instructions, variables).strip()
            except Exception:
                if strict:
                    raise
                result[rec.id] = ""
        if fallback := [rid for rid, text in result.items() if not text]:
            result.update(self._display_names(records.browse(fallback)))
            _logger.info("rule %s: name expression empty or failed for %d record(s); "
                         "display names used", self.id, len(fallback))
        return result

    @api.model
    def _display_names(self, records):
        """``{id: display name}`` as Odoo shows it to the records' user ('' if refused)."""
        names = {}
        for rec in records:
            try:
                names[rec.id] = rec.display_name or ""
            except AccessError:
                names[rec.id] = ""
        return names

    def _render_names(self, records):
        """Sanitised folder names ``{id: name}``, rendered in one batch."""
        limit = folder_name_max_length(self.env)
        return {rid: sanitize(text or str(rid), max_length=limit)
                for rid, text in self._render_raw(records).items()}

    def _owned_records(self, records):
        """Those of ``records`` that get this rule's folder (first rule by sequence), as
        the author sees them; each earlier rule matches with its own author's rights."""
        self.ensure_one()
        remaining = set(records.ids)
        rules = (self.search([("model", "=", self.model)]) | self).sorted(
            lambda r: (r.sequence, r.id))
        for rule in rules:
            matched = rule._author_model().search(
                expression.AND([rule._domain_terms(), [("id", "in", sorted(remaining))]]))
            if rule == self:
                return matched
            remaining -= set(matched.ids)
        return self._author_model().browse()

    def _preview_paths(self, records):
        """``{id: path}`` of the object folders ``records`` would get under this rule."""
        self.ensure_one()
        records = records.with_env(self._author_env())
        names = self._render_names(records)
        sep = " / "
        title = sanitize(self._title(), max_length=folder_name_max_length(self.env))
        if not self.parent_rule_id:
            return {rid: sep.join([title, name]) for rid, name in names.items()}
        fname = self.parent_field_id.name
        parent_of = {rec.id: rec[fname].id for rec in records}
        parent_rule = self.parent_rule_id
        parents = parent_rule._author_model().browse(sorted(set(parent_of.values()) - {False}))
        parent_paths = parent_rule._preview_paths(parent_rule._owned_records(parents))
        return {
            rid: sep.join([parent_paths.get(parent_of[rid]) or "", title, names[rid]])
            .lstrip(sep)
            for rid in records.ids
        }

    def _preview(self, limit=20):
        """(paths of the first ``limit`` records the rule owns, how many it owns), as the
        engine would make them: with the author's rights."""
        self.ensure_one()
        if not self._model_allowed():
            raise UserError(_(
                "Rule %(rule)s: its author may not have a rule on %(model)s; save the "
                "rule again with a model you may read.", rule=self.name, model=self.model,
            ))
        candidates = self._author_model().search(self._domain_terms(), order="id")
        owned = self._owned_records(candidates)
        return list(self._preview_paths(owned[:limit]).values()), len(owned)

    # ------------------------------------------------------------------ actions

    def action_apply(self):
        """Apply now: a full re-apply of these rules' models (and their child rules)."""
        self.check_access("write")
        rules = self.with_context(active_test=False).search([("id", "child_of", self.ids)])
        stats = self.env["clouds.folder.rule"]._apply_rules(full_models=rules._models())
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "title": _("Folders prepared"),
                "message": _(
                    "%(created)s created, %(updated)s updated, %(archived)s archived.",
                    **stats,
                ),
                "next": {"type": "ir.actions.act_window_close"},
            },
        }

    def action_preview(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": _("Preview of %s", self.name),
            "res_model": "clouds.rule.preview",
            "view_mode": "form",
            "target": "new",
            "context": {"default_rule_id": self.id},
        }

    def action_open_folders(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": _("Folders of %s", self.name),
            "res_model": "clouds.folder",
            "view_mode": "list,form",
            "domain": [("rule_id", "=", self.id)],
            "context": {"active_test": False},
        }

    @api.model
    def _cron_prepare_folders(self):
        """Incremental run: records changed since the last run; rules changed since
        (``needs_full_apply``) or with relative periods (time moves records in and out)
        get a full run of their model."""
        rules = self.with_context(active_test=False).search(
            ["|", ("active", "=", True), ("needs_full_apply", "=", True)])
        full = rules.filtered(
            lambda r: r.needs_full_apply or not r.last_apply or r.period_ids)._models()
        since = {}
        for rule in rules.filtered("active"):
            if rule.model not in full:
                since[rule.model] = min(since.get(rule.model, rule.last_apply), rule.last_apply)
        try:
            return self._apply_rules(full_models=full, since=since)
        except UserError:
            _logger.info("folder rules: another run is in progress; this one is skipped")
            return {"created": 0, "updated": 0, "archived": 0}

    def _models(self):
        """The rules' models, plus the models their folders are on (a rule whose model
        changed still has folders on the old one: they must be archived)."""
        folder_models = self.env["clouds.folder"].with_context(active_test=False)._read_group(
            [("rule_id", "in", self.ids), ("res_model", "!=", False)], ["res_model"])
        return set(self.mapped("model")) | {model for model, in folder_models}

    @api.model
    def _apply_rules(self, full_models=(), since=None):
        from .clouds_rule_engine import FolderRuleEngine

        return FolderRuleEngine(self.env).run(set(full_models), dict(since or {}))

    @api.model
    def _create_demo_project_rules(self):
        """Demo: projects with their tasks beneath, only when ``project`` is installed
        (cloud_base does not depend on it)."""
        if "project.task" not in self.env or self.search([("model", "=", "project.project")]):
            return
        IrModel = self.env["ir.model"]
        projects = self.create({
            "name": "Projects",
            "sequence": 30,
            "model_id": IrModel._get_id("project.project"),
            "subfolder_ids": [(0, 0, {"name": "Specifications"}), (0, 0, {"name": "Reports"})],
        })
        self.create({
            "name": "Tasks",
            "sequence": 40,
            "model_id": IrModel._get_id("project.task"),
            "parent_rule_id": projects.id,
            "parent_field_id": self.env["ir.model.fields"]._get("project.task", "project_id").id,
            "name_expression": "{{ object.name }}",
        })


class CloudsFolderRulePeriod(models.Model):
    _name = "clouds.folder.rule.period"
    _description = "Cloud Storage Folder Rule Period"

    rule_id = fields.Many2one(
        "clouds.folder.rule", required=True, ondelete="cascade", index=True)
    model_id = fields.Many2one(related="rule_id.model_id")
    field_id = fields.Many2one(
        "ir.model.fields", string="Date Field", required=True, ondelete="cascade",
        domain="[('model_id', '=', model_id), ('ttype', 'in', ('date', 'datetime')), "
        "('store', '=', True)]",
    )
    direction = fields.Selection(
        [("last", "Last"), ("this", "This"), ("next", "Next")],
        required=True, default="last",
    )
    amount = fields.Integer(default=1, help="Number of units (ignored for 'This').")
    unit = fields.Selection(
        [("day", "Days"), ("week", "Weeks"), ("month", "Months"), ("year", "Years")],
        required=True, default="month",
    )

    @api.constrains("field_id", "rule_id", "amount", "direction")
    def _check_period(self):
        for period in self:
            field = period.field_id
            if field.model_id != period.rule_id.model_id or field.ttype not in ("date",
                                                                                "datetime"):
                raise ValidationError(_(
                    "Period on %(field)s: choose a date or datetime field of %(model)s.",
                    field=field.name, model=period.rule_id.model,
                ))
            if period.direction != "this" and period.amount < 1:
                raise ValidationError(_("A period needs a number of units of at least 1."))

    @api.model_create_multi
    def create(self, vals_list):
        periods = super().create(vals_list)
        periods.rule_id._definition_changed()
        return periods

    def write(self, vals):
        rules = self.rule_id
        result = super().write(vals)
        (rules | self.rule_id)._definition_changed()
        return result

    def unlink(self):
        rules = self.rule_id
        result = super().unlink()
        rules.exists()._definition_changed()
        return result

    def _bounds(self, today):
        """[start, end) as dates for the period around ``today``."""
        self.ensure_one()
        step = relativedelta(**{f"{self.unit}s": self.amount or 1})
        if self.direction == "last":
            return today - step, today + relativedelta(days=1)
        if self.direction == "next":
            return today, today + step + relativedelta(days=1)
        start = {
            "day": today,
            "week": today - relativedelta(days=today.weekday()),
            "month": today.replace(day=1),
            "year": today.replace(month=1, day=1),
        }[self.unit]
        return start, start + relativedelta(**{f"{self.unit}s": 1})

    def _domain_terms(self, today=None, tz=None):
        """Domain terms for the period, in the time zone ``tz`` (the user's by default)
        for datetimes."""
        self.ensure_one()
        today = today or fields.Date.context_today(self)
        start, end = self._bounds(today)
        name = self.field_id.name
        if self.field_id.ttype == "datetime":
            start, end = (self._to_utc(d, tz) for d in (start, end))
        return [(name, ">=", start), (name, "<", end)]

    def _to_utc(self, day: date, tz=None) -> datetime:
        tz = pytz.timezone(tz or self.env.context.get("tz") or self.env.user.tz or "UTC")
        local = tz.localize(datetime.combine(day, time.min))
        return local.astimezone(pytz.UTC).replace(tzinfo=None)


class CloudsFolderRuleSubfolder(models.Model):
    _name = "clouds.folder.rule.subfolder"
    _description = "Cloud Storage Folder Rule Default Subfolder"
    _order = "sequence, id"

    rule_id = fields.Many2one(
        "clouds.folder.rule", required=True, ondelete="cascade", index=True)
    name = fields.Char(required=True)
    sequence = fields.Integer(default=10)
    parent_id = fields.Many2one(
        "clouds.folder.rule.subfolder", string="Parent Subfolder", ondelete="cascade",
        domain="[('rule_id', '=', rule_id)]",
    )
    child_ids = fields.One2many("clouds.folder.rule.subfolder", "parent_id")

    @api.constrains("parent_id", "rule_id")
    def _check_parent(self):
        if self._has_cycle():
            raise ValidationError(_("Default subfolders cannot form a cycle."))
        for sub in self:
            if sub.parent_id and sub.parent_id.rule_id != sub.rule_id:
                raise ValidationError(_(
                    "Default subfolder %(name)s: its parent belongs to another rule.",
                    name=sub.name,
                ))
