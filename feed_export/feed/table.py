"""A feed as the rest of the package sees it: its format, its header, its rows of text.

``Row`` is a record's identity end to end: its spreadsheet row number (the header is row
1) and its cells as text. ``Feed`` is an open feed with one validation pass and one pass
over its rows (see ``Feed.check``); ``feed.reader`` and ``feed.source`` make them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Literal

from feed_export.errors import FeedReadError


@dataclass(frozen=True, slots=True)
class Row:
    """One record of the feed: its spreadsheet row number and its cells as text."""

    number: int  # header is 1, first data row is 2
    cells: tuple[str, ...]  # every cell as text, exactly as read (ragged rows kept ragged)
    #: cells whose text is not their value: (column index, what is wrong), e.g. an XLSX
    #: error cell (``Excel error #DIV/0!``); the row is never sent as it reads
    flaws: tuple[tuple[int, str], ...] = ()


@dataclass(frozen=True, slots=True)
class FeedFormat:
    """How a feed is stored, so the feedback file can be written the same way."""

    kind: Literal["csv", "xlsx"]
    delimiter: str = ","
    encoding: str = "utf-8"  # the codec used to read (utf-8 also when a BOM was present)
    bom: bool = False  # the file began with a UTF-8 BOM
    gzip: bool = False
    sheet: str | None = None  # xlsx: the sheet read
    line_end: str = "\r\n"  # csv: the header's line ending, reused for the feedback file


@dataclass(frozen=True, slots=True)
class ReadLimits:
    """How large a feed may be before it is refused, unread (a ``FeedReadError`` that names
    the limit and the flag raising it). Tiny hostile files claim huge sizes: a gzip or XLSX
    part that inflates without end, a sheet that claims a cell at ``XFD1048576``, a header
    of millions of columns; each is refused before it is loaded."""

    max_bytes: int = 4 * 1024**3  # inflated: a gzip feed, an XLSX's parts (--max-feed-size)
    max_cells: int = 30_000_000  # XLSX: cells of the sheet's area, shared strings (--max-cells)
    max_columns: int = 20_000  # header columns (--max-columns)
    max_header_chars: int = 1_000  # the longest header name
    max_line_chars: int = 64 * 1024 * 1024  # the longest line of a CSV (a cell: 50 MB)


def check_header_size(path: Path, header: Sequence[str], limits: ReadLimits) -> None:
    """``FeedReadError`` for a header of too many columns or a name too long to be one."""
    if len(header) > limits.max_columns:
        raise too_many_columns(path, len(header), limits)
    for number, name in enumerate(header, 1):
        if len(name) > limits.max_header_chars:
            raise FeedReadError(
                f"{path}: header {number} is {len(name):,} characters long, more than "
                f"{limits.max_header_chars:,}: not a column name (is row 1 the header?)"
            )


def too_many_columns(path: Path, count: int, limits: ReadLimits) -> FeedReadError:
    return FeedReadError(
        f"{path}: the header row has {count:,} columns, more than {limits.max_columns:,}: "
        "the feed is not read. If it really has that many, pass --max-columns N"
    )


class Feed:
    """An open feed: its format, its header, one validation pass and one pass over its rows.

    ``check(watch)`` reads the whole feed once to prove it can be read to the end (a CSV
    is decoded and parsed completely), handing every data row to ``watch`` when one is
    given; ``rows()`` is the pass that sends, and runs ``check()`` first if nobody did, so
    no row is handed out from a feed that would fail halfway.
    """

    def __init__(
        self,
        path: Path,
        fmt: FeedFormat,
        header: tuple[str, ...],
        rows: Callable[[], Iterator[Row]],
        close: Callable[[], None],
        check: Callable[[Callable[[Row], None] | None], None] | None = None,
    ) -> None:
        self.path = path
        self.format = fmt
        self.header = header
        self._rows: Callable[[], Iterator[Row]] | None = rows
        self._close = close
        self._check = check

    @property
    def checked(self) -> bool:
        """Whether the validation pass has run (it runs once)."""
        return self._check is None

    def check(self, watch: Callable[[Row], None] | None = None) -> None:
        """The validation pass: read every row once; ``watch`` sees each data row.

        Raises ``FeedReadError`` naming the row (and byte) that cannot be read. Without a
        ``watch``, a format that needs no pass for validation (XLSX, rows in memory) is
        not read at all.
        """
        check, self._check = self._check, None
        if check is None:
            raise RuntimeError(f"{self.path}: the feed was checked already")
        check(watch)

    def rows(self) -> Iterator[Row]:
        """The data rows (blank ones included), numbered from 2; can be iterated once."""
        if self._rows is None:
            raise RuntimeError(f"{self.path}: Feed.rows() can be iterated only once")
        if self._check is not None:
            self.check()
        rows, self._rows = self._rows, None
        return rows()

    def close(self) -> None:
        """Release the file; safe to call twice."""
        close, self._close = self._close, _nothing
        close()

    def __enter__(self) -> Feed:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _nothing() -> None:
    pass


def is_blank(cells: Sequence[str]) -> bool:
    """True if every cell is empty or whitespace (such a row is skipped, not sent)."""
    return not "".join(cells).strip()
