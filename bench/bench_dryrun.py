"""Conversion benchmark: the dry run of a generated feed to NDJSON, one process on one core.

    python bench/bench_dryrun.py [--profile light heavy] [--rows 200000 1000000] [--repeat 3]
                                 [--baseline DIR]

For each profile (``bench/gen_feed.py``: ``light`` is the 40-column feed for the demo
catalog, ``heavy`` the 50-column feed with about 33 numbers a row and its own catalog) and
each size, it generates the feed once (1% bad rows), then runs
``feed-export check FEED --catalog CATALOG --payload-out OUT`` ``--repeat`` times, each in a
fresh process, and prints the median rows/s (wall time of the whole command, start-up
included), the median CPU seconds (user + system) and the peak resident memory of the
process (ru_maxrss). The dry run is single-threaded: it uses one core.

``--baseline DIR`` names another copy of the project (for example the previous commit,
``git archive REV | tar -x -C DIR``): each run of this tree is then paired with one run of
DIR on the same feed, alternately (this tree first on odd rounds, DIR first on even ones),
and the table shows both and their ratio. Pairing keeps the ratio meaningful on a machine
whose speed drifts.
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
DEMO_CATALOG = ROOT / "feed_export" / "data" / "demo_catalog.json"

#: profile -> file name stem of its feeds
STEMS = {"light": "dry", "heavy": "heavy"}


def feed_for(profile: str, rows: int) -> tuple[Path, Path]:
    """The feed of ``rows`` rows in ``profile`` and its catalog, generated once."""
    feed = OUT / f"{STEMS[profile]}{rows}.csv"
    catalog = DEMO_CATALOG if profile == "light" else feed.with_name(f"{feed.stem}.catalog.json")
    if not feed.exists() or not catalog.exists():
        subprocess.run([sys.executable, str(ROOT / "bench" / "gen_feed.py"), str(feed),
                        "--rows", str(rows), "--bad-rate", "0.01", "--profile", profile],
                       check=True)  # fmt: skip
    return feed, catalog


def run_once(tree: Path, feed: Path, catalog: Path) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds and peak RSS (MB) of one dry run of ``tree``'s code."""
    script = (
        "import resource, sys\n"
        "from feed_export.cli import main\n"
        "code = main(sys.argv[1:])\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\n"
        "sys.exit(code)\n"
    )
    args = [
        *(sys.executable, "-c", script, "check", str(feed), "--catalog", str(catalog)),
        *("--payload-out", str(OUT / "bench.ndjson")),
        *("--feedback", str(OUT / "bench.feedback.csv"), "-q"),
    ]
    env = dict(os.environ, PYTHONPATH=str(tree))
    before = os.times()
    t0 = time.perf_counter()
    proc = subprocess.run(args, capture_output=True, text=True, env=env, check=False)
    wall = time.perf_counter() - t0
    after = os.times()
    if proc.returncode not in (0, 1):
        raise RuntimeError(proc.stderr)
    cpu = (after.children_user - before.children_user) + (
        after.children_system - before.children_system
    )
    peak_kb = int(proc.stderr.strip().splitlines()[-1])
    return wall, cpu, peak_kb / 1024


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--profile", nargs="+", choices=list(STEMS), default=["light"])
    parser.add_argument("--rows", type=int, nargs="+", default=[200_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--baseline", type=Path, help="another copy of the project to compare")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    trees = [("this tree", ROOT)]
    if args.baseline is not None:
        trees.append(("baseline", args.baseline.resolve()))
    print("profile  rows      code       median s  rows/s    CPU s   peak RSS MB  (runs)")
    for profile in args.profile:
        for rows in args.rows:
            feed, catalog = feed_for(profile, rows)
            results: dict[str, list[tuple[float, float, float]]] = {n: [] for n, _ in trees}
            for round_ in range(args.repeat):
                order = trees if round_ % 2 == 0 else trees[::-1]
                for name, tree in order:
                    results[name].append(run_once(tree, feed, catalog))
            medians = {}
            for name, _ in trees:
                runs = results[name]
                wall = statistics.median(r[0] for r in runs)
                cpu = statistics.median(r[1] for r in runs)
                peak = max(r[2] for r in runs)
                medians[name] = wall
                listed = ", ".join(f"{r[0]:.1f}s" for r in runs)
                print(
                    f"{profile:<7}  {rows:<8}  {name:<9}  {wall:>8.2f}  {rows / wall:>8,.0f}"
                    f"  {cpu:>6.2f}  {peak:>11.0f}  ({listed})"
                )
            if len(trees) == 2:
                pairs = zip(results["this tree"], results["baseline"], strict=True)
                ratios = [b[0] / a[0] for a, b in pairs]
                print(
                    f"{profile:<7}  {rows:<8}  speed-up: {statistics.median(ratios):.2f}x "
                    f"(median of paired ratios {', '.join(f'{r:.2f}' for r in ratios)})"
                )


if __name__ == "__main__":
    main()
