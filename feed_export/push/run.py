"""run_export(): the stages in order; the only module that knows that order.

read feed -> resolve headers against the catalog -> decode rows -> plan and send
(``planner.SendPlan``: parents before children, files after their product, associations
last; not in a dry run) -> feedback file, one row per data row, in feed order.

Every data row gets exactly one outcome, whatever fails: a header problem (400 on every
row), a bad cell (422 ``Not sent: ...``), a blank row (``Skipped: empty row``), a batch the
PIM refused, a network failure after all retries (0), lost credentials or a crash (rows
in requests that began and got no answer are ``Unknown: ...``, the rest ``Not sent: ...``).

A live push also keeps two SQLite files beside the feed (``.feed_export/``): the state
store (``state.py``: what the PIM accepted, for ``--only-changed``) and the run journal
(``journal.py``: every answer as it arrives, for ``--resume``). The order of writes per
batch of answers is what makes a kill at any point safe: state first, then journal, then
the feedback; see ``docs/DECISIONS.md``, "Incremental and resumable pushes".
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Generator, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Literal

from feed_export import __version__
from feed_export.catalog.layout import resolve_headers
from feed_export.catalog.structure import Catalog
from feed_export.config import ExportOptions, Settings
from feed_export.errors import (
    AuthenticationError,
    ConfigError,
    FeedExportError,
    HeaderError,
    TransportError,
)
from feed_export.feed.headers import FEEDBACK_COLUMNS, parse_header
from feed_export.feed.reader import Row, is_blank, open_feed
from feed_export.push.decode import LineError, ProductLine, RowDecoder, state_payload
from feed_export.push.feedback import FeedbackWriter, Outcome, default_feedback_path, open_feedback
from feed_export.push.journal import (
    FeedIdentity,
    Journal,
    Recorded,
    RunIdentity,
    differences,
    journal_path,
)
from feed_export.push.state import (
    Pushed,
    StateStore,
    context_hash,
    default_state_path,
    format_time,
    payload_hash,
    row_hash,
    state_key,
)
from feed_export.report.summary import (
    DRY_RUN_MESSAGE,
    INTERRUPTED_NOT_SENT,
    INTERRUPTED_UNKNOWN,
    SKIPPED_MESSAGE,
    UNCHANGED_STATUS,
    RunReport,
    unchanged_message,
)

if TYPE_CHECKING:
    from feed_export.akeneo.client import AkeneoClient
    from feed_export.akeneo.responses import LineResult
    from feed_export.config import Entity
    from feed_export.push.batches import Batch
    from feed_export.push.media import MediaStage
    from feed_export.push.planner import FeedIndex
    from feed_export.push.sender import PatchClient

log = logging.getLogger(__name__)

ProgressCallback = Callable[[int], None]

#: rows decided together under --only-changed: one state lookup, one journal commit
DECIDE_CHUNK = 500

#: ExportOptions fields that do not change what is sent (a resume may change them)
_NOT_PAYLOAD = {"dry_run", "concurrency", "batch_size"}

SendMode = Literal["all", "only-changed", "full"]


@dataclass(frozen=True, slots=True)
class RunTargets:
    """Where a run writes: feedback file, optional NDJSON of the lines (to be) sent."""

    feedback: Path | None = None  # None: default_feedback_path(feed)
    payload_out: Path | None = None


@dataclass(frozen=True, slots=True)
class Tracking:
    """What a live push remembers: the state store and the run journal.

    ``mode``: ``all`` sends every row and updates the state store when it exists (or
    ``state`` is given); ``only-changed`` leaves out rows the PIM already holds;
    ``full`` sends every row and creates the state store if needed. ``resume`` continues
    the interrupted push of the feed, if its journal holds one. ``target`` names the PIM
    in both files (default: the settings' base URL).
    """

    mode: SendMode = "all"
    state: Path | None = None  # None: .feed_export/state.sqlite beside the feed
    resume: bool = False
    journal: bool = True
    target: str | None = None


class Interrupt:
    """Stops a push from a signal handler or another thread, in two steps. Single use.

    ``request()``: nothing more is sent, and the requests in flight get ``drain_timeout``
    seconds to be answered; ``abandon()`` (or the end of that time): their answers are
    not awaited any longer. Both are safe to call from a signal handler.
    """

    def __init__(self, drain_timeout: float = 30.0) -> None:
        self.drain_timeout = drain_timeout
        self._requested = threading.Event()
        self._abandoned = False
        self._lock = threading.RLock()  # RLock: a second signal may land inside abandon()
        self._calls: set[threading.Event] = set()
        self._wake = threading.Event()  # request() or end()
        self._ended = threading.Event()

    @property
    def requested(self) -> bool:
        return self._requested.is_set()

    @property
    def abandoned(self) -> bool:
        return self._abandoned

    def request(self) -> None:
        self._requested.set()
        self._wake.set()

    def abandon(self) -> None:
        self._abandoned = True
        self.request()
        with self._lock:
            calls = list(self._calls)
        for call in calls:
            call.set()

    def watch(self) -> None:
        """Start the drain clock in the background: it runs from ``request()``."""

        def run() -> None:
            self._wake.wait()
            if not self._ended.is_set() and not self._ended.wait(self.drain_timeout):
                log.warning("no answer after %g s: not waiting any longer", self.drain_timeout)
                self.abandon()

        threading.Thread(target=run, name="feed_export-drain", daemon=True).start()

    def end(self) -> None:
        """The push is over: stop the drain clock."""
        self._ended.set()
        self._wake.set()

    def _enter(self, call: threading.Event) -> bool:
        with self._lock:
            if self._abandoned:
                return False
            self._calls.add(call)
            return True

    def _leave(self, call: threading.Event) -> None:
        with self._lock:
            self._calls.discard(call)


class _GuardedClient:
    """The client as the sender sees it when the push can be interrupted.

    After ``request()`` a batch is not sent: it comes back as ``not_sent``. A request runs
    in a daemon thread that the sender's worker waits for, until ``abandon()``: then the
    worker returns ``abandoned`` at once. So an unanswered request holds up neither the
    end of the run nor the interpreter's exit (the sender's pool threads are joined at
    exit; a daemon thread is not).
    """

    def __init__(self, client: PatchClient, interrupt: Interrupt) -> None:
        from feed_export.akeneo.responses import LineResult

        self._client = client
        self._interrupt = interrupt
        self.not_sent = LineResult(0, INTERRUPTED_NOT_SENT)
        self.abandoned = LineResult(0, INTERRUPTED_UNKNOWN)

    def stopped(self, result: LineResult) -> bool:
        """True for the results this guard made up (by identity: no answer is them)."""
        return result is self.not_sent or result is self.abandoned

    def patch_collection(
        self, entity: Entity, lines: Sequence[bytes], *, create_missing_options: bool = False
    ) -> list[LineResult]:
        if self._interrupt.requested:
            return [self.not_sent] * len(lines)
        done = threading.Event()
        box: list[Any] = []
        if not self._interrupt._enter(done):
            return [self.not_sent] * len(lines)

        def call() -> None:
            try:
                box.append(
                    self._client.patch_collection(
                        entity, lines, create_missing_options=create_missing_options
                    )
                )
            except BaseException as exc:  # handed to the sender's worker, which handles it
                box.append(exc)
            finally:
                done.set()

        threading.Thread(target=call, name="feed_export-request", daemon=True).start()
        done.wait()
        self._interrupt._leave(done)
        if not box:
            return [self.abandoned] * len(lines)
        if isinstance(box[0], BaseException):
            raise box[0]
        results: list[LineResult] = box[0]
        return results


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

    def resolve(self, outcome: Outcome, problems: tuple[str, ...] = ()) -> None:
        if outcome.row in self._outcomes:
            raise AssertionError(f"row {outcome.row} got two outcomes")
        self._outcomes[outcome.row] = outcome
        if problems:
            self._problems[outcome.row] = problems
        self.flush()

    def resolve_many(self, outcomes: Sequence[Outcome]) -> None:
        """Several outcomes, one flush."""
        for outcome in outcomes:
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
        if not text.strip() or text.strip() in FEEDBACK_COLUMNS:
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
    tracking: Tracking = Tracking(),
    interrupt: Interrupt | None = None,
    progress: ProgressCallback | None = None,
    clock: Callable[[], float] = time.perf_counter,
) -> RunReport:
    """Push (or, with ``options.dry_run``, only check) one feed; return what happened.

    The catalog comes from ``catalog`` when given, else from the PIM (``settings`` or
    ``client``). Raises ``FeedExportError`` subclasses only for problems found before any
    feedback could be written (a file that cannot be read, a missing catalog, bad settings,
    a resume the journal refuses). ``tracking`` says what a live push remembers (state
    store, journal); ``interrupt`` stops it cleanly from another thread or a signal handler.
    """
    started = clock()
    feedback_path = targets.feedback or default_feedback_path(feed_path)
    _refuse_collisions(feed_path, feedback_path, targets.payload_out)
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
            from feed_export.akeneo.client import AkeneoClient

            client = AkeneoClient(settings)
            stack.callback(client.close)
        if client is None and not options.dry_run:
            raise ConfigError(
                "a push needs PIM settings (or --sandbox, or --dry-run --catalog FILE)"
            )
        if client is None and catalog is None:
            raise ConfigError("a dry run needs a catalog: pass --catalog FILE or PIM settings")
        memory: _Memory | None = None
        pim = tracking.target or (settings.base_url if settings is not None else "")
        if not options.dry_run:
            memory = _Memory.open(feed_path, options, tracking, pim, report)
            stack.callback(memory.close)

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
            except (TransportError, KeyboardInterrupt) as exc:
                # nothing was sent; every row still gets its line in the feedback file
                if isinstance(exc, KeyboardInterrupt):
                    report.aborted = "interrupted"
                    message = INTERRUPTED_NOT_SENT
                else:
                    report.aborted = f"could not read the PIM's catalog: {exc}"
                    message = f"Not sent: {report.aborted}"
                _finish_rows(rows, ordered, 0, message, progress)
                report.seconds = clock() - started
                return report
        try:
            layout = resolve_headers(
                str(feed_path), feed.header, catalog, options, column_has_data=has_data
            )
        except HeaderError as exc:
            report.header_problems = exc.problems
            message = rejected_message(exc.problems)
            _finish_rows(rows, ordered, 400, message, progress)
            if memory is not None:
                memory.finish()  # nothing was sent: nothing to resume
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
            assert client is not None and memory is not None
            # what decoding depends on besides the row: the raw-row hashes are salted with it
            context = context_hash(
                __version__,
                list(feed.header),
                has_data,
                options.model_dump(mode="json", exclude=_NOT_PAYLOAD),
                catalog.to_dict(),
            )
            from feed_export.push.media import MediaStage, feed_has_files
            from feed_export.push.planner import FeedIndex, needs_index

            index = None
            if needs_index(layout):  # parents or association targets may be in the feed
                with open_feed(
                    feed_path,
                    encoding=options.encoding,
                    delimiter=options.delimiter,
                    sheet=options.sheet,
                ) as again:
                    index = FeedIndex.scan(again.rows(), decoder)
            media = None
            if feed_has_files(layout):
                # the media cache is keyed like the state store: by the PIM's name
                media = MediaStage.for_feed(client, feed_path, pim or client.base_url)
            pusher = _Pusher(ordered, payload, options, report, progress, memory, interrupt)
            pusher.run(rows, decoder, client, context, layout.key.index, index=index, media=media)
        if client is not None:
            report.requests = client.stats.requests_sent
            report.retries = client.stats.retries
        if ordered.pending:
            raise AssertionError(f"rows left without an outcome: {ordered.unresolved()[:10]}")
        if memory is not None and report.aborted is None:
            memory.finish()  # the feedback is complete: nothing to resume
    report.seconds = clock() - started
    return report


def _same_file(a: Path, b: Path) -> bool:
    """Whether two paths name one file, existing or not (links and ``..`` resolved)."""
    try:
        if a.exists() and b.exists():
            return a.samefile(b)
        return a.resolve() == b.resolve()
    except OSError:
        return a.absolute() == b.absolute()


def _refuse_collisions(feed_path: Path, feedback: Path, payload_out: Path | None) -> None:
    """No output may be the feed or the other output: checked before anything is written."""
    if _same_file(feedback, feed_path):
        raise ConfigError(f"{feedback} is the feed itself: choose another output file")
    if payload_out is None:
        return
    if _same_file(payload_out, feed_path):
        raise ConfigError(f"{payload_out} is the feed itself: choose another output file")
    if _same_file(payload_out, feedback):
        raise ConfigError(
            f"--payload-out {payload_out} is the feedback file too: both would be written "
            "into it; choose another file for one of them"
        )


#: header problems quoted in each rejected row's message (the summary lists them all)
QUOTED_PROBLEMS = 3


def rejected_message(problems: Sequence[str]) -> str:
    """Every row's message when the header is rejected: the first problems, then a count.

    A feed with thousands of bad headers would otherwise repeat all of them on every row.
    """
    text = "; ".join(problems[:QUOTED_PROBLEMS])
    more = len(problems) - QUOTED_PROBLEMS
    if more > 0:
        text += f"; ... and {more} more (see the summary or stderr)"
    return "Not sent: feed rejected: " + text


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


class _Memory:
    """A live push's state store and journal, and what the resumed run had answered."""

    def __init__(
        self,
        mode: SendMode,
        state: StateStore | None,
        journal: Journal | None,
        recorded: Iterator[Recorded] | None,
    ) -> None:
        self.mode = mode
        self.state = state
        self.journal = journal
        self.recorded = recorded  # the interrupted run's outcomes, in row order

    @classmethod
    def open(
        cls,
        feed_path: Path,
        options: ExportOptions,
        tracking: Tracking,
        target: str,
        report: RunReport,
    ) -> _Memory:
        """Open the state store and the journal; refuse a resume that does not match."""
        state = None
        state_path = tracking.state or default_state_path(feed_path)
        # an existing store is always kept up to date, else a later --only-changed run
        # would trust what this push has overwritten
        if tracking.mode != "all" or tracking.state is not None or state_path.exists():
            if not target:  # a library call with a client only
                raise ConfigError(
                    f"the state file {state_path} needs the PIM's base URL: "
                    "pass settings, or Tracking(target=...)"
                )
            state = StateStore(state_path, target, options.entity)
        journal = None
        recorded = None
        try:
            if tracking.journal or tracking.resume:
                try:
                    journal = Journal.open(journal_path(feed_path, tracking.state))
                except ConfigError as exc:
                    if tracking.resume:
                        raise
                    report.warnings.append(f"{exc}: this push cannot be resumed")
            if journal is not None:
                recorded = cls._start(journal, feed_path, options, tracking, target, report)
        except BaseException:
            if journal is not None:
                journal.close()
            if state is not None:
                state.close()
            raise
        return cls(tracking.mode, state, journal, recorded)

    @staticmethod
    def _start(
        journal: Journal,
        feed_path: Path,
        options: ExportOptions,
        tracking: Tracking,
        target: str,
        report: RunReport,
    ) -> Iterator[Recorded] | None:
        identity = RunIdentity(
            FeedIdentity.of(feed_path),
            target,
            options.model_dump(mode="json", exclude=_NOT_PAYLOAD),
        )
        previous = journal.previous()
        since = format_time(int(previous.started_at)) if previous is not None else ""
        if tracking.resume and previous is not None:
            problems = differences(previous.identity, identity)
            if problems:
                raise ConfigError(
                    f"cannot resume the push of {feed_path} started {since}: "
                    + "; ".join(problems)
                    + ". Pass the same options, or push without --resume to start over."
                )
            report.resumed_from = since
            return journal.recorded()
        if tracking.resume:
            report.warnings.append(f"no interrupted push of {feed_path} to resume: sending it all")
        elif previous is not None and previous.answered:
            report.warnings.append(
                f"the interrupted push of {feed_path} started {since} "
                f"({previous.answered} row(s) answered) is discarded; "
                "pass --resume to continue such a push"
            )
        journal.start(identity)
        return None

    def finish(self) -> None:
        """The run ended: its journal is of no further use."""
        if self.journal is not None:
            self.journal.finish()
            self.journal = None

    def close(self) -> None:
        if self.journal is not None:
            self.journal.close()
            self.journal = None
        if self.state is not None:
            self.state.close()
            self.state = None


Answer = tuple[ProductLine, Outcome]  # a row the planner finished: its line, its outcome


class _Started:
    """The client as the sender sees it: notes which batches were really sent.

    The sender pulls a batch (and the planner calls ``on_batch``) one step before sending
    it, so after an abort only a batch whose call began may have reached the PIM. A batch
    is known by the identity of its first line's body, the very object the sender passes
    on: the batch holds it until it is answered, so no other object can take its id
    meanwhile. Called from the sender's workers (a set's ``add`` is atomic in CPython).
    """

    def __init__(self, client: PatchClient) -> None:
        self._client = client
        self._began: set[int] = set()

    def patch_collection(
        self, entity: Entity, lines: Sequence[bytes], *, create_missing_options: bool = False
    ) -> list[LineResult]:
        if lines:
            self._began.add(id(lines[0]))
        return self._client.patch_collection(
            entity, lines, create_missing_options=create_missing_options
        )

    def began(self, batch: Batch) -> bool:
        return bool(batch.lines) and id(batch.lines[0].body) in self._began

    def forget(self, batch: Batch) -> None:
        if batch.lines:
            self._began.discard(id(batch.lines[0].body))


class _Pusher:
    """The live push: decode, decide, plan, send, record.

    ``planner.SendPlan`` orders the lines (parents before children, files after their
    product, associations last) and answers a row once all its jobs are done. The writes
    per batch of answers go state store, then journal, then feedback. A kill between
    them leaves the state ahead of the journal, never behind: a row answered but not
    journaled is sent again (or, with --only-changed, found unchanged) on resume.

    The rows of one product are recorded in feed order: the planner may finish a later
    row first (an earlier one still waits for its files or associations), and that
    answer then waits here. So the journal holds a prefix of each product's rows, which
    lets a resume send the rest in order, and the state's last word on a product is its
    last row's.
    """

    def __init__(
        self,
        ordered: _OrderedFeedback,
        payload: BinaryIO | None,
        options: ExportOptions,
        report: RunReport,
        progress: ProgressCallback | None,
        memory: _Memory,
        interrupt: Interrupt | None,
    ) -> None:
        self.ordered = ordered
        self.payload = payload
        self.options = options
        self.report = report
        self.progress = progress
        self.memory = memory
        self.interrupt = interrupt
        self.touched: set[str] = set()  # --only-changed: keys sent in this run
        self.out: dict[int, Batch] = {}  # batches handed to the sender, not answered
        self.keys_out: Counter[str] = Counter()  # folded key -> its batches out
        self.row_digests: dict[int, bytes] = {}  # raw-row hashes of the lines not answered
        self.planned: dict[str, deque[int]] = {}  # folded key -> rows planned, not recorded
        self.finished: dict[int, Answer] = {}  # answered; an earlier row of the key is not
        self.guard: _GuardedClient | None = None
        self.sent: _Started | None = None
        self.to_write: deque[Batch] = deque()  # --payload-out: batches handed out, in order
        self.went: dict[int, bool] = {}  # --payload-out: batch seq -> it went (or not)
        self.context = b""
        self.key_index = 0
        self.done = 0
        self.read_all = False  # every row of the feed was read

    def run(
        self,
        rows: Iterator[Row],
        decoder: RowDecoder,
        client: AkeneoClient,
        context: bytes,
        key_index: int,
        *,
        index: FeedIndex | None = None,
        media: MediaStage | None = None,
    ) -> None:
        """Push; ``context`` salts the raw-row hashes, ``key_index`` is the key column."""
        from feed_export.push.planner import SendPlan

        self.context = context
        self.key_index = key_index
        inner: PatchClient = client
        if self.interrupt is not None:
            self.guard = _GuardedClient(client, self.interrupt)
            inner = self.guard
            self.interrupt.watch()
        # outside the guard: a batch it holds back is told apart by its answer (_answer)
        sent = self.sent = _Started(inner)
        plan = SendPlan(
            sent,
            entity=self.options.entity,
            batch_size=self.options.batch_size,
            concurrency=self.options.concurrency,
            create_missing_options=self.options.create_missing_options,
            media=media,
            index=index,
            mixed=decoder.layout.mixed,
            on_batch=self._handed_out,
            on_answer=self._answer,
            stop_when=self._stopping,
        )
        abort: str | None = None
        answers = plan.answers(self._lines(rows, decoder))
        try:
            for found in answers:
                self._answered(found)
        except AuthenticationError as exc:
            abort = f"authentication failed: {exc}"
        except KeyboardInterrupt:
            abort = "interrupted"
        except FeedExportError as exc:
            abort = str(exc)
        except Exception as exc:  # a crash must still leave a complete feedback file
            log.debug("unexpected error during push", exc_info=True)
            abort = f"internal error: {type(exc).__name__}: {exc}"
        finally:
            # after an error of ours: the requests in flight end (or are dropped) before
            # the rows are marked, so that what began is known
            if isinstance(answers, Generator):
                answers.close()
            if self.interrupt is not None:
                self.interrupt.end()
        if abort is None and self._stopping() and not (self.read_all and not self.ordered.pending):
            abort = "interrupted"  # (an interrupt after the last answer changes nothing)
        if abort is None:
            return
        self.report.aborted = abort
        self.report.resumable = self.memory.journal is not None
        if abort == "interrupted":
            log.info("run interrupted")  # the caller was the one who asked
            unknown, not_sent = INTERRUPTED_UNKNOWN, INTERRUPTED_NOT_SENT
        else:
            log.error("run aborted: %s", abort)
            unknown = f"Unknown: run aborted before the PIM answered ({abort})"
            not_sent = f"Not sent: run aborted ({abort})"
        # requests that began and got no answer may or may not have reached the PIM;
        # batches taken by the sender but not sent yet did not
        began: set[int] = set()
        for batch in sorted(self.out.values(), key=lambda b: b.seq):
            if sent.began(batch):
                began.update(line.row for line in batch.lines)
                self.report.lines_sent += len(batch.lines)
            self._written(batch, sent.began(batch))
        saved = dict(plan.saved_unfinished())
        outcomes: list[Outcome] = []
        for number in self.ordered.unresolved():
            if number in self.finished:
                # answered, but an earlier row of its product was not: true, not journaled
                # (a resume sends it again, after that row)
                outcome = self.finished[number][1]
            elif number in saved:
                outcome = Outcome(
                    number,
                    0,
                    f"Unknown: saved ({saved[number]}), but the run stopped before its files "
                    f"and associations were sent ({abort})",
                )
            else:
                outcome = Outcome(number, 0, unknown if number in began else not_sent)
            outcomes.append(outcome)
        self.ordered.resolve_many(outcomes)
        _finish_rows(rows, self.ordered, 0, not_sent, self.progress)

    def _handed_out(self, batch: Batch) -> None:
        """``on_batch``: the sender took ``batch``; its products may change from now on."""
        keys = {state_key(line.key) for line in batch.lines}
        if self.memory.state is not None:
            self.memory.state.mark_pending(keys)
        self.keys_out.update(keys)
        self.out[batch.seq] = batch
        if self.payload is not None:
            self.to_write.append(batch)

    def _answer(self, batch: Batch, results: list[LineResult]) -> bool:
        """``on_answer``: ``batch`` is back; False when the interrupt held it back."""
        keys = {state_key(line.key) for line in batch.lines}
        if self.memory.state is not None:
            # one batch fewer out for these keys; record() counts off the rows' answers
            # and is told about the keys still out (see _record)
            self.memory.state.release(keys)
        out = self.keys_out
        out.subtract(keys)
        for key in keys:
            if out[key] <= 0:
                del out[key]
        assert self.sent is not None
        if self.guard is not None and results and self.guard.stopped(results[0]):
            if results[0] is self.guard.not_sent:
                self.sent.forget(batch)  # it never left: its rows were not sent
                self._written(batch, False)
            return False  # its rows stay open: the end of the run marks them
        del self.out[batch.seq]
        self.sent.forget(batch)
        self.report.lines_sent += len(batch.lines)
        self._written(batch, True)
        return True

    def _written(self, batch: Batch, went: bool) -> None:
        """--payload-out: ``batch`` went (or did not); write the lines known to have gone.

        In the order the batches were handed out (feed order for simple feeds), once all
        the batches before are known: the sender takes a batch a step before it sends it,
        so only the answer (or, after an abort, whether its request began) tells.
        """
        if self.payload is None:
            return
        self.went[batch.seq] = went
        queue, went_by_seq = self.to_write, self.went
        while queue and queue[0].seq in went_by_seq:
            head = queue.popleft()
            if went_by_seq.pop(head.seq):
                self.payload.write(b"".join(line.body + b"\n" for line in head.lines))

    def _answered(self, answers: list[Answer]) -> None:
        """Rows the planner finished: each recorded once its product's earlier rows are."""
        finished, planned = self.finished, self.planned
        ready: list[Answer] = []
        for line, outcome in answers:
            finished[line.row] = (line, outcome)
            key = state_key(line.key)
            queue = planned[key]
            while queue and queue[0] in finished:
                ready.append(finished.pop(queue.popleft()))
            if not queue:
                del planned[key]
        if ready:
            self._record(ready)

    def _record(self, answers: list[Answer]) -> None:
        """Record rows' outcomes: state, journal, then the feedback (see the class)."""
        state, journal = self.memory.state, self.memory.journal
        if state is not None:
            # record() counts one batch off each key: a key with a batch still out (a later
            # row, its associations) is marked once more, so that it stays pending
            busy = {key for line, _ in answers if (key := state_key(line.key)) in self.keys_out}
            if busy:
                state.mark_pending(busy)
            digests = self.row_digests
            state.record(
                [
                    Pushed(
                        line.key,
                        payload_hash(state_payload(line)),
                        outcome.status or 0,
                        digests.pop(line.row, None),
                    )
                    for line, outcome in answers
                ]
            )
        if journal is not None:
            journal.record(
                [
                    Recorded(outcome.row, outcome.status or 0, outcome.message)
                    for _, outcome in answers
                ]
            )
        self.ordered.resolve_many([outcome for _, outcome in answers])
        self.done += len(answers)
        if self.progress is not None:
            self.progress(self.done)

    def _lines(self, rows: Iterator[Row], decoder: RowDecoder) -> Iterator[ProductLine]:
        """The lines for the planner, each noted under its key (see ``_answered``)."""
        planned = self.planned
        for line in self._read(rows, decoder):
            key = state_key(line.key)
            queue = planned.get(key)
            if queue is None:
                queue = planned[key] = deque()
            queue.append(line.row)
            yield line

    def _read(self, rows: Iterator[Row], decoder: RowDecoder) -> Iterator[ProductLine]:
        """The lines to send, in feed order; every other row gets its outcome here.

        Read as the planner asks for lines: it stops asking once the run stops.
        """
        ordered = self.ordered
        recorded = self.memory.recorded
        previous = next(recorded, None) if recorded is not None else None
        state = self.memory.state
        deciding = self.memory.mode == "only-changed" and state is not None
        chunk: list[Row] = []
        while True:
            row = next(rows, None)
            if row is None:
                self.read_all = True
                break
            if previous is not None and recorded is not None:
                while previous is not None and previous.row < row.number:
                    previous = next(recorded, None)
                if previous is not None and previous.row == row.number:
                    ordered.add(row, _outcome(previous))
                    self.report.resumed += 1
                    previous = next(recorded, None)
                    continue
            if is_blank(row.cells):
                ordered.add(row, Outcome(row.number, None, SKIPPED_MESSAGE))
                continue
            if deciding:  # decoded in _decide, and only when the raw row changed
                ordered.add(row)
                chunk.append(row)
                if len(chunk) >= DECIDE_CHUNK:
                    yield from self._decide(chunk, decoder)
                    chunk = []
                continue
            result = _decode(decoder, row)
            if isinstance(result, LineError):
                ordered.add(row, Outcome(row.number, 422, result.message), result.problems)
                continue
            ordered.add(row)
            if state is not None:
                self.row_digests[row.number] = row_hash(self.context, row.cells)
            yield result
        if chunk:
            yield from self._decide(chunk, decoder)

    def _decide(self, chunk: list[Row], decoder: RowDecoder) -> Iterator[ProductLine]:
        """--only-changed: leave out the rows the PIM already holds; yield the others' lines.

        A row is left out when its key's last push was accepted with this very payload
        and no earlier row of the key was sent in this run. Once a key is sent, its later
        rows go too: their order then matters, and the state's answer is not in yet.

        The payload is known without decoding when the raw row's hash (salted with the
        decoding context) is the one stored with the accepted payload: same cells, same
        context, same payload. Otherwise the row is decoded and its payload's hash
        compared; a match then stores the raw hash, for the next run.

        Rows left out are journaled before any later line goes, so that a resume, which
        decides again against a state that may have moved on, never sends them.
        """
        state = self.memory.state
        assert state is not None
        ordered, touched, context, index = self.ordered, self.touched, self.context, self.key_index
        raw_keys = [
            state_key(r.cells[index].strip()) if index < len(r.cells) else "" for r in chunk
        ]
        stored = state.lookup(k for k in raw_keys if k)
        unchanged: list[Recorded] = []
        noted: list[tuple[str, bytes, bytes]] = []
        send: list[ProductLine] = []
        for row, raw_key in zip(chunk, raw_keys, strict=True):
            digest = row_hash(context, row.cells)
            entry = stored.get(raw_key)
            # a raw match means this entry was written by a row with these very cells,
            # hence under this row's own key: the key check below holds for it too
            if entry is not None and raw_key not in touched and entry.holds_row(digest):
                unchanged.append(Recorded(row.number, UNCHANGED_STATUS, "", entry.accepted_at))
                continue
            result = _decode(decoder, row)
            if isinstance(result, LineError):
                ordered.resolve(Outcome(row.number, 422, result.message), result.problems)
                continue
            key = state_key(result.key)
            if key != raw_key:
                entry = state.lookup([key]).get(key)
            body_digest = payload_hash(state_payload(result))
            if entry is not None and key not in touched and entry.holds(body_digest):
                unchanged.append(Recorded(row.number, UNCHANGED_STATUS, "", entry.accepted_at))
                noted.append((key, body_digest, digest))
                continue
            touched.add(key)
            self.row_digests[row.number] = digest
            send.append(result)
        if self.memory.journal is not None:
            self.memory.journal.record(unchanged)
        state.note_rows(noted)
        ordered.resolve_many([_outcome(done) for done in unchanged])
        yield from send

    def _stopping(self) -> bool:
        return self.interrupt is not None and self.interrupt.requested


_UNCHANGED_MESSAGES: dict[int, str] = {}


def _outcome(recorded: Recorded) -> Outcome:
    """The feedback outcome of a journaled row."""
    if recorded.status == UNCHANGED_STATUS and recorded.since is not None:
        message = _UNCHANGED_MESSAGES.get(recorded.since)
        if message is None:  # one per second of acceptance: cache the formatting
            if len(_UNCHANGED_MESSAGES) > 10_000:
                _UNCHANGED_MESSAGES.clear()
            message = _UNCHANGED_MESSAGES[recorded.since] = unchanged_message(
                format_time(recorded.since)
            )
        return Outcome(recorded.row, recorded.status, message)
    return Outcome(recorded.row, recorded.status, recorded.message)
