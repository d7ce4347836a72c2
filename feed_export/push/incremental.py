"""``--only-changed``: leave out the rows the PIM already holds, judged by the state store.

A row is left out when its key's last push was accepted with this very payload and no
earlier row of the key was sent in this run. Once a key is sent, its later rows go too:
their order then matters, and the state's answer is not in yet.

The payload is known without decoding when the raw row's hash (salted with the decoding
context: version, header, options, catalog) is the one stored with the accepted payload:
same cells, same context, same payload. Otherwise the row is decoded and its payload's
hash compared; a match then stores the raw hash, for the next run.

Rows left out are journaled before any later line goes, so that a resume, which decides
again against a state that may have moved on, never sends them.
"""

from __future__ import annotations

from collections.abc import Iterator

from feed_export.feed.reader import Row
from feed_export.push.decode import LineError, ProductLine, RowDecoder, state_payload
from feed_export.push.feedback import OrderedFeedback, Outcome
from feed_export.push.journal import Journal, Recorded
from feed_export.push.rows import decode_row
from feed_export.push.state import StateStore, payload_hash, row_hash, state_key
from feed_export.push.tracking import recorded_outcome
from feed_export.report.model import UNCHANGED_STATUS

#: rows decided together: one state lookup, one journal commit
DECIDE_CHUNK = 500


class ChangeFilter:
    """Decides, a chunk of rows at a time, which rows to send; answers the others (304).

    ``digests`` receives the raw-row hash of every row sent (the state stores it with
    the accepted payload once the PIM answers).
    """

    def __init__(
        self,
        state: StateStore,
        journal: Journal | None,
        ordered: OrderedFeedback,
        context: bytes,
        key_index: int,
        digests: dict[int, bytes],
    ) -> None:
        self._state = state
        self._journal = journal
        self._ordered = ordered
        self._context = context
        self._key_index = key_index
        self._digests = digests
        self._touched: set[str] = set()  # keys sent in this run

    def lines(self, chunk: list[Row], decoder: RowDecoder) -> Iterator[ProductLine]:
        """The lines of ``chunk`` to send; the other rows get their outcome here."""
        state, ordered, touched = self._state, self._ordered, self._touched
        context, index = self._context, self._key_index
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
            raw_match = entry is not None and not row.flaws and entry.holds_row(digest)
            if raw_match and entry is not None and raw_key not in touched:
                unchanged.append(Recorded(row.number, UNCHANGED_STATUS, "", entry.accepted_at))
                continue
            result = decode_row(decoder, row)
            if isinstance(result, LineError):
                ordered.resolve(Outcome(row.number, 422, result.message), result)
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
            self._digests[row.number] = digest
            send.append(result)
        if self._journal is not None:
            self._journal.record(unchanged)
        state.note_rows(noted)
        ordered.resolve_many([recorded_outcome(done) for done in unchanged])
        yield from send
