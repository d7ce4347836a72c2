"""run_export(): the stages in order; the only module that knows that order.

read feed -> resolve headers against the catalog -> decode rows -> batch -> send
(or not, in a dry run) -> feedback file, one row per data row, in feed order.

Every data row gets exactly one outcome, whatever fails: a header problem (400 on every
row), a bad cell (422 ``Not sent: ...``), a blank row (``Skipped: empty row``), a batch the
PIM refused, a network failure after all retries (0), lost credentials or a crash (the
rest of the rows are marked with why they were not sent).
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from feed_export.catalog import Catalog
from feed_export.config import ExportOptions, Settings
from feed_export.errors import (
    AuthenticationError,
    ConfigError,
    FeedExportError,
    HeaderError,
    TransportError,
)
from feed_export.feedback import FeedbackWriter, Outcome, default_feedback_path, open_feedback
from feed_export.headers import parse_header, resolve_headers
from feed_export.products import LineError, ProductLine, RowDecoder
from feed_export.reader import Row, is_blank, open_feed
from feed_export.summary import DRY_RUN_MESSAGE, SKIPPED_MESSAGE, RunReport

if TYPE_CHECKING:
    from feed_export.batcher import Batch
    from feed_export.client import AkeneoClient

log = logging.getLogger(__name__)

ProgressCallback = Callable[[int], None]

_FEEDBACK_HEADERS = {"akeneo_status_code", "akeneo_message"}


@dataclass(frozen=True, slots=True)
class RunTargets:
    """Where a run writes: feedback file, optional NDJSON of the lines (to be) sent."""

    feedback: Path | None = None  # None: default_feedback_path(feed)
    payload_out: Path | None = None


class _OrderedFeedback:
    """Writes outcomes in feed order while they arrive in any order.

    Rows wait here from the moment they are read until their outcome is known; the head
    of the queue is written as soon as it is resolved. Memory is bounded by the rows in
    flight (concurrency x batch size plus the rows read meanwhile).
    """

    def __init__(self, writer: FeedbackWriter, report: RunReport) -> None:
        self._writer = writer
        self._report = report
        self._queue: deque[Row] = deque()
        self._outcomes: dict[int, Outcome] = {}
        self._problems: dict[int, tuple[str, ...]] = {}

    def add(self, row: Row, outcome: Outcome | None = None, problems: tuple[str, ...] = ()) -> None:
        self._queue.append(row)
        if problems:
            self._problems[row.number] = problems
        if outcome is not None:
            self._outcomes[row.number] = outcome
            self.flush()

    def resolve(self, outcome: Outcome) -> None:
        if outcome.row in self._outcomes:
            raise AssertionError(f"row {outcome.row} got two outcomes")
        self._outcomes[outcome.row] = outcome
        self.flush()

    def flush(self) -> None:
        queue, outcomes = self._queue, self._outcomes
        while queue and queue[0].number in outcomes:
            row = queue.popleft()
            outcome = outcomes.pop(row.number)
            self._writer.write(row, outcome)
            self._report.record(outcome.status, outcome.message, self._problems.pop(row.number, ()))

    def unresolved(self) -> list[int]:
        return [row.number for row in self._queue if row.number not in self._outcomes]

    @property
    def pending(self) -> int:
        return len(self._queue)


def _column_has_data(
    feed_path: Path, options: ExportOptions, header: tuple[str, ...]
) -> list[bool]:
    """Which columns hold any non-blank cell: one extra pass, only when a header is empty."""
    seen = [False] * len(header)
    watch = [i for i, h in enumerate(header) if not h.strip()]
    with open_feed(
        feed_path, encoding=options.encoding, delimiter=options.delimiter, sheet=options.sheet
    ) as feed:
        for row in feed.rows():
            for i in watch:
                if not seen[i] and i < len(row.cells) and row.cells[i].strip():
                    seen[i] = True
            if all(seen[i] for i in watch):
                break
    return [True if h.strip() else seen[i] for i, h in enumerate(header)]


def header_attribute_codes(header: tuple[str, ...]) -> list[str]:
    """The attribute codes a header row names (what the live catalog must hold)."""
    codes: list[str] = []
    for text in header:
        if not text.strip() or text.strip() in _FEEDBACK_HEADERS:
            continue
        try:
            parts = parse_header(text)
        except FeedExportError:
            continue
        code = getattr(parts, "attribute", None)
        if code and code not in codes:
            codes.append(code)
    return codes


def run_export(
    feed_path: Path,
    options: ExportOptions,
    *,
    catalog: Catalog | None = None,
    settings: Settings | None = None,
    client: AkeneoClient | None = None,
    targets: RunTargets = RunTargets(),
    progress: ProgressCallback | None = None,
    clock: Callable[[], float] = time.perf_counter,
) -> RunReport:
    """Push (or, with ``options.dry_run``, only check) one feed; return what happened.

    The catalog comes from ``catalog`` when given, else from the PIM (``settings`` or
    ``client``). Raises ``FeedExportError`` subclasses only for problems found before any
    feedback could be written (a file that cannot be read, a missing catalog, bad settings).
    """
    started = clock()
    feedback_path = targets.feedback or default_feedback_path(feed_path)
    for target in (feedback_path, targets.payload_out):
        if (
            target is not None
            and target.exists()
            and feed_path.exists()
            and target.samefile(feed_path)
        ):
            raise ConfigError(f"{target} is the feed itself: choose another output file")
    report = RunReport(
        feed=feed_path,
        feedback=feedback_path,
        payload_out=targets.payload_out,
        dry_run=options.dry_run,
    )
    with ExitStack() as stack:
        feed = stack.enter_context(
            open_feed(
                feed_path,
                encoding=options.encoding,
                delimiter=options.delimiter,
                sheet=options.sheet,
            )
        )
        if (
            client is None
            and settings is not None
            and not (options.dry_run and catalog is not None)
        ):
            from feed_export.client import AkeneoClient

            client = AkeneoClient(settings)
            stack.callback(client.close)
        if client is None and not options.dry_run:
            raise ConfigError(
                "a push needs PIM settings (or --sandbox, or --dry-run --catalog FILE)"
            )
        if client is None and catalog is None:
            raise ConfigError("a dry run needs a catalog: pass --catalog FILE or PIM settings")

        has_data = None
        if any(not h.strip() for h in feed.header):
            has_data = _column_has_data(feed_path, options, feed.header)

        writer = stack.enter_context(open_feedback(feedback_path, feed.format, feed.header))
        ordered = _OrderedFeedback(writer, report)
        rows = iter(feed.rows())
        if catalog is None:
            assert client is not None
            try:
                catalog = Catalog.from_dict(
                    client.fetch_catalog(header_attribute_codes(feed.header))
                )
            except TransportError as exc:
                # nothing was sent; every row still gets its line in the feedback file
                report.aborted = f"could not read the PIM's catalog: {exc}"
                _finish_rows(rows, ordered, 0, f"Not sent: {report.aborted}", progress)
                report.seconds = clock() - started
                return report
        try:
            layout = resolve_headers(
                str(feed_path), feed.header, catalog, options, column_has_data=has_data
            )
        except HeaderError as exc:
            report.header_problems = exc.problems
            message = "Not sent: feed rejected: " + "; ".join(exc.problems)
            _finish_rows(rows, ordered, 400, message, progress)
            report.seconds = clock() - started
            return report
        report.warnings.extend(layout.warnings)
        decoder = RowDecoder(layout, options)
        payload = None
        if targets.payload_out is not None:
            payload = stack.enter_context(targets.payload_out.open("wb"))

        if options.dry_run:
            _dry_run(rows, decoder, ordered, payload, progress)
        else:
            assert client is not None
            _push(rows, decoder, ordered, payload, client, options, report, progress)
        if client is not None:
            report.requests = client.stats.requests_sent
            report.retries = client.stats.retries
        if ordered.pending:
            raise AssertionError(f"rows left without an outcome: {ordered.unresolved()[:10]}")
    report.seconds = clock() - started
    return report


def _finish_rows(
    rows: Iterator[Row],
    ordered: _OrderedFeedback,
    status: int,
    message: str,
    progress: ProgressCallback | None,
) -> None:
    """Give every remaining row the same outcome (blank rows stay skipped)."""
    for row in rows:
        if is_blank(row.cells):
            ordered.add(row, Outcome(row.number, None, SKIPPED_MESSAGE))
        else:
            ordered.add(row, Outcome(row.number, status, message))
        if progress is not None and row.number % 1000 == 0:
            progress(row.number - 1)


def _decode(decoder: RowDecoder, row: Row) -> ProductLine | LineError:
    """Decode one row; a bug in a converter costs that row, never the run."""
    try:
        return decoder.decode(row)
    except Exception as exc:
        log.debug("decoder crashed on row %d", row.number, exc_info=True)
        return LineError(
            row.number, (f"internal error while decoding this row: {type(exc).__name__}: {exc}",)
        )


def _dry_run(
    rows: Iterator[Row],
    decoder: RowDecoder,
    ordered: _OrderedFeedback,
    payload: BinaryIO | None,
    progress: ProgressCallback | None,
) -> None:
    for row in rows:
        if is_blank(row.cells):
            ordered.add(row, Outcome(row.number, None, SKIPPED_MESSAGE))
            continue
        result = _decode(decoder, row)
        if isinstance(result, LineError):
            ordered.add(row, Outcome(row.number, 422, result.message), result.problems)
        else:
            if payload is not None:
                payload.write(result.body + b"\n")
            ordered.add(row, Outcome(row.number, None, DRY_RUN_MESSAGE))
        if progress is not None and row.number % 1000 == 0:
            progress(row.number - 1)


def _push(
    rows: Iterator[Row],
    decoder: RowDecoder,
    ordered: _OrderedFeedback,
    payload: BinaryIO | None,
    client: AkeneoClient,
    options: ExportOptions,
    report: RunReport,
    progress: ProgressCallback | None,
) -> None:
    from feed_export.batcher import make_batches
    from feed_export.sender import send_batches

    def lines() -> Iterator[ProductLine]:
        for row in rows:
            if is_blank(row.cells):
                ordered.add(row, Outcome(row.number, None, SKIPPED_MESSAGE))
                continue
            result = _decode(decoder, row)
            if isinstance(result, LineError):
                ordered.add(row, Outcome(row.number, 422, result.message), result.problems)
                continue
            ordered.add(row)
            if payload is not None:
                payload.write(result.body + b"\n")
            yield result

    def batches() -> Iterator[Batch]:
        for batch in make_batches(lines(), options.batch_size):
            report.lines_sent += len(batch.lines)
            yield batch

    abort: str | None = None
    done = 0
    try:
        for batch, results in send_batches(
            client,
            batches(),
            entity=options.entity,
            concurrency=options.concurrency,
            create_missing_options=options.create_missing_options,
        ):
            for line, result in zip(batch.lines, results, strict=True):
                ordered.resolve(Outcome(line.row, result.status, result.message))
            done += len(batch.lines)
            if progress is not None:
                progress(done)
    except AuthenticationError as exc:
        abort = f"authentication failed: {exc}"
    except KeyboardInterrupt:
        abort = "interrupted"
    except FeedExportError as exc:
        abort = str(exc)
    except Exception as exc:  # a crash must still leave a complete feedback file
        log.debug("unexpected error during push", exc_info=True)
        abort = f"internal error: {type(exc).__name__}: {exc}"
    if abort is None:
        return
    report.aborted = abort
    log.error("run aborted: %s", abort)
    # rows read but never answered: they may or may not have reached the PIM
    for number in ordered.unresolved():
        ordered.resolve(
            Outcome(number, 0, f"Unknown: run aborted before the PIM answered ({abort})")
        )
    _finish_rows(rows, ordered, 0, f"Not sent: run aborted ({abort})", progress)
