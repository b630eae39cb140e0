"""Box on the official SDK (boxsdk 10, package ``box_sdk_gen``).

Item ids are ``folder:<box id>`` / ``file:<box id>``: Box keeps files and folders in
separate endpoints, and knowing the kind from the id saves a probe call on every
rename, move, delete and metadata. ``config["root"]`` takes either form or a bare
folder id (``0`` is "All Files").

Auth: OAuth 2 (``access_token`` + ``refresh_token``; refresh tokens are single-use and
rotate, so every new pair is handed to ``on_token_refresh`` the moment the SDK stores
it) or the client credentials grant (``auth: ccg`` with ``enterprise_id`` or
``user_id``). The SDK's own retry strategy is replaced by one that only refreshes an
expired token once and polls a chunked-upload commit that answers 202: throttling,
5xx and timeouts surface as typed errors and the suite's one RetryPolicy decides.

Change feed: the ``changes`` event stream (``stream_position``), filtered to items
beneath the root by their path; events may repeat and are de-duplicated by
``event_id``. An item moved out of the root is reported as deleted. An event whose
source is Box's "event source" resource (``item_id``, ``item_name``, ``parent``: no
path or hashes) costs one metadata lookup per item and read; a trashed or missing item
is a deletion.
"""

from __future__ import annotations

import base64
import hashlib
import io
import tempfile
import threading
from collections.abc import Iterator
from datetime import datetime
from typing import BinaryIO, ClassVar

import requests
from box_sdk_gen import (
    AccessToken,
    BoxAPIError,
    BoxCCGAuth,
    BoxClient,
    BoxOAuth,
    BoxSDKError,
    CCGConfig,
    NetworkSession,
    OAuthConfig,
    TokenStorage,
)
from box_sdk_gen.managers.events import GetEventsStreamType
from box_sdk_gen.managers.file_versions import PromoteFileVersionType
from box_sdk_gen.managers.files import CopyFileParent, UpdateFileByIdParent
from box_sdk_gen.managers.folders import CreateFolderParent, UpdateFolderByIdParent
from box_sdk_gen.managers.search import SearchForContentContentTypes
from box_sdk_gen.managers.shared_links_files import (
    AddShareLinkToFileSharedLink,
    AddShareLinkToFileSharedLinkAccessField,
)
from box_sdk_gen.managers.shared_links_folders import (
    AddShareLinkToFolderSharedLink,
    AddShareLinkToFolderSharedLinkAccessField,
)
from box_sdk_gen.managers.uploads import (
    UploadFileAttributes,
    UploadFileAttributesParentField,
    UploadFileVersionAttributes,
)
from box_sdk_gen.networking.base_urls import BaseUrls
from box_sdk_gen.networking.box_network_client import BoxNetworkClient
from box_sdk_gen.networking.retries import RetryStrategy
from box_sdk_gen.networking.timeout_config import TimeoutConfig

from ..naming import NameRules
from .base import Change, ChangeType, Item, Kind, Provider, Resume, Version, exact_chunks
from .errors import (
    CursorExpired,
    Fatal,
    NameTaken,
    NotFound,
    QuotaExceeded,
    ReauthRequired,
    RetryLater,
)

FIELDS = ["type", "id", "name", "size", "sha1", "etag", "sequence_id", "parent",
          "modified_at", "path_collection", "version_number", "item_status", "shared_link"]
EVENT_PAGE = 500
SEARCH_PAGE = 200  # Box's largest search page
SEARCH_PAGES = 5  # pages of word matches read to find ``limit`` names containing the query
_EVENT_TYPES = {
    "ITEM_CREATE": ChangeType.CREATED,
    "ITEM_UNDELETE_VIA_TRASH": ChangeType.CREATED,
    "ITEM_COPY": ChangeType.CREATED,
    "ITEM_RENAME": ChangeType.RENAMED,
    "ITEM_MOVE": ChangeType.MOVED,
    "ITEM_TRASH": ChangeType.DELETED,
}


def box_id(item_id: str) -> tuple[str, str]:
    """``folder:12`` -> ("folder", "12"); a bare id is a folder (the root setting)."""
    kind, sep, raw = item_id.partition(":")
    if not sep:
        return "folder", item_id
    if kind not in ("file", "folder"):
        raise NotFound(f"not a Box item id: {item_id!r}")
    return kind, raw


class _OnlyRefresh(RetryStrategy):
    """The SDK retries nothing but an expired token (once) and a pending commit (202)."""

    def __init__(self, refresh=None):
        super().__init__()
        self.refresh = refresh

    def should_retry(self, fetch_options, fetch_response, attempt_number) -> bool:
        status = fetch_response.status
        if status == 202 and "retry-after" in fetch_response.headers:
            return attempt_number < 60
        if status == 401 and fetch_options.auth is not None and attempt_number == 1:
            if self.refresh is not None:
                self.refresh(fetch_options.network_session)
            else:
                fetch_options.auth.refresh_token(network_session=fetch_options.network_session)
            return True
        return False

    def retry_after(self, fetch_options, fetch_response, attempt_number) -> float:
        if fetch_response.status == 202:
            return float(fetch_response.headers.get("retry-after") or 1)
        return 0.0


class _TrustSession(requests.Session):
    """Sends its ``verify`` with every request: a session-level ``verify`` alone loses to
    ``REQUESTS_CA_BUNDLE`` when the environment sets it (requests' merge order)."""

    def __init__(self):
        super().__init__()
        self.sent = threading.local()  # the Authorization each thread sent last

    def request(self, method, url, **kwargs):
        kwargs.setdefault("verify", self.verify)
        self.sent.auth = (kwargs.get("headers") or {}).get("Authorization")
        return super().request(method, url, **kwargs)


class _NotifyingTokenStorage(TokenStorage):
    """Keeps the current token pair and reports every new one at once (rotation)."""

    def __init__(self, token: AccessToken | None, on_store):
        self._token = token
        self._on_store = on_store

    def store(self, token: AccessToken) -> None:
        self._token = token
        self._on_store(token)

    def get(self) -> AccessToken | None:
        return self._token

    def clear(self) -> None:
        self._token = None


class BoxProvider(Provider):
    key = "box"
    name_rules: ClassVar[NameRules] = NameRules(
        forbidden_chars="/\\", reserved_names=frozenset({".", ".."}), max_length=255,
        case_sensitive=False, strip_trailing=" ",
    )
    hash_type = "sha1"
    chunk_threshold = 20_000_000  # Box accepts upload sessions from 20,000,000 bytes
    resumes_uploads = True  # the upload session's endpoints, asked for its parts
    has_public_links = True
    link_options = frozenset({"audience"})
    public_link_is_content = False  # a shared link opens Box's page; see public_download_url
    refreshes_tokens = True
    has_versions = True  # previous versions: Box keeps them on paid plans (none on free ones)
    can_search = True
    server_side_copy = True
    # Box: about 1,000 API requests and 240 uploads per minute per user
    rates: ClassVar[dict[str, float]] = {"request": 1000 / 60, "upload": 240 / 60}

    def __init__(self, config: dict, **kwargs):
        super().__init__(config, **kwargs)
        self._session = session = _TrustSession()
        session.verify = config.get("ca_bundle") or True
        timeout_ms = int(float(config.get("timeout") or 60) * 1000)
        api_url = (config.get("api_url") or "https://api.box.com").rstrip("/")
        self.web_url = (config.get("web_url") or "https://app.box.com").rstrip("/")
        self.network = NetworkSession(
            network_client=BoxNetworkClient(session),
            retry_strategy=_OnlyRefresh(self._refresh_after_401),
            base_urls=BaseUrls(
                base_url=api_url,
                upload_url=(config.get("upload_url") or "https://upload.box.com/api").rstrip("/"),
                oauth_2_url=(config.get("oauth_url")
                             or "https://account.box.com/api/oauth2").rstrip("/"),
            ),
            timeout_config=TimeoutConfig(connection_timeout_ms=timeout_ms,
                                         read_timeout_ms=timeout_ms),
        )
        if config.get("auth") == "ccg":
            self.auth = BoxCCGAuth(CCGConfig(
                client_id=config["client_id"], client_secret=config["client_secret"],
                enterprise_id=config.get("enterprise_id") or None,
                user_id=config.get("user_id") or None,
            ))
        else:
            token = AccessToken(access_token=config.get("access_token"),
                                refresh_token=config.get("refresh_token"), token_type="bearer")
            storage = _NotifyingTokenStorage(token, self._token_stored)
            self.auth = BoxOAuth(OAuthConfig(client_id=config["client_id"],
                                             client_secret=config["client_secret"],
                                             token_storage=storage))
        self.client = BoxClient(auth=self.auth, network_session=self.network)
        root = str(config.get("root") or "0")
        self._root = root if ":" in root else f"folder:{root}"

    # -- plumbing -----------------------------------------------------------------------
    def _token_stored(self, token: AccessToken) -> None:
        self.notify_token({"access_token": token.access_token,
                           "refresh_token": token.refresh_token,
                           "expires_in": token.expires_in})

    def _refresh_after_401(self, network_session) -> None:
        """Single flight: threads whose requests carried the same expired token refresh
        it once (a Box refresh token is single use); the others retry with the new one."""
        sent = getattr(self._session.sent, "auth", None)
        with self._single_flight:
            token = self.auth.token_storage.get()
            if sent and token and sent != f"Bearer {token.access_token}":
                return
            self.auth.refresh_token(network_session=network_session)
            self._token_generation += 1

    def refresh_token(self) -> bool:
        try:
            self.auth.refresh_token(network_session=self.network)
        except BoxSDKError:
            return False
        return True

    def translate(self, exc: Exception) -> Exception:
        if isinstance(exc, BoxAPIError):
            info = exc.response_info
            status = info.status_code
            body = info.body if isinstance(info.body, dict) else {}
            code = info.code or body.get("code") or body.get("error") or ""
            message = info.message if hasattr(info, "message") else str(code)
            message = f"Box {status} {code}: {body.get('message') or message}"
            headers = {k.lower(): v for k, v in (info.headers or {}).items()}
            if "/oauth2/token" in (exc.request_info.url or ""):
                if status >= 500 or status == 429:
                    return RetryLater(message, retry_after=_seconds(headers), status=status)
                return ReauthRequired(message, status=status)
            if status == 429 or status >= 500:
                return RetryLater(message, retry_after=_seconds(headers), status=status)
            if status == 401:
                return ReauthRequired(message, status=status)
            if status == 404:
                return NotFound(message, status=status)
            if code == "invalid_stream_position":
                return CursorExpired(message, status=status)
            if status == 409 and code == "item_name_in_use":
                conflicts = (info.context_info or {}).get("conflicts") or []
                if isinstance(conflicts, dict):
                    conflicts = [conflicts]
                existing = (f"{conflicts[0]['type']}:{conflicts[0]['id']}" if conflicts
                            else None)
                return NameTaken(message, existing_id=existing, status=status)
            if code in ("storage_limit_exceeded", "file_size_limit_exceeded") or status == 507:
                return QuotaExceeded(message, status=status)
            return Fatal(message, status=status)
        if isinstance(exc, BoxSDKError):
            if isinstance(exc.error, requests.RequestException):
                return RetryLater(f"Box unreachable: {exc.error}")
            return Fatal(f"Box SDK: {exc.message}")
        if isinstance(exc, requests.RequestException):
            return RetryLater(f"Box unreachable: {exc}")
        return exc

    def _item(self, obj) -> Item:
        data = obj if isinstance(obj, dict) else obj.to_dict()
        kind = Kind.FOLDER if data.get("type") == "folder" else Kind.FILE
        parent = data.get("parent") or {}
        return Item(
            id=f"{data['type']}:{data['id']}",
            name=data.get("name", ""),
            kind=kind,
            parent_id=f"folder:{parent['id']}" if parent.get("id") else None,
            size=int(data.get("size") or 0),
            version=data.get("etag") or data.get("sequence_id"),
            hash_type="sha1" if kind == Kind.FILE else None,
            content_hash=data.get("sha1") if kind == Kind.FILE else None,
            modified=_parse_time(data.get("modified_at")),
            web_url=f"{self.web_url}/{data['type']}/{data['id']}",
            extra={"path_ids": [e["id"] for e in (data.get("path_collection") or {})
                                .get("entries", [])],
                   "version_number": data.get("version_number"),
                   "file_version_id": (data.get("file_version") or {}).get("id"),
                   "item_status": data.get("item_status")},
        )

    @staticmethod
    def _rewinding(stream: BinaryIO):
        """A seekable stream and its start, so a retried upload sends the same bytes."""
        if not stream.seekable():
            spooled = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115
            for chunk in iter(lambda: stream.read(1024 * 1024), b""):
                spooled.write(chunk)
            spooled.seek(0)
            stream = spooled
        return stream, stream.tell()

    @staticmethod
    def _size(stream: BinaryIO, start: int) -> int:
        end = stream.seek(0, io.SEEK_END)
        stream.seek(start)
        return end - start

    # -- the contract -------------------------------------------------------------------
    @property
    def root_id(self) -> str:
        return self._root

    def create_folder(self, parent_id: str, name: str) -> Item:
        _, parent = box_id(parent_id)
        folder = self.call(lambda: self.client.folders.create_folder(
            self.safe_name(name), CreateFolderParent(id=parent), fields=FIELDS),
            idempotent=False)
        return self._item(folder)

    def upload(self, parent_id: str, name: str, stream: BinaryIO, size: int | None = None,
               resume: Resume | None = None) -> Item:
        _, parent = box_id(parent_id)
        if self.throttle is not None:
            self.throttle.wait("upload")
        stream, start = self._rewinding(stream)
        size = self._size(stream, start) if size is None else size
        name = self.safe_name(name)

        if size >= self.chunk_threshold:
            return self._item(self._chunked(
                lambda: self.client.chunked_uploads.create_file_upload_session(
                    parent, size, name), f"{parent}/{name}", stream, start, size, resume))

        def send():
            stream.seek(start)
            files = self.client.uploads.upload_file(
                UploadFileAttributes(name=name, parent=UploadFileAttributesParentField(id=parent)),
                stream, file_file_name=name, fields=FIELDS)
            return files.entries[0]

        return self._item(self.call(send, idempotent=False))

    def update(self, item_id: str, stream: BinaryIO, size: int | None = None,
               resume: Resume | None = None) -> Item:
        kind, file_id = box_id(item_id)
        if kind != "file":
            raise Fatal(f"cannot replace the content of a folder ({item_id})")
        current = self.metadata(item_id)
        stream, start = self._rewinding(stream)
        size = self._size(stream, start) if size is None else size

        if size >= self.chunk_threshold:
            return self._item(self._chunked(
                lambda: self.client.chunked_uploads.create_file_upload_session_for_existing_file(
                    file_id, size, file_name=current.name), file_id, stream, start, size, resume))

        def send():
            stream.seek(start)
            files = self.client.uploads.upload_file_version(
                file_id, UploadFileVersionAttributes(name=current.name), stream,
                file_file_name=current.name, fields=FIELDS)
            return files.entries[0]

        return self._item(self.call(send, idempotent=False))

    def _chunked(self, create_session, target: str, stream: BinaryIO, start: int, size: int,
                 resume: Resume | None):
        """A chunked upload session: parts of exactly ``part_size`` with their SHA-1,
        then the commit with the whole file's SHA-1 (202 while Box assembles: asked
        again). ``resume``: the session's endpoints are saved; a saved session Box still
        holds continues after the parts it lists (their bytes are hashed from the file,
        not sent), one Box forgot starts over."""
        resume = resume or Resume()
        uploads = self.client.chunked_uploads
        session, parts = self._resumed_session(resume, target, size)
        if session is None:
            made = self.call(create_session, idempotent=False)
            endpoints = made.session_endpoints
            session = {"upload_part": endpoints.upload_part, "commit": endpoints.commit,
                       "list_parts": endpoints.list_parts, "part_size": made.part_size}
            resume.store(self.key, target, size, **session)
        whole = hashlib.sha1()  # noqa: S324 - Box's own checksum algorithm
        stream.seek(start)
        offset = sum(part.size for part in parts)
        while stream.tell() - start < offset:  # parts Box holds: hashed, not sent
            whole.update(stream.read(min(1 << 20, offset - (stream.tell() - start))))
        for chunk in exact_chunks(b"", stream, session["part_size"]):
            whole.update(chunk)
            digest = "sha=" + base64.b64encode(hashlib.sha1(chunk).digest()).decode()  # noqa: S324
            span = f"bytes {offset}-{offset + len(chunk) - 1}/{size}"
            uploaded = self.call(lambda c=chunk, d=digest, r=span: uploads.upload_file_part_by_url(
                session["upload_part"], io.BytesIO(c), d, r))
            parts.append(uploaded.part)
            offset += len(chunk)
            resume.save(dict(resume.state, offset=offset))
        digest = "sha=" + base64.b64encode(whole.digest()).decode()

        def commit():
            files = uploads.create_file_upload_session_commit_by_url(
                session["commit"], parts, digest)
            if files is None:  # 202: Box is still assembling the parts
                raise RetryLater("Box is assembling the upload", retry_after=1)
            return files.entries[0]

        result = self.call(commit, idempotent=False)
        resume.drop()
        return result

    def _resumed_session(self, resume: Resume, target: str, size: int) -> tuple[dict | None, list]:
        """(saved session, its parts from offset 0 on, each of ``part_size``, short of the
        whole file) when Box still lists it; (None, []) to start over."""
        state = resume.matching(self.key, target, size)
        if not state or not state.get("list_parts") or not state.get("part_size"):
            return None, []
        listed, uploads = [], self.client.chunked_uploads
        try:
            while True:
                done = len(listed)
                page = self.call(lambda n=done: uploads.get_file_upload_session_parts_by_url(
                    state["list_parts"], offset=n, limit=1000))
                listed += page.entries or []
                if not page.entries or len(listed) >= (page.total_count or 0):
                    break
        except (NotFound, Fatal):  # expired (sessions last 7 days), aborted, committed
            resume.drop()
            return None, []
        by_offset = {part.offset: part for part in listed}
        parts, part_size = [], state["part_size"]
        while (part := by_offset.get(len(parts) * part_size)) is not None \
                and part.size == part_size and (len(parts) + 1) * part_size < size:
            parts.append(part)
        return state, parts

    def download(self, item_id: str) -> Iterator[bytes]:
        return self._content(item_id, None)

    def _content(self, item_id: str, version: str | None) -> Iterator[bytes]:
        """The file's content (``version``: that file_version's), in chunks."""
        kind, file_id = box_id(item_id)
        if kind != "file":
            raise NotFound(f"not a file: {item_id}")
        body = self.call(lambda: self.client.downloads.download_file(file_id, version=version))
        chunk_size = self.download_chunk_size
        try:
            while True:
                chunk = body.read(chunk_size)
                if not chunk:
                    return
                yield chunk
        except requests.RequestException as exc:
            raise RetryLater(f"Box download interrupted: {exc}") from exc

    def _update(self, item_id: str, name: str | None, parent_id: str | None) -> Item:
        kind, raw = box_id(item_id)
        name = self.safe_name(name) if name is not None else None
        if kind == "file":
            parent = UpdateFileByIdParent(id=box_id(parent_id)[1]) if parent_id else None
            return self._item(self.call(lambda: self.client.files.update_file_by_id(
                raw, name=name, parent=parent, fields=FIELDS)))
        parent = UpdateFolderByIdParent(id=box_id(parent_id)[1]) if parent_id else None
        return self._item(self.call(lambda: self.client.folders.update_folder_by_id(
            raw, name=name, parent=parent, fields=FIELDS)))

    def rename(self, item_id: str, new_name: str) -> Item:
        return self._update(item_id, new_name, None)

    def move(self, item_id: str, new_parent_id: str, new_name: str | None = None) -> Item:
        return self._update(item_id, new_name, new_parent_id)

    def delete(self, item_id: str) -> None:
        kind, raw = box_id(item_id)
        if kind == "file":
            self.call(lambda: self.client.files.delete_file_by_id(raw))
        else:
            self.call(lambda: self.client.folders.delete_folder_by_id(raw, recursive=True))

    def list_children(self, folder_id: str) -> Iterator[Item]:
        _, raw = box_id(folder_id)
        marker = None
        while True:
            page = self.call(lambda m=marker: self.client.folders.get_folder_items(
                raw, fields=FIELDS, usemarker=True, marker=m, limit=1000))
            for entry in page.entries or []:
                if entry.to_dict().get("type") in ("file", "folder"):
                    yield self._item(entry)
            marker = page.next_marker
            if not marker:
                return

    def list_page(self, folder_id: str, page_token: str | None = None,
                  limit: int = 100) -> tuple[list[Item], str | None]:
        """One page of the folder's items (marker paging: one request)."""
        _, raw = box_id(folder_id)
        page = self.call(lambda: self.client.folders.get_folder_items(
            raw, fields=FIELDS, usemarker=True, marker=page_token, limit=min(limit, 1000)))
        items = [self._item(entry) for entry in page.entries or []
                 if entry.to_dict().get("type") in ("file", "folder")]
        return items, page.next_marker or None

    def search(self, query: str, limit: int = 50) -> list[Item]:
        """Box's search on names beneath the root (``ancestor_folder_ids``), then only
        the names that contain ``query``: Box matches whole words, any of them."""
        wanted = query.casefold().strip()
        if not wanted:
            return []
        root = box_id(self._root)[1]
        found: list[Item] = []
        for page_number in range(SEARCH_PAGES):
            page = self.call(lambda n=page_number: self.client.search.search_for_content(
                query=query, ancestor_folder_ids=[root],
                content_types=[SearchForContentContentTypes.NAME], fields=FIELDS,
                limit=SEARCH_PAGE, offset=n * SEARCH_PAGE))
            entries = [entry.to_dict() for entry in page.entries or []]
            found += [self._item(entry) for entry in entries
                      if entry.get("type") in ("file", "folder")
                      and wanted in entry.get("name", "").casefold()
                      and entry.get("id") != root]
            if len(found) >= limit or len(entries) < SEARCH_PAGE:
                break
        return found[:limit]

    def copy(self, item_id: str, parent_id: str, name: str | None = None) -> Item:
        kind, raw = box_id(item_id)
        if kind != "file":
            raise Fatal(f"only files are copied ({item_id})")
        copied = self.call(lambda: self.client.files.copy_file(
            raw, CopyFileParent(id=box_id(parent_id)[1]),
            name=self.safe_name(name) if name else None, fields=FIELDS), idempotent=False)
        return self._item(copied)

    def versions(self, item_id: str) -> list[Version]:
        """The file's current version (from the file itself), then Box's previous
        versions (``GET /files/{id}/versions`` lists only those), newest first."""
        current = self.metadata(item_id)
        if current.is_folder:
            raise NotFound(f"not a file: {item_id}")
        raw = box_id(item_id)[1]
        previous = []
        while True:
            done = len(previous)
            page = self.call(lambda n=done: self.client.file_versions.get_file_versions(
                raw, offset=n, limit=1000))
            previous += [entry.to_dict() for entry in page.entries or []]
            if not page.entries or len(previous) >= (page.total_count or 0):
                break
        previous.sort(key=lambda v: str(v.get("created_at") or ""), reverse=True)
        return [Version(id=current.extra["file_version_id"], size=current.size,
                        modified=current.modified, current=True)] + [
            Version(id=v["id"], size=int(v.get("size") or 0),
                    modified=_parse_time(v.get("modified_at") or v.get("created_at")),
                    author=(v.get("modified_by") or {}).get("name"))
            for v in previous if not v.get("trashed_at")]

    def download_version(self, item_id: str, version_id: str) -> Iterator[bytes]:
        return self._content(item_id, version_id)

    def restore_version(self, item_id: str, version_id: str) -> Item:
        """Box "promotes" the version: a new current version with its content."""
        kind, raw = box_id(item_id)
        if kind != "file":
            raise NotFound(f"not a file: {item_id}")
        self.call(lambda: self.client.file_versions.promote_file_version(
            raw, id=version_id, type=PromoteFileVersionType.FILE_VERSION), idempotent=False)
        return self.metadata(item_id)

    def metadata(self, item_id: str) -> Item:
        kind, raw = box_id(item_id)
        if kind == "file":
            return self._item(self.call(lambda: self.client.files.get_file_by_id(
                raw, fields=FIELDS)))
        return self._item(self.call(lambda: self.client.folders.get_folder_by_id(
            raw, fields=FIELDS)))

    def link(self, item_id: str, public: bool | None = None, *, audience: str | None = None,
             expires_in: int | None = None) -> str:
        """Public: the item's shared link, opened to ``audience`` (else the config's
        ``shared_link_access``: open or company); internal: the item's page in the web app."""
        self.check_link_options(audience, expires_in)
        kind, raw = box_id(item_id)
        if not public:
            return f"{self.web_url}/{kind}/{raw}"
        company = (audience == "organization" if audience
                   else self.config.get("shared_link_access") == "company")
        if kind == "file":
            access = (AddShareLinkToFileSharedLinkAccessField.COMPANY if company
                      else AddShareLinkToFileSharedLinkAccessField.OPEN)
            item = self.call(lambda: self.client.shared_links_files.add_share_link_to_file(
                raw, "shared_link", shared_link=AddShareLinkToFileSharedLink(access=access)))
        else:
            access = (AddShareLinkToFolderSharedLinkAccessField.COMPANY if company
                      else AddShareLinkToFolderSharedLinkAccessField.OPEN)
            item = self.call(lambda: self.client.shared_links_folders.add_share_link_to_folder(
                raw, "shared_link", shared_link=AddShareLinkToFolderSharedLink(access=access)))
        return item.shared_link.url

    def public_download_url(self, item_id: str) -> str | None:
        """The shared link's direct download URL (files only), creating the link if needed."""
        kind, raw = box_id(item_id)
        if kind != "file":
            return None
        self.link(item_id, public=True)
        item = self.call(lambda: self.client.shared_links_files.get_shared_link_for_file(
            raw, "shared_link"))
        return item.shared_link.download_url

    # -- change feed ------------------------------------------------------------------
    def initial_cursor(self) -> str:
        events = self.call(lambda: self.client.events.get_events(
            stream_type=GetEventsStreamType.CHANGES, stream_position="now"))
        return str(events.next_stream_position)

    def changes(self, cursor: str) -> tuple[list[Change], str]:
        if not str(cursor).isdigit():
            raise CursorExpired(f"not a Box stream position: {cursor!r}")
        root = box_id(self._root)[1]
        seen: set[str] = set()
        looked_up: dict[str, Item | None] = {}
        out: list[Change] = []
        position = str(cursor)
        while True:
            page = self.call(lambda p=position: self.client.events.get_events(
                stream_type=GetEventsStreamType.CHANGES, stream_position=p, limit=EVENT_PAGE))
            for event in page.entries or []:
                if event.event_id in seen:
                    continue
                seen.add(event.event_id)
                change = self._change(event.to_dict(), root, looked_up)
                if change and not (change.type == ChangeType.DELETED and any(
                        c.type == ChangeType.DELETED and c.item.id == change.item.id
                        for c in out)):
                    out.append(change)
            position = str(page.next_stream_position)
            if (page.chunk_size or 0) < EVENT_PAGE:
                return out, position

    def _change(self, event: dict, root: str, looked_up: dict) -> Change | None:
        """One event as a change. Box sends the whole item only for some event types;
        for the others (``item_type``/``item_id``/``item_name``/``parent``) the item is
        looked up once, and a trashed or missing one is a deletion."""
        source = event.get("source") or {}
        kind, raw = source.get("type") or source.get("item_type"), source.get("id") or \
            source.get("item_id")
        if kind not in ("file", "folder") or not raw or raw == root:
            return None
        event_type = event.get("event_type")
        if event_type == "ITEM_UPLOAD":  # a new file's sequence_id is 0, a new version's more
            change_type = (ChangeType.CREATED if str(source.get("sequence_id") or "0") == "0"
                           else ChangeType.UPDATED)
        else:
            change_type = _EVENT_TYPES.get(event_type)
        if change_type is None:
            return None
        item_id = f"{kind}:{raw}"
        if "type" in source and source.get("item_status", "active") == "active":
            item = self._item(source)
        else:
            if item_id not in looked_up:
                looked_up[item_id] = self._lookup(item_id)
            item = looked_up[item_id]
        if item is None:  # trashed or gone: where it was no longer matters
            return Change(ChangeType.DELETED, Item(
                id=item_id, name=source.get("name") or source.get("item_name") or "",
                kind=Kind.FOLDER if kind == "folder" else Kind.FILE, parent_id=None))
        if change_type == ChangeType.DELETED:  # trashed, then restored before we looked
            return None
        beneath = root == "0" or root in item.extra["path_ids"]
        if not beneath:
            if change_type != ChangeType.MOVED:
                return None
            change_type = ChangeType.DELETED  # moved out of the root
        return Change(change_type, item)

    def _lookup(self, item_id: str) -> Item | None:
        """The item as it is now, or None when it is trashed or no longer exists."""
        try:
            item = self.metadata(item_id)
        except NotFound:
            return None
        return None if item.extra.get("item_status") == "trashed" else item


def _parse_time(value) -> datetime | None:
    if isinstance(value, datetime) or not value:
        return value or None
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


def _seconds(headers: dict) -> float | None:
    value = headers.get("retry-after")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None
