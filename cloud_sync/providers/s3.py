"""Amazon S3 / MinIO on boto3.

Layout: the item id is the object key. A folder is a key prefix ending in ``/`` with a
folder marker object (the prefix itself, empty); prefixes without a marker (made by
other tools) are listed as folders too. ``root`` is a key prefix (``""``: the bucket).

Decisions:

- Names are unique per kind: an upload or folder creation is a conditional write
  (``If-None-Match: *``), one request per small file, raising :class:`NameTaken`. A file
  ``x`` and a folder ``x/`` are different keys and may coexist, as S3 allows.
- Rename/move of a file is CopyObject + DeleteObject (the id changes); of a folder, a
  copy of every key below, and only once every copy succeeded, the deletes. A crash in
  between leaves both trees (never less data); CopyObject is limited to 5 GB per object.
- Links: presigned GET URLs valid ``link_lifetime`` seconds. S3 has no internal UI link,
  so the internal link is the same presigned URL. Folders have no link (:class:`Fatal`).
  A file's ``web_url`` is its ``s3://bucket/key`` address, not a browser link.
- Change feed: S3 has none. The cursor names a snapshot of the listing (key -> ETag,
  size), gzipped JSON stored in the bucket under :data:`STATE_PREFIX` and addressed by
  its SHA-256 (identical snapshots are stored once). ``changes`` diffs the snapshot
  against a fresh listing; a vanished key and a new key with the same ETag and size
  (unique on both sides) are a rename/move, otherwise a deletion and a creation. A
  garbled cursor or a snapshot removed (e.g. by a lifecycle rule on the state prefix,
  which bounds their number) raises :class:`CursorExpired`. The instance keeps the last
  snapshots it stored or read (content addressed, so never stale): a poll with nothing
  changed costs only the listing pages (1 per 1,000 keys), with no HEAD, GET or PUT.
  After a sync run that wrote, ``advance`` applies the run's own writes to the
  snapshot (one PUT, no listing); a folder move falls back to a listing.
- Hashes: a single-part ETag is the MD5 of the content (``hash_type = "md5"``); a
  multipart ETag (``md5-N``) is not a content hash, so ``content_hash`` is None.
- Errors: NoSuchKey/404 -> NotFound; 412 (a conditional write lost) -> NameTaken;
  ExpiredToken/InvalidAccessKeyId/SignatureDoesNotMatch -> ReauthRequired; storage full
  (MinIO) -> QuotaExceeded; SlowDown/429/5xx/timeouts/connection errors -> RetryLater with
  the Retry-After header; anything else (AccessDenied, NoSuchBucket...) -> Fatal.
- Retries: botocore's own retries are off (``total_max_attempts=1``) so that the one
  policy of :mod:`cloud_sync.retry` governs; timeouts are the config key ``timeout``.
- Credentials: static keys cannot be refreshed (``ExpiredToken`` etc. raise
  :class:`ReauthRequired`). With a ``refresh_credentials`` callback (temporary STS
  credentials) an expired token is refreshed through it and the request retried once.
"""

from __future__ import annotations

import contextlib
import functools
import gzip
import hashlib
import json
import threading
from collections.abc import Callable, Iterator
from typing import BinaryIO

from ..naming import NameRules
from .base import Change, ChangeType, Item, Kind, Provider, Resume, Version, exact_chunks
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

MAX_LINK_LIFETIME = 7 * 24 * 3600  # SigV4 presigned URLs: at most 7 days
STATE_PREFIX = ".cloud-sync-state/"
_CURSOR_TAG = "s3snap1:"
_NOT_FOUND = {"NoSuchKey", "NotFound", "404", "NoSuchUpload", "NoSuchVersion"}
_RETRY = {"SlowDown", "ThrottlingException", "Throttling", "TooManyRequests", "RequestTimeout",
          "InternalError", "ServiceUnavailable", "503", "500", "429"}
_REAUTH = {"ExpiredToken", "InvalidAccessKeyId", "SignatureDoesNotMatch", "TokenRefreshRequired",
           "InvalidToken"}
_SESSION_LOCK = threading.Lock()
_QUOTA = {"QuotaExceeded", "XMinioStorageFull", "StorageFull", "XMinioAdminBucketQuotaExceeded"}


class S3Provider(Provider):
    key = "s3"
    name_rules = NameRules(forbidden_chars="/\\", max_length=255)
    hash_type = "md5"
    part_size = 8 * 1024 * 1024
    resumes_uploads = True  # the multipart upload id, asked for its parts (ListParts)
    has_public_links = True
    public_link_is_content = True
    internal_link_is_content = True
    link_options = frozenset({"expires_in"})
    has_versions = True  # where the bucket has versioning (else Unsupported)
    server_side_copy = True  # CopyObject (up to 5 GB: larger needs UploadPartCopy)

    def __init__(self, config: dict, *, refresh_credentials: Callable[[], dict] | None = None,
                 **kwargs):
        super().__init__(config, **kwargs)
        if not self.config.get("bucket"):
            raise Fatal("S3 configuration lacks a bucket")
        root = self.config.get("root") or ""
        self._root = root if not root or root.endswith("/") else root + "/"
        self.bucket = self.config["bucket"]
        self.refresh_credentials = refresh_credentials
        self.refreshes_tokens = refresh_credentials is not None
        self.client = self._make_client(self.config)
        self._snapshots: dict[str, dict] = {}  # digest -> snapshot, stored in the bucket
        self._versioning: str | None = None  # the bucket's versioning status, once asked

    def _make_client(self, config: dict):
        from botocore.config import Config

        timeout = float(config.get("timeout") or 60)
        options = Config(
            s3={"addressing_style": "path" if config.get("path_style") else "auto"},
            retries={"total_max_attempts": 1},  # one retry policy: ours
            connect_timeout=timeout,
            read_timeout=timeout,
            max_pool_connections=16,
        )
        with _SESSION_LOCK:  # a session is not thread-safe; the clients it makes are
            return _session().client(
                "s3",
                endpoint_url=config.get("endpoint_url") or None,
                region_name=config.get("region") or None,
                aws_access_key_id=config.get("access_key") or None,
                aws_secret_access_key=config.get("secret_key") or None,
                aws_session_token=config.get("session_token") or None,
                config=options,
            )

    # -- errors and credentials ---------------------------------------------------------
    def translate(self, exc: Exception) -> Exception:
        from botocore import exceptions as bex

        if isinstance(exc, CloudError):
            return exc
        if isinstance(exc, bex.ClientError):
            error = exc.response.get("Error", {})
            meta = exc.response.get("ResponseMetadata", {})
            code = str(error.get("Code", ""))
            status = meta.get("HTTPStatusCode")
            message = f"{code}: {error.get('Message', '')}"
            if code in _NOT_FOUND or status == 404:
                return NotFound(message, status=status)
            if code == "InvalidArgument" and "version id" in message.lower():
                return NotFound(message, status=status)  # S3: "Invalid version id specified"
            if code == "PreconditionFailed" or status == 412:
                return NameTaken(message, status=status)
            if code in _REAUTH:
                return ReauthRequired(message, status=status)
            if code in _QUOTA:
                return QuotaExceeded(message, status=status)
            if code in _RETRY or (status and (status == 429 or status >= 500)):
                after = meta.get("HTTPHeaders", {}).get("retry-after")
                return RetryLater(message, retry_after=_seconds(after), status=status)
            return Fatal(message, status=status)
        if isinstance(exc, (bex.ConnectionError, bex.HTTPClientError)):
            return RetryLater(f"{type(exc).__name__}: {exc}")
        return exc

    def refresh_token(self) -> bool:
        """Temporary credentials: fetch new ones through the callback, rebuild the client."""
        if not self.refresh_credentials:
            return False
        fresh = self.refresh_credentials()
        self.config.update(fresh)
        self.client = self._make_client(self.config)
        self.notify_token(fresh)
        return True

    # -- helpers ------------------------------------------------------------------------
    @property
    def root_id(self) -> str:
        return self._root

    def _item(self, key: str, *, size: int = 0, etag: str | None = None, modified=None) -> Item:
        folder = key.endswith("/")
        stem = key[:-1] if folder else key
        parent, _, name = stem.rpartition("/")
        etag = etag.strip('"') if etag else None
        single_part = bool(etag) and "-" not in etag and not folder
        return Item(
            id=key,
            name=name,
            kind=Kind.FOLDER if folder else Kind.FILE,
            parent_id=parent + "/" if parent else "",
            size=0 if folder else size,
            version=etag,
            hash_type=None if folder else self.hash_type,
            content_hash=etag if single_part else None,
            modified=modified,
            # the object's address (S3 has no web page of an object); a browser opens a
            # file through link(), a presigned URL asked for at click time
            web_url=None if folder else f"s3://{self.bucket}/{key}",
        )

    def _child_key(self, parent_id: str, name: str, folder: bool = False) -> str:
        if parent_id and not parent_id.endswith("/"):
            raise Fatal(f"not a folder id: {parent_id!r}")
        return parent_id + self.safe_name(name) + ("/" if folder else "")

    def _head(self, key: str) -> dict:
        return self.call(lambda: self.client.head_object(Bucket=self.bucket, Key=key))

    def _exists(self, key: str) -> bool:
        try:
            self._head(key)
        except NotFound:
            return False
        return True

    def _keys_below(self, prefix: str) -> list[dict]:
        """Every object under ``prefix`` (recursive), state snapshots excluded."""
        objects, token = [], None
        while True:
            kwargs = {"Bucket": self.bucket, "Prefix": prefix}
            if token:
                kwargs["ContinuationToken"] = token
            page = self.call(lambda kw=kwargs: self.client.list_objects_v2(**kw))
            objects += [o for o in page.get("Contents", [])
                        if not o["Key"].startswith(STATE_PREFIX)]
            if not page.get("IsTruncated"):
                return objects
            token = page["NextContinuationToken"]

    # -- the contract -------------------------------------------------------------------
    def create_folder(self, parent_id: str, name: str) -> Item:
        key = self._child_key(parent_id, name, folder=True)
        result = self.call(lambda: self.client.put_object(
            Bucket=self.bucket, Key=key, Body=b"", IfNoneMatch="*"))
        return self._item(key, etag=result.get("ETag"))

    def upload(self, parent_id: str, name: str, stream: BinaryIO, size: int | None = None,
               resume: Resume | None = None) -> Item:
        return self._write(self._child_key(parent_id, name), stream, size, create=True,
                           resume=resume)

    def update(self, item_id: str, stream: BinaryIO, size: int | None = None,
               resume: Resume | None = None) -> Item:
        if item_id.endswith("/"):
            raise Fatal(f"cannot update a folder: {item_id!r}")
        self._head(item_id)  # NotFound for a missing file: update never creates
        return self._write(item_id, stream, size, create=False, resume=resume)

    def _write(self, key: str, stream: BinaryIO, size: int | None, *, create: bool,
               resume: Resume | None = None) -> Item:
        """PUT in one request up to ``chunk_threshold``, multipart above. A known size
        above the threshold goes straight to multipart: each part is read from the stream
        when it is sent, so memory holds one part, whatever the file's size."""
        head = b""
        if size is None or size <= self.chunk_threshold:
            head = stream.read(self.chunk_threshold + 1)
            if len(head) <= self.chunk_threshold:
                return self._put(key, head, create=create)
        if create and self._exists(key):  # fail before sending megabytes for nothing
            raise NameTaken(f"{key} exists", existing_id=key)
        # at most 10,000 parts per upload: grow the parts for very large known sizes
        part_size = max(self.part_size, -(-(size or 0) // 10_000))
        return self._multipart(key, head, stream, part_size, create=create,
                               resume=resume if size is not None else None, size=size)

    def _put(self, key: str, data: bytes, *, create: bool) -> Item:
        """One PUT; conditional when creating. If a retried create meets our own first
        attempt (it succeeded but the answer was lost), that is success, not a clash."""
        attempts = []

        def put():
            attempts.append(1)
            extra = {"IfNoneMatch": "*"} if create else {}
            return self.client.put_object(Bucket=self.bucket, Key=key, Body=data, **extra)

        try:
            result = self.call(put)
        except NameTaken:
            if len(attempts) > 1 and self.metadata(key).version == hashlib.md5(data).hexdigest():
                return self.metadata(key)
            raise NameTaken(f"{key} exists", existing_id=key) from None
        return self._item(key, size=len(data), etag=result.get("ETag"))

    def _multipart(self, key: str, head: bytes, rest: BinaryIO, part_size: int, *,
                   create: bool, resume: Resume | None = None, size: int | None = None
                   ) -> Item:
        """Multipart upload. With ``resume`` (a known size), the upload id is saved and
        kept when the upload fails, and a saved one continues after the parts S3 lists
        (ListParts); without, a failed upload is aborted."""
        upload_id, parts = self._resumed_upload(resume, key, size, part_size)
        if upload_id:
            rest.seek(rest.tell() + len(parts) * part_size)
        else:
            upload_id = self.call(lambda: self.client.create_multipart_upload(
                Bucket=self.bucket, Key=key))["UploadId"]
            if resume is not None:
                resume.store(self.key, key, size, upload_id=upload_id, part_size=part_size)
        try:
            total = len(parts) * part_size
            for number, chunk in enumerate(exact_chunks(head, rest, part_size),
                                           start=len(parts) + 1):
                total += len(chunk)
                result = self.call(lambda c=chunk, n=number: self.client.upload_part(
                    Bucket=self.bucket, Key=key, UploadId=upload_id, PartNumber=n, Body=c))
                parts.append({"PartNumber": number, "ETag": result["ETag"]})
                if resume is not None:
                    resume.save(dict(resume.state, parts=number))
            extra = {"IfNoneMatch": "*"} if create else {}
            result = self.call(lambda: self.client.complete_multipart_upload(
                Bucket=self.bucket, Key=key, UploadId=upload_id,
                MultipartUpload={"Parts": parts}, **extra))
        except BaseException:
            if resume is None:
                with contextlib.suppress(Exception):  # the original error is what matters
                    self.client.abort_multipart_upload(
                        Bucket=self.bucket, Key=key, UploadId=upload_id)
            raise
        if resume is not None:
            resume.drop()
        return self._item(key, size=total, etag=result.get("ETag"))

    def _resumed_upload(self, resume: Resume | None, key: str, size: int | None,
                        part_size: int) -> tuple[str | None, list[dict]]:
        """(upload id, parts 1..n already complete) of a saved multipart upload S3 still
        lists; (None, []) to start over (the saved one is aborted and dropped)."""
        state = resume and resume.matching(self.key, key, size)
        if not state or state.get("part_size") != part_size or not state.get("upload_id"):
            return None, []
        upload_id, listed, marker = state["upload_id"], {}, 0
        try:
            while True:
                page = self.call(lambda m=marker: self.client.list_parts(
                    Bucket=self.bucket, Key=key, UploadId=upload_id, PartNumberMarker=m))
                listed.update((p["PartNumber"], p) for p in page.get("Parts", []))
                if not page.get("IsTruncated"):
                    break
                marker = page["NextPartNumberMarker"]
        except (NotFound, Fatal):  # NoSuchUpload: completed, aborted or expired
            resume.drop()
            return None, []
        parts = []
        while (len(parts) + 1) in listed and listed[len(parts) + 1]["Size"] == part_size \
                and (len(parts) + 1) * part_size < size:
            parts.append({"PartNumber": len(parts) + 1, "ETag": listed[len(parts) + 1]["ETag"]})
        return upload_id, parts

    def download(self, item_id: str) -> Iterator[bytes]:
        return self._get(item_id)

    def _get(self, key: str, **extra) -> Iterator[bytes]:
        """GetObject (``extra``: ``VersionId``), streamed in chunks."""
        body = self.call(lambda: self.client.get_object(
            Bucket=self.bucket, Key=key, **extra))["Body"]
        try:
            yield from body.iter_chunks(self.download_chunk_size)
        except Exception as exc:  # noqa: BLE001 - a broken stream becomes a typed error
            raise self.translate(exc) from exc
        finally:
            body.close()

    def rename(self, item_id: str, new_name: str) -> Item:
        parent = self.metadata(item_id).parent_id or ""
        return self.move(item_id, parent, new_name)

    def move(self, item_id: str, new_parent_id: str, new_name: str | None = None) -> Item:
        item = self.metadata(item_id)
        new_key = self._child_key(new_parent_id, new_name or item.name, folder=item.is_folder)
        if new_key == item_id:
            return item
        if item.is_folder and new_key.startswith(item_id):
            raise Fatal("cannot move a folder into itself")
        if self._exists(new_key) or (item.is_folder and self._keys_below_one(new_key)):
            raise NameTaken(f"{new_key} exists", existing_id=new_key)
        if not item.is_folder:
            self._copy(item_id, new_key)
            self.call(lambda: self.client.delete_object(Bucket=self.bucket, Key=item_id))
            return self.metadata(new_key)
        below = self._keys_below(item_id)
        for obj in below:  # copy everything first: a crash leaves more data, never less
            self._copy(obj["Key"], new_key + obj["Key"][len(item_id):])
        if not any(obj["Key"] == item_id for obj in below):
            self._put_marker(new_key)
        self._delete_keys([obj["Key"] for obj in below])
        return self.metadata(new_key)

    def _keys_below_one(self, prefix: str) -> bool:
        page = self.call(lambda: self.client.list_objects_v2(
            Bucket=self.bucket, Prefix=prefix, MaxKeys=1))
        return bool(page.get("Contents"))

    def _copy(self, source: str, target: str) -> None:
        self.call(lambda: self.client.copy_object(
            Bucket=self.bucket, Key=target, CopySource={"Bucket": self.bucket, "Key": source}))

    def _put_marker(self, key: str) -> None:
        self.call(lambda: self.client.put_object(Bucket=self.bucket, Key=key, Body=b""))

    def _delete_keys(self, keys: list[str]) -> None:
        for start in range(0, len(keys), 1000):
            batch = [{"Key": k} for k in keys[start:start + 1000]]
            result = self.call(lambda b=batch: self.client.delete_objects(
                Bucket=self.bucket, Delete={"Objects": b, "Quiet": True}))
            if result.get("Errors"):
                first = result["Errors"][0]
                raise Fatal(f"delete failed for {first.get('Key')}: {first.get('Code')}")

    def delete(self, item_id: str) -> None:
        if item_id == self._root:
            raise Fatal("refusing to delete the connection's root")
        if not item_id.endswith("/"):
            self._head(item_id)  # NotFound for a missing file (S3 itself would not say)
            self.call(lambda: self.client.delete_object(Bucket=self.bucket, Key=item_id))
            return
        keys = [obj["Key"] for obj in self._keys_below(item_id)]
        if not keys:
            raise NotFound(f"no folder {item_id}")
        self._delete_keys(keys)

    def list_children(self, folder_id: str) -> Iterator[Item]:
        token, seen_any = None, False
        while True:
            kwargs = {"Bucket": self.bucket, "Prefix": folder_id, "Delimiter": "/"}
            if token:
                kwargs["ContinuationToken"] = token
            page = self.call(lambda kw=kwargs: self.client.list_objects_v2(**kw))
            for prefix in page.get("CommonPrefixes", []):
                seen_any = True
                if prefix["Prefix"] != STATE_PREFIX:
                    yield self._item(prefix["Prefix"])
            for obj in page.get("Contents", []):
                seen_any = True
                if obj["Key"] != folder_id:
                    yield self._item(obj["Key"], size=obj["Size"], etag=obj.get("ETag"),
                                     modified=obj.get("LastModified"))
            if not page.get("IsTruncated"):
                break
            token = page["NextContinuationToken"]
        if not seen_any and folder_id:
            raise NotFound(f"no folder {folder_id}")

    def list_page(self, folder_id: str, page_token: str | None = None,
                  limit: int = 100) -> tuple[list[Item], str | None]:
        """One ListObjectsV2 page (``MaxKeys`` counts files and subfolders alike); the
        folder's own marker is skipped by starting after it."""
        kwargs = {"Bucket": self.bucket, "Prefix": folder_id, "Delimiter": "/",
                  "MaxKeys": max(1, min(limit, 1000))}
        if page_token:
            kwargs["ContinuationToken"] = page_token
        elif folder_id:
            kwargs["StartAfter"] = folder_id
        page = self.call(lambda: self.client.list_objects_v2(**kwargs))
        items = [self._item(p["Prefix"]) for p in page.get("CommonPrefixes", [])
                 if p["Prefix"] != STATE_PREFIX]
        items += [self._item(o["Key"], size=o["Size"], etag=o.get("ETag"),
                             modified=o.get("LastModified"))
                  for o in page.get("Contents", []) if o["Key"] != folder_id]
        if not page_token and not items and folder_id:
            self.metadata(folder_id)  # NotFound for a folder that does not exist
        token = page.get("NextContinuationToken") if page.get("IsTruncated") else None
        return items, token

    def copy(self, item_id: str, parent_id: str, name: str | None = None) -> Item:
        """CopyObject to a free key (checked first, and conditional where S3 honours
        ``If-None-Match`` on copies). Sources above 5 GB would need a multipart copy:
        S3 refuses them (Fatal)."""
        if item_id.endswith("/") or not item_id:
            raise Fatal("only files are copied")
        source = self.metadata(item_id)
        key = self._child_key(parent_id, name or source.name)
        if self._exists(key):
            raise NameTaken(f"{key} exists", existing_id=key)
        self.call(lambda: self.client.copy_object(
            Bucket=self.bucket, Key=key, CopySource={"Bucket": self.bucket, "Key": item_id},
            IfNoneMatch="*"), idempotent=False)
        return self.metadata(key)

    # -- versions (a bucket with versioning) ---------------------------------------------
    def _check_versioning(self) -> None:
        """Versions need a bucket whose versioning is enabled: never enabled, nothing is
        kept; suspended, a restore would overwrite the ``null`` version it replaces."""
        if self._versioning is None:
            answer = self.call(lambda: self.client.get_bucket_versioning(Bucket=self.bucket))
            self._versioning = answer.get("Status") or "Off"
        if self._versioning != "Enabled":
            raise Unsupported(f"s3: versioning is not enabled on bucket {self.bucket} "
                              f"({self._versioning.lower()}): files have no versions")

    def versions(self, item_id: str) -> list[Version]:
        """ListObjectVersions of the key (``Prefix`` matches longer keys too: only the
        exact key is kept; delete markers are not versions)."""
        self._check_versioning()
        if item_id.endswith("/") or not item_id:
            raise NotFound(f"not a file: {item_id!r}")
        found, markers = [], {}
        while True:
            page = self.call(lambda m=dict(markers): self.client.list_object_versions(
                Bucket=self.bucket, Prefix=item_id, **m))
            found += [v for v in page.get("Versions", []) if v["Key"] == item_id]
            if not page.get("IsTruncated"):
                break
            markers = {"KeyMarker": page["NextKeyMarker"],
                       "VersionIdMarker": page["NextVersionIdMarker"]}
        if not any(v.get("IsLatest") for v in found):  # none, or deleted (a delete marker)
            raise NotFound(f"no file {item_id}")
        found.sort(key=lambda v: (not v.get("IsLatest"), -v["LastModified"].timestamp()))
        return [Version(id=v["VersionId"], size=v.get("Size", 0), modified=v["LastModified"],
                        author=(v.get("Owner") or {}).get("DisplayName"),
                        current=bool(v.get("IsLatest"))) for v in found]

    def download_version(self, item_id: str, version_id: str) -> Iterator[bytes]:
        self._check_versioning()
        return self._get(item_id, VersionId=version_id)

    def restore_version(self, item_id: str, version_id: str) -> Item:
        """CopyObject of that version onto the same key: a new current version; the
        replaced one stays. (S3 version ids belong to their key: another key's is
        NoSuchVersion, NotFound.)"""
        self._check_versioning()
        self._head(item_id)  # a deleted file (a delete marker) is not brought back here
        self.call(lambda: self.client.copy_object(
            Bucket=self.bucket, Key=item_id,
            CopySource={"Bucket": self.bucket, "Key": item_id, "VersionId": version_id}),
            idempotent=False)
        return self.metadata(item_id)

    def metadata(self, item_id: str) -> Item:
        if item_id == "":
            return Item(id="", name="", kind=Kind.FOLDER, parent_id=None)
        try:
            head = self._head(item_id)
        except NotFound:
            if item_id.endswith("/") and self._keys_below_one(item_id):
                return self._item(item_id)  # a prefix without a folder marker
            raise
        return self._item(item_id, size=head.get("ContentLength", 0), etag=head.get("ETag"),
                          modified=head.get("LastModified"))

    def link(self, item_id: str, public: bool | None = None, *, audience: str | None = None,
             expires_in: int | None = None) -> str:
        """A presigned GET valid ``expires_in`` seconds (else the config's
        ``link_lifetime``), internal or public alike."""
        self.check_link_options(audience, expires_in)
        if item_id.endswith("/") or not item_id:
            raise Fatal("S3 has no links for folders")
        self._head(item_id)
        lifetime = int(expires_in or self.config.get("link_lifetime") or 24 * 3600)
        if lifetime > MAX_LINK_LIFETIME:
            raise Fatal(f"S3 presigned links last at most {MAX_LINK_LIFETIME} s (7 days)")
        return self.client.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": item_id}, ExpiresIn=lifetime)

    # -- change feed --------------------------------------------------------------------
    def _snapshot(self) -> dict[str, list]:
        return {o["Key"]: [o.get("ETag", "").strip('"'), o["Size"]]
                for o in self._keys_below(self._root) if o["Key"] != self._root}

    def _store(self, snapshot: dict) -> str:
        blob = gzip.compress(json.dumps(snapshot, sort_keys=True).encode(), mtime=0)
        digest = hashlib.sha256(blob).hexdigest()
        key = f"{STATE_PREFIX}{digest}.json.gz"
        if digest not in self._snapshots:  # one conditional PUT: stored once, never twice
            with contextlib.suppress(NameTaken):
                self.call(lambda: self.client.put_object(Bucket=self.bucket, Key=key,
                                                         Body=blob, IfNoneMatch="*"))
        self._remember(digest, snapshot)
        return _CURSOR_TAG + digest

    def forget_snapshots(self) -> None:
        """Drop the snapshots kept in memory, as a restarted worker would have none."""
        self._snapshots.clear()

    def _remember(self, digest: str, snapshot: dict) -> None:
        """Keep the two latest snapshots (the cursor's and the new one) in memory."""
        self._snapshots.pop(digest, None)
        self._snapshots[digest] = snapshot
        while len(self._snapshots) > 2:
            self._snapshots.pop(next(iter(self._snapshots)))

    def _load(self, cursor: str) -> dict:
        digest = cursor[len(_CURSOR_TAG):] if cursor.startswith(_CURSOR_TAG) else ""
        if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise CursorExpired(f"not an S3 cursor: {cursor[:40]!r}")
        if digest in self._snapshots:
            return self._snapshots[digest]
        key = f"{STATE_PREFIX}{digest}.json.gz"
        try:
            body = self.call(lambda: self.client.get_object(Bucket=self.bucket, Key=key))
            snapshot = json.loads(gzip.decompress(body["Body"].read()))
        except NotFound as exc:
            raise CursorExpired("the listing snapshot of this cursor is gone") from exc
        self._remember(digest, snapshot)
        return snapshot

    def initial_cursor(self) -> str:
        return self._store(self._snapshot())

    def changes(self, cursor: str) -> tuple[list[Change], str]:
        old = self._load(cursor)
        new = self._snapshot()
        return diff_snapshots(self._item, old, new), self._store(new)

    def advance(self, cursor: str, writes: list[Change]) -> str | None:
        """The cursor's snapshot with our own writes applied, stored (one PUT). A folder
        moved by copying its keys is left to a listing: copies may carry new ETags."""
        snapshot = dict(self._load(cursor))
        for change in writes:
            item = change.item
            if change.type == ChangeType.DELETED:
                for key in [k for k in snapshot if k == item.id
                            or (item.is_folder and k.startswith(item.id))]:
                    del snapshot[key]
                continue
            if change.old_id and change.old_id != item.id:
                if item.is_folder:
                    return None
                snapshot.pop(change.old_id, None)
            if item.version is not None:  # a prefix without marker object is no key
                snapshot[item.id] = [item.version, item.size]
            elif not item.is_folder:
                return None
        return self._store(snapshot)


def diff_snapshots(make_item, old: dict, new: dict) -> list[Change]:
    """Changes between two listings (key -> [etag, size]); see the module docstring."""
    gone = {k for k in old if k not in new}
    born = {k for k in new if k not in old}
    changes: list[Change] = []

    def item(key):
        etag, size = new[key]
        return make_item(key, size=size, etag=etag)

    def moved(old_key, new_key):
        before, after = make_item(old_key), item(new_key)
        kind = ChangeType.RENAMED if before.parent_id == after.parent_id else ChangeType.MOVED
        changes.append(Change(kind, after, old_parent_id=before.parent_id,
                              old_name=before.name, old_id=old_key))

    # folders first: a folder whose whole subtree reappears elsewhere was renamed/moved
    def tree(snapshot, keys, prefix):
        return frozenset(
            (k[len(prefix):], tuple(snapshot[k])) for k in keys if k.startswith(prefix))

    for key in sorted(k for k in gone if k.endswith("/")):
        if key not in gone:
            continue
        signature = tree(old, gone, key)
        matches = [k for k in born if k.endswith("/") and tree(new, born, k) == signature]
        if len(matches) != 1:
            continue
        target = matches[0]
        moved(key, target)
        for sub in sorted(k for k in gone if k.startswith(key) and k != key):
            changes.append(Change(ChangeType.MOVED, item(target + sub[len(key):]),
                                  old_parent_id=make_item(sub).parent_id,
                                  old_name=make_item(sub).name, old_id=sub))
        gone -= {k for k in gone if k.startswith(key)}
        born -= {k for k in born if k.startswith(target)}

    # files: the same ETag and size, unique on both sides
    by_content: dict[tuple, list[str]] = {}
    for key in born:
        if not key.endswith("/"):
            by_content.setdefault(tuple(new[key]), []).append(key)
    gone_content: dict[tuple, list[str]] = {}
    for key in gone:
        if not key.endswith("/"):
            gone_content.setdefault(tuple(old[key]), []).append(key)
    for content, olds in gone_content.items():
        news = by_content.get(content, [])
        if len(olds) == 1 and len(news) == 1:
            moved(olds[0], news[0])
            gone.discard(olds[0])
            born.discard(news[0])

    for key in sorted(born, key=lambda k: (k.count("/"), k)):
        changes.append(Change(ChangeType.CREATED, item(key)))
    for key in sorted(k for k in new if k in old and new[k] != old[k] and not k.endswith("/")):
        changes.append(Change(ChangeType.UPDATED, item(key)))
    for key in sorted(gone, key=lambda k: (-k.count("/"), k)):
        changes.append(Change(ChangeType.DELETED, make_item(key)))
    return changes


@functools.cache
def _session():
    """One boto3 session per process: loading the S3 model for each client costs ~0.3 s."""
    import boto3

    return boto3.session.Session()


def _seconds(value) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None
