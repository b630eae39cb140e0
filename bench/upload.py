#!/usr/bin/env python3
"""Upload benchmark: the suite's provider against the bare SDK, same server, same run.

For every provider with a conformance target, N files of S bytes are uploaded through
the provider (``provider.upload_bytes``) and through the raw SDK
(``target.extra["bare_upload"]``) to the same local server. The files are split into
rounds and the order alternates (suite first, then bare first, ...) so that warm-up
favours neither side; a small warm-up of both comes first and is not counted.
``calls_per_file`` is the number of HTTP requests the emulator saw per file uploaded
through the provider. Goal: ratio (suite time / bare time) <= 1.2, calls_per_file == 1.

    python bench/upload.py [--files 2000] [--size 51200] [--rounds 4] [--providers s3 ...]

Large-file mode (``--large [MiB MiB]``, default 32 and 128): each provider uploads one
file of each size from a file on disk, in a process of its own
(``cloud_sync.conformance.memprobe``: the local servers share this process and keep what
they receive), and the peak of Python memory during each upload is printed. Goal: the
peak grows by less than a quarter of the size difference (holding the bytes whole would
grow by all of it) and stays below half the larger file. With ``--download`` the same
files are downloaded back, each in a process of its own, into a file as the sync brings
a cloud file into Odoo's filestore (``cloud_sync.spool.Spooled``, SHA-1 checked), and
the peak of each download is printed against the same goal.
"""


from __future__ import annotations

import argparse
import hashlib
import os
import sys
import tempfile
import traceback
from pathlib import Path

from _common import emit, print_table, timed

from cloud_sync.conformance import open_target, target_keys

GOAL = "ratio <= 1.2, calls_per_file == 1"
LARGE_GOAL = "peak growth < (large - small) / 4 and peak < large / 2"


def make_files(count: int, size: int, tag: str) -> list[tuple[str, bytes]]:
    return [(f"{tag}-{i:05d}.bin", os.urandom(size)) for i in range(count)]


def bench_provider(key: str, files: int, size: int, rounds: int) -> dict:
    with tempfile.TemporaryDirectory(prefix=f"bench-upload-{key}-") as tmp, \
            open_target(key, Path(tmp)) as target:
        bare_upload = target.extra.get("bare_upload")
        if bare_upload is None:
            return {"provider": key, "skipped": "target has no bare_upload hook", "ok": False}
        provider = target.new_provider()
        faults = target.emulator.faults
        try:
            warm = provider.create_folder(provider.root_id, "warm-up")
            for name, data in make_files(5, size, "warm"):
                provider.upload_bytes(warm.id, name, data)
            bare_upload("warm-up", make_files(5, size, "warm"))

            suite_time = bare_time = 0.0
            calls = uploaded = 0
            per_round = [files // rounds + (1 if r < files % rounds else 0)
                         for r in range(rounds)]
            for r, count in enumerate(per_round):
                suite_files = make_files(count, size, f"s{r}")
                bare_files = make_files(count, size, f"b{r}")
                folder = provider.create_folder(provider.root_id, f"round-{r}")

                def through_suite(batch=suite_files, parent=folder.id):
                    for name, data in batch:
                        provider.upload_bytes(parent, name, data)

                def through_sdk(batch=bare_files, r=r):
                    bare_upload(f"bare-round-{r}", batch)

                faults.reset_counts()
                if r % 2 == 0:
                    suite = timed(through_suite)
                    calls += faults.total()
                    bare = timed(through_sdk)
                else:
                    bare = timed(through_sdk)
                    faults.reset_counts()
                    suite = timed(through_suite)
                    calls += faults.total()
                suite_time += suite
                bare_time += bare
                uploaded += count
        finally:
            provider.close()
    ratio = suite_time / bare_time if bare_time else float("inf")
    calls_per_file = calls / uploaded if uploaded else float("inf")
    return {"provider": key, "files": uploaded, "suite_s": suite_time, "bare_s": bare_time,
            "ratio": round(ratio, 3), "calls_per_file": round(calls_per_file, 3),
            "ok": ratio <= 1.2 and calls_per_file <= 1.0}


def bench_large(key: str, sizes_mib: list[int], download: bool = False) -> dict:
    """Peak Python memory of one upload per size, each in a process of its own;
    ``download``: of downloading each file back into a file as the sync brings a file
    into Odoo's filestore (``cloud_sync.spool.Spooled``), checked by SHA-1."""
    from cloud_sync.conformance.memprobe import probe_download, probe_upload

    peaks = []
    with tempfile.TemporaryDirectory(prefix=f"bench-large-{key}-") as tmp, \
            open_target(key, Path(tmp)) as target:
        provider = target.new_provider()
        try:
            for mib in sizes_mib:
                path = Path(tmp) / f"{mib}.bin"
                digest = hashlib.sha1()  # noqa: S324 - compared with the spool's SHA-1
                with open(path, "wb") as out:
                    for _ in range(mib):
                        block = os.urandom(1 << 20)
                        digest.update(block)
                        out.write(block)
                result = probe_upload(provider, path, f"large-{mib}.bin")
                path.unlink()
                if result["size"] != mib << 20:
                    raise RuntimeError(f"uploaded {result['size']} bytes of {mib} MiB")
                if download:
                    got = probe_download(provider, result["id"], path)
                    path.unlink()
                    if got["checksum"] != digest.hexdigest() or got["size"] != mib << 20:
                        raise RuntimeError(f"downloaded other bytes than the {mib} MiB sent")
                    result = dict(result, peak=got["peak"])
                peaks.append(result["peak"] / 2**20)
                provider.delete(result["id"])
        finally:
            provider.close()
    small, large = sizes_mib
    growth = (peaks[1] - peaks[0]) / (large - small)
    return {"provider": key, "sizes_mib": sizes_mib, "peak_mib": [round(p, 1) for p in peaks],
            "growth": round(growth, 3), "ok": growth < 0.25 and peaks[1] < large / 2}


def main_large(keys: list[str], sizes_mib: list[int], download: bool = False) -> int:
    results = []
    for key in keys:
        print(f"{'downloading' if download else 'uploading'} {sizes_mib[0]} and "
              f"{sizes_mib[1]} MiB through {key} ...", file=sys.stderr, flush=True)
        try:
            results.append(bench_large(key, sizes_mib, download))
        except Exception as exc:  # noqa: BLE001 - one broken provider must not hide the rest
            traceback.print_exc()
            results.append({"provider": key, "error": f"{type(exc).__name__}: {exc}",
                            "ok": False})
    print_table(
        ["provider", f"peak MiB at {sizes_mib[0]} MiB", f"peak MiB at {sizes_mib[1]} MiB",
         "growth per MiB", "ok"],
        [[r["provider"], *(r.get("peak_mib") or ["-", "-"]), r.get("growth", "-"),
          r["ok"] if "growth" in r else r.get("error")] for r in results])
    for r in results:
        record = {"bench": "upload", "mode": "large-download" if download else "large",
                  "provider": r["provider"]}
        for field in ("sizes_mib", "peak_mib", "growth", "error"):
            if field in r:
                record[field] = r[field]
        record.update({"goal": LARGE_GOAL, "ok": r["ok"]})
        emit(record)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--files", type=int, default=2000, help="files per side (default 2000)")
    parser.add_argument("--size", type=int, default=50 * 1024, help="bytes per file (50 KiB)")
    parser.add_argument("--rounds", type=int, default=4, help="alternating rounds (default 4)")
    parser.add_argument("--providers", nargs="*", default=None,
                        help="provider keys (default: every conformance target)")
    parser.add_argument("--large", nargs="*", type=int, metavar="MIB",
                        help="large-file mode: peak memory of one upload of each of two "
                             "sizes in MiB (default 32 128)")
    parser.add_argument("--download", action="store_true",
                        help="with --large: measure downloading the files back instead")
    args = parser.parse_args(argv)
    if args.files < 1 or args.size < 0 or args.rounds < 1:
        parser.error("--files and --rounds must be at least 1, --size at least 0")
    keys = args.providers or target_keys()
    unknown = sorted(set(keys) - set(target_keys()))
    if unknown:
        parser.error(f"no conformance target for {', '.join(unknown)}")

    if args.large is not None:
        sizes = args.large or [32, 128]
        if len(sizes) != 2 or not 0 < sizes[0] < sizes[1]:
            parser.error("--large takes two sizes in MiB, the smaller first")
        return main_large(keys, sizes, args.download)
    if args.download:
        parser.error("--download goes with --large")

    results = []
    for key in keys:
        print(f"uploading {args.files} x {args.size} bytes through {key} ...",
              file=sys.stderr, flush=True)
        try:
            results.append(bench_provider(key, args.files, args.size,
                                          min(args.rounds, args.files)))
        except Exception as exc:  # noqa: BLE001 - one broken provider must not hide the rest
            traceback.print_exc()
            results.append({"provider": key, "error": f"{type(exc).__name__}: {exc}",
                            "ok": False})

    print_table(
        ["provider", "files", "suite s", "bare SDK s", "ratio", "calls/file", "ok"],
        [[r["provider"], r.get("files", "-"), r.get("suite_s", "-"), r.get("bare_s", "-"),
          r.get("ratio", "-"), r.get("calls_per_file", "-"),
          r["ok"] if "ratio" in r else r.get("skipped") or r.get("error")] for r in results])
    for r in results:
        record = {"bench": "upload", "provider": r["provider"]}
        for field in ("ratio", "calls_per_file", "skipped", "error"):
            if field in r:
                record[field] = r[field]
        record.update({"goal": GOAL, "ok": r["ok"]})
        emit(record)
    return 0


if __name__ == "__main__":
    sys.exit(main())
