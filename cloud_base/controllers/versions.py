"""Download of one version of a file (the Versions dialog): the version id must be one the
file's own listing gives, and the bytes are streamed."""

from odoo import http
from odoo.exceptions import AccessError, MissingError, UserError
from odoo.http import content_disposition, request
from werkzeug.exceptions import BadRequest, Forbidden

from .file_manager import _internal_user


class VersionsController(http.Controller):
    @http.route("/cloud_base/version/<int:attachment_id>/<path:version_id>", type="http",
                auth="user")
    def version(self, attachment_id, version_id, **_kw):
        """One version of a file, streamed, with the file's name and type."""
        _internal_user()
        try:
            chunks, size, name, mimetype = request.env["ir.attachment"].browse(
                attachment_id)._clouds_version_stream(version_id)
        except (AccessError, MissingError) as exc:  # as /cloud_base/download: no probing
            raise Forbidden(str(exc)) from exc
        except UserError as exc:
            raise BadRequest(str(exc)) from exc
        response = request.make_response(chunks, headers=[
            ("Content-Type", mimetype or "application/octet-stream"),
            ("Content-Disposition", content_disposition(name)),
            ("X-Content-Type-Options", "nosniff"),
        ])
        if size is not None:
            response.content_length = size
        response.direct_passthrough = True
        return response
