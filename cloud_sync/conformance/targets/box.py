"""Conformance target for Box: the local Box emulator over HTTPS (throwaway CA).

``read_direct`` downloads with the bare SDK client (``downloads.download_file``), not
through :class:`BoxProvider`; ``bare_upload`` is the upload benchmark's baseline: one
plain ``uploads.upload_file`` per file with the bare SDK; ``write_direct`` uploads a new
version with it (``uploads.upload_file_version``); ``seed_files`` writes straight into the
emulator's store (with the events an upload makes).
"""

from __future__ import annotations

import contextlib
import io
import uuid

from box_sdk_gen import BoxClient, BoxDeveloperTokenAuth, NetworkSession
from box_sdk_gen.managers.folders import CreateFolderParent
from box_sdk_gen.managers.uploads import (
    UploadFileAttributes,
    UploadFileAttributesParentField,
    UploadFileVersionAttributes,
)
from box_sdk_gen.networking.base_urls import BaseUrls
from box_sdk_gen.networking.box_network_client import BoxNetworkClient

from ...emulators.box import BoxEmulator
from ...providers.box import BoxProvider, box_id
from .. import Target


def bare_client(emulator: BoxEmulator) -> BoxClient:
    """The SDK as a user would set it up by hand, pointed at the emulator."""
    import requests

    config = emulator.provider_config()
    session = requests.Session()
    session.verify = config["ca_bundle"]
    network = NetworkSession(
        network_client=BoxNetworkClient(session),
        base_urls=BaseUrls(base_url=config["api_url"], upload_url=config["upload_url"],
                           oauth_2_url=config["oauth_url"]),
    )
    return BoxClient(auth=BoxDeveloperTokenAuth(token=config["access_token"]),
                     network_session=network)


@contextlib.contextmanager
def open_target(tmp_path):
    emulator = BoxEmulator().start()
    bare = bare_client(emulator)

    def new_provider(config: dict | None = None, **kwargs) -> BoxProvider:
        folder = bare.folders.create_folder(f"conformance-{uuid.uuid4().hex[:12]}",
                                            CreateFolderParent(id="0"))
        return BoxProvider({**emulator.provider_config(f"folder:{folder.id}"),
                            **(config or {})}, **kwargs)

    def read_direct(item) -> bytes:
        return bare.downloads.download_file(box_id(item.id)[1]).read()

    def write_direct(item_id: str, data: bytes) -> None:
        file_id = box_id(item_id)[1]
        name = bare.files.get_file_by_id(file_id).name
        bare.uploads.upload_file_version(file_id, UploadFileVersionAttributes(name=name),
                                         io.BytesIO(data))

    def seed_files(parent_id: str, files) -> None:
        emulator.seed_files(box_id(parent_id)[1], files)

    def bare_upload(folder_name: str, files) -> None:
        folder = bare.folders.create_folder(folder_name, CreateFolderParent(id="0"))
        parent = UploadFileAttributesParentField(id=folder.id)
        for name, data in files:
            bare.uploads.upload_file(UploadFileAttributes(name=name, parent=parent),
                                     io.BytesIO(data))

    try:
        yield Target(key="box", emulator=emulator, new_provider=new_provider,
                     read_direct=read_direct, expire_cursors=emulator.expire_cursors,
                     extra={"bare_upload": bare_upload, "seed_files": seed_files,
                            "write_direct": write_direct})
    finally:
        emulator.stop()
