"""NAS / WebDAV provider on webdavclient3 (Synology, QNAP, TrueNAS, any RFC 4918 server).

Ids: an item's id is its path below the server URL: ``/`` followed by the names joined by
``/``, never a trailing slash (the server root itself is ``/``). The connection's root is
``config["root"]`` normalised the same way. A path is stable until the item is renamed or
moved; then its id changes (``rename``/``move`` return the item with its new id).

Calls: every operation is one request built by the SDK (``Client.execute_request``: its
URL, auth, headers, timeout and TLS settings); the SDK's convenience methods are not used
because each adds HEAD/PROPFIND round trips and ``mkdir`` hides "already exists". The SDK
raises on every status >= 400 without the response; a response hook on its session turns
error answers into typed errors first, with the server's Retry-After. Calls per operation:
upload 1 (PUT ``If-None-Match: *``: an existing name answers 412 -> NameTaken) plus one
PROPFIND when the server's PUT answer has no ETag (Apache), update 1 (+1 likewise; PUT
``If-Match: *`` so a vanished file is NotFound instead of recreated; a server that
ignores the condition answers 201 Created and the new file is removed again), download 1,
create_folder 1 (+1 for the ETag), find_child 1 (PROPFIND Depth 0 on the child's
path, not a listing of the folder), rename/move 2 (MOVE ``Overwrite: F``, then PROPFIND),
delete 1, list/metadata 1 (PROPFIND Depth 1/0). PROPFIND answers are read by our own
multistatus parser (:func:`_parse_multistatus`, one expat pass: the properties of the 200
propstat, any namespace prefix, percent-decoded hrefs), not the SDK's slower one.

Uploads: one streamed PUT with a Content-Length, whatever the size: plain WebDAV has no
resumable upload (``resumable_upload = False``); no progress callback, because that makes
the SDK send chunked transfer encoding, which some NAS refuse. Unseekable streams are
spooled to a temporary file first so that a retry can send them again.

Version marker: the ETag (quotes stripped); where the server gives none (wsgidav's
folders), ``<mtime>-<size>``. The marker is only as fine as the server's ETag: Apache's
has microseconds, wsgidav's ``inode-mtime-size`` has seconds, so a same-size rewrite
within the same second goes unseen there. WebDAV has no content hash (``hash_type = None``) and no
public links (``link()`` gives the item's URL on the server, for users with access).

Change feed: a snapshot of the tree (path -> kind, version, size, mtime, ETag) taken by
one PROPFIND ``Depth: infinity`` or, where the server refuses it (Apache's default, many
NAS), by a walk with one PROPFIND ``Depth: 1`` per folder, :data:`WALK_THREADS` of them in
flight (a work queue: each listed folder's subfolders join it; the threads share the
client's session, as parallel transfers do; each request retried under ``call``, the
first error ends the walk). Folder ETags are missing (wsgidav) or shallow (Apache), so
nothing is pruned by folder ETag. Two snapshots are diffed. Plain WebDAV has no file
ids, but a strong ETag survives a MOVE (wsgidav: inode-mtime-size; Apache: size-mtime in
microseconds): a vanished path and a new path of the same kind, size and ETag, each the
only one with that ETag, are one item RENAMED (same parent) or MOVED (``old_id`` = old
path). A folder without an ETag follows its files (the folder whose file moved to the
same relative place under a new folder moved too), and a moved folder's descendants are
reported MOVED as well, since their ids (paths) changed. Anything unpaired (a move plus
an edit, a moved empty folder without ETag, ambiguous ETags) is reported honestly as
DELETED + CREATED. Order: deletions (deepest first, by old id), moves, creations
(shallowest first), then UPDATED for files whose version changed; each id appears once.
After a sync run that wrote, ``advance`` applies the run's own writes to the snapshot
(no listing). Snapshots are kept in ``config["state_dir"]`` (``nas_sync`` gives a folder
of the database's filestore; the default is a folder in the system temp dir); the cursor
is ``webdav1.<scope>.<digest>``, the scope binding it to one server URL and root. A
garbled cursor, one of another root, or one whose snapshot is gone (state lost, or older
than the :data:`KEEP_SNAPSHOTS` newest of this root) raises CursorExpired: the caller
lists everything again. Losing the state folder is therefore safe, only slower.

Flavours (``config["flavour"]``) differ only in the default root when none is given:
``generic`` the server root; ``synology`` ``/home`` (the user's home share of the
WebDAV Server package, https port 5006); ``qnap`` ``/Public`` (the default share);
``truenas`` needs an explicit root: each share is ``/<share name>`` (SCALE's WebDAV
service, port 8080/8081; select Basic authentication, the SDK does not do Digest).
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import json
import os
import posixpath
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import BinaryIO, ClassVar
from urllib.parse import quote, unquote, urlsplit
from xml.parsers import expat

import requests
from webdav3.client import Client

from ..naming import NameRules
from .base import Change, ChangeType, Item, Kind, Provider, Resume
from .errors import (
    CloudError,
    CursorExpired,
    Fatal,
    NameTaken,
    NotFound,
    QuotaExceeded,
    ReauthRequired,
    RetryLater,
)

FLAVOURS = {"generic": "", "synology": "/home", "qnap": "/Public", "truenas": None}
KEEP_SNAPSHOTS = 16  # change-feed snapshots kept per root (older cursors expire)
CURSOR_PREFIX = "webdav1"
MAX_NAME_BYTES = 255  # ext4, btrfs and ZFS limit a name to 255 bytes of UTF-8
_PROPS = ("resourcetype", "getcontentlength", "getlastmodified", "getetag", "getcontenttype")
_PROPFIND_BODY = (
    '<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:"><D:prop>'
    + "".join(f"<D:{p}/>" for p in _PROPS) + "</D:prop></D:propfind>"
).encode()
_RETRYABLE = {408, 423, 425, 429, 500, 502, 503, 504}
WALK_THREADS = 8  # PROPFINDs Depth 1 in flight while walking a tree (see DECISIONS.md)
# A multistatus answer's elements as expat names them (namespace URI, space, local name)
_MULTISTATUS, _RESPONSE, _HREF, _PROPSTAT, _STATUS, _PROP, _RESOURCETYPE, _COLLECTION = (
    f"DAV: {name}" for name in ("multistatus", "response", "href", "propstat", "status",
                                "prop", "resourcetype", "collection"))
_FIELDS = {"DAV: getcontentlength": "size", "DAV: getlastmodified": "modified",
           "DAV: getetag": "etag", "DAV: getcontenttype": "content_type"}


class WebDAVProvider(Provider):
    key = "webdav"
    # NAS shares are also reached over SMB: keep names Windows can open.
    name_rules: ClassVar[NameRules] = NameRules(
        forbidden_chars='/\\:*?"<>|', max_length=255, strip_trailing=" .")
    hash_type = None
    chunk_threshold = 1 << 62  # no resumable upload in plain WebDAV
    unique_names = True
    resumable_upload = False
    has_public_links = False
    internal_link_is_content = True  # the item's URL on the server
    refreshes_tokens = False  # basic auth or a fixed bearer token: nothing to refresh
    server_side_copy = True  # COPY (RFC 4918 9.8): Apache mod_dav, wsgidav, NAS servers
    start_concurrency = 4  # a NAS publishes no limit: start modest, grow while it copes

    def __init__(self, config: dict, **kwargs):
        super().__init__(config, **kwargs)
        url = (self.config.get("url") or "").rstrip("/")
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"webdav: url must be an http(s) URL, got {url!r}")
        flavour = self.config.get("flavour") or "generic"
        if flavour not in FLAVOURS:
            raise ValueError(f"webdav: unknown flavour {flavour!r} (one of {sorted(FLAVOURS)})")
        root = self.config.get("root") or FLAVOURS[flavour]
        if root is None:
            raise ValueError(f"webdav: the {flavour} flavour needs a root (the share's path)")
        self.url = url
        self._prefix = unquote(urlsplit(url).path).rstrip("/")
        self._root = _normalize(root)
        self._deep_propfind = True  # until the server refuses Depth: infinity
        self.client = Client({
            "webdav_hostname": url,
            "webdav_login": self.config.get("login") or "",
            "webdav_password": self.config.get("password") or "",
            "webdav_token": self.config.get("token") or "",
            "webdav_timeout": float(self.config.get("timeout") or 30),
        })
        self.client.verify = self.config.get("verify_tls", True)
        self.client.session.hooks["response"].append(_raise_for_status)
        state = self.config.get("state_dir") or os.path.join(
            tempfile.gettempdir(), "cloud_sync-webdav-state")
        self._scope = hashlib.sha256(f"{url}\n{self._root}".encode()).hexdigest()[:16]
        self._state_dir = os.path.join(state, self._scope)

    # -- plumbing -----------------------------------------------------------------------
    @property
    def root_id(self) -> str:
        return self._root

    def safe_name(self, name: str) -> str:
        """The shared rules, then cut to what the NAS filesystems store (255 bytes)."""
        name = super().safe_name(name)
        while len(name.encode()) > MAX_NAME_BYTES:
            stem, dot, ext = name.rpartition(".")
            if dot and stem and len(ext) <= 10:
                name = stem[:-1].rstrip() + "." + ext
            else:
                name = name[:-1].rstrip()
        return name

    def translate(self, exc: Exception) -> Exception:
        if isinstance(exc, requests.exceptions.SSLError):  # a ConnectionError, but final
            return Fatal(f"webdav: TLS verification failed ({exc})")
        if isinstance(exc, requests.Timeout):
            return RetryLater(f"webdav: timeout ({exc})")
        if isinstance(exc, requests.ConnectionError):
            return RetryLater(f"webdav: connection failed ({exc})")
        return exc

    def _request(self, action: str, item_id: str, *, folder: bool = False, data=None,
                 headers: dict | None = None) -> requests.Response:
        path = quote(_check_id(item_id))
        if folder and not path.endswith("/"):
            path += "/"
        ext = [f"{k}: {v}" for k, v in (headers or {}).items()]
        return self.client.execute_request(action, path, data=data, headers_ext=ext)

    def _propfind(self, item_id: str, depth: str) -> list[Item]:
        response = self._request("list", item_id, folder=depth != "0", data=_PROPFIND_BODY,
                                 headers={"Depth": depth, "Content-Type": "application/xml"})
        try:
            infos = _parse_multistatus(response.content)
        finally:
            response.close()
        items = [self._item(info) for info in infos if info["path"].startswith(self._prefix)]
        if not any(item.id == item_id for item in items):
            # An unparseable answer reads as an empty listing: never take that for
            # "no children" (a snapshot would then report everything deleted).
            raise Fatal(f"webdav: the PROPFIND answer for {item_id} does not describe it")
        return items

    def _item(self, info: dict) -> Item:
        item_id = _normalize(info["path"][len(self._prefix):])
        size = int(info.get("size") or 0)
        modified = _parse_date(info.get("modified"))
        etag = (info.get("etag") or "").removeprefix("W/").strip('"')
        stamp = int(modified.timestamp()) if modified else 0
        return Item(
            id=item_id,
            name=posixpath.basename(item_id),
            kind=Kind.FOLDER if info.get("isdir") else Kind.FILE,
            parent_id=None if item_id in ("/", self._root) else posixpath.dirname(item_id),
            size=size,
            version=etag or f"{stamp}-{size}",
            modified=modified,
            web_url=self._url(item_id),
            mime_type=info.get("content_type") or None,
            extra={"etag": etag},
        )

    def _url(self, item_id: str) -> str:
        return self.url + quote(item_id)

    def _child(self, parent_id: str, name: str) -> str:
        return _check_id(parent_id).rstrip("/") + "/" + self.safe_name(name)

    # -- the contract -------------------------------------------------------------------
    def create_folder(self, parent_id: str, name: str) -> Item:
        item_id = self._child(parent_id, name)
        attempts = []

        def mkcol():
            attempts.append(1)
            self._request("mkdir", item_id).close()

        try:
            self.call(mkcol)
        except NameTaken:
            # a retried MKCOL whose first attempt landed finds its own folder
            item = self.metadata(item_id) if len(attempts) > 1 else None
            if item is None or not item.is_folder:
                raise
            return item
        return self.metadata(item_id)

    def upload(self, parent_id: str, name: str, stream: BinaryIO, size: int | None = None,
               resume: Resume | None = None) -> Item:
        return self._put(self._child(parent_id, name), stream, size, {"If-None-Match": "*"})

    def update(self, item_id: str, stream: BinaryIO, size: int | None = None,
               resume: Resume | None = None) -> Item:
        return self._put(_check_id(item_id), stream, size, {"If-Match": "*"})

    def _put(self, item_id: str, stream: BinaryIO, size: int | None, condition: dict) -> Item:
        with _seekable(stream) as source:
            start = source.tell()
            if size is None:
                size = source.seek(0, io.SEEK_END) - start
            attempts = []

            def put():
                attempts.append(1)
                source.seek(start)
                response = self._request("upload", item_id, data=_Body(source, size),
                                         headers=condition)
                response.close()
                return response.status_code, response.headers.get("ETag")

            try:
                status, etag = self.call(put)
            except NameTaken:
                # A retried PUT whose first attempt did land finds its own file: accept
                # it only then, and only if the size matches what we sent.
                if len(attempts) < 2:
                    raise
                item = self.metadata(item_id)
                if item.is_folder or item.size != size:
                    raise
                return item
        if status == 201 and "If-Match" in condition:
            # wsgidav ignores ``If-Match: *`` on a missing file and creates it: remove
            # what this very request created, so that update never resurrects a file.
            self.call(lambda: self._request("clean", item_id).close())
            raise NotFound(f"webdav: {item_id} no longer exists", status=412)
        if not etag:
            return self.metadata(item_id)
        etag = etag.removeprefix("W/").strip('"')
        return Item(id=item_id, name=posixpath.basename(item_id), kind=Kind.FILE,
                    parent_id=posixpath.dirname(item_id), size=size, version=etag,
                    modified=datetime.now(timezone.utc), web_url=self._url(item_id),
                    extra={"etag": etag})

    def download(self, item_id: str) -> Iterator[bytes]:
        response = self.call(lambda: self._request("download", item_id))
        return _iter_body(response, self.download_chunk_size)

    def rename(self, item_id: str, new_name: str) -> Item:
        item_id = _check_id(item_id)
        return self._move(item_id, self._child(posixpath.dirname(item_id), new_name))

    def move(self, item_id: str, new_parent_id: str, new_name: str | None = None) -> Item:
        item_id = _check_id(item_id)
        name = new_name if new_name is not None else posixpath.basename(item_id)
        return self._move(item_id, self._child(new_parent_id, name))

    def _move(self, item_id: str, target: str) -> Item:
        if item_id in ("/", self._root):
            raise Fatal("webdav: the root folder cannot be renamed or moved")
        if target == item_id:
            return self.metadata(target)
        headers = {"Destination": self.client.get_url(quote(target)), "Overwrite": "F"}
        attempts = []

        def move():
            attempts.append(1)
            self._request("move", item_id, headers=headers).close()

        try:
            self.call(move)
        except NotFound:
            # a retried MOVE whose first attempt landed no longer finds its source
            if len(attempts) < 2 or self.exists(item_id):
                raise
        return self.metadata(target)

    def copy(self, item_id: str, parent_id: str, name: str | None = None) -> Item:
        """COPY to a free name (``Overwrite: F``: a taken one is 412, NameTaken)."""
        source = self.metadata(item_id)
        if source.is_folder:
            raise Fatal("webdav: only files are copied")
        target = self._child(parent_id, name if name is not None else source.name)
        headers = {"Destination": self.client.get_url(quote(target)), "Overwrite": "F"}
        attempts = []

        def copy():
            attempts.append(1)
            self._request("copy", source.id, headers=headers).close()

        try:
            self.call(copy)
        except NameTaken:
            # a retried COPY whose first attempt landed finds its own copy
            if len(attempts) < 2 or self.metadata(target).size != source.size:
                raise
        return self.metadata(target)

    def delete(self, item_id: str) -> None:
        item_id = _check_id(item_id)
        if item_id in ("/", self._root):
            raise Fatal("webdav: refusing to delete the connection's root folder")
        self.call(lambda: self._request("clean", item_id).close())

    def find_child(self, parent_id: str, name: str, kind: Kind | None = None) -> Item | None:
        """One PROPFIND Depth 0 on the child's path instead of listing the folder."""
        try:
            item = self.metadata(self._child(parent_id, name))
        except NotFound:
            return None
        return item if kind is None or item.kind == kind else None

    def list_children(self, folder_id: str) -> Iterator[Item]:
        folder_id = _check_id(folder_id)
        items = self.call(lambda: self._propfind(folder_id, "1"))
        return iter([item for item in items if item.id != folder_id])

    def metadata(self, item_id: str) -> Item:
        item_id = _check_id(item_id)
        items = self.call(lambda: self._propfind(item_id, "0"))
        return next(item for item in items if item.id == item_id)

    def link(self, item_id: str, public: bool | None = None, *, audience: str | None = None,
             expires_in: int | None = None) -> str:
        self.check_link_options(audience, expires_in)
        if public:
            raise Fatal("webdav: WebDAV servers have no public links")
        return self._url(_check_id(item_id))

    # -- change feed --------------------------------------------------------------------
    def initial_cursor(self) -> str:
        return self._save(self._snapshot())

    def changes(self, cursor: str) -> tuple[list[Change], str]:
        old = self._load(cursor)
        new = self._snapshot()
        return _diff(old, new, self._root), self._save(new)

    def advance(self, cursor: str, writes: list[Change]) -> str | None:
        """The cursor's snapshot with our own writes applied (a MOVE renames a whole
        subtree on the server, so the paths below a moved folder follow)."""
        snapshot = self._load(cursor)
        for change in writes:
            item = change.item
            below = item.id + "/"
            if change.type == ChangeType.DELETED:
                for path in [p for p in snapshot if p == item.id or p.startswith(below)]:
                    del snapshot[path]
                continue
            old = change.old_id
            if old and old != item.id:
                for path in [p for p in snapshot if p == old or p.startswith(old + "/")]:
                    snapshot[item.id + path[len(old):]] = snapshot.pop(path)
            snapshot[item.id] = _entry(item)
        return self._save(snapshot)

    def _snapshot(self) -> dict[str, list]:
        """path -> [is_folder, version, size, mtime, etag] of everything beneath the root."""
        items: list[Item] = []
        if self._deep_propfind:
            try:
                items = self.call(lambda: self._propfind(self._root, "infinity"))
            except ReauthRequired as exc:
                if exc.status != 403:
                    raise
                self._deep_propfind = False  # refused: walk folder by folder instead
        if not self._deep_propfind:
            items = self._walk()
        return {item.id: _entry(item) for item in items if item.id != self._root}

    def _walk(self) -> list[Item]:
        """Everything beneath the root by one PROPFIND Depth 1 per folder, up to
        :data:`WALK_THREADS` of them in flight (a work queue: each listed folder's
        subfolders join it). The first error stops the walk and is raised."""
        items: list[Item] = []
        with ThreadPoolExecutor(WALK_THREADS, thread_name_prefix="webdav-walk") as threads:
            pending = {threads.submit(self.list_children, self._root)}
            try:
                while pending:
                    done, pending = wait(pending, return_when=FIRST_COMPLETED)
                    for future in done:
                        for child in future.result():
                            items.append(child)
                            if child.is_folder:
                                pending.add(threads.submit(self.list_children, child.id))
            finally:
                for future in pending:
                    future.cancel()
        return items

    def _save(self, snapshot: dict) -> str:
        blob = json.dumps(snapshot, sort_keys=True, separators=(",", ":")).encode()
        digest = hashlib.sha256(blob).hexdigest()[:32]
        path = os.path.join(self._state_dir, digest + ".json.gz")
        try:
            os.makedirs(self._state_dir, exist_ok=True)
            if not os.path.exists(path):
                tmp = f"{path}.{os.getpid()}.{threading.get_ident()}.tmp"
                with open(tmp, "wb") as fh:
                    fh.write(gzip.compress(blob))
                os.replace(tmp, path)
            os.utime(path)  # most recently used: kept by the pruning below
            self._prune()
        except OSError as exc:
            raise Fatal(f"webdav: cannot keep the change-feed state in {self._state_dir} "
                        f"(config state_dir): {exc}") from exc
        return f"{CURSOR_PREFIX}.{self._scope}.{digest}"

    def _prune(self) -> None:
        """Keep the newest snapshots of this root; older cursors then expire."""
        files = [os.path.join(self._state_dir, n) for n in os.listdir(self._state_dir)
                 if n.endswith(".json.gz")]
        files.sort(key=lambda p: os.stat(p).st_mtime_ns, reverse=True)
        for path in files[KEEP_SNAPSHOTS:]:
            with contextlib.suppress(FileNotFoundError):
                os.remove(path)

    def _load(self, cursor: str) -> dict:
        parts = str(cursor or "").split(".")
        if len(parts) != 3 or parts[0] != CURSOR_PREFIX or parts[1] != self._scope \
                or not parts[2].isalnum():
            raise CursorExpired(f"webdav: not a cursor of this connection: {cursor!r:.80}")
        path = os.path.join(self._state_dir, parts[2] + ".json.gz")
        try:
            with open(path, "rb") as fh:
                return json.loads(gzip.decompress(fh.read()))
        except (OSError, ValueError) as exc:
            raise CursorExpired(f"webdav: the cursor's snapshot is gone ({exc})") from exc

    def close(self) -> None:
        self.client.session.close()


# -- helpers --------------------------------------------------------------------------------
def _normalize(path: str) -> str:
    """``a//b/`` -> ``/a/b``; the server root is ``/``."""
    parts = [p for p in str(path).split("/") if p]
    return "/" + "/".join(parts)


def _entry(item: Item) -> list:
    """An item as a snapshot keeps it."""
    return [item.is_folder, item.version, item.size,
            int(item.modified.timestamp()) if item.modified else 0, item.extra.get("etag", "")]


def _check_id(item_id: str) -> str:
    """Refuse ids that are not absolute normalised paths (``..`` would escape the root)."""
    if not isinstance(item_id, str) or not item_id.startswith("/") \
            or any(p in (".", "..") for p in item_id.split("/")) \
            or (item_id != "/" and (item_id.endswith("/") or "//" in item_id)):
        raise Fatal(f"webdav: not a valid item id (an absolute path): {item_id!r}")
    return item_id


def _parse_multistatus(content: bytes) -> list[dict]:
    """A PROPFIND answer (RFC 4918 multistatus) as ``{"path", "isdir", "size",
    "modified", "etag", "content_type"}`` per ``response``: the properties of its 200
    ``propstat`` only, namespaces by URI whatever their prefix, the href's path
    percent-decoded. One pass of expat, no tree: the SDK's parser (lxml and ``.//``
    searches) costs 1.5-2 times the CPU. Unparseable: ``[]``."""
    responses: list[dict] = []
    stack: list[str] = []  # the open elements
    text: list[str] = []  # the text of the innermost one
    found: dict = {}  # the current propstat's properties

    def start(tag, _attributes):
        stack.append(tag)
        text.clear()
        depth = len(stack)
        if depth == 1 and tag != _MULTISTATUS:
            raise expat.ExpatError(f"not a multistatus answer: {tag}")
        if depth == 2 and tag == _RESPONSE:
            responses.append({"href": "", "isdir": False})
        elif depth == 3 and tag == _PROPSTAT:
            found.clear()
        elif depth == 6 and tag == _COLLECTION and stack[4] == _RESOURCETYPE:
            found["isdir"] = True

    def end(tag):
        depth = len(stack)
        stack.pop()
        if tag in _FIELDS:
            if depth == 5 and stack[3] == _PROP and stack[2] == _PROPSTAT:
                found[_FIELDS[tag]] = "".join(text).strip()
        elif tag == _HREF:
            if depth == 3 and stack[1] == _RESPONSE:
                responses[-1]["href"] = "".join(text).strip()
        elif tag == _STATUS:
            if depth == 4 and stack[2] == _PROPSTAT:
                found["status"] = "".join(text)
        elif tag == _PROPSTAT and depth == 3 and stack[1] == _RESPONSE \
                and found.pop("status", "").split()[1:2] == ["200"]:
            responses[-1].update(found)

    parser = expat.ParserCreate(namespace_separator=" ")
    parser.buffer_text = True
    parser.StartElementHandler, parser.EndElementHandler = start, end
    parser.CharacterDataHandler = text.append
    try:
        parser.Parse(content, True)
    except expat.ExpatError:
        return []
    infos = []
    for response in responses:
        href = response.pop("href")
        if href:
            response["path"] = unquote(urlsplit(href).path)
            infos.append(response)
    return infos


def _parse_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None


def _retry_after(value: str | None) -> float | None:
    """Retry-After in seconds: delta-seconds or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        when = _parse_date(value)
        return max(0.0, when.timestamp() - time.time()) if when else None


def _raise_for_status(response: requests.Response, *args, **kwargs):
    """requests response hook: an error answer becomes a typed error, headers intact."""
    if response.status_code < 400:
        return response
    error = _error_for(response)
    response.close()
    raise error


def _error_for(response: requests.Response) -> CloudError:
    status = response.status_code
    method = response.request.method
    conditional = response.request.headers.get("If-Match")
    where = f"webdav: {method} {unquote(urlsplit(response.url).path)} answered {status}"
    if status in (401, 403):
        return ReauthRequired(where, status=status)
    if status == 404 or (status == 412 and conditional):
        return NotFound(where, status=status)
    if status == 409:  # RFC 4918: an intermediate folder is missing
        return NotFound(f"{where} (parent folder missing)", status=status)
    if (status == 405 and method == "MKCOL") or (
            status == 412 and method in ("PUT", "MOVE", "COPY")):
        return NameTaken(f"{where} (name taken)", status=status)
    if status == 507:
        return QuotaExceeded(where, status=status)
    if status in _RETRYABLE:
        return RetryLater(where, status=status,
                          retry_after=_retry_after(response.headers.get("Retry-After")))
    return Fatal(f"{where}: {response.text[:200]}", status=status)


class _Body:
    """A request body of exactly ``size`` bytes, so requests sends a Content-Length."""

    def __init__(self, stream: BinaryIO, size: int):
        self._stream, self._left, self._size = stream, size, size

    def __len__(self) -> int:
        return self._size

    def read(self, n: int = -1) -> bytes:
        n = self._left if n is None or n < 0 else min(n, self._left)
        data = self._stream.read(n) if n else b""
        self._left -= len(data)
        return data


@contextlib.contextmanager
def _seekable(stream: BinaryIO):
    """``stream`` if it can be rewound for a retry, else a spooled copy of it."""
    try:
        stream.seek(stream.tell())
        yield stream
        return
    except (AttributeError, OSError, ValueError):
        pass
    with tempfile.SpooledTemporaryFile(max_size=8 << 20) as copy:
        while chunk := stream.read(1 << 20):
            copy.write(chunk)
        copy.seek(0)
        yield copy


def _iter_body(response: requests.Response, chunk_size: int) -> Iterator[bytes]:
    """The body in chunks; a connection lost mid-stream is RetryLater (the caller starts
    the download over: chunks already handed out cannot be taken back)."""
    try:
        yield from response.iter_content(chunk_size=chunk_size)
    except requests.RequestException as exc:
        raise RetryLater(f"webdav: download interrupted ({exc})") from exc
    finally:
        response.close()


def _diff(old: dict, new: dict, root: str) -> list[Change]:
    """Changes from snapshot ``old`` to ``new`` (see the module docstring for the order)."""

    def item(path: str, entry: list) -> Item:
        is_folder, version, size, mtime, _etag = entry
        return Item(id=path, name=posixpath.basename(path),
                    kind=Kind.FOLDER if is_folder else Kind.FILE,
                    parent_id=None if path == root else posixpath.dirname(path), size=size,
                    version=version,
                    modified=datetime.fromtimestamp(mtime, timezone.utc) if mtime else None)

    retyped = {p for p in old.keys() & new.keys() if old[p][0] != new[p][0]}
    gone = (old.keys() - new.keys()) | retyped
    born = (new.keys() - old.keys()) | retyped
    moves = _pair_moves(old, new, gone, born)
    gone -= moves.keys()
    born -= set(moves.values())
    changes = [Change(ChangeType.DELETED, item(p, old[p]))
               for p in sorted(gone, key=lambda p: (-p.count("/"), p))]
    updated = []
    for was, now in sorted(moves.items(), key=lambda pair: (pair[1].count("/"), pair[1])):
        kind = ChangeType.RENAMED if _parent(was) == _parent(now) else ChangeType.MOVED
        changes.append(Change(kind, item(now, new[now]), old_parent_id=_parent(was),
                              old_name=posixpath.basename(was), old_id=was))
        if not new[now][0] and old[was][1:3] != new[now][1:3]:
            updated.append(now)
    changes += [Change(ChangeType.CREATED, item(p, new[p]))
                for p in sorted(born, key=lambda p: (p.count("/"), p))]
    updated += [p for p in old.keys() & new.keys() - retyped
                if not new[p][0] and old[p][1:3] != new[p][1:3]]
    return changes + [Change(ChangeType.UPDATED, item(p, new[p])) for p in sorted(updated)]


def _parent(path: str) -> str:
    return posixpath.dirname(path)


def _pair_moves(old: dict, new: dict, gone: set, born: set) -> dict[str, str]:
    """old path -> new path of items that moved: same kind, size and a unique ETag; then
    folders that moved with their content, and the descendants of moved folders."""

    def by_etag(paths, snap):
        groups = defaultdict(list)
        for p in paths:
            is_folder, _version, size, _mtime, etag = snap[p]
            if etag:
                groups[(is_folder, size, etag)].append(p)
        return groups

    olds, news = by_etag(gone, old), by_etag(born, new)
    moves = {paths[0]: news[key][0] for key, paths in olds.items()
             if len(paths) == 1 and len(news.get(key, ())) == 1}
    targets = set(moves.values())
    for was, now in list(moves.items()):  # a folder without ETag that moved with its file
        while was != "/" and now != "/" and posixpath.basename(was) == posixpath.basename(now):
            was, now = _parent(was), _parent(now)
        if was in gone and now in born and old[was][0] and new[now][0] \
                and was not in moves and now not in targets:
            moves[was] = now
            targets.add(now)
    for was, now in sorted(moves.items()):  # shallowest folders first
        if not old[was][0]:
            continue
        for path in sorted(gone):
            if path.startswith(was + "/") and path not in moves:
                twin = now + path[len(was):]
                if twin in born and twin not in targets and old[path][0] == new[twin][0]:
                    moves[path] = twin
                    targets.add(twin)
    return moves


__all__ = ["FLAVOURS", "WebDAVProvider"]
