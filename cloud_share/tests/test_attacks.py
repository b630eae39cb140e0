"""Attacks that must fail: every user who must not pass, against every route and RPC path
of the suite that serves or changes files (issue: access hardening).

Each protected file holds a unique marker; an attack passes only if the answer has the
expected refusal status and no byte of any marker (zips are stored, not compressed, so a
leaked file would show in the body as it is).
"""

import re

from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tests.common import JsonRpcException

CSRF = re.compile(r'csrf_token: "([^"]+)"')
# Markers of the files nobody below may receive.
RECORD_SECRET = b"MARK-record-of-a-secret-partner"
PRIVATE_SECRET = b"MARK-private-file-of-the-victim"
TEAM_SECRET = b"MARK-file-in-the-team-folder"
ARCHIVED_SECRET = b"MARK-file-in-an-archived-folder"
BURIED_SECRET = b"MARK-file-under-an-archived-folder"
SECRETS = (RECORD_SECRET, PRIVATE_SECRET, TEAM_SECRET, ARCHIVED_SECRET, BURIED_SECRET)


class AttackSetup:
    """Victims' files, attackers of every kind, and shares between them."""

    @classmethod
    def setup_attack(cls):
        env = cls.env
        Folder, Attachment = env["clouds.folder"], env["ir.attachment"]
        # Members of this group cannot read the partner with ref SECRET.
        cls.blind = env["res.groups"].create({"name": "Attack test: no secret partner"})
        env["ir.rule"].create({
            "name": "Attack test: no secret partner",
            "model_id": env.ref("base.model_res_partner").id,
            "groups": [Command.link(cls.blind.id)],
            "domain_force": "[('ref', '!=', 'SECRET')]",
        })
        cls.team = env["res.groups"].create({"name": "Attack test team"})
        fm, admin = "cloud_base.group_clouds_user", "cloud_base.group_clouds_admin"
        cls.victim = new_test_user(env, "victim", groups=fm)
        cls.victim.groups_id = [Command.link(cls.team.id)]
        cls.employee = new_test_user(env, "atk_employee", groups="base.group_user")
        cls.fm_user = new_test_user(env, "atk_fm", groups=fm)
        cls.cloud_admin = new_test_user(env, "atk_cloudadmin", groups=admin)
        for user in (cls.employee, cls.fm_user, cls.cloud_admin):
            user.groups_id = [Command.link(cls.blind.id)]
        cls.portal = new_test_user(env, "atk_portal", groups="base.group_portal")
        cls.portal_other = new_test_user(env, "atk_portal2", groups="base.group_portal")

        cls.p_secret = env["res.partner"].create({"name": "Secret Ltd", "ref": "SECRET"})
        cls.p_ok = env["res.partner"].create({"name": "Open Ltd"})
        cls.open_folder = Folder.create({"name": "Everyone"})
        cls.team_folder = Folder.create(
            {"name": "Team", "group_ids": [Command.link(cls.team.id)]})
        cls.tag = env["clouds.tag"].create({"name": "Mixed"})

        # A file of a record the attackers cannot read, in a folder everyone sees.
        cls.a_record = Attachment.create({
            "name": "contract.txt", "raw": RECORD_SECRET, "res_model": "res.partner",
            "res_id": cls.p_secret.id, "clouds_folder_id": cls.open_folder.id,
            "clouds_tag_ids": [Command.link(cls.tag.id)],
        })
        # The victim's own file without a record: only its creator may read it.
        cls.a_private = Attachment.with_user(cls.victim).create({
            "name": "diary.txt", "raw": PRIVATE_SECRET,
        })
        cls.a_private.sudo().write({"clouds_folder_id": cls.open_folder.id,
                                    "clouds_tag_ids": [Command.link(cls.tag.id)]})
        # A readable record's file, in a folder only the team sees.
        cls.a_team = Attachment.create({
            "name": "team.txt", "raw": TEAM_SECRET, "res_model": "res.partner",
            "res_id": cls.p_ok.id, "clouds_folder_id": cls.team_folder.id,
            "clouds_tag_ids": [Command.link(cls.tag.id)],
        })
        # A file everyone may read, carrying the same tag.
        cls.a_open = Attachment.create({
            "name": "open.txt", "raw": b"open to all", "res_model": "res.partner",
            "res_id": cls.p_ok.id, "clouds_folder_id": cls.open_folder.id,
            "clouds_tag_ids": [Command.link(cls.tag.id)],
        })

        # The attacker's own shared tree, with an archived branch inside.
        cls.shared = Folder.create({"name": "Shared"})
        cls.archived = Folder.create({"name": "Old", "parent_id": cls.shared.id})
        cls.buried = Folder.create({"name": "Below old", "parent_id": cls.archived.id})
        cls.a_shared = Attachment.create({
            "name": "shared.txt", "raw": b"shared content", "res_model": "res.partner",
            "res_id": cls.p_ok.id, "clouds_folder_id": cls.shared.id,
        })
        cls.a_archived = Attachment.create({
            "name": "archived.txt", "raw": ARCHIVED_SECRET, "res_model": "res.partner",
            "res_id": cls.p_ok.id, "clouds_folder_id": cls.archived.id,
        })
        cls.a_buried = Attachment.create({
            "name": "buried.txt", "raw": BURIED_SECRET, "res_model": "res.partner",
            "res_id": cls.p_ok.id, "clouds_folder_id": cls.buried.id,
        })
        # A bare write: the archive action would archive the subtree too.
        cls.archived.write({"active": False})

        Share = env["clouds.share"]
        # The victim's share of the team folder, for their portal partner only.
        cls.victim_share = Share.with_user(cls.victim).create({
            "name": "Victim's share", "folder_ids": [Command.link(cls.team_folder.id)],
            "partner_ids": [Command.link(cls.portal.partner_id.id)],
        }).sudo()
        # The attacker's legitimate share: the shared tree, the mixed tag, a file alone.
        cls.fm_share = Share.with_user(cls.fm_user).create({
            "name": "Attacker's share", "folder_ids": [Command.link(cls.shared.id)],
            "tag_ids": [Command.link(cls.tag.id)],
            "attachment_ids": [Command.link(cls.a_open.id)],
            "partner_ids": [Command.link(cls.portal_other.partner_id.id)],
            "allow_upload": True, "allow_create": True,
        }).sudo()


@tagged("post_install", "-at_install")
class TestAttacks(HttpCase, AttackSetup):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_attack()

    # ---------------------------------------------------------------- helpers

    def login(self, user):
        if user:
            self.authenticate(user.login, user.login)
        else:
            self.authenticate(None, None)

    def refused(self, url, statuses=(403, 404), data=None, files=None):
        """GET (or POST ``data``) ``url``: the answer is one of ``statuses`` (a redirect
        to the login page counts as refused when 303 is given) and holds no marker."""
        response = self.url_open(url, data=data, files=files, allow_redirects=False)
        self.assertIn(response.status_code, statuses, f"{url}: {response.text[:200]}")
        for secret in SECRETS:
            self.assertNotIn(secret, response.content, url)
        return response

    def body(self, url):
        """The body of an answer that must succeed (and then must leak nothing)."""
        response = self.url_open(url, allow_redirects=False)
        self.assertEqual(response.status_code, 200, f"{url}: {response.text[:200]}")
        for secret in SECRETS:
            self.assertNotIn(secret, response.content, url)
        return response.content

    def rpc(self, model, method, *args, **kwargs):
        return self.make_jsonrpc_request("/web/dataset/call_kw", {
            "model": model, "method": method, "args": list(args), "kwargs": kwargs,
        })

    def rpc_refused(self, model, method, *args, **kwargs):
        with self.assertRaises(JsonRpcException) as caught:
            self.rpc(model, method, *args, **kwargs)
        self.assertIn(caught.exception.args[0], ("odoo.exceptions.AccessError",
                                                 "odoo.exceptions.ValidationError"))

    def csrf(self):
        return CSRF.search(self.url_open("/web/login").text).group(1)

    def share_url(self, share, path="", **params):
        params.setdefault("access_token", share.access_token)
        query = "&".join(f"{k}={v}" for k, v in params.items() if v is not None)
        return f"/my/shares/{share.id}{path}" + (f"?{query}" if query else "")

    # ---------------------------------------------------------------- 1. download route

    def test_fm_download_record_file_refused_to_employee(self):
        self.login(self.employee)
        self.refused(f"/cloud_base/download/{self.a_record.id}")

    def test_fm_download_record_file_refused_to_file_manager_user(self):
        self.login(self.fm_user)
        self.refused(f"/cloud_base/download/{self.a_record.id}")

    def test_fm_download_record_file_refused_to_cloud_admin(self):
        self.login(self.cloud_admin)
        self.refused(f"/cloud_base/download/{self.a_record.id}")

    def test_fm_download_private_file_refused(self):
        for user in (self.employee, self.fm_user, self.cloud_admin):
            self.login(user)
            self.refused(f"/cloud_base/download/{self.a_private.id}")

    def test_fm_download_hidden_folder_file_refused(self):
        self.login(self.fm_user)
        self.refused(f"/cloud_base/download/{self.a_team.id}")

    def test_fm_download_refused_to_portal_and_anonymous(self):
        self.login(self.portal)
        self.refused(f"/cloud_base/download/{self.a_record.id}")
        self.login(None)
        self.refused(f"/cloud_base/download/{self.a_record.id}", statuses=(303,))

    def test_fm_download_allowed_file_still_works(self):
        self.login(self.fm_user)
        self.assertEqual(self.body(f"/cloud_base/download/{self.a_open.id}"), b"open to all")
        self.login(self.victim)
        self.assertEqual(self.url_open(f"/cloud_base/download/{self.a_private.id}").content,
                         PRIVATE_SECRET)

    def test_fm_zip_selection_with_forbidden_file_refused(self):
        self.login(self.fm_user)
        self.refused(f"/cloud_base/zip?attachment_ids={self.a_open.id},{self.a_record.id}")
        self.refused(f"/cloud_base/zip?attachment_ids={self.a_private.id}")

    def test_fm_zip_folder_leaves_out_unreadable_files(self):
        self.login(self.fm_user)
        body = self.body(f"/cloud_base/zip?folder_id={self.open_folder.id}")
        self.assertIn(b"open to all", body)

    def test_fm_zip_tag_leaves_out_unreadable_files(self):
        for user in (self.employee, self.fm_user):
            self.login(user)
            body = self.body(f"/cloud_base/zip?tag_id={self.tag.id}")
            self.assertIn(b"open to all", body)

    def test_fm_zip_tag_for_cloud_admin_follows_records(self):
        """A Cloud Storage administrator sees every folder, never another's records."""
        self.login(self.cloud_admin)
        response = self.url_open(f"/cloud_base/zip?tag_id={self.tag.id}")
        self.assertEqual(response.status_code, 200)
        self.assertIn(TEAM_SECRET, response.content)
        self.assertNotIn(RECORD_SECRET, response.content)
        self.assertNotIn(PRIVATE_SECRET, response.content)

    def test_fm_zip_hidden_folder_refused(self):
        self.login(self.fm_user)
        self.refused(f"/cloud_base/zip?folder_id={self.team_folder.id}")

    def test_fm_zip_refused_to_portal(self):
        self.login(self.portal)
        self.refused(f"/cloud_base/zip?folder_id={self.open_folder.id}")
        self.refused(f"/cloud_base/zip?tag_id={self.tag.id}")

    def test_web_content_matches_the_same_decision(self):
        """Odoo's own route refuses what the suite's routes refuse."""
        self.login(self.fm_user)
        for att in (self.a_record, self.a_private, self.a_team):
            self.refused(f"/web/content/{att.id}?download=true")
        self.assertEqual(self.body(f"/web/content/{self.a_open.id}"), b"open to all")

    def test_public_file_is_served_to_anyone_as_odoo_does(self):
        public = self.env["ir.attachment"].create({
            "name": "brochure.txt", "raw": b"public brochure", "public": True,
            "res_model": "res.partner", "res_id": self.p_secret.id,
            "clouds_folder_id": self.open_folder.id,
        })
        for user in (self.fm_user, self.employee):
            self.login(user)
            self.assertEqual(self.body(f"/cloud_base/download/{public.id}"), b"public brochure")
            self.assertEqual(self.body(f"/web/content/{public.id}"), b"public brochure")

    def test_file_manager_rpc_hides_unreadable_files(self):
        self.login(self.fm_user)
        found = self.rpc("ir.attachment", "search_read",
                         [("clouds_folder_id", "=", self.open_folder.id)], fields=["name"])
        self.assertEqual({r["name"] for r in found}, {"open.txt"})
        with self.assertRaises(JsonRpcException):
            self.rpc("ir.attachment", "read", [self.a_record.id], ["raw"])

    def test_rpc_folder_cannot_be_tied_to_a_record(self):
        """A folder tied to a record by hand would collect that record's attachments."""
        self.login(self.fm_user)
        self.rpc_refused("clouds.folder", "create", {
            "name": "trap", "res_model": "res.partner", "res_id": self.p_ok.id})
        self.rpc_refused("clouds.folder", "write", [self.shared.id], {
            "res_model": "res.partner", "res_id": self.p_ok.id})
        self.assertFalse(self.shared.res_model)

    # ---------------------------------------------------------------- 2. shares over RPC

    def test_rpc_share_of_unreadable_file_refused(self):
        self.login(self.fm_user)
        self.rpc_refused("clouds.share", "create", {
            "name": "steal", "attachment_ids": [Command.link(self.a_record.id)]})
        self.rpc_refused("clouds.share", "create", {
            "name": "steal", "attachment_ids": [Command.link(self.a_private.id)]})

    def test_rpc_share_of_hidden_folder_refused(self):
        self.login(self.fm_user)
        self.rpc_refused("clouds.share", "create", {
            "name": "steal", "folder_ids": [Command.link(self.team_folder.id)]})

    def test_rpc_share_upload_folder_hidden_refused(self):
        self.login(self.fm_user)
        self.rpc_refused("clouds.share", "create", {
            "name": "drop", "allow_upload": True, "folder_ids": [Command.link(self.shared.id)],
            "upload_folder_id": self.team_folder.id})

    def test_rpc_write_adding_unreadable_items_refused(self):
        self.login(self.fm_user)
        share_id = self.fm_share.id
        self.rpc_refused("clouds.share", "write", [share_id], {
            "attachment_ids": [Command.link(self.a_record.id)]})
        self.rpc_refused("clouds.share", "write", [share_id], {
            "folder_ids": [Command.link(self.team_folder.id)]})
        self.rpc_refused("clouds.share", "write", [share_id], {
            "upload_folder_id": self.team_folder.id})
        self.assertNotIn(self.a_record, self.fm_share.attachment_ids)
        self.assertNotIn(self.team_folder, self.fm_share.folder_ids)

    def test_rpc_share_given_to_a_stronger_owner_refused(self):
        self.login(self.fm_user)
        admin = self.env.ref("base.user_admin")
        self.rpc_refused("clouds.share", "create", {
            "name": "borrowed rights", "user_id": admin.id,
            "folder_ids": [Command.link(self.open_folder.id)]})
        self.rpc_refused("clouds.share", "write", [self.fm_share.id], {"user_id": admin.id})

    def test_wizard_refuses_what_rpc_refuses(self):
        Wizard = self.env["clouds.share.wizard"].with_user(self.fm_user)
        with self.assertRaises(AccessError):
            Wizard.with_context(active_model="ir.attachment",
                                active_ids=self.a_record.ids).create({})
        wizard = Wizard.create({
            "name": "via wizard", "attachment_ids": [Command.set(self.a_record.ids)]})
        with self.assertRaises(UserError):  # AccessError is one too
            wizard.action_share()
        self.assertFalse(self.env["clouds.share"].search(
            [("attachment_ids", "in", self.a_record.ids)]))

    # ---------------------------------------------------------------- 3. other users' shares

    def test_other_users_share_is_invisible(self):
        self.login(self.fm_user)
        found = self.rpc("clouds.share", "search_read", [], fields=["name"])
        self.assertNotIn(self.victim_share.id, [r["id"] for r in found])
        self.rpc_refused("clouds.share", "read", [self.victim_share.id], ["access_token"])
        self.rpc_refused("clouds.share", "read", [self.victim_share.id], ["share_link"])

    def test_other_users_share_cannot_be_joined(self):
        self.login(self.fm_user)
        self.rpc_refused("clouds.share", "write", [self.victim_share.id], {
            "partner_ids": [Command.link(self.fm_user.partner_id.id)]})
        self.rpc_refused("clouds.share", "write", [self.victim_share.id], {
            "editor_ids": [Command.link(self.fm_user.id)]})
        self.assertNotIn(self.fm_user.partner_id, self.victim_share.partner_ids)

    def test_portal_partner_cannot_read_the_token(self):
        self.login(self.portal)
        rows = self.rpc("clouds.share", "search_read", [], fields=["name"])
        self.assertEqual([r["id"] for r in rows], [self.victim_share.id])
        self.rpc_refused("clouds.share", "read", [self.victim_share.id], ["access_token"])

    def test_editor_may_read_and_change(self):
        self.victim_share.editor_ids = [Command.link(self.fm_user.id)]
        self.login(self.fm_user)
        row = self.rpc("clouds.share", "read", [self.victim_share.id], ["access_token"])
        self.assertEqual(row[0]["access_token"], self.victim_share.access_token)
        self.rpc("clouds.share", "write", [self.victim_share.id], {"name": "renamed"})
        # Still only what the editor may read may be added.
        self.rpc_refused("clouds.share", "write", [self.victim_share.id], {
            "attachment_ids": [Command.link(self.a_record.id)]})

    def test_other_share_token_refused_everywhere(self):
        wrong = self.fm_share.access_token
        self.login(None)
        for path in ("", f"/files/{self.a_team.id}", f"/files/{self.a_team.id}/preview",
                     "/zip"):
            self.refused(self.share_url(self.victim_share, path, access_token=wrong),
                         statuses=(303, 404))

    def test_portal_user_of_another_share_refused(self):
        self.login(self.portal_other)
        for path in ("", f"/files/{self.a_team.id}", "/zip"):
            self.refused(self.share_url(self.victim_share, path, access_token=None))

    # ---------------------------------------------------------------- 4. what a share exposes

    def test_shared_tag_exposes_only_what_the_owner_may_read(self):
        self.login(None)
        body = self.body(self.share_url(self.fm_share, "/zip", tag_id=self.tag.id))
        self.assertIn(b"open to all", body)
        for att in (self.a_record, self.a_private, self.a_team):
            self.refused(self.share_url(self.fm_share, f"/files/{att.id}"))
            self.refused(self.share_url(self.fm_share, f"/files/{att.id}/preview"))

    def test_shared_tag_page_lists_only_readable_files(self):
        self.login(None)
        page = self.body(self.share_url(self.fm_share, tag_id=self.tag.id)).decode()
        self.assertIn("open.txt", page)
        for name in ("contract.txt", "diary.txt", "team.txt"):
            self.assertNotIn(name, page)

    def test_archived_folder_files_not_served(self):
        self.login(None)
        for att in (self.a_archived, self.a_buried):
            self.refused(self.share_url(self.fm_share, f"/files/{att.id}"))
        for folder in (self.archived, self.buried):
            self.refused(self.share_url(self.fm_share, folder_id=folder.id))
            self.refused(self.share_url(self.fm_share, "/zip", folder_id=folder.id))

    def test_archived_folder_files_not_zipped_nor_found(self):
        self.login(None)
        body = self.body(self.share_url(self.fm_share, "/zip"))
        self.assertIn(b"shared content", body)
        page = self.body(self.share_url(self.fm_share, search="txt")).decode()
        self.assertIn("shared.txt", page)
        self.assertNotIn("archived.txt", page)
        self.assertNotIn("buried.txt", page)

    def test_archived_tag_exposes_nothing(self):
        self.tag.active = False
        self.login(None)
        self.refused(self.share_url(self.fm_share, tag_id=self.tag.id))
        self.body(self.share_url(self.fm_share, "/zip"))  # the rest still zips

    def test_owner_losing_access_stops_the_share(self):
        self.login(None)
        url = self.share_url(self.victim_share, f"/files/{self.a_team.id}")
        self.assertEqual(self.url_open(url).content, TEAM_SECRET)
        self.victim.groups_id = [Command.unlink(self.team.id)]
        self.refused(url)
        self.refused(self.share_url(self.victim_share, "/zip"), statuses=(200,))

    def test_file_moved_out_of_a_shared_folder_is_no_longer_served(self):
        url = self.share_url(self.fm_share, f"/files/{self.a_shared.id}")
        self.login(None)
        self.assertEqual(self.url_open(url).content, b"shared content")
        self.a_shared.clouds_folder_id = self.team_folder
        self.a_shared.raw = TEAM_SECRET
        self.refused(url)

    def test_file_shared_alone_moved_to_a_hidden_folder_is_no_longer_served(self):
        url = self.share_url(self.fm_share, f"/files/{self.a_open.id}")
        self.login(None)
        self.assertEqual(self.url_open(url).content, b"open to all")
        self.a_open.write({"clouds_folder_id": self.team_folder.id, "raw": TEAM_SECRET})
        self.refused(url)

    def test_renamed_shared_folder_keeps_its_scope(self):
        self.shared.name = "Renamed"
        self.login(None)
        self.assertEqual(self.url_open(self.share_url(
            self.fm_share, f"/files/{self.a_shared.id}")).content, b"shared content")
        self.refused(self.share_url(self.fm_share, f"/files/{self.a_record.id}"))

    def test_expired_or_archived_share_serves_nothing(self):
        self.fm_share.active = False
        self.login(None)
        self.refused(self.share_url(self.fm_share, f"/files/{self.a_shared.id}"))
        self.refused(self.share_url(self.fm_share, "/zip"))

    # ---------------------------------------------------------------- 5. uploads

    def upload(self, share, folder_id, statuses, token=True):
        token = share.access_token if token else None
        return self.refused(
            self.share_url(share, "/upload", folder_id=folder_id, access_token=token),
            data={"csrf_token": self.csrf()}, files=[("files", ("x.txt", b"dropped"))],
            statuses=statuses)

    def test_upload_into_a_loose_files_folder_refused(self):
        """``open.txt`` is shared alone: its folder may be browsed, never filled."""
        self.login(None)
        self.upload(self.fm_share, self.open_folder.id, (403, 404))
        self.assertFalse(self.env["ir.attachment"].search([
            ("name", "=", "x.txt"), ("clouds_folder_id", "=", self.open_folder.id)]))

    def test_new_folder_in_a_loose_files_folder_refused(self):
        self.login(None)
        self.refused(self.share_url(self.fm_share, "/folders"),
                     data={"csrf_token": self.csrf(), "name": "intruder",
                           "parent_id": self.open_folder.id})
        self.assertFalse(self.env["clouds.folder"].search([("name", "=", "intruder")]))

    def test_upload_into_hidden_or_foreign_folders_refused(self):
        self.login(None)
        for folder in (self.team_folder, self.archived, self.buried):
            self.upload(self.fm_share, folder.id, (403, 404))
        self.login(self.portal_other)  # not a partner of the victim's share
        self.upload(self.victim_share, self.team_folder.id, (404,), token=False)
        self.login(self.portal)  # a partner, but the share takes no upload
        self.upload(self.victim_share, self.team_folder.id, (403,), token=False)

    def test_no_folder_named_when_folders_are_not_browsed(self):
        self.fm_share.allow_folders = False
        self.login(None)
        self.upload(self.fm_share, self.shared.id, (404,))
        self.refused(self.share_url(self.fm_share, "/folders"),
                     data={"csrf_token": self.csrf(), "name": "intruder",
                           "parent_id": self.shared.id})

    def test_upload_into_shared_folder_works(self):
        self.login(None)
        response = self.url_open(
            self.share_url(self.fm_share, "/upload", folder_id=self.shared.id),
            data={"csrf_token": self.csrf()}, files=[("files", ("ok.txt", b"welcome"))])
        self.assertEqual(response.status_code, 200, response.text[:200])
        self.assertTrue(self.env["ir.attachment"].search([
            ("name", "=", "ok.txt"), ("clouds_folder_id", "=", self.shared.id)]))

    def test_upload_folder_hidden_from_the_owner_later_refused(self):
        """The upload folder was visible when chosen; the owner lost it since."""
        self.fm_share.write({"upload_folder_id": self.team_folder.id})  # sudo: no check
        self.login(None)
        self.upload(self.fm_share, None, (403, 404))


# The suite's addons: a route whose endpoint is defined in one of them is walked.
SUITE = re.compile(r"^odoo\.addons\.(cloud_[a-z_]+|[a-z0-9_]+_sync)\.")
# Odoo's own routes that serve the suite's cloud-only files.
ODOO_FILE_ROUTES = {"/web/content/<int:id>", "/web/image/<int:id>"}


@tagged("post_install", "-at_install")
class TestEveryRoute(HttpCase, AttackSetup):
    """Every route the suite registers (read from Odoo's routing map, so a new route is
    walked too), called by every user who must not pass, with the protected ids in every
    argument: no answer holds a protected byte."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_attack()

    def suite_rules(self):
        rules = []
        for rule in self.env["ir.http"].routing_map().iter_rules():
            module = getattr(rule.endpoint, "original_endpoint", rule.endpoint).__module__
            if SUITE.match(module) or rule.rule in ODOO_FILE_ROUTES:
                rules.append(rule)
        return rules

    def urls(self, rule):
        """The rule's URLs with the protected records in every path argument and query."""
        ids = {
            "share_id": (self.victim_share.id, self.fm_share.id),
            "attachment_id": (self.a_team.id, self.a_record.id, self.a_private.id,
                              self.a_archived.id),
            "id": (self.a_team.id, self.a_record.id, self.a_private.id),
        }
        query = (f"folder_id={self.team_folder.id}&tag_id={self.tag.id}"
                 f"&parent_id={self.team_folder.id}"
                 f"&attachment_ids={self.a_record.id},{self.a_team.id},{self.a_private.id}")
        combos = [{}]
        for arg in sorted(rule.arguments):
            values = ids.get(arg, (1,))
            combos = [{**c, arg: v} for c in combos for v in values]
        for values in combos:
            _domain, path = rule.build(values, append_unknown=False)
            yield f"{path}?{query}"

    def test_every_suite_route_refuses_every_intruder(self):
        rules = self.suite_rules()
        walked = {rule.rule for rule in rules}
        # The walk sees the routes it must (and so any added later).
        for known in ("/cloud_base/download/<int:attachment_id>", "/cloud_base/zip",
                      "/cloud_base/upload", "/my/shares/<int:share_id>/zip",
                      "/my/shares/<int:share_id>/files/<int:attachment_id>",
                      "/my/shares/<int:share_id>/files/<int:attachment_id>/preview",
                      "/my/shares/<int:share_id>/upload", "/web/content/<int:id>"):
            self.assertIn(known, walked)
        requests = 0
        for user in (self.employee, self.fm_user, self.cloud_admin, self.portal_other, None):
            self.login_as(user)
            csrf = self.csrf()
            for rule in rules:
                methods = rule.methods or {"GET", "POST"}
                for url in self.urls(rule):
                    if "GET" in methods:
                        self.check(self.url_open(url, allow_redirects=False), user, url)
                    if "POST" in methods:
                        self.check(self.url_open(
                            url, data={"csrf_token": csrf, "name": "x"},
                            files=[("files", ("x.txt", b"x")), ("ufile", ("x.txt", b"x"))],
                            allow_redirects=False), user, url)
                    requests += 1
        self.assertGreater(requests, 100)

    def login_as(self, user):
        if user:
            self.authenticate(user.login, user.login)
        else:
            self.authenticate(None, None)

    def csrf(self):
        return CSRF.search(self.url_open("/web/login").text).group(1)

    def secrets_for(self, user, url):
        """The markers ``user`` must not receive from ``url``. Through the file manager
        and Odoo's routes an employee may get the files of records they can read even in
        an archived folder (as in Odoo), and a Cloud Storage administrator sees every
        folder; through a share nobody gets any."""
        if url.startswith("/my/shares") or not user or not user._is_internal():
            return SECRETS
        if user == self.cloud_admin:
            return (RECORD_SECRET, PRIVATE_SECRET)
        return (RECORD_SECRET, PRIVATE_SECRET, TEAM_SECRET)

    def check(self, response, user, url):
        who = user.login if user else "anonymous"
        for secret in self.secrets_for(user, url):
            self.assertNotIn(secret, response.content, f"{who} {url}")
