"""Dropbox on the official ``dropbox`` SDK.

Hosts come from the connection's config (``api_host``, ``content_host``, ``notify_host``,
``web_host``; a bare ``host[:port]`` or an ``https://`` URL). The SDK reads its hosts from
environment variables once, at import, and binds the refresh call's host as a default
argument; instead of that process-wide setting, :class:`SDKClient` (a subclass of
``dropbox.Dropbox``) replaces the client's host map after construction and sends token
refreshes to the configured API host, so every connection can talk to its own hosts.

The SDK's own retry loops are switched off (``max_retries_on_error=0``,
``max_retries_on_rate_limit=0``): :meth:`Provider.call` runs the one retry policy. The
SDK still refreshes the access token by itself (before expiry and once on a 401
``expired_access_token``); every refresh reaches :meth:`Provider.notify_token`.

Ids: Dropbox ``id:...`` (the API takes ids wherever it takes a read path); the drive root
(config ``root`` empty) is ``""``, Dropbox's empty path. ``root`` may also be a path,
resolved to its id once.

Paths: Dropbox metadata has no parent id, and writes (create folder, upload, move target)
need a path. The provider keeps a map id <-> path from every answer it sees (one
metadata call the first time an unknown parent is used, e.g. the root once per instance);
a path cached for a folder that someone else moved, unseen by this instance, is stale
(the root's path is looked up once per instance, never taken from a stored cursor).

Change feed: ``list_folder/continue`` on the root (recursive). Dropbox reports a deletion
(and the old path of a move) by path only, so the cursor this provider hands out is
``dbx2.`` + the SDK cursor + compressed JSON of the map id -> (path, rev) of the items
beneath the root as of that cursor; each poll diffs Dropbox's entries against it. A poll
with no entries keeps the map's part untouched and decodes it only if this instance has
not learnt it yet (a fresh worker), so an unchanged tree costs nothing that grows with it.
:meth:`initial_cursor` (``get_latest_cursor``, no enumeration) seeds the map with what
the instance knows: walk the tree first in the same instance (the engine does, after an
expired cursor). A deleted path the map never knew (created and deleted between two
polls, or never seen) is not reported.
"""

from __future__ import annotations

import base64
import json
import threading
import time
import zlib
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import BinaryIO
from urllib.parse import quote

import dropbox
import requests
from dropbox import exceptions, files
from dropbox.session import API_HOST, HOST_API, HOST_CONTENT, HOST_NOTIFY, WEB_HOST
from dropbox.stone_base import Struct, Union

from ..naming import NameRules
from .base import Change, ChangeType, Item, Kind, Provider, Resume, Version, iter_chunks
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

DEFAULT_HOSTS = {"api_host": "api.dropboxapi.com", "content_host": "content.dropboxapi.com",
                 "notify_host": "notify.dropboxapi.com", "web_host": "www.dropbox.com"}
# Names the Dropbox apps refuse to sync ("ignored files") and the API refuses to write.
RESERVED_NAMES = frozenset({"desktop.ini", "thumbs.db", ".ds_store", "icon\r", ".dropbox",
                            ".dropbox.attr"})
CURSOR_PREFIX = "dbx2."
SEARCH_PAGES = 10  # search/continue_v2 calls at most, when Dropbox's matches are not ours


def config_host(config: dict, key: str) -> str:
    """``host[:port]`` for one of the four Dropbox hosts (the SDK is HTTPS only)."""
    value = (config.get(key) or DEFAULT_HOSTS[key]).strip().rstrip("/")
    if value.startswith("http://"):
        raise ValueError(f"Dropbox speaks HTTPS only; {key}={value!r}")
    return value.removeprefix("https://")


class _ConfiguredHosts:
    """Per-connection hosts and a hook on every token refresh (see the module docstring)."""

    on_refresh = None

    def use_hosts(self, hosts: dict, on_refresh=None):
        self._host_map = dict(hosts)
        self.on_refresh = on_refresh
        # Parallel transfers share this client: a token is refreshed once, by the first
        # thread that needs it; the others use the new one.
        self._refresh_guard = threading.RLock()
        self._used = threading.local()  # the access token this thread's request carries
        return self

    def check_and_refresh_access_token(self):
        with self._refresh_guard:
            super().check_and_refresh_access_token()
            self._used.token = self._oauth2_access_token

    def refresh_access_token(self, host=None, scope=None):
        with self._refresh_guard:
            before = self._oauth2_access_token
            used = getattr(self._used, "token", None)
            if used is not None and used != before:
                return  # another thread refreshed since this thread's request left
            super().refresh_access_token(host=host or self._host_map[HOST_API], scope=scope)
            self._used.token = self._oauth2_access_token
            if self.on_refresh and self._oauth2_access_token != before:
                self.on_refresh(self.credentials())

    def credentials(self) -> dict:
        expires = self._oauth2_access_token_expiration
        return {"access_token": self._oauth2_access_token,
                "refresh_token": self._oauth2_refresh_token,
                "access_token_expires_at": int(
                    expires.replace(tzinfo=timezone.utc).timestamp()) if expires else None}


class SDKClient(_ConfiguredHosts, dropbox.Dropbox):
    """``dropbox.Dropbox`` bound to the connection's hosts."""


class SDKTeam(_ConfiguredHosts, dropbox.DropboxTeam):
    """``dropbox.DropboxTeam`` bound to the connection's hosts."""

    def as_user(self, team_member_id):
        # The SDK builds a plain Dropbox (Select-User header set); keep our hosts on it.
        user = super().as_user(team_member_id)
        client = SDKClient.__new__(SDKClient)
        client.__dict__.update(user.__dict__)
        return client.use_hosts(self._host_map, self.on_refresh)


class OAuthFlow(dropbox.DropboxOAuth2Flow):
    """The SDK's web OAuth flow for offline (refresh) tokens, against the connection's API
    and web hosts. ``session`` is a dict-like store for the CSRF token (the Odoo session):
    :meth:`start` gives the consent URL, :meth:`finish` checks ``state`` and exchanges
    the code."""

    def __init__(self, config: dict, redirect_uri: str, session,
                 csrf_token_session_key: str = "dropbox-auth-csrf-token"):
        super().__init__(config["app_key"], redirect_uri, session, csrf_token_session_key,
                         consumer_secret=config.get("app_secret"), token_access_type="offline",
                         timeout=float(config.get("timeout") or 100),
                         ca_certs=config.get("ca_bundle") or None)
        self._hosts = {API_HOST: config_host(config, "api_host"),
                       WEB_HOST: config_host(config, "web_host")}
        _trust_only(self.requests_session, config)

    def build_url(self, target, params=None, host=API_HOST):
        return super().build_url(target, params, self._hosts.get(host, host))


def dropbox_client(config: dict, on_refresh=None) -> SDKClient:
    """The SDK client for ``config`` (credentials, hosts, TLS trust, timeout, team member)."""
    hosts = {HOST_API: config_host(config, "api_host"),
             HOST_CONTENT: config_host(config, "content_host"),
             HOST_NOTIFY: config_host(config, "notify_host")}
    expires = config.get("access_token_expires_at")
    team_member = config.get("team_member_id")
    cls = SDKTeam if team_member else SDKClient
    client = cls(
        oauth2_access_token=config.get("access_token") or None,
        oauth2_refresh_token=config.get("refresh_token") or None,
        oauth2_access_token_expiration=datetime.fromtimestamp(
            float(expires), timezone.utc).replace(tzinfo=None) if expires else None,
        app_key=config.get("app_key") or None,
        app_secret=config.get("app_secret") or None,
        max_retries_on_error=0,
        max_retries_on_rate_limit=0,
        timeout=float(config.get("timeout") or 100),
        ca_certs=config.get("ca_bundle") or None,
        user_agent="cloud-sync",
    ).use_hosts(hosts, on_refresh)
    _trust_only(client._session, config)
    return client.as_user(team_member) if team_member else client


def _trust_only(session, config: dict) -> None:
    """With a configured CA bundle, ignore ``REQUESTS_CA_BUNDLE``: the SDK sets the bundle
    on its session only, and requests lets the environment's bundle win over that."""
    if config.get("ca_bundle"):
        session.trust_env = False


def _tags(value) -> Iterator[str]:
    """Every union tag inside an SDK error value (``path/conflict/folder`` -> 3 tags)."""
    if isinstance(value, Union):
        yield value._tag
        yield from _tags(value._value)
    elif isinstance(value, Struct):
        for name in value._all_field_names_:
            yield from _tags(getattr(value, name, None))


def _parent(path_lower: str) -> str:
    return path_lower.rpartition("/")[0]


class DropboxProvider(Provider):
    key = "dropbox"
    name_rules = NameRules(forbidden_chars='/\\<>:"|?*', reserved_names=RESERVED_NAMES,
                           max_length=255, case_sensitive=False, strip_trailing=" .")
    hash_type = "dropbox"
    chunk_threshold = 8 * 1024 * 1024  # files_upload below, an upload session above
    upload_chunk_size = 8 * 1024 * 1024  # a multiple of 4 MiB, as Dropbox asks
    resumes_uploads = True  # the upload session id; its offset from incorrect_offset
    has_public_links = True
    refreshes_tokens = True
    has_versions = True  # list_revisions, download rev:, restore
    can_search = True  # search_v2 scoped to the root
    server_side_copy = True  # copy_v2

    def __init__(self, config: dict, **kwargs):
        super().__init__(config, **kwargs)
        self.link_mode = self.config.get("link_mode") or "internal"
        if self.link_mode not in ("internal", "shared"):
            raise ValueError(f"link_mode must be 'internal' or 'shared', not {self.link_mode!r}")
        self.web_host = config_host(self.config, "web_host")
        self.client = dropbox_client(self.config, self.notify_token)
        self._root = self.config.get("root") or ""
        self._known: dict[str, tuple[str, str | None]] = {}  # id -> (path_display, rev)
        self._ids: dict[str, str] = {}  # path_lower -> id
        self._root_path: str | None = "" if not self._root else None
        self._not_before = 0.0  # longpoll backoff
        self._applied: str | None = None  # the last cursor map this instance learnt

    # -- errors and tokens -----------------------------------------------------------
    def translate(self, exc: Exception) -> Exception:
        if isinstance(exc, CloudError):
            return exc
        if isinstance(exc, exceptions.RateLimitError):
            return RetryLater(str(exc), retry_after=exc.backoff, status=429)
        if isinstance(exc, exceptions.HttpError) and exc.status_code >= 500:
            return RetryLater(f"Dropbox answered {exc.status_code}", status=exc.status_code)
        if isinstance(exc, exceptions.AuthError):
            return ReauthRequired(f"Dropbox refused the token: {exc.error}", status=401)
        if isinstance(exc, exceptions.ApiError):
            tags = set(_tags(exc.error))
            message = f"Dropbox: {'/'.join(_tags(exc.error))}"
            if "reset" in tags:
                return CursorExpired(message, status=409)
            if "not_found" in tags:
                return NotFound(message, status=409)
            if "conflict" in tags:
                return NameTaken(message, status=409)
            if tags & {"insufficient_space", "insufficient_quota"}:
                return QuotaExceeded(message, status=409)
            if "too_many_write_operations" in tags:
                return RetryLater(message, status=409)
            return Fatal(message, status=409)
        if isinstance(exc, exceptions.HttpError):  # 400 bad input, 422 path root, ...
            return Fatal(f"Dropbox refused the request: {exc}", status=exc.status_code)
        if isinstance(exc, requests.exceptions.SSLError):
            return Fatal(f"TLS with Dropbox failed (check ca_bundle): {exc}")
        if isinstance(exc, (requests.Timeout, requests.ConnectionError)):
            return RetryLater(f"Dropbox unreachable: {exc}")
        return exc

    def refresh_token(self) -> bool:
        if not (self.config.get("refresh_token") and self.config.get("app_key")):
            return False
        try:
            self._translated(self.client.refresh_access_token)
        except ReauthRequired:
            return False
        return True

    def close(self) -> None:
        self.client.close()

    # -- the id <-> path map -----------------------------------------------------------
    def _remember(self, item_id: str, display: str, rev: str | None) -> None:
        old = self._known.get(item_id)
        if old and self._ids.get(old[0].lower()) == item_id:
            del self._ids[old[0].lower()]
        self._known[item_id] = (display, rev)
        self._ids[display.lower()] = item_id

    def _forget(self, item_id: str) -> None:
        """Forget an item and everything the map has beneath it."""
        old = self._known.pop(item_id, None)
        if not old:
            return
        prefix = old[0].lower()
        self._ids.pop(prefix, None)
        for other, (display, _rev) in list(self._known.items()):
            if display.lower().startswith(prefix + "/"):
                del self._known[other]
                self._ids.pop(display.lower(), None)

    def _seen(self, meta):
        """Record ``meta`` in the map (a moved folder takes its descendants along)."""
        if not isinstance(meta, files.DeletedMetadata):
            state = (meta.path_display, getattr(meta, "rev", None))
            old = self._known.get(meta.id)
            if old and isinstance(meta, files.FolderMetadata) and old[0] != state[0]:
                prefix = old[0].lower() + "/"  # a moved folder: rebase what lies beneath
                for other, (display, rev) in list(self._known.items()):
                    if display.lower().startswith(prefix):
                        self._remember(other, state[0] + display[len(prefix) - 1:], rev)
            self._remember(meta.id, *state)
        return meta

    def _get_metadata(self, path: str):
        return self._seen(self.call(lambda: self.client.files_get_metadata(path)))

    def _path_of(self, item_id: str) -> str:
        """The display path of ``item_id`` (one metadata call when not known)."""
        if item_id == self._root and self._root_path is not None:
            return self._root_path
        if item_id not in self._known:
            self._get_metadata(item_id)
        return self._known[item_id][0]

    def _root_lower(self) -> str:
        if self._root_path is None:
            self._root_path = self._path_of(self.root_id)
        return self._root_path.lower()

    def _parent_id(self, path_lower: str) -> str:
        parent = _parent(path_lower)
        if parent == self._root_lower():
            return self.root_id
        if not parent:  # the account's top, outside the connection's root
            return None
        if parent not in self._ids:
            self._get_metadata(parent)
        return self._ids[parent]

    def _item(self, meta, parent_id: str | None = None) -> Item:
        if parent_id is None:
            parent_id = None if meta.id == self.root_id else self._parent_id(meta.path_lower)
        if isinstance(meta, files.FolderMetadata):
            return Item(id=meta.id, name=meta.name, kind=Kind.FOLDER, parent_id=parent_id,
                        web_url=self._internal_url(meta.path_display, True),
                        extra={"path_display": meta.path_display})
        return Item(id=meta.id, name=meta.name, kind=Kind.FILE, parent_id=parent_id,
                    size=meta.size, version=meta.rev, hash_type=self.hash_type,
                    content_hash=meta.content_hash,
                    modified=meta.server_modified.replace(tzinfo=timezone.utc),
                    web_url=self._internal_url(meta.path_display, False),
                    extra={"path_display": meta.path_display})

    def _internal_url(self, path_display: str, is_folder: bool) -> str:
        if is_folder:
            return f"https://{self.web_host}/home{quote(path_display)}"
        folder, _, name = path_display.rpartition("/")
        return f"https://{self.web_host}/home{quote(folder)}?preview={quote(name)}"

    def _child_path(self, parent_id: str, name: str) -> str:
        return f"{self._path_of(parent_id)}/{self.safe_name(name)}"

    # -- the contract ------------------------------------------------------------------
    @property
    def root_id(self) -> str:
        if self._root.startswith("/"):  # a root given as a path: resolve it once
            meta = self._get_metadata(self._root)
            self._root, self._root_path = meta.id, meta.path_display
        return self._root

    def create_folder(self, parent_id: str, name: str) -> Item:
        path = self._child_path(parent_id, name)
        result = self.call(lambda: self.client.files_create_folder_v2(path), idempotent=False)
        return self._item(self._seen(result.metadata), parent_id)

    def upload(self, parent_id: str, name: str, stream: BinaryIO, size: int | None = None,
               resume: Resume | None = None) -> Item:
        path = self._child_path(parent_id, name)
        mode = files.WriteMode.add
        return self._item(self._send(stream, path, mode, idempotent=False, size=size,
                                     resume=resume), parent_id)

    def update(self, item_id: str, stream: BinaryIO, size: int | None = None,
               resume: Resume | None = None) -> Item:
        meta = self._send(stream, item_id, files.WriteMode.overwrite, idempotent=True,
                          size=size, resume=resume)
        return self._item(meta)

    def _send(self, stream: BinaryIO, path: str, mode, idempotent: bool,
              size: int | None = None, resume: Resume | None = None):
        """Write ``stream`` to ``path``: one call up to the threshold, a session above.
        A known size above the threshold reads one chunk ahead only (the session's first
        chunk, then each chunk as the previous one is sent), whatever the file's size.
        ``resume`` (a known size): the session id is saved, and a saved session the
        server still holds continues at the offset it names."""
        resume = resume if size is not None and size > self.chunk_threshold else None
        session_id, offset = self._resumed_session(resume, path, size)
        if session_id:
            stream.seek(stream.tell() + offset)
            return self._session_rest(stream, session_id, offset,
                                      stream.read(self.upload_chunk_size), path, mode, resume)
        if size is not None and size > self.chunk_threshold:
            first = stream.read(self.upload_chunk_size)
            more = stream.read(self.upload_chunk_size)
        else:
            first = stream.read(self.chunk_threshold)
            more = (stream.read(self.upload_chunk_size)
                    if len(first) == self.chunk_threshold else b"")
        if not more:
            meta = self.call(lambda: self.client.files_upload(
                first, path, mode=mode, strict_conflict=True), idempotent=idempotent)
            return self._seen(meta)
        start = self.call(lambda: self.client.files_upload_session_start(first))
        if resume is not None:
            resume.store(self.key, path, size, session_id=start.session_id)
        offset = len(first)
        first = None  # one chunk in hand and the next one read: nothing else
        return self._session_rest(stream, start.session_id, offset, more, path, mode, resume)

    def _session_rest(self, stream: BinaryIO, session_id: str, offset: int, pending: bytes,
                      path: str, mode, resume: Resume | None):
        """Append from ``offset`` (``pending`` is the next chunk), finish with the last."""
        for chunk in iter_chunks(stream, self.upload_chunk_size):
            self.call(lambda o=offset, c=pending: self._append(session_id, o, c))
            offset, pending = offset + len(pending), chunk
            if resume is not None:
                resume.save(dict(resume.state, offset=offset))
        cursor = files.UploadSessionCursor(session_id, offset)
        commit = files.CommitInfo(path, mode=mode, strict_conflict=True)
        meta = self.call(lambda: self.client.files_upload_session_finish(
            pending, cursor, commit), idempotent=False)
        if resume is not None:
            resume.drop()
        return self._seen(meta)

    def _resumed_session(self, resume: Resume | None, path: str, size: int | None
                         ) -> tuple[str | None, int]:
        """(session id, offset the server holds) of a saved session: an empty append at
        offset 0 answers ``incorrect_offset`` with the correct one (or succeeds at 0);
        (None, 0) to start over when the session is unknown, closed or expired."""
        state = resume and resume.matching(self.key, path, size)
        if not state or not state.get("session_id"):
            return None, 0
        session_id = state["session_id"]

        def ask() -> int:
            try:
                self.client.files_upload_session_append_v2(
                    b"", files.UploadSessionCursor(session_id, 0))
            except exceptions.ApiError as exc:
                error = exc.error
                if getattr(error, "is_incorrect_offset", None) and error.is_incorrect_offset():
                    return error.get_incorrect_offset().correct_offset
                return -1  # not_found, closed, not a session of this app
            return 0

        offset = self.call(ask)
        if not 0 <= offset < size:
            resume.drop()
            return None, 0
        return session_id, offset

    def _append(self, session_id: str, offset: int, chunk: bytes) -> None:
        try:
            self.client.files_upload_session_append_v2(
                chunk, files.UploadSessionCursor(session_id, offset))
        except exceptions.ApiError as exc:  # a retry of a chunk that did arrive is fine
            error = exc.error
            if not (error.is_incorrect_offset()
                    and error.get_incorrect_offset().correct_offset == offset + len(chunk)):
                raise

    def download(self, item_id: str) -> Iterator[bytes]:
        _meta, response = self.call(lambda: self.client.files_download(item_id))
        return self._body(response)

    def _body(self, response) -> Iterator[bytes]:
        try:
            yield from response.iter_content(self.download_chunk_size)
        except requests.RequestException as exc:
            raise RetryLater(f"Dropbox download interrupted: {exc}") from exc
        finally:
            response.close()

    def rename(self, item_id: str, new_name: str) -> Item:
        folder = _parent(self._path_of(item_id))
        return self._relocate(item_id, f"{folder}/{self.safe_name(new_name)}")

    def move(self, item_id: str, new_parent_id: str, new_name: str | None = None) -> Item:
        return self._relocate(item_id, self._target_path(item_id, new_parent_id, new_name))

    def _target_path(self, item_id: str, parent_id: str, name: str | None) -> str:
        """Where a move or copy of ``item_id`` into ``parent_id`` goes (an existing name
        goes as it is, a new one is made safe)."""
        name = self.safe_name(name) if name else self._path_of(item_id).rpartition("/")[2]
        return f"{self._path_of(parent_id)}/{name}"

    def _relocate(self, item_id: str, to_path: str) -> Item:
        result = self.call(lambda: self.client.files_move_v2(item_id, to_path),
                           idempotent=False)
        return self._item(self._seen(result.metadata))

    def delete(self, item_id: str) -> None:
        self.call(lambda: self.client.files_delete_v2(item_id))
        self._forget(item_id)

    def list_children(self, folder_id: str) -> Iterator[Item]:
        result = self.call(lambda: self.client.files_list_folder(folder_id))
        while True:
            for entry in result.entries:
                yield self._item(self._seen(entry), folder_id)
            if not result.has_more:
                return
            cursor = result.cursor
            result = self.call(lambda c=cursor: self.client.files_list_folder_continue(c))

    def list_page(self, folder_id: str, page_token: str | None = None,
                  limit: int = 100) -> tuple[list[Item], str | None]:
        """``list_folder`` with ``limit``, then ``list_folder/continue`` with the cursor
        (the page token). Only children of ``folder_id`` are kept: a token is Dropbox's
        cursor, and one made for another folder must not label its entries as these."""
        if page_token:
            result = self.call(lambda: self.client.files_list_folder_continue(page_token))
        else:
            result = self.call(lambda: self.client.files_list_folder(
                folder_id, limit=max(1, min(int(limit), 2000))))
        folder = self._path_of(folder_id).lower()
        items = [self._item(self._seen(entry), folder_id) for entry in result.entries
                 if not isinstance(entry, files.DeletedMetadata)
                 and _parent(entry.path_lower) == folder]
        return items, result.cursor if result.has_more else None

    def search(self, query: str, limit: int = 50) -> list[Item]:
        """``search_v2`` on names only, scoped to the root (``options.path``); Dropbox
        matches words, so results are kept only when the name contains ``query``."""
        wanted = query.strip().casefold()
        if not wanted:
            return []
        inside = self._root_lower() + "/"
        options = files.SearchOptions(path=self.root_id or None, filename_only=True,
                                      max_results=max(1, min(int(limit), 1000)))
        result = self.call(lambda: self.client.files_search_v2(query.strip(), options=options))
        found: list[Item] = []
        for _page in range(SEARCH_PAGES):
            for match in result.matches:
                meta = match.metadata.get_metadata() if match.metadata.is_metadata() else None
                if (isinstance(meta, files.FileMetadata | files.FolderMetadata)
                        and meta.path_lower.startswith(inside)
                        and wanted in meta.name.casefold()):
                    found.append(self._item(self._seen(meta)))
            if len(found) >= limit or not result.has_more:
                break
            cursor = result.cursor
            result = self.call(lambda c=cursor: self.client.files_search_continue_v2(c))
        return found[:limit]

    def copy(self, item_id: str, parent_id: str, name: str | None = None) -> Item:
        """``copy_v2``: Dropbox copies in the cloud (a new id, the same bytes)."""
        to_path = self._target_path(item_id, parent_id, name)
        result = self.call(lambda: self.client.files_copy_v2(item_id, to_path),
                           idempotent=False)
        return self._item(self._seen(result.metadata), parent_id)

    # -- revisions -------------------------------------------------------------------
    def _revisions(self, item_id: str):
        """``list_revisions`` in ``id`` mode (the file's revisions across renames and
        moves), newest first, at most 100 (Dropbox's page limit)."""
        return self.call(lambda: self.client.files_list_revisions(
            item_id, mode=files.ListRevisionsMode.id, limit=100))

    def _revision_of(self, item_id: str, version_id: str) -> None:
        """A ``rev:`` path addresses any file of the account: check that ``version_id``
        is a revision of ``item_id`` before using it."""
        if version_id not in {entry.rev for entry in self._revisions(item_id).entries}:
            raise NotFound(f"Dropbox: {version_id!r} is not a revision of {item_id}")

    def versions(self, item_id: str) -> list[Version]:
        result = self._revisions(item_id)
        return [Version(id=entry.rev, size=entry.size,
                        modified=entry.server_modified.replace(tzinfo=timezone.utc),
                        current=index == 0 and not result.is_deleted)
                for index, entry in enumerate(result.entries)]

    def download_version(self, item_id: str, version_id: str) -> Iterator[bytes]:
        self._revision_of(item_id, version_id)
        _meta, response = self.call(lambda: self.client.files_download(f"rev:{version_id}"))
        return self._body(response)

    def restore_version(self, item_id: str, version_id: str) -> Item:
        """``files/restore`` (it takes a path, not an id): the old bytes become a new
        revision; the replaced one stays in the list."""
        self._revision_of(item_id, version_id)
        path = self._get_metadata(item_id).path_lower  # fresh: someone may have moved it
        meta = self.call(lambda: self.client.files_restore(path, version_id))
        return self._item(self._seen(meta))

    def metadata(self, item_id: str) -> Item:
        if item_id == "" and self.root_id == "":
            return Item(id="", name="", kind=Kind.FOLDER, web_url=f"https://{self.web_host}/home")
        return self._item(self._get_metadata(item_id))

    def link(self, item_id: str, public: bool | None = None, *, audience: str | None = None,
             expires_in: int | None = None) -> str:
        """Public (None: when ``link_mode`` is ``shared``): a shared link; else the
        item's address in the web app."""
        self.check_link_options(audience, expires_in)
        if not (public or (public is None and self.link_mode == "shared")):
            if item_id == self.root_id:
                return self.metadata(item_id).web_url
            path = self._path_of(item_id)
            return self._internal_url(path, self._known[item_id][1] is None)
        return self.call(lambda: self._shared_link(item_id))

    def _shared_link(self, item_id: str) -> str:
        try:
            return self.client.sharing_create_shared_link_with_settings(item_id).url
        except exceptions.ApiError as exc:
            error = exc.error
            if not error.is_shared_link_already_exists():
                raise
            existing = error.get_shared_link_already_exists()
            if existing is not None and existing.is_metadata():
                return existing.get_metadata().url
        links = self.client.sharing_list_shared_links(path=item_id, direct_only=True).links
        if not links:
            raise NotFound(f"no shared link for {item_id}")
        return links[0].url

    def account(self) -> dict:
        """Who the connection acts as (the connect flow shows it)."""
        info = self.call(self.client.users_get_current_account)
        return {"account_id": info.account_id, "name": info.name.display_name,
                "email": info.email, "team_member_id": info.team_member_id}

    # -- the change feed ---------------------------------------------------------------
    def initial_cursor(self) -> str:
        root = self.root_id
        result = self.call(lambda: self.client.files_list_folder_get_latest_cursor(
            root, recursive=True, include_deleted=True))
        return self._encode(result.cursor, self._known)

    def _encode(self, cursor: str, known: dict) -> str:
        """The SDK cursor plus the map id -> (path, rev) of the items beneath the root as
        of that cursor, encoded apart: a poll with nothing new keeps the map's part as it
        is (it grows with the tree)."""
        blob = base64.urlsafe_b64encode(zlib.compress(json.dumps(
            known, separators=(",", ":")).encode())).decode()
        self._applied = blob
        return self._join(cursor, blob)

    @staticmethod
    def _join(cursor: str, blob: str) -> str:
        return f"{CURSOR_PREFIX}{base64.urlsafe_b64encode(cursor.encode()).decode()}.{blob}"

    def _split(self, cursor: str) -> tuple[str, str]:
        """(SDK cursor, the map's encoded part), the map not decoded."""
        text = str(cursor or "")
        head, dot, blob = text.removeprefix(CURSOR_PREFIX).partition(".")
        if not text.startswith(CURSOR_PREFIX) or not dot:
            raise CursorExpired("not a cursor of this provider")
        try:
            return base64.urlsafe_b64decode(head).decode(), blob
        except (ValueError, UnicodeDecodeError) as exc:
            raise CursorExpired("unreadable cursor") from exc

    def _decode(self, cursor: str) -> tuple[str, dict]:
        sdk_cursor, blob = self._split(cursor)
        try:
            known = json.loads(zlib.decompress(base64.urlsafe_b64decode(blob)))
            return sdk_cursor, {i: tuple(v) for i, v in known.items()}
        except (ValueError, TypeError, AttributeError, zlib.error) as exc:
            raise CursorExpired("unreadable cursor") from exc

    def changes(self, cursor: str) -> tuple[list[Change], str]:
        """Dropbox's entries since the cursor, as id-based changes.

        The state before is the cursor's map (see the module docstring): a deleted path
        the map does not know (an item created and deleted between two polls, or one
        the instance that made the initial cursor had not seen) is not reported.
        """
        sdk_cursor, blob = self._split(cursor)
        entries = []
        while True:
            result = self.call(
                lambda c=sdk_cursor: self.client.files_list_folder_continue(c))
            entries += result.entries
            sdk_cursor = result.cursor
            if not result.has_more:
                break
        if not entries and blob == self._applied:
            # Nothing new, and this instance learnt the map already: keep it as it is.
            return [], self._join(sdk_cursor, blob)
        _sdk_cursor, known = self._decode(cursor)
        changes, after = self._changes(entries, known)
        for item_id, (display, rev) in after.items():  # the freshest paths there are
            self._remember(item_id, display, rev)
        return changes, self._encode(sdk_cursor, after)

    def _changes(self, entries, before: dict) -> tuple[list[Change], dict]:
        root = self.root_id
        live = {e.id: e for e in entries
                if not isinstance(e, files.DeletedMetadata) and e.id != root}
        gone = [e.path_lower for e in entries if isinstance(e, files.DeletedMetadata)]
        live_paths = {e.path_lower: i for i, e in live.items()}
        before_ids = {display.lower(): i for i, (display, _rev) in before.items()}
        displaced = {
            i for i, (display, _rev) in before.items()
            if live_paths.get(display.lower(), i) != i
            or any(display.lower() == g or display.lower().startswith(g + "/") for g in gone)
        } - set(live)
        for item_id in displaced:
            self._forget(item_id)
        for meta in live.values():
            self._seen(meta)

        def old_parent(display: str) -> str | None:
            parent = _parent(display.lower())
            return root if parent == self._root_lower() else before_ids.get(parent)

        out = []
        for item_id, meta in live.items():
            item = self._item(meta)
            old = before.get(item_id)
            if old is None:
                out.append(Change(ChangeType.CREATED, item))
                continue
            old_display, old_rev = old
            old_name = old_display.rpartition("/")[2]
            old_parent_id = old_parent(old_display)
            if old_parent_id != item.parent_id:
                out.append(Change(ChangeType.MOVED, item, old_parent_id=old_parent_id,
                                  old_name=old_name))
            elif old_name != item.name:
                out.append(Change(ChangeType.RENAMED, item, old_name=old_name))
            if not item.is_folder and old_rev != item.version:
                out.append(Change(ChangeType.UPDATED, item))
        for item_id in sorted(displaced, key=lambda i: -before[i][0].count("/")):
            display, rev = before[item_id]
            out.append(Change(ChangeType.DELETED, Item(
                id=item_id, name=display.rpartition("/")[2],
                kind=Kind.FOLDER if rev is None else Kind.FILE,
                parent_id=old_parent(display), extra={"path_display": display})))
        after = {i: v for i, v in before.items() if i not in displaced}
        after.update({i: (e.path_display, getattr(e, "rev", None)) for i, e in live.items()})
        return out, after

    def wait_for_changes(self, cursor: str, timeout: float = 30) -> bool:
        """Block until the feed has news after ``cursor`` (Dropbox's longpoll, no auth),
        or ``timeout`` seconds (30-480) pass; honours the server's backoff."""
        sdk_cursor, _blob = self._split(cursor)
        wait = self._not_before - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        seconds = int(min(max(timeout, 30), 480))
        result = self.call(lambda: self.client.files_list_folder_longpoll(sdk_cursor, seconds))
        if result.backoff:
            self._not_before = time.monotonic() + result.backoff
        return result.changes
