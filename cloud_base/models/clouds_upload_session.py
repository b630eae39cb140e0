"""Where an interrupted large upload continues (``cloud_sync.providers.base.Resume``).

One row per (connection, attachment) while a chunked upload is under way: the small
state the provider hands back after its session started and after each committed chunk
(a session URL or id; the server is asked how far it got, never this row), with the
checksum of the content being sent. Each save commits in its own short transaction, so
a worker killed in the middle of a 200 MB upload leaves the row behind, and the next
run continues the provider's session instead of starting over. The row goes when the
upload finished or the provider found the session forgotten; one made for other
content is ignored (and replaced by the next upload's).
"""

import logging

from odoo import SUPERUSER_ID, api, fields, models
from odoo.tools import mute_logger

_logger = logging.getLogger(__name__)


class CloudsUploadSession(models.Model):
    _name = "clouds.upload.session"
    _description = "Cloud Upload Session"
    _order = "id"

    client_id = fields.Many2one("clouds.client", string="Connection", required=True,
                                ondelete="cascade", index=True)
    attachment_id = fields.Many2one("ir.attachment", string="File", required=True,
                                    ondelete="cascade")
    checksum = fields.Char(help="Odoo checksum (SHA-1) of the content being uploaded.")
    state = fields.Json(help="What the provider needs to continue its upload session.")

    @api.model
    def _of_client(self, client):
        """{attachment id: (checksum, state)} of a connection's uploads under way."""
        rows = self.sudo().search_fetch([("client_id", "=", client.id)],
                                        ["attachment_id", "checksum", "state"])
        return {row.attachment_id.id: (row.checksum, row.state) for row in rows}

    @api.model
    def _save(self, client_id, attachment_id, checksum, state):
        """Store (or, with no ``state``, delete) one upload's state in a transaction of
        its own. A row our own transaction holds (an attachment or connection created
        in it, not committed yet) is not waited for: the state is then stored in the
        current transaction, as the tokens are (``clouds.client._cloud_store_tokens``)."""
        try:
            with self.env.registry.cursor() as cr, mute_logger("odoo.sql_db"):
                cr.execute("SET LOCAL lock_timeout = '500ms'")
                self.with_env(api.Environment(cr, SUPERUSER_ID, {}))._store(
                    client_id, attachment_id, checksum, state)
            if state is not None:
                return
            # a state stored by the fallback below is not visible from the other cursor
        except Exception:  # noqa: BLE001 - stored in the current transaction below
            _logger.info("clouds.client %s: upload state of attachment %s stored in the "
                         "current transaction", client_id, attachment_id)
        self.sudo()._store(client_id, attachment_id, checksum, state)

    def _store(self, client_id, attachment_id, checksum, state):
        rows = self.search([("client_id", "=", client_id), ("attachment_id", "=", attachment_id)])
        if state is None:
            rows.unlink()
        elif rows:
            rows[1:].unlink()
            rows[:1].write({"checksum": checksum, "state": state})
        else:
            self.create({"client_id": client_id, "attachment_id": attachment_id,
                         "checksum": checksum, "state": state})
