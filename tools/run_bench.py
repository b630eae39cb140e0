#!/usr/bin/env python3
"""`make bench [B=name]`: run every benchmark under bench/, or one of them.

Exits non-zero when a benchmark fails to run or when any of its JSON lines says
``"ok": false`` (a goal missed, or work left undone); a skipped case is not a failure.
"""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def missed(lines):
    """The JSON result lines (objects with an ``ok``) whose goal was not met."""
    cases = []
    for line in lines:
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            result = json.loads(line)
        except ValueError:
            continue
        if isinstance(result, dict) and result.get("ok") is False:
            cases.append(result)
    return cases


def run(script):
    """Run one benchmark, echoing its output; (exit code, lines printed)."""
    lines = []
    with subprocess.Popen([sys.executable, str(script)], cwd=ROOT, stdout=subprocess.PIPE,
                          text=True) as proc:
        for line in proc.stdout:
            print(line, end="", flush=True)
            lines.append(line)
    return proc.returncode, lines


def main(argv, bench_dir=ROOT / "bench"):
    names = argv or sorted(p.stem for p in bench_dir.glob("[!_]*.py"))
    failed, not_ok = [], []
    for name in names:
        script = bench_dir / f"{name}.py"
        if not script.exists():
            print(f"no benchmark named {name!r} (bench/{name}.py)")
            return 2
        print(f"== bench/{name}.py", flush=True)
        code, lines = run(script)
        if code:
            failed.append(name)
        not_ok += [(name, case) for case in missed(lines)]
    if failed:
        print(f"benchmarks that failed to run: {', '.join(failed)}")
    for name, case in not_ok:
        print(f"goal not met in bench/{name}.py: {json.dumps(case)}")
    return 1 if failed or not_ok else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
