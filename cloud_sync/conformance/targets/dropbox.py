"""Conformance target for Dropbox: the local Dropbox emulator over HTTPS (throwaway CA).

``read_direct`` is a plain ``requests`` POST to ``/2/files/download`` (not the provider,
not even the SDK); ``bare_upload`` is the upload benchmark's baseline: the SDK client
alone (:func:`~cloud_sync.providers.dropbox.dropbox_client`, the same hosts and TLS
trust) doing the same transfers: ``files_upload`` up to the provider's threshold, an
upload session with the same chunk size above it.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from concurrent.futures import ThreadPoolExecutor

import requests
from dropbox import files as dbx_files

from ...emulators.dropbox import DropboxEmulator
from ...emulators.tls import ca_bundle
from ...providers.dropbox import DropboxProvider, dropbox_client
from .. import Target


@contextlib.contextmanager
def open_target(tmp_path):
    emulator = DropboxEmulator().start()
    bare = dropbox_client(emulator.provider_config())
    token = emulator.issue_access_token()

    def new_provider(config: dict | None = None, **kwargs) -> DropboxProvider:
        root = emulator.create_folder(f"/conformance-{uuid.uuid4().hex[:12]}")
        return DropboxProvider({**emulator.provider_config(root), **(config or {})}, **kwargs)

    def read_direct(item) -> bytes:
        answer = requests.post(
            f"{emulator.url}/2/files/download", timeout=30, verify=ca_bundle(),
            headers={"Authorization": f"Bearer {token}",
                     "Dropbox-API-Arg": json.dumps({"path": item.id})})
        answer.raise_for_status()
        return answer.content

    def write_direct(item_id: str, data: bytes) -> None:
        path = bare.files_get_metadata(item_id).path_display
        bare.files_upload(data, path, mode=dbx_files.WriteMode.overwrite)

    def seed_files(parent_id: str, items) -> None:
        for name, data in items:
            emulator.seed_file(parent_id, name, data)

    def bare_upload(folder_name: str, items, threads: int = 1) -> None:
        folder = bare.files_create_folder_v2(f"/{folder_name}", autorename=True).metadata
        if threads > 1:  # the SDK client is shared, as its users share one
            with ThreadPoolExecutor(threads) as pool:
                list(pool.map(lambda f: bare.files_upload(
                    f[1], f"{folder.path_display}/{f[0]}"), items))
            return
        chunk = DropboxProvider.upload_chunk_size
        for name, data in items:
            path = f"{folder.path_display}/{name}"
            if len(data) <= DropboxProvider.chunk_threshold:
                bare.files_upload(data, path)
                continue
            session = bare.files_upload_session_start(data[:chunk]).session_id
            offset = chunk
            while len(data) - offset > chunk:
                cursor = dbx_files.UploadSessionCursor(session, offset)
                bare.files_upload_session_append_v2(data[offset:offset + chunk], cursor)
                offset += chunk
            bare.files_upload_session_finish(data[offset:],
                                             dbx_files.UploadSessionCursor(session, offset),
                                             dbx_files.CommitInfo(path))

    try:
        yield Target(key="dropbox", emulator=emulator, new_provider=new_provider,
                     read_direct=read_direct, expire_cursors=emulator.expire_cursors,
                     extra={"bare_upload": bare_upload, "seed_files": seed_files,
                            "write_direct": write_direct})
    finally:
        bare.close()
        emulator.stop()
