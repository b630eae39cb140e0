"""S3-specific behaviour beyond the conformance suite (boto3 against moto over HTTP)."""

import io
import json
import subprocess
import sys
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cloud_sync.conformance.targets.s3 import open_target
from cloud_sync.emulators.s3 import S3Emulator
from cloud_sync.providers.base import ChangeType, Item, Kind
from cloud_sync.providers.errors import (
    CursorExpired,
    Fatal,
    NameTaken,
    NotFound,
    ReauthRequired,
    RetryLater,
    Unsupported,
)
from cloud_sync.providers.s3 import STATE_PREFIX, S3Provider, diff_snapshots
from cloud_sync.retry import NO_RETRY, RetryPolicy


@pytest.fixture(scope="module")
def target(tmp_path_factory):
    with open_target(tmp_path_factory.mktemp("s3")) as opened:
        yield opened


@pytest.fixture
def provider(target):
    made = target.new_provider(retry=RetryPolicy(initial_delay=0.01, max_delay=0.05))
    yield made
    target.emulator.faults.clear()


@pytest.fixture
def faults(target):
    target.emulator.faults.clear()
    target.emulator.faults.reset_counts()
    return target.emulator.faults


def test_small_upload_is_one_conditional_request(provider, faults):
    provider.upload_bytes(provider.root_id, "one.txt", b"one")
    assert faults.total() == 1 and faults.log[0].startswith("PUT ")
    faults.reset_counts()
    with pytest.raises(NameTaken) as raised:
        provider.upload_bytes(provider.root_id, "one.txt", b"other")
    assert raised.value.existing_id == provider.root_id + "one.txt"
    assert faults.total() == 1
    assert provider.read_bytes(provider.root_id + "one.txt") == b"one"


def test_a_retried_create_that_had_succeeded_is_not_a_clash(target, faults):
    # the first PUT is held by the server past the client's timeout but then stored;
    # the retry meets our own object (same MD5) and must report success
    provider = target.new_provider(config={"timeout": 0.3},
                                   retry=RetryPolicy(initial_delay=1.0, jitter=False))
    faults.reset_counts()
    faults.slow_down(0.6, match=r"^PUT ")
    item = provider.upload_bytes(provider.root_id, "lost-answer.txt", b"mine")
    assert item.name == "lost-answer.txt"
    assert target.read_direct(item) == b"mine"
    assert faults.injected["slow"] == 1
    assert faults.total(r"^PUT ") == 2  # the retry really met the first attempt's object


def test_multipart_etag_is_not_a_content_hash(target, provider):
    data = b"m" * (provider.chunk_threshold + 1)
    big = provider.upload(provider.root_id, "big.bin", io.BytesIO(data), len(data))
    assert big.version and "-" in big.version and big.content_hash is None
    assert provider.metadata(big.id).content_hash is None
    small = provider.upload_bytes(provider.root_id, "small.bin", b"s")
    assert small.content_hash == "03c7c0ace395d80182db07ae2c30f034"  # md5("s")
    assert target.read_direct(big) == data


def test_multipart_upload_of_an_existing_name_fails_before_sending(provider, faults):
    provider.upload_bytes(provider.root_id, "taken.bin", b"x")
    faults.reset_counts()
    data = b"z" * (provider.chunk_threshold + 10)
    with pytest.raises(NameTaken):
        provider.upload(provider.root_id, "taken.bin", io.BytesIO(data), len(data))
    assert max(faults.body_sizes) == 0  # only a HEAD went out


@pytest.mark.parametrize("cursor", ["", "garbage", "s3snap1:xyz", "s3snap1:" + "0" * 64,
                                    "s3snap1:" + "G" * 64])
def test_garbled_or_unknown_cursors_are_expired(provider, cursor):
    with pytest.raises(CursorExpired):
        provider.changes(cursor)


def test_identical_listings_share_one_snapshot(provider, faults):
    first = provider.initial_cursor()
    faults.reset_counts()
    changes, second = provider.changes(first)
    assert changes == [] and second == first
    assert faults.total(r"^PUT ") == 0
    # another instance stores the same snapshot: one conditional PUT, refused (412)
    other = S3Provider(provider.config, retry=NO_RETRY)
    faults.reset_counts()
    assert other.initial_cursor() == first
    assert faults.total(r"^PUT ") == 1 and faults.total(r"^HEAD ") == 0


def test_a_poll_with_nothing_changed_is_the_listing_alone(target, provider, faults):
    provider.upload_bytes(provider.root_id, "steady.txt", b"steady")
    cursor = provider.initial_cursor()
    faults.reset_counts()
    assert provider.changes(cursor) == ([], cursor)
    assert len(faults.log) == 1 and "list-type=2" in faults.log[0]  # one listing page
    # another worker has no snapshot in memory: it reads the stored one (one GET more)
    other = S3Provider(provider.config, retry=NO_RETRY)
    faults.reset_counts()
    assert other.changes(cursor) == ([], cursor)
    assert faults.total() == 2 and faults.total(r"^HEAD ") == 0
    # a snapshot deleted by a lifecycle rule: the instance that remembers it goes on,
    # a restarted one must list everything again
    target.emulator.expire_cursors()
    assert provider.changes(cursor) == ([], cursor)
    other.forget_snapshots()
    with pytest.raises(CursorExpired):
        other.changes(cursor)


def test_folder_rename_in_the_change_feed(provider):
    folder = provider.create_folder(provider.root_id, "Reports")
    provider.upload_bytes(folder.id, "q1.txt", b"q1")
    cursor = provider.initial_cursor()
    renamed = provider.rename(folder.id, "Archive")
    changes, _ = provider.changes(cursor)
    kinds = [(c.type, c.item.id, c.old_id) for c in changes]
    assert kinds == [
        (ChangeType.RENAMED, renamed.id, folder.id),
        (ChangeType.MOVED, renamed.id + "q1.txt", folder.id + "q1.txt"),
    ]
    assert changes[0].old_name == "Reports"


def _item(key, size=0, etag=None):
    folder = key.endswith("/")
    parent, _, name = key.rstrip("/").rpartition("/")
    return Item(id=key, name=name, kind=Kind.FOLDER if folder else Kind.FILE,
                parent_id=parent + "/" if parent else "", size=size, version=etag)


def test_diff_with_duplicate_content_falls_back_to_delete_and_create():
    old = {"a.txt": ["e1", 1], "b.txt": ["e1", 1]}
    new = {"c.txt": ["e1", 1], "d.txt": ["e1", 1]}
    kinds = sorted((c.type.value, c.item.id) for c in diff_snapshots(_item, old, new))
    assert kinds == [("created", "c.txt"), ("created", "d.txt"),
                     ("deleted", "a.txt"), ("deleted", "b.txt")]


def test_diff_reports_updates_moves_and_ignores_unchanged():
    old = {"f/": ["d0", 0], "f/x.txt": ["e1", 5], "y.txt": ["e2", 3], "same.txt": ["e3", 1]}
    new = {"f/": ["d0", 0], "f/x.txt": ["e9", 6], "f/y.txt": ["e2", 3], "same.txt": ["e3", 1]}
    changes = diff_snapshots(_item, old, new)
    assert [(c.type, c.item.id) for c in changes] == [
        (ChangeType.MOVED, "f/y.txt"), (ChangeType.UPDATED, "f/x.txt")]
    assert changes[0].old_parent_id == "" and changes[0].old_id == "y.txt"


def test_static_keys_cannot_be_refreshed(target, faults):
    provider = target.new_provider(refresh_credentials=None, retry=NO_RETRY)
    assert not provider.refreshes_tokens
    faults.expire_token()
    with pytest.raises(ReauthRequired, match="ExpiredToken"):
        list(provider.list_children(provider.root_id))


def test_s3_worded_faults_become_typed_errors(target, faults):
    provider = target.new_provider(retry=NO_RETRY)
    faults.reset_counts()
    faults.inject(503)
    with pytest.raises(RetryLater, match="SlowDown") as raised:
        list(provider.list_children(provider.root_id))
    assert raised.value.status == 503
    faults.throttle(retry_after=1)
    with pytest.raises(RetryLater) as raised:
        list(provider.list_children(provider.root_id))
    assert raised.value.retry_after == 1.0 and raised.value.status == 429
    # botocore's own retries are off: one request per attempt, the policy decides
    assert faults.total() == 2


def test_missing_items_and_refused_operations(provider):
    root = provider.root_id
    with pytest.raises(NotFound):
        provider.update(root + "missing.txt", io.BytesIO(b"x"), 1)
    with pytest.raises(NotFound):
        list(provider.list_children(root + "no-such-folder/"))
    with pytest.raises(NotFound):
        provider.delete(root + "no-such-folder/")
    folder = provider.create_folder(root, "Outer")
    with pytest.raises(Fatal):
        provider.link(folder.id)
    with pytest.raises(Fatal):
        provider.move(folder.id, folder.id)
    with pytest.raises(Fatal):
        provider.delete(root)
    provider.create_folder(root, "Other")
    with pytest.raises(NameTaken):
        provider.rename(folder.id, "Other")
    assert provider.exists(folder.id)


def test_prefixes_without_a_marker_are_folders(target, provider):
    client = target.emulator.client()
    client.put_object(Bucket=target.emulator.bucket, Key=provider.root_id + "implicit/f.txt",
                      Body=b"f")
    listed = {c.name: c for c in provider.list_children(provider.root_id)}
    assert listed["implicit"].is_folder
    assert provider.metadata(provider.root_id + "implicit/").is_folder


def test_bucket_root_hides_the_state_prefix():
    with S3Emulator() as emulator:
        provider = S3Provider(emulator.provider_config(""))
        provider.upload_bytes("", "top.txt", b"top")
        cursor = provider.initial_cursor()
        assert [c.name for c in provider.list_children("")] == ["top.txt"]
        assert [i.id for i in provider.walk()] == ["top.txt"]
        provider.upload_bytes("", "next.txt", b"next")
        changes, _ = provider.changes(cursor)
        assert [(c.type, c.item.id) for c in changes] == [(ChangeType.CREATED, "next.txt")]
        assert not any(c.item.id.startswith(STATE_PREFIX) for c in changes)


def test_a_bucket_without_versioning_has_no_versions(target):
    """The conformance bucket is versioned; one that never was answers Unsupported (and
    a version id, even S3's own ``null``, reads nothing)."""
    client = target.emulator.client()
    bucket = f"{target.emulator.bucket}-plain"
    client.create_bucket(Bucket=bucket)
    provider = S3Provider({**target.emulator.provider_config(""), "bucket": bucket})
    item = provider.upload_bytes("", "plain.txt", b"plain")
    provider.update(item.id, io.BytesIO(b"plain, again"), 12)
    for call in (lambda: provider.versions(item.id),
                 lambda: list(provider.download_version(item.id, "null")),
                 lambda: provider.restore_version(item.id, "null")):
        with pytest.raises(Unsupported, match="versioning is not enabled"):
            call()
    assert provider.read_bytes(item.id) == b"plain, again"
    client.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})
    with pytest.raises(Unsupported, match="suspended"):
        S3Provider({**target.emulator.provider_config(""), "bucket": bucket}).versions(item.id)


def test_a_deleted_key_has_no_versions(provider):
    """Another key's version id is no version of a file (conformance suite); a deleted
    file has none, and restoring one does not bring it back."""
    two = provider.upload_bytes(provider.root_id, "two.txt", b"two")
    other = provider.versions(two.id)[0].id
    provider.delete(two.id)  # a delete marker: the versions stay, the file is gone
    with pytest.raises(NotFound):
        provider.versions(two.id)
    with pytest.raises(NotFound):  # and restoring one does not bring it back
        provider.restore_version(two.id, other)
    assert not provider.exists(two.id)


def test_copy_to_a_taken_name_is_refused(provider):
    source = provider.upload_bytes(provider.root_id, "a.txt", b"a")
    provider.upload_bytes(provider.root_id, "b.txt", b"b")
    with pytest.raises(NameTaken):
        provider.copy(source.id, provider.root_id, "b.txt")
    assert provider.read_bytes(provider.root_id + "b.txt") == b"b"


def test_configuration_without_bucket_is_refused():
    with pytest.raises(Fatal, match="bucket"):
        S3Provider({"endpoint_url": "http://127.0.0.1:9"})


def test_emulator_cli_serves_s3(tmp_path):
    process = subprocess.Popen(
        [sys.executable, "-m", "cloud_sync.emulators", "s3", "--port", "0"],
        stdout=subprocess.PIPE, text=True)
    try:
        started = json.loads(process.stdout.readline())
        assert started["provider"] == "s3"
        provider = S3Provider(started["config"])
        deadline = time.monotonic() + 10
        while True:
            try:
                item = provider.upload_bytes("", "by-hand.txt", b"manual")
                break
            except RetryLater:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        assert provider.read_bytes(item.id) == b"manual"
    finally:
        process.terminate()
        process.wait(timeout=10)


_names = st.sampled_from(["a", "b", "c"])
_keys = st.lists(_names, min_size=1, max_size=3).flatmap(
    lambda parts: st.sampled_from(["/".join(parts), "/".join(parts) + "/"]))
_snapshots = st.dictionaries(_keys, st.tuples(st.sampled_from(["e1", "e2", "e3"]),
                                              st.integers(0, 2)).map(list), max_size=12)


@settings(max_examples=300, deadline=None)
@given(old=_snapshots, new=_snapshots)
def test_replaying_the_diff_turns_the_old_listing_into_the_new(old, new):
    state = {k: list(v) for k, v in old.items()}
    for change in diff_snapshots(_item, old, new):
        if change.type in (ChangeType.RENAMED, ChangeType.MOVED):
            assert state.pop(change.old_id) is not None
        if change.type == ChangeType.DELETED:
            del state[change.item.id]
        else:
            assert change.type != ChangeType.CREATED or change.item.id not in state
            state[change.item.id] = [change.item.version, change.item.size]
    # the same keys, and the same ETag and size for every file (a folder marker's own
    # content is not reported: a folder has no content)
    assert set(state) == set(new)
    assert {k: v for k, v in state.items() if not k.endswith("/")} == {
        k: v for k, v in new.items() if not k.endswith("/")}
