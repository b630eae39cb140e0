#!/usr/bin/env python3
"""`make demo`: a fresh Odoo 18 database with the suite and its demo data, then serve it.

It also starts a local WebDAV server (the NAS emulator) storing its files in
``.demo/nas/``, connects a "Demo NAS" connection to it and syncs the demo folders, so the
folder tree and the attachments visibly appear on disk; the server's crons keep syncing.

Without Odoo 18 importable by this Python it says what is needed and how to get it.
The database (default ``cloud_storage_demo``) is recreated on every run, but only if an
earlier ``make demo`` made it: any other database of that name is left alone.
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from odoo_tests import (  # noqa: E402
    BASE_APPS,
    ROOT,
    db_args,
    odoo_addons_path,
    odoo_version,
    suite_addons,
)

MARKER = "cloud_base.demo_database"
# Odoo's INFO line for each module it installs, and the lines the terminal always shows.
LOADING = re.compile(r" odoo\.modules\.loading: Loading module (\w+) \((\d+)/(\d+)\)")
LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ \d+ (\w+) ")
NO_ODOO = """\
Odoo 18 is needed for the demo, and `import odoo` fails for {python}.

Install Odoo 18.0 Community as Odoo documents it (Installing Odoo > Source install):
  git clone --branch 18.0 --depth 1 https://github.com/odoo/odoo.git
  pip install -r odoo/requirements.txt && pip install -e odoo
then, from this repository: pip install -r requirements.txt && make demo
(PostgreSQL must be reachable: PGHOST/PGPORT/PGUSER, default 127.0.0.1:5432.)"""


def psql(sql: str, db: str = "postgres") -> str:
    env = os.environ
    cmd = ["psql", "-h", env.get("PGHOST", "127.0.0.1"), "-p", env.get("PGPORT", "5432"),
           "-d", db, "-tAc", sql]
    if env.get("PGUSER"):
        cmd[1:1] = ["-U", env["PGUSER"]]
    out = subprocess.run(cmd, capture_output=True, text=True)
    return out.stdout.strip() if out.returncode == 0 else ""


def prepare_database(name: str) -> bool:
    """Drop a database made by an earlier demo; refuse to touch any other."""
    exists = psql(f"SELECT 1 FROM pg_database WHERE datname = '{name}'") == "1"
    if not exists:
        return True
    if psql(f"SELECT value FROM ir_config_parameter WHERE key = '{MARKER}'", name) != "1":
        print(f"A database named {name!r} exists and was not made by `make demo`: "
              f"left alone. Choose another name: make demo DB=<name>")
        return False
    subprocess.run([sys.executable, "-m", "odoo", "db", *db_args(), "drop", name],
                   capture_output=True, cwd="/")
    subprocess.run(["dropdb", "--if-exists", name], capture_output=True)
    return True


SETUP_NAS = """
client = env["clouds.client"].create({{
    "name": "Demo NAS", "provider": "webdav", "dav_url": {url!r},
    "dav_login": {login!r}, "dav_password": {password!r}, "dav_verify_tls": False,
}})
client.action_connect()
env["clouds.folder.rule"].search([]).write({{"client_id": client.id}})
env["clouds.folder.rule"]._cron_prepare_folders()
queue = env["clouds.queue"]
for _round in range(20):
    queue._cron_prepare()
    queue._cron_run(limit=500)
    if not queue.search_count([("state", "in", ("pending", "running"))]):
        break
env.cr.commit()
print("demo NAS synced:", client.state)
"""


def progress(line: str, showing: bool) -> tuple[str | None, bool]:
    """What the terminal shows of one line of Odoo's log while it installs, and whether
    the lines that follow (a traceback) are still shown.

    A module being installed becomes ``  <module> (i/n)``; warnings and errors are shown
    whole, with their tracebacks; other lines only go to the log file."""
    if match := LOADING.search(line):
        module, index, count = match.groups()
        return f"  {module} ({index}/{count})\n", False
    if match := LOG_LINE.match(line):
        if match.group(1) in ("WARNING", "ERROR", "CRITICAL"):
            return line, True
        return None, False
    return (line if showing else None), showing


def install(cmd: list[str], log_path: Path) -> int:
    """Run an Odoo install command, telling which module it is at (the full log goes to
    ``log_path``)."""
    showing = False
    with open(log_path, "a", encoding="utf-8") as log:
        proc = subprocess.Popen([*cmd, "--log-level=info"], stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, cwd=str(ROOT))
        for line in proc.stdout:
            log.write(line)
            shown, showing = progress(line, showing)
            if shown:
                print(shown, end="", flush=True)
        return proc.wait()


def start_nas(data_dir: Path) -> tuple[subprocess.Popen, dict]:
    """The NAS emulator (wsgidav) on a free port, serving ``data_dir``."""
    data_dir.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(
        [sys.executable, "-m", "cloud_sync.emulators", "webdav", "--data-dir", str(data_dir)],
        stdout=subprocess.PIPE, text=True, cwd=str(ROOT))
    line = proc.stdout.readline()
    return proc, json.loads(line)["config"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default=os.environ.get("DB", "cloud_storage_demo"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8069")))
    args = parser.parse_args()

    if odoo_version() != "18":
        print(NO_ODOO.format(python=sys.executable))
        return 2
    if not prepare_database(args.db):
        return 1
    base = [sys.executable, "-m", "odoo", *db_args(), f"--database={args.db}",
            f"--addons-path={odoo_addons_path()}", "--data-dir", str(ROOT / ".demo")]
    log_path = ROOT / ".demo" / "install.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log_path.write_text("", encoding="utf-8")
    print(f"Creating the database {args.db} with demo data (a few minutes; Odoo's full log "
          f"is in {log_path.relative_to(ROOT)}).", flush=True)
    # The suite's demo builds on these apps; only what installs without test stand-ins
    # (cloud_documents needs Enterprise).
    steps = ((f"Odoo's {' and '.join(BASE_APPS)} apps", BASE_APPS),
             ("the Cloud Storage suite", suite_addons(installable_only=True)))
    for number, (what, apps) in enumerate(steps, 1):
        print(f"[{number}/4] Installing {what}: {', '.join(apps)}", flush=True)
        init = install([*base, f"--init={','.join(apps)}", "--stop-after-init",
                        "--max-cron-threads=0", "--no-http"], log_path)
        if init:
            print(f"Installing the addons failed: see the lines above and {log_path}.")
            return 1
    psql(f"INSERT INTO ir_config_parameter (key, value) VALUES ('{MARKER}', '1')", args.db)
    nas_dir = ROOT / ".demo" / "nas"
    print(f"[3/4] Starting the demo NAS (a local WebDAV server keeping its files in "
          f"{nas_dir.relative_to(ROOT)}/), connecting it and syncing the demo folders to it",
          flush=True)
    nas, nas_config = start_nas(nas_dir)
    atexit.register(nas.terminate)
    script = SETUP_NAS.format(url=nas_config["url"], login=nas_config["login"],
                              password=nas_config["password"])
    setup = subprocess.run([*base[:3], "shell", *base[3:], "--no-http", "--log-level=warn"],
                           input=script, text=True, cwd=str(ROOT))
    if setup.returncode:
        print("Connecting the demo NAS failed: see the log above (the demo runs without it).")
    url = f"http://127.0.0.1:{args.port}"
    print(f"[4/4] Starting Odoo on port {args.port}", flush=True)
    server = subprocess.Popen([*base, f"--http-port={args.port}", "--log-level=warn"],
                              cwd=str(ROOT))
    for _ in range(120):
        try:
            urllib.request.urlopen(f"{url}/web/login", timeout=2)
            break
        except OSError:
            if server.poll() is not None:
                return server.returncode or 1
            time.sleep(1)
    print(f"\nCloud Storage demo is running: {url}/odoo  (login: admin, password: admin)\n"
          f"The demo NAS ({nas_config['url']}) keeps its files in {nas_dir}/\n"
          "Press Ctrl-C to stop.", flush=True)
    try:
        return server.wait()
    except KeyboardInterrupt:
        server.terminate()
        server.wait(timeout=30)
        return 0


if __name__ == "__main__":
    sys.exit(main())
