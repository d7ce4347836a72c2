"""run_push end to end, offline: golden payloads and feedback for every sample feed.

The summary's golden text is rendered with a clock that ticks 0.1 s per reading, so its
timings are stable. Regenerate the golden files after an intended change with
``UPDATE_GOLDEN=1 python -m pytest tests/push/test_run.py``, and read the diff.
"""

from __future__ import annotations

import csv
import itertools
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import DEMO_CATALOG, GOLDEN, SAMPLE_FEEDS
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feed_export.catalog.structure import Catalog
from feed_export.config import ExportOptions
from feed_export.errors import ConfigError, FeedReadError
from feed_export.feed.reader import open_feed
from feed_export.push.run import RunTargets, run_push

UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog.from_file(DEMO_CATALOG)


def _feedback_rows(path: Path) -> list[list[str]]:
    """The feedback file as text rows, whatever its format."""
    with open_feed(path) as feed:
        return [list(feed.header)] + [list(row.cells) for row in feed.rows()]


def _compare(actual: str, golden: Path) -> None:
    if UPDATE:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(actual, encoding="utf-8")
    assert golden.exists(), f"missing golden file {golden}: run with UPDATE_GOLDEN=1"
    assert actual == golden.read_text(encoding="utf-8")


def _as_csv_text(rows: list[list[str]]) -> str:
    import io

    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue()


def ticking(step: float = 0.1) -> Callable[[], float]:
    """A clock that moves ``step`` seconds each time it is read: timings become stable."""
    ticks = itertools.count()
    return lambda: next(ticks) * step


@pytest.mark.parametrize("name", ["apparel.csv", "electronics.xlsx"])
def test_sample_feed_matches_golden_files(name: str, catalog: Catalog, tmp_path: Path) -> None:
    feed = SAMPLE_FEEDS / name
    stem = name.split(".")[0]
    feedback = tmp_path / f"{stem}.feedback{feed.suffix}"
    payload = tmp_path / f"{stem}.ndjson"
    report = run_push(
        feed,
        ExportOptions(dry_run=True),
        catalog=catalog,
        targets=RunTargets(feedback=feedback, payload_out=payload),
        clock=ticking(),
    )
    _compare(payload.read_text(encoding="utf-8"), GOLDEN / f"{stem}.payload.ndjson")
    rows = _feedback_rows(feedback)
    _compare(_as_csv_text(rows), GOLDEN / f"{stem}.feedback.csv")
    report.catalog_file = DEMO_CATALOG
    summary = report.to_text().replace(f"{tmp_path}/", "") + "\n"
    _compare(summary, GOLDEN / f"{stem}.summary.txt")
    # the invariant: one feedback row per data row, in feed order
    with open_feed(feed) as f:
        assert [r.cells[0] for r in f.rows()] == [r[0] for r in rows[1:]]
    assert report.rows == len(rows) - 1
    assert report.exit_code == 1  # the samples hold wrong rows on purpose


def test_header_problems_reject_every_row(catalog: Catalog, tmp_path: Path) -> None:
    feed = tmp_path / "bad.csv"
    feed.write_text(
        "sku,colour,price,name~xx_XX\nA,red,1 EUR,x\n,,,\nB,blue,2 EUR,y\n", encoding="utf-8"
    )
    report = run_push(feed, ExportOptions(dry_run=True), catalog=catalog)
    assert report.exit_code == 2
    assert len(report.header_problems) == 3
    rows = _feedback_rows(tmp_path / "bad.feedback.csv")
    assert [r[-2] for r in rows[1:]] == ["400", "", "400"]
    assert rows[1][-1].startswith("Not sent: feed rejected: ")
    assert "colour" in rows[1][-1] and "price" in rows[1][-1]


def test_header_only_feed_is_fine(catalog: Catalog, tmp_path: Path) -> None:
    feed = tmp_path / "empty.csv"
    feed.write_text("sku,name~en_US\n", encoding="utf-8")
    report = run_push(feed, ExportOptions(dry_run=True), catalog=catalog)
    assert report.rows == 0 and report.exit_code == 0
    assert _feedback_rows(tmp_path / "empty.feedback.csv") == [
        ["sku", "name~en_US", "akeneo_status_code", "akeneo_message"]
    ]


def test_empty_header_over_data_is_rejected_but_over_empty_column_ignored(
    catalog: Catalog, tmp_path: Path
) -> None:
    ok = tmp_path / "ok.csv"
    ok.write_text("sku,,name~en_US\nA,,x\n", encoding="utf-8")
    assert run_push(ok, ExportOptions(dry_run=True), catalog=catalog).exit_code == 0
    bad = tmp_path / "bad.csv"
    bad.write_text("sku,,name~en_US\nA,,x\nB,oops,y\n", encoding="utf-8")
    report = run_push(bad, ExportOptions(dry_run=True), catalog=catalog)
    assert report.exit_code == 2
    assert any("column 2" in p for p in report.header_problems)


def test_unreadable_feed_raises_before_any_output(catalog: Catalog, tmp_path: Path) -> None:
    feed = tmp_path / "latin.csv"
    feed.write_bytes("sku,name~en_US\nA,caf\xe9\n".encode("latin-1"))
    with pytest.raises(FeedReadError, match="encoding"):
        run_push(feed, ExportOptions(dry_run=True), catalog=catalog)
    assert not (tmp_path / "latin.feedback.csv").exists()
    report = run_push(feed, ExportOptions(dry_run=True, encoding="latin-1"), catalog=catalog)
    assert report.exit_code == 0


def test_output_may_not_be_the_feed(catalog: Catalog, tmp_path: Path) -> None:
    feed = tmp_path / "f.csv"
    feed.write_text("sku\nA\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="the feed itself"):
        run_push(
            feed, ExportOptions(dry_run=True), catalog=catalog, targets=RunTargets(feedback=feed)
        )
    assert feed.read_text(encoding="utf-8") == "sku\nA\n"


@pytest.mark.parametrize(
    ("feedback", "payload", "says"),
    [
        ("f.csv", None, "the feed itself"),
        ("./sub/../f.csv", None, "the feed itself"),
        ("link.csv", None, "the feed itself"),
        (None, "f.csv", "the feed itself"),
        ("out.csv", "out.csv", "is the feedback file too"),
        ("out.csv", "./out.csv", "is the feedback file too"),
        (None, "f.feedback.csv", "is the feedback file too"),
    ],
    ids=[
        "feedback-is-feed",
        "feedback-is-feed-spelled-otherwise",
        "feedback-is-a-link-to-the-feed",
        "payload-is-feed",
        "payload-is-feedback",
        "payload-is-feedback-spelled-otherwise",
        "payload-is-the-default-feedback",
    ],
)
def test_outputs_may_not_collide(
    catalog: Catalog, tmp_path: Path, feedback: str | None, payload: str | None, says: str
) -> None:
    feed = tmp_path / "f.csv"
    feed.write_text("sku\nA\n", encoding="utf-8")
    (tmp_path / "sub").mkdir()
    (tmp_path / "link.csv").symlink_to(feed)
    targets = RunTargets(
        feedback=tmp_path / feedback if feedback else None,
        payload_out=tmp_path / payload if payload else None,
    )
    with pytest.raises(ConfigError, match=says):
        run_push(feed, ExportOptions(dry_run=True), catalog=catalog, targets=targets)
    assert feed.read_text(encoding="utf-8") == "sku\nA\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.csv", "link.csv", "sub"]


@pytest.mark.parametrize(
    ("bad", "listed", "more"),
    [(1, 1, None), (3, 3, None), (4, 3, 1), (5000, 3, 4997)],
    ids=["one", "three", "four", "five-thousand"],
)
def test_a_rejected_feed_quotes_a_few_header_problems_per_row(
    catalog: Catalog, tmp_path: Path, bad: int, listed: int, more: int | None
) -> None:
    feed = tmp_path / "f.csv"
    header = ["sku", *(f"nope_{i}" for i in range(bad))]
    feed.write_text(",".join(header) + "\nA" + "," * bad + "\nB" + "," * bad + "\n")
    report = run_push(feed, ExportOptions(dry_run=True), catalog=catalog)
    assert report.exit_code == 2 and len(report.header_problems) == bad  # the summary: all
    rows = _feedback_rows(tmp_path / "f.feedback.csv")[1:]
    messages = {r[-1] for r in rows}
    assert len(messages) == 1 and [r[-2] for r in rows] == ["400", "400"]
    message = messages.pop()
    assert message.startswith("Not sent: feed rejected: " + report.header_problems[0])
    assert sum(f"nope_{i}" in message for i in range(bad)) == listed
    if more is None:
        assert "more" not in message
    else:
        assert message.endswith(f"; ... and {more} more (see the summary or stderr)")
    assert len(message) < 1000


def test_dry_run_needs_a_catalog(tmp_path: Path) -> None:
    feed = tmp_path / "f.csv"
    feed.write_text("sku\nA\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="catalog"):
        run_push(feed, ExportOptions(dry_run=True))


CELLS = st.sampled_from(
    ["", " ", "x", "12", "12.5", "true", "maybe", "19.99 EUR", "3 kg", "2024-01-01", "red"]
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.tuples(st.sampled_from(["A", "B", "", "C"]), CELLS, CELLS, CELLS), max_size=30))
def test_one_feedback_row_per_data_row(
    catalog: Catalog, tmp_path_factory: pytest.TempPathFactory, rows: list[tuple[str, ...]]
) -> None:
    tmp = tmp_path_factory.mktemp("prop")
    feed = tmp / "f.csv"
    with feed.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["sku", "stock_quantity", "price@currency", "weight@unit"])
        w.writerows(rows)
    report = run_push(feed, ExportOptions(dry_run=True), catalog=catalog)
    out = _feedback_rows(tmp / "f.feedback.csv")[1:]
    assert len(out) == len(rows) == report.rows
    assert [r[0] for r in out] == [r[0] for r in rows]
    for cells in out:
        assert cells[-1]  # every row says something
