"""Nextcloud / ownCloud on pyocclient: files WebDAV plus the OCS share API.

Config keys: ``url``, ``user``, ``password`` (an app password), ``root`` (a path below
the user's files; created when missing), ``public_links`` (links are public link
shares), ``verify_tls`` (bool or a CA bundle path), ``timeout`` (seconds),
``chunk_threshold`` (bytes; larger files go through chunked upload v2).

Addressing: an item's id is its ``oc:fileid``, which survives renames and moves. The
files DAV is path based and has no lookup by id, so the provider keeps a fileid→path
cache, filled by every listing. Before anything that changes or reads an item, the
cached path is checked with a ``PROPFIND`` (its ``oc:fileid`` must match); a stale or
missing entry is found again with one DAV ``SEARCH`` on ``oc:fileid`` (Nextcloud's
basicsearch), or by walking the tree from the root on servers without SEARCH. Uploads
trust the cached path of the parent folder (one request per file) and re-resolve it
when the server says the parent is missing. Items outside the root are not found.

Change feed: the cursor is a compressed snapshot (id → parent, name, kind, ETag) bound
to the root's file id and the server's instance id. Nextcloud propagates ETags to every
parent folder, so only folders whose ETag changed are listed again; file ids turn a
delete + create into a move or rename. ``advance`` applies a sync run's own writes to the
snapshot and forgets the ETags of the folders above them (the next poll lists those).
"""

from __future__ import annotations

import base64
import contextlib
import json
import re
import time
import uuid
import zlib
from collections.abc import Iterator
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import BinaryIO
from urllib.parse import quote, urlparse
from xml.etree import ElementTree
from xml.sax.saxutils import escape

import owncloud
import requests

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

OC = "{http://owncloud.org/ns}"
NC = "{http://nextcloud.org/ns}"
PROPS = ["d:getetag", "d:getlastmodified", "d:getcontentlength", "d:getcontenttype",
         "d:resourcetype", "oc:fileid", "oc:id", "oc:size", "oc:permissions"]
CURSOR_PREFIX = "nc1:"
MIB = 1024 * 1024


def norm(path: str) -> str:
    return "/" + path.strip("/")


def join(folder: str, name: str) -> str:
    return norm(folder.rstrip("/") + "/" + name)


def parent_of(path: str) -> str:
    return norm(path.rsplit("/", 1)[0])


def _below(path: str, top: str) -> bool:
    return path == top or top == "/" or path.startswith(top + "/")


def _fileid(oc_id: str | None) -> str | None:
    """The numeric file id at the start of an ``OC-FileId`` / ``oc:id`` value."""
    match = re.match(r"\d+", oc_id or "")
    return str(int(match.group())) if match else None


def _retry_after(response) -> float | None:
    value = response.headers.get("Retry-After") if response is not None else None
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        with contextlib.suppress(TypeError, ValueError):
            when = parsedate_to_datetime(value)
            return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())
    return None


class _Client(owncloud.Client):
    """pyocclient's client with a default timeout on every request it makes."""

    def __init__(self, url, *, timeout: float, **kwargs):
        super().__init__(url, **kwargs)
        self.timeout = timeout

    def _make_ocs_request(self, method, service, action, **kwargs):
        kwargs.setdefault("timeout", self.timeout)
        return super()._make_ocs_request(method, service, action, **kwargs)

    def _make_dav_request(self, method, path, **kwargs):
        kwargs.setdefault("timeout", self.timeout)
        return super()._make_dav_request(method, path, **kwargs)


class NextcloudProvider(Provider):
    key = "nextcloud"
    name_rules = NameRules(forbidden_chars="/\\", max_length=250,
                           reserved_names=frozenset({".htaccess"}))
    hash_type = None
    chunk_threshold = 10 * MIB
    chunk_size = 10 * MIB
    unique_names = True
    resumable_upload = True
    resumes_uploads = True  # the chunking v2 upload folder, listed by PROPFIND
    aborts_uploads = True  # DELETE of the upload folder
    has_public_links = True
    public_link_is_content = True  # file links are the share's /download URL
    refreshes_tokens = False  # app passwords do not expire; a 401 means re-authenticate
    start_concurrency = 4  # limits are the server's own (PHP workers): start modest
    has_versions = True  # the files_versions app (on by default)
    can_search = True  # DAV SEARCH, basicsearch on d:displayname
    server_side_copy = True  # WebDAV COPY

    def __init__(self, config: dict, **kwargs):
        super().__init__(config, **kwargs)
        missing = [k for k in ("url", "user", "password") if not self.config.get(k)]
        if missing:
            raise Fatal(f"Nextcloud connection lacks {', '.join(missing)}")
        self.url = self.config["url"].rstrip("/")
        self.user = self.config["user"]
        self.timeout = float(self.config.get("timeout") or 30)
        self.public_links = bool(self.config.get("public_links"))
        self.chunk_threshold = int(self.config.get("chunk_threshold") or self.chunk_threshold)
        self.chunk_size = min(self.chunk_size, self.chunk_threshold)
        self.root_path = norm(self.config.get("root") or "/")
        self.client = _Client(self.url, timeout=self.timeout,
                              verify_certs=self.config.get("verify_tls", True))
        self._logged_in = False
        self._root_id: str | None = None
        self._paths: dict[str, str] = {}  # fileid -> path (cache, verified before use)
        self._ids: dict[str, str] = {}  # path -> fileid
        # (cursor, instance, root ETag) of the last cursor made or read: a poll of an
        # unchanged tree with it decodes nothing (the snapshot grows with the tree)
        self._cursor_head: tuple[str, str, str | None] | None = None

    # -- plumbing ---------------------------------------------------------------------
    def _session(self) -> requests.Session:
        if not self._logged_in:
            self.call(lambda: self.client.login(self.user, self.config["password"]))
            self._logged_in = True
        return self.client._session

    @property
    def sdk(self) -> owncloud.Client:
        """The logged-in pyocclient client."""
        self._session()
        return self.client

    def _request(self, method: str, url: str, **kwargs) -> requests.Response:
        """One request on pyocclient's session; HTTP errors raise pyocclient's error."""
        kwargs.setdefault("timeout", self.timeout)
        response = self._session().request(method, url, **kwargs)
        if response.status_code >= 400:
            raise owncloud.HTTPResponseError(response)
        return response

    def _dav_url(self, path: str) -> str:
        self._session()
        return self.sdk._webdav_url + quote(norm(path))

    def translate(self, exc: Exception) -> Exception:
        if isinstance(exc, CloudError):
            return exc
        if isinstance(exc, owncloud.OCSResponseError):
            code = exc.status_code
            if code == 997:
                return ReauthRequired("Nextcloud refused the app password", status=401)
            if code == 404:
                return NotFound(str(exc), status=404)
            return Fatal(f"Nextcloud OCS error {code}", status=code)
        if isinstance(exc, owncloud.HTTPResponseError):
            status = exc.status_code
            response = getattr(exc, "res", None)
            if status == 401:
                return ReauthRequired("Nextcloud refused the app password", status=status)
            if status in (404, 409):  # 409: the parent folder is missing
                return NotFound(f"not found on Nextcloud ({status})", status=status)
            if status in (405, 412):
                return NameTaken("name taken on Nextcloud", status=status)
            if status == 507:
                return QuotaExceeded("Nextcloud storage is full", status=status)
            if status in (423, 429) or status >= 500:
                return RetryLater(f"Nextcloud answered {status}", status=status,
                                  retry_after=_retry_after(response))
            return Fatal(f"Nextcloud answered {status}", status=status)
        if isinstance(exc, requests.exceptions.SSLError):  # a setting to fix, not a blip
            return Fatal(f"TLS verification of {self.url} failed: {exc}")
        if isinstance(exc, (requests.Timeout, requests.ConnectionError)):
            return RetryLater(f"Nextcloud unreachable: {exc}")
        return exc

    # -- the fileid <-> path cache ----------------------------------------------------
    def _remember(self, fileid: str, path: str) -> None:
        old = self._ids.get(path)
        if old and old != fileid:
            self._paths.pop(old, None)
        self._paths[fileid] = path
        self._ids[path] = fileid

    def _forget(self, top: str) -> None:
        for path in [p for p in self._ids if _below(p, top)]:
            self._paths.pop(self._ids.pop(path), None)

    def _moved(self, src: str, dst: str) -> None:
        self._forget(dst)
        for path in sorted((p for p in self._ids if _below(p, src)), key=len):
            fileid = self._ids.pop(path)
            new = dst + path[len(src):]
            self._paths[fileid] = new
            self._ids[new] = fileid

    def _propfind(self, path: str, depth: int) -> list[owncloud.FileInfo]:
        data = _propfind_body()
        infos = self.call(lambda: self.sdk._make_dav_request(
            "PROPFIND", norm(path) + ("/" if depth and path != "/" else ""),
            headers={"Depth": str(depth)}, data=data))
        for info in infos or []:
            fileid = info.attributes.get(f"{OC}fileid")
            if fileid:
                self._remember(fileid, norm(info.path))
        return infos or []

    def _info(self, path: str) -> owncloud.FileInfo:
        return self._propfind(path, 0)[0]

    def _resolve(self, item_id: str) -> owncloud.FileInfo:
        """Find ``item_id`` (not cached, or the cached path was stale): one DAV SEARCH by
        file id, or a walk from the root on servers without SEARCH."""
        supported, info = self.call(lambda: self._search(item_id))
        if info is not None:
            return info
        if supported:
            raise NotFound(f"no item with file id {item_id} below {self.root_path}")
        stack = [self.root_path]
        while stack:
            folder = stack.pop()
            with contextlib.suppress(NotFound):
                for info in self._propfind(folder, 1):
                    path = norm(info.path)
                    if info.attributes.get(f"{OC}fileid") == item_id:
                        return info
                    if info.is_dir() and path != norm(folder):
                        stack.append(path)
        raise NotFound(f"no item with file id {item_id} below {self.root_path}")

    def _search(self, item_id: str) -> tuple[bool, owncloud.FileInfo | None]:
        """(whether the server can SEARCH, the item below the root with that file id)."""
        if not item_id.isdigit():
            return True, None
        found = self._dav_search(_search_where("eq", "<oc:fileid/>", item_id))
        if found is None:
            return False, None
        info = next((i for i in found if i.attributes.get(f"{OC}fileid") == item_id), None)
        return True, info

    def _dav_search(self, where: str, limit: int | None = None
                    ) -> list[owncloud.FileInfo] | None:
        """A DAV SEARCH below the root: the items found there (their paths cached), or
        None when the server has no SEARCH."""
        files = f"/files/{self.user}"
        answer = self._session().request(
            "SEARCH", f"{self.url}/remote.php/dav/", timeout=self.timeout,
            data=_search_body(f"{files}{self.root_path}".rstrip("/"), where, limit),
            headers={"Content-Type": "text/xml; charset=utf-8"})
        if answer.status_code in (400, 403, 405, 501):
            return None
        if answer.status_code >= 300:
            raise owncloud.HTTPResponseError(answer)
        prefix = urlparse(self.url).path.rstrip("/") + "/remote.php/dav" + files
        infos = []
        for found in self.sdk._parse_dav_response(answer) or []:
            path = found.path[len(prefix):] if found.path.startswith(prefix) else None
            fileid = found.attributes.get(f"{OC}fileid")
            if path is None or not fileid:
                continue
            info = owncloud.FileInfo(path or "/", found.file_type, found.attributes)
            if _below(norm(info.path), self.root_path) and norm(info.path) != self.root_path:
                self._remember(fileid, norm(info.path))
                infos.append(info)
        return infos

    def _located(self, item_id: str) -> owncloud.FileInfo:
        """The current info of ``item_id``, its cached path checked against its file id."""
        item_id = str(item_id)
        path = self._paths.get(item_id)
        if item_id == self.root_id:
            path = self.root_path
        if path is not None:
            try:
                info = self._info(path)
            except NotFound:
                info = None
            if info is not None and info.attributes.get(f"{OC}fileid") == item_id:
                return info
        return self._resolve(item_id)

    def _path(self, item_id: str) -> str:
        """The cached path of a folder (checked only when the server objects)."""
        item_id = str(item_id)
        if item_id == self.root_id:
            return self.root_path
        path = self._paths.get(item_id)
        return path if path is not None else norm(self._located(item_id).path)

    def _in_parent(self, parent_id: str, name: str, fn):
        """Run ``fn(path)`` for ``name`` in the parent; re-resolve a stale parent once."""
        path = join(self._path(parent_id), name)
        try:
            return fn(path)
        except NotFound:
            fresh = join(norm(self._located(parent_id).path), name)
            if fresh == path:
                raise
            return fn(fresh)

    def _item(self, info: owncloud.FileInfo, parent_id: str | None = None) -> Item:
        attrs = info.attributes
        path = norm(info.path)
        fileid = attrs[f"{OC}fileid"]
        is_dir = info.is_dir()
        if parent_id is None and path != self.root_path:
            parent_path = parent_of(path)
            parent_id = self._ids.get(parent_path) or (
                self._info(parent_path).attributes[f"{OC}fileid"])
        modified = attrs.get("{DAV:}getlastmodified")
        size = attrs.get(f"{OC}size") or attrs.get("{DAV:}getcontentlength") or 0
        return Item(
            id=fileid,
            name=info.get_name() if path != "/" else "",
            kind=Kind.FOLDER if is_dir else Kind.FILE,
            parent_id=None if path == self.root_path else parent_id,
            size=int(size),
            version=(attrs.get("{DAV:}getetag") or "").strip('"') or None,
            modified=parsedate_to_datetime(modified) if modified else None,
            web_url=f"{self.url}/f/{fileid}",
            mime_type=None if is_dir else attrs.get("{DAV:}getcontenttype"),
            extra={"path": path, "permissions": attrs.get(f"{OC}permissions"),
                   "oc_id": attrs.get(f"{OC}id")},
        )

    # -- the contract -----------------------------------------------------------------
    @property
    def root_id(self) -> str:
        if self._root_id is None:
            try:
                info = self._info(self.root_path)
            except NotFound:
                info = self._make_root()
            if not info.is_dir():
                raise Fatal(f"Nextcloud root {self.root_path} is a file")
            self._root_id = info.attributes[f"{OC}fileid"]
        return self._root_id

    def _make_root(self) -> owncloud.FileInfo:
        path = "/"
        for part in [p for p in self.root_path.split("/") if p]:
            path = join(path, part)
            with contextlib.suppress(NameTaken):
                self.call(lambda p=path: self.sdk.mkdir(p))
        return self._info(self.root_path)

    def create_folder(self, parent_id: str, name: str) -> Item:
        name = self.safe_name(name)

        def mkcol(path):
            try:
                self.call(lambda: self.sdk.mkdir(path), idempotent=False)
            except NameTaken as exc:
                exc.existing_id = self._existing_id(path)
                raise
            return self._item(self._info(path), parent_id=str(parent_id))

        return self._in_parent(parent_id, name, mkcol)

    def _existing_id(self, path: str) -> str | None:
        with contextlib.suppress(CloudError):
            return self._info(path).attributes.get(f"{OC}fileid")
        return None

    def find_child(self, parent_id: str, name: str, kind: Kind | None = None) -> Item | None:
        """One ``PROPFIND`` of the child's path (names are case-sensitive, unique)."""
        try:
            info = self._in_parent(parent_id, self.safe_name(name), self._info)
        except NotFound:
            return None
        item = self._item(info, parent_id=str(parent_id))
        return item if kind is None or item.kind == kind else None

    def upload(self, parent_id: str, name: str, stream: BinaryIO, size: int | None = None,
               resume: Resume | None = None) -> Item:
        name = self.safe_name(name)
        head, small = self._head(stream, size)
        if small:
            return self._in_parent(parent_id, name, lambda path: self._put(
                path, head, str(parent_id), create=True))
        return self._in_parent(parent_id, name, lambda path: self._put_chunked(
            path, head, stream, str(parent_id), create=True, resume=resume, size=size))

    def update(self, item_id: str, stream: BinaryIO, size: int | None = None,
               resume: Resume | None = None) -> Item:
        info = self._located(item_id)
        if info.is_dir():
            raise Fatal(f"item {item_id} is a folder: only files have content")
        path = norm(info.path)
        parent_id = self._ids.get(parent_of(path))
        head, small = self._head(stream, size)
        mtime = _next_mtime(info)
        if small:
            return self._put(path, head, parent_id, create=False, mtime=mtime)
        return self._put_chunked(path, head, stream, parent_id, create=False, resume=resume,
                                 size=size, mtime=mtime)

    def _head(self, stream: BinaryIO, size: int | None) -> tuple[bytes, bool]:
        """(bytes read ahead, whether they are the whole file). A known size above the
        threshold reads nothing ahead: each chunk is read from the stream when it is
        sent, so memory holds one chunk, whatever the file's size."""
        if size is not None and size > self.chunk_threshold:
            return b"", False
        head = stream.read(self.chunk_threshold + 1)
        return head, len(head) <= self.chunk_threshold

    def _put(self, path: str, data: bytes, parent_id: str | None, *, create: bool,
             mtime: int | None = None) -> Item:
        headers = {"If-None-Match": "*"} if create else {}
        if mtime is not None:
            headers["X-OC-Mtime"] = str(mtime)
        attempts = []

        def put():
            attempts.append(path)
            return self._request("PUT", self._dav_url(path), data=data, headers=headers)

        try:
            response = self.call(put)
        except NameTaken as exc:
            if len(attempts) > 1 and self._holds(path, data):
                # an earlier attempt was written but its answer lost (e.g. a timeout)
                return self._item(self._info(path), parent_id=parent_id)
            exc.existing_id = self._existing_id(path)
            raise
        return self._written(path, response, len(data), parent_id)

    def _holds(self, path: str, data: bytes) -> bool:
        """Whether the file at ``path`` has exactly ``data`` (read back to compare)."""
        with contextlib.suppress(CloudError):
            info = self._info(path)
            if info.is_dir() or int(info.attributes.get("{DAV:}getcontentlength") or -1) != len(
                    data):
                return False
            answer = self.call(lambda: self._request("GET", self._dav_url(path)))
            return answer.content == data
        return False

    def _written(self, path: str, response, size: int, parent_id: str | None) -> Item:
        """The item a PUT / chunk assembly answered with (OC-FileId and ETag headers)."""
        fileid = _fileid(response.headers.get("OC-FileId"))
        if fileid is None or parent_id is None:
            return self._item(self._info(path))
        self._remember(fileid, path)
        date = response.headers.get("Date")
        etag = response.headers.get("OC-ETag") or response.headers.get("ETag") or ""
        return Item(id=fileid, name=path.rsplit("/", 1)[-1], kind=Kind.FILE,
                    parent_id=parent_id, size=size, version=etag.strip('"') or None,
                    modified=parsedate_to_datetime(date) if date else None,
                    web_url=f"{self.url}/f/{fileid}",
                    extra={"path": path, "oc_id": response.headers.get("OC-FileId")})

    def _put_chunked(self, path: str, head: bytes, stream: BinaryIO, parent_id: str | None,
                     *, create: bool, resume: Resume | None = None, size: int | None = None,
                     mtime: int | None = None) -> Item:
        """Nextcloud chunked upload v2: MKCOL, PUT numbered chunks, MOVE ``.file``.

        With ``resume`` (a known size) the upload folder is saved and kept when the
        upload fails, and a saved one continues after the chunks its PROPFIND lists;
        without, a failed upload's folder is deleted."""
        self._session()
        user = quote(self.user)
        destination = f"{self.url}/remote.php/dav/files/{user}{quote(norm(path))}"
        headers = {"Destination": destination}
        resume = resume if size is not None else None
        upload_url, done = self._resumed_upload(resume, destination, size)
        total = done * self.chunk_size
        try:
            if upload_url:
                stream.seek(stream.tell() + total)
            else:
                upload_url = (f"{self.url}/remote.php/dav/uploads/{user}/"
                              f"cloud-sync-{uuid.uuid4().hex}")
                self.call(lambda: self._request("MKCOL", upload_url, headers=headers))
                if resume is not None:
                    resume.store(self.key, destination, size, upload_url=upload_url,
                                 chunk_size=self.chunk_size)
            for number, chunk in enumerate(exact_chunks(head, stream, self.chunk_size),
                                           start=done + 1):
                total += len(chunk)
                self.call(lambda n=number, c=chunk: self._request(
                    "PUT", f"{upload_url}/{n}", data=c, headers=headers))
                if resume is not None:
                    resume.save(dict(resume.state, chunks=number))
            final = {**headers, "OC-Total-Length": str(total),
                     "Overwrite": "F" if create else "T"}
            if mtime is not None:
                final["X-OC-Mtime"] = str(mtime)
            response = self.call(lambda: self._request(
                "MOVE", f"{upload_url}/.file", headers=final), idempotent=False)
        except CloudError as exc:
            if resume is None or isinstance(exc, NameTaken):
                with contextlib.suppress(CloudError, requests.RequestException):
                    self._request("DELETE", upload_url)
                if resume is not None:
                    resume.drop()
            if isinstance(exc, NameTaken):
                exc.existing_id = self._existing_id(path)
            raise
        if resume is not None:
            resume.drop()
        return self._written(path, response, total, parent_id)

    def abort_upload(self, state: dict) -> bool:
        url = state.get("upload_url") or ""
        if state.get("provider") != self.key or not self._own_upload_url(url):
            return False
        try:
            self.call(lambda: self._request("DELETE", url))
        except NotFound:
            return False
        return True

    def _own_upload_url(self, url: str) -> bool:
        """An upload folder of this server (a saved state is never trusted further)."""
        return url.startswith(f"{self.url}/remote.php/dav/uploads/")

    def _resumed_upload(self, resume: Resume | None, destination: str, size: int | None
                        ) -> tuple[str | None, int]:
        """(upload folder, chunks 1..n complete) of a saved upload the server still lists
        (PROPFIND Depth 1 of the folder); (None, 0) to start over."""
        state = resume and resume.matching(self.key, destination, size)
        if not state or state.get("chunk_size") != self.chunk_size:
            return None, 0
        url = state.get("upload_url") or ""
        if not self._own_upload_url(url):
            resume.drop()
            return None, 0
        body = ('<?xml version="1.0"?><d:propfind xmlns:d="DAV:"><d:prop>'
                '<d:getcontentlength/></d:prop></d:propfind>')
        try:
            answer = self.call(lambda: self._request("PROPFIND", url, data=body,
                                                     headers={"Depth": "1"}))
            sizes = {}
            for response in ElementTree.fromstring(answer.content).iter("{DAV:}response"):
                name = (response.findtext("{DAV:}href") or "").rstrip("/").rsplit("/", 1)[-1]
                length = response.findtext(".//{DAV:}getcontentlength")
                if name.isdigit() and length is not None:
                    sizes[int(name)] = int(length)
        except (NotFound, Fatal, ElementTree.ParseError, ValueError):
            resume.drop()
            return None, 0
        done = 0
        while sizes.get(done + 1) == self.chunk_size and (done + 1) * self.chunk_size < size:
            done += 1
        return url, done

    def download(self, item_id: str) -> Iterator[bytes]:
        info = self._located(item_id)
        if info.is_dir():
            raise Fatal(f"item {item_id} is a folder: only files have content")
        yield from self._stream(self._dav_url(info.path))

    def _stream(self, url: str) -> Iterator[bytes]:
        response = self.call(lambda: self._request("GET", url, stream=True))
        try:
            yield from response.iter_content(self.download_chunk_size)
        except requests.RequestException as exc:  # cut mid-stream: the caller starts over
            raise RetryLater(f"Nextcloud download interrupted: {exc}") from exc
        finally:
            response.close()

    def rename(self, item_id: str, new_name: str) -> Item:
        info = self._located(item_id)
        path = norm(info.path)
        if path == self.root_path:
            raise Fatal("refusing to rename the connection's root folder")
        return self._move(path, join(parent_of(path), self.safe_name(new_name)))

    def move(self, item_id: str, new_parent_id: str, new_name: str | None = None) -> Item:
        info = self._located(item_id)
        path = norm(info.path)
        if path == self.root_path:
            raise Fatal("refusing to move the connection's root folder")
        name = self.safe_name(new_name) if new_name else info.get_name()
        return self._in_parent(new_parent_id, name, lambda dest: self._move(path, dest))

    def _move(self, src: str, dst: str) -> Item:
        if src == dst:
            return self._item(self._info(src))
        self._dav_to(src, "MOVE", dst)
        self._moved(src, dst)
        return self._item(self._info(dst))

    def _dav_to(self, src: str, method: str, dst: str) -> None:
        """MOVE or COPY ``src`` to a free ``dst`` (``Overwrite: F``: a taken name is 412,
        NameTaken with the id of what holds it)."""
        headers = {"Destination": self._dav_url(dst), "Overwrite": "F"}
        try:
            self.call(lambda: self.sdk._make_dav_request(method, src, headers=headers),
                      idempotent=False)
        except NameTaken as exc:
            exc.existing_id = self._existing_id(dst)
            raise

    def delete(self, item_id: str) -> None:
        info = self._located(item_id)
        path = norm(info.path)
        if path == self.root_path:
            raise Fatal("refusing to delete the connection's root folder")
        self.call(lambda: self.sdk.delete(path), idempotent=False)
        self._forget(path)

    def list_children(self, folder_id: str) -> Iterator[Item]:
        folder_id = str(folder_id)
        path = self._path(folder_id)
        try:
            infos = self._propfind(path, 1)
        except NotFound:
            infos = []
        if _fileid_at(infos, path) != folder_id:
            path = norm(self._located(folder_id).path)
            infos = self._propfind(path, 1)
        if not _children(infos, path) and not infos[0].is_dir():
            raise Fatal(f"item {folder_id} is a file, not a folder")
        for info in _children(infos, path):
            yield self._item(info, parent_id=folder_id)

    def metadata(self, item_id: str) -> Item:
        return self._item(self._located(item_id))

    # -- picker: search and copy; versions (the files_versions app) ------------------------
    def search(self, query: str, limit: int = 50) -> list[Item]:
        """Nextcloud's DAV SEARCH, ``d:displayname`` like ``%query%`` below the root
        (case-insensitive); the names are checked again here (``%`` and ``_`` in the
        query are wildcards to the server)."""
        wanted = query.casefold().strip()
        if not wanted:
            return []
        found = self.call(lambda: self._dav_search(_search_where(
            "like", "<d:displayname/>", f"%{query.strip()}%"), limit))
        if found is None:
            raise Unsupported("nextcloud: this server has no DAV SEARCH")
        return [self._item(info) for info in found
                if wanted in info.get_name().casefold()][:limit]

    def copy(self, item_id: str, parent_id: str, name: str | None = None) -> Item:
        """WebDAV COPY (``Overwrite: F``: a taken name is 412, NameTaken)."""
        info = self._located(item_id)
        if info.is_dir():
            raise Fatal(f"item {item_id} is a folder: only files are copied")
        source = norm(info.path)
        name = self.safe_name(name) if name else info.get_name()

        def copy(dest):
            self._dav_to(source, "COPY", dest)
            return self._item(self._info(dest), parent_id=str(parent_id))

        return self._in_parent(parent_id, name, copy)

    def _file(self, item_id: str) -> tuple[owncloud.FileInfo, int]:
        """The file and its revision (modification time in seconds: Nextcloud names a
        version by the mtime of its content)."""
        info = self._located(item_id)
        if info.is_dir():
            raise NotFound(f"item {item_id} is a folder: folders have no versions")
        modified = info.attributes.get("{DAV:}getlastmodified")
        return info, int(parsedate_to_datetime(modified).timestamp()) if modified else 0

    def _versions_url(self, fileid: str, revision: str = "") -> str:
        self._session()
        return (f"{self.url}/remote.php/dav/versions/{quote(self.user)}/versions/{fileid}"
                + (f"/{revision}" if revision else ""))

    def versions(self, item_id: str) -> list[Version]:
        """PROPFIND of ``versions/<fileid>``: the current content is the one named by the
        file's own mtime (listed by Nextcloud 26+; added here when a server does not)."""
        info, current = self._file(item_id)
        fileid = info.attributes[f"{OC}fileid"]
        body = ('<?xml version="1.0"?><d:propfind xmlns:d="DAV:" '
                'xmlns:nc="http://nextcloud.org/ns"><d:prop><d:getcontentlength/>'
                "<d:getlastmodified/><nc:version-author/></d:prop></d:propfind>")
        answer = self.call(lambda: self._request(
            "PROPFIND", self._versions_url(fileid), data=body, headers={"Depth": "1"}))
        found: dict[int, Version] = {}
        for response in ElementTree.fromstring(answer.content).iter("{DAV:}response"):
            name = (response.findtext("{DAV:}href") or "").rstrip("/").rsplit("/", 1)[-1]
            if not name.isdigit() or name == fileid and not response.findtext(
                    ".//{DAV:}getcontentlength"):
                continue
            revision = int(name)
            found[revision] = Version(
                id=name, size=int(response.findtext(".//{DAV:}getcontentlength") or 0),
                modified=datetime.fromtimestamp(revision, timezone.utc),
                author=response.findtext(f".//{NC}version-author") or None,
                current=revision == current)
        if current not in found:
            found[current] = Version(id=str(current), size=int(
                info.attributes.get("{DAV:}getcontentlength") or 0),
                modified=datetime.fromtimestamp(current, timezone.utc), current=True)
        return sorted(found.values(), key=lambda v: (not v.current, -int(v.id)))

    def download_version(self, item_id: str, version_id: str) -> Iterator[bytes]:
        info, current = self._file(item_id)
        if not str(version_id).isdigit():
            raise NotFound(f"no version {version_id!r} of item {item_id}")
        if int(version_id) == current:
            url = self._dav_url(info.path)
        else:
            url = self._versions_url(info.attributes[f"{OC}fileid"], str(int(version_id)))
        yield from self._stream(url)

    def restore_version(self, item_id: str, version_id: str) -> Item:
        """MOVE the version to ``restore/target``: Nextcloud's rollback (same file id;
        the replaced content becomes a version)."""
        info, current = self._file(item_id)
        if not str(version_id).isdigit():
            raise NotFound(f"no version {version_id!r} of item {item_id}")
        if int(version_id) != current:
            target = f"{self.url}/remote.php/dav/versions/{quote(self.user)}/restore/target"
            url = self._versions_url(info.attributes[f"{OC}fileid"], str(int(version_id)))
            self.call(lambda: self._request("MOVE", url, headers={"Destination": target}),
                      idempotent=False)
        return self.metadata(item_id)

    def link(self, item_id: str, public: bool | None = None, *, audience: str | None = None,
             expires_in: int | None = None) -> str:
        """Public (None: when ``public_links`` is set): a public link share; else the
        internal ``/f/<fileid>`` address."""
        self.check_link_options(audience, expires_in)
        info = self._located(item_id)
        fileid = info.attributes[f"{OC}fileid"]
        if not (public or (public is None and self.public_links)):
            return f"{self.url}/f/{fileid}"
        path = norm(info.path)
        # a plain public link of ours: no password, no expiry, downloads allowed
        shares = [s for s in self.call(lambda: self._shares("GET", params={"path": path}))
                  if int(s.get("share_type", -1)) == owncloud.Client.OCS_SHARE_TYPE_LINK
                  and not s.get("password") and not s.get("share_with")
                  and not s.get("expiration") and not s.get("hide_download")]
        share = shares[0] if shares else self.call(lambda: self._shares("POST", data={
            "path": path, "shareType": owncloud.Client.OCS_SHARE_TYPE_LINK,
            "permissions": 1}), idempotent=False)
        url = share["url"]
        return url if info.is_dir() else url.rstrip("/") + "/download"

    def _shares(self, method: str, **kwargs):
        """The share API as Nextcloud documents it (OCS v2, JSON). pyocclient's own
        ``share_file_with_link`` cannot be used: it reads a ``name`` field that Nextcloud
        does not send, and fails after the share was made."""
        url = f"{self.url}/ocs/v2.php/apps/files_sharing/api/v1/shares"
        headers = {"OCS-APIRequest": "true", "Accept": "application/json"}
        response = self._request(method, url, headers=headers, **kwargs)
        return response.json()["ocs"]["data"]

    def close(self) -> None:
        if self._logged_in:
            self.client.logout()
            self._logged_in = False

    # -- change feed ------------------------------------------------------------------
    def initial_cursor(self) -> str:
        root, instance = self._root_state()
        snapshot, _listed = self._snapshot(root, {})
        return self._encode(instance, snapshot)

    def changes(self, cursor: str) -> tuple[list[Change], str]:
        if self._cursor_head is None or self._cursor_head[0] != cursor:
            self._decode(cursor)  # checks it, and remembers its head
        _cursor, instance_was, root_etag = self._cursor_head
        root, instance = self._root_state()
        if instance != instance_was:
            raise CursorExpired("the Nextcloud instance changed since this cursor")
        if root_etag is not None and root_etag == _etag(root):
            return [], cursor
        _instance, old = self._decode(cursor)
        new, listed = self._snapshot(root, old)
        return self._diff(old, new, listed), self._encode(instance, new)

    def advance(self, cursor: str, writes: list[Change]) -> str | None:
        """The cursor's snapshot with our own writes applied. The server changed the ETag
        of every folder above a write, to values we do not know: those folders get none,
        so the next poll lists them once (and so still sees anyone else's change there)."""
        instance, snapshot = self._decode(cursor)
        touched = set()
        for change in writes:
            item = change.item
            if change.type == ChangeType.DELETED:
                entry = snapshot.get(item.id)
                if entry:
                    touched.add(entry[0])
                doomed = {item.id}
                for fileid in sorted(snapshot, key=lambda f: _depth(f, snapshot)):
                    if snapshot[fileid][0] in doomed:
                        doomed.add(fileid)
                for fileid in doomed:
                    snapshot.pop(fileid, None)
                continue
            was = snapshot.get(item.id)
            if was:
                touched.add(was[0])
            if item.parent_id not in snapshot:
                return None  # written outside the snapshot's tree: list it again
            snapshot[item.id] = [item.parent_id, item.name, item.is_folder, item.version]
            touched.add(item.parent_id)
        for fileid in touched:
            while fileid in snapshot:
                snapshot[fileid][3] = None
                fileid = snapshot[fileid][0]
        return self._encode(instance, snapshot)

    def _root_state(self) -> tuple[owncloud.FileInfo, str]:
        root = self._located(self.root_id)
        oc_id = root.attributes.get(f"{OC}id") or ""
        return root, re.sub(r"^\d+", "", oc_id)

    def _snapshot(self, root: owncloud.FileInfo, old: dict) -> tuple[dict, dict]:
        """id → [parent, name, is_dir, etag] below the root, and the items listed anew.

        A folder whose ETag did not change is taken from ``old`` without a request.
        """
        children: dict[str, list[str]] = {}
        for fileid, entry in old.items():
            children.setdefault(entry[0], []).append(fileid)
        new = {self.root_id: [None, "", True, _etag(root)]}
        listed: dict[str, Item] = {}
        stack = [(self.root_id, norm(root.path))]
        while stack:
            folder_id, path = stack.pop()
            for info in _children(self._propfind(path, 1), path):
                item = self._item(info, parent_id=folder_id)
                listed[item.id] = item
                new[item.id] = [folder_id, item.name, item.is_folder, item.version]
                if not item.is_folder:
                    continue
                if item.id in old and old[item.id][3] == item.version:
                    _copy_subtree(item.id, old, children, new)
                else:
                    stack.append((item.id, item.extra["path"]))
        return new, listed

    def _diff(self, old: dict, new: dict, listed: dict) -> list[Change]:
        changes = []
        for fileid, (parent, name, is_dir, etag) in new.items():
            if fileid == self.root_id:
                continue
            item = listed.get(fileid) or Item(fileid, name, Kind.FOLDER if is_dir else Kind.FILE,
                                              parent_id=parent, version=etag)
            was = old.get(fileid)
            if was is None:
                changes.append(Change(ChangeType.CREATED, item))
                continue
            if was[0] != parent:
                changes.append(Change(ChangeType.MOVED, item, old_parent_id=was[0],
                                      old_name=was[1]))
            elif was[1] != name:
                changes.append(Change(ChangeType.RENAMED, item, old_name=was[1]))
            if not is_dir and was[3] != etag:
                changes.append(Change(ChangeType.UPDATED, item))
        gone = [fileid for fileid in old if fileid not in new]
        for fileid in sorted(gone, key=lambda f: -_depth(f, old)):
            parent, name, is_dir, etag = old[fileid]
            changes.append(Change(ChangeType.DELETED, Item(
                fileid, name, Kind.FOLDER if is_dir else Kind.FILE, parent_id=parent,
                version=etag)))
        return changes

    def _encode(self, instance: str, snapshot: dict) -> str:
        payload = json.dumps({"root": self.root_id, "instance": instance, "items": snapshot},
                             separators=(",", ":"))
        cursor = CURSOR_PREFIX + base64.urlsafe_b64encode(zlib.compress(payload.encode())
                                                          ).decode()
        self._remember_head(cursor, instance, snapshot)
        return cursor

    def _remember_head(self, cursor: str, instance: str, snapshot: dict) -> None:
        self._cursor_head = (cursor, instance, (snapshot.get(self.root_id) or [None] * 4)[3])

    def _decode(self, cursor: str) -> tuple[str, dict]:
        try:
            if not cursor.startswith(CURSOR_PREFIX):
                raise ValueError("not a Nextcloud cursor")
            data = json.loads(zlib.decompress(base64.urlsafe_b64decode(
                cursor[len(CURSOR_PREFIX):].encode())))
            items, root, instance = data["items"], data["root"], data["instance"]
            if not isinstance(items, dict):
                raise ValueError("bad snapshot")
        except (ValueError, KeyError, TypeError, AttributeError, zlib.error) as exc:
            raise CursorExpired(f"unreadable Nextcloud cursor: {exc}") from exc
        if root != self.root_id:
            raise CursorExpired("the cursor belongs to another root folder")
        self._remember_head(cursor, instance, items)
        return instance, items


def _children(infos: list, path: str) -> list:
    """A Depth 1 answer without the folder itself."""
    return [info for info in infos if norm(info.path) != norm(path)]


def _fileid_at(infos: list, path: str) -> str | None:
    for info in infos:
        if norm(info.path) == norm(path):
            return info.attributes.get(f"{OC}fileid")
    return None


def _next_mtime(info: owncloud.FileInfo) -> int:
    """The modification time for new content of ``info``: now, and at least a second
    after the content it replaces. Nextcloud names a version by its content's mtime in
    seconds: two writes within one second would share a name and the older content
    would be lost from the version list (X-OC-Mtime, as Nextcloud's clients send)."""
    modified = info.attributes.get("{DAV:}getlastmodified")
    before = int(parsedate_to_datetime(modified).timestamp()) if modified else 0
    return max(int(time.time()), before + 1)


def _etag(info: owncloud.FileInfo) -> str | None:
    return (info.attributes.get("{DAV:}getetag") or "").strip('"') or None


def _copy_subtree(folder_id: str, old: dict, children: dict, new: dict) -> None:
    stack = [folder_id]
    while stack:
        for child in children.get(stack.pop(), []):
            new[child] = old[child]
            if old[child][2]:
                stack.append(child)


def _depth(fileid: str, snapshot: dict) -> int:
    depth = 0
    while fileid in snapshot and depth < 10000:
        fileid = snapshot[fileid][0]
        depth += 1
    return depth


def _propfind_body() -> bytes:
    props = "".join(f"<{p}/>" for p in PROPS)
    return ('<?xml version="1.0"?><d:propfind xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns"'
            f' xmlns:nc="http://nextcloud.org/ns"><d:prop>{props}</d:prop></d:propfind>'
            ).encode()


def _search_where(operator: str, prop: str, literal: str) -> str:
    """One basicsearch condition: ``operator`` (eq, like) on ``prop`` with ``literal``."""
    return (f"<d:{operator}><d:prop>{prop}</d:prop><d:literal>{escape(literal)}</d:literal>"
            f"</d:{operator}>")


def _search_body(scope: str, where: str, limit: int | None = None) -> bytes:
    """A DAV basicsearch below ``scope`` (Nextcloud's SEARCH on ``/remote.php/dav/``)."""
    props = "".join(f"<{p}/>" for p in PROPS)
    limit_xml = f"<d:limit><d:nresults>{int(limit)}</d:nresults></d:limit>" if limit else ""
    return ('<?xml version="1.0" encoding="UTF-8"?><d:searchrequest xmlns:d="DAV:" '
            'xmlns:oc="http://owncloud.org/ns"><d:basicsearch>'
            f"<d:select><d:prop>{props}</d:prop></d:select>"
            f"<d:from><d:scope><d:href>{escape(scope)}</d:href><d:depth>infinity</d:depth>"
            f"</d:scope></d:from><d:where>{where}</d:where><d:orderby/>{limit_xml}"
            "</d:basicsearch></d:searchrequest>").encode()


