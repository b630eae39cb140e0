#!/usr/bin/env python3
"""`make bench [B=name]`: run every benchmark under bench/, or one of them."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str]) -> int:
    names = argv or sorted(p.stem for p in (ROOT / "bench").glob("[!_]*.py"))
    failed = []
    for name in names:
        script = ROOT / "bench" / f"{name}.py"
        if not script.exists():
            print(f"no benchmark named {name!r} (bench/{name}.py)")
            return 2
        print(f"== bench/{name}.py", flush=True)
        if subprocess.run([sys.executable, str(script)], cwd=ROOT).returncode:
            failed.append(name)
    if failed:
        print(f"benchmarks that failed to run: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
