"""pandas DataFrames in and out: push a frame and get its feedback as a frame; pull into one.

The one module that imports pandas (an optional extra: ``pip install feed-export[pandas]``).
A frame is a feed: its columns are the feed's header (``sku``, ``name~en_US``,
``price@currency``...), its cells text. Missing cells (``None``, ``NaN``, ``pd.NA``) are
empty cells; any other cell that is not text is refused, naming its row and column
(convert first: ``frame.astype(str)``), as the push refuses them in a feed.

>>> result = push_frame(frame, ExportOptions(), settings=settings)  # doctest: +SKIP
>>> result.report.exit_code, result.feedback["akeneo_status_code"].tolist()  # doctest: +SKIP
(0, ['201', '201'])
>>> pulled = pull_frame(PullOptions(families=("clothing",)), settings=settings)  # doctest: +SKIP
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import pandas as pd

from feed_export.config import ExportOptions, PullOptions, Settings
from feed_export.errors import RunAborted
from feed_export.feed.source import FeedSource
from feed_export.pull.run import run_pull
from feed_export.push.run import RunTargets, run_push
from feed_export.push.tracking import Tracking
from feed_export.report.model import RunReport
from feed_export.report.pull import PullReport

if TYPE_CHECKING:
    from feed_export.akeneo.client import AkeneoClient
    from feed_export.catalog.structure import Catalog

#: how a frame's rows are named in messages
FRAME_NAME = "<DataFrame>"


class PushResult(NamedTuple):
    """What ``push_frame`` returns: the run report, and the feedback as a frame (the
    frame's columns, ``akeneo_status_code`` and ``akeneo_message``, one row per row)."""

    report: RunReport
    feedback: pd.DataFrame


class PullResult(NamedTuple):
    """What ``pull_frame`` returns: the pulled rows as a frame (text cells, the push
    grammar's columns), and the pull's report."""

    frame: pd.DataFrame
    report: PullReport


def push_frame(
    frame: pd.DataFrame,
    options: ExportOptions | None = None,
    *,
    settings: Settings | None = None,
    client: AkeneoClient | None = None,
    catalog: Catalog | None = None,
    tracking: Tracking | None = None,
    folder: Path | None = None,
) -> PushResult:
    """Push (or, with ``options.dry_run``, check) a frame's rows; the report and feedback.

    The rest is ``run_push``'s: ``catalog`` for a dry run without a PIM, ``tracking``
    for the state store (``Tracking(state=...)``: rows in memory have no folder of their
    own), ``folder`` where relative file paths in cells are found.
    """
    options = options or ExportOptions()
    header = [str(column) for column in frame.columns]
    source = FeedSource.from_rows(header, lambda: _rows(frame), name=FRAME_NAME, folder=folder)
    buffer = io.BytesIO()
    report = run_push(
        source,
        options,
        catalog=catalog,
        settings=settings,
        client=client,
        targets=RunTargets(feedback=buffer),
        tracking=tracking or Tracking(journal=False),
    )
    buffer.seek(0)
    feedback = pd.read_csv(buffer, dtype=str, keep_default_na=False, na_filter=False)
    if len(feedback) == len(frame):
        feedback.index = frame.index
    return PushResult(report, feedback)


def pull_frame(
    options: PullOptions | None = None,
    *,
    settings: Settings | None = None,
    client: AkeneoClient | None = None,
    catalog: Catalog | None = None,
) -> PullResult:
    """Pull products (and product models) into a frame of text cells, one row each.

    Raises ``RunAborted`` if the pull stops midway (the PIM failing after every retry,
    lost credentials): a part of the catalog is not returned as if it were all of it.
    """
    sink = _FrameRows()
    report = run_pull(
        options or PullOptions(), sink=sink, settings=settings, client=client, catalog=catalog
    )
    if report.aborted:
        raise RunAborted(f"the pull stopped: {report.aborted}")
    report.output = Path(FRAME_NAME)
    frame = pd.DataFrame(sink.rows, columns=sink.header, dtype=object)
    return PullResult(frame, report)


class _FrameRows:
    """The pulled rows, kept for the frame."""

    def __init__(self) -> None:
        self.header: list[str] = []
        self.rows: list[Sequence[str]] = []

    def start(self, header: Sequence[str]) -> None:
        self.header = list(header)

    def write(self, cells: Sequence[str]) -> None:
        self.rows.append(list(cells))


def _rows(frame: pd.DataFrame) -> Iterator[list[Any]]:
    """The frame's rows, missing cells as empty text (the rest as they are)."""
    for values in frame.itertuples(index=False, name=None):
        yield ["" if _missing(value) else value for value in values]


def _missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # a list or an array: not a missing value
        return False
