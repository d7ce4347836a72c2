"""Send order: parents before children, files after their product, associations last.

A row becomes up to four kinds of jobs:

- **main**: the line without its associations (``products.first_pass``), sent by a
  collection PATCH. A line naming a ``parent`` waits until that product model exists:
  one of its rows in the feed was saved (201/204), or the model is not in the feed
  (then the PIM has it, or says it has not). A row whose parent's rows all failed is
  not sent: ``Not sent: parent "X" was not saved (row 5: 422 ...)``. Rows whose
  parents form a cycle are not sent either.
- **assets**: one per row whose asset collection cells name files (or an assets feed
  row whose main media is a file), before its main line (``assets.AssetStage`` makes
  the assets); the main line then goes with what happened (``assets.rewrite_line``: a
  file that failed is left out, and the row says so).
- **media**: one per file or image cell holding a URL or a path, once the main line
  is saved (``media.MediaStage`` fetches and uploads it).
- **links**: ``{key, associations...}`` (``products.second_pass``), once the main line
  is saved and every product or model it names exists or is known not to be in
  the feed. Associations go in this second pass unless every target was already saved
  in this run when the row is read (then they go with the line: nothing can be
  missing). So a wrong target never costs the product its other data, and targets
  saved by concurrent batches are never raced. The cost: one more line per deferred
  row, batched like the others (3,000 rows each associating the previous one: 60
  requests instead of 30 into the sandbox; a single pass at concurrency 4 saved only
  100 of them, each line racing its target).

Jobs of one product run in the order they were created; lines go to the sender in
batches of one entity, so a mixed feed's model lines go to ``/product-models`` and
product lines to ``/products``. Each row gets exactly one ``Outcome``, when its last
job is done: the main line's status, or, when a file or the associations failed,
that failure's status and ``Saved (201), except: associations not saved: ...``.

Whether a key "is in the feed" is known for sure only at the end of the feed, unless
a ``FeedIndex`` (one extra pass over the keys, ``FeedIndex.scan``) says so up front:
with it, a child waits only for its own parent, without it, a child whose parent has
not been seen yet waits for the end of the feed. Both send the same lines.

``Planner`` is the pure scheduler (no I/O, no threads); ``SendPlan`` drives it with
``sender.send_batches`` and a thread pool for media jobs.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal, Protocol

from feed_export.akeneo.responses import LineResult
from feed_export.push.assets import AssetDone, AssetTask, asset_failure, rewrite_line
from feed_export.push.batches import Batch
from feed_export.push.decode import (
    AssetRef,
    MediaRef,
    ProductLine,
    first_pass,
    link_targets,
    second_pass,
)
from feed_export.push.feedback import Outcome
from feed_export.push.media import MediaTask, not_saved
from feed_export.push.sender import PatchClient, send_batches

if TYPE_CHECKING:
    from feed_export.catalog.layout import FeedLayout
    from feed_export.config import Entity
    from feed_export.feed.reader import Row
    from feed_export.push.decode import RowDecoder

log = logging.getLogger(__name__)

#: how much of another row's message a "parent was not saved" message quotes
_QUOTED = 200

Space = tuple[bool, str]  # (is a product model, case-folded key): one namespace per entity


def _space(is_model: bool, key: str) -> Space:
    # the PIM compares codes case-insensitively (MySQL collation): so do we
    return (is_model, key.casefold())


def needs_index(layout: FeedLayout) -> bool:
    """Whether the feed's rows may name each other (parents, association targets).

    Then a ``FeedIndex`` (one more reading of the feed's keys) lets children and
    associations go as soon as what they name is saved, instead of at the end of the feed.
    """
    if layout.mixed or layout.entity == "product-models":
        return True
    return any(c.kind in ("association", "quantified_association") for c in layout.columns)


@dataclass(frozen=True, slots=True)
class FeedIndex:
    """Every key of a feed, by entity, read in a first pass (case-folded)."""

    products: frozenset[str]
    models: frozenset[str]

    def has(self, space: Space) -> bool:
        return space[1] in (self.models if space[0] else self.products)

    @classmethod
    def scan(cls, rows: Iterable[Row], decoder: RowDecoder) -> FeedIndex:
        """Read the keys of ``rows`` with ``decoder``."""
        builder = IndexBuilder(decoder)
        for row in rows:
            builder.add(row)
        return builder.index()


class IndexBuilder:
    """Collects a ``FeedIndex`` row by row (during the validation pass)."""

    def __init__(self, decoder: RowDecoder) -> None:
        self._decoder = decoder
        self._products: set[str] = set()
        self._models: set[str] = set()

    def add(self, row: Row) -> None:
        found = self._decoder.key_of(row)
        if found is None:
            return
        entity, key = found
        (self._models if entity == "product-models" else self._products).add(key.casefold())

    def index(self) -> FeedIndex:
        return FeedIndex(frozenset(self._products), frozenset(self._models))


# ---------------------------------------------------------------------------
# the scheduler

JobKind = Literal["main", "media", "links", "assets"]


@dataclass(slots=True, eq=False)
class _Row:
    line: ProductLine
    entity: Entity
    space: Space
    open: int = 0  # jobs not done
    status: int | None = None  # the main line's status once answered
    message: str = ""
    failures: list[tuple[int, str]] = field(default_factory=list)  # assets, files, associations
    deferred: bool = False  # its associations wait for the second pass


@dataclass(slots=True, eq=False)
class _Job:
    kind: JobKind
    row: _Row
    line: ProductLine | None = None  # main, links: what is sent
    ref: MediaRef | None = None  # media
    refs: tuple[AssetRef, ...] = ()  # assets
    waiting: set[Space] = field(default_factory=set)  # keys that must exist first
    parent: Space | None = None  # main: the parent model's key


@dataclass(slots=True, eq=False)
class _Key:
    pending: int = 0  # main jobs added, not answered
    seen: bool = False
    accepted: bool = False  # one of its main lines was saved
    failure: tuple[int, int | None, str] | None = None  # (row, status, message), last failure
    queue: deque[_Job] = field(default_factory=deque)  # created, not released, in order
    patches: int = 0  # released PATCH jobs not answered
    media: bool = False  # a media or assets job released and not done
    waiters: list[_Job] = field(default_factory=list)


class Planner:
    """Orders the lines of one run; pure: the caller sends and reports back.

    ``add`` each line, ``end_of_input`` once; take work with ``next_batch`` and
    ``next_media``; report with ``record`` and ``record_media``; collect finished rows
    with ``outcomes``. When nothing is ready nor in flight and the run is not ``done``,
    ``stalled`` breaks what is left (parent cycles).
    """

    def __init__(
        self,
        entity: Entity,
        *,
        batch_size: int = 100,
        index: FeedIndex | None = None,
        mixed: bool = False,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch size must be at least 1, got {batch_size}")
        self.entity: Entity = entity
        self.batch_size = batch_size
        self._index = index
        # which entities may have rows in this feed at all
        self._models_possible = entity == "product-models" or mixed
        self._products_possible = entity != "product-models" or mixed
        self._keys: dict[Space, _Key] = {}  # keys with work going on
        # keys with nothing going on any more: None when saved, else the last failure
        self._retired: dict[Space, tuple[int, int | None, str] | None] = {}
        self._ready: dict[Entity, deque[_Job]] = {}
        self._ready_media: deque[_Job] = deque()
        self._in_flight: dict[int, list[_Job]] = {}
        self._media_in_flight: dict[int, _Job] = {}
        self._outcomes: list[tuple[ProductLine, Outcome]] = []
        self._seq = 0
        self._task_seq = 0
        self._open_rows = 0
        self._unreleased = 0  # main jobs added and not handed out (held or queued)
        self.input_ended = False
        self.lines_sent = 0  # main and links lines handed out in batches

    # -- input --------------------------------------------------------------------------

    def add(self, line: ProductLine) -> None:
        """Take one decoded line (in feed order)."""
        entity = line.entity or self.entity
        space = (entity == "product-models", line.key.casefold())
        row = _Row(line, entity, space)
        self._open_rows += 1
        state = self._key(space)
        state.seen = True
        state.pending += 1
        sent = line
        if line.links_at and not self._all_saved(line, space):
            row.deferred = True
            sent = ProductLine(line.row, line.key, first_pass(line), entity, line.parent)
        job = _Job("main", row, sent)
        row.open = 1
        self._unreleased += 1
        if line.parent is not None:
            parent = _space(True, line.parent)
            job.parent = parent
            if parent == space:
                self._unreleased -= 1
                self._main_done(job, 422, _cycle_message([line.key]), sent=False)
                return
            if not self._exists_or_settled(parent):
                job.waiting.add(parent)
                self._key(parent).waiters.append(job)
        if line.assets:  # made first: the line names them
            row.open += 1
            state.queue.append(_Job("assets", row, refs=line.assets))
        self._enqueue(job)
        self._changed(space)  # a key seen for the first time may settle waiters

    def end_of_input(self) -> None:
        """No more lines: keys never seen are not in the feed."""
        self.input_ended = True
        for space in list(self._keys):
            self._changed(space)

    # -- work ---------------------------------------------------------------------------

    def next_batch(self, *, flush: bool) -> Batch | None:
        """A batch of ready lines of one entity: a full one, or (``flush``) any."""
        best: deque[_Job] | None = None
        entity: Entity = self.entity
        for queue_entity, queue in self._ready.items():
            if len(queue) >= self.batch_size:
                best, entity = queue, queue_entity
                break
            if flush and queue and best is None:
                best, entity = queue, queue_entity
        if best is None:
            return None
        jobs = [best.popleft() for _ in range(min(self.batch_size, len(best)))]
        self._seq += 1
        self._in_flight[self._seq] = jobs
        lines = tuple(job.line for job in jobs if job.line is not None)
        self.lines_sent += len(lines)
        return Batch(self._seq, entity, lines)

    def next_media(self) -> tuple[int, MediaTask | AssetTask] | None:
        """Files to fetch and send now (a file, or a row's assets), with the id to report
        them by (``record_media``, ``record_assets``), or None."""
        if not self._ready_media:
            return None
        job = self._ready_media.popleft()
        self._task_seq += 1
        self._media_in_flight[self._task_seq] = job
        row = job.row
        if job.kind == "assets":
            return self._task_seq, AssetTask(row.line.row, row.line.key, job.refs)
        assert job.ref is not None
        return self._task_seq, MediaTask(row.line.row, row.entity, row.line.key, job.ref)

    @property
    def has_ready(self) -> bool:
        return bool(self._ready_media) or any(self._ready.values())

    @property
    def open_rows(self) -> int:
        """Rows added whose outcome is not known yet."""
        return self._open_rows

    @property
    def held(self) -> int:
        """Lines read and not handed out yet (waiting for a parent, or queued)."""
        return self._unreleased

    @property
    def in_flight(self) -> int:
        return len(self._in_flight) + len(self._media_in_flight)

    @property
    def done(self) -> bool:
        """Every row added has its outcome, and the input has ended."""
        return self.input_ended and self._open_rows == 0

    def outcomes(self) -> list[tuple[ProductLine, Outcome]]:
        """Rows finished since the last call (their line as added), in the order they finished."""
        found, self._outcomes = self._outcomes, []
        return found

    # -- answers ------------------------------------------------------------------------

    def record(self, batch: Batch, results: Sequence[LineResult]) -> None:
        """The PIM's answer for ``batch``, one result per line."""
        jobs = self._in_flight.pop(batch.seq)
        if len(results) != len(jobs):
            raise AssertionError(f"{len(results)} results for {len(jobs)} lines")
        for job, result in zip(jobs, results, strict=True):
            state = self._key(job.row.space)
            state.patches -= 1
            if job.kind == "main":
                self._main_done(job, result.status, result.message)
            else:
                if not 200 <= result.status < 300:
                    job.row.failures.append(
                        (result.status, f"associations not saved: {result.message}")
                    )
                self._job_done(job)
            self._release(job.row.space)

    def unanswered(self, batch: Batch) -> None:
        """``batch`` was not sent after all: its rows stay open, nothing follows from them."""
        for job in self._in_flight.pop(batch.seq):
            state = self._key(job.row.space)
            state.patches -= 1

    def record_media(self, task_id: int, result: LineResult) -> None:
        """What became of one media task."""
        job = self._media_in_flight.pop(task_id)
        assert job.ref is not None
        state = self._key(job.row.space)
        state.media = False
        if not 200 <= result.status < 300:
            ref = job.ref
            job.row.failures.append((result.status, not_saved(ref, result.message)))
        self._job_done(job)
        self._release(job.row.space)

    def record_assets(self, task_id: int, results: Sequence[AssetDone] | str) -> None:
        """What became of a row's assets, one result per file (or one failure for all);
        its main line goes with it (``assets.rewrite_line``)."""
        job = self._media_in_flight.pop(task_id)
        row = job.row
        state = self._key(row.space)
        state.media = False
        if isinstance(results, str):
            results = [AssetDone(0, asset_failure(r, results)) for r in job.refs]
        if len(results) != len(job.refs):
            raise AssertionError(f"{len(results)} results for {len(job.refs)} assets")
        done = list(zip(job.refs, results, strict=True))
        row.failures.extend((result.status, result.message) for _, result in done if not result.ok)
        main = next((j for j in state.queue if j.row is row and j.kind == "main"), None)
        if main is not None and main.line is not None:
            main.line = replace(main.line, body=rewrite_line(main.line.body, done))
        self._job_done(job)
        self._release(row.space)

    def stalled(self) -> None:
        """Nothing is ready nor in flight: fail the rows that can never go (parent cycles)."""
        if not self.input_ended or self.has_ready or self.in_flight:
            return
        edges: dict[Space, Space] = {}
        for space, state in self._keys.items():
            for job in state.queue:
                if job.kind == "main" and job.parent is not None and job.waiting:
                    edges.setdefault(space, job.parent)
        failing: list[tuple[_Job, str]] = []
        for start in list(edges):
            path: list[Space] = []
            node: Space | None = start
            while node is not None and node in edges and node not in path:
                path.append(node)
                node = edges[node]
            if node is None or node not in path:
                continue
            cycle = path[path.index(node) :]
            message = _cycle_message([self._name(space) for space in cycle])
            for space in cycle:
                edges.pop(space, None)
                failing.extend((job, message) for job in self._detach_waiting(space))
        if not failing:
            # cannot happen: every wait is on a key that settles; never leave a row behind
            message = "Not sent: internal error: this row could not be ordered"
            for space in list(self._keys):
                failing.extend((job, message) for job in self._detach_waiting(space))
        # every member of a cycle gets the cycle's message, then their children learn it
        for job, message in failing:
            self._main_done(job, 422, message, sent=False)

    # -- internals ----------------------------------------------------------------------

    def _key(self, space: Space) -> _Key:
        state = self._keys.get(space)
        if state is None:
            state = self._keys[space] = self._view(space) or _Key()
            self._retired.pop(space, None)
        return state

    def _view(self, space: Space) -> _Key | None:
        """The key's state, live or rebuilt from what a retired key left (not stored)."""
        state = self._keys.get(space)
        if state is not None or space not in self._retired:
            return state
        failure = self._retired[space]
        return _Key(seen=True, accepted=failure is None, failure=failure)

    def _retire(self, space: Space, state: _Key) -> None:
        """Forget an idle key but what later rows may ask: was it saved, or why not."""
        if (
            state.pending
            or state.queue
            or state.patches
            or state.media
            or state.waiters
            or not state.seen
        ):
            return
        del self._keys[space]
        self._retired[space] = None if state.accepted else state.failure

    def _name(self, space: Space) -> str:
        state = self._keys.get(space)
        job = state.queue[0] if state is not None and state.queue else None
        return job.row.line.key if job is not None else space[1]

    def _may_appear(self, space: Space) -> bool:
        """Whether rows of this key may still come.

        After the end of the input, never: a key the index lists but no line brought was
        skipped by the caller (a resumed or unchanged row), so the PIM has it or not.
        """
        if self.input_ended:
            return False
        if not (self._models_possible if space[0] else self._products_possible):
            return False
        return self._index is None or self._index.has(space)

    def _all_saved(self, line: ProductLine, space: Space) -> bool:
        """Whether every product or model the line associates was saved in this run.

        Then its associations cannot fail for a missing target and go with the line
        itself, saving the second-pass line.
        """
        for group, code in link_targets(line):
            target = _space(group == "product_models", code)
            state = self._view(target)
            if target == space or state is None or not state.accepted:
                return False
        return True

    def _exists_or_settled(self, space: Space) -> bool:
        """The key exists (a row was saved) or nothing in this run will change that."""
        state = self._view(space)
        if state is not None and state.accepted:
            return True
        if state is not None and state.pending:
            return False
        seen = state is not None and state.seen
        return seen or not self._may_appear(space)

    def _enqueue(self, job: _Job) -> None:
        self._keys[job.row.space].queue.append(job)
        if not job.waiting:
            self._ready_to_go(job)
        self._release(job.row.space)

    def _ready_to_go(self, job: _Job) -> None:
        """A main job whose parent question is settled: go, or fail without sending."""
        if job.kind != "main" or job.parent is None or job.parent == job.row.space:
            return
        state = self._view(job.parent)
        if state is None or state.accepted or not state.seen:
            return  # saved in this run, or left to the PIM
        row, status, message = state.failure or (0, None, "")
        detail = f"{status} {message}" if status is not None else message
        if len(detail) > _QUOTED:
            detail = detail[:_QUOTED] + "…"
        text = f'Not sent: parent "{job.row.line.parent}" was not saved (row {row}: {detail})'
        queue = self._key(job.row.space).queue
        queue.remove(job)
        self._unreleased -= 1
        for other in [j for j in queue if j.row is job.row and j.kind == "assets"]:
            queue.remove(other)  # not made for a line that never goes
            job.row.open -= 1
        self._main_done(job, 422, text, sent=False)

    def _release(self, space: Space) -> None:
        """Hand out the jobs at the head of this key's queue that may go now."""
        state = self._keys.get(space)
        if state is None:
            return
        queue = state.queue
        while queue and not queue[0].waiting and not state.media:
            job = queue[0]
            if job.kind in ("media", "assets"):
                if state.patches:
                    return  # files go once the lines before them are answered
                queue.popleft()
                state.media = True
                self._ready_media.append(job)
                return
            queue.popleft()
            state.patches += 1
            if job.kind == "main":
                self._unreleased -= 1
            ready = self._ready.get(job.row.entity)
            if ready is None:
                ready = self._ready[job.row.entity] = deque()
            ready.append(job)
        self._retire(space, state)

    def _main_done(self, job: _Job, status: int, message: str, *, sent: bool = True) -> None:
        row = job.row
        row.status, row.message = status, message
        state = self._key(row.space)
        state.pending -= 1
        if 200 <= status < 300:
            state.accepted = True
            line = row.line
            for ref in line.media:
                row.open += 1
                self._key(row.space).queue.append(_Job("media", row, ref=ref))
            links = second_pass(line, row.entity) if row.deferred else None
            if links is not None:
                row.open += 1
                links_job = _Job("links", row, replace(line, body=links, links_at=0, media=()))
                for group, code in link_targets(line):
                    target = _space(group == "product_models", code)
                    if target != row.space and not self._exists_or_settled(target):
                        links_job.waiting.add(target)
                        self._key(target).waiters.append(links_job)
                self._key(row.space).queue.append(links_job)
        else:
            state.failure = (row.line.row, status, message)
        self._job_done(job)
        self._changed(row.space)
        if not sent:
            self._release(row.space)

    def _job_done(self, job: _Job) -> None:
        row = job.row
        row.open -= 1
        if row.open:
            return
        self._open_rows -= 1
        assert row.status is not None
        saved = 200 <= row.status < 300
        if saved and not row.failures and row.line.notes:
            # values the PIM dropped without a word (catalog.checks): saved, and said so
            text = "; ".join(row.line.notes)
            message = f"Saved ({row.status}), except: {text}"
            self._outcomes.append((row.line, Outcome(row.line.row, row.status, message)))
            return
        if not row.failures or not saved:
            message = row.message
            if row.failures:  # files of its asset cells that failed before the line did
                message += "; " + "; ".join(failure for _, failure in row.failures)
            self._outcomes.append((row.line, Outcome(row.line.row, row.status, message)))
            return
        status = row.failures[0][0]
        text = "; ".join([*(failure for _, failure in row.failures), *row.line.notes])
        message = f"Saved ({row.status}), except: {text}"
        self._outcomes.append((row.line, Outcome(row.line.row, status, message)))

    def _changed(self, space: Space) -> None:
        """Something about this key changed: wake the jobs waiting for it."""
        state = self._keys.get(space)
        if state is None or not state.waiters or not self._exists_or_settled(space):
            return
        waiters, state.waiters = state.waiters, []
        for job in waiters:
            job.waiting.discard(space)
            if not job.waiting:
                self._ready_to_go(job)
                self._release(job.row.space)

    def _detach_waiting(self, space: Space) -> list[_Job]:
        """Take this key's main jobs that wait for their parent out of every queue."""
        state = self._keys.get(space)
        if state is None:
            return []
        jobs = [j for j in state.queue if j.kind == "main" and j.waiting]
        for job in jobs:
            for other in job.waiting:
                waiters = self._key(other).waiters
                if job in waiters:
                    waiters.remove(job)
            job.waiting.clear()
            state.queue.remove(job)
            self._unreleased -= 1
        return jobs


def _cycle_message(keys: list[str]) -> str:
    text = " -> ".join(f'"{key}"' for key in [*keys, keys[0]])
    return (
        f"Not sent: parent cycle: {text}; a product model cannot be its own ancestor: "
        "fix the parent column of these rows"
    )


# ---------------------------------------------------------------------------
# the driver


class MediaApplier(Protocol):
    """What ``SendPlan`` needs of ``media.MediaStage``."""

    def apply(self, task: MediaTask) -> LineResult: ...

    def close(self) -> None: ...


class AssetApplier(Protocol):
    """What ``SendPlan`` needs of ``assets.AssetStage``."""

    def apply(self, task: AssetTask) -> tuple[AssetDone, ...]: ...

    def close(self) -> None: ...


_NO_MEDIA = LineResult(
    422, "files given by URL or path are not fetched in this run (no media stage)"
)
_NO_ASSETS = "files are not made into assets in this run (no asset stage)"


Answer = tuple[ProductLine, Outcome]  # the line as decoded (whole body), and its row's outcome


class SendPlan:
    """Pushes lines with the planner's order: the sender for lines, a pool for files.

    ``run(lines)`` yields one ``Outcome`` per line as rows finish; ``answers(lines)``
    yields the same as lists of ``(line, outcome)``, one list per batch answered (for
    callers that record answers in bulk). Rows are yielded only when complete.

    Hooks, all optional: ``on_batch(batch)`` when a batch is handed to the sender;
    ``on_send(batch)`` in the sender's worker, right before its request starts;
    ``on_answer(batch, results)`` when its answer is in, before the planner sees it;
    returning False means "this batch was not sent after all" (e.g. stopped by an
    interrupt): its rows are left to the caller and nothing follows from them.
    ``stop_when()`` true: no new batch or file is started, the batches in flight are
    answered, and the run ends; rows not finished are the caller's.

    On an error from the sender (``AuthenticationError``...) the run ends the same way
    and the error is raised. Either way, ``saved_unfinished()`` names the rows whose line
    was saved but whose files or associations did not go, and ``never_sent()`` the rows
    never handed to the sender.
    """

    def __init__(
        self,
        client: PatchClient,
        *,
        entity: Entity,
        batch_size: int = 100,
        concurrency: int = 4,
        create_missing_options: bool = False,
        media: MediaApplier | None = None,
        assets: AssetApplier | None = None,
        media_concurrency: int | None = None,
        index: FeedIndex | None = None,
        mixed: bool = False,
        on_batch: Callable[[Batch], None] | None = None,
        on_send: Callable[[Batch], None] | None = None,
        on_answer: Callable[[Batch, list[LineResult]], bool] | None = None,
        stop_when: Callable[[], bool] | None = None,
    ) -> None:
        self._client = client
        self._entity: Entity = entity
        self._concurrency = concurrency
        self._create = create_missing_options
        self._media = media
        self._assets = assets
        # files go beside the PATCH requests: half as many, so that together they stay
        # near the PIM's limit of concurrent calls (akeneo-api.md §5)
        self._media_slots = max(1, media_concurrency or concurrency // 2)
        self._on_batch = on_batch
        self._on_send = on_send
        self._on_answer = on_answer
        self._stop_when = stop_when
        # how many lines may wait in memory for their parents before the planner stops
        # reading ahead and lets the batches in flight finish first
        self._hold_limit = max(1000, batch_size * concurrency * 10)
        self.planner = Planner(entity, batch_size=batch_size, index=index, mixed=mixed)
        self._pool: ThreadPoolExecutor | None = None
        self._futures: dict[Future[Any], tuple[int, bool]] = {}  # -> (task id, assets?)

    def run(self, lines: Iterable[ProductLine]) -> Iterator[Outcome]:
        """One ``Outcome`` per line, as rows finish."""
        for answers in self.answers(lines):
            for _, outcome in answers:
                yield outcome

    def answers(self, lines: Iterable[ProductLine]) -> Iterator[list[Answer]]:
        """``(line, outcome)`` of the rows finished, a list per batch answered."""
        planner = self.planner
        source = iter(lines)
        try:
            while True:
                for batch, results in send_batches(
                    self._client,
                    self._batches(source),
                    concurrency=self._concurrency,
                    create_missing_options=self._create,
                    on_send=self._on_send,
                ):
                    if self._on_answer is None or self._on_answer(batch, results):
                        planner.record(batch, results)
                    else:
                        planner.unanswered(batch)
                    self._pump_media(block=False)
                    if found := planner.outcomes():
                        yield found
                if found := planner.outcomes():
                    yield found
                if planner.done or self._stopping():
                    break
                if self._futures:
                    self._pump_media(block=True)
                elif planner.input_ended and not planner.has_ready:
                    before = planner.open_rows
                    planner.stalled()
                    if planner.open_rows == before and not planner.has_ready:
                        # never spin: a row nothing can move is a bug, say so loudly
                        raise AssertionError(f"the planner is stuck with {before} rows open")
                if found := planner.outcomes():
                    yield found
        finally:
            self._shutdown()

    def never_sent(self) -> list[int]:
        """Rows read whose line was never handed to the sender."""
        planner = self.planner
        rows: set[int] = set()
        for state in planner._keys.values():
            rows.update(job.row.line.row for job in state.queue if job.kind == "main")
        for queue in planner._ready.values():
            rows.update(job.row.line.row for job in queue if job.kind == "main")
        return sorted(rows)

    def saved_unfinished(self) -> list[tuple[int, int]]:
        """``(row, status)`` of rows saved whose files or associations did not go."""
        return [(row.line.row, row.status or 0) for row in _saved_rows(self.planner)]

    def _stopping(self) -> bool:
        return self._stop_when is not None and self._stop_when()

    def _batches(self, source: Iterator[ProductLine]) -> Iterator[Batch]:
        """Ready batches, reading lines only while none is ready; ends when none is left."""
        planner = self.planner
        while not self._stopping():
            self._pump_media(block=False)
            batch = planner.next_batch(flush=planner.input_ended)
            if batch is None and not planner.input_ended:
                if planner.held < self._hold_limit or not planner.in_flight:
                    line = next(source, None)
                    if line is None:
                        planner.end_of_input()
                    else:
                        planner.add(line)
                    continue
                # enough read ahead: send what is ready, or let the batches in flight end
                batch = planner.next_batch(flush=True)
            if batch is None:
                return  # the rest waits for batches or files in flight
            if self._on_batch is not None:
                self._on_batch(batch)
            yield batch

    def _pump_media(self, *, block: bool) -> None:
        """Start ready media tasks, collect finished ones (waiting for one if ``block``)."""
        planner = self.planner
        if self._futures:
            done, _ = wait(self._futures, timeout=None if block else 0, return_when=FIRST_COMPLETED)
            for future in done:
                task_id, assets = self._futures.pop(future)
                try:
                    result = future.result()
                except Exception as exc:  # a bug in a stage costs that task's files only
                    log.debug("media task crashed", exc_info=exc)
                    result = f"internal error: {type(exc).__name__}: {exc}"
                if assets:
                    planner.record_assets(task_id, result)
                elif isinstance(result, str):
                    planner.record_media(task_id, LineResult(0, result))
                else:
                    planner.record_media(task_id, result)
        while len(self._futures) < self._media_slots and not self._stopping():
            found = planner.next_media()
            if found is None:
                break
            task_id, task = found
            if isinstance(task, AssetTask):
                if self._assets is None:
                    planner.record_assets(task_id, _NO_ASSETS)
                    continue
                future = self._pool_for().submit(self._assets.apply, task)
                self._futures[future] = (task_id, True)
                continue
            if self._media is None:
                planner.record_media(task_id, _NO_MEDIA)
                continue
            self._futures[self._pool_for().submit(self._media.apply, task)] = (task_id, False)

    def _pool_for(self) -> ThreadPoolExecutor:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(
                max_workers=self._media_slots, thread_name_prefix="feed_export-media"
            )
        return self._pool

    def _shutdown(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        if self._media is not None:
            self._media.close()
        if self._assets is not None:
            self._assets.close()


def _saved_rows(planner: Planner) -> list[_Row]:
    """Rows whose main line was saved but that still have jobs open."""
    rows: dict[int, _Row] = {}
    jobs: list[_Job] = []
    for state in planner._keys.values():
        jobs.extend(state.queue)
    for queue in planner._ready.values():
        jobs.extend(queue)
    jobs.extend(planner._ready_media)
    for batch_jobs in planner._in_flight.values():
        jobs.extend(batch_jobs)
    jobs.extend(planner._media_in_flight.values())
    for job in jobs:
        row = job.row
        if row.open and row.status is not None and 200 <= row.status < 300:
            rows[row.line.row] = row
    return [rows[number] for number in sorted(rows)]
