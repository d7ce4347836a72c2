"""``--payload-out``: the lines that went to the PIM, as NDJSON, in the order handed out."""

from __future__ import annotations

from collections import deque
from typing import BinaryIO

from feed_export.push.batches import Batch


class PayloadLog:
    """Writes each batch's lines once it is known to have gone (or drops them).

    In the order the batches were handed out (feed order for simple feeds), once all the
    batches before are known: the sender takes a batch a step before it sends it, so only
    the answer (or, after an abort, whether its request began) tells.
    """

    def __init__(self, out: BinaryIO) -> None:
        self._out = out
        self._queue: deque[Batch] = deque()  # batches handed out, in order
        self._went: dict[int, bool] = {}  # batch seq -> it went (or not)

    def handed_out(self, batch: Batch) -> None:
        self._queue.append(batch)

    def settled(self, batch: Batch, went: bool) -> None:
        """``batch`` went (or did not); write what is known to have gone."""
        self._went[batch.seq] = went
        queue, went_by_seq = self._queue, self._went
        while queue and queue[0].seq in went_by_seq:
            head = queue.popleft()
            if went_by_seq.pop(head.seq):
                self._out.write(b"".join(line.body + b"\n" for line in head.lines))
