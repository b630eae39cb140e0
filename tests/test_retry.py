"""The one retry policy: bounds, Retry-After, jitter, idempotency."""

import random

import pytest

from cloud_sync.providers.errors import Fatal, NotFound, RetryLater
from cloud_sync.retry import RetryPolicy


class FakeTime:
    """A clock that only moves when the policy sleeps, so tests take no time."""

    def __init__(self):
        self.now = 0.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now


def policy(fake: FakeTime, **kwargs) -> RetryPolicy:
    return RetryPolicy(sleep=fake.sleep, clock=fake.clock, **kwargs)


def failing(errors):
    """A callable raising each of ``errors`` in turn, then returning "done"."""
    calls = []

    def fn():
        calls.append(1)
        if len(calls) <= len(errors):
            raise errors[len(calls) - 1]
        return "done"

    fn.calls = calls
    return fn


def test_success_after_transient_errors():
    fake = FakeTime()
    fn = failing([RetryLater("503"), RetryLater("503")])
    assert policy(fake, jitter=False, initial_delay=0.5).run(fn) == "done"
    assert len(fn.calls) == 3
    assert fake.sleeps == [0.5, 1.0]  # exponential: 0.5 then 0.5 * 2


def test_bounded_by_attempts():
    fake = FakeTime()
    fn = failing([RetryLater("503")] * 100)
    with pytest.raises(RetryLater):
        policy(fake, max_attempts=4, initial_delay=0.01, max_total=1e9).run(fn)
    assert len(fn.calls) == 4 and len(fake.sleeps) == 3


def test_bounded_by_total_time():
    fake = FakeTime()
    fn = failing([RetryLater("503")] * 100)
    with pytest.raises(RetryLater):
        policy(fake, max_attempts=100, initial_delay=1, multiplier=2, jitter=False,
               max_total=10).run(fn)
    # waits 1, 2, 4 (total 7); the next wait of 8 would pass 10 s: give up instead
    assert fake.sleeps == [1, 2, 4]
    assert sum(fake.sleeps) <= 10


def test_delays_are_capped_by_max_delay():
    fake = FakeTime()
    fn = failing([RetryLater("503")] * 6)
    policy(fake, max_attempts=10, initial_delay=1, max_delay=3, jitter=False,
           max_total=100).run(fn)
    assert fake.sleeps == [1, 2, 3, 3, 3, 3]


def test_retry_after_is_honoured_exactly():
    fake = FakeTime()
    fn = failing([RetryLater("429", retry_after=7)])
    assert policy(fake, initial_delay=0.01).run(fn) == "done"
    assert fake.sleeps == [7]


def test_retry_after_beyond_the_limit_is_handed_to_the_caller():
    fake = FakeTime()
    fn = failing([RetryLater("429", retry_after=3600)])
    with pytest.raises(RetryLater) as raised:
        policy(fake, max_retry_after=300).run(fn)
    assert raised.value.retry_after == 3600
    assert fake.sleeps == [] and len(fn.calls) == 1


def test_retry_after_counts_against_total_time():
    fake = FakeTime()
    fn = failing([RetryLater("429", retry_after=20)])
    with pytest.raises(RetryLater):
        policy(fake, max_total=10).run(fn)
    assert fake.sleeps == []


def test_jitter_stays_within_the_exponential_ceiling():
    random.seed(1)
    retry = RetryPolicy(initial_delay=0.5, multiplier=2, max_delay=4)
    error = RetryLater("503")
    for attempt in range(1, 8):
        ceiling = min(4, 0.5 * 2 ** (attempt - 1))
        samples = [retry.delay(attempt, error) for _ in range(200)]
        assert all(0 <= s <= ceiling for s in samples)
        assert max(samples) - min(samples) > ceiling / 4  # really jittered


def test_non_idempotent_not_retried_after_an_ambiguous_failure():
    fake = FakeTime()
    fn = failing([RetryLater("timeout")])  # no Retry-After: the server may have done it
    with pytest.raises(RetryLater):
        policy(fake).run(fn, idempotent=False)
    assert len(fn.calls) == 1 and fake.sleeps == []


def test_non_idempotent_retried_when_the_server_refused_it():
    fake = FakeTime()
    fn = failing([RetryLater("429", retry_after=1)])  # throttled: it did not run
    assert policy(fake).run(fn, idempotent=False) == "done"
    assert len(fn.calls) == 2 and fake.sleeps == [1]


@pytest.mark.parametrize("error", [NotFound("gone"), Fatal("bad request"), ValueError("bug")])
def test_other_errors_are_not_retried(error):
    fake = FakeTime()
    fn = failing([error])
    with pytest.raises(type(error)):
        policy(fake).run(fn)
    assert len(fn.calls) == 1 and fake.sleeps == []


def test_on_retry_reports_each_wait():
    fake = FakeTime()
    seen = []
    retry = policy(fake, jitter=False, initial_delay=0.25,
                   on_retry=lambda attempt, wait, error: seen.append((attempt, wait, str(error))))
    retry.run(failing([RetryLater("one"), RetryLater("two", retry_after=2)]))
    assert seen == [(1, 0.25, "one"), (2, 2.0, "two")]
