"""OneDrive / SharePoint connections: an msal confidential client (auth-code flow with
PKCE, or app-only for business drives); delegated to ``cloud_sync.providers.onedrive``."""

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError

from cloud_sync.providers import onedrive

ADMIN = "cloud_base.group_clouds_admin"
PARAM = "onedrive_sync."
MULTI_TENANT = ("common", "organizations", "consumers")


class CloudsClient(models.Model):
    _inherit = "clouds.client"

    provider = fields.Selection(selection_add=[("onedrive", "OneDrive / SharePoint")],
                                ondelete={"onedrive": "cascade"})
    od_client_id = fields.Char(string="Application (client) ID", groups=ADMIN)
    od_client_secret = fields.Char(string="Entra Client Secret", groups=ADMIN)
    od_tenant = fields.Char(string="Tenant", default="common", groups=ADMIN,
                            help="common, organizations, consumers or a tenant id.")
    od_app_only = fields.Boolean(string="App-only Access", groups=ADMIN,
                                 help="No user consent: the application's own permissions "
                                 "(business drives and SharePoint sites).")
    od_drive_type = fields.Selection([("personal", "OneDrive (personal)"),
                                      ("business", "OneDrive for Business"),
                                      ("sharepoint", "SharePoint document library")],
                                     string="Drive", default="business", groups=ADMIN)
    od_site_id = fields.Char(string="SharePoint Site ID", groups=ADMIN)
    od_drive_id = fields.Char(string="Drive ID", groups=ADMIN,
                              help="A document library; empty: the user's drive or the "
                              "site's default library.")
    od_link_scope = fields.Selection([("anonymous", "Anyone with the link"),
                                      ("organization", "People in the organisation")],
                                     string="OneDrive Links", default="organization", groups=ADMIN)
    od_graph_url = fields.Char(string="Graph URL", groups=ADMIN,
                               help="Empty: https://graph.microsoft.com/v1.0 (or the system "
                               "parameter onedrive_sync.graph_url); national clouds differ.")
    od_authority_url = fields.Char(string="Authority URL", groups=ADMIN,
                                   help="Empty: https://login.microsoftonline.com.")
    od_ca_bundle = fields.Char(string="Microsoft CA Bundle", groups=ADMIN,
                               help="Path of extra trusted certificates (a local server).")

    @api.constrains("od_app_only", "od_tenant")
    def _check_od_app_only_tenant(self):
        """The client credentials grant is issued by one tenant, never by ``common``."""
        for client in self.sudo():
            if client.od_app_only and (client.od_tenant or "common").lower() in MULTI_TENANT:
                raise ValidationError(_(
                    "App-only access acts in one organisation: give its tenant (the "
                    "directory id or a domain such as contoso.onmicrosoft.com) instead of "
                    "“%(tenant)s”.", tenant=client.od_tenant or "common"))

    def write(self, vals):
        """Switching app-only access on or off drops the tokens of the other mode."""
        if "od_app_only" in vals and any(
                c.sudo().od_app_only != bool(vals["od_app_only"]) for c in self):
            vals = {**vals, "token_json": False}
        return super().write(vals)

    def _od_waits_for_drive(self):
        """App-only access has no drive of its own: nothing to check before a library
        (or a drive id) is chosen."""
        me = self.sudo()
        return (self.provider == "onedrive" and me.od_app_only and not me.od_drive_id
                and not (me.od_drive_type == "sharepoint" and me.od_site_id))

    def _cloud_check_on_save(self):
        waiting = self.filtered(lambda c: c._od_waits_for_drive())
        return super(CloudsClient, self - waiting)._cloud_check_on_save()

    def _cloud_check_connection(self, provider):
        if self._od_waits_for_drive():
            raise UserError(_(
                "“%(name)s” uses app-only access, which has no drive of its own: choose a "
                "SharePoint library with “Choose drive” first.", name=self.name))
        return super()._cloud_check_connection(provider)

    @api.model
    def _cloud_credential_fields(self):
        return super()._cloud_credential_fields() | {
            "od_app_only", "od_drive_type", "od_site_id", "od_drive_id"}

    def _cloud_link_options(self):
        """"Open in the cloud": a view link for the chosen audience (OneDrive Links)."""
        if self.provider != "onedrive":
            return super()._cloud_link_options()
        anyone = self.sudo().od_link_scope == "anonymous"
        return {"public": True, "audience": "anyone" if anyone else "organization"}

    def _cloud_provider_config(self):
        if self.provider != "onedrive":
            return super()._cloud_provider_config()
        me = self.sudo()
        return {
            "client_id": me.od_client_id, "client_secret": me.od_client_secret,
            "tenant": me.od_tenant or "common", "app_only": me.od_app_only,
            "drive_type": me.od_drive_type or "business",
            "site_id": me.od_site_id or "", "drive_id": me.od_drive_id or "",
            "link_scope": me.od_link_scope, "timeout": 30,
            "graph_url": self._cloud_setting(me.od_graph_url, PARAM + "graph_url"),
            "authority_url": self._cloud_setting(me.od_authority_url, PARAM + "authority_url"),
            "ca_bundle": self._cloud_setting(me.od_ca_bundle, PARAM + "ca_bundle"),
        }

    def action_choose_onedrive_drive(self):
        """Pick the user's drive or a SharePoint site's library from Graph's lists
        (app-only connections pick their library before connecting)."""
        self.ensure_one()
        if not self.env.user.has_group(ADMIN):
            raise AccessError(_("Only cloud storage administrators choose the drive."))
        return self.env["onedrive_sync.drive.picker"].open_for(self)

    def _cloud_oauth_enabled(self):
        if self.provider != "onedrive":
            return super()._cloud_oauth_enabled()
        return not self.sudo().od_app_only

    def _cloud_oauth_start(self, redirect_uri, state):
        if self.provider != "onedrive":
            return super()._cloud_oauth_start(redirect_uri, state)
        flow = onedrive.start_connect(self._cloud_provider_config(), redirect_uri, state)
        return flow["auth_uri"], flow  # msal's flow (PKCE verifier) stays server-side

    def _cloud_oauth_finish(self, params, redirect_uri, data):
        if self.provider != "onedrive":
            return super()._cloud_oauth_finish(params, redirect_uri, data)
        result = onedrive.finish_connect(self._cloud_provider_config(), data, params)
        account = result.pop("account", "")
        return result, account
