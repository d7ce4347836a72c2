"""What a run tells while it goes: named phases, and rows done out of the feed's rows.

A run goes through phases (``logging in``, ``reading the catalog``, ``checking the feed``,
``sending`` or ``checking rows``, ``writing feedback``); while sending, the rows that have
their outcome are counted against the total the validation pass found, so a progress bar
can show a percentage and the time left. ``RunProgress`` is what a caller implements (the
CLI's tqdm bar); ``Phases`` is the run's side, which also accepts the plain callable of
earlier versions (told the rows the PIM answered, and nothing else).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, runtime_checkable

LOGGING_IN = "logging in to the PIM"
READING_CATALOG = "reading the catalog"
CHECKING_FEED = "checking the feed"
SENDING = "sending"
SENDING_FILES = "sending, uploading files"
CHECKING_ROWS = "checking rows"
WRITING = "writing feedback"
STOPPED = "run stopped: writing feedback"

#: rows between two reports of the validation pass
CHECK_TICK = 1000


@runtime_checkable
class RunProgress(Protocol):
    """A progress display: phases, and rows done in the current one."""

    def phase(self, name: str, total: int | None = None) -> None:
        """A new phase starts; ``total``: the rows it will go through, when known."""

    def rows(self, done: int) -> None:
        """Rows done so far in this phase (outcomes written; rows read while checking)."""

    def __call__(self, done: int) -> None:
        """Rows the PIM has answered so far (the callback of earlier versions)."""


ProgressCallback = Callable[[int], None]


class Phases:
    """The run's side of the progress: passes phases and rows on when the caller wants them."""

    def __init__(self, progress: RunProgress | ProgressCallback | None) -> None:
        self.answered: ProgressCallback | None = progress
        self._display = progress if isinstance(progress, RunProgress) else None

    @property
    def wanted(self) -> bool:
        """Whether anyone shows phases (the feed's rows are counted only then)."""
        return self._display is not None

    def phase(self, name: str, total: int | None = None) -> None:
        if self._display is not None:
            self._display.phase(name, total)

    def rows(self, done: int) -> None:
        if self._display is not None:
            self._display.rows(done)
