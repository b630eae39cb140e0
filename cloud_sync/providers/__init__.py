"""Provider registry: one key per provider, used everywhere (see DESIGN.md).

Provider modules are imported lazily so that a missing optional SDK only breaks the
provider that needs it.
"""

from __future__ import annotations

import importlib
import importlib.util

from .base import Change, ChangeType, Item, Kind, Provider, Version
from .errors import (
    CloudError,
    CursorExpired,
    Fatal,
    NameTaken,
    NotFound,
    QuotaExceeded,
    ReauthRequired,
    RetryLater,
    Unsupported,
)

REGISTRY: dict[str, str] = {
    "s3": "cloud_sync.providers.s3:S3Provider",
    "webdav": "cloud_sync.providers.webdav:WebDAVProvider",
    "nextcloud": "cloud_sync.providers.nextcloud:NextcloudProvider",
    "google_drive": "cloud_sync.providers.google_drive:GoogleDriveProvider",
    "onedrive": "cloud_sync.providers.onedrive:OneDriveProvider",
    "dropbox": "cloud_sync.providers.dropbox:DropboxProvider",
    "box": "cloud_sync.providers.box:BoxProvider",
}


def available_keys() -> list[str]:
    """Keys whose module exists in this checkout."""
    keys = []
    for key, target in REGISTRY.items():
        module = target.split(":")[0]
        if importlib.util.find_spec(module) is not None:
            keys.append(key)
    return keys


def provider_class(key: str) -> type[Provider]:
    module, _, name = REGISTRY[key].partition(":")
    return getattr(importlib.import_module(module), name)


def make_provider(key: str, config: dict, **kwargs) -> Provider:
    return provider_class(key)(config, **kwargs)


__all__ = [
    "Change",
    "ChangeType",
    "CloudError",
    "CursorExpired",
    "Fatal",
    "Item",
    "Kind",
    "NameTaken",
    "NotFound",
    "Provider",
    "QuotaExceeded",
    "ReauthRequired",
    "REGISTRY",
    "RetryLater",
    "Unsupported",
    "Version",
    "available_keys",
    "make_provider",
    "provider_class",
]
