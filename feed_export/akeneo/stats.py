"""Counters of what the client did: requests, retries, logins, splits (thread-safe)."""

from __future__ import annotations

import threading


class ClientStats:
    """Thread-safe counters of what the client did (read them after a run)."""

    __slots__ = (
        "_lock",
        "auth_logins",
        "auth_refreshes",
        "batch_splits",
        "lines_resent",
        "requests_sent",
        "retries",
    )

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests_sent = 0  # every HTTP request, token requests included
        self.retries = 0  # waits before a retry (backoff or Retry-After)
        self.lines_resent = 0  # lines sent again after a response was cut off
        self.auth_logins = 0  # password grants
        self.auth_refreshes = 0  # refresh-token grants
        self.batch_splits = 0  # requests split in halves because they were too big

    def add(self, name: str, amount: int = 1) -> None:
        with self._lock:
            setattr(self, name, getattr(self, name) + amount)

    def as_dict(self) -> dict[str, int]:
        with self._lock:
            return {name: getattr(self, name) for name in self.__slots__ if name != "_lock"}

    def __repr__(self) -> str:
        return f"ClientStats({self.as_dict()})"
