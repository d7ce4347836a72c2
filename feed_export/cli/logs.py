"""Logging for the command: its set-up, and the redaction of secrets from every log line.

The filter learns the secrets as they become known: the environment's at set-up, the flags'
and ``./.env``'s when the settings are read (``settings.pim_settings``), a sandbox's when it
starts.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Sequence


class Redact(logging.Filter):
    """Last line of defence: replace known secret values in any log record."""

    def __init__(self, secrets: Sequence[str]) -> None:
        super().__init__()
        self.secrets: list[str] = []
        self.learn(secrets)

    def learn(self, secrets: Sequence[str]) -> None:
        """Redact these too: ``auth.redact_text``'s rule (short values only as whole words);
        values under 3 characters are left alone (they would blank out ordinary words)."""
        known = set(self.secrets) | {s for s in secrets if s and len(s) >= 3}
        self.secrets = sorted(known, key=len, reverse=True)  # a whole form before its parts

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secrets:
            text = self._redact(record.getMessage())
            record.msg, record.args = text, None
            if record.exc_info and not record.exc_text:
                # the formatter reuses exc_text: render the traceback now, to redact it
                record.exc_text = logging.Formatter().formatException(record.exc_info)
            if record.exc_text:
                record.exc_text = self._redact(record.exc_text)
            if record.stack_info:
                record.stack_info = self._redact(record.stack_info)
        return True

    def _redact(self, text: str) -> str:
        from feed_export.akeneo.auth import redact_text

        return redact_text(text, self.secrets)


#: libraries whose own lines (connection pools, request logs with colours) only --debug shows
_CHATTY = ("urllib3", "werkzeug")


def quiet_libraries(debug: bool) -> None:
    """The HTTP libraries' own lines: only with ``--debug``."""
    for name in _CHATTY:
        logging.getLogger(name).setLevel(logging.NOTSET if debug else logging.WARNING)


class _TerminalFormatter(logging.Formatter):
    """Log lines whose message cannot drive the terminal (PIM text quoted in a warning)."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        from feed_export.report.text import printable

        return printable(super().formatMessage(record))


def setup_logging(verbosity: int) -> None:
    """One handler on stderr, redacting the secrets known so far; ``-v`` steps the level."""
    level = logging.WARNING - 10 * verbosity
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_TerminalFormatter("%(levelname)s %(name)s: %(message)s"))
    # what the environment holds now; pim_settings adds the flags and ./.env once read
    secrets = [os.environ.get("AKENEO_CLIENT_SECRET", ""), os.environ.get("AKENEO_PASSWORD", "")]
    handler.addFilter(Redact(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(max(level, logging.DEBUG))


def learn_secrets(secrets: Sequence[str]) -> None:
    """Teach the redaction filters of our log handlers more secret values."""
    for handler in logging.getLogger().handlers:
        for log_filter in handler.filters:
            if isinstance(log_filter, Redact):
                log_filter.learn(secrets)
