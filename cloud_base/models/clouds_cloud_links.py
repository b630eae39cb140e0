"""Where a synced file or folder opens in the cloud.

The file manager's cards and tree show that an item is synced from the link the provider
reported when it was last synced (``clouds_link``, written by the sync executor), read
from the records' own field so they pay no query per item. "Open in the cloud" asks the
provider at click time instead (``clouds_open_in_cloud``), for the link the connection's
options call for: a public share, its audience, a presigned lifetime.

Who gets which link (see docs/DECISIONS.md, "Link options at click time"): only a user
who may receive the file's bytes (``_clouds_check_servable``) or see the folder gets a
link at all; a link that shares the item (a public or organisation-wide link, made on
the provider) needs write access to the file or folder, or the Cloud Storage
administrator group. Anyone else gets the internal link, which opens only for people
who already have access in the cloud.
"""

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError

from cloud_sync.providers.errors import CloudError, NotFound

ADMIN = "cloud_base.group_clouds_admin"
# Where an item lives in the cloud: set by the sync (as superuser) only. A user who could
# write them on a file or folder of theirs would point it at any remote item of the
# connection and then download it, or get a public link to it, through Odoo.
REMOTE_FIELDS = {"clouds_client_id", "clouds_remote_id", "clouds_link"}


def _check_remote_fields(records, vals_list):
    """Refuse the remote identity fields in ``vals_list`` unless written by the sync."""
    if records.env.su:
        return
    written = sorted(REMOTE_FIELDS & {key for vals in vals_list for key in vals})
    if written:
        raise AccessError(_("Only the sync may set where an item lives in the cloud (%s).",
                            ", ".join(written)))


def _may_share(records):
    """Write access to ``records`` (as the current user), or Cloud Storage administrator.
    For files, the write access of Odoo's ``ir.attachment.write`` (the linked record's):
    in Odoo 18 ``has_access`` does not look at the linked record."""
    if records.env.user.has_group(ADMIN):
        return True
    if not records.has_access("write"):
        return False
    if records._name == "ir.attachment":
        try:
            records.check("write")
        except AccessError:
            return False
    return True


class IrAttachment(models.Model):
    _inherit = "ir.attachment"

    clouds_client_name = fields.Char(
        string="Cloud Connection", compute="_compute_clouds_client_name",
        help="The connection a synced file is on (empty: the file is only in Odoo).")

    def _compute_clouds_client_name(self):
        """The connection's name for the cards' badge (its record is for administrators)."""
        for att in self:
            att.clouds_client_name = bool(att._clouds_cloud_url()) and (
                att.sudo().clouds_client_id.name or False)

    @api.model_create_multi
    def create(self, vals_list):
        _check_remote_fields(self, vals_list)
        return super().create(vals_list)

    def write(self, vals):
        _check_remote_fields(self, [vals])
        return super().write(vals)

    def _clouds_cloud_url(self):
        self.ensure_one()
        return (self.clouds_client_id and self.clouds_link) or super()._clouds_cloud_url()

    def clouds_open_in_cloud(self):
        """RPC of "Open in the cloud": the file's link, asked of the provider now."""
        self.ensure_one()
        att = self._clouds_check_servable()  # sudo; AccessError when the bytes are not ours
        if not (att.clouds_client_id and att.clouds_remote_id):
            raise UserError(_("“%s” is not synced with a cloud.", att.name))
        return att.clouds_client_id._cloud_open_link(
            att.clouds_remote_id, att.name, may_share=_may_share(self))


class CloudsFolder(models.Model):
    _inherit = "clouds.folder"

    @api.model_create_multi
    def create(self, vals_list):
        _check_remote_fields(self, vals_list)
        return super().create(vals_list)

    def write(self, vals):
        _check_remote_fields(self, [vals])
        return super().write(vals)

    def _clouds_cloud_url(self):
        self.ensure_one()
        return (self.client_id and self.clouds_link) or super()._clouds_cloud_url()

    def _clouds_fm_nodes(self):
        """A synced folder's node names its connection (the tree's badge)."""
        nodes = super()._clouds_fm_nodes()
        for node, folder in zip(nodes, self, strict=True):
            node["client_name"] = bool(node["cloud_url"]) and (
                folder.sudo().client_id.name or False)
        return nodes

    def clouds_open_in_cloud(self):
        """RPC of "Open in the cloud" on a folder: its link, asked of the provider now."""
        self.ensure_one()
        if not self.search([("id", "=", self.id)]):  # the folder visibility of _search
            raise AccessError(_("You cannot see this folder."))
        folder = self.sudo()
        if not (folder.client_id and folder.clouds_remote_id):
            raise UserError(_("“%s” is not synced with a cloud.", folder.name))
        return folder.client_id._cloud_open_link(
            folder.clouds_remote_id, folder.name, may_share=_may_share(self))


class CloudsClient(models.Model):
    _inherit = "clouds.client"

    def _cloud_link_options(self):
        """The link options of this connection for "Open in the cloud", as keyword
        arguments of the provider's ``link``: ``public`` (a link that shares the item),
        ``audience`` (``anyone`` or ``organization``), ``expires_in`` (seconds).
        Provider addons override this for their key; here: the internal link."""
        self.ensure_one()
        return {"public": False}

    def _cloud_open_link(self, remote_id, name, may_share):
        """The link of the remote item ``remote_id`` (called in sudo, after the caller
        checked the user may open the item). A link that would share the item is made
        only when ``may_share`` and on the database the connection was made on;
        otherwise the internal link."""
        self.ensure_one()
        if self.state not in ("connected", "paused"):
            raise UserError(_("The connection “%s” is not connected: its files cannot be "
                              "opened in the cloud now.", self.name))
        options = dict(self._cloud_link_options())
        # a copied database (a test copy) reads the cloud but changes nothing there
        copied = self.sudo().database_uuid != self._database_uuid()
        if options.get("public") and (copied or not may_share):
            options = {"public": False}
        try:
            return self._cloud_shared_provider().link(remote_id, **options)
        except NotFound as exc:
            raise UserError(_("“%(name)s” is no longer in the cloud: %(error)s",
                              name=name, error=exc)) from exc
        except CloudError as exc:
            raise UserError(_("The cloud gave no link to “%(name)s”: %(error)s",
                              name=name, error=exc)) from exc
