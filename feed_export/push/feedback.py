"""Outcomes -> feedback file: the feed row for row, plus the PIM's status and message.

The feedback file is the feed in its own format (CSV with the feed's delimiter, encoding,
BOM and line ending; XLSX for XLSX), every column and cell echoed as read, with two columns
appended: ``akeneo_status_code`` and ``akeneo_message``.

Decisions where the contract is silent:
- A feedback file fed again: its old ``akeneo_status_code`` / ``akeneo_message`` columns
  are dropped from the echo and fresh ones appended, so they never pile up.
- Ragged rows: a short row is padded with empty cells to the header's width, so the two
  feedback columns always sit under their headers. A row with more cells than the header
  keeps them all (nothing of the user's data is lost): the feedback columns come right
  after the header's width and the extra cells follow them, still beyond any header. A tool
  importing the file back by header finds every value where it expects it.
- Spreadsheet safety: the cells feed_export writes itself (status, message) go through
  ``safe_cell`` in CSV; the user's own cells are echoed unchanged. In XLSX every cell is a
  string cell, never a formula or an error value, and characters XML cannot hold become
  U+FFFD. The status is written as text too, like every other cell.
- Compression follows the target's name: ``.gz`` is gzip (the default path of a
  ``.csv.gz`` feed is ``.feedback.csv.gz``); a target named for the other kind of file
  (``.csv`` for an XLSX feed, ``.xlsx`` for a CSV feed) is refused rather than mislabelled.
- Rows are written straight to the target (no temporary file): if the process is killed,
  the rows answered so far are on disk, flushed every few thousand rows, which says which
  rows reached the PIM. An XLSX file is assembled at ``close`` (openpyxl's write-only mode
  streams the rows to a temporary file meanwhile, so memory stays flat).
- Characters the feed's encoding cannot hold (in a message, say "…" in latin-1) are
  written as ``?``.
"""

from __future__ import annotations

import csv
import errno
import gzip
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO

from feed_export.errors import ConfigError, FeedExportError
from feed_export.feed.headers import FEEDBACK_COLUMNS
from feed_export.feed.reader import FeedFormat, Row

#: rows between two flushes of the feedback file
FLUSH_EVERY = 5000
#: the longest text an XLSX cell may hold
XLSX_MAX_CELL = 32767

_UNSAFE_START = ("=", "+", "-", "@", "\t", "\r")
# what openpyxl refuses in a cell: XML 1.0 cannot carry these control characters
_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_XLSX_ERROR_VALUES = frozenset(("#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A"))
_CSV_SUFFIXES = {".csv", ".tsv", ".tab", ".txt", ".gz"}
_XLSX_SUFFIXES = {".xlsx", ".xlsm"}


@dataclass(frozen=True, slots=True)
class Outcome:
    """What happened to one data row."""

    row: int
    status: int | None  # None: empty status cell (dry-run valid, skipped empty row)
    message: str


def safe_cell(text: str) -> str:
    """Text that a spreadsheet will not run as a formula (OWASP CSV-injection advice).

    >>> safe_cell("=HYPERLINK(...)"), safe_cell("-5 is below 0"), safe_cell("Created")
    ("'=HYPERLINK(...)", "'-5 is below 0", 'Created')
    """
    return "'" + text if text.startswith(_UNSAFE_START) else text


def default_feedback_path(feed_path: Path) -> Path:
    """``<name>.feedback.<ext>`` beside the feed.

    >>> default_feedback_path(Path("feeds/apparel.csv.gz")).as_posix()
    'feeds/apparel.feedback.csv.gz'
    """
    name = feed_path.name
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem:  # no extension, or a dot file such as ".feed"
        return feed_path.with_name(name + ".feedback")
    if ext.lower() == "gz":
        inner_stem, inner_dot, inner_ext = stem.rpartition(".")
        if inner_dot and inner_stem:
            stem, ext = inner_stem, f"{inner_ext}.{ext}"
    if ext.lower() == "xlsm":  # the feedback is a plain workbook: no macros
        ext = "xlsx"
    return feed_path.with_name(f"{stem}.feedback.{ext}")


class FeedbackWriter:
    """Writes one feedback row per data row, in the order given; a context manager."""

    def __init__(self, path: Path, header: Sequence[str]) -> None:
        self.path = path
        self.rows_written = 0
        self._closed = False
        header = list(header)
        self._width = len(header)
        old = {i for i, h in enumerate(header) if h.strip() in FEEDBACK_COLUMNS}
        # indices of the feed's own columns; None when nothing is dropped (the fast path)
        self._keep: list[int] | None = (
            [i for i in range(self._width) if i not in old] if old else None
        )
        self._header = [header[i] for i in self._keep] if self._keep is not None else header

    def _layout(self, cells: Sequence[str], status: str, message: str) -> list[str]:
        """The row's cells padded to the header, the two feedback cells, any extra cells."""
        width = self._width
        keep = self._keep
        n = len(cells)
        if keep is None:
            if n == width:
                return [*cells, status, message]
            if n < width:
                return [*cells, *([""] * (width - n)), status, message]
            return [*cells[:width], status, message, *cells[width:]]
        own = [cells[i] if i < n else "" for i in keep]
        return [*own, status, message, *cells[width:]]

    def write(self, row: Row, outcome: Outcome) -> None:
        """Echo ``row`` with ``outcome`` appended."""
        if self._closed:
            raise RuntimeError(f"{self.path}: the feedback file is already closed")
        status = "" if outcome.status is None else str(outcome.status)
        try:
            self._write(row.cells, status, outcome.message)
        except OSError as exc:
            raise FeedExportError(f"{self.path}: cannot write the feedback file: {exc}") from exc
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
            raise FeedExportError(f"{self.path}: cannot write the feedback file: {exc}") from exc

    def __enter__(self) -> FeedbackWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # the format's part
    def _write(self, cells: Sequence[str], status: str, message: str) -> None:
        raise NotImplementedError

    def _flush(self) -> None:
        raise NotImplementedError

    def _finish(self) -> None:
        raise NotImplementedError


class _CsvFeedbackWriter(FeedbackWriter):
    def __init__(self, path: Path, fmt: FeedFormat, header: Sequence[str]) -> None:
        super().__init__(path, header)
        encoding = "utf-8-sig" if fmt.bom and fmt.encoding == "utf-8" else fmt.encoding
        stream: IO[str]  # owned by the writer, closed in close()
        if path.name.lower().endswith(".gz"):
            stream = gzip.open(path, "wt", encoding=encoding, errors="replace", newline="")  # noqa: SIM115
        else:
            stream = path.open("w", encoding=encoding, errors="replace", newline="")
        self._stream = stream
        self._delimiter = fmt.delimiter
        self._line_end = fmt.line_end
        self._writer = csv.writer(stream, delimiter=fmt.delimiter, lineterminator=fmt.line_end)
        self._writer.writerow([*self._header, *FEEDBACK_COLUMNS])

    def _write(self, cells: Sequence[str], status: str, message: str) -> None:
        values = self._layout(cells, status, safe_cell(message))
        # Fast path, byte for byte what csv.writer writes: a row where no cell holds a
        # quote, a line break or the delimiter needs no quoting, and joining it is several
        # times faster than csv.writer's per-character work.
        line = self._delimiter.join(values)
        if (
            '"' in line
            or "\n" in line
            or "\r" in line
            or line.count(self._delimiter) != len(values) - 1
        ):
            self._writer.writerow(values)
        else:
            self._stream.write(line + self._line_end)

    def _flush(self) -> None:
        self._stream.flush()

    def _finish(self) -> None:
        self._stream.close()


class _XlsxFeedbackWriter(FeedbackWriter):
    def __init__(self, path: Path, fmt: FeedFormat, header: Sequence[str]) -> None:
        from openpyxl import Workbook

        super().__init__(path, header)
        # Fail now, not after the whole run, if the target cannot be written.
        target = path if path.exists() else path.parent
        if path.is_dir() or not os.access(target, os.W_OK):
            raise PermissionError(errno.EACCES, "not writable", str(path))
        self._book = Workbook(write_only=True)
        self._sheet = self._book.create_sheet(title=(fmt.sheet or "Sheet1")[:31])
        self._sheet.append(self._cells([*self._header, *FEEDBACK_COLUMNS]))

    def _cells(self, values: list[str]) -> list[object]:
        """Values openpyxl writes as plain strings, whatever they look like."""
        from openpyxl.cell import WriteOnlyCell

        if _XML_ILLEGAL.search("".join(values)):
            values = [_XML_ILLEGAL.sub("\ufffd", v) for v in values]
        out: list[object] = []
        for value in values:
            if not value:
                out.append(None)  # no cell at all: reads back as empty
            elif value[0] in "=#" and (value[0] == "=" or value in _XLSX_ERROR_VALUES):
                # openpyxl makes "=..." a formula and "#N/A" an error value: force text
                cell = WriteOnlyCell(self._sheet, value=value)
                cell.data_type = "s"
                out.append(cell)
            else:
                out.append(value)
        return out

    def _write(self, cells: Sequence[str], status: str, message: str) -> None:
        if len(message) > XLSX_MAX_CELL:
            message = message[: XLSX_MAX_CELL - 1] + "…"
        self._sheet.append(self._cells(self._layout(cells, status, message)))

    def _flush(self) -> None:
        pass  # openpyxl streams rows to its own temporary file

    def _finish(self) -> None:
        self._book.save(self.path)


def open_feedback(path: Path, fmt: FeedFormat, header: Sequence[str]) -> FeedbackWriter:
    """Start the feedback file at ``path`` for a feed of format ``fmt`` and this header.

    Raises ``ConfigError`` if the file cannot be created or its name says the other format.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if fmt.kind == "xlsx" and suffix in _CSV_SUFFIXES:
        raise ConfigError(
            f"{path}: the feed is an XLSX workbook, so its feedback file is one too: "
            "give the feedback file an .xlsx name"
        )
    if fmt.kind == "csv" and suffix in _XLSX_SUFFIXES:
        raise ConfigError(
            f"{path}: the feed is a CSV file, so its feedback file is one too: "
            "give the feedback file a .csv name"
        )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if fmt.kind == "xlsx":
            return _XlsxFeedbackWriter(path, fmt, header)
        return _CsvFeedbackWriter(path, fmt, header)
    except OSError as exc:
        raise ConfigError(
            f"{path}: cannot create the feedback file: {exc.strerror or exc}; "
            "choose another path with --feedback"
        ) from exc
