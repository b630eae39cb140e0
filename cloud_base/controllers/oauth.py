"""The OAuth redirect endpoints shared by the SaaS provider addons (see
``clouds_client_oauth``): start sends to the consent page, callback comes back from it."""

import logging

from markupsafe import escape
from odoo import _, http
from odoo.exceptions import AccessError, UserError
from odoo.http import request
from werkzeug.exceptions import NotFound

from ..models.clouds_client_oauth import ConnectFailed

BACK = "/odoo/action-cloud_base.action_clouds_clients"


def _page(title, reason, status):
    """A small readable page: what happened, and the way back to the connections."""
    return request.make_response(
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{escape(title)}</title>"
        "</head><body style='font-family: sans-serif; max-width: 40em; margin: 3em auto'>"
        f"<h1>{escape(title)}</h1><p>{escape(reason)}</p>"
        f"<p><a href='{BACK}'>{escape(_('Back to the cloud connections'))}</a></p>"
        "</body></html>",
        status=status, headers=[("Content-Type", "text/html; charset=utf-8")])

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
            return _page(_("Not allowed"), str(exc), 403)
        except UserError as exc:
            request.env.cr.rollback()
            return _page(_("Not connected"), str(exc), 400)
        return request.redirect(url, local=False)

    @http.route("/cloud_base/oauth/callback", type="http", auth="user", methods=["GET"])
    def callback(self, **params):
        try:
            client = request.env["clouds.client"]._cloud_oauth_complete(params, request.session)
        except AccessError as exc:
            return _page(_("Not allowed"), str(exc), 403)
        except UserError as exc:
            _logger.info("OAuth callback refused: %s", exc)
            request.env.cr.rollback()
            if isinstance(exc, ConnectFailed):  # kept on the connection
                request.env["clouds.client"].browse(exc.client_id)._cloud_connect_failed(
                    str(exc))
            return _page(_("Not connected"), str(exc), 400)
        return request.redirect(f"{BACK}/{client.id}")
