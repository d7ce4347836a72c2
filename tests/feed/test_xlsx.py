"""XLSX error cells and formulas with no saved value: flagged on their row, never read as empty."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook

from feed_export.feed.reader import open_feed
from feed_export.feed.xlsx import sheet_flaws

NO_VALUE = "a formula with no saved value; open and save the file in Excel"


def _book(path: Path, rows: list[list[object]], *, title: str = "Feed") -> Path:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title
    for values in rows:
        sheet.append(values)
    book.save(path)
    return path


def _edit_sheet(path: Path, old: str, new: str) -> None:
    """Replace XML in the first sheet (to write what Excel writes and openpyxl does not)."""
    with zipfile.ZipFile(path) as src:
        items = [(info, src.read(info.filename)) for info in src.infolist()]
    with zipfile.ZipFile(path, "w") as out:
        for info, data in items:
            if info.filename == "xl/worksheets/sheet1.xml":
                text = data.decode()
                assert old in text, text
                data = text.replace(old, new).encode()
            out.writestr(info, data)


def _read(path: Path) -> list[tuple[int, tuple[str, ...], tuple[tuple[int, str], ...]]]:
    with open_feed(path) as feed:
        return [(r.number, r.cells, r.flaws) for r in feed.rows()]


def test_a_formula_never_calculated_is_a_flaw_of_its_cell(tmp_path: Path) -> None:
    path = _book(tmp_path / "f.xlsx", [["sku", "qty", "n"], ["A1", "=1+1", 5], ["A2", 3, 4]])
    assert _read(path) == [
        (2, ("A1", "", "5"), ((1, NO_VALUE),)),
        (3, ("A2", "3", "4"), ()),
    ]


@pytest.mark.parametrize(
    "error", ["#DIV/0!", "#N/A", "#REF!", "#VALUE!"], ids=["div0", "na", "ref", "value"]
)
def test_an_error_cell_is_a_flaw_and_echoes_as_excel_shows_it(tmp_path: Path, error: str) -> None:
    path = _book(tmp_path / "f.xlsx", [["sku", "qty"], ["A1", "=1/0"]])
    _edit_sheet(
        path, '<c r="B2"><f>1/0</f><v /></c>', f'<c r="B2" t="e"><f>1/0</f><v>{error}</v></c>'
    )
    assert _read(path) == [
        (2, ("A1", error), ((1, f"Excel error {error}; fix the formula or type the value"),))
    ]


def test_saved_results_are_values_even_an_empty_text(tmp_path: Path) -> None:
    path = _book(tmp_path / "f.xlsx", [["sku", "qty", "label"], ["A1", "=1+1", '=""']])
    _edit_sheet(path, '<c r="B2"><f>1+1</f><v /></c>', '<c r="B2"><f>1+1</f><v>2</v></c>')
    _edit_sheet(path, '<c r="C2"><f>""</f><v /></c>', '<c r="C2" t="str"><f>""</f><v></v></c>')
    assert _read(path) == [(2, ("A1", "2", ""), ())]


def test_a_sheet_without_formulas_is_not_parsed(tmp_path: Path) -> None:
    path = _book(tmp_path / "f.xlsx", [["sku", "qty"], ["A1", 1]])
    assert sheet_flaws(path, "Feed") == {}


def test_columns_count_from_a_when_the_data_starts_further_right(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row, values in ((1, ("sku", "qty")), (2, ("A1", "=2*2"))):
        for column, value in enumerate(values, 3):  # columns C and D
            sheet.cell(row=row, column=column, value=value)
    path = tmp_path / "f.xlsx"
    book.save(path)
    assert _read(path) == [(2, ("", "", "A1", ""), ((3, NO_VALUE),))]


def test_the_flaws_of_the_sheet_read_and_no_other(tmp_path: Path) -> None:
    book = Workbook()
    first = book.active
    assert first is not None
    first.title = "Other"
    first.append(["sku", "qty"])
    first.append(["B1", "=1+1"])
    second = book.create_sheet("Feed")
    second.append(["sku", "qty"])
    second.append(["A1", 1])
    second.append(["A2", "=3*3"])
    path = tmp_path / "f.xlsx"
    book.save(path)
    with open_feed(path, sheet="Feed") as feed:
        assert [(r.number, r.flaws) for r in feed.rows()] == [(2, ()), (3, ((1, NO_VALUE),))]
