#!/usr/bin/env python3
"""`make test`: the pure-Python tests (always), then the Odoo tests (when importable).

pytest's own summary line comes first; the very last line is the Odoo one, as
``tools/odoo_tests.py`` prints it. Exits non-zero if either failed.
"""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    pure = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider"], cwd=ROOT)
    odoo = subprocess.run([sys.executable, str(ROOT / "tools" / "odoo_tests.py")], cwd=ROOT)
    return 1 if (pure.returncode or odoo.returncode) else 0


if __name__ == "__main__":
    sys.exit(main())
