"""End to end against the Drive emulator: Odoo's crons sync folders and files (the
changes feed drives backward sync), checked through the bare Drive SDK."""

import io
import json

from googleapiclient.http import MediaIoBaseUpload
from odoo.addons.cloud_base.tests.test_sync_common import SyncCase
from odoo.tests import tagged

from cloud_sync.conformance.targets.google_drive import bare_service
from cloud_sync.emulators.google_drive import FOLDER, GoogleDriveEmulator

NATIVE_DOC = "application/vnd.google-apps.document"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


class GoogleDriveSyncCase(SyncCase):
    """The Drive emulator, the bare Drive SDK on it and the remote-tree helpers (no tests)."""

    provider_key = "google_drive"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.emulator = GoogleDriveEmulator().start()
        cls.addClassCleanup(cls.emulator.stop)
        cls.bare = bare_service(cls.emulator)

    def client_vals(self):
        config = self.emulator.provider_config()
        return {"gd_client_id": config["client_id"], "gd_client_secret": config["client_secret"],
                "gd_api_url": config["api_url"], "gd_auth_uri": config["auth_uri"],
                "gd_token_uri": config["token_uri"], "gd_ca_bundle": config["ca_bundle"],
                "token_json": json.dumps({"refresh_token": config["refresh_token"]})}

    def children(self, folder_id):
        return self.bare.files().list(
            q=f"'{folder_id}' in parents and trashed = false", pageSize=1000,
            fields="files(id,name,mimeType)").execute()["files"]

    def remote_files(self, client):
        out = {}

        def walk(folder_id, prefix):
            for entry in self.children(folder_id):
                path = prefix + entry["name"]
                if entry["mimeType"] == FOLDER:
                    out[path] = None
                    walk(entry["id"], path + "/")
                else:
                    out[path] = self.bare.files().get_media(fileId=entry["id"]).execute()

        walk(client.sudo().remote_root_id, "")
        return out

    def put(self, client, path, data):
        *folders, name = path.split("/")
        parent = client.sudo().remote_root_id
        for part in folders:
            found = [e for e in self.children(parent) if e["name"] == part]
            parent = found[0]["id"] if found else self.bare.files().create(
                body={"name": part, "mimeType": FOLDER, "parents": [parent]},
                fields="id").execute()["id"]
        media = MediaIoBaseUpload(io.BytesIO(data), "application/octet-stream")
        same = [e for e in self.children(parent) if e["name"] == name]
        if same:
            self.bare.files().update(fileId=same[0]["id"], media_body=media).execute()
        else:
            self.bare.files().create(body={"name": name, "parents": [parent]},
                                     media_body=media, fields="id").execute()



@tagged("post_install", "-at_install")
class TestGoogleDriveSync(GoogleDriveSyncCase):
    def test_versions_list_download_restore(self):
        self.assertVersionsListDownloadRestore(self.make_client(root_name="Versions"))

    def test_direct_backward_through_changes_and_reverse(self):
        client = self.round_trip()
        self.assertEqual(client.state, "draft")

    def test_open_in_cloud_opens_web_view_link(self):
        """No link option: the item's webViewLink, which opens after Google's sign-in
        (the emulator's passes at once) and never shares the item."""
        client = self.make_client(root_name="Links")  # its own remote root
        file, folder, reader, editor = self.link_setup(client)
        url = self.open_in_cloud(file, editor)
        self.assertIn("/file/d/", url)
        self.assertOpens(url, file)  # through /ServiceLogin and back
        self.assertEqual(self.open_in_cloud(file, reader), url)
        self.assertFalse(any(p["type"] == "anyone" for p in self.emulator.files[
            file.clouds_remote_id].get("perms", [])))
        self.assertOpens(self.open_in_cloud(folder, reader), folder)
        self.assertLinksRefused(file, folder, reader)

    def test_native_documents_come_back_as_office_files(self):
        """A Google Doc made in Drive becomes a file of its folder; on reset it comes back
        into Odoo as a .docx (the office format), not as an unreadable native item."""
        client = self.make_client()
        _rule, _people, projects = self.make_tree(client)
        self.sync()
        docx = b"PK\x03\x04 minutes as docx"
        doc_id = self.emulator.seed_native(projects.clouds_remote_id, "Minutes", NATIVE_DOC,
                                           {DOCX: docx})
        self.sync()
        att = self.Attachment.search([("clouds_remote_id", "=", doc_id)])
        self.assertEqual((att.clouds_folder_id, att.mimetype), (projects, NATIVE_DOC))
        client.action_reset()
        self.sync()
        self.env.invalidate_all()
        self.assertEqual((att.name, att.raw, att.mimetype), ("Minutes.docx", docx, DOCX))

    def test_converges_under_random_faults(self):
        self.assertConvergesUnderFaults()

    def test_interrupted_large_upload_resumes_in_the_next_run(self):
        """Resumable upload (8 MiB chunks): the third chunk fails until the run gives up;
        the next run asks the session URI (bytes */size, 308 Range) and sends the rest."""
        self.assertInterruptedUploadResumes(r"^PUT /upload/drive/v3/files", chunk=8 << 20,
                                            after=2)
