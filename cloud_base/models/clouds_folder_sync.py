"""Sync fields of folders and rules: the connection a folder syncs with (inherited by its
subfolders unless one sets its own), and where it lives remotely."""

from odoo import api, fields, models


class CloudsFolderRule(models.Model):
    _inherit = "clouds.folder.rule"

    client_id = fields.Many2one(
        "clouds.client", string="Sync Connection", ondelete="restrict",
        help="The folders of this rule (and their subfolders) sync with this connection.")


class CloudsFolder(models.Model):
    _inherit = "clouds.folder"

    own_client_id = fields.Many2one(
        "clouds.client", string="Sync Connection", ondelete="restrict", index=True,
        help="Set here, it applies to this folder and every subfolder that sets none.")
    client_id = fields.Many2one(
        "clouds.client", string="Synced With", compute="_compute_client_id", store=True,
        recursive=True, index=True)
    clouds_remote_id = fields.Char(string="Remote ID", readonly=True, copy=False)
    clouds_path = fields.Char(string="Remote Path", compute="_compute_clouds_path")
    clouds_link = fields.Char(string="Remote Link", readonly=True, copy=False)
    clouds_last_check = fields.Datetime(string="Last Sync Check", readonly=True, copy=False)

    @api.depends("own_client_id", "rule_id.client_id", "parent_id.client_id")
    def _compute_client_id(self):
        for folder in self:
            folder.client_id = (folder.own_client_id or folder.rule_id.client_id
                                or folder.parent_id.client_id)

    def _compute_clouds_path(self):
        for folder in self:
            names, node = [], folder
            while node and node.client_id == folder.client_id:
                names.append(node.name)
                node = node.parent_id
            root = folder.client_id.root_name or ""
            folder.clouds_path = "/".join([root, *reversed(names)]) if folder.client_id else False

    def write(self, vals):
        if "own_client_id" in vals:
            self._clouds_reverse_before_move(vals["own_client_id"])
        return super().write(vals)

    def _clouds_reverse_before_move(self, new_client_id):
        """Moving folders to another connection brings their binaries back first."""
        leaving = self.filtered(lambda f: f.client_id and f.client_id.id != new_client_id)
        if leaving:
            atts = self.env["ir.attachment"].sudo().search(
                [("clouds_folder_id", "child_of", leaving.ids)])
            atts._clouds_fetch_binaries()
