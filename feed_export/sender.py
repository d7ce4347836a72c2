"""Batches -> the PIM, several in flight, never two with the same product at once."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import TYPE_CHECKING, Protocol

from feed_export.errors import AuthenticationError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from feed_export.batcher import Batch
    from feed_export.client import LineResult
    from feed_export.config import Entity

log = logging.getLogger(__name__)


class PatchClient(Protocol):
    """What the sender needs of ``AkeneoClient`` (tests pass fakes)."""

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
    entity: Entity,
    concurrency: int,
    create_missing_options: bool = False,
) -> Iterator[tuple[Batch, list[LineResult]]]:
    """Send ``batches`` with at most ``concurrency`` in flight; yield each as it completes.

    The next batch is pulled from ``batches`` only when a slot is free, so memory stays
    flat however long the feed. A batch sharing a product key with one in flight waits
    for it (the later rows of a product must land after the earlier ones), and batches
    behind it wait too, so lines of one key go out in feed order. Within a batch the PIM
    applies lines in order, so a key may repeat there.

    Every batch sent is yielded with one result per line, except the one that raised
    ``AuthenticationError``: then nothing more is sent, batches in flight finish and are
    yielded, and the error is raised. An error while pulling the next batch is raised
    the same way. A crash inside a worker costs only its batch: its lines get status 0.
    """
    if concurrency < 1:
        raise ValueError(f"concurrency must be at least 1, got {concurrency}")
    source = iter(batches)
    in_flight: dict[Future[list[LineResult]], tuple[Batch, frozenset[str]]] = {}
    busy: set[str] = set()  # keys of the batches in flight
    waiting: tuple[Batch, frozenset[str]] | None = None  # pulled, not sent yet
    exhausted = False
    stop: BaseException | None = None  # raised once the batches in flight are answered

    pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="feed_export-send")
    try:
        while True:
            while stop is None and len(in_flight) < concurrency:
                if waiting is None:
                    if exhausted:
                        break
                    try:
                        batch = next(source)
                    except StopIteration:
                        exhausted = True
                        break
                    except Exception as exc:  # e.g. the feed could not be read further
                        stop = exc
                        break
                    waiting = (batch, batch_keys(batch))
                batch, keys = waiting
                if not keys.isdisjoint(busy):
                    break  # wait for the batch in flight with the same product
                future = pool.submit(
                    client.patch_collection,
                    entity,
                    [line.body for line in batch.lines],
                    create_missing_options=create_missing_options,
                )
                in_flight[future] = waiting
                busy |= keys
                waiting = None
            if not in_flight:
                break
            done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
            for future in sorted(done, key=lambda f: in_flight[f][0].seq):
                batch, keys = in_flight.pop(future)
                busy -= keys
                try:
                    results = future.result()
                except AuthenticationError as exc:
                    if stop is None:
                        stop = exc
                    continue  # its rows stay unanswered: the caller marks them
                except Exception as exc:
                    results = _crashed(batch, exc)
                if len(results) != len(batch.lines):
                    results = _crashed(
                        batch,
                        AssertionError(f"{len(results)} results for {len(batch.lines)} lines"),
                    )
                yield batch, results
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    if stop is not None:
        raise stop


def _crashed(batch: Batch, exc: BaseException) -> list[LineResult]:
    """Results for a batch whose worker crashed: the rows are kept, with status 0."""
    from feed_export.client import LineResult

    log.error("batch %d: internal error while sending: %s: %s", batch.seq, type(exc).__name__, exc)
    log.debug("batch %d crashed", batch.seq, exc_info=exc)
    result = LineResult(
        0, f"Unknown: internal error while sending this batch ({type(exc).__name__}: {exc})"
    )
    return [result] * len(batch.lines)
