"""Where a synced file or folder opens in the cloud: the link the provider reported when
it was last synced (``clouds_link``, written by the sync executor). Read from the
records' own field, so the file manager's tree and cards pay no query per item."""

from odoo import models


class IrAttachment(models.Model):
    _inherit = "ir.attachment"

    def _clouds_cloud_url(self):
        self.ensure_one()
        return (self.clouds_client_id and self.clouds_link) or super()._clouds_cloud_url()


class CloudsFolder(models.Model):
    _inherit = "clouds.folder"

    def _clouds_cloud_url(self):
        self.ensure_one()
        return (self.client_id and self.clouds_link) or super()._clouds_cloud_url()
