"""Planted files beside the feed: symlinks at every output, a ``.feed_export`` link, modes.

Whoever can write into the feed's folder (a shared drop folder, an extracted archive)
may plant links before a push; no write may go through them, and the files that hold
what was pushed are private to the user.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
import requests
from conftest import run_cli

import feed_export.sandbox
from feed_export.sandbox import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_PASSWORD, DEMO_USERNAME

FEED = "sku,name~en_US\nA1,Shirt\nA2,\n"


@pytest.fixture
def feed(tmp_path: Path) -> Path:
    folder = tmp_path / "drop"
    folder.mkdir()
    path = folder / "feed.csv"
    path.write_text(FEED, encoding="utf-8")
    return path


@pytest.fixture
def victim(tmp_path: Path) -> Path:
    """A file of the user's that a planted link points at."""
    path = tmp_path / "precious.txt"
    path.write_text("keep me\n", encoding="utf-8")
    return path


OUTPUTS = [
    # id, the flag (None: the default feedback path), the file's name
    ("feedback-default", None, "feed.feedback.csv"),
    ("feedback", "--feedback", "out.csv"),
    ("rejected", "--rejected", "rejected.csv"),
    ("payload", "--payload-out", "lines.ndjson"),
    ("summary", "--summary-json", "summary.json"),
    ("report", "--report", "report.html"),
]


@pytest.mark.parametrize(("flag", "name"), [o[1:] for o in OUTPUTS], ids=[o[0] for o in OUTPUTS])
def test_a_symlink_planted_at_an_output_is_refused(
    feed: Path, victim: Path, flag: str | None, name: str
) -> None:
    planted = feed.parent / name
    planted.symlink_to(victim)
    args = ["push", str(feed), "--sandbox"]
    if flag is not None:
        args += [flag, str(planted)]
    result = run_cli(args)
    assert result.code == 2, result.err
    assert f"{planted} is a symbolic link" in result.err
    assert victim.read_text(encoding="utf-8") == "keep me\n"


def test_a_dangling_symlink_at_an_output_creates_nothing(feed: Path, tmp_path: Path) -> None:
    target = tmp_path / "created-elsewhere.csv"
    (feed.parent / "feed.feedback.csv").symlink_to(target)
    result = run_cli(["push", str(feed), "--sandbox"])
    assert result.code == 2
    assert not target.exists()


def test_a_planted_state_folder_link_is_refused(feed: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (feed.parent / ".feed_export").symlink_to(elsewhere)
    result = run_cli(["push", str(feed), "--sandbox", "--full"])
    assert result.code == 2, result.err
    assert ".feed_export is a symbolic link" in result.err
    assert list(elsewhere.iterdir()) == []


@pytest.mark.parametrize(
    ("name", "code"),
    [("state.sqlite", 2), ("feed.csv.journal.sqlite", 0)],
    ids=["state-refuses-the-run", "journal-warns-and-runs-without"],
)
def test_a_dangling_link_at_the_state_or_journal_creates_nothing(
    feed: Path, tmp_path: Path, name: str, code: int
) -> None:
    folder = feed.parent / ".feed_export"
    folder.mkdir(mode=0o700)
    target = tmp_path / "created-elsewhere.sqlite"
    (folder / name).symlink_to(target)
    result = run_cli(["push", str(feed), "--sandbox", "--full"])
    assert result.code == code, result.err
    assert f"{folder / name} is a symbolic link" in result.err
    assert not target.exists()


def test_state_and_journal_are_private(feed: Path, tmp_path: Path) -> None:
    """The state folder is 0700 and its files 0600, whatever the umask."""
    old = os.umask(0o002)
    try:
        result = run_cli(["push", str(feed), "--sandbox", "--full", "--rejected", "-"])
    finally:
        os.umask(old)
    assert result.code == 0, result.err
    folder = feed.parent / ".feed_export"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    files = list(folder.iterdir())
    assert any(f.name == "state.sqlite" for f in files)
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name


def test_an_existing_state_folder_open_to_others_is_made_private(feed: Path) -> None:
    folder = feed.parent / ".feed_export"
    folder.mkdir()
    folder.chmod(0o777)
    result = run_cli(["push", str(feed), "--sandbox", "--full"])
    assert result.code == 0, result.err
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700


def test_the_sandbox_of_a_push_refuses_the_demo_credentials(
    feed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    answers: list[int] = []
    start = feed_export.sandbox.Sandbox.start

    def start_and_try(self: feed_export.sandbox.Sandbox) -> feed_export.sandbox.Sandbox:
        started = start(self)
        # another local process that knows the published demo credentials
        answer = requests.post(
            f"{self.url}/api/oauth/v1/token",
            json={"grant_type": "password", "username": DEMO_USERNAME, "password": DEMO_PASSWORD},
            auth=(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET),
            timeout=5,
        )
        answers.append(answer.status_code)
        return started

    monkeypatch.setattr(feed_export.sandbox.Sandbox, "start", start_and_try)
    result = run_cli(["push", str(feed), "--sandbox"])
    assert result.code == 0, result.err
    assert answers and all(status in (401, 422) for status in answers)


def test_the_feeds_own_formulas_are_echoed_unless_safe_feedback(feed: Path) -> None:
    """Echoed as read by default (the feedback pushes back the same values); escaped with
    --safe-feedback."""
    feed.write_text('sku,name~en_US\nA1,"=HYPERLINK(""http://evil.test"")"\n', encoding="utf-8")
    plain = feed.parent / "plain.csv"
    safe = feed.parent / "safe.csv"
    assert run_cli(["push", str(feed), "--sandbox", "--feedback", str(plain)]).code == 0
    assert (
        run_cli(["push", str(feed), "--sandbox", "--feedback", str(safe), "--safe-feedback"]).code
        == 0
    )
    assert '\nA1,"=HYPERLINK(""http://evil.test"")",201,' in plain.read_text(encoding="utf-8")
    assert '\nA1,"\'=HYPERLINK(""http://evil.test"")",201,' in safe.read_text(encoding="utf-8")
