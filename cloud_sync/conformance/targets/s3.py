"""Conformance target for S3: moto in server mode behind the fault injector.

``read_direct`` and the ``extra`` hooks use a bare boto3 client against the same server.
The bucket has versioning enabled (as a bucket whose files should have versions would):
every test runs on it, deletions leaving delete markers; tests/test_s3.py checks that a
bucket without versioning answers ``Unsupported`` for versions.
``new_provider`` gives the provider a ``refresh_credentials`` callback handing out new
temporary credentials (moto accepts any), so an ``ExpiredToken`` answer is refreshed.
"""

from __future__ import annotations

import contextlib
import itertools
import uuid
import weakref
from concurrent.futures import ThreadPoolExecutor

from ...emulators.s3 import S3Emulator
from ...providers.s3 import S3Provider
from .. import Target

BARE_THREADS = 32  # the most threads bare_upload runs on (the benchmark: 2 x 8 workers)


@contextlib.contextmanager
def open_target(tmp_path):
    emulator = S3Emulator(data_dir=str(tmp_path)).start()
    client = emulator.client(threads=BARE_THREADS)
    bucket = emulator.bucket
    client.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    sessions = itertools.count(1)
    providers = weakref.WeakSet()

    def new_credentials() -> dict:
        n = next(sessions)
        return {"access_key": f"ASIA-TEST-{n}", "secret_key": f"secret-{n}",
                "session_token": f"session-{n}"}

    def new_provider(config: dict | None = None, **kwargs) -> S3Provider:
        root = f"conformance/{uuid.uuid4().hex[:12]}/"
        client.put_object(Bucket=bucket, Key=root, Body=b"")
        kwargs.setdefault("refresh_credentials", new_credentials)
        provider = S3Provider({**emulator.provider_config(root), **(config or {})}, **kwargs)
        providers.add(provider)
        return provider

    def expire_cursors() -> None:
        """Stored snapshots deleted and none left in memory (a restarted worker)."""
        emulator.expire_cursors()
        for provider in list(providers):
            provider.forget_snapshots()

    def read_direct(item) -> bytes:
        return client.get_object(Bucket=bucket, Key=item.id)["Body"].read()

    def write_direct(item_id: str, data: bytes) -> None:
        client.put_object(Bucket=bucket, Key=item_id, Body=data)

    def put_all(prefix: str, files) -> None:
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda f: client.put_object(Bucket=bucket, Key=prefix + f[0],
                                                      Body=f[1]), files))

    def bare_upload(folder_name: str, files, threads: int = 1) -> None:
        """The benchmark's baseline: one plain PutObject per file, in order or from
        ``threads`` threads (a boto3 client is thread-safe; its pool has a connection
        for each, so the baseline never pays new connections)."""
        if threads > BARE_THREADS:
            raise ValueError(f"the bare client has {BARE_THREADS} connections")
        prefix = f"bench/{folder_name}/"
        client.put_object(Bucket=bucket, Key=prefix, Body=b"")
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(lambda f: client.put_object(Bucket=bucket, Key=prefix + f[0],
                                                      Body=f[1]), files))

    try:
        yield Target(
            key="s3",
            emulator=emulator,
            new_provider=new_provider,
            read_direct=read_direct,
            expire_cursors=expire_cursors,
            extra={"bare_upload": bare_upload, "seed_files": put_all,
                   "write_direct": write_direct},
        )
    finally:
        emulator.stop()
