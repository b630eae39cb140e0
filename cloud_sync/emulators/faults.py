"""Fault injection and request counting shared by every local server.

:class:`FaultInjector` is a WSGI middleware: put it in front of any emulator (or of
moto and wsgidav) to count requests per endpoint and to answer chosen requests with
429 + Retry-After, a 5xx, an expired-token answer, a delay longer than the client's
timeout, a slow response, or a response cut in the middle of its body (the connection
closes after some bytes: :meth:`FaultInjector.cut_response`), and to add a fixed latency
to every request (what a real cloud costs per request: ``latency``); it also records the
most requests answered at once (``most_in_flight``: does a client really send requests
side by side?). Each emulator passes
how its provider words those answers, so the SDK under test sees exactly what the real
service would send.
"""

from __future__ import annotations

import random
import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

# (status line, headers, body) — a complete WSGI answer
Answer = tuple[str, list[tuple[str, str]], bytes]

_STATUS_TEXT = {401: "Unauthorized", 429: "Too Many Requests", 500: "Internal Server Error",
                502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}


def plain_error(status: int, retry_after: float | None) -> Answer:
    headers = [("Content-Type", "text/plain")]
    if retry_after is not None:
        headers.append(("Retry-After", str(int(retry_after) if retry_after == int(retry_after)
                                           else retry_after)))
    return f"{status} {_STATUS_TEXT.get(status, 'Error')}", headers, f"error {status}".encode()


@dataclass
class Fault:
    kind: str  # "status" | "timeout" | "slow" | "expired_token" | "cut"
    status: int = 503
    retry_after: float | None = None
    delay: float = 0.0
    match: re.Pattern | None = None
    remaining: int = 1
    after: int = 0  # matching requests let through before the first one faulted

    def applies(self, request_line: str) -> bool:
        return self.match is None or bool(self.match.search(request_line))


class FaultInjector:
    """WSGI middleware that counts requests and injects planned faults.

    ``error_answer(status, retry_after)`` words a throttling/5xx answer for the
    provider; ``expired_answer()`` words its expired-token answer. ``skip`` is a regex
    of request lines never faulted (e.g. the OAuth token endpoint).
    """

    def __init__(self, app, *, error_answer: Callable[[int, float | None], Answer] = plain_error,
                 expired_answer: Callable[[], Answer] | None = None, skip: str | None = None):
        self.app = app
        self.error_answer = error_answer
        self.expired_answer = expired_answer or (lambda: plain_error(401, None))
        self.skip = re.compile(skip) if skip else None
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self.counts: Counter[str] = Counter()
        self.log: list[str] = []
        self.body_sizes: list[int] = []  # Content-Length of each request (0 if none)
        self.times: list[float] = []  # when each request arrived (time.monotonic())
        self.latency = 0.0  # seconds added before answering every request (benchmarks)
        # requests being answered now (arrival until the app returned), and the most so far
        self.in_flight = self.most_in_flight = 0
        self.injected: Counter[str] = Counter()
        self.faulted: list[int] = []  # positions in ``log`` of the requests faulted
        self._random: tuple[float, random.Random, tuple[str, ...]] | None = None
        self._random_timeout = 2.0

    # -- planning ---------------------------------------------------------------------
    def _add(self, fault: Fault, match: str | None) -> None:
        fault.match = re.compile(match) if match else None
        with self._lock:
            self._faults.append(fault)

    def inject(self, status: int = 503, *, retry_after: float | None = None, count: int = 1,
               match: str | None = None, after: int = 0) -> None:
        """Answer the next ``count`` matching requests with ``status`` (after letting
        ``after`` matching requests through: a fault in the middle of a sequence)."""
        self._add(Fault("status", status=status, retry_after=retry_after, remaining=count,
                        after=after), match)

    def throttle(self, retry_after: float = 1, *, count: int = 1, match: str | None = None):
        self.inject(429, retry_after=retry_after, count=count, match=match)

    def inject_timeout(self, seconds: float, *, count: int = 1, match: str | None = None):
        """Hold the next matching requests ``seconds`` before answering 504 (longer than
        the client's timeout, so the client sees a timeout)."""
        self._add(Fault("timeout", status=504, delay=seconds, remaining=count), match)

    def slow_down(self, seconds: float, *, count: int = 1, match: str | None = None):
        """Delay the next matching requests, then answer them normally."""
        self._add(Fault("slow", delay=seconds, remaining=count), match)

    def cut_response(self, after_bytes: int, *, count: int = 1, match: str | None = None):
        """Cut the next ``count`` matching responses whose body is longer than
        ``after_bytes``: the status, headers and ``after_bytes`` bytes go out, then the
        connection closes (a download broken mid-stream). Shorter answers pass, the
        fault stays armed."""
        self._add(Fault("cut", delay=after_bytes, remaining=count), match)

    def expire_token(self, *, count: int = 1, match: str | None = None):
        """Answer the next matching requests as the provider does for an expired token."""
        self._add(Fault("expired_token", status=401, remaining=count), match)

    def random_faults(self, rate: float, *, seed: int = 0,
                      kinds: tuple[str, ...] = ("429", "503", "expired_token"),
                      timeout: float = 2.0) -> None:
        """Fault a share ``rate`` of all requests, drawn from ``kinds`` (reproducible);
        a ``timeout`` fault holds its request ``timeout`` seconds (more than the
        client's timeout) before answering 504."""
        self._random = (rate, random.Random(seed), kinds) if rate else None
        self._random_timeout = timeout

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()
            self._random = None

    # -- counting ---------------------------------------------------------------------
    def reset_counts(self) -> None:
        with self._lock:
            self.counts.clear()
            self.log.clear()
            self.body_sizes.clear()
            self.times.clear()
            self.injected.clear()
            self.faulted.clear()
            self.most_in_flight = self.in_flight

    def total(self, match: str | None = None) -> int:
        """Requests seen (since the last reset) whose request line matches ``match``."""
        if match is None:
            return sum(self.counts.values())
        pattern = re.compile(match)
        return sum(n for line, n in self.counts.items() if pattern.search(line))

    # -- WSGI -------------------------------------------------------------------------
    def _take(self, line: str) -> Fault | None:
        if self.skip and self.skip.search(line):
            return None
        with self._lock:
            for fault in self._faults:
                if fault.kind != "cut" and fault.remaining > 0 and fault.applies(line):
                    if fault.after > 0:
                        fault.after -= 1
                        continue
                    fault.remaining -= 1
                    if fault.remaining == 0:
                        self._faults.remove(fault)
                    return fault
            if self._random:
                rate, rng, kinds = self._random
                if rng.random() < rate:
                    kind = rng.choice(kinds)
                    if kind == "expired_token":
                        return Fault("expired_token", status=401)
                    if kind == "timeout":
                        return Fault("timeout", status=504, delay=self._random_timeout)
                    status = int(kind)
                    return Fault("status", status=status,
                                 retry_after=0.05 if status == 429 else None)
        return None

    def __call__(self, environ, start_response):
        with self._lock:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            return self._answer(environ, start_response)
        finally:
            with self._lock:
                self.in_flight -= 1

    def _answer(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        query = environ.get("QUERY_STRING", "")
        line = f"{environ.get('REQUEST_METHOD', 'GET')} {path}" + (f"?{query}" if query else "")
        endpoint = f"{environ.get('REQUEST_METHOD', 'GET')} {path}"
        with self._lock:
            self.counts[endpoint] += 1
            self.log.append(line)
            index = len(self.log) - 1
            self.body_sizes.append(_content_length(environ))
            self.times.append(time.monotonic())
        if self.latency > 0:
            time.sleep(self.latency)
        fault = self._take(line)
        if fault is None:
            cut = self._armed_cut(line)
            if cut is None:
                return self.app(environ, start_response)
            return self._cutting(cut, index, self.app(environ, start_response))
        with self._lock:
            self.injected[fault.kind] += 1
            self.faulted.append(index)
        if fault.kind == "slow":
            time.sleep(fault.delay)
            return self.app(environ, start_response)
        _drain(environ)
        if fault.kind == "timeout":
            time.sleep(fault.delay)
            status, headers, body = self.error_answer(504, None)
        elif fault.kind == "expired_token":
            status, headers, body = self.expired_answer()
        else:
            status, headers, body = self.error_answer(fault.status, fault.retry_after)
        start_response(status, [*headers, ("Content-Length", str(len(body)))])
        return [body]


    # -- cuts -------------------------------------------------------------------------
    def _armed_cut(self, line: str) -> Fault | None:
        if self.skip and self.skip.search(line):
            return None
        with self._lock:
            return next((f for f in self._faults if f.kind == "cut" and f.remaining > 0
                         and f.applies(line)), None)

    def _claim(self, fault: Fault, index: int) -> bool:
        with self._lock:
            if fault.remaining <= 0:
                return False
            fault.remaining -= 1
            if fault.remaining == 0 and fault in self._faults:
                self._faults.remove(fault)
            self.injected["cut"] += 1
            self.faulted.append(index)
            return True

    def _cutting(self, fault: Fault, index: int, body):
        """``body`` until ``fault.delay`` bytes went out and more would follow; then
        :class:`ConnectionCut` (the server closes the connection, headers already sent)."""
        limit, sent = int(fault.delay), 0
        try:
            for chunk in body:
                if sent + len(chunk) > limit and self._claim(fault, index):
                    if limit > sent:
                        yield chunk[:limit - sent]
                    raise ConnectionCut(f"cut after {limit} bytes")
                sent += len(chunk)
                yield chunk
        finally:
            if hasattr(body, "close"):
                body.close()


class ConnectionCut(Exception):
    """Raised inside a response body: the server drops the connection mid-stream."""


def _content_length(environ) -> int:
    try:
        return int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def _drain(environ) -> None:
    """Read the request body so the connection stays usable for the next request."""
    stream = environ.get("wsgi.input")
    if stream is None:
        return
    length = _content_length(environ)
    while length > 0:
        chunk = stream.read(min(length, 1 << 16))
        if not chunk:
            break
        length -= len(chunk)
