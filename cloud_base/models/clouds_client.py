"""Cloud connections (``clouds.client``) and the contract each provider addon implements.

A provider addon adds its key to ``provider`` (``selection_add``), its credential and
option fields, and overrides :meth:`_cloud_provider_config` for its key, returning the
``cloud_sync`` config. Everything else (the provider object, retries, token storage, the
root folder, the database binding, pausing) lives here, once.
"""

import json
import logging
import threading

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import mute_logger

from cloud_sync.providers import make_provider
from cloud_sync.providers.errors import CloudError
from cloud_sync.retry import RetryPolicy

_logger = logging.getLogger(__name__)

ADMIN = "cloud_base.group_clouds_admin"
ROOT_NAME = "Odoo"
_THREAD = threading.local()


class CloudsClient(models.Model):
    _name = "clouds.client"
    _description = "Cloud Storage Connection"
    _inherit = ["mail.thread"]
    _order = "sequence, id"

    name = fields.Char(required=True, tracking=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    provider = fields.Selection([], required=True, string="Provider")
    state = fields.Selection(
        [
            ("draft", "Not connected"),
            ("connected", "Connected"),
            ("paused", "Paused"),
            ("needs_reconnect", "Needs reconnect"),
        ],
        default="draft",
        required=True,
        tracking=True,
        copy=False,
    )
    pause_reason = fields.Text(readonly=True, copy=False)
    root_name = fields.Char(
        default=ROOT_NAME,
        string="Root Folder",
        help="The remote folder (below the storage's root) that holds this connection's "
        "folders; created on connect if missing, or an existing one picked by name.",
    )
    remote_root = fields.Char(string="Root Option", readonly=True, copy=False, groups=ADMIN,
                              help="The provider's ``root`` option (a path or an id).")
    remote_root_id = fields.Char(readonly=True, copy=False, groups=ADMIN)
    token_json = fields.Text(copy=False, groups=ADMIN, help="Refreshed OAuth tokens.")
    database_uuid = fields.Char(
        readonly=True, copy=False, groups=ADMIN,
        help="The database this connection was made on: a copy of the database does not "
        "sync until an administrator confirms.",
    )
    cursor = fields.Text(copy=False, groups=ADMIN, help="Change-feed cursor of the last run.")
    last_sync = fields.Datetime(readonly=True, copy=False)
    deletion_guard = fields.Float(
        default=50.0,
        string="Deletion Guard (%)",
        help="A backward sync that would delete more than this share of the connection's "
        "synced items (and more than 5) pauses the connection instead.",
    )
    grace_days = fields.Integer(
        default=7,
        string="Keep Binaries (days)",
        help="Days a verified upload keeps its binary in Odoo before the cleaner removes it.",
    )
    transfer_pool = fields.Integer(
        default=8,
        string="Parallel Transfers",
        help="Uploads, downloads and remote changes a sync run makes side by side (1: one "
        "at a time). The connection slows down by itself when the provider throttles it.",
    )
    # Every folder that syncs here: set on the folder, on its rule or inherited from a
    # parent (``client_id``), not only those that name the connection (``own_client_id``).
    folder_ids = fields.One2many("clouds.folder", "client_id", string="Synced Folders",
                                 readonly=True)
    record_ids = fields.One2many("clouds.sync.record", "client_id", string="Sync Records")

    _sql_constraints = [
        ("transfer_pool_range", "CHECK(transfer_pool BETWEEN 1 AND 32)",
         "Parallel transfers must be between 1 and 32."),
    ]

    # ---------------------------------------------------------------- the addon contract

    def _cloud_provider_config(self):
        """The ``cloud_sync`` config of this connection (credentials included).

        Each provider addon overrides this for its key and calls ``super()`` otherwise.
        """
        raise UserError(_("No provider addon handles “%s”.", self.provider))

    def _cloud_check_connection(self, provider):
        """A cheap call (one listing page) that fails with a typed error when the
        credentials or options are wrong."""
        next(iter(provider.list_children(provider.root_id)), None)

    @api.model
    def _cloud_credential_fields(self):
        """Fields whose change is checked against the provider on save (addons extend)."""
        return set()

    def _cloud_export_native(self, provider, item):
        """Hook for reverse sync: bytes and a file name for a provider-native document
        (Google Docs...), or None to download it as is."""
        return None

    # ---------------------------------------------------------------- the provider

    def _cloud_retry_policy(self):
        """The one policy of every call (tests pass a faster one in the context)."""
        if policy := self.env.context.get("clouds_retry_policy"):
            return policy
        return RetryPolicy(max_attempts=5, initial_delay=0.5, max_total=60.0)

    def _cloud_provider(self, root=None, retry=None):
        """A new provider of this connection, bound to its remote root folder."""
        self.ensure_one()
        return self._cloud_make_provider(self._cloud_config(root), retry)

    def _cloud_config(self, root=None):
        me = self.sudo()
        config = dict(me._cloud_provider_config())
        if me.token_json:
            config.update(json.loads(me.token_json))
        config["root"] = (me.remote_root or "") if root is None else root
        if timeout := self.env.context.get("clouds_timeout"):  # tests: a short one
            config["timeout"] = timeout
        return config

    def _cloud_make_provider(self, config, retry=None):
        return make_provider(
            self.provider, config,
            retry=retry or self._cloud_retry_policy(),
            on_token_refresh=self._cloud_store_tokens,
        )

    def _cloud_shared_provider(self):
        """The provider kept by this worker thread for this connection and config, so a
        cycle with nothing to do does not pay for logging in again. Never close it."""
        self.ensure_one()
        config = self._cloud_config()
        key = (self.env.cr.dbname, self.id, json.dumps(config, sort_keys=True, default=str))
        cache = _THREAD.__dict__.setdefault("providers", {})
        provider = cache.get(key)
        if provider is None:
            for old in [k for k in cache if k[:2] == key[:2]]:
                cache.pop(old).close()  # the config changed (new tokens, new options)
            provider = cache[key] = self._cloud_make_provider(config)
        provider.retry = self._cloud_retry_policy()
        return provider

    def _cloud_store_tokens(self, credentials):
        """Store refreshed tokens at once, in their own transaction under a row lock, so a
        rotated refresh token survives a later rollback and two workers never lose one."""
        payload = json.dumps(credentials)
        try:
            with self.env.registry.cursor() as cr:
                # Our own transaction may hold the row (it wrote the client): do not wait
                # for ourselves, store it in the current transaction then.
                cr.execute("SET LOCAL lock_timeout = '2s'")
                with mute_logger("odoo.sql_db"):
                    cr.execute(
                        "SELECT id FROM clouds_client WHERE id = %s FOR UPDATE", [self.id])
                if cr.fetchone():
                    cr.execute(
                        "UPDATE clouds_client SET token_json = %s WHERE id = %s",
                        [payload, self.id])
                    self.invalidate_recordset(["token_json"])
                    return
        except Exception:  # noqa: BLE001 - fall back on the current transaction below
            _logger.warning("clouds.client %s: tokens stored in the current transaction",
                            self.id, exc_info=True)
        # Not committed yet (created in this very transaction): store it here.
        self.sudo().token_json = payload

    # ---------------------------------------------------------------- connect and check

    @api.model_create_multi
    def create(self, vals_list):
        clients = super().create(vals_list)
        for client, vals in zip(clients, vals_list, strict=True):
            if self._cloud_credential_fields() & vals.keys():
                client._cloud_check_on_save()
        return clients

    def write(self, vals):
        result = super().write(vals)
        if self._cloud_credential_fields() & vals.keys():
            self._cloud_check_on_save()
        return result

    def _cloud_check_on_save(self):
        if not self.env.context.get("clouds_no_check"):
            self.action_check_connection()

    @api.model
    def _database_uuid(self):
        return self.env["ir.config_parameter"].sudo().get_param("database.uuid")

    def action_connect(self):
        """Check the credentials, create or pick the root folder and bind the database;
        a notification says what was connected (account, storage, root folder)."""
        self.check_access("write")
        lines = []
        for client in self:
            provider = client._cloud_provider(root="")
            try:
                client._cloud_check_connection(provider)
                root = provider.ensure_folder(provider.root_id, client.root_name or ROOT_NAME)
                root_option = root.extra.get("path") or root.id
                bound = client._cloud_provider(root=root_option)
                root_id = bound.root_id  # the id the provider reports as its items' parent
                bound.close()
            except CloudError as exc:
                raise UserError(_("Cannot connect “%(name)s”: %(error)s",
                                  name=client.name, error=exc)) from exc
            finally:
                provider.close()
            client.sudo().write({
                "remote_root": root_option, "remote_root_id": root_id,
                "state": "connected", "pause_reason": False,
                "database_uuid": self._database_uuid(), "cursor": False,
            })
            client.message_post(body=_("Connected; root folder “%s”.", root.name))
            lines.append(_("“%(name)s” is connected: %(where)s.", name=client.name,
                           where="; ".join(client._cloud_where(provider))))
        return self._cloud_notification(_("Connected"), "\n".join(lines))

    @api.model
    def _cloud_notification(self, title, message):
        """A success notification for a button, then a close action: it closes a wizard,
        and Odoo reloads the form that called the button (the state it changed)."""
        return {"type": "ir.actions.client", "tag": "display_notification", "params": {
            "type": "success", "title": title, "message": message,
            "next": {"type": "ir.actions.act_window_close"}}}

    def action_check_connection(self):
        """Check each connection; a notification says what answered (account, storage,
        root folder) when all work, an error says why otherwise."""
        self.check_access("write")
        lines = [client._cloud_check_one() for client in self]
        return self._cloud_notification(_("Connection checked"), "\n".join(lines))

    def _cloud_check_one(self):
        """Check this connection: what answered, in a sentence, or a ``UserError``."""
        self.ensure_one()
        provider = self._cloud_provider(root="")
        try:
            self._cloud_check_connection(provider)
            where = self._cloud_where(provider)
        except CloudError as exc:
            raise UserError(_("The connection “%(name)s” does not work: %(error)s",
                              name=self.name, error=exc)) from exc
        finally:
            provider.close()
        if not where:
            return _("“%(name)s” works.", name=self.name)
        return _("“%(name)s” works: %(where)s.", name=self.name, where="; ".join(where))

    def _cloud_where(self, provider):
        """What the connection reaches, in words, for the check's notification: the
        account, the storage, the root folder. Provider addons add what they know."""
        self.ensure_one()
        if self.state != "draft" and self.root_name:
            return [_("root folder “%s”", self.root_name)]
        return []

    def action_reconnect(self):
        """Resume a paused connection (after fixing what its chatter says)."""
        self.check_access("write")
        self.action_check_connection()
        stopped = self.filtered(lambda c: c.state in ("paused", "needs_reconnect"))
        self.sudo().write({"state": "connected", "pause_reason": False})
        for client in stopped:
            client.message_post(body=_("Sync resumed."),
                                subtype_xmlid="cloud_base.mt_clouds_resumed")
        return True

    def action_confirm_database(self):
        """An administrator confirms this database (a copy) may sync this connection."""
        self.check_access("write")
        self.sudo().write({"database_uuid": self._database_uuid()})
        return self.action_reconnect()

    def action_reset(self):
        """Disconnect: a reverse task brings every binary back, then the records go."""
        self.check_access("write")
        self.env["clouds.queue"]._enqueue(self, "reverse")
        return True

    def _cloud_pause(self, reason, state="paused", guard=False):
        """Stop syncing this connection and say why: one message to the followers (the
        "Sync stopped" subtype) when it stops, none while it stays stopped (a later run or
        another folder task of the same run only updates the reason). ``guard``: the
        deletion guard stopped it."""
        for client in self:
            was = client.state
            client.sudo().write({"state": state, "pause_reason": reason})
            _logger.warning("clouds.client %s paused: %s", client.id, reason)
            if was == state:
                continue
            if guard:
                body = _("Sync paused by the deletion guard: %s", reason)
            elif state == "needs_reconnect":
                body = _("Sync paused, the connection needs reconnecting: %s", reason)
            else:
                body = _("Sync paused: %s", reason)
            client.message_post(body=body, subtype_xmlid="cloud_base.mt_clouds_stopped")

    def _cloud_ready(self):
        """True if this connection may sync now (it pauses itself on a copied database)."""
        self.ensure_one()
        if self.state != "connected":
            return False
        if self.sudo().database_uuid != self._database_uuid():
            self._cloud_pause(_(
                "This database is not the one the connection was made on (a copy?). An "
                "administrator must confirm it before anything syncs."))
            return False
        return True
