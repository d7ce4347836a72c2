"""Outcomes -> feedback file: the feed row for row, plus the PIM's status and message.

The feedback file is the feed in its own format (CSV with the feed's delimiter, encoding,
BOM and line ending; XLSX for XLSX; written by ``feed.writer``), every column and cell
echoed as read, with two columns appended: ``akeneo_status_code`` and ``akeneo_message``.
``OrderedFeedback`` writes the outcomes in feed order while they arrive in any order.

Decisions where the contract is silent:
- A feedback file fed again: its old ``akeneo_status_code`` / ``akeneo_message`` columns
  are dropped from the echo and fresh ones appended, so they never pile up.
- Ragged rows: a short row is padded with empty cells to the header's width, so the two
  feedback columns always sit under their headers. A row with more cells than the header
  keeps them all (nothing of the user's data is lost): the feedback columns come right
  after the header's width and the extra cells follow them, still beyond any header. A tool
  importing the file back by header finds every value where it expects it.
- XLSX feedback can be scanned by eye: a row not accepted is tinted, and each bad cell
  found before sending carries a comment naming its problem (the header is bold, frozen
  and filterable: ``feed.writer``). Accepted and blank rows stay plain.
- Spreadsheet safety: the message feed_export writes goes through ``safe_cell`` in CSV;
  the user's own cells are echoed unchanged, so that the feedback and ``--rejected``
  files push back to the same values (``-5`` stays ``-5``), unless ``safe`` (the CLI's
  ``--safe-feedback``) escapes them too (docs/DECISIONS.md). ``feed.writer`` makes every
  XLSX cell text.
  The status is written as text too, like every other cell.
- The default path of a ``.csv.gz`` feed's feedback is ``.feedback.csv.gz``; an ``.xlsm``
  feed's feedback is a plain ``.xlsx`` workbook.
- Rows are written straight to the target: if the process is killed, the rows answered
  so far are on disk, which says which rows reached the PIM.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from feed_export.feed.headers import FEEDBACK_COLUMNS
from feed_export.feed.reader import FeedFormat, Row
from feed_export.feed.writer import XLSX_MAX_CELL, TableWriter, Target, open_table, safe_cell
from feed_export.report.model import ACCEPTED, outcome_kind

if TYPE_CHECKING:
    from feed_export.push.decode import LineError
    from feed_export.report.model import RunReport

#: outcomes that need nothing fixed: they stay out of the ``--rejected`` file
KEPT_OUT_OF_REJECTED = ACCEPTED | {"skipped"}


@dataclass(frozen=True, slots=True)
class Outcome:
    """What happened to one data row."""

    row: int
    status: int | None  # None: empty status cell (dry-run valid, skipped empty row)
    message: str


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

    def __init__(self, table: TableWriter, header: Sequence[str], *, safe: bool = False) -> None:
        """``safe``: in CSV, the feed's own cells are escaped like ours (``--safe-feedback``)."""
        self._table = table
        self.path = table.path
        self._csv = table.kind == "csv"
        self._safe = safe
        header = list(header)
        self._width = len(header)
        old = {i for i, h in enumerate(header) if h.strip() in FEEDBACK_COLUMNS}
        # indices of the feed's own columns; None when nothing is dropped (the fast path)
        self._keep: list[int] | None = (
            [i for i in range(self._width) if i not in old] if old else None
        )

    @staticmethod
    def header_of(header: Sequence[str]) -> list[str]:
        """The feedback file's header: the feed's, old feedback columns dropped, two added."""
        own = [h for h in header if h.strip() not in FEEDBACK_COLUMNS]
        return [*own, *FEEDBACK_COLUMNS]

    @property
    def rows_written(self) -> int:
        return self._table.rows_written

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

    def write(self, row: Row, outcome: Outcome, error: LineError | None = None) -> None:
        """Echo ``row`` with ``outcome`` appended.

        In XLSX, a row not accepted is tinted, and each cell of its line ``error`` carries
        a comment naming its problem.
        """
        status = "" if outcome.status is None else str(outcome.status)
        message = outcome.message
        if self._csv:
            cells = [safe_cell(c) for c in row.cells] if self._safe else row.cells
            self._table.write(self._layout(cells, status, safe_cell(message)))
            return
        if len(message) > XLSX_MAX_CELL:
            message = message[: XLSX_MAX_CELL - 1] + "…"
        cells = self._layout(row.cells, status, message)
        if outcome_kind(outcome.status, outcome.message) in KEPT_OUT_OF_REJECTED:
            self._table.write(cells)
        else:
            self._table.write(cells, flagged=True, notes=self._notes(error))

    def _notes(self, error: LineError | None) -> dict[int, str]:
        """The comment of each bad cell, by its column in this file."""
        notes: dict[int, str] = {}
        if error is None:
            return notes
        for problem, column in zip(error.problems, error.columns, strict=False):
            if column < 0:
                continue  # the whole row: the message says it
            if self._keep is not None:
                if column not in self._keep:
                    continue
                column = self._keep.index(column)
            notes[column] = f"{notes[column]}\n{problem}" if column in notes else problem
        return notes

    def close(self) -> None:
        """Finish the file; safe to call twice."""
        self._table.close()

    def __enter__(self) -> FeedbackWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def open_rejected(
    target: Target, fmt: FeedFormat, header: Sequence[str], *, safe: bool = False
) -> FeedbackWriter:
    """Start the ``--rejected`` file: the rows not accepted, laid out as the feedback file.

    Same format, header, delimiter and encoding as the feed, with the two feedback
    columns, which a run reads past: fix the cells, push the file, and only those rows go.
    """
    own = FeedbackWriter.header_of(header)
    table = open_table(
        target, fmt, own, what="rejected-rows file", flag="--rejected", widths=_widths(own)
    )
    return FeedbackWriter(table, header, safe=safe)


def _widths(header: Sequence[str]) -> dict[int, float]:
    """XLSX column widths (characters) for the two feedback columns: the message reads."""
    return {len(header) - 2: 12.0, len(header) - 1: 80.0}


def open_feedback(
    target: Target, fmt: FeedFormat, header: Sequence[str], *, safe: bool = False
) -> FeedbackWriter:
    """Start the feedback file at ``target`` (a path or a binary stream) for this feed.

    Raises ``ConfigError`` if the file cannot be created or its name says the other format.
    """
    own = FeedbackWriter.header_of(header)
    table = open_table(
        target, fmt, own, what="feedback file", flag="--feedback", widths=_widths(own)
    )
    return FeedbackWriter(table, header, safe=safe)


#: rows written between two reports to ``OrderedFeedback``'s ``on_rows``
REPORT_EVERY = 64


class OrderedFeedback:
    """Writes outcomes in feed order while they arrive in any order; counts them.

    Rows wait here from the moment they are read until their outcome is known; the head
    of the queue is written as soon as it is resolved. Memory is bounded by the rows in
    flight (concurrency x batch size plus the rows read meanwhile). A row that gets two
    outcomes is a bug, and fails loudly.
    """

    def __init__(
        self,
        writer: FeedbackWriter,
        report: RunReport,
        on_rows: Callable[[int], None] | None = None,
        rejected: FeedbackWriter | None = None,
    ) -> None:
        """``on_rows`` is told the rows written so far, every ``REPORT_EVERY`` rows or so;
        ``rejected`` gets the rows that were not accepted (nor skipped as empty)."""
        self._writer = writer
        self._rejected = rejected
        self._report = report
        self._on_rows = on_rows
        self._reported = 0
        self._queue: deque[Row] = deque()
        self._outcomes: dict[int, Outcome] = {}
        self._errors: dict[int, LineError] = {}

    def add(self, row: Row, outcome: Outcome | None = None, error: LineError | None = None) -> None:
        """A row read, with its outcome when already known (and its line error, if any)."""
        self._queue.append(row)
        if error is not None:
            self._errors[row.number] = error
        if outcome is not None:
            self._outcomes[row.number] = outcome
            self.flush()

    def resolve(self, outcome: Outcome, error: LineError | None = None) -> None:
        """The outcome of a row added earlier."""
        if outcome.row in self._outcomes:
            raise AssertionError(f"row {outcome.row} got two outcomes")
        self._outcomes[outcome.row] = outcome
        if error is not None:
            self._errors[outcome.row] = error
        self.flush()

    def resolve_many(self, outcomes: Sequence[Outcome]) -> None:
        """Several outcomes, one flush."""
        for outcome in outcomes:
            if outcome.row in self._outcomes:
                raise AssertionError(f"row {outcome.row} got two outcomes")
            self._outcomes[outcome.row] = outcome
        self.flush()

    def flush(self) -> None:
        self._flush()
        if self._on_rows is not None and self._report.rows - self._reported >= REPORT_EVERY:
            self._reported = self._report.rows
            self._on_rows(self._reported)

    def _flush(self) -> None:
        queue, outcomes = self._queue, self._outcomes
        while queue and queue[0].number in outcomes:
            row = queue.popleft()
            outcome = outcomes.pop(row.number)
            error = self._errors.pop(row.number, None)
            self._writer.write(row, outcome, error)
            if (
                self._rejected is not None
                and outcome_kind(outcome.status, outcome.message) not in KEPT_OUT_OF_REJECTED
            ):
                self._rejected.write(row, outcome, error)
            if error is None:
                self._report.record(outcome.status, outcome.message, row=row.number)
            else:
                self._report.record(
                    outcome.status, outcome.message, error.problems, row.number, error.columns
                )

    def unresolved(self) -> list[int]:
        """Rows read whose outcome is not known yet, in feed order."""
        return [row.number for row in self._queue if row.number not in self._outcomes]

    @property
    def pending(self) -> int:
        """Rows read and not written yet."""
        return len(self._queue)
