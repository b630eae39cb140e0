"""Sync statistics: one row per task run, written by the run (see ``clouds.log._record``),
so the dashboard and its charts read stored numbers, never the logs or the files."""

from odoo import _, api, fields, models
from odoo.tools import SQL

HISTORY_PARAM = "cloud_base.history_days"
HISTORY_DAYS = 90
ADMIN = "cloud_base.group_clouds_admin"
FILE_COUNTS = ("files_synced", "bytes_synced", "files_waiting", "bytes_waiting",
               "bytes_cloud_only")  # from ``clouds.client._clouds_file_counts``


class CloudsSyncStat(models.Model):
    _name = "clouds.sync.stat"
    _description = "Cloud Sync Statistics"
    _order = "date desc, id desc"
    _rec_name = "date"

    client_id = fields.Many2one("clouds.client", string="Connection", required=True,
                                index=True, ondelete="cascade")
    log_id = fields.Many2one("clouds.log", string="Log", index="btree_not_null",
                             ondelete="set null")
    task_type = fields.Char(string="Task")
    level = fields.Selection(
        [("info", "Done"), ("warning", "Retry"), ("error", "Failure")], default="info")
    date = fields.Datetime(string="Started", required=True, index=True)
    duration = fields.Float(string="Duration (s)", digits=(16, 2), aggregator="avg")
    operations = fields.Integer()
    ops_up = fields.Integer(string="Operations Up", help="Changes made in the cloud.")
    ops_down = fields.Integer(string="Operations Down", help="Changes made in Odoo.")
    failures = fields.Integer()
    bytes_up = fields.Float(string="Bytes Up", digits=(16, 0))
    bytes_down = fields.Float(string="Bytes Down", digits=(16, 0))
    bytes_moved = fields.Float(string="Bytes Moved", digits=(16, 0))
    requests = fields.Integer(string="API Requests")
    # The connection's files when the run ended (a snapshot, not a sum: averaged).
    files_synced = fields.Integer(aggregator="max")
    files_waiting = fields.Integer(aggregator="max")
    files_failed = fields.Integer(aggregator="max")
    bytes_synced = fields.Float(digits=(16, 0), aggregator="max")
    bytes_waiting = fields.Float(digits=(16, 0), aggregator="max")
    bytes_cloud_only = fields.Float(
        string="Bytes Only in the Cloud", digits=(16, 0), aggregator="max",
        help="Bytes of the files whose binary left the filestore: space saved in Odoo.")

    def init(self):
        # the dashboard's latest row per connection (see _compute_last_stat_id)
        self.env.cr.execute(
            "CREATE INDEX IF NOT EXISTS clouds_sync_stat_latest_index "
            "ON clouds_sync_stat (client_id, date DESC, id DESC)")

    @api.model
    def _record(self, log, result, seconds):
        """The run's row, with the connection's files counted now (one grouped query)."""
        client = log.client_id.sudo()
        idle = not (result.get("ops") or result.get("failed")) and log.level == "info"
        files = (idle and self._latest_file_counts(client)) or client._clouds_file_counts()
        up, down = result.get("ops_up", 0), result.get("ops_down", 0)
        stat = self.sudo().create({
            "client_id": client.id, "log_id": log.id, "task_type": log.task_type,
            "level": log.level, "date": fields.Datetime.subtract(
                fields.Datetime.now(), seconds=int(seconds)),
            "duration": seconds, "operations": result.get("ops", 0), "ops_up": up,
            "ops_down": down, "failures": result.get("failed", 0),
            "bytes_up": result.get("bytes_up", 0), "bytes_down": result.get("bytes_down", 0),
            "bytes_moved": result.get("bytes_up", 0) + result.get("bytes_down", 0),
            "requests": result.get("requests", 0),
            "files_failed": result.get("files_failed", 0), **files,
        })
        client.invalidate_recordset()  # the dashboard's computed numbers: read again
        return stat

    @api.model
    def _latest_file_counts(self, client):
        """The file counts of the connection's latest row, for a run that did nothing:
        nothing it counted changed, and counting grows with the tree (50 ms for 20,000
        files here, most of a cycle with nothing to do). One indexed read. A change that
        leaves no change mark (a file deleted before its first upload) shows at the next
        run that does something."""
        latest = self.sudo().search_fetch([("client_id", "=", client.id)], FILE_COUNTS,
                                          limit=1)
        return latest and {name: latest[name] for name in FILE_COUNTS}

    @api.model
    def _history_days(self):
        value = self.env["ir.config_parameter"].sudo().get_param(HISTORY_PARAM)
        try:
            return max(1, int(value or HISTORY_DAYS))
        except ValueError:
            return HISTORY_DAYS

    @api.autovacuum
    def _gc_history(self):
        """Runs, their statistics and their operations older than the setting go (plain
        DELETEs: lines and rows have nothing to clean up after them)."""
        limit = fields.Datetime.subtract(fields.Datetime.now(), days=self._history_days())
        self.env.flush_all()
        for table, column in (("clouds_log_operation", "create_date"),
                              ("clouds_sync_stat", "date"), ("clouds_log", "create_date")):
            self.env.execute_query(SQL("DELETE FROM %s WHERE %s < %s",
                                       SQL.identifier(table), SQL.identifier(column), limit))
        self.env.invalidate_all()


class CloudsClientStat(models.Model):
    _inherit = "clouds.client"

    # The dashboard's numbers: administrators only, as the dashboard.
    # Computed together from the latest statistics row (not related fields: a related
    # field on a computed one makes Odoo warn at every start that it cannot search it).
    last_stat_id = fields.Many2one("clouds.sync.stat", string="Last Run",
                                   compute="_compute_last_stat_id", groups=ADMIN)
    last_run_date = fields.Datetime(string="Last Run At", compute="_compute_last_stat_id",
                                    groups=ADMIN)
    last_run_duration = fields.Float(string="Duration (s)", digits=(16, 2),
                                     compute="_compute_last_stat_id", groups=ADMIN)
    last_run_operations = fields.Integer(string="Operations", compute="_compute_last_stat_id",
                                         groups=ADMIN)
    last_run_failures = fields.Integer(string="Failures", compute="_compute_last_stat_id",
                                       groups=ADMIN)
    last_run_requests = fields.Integer(string="API Requests", compute="_compute_last_stat_id",
                                       groups=ADMIN)
    last_run_level = fields.Selection(
        [("info", "Done"), ("warning", "Retry"), ("error", "Failure")], string="Level",
        compute="_compute_last_stat_id", groups=ADMIN)
    files_synced = fields.Integer(string="Files Synced", compute="_compute_last_stat_id",
                                  groups=ADMIN)
    files_waiting = fields.Integer(string="Files Waiting", compute="_compute_last_stat_id",
                                   groups=ADMIN)
    files_failed = fields.Integer(string="Files Failed", compute="_compute_last_stat_id",
                                  groups=ADMIN)
    bytes_synced = fields.Float(string="Bytes Synced", digits=(16, 0),
                                compute="_compute_last_stat_id", groups=ADMIN)
    bytes_waiting = fields.Float(string="Bytes Waiting", digits=(16, 0),
                                 compute="_compute_last_stat_id", groups=ADMIN)
    bytes_cloud_only = fields.Float(
        string="Bytes Only in the Cloud", digits=(16, 0), compute="_compute_last_stat_id",
        groups=ADMIN,
        help="Bytes of the files whose binary left the filestore: space saved in Odoo.")
    tasks_waiting = fields.Integer(compute="_compute_task_counts", groups=ADMIN)
    tasks_running = fields.Integer(compute="_compute_task_counts", groups=ADMIN)
    tasks_failed = fields.Integer(compute="_compute_task_counts", groups=ADMIN)

    def _compute_last_stat_id(self):
        """The latest row of each connection, for every card in one query. Not a stored
        pointer: two workers running folder tasks of one connection would both write it
        (a serialization failure for one of them)."""
        Stat = self.env["clouds.sync.stat"]
        Stat.flush_model(["client_id", "date"])
        ids = [client.id for client in self if client.id]
        latest = dict(self.env.execute_query(SQL(
            "SELECT DISTINCT ON (client_id) client_id, id FROM clouds_sync_stat "
            "WHERE client_id = ANY(%s) ORDER BY client_id, date DESC, id DESC", ids)))
        for client in self:
            stat = Stat.browse(latest.get(client.id))
            client.last_stat_id = stat
            client.last_run_date = stat.date
            client.last_run_level = stat.level
            for name in ("duration", "operations", "failures", "requests"):
                client[f"last_run_{name}"] = stat[name]
            for name in ("files_synced", "files_waiting", "files_failed", "bytes_synced",
                         "bytes_waiting", "bytes_cloud_only"):
                client[name] = stat[name]

    def _compute_task_counts(self):
        """One grouped query for every card shown."""
        counts = {(client.id, state): n for client, state, n in
                  self.env["clouds.queue"].sudo()._read_group(
                      [("client_id", "in", self.ids),
                       ("state", "in", ("pending", "running", "failed"))],
                      ["client_id", "state"], ["__count"])}
        for client in self:
            client.tasks_waiting = counts.get((client.id, "pending"), 0)
            client.tasks_running = counts.get((client.id, "running"), 0)
            client.tasks_failed = counts.get((client.id, "failed"), 0)

    def _clouds_file_counts(self):
        """The connection's files by sync state, with their bytes."""
        self.ensure_one()
        groups = self.env["ir.attachment"].sudo()._read_group(
            ["|", ("clouds_client_id", "=", self.id), ("clouds_folder_id.client_id", "=", self.id),
             ("type", "=", "binary")],
            ["clouds_state"], ["__count", "file_size:sum"])
        by_state = {state: (count, size or 0) for state, count, size in groups}
        synced = [by_state.get(s, (0, 0)) for s in ("synced", "link")]
        waiting = by_state.get("local", (0, 0))
        return {"files_synced": sum(c for c, _s in synced),
                "bytes_synced": sum(s for _c, s in synced),
                "files_waiting": waiting[0], "bytes_waiting": waiting[1],
                "bytes_cloud_only": by_state.get("link", (0, 0))[1]}

    def action_open_last_log(self):
        """The last run's log, with its operations."""
        self.ensure_one()
        self.check_access("write")
        log = self.last_stat_id.log_id
        if not log:
            return False
        return {"type": "ir.actions.act_window", "res_model": "clouds.log",
                "res_id": log.id, "views": [(False, "form")], "name": _("Last Run")}

    def action_open_stats(self):
        """This connection's charts."""
        self.ensure_one()
        self.check_access("write")
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "cloud_base.action_clouds_sync_stats")
        action["domain"] = [("client_id", "=", self.id)]
        action["context"] = {"search_default_last_7_days": 1}
        return action
