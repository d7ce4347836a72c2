"""Which lists a pull reads (``search`` filters as the API takes them), and reading them ahead.

``listings`` turns the pull's filters into Akeneo list requests: one ``search`` object
whose filters all apply (``family IN``, ``categories IN``, ``enabled =``, ``updated >``,
``identifier IN`` by chunks of 100, and whatever ``--search`` adds), read with
``search_after`` pages of 100. Product models come in two passes, roots
(``parent EMPTY``) then sub-models (``parent NOT EMPTY``), so that a mixed feed has
every parent before its children; products come last.

``partitions`` (disjoint slices: ``updated`` ranges, families...) make one list each, read
side by side (``run_pull(workers=...)``); whether that pays is measured in BENCHMARKS.md.

``read_ahead`` reads the next page while the caller writes the previous one: one thread
fetches, a queue of ``depth`` pages sits between, so memory holds at most ``depth + 2``
pages whatever the catalog's size. ``read_side_by_side`` reads several lists at once
(each list's pages in order, the lists' pages interleaved as they come).
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC
from typing import Any, Literal, TypeVar

import orjson

from feed_export.config import PullOptions
from feed_export.errors import ConfigError

T = TypeVar("T")

RowEntity = Literal["product", "product_model"]

#: identifiers per ``identifier IN`` filter (Akeneo's ValidateIdentifiersLimit)
IDENTIFIERS_PER_SEARCH = 100
#: how many pages wait between the reader and the writer
READ_AHEAD = 1


@dataclass(frozen=True, slots=True)
class Listing:
    """One list request: the resource, its query parameters, what its rows are."""

    resource: str  # "products" or "product-models"
    entity: RowEntity
    params: dict[str, str]
    phase: int  # lists of one phase may be read side by side; phases go in order


def listings(options: PullOptions) -> list[Listing]:
    """The list requests of a pull, in the order their rows are written."""
    if options.enabled is not None and options.entity == "product-models":
        raise ConfigError(
            "--enabled/--disabled filter products; product models have no enabled field"
        )
    out: list[Listing] = []
    if options.entity in ("product-models", "all"):
        for phase, parent in ((0, "EMPTY"), (1, "NOT EMPTY")):
            base = _search(options, products=False)
            _add(base, "parent", {"operator": parent})
            out.extend(_listed(options, "product-models", "product_model", base, phase))
    if options.entity in ("products", "all"):
        out.extend(_listed(options, "products", "product", _search(options, products=True), 2))
    return out


def _search(options: PullOptions, *, products: bool) -> dict[str, list[dict[str, Any]]]:
    search: dict[str, list[dict[str, Any]]] = {}
    if options.families:
        _add(search, "family", {"operator": "IN", "value": list(options.families)})
    if options.categories:
        _add(search, "categories", {"operator": "IN", "value": list(options.categories)})
    if options.enabled is not None and products:
        _add(search, "enabled", {"operator": "=", "value": options.enabled})
    if options.updated_since is not None:
        _add(search, "updated", {"operator": ">", "value": akeneo_time(options.updated_since)})
    for prop, conditions in (options.search or {}).items():
        for condition in conditions:
            _add(search, prop, dict(condition))
    return search


def _add(search: dict[str, list[dict[str, Any]]], prop: str, condition: dict[str, Any]) -> None:
    search.setdefault(prop, []).append(condition)


def _listed(
    options: PullOptions,
    resource: str,
    entity: RowEntity,
    search: dict[str, list[dict[str, Any]]],
    phase: int,
) -> list[Listing]:
    params = {"pagination_type": "search_after"}
    if options.locales:
        params["locales"] = ",".join(options.locales)
    if options.attributes:
        params["attributes"] = ",".join(options.attributes)
    if options.partitions:
        slices = []
        for part in options.partitions:
            piece = {prop: list(conditions) for prop, conditions in search.items()}
            for prop, conditions in part.items():
                for condition in conditions:
                    _add(piece, prop, dict(condition))
            slices.append(piece)
    else:
        slices = [search]
    if not options.identifiers:
        return [Listing(resource, entity, _with_search(params, piece), phase) for piece in slices]
    out = []
    codes = list(dict.fromkeys(options.identifiers))
    for piece in slices:
        for start in range(0, len(codes), IDENTIFIERS_PER_SEARCH):
            chunk = codes[start : start + IDENTIFIERS_PER_SEARCH]
            ask = {**piece, "identifier": [{"operator": "IN", "value": chunk}]}
            out.append(Listing(resource, entity, _with_search(params, ask), phase))
    return out


def _with_search(params: dict[str, str], search: dict[str, Any]) -> dict[str, str]:
    return {**params, "search": orjson.dumps(search).decode()} if search else dict(params)


def akeneo_time(moment: Any) -> str:
    """A datetime as Akeneo's date filters read it: ``Y-m-d H:i:s``, in UTC when it has
    a time zone.

    >>> from datetime import datetime, timezone, timedelta
    >>> akeneo_time(datetime(2026, 3, 1, 12, 30, tzinfo=timezone(timedelta(hours=2))))
    '2026-03-01 10:30:00'
    """
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return str(moment.strftime("%Y-%m-%d %H:%M:%S"))


# --- reading ahead -----------------------------------------------------------------------

_DONE = object()


class _Failed:
    __slots__ = ("error",)

    def __init__(self, error: BaseException) -> None:
        self.error = error


def read_ahead(pages: Iterator[T], depth: int = READ_AHEAD) -> Iterator[T]:
    """``pages``, each fetched while the caller works on the one before.

    A failure of the reader is raised where the caller reads the next page; a caller
    that stops early stops the reader (after the page it is fetching).
    """
    return read_side_by_side([lambda: pages], workers=1, depth=depth)


def read_side_by_side(
    sources: Sequence[Callable[[], Iterator[T]]], *, workers: int, depth: int = READ_AHEAD
) -> Iterator[T]:
    """The pages of every source, read by ``workers`` threads (each source by one).

    One worker reads the sources one after the other, in order; more read several at
    once and hand the pages over as they come. At most ``depth`` pages per worker wait.
    """
    workers = max(1, min(workers, len(sources)))
    if not sources:
        return iter(())
    handoff: queue.Queue[object] = queue.Queue(maxsize=max(1, depth) * workers)
    stop = threading.Event()
    todo: queue.Queue[Callable[[], Iterator[T]]] = queue.Queue()
    for source in sources:
        todo.put(source)

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                handoff.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def work() -> None:
        try:
            while not stop.is_set():
                try:
                    source = todo.get_nowait()
                except queue.Empty:
                    break
                for page in source():
                    if not put(page):
                        return
        except BaseException as exc:  # handed to the caller, raised there
            put(_Failed(exc))
            return
        put(_DONE)

    threads = [
        threading.Thread(target=work, name=f"feed_export-pull-{i}", daemon=True)
        for i in range(workers)
    ]
    for thread in threads:
        thread.start()
    return _drain(handoff, stop, threads)


def _drain(
    handoff: queue.Queue[object], stop: threading.Event, threads: list[threading.Thread]
) -> Iterator[Any]:
    running = len(threads)
    try:
        while running:
            item = handoff.get()
            if item is _DONE:
                running -= 1
            elif isinstance(item, _Failed):
                raise item.error
            else:
                yield item
    finally:
        stop.set()
        for thread in threads:
            while thread.is_alive():
                with contextlib.suppress(queue.Empty):  # a blocked reader sees the stop flag
                    handoff.get_nowait()
                thread.join(timeout=0.05)
