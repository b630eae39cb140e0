"""JSON-RPC methods of the file manager and the attachment box on folders and tags.

Every method answers in a constant number of queries whatever the size of the tree, and
sees only what the user may read: folders go through ``clouds.folder._search``, which adds
the SQL access condition.
"""

from odoo import _, api, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from .clouds_tag import TAG_RELATION

# Fields the UI needs for a folder node (sync addons may add theirs in _clouds_fm_node).
NODE_FIELDS = ["name", "parent_id", "folder_type", "res_model", "res_id"]
SEARCH_LIMIT = 200


def counts(model, domain, field):
    """{id of ``field``: count} of the readable records matching ``domain`` (one query)."""
    return {record.id: n for record, n in model._read_group(domain, [field], ["__count"])}


class CloudsFolder(models.Model):
    _inherit = "clouds.folder"

    def _clouds_cloud_url(self):
        """The folder's web link in the cloud, or False when it is not synced.

        The sync addon overrides this; it must not query per folder (the tree asks for
        every node it shows).
        """
        self.ensure_one()
        return False

    def _clouds_fm_nodes(self):
        """Tree nodes of ``self``: fields, readable subfolder count and file count."""
        if not self:
            return []
        self.fetch(NODE_FIELDS)
        children = counts(self, [("parent_id", "in", self.ids)], "parent_id")
        files = counts(
            self.env["ir.attachment"], [("clouds_folder_id", "in", self.ids)], "clouds_folder_id"
        )
        return [{
            "id": f.id,
            "name": f.name,
            "parent_id": f.parent_id.id,
            "folder_type": f.folder_type,
            "res_model": f.res_model or False,
            "res_id": f.res_id or False,
            "child_count": children.get(f.id, 0),
            "file_count": files.get(f.id, 0),
            "cloud_url": f._clouds_cloud_url(),
        } for f in self]

    @api.model
    def clouds_fm_children(self, parent_id=False):
        """Nodes of the readable children of ``parent_id`` (the roots when False)."""
        return self.search([("parent_id", "=", parent_id or False)])._clouds_fm_nodes()

    @api.model
    def clouds_fm_reveal(self, folder_id):
        """Open the tree on ``folder_id`` (a folder remembered in the URL) in one request.

        Returns the ids of its parents, top first, and the nodes of the top level and of
        every parent's children; False when the folder is not readable.
        """
        folder = self.search([("id", "=", folder_id)])
        if not folder:
            return False
        path = [int(i) for i in folder.parent_path.split("/") if i][:-1]
        nodes = self.search(["|", ("parent_id", "=", False), ("parent_id", "in", path)])
        return {"path": path, "nodes": nodes._clouds_fm_nodes()}

    @api.model
    def clouds_fm_record_root(self, res_model, res_id):
        """The node of a record's object folder, or False (the attachment box's root)."""
        folder = self._get_object_folder(res_model, res_id)
        if not folder or not self.search([("id", "=", folder.id)]):
            return False
        return folder._clouds_fm_nodes()[0]

    @api.model
    def clouds_fm_search(self, term, root_id=False):
        """One request for a search over both trees.

        Returns the matching folders and tags with their ancestors (nodes to draw the
        branches), the ids of the matches, whether the list was cut at SEARCH_LIMIT.
        ``root_id`` limits the folder search to a subtree (the attachment box).
        """
        term = (term or "").strip()
        if not term:
            raise UserError(_("Type something to search for."))
        domain = [("name", "ilike", term)]
        if root_id:
            domain.append(("id", "child_of", root_id))
        matches = self.search(domain, limit=SEARCH_LIMIT + 1)
        folder_ids = set(matches.ids[:SEARCH_LIMIT])
        for folder in matches[:SEARCH_LIMIT]:
            folder_ids.update(int(i) for i in folder.parent_path.split("/") if i)
        if root_id:
            root_path = self.browse(root_id).parent_path or ""
            above = {int(i) for i in root_path.split("/") if i} - {root_id}
            folder_ids -= above
        # Ancestors of a readable folder are readable (a folder needs its parents).
        folders = self.browse(sorted(folder_ids))
        tags = self.env["clouds.tag"].search([("name", "ilike", term)], limit=SEARCH_LIMIT)
        tag_ids = set(tags.ids)
        for tag in tags:
            tag_ids.update(int(i) for i in tag.parent_path.split("/") if i)
        return {
            "folders": folders._clouds_fm_nodes(),
            "folder_matches": matches.ids[:SEARCH_LIMIT],
            "tags": self.env["clouds.tag"].browse(sorted(tag_ids))._clouds_fm_nodes(),
            "tag_matches": tags.ids,
            "truncated": len(matches) > SEARCH_LIMIT,
        }

    def clouds_fm_move(self, parent_id):
        """Move manual folders under ``parent_id`` (False: to the top) with clear refusals."""
        rule = self.filtered(lambda f: f.folder_type == "rule")
        if rule:
            raise UserError(_(
                "“%(folder)s” is made by a folder rule: its place follows the rule and cannot "
                "be changed by dragging it.", folder=rule[0].name,
            ))
        if parent_id:
            parent = self.browse(parent_id)
            parent.check_access("read")
            if parent in self.search([("id", "child_of", self.ids)]):
                raise UserError(_("A folder cannot be moved into itself or its subfolders."))
        self.write({"parent_id": parent_id or False})
        return True


class CloudsTag(models.Model):
    _inherit = "clouds.tag"

    def _clouds_fm_nodes(self):
        """Tag nodes: name, parent, colour and the number of files the tag shows."""
        if not self:
            return []
        self.fetch(["name", "parent_id", "color"])
        files = self._clouds_fm_file_counts()
        return [{
            "id": t.id, "name": t.name, "parent_id": t.parent_id.id, "color": t.color,
            "file_count": files.get(t.id, 0),
        } for t in self]

    def _clouds_fm_file_counts(self):
        """{tag id: number of files the file manager lists when filtering by the tag}.

        That filter is ``clouds_tag_ids child_of tag``: files carrying the tag or one of
        its (active, readable) subtags, each counted once, in a folder, readable by the
        user. One grouped query for all the tags (plus Odoo's own attachment access check).
        """
        files = self.env["ir.attachment"]._search([
            ("clouds_folder_id", "!=", False), ("clouds_tag_ids", "child_of", self.ids),
        ])
        if files.is_empty():
            return {}
        subtags = self._search([])
        self.flush_model(["parent_path"])
        rows = self.env.execute_query(SQL(
            """SELECT tag.id, COUNT(DISTINCT rel.attachment_id)
                 FROM clouds_tag tag
                 JOIN clouds_tag sub ON sub.parent_path LIKE tag.parent_path || %(below)s
                 JOIN %(rel)s rel ON rel.tag_id = sub.id
                WHERE tag.id = ANY(%(ids)s) AND sub.id IN %(subtags)s
                  AND rel.attachment_id IN %(files)s
             GROUP BY tag.id""",
            rel=SQL.identifier(TAG_RELATION), below="%", ids=list(self.ids),
            subtags=subtags.subselect(), files=files.subselect(),
        ))
        return dict(rows)

    @api.model
    def clouds_fm_tags(self):
        """Every tag as a node (tags are few: the panel shows them all at once)."""
        return self.search([])._clouds_fm_nodes()

    def clouds_fm_move(self, parent_id):
        """Nest tags under ``parent_id`` (False: to the top); cycles are refused."""
        if parent_id and self.browse(parent_id) in self.search([("id", "child_of", self.ids)]):
            raise UserError(_("A tag cannot be placed under itself or its subtags."))
        self.write({"parent_id": parent_id or False})
        return True
