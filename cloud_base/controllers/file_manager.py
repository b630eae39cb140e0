"""HTTP endpoints of the file manager: streamed zip archives, uploads into a folder, and
downloads of any file whether its binary is local or in the cloud."""

from odoo import _, http
from odoo.exceptions import AccessError, MissingError, UserError
from odoo.http import content_disposition, request
from werkzeug.exceptions import BadRequest, Forbidden

from ..zip_archive import zip_response


def _ids(text):
    try:
        return [int(i) for i in (text or "").split(",") if i.strip()]
    except ValueError as exc:
        raise BadRequest("ids must be integers separated by commas") from exc


def _internal_user():
    """The file manager is for employees: portal users and visitors are refused."""
    if not request.env.user._is_internal():
        raise Forbidden()


class FileManagerController(http.Controller):
    @http.route("/cloud_base/zip", type="http", auth="user", methods=["GET", "POST"])
    def zip(self, folder_id=None, tag_id=None, attachment_ids=None, **_kw):
        """Stream a zip of a folder (with its structure), a tag or a selection of files.

        A folder or tag the user cannot read, or a selected file whose bytes they may not
        receive, is refused; in a folder or a tag, the files they may not receive are
        left out. The archive is written while it is sent, in bounded memory.
        """
        _internal_user()
        env = request.env
        Attachment = env["ir.attachment"]
        try:
            if folder_id:
                folder = env["clouds.folder"].browse(_ids(folder_id)[:1])
                folder.check_access("read")
                layout, name = Attachment._clouds_zip_layout(folder=folder), folder.name
            elif tag_id:
                tag = env["clouds.tag"].browse(_ids(tag_id)[:1])
                tag.check_access("read")
                layout, name = Attachment._clouds_zip_layout(tag=tag), tag.name
            elif attachment_ids:
                atts = Attachment.browse(_ids(attachment_ids))
                atts._clouds_check_servable()
                layout, name = atts._clouds_zip_layout(), _("files")
            else:
                raise BadRequest("give folder_id, tag_id or attachment_ids")
        except (AccessError, MissingError) as exc:
            raise Forbidden(str(exc)) from exc
        return zip_response(layout.entries, name)

    @http.route("/cloud_base/download/<int:attachment_id>", type="http", auth="user")
    def download(self, attachment_id, **_kw):
        """Download one file, local or synced, streamed in chunks."""
        _internal_user()
        try:
            att = request.env["ir.attachment"].browse(attachment_id)._clouds_check_servable()
            stream = att._clouds_stream()
        except (AccessError, MissingError) as exc:
            raise Forbidden(str(exc)) from exc
        except UserError as exc:
            raise BadRequest(str(exc)) from exc
        size = att._clouds_http_size()
        response = request.make_response(stream, headers=[
            ("Content-Type", att.mimetype or "application/octet-stream"),
            ("Content-Disposition", content_disposition(att.name)),
            ("X-Content-Type-Options", "nosniff"),
        ])
        if size is not None:
            response.content_length = size
        response.direct_passthrough = True
        return response

    @http.route("/cloud_base/upload", type="http", auth="user", methods=["POST"])
    def upload(self, folder_id, **_kw):
        """Upload files (multipart field ``ufile``) into a folder; answers their ids, or
        ``{"error": reason}`` with the status (400, 403) when refused, for the screens
        to show the reason rather than a generic error."""
        if not request.env.user._is_internal():
            return _json_error(_("Only employees upload files here."), 403)
        try:
            ids = _ids(folder_id)[:1]
        except BadRequest:
            ids = []
        folder = request.env["clouds.folder"].browse(ids)
        files = request.httprequest.files.getlist("ufile")
        if not folder or not files:
            return _json_error(_("Choose a folder and at least one file to upload."), 400)
        try:
            atts = request.env["ir.attachment"]._clouds_upload(folder, files)
        except (AccessError, MissingError) as exc:
            request.env.cr.rollback()
            return _json_error(str(exc), 403)
        except UserError as exc:
            request.env.cr.rollback()
            return _json_error(str(exc), 400)
        return request.make_json_response({"ids": atts.ids})


def _json_error(reason, status):
    return request.make_json_response({"error": reason}, status=status)
