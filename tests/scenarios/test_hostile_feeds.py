"""Tiny hostile feeds that claim huge sizes: each is refused with a plain message, exit 2.

The files are generated here, small on disk; none may make the reader allocate what it
claims. Limits are lowered where a default would need a large file to cross.
"""

from __future__ import annotations

import gzip
import time
import tracemalloc
import zipfile
from pathlib import Path

import pytest
from conftest import DEMO_CATALOG, run_cli

from feed_export.errors import FeedReadError
from feed_export.feed.reader import ReadLimits, open_feed
from feed_export.feed.xlsx import sheet_flaws

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def workbook(path: Path, sheet_data: str, *, dimension: str = "A1", shared: str = "") -> Path:
    """A minimal XLSX: one sheet with ``sheet_data`` (and shared strings, if given)."""
    parts = {
        "[Content_Types].xml": (
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-'
            'package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
            'officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/'
            'sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.'
            'worksheet+xml"/></Types>'
        ),
        "_rels/.rels": (
            '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
            '2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
            'officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
            "</Relationships>"
        ),
        "xl/workbook.xml": (
            f'<?xml version="1.0"?><workbook xmlns="{MAIN}" xmlns:r="{REL}"><sheets>'
            '<sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": (
            '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
            '2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
            'officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
            + (
                '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/'
                '2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
                if shared
                else ""
            )
            + "</Relationships>"
        ),
        "xl/worksheets/sheet1.xml": (
            f'<?xml version="1.0"?><worksheet xmlns="{MAIN}"><dimension ref="{dimension}"/>'
            f"<sheetData>{sheet_data}</sheetData></worksheet>"
        ),
    }
    if shared:
        parts["xl/sharedStrings.xml"] = f'<?xml version="1.0"?><sst xmlns="{MAIN}">{shared}</sst>'
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            archive.writestr(name, text)
    return path


HEADER_ROW = '<row r="1"><c r="A1" t="inlineStr"><is><t>sku</t></is></c></row>'


def check(path: Path, *flags: str) -> tuple[int, str, float]:
    started = time.monotonic()
    result = run_cli(["check", str(path), "--catalog", str(DEMO_CATALOG), *flags])
    return result.code, result.err, time.monotonic() - started


def test_a_sound_minimal_workbook_is_read(tmp_path: Path) -> None:
    """The builder makes workbooks calamine reads: the refusals below are the limits'."""
    path = workbook(tmp_path / "ok.xlsx", HEADER_ROW + '<row r="2"><c r="A2"><v>7</v></c></row>')
    with open_feed(path) as feed:
        assert feed.header == ("sku",)
        assert [row.cells for row in feed.rows()] == [("7",)]


FAR_CELLS = [
    # id, sheet data, dimension
    ("far-cell", HEADER_ROW + '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>', "A1:XFD1048576"),
    ("dimension-lies", HEADER_ROW + '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>', "A1:B2"),
    ("dimension-only", HEADER_ROW, "A1:XFD1048576"),
    ("row-without-refs", HEADER_ROW + '<row r="1048576"><c><v>1</v></c>' + "<c/>" * 64 + "</row>", "A1"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("data", "dimension"), [f[1:] for f in FAR_CELLS], ids=[f[0] for f in FAR_CELLS]
)
def test_a_sheet_claiming_a_far_cell_is_refused_before_it_is_loaded(
    tmp_path: Path, data: str, dimension: str
) -> None:
    path = workbook(tmp_path / "far.xlsx", data, dimension=dimension)
    assert path.stat().st_size < 2000
    code, err, took = check(path, "--max-cells", "1000000")
    assert code == 2, err
    assert "more than 1,000,000; the workbook is not read" in err
    assert "pass --max-cells N" in err
    assert took < 5


def test_one_cell_that_inflates_to_megabytes_is_refused(tmp_path: Path) -> None:
    text = "A" * (3 * 1024 * 1024)
    shared = f"<si><t>{text}</t></si>"
    data = HEADER_ROW + '<row r="2"><c r="A2" t="s"><v>0</v></c></row>'
    path = workbook(tmp_path / "bomb.xlsx", data, shared=shared)
    assert path.stat().st_size < 50_000
    code, err, _ = check(path)
    assert code == 2, err
    assert "holds a text of more than 1 MB in one piece" in err


def test_a_workbook_inflating_beyond_the_size_limit_is_refused(tmp_path: Path) -> None:
    rows = "".join(f'<row r="{n}"><c r="A{n}"><v>{n}</v></c></row>' for n in range(2, 60_000))
    path = workbook(tmp_path / "big.xlsx", HEADER_ROW + rows)
    code, err, _ = check(path, "--max-feed-size", "1")
    assert code == 2, err
    assert "its parts inflate to: more than 1 MB" in err and "--max-feed-size 4" in err


def test_too_many_shared_strings_are_refused(tmp_path: Path) -> None:
    shared = "<si><t>x</t></si>" * 50
    path = workbook(tmp_path / "strings.xlsx", HEADER_ROW, shared=shared)
    code, err, _ = check(path, "--max-cells", "20")
    assert code == 2, err
    assert "50 shared strings: more than 20" in err


def test_a_gzip_feed_of_one_endless_line_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "line.csv.gz"
    path.write_bytes(gzip.compress(b"sku," + b"a" * (70 * 1024 * 1024), compresslevel=1))
    assert path.stat().st_size < 1_000_000
    code, err, took = check(path)
    assert code == 2, err
    assert "line 1 is longer than 64 MB without a line break" in err
    assert took < 10


def test_a_gzip_feed_inflating_beyond_the_size_limit_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "big.csv.gz"
    path.write_bytes(gzip.compress(b"sku,name~en_US\n" + b"A1,x\n" * 600_000))
    code, err, _ = check(path, "--max-feed-size", "1")
    assert code == 2, err
    assert "inflates to more than 1 MB" in err and "--max-feed-size 4" in err


@pytest.mark.parametrize("quoted", [False, True], ids=["plain", "with-a-quote"])
def test_a_header_of_millions_of_columns_is_refused_fast(tmp_path: Path, quoted: bool) -> None:
    path = tmp_path / "wide.csv.gz"
    first = b'"sku",' if quoted else b"sku,"
    path.write_bytes(gzip.compress(first + b"," * 2_000_000 + b"\nA1\n"))
    assert path.stat().st_size < 50_000
    code, err, took = check(path)
    assert code == 2, err
    assert "the header row has 2,000,002 columns, more than 20,000" in err
    assert "--max-columns N" in err
    assert took < 10


def test_a_header_name_too_long_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "long.csv"
    path.write_text("sku," + "x" * 5000 + "\nA1,1\n", encoding="utf-8")
    code, err, _ = check(path)
    assert code == 2, err
    assert "header 2 is 5,000 characters long, more than 1,000" in err


def test_the_limits_reach_the_library_too(tmp_path: Path) -> None:
    path = tmp_path / "wide.csv"
    path.write_text(",".join(f"c{n}" for n in range(30)) + "\n", encoding="utf-8")
    with pytest.raises(FeedReadError, match=r"30 columns, more than 10"):
        open_feed(path, limits=ReadLimits(max_columns=10))


def test_the_error_cell_scan_stays_in_flat_memory(tmp_path: Path) -> None:
    """Many rows with formulas (saved values, no flaw): the scan keeps no row behind."""
    rows = "".join(
        f'<row r="{n}"><c r="A{n}"><f>1+1</f><v>2</v></c><c r="B{n}"><v>{n}</v></c></row>'
        for n in range(2, 40_002)
    )
    path = workbook(tmp_path / "formulas.xlsx", HEADER_ROW + rows)
    tracemalloc.start()
    try:
        assert sheet_flaws(path, "Sheet1") == {}
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 5 * 1024 * 1024  # it took 21 MB when cleared rows were kept
