"""One product or product model upsert, checked and merged the way Akeneo's updater does it.

The order follows akeneo-api.md §3.4: the updater walks the body's properties in order
and the first type or shape problem ends the line with a *documented* 422 (message plus
" Check the expected format on the API documentation." and ``_links``); otherwise every
validation problem is collected into one ``Validation failed.`` with ``errors[]``.

Texts come from the reference (§3.4). Where the reference has no text, the sandbox uses
its own, marked ``UNCONFIRMED`` below: combining ``categories`` with ``add_categories``,
table cell errors, product-link shape, quantified-association entries, unknown
association kinds, and a missing family variant on a root product model.

Family variants: a root product model is level 0; a sub-model (level 1 of a two-level
variant) and a variant product (the last level) must have a value of each axis of
their level, and no sibling (same parent) may have the same axis values: the axis
conflict text is the reference's (§2.6); the texts for an empty axis and for a parent
at the wrong level are Akeneo's validator messages as we recall them (UNCONFIRMED).
"""

from __future__ import annotations

import re
import uuid as uuid_module
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from feed_export.sandbox.attribute_filter import (
    UnknownProperty,
    filter_product,
    filter_product_model,
)
from feed_export.sandbox.catalog import TEXTAREA_MAX_CHARACTERS, AttributeSpec, SandboxCatalog
from feed_export.sandbox.store import SandboxStore

Entity = Literal["products", "products-uuid", "product-models"]

#: the key that names the resource on each line of a collection PATCH
ENTITY_KEYS: dict[str, str] = {
    "products": "identifier",
    "products-uuid": "uuid",
    "product-models": "code",
}
DOC_SUFFIX = " Check the expected format on the API documentation."
DOC_BASE = "http://api.akeneo.com/api-reference.html#"
DOC_ANCHORS: dict[str, str] = {
    "products": "patch_products__code_",
    "products-uuid": "patch_products_uuid__uuid_",
    "product-models": "patch_product_models__code_",
}
VARIANT_GROUP_HREF = "http://api.akeneo.com/documentation/products-with-variants.html"
PHP_INT_MAX = 9223372036854775807
#: enrich_max_asset_in_asset_collection (Akeneo's default limit of an asset collection)
MAX_ASSETS_IN_COLLECTION = 50

_COMMON_FIELDS = frozenset(
    {"family", "categories", "parent", "values", "associations", "quantified_associations"}
) | {"created", "updated"}  # created/updated are accepted and ignored (T-CPU)
_PRODUCT_FIELDS = _COMMON_FIELDS | {
    "uuid",
    "enabled",
    "add_categories",
    "remove_categories",
    "groups",
}
# the top-level keys each collection endpoint accepts; anything else is a documented 422
_FIELDS: dict[str, frozenset[str]] = {
    "products": _PRODUCT_FIELDS | {"identifier"},
    "products-uuid": _PRODUCT_FIELDS,  # the identifier goes into values there (§2.8)
    "product-models": _COMMON_FIELDS | {"code", "family_variant"},
}
_UUID_RE = re.compile(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)
# PHP's is_numeric: optional blanks, a sign, digits with an optional fraction, an exponent
_NUMERIC_RE = re.compile(r"^[ \t\n\r\v\f]*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?[ \t\n\r\v\f]*$")
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}")
_BAD_IDENTIFIER_RE = re.compile(r"[,;]|^\s|\s$")

_TEXT_TYPES = frozenset({"pim_catalog_text", "pim_catalog_textarea"})
# reference data under the PIM's type codes (pim_reference_data_*) and the older docs' ones
_STRING_TYPES = frozenset(
    {
        "pim_reference_data_simpleselect",
        "pim_catalog_reference_data_simpleselect",
        "akeneo_reference_entity",
    }
)
_STRING_LIST_TYPES = frozenset(
    {
        "pim_reference_data_multiselect",
        "pim_catalog_reference_data_multiselect",
        "akeneo_reference_entity_collection",
        "pim_catalog_asset_collection",
    }
)
_ASSOCIATION_KINDS = ("products", "product_uuids", "product_models", "groups")


@dataclass(frozen=True, slots=True)
class Outcome:
    """The answer of one upsert: its HTTP status and JSON body (None on 201/204)."""

    status: int
    body: dict[str, Any] | None = None


class _Documented(Exception):
    """An updater error: one documented 422, processing stops.

    The message gets the usual suffix and link, unless ``suffix`` and ``href`` say otherwise.
    """

    def __init__(self, message: str, suffix: str = DOC_SUFFIX, href: str | None = None) -> None:
        super().__init__(message)
        self.suffix = suffix
        self.href = href


class _Violations:
    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []
        self._seen: set[tuple[str, str, str | None, str | None, str | None]] = set()

    def add(
        self,
        prop: str,
        message: str,
        *,
        attribute: str | None = None,
        locale: str | None = None,
        scope: str | None = None,
        currency: str | None = None,
    ) -> None:
        # ViolationNormalizer collapses duplicates (same property path and message)
        key = (prop, message, attribute, locale, scope)
        if key in self._seen:
            return
        self._seen.add(key)
        item: dict[str, Any] = {"property": prop, "message": message}
        if prop == "values":
            item.update(attribute=attribute, locale=locale, scope=scope)
            if currency is not None:
                item["currency"] = currency
        self.items.append(item)


_INVALID = object()  # a value that broke a rule: reported, never stored


def php_type(value: Any) -> str:
    """The word PHP's gettype() uses for a decoded JSON value."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "double"
    if isinstance(value, str):
        return "string"
    return "array"


def php_str(value: Any) -> str:
    """A scalar as PHP's sprintf("%s") prints it (null prints as nothing)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else ""
    return str(value)


def to_decimal(value: Any) -> Decimal | None:
    """A JSON number or numeric string as a Decimal; None when PHP would say not numeric."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        try:
            result = Decimal(repr(value))
        except InvalidOperation:
            return None
        return result if result.is_finite() else None
    if isinstance(value, str) and _NUMERIC_RE.match(value):
        try:
            return Decimal(value.strip())
        except InvalidOperation:
            return None
    return None


def plain_number(value: Decimal) -> str:
    """A limit as a message shows it: ``0.0000`` is ``0``, ``-250.5000`` is ``-250.5``."""
    text = format(value.normalize(), "f")
    return "0" if text in {"-0", "0"} else text


def fixed_number(value: Decimal, min_places: int) -> str:
    """At least ``min_places`` decimals, more when given: ``12.56`` -> ``12.5600``."""
    if value == 0:
        value = Decimal(0)
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -30:  # keep absurd inputs printable
        value = value.quantize(Decimal("1e-30"))
    text = format(value.normalize(), "f")
    whole, _, fraction = text.partition(".")
    return f"{whole}.{fraction.ljust(min_places, '0')}"


def _is_empty(spec: AttributeSpec, data: Any) -> bool:
    # EntityWithValuesBuilder removes the value instead of building one
    if data is None or data == [] or data == {}:
        return True
    if isinstance(data, str):
        return data.strip() == ""
    if spec.type == "pim_catalog_metric" and isinstance(data, dict):
        return "amount" in data and data["amount"] is None
    if spec.type == "pim_catalog_price_collection" and isinstance(data, list):
        return all(isinstance(p, dict) and p.get("amount") is None for p in data)
    return False


def _timestamp(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


class Updater:
    """Applies one collection-PATCH line to the store. Call it with ``store.lock`` held."""

    def __init__(
        self,
        catalog: SandboxCatalog,
        store: SandboxStore,
        clock: Callable[[], float],
        new_uuid: Callable[[], str] = lambda: str(uuid_module.uuid4()),
    ) -> None:
        self.catalog = catalog
        self.store = store
        self.clock = clock
        self.new_uuid = new_uuid
        self._create_options = False

    def seed_product_models(self, models: list[tuple[str, str | None, str | None]]) -> int:
        """Create the product models a catalog file lists (code, family variant, parent)
        that the store lacks, without values, parents first; how many were created."""
        pending = [m for m in models if self.store.product_model(m[0]) is None]
        created = 0
        while pending:
            waiting = {code.lower() for code, _, _ in pending}
            ready = [m for m in pending if not m[2] or m[2].lower() not in waiting]
            if not ready:
                ready = pending  # a cycle in the file: take them as they are
            now = _timestamp(self.clock())
            for code, variant_code, parent_code in ready:
                parent = self.store.product_model(parent_code) if parent_code else None
                if parent is not None:
                    variant_code = parent.get("family_variant")
                variant = self.catalog.family_variants.get(variant_code or "")
                self.store.save_product_model(
                    {
                        "code": code,
                        "family": variant.family if variant is not None else None,
                        "family_variant": variant_code,
                        "parent": parent["code"] if parent is not None else None,
                        "categories": [],
                        "values": {},
                        "created": now,
                        "updated": now,
                        "associations": {},
                        "quantified_associations": {},
                    }
                )
                created += 1
            pending = [m for m in pending if m not in ready]
        return created

    # -- entry point ---------------------------------------------------------------------
    def upsert(
        self,
        entity: Entity,
        key: str,
        data: dict[str, Any],
        *,
        create_missing_options: bool = False,
        filter_attributes: bool = True,
    ) -> Outcome:
        """Create (201) or update (204) one resource, or say why not (4xx with a body).

        ``filter_attributes`` first removes, silently, the values Akeneo's attribute filters
        remove (see ``attribute_filter``); the media-file upload does not filter.
        """
        try:
            if filter_attributes and "variant_group" not in data:
                data = self._filter(entity, key, data)
            return self._upsert(entity, key, data, create_missing_options)
        except _Documented as exc:
            return Outcome(
                422,
                {
                    "code": 422,
                    "message": f"{exc}{exc.suffix}",
                    "_links": {
                        "documentation": {"href": exc.href or DOC_BASE + DOC_ANCHORS[entity]}
                    },
                },
            )

    def _filter(self, entity: Entity, key: str, data: dict[str, Any]) -> dict[str, Any]:
        # Akeneo runs its attribute filter after the variant_group check and before the
        # updater, so an unknown attribute is refused with the filter's own text
        try:
            if entity == "product-models":
                existing = self.store.product_model(key)
                return filter_product_model(self.catalog, self.store, data, existing)
            if entity == "products":
                existing = self.store.product_by_identifier(key)
            else:
                existing = self.store.product_by_uuid(key) if _UUID_RE.match(key) else None
            return filter_product(self.catalog, self.store, data, existing)
        except UnknownProperty as exc:
            raise _Documented(str(exc)) from None

    def _upsert(
        self, entity: Entity, key: str, data: dict[str, Any], create_missing_options: bool
    ) -> Outcome:
        self._create_options = create_missing_options
        if entity == "products-uuid" and not _UUID_RE.match(key):
            raise _Documented("This is not a valid UUID.")
        fields = _FIELDS[entity]
        for name in data:
            if name == "variant_group":
                raise _Documented(
                    'Property "variant_group" does not exist anymore.',
                    " Check the link below to understand why.",
                    VARIANT_GROUP_HREF,
                )
            if name not in fields:
                raise _Documented(f'Property "{name}" does not exist.')
        if "categories" in data and ("add_categories" in data or "remove_categories" in data):
            # UNCONFIRMED text: the docs only say "Cannot be used with the categories key."
            raise _Documented(
                'The "add_categories" and "remove_categories" properties cannot be used '
                'with the "categories" property.'
            )
        if entity == "product-models":
            return self._upsert_model(key, data)
        return self._upsert_product(entity, key, data)

    # -- products ------------------------------------------------------------------------
    def _upsert_product(self, entity: Entity, key: str, data: dict[str, Any]) -> Outcome:
        store = self.store
        if entity == "products":
            old = store.product_by_identifier(key)
        else:
            old = store.product_by_uuid(key)
        now = _timestamp(self.clock())
        if old is None:
            uid = key.lower() if entity == "products-uuid" else self.new_uuid()
            if entity == "products" and isinstance(data.get("uuid"), str):
                if not _UUID_RE.match(data["uuid"]):
                    raise _Documented("This is not a valid UUID.")
                uid = data["uuid"].lower()
            product: dict[str, Any] = {
                "uuid": uid,
                "identifier": None,
                "enabled": True,
                "family": None,
                "categories": [],
                "groups": [],
                "parent": None,
                "values": {},
                "created": now,
                "updated": now,
                "associations": {},
                "quantified_associations": {},
            }
        else:
            product = _deep_copy(old)
        violations = _Violations()
        ident_attr = self.catalog.identifier_attribute
        for name, value in data.items():
            if name in {"identifier", "uuid", "created", "updated"}:
                continue
            self._set_field(entity, product, name, value, violations)
        if entity == "products":
            product["identifier"] = key
            # the identifier value always follows ``identifier`` (populateIdentifierProductValue)
            product["values"][ident_attr] = [{"locale": None, "scope": None, "data": key}]
        else:
            sku = product["values"].get(ident_attr)
            product["identifier"] = sku[0]["data"] if sku else None
        identifier = product["identifier"]
        if identifier is not None:
            self._check_identifier(identifier, product["uuid"], violations)
        self._check_unique(product, data.get("values"), violations)
        self._check_variant(product, False, violations)
        if violations.items:
            return _validation_failed(violations)
        if old is None:
            store.save_product(product)
            return Outcome(201)
        if _changed(product, old):
            product["updated"] = now
            store.save_product(product)
        return Outcome(204)

    def _check_identifier(self, identifier: str, uid: str, violations: _Violations) -> None:
        if _BAD_IDENTIFIER_RE.search(identifier):
            violations.add(
                "identifier",
                "This field should not contain any comma or semicolon or leading/trailing space",
            )
        spec = self.catalog.attributes.get(self.catalog.identifier_attribute)
        limit = spec.max_characters if spec else None
        if limit is not None and len(identifier) > limit:
            violations.add(
                "identifier",
                f"The {self.catalog.identifier_attribute} attribute must not contain more than "
                f"{limit} characters. The submitted value is too long.",
            )
        other = self.store.product_by_identifier(identifier)
        if other is not None and other["uuid"] != uid:
            violations.add(
                "identifier", f"The {identifier} identifier is already used for another product."
            )

    def _check_unique(self, product: dict[str, Any], sent: Any, violations: _Violations) -> None:
        if not isinstance(sent, dict):
            return
        for code in sent:
            spec = self.catalog.attribute(code)
            if spec is None or not spec.unique:
                continue
            for value in product["values"].get(spec.code, ()):
                owner = self.store.unique_owner(spec.code, value["data"])
                if owner is not None and owner != product["uuid"]:
                    violations.add(
                        "values",
                        f"The {spec.code} attribute can not have the same value more than "
                        f"once. The {php_str(value['data'])} value is already set on another "
                        "product.",
                        attribute=spec.code,
                        locale=value["locale"],
                        scope=value["scope"],
                    )

    # -- product models ------------------------------------------------------------------
    def _upsert_model(self, code: str, data: dict[str, Any]) -> Outcome:
        old = self.store.product_model(code)
        now = _timestamp(self.clock())
        if old is None:
            model: dict[str, Any] = {
                "code": code,
                "family": None,
                "family_variant": None,
                "parent": None,
                "categories": [],
                "values": {},
                "created": now,
                "updated": now,
                "associations": {},
                "quantified_associations": {},
            }
        else:
            model = _deep_copy(old)
        model["code"] = code
        violations = _Violations()
        for name, value in data.items():
            if name in {"code", "created", "updated"}:
                continue
            self._set_field("product-models", model, name, value, violations)
        if model["family_variant"] is None:
            # UNCONFIRMED text: Symfony's NotBlank default
            violations.add("family_variant", "This value should not be blank.")
        if _BAD_IDENTIFIER_RE.search(code):
            violations.add(
                "code",
                "This field should not contain any comma or semicolon or leading/trailing space",
            )
        self._check_variant(model, True, violations)
        if violations.items:
            return _validation_failed(violations)
        if old is None:
            self.store.save_product_model(model)
            return Outcome(201)
        if _changed(model, old):
            model["updated"] = now
            self.store.save_product_model(model)
        return Outcome(204)

    # -- family variants -----------------------------------------------------------------
    def _check_variant(self, item: dict[str, Any], is_model: bool, violations: _Violations) -> None:
        """Level and axes of a sub-model or a variant product (see the module docstring)."""
        parent_code = item.get("parent")
        if not parent_code:
            return
        parent = self.store.product_model(parent_code)
        if parent is None:
            return
        variant = self.catalog.family_variants.get(parent.get("family_variant") or "")
        if variant is None or not variant.variant_attribute_sets:
            return
        sets = sorted(variant.variant_attribute_sets, key=lambda s: int(s.get("level", 0)))
        level = 1
        ancestor = parent
        while ancestor.get("parent") and level <= len(sets):
            level += 1
            found = self.store.product_model(ancestor["parent"])
            if found is None:
                break
            ancestor = found
        if is_model:
            name, kind = item["code"], "product model"
            if level >= len(sets):
                # UNCONFIRMED text
                violations.add(
                    "parent",
                    f'The product model "{name}" cannot have the product model "{parent_code}" '
                    "as parent (this product model can only have variant products as children)",
                )
                return
        else:
            name, kind = item.get("identifier") or item["uuid"], "variant product"
            if level != len(sets):
                # UNCONFIRMED text
                violations.add(
                    "parent",
                    f'The variant product "{name}" cannot have product model "{parent_code}" '
                    "as parent, (this product model can only have other product models as "
                    "children)",
                )
                return
        axes = [str(a) for a in sets[level - 1].get("axes", [])]
        own = item.get("values", {})
        chosen: list[Any] = []
        for axis in axes:
            entries = own.get(axis) or []
            data = entries[0]["data"] if entries else None
            if data is None or data == "" or data == []:
                # UNCONFIRMED text
                violations.add(
                    "attribute",
                    f'Attribute "{axis}" cannot be empty, as it is defined as an axis for this '
                    "entity",
                )
                return
            chosen.append(data)
        siblings = (
            self.store.child_models(parent["code"])
            if is_model
            else self.store.child_products(parent["code"])
        )
        me = item["code"] if is_model else item["uuid"]
        for sibling in siblings:
            if (sibling["code"] if is_model else sibling["uuid"]) == me:
                continue
            theirs = sibling.get("values", {})
            if all(
                (theirs.get(axis) or [{"data": None}])[0]["data"] == data
                for axis, data in zip(axes, chosen, strict=True)
            ):
                other = (
                    sibling["code"] if is_model else sibling.get("identifier") or sibling["uuid"]
                )
                shown = ",".join(f"[{_axis_text(data)}]" for data in chosen)
                violations.add(
                    "attribute",
                    f'Cannot set value "{shown}" for the attribute axis "{",".join(axes)}" on '
                    f'{kind} "{name}", as the {kind} "{other}" already has this value',
                )
                return

    # -- top-level fields ----------------------------------------------------------------
    def _set_field(
        self, entity: Entity, item: dict[str, Any], name: str, value: Any, violations: _Violations
    ) -> None:
        catalog = self.catalog
        if name == "enabled":
            if not isinstance(value, bool):
                raise _Documented(
                    f'Property "enabled" expects a boolean as data, "{php_type(value)}" given.'
                )
            item["enabled"] = value
        elif name == "family":
            if value is not None and not isinstance(value, str):
                raise _Documented(
                    f'Property "family" expects a string as data, "{php_type(value)}" given.'
                )
            spelled = catalog.spelling("family", value) if value is not None else None
            if value is not None and spelled is None:
                raise _Documented(f"The {value} family does not exist in your PIM.")
            item["family"] = spelled
        elif name in {"categories", "add_categories", "remove_categories"}:
            codes = []
            for code in self._codes(name, value):
                spelled = catalog.spelling("category", code)
                if spelled is None:
                    raise _Documented(f"The {code} category does not exist in your PIM.")
                if spelled not in codes:
                    codes.append(spelled)
            current: list[str] = item["categories"]
            if name == "categories":
                item["categories"] = codes
            elif name == "add_categories":
                item["categories"] = current + [c for c in codes if c not in current]
            else:
                item["categories"] = [c for c in current if c not in codes]
        elif name == "groups":
            codes = []
            for code in self._codes(name, value):
                spelled = catalog.spelling("group", code)
                if spelled is None:
                    raise _Documented(
                        'Property "groups" expects a valid group code. The group does not '
                        f'exist, "{code}" given.'
                    )
                if spelled not in codes:
                    codes.append(spelled)
            item["groups"] = codes
        elif name == "parent":
            self._set_parent(entity, item, value)
        elif name == "family_variant":
            if value is not None and not isinstance(value, str):
                raise _Documented(
                    f'Property "family_variant" expects a string as data, "{php_type(value)}" '
                    "given."
                )
            spelled = catalog.spelling("family_variant", value) if value is not None else None
            variant = catalog.family_variants.get(spelled) if spelled is not None else None
            if value is not None and variant is None:
                raise _Documented(
                    'Property "family_variant" expects a valid family variant code. The family '
                    f'variant does not exist, "{value}" given.'
                )
            item["family_variant"] = spelled
            if variant is not None and variant.family:
                item["family"] = variant.family
        elif name == "values":
            self._set_values(entity, item, value, violations)
        elif name == "associations":
            self._set_associations(entity, item, value)
        elif name == "quantified_associations":
            self._set_quantified(entity, item, value, violations)

    @staticmethod
    def _codes(name: str, value: Any) -> list[str]:
        if not isinstance(value, list):
            raise _Documented(
                f'Property "{name}" expects an array as data, "{php_type(value)}" given.'
            )
        if not all(isinstance(v, str) for v in value):
            raise _Documented(
                f'Property "{name}" expects an array with valid data, one of the values is '
                "not a string."
            )
        return list(dict.fromkeys(value))

    def _set_parent(self, entity: Entity, item: dict[str, Any], value: Any) -> None:
        if value is not None and not isinstance(value, str):
            raise _Documented(
                f'Property "parent" expects a string as data, "{php_type(value)}" given.'
            )
        if value is None or value == "":
            if entity != "product-models" and item.get("parent"):
                # a variant turned simple keeps every value it showed, inherited ones too
                item["values"] = self.values_with_ancestors(item)
            item["parent"] = None
            return
        parent = self.store.product_model(value)
        if parent is None:
            raise _Documented(
                'Property "parent" expects a valid parent code. The parent product model '
                f'does not exist, "{value}" given.'
            )
        item["parent"] = parent["code"]
        item["family"] = parent.get("family")
        if entity == "product-models":
            item["family_variant"] = parent.get("family_variant")

    def values_with_ancestors(self, item: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
        """An item's values merged over those of its parent models, as GET shows them."""
        chain: list[dict[str, Any]] = []
        parent_code = item.get("parent")
        while parent_code and len(chain) < 5:
            parent = self.store.product_model(parent_code)
            if parent is None:
                break
            chain.append(parent)
            parent_code = parent.get("parent")
        merged: dict[str, list[dict[str, Any]]] = {}
        for source in [*reversed(chain), item]:
            for code, values in source.get("values", {}).items():
                slot = {(v["locale"], v["scope"]): v for v in merged.get(code, [])}
                for v in values:
                    slot[(v["locale"], v["scope"])] = v
                merged[code] = list(slot.values())
        return merged

    # -- associations --------------------------------------------------------------------
    def _set_associations(self, entity: Entity, item: dict[str, Any], value: Any) -> None:
        if value == []:
            return
        if not isinstance(value, dict):
            raise _Documented(
                f'Property "associations" expects an array as data, "{php_type(value)}" given.'
            )
        by_uuid = entity == "products-uuid"
        for given_type, targets in value.items():
            type_code = self.catalog.spelling("association_type", given_type) or given_type
            if type_code not in self.catalog.association_types:
                raise _Documented(
                    'Property "associations" expects a valid association type code. The '
                    f'association type does not exist, "{given_type}" given.'
                )
            if targets == []:
                continue
            if not isinstance(targets, dict):
                raise _Documented(
                    'Property "associations" expects an array as data, '
                    f'"{php_type(targets)}" given.'
                )
            slot = item["associations"].setdefault(
                type_code, {"groups": [], "product_uuids": [], "product_models": []}
            )
            for kind, codes in targets.items():
                if kind not in _ASSOCIATION_KINDS:
                    # UNCONFIRMED text
                    raise _Documented(
                        'Property "associations" expects an array with the keys "products", '
                        f'"product_uuids", "product_models" or "groups", "{kind}" given.'
                    )
                codes = self._codes("associations", codes)
                if kind == "products" and not by_uuid:
                    slot["product_uuids"] = [self._product_uuid_by_identifier(c) for c in codes]
                elif kind in {"products", "product_uuids"}:
                    slot["product_uuids"] = [self._existing_uuid(c) for c in codes]
                elif kind == "product_models":
                    for code in codes:
                        if self.store.product_model(code) is None:
                            raise _Documented(
                                'Property "associations" expects a valid product model '
                                f'identifier. The product model does not exist, "{code}" given.'
                            )
                    slot["product_models"] = codes
                else:
                    spelled = [self.catalog.spelling("group", code) for code in codes]
                    for code, found in zip(codes, spelled, strict=True):
                        if found is None:
                            raise _Documented(
                                'Property "associations" expects a valid group code. The '
                                f'group does not exist, "{code}" given.'
                            )
                    slot["groups"] = [found for found in spelled if found is not None]

    def _product_uuid_by_identifier(self, identifier: str) -> str:
        target = self.store.product_by_identifier(identifier)
        if target is None:
            raise _Documented(
                'Property "associations" expects a valid product identifier. The product does '
                f'not exist, "{identifier}" given.'
            )
        return str(target["uuid"])

    def _existing_uuid(self, uid: str) -> str:
        target = self.store.product_by_uuid(uid) if _UUID_RE.match(uid) else None
        if target is None:
            raise _Documented(
                'Property "associations" expects a valid product uuid. The product does not '
                f'exist, "{uid}" given.'
            )
        return str(target["uuid"])

    def _set_quantified(
        self, entity: Entity, item: dict[str, Any], value: Any, violations: _Violations
    ) -> None:
        if value == []:
            return
        if not isinstance(value, dict):
            raise _Documented(
                'Property "quantified_associations" expects an array as data, '
                f'"{php_type(value)}" given.'
            )
        for given_type, targets in value.items():
            type_code = (
                self.catalog.spelling("quantified_association_type", given_type) or given_type
            )
            if type_code not in self.catalog.quantified_association_types:
                raise _Documented(
                    'Property "quantified_associations" expects a valid quantified association '
                    f'type code. The association type does not exist, "{given_type}" given.'
                )
            if not isinstance(targets, dict):
                raise _Documented(
                    'Property "quantified_associations" expects an array as data, '
                    f'"{php_type(targets)}" given.'
                )
            slot = item["quantified_associations"].setdefault(
                type_code, {"products": [], "product_models": []}
            )
            for kind, entries in targets.items():
                if kind not in {"products", "product_models"} or not isinstance(entries, list):
                    raise _Documented(
                        'Property "quantified_associations" expects an array of arrays with the '
                        'keys "products" and "product_models".'
                    )
                cleaned: list[dict[str, Any]] = []
                id_key = (
                    "uuid" if entity == "products-uuid" and kind == "products" else "identifier"
                )
                for entry in entries:
                    if not isinstance(entry, dict) or not isinstance(entry.get(id_key), str):
                        raise _Documented(
                            f'Property "quantified_associations" expects an array with the key '
                            f'"{id_key}".'
                        )
                    quantity = entry.get("quantity")
                    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
                        # UNCONFIRMED text
                        violations.add(
                            f"quantifiedAssociations.{type_code}.{kind}",
                            "A quantity must be a positive integer.",
                        )
                        continue
                    cleaned.append({id_key: entry[id_key], "quantity": quantity})
                missing = [e[id_key] for e in cleaned if not self._exists(kind, id_key, e[id_key])]
                if missing:
                    # UNCONFIRMED text: Akeneo's QuantifiedAssociations validator, as we recall it
                    what = "product models" if kind == "product_models" else "products"
                    violations.add(
                        f"quantifiedAssociations.{type_code}.{kind}",
                        f"The following {what} don't exist: {', '.join(missing)}. Please make "
                        f"sure the {what} haven't been deleted in the meantime.",
                    )
                slot[kind] = cleaned

    def _exists(self, kind: str, id_key: str, code: str) -> bool:
        if kind == "product_models":
            return self.store.product_model(code) is not None
        if id_key == "uuid":
            return self.store.product_by_uuid(code) is not None
        return self.store.product_by_identifier(code) is not None

    # -- values --------------------------------------------------------------------------
    def _set_values(
        self, entity: Entity, item: dict[str, Any], raw: Any, violations: _Violations
    ) -> None:
        if raw == []:
            return
        if not isinstance(raw, dict):
            raise _Documented(
                f'Property "values" expects an array as data, "{php_type(raw)}" given.'
            )
        values: dict[str, list[dict[str, Any]]] = item["values"]
        for code, entries in raw.items():
            spec = self.catalog.attribute(code)
            if spec is None:
                raise _Documented(f"The {code} attribute does not exist in your PIM.")
            if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
                raise _Documented(f'Property "{spec.code}" expects an array of arrays as data.')
            for entry in entries:
                self._set_value(entity, spec, entry, values, violations)

    def _set_value(
        self,
        entity: Entity,
        spec: AttributeSpec,
        entry: dict[str, Any],
        values: dict[str, list[dict[str, Any]]],
        violations: _Violations,
    ) -> None:
        if "data" not in entry:
            raise _Documented(f'Property "{spec.code}" expects an array with the key "data".')
        locale = entry.get("locale")
        scope = entry.get("scope")
        if locale is not None and not isinstance(locale, str):
            locale = php_str(locale)
        if scope is not None and not isinstance(scope, str):
            scope = php_str(scope)
        data = entry["data"]
        if spec.type == "pim_catalog_identifier" and entity == "products":
            return  # overwritten from ``identifier`` afterwards
        current = values.get(spec.code, [])
        kept = [v for v in current if v["locale"] != locale or v["scope"] != scope]
        if _is_empty(spec, data):
            if kept:
                values[spec.code] = kept
            else:
                values.pop(spec.code, None)
            return
        _validate_attribute(spec, scope, locale)
        self._check_context(spec, locale, scope, violations)
        normalised = self._normalise(spec, data, locale, scope, violations)
        if normalised is _INVALID:
            return
        kept.append({"locale": locale, "scope": scope, "data": normalised})
        values[spec.code] = kept

    def _check_context(
        self, spec: AttributeSpec, locale: str | None, scope: str | None, violations: _Violations
    ) -> None:
        catalog = self.catalog
        where = {"attribute": spec.code, "locale": locale, "scope": scope}
        if scope is not None and scope not in catalog.channel_locales:
            violations.add(
                "values",
                f'Value "{spec.code}" expects an existing channel, "{scope}" given',
                **where,
            )
        if locale is None:
            return
        if locale not in catalog.active_locales:
            violations.add(
                "values",
                f'Attribute "{spec.code}" expects an existing and activated locale, "{locale}" '
                "given.",
                **where,
            )
        elif scope is not None and locale not in catalog.channel_locales.get(scope, {locale}):
            violations.add(
                "values",
                f'Attribute "{spec.code}" expects a valid locale, "{locale}" is not bound to '
                f'channel "{scope}".',
                **where,
            )
        elif spec.available_locales and locale not in spec.available_locales:
            violations.add(
                "values",
                f"The {locale} locale is not available on the {spec.code} attribute.",
                **where,
            )

    def _normalise(
        self,
        spec: AttributeSpec,
        data: Any,
        locale: str | None,
        scope: str | None,
        violations: _Violations,
    ) -> Any:
        """The stored form of ``data``, or _INVALID after recording violations.

        Raises _Documented for shape and JSON-type errors (the value factories' checks).
        """
        kind = spec.type
        code = spec.code

        def violation(message: str, currency: str | None = None) -> None:
            violations.add(
                "values", message, attribute=code, locale=locale, scope=scope, currency=currency
            )

        if kind == "pim_catalog_identifier":
            if not isinstance(data, str):
                raise _string_expected(code, data)
            return data
        if kind in _TEXT_TYPES:
            if isinstance(data, list | dict):
                raise _string_expected(code, data)
            if not isinstance(data, str):
                violation(
                    f"The {code} attribute requires a string, a {php_type(data)} was detected."
                )
                return _INVALID
            limit = spec.max_characters
            if limit is None and kind == "pim_catalog_textarea":
                limit = TEXTAREA_MAX_CHARACTERS
            if limit is not None and len(data) > limit:
                violation(
                    f"The {code} attribute must not contain more than {limit} characters. "
                    "The submitted value is too long."
                )
                return _INVALID
            return data
        if kind == "pim_catalog_boolean":
            if not isinstance(data, bool):
                raise _Documented(
                    f'Property "{code}" expects a boolean as data, "{php_type(data)}" given.'
                )
            return data
        if kind == "pim_catalog_number":
            if isinstance(data, list | dict | bool):
                raise _Documented(
                    f'Property "{code}" expects a numeric as data, "{php_type(data)}" given.'
                )
            return self._number(spec, data, violation)
        if kind == "pim_catalog_date":
            return self._date(spec, data, violation)
        if kind == "pim_catalog_simpleselect":
            if not isinstance(data, str):
                raise _string_expected(code, data)
            found = spec.options.get(data.lower())
            if found is None and self._create_options and spec.option_creation:
                self._add_option(code, data)
                found = data
            if found is None:
                violation(f"The {data} value is not in the {code} attribute option list.")
                return _INVALID
            return found
        if kind == "pim_catalog_multiselect":
            if not isinstance(data, list):
                raise _array_expected(code, data)
            if not all(isinstance(o, str) for o in data):
                raise _Documented(
                    f'Property "{code}" expects an array with valid data, one of the options is '
                    "not a string."
                )
            chosen: list[str] = []
            unknown: list[str] = []
            for option in data:
                found = spec.options.get(option.lower())
                if found is None and self._create_options and spec.option_creation:
                    self._add_option(code, option)
                    spec = self.catalog.attributes[code]
                    found = option
                if found is None:
                    if option.lower() not in unknown:
                        unknown.append(option.lower())
                elif found not in chosen:
                    chosen.append(found)
            if unknown:
                violation(
                    f"The {', '.join(unknown)} values are not in the {code} attribute option list."
                )
                return _INVALID
            return sorted(chosen)
        if kind == "pim_catalog_price_collection":
            return self._prices(spec, data, violation)
        if kind == "pim_catalog_metric":
            return self._metric(spec, data, violation)
        if kind in {"pim_catalog_file", "pim_catalog_image"}:
            if not isinstance(data, str):
                raise _string_expected(code, data)
            if not self.store.has_media_file(data):
                raise _Documented(
                    f'Property "{code}" expects a valid fileinfo key. The media does not exist, '
                    f'"{data}" given.'
                )
            return data
        if kind in _STRING_TYPES:
            if not isinstance(data, str):
                raise _string_expected(code, data)
            return data
        if kind in _STRING_LIST_TYPES:
            if not isinstance(data, list):
                raise _array_expected(code, data)
            if not all(isinstance(v, str) for v in data):
                raise _Documented(
                    f'Property "{code}" expects an array with valid data, one of the values is '
                    "not a string."
                )
            codes = list(dict.fromkeys(data))
            if kind == "pim_catalog_asset_collection" and not self._assets_ok(
                spec, codes, violation
            ):
                return _INVALID
            return codes
        if kind == "pim_catalog_table":
            return self._table(spec, data, violation)
        if kind == "pim_catalog_product_link":
            return _product_link(code, data)
        return data  # an attribute type the sandbox does not know: stored as sent

    def _assets_ok(
        self, spec: AttributeSpec, codes: list[str], violation: Callable[..., None]
    ) -> bool:
        """Akeneo's asset collection constraints: AssetsShouldBelongToAssetFamily, then
        ThereShouldBeLessAssetsInValueThanLimit (akeneo/pim-community-dev,
        src/Akeneo/Pim/Enrichment/AssetManager/Component/Validator/Constraints/)."""
        ok = True
        family = spec.reference_data_name
        if family is not None:
            for asset in codes:
                if self.store.asset(family, asset) is None:
                    # validators.en_US.yml: assets_should_belong_to_asset_family
                    violation(
                        f'Please make sure the "{asset}" asset exists and belongs to the '
                        f'"{family}" asset family.'
                    )
                    ok = False
        # the attribute's max_items_count (API reference), else Akeneo's
        # enrich_max_asset_in_asset_collection parameter
        limit = spec.max_items_count or MAX_ASSETS_IN_COLLECTION
        if len(codes) > limit:
            # UNCONFIRMED text: the translation under asset_multiple_link.limit_reached (the
            # constraint's own key, should_contain_less_than_limit, has no English text)
            violation(
                f"You have reached the limit of {limit} assets per collection, you can no "
                "longer add assets to your collection."
            )
            ok = False
        return ok

    def _add_option(self, attribute: str, code: str) -> None:
        # create_missing_options: the new option is part of the catalog from now on
        self.catalog.add_option(attribute, code)
        self.store.save_catalog(self.catalog.data)

    def _number(
        self,
        spec: AttributeSpec,
        data: Any,
        violation: Callable[..., None],
        *,
        currency: str | None = None,
        min_places: int = 4,
    ) -> Any:
        code = spec.code
        value = to_decimal(data)
        if value is None:
            violation(
                f"The {code} attribute requires a number, and the submitted {php_str(data)} "
                "value is not.",
                currency,
            )
            return _INVALID
        if abs(value) > PHP_INT_MAX:
            violation(f"The maximum number must be lower than {PHP_INT_MAX}.", currency)
            return _INVALID
        if not spec.decimals_allowed and value != value.to_integral_value():
            violation(
                f"The {code} attribute requires a non-decimal value, and {php_str(data)} is not "
                "a valid value.",
                currency,
            )
            return _INVALID
        low = spec.number_min
        if not spec.negative_allowed and (low is None or low < 0):
            low = Decimal(0)
        if low is not None and value < low:
            violation(
                f"The {code} attribute requires an equal or greater than {plain_number(low)} "
                "value.",
                currency,
            )
            return _INVALID
        if spec.number_max is not None and value > spec.number_max:
            violation(
                f"The {code} attribute requires an equal or lesser than "
                f"{plain_number(spec.number_max)} value.",
                currency,
            )
            return _INVALID
        if spec.decimals_allowed:
            return fixed_number(value, min_places)
        return int(value)

    def _date(self, spec: AttributeSpec, data: Any, violation: Callable[..., None]) -> Any:
        code = spec.code
        if not isinstance(data, str):
            raise _string_expected(code, data)
        parsed: date | None = None
        if _DATE_RE.match(data):
            try:
                parsed = date.fromisoformat(data[:10])
                if len(data) > 10:
                    datetime.fromisoformat(data)
            except ValueError:
                parsed = None
        if parsed is None:
            raise _Documented(
                f'Property "{code}" expects a string with the format "yyyy-mm-dd" as data, '
                f'"{data}" given.'
            )
        if spec.date_min is not None and parsed < spec.date_min:
            violation(
                f"The {code} attribute requires a date that should be "
                f"{spec.date_min.isoformat()} or after."
            )
            return _INVALID
        if spec.date_max is not None and parsed > spec.date_max:
            violation(
                f"The {code} attribute requires a date that should be "
                f"{spec.date_max.isoformat()} or before."
            )
            return _INVALID
        return f"{parsed.isoformat()}T00:00:00+00:00"

    def _prices(self, spec: AttributeSpec, data: Any, violation: Callable[..., None]) -> Any:
        code = spec.code
        if not isinstance(data, list):
            raise _array_expected(code, data)
        by_currency: dict[str, Any] = {}
        failed = False
        for price in data:
            if not isinstance(price, dict):
                raise _Documented(f'Property "{code}" expects an array of arrays as data.')
            for key in ("amount", "currency"):
                if key not in price:
                    raise _Documented(f'Property "{code}" expects an array with the key "{key}".')
            currency = price["currency"]
            if not isinstance(currency, str):
                raise _Documented(
                    f'Property "{code}" expects a string as data, "{php_type(currency)}" given.'
                )
            amount = price["amount"]
            if amount is None:
                continue  # dropped one by one (EntityWithValuesBuilder)
            if isinstance(amount, list | dict | bool):
                raise _Documented(
                    f'Property "{code}" expects a numeric as data, "{php_type(amount)}" given.'
                )
            if currency not in self.catalog.channel_currencies:
                violation(
                    f"Please specify a valid currency for the {code} attribute, the {currency} "
                    "code was sent.",
                    currency,
                )
                failed = True
                continue
            normalised = self._number(spec, amount, violation, currency=currency, min_places=2)
            if normalised is _INVALID:
                failed = True
                continue
            by_currency[currency] = normalised
        if failed:
            return _INVALID
        return [{"amount": by_currency[c], "currency": c} for c in sorted(by_currency)]

    def _metric(self, spec: AttributeSpec, data: Any, violation: Callable[..., None]) -> Any:
        code = spec.code
        if not isinstance(data, dict):
            raise _array_expected(code, data)
        for key in ("amount", "unit"):
            if key not in data:
                raise _Documented(f'Property "{code}" expects an array with the key "{key}".')
        unit = data["unit"]
        amount = data["amount"]
        if not isinstance(unit, str):
            raise _Documented(
                f'Property "{code}" expects a string as data, "{php_type(unit)}" given.'
            )
        if isinstance(amount, list | dict | bool):
            raise _Documented(
                f'Property "{code}" expects a numeric as data, "{php_type(amount)}" given.'
            )
        found = spec.units.get(unit.upper())
        if found is None:
            violation("Please specify a valid metric unit")
            return _INVALID
        normalised = self._number(spec, amount, violation)
        if normalised is _INVALID:
            return _INVALID
        return {"amount": normalised, "unit": found}

    def _table(self, spec: AttributeSpec, data: Any, violation: Callable[..., None]) -> Any:
        # UNCONFIRMED texts: the reference has none for table cells
        code = spec.code
        if not isinstance(data, list):
            raise _array_expected(code, data)
        if not all(isinstance(row, dict) for row in data):
            raise _Documented(f'Property "{code}" expects an array of arrays as data.')
        columns = {c.code: c for c in spec.table_columns}
        if not columns:
            return data
        first = spec.table_columns[0].code
        ok = True
        if len(data) > 100:
            violation(f"The {code} attribute must not contain more than 100 rows.")
            return _INVALID
        for row in data:
            if row.get(first) in (None, ""):
                violation(f'The "{first}" column is required in every row of the {code} table.')
                ok = False
            for column_code, cell in row.items():
                column = columns.get(column_code)
                if column is None:
                    violation(f'The "{column_code}" column does not exist in the {code} table.')
                    ok = False
                elif cell is not None and not _cell_fits(column.data_type, cell):
                    violation(
                        f'The "{column_code}" column of the {code} table expects a '
                        f'{_CELL_WORDS.get(column.data_type, "string")}, "{php_str(cell)}" given.'
                    )
                    ok = False
        return data if ok else _INVALID


_CELL_WORDS = {"number": "number", "boolean": "boolean", "measurement": "measurement"}


def _cell_fits(data_type: str, cell: Any) -> bool:
    if data_type == "number":
        return to_decimal(cell) is not None
    if data_type == "boolean":
        return isinstance(cell, bool)
    if data_type == "measurement":
        return isinstance(cell, dict) and "amount" in cell and "unit" in cell
    return isinstance(cell, str)


def _product_link(code: str, data: Any) -> Any:
    # UNCONFIRMED texts: shape from DOC-PROD, messages in the value factories' style
    if not isinstance(data, dict):
        raise _array_expected(code, data)
    if data.get("type") not in {"product", "product_model"}:
        raise _Documented(f'Property "{code}" expects an array with the key "type".')
    if not isinstance(data.get("id"), str) and not isinstance(data.get("identifier"), str):
        raise _Documented(f'Property "{code}" expects an array with the key "id".')
    return data


def _validate_attribute(spec: AttributeSpec, scope: str | None, locale: str | None) -> None:
    """Akeneo's ValidateAttribute: locale and channel must match the attribute's settings."""
    if spec.localizable and spec.scopable:
        wrong = scope is None or locale is None
        expects = "a channel code and a locale code"
    elif spec.localizable:
        wrong = scope is not None or locale is None
        expects = "a locale code and a null channel code"
    elif spec.scopable:
        wrong = scope is None or locale is not None
        expects = "a channel code and a null locale code"
    else:
        wrong = scope is not None or locale is not None
        expects = "a null channel code and a null locale code"
    if wrong:
        raise _Documented(
            f'Attribute "{spec.code}" expects {expects}, "{php_str(scope)}" channel code and '
            f'"{php_str(locale)}" locale code given.'
        )


def _axis_text(data: Any) -> str:
    if isinstance(data, dict) and "amount" in data:
        return f"{php_str(data['amount'])} {php_str(data.get('unit'))}"
    if isinstance(data, list):
        return ",".join(php_str(d) for d in data)
    if isinstance(data, bool):
        return "true" if data else "false"
    return php_str(data)


def _string_expected(code: str, data: Any) -> _Documented:
    return _Documented(f'Property "{code}" expects a string as data, "{php_type(data)}" given.')


def _array_expected(code: str, data: Any) -> _Documented:
    return _Documented(f'Property "{code}" expects an array as data, "{php_type(data)}" given.')


def _validation_failed(violations: _Violations) -> Outcome:
    return Outcome(422, {"code": 422, "message": "Validation failed.", "errors": violations.items})


def _changed(new: dict[str, Any], old: dict[str, Any]) -> bool:
    """Whether an update changed what the entity holds, as Akeneo sees it: its values are a
    collection keyed by (attribute, locale, channel) and its categories and groups a set,
    so the order they were sent in is no change (nothing saved, ``updated`` kept)."""
    if new == old:
        return False
    return _content(new) != _content(old)


def _content(item: dict[str, Any]) -> dict[str, Any]:
    values = {
        code: sorted(entries, key=lambda e: (str(e.get("locale")), str(e.get("scope"))))
        for code, entries in (item.get("values") or {}).items()
    }
    unordered = {
        name: sorted(item[name], key=str)
        for name in ("categories", "groups")
        if isinstance(item.get(name), list)
    }
    return {**item, "values": values, **unordered}


def _deep_copy(item: dict[str, Any]) -> dict[str, Any]:
    import orjson

    copied: dict[str, Any] = orjson.loads(orjson.dumps(item))
    return copied
