"""Incremental push benchmark: re-pushing an unchanged feed with --only-changed vs its dry run.

    python bench/bench_only_changed.py [--rows 1000000] [--repeat 3]

The feed is bench/gen_feed.py's (40 columns, 1% bad rows; shared with bench_dryrun.py).
A sandbox PIM runs in this process (in memory), so its counters tell how many PATCH
requests arrived. Steps:

1. baseline: ``feed-export push FEED --full`` into the sandbox (records the state);
2. ``--repeat`` times, alternating the order: the dry run
   ``feed-export check FEED --catalog demo``, and the re-push
   ``feed-export push FEED --only-changed``; each a fresh process, wall time measured
   from outside, start-up included, both writing their feedback file, neither a payload;
3. once more, the re-push with the raw-row hashes wiped from the state: every row is
   then decoded and judged by its payload's hash (what the first run after a catalog
   change, an option change or an upgrade costs).

Targets (issue 7): the re-push sends no PATCH request (only the token and the catalog
fetch) and its median wall time is at most the dry run's plus 20%.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from feed_export.push.journal import FeedIdentity  # noqa: E402
from feed_export.sandbox import Sandbox, start_sandbox  # noqa: E402

OUT = ROOT / "bench" / "out"
CATALOG = ROOT / "feed_export" / "data" / "demo_catalog.json"
TARGET = 1.20


def run(args: list[str], env: dict[str, str]) -> float:
    """Wall seconds of one ``feed-export`` command in a child process.

    No peak memory here: Linux keeps ``ru_maxrss`` across exec, so a child of this
    process (which holds the sandbox's products) would report this process's size.
    """
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "feed_export", *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    wall = time.perf_counter() - t0
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"{args[:2]} exited {proc.returncode}: {proc.stderr[-2000:]}")
    return wall


def child_env(sb: Sandbox) -> dict[str, str]:
    return dict(
        os.environ,
        PYTHONPATH=str(ROOT),
        AKENEO_BASE_URL=sb.url,
        AKENEO_CLIENT_ID=sb.client_id,
        AKENEO_CLIENT_SECRET=sb.client_secret,
        AKENEO_USERNAME=sb.username,
        AKENEO_PASSWORD=sb.password,
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    feed = OUT / f"dry{args.rows}.csv"
    if not feed.exists():
        subprocess.run([sys.executable, str(ROOT / "bench" / "gen_feed.py"), str(feed),
                        "--rows", str(args.rows), "--bad-rate", "0.01"], check=True)  # fmt: skip
    state = OUT / "only_changed.state.sqlite"
    for leftover in OUT.glob("only_changed.state.sqlite*"):
        leftover.unlink()
    summary = OUT / "only_changed.summary.json"

    t0 = time.perf_counter()
    identity = FeedIdentity.of(feed)
    print(
        f"feed: {feed.name}, {args.rows:,} rows, {identity.size / 1e6:,.0f} MB; "
        f"SHA-256 of the file (journal identity): {time.perf_counter() - t0:.2f} s"
    )
    with start_sandbox() as sb:
        env = child_env(sb)
        push = ["push", str(feed), "--state", str(state), "-q", "--summary-json", str(summary)]
        wall = run([*push, "--full", "--feedback", str(OUT / "oc.full.csv")], env)
        base = json.loads(summary.read_text())
        print(
            f"baseline --full push: {wall:.1f} s, {base['lines_sent']:,} lines sent, "
            f"{base['statuses']}"
        )
        dry_runs: list[float] = []
        re_pushes: list[float] = []
        for i in range(args.repeat):
            order = ("dry", "only") if i % 2 == 0 else ("only", "dry")
            for kind in order:
                if kind == "dry":
                    wall = run(
                        ["check", str(feed), "--catalog", str(CATALOG), "-q",
                         "--feedback", str(OUT / "oc.dry.csv")], env,
                    )  # fmt: skip
                    dry_runs.append(wall)
                    print(f"  dry run               {wall:6.2f} s")
                    continue
                re_pushes.append(re_push(sb, push, summary, env, "--only-changed push"))
        with sqlite3.connect(state) as db:
            db.execute("UPDATE products SET row_hash = NULL")
        slow = re_push(sb, push, summary, env, "same, no raw hashes")
    dry, only = statistics.median(dry_runs), statistics.median(re_pushes)
    verdict = "OK" if only <= dry * TARGET else "FAIL"
    print(
        f"median dry run {dry:.2f} s ({args.rows / dry:,.0f} rows/s), median --only-changed "
        f"{only:.2f} s ({args.rows / only:,.0f} rows/s): ratio {only / dry:.3f} "
        f"(target <= {TARGET:.2f}) {verdict}"
    )
    print(
        f"without raw hashes (every row decoded): {slow:.2f} s, "
        f"ratio to the dry run {slow / dry:.3f}"
    )


def re_push(sb: Sandbox, push: list[str], summary: Path, env: dict[str, str], what: str) -> float:
    """One ``--only-changed`` re-push; checks that it sent nothing."""
    patches = sb.stats.patch_requests
    wall = run([*push, "--only-changed", "--feedback", str(OUT / "oc.only.csv")], env)
    data = json.loads(summary.read_text())
    sent = sb.stats.patch_requests - patches
    print(
        f"  {what:<21} {wall:6.2f} s  PATCH requests {sent}, lines {data['lines_sent']}, "
        f"requests in all {data['requests']} (token, catalog), "
        f"304: {data['statuses'].get('304', 0):,}"
    )
    if sent or data["lines_sent"]:
        raise SystemExit("FAIL: the unchanged re-push sent something")
    return wall


if __name__ == "__main__":
    main()
