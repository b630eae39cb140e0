"""A small tree of folders, tags, files, two shares and portal users, shared by the tests."""

from odoo import Command
from odoo.tests import new_test_user


class ShareSetup:
    @classmethod
    def setup_shares(cls):
        env = cls.env
        Folder, Tag, Attachment = env["clouds.folder"], env["clouds.tag"], env["ir.attachment"]
        cls.root = Folder.create({"name": "Client Docs"})
        cls.plans = Folder.create({"name": "Plans", "parent_id": cls.root.id})
        cls.private = Folder.create({"name": "Private"})
        cls.other_root = Folder.create({"name": "Other Client"})
        cls.urgent = Tag.create({"name": "Urgent"})
        cls.secret_tag = Tag.create({"name": "Secret"})
        cls.readme = Attachment.create(
            {"name": "readme.txt", "raw": b"read me", "clouds_folder_id": cls.root.id})
        cls.plan = Attachment.create({
            "name": "plan.txt", "raw": b"the plan", "clouds_folder_id": cls.plans.id,
            "clouds_tag_ids": [Command.link(cls.urgent.id)],
        })
        cls.loose = Attachment.create(
            {"name": "loose.txt", "raw": b"shared alone", "clouds_folder_id": cls.private.id})
        cls.secret = Attachment.create({
            "name": "secret.txt", "raw": b"top secret", "clouds_folder_id": cls.private.id,
            "clouds_tag_ids": [Command.link(cls.secret_tag.id)],
        })
        cls.other_file = Attachment.create(
            {"name": "other.txt", "raw": b"other", "clouds_folder_id": cls.other_root.id})

        cls.portal_user = new_test_user(env, "shareportal", groups="base.group_portal",
                                        name="Share Portal")
        cls.stranger = new_test_user(env, "stranger", groups="base.group_portal")
        cls.manager = new_test_user(env, "sharemanager", groups="cloud_base.group_clouds_user")
        # Shares expose what their owner may read: an administrator owns these.
        cls.admin = env.ref("base.user_admin")
        cls.share = env["clouds.share"].create({
            "name": "ACME files",
            "user_id": cls.admin.id,
            "folder_ids": [Command.link(cls.root.id)],
            "attachment_ids": [Command.link(cls.loose.id)],
            "partner_ids": [Command.link(cls.portal_user.partner_id.id)],
            "allow_upload": True,
            "allow_create": True,
        })
        cls.other_share = env["clouds.share"].create({
            "name": "Other files",
            "user_id": cls.admin.id,
            "folder_ids": [Command.link(cls.other_root.id)],
            "partner_ids": [Command.link(cls.stranger.partner_id.id)],
        })
