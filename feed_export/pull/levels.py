"""Which values a pulled row holds at its own level (variant products and product models).

The API shows a variant product with its parents' values, and a sub-model with its
root's (Akeneo's ``getValues`` of an entity with a family variant). Pushed back, the PIM
keeps only the values of the row's own level (``catalog.checks``: a variant product its
family variant's last attribute set, a sub-model the first, a root model the family's
attributes that no attribute set takes). By default a pulled row holds those values
only, so that the feed pushes back without a value the PIM would drop; with
``--with-parent-values`` it holds them all (flat rows).

The family variant of a variant product is its parent's: the parents a page names are
asked for once per page (``product_models`` by code), and remembered.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from feed_export.catalog.structure import Catalog, FamilyVariant

log = logging.getLogger(__name__)

#: codes -> where those product models sit (``{code, family_variant, parent}`` each)
ModelLookup = Callable[[Sequence[str]], Iterable[dict[str, Any]]]


class Levels:
    """The attributes (lower-case codes) each row keeps; None: every value."""

    def __init__(self, catalog: Catalog, lookup: ModelLookup | None) -> None:
        self._catalog = catalog
        self._lookup = lookup
        self._variants: dict[str, str | None] = {}  # model code (folded) -> family variant
        self._own: dict[tuple[str, str], frozenset[str] | None] = {}
        #: family variants the catalog lacks, met in rows (their rows keep every value)
        self.unknown_variants: set[str] = set()

    def learn(self, items: Iterable[dict[str, Any]]) -> None:
        """Product models seen (a mixed pull writes them before their children)."""
        for item in items:
            code = item.get("code")
            if isinstance(code, str):
                variant = item.get("family_variant")
                self._variants[code.casefold()] = variant if isinstance(variant, str) else None

    def prepare(self, products: Sequence[dict[str, Any]]) -> None:
        """Ask the PIM, once, where the parents of this page's variant products sit."""
        wanted = {
            parent
            for item in products
            if isinstance(parent := item.get("parent"), str)
            and parent.casefold() not in self._variants
        }
        if not wanted or self._lookup is None:
            return
        self.learn(self._lookup(sorted(wanted)))
        for code in wanted:  # absent from the PIM: as a simple product (every value)
            self._variants.setdefault(code.casefold(), None)

    def product(self, item: dict[str, Any]) -> frozenset[str] | None:
        """A product's own attributes: its variant level's, or None (a simple product)."""
        parent = item.get("parent")
        if not isinstance(parent, str) or not parent:
            return None
        variant = self._variants.get(parent.casefold())
        return self._level(variant, "product")

    def model(self, item: dict[str, Any]) -> frozenset[str] | None:
        """A product model's own attributes: a root's common ones, a sub-model's level."""
        variant = item.get("family_variant")
        parent = item.get("parent")
        where = "sub" if isinstance(parent, str) and parent else "root"
        return self._level(variant if isinstance(variant, str) else None, where)

    def _level(self, variant_code: str | None, where: str) -> frozenset[str] | None:
        if variant_code is None:
            return None
        key = (variant_code.casefold(), where)
        if key not in self._own:
            self._own[key] = self._compute(variant_code, where)
        return self._own[key]

    def _compute(self, variant_code: str, where: str) -> frozenset[str] | None:
        variant = self._catalog.family_variant(variant_code)
        if variant is None or not variant.levels():
            self.unknown_variants.add(variant_code)
            return None
        levels = variant.levels()
        if where == "product":
            return _folded(levels[-1].attributes)
        if where == "sub":
            return _folded(levels[0].attributes)
        return self._common(variant)

    def _common(self, variant: FamilyVariant) -> frozenset[str] | None:
        family = self._catalog.family(variant.family or "")
        if family is None:
            self.unknown_variants.add(variant.code)
            return None
        taken = {code.casefold() for level in variant.levels() for code in level.attributes}
        return frozenset(c.casefold() for c in family.attributes if c.casefold() not in taken)


def _folded(codes: Iterable[str]) -> frozenset[str]:
    return frozenset(code.casefold() for code in codes)
