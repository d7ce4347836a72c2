"""The values Akeneo's API removes from a line, without a word, before updating it.

Akeneo's ProductAttributeFilter and ProductModelAttributeFilter (akeneo/pim-community-dev,
src/Akeneo/Pim/Enrichment/Component/Product/ProductModel/Filter/) keep only the values
of the attributes that belong to the entity's place in its family variant:

- a **variant product** keeps its level's attribute set (attributes and axes): the set
  at level parent + 1 of the parent model's family variant. The API runs the filter only
  when the line names a parent or the product is already a variant (ProductController /
  UpdateProductByUuidController ``updateProduct``: ``isset($data['parent']) ||
  $product->isVariant()``); a variant turned simple (``parent: null``) loses its parent
  first and is not filtered. When the named parent does not exist, the line's ``family``
  (if it exists) decides instead, and the updater then refuses the parent anyway.
- a **simple product is not filtered** by the API, with or without a family: values of
  attributes outside its family are stored (only the CSV import filters them).
- a **root product model** keeps its family variant's common attributes (the family's
  attributes that no variant attribute set holds); a **sub-model** keeps the set at
  level parent + 1. Product models are filtered whenever the line has ``values``
  (ProductModelController ``updateProductModel``); an unknown family variant or parent
  leaves the values to the updater's own errors.

Both filters first refuse an attribute that does not exist: ``Property "x" does not
exist.`` (UnknownPropertyException), before the updater's own text. Codes are compared
as sent (PHP ``in_array``), so a value under a wrongly cased code is removed.

The identifier attribute is always kept on variant products: Akeneo puts unique
attributes, the identifier first, in the last level (FamilyVariant constraint
``family_variant_unique_attributes_in_last_level``), and the products endpoint sets the
identifier value from ``identifier`` anyway. Product-media uploads (POST /media-files)
go through the updater without this filter (MediaFileController), so they are not
filtered either.
"""

from __future__ import annotations

from typing import Any

from feed_export.sandbox.catalog import SandboxCatalog
from feed_export.sandbox.store import SandboxStore


class UnknownProperty(Exception):
    """A value names an attribute the catalog does not have."""

    def __init__(self, code: str) -> None:
        super().__init__(f'Property "{code}" does not exist.')
        self.code = code


def filter_product(
    catalog: SandboxCatalog,
    store: SandboxStore,
    data: dict[str, Any],
    existing: dict[str, Any] | None,
) -> dict[str, Any]:
    """``data`` with the values a (variant) product line would lose, removed."""
    is_variant = existing is not None and bool(existing.get("parent"))
    if data.get("parent") is None and not is_variant:
        return data  # a simple product: the API does not filter it
    if "parent" in data and data["parent"] is None:
        return data  # a variant turned simple: its parent goes before the update
    values = data.get("values")
    if not isinstance(values, dict):
        return data
    _refuse_unknown(catalog, values)
    parent_code = data["parent"] if "parent" in data else (existing or {}).get("parent")
    keep: frozenset[str] | None = None
    parent = store.product_model(parent_code) if parent_code else None
    if parent is not None:
        keep = level_attributes(catalog, store, parent)
    elif isinstance(data.get("family"), str):
        family = catalog.spelling("family", data["family"]) or data["family"]
        keep = catalog.family_attributes.get(family)
    if keep is None:
        return data
    return _keep_only(data, values, keep | {catalog.identifier_attribute})


def filter_product_model(
    catalog: SandboxCatalog,
    store: SandboxStore,
    data: dict[str, Any],
    existing: dict[str, Any] | None,
) -> dict[str, Any]:
    """``data`` with the values a product model line would lose, removed."""
    if "values" not in data:
        return data
    values = data["values"]
    if not isinstance(values, dict):
        return data
    _refuse_unknown(catalog, values)
    variant_code = data.get("family_variant")
    parent_code = data.get("parent")
    if existing is not None:
        if variant_code is None:
            variant_code = existing.get("family_variant")
        if existing.get("parent") and "parent" not in data:
            parent_code = existing["parent"]
            variant_code = existing.get("family_variant")
    if isinstance(variant_code, str):  # found whatever its case, as the updater does
        variant_code = catalog.spelling("family_variant", variant_code) or variant_code
    variant = catalog.family_variants.get(variant_code) if isinstance(variant_code, str) else None
    keep: frozenset[str] | None
    if not parent_code and variant is not None:
        keep = common_attributes(catalog, variant_code or "")
    else:
        parent = store.product_model(parent_code) if isinstance(parent_code, str) else None
        if parent is None:
            return data  # the updater says what is wrong with the parent
        if variant is None:
            variant_code = parent.get("family_variant")
        keep = _set_attributes(catalog, variant_code, variation_level(store, parent) + 1)
    if keep is None:
        return data
    return _keep_only(data, values, keep)


def variation_level(store: SandboxStore, model: dict[str, Any]) -> int:
    """0 for a root product model, 1 for its sub-models (and so on)."""
    level = 0
    seen = {model["code"]}
    parent_code = model.get("parent")
    while parent_code and parent_code not in seen and level < 5:
        parent = store.product_model(parent_code)
        if parent is None:
            break
        level += 1
        seen.add(parent["code"])
        parent_code = parent.get("parent")
    return level


def level_attributes(
    catalog: SandboxCatalog, store: SandboxStore, parent: dict[str, Any]
) -> frozenset[str] | None:
    """The attributes of the level just below ``parent`` in its family variant, or None."""
    return _set_attributes(
        catalog, parent.get("family_variant"), variation_level(store, parent) + 1
    )


def common_attributes(catalog: SandboxCatalog, variant_code: str) -> frozenset[str] | None:
    """A family variant's common attributes (the root model's), or None when unknown.

    The family's attributes minus those of every variant attribute set (axes included).
    """
    variant = catalog.family_variants.get(variant_code)
    if variant is None or variant.family is None:
        return None
    family = catalog.family_attributes.get(variant.family)
    if family is None:
        return None
    in_sets: set[str] = set()
    for attribute_set in variant.variant_attribute_sets:
        in_sets.update(str(a) for a in attribute_set.get("attributes", []))
        in_sets.update(str(a) for a in attribute_set.get("axes", []))
    return family - in_sets


def _set_attributes(
    catalog: SandboxCatalog, variant_code: Any, level: int
) -> frozenset[str] | None:
    if isinstance(variant_code, str):  # found whatever its case, as the updater does
        variant_code = catalog.spelling("family_variant", variant_code) or variant_code
    variant = catalog.family_variants.get(variant_code) if isinstance(variant_code, str) else None
    if variant is None:
        return None
    for attribute_set in variant.variant_attribute_sets:
        if int(attribute_set.get("level", 0)) == level:
            # axes are part of a set's attributes in Akeneo; kept even if a file forgets them
            return frozenset(
                [str(a) for a in attribute_set.get("attributes", [])]
                + [str(a) for a in attribute_set.get("axes", [])]
            )
    return None


def _refuse_unknown(catalog: SandboxCatalog, values: dict[str, Any]) -> None:
    for code in values:
        if catalog.attribute(code) is None:
            raise UnknownProperty(code)


def _keep_only(
    data: dict[str, Any], values: dict[str, Any], keep: frozenset[str]
) -> dict[str, Any]:
    kept = {code: entries for code, entries in values.items() if code in keep}
    if len(kept) == len(values):
        return data
    return {**data, "values": kept}
