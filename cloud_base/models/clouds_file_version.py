"""File versions ("Versions" in the file manager and the attachment box).

A synced file's versions are those its cloud keeps (``Provider.versions``). Where the
cloud keeps none (plain WebDAV, an S3 bucket without versioning: ``Unsupported``), the
suite keeps them: when the sync replaces a file's content with a newer one from the
cloud, the previous bytes become a :class:`CloudsFileVersion` (its bytes a binary field
stored as an attachment that shares the filestore file: nothing is copied), up to the
number set in Settings, the oldest dropped first.

Version ids given to the screens carry where the version lives: ``cloud:<provider id>``,
``odoo:<clouds.file.version id>``, or ``current`` (the file itself, where the cloud
lists none). Every call checks the user's access to the file first and accepts only an
id the file's own listing gives: an arbitrary id never reaches the provider.
"""

from datetime import timezone

from odoo import _, api, fields, models
from odoo.addons.base.models.ir_attachment import IrAttachment as BaseAttachment
from odoo.exceptions import AccessError, MissingError, UserError

from cloud_sync.providers.errors import CloudError, NotFound, Unsupported

from .clouds_change import NO_MARK

KEEP_PARAM = "cloud_base.versions_keep"
DEFAULT_KEEP = 5
CLOUD, KEPT, CURRENT = "cloud:", "odoo:", "current"


def _naive_utc(when):
    """A provider's time as Odoo stores datetimes (naive, UTC)."""
    if when is not None and when.tzinfo is not None:
        when = when.astimezone(timezone.utc).replace(tzinfo=None)
    return when


def _author(att):
    """Who last wrote the file, unless it was the sync (a cron as the superuser): content
    that came from the cloud has no author Odoo knows."""
    user = att.write_uid
    return user.browse() if user._is_superuser() else user


def _cloud_chunks(chunks, failed):
    """A version's chunks from the provider, asked for when the first is read (after the
    request's cursor is gone: nothing here touches the database)."""
    try:
        yield from chunks()
    except CloudError as exc:
        raise UserError(f"{failed}: {exc}") from exc


class CloudsFileVersion(models.Model):
    _name = "clouds.file.version"
    _description = "Kept File Version"
    _order = "id desc"

    attachment_id = fields.Many2one("ir.attachment", string="File", required=True,
                                    readonly=True, index=True, ondelete="cascade")
    name = fields.Char(readonly=True, help="The file's name when this content was kept.")
    data = fields.Binary(string="Content", attachment=True, readonly=True)
    file_size = fields.Integer(string="Size", readonly=True)
    checksum = fields.Char(readonly=True)
    mimetype = fields.Char(readonly=True)
    content_date = fields.Datetime(string="Content Of", readonly=True,
                                   help="When Odoo got this content.")
    author_id = fields.Many2one("res.users", string="Author", readonly=True,
                                ondelete="set null")
    remote_version = fields.Char(readonly=True)

    # ---------------------------------------------------------------- access
    # A kept version is readable by whoever may receive its file's bytes (the one access
    # decision of files: ir.attachment._clouds_servable), never otherwise.

    @api.model
    def _search(self, domain, offset=0, limit=None, order=None):
        query = super()._search(domain, offset, limit, order)
        if self.env.su:
            return query
        rows = self.env.execute_query(query.select(
            self._field_to_sql(self._table, "id"),
            self._field_to_sql(self._table, "attachment_id")))
        files = self.env["ir.attachment"].browse({att for _id, att in rows})
        servable = set(files._clouds_servable().ids)
        return self.browse([id_ for id_, att in rows if att in servable])._as_query(order)

    def _check_access(self, operation):
        result = super()._check_access(operation)
        if result or not any(self._ids):
            return result
        versions = self.sudo()
        servable = self.env["ir.attachment"].browse(versions.attachment_id.ids)._clouds_servable()
        forbidden = versions.filtered(lambda v: v.attachment_id not in servable).sudo(False)
        if not forbidden:
            return None
        return forbidden, lambda: AccessError(_(
            "You cannot read these versions: you may not read their files."))

    # ---------------------------------------------------------------- keeping
    @api.model
    def _clouds_keep_limit(self):
        value = self.env["ir.config_parameter"].sudo().get_param(KEEP_PARAM, DEFAULT_KEEP)
        try:
            return max(int(value), 0)
        except ValueError:
            return DEFAULT_KEEP

    @api.model
    def _clouds_set_keep_limit(self, keep):
        # Not a config_parameter field of the settings: Odoo deletes the parameter of an
        # integer 0, which then reads as the default, not as "none".
        self.env["ir.config_parameter"].sudo().set_param(KEEP_PARAM, str(int(keep)))

    def _clouds_content(self):
        """The attachment holding this version's bytes (sudo)."""
        self.ensure_one()
        return self.env["ir.attachment"].sudo().search([
            ("res_model", "=", self._name), ("res_field", "=", "data"),
            ("res_id", "=", self.id)], limit=1)

    @api.model
    def _clouds_keep(self, att, spooled=None):
        """Keep the current content of ``att`` (sudo) as its newest version, then drop the
        oldest beyond the limit. The bytes are the filestore file ``att`` has now (shared:
        Odoo's garbage collection keeps a file while an attachment names it), or
        ``spooled`` (a :class:`Spooled` of the content, for a file whose bytes were only
        in the cloud). Returns the version, or nothing when the limit is 0 or there are
        no bytes to keep."""
        keep = self._clouds_keep_limit()
        if not keep or not (spooled or att.store_fname or att.db_datas):
            if spooled:
                spooled.discard()
            return self.browse()
        Self = self.sudo()
        version = Self.create({
            "attachment_id": att.id, "name": att.name, "mimetype": att.mimetype,
            "content_date": att.write_date, "author_id": _author(att).id,
            "remote_version": att.clouds_version,
        })
        content = self.env["ir.attachment"].sudo().with_context(**{NO_MARK: True}).create({
            "name": att.name, "res_model": self._name, "res_field": "data",
            "res_id": version.id, "type": "binary", "mimetype": att.mimetype})
        if spooled:
            content._clouds_store_spooled(spooled)
        elif att.store_fname:
            super(BaseAttachment, content).write({
                "store_fname": att.store_fname, "checksum": att.checksum,
                "file_size": att.file_size, "db_datas": False})
        else:
            content.raw = att.raw
        version.write({"file_size": content.file_size, "checksum": content.checksum})
        Self.search([("attachment_id", "=", att.id)], offset=keep).unlink()
        return version


class IrAttachmentVersions(models.Model):
    _inherit = "ir.attachment"

    def unlink(self):
        # A file's kept versions go with it (their bytes' attachments too, which a
        # database cascade would leave behind).
        versions = self.env["clouds.file.version"].sudo().search(
            [("attachment_id", "in", self.ids)]) if self.ids else None
        if versions:
            versions.unlink()
        return super().unlink()

    def _check_access(self, operation):
        """The attachments holding kept versions' bytes are as readable as their version
        (Odoo 18 reads an attachment by id without looking at its record), and never
        changed by users."""
        result = super()._check_access(operation)
        if result or not any(self._ids):
            return result
        holders = self.sudo().filtered(lambda a: a.res_model == "clouds.file.version")
        if not holders:
            return None
        versions = self.env["clouds.file.version"].browse(set(holders.mapped("res_id")))
        denied = versions._check_access("read" if operation == "read" else "write")
        if not denied:
            return None
        forbidden = holders.filtered(lambda a: a.res_id in denied[0].ids).sudo(False)
        return forbidden, denied[1]

    # ---------------------------------------------------------------- RPC of the dialog
    def clouds_versions(self):
        """The file's versions, newest first, the current content first: dicts with
        ``id``, ``time`` (UTC), ``size``, ``author``, ``current`` and ``kept`` (kept by
        Odoo, not by the cloud). The user must be able to read the file."""
        att = self._clouds_version_file()
        return [{**{k: v for k, v in entry.items() if k != "record"},
                 "time": fields.Datetime.to_string(entry["time"]) if entry["time"] else False}
                for entry in att._clouds_version_entries()]

    def clouds_version_restore(self, version_id):
        """Make version ``version_id`` (an id of :meth:`clouds_versions`) the file's
        current content on both sides; the user must be able to change the file."""
        att = self._clouds_version_file(write=True)
        entry = att._clouds_version_entry(version_id)
        if entry["current"]:
            raise UserError(_("This version is already the current content of “%s”.",
                              att.name))
        if version_id.startswith(CLOUD):
            att._clouds_restore_cloud(version_id[len(CLOUD):])
            direction = "down"
        else:
            att._clouds_restore_kept(entry["record"])
            direction = "up"
        when = entry["time"] and fields.Datetime.context_timestamp(
            self, entry["time"]).strftime("%Y-%m-%d %H:%M")
        self.env["clouds.log.operation"].sudo().create({
            "client_id": att.clouds_client_id.id, "kind": "restore", "direction": direction,
            "name": att.name, "attachment_id": att.id, "size": entry["size"],
            "path_after": _("version of %(when)s restored by %(user)s",
                            when=when or "?", user=self.env.user.name),
        })
        return True

    # ---------------------------------------------------------------- helpers
    def _clouds_version_file(self, write=False):
        """The one file, sudo, after checking the user may receive its bytes (and, with
        ``write``, change it: Odoo's own check on the linked record and this module's
        folder access)."""
        self.ensure_one()
        att = self._clouds_check_servable()
        if write:
            self.check("write")
            self.check_access("write")
        if att.type != "binary":
            raise UserError(_("“%s” is a link, not a file: it has no versions.", att.name))
        if write and att.clouds_state in ("linked", "missing"):
            # not the suite's file: its owners in the cloud decide what it contains
            raise UserError(_("“%s” is linked from the cloud: restore its versions in the "
                              "cloud itself.", att.name))
        return att

    def _clouds_version_provider(self):
        """The provider of the file's connection, or a clear error when it cannot be used
        now (not connected, paused, a copied database)."""
        client = self.clouds_client_id.sudo()
        if not client._cloud_ready():
            raise UserError(_(
                "The connection “%(name)s” is not ready (%(state)s): the versions of "
                "“%(file)s” cannot be reached now.", name=client.name, file=self.name,
                state=dict(client._fields["state"]._description_selection(self.env))[
                    client.state]))
        return client._cloud_shared_provider()

    def _clouds_cloud_versions(self):
        """The cloud's versions of this synced file, or None where the cloud keeps none."""
        if not (self.clouds_client_id and self.clouds_remote_id):
            return None
        try:
            return self._clouds_version_provider().versions(self.clouds_remote_id)
        except Unsupported:
            return None
        except NotFound as exc:
            raise UserError(_("“%(name)s” is no longer in the cloud: %(error)s",
                              name=self.name, error=exc)) from exc
        except CloudError as exc:
            raise UserError(_("The versions of “%(name)s” cannot be read from the cloud: "
                              "%(error)s", name=self.name, error=exc)) from exc

    def _clouds_version_entries(self):
        """(self: sudo, checked) The listing: the cloud's versions, or the current content
        where the cloud keeps none; then the versions Odoo kept."""
        cloud = self._clouds_cloud_versions()
        if cloud is None:
            entries = [{"id": CURRENT, "time": self.write_date, "size": self.file_size,
                        "author": _author(self).name or "", "current": True,
                        "kept": False}]
        else:
            entries = [{"id": CLOUD + v.id, "time": _naive_utc(v.modified), "size": v.size,
                        "author": v.author or "", "current": v.current, "kept": False}
                       for v in cloud]
        for kept in self.env["clouds.file.version"].sudo().search(
                [("attachment_id", "=", self.id)]):
            entries.append({"id": f"{KEPT}{kept.id}", "time": kept.content_date,
                            "size": kept.file_size, "author": kept.author_id.name or "",
                            "current": False, "kept": True, "record": kept})
        return entries

    def _clouds_version_entry(self, version_id):
        """The listing's entry of ``version_id``; refused unless the file's own listing
        gives it (a kept version is looked up by its file, never by id alone)."""
        version_id = str(version_id or "")
        if version_id.startswith(KEPT):
            kept = self.env["clouds.file.version"].sudo().search([
                ("attachment_id", "=", self.id),
                ("id", "=", int(version_id[len(KEPT):]) if version_id[len(KEPT):].isdigit()
                 else 0)])
            if kept:
                return {"id": version_id, "time": kept.content_date, "size": kept.file_size,
                        "current": False, "record": kept}
        else:
            for entry in self._clouds_version_entries():
                if entry["id"] == version_id:
                    return entry
        raise MissingError(_("This version of “%s” does not exist (any more).", self.name))

    def _clouds_version_stream(self, version_id):
        """(chunks, size, file name, mimetype) of one version, for the download route."""
        att = self._clouds_version_file()
        entry = att._clouds_version_entry(version_id)
        if version_id == CURRENT:
            return att._clouds_stream(), att._clouds_http_size(), att.name, att.mimetype
        if "record" in entry:
            content = entry["record"]._clouds_content()
            return content._clouds_stream(), content.file_size, att.name, att.mimetype
        provider, remote_id = att._clouds_version_provider(), att.clouds_remote_id
        vid = version_id[len(CLOUD):]
        failed = _("This version of “%(name)s” cannot be read from the cloud", name=att.name)
        chunks = _cloud_chunks(lambda: provider.download_version(remote_id, vid), failed)
        return chunks, entry["size"] or None, att.name, att.mimetype

    def _clouds_sync_record(self):
        return self.env["clouds.sync.record"].sudo().search([
            ("client_id", "=", self.clouds_client_id.id), ("key", "=", f"a{self.id}")])

    def _clouds_restore_cloud(self, vid):
        """Restore in the cloud, then Odoo's copy follows: content (streamed into the
        filestore, when Odoo keeps the bytes), size, checksum, remote version and hash,
        and the sync record, so that the next sync sees nothing to do."""
        record = self._clouds_sync_record()
        if record and not self._clouds_link_only() and record.local_content \
                and record.local_content != self.checksum:
            raise UserError(_("“%s” has changes in Odoo that are not synced yet: let the "
                              "sync send them first, then restore.", self.name))
        provider = self._clouds_version_provider()
        try:
            item = provider.restore_version(self.clouds_remote_id, vid)
            spooled = None
            if not self._clouds_link_only():
                spooled = self._clouds_spool().fill(provider.download(item.id))
        except Unsupported as exc:
            raise UserError(_("The cloud of “%(name)s” keeps no versions: %(error)s",
                              name=self.name, error=exc)) from exc
        except CloudError as exc:
            raise UserError(_("“%(name)s” could not be restored in the cloud: %(error)s",
                              name=self.name, error=exc)) from exc
        quiet = self.with_context(clouds_no_reset=True, **{NO_MARK: True})
        if spooled is not None:
            if spooled.size != item.size:
                spooled.discard()
                raise UserError(_("The restored “%s” came back with another size than the "
                                  "cloud says; nothing was changed in Odoo.", self.name))
            quiet._clouds_store_spooled(spooled, clouds_verified=fields.Datetime.now())
        else:
            quiet._clouds_set_size(item.size)
        quiet.write({"clouds_remote_id": item.id, "clouds_version": item.version,
                     "clouds_hash": item.content_hash})
        if record:
            record.write({"remote_id": item.id, "remote_version": item.version,
                          "local_content": self.checksum or False})

    def _clouds_restore_kept(self, kept):
        """Write a kept version's content locally (the content it replaces is kept as a
        version first); the sync uploads it as any local change."""
        if self._clouds_link_only():  # the current bytes are only in the cloud: fetch them
            current = self._clouds_spool().fill(self._clouds_open_stream())
            self.env["clouds.file.version"]._clouds_keep(self, current)
        else:
            self.env["clouds.file.version"]._clouds_keep(self)
        spooled = self._clouds_spool().fill(kept._clouds_content()._clouds_stream())
        self.with_context(clouds_no_reset=True)._clouds_store_spooled(
            spooled, clouds_state="local", clouds_verified=False)

