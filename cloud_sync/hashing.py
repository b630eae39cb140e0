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

    # bytes folded at once: the fold holds a few integers of this size, so an update
    # with a 10 MiB upload fragment costs a few MiB, not several copies of it
    _SLICE = 1024 * 1024

    def update(self, data: bytes) -> None:
        if len(data) > self._SLICE:
            view = memoryview(data)
            for start in range(0, len(view), self._SLICE):
                self._update(view[start:start + self._SLICE])
            return
        self._update(data)

    def _update(self, data) -> None:
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


class HashingReader:
    """A read-only view of a seekable binary file that hashes what it hands out.

    Providers read an upload in chunks, seek back to resend a chunk, or skip what a
    resumed session already holds; whatever the order, each byte is hashed once, in
    file order: bytes read past the hashed prefix extend it, bytes skipped over are
    read from the file when needed. :meth:`digests` hashes any rest the provider did not
    read. So verifying an upload costs no second pass over the file and never holds it
    whole in memory.
    """

    _GAP_BLOCK = 1024 * 1024

    def __init__(self, raw, algorithms=()):
        self._raw = raw
        self._hashers = {name: new_hasher(name) for name in dict.fromkeys(algorithms) if name}
        self._hashed = 0  # bytes [0, _hashed) went through every hasher

    # the file protocol the SDKs use
    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._raw.tell()

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._raw.seek(offset, whence)

    def read(self, size: int | None = -1) -> bytes:
        start = self._raw.tell()
        if start > self._hashed:
            self._catch_up(start)
        data = self._raw.read(-1 if size is None else size)
        end = start + len(data)
        if end > self._hashed:
            self._update(data if start == self._hashed else data[self._hashed - start:])
            self._hashed = end
        return data

    def close(self) -> None:
        self._raw.close()

    @property
    def closed(self) -> bool:
        return self._raw.closed

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # what the caller reads at the end
    def digests(self) -> tuple[int, dict[str, str]]:
        """(size of the file, {algorithm: hex digest}), hashing what was not read."""
        position = self._raw.tell()
        end = self._raw.seek(0, 2)
        self._catch_up(end)
        self._raw.seek(position)
        return self._hashed, {name: h.hexdigest() for name, h in self._hashers.items()}

    def _update(self, data: bytes) -> None:
        for hasher in self._hashers.values():
            hasher.update(data)

    def _catch_up(self, upto: int) -> None:
        if not self._hashers:  # nothing to hash: skipped bytes need no reading
            self._hashed = max(self._hashed, upto)
            return
        position = self._raw.tell()
        self._raw.seek(self._hashed)
        while self._hashed < upto:
            block = self._raw.read(min(self._GAP_BLOCK, upto - self._hashed))
            if not block:
                break
            self._update(block)
            self._hashed += len(block)
        self._raw.seek(position)


def hash_file(algorithm: str, stream, block: int = 1024 * 1024) -> tuple[int, str]:
    """(size, hex digest) of what remains of ``stream``, read in blocks."""
    hasher, size = new_hasher(algorithm), 0
    while chunk := stream.read(block):
        hasher.update(chunk)
        size += len(chunk)
    return size, hasher.hexdigest()
