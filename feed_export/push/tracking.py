"""What a live push remembers: the state store, the run journal, and a resume's answers.

``Tracking`` says what to keep (``--only-changed``, ``--full``, ``--state``, ``--resume``);
``RunMemory`` opens the two SQLite files beside the feed (``.feed_export/``), refuses a
resume whose feed, PIM or options changed, and hands the interrupted run's answers back
in row order. See ``state.py`` and ``journal.py`` for the files themselves.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from feed_export.config import ExportOptions
from feed_export.errors import ConfigError
from feed_export.feed.source import FeedSource
from feed_export.push.feedback import Outcome
from feed_export.push.journal import (
    FeedIdentity,
    Journal,
    Recorded,
    RunIdentity,
    differences,
    journal_path,
)
from feed_export.push.missing import MissingPolicy
from feed_export.push.state import StateStore, default_state_path, format_time
from feed_export.report.model import UNCHANGED_STATUS, RunReport, unchanged_message

SendMode = Literal["all", "only-changed", "full"]

#: ExportOptions fields that do not change what is sent (a resume may change them)
NOT_PAYLOAD = frozenset(
    {
        "dry_run",
        "concurrency",
        "batch_size",
        "allow_media_hosts",
        "allow_private_media",
        "max_feed_size",
        "max_cells",
        "max_columns",
        "safe_feedback",
    }
)


@dataclass(frozen=True, slots=True)
class Tracking:
    """What a live push remembers: the state store and the run journal.

    ``mode``: ``all`` sends every row and updates the state store when it exists (or
    ``state`` is given); ``only-changed`` leaves out rows the PIM already holds;
    ``full`` sends every row and creates the state store if needed. ``resume`` continues
    the interrupted push of the feed, if its journal holds one. ``target`` names the PIM
    in both files (default: the settings' base URL). ``missing``: what to do with the
    products earlier runs of this feed pushed and this one lacks.
    """

    mode: SendMode = "all"
    state: Path | None = None  # None: .feed_export/state.sqlite beside the feed
    resume: bool = False
    journal: bool = True
    target: str | None = None
    #: ``--missing``: disable or delete what earlier runs of this feed pushed and this one
    #: lacks (``missing.py``); it keeps the state store, as ``full`` does
    missing: MissingPolicy | None = None


def payload_options(options: ExportOptions) -> dict[str, object]:
    """The options that shape what is sent: a resume must keep them."""
    return options.model_dump(mode="json", exclude=set(NOT_PAYLOAD))


class RunMemory:
    """A live push's state store and journal, and what the resumed run had answered."""

    def __init__(
        self,
        mode: SendMode,
        state: StateStore | None,
        journal: Journal | None,
        recorded: Iterator[Recorded] | None,
    ) -> None:
        self.mode = mode
        self.state = state
        self.journal = journal
        self.recorded = recorded  # the interrupted run's outcomes, in row order

    @classmethod
    def open(
        cls,
        source: FeedSource,
        options: ExportOptions,
        tracking: Tracking,
        target: str,
        report: RunReport,
    ) -> RunMemory:
        """Open the state store and the journal; refuse a resume that does not match.

        Rows in memory have no file to resume: their push keeps no journal, and their
        state store needs ``tracking.state``.
        """
        state = None
        if tracking.state is not None:
            state_path = tracking.state
        elif source.path is not None:
            state_path = default_state_path(source.path)
        else:
            state_path = None
        if tracking.mode != "all" and state_path is None:
            raise ConfigError(
                f"{source.name}: --only-changed and --full need a state file: "
                "pass Tracking(state=...) for rows in memory"
            )
        # an existing store is always kept up to date, else a later --only-changed run
        # would trust what this push has overwritten
        if state_path is not None and (
            tracking.mode != "all" or tracking.state is not None or state_path.exists()
        ):
            if not target:  # a library call with a client only
                raise ConfigError(
                    f"the state file {state_path} needs the PIM's base URL: "
                    "pass settings, or Tracking(target=...)"
                )
            # an assets feed's codes are unique within its family
            entity: str = options.entity
            if entity == "assets":
                entity = f"assets/{(options.asset_family or '').casefold()}"
            state = StateStore(state_path, target, entity)
        journal = None
        recorded = None
        try:
            if source.path is None:
                if tracking.resume:
                    raise ConfigError(f"{source.name}: only a feed file can be resumed")
            elif tracking.journal or tracking.resume:
                try:
                    journal = Journal.open(journal_path(source.path, tracking.state))
                except ConfigError as exc:
                    if tracking.resume:
                        raise
                    report.warnings.append(f"{exc}: this push cannot be resumed")
            if journal is not None and source.path is not None:
                recorded = cls._start(journal, source.path, options, tracking, target, report)
        except BaseException:
            if journal is not None:
                journal.close()
            if state is not None:
                state.close()
            raise
        return cls(tracking.mode, state, journal, recorded)

    @staticmethod
    def _start(
        journal: Journal,
        feed_path: Path,
        options: ExportOptions,
        tracking: Tracking,
        target: str,
        report: RunReport,
    ) -> Iterator[Recorded] | None:
        identity = RunIdentity(FeedIdentity.of(feed_path), target, payload_options(options))
        previous = journal.previous()
        since = format_time(int(previous.started_at)) if previous is not None else ""
        if tracking.resume and previous is not None:
            problems = differences(previous.identity, identity)
            if problems:
                raise ConfigError(
                    f"cannot resume the push of {feed_path} started {since}: "
                    + "; ".join(problems)
                    + ". Pass the same options, or push without --resume to start over."
                )
            report.resumed_from = since
            return journal.recorded()
        if tracking.resume:
            report.warnings.append(f"no interrupted push of {feed_path} to resume: sending it all")
        elif previous is not None and previous.answered:
            report.warnings.append(
                f"the interrupted push of {feed_path} started {since} "
                f"({previous.answered} row(s) answered) is discarded; "
                "pass --resume to continue such a push"
            )
        journal.start(identity)
        return None

    def finish(self) -> None:
        """The run ended: its journal is of no further use."""
        if self.journal is not None:
            self.journal.finish()
            self.journal = None

    def close(self) -> None:
        if self.journal is not None:
            self.journal.close()
            self.journal = None
        if self.state is not None:
            self.state.close()
            self.state = None


_UNCHANGED_MESSAGES: dict[int, str] = {}


def recorded_outcome(recorded: Recorded) -> Outcome:
    """The feedback outcome of a journaled row (a resumed answer, an unchanged row)."""
    if recorded.status == UNCHANGED_STATUS and recorded.since is not None:
        message = _UNCHANGED_MESSAGES.get(recorded.since)
        if message is None:  # one per second of acceptance: cache the formatting
            if len(_UNCHANGED_MESSAGES) > 10_000:
                _UNCHANGED_MESSAGES.clear()
            message = _UNCHANGED_MESSAGES[recorded.since] = unchanged_message(
                format_time(recorded.since)
            )
        return Outcome(recorded.row, recorded.status, message)
    return Outcome(recorded.row, recorded.status, recorded.message)
