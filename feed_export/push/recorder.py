"""Finished rows -> the state store, then the journal, then the feedback, in product order.

The writes per batch of answers go state store, then journal, then feedback. A kill
between them leaves the state ahead of the journal, never behind: a row answered but not
journaled is sent again (or, with ``--only-changed``, found unchanged) on resume.

The rows of one product are recorded in feed order: the planner may finish a later row
first (an earlier one still waits for its files or associations), and that answer then
waits here. So the journal holds a prefix of each product's rows, which lets a resume
send the rest in order, and the state's last word on a product is its last row's.

The state store also learns which products may be changing: a key is marked pending
(durably) before its batch is handed to the sender, and released when the batch is back.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Callable, Iterable

from feed_export.push.decode import ProductLine, state_payload
from feed_export.push.feedback import OrderedFeedback, Outcome
from feed_export.push.journal import Recorded
from feed_export.push.state import Pushed, payload_hash, state_key
from feed_export.push.tracking import RunMemory

Answer = tuple[ProductLine, Outcome]  # a row the planner finished: its line, its outcome


class Recorder:
    """Records the rows the planner finished; tracks the products out at the PIM."""

    def __init__(
        self,
        memory: RunMemory,
        ordered: OrderedFeedback,
        progress: Callable[[int], None] | None,
    ) -> None:
        self._memory = memory
        self._ordered = ordered
        self._progress = progress
        self.digests: dict[int, bytes] = {}  # raw-row hashes of the lines not answered
        self.finished: dict[int, Answer] = {}  # answered; an earlier row of the key is not
        self._planned: dict[str, deque[int]] = {}  # folded key -> rows planned, not recorded
        self._keys_out: Counter[str] = Counter()  # folded key -> its batches out
        self.done = 0

    def plan(self, line: ProductLine) -> None:
        """``line`` goes to the planner: its row is recorded after its key's earlier rows."""
        key = state_key(line.key)
        queue = self._planned.get(key)
        if queue is None:
            queue = self._planned[key] = deque()
        queue.append(line.row)

    def out(self, lines: Iterable[ProductLine]) -> None:
        """These lines are handed to the sender: their products may change from now on."""
        keys = {state_key(line.key) for line in lines}
        if self._memory.state is not None:
            self._memory.state.mark_pending(keys)
        self._keys_out.update(keys)

    def back(self, lines: Iterable[ProductLine]) -> None:
        """The batch of these lines is back (answered, or not sent after all)."""
        keys = {state_key(line.key) for line in lines}
        if self._memory.state is not None:
            # one batch fewer out for these keys; record() counts off the rows' answers
            # and is told about the keys still out (see _record)
            self._memory.state.release(keys)
        out = self._keys_out
        out.subtract(keys)
        for key in keys:
            if out[key] <= 0:
                del out[key]

    def answered(self, answers: list[Answer]) -> None:
        """Rows the planner finished: each recorded once its product's earlier rows are."""
        finished, planned = self.finished, self._planned
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
        state, journal = self._memory.state, self._memory.journal
        if state is not None:
            # record() counts one batch off each key: a key with a batch still out (a later
            # row, its associations) is marked once more, so that it stays pending
            busy = {key for line, _ in answers if (key := state_key(line.key)) in self._keys_out}
            if busy:
                state.mark_pending(busy)
            digests = self.digests
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
        self._ordered.resolve_many([outcome for _, outcome in answers])
        self.done += len(answers)
        if self._progress is not None:
            self._progress(self.done)
