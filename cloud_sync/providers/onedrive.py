"""OneDrive (personal, business) and SharePoint document libraries.

Auth is msal (a confidential client: refresh tokens, or the client credentials grant for
app-only access to business drives and sites); files are Microsoft Graph over HTTP with
``requests``, Graph's documented wire protocol (no official Python Graph SDK is named by
the design).

Config keys: ``client_id``, ``client_secret``, ``tenant`` (default ``common``),
``authority_url`` (default ``https://login.microsoftonline.com``), ``graph_url`` (default
``https://graph.microsoft.com/v1.0``; national clouds have their own), ``access_token``,
``refresh_token``, ``scopes`` (list), ``drive_type`` (``personal`` | ``business`` |
``sharepoint``), ``drive_id``, ``site_id`` (id or ``hostname:/sites/name``), ``app_only``
(client credentials grant, refresh tokens ignored), ``root`` (folder id; empty = drive root),
``link_scope`` (``anonymous`` | ``organization``: public links), ``timeout``, ``ca_bundle``.

Retries: one policy, :class:`~cloud_sync.retry.RetryPolicy` through :meth:`Provider.call`.
``requests`` does not retry by default, and msal gets this module's session as its
``http_client``, which replaces msal's own session (that one retries once per request).
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from datetime import datetime
from email.utils import parsedate_to_datetime
from functools import cached_property
from typing import BinaryIO
from urllib.parse import quote, unquote, urlsplit

import requests

from ..hashing import new_hasher
from ..naming import NameRules
from .base import Change, ChangeType, Item, Kind, Provider, Resume, Version, iter_chunks
from .errors import (
    CursorExpired,
    Fatal,
    NameTaken,
    NotFound,
    QuotaExceeded,
    ReauthRequired,
    RetryLater,
)
from .seen import SeenStates

RESERVED = frozenset({".lock", "CON", "PRN", "AUX", "NUL", "desktop.ini"}
                     | {f"{p}{n}" for p in ("COM", "LPT") for n in range(10)})
SEARCH_PAGES = 10  # search pages read at most (Graph also matches content and metadata)
FRAGMENT_UNIT = 320 * 1024  # upload session fragments are multiples of this
DEFAULT_SCOPES = ("Files.ReadWrite.All",)
REAUTH_ERRORS = {"invalid_grant", "invalid_client", "unauthorized_client",
                 "interaction_required", "consent_required", "access_denied"}


class GraphSession(requests.Session):
    """A requests session that always sends the configured TLS trust and timeout.

    An explicit ``verify`` per request is not overridden by ``REQUESTS_CA_BUNDLE``;
    msal uses this session too (as its ``http_client``).
    """

    def __init__(self, verify, timeout: float):
        super().__init__()
        self.default_verify, self.default_timeout = verify, timeout

    def request(self, method, url, **kwargs):
        kwargs.setdefault("verify", self.default_verify)
        kwargs.setdefault("timeout", self.default_timeout)
        return super().request(method, url, **kwargs)


class OneDriveProvider(Provider):
    key = "onedrive"
    name_rules = NameRules(forbidden_chars='"*:<>?/\\|', reserved_names=RESERVED,
                           reserved_prefixes=("~$",), forbidden_substrings=("_vti_",),
                           max_length=255, case_sensitive=False, strip_leading=" ")
    has_public_links = True
    link_options = frozenset({"audience"})
    refreshes_tokens = True
    hash_type = "quickxor"  # per instance: "sha1" on personal drives (see __init__)
    resumes_uploads = True  # the upload session's URL, asked for nextExpectedRanges
    chunk_threshold = 4 * 1024 * 1024  # Graph's simple upload limit
    fragment_size = 32 * FRAGMENT_UNIT  # 10 MiB per upload-session PUT
    page_size = 200
    has_versions = True  # driveItem versions: list, content, restoreVersion
    can_search = True  # root/search(q=), kept beneath the root
    server_side_copy = True  # POST /copy + the monitor URL

    def __init__(self, config: dict, **kwargs):
        super().__init__(config, **kwargs)
        self.drive_type = self.config.get("drive_type") or "personal"
        if self.drive_type not in ("personal", "business", "sharepoint"):
            raise ValueError(f"unknown OneDrive drive_type {self.drive_type!r}")
        # personal OneDrive publishes sha1Hash; business and SharePoint quickXorHash
        self.hash_type = "sha1" if self.drive_type == "personal" else "quickxor"
        self.graph_url = (self.config.get("graph_url")
                          or "https://graph.microsoft.com/v1.0").rstrip("/")
        self.session = GraphSession(self.config.get("ca_bundle") or True,
                                    float(self.config.get("timeout") or 60))
        self._access_token = self.config.get("access_token") or ""
        self._refresh_lock = threading.Lock()
        # Graph's delta gives each changed item's current state only. To name a change,
        # compare with the state this instance saw before the cursor was handed out:
        # every observation gets a tick of a local clock, every cursor the tick of then.
        self._seen = SeenStates(self.HISTORY_ITEMS)
        self._parents: OrderedDict[str, str | None] = OrderedDict()  # id -> parent id
        self._state_lock = threading.Lock()

    # -- auth -------------------------------------------------------------------------
    @cached_property
    def _msal(self):
        return msal_app(self.config, self.session)

    def refresh_token(self) -> bool:
        """Get a new access token through msal and hand the credentials to the caller.

        Threads that hit the expiry together refresh once: the others find a new token.
        """
        if not self.config.get("client_id"):
            return False
        stale = self._access_token
        with self._refresh_lock:
            if self._access_token != stale:
                return True
            return self._translated(self._refresh)

    def _refresh(self) -> bool:
        refresh = "" if self.config.get("app_only") else self.config.get("refresh_token")
        if refresh:
            result = self._msal.acquire_token_by_refresh_token(refresh, scopes=_scopes(self.config))
        else:  # app-only access (business drives, SharePoint sites)
            resource = self.graph_url.rsplit("/", 1)[0]
            result = self._msal.acquire_token_for_client(scopes=[f"{resource}/.default"])
        _check_token_result(result)
        self._access_token = result["access_token"]
        credentials = {"access_token": result["access_token"],
                       "refresh_token": result.get("refresh_token") or refresh or "",
                       "expires_in": result.get("expires_in")}
        self.config.update(access_token=credentials["access_token"],
                           refresh_token=credentials["refresh_token"])
        self.notify_token(credentials)
        return True

    # -- HTTP -------------------------------------------------------------------------
    def _send(self, method: str, url: str, *, auth: bool = True, **kwargs) -> requests.Response:
        """One HTTP request; errors raise ``requests`` exceptions, typed by translate."""
        if not url.startswith("https://") and not url.startswith("http://"):
            url = self.graph_url + url
        headers = kwargs.pop("headers", {})
        if auth:
            if not self._access_token:
                raise ReauthRequired("no access token yet")
            headers["Authorization"] = f"Bearer {self._access_token}"
        response = self.session.request(method, url, headers=headers, **kwargs)
        if response.status_code >= 400:
            with response:  # read the error body (translate needs it), release the socket
                _ = response.content
            response.raise_for_status()
        return response

    def _json(self, method: str, url: str, **kwargs) -> dict:
        return self.call(lambda: self._send(method, url, **kwargs).json())

    def translate(self, exc: Exception) -> Exception:
        if isinstance(exc, (requests.Timeout, requests.ConnectionError)):
            return RetryLater(f"network: {exc}")
        if isinstance(exc, requests.exceptions.ChunkedEncodingError):
            return RetryLater(f"transfer interrupted: {exc}")
        if not isinstance(exc, requests.HTTPError) or exc.response is None:
            return exc
        response = exc.response
        status = response.status_code
        try:
            error = response.json()["error"]
        except (ValueError, KeyError, TypeError):
            error = {}
        if not isinstance(error, dict):
            error = {"code": str(error)}
        code = error.get("code", "")
        text = f"{status} {code}: {error.get('message', '')}"
        if status == 401:
            return ReauthRequired(text, status=status)
        if status == 404:
            return NotFound(text, status=status)
        if status == 409 and code == "nameAlreadyExists":
            return NameTaken(text, status=status)
        if status == 410 or code == "resyncRequired":
            return CursorExpired(text, status=status)
        if status == 507 or code in ("quotaLimitReached", "insufficientStorage"):
            return QuotaExceeded(text, status=status)
        if status in (423, 429) or status >= 500:  # 423: locked (open for editing)
            return RetryLater(text, retry_after=_retry_after(response), status=status)
        return Fatal(text, status=status)

    # -- drive, root, items -----------------------------------------------------------
    @cached_property
    def drive_id(self) -> str:
        """The configured drive, else the site's default library, else ``/me/drive``.

        A SharePoint connection without its site is refused here, not when built: site
        search and library listing need no drive (the "Choose drive" wizard)."""
        if self.config.get("drive_id"):
            return self.config["drive_id"]
        if self.drive_type == "sharepoint":
            if not self.config.get("site_id"):
                raise Fatal("a SharePoint connection needs site_id or drive_id")
            return self._json("GET", _site_url(self.config["site_id"], "/drive"))["id"]
        return self._json("GET", "/me/drive")["id"]

    @cached_property
    def root_id(self) -> str:
        return self.config.get("root") or self._json("GET", self._url("root"))["id"]

    def list_libraries(self, site_id: str | None = None) -> list[dict]:
        """The document libraries of a SharePoint site: ``[{id, name, webUrl}]``."""
        site = site_id or self.config.get("site_id")
        page = self._json("GET", _site_url(site, "/drives"))
        return [{"id": d["id"], "name": d.get("name", ""), "webUrl": d.get("webUrl", "")}
                for d in page.get("value", [])]

    def sites(self, search: str, limit: int | None = None) -> list[dict]:
        """SharePoint sites matching ``search`` (Graph's site search: words of the name;
        ``*`` lists every site the account sees): ``[{id, name, web_url}]``, the first
        ``limit`` of them (pages are followed until then)."""
        found, url, params = [], "/sites", {"search": search}
        while url and (limit is None or len(found) < limit):
            page = self._json("GET", url, params=params)
            found += [_site(data) for data in page.get("value", [])]
            url, params = page.get("@odata.nextLink"), None
        return found[:limit]

    def site(self, ref: str) -> dict:
        """One site from what a user may type: its id, ``hostname:/sites/name`` or its
        address (``https://contoso.sharepoint.com/sites/team/...``, as a browser shows it);
        ``{id, name, web_url}`` with the canonical id. Unknown: :class:`NotFound`."""
        return _site(self._json("GET", _site_url(site_reference(ref))))

    def _url(self, item_id: str, suffix: str = "") -> str:
        return f"/drives/{self.drive_id}/items/{item_id}{suffix}"

    def _child_url(self, parent_id: str, name: str, suffix: str = "") -> str:
        return self._url(parent_id, f":/{quote(name, safe='')}:{suffix}")

    def _item(self, data: dict) -> Item:
        item = self._parse(data)
        self._observe(item.id, (item.parent_id, item.name, item.version), item.parent_id)
        return item

    def _parse(self, data: dict) -> Item:
        file = data.get("file")
        hashes = (file or {}).get("hashes") or {}
        digest = hashes.get("sha1Hash" if self.hash_type == "sha1" else "quickXorHash")
        if digest and self.hash_type == "sha1":
            digest = digest.lower()  # Graph sends upper-case hex; hashlib's form is lower
        modified = data.get("lastModifiedDateTime")
        return Item(
            id=data["id"], name=data.get("name", ""),
            kind=Kind.FILE if file is not None else Kind.FOLDER,
            parent_id=(data.get("parentReference") or {}).get("id") or None,
            size=int(data.get("size") or 0),
            # cTag changes with the content, eTag with anything (folders: eTag)
            version=(data.get("cTag") if file is not None else None) or data.get("eTag"),
            hash_type=self.hash_type if digest else None, content_hash=digest,
            modified=_parse_time(modified),
            web_url=data.get("webUrl"), mime_type=(file or {}).get("mimeType"),
            extra={"eTag": data.get("eTag"), "cTag": data.get("cTag")},
        )

    # -- the contract -----------------------------------------------------------------
    def create_folder(self, parent_id: str, name: str) -> Item:
        body = {"name": self.safe_name(name), "folder": {},
                "@microsoft.graph.conflictBehavior": "fail"}
        return self._item(self._json("POST", self._url(parent_id, "/children"), json=body))

    def find_child(self, parent_id: str, name: str, kind: Kind | None = None) -> Item | None:
        """One call by path (Graph names are case-insensitive, like our comparison key)."""
        try:
            item = self.metadata_by_path(parent_id, name)
        except NotFound:
            return None
        return item if kind is None or item.kind == kind else None

    def metadata_by_path(self, parent_id: str, name: str) -> Item:
        return self._item(self._json("GET", self._child_url(parent_id, self.safe_name(name))))

    def upload(self, parent_id: str, name: str, stream: BinaryIO,
               size: int | None = None, resume: Resume | None = None) -> Item:
        name = self.safe_name(name)
        stream, size = _sized(stream, size, self.chunk_threshold)
        if size <= self.chunk_threshold:
            data = stream.read(size)
            url = self._child_url(parent_id, name, "/content")
            params = {"@microsoft.graph.conflictBehavior": "fail"}
            return self._item(self._json("PUT", url, data=data, params=params))
        item = {"@microsoft.graph.conflictBehavior": "fail", "name": name, "fileSize": size}
        return self._upload_session(self._child_url(parent_id, name, "/createUploadSession"),
                                    item, stream, size,
                                    lambda: self.metadata_by_path(parent_id, name), resume)

    def update(self, item_id: str, stream: BinaryIO, size: int | None = None,
               resume: Resume | None = None) -> Item:
        stream, size = _sized(stream, size, self.chunk_threshold)
        if size <= self.chunk_threshold:
            data = stream.read(size)
            return self._item(self._json("PUT", self._url(item_id, "/content"), data=data))
        item = {"@microsoft.graph.conflictBehavior": "replace", "fileSize": size}
        return self._upload_session(self._url(item_id, "/createUploadSession"),
                                    item, stream, size, lambda: self.metadata(item_id), resume)

    def _upload_session(self, url: str, item: dict, stream: BinaryIO, size: int,
                        locate: Callable[[], Item], resume: Resume | None = None) -> Item:
        """createUploadSession, then PUT fragments in order to the pre-authenticated URL
        (no Authorization header there); the last answer is the item.

        A fragment whose answer was lost (a timeout) is not sent twice: the retry's 416
        or 404 makes us ask the session (or, once it is complete, the item) how far the
        server got; a finished file is accepted only if its size and hash are ours.
        ``resume``: the session URL of an earlier run, asked for ``nextExpectedRanges``.
        """
        resume = resume or Resume()
        upload_url, offset = self._resumed_session(resume, url, size)
        if upload_url is None:
            upload_url, offset = self._json("POST", url, json={"item": item})["uploadUrl"], 0
            resume.store(self.key, url, size, upload_url=upload_url)
        else:
            stream.seek(stream.tell() + offset)
        hasher = new_hasher(self.hash_type) if offset == 0 else None
        result = None
        for chunk in iter_chunks(stream, self.fragment_size):
            if hasher:
                hasher.update(chunk)
            result = self.call(lambda c=chunk, o=offset: self._put_fragment(
                upload_url, c, o, size))
            offset += len(chunk)
            resume.save(dict(resume.state, offset=offset))
        resume.drop()
        if offset != size or result is None:
            raise Fatal(f"upload session ended at {offset} of {size} bytes")
        if "id" in result:
            return self._item(result)
        done = locate()  # the last fragment landed but its answer was lost
        if done.size != size or (hasher and done.content_hash != hasher.hexdigest()):
            raise Fatal("the upload session finished, but not with this content")
        return done

    def _resumed_session(self, resume: Resume, url: str, size: int) -> tuple[str | None, int]:
        """(upload URL, next offset) of a saved session the server still holds at a
        fragment boundary; (None, 0) to start over (the saved one is dropped)."""
        state = resume.matching(self.key, url, size)
        if not state or not state.get("upload_url"):
            return None, 0
        try:
            status = self.call(lambda: self._send("GET", state["upload_url"], auth=False).json())
            offset = int((status.get("nextExpectedRanges") or [""])[0].split("-")[0])
        except (NotFound, Fatal, ValueError, IndexError):
            offset = -1  # expired, forgotten or unreadable: a fresh session
        if offset < 0 or offset >= size or offset % FRAGMENT_UNIT:
            resume.drop()
            return None, 0
        return state["upload_url"], offset

    def _put_fragment(self, upload_url: str, chunk: bytes, offset: int, size: int) -> dict:
        """PUT one fragment; ``{}`` when a lost earlier attempt had already stored it."""
        end = offset + len(chunk)
        headers = {"Content-Range": f"bytes {offset}-{end - 1}/{size}"}
        try:
            return self._send("PUT", upload_url, auth=False, data=chunk, headers=headers).json()
        except requests.HTTPError as exc:
            if exc.response.status_code not in (404, 416):
                raise
            try:
                status = self._send("GET", upload_url, auth=False).json()
            except requests.HTTPError:
                if exc.response.status_code == 404 and end == size:
                    return {}  # the session completed: the file exists
                raise exc from None
            expected = (status.get("nextExpectedRanges") or ["0-"])[0]
            if int(expected.split("-")[0]) == end:
                return {}
            raise

    def download(self, item_id: str) -> Iterator[bytes]:
        """GET content answers 302 to a pre-authenticated URL; requests follows it."""
        response = self.call(lambda: self._send("GET", self._url(item_id, "/content"),
                                                stream=True))
        return self._stream(response)

    def _stream(self, response: requests.Response) -> Iterator[bytes]:
        try:
            yield from response.iter_content(self.download_chunk_size)
        except requests.RequestException as exc:
            raise self.translate(exc) from exc
        finally:
            response.close()

    def rename(self, item_id: str, new_name: str) -> Item:
        body = {"name": self.safe_name(new_name), "@microsoft.graph.conflictBehavior": "fail"}
        return self._item(self._json("PATCH", self._url(item_id), json=body))

    def move(self, item_id: str, new_parent_id: str, new_name: str | None = None) -> Item:
        body = {"parentReference": {"id": new_parent_id},
                "@microsoft.graph.conflictBehavior": "fail"}
        if new_name is not None:
            body["name"] = self.safe_name(new_name)
        return self._item(self._json("PATCH", self._url(item_id), json=body))

    def delete(self, item_id: str) -> None:
        self.call(lambda: self._send("DELETE", self._url(item_id)).close())

    def list_children(self, folder_id: str) -> Iterator[Item]:
        url = self._url(folder_id, f"/children?$top={self.page_size}")
        while url:
            page = self._json("GET", url)
            for data in page.get("value", []):
                yield self._item(data)
            url = page.get("@odata.nextLink")

    def metadata(self, item_id: str) -> Item:
        return self._item(self._json("GET", self._url(item_id)))

    # -- the picker: pages, search, copy ------------------------------------------------
    def _graph_link(self, url: str) -> str:
        """A paging link handed back by a caller: only ever to this connection's Graph
        (the bearer token goes with it)."""
        if not url.startswith(self.graph_url + "/"):
            raise Fatal("the page token does not belong to this connection's Graph URL")
        return url

    def list_page(self, folder_id: str, page_token: str | None = None,
                  limit: int = 100) -> tuple[list[Item], str | None]:
        """``children?$top=`` then the page's ``@odata.nextLink`` (the page token); only
        children of ``folder_id`` are kept (a token made for another folder)."""
        url = (self._graph_link(page_token) if page_token else
               self._url(folder_id, f"/children?$top={max(1, min(int(limit), 1000))}"))
        page = self._json("GET", url)
        items = [self._item(data) for data in page.get("value", [])]
        return ([item for item in items if item.parent_id == folder_id],
                page.get("@odata.nextLink"))

    def search(self, query: str, limit: int = 50) -> list[Item]:
        """``root/search(q=)``: Graph matches names, metadata and content, and on business
        drives always the whole drive; results are kept when the name contains ``query``
        and the item lies beneath the root (ancestry by parent ids)."""
        wanted = query.strip()
        if not wanted:
            return []
        text = quote(wanted.replace("'", "''"), safe="")
        url = f"/drives/{self.drive_id}/root/search(q='{text}')?$top={self.page_size}"
        found: list[Item] = []
        for _page in range(SEARCH_PAGES):
            page = self._json("GET", url)
            for data in page.get("value", []):
                item = self._parse(data)
                self._parents[item.id] = item.parent_id
                if (item.id != self.root_id and wanted.casefold() in item.name.casefold()
                        and self._is_beneath(item.id)):
                    found.append(self._item(data))
            url = page.get("@odata.nextLink")
            if len(found) >= limit or not url:
                break
        return found[:limit]

    def copy(self, item_id: str, parent_id: str, name: str | None = None) -> Item:
        """``POST /copy`` answers 202 with a monitor URL (another host on the real
        service: polled without the token) that reports the new item's id."""
        body = {"parentReference": {"driveId": self.drive_id, "id": parent_id}}
        if name is not None:
            body["name"] = self.safe_name(name)
        response = self.call(lambda: self._send(
            "POST", self._url(item_id, "/copy"), json=body,
            params={"@microsoft.graph.conflictBehavior": "fail"}), idempotent=False)
        with response:
            monitor = response.headers.get("Location")
        if not monitor:
            raise Fatal("Graph accepted the copy without a monitor URL")
        return self.metadata(self._copied(monitor))

    def _copied(self, monitor: str) -> str:
        """Poll the monitor (backing off up to 2 s) until the copy completed; its id."""
        deadline = time.monotonic() + float(self.config.get("copy_timeout") or 300)
        delay = 0.05
        while True:
            response = self.call(lambda: self._send("GET", monitor, auth=False,
                                                    allow_redirects=False))
            with response:
                if response.status_code == 303:  # the older form: a redirect to the item
                    return response.headers["Location"].rstrip("/").rsplit("/", 1)[-1]
                status = response.json()
            if status.get("status") == "completed":
                return status["resourceId"]
            if status.get("status") == "failed":
                error = status.get("error") or {}
                text = f"copy failed: {error.get('code')}: {error.get('message', '')}"
                if error.get("code") == "nameAlreadyExists":
                    raise NameTaken(text)
                if error.get("code") in ("quotaLimitReached", "insufficientStorage"):
                    raise QuotaExceeded(text)
                raise Fatal(text)
            if time.monotonic() + delay > deadline:
                raise Fatal("the copy is still running on the server; it will appear there")
            time.sleep(delay)
            delay = min(delay * 2, 2.0)

    # -- versions ------------------------------------------------------------------------
    def versions(self, item_id: str) -> list[Version]:
        """``/versions``: newest first, the current one first (Graph's order)."""
        found, url = [], self._url(item_id, "/versions")
        while url:
            page = self._json("GET", url)
            found += page.get("value", [])
            url = page.get("@odata.nextLink")
        return [Version(id=v["id"], size=int(v.get("size") or 0),
                        modified=_parse_time(v.get("lastModifiedDateTime")),
                        author=((v.get("lastModifiedBy") or {}).get("user") or {}).get(
                            "displayName"),
                        current=index == 0)
                for index, v in enumerate(found)]

    def _version_url(self, item_id: str, version_id: str, suffix: str = "") -> str:
        return self._url(item_id, f"/versions/{quote(version_id, safe='')}{suffix}")

    def download_version(self, item_id: str, version_id: str) -> Iterator[bytes]:
        """``versions/{id}/content`` answers 302 to the bytes, as a download does."""
        response = self.call(lambda: self._send(
            "GET", self._version_url(item_id, version_id, "/content"), stream=True))
        return self._stream(response)

    def restore_version(self, item_id: str, version_id: str) -> Item:
        """``restoreVersion`` (204): the old bytes become a new current version."""
        self.call(lambda: self._send(
            "POST", self._version_url(item_id, version_id, "/restoreVersion")).close())
        return self.metadata(item_id)

    def link(self, item_id: str, public: bool | None = None, *, audience: str | None = None,
             expires_in: int | None = None) -> str:
        """Public: a view link for ``audience`` (else the config's ``link_scope``:
        anonymous or organization); else webUrl."""
        self.check_link_options(audience, expires_in)
        if not public:
            return self.metadata(item_id).web_url or ""
        scope = ({"anyone": "anonymous", "organization": "organization"}[audience] if audience
                 else self.config.get("link_scope") or "anonymous")
        body = {"type": "view", "scope": scope}
        return self._json("POST", self._url(item_id, "/createLink"), json=body)["link"]["webUrl"]

    @property
    def _scoped_feed(self) -> bool:
        """Business and SharePoint drives answer delta on the drive root only: below a
        root folder the feed is the drive's, kept to the root's subtree here. Personal
        drives answer delta on any folder."""
        return self.drive_type != "personal" and bool(self.config.get("root"))

    def initial_cursor(self) -> str:
        start = f"/drives/{self.drive_id}/root" if self._scoped_feed else self._url(self.root_id)
        page = self._json("GET", f"{start}/delta?token=latest")
        return self._seen.mark(page["@odata.deltaLink"])

    def changes(self, cursor: str) -> tuple[list[Change], str]:
        """Follow ``@odata.nextLink`` to the ``@odata.deltaLink`` (the next cursor)."""
        if not cursor.startswith(self.graph_url + "/"):
            raise CursorExpired("the cursor does not belong to this connection's Graph URL")
        entries, url = [], cursor
        while True:
            page = self._json("GET", url)
            entries += [d for d in page.get("value", []) if d.get("id") != self.root_id]
            if page.get("@odata.nextLink"):
                url = page["@odata.nextLink"]
                continue
            mark = self._seen.mark_of(cursor)
            if self._scoped_feed:
                entries = self._beneath_root(entries, mark)
            return [self._change(d, mark) for d in entries], self._seen.mark(
                page["@odata.deltaLink"])

    def _beneath_root(self, entries: list[dict], mark: int) -> list[dict]:
        """The entries below the root; one that left it since the cursor is a deletion."""
        for data in entries:  # the batch's own folders resolve ancestry without calls
            self._parents[data["id"]] = (data.get("parentReference") or {}).get("id")
        kept = []
        for data in entries:
            if self._is_beneath(data["id"]):
                kept.append(data)
                continue
            before = self._seen.state_at(data["id"], mark)
            if before and "deleted" not in data and self._is_beneath(before[0], parent=True):
                kept.append({**data, "deleted": {"state": "moved out of the root"}})
        return kept

    def _is_beneath(self, item_id: str | None, parent: bool = False) -> bool:
        """Whether ``item_id`` lies below the root (``parent``: is the root or below it),
        walking up known parents and fetching unknown ones (each once per instance)."""
        seen = set()
        current = item_id if parent else self._parent_of(item_id)
        while current and current not in seen:
            if current == self.root_id:
                return True
            seen.add(current)
            current = self._parent_of(current)
        return False

    def _parent_of(self, item_id: str | None) -> str | None:
        if item_id in self._parents:
            return self._parents[item_id]
        try:
            return self.metadata(item_id).parent_id
        except NotFound:
            return None

    def _change(self, data: dict, mark: int) -> Change:
        """Name one delta entry: a ``deleted`` facet is DELETED; otherwise compare with
        the state as of the cursor. Items this instance never saw are CREATED when never
        modified since creation, else UPDATED (the planner knows their old state)."""
        before = self._seen.state_at(data["id"], mark)
        if "deleted" in data:
            self._observe(data["id"], None)
            kind = Kind.FOLDER if "folder" in data else Kind.FILE
            item = Item(id=data["id"], name=data.get("name") or (before or ("", ""))[1],
                        kind=kind, parent_id=(data.get("parentReference") or {}).get("id"))
            return Change(ChangeType.DELETED, item, old_parent_id=before and before[0],
                          old_name=before and before[1])
        item = self._item(data)
        if before is None:
            fresh = data.get("createdDateTime") == data.get("lastModifiedDateTime")
            return Change(ChangeType.CREATED if fresh else ChangeType.UPDATED, item)
        if before[0] != item.parent_id:
            return Change(ChangeType.MOVED, item, old_parent_id=before[0], old_name=before[1])
        if before[1] != item.name:
            return Change(ChangeType.RENAMED, item, old_name=before[1])
        return Change(ChangeType.UPDATED, item)

    # -- what this instance has seen (for naming changes) --------------------------------
    HISTORY_ITEMS = 100_000

    def _observe(self, item_id: str, state: tuple | None, parent_id: str | None = None):
        self._seen.observe(item_id, state)
        if state is not None:
            with self._state_lock:
                self._parents.pop(item_id, None)
                self._parents[item_id] = parent_id
                while len(self._parents) > self.HISTORY_ITEMS:
                    self._parents.popitem(last=False)

    def close(self) -> None:
        self.session.close()


def _parse_time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def site_reference(text: str) -> str:
    """A site id or ``hostname:/sites/name`` from a typed id, path or web address (the
    address is cut after ``/sites/<name>`` or ``/teams/<name>``: a library's page works)."""
    text = text.strip()
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return text
    segments = [unquote(p) for p in parts.path.split("/") if p]
    if len(segments) >= 2 and segments[0].lower() in ("sites", "teams"):
        segments = segments[:2]
    else:
        segments = []  # the host's root site
    return f"{parts.hostname}:/" + "/".join(segments)


def _site_url(ref: str, suffix: str = "") -> str:
    """Graph's address of a site by id or by ``hostname:/path`` (a path ends with ``:``
    before a further segment)."""
    host, colon, path = ref.partition(":")
    path = path.rstrip("/")
    if not colon or not path:  # an id, or a host name alone: its root site
        return f"/sites/{quote(host, safe=',.')}{suffix}"
    return f"/sites/{quote(host, safe='.')}:{quote(path, safe='/')}" + (
        f":{suffix}" if suffix else "")


def _site(data: dict) -> dict:
    return {"id": data["id"], "name": data.get("displayName") or data.get("name") or data["id"],
            "web_url": data.get("webUrl", "")}


def _scopes(config: dict) -> list[str]:
    return list(config.get("scopes") or DEFAULT_SCOPES)


def msal_app(config: dict, session: requests.Session | None = None):
    """msal's confidential client for the connection's authority (discovery: 1 call)."""
    import msal

    session = session or GraphSession(config.get("ca_bundle") or True,
                                      float(config.get("timeout") or 60))
    authority = (config.get("authority_url") or "https://login.microsoftonline.com").rstrip("/")
    return msal.ConfidentialClientApplication(
        config["client_id"], client_credential=config.get("client_secret"),
        authority=f"{authority}/{config.get('tenant') or 'common'}",
        instance_discovery=False, http_client=session)


def _check_token_result(result: dict) -> None:
    if "error" in result:
        message = f"{result['error']}: {result.get('error_description', '')}"
        if result["error"] in REAUTH_ERRORS:
            raise ReauthRequired(message)
        raise RetryLater(message)


def start_connect(config: dict, redirect_uri: str, state: str) -> dict:
    """Begin the connect flow: msal's auth code flow (PKCE and a nonce included).

    Keep the returned dict server-side (the Odoo session) and send the user to its
    ``auth_uri``; ``state`` is the caller's CSRF token, which msal checks on the way back.
    """
    try:
        app = msal_app(config)
    except ValueError as exc:  # msal: the authority's OpenID configuration was refused
        raise Fatal(f"the authority address did not answer as a Microsoft identity "
                    f"platform (check the authority URL and tenant): {exc}") from exc
    return app.initiate_auth_code_flow(
        _scopes(config), redirect_uri=redirect_uri, state=state, prompt="select_account")


def finish_connect(config: dict, flow: dict, params: dict) -> dict:
    """Trade the callback's query ``params`` for tokens, as config keys (``access_token``,
    ``refresh_token``) plus the signed-in ``account``. A denied consent or a spent code
    raises :class:`ReauthRequired`; a forged or replayed state :class:`Fatal`."""
    try:
        result = msal_app(config).acquire_token_by_auth_code_flow(flow, params)
    except ValueError as exc:  # msal: state mismatch, missing code
        raise Fatal(f"connect flow refused: {exc}") from exc
    _check_token_result(result)
    claims = result.get("id_token_claims") or {}
    return {"access_token": result["access_token"],
            "refresh_token": result.get("refresh_token", ""),
            "account": claims.get("preferred_username") or claims.get("name") or ""}


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        return max(0.0, (when - datetime.now(when.tzinfo)).total_seconds())


def _sized(stream: BinaryIO, size: int | None, spool_limit: int) -> tuple[BinaryIO, int]:
    """The stream and its remaining size; unsized, unseekable streams are spooled
    (an upload session must announce the total size)."""
    if size is not None:
        return stream, size
    try:
        start = stream.tell()
        end = stream.seek(0, 2)
        stream.seek(start)
        return stream, end - start
    except (AttributeError, OSError, ValueError):
        spool = tempfile.SpooledTemporaryFile(max_size=spool_limit)  # noqa: SIM115 - returned
        shutil.copyfileobj(stream, spool)
        size = spool.tell()
        spool.seek(0)
        return spool, size
