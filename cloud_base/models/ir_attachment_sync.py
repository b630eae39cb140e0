"""Sync state of attachments, and reading a file whose binary lives only in the cloud.

After a verified upload the attachment keeps ``type='binary'``, its checksum and size; the
cleaner later drops only the stored bytes. Reading such a file (``raw``/``datas``,
``/web/content``, previews, zips) goes through :meth:`_clouds_open_stream`;
``/web/content`` and ``/web/image`` stream it (:class:`CloudStream`), ``raw`` and ``datas``
need the whole bytes.
"""

import filecmp
import mimetypes
import os
import uuid
from datetime import timedelta

from odoo import _, api, fields, models
from odoo.addons.base.models.ir_attachment import IrAttachment as BaseAttachment
from odoo.exceptions import UserError
from odoo.http import Stream, request
from odoo.tools import SQL
from werkzeug.exceptions import BadGateway
from werkzeug.exceptions import NotFound as HttpNotFound

from cloud_sync.providers.base import Item, Kind
from cloud_sync.providers.errors import CloudError, NotFound
from cloud_sync.spool import Spooled


def _download(provider, remote_id, failed):
    """The provider's chunks, asked for only when the first one is read; a provider error
    becomes ``failed: error`` (a translated prefix: no database is needed any more)."""
    try:
        yield from provider.download(remote_id)
    except CloudError as exc:
        raise UserError(f"{failed}: {exc}") from exc


class CloudStream(Stream):
    """The ``/web/content`` stream of a cloud-only file: the response's body is the
    provider's chunk iterator, read when the server sends it.

    Headers (type, name, ETag, caching, conditional 304) are Odoo's own: ``get_response``
    lets :class:`Stream` build them for an empty body, then puts the cloud body in. One
    metadata call before answering turns a file gone or a refused connection into an
    error response instead of a truncated 200. Code that needs the bytes (``data``: image
    resizing, sniffing) reads them whole, as before; ranges are not served (the whole file
    comes, with status 200).
    """

    type = "data"
    attachment = None
    _bytes = None

    @property
    def data(self):
        if self._bytes is None:
            self._bytes = b"".join(self.attachment._clouds_open_stream())
        return self._bytes

    @data.setter
    def data(self, value):
        self._bytes = value

    def get_response(self, as_attachment=None, immutable=None, **send_file_kwargs):
        if self._bytes is not None:  # already read (a resized image): Odoo's response
            return super().get_response(as_attachment, immutable, **send_file_kwargs)
        environ = dict(request.httprequest.environ)
        environ.pop("HTTP_RANGE", None)
        self._bytes = b""
        try:
            response = super().get_response(as_attachment, immutable,
                                             **dict(send_file_kwargs, environ=environ))
        finally:
            self._bytes = None
        if response.status_code != 200:  # 304 Not Modified: nothing to read
            return response
        size = self.attachment._clouds_http_check()
        response.response = self.attachment._clouds_download()
        response.headers.pop("Accept-Ranges", None)
        if size is None:
            response.headers.pop("Content-Length", None)
        else:
            response.content_length = size
        return response


class IrAttachment(models.Model):
    _inherit = "ir.attachment"

    clouds_remote_id = fields.Char(string="Remote ID", readonly=True, copy=False, index=True)
    clouds_client_id = fields.Many2one("clouds.client", string="Stored In", readonly=True,
                                       copy=False, ondelete="set null")
    clouds_version = fields.Char(string="Remote Version", readonly=True, copy=False)
    clouds_hash = fields.Char(string="Remote Hash", readonly=True, copy=False)
    clouds_link = fields.Char(string="Remote Link", readonly=True, copy=False)
    clouds_state = fields.Selection(
        [("local", "Not synced"), ("synced", "Synced (binary kept)"), ("link", "Cloud only")],
        string="Sync State", default="local", readonly=True, copy=False, index=True)
    clouds_verified = fields.Datetime(
        string="Upload Verified", readonly=True, copy=False,
        help="When size and hash of the remote copy were checked; the cleaner removes the "
        "binary only after this plus the connection's grace period.")

    def _clouds_link_only(self):
        """True if the bytes are only in the cloud (cleaned, or created by backward sync)."""
        self.ensure_one()
        return bool(self.clouds_remote_id and self.clouds_client_id
                    and not self.store_fname and not self.db_datas)

    def _clouds_open_stream(self):
        """The content of a cloud-only file, streamed from its provider in chunks (the
        hook of the file manager's ``_clouds_stream``, ``raw`` and ``/web/content``)."""
        self.ensure_one()
        if not self._clouds_link_only():
            return super()._clouds_open_stream()
        return self._clouds_download()

    def _clouds_download(self):
        """The chunks of a cloud-only file. Everything the database knows is read now; the
        provider is asked when the first chunk is read, so a streamed response iterated
        after the request's cursor is closed needs none."""
        att = self.sudo()
        provider = att.clouds_client_id._cloud_shared_provider()
        failed = _("“%(name)s” cannot be read from the cloud", name=att.name)
        return _download(provider, att.clouds_remote_id, failed)

    def _clouds_http_size(self):
        """Before a route streams ``_clouds_stream``: for a cloud-only file, its remote size
        (None if unknown) after checking it can be read (else the 404/502 of
        :meth:`_clouds_http_check`, before any byte); None for a local file."""
        self.ensure_one()
        return self._clouds_http_check() if self._clouds_link_only() else None

    def _clouds_http_check(self):
        """Before answering a download: the remote size (None if the provider has none),
        or an HTTP error saying why the file cannot be read."""
        att = self.sudo()
        try:
            item = att.clouds_client_id._cloud_shared_provider().metadata(att.clouds_remote_id)
        except NotFound as exc:
            raise HttpNotFound(_("“%(name)s” is no longer in the cloud: %(error)s",
                                 name=att.name, error=exc)) from exc
        except CloudError as exc:
            raise BadGateway(_("“%(name)s” cannot be read from the cloud: %(error)s",
                               name=att.name, error=exc)) from exc
        return item.size

    def _compute_raw(self):
        cloud = self.filtered(lambda a: a.id and a._clouds_link_only())
        for att in cloud:
            att.raw = b"".join(att._clouds_open_stream())
        return super(IrAttachment, self - cloud)._compute_raw()

    def _to_http_stream(self):
        if not self._clouds_link_only():
            return super()._to_http_stream()
        return CloudStream(
            attachment=self, size=self.file_size,
            mimetype=self.mimetype or mimetypes.guess_type(self.name or "")[0]
            or "application/octet-stream",
            download_name=self.name, etag=self.checksum, public=self.public,
            last_modified=self.write_date)

    def _clouds_set_size(self, size):
        """A cloud-only file changed remotely: its size, and no checksum (Odoo's ``write``
        ignores both fields)."""
        self.flush_recordset()
        self.env.execute_query(SQL(
            "UPDATE ir_attachment SET file_size = %s, checksum = NULL WHERE id = ANY(%s)",
            size, self.ids))
        self.invalidate_recordset(["file_size", "checksum"])

    def _clouds_fetch_binaries(self):
        """Bring the bytes of cloud-only files back into Odoo (reverse sync), streamed into
        the filestore; checked against the checksum Odoo kept, when it kept one."""
        for att in self.sudo().filtered(lambda a: a._clouds_link_only()):
            exported = att._clouds_export_native()
            if exported:  # a provider-native document (Google Docs...): an office file
                data, name = exported
                att.with_context(clouds_no_reset=True).write({
                    "raw": data, "name": name, "clouds_state": "local",
                    "mimetype": mimetypes.guess_type(name)[0] or "application/octet-stream"})
                continue
            spooled = att._clouds_spool().fill(att._clouds_open_stream())
            if att.checksum and spooled.checksum != att.checksum:
                spooled.discard()
                raise UserError(_("“%s” came back from the cloud with other content than Odoo "
                                  "synced; nothing was changed.", att.name))
            att.with_context(clouds_no_reset=True)._clouds_store_spooled(
                spooled, clouds_state="synced")

    @api.model
    def _clouds_spool(self):
        """A :class:`Spooled` in the filestore's directory (a rename stores it there). Its
        name is put on Odoo's garbage-collection checklist first: a run that dies before
        storing it leaves nothing behind once the filestore is collected."""
        fname = f"clouds_spool/{uuid.uuid4().hex}"
        self._mark_for_gc(fname)
        return Spooled(self._full_path(fname), os.path.join(self._full_path("checklist"), fname))

    def _clouds_store_spooled(self, spooled, **vals):
        """Make a spooled download this attachment's content, as writing ``raw`` would
        (checksum, size, filestore file, ``index_content``, the old file left to Odoo's
        garbage collection), without reading it into memory: the file is renamed into
        place. Text files are indexed from their first MiB. With database storage the
        bytes go to a column: they are read whole, as Odoo needs them."""
        self.ensure_one()
        try:
            if self._storage() == "db":
                with open(spooled.path, "rb") as data:
                    return self.write({"raw": data.read(), **vals})
            checksum = spooled.checksum
            fname = f"{checksum[:2]}/{checksum}"
            full_path = self._full_path(fname)
            os.makedirs(os.path.dirname(full_path), exist_ok=True)
            if os.path.isfile(full_path):
                if not filecmp.cmp(spooled.path, full_path, shallow=False):  # as _get_path
                    raise UserError(_("The attachment collides with an existing file."))
            else:
                os.replace(spooled.path, full_path)
                self._mark_for_gc(fname)  # as _file_write: in case the transaction aborts
            old = self.store_fname
            if vals:
                self.write(vals)
            mimetype = vals.get("mimetype") or self.mimetype
            # the fields ir.attachment.write refuses, written as Odoo's _set_attachment_data does
            super(BaseAttachment, self.sudo()).write({
                "file_size": spooled.size, "checksum": checksum, "store_fname": fname,
                "db_datas": False,
                "index_content": self._index(spooled.head, mimetype, checksum=checksum)})
            if old and old != fname:
                self._file_delete(old)
            self._clouds_mark()  # new content, as a write of raw marks it (clouds_change)
        finally:
            spooled.discard()
        return True

    def _clouds_export_native(self):
        """(bytes, file name) of a provider-native document converted for Odoo, or None
        (the connection's ``_cloud_export_native`` hook decides, from the MIME type)."""
        self.ensure_one()
        client = self.clouds_client_id
        item = Item(self.clouds_remote_id, self.name, Kind.FILE, mime_type=self.mimetype)
        return client._cloud_export_native(client._cloud_shared_provider(), item)

    def write(self, vals):
        if ("raw" in vals or "datas" in vals) and not self.env.context.get("clouds_no_reset"):
            vals = dict(vals, clouds_state="local", clouds_verified=False)
        return super().write(vals)

    @api.model
    def _cron_clouds_clean(self, limit=1000):
        """Drop binaries of verified uploads older than their connection's grace period.

        Only the stored bytes go (checksum, size and the link stay); never before the
        upload was verified.
        """
        now = fields.Datetime.now()
        candidates = self.sudo().search([
            ("clouds_state", "=", "synced"), ("clouds_verified", "!=", False),
            ("clouds_client_id", "!=", False)], limit=limit, order="clouds_verified")
        due = candidates.filtered(lambda a: a.clouds_verified + timedelta(
            days=a.clouds_client_id.grace_days) <= now)
        fnames = [a.store_fname for a in due if a.store_fname]
        if due:
            self.flush_model()
            self.env.execute_query(SQL(
                "UPDATE ir_attachment SET store_fname = NULL, db_datas = NULL, "
                "clouds_state = 'link' WHERE id = ANY(%s)", due.ids))
            due.invalidate_recordset()
            for fname in fnames:
                self._file_delete(fname)
        return len(due)
