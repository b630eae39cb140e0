"""Nextcloud emulator: a DELETE goes to the trash bin (listed, restored, purged over WebDAV
as Nextcloud serves it), and file ids, ETags and the trash survive a restart on the same
data directory without an id ever being handed out twice."""

from __future__ import annotations

import io
import os
import uuid
import xml.etree.ElementTree as ET
from urllib.parse import quote, unquote

import pytest
import requests

from cloud_sync.emulators.nextcloud import APP_PASSWORD, USER, NextcloudEmulator
from cloud_sync.providers import make_provider
from cloud_sync.providers.errors import NotFound
from cloud_sync.retry import RetryPolicy

D, OC, NC = "{DAV:}", "{http://owncloud.org/ns}", "{http://nextcloud.org/ns}"
TRASH = f"/remote.php/dav/trashbin/{USER}"
ASK = ("<d:propfind xmlns:d='DAV:' xmlns:oc='http://owncloud.org/ns' "
       "xmlns:nc='http://nextcloud.org/ns'><d:prop>{}</d:prop></d:propfind>")
PROPS = ("<nc:trashbin-filename/><nc:trashbin-original-location/>"
         "<nc:trashbin-deletion-time/><oc:fileid/><d:getcontentlength/><d:resourcetype/>")


def fast():
    return RetryPolicy(max_attempts=3, initial_delay=0.01, max_delay=0.05, max_total=10)


@pytest.fixture
def server(tmp_path):
    with NextcloudEmulator(data_dir=str(tmp_path / "nc")) as emulator:
        yield emulator


@pytest.fixture
def provider(server):
    root = f"/trash-{uuid.uuid4().hex[:8]}"
    assert dav(server, "MKCOL", root).status_code == 201
    made = make_provider("nextcloud", server.provider_config(root), retry=fast())
    yield made
    made.close()


def http(server, method, path, **kwargs):
    kwargs.setdefault("auth", (USER, APP_PASSWORD))
    return requests.request(method, server.url + path, timeout=10, **kwargs)


def dav(server, method, path, **kwargs):
    return http(server, method, f"/remote.php/dav/files/{USER}{quote(path)}", **kwargs)


def trash(server, props=PROPS):
    """{item name: {property: value}} of the trash bin's items (PROPFIND, Depth 1)."""
    answer = http(server, "PROPFIND", f"{TRASH}/trash", headers={"Depth": "1"},
                  data=ASK.format(props))
    assert answer.status_code == 207, answer.text
    items = {}
    for response in ET.fromstring(answer.content).iter(f"{D}response"):
        href = unquote(response.find(f"{D}href").text)
        if href.rstrip("/") == f"{TRASH}/trash":
            continue
        values = {}
        for propstat in response.iter(f"{D}propstat"):
            ok = propstat.find(f"{D}status").text.endswith("200 OK")
            for prop in propstat.find(f"{D}prop"):
                values[prop.tag] = (prop.text if len(prop) == 0 else prop[0].tag) if ok else 404
        items[href.rstrip("/").rsplit("/", 1)[-1]] = values
    return items


def restore(server, name):
    return http(server, "MOVE", f"{TRASH}/trash/{quote(name)}",
                headers={"Destination": f"{server.url}{TRASH}/restore/{quote(name)}"})


def fileid(server, path):
    answer = dav(server, "PROPFIND", path, headers={"Depth": "0"},
                 data=ASK.format("<oc:fileid/><d:getetag/><oc:id/>"))
    assert answer.status_code == 207, (path, answer.status_code)
    found = ET.fromstring(answer.content)
    return {k: found.find(f".//{k}").text for k in (f"{OC}fileid", f"{D}getetag", f"{OC}id")}


def test_a_deleted_file_is_listed_in_the_trash(server, provider):
    folder = provider.create_folder(provider.root_id, "Docs")
    item = provider.upload_bytes(folder.id, "a report.txt", b"report")
    provider.delete(item.id)
    assert dav(server, "GET", f"{provider.root_path}/Docs/a report.txt").status_code == 404
    with pytest.raises(NotFound):
        provider.metadata(item.id)
    (name, props), = trash(server, PROPS + "<oc:unknown/>").items()
    assert name.startswith("a report.txt.d")
    assert props[f"{NC}trashbin-filename"] == "a report.txt"
    assert props[f"{NC}trashbin-original-location"] == \
        f"{provider.root_path.lstrip('/')}/Docs/a report.txt"
    assert props[f"{NC}trashbin-deletion-time"] == name.rsplit(".d", 1)[1]
    assert props[f"{OC}fileid"] == item.id
    assert props[f"{D}getcontentlength"] == "6"
    assert props[f"{OC}unknown"] == 404
    assert http(server, "GET", f"{TRASH}/trash/{quote(name)}").content == b"report"
    # Depth 0 lists the bin itself only.
    answer = http(server, "PROPFIND", f"{TRASH}/trash", headers={"Depth": "0"})
    assert len(ET.fromstring(answer.content).findall(f"{D}response")) == 1


def test_restore_brings_a_folder_back_with_its_ids(server, provider):
    folder = provider.create_folder(provider.root_id, "Project")
    child = provider.upload_bytes(folder.id, "plan.txt", b"plan")
    provider.delete(folder.id)
    (name, props), = trash(server).items()
    assert props[f"{D}resourcetype"] == f"{D}collection"
    answer = restore(server, name)
    assert answer.status_code == 201
    assert trash(server) == {}
    assert provider.metadata(folder.id).name == "Project"
    assert provider.metadata(child.id).parent_id == folder.id
    assert provider.read_bytes(child.id) == b"plan"
    assert answer.headers["OC-FileId"].startswith(f"{int(folder.id):08d}")


def test_restore_beside_a_new_file_and_into_a_gone_folder(server, provider):
    base = provider.root_path
    folder = provider.create_folder(provider.root_id, "Box")
    for _ in range(3):  # the same name deleted three times: three items
        provider.delete(provider.upload_bytes(folder.id, "note.txt", b"old").id)
    assert len(trash(server)) == 3
    provider.upload_bytes(folder.id, "note.txt", b"new")
    for name in sorted(trash(server)):
        assert restore(server, name).status_code == 201
    assert sorted(os.listdir(server.app.fs_path(f"{base}/Box"))) == [
        "note (restored 2).txt", "note (restored 3).txt", "note (restored).txt", "note.txt"]
    lonely = provider.upload_bytes(folder.id, "lonely.txt", b"lonely")
    provider.delete(lonely.id)
    provider.delete(folder.id)
    lonely_item = next(n for n in trash(server) if n.startswith("lonely.txt.d"))
    assert restore(server, lonely_item).status_code == 201
    # Its folder is in the trash: it comes back at the root of the account, same id.
    assert server.path_of(lonely.id) == "/lonely.txt"


def test_delete_an_item_or_empty_the_bin(server, provider):
    for name in ("one.txt", "two.txt", "three.txt"):
        provider.delete(provider.upload_bytes(provider.root_id, name, b"x").id)
    one = next(n for n in trash(server) if n.startswith("one.txt"))
    assert http(server, "DELETE", f"{TRASH}/trash/{quote(one)}").status_code == 204
    assert len(trash(server)) == 2 and one not in trash(server)
    assert restore(server, one).status_code == 404
    assert http(server, "DELETE", f"{TRASH}/trash").status_code == 204
    assert trash(server) == {}
    assert os.listdir(server.app.trash_dir) == []


def test_what_the_trash_bin_refuses(server, provider):
    item = provider.upload_bytes(provider.root_id, "kept.txt", b"kept")
    provider.delete(item.id)
    (name, _props), = trash(server).items()
    elsewhere = http(server, "MOVE", f"{TRASH}/trash/{quote(name)}", headers={
        "Destination": f"{server.url}/remote.php/dav/files/{USER}/stolen.txt"})
    assert elsewhere.status_code == 403
    assert http(server, "PROPFIND", "/remote.php/dav/trashbin/bob/trash").status_code == 404
    assert http(server, "PROPFIND", f"{TRASH}/trash", auth=None).status_code == 401
    assert http(server, "DELETE", f"{TRASH}/trash", auth=(USER, "wrong")).status_code == 401
    assert http(server, "DELETE", f"{TRASH}/trash/nothing.d1").status_code == 404
    assert dav(server, "DELETE", "/").status_code == 403
    assert dav(server, "DELETE", "/never-there.txt").status_code == 404
    assert list(trash(server)) == [name]


def test_ids_etags_and_trash_survive_a_restart(tmp_path):
    data = str(tmp_path / "nc")
    with NextcloudEmulator(data_dir=data) as first:
        config = first.provider_config("/")
        provider = make_provider("nextcloud", config, retry=fast())
        folder = provider.create_folder(provider.root_id, "Kept")
        kept = provider.upload_bytes(folder.id, "kept.txt", b"kept")
        trashed = provider.upload_bytes(folder.id, "trashed.txt", b"trashed")
        purged = provider.upload_bytes(folder.id, "purged.txt", b"purged")
        cursor = provider.initial_cursor()
        provider.delete(trashed.id)
        provider.delete(purged.id)
        purged_item = next(n for n in trash(first) if n.startswith("purged.txt"))
        assert http(first, "DELETE", f"{TRASH}/trash/{quote(purged_item)}").status_code == 204
        cursor = provider.changes(cursor)[1]
        before = {p: fileid(first, p) for p in ("/", "/Kept", "/Kept/kept.txt")}
        provider.close()
    with NextcloudEmulator(data_dir=data) as second:
        # The same ids, ETags and instance: a provider's cursor is still good.
        assert {p: fileid(second, p) for p in before} == before
        provider = make_provider("nextcloud", second.provider_config("/"), retry=fast())
        assert provider.changes(cursor)[0] == []
        assert provider.metadata(kept.id).name == "kept.txt"
        (name, props), = trash(second).items()
        assert props[f"{OC}fileid"] == trashed.id
        assert restore(second, name).status_code == 201
        assert provider.read_bytes(trashed.id) == b"trashed"
        # A new file never gets an id handed out before, not even a purged file's.
        fresh = provider.upload_bytes(folder.id, "fresh.txt", b"fresh")
        used = {int(i) for i in (folder.id, kept.id, trashed.id, purged.id)}
        assert int(fresh.id) > max(used)
        provider.close()
    with NextcloudEmulator(data_dir=data) as third:
        assert fileid(third, "/Kept/fresh.txt")[f"{OC}fileid"] == fresh.id
        assert fileid(third, "/Kept/trashed.txt")[f"{OC}fileid"] == trashed.id


def test_versions_go_to_the_trash_with_their_file(server, provider):
    """As Nextcloud's versions app: a trashed file keeps its versions, a restored one has
    them again, a purged one loses them."""
    item = provider.upload_bytes(provider.root_id, "draft.txt", b"draft one")
    provider.update(item.id, io.BytesIO(b"draft two!"), 10)
    assert [v.size for v in provider.versions(item.id)] == [10, 9]
    provider.delete(item.id)
    with pytest.raises(NotFound):
        provider.versions(item.id)
    (name, _props), = trash(server).items()
    assert restore(server, name).status_code == 201
    versions = provider.versions(item.id)
    assert [v.size for v in versions] == [10, 9]
    assert b"".join(provider.download_version(item.id, versions[1].id)) == b"draft one"
    provider.delete(item.id)
    (name, _props), = trash(server).items()
    assert http(server, "DELETE", f"{TRASH}/trash/{quote(name)}").status_code == 204
    assert os.listdir(server.app.versions_dir) == []
