"""Where an interrupted large upload continues (``cloud_sync.providers.base.Resume``).

One row per (connection, attachment) while a chunked upload is under way: the small
state the provider hands back after its session started and after each committed chunk
(a session URL or id; the server is asked how far it got, never this row), with the
checksum of the content being sent. Each save commits in its own short transaction, so
a worker killed in the middle of a 200 MB upload leaves the row behind, and the next
run continues the provider's session instead of starting over. The row goes when the
upload finished or the provider found the session forgotten. A session nobody will
finish (its file deleted, or changed so that a new upload replaced it, or left for a
week) is abandoned: the daily vacuum ends it on the server where the provider can (S3
bills the parts of an unfinished multipart upload forever), then drops the row.
"""

import logging
from datetime import timedelta

from odoo import SUPERUSER_ID, api, fields, models
from odoo.tools import mute_logger

from cloud_sync.providers.errors import CloudError, RetryLater

_logger = logging.getLogger(__name__)

ABANDONED_AFTER = timedelta(days=7)  # Drive, Dropbox and Box sessions expire after a week


class CloudsUploadSession(models.Model):
    _name = "clouds.upload.session"
    _description = "Cloud Upload Session"
    _order = "id"

    client_id = fields.Many2one("clouds.client", string="Connection", required=True,
                                ondelete="cascade", index=True)
    attachment_id = fields.Many2one(
        "ir.attachment", string="File", ondelete="set null", index="btree_not_null",
        help="Empty once the file was deleted, or its content changed: the session is "
             "abandoned and ended by the daily vacuum.")
    checksum = fields.Char(help="Odoo checksum (SHA-1) of the content being uploaded.")
    state = fields.Json(help="What the provider needs to continue its upload session.")

    @api.model
    def _of_client(self, client):
        """{attachment id: (checksum, state)} of a connection's uploads under way."""
        rows = self.sudo().search_fetch([("client_id", "=", client.id),
                                         ("attachment_id", "!=", False)],
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
        other_content = rows.filtered(lambda row: row.checksum != checksum)
        other_content.attachment_id = False  # its session is abandoned: see the vacuum
        rows -= other_content
        if state is None:
            rows.unlink()
        elif rows:
            rows[1:].unlink()
            rows[:1].write({"checksum": checksum, "state": state})
        else:
            self.create({"client_id": client_id, "attachment_id": attachment_id,
                         "checksum": checksum, "state": state})

    @api.autovacuum
    def _gc_abandoned_uploads(self, limit=200):
        """End abandoned sessions on the server, then forget them. A connection that is
        not connected keeps its rows for a later day; so does a session whose abort met
        a network error or throttling. Any other refusal is logged and the row dropped
        (the provider's own expiry, where it has one, does the rest)."""
        rows = self.sudo().search(["|", ("attachment_id", "=", False),
                                   ("write_date", "<", fields.Datetime.now() - ABANDONED_AFTER)],
                                  limit=limit)
        for client, sessions in rows.grouped("client_id").items():
            if client.state != "connected":
                continue
            provider = client._cloud_provider()
            try:
                for session in sessions:
                    try:
                        provider.abort_upload(session.state or {})
                    except RetryLater:
                        continue
                    except CloudError as error:
                        _logger.warning("clouds.client %s: abandoned upload not ended: %s",
                                        client.id, error)
                    session.unlink()
            finally:
                provider.close()
