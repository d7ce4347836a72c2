"""``run_delete()``: the products (or product models) a feed's rows name, deleted from the PIM.

The feed is read as a push reads it; only its key column matters (``identifier``, or the
identifier attribute's own column such as ``sku``; ``uuid`` with ``products-uuid``;
``code`` for product models; both and the ``entity`` column in a mixed feed). The stages:

log in -> the validation pass (every row's key; a feed without a key column is refused
before anything, exit 2) -> the guard (more distinct keys than ``max_deletions``: refused,
exit 2) -> dry run: which keys the PIM holds (``search`` by chunks of 100), or live: the
confirmation (``confirm``; refused: nothing deleted) -> one ``DELETE`` per key, a few at
once, in feed order (a chunk's products before its product models) -> the feedback file
(the feed, with ``akeneo_status_code`` and ``akeneo_message`` on every row), as a push
writes it.

Row outcomes: ``204 Deleted``; ``404 Not in the PIM: nothing to delete`` (not a failure:
the product is not there, which is what was asked); the PIM's refusal (a failure); a row
without a key ``422 Not sent: ...``; a blank row ``Skipped: empty row``. A key met again
in a later row gets the first row's outcome (one DELETE per key). A product model is
deleted with its children (the API reference): a child's row later in the feed is then
"not in the PIM".
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import orjson

from feed_export.config import DEFAULT_MAX_DELETIONS, Entity, Settings, pim_host
from feed_export.errors import ConfigError, FeedError, StartupError, TransportError
from feed_export.feed.headers import ENTITY_COLUMN, clean_header
from feed_export.feed.reader import Row
from feed_export.feed.source import FeedSource
from feed_export.feed.writer import Target, check_writable, target_name
from feed_export.push.feedback import OrderedFeedback, Outcome, open_feedback
from feed_export.push.interrupt import Interrupt
from feed_export.push.progress import Phases, RunProgress
from feed_export.push.startup import log_in, read_catalog
from feed_export.report.model import (
    ABSENT_MESSAGE,
    DELETED_MESSAGE,
    INTERRUPTED_NOT_SENT,
    SKIPPED_MESSAGE,
    WOULD_DELETE_MESSAGE,
    RunReport,
)

if TYPE_CHECKING:
    from feed_export.akeneo.client import AkeneoClient
    from feed_export.akeneo.responses import LineResult

#: rows whose deletions are in flight together
CHUNK = 64
#: keys per ``search`` of a dry run (Akeneo's identifier filter takes 100)
SEARCH_CHUNK = 100
DELETING = "deleting"
CHECKING = "checking what the PIM holds"


@dataclass(frozen=True, slots=True)
class DeletePlan:
    """What a deletion is about to do, for its confirmation."""

    pim: str
    products: int  # distinct keys
    product_models: int

    def words(self) -> str:
        """``3 products and 1 product model (with their children)``."""
        parts = []
        if self.products:
            parts.append(f"{self.products:,} product" + ("s" if self.products != 1 else ""))
        if self.product_models:
            s = "s" if self.product_models != 1 else ""
            parts.append(f"{self.product_models:,} product model{s} (with their children)")
        return " and ".join(parts) or "nothing"


@dataclass(frozen=True, slots=True)
class _Keys:
    """Where a feed's keys are: the column of each entity's key, the entity column."""

    product: int | None
    model: int | None
    entity: int | None
    product_entity: Entity


def default_deletions_path(feed_path: Path) -> Path:
    """``<name>.deletions.<ext>`` beside the feed (a push's feedback file is left alone).

    >>> default_deletions_path(Path("old/discontinued.csv")).as_posix()
    'old/discontinued.deletions.csv'
    """
    from feed_export.push.feedback import default_feedback_path

    feedback = default_feedback_path(feed_path)
    return feedback.with_name(feedback.name.replace(".feedback", ".deletions", 1))


def run_delete(
    source: FeedSource | Path,
    *,
    entity: Entity = "products",
    dry_run: bool = False,
    max_deletions: int = DEFAULT_MAX_DELETIONS,
    settings: Settings | None = None,
    client: AkeneoClient | None = None,
    feedback: Target | None = None,
    confirm: Callable[[DeletePlan], bool] | None = None,
    concurrency: int = 4,
    interrupt: Interrupt | None = None,
    progress: RunProgress | None = None,
    clock: Callable[[], float] = time.perf_counter,
) -> RunReport:
    """Delete what a feed's rows name (or, ``dry_run``, say what would go); the report.

    Raises before anything is deleted or written: ``ConfigError`` (no confirmation, more
    keys than ``max_deletions``, an output that cannot be written), ``FeedError`` (no key
    column), ``StartupError`` (the PIM cannot be used). ``confirm`` is asked once, with
    the plan, before a live deletion; None: no question.
    """
    if not isinstance(source, FeedSource):
        source = FeedSource.file(source)
    if feedback is None:
        if source.path is None:
            raise ConfigError(f"{source.name}: rows in memory need a feedback target")
        feedback = default_deletions_path(source.path)
    if isinstance(feedback, Path):
        if source.path is not None and feedback.resolve() == source.path.resolve():
            raise ConfigError(f"{feedback} is the feed itself: choose another feedback file")
        check_writable(feedback, "feedback file", "--feedback")
    report = RunReport(feed=Path(source.name), feedback=target_name(feedback), dry_run=dry_run)
    report.action = "delete"
    report.start(clock)
    phases = Phases(progress)
    with ExitStack() as stack:
        feed = stack.enter_context(source.open())
        report.header = feed.header
        if client is None:
            if settings is None:
                raise ConfigError("a deletion needs PIM settings (or --sandbox)")
            from feed_export.akeneo.client import AkeneoClient

            client = AkeneoClient(settings)
            stack.callback(client.close)
            log_in(client, interrupt)
        report.pim = pim_host(client.base_url)
        keys = _key_columns(feed.header, entity, client)
        wanted: dict[str, dict[str, str]] = {"product": {}, "product_model": {}}

        def watch(row: Row) -> None:
            found = _row_key(row, keys)
            if isinstance(found, tuple):
                wanted[found[0]].setdefault(found[1].casefold(), found[1])

        feed.check(watch)
        plan = DeletePlan(report.pim, len(wanted["product"]), len(wanted["product_model"]))
        if plan.products + plan.product_models > max_deletions:
            raise ConfigError(
                f"the feed would delete {plan.words()}, more than --max-deletions "
                f"{max_deletions:,}: nothing deleted; pass --max-deletions "
                f"{plan.products + plan.product_models} if you mean it"
            )
        present: dict[str, set[str]] | None = None
        if dry_run:
            phases.phase(CHECKING)
            present = _present(client, keys.product_entity, wanted)
        elif confirm is not None and plan.products + plan.product_models and not confirm(plan):
            raise ConfigError(f"not confirmed: nothing deleted from {report.pim}")
        writer = stack.enter_context(open_feedback(feedback, feed.format, feed.header))
        ordered = OrderedFeedback(writer, report, phases.rows if phases.wanted else None)
        phases.phase(CHECKING if dry_run else DELETING, plan.products + plan.product_models)
        done: dict[tuple[str, str], tuple[int, str, int]] = {}  # key -> status, message, row
        pool = stack.enter_context(ThreadPoolExecutor(max_workers=max(1, concurrency)))
        for chunk in _chunks(feed.rows(), CHUNK):
            stopped = interrupt is not None and interrupt.requested
            jobs: dict[tuple[str, str], Row] = {}
            for row in chunk:
                ordered.add(row)
                found = _row_key(row, keys)
                if found is None:
                    ordered.resolve(Outcome(row.number, None, SKIPPED_MESSAGE))
                elif isinstance(found, str):
                    ordered.resolve(Outcome(row.number, 422, f"Not sent: {found}"))
                elif stopped:
                    ordered.resolve(Outcome(row.number, 0, INTERRUPTED_NOT_SENT))
                elif present is not None:
                    there = found[1].casefold() in present[found[0]]
                    message = WOULD_DELETE_MESSAGE if there else ABSENT_MESSAGE
                    ordered.resolve(Outcome(row.number, None, message))
                else:
                    key = (found[0], found[1].casefold())
                    if key not in done and key not in jobs:
                        jobs[key] = row
            if jobs:
                deleter = _Deleter(client, keys.product_entity)
                # a chunk's products go first, then its product models: deleting a model
                # deletes its children, whose own rows would race with it
                order = sorted(jobs, key=lambda k: k[0] == "product_model")
                answers = [
                    answer
                    for kind in ("product", "product_model")
                    for answer in pool.map(
                        deleter.delete,
                        [(k[0], jobs[k].cells[_column(keys, k[0])]) for k in order if k[0] == kind],
                    )
                ]
                for key, answer in zip(order, answers, strict=True):
                    status, message = answer.status, answer.message
                    if status in (200, 204):
                        message = DELETED_MESSAGE
                    elif status == 404:
                        message = f"{ABSENT_MESSAGE} ({answer.message})"
                    done[key] = (status, message, jobs[key].number)
            if present is None:
                for row in chunk:
                    found = _row_key(row, keys)
                    if not isinstance(found, tuple) or stopped:
                        continue
                    status, message, first = done[(found[0], found[1].casefold())]
                    if first != row.number:
                        message = f"{message} (as row {first}: the same key)"
                    ordered.resolve(Outcome(row.number, status, message))
            if stopped:
                report.aborted = "interrupted"
        report.requests = client.stats.requests_sent
        report.retries = client.stats.retries
    report.seconds = clock() - report.started
    return report


def _chunks(rows: Iterable[Row], size: int) -> Iterator[list[Row]]:
    chunk: list[Row] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _key_columns(header: Sequence[str], entity: Entity, client: AkeneoClient) -> _Keys:
    """The key columns of a feed; ``FeedError`` when a row kind has none."""
    names = {clean_header(text).casefold(): i for i, text in reversed(list(enumerate(header)))}
    mixed = entity != "product-models" and ENTITY_COLUMN in names
    product: int | None = None
    model: int | None = names.get("code") if entity == "product-models" or mixed else None
    if entity == "products-uuid":
        product = names.get("uuid")
    elif entity == "products":
        product = names.get("identifier")
        if product is None:  # the identifier attribute's own column stands in (sku)
            catalog = read_catalog(client, tuple(header))
            ident = catalog.identifier_attribute
            if ident is not None:
                product = names.get(ident.code.casefold())
    problems = []
    if entity != "product-models" and product is None:
        what = "uuid" if entity == "products-uuid" else "identifier (or the identifier attribute's)"
        problems.append(f"no {what} column: the rows name no product to delete")
    if (entity == "product-models" or mixed) and model is None:
        problems.append("no code column: the rows name no product model to delete")
    if problems:
        raise FeedError("; ".join(problems) + "; nothing deleted")
    return _Keys(product, model, names.get(ENTITY_COLUMN) if mixed else None,
                 "products-uuid" if entity == "products-uuid" else "products")  # fmt: skip


def _column(keys: _Keys, kind: str) -> int:
    index = keys.product if kind == "product" else keys.model
    assert index is not None
    return index


def _row_key(row: Row, keys: _Keys) -> tuple[str, str] | str | None:
    """(row kind, key) of a row; a problem in words; None for a blank row."""
    cells = row.cells
    if not any(cell.strip() for cell in cells):
        return None
    kind = "product" if keys.product is not None else "product_model"
    if keys.entity is not None:
        said = cells[keys.entity].strip().casefold() if keys.entity < len(cells) else ""
        if said not in ("product", "product_model"):
            return f'entity: expected product or product_model, got "{said}"'
        kind = said
    index = _column(keys, kind)
    key = cells[index].strip() if index < len(cells) else ""
    if not key:
        return f"no {'code' if kind == 'product_model' else 'identifier'}: nothing to delete"
    return kind, key


class _Deleter:
    """One DELETE per (row kind, key cell), at the kind's endpoint."""

    def __init__(self, client: AkeneoClient, product_entity: Entity) -> None:
        self._client = client
        self._resource: dict[str, Entity] = {
            "product": product_entity,
            "product_model": "product-models",
        }

    def delete(self, item: tuple[str, str]) -> LineResult:
        kind, cell = item
        return self._client.delete_item(self._resource[kind], cell.strip())


def _present(
    client: AkeneoClient, product_entity: Entity, wanted: dict[str, dict[str, str]]
) -> dict[str, set[str]]:
    """Which of the keys the PIM holds (folded), by row kind: a dry run's answer."""
    found: dict[str, set[str]] = {"product": set(), "product_model": set()}
    lists = (
        ("product", product_entity, "uuid" if product_entity == "products-uuid" else "identifier"),
        ("product_model", "product-models", "code"),
    )
    try:
        for kind, resource, field in lists:
            codes = sorted(wanted[kind].values())
            for start in range(0, len(codes), SEARCH_CHUNK):
                chunk = codes[start : start + SEARCH_CHUNK]
                prop = "uuid" if field == "uuid" else "identifier"
                search = orjson.dumps({prop: [{"operator": "IN", "value": chunk}]}).decode()
                for item in client.list_items(resource, {"search": search}):
                    value = item.get(field)
                    if isinstance(value, str):
                        found[kind].add(value.casefold())
    except TransportError as exc:
        raise StartupError(f"could not ask the PIM which items it holds: {exc}") from exc
    return found
