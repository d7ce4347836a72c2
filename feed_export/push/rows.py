"""Rows -> lines, and the outcomes of rows that are not sent (blank, bad cells, rejected feed).

``decode_row`` never lets a bug in a converter cost more than its row; ``finish_rows``
gives every remaining row one outcome (a rejected feed, a run that could not start);
``dry_run`` checks every row and writes what would be sent.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from typing import BinaryIO

from feed_export.feed.reader import Row, is_blank
from feed_export.push.decode import LineError, ProductLine, RowDecoder
from feed_export.push.feedback import OrderedFeedback, Outcome
from feed_export.push.progress import ProgressCallback
from feed_export.report.model import DRY_RUN_MESSAGE, SKIPPED_MESSAGE

log = logging.getLogger(__name__)


#: header problems quoted in each rejected row's message (the summary lists them all)
QUOTED_PROBLEMS = 3


def rejected_message(problems: Sequence[str]) -> str:
    """Every row's message when the header is rejected: the first problems, then a count.

    A feed with thousands of bad headers would otherwise repeat all of them on every row.
    """
    text = "; ".join(problems[:QUOTED_PROBLEMS])
    more = len(problems) - QUOTED_PROBLEMS
    if more > 0:
        text += f"; ... and {more} more (see the summary or stderr)"
    return "Not sent: feed rejected: " + text


def decode_row(decoder: RowDecoder, row: Row) -> ProductLine | LineError:
    """Decode one row; a bug in a converter costs that row, never the run."""
    try:
        return decoder.decode(row)
    except Exception as exc:
        log.debug("decoder crashed on row %d", row.number, exc_info=True)
        return LineError(
            row.number,
            (f"internal error while decoding this row: {type(exc).__name__}: {exc}",),
            (-1,),
        )


def finish_rows(
    rows: Iterator[Row],
    ordered: OrderedFeedback,
    status: int,
    message: str,
    progress: ProgressCallback | None,
) -> None:
    """Give every remaining row the same outcome (blank rows stay skipped)."""
    for row in rows:
        if is_blank(row.cells):
            ordered.add(row, Outcome(row.number, None, SKIPPED_MESSAGE))
        else:
            ordered.add(row, Outcome(row.number, status, message))
        if progress is not None and row.number % 1000 == 0:
            progress(row.number - 1)


def dry_run(
    rows: Iterator[Row],
    decoder: RowDecoder,
    ordered: OrderedFeedback,
    payload: BinaryIO | None,
    progress: ProgressCallback | None,
) -> None:
    """Decode every row: valid rows are what would be sent (to ``payload``, NDJSON)."""
    for row in rows:
        if is_blank(row.cells):
            ordered.add(row, Outcome(row.number, None, SKIPPED_MESSAGE))
            continue
        result = decode_row(decoder, row)
        if isinstance(result, LineError):
            ordered.add(row, Outcome(row.number, 422, result.message), result)
        else:
            if payload is not None:
                payload.write(result.body + b"\n")
            ordered.add(row, Outcome(row.number, None, DRY_RUN_MESSAGE))
        if progress is not None and row.number % 1000 == 0:
            progress(row.number - 1)
