"""HTTP endpoints of the file manager: streamed zip archives, uploads into a folder, and
downloads of any file whether its binary is local or in the cloud."""

import zipstream
from odoo import http
from odoo.exceptions import AccessError, MissingError, UserError
from odoo.http import content_disposition, request
from werkzeug.exceptions import BadRequest, Forbidden


def _ids(text):
    try:
        return [int(i) for i in (text or "").split(",") if i.strip()]
    except ValueError as exc:
        raise BadRequest("ids must be integers separated by commas") from exc


class FileManagerController(http.Controller):
    @http.route("/cloud_base/zip", type="http", auth="user", methods=["GET", "POST"])
    def zip(self, folder_id=None, tag_id=None, attachment_ids=None, **_kw):
        """Stream a zip of a folder (with its structure), a tag or a selection of files.

        The archive is written while it is sent (zipstream-ng, stored entries), so the
        worker's memory does not grow with its size. Ids the user cannot read are refused.
        """
        env = request.env
        Attachment = env["ir.attachment"]
        folder = tag = None
        try:
            if folder_id:
                folder = env["clouds.folder"].browse(_ids(folder_id)[:1])
                folder.check_access("read")
                plan = Attachment._clouds_zip_plan(folder=folder)
            elif tag_id:
                tag = env["clouds.tag"].browse(_ids(tag_id)[:1])
                tag.check_access("read")
                plan = Attachment._clouds_zip_plan(tag=tag)
            elif attachment_ids:
                atts = Attachment.browse(_ids(attachment_ids))
                atts.check_access("read")
                plan = atts._clouds_zip_plan()
            else:
                raise BadRequest("give folder_id, tag_id or attachment_ids")
            archive = zipstream.ZipStream(compress_type=zipstream.ZIP_STORED)
            for name, att in plan:
                if att is None:
                    archive.mkdir(name)
                else:
                    archive.add(att._clouds_stream(), name, size=att.file_size or None)
        except (AccessError, MissingError) as exc:
            raise Forbidden(str(exc)) from exc
        except UserError as exc:
            raise BadRequest(str(exc)) from exc
        filename = Attachment._clouds_zip_name(folder=folder, tag=tag)
        response = request.make_response(archive, headers=[
            ("Content-Type", "application/zip"),
            ("Content-Disposition", content_disposition(filename)),
            ("X-Content-Type-Options", "nosniff"),
        ])
        response.direct_passthrough = True
        return response

    @http.route("/cloud_base/download/<int:attachment_id>", type="http", auth="user")
    def download(self, attachment_id, **_kw):
        """Download one file, local or synced, streamed in chunks."""
        att = request.env["ir.attachment"].browse(attachment_id)
        try:
            att.check_access("read")
            stream = att._clouds_stream()
        except (AccessError, MissingError) as exc:
            raise Forbidden(str(exc)) from exc
        except UserError as exc:
            raise BadRequest(str(exc)) from exc
        size = att._clouds_http_size()
        response = request.make_response(stream, headers=[
            ("Content-Type", att.sudo().mimetype or "application/octet-stream"),
            ("Content-Disposition", content_disposition(att.sudo().name)),
            ("X-Content-Type-Options", "nosniff"),
        ])
        if size is not None:
            response.content_length = size
        response.direct_passthrough = True
        return response

    @http.route("/cloud_base/upload", type="http", auth="user", methods=["POST"])
    def upload(self, folder_id, **_kw):
        """Upload files (multipart field ``ufile``) into a folder; answers their ids."""
        folder = request.env["clouds.folder"].browse(_ids(folder_id)[:1])
        files = request.httprequest.files.getlist("ufile")
        if not folder or not files:
            raise BadRequest("give folder_id and at least one ufile")
        try:
            atts = request.env["ir.attachment"]._clouds_upload(folder, files)
        except (AccessError, MissingError) as exc:
            raise Forbidden(str(exc)) from exc
        return request.make_json_response({"ids": atts.ids})
