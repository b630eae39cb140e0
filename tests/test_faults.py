"""The shared fault-injection middleware, over real HTTP in front of a tiny WSGI app."""

import time

import pytest
import requests

from cloud_sync.emulators.faults import FaultInjector
from cloud_sync.emulators.server import LocalServer


def echo_app(environ, start_response):
    """Answers 200 with the method, path and the size of the body it read."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    text = f"{environ['REQUEST_METHOD']} {environ['PATH_INFO']} {len(body)}".encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(text)))])
    return [text]


def expired():
    return "401 Unauthorized", [("WWW-Authenticate", 'Bearer error="invalid_token"')], b"expired"


@pytest.fixture(scope="module")
def served():
    faults = FaultInjector(echo_app, expired_answer=expired, skip=r"^POST /token")
    with LocalServer(faults) as server:
        yield faults, server.url


@pytest.fixture
def faults(served):
    injector, _ = served
    injector.clear()
    injector.reset_counts()
    yield injector
    injector.clear()


@pytest.fixture
def http(served):
    with requests.Session() as session:
        base = served[1]
        session.url = lambda path: base + path
        yield session


def test_counts_requests_per_endpoint(faults, http):
    http.get(http.url("/a?x=1"))
    http.get(http.url("/a?x=2"))
    http.put(http.url("/b"), data=b"12345")
    assert faults.counts["GET /a"] == 2 and faults.counts["PUT /b"] == 1
    assert faults.total() == 3 and faults.total(r"^GET ") == 2
    assert faults.log == ["GET /a?x=1", "GET /a?x=2", "PUT /b"]
    assert faults.body_sizes == [0, 0, 5]
    faults.reset_counts()
    assert faults.total() == 0 and faults.log == [] and faults.body_sizes == []


def test_injects_status_on_matching_requests_only(faults, http):
    faults.inject(503, count=2, match=r"^GET /a")
    assert http.get(http.url("/b")).status_code == 200
    assert [http.get(http.url("/a")).status_code for _ in range(3)] == [503, 503, 200]
    assert faults.injected["status"] == 2
    assert faults.counts["GET /a"] == 3  # faulted requests are counted too


def test_throttle_sends_retry_after(faults, http):
    faults.throttle(retry_after=1)
    answer = http.get(http.url("/a"))
    assert answer.status_code == 429 and answer.headers["Retry-After"] == "1"
    assert http.get(http.url("/a")).status_code == 200


def test_expired_token_uses_the_provider_wording(faults, http):
    faults.expire_token()
    answer = http.get(http.url("/a"))
    assert answer.status_code == 401 and answer.content == b"expired"
    assert "invalid_token" in answer.headers["WWW-Authenticate"]
    assert faults.injected["expired_token"] == 1


def test_skipped_endpoints_are_never_faulted(faults, http):
    faults.inject(500, count=1)
    assert http.post(http.url("/token")).status_code == 200
    assert http.get(http.url("/a")).status_code == 500


def test_timeout_holds_the_answer_longer_than_the_client_waits(faults, http):
    faults.inject_timeout(1.0)
    with pytest.raises(requests.exceptions.ReadTimeout):
        http.get(http.url("/a"), timeout=0.3)
    assert http.get(http.url("/a"), timeout=5).status_code == 200
    assert faults.injected["timeout"] == 1


def test_slow_answers_arrive_late_but_complete(faults, http):
    faults.slow_down(0.3)
    start = time.monotonic()
    answer = http.put(http.url("/slow"), data=b"abc")
    assert time.monotonic() - start >= 0.3
    assert answer.status_code == 200 and answer.text == "PUT /slow 3"


def test_a_faulted_request_body_is_drained(faults, http):
    faults.inject(503)
    assert http.put(http.url("/big"), data=b"x" * 300_000).status_code == 503
    # the same keep-alive connection still works for the next request
    assert http.put(http.url("/big"), data=b"y" * 10).text == "PUT /big 10"


def test_clear_removes_planned_faults(faults, http):
    faults.inject(503, count=5)
    faults.clear()
    assert http.get(http.url("/a")).status_code == 200
    assert faults.injected["status"] == 0


def test_random_faults_are_reproducible_and_clearable():
    def statuses(seed):
        injector = FaultInjector(echo_app)
        injector.random_faults(0.5, seed=seed, kinds=("503",))
        with LocalServer(injector) as server, requests.Session() as session:
            seen = [session.get(server.url + "/r").status_code for _ in range(30)]
            injector.clear()
            after = [session.get(server.url + "/r").status_code for _ in range(5)]
        return seen, after

    first, after = statuses(3)
    assert first == statuses(3)[0]
    assert 0 < first.count(503) < 30
    assert after == [200] * 5


def test_cut_response_closes_the_connection_mid_body(faults, http):
    """A short answer passes and leaves the cut armed; the next long one stops after the
    given bytes and the connection closes (the client sees a broken body)."""
    faults.cut_response(20, match=r"^POST ")
    assert http.post(http.url("/s"), data=b"x", timeout=5).text == "POST /s 1"
    with pytest.raises(requests.exceptions.ChunkedEncodingError) as cut:
        http.post(http.url("/a-longer-path-for-a-longer-answer"), data=b"y" * 100, timeout=5)
    assert "20 bytes read" in str(cut.value)
    assert faults.injected["cut"] == 1
    assert http.post(http.url("/a-longer-path-again"), data=b"z", timeout=5).ok  # one cut
