"""Rows of text cells -> a table file (CSV/TSV, optionally gzip, or XLSX), streaming.

The writer of every file feed_export produces in a feed's format: feedback files (the
feed echoed with two more columns) and, for the pull direction, feeds read from the PIM.

Decisions where the contract is silent:
- Spreadsheet safety: in XLSX every cell is a string cell, never a formula or an error
  value, and characters XML cannot hold become U+FFFD. In CSV the writer leaves cells as
  given; ``safe_cell`` is for the cells feed_export writes itself, and for the feed's own
  cells when the user asks (``--safe-feedback``): the caller decides, because a feed's
  cells are echoed unchanged by default (docs/DECISIONS.md).
- Compression follows the target's name: ``.gz`` is gzip; a target named for the other
  kind of file (``.csv`` for XLSX, ``.xlsx`` for CSV) is refused rather than mislabelled.
- Rows go straight to the target (no temporary file) and are flushed every few thousand
  rows; a file is created without following a symlink at its name (``feed.output``); an
  XLSX file is assembled at ``close`` (openpyxl's write-only mode streams rows to its own
  temporary file meanwhile, so memory stays flat).
- Characters the encoding cannot hold (say "…" in latin-1) are written as ``?``.
- A target is a path or an open binary stream (standard output for ``--feedback -``); a
  stream is written the same way and left open (never compressed: the shell can pipe it).
- An XLSX table can be scanned by eye: its header row is bold and frozen, filter buttons
  cover the whole table, and a row can be ``flagged`` (tinted) and a cell carry a ``note``
  (a comment), in openpyxl's write-only mode: memory stays flat. CSV has neither.
"""

from __future__ import annotations

import csv
import errno
import gzip
import io
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Any, BinaryIO

from feed_export.errors import ConfigError, FeedExportError
from feed_export.feed.output import create_file
from feed_export.feed.reader import FeedFormat

#: rows between two flushes of the file
FLUSH_EVERY = 5000
#: the longest text an XLSX cell may hold
XLSX_MAX_CELL = 32767
#: XLSX: the tint of a flagged row (a light red, readable in print and for colour-blind eyes
#: with the text kept black), the author and the longest text of a cell's note
FLAGGED_FILL = "FFF8D7DA"
NOTE_AUTHOR = "feed_export"
MAX_NOTE = 2000
#: notes per file: openpyxl keeps them in memory until the file is saved, so a feed with
#: a million bad cells gets its first notes, and tinted rows for the rest
MAX_NOTES = 20_000

_UNSAFE_START = ("=", "+", "-", "@", "\t", "\r", "\n")
# what a spreadsheet may read as a formula once it trims the leading blanks, in ASCII and
# the fullwidth forms some applications fold to ASCII
_FORMULA_START = ("=", "+", "-", "@", "\uff1d", "\uff0b", "\uff0d", "\uff20")
# what openpyxl refuses in a cell: XML 1.0 cannot carry these control characters
_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_XLSX_ERROR_VALUES = frozenset(("#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A"))
_CSV_SUFFIXES = {".csv", ".tsv", ".tab", ".txt", ".gz"}
_XLSX_SUFFIXES = {".xlsx", ".xlsm"}


def safe_cell(text: str) -> str:
    """Text that a spreadsheet will not run as a formula (OWASP CSV-injection advice).

    A cell starting with ``= + - @``, a tab or a line break, or whose first character after
    leading blanks is one of them or their fullwidth form (U+FF1D...), gets a leading ``'``.

    >>> safe_cell("=HYPERLINK(...)"), safe_cell("-5 is below 0"), safe_cell("Created")
    ("'=HYPERLINK(...)", "'-5 is below 0", 'Created')
    >>> safe_cell(" =1+1"), safe_cell("\\n=1+1"), safe_cell("\uff1d1+1") == "'\uff1d1+1"
    ("' =1+1", "'\\n=1+1", True)
    """
    if text.startswith(_UNSAFE_START) or text.lstrip(" \t\r\n\u3000").startswith(_FORMULA_START):
        return "'" + text
    return text


#: where a table goes: a file, or an open binary stream (left open when done)
Target = Path | BinaryIO


def target_name(target: Target) -> Path:
    """How messages and the summary name a target: its path, or the stream's name.

    >>> import sys
    >>> target_name(Path("out/fb.csv")).as_posix(), target_name(sys.stdout.buffer).as_posix()
    ('out/fb.csv', '<stdout>')
    """
    if isinstance(target, Path):
        return target
    return Path(str(getattr(target, "name", "<stream>")))


def check_writable(path: Path, what: str, flag: str) -> None:
    """``ConfigError`` unless a file can be created (or replaced) at ``path``; writes nothing.

    Outputs are checked before a run starts anything, so that a typo in a folder name is
    not found after the whole feed was sent.
    """
    if path.is_symlink():
        raise ConfigError(
            f"{path} is a symbolic link: the {what} is never written through one (it could "
            f"point at any file); remove the link or choose another path ({flag})"
        )
    if path.is_dir():
        raise ConfigError(f"{path}: is a folder; give the {what} a file name ({flag})")
    if path.exists():
        if not os.access(path, os.W_OK):
            raise ConfigError(f"{path}: not writable; choose another path for the {what} ({flag})")
        return
    folder = path.absolute().parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise ConfigError(
            f"{path}: {folder} is a file, not a folder; choose another path for the {what} ({flag})"
        )
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ConfigError(
            f"{path}: cannot create the {what} in {folder} (permission denied); choose another "
            f"path ({flag})"
        )


class TableWriter:
    """Writes rows of text cells to one file, header first; a context manager."""

    kind: str = ""

    def __init__(self, path: Path, what: str) -> None:
        self.path = path
        self.what = what  # "feedback file", "feed"...: how messages name the file
        self.rows_written = 0
        self._closed = False

    def write(
        self,
        cells: Sequence[str],
        *,
        flagged: bool = False,
        notes: Mapping[int, str] | None = None,
    ) -> None:
        """Write one row (the header is written when the file is opened).

        XLSX only: ``flagged`` tints the row; ``notes`` puts a comment on the cells at
        these indexes (0-based).
        """
        if self._closed:
            raise RuntimeError(f"{self.path}: the {self.what} is already closed")
        try:
            if flagged or notes:
                self._write_marked(cells, flagged, notes or {})
            else:
                self._write(cells)
        except OSError as exc:
            raise FeedExportError(f"{self.path}: cannot write the {self.what}: {exc}") from exc
        self.rows_written += 1
        if self.rows_written % FLUSH_EVERY == 0:
            self._flush()

    def close(self) -> None:
        """Finish the file; safe to call twice."""
        if self._closed:
            return
        self._closed = True
        try:
            self._finish()
        except OSError as exc:
            raise FeedExportError(f"{self.path}: cannot write the {self.what}: {exc}") from exc

    def __enter__(self) -> TableWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # the format's part
    def _write(self, cells: Sequence[str]) -> None:
        raise NotImplementedError

    def _write_marked(self, cells: Sequence[str], flagged: bool, notes: Mapping[int, str]) -> None:
        self._write(cells)  # a format without styles writes the cells alone

    def _flush(self) -> None:
        raise NotImplementedError

    def _finish(self) -> None:
        raise NotImplementedError


class _CsvWriter(TableWriter):
    kind = "csv"

    def __init__(self, target: Target, fmt: FeedFormat, header: Sequence[str], what: str) -> None:
        super().__init__(target_name(target), what)
        encoding = "utf-8-sig" if fmt.bom and fmt.encoding == "utf-8" else fmt.encoding
        stream: IO[str]  # owned by the writer, closed in close()
        self._borrowed = not isinstance(target, Path)
        self._raw: BinaryIO | None = None  # a gzip file's own file, closed after it
        if not isinstance(target, Path):
            # a stream given (standard output): written through, detached, never closed
            stream = io.TextIOWrapper(target, encoding=encoding, errors="replace", newline="")
        elif target.name.lower().endswith(".gz"):
            self._raw = create_file(target, what)
            packed = gzip.GzipFile(filename=str(target), mode="wb", fileobj=self._raw)
            stream = io.TextIOWrapper(packed, encoding=encoding, errors="replace", newline="")
        else:
            raw = create_file(target, what)
            stream = io.TextIOWrapper(raw, encoding=encoding, errors="replace", newline="")
        self._stream = stream
        self._delimiter = fmt.delimiter
        self._line_end = fmt.line_end
        self._writer = csv.writer(stream, delimiter=fmt.delimiter, lineterminator=fmt.line_end)
        self._writer.writerow(header)

    def _write(self, cells: Sequence[str]) -> None:
        # Fast path, byte for byte what csv.writer writes: a row where no cell holds a
        # quote, a line break or the delimiter needs no quoting, and joining it is several
        # times faster than csv.writer's per-character work.
        line = self._delimiter.join(cells)
        if (
            '"' in line
            or "\n" in line
            or "\r" in line
            or line.count(self._delimiter) != len(cells) - 1
        ):
            self._writer.writerow(cells)
        else:
            self._stream.write(line + self._line_end)

    def _flush(self) -> None:
        self._stream.flush()

    def _finish(self) -> None:
        if self._borrowed and isinstance(self._stream, io.TextIOWrapper):
            self._stream.flush()
            self._stream.detach()
        else:
            try:
                self._stream.close()
            finally:
                if self._raw is not None:
                    self._raw.close()


class _XlsxWriter(TableWriter):
    kind = "xlsx"

    def __init__(
        self,
        target: Target,
        fmt: FeedFormat,
        header: Sequence[str],
        what: str,
        widths: Mapping[int, float] | None = None,
    ) -> None:
        from openpyxl import Workbook
        from openpyxl.styles import Font, PatternFill
        from openpyxl.utils import get_column_letter

        path = target_name(target)
        super().__init__(path, what)
        self._target = target
        if isinstance(target, Path):
            # Fail now, not after the whole run, if the target cannot be written.
            folder = target if target.exists() else target.parent
            if target.is_dir() or not os.access(folder, os.W_OK):
                raise PermissionError(errno.EACCES, "not writable", str(target))
        self._book = Workbook(write_only=True)
        self._sheet = self._book.create_sheet(title=(fmt.sheet or "Sheet1")[:31])
        self._fill = PatternFill("solid", start_color=FLAGGED_FILL, end_color=FLAGGED_FILL)
        self._width = len(header)  # the widest row, for the filter's range
        self._notes = 0
        for index, width in (widths or {}).items():
            self._sheet.column_dimensions[get_column_letter(index + 1)].width = width
        self._sheet.freeze_panes = "A2"  # the header stays in view
        bold = Font(bold=True)
        head = self._cells(header, every=True)
        for cell in head:
            cell.font = bold
        self._sheet.append(head)

    def _cells(self, values: Sequence[str], *, every: bool = False) -> list[Any]:
        """Values openpyxl writes as plain strings, whatever they look like.

        ``every``: a cell object for each value, empty ones included (to style them).
        """
        from openpyxl.cell import WriteOnlyCell

        if _XML_ILLEGAL.search("".join(values)):
            values = [_XML_ILLEGAL.sub("\ufffd", v) for v in values]
        out: list[Any] = []
        for value in values:
            if every:
                cell = WriteOnlyCell(self._sheet, value=value or None)
                if value:
                    cell.data_type = "s"  # text, even "=..." or "#N/A"
                out.append(cell)
            elif not value:
                out.append(None)  # no cell at all: reads back as empty
            elif value[0] in "=#" and (value[0] == "=" or value in _XLSX_ERROR_VALUES):
                # openpyxl makes "=..." a formula and "#N/A" an error value: force text
                cell = WriteOnlyCell(self._sheet, value=value)
                cell.data_type = "s"
                out.append(cell)
            else:
                out.append(value)
        return out

    def _write(self, cells: Sequence[str]) -> None:
        self._width = max(self._width, len(cells))
        self._sheet.append(self._cells(cells))

    def _write_marked(self, cells: Sequence[str], flagged: bool, notes: Mapping[int, str]) -> None:
        from openpyxl.comments import Comment

        self._width = max(self._width, len(cells))
        row = self._cells(cells, every=True)
        for index, cell in enumerate(row):
            if flagged:
                cell.fill = self._fill
            note = notes.get(index)
            if note and self._notes < MAX_NOTES:
                self._notes += 1
                comment = Comment(_XML_ILLEGAL.sub("\ufffd", note[:MAX_NOTE]), NOTE_AUTHOR)
                comment.width, comment.height = 320, 120  # points: room for a sentence or two
                cell.comment = comment
        self._sheet.append(row)

    def _flush(self) -> None:
        pass  # openpyxl streams rows to its own temporary file

    def _finish(self) -> None:
        from openpyxl.utils import get_column_letter

        # filter buttons over the whole table (openpyxl writes them after the rows)
        last = get_column_letter(max(self._width, 1))
        self._sheet.auto_filter.ref = f"A1:{last}{self.rows_written + 1}"
        if isinstance(self._target, Path):
            with create_file(self._target, self.what) as out:  # never through a symlink
                self._book.save(out)
        else:
            self._book.save(self._target)  # a stream too: zipfile writes to a pipe


def open_table(
    target: Target,
    fmt: FeedFormat,
    header: Sequence[str],
    *,
    what: str,
    flag: str,
    widths: Mapping[int, float] | None = None,
) -> TableWriter:
    """Start a table at ``target`` (a path, or a binary stream) in format ``fmt``, header written.

    ``what`` names the file in messages, ``flag`` is the option that chooses its path.
    Raises ``ConfigError`` if the file cannot be created or its name says the other format.
    """
    if not isinstance(target, str | os.PathLike):
        if fmt.kind == "xlsx":
            return _XlsxWriter(target, fmt, header, what, widths)
        return _CsvWriter(target, fmt, header, what)
    path = Path(target)
    suffix = path.suffix.lower()
    if fmt.kind == "xlsx" and suffix in _CSV_SUFFIXES:
        raise ConfigError(
            f"{path}: the feed is an XLSX workbook, so its {what} is one too: "
            f"give the {what} an .xlsx name"
        )
    if fmt.kind == "csv" and suffix in _XLSX_SUFFIXES:
        raise ConfigError(
            f"{path}: the feed is a CSV file, so its {what} is one too: give the {what} a .csv name"
        )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if fmt.kind == "xlsx":
            return _XlsxWriter(path, fmt, header, what, widths)
        return _CsvWriter(path, fmt, header, what)
    except OSError as exc:
        raise ConfigError(
            f"{path}: cannot create the {what}: {exc.strerror or exc}; "
            f"choose another path with {flag}"
        ) from exc
