"""Conformance targets for WebDAV: two real servers, wsgidav and Apache mod_dav.

Both run the whole suite (conformance ids ``webdav-wsgidav`` and ``webdav-apache``):
faults go through the shared injector (in front of wsgidav, or in the reverse proxy in
front of Apache). ``read_direct`` and the ``extra`` hooks use plain HTTP (requests), or
the bare SDK for the benchmark baseline, straight to the server (Apache without the
proxy). Each provider gets a fresh root folder ``/conformance-<random>``.
"""

from __future__ import annotations

import contextlib
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote

import requests
from webdav3.client import Client

from ...emulators.webdav import PASSWORD, USER, ApacheEmulator, WsgiDAVEmulator
from ...providers.webdav import WebDAVProvider
from .. import Target

VARIANTS = ["wsgidav", "apache"]  # the first is the default (benchmarks, plain key)
_EMULATORS = {"wsgidav": WsgiDAVEmulator, "apache": ApacheEmulator}


@contextlib.contextmanager
def open_target(tmp_path, variant: str = VARIANTS[0]):
    if variant not in _EMULATORS:
        raise ValueError(f"unknown webdav variant {variant!r} (one of {VARIANTS})")
    # Apache's children run as www-data: its files live in a temp dir it can reach.
    data_dir = str(tmp_path / "files") if variant == "wsgidav" else None
    emulator = _EMULATORS[variant](data_dir=data_dir).start()
    direct = emulator.direct_url
    local = threading.local()

    def session() -> requests.Session:
        if getattr(local, "session", None) is None:
            local.session = requests.Session()
            local.session.auth = (USER, PASSWORD)
        return local.session

    def raw(method: str, path: str, data: bytes | None = None) -> requests.Response:
        answer = session().request(method, direct + quote(path), data=data, timeout=30)
        if answer.status_code >= 300:
            raise AssertionError(f"{method} {path}: HTTP {answer.status_code}")
        return answer

    def web_session() -> requests.Session:
        """The owner's browser: the server asks for Basic auth, the browser sends it."""
        signed_in = requests.Session()
        signed_in.auth = (USER, PASSWORD)
        return signed_in

    def new_provider(config: dict | None = None, **kwargs) -> WebDAVProvider:
        root = f"/conformance-{uuid.uuid4().hex[:12]}"
        raw("MKCOL", root)
        return WebDAVProvider({**emulator.provider_config(root), **(config or {})}, **kwargs)

    def read_direct(item) -> bytes:
        return raw("GET", item.id).content

    def write_direct(item_id: str, data: bytes) -> None:
        raw("PUT", item_id, data)

    def seed_files(parent_id: str, files) -> None:
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda f: raw("PUT", f"{parent_id}/{f[0]}", f[1]), files))

    def bare_upload(folder_name: str, files, threads: int = 1) -> None:
        """The benchmark's baseline: the bare SDK, one PUT per file, in order or from
        ``threads`` threads with a client each, through the same fault injector (so its
        calls are counted the same way)."""
        clients = []
        mine = threading.local()

        def client() -> Client:
            if getattr(mine, "client", None) is None:
                mine.client = Client({"webdav_hostname": emulator.url, "webdav_login": USER,
                                      "webdav_password": PASSWORD})
                clients.append(mine.client)
            return mine.client

        folder = f"/bench-{folder_name}"
        client().execute_request("mkdir", quote(folder))
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(lambda f: client().execute_request(
                "upload", quote(f"{folder}/{f[0]}"), data=f[1]), files))
        for each in clients:
            each.session.close()

    try:
        yield Target(
            key="webdav",
            emulator=emulator,
            new_provider=new_provider,
            read_direct=read_direct,
            expire_cursors=emulator.expire_cursors,
            extra={"bare_upload": bare_upload, "seed_files": seed_files, "variant": variant,
                   "write_direct": write_direct,
                   "web_session": web_session},
        )
    finally:
        emulator.stop()
