"""What a terminal shows while a run goes: a progress bar per phase, with an end.

The command runs in a pseudo-terminal (python's ``pty``), as a person would see it:
stderr is a terminal, so the bar is drawn. ``TQDM_MININTERVAL=0`` makes tqdm draw every
update, so a short run shows the same as a long one would.
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest
from conftest import DEMO_CATALOG, ROOT

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")


def _feed(path: Path, rows: int) -> Path:
    lines = ["sku,name~en_US,stock_quantity"] + [f"P{n},Product {n},{n}" for n in range(rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _in_a_terminal(*args: str) -> tuple[int, list[str]]:
    """Run feed-export with stderr on a terminal of 120 columns; the screen updates it drew."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), TQDM_MININTERVAL="0")
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    proc = subprocess.Popen(
        [sys.executable, "-m", "feed_export", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=slave,
        env=env,
    )
    os.close(slave)
    drawn = b""
    while True:
        ready, _, _ = select.select([master], [], [], 60)
        if not ready:
            break
        try:
            chunk = os.read(master, 65536)
        except OSError:  # the other side closed: the process ended
            break
        if not chunk:
            break
        drawn += chunk
    os.close(master)
    code = proc.wait(timeout=60)
    return code, [s for s in re.split(r"[\r\n]", drawn.decode("utf-8", "replace")) if s.strip()]


BAR = r"(?P<phase>[a-z ,]+): +(?P<pct>\d+)%\|.*\| +(?P<done>\d+)/(?P<total>\d+) \[\d\d:\d\d<(?P<left>\d\d:\d\d), "


def _bars(screens: list[str], phase: str) -> list[re.Match[str]]:
    return [m for s in screens if (m := re.search(BAR, s)) and m.group("phase") == phase]


def test_a_push_shows_its_phases_and_a_bar_with_a_total_and_time_left(tmp_path: Path) -> None:
    feed = _feed(tmp_path / "feed.csv", 600)
    code, screens = _in_a_terminal(
        "push", str(feed), "--sandbox", "--batch-size", "20", "--concurrency", "1"
    )
    assert code == 0, screens[-5:]
    names = [s.split(":")[0].split("...")[0] for s in screens]
    for phase in ("logging in to the PIM at 127.0.0.1", "reading the catalog", "checking the feed",
                  "sending", "writing feedback"):  # fmt: skip
        assert any(n.startswith(phase) for n in names), (phase, names[:20])
    bars = _bars(screens, "sending")
    assert bars, screens[:20]
    assert {m.group("total") for m in bars} == {"600"}
    assert max(int(m.group("pct")) for m in bars) == 100
    assert any(int(m.group("done")) < 600 and m.group("left") for m in bars)
    assert "?" not in bars[-1].group(0)  # by then the time left is known


def test_a_dry_run_counts_its_rows_first(tmp_path: Path) -> None:
    feed = _feed(tmp_path / "feed.csv", 2500)
    code, screens = _in_a_terminal("check", str(feed), "--catalog", str(DEMO_CATALOG))
    assert code == 0
    assert "checking the feed: 2,000 rows" in "\n".join(screens)
    bars = _bars(screens, "checking rows")
    assert bars and {m.group("total") for m in bars} == {"2500"}


def test_quiet_draws_nothing(tmp_path: Path) -> None:
    feed = _feed(tmp_path / "feed.csv", 300)
    code, screens = _in_a_terminal("check", str(feed), "--catalog", str(DEMO_CATALOG), "-q")
    assert (code, screens) == (0, [])


def test_no_bar_when_stderr_is_not_a_terminal(tmp_path: Path) -> None:
    feed = _feed(tmp_path / "feed.csv", 300)
    env = dict(os.environ, PYTHONPATH=str(ROOT), TQDM_MININTERVAL="0")
    done = subprocess.run(
        [sys.executable, "-m", "feed_export", "check", str(feed), "--catalog", str(DEMO_CATALOG)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 0
    assert done.stderr == ""  # a log file or a CI job gets no bar
    assert "Dry run of feed.csv" in done.stdout
