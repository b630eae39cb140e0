"""The provider contract: one abstract class and its value objects.

A provider instance is bound to one connection (credentials and options) and to one
root folder, the connection's root: the change feed reports what happens beneath it.
Every item is addressed by a stable remote id (for S3 and WebDAV: the key or path).
"""

from __future__ import annotations

import abc
import enum
import io
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, BinaryIO, ClassVar

from ..naming import NameRules, sanitize
from ..retry import RetryPolicy
from .errors import Fatal, NameTaken, NotFound, ReauthRequired, RetryLater, Unsupported


class Kind(str, enum.Enum):
    FOLDER = "folder"
    FILE = "file"


@dataclass(frozen=True)
class Item:
    """One remote file or folder as the provider reports it."""

    id: str
    name: str
    kind: Kind
    parent_id: str | None = None
    size: int = 0
    version: str | None = None  # etag / rev / cTag / headRevisionId: changes on every edit
    hash_type: str | None = None  # see cloud_sync.hashing.ALGORITHMS
    content_hash: str | None = None
    modified: datetime | None = None
    web_url: str | None = None
    mime_type: str | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def is_folder(self) -> bool:
        return self.kind == Kind.FOLDER

    def evolve(self, **changes) -> Item:
        return replace(self, **changes)


@dataclass(frozen=True)
class Version:
    """One kept version of a file, as the provider lists it (see :meth:`Provider.versions`).

    ``id`` is what :meth:`Provider.download_version` and :meth:`Provider.restore_version`
    take; ``current`` marks the file's present content (listed first)."""

    id: str
    size: int = 0
    modified: datetime | None = None
    author: str | None = None
    current: bool = False


class ChangeType(str, enum.Enum):
    CREATED = "created"
    UPDATED = "updated"  # content changed
    RENAMED = "renamed"
    MOVED = "moved"  # parent changed (possibly renamed too)
    DELETED = "deleted"


@dataclass(frozen=True)
class Change:
    """One entry of the change feed. For deletions ``item`` may carry only id and kind."""

    type: ChangeType
    item: Item
    old_parent_id: str | None = None
    old_name: str | None = None
    old_id: str | None = None  # for renames/moves where the id changes (S3 keys, paths)


TokenCallback = Callable[[dict], None]


@dataclass
class Resume:
    """An upload that may continue in a later run (a crash, a killed worker).

    ``state`` is what an earlier attempt of the same upload saved (``None``: start
    fresh); ``save(state)`` is called by the provider after its session started and after
    each chunk the server committed, with a small JSON-serialisable dict (the session's
    URL or id, what the provider needs to ask the server how far it got), and with
    ``None`` once the state is useless (the upload finished, or the server forgot the
    session). The caller stores it where a crash does not lose it and hands it back on
    the next attempt. A provider resumes only a state made for the same target and size,
    asks the server how far it got (never trusts the saved offset), and starts over when
    the server forgot the session; the finished file is verified as any upload.
    """

    state: dict | None = None
    save: Callable[[dict | None], None] = field(default=lambda state: None, repr=False)

    def matching(self, provider: str, target: str, size: int) -> dict | None:
        """The saved state if it was made for this provider, target and size."""
        state = self.state
        if (isinstance(state, dict) and state.get("provider") == provider
                and state.get("target") == target and state.get("size") == size):
            return state
        return None

    def store(self, provider: str, target: str, size: int, **session) -> None:
        self.state = {"provider": provider, "target": target, "size": size, **session}
        self.save(dict(self.state))

    def drop(self) -> None:
        if self.state is not None:
            self.state = None
            self.save(None)


class Provider(abc.ABC):
    """Abstract provider. Subclasses implement the ``_``-less abstract operations.

    Constructor arguments:
    ``config``: the connection's options and credentials (provider-specific keys; always
    ``root``, the id/path of the connection's root folder, or empty for the drive root);
    ``retry``: the :class:`RetryPolicy` (one policy object for all providers);
    ``on_token_refresh``: called with the new credentials after a refresh, so the Odoo
    side persists them.
    """

    key: ClassVar[str]
    name_rules: ClassVar[NameRules] = NameRules()
    hash_type: ClassVar[str | None] = None
    chunk_threshold: ClassVar[int] = 8 * 1024 * 1024
    download_chunk_size: ClassVar[int] = 1024 * 1024
    # Provider differences the conformance suite reads (never ``if key == ...``):
    unique_names: ClassVar[bool] = True  # a sibling's name (same kind) raises NameTaken
    resumable_upload: ClassVar[bool] = True  # above chunk_threshold no request carries it all
    resumes_uploads: ClassVar[bool] = False  # a chunked upload continues in a later run (Resume)
    aborts_uploads: ClassVar[bool] = False  # abort_upload() ends a saved session remotely
    has_public_links: ClassVar[bool] = False  # link(public=True) works (else a CloudError)
    # link() options the provider honours besides ``public`` (others raise Fatal):
    # "audience" ("anyone" | "organization" for public links), "expires_in" (seconds).
    link_options: ClassVar[frozenset[str]] = frozenset()
    public_link_is_content: ClassVar[bool] = False  # a plain GET of the public link = bytes
    internal_link_is_content: ClassVar[bool] = False  # likewise the internal link (signed in)
    refreshes_tokens: ClassVar[bool] = False  # an expired token is refreshed (refresh_token)
    # The cloud picker and file versions (issue 15):
    has_versions: ClassVar[bool] = False  # versions() & co. work (an S3 bucket may still say no)
    can_search: ClassVar[bool] = False  # search() finds files by name beneath the root
    server_side_copy: ClassVar[bool] = False  # copy() copies in the cloud, bytes never pass here
    # Parallel transfers (cloud_sync.pool): published request rates per second by kind
    # ("request", "upload"), and where the pool starts when the provider publishes no
    # limit (it grows to the connection's setting while nothing is throttled).
    rates: ClassVar[dict[str, float]] = {}
    start_concurrency: ClassVar[int | None] = None

    def __init__(
        self,
        config: dict,
        *,
        retry: RetryPolicy | None = None,
        on_token_refresh: TokenCallback | None = None,
    ):
        self.config = dict(config)
        self.retry = retry or RetryPolicy()
        self.on_token_refresh = on_token_refresh
        # Set for a run with parallel transfers (see cloud_sync.pool): the connection's
        # shared throttle, and how a pool thread hands a call to the owner's thread.
        self.throttle = None
        self.owner_call: Callable[..., Any] = _direct
        self._single_flight = threading.RLock()
        self._token_generation = 0  # refreshes so far: threads refresh once per expiry
        self.requests = 0  # attempts made through call() (the dashboard's API requests)

    # -- helpers shared by every provider -------------------------------------------
    def safe_name(self, name: str) -> str:
        """``name`` made acceptable to this provider (the one place rules are applied)."""
        return sanitize(name, self.name_rules)

    def call(self, fn: Callable[[], Any], *, idempotent: bool = True) -> Any:
        """Run one remote operation under the retry policy and the token-refresh hook.

        ``fn`` must raise typed errors (see :meth:`translate`). An expired token is
        refreshed once through :meth:`refresh_token` and the operation retried once.
        """

        def attempt():
            self.requests += 1  # under the GIL; a rare lost count only blurs a statistic
            throttle = self.throttle
            if throttle is not None:
                throttle.wait()
            try:
                result = self._authorized(fn)
            except RetryLater as error:
                if throttle is not None:
                    throttle.throttled(error)
                raise
            if throttle is not None:
                throttle.succeeded()
            return result

        return self.retry.run(attempt, idempotent=idempotent)

    def _authorized(self, fn, refreshes: int = 2):
        """``fn``, refreshing an expired token at most ``refreshes`` times (a token
        refused right after a refresh gets one more: with parallel transfers the first
        refresh may be another thread's, and the SDKs that refresh by themselves already
        do as much). Refreshes are single flight (see :meth:`_refresh_once`)."""
        while True:
            generation = self._token_generation
            try:
                return self._translated(fn)
            except ReauthRequired:
                if refreshes <= 0 or not self._refresh_once(generation):
                    raise
                refreshes -= 1

    def _refresh_once(self, generation: int) -> str | None:
        """Single flight: threads whose request failed with the same token refresh it
        once ("done"); the others find it refreshed ("other") and retry."""
        with self._single_flight:
            if self._token_generation != generation:
                return "other"
            if not self.refresh_token():
                return None
            self._token_generation += 1
            return "done"

    def _translated(self, fn):
        try:
            return fn()
        except Exception as exc:  # noqa: BLE001 - translated to a typed error below
            typed = self.translate(exc)
            if typed is exc:
                raise
            raise typed from exc

    def translate(self, exc: Exception) -> Exception:
        """Map an SDK exception to a :mod:`errors` type (default: unchanged)."""
        return exc

    def refresh_token(self) -> bool:
        """Refresh the access token; return True if a retry makes sense.

        Providers with OAuth override this and call :attr:`on_token_refresh` with the
        new credentials. The default has nothing to refresh.
        """
        return False

    def notify_token(self, credentials: dict) -> None:
        """Hand new credentials to the caller, in the owner's thread (it stores them)."""
        if self.on_token_refresh:
            self.owner_call(self.on_token_refresh, dict(credentials))

    # -- the contract ---------------------------------------------------------------
    @property
    @abc.abstractmethod
    def root_id(self) -> str:
        """Remote id of the connection's root folder."""

    @abc.abstractmethod
    def create_folder(self, parent_id: str, name: str) -> Item:
        """Create a folder; raise :class:`NameTaken` if the name is taken (unique-name
        providers)."""

    def ensure_folder(self, parent_id: str, name: str) -> Item:
        """Get or create the folder ``name`` under ``parent_id``.

        Crash safety: a sync that created a folder remotely but died before committing
        locally finds it again here instead of creating a twin.
        """
        existing = self.find_child(parent_id, name, kind=Kind.FOLDER)
        if existing:
            return existing
        try:
            return self.create_folder(parent_id, name)
        except NameTaken:
            found = self.find_child(parent_id, name, kind=Kind.FOLDER)
            if found:
                return found
            raise

    def find_child(self, parent_id: str, name: str, kind: Kind | None = None) -> Item | None:
        """The child of ``parent_id`` named ``name`` (after sanitising), if any."""
        wanted = self.name_rules.key(self.safe_name(name))
        for child in self.list_children(parent_id):
            if self.name_rules.key(child.name) == wanted and (kind is None or child.kind == kind):
                return child
        return None

    @abc.abstractmethod
    def upload(
        self, parent_id: str, name: str, stream: BinaryIO, size: int | None = None,
        resume: Resume | None = None,
    ) -> Item:
        """Create a new file from ``stream`` (read in chunks; resumable above
        :attr:`chunk_threshold`). Raise :class:`NameTaken` if a sibling has the name
        and the provider enforces unique names. ``resume``: see :class:`Resume` (used
        where :attr:`resumes_uploads`, ignored elsewhere; ``stream`` must then be
        seekable)."""

    def abort_upload(self, state: dict) -> bool:
        """End the upload session a saved :class:`Resume` state names, so the server frees
        what it holds for it (S3 keeps, and bills, the parts of an unfinished multipart
        upload forever). True if a session was ended; a session the server no longer
        knows is not an error (False). Providers whose sessions expire by themselves
        and offer no abort (Drive, Dropbox: after a week) keep this default."""
        return False

    @abc.abstractmethod
    def update(self, item_id: str, stream: BinaryIO, size: int | None = None,
               resume: Resume | None = None) -> Item:
        """Replace the content of an existing file, keeping its id where possible."""

    @abc.abstractmethod
    def download(self, item_id: str) -> Iterator[bytes]:
        """Stream the content in chunks of at most :attr:`download_chunk_size`."""

    @abc.abstractmethod
    def rename(self, item_id: str, new_name: str) -> Item:
        """Rename in place. Returns the item (with its possibly new id)."""

    @abc.abstractmethod
    def move(self, item_id: str, new_parent_id: str, new_name: str | None = None) -> Item:
        """Move under another folder, optionally renaming."""

    @abc.abstractmethod
    def delete(self, item_id: str) -> None:
        """Delete (to the trash where the provider has one). Missing items raise NotFound."""

    @abc.abstractmethod
    def list_children(self, folder_id: str) -> Iterator[Item]:
        """Every child of the folder, across all pages."""

    @abc.abstractmethod
    def metadata(self, item_id: str) -> Item:
        """The item, or :class:`NotFound`."""

    @abc.abstractmethod
    def link(self, item_id: str, public: bool | None = None, *, audience: str | None = None,
             expires_in: int | None = None) -> str:
        """A URL to the item: internal (for users with access) or shared/public.

        ``public`` None: as the connection's config says (e.g. Nextcloud ``public_links``);
        False: never a sharing link (the caller may not create one). ``audience``: who a
        public link opens for, ``anyone`` or ``organization`` (else the config's);
        ``expires_in``: a lifetime in seconds (else the config's). An option the provider
        cannot honour raises :class:`Fatal` rather than giving a wider link.
        """

    def check_link_options(self, audience: str | None, expires_in: int | None) -> None:
        """Refuse link options this provider has no way to honour (see ``link_options``)."""
        asked = {k for k, v in (("audience", audience), ("expires_in", expires_in))
                 if v is not None}
        if asked - self.link_options:
            raise Fatal(f"{self.key}: links have no option {', '.join(sorted(asked))}")
        if audience not in (None, "anyone", "organization"):
            raise Fatal(f"{self.key}: unknown link audience {audience!r}")
        if expires_in is not None and int(expires_in) <= 0:
            raise Fatal(f"{self.key}: a link lifetime must be positive")

    @abc.abstractmethod
    def initial_cursor(self) -> str:
        """A change-feed cursor for "now", without enumerating where the provider can."""

    @abc.abstractmethod
    def changes(self, cursor: str) -> tuple[list[Change], str]:
        """Changes beneath the root since ``cursor`` and the cursor to use next.

        Raise :class:`CursorExpired` when the provider says the cursor is no longer
        valid; the caller then walks the tree and asks for a new initial cursor.
        """

    def advance(self, cursor: str, writes: list[Change]) -> str | None:
        """A cursor that counts ``writes``, this connection's own changes made since
        ``cursor`` (in order), as seen, built without asking the server; ``None`` where
        the feed cannot do that. Changes by anyone else since ``cursor`` must still be
        reported by :meth:`changes` on the returned cursor.

        Listing-diff feeds (S3, WebDAV, Nextcloud) implement it so that a sync run that
        wrote does not list everything again to move its cursor; real change feeds
        report the writes themselves, cheaply, and keep this default.
        """
        return None

    # -- browsing, search, copy and versions (the picker and "Versions") ------------
    def list_page(self, folder_id: str, page_token: str | None = None,
                  limit: int = 100) -> tuple[list[Item], str | None]:
        """One page of the folder's children and the token of the next page (``None``:
        the last). The default pages :meth:`list_children` by position; providers whose
        API pages natively override it so that a page costs one request."""
        start = int(page_token or 0)
        items = []
        for index, child in enumerate(self.list_children(folder_id)):
            if index >= start + limit:
                return items, str(start + limit)
            if index >= start:
                items.append(child)
        return items, None

    def search(self, query: str, limit: int = 50) -> list[Item]:
        """Files and folders beneath the root whose name contains ``query`` (case
        insensitive), at most ``limit``; :class:`Unsupported` where the provider has no
        search (see :attr:`can_search`)."""
        raise Unsupported(f"{self.key}: no search by name")

    def copy(self, item_id: str, parent_id: str, name: str | None = None) -> Item:
        """A copy of the file ``item_id`` under ``parent_id`` (named ``name`` or as the
        source); :class:`NameTaken` as :meth:`upload`. The default streams the bytes down
        and up through a spool file; providers with :attr:`server_side_copy` copy in the
        cloud."""
        source = self.metadata(item_id)
        with tempfile.SpooledTemporaryFile(max_size=self.download_chunk_size) as stream:
            size = 0
            for chunk in self.download(item_id):
                stream.write(chunk)
                size += len(chunk)
            stream.seek(0)
            return self.upload(parent_id, name or source.name, stream, size)

    def versions(self, item_id: str) -> list[Version]:
        """The file's versions the provider keeps, newest first, the current content
        first (``current=True``). :class:`Unsupported` where there are none (plain
        WebDAV; an S3 bucket without versioning)."""
        raise Unsupported(f"{self.key}: files have no versions")

    def download_version(self, item_id: str, version_id: str) -> Iterator[bytes]:
        """Stream one version's content, as :meth:`download`."""
        raise Unsupported(f"{self.key}: files have no versions")

    def restore_version(self, item_id: str, version_id: str) -> Item:
        """Make that version's content the file's current content (the content it
        replaces stays a version). Returns the file as it is now (its id kept where the
        provider keeps ids)."""
        raise Unsupported(f"{self.key}: files have no versions")

    # -- conveniences built on the contract -----------------------------------------
    def read_bytes(self, item_id: str) -> bytes:
        return b"".join(self.download(item_id))

    def upload_bytes(self, parent_id: str, name: str, data: bytes) -> Item:
        return self.upload(parent_id, name, io.BytesIO(data), len(data))

    def walk(self, folder_id: str | None = None) -> Iterator[Item]:
        """Every item beneath ``folder_id`` (default: the root), depth first."""
        stack = [folder_id or self.root_id]
        while stack:
            for child in self.list_children(stack.pop()):
                yield child
                if child.is_folder:
                    stack.append(child.id)

    def exists(self, item_id: str) -> bool:
        try:
            self.metadata(item_id)
        except NotFound:
            return False
        return True

    def close(self) -> None:  # noqa: B027 - optional hook, nothing to release by default
        """Release sessions and connections."""


def _direct(fn, *args):
    return fn(*args)


def iter_chunks(stream: BinaryIO, chunk_size: int) -> Iterable[bytes]:
    """Read ``stream`` in chunks of ``chunk_size`` until EOF."""
    while True:
        chunk = stream.read(chunk_size)
        if not chunk:
            return
        yield chunk


def exact_chunks(head: bytes, stream: BinaryIO, size: int) -> Iterator[bytes]:
    """``head`` then the rest of ``stream``, in chunks of exactly ``size`` bytes (the last
    one shorter), as multipart and chunked uploads need. With no head, each chunk is one
    ``read`` of the stream (no copy)."""
    pending = head
    while True:
        while len(pending) < size:
            more = stream.read(size - len(pending))
            if not more:
                break
            pending = pending + more if pending else more
        if not pending:
            return
        chunk, pending = pending[:size], pending[size:]
        yield chunk
