"""Feed reader: delimiters, encodings, line ends, gzip, XLSX typed cells, errors, streaming."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import re
import tracemalloc
import zipfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from feed_export.errors import ConfigError, FeedReadError
from feed_export.feed import reader
from feed_export.feed import xlsx as xlsx_reader
from feed_export.feed.reader import (
    Feed,
    FeedFormat,
    Row,
    cell_text,
    is_blank,
    number_text,
    open_feed,
)


def put(tmp_path: Path, name: str, data: bytes | str) -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def read_all(path: Path, **kwargs: str) -> tuple[Feed, list[Row]]:
    with open_feed(path, **kwargs) as feed:
        return feed, list(feed.rows())


def xlsx(tmp_path: Path, sheets: dict[str, list[list[object]]], name: str = "feed.xlsx") -> Path:
    book = Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    path = tmp_path / name
    book.save(path)
    return path


# --- CSV: delimiters, encodings, line ends ------------------------------------------------


@pytest.mark.parametrize(
    ("text", "name", "delimiter", "header"),
    [
        ("sku,name\n1,a\n", "f.csv", ",", ("sku", "name")),
        ("sku;name;price\n1;a;2\n", "f.csv", ";", ("sku", "name", "price")),
        ("sku\tname\n1\ta\n", "f.csv", "\t", ("sku", "name")),
        ("sku|name\n1|a\n", "f.csv", "|", ("sku", "name")),
        ('sku;"name, en";"a;b"\n1;a;b\n', "f.csv", ";", ("sku", "name, en", "a;b")),
        ('"a,b,c";d\n1;2\n', "f.csv", ";", ("a,b,c", "d")),
        ("sku,name;x\n1,a;b\n", "f.csv", ",", ("sku", "name;x")),
        ("sku\n1\n", "f.csv", ",", ("sku",)),
        ("sku\n1\n", "f.tsv", "\t", ("sku",)),
        ("a,b\tc\n", "f.tsv", "\t", ("a,b", "c")),
        ("a,b,c\td\n", "f.tsv", ",", ("a", "b", "c\td")),
    ],
    ids=[
        "comma",
        "semicolon",
        "tab",
        "pipe",
        "quoted-delimiters-ignored",
        "quoted-commas-do-not-win",
        "most-cells-wins",
        "one-column-csv",
        "one-column-tsv",
        "tsv-prefers-tab-on-tie",
        "tsv-still-sniffed",
    ],
)
def test_delimiter_is_sniffed(
    tmp_path: Path, text: str, name: str, delimiter: str, header: tuple[str, ...]
) -> None:
    feed, _ = read_all(put(tmp_path, name, text))
    assert feed.format.delimiter == delimiter
    assert feed.header == header


@pytest.mark.parametrize(
    ("given", "expected"),
    [(";", ";"), ("\\t", "\t"), ("tab", "\t"), ("|", "|")],
    ids=["semicolon", "backslash-t", "tab-word", "pipe"],
)
def test_delimiter_can_be_given(tmp_path: Path, given: str, expected: str) -> None:
    path = put(tmp_path, "f.csv", f"a,b{expected}c\n1,2{expected}3\n")
    feed, rows = read_all(path, delimiter=given)
    assert feed.format.delimiter == expected
    assert feed.header == ("a,b", "c")
    assert rows == [Row(2, ("1,2", "3"))]


@pytest.mark.parametrize("given", ["", ";;", '"', "\n"], ids=["empty", "two", "quote", "newline"])
def test_bad_delimiter_is_a_config_error(tmp_path: Path, given: str) -> None:
    with pytest.raises(ConfigError, match="one character"):
        open_feed(put(tmp_path, "f.csv", "a,b\n"), delimiter=given)


@pytest.mark.parametrize(
    ("data", "encoding", "fmt_encoding", "bom", "header", "cells"),
    [
        (b"sku,name\n1,Caf\xc3\xa9\n", None, "utf-8", False, ("sku", "name"), ("1", "Café")),
        (b"\xef\xbb\xbfsku,name\n1,x\n", None, "utf-8", True, ("sku", "name"), ("1", "x")),
        (b"\xef\xbb\xbfsku,name\n1,x\n", "utf-8", "utf-8", True, ("sku", "name"), ("1", "x")),
        (b"\xef\xbb\xbfsku,name\n1,x\n", "UTF-8-SIG", "utf-8", True, ("sku", "name"), ("1", "x")),
        (b"sku,name\n1,Caf\xe9\n", "latin-1", "iso8859-1", False, ("sku", "name"), ("1", "Café")),
        (
            b"sku,name\n1,\x80 \x93x\x94\n",
            "cp1252",
            "cp1252",
            False,
            ("sku", "name"),
            ("1", "€ “x”"),
        ),
        (
            "sku\tname\n1\tÜ\n".encode("utf-16"),
            None,
            "utf-16",
            False,
            ("sku", "name"),
            ("1", "Ü"),
        ),
        (
            "sku,name\n1,Ü\n".encode("utf-16-le"),
            "utf-16-le",
            "utf-16-le",
            False,
            ("sku", "name"),
            ("1", "Ü"),
        ),
    ],
    ids=[
        "utf8",
        "utf8-bom",
        "utf8-bom-given-utf8",
        "utf8-sig-given",
        "latin1-given",
        "cp1252-given",
        "utf16-bom-detected",
        "utf16le-given",
    ],
)
def test_encodings(
    tmp_path: Path,
    data: bytes,
    encoding: str | None,
    fmt_encoding: str,
    bom: bool,
    header: tuple[str, ...],
    cells: tuple[str, ...],
) -> None:
    kwargs = {} if encoding is None else {"encoding": encoding}
    feed, rows = read_all(put(tmp_path, "f.csv", data), **kwargs)
    assert (feed.format.encoding, feed.format.bom) == (fmt_encoding, bom)
    assert feed.header == header
    assert rows == [Row(2, cells)]


@pytest.mark.parametrize(
    ("data", "encoding", "expected"),
    [
        (
            b"sku,name\n1,ok\n2,Caf\xe9 au lait\n",
            None,
            [
                "f.csv",
                "line 3 is not valid UTF-8",
                "byte(s) e9 at byte offset 19",
                "near '2,Caf\ufffd au lait'",
                "--encoding cp1252",
                "--encoding latin-1",
            ],
        ),
        (
            b"sku,name\n1,\xff\xfe\n",
            None,
            ["line 2", "byte(s) ff at byte offset 11", "--encoding cp1252"],
        ),
        (
            b"sku,name\n1,ok\n2,\x81\n",
            "cp1252",
            ["line 3 is not valid cp1252", "byte(s) 81 at byte offset 16", "--encoding latin-1"],
        ),
    ],
    ids=["latin1-read-as-utf8", "bad-bytes-hex", "cp1252-undefined-byte"],
)
def test_undecodable_file_names_line_offset_and_fix(
    tmp_path: Path, data: bytes, encoding: str | None, expected: list[str]
) -> None:
    kwargs = {} if encoding is None else {"encoding": encoding}
    with pytest.raises(FeedReadError, match=re.escape(expected[0])) as info:
        open_feed(put(tmp_path, "f.csv", data), **kwargs)
    for part in expected:
        assert part in str(info.value)


def test_undecodable_byte_far_in_is_found_before_any_row(tmp_path: Path) -> None:
    # a bad byte well past the first chunks: open_feed fails, so no row is ever handed out
    body = "".join(f"{i},naïve café {i}\n" for i in range(40_000)).encode("utf-8")
    data = b"sku,name\n" + body + b"40000,Caf\xe9\n"
    with pytest.raises(FeedReadError, match="line 40002 ") as info:
        open_feed(put(tmp_path, "f.csv", data))
    assert "line 40002 " in str(info.value)
    assert f"byte(s) e9 at byte offset {len(data) - 2}," in str(info.value)


@pytest.mark.parametrize("chunk", [1, 2, 3, 5, 7], ids=lambda c: f"chunk-{c}")
def test_decode_error_offset_is_exact_across_chunk_boundaries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    # multi-byte characters split across chunks must not be mistaken for bad bytes
    monkeypatch.setattr(reader, "_CHUNK", chunk)
    data = "sku,name\nä€,😀\nx,".encode() + b"\xc3(" + b"\n"
    offset = data.index(b"\xc3(")
    with pytest.raises(FeedReadError, match=rf"byte\(s\) c3 at byte offset {offset}\b") as info:
        open_feed(put(tmp_path, "f.csv", data))
    assert f"byte(s) c3 at byte offset {offset}" in str(info.value)
    assert "line 3 " in str(info.value)


def test_gzip_decode_error_says_uncompressed(tmp_path: Path) -> None:
    path = put(tmp_path, "f.csv.gz", gzip.compress(b"sku\n\xe9\n"))
    with pytest.raises(FeedReadError, match="byte offset 4 of the uncompressed data"):
        open_feed(path)


def test_unknown_encoding_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown encoding 'klingon'"):
        open_feed(put(tmp_path, "f.csv", "a\n"), encoding="klingon")


@pytest.mark.parametrize(
    ("data", "line_end"),
    [
        (b"sku,name\r\n1,a\r\n2,b\r\n", "\r\n"),
        (b"sku,name\n1,a\n2,b\n", "\n"),
        (b"sku,name\r1,a\r2,b\r", "\r"),
        (b"sku,name\n1,a\r\n2,b\r", "\n"),
        (b"sku,name\r\n1,a\n2,b", "\r\n"),
    ],
    ids=["crlf", "lf", "cr", "mixed", "no-final-newline"],
)
def test_line_ends(tmp_path: Path, data: bytes, line_end: str) -> None:
    feed, rows = read_all(put(tmp_path, "f.csv", data))
    assert feed.format.line_end == line_end
    assert rows == [Row(2, ("1", "a")), Row(3, ("2", "b"))]


def test_quoted_delimiters_and_line_breaks_keep_record_numbering(tmp_path: Path) -> None:
    data = 'sku,text\n1,"a, b\nc"\n2,"x\r\ny ""quoted"""\n3,"\n\n"\n4,z\n'
    _, rows = read_all(put(tmp_path, "f.csv", data))
    assert rows == [
        Row(2, ("1", "a, b\nc")),
        Row(3, ("2", 'x\r\ny "quoted"')),
        Row(4, ("3", "\n\n")),
        Row(5, ("4", "z")),
    ]


@pytest.mark.parametrize(
    ("data", "cells"),
    [
        (b'a,b\n1,"abc"', ("1", "abc")),
        (b'a,b\n1,"ab"""', ("1", 'ab"')),
        (b'a,b\n1,""', ("1", "")),
        (b"a,b\n1,", ("1", "")),
    ],
    ids=["quoted", "escaped-quote", "empty-quoted", "empty-unquoted"],
)
def test_last_record_without_line_break(
    tmp_path: Path, data: bytes, cells: tuple[str, ...]
) -> None:
    assert read_all(put(tmp_path, "f.csv", data))[1] == [Row(2, cells)]


def test_cells_are_text_exactly_as_written(tmp_path: Path) -> None:
    _, rows = read_all(put(tmp_path, "f.csv", "a,b,c,d,e\n007,NA, padded ,1e5,\n"))
    assert rows == [Row(2, ("007", "NA", " padded ", "1e5", ""))]


def test_ragged_and_blank_rows_are_yielded_raw(tmp_path: Path) -> None:
    data = "sku,name,price\n1\n\n2,b,3,extra\n , \n,,\n3,c,4\n"
    _, rows = read_all(put(tmp_path, "f.csv", data))
    assert rows == [
        Row(2, ("1",)),
        Row(3, ()),
        Row(4, ("2", "b", "3", "extra")),
        Row(5, (" ", " ")),
        Row(6, ("", "", "")),
        Row(7, ("3", "c", "4")),
    ]
    assert [is_blank(r.cells) for r in rows] == [False, True, False, True, True, False]


@pytest.mark.parametrize(
    ("cells", "blank"),
    [((), True), (("",), True), ((" ", "\t", "\u00a0"), True), (("", "x"), False), (("0",), False)],
    ids=["no-cells", "one-empty", "whitespace", "one-value", "zero"],
)
def test_is_blank(cells: tuple[str, ...], blank: bool) -> None:
    assert is_blank(cells) is blank


def test_header_trailing_empty_cells_kept_and_bom_stripped(tmp_path: Path) -> None:
    feed, _ = read_all(put(tmp_path, "f.csv", b'\xef\xbb\xbf"sku",name,,\n1,a,,\n'))
    assert feed.header == ("sku", "name", "", "")


def test_header_only_feed_has_no_rows(tmp_path: Path) -> None:
    feed, rows = read_all(put(tmp_path, "f.csv", "sku,name"))
    assert feed.header == ("sku", "name")
    assert rows == []


@pytest.mark.parametrize("name", ["f.txt", "feed", "f.dat"], ids=["txt", "no-extension", "dat"])
def test_unknown_extension_is_read_as_csv(tmp_path: Path, name: str) -> None:
    feed, rows = read_all(put(tmp_path, name, "a;b\n1;2\n"))
    assert feed.format.kind == "csv"
    assert rows == [Row(2, ("1", "2"))]


@pytest.mark.parametrize("name", ["f.csv.gz", "f.csv"], ids=["gz-name", "gzip-by-magic"])
def test_gzip(tmp_path: Path, name: str) -> None:
    path = put(tmp_path, name, gzip.compress("\ufeffsku;name\r\n1;Ü\r\n".encode()))
    feed, rows = read_all(path)
    assert (feed.format.gzip, feed.format.bom, feed.format.delimiter) == (True, True, ";")
    assert feed.header == ("sku", "name")
    assert rows == [Row(2, ("1", "Ü"))]


def test_big_cell_and_many_columns(tmp_path: Path) -> None:
    big = "x" * (2 * 1024 * 1024 + 17)
    header = ",".join(f"c{i}" for i in range(5000))
    row = ",".join(str(i) for i in range(5000))
    _, rows = read_all(put(tmp_path, "f.csv", f'{header}\n{row}\n{big},"{big}"\n'))
    assert len(rows[0].cells) == 5000
    assert rows[0].cells[4999] == "4999"
    assert rows[1] == Row(3, (big, big))


# --- CSV: files that cannot be read -------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty (0 bytes): no header row"),
        (b"  \r\n\t\n", "only whitespace: no header row"),
        (b"\n\nsku,name\n1,a\n", "row 1 is empty: the header must be the first row"),
        (b",,\nsku,name\n", "row 1 is empty"),
        (gzip.compress(b""), "empty (no data after decompressing)"),
        (gzip.compress(b"sku,name\n1,a\n")[:-12], "cannot be decompressed"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not a table: the file is a PNG image"),
        (b"%PDF-1.7\n", "a PDF document"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "legacy Excel 97-2003 workbook (.xls)"),
        (b"sku,name\n1,a\x00b\n", "binary data (a NUL byte at byte offset 12)"),
        (b'sku,name\n1,a\n2,"open\n3,c\n4,d\n', "row 3 (line 3): a quoted cell is never closed"),
        (b'sku,"name\n1,a\n', "row 1 (line 1): a quoted cell is never closed"),
    ],
    ids=[
        "empty",
        "whitespace",
        "blank-lines-above-header",
        "empty-cells-above-header",
        "empty-gzip",
        "truncated-gzip",
        "png",
        "pdf",
        "xls",
        "nul-byte",
        "unclosed-quote",
        "unclosed-quote-in-header",
    ],
)
def test_unreadable_csv(tmp_path: Path, data: bytes, message: str) -> None:
    with pytest.raises(FeedReadError, match=re.escape(message)) as info:
        open_feed(put(tmp_path, "feed.csv", data))
    assert message in str(info.value)
    assert "feed.csv" in str(info.value)


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(FeedReadError, match="file not found"):
        open_feed(tmp_path / "nope.csv")
    with pytest.raises(FeedReadError, match="not a file"):
        open_feed(tmp_path)


def test_cell_over_the_limit_names_the_row(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reader, "MAX_CELL_CHARS", 1024)
    limit = csv.field_size_limit()
    try:
        csv.field_size_limit(1024)
        path = put(tmp_path, "f.csv", "sku,name\n1,a\n2," + "x" * 2000 + "\n")
        with pytest.raises(
            FeedReadError, match=r"row 3 \(line 3\): not valid CSV: a cell is larger"
        ):
            open_feed(path)
    finally:
        csv.field_size_limit(limit)


def test_rows_can_be_read_once(tmp_path: Path) -> None:
    with open_feed(put(tmp_path, "f.csv", "a\n1\n")) as feed:
        assert [r.number for r in feed.rows()] == [2]
        with pytest.raises(RuntimeError, match="only once"):
            feed.rows()


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"sku,name\n", "f.xlsx", "named .xlsx but not an XLSX workbook"),
        (b"PK\x03\x04 not really a zip", "f.xlsx", "damaged zip archive"),
    ],
    ids=["csv-named-xlsx", "broken-zip"],
)
def test_not_a_workbook(tmp_path: Path, data: bytes, name: str, message: str) -> None:
    with pytest.raises(FeedReadError, match=message):
        open_feed(put(tmp_path, name, data))


@pytest.mark.parametrize(
    ("members", "message"),
    [
        ({"feed.csv": "a,b\n"}, "a zip archive, not an XLSX workbook"),
        ({"mimetype": "x", "content.xml": "<x/>"}, "OpenDocument spreadsheet"),
        ({"xl/workbook.bin": "x"}, r"binary workbook \(.xlsb\)"),
    ],
    ids=["plain-zip", "ods", "xlsb"],
)
def test_zip_that_is_not_xlsx(tmp_path: Path, members: dict[str, str], message: str) -> None:
    path = tmp_path / "feed.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in members.items():
            archive.writestr(name, text)
    with pytest.raises(FeedReadError, match=message):
        open_feed(path)


# --- XLSX ---------------------------------------------------------------------------------


def test_xlsx_typed_cells_read_as_a_person_reads_them(tmp_path: Path) -> None:
    path = xlsx(
        tmp_path,
        {
            "Products": [
                ["sku", "int", "float", "date", "datetime", "time", "bool", "text", "formula"],
                [
                    "007",
                    12,
                    12.5,
                    dt.date(2024, 5, 1),
                    dt.datetime(2024, 5, 1, 10, 30),
                    dt.time(8, 5, 3),
                    True,
                    "NA",
                    "=1+1",
                ],
                [42, 12.0, 0.1 + 0.2, None, None, None, False, " x ", None],
            ]
        },
    )
    feed, rows = read_all(path)
    assert feed.format.kind == "xlsx"
    assert feed.format.sheet == "Products"
    assert feed.header == (
        "sku",
        "int",
        "float",
        "date",
        "datetime",
        "time",
        "bool",
        "text",
        "formula",
    )
    # openpyxl stores no cached value for a formula: its text is empty, and the row says so
    assert rows == [
        Row(
            2,
            (
                "007",
                "12",
                "12.5",
                "2024-05-01",
                "2024-05-01T10:30:00",
                "08:05:03",
                "true",
                "NA",
                "",
            ),
            ((8, "a formula with no saved value; open and save the file in Excel"),),
        ),
        Row(3, ("42", "12", "0.3", "", "", "", "false", " x ", "")),
    ]


def test_xlsx_formula_cached_value_and_error_cell(tmp_path: Path) -> None:
    # openpyxl writes formulas without a cached value: patch one in, as Excel would store it
    path = xlsx(tmp_path, {"S": [["sku", "total", "ratio"], ["1", "=2+3", "x"]]})
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    sheet_xml = members["xl/worksheets/sheet1.xml"].decode()
    assert "<f>2+3</f><v />" in sheet_xml
    sheet_xml = sheet_xml.replace("<f>2+3</f><v />", "<f>2+3</f><v>5</v>")
    sheet_xml = sheet_xml.replace(
        '<c r="C2" t="inlineStr"><is><t>x</t></is></c>', '<c r="C2" t="e"><v>#DIV/0!</v></c>'
    )
    members["xl/worksheets/sheet1.xml"] = sheet_xml.encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    _, rows = read_all(path)
    # the cached value counts; an error cell shows as Excel shows it, and is flagged
    assert rows == [
        Row(
            2,
            ("1", "5", "#DIV/0!"),
            ((2, "Excel error #DIV/0!; fix the formula or type the value"),),
        )
    ]


def test_feed_close_twice_releases_once(tmp_path: Path) -> None:
    released: list[str] = []
    feed = Feed(
        tmp_path / "f.csv",
        FeedFormat("csv"),
        ("a",),
        lambda: iter(()),
        lambda: released.append("x"),
    )
    with feed:
        feed.close()
    feed.close()
    assert released == ["x"]


def test_csv_feed_close_twice(tmp_path: Path) -> None:
    feed = open_feed(put(tmp_path, "f.csv", "a\n1\n2\n"))
    rows = feed.rows()
    assert next(rows) == Row(2, ("1",))
    feed.close()
    feed.close()
    with pytest.raises(ValueError, match="closed file"):
        next(rows)  # the file is released


def test_xlsx_feed_close_twice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = xlsx_reader.CalamineWorkbook
    closed: list[str] = []

    class Book:
        def __init__(self, book: Any) -> None:
            self._book = book

        def __getattr__(self, name: str) -> Any:
            return getattr(self._book, name)

        def close(self) -> None:
            closed.append("book")
            self._book.close()

        @staticmethod
        def from_path(path: str) -> Book:
            return Book(real.from_path(path))

    monkeypatch.setattr(xlsx_reader, "CalamineWorkbook", Book)
    feed = open_feed(xlsx(tmp_path, {"S": [["a"], [1]]}))
    assert closed == []
    feed.close()
    feed.close()
    assert closed == ["book"]


def test_xlsx_sheets(tmp_path: Path) -> None:
    path = xlsx(tmp_path, {"First": [["a"], [1]], "Second": [["b"], [2]]})
    assert read_all(path)[1] == [Row(2, ("1",))]
    feed, rows = read_all(path, sheet="Second")
    assert (feed.format.sheet, feed.header, rows) == ("Second", ("b",), [Row(2, ("2",))])
    feed, _ = read_all(path, sheet="second")
    assert feed.format.sheet == "Second"
    with pytest.raises(
        FeedReadError, match="no sheet named 'Third'; the workbook has: 'First', 'Second'"
    ):
        open_feed(path, sheet="Third")


def test_xlsx_first_visible_sheet(tmp_path: Path) -> None:
    book = Workbook()
    hidden = book.active
    hidden.title = "Notes"
    hidden.append(["ignore me"])
    hidden.sheet_state = "hidden"
    book.create_sheet("Feed").append(["sku"])
    path = tmp_path / "f.xlsx"
    book.save(path)
    feed, _ = read_all(path)
    assert (feed.format.sheet, feed.header) == ("Feed", ("sku",))


def test_xlsx_layout_columns_line_up_and_trailing_empties_trimmed(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    sheet.title = "S"
    sheet["B1"], sheet["C1"] = "sku", "name"
    sheet["B2"], sheet["C2"] = "1", "a"
    sheet["B3"] = "2"
    sheet["B4"], sheet["E4"] = "3", "stray"
    path = tmp_path / "f.xlsx"
    book.save(path)
    feed, rows = read_all(path)
    # the empty column A stays, so cells line up with the sheet (and the feedback file)
    assert feed.header == ("", "sku", "name", "", "")
    assert rows == [
        Row(2, ("", "1", "a", "", "")),
        Row(3, ("", "2", "", "", "")),
        Row(4, ("", "3", "", "", "stray")),
    ]


@pytest.mark.parametrize(
    ("rows", "message"),
    [([], "is empty: no header row"), ([[None], ["sku"], ["1"]], "row 1 is empty")],
    ids=["empty-sheet", "header-not-on-row-1"],
)
def test_xlsx_without_header(tmp_path: Path, rows: list[list[object]], message: str) -> None:
    with pytest.raises(FeedReadError, match=message):
        open_feed(xlsx(tmp_path, {"S": rows}))


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (12.0, "12"),
        (-3.0, "-3"),
        (12.5, "12.5"),
        (0.1 + 0.2, "0.3"),
        (23.799999999999997, "23.8"),
        (1e20, "100000000000000000000"),
        (1e-7, "0.0000001"),
        (1.5e300, "1.5e+300"),
        (123456789012345.0, "123456789012345"),
        (-0.0, "0"),
        (3, "3"),
        (True, "true"),
        (False, "false"),
        (None, ""),
        ("=x", "=x"),
        (dt.date(2024, 2, 29), "2024-02-29"),
        (dt.datetime(2024, 5, 1, 0, 0), "2024-05-01T00:00:00"),
        (dt.datetime(2024, 5, 1, 10, 30, 0, 250000), "2024-05-01T10:30:00.250"),
        (dt.time(23, 59, 59), "23:59:59"),
        (dt.timedelta(hours=30, minutes=5), "30:05:00"),
    ],
    ids=lambda v: repr(v)[:30],
)
def test_cell_text(value: object, text: str) -> None:
    assert cell_text(value) == text


@pytest.mark.parametrize("value", [0.1, 0.7, 1.1, 2.675, 19.99, 1234.5678, 99.95], ids=repr)
def test_number_text_never_adds_noise(value: float) -> None:
    assert number_text(value) == repr(value)


# --- invariants ---------------------------------------------------------------------------

_text = st.text(
    alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=12
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(st.lists(_text, max_size=5), max_size=15),
    delimiter=st.sampled_from((",", ";", "\t", "|")),
    gz=st.booleans(),
)
def test_csv_round_trip_any_text(
    tmp_path: Path, rows: list[list[str]], delimiter: str, gz: bool
) -> None:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=delimiter)
    writer.writerow(["sku", "name", "price"])
    writer.writerows(rows)
    data = buffer.getvalue().encode("utf-8")
    path = put(tmp_path, "p.csv", gzip.compress(data) if gz else data)
    feed, read = read_all(path)
    assert feed.format.delimiter == delimiter
    assert feed.header == ("sku", "name", "price")
    assert read == [Row(i, tuple(cells)) for i, cells in enumerate(rows, 2)]


def test_reading_streams_in_flat_memory(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    with path.open("w", newline="") as out:
        out.write(",".join(f"col{i}" for i in range(20)) + "\n")
        line = ",".join(f"value {i}" for i in range(20)) + "\n"
        out.writelines(line for _ in range(20_000))
    tracemalloc.start()
    try:
        with open_feed(path) as feed:
            count = sum(1 for _ in feed.rows())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 20_000
    assert path.stat().st_size > 3_000_000
    assert peak < 1_000_000, f"peak {peak} bytes: reading does not stream"
