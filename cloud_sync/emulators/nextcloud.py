"""A local Nextcloud: wsgidav for the files DAV plus what Nextcloud adds on top.

Served: the files DAV at ``/remote.php/webdav`` and ``/remote.php/dav/files/<user>``
with Nextcloud's live properties (``oc:fileid`` stable across moves, ``oc:id``,
``oc:size``, ``oc:permissions``, ``oc:favorite``, ``oc:checksums`` when a client sent
``OC-Checksum``, folder ETags that change when anything below changes), dead properties
set by PROPPATCH, ``X-OC-Mtime`` on PUT (answered ``X-OC-MTime: accepted``),
``OC-FileId``/``OC-ETag`` answer headers, WebDAV locks shared by both endpoints (a write
without the lock's token is 423), chunked upload v2 under
``/remote.php/dav/uploads/<user>/<id>`` (chunks 1..10000, zero padding allowed, listed by
PROPFIND to resume), the OCS API at ``/ocs/v1.php`` and ``/ocs/v2.php`` (XML or JSON,
``OCS-APIRequest: true`` required): capabilities and public-link shares (create, list,
update, delete, with the documented fields), the share page ``/s/<token>``, public
downloads ``/s/<token>/download``, the public WebDAV ``/public.php/webdav`` (read only)
and the internal links ``/f/<fileid>``. Basic auth with one user and an app password.

A DELETE moves the item to the trash bin, served as Nextcloud does under
``/remote.php/dav/trashbin/<user>/trash`` (PROPFIND lists the items with
``nc:trashbin-filename``, ``-original-location`` and ``-deletion-time``; MOVE to
``restore/<name>`` restores, with its file ids; DELETE purges an item or empties the bin).
Versions as the files_versions app keeps them: every write over a non-empty file keeps
the replaced content, named by its mtime in seconds, under
``/remote.php/dav/versions/<user>/versions/<fileid>`` (PROPFIND lists them with the
current content; GET serves one; MOVE to ``.../restore/target`` rolls back); they follow
the file id, go to the trash with the file and are copied by COPY. DAV ``SEARCH``
answers a basicsearch on ``oc:fileid`` eq or ``d:displayname`` like.
File ids, ETags, the instance id and the trash records are journaled in the data
directory: an emulator restarted on it serves the same ids and never hands one out
twice. :meth:`NextcloudEmulator.expire_cursors`
changes the instance id (the suffix of ``oc:id``), as a restored or migrated server
would, which invalidates every change-feed cursor of the provider.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import io
import json
import mimetypes
import os
import re
import secrets
import shutil
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable
from email.utils import formatdate
from http import HTTPStatus
from urllib.parse import parse_qs, quote, unquote, urlparse
from xml.etree import ElementTree as ET

from wsgidav import xml_tools
from wsgidav.dav_error import HTTP_BAD_REQUEST, HTTP_FORBIDDEN, HTTP_NOT_FOUND, DAVError
from wsgidav.fs_dav_provider import FileResource, FilesystemProvider, FolderResource
from wsgidav.wsgidav_app import WsgiDAVApp

from .base import Emulator

USER = "alice"
APP_PASSWORD = "nc-app-password-7Qx2"
VERSION = "28.0.4"
MAX_NAME = 250
OC = "{http://owncloud.org/ns}"
NC = "{http://nextcloud.org/ns}"
WEBDAV = "/remote.php/webdav"
FILES_DAV = f"/remote.php/dav/files/{USER}"
UPLOADS_DAV = f"/remote.php/dav/uploads/{USER}"
TRASH_DAV = f"/remote.php/dav/trashbin/{USER}"
VERSIONS_DAV = f"/remote.php/dav/versions/{USER}"
LIVE_PROPS = [f"{OC}fileid", f"{OC}id", f"{OC}size", f"{OC}permissions", f"{OC}favorite"]
FAVORITE = f"{OC}favorite"
# Properties Nextcloud computes: a PROPPATCH of one of them is refused (403)
PROTECTED = {*LIVE_PROPS, f"{OC}checksums", f"{OC}share-types", f"{NC}has-preview"} - {FAVORITE}
Answer = tuple[str, list[tuple[str, str]], bytes]


def norm(path: str) -> str:
    """A store key: ``/`` for the user's root, ``/a/b`` below it."""
    return "/" + path.strip("/")


def parent_of(path: str) -> str:
    return norm(path.rsplit("/", 1)[0])


def _below(path: str, top: str) -> bool:
    return path == top or top == "/" or path.startswith(top + "/")


class Store:
    """File ids, ETags and the trash bin's records, by path (relative to the user's files root).

    Ids are handed out lazily and follow moves; a write bumps the ETag of the item and
    of every folder above it, as Nextcloud's ETag propagation does. With a ``journal``
    file every change is appended to it, and a store opened on the same file again has
    the same ids, ETags, instance and trash: ids stay unique and stable across restarts,
    as a real server's (its file cache is a database).
    """

    def __init__(self, journal: str | None = None):
        self.lock = threading.RLock()
        self.ids: dict[str, int] = {}
        self.paths: dict[int, str] = {}
        self.etags: dict[str, str] = {}
        self.meta: dict[str, dict] = {}  # path -> {"checksum": str, "props": {name: xml}}
        self.trash: dict[str, dict] = {}
        self.sizes: dict[str, tuple[str, int]] = {}  # folder -> (its ETag, bytes below)
        self.next_id = 1
        self.instance = ""
        self._journal = None
        if journal and os.path.exists(journal):
            with open(journal, encoding="utf-8") as lines:
                for line in lines:
                    if line.strip():
                        self._apply(json.loads(line))
        if not self.instance:
            self.instance = self._new_instance()
        if journal:
            self._compact(journal)
            self._journal = open(journal, "a", encoding="utf-8")  # noqa: SIM115

    # -- the journal ----------------------------------------------------------------------
    def _apply(self, op: list) -> None:
        """One change, live or replayed from the journal."""
        kind, *args = op
        if kind == "id":
            path, fileid = args
            self.ids[path] = fileid
            self.paths[fileid] = path
            self.next_id = max(self.next_id, fileid + 1)
        elif kind == "etag":
            self.etags[args[0]] = args[1]
        elif kind == "meta":
            if args[1]:
                self.meta[args[0]] = args[1]
            else:
                self.meta.pop(args[0], None)
        elif kind == "next":
            self.next_id = max(self.next_id, args[0])
        elif kind == "instance":
            self.instance = args[0]
        elif kind == "drop":
            self._drop(args[0])
        elif kind == "move":
            src, dst = args
            self._drop(dst)
            for table in (self.ids, self.etags, self.meta):
                for path in [p for p in table if _below(p, src)]:
                    table[dst + path[len(src):]] = table.pop(path)
            self.paths = {fileid: path for path, fileid in self.ids.items()}
        elif kind == "trash":
            key, record = args
            self._drop(record["location"])
            self.trash[key] = record
        elif kind == "restore":
            key, target = args
            record = self.trash.pop(key)
            self._drop(target)
            for sub, fileid in record["ids"].items():
                self.ids[target + sub] = fileid
                self.paths[fileid] = target + sub
            for sub, etag in record["etags"].items():
                self.etags[target + sub] = etag
            for sub, meta in record.get("meta", {}).items():
                self.meta[target + sub] = meta
        elif kind == "purge":
            self.trash.pop(args[0], None)

    def _log(self, *op) -> None:
        self._apply(list(op))
        if self._journal:
            self._journal.write(json.dumps(op) + "\n")
            self._journal.flush()

    def _compact(self, journal: str) -> None:
        """Rewrite the journal as the current state only (at start, before serving)."""
        tmp = journal + ".tmp"
        with open(tmp, "w", encoding="utf-8") as out:
            ops = [["instance", self.instance], ["next", self.next_id],
                   *(["id", p, i] for p, i in self.ids.items()),
                   *(["etag", p, e] for p, e in self.etags.items()),
                   *(["meta", p, m] for p, m in self.meta.items()),
                   *(["trash", k, r] for k, r in self.trash.items())]
            out.writelines(json.dumps(op) + "\n" for op in ops)
        os.replace(tmp, journal)

    def close(self) -> None:
        with self.lock:
            if self._journal:
                self._journal.close()
                self._journal = None

    # -- ids and ETags ----------------------------------------------------------------------
    @staticmethod
    def _new_instance() -> str:
        return "oc" + secrets.token_hex(5)

    def new_instance(self) -> None:
        with self.lock:
            self._log("instance", self._new_instance())

    def fileid(self, path: str) -> int:
        path = norm(path)
        with self.lock:
            if path not in self.ids:
                self._log("id", path, self.next_id)
            return self.ids[path]

    def oc_id(self, path: str) -> str:
        return f"{self.fileid(path):08d}{self.instance}"

    def etag(self, path: str) -> str:
        path = norm(path)
        with self.lock:
            if path not in self.etags:
                self._log("etag", path, secrets.token_hex(7)[:13])
            return self.etags[path]

    def path_of(self, fileid: int) -> str | None:
        with self.lock:
            return self.paths.get(fileid)

    def _bump(self, path: str) -> None:
        """New ETag for ``path`` and all its ancestors."""
        path = norm(path)
        while True:
            self._log("etag", path, secrets.token_hex(7)[:13])
            if path == "/":
                return
            path = parent_of(path)

    def _drop(self, top: str) -> None:
        for path in [p for p in self.ids if _below(p, top)]:
            self.paths.pop(self.ids.pop(path), None)
        for path in [p for p in self.etags if _below(p, top)]:
            del self.etags[path]
        for path in [p for p in self.meta if _below(p, top)]:
            del self.meta[path]

    def written(self, path: str, checksum: str | None = None) -> None:
        """Created or content replaced (the id survives an overwrite). The checksum a
        client sent (``OC-Checksum``) is kept; new content without one clears it, as
        Nextcloud does: a checksum never describes other bytes."""
        path = norm(path)
        with self.lock:
            self.fileid(path)
            meta = dict(self.meta.get(path, {}))
            if checksum:
                meta["checksum"] = checksum
            else:
                meta.pop("checksum", None)
            if meta != self.meta.get(path, {}):
                self._log("meta", path, meta)
            self._bump(path)

    def checksum(self, path: str) -> str | None:
        with self.lock:
            return self.meta.get(norm(path), {}).get("checksum")

    def props(self, path: str) -> dict[str, str]:
        """The dead properties set with PROPPATCH: name -> XML of the element."""
        with self.lock:
            return dict(self.meta.get(norm(path), {}).get("props", {}))

    def set_prop(self, path: str, name: str, xml: str | None) -> None:
        path = norm(path)
        with self.lock:
            meta = dict(self.meta.get(path, {}))
            props = dict(meta.get("props", {}))
            if xml is None:
                props.pop(name, None)
            else:
                props[name] = xml
            meta["props"] = props
            if not props:
                del meta["props"]
            self._log("meta", path, meta)

    def removed(self, path: str) -> None:
        with self.lock:
            self._log("drop", norm(path))
            self._bump(parent_of(path))

    def copied(self, src: str, dst: str) -> None:
        """A copy has a new id and the source's checksum (not its dead properties)."""
        with self.lock:
            sums = {p[len(norm(src)):]: m["checksum"] for p, m in self.meta.items()
                    if _below(p, norm(src)) and m.get("checksum")}
            self._log("drop", norm(dst))
            self.written(dst, sums.get(""))
            for sub, checksum in sums.items():
                if sub:
                    self._log("meta", norm(dst) + sub, {"checksum": checksum})

    def moved(self, src: str, dst: str) -> None:
        src, dst = norm(src), norm(dst)
        with self.lock:
            self._log("move", src, dst)
            self._bump(parent_of(src))
            self._bump(parent_of(dst))

    # -- trash bin --------------------------------------------------------------------------
    def trashed(self, path: str, key: str, deleted: int, is_dir: bool) -> dict:
        """``path`` went to the trash as ``key``: its ids and ETags go with it."""
        path = norm(path)
        with self.lock:
            self.fileid(path)
            record = {
                "location": path, "time": deleted, "dir": is_dir,
                "ids": {p[len(path):]: i for p, i in self.ids.items() if _below(p, path)},
                "etags": {p[len(path):]: e for p, e in self.etags.items() if _below(p, path)},
                "meta": {p[len(path):]: m for p, m in self.meta.items() if _below(p, path)},
            }
            self._log("trash", key, record)
            self._bump(parent_of(path))
            return record

    def restored(self, key: str, target: str) -> None:
        """The trashed item ``key`` is back at ``target``, with its ids."""
        target = norm(target)
        with self.lock:
            self._log("restore", key, target)
            self._bump(target)

    def purged(self, key: str) -> None:
        with self.lock:
            self._log("purge", key)


class _Live:
    """Nextcloud's live properties on top of wsgidav's file system resources."""

    def get_etag(self):
        return self.provider.store.etag(self.path)

    def support_etag(self):
        return True

    def get_property_names(self, *, is_allprop):
        store = self.provider.store
        names = super().get_property_names(is_allprop=is_allprop)
        names += [n for n in store.props(self.path) if n not in names]
        if store.checksum(self.path):
            names.append(f"{OC}checksums")
        return names if is_allprop else names + LIVE_PROPS

    def get_property_value(self, name):
        store = self.provider.store
        dead = store.props(self.path)
        if name in dead and name not in PROTECTED:
            return xml_tools.string_to_xml(dead[name])
        if name == FAVORITE:
            return "0"
        if name == f"{OC}checksums":
            checksum = store.checksum(self.path)
            if not checksum:
                raise DAVError(HTTP_NOT_FOUND)
            element = xml_tools.etree.Element(name)
            for value in checksum.split():  # Nextcloud's ChecksumList: one per algorithm
                xml_tools.etree.SubElement(element, f"{OC}checksum").text = value
            return element
        if name == "{DAV:}getetag":
            return f'"{self.get_etag()}"'  # Nextcloud quotes it in PROPFIND answers too
        if name == f"{OC}fileid":
            return str(store.fileid(self.path))
        if name == f"{OC}id":
            return store.oc_id(self.path)
        if name == f"{OC}size":
            return str(self.oc_size())
        if name == f"{OC}permissions":
            return "RGDNVCK" if self.is_collection else "RGDNVW"
        return super().get_property_value(name)

    def set_property_value(self, name, value, *, dry_run=False):
        """PROPPATCH: Nextcloud keeps any property of another namespace as a dead
        property (its custom properties backend); ``oc:favorite`` takes 0 or 1; the
        properties it computes, and every ``DAV:`` one, are protected (403)."""
        if name in PROTECTED or name.startswith("{DAV:}"):
            raise DAVError(HTTP_FORBIDDEN)
        if name == FAVORITE and value is not None and (value.text or "").strip() not in (
                "0", "1"):
            raise DAVError(HTTP_BAD_REQUEST)
        if not dry_run:
            xml = None if value is None else xml_tools.etree.tostring(value).decode()
            if name == FAVORITE and value is not None and value.text.strip() == "0":
                xml = None
            self.provider.store.set_prop(self.path, name, xml)
        return True


class _File(_Live, FileResource):
    def oc_size(self) -> int:
        return self.get_content_length()


class _Folder(_Live, FolderResource):
    def oc_size(self) -> int:
        """The bytes below, kept per folder ETag as Nextcloud keeps folder sizes in its
        file cache (propagated on each write, as the ETag is): a PROPFIND of a folder
        does not walk its tree while nothing below changed through the server."""
        store = self.provider.store
        etag = store.etag(self.path)
        known = store.sizes.get(self.path)
        if known and known[0] == etag:
            return known[1]
        total = 0
        for top, _dirs, files in os.walk(self._file_path):
            total += sum(os.path.getsize(os.path.join(top, f)) for f in files)
        store.sizes[self.path] = (etag, total)
        return total


class _Files(FilesystemProvider):
    def __init__(self, root: str, store: Store):
        super().__init__(root, fs_opts={})
        self.store = store

    def get_resource_inst(self, path, environ):
        fp = self._loc_to_file_path(path, environ)
        if not os.path.exists(fp):
            return None
        return (_Folder if os.path.isdir(fp) else _File)(path, environ, fp)


def sabre_error(status: str, exception: str, message: str,
                headers: list[tuple[str, str]] | None = None) -> Answer:
    body = (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<d:error xmlns:d="DAV:" xmlns:s="http://sabredav.org/ns">\n'
        f"  <s:exception>Sabre\\DAV\\Exception\\{exception}</s:exception>\n"
        f"  <s:message>{_esc(message)}</s:message>\n</d:error>\n"
    ).encode()
    return status, [("Content-Type", "application/xml; charset=utf-8"), *(headers or [])], body


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _error_answer(status: int, retry_after: float | None) -> Answer:
    names = {429: ("429 Too Many Requests", "TooManyRequests"),
             500: ("500 Internal Server Error", "ServiceUnavailable"),
             502: ("502 Bad Gateway", "ServiceUnavailable"),
             503: ("503 Service Unavailable", "ServiceUnavailable"),
             504: ("504 Gateway Timeout", "ServiceUnavailable")}
    line, exc = names.get(status, (f"{status} Error", "ServiceUnavailable"))
    headers = [] if retry_after is None else [("Retry-After", f"{retry_after:g}")]
    return sabre_error(line, exc, "System in maintenance mode." if status == 503
                       else "Please try again later", headers)


def _expired_answer() -> Answer:
    return sabre_error("401 Unauthorized", "NotAuthenticated",
                       "No public access to this resource., Username or password was "
                       "incorrect", [("WWW-Authenticate", 'Basic realm="Nextcloud", '
                                      'charset="UTF-8"')])


def ocs(data=None, *, status: int = 200, message: str = "", version: int = 1,
        fmt: str = "xml", http: str | None = None) -> Answer:
    """An OCS answer as Nextcloud renders it. ``status`` is the outcome (200, or 400, 403,
    404, 997 not logged in...). v1: HTTP 200 (401 for 997) and ``statuscode`` 100 for
    success; v2: the HTTP status is the outcome and ``statuscode`` repeats it."""
    if version == 1:
        code = 100 if status == 200 else status
        line = http or ("401 Unauthorized" if status == 997 else "200 OK")
        meta = {"status": "ok" if code == 100 else "failure", "statuscode": code,
                "message": "OK" if code == 100 else message, "totalitems": "",
                "itemsperpage": ""}
    else:
        number = {997: 401, 998: 404, 996: 500, 999: 500}.get(status, status)
        number = 400 if not 200 <= number <= 600 else number
        line = http or f"{number} {HTTPStatus(number).phrase}"
        ok = 200 <= status < 300
        meta = {"status": "ok" if ok else "failure", "statuscode": status,
                "message": "OK" if ok else message}
    document = {"meta": meta, "data": [] if data is None else data}
    if fmt == "json":
        return line, [("Content-Type", "application/json; charset=utf-8")], json.dumps(
            {"ocs": document}).encode()
    body = b'<?xml version="1.0"?>\n' + ET.tostring(_tree("ocs", document), encoding="utf-8")
    return line, [("Content-Type", "application/xml; charset=utf-8")], body


def _tree(tag: str, value) -> ET.Element:
    """PHP's OCS XML writer: lists become ``<element>``s, booleans 1 or empty, None empty."""
    element = ET.Element(tag)
    if isinstance(value, dict):
        for key, sub in value.items():
            element.append(_tree(key, sub))
    elif isinstance(value, list):
        for sub in value:
            element.append(_tree("element", sub))
    elif isinstance(value, bool):
        element.text = "1" if value else ""
    elif value is not None:
        element.text = str(value)
    return element


def _ocs_format(environ, query: dict) -> str:
    """``format=json|xml``, else the first of the Accept header's types Nextcloud knows."""
    wanted = query.get("format", [None])[0]
    if wanted in ("json", "xml"):
        return wanted
    for accepted in environ.get("HTTP_ACCEPT", "").split(","):
        kind = accepted.split(";")[0].strip().lower().replace("application/", "")
        if kind in ("json", "xml"):
            return kind
    return "xml"


def _form(environ) -> dict:
    """The request body's parameters: form-encoded, or a JSON object."""
    body = _read_body(environ)
    if environ.get("CONTENT_TYPE", "").startswith("application/json"):
        try:
            data = json.loads(body or b"{}")
        except ValueError:
            return {}
        return {k: [v if isinstance(v, str) else json.dumps(v) if isinstance(
            v, (list, dict)) else str(v).lower() if isinstance(v, bool) else str(v)]
            for k, v in data.items()} if isinstance(data, dict) else {}
    return parse_qs(body.decode(), keep_blank_values=True)


def _share_token() -> str:
    alphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "".join(secrets.choice(alphabet) for _ in range(15))


def _not_found_page(text: str) -> Answer:
    return "404 Not Found", [("Content-Type", "text/html; charset=utf-8")], (
        f"<html><body><h1>{_esc(text)}</h1></body></html>").encode()


def _wsgi_path(environ) -> str:
    """PATH_INFO as the Unicode path the client sent (WSGI hands latin-1)."""
    raw = environ.get("PATH_INFO", "")
    try:
        return raw.encode("latin-1").decode("utf-8")
    except UnicodeError:
        return raw


def _name_error(path: str) -> str | None:
    """Why Nextcloud would refuse the last segment of ``path`` as a name, if it would."""
    name = path.rstrip("/").rsplit("/", 1)[-1]
    if "\\" in name:
        return f'"{name}" contains at least one invalid character'
    if len(name) > MAX_NAME:
        return "Filename is too long"
    if name in (".htaccess",):
        return f'"{name}" is a forbidden file or folder name'
    return None


class NextcloudApp:
    """The WSGI application (without faults); see the module docstring."""

    def __init__(self, data_dir: str, base_url: Callable[[], str]):
        self.files_dir = os.path.join(data_dir, "files", USER)
        self.uploads_dir = os.path.join(data_dir, "uploads", USER)
        self.trash_dir = os.path.join(data_dir, "files_trashbin", USER)
        self.versions_dir = os.path.join(data_dir, "files_versions", USER)
        for folder in (self.files_dir, self.uploads_dir, self.trash_dir, self.versions_dir):
            os.makedirs(folder, exist_ok=True)
        self.base_url = base_url
        self.store = Store(os.path.join(data_dir, "filecache.jsonl"))
        self.shares: dict[int, dict] = {}
        self.next_share = 1
        self.search_enabled = True  # False: a server without DAV SEARCH (older ownCloud)
        self.dav = WsgiDAVApp({
            "provider_mapping": {
                WEBDAV: _Files(self.files_dir, self.store),
                FILES_DAV: _Files(self.files_dir, self.store),
            },
            "http_authenticator": {"domain_controller": None},  # auth is checked here
            "simple_dc": {"user_mapping": {"*": True}},
            "dir_browser": {"enable": False},
            "lock_storage": True,
            "logging": {"enable": False},
            "verbose": 0,
        })

    # -- helpers ----------------------------------------------------------------------
    def fs_path(self, rel: str) -> str:
        return os.path.join(self.files_dir, *[p for p in rel.split("/") if p])

    def rel_of_url(self, url: str) -> str | None:
        """The user-relative path of a files DAV URL (percent-encoded), or None."""
        return self.rel_of_path(unquote(urlparse(url).path))

    @staticmethod
    def rel_of_path(path: str) -> str | None:
        """The user-relative path of a files DAV path, or None (also for ``..``)."""
        for prefix in (WEBDAV, FILES_DAV):
            if path == prefix or path.startswith(prefix + "/"):
                rel = norm(path[len(prefix):])
                return None if {".", ".."} & set(rel.split("/")) else rel
        return None

    def _authorized(self, environ) -> bool:
        header = environ.get("HTTP_AUTHORIZATION", "")
        if not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return False
        return secrets.compare_digest(f"{user}:{password}", f"{USER}:{APP_PASSWORD}")

    # -- dispatch ---------------------------------------------------------------------
    def __call__(self, environ, start_response):
        path = _wsgi_path(environ)
        if path == "/status.php":
            return self._send(start_response, self.status())
        for prefix in ("/s/", "/index.php/s/"):
            if path.startswith(prefix):
                token, _, rest = path[len(prefix):].partition("/")
                if rest == "download":
                    return self._send(start_response, self.public_download(token))
                if not rest:
                    return self._send(start_response, self.share_page(token))
        if path == "/public.php/webdav" or path.startswith("/public.php/webdav/"):
            return self.public_dav(environ, start_response, path[len("/public.php/webdav"):])
        ocs_version = next((v for v in (1, 2) if path.startswith(f"/ocs/v{v}.php/")), None)
        if not self._authorized(environ):
            if ocs_version:
                return self._send(start_response, ocs(
                    status=997, message="Current user is not logged in", version=ocs_version,
                    fmt=_ocs_format(environ, parse_qs(environ.get("QUERY_STRING", "")))))
            return self._send(start_response, _expired_answer())
        if path.rstrip("/") == "/remote.php/dav" and environ["REQUEST_METHOD"] == "SEARCH":
            return self.search(environ, start_response)
        if ocs_version:
            return self._send(start_response, self.ocs_request(environ, path[12:], ocs_version))
        if path == UPLOADS_DAV or path.startswith(UPLOADS_DAV + "/"):
            return self._send(start_response, self.chunked(environ, path[len(UPLOADS_DAV):]))
        if path.startswith("/remote.php/dav/uploads/"):
            return self._send(start_response, sabre_error(
                "403 Forbidden", "Forbidden", "Principal mismatch"))
        if path == TRASH_DAV or path.startswith(TRASH_DAV + "/"):
            return self._send(start_response, self.trashbin(environ, path[len(TRASH_DAV):]))
        if path.startswith("/remote.php/dav/trashbin/"):
            return self._send(start_response, sabre_error(
                "404 Not Found", "NotFound", "Principal not found"))
        if path == VERSIONS_DAV or path.startswith(VERSIONS_DAV + "/"):
            return self._send(start_response, self.versions(environ, path[len(VERSIONS_DAV):]))
        if path.startswith("/remote.php/dav/versions/"):
            return self._send(start_response, sabre_error(
                "404 Not Found", "NotFound", "Principal not found"))
        if self.rel_of_path(path) is not None:
            return self.files(environ, start_response, self.rel_of_path(path))
        for prefix in ("/f/", "/index.php/f/"):
            if path.startswith(prefix):
                return self._send(start_response, self.internal_link(path[len(prefix):]))
        if path.startswith("/index.php/apps/files/files/"):
            return self._send(start_response, self.files_page(path.rsplit("/", 1)[-1]))
        return self._send(start_response, sabre_error("404 Not Found", "NotFound",
                                                      f"No route for {path}"))

    @staticmethod
    def _send(start_response, answer: Answer):
        status, headers, body = answer
        start_response(status, [*headers, ("Content-Length", str(len(body)))])
        return [body]

    # -- files DAV (wsgidav) and the bookkeeping Nextcloud does around it --------------
    def files(self, environ, start_response, rel: str):
        method = environ["REQUEST_METHOD"]
        environ["wsgidav.auth.user_name"] = USER  # the principal of the locks taken
        if method in ("GET", "HEAD", "OPTIONS"):
            return self.dav(environ, start_response)
        dest = None
        if method in ("MOVE", "COPY"):
            dest = self.rel_of_url(environ.get("HTTP_DESTINATION", ""))
            if dest is None:
                return self._send(start_response, sabre_error(
                    "502 Bad Gateway", "BadGateway", "Destination outside the files DAV"))
        if method in ("PUT", "MKCOL", "MOVE", "COPY"):
            problem = _name_error(dest if dest is not None else rel)
            if problem:
                return self._send(start_response, sabre_error(
                    "400 Bad Request", "BadRequest", problem))
        mtime = environ.get("HTTP_X_OC_MTIME")
        if method == "PUT" and mtime is not None and not _numeric(mtime):
            return self._send(start_response, sabre_error(
                "400 Bad Request", "BadRequest",
                "X-OC-MTime header must be an integer (unix timestamp)."))
        locked = self._lock_conflict(environ, method, rel, dest)
        if locked:
            return self._send(start_response, locked)
        if method == "DELETE":
            answer = self.move_to_trash(rel)
            if answer[0].startswith("204"):
                self._drop_locks(rel)
            return self._send(start_response, answer)
        with self.store.lock:
            captured: list = []

            def capture(status, headers, exc_info=None):
                captured[:] = [status, list(headers)]
                return lambda data: None

            kept = self._keep_version(rel) if method == "PUT" else None
            copied_ids = self._ids_below(rel) if method == "COPY" else {}
            result = self.dav(environ, capture)
            try:
                body = b"".join(result)
            finally:
                if hasattr(result, "close"):
                    result.close()
            status, headers = captured
            if kept and int(status[:3]) >= 300:
                os.remove(kept)  # nothing was replaced: no version
            if int(status[:3]) < 300:
                extra = self._record(method, rel, dest, environ)
                if copied_ids:
                    self._copy_versions(copied_ids, dest)
                names = {k.lower() for k, _ in extra} | {"content-length"}
                headers = [(k, v) for k, v in headers if k.lower() not in names] + extra
        headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
        start_response(status, [*headers, ("Content-Length", str(len(body)))])
        return [body]

    def _record(self, method: str, rel: str, dest: str | None,
                environ) -> list[tuple[str, str]]:
        """Update ids and ETags after a successful write; the headers Nextcloud adds."""
        store = self.store
        if method == "PUT":
            store.written(rel, (environ.get("HTTP_OC_CHECKSUM") or "").strip() or None)
            return self.id_headers(rel) + self._set_mtime(environ, rel)
        if method == "MKCOL":
            store.written(rel)
            return self.id_headers(rel, etag=False)
        if method == "MOVE":
            store.moved(rel, dest)
        elif method == "COPY":
            store.copied(rel, dest)
        return []

    def _set_mtime(self, environ, rel: str) -> list[tuple[str, str]]:
        """``X-OC-Mtime`` (seconds since the epoch) becomes the file's modification time,
        acknowledged with ``X-OC-MTime: accepted`` as Nextcloud does."""
        mtime = environ.get("HTTP_X_OC_MTIME")
        if mtime is None:
            return []
        seconds = int(float(mtime))
        os.utime(self.fs_path(rel), (seconds, seconds))
        return [("X-OC-MTime", "accepted")]

    # -- locks (LOCK/UNLOCK are wsgidav's; Nextcloud's two file endpoints share them) ----
    def _lock_conflict(self, environ, method: str, rel: str, dest: str | None) -> Answer | None:
        """423 when a write meets a lock whose token the request did not submit in its
        ``If`` header (RFC 4918 7.4), whichever of the two files endpoints took it."""
        manager = self.dav.lock_manager
        if manager is None or method not in ("PUT", "DELETE", "MOVE", "COPY", "PROPPATCH",
                                             "MKCOL"):
            return None
        tokens = set(re.findall(r"<(opaquelocktoken:[^>]+)>", environ.get("HTTP_IF", "")))
        checks = [] if method == "COPY" else [(rel, method in ("DELETE", "MOVE"))]
        if dest is not None:
            checks.append((dest, True))
        for path, deep in checks:
            for prefix in (WEBDAV, FILES_DAV):
                url = quote(prefix + norm(path))
                locks = list(manager.get_indirect_url_lock_list(url))
                if deep:
                    locks += manager.storage.get_lock_list(
                        url, include_root=False, include_children=True, token_only=False)
                for lock in locks:
                    if lock["token"] not in tokens:
                        body = (
                            '<?xml version="1.0" encoding="utf-8"?>\n'
                            '<d:error xmlns:d="DAV:" xmlns:s="http://sabredav.org/ns">\n'
                            f'  <d:lock-token-submitted><d:href>{_esc(lock["root"])}'
                            '</d:href></d:lock-token-submitted>\n'
                            '  <s:exception>Sabre\\DAV\\Exception\\Locked</s:exception>\n'
                            f'  <s:message>"{_esc(path.rsplit("/", 1)[-1])}" is locked'
                            '</s:message>\n</d:error>\n').encode()
                        return ("423 Locked",
                                [("Content-Type", "application/xml; charset=utf-8")], body)
        return None

    def _drop_locks(self, rel: str) -> None:
        manager = self.dav.lock_manager
        if manager is not None:
            for prefix in (WEBDAV, FILES_DAV):
                manager.remove_all_locks_from_url(quote(prefix + norm(rel)), recursive=True)

    def id_headers(self, rel: str, etag: bool = True) -> list[tuple[str, str]]:
        headers = [("OC-FileId", self.store.oc_id(rel))]
        if etag:
            tag = f'"{self.store.etag(rel)}"'
            headers += [("ETag", tag), ("OC-ETag", tag)]
        return headers

    def search(self, environ, start_response):
        """DAV SEARCH (basicsearch) below a ``/files/<user>/...`` scope, with the two
        conditions Nextcloud clients send: ``eq`` on ``oc:fileid`` (find an item by id)
        and ``like`` on ``d:displayname`` (find by name: ``%`` any text, ``_`` one
        character, case-insensitive as Nextcloud compares names), ``d:limit/d:nresults``
        honoured. The answer holds a PROPFIND of each match with the selected
        properties, as Nextcloud answers it; the scope itself is not a match."""
        if not self.search_enabled:
            return self._send(start_response, sabre_error(
                "501 Not Implemented", "NotImplemented", "SEARCH is not supported"))
        d = "{DAV:}"
        refused = sabre_error("400 Bad Request", "BadRequest",
                              "Only a basicsearch on oc:fileid eq or d:displayname like is known")
        try:
            query = ET.fromstring(_read_body(environ)).find(f"{d}basicsearch")
            select = list(query.find(f"{d}select/{d}prop"))
            scope = unquote(query.find(f"{d}from/{d}scope/{d}href").text or "")
            condition = next(iter(query.find(f"{d}where")))
            asked = condition.find(f"{d}prop")[0].tag
            literal = condition.find(f"{d}literal").text or ""
            limit = query.findtext(f"{d}limit/{d}nresults")
            limit = int(limit) if limit else None
        except (ET.ParseError, AttributeError, IndexError, TypeError, ValueError,
                StopIteration):
            return self._send(start_response, refused)
        prefix = f"/files/{USER}"
        if not (scope == prefix or scope.startswith(prefix + "/")):
            return self._send(start_response, refused)
        top = norm(scope[len(prefix):])
        if condition.tag == f"{d}eq" and asked == f"{OC}fileid" and literal.isdigit():
            path = self.store.path_of(int(literal))
            found = [path] if path is not None and _below(path, top) and os.path.exists(
                self.fs_path(path)) else []
        elif condition.tag == f"{d}like" and asked == f"{d}displayname":
            pattern = re.compile("".join(
                ".*" if c == "%" else "." if c == "_" else re.escape(c) for c in literal),
                re.IGNORECASE | re.DOTALL)
            found = [p for p in self._paths_below(top)
                     if pattern.fullmatch(p.rsplit("/", 1)[-1])]
        else:
            return self._send(start_response, refused)
        root = ET.Element(f"{d}multistatus")
        for path in found[:limit]:
            root.extend(self._propfind_responses(environ, path, select))
        ET.register_namespace("d", "DAV:")
        body = b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root)
        return self._send(start_response, (
            "207 Multi-Status", [("Content-Type", "application/xml; charset=utf-8")], body))

    def _paths_below(self, top: str) -> list[str]:
        """Every file and folder below ``top`` (user-relative paths), sorted."""
        base = self.fs_path(top)
        found = []
        for folder, dirs, files in os.walk(base):
            rel = norm(top + "/" + os.path.relpath(folder, base).replace(os.sep, "/"))
            found += [norm(f"{rel}/{name}") for name in dirs + files]
        return sorted(p for p in found if ".upload-" not in p)

    def _propfind_responses(self, environ, path: str, select: list) -> list:
        """The ``d:response`` of a PROPFIND Depth 0 of ``path`` for the ``select``ed
        properties (through the files DAV, so with every live property)."""
        d = "{DAV:}"
        propfind = ET.Element(f"{d}propfind")
        ET.SubElement(propfind, f"{d}prop").extend(select)
        body = ET.tostring(propfind)
        sub = {**environ, "REQUEST_METHOD": "PROPFIND", "HTTP_DEPTH": "0",
               "PATH_INFO": (FILES_DAV + path).encode().decode("latin-1"),
               "wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(len(body))}
        answer = b"".join(self.files(sub, lambda status, headers, exc_info=None: None, path))
        try:
            return ET.fromstring(answer).findall(f"{d}response")
        except ET.ParseError:
            return []

    # -- trash bin ----------------------------------------------------------------------
    def move_to_trash(self, rel: str) -> Answer:
        """DELETE in the files DAV: the item goes to the trash bin as ``<name>.d<time>``
        (its content on disk under its file id, so no name is ever too long)."""
        if rel == "/":
            return sabre_error("403 Forbidden", "Forbidden", "Cannot delete the home folder")
        source = self.fs_path(rel)
        with self.store.lock:
            if not os.path.lexists(source):
                return sabre_error("404 Not Found", "NotFound",
                                   f"File with name {rel.lstrip('/')} could not be located")
            name = rel.rsplit("/", 1)[-1]
            deleted = int(time.time())
            while f"{name}.d{deleted}" in self.store.trash:
                deleted += 1
            fileid = self.store.fileid(rel)
            os.replace(source, os.path.join(self.trash_dir, str(fileid)))
            self.store.trashed(rel, f"{name}.d{deleted}", deleted, os.path.isdir(
                os.path.join(self.trash_dir, str(fileid))))
        return "204 No Content", [], b""

    def trashbin(self, environ, tail: str) -> Answer:
        """``/remote.php/dav/trashbin/<user>``: ``trash/`` lists the deleted items (PROPFIND),
        serves a file (GET), deletes an item or empties the bin (DELETE); MOVE of an item to
        ``restore/<name>`` puts it back where it was."""
        method = environ["REQUEST_METHOD"]
        parts = [p for p in tail.split("/") if p]
        if not parts:
            if method == "PROPFIND":
                children = [] if _depth(environ) == 0 else ["/trash/", "/restore/"]
                return self._multistatus(environ, [
                    (href, self._collection_props()) for href in ["/", *children]])
            return sabre_error("405 Method Not Allowed", "MethodNotAllowed", method)
        if parts[0] == "restore" and len(parts) == 1 and method == "PROPFIND":
            return self._multistatus(environ, [("/restore/", self._collection_props())])
        if parts[0] != "trash" or len(parts) > 2:
            return sabre_error("404 Not Found", "NotFound", "Not found in the trash bin")
        with self.store.lock:
            if len(parts) == 1:
                if method == "PROPFIND":
                    items = [] if _depth(environ) == 0 else sorted(self.store.trash)
                    return self._multistatus(environ, [
                        ("/trash/", self._collection_props()),
                        *[(self._trash_href(k), self._trash_props(k)) for k in items]])
                if method == "DELETE":
                    for key in list(self.store.trash):
                        self._purge(key)
                    return "204 No Content", [], b""
                return sabre_error("405 Method Not Allowed", "MethodNotAllowed", method)
            key = parts[1]
            if key not in self.store.trash:
                return sabre_error("404 Not Found", "NotFound", f"{key} not found in the trash")
            if method == "PROPFIND":
                return self._multistatus(environ, [(self._trash_href(key),
                                                    self._trash_props(key))])
            if method == "DELETE":
                self._purge(key)
                return "204 No Content", [], b""
            if method == "GET":
                disk = self._trash_disk(key)
                if os.path.isdir(disk):
                    return sabre_error("501 Not Implemented", "NotImplemented",
                                       "GET is only implemented on File objects")
                with open(disk, "rb") as fh:
                    return "200 OK", [("Content-Type", "application/octet-stream")], fh.read()
            if method == "MOVE":
                return self._restore(environ, key)
        return sabre_error("405 Method Not Allowed", "MethodNotAllowed", method)

    def _trash_disk(self, key: str) -> str:
        record = self.store.trash[key]
        return os.path.join(self.trash_dir, str(record["ids"][""]))

    def _trash_href(self, key: str) -> str:
        return f"/trash/{key}" + ("/" if self.store.trash[key]["dir"] else "")

    def _purge(self, key: str) -> None:
        for fileid in self.store.trash[key]["ids"].values():
            shutil.rmtree(os.path.join(self.versions_dir, str(fileid)), ignore_errors=True)
        disk = self._trash_disk(key)
        if os.path.isdir(disk):
            shutil.rmtree(disk)
        elif os.path.lexists(disk):
            os.remove(disk)
        self.store.purged(key)

    def _restore(self, environ, key: str) -> Answer:
        """Back to the original folder, or to the root when that folder is gone; a name
        taken there becomes "name (restored).ext", then "(restored 2)"..."""
        dest = unquote(urlparse(environ.get("HTTP_DESTINATION", "")).path)
        if not dest.startswith(TRASH_DAV + "/restore/") or "/" in dest[
                len(TRASH_DAV + "/restore/"):].strip("/"):
            return sabre_error("403 Forbidden", "Forbidden",
                               "Items can only be moved to the restore folder")
        record = self.store.trash[key]
        folder, name = parent_of(record["location"]), record["location"].rsplit("/", 1)[-1]
        if not os.path.isdir(self.fs_path(folder)):
            folder = "/"
        stem, dot, ext = name.rpartition(".") if "." in name.lstrip(".") else (name, "", "")
        candidate, n = name, 1
        while os.path.lexists(self.fs_path(f"{folder}/{candidate}")):
            label = "restored" if n == 1 else f"restored {n}"
            candidate = f"{stem} ({label}){dot}{ext}"
            n += 1
        target = norm(f"{folder}/{candidate}")
        os.replace(self._trash_disk(key), self.fs_path(target))
        self.store.restored(key, target)
        return "201 Created", self.id_headers(target, etag=False), b""

    def _collection_props(self) -> dict:
        return {"{DAV:}resourcetype": ET.Element("{DAV:}collection")}

    def _trash_props(self, key: str) -> dict:
        record = self.store.trash[key]
        disk = self._trash_disk(key)
        fileid = record["ids"][""]
        size = (sum(os.path.getsize(os.path.join(top, f))
                    for top, _dirs, files in os.walk(disk) for f in files)
                if record["dir"] else os.path.getsize(disk))
        props = {
            "{DAV:}resourcetype": ET.Element("{DAV:}collection") if record["dir"] else "",
            "{DAV:}getlastmodified": formatdate(os.path.getmtime(disk), usegmt=True),
            "{DAV:}getetag": f'"{record["etags"].get("", fileid)}"',
            f"{OC}fileid": str(fileid),
            f"{OC}id": f"{fileid:08d}{self.store.instance}",
            f"{OC}size": str(size),
            f"{NC}trashbin-filename": record["location"].rsplit("/", 1)[-1],
            f"{NC}trashbin-original-location": record["location"].lstrip("/"),
            f"{NC}trashbin-deletion-time": str(record["time"]),
        }
        if not record["dir"]:
            props["{DAV:}getcontentlength"] = str(size)
            props["{DAV:}getcontenttype"] = (
                mimetypes.guess_type(props[f"{NC}trashbin-filename"])[0]
                or "application/octet-stream")
        return props

    def _multistatus(self, environ, entries: list[tuple[str, dict]],
                     base: str = TRASH_DAV) -> Answer:
        """A PROPFIND answer: the asked properties found (200) and not found (404), or all
        of them for an allprop (or empty) request, as Sabre answers."""
        d = "{DAV:}"
        asked = None
        body = _read_body(environ)
        if body.strip():
            try:
                prop = ET.fromstring(body).find(f"{d}prop")
            except ET.ParseError:
                return sabre_error("400 Bad Request", "BadRequest", "Invalid XML body")
            asked = None if prop is None else [child.tag for child in prop]
        root = ET.Element(f"{d}multistatus")
        for href, props in entries:
            response = ET.SubElement(root, f"{d}response")
            ET.SubElement(response, f"{d}href").text = quote(base + href)
            names = list(props) if asked is None else asked
            for status, group in (("200 OK", [n for n in names if n in props]),
                                  ("404 Not Found", [n for n in names if n not in props])):
                if not group:
                    continue
                propstat = ET.SubElement(response, f"{d}propstat")
                found = ET.SubElement(propstat, f"{d}prop")
                for name in group:
                    element = ET.SubElement(found, name)
                    value = props.get(name)
                    if isinstance(value, ET.Element):
                        element.append(value)
                    elif value:
                        element.text = value
                ET.SubElement(propstat, f"{d}status").text = f"HTTP/1.1 {status}"
        for prefix, uri in (("d", "DAV:"), ("oc", OC[1:-1]), ("nc", NC[1:-1])):
            ET.register_namespace(prefix, uri)
        return ("207 Multi-Status", [("Content-Type", "application/xml; charset=utf-8")],
                b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root))

    # -- versions (the files_versions app) ---------------------------------------------
    def _keep_version(self, rel: str) -> str | None:
        """Content about to be replaced becomes a version named by its modification time
        (seconds), as Nextcloud's files_versions does on every write over a file (not an
        empty one; a version of the same second is overwritten). Versions follow the file
        id (Nextcloud moves them with the file, and into the trash with it). Returns the
        version file made, None when there was nothing to keep."""
        disk = self.fs_path(rel)
        if not os.path.isfile(disk) or not os.path.getsize(disk):
            return None
        folder = os.path.join(self.versions_dir, str(self.store.fileid(rel)))
        os.makedirs(folder, exist_ok=True)
        kept = os.path.join(folder, str(int(os.path.getmtime(disk))))
        existed = os.path.exists(kept)
        shutil.copy2(disk, kept)
        return None if existed else kept

    def _ids_below(self, rel: str) -> dict[str, int]:
        """Sub-path -> file id of the files below ``rel`` that have versions."""
        rel = norm(rel)
        with self.store.lock:
            return {p[len(rel):]: i for p, i in self.store.ids.items() if _below(p, rel)
                    and os.path.isdir(os.path.join(self.versions_dir, str(i)))}

    def _copy_versions(self, ids: dict[str, int], dest: str) -> None:
        """A copy takes the source's versions along, as Nextcloud's copy hook does."""
        for sub, fileid in ids.items():
            target = os.path.join(self.versions_dir, str(self.store.fileid(norm(dest) + sub)))
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(os.path.join(self.versions_dir, str(fileid)), target)

    def versions(self, environ, tail: str) -> Answer:
        """``/remote.php/dav/versions/<user>/versions/<fileid>``: PROPFIND lists the
        file's versions, the current content included (named by the file's
        modification time, as Nextcloud lists it), each named by its timestamp; GET one
        serves it; MOVE one to ``/remote.php/dav/versions/<user>/restore/target`` rolls
        the file back to it (the replaced content becomes a version)."""
        method = environ["REQUEST_METHOD"]
        parts = [p for p in tail.split("/") if p]
        if parts == ["restore"] or parts == ["restore", "target"]:
            return sabre_error("403 Forbidden", "Forbidden", "Only versions can be moved here")
        if not parts or parts[0] != "versions" or len(parts) > 3 or (
                len(parts) > 1 and not parts[1].isdigit()):
            return sabre_error("404 Not Found", "NotFound", "Not a version")
        if len(parts) == 1:
            if method == "PROPFIND":
                return self._multistatus(environ, [("/versions/", self._collection_props())],
                                         base=VERSIONS_DAV)
            return sabre_error("405 Method Not Allowed", "MethodNotAllowed", method)
        fileid = int(parts[1])
        with self.store.lock:
            rel = self.store.path_of(fileid)
            if rel is None or not os.path.isfile(self.fs_path(rel)):
                return sabre_error("404 Not Found", "NotFound", f"File {fileid} not found")
            listed = self._versions_of(fileid, rel)
            if len(parts) == 2:
                if method != "PROPFIND":
                    return sabre_error("405 Method Not Allowed", "MethodNotAllowed", method)
                href = f"/versions/{fileid}/"
                children = [] if _depth(environ) == 0 else sorted(listed, reverse=True)
                return self._multistatus(environ, [
                    (href, self._collection_props()),
                    *[(f"{href}{rev}", self._version_props(rel, listed[rev], rev))
                      for rev in children]], base=VERSIONS_DAV)
            revision = parts[2]
            if revision not in listed:
                return sabre_error("404 Not Found", "NotFound", f"Version {revision} not found")
            if method == "PROPFIND":
                return self._multistatus(environ, [(
                    f"/versions/{fileid}/{revision}",
                    self._version_props(rel, listed[revision], revision))], base=VERSIONS_DAV)
            if method == "GET":
                with open(listed[revision], "rb") as fh:
                    content_type = mimetypes.guess_type(rel)[0] or "application/octet-stream"
                    return "200 OK", [("Content-Type", content_type)], fh.read()
            if method == "MOVE":
                dest = unquote(urlparse(environ.get("HTTP_DESTINATION", "")).path)
                if dest.rstrip("/") != VERSIONS_DAV + "/restore/target":
                    return sabre_error("403 Forbidden", "Forbidden",
                                       "Versions can only be moved to restore/target")
                return self._rollback(rel, listed, revision)
        return sabre_error("405 Method Not Allowed", "MethodNotAllowed", method)

    def _versions_of(self, fileid: int, rel: str) -> dict[str, str]:
        """Revision (the content's mtime, seconds) -> where its bytes are; the current
        content under the file's own mtime."""
        folder = os.path.join(self.versions_dir, str(fileid))
        found = {}
        if os.path.isdir(folder):
            found = {name: os.path.join(folder, name) for name in os.listdir(folder)
                     if name.isdigit()}
        disk = self.fs_path(rel)
        found[str(int(os.path.getmtime(disk)))] = disk
        return found

    @staticmethod
    def _version_props(rel: str, disk: str, revision: str) -> dict:
        size = os.path.getsize(disk)
        return {
            "{DAV:}resourcetype": "",
            "{DAV:}getcontentlength": str(size),
            "{DAV:}getcontenttype": mimetypes.guess_type(rel)[0] or "application/octet-stream",
            "{DAV:}getlastmodified": formatdate(int(revision), usegmt=True),
            "{DAV:}getetag": f'"{revision}-{size:x}"',
            f"{NC}version-label": "",
            f"{NC}version-author": USER,
        }

    def _rollback(self, rel: str, listed: dict, revision: str) -> Answer:
        """Nextcloud's rollback: the current content is kept as a version, the version's
        bytes become the file's (the same file id), whose mtime is the version's."""
        disk = self.fs_path(rel)
        source = listed[revision]
        if source == disk:
            return "204 No Content", [], b""
        self._keep_version(rel)
        os.replace(source, disk)
        self.store.written(rel)
        os.utime(disk, (int(revision), int(revision)))
        return "204 No Content", [], b""

    # -- chunked upload v2 --------------------------------------------------------------
    def chunked(self, environ, tail: str) -> Answer:
        method = environ["REQUEST_METHOD"]
        parts = [p for p in tail.split("/") if p]
        if not parts or {".", ".."} & set(parts) or len(parts) > 2:
            return sabre_error("405 Method Not Allowed", "MethodNotAllowed", "Not an upload")
        folder = os.path.join(self.uploads_dir, parts[0])
        if method == "PROPFIND":
            return self.upload_listing(environ, parts)
        if len(parts) == 1:
            if method == "MKCOL":
                if os.path.exists(folder):
                    return sabre_error("405 Method Not Allowed", "MethodNotAllowed",
                                       "The resource you tried to create already exists")
                os.mkdir(folder)
                return "201 Created", [], b""
            if method == "DELETE":
                if not os.path.isdir(folder):
                    return sabre_error("404 Not Found", "NotFound", "Upload not found")
                shutil.rmtree(folder)
                return "204 No Content", [], b""
            return sabre_error("405 Method Not Allowed", "MethodNotAllowed", method)
        if not os.path.isdir(folder):
            return sabre_error("404 Not Found", "NotFound", "Upload folder not found")
        if method == "PUT":
            # Documented: chunk names are numbers from 1 to 10000, zero padding allowed
            # (clients send 00001...); assembled in natural order of the names
            if not parts[1].isdigit() or not 1 <= int(parts[1]) <= 10000:
                return sabre_error("400 Bad Request", "BadRequest",
                                   "Chunk name must be a number between 1 and 10000")
            chunk = os.path.join(folder, parts[1])
            existed = os.path.exists(chunk)
            _receive(environ, chunk)
            return ("204 No Content" if existed else "201 Created"), [], b""
        if method == "DELETE" and parts[1].isdigit():
            chunk = os.path.join(folder, parts[1])
            if not os.path.exists(chunk):
                return sabre_error("404 Not Found", "NotFound", f"Chunk {parts[1]} not found")
            os.remove(chunk)
            return "204 No Content", [], b""
        if method == "MOVE" and parts[1] == ".file":
            return self.assemble(environ, folder)
        return sabre_error("405 Method Not Allowed", "MethodNotAllowed", method)

    def upload_listing(self, environ, parts: list[str]) -> Answer:
        """PROPFIND in an upload folder (how a client resumes): the folder and, at Depth 1,
        its chunks with their sizes, as Nextcloud lists them."""
        folder = os.path.join(self.uploads_dir, parts[0])
        target = os.path.join(folder, *parts[1:])
        if not os.path.exists(target):
            return sabre_error("404 Not Found", "NotFound", "Upload not found")
        href = f"/{parts[0]}/" + ("/".join(parts[1:]))
        entries = [(href, self._upload_props(target))]
        if os.path.isdir(target) and _depth(environ):
            names = sorted(os.listdir(target), key=lambda n: (not n.isdigit(), int(n) if
                                                              n.isdigit() else 0, n))
            entries += [(f"/{parts[0]}/{n}", self._upload_props(os.path.join(target, n)))
                        for n in names]
        return self._multistatus(environ, entries, base=UPLOADS_DAV)

    @staticmethod
    def _upload_props(disk: str) -> dict:
        stat = os.stat(disk)
        if os.path.isdir(disk):
            return {"{DAV:}resourcetype": ET.Element("{DAV:}collection"),
                    "{DAV:}getlastmodified": formatdate(stat.st_mtime, usegmt=True)}
        return {"{DAV:}resourcetype": "", "{DAV:}getcontentlength": str(stat.st_size),
                "{DAV:}getlastmodified": formatdate(stat.st_mtime, usegmt=True),
                "{DAV:}getetag": f'"{stat.st_mtime_ns:x}-{stat.st_size:x}"',
                "{DAV:}getcontenttype": "application/octet-stream"}

    def assemble(self, environ, folder: str) -> Answer:
        rel = self.rel_of_url(environ.get("HTTP_DESTINATION", ""))
        if rel is None or rel == "/":
            return sabre_error("400 Bad Request", "BadRequest", "Invalid Destination")
        problem = _name_error(rel)
        if problem:
            return sabre_error("400 Bad Request", "BadRequest", problem)
        chunks = sorted((n for n in os.listdir(folder) if n.isdigit()), key=lambda n: (int(n), n))
        total = sum(os.path.getsize(os.path.join(folder, n)) for n in chunks)
        expected = environ.get("HTTP_OC_TOTAL_LENGTH")
        if expected is not None and int(expected) != total:
            return sabre_error("400 Bad Request", "BadRequest",
                               f"Chunks on server do not sum up to {expected} but to "
                               f"{total} bytes")
        mtime = environ.get("HTTP_X_OC_MTIME")
        if mtime is not None and not _numeric(mtime):
            return sabre_error("400 Bad Request", "BadRequest",
                               "X-OC-MTime header must be an integer (unix timestamp).")
        locked = self._lock_conflict(environ, "PUT", rel, None)
        if locked:
            return locked
        target = self.fs_path(rel)
        with self.store.lock:
            if not os.path.isdir(os.path.dirname(target)):
                return sabre_error("409 Conflict", "Conflict", "Parent folder does not exist")
            if os.path.isdir(target):
                return sabre_error("409 Conflict", "Conflict", "A folder has that name")
            existed = os.path.exists(target)
            if existed and environ.get("HTTP_OVERWRITE", "T").upper() == "F":
                return sabre_error("412 Precondition Failed", "PreconditionFailed",
                                   "Destination exists and Overwrite is F")
            tmp = target + f".upload-{secrets.token_hex(4)}.part"
            with open(tmp, "wb") as out:
                for n in chunks:
                    with open(os.path.join(folder, n), "rb") as part:
                        shutil.copyfileobj(part, out, 1 << 20)
            if existed:
                self._keep_version(rel)
            os.replace(tmp, target)
            shutil.rmtree(folder)
            self.store.written(rel, (environ.get("HTTP_OC_CHECKSUM") or "").strip() or None)
            headers = self.id_headers(rel) + self._set_mtime(environ, rel)
        return ("204 No Content" if existed else "201 Created"), headers, b""

    # -- OCS ---------------------------------------------------------------------------
    def ocs_request(self, environ, route: str, version: int) -> Answer:
        """One OCS request at ``/ocs/v1.php`` or ``/ocs/v2.php``: XML unless ``format=json``
        or an ``Accept`` header asks for JSON; refused without ``OCS-APIRequest: true``
        (Nextcloud's CSRF check lets only such requests through on OCS routes)."""
        query = parse_qs(environ.get("QUERY_STRING", ""))
        fmt = _ocs_format(environ, query)

        def reply(data=None, status: int = 200, message: str = "", http: str | None = None):
            return ocs(data, status=status, message=message, version=version, fmt=fmt,
                       http=http)

        if environ.get("HTTP_OCS_APIREQUEST") != "true":
            body = json.dumps({"message": "CSRF check failed"}).encode()
            return "412 Precondition Failed", [("Content-Type", "application/json; "
                                                "charset=utf-8")], body
        method = environ["REQUEST_METHOD"]
        params = {**query, **_form(environ)} if method in ("POST", "PUT") else query

        def param(name: str) -> str | None:
            return params.get(name, [None])[0]

        if route == "cloud/capabilities" and method == "GET":
            return reply(self.capabilities())
        prefix = "apps/files_sharing/api/v1/shares"
        if route == prefix:
            if method == "GET":
                return reply(*self.list_shares(param))
            if method == "POST":
                return reply(*self.create_share(param))
        elif route.startswith(prefix + "/") and route[len(prefix) + 1:].isdigit():
            share_id = int(route[len(prefix) + 1:])
            if share_id not in self.shares or self._share_path(share_id) is None:
                return reply(status=404, message="Wrong share ID, share does not exist")
            if method == "GET":
                return reply([self._share_data(share_id)])
            if method == "PUT":
                return reply(*self.update_share(share_id, param))
            if method == "DELETE":
                del self.shares[share_id]
                return reply()
        return reply(status=998, message="Invalid query, please check the syntax. API "
                     "specifications are here: http://www.freedesktop.org/wiki/Specifications/"
                     "open-collaboration-services.", http="404 Not Found")

    def capabilities(self) -> dict:
        major, minor, micro = VERSION.split(".")
        return {
            "version": {"major": int(major), "minor": int(minor), "micro": int(micro),
                        "string": VERSION, "edition": "", "extendedSupport": False},
            "capabilities": {
                "core": {"pollinterval": 60, "webdav-root": "remote.php/webdav"},
                "dav": {"chunking": "1.0", "bulkupload": "1.0"},
                "files": {"bigfilechunking": True, "undelete": True},
                "files_sharing": {"api_enabled": True, "public": {
                    "enabled": True, "password": {"enforced": False},
                    "expire_date": {"enabled": False}, "upload": True}},
            },
        }

    def _share_path(self, share_id: int) -> str | None:
        """The share's current path; a share whose item is gone is gone too."""
        path = self.store.path_of(self.shares[share_id]["fileid"])
        if path is None or not os.path.exists(self.fs_path(path)):
            self.shares.pop(share_id, None)
            return None
        return path

    def _share_data(self, share_id: int) -> dict:
        """A link share as Nextcloud's share API formats it (ShareAPIController)."""
        path = self._share_path(share_id)
        share = self.shares[share_id]
        disk = self.fs_path(path)
        is_dir = os.path.isdir(disk)
        mime = ("httpd/unix-directory" if is_dir else
                mimetypes.guess_type(path)[0] or "application/octet-stream")
        size = (sum(os.path.getsize(os.path.join(top, f))
                    for top, _dirs, files in os.walk(disk) for f in files)
                if is_dir else os.path.getsize(disk))
        return {
            "id": str(share_id), "share_type": 3, "uid_owner": USER,
            "displayname_owner": USER.title(), "permissions": share["permissions"],
            "can_edit": True, "can_delete": True, "stime": share["stime"], "parent": None,
            "expiration": f"{share['expiration']} 00:00:00" if share["expiration"] else None,
            "token": share["token"], "uid_file_owner": USER, "note": share["note"],
            "label": share["label"], "displayname_file_owner": USER.title(), "path": path,
            "item_type": "folder" if is_dir else "file",
            "item_permissions": 31 if is_dir else 27, "mimetype": mime,
            "has_preview": False, "storage_id": f"home::{USER}", "storage": 1,
            "item_source": share["fileid"], "file_source": share["fileid"],
            "file_parent": self.store.fileid(parent_of(path)), "file_target": path,
            "item_size": size, "item_mtime": int(os.path.getmtime(disk)),
            # link shares: the password's hash, also under its pre-15 name share_with
            "share_with": share["password"], "share_with_displayname": "(Shared link)",
            "password": share["password"], "send_password_by_talk": False,
            "url": f"{self.base_url()}/s/{share['token']}", "mail_send": 0,
            "hide_download": 1 if share["hide_download"] else 0,
            "attributes": share["attributes"],
        }

    def list_shares(self, param) -> tuple:
        ids = [i for i in list(self.shares) if self._share_path(i) is not None]
        if param("shared_with_me") == "true":
            return ([],)  # link shares are never shared with oneself
        path = param("path")
        if path:
            path = norm(path)
            if not os.path.exists(self.fs_path(path)):
                return None, 404, "Wrong path, file/folder does not exist"
            if param("subfiles") == "true":
                if not os.path.isdir(self.fs_path(path)):
                    return None, 400, "Not a directory"
                ids = [i for i in ids if parent_of(self._share_path(i)) == path
                       and self._share_path(i) != path]
            else:
                fileid = self.store.fileid(path)
                ids = [i for i in ids if self.shares[i]["fileid"] == fileid]
        return ([self._share_data(i) for i in ids],)

    def create_share(self, param) -> tuple:
        share_type = param("shareType")
        path = param("path")
        if share_type != "3":
            return None, 400, "Unknown share type (only public links here)"
        if not path:
            return None, 404, "Please specify a file or folder path"
        if not os.path.exists(self.fs_path(norm(path))):
            return None, 404, "Wrong path, file/folder does not exist"
        path = norm(path)
        is_dir = os.path.isdir(self.fs_path(path))
        share = {"fileid": self.store.fileid(path), "token": _share_token(),
                 "stime": int(time.time()), "expiration": None, "password": None,
                 "note": "", "label": "", "hide_download": False, "attributes": None,
                 "permissions": 1}
        problem = self._apply_share_params(share, param, is_dir, creating=True)
        if problem:
            return problem
        share_id = self.next_share
        self.next_share += 1
        self.shares[share_id] = share
        return (self._share_data(share_id),)

    def update_share(self, share_id: int, param) -> tuple:
        names = ("permissions", "password", "sendPasswordByTalk", "publicUpload", "expireDate",
                 "note", "label", "hideDownload", "attributes")
        if all(param(name) is None for name in names):
            return None, 400, "Wrong or no update parameter given"
        share = dict(self.shares[share_id])
        is_dir = os.path.isdir(self.fs_path(self._share_path(share_id)))
        problem = self._apply_share_params(share, param, is_dir, creating=False)
        if problem:
            return problem
        self.shares[share_id] = share
        return (self._share_data(share_id),)

    @staticmethod
    def _apply_share_params(share: dict, param, is_dir: bool, *, creating: bool):
        """The documented link share fields, validated as Nextcloud validates them;
        returns (None, status, message) for a refusal."""
        upload = param("publicUpload")
        permissions = None
        if upload == "true":
            permissions = 15  # read, update, create, delete
        elif upload == "false" or creating:
            permissions = 1
        if param("permissions") is not None:
            try:
                permissions = int(param("permissions")) & ~16  # links never reshare
            except ValueError:
                return None, 400, "invalid permissions"
            if not 0 <= permissions <= 31:
                return None, 404 if creating else 400, "invalid permissions"
        if permissions is not None:
            if not permissions & 1 and not permissions & 4:
                return None, 400, "Share must at least have READ or CREATE permissions"
            if not permissions & 1 and permissions & (2 | 8):
                return None, 400, ("Share must have READ permission if UPDATE or DELETE "
                                   "permission is set")
            if not is_dir and permissions & (4 | 8):
                return (None, 404 if creating else 400,
                        "Public upload is only possible for publicly shared folders")
            share["permissions"] = permissions
        password = param("password")
        if password == "":
            share["password"] = None
        elif password is not None:
            share["password"] = "1|" + hashlib.sha256(password.encode()).hexdigest()
        expire = param("expireDate")
        if expire == "":
            share["expiration"] = None
        elif expire is not None:
            try:
                day = datetime.date.fromisoformat(expire.strip()[:10])
            except ValueError:
                return (None, 404 if creating else 400,
                        "Invalid date, date format must be YYYY-MM-DD" if creating
                        else "Invalid date. Format must be YYYY-MM-DD")
            if day <= datetime.date.today():
                return None, 404, "Expiration date is in the past"
            share["expiration"] = day.isoformat()
        label = param("label")
        if label is not None:
            if len(label) > 255:
                return None, 400, "Maximum length for the label is 255"
            share["label"] = label
        if param("note") is not None:
            share["note"] = param("note")
        if param("hideDownload") in ("true", "false"):
            share["hide_download"] = param("hideDownload") == "true"
        attributes = param("attributes")
        if attributes is not None:
            try:
                parsed = json.loads(attributes)
                if not isinstance(parsed, list) or not all(
                        isinstance(a, dict) and {"scope", "key", "value"} <= set(a)
                        for a in parsed):
                    raise ValueError
            except ValueError:
                return None, 400, "Invalid share attributes provided"
            share["attributes"] = json.dumps(parsed) if parsed else None
        return None

    # -- public and internal links ------------------------------------------------------
    def _public_share(self, token: str) -> tuple[int, str] | None:
        """The live share of ``token`` and its path; an expired share is gone, as
        Nextcloud deletes a link share whose date passed when it is next used."""
        for share_id, share in list(self.shares.items()):
            if secrets.compare_digest(share["token"], token):
                path = self._share_path(share_id)
                if path is None:
                    return None
                if share["expiration"] and datetime.date.fromisoformat(
                        share["expiration"]) <= datetime.date.today():
                    del self.shares[share_id]
                    return None
                return share_id, path
        return None

    def _password_ok(self, share_id: int, password: str | None) -> bool:
        stored = self.shares[share_id]["password"]
        if stored is None:
            return True
        given = "1|" + hashlib.sha256((password or "").encode()).hexdigest()
        return secrets.compare_digest(stored, given)

    def share_page(self, token: str) -> Answer:
        """``/s/<token>``: the share's page naming the item (the password prompt for a
        password-protected share)."""
        found = self._public_share(token)
        if found is None:
            return _not_found_page("Share not found")
        share_id, path = found
        name = _esc(path.rsplit("/", 1)[-1] or USER)
        if self.shares[share_id]["password"]:
            body = (f"<html><head><title>Nextcloud</title></head><body><form method='post' "
                    f"action='/s/{token}/authenticate/showShare'><p>This share is password-"
                    "protected</p><input type='password' name='password'></form></body></html>")
        else:
            body = (f"<html><head><title>{name} - Nextcloud</title></head><body>"
                    f"<h1 class='share-title'>{name}</h1><a href='/s/{token}/download'>"
                    "Download</a></body></html>")
        return "200 OK", [("Content-Type", "text/html; charset=utf-8")], body.encode()

    def public_download(self, token: str) -> Answer:
        found = self._public_share(token)
        if found is None:
            return _not_found_page("Share not found")
        share_id, path = found
        if self.shares[share_id]["password"]:  # no authenticated session here
            return "303 See Other", [("Location", f"{self.base_url()}/s/{token}/authenticate/"
                                      "downloadShare")], b""
        if self.shares[share_id]["hide_download"]:
            return _not_found_page("Share not found")
        target = self.fs_path(path)
        name = os.path.basename(target) or USER
        if os.path.isdir(target):
            return self._zip(target, name)
        with open(target, "rb") as fh:
            body = fh.read()
        return "200 OK", [
            ("Content-Type", "application/octet-stream"),
            ("Content-Disposition", f"attachment; filename*=UTF-8''{quote(name)}"),
            ("Last-Modified", formatdate(os.path.getmtime(target), usegmt=True)),
        ], body

    def public_dav(self, environ, start_response, tail: str):
        """``/public.php/webdav``: the share's item over WebDAV, Basic auth with the token
        as user name and the share's password (any password when it has none). Read only
        here (GET, HEAD, PROPFIND); the root is the shared file itself for a file share."""
        header = environ.get("HTTP_AUTHORIZATION", "")
        token = password = None
        if header.startswith("Basic "):
            try:
                token, _, password = base64.b64decode(header[6:]).decode().partition(":")
            except ValueError:
                token = None
        found = self._public_share(token) if token else None
        if found is None or not self._password_ok(found[0], password):
            return self._send(start_response, _expired_answer())
        share_id, path = found
        method = environ["REQUEST_METHOD"]
        if method not in ("GET", "HEAD", "PROPFIND", "OPTIONS"):
            return self._send(start_response, sabre_error(
                "403 Forbidden", "Forbidden", "Read-only share"))
        inner = norm(path + "/" + tail) if tail.strip("/") else path
        if {".", ".."} & set(tail.split("/")) or not os.path.exists(self.fs_path(inner)):
            return self._send(start_response, sabre_error(
                "404 Not Found", "NotFound", "File not found"))
        sub = {**environ, "PATH_INFO": (FILES_DAV + inner).encode().decode("latin-1")}
        if method != "PROPFIND":
            return self.dav(sub, start_response)
        captured: list = []

        def capture(status, headers, exc_info=None):
            captured[:] = [status, list(headers)]
            return lambda data: None

        result = self.dav(sub, capture)
        try:
            body = b"".join(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        body = body.replace(quote(FILES_DAV + path).encode(), b"/public.php/webdav")
        status, headers = captured
        headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
        start_response(status, [*headers, ("Content-Length", str(len(body)))])
        return [body]

    @staticmethod
    def _zip(folder: str, name: str) -> Answer:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            for top, _dirs, files in os.walk(folder):
                for file in files:
                    full = os.path.join(top, file)
                    archive.write(full, os.path.join(name, os.path.relpath(full, folder)))
        return "200 OK", [("Content-Type", "application/zip"), (
            "Content-Disposition", f"attachment; filename*=UTF-8''{quote(name)}.zip")
        ], buffer.getvalue()

    def internal_link(self, fileid: str) -> Answer:
        path = self.store.path_of(int(fileid)) if fileid.isdigit() else None
        if path is None or not os.path.exists(self.fs_path(path)):
            return "404 Not Found", [("Content-Type", "text/html")], b"<h1>Not found</h1>"
        location = (f"{self.base_url()}/index.php/apps/files/files/{fileid}"
                    f"?dir={quote(parent_of(path))}&openfile=true")
        return "302 Found", [("Location", location)], b""

    def files_page(self, fileid: str) -> Answer:
        path = self.store.path_of(int(fileid)) if fileid.isdigit() else None
        if path is None:
            return "404 Not Found", [("Content-Type", "text/html")], b"<h1>Not found</h1>"
        name = _esc(path.rsplit("/", 1)[-1])
        body = f"<html><head><title>{name} - Files - Nextcloud</title></head></html>"
        return "200 OK", [("Content-Type", "text/html; charset=utf-8")], body.encode()

    def status(self) -> Answer:
        body = ('{"installed":true,"maintenance":false,"needsDbUpgrade":false,'
                f'"version":"{VERSION}.1","versionstring":"{VERSION}","edition":"",'
                '"productname":"Nextcloud","extendedSupport":false}')
        return "200 OK", [("Content-Type", "application/json")], body.encode()


def _numeric(text: str) -> bool:
    """PHP's is_numeric, as Nextcloud checks ``X-OC-Mtime``."""
    return re.fullmatch(r"\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?", text) is not None


def _depth(environ) -> int:
    """PROPFIND's Depth: 0, else 1 (infinity is answered as 1)."""
    return 0 if environ.get("HTTP_DEPTH", "1").strip() == "0" else 1


def _read_body(environ) -> bytes:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    return environ["wsgi.input"].read(length) if length else b""


def _receive(environ, target: str) -> None:
    """Stream the request body into ``target``."""
    remaining = int(environ.get("CONTENT_LENGTH") or 0)
    stream = environ["wsgi.input"]
    with open(target, "wb") as out:
        while remaining > 0:
            block = stream.read(min(remaining, 1 << 20))
            if not block:
                break
            out.write(block)
            remaining -= len(block)


class NextcloudEmulator(Emulator):
    key = "nextcloud"

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, data_dir: str | None = None):
        self._data = data_dir or tempfile.mkdtemp(prefix="nextcloud-emulator-")
        super().__init__(host=host, port=port, data_dir=self._data)

    def make_app(self):
        self.app = NextcloudApp(self._data, lambda: self.url)
        return self.app

    def fault_wording(self) -> dict:
        return {"error_answer": _error_answer, "expired_answer": _expired_answer}

    def provider_config(self, root: str = "") -> dict:
        return {"url": self.url, "user": USER, "password": APP_PASSWORD, "root": root,
                "public_links": False, "verify_tls": True, "timeout": 30}

    def expire_cursors(self) -> None:
        self.app.store.new_instance()

    def stop(self) -> None:
        super().stop()
        self.app.store.close()

    @property
    def store(self) -> Store:
        return self.app.store

    def path_of(self, fileid: str | int) -> str | None:
        """The current path of a file id, straight from the server's bookkeeping."""
        return self.app.store.path_of(int(fileid))

    def dav_url(self, path: str) -> str:
        return self.url + WEBDAV + quote(norm(path))


def make_emulator(host: str = "127.0.0.1", port: int = 0,
                  data_dir: str | None = None) -> NextcloudEmulator:
    return NextcloudEmulator(host=host, port=port, data_dir=data_dir)
