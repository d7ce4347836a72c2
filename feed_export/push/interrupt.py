"""Stopping a push cleanly: the two-step interrupt, and the guard around the PATCH calls."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from feed_export.akeneo.responses import LineResult
from feed_export.report.model import INTERRUPTED_NOT_SENT, INTERRUPTED_UNKNOWN

if TYPE_CHECKING:
    from feed_export.config import Entity
    from feed_export.push.sender import PatchClient

log = logging.getLogger(__name__)


class Interrupt:
    """Stops a push from a signal handler or another thread, in two steps. Single use.

    ``request()``: nothing more is sent, and the requests in flight get ``drain_timeout``
    seconds to be answered; ``abandon()`` (or the end of that time): their answers are
    not awaited any longer. Both are safe to call from a signal handler.
    """

    def __init__(self, drain_timeout: float = 30.0) -> None:
        self.drain_timeout = drain_timeout
        self._requested = threading.Event()
        self._abandoned = False
        self._lock = threading.RLock()  # RLock: a second signal may land inside abandon()
        self._calls: set[threading.Event] = set()
        self._wake = threading.Event()  # request() or end()
        self._ended = threading.Event()

    @property
    def requested(self) -> bool:
        return self._requested.is_set()

    @property
    def abandoned(self) -> bool:
        return self._abandoned

    def request(self) -> None:
        self._requested.set()
        self._wake.set()

    def abandon(self) -> None:
        self._abandoned = True
        self.request()
        with self._lock:
            calls = list(self._calls)
        for call in calls:
            call.set()

    def watch(self) -> None:
        """Start the drain clock in the background: it runs from ``request()``."""

        def run() -> None:
            self._wake.wait()
            if not self._ended.is_set() and not self._ended.wait(self.drain_timeout):
                log.warning("no answer after %g s: not waiting any longer", self.drain_timeout)
                self.abandon()

        threading.Thread(target=run, name="feed_export-drain", daemon=True).start()

    def end(self) -> None:
        """The push is over: stop the drain clock."""
        self._ended.set()
        self._wake.set()

    def enter(self, call: threading.Event) -> bool:
        """A request starts (``call`` is set when it ends); False once abandoned."""
        with self._lock:
            if self._abandoned:
                return False
            self._calls.add(call)
            return True

    def leave(self, call: threading.Event) -> None:
        with self._lock:
            self._calls.discard(call)


class InterruptGuard:
    """The client as the sender sees it when the push can be interrupted.

    After ``request()`` a batch is not sent: it comes back as ``not_sent``. A request runs
    in a daemon thread that the sender's worker waits for, until ``abandon()``: then the
    worker returns ``abandoned`` at once. So an unanswered request holds up neither the
    end of the run nor the interpreter's exit (the sender's pool threads are joined at
    exit; a daemon thread is not).
    """

    def __init__(self, client: PatchClient, interrupt: Interrupt) -> None:
        self._client = client
        self._interrupt = interrupt
        self.not_sent = LineResult(0, INTERRUPTED_NOT_SENT)
        self.abandoned = LineResult(0, INTERRUPTED_UNKNOWN)

    def stopped(self, result: LineResult) -> bool:
        """True for the results this guard made up (by identity: no answer is them)."""
        return result is self.not_sent or result is self.abandoned

    def patch_collection(
        self, entity: Entity, lines: Sequence[bytes], *, create_missing_options: bool = False
    ) -> list[LineResult]:
        if self._interrupt.requested:
            return [self.not_sent] * len(lines)
        done = threading.Event()
        box: list[Any] = []
        if not self._interrupt.enter(done):
            return [self.not_sent] * len(lines)

        def call() -> None:
            try:
                box.append(
                    self._client.patch_collection(
                        entity, lines, create_missing_options=create_missing_options
                    )
                )
            except BaseException as exc:  # handed to the sender's worker, which handles it
                box.append(exc)
            finally:
                done.set()

        threading.Thread(target=call, name="feed_export-request", daemon=True).start()
        done.wait()
        self._interrupt.leave(done)
        if not box:
            return [self.abandoned] * len(lines)
        if isinstance(box[0], BaseException):
            raise box[0]
        results: list[LineResult] = box[0]
        return results
