""""Add from cloud": attach files that already live in a connection's cloud.

Administrators offer a connection to groups (``picker_group_ids``). ``clouds.picker``
is the RPC surface of the picker dialog: every method finds the connection among those
offered to the user (connected, one of their groups) before anything reaches the provider.

The client never names a remote item: every item listed comes with a handle signed with
the database secret and bound to the connection and the user; only such handles are
accepted back (the connection's root needs none). A forged id would otherwise let a user
browse, link or copy anything the connection's credentials reach (a Drive or Graph id
outside its root folder), or a file of a folder whose record they may not read.

A *linked* attachment (``clouds_state = 'linked'``) keeps its bytes in the cloud: it
streams as a cloud-only file does, and the sync never touches its remote item (it is not
part of any folder's local state). When the item is gone it becomes ``missing``: a
stream that gets "not found" and a periodic check say so; the attachment stays.
"""

import base64
import json
import logging
import mimetypes
import os

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL, consteq
from odoo.tools.misc import hmac
from werkzeug.exceptions import NotFound as HttpNotFound

from cloud_sync.providers import Item, Kind, provider_class
from cloud_sync.providers.errors import CloudError, NameTaken, NotFound

from .clouds_change import NO_MARK

_logger = logging.getLogger(__name__)

ADMIN = "cloud_base.group_clouds_admin"
SCOPE = "clouds-picker"
LINKED = ("linked", "missing")  # states of files linked from the cloud (never synced)
PAGE_LIMIT = 100
SEARCH_LIMIT = 50
ANCESTOR_BUDGET = 200  # provider requests a search may spend finding its results' parents
LINK_DEPTH = 64  # folders a link check climbs to find the connection's root
COPY_TRIES = 20  # "name (2)", "name (3)"... when the target folder has the name


def _mimetype(item):
    """The item's type as Odoo names it: without parameters (``; charset=``), guessed
    from the name when the provider says only "bytes"."""
    given = (item.mime_type or "").split(";")[0].strip().lower()
    if given in ("", "application/octet-stream", "binary/octet-stream"):
        given = mimetypes.guess_type(item.name)[0] or "application/octet-stream"
    return given


def _report_missing(registry, att_id):
    with registry.cursor() as cr:
        cr.execute(SQL(
            "UPDATE ir_attachment SET clouds_state = 'missing', "
            "clouds_checked = now() at time zone 'UTC' "
            "WHERE id = %s AND clouds_state = 'linked'", att_id))


def _beneath_root(provider, item, parents):
    """Whether ``item`` lies beneath the provider's root folder: its parents are asked
    of the provider (each folder once per ``parents``) up to the root. A chain deeper
    than :data:`LINK_DEPTH` raises ``CloudError`` (not decided: checked again later)."""
    current = item.parent_id
    for _level in range(LINK_DEPTH):
        if current == provider.root_id:
            return True
        if not current:
            return False
        if current not in parents:
            try:
                parents[current] = provider.metadata(current).parent_id
            except NotFound:
                parents[current] = None
        current = parents[current]
    raise CloudError(f"{item.id}: more than {LINK_DEPTH} folders above it")


class CloudsClientPicker(models.Model):
    _inherit = "clouds.client"

    picker_group_ids = fields.Many2many(
        "res.groups", "clouds_client_picker_group_rel", "client_id", "group_id",
        string="Offered in the Picker To", groups=ADMIN,
        help="Users of these groups may browse this connection's root folder in “Add from "
        "cloud” and attach its files to records they may edit. Empty: not offered.")


class IrAttachmentLinked(models.Model):
    _inherit = "ir.attachment"

    clouds_state = fields.Selection(
        selection_add=[("linked", "Linked from the cloud"), ("missing", "Missing in the cloud")],
        ondelete={"linked": "set default", "missing": "set default"})
    clouds_checked = fields.Datetime(
        string="Link Checked", readonly=True, copy=False,
        help="When the remote item of a linked file was last found (or found missing).")

    def _clouds_http_check(self):
        """A linked file whose item is gone is reported missing. The request's
        transaction is rolled back with the 404: the report is written after that
        rollback, in a transaction of its own."""
        try:
            return super()._clouds_http_check()
        except HttpNotFound:
            if self.clouds_state == "linked":
                registry, att_id = self.env.registry, self.id
                self.env.cr.postrollback.add(lambda: _report_missing(registry, att_id))
            raise

    @api.model
    def _cron_clouds_check_links(self, limit=200):
        """Check the remote items of up to ``limit`` linked files, the longest unchecked
        first: gone ones become "Missing in the cloud", found ones "Linked" again (with
        their current size). An item moved out of the connection's root folder (where
        its id survives a move) is no longer offered: missing too. Connections that are
        not connected are skipped; other errors leave the file as it was (it is checked
        again later)."""
        atts = self.sudo().search([
            ("clouds_state", "in", LINKED), ("clouds_client_id.state", "=", "connected")],
            limit=limit, order="clouds_checked asc nulls first, id")
        for client in atts.clouds_client_id:
            provider = client._cloud_shared_provider()
            parents = {}  # folder id -> its parent id, asked once per run
            for att in atts.filtered(lambda a, c=client: a.clouds_client_id == c):
                try:
                    item = provider.metadata(att.clouds_remote_id)
                    if not _beneath_root(provider, item, parents):
                        item = None
                except NotFound:
                    item = None
                except CloudError as exc:
                    _logger.info("linked file %s not checked: %s", att.id, exc)
                    continue
                att._clouds_link_found(item)
        return len(atts)

    def _clouds_link_found(self, item):
        """Record what a check found for this linked file (``item`` None: gone)."""
        self.ensure_one()
        self.with_context(**{NO_MARK: True}).write({
            "clouds_state": "linked" if item else "missing",
            "clouds_checked": fields.Datetime.now(),
            **({"clouds_version": item.version} if item else {})})
        if item and item.size != self.file_size:
            self._clouds_set_size(item.size)


class CloudsPicker(models.AbstractModel):
    _name = "clouds.picker"
    _description = "Add from Cloud"

    # ---------------------------------------------------------------- access

    @api.model
    def _offered(self):
        """The connections offered to the current user (sudo records): connected, and
        offered to one of their groups. Employees only."""
        user = self.env.user
        if not user._is_internal():
            return self.env["clouds.client"]
        return self.env["clouds.client"].sudo().search([
            ("state", "=", "connected"), ("picker_group_ids", "in", user.groups_id.ids)])

    @api.model
    def _client(self, client_id):
        client = isinstance(client_id, int) and self._offered().filtered(
            lambda c: c.id == client_id)
        if not client:
            raise AccessError(_("This connection is not offered to you in “Add from cloud”."))
        return client

    def _sign(self, client, kind, value, extra=None):
        """A handle: the item (or page) bound to the connection and the user."""
        payload = json.dumps([client.id, self.env.uid, kind, value, extra],
                             separators=(",", ":"))
        signature = hmac(self.env(su=True), SCOPE, payload)
        return base64.urlsafe_b64encode(payload.encode()).decode() + "." + signature

    def _unsign(self, client, handle, kinds):
        """(value, extra) of a handle this user got for this connection, of one of
        ``kinds``; an AccessError for anything else."""
        try:
            encoded, signature = handle.split(".", 1)
            payload = base64.urlsafe_b64decode(encoded.encode()).decode()
            expected = hmac(self.env(su=True), SCOPE, payload)
            client_id, uid, kind, value, extra = json.loads(payload)
        except (AttributeError, TypeError, ValueError):
            raise AccessError(_("This item is not one the picker showed you.")) from None
        if not (consteq(signature, expected) and client_id == client.id
                and uid == self.env.uid and kind in kinds):
            raise AccessError(_("This item is not one the picker showed you."))
        return value, extra

    def _hidden(self, client, items):
        """Remote ids of ``items`` (or of their parents) that are the synced twins of
        folders the user cannot see or of records' files they may not read: a synced tree
        holds records' files, and the picker shows no more of them than Odoo does."""
        ids = {i.id for i in items} | {i.parent_id for i in items if i.parent_id}
        records = self.env["clouds.sync.record"].sudo().search_read(
            [("client_id", "=", client.id), ("remote_id", "in", list(ids))],
            ["key", "remote_id"])
        folders = {int(r["key"][1:]): r["remote_id"] for r in records if r["key"][0] == "f"}
        files = {int(r["key"][1:]): r["remote_id"] for r in records if r["key"][0] == "a"}
        seen = set(self.env["clouds.folder"].with_context(active_test=False).search(
            [("id", "in", list(folders))]).ids)
        # a file on a record follows the record's rights; one without (the sync's own files
        # of manual folders) follows its folder, checked through its parent above
        atts = self.env["ir.attachment"].browse(list(files)).sudo().exists()
        on_records = atts.filtered(lambda a: a.res_model and a.res_model != "clouds.folder"
                                   and a.res_id)
        served = set((atts - on_records).ids) | set(
            on_records.with_env(self.env)._clouds_servable().ids)
        return ({rid for fid, rid in folders.items() if fid not in seen}
                | {rid for aid, rid in files.items() if aid not in served})

    def _beneath_hidden(self, client, provider, items, budget=ANCESTOR_BUDGET):
        """Remote ids of ``items`` (search results) lying at any depth beneath a synced
        folder the user cannot see. A listing shows the children of a folder reached
        through visible folders only, but a search reaches anywhere beneath the root: a
        folder made in the cloud inside a private folder and not synced yet would
        otherwise show its files. Each result's parents are asked of the provider (each
        folder once) up to the first synced folder or the root; results whose chain is
        not resolved within ``budget`` requests are hidden too (closed by default)."""
        synced = {r["remote_id"] for r in self.env["clouds.sync.record"].sudo().search_read(
            [("client_id", "=", client.id), ("key", "=like", "f%")], ["remote_id"])}
        parent_of, unresolved, chains = {}, set(), {}
        for item in items:
            chain, current = [], item.parent_id
            while current and current != provider.root_id and current not in synced:
                chain.append(current)
                if current not in parent_of:
                    if budget <= 0:
                        current = None
                        break
                    budget -= 1
                    try:
                        parent_of[current] = provider.metadata(current).parent_id
                    except CloudError:
                        parent_of[current] = None
                current = parent_of[current]
            if not current:
                unresolved.add(item.id)  # not shown
                continue
            chains[item.id] = chain + ([current] if current in synced else [])
        folders = [Item(rid, "", Kind.FOLDER) for chain in chains.values() for rid in chain]
        hidden = self._hidden(client, folders) if folders else set()
        return unresolved | {rid for rid, chain in chains.items() if hidden.intersection(chain)}

    def _describe(self, client, items, hidden=()):
        hidden = self._hidden(client, items) | set(hidden)
        return [{
            "handle": self._sign(client, item.kind.value, item.id),
            "name": item.name,
            "is_folder": item.is_folder,
            "size": item.size,
            "mimetype": _mimetype(item),
            "modified": fields.Datetime.to_string(item.modified.replace(tzinfo=None))
            if item.modified else False,
        } for item in items if item.id not in hidden and item.parent_id not in hidden]

    @staticmethod
    def _cloud_error(client, exc):
        return UserError(_("“%(name)s” did not answer: %(error)s", name=client.name, error=exc))

    # ---------------------------------------------------------------- RPC

    @api.model
    def clouds_connections(self):
        """The connections the user may browse: id, name, whether search works."""
        return [{"id": c.id, "name": c.name,
                 "can_search": provider_class(c.provider).can_search}
                for c in self._offered()]

    @api.model
    def clouds_list(self, client_id, folder=None, page=None, limit=PAGE_LIMIT):
        """One page of a folder (``folder``: a handle; none: the connection's root):
        ``{"items": [...], "next": handle of the next page or False}``."""
        client = self._client(client_id)
        provider = client._cloud_shared_provider()
        folder_id = self._unsign(client, folder, ("folder",))[0] if folder else provider.root_id
        token = None
        if page:
            page_folder, token = self._unsign(client, page, ("page",))
            if page_folder != folder_id:
                raise AccessError(_("This item is not one the picker showed you."))
        limit = max(1, min(int(limit), PAGE_LIMIT))
        try:
            items, token = provider.list_page(folder_id, token, limit)
        except CloudError as exc:
            raise self._cloud_error(client, exc) from exc
        items = sorted(items, key=lambda i: (not i.is_folder, i.name.lower()))  # this page
        return {"items": self._describe(client, items),
                "next": token and self._sign(client, "page", folder_id, token)}

    @api.model
    def clouds_search(self, client_id, query, limit=SEARCH_LIMIT):
        """Files and folders beneath the connection's root whose name contains ``query``."""
        client = self._client(client_id)
        query = (query or "").strip()
        if not query:
            return []
        if not provider_class(client.provider).can_search:
            raise UserError(_("“%s” cannot search by name: browse its folders.", client.name))
        provider = client._cloud_shared_provider()
        try:
            items = provider.search(query, max(1, min(int(limit), SEARCH_LIMIT)))
        except CloudError as exc:
            raise self._cloud_error(client, exc) from exc
        return self._describe(client, items, self._beneath_hidden(client, provider, items))

    @api.model
    def clouds_add(self, client_id, handles, mode="link", folder_id=False, res_model=False,
                   res_id=False):
        """Attach the chosen files to a record, in a folder, linked or copied; returns the
        new attachments' ids.

        The target is a folder (its record, as uploads into it) or a record (its folder,
        if it has one). The user needs write access to the record, as Odoo asks for
        attaching; the attachments are created as the user, and only their cloud fields
        are written as superuser afterwards.
        """
        client = self._client(client_id)
        if mode not in ("link", "copy"):
            raise UserError(_("Choose “Link” or “Copy”."))
        if not handles:
            raise UserError(_("Choose at least one file."))
        remote_ids = [self._unsign(client, h, ("file",))[0] for h in handles]
        vals = self._target(folder_id, res_model, res_id)
        provider = client._cloud_shared_provider()
        try:
            items = [provider.metadata(rid) for rid in remote_ids]
        except NotFound as exc:
            raise UserError(_("A chosen file is no longer in the cloud: %s", exc)) from exc
        except CloudError as exc:
            raise self._cloud_error(client, exc) from exc
        if any(item.is_folder for item in items):
            raise UserError(_("Only files can be attached, not folders."))
        atts = self.env["ir.attachment"].create([dict(
            vals, name=item.name, type="binary", mimetype=_mimetype(item)) for item in items])
        for att, item in zip(atts, items, strict=True):
            try:
                if mode == "link":
                    att.sudo()._clouds_link_to(client, item)
                else:
                    att.sudo()._clouds_copy_from(client, provider, item)
            except CloudError as exc:
                raise self._cloud_error(client, exc) from exc
        return atts.ids

    @api.model
    def _target(self, folder_id, res_model, res_id):
        """The new attachments' record and folder, after checking the user may read the
        folder and write on the record."""
        vals = {}
        if folder_id:
            folder = self.env["clouds.folder"].browse(int(folder_id)).exists()
            if not folder or not folder._clouds_readable_ids():
                raise AccessError(_("You cannot see this folder."))
            chain = folder.sudo().browse(
                int(i) for i in reversed(folder.sudo().parent_path.split("/")) if i)
            owner = next((f for f in chain if f.res_model and f.res_id), None)
            res_model, res_id = (owner.res_model, owner.res_id) if owner else (
                "clouds.folder", folder.id)
            vals["clouds_folder_id"] = folder.id
        if not (res_model in self.env and res_id):
            raise UserError(_("Choose the record or the folder the files go to."))
        record = self.env[res_model].browse(int(res_id)).exists()
        if not record:
            raise UserError(_("The record the files go to no longer exists."))
        record.check_access("write")
        return dict(vals, res_model=res_model, res_id=record.id)


class IrAttachmentPicked(models.Model):
    _inherit = "ir.attachment"

    def _clouds_link_to(self, client, item):
        """Make this new, empty attachment a link to ``item`` (sudo, after the checks)."""
        self.with_context(**{NO_MARK: True}).write({
            "clouds_client_id": client.id, "clouds_remote_id": item.id,
            "clouds_version": item.version, "clouds_hash": item.content_hash,
            "clouds_link": item.web_url or False, "clouds_state": "linked",
            "clouds_checked": fields.Datetime.now()})
        self._clouds_set_size(item.size)

    def _clouds_copy_from(self, client, provider, item):
        """Make this new, empty attachment a copy of ``item``: copied in the cloud into
        its folder's remote folder when that folder syncs with the same connection (and
        registered as the copy's synced twin, so nothing is uploaded again), else its
        bytes downloaded into Odoo (streamed to the filestore) for the sync to handle."""
        folder = self.clouds_folder_id
        if folder.client_id == client and folder.clouds_remote_id:
            copy = self._clouds_copy_remote(provider, item, folder)
            self.with_context(**{NO_MARK: True}).write({
                "name": copy.name, "clouds_client_id": client.id,
                "clouds_remote_id": copy.id, "clouds_version": copy.version,
                "clouds_hash": copy.content_hash, "clouds_link": copy.web_url or False,
                "clouds_state": "link", "clouds_verified": fields.Datetime.now()})
            self._clouds_set_size(copy.size)
            self.env["clouds.sync.record"].sudo().create({
                "client_id": client.id, "key": f"a{self.id}", "remote_id": copy.id,
                "parent_key": f"f{folder.id}", "name": provider.safe_name(copy.name),
                "kind": "file", "remote_version": copy.version})
            return
        spooled = self._clouds_spool().fill(provider.download(item.id))
        self.with_context(clouds_no_reset=True)._clouds_store_spooled(spooled)

    def _clouds_copy_remote(self, provider, item, folder):
        """``provider.copy`` into the folder's remote folder, under the first free name.
        Where siblings may share a name (Drive: ``unique_names`` false, a copy never
        raises NameTaken) the name is looked up first, else a second copy would be a
        same-named twin of the first."""
        stem, ext = os.path.splitext(item.name)
        for n in range(1, COPY_TRIES + 1):
            name = item.name if n == 1 else f"{stem} ({n}){ext}"
            if not provider.unique_names and provider.find_child(folder.clouds_remote_id, name):
                continue
            try:
                return provider.copy(item.id, folder.clouds_remote_id, name)
            except NameTaken:
                continue
        raise UserError(_("“%(folder)s” already has files named like “%(name)s”.",
                          folder=folder.name, name=item.name))
