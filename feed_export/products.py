"""Row -> one product (or product model) JSON line, or a line error naming every bad cell.

``RowDecoder`` compiles a ``FeedLayout`` once into flat per-column plans (index, header,
converter, where the data goes), so decoding a row is a loop of tuple unpacking, a blank
check and at most one converter call per cell, then one ``orjson.dumps``.

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
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

import orjson

from feed_export.config import ExportOptions
from feed_export.errors import CellError
from feed_export.headers import Column, FeedLayout
from feed_export.reader import Row
from feed_export.values import (
    EMPTY,
    ERASABLE_FIELDS,
    association_converter,
    code_converter,
    erase_data,
    field_converter,
    identifier_converter,
    quantified_converter,
    quote,
    to_uuid,
    value_converter,
)

MAX_LINE_BYTES: Final = 1_000_000

_KEEP: Final = object()  # "an empty cell here says nothing", even under --empty-cells erase

Converter = Callable[[str], Any]


@dataclass(frozen=True, slots=True)
class ProductLine:
    """One line to send: its row, its key as sent, its JSON body (no trailing newline)."""

    row: int
    key: str
    body: bytes


@dataclass(frozen=True, slots=True)
class LineError:
    """A row that is not sent, with every problem found in it."""

    row: int
    problems: tuple[str, ...]  # each "<header>: <what is wrong, and the value>"

    @property
    def message(self) -> str:
        return "Not sent: " + "; ".join(self.problems)


def _label(column: Column) -> str:
    """How a line error names a column: its header, trimmed."""
    return column.header.strip().lstrip("\ufeff").strip() or f"column {column.index + 1}"


class RowDecoder:
    """Decodes rows of one feed; build once per feed, call ``decode`` per row."""

    def __init__(self, layout: FeedLayout, options: ExportOptions) -> None:
        self.layout = layout
        catalog = layout.catalog
        erase = options.empty_cells == "erase"
        self._width = layout.width
        key = layout.key
        self._key_index = key.index
        self._key_header = _label(key)
        self._key_field = options.identifier_field
        self._key_convert: Converter = {
            "identifier": identifier_converter,
            "uuid": to_uuid,
        }.get(self._key_field, code_converter(options))

        fields: list[tuple[int, str, str, Converter, Any]] = []
        values: list[
            tuple[int, str, str, Converter | None, Any, dict[str, Any], list[dict[str, Any]] | None]
        ] = []
        checks: list[tuple[int, str]] = []
        links: list[tuple[int, str, str, str, str, Converter, Any]] = []
        value_columns = [c for c in layout.columns if c.kind == "value"]
        codes_seen = [c.name for c in value_columns]
        for column in layout.columns:
            if column.kind == "field":
                erased = ERASABLE_FIELDS.get(column.name, _KEEP) if erase else _KEEP
                fields.append(
                    (
                        column.index,
                        _label(column),
                        column.name,
                        field_converter(column.name, options),
                        erased,
                    )
                )
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
                values.append(
                    (
                        column.index,
                        _label(column),
                        column.name,
                        value_converter(attribute, catalog, options),
                        erased,
                        entry,
                        alone,
                    )
                )
            elif column.kind == "identifier_check":
                checks.append((column.index, _label(column)))
            elif column.kind in ("association", "quantified_association"):
                links.append(self._link(column, options, erase))
        self._fields = tuple(fields)
        self._values = tuple(values)
        self._checks = tuple(checks)
        self._links = tuple(links)
        self._blank_unchecked = layout.blank_unchecked

    def _link(
        self, column: Column, options: ExportOptions, erase: bool
    ) -> tuple[int, str, str, str, str, Converter, Any]:
        target = column.target or "products"
        by_uuid = target == "product_uuids" or (
            self.layout.entity == "products-uuid" and target == "products"
        )
        if column.kind == "quantified_association":
            section = "quantified_associations"
            convert = quantified_converter(options, key="uuid" if by_uuid else "identifier")
        else:
            section = "associations"
            convert = association_converter(options, uuids=by_uuid)
        return (
            column.index,
            _label(column),
            section,
            column.name,
            target,
            convert,
            [] if erase else _KEEP,
        )

    def decode(self, row: Row) -> ProductLine | LineError:
        """The line for ``row``, or every problem that keeps it from being sent."""
        cells = row.cells
        width = self._width
        if len(cells) != width:
            ragged = self._ragged(cells)
            if ragged is not None:
                return LineError(row.number, (ragged,))
        problems: list[tuple[int, str]] = []  # (column, problem): reported in column order
        raw_key = cells[self._key_index]
        key = ""
        if not raw_key or raw_key.isspace():
            problems.append((self._key_index, f"{self._key_header}: is empty; every row needs one"))
        else:
            try:
                key = self._key_convert(raw_key)
            except CellError as exc:
                problems.append((self._key_index, f"{self._key_header}: {exc}"))
        body: dict[str, Any] = {self._key_field: key}

        for index, header, name, convert, erased in self._fields:
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
        for index, header, code, convert_value, erased, entry, alone in self._values:
            cell = cells[index]
            if not cell or cell.isspace():
                if erased is _KEEP:
                    continue
                data = erased
            elif convert_value is None:
                data = cell
            else:
                try:
                    data = convert_value(cell)
                except CellError as exc:
                    problems.append((index, f"{header}: {exc}"))
                    continue
                if data is EMPTY:
                    if erased is _KEEP:
                        continue
                    data = erased
            entry["data"] = data
            if alone is not None:
                values[code] = alone
            else:
                values.setdefault(code, []).append(entry)
        if values:
            body["values"] = values

        for index, header in self._checks:
            cell = cells[index].strip()
            if cell and key and cell != key:
                problems.append(
                    (
                        index,
                        f"{header}: differs from {self._key_header} {quote(key)}, got "
                        f"{quote(cell)}; the identifier column wins in Akeneo, so make them "
                        "equal or drop one",
                    )
                )

        for index, header, section, kind, target, convert, erased in self._links:
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
            body.setdefault(section, {}).setdefault(kind, {})[target] = data

        for index in self._blank_unchecked:
            if index < len(cells) and cells[index].strip():
                problems.append(
                    (
                        index,
                        f"column {index + 1} (no header): has a value but no header, "
                        f"{quote(cells[index])}; name the column or empty it",
                    )
                )

        if problems:
            problems.sort(key=lambda found: found[0])
            return LineError(row.number, tuple(problem for _, problem in problems))
        line = orjson.dumps(body)
        if len(line) > MAX_LINE_BYTES:
            return LineError(
                row.number,
                (
                    f"row: the product line is {len(line):,} bytes, over the PIM's limit of "
                    f"{MAX_LINE_BYTES:,} bytes per line; shorten the longest texts or tables",
                ),
            )
        return ProductLine(row.number, key, line)

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
