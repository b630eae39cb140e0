#!/usr/bin/env python3
"""Sync through Odoo: initial sync against the bare SDK, and a steady-state cycle's calls.

Creates a throwaway database (PostgreSQL from PGHOST/PGPORT/PGUSER/PGPASSWORD), installs
cloud_base and the provider addons without demo data, then for each provider with an
addon (``s3``, ``nextcloud``, ``webdav``, ``google_drive``, ``onedrive``, ``dropbox``,
``box``), against its conformance target's local server:

1. ``--files`` attachments (``--size`` bytes each) in one folder synced by the crons
   (prepare + run, committing each operation as the cron does), timed, against the bare
   SDK uploading files of the same sizes to the same server in the same run (the
   target's ``bare_upload``), once just before and once just after the suite: the
   baseline is their mean, so a machine getting busier or quieter during the run
   does not favour either side. Goal: suite / bare <= 1.3.
2. A steady-state cycle with nothing changed, with ``--folders`` extra folders: the API
   calls the server saw for the one connection. Goal: <= 2, whatever the folder count.

    python bench/sync.py [--files 2000] [--size 2048] [--folders 50] [--providers s3 ...]

With ``--latency SECONDS`` every request of the local servers waits that long first
(what a real cloud costs per request; the emulators' shared fault injector adds it), and
the benchmark measures parallel transfers instead: the initial sync of ``--files`` files
(default 1,000 of 50 KB) through the crons with the connection's pool at 8 and at 1,
against the bare SDK uploading the same files from 8 threads (goal: suite / SDK <= 1.2)
and, for S3 and WebDAV, ``rclone copy --transfers 8`` of the same files from disk to the
same server (goal <= 1.0). rclone is Debian's package; the benchmark never installs it
and says so when it is missing.

    python bench/sync.py --latency 0.05 [--files 1000] [--size 51200] [--providers s3 ...]

With ``--steady [FILES ...]`` (default 2,000 and 20,000) the benchmark measures a cycle
with nothing changed (prepare + run crons, median of 3) on one connection whose tree grows
in place to each size (files of a few bytes in folders of 20, bulk-created, then synced
once): time, SQL queries (both cron transactions, commits included) and API requests.
Goal: queries <= 30, requests <= 2, time at the largest size <= 1.5 x the smallest.
Default providers webdav and s3 (``--providers`` for others, e.g. onedrive); S3 and
WebDAV report a ``limit`` when their listing-based feeds miss a goal. 20,000 files cost
a few minutes per provider here (creation and the first sync dominate). A WebDAV
server other than the default wsgidav is named like its conformance target:
``webdav-apache`` (Apache mod_dav, which refuses ``Depth: infinity``); its lines carry
``"server"``.

    python bench/sync.py --steady [2000 20000] [--providers webdav webdav-apache s3]

At each size it also measures 3 cycles with exactly one file changed in Odoo (its content
written through the ORM, as a user would) and 3 with one file changed in the cloud (the
target's ``write_direct``: the raw SDK or plain HTTP, not the suite): time (median),
queries, requests, and whether each change arrived on the other side with equal content
(``"case": "one_local_change"`` / ``"one_remote_change"``; only then ``complete``). Goal:
queries <= 60, requests <= 6, time at the largest size <= 1.5 x the smallest; S3 and
WebDAV report a ``limit`` as for no change, and so does Nextcloud (its feed walks the
changed folders' listings).

How the tree was built is in each line's ``"built"``: ``"uploaded"`` (created in Odoo,
uploaded by the first sync) for every provider but Box, whose tree is ``"downloaded"``:
its folders are created through the SDK and its files seeded into the emulator's store
(with the upload events Box's change feed carries), then the suite's first sync brings
them into Odoo as cloud-only files. The suite paces Box uploads at Box's published 240 a
minute, so uploading 20,000 files would take 80 minutes; the synced tree (folders,
attachments, sync records) and the cycles measured afterwards are the same, and a
cloud-only file is what an uploaded one becomes once the cleaner drops its binary.

With ``--latency`` as well, the measured no-change cycles (only those: creating and
syncing the tree runs without it) wait that long per request, so a feed's round trips
show in its time (Apache's Depth-1 walk: one PROPFIND per folder, several in flight).

Once the tree of a size is synced, the tables a cycle reads are vacuumed and analysed, as
autovacuum would (see :func:`vacuum`). ``BENCH_PROFILE=N`` profiles one more no-change
cycle per size (cProfile, in this process, so the local server's side too) and prints
its N costliest calls to stderr; ``BENCH_REQUESTS=1`` prints the requests of each
one-change cycle.

With ``--workers N`` (and ``--latency``), N Odoo cron workers (processes, as Odoo's
cron workers are) run one connection's initial sync side by side, against one worker:
``--files`` files in ``--folders`` folders (default 1,000 in 20; a sync run hands its
transfers to one task per folder, the workers share them), each worker's pool at 8, time
from the start signal to the last worker's end. Goal: N workers <= 0.6 x one (for 2).

    python bench/sync.py --latency 0.05 --workers 2 [--providers webdav s3 ...]

It also times the bare SDK from 8 and from 2 x 8 threads against the same server (does
the server itself serve more requests in flight faster?), and reports the CPU seconds of
the workers and of this process (the WebDAV server). ``BENCH_TIMELINE=1`` prints when
each task ran; ``BENCH_PROFILE=N`` profiles each worker's run (cProfile in every
thread, which inflates the workers' time and CPU) and prints its N costliest calls.

Prints a table, then one JSON line per provider and case. Without Odoo: a ``skipped`` line.
"""

from __future__ import annotations

import argparse
import cProfile
import importlib.util
import json
import logging
import os
import pstats
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from _common import ROOT, emit, print_table

BENCH = "sync"
ADDONS = {"s3": "amazon_s3_sync", "nextcloud": "nextcloud_sync", "webdav": "nas_sync",
          "google_drive": "google_drive_sync", "onedrive": "onedrive_sync",
          "dropbox": "dropbox_sync", "box": "box_sync"}
GOAL = "ratio <= 1.3, steady_calls <= 2"
# Why a provider's steady cycle can exceed the goal; printed with its result, never hidden.
LIMITS = {
    "s3": "S3 has no change feed: a poll lists the tree, one request per 1,000 keys, so "
          "the steady cycle grows with the number of objects (files and folders)",
}


def odoo_runner():
    spec = importlib.util.spec_from_file_location("odoo_tests", ROOT / "tools" / "odoo_tests.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def install(runner, dbname: str, addons: list[str]) -> None:
    import subprocess

    cmd = [
        sys.executable, "-m", "odoo", *runner.db_args(), f"--database={dbname}",
        f"--addons-path={runner.odoo_addons_path()}", f"--init={','.join(addons)}",
        "--without-demo=all", "--stop-after-init", "--log-level=warn",
        "--max-cron-threads=0", f"--http-port={runner.free_port()}",
        f"--gevent-port={runner.free_port()}", "--data-dir", str(ROOT / ".odoo-data"),
    ]
    subprocess.run(cmd, check=True, cwd=str(ROOT), stdout=subprocess.DEVNULL)


def client_fields(key: str, config: dict) -> dict:
    """The addon's form fields for an emulator's provider config."""
    if key == "s3":
        return {"s3_bucket": config["bucket"], "s3_region": config["region"],
                "s3_endpoint_url": config["endpoint_url"], "s3_path_style": True,
                "s3_access_key": config["access_key"], "s3_secret_key": config["secret_key"]}
    if key == "nextcloud":
        return {"nc_url": config["url"], "nc_user": config["user"],
                "nc_password": config["password"], "nc_verify_tls": config["verify_tls"]}
    if key == "webdav":
        return {"dav_url": config["url"], "dav_login": config["login"],
                "dav_password": config["password"], "dav_verify_tls": config["verify_tls"]}
    if key == "google_drive":
        return {"gd_client_id": config["client_id"], "gd_client_secret": config["client_secret"],
                "gd_api_url": config["api_url"], "gd_auth_uri": config["auth_uri"],
                "gd_token_uri": config["token_uri"], "gd_ca_bundle": config["ca_bundle"],
                "token_json": json.dumps({"refresh_token": config["refresh_token"]})}
    if key == "onedrive":
        return {"od_client_id": config["client_id"], "od_client_secret": config["client_secret"],
                "od_tenant": config["tenant"], "od_drive_type": "business",
                "od_drive_id": config["drive_id"], "od_graph_url": config["graph_url"],
                "od_authority_url": config["authority_url"], "od_ca_bundle": config["ca_bundle"],
                "token_json": json.dumps({"access_token": config["access_token"],
                                          "refresh_token": config["refresh_token"]})}
    if key == "dropbox":
        return {"db_app_key": config["app_key"], "db_app_secret": config["app_secret"],
                "db_host": config["api_host"], "db_ca_bundle": config["ca_bundle"],
                "token_json": json.dumps({k: config[k] for k in (
                    "access_token", "refresh_token", "access_token_expires_at")})}
    if key == "box":
        return {"bx_client_id": config["client_id"], "bx_client_secret": config["client_secret"],
                "bx_api_url": config["api_url"], "bx_upload_url": config["upload_url"],
                "bx_oauth_url": config["oauth_url"], "bx_ca_bundle": config["ca_bundle"],
                "token_json": json.dumps({"access_token": config["access_token"],
                                          "refresh_token": config["refresh_token"]})}
    raise ValueError(f"no addon fields for provider {key!r}")


def run_crons(registry):
    """The prepare and run crons, each in its own transaction, as Odoo runs them."""
    from odoo import SUPERUSER_ID, api

    with registry.cursor() as cr:
        api.Environment(cr, SUPERUSER_ID, {})["clouds.queue"]._cron_prepare()
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        tasks = env["clouds.queue"]._cron_run(limit=None)
        logs = env["clouds.log"].search([("task_id", "in", tasks.ids)])
        return sum(logs.mapped("operations")), sum(logs.mapped("failures"))


def bare_run(target, folder_name: str, files: int, size: int, threads: int = 1) -> float:
    """Seconds for the bare SDK to upload ``files`` files of ``size`` bytes."""
    bare_files = [(f"bare-{i:05d}.bin", os.urandom(size)) for i in range(files)]
    started = time.perf_counter()
    upload = target.extra["bare_upload"]
    if threads > 1:
        upload(folder_name, bare_files, threads=threads)
    else:
        upload(folder_name, bare_files)
    return time.perf_counter() - started


def bench_provider(registry, key: str, files: int, size: int, folders: int) -> dict:
    from odoo import SUPERUSER_ID, api

    from cloud_sync.conformance import open_target

    with tempfile.TemporaryDirectory(prefix=f"bench-sync-{key}-") as tmp, \
            open_target(key, Path(tmp)) as target:
        faults = target.emulator.faults
        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {"tracking_disable": True})
            client = env["clouds.client"].create({
                "name": f"bench {key}", "provider": key, "root_name": f"bench-sync-{key}",
                **client_fields(key, target.emulator.provider_config("")),
            })
            client.action_connect()
            folder = env["clouds.folder"].create({"name": "Files", "own_client_id": client.id})
            Attachment = env["ir.attachment"]
            for start in range(0, files, 500):
                Attachment.create([
                    {"name": f"file-{i:05d}.bin", "raw": os.urandom(size),
                     "clouds_folder_id": folder.id}
                    for i in range(start, min(files, start + 500))])
            client_id = client.id
        bare_before = bare_run(target, "bench-bare-before", files, size)
        faults.reset_counts()
        started = time.perf_counter()
        ops, failed = run_crons(registry)
        suite_s = time.perf_counter() - started
        initial_calls = faults.total()
        bare_s = (bare_before + bare_run(target, "bench-bare-after", files, size)) / 2

        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {"tracking_disable": True})
            parent = env["clouds.folder"].create({"name": "Many", "own_client_id": client_id})
            env["clouds.folder"].create([{"name": f"Folder {i}", "parent_id": parent.id}
                                         for i in range(folders)])
        run_crons(registry)  # the new folders go out
        run_crons(registry)  # the feed echoes our own changes once
        faults.reset_counts()
        steady_ops, _ = run_crons(registry)
        steady_calls = faults.total()
        with registry.cursor() as cr:  # its server stops now: out of the next providers' runs
            api.Environment(cr, SUPERUSER_ID, {})["clouds.client"].browse(client_id).write(
                {"state": "draft"})
    ratio = suite_s / max(bare_s, 1e-6)
    return {
        "bench": BENCH, "provider": key, "files": files, "size": size,
        "suite_s": round(suite_s, 2), "bare_s": round(bare_s, 2), "ratio": round(ratio, 2),
        "operations": ops, "failures": failed,
        "calls_per_file": round(initial_calls / max(files, 1), 2),
        "folders": folders + 2, "steady_ops": steady_ops, "steady_calls": steady_calls,
        "goal": GOAL, "ok": ratio <= 1.3 and steady_calls <= 2 and failed == 0,
        **({"limit": LIMITS[key]} if steady_calls > 2 and key in LIMITS else {}),
    }


STEADY_GOAL = "queries <= 30, calls <= 2, time at the largest size <= 1.5 x the smallest"
STEADY_PER_FOLDER = 20  # files per folder: 20,000 files in 1,000 folders
STEADY_LIMITS = {
    "s3": LIMITS["s3"],
    "webdav": "the WebDAV change feed is a listing diff: one PROPFIND Depth: infinity whose "
              "answer (server side) and diff (client side) grow with the tree; Odoo's side "
              "of the cycle does not",
    "webdav-apache": "Apache refuses Depth: infinity and its folder ETags are shallow (they "
                     "do not change when something deeper does): the feed walks the tree "
                     "with one PROPFIND Depth: 1 per folder (8 in flight), and no subtree can "
                     "be skipped safely",
}


# A cycle with one file changed on one side (see one_change): a bounded cost too.
ONE_CHANGE_QUERIES, ONE_CHANGE_CALLS = 60, 6
ONE_CHANGE_GOAL = (f"queries <= {ONE_CHANGE_QUERIES}, calls <= {ONE_CHANGE_CALLS}, "
                   "time at the largest size <= 1.5 x the smallest")
ONE_CHANGE_LIMITS = {
    **STEADY_LIMITS,
    "nextcloud": "Nextcloud has no change feed: a poll walks down the folders whose ETag "
                 "changed (one PROPFIND Depth: 1 each, listing all their children: the "
                 "bench's Tree folder holds one subfolder per 20 files) and the cursor "
                 "holds the whole snapshot, decoded, diffed and encoded again on a change",
}
# Providers whose steady tree is built on the server and downloaded by the initial sync
# rather than uploaded: Box paces uploads at its published 240 a minute (20,000 files
# would take 80 minutes) but downloads at its 1,000 requests a minute. The tree synced and
# the cycles measured afterwards are the same; only the first sync's direction differs.
BUILT_REMOTE = frozenset({"box"})


def vacuum(dbname: str) -> None:
    """VACUUM ANALYZE the tables a cycle reads, as autovacuum does on a production
    database after a big sync: the sync just cleared 20,000 change marks, whose dead
    entries in the marks' partial indexes a no-change cycle would otherwise scan (30-40
    ms at 20,000 files), and PostgreSQL runs with autovacuum off on this machine."""
    import psycopg2
    from odoo.sql_db import connection_info_for

    connection = psycopg2.connect(**connection_info_for(dbname)[1])
    try:
        connection.autocommit = True
        with connection.cursor() as cr:
            for table in ("ir_attachment", "clouds_folder", "clouds_sync_record"):
                cr.execute(f"VACUUM ANALYZE {table}")
    finally:
        connection.close()


def provider_key(target_id: str) -> str:
    """The provider key of a key or of a target id with its server (``webdav-apache``)."""
    return target_id if target_id in ADDONS else target_id.partition("-")[0]


def counted_crons(registry):
    """run_crons, with the SQL queries of both cron transactions."""
    from odoo import SUPERUSER_ID, api

    with registry.cursor() as prepare_cr:
        api.Environment(prepare_cr, SUPERUSER_ID, {})["clouds.queue"]._cron_prepare()
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        tasks = env["clouds.queue"]._cron_run(limit=None)
        logs = env["clouds.log"].search([("task_id", "in", tasks.ids)])
        ops, failed = sum(logs.mapped("operations")), sum(logs.mapped("failures"))
    # counted once both transactions are committed (the commit's flush included)
    return ops, failed, prepare_cr.sql_log_count + cr.sql_log_count


def seed_local(registry, parent_id: int, start: int, stop: int) -> None:
    """Files ``start``..``stop`` of the steady tree created in Odoo (bulk creates, a
    commit per 2,000 files), for the first sync to upload."""
    from odoo import SUPERUSER_ID, api

    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {"tracking_disable": True})
        for first in range(start, stop, 2000):
            last = min(stop, first + 2000)
            folders = env["clouds.folder"].create([
                {"name": f"Folder {i // STEADY_PER_FOLDER:05d}", "parent_id": parent_id}
                for i in range(first, last, STEADY_PER_FOLDER)])
            env["ir.attachment"].create([
                {"name": f"file-{i:05d}.txt", "raw": f"file {i}\n".encode(),
                 "clouds_folder_id": folders[(i - first) // STEADY_PER_FOLDER].id}
                for i in range(first, last)])
            cr.commit()


def seed_remote(target, key: str, parent_id: str, start: int, stop: int) -> None:
    """Files ``start``..``stop`` of the steady tree created on the server, not by the suite:
    their folders through the provider's SDK (a plain client, no pacing), their files by
    the target's ``seed_files`` (straight into the emulator's store, with the change
    events an upload makes)."""
    from cloud_sync.providers import make_provider

    provider = make_provider(key, target.emulator.provider_config(""))
    seed = target.extra["seed_files"]
    for first in range(start, stop, STEADY_PER_FOLDER):
        folder = provider.create_folder(parent_id, f"Folder {first // STEADY_PER_FOLDER:05d}")
        seed(folder.id, [(f"file-{i:05d}.txt", f"file {i}\n".encode())
                         for i in range(first, min(stop, first + STEADY_PER_FOLDER))])


def one_change(registry, target, client_id: int, size: int, side: str,
               cycles: int) -> dict:
    """``cycles`` cycles each with one file changed on ``side`` ("local": its content
    written through the ORM; "remote": through the target's ``write_direct``, the raw
    SDK or HTTP): the median time, the most queries and requests, and whether every
    change arrived on the other side (content equal; a remote change must be downloaded
    into Odoo, not read through from the cloud). The remote side edits the files the
    local side edited just before: Odoo keeps their content in either way of building
    the tree (a downloaded tree's files are cloud-only links), so the cycle downloads.
    Each cycle is followed by one unmeasured cycle, as after the initial sync: change
    feeds read the run's own write back once."""
    from odoo import SUPERUSER_ID, api

    from cloud_sync.providers import Item, Kind

    faults = target.emulator.faults
    runs, arrived, complete = [], 0, True
    for cycle in range(cycles):
        index = size // 3 + cycle
        name = f"file-{index:05d}.txt"
        data = f"{side} edit {cycle} of {name} at {size} files\n".encode()
        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            att = env["ir.attachment"].search([("clouds_client_id", "=", client_id),
                                               ("name", "=", name)])
            att_id = att.id
            if side == "local":
                att.write({"raw": data})
            else:
                target.extra["write_direct"](att.clouds_remote_id, data)
        faults.reset_counts()
        started = time.perf_counter()
        ops, failed, queries = counted_crons(registry)
        runs.append((time.perf_counter() - started, queries, faults.total()))
        if os.environ.get("BENCH_REQUESTS"):  # which requests a one-change cycle made
            print(f"--- {side} change at {size} files:", *faults.log, sep="\n  ",
                  file=sys.stderr)
        with registry.cursor() as cr:
            att = api.Environment(cr, SUPERUSER_ID, {})["ir.attachment"].browse(att_id)
            if side == "local":
                there = target.read_direct(Item(att.clouds_remote_id, name, Kind.FILE))
            else:
                there = None if att._clouds_link_only() else att.raw
        arrived += there == data
        complete &= ops >= 1 and failed == 0
        run_crons(registry)  # the feed's echo of the run's own write, unmeasured
    runs.sort()
    return {"files": size, "seconds": round(runs[len(runs) // 2][0], 3),
            "queries": max(r[1] for r in runs), "calls": max(r[2] for r in runs),
            "arrived": arrived, "changes": cycles, "complete": complete}


def bench_steady(registry, target_id: str, sizes: list[int], cycles: int = 3,
                 latency: float = 0.0) -> list[dict]:
    """At each tree size: a no-change cycle (prepare + run crons; time: median of
    ``cycles``, SQL queries, API requests), then ``cycles`` cycles with one local change
    and ``cycles`` with one remote change (see :func:`one_change`). The tree grows in
    place: files in folders of ``STEADY_PER_FOLDER``, bulk-created in Odoo then uploaded
    by one sync, or for providers in ``BUILT_REMOTE`` created on the server then
    downloaded by one sync. ``target_id`` is a provider key or a conformance target id
    naming a server (``webdav-apache``); ``latency``: seconds added to each request of the
    measured no-change cycles only. One record per case."""
    from odoo import SUPERUSER_ID, api

    from cloud_sync.conformance import open_target

    key = provider_key(target_id)
    built = "downloaded" if key in BUILT_REMOTE else "uploaded"
    figures, complete = [], True
    changes = {"local": [], "remote": []}
    with tempfile.TemporaryDirectory(prefix=f"bench-steady-{target_id}-") as tmp, \
            open_target(target_id, Path(tmp)) as target:
        faults = target.emulator.faults
        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {"tracking_disable": True})
            client = env["clouds.client"].create({
                "name": f"bench steady {key}", "provider": key,
                "root_name": f"bench-steady-{key}",
                **client_fields(key, target.emulator.provider_config(""))})
            client.action_connect()
            top = env["clouds.folder"].create({"name": "Tree", "own_client_id": client.id})
            client_id, top_id = client.id, top.id
        if built == "downloaded":
            run_crons(registry)  # the empty Tree goes out: the server's tree grows in it
            with registry.cursor() as cr:
                top_remote = api.Environment(cr, SUPERUSER_ID, {})["clouds.folder"].browse(
                    top_id).clouds_remote_id
        made = 0
        for size in sizes:
            started = time.perf_counter()
            if built == "downloaded":
                seed_remote(target, key, top_remote, made, size)
            else:
                seed_local(registry, top_id, made, size)
            created = time.perf_counter() - started
            started = time.perf_counter()
            ops, failed = run_crons(registry)  # the new files and folders go across
            run_crons(registry)  # change feeds read the run's own writes back once
            synced_s = time.perf_counter() - started
            made = size
            with registry.cursor() as cr:
                env = api.Environment(cr, SUPERUSER_ID, {})
                synced = env["ir.attachment"].search_count([  # a downloaded file is a link
                    ("clouds_client_id", "=", client_id), ("clouds_remote_id", "!=", False),
                    ("clouds_state", "in", ("synced", "link"))])
            complete &= failed == 0 and synced == size
            vacuum(registry.db_name)
            runs = []
            faults.latency = latency
            try:
                for _cycle in range(cycles):
                    faults.reset_counts()
                    started = time.perf_counter()
                    steady_ops, steady_failed, queries = counted_crons(registry)
                    runs.append((time.perf_counter() - started, queries, faults.total()))
                    complete &= steady_ops == 0 and steady_failed == 0
            finally:
                faults.latency = 0.0
            if os.environ.get("BENCH_PROFILE"):  # where a no-change cycle's time goes
                profile = cProfile.Profile()
                profile.runcall(counted_crons, registry)
                print(f"--- {target_id} at {size} files: a no-change cycle", file=sys.stderr)
                pstats.Stats(profile, stream=sys.stderr).sort_stats("cumulative").print_stats(
                    int(os.environ["BENCH_PROFILE"]))
            runs.sort()
            seconds, queries, calls = runs[len(runs) // 2]
            figures.append({"files": size, "folders": size // STEADY_PER_FOLDER + 1,
                            "create_s": round(created, 1), "sync_s": round(synced_s, 1),
                            "synced": synced, "seconds": round(seconds, 3),
                            "queries": max(r[1] for r in runs),
                            "calls": max(r[2] for r in runs)})
            for side, measured in changes.items():
                if side == "local" or "write_direct" in target.extra:
                    measured.append(one_change(registry, target, client_id, size, side,
                                               cycles))
        with registry.cursor() as cr:
            api.Environment(cr, SUPERUSER_ID, {})["clouds.client"].browse(client_id).write(
                {"state": "draft"})
    time_ratio = figures[-1]["seconds"] / max(figures[0]["seconds"], 1e-6)
    queries = max(f["queries"] for f in figures)
    calls = max(f["calls"] for f in figures)
    server = {"server": target_id.partition("-")[2]} if target_id != key else {}
    limit = STEADY_LIMITS.get(target_id, STEADY_LIMITS.get(key))
    record = {"bench": BENCH, "mode": "steady", "provider": key, **server, "built": built,
              **({"latency": latency} if latency else {}),
              "sizes": figures,
              "queries": queries, "calls": calls, "time_ratio": round(time_ratio, 2),
              "complete": complete, "goal": STEADY_GOAL,
              "ok": complete and queries <= 30 and calls <= 2 and time_ratio <= 1.5}
    if (calls > 2 or time_ratio > 1.5) and limit:
        record["limit"] = limit
    records = [record]
    for side, measured in changes.items():
        line = {"bench": BENCH, "mode": "steady", "case": f"one_{side}_change",
                "provider": key, **server, "built": built, "goal": ONE_CHANGE_GOAL}
        if not measured:
            records.append({**line, "skipped": "the target has no write_direct hook",
                            "ok": False})
            continue
        queries = max(m["queries"] for m in measured)
        calls = max(m["calls"] for m in measured)
        time_ratio = measured[-1]["seconds"] / max(measured[0]["seconds"], 1e-6)
        done = all(m["complete"] and m["arrived"] == m["changes"] for m in measured)
        line.update(sizes=measured, queries=queries, calls=calls,
                    time_ratio=round(time_ratio, 2), complete=done,
                    ok=done and queries <= ONE_CHANGE_QUERIES and calls <= ONE_CHANGE_CALLS
                    and time_ratio <= 1.5)
        why = ONE_CHANGE_LIMITS.get(target_id, ONE_CHANGE_LIMITS.get(key))
        if (calls > ONE_CHANGE_CALLS or time_ratio > 1.5) and why:
            line["limit"] = why
        records.append(line)
    return records


LATENCY_GOAL = {"sdk": "ratio <= 1.2", "rclone": "ratio <= 1.0"}
RCLONE_PROVIDERS = ("s3", "webdav")


def rclone_env(key: str, config: dict) -> dict:
    """An rclone remote named ``bench`` for the emulator's server (environment only)."""
    env = dict(os.environ)
    env.pop("AWS_CA_BUNDLE", None)  # rclone refuses a custom bundle on a plain-HTTP server
    if key == "s3":
        env.update(RCLONE_CONFIG_BENCH_TYPE="s3", RCLONE_CONFIG_BENCH_PROVIDER="Other",
                   RCLONE_CONFIG_BENCH_ENDPOINT=config["endpoint_url"],
                   RCLONE_CONFIG_BENCH_ACCESS_KEY_ID=config["access_key"],
                   RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY=config["secret_key"],
                   RCLONE_CONFIG_BENCH_REGION=config["region"],
                   RCLONE_CONFIG_BENCH_FORCE_PATH_STYLE="true")
        return env
    obscured = subprocess.run(["rclone", "obscure", config["password"]], check=True,
                              capture_output=True, text=True).stdout.strip()
    env.update(RCLONE_CONFIG_BENCH_TYPE="webdav", RCLONE_CONFIG_BENCH_URL=config["url"],
               RCLONE_CONFIG_BENCH_VENDOR="other", RCLONE_CONFIG_BENCH_USER=config["login"],
               RCLONE_CONFIG_BENCH_PASS=obscured)
    return env


def rclone_run(key: str, config: dict, files, tmp: str) -> float:
    """Seconds of ``rclone copy --transfers 8`` of ``files`` (written to disk first)."""
    source = Path(tmp) / "rclone-source"
    source.mkdir()
    for name, data in files:
        (source / name).write_bytes(data)
    dest = f"bench:{config['bucket']}/bench/rclone" if key == "s3" else "bench:/bench-rclone"
    started = time.perf_counter()
    subprocess.run(["rclone", "copy", str(source), dest, "--transfers", "8"], check=True,
                   env=rclone_env(key, config), stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def bench_latency(registry, key: str, files: int, size: int, latency: float) -> list[dict]:
    """Initial sync with the pool at 8 and at 1 against the threaded SDK and rclone."""
    from odoo import SUPERUSER_ID, api

    from cloud_sync.conformance import open_target

    data = [(f"file-{i:05d}.bin", os.urandom(size)) for i in range(files)]
    timings, done, requests = {}, {}, {}
    with tempfile.TemporaryDirectory(prefix=f"bench-latency-{key}-") as tmp, \
            open_target(key, Path(tmp)) as target:
        faults = target.emulator.faults
        config = target.emulator.provider_config("")
        for pool in (8, 1):
            with registry.cursor() as cr:
                env = api.Environment(cr, SUPERUSER_ID, {"tracking_disable": True})
                client = env["clouds.client"].create({
                    "name": f"bench {key} pool {pool}", "provider": key,
                    "root_name": f"bench-latency-{key}-{pool}", "transfer_pool": pool,
                    **client_fields(key, config)})
                client.action_connect()
                folder = env["clouds.folder"].create({"name": "Files",
                                                      "own_client_id": client.id})
                for start in range(0, files, 500):
                    env["ir.attachment"].create([
                        {"name": name, "raw": raw, "clouds_folder_id": folder.id}
                        for name, raw in data[start:start + 500]])
                client_id = client.id
            faults.latency = latency
            faults.reset_counts()
            started = time.perf_counter()
            done[pool] = run_crons(registry)
            timings[pool] = time.perf_counter() - started
            requests[pool] = faults.total()
            faults.latency = 0.0
            with registry.cursor() as cr:
                env = api.Environment(cr, SUPERUSER_ID, {})
                synced = env["ir.attachment"].search_count([
                    ("clouds_folder_id", "=", folder.id), ("clouds_state", "=", "synced")])
                done[pool] = (*done[pool], synced)
                env["clouds.client"].browse(client_id).write({"state": "draft"})
        faults.latency = latency
        faults.reset_counts()
        timings["sdk"] = bare_run(target, "bench-bare-threads", files, size, threads=8)
        requests["sdk"] = faults.total()
        rclone = None
        if key in RCLONE_PROVIDERS and shutil.which("rclone"):
            rclone = rclone_run(key, config, data, tmp)
        faults.latency = 0.0
    complete = all(ops == files + 1 and failed == 0 and synced == files
                   for ops, failed, synced in done.values())
    base = {"bench": BENCH, "mode": "latency", "provider": key, "latency": latency,
            "files": files, "size": size, "pool8_s": round(timings[8], 2),
            "pool1_s": round(timings[1], 2),
            "speedup": round(timings[1] / max(timings[8], 1e-6), 2), "complete": complete,
            # requests the local server answered (each costs ``latency``): per-file
            # overhead shows here before it shows in the time
            "pool8_requests": requests[8]}
    ratio = timings[8] / max(timings["sdk"], 1e-6)
    lines = [{**base, "baseline": "bare SDK, 8 threads", "baseline_s": round(timings["sdk"], 2),
              "baseline_requests": requests["sdk"],
              "ratio": round(ratio, 2), "goal": LATENCY_GOAL["sdk"],
              "ok": complete and ratio <= 1.2}]
    if key in RCLONE_PROVIDERS:
        if rclone is None:
            lines.append({**base, "baseline": "rclone copy --transfers 8",
                          "skipped": "rclone is not installed (Debian: apt-get install rclone)",
                          "goal": LATENCY_GOAL["rclone"], "ok": False})
        else:
            ratio = timings[8] / max(rclone, 1e-6)
            lines.append({**base, "baseline": "rclone copy --transfers 8",
                          "baseline_s": round(rclone, 2), "ratio": round(ratio, 2),
                          "goal": LATENCY_GOAL["rclone"], "ok": complete and ratio <= 1.0})
    return lines


WORKERS_GOAL = "ratio <= 0.6"
# One cron worker: runs the queue as the cron does until the connection has no task left
# (the cron is triggered again when folder tasks are queued; here it loops instead).
WORKER = """
import os, sys, time
import odoo
from odoo import api
from odoo.modules.registry import Registry
odoo.tools.config.parse_config(sys.argv[3:])
registry = Registry(sys.argv[1])
client_id = int(sys.argv[2])
with registry.cursor() as cr:  # a cron worker lives long: its SDK is loaded, logged in
    env = api.Environment(cr, odoo.SUPERUSER_ID, {})
    env["clouds.client"].browse(client_id)._cloud_shared_provider()
print("ready", flush=True)
sys.stdin.readline()
started_cpu = time.process_time()  # loading Odoo and the SDK is not the run's work
profiles = []
if os.environ.get("BENCH_PROFILE"):  # every thread: the pool's transfers too
    import cProfile, threading

    def profile_thread(*_args):
        sys.setprofile(None)
        profiles.append(cProfile.Profile())
        profiles[-1].enable()

    threading.setprofile(profile_thread)
    profile_thread()
deadline = time.monotonic() + 1800
with registry.cursor() as cr:
    env = api.Environment(cr, odoo.SUPERUSER_ID, {})
    while time.monotonic() < deadline:
        done = env["clouds.queue"]._cron_run(limit=None)
        cr.execute("SELECT count(*) FROM clouds_queue WHERE client_id = %s AND state IN "
                   "('pending', 'running', 'waiting') AND (next_try IS NULL OR "
                   "next_try <= now() AT TIME ZONE 'UTC')", [client_id])
        left = cr.fetchone()[0]
        cr.commit()
        if not left:
            break
        if not done:
            time.sleep(0.05)
cpu = time.process_time() - started_cpu
if profiles:
    import io, pstats
    profiles[0].disable()
    out = io.StringIO()
    stats = pstats.Stats(*profiles, stream=out)
    out.write(f"--- worker {os.getpid()} of client {sys.argv[2]}: its run, all threads\\n")
    for order in ("tottime", "cumulative"):
        stats.sort_stats(order).print_stats(int(os.environ["BENCH_PROFILE"]))
    sys.stderr.write(out.getvalue())
print("done", cpu, flush=True)
"""


def run_workers(runner, dbname: str, client_id: int, workers: int) -> tuple[float, float]:
    """Seconds for ``workers`` worker processes to run the connection's queue dry, from
    the start signal (they are loaded and logged in) to the last one's "done"; and the
    CPU seconds the workers used from the start signal (loading Odoo and logging in
    excluded: a cron worker does that once, not per run)."""
    args = [*runner.db_args(), f"--addons-path={runner.odoo_addons_path()}",
            "--log-level=warn", "--data-dir", str(ROOT / ".odoo-data")]
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, dbname, str(client_id), *args],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                              cwd=str(ROOT)) for _n in range(workers)]
    try:
        for proc in procs:
            if proc.stdout.readline().strip() != "ready":
                raise RuntimeError("a worker did not start")
        started = time.perf_counter()
        for proc in procs:
            proc.stdin.write("go\n")
            proc.stdin.flush()
        cpu = 0.0
        for proc in procs:  # "done" once the queue is dry (not the process's exit)
            answer = proc.stdout.readline().split()
            if answer[:1] != ["done"]:
                raise RuntimeError("a worker failed")
            cpu += float(answer[1])
        elapsed = time.perf_counter() - started
        for proc in procs:
            proc.wait(timeout=60)
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
    if any(proc.returncode for proc in procs):
        raise RuntimeError("a worker failed")
    return elapsed, cpu


def bench_workers(runner, registry, dbname: str, key: str, files: int, size: int,
                  folders: int, latency: float, workers: int) -> dict:
    """The initial sync of one connection by ``workers`` cron workers against one."""
    from odoo import SUPERUSER_ID, api

    from cloud_sync.conformance import open_target

    data = [(f"file-{i:05d}.bin", os.urandom(size)) for i in range(files)]
    timings, checks, cpu = {}, {}, {}
    with tempfile.TemporaryDirectory(prefix=f"bench-workers-{key}-") as tmp, \
            open_target(key, Path(tmp)) as target:
        faults = target.emulator.faults
        config = target.emulator.provider_config("")
        for count in (1, workers):
            with registry.cursor() as cr:
                env = api.Environment(cr, SUPERUSER_ID, {"tracking_disable": True})
                client = env["clouds.client"].create({
                    "name": f"bench {key} {count} workers", "provider": key,
                    "root_name": f"bench-workers-{key}-{count}", "transfer_pool": 8,
                    **client_fields(key, config)})
                client.action_connect()
                top = env["clouds.folder"].create({"name": "Files", "own_client_id": client.id})
                subs = env["clouds.folder"].create([{"name": f"Folder {n:03d}",
                                                     "parent_id": top.id}
                                                    for n in range(folders)])
                for start in range(0, files, 500):
                    env["ir.attachment"].create([
                        {"name": name, "raw": raw, "clouds_folder_id": subs[i % folders].id}
                        for i, (name, raw) in enumerate(data[start:start + 500], start)])
                env["clouds.queue"]._enqueue(client, "sync")
                client_id = client.id
            faults.latency = latency
            server_cpu = time.process_time()  # this process serves the requests
            try:
                timings[count], worker_cpu = run_workers(runner, dbname, client_id, count)
            finally:
                faults.latency = 0.0
            cpu[count] = {"workers_cpu_s": round(worker_cpu, 1),
                          "server_cpu_s": round(time.process_time() - server_cpu, 1)}
            with registry.cursor() as cr:
                env = api.Environment(cr, SUPERUSER_ID, {})
                tasks = env["clouds.queue"].search([("client_id", "=", client_id)])
                logs = env["clouds.log"].search([("client_id", "=", client_id)])
                synced = env["ir.attachment"].search_count([
                    ("clouds_client_id", "=", client_id), ("clouds_state", "=", "synced")])
                checks[count] = {
                    **cpu[count], "synced": synced, "ops": sum(logs.mapped("operations")),
                    "tasks": len(tasks), "undone": len(tasks.filtered(
                        lambda t: t.state != "done")),
                    "retried": len(logs.filtered(lambda log: log.level != "info")),
                    # where the time went: the run's planning, and its folder tasks
                    # added up (more than the elapsed time: they ran side by side)
                    "plan_s": round(sum(logs.filtered(
                        lambda log: log.task_type == "sync").mapped("duration")), 2),
                    "folder_tasks_s": round(sum(logs.filtered(
                        lambda log: log.task_type == "folder").mapped("duration")), 2)}
                if os.environ.get("BENCH_TIMELINE"):
                    first = min(logs.mapped("create_date"))
                    for log in logs.sorted("id"):
                        end = (log.create_date - first).total_seconds()
                        print(f"  {count} {log.task_type:6} {log.task_id.id:5} "
                              f"{end - log.duration:6.2f} {end:6.2f}", file=sys.stderr)
                env["clouds.client"].browse(client_id).write({"state": "draft"})
        # Whether the local server itself serves twice the requests in flight faster:
        # the bare SDK uploading the same files from 2 x 8 threads against 8.
        faults.latency = latency
        try:
            bare = {n: bare_run(target, f"bench-bare-{n}", files, size, threads=n)
                    for n in (8, 8 * workers)}
        finally:
            faults.latency = 0.0
    complete = all(c["synced"] == files and c["ops"] == files + folders + 1
                   and not c["undone"] and not c["retried"] for c in checks.values())
    ratio = timings[workers] / max(timings[1], 1e-6)
    server = bare[8 * workers] / max(bare[8], 1e-6)
    limit = {}
    if ratio > 0.6 and server > 0.6:
        limit = {"limit": f"the local server does not serve {8 * workers} requests in flight "
                          f"much faster than 8: the bare SDK from {8 * workers} threads takes "
                          f"{server:.2f} of its time from 8"}
    return {"bench": BENCH, "mode": "workers", "provider": key, "latency": latency,
            "files": files, "size": size, "folders": folders, "workers": workers,
            "one_s": round(timings[1], 2), f"workers{workers}_s": round(timings[workers], 2),
            "baseline": "one cron worker (pool of 8)", "baseline_s": round(timings[1], 2),
            "folder_tasks": checks[workers]["tasks"] - 1, "checks": checks,
            "bare8_s": round(bare[8], 2), f"bare{8 * workers}_s": round(bare[8 * workers], 2),
            "server_ratio": round(server, 2),
            "ratio": round(ratio, 2), "complete": complete, "goal": WORKERS_GOAL,
            "ok": complete and ratio <= 0.6, **limit}


def _label(record: dict) -> str:
    """``webdav (apache)`` for a line measured against a named server."""
    server = record.get("server")
    return f"{record['provider']} ({server})" if server else record["provider"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=None,
                        help="default 2,000 (1,000 with --latency)")
    parser.add_argument("--size", type=int, default=None,
                        help="bytes per file: default 2,048 (51,200 with --latency)")
    parser.add_argument("--folders", type=int, default=None,
                        help="default 50 (20 with --workers)")
    parser.add_argument("--providers", nargs="*", default=None,
                        help="default: all seven (s3, webdav, onedrive with --latency)")
    parser.add_argument("--latency", type=float, default=0.0,
                        help="seconds added to every request of the local servers: "
                        "measures parallel transfers (see above)")
    parser.add_argument("--steady", nargs="*", type=int, default=None, metavar="FILES",
                        help="measure a cycle with nothing changed at these tree sizes "
                        "(default 2000 20000; webdav and s3 unless --providers)")
    parser.add_argument("--workers", type=int, default=0,
                        help="N cron workers on one connection against one (see above)")
    args = parser.parse_args()
    latency = args.latency
    args.folders = args.folders or (20 if args.workers else 50)
    if args.workers:
        args.providers = args.providers or ["webdav", "s3"]
    steady = args.steady
    if steady is not None:
        steady = sorted(steady) or [2000, 20000]
        args.providers = args.providers or ["webdav", "s3"]
    args.files = args.files or (1000 if latency else 2000)
    args.size = args.size or (51200 if latency else 2048)
    args.providers = args.providers or (["s3", "webdav", "onedrive"] if latency
                                        else list(ADDONS))
    if importlib.util.find_spec("odoo") is None:
        emit({"bench": BENCH, "skipped": "odoo not importable"})
        return 0
    runner = odoo_runner()
    dbname = f"cloud_bench_{uuid.uuid4().hex[:8]}"
    addons = sorted({ADDONS[provider_key(k)] for k in args.providers})
    print(f"installing {', '.join(addons)} (no demo) in {dbname}...", flush=True)
    results = []
    try:
        install(runner, dbname, addons)
        import odoo
        from odoo.modules.registry import Registry

        odoo.tools.config.parse_config([
            *runner.db_args(), f"--database={dbname}",
            f"--addons-path={runner.odoo_addons_path()}", "--log-level=warn",
            "--data-dir", str(ROOT / ".odoo-data"),
        ])
        registry = Registry(dbname)
        logging.getLogger("dropbox").setLevel(logging.WARNING)  # one INFO line per request
        if os.environ.get("BENCH_PHASES"):  # the sync runs' phase timings (see the executor)
            logging.getLogger("odoo.addons.cloud_base").setLevel(logging.INFO)
        for key in args.providers:
            try:
                if args.workers:
                    results.append(bench_workers(runner, registry, dbname, key, args.files,
                                                 args.size, args.folders, latency,
                                                 args.workers))
                elif steady:
                    results += bench_steady(registry, key, steady, latency=latency)
                elif latency:
                    results += bench_latency(registry, key, args.files, args.size, latency)
                else:
                    results.append(bench_provider(registry, key, args.files, args.size,
                                                  args.folders))
            except Exception as exc:  # noqa: BLE001 - reported as a failed line
                results.append({"bench": BENCH, "provider": key, "error": repr(exc),
                                "goal": GOAL, "ok": False})
        Registry.delete(dbname)
        odoo.sql_db.close_all()
    finally:
        runner.drop_db(dbname)
    columns = ["provider", "files", "suite_s", "bare_s", "ratio", "calls_per_file",
               "folders", "steady_calls", "ok"]
    if steady:
        columns = ["provider", "case", "files", "folders", "sync_s", "seconds", "queries",
                   "calls", "arrived"]
        rows = [[_label(r), r.get("case", "no_change"), *(f.get(c, "") for c in columns[2:])]
                for r in results for f in r.get("sizes", ())]
        print_table(columns, rows)
        columns = ["provider", "case", "time_ratio", "queries", "calls", "complete", "ok"]
    elif args.workers:
        columns = ["provider", "latency", "files", "folders", "one_s",
                   f"workers{args.workers}_s", "folder_tasks", "server_ratio", "ratio",
                   "complete", "ok"]
    elif latency:
        columns = ["provider", "latency", "files", "pool8_s", "pool1_s", "speedup",
                   "baseline", "baseline_s", "ratio", "ok"]
    print_table(columns, [[_label(r) if c == "provider" else
                           r.get(c, "no_change") if c == "case" and steady else
                           r.get(c, r.get("error", r.get("skipped", ""))) for c in columns]
                          for r in results])
    for record in results:
        if "limit" in record:
            case = f" ({record['case']})" if "case" in record else ""
            print(f"{record['provider']}{case}: {record['limit']}")
    for record in results:
        print(json.dumps(record), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
