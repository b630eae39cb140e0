"""Sync fields of folders and rules: the connection a folder syncs with, where it lives
remotely, and moving folders to another connection.

A folder syncs with the connection set on it (``own_client_id``); else a rule's title
folder syncs with its rule's connection; else every folder syncs with its parent's (then,
for a record folder with no synced parent, its rule's). So a connection set on a folder
or a rule carries the whole subtree below it, record folders included, and a subtree is
never split between two connections unless a subfolder names one itself.

A move is queued, never done during the save: a folder that syncs with a connection and
is given another one (its own ``own_client_id``, or its rule's ``client_id``) records the
request (``clouds_move_pending``, the connection it asked for in ``clouds_move_own_id``)
and keeps syncing with its connection meanwhile. That connection's ``move`` task brings
the binaries of the cloud-only files back into Odoo, then switches the folder; the next
sync tasks do the rest (the old connection sees the folder gone, the new one uploads it).
A rule's new connection pins each of its folders to the connection it syncs with until
its task has run. Asking for the connection a folder syncs with cancels its move.
"""

from odoo import _, api, fields, models
from odoo.tools import split_every

MOVE_NOW = "clouds_move_now"  # context key: the queue applies a move, or a folder is pinned
MOVE_BATCH = 100  # cloud-only files brought back per commit


class CloudsFolderRule(models.Model):
    _inherit = "clouds.folder.rule"

    client_id = fields.Many2one(
        "clouds.client", string="Sync Connection", ondelete="restrict",
        help="The folders of this rule (and their subfolders) sync with this connection.")

    def write(self, vals):
        if "client_id" not in vals:
            return super().write(vals)
        Folder = self.env["clouds.folder"].sudo().with_context(active_test=False)
        free = Folder.search([("rule_id", "in", self.ids), ("own_client_id", "=", False)])
        before = {folder: folder.client_id for folder in free}
        result = super().write(vals)
        # Folders whose connection changed stay on it until their binaries are back: the
        # top of each changed subtree is pinned, the folders below follow it.
        changed = free.filtered(lambda f: before[f] and f.client_id != before[f])
        for folder in changed.filtered(lambda f: f.parent_id not in changed):
            folder.with_context(**{MOVE_NOW: True}).write({
                "own_client_id": before[folder].id, "clouds_move_pending": True,
                "clouds_move_own_id": False})
        # Folders pinned by an earlier change whose rule comes back to their connection.
        pinned = Folder.search([("rule_id", "in", self.ids), ("clouds_move_pending", "=", True),
                                ("clouds_move_own_id", "=", False)])
        pinned.filtered(lambda f: f._clouds_move_target() == f.client_id).with_context(
            **{MOVE_NOW: True}).write({"own_client_id": False, "clouds_move_pending": False})
        self.env["clouds.queue"].sudo()._enqueue(
            Folder.search([("rule_id", "in", self.ids), ("clouds_move_pending", "=", True)])
            .client_id, "move")
        return result


class CloudsFolder(models.Model):
    _inherit = "clouds.folder"

    own_client_id = fields.Many2one(
        "clouds.client", string="Sync Connection", ondelete="restrict", index=True,
        groups="cloud_base.group_clouds_admin",
        help="Set here, it applies to this folder and every subfolder that sets none. "
        "Changing it moves the folder at the next sync round: the binaries of its "
        "cloud-only files come back into Odoo first.")
    client_id = fields.Many2one(
        "clouds.client", string="Synced With", compute="_compute_client_id", store=True,
        recursive=True, index=True)
    clouds_remote_id = fields.Char(string="Remote ID", readonly=True, copy=False)
    clouds_path = fields.Char(string="Remote Path", compute="_compute_clouds_path")
    clouds_link = fields.Char(string="Remote Link", readonly=True, copy=False)
    clouds_last_check = fields.Datetime(string="Last Sync Check", readonly=True, copy=False)
    clouds_move_pending = fields.Boolean(
        string="Move Pending", readonly=True, copy=False, index=True,
        help="Moving to another connection: the binaries come back first.")
    clouds_move_own_id = fields.Many2one(
        "clouds.client", string="Requested Connection", readonly=True, copy=False,
        ondelete="restrict",
        help="The sync connection set on the folder once its move is done (empty: the "
        "rule's or the parent folder's).")
    clouds_move_to_id = fields.Many2one(
        "clouds.client", string="Moving To", compute="_compute_clouds_move_to_id")

    @api.depends("own_client_id", "rule_id.client_id", "parent_id.client_id", "res_id")
    def _compute_client_id(self):
        for folder in self:
            folder.client_id = folder.own_client_id or folder._clouds_inherited_client()

    def _clouds_inherited_client(self):
        """The connection the folder syncs with when it sets none itself (see above)."""
        rule_client = self.rule_id.client_id
        if rule_client and self._clouds_is_title():
            return rule_client
        return self.parent_id.client_id or rule_client

    def _clouds_is_title(self):
        """A rule's title folder: made by the rule, linked to no record."""
        return bool(self.rule_id) and not self.res_id

    def _compute_clouds_path(self):
        for folder in self:
            names, node = [], folder
            while node and node.client_id == folder.client_id:
                names.append(node.name)
                node = node.parent_id
            root = folder.client_id.root_name or ""
            folder.clouds_path = "/".join([root, *reversed(names)]) if folder.client_id else False

    @api.depends("clouds_move_pending", "clouds_move_own_id", "rule_id.client_id",
                 "parent_id.client_id")
    def _compute_clouds_move_to_id(self):
        for folder in self:
            folder.clouds_move_to_id = (folder._clouds_move_target()
                                        if folder.clouds_move_pending else False)

    def _clouds_move_target(self, own=None):
        """The connection the folder syncs with once its move is done (or with ``own``)."""
        own = self.clouds_move_own_id if own is None else own
        return own or self._clouds_inherited_client()

    # ---------------------------------------------------------------- requesting a move
    @api.model_create_multi
    def create(self, vals_list):
        if any(vals.get("own_client_id") for vals in vals_list):
            # Odoo checks field groups on write only: a new folder may not name one either.
            self.check_field_access_rights("write", ["own_client_id"])
        return super().create(vals_list)

    def write(self, vals):
        if "own_client_id" not in vals or self.env.context.get(MOVE_NOW):
            return super().write(vals)
        own = self.env["clouds.client"].browse(vals["own_client_id"] or ())
        leaving = self.filtered(
            lambda f: f.client_id and f._clouds_move_target(own) != f.client_id)
        staying = self - leaving
        if staying:  # not synced yet, or back to its connection: at once (cancels a move)
            super(CloudsFolder, staying).write(
                dict(vals, clouds_move_pending=False, clouds_move_own_id=False))
        if leaving:
            rest = {k: v for k, v in vals.items() if k != "own_client_id"}
            super(CloudsFolder, leaving).write(
                dict(rest, clouds_move_pending=True, clouds_move_own_id=own.id))
            self.env["clouds.queue"].sudo()._enqueue(leaving.client_id, "move")
        return True

    # ---------------------------------------------------------------- the queued move
    def _clouds_followers(self):
        """The folders that sync with the connection of ``self`` through them: ``self``
        and the subfolders that set no connection of their own (nor, for a rule's title
        folder, their rule)."""
        Folder = self.sudo().with_context(active_test=False)
        found = todo = Folder.browse(self.ids)
        while todo:
            todo = Folder.search([
                ("parent_id", "in", todo.ids), ("own_client_id", "=", False),
                "|", "|", ("rule_id", "=", False), ("rule_id.client_id", "=", False),
                ("res_id", "!=", False),
            ]) - found
            found |= todo
        return found

    def _clouds_move_files(self):
        """The cloud-only files of the moving folders: their binaries come back first."""
        folders = self._clouds_followers()
        atts = self.env["ir.attachment"].sudo().search([
            ("clouds_folder_id", "in", folders.ids), ("clouds_state", "=", "link"),
            ("clouds_client_id", "in", self.client_id.ids)], order="id")
        return atts.filtered(lambda a: a._clouds_link_only())

    def _clouds_apply_move(self):
        """Switch the folders to the connection they asked for; sync both sides next."""
        old = self.client_id
        for folder in self:
            folder.with_context(**{MOVE_NOW: True}).write({
                "own_client_id": folder.clouds_move_own_id.id, "clouds_move_pending": False,
                "clouds_move_own_id": False})
        clients = (old | self.client_id).filtered(lambda c: c.state == "connected")
        self.env["clouds.queue"].sudo()._enqueue(clients, "sync")


class CloudsClientMove(models.Model):
    _inherit = "clouds.client"

    def _cloud_move_folders(self, commit=None, batch_size=MOVE_BATCH):
        """Queue task: bring the binaries of the folders leaving this connection back
        into Odoo (``commit`` after each batch: a crash or a failure resumes where it
        stopped), then switch the folders. A failed fetch raises: the task is retried and
        the folders stay on this connection."""
        self.ensure_one()
        moving = self.env["clouds.folder"].sudo().with_context(active_test=False).search(
            [("clouds_move_pending", "=", True), ("client_id", "=", self.id)])
        if not moving:
            return {"ops": 0}
        atts = moving._clouds_move_files()
        for batch in split_every(batch_size, atts.ids, atts.browse):
            batch._clouds_fetch_binaries()
            # Back in Odoo and no longer read from this connection (whose sync records
            # still know the remote copies: its next sync removes them); the cleaner
            # leaves them alone until the new connection has them.
            batch.with_context(clouds_no_reset=True).write(dict.fromkeys((
                "clouds_client_id", "clouds_remote_id", "clouds_version", "clouds_hash",
                "clouds_link", "clouds_verified"), False) | {"clouds_state": "local"})
            if commit:
                commit()
        moving._clouds_apply_move()
        self.message_post(body=_(
            "%(folders)s folders moved to another connection; %(files)s binaries brought "
            "back into Odoo first.", folders=len(moving), files=len(atts)))
        return {"ops": len(atts) + len(moving)}
