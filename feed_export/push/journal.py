"""The run journal: every answer of a push as it arrives, durably, so a killed run can resume.

One SQLite file per feed, ``.feed_export/<feed name>.journal.sqlite`` beside the feed
(or beside ``--state FILE``, then with a hash of the feed's path in its name). It holds
the run's identity (the feed's size, mtime and SHA-256, the PIM, the options that shape
the payloads) and one outcome per answered row: the PIM's answer, or 304 for a row left
out as unchanged. Rows that are never sent (blank, line errors) are not journaled: a
resumed run decodes them again, from the same bytes, to the same outcome.

Durability: WAL with ``synchronous=FULL``, one commit per batch of answers, made before
the answers are counted. A SIGKILL loses nothing committed (NORMAL would do for that:
the WAL is in the OS's cache); FULL also survives a power loss. That matters for 304
rows: if their commit were lost while a later row of the same product reached the state
store, a resume would send the earlier row after the later one. A commit costs about
0.4 ms here; a push commits once per request, and a run of unchanged rows once per
500 rows.

A journal is locked (``flock``) by its run, so two pushes of one feed at once do not mix
their answers: the second runs without a journal. A run that ends (even with rejected
rows) deletes its journal; an aborted or killed one leaves it for ``--resume``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import sqlite3
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from feed_export.errors import ConfigError, JournalBusy
from feed_export.feed.output import open_private
from feed_export.push.state import STATE_DIR, state_folder, write_transaction

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no lock, one run per feed is up to you
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

JOURNAL_SUFFIX: Final = ".journal.sqlite"
FORMAT_VERSION: Final = "1"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS outcomes (
    row INTEGER PRIMARY KEY,      -- spreadsheet row number
    status INTEGER NOT NULL,
    message TEXT,                 -- NULL: empty
    since INTEGER                 -- 304: when the payload was accepted (unix seconds)
);
"""


def journal_path(feed_path: Path, state_path: Path | None = None) -> Path:
    """Where the journal of a feed lives.

    >>> journal_path(Path("/feeds/shop.csv"))
    PosixPath('/feeds/.feed_export/shop.csv.journal.sqlite')
    """
    if state_path is None:
        return feed_path.parent / STATE_DIR / (feed_path.name + JOURNAL_SUFFIX)
    # one folder may then serve feeds of the same name from several places
    where = hashlib.sha256(str(feed_path.resolve()).encode()).hexdigest()[:12]
    return state_path.parent / f"{feed_path.name}.{where}{JOURNAL_SUFFIX}"


@dataclass(frozen=True, slots=True)
class FeedIdentity:
    """A feed file's identity: a resume needs the very same bytes."""

    path: str
    size: int
    mtime_ns: int
    sha256: str

    @classmethod
    def of(cls, path: Path) -> FeedIdentity:
        """Stat and hash the file (streaming; about 0.6 s per 800 MB here)."""
        stat = path.stat()
        with path.open("rb") as fh:
            digest = hashlib.file_digest(fh, "sha256").hexdigest()
        return cls(str(path.resolve()), stat.st_size, stat.st_mtime_ns, digest)


@dataclass(frozen=True, slots=True)
class RunIdentity:
    """What a resumed run must share with the interrupted one."""

    feed: FeedIdentity
    target: str  # the PIM (its base URL)
    options: Mapping[str, Any] = field(default_factory=dict)  # those shaping the payloads

    def to_json(self) -> str:
        return json.dumps(
            {
                "feed": {
                    "path": self.feed.path,
                    "size": self.feed.size,
                    "mtime_ns": self.feed.mtime_ns,
                    "sha256": self.feed.sha256,
                },
                "target": self.target,
                "options": dict(self.options),
            },
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str) -> RunIdentity:
        data = json.loads(text)
        return cls(FeedIdentity(**data["feed"]), data["target"], data["options"])


def differences(before: RunIdentity, now: RunIdentity) -> list[str]:
    """Why ``now`` cannot resume ``before``, in words; empty when it can.

    The content decides, not the mtime: a copied or touched file with the same bytes
    resumes. The size is compared first, so a grown feed is refused without hashing.
    """
    out: list[str] = []
    if before.feed.size != now.feed.size:
        out.append(
            f"the feed changed since the interrupted run ({before.feed.size:,} bytes then, "
            f"{now.feed.size:,} now)"
        )
    elif before.feed.sha256 != now.feed.sha256:
        out.append("the feed changed since the interrupted run (same size, other content)")
    if before.target != now.target:
        out.append(f"the interrupted run pushed to {before.target}, this one to {now.target}")
    for name in sorted(set(before.options) | set(now.options)):
        was, is_ = before.options.get(name), now.options.get(name)
        if was != is_:
            flag = "--" + name.replace("_", "-")
            out.append(f"{flag} was {_show(was)} in the interrupted run, {_show(is_)} now")
    return out


def _show(value: Any) -> str:
    return "not set" if value is None else repr(value)


@dataclass(frozen=True, slots=True)
class Recorded:
    """One journaled outcome."""

    row: int
    status: int
    message: str
    since: int | None = None


@dataclass(frozen=True, slots=True)
class PreviousRun:
    """What a journal says about the run that wrote it."""

    identity: RunIdentity
    started_at: float
    answered: int  # rows with an outcome


class Journal:
    """One feed's journal, locked for this process. Use from one thread."""

    def __init__(self, path: Path, lock_fd: int, db: sqlite3.Connection) -> None:
        self.path = path
        self._lock_fd = lock_fd
        self._db = db
        self._readers: list[sqlite3.Connection] = []

    @classmethod
    def open(cls, path: Path) -> Journal:
        """Open (or create) and lock the journal.

        Raises JournalBusy when another process holds it, ConfigError when it cannot
        be created or read.
        """
        try:
            state_folder(path.parent)
            fd = _locked(path)
        except OSError as exc:
            raise ConfigError(f"cannot write the run journal {path}: {exc}") from exc
        try:
            db = sqlite3.connect(path, isolation_level=None, timeout=30.0)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            db.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            os.close(fd)
            raise ConfigError(
                f"cannot use the run journal {path}: {exc} (delete it to start afresh)"
            ) from exc
        return cls(path, fd, db)

    def previous(self) -> PreviousRun | None:
        """The run this journal holds, or None (new, or written by another version)."""
        meta = dict(self._db.execute("SELECT key, value FROM meta").fetchall())
        if meta.get("version") != FORMAT_VERSION or "identity" not in meta:
            return None
        (answered,) = self._db.execute("SELECT count(*) FROM outcomes").fetchone()
        return PreviousRun(
            RunIdentity.from_json(meta["identity"]), float(meta["started_at"]), answered
        )

    def start(self, identity: RunIdentity, clock: Callable[[], float] = time.time) -> None:
        """Begin a new run: forget the old outcomes, record who this run is."""
        with self._transaction():
            self._db.execute("DELETE FROM outcomes")
            self._db.execute("DELETE FROM meta")
            self._db.executemany(
                "INSERT INTO meta (key, value) VALUES (?, ?)",
                [
                    ("version", FORMAT_VERSION),
                    ("identity", identity.to_json()),
                    ("started_at", repr(clock())),
                ],
            )

    def record(self, outcomes: Sequence[Recorded]) -> None:
        """Journal answers in one transaction; they are durable when this returns."""
        if not outcomes:
            return
        with self._transaction():
            self._db.executemany(
                "INSERT OR REPLACE INTO outcomes (row, status, message, since) VALUES (?, ?, ?, ?)",
                [(o.row, o.status, o.message or None, o.since) for o in outcomes],
            )

    def recorded(self) -> Iterator[Recorded]:
        """The outcomes journaled so far, in row order.

        Read on a connection of its own: WAL gives it a snapshot, so what this run
        journals meanwhile does not show up in the iteration.
        """
        reader = sqlite3.connect(self.path, isolation_level=None, timeout=30.0)
        self._readers.append(reader)
        try:
            rows = reader.execute("SELECT row, status, message, since FROM outcomes ORDER BY row")
            for row, status, message, since in rows:
                yield Recorded(row, status, message or "", since)
        finally:
            reader.close()

    def close(self) -> None:
        """Close and unlock; the journal stays for ``--resume``."""
        self._close_db()
        self._unlock()

    def finish(self) -> None:
        """The run ended: delete the journal (and an empty ``.feed_export`` folder)."""
        self._close_db()
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(str(self.path) + suffix)
        self._unlock()  # after the unlink: no other run may take the file in between
        if self.path.parent.name == STATE_DIR:
            with contextlib.suppress(OSError):
                self.path.parent.rmdir()  # only when empty

    def _close_db(self) -> None:
        for reader in self._readers:
            reader.close()
        self._readers.clear()
        self._db.close()

    def _unlock(self) -> None:
        # closing this descriptor drops the process's fcntl locks on the file, SQLite's
        # too: so it is closed only after every SQLite connection to the file is
        if self._lock_fd >= 0:
            os.close(self._lock_fd)
            self._lock_fd = -1

    def _transaction(self) -> AbstractContextManager[None]:
        return write_transaction(self._db, f"cannot write the run journal {self.path}")


def _locked(path: Path) -> int:
    """An open descriptor of ``path`` holding an exclusive ``flock``; JournalBusy if taken.

    The file may be deleted by the run that held it between our open and our lock: then
    the lock is on an unlinked file, so check that the path still names what we locked.
    """
    while True:
        fd = open_private(path, "run journal")  # 0600, never through a symlink
        if fcntl is None:
            return fd
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise JournalBusy(
                f"another run of this feed is in progress (its journal {path} is locked)"
            ) from None
        try:
            same = os.stat(path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            return fd
        os.close(fd)
