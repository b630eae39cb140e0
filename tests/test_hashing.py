"""Content hashes: standard vectors, Dropbox's block definition, QuickXorHash vectors.

The QuickXorHash vectors are rclone's published test vectors
(backend/onedrive/quickxorhash/quickxorhash_test.go): input and digest, both base64.
"""

import base64
import hashlib
import io
import os
import random

import pytest

from cloud_sync.hashing import (
    ALGORITHMS,
    DROPBOX_BLOCK,
    HashingReader,
    equal_hashes,
    hash_bytes,
    hash_chunks,
    hash_file,
    new_hasher,
)


def test_standard_algorithms_match_fips_vectors():
    assert hash_bytes("md5", b"abc") == "900150983cd24fb0d6963f7d28e17f72"
    assert hash_bytes("sha1", b"abc") == "a9993e364706816aba3e25717850c26c9cd0d89d"
    assert hash_bytes("sha256", b"abc") == (
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")


def _chunked(data: bytes, seed: int) -> list[bytes]:
    rng = random.Random(seed)
    chunks, pos = [], 0
    while pos < len(data):
        step = rng.choice([1, 7, 160, 4096, 65536, DROPBOX_BLOCK - 1, DROPBOX_BLOCK + 3])
        chunks.append(data[pos:pos + step])
        pos += step
    return chunks


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_any_chunking_gives_the_same_digest(algorithm):
    data = os.urandom(3 * 1024 * 1024 + 11) if algorithm != "dropbox" else (
        os.urandom(DROPBOX_BLOCK + 5))
    whole = hash_bytes(algorithm, data)
    assert hash_chunks(algorithm, _chunked(data, 1)) == whole
    assert hash_chunks(algorithm, _chunked(data, 2)) == whole


def _dropbox_by_definition(data: bytes) -> str:
    """Dropbox's documented definition, computed independently of cloud_sync.hashing."""
    blocks = [data[i:i + 4 * 1024 * 1024] for i in range(0, len(data), 4 * 1024 * 1024)]
    return hashlib.sha256(b"".join(hashlib.sha256(b).digest() for b in blocks)).hexdigest()


@pytest.mark.parametrize("size", [0, 1, DROPBOX_BLOCK - 1, DROPBOX_BLOCK, DROPBOX_BLOCK + 1,
                                  2 * DROPBOX_BLOCK, 2 * DROPBOX_BLOCK + 12345])
def test_dropbox_content_hash_follows_the_block_definition(size):
    data = random.Random(size).randbytes(size)
    assert hash_bytes("dropbox", data) == _dropbox_by_definition(data)
    assert hash_chunks("dropbox", _chunked(data, size)) == _dropbox_by_definition(data)


def test_dropbox_hash_of_nothing_is_sha256_of_nothing():
    assert hash_bytes("dropbox", b"") == hashlib.sha256(b"").hexdigest()


# (input, expected digest), base64 — rclone's published QuickXorHash vectors
QUICKXOR_VECTORS = [
    ("", "AAAAAAAAAAAAAAAAAAAAAAAAAAA="),
    ("Sg==", "SgAAAAAAAAAAAAAAAQAAAAAAAAA="),
    ("tbQ=", "taAFAAAAAAAAAAAAAgAAAAAAAAA="),
    ("0pZP", "0rDEEwAAAAAAAAAAAwAAAAAAAAA="),
    ("jRRDVA==", "jaDAEKgAAAAAAAAABAAAAAAAAAA="),
    ("eAV52qE=", "eChAHrQRCgAAAAAABQAAAAAAAAA="),
    ("luBZlaT6", "lgBHFipBCn0AAAAABgAAAAAAAAA="),
    ("qaApEj66lw==", "qQBFCiTgA11cAgAABwAAAAAAAAA="),
    ("/aNzzCFPS/A=", "/RjFHJgRgicsAR4ACAAAAAAAAAA="),
    ("n6Neh7p6fFgm", "nxiFFw6hCz3wAQsmCQAAAAAAAAA="),
    ("J9iPGCbfZSTNyw==", "J8DGIzBggm+UgQTNUgYAAAAAAAA="),
    ("h490d57Pqz5q2rtT", "h3gEHe7giWeswgdq3MYupgAAAAA="),
    ("gQaybEqS/4UlDc8e4IJm", "gDCALNigBEn8oxAlZ8AzPAAOQZg="),
    ("2fuxhBJXtpWFe8dOfdGeHw==", "O9tHLAghgSvYohKFyMMxnNCHaHg="),
    ("T6LYJIfDh81JrAK309H2JMJTXis=", "zBTHrspn3mEcohlJdIUAbjGNaNg="),
    ("NbYXsp5/K6mR+NmHwExjvWeWDJFnXTKWVlzYHoesp2E=", "wjuAuWDiq04qDt1R8hHWDDcwVoQ="),
    ("Zbu+78+e35ZIymV5KTDdub5McyI3FEO8fDxs62uWHQ9U3Oh3ZqgaZ30SnmQ=",
     "DbvbTkgNTgWRqRidA9r1jhtUjro="),
    ("Mb7EGva2rEE5fENDL85P+BsapHEEjv2/siVhKjvAQe02feExVOQSkfmuYzU/kTF1MaKjPmKF/w+c"
     "bvwfdWL8aQ==", "n1anP5NfvD4XDYWIeRPW3ZkPv1Y="),
    ("ikwCorI7PKWz17EI50jZCGbV9JU2E8bXVfxNMg5zdmqSZ2NlsQPp0kqYIPjzwTg1MBtfWPg53k0h"
     "0P2naJNEVgrqpoHTfV2b3pJ4m0zYPTJmUX4Bg/lOxcnCxAYKU29Y5F0U8Quz7ZXFBEweftXxJ7RS"
     "4r6N7BzJrPsLhY7hgck=", "imAoFvCWlDn4yVw3/oq1PDbbm6U="),
    ("PfxMcUd0vIW6VbHG/uj/Y0W6qEoKmyBD0nYebEKazKaKG+UaDqBEcmQjbfQeVnVLuodMoPp7P7TR"
     "1htX5n2VnkHh22xDyoJ8C/ZQKiSNqQfXvh83judf4RVr9exJCud8Uvgip6aVZTaPrJHVjQhMCp/d"
     "EnGvqg0oN5OVkM2qqAXvA0teKUDhgNM71sDBVBCGXxNOR2bpbD1iM4dnuT0ey4L+loXEHTL0fqMe"
     "UcEi2asgImnlNakwenDzz0x57aBwyq3AspCFGB1ncX4yYCr/OaCcS5OKi/00WH+wNQU3",
     "QX/YEpG0gDsmhEpCdWhsxDzsfVE="),
    ("w0LGhqU1WXFbdavqDE4kAjEzWLGGzmTNikzqnsiXHx2KRReKVTxkv27u3UcEz9+lbMvYl4xFf2Z4"
     "aE1xRBBNd1Ke5C0zToSaYw5o4B/7X99nKK2/XaUX1byLow2aju2XJl2OpKpJg+tSJ2fmjIJTkfuY"
     "Uz574dFX6/VXxSxwGH/xQEAKS5TCsBK3CwnuG1p5SAsQq3gGVozDWyjEBcWDMdy8/AIFrj/y03Lf"
     "c/RNRCQTAfZbnf2QwV7sluw4fH3XJr07UoD0YqN+7XZzidtrwqMY26fpLZnyZjnBEt1FAZWO7RnK"
     "G5asg8xRk9YaDdedXdQSJAOy6bWEWlABj+tVAigBxavaluUH8LOj+yfCFldJjNLdi90fVHkUD/m4"
     "Mr5OtmupNMXPwuG3EQlqWUVpQoYpUYKLsk7a5Mvg6UFkiH596y5IbJEVCI1Kb3D1",
     "e3+wo77iKcILiZegnzyUNcjCdoQ="),
]


@pytest.mark.parametrize(("data", "expected"), QUICKXOR_VECTORS,
                         ids=[str(len(base64.b64decode(d))) for d, _ in QUICKXOR_VECTORS])
def test_quickxor_matches_published_vectors(data, expected):
    raw = base64.b64decode(data)
    assert hash_bytes("quickxor", raw) == expected
    for block in (1, 2, 7, 64, 159, 161):  # the same digest whatever the update sizes
        hasher = new_hasher("quickxor")
        for start in range(0, len(raw), block):
            hasher.update(raw[start:start + block])
        assert hasher.hexdigest() == expected


def _quickxor_by_definition(data: bytes) -> str:
    """Byte i XORed into a 160-bit circular register at bit 11*i mod 160; the length,
    little-endian, XORed into the last 8 bytes. Slow and obvious, for comparison."""
    register, mask = 0, (1 << 160) - 1
    for i, byte in enumerate(data):
        spread = byte << (11 * i % 160)
        register ^= (spread & mask) | (spread >> 160)
    out = bytearray(register.to_bytes(20, "little"))
    for i, byte in enumerate(len(data).to_bytes(8, "little")):
        out[12 + i] ^= byte
    return base64.b64encode(bytes(out)).decode()


def test_quickxor_on_large_input_matches_the_definition():
    data = random.Random(7).randbytes(20_011)
    assert hash_chunks("quickxor", _chunked(data, 3)) == _quickxor_by_definition(data)


def test_equal_hashes():
    assert equal_hashes("md5", "ABCDEF", "abcdef")
    assert not equal_hashes("md5", None, "abcdef")
    assert not equal_hashes("sha1", "", "")
    assert not equal_hashes("quickxor", "AAAA=", "aaaa=")  # base64 is case-sensitive


def test_unknown_algorithm_is_refused():
    with pytest.raises(ValueError, match="unknown hash algorithm"):
        new_hasher("crc32")


@pytest.mark.parametrize("seed", range(20))
def test_hashing_reader_hashes_each_byte_once_whatever_the_reads(seed):
    """Chunks resent after a seek back, a resumed upload skipping what the server holds,
    a provider that stops early: the digests are those of the whole file."""
    rng = random.Random(seed)
    data = rng.randbytes(rng.randrange(0, 3 * DROPBOX_BLOCK))
    reader = HashingReader(io.BytesIO(data), ALGORITHMS)
    position = 0
    for _step in range(rng.randrange(0, 12)):
        move = rng.random()
        if move < 0.3:
            position = rng.randrange(0, len(data) + 1)  # back (a retry) or ahead (resume)
        reader.seek(position)
        got = reader.read(rng.choice([None, -1, 1, 4096, DROPBOX_BLOCK + 3]))
        assert got == data[position:position + len(got)]
        position += len(got)
    size, digests = reader.digests()
    assert size == len(data)
    assert digests == {name: hash_bytes(name, data) for name in ALGORITHMS}
    assert reader.tell() == position  # digests() leaves the position where it was


def test_hashing_reader_without_algorithms_counts_the_size():
    reader = HashingReader(io.BytesIO(b"x" * 1000), [None])
    reader.seek(600)
    assert reader.read(100) == b"x" * 100
    assert reader.digests() == (1000, {})


def test_hash_file_reads_in_blocks(tmp_path):
    data = os.urandom(3 * 1024 * 1024 + 5)
    path = tmp_path / "f.bin"
    path.write_bytes(data)
    with open(path, "rb") as handle:
        assert hash_file("sha1", handle, block=4096) == (len(data),
                                                        hashlib.sha1(data).hexdigest())
