"""The single behavioural suite every provider must pass.

Each provider contributes a *target* in ``cloud_sync/conformance/targets/<key>.py``:
a function ``open_target(tmp_path)`` used as a context manager that starts the
provider's local server(s) and yields a :class:`Target`. The suite
(``cloud_sync.conformance.suite``) is run by ``tests/test_conformance.py``,
parametrised over every target present, with the provider key as test id.
A provider tested against several servers lists them in its module's ``VARIANTS``
(the first is the default, used by benchmarks) and takes ``open_target(tmp_path,
variant)``; its conformance ids are then ``<key>-<variant>`` (see :func:`target_ids`).

``Target.new_provider(config=None, **kwargs)``: ``config`` entries override the
target's own config (the suite sets ``{"timeout": seconds}``, a key every provider
honours); the other kwargs go to the provider's constructor (``retry``,
``on_token_refresh``).

Optional hooks in ``Target.extra``:

- ``"seed_files"(parent_id, files)``: create ``files`` (a list of ``(name, bytes)``)
  under the folder ``parent_id`` by a fast direct path (the 1,050-children test);
- ``"write_direct"(item_id, data)``: replace the content of the existing file ``item_id``
  through the independent path (as a user of the cloud would: raw SDK or plain HTTP),
  for the benchmark's one-remote-change cycle;
- ``"bare_upload"(folder_name, files, threads=1)``: the benchmark baseline
  (``bench/upload.py``, ``bench/sync.py``): upload ``files`` with the raw SDK into a fresh
  folder ``folder_name`` on the same server, the way a plain SDK user would: one file
  after the other, or from ``threads`` threads (each with its own client where the
  SDK's client is not shared across threads by its users).
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass, field

from ..providers import REGISTRY
from ..providers.base import Item, Provider


@dataclass
class Target:
    key: str
    emulator: object  # cloud_sync.emulators.base.Emulator (or a wrapper with .faults)
    # a provider bound to a fresh, empty root folder: new_provider(config=None, **kwargs)
    new_provider: Callable[..., Provider]
    # the content of an item read through a second, independent path (raw SDK / HTTP)
    read_direct: Callable[[Item], bytes]
    # make every cursor handed out so far expired
    expire_cursors: Callable[[], None]
    extra: dict = field(default_factory=dict)


def target_keys() -> list[str]:
    """Provider keys that have a conformance target in this checkout."""
    return [
        key for key in REGISTRY
        if importlib.util.find_spec(f"cloud_sync.conformance.targets.{key}") is not None
    ]


def target_ids() -> list[str]:
    """Conformance ids: the provider key, or ``<key>-<variant>`` per server variant."""
    ids = []
    for key in target_keys():
        module = importlib.import_module(f"cloud_sync.conformance.targets.{key}")
        variants = getattr(module, "VARIANTS", None)
        ids += [f"{key}-{variant}" for variant in variants] if variants else [key]
    return ids


def open_target(target_id: str, tmp_path):
    """Open the target of a provider key (its default variant) or of a target id."""
    key, variant = target_id, None
    if key not in REGISTRY:
        key, _, variant = target_id.partition("-")
    module = importlib.import_module(f"cloud_sync.conformance.targets.{key}")
    if variant is None:
        return module.open_target(tmp_path)
    return module.open_target(tmp_path, variant)
