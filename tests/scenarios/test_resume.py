"""--resume and interrupts: a push killed at any point (SIGKILL included), or stopped with
Ctrl-C, resumes to the PIM state and feedback of an uninterrupted push, and does not send
again what the PIM had answered.

The crash tests run the CLI as a subprocess against a sandbox in this process. The
sandbox's latency hook is a gate: closing it holds requests inside the PIM, so a kill
lands with requests in flight, and opening it afterwards lets the PIM apply them anyway
(the worst case: applied, never answered). Waiting for the subprocess polls its journal,
which is the only way to watch another process; nothing here sleeps to pass time.
"""

from __future__ import annotations

import csv
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import DEMO_CATALOG, ROOT, run_cli, settings_of

from feed_export.catalog.structure import Catalog
from feed_export.config import ExportOptions
from feed_export.errors import ConfigError
from feed_export.feed.reader import open_feed
from feed_export.push.interrupt import Interrupt
from feed_export.push.journal import Journal, journal_path
from feed_export.push.run import RunTargets, run_push
from feed_export.push.tracking import Tracking
from feed_export.report.model import INTERRUPTED_NOT_SENT, INTERRUPTED_UNKNOWN
from feed_export.sandbox import Faults, Sandbox, start_sandbox

GUARD = 30.0  # seconds: only reached when something hangs
ROWS = 1200
FLAGS = ["--batch-size", "20", "--concurrency", "3", "-q"]
OPTIONS = ExportOptions(batch_size=20, concurrency=3)


# --- feeds, sandboxes and what a PIM holds ---------------------------------------------


def make_feed(path: Path, version: int = 0) -> Path:
    """1,200 rows over 1,000 products: repeats, PIM rejections, line errors, blank rows."""
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["sku", "name~en_US", "stock_quantity", "brand"])
        for i in range(ROWS):
            if i % 200 == 199:
                w.writerow(["", "", "", ""])
                continue
            stock = str(i + (1000 if version and i % 7 == 0 else 0))
            if i % 151 == 150:
                stock = "many"  # a line error: not sent
            brand = "tommh" if i % 97 == 96 else "acme"  # the PIM refuses this option
            w.writerow([f"P{i % 1000:04d}", f"Product {i}", stock, brand])
    return path


class Gate:
    """The sandbox's latency hook: short real latency, or held while the gate is closed."""

    def __init__(self, latency: float) -> None:
        self.latency = latency
        self.closed = threading.Event()
        self.opened = threading.Event()
        self._lock = threading.Lock()
        self.held = 0

    def sleep(self, seconds: float) -> None:
        if self.closed.is_set() and not self.opened.is_set():
            with self._lock:
                self.held += 1
            self.opened.wait(GUARD)
        else:
            time.sleep(self.latency)


@pytest.fixture
def sandbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Sandbox, Gate]]:
    gate = Gate(latency=0.004)
    with start_sandbox(faults=Faults(latency=0.001)) as sb:
        sb.sleep = gate.sleep
        for name, value in env(sb).items():
            monkeypatch.setenv(name, value)
        yield sb, gate
        gate.opened.set()


def env(sb: Sandbox) -> dict[str, str]:
    return {
        "AKENEO_BASE_URL": sb.url,
        "AKENEO_CLIENT_ID": sb.client_id,
        "AKENEO_CLIENT_SECRET": sb.client_secret,
        "AKENEO_USERNAME": sb.username,
        "AKENEO_PASSWORD": sb.password,
    }


def products(sb: Sandbox) -> dict[str, Any]:
    """Every product, without what differs between two PIMs holding the same data."""
    out = {}
    for p in sb.state.products():
        shown = {k: v for k, v in p.items() if k not in {"uuid", "created", "updated"}}
        shown["values"] = {
            code: sorted(entries, key=lambda e: (str(e["locale"]), str(e["scope"])))
            for code, entries in sorted(p["values"].items())
        }
        out[str(p["identifier"]).casefold()] = shown
    return out


def reference(tmp_path: Path, versions: list[int]) -> dict[str, Any]:
    """What uninterrupted pushes of these feed versions leave in a fresh PIM."""
    folder = tmp_path / "reference"
    folder.mkdir(exist_ok=True)
    with start_sandbox() as sb:
        for version in versions:
            feed = make_feed(folder / "f.csv", version)
            run_push(feed, OPTIONS, settings=settings_of(sb), tracking=Tracking(journal=False))
        return products(sb)


def bodies(tmp_path: Path, feed: Path) -> dict[int, bytes]:
    """Row number -> the line a push sends for it (from a dry run), for rows that are sent."""
    out = tmp_path / "dry"
    out.mkdir(exist_ok=True)
    run_push(
        feed,
        ExportOptions(dry_run=True),
        catalog=Catalog.from_file(DEMO_CATALOG),
        targets=RunTargets(feedback=out / "fb.csv", payload_out=out / "lines.ndjson"),
    )
    lines = iter((out / "lines.ndjson").read_bytes().splitlines())
    with open_feed(out / "fb.csv") as fb:
        return {r.number: next(lines) for r in fb.rows() if r.cells[-1] == "Valid (dry run)"}


def feedback(path: Path) -> list[tuple[list[str], str, str]]:
    with open_feed(path) as fb:
        return [(list(r.cells[:-2]), r.cells[-2], r.cells[-1]) for r in fb.rows()]


def journaled(feed: Path) -> dict[int, int]:
    """Row -> status, as the journal of ``feed`` holds them now."""
    path = journal_path(feed)
    if not path.exists():
        return {}
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return dict(db.execute("SELECT row, status FROM outcomes").fetchall())
    except sqlite3.OperationalError:  # the table is not there yet
        return {}
    finally:
        db.close()


def wait_for(condition: Callable[[], bool], proc: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + GUARD
    while not condition():
        if proc is not None and proc.poll() is not None:
            return
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.002)


def start_cli(sb: Sandbox, feed: Path, *flags: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "feed_export", "push", str(feed), *FLAGS, *flags],
        cwd=feed.parent,
        env={**os.environ, **env(sb), "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def check_resumed(
    tmp_path: Path,
    sb: Sandbox,
    feed: Path,
    answered: dict[int, int],
    expected: dict[str, Any],
    *flags: str,
) -> None:
    """Resume; then: complete feedback, nothing answered sent again, the PIM as expected."""
    before = sb.stats.patch_lines
    sent = tmp_path / "resumed.ndjson"
    result = run_cli(["push", str(feed), *FLAGS, "--resume", "--payload-out", str(sent), *flags])
    assert result.code == 1, result.err  # the feed holds rejected rows on purpose
    # the feedback: one row per data row, in feed order, every row answered
    rows = feedback(feed.with_suffix(".feedback.csv"))
    with open_feed(feed) as f:
        assert [cells for cells, _, _ in rows] == [list(r.cells) for r in f.rows()]
    assert not [r for r in rows if r[1] == "0"]
    for number, status in answered.items():
        assert rows[number - 2][1] == str(status), number
    # nothing the interrupted run had answered went again; the rest went, in feed order
    lines = sent.read_bytes().splitlines()
    assert sb.stats.patch_lines - before == len(lines)
    rest = [body for number, body in bodies(tmp_path, feed).items() if number not in answered]
    if "--only-changed" in flags:
        it = iter(rest)
        assert all(line in it for line in lines)  # a subsequence: some are unchanged
    else:
        assert lines == rest
    assert products(sb) == expected
    assert not journal_path(feed).exists()  # the run ended


# --- crashes -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seed", "mode"),
    [(1, "all"), (2, "all"), (3, "all"), (4, "only-changed"), (5, "only-changed")],
    ids=["seed1", "seed2", "seed3", "only-changed-seed4", "only-changed-seed5"],
)
def test_sigkill_at_a_random_point_then_resume(
    sandbox: tuple[Sandbox, Gate], tmp_path: Path, seed: int, mode: str
) -> None:
    sb, gate = sandbox
    rng = random.Random(seed)
    flags = ["--only-changed"] if mode == "only-changed" else []
    feed = tmp_path / "f.csv"
    versions = [0]
    if mode == "only-changed":  # a baseline, then a feed where every 7th row changed
        make_feed(feed, 0)
        assert run_cli(["push", str(feed), *FLAGS, *flags]).code == 1
        versions.append(1)
    make_feed(feed, versions[-1])

    target = rng.randrange(0, ROWS - 300)  # answered rows before the kill
    proc = start_cli(sb, feed, *flags)
    try:
        wait_for(lambda: len(journaled(feed)) >= target, proc)
        gate.closed.set()  # hold the next requests inside the PIM
        held = gate.held
        wait_for(lambda: gate.held > held, proc)
        proc.kill()
        proc.wait(GUARD)
    finally:
        proc.kill()
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read() if proc.stderr else ""
    answered = journaled(feed)
    gate.opened.set()  # the PIM applies what was in flight, answering no one
    wait_for(lambda: sb.stats.in_flight == 0)
    check_resumed(tmp_path, sb, feed, answered, reference(tmp_path, versions), *flags)


def test_sigkill_then_a_fresh_only_changed_push(
    sandbox: tuple[Sandbox, Gate], tmp_path: Path
) -> None:
    """Not resumed: what was in flight at the kill is not trusted as accepted."""
    sb, gate = sandbox
    feed = make_feed(tmp_path / "f.csv", 0)
    assert run_cli(["push", str(feed), *FLAGS, "--only-changed"]).code == 1
    make_feed(feed, 1)
    proc = start_cli(sb, feed, "--only-changed")
    try:
        wait_for(lambda: len(journaled(feed)) >= 400, proc)
        gate.closed.set()
        wait_for(lambda: gate.held >= 3, proc)  # three batches held inside the PIM
        proc.kill()
        proc.wait(GUARD)
    finally:
        proc.kill()
    gate.opened.set()  # applied, never answered
    wait_for(lambda: sb.stats.in_flight == 0)
    make_feed(feed, 0)  # back to the baseline: the PIM must end as a full push leaves it
    result = run_cli(["push", str(feed), *FLAGS, "--only-changed"])
    assert result.code == 1 and "is discarded" in result.err
    assert products(sb) == reference(tmp_path, [0])


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["sigint", "sigterm"])
def test_interrupt_drains_then_resume(
    sandbox: tuple[Sandbox, Gate], tmp_path: Path, sig: signal.Signals
) -> None:
    sb, _ = sandbox
    feed = make_feed(tmp_path / "f.csv")
    proc = start_cli(sb, feed)
    wait_for(lambda: len(journaled(feed)) >= 200, proc)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=GUARD)
    assert proc.returncode == 3, err
    assert b"interrupted: sending nothing more" in err
    rows = feedback(feed.with_suffix(".feedback.csv"))
    assert len(rows) == ROWS
    statuses = {status for _, status, _ in rows}
    assert statuses <= {"201", "204", "422", "", "0"}
    unsent = [i for i, (_, status, _) in enumerate(rows) if status == "0"]
    assert unsent, "the run ended before the signal"
    # requests in flight were waited for: every unanswered row was never sent
    assert {rows[i][2] for i in unsent} == {INTERRUPTED_NOT_SENT}
    answered = journaled(feed)
    assert not set(answered) & {i + 2 for i in unsent}
    check_resumed(tmp_path, sb, feed, answered, reference(tmp_path, [0]))


def test_drain_timeout_leaves_unanswered_requests_behind(
    sandbox: tuple[Sandbox, Gate], tmp_path: Path
) -> None:
    sb, gate = sandbox
    feed = make_feed(tmp_path / "f.csv")
    interrupt = Interrupt(drain_timeout=0.2)
    stopped: list[float] = []

    def stop_when_held() -> None:
        wait_for(lambda: gate.held >= 1)
        stopped.append(time.monotonic())
        interrupt.request()

    def progress(done: int) -> None:
        if done >= 300 and not gate.closed.is_set():
            gate.closed.set()
            threading.Thread(target=stop_when_held, daemon=True).start()

    report = run_push(
        feed, OPTIONS, settings=settings_of(sb), interrupt=interrupt, progress=progress
    )
    ended = time.monotonic()
    assert report.aborted == "interrupted" and report.exit_code == 3
    assert ended - stopped[0] < 5  # the drain did not wait for the held requests
    rows = feedback(feed.with_suffix(".feedback.csv"))
    unknown = [i + 2 for i, r in enumerate(rows) if r[2] == INTERRUPTED_UNKNOWN]
    assert unknown and all(rows[n - 2][1] == "0" for n in unknown)
    answered = journaled(feed)
    assert not set(answered) & set(unknown)
    gate.opened.set()
    wait_for(lambda: sb.stats.in_flight == 0)
    check_resumed(tmp_path, sb, feed, answered, reference(tmp_path, [0]))


# --- a crash in this process, at an exact batch ------------------------------------------


class Crash(BaseException):
    """Stands for a kill: not an Exception, so nothing on the way handles it."""


def crash_after(batches: int) -> Callable[[int], None]:
    def progress(done: int) -> None:
        if done >= batches * 20:
            raise Crash(f"killed after {done} rows")

    return progress


def test_crash_then_resume_in_process(sandbox: tuple[Sandbox, Gate], tmp_path: Path) -> None:
    sb, _ = sandbox
    feed = make_feed(tmp_path / "f.csv")
    with pytest.raises(Crash, match=r"killed after \d+ rows"):
        run_push(feed, OPTIONS, settings=settings_of(sb), progress=crash_after(10))
    answered = journaled(feed)
    assert len(answered) >= 200
    check_resumed(tmp_path, sb, feed, answered, reference(tmp_path, [0]))


def test_resume_twice(sandbox: tuple[Sandbox, Gate], tmp_path: Path) -> None:
    """A resumed push that is killed again resumes from both runs' answers."""
    sb, _ = sandbox
    feed = make_feed(tmp_path / "f.csv")
    with pytest.raises(Crash, match=r"killed after \d+ rows"):
        run_push(feed, OPTIONS, settings=settings_of(sb), progress=crash_after(8))
    first = journaled(feed)
    with pytest.raises(Crash, match=r"killed after \d+ rows"):
        run_push(
            feed,
            OPTIONS,
            settings=settings_of(sb),
            tracking=Tracking(resume=True),
            progress=crash_after(8),
        )
    answered = journaled(feed)
    assert set(first) < set(answered)
    check_resumed(tmp_path, sb, feed, answered, reference(tmp_path, [0]))


def test_unchanged_rows_stay_unchanged_on_resume(
    sandbox: tuple[Sandbox, Gate], tmp_path: Path
) -> None:
    sb, _ = sandbox
    feed = make_feed(tmp_path / "f.csv")
    tracking = Tracking(mode="only-changed")
    run_push(feed, OPTIONS, settings=settings_of(sb), tracking=tracking)
    make_feed(feed, 1)
    with pytest.raises(Crash, match=r"killed after \d+ rows"):
        run_push(
            feed, OPTIONS, settings=settings_of(sb), tracking=tracking, progress=crash_after(3)
        )
    answered = journaled(feed)
    assert 304 in answered.values()
    check_resumed(tmp_path, sb, feed, answered, reference(tmp_path, [0, 1]), "--only-changed")
    rows = feedback(feed.with_suffix(".feedback.csv"))
    assert all(
        rows[n - 2][2].startswith("Unchanged since") for n, s in answered.items() if s == 304
    )


# --- what a resume refuses, and when there is nothing to resume ------------------------


def interrupted_push(sb: Sandbox, feed: Path) -> None:
    with pytest.raises(Crash, match=r"killed after \d+ rows"):
        run_push(feed, OPTIONS, settings=settings_of(sb), progress=crash_after(2))


@pytest.mark.parametrize(
    ("change", "flags", "message"),
    [
        ("append", [], "the feed changed since the interrupted run ("),
        ("same-size", [], "same size, other content"),
        (None, ["--empty-cells", "erase"], "--empty-cells was 'skip' in the interrupted run"),
        (None, ["--entity", "product-models"], "--entity was 'products'"),
    ],
    ids=["feed-grew", "feed-edited", "option", "entity"],
)
def test_resume_refused(
    sandbox: tuple[Sandbox, Gate],
    tmp_path: Path,
    change: str | None,
    flags: list[str],
    message: str,
) -> None:
    sb, _ = sandbox
    feed = make_feed(tmp_path / "f.csv")
    interrupted_push(sb, feed)
    if change == "append":
        with feed.open("a", encoding="utf-8") as fh:
            fh.write("NEW,x,1,acme\r\n")
    elif change == "same-size":
        feed.write_bytes(feed.read_bytes().replace(b"Product 5,", b"Product 9,"))
    before = sb.stats.patch_lines
    result = run_cli(["push", str(feed), *FLAGS, "--resume", *flags])
    assert result.code == 2
    assert "cannot resume the push of" in result.err and message in result.err
    assert "push without --resume to start over" in result.err
    assert sb.stats.patch_lines == before
    assert journal_path(feed).exists()  # kept: the right command may still resume it


def test_resume_refused_for_another_pim(sandbox: tuple[Sandbox, Gate], tmp_path: Path) -> None:
    sb, _ = sandbox
    feed = make_feed(tmp_path / "f.csv")
    interrupted_push(sb, feed)
    with pytest.raises(ConfigError, match="this one to other-pim"):
        run_push(
            feed,
            OPTIONS,
            settings=settings_of(sb),
            tracking=Tracking(resume=True, target="other-pim"),
        )


def test_resume_without_an_interrupted_push_pushes_it_all(
    sandbox: tuple[Sandbox, Gate], tmp_path: Path
) -> None:
    sb, _ = sandbox
    feed = make_feed(tmp_path / "f.csv")
    result = run_cli(["push", str(feed), *FLAGS, "--resume"])
    assert result.code == 1
    assert "no interrupted push of" in result.err and "to resume: sending it all" in result.err
    assert sb.stats.patch_lines == len(bodies(tmp_path, feed))
    assert not (tmp_path / ".feed_export").exists()


def test_a_new_push_discards_the_interrupted_one(
    sandbox: tuple[Sandbox, Gate], tmp_path: Path
) -> None:
    sb, _ = sandbox
    feed = make_feed(tmp_path / "f.csv")
    interrupted_push(sb, feed)
    before = sb.stats.patch_lines
    result = run_cli(["push", str(feed), *FLAGS])
    assert result.code == 1
    assert "is discarded; pass --resume to continue such a push" in result.err
    assert sb.stats.patch_lines - before == len(bodies(tmp_path, feed))
    assert not journal_path(feed).exists()


def test_a_push_running_elsewhere_holds_the_journal(
    sandbox: tuple[Sandbox, Gate], tmp_path: Path
) -> None:
    feed = make_feed(tmp_path / "f.csv")
    other = Journal.open(journal_path(feed))  # as if another process pushed this feed
    try:
        result = run_cli(["push", str(feed), *FLAGS])
        assert result.code == 1
        assert "another run of this feed is in progress" in result.err
        assert "this push cannot be resumed" in result.err
        result = run_cli(["push", str(feed), *FLAGS, "--resume"])
        assert result.code == 2 and "another run of this feed is in progress" in result.err
    finally:
        other.close()


def test_an_interrupt_after_the_last_answer_changes_nothing(
    sandbox: tuple[Sandbox, Gate], tmp_path: Path
) -> None:
    sb, _ = sandbox
    feed = make_feed(tmp_path / "f.csv")
    interrupt = Interrupt()
    sendable = len(bodies(tmp_path, feed))

    def progress(done: int) -> None:
        if done == sendable:
            interrupt.request()

    report = run_push(
        feed, OPTIONS, settings=settings_of(sb), interrupt=interrupt, progress=progress
    )
    assert interrupt.requested
    assert report.aborted is None and report.exit_code == 1  # the feed's rejected rows
    assert not journal_path(feed).exists()


def test_an_aborted_push_says_how_to_go_on(sandbox: tuple[Sandbox, Gate], tmp_path: Path) -> None:
    sb, _ = sandbox
    feed = make_feed(tmp_path / "f.csv")
    interrupt = Interrupt()

    def progress(done: int) -> None:
        if done >= 100:
            interrupt.request()

    report = run_push(
        feed, OPTIONS, settings=settings_of(sb), interrupt=interrupt, progress=progress
    )
    assert report.aborted == "interrupted" and report.resumable
    assert "the same command with --resume sends the rows not answered" in report.to_text()
    assert report.to_json()["resumable"] is True
