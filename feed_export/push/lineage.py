"""What a feed says about product models: where its model rows sit, whom its rows name as parent.

- ``FeedModelsBuilder`` (in the validation pass) reads, from the raw cells, each product
  model row's code, family variant and parent, how many rows each model has, and every
  parent a row names. With the catalog (or the PIM) it makes the ``ModelTree`` the
  catalog checks use: a parent defined anywhere in the feed exists for them, as the
  push's planner sends a parent's rows before its children's.
- ``ParentWait`` (dry run): a row whose parent is a model row of this feed, and not a
  model the PIM already holds, is valid only if one of that model's rows is; until the
  parent's rows are judged, the row waits. Its refusal reads like the planner's:
  ``Not sent: parent "X" would not be saved (row 5: 422 ...)``. A parent the PIM holds
  lets its children through whatever its rows in the feed say: the push sends them, and
  the PIM takes them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from feed_export.catalog.checks import ModelPlace, ModelTree
from feed_export.catalog.layout import FeedLayout
from feed_export.catalog.structure import Catalog, ProductModel
from feed_export.feed.reader import Row
from feed_export.push.decode import LineError, ProductLine, RowDecoder

#: how much of a parent row's message a refusal quotes (as the planner does)
_QUOTED = 200


@dataclass(frozen=True, slots=True)
class FeedModels:
    """The product models a feed's rows define, and the parents its rows name."""

    places: tuple[ModelPlace, ...]
    rows: Counter[str]  # case-folded model code -> its rows in the feed
    parents: tuple[str, ...]  # every parent named, first spelling, feed order

    def unknown_parents(self, catalog: Catalog) -> list[str]:
        """Parents named that neither the feed nor the catalog defines: ask the PIM."""
        return [
            code
            for code in self.parents
            if code.casefold() not in self.rows and catalog.product_model(code) is None
        ]


def needs_models(layout: FeedLayout) -> bool:
    """Whether the feed's rows may name product models (a parent or family variant column)."""
    return any(c.kind == "field" and c.name in ("parent", "family_variant") for c in layout.columns)


class FeedModelsBuilder:
    """Collects ``FeedModels`` row by row, from the raw cells (no catalog checks)."""

    def __init__(self, decoder: RowDecoder) -> None:
        self._key_of = decoder.key_of
        fields = {c.name: c.index for c in decoder.layout.columns if c.kind == "field"}
        self._variant = fields.get("family_variant")
        self._parent = fields.get("parent")
        self._places: dict[str, ModelPlace] = {}
        self._rows: Counter[str] = Counter()
        self._parents: dict[str, str] = {}

    def add(self, row: Row) -> None:
        cells = row.cells
        parent = _cell(cells, self._parent)
        if parent is not None:
            self._parents.setdefault(parent.casefold(), parent)
        found = self._key_of(row)
        if found is None or found[0] != "product-models":
            return
        code = found[1]
        key = code.casefold()
        self._rows[key] += 1
        variant = _cell(cells, self._variant)
        known = self._places.get(key)
        if known is not None:  # a later row of the same model fills what an earlier left out
            code = known.code
            variant = known.family_variant or variant
            parent = known.parent or parent
        self._places[key] = ModelPlace(code, variant, parent)

    def build(self) -> FeedModels:
        return FeedModels(
            tuple(self._places.values()), Counter(self._rows), tuple(self._parents.values())
        )


def _cell(cells: tuple[str, ...], index: int | None) -> str | None:
    if index is None or index >= len(cells):
        return None
    text = cells[index].strip()
    return text or None


def model_tree(
    catalog: Catalog,
    feed: FeedModels | None,
    pim: Iterable[ProductModel] = (),
    *,
    asked_pim: bool = False,
) -> ModelTree:
    """The product models a run knows: the catalog's, the PIM's (``pim``), the feed's."""
    places = feed.places if feed is not None else ()
    return ModelTree.build(catalog, places, pim, asked_pim=asked_pim)


class ParentWait:
    """Dry run: rows whose parent is a product model defined only by this feed's rows."""

    def __init__(self, models: FeedModels, tree: ModelTree) -> None:
        self._tree = tree
        self._left = Counter(models.rows)  # model rows not judged yet
        self._saved: set[str] = set()
        self._failure: dict[str, tuple[int, str]] = {}  # the model's last refused row
        self._held: dict[str, list[tuple[Row, ProductLine]]] = {}

    def _parent_key(self, line: ProductLine) -> str | None:
        parent = line.parent
        if parent is None or not self._tree.in_feed(parent) or self._tree.in_pim(parent):
            return None
        return parent.casefold()

    def verdict(self, line: ProductLine) -> str | None:
        """``"wait"``, a refusal message, or None (the line stands on its own)."""
        key = self._parent_key(line)
        if key is None or key in self._saved:
            return None
        if self._left[key] > 0:
            return "wait"
        failure = self._failure.get(key)
        if failure is None:
            return None
        return _refusal(line, failure)

    def hold(self, row: Row, line: ProductLine) -> None:
        key = self._parent_key(line)
        assert key is not None
        self._held.setdefault(key, []).append((row, line))

    def judged(
        self, model: str | None, number: int, ok: bool, message: str
    ) -> list[tuple[Row, ProductLine, str | None]]:
        """A row of ``model`` (case-folded; None: not a model) was judged: the rows it
        releases, each with its refusal (None: valid), in the order they were held."""
        released: list[tuple[Row, ProductLine, str | None]] = []
        todo = [(model, number, ok, message)]
        while todo:
            key, row_number, valid, text = todo.pop(0)
            if key is None:
                continue
            self._left[key] -= 1
            if valid:
                self._saved.add(key)
            else:
                self._failure[key] = (row_number, text)
            if key in self._saved:
                refusal = None
            elif self._left[key] <= 0:
                refusal = "refused"
            else:
                continue
            for row, line in self._held.pop(key, []):
                why = None if refusal is None else _refusal(line, self._failure[key])
                released.append((row, line, why))
                own = line.key.casefold() if line.entity == "product-models" else None
                todo.append((own, row.number, why is None, why or ""))
        return released

    def rest(self) -> list[tuple[Row, ProductLine]]:
        """Rows still waiting at the end of the feed (none when the counts were right)."""
        left = [held for rows in self._held.values() for held in rows]
        self._held.clear()
        return sorted(left, key=lambda item: item[0].number)


def _refusal(line: ProductLine, failure: tuple[int, str]) -> str:
    row, message = failure
    detail = message if message.startswith("Not sent: parent") else f"422 {message}"
    if len(detail) > _QUOTED:
        detail = detail[:_QUOTED] + "…"
    return f'Not sent: parent "{line.parent}" would not be saved (row {row}: {detail})'


def result_model(decoder: RowDecoder, row: Row, result: ProductLine | LineError) -> str | None:
    """The case-folded code of the product model a row is, or None."""
    if isinstance(result, ProductLine):
        return result.key.casefold() if result.entity == "product-models" else None
    found = decoder.key_of(row)
    if found is None or found[0] != "product-models":
        return None
    return found[1].casefold()
