"""A download written to a file as it arrives: how a file from the cloud reaches Odoo's
filestore without being held in memory (``cloud_base``'s ``_clouds_store_spooled``
renames the file into place), and what ``bench/upload.py --large --download`` measures.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable

INDEX_HEAD = 1 << 20  # the first bytes kept (Odoo indexes text files from them)


class Spooled:
    """``fill(chunks)`` writes the chunks to ``path`` and computes on the way the SHA-1
    (Odoo's checksum), the size and the first :data:`INDEX_HEAD` bytes. ``checklist``:
    a file to remove with it (its entry on Odoo's garbage-collection checklist)."""

    def __init__(self, path: str, checklist: str | None = None):
        self.path, self.checklist = path, checklist
        self.size, self.head, self.checksum = 0, b"", None

    def fill(self, chunks: Iterable[bytes]) -> Spooled:
        digest = hashlib.sha1()  # noqa: S324 - Odoo's attachment checksum
        os.makedirs(os.path.dirname(self.path) or ".", exist_ok=True)
        try:
            with open(self.path, "wb") as out:
                for chunk in chunks:
                    out.write(chunk)
                    digest.update(chunk)
                    self.size += len(chunk)
                    if len(self.head) < INDEX_HEAD:
                        self.head += chunk[:INDEX_HEAD - len(self.head)]
        except BaseException:
            self.discard()
            raise
        self.checksum = digest.hexdigest()
        return self

    def discard(self) -> None:
        """Remove the file if still there, and its checklist entry."""
        for path in (self.path, self.checklist):
            if path and os.path.exists(path):
                os.unlink(path)
