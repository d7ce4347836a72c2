"""The phases a run goes through, and the rows it counts for a progress bar's total."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from conftest import DEMO_CATALOG, SAMPLE_FEEDS

from feed_export.akeneo.responses import LineResult
from feed_export.catalog.structure import Catalog
from feed_export.config import ExportOptions
from feed_export.feed.source import FeedSource
from feed_export.push.interrupt import Interrupt
from feed_export.push.progress import Phases, RunProgress
from feed_export.push.run import RunTargets, run_push
from feed_export.push.tracking import Tracking


class Recorder:
    """A RunProgress that writes down what it is told."""

    def __init__(self) -> None:
        self.phases: list[tuple[str, int | None]] = []
        self.rows_seen: list[int] = []
        self.answered: list[int] = []
        self.on_rows: Any = None

    def phase(self, name: str, total: int | None = None) -> None:
        self.phases.append((name, total))

    def rows(self, done: int) -> None:
        self.rows_seen.append(done)
        if self.on_rows is not None:
            self.on_rows(done)

    def __call__(self, done: int) -> None:
        self.answered.append(done)


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog.from_file(DEMO_CATALOG)


def test_a_recorder_is_a_run_progress_and_a_function_is_not() -> None:
    assert isinstance(Recorder(), RunProgress)
    assert not Phases(lambda done: None).wanted and Phases(Recorder()).wanted


def test_a_dry_run_counts_its_rows_then_checks_them(catalog: Catalog, tmp_path: Path) -> None:
    progress = Recorder()
    report = run_push(
        SAMPLE_FEEDS / "apparel.csv",
        ExportOptions(dry_run=True),
        catalog=catalog,
        targets=RunTargets(feedback=tmp_path / "fb.csv"),
        progress=progress,
    )
    assert progress.phases == [
        ("checking the feed", None),
        ("checking rows", 12),
        ("writing feedback", None),
    ]
    assert progress.rows_seen[-1] == report.rows == 12


def test_a_rejected_feed_is_written_out(catalog: Catalog, tmp_path: Path) -> None:
    rows = [[f"A{n}", "red"] for n in range(200)]
    source = FeedSource.from_rows(["sku", "colour"], rows)
    progress = Recorder()
    run_push(
        source,
        ExportOptions(dry_run=True),
        catalog=catalog,
        targets=RunTargets(feedback=tmp_path / "fb.csv"),
        progress=progress,
    )
    assert progress.phases == [("checking the feed", None), ("writing feedback", 200)]
    assert progress.rows_seen[-1] == 200 and progress.rows_seen == sorted(progress.rows_seen)


class AcceptingPim:
    """Takes every line (201); what a live push needs of a client."""

    base_url = "https://pim.example.com"

    def __init__(self) -> None:
        self.stats = SimpleNamespace(requests_sent=0, retries=0)

    def patch_collection(
        self, entity: str, lines: Sequence[bytes], *, create_missing_options: bool = False
    ) -> list[LineResult]:
        self.stats.requests_sent += 1
        return [LineResult(201, "")] * len(lines)


def test_a_push_sends_with_a_total_and_says_when_it_stopped(
    catalog: Catalog, tmp_path: Path
) -> None:
    feed = tmp_path / "f.csv"
    feed.write_text("sku,name~en_US\n" + "".join(f"K{n},x\n" for n in range(500)))
    interrupt = Interrupt(drain_timeout=5)
    progress = Recorder()
    progress.on_rows = lambda done: interrupt.request() if done >= 100 else None
    report = run_push(
        feed,
        ExportOptions(batch_size=10, concurrency=1),
        catalog=catalog,
        client=AcceptingPim(),  # type: ignore[arg-type]
        tracking=Tracking(target="fake"),
        interrupt=interrupt,
        progress=progress,
    )
    assert report.aborted == "interrupted"
    names = [name for name, _ in progress.phases]
    assert names[:2] == ["checking the feed", "sending"] and progress.phases[1][1] == 500
    # what follows the interrupt is written out, not sent: the bar says so
    assert "run stopped: writing feedback" in names
    assert progress.answered and progress.answered[-1] < 500
