"""The validation pass: read the whole feed once before anything is sent, and learn from it.

``Feed.check`` proves the feed can be read to its end; while it reads, this module takes
what the push needs to know up front, so the feed is read once here and once to send:

- which columns under an empty header hold data (a column with data needs a name);
- every key of the feed by entity (``planner.FeedIndex``), when rows may name each other
  (parents, association targets): a child then waits only for its own parent;
- where the feed's product model rows sit and which parents its rows name
  (``lineage.FeedModels``), when it has a parent or family variant column: the catalog
  checks know a parent defined anywhere in the feed.

Each is taken only when needed; otherwise the pass only validates.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from feed_export.catalog.asset_layout import resolve_asset_headers
from feed_export.catalog.layout import FeedLayout, resolve_headers
from feed_export.catalog.structure import Catalog
from feed_export.config import ExportOptions
from feed_export.errors import HeaderError
from feed_export.feed.reader import Feed, Row
from feed_export.push.decode import RowDecoder
from feed_export.push.lineage import FeedModels, FeedModelsBuilder, needs_models
from feed_export.push.planner import FeedIndex, IndexBuilder, needs_index
from feed_export.push.progress import CHECK_TICK


@dataclass(frozen=True, slots=True)
class Scan:
    """What the validation pass found: the layout (or the header's problems) and the index."""

    layout: FeedLayout | None
    problems: tuple[str, ...] = ()  # the header's problems when ``layout`` is None
    index: FeedIndex | None = None
    has_data: tuple[bool, ...] | None = None  # per column, when a header is empty
    rows: int | None = None  # data rows, blank ones included (when counted)
    models: FeedModels | None = None  # when rows may name product models


def scan_feed(
    feed: Feed,
    catalog: Catalog,
    options: ExportOptions,
    *,
    index: bool,
    count: bool = False,
    tick: Callable[[int], None] | None = None,
) -> Scan:
    """Run the validation pass of ``feed``; ``index``: build the key index if rows need it.

    ``count``: count the data rows (a progress bar's total), telling ``tick`` the count
    every ``CHECK_TICK`` rows.
    """
    header = feed.header
    blank = [i for i, h in enumerate(header) if not h.strip()]
    # an assets feed's header names its asset family's attributes
    resolve = resolve_asset_headers if options.entity == "assets" else resolve_headers
    try:
        # blank headers aside, the layout does not depend on the data: its keys do not
        layout: FeedLayout | None = resolve(feed.path.as_posix(), header, catalog, options)
    except HeaderError:
        layout = None
    builder = None
    models = None
    if layout is not None and ((index and needs_index(layout)) or needs_models(layout)):
        keys = RowDecoder(layout, options)  # keys only: no catalog checks
        if index and needs_index(layout):
            builder = IndexBuilder(keys)
        if needs_models(layout):
            models = FeedModelsBuilder(keys)
    seen = [False] * len(header)
    counted = 0

    def watch(row: Row) -> None:
        nonlocal counted
        if count:
            counted += 1
            if tick is not None and counted % CHECK_TICK == 0:
                tick(counted)
        cells = row.cells
        for i in blank:
            if not seen[i] and i < len(cells) and cells[i].strip():
                seen[i] = True
        if builder is not None:
            builder.add(row)
        if models is not None:
            models.add(row)

    feed.check(watch if blank or builder is not None or models is not None or count else None)
    rows = counted if count else None
    has_data = (
        tuple(True if h.strip() else seen[i] for i, h in enumerate(header)) if blank else None
    )
    if layout is None or has_data is not None:
        # again with what the data said, for every problem at once (blank headers included)
        try:
            layout = resolve(
                feed.path.as_posix(), header, catalog, options, column_has_data=has_data
            )
        except HeaderError as exc:
            return Scan(None, tuple(exc.problems), has_data=has_data, rows=rows)
    return Scan(
        layout,
        (),
        builder.index() if builder is not None else None,
        has_data,
        rows,
        models.build() if models is not None else None,
    )
