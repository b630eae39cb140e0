"""A Dropbox API v2 emulator that the real ``dropbox`` SDK talks to over HTTPS.

Written from Dropbox's HTTP reference and the SDK's source (``dropbox_client.py`` for the
wire protocol, ``files.py``/``sharing.py`` for the JSON shapes it decodes):

- every route is ``POST /2/<route>``; RPC routes carry JSON both ways, upload routes take
  their argument in the ``Dropbox-API-Arg`` header and the bytes as the body, download
  routes answer with the bytes and the result in the ``Dropbox-API-Result`` header;
- route errors are ``409 {"error_summary", "error": {".tag": ...}}``, a bad request is a
  ``400`` in plain text, auth errors are ``401`` JSON, throttling is ``429`` JSON with
  ``retry_after`` (body) and ``Retry-After`` (header);
- paths are case-insensitive (``path_lower``), ids look like ``id:...``, ``rev`` is hex,
  ``content_hash`` is Dropbox's block hash (:mod:`cloud_sync.hashing`);
- ``list_folder`` pages (``limit``, default :attr:`DropboxEmulator.page_size`) and cursors
  for ``list_folder/continue``: changed paths since the cursor, each in its current state
  (a deleted or moved-away path as ``.tag: deleted``, without id, as Dropbox does);
- ``list_folder/longpoll`` (no auth) on the same server (the notify host);
- OAuth: ``GET /oauth2/authorize`` (a consent page whose "Allow" / "Cancel" redirect
  back with code and state or ``error=access_denied``; at once with ``auto_consent``, or
  denied at once when :attr:`deny` is set) and ``POST /oauth2/token``
  (authorization code and refresh grants; refresh tokens can be revoked);
- team members selected by the ``Dropbox-API-Select-User`` header get their own space;
- revisions: every write keeps one (rev, bytes, time); ``list_revisions`` (``path`` or
  ``id`` mode, ``limit`` ≤ 100, newest first), ``download`` of ``rev:<rev>`` (any file of
  the account, as Dropbox addresses it) or with the ``rev`` argument, ``restore`` (the
  old bytes as a new revision; a rev of another file is ``invalid_revision``);
- ``copy_v2`` (files and folder trees, ``autorename``), ``search_v2`` and
  ``search/continue_v2`` (every word of the query a prefix of a word of the name, case
  insensitive; ``path`` scope, ``max_results``, ``filename_only``; deleted files are not
  searched: ``file_status: deleted`` is ``invalid_argument``).

One lock guards everything. One process serves all four Dropbox hosts (api, content,
notify, www) on one port.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import threading
import time
from datetime import datetime, timezone
from html import escape
from urllib.parse import parse_qs, quote, urlencode

from ..hashing import hash_bytes
from .base import Emulator, consent_answer, consent_page
from .tls import ca_bundle

APP_KEY = "emulator-app-key"
APP_SECRET = "emulator-app-secret"
RESERVED = {"desktop.ini", "thumbs.db", ".ds_store", "icon\r", ".dropbox", ".dropbox.attr"}
UPLOAD_ROUTES = {"files/upload", "files/upload_session/start", "files/upload_session/append_v2",
                 "files/upload_session/finish"}
DOWNLOAD_ROUTES = {"files/download"}
NOAUTH_ROUTES = {"files/list_folder/longpoll"}


class Fail(Exception):
    """An error answer: ``status`` with a JSON ``error`` (409/401/429) or a text (400)."""

    def __init__(self, status: int, error=None, text: str = ""):
        super().__init__(text or str(error))
        self.status, self.error, self.text = status, error, text


def _tag(value) -> str | None:
    return value if isinstance(value, str) or value is None else value.get(".tag")


def _summary(error) -> str:
    tags, node = [], error
    while isinstance(node, dict) and ".tag" in node:
        tags.append(node[".tag"])
        node = node.get(node[".tag"], node.get("reason"))
    return "/".join(tags) + "/..."


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def conflict(node) -> dict:
    return {".tag": "conflict", "conflict": {".tag": "folder" if node.is_folder else "file"}}


class Node:
    def __init__(self, node_id: str, name: str, parent: Node | None, is_folder: bool):
        self.id, self.name, self.parent, self.is_folder = node_id, name, parent, is_folder
        self.children: dict[str, Node] = {}
        self.data = b""
        self.rev = ""
        self.revisions: list[dict] = []  # newest last: {"rev", "data", "hash", "modified"...}
        self.content_hash = ""
        self.modified = self.client_modified = _now()

    @property
    def path_display(self) -> str:
        parts, node = [], self
        while node.parent is not None:
            parts.append(node.name)
            node = node.parent
        return "".join("/" + p for p in reversed(parts))

    @property
    def path_lower(self) -> str:
        return self.path_display.lower()

    def walk(self):
        """This node's descendants, parents before children."""
        for child in sorted(self.children.values(), key=lambda n: n.name.lower()):
            yield child
            yield from child.walk()

    def metadata(self) -> dict:
        out = {".tag": "folder" if self.is_folder else "file", "name": self.name, "id": self.id,
               "path_lower": self.path_lower, "path_display": self.path_display}
        if not self.is_folder:
            out.update(client_modified=self.client_modified, server_modified=self.modified,
                       rev=self.rev, size=len(self.data), is_downloadable=True,
                       content_hash=self.content_hash)
        return out


def _page(start_response, name: str):
    """A minimal page naming the item (what a web link opens)."""
    body = (f"<!DOCTYPE html><html><head><title>{escape(name)} - Dropbox</title></head>"
            f"<body><h1>{escape(name)}</h1></body></html>").encode()
    start_response("200 OK", [("Content-Type", "text/html; charset=utf-8"),
                              ("Content-Length", str(len(body)))])
    return [body]


class Space:
    """One account's (or team member's) files and change log."""

    def __init__(self):
        self.root = Node("", "", None, True)
        self.by_id: dict[str, Node] = {}
        self.log: list[tuple[int, str, str]] = []  # (seq, path_lower, path_display)
        self.links: dict[str, str] = {}  # item id -> shared link token
        self.revs: dict[str, tuple[Node, dict]] = {}  # rev -> (file, revision): rev: paths

    def used(self) -> int:
        return sum(len(n.data) for n in self.by_id.values())


class DropboxEmulator(Emulator):
    key = "dropbox"
    tls = True
    page_size = 500
    access_token_lifetime = 14400
    longpoll_cap = 30.0  # seconds a longpoll waits at most (tests lower it)

    def __init__(self, **kwargs):
        self.lock = threading.Lock()
        self.changed = threading.Condition(self.lock)
        self.spaces: dict[str | None, Space] = {None: Space()}
        self.team_members: set[str] = set()
        self.seq = 0
        self.epoch = 1
        self.rev_counter = 0x100000000
        self.snapshots: dict[str, list[dict] | dict] = {}  # list_folder pages, searches
        self.sessions: dict[str, dict] = {}
        self.codes: dict[str, str] = {}  # authorization code -> redirect_uri
        self.refresh_tokens: dict[str, bool] = {}  # token -> still valid
        self.access_tokens: dict[str, float] = {}  # token -> expiry (epoch seconds)
        self.deny = False  # the authorize endpoint answers error=access_denied
        self.quota: int | None = None  # bytes per space, None = unlimited
        self.longpoll_backoff: int | None = None
        super().__init__(**kwargs)

    # -- Emulator API ----------------------------------------------------------------
    def make_app(self):
        return self.wsgi

    def fault_wording(self) -> dict:
        return {"error_answer": self.error_answer, "expired_answer": self.expired_answer,
                "skip": r"^(GET|POST) /oauth2/"}

    @staticmethod
    def error_answer(status: int, retry_after: float | None):
        headers = [("X-Dropbox-Request-Id", secrets.token_hex(8))]
        if status == 429:
            seconds = int(retry_after if retry_after and retry_after >= 1 else 0)
            body = {"error_summary": "too_many_requests/...",
                    "error": {"reason": {".tag": "too_many_requests"}, "retry_after": seconds}}
            headers += [("Content-Type", "application/json"), ("Retry-After", str(seconds))]
            return "429 Too Many Requests", headers, json.dumps(body).encode()
        headers.append(("Content-Type", "text/plain; charset=utf-8"))
        if retry_after is not None:
            headers.append(("Retry-After", str(int(retry_after))))
        return f"{status} Error", headers, b"Internal Server Error"

    @staticmethod
    def expired_answer():
        body = {"error_summary": "expired_access_token/...",
                "error": {".tag": "expired_access_token"}}
        return ("401 Unauthorized", [("Content-Type", "application/json")],
                json.dumps(body).encode())

    @property
    def netloc(self) -> str:
        """``host:port``: all four Dropbox hosts in one server."""
        return f"{self.server.host}:{self.server.port}"

    def provider_config(self, root: str = "", **extra) -> dict:
        """Credentials as the Odoo side stores them after the connect flow."""
        return {"app_key": APP_KEY, "app_secret": APP_SECRET,
                "refresh_token": self.issue_refresh_token(), "root": root,
                "access_token": self.issue_access_token(),
                "access_token_expires_at": int(time.time()) + self.access_token_lifetime,
                "api_host": self.netloc, "content_host": self.netloc,
                "notify_host": self.netloc, "web_host": self.netloc, "ca_bundle": ca_bundle(),
                "timeout": 30, **extra}

    def expire_cursors(self) -> None:
        with self.lock:
            self.epoch += 1
            self.snapshots.clear()

    # -- token management (for tests and the Odoo connect flow) ------------------------
    def issue_refresh_token(self) -> str:
        token = "rt-" + secrets.token_urlsafe(16)
        with self.lock:
            self.refresh_tokens[token] = True
        return token

    def issue_access_token(self) -> str:
        token = "sl." + secrets.token_urlsafe(24)
        with self.lock:
            self.access_tokens[token] = time.time() + self.access_token_lifetime
        return token

    def revoke_refresh_tokens(self, token: str | None = None) -> None:
        """Revoke one refresh token (the user disconnected the app), or all of them."""
        with self.lock:
            for known in self.refresh_tokens:
                if token in (None, known):
                    self.refresh_tokens[known] = False

    def expire_access_tokens(self) -> None:
        with self.lock:
            for token in self.access_tokens:
                self.access_tokens[token] = 0

    def add_team_member(self, member_id: str) -> None:
        with self.lock:
            self.team_members.add(member_id)
            self.spaces.setdefault(member_id, Space())

    # -- direct store access (fixtures: fresh root folders, many files fast) -------------
    def create_folder(self, path: str, member: str | None = None) -> str:
        with self.lock:
            return self._make_folder(self.spaces[member], path).id

    def seed_file(self, parent_id: str, name: str, data: bytes, member: str | None = None
                  ) -> str:
        with self.lock:
            space = self.spaces[member]
            parent = space.by_id[parent_id] if parent_id else space.root
            node = self._add(space, parent, name, False)
            self._write(space, node, data)
            return node.id

    # -- WSGI ------------------------------------------------------------------------
    def wsgi(self, environ, start_response):
        method = environ["REQUEST_METHOD"]
        path = environ.get("PATH_INFO", "")
        try:
            if method == "GET" and path == "/oauth2/authorize":
                return self._authorize(environ, start_response)
            if method == "POST" and path == "/oauth2/token":
                status, body = self._token(environ)
                return _json(start_response, status, body)
            if method == "GET" and path.startswith(("/scl/fi/", "/scl/fo/")):
                return self._shared_link(environ, start_response, path)
            if method == "GET" and (path == "/home" or path.startswith("/home/")):
                return self._home_page(environ, start_response, path[len("/home"):])
            if method == "POST" and path.startswith("/2/"):
                return self._route(environ, start_response, path[3:])
            raise Fail(404, text="Not found")
        except Fail as fail:
            if fail.error is None:
                body = (fail.text or "error").encode()
                start_response(f"{fail.status} Error", [
                    ("Content-Type", "text/plain; charset=utf-8"),
                    ("Content-Length", str(len(body)))])
                return [body]
            body = {"error_summary": _summary(fail.error), "error": fail.error}
            return _json(start_response, fail.status, body)

    def _route(self, environ, start_response, route):
        handler = getattr(self, "r_" + route.replace("/", "_"), None)
        if handler is None:
            raise Fail(400, text=f"Unknown API function: {route!r}")
        body = _read_body(environ)
        if route in UPLOAD_ROUTES or route in DOWNLOAD_ROUTES:
            raw = environ.get("HTTP_DROPBOX_API_ARG") or parse_qs(
                environ.get("QUERY_STRING", "")).get("arg", ["null"])[0]
            data = body if route in UPLOAD_ROUTES else None
        else:
            raw, data = body.decode() or "null", None
        try:
            arg = json.loads(raw)
        except ValueError as exc:
            raise Fail(400, text=f"Error in call to API function {route!r}: bad JSON") from exc
        if route in NOAUTH_ROUTES:
            return _json(start_response, 200, handler(arg))
        space = self._authenticate(environ)
        with self.lock:
            result = handler(space, arg, data) if data is not None else handler(space, arg)
        if route in DOWNLOAD_ROUTES:
            meta, content = result
            start_response("200 OK", [
                ("Content-Type", "application/octet-stream"),
                ("Dropbox-API-Result", json.dumps(meta)),
                ("Content-Length", str(len(content)))])
            return [content]
        return _json(start_response, 200, result)

    def _authenticate(self, environ) -> Space:
        auth = environ.get("HTTP_AUTHORIZATION", "")
        token = auth[7:] if auth.startswith("Bearer ") else ""
        with self.lock:
            expiry = self.access_tokens.get(token)
            if expiry is None:
                raise Fail(401, {".tag": "invalid_access_token"})
            if expiry <= time.time():
                raise Fail(401, {".tag": "expired_access_token"})
            member = environ.get("HTTP_DROPBOX_API_SELECT_USER")
            if member is not None and member not in self.team_members:
                raise Fail(400, text="Error in call to API function: invalid select user id")
            return self.spaces[member]

    # -- OAuth -------------------------------------------------------------------------
    def _authorize(self, environ, start_response):
        query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        redirect = query.get("redirect_uri")
        if query.get("client_id") != APP_KEY or not redirect:
            raise Fail(400, text="Invalid client_id or redirect_uri")
        decision = consent_answer(self, query, self.deny)
        if decision == "page":  # "<app> would like to access the files in your Dropbox"
            page = consent_page("Dropbox", query["client_id"], query.get("scope", "").split(),
                                query, "Allow", "Cancel").encode()
            start_response("200 OK", [("Content-Type", "text/html; charset=utf-8"),
                                      ("Content-Length", str(len(page)))])
            return [page]
        params = {"state": query["state"]} if "state" in query else {}
        if decision == "deny":
            params.update(error="access_denied", error_description="The user chose not to give "
                          "your app access to their Dropbox account.")
        else:
            code = secrets.token_urlsafe(16)
            with self.lock:
                self.codes[code] = redirect
            params["code"] = code
        location = redirect + ("&" if "?" in redirect else "?") + urlencode(params)
        start_response("302 Found", [("Location", location), ("Content-Length", "0")])
        return [b""]

    def _token(self, environ):
        form = {k: v[0] for k, v in parse_qs(_read_body(environ).decode()).items()}
        client_id, secret = form.get("client_id"), form.get("client_secret")
        auth = environ.get("HTTP_AUTHORIZATION", "")
        if auth.startswith("Basic "):
            client_id, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
        if client_id != APP_KEY or secret not in (APP_SECRET, None):
            return 400, {"error": "invalid_client", "error_description": "Invalid client_id"}
        grant = form.get("grant_type")
        if grant == "authorization_code":
            with self.lock:
                redirect = self.codes.pop(form.get("code", ""), None)
            if redirect is None or redirect != form.get("redirect_uri", redirect):
                return 400, {"error": "invalid_grant", "error_description": "code doesn't exist "
                             "or has expired"}
            refresh = self.issue_refresh_token()
        elif grant == "refresh_token":
            refresh = form.get("refresh_token", "")
            with self.lock:
                valid = self.refresh_tokens.get(refresh)
            if not valid:
                return 400, {"error": "invalid_grant",
                             "error_description": "refresh token is invalid or revoked"}
        else:
            return 400, {"error": "unsupported_grant_type"}
        answer = {"access_token": self.issue_access_token(), "token_type": "bearer",
                  "expires_in": self.access_token_lifetime}
        if grant == "authorization_code":
            answer.update(refresh_token=refresh, account_id="dbid:emulator", uid="1",
                          scope="files.content.read files.content.write sharing.write")
        return 200, answer

    def _shared_link(self, environ, start_response, path):
        token = path.split("/")[3] if path.count("/") >= 3 else ""
        with self.lock:
            node = next((s.by_id.get(i) for s in self.spaces.values()
                         for i, t in s.links.items() if t == token), None)
        if node is None or path.startswith("/scl/fi/") == node.is_folder:
            raise Fail(404, text="Not found")
        dl = parse_qs(environ.get("QUERY_STRING", "")).get("dl", ["0"])[0] == "1"
        if dl and not node.is_folder:
            body = node.data
            start_response("200 OK", [("Content-Type", "application/octet-stream"),
                                      ("Content-Length", str(len(body)))])
            return [body]
        return _page(start_response, node.name)

    def _home_page(self, environ, start_response, path):
        """The web app's address of an item (the internal link), for the signed-in
        owner: ``/home/<folder path>``, a file as ``?preview=<name>`` in its folder."""
        preview = parse_qs(environ.get("QUERY_STRING", "")).get("preview", [""])[0]
        path = path.rstrip("/") + (f"/{preview}" if preview else "")
        with self.lock:
            node = next((n for n in (self._find(s, path) for s in self.spaces.values())
                         if n is not None and n.is_folder != bool(preview)), None)
        if node is None:
            raise Fail(404, text="Not found")
        return _page(start_response, node.name or "Dropbox")

    # -- store helpers (lock held) ---------------------------------------------------------
    def _new_id(self) -> str:
        return "id:" + secrets.token_urlsafe(16)

    def _next_rev(self) -> str:
        self.rev_counter += 1
        return format(self.rev_counter, "015x")

    def _log(self, space: Space, path_lower: str, path_display: str) -> None:
        self.seq += 1
        space.log.append((self.seq, path_lower, path_display))
        self.changed.notify_all()

    def _log_tree(self, space: Space, node: Node) -> None:
        self._log(space, node.path_lower, node.path_display)
        for child in node.walk():
            self._log(space, child.path_lower, child.path_display)

    def _find(self, space: Space, path: str) -> Node | None:
        """The node at ``path`` (``""``, ``/a/b`` or ``id:...``), or None."""
        if path.startswith("id:"):
            return space.by_id.get(path)
        node = space.root
        for part in _parts(path):
            node = node.children.get(part.lower()) if node.is_folder else None
            if node is None:
                return None
        return node

    def _lookup(self, space: Space, path: str, tag: str = "path") -> Node:
        _check_path(path, tag)
        node = self._find(space, path)
        if node is None:
            raise Fail(409, {".tag": tag, tag: {".tag": "not_found"}})
        return node

    def _parent_for(self, space: Space, path: str, wrap) -> tuple[Node, str]:
        """Parent folder (created if missing, as Dropbox does) and leaf name of a write
        ``path``; ``wrap(write_error)`` words the route's error."""
        if not path.startswith("/") or path.endswith("/"):
            raise Fail(409, wrap({".tag": "malformed_path"}))
        parts = _parts(path)
        for part in parts:
            if part.lower() in RESERVED:
                raise Fail(409, wrap({".tag": "disallowed_name"}))
            if part in (".", "..") or len(part) > 255 or part != part.rstrip(" "):
                raise Fail(409, wrap({".tag": "malformed_path"}))
        node = space.root
        for part in parts[:-1]:
            child = node.children.get(part.lower())
            if child is None:
                child = self._add(space, node, part, True)
            elif not child.is_folder:
                raise Fail(409, wrap({".tag": "conflict", "conflict": {".tag": "file_ancestor"}}))
            node = child
        return node, parts[-1]

    def _add(self, space: Space, parent: Node, name: str, is_folder: bool) -> Node:
        node = Node(self._new_id(), name, parent, is_folder)
        parent.children[name.lower()] = node
        space.by_id[node.id] = node
        if is_folder:
            self._log(space, node.path_lower, node.path_display)
        return node

    def _make_folder(self, space: Space, path: str, autorename: bool = False) -> Node:
        def wrap(error):
            return {".tag": "path", "path": error}

        parent, name = self._parent_for(space, path, wrap)
        existing = parent.children.get(name.lower())
        if existing is not None:
            if not autorename:
                raise Fail(409, wrap(conflict(existing)))
            name = _free_name(parent, name, True)
        return self._add(space, parent, name, True)

    def _write(self, space: Space, node: Node, data: bytes, client_modified=None) -> None:
        node.data, node.rev = data, self._next_rev()
        node.content_hash = hash_bytes("dropbox", data)
        node.modified = _now()
        node.client_modified = client_modified or node.modified
        revision = {"rev": node.rev, "data": data, "content_hash": node.content_hash,
                    "server_modified": node.modified, "client_modified": node.client_modified,
                    "path_lower": node.path_lower}
        node.revisions.append(revision)
        space.revs[node.rev] = (node, revision)
        self._log(space, node.path_lower, node.path_display)

    def _commit(self, space: Space, commit: dict, data: bytes, wrap) -> dict:
        """Write ``data`` as the file ``commit['path']`` under its write mode."""
        path, mode = commit["path"], commit.get("mode", "add")
        tag = _tag(mode)
        if self.quota is not None and space.used() + len(data) > self.quota:
            raise Fail(409, wrap({".tag": "insufficient_space"}))
        if path.startswith("id:"):
            node = space.by_id.get(path)
            if node is None:
                raise Fail(409, wrap({".tag": "malformed_path"}))
            if node.is_folder:
                raise Fail(409, wrap(conflict(node)))
        else:
            parent, name = self._parent_for(space, path, wrap)
            node = parent.children.get(name.lower())
            if node is None:
                return self._new_file(space, parent, name, data, commit)
        clash = node.is_folder
        if not clash and tag == "add":
            same = node.content_hash == hash_bytes("dropbox", data)
            if same and not commit.get("strict_conflict"):
                return node.metadata()
            clash = True
        if tag == "update" and mode.get("update") != node.rev:
            clash = True
        if clash:
            if not commit.get("autorename") or node.parent is None:
                raise Fail(409, wrap(conflict(node)))
            # autorename: the new bytes go next to the clash, "name (1).ext"
            return self._new_file(space, node.parent, _free_name(node.parent, node.name, False),
                                  data, commit)
        self._write(space, node, data, commit.get("client_modified"))
        return node.metadata()

    def _new_file(self, space: Space, parent: Node, name: str, data: bytes, commit: dict):
        node = self._add(space, parent, name, False)
        self._write(space, node, data, commit.get("client_modified"))
        return node.metadata()

    # -- files routes (lock held) --------------------------------------------------------
    def r_files_create_folder_v2(self, space, arg):
        return {"metadata": self._make_folder(space, arg["path"],
                                              bool(arg.get("autorename"))).metadata()}

    def r_files_upload(self, space, arg, data):
        def wrap(error):
            return {".tag": "path", "reason": error, "upload_session_id": ""}

        _check_hash(arg, data, {".tag": "content_hash_mismatch"})
        return self._commit(space, arg, data, wrap)

    def r_files_upload_session_start(self, space, arg, data):
        _check_hash(arg, data, {".tag": "content_hash_mismatch"})
        session_id = "pid_upload_session:" + secrets.token_urlsafe(16)
        self.sessions[session_id] = {"data": bytearray(data), "closed": bool(arg.get("close"))}
        return {"session_id": session_id}

    def _session(self, cursor, data, wrap):
        session = self.sessions.get(cursor["session_id"])
        if session is None:
            raise Fail(409, wrap({".tag": "not_found"}))
        if cursor["offset"] != len(session["data"]):
            raise Fail(409, wrap({".tag": "incorrect_offset",
                                  "correct_offset": len(session["data"])}))
        if session["closed"]:
            raise Fail(409, wrap({".tag": "closed"}))
        session["data"] += data
        return session

    def r_files_upload_session_append_v2(self, space, arg, data):
        _check_hash(arg, data, {".tag": "content_hash_mismatch"})
        session = self._session(arg["cursor"], data, lambda e: e)
        session["closed"] = bool(arg.get("close"))

    def r_files_upload_session_finish(self, space, arg, data):
        _check_hash(arg, data, {".tag": "content_hash_mismatch"})
        session = self._session(arg["cursor"], data,
                                lambda e: {".tag": "lookup_failed", "lookup_failed": e})
        result = self._commit(space, arg["commit"], bytes(session["data"]),
                              lambda e: {".tag": "path", "path": e})
        self.sessions.pop(arg["cursor"]["session_id"], None)
        return result

    def r_files_download(self, space, arg):
        path, rev = arg["path"], arg.get("rev")
        if path.startswith("rev:"):
            node, revision = space.revs.get(path[4:], (None, None))
            if node is None:
                raise Fail(409, {".tag": "path", "path": {".tag": "not_found"}})
            return _revision_metadata(node, revision), revision["data"]
        node = self._lookup(space, path)
        if node.is_folder:
            raise Fail(409, {".tag": "path", "path": {".tag": "not_file"}})
        if rev:  # the deprecated argument: a revision of this file only
            revision = next((r for r in node.revisions if r["rev"] == rev), None)
            if revision is None:
                raise Fail(409, {".tag": "path", "path": {".tag": "not_found"}})
            return _revision_metadata(node, revision), revision["data"]
        return node.metadata(), node.data

    # -- revisions -------------------------------------------------------------------------
    def r_files_list_revisions(self, space, arg):
        path, mode = arg["path"], _tag(arg.get("mode")) or "path"
        limit = arg.get("limit", 10)
        if not isinstance(limit, int) or not 1 <= limit <= 100:
            raise Fail(400, text="Error in call to API function \"files/list_revisions\": "
                                 "request body: limit: must be between 1 and 100")
        if mode == "id":
            node = self._lookup(space, path)
            revisions = list(node.revisions)
        else:  # the path's revisions, whichever file had them: a deleted file's too
            _check_path(path, "path")
            node = self._find(space, path)
            lower = node.path_lower if node is not None else path.lower()
            revisions = sorted((r for _n, r in space.revs.values() if r["path_lower"] == lower),
                               key=lambda r: r["rev"])
            if node is None and (path.startswith("id:") or not revisions):
                raise Fail(409, {".tag": "path", "path": {".tag": "not_found"}})
        if node is not None and node.is_folder:
            raise Fail(409, {".tag": "path", "path": {".tag": "not_file"}})
        before = arg.get("before_rev")
        if before:
            if mode == "id":
                raise Fail(409, {".tag": "before_rev_not_supported"})
            if before not in {r["rev"] for r in revisions}:
                raise Fail(409, {".tag": "invalid_before_rev"})
            revisions = [r for r in revisions if r["rev"] < before]
        newest = revisions[::-1]
        owners = {r["rev"]: space.revs[r["rev"]][0] for r in newest}
        return {"is_deleted": node is None, "has_more": len(newest) > limit,
                "entries": [_revision_metadata(owners[r["rev"]], r) for r in newest[:limit]]}

    def r_files_restore(self, space, arg):
        path, rev = arg["path"], arg["rev"]
        if not path.startswith("/"):
            raise Fail(400, text="Error in call to API function \"files/restore\": request "
                                 "body: path: did not match pattern")
        node = self._lookup(space, path, "path_lookup")
        if node.is_folder:
            raise Fail(409, {".tag": "path_lookup", "path_lookup": {".tag": "not_file"}})
        revision = next((r for r in node.revisions if r["rev"] == rev), None)
        if revision is None:
            raise Fail(409, {".tag": "invalid_revision"})
        if self.quota is not None and space.used() + len(revision["data"]) > self.quota:
            raise Fail(409, {".tag": "path_write", "path_write": {".tag": "insufficient_space"}})
        self._write(space, node, revision["data"])
        return {".tag": "file", **node.metadata()}

    def r_files_get_metadata(self, space, arg):
        if arg["path"] == "":
            raise Fail(400, text='Error in call to API function "files/get_metadata": request '
                       'body: path: The root folder is unsupported.')
        return self._lookup(space, arg["path"]).metadata()

    def r_files_delete_v2(self, space, arg):
        node = self._lookup(space, arg["path"], "path_lookup")
        if node.parent is None:
            raise Fail(409, {".tag": "path_write", "path_write": {".tag": "malformed_path"}})
        meta = node.metadata()
        self._detach(space, node, forget=True)
        self._log(space, meta["path_lower"], meta["path_display"])
        return {"metadata": meta}

    def _detach(self, space: Space, node: Node, forget: bool) -> None:
        del node.parent.children[node.name.lower()]
        if forget:
            for gone in (node, *node.walk()):
                space.by_id.pop(gone.id, None)
                space.links.pop(gone.id, None)

    def r_files_move_v2(self, space, arg):
        def wrap(error):
            return {".tag": "to", "to": error}

        node = self._lookup(space, arg["from_path"], "from_lookup")
        to_path = arg["to_path"]
        parent, name = self._parent_for(space, to_path, wrap)
        ancestor = parent
        while ancestor is not None:
            if ancestor is node:
                raise Fail(409, {".tag": "cant_move_folder_into_itself"})
            ancestor = ancestor.parent
        existing = parent.children.get(name.lower())
        if existing is not None and existing is not node:
            if not arg.get("autorename"):
                raise Fail(409, wrap(conflict(existing)))
            name = _free_name(parent, name, node.is_folder, moving=node)
        old_lower, old_display = node.path_lower, node.path_display
        self._detach(space, node, forget=False)
        node.name, node.parent = name, parent
        parent.children[name.lower()] = node
        if old_lower != node.path_lower:
            self._log(space, old_lower, old_display)
        self._log_tree(space, node)
        return {"metadata": node.metadata()}

    def r_files_copy_v2(self, space, arg):
        def wrap(error):
            return {".tag": "to", "to": error}

        node = self._lookup(space, arg["from_path"], "from_lookup")
        if node.parent is None:
            raise Fail(409, {".tag": "from_lookup", "from_lookup": {".tag": "malformed_path"}})
        parent, name = self._parent_for(space, arg["to_path"], wrap)
        ancestor = parent
        while ancestor is not None:
            if ancestor is node:
                raise Fail(409, {".tag": "cant_copy_folder_into_itself"})
            ancestor = ancestor.parent
        if parent.children.get(name.lower()) is not None:
            if not arg.get("autorename"):
                raise Fail(409, wrap(conflict(parent.children[name.lower()])))
            name = _free_name(parent, name, node.is_folder)
        size = sum(len(n.data) for n in (node, *node.walk()))
        if self.quota is not None and space.used() + size > self.quota:
            raise Fail(409, wrap({".tag": "insufficient_space"}))
        return {"metadata": self._copy(space, node, parent, name).metadata()}

    def _copy(self, space: Space, node: Node, parent: Node, name: str) -> Node:
        """A new file (one revision, a new id) or folder tree with ``node``'s content."""
        copy = self._add(space, parent, name, node.is_folder)
        if node.is_folder:
            for child in list(node.children.values()):
                self._copy(space, child, copy, child.name)
        else:
            self._write(space, copy, node.data, node.client_modified)
        return copy

    # -- search ------------------------------------------------------------------------
    def r_files_search_v2(self, space, arg):
        query = arg.get("query", "")
        options = arg.get("options") or {}
        if not isinstance(query, str) or len(query) > 1000:
            raise Fail(400, text="Error in call to API function \"files/search_v2\": request "
                                 "body: query: longer than 1000")
        if _tag(options.get("file_status")) == "deleted":
            raise Fail(409, {".tag": "invalid_argument",
                             "invalid_argument": "this emulator does not search deleted files"})
        limit = options.get("max_results", 100)
        if not isinstance(limit, int) or not 1 <= limit <= 1000:
            raise Fail(400, text="Error in call to API function \"files/search_v2\": request "
                                 "body: options.max_results: must be between 1 and 1000")
        scope = self._lookup(space, options.get("path") or "")
        words = _words(query)
        if not words:
            raise Fail(409, {".tag": "invalid_argument", "invalid_argument": "empty query"})
        matches = [{"match_type": {".tag": "filename"},
                    "metadata": {".tag": "metadata", "metadata": n.metadata()}}
                   for n in scope.walk() if _words_match(n.name, words)]
        return self._search_page(matches, limit)

    def _search_page(self, matches: list[dict], limit: int) -> dict:
        if len(matches) <= limit:
            return {"matches": matches, "has_more": False}
        token = "search:" + secrets.token_urlsafe(12)
        self.snapshots[token] = {"rest": matches[limit:], "limit": limit}
        return {"matches": matches[:limit], "has_more": True, "cursor": token}

    def r_files_search_continue_v2(self, space, arg):
        state = self.snapshots.get(arg.get("cursor", ""))
        if not isinstance(state, dict):
            raise Fail(409, {".tag": "invalid_argument", "invalid_argument": "invalid cursor"})
        return self._search_page(state["rest"], state["limit"])

    # -- listing and the change feed ---------------------------------------------------
    def _cursor(self, **state) -> str:
        state["e"] = self.epoch
        return base64.urlsafe_b64encode(json.dumps(state).encode()).decode()

    def _read_cursor(self, cursor: str) -> dict:
        try:
            state = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        except ValueError as exc:
            raise Fail(400, text="Error in call to API function: invalid cursor") from exc
        if state.get("e") != self.epoch:
            raise Fail(409, {".tag": "reset"})
        return state

    def _scope(self, state: dict) -> Space:
        space = self.spaces.get(state["u"])
        folder = self._find(space, state["f"]) if space is not None else None
        if folder is None:
            raise Fail(409, {".tag": "path", "path": {".tag": "not_found"}})
        return space, folder

    def r_files_list_folder(self, space, arg):
        folder = self._lookup(space, arg.get("path", ""))
        if not folder.is_folder:
            raise Fail(409, {".tag": "path", "path": {".tag": "not_folder"}})
        recursive = bool(arg.get("recursive"))
        if recursive:
            entries = ([folder.metadata()] if folder.parent else []) + [
                n.metadata() for n in folder.walk()]
        else:
            entries = [n.metadata() for n in
                       sorted(folder.children.values(), key=lambda n: n.name.lower())]
        if arg.get("include_deleted"):
            entries = self._deleted_entries(space, folder, recursive) + entries
        member = next(k for k, v in self.spaces.items() if v is space)
        state = {"u": member, "f": folder.id, "r": recursive, "q": self.seq,
                 "n": arg.get("limit") or self.page_size}
        return self._page(entries, state)

    def _deleted_entries(self, space: Space, folder: Node, recursive: bool) -> list[dict]:
        """``include_deleted``: what used to be in ``folder`` (or below it) and is gone, as
        deleted entries; without it a first listing shows only what exists."""
        base = folder.path_lower
        gone: dict[str, str] = {}
        for _seq, lower, display in space.log:
            inside = lower.startswith(base + "/") if base else lower != ""
            if inside and (recursive or lower.rpartition("/")[0] == base):
                gone[lower] = display
        return [{".tag": "deleted", "name": display.rsplit("/", 1)[-1], "path_lower": lower,
                 "path_display": display}
                for lower, display in sorted(gone.items()) if self._find(space, lower) is None]

    def _page(self, entries: list[dict], state: dict) -> dict:
        limit = state["n"]
        if len(entries) > limit:
            token = secrets.token_urlsafe(8)
            self.snapshots[token] = entries[limit:]
            return {"entries": entries[:limit], "cursor": self._cursor(**state, s=token),
                    "has_more": True}
        return {"entries": entries, "cursor": self._cursor(**state), "has_more": False}

    def r_files_list_folder_continue(self, space, arg):
        state = self._read_cursor(arg["cursor"])
        snapshot = state.pop("s", None)
        if snapshot is not None:
            entries = self.snapshots.get(snapshot)
            if not isinstance(entries, list):
                raise Fail(409, {".tag": "reset"})
            return self._page(entries, state)
        space, folder = self._scope(state)
        pending = self._pending(space, folder, state)
        page = pending[: state["n"]]
        entries = []
        for _seq, lower, display in page:
            node = self._find(space, lower)
            entries.append(node.metadata() if node is not None else {
                ".tag": "deleted", "name": display.rsplit("/", 1)[-1],
                "path_lower": lower, "path_display": display})
        state["q"] = page[-1][0] if page else state["q"]
        has_more = len(pending) > len(page)
        return {"entries": entries, "cursor": self._cursor(**state), "has_more": has_more}

    def _pending(self, space: Space, folder: Node, state: dict) -> list[tuple[int, str, str]]:
        """Paths changed after the cursor within its scope, ordered by their last change."""
        base = folder.path_lower
        last: dict[str, tuple[int, str, str]] = {}
        for entry in space.log:
            seq, lower = entry[0], entry[1]
            if seq <= state["q"] or lower == base:
                continue
            inside = lower.startswith(base + "/")
            if inside and (state["r"] or lower.rpartition("/")[0] == base):
                last[lower] = entry
        return sorted(last.values())

    def r_files_list_folder_get_latest_cursor(self, space, arg):
        folder = self._lookup(space, arg.get("path", ""))
        if not folder.is_folder:
            raise Fail(409, {".tag": "path", "path": {".tag": "not_folder"}})
        member = next(k for k, v in self.spaces.items() if v is space)
        return {"cursor": self._cursor(u=member, f=folder.id, r=bool(arg.get("recursive")),
                                       q=self.seq, n=arg.get("limit") or self.page_size)}

    def r_files_list_folder_longpoll(self, arg):
        deadline = time.monotonic() + min(float(arg.get("timeout", 30)), self.longpoll_cap)
        with self.lock:
            state = self._read_cursor(arg["cursor"])
            if "s" in state:
                return {"changes": True}
            space, folder = self._scope(state)
            while not self._pending(space, folder, state):
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self.changed.wait(left)
            answer = {"changes": bool(self._pending(space, folder, state))}
        if self.longpoll_backoff:
            answer["backoff"] = self.longpoll_backoff
        return answer

    # -- account -----------------------------------------------------------------------
    def r_users_get_current_account(self, space, arg):
        member = next(k for k, v in self.spaces.items() if v is space)
        name = member or "Emulated User"
        account = hashlib.sha256((member or "").encode()).hexdigest()[:35]
        return {"account_id": "dbid:" + account,  # Dropbox's are exactly 40 characters
                "name": {"given_name": name, "surname": "", "familiar_name": name,
                         "display_name": name, "abbreviated_name": name[:2].upper()},
                "email": f"{(member or 'user').replace(':', '-')}@dropbox.test",
                "email_verified": True, "disabled": False, "locale": "en",
                "referral_link": f"https://{self.netloc}/referrals/x", "is_paired": False,
                "account_type": {".tag": "business" if member else "basic"},
                "root_info": {".tag": "user", "root_namespace_id": "1",
                              "home_namespace_id": "1"},
                **({"team_member_id": member} if member else {})}

    # -- sharing -------------------------------------------------------------------------
    def _link_metadata(self, space: Space, node: Node) -> dict:
        token = space.links[node.id]
        kind = "fo" if node.is_folder else "fi"
        url = (f"https://{self.netloc}/scl/{kind}/{token}/{quote(node.name)}"
               f"?rlkey={token[:8]}&dl=0")
        perms = {"can_revoke": True, "visibility_policies": [], "can_set_expiry": True,
                 "can_remove_expiry": True, "allow_download": True, "can_allow_download": True,
                 "can_disallow_download": True, "allow_comments": True,
                 "team_restricts_comments": False,
                 "resolved_visibility": {".tag": "public"}}
        out = {".tag": "folder" if node.is_folder else "file", "url": url, "id": node.id,
               "name": node.name, "path_lower": node.path_lower, "link_permissions": perms}
        if not node.is_folder:
            out.update(client_modified=node.client_modified, server_modified=node.modified,
                       rev=node.rev, size=len(node.data))
        return out

    def r_sharing_create_shared_link_with_settings(self, space, arg):
        node = self._lookup(space, arg["path"])
        if node.id in space.links:
            raise Fail(409, {".tag": "shared_link_already_exists", "shared_link_already_exists": {
                ".tag": "metadata", "metadata": self._link_metadata(space, node)}})
        space.links[node.id] = secrets.token_urlsafe(12)
        return self._link_metadata(space, node)

    def r_sharing_list_shared_links(self, space, arg):
        nodes = [space.by_id[i] for i in space.links if i in space.by_id]
        if arg.get("path"):
            target = self._lookup(space, arg["path"])
            nodes = [n for n in nodes if n is target]
        return {"links": [self._link_metadata(space, n) for n in nodes], "has_more": False}


def _free_name(parent: Node, name: str, is_folder: bool, moving: Node | None = None) -> str:
    """Dropbox's autorename: "name (1).ext", "name (2).ext"... (folders: "name (1)"),
    the first free one, case-insensitively (the item being moved frees its own name)."""
    stem, dot, ext = name.rpartition(".") if "." in name.lstrip(".") and not is_folder else (
        name, "", "")
    number = 1
    while parent.children.get(f"{stem} ({number}){dot}{ext}".lower()) not in (None, moving):
        number += 1
    return f"{stem} ({number}){dot}{ext}"


def _revision_metadata(node: Node, revision: dict) -> dict:
    """The FileMetadata of one revision (the file's current name, that revision's rev)."""
    return {**node.metadata(), ".tag": "file", "rev": revision["rev"],
            "size": len(revision["data"]), "content_hash": revision["content_hash"],
            "server_modified": revision["server_modified"],
            "client_modified": revision["client_modified"]}


def _words_match(name: str, words: list[str]) -> bool:
    """Dropbox's filename search: every word of the query starts a word of the name."""
    name_words = _words(name)
    return all(any(n.startswith(w) for n in name_words) for w in words)


def _words(text: str) -> list[str]:
    return [w for w in re.split(r"[^\w]+", text.casefold()) if w]


def _parts(path: str) -> list[str]:
    return [p for p in path.split("/") if p]


def _check_path(path: str, tag: str) -> None:
    if path and not path.startswith(("/", "id:")) or path.endswith("/"):
        raise Fail(409, {".tag": tag, tag: {".tag": "malformed_path"}})


def _check_hash(arg: dict, data: bytes, error: dict) -> None:
    expected = arg.get("content_hash")
    if expected and expected != hash_bytes("dropbox", data):
        raise Fail(409, error)


def _read_body(environ) -> bytes:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    return environ["wsgi.input"].read(length) if length else b""


def _json(start_response, status: int, body) -> list[bytes]:
    blob = json.dumps(body).encode()
    text = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 409: "Conflict"}.get(status, "")
    start_response(f"{status} {text}".strip(), [
        ("Content-Type", "application/json"), ("Content-Length", str(len(blob))),
        ("X-Dropbox-Request-Id", secrets.token_hex(8))])
    return [blob]


def make_emulator(host: str = "127.0.0.1", port: int = 0, data_dir: str | None = None):
    return DropboxEmulator(host=host, port=port, data_dir=data_dir)
