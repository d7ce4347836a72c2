"""Pull benchmark: the PIM into a feed, from a sandbox that answers every request after a delay.

    python bench/bench_pull.py [--rows 10000 100000] [--latency 0.2] [--workers 1 2 4]
                               [--repeat 1]

For each size, a sandbox database of that many products is made once (``bench/out/``: the
generated feed of ``gen_feed.py`` pushed into an in-process sandbox, no latency), then
for each ``--workers`` value a sandbox process serves it (``feed-export sandbox --db
--latency``, each answer leaving ``latency`` seconds after its request arrived,
processing included) and a fresh child process pulls every product to CSV (``run_pull``):
its wall time (logging in and reading the catalog included), its CPU time
(``time.process_time``: the reader thread included, the sandbox not) and its peak memory
(``VmHWM``) are what the table shows.

With one worker the pull reads one ``search_after`` list, the next page fetched while the
previous is written; the ideal is one page of 100 per round trip (100 / latency products/s).
With W workers the products are split into W slices of their ``updated`` time (``updated
<``, ``>``: disjoint, each read by its own thread), the ideal W times that.
"""

from __future__ import annotations

import argparse
import json
import resource
import socket
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_push import free_port  # noqa: E402

from feed_export.config import ExportOptions, PullOptions, Settings  # noqa: E402
from feed_export.pull.run import run_pull  # noqa: E402
from feed_export.sandbox import (  # noqa: E402
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_PASSWORD,
    DEMO_USERNAME,
    Sandbox,
)

OUT = ROOT / "bench" / "out"


def settings_for(url: str) -> Settings:
    return Settings(
        base_url=url,
        client_id=DEMO_CLIENT_ID,
        client_secret=DEMO_CLIENT_SECRET,  # type: ignore[arg-type]
        username=DEMO_USERNAME,
        password=DEMO_PASSWORD,  # type: ignore[arg-type]
    )


def make_database(rows: int) -> tuple[Path, list[str]]:
    """A sandbox database of ``rows`` products, and the span of their ``updated`` times."""
    from feed_export.push.run import RunTargets, run_push

    db = OUT / f"pull{rows}.sqlite"
    span_file = db.with_suffix(".span.json")
    if db.exists() and span_file.exists():
        return db, json.loads(span_file.read_text())
    db.unlink(missing_ok=True)
    feed = OUT / f"pull{rows}.csv"
    subprocess.run(
        [sys.executable, str(ROOT / "bench" / "gen_feed.py"), str(feed), "--rows", str(rows),
         "--bad-rate", "0"],
        check=True,
    )  # fmt: skip
    sandbox = Sandbox(db=str(db))
    with sandbox as sb:
        sb.start()
        report = run_push(
            feed,
            ExportOptions(concurrency=4),
            settings=settings_for(sb.url),
            targets=RunTargets(feedback=OUT / "pull-setup.feedback.csv"),
        )
        print(f"  database of {rows:,} products: {report.accepted:,} accepted", file=sys.stderr)
        times = sorted(item["updated"] for _, item in sb.store.iter_products(0))
    span = [times[0], times[-1]]
    span_file.write_text(json.dumps(span))
    return db, span


def partitions(span: list[str], workers: int) -> tuple[dict[str, object], ...]:
    """``workers`` disjoint slices of the ``updated`` span (whole seconds: ``> t-1s`` is
    ``>= t``)."""
    if workers <= 1:
        return ()
    first, last = (datetime.fromisoformat(t) for t in span)
    step = (last - first + timedelta(seconds=1)) / workers
    bounds = [first + step * i for i in range(1, workers)]

    def at(moment: datetime) -> str:
        return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")

    slices: list[dict[str, object]] = []
    for i in range(workers):
        conditions = []
        if i > 0:
            start = bounds[i - 1].replace(microsecond=0) - timedelta(seconds=1)
            conditions.append({"operator": ">", "value": at(start)})
        if i < workers - 1:
            conditions.append({"operator": "<", "value": at(bounds[i].replace(microsecond=0))})
        slices.append({"updated": conditions})
    return tuple(slices)


def child(url: str, workers: int, parts: str, out: str) -> None:
    """One pull, in this fresh process; prints its figures as JSON."""
    options = PullOptions(partitions=tuple(json.loads(parts)))
    cpu0, t0 = time.process_time(), time.perf_counter()
    report = run_pull(options, Path(out), settings=settings_for(url), workers=workers)
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    peak = peak_mb()
    print(json.dumps({"wall": wall, "cpu": cpu, "rows": report.rows, "peak_mb": peak,
                      "requests": report.requests, "aborted": report.aborted}))  # fmt: skip


def peak_mb() -> float:
    """This process's peak resident memory, in MB.

    Linux's ``ru_maxrss`` survives ``fork`` and ``exec``: a child started by this script
    after it built a large database would report the parent's peak. ``VmHWM`` belongs to
    the process's own memory map, new at ``exec``; ``ru_maxrss`` where there is no /proc.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(db: Path, span: list[str], latency: float, workers: int) -> dict[str, float]:
    proc, url = start_sandbox_process_db(db, latency)
    try:
        parts = json.dumps(partitions(span, workers))
        done = subprocess.run(
            [sys.executable, __file__, "--child", url, str(workers), parts,
             str(OUT / "pulled.csv")],
            check=True, capture_output=True, text=True,
        )  # fmt: skip
    finally:
        proc.terminate()
        proc.wait(10)
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def start_sandbox_process_db(db: Path, latency: float) -> tuple[subprocess.Popen[bytes], str]:
    """``feed-export sandbox --db DB --latency L`` in its own process; (process, URL)."""
    port = free_port()
    command = [sys.executable, "-m", "feed_export", "sandbox", "--port", str(port),
               "--latency", str(latency), "--db", str(db)]  # fmt: skip
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("sandbox did not start")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, nargs="*", default=[10_000, 100_000])
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--workers", type=int, nargs="*", default=[1, 2, 4])
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--child", nargs=4, metavar=("URL", "WORKERS", "PARTS", "OUT"))
    args = parser.parse_args()
    if args.child:
        url, workers, parts, out = args.child
        child(url, int(workers), parts, out)
        return
    OUT.mkdir(parents=True, exist_ok=True)
    print(f"latency {args.latency * 1000:.0f} ms, {args.repeat} run(s) each, median")
    print("products  workers  wall s  products/s  ideal  ratio  CPU s/1000  peak RSS MB  requests")
    for rows in args.rows:
        db, span = make_database(rows)
        for workers in args.workers:
            runs = [measure(db, span, args.latency, workers) for _ in range(args.repeat)]
            wall = statistics.median(r["wall"] for r in runs)
            got = int(runs[0]["rows"])
            requests = int(runs[0]["requests"])
            pps = got / wall
            ideal = workers * 100 / args.latency if args.latency else float("inf")
            ratio = pps / ideal if args.latency else 0.0
            cpu_k = statistics.median(r["cpu"] for r in runs) / got * 1000
            peak = max(r["peak_mb"] for r in runs)
            print(
                f"{got:>8,}  {workers:>7}  {wall:>6.1f}  {pps:>10,.0f}  {ideal:>5,.0f}  "
                f"{ratio:>5.0%}  {cpu_k:>10.3f}  {peak:>11.0f}  {requests:>8,}",
                flush=True,
            )


if __name__ == "__main__":
    main()
