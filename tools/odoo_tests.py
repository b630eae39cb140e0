#!/usr/bin/env python3
"""Run every addon's Odoo tests in a throwaway database, or say why not.

Used by ``make test``. When ``odoo`` (18.0) is importable by this Python, creates a
fresh database (PostgreSQL from PGHOST/PGPORT/PGUSER/PGPASSWORD, default
127.0.0.1:5432), installs every addon of the suite with demo data and tests enabled,
and fails on any failed, errored or skipped Odoo test. The last line printed is
``odoo: N passed, N failed, N skipped`` or ``odoo: not run (odoo not importable)``.

This script runs Odoo; it never installs it (see README.md).
"""

from __future__ import annotations

import argparse
import ast
import os
import re
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Odoo apps installed first, without their tests: the suite's demo data builds on them
# (contacts split into companies and individuals, projects with their tasks beneath).
BASE_APPS = ("contacts", "project")
SUMMARY = re.compile(r"(\d+) failed, (\d+) error\(s\) of (\d+) tests when loading database")
SKIPPED = re.compile(r"\bINFO \S+ \S+: skipped ")
STARTED = re.compile(r" odoo\.addons\.(\w+)\.tests\.\S+: Starting ")
PROBLEM = re.compile(r"^\S+ \S+ \d+ (ERROR|CRITICAL) ")


# Test stand-ins of addons the suite cannot install here (Odoo Enterprise's `documents`):
# on the addons path of the tests only, and only when the real addon is not found.
STAND_INS = ROOT / "tests" / "odoo_addons"


def suite_addons(installable_only: bool = False) -> list[str]:
    """Every addon directory of the repository (has a ``__manifest__.py``); with
    ``installable_only``, those whose dependencies are all on the real addons path (not
    ``cloud_documents`` without Odoo Enterprise's ``documents``)."""
    names = sorted(p.parent.name for p in ROOT.glob("*/__manifest__.py"))
    if not installable_only:
        return names
    paths = odoo_addons_path().split(",")
    return [name for name in names
            if all(_addon_on(dep, paths) for dep in _depends(ROOT / name))]


def _depends(addon: Path) -> list[str]:
    manifest = ast.literal_eval((addon / "__manifest__.py").read_text(encoding="utf-8"))
    return manifest.get("depends", [])


def _addon_on(name: str, paths: list[str]) -> bool:
    return any((Path(path) / name / "__manifest__.py").is_file() for path in paths)


def missing_stand_ins() -> list[str]:
    """The stand-ins whose real addon is not on the addons path (then they are used)."""
    paths = odoo_addons_path().split(",")
    return sorted(p.parent.name for p in STAND_INS.glob("*/__manifest__.py")
                  if not _addon_on(p.parent.name, paths))


def odoo_version() -> str | None:
    probe = "import odoo.release as r; print(r.version_info[0])"
    try:
        out = subprocess.run(
            [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120,
            cwd="/",
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def db_args() -> list[str]:
    env = os.environ
    args = [
        f"--db_host={env.get('PGHOST', '127.0.0.1')}",
        f"--db_port={env.get('PGPORT', '5432')}",
    ]
    if env.get("PGUSER"):
        args.append(f"--db_user={env['PGUSER']}")
    if env.get("PGPASSWORD"):
        args.append(f"--db_password={env['PGPASSWORD']}")
    return args


def odoo_addons_path(stand_ins: bool = False) -> str:
    """The repository and Odoo's addons; with ``stand_ins`` (tests only) also
    ``tests/odoo_addons`` when a stand-in's real addon is missing."""
    out = subprocess.run(
        [sys.executable, "-c",
         "import odoo.addons, os; print(os.pathsep.join(odoo.addons.__path__))"],
        capture_output=True, text=True, check=True, cwd="/",
    )
    paths = [str(ROOT), *(p for p in out.stdout.strip().split(os.pathsep) if p)]
    if stand_ins and missing_stand_ins():
        paths.append(str(STAND_INS))
    return ",".join(paths)


def drop_db(name: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "odoo", "db", *db_args(), "drop", name],
        capture_output=True, cwd="/",
    )
    subprocess.run(["dropdb", "--if-exists", name], capture_output=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--addons", help="comma-separated addons (default: all of the suite)")
    parser.add_argument("--tags", help="Odoo --test-tags (default: every test of the addons)")
    parser.add_argument("--keep-db", action="store_true", help="do not drop the database")
    parser.add_argument("--log", default=str(ROOT / ".odoo-test.log"), help="full Odoo log")
    args = parser.parse_args()

    version = odoo_version()
    if version is None:
        print("odoo: not run (odoo not importable)")
        return 0
    if version != "18":
        print(f"odoo: not run (odoo {version} is importable, the suite needs 18.0)")
        return 0

    addons = args.addons.split(",") if args.addons else suite_addons()
    tags = args.tags or ",".join(f"/{a}" for a in addons)
    dbname = f"cloud_test_{uuid.uuid4().hex[:8]}"
    if stand_ins := missing_stand_ins():
        print(f"odoo {version}: test stand-ins used for {', '.join(stand_ins)} "
              f"({STAND_INS.relative_to(ROOT)}; the real addons are not on the path)")
    common = [
        sys.executable, "-m", "odoo", *db_args(),
        f"--database={dbname}", f"--addons-path={odoo_addons_path(stand_ins=True)}",
        "--stop-after-init", "--max-cron-threads=0",
        f"--http-port={free_port()}", f"--gevent-port={free_port()}",
        "--data-dir", str(ROOT / ".odoo-data"),
    ]
    cmd = [*common, f"--init={','.join(addons)}", "--test-enable", f"--test-tags={tags}",
           "--log-level=info"]
    print(f"odoo {version}: installing {', '.join(BASE_APPS)} in {dbname}", flush=True)
    started = time.monotonic()
    base = subprocess.run([*common, f"--init={','.join(BASE_APPS)}", "--log-level=warn"],
                          capture_output=True, text=True, cwd=str(ROOT))
    if base.returncode:
        print(base.stdout[-3000:], base.stderr[-3000:])
        print("odoo: 0 passed, 1 failed")
        return 1
    print(f"odoo {version}: installing {', '.join(addons)} in {dbname} with tests", flush=True)
    summary = None
    skipped = problems = 0
    tested = set()  # addons whose tests started
    with open(args.log, "w", encoding="utf-8") as log:
        proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=str(ROOT),
        )
        for line in proc.stdout:
            log.write(line)
            if match := SUMMARY.search(line):
                summary = tuple(int(g) for g in match.groups())
            if match := STARTED.search(line):
                tested.add(match.group(1))
            if SKIPPED.search(line):
                skipped += 1
                print(line, end="")
            elif (PROBLEM.search(line) or " FAIL:" in line
                  or "demo data failed to install" in line):
                problems += 1
                print(line, end="")
        rc = proc.wait()
    if not args.keep_db:
        drop_db(dbname)
    elapsed = time.monotonic() - started
    if summary is None:
        print(f"Odoo ended (exit {rc}) without a test summary; see {args.log}")
        print("odoo: 0 passed, 1 failed")
        return 1
    failed, errors, total = summary
    passed = total - failed - errors - skipped
    bad = failed + errors
    print(f"Odoo tests took {elapsed:.0f}s; full log in {args.log}")
    if total == 0:
        print("no Odoo test ran: that is a failure")
    if problems and not bad:
        print(f"{problems} error lines in the Odoo log count as a failure")
    # Every addon asked for (all of them by default) must have run tests of its own: a
    # tag or an import that silently drops an addon's tests is a failure.
    untested = [] if args.tags else sorted(set(addons) - tested)
    if untested:
        print(f"no test of {', '.join(untested)} ran: that is a failure")
    ok = (rc == 0 and total > 0 and bad == 0 and skipped == 0 and problems == 0
          and not untested)
    print(f"odoo: {passed} passed, {bad or int(not ok)} failed, {skipped} skipped")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
