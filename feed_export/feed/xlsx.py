"""XLSX workbooks -> header and rows of text (calamine); error cells and lost formulas flagged.

calamine (Rust) reads the sheet into memory fast and safely, and gives typed values,
turned into text as a person reads them (``cell_text``). It gives an error cell
(``#DIV/0!``) and a formula with no saved result (files written by scripts) as an empty
cell, which must never reach the PIM as "empty": so the sheet's XML is also scanned for
them (only when it holds formulas or error cells at all) and each becomes a flaw of its
row (``Row.flaws``), which the decoder turns into a line error naming the cell.

Decisions where the contract is silent:
- The first visible worksheet unless ``sheet`` names one (any case).
- Typed cells become text as a person reads them: numbers with at most 15 significant
  digits, as Excel shows them (``12.0`` -> ``12``, a computed ``0.30000000000000004`` ->
  ``0.3``), never in scientific notation between 1e-7 and 1e21; dates ``YYYY-MM-DD``;
  datetimes ISO-8601; times ``HH:MM:SS``; durations ``[h]:mm:ss``; booleans ``true``/``false``.
- A formula's saved value counts; the value of a merged range is in its top-left cell only.
  Empty columns left of the data are kept as empty cells so columns line up with the sheet.
- An error cell reads as Excel shows it (``#DIV/0!``) and a formula never calculated as an
  empty text, each with its flaw: whatever the empty-cell policy, the row is not sent.
- calamine holds the sheet in memory (XLSX is at most 1,048,576 rows); rows are still
  converted one at a time.
"""

from __future__ import annotations

import datetime as dt
import posixpath
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from decimal import Decimal
from pathlib import Path
from typing import IO
from xml.etree import ElementTree

from python_calamine import (
    CalamineError,
    CalamineWorkbook,
    PasswordError,
    SheetTypeEnum,
    SheetVisibleEnum,
)

from feed_export.errors import FeedReadError
from feed_export.feed.table import Feed, FeedFormat, Row, is_blank


def check_workbook_zip(path: Path) -> None:
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError) as exc:
        raise FeedReadError(
            f"{path}: a damaged zip archive, not a readable workbook: {exc}"
        ) from exc
    if "xl/workbook.xml" in names:
        return
    if "xl/workbook.bin" in names:
        raise FeedReadError(f"{path}: an Excel binary workbook (.xlsb): save it as .xlsx or CSV")
    if "mimetype" in names and "content.xml" in names:
        raise FeedReadError(f"{path}: an OpenDocument spreadsheet: save it as .xlsx or CSV")
    raise FeedReadError(
        f"{path}: a zip archive, not an XLSX workbook: extract the feed from it first"
    )


def open_xlsx(path: Path, sheet: str | None) -> Feed:
    try:
        book = CalamineWorkbook.from_path(str(path))
    except PasswordError as exc:
        raise FeedReadError(
            f"{path}: the workbook is password-protected: save an unprotected copy"
        ) from exc
    except (CalamineError, OSError, ValueError) as exc:
        raise FeedReadError(f"{path}: cannot be read as an XLSX workbook: {exc}") from exc
    try:
        name = _pick_sheet(path, book, sheet)
        try:
            data = book.get_sheet_by_name(name)
        except (CalamineError, ValueError) as exc:
            raise FeedReadError(f"{path}: sheet {name!r} cannot be read: {exc}") from exc
        # calamine drops empty columns left of the data; put them back so columns line up
        offset = data.start[1] if data.start else 0
        first = next(iter(data.iter_rows()), None)
        if first is None:
            raise FeedReadError(f"{path}: sheet {name!r} is empty: no header row")
        header = _xlsx_cells(first, offset)
        if is_blank(header):
            raise FeedReadError(
                f"{path}: sheet {name!r}: row 1 is empty: the header must be the first row "
                "(remove the empty rows above the header)"
            )
    except BaseException:
        book.close()
        raise
    fmt = FeedFormat(kind="xlsx", sheet=name)
    flaws = sheet_flaws(path, name)

    def rows() -> Iterator[Row]:
        # the sheet is in memory (calamine read it whole): each pass walks it again
        source = iter(data.iter_rows())
        next(source, None)  # the header
        return _xlsx_rows(source, offset, len(header), flaws)

    def check(watch: Callable[[Row], None] | None) -> None:
        # reading the sheet was the validation; a watcher gets a pass of its own
        if watch is not None:
            for row in rows():
                watch(row)

    return Feed(path, fmt, header, rows, book.close, check)


def _pick_sheet(path: Path, book: CalamineWorkbook, sheet: str | None) -> str:
    names: list[str] = list(book.sheet_names)
    if not names:
        raise FeedReadError(f"{path}: the workbook has no sheets")
    if sheet is None:
        for meta in book.sheets_metadata:
            if meta.typ == SheetTypeEnum.WorkSheet and meta.visible == SheetVisibleEnum.Visible:
                return meta.name
        return names[0]
    if sheet in names:
        return sheet
    folded = [n for n in names if n.casefold() == sheet.casefold()]
    if folded:
        return folded[0]
    listed = ", ".join(repr(n) for n in names)
    raise FeedReadError(f"{path}: no sheet named {sheet!r}; the workbook has: {listed}")


def _xlsx_rows(
    source: Iterator[Sequence[object]],
    offset: int,
    width: int,
    flaws: dict[int, list[tuple[int, str, str]]],
) -> Iterator[Row]:
    for number, values in enumerate(source, 2):
        cells = _xlsx_cells(values, offset)
        if len(cells) > width and not any(cells[width:]):
            cells = cells[:width]
        found = flaws.get(number)
        if found is None:
            yield Row(number, cells)
            continue
        # an error cell echoes as Excel shows it ("#DIV/0!"), never as an empty cell
        shown = list(cells)
        for index, _, text in found:
            if text and index < len(shown):
                shown[index] = text
        yield Row(number, tuple(shown), tuple((index, what) for index, what, _ in found))


def _xlsx_cells(values: Iterable[object], offset: int) -> tuple[str, ...]:
    cells = [cell_text(v) for v in values]
    if offset:
        cells[:0] = [""] * offset
    return tuple(cells)


def cell_text(value: object) -> str:
    """A typed spreadsheet value as the text a person reads in the cell.

    >>> [cell_text(v) for v in (12.0, 12.5, 0.1 + 0.2, True, dt.date(2024, 5, 1), None)]
    ['12', '12.5', '0.3', 'true', '2024-05-01', '']
    """
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return number_text(value)
    if isinstance(value, dt.datetime):
        return value.isoformat(timespec="milliseconds" if value.microsecond else "seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.isoformat(timespec="milliseconds" if value.microsecond else "seconds")
    if isinstance(value, dt.timedelta):
        seconds = round(value.total_seconds())
        sign = "-" if seconds < 0 else ""
        hours, rest = divmod(abs(seconds), 3600)
        return f"{sign}{hours}:{rest // 60:02d}:{rest % 60:02d}"
    return str(value)


def number_text(value: float) -> str:
    """A float as Excel shows it: 15 significant digits, no exponent for ordinary sizes.

    >>> [number_text(v) for v in (12.0, -0.0, 1e20, 1e-7, 2.5e-9, 123456789.125)]
    ['12', '0', '100000000000000000000', '0.0000001', '2.5e-09', '123456789.125']
    """
    if value != value or value in (float("inf"), float("-inf")):
        return str(value)
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    text = format(value, ".15g")
    if "e" in text and 1e-7 <= abs(value) < 1e21:
        text = format(Decimal(text), "f")
    return text


_MAIN_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PKG_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_CELL_REF = re.compile(r"([A-Z]{1,3})([0-9]{1,7})")
#: what says a sheet may hold a formula or an error cell at all (checked before parsing)
_MARKERS = (b"<f>", b"<f ", b"<f/>", b't="e"', b"t='e'", b":f>", b":f ")


def sheet_flaws(path: Path, sheet: str) -> dict[int, list[tuple[int, str, str]]]:
    """Cells calamine reads as empty that are not: ``{row: [(column, what, text)]}``.

    An error cell (``t="e"``) is ``Excel error #DIV/0!``; a formula whose saved value is
    missing (files written by scripts are never calculated) is ``a formula with no saved
    value``. A formula whose saved result is the empty string (``t="str"``) is a real empty
    value. Rows are numbered like ``Row.number``: calamine's first row (``first_row``,
    0-based in the sheet) is row 1. A sheet with neither is read no further than its bytes.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            part = _sheet_part(archive, sheet)
            if part is None or not _has_markers(archive, part):
                return {}
            with archive.open(part) as stream:
                return _scan_cells(stream)
    except (zipfile.BadZipFile, KeyError, OSError, ElementTree.ParseError) as exc:
        raise FeedReadError(f"{path}: sheet {sheet!r} cannot be read: {exc}") from exc


def _sheet_part(archive: zipfile.ZipFile, sheet: str) -> str | None:
    """The archive member holding ``sheet``'s XML, from the workbook and its relations."""
    book = ElementTree.fromstring(archive.read("xl/workbook.xml"))
    rel_id = None
    for element in book.iter(f"{_MAIN_NS}sheet"):
        if element.get("name") == sheet:
            rel_id = element.get(f"{_REL_NS}id")
    if rel_id is None:
        return None
    rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    for rel in rels.iter(f"{_PKG_NS}Relationship"):
        if rel.get("Id") == rel_id:
            target = rel.get("Target") or ""
            if target.startswith("/"):
                return target.lstrip("/")
            return posixpath.normpath(posixpath.join("xl", target))
    return None


def _has_markers(archive: zipfile.ZipFile, part: str) -> bool:
    tail = b""
    with archive.open(part) as stream:
        while chunk := stream.read(1 << 20):
            window = tail + chunk
            if any(marker in window for marker in _MARKERS):
                return True
            tail = chunk[-8:]
    return False


def _scan_cells(stream: IO[bytes]) -> dict[int, list[tuple[int, str, str]]]:
    flaws: dict[int, list[tuple[int, str, str]]] = {}
    for _, element in ElementTree.iterparse(stream, events=("end",)):
        if element.tag != f"{_MAIN_NS}c":
            continue
        kind = element.get("t")
        formula = element.find(f"{_MAIN_NS}f")
        value = element.find(f"{_MAIN_NS}v")
        saved = value.text if value is not None and value.text is not None else None
        what = text = ""
        if kind == "e":
            text = saved or "#VALUE!"
            what = f"Excel error {text}; fix the formula or type the value"
        elif formula is not None and not saved and kind != "str":
            what = "a formula with no saved value; open and save the file in Excel"
        if what:
            found = _CELL_REF.fullmatch(element.get("r") or "")
            if found is not None:
                column = _column_index(found.group(1))
                row = int(found.group(2))
                flaws.setdefault(row, []).append((column, what, text))
        element.clear()
    return flaws


def _column_index(letters: str) -> int:
    """``A`` -> 0, ``Z`` -> 25, ``AA`` -> 26."""
    index = 0
    for letter in letters:
        index = index * 26 + ord(letter) - 64
    return index - 1
