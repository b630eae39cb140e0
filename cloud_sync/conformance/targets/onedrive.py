"""Conformance target for OneDrive / SharePoint: the local Graph emulator over HTTPS.

Variants (conformance ids ``onedrive-business``, ``onedrive-personal``,
``onedrive-sharepoint``): a business drive (quickXorHash, business item ids), a personal
one (sha1Hash, ``drive!n`` ids) and a SharePoint document library found from its site
(the provider gets ``site_id`` only and resolves the library's drive). ``read_direct``,
``bare_upload`` and the fresh root folders use plain ``requests`` against Graph's
documented endpoints, not the provider class.
"""

from __future__ import annotations

import contextlib
import uuid
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote

import requests

from ...emulators.onedrive import OneDriveEmulator
from ...providers.onedrive import FRAGMENT_UNIT, OneDriveProvider
from .. import Target

# the first is the default (benchmarks, the plain key)
VARIANTS = ["business", "personal", "sharepoint"]


class BareGraph:
    """Graph as a user would call it by hand with requests: the baseline and the
    independent read path."""

    def __init__(self, emulator: OneDriveEmulator, drive_type: str):
        self.config = emulator.provider_config(drive_type=drive_type)
        self.base = f"{self.config['graph_url']}/drives/{self.config['drive_id']}"
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {self.config['access_token']}"

    def request(self, method: str, url: str, **kwargs) -> requests.Response:
        answer = self.session.request(method, url, verify=self.config["ca_bundle"],
                                      timeout=60, **kwargs)
        answer.raise_for_status()
        return answer

    def folder(self, parent: str, name: str) -> str:
        body = {"name": name, "folder": {}, "@microsoft.graph.conflictBehavior": "fail"}
        return self.request("POST", f"{self.base}/items/{parent}/children", json=body).json()["id"]

    def read(self, item_id: str) -> bytes:
        return self.request("GET", f"{self.base}/items/{item_id}/content").content

    def upload(self, parent: str, name: str, data: bytes) -> None:
        path = f"{self.base}/items/{parent}:/{quote(name, safe='')}:"
        if len(data) <= OneDriveProvider.chunk_threshold:
            self.request("PUT", f"{path}/content", data=data)
            return
        url = self.request("POST", f"{path}/createUploadSession", json={}).json()["uploadUrl"]
        step = OneDriveProvider.fragment_size - OneDriveProvider.fragment_size % FRAGMENT_UNIT
        for start in range(0, len(data), step):
            chunk = data[start:start + step]
            requests.put(url, data=chunk, verify=self.config["ca_bundle"], timeout=60, headers={
                "Content-Range": f"bytes {start}-{start + len(chunk) - 1}/{len(data)}",
            }).raise_for_status()


@contextlib.contextmanager
def open_target(tmp_path, variant: str = VARIANTS[0]):
    if variant not in VARIANTS:
        raise ValueError(f"unknown onedrive variant {variant!r} (one of {VARIANTS})")
    emulator = OneDriveEmulator().start()
    bare = BareGraph(emulator, variant)

    def new_provider(config: dict | None = None, **kwargs) -> OneDriveProvider:
        root = bare.folder("root", f"conformance-{uuid.uuid4().hex[:12]}")
        settings = {**emulator.provider_config(root, drive_type=variant), **(config or {})}
        if variant == "sharepoint":
            settings["drive_id"] = ""  # resolved from site_id
        return OneDriveProvider(settings, **kwargs)

    def write_direct(item_id: str, data: bytes) -> None:
        bare.request("PUT", f"{bare.base}/items/{item_id}/content", data=data)

    def seed_files(parent_id: str, files) -> None:
        emulator.seed_files(bare.config["drive_id"], parent_id, files)

    def bare_upload(folder_name: str, files, threads: int = 1) -> None:
        folder = bare.folder("root", folder_name)
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(lambda f: bare.upload(folder, *f), files))

    try:
        yield Target(key="onedrive", emulator=emulator, new_provider=new_provider,
                     read_direct=lambda item: bare.read(item.id),
                     expire_cursors=emulator.expire_cursors,
                     extra={"bare_upload": bare_upload, "seed_files": seed_files,
                            "write_direct": write_direct})
    finally:
        bare.session.close()
        emulator.stop()
