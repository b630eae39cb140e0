"""Shares: attachments, folders and tags handed to partners and to holders of a link.

What a share exposes (its *scope*) is computed here only, in a constant number of queries
whatever the number of files, and every portal route asks these methods:

- files: the chosen attachments, every file in the shared folders' subtrees, every file
  carrying a shared tag (or one of its subtags);
- folders: the shared folders' subtrees plus the folders holding the files above;
- tags: the shared tags' subtrees plus the tags on those files.
"""

import uuid
from collections import defaultdict

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError
from odoo.osv import expression
from odoo.tools import SQL, consteq

from cloud_sync.naming import NameRules, sanitize

# Names of uploaded files and of zip entries: one path component, portable everywhere.
ENTRY_RULES = NameRules(forbidden_chars='/\\:*?"<>|', max_length=255)


def entry_name(name):
    """A safe single path component (no separator, no '..', no control character)."""
    return sanitize(name or "", ENTRY_RULES)


class CloudsShare(models.Model):
    _name = "clouds.share"
    _description = "Cloud Storage Share"
    _inherit = ["portal.mixin", "mail.thread", "mail.activity.mixin"]
    _order = "create_date desc, id desc"
    # Portal users and token holders post in the chat with read access only.
    _mail_post_access = "read"

    name = fields.Char(required=True, tracking=True)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one("res.company", default=lambda self: self.env.company)
    user_id = fields.Many2one(
        "res.users", string="Responsible", default=lambda self: self.env.user, tracking=True
    )
    attachment_ids = fields.Many2many(
        "ir.attachment", "clouds_share_ir_attachment_rel", "share_id", "attachment_id",
        string="Files", domain=[("res_field", "=", False)],
    )
    folder_ids = fields.Many2many(
        "clouds.folder", "clouds_share_clouds_folder_rel", "share_id", "folder_id",
        string="Folders", help="Shared with everything below them.",
    )
    tag_ids = fields.Many2many(
        "clouds.tag", "clouds_share_clouds_tag_rel", "share_id", "tag_id",
        string="Tags", help="Every file carrying one of these tags (or a subtag) is shared.",
    )
    partner_ids = fields.Many2many(
        "res.partner", "clouds_share_res_partner_rel", "share_id", "partner_id",
        string="Shared With",
        help="These contacts (and the contacts of these companies) see the share on their "
        "portal.",
    )
    date_expiry = fields.Date(
        string="Expires On", tracking=True,
        help="The share works until the end of this day, then every link stops working.",
    )
    allow_folders = fields.Boolean(string="Browse by Folders", default=True)
    allow_tags = fields.Boolean(string="Browse by Tags", default=True)
    allow_upload = fields.Boolean(string="Allow Upload")
    upload_folder_id = fields.Many2one(
        "clouds.folder", string="Upload Folder",
        help="Where uploads go when the visitor has not opened a folder of the share.",
    )
    allow_create = fields.Boolean(
        string="Allow Adding Folders and Tags",
        help="Portal users and link holders may add folders and tags to the share.",
    )
    chat_enabled = fields.Boolean(string="Chat", default=True)
    share_link = fields.Char(string="Public Link", compute="_compute_share_link")
    state = fields.Selection(
        [("active", "Active"), ("expired", "Expired")], compute="_compute_state"
    )

    def _compute_access_url(self):
        super()._compute_access_url()
        for share in self:
            share.access_url = f"/my/shares/{share.id}"

    @api.depends("access_token")
    def _compute_share_link(self):
        base = self.get_base_url()
        for share in self:
            share.share_link = (
                f"{base}{share.access_url}?access_token={share.access_token}"
                if share.id and share.access_token else False
            )

    @api.depends("date_expiry", "active")
    def _compute_state(self):
        for share in self:
            share.state = "active" if share._clouds_usable() else "expired"

    @api.model_create_multi
    def create(self, vals_list):
        shares = super().create(vals_list)
        for share in shares:
            share._portal_ensure_token()
        return shares

    # ---------------------------------------------------------------- access

    def _clouds_usable(self):
        """Active and not expired (the expiry day itself still works)."""
        self.ensure_one()
        return self.active and (
            not self.date_expiry or self.date_expiry >= fields.Date.context_today(self)
        )

    def _clouds_check_token(self, token):
        """True when ``token`` is this share's current token (constant-time comparison)."""
        self.ensure_one()
        return bool(token and self.access_token) and consteq(str(token), self.access_token)

    def _clouds_shared_with(self, partner):
        """True when the share is shared with ``partner`` or its company."""
        self.ensure_one()
        wanted = {partner.id, partner.commercial_partner_id.id}
        return bool(wanted & set(self.partner_ids.ids))

    @api.model
    def _clouds_portal_domain(self, partner):
        """The usable shares of a portal partner."""
        today = fields.Date.context_today(self)
        return [
            ("partner_ids", "in", [partner.id, partner.commercial_partner_id.id]),
            "|", ("date_expiry", "=", False), ("date_expiry", ">=", today),
        ]

    @api.model
    def _get_thread_with_access(self, thread_id, mode="read", **kwargs):
        """The chat refuses expired shares and shares whose chat is off, except to employees."""
        thread = super()._get_thread_with_access(thread_id, mode, **kwargs)
        if thread and not self.env.user._is_internal():
            share = thread.sudo()
            if not (share._clouds_usable() and share.chat_enabled):
                return self.browse()
        return thread

    def _mail_get_partner_fields(self, introspect_fields=False):
        """No "customer" of a share: a public link's visitor writes in the chat as the public
        user, never as one of the partners (only an invitation's signed link names them)."""
        return []

    def action_regenerate_token(self):
        """A new public link; the previous one stops working at once."""
        for share in self:
            share.sudo().write({"access_token": str(uuid.uuid4())})
            share.message_post(body=_("The public link was regenerated."))
        return True

    def action_open_portal(self):
        self.ensure_one()
        # The token link: employees see exactly what a visitor of the public link sees.
        return {"type": "ir.actions.act_url", "url": self.share_link, "target": "new"}

    def action_invite(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "cloud_share.action_clouds_share_invite"
        )
        action["context"] = {"default_share_id": self.id}
        return action

    def _clouds_invite_url(self, partner_id):
        """The link sent to one partner: the portal page for users, the token link with the
        partner's signature (so the chat knows who writes) for everyone else."""
        self.ensure_one()
        partner = self.env["res.partner"].sudo().browse(partner_id)
        base = self.get_base_url()
        if partner.user_ids:
            return f"{base}{self.access_url}"
        return base + self._get_share_url(pid=partner.id)

    # ---------------------------------------------------------------- scope

    def _clouds_file_domain(self):
        """Domain of every file of the share (to be searched with sudo)."""
        self.ensure_one()
        share = self.sudo()
        parts = []
        if share.attachment_ids:
            parts.append([("id", "in", share.attachment_ids.ids)])
        if share.folder_ids:
            parts.append([("clouds_folder_id", "child_of", share.folder_ids.ids)])
        if share.tag_ids:
            parts.append([("clouds_tag_ids", "child_of", share.tag_ids.ids)])
        if not parts:
            return expression.FALSE_DOMAIN
        return expression.AND([
            expression.OR(parts), [("res_field", "=", False), ("type", "=", "binary")]
        ])

    def _clouds_files(self, domain=None, **kwargs):
        """Files of the share matching ``domain`` (sudo records)."""
        Attachment = self.env["ir.attachment"].sudo().with_context(active_test=False)
        return Attachment.search(expression.AND([self._clouds_file_domain(), domain or []]),
                                 **kwargs)

    def _clouds_file_count(self, domain=None):
        Attachment = self.env["ir.attachment"].sudo()
        return Attachment.search_count(
            expression.AND([self._clouds_file_domain(), domain or []])
        )

    def _clouds_has_file(self, attachment_id):
        return bool(self._clouds_file_count([("id", "=", int(attachment_id))]))

    def _clouds_shared_subtree(self):
        """Ids of the shared folders and everything below them (active ones)."""
        self.ensure_one()
        folders = self.sudo().folder_ids
        if not folders:
            return set()
        return set(self.env["clouds.folder"].sudo().search([("id", "child_of", folders.ids)]).ids)

    def _clouds_folder_ids(self):
        """Ids of the folders a visitor may open: the shared subtrees and the files' folders."""
        self.ensure_one()
        ids = self._clouds_shared_subtree()
        Attachment = self.env["ir.attachment"].sudo()
        query = Attachment._search(expression.AND([
            self._clouds_file_domain(), [("clouds_folder_id", "!=", False)]
        ]))
        rows = self.env.execute_query(SQL(
            "SELECT DISTINCT f.id FROM clouds_folder f WHERE f.active AND f.id IN (%s)",
            query.subselect(SQL.identifier("ir_attachment", "clouds_folder_id")),
        ))
        return ids | {id_ for id_, in rows}

    def _clouds_tag_ids(self):
        """Ids of the tags a visitor may browse: shared subtrees and the files' tags."""
        self.ensure_one()
        ids = set()
        if self.sudo().tag_ids:
            ids = set(self.env["clouds.tag"].sudo().search(
                [("id", "child_of", self.sudo().tag_ids.ids)]).ids)
        query = self.env["ir.attachment"].sudo()._search(self._clouds_file_domain())
        rows = self.env.execute_query(SQL(
            "SELECT DISTINCT r.tag_id FROM clouds_tag_ir_attachment_rel r "
            "JOIN clouds_tag t ON t.id = r.tag_id WHERE t.active AND r.attachment_id IN (%s)",
            query.subselect(),
        ))
        return ids | {id_ for id_, in rows}

    def _clouds_top_folders(self, folder_ids):
        """The folders of ``folder_ids`` whose parent is not in it (the share's roots)."""
        folders = self.env["clouds.folder"].sudo().browse(sorted(folder_ids))
        return folders.filtered(lambda f: f.parent_id.id not in folder_ids).sorted(
            lambda f: (f.name.casefold(), f.id)
        )

    def _clouds_entry_paths(self, files, folder_ids, base=None):
        """{attachment id: zip entry path}: folder structure kept from the share's roots (or
        from ``base``, a folder), every component sanitised, clashes numbered."""
        Folder = self.env["clouds.folder"].sudo()
        rows = files.read(["name", "clouds_folder_id"], load=None) if files else []
        folder_of = {r["id"]: r["clouds_folder_id"] for r in rows}
        chain = {}
        needed = set()
        for folder in Folder.browse({f for f in folder_of.values() if f}):
            ids = [int(i) for i in folder.parent_path.split("/") if i]
            if base:
                ids = ids[ids.index(base.id) + 1:] if base.id in ids else []
            else:
                start = next((n for n, i in enumerate(ids) if i in folder_ids), len(ids))
                ids = ids[start:]
            chain[folder.id] = ids
            needed.update(ids)
        names = {f.id: entry_name(f.name) for f in Folder.browse(needed)}
        taken = defaultdict(set)
        paths = {}
        for row in rows:
            folder = row["clouds_folder_id"]
            parts = [names[i] for i in chain.get(folder, [])] if folder else []
            directory = "/".join(parts)
            name = _unique(entry_name(row["name"]), taken[directory])
            paths[row["id"]] = f"{directory}/{name}" if directory else name
        return paths

    # ---------------------------------------------------------------- content

    def _clouds_add_items(self, attachments=None, folders=None, tags=None, partners=None):
        """Extend the share (the ``Share`` actions)."""
        vals = {}
        for field, records in (("attachment_ids", attachments), ("folder_ids", folders),
                               ("tag_ids", tags), ("partner_ids", partners)):
            if records:
                vals[field] = [fields.Command.link(r.id) for r in records]
        if vals:
            self.write(vals)

    @api.constrains("allow_upload", "upload_folder_id", "folder_ids")
    def _check_upload_target(self):
        for share in self:
            if share.allow_upload and not (share.upload_folder_id or share.folder_ids):
                raise ValidationError(_(
                    "Share “%s” allows uploads: choose an upload folder or share a folder.",
                    share.name,
                ))


def _unique(name, taken):
    """``name`` or ``name (2)``… not yet in ``taken`` (case-insensitive); records it."""
    stem, dot, ext = name.rpartition(".")
    if not stem:
        stem, dot, ext = name, "", ""
    candidate, n = name, 1
    while candidate.casefold() in taken:
        n += 1
        candidate = f"{stem} ({n}){dot}{ext}"
    taken.add(candidate.casefold())
    return candidate
