"""``run_pull()``: the PIM into a feed, the stages in order; the only module that knows that order.

check the output -> the list requests (``pages.listings``) -> log in and read the
catalog (the start-up: nothing is written if it fails) -> the columns
(``columns.pull_columns``) -> the file, written beside its target (``NAME.part.EXT``)
-> pages read with ``search_after``, the next read while the previous is written
(``pages``), each item's cells by the codecs (``rows``), variant rows with their own
values (``levels``), media files fetched (``media``) -> the file moved into place.

A pull that stops midway (the PIM failing after every retry, lost credentials, Ctrl-C)
leaves the target as it was: the file is only moved into place once whole.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from feed_export.catalog.structure import Catalog
from feed_export.config import PullOptions, Settings, pim_host
from feed_export.errors import (
    ConfigError,
    FeedExportError,
    RunAborted,
    StartupError,
    TransportError,
)
from feed_export.feed.table import FeedFormat
from feed_export.feed.writer import TableWriter, Target, check_writable, open_table, target_name
from feed_export.pull.columns import pull_columns
from feed_export.pull.levels import Levels
from feed_export.pull.media import MediaDownloads
from feed_export.pull.pages import Listing, RowEntity, listings, read_side_by_side
from feed_export.pull.rows import RowEncoder
from feed_export.report.pull import PullReport

if TYPE_CHECKING:
    from feed_export.akeneo.client import AkeneoClient

log = logging.getLogger(__name__)

LOGGING_IN = "logging in to the PIM"
READING_CATALOG = "reading the catalog"
COUNTING = "counting"
PULLING = "pulling"

#: a pulled feed's name says its format
_FORMATS = {
    ".csv": FeedFormat(kind="csv"),
    ".txt": FeedFormat(kind="csv"),
    ".tsv": FeedFormat(kind="csv", delimiter="\t"),
    ".tab": FeedFormat(kind="csv", delimiter="\t"),
    ".xlsx": FeedFormat(kind="xlsx"),
}


class PullProgress(Protocol):
    """A progress display: phases, and rows written in the current one."""

    def phase(self, name: str, total: int | None = None) -> None: ...

    def rows(self, done: int) -> None: ...


class RowSink(Protocol):
    """Where pulled rows go instead of a file (a DataFrame's rows): the header, then rows."""

    def start(self, header: Sequence[str]) -> None: ...

    def write(self, cells: Sequence[str]) -> None: ...


def output_format(target: Target | None) -> FeedFormat:
    """The format a pulled feed is written in, by its name: ``.csv``, ``.tsv``, ``.csv.gz``
    (``.tsv.gz``) or ``.xlsx``; a stream (standard output) gets CSV.

    >>> output_format(Path("out/feed.tsv.gz")).delimiter == "\\t"
    True
    """
    if not isinstance(target, Path):
        return FeedFormat(kind="csv")
    name = target.name.lower()
    suffix = Path(name.removesuffix(".gz")).suffix
    fmt = _FORMATS.get(suffix)
    if fmt is None or (name.endswith(".gz") and fmt.kind == "xlsx"):
        raise ConfigError(
            f"{target}: cannot tell the format from the name; name the file .csv, .tsv, "
            ".csv.gz or .xlsx"
        )
    return fmt


def run_pull(
    options: PullOptions,
    output: Target | None = None,
    *,
    sink: RowSink | None = None,
    settings: Settings | None = None,
    client: AkeneoClient | None = None,
    catalog: Catalog | None = None,
    progress: PullProgress | None = None,
    workers: int = 1,
    clock: Callable[[], float] = time.perf_counter,
) -> PullReport:
    """Pull products and/or product models into ``output`` (a path or a binary stream)
    or ``sink``; return what happened.

    The PIM is reached with ``settings`` (a client built and logged in here) or
    ``client`` (used as it is). ``catalog``: the PIM's structure, if already read (else
    read here). Raises ``ConfigError`` (a filter or column the catalog does not know, an
    output that cannot be written) and ``StartupError`` (the PIM cannot be reached, refuses
    the login, or its catalog cannot be read) before anything is written; a failure
    afterwards is the report's ``aborted`` (exit code 3) and the target is left as it
    was. ``workers`` > 1 reads that many lists side by side (rows then come in the order
    their pages arrive).
    """
    if (output is None) == (sink is None):
        raise ConfigError("a pull writes to an output or a sink: give exactly one")
    fmt = output_format(output) if sink is None else FeedFormat(kind="csv")
    if isinstance(output, Path):
        check_writable(output, "pulled feed", "--output")
    requests = listings(options)  # the filters, checked before the PIM is asked anything
    report = PullReport(output=target_name(output) if output is not None else Path("<rows>"))
    report.entity = options.entity
    started = clock()
    with ExitStack() as stack:
        if client is None:
            if settings is None:
                raise ConfigError("a pull needs PIM settings (or --sandbox)")
            from feed_export.akeneo.client import AkeneoClient

            client = AkeneoClient(settings)
            stack.callback(client.close)
            _phase(progress, LOGGING_IN)
            log_in(client)
        report.pim = pim_host(client.base_url)
        if catalog is None:
            _phase(progress, READING_CATALOG)
            catalog = read_pull_catalog(client)
        columns = pull_columns(catalog, options)
        report.columns = len(columns)
        folder = output.parent if isinstance(output, Path) else Path.cwd()
        media = None
        if options.download_media is not None:
            downloader = client
            media = MediaDownloads(
                lambda code, out, limit: downloader.download_media(code, out, limit=limit),
                options.download_media,
                folder,
                options.max_media_size * 1024 * 1024,
            )
        levels = Levels(catalog, lambda codes: client.product_models(codes))
        encoder = RowEncoder(columns, catalog, options, levels, media)
        header = [column.header for column in columns]
        try:
            if progress is not None:
                _phase(progress, COUNTING)
                report.total = _count(client, requests)
            _phase(progress, PULLING, report.total)
            with _Output(output, sink, fmt, header) as out:
                for entity, page in _pages(client, requests, workers):
                    report.pages += 1
                    if entity == "product_model":
                        levels.learn(page)
                        for item in page:
                            out.write(encoder.model(item))
                        report.product_models += len(page)
                    else:
                        if not options.with_parent_values:
                            levels.prepare(page)
                        for item in page:
                            out.write(encoder.product(item))
                        report.products += len(page)
                    if progress is not None:
                        progress.rows(report.rows)
                out.finish()
        except (TransportError, RunAborted) as exc:
            report.aborted = str(exc)
        finally:
            report.requests = client.stats.requests_sent
            report.retries = client.stats.retries
        report.left_out = encoder.left_out
        report.unwritable = encoder.unwritable
        report.warnings.extend(encoder.problems)
        for code in sorted(levels.unknown_variants):
            report.warnings.append(
                f"family variant {code} is not in the catalog: its rows hold every value"
            )
        if media is not None:
            report.media_downloaded = media.downloaded
            report.media_failed = media.failed
            report.warnings.extend(media.problems)
    report.seconds = clock() - started
    return report


def read_pull_catalog(client: AkeneoClient) -> Catalog:
    """What a pull's columns need: attributes, channels, locales, currencies, measurement
    families, families and their variants, association types. ``StartupError`` if it
    cannot be read."""
    try:
        data = client.fetch_catalog(
            None, families=True, family_variants=True, lists=["association_types"]
        )
        return Catalog.from_dict(data, source=f"the catalog of {pim_host(client.base_url)}")
    except TransportError as exc:
        raise StartupError(
            f"could not read the catalog of the PIM at {pim_host(client.base_url)}: {exc}"
        ) from exc


def log_in(client: AkeneoClient) -> None:
    """The client's quick login; ``StartupError`` when the PIM cannot be used."""
    try:
        client.authenticate(quick=True)
    except TransportError as exc:
        raise StartupError(str(exc)) from exc


def _phase(progress: PullProgress | None, name: str, total: int | None = None) -> None:
    if progress is not None:
        progress.phase(name, total)


def _count(client: AkeneoClient, requests: Sequence[Listing]) -> int | None:
    """How many rows the lists hold, if the PIM says (a progress bar's total)."""
    total = 0
    for listing in requests:
        params = {k: v for k, v in listing.params.items() if k == "search"}
        try:
            count = client.count_items(listing.resource, params)
        except TransportError as exc:
            log.info("no total for the progress: %s", exc)
            return None
        if count is None:
            return None
        total += count
    return total


def _pages(
    client: AkeneoClient, requests: Sequence[Listing], workers: int
) -> Iterator[tuple[RowEntity, list[dict[str, Any]]]]:
    """Every page of every list, phase after phase, read ahead of the writer."""

    def source(listing: Listing) -> Callable[[], Iterator[tuple[RowEntity, list[Any]]]]:
        def read() -> Iterator[tuple[RowEntity, list[Any]]]:
            for page in client.list_pages(listing.resource, listing.params):
                yield listing.entity, page

        return read

    phases = sorted({listing.phase for listing in requests})
    if workers <= 1:  # one reader, the lists in order: phases keep their order
        yield from read_side_by_side([source(r) for r in requests], workers=1)
        return
    for phase in phases:
        sources = [source(r) for r in requests if r.phase == phase]
        yield from read_side_by_side(sources, workers=workers)


class _Output:
    """The table a pull writes: a file written beside its target and moved into place when
    whole, a stream, or a sink."""

    def __init__(
        self, target: Target | None, sink: RowSink | None, fmt: FeedFormat, header: list[str]
    ) -> None:
        self._target = target
        self._sink = sink
        self._fmt = fmt
        self._header = header
        self._part: Path | None = None
        self._table: TableWriter | None = None
        self._done = False

    def __enter__(self) -> _Output:
        if self._sink is not None:
            self._sink.start(self._header)
            return self
        target = self._target
        assert target is not None
        if isinstance(target, Path):
            self._part = target.with_name(f"{target.stem}.part{target.suffix}")
            target = self._part
        self._table = open_table(target, self._fmt, self._header, what="pulled feed",
                                 flag="--output")  # fmt: skip
        return self

    def write(self, cells: Sequence[str]) -> None:
        if self._sink is not None:
            self._sink.write(cells)
        else:
            assert self._table is not None
            self._table.write(cells)

    def finish(self) -> None:
        """The pull went through: close the file and move it into place."""
        if self._table is not None:
            self._table.close()
        if self._part is not None and isinstance(self._target, Path):
            try:
                os.replace(self._part, self._target)
            except OSError as exc:
                raise FeedExportError(
                    f"{self._target}: cannot move the pulled feed into place: {exc.strerror or exc}"
                ) from exc
        self._done = True

    def __exit__(self, *exc: object) -> None:
        if self._done:
            return
        if self._table is not None:
            with contextlib.suppress(FeedExportError):  # the first error is the one to tell
                self._table.close()
        if self._part is not None:
            self._part.unlink(missing_ok=True)
