"""Conformance target for Nextcloud: the local Nextcloud (wsgidav + OCS) in-process.

``read_direct`` finds the item's current path in the server's own bookkeeping (file id
→ path) and reads it with a plain HTTP GET; ``seed_files`` PUTs straight to the files
DAV; ``bare_upload`` is raw pyocclient (``put_file_contents``), the benchmark baseline.
Each provider gets a fresh root folder ``/conformance-<random>``.
"""

from __future__ import annotations

import contextlib
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import owncloud
import requests

from ...emulators.nextcloud import APP_PASSWORD, USER, NextcloudEmulator
from ...providers.nextcloud import NextcloudProvider
from .. import Target


@contextlib.contextmanager
def open_target(tmp_path):
    emulator = NextcloudEmulator(data_dir=str(tmp_path / "nextcloud")).start()
    local = threading.local()

    def raw(method: str, path: str, data: bytes | None = None) -> requests.Response:
        if getattr(local, "session", None) is None:
            local.session = requests.Session()
            local.session.auth = (USER, APP_PASSWORD)
        answer = local.session.request(method, emulator.dav_url(path), data=data, timeout=30)
        if answer.status_code >= 300:
            raise AssertionError(f"{method} {path}: HTTP {answer.status_code}")
        return answer

    def path_of(item_id) -> str:
        path = emulator.path_of(item_id)
        if path is None:
            raise AssertionError(f"the server knows no file id {item_id}")
        return path

    def new_provider(config: dict | None = None, **kwargs) -> NextcloudProvider:
        root = f"/conformance-{uuid.uuid4().hex[:12]}"
        raw("MKCOL", root)
        return NextcloudProvider({**emulator.provider_config(root), **(config or {})}, **kwargs)

    def read_direct(item) -> bytes:
        return raw("GET", path_of(item.id)).content

    def write_direct(item_id: str, data: bytes) -> None:
        raw("PUT", path_of(item_id), data)

    def seed_files(parent_id: str, files) -> None:
        folder = path_of(parent_id)
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda f: raw("PUT", f"{folder}/{f[0]}", f[1]), files))

    def bare_upload(folder_name: str, files) -> None:
        """The benchmark's baseline: raw pyocclient, one PUT per file, in order."""
        client = owncloud.Client(emulator.url)
        client.login(USER, APP_PASSWORD)
        folder = f"/bench-{folder_name}"
        client.mkdir(folder)
        for name, data in files:
            client.put_file_contents(f"{folder}/{name}", data)
        client.logout()

    def web_session() -> requests.Session:
        """The owner's browser, signed in (the emulator takes Basic auth for a session)."""
        signed_in = requests.Session()
        signed_in.auth = (USER, APP_PASSWORD)
        return signed_in

    try:
        yield Target(
            key="nextcloud",
            emulator=emulator,
            new_provider=new_provider,
            read_direct=read_direct,
            expire_cursors=emulator.expire_cursors,
            extra={"bare_upload": bare_upload, "seed_files": seed_files,
                   "write_direct": write_direct, "web_session": web_session},
        )
    finally:
        emulator.stop()
