"""Local servers that speak each provider's real HTTP protocol.

Every emulator is a WSGI application wrapped in the shared :class:`FaultInjector`
and served by :class:`LocalServer` on a free loopback port (HTTPS with a throwaway CA
where the SDK insists on it). Tests start them from pytest fixtures; people start them
with ``python -m cloud_sync.emulators <provider> --port N``.
"""

from .faults import FaultInjector
from .server import LocalServer

# provider key -> "module:function" returning an Emulator (see __main__.py)
EMULATORS = {
    "s3": "cloud_sync.emulators.s3:make_emulator",
    "webdav": "cloud_sync.emulators.webdav:make_emulator",
    "nextcloud": "cloud_sync.emulators.nextcloud:make_emulator",
    "google_drive": "cloud_sync.emulators.google_drive:make_emulator",
    "onedrive": "cloud_sync.emulators.onedrive:make_emulator",
    "dropbox": "cloud_sync.emulators.dropbox:make_emulator",
    "box": "cloud_sync.emulators.box:make_emulator",
}

__all__ = ["EMULATORS", "FaultInjector", "LocalServer"]
