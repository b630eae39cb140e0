"""A local Box server: the Content API, uploads, events and OAuth 2 as boxsdk 10 calls them.

Written from Box's API reference and ``box_sdk_gen``'s requests. Real rules kept:
names unique per folder (case-insensitive, files and folders alike), ``/ \\`` and
trailing spaces refused, marker pagination (limit <= 1000, default 100), SHA-1 content
hashes, chunked upload sessions only for files of 20,000,000 bytes or more with parts of
exactly ``part_size`` and a per-part and whole-file SHA-1 ``Digest``, the ``changes``
event stream with integer stream positions, single-use rotating refresh tokens and
the client credentials grant, a previous file version kept on every upload of new
content (``GET /files/{id}/versions`` lists only those; ``?version=`` downloads one;
``POST /files/{id}/versions/current`` promotes one), ``POST /files/{id}/copy`` and
``GET /search`` on names (words OR-ed, beneath ``ancestor_folder_ids``).

Emulator choices (documented in docs/DECISIONS.md): a stream position older than the
retained events (after :meth:`BoxEmulator.expire_cursors`) answers 400
``invalid_stream_position``. An event's ``source`` is Box's "event source" resource
(``item_type``, ``item_id``, ``item_name``, ``parent``, ``owned_by``: no path, etag,
sha1 or sequence_id) for the types in :data:`MINI_SOURCE_EVENTS`, and the standard file
or folder object for the others (``ITEM_CREATE``, ``ITEM_UPLOAD``), so a client that
needs more than Box documents for an event must look the item up.
"""

from __future__ import annotations

import base64
import hashlib
import html
import itertools
import json
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from urllib.parse import urlencode

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from .base import Emulator, consent_answer, consent_page
from .faults import Answer

ROOT_ID = "0"
MIN_CHUNKED_SIZE = 20_000_000
PART_SIZE = 8 * 1024 * 1024
MAX_PAGE = 1000
DEFAULT_PAGE = 100
CLIENT_ID = "box-client-id"
CLIENT_SECRET = "box-client-secret"
OWNER = {"type": "user", "id": "11446498", "name": "Emulator User",
         "login": "emulator@example.com"}
# Events whose source is the "event source" resource rather than the file/folder object:
# the item left its place (or the trash), so Box tells only which item and where it was.
MINI_SOURCE_EVENTS = frozenset({"ITEM_TRASH", "ITEM_UNDELETE_VIA_TRASH", "ITEM_RENAME",
                                "ITEM_MOVE", "ITEM_COPY"})


class BoxError(Exception):
    def __init__(self, status: int, code: str, message: str, context_info=None, headers=None):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.context_info = context_info
        self.headers = headers or {}


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def error_body(status: int, code: str, message: str, context_info=None) -> bytes:
    body = {"type": "error", "status": status, "code": code, "message": message,
            "request_id": secrets.token_hex(6)}
    if context_info:
        body["context_info"] = context_info
    return json.dumps(body).encode()


@dataclass
class Node:
    id: str
    type: str  # "file" | "folder"
    name: str
    parent_id: str | None
    content: bytes = b""
    sequence: int = 0
    version: int = 1
    created_at: str = field(default_factory=_now)
    modified_at: str = field(default_factory=_now)
    trashed: bool = False
    shared: dict | None = None
    version_id: str = ""  # the current file_version's id
    history: list[FileVersion] = field(default_factory=list)  # previous versions, oldest first


@dataclass
class FileVersion:
    """A previous version of a file: Box keeps one on every upload of new content."""

    id: str
    content: bytes
    name: str
    created_at: str
    modified_at: str


@dataclass
class UploadSession:
    id: str
    folder_id: str
    file_name: str
    file_size: int
    file_id: str | None = None  # new version of an existing file
    parts: dict = field(default_factory=dict)  # offset -> (part_id, bytes)


class BoxEmulator(Emulator):
    key = "box"
    tls = True

    def __init__(self, **kwargs):
        self.lock = threading.RLock()
        self.ids = itertools.count(1000)
        self.nodes: dict[str, Node] = {ROOT_ID: Node(ROOT_ID, "folder", "All Files", None)}
        self.events: list[dict] = []
        self.event_floor = 0  # positions below this have expired
        self.sessions: dict[str, UploadSession] = {}
        self.access_tokens: dict[str, float] = {}  # token -> expiry (epoch)
        self.refresh_tokens: set[str] = set()
        self.spent_refresh_tokens: set[str] = set()
        self.codes: dict[str, str] = {}  # authorization code -> redirect_uri
        # the app's token requests (right client id and secret), granted or not, in order:
        # (grant_type, the refresh token presented, or "<box_subject_type>:<box_subject_id>")
        self.grants: list[tuple[str, str]] = []
        self.rejected_calls = 0  # API calls refused for a missing, unknown or expired token
        self.deny_consent = False
        self.access_token_lifetime = 3600
        super().__init__(**kwargs)

    # -- configuration for clients ----------------------------------------------------
    def issue_tokens(self) -> dict:
        """A fresh token pair, as after a completed OAuth flow."""
        with self.lock:
            access, refresh = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
            self.access_tokens[access] = time.time() + self.access_token_lifetime
            self.refresh_tokens.add(refresh)
            return {"access_token": access, "refresh_token": refresh, "expires_in": 3600,
                    "token_type": "bearer", "restricted_to": []}

    def provider_config(self, root: str = "") -> dict:
        from .tls import ca_bundle

        tokens = self.issue_tokens()
        return {
            "api_url": self.url, "upload_url": f"{self.url}/api",
            "oauth_url": f"{self.url}/api/oauth2", "web_url": self.url,
            "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
            "access_token": tokens["access_token"], "refresh_token": tokens["refresh_token"],
            "root": root, "ca_bundle": ca_bundle(),
        }

    def seed_files(self, parent_id: str, files) -> list[str]:
        """Create ``(name, bytes)`` files directly in the store (fast test set-up), each
        with the ``ITEM_UPLOAD`` event an upload makes: the change feed sees them as it
        sees uploads. The parent's names are read once (not once per file as an upload
        does), so seeding thousands of files stays linear."""
        with self.lock:
            self._get(parent_id, "folder")
            taken = {n.name.casefold() for n in self.nodes.values()
                     if n.parent_id == parent_id and not n.trashed}
            ids = []
            for name, data in files:
                self._check_name(name)
                if name.casefold() in taken:
                    raise BoxError(409, "item_name_in_use",
                                   "Item with the same name already exists")
                taken.add(name.casefold())
                node = self._node("file", name, parent_id, data)
                self._event("ITEM_UPLOAD", node)
                ids.append(node.id)
            return ids

    def expire_cursors(self) -> None:
        with self.lock:
            self.event_floor = len(self.events)

    def expire_access_tokens(self) -> None:
        with self.lock:
            self.access_tokens = dict.fromkeys(self.access_tokens, 0)

    def revoke_refresh_tokens(self) -> None:
        with self.lock:
            self.spent_refresh_tokens |= self.refresh_tokens
            self.refresh_tokens.clear()

    def fault_wording(self) -> dict:
        def error_answer(status: int, retry_after: float | None) -> Answer:
            code = "rate_limit_exceeded" if status == 429 else "internal_server_error"
            headers = [("Content-Type", "application/json")]
            if retry_after is not None:
                headers.append(("Retry-After", str(max(1, round(retry_after)))))
            return f"{status} Error", headers, error_body(status, code, f"error {status}")

        def expired_answer() -> Answer:
            return ("401 Unauthorized",
                    [("Content-Type", "application/json"),
                     ("WWW-Authenticate", 'Bearer realm="Service", error="invalid_token", '
                                          'error_description="The access token expired"')],
                    b"")

        return {"error_answer": error_answer, "expired_answer": expired_answer,
                "skip": r"/oauth2/"}

    # -- item representations -----------------------------------------------------------
    def _path(self, node: Node) -> list[Node]:
        chain, parent = [], node.parent_id
        while parent is not None:
            chain.append(self.nodes[parent])
            parent = self.nodes[parent].parent_id
        return list(reversed(chain))

    def _mini(self, node: Node) -> dict:
        mini = {"type": node.type, "id": node.id, "sequence_id": str(node.sequence),
                "etag": str(node.sequence), "name": node.name}
        if node.type == "file":
            mini["sha1"] = hashlib.sha1(node.content).hexdigest()
            mini["file_version"] = {"type": "file_version", "id": node.version_id,
                                    "sha1": mini["sha1"]}
        return mini

    def _render(self, node: Node, request: Request | None, *, mini: bool = False) -> dict:
        """An item as Box answers it: with ``fields``, the mini representation plus the
        fields asked for (and nothing else, as Box documents); without, the standard
        representation (the mini one for the entries of a folder listing). Fields Box
        only sends on request (``version_number``) need ``fields``."""
        fields = request.args.get("fields") if request is not None else None
        if fields is None:
            return self._mini(node) if mini else self._full(node)
        wanted = {f.strip() for f in fields.split(",") if f.strip()}
        every = {**self._full(node), **self._extra(node)}
        return {**self._mini(node), **{k: v for k, v in every.items() if k in wanted}}

    def _extra(self, node: Node) -> dict:
        """Fields outside the standard representation, sent only when asked for."""
        return {"version_number": str(node.version)} if node.type == "file" else {}

    def _check_if_match(self, node: Node, request: Request) -> None:
        """``If-Match`` with an etag that is no longer the item's: 412, nothing changed."""
        wanted = request.headers.get("If-Match")
        if wanted is not None and wanted.strip().strip('"') not in ("*", self._mini(node)[
                "etag"]):
            raise BoxError(412, "precondition_failed", "The resource has been modified. "
                           "Please retrieve the resource again and retry")

    def _full(self, node: Node) -> dict:
        data = self._mini(node)
        path = self._path(node)
        data.update({
            "created_at": node.created_at, "modified_at": node.modified_at,
            "content_modified_at": node.modified_at,
            "size": len(node.content) if node.type == "file" else self._folder_size(node),
            "parent": self._mini(self.nodes[node.parent_id]) if node.parent_id else None,
            "path_collection": {"total_count": len(path),
                                "entries": [self._mini(p) for p in path]},
            "item_status": "trashed" if node.trashed else "active",
            # Box's shared_link object has no token field: the token is the emulator's own
            "shared_link": ({k: v for k, v in node.shared.items() if k != "token"}
                            if node.shared else None),
        })
        return data

    def _folder_size(self, node: Node) -> int:
        return sum(len(n.content) for n in self._descendants(node.id) if n.type == "file")

    def _descendants(self, folder_id: str) -> list[Node]:
        out, stack = [], [folder_id]
        while stack:
            current = stack.pop()
            for n in self.nodes.values():
                if n.parent_id == current and not n.trashed:
                    out.append(n)
                    if n.type == "folder":
                        stack.append(n.id)
        return out

    def _event(self, event_type: str, node: Node) -> None:
        if event_type in MINI_SOURCE_EVENTS:
            parent = self.nodes.get(node.parent_id) if node.parent_id else None
            source = {"item_type": node.type, "item_id": node.id, "item_name": node.name,
                      "parent": self._mini(parent) if parent else None,
                      "owned_by": dict(OWNER)}
        else:
            source = self._full(node)
        self.events.append({
            "type": "event", "event_id": secrets.token_hex(8), "event_type": event_type,
            "created_at": _now(), "recorded_at": _now(), "source": source, "session_id": None,
        })

    # -- rules ------------------------------------------------------------------------
    def _get(self, item_id: str, kind: str | None = None) -> Node:
        node = self.nodes.get(item_id)
        if node is None or node.trashed or (kind and node.type != kind):
            raise BoxError(404, "not_found", f"Could not find the specified resource ({item_id})")
        return node

    def _check_name(self, name: str) -> None:
        if (not name or name in (".", "..") or "/" in name or "\\" in name
                or name != name.rstrip(" ") or len(name) > 255):
            raise BoxError(400, "item_name_invalid", "Item name invalid")

    def _check_free(self, parent_id: str, name: str, ignore: str | None = None) -> None:
        key = name.casefold()
        for n in self.nodes.values():
            if (n.parent_id == parent_id and not n.trashed and n.id != ignore
                    and n.name.casefold() == key):
                raise BoxError(409, "item_name_in_use", "Item with the same name already exists",
                               {"conflicts": [self._mini(n)]})

    def _new(self, kind: str, name: str, parent_id: str, content: bytes = b"") -> Node:
        self._check_name(name)
        self._get(parent_id, "folder")
        self._check_free(parent_id, name)
        node = self._node(kind, name, parent_id, content)
        self._event("ITEM_CREATE" if kind == "folder" else "ITEM_UPLOAD", node)
        return node

    def _node(self, kind: str, name: str, parent_id: str, content: bytes) -> Node:
        node = Node(str(next(self.ids)), kind, name, parent_id, content)
        if kind == "file":
            node.version_id = str(next(self.ids))
        self.nodes[node.id] = node
        return node

    def _new_version(self, node: Node, content: bytes) -> Node:
        """New content: the replaced one becomes a previous version (with its id)."""
        node.history.append(FileVersion(node.version_id, node.content, node.name,
                                        node.modified_at, node.modified_at))
        node.version_id = str(next(self.ids))
        node.content = content
        node.version += 1
        node.sequence += 1
        node.modified_at = _now()
        self._event("ITEM_UPLOAD", node)
        return node

    def _update(self, node: Node, body: dict) -> Node:
        new_name = body.get("name", node.name)
        new_parent = (body.get("parent") or {}).get("id", node.parent_id)
        if "shared_link" in body:
            self._share(node, body["shared_link"])
        if new_name == node.name and new_parent == node.parent_id:
            return node
        self._check_name(new_name)
        self._get(new_parent, "folder")
        if node.type == "folder" and (new_parent == node.id or any(
                p.id == node.id for p in self._path(self.nodes[new_parent]))):
            raise BoxError(400, "bad_request", "Cannot move a folder into itself")
        self._check_free(new_parent, new_name, ignore=node.id)
        moved = new_parent != node.parent_id
        node.name, node.parent_id = new_name, new_parent
        node.sequence += 1
        node.modified_at = _now()
        self._event("ITEM_MOVE" if moved else "ITEM_RENAME", node)
        return node

    def _share(self, node: Node, settings: dict | None) -> None:
        if settings is None:
            node.shared = None
            return
        token = (node.shared or {}).get("token") or secrets.token_urlsafe(12)
        node.shared = {
            "url": f"{self.url}/s/{token}",
            "download_url": f"{self.url}/shared/static/{token}" if node.type == "file" else None,
            "access": settings.get("access") or "open",
            "effective_access": settings.get("access") or "open",
            "effective_permission": "can_download", "is_password_enabled": False,
            "download_count": 0, "preview_count": 0, "token": token,
        }

    def _trash(self, node: Node, recursive: bool) -> None:
        if node.id == ROOT_ID:
            raise BoxError(403, "access_denied_insufficient_permissions", "Cannot trash root")
        if node.type == "folder" and not recursive and self._descendants(node.id):
            raise BoxError(400, "folder_not_empty", "Folder is not empty")
        for child in self._descendants(node.id):
            child.trashed = True
        node.trashed = True
        self._event("ITEM_TRASH", node)

    # -- HTTP ---------------------------------------------------------------------------
    def make_app(self):
        rules = Map([
            Rule("/oauth2/token", methods=["POST"], endpoint="token"),
            Rule("/oauth2/revoke", methods=["POST"], endpoint="revoke"),
            Rule("/api/oauth2/authorize", methods=["GET"], endpoint="authorize"),
            Rule("/2.0/folders", methods=["POST"], endpoint="create_folder"),
            Rule("/2.0/folders/<item_id>", methods=["GET", "PUT", "DELETE"], endpoint="folder"),
            Rule("/2.0/folders/<item_id>/items", methods=["GET"], endpoint="folder_items"),
            Rule("/2.0/files/content", methods=["OPTIONS"], endpoint="preflight"),
            Rule("/2.0/files/<item_id>", methods=["GET", "PUT", "DELETE"], endpoint="file"),
            Rule("/2.0/files/<item_id>/content", methods=["GET"], endpoint="download"),
            Rule("/2.0/events", methods=["GET"], endpoint="events"),
            Rule("/2.0/users/me", methods=["GET"], endpoint="user_me"),
            Rule("/api/2.0/files/content", methods=["POST"], endpoint="upload"),
            Rule("/api/2.0/files/<item_id>/content", methods=["POST"], endpoint="upload_version"),
            Rule("/api/2.0/files/upload_sessions", methods=["POST"], endpoint="session_new"),
            Rule("/api/2.0/files/<item_id>/upload_sessions", methods=["POST"],
                 endpoint="session_version"),
            Rule("/api/2.0/files/upload_sessions/<sid>", methods=["PUT", "GET", "DELETE"],
                 endpoint="session"),
            Rule("/api/2.0/files/upload_sessions/<sid>/parts", methods=["GET"],
                 endpoint="session_parts"),
            Rule("/api/2.0/files/upload_sessions/<sid>/commit", methods=["POST"],
                 endpoint="session_commit"),
            Rule("/2.0/files/<item_id>/copy", methods=["POST"], endpoint="copy"),
            Rule("/2.0/files/<item_id>/versions", methods=["GET"], endpoint="versions"),
            Rule("/2.0/files/<item_id>/versions/current", methods=["POST"],
                 endpoint="promote_version"),
            Rule("/2.0/search", methods=["GET"], endpoint="search"),
            Rule("/dl/<item_id>/<version_id>", methods=["GET"], endpoint="raw"),
            Rule("/shared/static/<token>", methods=["GET"], endpoint="shared_download"),
            Rule("/s/<token>", methods=["GET"], endpoint="shared_page"),
            Rule("/<any(file, folder):kind>/<item_id>", methods=["GET"], endpoint="web_page"),
        ])

        def app(environ, start_response):
            request = Request(environ)
            try:
                endpoint, args = rules.bind_to_environ(environ).match()
                if endpoint not in ("token", "revoke", "authorize", "raw", "shared_download",
                                    "shared_page", "web_page"):
                    self._authenticate(request)
                with self.lock:
                    response = getattr(self, f"_on_{endpoint}")(request, **args)
            except BoxError as exc:
                response = Response(error_body(exc.status, exc.code, exc.message,
                                               exc.context_info),
                                    exc.status, content_type="application/json",
                                    headers=exc.headers)
            except HTTPException as exc:
                response = Response(error_body(exc.code, "not_found", exc.description),
                                    exc.code, content_type="application/json")
            return response(environ, start_response)

        return app

    def _authenticate(self, request: Request) -> None:
        header = request.headers.get("Authorization", "")
        token = header[7:] if header.startswith("Bearer ") else ""
        expiry = self.access_tokens.get(token)
        if expiry is None or expiry < time.time():
            with self.lock:
                self.rejected_calls += 1
            raise BoxError(401, "unauthorized", "Unauthorized",
                           headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})

    @staticmethod
    def _json(data, status: int = 200, headers=None) -> Response:
        return Response(json.dumps(data), status, content_type="application/json",
                        headers=headers)

    # OAuth 2 ---------------------------------------------------------------------------
    def _on_authorize(self, request: Request) -> Response:
        redirect_uri = request.args.get("redirect_uri", "")
        state = request.args.get("state", "")
        if request.args.get("client_id") != CLIENT_ID or not redirect_uri:
            raise BoxError(400, "invalid_client", "Unknown client or missing redirect_uri")
        decision = consent_answer(self, request.args, self.deny_consent)
        if decision == "page":
            page = consent_page("Box", CLIENT_ID, request.args.get("scope", "").split(),
                                request.args.to_dict(), "Grant access to Box", "Deny access")
            return Response(page, content_type="text/html; charset=utf-8")
        if decision == "deny":
            query = {"error": "access_denied", "error_description": "The user denied access",
                     "state": state}
        else:
            code = secrets.token_urlsafe(16)
            self.codes[code] = redirect_uri
            query = {"code": code, "state": state}
        sep = "&" if "?" in redirect_uri else "?"
        return Response(status=302, headers={"Location": f"{redirect_uri}{sep}{urlencode(query)}"})

    def _on_token(self, request: Request) -> Response:
        form = request.form
        if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
            return self._json({"error": "invalid_client",
                               "error_description": "The client credentials are invalid"}, 400)
        grant = form.get("grant_type")
        if grant == "refresh_token":
            refresh = form.get("refresh_token", "")
            self.grants.append((grant, refresh))
            if refresh not in self.refresh_tokens:
                return self._json({"error": "invalid_grant",
                                   "error_description": "Invalid refresh token"}, 400)
            self.refresh_tokens.discard(refresh)  # single use: rotate
            self.spent_refresh_tokens.add(refresh)
        elif grant == "authorization_code":
            if self.codes.pop(form.get("code", ""), None) is None:
                return self._json({"error": "invalid_grant",
                                   "error_description": "Auth code doesn't exist or is invalid "
                                                        "for the client"}, 400)
        elif grant == "client_credentials":
            subject_type, subject_id = form.get("box_subject_type"), form.get("box_subject_id")
            self.grants.append((grant, f"{subject_type}:{subject_id}"))
            if subject_type not in ("enterprise", "user") or not subject_id:
                return self._json({"error": "invalid_request",
                                   "error_description": "box_subject_type and box_subject_id "
                                                        "are required"}, 400)
            access = secrets.token_urlsafe(24)  # no refresh token for this grant
            self.access_tokens[access] = time.time() + self.access_token_lifetime
            return self._json({"access_token": access, "expires_in": 3600,
                               "token_type": "bearer", "restricted_to": []})
        else:
            return self._json({"error": "unsupported_grant_type"}, 400)
        return self._json(self.issue_tokens())

    def _on_user_me(self, request: Request) -> Response:
        """The signed-in user (the connect flow shows who it connected)."""
        return self._json({**OWNER, "status": "active"})

    def _on_revoke(self, request: Request) -> Response:
        token = request.form.get("token", "")
        self.access_tokens.pop(token, None)
        self.refresh_tokens.discard(token)
        return Response(status=200)

    # folders ----------------------------------------------------------------------------
    def _on_create_folder(self, request: Request) -> Response:
        body = request.get_json(force=True)
        node = self._new("folder", body.get("name", ""), (body.get("parent") or {}).get("id", ""))
        return self._json(self._render(node, request), 201)

    def _on_folder(self, request: Request, item_id: str) -> Response:
        node = self._get(item_id, "folder")
        if request.method in ("PUT", "DELETE"):
            self._check_if_match(node, request)
        if request.method == "DELETE":
            self._trash(node, request.args.get("recursive", "").lower() == "true")
            return Response(status=204)
        if request.method == "PUT":
            node = self._update(node, request.get_json(force=True) or {})
        return self._json(self._render(node, request))

    def _on_folder_items(self, request: Request, item_id: str) -> Response:
        self._get(item_id, "folder")
        limit = min(int(request.args.get("limit") or DEFAULT_PAGE), MAX_PAGE)
        children = sorted((n for n in self.nodes.values()
                           if n.parent_id == item_id and not n.trashed),
                          key=lambda n: (n.type != "folder", int(n.id)))
        if request.args.get("usemarker", "").lower() == "true":
            marker = request.args.get("marker")
            start = int(base64.urlsafe_b64decode(marker).decode()) if marker else 0
            page = children[start:start + limit]
            next_marker = (base64.urlsafe_b64encode(str(start + limit).encode()).decode()
                           if start + limit < len(children) else None)
            body = {"entries": [self._render(n, request, mini=True) for n in page],
                    "limit": limit, "next_marker": next_marker}
        else:
            offset = int(request.args.get("offset") or 0)
            page = children[offset:offset + limit]
            body = {"entries": [self._render(n, request, mini=True) for n in page],
                    "limit": limit, "offset": offset, "total_count": len(children)}
        return self._json(body)

    # files ----------------------------------------------------------------------------
    def _on_file(self, request: Request, item_id: str) -> Response:
        node = self._get(item_id, "file")
        if request.method in ("PUT", "DELETE"):
            self._check_if_match(node, request)
        if request.method == "DELETE":
            self._trash(node, False)
            return Response(status=204)
        if request.method == "PUT":
            node = self._update(node, request.get_json(force=True) or {})
        return self._json(self._render(node, request))

    def _on_preflight(self, request: Request) -> Response:
        body = request.get_json(force=True) or {}
        self._check_name(body.get("name", ""))
        self._check_free((body.get("parent") or {}).get("id", ""), body.get("name", ""))
        return self._json({"upload_url": f"{self.url}/api/2.0/files/content",
                           "upload_token": None})

    def _on_download(self, request: Request, item_id: str) -> Response:
        """The content, or with ``version`` (a file_version id of this file) that
        version's: a redirect to the bytes, as Box answers."""
        node = self._get(item_id, "file")
        version = self._version(node, request.args.get("version") or node.version_id)
        return Response(status=302, headers={"Location": f"{self.url}/dl/{node.id}/{version.id}"})

    def _on_raw(self, request: Request, item_id: str, version_id: str) -> Response:
        version = self._version(self._get(item_id, "file"), version_id)
        return Response(version.content, 200, content_type="application/octet-stream")

    @staticmethod
    def _version(node: Node, version_id: str) -> FileVersion:
        """The file's current or a previous version by id (another file's: 404)."""
        if version_id == node.version_id:
            return FileVersion(node.version_id, node.content, node.name, node.modified_at,
                               node.modified_at)
        for version in node.history:
            if version.id == version_id:
                return version
        raise BoxError(404, "not_found", f"Could not find the specified resource ({version_id})")

    def _version_json(self, version: FileVersion) -> dict:
        return {"type": "file_version", "id": version.id,
                "sha1": hashlib.sha1(version.content).hexdigest(), "name": version.name,
                "size": len(version.content), "created_at": version.created_at,
                "modified_at": version.modified_at, "modified_by": dict(OWNER),
                "trashed_at": None, "trashed_by": None, "restored_at": None,
                "restored_by": None, "purged_at": None,
                "uploader_display_name": OWNER["name"]}

    def _on_versions(self, request: Request, item_id: str) -> Response:
        """Previous versions only, newest first (the current one is the file's
        ``file_version``), offset-paged."""
        node = self._get(item_id, "file")
        limit = min(int(request.args.get("limit") or MAX_PAGE), MAX_PAGE)
        offset = int(request.args.get("offset") or 0)
        previous = list(reversed(node.history))
        return self._json({"total_count": len(previous), "limit": limit, "offset": offset,
                           "entries": [self._version_json(v)
                                       for v in previous[offset:offset + limit]]})

    def _on_promote_version(self, request: Request, item_id: str) -> Response:
        """Promote a previous version: a new current version with its content; the
        replaced content stays a previous version."""
        node = self._get(item_id, "file")
        body = request.get_json(force=True) or {}
        if body.get("type") != "file_version" or not body.get("id"):
            raise BoxError(400, "bad_request", "type file_version and id are required")
        old = self._version(node, str(body["id"]))
        self._new_version(node, old.content)
        return self._json({**self._version_json(self._version(node, node.version_id)),
                           "version_number": str(node.version)}, 201)

    def _on_copy(self, request: Request, item_id: str) -> Response:
        """Copy a file (its current content, or ``version``'s) under ``parent``."""
        node = self._get(item_id, "file")
        body = request.get_json(force=True) or {}
        parent_id = (body.get("parent") or {}).get("id", "")
        name = body.get("name") or node.name
        content = self._version(node, body["version"]).content if body.get("version") \
            else node.content
        self._check_name(name)
        self._get(parent_id, "folder")
        self._check_free(parent_id, name)
        copied = self._node("file", name, parent_id, content)
        self._event("ITEM_COPY", copied)
        return self._json(self._render(copied, request), 201)

    def _on_search(self, request: Request) -> Response:
        """Search by name (``content_types=name``; other content types: names too, the
        emulator holds no descriptions or text), beneath ``ancestor_folder_ids``, not in
        the trash. As Box, the query is split into words and an item matches when one
        of its name's words is one of them (``a b`` is ``a OR b``)."""
        words = set(re.findall(r"\w+", request.args.get("query", "").casefold()))
        if not words:
            raise BoxError(400, "bad_request", "query is required")
        ancestors = [a for a in (request.args.get("ancestor_folder_ids") or "").split(",") if a]
        kind = request.args.get("type")
        limit = min(int(request.args.get("limit") or 30), 200)
        offset = int(request.args.get("offset") or 0)
        found = [n for n in self.nodes.values()
                 if not n.trashed and n.id != ROOT_ID and (kind is None or n.type == kind)
                 and words & set(re.findall(r"\w+", n.name.casefold()))
                 and (not ancestors or any(a == p.id for a in ancestors
                                           for p in self._path(n)))]
        found.sort(key=lambda n: int(n.id))
        return self._json({"type": "search_results_items", "total_count": len(found),
                           "limit": limit, "offset": offset,
                           "entries": [self._render(n, request)
                                       for n in found[offset:offset + limit]]})

    @staticmethod
    def _page(node: Node) -> Response:
        name = html.escape(node.name)
        return Response(f"<!DOCTYPE html><html><head><title>{name} | Powered by Box</title>"
                        f"</head><body><h1>{name}</h1></body></html>",
                        content_type="text/html; charset=utf-8")

    def _on_shared_page(self, request: Request, token: str) -> Response:
        """A shared link (``/s/<token>``): the page naming the item."""
        for node in self.nodes.values():
            if node.shared and node.shared["token"] == token and not node.trashed:
                return self._page(node)
        raise BoxError(404, "not_found", "Shared link not found")

    def _on_web_page(self, request: Request, kind: str, item_id: str) -> Response:
        """The web app's page of an item (``/file/<id>``, ``/folder/<id>``: the internal
        link), for the signed-in owner."""
        return self._page(self._get(item_id, kind))

    def _on_shared_download(self, request: Request, token: str) -> Response:
        for node in self.nodes.values():
            if node.shared and node.shared["token"] == token and not node.trashed:
                return Response(node.content, 200, content_type="application/octet-stream")
        raise BoxError(404, "not_found", "Shared link not found")

    def _upload_body(self, request: Request) -> tuple[dict, bytes]:
        attributes = json.loads(request.form.get("attributes") or "{}")
        upload = request.files.get("file")
        if upload is None:
            raise BoxError(400, "bad_request", "Missing file part")
        return attributes, upload.read()

    def _on_upload(self, request: Request) -> Response:
        attributes, content = self._upload_body(request)
        node = self._new("file", attributes.get("name", ""),
                         (attributes.get("parent") or {}).get("id", ""), content)
        return self._json({"total_count": 1, "entries": [self._render(node, request)]}, 201)

    def _on_upload_version(self, request: Request, item_id: str) -> Response:
        node = self._get(item_id, "file")
        self._check_if_match(node, request)
        _, content = self._upload_body(request)
        return self._json({"total_count": 1, "entries": [
            self._render(self._new_version(node, content), request)]})

    # chunked upload sessions --------------------------------------------------------
    def _session_json(self, session: UploadSession) -> dict:
        base = f"{self.url}/api/2.0/files/upload_sessions/{session.id}"
        return {
            "type": "upload_session", "id": session.id, "part_size": PART_SIZE,
            "total_parts": -(-session.file_size // PART_SIZE),
            "num_parts_processed": len(session.parts),
            "session_expires_at": _now(),
            "session_endpoints": {"upload_part": base, "commit": f"{base}/commit",
                                  "abort": base, "list_parts": f"{base}/parts",
                                  "status": base, "log_event": f"{base}/log"},
        }

    def _start_session(self, folder_id: str, name: str, size: int, file_id=None) -> Response:
        if size < MIN_CHUNKED_SIZE:
            raise BoxError(400, "file_size_too_small",
                           "File size is less than minimum allowed for this API: 20000000")
        if file_id is None:
            self._check_name(name)
            self._get(folder_id, "folder")
            self._check_free(folder_id, name)
        session = UploadSession(secrets.token_hex(8), folder_id, name, size, file_id)
        self.sessions[session.id] = session
        return self._json(self._session_json(session), 201)

    def _on_session_new(self, request: Request) -> Response:
        body = request.get_json(force=True) or {}
        return self._start_session(body.get("folder_id", ""), body.get("file_name", ""),
                                   int(body.get("file_size") or 0))

    def _on_session_version(self, request: Request, item_id: str) -> Response:
        node = self._get(item_id, "file")
        body = request.get_json(force=True) or {}
        return self._start_session(node.parent_id, node.name, int(body.get("file_size") or 0),
                                   file_id=node.id)

    def _session(self, sid: str) -> UploadSession:
        if sid not in self.sessions:
            raise BoxError(404, "not_found", "Upload session not found")
        return self.sessions[sid]

    def _on_session(self, request: Request, sid: str) -> Response:
        session = self._session(sid)
        if request.method == "DELETE":
            del self.sessions[sid]
            return Response(status=204)
        if request.method == "GET":
            return self._json(self._session_json(session))
        data = request.get_data()
        digest = request.headers.get("Digest", "")
        expected = "sha=" + base64.b64encode(hashlib.sha1(data).digest()).decode()
        if digest != expected:
            raise BoxError(412, "precondition_failed", "The digest does not match the part")
        try:
            unit, _, rest = request.headers["Content-Range"].partition(" ")
            span, _, total = rest.partition("/")
            start, end = (int(x) for x in span.split("-"))
        except (KeyError, ValueError) as exc:
            raise BoxError(400, "bad_request", "Invalid Content-Range") from exc
        last = start + len(data) >= session.file_size
        if (int(total) != session.file_size or end - start + 1 != len(data)
                or start % PART_SIZE or (len(data) != PART_SIZE and not last)):
            raise BoxError(416, "range_not_satisfiable", "Parts must be exactly part_size")
        part = {"part_id": secrets.token_hex(4).upper(), "offset": start, "size": len(data),
                "sha1": hashlib.sha1(data).hexdigest()}
        session.parts[start] = (part, data)
        return self._json({"part": part})

    def _on_session_parts(self, request: Request, sid: str) -> Response:
        session = self._session(sid)
        parts = [p for _, (p, _d) in sorted(session.parts.items())]
        return self._json({"entries": parts, "total_count": len(parts), "limit": 1000,
                           "offset": 0})

    def _on_session_commit(self, request: Request, sid: str) -> Response:
        session = self._session(sid)
        body = request.get_json(force=True) or {}
        listed = [(p["offset"], p["part_id"]) for p in body.get("parts", [])]
        held = [(off, p["part_id"]) for off, (p, _d) in sorted(session.parts.items())]
        if listed != held:
            raise BoxError(400, "bad_request", "The parts list does not match uploaded parts")
        content = b"".join(d for _off, (_p, d) in sorted(session.parts.items()))
        digest = "sha=" + base64.b64encode(hashlib.sha1(content).digest()).decode()
        if len(content) != session.file_size or request.headers.get("Digest") != digest:
            raise BoxError(412, "precondition_failed", "The file digest does not match")
        if session.file_id:
            node = self._new_version(self._get(session.file_id, "file"), content)
        else:
            attributes = body.get("attributes") or {}
            node = self._new("file", attributes.get("name") or session.file_name,
                             session.folder_id, content)
        del self.sessions[sid]
        return self._json({"total_count": 1, "entries": [self._full(node)]}, 201)

    # events -----------------------------------------------------------------------------
    def _on_events(self, request: Request) -> Response:
        if request.args.get("stream_type", "all") not in ("all", "changes", "sync"):
            raise BoxError(400, "bad_request", "Unsupported stream type")
        position = request.args.get("stream_position", "0")
        limit = min(int(request.args.get("limit") or 100), 500)
        if position == "now":
            return self._json({"chunk_size": 0, "next_stream_position": len(self.events),
                               "entries": []})
        try:
            start = int(position)
        except ValueError as exc:
            raise BoxError(400, "invalid_stream_position", "Invalid stream position") from exc
        if start < self.event_floor or start > len(self.events):
            raise BoxError(400, "invalid_stream_position",
                           "The stream position is no longer available")
        page = self.events[start:start + limit]
        return self._json({"chunk_size": len(page), "next_stream_position": start + len(page),
                           "entries": page})


def make_emulator(host: str = "127.0.0.1", port: int = 0, data_dir: str | None = None):
    return BoxEmulator(host=host, port=port, data_dir=data_dir)
