"""Batches -> the PIM, several in flight, never two with the same product at once."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import TYPE_CHECKING, Protocol

from feed_export.errors import AuthenticationError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from feed_export.akeneo.responses import LineResult
    from feed_export.config import Entity
    from feed_export.push.batches import Batch

log = logging.getLogger(__name__)


class PatchClient(Protocol):
    """What pushing needs of ``AkeneoClient``: the collection PATCH (tests pass fakes)."""

    def patch_collection(
        self, entity: Entity, lines: Sequence[bytes], *, create_missing_options: bool = False
    ) -> list[LineResult]: ...


def batch_keys(batch: Batch) -> frozenset[str]:
    """The products a batch touches, case-folded.

    Whether the PIM treats identifiers case-insensitively is not documented
    (akeneo-api.md); folding can only make us wait when we need not, never overlap.
    """
    return frozenset(line.key.casefold() for line in batch.lines)


def send_batches(
    client: PatchClient,
    batches: Iterable[Batch],
    *,
    concurrency: int,
    create_missing_options: bool = False,
    on_send: Callable[[Batch], None] | None = None,
) -> Iterator[tuple[Batch, list[LineResult]]]:
    """Send ``batches`` with at most ``concurrency`` in flight; yield each as it completes.

    Each batch goes to its own entity's endpoint. ``on_send(batch)`` is called in the
    worker thread right before its request starts: after an abort, it tells a batch that
    may have reached the PIM from one that was only taken from ``batches``.

    At most one batch is read ahead of those in flight: it is pulled from ``batches``
    (which decodes its rows) while every slot is busy, so a freed slot is refilled at
    once instead of after the decoding, and memory stays flat however long the feed.
    Freed slots are refilled before the finished batches are handed over. A batch
    sharing a product key with one in flight waits for it (the later rows of a product
    must land after the earlier ones), and batches behind it wait too, so lines of one
    key go out in feed order. Within a batch the PIM applies lines in order, so a key
    may repeat there.

    Every batch sent is yielded with one result per line, except the one that raised
    ``AuthenticationError``: then nothing more is sent, batches in flight finish and are
    yielded, and the error is raised. An error while pulling the next batch is raised
    the same way. A crash inside a worker costs only its batch: its lines get status 0.
    """
    if concurrency < 1:
        raise ValueError(f"concurrency must be at least 1, got {concurrency}")
    pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="feed_export-send")
    state = _Dispatch(client, iter(batches), pool, concurrency, create_missing_options, on_send)
    try:
        while True:
            state.fill()
            if not state.in_flight:
                break
            state.read_ahead()
            done, _ = wait(state.in_flight, return_when=FIRST_COMPLETED)
            finished = state.collect(done)
            state.fill()  # the freed slots go back to work before the results are handled
            yield from finished
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    if state.stop is not None:
        raise state.stop


class _Dispatch:
    """The bookkeeping of ``send_batches``: batches in flight, their keys, the one read ahead."""

    def __init__(
        self,
        client: PatchClient,
        source: Iterator[Batch],
        pool: ThreadPoolExecutor,
        concurrency: int,
        create_missing_options: bool,
        on_send: Callable[[Batch], None] | None,
    ) -> None:
        self.client = client
        self.source = source
        self.pool = pool
        self.concurrency = concurrency
        self.create_missing_options = create_missing_options
        self.on_send = on_send
        self.in_flight: dict[Future[list[LineResult]], tuple[Batch, frozenset[str]]] = {}
        self.busy: set[str] = set()  # keys of the batches in flight
        self.waiting: tuple[Batch, frozenset[str]] | None = None  # pulled, not sent yet
        self.exhausted = False
        self.stop: BaseException | None = None  # raised once the batches in flight end

    def pull(self) -> bool:
        """Make sure the next batch is in ``waiting``; False when there is none to send."""
        if self.waiting is not None:
            return True
        if self.exhausted or self.stop is not None:
            return False
        try:
            batch = next(self.source)
        except StopIteration:
            self.exhausted = True
            return False
        except Exception as exc:  # e.g. the feed could not be read further
            self.stop = exc
            return False
        self.waiting = (batch, batch_keys(batch))
        return True

    def fill(self) -> None:
        """Submit batches while a slot is free and the next one's products are not busy."""
        while self.stop is None and len(self.in_flight) < self.concurrency and self.pull():
            assert self.waiting is not None
            batch, keys = self.waiting
            if not keys.isdisjoint(self.busy):
                return  # wait for the batch in flight with the same product
            future = self.pool.submit(self._send, batch)
            self.in_flight[future] = self.waiting
            self.busy |= keys
            self.waiting = None

    def _send(self, batch: Batch) -> list[LineResult]:
        if self.on_send is not None:
            self.on_send(batch)
        return self.client.patch_collection(
            batch.entity,
            [line.body for line in batch.lines],
            create_missing_options=self.create_missing_options,
        )

    def read_ahead(self) -> None:
        """While every request is still out, prepare the next batch instead of idling."""
        if not any(future.done() for future in self.in_flight):
            self.pull()

    def collect(
        self, done: Iterable[Future[list[LineResult]]]
    ) -> list[tuple[Batch, list[LineResult]]]:
        """Take finished batches out of flight; their results, in feed order."""
        finished: list[tuple[Batch, list[LineResult]]] = []
        for future in sorted(done, key=lambda f: self.in_flight[f][0].seq):
            batch, keys = self.in_flight.pop(future)
            self.busy -= keys
            try:
                results = future.result()
            except AuthenticationError as exc:
                if self.stop is None:
                    self.stop = exc
                continue  # its rows stay unanswered: the caller marks them
            except Exception as exc:
                results = _crashed(batch, exc)
            if len(results) != len(batch.lines):
                results = _crashed(
                    batch,
                    AssertionError(f"{len(results)} results for {len(batch.lines)} lines"),
                )
            finished.append((batch, results))
        return finished


def _crashed(batch: Batch, exc: BaseException) -> list[LineResult]:
    """Results for a batch whose worker crashed: the rows are kept, with status 0."""
    from feed_export.akeneo.responses import LineResult

    log.error("batch %d: internal error while sending: %s: %s", batch.seq, type(exc).__name__, exc)
    log.debug("batch %d crashed", batch.seq, exc_info=exc)
    result = LineResult(
        0, f"Unknown: internal error while sending this batch ({type(exc).__name__}: {exc})"
    )
    return [result] * len(batch.lines)
