"""The ``search`` filters of the product and product-model lists, checked and matched as Akeneo.

Sources (akeneo/pim-community-dev, unless said otherwise):

- checks, in this order (``ListProductsQueryValidator``): pagination, ``attributes``
  (``ValidateAttributes``), ``scope`` (``ValidateChannel``), ``locales``
  (``ValidateLocales``), the filters' structure (``ValidateCriterion``), the categories
  they name (``ValidateCategories``), the properties (``ValidateProperties``), the
  identifier list (``ValidateIdentifiersLimit``), the locales they name and
  ``search_locale`` (``ValidateSearchLocale``);
- then each filter in turn (``ApplyProductSearchQueryParametersToPQB``): ``locale`` and
  ``scope`` default to ``search_locale`` and ``search_scope``, are ignored for attributes
  that are not localizable / scopable (``AbstractEntityWithValuesQueryBuilder``), dates of
  ``created`` / ``updated`` are read as ``Y-m-d H:i:s``, ``parent`` means any ancestor,
  and a ``scope`` with no ``categories`` filter keeps the products of the channel's tree;
  ``EMPTY`` on an attribute also requires a family. Unknown operators give the
  PQB's ``Filter on property "x" is not supported or does not support operator "y"``;
- operators per property and attribute type: the API docs' filter page
  (akeneo/pim-api-docs content/rest-api/filter.md) and the Elasticsearch filters
  (``FamilyFilter``, ``DateTimeFilter``, ``Product/CompletenessFilter``);
- the error texts are those of the end-to-end tests ``ErrorListProductWithUuidEndToEnd``
  and of the classes above. Texts marked UNCONFIRMED are the sandbox's own.

Where Elasticsearch's analysers decide, the sandbox compares text case-insensitively
(identifiers, text values, file names) and exactly otherwise.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

import orjson

from feed_export.sandbox.catalog import AttributeSpec, SandboxCatalog
from feed_export.sandbox.store import SandboxStore
from feed_export.sandbox.updater import php_str, php_type, to_decimal

Kind = Literal["products", "product-models"]

#: Akeneo's ValidateProperties::$productFields (the properties that are not attributes)
PRODUCT_FIELDS = frozenset(
    {
        "family",
        "categories",
        "completeness",
        "identifier",
        "created",
        "updated",
        "enabled",
        "groups",
        "parent",
    }
)
IDENTIFIERS_LIMIT = 100  # ValidateIdentifiersLimit::LIMIT
DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"

_TEXT_OPERATORS = frozenset(
    {"STARTS WITH", "CONTAINS", "DOES NOT CONTAIN", "=", "!=", "EMPTY", "NOT EMPTY"}
)
_NUMBER_OPERATORS = frozenset({"<", "<=", "=", "!=", ">=", ">", "EMPTY", "NOT EMPTY"})
_LIST_OPERATORS = frozenset({"IN", "NOT IN", "EMPTY", "NOT EMPTY"})
_ATTRIBUTE_OPERATORS: dict[str, frozenset[str]] = {
    "pim_catalog_identifier": _TEXT_OPERATORS | {"IN", "NOT IN"},
    "pim_catalog_text": _TEXT_OPERATORS,
    "pim_catalog_textarea": _TEXT_OPERATORS,
    "pim_catalog_number": _NUMBER_OPERATORS,
    "pim_catalog_metric": _NUMBER_OPERATORS,
    "pim_catalog_price_collection": _NUMBER_OPERATORS,
    "pim_catalog_simpleselect": _LIST_OPERATORS,
    "pim_catalog_multiselect": _LIST_OPERATORS,
    "pim_catalog_boolean": frozenset({"=", "!=", "EMPTY", "NOT EMPTY"}),
    "pim_catalog_date": frozenset(
        {"<", "=", "!=", ">", "BETWEEN", "NOT BETWEEN", "EMPTY", "NOT EMPTY"}
    ),
    "pim_catalog_file": _TEXT_OPERATORS,
    "pim_catalog_image": _TEXT_OPERATORS,
}
# types the docs page does not list: codes compared as lists (UNCONFIRMED operator sets)
_CODE_LIST_TYPES = frozenset(
    {
        "pim_catalog_reference_data_simpleselect",
        "pim_catalog_reference_data_multiselect",
        "pim_reference_data_simpleselect",
        "pim_reference_data_multiselect",
        "akeneo_reference_entity",
        "akeneo_reference_entity_collection",
        "pim_catalog_asset_collection",
    }
)
_COMPLETENESS_PRODUCT = frozenset(
    {
        "=",
        "!=",
        "<",
        "<=",
        ">",
        ">=",
        "GREATER THAN ON ALL LOCALES",
        "GREATER OR EQUALS THAN ON ALL LOCALES",
        "LOWER THAN ON ALL LOCALES",
        "LOWER OR EQUALS THAN ON ALL LOCALES",
    }
)
_COMPLETENESS_MODEL = frozenset(
    {"AT LEAST COMPLETE", "AT LEAST INCOMPLETE", "ALL COMPLETE", "ALL INCOMPLETE"}
)
_DATE_FIELD_OPERATORS = frozenset(
    {"=", "!=", "<", ">", "BETWEEN", "NOT BETWEEN", "SINCE LAST N DAYS", "EMPTY", "NOT EMPTY"}
)
_CATEGORY_OPERATORS = frozenset(
    {"IN", "NOT IN", "IN OR UNCLASSIFIED", "IN CHILDREN", "NOT IN CHILDREN", "UNCLASSIFIED"}
)
_FIELD_OPERATORS: dict[Kind, dict[str, frozenset[str]]] = {
    "products": {
        "family": _LIST_OPERATORS,
        "groups": _LIST_OPERATORS,
        "categories": _CATEGORY_OPERATORS,
        "enabled": frozenset({"=", "!="}),
        "completeness": _COMPLETENESS_PRODUCT,
        "created": _DATE_FIELD_OPERATORS,
        "updated": _DATE_FIELD_OPERATORS,
        "parent": frozenset({"=", "IN", "NOT IN", "EMPTY", "NOT EMPTY"}),
        "identifier": _TEXT_OPERATORS | {"IN", "NOT IN"},
        "uuid": frozenset({"IN", "NOT IN"}),
    },
    "product-models": {
        "family": _LIST_OPERATORS,
        "categories": _CATEGORY_OPERATORS,
        "completeness": _COMPLETENESS_MODEL,
        "created": _DATE_FIELD_OPERATORS,
        "updated": _DATE_FIELD_OPERATORS,
        "parent": frozenset({"=", "IN", "NOT IN", "EMPTY", "NOT EMPTY"}),
        "identifier": _TEXT_OPERATORS | {"IN", "NOT IN"},
    },
}


class InvalidQuery(Exception):
    """A list request Akeneo refuses: ``status`` (422 unless said) and its message."""

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True, slots=True)
class ListParams:
    """What a list request asks for, beside pagination."""

    search: dict[str, Any]
    scope: str | None = None
    locales: list[str] | None = None
    attributes: list[str] | None = None
    search_locale: str | None = None
    search_scope: str | None = None


def decode_search(text: str | None, bad_json_status: int) -> dict[str, Any]:
    """The ``search`` parameter as a dict (a JSON list counts, keyed "0", "1"...).

    ``json_decode($search, true)`` must give an array; anything else is
    ``Search query parameter should be valid JSON.`` (400 on products, 422 on models).
    """
    if text is None:
        return {}
    try:
        decoded = orjson.loads(text)
    except orjson.JSONDecodeError:
        decoded = None
    if isinstance(decoded, list):
        return {str(i): v for i, v in enumerate(decoded)}
    if not isinstance(decoded, dict):
        raise InvalidQuery("Search query parameter should be valid JSON.", bad_json_status)
    return decoded


def php_json(data: Any) -> str:
    """``json_encode($data)`` with PHP's defaults (``\\/`` and ``\\uXXXX`` escapes)."""
    return json.dumps(data, separators=(",", ":"), ensure_ascii=True).replace("/", "\\/")


# -- the validator (ListProductsQueryValidator) ---------------------------------------------
def validate(catalog: SandboxCatalog, params: ListParams) -> None:
    """Akeneo's checks of a list request, in its order (pagination is checked before)."""
    if params.attributes is not None:
        missing = [c.strip() for c in params.attributes if catalog.attribute(c.strip()) is None]
        if missing:
            word = (
                'Attributes "{}" do not exist.'
                if len(missing) > 1
                else ('Attribute "{}" does not exist.')
            )
            raise InvalidQuery(word.format(", ".join(missing)))
    if params.scope is not None and params.scope not in catalog.channel_locales:
        raise InvalidQuery(f'Scope "{params.scope}" does not exist.')
    if params.locales is not None:
        codes = [c.strip() for c in params.locales]
        _check_locales(catalog, codes)
        if params.scope is not None:
            bound = catalog.channel_locales[params.scope]
            extra = [c for c in codes if c not in bound]
            if extra:
                which = (
                    f'Locales "{", ".join(extra)}" are'
                    if len(extra) > 1
                    else f'Locale "{extra[0]}" is'
                )
                raise InvalidQuery(f'{which} not activated for the scope "{params.scope}".')
    search = params.search
    for prop, filters in search.items():  # ValidateCriterion
        if not isinstance(filters, list) or not filters:
            raise InvalidQuery(
                f'Structure of filter "{prop}" should respect this structure: '
                f'{{"{prop}":[{{"operator": "my_operator", "value": "my_value"}}]}}'
            )
        for one in filters:
            operator = one.get("operator") if isinstance(one, dict) else None
            if operator is None:
                raise InvalidQuery(f'Operator is missing for the property "{prop}".')
            if not isinstance(operator, str):
                raise InvalidQuery(f'Operator has to be a string, "{php_type(operator)}" given.')
    if "categories" in search:  # ValidateCategories
        missing = []
        for one in search["categories"]:
            value = one.get("value")
            for code in value if isinstance(value, list) else []:
                code = php_str(code).strip()
                if code not in catalog.categories:
                    missing.append(code)
        if missing:
            word = (
                'Categories "{}" do not exist.'
                if len(missing) > 1
                else ('Category "{}" does not exist.')
            )
            raise InvalidQuery(word.format(", ".join(missing)))
    for prop, filters in search.items():  # ValidateProperties
        for one in filters:
            if not (prop in PRODUCT_FIELDS or prop == "uuid" or catalog.attribute(prop)):
                raise InvalidQuery(_unsupported(prop, one["operator"]))
    for one in search.get("identifier", []):  # ValidateIdentifiersLimit
        if one["operator"] == "IN":
            if one.get("value") is None:
                raise InvalidQuery("The identifier filter can't contain null value")
            values = one["value"] if isinstance(one["value"], list) else [one["value"]]
            if len({php_str(v) for v in values}) > IDENTIFIERS_LIMIT:
                raise InvalidQuery(
                    "The identifier filter can't contain more than "
                    f"{IDENTIFIERS_LIMIT} product identifiers.",
                    400,
                )
            break
    locales: list[str] = []  # ValidateSearchLocale
    for prop, filters in search.items():
        for one in filters:
            if prop == "completeness":
                if one.get("locales") is not None and not isinstance(one["locales"], list):
                    raise InvalidQuery(
                        'Property "completeness" expects an array with the key "locales".'
                    )
            else:
                if one.get("locale") is not None and not isinstance(one["locale"], str):
                    raise InvalidQuery(f'Property "{prop}" expects a string with the key "locale".')
                if one.get("locales") is not None:
                    raise InvalidQuery(f'Property "{prop}" expects an array with the key "locale".')
            if one.get("locale") is not None:
                locales.append(one["locale"])
            if isinstance(one.get("locales"), list):
                locales.extend(php_str(c) for c in one["locales"])
    if params.search_locale is not None:
        locales.append(params.search_locale)
    _check_locales(catalog, list(dict.fromkeys(locales)))


def _check_locales(catalog: SandboxCatalog, codes: list[str]) -> None:
    missing = [c for c in codes if c not in catalog.active_locales]
    if missing:
        word = (
            'Locales "{}" do not exist or are not activated.'
            if len(missing) > 1
            else 'Locale "{}" does not exist or is not activated.'
        )
        raise InvalidQuery(word.format(", ".join(missing)))


def _unsupported(prop: str, operator: Any) -> str:
    return (
        f'Filter on property "{prop}" is not supported or does not support operator '
        f'"{php_str(operator)}"'
    )


# -- what a filter looks at ---------------------------------------------------------------
ValuesOf = Callable[[dict[str, Any]], dict[str, list[dict[str, Any]]]]


@dataclass
class Candidate:
    """One stored product or product model, with what the filters derive from it, lazily.

    ``values_of`` gives an item's values merged over its parents' (what GET shows, and
    what Akeneo's search index holds).
    """

    kind: Kind
    item: dict[str, Any]
    store: SandboxStore
    catalog: SandboxCatalog
    values_of: ValuesOf
    _values: dict[str, list[dict[str, Any]]] | None = field(default=None, repr=False)
    _ancestors: list[dict[str, Any]] | None = field(default=None, repr=False)
    _completeness: dict[tuple[str, str], int] | None = field(default=None, repr=False)

    @property
    def values(self) -> dict[str, list[dict[str, Any]]]:
        if self._values is None:
            self._values = self.values_of(self.item)
        return self._values

    @property
    def ancestors(self) -> list[dict[str, Any]]:
        """Parent models, nearest first."""
        if self._ancestors is None:
            chain: list[dict[str, Any]] = []
            code = self.item.get("parent")
            while code and len(chain) < 5:
                parent = self.store.product_model(code)
                if parent is None:
                    break
                chain.append(parent)
                code = parent.get("parent")
            self._ancestors = chain
        return self._ancestors

    @property
    def identifier(self) -> str | None:
        key = "identifier" if self.kind == "products" else "code"
        found = self.item.get(key)
        return found if isinstance(found, str) else None

    @property
    def updated(self) -> str | None:
        # a variant matches when one of its parents was updated (filter.md, "On their
        # creation or update date")
        stamps = [
            s
            for s in [self.item.get("updated")] + [a.get("updated") for a in self.ancestors]
            if isinstance(s, str)
        ]
        return max(stamps) if stamps else None

    def completeness(self, channel: str, locale: str) -> int | None:
        """The product's completeness ratio, or None without family or requirements."""
        if self._completeness is None:
            self._completeness = _completeness(self.catalog, self.item.get("family"), self.values)
        return self._completeness.get((channel, locale))


def _completeness(
    catalog: SandboxCatalog, family: Any, values: dict[str, list[dict[str, Any]]]
) -> dict[tuple[str, str], int]:
    """Ratios per (channel, locale) from the family's attribute requirements.

    Akeneo's CompletenessCalculator: ``floor(100 * (required - missing) / required)``;
    a requirement counts for a locale unless the attribute is locale-specific elsewhere.
    """
    requirements = catalog.family_requirements.get(family) if isinstance(family, str) else None
    if requirements is None:
        return {}
    ratios: dict[tuple[str, str], int] = {}
    for channel, required in requirements.items():
        for locale in sorted(catalog.channel_locales.get(channel, ())):
            total = filled = 0
            for code in required:
                spec = catalog.attributes.get(code)
                if spec is None:
                    continue
                if spec.available_locales and locale not in spec.available_locales:
                    continue
                total += 1
                want_locale = locale if spec.localizable else None
                want_scope = channel if spec.scopable else None
                if any(
                    v.get("locale") == want_locale
                    and v.get("scope") == want_scope
                    and v.get("data") not in (None, "", [])
                    for v in values.get(code, [])
                ):
                    filled += 1
            ratios[(channel, locale)] = 100 if total == 0 else math.floor(100 * filled / total)
    return ratios


Predicate = Callable[[Candidate], bool]


# -- building the filters (the PQB) ---------------------------------------------------------
def compile_search(
    catalog: SandboxCatalog, store: SandboxStore, kind: Kind, params: ListParams, now: float
) -> list[Predicate]:
    """One predicate per filter, in Akeneo's order; raises InvalidQuery as its filters do."""
    search = dict(params.search)
    if "categories" not in search and params.scope is not None:
        tree = catalog.channel_trees.get(params.scope)
        if tree is not None:
            search["categories"] = [{"operator": "IN CHILDREN", "value": [tree]}]
    predicates: list[Predicate] = []
    for prop, filters in search.items():
        for one in filters:
            operator: str = one["operator"]
            locale = one.get("locale", None) or params.search_locale
            scope = one.get("scope", None) or params.search_scope
            value = one.get("value")
            spec = catalog.attributes.get(prop)  # exact spelling (PIM-6064)
            if spec is not None:
                predicates.extend(_attribute_filter(catalog, store, spec, one, locale, scope))
                continue
            supported = _FIELD_OPERATORS[kind].get(prop, frozenset())
            if operator not in supported:
                raise InvalidQuery(_unsupported(prop, operator))
            predicates.append(
                _field_filter(catalog, kind, prop, operator, value, one, locale, scope, now)
            )
    return predicates


def _field_filter(
    catalog: SandboxCatalog,
    kind: Kind,
    prop: str,
    operator: str,
    value: Any,
    one: dict[str, Any],
    locale: str | None,
    scope: str | None,
    now: float,
) -> Predicate:
    if prop in {"family", "groups"}:
        if operator in {"EMPTY", "NOT EMPTY"}:
            if prop == "family":
                return lambda c: (c.item.get("family") is None) == (operator == "EMPTY")
            return lambda c: (not c.item.get("groups")) == (operator == "EMPTY")
        codes = _string_list(prop, value)
        if prop == "family":
            known = {f.lower(): f for f in catalog.families}
            for code in codes:  # FamilyFilter::checkValue (case-insensitive lookup)
                if code.lower() not in known:
                    raise InvalidQuery(f'Object "family" with code "{code}" does not exist')
            wanted = {known[c.lower()] for c in codes}
            if operator == "IN":
                return lambda c: c.item.get("family") in wanted
            return lambda c: c.item.get("family") not in wanted
        groups = set(codes)
        if operator == "IN":
            return lambda c: bool(groups & set(c.item.get("groups") or []))
        return lambda c: not groups & set(c.item.get("groups") or [])
    if prop == "categories":
        return _category_filter(catalog, operator, value)
    if prop == "enabled":
        if not isinstance(value, bool):
            raise InvalidQuery(
                f'Property "enabled" expects a boolean as data, "{php_type(value)}" given.'
            )
        wanted_enabled = value if operator == "=" else not value
        return lambda c: bool(c.item.get("enabled", True)) == wanted_enabled
    if prop == "completeness":
        if kind == "products":
            return _completeness_filter(catalog, operator, value, one, locale, scope)
        return _model_completeness_filter(catalog, operator, one, locale, scope)
    if prop in {"created", "updated"}:
        return _date_field_filter(prop, operator, value, now)
    if prop == "parent":
        return _parent_filter(operator, value)
    if prop == "uuid":
        uuids = {u.lower() for u in _string_list(prop, value)}
        if operator == "IN":
            return lambda c: str(c.item.get("uuid", "")).lower() in uuids
        return lambda c: str(c.item.get("uuid", "")).lower() not in uuids
    # identifier (a product's identifier, a model's code)
    return _text_match("identifier", operator, value, lambda c: [c.identifier])


def _string_list(prop: str, value: Any) -> list[str]:
    if not isinstance(value, list):
        raise InvalidQuery(
            f'Property "{prop}" expects an array as data, "{php_type(value)}" given.'
        )
    if not all(isinstance(v, str) for v in value):
        raise InvalidQuery(
            f'Property "{prop}" expects an array with valid data, one of the values is not '
            "a string."
        )
    return list(value)


def _category_filter(catalog: SandboxCatalog, operator: str, value: Any) -> Predicate:
    if operator == "UNCLASSIFIED":
        return lambda c: not c.item.get("categories")
    codes = _string_list("categories", value)
    if operator in {"IN CHILDREN", "NOT IN CHILDREN"}:
        wanted = set()
        for code in codes:
            wanted |= catalog.category_descendants(code)
    else:
        wanted = set(codes)
    if operator in {"IN", "IN CHILDREN"}:
        return lambda c: bool(wanted & set(c.item.get("categories") or []))
    if operator == "IN OR UNCLASSIFIED":
        return lambda c: (
            not c.item.get("categories") or bool(wanted & set(c.item.get("categories") or []))
        )
    return lambda c: not wanted & set(c.item.get("categories") or [])


def _compare(operator: str, left: Decimal, right: Decimal) -> bool:
    if operator == "=":
        return left == right
    if operator == "!=":
        return left != right
    if operator == "<":
        return left < right
    if operator == "<=":
        return left <= right
    if operator == ">":
        return left > right
    return left >= right


_ALL_LOCALES = {
    "GREATER THAN ON ALL LOCALES": ">",
    "GREATER OR EQUALS THAN ON ALL LOCALES": ">=",
    "LOWER THAN ON ALL LOCALES": "<",
    "LOWER OR EQUALS THAN ON ALL LOCALES": "<=",
}


def _completeness_filter(
    catalog: SandboxCatalog,
    operator: str,
    value: Any,
    one: dict[str, Any],
    locale: str | None,
    scope: str | None,
) -> Predicate:
    number = to_decimal(value)
    if number is None:
        raise InvalidQuery(
            f'Property "completeness" expects a numeric as data, "{php_type(value)}" given.'
        )
    if scope is None:
        raise InvalidQuery('Property "completeness" expects a valid scope.')  # dataExpected
    channel = scope
    if operator in _ALL_LOCALES:
        locales = one.get("locales")
        if not isinstance(locales, list):
            raise InvalidQuery('Property "completeness" expects an array with the key "locales".')
        codes = [php_str(x) for x in locales]
        compare = _ALL_LOCALES[operator]

        def all_locales(c: Candidate) -> bool:
            ratios = [c.completeness(channel, code) for code in codes]
            return all(r is not None and _compare(compare, Decimal(r), number) for r in ratios)

        return all_locales
    if locale is not None:
        codes = [locale]
    elif channel in catalog.channel_locales:
        codes = sorted(catalog.channel_locales[channel])
    else:
        raise InvalidQuery(f'Channel with "{channel}" code does not exist')
    if operator == "!=":
        # not equal on every locale, and a ratio on each (the filter's must_not + exists)
        return lambda c: all(
            (r := c.completeness(channel, code)) is not None and Decimal(r) != number
            for code in codes
        )
    return lambda c: any(
        (r := c.completeness(channel, code)) is not None and _compare(operator, Decimal(r), number)
        for code in codes
    )


def _model_completeness_filter(
    catalog: SandboxCatalog,
    operator: str,
    one: dict[str, Any],
    locale: str | None,
    scope: str | None,
) -> Predicate:
    # UNCONFIRMED texts; semantics from filter.md "On completeness" (product models)
    if scope is None:
        raise InvalidQuery('Property "completeness" expects a valid scope.')
    locales = one.get("locales")
    if isinstance(locales, list):
        codes = [php_str(x) for x in locales]
    elif locale is not None:
        codes = [locale]
    else:
        raise InvalidQuery('Property "completeness" expects an array with the key "locales".')
    channel = scope

    def variant_complete(c: Candidate) -> list[bool]:
        done: list[bool] = []
        pending = [c.item["code"]]
        while pending:
            code = pending.pop()
            pending.extend(m["code"] for m in c.store.child_models(code))
            for product in c.store.child_products(code):
                ratios = _completeness(catalog, product.get("family"), c.values_of(product))
                done.append(all(ratios.get((channel, loc)) == 100 for loc in codes))
        return done

    def matches(c: Candidate) -> bool:
        flags = variant_complete(c)
        if operator == "AT LEAST COMPLETE":
            return any(flags)
        if operator == "AT LEAST INCOMPLETE":
            return not all(flags) if flags else False
        if operator == "ALL COMPLETE":
            return bool(flags) and all(flags)
        return bool(flags) and not any(flags)

    return matches


def _parse_datetime(prop: str, value: Any) -> datetime:
    """``DateTime::createFromFormat('Y-m-d H:i:s', $value)``, or Akeneo's refusal.

    A value that does not parse reaches the filter as ``false``: UNCONFIRMED text.
    """
    if isinstance(value, str):
        try:
            return datetime.strptime(value, DATETIME_FORMAT).replace(tzinfo=UTC)
        except ValueError:
            pass
    raise InvalidQuery(
        f'Property "{prop}" expects a string with the format "yyyy-mm-dd H:i:s" as data, '
        f'"{php_str(value)}" given.'
    )


def _stamp(text: Any) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def _date_field_filter(prop: str, operator: str, value: Any, now: float) -> Predicate:
    def of(c: Candidate) -> datetime | None:
        return _stamp(c.updated if prop == "updated" else c.item.get("created"))

    if operator in {"EMPTY", "NOT EMPTY"}:
        return lambda c: (of(c) is None) == (operator == "EMPTY")
    if operator == "SINCE LAST N DAYS":
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidQuery(
                f'Property "{prop}" expects an integer as data, "{php_type(value)}" given.'
            )
        try:
            since = datetime.fromtimestamp(now, UTC) - timedelta(days=value)
        except (OverflowError, ValueError):  # beyond any date: everything, or nothing
            since = (
                datetime.min.replace(tzinfo=UTC) if value > 0 else datetime.max.replace(tzinfo=UTC)
            )
        return lambda c: (d := of(c)) is not None and d > since
    if operator in {"BETWEEN", "NOT BETWEEN"}:
        if not isinstance(value, list):
            raise InvalidQuery(
                f'Property "{prop}" expects an array as data, "{php_type(value)}" given.'
            )
        if len(value) != 2:
            raise InvalidQuery(
                f'Property "{prop}" expects an array with valid data, should contain 2 strings '
                'with the format "yyyy-mm-dd H:i:s".'
            )
        low, high = (_parse_datetime(prop, v) for v in value)
        if operator == "BETWEEN":
            return lambda c: (d := of(c)) is not None and low <= d <= high
        return lambda c: (d := of(c)) is not None and not low <= d <= high
    moment = _parse_datetime(prop, value)
    if operator == "=":
        return lambda c: of(c) == moment
    if operator == "!=":
        return lambda c: (d := of(c)) is not None and d != moment
    if operator == "<":
        return lambda c: (d := of(c)) is not None and d < moment
    return lambda c: (d := of(c)) is not None and d > moment


def _parent_filter(operator: str, value: Any) -> Predicate:
    if operator in {"EMPTY", "NOT EMPTY"}:
        return lambda c: (not c.item.get("parent")) == (operator == "EMPTY")
    if operator == "=":
        if not isinstance(value, str):
            raise InvalidQuery(
                f'Property "parent" expects a string as data, "{php_type(value)}" given.'
            )
        wanted = value.lower()
        # any ancestor: the root or the sub-model (filter.md "On their parent")
        return lambda c: any(a["code"].lower() == wanted for a in c.ancestors)
    codes = {v.lower() for v in _string_list("parent", value)}
    if operator == "IN":  # direct children only
        return lambda c: str(c.item.get("parent") or "").lower() in codes
    return lambda c: str(c.item.get("parent") or "").lower() not in codes


def _text_match(
    prop: str, operator: str, value: Any, texts: Callable[[Candidate], Iterable[str | None]]
) -> Predicate:
    """STARTS WITH, CONTAINS, =, != (and the rest) on strings, case-insensitively."""
    if operator in {"EMPTY", "NOT EMPTY"}:
        return lambda c: (not any(texts(c))) == (operator == "EMPTY")
    if operator in {"IN", "NOT IN"}:
        wanted = {v.lower() for v in _string_list(prop, value)}
        if operator == "IN":
            return lambda c: any(t is not None and t.lower() in wanted for t in texts(c))
        return lambda c: not any(t is not None and t.lower() in wanted for t in texts(c))
    if not isinstance(value, str):
        raise InvalidQuery(
            f'Property "{prop}" expects a string as data, "{php_type(value)}" given.'
        )
    needle = value.lower()
    tests: dict[str, Callable[[str], bool]] = {
        "STARTS WITH": lambda t: t.startswith(needle),
        "CONTAINS": lambda t: needle in t,
        "DOES NOT CONTAIN": lambda t: needle not in t,
        "=": lambda t: t == needle,
        "!=": lambda t: t != needle,
    }
    test = tests[operator]
    return lambda c: any(t is not None and test(t.lower()) for t in texts(c))


# -- attribute values -----------------------------------------------------------------------
def _attribute_filter(
    catalog: SandboxCatalog,
    store: SandboxStore,
    spec: AttributeSpec,
    one: dict[str, Any],
    locale: str | None,
    scope: str | None,
) -> list[Predicate]:
    operator: str = one["operator"]
    value = one.get("value")
    code = spec.code
    allowed = _ATTRIBUTE_OPERATORS.get(spec.type)
    if allowed is None:
        allowed = (
            _LIST_OPERATORS if spec.type in _CODE_LIST_TYPES else frozenset({"EMPTY", "NOT EMPTY"})
        )
    if operator not in allowed:
        raise InvalidQuery(_unsupported(code, operator))
    # AbstractEntityWithValuesQueryBuilder: context ignored where the attribute has none
    locale = locale if spec.localizable else None
    scope = scope if spec.scopable else None
    if spec.localizable and locale is None:
        raise InvalidQuery(f'Attribute "{code}" expects a locale, none given.')
    if spec.scopable and scope is None:
        raise InvalidQuery(f'Attribute "{code}" expects a scope, none given.')
    if locale is not None and locale not in catalog.active_locales:
        raise InvalidQuery(
            f'Attribute "{code}" expects an existing and activated locale, "{locale}" given.'
        )
    if scope is not None and scope not in catalog.channel_locales:
        raise InvalidQuery(f'Attribute "{code}" expects an existing scope, "{scope}" given.')

    def data(c: Candidate) -> Any:
        for v in c.values.get(code, []):
            if v.get("locale") == locale and v.get("scope") == scope:
                return v.get("data")
        return None

    def present(c: Candidate) -> bool:
        return data(c) not in (None, "", [])

    if operator in {"EMPTY", "NOT EMPTY"}:
        if operator == "EMPTY":
            # the PQB adds "family NOT EMPTY": optional values of family-less products
            # are not "empty", they do not exist
            return [lambda c: not present(c) and c.item.get("family") is not None]
        return [present]
    kind = spec.type
    if kind in {"pim_catalog_text", "pim_catalog_textarea", "pim_catalog_identifier"}:
        match = _text_match(code, operator, value, lambda c: [_str_or_none(data(c))])
        return [_needs_value(operator, present, match)]
    if kind in {"pim_catalog_file", "pim_catalog_image"}:

        def file_names(c: Candidate) -> list[str | None]:
            key = data(c)
            media = store.media_file(key) if isinstance(key, str) else None
            return [media.original_filename if media is not None else None]

        match = _text_match(code, operator, value, file_names)
        return [_needs_value(operator, present, match)]
    if kind == "pim_catalog_number":
        number = _numeric(code, value)
        return [lambda c: (d := to_decimal(data(c))) is not None and _compare(operator, d, number)]
    if kind == "pim_catalog_boolean":
        if not isinstance(value, bool):
            raise InvalidQuery(
                f'Property "{code}" expects a boolean as data, "{php_type(value)}" given.'
            )
        wanted = value if operator == "=" else not value
        return [lambda c: isinstance(d := data(c), bool) and d == wanted]
    if kind == "pim_catalog_date":
        return [_date_value_filter(code, operator, value, data)]
    if kind in {"pim_catalog_simpleselect", "pim_catalog_multiselect"}:
        codes = _string_list(code, value)
        for option in codes:
            if option.lower() not in spec.options:
                # UNCONFIRMED text: OptionFilter's ObjectNotFoundException as we recall it
                raise InvalidQuery(f'Object "option" with code "{option}" does not exist')
        wanted_options = {spec.options[o.lower()] for o in codes}
        return [_codes_filter(operator, wanted_options, data)]
    if kind in _CODE_LIST_TYPES:
        return [_codes_filter(operator, set(_string_list(code, value)), data)]
    if kind == "pim_catalog_price_collection":
        return [_price_filter(code, operator, value, data)]
    return [_metric_filter(catalog, spec, operator, value, data)]


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _needs_value(operator: str, present: Predicate, match: Predicate) -> Predicate:
    if operator in {"!=", "DOES NOT CONTAIN"}:  # must_not ... and exists
        return lambda c: present(c) and match(c)
    return match


def _numeric(code: str, value: Any) -> Decimal:
    number = to_decimal(value)
    if number is None:
        raise InvalidQuery(
            f'Property "{code}" expects a numeric as data, "{php_type(value)}" given.'
        )
    return number


def _codes_filter(operator: str, wanted: set[str], data: Callable[[Candidate], Any]) -> Predicate:
    def held(c: Candidate) -> set[str]:
        found = data(c)
        if isinstance(found, str):
            return {found}
        if isinstance(found, list):
            return {x for x in found if isinstance(x, str)}
        return set()

    if operator == "IN":
        return lambda c: bool(held(c) & wanted)
    return lambda c: bool(held(c)) and not held(c) & wanted  # NOT IN needs a value


def _date_value_filter(
    code: str, operator: str, value: Any, data: Callable[[Candidate], Any]
) -> Predicate:
    def parse(text: Any) -> date:
        if isinstance(text, str):
            try:
                return date.fromisoformat(text[:10])
            except ValueError:
                pass
        raise InvalidQuery(
            f'Property "{code}" expects a string with the format "yyyy-mm-dd" as data, '
            f'"{php_str(text)}" given.'
        )

    def held(c: Candidate) -> date | None:
        found = data(c)
        if not isinstance(found, str):
            return None
        try:
            return date.fromisoformat(found[:10])
        except ValueError:
            return None

    if operator in {"BETWEEN", "NOT BETWEEN"}:
        if not isinstance(value, list):
            raise InvalidQuery(
                f'Property "{code}" expects an array as data, "{php_type(value)}" given.'
            )
        if len(value) != 2:
            raise InvalidQuery(
                f'Property "{code}" expects an array with valid data, should contain 2 strings '
                'with the format "yyyy-mm-dd".'
            )
        low, high = parse(value[0]), parse(value[1])
        inside = operator == "BETWEEN"
        return lambda c: (d := held(c)) is not None and (low <= d <= high) == inside
    moment = parse(value)
    checks: dict[str, Callable[[date], bool]] = {
        "=": lambda d: d == moment,
        "!=": lambda d: d != moment,
        "<": lambda d: d < moment,
        ">": lambda d: d > moment,
    }
    check = checks[operator]
    return lambda c: (d := held(c)) is not None and check(d)


def _price_filter(
    code: str, operator: str, value: Any, data: Callable[[Candidate], Any]
) -> Predicate:
    if not isinstance(value, dict):
        raise InvalidQuery(
            f'Property "{code}" expects an array as data, "{php_type(value)}" given.'
        )
    for key in ("amount", "currency"):
        if key not in value:
            raise InvalidQuery(f'Property "{code}" expects an array with the key "{key}".')
    amount = _numeric(code, value["amount"])
    currency = value["currency"]

    def matches(c: Candidate) -> bool:
        for price in data(c) or []:
            if isinstance(price, dict) and price.get("currency") == currency:
                held = to_decimal(price.get("amount"))
                if held is not None and _compare(operator, held, amount):
                    return True
        return False

    return matches


def _metric_filter(
    catalog: SandboxCatalog,
    spec: AttributeSpec,
    operator: str,
    value: Any,
    data: Callable[[Candidate], Any],
) -> Predicate:
    code = spec.code
    if spec.type != "pim_catalog_metric":
        return lambda c: False  # a type the sandbox cannot compare
    if not isinstance(value, dict):
        raise InvalidQuery(
            f'Property "{code}" expects an array as data, "{php_type(value)}" given.'
        )
    for key in ("amount", "unit"):
        if key not in value:
            raise InvalidQuery(f'Property "{code}" expects an array with the key "{key}".')
    unit = spec.units.get(php_str(value["unit"]).upper())
    if unit is None:
        # UNCONFIRMED text
        raise InvalidQuery(
            f'Property "{code}" expects a valid unit. The unit does not exist, '
            f'"{php_str(value["unit"])}" given.'
        )
    wanted = catalog.to_standard_unit(spec, _numeric(code, value["amount"]), unit)

    def matches(c: Candidate) -> bool:
        found = data(c)
        if not isinstance(found, dict):
            return False
        amount = to_decimal(found.get("amount"))
        held_unit = spec.units.get(php_str(found.get("unit")).upper())
        if amount is None or held_unit is None:
            return False
        held = catalog.to_standard_unit(spec, amount, held_unit)
        return held is not None and wanted is not None and _compare(operator, held, wanted)

    return matches
