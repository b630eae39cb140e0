"""Shares: attachments, folders and tags handed to partners and to holders of a link.

What a share exposes (its *scope*) is computed here only, in a constant number of queries
whatever the number of files, and every portal route asks these methods. It is decided
with the rights of the share's owner at the time of the request, never as superuser, and
archived folders and tags (and everything below them) are never exposed:

- files: those the owner may download (``ir.attachment._clouds_servable``) among the
  chosen attachments, the files in the shared folders' subtrees and the files carrying a
  shared tag (or one of its subtags);
- folders: the shared folders' subtrees (those the owner can see) plus the folders
  holding the files above;
- tags: the shared tags' subtrees plus the tags on those files.

Who may read and change a share (its owner, its editors, Cloud Storage administrators)
is said by record rules; what may be put in it, by ``_clouds_check_items``.
"""

import uuid

from odoo import _, api, fields, models
from odoo.addons.cloud_base.models.tree import archived_branches, live_subtree
from odoo.addons.cloud_base.zip_archive import ZipLayout, portable
from odoo.exceptions import AccessError, ValidationError
from odoo.osv import expression
from odoo.tools import SQL, consteq

# Fields that decide what a share exposes: checked whenever they are written.
ITEM_FIELDS = ("attachment_ids", "folder_ids", "tag_ids", "upload_folder_id", "user_id")


def entry_name(name):
    """A safe, portable single path component (no separator, no '..')."""
    return portable(name)


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
        "res.users", string="Owner", default=lambda self: self.env.user, required=True,
        ondelete="restrict", tracking=True,
        help="The share exposes what its owner may read, at the time of each visit.",
    )
    editor_ids = fields.Many2many(
        "res.users", "clouds_share_editor_rel", "share_id", "user_id", string="Editors",
        domain=[("share", "=", False)],
        help="Users who may see and change this share besides its owner.",
    )
    # Only those who may read the share itself see its link (portal users never do).
    access_token = fields.Char(groups="cloud_base.group_clouds_user")
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
    share_link = fields.Char(string="Public Link", compute="_compute_share_link",
                             groups="cloud_base.group_clouds_user")
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
        shares._clouds_check_items({})
        for share in shares:
            share._portal_ensure_token()
        return shares

    def write(self, vals):
        if not ITEM_FIELDS & vals.keys():
            return super().write(vals)
        before = {share.id: share._clouds_items() for share in self.sudo()}
        result = super().write(vals)
        self._clouds_check_items(before)
        return result

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

    def _clouds_items(self):
        """{field: ids} of what the share holds now (see ``ITEM_FIELDS``)."""
        self.ensure_one()
        share = self.sudo()
        return {field: set(share[field].ids) for field in ITEM_FIELDS}

    def _clouds_check_items(self, before):
        """Refuse putting in a share what its author may not read (files they may not
        download, folders or tags they cannot see, an upload folder they cannot see), and
        handing a share to another owner without being a Cloud Storage administrator.

        Only what was added is checked (``before``: {share id: _clouds_items()} before
        the change), so an editor may still remove items they cannot read. Portal routes
        add items in sudo after their own checks; an owner's rights are checked again at
        every visit.
        """
        if self.env.su:
            return
        admin = self.env["clouds.folder"]._clouds_unrestricted()
        added = {field: set() for field in ITEM_FIELDS}
        for share in self:
            now, old = share._clouds_items(), before.get(share.id, {})
            for field in ITEM_FIELDS:
                added[field] |= now[field] - old.get(field, set())
        if added["user_id"] - {self.env.uid} and not admin:
            raise AccessError(_("Only Cloud Storage administrators may give a share to "
                                "another owner."))
        Attachment = self.env["ir.attachment"]
        files = Attachment.browse(added["attachment_ids"])
        if files._clouds_servable() != files.sudo().exists():
            raise AccessError(_("You can only share files you may download yourself."))
        Folder = self.env["clouds.folder"]
        folders = added["folder_ids"] | added["upload_folder_id"]
        if folders - Folder.browse(folders)._clouds_readable_ids():
            raise AccessError(_("You can only share folders you can see yourself."))
        tags = self.env["clouds.tag"].browse(added["tag_ids"])
        tags.check_access("read")

    def _clouds_owner_env(self):
        """The environment whose rights decide what the share exposes: its owner's (in all
        of the owner's companies), at the time of the request."""
        self.ensure_one()
        context = {k: v for k, v in self.env.context.items() if k != "allowed_company_ids"}
        return self.env(user=self.sudo().user_id.id, su=False, context=context)

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

    def _clouds_shared_subtree(self):
        """Ids of the shared folders and everything below them that the owner can see,
        active and under no archived folder."""
        self.ensure_one()
        folders = self.sudo().folder_ids.with_env(self._clouds_owner_env())
        return live_subtree(folders)

    def _clouds_shared_tag_ids(self):
        """Ids of the shared tags and their subtags, active and under no archived tag."""
        self.ensure_one()
        return live_subtree(self.sudo().tag_ids.with_env(self._clouds_owner_env()))

    def _clouds_file_domain(self):
        """Domain of every file the share may expose, before the owner's rights (which
        ``_clouds_files`` applies by searching as the owner)."""
        self.ensure_one()
        share = self.sudo()
        parts = []
        if share.attachment_ids:
            parts.append([("id", "in", share.attachment_ids.ids)])
        if subtree := self._clouds_shared_subtree():
            parts.append([("clouds_folder_id", "in", sorted(subtree))])
        if tags := self._clouds_shared_tag_ids():
            parts.append([("clouds_tag_ids", "in", sorted(tags))])
        if not parts:
            return expression.FALSE_DOMAIN
        hidden = archived_branches(self.env["clouds.folder"])
        return expression.AND([
            expression.OR(parts),
            [("res_field", "=", False), ("type", "=", "binary"),
             "|", ("clouds_folder_id", "=", False), ("clouds_folder_id", "not in", hidden)],
        ])

    def _clouds_owner_files(self):
        """ir.attachment in the owner's environment: searches apply the owner's rights."""
        return self.env["ir.attachment"].with_env(self._clouds_owner_env())

    def _clouds_files(self, domain=None, **kwargs):
        """Files of the share matching ``domain`` (sudo records)."""
        files = self._clouds_owner_files().search(
            expression.AND([self._clouds_file_domain(), domain or []]), **kwargs)
        return files.sudo()

    def _clouds_file_count(self, domain=None):
        return self._clouds_owner_files().search_count(
            expression.AND([self._clouds_file_domain(), domain or []]))

    def _clouds_has_file(self, attachment_id):
        return bool(self._clouds_file_count([("id", "=", int(attachment_id))]))

    def _clouds_folder_ids(self):
        """Ids of the folders a visitor may open: the shared subtrees and the files'
        folders (where only the shared files show)."""
        self.ensure_one()
        ids = self._clouds_shared_subtree()
        files = self._clouds_owner_files().search(expression.AND([
            self._clouds_file_domain(), [("clouds_folder_id", "!=", False)]
        ]))
        rows = self.env.execute_query(SQL(
            "SELECT DISTINCT a.clouds_folder_id FROM ir_attachment a WHERE a.id = ANY(%s)",
            files.ids,
        ))
        return ids | {id_ for id_, in rows}

    def _clouds_tag_ids(self):
        """Ids of the tags a visitor may browse: shared subtrees and the files' tags."""
        self.ensure_one()
        ids = self._clouds_shared_tag_ids()
        files = self._clouds_owner_files().search(self._clouds_file_domain())
        rows = self.env.execute_query(SQL(
            "SELECT DISTINCT r.tag_id FROM clouds_tag_ir_attachment_rel r JOIN clouds_tag t"
            " ON t.id = r.tag_id WHERE t.active AND r.attachment_id = ANY(%s)"
            " AND NOT t.id IN %s",
            files.ids, archived_branches(self.env["clouds.tag"]).subselect(),
        ))
        return ids | {id_ for id_, in rows}

    def _clouds_upload_targets(self):
        """Ids of the folders uploads and new folders may go into: the shared subtrees
        and the upload folder (when the owner can see it and it is not archived), never
        the folder of a file shared on its own."""
        self.ensure_one()
        upload = self.sudo().upload_folder_id.with_env(self._clouds_owner_env())
        ids = self._clouds_shared_subtree()
        if upload and upload.id in live_subtree(upload):
            ids.add(upload.id)
        return ids

    def _clouds_top_folders(self, folder_ids):
        """The folders of ``folder_ids`` whose parent is not in it (the share's roots)."""
        folders = self.env["clouds.folder"].sudo().browse(sorted(folder_ids))
        return folders.filtered(lambda f: f.parent_id.id not in folder_ids).sorted(
            lambda f: (f.name.casefold(), f.id)
        )

    def _clouds_zip_layout(self, files, folder_ids, base=None):
        """The archive of ``files`` as a :class:`ZipLayout`: folder structure kept from
        the share's roots (or from ``base``, a folder), names portable and unique."""
        Folder = self.env["clouds.folder"].sudo()
        rows = files.read(["name", "clouds_folder_id"], load=None) if files else []
        chain = {}
        needed = set()
        for folder in Folder.browse({r["clouds_folder_id"] for r in rows} - {False, None}):
            ids = [int(i) for i in folder.parent_path.split("/") if i]
            if base:
                ids = ids[ids.index(base.id) + 1:] if base.id in ids else []
            else:
                start = next((n for n, i in enumerate(ids) if i in folder_ids), len(ids))
                ids = ids[start:]
            chain[folder.id] = ids
            needed.update(ids)
        names = {f.id: f.name for f in Folder.browse(needed)}
        layout = ZipLayout()
        directories = {(): ""}
        for row in rows:
            parts = tuple(chain.get(row["clouds_folder_id"], ()))
            for depth in range(1, len(parts) + 1):
                if parts[:depth] not in directories:
                    directories[parts[:depth]] = layout.add_directory(
                        directories[parts[:depth - 1]], names[parts[depth - 1]])
            layout.add_file(directories[parts], row["name"], row["id"])
        return layout

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

    @api.constrains("user_id")
    def _check_owner(self):
        for share in self:
            if share.user_id._is_superuser() or not share.user_id._is_internal():
                raise ValidationError(_(
                    "Share “%s”: its owner must be an employee: the share exposes what its "
                    "owner may read.", share.name))

    @api.constrains("allow_upload", "upload_folder_id", "folder_ids")
    def _check_upload_target(self):
        for share in self:
            if share.allow_upload and not (share.upload_folder_id or share.folder_ids):
                raise ValidationError(_(
                    "Share “%s” allows uploads: choose an upload folder or share a folder.",
                    share.name,
                ))

