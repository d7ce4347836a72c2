"""The state store: what the PIM last accepted for each product, so unchanged rows need not go.

One SQLite file (default ``.feed_export/state.sqlite`` beside the feed) holds, per PIM
(its base URL), entity and product key, the hash of the last payload the PIM accepted,
when, and the status of the last push of that key. ``--only-changed`` skips a row whose
payload hash equals the accepted one, unless the last push of its key did not end in an
acceptance.

Why it can be trusted:

- Keys are case-folded, as ``sender.batch_keys`` does: whether the PIM treats identifiers
  case-insensitively is not documented, and folding can only make two spellings share one
  entry (so a row is sent more often), never make us skip a row the PIM does not hold.
- A key is marked *pending* (status -1) durably before its batch is handed to the sender,
  so a crash with the request in flight leaves "not known to be accepted" behind, and the
  next run sends that key again. An answer clears the mark only when no later batch of
  the same key is still out.
- Commits use ``synchronous=FULL``: the state must never be behind the PIM, even after a
  power loss, or a later run could skip a row the PIM no longer holds. A commit costs
  about 0.4 ms here (WAL), two per batch of 100 lines, small beside the request itself.
- What others change in the PIM is not seen: ``--full`` sends everything again.

Beside the payload's hash, an entry keeps the hash of the raw row that produced it,
salted with the decoding context (tool version, header, options, the PIM's catalog):
the same cells in the same context decode to the same payload, so ``--only-changed``
can leave such a row out without decoding it. A row whose raw hash differs is decoded
and judged by its payload's hash, as before.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import orjson

from feed_export.errors import ConfigError, RunAborted
from feed_export.feed.output import prepare_private_file, private_folder

log = logging.getLogger(__name__)

STATE_DIR: Final = ".feed_export"
STATE_FILE: Final = "state.sqlite"

#: statuses that mean the PIM holds the payload
ACCEPTED: Final = frozenset({200, 201, 204})
#: the status of a key whose batch was handed to the sender and not answered yet
PENDING: Final = -1

HASH_BYTES: Final = 16
_LOOKUP_CHUNK: Final = 500  # keys per SELECT ... IN (...): well under SQLite's variable limit

_SCHEMA = """
CREATE TABLE IF NOT EXISTS targets (
    id INTEGER PRIMARY KEY,
    base_url TEXT NOT NULL,
    entity TEXT NOT NULL,
    UNIQUE (base_url, entity)
);
CREATE TABLE IF NOT EXISTS products (
    target INTEGER NOT NULL,
    key TEXT NOT NULL,            -- case-folded
    hash BLOB,                    -- of the last payload accepted; NULL: never accepted
    row_hash BLOB,                -- of the raw row (and context) that payload came from
    accepted_at INTEGER,          -- unix seconds
    status INTEGER NOT NULL,      -- of the last push; -1 pending
    pushed_at INTEGER NOT NULL,
    PRIMARY KEY (target, key)
) WITHOUT ROWID;
-- push --missing: the keys each feed had, and the last run of that feed that had them
CREATE TABLE IF NOT EXISTS feed_keys (
    target INTEGER NOT NULL,
    feed TEXT NOT NULL,
    key TEXT NOT NULL,            -- case-folded
    spelling TEXT NOT NULL,       -- as the feed last wrote it
    run INTEGER NOT NULL,
    PRIMARY KEY (target, feed, key)
) WITHOUT ROWID;
"""

# hash and row_hash change together: a row_hash only ever vouches for its own hash
_UPSERT = """
INSERT INTO products (target, key, hash, row_hash, accepted_at, status, pushed_at)
VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (target, key) DO UPDATE SET
    row_hash = CASE WHEN excluded.hash IS NULL THEN row_hash ELSE excluded.row_hash END,
    hash = coalesce(excluded.hash, hash),
    accepted_at = coalesce(excluded.accepted_at, accepted_at),
    status = excluded.status,
    pushed_at = excluded.pushed_at
"""


def state_folder(folder: Path) -> Path:
    """The folder of a state file: ``.feed_export`` must be a private folder of this user
    (``feed.output.private_folder``); a folder named with ``--state`` is created as needed."""
    if folder.name == STATE_DIR:
        return private_folder(folder)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def default_state_path(feed_path: Path) -> Path:
    """``<feed folder>/.feed_export/state.sqlite``."""
    return feed_path.parent / STATE_DIR / STATE_FILE


def payload_hash(body: bytes) -> bytes:
    """A 128-bit digest of a product line (SHA-256: hardware-accelerated on most CPUs)."""
    return hashlib.sha256(body).digest()[:HASH_BYTES]


def row_hash(context: bytes, cells: Sequence[str]) -> bytes:
    """A 128-bit digest of a raw row in a decoding context (see ``context_hash``)."""
    return hashlib.sha256(context + orjson.dumps(cells)).digest()[:HASH_BYTES]


def context_hash(*parts: object) -> bytes:
    """The digest of what decoding depends on besides the row (JSON-able parts)."""
    return hashlib.sha256(orjson.dumps(parts, option=orjson.OPT_SORT_KEYS)).digest()


def state_key(key: str) -> str:
    """The key as stored: case-folded, like ``sender.batch_keys``."""
    return key.casefold()


def format_time(seconds: int) -> str:
    """Unix seconds as ``2026-11-28T07:10:00Z``."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


@dataclass(frozen=True, slots=True)
class Stored:
    """What the state holds for one key."""

    hash: bytes | None
    accepted_at: int | None
    status: int
    row_hash: bytes | None = None

    def holds(self, digest: bytes) -> bool:
        """True when the PIM is known to hold exactly this payload as its last one."""
        return self.status in ACCEPTED and self.hash == digest

    def holds_row(self, digest: bytes) -> bool:
        """True when the PIM holds the payload of exactly this raw row (and context)."""
        return self.status in ACCEPTED and self.row_hash == digest


@dataclass(frozen=True, slots=True)
class Pushed:
    """One line's answer, to be recorded: its key as sent, its body's hash, its status."""

    key: str
    digest: bytes
    status: int
    row_digest: bytes | None = None


class StateStore:
    """The state of one PIM and entity in one SQLite file. Not thread-safe: one thread."""

    def __init__(
        self,
        path: Path,
        target: str,
        entity: str,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """Open (or create) the store; ConfigError when the file cannot be used."""
        if not target:
            raise ConfigError("the state store needs the PIM's base URL")
        self.path = path
        self._clock = clock
        self._outstanding: Counter[str] = Counter()  # keys of batches handed out, unanswered
        try:
            state_folder(path.parent)
            prepare_private_file(path, "state file")
            self._db = sqlite3.connect(path, isolation_level=None, timeout=30.0)
        except (OSError, sqlite3.Error) as exc:
            raise ConfigError(f"cannot open the state file {path}: {exc}") from exc
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(_SCHEMA)
            self._db.execute(
                "INSERT OR IGNORE INTO targets (base_url, entity) VALUES (?, ?)", (target, entity)
            )
            (self._target,) = self._db.execute(
                "SELECT id FROM targets WHERE base_url = ? AND entity = ?", (target, entity)
            ).fetchone()
        except sqlite3.Error as exc:
            self._db.close()
            raise ConfigError(
                f"cannot use the state file {path}: {exc} (delete it to start afresh)"
            ) from exc

    def lookup(self, keys: Iterable[str]) -> dict[str, Stored]:
        """What is stored for these (case-folded) keys; absent keys are left out."""
        found: dict[str, Stored] = {}
        wanted = list(dict.fromkeys(keys))
        for start in range(0, len(wanted), _LOOKUP_CHUNK):
            chunk = wanted[start : start + _LOOKUP_CHUNK]
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(
                "SELECT key, hash, accepted_at, status, row_hash FROM products "
                f"WHERE target = ? AND key IN ({marks})",
                (self._target, *chunk),
            )
            for key, digest, accepted_at, status, row_digest in rows:
                found[key] = Stored(digest, accepted_at, status, row_digest)
        return found

    def note_rows(self, rows: Sequence[tuple[str, bytes, bytes]]) -> None:
        """(folded key, payload hash, row hash): the row gives the payload stored.

        For rows found unchanged by their payload, so that the next run finds them by
        their raw hash, without decoding. Only where the stored payload is still that one.
        """
        if not rows:
            return
        with self._transaction():
            self._db.executemany(
                "UPDATE products SET row_hash = ? WHERE target = ? AND key = ? AND hash = ?",
                [(row_digest, self._target, key, digest) for key, digest, row_digest in rows],
            )

    def mark_pending(self, keys: Iterable[str]) -> None:
        """Before a batch goes out: its keys (as sent) are pending, durably."""
        folded = {state_key(key) for key in keys}
        self._outstanding.update(folded)
        now = int(self._clock())
        with self._transaction():
            self._db.executemany(
                _UPSERT, [(self._target, key, None, None, None, PENDING, now) for key in folded]
            )

    def release(self, keys: Iterable[str]) -> None:
        """A batch handed out came back unanswered: its keys stay pending in the file."""
        self._outstanding.subtract({state_key(key) for key in keys})
        self._outstanding += Counter()  # drop the keys at zero

    def record(self, pushed: Sequence[Pushed]) -> None:
        """A batch's answers, in line order, in one transaction.

        An accepted line stores its hash and time. A key stays pending while a later
        batch of it is still out, whatever this answer was.
        """
        keys = [state_key(p.key) for p in pushed]
        self.release(keys)  # folding twice is harmless: casefold is idempotent
        now = int(self._clock())
        rows: list[tuple[int, str, bytes | None, bytes | None, int | None, int, int]] = []
        for key, p in zip(keys, pushed, strict=True):
            status = PENDING if self._outstanding[key] > 0 else p.status
            if p.status in ACCEPTED:
                rows.append((self._target, key, p.digest, p.row_digest, now, status, now))
            else:
                rows.append((self._target, key, None, None, None, status, now))
        with self._transaction():
            self._db.executemany(_UPSERT, rows)

    # --- push --missing: the keys a feed had --------------------------------------------

    def feed_run(self, feed: str) -> tuple[int, int]:
        """(this run's number for ``feed``, the keys its earlier runs had)."""
        last, count = self._db.execute(
            "SELECT coalesce(max(run), 0), count(*) FROM feed_keys WHERE target = ? AND feed = ?",
            (self._target, feed),
        ).fetchone()
        return int(last) + 1, int(count)

    def note_feed_keys(self, feed: str, run: int, keys: Iterable[str]) -> None:
        """These keys (as written) are in ``feed``'s run ``run``."""
        rows = [(self._target, feed, state_key(key), key, run) for key in keys]
        if not rows:
            return
        with self._transaction():
            self._db.executemany(
                "INSERT INTO feed_keys (target, feed, key, spelling, run) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT (target, feed, key) DO UPDATE SET"
                " spelling = excluded.spelling, run = excluded.run",
                rows,
            )

    def missing_keys(self, feed: str, run: int) -> list[str]:
        """The keys (as last written) that earlier runs of ``feed`` had and run ``run`` lacks."""
        return [
            spelling
            for (spelling,) in self._db.execute(
                "SELECT spelling FROM feed_keys WHERE target = ? AND feed = ? AND run < ? "
                "ORDER BY spelling",
                (self._target, feed, run),
            )
        ]

    def forget(self, feed: str, keys: Iterable[str]) -> None:
        """Keys disabled or deleted as missing: out of the feed's keys, and out of the
        state (so that a row bringing one back is sent, even with ``--only-changed``)."""
        folded = [(self._target, state_key(key)) for key in keys]
        if not folded:
            return
        with self._transaction():
            self._db.executemany(
                "DELETE FROM feed_keys WHERE target = ? AND feed = ? AND key = ?",
                [(target, feed, key) for target, key in folded],
            )
            self._db.executemany("DELETE FROM products WHERE target = ? AND key = ?", folded)

    def close(self) -> None:
        self._db.close()

    def _transaction(self) -> AbstractContextManager[None]:
        return write_transaction(self._db, f"cannot update the state file {self.path}")


@contextmanager
def write_transaction(db: sqlite3.Connection, what: str) -> Iterator[None]:
    """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK; a failed write aborts the run (RunAborted).

    Going on without recording would leave the state (or the journal) behind the PIM,
    and a later run could then skip rows the PIM does not hold.
    """
    try:
        db.execute("BEGIN IMMEDIATE")
    except sqlite3.Error as exc:
        raise RunAborted(f"{what}: {exc}") from exc
    try:
        yield
    except BaseException:
        db.execute("ROLLBACK")
        raise
    try:
        db.execute("COMMIT")
    except sqlite3.Error as exc:
        raise RunAborted(f"{what}: {exc}") from exc
