"""``python -m cloud_sync.conformance.memprobe``: one upload from a file (or one download
into a file: ``probe_download``), measured in a process of its own.

The conformance suite's local servers run in the test's process and keep what they
receive, so memory measured there grows with the file whatever the provider does. This
probe builds the provider from a JSON request on stdin (``key``, ``config``, ``path``,
``parent_id``, ``name``), uploads the file from an open file object with its size, and
prints one JSON line: ``peak`` (bytes, tracemalloc's peak during the upload: every
Python allocation of the provider and its SDK), ``id``, ``size``. :func:`probe_upload`
runs it for a provider of this process (the conformance suite, ``bench/upload.py
--large``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tracemalloc

from ..providers import provider_class
from ..spool import Spooled


def probe_upload(provider, path, name: str, parent_id: str | None = None) -> dict:
    """Upload the file ``path`` as ``name`` with ``provider``'s class and config, in a
    process of its own; its answer (``peak``, ``id``, ``size``)."""
    package = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        filter(None, [package, os.environ.get("PYTHONPATH")])))
    request = {"key": provider.key, "config": provider.config, "path": str(path),
               "parent_id": parent_id or provider.root_id, "name": name}
    done = subprocess.run([sys.executable, "-m", "cloud_sync.conformance.memprobe"],
                          input=json.dumps(request), capture_output=True, text=True,
                          env=env, timeout=1800, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"memprobe failed: {done.stderr[-3000:]}")
    return json.loads(done.stdout.splitlines()[-1])


def probe_download(provider, item_id: str, path) -> dict:
    """Download ``item_id`` into the file ``path`` as the sync does (``Spooled``), in a
    process of its own; its answer (``peak``, ``size``, ``checksum``: SHA-1)."""
    return _run({"op": "download", "key": provider.key, "config": provider.config,
                 "item_id": item_id, "path": str(path)})


def _run(request: dict) -> dict:
    package = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        filter(None, [package, os.environ.get("PYTHONPATH")])))
    done = subprocess.run([sys.executable, "-m", "cloud_sync.conformance.memprobe"],
                          input=json.dumps(request), capture_output=True, text=True,
                          env=env, timeout=1800, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"memprobe failed: {done.stderr[-3000:]}")
    return json.loads(done.stdout.splitlines()[-1])


def main() -> int:
    request = json.loads(sys.stdin.read())
    provider = provider_class(request["key"])(request["config"])
    path = request["path"]
    if request.get("op") == "download":
        try:
            tracemalloc.start()
            spooled = Spooled(path).fill(provider.download(request["item_id"]))
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
        finally:
            provider.close()
        print(json.dumps({"peak": peak, "size": spooled.size, "checksum": spooled.checksum}),
              flush=True)
        return 0
    try:
        with open(path, "rb") as stream:
            tracemalloc.start()
            item = provider.upload(request["parent_id"], request["name"], stream,
                                   os.path.getsize(path))
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
    finally:
        provider.close()
    print(json.dumps({"peak": peak, "id": item.id, "size": item.size}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
