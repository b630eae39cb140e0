"""Conformance target for Google Drive: the local Drive emulator over HTTPS (throwaway CA).

``read_direct`` downloads with the bare SDK (``files.get_media``), not through
:class:`GoogleDriveProvider`; ``bare_upload`` is the upload benchmark's baseline: the SDK
as a user would call it, one ``files.create`` per file (multipart, resumable above 5 MB).
"""

from __future__ import annotations

import contextlib
import io
import json
import uuid

import google_auth_httplib2
import httplib2
from google.oauth2.credentials import Credentials
from googleapiclient.discovery import build_from_document
from googleapiclient.http import MediaIoBaseUpload

from ...emulators.google_drive import FOLDER, GoogleDriveEmulator
from ...providers.google_drive import GoogleDriveProvider, _discovery_document
from .. import Target


def bare_service(emulator: GoogleDriveEmulator):
    """The SDK set up by hand: the bundled discovery document pointed at the emulator."""
    config = emulator.provider_config()
    doc = json.loads(_discovery_document())
    doc["rootUrl"] = config["api_url"]
    doc.pop("mtlsRootUrl", None)
    http = httplib2.Http(ca_certs=config["ca_bundle"], timeout=30)
    http.redirect_codes = http.redirect_codes - {308}
    credentials = Credentials(emulator.issue_access_token(lifetime=86400))
    return build_from_document(doc, http=google_auth_httplib2.AuthorizedHttp(credentials, http))


def provider_config(emulator: GoogleDriveEmulator, root: str = "") -> dict:
    """Emulator config plus a live access token (no refresh before the first call)."""
    return {**emulator.provider_config(root),
            "access_token": emulator.issue_access_token(lifetime=86400)}


@contextlib.contextmanager
def open_target(tmp_path):
    emulator = GoogleDriveEmulator().start()
    bare = bare_service(emulator)

    def new_folder(name: str) -> str:
        body = {"name": name, "mimeType": FOLDER}
        return bare.files().create(body=body, fields="id").execute()["id"]

    def new_provider(config: dict | None = None, **kwargs) -> GoogleDriveProvider:
        root = new_folder(f"conformance-{uuid.uuid4().hex[:12]}")
        return GoogleDriveProvider({**provider_config(emulator, root), **(config or {})},
                                   **kwargs)

    def read_direct(item) -> bytes:
        return bare.files().get_media(fileId=item.id, supportsAllDrives=True).execute()

    def write_direct(item_id: str, data: bytes) -> None:
        bare.files().update(fileId=item_id, supportsAllDrives=True, media_body=MediaIoBaseUpload(
            io.BytesIO(data), mimetype="application/octet-stream")).execute()

    def seed_files(parent_id: str, files) -> None:
        for name, data in files:
            emulator.seed_file(parent_id, name, data)

    def bare_upload(folder_name: str, files) -> None:
        folder_id = new_folder(folder_name)
        for name, data in files:
            media = MediaIoBaseUpload(io.BytesIO(data), "application/octet-stream",
                                      resumable=len(data) > 5 * 1024 * 1024)
            bare.files().create(body={"name": name, "parents": [folder_id]},
                                media_body=media, fields="id").execute()

    try:
        yield Target(key="google_drive", emulator=emulator, new_provider=new_provider,
                     read_direct=read_direct, expire_cursors=emulator.expire_cursors,
                     extra={"bare_upload": bare_upload, "seed_files": seed_files,
                            "write_direct": write_direct})
    finally:
        emulator.stop()
