"""A local Google Drive v3 server for google-api-python-client and google-auth.

Speaks what the real SDK sends (read in ``googleapiclient/discovery.py`` and ``http.py``):
metadata calls under ``/drive/v3/``, multipart and resumable uploads under
``/upload/drive/v3/files`` (resumable: POST → ``Location`` with ``upload_id``, PUT chunks
with ``Content-Range``, 308 + ``Range`` until done), ``alt=media`` downloads with ``Range``,
``files/{id}/export`` for Google-native documents, the change feed (numeric page tokens,
one change per file, ``removed`` for permanent deletions), permissions, shared drives, an
OAuth token endpoint (refresh, authorization-code and JWT-bearer grants) and an authorize
endpoint (a consent page, or at once with ``auto_consent``). Answers follow the v3
reference: partial responses by ``fields``, page sizes
capped at 1000, Drive's error body ``{"error": {"code", "message", "errors": [...]}}``.
Revisions: every content write of a binary file keeps one (its id is the file's new
``headRevisionId``), up to :data:`MAX_REVISIONS` not kept forever (the oldest go first);
``revisions.list`` (oldest first, paged), ``revisions.get`` (metadata or ``alt=media``),
``revisions.update`` (``keepForever``); an unknown revision is 404 "Revision not found".
``files.copy`` copies a binary file (a new id, one revision; "Copy of <name>" without a
name); folders cannot be copied (403 ``cannotCopyFile``).
Everything lives in memory under one lock.
"""

from __future__ import annotations

import base64
import bisect
import functools
import hashlib
import html
import itertools
import json
import os
import re
import secrets
import threading
import time
from datetime import datetime, timezone
from urllib.parse import urlencode

from werkzeug.wrappers import Request, Response

from .base import Emulator, consent_answer, consent_page

FOLDER = "application/vnd.google-apps.folder"
NATIVE_PREFIX = "application/vnd.google-apps."
MAX_PAGE = 1000
DEFAULT_PAGE = 100
UPLOAD_QUANTUM = 256 * 1024  # non-final resumable chunks are multiples of 256 KiB
MAX_NAME = 32767
DEFAULT_FILE_FIELDS = "kind,id,name,mimeType"
DEFAULT_REVISION_FIELDS = "kind,id,mimeType,modifiedTime"
MAX_REVISIONS = 100  # revisions of a binary file Drive keeps unless kept forever
MAX_REVISION_PAGE = 1000
DEFAULT_REVISION_PAGE = 200
SCOPE = "https://www.googleapis.com/auth/drive"
SIGNED_IN = "emulator-session"  # the sign-in cookie of the emulator's one user
GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"

_STATUS = {200: "OK", 204: "No Content", 302: "Found", 308: "Permanent Redirect",
           400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
           409: "Conflict", 416: "Range Not Satisfiable", 429: "Too Many Requests",
           500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable",
           504: "Gateway Timeout"}
_REASONS = {400: "badRequest", 401: "authError", 403: "forbidden", 404: "notFound",
            429: "rateLimitExceeded", 500: "backendError", 502: "backendError",
            503: "backendError", 504: "backendError"}
_MESSAGES = {429: "Rate Limit Exceeded", 500: "Internal Error", 502: "Bad Gateway",
             503: "The service is currently unavailable.", 504: "Deadline exceeded."}
_AUTH_MESSAGE = ("Request had invalid authentication credentials. Expected OAuth 2 access "
                 "token, login cookie or other valid authentication credential.")


class DriveError(Exception):
    def __init__(self, status: int, message: str, reason: str | None = None,
                 location: str | None = None, headers: dict | None = None):
        super().__init__(message)
        self.status, self.message = status, message
        self.reason = reason or _REASONS.get(status, "badRequest")
        self.location = location
        self.headers = headers or {}

    def body(self) -> dict:
        detail = {"domain": "global", "reason": self.reason, "message": self.message}
        if self.location:
            detail.update(locationType="parameter", location=self.location)
        return {"error": {"code": self.status, "message": self.message, "errors": [detail]}}


def error_body(status: int, message: str, reason: str) -> bytes:
    return json.dumps(DriveError(status, message, reason).body()).encode()


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _new_id(prefix: str = "1") -> str:
    return prefix + secrets.token_urlsafe(24)[:32]


# -- partial responses ("fields") -------------------------------------------------------
def parse_fields(text: str) -> dict | None:
    """``"files(id,name),nextPageToken"`` → ``{"files": {"id": None, ...}, ...}``."""
    text = (text or "").replace(" ", "")
    if not text or text == "*":
        return None
    tree, pos = _parse_field_list(text, 0)
    if pos != len(text):
        raise DriveError(400, f"Invalid field selection {text}", "invalidParameter", "fields")
    return tree


def _parse_field_list(text: str, pos: int) -> tuple[dict, int]:
    tree: dict = {}
    while pos < len(text):
        match = re.compile(r"[A-Za-z0-9_*]+(?:/[A-Za-z0-9_*]+)*").match(text, pos)
        if not match:
            raise DriveError(400, f"Invalid field selection {text}", "invalidParameter",
                             "fields")
        path = match.group().split("/")
        pos = match.end()
        sub = None
        if pos < len(text) and text[pos] == "(":
            sub, pos = _parse_field_list(text, pos + 1)
            if pos >= len(text) or text[pos] != ")":
                raise DriveError(400, f"Invalid field selection {text}", "invalidParameter",
                                 "fields")
            pos += 1
        node = tree
        for name in path[:-1]:
            node = node.setdefault(name, {}) or {}
        node[path[-1]] = None if sub is None or "*" in sub else sub
        if pos < len(text) and text[pos] == ")":
            return tree, pos
        if pos < len(text) and text[pos] == ",":
            pos += 1
    return tree, pos


@functools.cache
def _schemas() -> dict:
    """The v3 resource schemas, from the discovery document bundled with the SDK."""
    import googleapiclient

    path = os.path.join(os.path.dirname(googleapiclient.__file__), "discovery_cache",
                        "documents", "drive.v3.json")
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)["schemas"]


def check_fields(tree: dict | None, schema: str) -> None:
    """Refuse a selection naming a field the resource does not have, as Drive does."""
    properties = _schemas()[schema]["properties"]
    for name, sub in (tree or {}).items():
        if name == "*":
            continue
        if name not in properties:
            raise DriveError(400, f"Invalid field selection {name}", "invalidParameter",
                             "fields")
        ref = properties[name].get("$ref") or properties[name].get("items", {}).get("$ref")
        if sub and ref:
            check_fields(sub, ref)


def select(tree: dict | None, value):
    if tree is None or "*" in tree:
        return value
    if isinstance(value, list):
        return [select(tree, v) for v in value]
    if not isinstance(value, dict):
        return value
    return {k: select(sub, value[k]) for k, sub in tree.items() if k in value}


# -- the "q" language and orderBy -------------------------------------------------------
# Drive's search grammar: terms joined by and / or, negated by not, grouped by parentheses.
# Terms: 'id' in parents, name = != contains, mimeType = != contains, trashed / starred
# = != true|false, modifiedTime / createdTime with = != < <= > >= and an RFC 3339 string.
_Q_TOKEN = re.compile(r"\s*(?:(?P<str>'(?:[^'\\]|\\.)*')|(?P<op><=|>=|!=|=|<|>)"
                      r"|(?P<paren>[()])|(?P<word>[A-Za-z_][A-Za-z0-9_]*))")
_Q_OPS = {"name": ("=", "!=", "contains"), "mimeType": ("=", "!=", "contains"),
          "trashed": ("=", "!="), "starred": ("=", "!="),
          "modifiedTime": ("=", "!=", "<", "<=", ">", ">="),
          "createdTime": ("=", "!=", "<", "<=", ">", ">=")}


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def _invalid_q():
    return DriveError(400, "Invalid Value", "invalid", "q")


def _q_tokens(q: str) -> list[tuple[str, str]]:
    tokens, pos = [], 0
    while q[pos:].strip():
        match = _Q_TOKEN.match(q, pos)
        if not match:
            raise _invalid_q()
        kind = match.lastgroup
        value = match.group(kind)
        tokens.append((kind, _unescape(value[1:-1]) if kind == "str" else value))
        pos = match.end()
    return tokens


def parse_q(q: str):
    """The query as a tree: ("and"|"or", left, right), ("not", x), ("in", id) or
    (field, op, value); None for an empty query. Anything else is 400 Invalid Value."""
    tokens = _q_tokens(q or "")
    if not tokens:
        return None
    pos = 0

    def peek(kind=None, value=None):
        if pos >= len(tokens):
            return False
        k, v = tokens[pos]
        return (kind is None or k == kind) and (value is None or v == value)

    def take():
        nonlocal pos
        if pos >= len(tokens):
            raise _invalid_q()
        pos += 1
        return tokens[pos - 1]

    def either():
        node = both()
        while peek("word", "or"):
            take()
            node = ("or", node, both())
        return node

    def both():
        node = negated()
        while peek("word", "and"):
            take()
            node = ("and", node, negated())
        return node

    def negated():
        if peek("word", "not"):
            take()
            return ("not", negated())
        if peek("paren", "("):
            take()
            node = either()
            if take() != ("paren", ")"):
                raise _invalid_q()
            return node
        return term()

    def term():
        kind, value = take()
        if kind == "str":  # 'id' in parents
            if take() != ("word", "in") or take() != ("word", "parents"):
                raise _invalid_q()
            return ("in", value)
        if kind != "word" or value not in _Q_OPS:
            raise _invalid_q()
        op_kind, op = take()
        if op_kind == "word" and op == "contains":
            op_kind = "op"
        if op_kind != "op" or op not in _Q_OPS[value]:
            raise _invalid_q()
        literal_kind, literal = take()
        if value in ("trashed", "starred"):
            if literal_kind != "word" or literal not in ("true", "false"):
                raise _invalid_q()
            return (value, op, literal == "true")
        if literal_kind != "str":
            raise _invalid_q()
        if value.endswith("Time"):
            return (value, op, _q_time(literal))
        return (value, op, literal)

    tree = either()
    if pos != len(tokens):
        raise _invalid_q()
    return tree


def _q_time(text: str) -> datetime:
    """An RFC 3339 date-time of a query (UTC when it names no zone)."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise _invalid_q() from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _name_contains(name: str, wanted: str) -> bool:
    """Drive's ``name contains``: prefix matching on the name's words (case-insensitive):
    'Hello' finds "HelloWorld" and "say hello", 'World' does not find "HelloWorld"."""
    name, wanted = name.casefold(), wanted.casefold()
    starts = [0] + [i for i in range(1, len(name)) if not name[i - 1].isalnum()]
    return any(name.startswith(wanted, i) for i in starts)


def _q_matches(tree, item: dict) -> bool:
    if tree is None:
        return True
    head = tree[0]
    if head == "and":
        return _q_matches(tree[1], item) and _q_matches(tree[2], item)
    if head == "or":
        return _q_matches(tree[1], item) or _q_matches(tree[2], item)
    if head == "not":
        return not _q_matches(tree[1], item)
    if head == "in":
        return tree[1] in item.get("parents", [])
    field, op, wanted = tree
    actual = item.get(field)
    if field.endswith("Time"):
        if actual is None:
            return False
        actual = _q_time(actual)
    elif field in ("trashed", "starred"):
        actual = bool(actual)
    if op == "contains":
        if field == "name":
            return _name_contains(actual or "", wanted)
        return wanted.casefold() in (actual or "").casefold()
    return {"=": actual == wanted, "!=": actual != wanted, "<": actual < wanted,
            "<=": actual <= wanted, ">": actual > wanted, ">=": actual >= wanted}[op]


_ORDER_KEYS = {"createdTime", "folder", "modifiedByMeTime", "modifiedTime", "name",
               "name_natural", "quotaBytesUsed", "recency", "sharedWithMeTime", "starred",
               "viewedByMeTime"}


def order_key(text: str | None):
    """A sort key for Drive's ``orderBy`` (keys with an optional ``desc``); unknown keys
    are 400. Sorting by several keys: stable sorts from the last key to the first."""
    keys = []
    for part in (text or "").split(","):
        words = part.split()
        if not words:
            continue
        if words[0] not in _ORDER_KEYS or len(words) > 2 or (
                len(words) == 2 and words[1] not in ("asc", "desc")):
            raise DriveError(400, "Invalid Value", "invalid", "orderBy")
        keys.append((words[0], len(words) == 2 and words[1] == "desc"))
    return keys


def _natural(text: str) -> list:
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", text.casefold())]


def sort_items(items: list[dict], keys) -> list[dict]:
    values = {
        "folder": lambda f: f["mimeType"] != FOLDER,
        "name": lambda f: f.get("name", "").casefold(),
        "name_natural": lambda f: _natural(f.get("name", "")),
        "modifiedTime": lambda f: f.get("modifiedTime") or "",
        "createdTime": lambda f: f.get("createdTime") or "",
        "recency": lambda f: f.get("modifiedTime") or "",
        "modifiedByMeTime": lambda f: f.get("modifiedTime") or "",
        "quotaBytesUsed": lambda f: int(f.get("size") or 0),
        "starred": lambda f: not f.get("starred", False),
        "viewedByMeTime": lambda f: f.get("viewedByMeTime") or "",
        "sharedWithMeTime": lambda f: f.get("sharedWithMeTime") or "",
    }
    for name, desc in reversed(keys):
        items = sorted(items, key=values[name], reverse=desc)
    return items


# -- export formats of Google-native documents ------------------------------------------
EXPORTS = {
    NATIVE_PREFIX + "document": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.oasis.opendocument.text", "application/pdf", "text/plain"),
    NATIVE_PREFIX + "spreadsheet": (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/x-vnd.oasis.opendocument.spreadsheet", "application/pdf", "text/csv"),
    NATIVE_PREFIX + "presentation": (
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "application/vnd.oasis.opendocument.presentation", "application/pdf"),
    NATIVE_PREFIX + "drawing": ("application/pdf", "image/png", "image/svg+xml"),
}
EXPORT_LIMIT = 10 * 1024 * 1024


class GoogleDriveEmulator(Emulator):
    key = "google_drive"
    tls = True  # media upload URLs keep https after an endpoint override

    def __init__(self, **kwargs):
        self._lock = threading.RLock()
        self.client_id = "emulator-client.apps.googleusercontent.com"
        self.client_secret = "emulator-secret"
        self.clients = {self.client_id: self.client_secret}
        self.access_tokens: dict[str, float] = {}  # token → expiry (epoch seconds)
        self.refresh_tokens: dict[str, str] = {}  # refresh token → client id
        self.codes: dict[str, tuple[str, str]] = {}  # code → (client id, redirect uri)
        self.token_lifetime = 3600
        self.deny = False  # the authorize endpoint answers error=access_denied
        self.service_accounts: dict[str, object] = {}  # email → public key
        self.delegated: set[str] = set()  # service accounts allowed to impersonate users
        self.grants: list[tuple[str, str | None]] = []  # JWT grants given: (iss, sub)
        self.quota_bytes: int | None = None
        self.files: dict[str, dict] = {}
        self.contents: dict[str, bytes] = {}
        self.revisions: dict[str, list[dict]] = {}  # file id -> oldest first, with "data"
        self.native_exports: dict[str, dict[str, bytes]] = {}
        self.drives: dict[str, dict] = {}
        self.uploads: dict[str, dict] = {}
        self.changes: list[tuple[int, str, str | None, bool, str]] = []
        self.change_floor = 1  # page tokens below this one are expired
        self._seq = itertools.count(1)
        self.root = {"id": _new_id("0A") + "PVA", "name": "My Drive", "mimeType": FOLDER,
                     "parents": [], "trashed": False, "createdTime": _now()}
        self._finish(self.root)
        super().__init__(**kwargs)
        self.refresh_token = self.issue_refresh_token()

    # -- test and CLI helpers -----------------------------------------------------------
    @property
    def token_uri(self) -> str:
        return self.url + "/token"

    def provider_config(self, root: str = "") -> dict:
        from .tls import ca_bundle

        return {"api_url": self.url + "/", "token_uri": self.token_uri,
                "auth_uri": self.url + "/o/oauth2/auth",
                "client_id": self.client_id, "client_secret": self.client_secret,
                "refresh_token": self.refresh_token, "root": root, "ca_bundle": ca_bundle()}

    def service_account_key(self, email: str = "sync@project.iam.gserviceaccount.com", *,
                            register: bool = True, delegated: bool = False) -> dict:
        """A new key of service account ``email``, as the console downloads it (JSON).
        ``register`` makes it the account's key here (the previous one stops working);
        ``delegated`` allows the account domain-wide delegation (impersonating users)."""
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        with self._lock:
            if register:
                self.service_accounts[email] = key.public_key()
            if delegated:
                self.delegated.add(email)
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
        return {"type": "service_account", "project_id": "project", "client_email": email,
                "private_key_id": secrets.token_hex(20), "private_key": pem,
                "client_id": str(10**20 + secrets.randbelow(10**20)),
                "token_uri": GOOGLE_TOKEN_URI}

    def issue_refresh_token(self, client_id: str | None = None) -> str:
        token = "1//" + secrets.token_urlsafe(32)
        with self._lock:
            self.refresh_tokens[token] = client_id or self.client_id
        return token

    def issue_access_token(self, lifetime: float | None = None) -> str:
        token = "ya29." + secrets.token_urlsafe(32)
        with self._lock:
            self.access_tokens[token] = time.time() + (lifetime or self.token_lifetime)
        return token

    def revoke_refresh_tokens(self, token: str | None = None) -> None:
        """``token`` (default: every refresh token so far) becomes invalid, as Google
        answers for a revoked or expired grant."""
        with self._lock:
            if token is None:
                self.refresh_tokens.clear()
            else:
                self.refresh_tokens.pop(token, None)

    def expire_access_tokens(self) -> None:
        with self._lock:
            self.access_tokens.clear()

    def expire_cursors(self) -> None:
        with self._lock:
            self.change_floor = self._next_change()

    def create_shared_drive(self, name: str) -> str:
        with self._lock:
            return self._create_drive(name)["id"]

    def seed_native(self, parent_id: str, name: str, mime_type: str,
                    content_by_export_mime: dict[str, bytes]) -> str:
        """Create a Google-native document (Docs, Sheets...) with its export renditions."""
        if not mime_type.startswith(NATIVE_PREFIX) or mime_type == FOLDER:
            raise ValueError(f"not a Google-native document type: {mime_type}")
        with self._lock:
            parent = self._file(parent_id, all_drives=True)
            item = self._insert({"name": name, "mimeType": mime_type}, parent["id"], None)
            self.native_exports[item["id"]] = dict(content_by_export_mime)
            return item["id"]

    def seed_file(self, parent_id: str, name: str, data: bytes) -> str:
        """Create a file directly in the store (fast fixtures; still in the change feed)."""
        with self._lock:
            parent = self._file(parent_id, all_drives=True)
            return self._insert({"name": name}, parent["id"], data)["id"]

    def content(self, file_id: str) -> bytes:
        with self._lock:
            return self.contents[file_id]

    # -- WSGI ---------------------------------------------------------------------------
    def fault_wording(self) -> dict:
        def error_answer(status, retry_after):
            headers = [("Content-Type", "application/json; charset=UTF-8")]
            if retry_after is not None:
                headers.append(("Retry-After", str(int(retry_after))
                                if retry_after == int(retry_after) else str(retry_after)))
            message = _MESSAGES.get(status, "Error")
            reason = _REASONS.get(status, "backendError")
            return f"{status} {_STATUS.get(status, 'Error')}", headers, error_body(
                status, message, reason)

        def expired_answer():
            return ("401 Unauthorized",
                    [("Content-Type", "application/json; charset=UTF-8"),
                     ("WWW-Authenticate", 'Bearer realm="https://accounts.google.com/", '
                                          'error="invalid_token"')],
                    error_body(401, _AUTH_MESSAGE, "authError"))

        return {"error_answer": error_answer, "expired_answer": expired_answer,
                "skip": r"^(POST /token|GET /o/oauth2/)"}

    def make_app(self):
        routes = [
            ("POST", r"/token", self.token),
            ("GET", r"/o/oauth2(?:/v2)?/auth", self.authorize),
            ("GET", r"/(?:file/d/(?P<fid>[^/]+)/view|drive/folders/(?P<did>[^/]+))",
             self.web_view),
            ("GET", r"/uc", self.web_content),
            ("GET", r"/ServiceLogin", self.sign_in),
            ("GET", r"/drive/v3/files", self.list_files),
            ("POST", r"/drive/v3/files", self.create_file),
            ("POST", r"/upload/drive/v3/files", self.create_file),
            ("PUT", r"/upload/drive/v3/files(?:/[^/]+)?", self.upload_chunk),
            ("GET", r"/drive/v3/files/(?P<file_id>[^/]+)", self.get_file),
            ("PATCH", r"/drive/v3/files/(?P<file_id>[^/]+)", self.update_file),
            ("PATCH", r"/upload/drive/v3/files/(?P<file_id>[^/]+)", self.update_file),
            ("DELETE", r"/drive/v3/files/(?P<file_id>[^/]+)", self.delete_file),
            ("GET", r"/drive/v3/files/(?P<file_id>[^/]+)/export", self.export),
            ("POST", r"/drive/v3/files/(?P<file_id>[^/]+)/copy", self.copy_file),
            ("GET", r"/drive/v3/files/(?P<file_id>[^/]+)/revisions", self.list_revisions),
            ("GET", r"/drive/v3/files/(?P<file_id>[^/]+)/revisions/(?P<revision_id>[^/]+)",
             self.get_revision),
            ("PATCH", r"/drive/v3/files/(?P<file_id>[^/]+)/revisions/(?P<revision_id>[^/]+)",
             self.update_revision),
            ("POST", r"/drive/v3/files/(?P<file_id>[^/]+)/permissions", self.create_permission),
            ("GET", r"/drive/v3/files/(?P<file_id>[^/]+)/permissions", self.list_permissions),
            ("GET", r"/drive/v3/changes/startPageToken", self.start_page_token),
            ("GET", r"/drive/v3/changes", self.list_changes),
            ("POST", r"/drive/v3/drives", self.create_drive),
            ("GET", r"/drive/v3/drives", self.list_drives),
            ("GET", r"/drive/v3/drives/(?P<drive_id>[^/]+)", self.get_drive),
            ("GET", r"/drive/v3/about", self.about),
        ]
        compiled = [(m, re.compile(p + r"/?$"), h) for m, p, h in routes]
        public = {self.token, self.authorize, self.web_view, self.web_content,
                  self.sign_in, self.upload_chunk}

        def app(environ, start_response):
            request = Request(environ)
            try:
                for method, pattern, handler in compiled:
                    match = pattern.match(request.path)
                    if match and method == request.method:
                        if handler not in public:
                            self._authenticate(request)
                        args = {k: v for k, v in match.groupdict().items() if v is not None}
                        response = handler(request, **args)
                        break
                else:
                    raise DriveError(404, "Not Found", "notFound")
            except DriveError as exc:
                response = Response(json.dumps(exc.body()), exc.status,
                                    content_type="application/json; charset=UTF-8",
                                    headers=exc.headers)
            return response(environ, start_response)

        return app

    # -- OAuth --------------------------------------------------------------------------
    def _authenticate(self, request: Request) -> None:
        auth = request.headers.get("Authorization", "")
        token = auth[7:] if auth.startswith("Bearer ") else request.args.get("access_token")
        with self._lock:
            expiry = self.access_tokens.get(token or "")
        if expiry is None or expiry < time.time():
            raise DriveError(401, _AUTH_MESSAGE, "authError", headers={
                "WWW-Authenticate": 'Bearer realm="https://accounts.google.com/", '
                                    'error="invalid_token"'})

    def token(self, request: Request) -> Response:
        form = request.form
        grant = form.get("grant_type")

        def oauth_error(error, description, status=400):
            return Response(json.dumps({"error": error, "error_description": description}),
                            status, content_type="application/json; charset=utf-8")

        if grant in ("refresh_token", "authorization_code"):
            client = form.get("client_id")
            if client not in self.clients:
                return oauth_error("invalid_client", "The OAuth client was not found.", 401)
            if self.clients[client] != form.get("client_secret"):
                return oauth_error("invalid_client", "Unauthorized", 401)
        answer = {"expires_in": self.token_lifetime, "scope": SCOPE, "token_type": "Bearer"}
        with self._lock:
            if grant == "refresh_token":
                if self.refresh_tokens.get(form.get("refresh_token")) != form.get("client_id"):
                    return oauth_error("invalid_grant", "Token has been expired or revoked.")
            elif grant == "authorization_code":
                bound = self.codes.pop(form.get("code", ""), None)
                if bound != (form.get("client_id"), form.get("redirect_uri")):
                    return oauth_error("invalid_grant", "Bad Request")
                answer["refresh_token"] = self.issue_refresh_token(form.get("client_id"))
            elif grant == "urn:ietf:params:oauth:grant-type:jwt-bearer":
                problem = self._check_assertion(form.get("assertion", ""))
                if problem and problem.startswith("Client is unauthorized"):
                    return oauth_error("unauthorized_client", problem, 401)
                if problem:
                    return oauth_error("invalid_grant", problem)
            else:
                return oauth_error("unsupported_grant_type", f"Invalid grant_type: {grant}")
        answer["access_token"] = self.issue_access_token()
        return Response(json.dumps(answer), content_type="application/json; charset=utf-8")

    def _check_assertion(self, assertion: str) -> str | None:
        """A service account's JWT: audience, expiry, an RS256 signature by the key
        registered for its issuer, and domain-wide delegation when it names a subject.
        Records the grant; returns Google's refusal text otherwise."""
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        try:
            header_b64, payload_b64, signature_b64 = assertion.split(".")
            header = json.loads(base64.urlsafe_b64decode(header_b64 + "=="))
            claims = json.loads(base64.urlsafe_b64decode(payload_b64 + "=="))
            signature = base64.urlsafe_b64decode(signature_b64 + "==")
        except ValueError:
            return "Invalid JWT"
        # google-auth signs for Google's token URI whatever token_uri says
        if claims.get("aud") not in (self.token_uri, GOOGLE_TOKEN_URI):
            return "Invalid JWT: audience"
        if not claims.get("iss") or float(claims.get("exp", 0)) < time.time():
            return "Invalid JWT: Token must be a short-lived token and in a reasonable timeframe"
        key = self.service_accounts.get(claims["iss"])
        if key is None:
            return "Invalid grant: account not found"
        try:
            if header.get("alg") != "RS256":
                raise ValueError(header.get("alg"))
            key.verify(signature, f"{header_b64}.{payload_b64}".encode(),
                       padding.PKCS1v15(), hashes.SHA256())
        except Exception:  # noqa: BLE001 - any verification failure is a bad grant
            return "Invalid JWT Signature."
        if claims.get("sub") and claims["iss"] not in self.delegated:
            return ("Client is unauthorized to retrieve access tokens using this method, or "
                    "client not authorized for any of the scopes requested.")
        self.grants.append((claims["iss"], claims.get("sub")))
        return None

    def authorize(self, request: Request) -> Response:
        """Google's consent screen (``auto_consent`` skips it): "Allow" redirects back with
        ``code`` and ``state``, "Cancel" with ``error=access_denied``."""
        args = request.args
        redirect_uri, state = args.get("redirect_uri"), args.get("state")
        if args.get("client_id") not in self.clients or not redirect_uri:
            return Response("Error 401: invalid_client", 400, content_type="text/plain")
        decision = consent_answer(self, args, self.deny)
        if decision == "page":
            page = consent_page("Google", args["client_id"],
                                args.get("scope", SCOPE).split(), args.to_dict(), "Allow",
                                "Cancel")
            return Response(page, content_type="text/html; charset=utf-8")
        params = {"state": state} if state is not None else {}
        if decision == "deny":
            params["error"] = "access_denied"
        else:
            code = "4/" + secrets.token_urlsafe(24)
            with self._lock:
                self.codes[code] = (args["client_id"], redirect_uri)
            params.update(code=code, scope=args.get("scope", SCOPE))
        sep = "&" if "?" in redirect_uri else "?"
        return Response("", 302, headers={"Location": redirect_uri + sep + urlencode(params)})

    def _public(self, file_id: str) -> dict | None:
        with self._lock:
            item = self.files.get(file_id)
            if item and any(p["type"] == "anyone" for p in item.get("perms", [])):
                return item
        return None

    def sign_in(self, request: Request) -> Response:
        """Google's sign-in, passed at once (the emulator's one user): a session cookie,
        then back to ``continue``, so a browser or a test can follow an internal link."""
        target = request.args.get("continue") or self.url + "/"
        if not target.startswith(self.url + "/"):
            return Response("Error 400: invalid continue", 400, content_type="text/plain")
        response = Response("", 302, headers={"Location": target})
        response.set_cookie("SID", SIGNED_IN, httponly=True)
        return response

    def web_view(self, request: Request, fid: str = "", did: str = "") -> Response:
        """``webViewLink``: a page naming the item; items shared with anyone open without
        signing in, the others for the signed-in user (else the sign-in page)."""
        item = self._public(fid or did)
        if item is None and request.cookies.get("SID") == SIGNED_IN:
            with self._lock:
                item = self.files.get(fid or did)
            if item is None or item.get("trashed"):
                return Response("<html><title>Not found</title></html>", 404,
                                content_type="text/html")
        if item is None:
            here = self.url + request.full_path.rstrip("?")
            return Response("", 302, headers={
                "Location": f"{self.url}/ServiceLogin?{urlencode({'continue': here})}"})
        name = html.escape(item["name"])
        return Response(f"<html><title>{name} - Google Drive</title><body><h1>{name}</h1>"
                        f"</body></html>", content_type="text/html; charset=utf-8")

    def web_content(self, request: Request) -> Response:
        """``webContentLink``: the bytes of a public file, else the sign-in page."""
        item = self._public(request.args.get("id", ""))
        with self._lock:
            data = self.contents.get(item["id"]) if item else None
        if data is None:
            return Response("", 302, headers={"Location": self.url + "/ServiceLogin"})
        return Response(data, content_type=item["mimeType"])

    # -- store helpers (call with the lock held) --------------------------------------------
    def _next_change(self) -> int:
        return (self.changes[-1][0] + 1) if self.changes else 1

    def _record(self, item: dict, removed: bool = False) -> None:
        self.changes.append((self._next_change(), item["id"], item.get("driveId"), removed,
                             _now()))

    def _finish(self, item: dict) -> dict:
        item.setdefault("seq", next(self._seq))
        self.files[item["id"]] = item
        return item

    def _create_drive(self, name: str) -> dict:
        drive_id = _new_id("0A") + "PVA"
        drive = {"kind": "drive#drive", "id": drive_id, "name": name, "createdTime": _now()}
        self.drives[drive_id] = drive
        self._finish({"id": drive_id, "name": name, "mimeType": FOLDER, "parents": [],
                      "trashed": False, "driveId": drive_id, "createdTime": _now()})
        return drive

    def _file(self, file_id: str, all_drives: bool, trashed_ok: bool = True) -> dict:
        item = self.root if file_id == "root" else self.files.get(file_id)
        if item is None or (item.get("driveId") and not all_drives) or (
                item.get("trashed") and not trashed_ok):
            raise DriveError(404, f"File not found: {file_id}.", "notFound", "fileId")
        return item

    def _parent(self, parent_id: str, all_drives: bool) -> dict:
        parent = self._file(parent_id, all_drives)
        if parent["mimeType"] != FOLDER:
            raise DriveError(400, "The specified parent is not a folder.", "invalidParent")
        return parent

    def _check_name(self, name) -> None:
        if not isinstance(name, str) or len(name) > MAX_NAME:
            raise DriveError(400, "Invalid Value", "invalid", "name")

    def _insert(self, meta: dict, parent_id: str, content: bytes | None) -> dict:
        now = _now()
        name = meta.get("name") or "Untitled"
        self._check_name(name)
        mime = meta.get("mimeType") or "application/octet-stream"
        parent = self.files[parent_id] if parent_id != "root" else self.root
        item = {"id": _new_id(), "name": name, "mimeType": mime, "parents": [parent["id"]],
                "trashed": False, "explicitlyTrashed": False, "createdTime": now,
                "modifiedTime": now, "version": 1, "perms": []}
        if parent.get("driveId"):
            item["driveId"] = parent["driveId"]
        if "description" in meta:
            item["description"] = meta["description"]
        self._finish(item)
        if content is not None or not (mime == FOLDER or mime.startswith(NATIVE_PREFIX)):
            self._set_content(item, content or b"")
        self._record(item)
        return item

    def _used(self) -> int:
        return sum(len(c) for c in self.contents.values())

    def _set_content(self, item: dict, content: bytes) -> None:
        if self.quota_bytes is not None:
            old = len(self.contents.get(item["id"], b""))
            if self._used() - old + len(content) > self.quota_bytes:
                raise DriveError(403, "The user's Drive storage quota has been exceeded.",
                                 "storageQuotaExceeded")
        self.contents[item["id"]] = content
        item.update(size=str(len(content)), md5Checksum=hashlib.md5(content).hexdigest(),
                    sha1Checksum=hashlib.sha1(content).hexdigest(),
                    sha256Checksum=hashlib.sha256(content).hexdigest(),
                    headRevisionId="0B" + secrets.token_urlsafe(18), modifiedTime=_now())
        revisions = self.revisions.setdefault(item["id"], [])
        revisions.append({
            "kind": "drive#revision", "id": item["headRevisionId"],
            "mimeType": item["mimeType"], "modifiedTime": item["modifiedTime"],
            "keepForever": False, "published": False, "originalFilename": item["name"],
            "md5Checksum": item["md5Checksum"], "size": item["size"],
            "lastModifyingUser": {"kind": "drive#user", "displayName": "Emulator User",
                                  "emailAddress": "user@example.com", "me": True},
            "data": content})
        purgeable = [r for r in revisions[:-1] if not r["keepForever"]]
        for old in purgeable[:max(0, len(purgeable) + 1 - MAX_REVISIONS)]:
            revisions.remove(old)

    def _touch(self, item: dict) -> None:
        item["version"] = item.get("version", 1) + 1
        self._record(item)

    def _resource(self, item: dict) -> dict:
        """The v3 File resource of ``item``."""
        folder = item["mimeType"] == FOLDER
        out = {k: v for k, v in item.items() if k not in ("seq", "perms")}
        out["kind"] = "drive#file"
        out["version"] = str(item.get("version", 1))
        out["webViewLink"] = (f"{self.url}/drive/folders/{item['id']}" if folder
                              else f"{self.url}/file/d/{item['id']}/view?usp=drivesdk")
        if "md5Checksum" in item:
            out["webContentLink"] = f"{self.url}/uc?id={item['id']}&export=download"
        if item["mimeType"] in EXPORTS:
            out["exportLinks"] = {
                m: f"{self.url}/drive/v3/files/{item['id']}/export?mimeType={m}"
                for m in EXPORTS[item["mimeType"]]}
        out["shared"] = bool(item.get("perms"))
        if item is self.root or item["id"] in self.drives:
            out.pop("parents", None)
        return out

    def _answer(self, request: Request, value: dict, default: str = DEFAULT_FILE_FIELDS,
                status: int = 200) -> Response:
        tree = parse_fields(request.args.get("fields") or default)
        kind = value["kind"].partition("#")[2]
        check_fields(tree, kind[:1].upper() + kind[1:])
        return Response(json.dumps(select(tree, value)), status,
                        content_type="application/json; charset=UTF-8")

    @staticmethod
    def _flag(request: Request, name: str) -> bool:
        return request.args.get(name, "false").lower() == "true"

    def _all_drives(self, request: Request) -> bool:
        return self._flag(request, "supportsAllDrives") or self._flag(
            request, "supportsTeamDrives")

    # -- files ----------------------------------------------------------------------------
    def _metadata_and_media(self, request: Request) -> tuple[dict, bytes | None]:
        upload_type = request.args.get("uploadType")
        data = request.get_data()
        if upload_type == "multipart":
            return _parse_multipart(request.content_type or "", data)
        if upload_type == "media":  # a new file takes the media's type, an update keeps its own
            return ({"mimeType": request.content_type} if request.method == "POST" else {}), data
        try:
            return (json.loads(data) if data else {}), None
        except ValueError as exc:
            raise DriveError(400, "Invalid JSON payload received.", "parseError") from exc

    def create_file(self, request: Request) -> Response:
        meta, media = self._metadata_and_media(request)
        all_drives = self._all_drives(request)
        parents = meta.get("parents") or ["root"]
        if len(parents) != 1:
            raise DriveError(403, "A shared drive item must have exactly one parent.",
                             "cannotAddParent")
        with self._lock:
            parent = self._parent(parents[0], all_drives)
            if request.args.get("uploadType") == "resumable":
                return self._start_session(request, meta, parent_id=parent["id"])
            item = self._insert(meta, parent["id"], media)
            return self._answer(request, self._resource(item))

    def update_file(self, request: Request, file_id: str) -> Response:
        meta, media = self._metadata_and_media(request)
        all_drives = self._all_drives(request)
        with self._lock:
            item = self._file(file_id, all_drives)
            if request.args.get("uploadType") == "resumable":
                return self._start_session(request, meta, file_id=item["id"])
            self._apply_update(request, item, meta, media)
            return self._answer(request, self._resource(item))

    def _apply_update(self, request: Request, item: dict, meta: dict,
                      media: bytes | None) -> None:
        all_drives = self._all_drives(request)
        add = [p for p in (request.args.get("addParents") or "").split(",") if p]
        remove = [p for p in (request.args.get("removeParents") or "").split(",") if p]
        for key in ("parents", "id", "driveId", "size", "md5Checksum"):
            if key in meta:
                raise DriveError(403, f"The resource body includes fields which are not "
                                      f"directly writable. ({key})", "fieldNotWritable")
        if "name" in meta:
            self._check_name(meta["name"])
        parents = [p for p in item.get("parents", []) if p not in remove]
        for pid in add:
            parent = self._parent(pid, all_drives)
            if parent.get("driveId") != item.get("driveId"):
                raise DriveError(403, "Moving items between drives is not supported here.",
                                 "teamDrivesParentLimit")
            if item["mimeType"] == FOLDER and self._is_below(parent["id"], item["id"]):
                raise DriveError(400, "A folder cannot be moved into its own subtree.",
                                 "invalidParent")
            parents.append(parent["id"])
        if item is self.root or item["id"] in self.drives:
            if add or remove:
                raise DriveError(403, "The root folder cannot be moved.", "cannotModifyRoot")
        elif len(parents) != 1:
            raise DriveError(403, "Increasing the number of parents is not allowed.",
                             "cannotAddParent")
        else:
            item["parents"] = parents
        for key in ("name", "description", "mimeType"):
            if key in meta and not (key == "mimeType" and item["mimeType"] == FOLDER):
                item[key] = meta[key]
        if media is not None:
            self._set_content(item, media)
        if "trashed" in meta:
            self._trash(item, bool(meta["trashed"]))
        else:
            item["modifiedTime"] = _now() if media is not None else item["modifiedTime"]
            self._touch(item)

    def _is_below(self, file_id: str, ancestor_id: str) -> bool:
        seen = set()
        while file_id and file_id not in seen:
            if file_id == ancestor_id:
                return True
            seen.add(file_id)
            parents = self.files.get(file_id, {}).get("parents") or [None]
            file_id = parents[0]
        return False

    def _descendants(self, folder_id: str) -> list[dict]:
        out, stack = [], [folder_id]
        while stack:
            pid = stack.pop()
            for child in self.files.values():
                if pid in child.get("parents", []):
                    out.append(child)
                    stack.append(child["id"])
        return out

    def _trash(self, item: dict, trashed: bool) -> None:
        item.update(trashed=trashed, explicitlyTrashed=trashed)
        self._touch(item)
        for child in self._descendants(item["id"]):
            if not child.get("explicitlyTrashed"):
                child["trashed"] = trashed
                self._touch(child)

    def delete_file(self, request: Request, file_id: str) -> Response:
        with self._lock:
            item = self._file(file_id, self._all_drives(request))
            if item is self.root or item["id"] in self.drives:
                raise DriveError(403, "The root folder cannot be deleted.", "cannotDeleteRoot")
            for gone in [*self._descendants(item["id"]), item]:
                self.files.pop(gone["id"], None)
                self.contents.pop(gone["id"], None)
                self.revisions.pop(gone["id"], None)
                self._record(gone, removed=True)
        return Response(status=204)

    def get_file(self, request: Request, file_id: str) -> Response:
        with self._lock:
            item = self._file(file_id, self._all_drives(request))
            if request.args.get("alt") != "media":
                return self._answer(request, self._resource(item))
            if item["id"] not in self.contents:
                raise DriveError(403, "Only files with binary content can be downloaded. "
                                      "Use Export with Docs Editors files.",
                                 "fileNotDownloadable", "alt")
            data = self.contents[item["id"]]
        return _ranged(request, data, item["mimeType"])

    def export(self, request: Request, file_id: str) -> Response:
        mime = request.args.get("mimeType", "")
        with self._lock:  # files.export has no supportsAllDrives parameter
            item = self._file(file_id, True)
            renditions = self.native_exports.get(item["id"])
            if renditions is None:
                raise DriveError(403, "Export only supports Docs Editors files.",
                                 "fileNotExportable")
            if mime not in EXPORTS.get(item["mimeType"], ()) or mime not in renditions:
                raise DriveError(400, "The requested conversion is not supported.",
                                 "badRequest", "convertTo")
            data = renditions[mime]
        if len(data) > EXPORT_LIMIT:
            raise DriveError(403, "This file is too large to be exported.",
                             "exportSizeLimitExceeded")
        return Response(data, content_type=mime)

    def copy_file(self, request: Request, file_id: str) -> Response:
        meta, _media = self._metadata_and_media(request)
        all_drives = self._all_drives(request)
        with self._lock:
            source = self._file(file_id, all_drives, trashed_ok=False)
            if source["id"] not in self.contents:
                raise DriveError(403, "This file cannot be copied by the user.",
                                 "cannotCopyFile")
            parents = meta.get("parents") or source.get("parents") or ["root"]
            if len(parents) != 1:
                raise DriveError(403, "A shared drive item must have exactly one parent.",
                                 "cannotAddParent")
            parent = self._parent(parents[0], all_drives)
            body = {"name": meta.get("name") or f"Copy of {source['name']}",
                    "mimeType": meta.get("mimeType") or source["mimeType"]}
            if "description" in meta or "description" in source:
                body["description"] = meta.get("description", source.get("description"))
            item = self._insert(body, parent["id"], self.contents[source["id"]])
            if self._flag(request, "keepRevisionForever"):
                self.revisions[item["id"]][-1]["keepForever"] = True
            return self._answer(request, self._resource(item))

    # -- revisions ------------------------------------------------------------------------
    def _revisions_of(self, file_id: str) -> list[dict]:
        item = self._file(file_id, True)  # the revisions methods take no supportsAllDrives
        if item["id"] not in self.revisions:
            raise DriveError(403, "The file does not support revisions.",
                             "revisionsNotSupported")
        return self.revisions[item["id"]]

    def _revision(self, file_id: str, revision_id: str) -> dict:
        revisions = self._revisions_of(file_id)
        for revision in revisions:
            if revision["id"] == revision_id:
                return revision
        raise DriveError(404, f"Revision not found: {revision_id}.", "notFound",
                         "revisionId")

    @staticmethod
    def _revision_resource(revision: dict) -> dict:
        return {k: v for k, v in revision.items() if k != "data"}

    def list_revisions(self, request: Request, file_id: str) -> Response:
        try:
            size = int(request.args.get("pageSize", DEFAULT_REVISION_PAGE))
        except ValueError as exc:
            raise DriveError(400, "Invalid Value", "invalid", "pageSize") from exc
        if not 1 <= size <= MAX_REVISION_PAGE:
            raise DriveError(400, "Invalid Value", "invalid", "pageSize")
        offset = _decode_page_token(request.args.get("pageToken"), "revisions:" + file_id)
        with self._lock:
            revisions = [self._revision_resource(r) for r in self._revisions_of(file_id)]
        body = {"kind": "drive#revisionList", "revisions": revisions[offset:offset + size]}
        if offset + size < len(revisions):
            body["nextPageToken"] = _encode_page_token(offset + size, "revisions:" + file_id)
        return self._answer(request, body, f"kind,nextPageToken,"
                                           f"revisions({DEFAULT_REVISION_FIELDS})")

    def get_revision(self, request: Request, file_id: str, revision_id: str) -> Response:
        with self._lock:
            revision = self._revision(file_id, revision_id)
            if request.args.get("alt") != "media":
                return self._answer(request, self._revision_resource(revision),
                                    DEFAULT_REVISION_FIELDS)
        return _ranged(request, revision["data"], revision["mimeType"])

    def update_revision(self, request: Request, file_id: str, revision_id: str) -> Response:
        meta, _media = self._metadata_and_media(request)
        for key in meta:
            if key != "keepForever":
                raise DriveError(403, f"The resource body includes fields which are not "
                                      f"directly writable. ({key})", "fieldNotWritable")
        with self._lock:
            revision = self._revision(file_id, revision_id)
            if "keepForever" in meta:
                revision["keepForever"] = bool(meta["keepForever"])
            return self._answer(request, self._revision_resource(revision),
                                DEFAULT_REVISION_FIELDS)

    def list_files(self, request: Request) -> Response:
        args = request.args
        terms = parse_q(args.get("q", ""))
        order = order_key(args.get("orderBy"))
        bound = args.get("q", "") + "\x00" + args.get("orderBy", "")
        drive_id = args.get("driveId")
        corpora = args.get("corpora", "user")
        all_items = self._flag(request, "includeItemsFromAllDrives") or self._flag(
            request, "includeTeamDriveItems")
        if drive_id and (corpora != "drive" or not all_items or not self._all_drives(request)):
            raise DriveError(403, "The driveId parameter requires corpora=drive, "
                                  "includeItemsFromAllDrives and supportsAllDrives.",
                             "teamDriveIdRequiresCorpora")
        size = _page_size(args)
        offset = _decode_page_token(args.get("pageToken"), bound)
        with self._lock:
            if drive_id and drive_id not in self.drives:
                raise DriveError(404, f"Shared drive not found: {drive_id}", "notFound",
                                 "driveId")
            matches = []
            for item in sorted(self.files.values(), key=lambda f: f["seq"]):
                if item is self.root or item["id"] in self.drives:
                    continue
                if drive_id and item.get("driveId") != drive_id:
                    continue
                if not drive_id and item.get("driveId") and not all_items:
                    continue
                if _q_matches(terms, item):
                    matches.append(item)
            matches = [self._resource(item) for item in sort_items(matches, order)]
        page = matches[offset:offset + size]
        body = {"kind": "drive#fileList", "incompleteSearch": False, "files": page}
        if offset + size < len(matches):
            body["nextPageToken"] = _encode_page_token(offset + size, bound)
        return self._answer(request, body, f"kind,incompleteSearch,nextPageToken,"
                                           f"files({DEFAULT_FILE_FIELDS})")

    # -- resumable uploads --------------------------------------------------------------
    def _start_session(self, request: Request, meta: dict, *, parent_id: str | None = None,
                       file_id: str | None = None) -> Response:
        upload_id = secrets.token_urlsafe(24)
        total = request.headers.get("X-Upload-Content-Length")
        self.uploads[upload_id] = {
            "meta": meta, "parent_id": parent_id, "file_id": file_id, "data": bytearray(),
            "total": int(total) if total else None, "args": request.args.to_dict(),
            "mime": request.headers.get("X-Upload-Content-Type")}
        path = "/upload/drive/v3/files" + (f"/{file_id}" if file_id else "")
        location = f"{self.url}{path}?uploadType=resumable&upload_id={upload_id}"
        return Response("", 200, headers={"Location": location, "X-GUploader-UploadID":
                                          upload_id})

    def upload_chunk(self, request: Request) -> Response:
        upload_id = request.args.get("upload_id", "")
        data = request.get_data()
        with self._lock:
            session = self.uploads.get(upload_id)
            if session is None:
                raise DriveError(404, "Upload session not found or expired.", "notFound")
            fake = Request.from_values(query_string=urlencode(session["args"]))
            if "done" in session:  # a retry or status query after the last chunk
                return self._answer(fake, self._resource(self._file(session["done"], True)))
            received = session["data"]
            start, end, total = _content_range(request.headers.get("Content-Range"), len(data))
            if total is not None:
                session["total"] = total
            if start is not None:
                if start > len(received):
                    return _incomplete(len(received))
                data = data[len(received) - start:]  # a retried chunk may overlap
                final = session["total"] is not None and end + 1 >= session["total"]
                if not final and (end + 1) % UPLOAD_QUANTUM:
                    raise DriveError(400, "Invalid request. The number of bytes uploaded is "
                                          "required to be a multiple of 262144 bytes, except "
                                          "for the last request.", "badRequest")
                received += data
            if session["total"] is None or len(received) < session["total"]:
                return _incomplete(len(received))
            if len(received) != session["total"]:
                raise DriveError(400, "Upload exceeded the declared length.", "badRequest")
            meta = dict(session["meta"])
            if session["mime"] and "mimeType" not in meta and session["file_id"] is None:
                meta["mimeType"] = session["mime"]
            if session["file_id"]:
                item = self._file(session["file_id"], True)
                self._apply_update(fake, item, meta, bytes(received))
            else:
                self._parent(session["parent_id"], True)
                item = self._insert(meta, session["parent_id"], bytes(received))
            session.update(done=item["id"], data=bytearray())
            return self._answer(fake, self._resource(item))

    # -- permissions ----------------------------------------------------------------------
    def create_permission(self, request: Request, file_id: str) -> Response:
        body = json.loads(request.get_data() or b"{}")
        if body.get("type") not in ("user", "group", "domain", "anyone") or body.get(
                "role") not in ("owner", "organizer", "fileOrganizer", "writer", "commenter",
                                "reader"):
            raise DriveError(400, "Invalid permission type or role.", "invalid")
        with self._lock:
            item = self._file(file_id, self._all_drives(request))
            perm_id = "anyoneWithLink" if body["type"] == "anyone" else _new_id("0")
            perm = {"kind": "drive#permission", "id": perm_id, "type": body["type"],
                    "role": body["role"],
                    "allowFileDiscovery": bool(body.get("allowFileDiscovery", False))}
            for key in ("emailAddress", "domain"):
                if key in body:
                    perm[key] = body[key]
            item["perms"] = [p for p in item["perms"] if p["id"] != perm_id] + [perm]
            self._touch(item)
        return self._answer(request, perm, "kind,id,type,role")

    def list_permissions(self, request: Request, file_id: str) -> Response:
        with self._lock:
            item = self._file(file_id, self._all_drives(request))
            perms = list(item["perms"])
        return self._answer(request, {"kind": "drive#permissionList", "permissions": perms},
                            "kind,permissions(kind,id,type,role)")

    # -- changes --------------------------------------------------------------------------
    def start_page_token(self, request: Request) -> Response:
        drive_id = request.args.get("driveId")
        with self._lock:
            if drive_id and (drive_id not in self.drives or not self._all_drives(request)):
                raise DriveError(404, f"Shared drive not found: {drive_id}", "notFound",
                                 "driveId")
            token = str(self._next_change())
        return self._answer(request, {"kind": "drive#startPageToken",
                                      "startPageToken": token}, "kind,startPageToken")

    def list_changes(self, request: Request) -> Response:
        args = request.args
        token = args.get("pageToken", "")
        drive_id = args.get("driveId")
        all_items = self._flag(request, "includeItemsFromAllDrives") or self._flag(
            request, "includeTeamDriveItems")
        include_removed = args.get("includeRemoved", "true").lower() == "true"
        size = _page_size(args)
        with self._lock:
            if not token.isdigit() or not self.change_floor <= int(token) <= self._next_change():
                raise DriveError(400, "Invalid Value", "invalid", "pageToken")
            if drive_id and (drive_id not in self.drives or not self._all_drives(request)):
                raise DriveError(404, f"Shared drive not found: {drive_id}", "notFound",
                                 "driveId")
            latest: dict[str, tuple] = {}
            # the journal is in number order: start at the token, as Drive's cost is the
            # changes since it, not the account's whole history
            start = bisect.bisect_left(self.changes, int(token), key=lambda e: e[0])
            for entry in itertools.islice(self.changes, start, None):
                file_id, entry_drive = entry[1], entry[2]
                if drive_id and entry_drive != drive_id:
                    continue
                if not drive_id and entry_drive and not all_items:
                    continue
                latest.pop(file_id, None)
                latest[file_id] = entry
            entries = [e for e in latest.values() if include_removed or not e[3]]
            entries.sort(key=lambda e: e[0])
            page, more = entries[:size], len(entries) > size
            changes = []
            for _no, file_id, entry_drive, removed, when in page:
                item = self.files.get(file_id)
                change = {"kind": "drive#change", "changeType": "file", "time": when,
                          "removed": removed or item is None, "fileId": file_id}
                if entry_drive:
                    change["driveId"] = entry_drive
                if item is not None and not removed:
                    change["file"] = self._resource(item)
                changes.append(change)
            body = {"kind": "drive#changeList", "changes": changes}
            if more:
                body["nextPageToken"] = str(page[-1][0] + 1)
            else:
                body["newStartPageToken"] = str(self._next_change())
        return self._answer(request, body, "kind,nextPageToken,newStartPageToken,changes("
                                           "kind,changeType,time,removed,fileId,driveId,"
                                           f"file({DEFAULT_FILE_FIELDS}))")

    # -- shared drives ------------------------------------------------------------------
    def create_drive(self, request: Request) -> Response:
        body = json.loads(request.get_data() or b"{}")
        if not request.args.get("requestId"):
            raise DriveError(400, "Required parameter: requestId", "required", "requestId")
        with self._lock:
            drive = self._create_drive(body.get("name") or "Untitled")
        return self._answer(request, drive, "kind,id,name")

    def list_drives(self, request: Request) -> Response:
        size = min(int(request.args.get("pageSize", 10)), 100)
        offset = _decode_page_token(request.args.get("pageToken"), "drives")
        with self._lock:
            drives = list(self.drives.values())
        body = {"kind": "drive#driveList", "drives": drives[offset:offset + size]}
        if offset + size < len(drives):
            body["nextPageToken"] = _encode_page_token(offset + size, "drives")
        return self._answer(request, body, "kind,nextPageToken,drives(kind,id,name)")

    def get_drive(self, request: Request, drive_id: str) -> Response:
        with self._lock:
            drive = self.drives.get(drive_id)
        if drive is None:
            raise DriveError(404, f"Shared drive not found: {drive_id}", "notFound", "driveId")
        return self._answer(request, drive, "kind,id,name")

    def about(self, request: Request) -> Response:
        with self._lock:
            used = self._used()
        quota = {"usage": str(used), "usageInDrive": str(used)}
        if self.quota_bytes is not None:
            quota["limit"] = str(self.quota_bytes)
        return self._answer(request, {"kind": "drive#about", "storageQuota": quota,
                                      "user": {"displayName": "Emulator User",
                                               "emailAddress": "user@example.com"}},
                            "kind,storageQuota,user")


# -- request helpers -----------------------------------------------------------------------
def _page_size(args) -> int:
    try:
        size = int(args.get("pageSize", DEFAULT_PAGE))
    except ValueError as exc:
        raise DriveError(400, "Invalid Value", "invalid", "pageSize") from exc
    if size < 1:
        raise DriveError(400, "Invalid Value", "invalid", "pageSize")
    return min(size, MAX_PAGE)


def _encode_page_token(offset: int, scope: str) -> str:
    digest = hashlib.sha1(scope.encode()).hexdigest()[:8]
    return base64.urlsafe_b64encode(f"{offset}:{digest}".encode()).decode()


def _decode_page_token(token: str | None, scope: str) -> int:
    if not token:
        return 0
    try:
        offset, digest = base64.urlsafe_b64decode(token.encode()).decode().split(":")
        if digest == hashlib.sha1(scope.encode()).hexdigest()[:8]:
            return int(offset)
    except ValueError:
        pass
    raise DriveError(400, "Invalid Value", "invalid", "pageToken")


def _content_range(header: str | None, length: int):
    """``(start, end, total)`` of a resumable PUT; start None for a status query."""
    if not header:
        return (None, None, length) if length == 0 else (0, length - 1, length)
    match = re.fullmatch(r"bytes (?:(\d+)-(\d+)|\*)/(\d+|\*)", header.strip())
    if not match:
        raise DriveError(400, "Invalid Content-Range header.", "badRequest")
    total = None if match.group(3) == "*" else int(match.group(3))
    if match.group(1) is None:
        return None, None, total
    start, end = int(match.group(1)), int(match.group(2))
    if end - start + 1 != length:
        raise DriveError(400, "Content-Range does not match the body length.", "badRequest")
    return start, end, total


def _incomplete(received: int) -> Response:
    headers = {"Range": f"bytes=0-{received - 1}"} if received else {}
    return Response("", 308, headers=headers)


def _ranged(request: Request, data: bytes, mime: str) -> Response:
    header = request.headers.get("Range")
    if not header:
        return Response(data, content_type=mime)
    match = re.fullmatch(r"bytes=(\d+)-(\d*)", header.strip())
    if not match:
        return Response(data, content_type=mime)
    start = int(match.group(1))
    end = min(int(match.group(2)) if match.group(2) else len(data) - 1, len(data) - 1)
    if start >= len(data):
        return Response("", 416, headers={"Content-Range": f"bytes */{len(data)}"})
    return Response(data[start:end + 1], 206, content_type=mime,
                    headers={"Content-Range": f"bytes {start}-{end}/{len(data)}"})


def _parse_multipart(content_type: str, body: bytes) -> tuple[dict, bytes]:
    """The two parts of a ``multipart/related`` upload: JSON metadata and the media."""
    match = re.search(r'boundary="?([^";]+)"?', content_type)
    if not content_type.startswith("multipart/related") or not match:
        raise DriveError(400, "Invalid multipart request.", "badContent")
    delimiter = b"--" + match.group(1).encode()
    start = body.find(delimiter)
    if start < 0:
        raise DriveError(400, "Invalid multipart request.", "badContent")
    after = body[start + len(delimiter):start + len(delimiter) + 2]
    newline = b"\r\n" if after == b"\r\n" else b"\n"
    parts = []
    for chunk in body[start:].split(newline + delimiter)[0:]:
        chunk = chunk[len(delimiter):] if chunk.startswith(delimiter) else chunk
        if chunk.startswith(b"--"):
            break
        chunk = chunk[len(newline):]
        head, sep, payload = chunk.partition(newline + newline)
        if not sep:
            raise DriveError(400, "Invalid multipart request.", "badContent")
        headers = dict(
            line.split(b":", 1) for line in head.split(newline) if b":" in line)
        parts.append(({k.strip().lower(): v.strip() for k, v in headers.items()}, payload))
    if len(parts) != 2:
        raise DriveError(400, "Invalid multipart request: expected metadata and media.",
                         "badContent")
    try:
        meta = json.loads(parts[0][1] or b"{}")
    except ValueError as exc:
        raise DriveError(400, "Invalid JSON payload received.", "parseError") from exc
    media_type = parts[1][0].get(b"content-type", b"").decode()
    if media_type and "mimeType" not in meta:
        meta["mimeType"] = media_type
    return meta, parts[1][1]


def make_emulator(host: str = "127.0.0.1", port: int = 0, data_dir: str | None = None):
    return GoogleDriveEmulator(host=host, port=port, data_dir=data_dir)


__all__ = ["EXPORTS", "FOLDER", "GoogleDriveEmulator", "make_emulator"]
