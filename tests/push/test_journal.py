"""Tests for feed_export.push.journal: identity, durable outcomes, snapshot reads, locking."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from feed_export.errors import ConfigError
from feed_export.push.journal import (
    FeedIdentity,
    Journal,
    JournalBusy,
    Recorded,
    RunIdentity,
    differences,
    journal_path,
)

ROOT = Path(__file__).resolve().parents[2]


def identity(size: int = 10, sha: str = "a", target: str = "u", **options: object) -> RunIdentity:
    opts: dict[str, object] = {"entity": "products", "empty_cells": "skip"}
    opts.update(options)
    return RunIdentity(FeedIdentity("/f.csv", size, 1, sha), target, opts)


def test_journal_path(tmp_path: Path) -> None:
    feed = tmp_path / "shop.csv"
    assert journal_path(feed) == tmp_path / ".feed_export" / "shop.csv.journal.sqlite"
    other = journal_path(feed, tmp_path / "elsewhere" / "state.sqlite")
    assert other.parent == tmp_path / "elsewhere"
    assert other.name.startswith("shop.csv.") and other.name.endswith(".journal.sqlite")
    # two feeds of one name in two folders do not share a journal
    assert other != journal_path(tmp_path / "b" / "shop.csv", tmp_path / "elsewhere" / "s")


def test_feed_identity_hashes_the_content(tmp_path: Path) -> None:
    feed = tmp_path / "f.csv"
    feed.write_bytes(b"sku\nA\n" * 50_000)
    got = FeedIdentity.of(feed)
    assert got.size == feed.stat().st_size
    assert got.sha256 == hashlib.sha256(feed.read_bytes()).hexdigest()
    assert got.path == str(feed.resolve())


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (identity(), []),
        (identity(size=11), ["the feed changed since the interrupted run (10 bytes then, 11 now)"]),
        (
            identity(sha="b"),
            ["the feed changed since the interrupted run (same size, other content)"],
        ),
        (identity(target="v"), ["the interrupted run pushed to u, this one to v"]),
        (
            identity(empty_cells="erase"),
            ["--empty-cells was 'skip' in the interrupted run, 'erase' now"],
        ),
        (
            identity(date_format="%d"),
            ["--date-format was not set in the interrupted run, '%d' now"],
        ),
    ],
    ids=["same", "size", "content", "pim", "option", "new-option"],
)
def test_differences(now: RunIdentity, expected: list[str]) -> None:
    assert differences(identity(), now) == expected


def test_a_touched_copy_with_the_same_bytes_resumes() -> None:
    before = identity()
    now = RunIdentity(FeedIdentity("/elsewhere/f.csv", 10, 999, "a"), "u", before.options)
    assert differences(before, now) == []


def test_identity_round_trip() -> None:
    one = identity(create_missing_options=True, delimiter=None)
    assert RunIdentity.from_json(one.to_json()) == one


def test_start_record_and_read_back(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    journal = Journal.open(path)
    assert journal.previous() is None
    journal.start(identity(), clock=lambda: 1000.0)
    journal.record([Recorded(5, 201, ""), Recorded(3, 422, "bad"), Recorded(4, 304, "", 77)])
    journal.record([])
    journal.close()

    again = Journal.open(path)
    previous = again.previous()
    assert previous is not None
    assert previous.identity == identity()
    assert previous.started_at == 1000.0 and previous.answered == 3
    assert list(again.recorded()) == [
        Recorded(3, 422, "bad"),
        Recorded(4, 304, "", 77),
        Recorded(5, 201, ""),
    ]
    again.start(identity(size=1))  # a new run forgets the old answers
    assert list(again.recorded()) == []
    again.close()


def test_recorded_is_a_snapshot(tmp_path: Path) -> None:
    journal = Journal.open(tmp_path / "j.sqlite")
    journal.start(identity())
    journal.record([Recorded(n, 201, "") for n in range(2, 2000)])
    seen = []
    for done in journal.recorded():
        seen.append(done.row)
        if done.row % 100 == 0:  # the resumed run journals while it reads
            journal.record([Recorded(done.row + 5000, 204, "")])
    assert seen == list(range(2, 2000))
    journal.close()


def test_second_run_of_the_same_feed_is_locked_out(tmp_path: Path) -> None:
    path = tmp_path / ".feed_export" / "f.csv.journal.sqlite"
    first = Journal.open(path)
    with pytest.raises(JournalBusy, match="another run of this feed is in progress"):
        Journal.open(path)
    first.close()
    Journal.open(path).close()  # free again


def test_finish_deletes_the_journal_and_its_empty_folder(tmp_path: Path) -> None:
    path = tmp_path / ".feed_export" / "f.csv.journal.sqlite"
    journal = Journal.open(path)
    journal.start(identity())
    journal.record([Recorded(2, 201, "")])
    journal.finish()
    assert not path.parent.exists()
    # a folder that holds something else (the state) stays
    (tmp_path / ".feed_export").mkdir()
    (tmp_path / ".feed_export" / "state.sqlite").write_bytes(b"")
    Journal.open(path).finish()
    assert sorted(os.listdir(tmp_path / ".feed_export")) == ["state.sqlite"]


def test_unusable_journal_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    path.write_bytes(b"garbage, not SQLite" * 200)
    with pytest.raises(ConfigError, match="cannot use the run journal"):
        Journal.open(path)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ConfigError, match="cannot write the run journal"):
        Journal.open(blocker / "j.sqlite")  # its folder is a file


def test_committed_answers_survive_sigkill(tmp_path: Path) -> None:
    """A process killed outright (no cleanup at all) keeps every committed answer."""
    path = tmp_path / "j.sqlite"
    script = textwrap.dedent(
        f"""
        import os, signal, sys
        sys.path.insert(0, {str(ROOT)!r})
        from pathlib import Path
        from feed_export.push.journal import FeedIdentity, Journal, Recorded, RunIdentity
        j = Journal.open(Path({str(path)!r}))
        j.start(RunIdentity(FeedIdentity("/f", 1, 1, "a"), "u", {{}}))
        for n in range(2, 302):
            j.record([Recorded(n, 201, "")])
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], check=False, timeout=60)
    assert proc.returncode == -9
    journal = Journal.open(path)  # the dead process's lock went with it
    assert [r.row for r in journal.recorded()] == list(range(2, 302))
    journal.close()
