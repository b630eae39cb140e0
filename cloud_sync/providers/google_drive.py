"""Google Drive v3 on google-api-python-client and google-auth.

Config keys: ``api_url`` (the API root, default ``https://www.googleapis.com/``),
``token_uri``; credentials either ``client_id``/``client_secret``/``refresh_token``
(optionally ``access_token`` and ``token_expiry``) or ``service_account_info`` (dict or
JSON, optional ``subject`` for domain-wide delegation); ``root`` (folder id, empty = the
drive's root), ``drive_id`` (a shared drive; empty = My Drive), ``timeout`` (seconds),
``ca_bundle`` (PEM path, default system trust), ``chunk_size`` (resumable chunk, a
multiple of 256 KiB).

The client is built from the SDK's bundled discovery document with ``rootUrl`` set to
``api_url``, so metadata and upload URLs follow it. The SDK's own retry loops stay off
(``num_retries=0``, and ``AuthorizedHttp`` does not refresh on 401): every request runs
under :meth:`Provider.call`, which retries with the server's Retry-After and refreshes
the token through :meth:`refresh_token`. google-auth's token endpoint call keeps its own
short retry on 5xx (not configurable there).
"""

from __future__ import annotations

import contextlib
import functools
import http.client
import io
import json
import mimetypes
import os
import shutil
import ssl
import tempfile
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import BinaryIO, ClassVar
from urllib.parse import urlencode

import google_auth_httplib2
import googleapiclient
import httplib2
from google.auth import exceptions as auth_exceptions
from googleapiclient.discovery import build_from_document
from googleapiclient.errors import HttpError
from googleapiclient.http import MediaIoBaseDownload, MediaIoBaseUpload

from ..naming import NameRules
from .base import Change, ChangeType, Item, Kind, Provider, Resume, Version
from .errors import (
    CursorExpired,
    Fatal,
    NotFound,
    QuotaExceeded,
    ReauthRequired,
    RetryLater,
)
from .seen import SeenStates

FOLDER = "application/vnd.google-apps.folder"
SCOPES = ["https://www.googleapis.com/auth/drive"]
AUTH_URI = "https://accounts.google.com/o/oauth2/auth"
TOKEN_URI = "https://oauth2.googleapis.com/token"
FIELDS = ("id,name,mimeType,parents,size,md5Checksum,headRevisionId,version,modifiedTime,"
          "webViewLink,trashed,driveId")
SEARCH_PAGES = 10  # files.list pages a search reads at most (matches outside the root)
RATE_LIMIT_REASONS = {"rateLimitExceeded", "userRateLimitExceeded"}
QUOTA_REASONS = {"storageQuotaExceeded", "quotaExceeded", "teamDriveFileLimitExceeded"}

_DOCS = "application/vnd.google-apps."
_OOXML = "application/vnd.openxmlformats-officedocument."
_ODF = "application/vnd.oasis.opendocument."
# native type → (office export, ODF export); each as (MIME type, extension)
EXPORT_FORMATS = {
    _DOCS + "document": ((_OOXML + "wordprocessingml.document", "docx"),
                         (_ODF + "text", "odt")),
    _DOCS + "spreadsheet": ((_OOXML + "spreadsheetml.sheet", "xlsx"),
                            ("application/x-vnd.oasis.opendocument.spreadsheet", "ods")),
    _DOCS + "presentation": ((_OOXML + "presentationml.presentation", "pptx"),
                             (_ODF + "presentation", "odp")),
    _DOCS + "drawing": (("application/pdf", "pdf"), ("application/pdf", "pdf")),
}


def export_format(native_mime: str, odf: bool = False) -> tuple[str, str]:
    """The export MIME type and file extension for a Google-native document type."""
    try:
        return EXPORT_FORMATS[native_mime][1 if odf else 0]
    except KeyError:
        raise Fatal(f"{native_mime} is not an exportable Google-native type") from None


def authorization_url(config: dict, redirect_uri: str, state: str) -> str:
    """Google's consent page for the connect flow (offline access: a refresh token)."""
    params = {"client_id": config["client_id"], "redirect_uri": redirect_uri,
              "response_type": "code", "scope": " ".join(SCOPES), "access_type": "offline",
              "prompt": "consent", "include_granted_scopes": "true", "state": state}
    return (config.get("auth_uri") or AUTH_URI) + "?" + urlencode(params)


def exchange_code(config: dict, code: str, redirect_uri: str) -> dict:
    """Trade the callback's code for tokens, as config keys (``access_token``,
    ``refresh_token``, ``token_expiry``). The SDKs offer no call for this step."""
    http = httplib2.Http(timeout=float(config.get("timeout") or 60),
                         ca_certs=config.get("ca_bundle") or None)
    body = urlencode({"grant_type": "authorization_code", "code": code,
                      "redirect_uri": redirect_uri, "client_id": config["client_id"],
                      "client_secret": config["client_secret"]})
    resp, content = http.request(config.get("token_uri") or TOKEN_URI, "POST", body=body,
                                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    try:
        data = json.loads(content)
    except ValueError:
        data = {}
    if resp.status >= 500:
        raise RetryLater(f"token endpoint answered {resp.status}", status=resp.status)
    if resp.status != 200 or "refresh_token" not in data:
        error = f"Google refused the code: {data.get('error')} {data.get('error_description')}"
        if data.get("error") == "invalid_grant":
            raise ReauthRequired(error, status=resp.status)
        raise Fatal(error, status=resp.status)
    expiry = datetime.now(timezone.utc) + timedelta(seconds=int(data.get("expires_in", 3600)))
    return {"access_token": data["access_token"], "refresh_token": data["refresh_token"],
            "token_expiry": expiry.replace(tzinfo=None).isoformat()}


@functools.cache
def _discovery_document() -> str:
    path = os.path.join(os.path.dirname(googleapiclient.__file__), "discovery_cache",
                        "documents", "drive.v3.json")
    with open(path, encoding="utf-8") as fh:
        return fh.read()


class GoogleDriveProvider(Provider):
    key = "google_drive"
    # Drive accepts any character and duplicate names (ids are the keys); "/" and "\\"
    # are still replaced so that names map to paths elsewhere.
    name_rules = NameRules(max_length=255)
    unique_names = False
    has_public_links = True
    refreshes_tokens = True
    # Drive's default quota: 12,000 queries per 60 s per user
    rates: ClassVar[dict[str, float]] = {"request": 12000 / 60}
    has_versions = True  # revisions.list / get(alt=media); restore = update with the bytes
    can_search = True  # files.list "name contains", kept when beneath the root
    server_side_copy = True  # files.copy
    hash_type = "md5"
    chunk_threshold = 5 * 1024 * 1024  # multipart up to 5 MB, resumable above
    resumes_uploads = True  # the resumable session URI, asked with bytes */size
    chunk_size = 8 * 1024 * 1024

    def __init__(self, config: dict, **kwargs):
        super().__init__(config, **kwargs)
        self.timeout = float(self.config.get("timeout") or 60)
        self.ca_bundle = self.config.get("ca_bundle") or None
        self.drive_id = self.config.get("drive_id") or None
        self.chunk_size = int(self.config.get("chunk_size") or self.chunk_size)
        self.credentials = self._make_credentials()
        self._token = self.credentials.token
        self._refresh_lock = threading.Lock()
        self._local = threading.local()
        doc = json.loads(_discovery_document())
        api_url = self.config.get("api_url") or doc["rootUrl"]
        doc["rootUrl"] = api_url if api_url.endswith("/") else api_url + "/"
        doc.pop("mtlsRootUrl", None)
        doc["baseUrl"] = doc["rootUrl"] + doc["servicePath"]
        self.service = build_from_document(doc, http=self._http())
        self._root_id = self.config.get("root") or self.drive_id
        # Drive's feed gives each changed file's current state only. To name a change,
        # compare with the state as of the cursor: every observation gets a local clock
        # tick, every cursor handed out the tick of that moment.
        self._seen = SeenStates()
        self._parents: dict[str, str | None] = {}

    # -- plumbing -------------------------------------------------------------------------
    def _make_credentials(self):
        info = self.config.get("service_account_info")
        token_uri = self.config.get("token_uri") or TOKEN_URI
        if info:
            from google.oauth2 import service_account

            info = dict(json.loads(info) if isinstance(info, str) else info)
            info["token_uri"] = self.config.get("token_uri") or info.get("token_uri")
            creds = service_account.Credentials.from_service_account_info(info, scopes=SCOPES)
            subject = self.config.get("subject")
            return creds.with_subject(subject) if subject else creds
        from google.oauth2.credentials import Credentials

        for key in ("client_id", "client_secret", "refresh_token"):
            if not self.config.get(key):
                raise Fatal(f"Google Drive configuration lacks {key!r}")
        expiry = self.config.get("token_expiry")
        if isinstance(expiry, str):  # google-auth keeps naive UTC datetimes
            expiry = datetime.fromisoformat(expiry)
            if expiry.tzinfo:
                expiry = expiry.astimezone(timezone.utc).replace(tzinfo=None)
        return Credentials(
            self.config.get("access_token"), refresh_token=self.config["refresh_token"],
            token_uri=token_uri, client_id=self.config["client_id"],
            client_secret=self.config["client_secret"], scopes=SCOPES, expiry=expiry)

    def _raw_http(self) -> httplib2.Http:
        http = httplib2.Http(timeout=self.timeout, ca_certs=self.ca_bundle)
        # 308 is "resume incomplete" for uploads, not a redirect (as the SDK's build_http)
        http.redirect_codes = http.redirect_codes - {308}
        return http

    def _http(self) -> google_auth_httplib2.AuthorizedHttp:
        """One HTTP connection per thread (httplib2 is not thread-safe)."""
        http = getattr(self._local, "http", None)
        if http is None:
            http = google_auth_httplib2.AuthorizedHttp(
                self.credentials, http=self._raw_http(), refresh_status_codes=())
            self._local.http = http
        return http

    def _exec(self, request):
        """Run one SDK request once (retries belong to :meth:`call`)."""
        if not self.credentials.valid:
            self._refresh_expired()
        try:
            return request.execute(http=self._http(), num_retries=0)
        finally:
            self._notify_if_refreshed()

    def _run(self, request, *, idempotent: bool = True):
        return self.call(lambda: self._exec(request), idempotent=idempotent)

    def _notify_if_refreshed(self) -> None:
        """google-auth refreshes an expired token before a request: persist the new one.
        A service account's token is not reported: the key gets a new one at any time,
        and a stored one would outlive a change of key or impersonated user."""
        if self.credentials.token != self._token:
            self._token = self.credentials.token
            if self.config.get("service_account_info"):
                return
            credentials = {"access_token": self._token}
            if self.credentials.expiry:
                credentials["token_expiry"] = self.credentials.expiry.isoformat()
            refresh = getattr(self.credentials, "refresh_token", None)
            if refresh:
                credentials["refresh_token"] = refresh
            self.notify_token(credentials)

    def _refresh_expired(self) -> None:
        """google-auth would refresh an expired token before the request in every thread
        that meets it: with parallel transfers, refresh it once here instead."""
        with self._single_flight:
            if not self.credentials.valid:
                self.refresh_token()
                self._token_generation += 1

    def refresh_token(self) -> bool:
        with self._refresh_lock:
            try:
                self.credentials.refresh(google_auth_httplib2.Request(self._raw_http()))
            except Exception as exc:  # noqa: BLE001 - translated to a typed error
                raise self.translate(exc) from exc
            self._notify_if_refreshed()
        return True

    def translate(self, exc: Exception) -> Exception:
        if isinstance(exc, HttpError):
            return _translate_http(exc)
        if isinstance(exc, auth_exceptions.RefreshError):
            if getattr(exc, "retryable", False):
                return RetryLater(f"token endpoint: {exc}")
            # google-auth's args are (message, response body): keep the message
            detail = exc.args[0] if exc.args and isinstance(exc.args[0], str) else exc
            return ReauthRequired(f"Google refused the grant: {detail}")
        if isinstance(exc, ssl.SSLCertVerificationError):
            return Fatal(f"TLS: the server's certificate is not trusted ({exc}); "
                         f"check ca_bundle")
        if isinstance(exc, auth_exceptions.TransportError | TimeoutError | ConnectionError |
                      httplib2.HttpLib2Error | http.client.HTTPException |  # a cut body
                      ssl.SSLEOFError | ssl.SSLZeroReturnError):  # the TLS link closed
            return RetryLater(f"network: {exc!r}")
        return exc

    @property
    def _drive_args(self) -> dict:
        return {"supportsAllDrives": True}

    def _list_args(self) -> dict:
        args = {"supportsAllDrives": True, "includeItemsFromAllDrives": True}
        if self.drive_id:
            args.update(corpora="drive", driveId=self.drive_id)
        return args

    def _item(self, data: dict, remember: bool = True) -> Item:
        folder = data.get("mimeType") == FOLDER
        parents = data.get("parents") or [None]
        modified = data.get("modifiedTime")
        item = Item(
            id=data["id"], name=data.get("name", ""),
            kind=Kind.FOLDER if folder else Kind.FILE, parent_id=parents[0],
            size=int(data.get("size") or 0),
            version=data.get("headRevisionId") or data.get("version"),
            hash_type="md5" if data.get("md5Checksum") else None,
            content_hash=data.get("md5Checksum"),
            modified=_parse_time(modified),
            web_url=data.get("webViewLink"), mime_type=data.get("mimeType"),
            extra={"drive_version": data.get("version"), "drive_id": data.get("driveId"),
                   "trashed": bool(data.get("trashed"))})
        self._parents[item.id] = item.parent_id
        if remember and not item.extra["trashed"]:
            self._observe(item.id, _state(item))
        return item

    def _observe(self, item_id: str, state: tuple | None) -> None:
        self._seen.observe(item_id, state)

    # -- the contract ---------------------------------------------------------------------
    @property
    def root_id(self) -> str:
        if not self._root_id:
            request = self.service.files().get(fileId="root", fields="id")
            self._root_id = self._run(request)["id"]
        return self._root_id

    def create_folder(self, parent_id: str, name: str) -> Item:
        body = {"name": self.safe_name(name), "mimeType": FOLDER, "parents": [parent_id]}
        request = self.service.files().create(body=body, fields=FIELDS, **self._drive_args)
        return self._item(self._run(request, idempotent=False))

    def upload(self, parent_id: str, name: str, stream: BinaryIO, size: int | None = None,
               resume: Resume | None = None) -> Item:
        body = {"name": self.safe_name(name), "parents": [parent_id]}
        return self._send(self.service.files().create, body, stream, size, idempotent=False,
                          resume=resume, target=f"{parent_id}/{body['name']}")

    def update(self, item_id: str, stream: BinaryIO, size: int | None = None,
               resume: Resume | None = None) -> Item:
        return self._send(self.service.files().update, None, stream, size, fileId=item_id,
                          resume=resume, target=item_id)

    def _send(self, method, body, stream, size, idempotent=True, resume=None, target="",
              **args) -> Item:
        """Multipart up to :attr:`chunk_threshold`, resumable chunks above.

        ``resume``: the session URI is saved; a saved one is continued the SDK's own way
        after an error (``PUT`` with ``Content-Range: bytes */size``, the 308's ``Range``
        says where to go on); a session Drive forgot (404) starts over."""
        with contextlib.ExitStack() as stack:
            if not _seekable(stream):  # resumable chunks seek back on a retry
                spool = stack.enter_context(
                    tempfile.SpooledTemporaryFile(max_size=self.chunk_threshold))
                shutil.copyfileobj(stream, spool)
                spool.seek(0)
                stream = spool
            if size is None:
                start = stream.tell()
                size = stream.seek(0, io.SEEK_END) - start
                stream.seek(start)
            mime = mimetypes.guess_type(body["name"])[0] if body else None
            mime = mime or "application/octet-stream"
            if size <= self.chunk_threshold:
                media = MediaIoBaseUpload(io.BytesIO(stream.read(size)), mime, resumable=False)
                request = method(body=body, media_body=media, fields=FIELDS,
                                 **self._drive_args, **args)
                return self._item(self._run(request, idempotent=idempotent))
            resume = resume or Resume()
            media = MediaIoBaseUpload(stream, mime, chunksize=self.chunk_size, resumable=True)
            request = method(body=body, media_body=media, fields=FIELDS,
                             **self._drive_args, **args)
            state = resume.matching(self.key, target, size)
            stored = bool(state and state.get("uri"))
            if stored:
                # the SDK's state after an error: the next step asks the server first
                request.resumable_uri, request._in_error_state = state["uri"], True
            done = None
            while done is None:  # each step (session start or one chunk) is resumable
                try:
                    _, done = self.call(
                        lambda: request.next_chunk(http=self._http(), num_retries=0))
                except NotFound:
                    if not state:
                        raise
                    resume.drop()  # the saved session expired: a new one from the start
                    return self._send(method, body, stream, size, idempotent, resume, target,
                                      **args)
                except BaseException:
                    self._reset_http()
                    raise
                finally:
                    self._notify_if_refreshed()
                state = None
                if done is None:
                    if not stored:
                        resume.store(self.key, target, size, uri=request.resumable_uri)
                        stored = True
                    resume.save(dict(resume.state, offset=request.resumable_progress))
            resume.drop()
            return self._item(done)

    def _reset_http(self) -> None:
        """Forget this thread's connection: a request cut in the middle of its body (the
        stream failed) leaves httplib2's connection expecting the rest."""
        http = getattr(self._local, "http", None)
        if http is not None:
            with contextlib.suppress(Exception):
                http.close()
            self._local.http = None

    def download(self, item_id: str) -> Iterator[bytes]:
        request = self.service.files().get_media(fileId=item_id, **self._drive_args)
        return self._stream(request)

    def export(self, item_id: str, fmt: str) -> Iterator[bytes]:
        """Stream a Google-native document converted to ``fmt`` (a MIME type, or an
        extension such as ``docx``/``odt``/``xlsx``/``pdf``)."""
        mime = fmt
        if "/" not in fmt:
            known = {ext: m for pair in EXPORT_FORMATS.values() for m, ext in pair}
            if fmt not in known:
                raise Fatal(f"unknown export format {fmt!r}")
            mime = known[fmt]
        request = self.service.files().export_media(fileId=item_id, mimeType=mime)
        return self._stream(request)

    def _stream(self, request) -> Iterator[bytes]:
        """Ranged GETs of :attr:`chunk_size` (fewer calls against Drive's quota), handed
        out in pieces of at most :attr:`download_chunk_size`."""
        buffer = io.BytesIO()
        request.http = self._http()
        downloader = MediaIoBaseDownload(buffer, request, chunksize=self.chunk_size)
        done = False
        while not done:
            _, done = self.call(downloader.next_chunk)
            self._notify_if_refreshed()
            data = buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            for start in range(0, len(data), self.download_chunk_size):
                yield data[start:start + self.download_chunk_size]

    def rename(self, item_id: str, new_name: str) -> Item:
        request = self.service.files().update(
            fileId=item_id, body={"name": self.safe_name(new_name)}, fields=FIELDS,
            **self._drive_args)
        return self._item(self._run(request))

    def move(self, item_id: str, new_parent_id: str, new_name: str | None = None) -> Item:
        current = self._run(self.service.files().get(
            fileId=item_id, fields="parents", **self._drive_args))
        body = {"name": self.safe_name(new_name)} if new_name else {}
        request = self.service.files().update(
            fileId=item_id, body=body, addParents=new_parent_id,
            removeParents=",".join(p for p in current.get("parents", []) if p != new_parent_id),
            fields=FIELDS, **self._drive_args)
        return self._item(self._run(request))

    def delete(self, item_id: str) -> None:
        """To the trash (``files.delete`` would be permanent). Trashed items are gone."""
        self.metadata(item_id)  # trashing twice succeeds on Drive: raise NotFound instead
        request = self.service.files().update(
            fileId=item_id, body={"trashed": True}, fields="id", **self._drive_args)
        self._run(request)

    def list_children(self, folder_id: str) -> Iterator[Item]:
        return self._list(f"'{_quote(folder_id)}' in parents and trashed=false")

    def find_child(self, parent_id: str, name: str, kind: Kind | None = None) -> Item | None:
        """Asks Drive for the name instead of listing every sibling (one call)."""
        wanted = self.safe_name(name)
        q = f"'{_quote(parent_id)}' in parents and name = '{_quote(wanted)}' and trashed=false"
        if kind is not None:
            q += f" and mimeType {'=' if kind == Kind.FOLDER else '!='} '{FOLDER}'"
        key = self.name_rules.key(wanted)
        return next((c for c in self._list(q) if self.name_rules.key(c.name) == key), None)

    def _list(self, q: str) -> Iterator[Item]:
        token = None
        while True:
            items, token = self._page(q, token, 1000)
            yield from items
            if not token:
                return

    def _page(self, q: str, token: str | None, size: int) -> tuple[list[Item], str | None]:
        """One ``files.list`` request: the page's items and the next page's token."""
        request = self.service.files().list(
            q=q, pageSize=max(1, min(int(size), 1000)), pageToken=token,
            fields=f"nextPageToken,files({FIELDS})", **self._list_args())
        page = self._run(request)
        return [self._item(data) for data in page.get("files", [])], page.get("nextPageToken")

    # -- the picker: pages, search, copy --------------------------------------------------
    def list_page(self, folder_id: str, page_token: str | None = None,
                  limit: int = 100) -> tuple[list[Item], str | None]:
        """``files.list`` with ``pageSize`` = ``limit`` and Drive's ``pageToken``."""
        return self._page(f"'{_quote(folder_id)}' in parents and trashed=false", page_token,
                          limit)

    def search(self, query: str, limit: int = 50) -> list[Item]:
        """``files.list`` with ``name contains`` (Drive matches the start of the name's
        words: "contract" finds "Signed Contract", "ontract" does not). Drive searches the
        whole drive: only items beneath the root are kept (ancestry through the parents,
        fetched once per unknown folder)."""
        wanted = query.strip()
        if not wanted:
            return []
        q = f"name contains '{_quote(wanted)}' and trashed=false"
        found, token = [], None
        for _page in range(SEARCH_PAGES):
            items, token = self._page(q, token, 100)
            found += [item for item in items if item.id != self.root_id
                      and wanted.casefold() in item.name.casefold() and self._beneath(item.id)]
            if len(found) >= limit or not token:
                break
        return found[:limit]

    def copy(self, item_id: str, parent_id: str, name: str | None = None) -> Item:
        """``files.copy`` (Drive names a copy "Copy of ..." unless told: the source's name
        is asked for first). Not retried blindly: a lost answer could leave a twin."""
        if name is None:
            name = self._run(self.service.files().get(
                fileId=item_id, fields="name", **self._drive_args))["name"]
        else:
            name = self.safe_name(name)
        request = self.service.files().copy(
            fileId=item_id, body={"name": name, "parents": [parent_id]}, fields=FIELDS,
            **self._drive_args)
        return self._item(self._run(request, idempotent=False))

    # -- revisions ------------------------------------------------------------------------
    def versions(self, item_id: str) -> list[Version]:
        """``revisions.list`` (oldest first, the last one is the head), newest first."""
        revisions, token = [], None
        while True:
            page = self._run(self.service.revisions().list(
                fileId=item_id, pageSize=1000, pageToken=token,
                fields="nextPageToken,revisions(id,modifiedTime,size,"
                       "lastModifyingUser(displayName,emailAddress))"))
            revisions += page.get("revisions", [])
            token = page.get("nextPageToken")
            if not token:
                break
        newest = revisions[::-1]
        return [Version(id=r["id"], size=int(r.get("size") or 0),
                        modified=_parse_time(r.get("modifiedTime")),
                        author=(r.get("lastModifyingUser") or {}).get("displayName"),
                        current=index == 0)
                for index, r in enumerate(newest)]

    def download_version(self, item_id: str, version_id: str) -> Iterator[bytes]:
        """``revisions.get`` with ``alt=media``: the revision of that file only (404
        otherwise)."""
        return self._stream(self.service.revisions().get_media(
            fileId=item_id, revisionId=version_id))

    def restore_version(self, item_id: str, version_id: str) -> Item:
        """Drive has no restore call: the revision's bytes are uploaded as the file's new
        content (``files.update``), a new head revision; the replaced head stays listed."""
        with tempfile.SpooledTemporaryFile(max_size=self.chunk_threshold) as spool:
            for chunk in self.download_version(item_id, version_id):
                spool.write(chunk)
            size = spool.tell()
            spool.seek(0)
            return self.update(item_id, spool, size)

    def metadata(self, item_id: str) -> Item:
        request = self.service.files().get(fileId=item_id, fields=FIELDS, **self._drive_args)
        data = self._run(request)
        if data.get("trashed"):
            raise NotFound(f"{item_id} is in the trash")
        return self._item(data)

    def link(self, item_id: str, public: bool | None = None, *, audience: str | None = None,
             expires_in: int | None = None) -> str:
        """Public: an anyone-with-the-link reader permission; internal: ``webViewLink``."""
        self.check_link_options(audience, expires_in)
        if public:
            self._run(self.service.permissions().create(
                fileId=item_id, body={"role": "reader", "type": "anyone"}, fields="id",
                **self._drive_args))
        request = self.service.files().get(fileId=item_id, fields="webViewLink",
                                           **self._drive_args)
        return self._run(request)["webViewLink"]

    def initial_cursor(self) -> str:
        args = {"supportsAllDrives": True}
        if self.drive_id:
            args["driveId"] = self.drive_id
        request = self.service.changes().getStartPageToken(**args)
        return self._seen.mark(self._run(request)["startPageToken"])

    def changes(self, cursor: str) -> tuple[list[Change], str]:
        args = {"supportsAllDrives": True, "includeItemsFromAllDrives": True,
                "includeRemoved": True, "pageSize": 1000,
                "fields": f"nextPageToken,newStartPageToken,changes(removed,fileId,"
                          f"file({FIELDS}))"}
        if self.drive_id:
            args["driveId"] = self.drive_id
        entries, token = [], cursor
        while True:
            try:
                page = self._run(self.service.changes().list(pageToken=token, **args))
            except Fatal as exc:
                if getattr(exc, "location", None) == "pageToken":
                    raise CursorExpired(str(exc), status=exc.status) from exc
                raise
            entries.extend(page.get("changes", []))
            if page.get("newStartPageToken"):
                changes = self._interpret(entries, self._seen.mark_of(cursor))
                return changes, self._seen.mark(page["newStartPageToken"])
            token = page["nextPageToken"]

    # -- change feed interpretation ---------------------------------------------------------
    def _interpret(self, entries: list[dict], mark: int) -> list[Change]:
        """Name each entry by comparing with the state as of the cursor (``mark``), and
        keep only what is (or was) beneath the root."""
        for entry in entries:  # the batch's own folders resolve ancestry without calls
            if entry.get("file"):
                self._parents[entry["fileId"]] = (entry["file"].get("parents") or [None])[0]
        out = []
        for entry in entries:
            file_id, data = entry["fileId"], entry.get("file")
            if file_id == self.root_id:
                continue
            before = self._seen.state_at(file_id, mark)
            gone = entry.get("removed") or not data or data.get("trashed")
            inside = data is not None and self._beneath(file_id)
            if gone or not inside:
                # a removed entry has no parents left: report it unless known elsewhere
                unknown = data is None and not self._known_outside(file_id)
                if before or (gone and (inside or unknown)):
                    self._observe(file_id, None)
                    item = self._item(data, remember=False) if data else Item(
                        file_id, before[1] if before else "",
                        before[3] if before else Kind.FILE)
                    out.append(Change(ChangeType.DELETED, item,
                                      old_parent_id=before[0] if before else None,
                                      old_name=before[1] if before else None))
                continue
            item = self._item(data)
            if before is None:
                out.append(Change(ChangeType.CREATED, item))
            elif before[0] != item.parent_id:
                out.append(Change(ChangeType.MOVED, item, old_parent_id=before[0],
                                  old_name=before[1]))
            elif before[1] != item.name:
                out.append(Change(ChangeType.RENAMED, item, old_name=before[1]))
            elif before[2] != item.version:
                out.append(Change(ChangeType.UPDATED, item))
        return out

    def _known_outside(self, file_id: str) -> bool:
        return file_id in self._parents and not self._beneath(file_id)

    def _beneath(self, file_id: str) -> bool:
        """Whether ``file_id`` lies below the root (walks up, fetching unknown parents)."""
        if self.drive_id and self.root_id == self.drive_id:
            return True
        seen = set()
        current = self._parents.get(file_id)
        while current and current not in seen:
            if current == self.root_id:
                return True
            seen.add(current)
            if current not in self._parents:
                try:
                    data = self._run(self.service.files().get(
                        fileId=current, fields="id,parents", **self._drive_args))
                except NotFound:
                    return False
                self._parents[current] = (data.get("parents") or [None])[0]
            current = self._parents[current]
        return False

    # -- for the connect flow ---------------------------------------------------------------
    def shared_drives(self) -> list[dict]:
        """``[{"id", "name"}]`` of the shared drives the account can see (to pick one)."""
        drives, token = [], None
        while True:
            page = self._run(self.service.drives().list(
                pageSize=100, pageToken=token, fields="nextPageToken,drives(id,name)"))
            drives.extend(page.get("drives", []))
            token = page.get("nextPageToken")
            if not token:
                return drives

    def account(self) -> dict:
        """The connected user (``displayName``, ``emailAddress``) and storage quota."""
        return self._run(self.service.about().get(fields="user,storageQuota"))

    def close(self) -> None:
        http = getattr(self._local, "http", None)
        if http is not None:
            for conn in list(http.http.connections.values()):
                conn.close()


def _parse_time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def _state(item: Item) -> tuple:
    return item.parent_id, item.name, item.version, item.kind


def _seekable(stream) -> bool:
    try:
        return stream.seekable()
    except AttributeError:
        return False


def _quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace("'", "\\'")


def _translate_http(exc: HttpError) -> Exception:
    status = exc.resp.status
    reason, location, message = "", None, str(exc)
    try:
        error = json.loads(exc.content.decode("utf-8"))["error"]
        message = error.get("message") or message
        detail = (error.get("errors") or [{}])[0]
        reason, location = detail.get("reason", ""), detail.get("location")
    except (ValueError, KeyError, TypeError, AttributeError):
        pass
    retry_after = exc.resp.get("retry-after")
    try:
        retry_after = float(retry_after) if retry_after is not None else None
    except ValueError:
        retry_after = None
    text = f"Drive {status} {reason}: {message}"
    if status == 429 or (status == 403 and reason in RATE_LIMIT_REASONS) or status >= 500:
        return RetryLater(text, retry_after=retry_after, status=status)
    if status == 401:
        return ReauthRequired(text, status=status)
    if status == 404 and location != "pageToken":
        return NotFound(text, status=status)
    if status == 403 and reason in QUOTA_REASONS:
        return QuotaExceeded(text, status=status)
    error = Fatal(text, status=status)
    error.location = location
    return error
