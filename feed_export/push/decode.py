"""Row -> one product (or product model) JSON line, or a line error naming every bad cell.

``RowDecoder`` compiles a ``FeedLayout`` once into flat per-column plans (index, header,
the column's codec, where the data goes), so decoding a row is one loop over the columns
(``_decode_columns``): a blank check and at most one codec call per cell, then one
``orjson.dumps``. (A function generated per layout with the loop unrolled was measured
against this loop and removed: see docs/DECISIONS.md.)

The line: the identifier field first (``identifier``, ``uuid`` or ``code``), then the
other fields in feed column order, then ``values`` (attributes in the order the feed
first names them, catalog spelling, ``{"locale", "scope", "data"}`` each), then
``associations`` and ``quantified_associations``. The order is stable, so golden files
are too.

Decisions where the contract is silent:

- A ragged row is a line error, ``row has N cells but the header has M``: more
  non-blank cells than headers, or fewer cells than headers. A short row usually means a
  broken quote or a lost delimiter, and reading its missing cells as empty would send a
  shifted or partial product (or, with ``--empty-cells erase``, erase values). Extra
  cells that are all blank (trailing delimiters) are ignored.
- A ragged row gets only that problem: its cells are shifted, so judging them one by
  one would only add noise.
- ``--empty-cells erase`` erases values (``null``, ``[]`` for list types), ``family`` and
  ``parent`` (``null``), ``categories``, ``groups`` and associations (``[]``). It never
  touches ``enabled`` (Akeneo refuses ``null``), ``family_variant``, ``uuid`` or
  ``add_categories`` / ``remove_categories`` (nothing to erase): their empty cells say
  nothing.
- An empty-header column the header check could not see the data of must stay empty:
  a value under it is a line error.
- Mixed feeds (an ``entity`` column): each row is decoded as a product or a product
  model by its ``entity`` cell (``product`` / ``product_model``, any case, ``-`` or
  space for ``_``, a plural ``s`` tolerated); a cell that does not apply to the row's
  entity (``code`` on a product row, ``enabled`` on a model row...) must be empty.
- File and image cells: a media-file code in Akeneo's form (``a/b/c/d/<40 hex>_name``)
  goes in the line as it is; an ``http(s)`` URL or a path (relative to the feed's
  folder) is left out of the line and handed to the media stage as a ``MediaRef``.
- Asset collection cells (``catalog.asset_codecs``): asset codes go in the line as they
  are; a URL or a path is a file that becomes an asset before the line is sent
  (``AssetRef``, made by ``push.assets``): its code, named in feed order by the run's
  ``AssetNames`` (from the file name, unique in the family), goes in the line in the
  cell's order. An assets feed's rows (``--entity assets``) are assets: values with
  ``channel`` instead of ``scope``; a media file named by URL or path is uploaded first,
  and the line shows its source until its code replaces it.
- Associations are serialised last, so the line can be cut in two: the product
  without them (first pass) and ``{key, associations, quantified_associations}``
  (second pass, once every product exists); see ``first_pass`` / ``second_pass``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Final, Literal, Protocol

import orjson

from feed_export.catalog.asset_codecs import (
    ASSET_CODE,
    AssetFile,
    asset_collection_codec,
    asset_value_codec,
    code_from_name,
    file_name,
)
from feed_export.catalog.codecs import (
    EMPTY,
    ERASABLE_FIELDS,
    LIST_TYPES,
    MEDIA_TYPES,
    UUID,
    association_codec,
    check_media_name,
    code_codec,
    erase_data,
    field_codec,
    limited_identifier_converter,
    media_extensions,
    media_source,
    quantified_codec,
    quote,
    value_codec,
)
from feed_export.catalog.layout import Column, FeedLayout
from feed_export.config import IDENTIFIER_FIELD, Entity, ExportOptions
from feed_export.errors import CellError
from feed_export.feed.headers import ENTITY_FIELDS
from feed_export.feed.reader import Row

if TYPE_CHECKING:
    from feed_export.catalog.checks import CatalogChecks
    from feed_export.catalog.structure import Catalog

MAX_LINE_BYTES: Final = 1_000_000

_KEEP: Final = object()  # "an empty cell here says nothing", even under --empty-cells erase

Converter = Callable[[str], Any]


@dataclass(frozen=True, slots=True)
class MediaRef:
    """A file or image cell naming a file to fetch and upload (a URL or a relative path)."""

    attribute: str  # catalog spelling
    locale: str | None
    scope: str | None
    source: str  # the URL or the path, trimmed
    kind: Literal["url", "path"]
    header: str  # the column, as messages name it
    allowed_extensions: frozenset[str]  # lower case, no dot; empty: any
    max_bytes: int | None  # the attribute's max_file_size (MB) in bytes; None: no limit
    image: bool  # pim_catalog_image (else pim_catalog_file)


@dataclass(frozen=True, slots=True)
class AssetRef:
    """A file a row names that becomes an asset of the PIM before the row's line is sent.

    ``mode`` ``asset``: an item of an asset collection cell; the asset ``code`` is in the
    line's ``attribute`` value (``locale``, ``scope``), and the file becomes that asset's
    main media (``link``: a ``media_link`` main media, whose value is ``link`` itself;
    nothing is fetched). ``mode`` ``media``: an assets feed's main media cell; the file is
    uploaded and its media-file code becomes the line's value (``scope`` is the channel).
    ``named``: the feed named the code (``code=URL``); else it comes from the file name.
    """

    mode: Literal["asset", "media"]
    family: str  # catalog spelling
    code: str
    named: bool
    file: MediaRef  # source, kind, header; the main media's extensions and size limit
    attribute: str  # where the result goes in the line (catalog spelling)
    locale: str | None
    scope: str | None
    link: str | None = None  # a media_link main media: the value's data


@dataclass(frozen=True, slots=True)
class ProductLine:
    """One line to send: its row, its key as sent, its JSON body (no trailing newline).

    ``body`` is the whole line, as a dry run shows it. The other fields are for the
    planner and the media stage: ``entity`` (where the line goes; None: the run's
    ``--entity``), ``parent`` (the parent model's code), ``links_at`` (where the
    associations start in ``body``; 0: none; see ``link_targets``) and ``media`` (files
    to fetch after the line is saved).
    """

    row: int
    key: str
    body: bytes
    entity: Entity | None = None
    parent: str | None = None
    links_at: int = 0
    media: tuple[MediaRef, ...] = ()
    #: values the PIM will drop without a word (``catalog.checks``): "<column> not kept: why"
    notes: tuple[str, ...] = ()
    #: files to turn into assets (or upload) before the line is sent
    assets: tuple[AssetRef, ...] = ()


class AssetNames(Protocol):
    """Names the assets made from files (``assets.AssetNamer``: unique, stable)."""

    def code(self, family: str, ref: MediaRef) -> str: ...

    def claim(self, family: str, source: str, code: str) -> None: ...

    def source_of(self, ref: MediaRef) -> str: ...


class _FileNames:
    """Names from file names alone (a decoder given no ``AssetNames``)."""

    def code(self, family: str, ref: MediaRef) -> str:
        return code_from_name(file_name(ref.source, ref.kind))

    def claim(self, family: str, source: str, code: str) -> None:
        pass

    def source_of(self, ref: MediaRef) -> str:
        return ref.source


@dataclass(frozen=True, slots=True)
class _AssetCell:
    """A cell whose files become assets: its data as the line carries it, and its files."""

    data: Any
    refs: tuple[AssetRef, ...]


def state_payload(line: ProductLine) -> bytes:
    """What says "this row changed" (for ``--only-changed``): the body and its files' sources.

    A URL or path is not in the body (the media stage sends the file), so a row whose
    only change is its picture's URL must still look changed.
    """
    if not line.media and not line.assets:
        return line.body
    files = [[m.header, m.source] for m in line.media]
    files += [[a.file.header, a.file.source] for a in line.assets]
    return line.body + b"\n" + orjson.dumps(files)


def line_entity(line: ProductLine, default: Entity) -> Entity:
    """Where ``line`` goes: its own entity, else the run's."""
    return line.entity or default


def first_pass(line: ProductLine) -> bytes:
    """The line without its associations (the whole line when it has none)."""
    if not line.links_at:
        return line.body
    return line.body[: line.links_at] + b"}"


def second_pass(line: ProductLine, entity: Entity) -> bytes | None:
    """``{key, associations...}`` for the second pass, or None when the line has none."""
    if not line.links_at:
        return None
    key = orjson.dumps({IDENTIFIER_FIELD[entity]: line.key})
    return key[:-1] + line.body[line.links_at :]


def link_targets(line: ProductLine) -> tuple[tuple[str, str], ...]:
    """The products and product models the line's associations name, in order.

    Each is ``("products", code)`` or ``("product_models", code)``; groups are left out.
    Read from the line itself, so a dry run never pays for it.
    """
    if not line.links_at:
        return ()
    links = orjson.loads(b"{" + line.body[line.links_at + 1 :])
    found: dict[tuple[str, str], None] = {}
    for section, types in links.items():
        for targets in types.values():
            if not isinstance(targets, dict):
                continue
            for kind, items in targets.items():
                if kind == "groups" or not isinstance(items, list):
                    continue
                group = "product_models" if kind == "product_models" else "products"
                for item in items:
                    code = item if section == "associations" else _item_key(item)
                    if isinstance(code, str) and code:
                        found[(group, code)] = None
    return tuple(found)


def _item_key(item: Any) -> Any:
    if isinstance(item, dict):
        return item.get("identifier") or item.get("uuid")
    return None


@dataclass(frozen=True, slots=True)
class LineError:
    """A row that is not sent, with every problem found in it."""

    row: int
    problems: tuple[str, ...]  # each "<header>: <what is wrong, and the value>"
    #: the column (0-based) of each problem, parallel to ``problems``; -1: the whole row
    columns: tuple[int, ...] = ()

    @property
    def message(self) -> str:
        return "Not sent: " + "; ".join(self.problems)


def _label(column: Column) -> str:
    """How a line error names a column: its header, trimmed."""
    return column.header.strip().lstrip("\ufeff").strip() or f"column {column.index + 1}"


_ENTITY_WORDS: Final[dict[str, Entity]] = {
    "product": "products",
    "products": "products",
    "product_model": "product-models",
    "product_models": "product-models",
    "model": "product-models",
    "models": "product-models",
}

_ValuePlan = tuple[
    int, str, str, Converter | None, Any, dict[str, Any], list[dict[str, Any]] | None, bool
]
_LinkPlan = tuple[int, str, str, str, str, Converter, Any]


class _Plan:
    """How rows of one entity are decoded: flat per-column tuples, built once."""

    __slots__ = (
        "checks",
        "entity",
        "fields",
        "foreign",
        "key_convert",
        "key_field",
        "key_header",
        "key_index",
        "links",
        "values",
    )

    def __init__(
        self,
        entity: Entity,
        key: Column,
        columns: list[Column],
        foreign: list[tuple[int, str]],
        layout: FeedLayout,
        options: ExportOptions,
        rules: CatalogChecks | None = None,
        names: AssetNames | None = None,
    ) -> None:
        catalog = layout.catalog
        erase = options.empty_cells == "erase"
        self.entity: Entity = entity
        self.key_index = key.index
        self.key_header = _label(key)
        self.key_field = IDENTIFIER_FIELD[entity]
        self.key_convert: Converter = {
            # the identifier attribute's limit holds for the identifier field too: checked
            # here rather than refused by the PIM after sending
            "identifier": limited_identifier_converter(catalog.identifier_attribute),
            "uuid": UUID.decode,
        }.get(self.key_field, code_codec(options).decode)
        if entity == "assets":
            self.key_convert = ASSET_CODE.decode
        self.foreign = tuple(foreign)

        fields: list[tuple[int, str, str, Converter, Any]] = []
        values: list[_ValuePlan] = []
        checks: list[tuple[int, str]] = []
        links: list[_LinkPlan] = []
        codes_seen = [c.name for c in columns if c.kind in ("value", "asset_value")]
        for column in columns:
            if column.kind == "field":
                erased = ERASABLE_FIELDS.get(column.name, _KEEP) if erase else _KEEP
                convert_field = field_codec(column.name, options).decode
                if rules is not None:  # codes the catalog knows: checked, its spelling out
                    convert_field = rules.field(column, convert_field)
                fields.append((column.index, _label(column), column.name, convert_field, erased))
            elif column.kind == "value":
                attribute = column.attribute
                assert attribute is not None
                erased = erase_data(attribute) if erase else _KEEP
                # one value object per column, reused row after row: its "data" is set,
                # the line serialised, and nothing keeps a reference past decode()
                entry: dict[str, Any] = {
                    "locale": column.locale,
                    "scope": column.scope,
                    "data": None,
                }
                alone = [entry] if codes_seen.count(column.name) == 1 else None
                convert: Converter | None = None  # None: the cell goes as read
                if attribute.type in MEDIA_TYPES:
                    convert = _media_converter(column)
                elif attribute.type == ASSET_COLLECTION:
                    convert = _asset_converter(column, catalog, options, names or _FileNames())
                else:
                    codec = value_codec(attribute, catalog, options)
                    if not codec.as_read:
                        convert = codec.decode
                if rules is not None:  # select options the catalog lists
                    convert = rules.value(column, convert)
                # only list types can hold nothing but separators (EMPTY), only files a
                # URL or a path (MediaRef): the other columns skip both tests
                special = attribute.type in LIST_TYPES or attribute.type in MEDIA_TYPES
                values.append(
                    (
                        column.index,
                        _label(column),
                        column.name,
                        convert,
                        erased,
                        entry,
                        alone,
                        special,
                    )
                )
            elif column.kind == "asset_value":  # an assets feed
                values.append(_asset_value(column, codes_seen, catalog, options, erase))
            elif column.kind == "identifier_check":
                checks.append((column.index, _label(column)))
            elif column.kind in ("association", "quantified_association"):
                links.append(_link(column, entity, options, erase))
        self.fields = tuple(fields)
        self.values = tuple(values)
        self.checks = tuple(checks)
        self.links = tuple(links)


def _decode_columns(
    fields: tuple[tuple[int, str, str, Converter, Any], ...],
    value_plans: tuple[_ValuePlan, ...],
    cells: tuple[str, ...],
    body: dict[str, Any],
    problems: list[tuple[int, str]],
) -> tuple[dict[str, list[dict[str, Any]]], list[MediaRef | AssetRef] | None]:
    """The fields (into ``body``) and the values of one row, with every problem found.

    The usual path goes first: a cell that is not blank, its codec's data, stored in the
    column's value object (reused row after row) under its attribute code.
    """
    for index, header, name, convert, erased in fields:
        cell = cells[index]
        if not cell or cell.isspace():
            if erased is not _KEEP:
                body[name] = erased
            continue
        try:
            data = convert(cell)
        except CellError as exc:
            problems.append((index, f"{header}: {exc}"))
            continue
        if data is EMPTY:
            if erased is not _KEEP:
                body[name] = erased
            continue
        body[name] = data

    values: dict[str, list[dict[str, Any]]] = {}
    media: list[MediaRef | AssetRef] | None = None
    for index, header, code, convert_value, erased, entry, alone, special in value_plans:
        cell = cells[index]
        if cell and not cell.isspace():
            if convert_value is None:
                data = cell
            else:
                try:
                    data = convert_value(cell)
                except CellError as exc:
                    problems.append((index, f"{header}: {exc}"))
                    continue
                if special:
                    if data is EMPTY:
                        if erased is _KEEP:
                            continue
                        data = erased
                    elif data.__class__ is MediaRef:
                        # fetched and uploaded once the line is saved
                        if media is None:
                            media = [data]
                        else:
                            media.append(data)
                        continue
                    elif data.__class__ is _AssetCell:
                        # files made assets (or uploaded) before the line goes
                        if media is None:
                            media = []
                        media.extend(data.refs)
                        data = data.data
        elif erased is _KEEP:
            continue
        else:
            data = erased
        entry["data"] = data
        if alone is not None:
            values[code] = alone
        else:
            same = values.get(code)
            if same is None:
                values[code] = [entry]
            else:
                same.append(entry)
    return values, media


def _link(column: Column, entity: Entity, options: ExportOptions, erase: bool) -> _LinkPlan:
    target = column.target or "products"
    by_uuid = target == "product_uuids" or (entity == "products-uuid" and target == "products")
    if column.kind == "quantified_association":
        section = "quantified_associations"
        convert = quantified_codec(options, key="uuid" if by_uuid else "identifier").decode
    else:
        section = "associations"
        convert = association_codec(options, uuids=by_uuid).decode
    return (
        column.index,
        _label(column),
        section,
        column.name,
        target,
        convert,
        [] if erase else _KEEP,
    )


def _media_converter(column: Column) -> Converter:
    """A file or image cell -> its media-file code, or a ``MediaRef`` to fetch later."""
    attribute = column.attribute
    assert attribute is not None
    allowed = media_extensions(attribute)
    header = _label(column)
    max_bytes: int | None = None
    if attribute.max_file_size:
        try:
            size = float(attribute.max_file_size)
        except ValueError:
            size = 0.0
        if size > 0:
            max_bytes = int(size * 1024 * 1024)
    image = attribute.type == "pim_catalog_image"

    def convert(cell: str) -> str | MediaRef:
        kind, text = media_source(cell)
        if kind == "code":
            check_media_name(text, allowed, cell)
            return text
        if kind == "path":
            check_media_name(text.replace("\\", "/"), allowed, cell)
        return MediaRef(
            attribute.code,
            column.locale,
            column.scope,
            text,
            kind,
            header,
            allowed,
            max_bytes,
            image,
        )

    return convert


ASSET_COLLECTION: Final = "pim_catalog_asset_collection"


def _max_bytes(max_file_size: str | None) -> int | None:
    """An attribute's ``max_file_size`` (MB) in bytes; None: no limit."""
    if not max_file_size:
        return None
    try:
        size = float(max_file_size)
    except ValueError:
        return None
    return int(size * 1024 * 1024) if size > 0 else None


def _asset_converter(
    column: Column, catalog: Catalog, options: ExportOptions, names: AssetNames
) -> Converter:
    """An asset collection cell -> its codes, with the files that become assets."""
    attribute = column.attribute
    assert attribute is not None
    decode = asset_collection_codec(attribute, catalog, options).decode
    family = attribute.reference_data_name or ""
    found = catalog.asset_family(family)
    family = found.code if found is not None else family
    main = catalog.main_media(family)
    header = _label(column)
    allowed = frozenset(e.lower().lstrip(".") for e in main.allowed_extensions) if main else ()
    max_bytes = _max_bytes(main.max_file_size) if main else None
    image = main is not None and main.media_type == "image"
    main_code = main.code if main is not None else ""

    def convert(cell: str) -> Any:
        items = decode(cell)
        if items is EMPTY or all(item.__class__ is str for item in items):
            return items
        codes: list[str] = []
        refs: list[AssetRef] = []
        for item in items:
            if item.__class__ is not AssetFile:
                codes.append(item)
                continue
            file = MediaRef(
                main_code, None, None, item.source, item.kind, header, frozenset(allowed),
                max_bytes, image,
            )  # fmt: skip
            if item.code is not None:
                code = item.code
                names.claim(family, names.source_of(file), code)
            else:
                code = names.code(family, file)
            if code not in codes:
                codes.append(code)
            refs.append(
                AssetRef(
                    "asset",
                    family,
                    code,
                    item.code is not None,
                    file,
                    attribute.code,
                    column.locale,
                    column.scope,
                    item.link,
                )
            )
        return _AssetCell(codes, tuple(refs))

    return convert


def _asset_value(
    column: Column,
    codes_seen: list[str],
    catalog: Catalog,
    options: ExportOptions,
    erase: bool,
) -> _ValuePlan:
    """The plan of an assets feed's column: a value of the asset family's attribute."""
    attribute = column.asset_attribute
    assert attribute is not None
    listed = attribute.type in ("multiple_options", "asset_family_multiple_links")
    erased: Any = ([] if listed else None) if erase else _KEEP
    entry: dict[str, Any] = {"locale": column.locale, "channel": column.scope, "data": None}
    alone = [entry] if codes_seen.count(column.name) == 1 else None
    codec = asset_value_codec(attribute, catalog, options)
    convert: Converter | None = None if codec.as_read else codec.decode
    special = listed
    if attribute.type == "media_file":
        special = True
        header = _label(column)
        family = options.asset_family or ""
        found = catalog.asset_family(family)
        family = found.code if found is not None else family
        allowed = frozenset(e.lower().lstrip(".") for e in attribute.allowed_extensions)
        max_bytes = _max_bytes(attribute.max_file_size)
        image = attribute.media_type == "image"
        decode = codec.decode

        def convert_media(cell: str) -> Any:
            data = decode(cell)
            if data.__class__ is not AssetFile:
                return data
            file = MediaRef(
                attribute.code, None, None, data.source, data.kind, header, allowed, max_bytes,
                image,
            )  # fmt: skip
            # the row's asset code is set once the row is decoded; the line shows the
            # source until the file's code replaces it
            ref = AssetRef(
                "media", family, "", True, file, attribute.code, column.locale, column.scope
            )
            return _AssetCell(data.source, (ref,))

        convert = convert_media
    return (column.index, _label(column), column.name, convert, erased, entry, alone, special)


class RowDecoder:
    """Decodes rows of one feed; build once per feed, call ``decode`` per row."""

    def __init__(
        self,
        layout: FeedLayout,
        options: ExportOptions,
        *,
        checks: CatalogChecks | None = None,
        assets: AssetNames | None = None,
    ) -> None:
        """``checks``: the PIM's rules the catalog answers (``catalog.checks``), run on every
        row; None decodes without them. ``assets``: names the assets made from files
        (None: from their file names alone)."""
        self.layout = layout
        self._row_check = checks.row if checks is not None and checks.per_row else None
        self._width = layout.width
        self._blank_unchecked = layout.blank_unchecked
        # how problems name the decoded columns (a flawed cell elsewhere is never sent)
        self._labels = {column.index: _label(column) for column in layout.columns}
        entity: Entity = options.entity
        columns = list(layout.columns)
        self._entity_index: int | None = None
        self._entity_header = ""
        if layout.entity_column is None:
            plan = _Plan(entity, layout.key, columns, [], layout, options, checks, assets)
            self._plans: dict[Entity, _Plan] = {entity: plan}
            self._plan = plan
            return
        # a mixed feed: one plan per entity, each refusing the other's cells
        assert layout.model_key is not None
        self._entity_index = layout.entity_column.index
        self._entity_header = _label(layout.entity_column)
        ident = layout.catalog.identifier_attribute
        product_columns: list[Column] = []
        model_columns: list[Column] = []
        product_foreign: list[tuple[int, str]] = []
        model_foreign: list[tuple[int, str]] = []
        product_fields = ENTITY_FIELDS[entity]
        model_fields = ENTITY_FIELDS["product-models"]
        for column in columns:
            kind = column.kind
            for_products = kind not in ("model_key", "entity") and (
                kind != "field" or column.name in product_fields
            )
            for_models = kind not in ("key", "identifier_check", "entity") and (
                kind != "field" or column.name in model_fields
            )
            if kind == "value" and column.attribute is not None and column.attribute is ident:
                for_models = False  # the identifier attribute belongs to products
            if for_products:
                product_columns.append(column)
            elif kind != "entity":
                product_foreign.append((column.index, _label(column)))
            if for_models:
                model_columns.append(column)
            elif kind != "entity":
                model_foreign.append((column.index, _label(column)))
        self._plan = _Plan(
            entity, layout.key, product_columns, product_foreign, layout, options, checks, assets
        )
        model_plan = _Plan(
            "product-models",
            layout.model_key,
            model_columns,
            model_foreign,
            layout,
            options,
            checks,
            assets,
        )
        self._plans = {entity: self._plan, "product-models": model_plan}

    def decode(self, row: Row) -> ProductLine | LineError:
        """The line for ``row``, or every problem that keeps it from being sent."""
        cells = row.cells
        width = self._width
        if len(cells) != width:
            ragged = self._ragged(cells)
            if ragged is not None:
                return LineError(row.number, (ragged,), (-1,))
        plan = self._plan
        problems: list[tuple[int, str]] = []  # (column, problem): reported in column order
        if self._entity_index is not None:
            chosen = self._choose(cells, problems)
            if chosen is None:
                return LineError(
                    row.number,
                    tuple(problem for _, problem in problems),
                    tuple(index for index, _ in problems),
                )
            plan = chosen
        raw_key = cells[plan.key_index]
        key = ""
        if not raw_key or raw_key.isspace():
            problems.append((plan.key_index, f"{plan.key_header}: is empty; every row needs one"))
        else:
            try:
                key = plan.key_convert(raw_key)
            except CellError as exc:
                problems.append((plan.key_index, f"{plan.key_header}: {exc}"))
        body: dict[str, Any] = {plan.key_field: key}
        values, media = _decode_columns(plan.fields, plan.values, cells, body, problems)
        if values:
            body["values"] = values

        for index, header in plan.checks:
            cell = cells[index].strip()
            if cell and key and cell != key:
                problems.append(
                    (
                        index,
                        f"{header}: differs from {plan.key_header} {quote(key)}, got "
                        f"{quote(cell)}; the identifier column wins in Akeneo, so make them "
                        "equal or drop one",
                    )
                )

        links: dict[str, Any] = {}
        for index, header, section, kind, target, convert, erased in plan.links:
            cell = cells[index]
            if not cell or cell.isspace():
                if erased is _KEEP:
                    continue
                data = erased
            else:
                try:
                    data = convert(cell)
                except CellError as exc:
                    problems.append((index, f"{header}: {exc}"))
                    continue
                if data is EMPTY:
                    if erased is _KEEP:
                        continue
                    data = erased
            links.setdefault(section, {}).setdefault(kind, {})[target] = data

        for index in self._blank_unchecked:
            if index < len(cells) and cells[index].strip():
                problems.append(
                    (
                        index,
                        f"column {index + 1} (no header): has a value but no header, "
                        f"{quote(cells[index])}; name the column or empty it",
                    )
                )
        if plan.foreign:
            what = "product_model" if plan.entity == "product-models" else "product"
            for index, header in plan.foreign:
                cell = cells[index]
                if cell and not cell.isspace():
                    problems.append(
                        (
                            index,
                            f"{header}: does not apply to a {what} row; leave it empty, got "
                            f"{quote(cell)}",
                        )
                    )

        notes: tuple[str, ...] = ()
        if self._row_check is not None:
            notes = self._row_check(plan.entity, body, problems)
        if row.flaws:
            # a cell whose text is not its value (an Excel error, a formula never saved):
            # its own problem replaces whatever its text would have caused
            flawed = {i: f"{self._labels[i]}: {what}" for i, what in row.flaws if i in self._labels}
            problems = [found for found in problems if found[0] not in flawed]
            problems.extend(flawed.items())
        if problems:
            problems.sort(key=lambda found: found[0])
            return LineError(
                row.number,
                tuple(problem for _, problem in problems),
                tuple(index for index, _ in problems),
            )
        links_at = 0
        if links:
            base = orjson.dumps(body)
            # the associations go last: cutting the line there gives the first pass
            links_at = len(base) - 1
            line = base[:-1] + b"," + orjson.dumps(links)[1:]
        else:
            line = orjson.dumps(body)
        if len(line) > MAX_LINE_BYTES:
            return LineError(
                row.number,
                (
                    f"row: the product line is {len(line):,} bytes, over the PIM's limit of "
                    f"{MAX_LINE_BYTES:,} bytes per line; shorten the longest texts or tables",
                ),
                (-1,),
            )
        parent = body.get("parent")
        files: tuple[MediaRef, ...] = ()
        assets: tuple[AssetRef, ...] = ()
        if media:
            files = tuple(m for m in media if isinstance(m, MediaRef))
            assets = tuple(
                # an assets feed's own media: its asset is the row's
                m if m.mode == "asset" else replace(m, code=key)
                for m in media
                if isinstance(m, AssetRef)
            )
        return ProductLine(
            row.number,
            key,
            line,
            plan.entity,
            parent if parent.__class__ is str and parent else None,
            links_at,
            files,
            notes,
            assets,
        )

    def key_of(self, row: Row) -> tuple[Entity, str] | None:
        """The entity and key of ``row`` alone (cheap: for ``planner.FeedIndex``), or None."""
        cells = row.cells
        plan: _Plan | None = self._plan
        if self._entity_index is not None:
            plan = self._choose(cells, []) if self._entity_index < len(cells) else None
        if plan is None or plan.key_index >= len(cells):
            return None
        raw = cells[plan.key_index]
        if not raw or raw.isspace():
            return None
        try:
            return plan.entity, plan.key_convert(raw)
        except CellError:
            return None

    def _choose(self, cells: tuple[str, ...], problems: list[tuple[int, str]]) -> _Plan | None:
        """The plan for a mixed feed's row, by its entity cell (None: a problem was added)."""
        index = self._entity_index
        assert index is not None
        cell = cells[index]
        word = cell.strip().lower().replace("-", "_").replace(" ", "_")
        if not word:
            problems.append(
                (index, f"{self._entity_header}: is empty; say product or product_model")
            )
            return None
        entity = _ENTITY_WORDS.get(word)
        if entity is None:
            problems.append(
                (
                    index,
                    f"{self._entity_header}: expected product or product_model, got {quote(cell)}",
                )
            )
            return None
        return self._plans.get(entity) or self._plan

    def _ragged(self, cells: tuple[str, ...]) -> str | None:
        width = self._width
        count = len(cells)
        if count > width:
            if not any(c.strip() for c in cells[width:]):
                return None  # trailing delimiters: nothing lost
            while count > width and not cells[count - 1].strip():
                count -= 1
            return (
                f"row has {count} cells but the header has {width}: an unquoted delimiter "
                "in a cell, or a value beyond the last column?"
            )
        return (
            f"row has {count} cells but the header has {width}: a broken quote or a missing "
            "delimiter?"
        )
