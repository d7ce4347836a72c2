"""FeedSource: a feed file or rows in memory, read once to validate and once to send."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import Workbook

from feed_export.errors import FeedReadError
from feed_export.feed.reader import Row
from feed_export.feed.source import FeedSource


def test_rows_in_memory_are_numbered_from_two_and_read_twice() -> None:
    source = FeedSource.from_rows(["sku", "name~en_US"], [["A1", "Shirt"], ["A2", None]])
    assert source.path is None
    with source.open() as feed:
        seen: list[Row] = []
        feed.check(seen.append)
        assert feed.header == ("sku", "name~en_US")
        assert [(r.number, r.cells) for r in seen] == [(2, ("A1", "Shirt")), (3, ("A2", ""))]
        assert [r.cells for r in feed.rows()] == [("A1", "Shirt"), ("A2", "")]


def test_rows_from_a_factory_are_asked_for_once_per_pass() -> None:
    calls: list[int] = []

    def rows() -> list[list[str]]:
        calls.append(1)
        return [["A1"]]

    with FeedSource.from_rows(["sku"], rows).open() as feed:
        feed.check(lambda row: None)
        assert [r.cells for r in feed.rows()] == [("A1",)]
    assert len(calls) == 2


def test_a_cell_that_is_not_text_is_refused_with_its_row_and_column() -> None:
    source = FeedSource.from_rows(["sku", "price"], [["A1", "1"], ["A2", 3.5]])
    with (
        source.open() as feed,
        pytest.raises(
            FeedReadError, match=r"row 3, column 2: every cell must be text, got float 3.5"
        ),
    ):
        feed.check()


def test_rows_run_the_validation_pass_first_when_nobody_did(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    # the bad byte lies past what opening reads (the header), deep in the file
    path.write_bytes(b"sku\nA1\n" + b"A2\n" * 100_000 + b"\xff\xfe bad\n")
    with FeedSource.file(path).open() as feed:
        assert feed.header == ("sku",)
        assert not feed.checked
        with pytest.raises(FeedReadError, match=r"line 100003 is not valid UTF-8"):
            feed.rows()


def test_the_csv_validation_pass_shows_every_data_row_once(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_text('sku,name\nA1,"two\nlines"\n\nA3,x\n', encoding="utf-8")
    with FeedSource.file(path).open() as feed:
        seen: list[Row] = []
        feed.check(seen.append)
        sent = list(feed.rows())
    assert [(r.number, r.cells) for r in seen] == [(r.number, r.cells) for r in sent]
    assert [r.number for r in sent] == [2, 3, 4]
    assert sent[0].cells == ("A1", "two\nlines")


def test_a_feed_is_checked_only_once(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_text("sku\nA1\n", encoding="utf-8")
    with FeedSource.file(path).open() as feed:
        feed.check()
        with pytest.raises(RuntimeError, match="checked already"):
            feed.check()


def test_an_xlsx_sheet_can_be_walked_twice(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for values in (["sku", "qty"], ["A1", 3], ["A2", 4]):
        sheet.append(values)
    path = tmp_path / "f.xlsx"
    book.save(path)
    with FeedSource.file(path).open() as feed:
        seen: list[Row] = []
        feed.check(seen.append)
        assert [r.cells for r in seen] == [("A1", "3"), ("A2", "4")]
        assert [r.cells for r in feed.rows()] == [("A1", "3"), ("A2", "4")]
