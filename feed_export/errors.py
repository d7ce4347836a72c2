"""The exception tree of feed_export, split by what the caller does next.

    FeedExportError                 root: anything feed_export raises on purpose
    ├── ConfigError                 stop before reading: bad flag, setting or catalog file (exit 2)
    │   └── JournalBusy             another run of the same feed holds its journal
    ├── FeedError                   reject the whole feed before anything is sent (exit 2)
    │   ├── FeedReadError           the file cannot be read: missing, undecodable, not a table
    │   └── HeaderError             the header row breaks the grammar or the catalog
    │       └── HeaderSyntaxError   one header breaks the grammar (``parse_header``)
    ├── StartupError                nothing sent or written: the PIM cannot be reached, refuses
    │                               the login, or its catalog cannot be read (exit 2)
    ├── CellError                   skip one row: a cell breaks a rule (row becomes a line error)
    ├── TransportError              talking to the PIM went wrong
    │   ├── RetriableError          retry: 408, 429, 5xx, connection errors, timeouts
    │   │   └── RetriesExhausted    the retry policy's last attempt failed too: give up
    │   ├── BatchRejected           a whole request was refused for good (other 4xx)
    │   └── AuthenticationError     abort the run: credentials rejected (exit 3)
    └── RunAborted                  the run was stopped (interrupt, lost authentication) (exit 3)

Every exception that leaves a module of feed_export is one of these (a test checks that
the tree above names them all). Modules keep private exceptions for their own control
flow (a token grant refused, a request too large to send in one piece, a NUL byte found
while reading, a file that cannot be fetched); they are caught where they are raised and
never reach a caller.

Messages say what, where and what to do. Lower-level exceptions are translated once,
with ``raise ... from exc``. Secrets never enter a message; quoted bodies are capped.
"""

from __future__ import annotations

from collections.abc import Sequence

#: how much of a server's body a message may quote
MAX_QUOTED_BODY = 300


def quote_body(text: str, limit: int = MAX_QUOTED_BODY) -> str:
    """Cap a response body (or any long text) for use inside a message."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class FeedExportError(Exception):
    """Root of every error feed_export raises on purpose."""

    exit_code = 2


class ConfigError(FeedExportError):
    """A setting, flag or catalog file is wrong: stop before reading the feed."""

    exit_code = 2


class JournalBusy(ConfigError):
    """Another run of the same feed holds the journal (``push.journal``)."""


class FeedError(FeedExportError):
    """The feed as a whole cannot be used: nothing is sent."""

    exit_code = 2


class FeedReadError(FeedError):
    """The feed file cannot be read (missing, undecodable, not a table)."""


class HeaderError(FeedError):
    """The header row has problems; ``problems`` lists every one of them."""

    def __init__(self, path: str, problems: Sequence[str]) -> None:
        self.path = path
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        count = len(self.problems)
        summary = f"the header row has {count} problem(s); nothing was sent"
        super().__init__(f"{path}: {summary}:\n{lines}")


class HeaderSyntaxError(HeaderError):
    """One header breaks the grammar (``feed.headers.parse_header``); ``problem`` says how."""

    def __init__(self, header: str, problem: str) -> None:
        self.path = ""
        self.header = header
        self.problem = problem
        self.problems = [problem]
        FeedError.__init__(self, f"header {header!r}: {problem}")


class StartupError(FeedExportError):
    """The run could not start: nothing was sent and no output was written (or replaced).

    The PIM cannot be reached, refuses the login, or its catalog cannot be read; the
    message is one sentence naming the PIM's host and what to check.
    """

    exit_code = 2


class CellError(FeedExportError):
    """One cell breaks a rule; the row becomes a line error and is not sent."""


class TransportError(FeedExportError):
    """Talking to the PIM went wrong."""

    exit_code = 1


class RetriableError(TransportError):
    """A failure worth retrying: 408, 429, 5xx, dropped connection, timeout.

    ``status`` is the HTTP status, or 0 for a network error; ``retry_after`` the
    server's requested wait in seconds, when it gave one.
    """

    def __init__(self, message: str, status: int = 0, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


class RetriesExhausted(RetriableError):
    """Every attempt the retry policy allows failed; ``last`` is the last failure.

    The message is ``<what>: <last failure> after <n> attempts over <s> s``; ``summary``
    is the same without ``<what>``.
    """

    def __init__(self, what: str, last: RetriableError, attempts: int, seconds: float) -> None:
        tries = f"{attempts} attempt" + ("" if attempts == 1 else "s")
        self.summary = f"{last} after {tries} over {seconds:.0f} s"
        super().__init__(f"{what}: {self.summary}", last.status)
        self.last = last
        self.attempts = attempts
        self.seconds = seconds


class BatchRejected(TransportError):
    """The PIM refused a whole request for good (a 4xx other than 401/408/413/429)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class AuthenticationError(TransportError):
    """The PIM rejected the credentials: the run cannot go on."""

    exit_code = 3


class RunAborted(FeedExportError):
    """The run was stopped before every row was answered."""

    exit_code = 3
