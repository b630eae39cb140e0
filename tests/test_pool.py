"""The transfer pool, its shared throttle and the ordered execution of a plan."""

import threading
import time

import pytest

from cloud_sync.conformance import open_target
from cloud_sync.engine.planner import (
    OPERATIONS,
    ROOT,
    CreateLocal,
    CreateRemote,
    DeleteRemote,
    KeepRemoteCopy,
    MoveRemote,
    UpdateRemote,
)
from cloud_sync.pool import Skipped, Throttle, TransferPool, run_ordered
from cloud_sync.providers.base import Kind
from cloud_sync.providers.errors import CloudError, NotFound, RetryLater
from cloud_sync.retry import RetryPolicy


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


class Recorder:
    """start() for run_ordered: each transfer sleeps a little and logs start and end."""

    def __init__(self, delay=0.03, fail=(), bug=()):
        self.delay, self.fail, self.bug = delay, set(fail), set(bug)
        self.events = []  # (time, "start"|"end", key)
        self.lock = threading.Lock()
        self.running = self.peak = 0
        self.failures = []

    def log(self, what, key):
        with self.lock:
            self.events.append((time.monotonic(), what, key))

    def start(self, op):
        if not op.concurrent:
            self.log("start", op.key)
            self.log("end", op.key)
            return None

        def transfer():
            self.log("start", op.key)
            with self.lock:
                self.running += 1
                self.peak = max(self.peak, self.running)
            time.sleep(self.delay)
            with self.lock:
                self.running -= 1
            if op.key in self.fail:
                raise NotFound(op.key)
            if op.key in self.bug:
                raise KeyError(op.key)
            return op.key

        return transfer, lambda result: self.log("end", result)

    def failed(self, op, exc):
        self.failures.append((op.key, type(exc).__name__))

    def at(self, what, key):
        return next(t for t, w, k in self.events if w == what and k == key)


def typed(exc):
    return isinstance(exc, CloudError)


def test_every_operation_has_a_direction_and_a_concurrency():
    assert {kind.direction for kind in OPERATIONS.values()} == {"direct", "backward"}
    assert CreateRemote("a1", "f1", "x", Kind.FILE).direction == "direct"
    assert CreateLocal("new:x", "x", ROOT, "x", Kind.FILE).direction == "backward"
    assert CreateRemote("a1", "f1", "x", Kind.FILE).after == ("a1", "f1")
    assert UpdateRemote("a1").after == ("a1",)


def test_parents_before_children_and_barriers_alone():
    ops = [CreateRemote("f1", ROOT, "A", Kind.FOLDER),
           CreateRemote("f2", ROOT, "B", Kind.FOLDER),
           *[CreateRemote(f"a{i}", "f1", f"{i}", Kind.FILE) for i in range(6)],
           CreateRemote("f3", "f1", "C", Kind.FOLDER),
           CreateRemote("a9", "f3", "9", Kind.FILE),
           MoveRemote("f2", "f1", "B"),
           *[CreateRemote(f"b{i}", "f2", f"{i}", Kind.FILE) for i in range(4)]]
    rec = Recorder()
    run_ordered(ops, TransferPool(4), rec.start, rec.failed, typed)
    assert rec.failures == []
    assert rec.peak > 1, "nothing ran side by side"
    for i in range(6):
        assert rec.at("start", f"a{i}") >= rec.at("end", "f1")
    assert rec.at("start", "a9") >= rec.at("end", "f3") >= rec.at("start", "f3")
    moved = [t for t, w, k in rec.events if w == "start" and k == "f2"][-1]
    # the move runs after everything before it ended, and before anything after it starts
    assert all(rec.at("end", k) <= moved for k in ("f1", "f3", "a9", "a0", "a5"))
    assert all(rec.at("start", f"b{i}") >= moved for i in range(4))


def test_two_operations_on_one_item_keep_their_order():
    ops = [KeepRemoteCopy("a1", "r1", "f1", "x (conflict copy)"), UpdateRemote("a1"),
           UpdateRemote("a2")]
    rec = Recorder()
    run_ordered(ops, TransferPool(4), rec.start, rec.failed, typed)
    keep = next(t for t, w, k in rec.events if w == "end" and k == "a1")
    starts = [t for t, w, k in rec.events if w == "start" and k == "a1"]
    assert starts[1] >= keep


def test_typed_failure_skips_only_what_depends_on_it():
    ops = [CreateRemote("f1", ROOT, "A", Kind.FOLDER), CreateRemote("f2", ROOT, "B", Kind.FOLDER),
           CreateRemote("a1", "f1", "1", Kind.FILE), CreateRemote("a2", "f2", "2", Kind.FILE),
           CreateRemote("f3", "f1", "C", Kind.FOLDER), CreateRemote("a3", "f3", "3", Kind.FILE)]
    rec = Recorder(fail={"f1"})
    run_ordered(ops, TransferPool(4), rec.start, rec.failed, typed)
    assert sorted(rec.failures) == [("a1", "Skipped"), ("a3", "Skipped"), ("f1", "NotFound"),
                                    ("f3", "Skipped")]
    assert {k for _, w, k in rec.events if w == "end"} == {"f2", "a2"}
    assert issubclass(Skipped, CloudError)


def test_a_bug_is_not_an_operation_failure():
    """Anything but the provider's typed errors stops the run once the transfers in
    flight ended: a KeyError is a bug to see, not a retry."""
    ops = [CreateRemote(f"a{i}", ROOT, str(i), Kind.FILE) for i in range(8)]
    rec = Recorder(bug={"a2"})
    pool = TransferPool(4)
    with pytest.raises(KeyError):
        run_ordered(ops, pool, rec.start, rec.failed, typed)
    assert rec.running == 0 and pool.in_flight == 0
    assert rec.failures == []


def test_pool_of_one_runs_in_the_callers_thread():
    threads = set()

    def start(op):
        return (lambda: threads.add(threading.get_ident())), (lambda result: None)

    ops = [CreateRemote(f"a{i}", ROOT, str(i), Kind.FILE) for i in range(3)]
    run_ordered(ops, TransferPool(1), start, lambda op, exc: None, typed)
    assert threads == {threading.get_ident()}


def test_pool_threads_hand_calls_to_the_owner():
    owner = threading.get_ident()
    seen = []
    pool = TransferPool(4)

    def start(op):
        return (lambda: pool.call_in_owner(lambda: seen.append(threading.get_ident()) or 7),
                lambda result: seen.append(result))

    run_ordered([UpdateRemote(f"a{i}") for i in range(6)], pool, start,
                lambda op, exc: None, typed)
    assert seen.count(owner) == 6 and seen.count(7) == 6


def test_non_concurrent_operations_wait_for_the_pool():
    assert not DeleteRemote("a1").concurrent
    rec = Recorder()
    ops = [UpdateRemote("a1"), UpdateRemote("a2"), DeleteRemote("a3")]
    run_ordered(ops, TransferPool(4), rec.start, rec.failed, typed)
    assert rec.at("start", "a3") >= max(rec.at("end", "a1"), rec.at("end", "a2"))


# ---------------------------------------------------------------------------- throttle
def test_retry_after_pauses_every_transfer():
    throttle = Throttle(8)
    throttle.throttled(RetryLater("slow down", retry_after=0.3, status=429))
    started = time.monotonic()
    waited = []

    def other():
        throttle.wait()
        waited.append(time.monotonic() - started)

    threads = [threading.Thread(target=other) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(waited) == 4 and min(waited) >= 0.25


def test_shrinks_while_throttled_then_grows_back():
    clock = Clock()
    throttle = Throttle(8, clock=clock, sleep=clock.sleep)
    pool = TransferPool(8, throttle)
    try:
        answers = [RetryLater("429", retry_after=0, status=429) for _ in range(3)]
        throttle.throttled(answers[0])
        throttle.throttled(answers[0])  # same burst (within a second): counted once
        assert throttle.limit == 4 and pool.capacity == 4
        for answer in answers[1:]:
            clock.now += 1.5
            throttle.throttled(answer)
        assert throttle.limit == 1
        throttle.throttled(RetryLater("timeout"))  # not throttling: no change
        clock.now += 2
        throttle.throttled(RetryLater("timeout"))
        assert throttle.limit == 1
        for _ in range(1 + 2 + 3 + 4 + 5 + 6 + 7):
            throttle.succeeded()
        assert throttle.limit == 8 and pool.capacity == 8
    finally:
        pool.close()


def test_start_modest_and_request_rates():
    clock = Clock()
    throttle = Throttle(8, start=4, rates={"request": 10.0}, clock=clock, sleep=clock.sleep)
    assert throttle.limit == 4
    begin = clock.now
    for _ in range(24):
        throttle.wait()
    # a burst of at most the limit, then 10 per second
    assert clock.now - begin == pytest.approx((24 - 1) / 10.0, abs=0.45)


@pytest.fixture(scope="module")
def s3(tmp_path_factory):
    with open_target("s3", tmp_path_factory.mktemp("pool-s3")) as target:
        yield target


def test_shared_pause_against_the_real_sdk(s3):
    """boto3 against moto: one 429 with Retry-After, and no transfer of the connection
    reaches the server until that time has passed."""
    provider = s3.new_provider(retry=RetryPolicy(max_attempts=5, initial_delay=0.01))
    faults = s3.emulator.faults
    folder = provider.create_folder(provider.root_id, "pause")
    throttle = Throttle(8)
    provider.throttle = throttle
    pool = TransferPool(8, throttle)
    faults.reset_counts()
    faults.throttle(retry_after=1, count=1, match=r"^PUT .*/pause/f-0[2-9]")
    done = []
    ops = [CreateRemote(f"a{i:02d}", ROOT, f"f-{i:02d}", Kind.FILE) for i in range(40)]

    def start(op):
        name = op.name
        return (lambda: provider.upload_bytes(folder.id, name, b"x" * 100),
                lambda item: done.append(item.name))

    run_ordered(ops, pool, start, lambda op, exc: pytest.fail(repr(exc)), typed)
    assert len(done) == 40
    assert faults.injected["status"] == 1 and throttle.stats["throttled"] == 1
    paused_at = throttle.paused_until - 1  # when the 429 reached the client (same clock)
    quiet = [t for t in faults.times if paused_at + 0.15 < t < paused_at + 0.95]
    assert quiet == [], f"{len(quiet)} requests during the pause"
    assert max(faults.times) > paused_at + 0.95
