"""Product lines -> numbered batches of at most ``size`` lines, in feed order."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from feed_export.push.decode import ProductLine


@dataclass(frozen=True, slots=True)
class Batch:
    """Lines sent together in one collection PATCH; ``seq`` counts from 1 in feed order."""

    seq: int
    lines: tuple[ProductLine, ...]


def make_batches(lines: Iterable[ProductLine], size: int) -> Iterator[Batch]:
    """Group ``lines`` into batches of ``size`` (the last one may be shorter).

    Streaming: a line is pulled from ``lines`` only when its batch is being filled, so
    five lines with ``size=2`` come out as batches 1, 2 and 3 of 2, 2 and 1 lines.
    """
    if size < 1:
        raise ValueError(f"batch size must be at least 1, got {size}")
    source = iter(lines)
    seq = 0
    while chunk := tuple(islice(source, size)):
        seq += 1
        yield Batch(seq, chunk)
