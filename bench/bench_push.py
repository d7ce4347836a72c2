"""Transport benchmark: push a feed to a sandbox that answers every request after a fixed delay.

    python bench/bench_push.py [--rows 20000] [--latency 0.2] [--concurrency 4] [--repeat 3]

The sandbox runs in its own process (``feed-export sandbox --latency``), so the client CPU
measured here (``time.process_time`` of this process) is feed_export's alone. For each
setting it pushes the same feed ``--repeat`` times, to a fresh sandbox each time, and prints
the median products/s, the ideal (concurrency x batch / latency), the ratio, and client CPU
seconds per 1,000 products. The sequential run (concurrency 1) is the baseline that a naive
client achieves.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from feed_export.config import ExportOptions, Settings  # noqa: E402
from feed_export.push.run import RunTargets, run_push  # noqa: E402
from feed_export.sandbox import (  # noqa: E402
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_PASSWORD,
    DEMO_USERNAME,
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_sandbox_process(latency: float) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "feed_export",
            "sandbox",
            "--port",
            str(port),
            "--latency",
            str(latency),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc, url
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("sandbox did not start")


def push_once(feed: Path, url: str, concurrency: int, out: Path) -> tuple[float, float, int]:
    settings = Settings(
        base_url=url,
        client_id=DEMO_CLIENT_ID,
        client_secret=DEMO_CLIENT_SECRET,  # type: ignore[arg-type]
        username=DEMO_USERNAME,
        password=DEMO_PASSWORD,  # type: ignore[arg-type]
    )
    options = ExportOptions(concurrency=concurrency)
    cpu0, t0 = time.process_time(), time.perf_counter()
    report = run_push(feed, options, settings=settings, targets=RunTargets(feedback=out))
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    accepted = report.statuses.get("201", 0) + report.statuses.get("204", 0)
    return wall, cpu, accepted


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--concurrency", type=int, nargs="*", default=[4, 1])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    feed = out / f"push{args.rows}.csv"
    if not feed.exists():
        subprocess.run(
            [
                sys.executable,
                str(ROOT / "bench" / "gen_feed.py"),
                str(feed),
                "--rows",
                str(args.rows),
            ],
            check=True,
        )
    print(f"feed: {args.rows} rows, latency {args.latency * 1000:.0f} ms, {args.repeat} runs each")
    print("concurrency  products/s (median)  ideal  ratio  client CPU s/1000 products  accepted")
    for concurrency in args.concurrency:
        walls, cpus, accepted = [], [], 0
        for _ in range(args.repeat):
            proc, url = start_sandbox_process(args.latency)
            try:
                wall, cpu, accepted = push_once(feed, url, concurrency, out / "push.feedback.csv")
            finally:
                proc.terminate()
                proc.wait(10)
            walls.append(wall)
            cpus.append(cpu)
        wall = statistics.median(walls)
        pps = accepted / wall
        ideal = concurrency * 100 / args.latency
        cpu_per_k = statistics.median(cpus) / accepted * 1000
        print(
            f"{concurrency:>11}  {pps:>19,.0f}  {ideal:>5,.0f}  {pps / ideal:>5.0%}  "
            f"{cpu_per_k:>26.3f}  {accepted}"
        )


if __name__ == "__main__":
    main()
