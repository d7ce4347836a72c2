"""A product or product model as the PIM shows it -> the cells of its row, by the codecs.

Every cell is written by its column's two-way codec (``catalog.codecs``: the ``encode``
beside the ``decode`` a push reads it back with), so a pulled row pushes back the values
it was pulled from. A value whose data no cell can carry (say a code holding the value
separator) leaves its cell empty and is named in the report: pushed back, the empty cell
leaves the PIM's value as it is.

Values without a column (an attribute outside the families pulled, held by a simple
product) are counted by attribute and named in the report, unless a filter
(``--attributes``, ``--locales``, ``--channels``) left them out on purpose.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from feed_export.catalog.codecs import (
    MEDIA_TYPES,
    Codec,
    association_codec,
    field_codec,
    quantified_codec,
    value_codec,
)
from feed_export.catalog.structure import Catalog
from feed_export.config import PullOptions
from feed_export.errors import CellError
from feed_export.pull.columns import PullColumn
from feed_export.pull.levels import Levels
from feed_export.pull.media import MediaDownloads

#: cells named in the report when their data could not be written (the rest are counted)
MAX_NAMED = 20

#: the value of an entity column, by kind of row
ENTITY_WORDS = {"product": "product", "product_model": "product_model"}
#: fields a row of the other entity leaves empty in a mixed feed
_PRODUCT_ONLY = frozenset({"identifier", "enabled", "groups"})
_MODEL_ONLY = frozenset({"code", "family_variant"})

Cell = Callable[[Any], str]


class RowEncoder:
    """Writes the cells of pulled items, column by column."""

    def __init__(
        self,
        columns: Sequence[PullColumn],
        catalog: Catalog,
        options: PullOptions,
        levels: Levels,
        media: MediaDownloads | None = None,
    ) -> None:
        cells = options.cell_options()
        self.width = len(columns)
        self._levels = levels
        self._with_parents = options.with_parent_values
        self._fields: list[tuple[int, str, Codec | None]] = []
        self._values: dict[tuple[str, str, str], tuple[int, Cell]] = {}
        self._associations: list[tuple[int, str, str, bool, Codec]] = []
        self._headers = [column.header for column in columns]
        links = association_codec(cells, uuids=False)
        quantified = quantified_codec(cells, key="identifier")
        for index, column in enumerate(columns):
            if column.kind == "entity":
                self._fields.append((index, "entity", None))
            elif column.kind == "field":
                self._fields.append((index, column.name, field_codec(column.name, cells)))
            elif column.kind == "value":
                attribute = column.attribute
                assert attribute is not None
                codec = value_codec(attribute, catalog, cells)
                write: Cell = codec.to_cell
                if media is not None and attribute.type in MEDIA_TYPES:
                    write = _media_cell(media)
                key = (attribute.code.casefold(), _fold(column.locale), _fold(column.scope))
                self._values[key] = (index, write)
            else:
                quantified_column = column.kind == "quantified"
                codec = quantified if quantified_column else links
                target = column.target or ""
                self._associations.append((index, column.name, target, quantified_column, codec))
        identifier = catalog.identifier_attribute
        self._identifier = identifier.code.casefold() if identifier is not None else None
        self._column_attributes = {code for code, _, _ in self._values}
        self._chosen = {
            "attributes": {c.casefold() for c in options.attributes},
            "locales": {c.casefold() for c in options.locales},
            "channels": {c.casefold() for c in options.channels},
        }
        #: values with no column, by attribute code (outside what the filters chose)
        self.left_out: Counter[str] = Counter()
        #: cells whose data could not be written, and the first few of them in words
        self.unwritable = 0
        self.problems: list[str] = []

    def product(self, item: dict[str, Any]) -> list[str]:
        """The cells of a product."""
        own = None if self._with_parents else self._levels.product(item)
        return self._row(item, "product", own)

    def model(self, item: dict[str, Any]) -> list[str]:
        """The cells of a product model."""
        own = None if self._with_parents else self._levels.model(item)
        return self._row(item, "product_model", own)

    def _row(self, item: dict[str, Any], entity: str, own: frozenset[str] | None) -> list[str]:
        cells = [""] * self.width
        key = item.get("identifier" if entity == "product" else "code")
        for index, name, codec in self._fields:
            if codec is None:
                cells[index] = ENTITY_WORDS[entity]
                continue
            if name in (_MODEL_ONLY if entity == "product" else _PRODUCT_ONLY):
                continue
            cells[index] = self._cell(codec.to_cell, item.get(name), key, index)
        values = item.get("values")
        if isinstance(values, dict):
            self._write_values(cells, values, own, key)
        for index, kind, target, quantified, codec in self._associations:
            slot = item.get("quantified_associations" if quantified else "associations")
            links = slot.get(kind) if isinstance(slot, dict) else None
            data = links.get(target) if isinstance(links, dict) else None
            cells[index] = self._cell(codec.to_cell, data, key, index)
        return cells

    def _write_values(
        self,
        cells: list[str],
        values: dict[str, Any],
        own: frozenset[str] | None,
        key: object,
    ) -> None:
        for code, entries in values.items():
            folded = code.casefold()
            if folded == self._identifier or (own is not None and folded not in own):
                continue
            if not isinstance(entries, list):
                continue
            for entry in entries:
                if not isinstance(entry, dict):
                    continue
                locale, scope = entry.get("locale"), entry.get("scope")
                slot = (folded, _fold(locale), _fold(scope))
                found = self._values.get(slot)
                if found is None:
                    if not self._chosen_out(folded, locale, scope):
                        self.left_out[code] += 1
                    continue
                index, write = found
                cells[index] = self._cell(write, entry.get("data"), key, index)

    def _chosen_out(self, code: str, locale: object, scope: object) -> bool:
        """Whether a filter left this value out on purpose (no need to say so)."""
        chosen = self._chosen
        if chosen["attributes"] and code not in chosen["attributes"]:
            return True
        if chosen["locales"] and isinstance(locale, str) and _fold(locale) not in chosen["locales"]:
            return True
        return bool(
            chosen["channels"] and isinstance(scope, str) and _fold(scope) not in chosen["channels"]
        )

    def _cell(self, write: Cell, data: Any, key: object, index: int) -> str:
        if data is None:
            return ""
        try:
            return write(data)
        except CellError as exc:
            self.unwritable += 1
            if len(self.problems) < MAX_NAMED:
                self.problems.append(f"{key}: {self._headers[index]}: not written: {exc}")
            return ""


def _fold(text: object) -> str:
    return text.casefold() if isinstance(text, str) else ""


def _media_cell(media: MediaDownloads) -> Cell:
    def write(data: Any) -> str:
        if not isinstance(data, str) or not data:
            raise CellError(f"expected a media-file code, got {data!r}")
        return media.cell(data)

    return write
