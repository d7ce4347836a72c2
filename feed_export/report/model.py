"""The run report: every row's outcome counted in words, its problems grouped, its timeline.

``RunReport.record`` sees each feedback row once, in feed order (``OrderedFeedback``), and
keeps what a person and a script look at afterwards: how many rows were created, updated,
rejected... (``OUTCOMES``), the problems grouped by their shape (``Problem``), the rows
that were not accepted (the first ones, for the HTML report's links), and how fast the
answers came (``Timeline``). Memory stays bounded whatever the feed's size.
``report.text`` and ``report.html`` render it; ``to_json`` is the same structure as data.

How problems are grouped: a message's row-specific parts (quoted values, numbers, paths
and URLs, the value Akeneo names in "The X value is not in ... option list") are taken
out, and messages that are then the same are one problem. A part that is the same in
every message of a problem is shown as it is (so the tool's own hints, such as
``write it like "12.50 EUR"``, stay readable); the parts that differ are shown by one
example, the first row's.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from feed_export.config import ExportOptions, Settings

#: exit codes of the contract (feed-format.md section 7)
EXIT_OK = 0
EXIT_SOME_FAILED = 1
EXIT_NOT_SENT = 2
EXIT_ABORTED = 3

SKIPPED_MESSAGE = "Skipped: empty row"
DRY_RUN_MESSAGE = "Valid (dry run)"
#: how an accepted row's message names a value the PIM drops (``catalog.checks``)
NOT_KEPT = " not kept: "

#: --only-changed: a row the PIM already holds, left out; it counts as accepted
UNCHANGED_STATUS = 304
#: an interrupted push: rows never sent, and rows sent but not answered
INTERRUPTED_NOT_SENT = "Not sent: run interrupted"
INTERRUPTED_UNKNOWN = "Unknown: run interrupted before the PIM answered"

#: ``feed-export delete`` (``push.delete``): a row's product deleted, already absent, or
#: (dry run) present and to be deleted
DELETED_MESSAGE = "Deleted"
ABSENT_MESSAGE = "Not in the PIM: nothing to delete"
WOULD_DELETE_MESSAGE = "Would be deleted (dry run)"

#: what can happen to a row, in the order a summary lists them, with its words
OUTCOMES: dict[str, str] = {
    "created": "created",
    "updated": "updated",
    "unchanged": "unchanged",
    "valid": "valid (dry run)",
    "partly_valid": "valid (dry run), but files would fail",
    "partly_saved": "saved, but files or associations failed",
    "rejected": "rejected by the PIM",
    "bad_cells": "not sent: bad cells",
    "parent_not_saved": "not sent: parent not saved",
    "feed_rejected": "not sent: feed rejected",
    "stopped": "not sent: run stopped",
    "skipped": "skipped empty rows",
    "network": "failed: network",
    "unknown": "failed: unknown",
    "deleted": "deleted",
    "would_delete": "would be deleted (dry run)",
    "absent": "not in the PIM (nothing to delete)",
}
#: the outcomes that mean the PIM holds the row (or, dry run, would take it); for a
#: deletion, that the PIM no longer holds it (or, dry run, that it will go)
ACCEPTED = frozenset(
    {"created", "updated", "unchanged", "valid", "deleted", "would_delete", "absent"}
)
_ACCEPTED_STATUSES = ("200", "201", "204", "304", "valid")

#: problems listed with their rows and an example (the rest are counted)
MAX_PROBLEMS = 1000
#: rows kept per problem, and rows kept that were not accepted (for the HTML report)
MAX_PROBLEM_ROWS = 50
MAX_NOTED_ROWS = 1000
#: the longest example value shown
MAX_VALUE = 60


def run_settings(
    options: ExportOptions,
    settings: Settings | None = None,
    *,
    mode: str = "all",
    resume: bool = False,
) -> dict[str, Any]:
    """The settings a report shows, in words: how the feed was read and sent. No secret.

    >>> from feed_export.config import ExportOptions
    >>> run_settings(ExportOptions(dry_run=True))["batch size"]
    100
    """
    shown: dict[str, Any] = {
        "dry run": options.dry_run,
        "entity": options.entity,
        "encoding": options.encoding or "UTF-8",
        "delimiter": repr(options.delimiter) if options.delimiter else "guessed",
        "sheet": options.sheet or "the first",
        "value separator": options.value_separator,
        "decimal separator": options.decimal_separator,
        "date format": options.date_format or "YYYY-MM-DD",
        "empty cells": options.empty_cells,
        "unknown columns": "ignored" if options.ignore_unknown_columns else "refused",
        "batch size": options.batch_size,
        "concurrency": options.concurrency,
        "create missing options": options.create_missing_options,
        "values the PIM would drop": "refused"
        if options.refuse_dropped_values
        else "sent, named in the feedback",
    }
    if not options.dry_run:
        shown["send mode"] = {"all": "every row", "only-changed": "only changed rows"}.get(
            mode, "every row, state recorded"
        )
        shown["resume"] = resume
    if settings is not None:
        retry = settings.retry
        shown["read timeout (s)"] = retry.request_timeout
        shown["attempts per request"] = retry.max_attempts
        shown["longest wait between attempts (s)"] = retry.max_retry_delay
        shown["TLS certificates verified"] = settings.verify_tls
    return shown


def unchanged_message(since: str) -> str:
    """The feedback message of a row left out as unchanged.

    >>> unchanged_message("2026-11-28T07:10:00Z")
    'Unchanged since 2026-11-28T07:10:00Z (not sent)'
    """
    return f"Unchanged since {since} (not sent)"


def outcome_kind(status: int | None, message: str) -> str:
    """Which of ``OUTCOMES`` a feedback row's status and message say.

    >>> outcome_kind(422, 'Not sent: weight@unit: unknown unit "pc"')
    'bad_cells'
    >>> outcome_kind(422, "Validation failed. values[brand]: The x value is not in ...")
    'rejected'
    """
    if status is None:
        if message == SKIPPED_MESSAGE:
            return "skipped"
        if message.startswith(("Would be deleted", ABSENT_MESSAGE)):
            return "would_delete" if message == WOULD_DELETE_MESSAGE else "absent"
        return "valid"
    if status == 201:
        return "created"
    if status in (200, 204):
        return "deleted" if message.startswith(DELETED_MESSAGE) else "updated"
    if status == UNCHANGED_STATUS:
        return "unchanged"
    if message.startswith("Unknown:"):
        return "unknown"
    if message.startswith("Not sent:"):
        if status == 400 and message.startswith("Not sent: feed rejected"):
            return "feed_rejected"
        if status == 0:
            return "stopped"
        if message.startswith(("Not sent: parent ", "Not sent: parent cycle")):
            return "parent_not_saved"
        return "bad_cells"
    if message.startswith("Saved ("):
        return "partly_saved"
    if message.startswith(DRY_RUN_MESSAGE):  # a dry run's "Saved (201), except: ..."
        return "partly_valid"
    if status == 0:
        return "network"
    if status == 404 and message.startswith(ABSENT_MESSAGE):
        return "absent"
    return "rejected"


# --- grouping messages by their shape ---------------------------------------------------

# the parts of a message that differ from row to row: quoted values, URLs and paths,
# numbers, and the value Akeneo names before "value is not in the ... option list",
# "category does not exist"... (its messages do not quote values)
_VARIABLE = re.compile(
    r"(?P<q>\"[^\"]*\"|“[^”]*”)"
    r"|(?P<url>\bhttps?://[^\s\"'()<>]+)"
    r"|(?<=not saved \()(?P<source>[^()]*)(?=\))"
    r"|(?<=The )(?P<pim>[^\s]+(?:, [^\s]+)*)(?= (?:values? (?:is|are) not in|category |"
    r"categories |family |identifier is already))"
    r"|(?P<path>[\w.~-]*[/\\][^\s\"'(),;]*)"
    r"|(?P<n>(?<![\w.])[-+]?\d[\d.,]*(?![\w]))"
)


def message_shape(message: str) -> tuple[str, tuple[str, ...]]:
    """(the message with its row-specific parts as slots, the parts), to group messages.

    >>> message_shape('price: no currency in "19.99"; write it like "12.50 EUR"')
    ('price: no currency in \\x00; write it like \\x00', ('"19.99"', '"12.50 EUR"'))
    """
    parts: list[str] = []

    def slot(found: re.Match[str]) -> str:
        parts.append(found.group(0))
        return "\x00"

    return _VARIABLE.sub(slot, message), tuple(parts)


def message_group(message: str) -> str:
    """The shape of a message, with every row-specific part blanked out.

    >>> message_group('Not sent: price@currency: unknown currency "XYZ" in "12 XYZ"')
    'Not sent: price@currency: unknown currency "…" in "…"'
    """
    shape, parts = message_shape(message)
    pieces = shape.split("\x00")
    out = [pieces[0]]
    for part, piece in zip(parts, pieces[1:], strict=True):
        out.append('"…"' if part.startswith(('"', "“")) else "…")
        out.append(piece)
    return "".join(out)


def cap_value(text: str, limit: int = MAX_VALUE) -> str:
    """A value cut to ``limit`` characters (``…`` at the cut); a short value is whole.

    >>> cap_value('"12 parsecs"'), cap_value("x" * 80, 10)
    ('"12 parsecs"', 'xxxxxxxxx…')
    """
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass
class Problem:
    """One problem: messages of one shape, its rows and the first row's values."""

    id: int  # in the order problems were met: links in the HTML report use it
    kind: str  # the outcome of its rows (``OUTCOMES``)
    column: str  # the column (or the PIM's attribute) it is about; "" when unknown
    pieces: tuple[str, ...]  # the message's constant text around its slots
    example: tuple[str, ...]  # the first row's value in each slot
    varies: list[bool]  # per slot: other rows had other values
    count: int = 0
    rows: list[int] = field(default_factory=list)  # the first MAX_PROBLEM_ROWS rows
    seen_rows: int = 0  # distinct rows (a row may show a problem twice)

    @property
    def message(self) -> str:
        """The message of the first row, each value capped (long ones end in ``…``)."""
        out = [self.pieces[0]]
        for value, piece in zip(self.example, self.pieces[1:], strict=True):
            out.append(cap_value(value))
            out.append(piece)
        return "".join(out)

    @property
    def example_values(self) -> list[str]:
        """The first row's values where rows differ (the row-specific parts)."""
        return [
            cap_value(v) for v, differs in zip(self.example, self.varies, strict=True) if differs
        ]

    @property
    def example_row(self) -> int | None:
        return self.rows[0] if self.rows else None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "outcome": OUTCOMES[self.kind],
            "column": self.column or None,
            "message": self.message,
            "count": self.count,
            "rows": self.rows,
            "row_count": self.seen_rows,
            "example_row": self.example_row,
            "example_values": self.example_values,
        }


@dataclass(frozen=True, slots=True)
class RowNote:
    """A row that was not accepted, as the HTML report lists it."""

    row: int
    kind: str
    status: int | None
    message: str
    problems: tuple[int, ...]  # the ids of its problems


class Timeline:
    """Answers and retries per time bucket since the run started (bounded: merges buckets)."""

    MAX_BUCKETS = 240

    def __init__(self) -> None:
        self.width = 0.25  # seconds per bucket; doubles when there are too many buckets
        self.rows: list[int] = []  # rows that got their outcome in each bucket
        self.retries: list[int] = []  # retries counted by the end of each bucket

    def add(self, elapsed: float, rows: int, retries: int) -> None:
        index = int(max(0.0, elapsed) / self.width)
        if index == len(self.rows) - 1:  # most rows land in the newest bucket
            self.rows[index] += rows
            if retries > self.retries[index]:
                self.retries[index] = retries
            return
        while index >= self.MAX_BUCKETS:
            self._merge()
            index = int(max(0.0, elapsed) / self.width)
        while len(self.rows) <= index:
            self.rows.append(0)
            self.retries.append(self.retries[-1] if self.retries else 0)
        self.rows[index] += rows
        self.retries[index] = max(self.retries[index], retries)

    def _merge(self) -> None:
        self.width *= 2
        self.rows = [sum(self.rows[i : i + 2]) for i in range(0, len(self.rows), 2)]
        self.retries = [max(self.retries[i : i + 2]) for i in range(0, len(self.retries), 2)]

    def to_json(self) -> dict[str, Any]:
        return {"seconds_per_bucket": self.width, "rows": self.rows, "retries": self.retries}


@dataclass
class RunReport:
    """What happened in one run: the numbers a person and a script look at."""

    feed: Path
    feedback: Path | None = None
    payload_out: Path | None = None
    dry_run: bool = False
    pim: str | None = None  # the PIM's host (and port); None: a catalog file, no PIM
    catalog_file: Path | None = None  # the catalog of an offline dry run
    header: tuple[str, ...] = ()  # the feed's header: line errors name columns by index
    rows: int = 0  # data rows, blank ones included
    statuses: Counter[str] = field(default_factory=Counter)
    outcomes: Counter[str] = field(default_factory=Counter)  # by OUTCOMES key
    messages: Counter[str] = field(default_factory=Counter)  # problem shapes (compat)
    seconds: float = 0.0
    requests: int = 0
    retries: int = 0
    lines_sent: int = 0
    header_problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    aborted: str | None = None
    #: accepted rows carrying values the PIM drops without a word (named in their message)
    values_not_kept: int = 0
    resumed: int = 0  # rows whose outcome comes from the interrupted run's journal
    resumed_from: str | None = None  # when the resumed run started
    resumable: bool = False  # aborted, and its journal kept: --resume continues it
    rejected_out: Path | None = None  # --rejected: the rows not accepted, as a feed
    report_out: Path | None = None  # --report: the HTML page
    settings: dict[str, Any] = field(default_factory=dict)  # the run's settings, no secrets
    problems: dict[tuple[str, str, str], Problem] = field(default_factory=dict)
    other_problems: int = 0  # problem occurrences beyond MAX_PROBLEMS shapes
    noted: list[RowNote] = field(default_factory=list)  # the first rows not accepted
    timeline: Timeline = field(default_factory=Timeline)
    clock: Callable[[], float] | None = field(default=None, repr=False)
    retries_now: Callable[[], int] | None = field(default=None, repr=False)
    started: float = 0.0
    action: str = "push"  # or "delete" (``feed-export delete``): how the summary words it
    #: ``push --missing``: what was done with the keys the feed lost (``push.missing``)
    missing_action: str | None = None
    missing: int = 0  # keys absent from this run that earlier runs had
    missing_done: int = 0
    missing_failed: int = 0
    missing_refused: str | None = None  # over --max-missing: nothing done, and why
    missing_out: Path | None = None

    def start(self, clock: Callable[[], float]) -> None:
        """The run starts now; ``record`` stamps each row on this clock."""
        self.clock = clock
        self.started = clock()

    def record(
        self,
        status: int | None,
        message: str,
        problems: Sequence[str] = (),
        row: int = 0,
        columns: Sequence[int] = (),
    ) -> None:
        """Count one feedback row, numbered ``row``.

        A line error's ``problems`` are grouped one by one; ``columns`` gives the column
        (0-based, -1: the whole row) of each, parallel to ``problems``.
        """
        self.rows += 1
        if status is None:
            key = "skipped" if message == SKIPPED_MESSAGE else "valid"
        else:
            key = str(status)
        self.statuses[key] += 1
        kind = outcome_kind(status, message)
        self.outcomes[kind] += 1
        failed = kind not in ACCEPTED and kind != "skipped"
        if not failed and NOT_KEPT in message:
            self.values_not_kept += 1
        found: list[int] = []
        if problems:
            for i, problem in enumerate(problems):
                index = columns[i] if i < len(columns) else -1
                column = self.header[index].strip() if 0 <= index < len(self.header) else ""
                if not column and index >= 0:
                    column = f"column {index + 1}"
                found.append(self._problem(kind, problem, row, column, "Not sent: "))
        elif failed and message and kind != "feed_rejected":  # header_problems lists those
            for part in _split_pim_message(message):
                found.append(self._problem(kind, part, row, _pim_column(part)))
        if failed and len(self.noted) < MAX_NOTED_ROWS:
            ids = tuple(dict.fromkeys(i for i in found if i >= 0))
            self.noted.append(RowNote(row, kind, status, message, ids))
        if self.clock is not None:
            retries = self.retries_now() if self.retries_now is not None else 0
            self.timeline.add(self.clock() - self.started, 1, retries)

    def _problem(self, kind: str, text: str, row: int, column: str, prefix: str = "") -> int:
        """Count one occurrence of a problem; its id (-1: beyond MAX_PROBLEMS shapes)."""
        shape, parts = message_shape(text)
        self.messages[message_group(prefix + text)] += 1
        key = (kind, column, shape)
        problem = self.problems.get(key)
        if problem is None:
            if len(self.problems) >= MAX_PROBLEMS:
                self.other_problems += 1
                return -1
            problem = self.problems[key] = Problem(
                len(self.problems), kind, column, tuple(shape.split("\x00")), parts,
                [False] * len(parts),
            )  # fmt: skip
        else:
            for i, (seen, value) in enumerate(zip(problem.example, parts, strict=True)):
                if value != seen:
                    problem.varies[i] = True
        problem.count += 1
        if not problem.rows or problem.rows[-1] != row:
            problem.seen_rows += 1
            if len(problem.rows) < MAX_PROBLEM_ROWS:
                problem.rows.append(row)
        return problem.id

    def problem_list(self) -> list[Problem]:
        """The problems, most frequent first (ties: the one met first)."""
        return sorted(self.problems.values(), key=lambda p: -p.count)

    @property
    def failed(self) -> int:
        failed = sum(
            n for k, n in self.statuses.items() if k not in _ACCEPTED_STATUSES and k != "skipped"
        )
        # a deletion's 404 (already absent) is not a failure; a dry run's has no status
        return failed - (self.outcomes.get("absent", 0) if not self.dry_run else 0)

    @property
    def accepted(self) -> int:
        return sum(self.statuses.get(k, 0) for k in _ACCEPTED_STATUSES)

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else 0.0

    @property
    def speed(self) -> float | None:
        """Rows per second, when it says something: a run that went through, of 1 s or more."""
        if self.aborted or self.header_problems or self.seconds < 1.0 or not self.rows:
            return None
        if not self.dry_run and not self.lines_sent:
            return None
        return self.rows / self.seconds

    @property
    def exit_code(self) -> int:
        if self.aborted:
            return EXIT_ABORTED
        if self.header_problems:
            return EXIT_NOT_SENT
        missing_trouble = self.missing_failed or self.missing_refused
        return EXIT_SOME_FAILED if self.failed or missing_trouble else EXIT_OK

    def counts(self) -> dict[str, int]:
        """Rows per outcome, in ``OUTCOMES`` order, every outcome present (zeros too)."""
        return {kind: self.outcomes.get(kind, 0) for kind in OUTCOMES}

    def to_json(self, problems: int = 100) -> dict[str, Any]:
        """The report as data: what ``--summary-json`` writes (the text summary's structure)."""
        listed = self.problem_list()
        speed = self.speed
        return {
            "feed": str(self.feed),
            "pim": self.pim,
            "catalog_file": str(self.catalog_file) if self.catalog_file else None,
            "feedback": str(self.feedback) if self.feedback else None,
            "payload_out": str(self.payload_out) if self.payload_out else None,
            "rejected": str(self.rejected_out) if self.rejected_out else None,
            "report": str(self.report_out) if self.report_out else None,
            "dry_run": self.dry_run,
            "rows": self.rows,
            "accepted": self.accepted,
            "failed": self.failed,
            "counts": self.counts(),
            "statuses": dict(sorted(self.statuses.items())),
            "problems": [p.to_json() for p in listed[:problems]],
            "more_problems": max(0, len(listed) - problems) + (1 if self.other_problems else 0),
            "seconds": round(self.seconds, 3),
            "rows_per_second": round(speed, 1) if speed is not None else None,
            "requests": self.requests,
            "retries": self.retries,
            "lines_sent": self.lines_sent,
            "header_problems": self.header_problems,
            "warnings": self.warnings,
            "values_not_kept": self.values_not_kept,
            "aborted": self.aborted,
            "resumed": self.resumed,
            "resumed_from": self.resumed_from,
            "resumable": self.resumable,
            "missing": {
                "action": self.missing_action,
                "absent": self.missing,
                "done": self.missing_done,
                "failed": self.missing_failed,
                "refused": self.missing_refused,
                "file": str(self.missing_out) if self.missing_out else None,
            }
            if self.missing_action
            else None,
            "exit_code": self.exit_code,
        }

    def to_text(self, top: int = 8) -> str:
        """The summary a person reads at the end of a run (``report.text``)."""
        from feed_export.report.text import render_text

        return render_text(self, top=top)


def _split_pim_message(message: str) -> Iterable[str]:
    """A PIM's message with several ``errors[]`` entries -> one text per entry."""
    return message.split(" | ") if " | " in message else (message,)


_PIM_ATTRIBUTE = re.compile(r"\bvalues\[([^\],\s]+)")


def _pim_column(text: str) -> str:
    """The attribute a PIM's message is about (``values[brand]: ...``), or ""."""
    found = _PIM_ATTRIBUTE.search(text)
    return found.group(1) if found else ""
