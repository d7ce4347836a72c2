"""Where a run's rows come from: a feed file, or a header and rows held in memory.

A run reads its source twice at most: once for the validation pass (``Feed.check``,
which proves the whole feed can be read and lets the run look at every row before
anything is sent) and once to send (``Feed.rows``). A file is opened by ``open_feed``;
rows in memory (a DataFrame's, a test's) are served by the same ``Feed`` interface, so
the stages above never know which it is.

>>> source = FeedSource.from_rows(["sku", "name~en_US"], [["A1", "Shirt"], ["A2", ""]])
>>> with source.open() as feed:
...     feed.header, [row.cells for row in feed.rows()]
(('sku', 'name~en_US'), [('A1', 'Shirt'), ('A2', '')])
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from feed_export.config import ExportOptions
from feed_export.errors import FeedReadError
from feed_export.feed.reader import Feed, FeedFormat, ReadLimits, Row, open_feed

#: how rows in memory describe themselves in messages
ROWS_IN_MEMORY = "<rows in memory>"

RowsFactory = Callable[[], Iterable[Sequence[object]]]


@dataclass(frozen=True, slots=True)
class FeedSource:
    """A feed to run: ``FeedSource.file(path)`` or ``FeedSource.from_rows(header, rows)``.

    ``path`` is the file (None for rows in memory); ``folder`` is where relative paths in
    cells are resolved and where the run keeps its state (``.feed_export/``) by default.
    """

    name: str
    path: Path | None
    folder: Path
    _open: Callable[[], Feed]

    @classmethod
    def file(
        cls,
        path: Path,
        *,
        encoding: str | None = None,
        delimiter: str | None = None,
        sheet: str | None = None,
        limits: ReadLimits | None = None,
    ) -> FeedSource:
        """A CSV/TSV (optionally gzip) or XLSX file, read as ``open_feed`` reads it."""
        path = Path(path)
        bounds = limits or ReadLimits()

        def open_file() -> Feed:
            return open_feed(
                path, encoding=encoding, delimiter=delimiter, sheet=sheet, check=False,
                limits=bounds,
            )  # fmt: skip

        return cls(str(path), path, path.parent, open_file)

    @classmethod
    def from_rows(
        cls,
        header: Sequence[str],
        rows: Sequence[Sequence[object]] | RowsFactory,
        *,
        name: str = ROWS_IN_MEMORY,
        folder: Path | None = None,
        fmt: FeedFormat | None = None,
    ) -> FeedSource:
        """A header and data rows in memory; every cell must be text (``None`` reads as "").

        ``rows`` is a sequence, or a function that returns a fresh iterable of rows each
        time it is called (a run reads its rows twice). ``fmt`` says how a feedback file
        written for these rows looks (default: CSV, comma, UTF-8).
        """
        head = tuple(str(h) for h in header)
        factory: RowsFactory = rows if callable(rows) else (lambda: rows)
        label = name
        fmt = fmt or FeedFormat(kind="csv")

        def open_rows() -> Feed:
            def data() -> Iterator[Row]:
                return _memory_rows(label, factory())

            def check(watch: Callable[[Row], None] | None) -> None:
                for row in data():  # cells that are not text are refused here, before sending
                    if watch is not None:
                        watch(row)

            return Feed(Path(label), fmt, head, data, _nothing, check)

        return cls(label, None, folder or Path.cwd(), open_rows)

    def open(self) -> Feed:
        """The feed with its header read; run ``check`` (the validation pass), then ``rows``."""
        return self._open()


def read_limits(options: ExportOptions) -> ReadLimits:
    """The ``ReadLimits`` the options ask for (``--max-feed-size``, ``--max-cells``...)."""
    return ReadLimits(
        max_bytes=options.max_feed_size * 1024 * 1024,
        max_cells=options.max_cells,
        max_columns=options.max_columns,
    )


def _nothing() -> None:
    pass


def _memory_rows(name: str, rows: Iterable[Sequence[object]]) -> Iterator[Row]:
    for number, cells in enumerate(rows, 2):
        texts: list[str] = []
        for column, cell in enumerate(cells, 1):
            if cell is None:
                texts.append("")
            elif isinstance(cell, str):
                texts.append(cell)
            else:
                raise FeedReadError(
                    f"{name}: row {number}, column {column}: every cell must be text, got "
                    f"{type(cell).__name__} {cell!r}; convert the values to text first "
                    '(for a DataFrame: df.astype(str), with empty cells as "")'
                )
        yield Row(number, tuple(texts))
