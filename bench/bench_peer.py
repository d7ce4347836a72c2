"""Benchmark against a peer client: feed_export and pyakeneo push the same products.

    pip install pyakeneo          # bench only: not a dependency of feed_export
    python bench/bench_peer.py [--rows 20000] [--latency 0.2] [--concurrency 4] [--repeat 3]
                               [--peer pyakeneo|requests] [--no-sequential]

One sandbox per run, each in its own process (``feed-export sandbox --latency``), so the
client CPU measured here (``time.process_time`` of this process, every thread included) is
the client's alone. The products are the lines feed_export sends for the feed
(``--payload-out`` of a dry run against the demo catalog, which the sandbox serves):

- feed_export: ``run_push`` from the CSV feed, ``--concurrency`` batches in flight, and
  the same sequentially (one request at a time, as the peer sends);
- pyakeneo (PyPI): ``client.products.update_create_list(items)``, its collection PATCH
  ("patch list"), in batches of 100 one after the other, as its users call it, with the
  NDJSON lines loaded as dicts beforehand (it serialises them itself);
- ``--peer requests`` (also the fallback when pyakeneo cannot be imported): what a thin
  client does with ``requests``: a password grant, then a sequential PATCH of 100 of the
  same NDJSON lines at a time, each answer split into lines and parsed.

Runs are interleaved (feed_export, feed_export sequential, peer; then again) so a drift of
the machine hits every contender alike; the table shows medians. feed_export's time and
CPU cover the whole job (read the CSV, convert every cell, fetch the catalog, write the
feedback file); the peer's cover only sending lines that are already built. The PATCH
round trip column is the median time of one 100-line PATCH as the client saw it: what the
sandbox adds to its fixed latency shows there.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import orjson  # noqa: E402
import requests  # noqa: E402
from bench_push import start_sandbox_process  # noqa: E402

from feed_export.akeneo import client as client_module  # noqa: E402
from feed_export.catalog.structure import Catalog  # noqa: E402
from feed_export.config import ExportOptions, Settings  # noqa: E402
from feed_export.push.run import RunTargets, run_push  # noqa: E402
from feed_export.sandbox import (  # noqa: E402
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_PASSWORD,
    DEMO_USERNAME,
)

BATCH = 100
DEMO_CATALOG = ROOT / "feed_export" / "data" / "demo_catalog.json"


@dataclass
class Sample:
    wall: float
    cpu: float
    accepted: int
    round_trips: list[float] = field(default_factory=list)


@dataclass
class Contender:
    label: str
    in_flight: int  # requests at once: the ideal is in_flight x 100 / latency
    run: Callable[[str], Sample]
    samples: list[Sample] = field(default_factory=list)


# --- feed_export ------------------------------------------------------------------------


def _timed_patches() -> tuple[list[float], Callable[[], None]]:
    """Record the duration of every collection PATCH feed_export makes (undo with the callable)."""
    durations: list[float] = []
    lock = threading.Lock()
    original = client_module.AkeneoClient.patch_collection

    def timed(self: Any, *args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return original(self, *args, **kwargs)
        finally:
            with lock:
                durations.append(time.perf_counter() - started)

    client_module.AkeneoClient.patch_collection = timed  # type: ignore[method-assign]

    def undo() -> None:
        client_module.AkeneoClient.patch_collection = original  # type: ignore[method-assign]

    return durations, undo


def feed_export_push(feed: Path, out: Path, concurrency: int) -> Callable[[str], Sample]:
    def run(url: str) -> Sample:
        settings = Settings(
            base_url=url,
            client_id=DEMO_CLIENT_ID,
            client_secret=DEMO_CLIENT_SECRET,  # type: ignore[arg-type]
            username=DEMO_USERNAME,
            password=DEMO_PASSWORD,  # type: ignore[arg-type]
        )
        durations, undo = _timed_patches()
        try:
            cpu0, t0 = time.process_time(), time.perf_counter()
            report = run_push(
                feed,
                ExportOptions(concurrency=concurrency, batch_size=BATCH),
                settings=settings,
                targets=RunTargets(feedback=out),
            )
            wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        finally:
            undo()
        accepted = report.statuses.get("201", 0) + report.statuses.get("204", 0)
        return Sample(wall, cpu, accepted, durations)

    return run


def write_payload(feed: Path, payload: Path) -> tuple[int, float]:
    """The lines feed_export sends for ``feed`` (a dry run against the demo catalog).

    Returns the number of lines and the CPU seconds of that dry run: reading, converting
    and writing the feedback and the payload, without any network.
    """
    cpu0 = time.process_time()
    report = run_push(
        feed,
        ExportOptions(dry_run=True),
        catalog=Catalog.from_file(DEMO_CATALOG),
        targets=RunTargets(feedback=payload.with_suffix(".feedback.csv"), payload_out=payload),
    )
    cpu = time.process_time() - cpu0
    if report.failed:
        raise SystemExit(f"{feed}: {report.failed} rows are not valid; use a clean feed")
    return sum(1 for _ in payload.open("rb")), cpu


# --- the peers ----------------------------------------------------------------------------


def pyakeneo_push(items: Sequence[dict[str, Any]]) -> Callable[[str], Sample]:
    from pyakeneo.client import Client

    def run(url: str) -> Sample:
        durations: list[float] = []
        accepted = 0
        cpu0, t0 = time.process_time(), time.perf_counter()
        client = Client(
            url,
            client_id=DEMO_CLIENT_ID,
            secret=DEMO_CLIENT_SECRET,
            username=DEMO_USERNAME,
            password=DEMO_PASSWORD,
        )
        for start in range(0, len(items), BATCH):
            began = time.perf_counter()
            statuses = client.products.update_create_list(list(items[start : start + BATCH]))
            durations.append(time.perf_counter() - began)
            accepted += sum(1 for s in statuses if s.get("status_code") in (201, 204))
        wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        return Sample(wall, cpu, accepted, durations)

    return run


def requests_push(lines: Sequence[bytes]) -> Callable[[str], Sample]:
    """A thin client on ``requests``: token, then one 100-line PATCH after the other."""

    def run(url: str) -> Sample:
        durations: list[float] = []
        accepted = 0
        cpu0, t0 = time.process_time(), time.perf_counter()
        with requests.Session() as session:
            token = session.post(
                f"{url}/api/oauth/v1/token",
                json={
                    "grant_type": "password",
                    "username": DEMO_USERNAME,
                    "password": DEMO_PASSWORD,
                },
                auth=(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET),
                timeout=60,
            )
            token.raise_for_status()
            session.headers["Authorization"] = "Bearer " + token.json()["access_token"]
            session.headers["Content-Type"] = "application/vnd.akeneo.collection+json"
            for start in range(0, len(lines), BATCH):
                began = time.perf_counter()
                answer = session.patch(
                    f"{url}/api/rest/v1/products",
                    data=b"\n".join(lines[start : start + BATCH]),
                    timeout=60,
                )
                answer.raise_for_status()
                durations.append(time.perf_counter() - began)
                for raw in answer.content.split(b"\n"):
                    if orjson.loads(raw).get("status_code") in (201, 204):
                        accepted += 1
        wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        return Sample(wall, cpu, accepted, durations)

    return run


def peer_contender(kind: str, payload: Path) -> Contender:
    lines = payload.read_bytes().splitlines()
    if kind == "pyakeneo":
        try:
            version = metadata.version("pyakeneo")
            run = pyakeneo_push([orjson.loads(line) for line in lines])
            return Contender(f"pyakeneo {version} (sequential)", 1, run)
        except (ImportError, metadata.PackageNotFoundError) as exc:
            print(f"pyakeneo unavailable ({exc}): `pip install pyakeneo`; using a requests loop")
    return Contender("requests loop (sequential)", 1, requests_push(lines))


# --- running and reporting ------------------------------------------------------------------


def ensure_feed(rows: int) -> Path:
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    feed = out / f"push{rows}.csv"
    if not feed.exists():
        generator = ROOT / "bench" / "gen_feed.py"
        command = [sys.executable, str(generator), str(feed), "--rows", str(rows)]
        subprocess.run(command, check=True)
    return feed


def run_in_fresh_sandbox(contender: Contender, latency: float) -> Sample:
    proc, url = start_sandbox_process(latency)
    try:
        return contender.run(url)
    finally:
        proc.terminate()
        proc.wait(10)


def report(
    contenders: Sequence[Contender], latency: float, lines: int, dry_cpu: list[float]
) -> None:
    head = (
        f"{'client':<32} {'products/s':>10} {'ideal':>6} {'of ideal':>8} {'wall s':>7} "
        f"{'CPU s':>6} {'CPU ms/1000':>11} {'PATCH ms':>8} {'accepted':>8}"
    )
    print(head)
    print("-" * len(head))
    medians: dict[str, tuple[float, float]] = {}
    for c in contenders:
        wall = statistics.median(s.wall for s in c.samples)
        cpu = statistics.median(s.cpu for s in c.samples)
        accepted = min(s.accepted for s in c.samples)
        trips = statistics.median(statistics.median(s.round_trips) for s in c.samples)
        rate = accepted / wall
        ideal = c.in_flight * BATCH / latency
        cpu_per_k = cpu / accepted * 1000 * 1000 if accepted else float("nan")
        medians[c.label] = (rate, cpu_per_k)
        print(
            f"{c.label:<32} {rate:>10,.0f} {ideal:>6,.0f} {rate / ideal:>8.0%} {wall:>7.2f} "
            f"{cpu:>6.2f} {cpu_per_k:>11.1f} {trips * 1000:>8.0f} {accepted:>8}"
        )
        if accepted != lines:
            print(f"  ! {c.label}: {accepted} of {lines} lines accepted")
    conversion = statistics.median(dry_cpu) / lines * 1000 * 1000
    print(
        f"feed_export dry run (read, convert, write; no network): {conversion:.1f} CPU ms/1000 "
        f"products, so its transport costs about "
        f"{medians[contenders[0].label][1] - conversion:.1f} CPU ms/1000 products"
    )
    peer = contenders[-1].label
    peer_rate, peer_cpu = medians[peer]
    for c in contenders[:-1]:
        rate, cpu = medians[c.label]
        print(
            f"{c.label} / {peer}: {rate / peer_rate:.2f}x products/s, "
            f"{cpu / peer_cpu:.2f}x client CPU per product"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--peer", choices=["pyakeneo", "requests"], default="pyakeneo")
    parser.add_argument(
        "--no-sequential", action="store_true", help="skip feed_export with concurrency 1"
    )
    args = parser.parse_args()

    feed = ensure_feed(args.rows)
    out = ROOT / "bench" / "out"
    payload = out / f"peer{args.rows}.ndjson"
    lines, cpu = write_payload(feed, payload)
    dry_cpu = [cpu]
    contenders = [
        Contender(
            f"feed_export (concurrency {args.concurrency})",
            args.concurrency,
            feed_export_push(feed, out / "peer.feedback.csv", args.concurrency),
        )
    ]
    if not args.no_sequential and args.concurrency != 1:
        contenders.append(
            Contender(
                "feed_export (concurrency 1)",
                1,
                feed_export_push(feed, out / "peer.feedback.csv", 1),
            )
        )
    contenders.append(peer_contender(args.peer, payload))

    print(
        f"feed: {feed.name}, {lines} products of {BATCH}-line batches, sandbox latency "
        f"{args.latency * 1000:.0f} ms, fresh sandbox process per run, median of {args.repeat}"
    )
    for n in range(args.repeat):
        if n:
            dry_cpu.append(write_payload(feed, payload)[1])
        for contender in contenders:
            sample = run_in_fresh_sandbox(contender, args.latency)
            contender.samples.append(sample)
            print(
                f"  run {n + 1}: {contender.label}: {sample.wall:.2f} s, CPU {sample.cpu:.2f} s, "
                f"{sample.accepted} accepted",
                flush=True,
            )
    report(contenders, args.latency, lines, dry_cpu)


if __name__ == "__main__":
    main()
