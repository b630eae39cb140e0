"""Parallel transfers for one connection: a bounded pool, a shared throttle, and the
ordered execution of a plan's operations on them.

Real clouds answer in 50-300 ms, so one request at a time leaves a sync waiting on the
network. :func:`run_ordered` starts a plan's operations in plan order and lets the
concurrent ones (``Op.concurrent``) overlap once the operations on their ``after`` keys
are done; every other operation runs alone. Only the network part of an operation (its
*transfer*) runs in a pool thread: preparing it and writing down its result happen in
the caller's thread (the *owner*; in Odoo, the worker's thread that holds the cursor).
A pool thread that needs the owner (to store a refreshed token with the ORM) hands the
call over with :meth:`TransferPool.call_in_owner`; the owner runs it while it waits.

:class:`Throttle` is shared by every transfer of a connection: a throttling answer with
Retry-After from any transfer pauses all of them that long; while the provider keeps
throttling, the number of transfers in flight halves (at most once a second), and each
run of quiet successes as long as the current limit adds one back (AIMD, as TCP does).
Documented request rates (``rates``, requests per second by kind) are kept with a token
bucket per kind.
"""

from __future__ import annotations

import queue
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Protocol

from .providers.errors import CloudError, RetryLater

THROTTLE_STATUSES = frozenset({403, 429, 503})  # 403: Drive's rate-limit answers


def is_throttling(error: RetryLater) -> bool:
    """A provider asking us to slow down (not a timeout or a plain server error)."""
    return error.retry_after is not None or error.status in THROTTLE_STATUSES


class Throttle:
    """Concurrency limit, shared pause and request rates of one connection (thread-safe).

    ``limit``: the most transfers in flight; ``start``: where the limit begins (servers
    with no published limits start modest and grow); ``rates``: ``{kind: per second}``.
    """

    def __init__(self, limit: int, *, start: int | None = None, min_limit: int = 1,
                 rates: dict[str, float] | None = None, max_pause: float = 300.0,
                 shrink_every: float = 1.0, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        self.maximum = max(1, int(limit))
        self.min_limit = max(1, min(min_limit, self.maximum))
        self.limit = max(self.min_limit, min(self.maximum, start or self.maximum))
        self.max_pause = max_pause
        self.shrink_every = shrink_every
        self.clock, self.sleep = clock, sleep
        self._lock = threading.Lock()
        self.paused_until = 0.0
        self._last_shrink = float("-inf")
        self._quiet = 0  # successes since the last throttling answer or growth
        self._rates = {kind: float(r) for kind, r in (rates or {}).items() if r}
        self._tokens = dict.fromkeys(self._rates, 1.0)
        self._filled = {kind: clock() for kind in self._rates}
        self.stats: Counter[str] = Counter()

    def wait(self, kind: str = "request") -> None:
        """Block while the connection is paused, then take one token of ``kind``."""
        while True:
            with self._lock:
                now = self.clock()
                delay = self.paused_until - now
                if delay <= 0:
                    delay = self._take(kind, now)
                    if delay <= 0:
                        return
            self.stats["waits"] += 1
            self.sleep(delay)

    def _take(self, kind: str, now: float) -> float:
        """0 once a token is taken, else the seconds until the next one (lock held)."""
        rate = self._rates.get(kind)
        if rate is None:
            return 0.0
        burst = max(1.0, float(self.limit))
        tokens = min(burst, self._tokens[kind] + (now - self._filled[kind]) * rate)
        self._filled[kind] = now
        if tokens >= 1.0 - 1e-9:  # float dust must not leave a token out of reach
            self._tokens[kind] = max(0.0, tokens - 1.0)
            return 0.0
        self._tokens[kind] = tokens
        return (1.0 - tokens) / rate

    def throttled(self, error: RetryLater) -> None:
        """A transfer was told to slow down: pause everyone, and shrink the pool."""
        if not is_throttling(error):
            return
        with self._lock:
            now = self.clock()
            self.stats["throttled"] += 1
            self._quiet = 0
            if error.retry_after is not None:
                pause = min(max(0.0, float(error.retry_after)), self.max_pause)
                self.paused_until = max(self.paused_until, now + pause)
            if now - self._last_shrink >= self.shrink_every and self.limit > self.min_limit:
                self.limit = max(self.min_limit, self.limit // 2)
                self._last_shrink = now
                self.stats["shrunk"] += 1

    def succeeded(self) -> None:
        """A request went through: after as many quiet ones as the limit, grow by one."""
        with self._lock:
            self._quiet += 1
            if self.limit < self.maximum and self._quiet >= self.limit:
                self.limit += 1
                self._quiet = 0
                self.stats["grown"] += 1


class Skipped(CloudError):
    """The operation did not run: an operation it depends on failed in this run."""


class Task(Protocol):
    """What :func:`run_ordered` needs of an operation (``planner.Op`` has it)."""

    key: str

    @property
    def after(self) -> tuple[str, ...]: ...

    @property
    def concurrent(self) -> bool: ...


class TransferPool:
    """Up to ``size`` transfers in flight in worker threads, results back to the owner.

    ``size`` 1 runs every transfer in the owner's thread as it is submitted (no thread).
    """

    def __init__(self, size: int = 8, throttle: Throttle | None = None,
                 name: str = "transfer"):
        self.size = max(1, int(size))
        self.throttle = throttle or Throttle(self.size)
        self._owner = threading.get_ident()
        self._events: queue.Queue = queue.Queue()
        self._threads = (ThreadPoolExecutor(self.size, thread_name_prefix=name)
                         if self.size > 1 else None)
        self.in_flight = 0

    @property
    def capacity(self) -> int:
        """Transfers allowed in flight now (the throttle shrinks it)."""
        return max(1, min(self.size, self.throttle.limit))

    def submit(self, tag: Any, fn: Callable[[], Any]) -> None:
        """Run ``fn`` in a pool thread; its result comes back from :meth:`next_done`."""
        self.in_flight += 1
        if self._threads is None:
            self._run(tag, fn)
        else:
            self._threads.submit(self._run, tag, fn)

    def _run(self, tag, fn) -> None:
        try:
            self._events.put(("done", tag, fn(), None))
        except BaseException as exc:  # noqa: BLE001 - handed to the owner as it is
            self._events.put(("done", tag, None, exc))

    def next_done(self) -> tuple[Any, Any, BaseException | None]:
        """(tag, result, error) of the next finished transfer; meanwhile runs the calls
        pool threads hand to the owner. Owner thread only."""
        if not self.in_flight:
            raise RuntimeError("no transfer in flight")
        while True:
            event = self._events.get()
            if event[0] == "call":
                _, fn, args, future = event
                try:
                    future.set_result(fn(*args))
                except BaseException as exc:  # noqa: BLE001 - raised in the caller
                    future.set_exception(exc)
                continue
            self.in_flight -= 1
            return event[1:]

    def call_in_owner(self, fn: Callable[..., Any], *args) -> Any:
        """``fn(*args)`` in the owner's thread (at once when called there)."""
        if threading.get_ident() == self._owner:
            return fn(*args)
        future: Future = Future()
        self._events.put(("call", fn, args, future))
        return future.result()

    def close(self) -> None:
        """Wait for the transfers in flight (their results are dropped), stop threads."""
        while self.in_flight:
            self.next_done()
        if self._threads is not None:
            self._threads.shutdown(wait=True)

    def __enter__(self) -> TransferPool:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# start(op) -> None (done in the owner) or (transfer, finish): transfer() runs in the pool,
# finish(result) back in the owner.
Start = Callable[[Task], "tuple[Callable[[], Any], Callable[[Any], None]] | None"]


def run_ordered(ops: Iterable[Task], pool: TransferPool, start: Start,
                failed: Callable[[Task, CloudError], None],
                is_failure: Callable[[BaseException], bool]) -> None:
    """Execute ``ops`` in plan order on ``pool`` (see the module docstring).

    An operation starts after every earlier operation on one of its ``after`` keys is
    done; a non-concurrent one after everything before it, and nothing starts until it
    is done. An error for which ``is_failure`` is true fails that operation only
    (``failed`` is told, in the owner); the operations that wait for its key are not run
    and fail as :class:`Skipped`. Any other error stops the run: the transfers in flight
    end first, then it is raised.
    """
    busy: Counter[str] = Counter()  # keys of operations in flight
    broken: set[str] = set()  # keys of operations that failed
    finishers: dict[int, tuple[Task, Callable[[Any], None]]] = {}

    def fail(op: Task, exc: CloudError) -> None:
        broken.add(op.key)
        failed(op, exc)

    def collect() -> None:
        tag, result, error = pool.next_done()
        op, finish = finishers.pop(tag)
        busy[op.key] -= 1
        if error is None:
            try:
                finish(result)
            except BaseException as exc:  # noqa: BLE001 - sorted just below
                error = exc
        if error is not None:
            if not is_failure(error):
                raise error
            fail(op, error)

    try:
        for n, op in enumerate(ops):
            if op.concurrent:
                while pool.in_flight and (pool.in_flight >= pool.capacity
                                          or any(busy[k] for k in op.after)):
                    collect()
            else:
                while pool.in_flight:
                    collect()
            lost = next((k for k in op.after if k in broken), None)
            if lost is not None:
                fail(op, Skipped(f"{lost} failed earlier in this run"))
                continue
            try:
                steps = start(op)
                if steps is None:
                    continue
                transfer, finish = steps
            except BaseException as exc:  # noqa: BLE001 - sorted just below
                if not is_failure(exc):
                    raise
                fail(op, exc)
                continue
            finishers[n] = (op, finish)
            busy[op.key] += 1
            pool.submit(n, transfer)
        while pool.in_flight:
            collect()
    finally:
        pool.close()
