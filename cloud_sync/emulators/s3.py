"""S3 local server: moto's S3 WSGI app behind the shared fault injector.

moto is a faithful S3 server; this module only adds S3-worded faults (503 ``SlowDown``,
429 with Retry-After, ``400 ExpiredToken``), a bucket to start from, and one fix: in a
versioned bucket, a prefix whose keys are all delete markers is not listed (as S3). moto keeps its
state in process memory (``data_dir`` is ignored), shared by every moto app of the
process, so each emulator makes its own bucket.
"""

from __future__ import annotations

import itertools
import os

from .base import Emulator
from .faults import Answer

ACCESS_KEY = "cloud-sync-test"
SECRET_KEY = "cloud-sync-secret"
REGION = "us-east-1"
_serial = itertools.count(1)

_CODES = {429: ("SlowDown", "Too Many Requests"), 500: ("InternalError", "Internal Server Error"),
          502: ("InternalError", "Bad Gateway"), 503: ("SlowDown", "Service Unavailable"),
          504: ("RequestTimeout", "Gateway Timeout")}


def s3_error_xml(code: str, message: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{message}</Message>"
        "<RequestId>cloud-sync-fault</RequestId></Error>"
    ).encode()


def s3_error_answer(status: int, retry_after: float | None) -> Answer:
    code, reason = _CODES.get(status, ("InternalError", "Error"))
    headers = [("Content-Type", "application/xml")]
    if retry_after is not None:
        headers.append(("Retry-After", f"{retry_after:g}"))
    return f"{status} {reason}", headers, s3_error_xml(code, "Please reduce your request rate.")


def s3_expired_answer() -> Answer:
    body = s3_error_xml("ExpiredToken", "The provided token has expired.")
    return "400 Bad Request", [("Content-Type", "application/xml")], body


class S3Emulator(Emulator):
    key = "s3"

    def __init__(self, *, bucket: str | None = None, **kwargs):
        self.bucket = bucket or f"cloud-sync-{os.getpid()}-{next(_serial)}"
        super().__init__(**kwargs)

    def make_app(self):
        from moto.core.models import DEFAULT_ACCOUNT_ID
        from moto.moto_server.werkzeug_app import create_backend_app
        from moto.s3.models import s3_backends

        backend = s3_backends[DEFAULT_ACCOUNT_ID]["aws"]
        backend.create_bucket(self.bucket, REGION)
        _list_prefixes_as_s3_does(backend)
        return create_backend_app("s3")

    def fault_wording(self) -> dict:
        return {"error_answer": s3_error_answer, "expired_answer": s3_expired_answer}

    def provider_config(self, root: str = "") -> dict:
        return {
            "bucket": self.bucket,
            "region": REGION,
            "endpoint_url": self.url,
            "access_key": ACCESS_KEY,
            "secret_key": SECRET_KEY,
            "path_style": True,
            "root": root,
        }

    def client(self, threads: int = 10):
        """A bare boto3 client on this server (the independent path of the tests), with
        a connection for each of the ``threads`` it is used from (botocore keeps 10: more
        threads would open and discard connections)."""
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3", endpoint_url=self.url, region_name=REGION, aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            config=Config(s3={"addressing_style": "path"}, retries={"total_max_attempts": 1},
                          max_pool_connections=max(10, threads)),
        )

    def expire_cursors(self) -> None:
        """Delete every stored listing snapshot, as a lifecycle rule on the state prefix
        would (see :mod:`cloud_sync.providers.s3`)."""
        from ..providers.s3 import STATE_PREFIX

        client = self.client()
        pages = client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=STATE_PREFIX)
        for page in pages:
            keys = [{"Key": obj["Key"]} for obj in page.get("Contents", [])]
            if keys:
                client.delete_objects(Bucket=self.bucket, Delete={"Objects": keys})


def _list_prefixes_as_s3_does(backend) -> None:
    """moto lists a common prefix (a "folder") whose keys are all delete markers, in a
    versioned bucket; S3 does not (ListObjects never shows delete markers): such
    prefixes are dropped. moto's ``list_objects`` also serves ListObjectsV2."""
    from moto.s3.models import FakeDeleteMarker

    if getattr(backend.list_objects, "faithful", False):
        return  # the backend is shared by every moto app of the process
    original = backend.list_objects

    def list_objects(bucket, prefix, delimiter, marker, max_keys):
        keys, folders, truncated, next_marker = original(bucket, prefix, delimiter, marker,
                                                         max_keys)
        if folders:
            live = [name for name, key in bucket.keys.items()
                    if not isinstance(key, FakeDeleteMarker)]
            folders = [f for f in folders if any(name.startswith(f) for name in live)]
        return keys, folders, truncated, next_marker

    list_objects.faithful = True
    backend.list_objects = list_objects


def make_emulator(host: str = "127.0.0.1", port: int = 0, data_dir: str | None = None):
    return S3Emulator(host=host, port=port, data_dir=data_dir)
