"""Conversion benchmark: the dry run of a generated 40-column feed to NDJSON, on one core.

    python bench/bench_dryrun.py [--rows 200000 1000000] [--repeat 3] [--format csv]

For each size it generates the feed once (bench/gen_feed.py, 1% bad rows), then runs
``feed-export check FEED --catalog demo --payload-out OUT`` ``--repeat`` times, each in a
fresh process, and prints the median rows/s (wall time of the whole command, start-up
included) and the peak resident memory of the process (ru_maxrss).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
CATALOG = ROOT / "feed_export" / "data" / "demo_catalog.json"


def run_once(feed: Path) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one dry run in a child process."""
    script = (
        "import resource, sys\n"
        "from feed_export.cli import main\n"
        "code = main(sys.argv[1:])\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\n"
        "sys.exit(code)\n"
    )
    args = [
        *(sys.executable, "-c", script, "check", str(feed), "--catalog", str(CATALOG)),
        *("--payload-out", str(OUT / "bench.ndjson")),
        *("--feedback", str(OUT / "bench.feedback.csv"), "-q"),
    ]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    t0 = time.perf_counter()
    proc = subprocess.run(args, capture_output=True, text=True, env=env, check=False)
    wall = time.perf_counter() - t0
    if proc.returncode not in (0, 1):
        raise RuntimeError(proc.stderr)
    peak_kb = int(proc.stderr.strip().splitlines()[-1])
    return wall, peak_kb / 1024


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, nargs="*", default=[200_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    print("rows        median s  rows/s    peak RSS MB  (runs)")
    for rows in args.rows:
        feed = OUT / f"dry{rows}.csv"
        if not feed.exists():
            subprocess.run([sys.executable, str(ROOT / "bench" / "gen_feed.py"), str(feed),
                            "--rows", str(rows), "--bad-rate", "0.01"], check=True)  # fmt: skip
        results = [run_once(feed) for _ in range(args.repeat)]
        wall = statistics.median(r[0] for r in results)
        peak = max(r[1] for r in results)
        runs = ", ".join(f"{r[0]:.1f}s" for r in results)
        print(f"{rows:<10}  {wall:>8.2f}  {rows / wall:>8,.0f}  {peak:>11.0f}  ({runs})")


if __name__ == "__main__":
    main()
