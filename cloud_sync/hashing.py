"""Content hashes by each provider's published algorithm.

Used to verify an upload before a local binary may ever be removed, and by the
emulators to answer what the real service would.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

DROPBOX_BLOCK = 4 * 1024 * 1024


class DropboxContentHasher:
    """SHA-256 of the concatenated SHA-256 digests of 4 MiB blocks."""

    name = "dropbox"

    def __init__(self):
        self._overall = hashlib.sha256()
        self._block = hashlib.sha256()
        self._block_pos = 0

    def update(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            take = min(DROPBOX_BLOCK - self._block_pos, len(view))
            self._block.update(view[:take])
            self._block_pos += take
            view = view[take:]
            if self._block_pos == DROPBOX_BLOCK:
                self._overall.update(self._block.digest())
                self._block = hashlib.sha256()
                self._block_pos = 0

    def hexdigest(self) -> str:
        overall = self._overall.copy()
        if self._block_pos:
            overall.update(self._block.digest())
        return overall.hexdigest()


class QuickXorHasher:
    """Microsoft's QuickXorHash (OneDrive for Business / SharePoint), base64 encoded."""

    name = "quickxor"
    WIDTH = 160
    SHIFT = 11

    def __init__(self):
        self._data = [0] * ((self.WIDTH - 1) // 64 + 1)
        self._shift = 0
        self._length = 0

    def update(self, data: bytes) -> None:
        cells = self._data
        width = self.WIDTH
        vector_bits = 64
        current = self._shift
        for byte in data:
            index = current // vector_bits
            offset = current % vector_bits
            if offset <= vector_bits - 8 or index == len(cells) - 1 and width % 64 == 0:
                cells[index] ^= (byte << offset) & 0xFFFFFFFFFFFFFFFF
            else:
                cells[index] ^= (byte << offset) & 0xFFFFFFFFFFFFFFFF
                nxt = 0 if index + 1 == len(cells) else index + 1
                cells[nxt] ^= byte >> (vector_bits - offset)
            current = (current + self.SHIFT) % width
        self._shift = current
        self._length += len(data)

    def digest(self) -> bytes:
        cells = self._data
        out = bytearray()
        for i, cell in enumerate(cells):
            size = 8 if i < len(cells) - 1 else (self.WIDTH % 64 or 64) // 8
            out += cell.to_bytes(8, "little")[:size]
        length = self._length.to_bytes(8, "little")
        tail = len(out) - 8
        for i in range(8):
            out[tail + i] ^= length[i]
        return bytes(out)

    def hexdigest(self) -> str:
        import base64

        return base64.b64encode(self.digest()).decode()


def new_hasher(algorithm: str):
    """A hashlib-like object with ``update`` and ``hexdigest`` for ``algorithm``."""
    if algorithm == "dropbox":
        return DropboxContentHasher()
    if algorithm == "quickxor":
        return QuickXorHasher()
    if algorithm in ("md5", "sha1", "sha256"):
        return hashlib.new(algorithm)
    raise ValueError(f"unknown hash algorithm {algorithm!r}")


ALGORITHMS = ("md5", "sha1", "sha256", "dropbox", "quickxor")


def hash_chunks(algorithm: str, chunks: Iterable[bytes]) -> str:
    hasher = new_hasher(algorithm)
    for chunk in chunks:
        hasher.update(chunk)
    return hasher.hexdigest()


def hash_bytes(algorithm: str, data: bytes) -> str:
    return hash_chunks(algorithm, [data])


def equal_hashes(algorithm: str, a: str | None, b: str | None) -> bool:
    """Compare two digests of ``algorithm`` (hex digests case-insensitively)."""
    if not a or not b:
        return False
    return a == b if algorithm == "quickxor" else a.lower() == b.lower()
