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
import struct
import zipfile
import zlib
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
from feed_export.feed.table import Feed, FeedFormat, ReadLimits, Row, check_header_size, is_blank

_READ_LIMITS = ReadLimits()
_MB = 1024 * 1024
#: a run of text longer than this between two tags is more than a cell can hold (Excel:
#: 32,767 characters): the file is implausible. Runs up to twice as long may pass.
MAX_TEXT_RUN = _MB
_SCAN_CHUNK = _MB
_DIMENSION = re.compile(
    rb"<(?:\w+:)?dimension\b[^>]*?\sref=\"([A-Z]{1,4})?(\d{1,9})?(?::([A-Z]{1,4})(\d{1,9}))?\""
)
_ROW_NUMBER = re.compile(rb"<(?:\w+:)?row\b[^>]*?\sr=\"(\d{1,9})\"")
_CELL_REF = re.compile(rb"\sr=\"([A-Z]{1,4})(\d{1,9})\"")


def check_workbook_zip(path: Path, limits: ReadLimits = _READ_LIMITS) -> None:
    """``FeedReadError`` unless ``path`` is an XLSX workbook within ``limits``.

    Before calamine loads anything (it reads the shared strings when the workbook is
    opened, the whole sheet when it is asked for): every part's real inflated size (a
    part that inflates beyond what it declares is damaged), their total, the number of
    shared strings and the longest run of text in them.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            if "xl/workbook.xml" in names:
                _check_parts(path, archive, limits)
                return
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as exc:
        raise FeedReadError(
            f"{path}: a damaged zip archive, not a readable workbook: {exc}"
        ) from exc
    if "xl/workbook.bin" in names:
        raise FeedReadError(f"{path}: an Excel binary workbook (.xlsb): save it as .xlsx or CSV")
    if "mimetype" in names and "content.xml" in names:
        raise FeedReadError(f"{path}: an OpenDocument spreadsheet: save it as .xlsx or CSV")
    raise FeedReadError(
        f"{path}: a zip archive, not an XLSX workbook: extract the feed from it first"
    )


def open_xlsx(path: Path, sheet: str | None, limits: ReadLimits = _READ_LIMITS) -> Feed:
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
        check_sheet_extent(path, name, limits)  # before calamine sizes the sheet in memory
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
        _check_header(path, header, limits)
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
_FLAW_REF = re.compile(r"([A-Z]{1,3})([0-9]{1,7})")
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
    parents: list[ElementTree.Element] = []
    for event, element in ElementTree.iterparse(stream, events=("start", "end")):
        if event == "start":
            parents.append(element)
            continue
        parents.pop()
        if element.tag == f"{_MAIN_NS}row":
            # a row's cells are scanned: drop it from its parent, so memory stays flat
            # whatever the number of rows (a cleared element still costs its place). The
            # parser runs ahead of the events: the rows after it may be there already, so
            # the row that ends is the parent's first child
            if parents and len(parents[-1]) and parents[-1][0] is element:
                del parents[-1][0]
            continue
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
            found = _FLAW_REF.fullmatch(element.get("r") or "")
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


# --- the limits, checked before calamine loads anything -----------------------------------


def _too_large(path: Path, what: str, limit_text: str, flag: str) -> FeedReadError:
    return FeedReadError(
        f"{path}: {what}: more than {limit_text}; the workbook is not read (a damaged or "
        f"hostile file?). If it really is that large, {flag}"
    )


def _inflated(path: Path, archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> Iterator[bytes]:
    """A part's bytes as they really inflate (not only as many as it declares)."""
    if info.flag_bits & 0x1 or info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        with archive.open(info) as stream:  # encrypted or unusual: zipfile's own reading
            while chunk := stream.read(_SCAN_CHUNK):
                yield chunk
        return
    with path.open("rb") as raw:
        raw.seek(info.header_offset)
        head = raw.read(30)
        if len(head) < 30 or head[:4] != b"PK\x03\x04":
            raise zipfile.BadZipFile(f"bad local header of {info.filename}")
        name_length, extra_length = struct.unpack("<HH", head[26:30])
        raw.seek(info.header_offset + 30 + name_length + extra_length)
        left = info.compress_size
        inflate = zlib.decompressobj(-15) if info.compress_type == zipfile.ZIP_DEFLATED else None
        while left > 0:
            data = raw.read(min(left, 64 * 1024))
            if not data:
                raise zipfile.BadZipFile(f"{info.filename} is cut short")
            left -= len(data)
            if inflate is None:
                yield data
                continue
            pending = data
            while pending:
                out = inflate.decompress(pending, _SCAN_CHUNK)
                pending = inflate.unconsumed_tail
                if out:
                    yield out
            if inflate.eof:
                break


def _check_parts(path: Path, archive: zipfile.ZipFile, limits: ReadLimits) -> None:
    """Each part's real size against what it declares; the total; the shared strings."""
    flag = f"pass --max-feed-size {limits.max_bytes // _MB * 4}"
    declared = sum(info.file_size for info in archive.infolist())
    if declared > limits.max_bytes:
        raise _too_large(path, "its parts inflate to", f"{limits.max_bytes // _MB:,} MB", flag)
    total = 0
    for info in archive.infolist():
        size = 0
        shared = info.filename.lower() == "xl/sharedstrings.xml"
        scan = _TextScan(path, info.filename) if shared else None
        for chunk in _inflated(path, archive, info):
            size += len(chunk)
            if size > info.file_size:
                raise FeedReadError(
                    f"{path}: a damaged workbook: its part {info.filename} inflates beyond the "
                    f"{info.file_size:,} bytes it declares"
                )
            if scan is not None:
                scan.feed(chunk)
        total += size
        if scan is not None and scan.strings > limits.max_cells:
            raise _too_large(
                path,
                f"{scan.strings:,} shared strings",
                f"{limits.max_cells:,}",
                "pass --max-cells N",
            )
    if total > limits.max_bytes:  # pragma: no cover - each part is at most its declared size
        raise _too_large(path, "its parts inflate to", f"{limits.max_bytes // _MB:,} MB", flag)


class _TextScan:
    """A part's XML read chunk by chunk: tags carried over whole, text runs bounded."""

    def __init__(self, path: Path, part: str) -> None:
        self.path = path
        self.part = part
        self.tail = b""
        self.strings = 0

    def feed(self, chunk: bytes) -> bytes:
        """``chunk`` with the carried-over start, cut after its last complete tag."""
        window = self.tail + chunk
        cut = window.rfind(b"<")
        if cut < 0:
            cut = len(window)
        body, self.tail = window[:cut], window[cut:]
        if len(self.tail) > MAX_TEXT_RUN:
            raise FeedReadError(
                f"{self.path}: {self.part} holds a text of more than {MAX_TEXT_RUN // _MB} MB in "
                "one piece: more than a cell can hold (32,767 characters); the workbook is not "
                "read (a damaged or hostile file?)"
            )
        self.strings += body.count(b"<si>") + body.count(b"<si ")
        return body


def check_sheet_extent(path: Path, sheet: str, limits: ReadLimits = _READ_LIMITS) -> None:
    """``FeedReadError`` if the sheet's area (first to last cell, as calamine sizes it) or
    its number of cells exceeds ``limits.max_cells``: read from the sheet's XML, before
    calamine allocates it. Both its ``<dimension>`` and every cell reference count."""
    try:
        with zipfile.ZipFile(path) as archive:
            part = _sheet_part(archive, sheet)
            if part is None:
                return
            scan = _TextScan(path, part)
            rows: list[int] = []
            columns: set[bytes] = set()
            cells = 0
            for chunk in _inflated(path, archive, archive.getinfo(part)):
                body = scan.feed(chunk)
                for first, top, last, bottom in _DIMENSION.findall(body):
                    columns.update(c for c in (first, last) if c)
                    rows.extend(int(r) for r in (top, bottom) if r)
                rows.extend(int(r) for r in _ROW_NUMBER.findall(body))
                refs = _CELL_REF.findall(body)
                if refs:
                    columns.update(column for column, _ in refs)
                    rows.append(max(int(row) for _, row in refs))
                    rows.append(min(int(row) for _, row in refs))
                cells += body.count(b"<c ") + body.count(b"<c>") + body.count(b"<c/")
                if len(rows) > 4096:
                    rows = [min(rows), max(rows)]
    except (zipfile.BadZipFile, KeyError, OSError, zlib.error, ElementTree.ParseError) as exc:
        raise FeedReadError(f"{path}: sheet {sheet!r} cannot be read: {exc}") from exc
    indexes = [_column_index(c.decode()) for c in columns]
    height = max(rows) - min(rows) + 1 if rows else 1
    width = max(indexes) - min(indexes) + 1 if indexes else 1
    area = max(height * width, cells)
    if area > limits.max_cells:
        raise FeedReadError(
            f"{path}: sheet {sheet!r} spans {height:,} rows x {width:,} columns "
            f"({area:,} cells), more than {limits.max_cells:,}; the workbook is not read (a "
            "cell far away from the data, or a hostile file?). If the sheet really is that "
            "large, pass --max-cells N"
        )


def _check_header(path: Path, header: tuple[str, ...], limits: ReadLimits) -> None:
    check_header_size(path, header, limits)
