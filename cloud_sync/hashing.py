"""Content hashes by each provider's published algorithm.

Used to verify an upload before a local binary may ever be removed, and by the
emulators to answer what the real service would.
"""

from __future__ import annotations

import base64
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
    """Microsoft's QuickXorHash (OneDrive for Business / SharePoint), base64 encoded.

    Byte ``i`` of the input is XORed into a 160-bit circular register, rotated left by
    ``11 * i`` bits; the input length (little-endian) is XORed into the last 8 bytes.
    The rotation repeats every 160 bytes, so each update first folds its input into one
    160-byte block (XOR of all aligned blocks, done on big integers): fast in Python.
    """

    name = "quickxor"
    WIDTH = 160
    SHIFT = 11
    _BLOCK = WIDTH  # bytes after which the rotation pattern repeats
    _MASK = (1 << WIDTH) - 1

    def __init__(self):
        self._register = 0
        self._length = 0

    def update(self, data: bytes) -> None:
        if not data:
            return
        phase = self._length % self._BLOCK
        padded = phase + len(data)
        padded += -padded % self._BLOCK
        # bytes at the same position modulo 160 land on the same bits: XOR them first
        folded = int.from_bytes(data, "little") << (8 * phase)
        bits = padded * 8
        block_bits = self._BLOCK * 8
        while bits > block_bits:
            half = (bits // block_bits // 2) * block_bits
            folded = (folded & ((1 << half) - 1)) ^ (folded >> half)
            bits -= half
        block = folded.to_bytes(self._BLOCK, "little")
        register = self._register
        for position in range(min(self._BLOCK, phase + len(data))):
            byte = block[position]
            if byte:
                shift = position * self.SHIFT % self.WIDTH
                spread = byte << shift
                register ^= (spread | spread >> self.WIDTH) & self._MASK
        self._register = register
        self._length += len(data)

    def digest(self) -> bytes:
        out = bytearray(self._register.to_bytes(self.WIDTH // 8, "little"))
        for i, byte in enumerate(self._length.to_bytes(8, "little")):
            out[len(out) - 8 + i] ^= byte
        return bytes(out)

    def hexdigest(self) -> str:
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
