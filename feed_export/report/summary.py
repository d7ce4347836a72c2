"""Run report: counts per status, the most frequent messages, timing; as text and JSON."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: exit codes of the contract (feed-format.md section 7)
EXIT_OK = 0
EXIT_SOME_FAILED = 1
EXIT_NOT_SENT = 2
EXIT_ABORTED = 3

SKIPPED_MESSAGE = "Skipped: empty row"
DRY_RUN_MESSAGE = "Valid (dry run)"

#: --only-changed: a row the PIM already holds, left out; it counts as accepted
UNCHANGED_STATUS = 304
#: an interrupted push: rows never sent, and rows sent but not answered
INTERRUPTED_NOT_SENT = "Not sent: run interrupted"
INTERRUPTED_UNKNOWN = "Unknown: run interrupted before the PIM answered"

#: statuses that mean the PIM holds the row (or, dry run, would take it)
_ACCEPTED = ("201", "204", "304", "valid")
_SUCCESS = frozenset({200, 201, 204, UNCHANGED_STATUS})


def unchanged_message(since: str) -> str:
    """The feedback message of a row left out as unchanged.

    >>> unchanged_message("2026-11-28T07:10:00Z")
    'Unchanged since 2026-11-28T07:10:00Z (not sent)'
    """
    return f"Unchanged since {since} (not sent)"


# Quoted values differ from row to row; grouping messages by their shape shows "the same
# problem" once with a count, which is what a feed manager needs to see.
_QUOTED = re.compile(r"\"[^\"]*\"|“[^”]*”")


def message_group(message: str) -> str:
    """The shape of a message, with its quoted values and numbers blanked out.

    >>> message_group('Not sent: price@currency: unknown currency "XYZ" in "12 XYZ"')
    'Not sent: price@currency: unknown currency "…" in "…"'
    """
    return _QUOTED.sub('"…"', message)


@dataclass
class RunReport:
    """What happened in one run: the numbers a person and a script look at."""

    feed: Path
    feedback: Path | None = None
    payload_out: Path | None = None
    dry_run: bool = False
    rows: int = 0  # data rows, blank ones included
    statuses: Counter[str] = field(default_factory=Counter)
    messages: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    requests: int = 0
    retries: int = 0
    lines_sent: int = 0
    header_problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    aborted: str | None = None
    resumed: int = 0  # rows whose outcome comes from the interrupted run's journal
    resumed_from: str | None = None  # when the resumed run started
    resumable: bool = False  # aborted, and its journal kept: --resume continues it

    def record(self, status: int | None, message: str, problems: Sequence[str] = ()) -> None:
        """Count one feedback row; a line error's problems are grouped one by one."""
        self.rows += 1
        if status is None:
            key = "skipped" if message == SKIPPED_MESSAGE else "valid"
        else:
            key = str(status)
        self.statuses[key] += 1
        if problems:
            for problem in problems:
                self.messages["Not sent: " + message_group(problem)] += 1
        elif status is not None and status not in _SUCCESS and message:
            self.messages[message_group(message)] += 1

    @property
    def failed(self) -> int:
        return sum(n for k, n in self.statuses.items() if k not in _ACCEPTED and k != "skipped")

    @property
    def accepted(self) -> int:
        return sum(self.statuses.get(k, 0) for k in _ACCEPTED)

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else 0.0

    @property
    def exit_code(self) -> int:
        if self.aborted:
            return EXIT_ABORTED
        if self.header_problems:
            return EXIT_NOT_SENT
        return EXIT_SOME_FAILED if self.failed else EXIT_OK

    def to_json(self) -> dict[str, Any]:
        return {
            "feed": str(self.feed),
            "feedback": str(self.feedback) if self.feedback else None,
            "payload_out": str(self.payload_out) if self.payload_out else None,
            "dry_run": self.dry_run,
            "rows": self.rows,
            "accepted": self.accepted,
            "failed": self.failed,
            "statuses": dict(sorted(self.statuses.items())),
            "top_messages": [{"message": m, "count": n} for m, n in self.messages.most_common(10)],
            "seconds": round(self.seconds, 3),
            "rows_per_second": round(self.rows_per_second, 1),
            "requests": self.requests,
            "retries": self.retries,
            "lines_sent": self.lines_sent,
            "header_problems": self.header_problems,
            "warnings": self.warnings,
            "aborted": self.aborted,
            "resumed": self.resumed,
            "resumed_from": self.resumed_from,
            "resumable": self.resumable,
            "exit_code": self.exit_code,
        }

    def to_text(self, top: int = 5) -> str:
        """The human summary printed at the end of a run."""
        out: list[str] = []
        mode = "dry run" if self.dry_run else "push"
        out.append(f"{mode} of {self.feed}: {self.rows} data row(s) in {self.seconds:.2f} s")
        if self.header_problems:
            out.append(
                f"feed rejected, nothing sent ({len(self.header_problems)} header problem(s))"
            )
        parts = [f"{_label(k)}: {n}" for k, n in sorted(self.statuses.items(), key=_status_order)]
        if parts:
            out.append("  " + ", ".join(parts))
        if self.messages:
            out.append("  most frequent problems:")
            for message, count in self.messages.most_common(top):
                out.append(f"    {count:>7} x {message[:200]}")
        rate = f"{self.rows_per_second:,.0f} rows/s"
        if not self.dry_run and self.requests:
            products = self.statuses.get("201", 0) + self.statuses.get("204", 0)
            pps = products / self.seconds if self.seconds > 0 else 0.0
            rate += (
                f", {pps:,.0f} products/s, {self.requests} request(s), {self.retries} retr(y/ies)"
            )
        out.append(f"  {rate}")
        if self.resumed_from is not None:
            out.append(
                f"  resumed the push started {self.resumed_from}: "
                f"{self.resumed} row(s) answered then, {self.lines_sent} line(s) sent now"
            )
        if self.aborted:
            out.append(f"  run aborted: {self.aborted}")
            if self.resumable:
                out.append("  the same command with --resume sends the rows not answered")
        if self.feedback:
            out.append(f"  feedback: {self.feedback}")
        if self.payload_out:
            out.append(f"  payload: {self.payload_out}")
        return "\n".join(out)


_LABELS = {
    "201": "201 created",
    "204": "204 updated",
    "304": "304 unchanged",
    "valid": "valid",
    "skipped": "skipped (empty)",
    "0": "0 network error / not sent",
}


def _label(key: str) -> str:
    return _LABELS.get(key, key)


def _status_order(item: tuple[str, int]) -> tuple[int, str]:
    key = item[0]
    return (0, key) if key.isdigit() else (1, key)
