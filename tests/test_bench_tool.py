"""`make bench` fails when a benchmark misses a goal, not only when it crashes."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))

from run_bench import main, missed  # noqa: E402


def bench(directory, name, *lines, code=0):
    body = "".join(f"print({line!r})\n" for line in lines)
    (directory / f"{name}.py").write_text(f"{body}raise SystemExit({code})\n")


def test_missed_reads_only_json_results():
    lines = ["table  1.2\n", '{"bench": "a", "ok": true}\n', '{"bench": "b", "ok": false}\n',
             '{"bench": "c", "skipped": "odoo not importable"}\n', "{not json\n"]
    assert missed(lines) == [{"bench": "b", "ok": False}]


def test_a_missed_goal_fails_the_run(tmp_path, capsys):
    bench(tmp_path, "good", "ratio 1.0", '{"bench": "good", "ok": true}')
    bench(tmp_path, "slow", '{"bench": "slow", "ratio": 2.0, "ok": false}')
    assert main([], bench_dir=tmp_path) == 1
    assert 'goal not met in bench/slow.py: {"bench": "slow"' in capsys.readouterr().out


def test_all_ok_or_skipped_passes(tmp_path):
    bench(tmp_path, "good", '{"bench": "good", "ok": true}')
    bench(tmp_path, "skip", '{"bench": "skip", "skipped": "odoo not importable"}')
    assert main([], bench_dir=tmp_path) == 0
    assert main(["good"], bench_dir=tmp_path) == 0


def test_a_crash_fails_the_run(tmp_path):
    bench(tmp_path, "broken", "halfway", code=3)
    assert main([], bench_dir=tmp_path) == 1
