"""The sandbox PIM's structure: the catalog file validated once, with precomputed lookups."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal, InvalidOperation
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError

from feed_export.errors import ConfigError

#: Akeneo's own association types, used when a catalog file names none
DEFAULT_ASSOCIATION_TYPES: tuple[dict[str, Any], ...] = (
    {"code": "PACK", "labels": {}, "is_quantified": False, "is_two_way": False},
    {"code": "SUBSTITUTION", "labels": {}, "is_quantified": False, "is_two_way": False},
    {"code": "UPSELL", "labels": {}, "is_quantified": False, "is_two_way": False},
    {"code": "X_SELL", "labels": {}, "is_quantified": False, "is_two_way": False},
)

#: textarea values are capped by the PIM even without max_characters
TEXTAREA_MAX_CHARACTERS = 65535


class _Item(BaseModel):
    """Any catalog item: a code, the rest kept as the API returned it."""

    model_config = ConfigDict(extra="allow")
    code: str


def _codes_as_items(value: Any) -> Any:
    # a catalog file may list codes as plain strings (``catalog pull`` writes categories,
    # groups and options that way) or as the API's items
    if isinstance(value, list):
        return [{"code": v} if isinstance(v, str) else v for v in value]
    return value


_Items = Annotated[list[_Item], BeforeValidator(_codes_as_items)]


class _ProductModel(_Item):
    family_variant: str | None = None
    parent: str | None = None


class _Attribute(_Item):
    type: str
    localizable: bool = False
    scopable: bool = False
    unique: bool = False
    available_locales: list[str] | None = None
    max_characters: int | None = None
    number_min: str | float | int | None = None
    number_max: str | float | int | None = None
    decimals_allowed: bool | None = None
    negative_allowed: bool | None = None
    metric_family: str | None = None
    default_metric_unit: str | None = None
    date_min: str | None = None
    date_max: str | None = None
    reference_data_name: str | None = None
    enable_option_creation_during_import: bool | None = None
    max_items_count: int | None = None
    table_configuration: list[dict[str, Any]] | None = None


class _Channel(_Item):
    locales: list[str]
    currencies: list[str]
    category_tree: str | None = None


class _Locale(_Item):
    enabled: bool


class _Currency(_Item):
    enabled: bool


class _MeasurementFamily(_Item):
    standard_unit_code: str | None = None
    units: dict[str, dict[str, Any]]


class _Family(_Item):
    attributes: list[str] | None = None
    attribute_requirements: dict[str, list[str]] | None = None


class _FamilyVariant(_Item):
    family: str | None = None
    variant_attribute_sets: list[dict[str, Any]] = []


class _AssociationType(_Item):
    is_quantified: bool = False


class _AssetFamily(_Item):
    attribute_as_main_media: str | None = None


class _AssetAttribute(_Item):
    type: str
    value_per_locale: bool = False
    value_per_channel: bool = False
    max_characters: int | None = None
    allowed_extensions: list[str] = []
    decimals_allowed: bool = False


class _CatalogFile(BaseModel):
    model_config = ConfigDict(extra="allow")
    attributes: list[_Attribute]
    channels: list[_Channel]
    locales: list[_Locale]
    currencies: list[_Currency]
    measurement_families: list[_MeasurementFamily]
    families: list[_Family] = []
    family_variants: list[_FamilyVariant] = []
    attribute_options: dict[str, _Items] = {}
    categories: _Items = []
    association_types: list[_AssociationType] = []
    groups: _Items = []
    product_models: list[_ProductModel] = []
    asset_families: list[_AssetFamily] = []
    asset_attributes: dict[str, list[_AssetAttribute]] = {}
    asset_attribute_options: dict[str, dict[str, list[_Item]]] = {}


@dataclass(frozen=True, slots=True)
class TableColumn:
    code: str
    data_type: str
    validations: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class AssetAttributeSpec:
    """An asset family's attribute, as the asset validators need it."""

    code: str
    type: str  # text, media_file, media_link, number, boolean, single_option, ...
    localizable: bool
    scopable: bool
    max_characters: int | None
    allowed_extensions: tuple[str, ...]
    decimals_allowed: bool
    options: frozenset[str] | None  # None: the catalog file lists no options


@dataclass(frozen=True, slots=True)
class AttributeSpec:
    """What the updater and validators need to know about one attribute."""

    code: str
    type: str
    localizable: bool
    scopable: bool
    unique: bool
    available_locales: frozenset[str]
    max_characters: int | None
    number_min: Decimal | None
    number_max: Decimal | None
    decimals_allowed: bool
    negative_allowed: bool
    units: Mapping[str, str]  # upper-case unit code -> the family's spelling
    date_min: date | None
    date_max: date | None
    options: Mapping[str, str]  # lower-case option code -> the catalog's spelling
    option_creation: bool
    table_columns: tuple[TableColumn, ...]
    reference_data_name: str | None = None  # the asset family of an asset collection
    max_items_count: int | None = None


def _decimal(value: str | float | int | None) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _date(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


class SandboxCatalog:
    """The catalog as the API lists it (``data``) plus lookups for validation."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        try:
            parsed = _CatalogFile.model_validate(data)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:5]
            )
            raise ConfigError(
                f"sandbox catalog: not in the catalog-file shape ({problems}); "
                "write one with `feed-export catalog pull` or start from the demo catalog"
            ) from None
        self.data: dict[str, Any] = json.loads(json.dumps(data))  # a private deep copy
        self.data.setdefault("attribute_options", {})
        self.data.setdefault("families", [])
        self.data.setdefault("family_variants", [])
        self.data.setdefault("categories", [])
        self.data.setdefault("groups", [])
        self.data.setdefault("asset_families", [])
        self.data.setdefault("asset_attributes", {})
        self.data.setdefault("product_models", [])
        # codes written as plain strings are served as the API's items
        for section in ("categories", "groups"):
            self.data[section] = [
                {
                    "code": item,
                    "labels": {},
                    **({"parent": None} if section == "categories" else {}),
                }
                if isinstance(item, str)
                else item
                for item in self.data[section]
            ]
        self.data["attribute_options"] = {
            attribute: [
                {"code": item, "attribute": attribute, "sort_order": i, "labels": {}}
                if isinstance(item, str)
                else item
                for i, item in enumerate(items, start=1)
            ]
            for attribute, items in self.data["attribute_options"].items()
        }
        #: product models the catalog file says exist (code, family_variant, parent)
        self.product_models = [(m.code, m.family_variant, m.parent) for m in parsed.product_models]
        if not self.data.get("association_types"):
            self.data["association_types"] = [dict(t) for t in DEFAULT_ASSOCIATION_TYPES]
        units_by_family = {
            mf.code: {u.upper(): u for u in mf.units} for mf in parsed.measurement_families
        }
        options = {
            attr: {o.code.lower(): o.code for o in items}
            for attr, items in parsed.attribute_options.items()
        }
        self.attributes: dict[str, AttributeSpec] = {}
        for a in parsed.attributes:
            self.attributes[a.code] = AttributeSpec(
                code=a.code,
                type=a.type,
                localizable=a.localizable,
                scopable=a.scopable,
                unique=a.unique and a.type != "pim_catalog_identifier",
                available_locales=frozenset(a.available_locales or ()),
                max_characters=a.max_characters,
                number_min=_decimal(a.number_min),
                number_max=_decimal(a.number_max),
                decimals_allowed=bool(a.decimals_allowed),
                negative_allowed=a.negative_allowed is not False,
                units=units_by_family.get(a.metric_family or "", {}),
                date_min=_date(a.date_min),
                date_max=_date(a.date_max),
                options=options.get(a.code, {}),
                option_creation=bool(a.enable_option_creation_during_import),
                reference_data_name=a.reference_data_name,
                max_items_count=a.max_items_count,
                table_columns=tuple(
                    TableColumn(
                        code=str(c.get("code", "")),
                        data_type=str(c.get("data_type", "text")),
                        validations=c.get("validations") or {},
                    )
                    for c in a.table_configuration or ()
                ),
            )
        self.attributes_ci = {code.lower(): spec for code, spec in self.attributes.items()}
        identifiers = [a.code for a in parsed.attributes if a.type == "pim_catalog_identifier"]
        self.identifier_attribute: str = identifiers[0] if identifiers else "sku"
        self.channel_locales: dict[str, frozenset[str]] = {
            c.code: frozenset(c.locales) for c in parsed.channels
        }
        self.active_locales = frozenset(loc.code for loc in parsed.locales if loc.enabled)
        # prices are checked against the currencies of any channel (CurrencyValidator)
        self.channel_currencies = frozenset(cur for c in parsed.channels for cur in c.currencies)
        self.families = frozenset(f.code for f in parsed.families)
        #: each family's attribute codes, for the families whose catalog entry lists them
        self.family_attributes: dict[str, frozenset[str]] = {
            f.code: frozenset(f.attributes) for f in parsed.families if f.attributes is not None
        }
        self.family_variants: dict[str, _FamilyVariant] = {
            fv.code: fv for fv in parsed.family_variants
        }
        self.categories = frozenset(c.code for c in parsed.categories)
        #: each family's required attributes per channel (completeness)
        self.family_requirements: dict[str, dict[str, list[str]]] = {
            f.code: f.attribute_requirements
            for f in parsed.families
            if f.attribute_requirements is not None
        }
        self.channel_trees: dict[str, str] = {
            c.code: c.category_tree for c in parsed.channels if c.category_tree
        }
        self._category_children: dict[str, list[str]] = {}
        for category in parsed.categories:
            parent = (category.model_extra or {}).get("parent")
            if isinstance(parent, str):
                self._category_children.setdefault(parent, []).append(category.code)
        self.metric_families: dict[str, str] = {
            a.code: a.metric_family for a in parsed.attributes if a.metric_family
        }
        self._unit_operations: dict[str, dict[str, list[dict[str, Any]]]] = {
            mf.code: {
                unit: list(spec.get("convert_from_standard") or [])
                for unit, spec in mf.units.items()
            }
            for mf in parsed.measurement_families
        }
        self.groups = frozenset(g.code for g in parsed.groups)
        #: asset families by code (as served), and their attributes by family and code
        self.asset_families: dict[str, dict[str, Any]] = {
            item["code"]: item for item in self.data["asset_families"]
        }
        self.asset_attributes: dict[str, dict[str, AssetAttributeSpec]] = {}
        for family_code, attributes in parsed.asset_attributes.items():
            listed = parsed.asset_attribute_options.get(family_code, {})
            self.asset_attributes[family_code] = {
                a.code: AssetAttributeSpec(
                    code=a.code,
                    type=a.type,
                    localizable=a.value_per_locale,
                    scopable=a.value_per_channel,
                    max_characters=a.max_characters,
                    allowed_extensions=tuple(e.lower() for e in a.allowed_extensions),
                    decimals_allowed=a.decimals_allowed,
                    options=(
                        frozenset(o.code for o in listed[a.code]) if a.code in listed else None
                    ),
                )
                for a in attributes
            }
        types = parsed.association_types or [
            _AssociationType.model_validate(t) for t in DEFAULT_ASSOCIATION_TYPES
        ]
        self.association_types = frozenset(t.code for t in types if not t.is_quantified)
        self.quantified_association_types = frozenset(t.code for t in types if t.is_quantified)
        # codes are found whatever their case, as MySQL's collation finds them in Akeneo
        # (findOneByIdentifier), and stored in the catalog's spelling
        self._spellings: dict[str, dict[str, str]] = {
            kind: {code.lower(): code for code in codes}
            for kind, codes in (
                ("family", self.families),
                ("category", self.categories),
                ("group", self.groups),
                ("family_variant", self.family_variants),
                ("association_type", self.association_types),
                ("quantified_association_type", self.quantified_association_types),
            )
        }

    def spelling(self, kind: str, code: str) -> str | None:
        """The catalog's spelling of a ``family``, ``category``, ``group``,
        ``family_variant``, ``association_type`` or ``quantified_association_type`` code,
        matched whatever its case; None when there is none."""
        return self._spellings[kind].get(code.lower())

    def attribute(self, code: str) -> AttributeSpec | None:
        """The attribute named ``code``, matched like MySQL does: case-insensitively."""
        return self.attributes.get(code) or self.attributes_ci.get(code.lower())

    def category_descendants(self, code: str) -> set[str]:
        """The category and every category below it (IN CHILDREN)."""
        found = {code}
        pending = [code]
        while pending:
            for child in self._category_children.get(pending.pop(), []):
                if child not in found:
                    found.add(child)
                    pending.append(child)
        return found

    def to_standard_unit(self, spec: AttributeSpec, amount: Decimal, unit: str) -> Decimal | None:
        """``amount`` in ``unit`` converted to its family's standard unit, or None.

        Akeneo's measure converter applies the unit's ``convert_from_standard``
        operations in order (mul, div, add, sub) to reach the standard unit.
        """
        family = self.metric_families.get(spec.code)
        operations = self._unit_operations.get(family or "", {}).get(unit)
        if operations is None:
            return None
        value = amount
        try:
            for step in operations:
                operand = Decimal(str(step.get("value")))
                kind = step.get("operator")
                if kind == "mul":
                    value *= operand
                elif kind == "div":
                    value /= operand
                elif kind == "add":
                    value += operand
                elif kind == "sub":
                    value -= operand
        except (InvalidOperation, ArithmeticError):
            return None
        return value

    def add_option(self, attribute: str, code: str) -> None:
        """Create a missing option (``create_missing_options``); label-less like Akeneo's."""
        items = self.data["attribute_options"].setdefault(attribute, [])
        items.append(
            {"code": code, "attribute": attribute, "sort_order": len(items) + 1, "labels": {}}
        )
        spec = self.attributes[attribute]
        options = dict(spec.options)
        options[code.lower()] = code
        updated = replace(spec, options=options)
        self.attributes[attribute] = updated
        self.attributes_ci[attribute.lower()] = updated


def demo_catalog_data() -> dict[str, Any]:
    """The demo catalog shipped with the package (an apparel and electronics shop)."""
    text = resources.files("feed_export").joinpath("data/demo_catalog.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def load_catalog_data(catalog: Mapping[str, Any] | Path | str | None) -> dict[str, Any] | None:
    """Catalog data from a dict or a JSON file; None stays None (the caller picks a default)."""
    if catalog is None:
        return None
    if isinstance(catalog, Mapping):
        return dict(catalog)
    path = Path(catalog)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the sandbox catalog ({exc.strerror})") from None
    except ValueError as exc:
        raise ConfigError(f"{path}: the sandbox catalog is not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the sandbox catalog must be one JSON object")
    return data
