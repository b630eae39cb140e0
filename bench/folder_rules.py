#!/usr/bin/env python3
"""Folder rules at scale: first run, incremental run, queries per 1,000 records.

Creates a throwaway database (PostgreSQL from PGHOST/PGPORT/PGUSER/PGPASSWORD, default
127.0.0.1:5432), installs cloud_base without demo data, then:

1. 1,000 partners and a rule on them: a first run, its queries per 1,000 folders;
2. that rule and its folders removed, ``--records`` (10,000) other partners and a rule on
   them: the first run (timed, queries per 1,000 folders), then an incremental run with
   nothing changed (timed).

Goals: first/incremental >= 20, queries per 1,000 constant, and linear scaling: the first
run on N records takes at most 1.2 times N/1,000 the first run on 1,000 (for 10,000: at
most 12 times). ``--records 100000`` prints the large case.

Prints a table, then one JSON line. Without Odoo: ``{"bench": ..., "skipped": ...}``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
import time
import uuid

from _common import ROOT

BENCH = "folder_rules"
SMALL = 1000


def odoo_runner():
    """The helpers of tools/odoo_tests.py (database arguments, addons path)."""
    spec = importlib.util.spec_from_file_location("odoo_tests", ROOT / "tools" / "odoo_tests.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def install(runner, dbname: str) -> None:
    cmd = [
        sys.executable, "-m", "odoo", *runner.db_args(), f"--database={dbname}",
        f"--addons-path={runner.odoo_addons_path()}", "--init=cloud_base",
        "--without-demo=all", "--stop-after-init", "--log-level=warn",
        "--max-cron-threads=0", f"--http-port={runner.free_port()}",
        f"--gevent-port={runner.free_port()}", "--data-dir", str(ROOT / ".odoo-data"),
    ]
    subprocess.run(cmd, check=True, cwd=str(ROOT), stdout=subprocess.DEVNULL)


def make_partners(env, tag_name: str, count: int):
    tag = env["res.partner.category"].create({"name": tag_name})
    Partner = env["res.partner"].with_context(tracking_disable=True, mail_create_nolog=True)
    for start in range(0, count, 1000):
        Partner.create([
            {"name": f"{tag_name} partner {i}", "category_id": [(4, tag.id)],
             "city": f"City {i % 50}"}
            for i in range(start, min(count, start + 1000))
        ])
    return tag


def make_rule(env, tag, title):
    return env["clouds.folder.rule"].create({
        "name": title,
        "model_id": env["ir.model"]._get_id("res.partner"),
        "domain": f"[('category_id', 'in', [{tag.id}])]",
        "folder_title": title,
        "name_expression": "{{ object.name }} ({{ object.city }})",
    })


def timed_cron(registry):
    """One cron run in its own transaction: (seconds, queries, stats)."""
    from odoo import SUPERUSER_ID, api

    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        before = cr.sql_log_count
        started = time.perf_counter()
        stats = env["clouds.folder.rule"]._cron_prepare_folders()
        env.flush_all()
        elapsed = time.perf_counter() - started
        return elapsed, cr.sql_log_count - before, stats


def scenario(registry, records: int) -> dict:
    from odoo import SUPERUSER_ID, api

    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        small_rule = make_rule(env, make_partners(env, "Small", SMALL), "Small")
    small_s, small_q, small_stats = timed_cron(registry)
    assert small_stats["created"] == SMALL, small_stats
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        rule = env["clouds.folder.rule"].browse(small_rule.id)
        folders = rule.with_context(active_test=False).folder_ids
        rule.unlink()
        folders.unlink()
        make_rule(env, make_partners(env, "Large", records), "Large")
    first_s, first_q, first_stats = timed_cron(registry)
    assert first_stats["created"] == records, first_stats
    incr_s, incr_q, incr_stats = timed_cron(registry)
    assert incr_stats == {"created": 0, "updated": 0, "archived": 0}, incr_stats
    return {
        "small_s": small_s, "first_run_s": first_s, "incremental_s": incr_s,
        "incremental_queries": incr_q,
        "queries_per_1000": {
            str(SMALL): round(small_q * 1000 / SMALL, 1),
            str(records): round(first_q * 1000 / records, 1),
        },
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10000)
    args = parser.parse_args()
    if importlib.util.find_spec("odoo") is None:
        print(json.dumps({"bench": BENCH, "skipped": "odoo not importable"}))
        return 0
    runner = odoo_runner()
    dbname = f"cloud_bench_{uuid.uuid4().hex[:8]}"
    print(f"installing cloud_base (no demo) in {dbname}...", flush=True)
    try:
        install(runner, dbname)
        import odoo
        from odoo.modules.registry import Registry

        odoo.tools.config.parse_config([
            *runner.db_args(), f"--database={dbname}",
            f"--addons-path={runner.odoo_addons_path()}", "--log-level=warn",
            "--data-dir", str(ROOT / ".odoo-data"),
        ])
        registry = Registry(dbname)
        result = scenario(registry, args.records)
        Registry.delete(dbname)
        odoo.sql_db.close_all()
    finally:
        runner.drop_db(dbname)
    ratio = result["first_run_s"] / max(result["incremental_s"], 1e-6)
    per_1000 = result["queries_per_1000"]
    small_q, large_q = per_1000[str(SMALL)], per_1000[str(args.records)]
    constant = large_q <= small_q * 1.1
    growth = result["first_run_s"] / max(result["small_s"], 1e-6)
    linear = growth <= 1.2 * args.records / SMALL
    print(f"{'case':<42}{'value':>12}")
    print(f"{f'first run, {SMALL} records (s)':<42}{result['small_s']:>12.2f}")
    print(f"{f'first run, {args.records} records (s)':<42}{result['first_run_s']:>12.2f}")
    print(f"{f'growth {SMALL} -> {args.records} (x)':<42}{growth:>12.1f}")
    print(f"{'incremental run, nothing changed (s)':<42}{result['incremental_s']:>12.4f}")
    print(f"{'incremental run queries':<42}{result['incremental_queries']:>12}")
    print(f"{'ratio first / incremental':<42}{ratio:>12.1f}")
    print(f"{f'queries per 1000 records at {SMALL}':<42}{small_q:>12}")
    print(f"{f'queries per 1000 records at {args.records}':<42}{large_q:>12}")
    print(json.dumps({
        "bench": BENCH,
        "records": args.records,
        "small_s": round(result["small_s"], 3),
        "first_run_s": round(result["first_run_s"], 3),
        "growth": round(growth, 1),
        "incremental_s": round(result["incremental_s"], 4),
        "ratio": round(ratio, 1),
        "queries_per_1000": per_1000,
        "goal": f"ratio >= 20, queries per 1000 constant, growth <= {1.2 * args.records / SMALL:g}",
        "ok": ratio >= 20 and constant and linear,
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
