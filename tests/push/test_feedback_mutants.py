"""The feedback writer: cases that mutation testing found unguarded (bench/mutation.py feedback).

``OrderedFeedback`` (outcomes arrive in any order, rows are written in feed order) and the
``--rejected`` file had no test of their own; the others are boundaries and placements: a cell
exactly at XLSX's limit, a short row beside old feedback columns, a ``.gz`` name with dots in
it, which cell an XLSX note sits on.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from feed_export.errors import ConfigError
from feed_export.feed.headers import FEEDBACK_COLUMNS
from feed_export.feed.reader import FeedFormat, Row, open_feed
from feed_export.feed.writer import XLSX_MAX_CELL
from feed_export.push.decode import LineError
from feed_export.push.feedback import (
    REPORT_EVERY,
    OrderedFeedback,
    Outcome,
    default_feedback_path,
    open_feedback,
    open_rejected,
)


class Writer:
    def __init__(self) -> None:
        self.written: list[tuple[int, int | None, str, LineError | None]] = []

    def write(self, row: Row, outcome: Outcome, error: LineError | None = None) -> None:
        assert row.number == outcome.row
        self.written.append((row.number, outcome.status, outcome.message, error))


class Report:
    def __init__(self) -> None:
        self.rows = 0
        self.recorded: list[tuple[int | None, str, tuple[str, ...], int, tuple[int, ...]]] = []

    def record(
        self,
        status: int | None,
        message: str,
        problems: Sequence[str] = (),
        row: int = 0,
        columns: Sequence[int] = (),
    ) -> None:
        self.rows += 1
        self.recorded.append((status, message, tuple(problems), row, tuple(columns)))


def ordered(**options: Any) -> tuple[Any, Writer, Report]:
    writer, report = Writer(), Report()
    return OrderedFeedback(writer, report, **options), writer, report  # type: ignore[arg-type]


BAD_NAME = LineError(3, ("name: too long",), (1,))


def test_outcomes_in_any_order_are_written_in_feed_order() -> None:
    feedback, writer, report = ordered()
    for number in (2, 3, 4, 5):
        feedback.add(Row(number, (f"k{number}",)))
    assert (feedback.pending, feedback.unresolved()) == (4, [2, 3, 4, 5])
    feedback.resolve(Outcome(4, 201, ""))
    feedback.resolve(Outcome(3, 422, "Not sent: name: too long"), BAD_NAME)
    assert writer.written == []  # row 2 holds the others back
    assert (feedback.pending, feedback.unresolved()) == (4, [2, 5])
    feedback.resolve_many([Outcome(5, 204, ""), Outcome(2, 201, "")])
    assert writer.written == [
        (2, 201, "", None),
        (3, 422, "Not sent: name: too long", BAD_NAME),
        (4, 201, "", None),
        (5, 204, "", None),
    ]
    assert report.recorded == [
        (201, "", (), 2, ()),
        (422, "Not sent: name: too long", ("name: too long",), 3, (1,)),
        (201, "", (), 4, ()),
        (204, "", (), 5, ()),
    ]
    assert (feedback.pending, feedback.unresolved()) == (0, [])


def test_a_row_known_when_read_is_written_at_once_if_first() -> None:
    feedback, writer, report = ordered()
    feedback.add(Row(2, ("a",)), Outcome(2, None, "Skipped: empty row"))
    assert writer.written == [(2, None, "Skipped: empty row", None)]
    feedback.add(Row(3, ("b",)))
    feedback.add(Row(4, ("c",)), Outcome(4, 422, "Not sent: x"), LineError(4, ("x",), (-1,)))
    assert len(writer.written) == 1
    assert feedback.unresolved() == [3]
    feedback.resolve(Outcome(3, 201, ""))
    assert writer.written[1:] == [
        (3, 201, "", None),
        (4, 422, "Not sent: x", LineError(4, ("x",), (-1,))),
    ]
    assert report.recorded[-1] == (422, "Not sent: x", ("x",), 4, (-1,))


def test_rows_not_accepted_also_go_to_the_rejected_file() -> None:
    rejected = Writer()
    feedback, writer, _ = ordered(rejected=rejected)
    outcomes = [
        Outcome(2, 201, ""),
        Outcome(3, 422, "Validation failed"),
        Outcome(4, None, "Skipped: empty row"),
        Outcome(5, 0, "Not sent: run aborted (interrupted)"),
        Outcome(6, 204, ""),
    ]
    error = LineError(3, ("name: too long",), (1,))
    for outcome in outcomes:
        feedback.add(Row(outcome.row, ("k",)), outcome, error if outcome.row == 3 else None)
    assert [written[0] for written in writer.written] == [2, 3, 4, 5, 6]
    assert rejected.written == [
        (3, 422, "Validation failed", error),
        (5, 0, "Not sent: run aborted (interrupted)", None),
    ]


def test_on_rows_hears_the_count_now_and_then() -> None:
    heard: list[int] = []
    feedback, _, _ = ordered(on_rows=heard.append)
    for number in range(2, 2 + 3 * REPORT_EVERY + 5):
        feedback.add(Row(number, ("k",)), Outcome(number, 201, ""))
    assert heard == [REPORT_EVERY, 2 * REPORT_EVERY, 3 * REPORT_EVERY]


SECOND_OUTCOME = {
    "resolve": lambda feedback: feedback.resolve(Outcome(3, 422, "again")),
    "resolve_many": lambda feedback: feedback.resolve_many(
        [Outcome(2, 201, ""), Outcome(3, 422, "again")]
    ),
}


@pytest.mark.parametrize(
    "first_known_when_read", [False, True], ids=["resolved", "known-when-read"]
)
@pytest.mark.parametrize("second", list(SECOND_OUTCOME), ids=list(SECOND_OUTCOME))
def test_a_second_outcome_for_a_row_fails_loudly(first_known_when_read: bool, second: str) -> None:
    feedback, writer, _ = ordered()
    feedback.add(Row(2, ("a",)))
    feedback.add(Row(3, ("b",)), Outcome(3, 201, "") if first_known_when_read else None)
    feedback.resolve_many([] if first_known_when_read else [Outcome(3, 201, "")])
    with pytest.raises(AssertionError, match=r"^row 3 got two outcomes$"):
        SECOND_OUTCOME[second](feedback)
    assert writer.written == []


@pytest.mark.parametrize(
    ("feed", "expected"),
    [
        ("shop.v2.csv.gz", "shop.v2.feedback.csv.gz"),
        (".csv.gz", ".csv.feedback.gz"),
        ("x.XLSM", "x.feedback.xlsx"),
        ("x.GZ", "x.feedback.GZ"),
    ],
    ids=lambda v: v,
)
def test_default_feedback_path_of_odd_names(feed: str, expected: str) -> None:
    assert default_feedback_path(Path("in") / feed) == Path("in") / expected


@pytest.mark.parametrize(
    ("length", "written"),
    [
        (XLSX_MAX_CELL - 1, "x" * (XLSX_MAX_CELL - 1)),
        (XLSX_MAX_CELL, "x" * XLSX_MAX_CELL),
        (XLSX_MAX_CELL + 1, "x" * (XLSX_MAX_CELL - 1) + "…"),
    ],
    ids=["one-under", "at-the-limit", "one-over"],
)
def test_xlsx_message_at_the_cell_limit(tmp_path: Path, length: int, written: str) -> None:
    out = tmp_path / "f.xlsx"
    with open_feedback(out, FeedFormat(kind="xlsx", sheet="S"), ["sku"]) as writer:
        writer.write(Row(2, ("1",)), Outcome(2, 422, "x" * length))
    assert load_workbook(out)["S"]["C2"].value == written


@pytest.mark.parametrize(
    ("cells", "expected"),
    [
        ((), ("", "", "201", "ok")),
        (("1",), ("1", "", "201", "ok")),
        (("1", "old"), ("1", "", "201", "ok")),
        (("1", "old", "n"), ("1", "n", "201", "ok")),
        (("1", "old", "n", "extra"), ("1", "n", "201", "ok", "extra")),
    ],
    ids=["empty", "short", "short-at-old-column", "full", "extra-cell"],
)
def test_rows_beside_old_feedback_columns(
    tmp_path: Path, cells: tuple[str, ...], expected: tuple[str, ...]
) -> None:
    out = tmp_path / "f.csv"
    header = ["sku", "akeneo_status_code", "name"]
    with open_feedback(out, FeedFormat(kind="csv"), header) as writer:
        assert writer.path == out
        writer.write(Row(2, cells), Outcome(2, 201, "ok"))
    with open_feed(out) as feed:
        assert feed.header == ("sku", "name", *FEEDBACK_COLUMNS)
        assert [row.cells for row in feed.rows()] == [expected]


def test_an_unwritable_target_names_the_option(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(
        ConfigError,
        match=r"cannot create the feedback file: .*; choose another path with --feedback$",
    ):
        open_feedback(blocker / "out.csv", FeedFormat(kind="csv"), ["sku"])


def test_xlsx_notes_sit_on_the_bad_cells(tmp_path: Path) -> None:
    out = tmp_path / "f.xlsx"
    header = ["sku", "akeneo_status_code", "name", "color"]  # an old feedback column, dropped
    error = LineError(
        2,
        ("sku: bad", "the whole row", "akeneo_status_code: x", "color: no option", "color: twice"),
        (0, -1, 1, 3, 3),
    )
    with open_feedback(out, FeedFormat(kind="xlsx", sheet="S"), header) as writer:
        writer.write(Row(2, ("a", "old", "n", "c")), Outcome(2, 422, error.message), error)
        writer.write(Row(3, ("b", "old", "n", "c")), Outcome(3, 422, "x"), LineError(3, ("x",)))
    sheet = load_workbook(out)["S"]
    notes = {
        cell.coordinate: cell.comment.text
        for row in sheet.iter_rows()
        for cell in row
        if cell.comment is not None
    }
    assert notes == {"A2": "sku: bad", "C2": "color: no option\ncolor: twice"}


@pytest.mark.parametrize("which", ["feedback", "rejected"])
def test_xlsx_feedback_columns_are_widened(tmp_path: Path, which: str) -> None:
    out = tmp_path / "f.xlsx"
    opener = open_feedback if which == "feedback" else open_rejected
    with opener(out, FeedFormat(kind="xlsx", sheet="S"), ["sku", "name"]) as writer:
        writer.write(Row(2, ("a", "n")), Outcome(2, 422, "no"))
    sheet = load_workbook(out)["S"]
    widths = {key: dim.width for key, dim in sheet.column_dimensions.items() if dim.width}
    assert widths == {"C": 12.0, "D": 80.0}
    assert [cell.value for cell in sheet[1]] == ["sku", "name", *FEEDBACK_COLUMNS]


def test_the_rejected_file_is_laid_out_as_the_feedback_file(tmp_path: Path) -> None:
    out = tmp_path / "rejected.csv"
    header = ["sku", "akeneo_status_code", "akeneo_message", "name"]  # a feedback file fed again
    with open_rejected(out, FeedFormat(kind="csv", delimiter=";"), header) as writer:
        assert writer.path == out
        writer.write(Row(2, ("a", "201", "", "n")), Outcome(2, 422, "Not sent: bad"))
    assert out.read_text("utf-8").splitlines() == [
        "sku;name;akeneo_status_code;akeneo_message",
        "a;n;422;Not sent: bad",
    ]


def test_an_unwritable_rejected_file_names_its_option(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(
        ConfigError,
        match=r"cannot create the rejected-rows file: .*; choose another path with --rejected$",
    ):
        open_rejected(blocker / "out.csv", FeedFormat(kind="csv"), ["sku"])
