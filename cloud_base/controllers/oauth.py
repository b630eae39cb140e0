"""The OAuth redirect endpoints shared by the SaaS provider addons (see
``clouds_client_oauth``): start sends to the consent page, callback comes back from it."""

import logging

from markupsafe import escape
from odoo import http
from odoo.exceptions import AccessError, UserError
from odoo.http import request
from werkzeug.exceptions import Forbidden, NotFound

_logger = logging.getLogger(__name__)


class CloudsOAuthController(http.Controller):
    @http.route("/cloud_base/oauth/start/<int:client_id>", type="http", auth="user",
                methods=["GET"])
    def start(self, client_id):
        client = request.env["clouds.client"].browse(client_id).exists()
        if not client:
            raise NotFound()
        try:
            url = client._cloud_oauth_begin(request.session)
        except AccessError as exc:
            raise Forbidden(str(exc)) from exc
        return request.redirect(url, local=False)

    @http.route("/cloud_base/oauth/callback", type="http", auth="user", methods=["GET"])
    def callback(self, **params):
        try:
            client = request.env["clouds.client"]._cloud_oauth_complete(params, request.session)
        except AccessError as exc:
            raise Forbidden(str(exc)) from exc
        except UserError as exc:
            _logger.info("OAuth callback refused: %s", exc)
            request.env.cr.rollback()
            return request.make_response(
                f"<h1>Not connected</h1><p>{escape(str(exc))}</p>"
                '<p><a href="/odoo/action-cloud_base.action_clouds_clients">Back</a></p>',
                status=400, headers=[("Content-Type", "text/html; charset=utf-8")])
        return request.redirect(f"/odoo/action-cloud_base.action_clouds_clients/{client.id}")
