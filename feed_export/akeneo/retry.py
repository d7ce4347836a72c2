"""One retry policy for every call to the PIM and every file download.

A ``RetryPolicy`` says how hard to try (names as in ``config.RetrySettings``, which
builds it, and as in dlt's retry helper):

    max_attempts      tries in all, the first included (>= 1)
    backoff_factor    the first wait in seconds; it doubles with each attempt, times a
                      random jitter between 0.5 and 1.5
    max_retry_delay   the cap on any single wait, a server's Retry-After included
    connect_timeout   seconds to open a connection (every request to the PIM)
    request_timeout   seconds to wait for each read of an answer
    request_deadline  seconds for a whole request: connect, send, headers and body
                      (``transport.request_deadline`` enforces it while reading)

``run`` calls a function until it stops raising ``RetriableError`` or the attempts run
out (then ``RetriesExhausted``); each retry is logged once, at WARNING. ``clock``,
``sleep`` and ``random`` are injected so tests never wait.

What is worth a retry is the caller's to say (it raises ``RetriableError``): the response
classifier (``responses.classify``) answers that for every status. Sending again is safe
where it is used: the collection PATCH is an upsert (a line sent twice leaves the product
as sent once; only the lines without an answer go again), GETs and the token request
change nothing, and a media upload repeated after a lost answer at worst stores the file
twice.
"""

from __future__ import annotations

import logging
import random as _random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from feed_export.config import RetrySettings
from feed_export.errors import RetriableError, RetriesExhausted

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How many attempts, how long to wait between them, how long to wait for an answer."""

    max_attempts: int = 6
    backoff_factor: float = 1.0
    max_retry_delay: float = 60.0
    connect_timeout: float = 10.0
    request_timeout: float = 60.0
    request_deadline: float = 300.0
    clock: Callable[[], float] = field(default=time.monotonic, repr=False, compare=False)
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False, compare=False)
    random: Callable[[], float] = field(default=_random.random, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, got {self.max_attempts}")

    @classmethod
    def from_settings(
        cls,
        settings: RetrySettings,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        random: Callable[[], float] = _random.random,
    ) -> RetryPolicy:
        """The policy the user asked for (``--max-attempts``, ``--backoff-factor``...)."""
        return cls(
            max_attempts=settings.max_attempts,
            backoff_factor=settings.backoff_factor,
            max_retry_delay=settings.max_retry_delay,
            connect_timeout=settings.connect_timeout,
            request_timeout=settings.request_timeout,
            request_deadline=settings.request_deadline,
            clock=clock,
            sleep=sleep,
            random=random,
        )

    @property
    def timeout(self) -> tuple[float, float]:
        """``(connect, read)`` for ``requests``: every request gets both."""
        return (self.connect_timeout, self.request_timeout)

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1 for the first).

        A server's Retry-After is honoured, up to ``max_retry_delay``; otherwise
        exponential backoff with jitter, capped the same way.
        """
        if retry_after is not None:
            return min(self.max_retry_delay, retry_after)
        # jitter (0.5x to 1.5x) keeps parallel batches from retrying in step
        wait = self.backoff_factor * 2.0 ** (attempt - 1) * (0.5 + self.random())
        return min(self.max_retry_delay, wait)

    def run(
        self,
        what: str,
        call: Callable[[], T],
        *,
        on_retry: Callable[[], None] | None = None,
    ) -> T:
        """``call()`` until it returns; a ``RetriableError`` costs one attempt and a wait.

        ``what`` names the call in the log and in the final error (``GET /path``). Any
        other exception goes straight through. When the last attempt fails too, raises
        ``RetriesExhausted`` (a ``RetriableError``) with the last failure in it.
        ``on_retry`` is told of each retry (before its wait), e.g. to count them.
        """
        started = self.clock()
        attempt = 0
        while True:
            attempt += 1
            try:
                return call()
            except RetriableError as exc:
                if attempt >= self.max_attempts:
                    raise RetriesExhausted(what, exc, attempt, self.clock() - started) from exc
                wait = self.delay(attempt, exc.retry_after)
                log.warning(
                    "%s: %s; retrying in %.1f s (attempt %d of %d)",
                    what,
                    exc,
                    wait,
                    attempt + 1,
                    self.max_attempts,
                )
                if on_retry is not None:
                    on_retry()
                self.sleep(wait)
