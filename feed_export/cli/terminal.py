"""What the command shows on the terminal while it runs, and what Ctrl-C does.

Lines on stderr that feed or PIM text cannot turn into terminal commands (``err``), the
progress bar (``Progress``), and the signal handlers that stop a run in steps (``interrupts``).
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING, Any

from feed_export.cli.flags import PROG

if TYPE_CHECKING:
    from types import FrameType

    from feed_export.push.interrupt import Interrupt


def err(line: str) -> None:
    """One line on stderr; text from the feed or the PIM cannot drive the terminal."""
    from feed_export.report.text import printable

    print(printable(line), file=sys.stderr)


def _say(text: str) -> None:
    """Write a line to stderr from a signal handler (os.write: print is not reentrant)."""
    with suppress(OSError):
        os.write(2, (text + "\n").encode("utf-8", "replace"))


@contextmanager
def interrupts(interrupt: Interrupt) -> Iterator[None]:
    """Ctrl-C or SIGTERM: stop sending and drain; again: stop waiting; a third time: raise."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be set in the main thread
        return
    count = 0

    def handler(signum: int, frame: FrameType | None) -> None:
        nonlocal count
        count += 1
        if count == 1:
            interrupt.request()
            _say(
                f"{PROG}: interrupted: sending nothing more; waiting up to "
                f"{interrupt.drain_timeout:g} s for the requests in flight "
                "(interrupt again to stop waiting)"
            )
        elif count == 2:
            interrupt.abandon()
            _say(f"{PROG}: not waiting for the requests in flight")
        else:
            raise KeyboardInterrupt

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


class Progress:
    """A tqdm bar on stderr per phase of the run, only when stderr is a terminal.

    Phases with a total (sending, checking rows) show the percentage, the rows and the time
    left; the others show their name, the rows read so far (checking the feed) and the time.
    """

    def __init__(self, enabled: bool) -> None:
        self._enabled = enabled
        self._bar: Any = None

    def phase(self, name: str, total: int | None = None) -> None:
        if not self._enabled:
            return
        from tqdm import tqdm

        self.close()
        if total is not None:
            self._bar = tqdm(
                desc=name,
                total=total,
                unit=" rows",
                file=sys.stderr,
                leave=False,
                dynamic_ncols=True,
            )
        else:
            self._bar = tqdm(
                desc=name,
                unit="row",
                file=sys.stderr,
                leave=False,
                bar_format="{desc}: {n:,} rows, {elapsed}"
                if name.startswith("checking")
                else "{desc}... {elapsed}",
            )

    def rows(self, done: int) -> None:
        if self._bar is not None:
            self._bar.update(done - self._bar.n)
            if self._bar.total is not None and done >= self._bar.total:
                self._bar.refresh()  # the end is drawn, whatever tqdm's pacing skipped

    def __call__(self, done: int) -> None:
        pass  # rows answered: the bar counts every row's outcome instead (``rows``)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
