"""Rows -> lines, and the outcomes of rows that are not sent (blank, bad cells, rejected feed).

``decode_row`` never lets a bug in a converter cost more than its row; ``finish_rows``
gives every remaining row one outcome (a rejected feed, a run that could not start);
``dry_run`` checks every row and writes what would be sent; the files its rows name by
path are looked at as the push would read them (``files.PathCheck``), and a row whose files
the push could not read is answered as the push would answer it: status 422 and
``Valid (dry run), except: picture not saved (a.jpg): file not found: ...``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from typing import BinaryIO

from feed_export.config import Entity
from feed_export.feed.reader import Row, is_blank
from feed_export.push.assets import AssetDone, asset_failure, rewrite_line
from feed_export.push.decode import AssetRef, LineError, ProductLine, RowDecoder
from feed_export.push.feedback import OrderedFeedback, Outcome
from feed_export.push.files import PathCheck
from feed_export.push.lineage import ParentWait, result_model
from feed_export.push.media import FILES_NEED_IDENTIFIERS, not_saved
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
    waits: ParentWait | None = None,
    files: PathCheck | None = None,
    entity: Entity = "products",
) -> None:
    """Decode every row: valid rows are what would be sent (to ``payload``, NDJSON).

    ``waits``: a row whose parent is a product model only this feed defines waits for that
    model's rows, and is refused when none of them is valid (as the push's planner does).
    ``files``: looks at the files valid rows name by path (None: the feed has no file,
    image or asset collection column); ``entity`` is the run's (``--entity``).
    """

    def valid(row: Row, line: ProductLine) -> None:
        status: int | None = None
        failures: list[str] = []
        if files is not None and (line.media or line.assets):
            line, status, failures = file_failures(line, files, entity)
        if payload is not None:
            payload.write(line.body + b"\n")
        message = DRY_RUN_MESSAGE
        if failures or line.notes:
            message += ", except: " + "; ".join([*failures, *line.notes])
        if waiting.get(row.number):
            ordered.resolve(Outcome(row.number, status, message))
        else:
            ordered.add(row, Outcome(row.number, status, message))

    waiting: dict[int, bool] = {}  # rows added while waiting: resolved later
    for row in rows:
        if is_blank(row.cells):
            ordered.add(row, Outcome(row.number, None, SKIPPED_MESSAGE))
            continue
        result = decode_row(decoder, row)
        if waits is None:
            if isinstance(result, LineError):
                ordered.add(row, Outcome(row.number, 422, result.message), result)
            else:
                valid(row, result)
        else:
            _judge(row, result, decoder, ordered, waits, valid, waiting)
        if progress is not None and row.number % 1000 == 0:
            progress(row.number - 1)
    if waits is not None:
        for row, line in waits.rest():
            valid(row, line)


def _judge(
    row: Row,
    result: ProductLine | LineError,
    decoder: RowDecoder,
    ordered: OrderedFeedback,
    waits: ParentWait,
    valid: Callable[[Row, ProductLine], None],
    waiting: dict[int, bool],
) -> None:
    """A dry run's verdict on one row when parents in the feed may make rows wait."""
    refusal: str | None = None
    if isinstance(result, LineError):
        ordered.add(row, Outcome(row.number, 422, result.message), result)
        ok, text = False, result.message
    else:
        verdict = waits.verdict(result)
        if verdict == "wait":
            ordered.add(row)
            waiting[row.number] = True
            waits.hold(row, result)
            return
        refusal = verdict
        if refusal is None:
            valid(row, result)
            ok, text = True, ""
        else:
            ordered.add(row, Outcome(row.number, 422, refusal))
            ok, text = False, refusal
    model = result_model(decoder, row, result)
    for held, line, why in waits.judged(model, row.number, ok, text):
        if why is None:
            valid(held, line)
        else:
            ordered.resolve(Outcome(held.number, 422, why))
        waiting.pop(held.number, None)


def file_failures(
    line: ProductLine, files: PathCheck, entity: Entity = "products"
) -> tuple[ProductLine, int | None, list[str]]:
    """The files of ``line`` the push could not read, worded as the push words them (asset
    cells first: their files go before the line, the others after it), the status the row
    would get (the first failure's; None: no failure), and the line as it would go (a
    failed asset left out, as ``assets.rewrite_line`` leaves it out).
    """
    failed: list[tuple[AssetRef, AssetDone]] = []
    failures: list[str] = []
    status: int | None = None
    for ref in line.assets:
        problem = files.problem(ref.file)
        if problem is not None:
            failed.append((ref, AssetDone(problem.status, asset_failure(ref, problem.message))))
            failures.append(failed[-1][1].message)
            status = problem.status if status is None else status
    by_uuid = (line.entity or entity) == "products-uuid"
    for media in line.media:
        if by_uuid:  # the upload cannot name such a product (``MediaStage.apply``)
            failures.append(not_saved(media, FILES_NEED_IDENTIFIERS))
            status = 422 if status is None else status
            continue
        problem = files.problem(media)
        if problem is not None:
            failures.append(not_saved(media, problem.message))
            status = problem.status if status is None else status
    if failed:
        line = replace(line, body=rewrite_line(line.body, failed))
    return line, status, failures
