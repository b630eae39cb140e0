"""Shared tests of "Add from cloud" (``clouds.picker``), run by each provider addon that
mixes :class:`PickerCase` into its end-to-end case (an ``HttpCase`` and a ``SyncCase``
with its local server): who may browse a connection, signed handles, paging, search,
linked files (streamed, never synced, reported when gone) and copies."""

import base64
import json
import re

from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user
from odoo.tests.common import JsonRpcException

from cloud_sync.providers import provider_class
from cloud_sync.providers.errors import NotFound


class PickerCase:
    """Mixed before ``HttpCase`` and the provider's ``SyncCase``. ``upload_requests`` and
    ``write_requests``: patterns of the server's request lines (``emulator.faults``); an
    upload is a request of ``upload_requests`` that carries bytes (an S3 CopyObject is a
    ``PUT`` of the same key line as a PutObject, but with no body). Both patterns are
    checked in ``setUp`` against the uploads that make the test's files."""

    allow_inherited_tests_method = True  # Odoo's loader runs only a class's own tests else
    upload_requests = "^PUT "
    write_requests = "^(PUT|POST|PATCH|MOVE|COPY|DELETE|MKCOL|PROPPATCH) "

    def setUp(self):
        super().setUp()
        self.client = self.make_client(root_name=self._testMethodName)
        self.pickers = self.env["res.groups"].create({"name": "Picker users"})
        self.client.picker_group_ids = self.pickers
        self.user = new_test_user(self.env, "picker_user",
                                  groups="base.group_user,base.group_partner_manager,"
                                  "cloud_base.group_clouds_user",
                                  password="picker_user_pw")
        self.user.groups_id |= self.pickers
        self.outsider = new_test_user(self.env, "picker_outsider", groups="base.group_user",
                                      password="picker_outsider_pw")
        self.partner = self.env["res.partner"].create({"name": "Picked Ltd"})
        self.remote = self.client._cloud_provider()
        self.addCleanup(self.remote.close)
        self.emulator.faults.reset_counts()
        self.library, self.contract = self.in_cloud("Library", {
            "contract.txt": b"the signed contract"})
        # the patterns see this provider's uploads and writes (else the "nothing written"
        # assertions below would hold for any provider)
        self.assertEqual(self.uploads(), 1, self.emulator.faults.log)
        self.assertGreaterEqual(self.emulator.faults.total(self.write_requests), 2)

    def uploads(self):
        """Uploads since the last reset of the server's counts."""
        faults = self.emulator.faults
        return sum(1 for line, size in zip(faults.log, faults.body_sizes, strict=True)
                   if size and re.search(self.upload_requests, line))

    def in_cloud(self, folder, files):
        """A folder of files made beneath the connection's root, as a user of the cloud
        would: (folder, its last file)."""
        parent = self.remote.ensure_folder(self.remote.root_id, folder)
        item = None
        for name, data in files.items():
            item = self.remote.upload_bytes(parent.id, name, data)
        return parent, item

    def picker(self, user=None):
        return self.env["clouds.picker"].with_user(user or self.user)

    def listing(self, folder=None, user=None, **kw):
        return self.picker(user).clouds_list(self.client.id, folder, **kw)

    def handle(self, name, folder=None, user=None):
        items = self.listing(folder, user)["items"]
        return next(i["handle"] for i in items if i["name"] == name)

    def pick(self, mode="link", name="contract.txt", **target):
        folder = self.handle("Library")
        handle = self.handle(name, folder)
        target = target or {"res_model": "res.partner", "res_id": self.partner.id}
        ids = self.picker().clouds_add(self.client.id, [handle], mode, **target)
        return self.Attachment.browse(ids)

    # ---------------------------------------------------------------- access

    def test_only_offered_users_browse(self):
        self.assertEqual(self.picker().clouds_connections(), [
            {"id": self.client.id, "name": self.client.name,
             "can_search": provider_class(self.provider_key).can_search}])
        self.assertIn("Library", [i["name"] for i in self.listing()["items"]])
        # Not offered to them: nothing, whatever they call.
        self.assertEqual(self.picker(self.outsider).clouds_connections(), [])
        with self.assertRaises(AccessError):
            self.listing(user=self.outsider)
        with self.assertRaises(AccessError):
            self.picker(self.outsider).clouds_search(self.client.id, "contract")
        with self.assertRaises(AccessError):
            self.picker(self.outsider).clouds_add(
                self.client.id, [self.handle("Library")], "link",
                res_model="res.partner", res_id=self.partner.id)
        # Nor through JSON-RPC.
        self.authenticate("picker_outsider", "picker_outsider_pw")
        with self.assertRaises(JsonRpcException):
            self.make_jsonrpc_request("/web/dataset/call_kw", {
                "model": "clouds.picker", "method": "clouds_list",
                "args": [self.client.id], "kwargs": {}})
        # Offered, but not connected: not offered.
        self.client.state = "paused"
        self.assertEqual(self.picker().clouds_connections(), [])
        with self.assertRaises(AccessError):
            self.listing()
        # Only administrators choose whom a connection is offered to.
        with self.assertRaises(AccessError):
            self.client.with_user(self.user).picker_group_ids = self.pickers

    def test_handles_are_bound_to_connection_and_user(self):
        other = self.make_client(root_name=f"{self._testMethodName} other")
        other.picker_group_ids = self.pickers
        colleague = new_test_user(self.env, "picker_colleague", groups="base.group_user")
        colleague.groups_id |= self.pickers
        library = self.handle("Library")
        mine = self.handle("contract.txt", library)
        theirs = self.handle("Library", user=colleague)
        payload = json.loads(base64.urlsafe_b64decode(library.split(".")[0]))
        self.assertEqual(payload[:4], [self.client.id, self.user.id, "folder", self.library.id])
        forged_payload = base64.urlsafe_b64encode(json.dumps(
            [self.client.id, self.user.id, "folder", "/", None]).encode()).decode()
        for bad in (
            theirs,  # another user's
            forged_payload + "." + library.split(".")[1],  # a remote id of my choosing
            library[:-1] + ("0" if library[-1] != "0" else "1"),  # tampered signature
            "Library", "x.y",
            mine,  # a file is not a folder
        ):
            with self.subTest(bad=bad), self.assertRaises(AccessError):
                self.listing(bad)
        with self.assertRaises(AccessError):  # another connection's handle
            self.picker().clouds_list(other.id, library)
        with self.assertRaises(AccessError):  # a folder handle is not a file to add
            self.picker().clouds_add(self.client.id, [library], "link",
                                     res_model="res.partner", res_id=self.partner.id)
        with self.assertRaises(AccessError):
            self.picker().clouds_add(other.id, [mine], "link",
                                     res_model="res.partner", res_id=self.partner.id)

    def test_write_access_on_the_record_is_needed(self):
        company = self.env.company
        with self.assertRaises(AccessError):
            self.pick(res_model="res.company", res_id=company.id)
        hidden = self.Folder.create({"name": "Hidden",
                                     "group_ids": [(6, 0, self.env.ref("base.group_system").ids)]})
        with self.assertRaises(AccessError):
            self.pick(folder_id=hidden.id)
        with self.assertRaises(UserError):
            self.pick(res_model="no.such.model", res_id=1)
        self.assertFalse(self.Attachment.search([("name", "=", "contract.txt")]))

    def test_synced_folders_of_hidden_records_are_not_listed(self):
        secret = self.Folder.create({
            "name": "Board", "own_client_id": self.client.id,
            "group_ids": [(6, 0, self.env.ref("base.group_system").ids)]})
        self.Attachment.create({"name": "minutes.txt", "raw": b"secret",
                                "clouds_folder_id": secret.id})
        self.sync()
        self.assertTrue(secret.clouds_remote_id)
        self.assertNotIn("Board", [i["name"] for i in self.listing()["items"]])
        self.assertIn("Library", [i["name"] for i in self.listing()["items"]])

    def test_search_finds_nothing_beneath_a_hidden_folder(self):
        """A search reaches any depth: a folder made in the cloud inside a private synced
        folder, not synced yet, does not show its files (nor does the private folder's
        own file) to a user who cannot see that folder; a member of it finds them all."""
        if not provider_class(self.provider_key).can_search:
            with self.assertRaises(UserError):  # listings reach visible folders only
                self.picker().clouds_search(self.client.id, "plan")
            return
        board = self.env["res.groups"].create({"name": "Board members"})
        member = new_test_user(self.env, "picker_board", groups="base.group_user,"
                               "cloud_base.group_clouds_user")
        member.groups_id |= self.pickers | board
        secret = self.Folder.create({"name": "Board", "own_client_id": self.client.id,
                                     "group_ids": [(6, 0, board.ids)]})
        self.Attachment.create({"name": "minutes plan.txt", "raw": b"secret",
                                "clouds_folder_id": secret.id})
        self.sync()
        drafts = self.remote.ensure_folder(secret.clouds_remote_id, "Drafts")
        deeper = self.remote.ensure_folder(drafts.id, "Deeper")
        self.remote.upload_bytes(deeper.id, "merger plan.txt", b"secret too")
        self.in_cloud("Open", {"public plan.txt": b"public"})
        found = self.picker().clouds_search(self.client.id, "plan")
        self.assertEqual([i["name"] for i in found], ["public plan.txt"])
        found = self.picker(member).clouds_search(self.client.id, "plan")
        self.assertEqual(sorted(i["name"] for i in found),
                         ["merger plan.txt", "minutes plan.txt", "public plan.txt"])

    # ---------------------------------------------------------------- browsing

    def test_folder_pages_and_search(self):
        self.in_cloud("Many", {f"f{i:02d}.txt": b"x" for i in range(7)})
        many = self.handle("Many")
        names, page, pages = [], None, 0
        while True:
            result = self.listing(many, page=page, limit=3)
            names += [i["name"] for i in result["items"]]
            pages += 1
            page = result["next"]
            if not page:
                break
        self.assertEqual(sorted(names), [f"f{i:02d}.txt" for i in range(7)])
        self.assertEqual(pages, 3)
        # A page token is bound to its folder.
        first = self.listing(many, limit=3)["next"]
        with self.assertRaises(AccessError):
            self.listing(self.handle("Library"), page=first)
        # Search by name, beneath the connection's root only, where the provider can.
        if not provider_class(self.provider_key).can_search:
            with self.assertRaises(UserError):
                self.picker().clouds_search(self.client.id, "contract")
            return
        outside = self.client._cloud_provider(root="")
        self.addCleanup(outside.close)
        outside.upload_bytes(outside.root_id, f"{self._testMethodName} contract.txt", b"no")
        found = self.picker().clouds_search(self.client.id, "CONTRACT")
        self.assertEqual([i["name"] for i in found], ["contract.txt"])
        ids = self.picker().clouds_add(self.client.id, [found[0]["handle"]], "link",
                                       res_model="res.partner", res_id=self.partner.id)
        self.assertEqual(self.Attachment.browse(ids).raw, b"the signed contract")
        with self.assertRaises(AccessError):
            self.picker(self.outsider).clouds_search(self.client.id, "contract")

    # ---------------------------------------------------------------- linking

    def test_linked_file_streams_and_is_never_synced(self):
        folder = self.Folder.create({"name": "Files", "own_client_id": self.client.id})
        self.sync()
        att = self.pick("link", folder_id=folder.id)
        self.assertEqual((att.clouds_state, att.clouds_folder_id, att.file_size),
                         ("linked", folder, len(b"the signed contract")))
        self.assertEqual((att.create_uid, att.mimetype), (self.user, "text/plain"))
        self.assertTrue(att._clouds_link_only())
        self.assertEqual(att.with_user(self.user).raw, b"the signed contract")
        # /web/content streams the remote bytes.
        self.authenticate("picker_user", "picker_user_pw")
        response = self.url_open(f"/web/content/{att.id}?download=true")
        self.assertEqual((response.status_code, response.content), (200, b"the signed contract"))
        # A sync, and a rename in Odoo: the remote item stays where it was, linked.
        remote_id, before = att.clouds_remote_id, self.remote_files(self.client)
        self.assertEqual(before["Library/contract.txt"], b"the signed contract")
        self.assertSyncOps(self.sync(), 0)
        att.with_user(self.user).name = "renamed in Odoo.txt"
        self.emulator.faults.reset_counts()
        self.assertSyncOps(self.sync(), 0)
        self.assertEqual(self.emulator.faults.total(self.write_requests), 0,
                         self.emulator.faults.log)
        self.assertEqual(self.remote_files(self.client), before)
        self.assertEqual((att.clouds_state, att.clouds_remote_id), ("linked", remote_id))
        # Its versions belong to the cloud's owners: never restored from Odoo.
        with self.assertRaisesRegex(UserError, "linked from the cloud"):
            att.with_user(self.user).clouds_version_restore("cloud:1")

    def test_removed_link_is_reported_missing(self):
        att = self.pick("link")
        self.assertEqual(self.Attachment._cron_clouds_check_links(), 1)
        self.assertEqual(att.clouds_state, "linked")
        self.remote.delete(self.contract.id)
        self.Attachment._cron_clouds_check_links()
        self.assertEqual(att.clouds_state, "missing")
        self.assertTrue(att.exists())
        # A download that finds it gone says so, and reports it.
        linked = self.link_then_delete("second.txt")
        self.authenticate("picker_user", "picker_user_pw")
        response = self.url_open(f"/web/content/{linked.id}")
        self.assertEqual(response.status_code, 404)
        linked.invalidate_recordset()
        self.assertEqual(linked.clouds_state, "missing")

    def test_link_follows_a_move_in_the_cloud_by_id(self):
        """A link names the remote id: where the provider keeps an item's id across a
        move (Nextcloud fileids, Drive, OneDrive, Dropbox, Box), the moved file is still
        linked and read; where the id is the path (WebDAV paths, S3 keys) it is reported
        missing."""
        att = self.pick("link")
        elsewhere = self.remote.ensure_folder(self.remote.root_id, "Elsewhere")
        moved = self.remote.move(self.contract.id, elsewhere.id)
        self.assertEqual(self.remote_files(self.client)["Elsewhere/contract.txt"],
                         b"the signed contract")
        self.Attachment._cron_clouds_check_links()
        if moved.id == self.contract.id:
            self.assertEqual(att.clouds_state, "linked")
            self.assertEqual(att.raw, b"the signed contract")
        else:
            self.assertEqual((att.clouds_state, att.clouds_remote_id),
                             ("missing", self.contract.id))
            self.assertTrue(att.exists())

    def test_link_moved_out_of_the_root_is_no_longer_offered(self):
        """An item moved out of the connection's root folder (where its id survives the
        move) is reported missing by the check, and linked again once it is back."""
        att = self.pick("link")
        other = self.make_client(root_name=f"{self._testMethodName} (not offered)")
        outside = other._cloud_shared_provider().root_id  # another root, beside this one
        try:
            moved = self.remote.move(self.contract.id, outside)
        except NotFound:
            # a provider confined to its root (Nextcloud finds file ids beneath it only):
            # what lies outside is not found, so a link to it is reported missing
            with self.assertRaises(NotFound):
                self.remote.metadata(outside)
            return
        self.addCleanup(self.remote.delete, moved.id)
        self.Attachment._cron_clouds_check_links()
        self.assertEqual(att.clouds_state, "missing")
        if moved.id == self.contract.id:  # back beneath the root
            self.remote.move(moved.id, self.library.id)
            self.Attachment._cron_clouds_check_links()
            self.assertEqual(att.clouds_state, "linked")

    def test_link_check_is_bounded_oldest_first(self):
        first = self.pick("link")
        self.remote.upload_bytes(self.library.id, "second.txt", b"two")
        second = self.pick("link", name="second.txt")
        (first | second).write({"clouds_checked": "2001-01-01"})
        second.clouds_checked = "2000-01-01"
        self.assertEqual(self.Attachment._cron_clouds_check_links(limit=1), 1)
        self.assertGreater(second.clouds_checked.year, 2001)
        self.assertEqual(first.clouds_checked.year, 2001)
        self.assertEqual(self.Attachment._cron_clouds_check_links(limit=5), 2)
        self.assertGreater(first.clouds_checked.year, 2001)

    def link_then_delete(self, name):
        """A file linked, then deleted in the cloud (no check ran since)."""
        item = self.remote.upload_bytes(self.library.id, name, b"soon gone")
        att = self.pick("link", name=name)
        self.remote.delete(item.id)
        return att

    # ---------------------------------------------------------------- copying

    def test_copy_into_a_folder_of_the_same_connection(self):
        folder = self.Folder.create({"name": "Files", "own_client_id": self.client.id})
        self.sync()
        self.emulator.faults.reset_counts()
        att = self.pick("copy", folder_id=folder.id)
        # The provider copies on the server where it can; otherwise its copy streams the
        # bytes down and up (one upload), never through Odoo's filestore.
        server_side = provider_class(self.provider_key).server_side_copy
        self.assertEqual(self.uploads(), 0 if server_side else 1, self.emulator.faults.log)
        self.assertEqual(att.clouds_state, "link")
        self.assertFalse(att.store_fname)
        remote = self.remote_files(self.client)
        self.assertEqual(remote["Library/contract.txt"], b"the signed contract")
        self.assertEqual(remote["Files/contract.txt"], b"the signed contract")
        self.assertEqual(att.raw, b"the signed contract")
        self.emulator.faults.reset_counts()
        self.assertSyncOps(self.sync(), 0)
        self.assertEqual(self.uploads(), 0, "nothing uploaded again")
        # A second copy gets a free name.
        again = self.pick("copy", folder_id=folder.id)
        self.assertEqual(again.name, "contract (2).txt")
        self.assertEqual(self.remote_files(self.client)["Files/contract (2).txt"],
                         b"the signed contract")
        # Renamed in Odoo, it follows like any synced file.
        att.name = "agreed.txt"
        self.assertSyncOps(self.sync(), 1)
        self.assertIn("Files/agreed.txt", self.remote_files(self.client))

    def test_copy_elsewhere_downloads_the_bytes(self):
        att = self.pick("copy")
        self.assertEqual((att.res_model, att.res_id), ("res.partner", self.partner.id))
        self.assertEqual(att.clouds_state, "local")
        self.assertFalse(att.clouds_remote_id)
        self.assertTrue(att.store_fname)
        self.assertEqual(att.raw, b"the signed contract")
        self.assertEqual(att.checksum, self.Attachment._compute_checksum(att.raw))
