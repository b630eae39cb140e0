"""Helpers shared by the benchmarks: import path, timing, the table and the JSON lines.

Every benchmark prints a table for people, then its JSON lines last (see DESIGN.md).
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python bench/<name>.py` from the repository root
    sys.path.insert(0, str(ROOT))
# Emulators use a throwaway CA passed to each client: an inherited bundle setting would
# override every requests session's ``verify`` (as in tests/conftest.py).
for _var in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
    os.environ.pop(_var, None)


def timed(fn, *args, **kwargs) -> float:
    """Seconds ``fn(*args, **kwargs)`` took (monotonic clock)."""
    start = time.perf_counter()
    fn(*args, **kwargs)
    return time.perf_counter() - start


def print_table(columns: list[str], rows: list[list]) -> None:
    """A plain text table, right-aligned numbers."""
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) if cells else len(c)
              for i, c in enumerate(columns)]
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for row in cells:
        pairs = zip(row, widths, strict=True)
        print("  ".join(v.rjust(w) if _numeric(v) else v.ljust(w) for v, w in pairs))
    sys.stdout.flush()


def emit(record: dict) -> None:
    print(json.dumps(record), flush=True)


def _cell(value) -> str:
    if isinstance(value, float):
        return f"{value:.3f}"
    text = str(value).strip().splitlines()[0] if str(value).strip() else ""
    return text if len(text) <= 60 else text[:57] + "..."


def _numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
