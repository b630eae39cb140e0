"""Microsoft Graph (OneDrive / SharePoint) and Microsoft identity platform emulator.

Speaks what msal and a Graph client over ``requests`` send: OpenID discovery, the
authorize and token endpoints (v2.0), drives, SharePoint sites and their document
libraries, drive items (children pages, path addressing, create, simple upload, upload
sessions, download redirects, PATCH rename/move, DELETE to the recycle bin, createLink)
``delta`` with delta links and the 410 resync answer, and site search (``/sites?search=``,
paged like Graph). Written from the public Graph reference; HTTPS only, because msal
refuses a non-https authority. Sites are addressed by id or ``hostname:/sites/name``;
their ``webUrl`` is the SharePoint address (``https://<hostname>/sites/<name>``), which
the emulator does not serve.

Picker and versions: children pages by ``$top`` and ``@odata.nextLink``; ``search(q=)``
(every word of the query in the name or, for text, the content, case-insensitive; paged
the same way; on business and SharePoint drives a search from any folder covers the whole
drive, as Graph's does); ``copy`` answers ``202 Accepted`` with a ``Location`` monitor URL
(no auth) whose status is ``inProgress`` for :attr:`OneDriveEmulator.copy_polls` polls,
then ``completed`` with ``resourceId`` (a name clash: ``failed`` with
``nameAlreadyExists``); every content write keeps a version (``1.0``, ``2.0``..., the
newest first, at most 25 on personal drives and 500 elsewhere), ``versions``,
``versions/{id}``, ``versions/{id}/content`` (302) and ``versions/{id}/restoreVersion``
(204; the restored bytes become a new version).

In memory, one lock. Item ids, eTags, cTags and tokens are opaque strings, as on the real
service; hashes follow the drive type (quickXorHash everywhere, sha1Hash on personal).
"""

from __future__ import annotations

import base64
import bisect
import hashlib
import itertools
import json
import mimetypes
import re
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from html import escape
from urllib.parse import parse_qs, quote, urlencode

from ..hashing import hash_bytes
from .base import Emulator, consent_answer, consent_page

GRAPH_PREFIX = "/v1.0"
PAGE_SIZE = 200  # Graph's default page size for children and delta
MAX_PAGE_SIZE = 1000
SIMPLE_UPLOAD_LIMIT = 4 * 1024 * 1024
FRAGMENT_UNIT = 320 * 1024
MAX_FRAGMENT = 60 * 1024 * 1024
FORBIDDEN_CHARS = set('"*:<>?/\\|')
RESERVED_NAMES = {".lock", "con", "prn", "aux", "nul", "desktop.ini"} | {
    f"{p}{n}" for p in ("com", "lpt") for n in range(10)
}
TENANT_ID = "9188040d-6c67-4c5b-b112-36a304b66dad"
USER_ID = "00000000-0000-0000-66f3-3332eca7ea81"
CLIENT_ID = "onedrive-emulator-client"
CLIENT_SECRET = "onedrive-emulator-secret"
SITE_ID = "contoso.sharepoint.com,2c712aa4-0c52-4ce3-ae6e-4b71d7e4d4a8,2a4e7b4d-0c4b-4e8a-9f0a"

_STATUS = {200: "OK", 201: "Created", 202: "Accepted", 204: "No Content", 302: "Found",
           400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
           405: "Method Not Allowed", 409: "Conflict", 410: "Gone", 412: "Precondition Failed",
           413: "Payload Too Large", 416: "Requested Range Not Satisfiable",
           429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway",
           503: "Service Unavailable", 504: "Gateway Timeout", 507: "Insufficient Storage"}
_FAULT_CODES = {429: ("activityLimitReached", "The app or user has been throttled."),
                500: ("generalException", "An unspecified error has occurred."),
                502: ("badGateway", "The service is temporarily unavailable."),
                503: ("serviceNotAvailable", "The service is not available. Try the request "
                      "again after a delay. There may be a Retry-After header."),
                504: ("gatewayTimeout", "The service did not answer in time.")}


class GraphError(Exception):
    def __init__(self, status: int, code: str, message: str, headers=()):
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, list(headers)


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _web_page(name: str):
    """The page a web link opens: a minimal page naming the item."""
    page = (f"<!DOCTYPE html><html><head><title>{escape(name)}</title></head>"
            f"<body><h1>{escape(name)}</h1></body></html>")
    return 200, [("Content-Type", "text/html; charset=utf-8")], page.encode()


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def error_body(code: str, message: str) -> bytes:
    inner = {"date": _now()[:19], "request-id": str(uuid.uuid4()),
             "client-request-id": str(uuid.uuid4())}
    return json.dumps({"error": {"code": code, "message": message,
                                 "innerError": inner}}).encode()


def check_name(name: str) -> None:
    """Refuse names OneDrive refuses, with Graph's 400 invalidRequest."""
    lowered = name.casefold()
    if (not name or name != name.strip() or set(name) & FORBIDDEN_CHARS
            or lowered in RESERVED_NAMES or lowered.split(".", 1)[0] in RESERVED_NAMES
            or "_vti_" in lowered or lowered.startswith("~$") or len(name) > 255
            or any(ord(c) < 32 for c in name)):
        raise GraphError(400, "invalidRequest", f"The name {name!r} is not valid.")


@dataclass
class Drive:
    id: str
    drive_type: str  # personal | business | documentLibrary
    name: str
    root_id: str
    site_id: str | None = None
    quota: int = 1 << 40
    used: int = 0  # bytes of every file version kept, the recycle bin included


@dataclass
class Site:
    id: str  # hostname,site-collection-guid,web-guid
    name: str  # the address: https://<hostname>/sites/<name>
    display_name: str
    hostname: str = "contoso.sharepoint.com"
    drives: list[str] = field(default_factory=list)
    created: str = field(default_factory=_now)

    @property
    def path(self) -> str:
        return f"/sites/{self.name}"


@dataclass
class Node:
    id: str
    drive: Drive
    name: str
    parent: str | None
    folder: bool
    content: bytes = b""
    created: str = field(default_factory=_now)
    modified: str = ""
    etag: int = 1
    ctag: int = 1
    deleted: bool = False
    versions: list = field(default_factory=list)  # oldest first: {"id", "content", ...}
    version_seq: int = 0

    def __post_init__(self):
        self.modified = self.modified or self.created


@dataclass
class UploadSession:
    id: str
    drive: Drive
    parent: str | None  # new file: parent + name; replacement: target
    name: str | None
    target: str | None
    size: int | None
    behavior: str
    data: bytearray = field(default_factory=bytearray)
    expires: str = ""


class OneDriveEmulator(Emulator):
    key = "onedrive"
    tls = True

    def __init__(self, **kwargs):
        self.lock = threading.RLock()
        self._ids = itertools.count(1)
        self.items: dict[str, Node] = {}
        self.kids: dict[str, dict[str, str]] = {}  # folder id -> {casefolded name: id}
        self.drives: dict[str, Drive] = {}
        self.sites: dict[str, Site] = {SITE_ID: Site(SITE_ID, "contoso", "Contoso")}
        self.log: list[tuple[int, str, frozenset]] = []  # (seq, item id, ids in scope)
        self.seq = 0
        self.epoch = 1  # bumped by expire_cursors: older delta tokens answer 410
        self.sessions: dict[str, UploadSession] = {}
        self.downloads: dict[str, str] = {}
        self.version_downloads: dict[str, bytes] = {}  # token -> a version's bytes
        self.monitors: dict[str, dict] = {}  # copy monitor token -> status
        self.copy_polls = 1  # monitor polls answered "inProgress" before "completed"
        self.links: dict[str, tuple[str, str]] = {}  # token -> (item id, scope)
        self.access_tokens: dict[str, str] = {}  # token -> account: personal | work | app
        self.refresh_tokens: dict[str, str] = {}  # token -> "valid" | "expired" | "revoked"
        self.refresh_accounts: dict[str, str] = {}  # token -> account
        self.codes: dict[str, dict] = {}
        self.deny_consent = False
        self.page_size = PAGE_SIZE
        self.personal = self.add_drive("personal", "OneDrive")
        self.business = self.add_drive("business", "OneDrive - Contoso")
        self.library = self.add_drive("documentLibrary", "Documents", site_id=SITE_ID)
        self.add_drive("documentLibrary", "Archive", site_id=SITE_ID)
        super().__init__(**kwargs)

    # -- setup and test controls -------------------------------------------------------
    def add_drive(self, drive_type: str, name: str, site_id: str | None = None) -> Drive:
        with self.lock:
            drive_id = ("b!" + secrets.token_urlsafe(24)) if drive_type != "personal" else (
                secrets.token_hex(8).upper())
            drive = Drive(drive_id, drive_type, name, root_id="")
            drive.site_id = site_id
            root = self._new_node(drive, "root", None, folder=True)
            drive.root_id = root.id
            self.drives[drive_id] = drive
            if site_id:
                if site_id not in self.sites:
                    n = len(self.sites) + 1
                    self.sites[site_id] = Site(site_id, f"site{n}", f"Site {n}",
                                               hostname=site_id.split(",", 1)[0])
                self.sites[site_id].drives.append(drive_id)
            return drive

    def add_site(self, display_name: str, name: str | None = None,
                 hostname: str = "contoso.sharepoint.com") -> Site:
        """A SharePoint site (no library yet: ``add_drive(..., site_id=site.id)``)."""
        with self.lock:
            site_id = f"{hostname},{uuid.uuid4()},{uuid.uuid4()}"
            name = name or re.sub(r"[^A-Za-z0-9]+", "", display_name) or "site"
            site = self.sites[site_id] = Site(site_id, name, display_name, hostname)
            return site

    def drive_for(self, drive_type: str) -> Drive:
        return {"personal": self.personal, "business": self.business,
                "sharepoint": self.library}[drive_type]

    def issue_tokens(self, account: str = "work") -> tuple[str, str]:
        """A fresh access token and refresh token, as a finished consent would give.

        ``account``: ``personal`` (a Microsoft account: ``/me/drive`` is the personal
        drive), ``work`` (``/me/drive`` is OneDrive for Business) or ``app`` (app-only).
        """
        with self.lock:
            access, refresh = "eyJ0eXAi." + secrets.token_urlsafe(24), secrets.token_urlsafe(32)
            self.access_tokens[access] = account
            self.refresh_tokens[refresh] = "valid"
            self.refresh_accounts[refresh] = account
            return access, refresh

    def expire_access_tokens(self) -> None:
        with self.lock:
            self.access_tokens.clear()

    def expire_refresh_tokens(self, state: str = "expired") -> None:
        """Make every refresh token handed out so far ``expired`` or ``revoked``."""
        with self.lock:
            for token in self.refresh_tokens:
                self.refresh_tokens[token] = state

    def expire_cursors(self) -> None:
        with self.lock:
            self.epoch += 1

    def seed_files(self, drive_id: str, parent_id: str, files) -> list[str]:
        """Create ``(name, bytes)`` files directly in the store (fast test set-up)."""
        with self.lock:
            drive = self.drives[drive_id]
            parent = self._live(drive, parent_id)
            return [self._write_file(parent, name, data, "fail")[2]["id"]
                    for name, data in files]

    def set_quota(self, drive_id: str, total: int) -> None:
        with self.lock:
            self.drives[drive_id].quota = total

    def provider_config(self, root: str = "", drive_type: str = "business") -> dict:
        from .tls import ca_bundle

        drive = self.drive_for(drive_type)
        personal = drive_type == "personal"
        access, refresh = self.issue_tokens("personal" if personal else "work")
        return {"graph_url": f"{self.url}{GRAPH_PREFIX}", "authority_url": self.url,
                "tenant": "consumers" if personal else "organizations", "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET, "access_token": access,
                "refresh_token": refresh, "drive_type": drive_type, "drive_id": drive.id,
                "site_id": drive.site_id or "", "root": root, "ca_bundle": ca_bundle(),
                "timeout": 30}

    def fault_wording(self) -> dict:
        return {"error_answer": self._fault_answer, "expired_answer": self._expired_answer,
                "skip": r"^\S+ /[^/]+/(v2\.0/\.well-known/|oauth2/)"}

    @staticmethod
    def _fault_answer(status: int, retry_after: float | None):
        code, message = _FAULT_CODES.get(status, ("generalException", "Error"))
        headers = [("Content-Type", "application/json")]
        if retry_after is not None:
            headers.append(("Retry-After", str(max(0, round(retry_after)))))
        return f"{status} {_STATUS.get(status, 'Error')}", headers, error_body(code, message)

    @staticmethod
    def _expired_answer():
        headers = [("Content-Type", "application/json"),
                   ("WWW-Authenticate", 'Bearer realm="", error="invalid_token", '
                    'error_description="The access token has expired"')]
        body = error_body("InvalidAuthenticationToken",
                          "Access token has expired or is not yet valid.")
        return "401 Unauthorized", headers, body

    # -- store ------------------------------------------------------------------------
    def _new_id(self, drive: Drive) -> str:
        n = next(self._ids)
        if drive.drive_type == "personal":
            return f"{drive.id}!{n}"
        return "01" + base64.b32encode(n.to_bytes(5, "big") + secrets.token_bytes(15)).decode()

    def _new_node(self, drive, name, parent, *, folder, content=b"") -> Node:
        node = Node(self._new_id(drive), drive, name, parent, folder, content)
        self.items[node.id] = node
        if parent:
            self.kids.setdefault(parent, {})[name.casefold()] = node.id
        drive.used += len(content)
        if not folder:
            self._keep_version(node)
        self._record(node)
        return node

    def _keep_version(self, node: Node) -> None:
        """A version for the node's present content; the oldest beyond the drive type's
        limit are dropped (OneDrive personal keeps 25, SharePoint libraries 500)."""
        node.version_seq += 1
        node.versions.append({"id": f"{node.version_seq}.0", "content": node.content,
                              "modified": node.modified})
        limit = 25 if node.drive.drive_type == "personal" else 500
        del node.versions[:-limit]

    def _ancestry(self, node: Node) -> set[str]:
        ids = {node.id}
        while node.parent:
            ids.add(node.parent)
            node = self.items[node.parent]
        return ids

    def _record(self, node: Node, before: set[str] | None = None) -> None:
        self.seq += 1
        self.log.append((self.seq, node.id, frozenset(self._ancestry(node) | (before or set()))))

    def _touch(self, node: Node, content: bool = False) -> None:
        node.etag += 1
        node.modified = _now()
        if content:
            node.ctag += 1

    def _live(self, drive: Drive, item_id: str) -> Node:
        node = self.items.get(drive.root_id if item_id == "root" else item_id)
        if node is None or node.deleted or node.drive is not drive:
            raise GraphError(404, "itemNotFound", "The resource could not be found.")
        return node

    def _children(self, node: Node) -> list[Node]:
        kids = self.kids.get(node.id, {})
        return [self.items[kids[key]] for key in sorted(kids)]

    def _sibling(self, parent: Node, name: str) -> Node | None:
        found = self.kids.get(parent.id, {}).get(name.casefold())
        return self.items[found] if found else None

    def _free_name(self, parent: Node, name: str, behavior: str, exclude=None) -> Node | None:
        """Check ``name`` is free under ``parent``; return the clashing node for replace."""
        check_name(name)
        clash = self._sibling(parent, name)
        if clash is None or clash is exclude:
            return None
        if behavior == "fail":
            raise GraphError(409, "nameAlreadyExists",
                             f"The specified item name already exists. Name: {name}")
        return clash

    def _rename_free(self, parent: Node, name: str) -> str:
        stem, dot, ext = name.rpartition(".")
        if not dot or not stem:
            stem, dot, ext = name, "", ""
        n = 1
        while self._sibling(parent, name):
            name = f"{stem} {n}{dot}{ext}"
            n += 1
        return name

    def _path(self, node: Node) -> str:
        parts = []
        while node.parent:
            parts.append(node.name)
            node = self.items[node.parent]
        return "/".join(reversed(parts))

    def _size(self, node: Node) -> int:
        if not node.folder:
            return len(node.content)
        return sum(self._size(k) for k in self._children(node))

    def _delete(self, node: Node) -> None:
        for kid in self._children(node):
            self._delete(kid)
        self.kids.get(node.parent, {}).pop(node.name.casefold(), None)
        node.deleted = True
        self._touch(node)
        self._record(node)

    # -- JSON shapes ------------------------------------------------------------------
    def _web_node(self, path: str) -> Node | None:
        """The item whose ``webUrl`` is ``path`` (``/<drive id>/<path in the drive>``)."""
        drive_id, _, rest = path[1:].partition("/")
        with self.lock:
            return next((n for n in self.items.values() if n.drive.id == drive_id
                         and not n.deleted and self._path(n) == rest.strip("/")), None)

    def _drive_json(self, drive: Drive) -> dict:
        used = drive.used
        return {"id": drive.id, "driveType": drive.drive_type, "name": drive.name,
                "webUrl": f"{self.url}/{drive.id}",
                "owner": {"user": {"id": USER_ID, "displayName": "Emulator User"}},
                "quota": {"total": drive.quota, "used": used, "deleted": 0,
                          "remaining": max(0, drive.quota - used), "state": "normal"}}

    def _parent_ref(self, node: Node) -> dict:
        ref = {"driveId": node.drive.id, "driveType": node.drive.drive_type}
        if node.parent:
            parent = self.items[node.parent]
            ref["id"] = parent.id
            path = self._path(parent)
            ref["path"] = "/drive/root:" + (f"/{path}" if path else "")
        if node.drive.site_id:
            ref["siteId"] = node.drive.site_id
        return ref

    def _item_json(self, node: Node, *, download: bool = False) -> dict:
        data = {"id": node.id, "name": node.name, "eTag": f'"{{{node.id}}},{node.etag}"',
                "cTag": f'"c:{{{node.id}}},{node.ctag}"', "createdDateTime": node.created,
                "lastModifiedDateTime": node.modified, "size": self._size(node),
                "webUrl": f"{self.url}/{node.drive.id}/{quote(self._path(node))}",
                "parentReference": self._parent_ref(node),
                "fileSystemInfo": {"createdDateTime": node.created,
                                   "lastModifiedDateTime": node.modified}}
        if node.folder:
            data["folder"] = {"childCount": len(self._children(node))}
            if node.parent is None:
                data["root"] = {}
        else:
            hashes = {"quickXorHash": hash_bytes("quickxor", node.content)}
            if node.drive.drive_type == "personal":
                hashes["sha1Hash"] = hash_bytes("sha1", node.content).upper()
            mime = mimetypes.guess_type(node.name)[0] or "application/octet-stream"
            data["file"] = {"mimeType": mime, "hashes": hashes}
            if download:
                data["@microsoft.graph.downloadUrl"] = self._download_url(node)
        return data

    def _deleted_json(self, node: Node) -> dict:
        data = {"id": node.id, "name": node.name, "deleted": {"state": "deleted"},
                "parentReference": {"driveId": node.drive.id, "id": node.parent or ""}}
        data["folder" if node.folder else "file"] = {}
        return data

    def _download_url(self, node: Node) -> str:
        token = secrets.token_urlsafe(24)
        self.downloads[token] = node.id
        return f"{self.url}/download/{token}"

    # -- WSGI -------------------------------------------------------------------------
    def make_app(self):
        return self._app

    def _app(self, environ, start_response):
        method = environ["REQUEST_METHOD"]
        path = environ.get("PATH_INFO", "").encode("latin-1").decode("utf-8", "replace")
        query = {k: v[-1] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        try:
            status, headers, body = self._route(method, path, query, environ)
            if "$select" in query and path.startswith(GRAPH_PREFIX + "/drives/"):
                body = select_items(body, query["$select"])
        except GraphError as exc:
            status, headers = exc.status, [("Content-Type", "application/json"), *exc.headers]
            body = error_body(exc.code, exc.message)
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
            headers = [("Content-Type", "application/json"), *headers]
        headers.append(("Content-Length", str(len(body))))
        start_response(f"{status} {_STATUS.get(status, 'OK')}", headers)
        return [body] if method != "HEAD" else []

    def _route(self, method, path, query, environ):
        if path.startswith(GRAPH_PREFIX + "/"):
            account = self._authorize_graph(environ)
            return self._graph(method, path[len(GRAPH_PREFIX):], query, environ, account)
        if path.startswith("/upload/"):
            return self._upload_fragment(method, path[len("/upload/"):], environ)
        if path.startswith("/download/version/") and method == "GET":
            with self.lock:
                data = self.version_downloads.get(path[len("/download/version/"):])
            if data is None:
                raise GraphError(404, "itemNotFound", "The resource could not be found.")
            return 200, [("Content-Type", "application/octet-stream")], data
        if path.startswith("/monitor/") and method == "GET":  # no auth, as Graph's
            return self._monitor(path[len("/monitor/"):])
        if path.startswith("/download/") and method == "GET":
            with self.lock:
                node = self.items.get(self.downloads.get(path[len("/download/"):], ""))
                if node is None or node.deleted:
                    raise GraphError(404, "itemNotFound", "The resource could not be found.")
                return 200, [("Content-Type", "application/octet-stream")], node.content
        if path.startswith("/s/") and method == "GET":
            with self.lock:
                item_id, _scope = self.links.get(path[3:], ("", ""))
                node = self.items.get(item_id)
                if node is None or node.deleted:
                    raise GraphError(404, "itemNotFound", "The sharing link is not valid.")
                return _web_page(node.name)
        if method == "GET" and (node := self._web_node(path)) is not None:
            return _web_page(node.name)
        match = re.fullmatch(r"/([^/]+)/(v2\.0/\.well-known/openid-configuration|"
                             r"oauth2/v2\.0/authorize|oauth2/v2\.0/token)", path)
        if match:
            tenant, what = match.groups()
            if what.endswith("openid-configuration"):
                return 200, [], self._openid_configuration(tenant)
            if what.endswith("authorize"):
                return self._authorize(tenant, query)
            return self._token(tenant, _form(environ))
        raise GraphError(404, "itemNotFound", f"No route for {method} {path}")

    # -- identity platform ------------------------------------------------------------
    def _openid_configuration(self, tenant: str) -> dict:
        base = f"{self.url}/{tenant}"
        return {"issuer": f"{self.url}/{TENANT_ID}/v2.0",
                "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                "token_endpoint": f"{base}/oauth2/v2.0/token",
                "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
                "end_session_endpoint": f"{base}/oauth2/v2.0/logout",
                "jwks_uri": f"{base}/discovery/v2.0/keys",
                "response_types_supported": ["code", "id_token", "code id_token"],
                "response_modes_supported": ["query", "fragment", "form_post"],
                "scopes_supported": ["openid", "profile", "email", "offline_access"],
                "subject_types_supported": ["pairwise"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "token_endpoint_auth_methods_supported": ["client_secret_post",
                                                          "client_secret_basic"],
                "tenant_region_scope": None, "cloud_instance_name": "emulator"}

    def _authorize(self, tenant: str, query: dict):
        """The consent page (``auto_consent`` skips it): "Accept" redirects back with
        ``code`` and ``state``, "Cancel" with ``access_denied`` and AADSTS65004."""
        redirect = query.get("redirect_uri")
        if query.get("client_id") != CLIENT_ID or not redirect:
            return 400, [("Content-Type", "text/plain")], b"AADSTS700016: unknown client_id"
        sep = "&" if "?" in redirect else "?"
        decision = consent_answer(self, query, self.deny_consent)
        if decision == "page":  # Microsoft's "Permissions requested" page
            page = consent_page("Microsoft", query["client_id"], query.get("scope", "").split(),
                                query, "Accept", "Cancel")
            return 200, [("Content-Type", "text/html; charset=utf-8")], page.encode()
        if decision == "deny":
            params = {"error": "access_denied", "error_description":
                      "AADSTS65004: User declined to consent to access the app."}
        else:
            code = secrets.token_urlsafe(32)
            with self.lock:
                self.codes[code] = {"redirect_uri": redirect, "nonce": query.get("nonce"),
                                    "challenge": query.get("code_challenge"),
                                    "account": "personal" if tenant == "consumers" else "work",
                                    "scope": query.get("scope", "")}
            params = {"code": code}
        if "state" in query:
            params["state"] = query["state"]
        return 302, [("Location", redirect + sep + urlencode(params))], b""

    def _token_error(self, status: int, error: str, description: str):
        body = {"error": error, "error_description": description,
                "error_codes": [int(re.search(r"AADSTS(\d+)", description).group(1))],
                "timestamp": _now()[:19] + "Z", "trace_id": str(uuid.uuid4()),
                "correlation_id": str(uuid.uuid4())}
        return status, [], body

    def _token(self, tenant: str, form: dict):
        if form.get("client_id") != CLIENT_ID:
            return self._token_error(400, "unauthorized_client",
                                     "AADSTS700016: Application not found in the directory.")
        if form.get("client_secret") != CLIENT_SECRET:
            return self._token_error(401, "invalid_client",
                                     "AADSTS7000215: Invalid client secret provided.")
        grant, nonce, account = form.get("grant_type"), None, "app"
        with self.lock:
            if grant == "refresh_token":
                account = self.refresh_accounts.get(form.get("refresh_token", ""), "work")
                state = self.refresh_tokens.get(form.get("refresh_token", ""))
                if state != "valid":
                    reason = ("AADSTS50173: The provided grant has expired due to it being "
                              "revoked." if state == "revoked" else
                              "AADSTS70008: The provided authorization code or refresh token "
                              "has expired due to inactivity.")
                    return self._token_error(400, "invalid_grant", reason)
            elif grant == "authorization_code":
                grant_info = self.codes.pop(form.get("code", ""), None)
                if grant_info is None or grant_info["redirect_uri"] != form.get("redirect_uri"):
                    return self._token_error(400, "invalid_grant", "AADSTS70000: The provided "
                                             "authorization code is invalid or expired.")
                challenge = grant_info["challenge"]
                verifier = form.get("code_verifier", "").encode()
                if challenge and _b64url(hashlib.sha256(verifier).digest()) != challenge:
                    return self._token_error(400, "invalid_grant",
                                             "AADSTS501481: The Code_Verifier does not match.")
                nonce, account = grant_info["nonce"], grant_info["account"]
            elif grant != "client_credentials":
                return self._token_error(400, "unsupported_grant_type",
                                         "AADSTS70003: The app requested an unsupported grant.")
            access, refresh = self.issue_tokens(account)
        result = {"token_type": "Bearer", "scope": form.get("scope", ""), "expires_in": 3599,
                  "ext_expires_in": 3599, "access_token": access}
        if grant != "client_credentials":
            result.update(refresh_token=refresh, id_token=self._id_token(nonce),
                          client_info=_b64url(json.dumps({"uid": USER_ID,
                                                          "utid": TENANT_ID}).encode()))
        return 200, [("Cache-Control", "no-store")], result

    def _id_token(self, nonce: str | None) -> str:
        now = int(time.time())
        claims = {"iss": f"{self.url}/{TENANT_ID}/v2.0", "aud": CLIENT_ID, "iat": now,
                  "nbf": now, "exp": now + 3600, "sub": USER_ID, "oid": USER_ID,
                  "tid": TENANT_ID, "name": "Emulator User",
                  "preferred_username": "user@contoso.example", "ver": "2.0"}
        if nonce:
            claims["nonce"] = nonce
        header = {"typ": "JWT", "alg": "RS256", "kid": "emulator"}
        return ".".join(_b64url(json.dumps(p).encode()) for p in (header, claims)) + "." + \
            _b64url(b"not-signed")

    def _authorize_graph(self, environ) -> str:
        """The account of the request's bearer token, or Graph's 401."""
        auth = environ.get("HTTP_AUTHORIZATION", "")
        with self.lock:
            account = self.access_tokens.get(auth[7:] if auth.startswith("Bearer ") else "")
        if account is None:
            _, headers, _ = self._expired_answer()
            raise GraphError(401, "InvalidAuthenticationToken",
                             "Access token has expired or is not yet valid.", headers[1:])
        return account

    # -- Graph ------------------------------------------------------------------------
    def _graph(self, method, path, query, environ, account):
        with self.lock:
            if path in ("/me/drive", "/me/drive/"):
                if account == "app":
                    raise GraphError(400, "BadRequest", "/me request is only valid with "
                                     "delegated authentication flow.")
                drive = self.personal if account == "personal" else self.business
                return 200, [], self._drive_json(drive)
            if path == "/sites" and method == "GET":
                return 200, [], self._search_sites(account, query)
            by_path = re.fullmatch(r"/sites/([^/:]+):(/[^:]*)(?::(/drives?)?)?", path)
            by_id = re.fullmatch(r"/sites/([^/:]+)(/drives?)?", path)
            if (by_path or by_id) and method == "GET":
                if by_path:
                    site = self._site_at(*by_path.groups()[:2])
                else:
                    site = self.sites.get(by_id.group(1))
                if site is None:
                    raise GraphError(404, "itemNotFound", "The site could not be found.")
                return 200, [], self._site(site, (by_path or by_id).groups()[-1])
            match = re.fullmatch(r"/drives/([^/]+)(/.*)?", path)
            if not match:
                raise GraphError(400, "invalidRequest", f"Unsupported resource {path}")
            drive = self.drives.get(match.group(1))
            if drive is None:
                raise GraphError(404, "itemNotFound", "The drive could not be found.")
            rest = match.group(2) or ""
            if rest == "" and method == "GET":
                return 200, [], self._drive_json(drive)
            return self._drive_route(drive, method, rest, query, environ)

    def _site_at(self, hostname: str, path: str) -> Site | None:
        """The site at ``hostname:/sites/name`` (addresses are case-insensitive)."""
        path = path.rstrip("/").casefold()
        return next((s for s in self.sites.values() if s.hostname == hostname.casefold()
                     and s.path.casefold() == path), None)

    def _site(self, site: Site, drives: str | None):
        libraries = [self._drive_json(self.drives[d]) for d in site.drives]
        if drives == "/drives":
            return {"value": libraries}
        if drives == "/drive":
            if not libraries:
                raise GraphError(404, "itemNotFound", "The site has no document library.")
            return libraries[0]
        return self._site_json(site)

    def _site_json(self, site: Site) -> dict:
        return {"id": site.id, "name": site.name, "displayName": site.display_name,
                "description": "", "createdDateTime": site.created,
                "lastModifiedDateTime": site.created,
                "webUrl": f"https://{site.hostname}{site.path}",
                "siteCollection": {"hostname": site.hostname}}

    def _search_sites(self, account: str, query: dict) -> dict:
        """``GET /sites?search=``: sites whose display name or name holds every word of
        the query (case-insensitive; ``*`` or nothing: every site), paged by ``$top``."""
        if account == "personal":
            raise GraphError(403, "accessDenied",
                             "SharePoint sites are not available to personal accounts.")
        text = query.get("search", "")
        terms = [t for t in (w.strip("*").casefold() for w in text.split()) if t]
        found = [s for s in self.sites.values()
                 if all(t in f"{s.display_name} {s.name}".casefold() for t in terms)]
        top, start = self._page_size(query), int(query.get("$skiptoken", "0") or 0)
        page = {"value": [self._site_json(s) for s in found[start:start + top]]}
        if start + top < len(found):
            page["@odata.nextLink"] = f"{self.url}{GRAPH_PREFIX}/sites?" + urlencode(
                {"search": text, "$top": top, "$skiptoken": start + top})
        return page

    def _drive_route(self, drive, method, rest, query, environ):
        rest = re.sub(r"^/root(?=$|/|:)", "/items/root", rest)
        versions = re.fullmatch(r"/items/([^/:]+)/versions(?:/([^/]+)(/content|"
                                r"/restoreVersion)?)?", rest)
        if versions:
            return self._versions(drive, method, query, *versions.groups())
        search = re.fullmatch(r"/items/([^/:]+)/search\(q='(.*)'\)", rest, re.S)
        if search and method == "GET":
            return 200, [], self._search(drive, self._live(drive, search.group(1)),
                                         search.group(2), query)
        # /items/{id}, /items/{id}/action, /items/{id}:/a/b[:], /items/{id}:/a/b:/action
        match = re.fullmatch(r"/items/([^/:]+)(?::/([^:]+?)(?::(/[A-Za-z.]+)?)?|"
                             r"(/[A-Za-z.]+))?", rest)
        if not match:
            raise GraphError(400, "invalidRequest", f"Unsupported path {rest}")
        item_id, sub_path, path_action, action = match.groups()
        action = path_action or action or ""
        if sub_path is not None:  # /items/{id}:/a/b.txt[:/action], segments below {id}
            segments = [p for p in sub_path.split("/") if p]
            base = self._live(drive, item_id)
            if (method, action) in (("PUT", "/content"), ("POST", "/createUploadSession")):
                parent = self._walk(base, segments[:-1], create=True)
                if method == "PUT":
                    return self._simple_upload(parent, segments[-1], query, environ)
                return self._create_session(drive, parent, segments[-1], environ)
            item_id = self._walk(base, segments).id
        if action == "/delta" and method == "GET":
            folder = self._live(drive, item_id)
            if folder.parent is not None and drive.drive_type != "personal":
                raise GraphError(400, "invalidRequest", "Delta is only supported on the root "
                                 "folder of OneDrive for Business and SharePoint drives.")
            return 200, [], self._delta(drive, folder, query)
        node = self._live(drive, item_id)
        if action == "/children":
            if method == "GET":
                return 200, [], self._list_children(drive, node, query)
            if method == "POST":
                return self._create_folder(node, _json(environ))
        if action == "/content":
            if method == "GET":
                if node.folder:
                    raise GraphError(400, "invalidRequest", "Folders have no content.")
                return 302, [("Location", self._download_url(node))], b""
            if method == "PUT":
                return self._replace_content(node, _simple_body(environ), environ)
        if action == "/createUploadSession" and method == "POST":
            return self._create_session(drive, None, None, environ, target=node)
        if action == "/createLink" and method == "POST":
            return self._create_link(node, _json(environ))
        if action == "/copy" and method == "POST":
            return self._copy(node, query, _json(environ))
        if not action:
            if method == "GET":
                return 200, [], self._item_json(node, download=True)
            if method == "PATCH":
                self._check_match(node, environ)
                return 200, [], self._patch(node, _json(environ))
            if method == "DELETE":
                self._check_match(node, environ)
                if node.parent is None:
                    raise GraphError(403, "accessDenied", "The root cannot be deleted.")
                self._delete(node)
                return 204, [], b""
        raise GraphError(405, "invalidRequest", f"{method} not allowed on {action or 'item'}.")

    def _walk(self, base: Node, segments: list[str], *, create: bool = False) -> Node:
        """The item at a path below ``base`` (names case-insensitive); an upload by path
        creates the folders missing on the way, as OneDrive does."""
        node = base
        for segment in segments:
            if not node.folder:
                raise GraphError(404, "itemNotFound", "The resource could not be found.")
            child = self._sibling(node, segment)
            if child is None:
                if not create:
                    raise GraphError(404, "itemNotFound", "The resource could not be found.")
                check_name(segment)
                child = self._new_node(node.drive, segment, node.id, folder=True)
            node = child
        return node

    def _check_match(self, node: Node, environ) -> None:
        wanted = environ.get("HTTP_IF_MATCH")
        data = self._item_json(node)
        if wanted and wanted != "*" and wanted not in (data["eTag"], data["cTag"]):
            raise GraphError(412, "preconditionFailed",
                             "ETag does not match current item's value")

    def _page_size(self, query: dict) -> int:
        try:
            return max(1, min(MAX_PAGE_SIZE, int(query.get("$top", self.page_size))))
        except ValueError as exc:
            raise GraphError(400, "invalidRequest", "Invalid $top") from exc

    def _list_children(self, drive, node, query):
        if not node.folder:
            return {"value": []}
        top, start = self._page_size(query), int(query.get("$skiptoken", "0") or 0)
        kids = self._children(node)
        page = {"value": [self._item_json(k, download=True) for k in kids[start:start + top]]}
        if start + top < len(kids):
            page["@odata.nextLink"] = (f"{self.url}{GRAPH_PREFIX}/drives/{drive.id}/items/"
                                       f"{node.id}/children?$top={top}&$skiptoken={start + top}"
                                       + _keep_select(query))
        return page

    def _create_folder(self, parent: Node, body: dict):
        if not parent.folder:
            raise GraphError(400, "invalidRequest", "The parent is not a folder.")
        name = body.get("name", "")
        if "folder" not in body:
            raise GraphError(400, "invalidRequest", "Only folders can be created here.")
        behavior = body.get("@microsoft.graph.conflictBehavior", "fail")
        clash = self._free_name(parent, name, behavior)
        if clash is not None:
            if behavior == "rename":
                name = self._rename_free(parent, name)
            else:
                self._delete(clash)
        node = self._new_node(parent.drive, name, parent.id, folder=True)
        return 201, [], self._item_json(node)

    def _check_quota(self, drive: Drive, extra: int) -> None:
        if drive.used + extra > drive.quota:
            raise GraphError(507, "quotaLimitReached", "Insufficient Space Available")

    def _write_file(self, parent: Node, name: str, data: bytes, behavior: str):
        """Create ``name`` under ``parent`` or replace its content (conflict behavior)."""
        if not parent.folder:
            raise GraphError(400, "invalidRequest", "The parent is not a folder.")
        clash = self._free_name(parent, name, behavior)
        if clash is not None and behavior == "rename":
            name, clash = self._rename_free(parent, name), None
        if clash is not None and clash.folder:
            raise GraphError(409, "nameAlreadyExists", f"A folder is named {name}.")
        self._check_quota(parent.drive, len(data))
        if clash is not None:
            self._set_content(clash, data)
            return 200, [], self._item_json(clash)
        node = self._new_node(parent.drive, name, parent.id, folder=False, content=bytes(data))
        return 201, [], self._item_json(node)

    def _simple_upload(self, parent, name, query, environ):
        data = _simple_body(environ)
        behavior = query.get("@microsoft.graph.conflictBehavior", "replace")
        return self._write_file(parent, name, data, behavior)

    def _replace_content(self, node: Node, data: bytes, environ):
        if node.folder:
            raise GraphError(400, "invalidRequest", "Folders have no content.")
        self._check_match(node, environ)
        self._check_quota(node.drive, len(data))
        self._set_content(node, data)
        return 200, [], self._item_json(node)

    def _set_content(self, node: Node, data: bytes) -> None:
        node.drive.used += len(data)  # the old version stays in the version history
        node.content = bytes(data)
        self._touch(node, content=True)
        self._keep_version(node)
        self._record(node)

    def _create_session(self, drive, parent, name, environ, target=None):
        item = _json(environ).get("item", {})
        behavior = item.get("@microsoft.graph.conflictBehavior", "replace")
        if target is None:
            self._free_name(parent, name, behavior)
        elif target.folder:
            raise GraphError(400, "invalidRequest", "Folders have no content.")
        size = item.get("fileSize")
        session = UploadSession(secrets.token_urlsafe(24), drive, parent.id if parent else None,
                                name, target.id if target else None, size, behavior,
                                expires=_now())
        self.sessions[session.id] = session
        return 200, [], {"uploadUrl": f"{self.url}/upload/{session.id}",
                         "expirationDateTime": session.expires, "nextExpectedRanges": ["0-"]}

    def _upload_fragment(self, method, session_id, environ):
        data = _body(environ)  # read before the lock: a fragment may be large
        with self.lock:
            session = self.sessions.get(session_id)
            if session is None:
                raise GraphError(404, "itemNotFound", "The upload session was not found.")
            status = {"expirationDateTime": session.expires,
                      "nextExpectedRanges": [f"{len(session.data)}-"]}
            if method == "GET":
                return 200, [], status
            if method == "DELETE":
                del self.sessions[session_id]
                return 204, [], b""
            if method != "PUT":
                raise GraphError(405, "invalidRequest", "Method not allowed.")
            if environ.get("HTTP_AUTHORIZATION"):
                raise GraphError(401, "unauthenticated", "The upload URL is pre-authenticated;"
                                 " do not send an Authorization header.")
            match = re.fullmatch(r"bytes (\d+)-(\d+)/(\d+)",
                                 environ.get("HTTP_CONTENT_RANGE", ""))
            if not match:
                raise GraphError(400, "invalidRequest", "A valid Content-Range is required.")
            start, end, total = map(int, match.groups())
            if (start != len(session.data) or end - start + 1 != len(data) or end >= total
                    or (session.size is not None and total != session.size)):
                raise GraphError(416, "invalidRange", "The fragment does not match the "
                                 f"expected range {len(session.data)}-.")
            if len(data) > MAX_FRAGMENT or (end + 1 < total and len(data) % FRAGMENT_UNIT):
                raise GraphError(400, "invalidRequest", "Fragments must be multiples of 320 "
                                 "KiB and smaller than 60 MiB.")
            session.size = total
            session.data += data
            if len(session.data) < total:
                status["nextExpectedRanges"] = [f"{len(session.data)}-"]
                return 202, [], status
            del self.sessions[session_id]
            if session.target:
                return self._replace_content(self._live(session.drive, session.target),
                                             bytes(session.data), {})
            parent = self._live(session.drive, session.parent)
            return self._write_file(parent, session.name, bytes(session.data), session.behavior)

    def _patch(self, node: Node, body: dict) -> dict:
        if node.parent is None:
            raise GraphError(400, "invalidRequest", "The root cannot be renamed or moved.")
        new_parent = self.items[node.parent]
        ref = body.get("parentReference") or {}
        if ref.get("id"):
            new_parent = self._live(node.drive, ref["id"])
            if not new_parent.folder or node.id in self._ancestry(new_parent):
                raise GraphError(400, "invalidRequest", "Cannot move an item there.")
        name = body.get("name", node.name)
        behavior = body.get("@microsoft.graph.conflictBehavior", "fail")
        clash = self._free_name(new_parent, name, behavior, exclude=node)
        if clash is not None:
            if behavior == "rename":
                name = self._rename_free(new_parent, name)
            else:
                self._delete(clash)
        before = self._ancestry(node)
        self.kids[node.parent].pop(node.name.casefold(), None)
        self.kids.setdefault(new_parent.id, {})[name.casefold()] = node.id
        node.name, node.parent = name, new_parent.id
        self._touch(node)
        self._record(node, before)
        return self._item_json(node)

    def _create_link(self, node: Node, body: dict):
        scope = body.get("scope") or ("anonymous" if node.drive.drive_type == "personal"
                                      else "organization")
        if body.get("type", "view") not in ("view", "edit", "embed"):
            raise GraphError(400, "invalidRequest", "Unknown link type.")
        if scope not in ("anonymous", "organization") or (
                scope == "organization" and node.drive.drive_type == "personal"):
            raise GraphError(400, "invalidRequest", f"Link scope {scope} is not supported.")
        for token, (item_id, existing_scope) in self.links.items():
            if item_id == node.id and existing_scope == scope:
                return 200, [], self._link_json(token, scope, body)
        token = secrets.token_urlsafe(16)
        self.links[token] = (node.id, scope)
        return 201, [], self._link_json(token, scope, body)

    def _link_json(self, token: str, scope: str, body: dict) -> dict:
        kind = body.get("type", "view")
        return {"id": token[:12], "roles": ["write" if kind == "edit" else "read"],
                "link": {"type": kind, "scope": scope, "webUrl": f"{self.url}/s/{token}",
                         "application": {"id": CLIENT_ID, "displayName": "Emulator"}}}

    # -- search, copy, versions ----------------------------------------------------------
    def _search(self, drive: Drive, folder: Node, text: str, query: dict) -> dict:
        """``search(q='...')``: OData quotes are doubled; every word must be in the name
        or in a text file's content. Business and SharePoint search the whole drive."""
        text = text.replace("''", "'")
        words = text.casefold().split()
        if not words:
            raise GraphError(400, "invalidRequest", "The search text is empty.")
        base = folder if drive.drive_type == "personal" else self.items[drive.root_id]
        found = []
        for node in self.items.values():
            if (node.drive is not drive or node.deleted or node is base
                    or base.id not in self._ancestry(node)):
                continue
            haystack = node.name.casefold()
            if not node.folder:
                haystack += "\n" + node.content.decode("utf-8", "ignore").casefold()
            if all(word in haystack for word in words):
                found.append(node)
        top, start = self._page_size(query), int(query.get("$skiptoken", "0") or 0)
        page = {"value": [self._item_json(n) for n in found[start:start + top]]}
        if start + top < len(found):
            quoted = quote(text.replace("'", "''"), safe="")
            page["@odata.nextLink"] = (f"{self.url}{GRAPH_PREFIX}/drives/{drive.id}/items/"
                                       f"{folder.id}/search(q='{quoted}')?$top={top}"
                                       f"&$skiptoken={start + top}")
        return page

    def _copy(self, node: Node, query: dict, body: dict):
        """202 + a monitor URL. The copy is made now; the monitor reports it after
        :attr:`copy_polls` polls, or reports the failure (a name clash)."""
        if node.folder:
            raise GraphError(400, "invalidRequest", "This emulator copies files only.")
        ref = body.get("parentReference") or {}
        if ref.get("driveId", node.drive.id) != node.drive.id:
            raise GraphError(400, "invalidRequest", "This emulator copies within a drive only.")
        parent = self._live(node.drive, ref.get("id") or node.parent)
        if not parent.folder:
            raise GraphError(400, "invalidRequest", "The parent is not a folder.")
        name = body.get("name") or node.name
        check_name(name)
        behavior = query.get("@microsoft.graph.conflictBehavior", "fail")
        status = {"operation": "ItemCopy", "status": "inProgress", "percentageComplete": 0.0,
                  "polls": self.copy_polls}
        try:
            clash = self._free_name(parent, name, behavior)
            if clash is not None and behavior == "rename":
                name, clash = self._rename_free(parent, name), None
            if clash is not None:
                if clash.folder:
                    raise GraphError(409, "nameAlreadyExists", f"A folder is named {name}.")
                self._delete(clash)
            self._check_quota(node.drive, len(node.content))
            copy = self._new_node(node.drive, name, parent.id, folder=False,
                                  content=node.content)
            status["resourceId"] = copy.id
        except GraphError as exc:
            status["error"] = {"code": exc.code, "message": exc.message}
        token = str(uuid.uuid4()).upper()
        self.monitors[token] = status
        return 202, [("Location", f"{self.url}/monitor/{token}")], b""

    def _monitor(self, token: str):
        with self.lock:
            status = self.monitors.get(token)
            if status is None:
                raise GraphError(404, "itemNotFound", "The monitor was not found.")
            if status["polls"] > 0:
                status["polls"] -= 1
                status["percentageComplete"] = 50.0
                return 202, [], {k: v for k, v in status.items()
                                 if k in ("operation", "status", "percentageComplete")}
            if "error" in status:
                return 200, [], {"operation": "ItemCopy", "status": "failed",
                                 "percentageComplete": 0.0, "error": status["error"]}
            return 200, [], {"operation": "ItemCopy", "status": "completed",
                             "percentageComplete": 100.0, "resourceId": status["resourceId"]}

    def _versions(self, drive, method, query, item_id, version_id, action):
        node = self._live(drive, item_id)
        if node.folder:
            raise GraphError(400, "invalidRequest", "Folders have no versions.")
        newest = node.versions[::-1]
        if version_id is None:
            if method != "GET":
                raise GraphError(405, "invalidRequest", f"{method} not allowed on versions.")
            top, start = self._page_size(query), int(query.get("$skiptoken", "0") or 0)
            page = {"value": [self._version_json(v) for v in newest[start:start + top]]}
            if start + top < len(newest):
                page["@odata.nextLink"] = (f"{self.url}{GRAPH_PREFIX}/drives/{drive.id}/items/"
                                           f"{node.id}/versions?$top={top}"
                                           f"&$skiptoken={start + top}")
            return 200, [], page
        version = next((v for v in newest if v["id"] == version_id), None)
        if version is None:
            raise GraphError(404, "itemNotFound", "The version could not be found.")
        if action is None and method == "GET":
            return 200, [], self._version_json(version)
        if action == "/content" and method == "GET":
            token = secrets.token_urlsafe(24)
            self.version_downloads[token] = version["content"]
            return 302, [("Location", f"{self.url}/download/version/{token}")], b""
        if action == "/restoreVersion" and method == "POST":
            self._check_quota(node.drive, len(version["content"]))
            self._set_content(node, version["content"])
            return 204, [], b""
        raise GraphError(405, "invalidRequest", f"{method} not allowed on {action or 'version'}.")

    @staticmethod
    def _version_json(version: dict) -> dict:
        return {"id": version["id"], "lastModifiedDateTime": version["modified"],
                "size": len(version["content"]),
                "lastModifiedBy": {"user": {"id": USER_ID, "displayName": "Emulator User"}}}

    def _delta(self, drive: Drive, folder: Node, query: dict) -> dict:
        token = query.get("token")
        base = f"{self.url}{GRAPH_PREFIX}/drives/{drive.id}/items/{folder.id}/delta"
        if token == "latest":
            return {"value": [], "@odata.deltaLink": f"{base}?token={self.epoch}.{self.seq}"
                    + _keep_select(query)}
        since, upto, offset = 0, self.seq, 0
        if token:
            parts = token.split(".")
            if not all(p.isdigit() for p in parts) or len(parts) not in (2, 4):
                raise GraphError(400, "invalidRequest", "Invalid delta token.")
            if int(parts[0]) != self.epoch:
                raise GraphError(410, "resyncRequired", "Resync required. Replace any local "
                                 "items with the server's version (including deletes) if "
                                 "you're sure that the service was up to date with your "
                                 "local changes when you last sync'd. Upload any local "
                                 "changes that the server doesn't know about.")
            since = int(parts[1])
            if len(parts) == 4:
                upto, offset = int(parts[2]), int(parts[3])
        latest: dict[str, int] = {}
        # the log is in sequence order: start after the token, as Graph's cost is the
        # changes since it, not the drive's whole history
        start = bisect.bisect_right(self.log, since, key=lambda entry: entry[0])
        for seq, item_id, scope in itertools.islice(self.log, start, None):
            if seq <= upto and folder.id in scope and self.items[item_id].drive is drive:
                latest.pop(item_id, None)
                latest[item_id] = seq
        alive = {item_id: not self.items[item_id].deleted
                 and folder.id in self._ancestry(self.items[item_id]) for item_id in latest}
        ids = [item_id for item_id in latest if alive[item_id] or since]
        top = self._page_size(query)
        page = {"value": [  # only this page's items are rendered (a page costs one page)
            self._item_json(self.items[i]) if alive[i] else self._deleted_json(self.items[i])
            for i in ids[offset:offset + top]]}
        if offset + top < len(ids):
            page["@odata.nextLink"] = (f"{base}?token={self.epoch}.{since}.{upto}."
                                       f"{offset + top}" + _keep_select(query))
        else:
            page["@odata.deltaLink"] = f"{base}?token={self.epoch}.{upto}" + _keep_select(query)
        return page


# driveItem's properties (Graph v1.0 reference), the names $select may take
DRIVE_ITEM_PROPERTIES = frozenset({
    "id", "name", "eTag", "cTag", "createdDateTime", "lastModifiedDateTime", "size",
    "webUrl", "webDavUrl", "description", "parentReference", "fileSystemInfo", "folder",
    "file", "root", "deleted", "createdBy", "lastModifiedBy", "package", "shared",
    "specialFolder", "remoteItem", "image", "photo", "video", "audio", "location",
    "malware", "publication", "searchResult", "sharepointIds", "bundle", "content",
    "children", "thumbnails", "permissions", "versions", "listItem", "analytics",
    "@microsoft.graph.downloadUrl"})


def select_items(body, text: str):
    """Graph's ``$select`` on driveItems: only the named properties come back, plus ``id``
    (always sent), and the ``deleted`` facet of a removed item in a delta page (how the
    client tells a deletion). An unknown name is 400, as Graph answers."""
    names = {n.strip() for n in text.split(",") if n.strip()}
    unknown = sorted(names - DRIVE_ITEM_PROPERTIES)
    if unknown:
        raise GraphError(400, "BadRequest", f"Could not find a property named '{unknown[0]}'"
                         " on type 'microsoft.graph.driveItem'.")

    def one(item: dict) -> dict:
        keep = names | {"id"} | ({"deleted"} if "deleted" in item else set())
        return {k: v for k, v in item.items() if k in keep}

    if isinstance(body, dict) and isinstance(body.get("value"), list):
        return {**body, "value": [one(i) if isinstance(i, dict) and "id" in i else i
                                  for i in body["value"]]}
    if isinstance(body, dict) and "id" in body and ("eTag" in body or "deleted" in body):
        return one(body)
    return body


def _keep_select(query: dict) -> str:
    """Graph's paging links repeat the request's ``$select``."""
    return "&" + urlencode({"$select": query["$select"]}) if "$select" in query else ""


def _body(environ) -> bytes:
    stream = environ.get("wsgi.input")
    if stream is None:
        return b""
    length = environ.get("CONTENT_LENGTH")
    if length:
        return stream.read(int(length))
    if "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
        return stream.read()
    return b""


def _simple_body(environ) -> bytes:
    data = _body(environ)
    if len(data) > SIMPLE_UPLOAD_LIMIT:
        raise GraphError(413, "requestTooLarge",
                         "Simple upload is limited to 4 MB; use an upload session.")
    return data


def _json(environ) -> dict:
    raw = _body(environ)
    try:
        data = json.loads(raw or b"{}")
    except ValueError as exc:
        raise GraphError(400, "invalidRequest", "The request body is not valid JSON.") from exc
    if not isinstance(data, dict):
        raise GraphError(400, "invalidRequest", "A JSON object is expected.")
    return data


def _form(environ) -> dict:
    return {k: v[-1] for k, v in parse_qs(_body(environ).decode()).items()}


def make_emulator(host: str = "127.0.0.1", port: int = 0, data_dir: str | None = None):
    """The CLI's factory (``data_dir`` is unused: the store lives in memory)."""
    return OneDriveEmulator(host=host, port=port, data_dir=data_dir)
