"""Feedback file: the feed echoed row for row in its own format, plus status and message."""

from __future__ import annotations

import csv
import gzip
import io
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook

from feed_export.errors import ConfigError
from feed_export.feed import writer as feedback
from feed_export.feed.headers import FEEDBACK_COLUMNS
from feed_export.feed.reader import FeedFormat, Row, open_feed
from feed_export.feed.writer import safe_cell
from feed_export.push.feedback import Outcome, default_feedback_path, open_feedback


def read_back(path: Path) -> tuple[FeedFormat, tuple[str, ...], list[tuple[str, ...]]]:
    with open_feed(path) as feed:
        return feed.format, feed.header, [row.cells for row in feed.rows()]


def push_through(feed_path: Path, out: Path, outcome: tuple[int | None, str]) -> None:
    """Echo every row of a feed into a feedback file with the same outcome."""
    with open_feed(feed_path) as feed, open_feedback(out, feed.format, feed.header) as writer:
        for row in feed.rows():
            writer.write(row, Outcome(row.number, *outcome))


@pytest.mark.parametrize(
    ("feed", "expected"),
    [
        ("feeds/apparel.csv", "feeds/apparel.feedback.csv"),
        ("x.csv.gz", "x.feedback.csv.gz"),
        ("x.tsv.gz", "x.feedback.tsv.gz"),
        ("x.xlsx", "x.feedback.xlsx"),
        ("x.xlsm", "x.feedback.xlsx"),
        ("x.tsv", "x.feedback.tsv"),
        ("x.TSV", "x.feedback.TSV"),
        ("shop.2024-05.csv", "shop.2024-05.feedback.csv"),
        ("x.feedback.csv", "x.feedback.feedback.csv"),
        ("feed", "feed.feedback"),
        (".feed", ".feed.feedback"),
        ("x.gz", "x.feedback.gz"),
    ],
    ids=lambda v: v,
)
def test_default_feedback_path(feed: str, expected: str) -> None:
    assert default_feedback_path(Path(feed)) == Path(expected)


@pytest.mark.parametrize(
    ("text", "safe"),
    [
        ("=SUM(A1:A2)", "'=SUM(A1:A2)"),
        ("+31 6", "'+31 6"),
        ("-5 is below 0", "'-5 is below 0"),
        ("@cmd", "'@cmd"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("Created", "Created"),
        ("", ""),
        ("a=b", "a=b"),
        ("Not sent: price: -5", "Not sent: price: -5"),
    ],
    ids=["equals", "plus", "minus", "at", "tab", "cr", "plain", "empty", "inner-equals", "message"],
)
def test_safe_cell(text: str, safe: str) -> None:
    assert safe_cell(text) == safe


@pytest.mark.parametrize(
    ("data", "name", "kwargs"),
    [
        (b"sku,name\r\n1,a\r\n", "f.csv", {}),
        (b"\xef\xbb\xbfsku;name\n1;\xc3\xa9\n", "f.csv", {}),
        (b"sku\tname\r\n1\t\xe9\r\n", "f.tsv", {"encoding": "cp1252"}),
        (b"sku|name\r1|\xe9\r", "f.csv", {"encoding": "latin-1"}),
        ("sku\tname\r\n1\t\u00e9\r\n".encode("utf-16"), "f.txt", {}),
        (gzip.compress(b"\xef\xbb\xbfsku;name\n1;x\n"), "f.csv.gz", {}),
    ],
    ids=[
        "utf8-comma-crlf",
        "bom-semicolon-lf",
        "cp1252-tab",
        "latin1-pipe-cr",
        "utf16",
        "gzip-bom",
    ],
)
def test_csv_feedback_keeps_the_feed_format(
    tmp_path: Path, data: bytes, name: str, kwargs: dict[str, str]
) -> None:
    feed_path = tmp_path / name
    feed_path.write_bytes(data)
    with open_feed(feed_path, **kwargs) as feed:
        fmt, header, rows = feed.format, feed.header, list(feed.rows())
        out = default_feedback_path(feed_path)
        with open_feedback(out, fmt, header) as writer:
            for row in rows:
                writer.write(row, Outcome(row.number, 201, ""))
    raw = out.read_bytes()
    if fmt.gzip:
        raw = gzip.decompress(raw)
    assert raw.startswith(b"\xef\xbb\xbf") is fmt.bom
    with open_feed(out, **kwargs) as back:
        assert back.format == fmt
        assert back.header == (*header, *FEEDBACK_COLUMNS)
        assert [r.cells for r in back.rows()] == [(*r.cells, "201", "") for r in rows]


def test_gzip_follows_the_target_name(tmp_path: Path) -> None:
    fmt = FeedFormat(kind="csv", gzip=True)
    with open_feedback(tmp_path / "plain.csv", fmt, ["sku"]) as writer:
        writer.write(Row(2, ("1",)), Outcome(2, 204, ""))
    assert (
        tmp_path / "plain.csv"
    ).read_bytes() == b"sku,akeneo_status_code,akeneo_message\r\n1,204,\r\n"
    with open_feedback(tmp_path / "packed.csv.gz", FeedFormat(kind="csv"), ["sku"]) as writer:
        writer.write(Row(2, ("1",)), Outcome(2, 204, ""))
    assert gzip.decompress((tmp_path / "packed.csv.gz").read_bytes()).startswith(b"sku,")


@pytest.mark.parametrize(
    ("header", "cells", "expected_header", "expected"),
    [
        (["a", "b", "c"], ("1", "2", "3"), ["a", "b", "c"], ["1", "2", "3", "S", "M"]),
        (["a", "b", "c"], ("1",), ["a", "b", "c"], ["1", "", "", "S", "M"]),
        (["a", "b", "c"], (), ["a", "b", "c"], ["", "", "", "S", "M"]),
        (["a", "b"], ("1", "2", "x", "y"), ["a", "b"], ["1", "2", "S", "M", "x", "y"]),
        (
            ["a", "akeneo_status_code", "akeneo_message"],
            ("1", "422", "old"),
            ["a"],
            ["1", "S", "M"],
        ),
        (
            ["akeneo_message", "a", " akeneo_status_code ", "b"],
            ("old", "1", "500", "2"),
            ["a", "b"],
            ["1", "2", "S", "M"],
        ),
        (
            ["a", "akeneo_status_code", "akeneo_message"],
            ("1",),
            ["a"],
            ["1", "S", "M"],
        ),
        (
            ["a", "akeneo_status_code", "akeneo_message"],
            ("1", "201", "", "extra"),
            ["a"],
            ["1", "S", "M", "extra"],
        ),
    ],
    ids=[
        "full",
        "short-padded",
        "empty-padded",
        "long-keeps-extra-after-feedback",
        "refed-trailing",
        "refed-scattered",
        "refed-short",
        "refed-extra",
    ],
)
def test_row_layout(
    tmp_path: Path,
    header: list[str],
    cells: tuple[str, ...],
    expected_header: list[str],
    expected: list[str],
) -> None:
    out = tmp_path / "f.feedback.csv"
    with open_feedback(out, FeedFormat(kind="csv"), header) as writer:
        writer.write(Row(2, cells), Outcome(2, None, "M"))
    text = out.read_text()
    assert text.splitlines() == [
        ",".join([*expected_header, *FEEDBACK_COLUMNS]),
        ",".join(expected).replace("S", ""),
    ]


def test_refed_feedback_file_does_not_grow(tmp_path: Path) -> None:
    feed = tmp_path / "f.csv"
    feed.write_text("sku,name\n1,a\n2\n")
    first = tmp_path / "f.feedback.csv"
    second = tmp_path / "f.feedback.feedback.csv"
    push_through(feed, first, (422, "Not sent: bad"))
    push_through(first, second, (201, ""))
    _, header, rows = read_back(second)
    assert header == ("sku", "name", *FEEDBACK_COLUMNS)
    assert rows == [("1", "a", "201", ""), ("2", "", "201", "")]


def test_status_and_message_cells(tmp_path: Path) -> None:
    out = tmp_path / "f.csv"
    with open_feedback(out, FeedFormat(kind="csv"), ["sku"]) as writer:
        writer.write(Row(2, ("=1+1",)), Outcome(2, None, "Skipped: empty row"))
        writer.write(Row(3, ("x",)), Outcome(3, 0, "-connection refused"))
        writer.write(Row(4, ("y",)), Outcome(4, 422, 'Not sent: name: "a, b"\nsecond line'))
    _, _, rows = read_back(out)
    # the user's own cell is echoed unchanged; what feed_export writes is made safe
    assert rows == [
        ("=1+1", "", "Skipped: empty row"),
        ("x", "0", "'-connection refused"),
        ("y", "422", 'Not sent: name: "a, b"\nsecond line'),
    ]


def test_characters_the_encoding_lacks_become_question_marks(tmp_path: Path) -> None:
    out = tmp_path / "f.csv"
    with open_feedback(out, FeedFormat(kind="csv", encoding="latin-1"), ["name"]) as writer:
        writer.write(Row(2, ("Café",)), Outcome(2, 422, "too long: “Café…”"))
    assert out.read_bytes().splitlines()[1] == b"Caf\xe9,422,too long: ?Caf\xe9??"


# --- XLSX ---------------------------------------------------------------------------------


def test_xlsx_round_trip_writes_text_never_formulas(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    sheet.title = "Products"
    sheet.append(["sku", "price", "note"])
    sheet.append(["A1", 12.5, "plain"])
    sheet.append(["A2", 7, None])
    feed_path = tmp_path / "f.xlsx"
    book.save(feed_path)
    tricky = ['=HYPERLINK("http://x")', "#N/A", "+1", "@x", "=", "bell\x07 and \x1b", "#DIV/0!"]
    out = default_feedback_path(feed_path)
    with open_feed(feed_path) as feed, open_feedback(out, feed.format, feed.header) as writer:
        rows = list(feed.rows())
        for row in rows:
            writer.write(row, Outcome(row.number, 201, ""))
        for i, text in enumerate(tricky, len(rows) + 2):
            writer.write(Row(i, (text, text, "")), Outcome(i, 422, text))

    loaded = load_workbook(out)
    assert loaded.sheetnames == ["Products"]
    values = [[c.value for c in r] for r in loaded["Products"].iter_rows()]
    types = {c.data_type for r in loaded["Products"].iter_rows() for c in r if c.value is not None}
    assert types == {"s"}  # no formula ("f"), error ("e") or number ("n") cell anywhere
    clean = [t.replace("\x07", "\ufffd").replace("\x1b", "\ufffd") for t in tricky]
    assert values == [
        ["sku", "price", "note", *FEEDBACK_COLUMNS],
        ["A1", "12.5", "plain", "201", None],
        ["A2", "7", None, "201", None],
        *[[t, t, None, "422", t] for t in clean],
    ]
    # and the feed reader sees the same text
    fmt, header, cells = read_back(out)
    assert (fmt.kind, fmt.sheet) == ("xlsx", "Products")
    assert header == ("sku", "price", "note", *FEEDBACK_COLUMNS)
    assert cells[0] == ("A1", "12.5", "plain", "201", "")


def test_xlsx_long_message_is_capped(tmp_path: Path) -> None:
    out = tmp_path / "f.xlsx"
    with open_feedback(out, FeedFormat(kind="xlsx", sheet="S"), ["sku"]) as writer:
        writer.write(Row(2, ("1",)), Outcome(2, 422, "x" * 40_000))
    message = load_workbook(out)["S"]["C2"].value
    assert len(message) == feedback.XLSX_MAX_CELL
    assert message.endswith("…")


@pytest.mark.parametrize(
    ("kind", "name", "message"),
    [
        ("xlsx", "out.csv", "give the feedback file an .xlsx name"),
        ("xlsx", "out.csv.gz", "an .xlsx name"),
        ("csv", "out.xlsx", "give the feedback file a .csv name"),
    ],
    ids=["xlsx-to-csv", "xlsx-to-gz", "csv-to-xlsx"],
)
def test_target_named_for_the_other_format_is_refused(
    tmp_path: Path, kind: str, name: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        open_feedback(tmp_path / name, FeedFormat(kind=kind), ["sku"])  # type: ignore[arg-type]
    assert not (tmp_path / name).exists()


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_unwritable_target_is_a_config_error(tmp_path: Path, kind: str) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    target = blocker / f"out.{kind}"  # its parent is a file
    with pytest.raises(ConfigError, match="cannot create the feedback file"):
        open_feedback(target, FeedFormat(kind=kind), ["sku"])  # type: ignore[arg-type]


def test_missing_folders_are_created(tmp_path: Path) -> None:
    out = tmp_path / "out" / "deeper" / "f.csv"
    with open_feedback(out, FeedFormat(kind="csv"), ["sku"]):
        pass
    assert out.read_bytes() == b"sku,akeneo_status_code,akeneo_message\r\n"


def test_write_after_close_and_double_close(tmp_path: Path) -> None:
    writer = open_feedback(tmp_path / "f.csv", FeedFormat(kind="csv"), ["sku"])
    writer.close()
    writer.close()
    with pytest.raises(RuntimeError, match="already closed"):
        writer.write(Row(2, ("1",)), Outcome(2, 201, ""))


def test_rows_reach_the_disk_while_writing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # a killed run leaves the rows answered so far
    monkeypatch.setattr(feedback, "FLUSH_EVERY", 3)
    out = tmp_path / "f.csv"
    writer = open_feedback(out, FeedFormat(kind="csv", line_end="\n"), ["sku"])
    for n in range(2, 8):
        writer.write(Row(n, (str(n),)), Outcome(n, 201, ""))
    assert out.read_text().splitlines()[-1] == "7,201,"
    assert writer.rows_written == 6
    writer.close()


# --- invariants ---------------------------------------------------------------------------

_cell = st.text(
    alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=8
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(st.lists(_cell, max_size=5), max_size=20),
    statuses=st.lists(
        st.sampled_from([None, 0, 201, 204, 400, 422, 500]), min_size=20, max_size=20
    ),
    delimiter=st.sampled_from([",", ";", "\t", "|"]),
)
def test_n_rows_in_n_rows_out_in_order(
    tmp_path: Path, rows: list[list[str]], statuses: list[int | None], delimiter: str
) -> None:
    header = ["sku", "name", "price"]
    out = tmp_path / "p.csv"
    with open_feedback(out, FeedFormat(kind="csv", delimiter=delimiter), header) as writer:
        for number, cells in enumerate(rows, 2):
            writer.write(
                Row(number, tuple(cells)), Outcome(number, statuses[number - 2], f"row {number}")
            )
    _, back_header, back = read_back(out)
    assert back_header == (*header, *FEEDBACK_COLUMNS)
    assert len(back) == len(rows)
    for number, (cells, echoed) in enumerate(zip(rows, back, strict=True), 2):
        status = statuses[number - 2]
        padded = [*cells[:3], *[""] * (3 - len(cells))]
        assert echoed == (
            *padded,
            "" if status is None else str(status),
            f"row {number}",
            *cells[3:],
        )


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(
        st.lists(
            st.sampled_from(["", "a", "b c", '"', ",", ";", "\t", "|", "\n", "\r\n", "x,y"]),
            max_size=4,
        ),
        max_size=10,
    ),
    delimiter=st.sampled_from([",", ";", "\t", "|"]),
    line_end=st.sampled_from(["\r\n", "\n", "\r"]),
)
def test_csv_bytes_are_what_csv_writer_writes(
    tmp_path: Path, rows: list[list[str]], delimiter: str, line_end: str
) -> None:
    # the writer's fast path must never change a byte compared with csv.writer
    out = tmp_path / "p.csv"
    fmt = FeedFormat(kind="csv", delimiter=delimiter, line_end=line_end)
    with open_feedback(out, fmt, ["a", "b"]) as writer:
        for number, cells in enumerate(rows, 2):
            writer.write(Row(number, tuple(cells)), Outcome(number, 201, "m" + "".join(cells)))
    expected = io.StringIO(newline="")
    reference = csv.writer(expected, delimiter=delimiter, lineterminator=line_end)
    reference.writerow(["a", "b", *FEEDBACK_COLUMNS])
    for cells in rows:
        padded = [*cells[:2], *[""] * (2 - len(cells))]
        reference.writerow([*padded, "201", "m" + "".join(cells), *cells[2:]])
    assert out.read_bytes() == expected.getvalue().encode()


# --- a feedback workbook people can scan -------------------------------------------------


def _workbook_with(tmp_path: Path, header: list[str]) -> Path:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Products"
    sheet.append(header)
    path = tmp_path / "f.xlsx"
    book.save(path)
    return path


def test_xlsx_header_is_bold_frozen_and_filterable(tmp_path: Path) -> None:
    out = tmp_path / "fb.xlsx"
    with open_feedback(out, FeedFormat(kind="xlsx", sheet="S"), ["sku", "name"]) as writer:
        writer.write(Row(2, ("A", "x")), Outcome(2, 201, ""))
        writer.write(Row(3, ("B", "y", "an extra cell")), Outcome(3, 204, ""))
    sheet = load_workbook(out)["S"]
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:E3"  # every column (the extra cell too), every row
    assert all(cell.font.b for cell in sheet[1][:4])  # the header, feedback columns too
    assert not any(cell.font.b for cell in sheet[2])
    assert sheet.column_dimensions["D"].width == 80  # the message reads


def test_rows_not_accepted_are_tinted_and_bad_cells_carry_their_problem(tmp_path: Path) -> None:
    from feed_export.push.decode import LineError

    out = tmp_path / "fb.xlsx"
    header = ["sku", "stock_quantity", "weight@unit"]
    error = LineError(
        3,
        ('stock_quantity: decimals are not allowed here, got "2.5"', 'weight@unit: unknown unit "fl"', "weight@unit: also bad"),
        (1, 2, 2),
    )  # fmt: skip
    with open_feedback(out, FeedFormat(kind="xlsx", sheet="S"), header) as writer:
        writer.write(Row(2, ("A", "1", "2 kg")), Outcome(2, 201, ""))
        writer.write(Row(3, ("B", "2.5", "3 fl")), Outcome(3, 422, error.message), error)
        writer.write(
            Row(4, ("C", "1", "")), Outcome(4, 422, "Validation failed. values[brand]: ...")
        )
        writer.write(Row(5, ("", "", "")), Outcome(5, None, "Skipped: empty row"))
        writer.write(Row(6, ("D", "", "")), Outcome(6, 0, "no answer within 60 s (read timeout)"))
    sheet = load_workbook(out)["S"]

    def tinted(row: int) -> list[bool]:
        return [cell.fill.fill_type == "solid" for cell in sheet[row]]

    assert tinted(2) == [False] * 5 and tinted(5) == [False] * 5  # accepted, blank
    for row in (3, 4, 6):  # bad cells, refused by the PIM, failed: every cell of the row
        assert tinted(row) == [True] * 5, row
    assert sheet["A3"].fill.fgColor.rgb == feedback.FLAGGED_FILL
    notes = {
        cell.coordinate: cell.comment.text
        for row in sheet.iter_rows()
        for cell in row
        if cell.comment
    }
    assert notes == {
        "B3": 'stock_quantity: decimals are not allowed here, got "2.5"',
        "C3": 'weight@unit: unknown unit "fl"\nweight@unit: also bad',
    }
    assert sheet["B3"].comment.author == "feed_export"
    assert [c.value for c in sheet[3]][:3] == ["B", "2.5", "3 fl"]  # the cells as they were


def test_notes_follow_columns_when_old_feedback_columns_are_dropped(tmp_path: Path) -> None:
    from feed_export.push.decode import LineError

    out = tmp_path / "fb.xlsx"
    header = ["sku", "akeneo_status_code", "akeneo_message", "stock_quantity"]
    error = LineError(2, ("stock_quantity: not a number",), (3,))
    with open_feedback(out, FeedFormat(kind="xlsx", sheet="S"), header) as writer:
        writer.write(Row(2, ("A", "201", "", "x")), Outcome(2, 422, error.message), error)
    sheet = load_workbook(out)["S"]
    assert [c.value for c in sheet[1]] == ["sku", "stock_quantity", *FEEDBACK_COLUMNS]
    assert (
        sheet["B2"].comment is not None
        and sheet["B2"].comment.text == "stock_quantity: not a number"
    )


def test_csv_feedback_has_no_styles_to_carry(tmp_path: Path) -> None:
    from feed_export.push.decode import LineError

    out = tmp_path / "fb.csv"
    error = LineError(2, ("q: bad",), (1,))
    with open_feedback(out, FeedFormat(kind="csv"), ["sku", "q"]) as writer:
        writer.write(Row(2, ("A", "x")), Outcome(2, 422, error.message), error)
    assert out.read_text().splitlines() == [
        "sku,q,akeneo_status_code,akeneo_message",
        "A,x,422,Not sent: q: bad",
    ]


def test_the_sample_workbook_feedback_marks_its_bad_cells(tmp_path: Path) -> None:
    from conftest import DEMO_CATALOG, SAMPLE_FEEDS

    from feed_export.catalog.structure import Catalog
    from feed_export.config import ExportOptions
    from feed_export.push.run import RunTargets, run_push

    out = tmp_path / "electronics.feedback.xlsx"
    run_push(
        SAMPLE_FEEDS / "electronics.xlsx",
        ExportOptions(dry_run=True),
        catalog=Catalog.from_file(DEMO_CATALOG),
        targets=RunTargets(feedback=out),
    )
    sheet = load_workbook(out).active
    assert sheet is not None
    header = [c.value for c in sheet[1]]
    notes = {
        header[c.column - 1]: c.comment.text for row in sheet.iter_rows() for c in row if c.comment
    }
    assert set(notes) == {"stock_quantity", "weight@unit"}
    assert notes["weight@unit"].startswith('weight@unit: unknown unit "furlongs"')
    flagged = [r for r in range(2, sheet.max_row + 1) if sheet.cell(r, 1).fill.fill_type == "solid"]
    assert flagged == [6] and sheet.cell(6, 1).value == "CH-5005"


def test_notes_are_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from feed_export.push.decode import LineError

    monkeypatch.setattr(feedback, "MAX_NOTES", 3)
    out = tmp_path / "fb.xlsx"
    with open_feedback(out, FeedFormat(kind="xlsx", sheet="S"), ["sku", "q"]) as writer:
        for n in range(2, 8):
            error = LineError(n, ("q: bad",), (1,))
            writer.write(Row(n, ("A", "x")), Outcome(n, 422, error.message), error)
    sheet = load_workbook(out)["S"]
    assert sum(1 for row in sheet.iter_rows() for c in row if c.comment) == 3
    assert all(sheet.cell(r, 1).fill.fill_type == "solid" for r in range(2, 8))
