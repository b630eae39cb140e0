"""Invite: email the share's link to its partners, creating portal users where asked."""

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError

TEMPLATE = "cloud_share.mail_template_share_invite"


class CloudsShareInvite(models.TransientModel):
    _name = "clouds.share.invite"
    _description = "Invite Partners to a Share"

    share_id = fields.Many2one("clouds.share", required=True, ondelete="cascade")
    line_ids = fields.One2many("clouds.share.invite.line", "wizard_id", string="Recipients",
                               compute="_compute_line_ids", store=True, readonly=False)
    message = fields.Text(string="Message")

    @api.depends("share_id")
    def _compute_line_ids(self):
        for wizard in self:
            wizard.line_ids = [fields.Command.clear()] + [
                fields.Command.create({"partner_id": p.id, "email": p.email})
                for p in wizard.share_id.partner_ids
            ]

    def action_send(self):
        self.ensure_one()
        lines = self.line_ids.filtered("send")
        if not lines:
            raise UserError(_("Choose at least one recipient."))
        missing = lines.filtered(lambda line: not (line.email or "").strip())
        if missing:
            raise UserError(_("These contacts have no email address: %s",
                              ", ".join(missing.partner_id.mapped("name"))))
        for line in lines.filtered(lambda line: line.email != line.partner_id.email):
            line.partner_id.email = line.email
        to_create = lines.filtered(lambda line: line.create_user and not line.has_user)
        if to_create:
            self._create_portal_users(to_create.partner_id)
        self.share_id._clouds_add_items(partners=lines.partner_id)
        template = self.env.ref(TEMPLATE)
        for partner in lines.partner_id:
            template.with_context(clouds_partner_id=partner.id, clouds_message=self.message)\
                .send_mail(self.share_id.id, email_values={"recipient_ids": [(6, 0, partner.ids)]})
        self.share_id.message_post(body=_("Invitation sent to %s.",
                                          ", ".join(lines.partner_id.mapped("name"))))
        return {"type": "ir.actions.act_window_close"}

    def _create_portal_users(self, partners):
        """Portal users made by Odoo's own portal wizard (its rights, its welcome email)."""
        if not self.env["portal.wizard"].has_access("create"):
            raise AccessError(_("Only contact managers can create portal users."))
        wizard = self.env["portal.wizard"].create({"partner_ids": [(6, 0, partners.ids)]})
        for user_line in wizard.user_ids:
            if not (user_line.is_portal or user_line.is_internal):
                user_line.action_grant_access()


class CloudsShareInviteLine(models.TransientModel):
    _name = "clouds.share.invite.line"
    _description = "Share Invitation Recipient"

    wizard_id = fields.Many2one("clouds.share.invite", required=True, ondelete="cascade")
    partner_id = fields.Many2one("res.partner", required=True)
    email = fields.Char()
    send = fields.Boolean(default=True)
    has_user = fields.Boolean(compute="_compute_has_user")
    create_user = fields.Boolean(string="Create Portal User")

    @api.depends("partner_id")
    def _compute_has_user(self):
        for line in self:
            line.has_user = bool(line.partner_id.sudo().user_ids)
