"""Nextcloud: the local server speaks what pyocclient and Nextcloud clients expect, and the
provider keeps ids stable, uploads in one request (chunking v2 above the threshold),
finds items moved by others, and reports others' changes as moves and renames."""

from __future__ import annotations

import datetime
import hashlib
import io
import json
import os
import subprocess
import sys
import uuid
import xml.etree.ElementTree as ET
from urllib.parse import quote

import owncloud
import pytest
import requests

from cloud_sync.conformance.targets.nextcloud import open_target
from cloud_sync.emulators.nextcloud import APP_PASSWORD, USER
from cloud_sync.providers import ChangeType, make_provider
from cloud_sync.providers import nextcloud as nextcloud_module
from cloud_sync.providers.errors import (
    CursorExpired,
    Fatal,
    NameTaken,
    NotFound,
    QuotaExceeded,
    ReauthRequired,
    RetryLater,
    Unsupported,
)
from cloud_sync.retry import RetryPolicy

OC = "{http://owncloud.org/ns}"
PROPS = ["d:getetag", "oc:fileid", "oc:id", "oc:size", "oc:permissions"]


def fast():
    return RetryPolicy(max_attempts=4, initial_delay=0.01, max_delay=0.05, max_total=10)


@pytest.fixture(scope="module")
def target(tmp_path_factory):
    with open_target(tmp_path_factory.mktemp("nextcloud")) as opened:
        yield opened


@pytest.fixture
def server(target):
    target.emulator.faults.clear()
    target.emulator.faults.reset_counts()
    return target.emulator


@pytest.fixture
def provider(target, server):
    made = target.new_provider(retry=fast())
    yield made
    server.faults.clear()
    made.close()


@pytest.fixture
def client(server):
    """Raw pyocclient, as another Nextcloud client would act on the same account."""
    sdk = owncloud.Client(server.url)
    sdk.login(USER, APP_PASSWORD)
    yield sdk
    sdk.logout()


def dav(server, method, path, **kwargs):
    kwargs.setdefault("auth", (USER, APP_PASSWORD))
    return requests.request(method, server.dav_url(path), timeout=10, **kwargs)


def info(client, path):
    return client.file_info(path, properties=PROPS).attributes


# -- the local server ---------------------------------------------------------------------
def test_login_reads_capabilities(client):
    assert client.get_version() == "28.0.4"
    assert client.get_capabilities()["dav"]["chunking"] == "1.0"
    assert client._webdav_url.endswith("/remote.php/webdav")


def test_wrong_app_password_is_refused(server):
    sdk = owncloud.Client(server.url)
    with pytest.raises(owncloud.HTTPResponseError) as refused:
        sdk.login(USER, "wrong")
    assert refused.value.status_code == 401
    assert dav(server, "PROPFIND", "/", headers={"Depth": "0"}, auth=None).status_code == 401


def test_fileid_is_stable_and_folder_etags_propagate(client):
    top = f"/t-{uuid.uuid4().hex[:8]}"
    client.mkdir(top)
    client.mkdir(f"{top}/inner")
    client.put_file_contents(f"{top}/inner/f.txt", b"one")
    before = {p: info(client, p) for p in ("/", top, f"{top}/inner", f"{top}/inner/f.txt")}
    client.put_file_contents(f"{top}/inner/f.txt", b"two")
    after = {p: info(client, p) for p in before}
    for path in before:  # content changed: the file and every folder above it
        assert after[path]["{DAV:}getetag"] != before[path]["{DAV:}getetag"], path
        assert after[path][f"{OC}fileid"] == before[path][f"{OC}fileid"]
    assert after[f"{top}/inner"][f"{OC}size"] == "3"
    client.move(f"{top}/inner/f.txt", f"{top}/g.txt")
    moved = info(client, f"{top}/g.txt")
    assert moved[f"{OC}fileid"] == after[f"{top}/inner/f.txt"][f"{OC}fileid"]
    assert moved["{DAV:}getetag"] == after[f"{top}/inner/f.txt"]["{DAV:}getetag"]
    assert moved[f"{OC}permissions"] == "RGDNVW"
    assert info(client, top)["{DAV:}getetag"] != after[top]["{DAV:}getetag"]
    # folder sizes are kept per ETag (not walked on each PROPFIND) and follow writes
    assert [info(client, p)[f"{OC}size"] for p in (top, f"{top}/inner")] == ["3", "0"]
    client.put_file_contents(f"{top}/inner/h.txt", b"three")
    assert [info(client, p)[f"{OC}size"] for p in (top, f"{top}/inner")] == ["8", "5"]


def test_both_files_endpoints_serve_one_tree(server, client):
    client.put_file_contents("/both.txt", b"both")
    fileid = info(client, "/both.txt")[f"{OC}fileid"]
    answer = requests.request(
        "PROPFIND", f"{server.url}/remote.php/dav/files/{USER}/both.txt",
        auth=(USER, APP_PASSWORD), headers={"Depth": "0"}, timeout=10,
        data=b'<d:propfind xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns"><d:prop>'
             b"<oc:fileid/></d:prop></d:propfind>")
    assert answer.status_code == 207
    assert ET.fromstring(answer.content).find(f".//{OC}fileid").text == fileid


def test_names_nextcloud_refuses(server):
    assert dav(server, "PUT", "/back\\slash.txt", data=b"x").status_code == 400
    assert dav(server, "PUT", "/" + "n" * 251, data=b"x").status_code == 400
    assert dav(server, "MKCOL", "/" + "n" * 251).status_code == 400
    assert dav(server, "PUT", "/" + "n" * 250, data=b"x").status_code == 201


def test_chunking_v2_protocol(server):
    base = f"{server.url}/remote.php/dav/uploads/{USER}/up-{uuid.uuid4().hex[:8]}"
    auth = (USER, APP_PASSWORD)
    destination = {"Destination": f"{server.url}/remote.php/dav/files/{USER}/chunked.bin"}
    assert requests.request("MKCOL", base, auth=auth).status_code == 201
    assert requests.request("MKCOL", base, auth=auth).status_code == 405
    assert requests.put(f"{base}/0", data=b"x", auth=auth).status_code == 400
    assert requests.put(f"{base}/2", data=b"world", auth=auth).status_code == 201
    assert requests.put(f"{base}/1", data=b"hello ", auth=auth).status_code == 201
    wrong = requests.request("MOVE", f"{base}/.file", auth=auth,
                             headers={**destination, "OC-Total-Length": "99"})
    assert wrong.status_code == 400 and b"do not sum up" in wrong.content
    done = requests.request("MOVE", f"{base}/.file", auth=auth,
                            headers={**destination, "OC-Total-Length": "11"})
    assert done.status_code == 201 and done.headers["OC-FileId"] and done.headers["ETag"]
    assert dav(server, "GET", "/chunked.bin").content == b"hello world"
    assert requests.request("MKCOL", base, auth=auth).status_code == 201  # the id is free
    requests.delete(base, auth=auth)


def test_public_link_shares(server, client):
    """pyocclient reads the shares Nextcloud lists, but its ``share_file_with_link`` reads a
    ``name`` field that Nextcloud does not send: it fails after the share was made, as
    against a real server (owncloud/pyocclient#253), so the provider does not use it."""
    client.put_file_contents("/shared.txt", b"shared bytes")
    with pytest.raises(AttributeError):
        client.share_file_with_link("/shared.txt")
    [share] = client.get_shares("/shared.txt")
    assert share.get_link() == f"{server.url}/s/{share.get_token()}"
    assert share.get_share_type() == client.OCS_SHARE_TYPE_LINK
    assert client.is_shared("/shared.txt")
    client.move("/shared.txt", "/shared-moved.txt")  # the share follows the file
    assert client.get_share(share.get_id()).get_path() == "/shared-moved.txt"
    assert requests.get(share.get_link() + "/download").content == b"shared bytes"
    page = requests.get(share.get_link(), timeout=10)
    assert page.status_code == 200 and "shared-moved.txt" in page.text
    client.delete_share(share.get_id())
    assert requests.get(share.get_link() + "/download").status_code == 404
    assert requests.get(share.get_link()).status_code == 404
    with pytest.raises(owncloud.OCSResponseError) as missing:
        client.get_shares("/no-such-file")
    assert missing.value.status_code == 404


# -- chunked upload v2, mtime, checksums --------------------------------------------------
def propfind(server, url, props, depth="0"):
    """The named properties of each href of a PROPFIND answer: {href: {tag: element}}."""
    body = ('<d:propfind xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns" '
            'xmlns:x="urn:example"><d:prop>' + "".join(f"<{p}/>" for p in props)
            + "</d:prop></d:propfind>")
    answer = requests.request("PROPFIND", url, data=body, auth=(USER, APP_PASSWORD),
                              headers={"Depth": depth}, timeout=10)
    assert answer.status_code == 207, answer.text
    found = {}
    for response in ET.fromstring(answer.content).iter("{DAV:}response"):
        values = {}
        for propstat in response.iter("{DAV:}propstat"):
            if propstat.find("{DAV:}status").text.endswith("200 OK"):
                values.update({e.tag: e for e in propstat.find("{DAV:}prop")})
        found[response.find("{DAV:}href").text] = values
    return found


def test_chunking_v2_zero_padded_names_resume_and_mtime(server):
    """Chunks named as clients name them (00001...) assemble in number order; a PROPFIND
    of the upload folder lists the chunks received (to resume); X-OC-Mtime and
    OC-Checksum on the final MOVE set the file's time and checksum."""
    name = f"up-{uuid.uuid4().hex[:8]}"
    base = f"{server.url}/remote.php/dav/uploads/{USER}/{name}"
    auth = (USER, APP_PASSWORD)
    target = f"/padded-{name}.bin"
    destination = {"Destination": f"{server.url}/remote.php/dav/files/{USER}{target}"}
    parts = [bytes([n]) * (n + 1) for n in range(1, 12)]  # 11 chunks: 00010 after 00002
    assert requests.request("MKCOL", base, auth=auth, headers=destination).status_code == 201
    for n, part in enumerate(parts[:-1], start=1):
        assert requests.put(f"{base}/{n:05d}", data=part, auth=auth,
                            headers=destination).status_code == 201
    listed = propfind(server, base, ["d:getcontentlength", "d:resourcetype"], depth="1")
    chunks = {href.rsplit("/", 1)[-1]: int(p["{DAV:}getcontentlength"].text)
              for href, p in listed.items() if not href.endswith("/")}
    assert chunks == {f"{n:05d}": len(parts[n - 1]) for n in range(1, 11)}
    assert requests.request("PROPFIND", base + "-missing", auth=auth,
                            headers={"Depth": "1"}).status_code == 404
    assert requests.put(f"{base}/00011", data=parts[-1], auth=auth,
                        headers=destination).status_code == 201  # the resumed upload ends
    checksum = "SHA1:" + hashlib.sha1(b"".join(parts)).hexdigest()
    done = requests.request("MOVE", f"{base}/.file", auth=auth, headers={
        **destination, "OC-Total-Length": str(sum(map(len, parts))),
        "X-OC-Mtime": "1700000000", "OC-Checksum": checksum})
    assert done.status_code == 201, done.text
    assert done.headers["X-OC-MTime"] == "accepted"
    assert dav(server, "GET", target).content == b"".join(parts)
    props = propfind(server, server.dav_url(target), ["d:getlastmodified", "oc:checksums"])
    [props] = props.values()
    assert props["{DAV:}getlastmodified"].text == "Tue, 14 Nov 2023 22:13:20 GMT"
    assert [c.text for c in props[f"{OC}checksums"]] == [checksum]


def test_put_mtime_and_checksum(server):
    path = f"/stamped-{uuid.uuid4().hex[:6]}.txt"
    sha1 = "SHA1:" + hashlib.sha1(b"stamped").hexdigest()
    put = dav(server, "PUT", path, data=b"stamped",
              headers={"X-OC-Mtime": "1600000000", "OC-Checksum": sha1})
    assert put.status_code == 201 and put.headers["X-OC-MTime"] == "accepted"
    assert "X-OC-MTime" not in dav(server, "PUT", path + ".plain", data=b"x").headers
    [props] = propfind(server, server.dav_url(path),
                       ["d:getlastmodified", "oc:checksums"]).values()
    assert props["{DAV:}getlastmodified"].text == "Sun, 13 Sep 2020 12:26:40 GMT"
    assert [c.text for c in props[f"{OC}checksums"]] == [sha1]
    assert dav(server, "MOVE", path, headers={
        "Destination": server.dav_url(path + ".moved")}).status_code == 201
    [moved] = propfind(server, server.dav_url(path + ".moved"), ["oc:checksums"]).values()
    assert [c.text for c in moved[f"{OC}checksums"]] == [sha1]  # the checksum follows
    assert dav(server, "PUT", path + ".moved", data=b"new bytes").status_code == 204
    [rewritten] = propfind(server, server.dav_url(path + ".moved"), ["oc:checksums"]).values()
    assert f"{OC}checksums" not in rewritten  # new bytes without a checksum: none kept
    refused = dav(server, "PUT", path, data=b"x", headers={"X-OC-Mtime": "yesterday"})
    assert refused.status_code == 400 and b"X-OC-MTime" in refused.content


# -- OCS -----------------------------------------------------------------------------------
def ocs_call(server, method, route, version=2, headers=None, **kwargs):
    base = {"OCS-APIRequest": "true"}
    return requests.request(method, f"{server.url}/ocs/v{version}.php/{route}",
                            auth=(USER, APP_PASSWORD), headers={**base, **(headers or {})},
                            timeout=10, **kwargs)


SHARES = "apps/files_sharing/api/v1/shares"


def test_ocs_v1_and_v2_xml_and_json(server, client):
    client.put_file_contents("/ocs.txt", b"ocs")
    v1 = ocs_call(server, "GET", SHARES + "/999999", version=1)
    assert v1.status_code == 200  # v1: the outcome is in the body only
    assert ET.fromstring(v1.content).find("meta/statuscode").text == "404"
    v2 = ocs_call(server, "GET", SHARES + "/999999")
    assert v2.status_code == 404  # v2: the HTTP status is the outcome
    assert ET.fromstring(v2.content).find("meta/statuscode").text == "404"
    made = ocs_call(server, "POST", SHARES, params={"format": "json"},
                    data={"path": "/ocs.txt", "shareType": 3})
    assert made.status_code == 200 and made.headers["Content-Type"].startswith(
        "application/json")
    body = made.json()["ocs"]
    assert body["meta"] == {"status": "ok", "statuscode": 200, "message": "OK"}
    listed = ocs_call(server, "GET", SHARES, headers={"Accept": "application/json"},
                      params={"path": "/ocs.txt"}).json()["ocs"]["data"]
    assert [s["id"] for s in listed] == [body["data"]["id"]]
    ok = ocs_call(server, "GET", "cloud/capabilities", version=1, params={"format": "json"})
    assert ok.json()["ocs"]["meta"]["statuscode"] == 100
    assert ok.json()["ocs"]["data"]["version"]["string"] == "28.0.4"


def test_ocs_requires_the_api_request_header(server):
    for version in (1, 2):
        refused = requests.get(f"{server.url}/ocs/v{version}.php/{SHARES}",
                               auth=(USER, APP_PASSWORD), timeout=10)
        assert refused.status_code == 412
        assert refused.json() == {"message": "CSRF check failed"}
    stranger = requests.get(f"{server.url}/ocs/v2.php/{SHARES}?format=json",
                            headers={"OCS-APIRequest": "true"}, timeout=10)
    assert stranger.status_code == 401
    assert stranger.json()["ocs"]["meta"]["statuscode"] == 997


def test_share_fields_and_update(server, client):
    client.mkdir("/share-dir")
    client.put_file_contents("/share-dir/a.txt", b"in the folder")
    client.put_file_contents("/share-file.txt", b"file bytes")
    tomorrow = (datetime.date.today() + datetime.timedelta(days=1)).isoformat()
    made = ocs_call(server, "POST", SHARES, params={"format": "json"}, data={
        "path": "/share-file.txt", "shareType": 3, "label": "For Bob", "note": "hello",
        "expireDate": tomorrow})
    share = made.json()["ocs"]["data"]
    documented = {"id", "share_type", "uid_owner", "permissions", "can_edit", "can_delete",
                  "stime", "expiration", "token", "note", "label", "path", "item_type",
                  "mimetype", "file_source", "file_parent", "share_with", "password", "url",
                  "hide_download", "attributes", "item_size", "item_mtime"}
    assert documented <= set(share)
    assert (share["label"], share["note"], share["expiration"]) == (
        "For Bob", "hello", f"{tomorrow} 00:00:00")
    assert (share["permissions"], share["hide_download"], share["can_edit"]) == (1, 0, True)
    assert share["mimetype"] == "text/plain" and share["item_size"] == 10
    route = f"{SHARES}/{share['id']}"

    def update(**data):
        return ocs_call(server, "PUT", route, params={"format": "json"}, data=data)

    later = (datetime.date.today() + datetime.timedelta(days=9)).isoformat()
    attributes = json.dumps([{"scope": "permissions", "key": "download", "value": False}])
    changed = update(expireDate=later, password="s3cret", label="Bob", hideDownload="true",
                     attributes=attributes)
    assert changed.status_code == 200
    data = changed.json()["ocs"]["data"]
    assert data["expiration"] == f"{later} 00:00:00" and data["password"]
    assert (data["label"], data["hide_download"]) == ("Bob", 1)
    assert json.loads(data["attributes"]) == json.loads(attributes)
    assert update(expireDate="", password="").json()["ocs"]["data"]["expiration"] is None
    # refusals, with the status Nextcloud documents
    past = (datetime.date.today() - datetime.timedelta(days=1)).isoformat()
    assert update(expireDate=past).status_code == 404
    assert update(expireDate="tomorrow-ish").status_code == 400
    assert update(publicUpload="true").status_code == 400  # only folders take uploads
    assert update(permissions="0").status_code == 400
    assert update(label="x" * 256).status_code == 400
    assert ocs_call(server, "PUT", route, params={"format": "json"}).status_code == 400
    # pyocclient's update (OCS v1) goes through too
    assert client.update_share(int(share["id"]), password="again")
    assert client.get_share(int(share["id"])).share_info["password"]
    # a folder takes public upload; subfiles lists the shares inside a folder only
    folder = ocs_call(server, "POST", SHARES, params={"format": "json"}, data={
        "path": "/share-dir", "shareType": 3, "publicUpload": "true"}).json()["ocs"]["data"]
    assert folder["permissions"] == 15 and folder["item_type"] == "folder"
    inner = ocs_call(server, "POST", SHARES, params={"format": "json"}, data={
        "path": "/share-dir/a.txt", "shareType": 3}).json()["ocs"]["data"]
    assert [s.get_id() for s in client.get_shares("/share-dir", subfiles=True)] == [
        int(inner["id"])]
    with pytest.raises(owncloud.OCSResponseError) as not_a_folder:
        client.get_shares("/share-file.txt", subfiles=True)
    assert not_a_folder.value.status_code == 400
    assert ocs_call(server, "GET", SHARES, params={
        "path": "/share-file.txt", "subfiles": "true"}).status_code == 400


def test_public_shares_honour_password_and_expiry(server, client):
    client.put_file_contents("/guarded.txt", b"guarded bytes")
    share = ocs_call(server, "POST", SHARES, params={"format": "json"}, data={
        "path": "/guarded.txt", "shareType": 3, "password": "open sesame"}).json()["ocs"]["data"]
    token = share["token"]
    download = requests.get(f"{server.url}/s/{token}/download", allow_redirects=False)
    assert download.status_code == 303 and "/authenticate/" in download.headers["Location"]
    assert "password" in requests.get(f"{server.url}/s/{token}", timeout=10).text
    public = f"{server.url}/public.php/webdav"
    assert requests.get(public, auth=(token, "open sesame")).content == b"guarded bytes"
    assert requests.get(public, auth=(token, "wrong")).status_code == 401
    listing = requests.request("PROPFIND", public, auth=(token, "open sesame"),
                               headers={"Depth": "0"})
    assert listing.status_code == 207 and b"/public.php/webdav" in listing.content
    assert requests.put(public, data=b"x", auth=(token, "open sesame")).status_code == 403
    # an expired share is gone (the date cannot be set in the past: age it on the server)
    server.app.shares[int(share["id"])]["expiration"] = datetime.date.today().isoformat()
    assert requests.get(public, auth=(token, "open sesame")).status_code == 401
    assert requests.get(f"{server.url}/s/{token}").status_code == 404
    assert ocs_call(server, "GET", f"{SHARES}/{share['id']}").status_code == 404
    client.mkdir("/open-dir")
    client.put_file_contents("/open-dir/inside.txt", b"inside")
    folder = ocs_call(server, "POST", SHARES, params={"format": "json"}, data={
        "path": "/open-dir", "shareType": 3}).json()["ocs"]["data"]
    assert requests.get(public + "/inside.txt", auth=(folder["token"], "")).content == b"inside"
    escape = requests.get(public + "/%2E%2E/guarded.txt", auth=(folder["token"], ""))
    assert escape.status_code == 404 and escape.content != b"guarded bytes"


# -- PROPPATCH and locks ------------------------------------------------------------------
def proppatch(server, path, sets="", removes=""):
    body = ('<d:propertyupdate xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns" '
            'xmlns:x="urn:example">'
            + (f"<d:set><d:prop>{sets}</d:prop></d:set>" if sets else "")
            + (f"<d:remove><d:prop>{removes}</d:prop></d:remove>" if removes else "")
            + "</d:propertyupdate>")
    return dav(server, "PROPPATCH", path, data=body)


def test_proppatch_keeps_dead_properties(server):
    path = f"/props-{uuid.uuid4().hex[:6]}.txt"
    dav(server, "PUT", path, data=b"props")
    [before] = propfind(server, server.dav_url(path), ["oc:favorite", "d:getetag"]).values()
    assert before[f"{OC}favorite"].text == "0"
    answer = proppatch(server, path, "<oc:favorite>1</oc:favorite><x:colour>teal</x:colour>")
    assert answer.status_code == 207 and b"200 OK" in answer.content
    [after] = propfind(server, server.dav_url(path),
                       ["oc:favorite", "x:colour", "d:getetag"]).values()
    assert after[f"{OC}favorite"].text == "1" and after["{urn:example}colour"].text == "teal"
    assert after["{DAV:}getetag"].text == before["{DAV:}getetag"].text  # not a content change
    dav(server, "MOVE", path, headers={"Destination": server.dav_url(path + ".moved")})
    [moved] = propfind(server, server.dav_url(path + ".moved"), ["x:colour"]).values()
    assert moved["{urn:example}colour"].text == "teal"  # properties follow the file
    protected = proppatch(server, path + ".moved", "<oc:fileid>1</oc:fileid>")
    assert protected.status_code == 207 and b"403 Forbidden" in protected.content
    proppatch(server, path + ".moved", removes="<x:colour/>")
    [removed] = propfind(server, server.dav_url(path + ".moved"), ["x:colour"]).values()
    assert "{urn:example}colour" not in removed


LOCKINFO = (b'<?xml version="1.0" encoding="utf-8"?><d:lockinfo xmlns:d="DAV:">'
            b"<d:lockscope><d:exclusive/></d:lockscope><d:locktype><d:write/></d:locktype>"
            b"<d:owner>someone else</d:owner></d:lockinfo>")


def test_locked_file_is_not_deleted_without_its_token(server, provider):
    item = provider.upload_bytes(provider.root_id, "locked.txt", b"locked")
    path = item.extra["path"]
    lock = dav(server, "LOCK", path, data=LOCKINFO, headers={"Timeout": "Second-600"})
    assert lock.status_code == 200
    token = lock.headers["Lock-Token"].strip("<>")
    other = requests.delete(f"{server.url}/remote.php/dav/files/{USER}{quote(path)}",
                            auth=(USER, APP_PASSWORD), timeout=10)
    assert other.status_code == 423 and b"lock-token-submitted" in other.content
    assert dav(server, "DELETE", path).status_code == 423
    assert dav(server, "PUT", path, data=b"overwrite").status_code == 423
    with pytest.raises(RetryLater):  # locked by another client: try again later
        provider.delete(item.id)
    assert target_bytes(server, path) == b"locked"
    assert dav(server, "DELETE", path, headers={"If": f"(<{token}>)"}).status_code == 204
    assert dav(server, "GET", path).status_code == 404
    dav(server, "PUT", path, data=b"again")  # the lock went with the file
    assert dav(server, "DELETE", path).status_code == 204


def target_bytes(server, path):
    return dav(server, "GET", path).content


# -- the provider -------------------------------------------------------------------------
def test_missing_credentials_are_a_clear_error():
    with pytest.raises(Fatal, match="password"):
        make_provider("nextcloud", {"url": "http://127.0.0.1:1", "user": "u"})


def test_upload_is_one_request(server, provider):
    root = provider.root_id
    server.faults.reset_counts()
    item = provider.upload_bytes(root, "one.txt", b"one request")
    assert server.faults.total() == 1
    assert item.parent_id == root and item.version and item.size == 11
    meta = provider.metadata(item.id)
    assert (meta.id, meta.version, meta.size) == (item.id, item.version, 11)


def test_large_upload_uses_chunking_v2(target, server):
    provider = target.new_provider(config={"chunk_threshold": 1024 * 1024}, retry=fast())
    data = os.urandom(2 * 1024 * 1024 + 5)
    root = provider.root_id
    server.faults.reset_counts()
    item = provider.upload(root, "big.bin", io.BytesIO(data))
    log = [line.split("/remote.php/dav/uploads/")[-1] for line in server.faults.log]
    upload_id = log[0].split("/")[1]
    assert log == [f"{USER}/{upload_id}"] + [f"{USER}/{upload_id}/{n}" for n in (1, 2, 3)] + [
        f"{USER}/{upload_id}/.file"]
    assert [line.split()[0] for line in server.faults.log] == ["MKCOL", "PUT", "PUT", "PUT",
                                                               "MOVE"]
    assert target.read_direct(item) == data and item.size == len(data)
    updated = provider.update(item.id, io.BytesIO(data[::-1]))
    assert updated.id == item.id and updated.version != item.version
    assert provider.read_bytes(item.id) == data[::-1]
    with pytest.raises(NameTaken) as taken:
        provider.upload(root, "big.bin", io.BytesIO(data))
    assert taken.value.existing_id == item.id
    assert target.read_direct(item) == data[::-1]
    assert os.listdir(server.app.uploads_dir) == [], "a refused upload left its chunks"
    provider.close()


def test_failed_chunked_upload_is_cleaned_up(target, server):
    provider = target.new_provider(config={"chunk_threshold": 1024 * 1024}, retry=fast())
    root = provider.root_id
    server.faults.inject(500, count=1, match=r"MOVE .*/\.file")
    with pytest.raises(Exception) as failed:
        provider.upload(root, "never.bin", io.BytesIO(os.urandom(1024 * 1024 + 1)))
    assert getattr(failed.value, "status", None) == 500  # an ambiguous MOVE is not repeated
    assert os.listdir(server.app.uploads_dir) == []
    assert "never.bin" not in {c.name for c in provider.list_children(root)}
    provider.close()


def test_item_moved_by_another_client_is_found_by_id(provider, client):
    a = provider.create_folder(provider.root_id, "A")
    b = provider.create_folder(provider.root_id, "B")
    item = provider.upload_bytes(a.id, "doc.txt", b"content")
    client.move(item.extra["path"], f"{b.extra['path']}/renamed.txt")
    meta = provider.metadata(item.id)
    assert (meta.id, meta.name, meta.parent_id) == (item.id, "renamed.txt", b.id)
    assert provider.read_bytes(item.id) == b"content"
    provider.rename(item.id, "again.txt")
    assert {c.name for c in provider.list_children(b.id)} == {"again.txt"}


def test_a_stale_path_never_touches_another_file(provider, client):
    old = provider.upload_bytes(provider.root_id, "x.txt", b"original")
    root_path = old.extra["path"].rsplit("/", 1)[0]
    client.move(old.extra["path"], f"{root_path}/y.txt")
    client.put_file_contents(f"{root_path}/x.txt", b"someone else's new file")
    provider.delete(old.id)  # must delete y.txt (same file id), not the new x.txt
    assert client.get_file_contents(f"{root_path}/x.txt") == b"someone else's new file"
    assert {c.name for c in provider.list_children(provider.root_id)} == {"x.txt"}
    with pytest.raises(NotFound):
        provider.metadata(old.id)


def test_changes_made_by_another_client(provider, client):
    root = provider.root_id
    folder = provider.create_folder(root, "Folder")
    kept = provider.upload_bytes(folder.id, "kept.txt", b"kept")
    sub = provider.create_folder(root, "Sub")
    loose = provider.upload_bytes(root, "loose.txt", b"loose")
    gone = provider.upload_bytes(root, "gone.txt", b"gone")
    cursor = provider.initial_cursor()
    base = folder.extra["path"].rsplit("/", 1)[0]
    client.move(f"{base}/Folder", f"{base}/Folder renamed")
    client.move(f"{base}/loose.txt", f"{base}/Sub/loose.txt")
    client.delete(f"{base}/gone.txt")
    client.put_file_contents(f"{base}/Sub/new.txt", b"new")
    changes, cursor = provider.changes(cursor)
    summary = {(c.type, c.item.id) for c in changes}
    created = [c.item for c in changes if c.type == ChangeType.CREATED]
    assert summary == {(ChangeType.RENAMED, folder.id), (ChangeType.MOVED, loose.id),
                       (ChangeType.DELETED, gone.id), (ChangeType.CREATED, created[0].id)}
    assert created[0].name == "new.txt" and created[0].parent_id == sub.id
    moved = next(c for c in changes if c.type == ChangeType.MOVED)
    assert (moved.old_parent_id, moved.item.parent_id) == (root, sub.id)
    assert kept.id not in {c.item.id for c in changes}  # a renamed folder's child is unchanged
    assert provider.changes(cursor)[0] == []


def test_an_unchanged_tree_costs_one_request(server, provider):
    folder = provider.create_folder(provider.root_id, "quiet")
    provider.upload_bytes(folder.id, "still.txt", b"still")
    cursor = provider.initial_cursor()
    server.faults.reset_counts()
    assert provider.changes(cursor) == ([], cursor)
    assert server.faults.total() == 1


def test_a_poll_of_an_unchanged_tree_decodes_no_snapshot(target, server, provider, called):
    """The cursor's snapshot grows with the tree: the instance that made or read a cursor
    polls an unchanged tree with one request and no decoding; a change is still found,
    and a fresh instance reads the cursor once."""
    folder = provider.create_folder(provider.root_id, "kept")
    provider.upload_bytes(folder.id, "a.txt", b"a")
    cursor = provider.initial_cursor()
    server.faults.reset_counts()
    result, ran = called(nextcloud_module, provider.changes, cursor)
    assert result == ([], cursor) and server.faults.total() == 1
    assert "_decode" not in ran and "_encode" not in ran, ran
    fresh = target.new_provider(config={"root": provider.root_path}, retry=fast())
    (changes, _same), ran = called(nextcloud_module, fresh.changes, cursor)
    assert changes == [] and "_decode" in ran
    added = provider.upload_bytes(folder.id, "b.txt", b"b")
    for each in (provider, fresh):
        changes, _next = each.changes(cursor)
        assert [(c.type, c.item.id) for c in changes] == [(ChangeType.CREATED, added.id)]
    fresh.close()


def test_unreadable_or_foreign_cursors_expire(target, provider):
    for garbled in ("", "nc1:", "nc1:not-base64!", "s3:whatever", "nc1:" + "A" * 40):
        with pytest.raises(CursorExpired):
            provider.changes(garbled)
    other = target.new_provider(retry=fast())
    with pytest.raises(CursorExpired, match="another root"):
        provider.changes(other.initial_cursor())
    other.close()


def test_links(server, target, provider, client):
    item = provider.upload_bytes(provider.root_id, "linked.txt", b"linked")
    internal = provider.link(item.id)
    assert internal == f"{server.url}/f/{item.id}" == item.web_url
    page = requests.get(internal, auth=(USER, APP_PASSWORD), timeout=10)
    assert page.status_code == 200 and "linked.txt" in page.text
    public = target.new_provider(config={"root": provider.root_path, "public_links": True},
                                 retry=fast())
    url = public.link(item.id)
    assert url.endswith("/download") and requests.get(url, timeout=10).content == b"linked"
    assert public.link(item.id) == url, "an existing link share is reused"
    assert len(client.get_shares(item.extra["path"])) == 1
    folder = public.create_folder(public.root_id, "shared folder")
    assert "/s/" in public.link(folder.id) and not public.link(folder.id).endswith("/download")
    public.close()


def test_errors_are_typed(server, provider):
    root = provider.root_id
    server.faults.inject(507, count=1)
    with pytest.raises(QuotaExceeded):
        provider.upload_bytes(root, "full.txt", b"x")
    server.faults.throttle(retry_after=0.05, count=2)
    assert provider.upload_bytes(root, "later.txt", b"x").name == "later.txt"
    server.faults.expire_token(count=1)
    with pytest.raises(ReauthRequired):
        provider.metadata(root)
    with pytest.raises(Fatal, match="root"):
        provider.delete(root)
    with pytest.raises(NotFound):
        provider.metadata("999999999")


def test_missing_root_is_created(target, client):
    path = f"/deep-{uuid.uuid4().hex[:6]}/a/b"
    provider = target.new_provider(config={"root": path}, retry=fast())
    assert provider.root_id == info(client, path)[f"{OC}fileid"]
    provider.close()


def test_name_rules(provider):
    assert provider.safe_name("a\\b/c") == "a-b-c"
    assert len(provider.safe_name("x" * 300 + ".pdf")) == 250
    item = provider.upload_bytes(provider.root_id, "y" * 300 + ".txt", b"long")
    assert len(item.name) == 250 and item.name.endswith(".txt")


def test_cli_serves_a_working_nextcloud(tmp_path):
    process = subprocess.Popen(
        [sys.executable, "-m", "cloud_sync.emulators", "nextcloud", "--data-dir", str(tmp_path)],
        stdout=subprocess.PIPE, text=True)
    try:
        announced = json.loads(process.stdout.readline())
        provider = make_provider("nextcloud", announced["config"], retry=fast())
        item = provider.upload_bytes(provider.root_id, "cli.txt", b"served")
        assert provider.read_bytes(item.id) == b"served"
        assert (tmp_path / "files" / USER / "cli.txt").read_bytes() == b"served"
        provider.close()
    finally:
        process.terminate()
        process.wait(10)


def test_upload_whose_answer_was_lost_is_not_a_name_clash(target, server):
    """The first PUT times out on the client but is written; the retry then meets the
    file: same bytes, so it is this upload's, not a clash."""
    retry = RetryPolicy(max_attempts=3, initial_delay=1.5, jitter=False, max_total=10)
    provider = target.new_provider(config={"timeout": 0.5}, retry=retry)
    root = provider.root_id
    server.faults.slow_down(1.0, count=1, match=r"^PUT ")
    item = provider.upload_bytes(root, "slow.txt", b"written once")
    assert server.faults.injected["slow"] == 1
    assert target.read_direct(item) == b"written once"
    assert [c.name for c in provider.list_children(root)] == ["slow.txt"]
    server.faults.slow_down(1.0, count=1, match=r"^PUT ")
    with pytest.raises(NameTaken):  # a real clash stays a clash
        provider.upload_bytes(root, "slow.txt", b"other bytes!")
    assert target.read_direct(item) == b"written once"
    provider.close()


def test_a_fresh_provider_finds_an_id_with_one_search(target, server, provider, client):
    """A new provider (as each sync run makes) knows no paths: one DAV SEARCH by file id
    finds the item however deep; servers without SEARCH get the walk from the root."""
    folder = provider.root_id
    for depth in range(4):
        folder = provider.create_folder(folder, f"level {depth}").id
    deep = provider.upload_bytes(folder, "deep.txt", b"deep")
    outside = f"/outside-{uuid.uuid4().hex[:6]}.txt"
    client.put_file_contents(outside, b"not below the root")
    outside_id = info(client, outside)[f"{OC}fileid"]
    fresh = target.new_provider(config={"root": provider.root_path}, retry=fast())
    assert fresh.root_id == provider.root_id
    server.faults.reset_counts()
    meta = fresh.metadata(deep.id)
    assert (meta.name, meta.parent_id) == ("deep.txt", folder)
    assert server.faults.counts["SEARCH /remote.php/dav/"] == 1
    assert server.faults.total() <= 3  # SEARCH, then the item and its parent by path
    with pytest.raises(NotFound):  # on the server, but outside the connection's root
        fresh.metadata(outside_id)
    fresh.close()
    server.app.search_enabled = False
    try:
        walker = target.new_provider(config={"root": provider.root_path}, retry=fast())
        assert walker.root_id == provider.root_id
        server.faults.reset_counts()
        assert walker.read_bytes(deep.id) == b"deep"
        assert server.faults.total("^PROPFIND") >= 5  # one listing per level walked
        with pytest.raises(NotFound):
            walker.metadata(outside_id)
        walker.close()
    finally:
        server.app.search_enabled = True


def test_https_with_a_private_ca(tmp_path):
    from cloud_sync.emulators.nextcloud import NextcloudEmulator
    from cloud_sync.emulators.tls import ca_bundle

    secure = type("HTTPSNextcloud", (NextcloudEmulator,), {"tls": True})
    with secure(data_dir=str(tmp_path)) as server:
        config = {**server.provider_config(), "verify_tls": ca_bundle()}
        provider = make_provider("nextcloud", config, retry=fast())
        item = provider.upload_bytes(provider.root_id, "tls.txt", b"over https")
        assert provider.read_bytes(item.id) == b"over https"
        assert provider.link(item.id, public=True).startswith("https://")
        provider.close()
        untrusted = make_provider("nextcloud", server.provider_config(), retry=fast())
        with pytest.raises(Fatal, match="TLS verification"):
            untrusted.root_id  # noqa: B018 - the first request fails on the certificate


def test_percent_signs_and_dot_segments(target, server, provider):
    item = provider.upload_bytes(provider.root_id, "100% real %41.txt", b"percent")
    assert {c.name for c in provider.list_children(provider.root_id)} == {"100% real %41.txt"}
    assert target.read_direct(item) == b"percent"
    base = f"{server.url}/remote.php/dav/uploads/{USER}/dots"
    auth = (USER, APP_PASSWORD)
    requests.request("MKCOL", base, auth=auth)
    requests.put(f"{base}/1", data=b"x", auth=auth)
    escape = {"Destination": f"{server.url}/remote.php/dav/files/{USER}/a/%2E%2E/%2E%2E/x"}
    assert requests.request("MOVE", f"{base}/.file", auth=auth,
                            headers=escape).status_code == 400
    requests.delete(base, auth=auth)


# -- search, copy and versions ---------------------------------------------------------
def test_search_by_name_treats_wildcards_as_text(provider, server):
    provider.upload_bytes(provider.root_id, "a_b report.txt", b"1")
    provider.upload_bytes(provider.root_id, "axb report.txt", b"2")
    folder = provider.create_folder(provider.root_id, "A_B folder")
    found = provider.search("a_b")
    assert sorted(item.name for item in found) == ["A_B folder", "a_b report.txt"]
    assert next(i for i in found if i.is_folder).id == folder.id
    assert [i.name for i in provider.search("report", limit=1)] != []
    server.app.search_enabled = False
    try:
        with pytest.raises(Unsupported):
            provider.search("report")
    finally:
        server.app.search_enabled = True


def test_versions_belong_to_their_file(provider, server):
    """Versions are named by their content's mtime, under the file's id: another file's
    version name is no version of this one."""
    one = provider.upload_bytes(provider.root_id, "one.txt", b"one")
    provider.update(one.id, io.BytesIO(b"one, again"), 10)
    two = provider.upload_bytes(provider.root_id, "two.txt", b"two")
    path = f"{provider.root_path}/two.txt"
    dav(server, "PUT", path, data=b"two, dated", headers={"X-OC-Mtime": "1000000000"})
    provider.update(two.id, io.BytesIO(b"two, again"), 10)
    assert "1000000000" in {v.id for v in provider.versions(two.id)}
    assert "1000000000" not in {v.id for v in provider.versions(one.id)}
    with pytest.raises(NotFound):
        list(provider.download_version(one.id, "1000000000"))
    with pytest.raises(NotFound):
        provider.restore_version(one.id, "1000000000")
    assert provider.read_bytes(one.id) == b"one, again"
    with pytest.raises(NotFound):  # a folder has no versions
        provider.versions(provider.root_id)


def test_a_write_that_fails_keeps_no_version(provider, server):
    item = provider.upload_bytes(provider.root_id, "kept.txt", b"kept")
    with pytest.raises(NameTaken):
        provider.upload_bytes(provider.root_id, "kept.txt", b"refused")
    assert [v.size for v in provider.versions(item.id)] == [4]


def test_a_copy_is_made_on_the_server_with_the_versions(provider, server):
    item = provider.upload_bytes(provider.root_id, "source.txt", b"first")
    provider.update(item.id, io.BytesIO(b"second"), 6)
    server.faults.reset_counts()
    copied = provider.copy(item.id, provider.root_id, "copy.txt")
    assert server.faults.total("^COPY ") == 1 and server.faults.total("^GET ") == 0
    assert copied.id != item.id and provider.read_bytes(copied.id) == b"second"
    assert [v.size for v in provider.versions(copied.id)] == [6, 5]
    with pytest.raises(NameTaken):
        provider.copy(item.id, provider.root_id, "copy.txt")
