"""Bad-input corpus: malformed feeds through the CLI, each with its message, exit code and feedback.

Every feed is generated here (nothing stored under tests/data). Each case runs
``feed-export check FEED --catalog demo`` and checks: no traceback, the contract's exit code
(feed-format.md section 7), a message that says where and what, and, wherever the feed could
be read, a complete feedback file (one row per data row, in order, the feed's cells echoed)
and the exact lines that would be sent (``--payload-out``). A few feeds are also pushed to
the sandbox PIM to see what arrives.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest
from conftest import DEMO_CATALOG, CliResult, run_cli
from openpyxl import Workbook

from feed_export.feed.reader import open_feed
from feed_export.push.feedback import FEEDBACK_COLUMNS
from feed_export.sandbox import Sandbox

H = b"sku,name~en_US,legal_notice~fr_FR\n"
TEXTS = {
    "formulas": (
        '=HYPERLINK("http://x","y")',
        "+1",
        "-1",
        "@SUM(A1)",
        "\t=1+1",
        "=cmd|' /C calc'!A0",
    ),
    "controls": ("a\x01b\x07c\x08d\x0be\x0cf\x1bg\x7fh\x85i\u2028j\x9fk",),
    "rtl-emoji": (
        "\u05e9\u05dc\u05d5\u05dd \u200fabc\u202e reversed\u202c",
        "\U0001f600 \U0001f1eb\U0001f1f7 e\u0301 \U0001f469\u200d\U0001f469\u200d\U0001f467",
        "\u0645\u0631\u062d\u0628\u0627 123",
    ),
}
#: a cell of 2 MB: readable (no reader limit), but its line is over the PIM's 1,000,000 bytes
BIG = 2_000_000


# --- building feeds ------------------------------------------------------------------------


def _csv(rows: list[list[str]], header: bytes = H) -> bytes:
    """A CSV feed with every cell quoted the way spreadsheets do it."""
    out = io.StringIO(newline="")
    for row in rows:
        out.write(",".join('"' + c.replace('"', '""') + '"' for c in row) + "\n")
    return header + out.getvalue().encode("utf-8")


def _xlsx(sheets: dict[str, list[list[object]]], merge: str | None = None) -> bytes:
    book = Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    if merge:
        book.worksheets[0].merge_cells(merge)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _with_cached_formula(data: bytes, formula: str, value: str) -> bytes:
    """openpyxl stores no cached value for a formula; Excel does. Patch one in."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for name in source.namelist():
            member = source.read(name)
            if name == "xl/worksheets/sheet1.xml":
                text = member.decode()
                old = f'<c r="F2"><f>{formula}</f><v /></c>'
                assert old in text, text
                # t="str": a formula whose cached result is text
                text = text.replace(old, f'<c r="F2" t="str"><f>{formula}</f><v>{value}</v></c>')
                member = text.encode()
            target.writestr(name, member)
    return out.getvalue()


def _typed_workbook() -> bytes:
    header: list[object] = [
        "sku",
        "release_date",
        "stock_quantity",
        "margin_percent",
        "is_new",
        "name~en_US",
        "legal_notice~fr_FR",
    ]
    rows: list[list[object]] = [
        header,
        [1001, dt.date(2024, 5, 1), 12.0, 35.5, True, '=CONCAT("a","b")', "merged over two rows"],
        [1002, dt.datetime(2024, 5, 1, 10, 30), 3, 0.1 + 0.2, False, "=1/0", None],
        ["1003", "2024-06-30", "7", "1.25", "FALSE", "plain text", "x"],
    ]
    data = _xlsx({"Feed": rows}, merge="G2:G3")
    return _with_cached_formula(data, 'CONCAT("a","b")', "ab")


def _wide() -> bytes:
    header = "sku," + ",".join(f"unknown_attr_{i}" for i in range(5000)) + "\n"
    row = "A1," + ",".join(f"v{i}" for i in range(5000)) + "\n"
    return (header + row).encode()


def _past_64k_nul() -> bytes:
    return H + b"A0,padding,x\n" * 6000 + b"A9,a\x00b,c\n"


def _zip_of_csv() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("feed.csv", H + b"A1,a,x\n")
    return out.getvalue()


# --- the corpus ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    id: str
    file: str
    data: bytes | Callable[[], bytes]
    code: int
    #: substrings of what the CLI prints (stderr and stdout): where and what
    says: tuple[str, ...] = ()
    #: the status column of the feedback, row by row; None: no feedback file (unreadable)
    statuses: tuple[str, ...] | None = None
    #: a substring of each row's feedback message ("" for no check)
    messages: tuple[str, ...] = ()
    #: the lines that would be sent: (identifier, name~en_US data or None), in order
    sent: tuple[tuple[str, str | None], ...] = ()
    args: tuple[str, ...] = ()
    #: how to read the feed back (for the feedback comparison)
    encoding: str | None = None
    sheet: str | None = None
    #: a known defect in a module this test does not own: (where, what is wrong)
    xfail: str | None = None

    def content(self) -> bytes:
        return self.data() if callable(self.data) else self.data


_VALID = "Valid (dry run)"
_SKIPPED = "Skipped: empty row"
_REJECTED = "Not sent: feed rejected: "

CASES = [
    # --- encodings, BOMs, line ends, quoting
    Case(
        "latin1-without-encoding",
        "latin1.csv",
        H + "A1,Caf\xe9,x\n".encode("latin-1"),
        2,
        says=("latin1.csv", "line 2", "e9", "byte offset 40", "--encoding latin-1"),
    ),
    Case(
        "latin1-with-encoding",
        "latin1.csv",
        H + "A1,Caf\xe9,\xe0 la carte\n".encode("latin-1"),
        0,
        statuses=("",),
        messages=(_VALID,),
        sent=(("A1", "Caf\xe9"),),
        args=("--encoding", "latin-1"),
        encoding="latin-1",
    ),
    Case(
        "utf8-bom",
        "bom.csv",
        b"\xef\xbb\xbf" + H + "A1,Caf\xe9,x\n".encode(),
        0,
        statuses=("",),
        sent=(("A1", "Caf\xe9"),),
    ),
    Case(
        "utf16-bom-tab-separated",
        "unicode.txt",
        "sku\tname~en_US\nA1\tCaf\xe9 \u2603\n".encode("utf-16"),
        0,
        statuses=("",),
        sent=(("A1", "Caf\xe9 \u2603"),),
    ),
    Case(
        # regression: used to end in "internal error: UnicodeError" (exit 3)
        "utf8-read-as-utf16",
        "plain.csv",
        H + b"A1,a,x\n",
        2,
        says=("plain.csv", "does not start with a UTF-16 byte order mark", "--encoding utf-16-le"),
        args=("--encoding", "utf-16"),
    ),
    Case(
        "utf16le-without-bom",
        "wide16.csv",
        (H.decode() + "A1,Caf\xe9,x\n").encode("utf-16-le"),
        0,
        statuses=("",),
        sent=(("A1", "Caf\xe9"),),
        args=("--encoding", "utf-16-le"),
        encoding="utf-16-le",
    ),
    Case(
        # regression: used to end in "internal error: UnicodeError" when writing the feedback
        "domain-name-codec",
        "idna.csv",
        H + b"A1,a,x\n",
        2,
        says=("'idna' is not a text encoding",),
        args=("--encoding", "idna"),
    ),
    Case(
        "crlf",
        "crlf.csv",
        H.replace(b"\n", b"\r\n") + b"A1,a,x\r\nA2,b,y\r\n",
        0,
        statuses=("", ""),
        sent=(("A1", "a"), ("A2", "b")),
    ),
    Case(
        "mixed-line-ends",
        "mixed.csv",
        H + b"A1,a,x\r\nA2,b,y\nA3,c,z\rA4,d,w",
        0,
        statuses=("", "", "", ""),
        sent=(("A1", "a"), ("A2", "b"), ("A3", "c"), ("A4", "d")),
    ),
    Case(
        "quoted-line-breaks",
        "quoted.csv",
        H + b'A1,"two\nlines\r\nand a ""quote""",x\nA2,b,"y\n"\n',
        0,
        statuses=("", ""),
        sent=(("A1", 'two\nlines\r\nand a "quote"'), ("A2", "b")),
    ),
    Case(
        "semicolon-delimiter",
        "semi.csv",
        b"sku;name~en_US\nA1;with, a comma\n",
        0,
        statuses=("",),
        sent=(("A1", "with, a comma"),),
    ),
    Case(
        "unclosed-quote",
        "open.csv",
        H + b'A1,a,x\nA2,"never closed,y\nA3,c,z\n',
        2,
        says=("open.csv", "row 3 (line 3)", "a quoted cell is never closed"),
    ),
    # --- ragged rows
    Case(
        "ragged-short-rows",
        "short.csv",
        H + b"A1,a\nA2\nA3,b,c\n",
        1,
        statuses=("422", "422", ""),
        messages=(
            "Not sent: row has 2 cells but the header has 3",
            "Not sent: row has 1 cells but the header has 3",
            _VALID,
        ),
        sent=(("A3", "b"),),
    ),
    Case(
        "ragged-long-rows",
        "long.csv",
        H + b"A1,a,x,beyond the header\nA2,b,y,,\n",
        1,
        statuses=("422", ""),
        messages=("Not sent: row has 4 cells but the header has 3", _VALID),
        sent=(("A2", "b"),),
    ),
    # --- headers
    Case(
        "duplicate-header",
        "dup.csv",
        b"sku,name~en_US,NAME~EN_us\nA1,a,b\nA2,c,d\n",
        2,
        says=('column 3 "NAME~EN_us" means the same value as column 2 "name~en_US"',),
        statuses=("400", "400"),
        messages=(_REJECTED + 'column 3 "NAME~EN_us"',) * 2,
    ),
    Case(
        "empty-header-over-data",
        "blankhead.csv",
        b"sku,,name~en_US\nA1,,a\nA2,stray value,b\n",
        2,
        says=("column 2 has values but no header",),
        statuses=("400", "400"),
        messages=(_REJECTED + "column 2 has values but no header",) * 2,
    ),
    Case(
        "empty-header-over-empty-column",
        "blankcol.csv",
        b"sku,,name~en_US\nA1,,a\nA2, ,b\n",
        0,
        statuses=("", ""),
        sent=(("A1", "a"), ("A2", "b")),
    ),
    Case("header-only", "head.csv", H, 0, statuses=()),
    Case("header-only-no-line-break", "head.csv", H.rstrip(b"\n"), 0, statuses=()),
    Case(
        "blank-lines-above-header",
        "above.csv",
        b"\n\n" + H + b"A1,a,x\n",
        2,
        says=("above.csv", "row 1 is empty", "remove the empty rows above the header"),
    ),
    Case(
        "5000-unknown-columns",
        "wide.csv",
        _wide,
        2,
        says=(
            'column 2 "unknown_attr_0": unknown attribute "unknown_attr_0"',
            'column 5001 "unknown_attr_4999": unknown attribute "unknown_attr_4999"',
            "--ignore-unknown-columns",
        ),
        statuses=("400",),
        messages=(_REJECTED + 'column 2 "unknown_attr_0"',),
    ),
    Case(
        "5000-unknown-columns-ignored",
        "wide.csv",
        _wide,
        0,
        says=("ignored 5000 column(s)", 'column 5001 "unknown_attr_4999"'),
        statuses=("",),
        sent=(("A1", None),),
        args=("--ignore-unknown-columns",),
    ),
    # --- files that are no feed at all
    Case("empty-file", "empty.csv", b"", 2, says=("empty.csv", "empty (0 bytes)")),
    Case("whitespace-only", "blank.csv", b" \r\n\t\n", 2, says=("blank.csv", "only whitespace")),
    Case(
        "png-image",
        "image.csv",
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)),
        2,
        says=("image.csv", "not a table: the file is a PNG image"),
    ),
    Case(
        "zip-archive",
        "archive.csv",
        _zip_of_csv,
        2,
        says=("archive.csv", "a zip archive, not an XLSX workbook: extract the feed"),
    ),
    Case(
        "csv-named-xlsx",
        "feed.xlsx",
        H + b"A1,a,x\n",
        2,
        says=("feed.xlsx", "not an XLSX workbook", "rename it to .csv"),
    ),
    Case(
        "nul-byte-in-header",
        "nul.csv",
        b"sku,na\x00me\nA1,a\n",
        2,
        says=("nul.csv", "line 1 holds binary data (a NUL byte at byte offset 6)"),
    ),
    Case(
        # regression: a NUL past the first 64 KiB used to be read and sent
        "nul-byte-past-64k",
        "nul.csv",
        _past_64k_nul,
        2,
        says=(
            "nul.csv",
            "line 6002 holds binary data (a NUL byte at byte offset 78038, near 'A9,a\\x00b,c'",
        ),
    ),
    # --- XLSX
    Case(
        "xlsx-typed-cells-formulas-merged",
        "typed.xlsx",
        _typed_workbook,
        1,
        statuses=("", "422", ""),
        # a formula's cached value is read; one never calculated (or an error) is a line
        # error naming the cell, never an empty cell
        sent=(("1001", "ab"), ("1003", "plain text")),
    ),
    Case(
        "xlsx-several-sheets-first",
        "book.xlsx",
        lambda: _xlsx(
            {
                "First": [["sku", "name~en_US"], ["F1", "first"]],
                "Second": [["sku", "name~en_US"], ["S1", "second"], ["S2", "again"]],
            }
        ),
        0,
        statuses=("",),
        sent=(("F1", "first"),),
    ),
    Case(
        "xlsx-several-sheets-named",
        "book.xlsx",
        lambda: _xlsx(
            {
                "First": [["sku", "name~en_US"], ["F1", "first"]],
                "Second": [["sku", "name~en_US"], ["S1", "second"], ["S2", "again"]],
            }
        ),
        0,
        statuses=("", ""),
        sent=(("S1", "second"), ("S2", "again")),
        args=("--sheet", "second"),
        sheet="Second",
    ),
    Case(
        "xlsx-sheet-missing",
        "book.xlsx",
        lambda: _xlsx({"First": [["sku"]], "Second": [["sku"]]}),
        2,
        says=("book.xlsx", "no sheet named 'Third'; the workbook has: 'First', 'Second'"),
        args=("--sheet", "Third"),
    ),
    Case(
        "xlsx-empty-sheet",
        "void.xlsx",
        lambda: _xlsx({"Empty": []}),
        2,
        says=("void.xlsx", "sheet 'Empty' is empty: no header row"),
    ),
    # --- big cells
    Case(
        "2mb-cell",
        "big.csv",
        lambda: H + b"A1,a," + b"x" * BIG + b"\nA2,b,small\n",
        1,
        statuses=("422", ""),
        messages=(
            "Not sent: row: the product line is 2,000,1",
            _VALID,
        ),
        says=("over the PIM's limit of 1,000,000 bytes per line",),
        sent=(("A2", "b"),),
    ),
    Case(
        "900kb-cell",
        "large.csv",
        lambda: H + b"A1,a," + "\u00e9".encode() * 450_000 + b"\n",
        0,
        statuses=("",),
        sent=(("A1", "a"),),
    ),
    # --- identifiers
    Case(
        "empty-identifier",
        "noid.csv",
        H + b",a,x\n   ,b,y\nA3,c,z\n",
        1,
        statuses=("422", "422", ""),
        messages=("Not sent: sku: is empty; every row needs one",) * 2 + (_VALID,),
        sent=(("A3", "c"),),
    ),
    Case(
        "identifier-over-max-characters",
        "longid.csv",
        H + b"L" * 256 + b",a,x\n" + b"M" * 255 + b",b,y\n",
        1,
        statuses=("422", ""),
        messages=("Not sent: sku: ", _VALID),
        sent=(("M" * 255, "b"),),
    ),
    Case(
        "duplicated-identifier",
        "twice.csv",
        H + b"A1,first,x\nA2,other,y\nA1,second,z\n",
        0,
        statuses=("", "", ""),
        sent=(("A1", "first"), ("A2", "other"), ("A1", "second")),
    ),
    Case(
        "blank-rows",
        "gaps.csv",
        H + b"A1,a,x\n,,\n  , ,\t\nA2,b,y\n",
        0,
        statuses=("", "", "", ""),
        messages=(_VALID, _SKIPPED, _SKIPPED, _VALID),
        sent=(("A1", "a"), ("A2", "b")),
    ),
    # --- cells that look like formulas; control characters; right-to-left text and emoji
    *(
        Case(
            f"text-{kind}",
            f"{kind}.csv",
            _csv([[f"T{i}", text, text] for i, text in enumerate(texts)]),
            0,
            statuses=("",) * len(texts),
            sent=tuple((f"T{i}", text) for i, text in enumerate(texts)),
        )
        for kind, texts in TEXTS.items()
    ),
    Case(
        "formulas-in-typed-columns",
        "typedformulas.csv",
        b"sku,stock_quantity,release_date\nA1,=1+1,2024-01-01\nA2,@SUM(A1),+2024-01-01\n"
        b'A3,"=HYPERLINK(""http://x"",""y"")",2024-01-01\n',
        1,
        statuses=("422", "422", "422"),
        messages=(
            'Not sent: stock_quantity: not a number: "=1+1"',
            'Not sent: stock_quantity: not a number: "@SUM(A1)"; release_date: not a date',
            '"=HYPERLINK(\\"http://x\\",\\"y\\")"',
        ),
    ),
]


def _feed_rows(
    path: Path, encoding: str | None, sheet: str | None
) -> tuple[tuple[str, ...], list[tuple[int, tuple[str, ...]]]]:
    with open_feed(path, encoding=encoding, sheet=sheet) as feed:
        return feed.header, [(row.number, row.cells) for row in feed.rows()]


def _payload(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


def _name(line: dict[str, Any]) -> str | None:
    values = line.get("values")
    if not isinstance(values, dict) or "name" not in values:
        return None
    data = values["name"][0]["data"]
    assert isinstance(data, str)
    return data


def assert_complete_feedback(
    feed: Path, feedback: Path, *, encoding: str | None = None, sheet: str | None = None
) -> list[tuple[str, str]]:
    """One feedback row per data row, in order, the feed's cells echoed; (status, message)s."""
    header, rows = _feed_rows(feed, encoding, sheet)
    fb_header, fb_rows = _feed_rows(feedback, encoding, None)
    width = len(header)
    assert fb_header == (*header, *FEEDBACK_COLUMNS)
    assert [n for n, _ in fb_rows] == [n for n, _ in rows]
    out = []
    for (number, cells), (_, echoed) in zip(rows, fb_rows, strict=True):
        padded = (*cells, *([""] * (width - len(cells))))[:width]
        assert echoed[:width] == padded, f"row {number} not echoed as read"
        if feed.suffix != ".xlsx":  # a workbook reader trims empty cells past the header
            assert echoed[width + 2 :] == cells[width:], f"row {number}: cells beyond the header"
        out.append((echoed[width], echoed[width + 1]))
    return out


def _run(
    case: Case, tmp_path: Path, command: str = "check", *extra: str
) -> tuple[CliResult, Path, Path, Path]:
    feed = tmp_path / case.file
    feed.write_bytes(case.content())
    ext = ".xlsx" if case.file.endswith(".xlsx") and case.id != "csv-named-xlsx" else ".csv"
    feedback = tmp_path / f"out.feedback{ext}"
    payload = tmp_path / "out.ndjson"
    summary = tmp_path / "summary.json"
    args = [command, str(feed), "--feedback", str(feedback), "--payload-out", str(payload)]
    args += ["--summary-json", str(summary), *case.args, *extra]
    if command == "check":
        args += ["--catalog", str(DEMO_CATALOG)]
    return run_cli(args), feedback, payload, summary


def _params(cases: list[Case]) -> list[Any]:
    return [
        pytest.param(
            c, id=c.id, marks=[pytest.mark.xfail(strict=True, reason=c.xfail)] if c.xfail else []
        )
        for c in cases
    ]


@pytest.mark.parametrize("case", _params(CASES))
def test_bad_feed(case: Case, tmp_path: Path) -> None:
    result, feedback, payload, summary = _run(case, tmp_path)
    shown = result.err + result.out
    assert "Traceback" not in shown and "internal error" not in shown, shown[-2000:]
    assert result.code == case.code, shown[-2000:]
    for text in case.says:
        assert text in shown, f"{text!r} not in:\n{shown[:3000]}"
    if case.statuses is None:
        # the feed could not be read: nothing written, and the reason on stderr
        assert result.err.startswith("feed-export: error: "), result.err[:500]
        assert not feedback.exists() and not payload.exists() and not summary.exists()
        return
    rows = assert_complete_feedback(
        tmp_path / case.file, feedback, encoding=case.encoding, sheet=case.sheet
    )
    assert tuple(status for status, _ in rows) == case.statuses
    for (_, message), expected in zip(rows, case.messages, strict=False):
        assert expected in message, message[:500]
    assert [(line["identifier"], _name(line)) for line in _payload(payload)] == list(case.sent)
    report = json.loads(summary.read_text(encoding="utf-8"))
    assert report["rows"] == len(case.statuses)
    assert report["exit_code"] == case.code


def _case(case_id: str) -> Case:
    return next(c for c in CASES if c.id == case_id)


def test_xlsx_typed_cells_are_sent_as_a_person_reads_them(tmp_path: Path) -> None:
    result, _, payload, _ = _run(_case("xlsx-typed-cells-formulas-merged"), tmp_path)
    assert result.code == 1, result.err
    assert (
        "name~en_US: a formula with no saved value; open and save the file in Excel\n      row 3"
        in result.out
    )
    values = [line["values"] for line in _payload(payload)]
    flat = [{code: entries[0]["data"] for code, entries in v.items()} for v in values]
    assert flat == [
        {
            "release_date": "2024-05-01",
            "stock_quantity": 12,
            "margin_percent": "35.5",
            "is_new": True,
            "name": "ab",
            # a merged range's value sits in its top-left cell only
            "legal_notice": "merged over two rows",
        },
        {
            "release_date": "2024-06-30",
            "stock_quantity": 7,
            "margin_percent": "1.25",
            "is_new": False,
            "name": "plain text",
            "legal_notice": "x",
        },
    ]


def test_5000_unknown_columns_every_problem_listed_and_ignoring_them_is_quick(
    tmp_path: Path,
) -> None:
    rejected, _, _, summary = _run(_case("5000-unknown-columns"), tmp_path)
    assert rejected.code == 2
    problems = json.loads(summary.read_text())["header_problems"]
    assert len(problems) == 5000
    assert problems[4999].startswith('column 5001 "unknown_attr_4999": unknown attribute')
    assert rejected.err.count("unknown attribute") == 5000
    started = time.perf_counter()
    accepted, _, payload, _ = _run(_case("5000-unknown-columns-ignored"), tmp_path)
    elapsed = time.perf_counter() - started
    assert accepted.code == 0
    assert _payload(payload) == [{"identifier": "A1"}]
    assert elapsed < 5, f"{elapsed:.1f} s to drop 5000 unknown columns"


# --- pushed to the sandbox PIM -----------------------------------------------------------


def _stored(sandbox: Sandbox, identifier: str, code: str) -> object:
    product = sandbox.state.product(identifier)
    assert product is not None, identifier
    return product["values"][code][0]["data"]


def test_push_duplicated_identifier_both_rows_in_order(sandbox: Sandbox, tmp_path: Path) -> None:
    case = _case("duplicated-identifier")
    result, feedback, _, _ = _run(case, tmp_path, "push")
    assert result.code == 0, result.err
    rows = assert_complete_feedback(tmp_path / case.file, feedback)
    assert [status for status, _ in rows] == ["201", "201", "204"]
    assert _stored(sandbox, "A1", "name") == "second"  # the later row wins
    assert _stored(sandbox, "A1", "legal_notice") == "z"


def test_push_2mb_line_is_a_line_error_and_never_sent(sandbox: Sandbox, tmp_path: Path) -> None:
    case = _case("2mb-cell")
    result, feedback, payload, _ = _run(case, tmp_path, "push")
    assert result.code == 1, result.err
    rows = assert_complete_feedback(tmp_path / case.file, feedback)
    assert rows[0][0] == "422" and rows[0][1].startswith("Not sent: row: the product line is")
    assert rows[1] == ("201", "")
    assert sandbox.stats.patch_lines == 1
    assert sandbox.state.product("A1") is None
    assert max(len(line) for line in payload.read_bytes().splitlines()) < 1_000_000


@pytest.mark.parametrize("kind", list(TEXTS), ids=list(TEXTS))
def test_push_texts_arrive_intact(sandbox: Sandbox, tmp_path: Path, kind: str) -> None:
    case = _case(f"text-{kind}")
    result, feedback, _, _ = _run(case, tmp_path, "push")
    assert result.code == 0, result.err
    rows = assert_complete_feedback(tmp_path / case.file, feedback)
    assert [status for status, _ in rows] == ["201"] * len(TEXTS[kind])
    for i, text in enumerate(TEXTS[kind]):
        assert _stored(sandbox, f"T{i}", "name") == text
        assert _stored(sandbox, f"T{i}", "legal_notice") == text


def test_push_xlsx_typed_cells(sandbox: Sandbox, tmp_path: Path) -> None:
    case = _case("xlsx-typed-cells-formulas-merged")
    result, feedback, _, _ = _run(case, tmp_path, "push")
    assert result.code == 1, result.err
    statuses = [s for s, _ in assert_complete_feedback(tmp_path / case.file, feedback)]
    assert statuses == ["201", "422", "201"]
    assert sandbox.state.product("1002") is None  # its name was a formula never calculated
    assert _stored(sandbox, "1001", "release_date") == "2024-05-01T00:00:00+00:00"
    assert _stored(sandbox, "1001", "is_new") is True
    assert _stored(sandbox, "1003", "stock_quantity") == 7


def test_push_rejected_feed_sends_nothing(sandbox: Sandbox, tmp_path: Path) -> None:
    case = _case("duplicate-header")
    result, feedback, _, _ = _run(case, tmp_path, "push")
    assert result.code == 2
    rows = assert_complete_feedback(tmp_path / case.file, feedback)
    assert [status for status, _ in rows] == ["400", "400"]
    assert sandbox.stats.patch_requests == 0


@pytest.mark.parametrize("case_id", ["empty-file", "png-image", "latin1-without-encoding"])
def test_push_unreadable_feed_never_contacts_the_pim(
    sandbox: Sandbox, tmp_path: Path, case_id: str
) -> None:
    result, feedback, _, _ = _run(_case(case_id), tmp_path, "push")
    assert result.code == 2
    assert "Traceback" not in result.err
    assert not feedback.exists()
    assert sum(sandbox.stats.requests.values()) == 0


# --- output paths that collide with the feed or with each other ---------------------------

COLLISIONS = [
    pytest.param(["--summary-json", "feed.csv"], id="summary-json-is-the-feed"),
    pytest.param(
        ["--feedback", "out.csv", "--payload-out", "out.csv"], id="payload-is-the-feedback"
    ),
    pytest.param(
        ["--feedback", "out.csv", "--summary-json", "out.csv"], id="summary-json-is-the-feedback"
    ),
    pytest.param(["--feedback", "feed.csv"], id="feedback-is-the-feed"),
    pytest.param(["--payload-out", "feed.csv"], id="payload-is-the-feed"),
]


@pytest.mark.parametrize("args", COLLISIONS)
def test_an_output_never_overwrites_the_feed_or_another_output(
    tmp_path: Path, args: list[str]
) -> None:
    feed = tmp_path / "feed.csv"
    content = H + b"A1,a,x\n"
    feed.write_bytes(content)
    result = run_cli(["check", "feed.csv", "--catalog", str(DEMO_CATALOG), *args])
    assert feed.read_bytes() == content
    assert result.code == 2, (result.code, result.err)
    assert "choose another" in result.err
