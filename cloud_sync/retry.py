"""One retry policy for every provider.

Exponential backoff with full jitter, honouring the server's Retry-After, bounded by
a number of attempts and a total time. Only :class:`RetryLater` is retried: the
provider decides what is transient when it translates its SDK's errors.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .providers.errors import RetryLater


@dataclass
class RetryPolicy:
    max_attempts: int = 6
    initial_delay: float = 0.5
    multiplier: float = 2.0
    max_delay: float = 30.0
    max_total: float = 120.0  # seconds spent waiting for one operation, at most
    max_retry_after: float = 300.0  # a longer Retry-After is handed to the caller
    jitter: bool = True
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)
    on_retry: Callable[[int, float, RetryLater], None] | None = field(default=None, repr=False)

    def delay(self, attempt: int, error: RetryLater) -> float:
        """Seconds to wait before attempt ``attempt + 1`` (attempts count from 1)."""
        if error.retry_after is not None:
            return max(0.0, float(error.retry_after))
        ceiling = min(self.max_delay, self.initial_delay * self.multiplier ** (attempt - 1))
        return random.uniform(0, ceiling) if self.jitter else ceiling

    def run(self, fn: Callable[[], Any], *, idempotent: bool = True) -> Any:
        """Call ``fn`` until it succeeds or the policy gives up (re-raising the error).

        A non-idempotent operation is retried only when the server said it did not run
        it (429 / Retry-After), never after an ambiguous failure such as a timeout.
        """
        start = self.clock()
        attempt = 1
        while True:
            try:
                return fn()
            except RetryLater as error:
                wait = self.delay(attempt, error)
                if (
                    attempt >= self.max_attempts
                    or wait > self.max_retry_after
                    or self.clock() - start + wait > self.max_total
                    or (not idempotent and error.retry_after is None)
                ):
                    raise
                if self.on_retry:
                    self.on_retry(attempt, wait, error)
                self.sleep(wait)
                attempt += 1


NO_RETRY = RetryPolicy(max_attempts=1)
