"""The live push: rows -> lines -> the planner and the PIM -> recorded answers; aborts.

``LivePush.run`` reads the rows as the planner asks for lines (``planner.SendPlan``: parents
before children, files after their product, associations last), gives every row that is
not sent its outcome on the way (blank, resumed, bad cells, unchanged), records the
answers (``recorder.Recorder``) and, when the run stops early (an interrupt, lost
credentials, a crash), gives every row still open one honest outcome: rows in requests
that began and got no answer are ``Unknown``, the others ``Not sent``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Generator, Iterator

from feed_export.akeneo.responses import LineResult
from feed_export.config import ExportOptions
from feed_export.errors import AuthenticationError, FeedExportError
from feed_export.feed.reader import Row, is_blank
from feed_export.push.assets import AssetStage
from feed_export.push.batches import Batch
from feed_export.push.decode import LineError, ProductLine, RowDecoder
from feed_export.push.feedback import OrderedFeedback, Outcome
from feed_export.push.incremental import DECIDE_CHUNK, ChangeFilter
from feed_export.push.interrupt import Interrupt, InterruptGuard
from feed_export.push.media import MediaStage
from feed_export.push.payload import PayloadLog
from feed_export.push.planner import FeedIndex, SendPlan
from feed_export.push.progress import STOPPED, Phases
from feed_export.push.recorder import Recorder
from feed_export.push.rows import decode_row, finish_rows
from feed_export.push.sender import PatchClient
from feed_export.push.state import row_hash
from feed_export.push.tracking import RunMemory, recorded_outcome
from feed_export.report.model import (
    INTERRUPTED_NOT_SENT,
    INTERRUPTED_UNKNOWN,
    SKIPPED_MESSAGE,
    RunReport,
)

log = logging.getLogger(__name__)


class LivePush:
    """One live push of one feed: decode, decide, plan, send, record; see the module."""

    def __init__(
        self,
        ordered: OrderedFeedback,
        payload: PayloadLog | None,
        options: ExportOptions,
        report: RunReport,
        phases: Phases,
        memory: RunMemory,
        interrupt: Interrupt | None,
    ) -> None:
        self.ordered = ordered
        self.payload = payload
        self.options = options
        self.report = report
        self.phases = phases
        self.memory = memory
        self.interrupt = interrupt
        self.recorder = Recorder(memory, ordered, phases.answered)
        self.out: dict[int, Batch] = {}  # batches handed to the sender, not answered
        self.began: set[int] = set()  # seqs of the batches whose request started
        self._began_lock = threading.Lock()  # began is written from the sender's workers
        self.guard: InterruptGuard | None = None
        self.context = b""
        self.read_all = False  # every row of the feed was read

    def run(
        self,
        rows: Iterator[Row],
        decoder: RowDecoder,
        client: PatchClient,
        context: bytes,
        key_index: int,
        *,
        index: FeedIndex | None = None,
        media: MediaStage | None = None,
        assets: AssetStage | None = None,
    ) -> None:
        """Push; ``context`` salts the raw-row hashes, ``key_index`` is the key column."""
        self.context = context
        if self.interrupt is not None:
            client = self.guard = InterruptGuard(client, self.interrupt)
            self.interrupt.watch()
        changes = None
        if self.memory.mode == "only-changed" and self.memory.state is not None:
            changes = ChangeFilter(
                self.memory.state,
                self.memory.journal,
                self.ordered,
                context,
                key_index,
                self.recorder.digests,
            )
        plan = SendPlan(
            client,
            entity=self.options.entity,
            batch_size=self.options.batch_size,
            concurrency=self.options.concurrency,
            create_missing_options=self.options.create_missing_options,
            media=media,
            assets=assets,
            index=index,
            mixed=decoder.layout.mixed,
            on_batch=self._handed_out,
            on_send=self._began,
            on_answer=self._answer,
            stop_when=self._stopping,
        )
        abort: str | None = None
        answers = plan.answers(self._lines(rows, decoder, changes))
        try:
            for found in answers:
                self.recorder.answered(found)
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
        if abort is not None:
            self._aborted(abort, rows, plan)

    def _aborted(self, abort: str, rows: Iterator[Row], plan: SendPlan) -> None:
        """Give every row still open its outcome; the rest of the feed is not sent."""
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
            went = batch.seq in self.began
            if went:
                began.update(line.row for line in batch.lines)
                self.report.lines_sent += len(batch.lines)
            if self.payload is not None:
                self.payload.settled(batch, went)
        saved = dict(plan.saved_unfinished())
        finished = self.recorder.finished
        outcomes: list[Outcome] = []
        for number in self.ordered.unresolved():
            if number in finished:
                # answered, but an earlier row of its product was not: true, not journaled
                # (a resume sends it again, after that row)
                outcome = finished[number][1]
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
        self.phases.phase(STOPPED)  # the rest is written out, not sent: say so, not a speed
        finish_rows(rows, self.ordered, 0, not_sent, self.phases.answered)

    # -- the planner's hooks -------------------------------------------------------------

    def _handed_out(self, batch: Batch) -> None:
        """``on_batch``: the sender took ``batch``; its products may change from now on."""
        self.recorder.out(batch.lines)
        self.out[batch.seq] = batch
        if self.payload is not None:
            self.payload.handed_out(batch)

    def _began(self, batch: Batch) -> None:
        """``on_send``, in a sender's worker: the request of ``batch`` starts now."""
        with self._began_lock:
            self.began.add(batch.seq)

    def _answer(self, batch: Batch, results: list[LineResult]) -> bool:
        """``on_answer``: ``batch`` is back; False when the interrupt held it back."""
        self.recorder.back(batch.lines)
        if self.guard is not None and results and self.guard.stopped(results[0]):
            if results[0] is self.guard.not_sent:
                self._settled(batch, went=False)  # it never left: its rows were not sent
            return False  # its rows stay open: the end of the run marks them
        del self.out[batch.seq]
        self.report.lines_sent += len(batch.lines)
        self._settled(batch, went=True)
        return True

    def _settled(self, batch: Batch, *, went: bool) -> None:
        with self._began_lock:
            self.began.discard(batch.seq)
        if self.payload is not None:
            self.payload.settled(batch, went)

    def _stopping(self) -> bool:
        return self.interrupt is not None and self.interrupt.requested

    # -- rows to lines -------------------------------------------------------------------

    def _lines(
        self, rows: Iterator[Row], decoder: RowDecoder, changes: ChangeFilter | None
    ) -> Iterator[ProductLine]:
        """The lines for the planner, each noted under its key (see ``Recorder.plan``)."""
        for line in self._read(rows, decoder, changes):
            self.recorder.plan(line)
            yield line

    def _read(
        self, rows: Iterator[Row], decoder: RowDecoder, changes: ChangeFilter | None
    ) -> Iterator[ProductLine]:
        """The lines to send, in feed order; every other row gets its outcome here.

        Read as the planner asks for lines: it stops asking once the run stops.
        """
        ordered = self.ordered
        recorded = self.memory.recorded
        previous = next(recorded, None) if recorded is not None else None
        hashing = self.memory.state is not None
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
                    ordered.add(row, recorded_outcome(previous))
                    self.report.resumed += 1
                    previous = next(recorded, None)
                    continue
            if is_blank(row.cells):
                ordered.add(row, Outcome(row.number, None, SKIPPED_MESSAGE))
                continue
            if changes is not None:  # decoded by the filter, and only when the raw row changed
                ordered.add(row)
                chunk.append(row)
                if len(chunk) >= DECIDE_CHUNK:
                    yield from changes.lines(chunk, decoder)
                    chunk = []
                continue
            result = decode_row(decoder, row)
            if isinstance(result, LineError):
                ordered.add(row, Outcome(row.number, 422, result.message), result)
                continue
            ordered.add(row)
            if hashing:
                self.recorder.digests[row.number] = row_hash(self.context, row.cells)
            yield result
        if chunk and changes is not None:
            yield from changes.lines(chunk, decoder)
