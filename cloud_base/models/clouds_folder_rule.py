"""Folder rules: which records get an object folder, where, and under which name.

The apply engine lives in ``clouds_rule_engine.py``; this file holds the definitions,
their validation and the rendering of names and preview paths.

Several rules may target the same model: a record matching several rules gets the
folder of the FIRST rule by sequence (then id). Child rules (``parent_rule_id`` +
``parent_field_id``) put their object folders in a title folder under the parent
record's object folder ("Project A / Tasks / Task 1"); a record whose parent has no
folder of the parent rule goes to the rule's top-level title folder (``root_folder_id``).
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
# them marks the rule for a full re-apply.
DEFINITION_FIELDS = {
    "active", "sequence", "model_id", "domain", "period_ids", "parent_rule_id",
    "parent_field_id", "folder_title", "name_expression",
}
# Models a rule can never target: folders and attachments are what rules produce.
FORBIDDEN_MODELS = {"clouds.folder", "ir.attachment"}


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
        domain="[('transient', '=', False), ('model', 'not in', "
        "('clouds.folder', 'ir.attachment'))]",
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

    @api.constrains("model_id")
    def _check_model(self):
        for rule in self.filtered("model_id"):
            model = self.env.get(rule.model_id.model)
            if (
                rule.model_id.model in FORBIDDEN_MODELS
                or model is None
                or model._transient
                or model._abstract
                or not model._auto
            ):
                raise ValidationError(_(
                    "Rule %(rule)s: model %(model)s cannot get folders (folders and "
                    "attachments, wizards and abstract models are excluded).",
                    rule=rule.name, model=rule.model_id.model,
                ))

    @api.constrains("parent_rule_id")
    def _check_parent_cycle(self):
        if self._has_cycle():
            raise ValidationError(_(
                "Parent rules cannot form a cycle: a rule cannot be, directly or "
                "indirectly, its own parent."
            ))

    @api.constrains("parent_rule_id", "parent_field_id", "model_id")
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

    @api.constrains("domain", "model_id")
    def _check_domain(self):
        for rule in self.filtered("model_id"):
            try:
                domain = rule._domain_terms()
                with self.env.cr.savepoint():
                    self.env[rule.model].sudo().search(domain, limit=1)
            except Exception as exc:  # noqa: BLE001 - any failure is reported to the user
                raise ValidationError(_(
                    "Rule %(rule)s: invalid domain %(domain)s: %(error)s",
                    rule=rule.name, domain=rule.domain, error=exc,
                )) from exc

    @api.constrains("name_expression", "model_id")
    def _check_name_expression(self):
        """Test-render on save so a broken expression never reaches the cron."""
        for rule in self.filtered(lambda r: r.name_expression and r.model_id):
            mixin = self.env["mail.render.mixin"]
            if (
                not self.env.is_admin()
                and not self.env.user.has_group("mail.group_mail_template_editor")
                and mixin._has_unsafe_expression_template_inline_template(
                    rule.name_expression, rule.model)
            ):
                raise AccessError(_(
                    "Only members of the Mail Template Editor group or administrators "
                    "may write name expressions beyond plain field paths."
                ))
            rule._test_render_names()

    def _test_render_names(self):
        """Refuse syntax errors, and expressions that fail on every sample record (the 10
        newest): failing on some records only is record-specific and falls back to the
        display name at apply time."""
        self.ensure_one()
        for _text, expr, _default in parse_inline_template(self.name_expression):
            if expr and (error := test_python_expr(expr, mode="eval")):
                raise ValidationError(_(
                    "Rule %(rule)s: syntax error in the name expression %(expr)s: %(error)s",
                    rule=self.name, expr=expr, error=error,
                ))
        errors = []
        for record in self.env[self.model].sudo().search([], limit=10, order="id desc"):
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
        return super().create([{**vals, "needs_full_apply": True} for vals in vals_list])

    def write(self, vals):
        if DEFINITION_FIELDS & set(vals):
            vals = {**vals, "needs_full_apply": True}
        return super().write(vals)

    def unlink(self):
        """Archive (never delete) the folders a deleted rule made."""
        folders = self.with_context(active_test=False).folder_ids
        folders.with_context(clouds_rule_apply=True).filtered("active").write({"active": False})
        return super().unlink()

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

    def _domain_terms(self):
        """The rule's domain with its periods, evaluated now."""
        self.ensure_one()
        context = {
            "uid": self.env.uid,
            "user": self.env.user,
            "datetime": datetime,
            "relativedelta": relativedelta,
            "context_today": lambda: fields.Date.context_today(self),
        }
        domain = safe_eval(self.domain or "[]", context)
        if not isinstance(domain, (list, tuple)):
            raise ValueError(_("a domain must be a list of conditions"))
        domain = expression.normalize_domain(list(domain))
        return expression.AND([domain, *(p._domain_terms() for p in self.period_ids)])

    def _render_raw(self, records, strict=False):
        """Render the name expression for ``records`` in one pass (prefetched together).

        Returns ``{id: text}``; a record whose rendering fails or is empty gets its
        display name, unless ``strict`` (the save-time check) where errors propagate.
        """
        self.ensure_one()
        result = {}
        if not self.name_expression:
            return {rec.id: rec.display_name or "" for rec in records}
        instructions = parse_inline_template(self.name_expression)
        variables = self.env["mail.render.mixin"]._render_eval_context()
        failures = 0
        for rec in records:
            variables["object"] = rec
            try:
                text = render_inline_template(instructions, variables).strip()
            except Exception:
                if strict:
                    raise
                failures += 1
                text = ""
            result[rec.id] = text or rec.display_name or ""
        if failures:
            _logger.info("rule %s: name expression failed for %d record(s); display "
                         "names used", self.id, failures)
        return result

    def _render_names(self, records):
        """Sanitised folder names ``{id: name}``, rendered in one batch."""
        limit = folder_name_max_length(self.env)
        return {rid: sanitize(text or str(rid), max_length=limit)
                for rid, text in self._render_raw(records).items()}

    def _owned_records(self, records):
        """Those of ``records`` that get this rule's folder (first rule by sequence)."""
        self.ensure_one()
        Model = self.env[self.model].sudo()
        remaining = records.sudo()
        rules = (self.search([("model", "=", self.model)]) | self).sorted(
            lambda r: (r.sequence, r.id))
        for rule in rules:
            matched = Model.search(expression.AND([rule._domain_terms(),
                                                   [("id", "in", remaining.ids)]]))
            if rule == self:
                return matched
            remaining -= matched
        return Model.browse()

    def _preview_paths(self, records):
        """``{id: path}`` of the object folders ``records`` would get under this rule."""
        self.ensure_one()
        names = self._render_names(records)
        sep = " / "
        title = sanitize(self._title(), max_length=folder_name_max_length(self.env))
        if not self.parent_rule_id:
            return {rid: sep.join([title, name]) for rid, name in names.items()}
        fname = self.parent_field_id.name
        parents = records.mapped(fname)
        parent_rule = self.parent_rule_id
        parent_paths = parent_rule._preview_paths(parent_rule._owned_records(parents))
        return {
            rec.id: sep.join([parent_paths.get(rec[fname].id) or "", title, names[rec.id]])
            .lstrip(sep)
            for rec in records
        }

    def _preview(self, limit=20):
        """(paths of the first ``limit`` records the rule owns, how many it owns)."""
        self.ensure_one()
        Model = self.env[self.model].sudo()
        candidates = Model.search(self._domain_terms(), order="id")
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
        periods.rule_id.needs_full_apply = True
        return periods

    def write(self, vals):
        self.rule_id.needs_full_apply = True
        return super().write(vals)

    def unlink(self):
        self.rule_id.needs_full_apply = True
        return super().unlink()

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

    def _domain_terms(self, today=None):
        """Domain terms for the period, in the user's time zone for datetimes."""
        self.ensure_one()
        today = today or fields.Date.context_today(self)
        start, end = self._bounds(today)
        name = self.field_id.name
        if self.field_id.ttype == "datetime":
            start, end = (self._to_utc(d) for d in (start, end))
        return [(name, ">=", start), (name, "<", end)]

    def _to_utc(self, day: date) -> datetime:
        tz = pytz.timezone(self.env.context.get("tz") or self.env.user.tz or "UTC")
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
