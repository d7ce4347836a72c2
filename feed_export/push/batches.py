"""Product lines -> numbered batches of at most ``size`` lines for one endpoint, in feed order."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from feed_export.config import Entity
    from feed_export.push.decode import ProductLine


@dataclass(frozen=True, slots=True)
class Batch:
    """Lines sent together in one collection PATCH to ``entity``'s endpoint.

    ``seq`` numbers the batches of a run from 1, in the order they are handed out; it is
    the batch's identity (what the sender reports as begun, what the answers refer to).
    """

    seq: int
    entity: Entity
    lines: tuple[ProductLine, ...]


def make_batches(lines: Iterable[ProductLine], size: int, entity: Entity) -> Iterator[Batch]:
    """Group ``lines`` (all for ``entity``) into batches of ``size`` (the last may be shorter).

    Streaming: a line is pulled from ``lines`` only when its batch is being filled, so
    five lines with ``size=2`` come out as batches 1, 2 and 3 of 2, 2 and 1 lines.
    """
    if size < 1:
        raise ValueError(f"batch size must be at least 1, got {size}")
    source = iter(lines)
    seq = 0
    while chunk := tuple(islice(source, size)):
        seq += 1
        yield Batch(seq, entity, chunk)
