"""The PIM's structure (attributes, locales, channels, currencies, units), validated once.

A catalog is one JSON object whose keys hold items exactly as Akeneo's REST API returns
them (``attributes``, ``channels``, ``locales``, ``currencies``, ``measurement_families``,
optionally ``families`` and ``family_variants``). Items are pydantic models (a trust
boundary: the file may come from anywhere); every lookup the decoder needs is a
precomputed dict, case-insensitive on codes, answering with the catalog's spelling.

Optional sections let a dry run check what the PIM checks (``catalog.checks``):
``attribute_options`` (attribute code -> its option codes), ``categories``, ``groups``
(codes), ``association_types`` (items: ``code``, ``is_quantified``) and
``product_models`` (``code``, ``family_variant``, ``parent``: where each model sits).
Codes may be written as strings or as the API's items (``{"code": ...}``). A section
that is absent is unknown (``has``), never empty: the checks that need it are skipped
with a warning.

Assets (Akeneo's asset manager): ``asset_families`` holds the items of
``GET /asset-families`` and ``asset_attributes`` each family's attributes, keyed by
family code (``GET /asset-families/{code}/attributes``): what an asset collection
column needs to turn files into assets (the family's main media attribute and its type),
and what an assets feed's header names.

>>> catalog = Catalog.from_dict({"attributes": [{"code": "sku", "type": "pim_catalog_identifier"}],
...                              "locales": [{"code": "en_US", "enabled": True}]})
>>> catalog.attribute("SKU").code, catalog.locale("EN_us").code
('sku', 'en_US')
"""

from __future__ import annotations

import copy
import difflib
import json
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any, TextIO

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError

from feed_export.errors import ConfigError
from feed_export.feed.units import REC20, rec20_index

# ---------------------------------------------------------------------------
# items, as the REST API returns them


def _none_to_empty(value: Any) -> Any:
    return () if value is None else value


def _number_to_text(value: Any) -> Any:
    # number_min / number_max / max_file_size are strings in the API ("1.0000"); a
    # hand-written catalog may hold plain numbers
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return str(value)
    return value


_Codes = Annotated[tuple[str, ...], BeforeValidator(_none_to_empty)]
_NumberText = Annotated[str | None, BeforeValidator(_number_to_text)]


class _Item(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Attribute(_Item):
    """``GET /api/rest/v1/attributes`` item (fields that do not apply are null)."""

    code: str
    type: str
    localizable: bool = False
    scopable: bool = False
    available_locales: _Codes = ()
    unique: bool = False
    max_characters: int | None = None
    validation_rule: str | None = None
    validation_regexp: str | None = None
    number_min: _NumberText = None
    number_max: _NumberText = None
    decimals_allowed: bool | None = None
    negative_allowed: bool | None = None
    metric_family: str | None = None
    default_metric_unit: str | None = None
    date_min: str | None = None
    date_max: str | None = None
    allowed_extensions: _Codes = ()
    max_file_size: _NumberText = None
    reference_data_name: str | None = None
    table_configuration: tuple[Any, ...] | None = None
    is_main_identifier: bool | None = None
    enable_option_creation_during_import: bool | None = None
    max_items_count: int | None = None  # an asset collection's limit


class Channel(_Item):
    """``GET /api/rest/v1/channels`` item."""

    code: str
    locales: _Codes = ()
    currencies: _Codes = ()
    category_tree: str | None = None


class Locale(_Item):
    """``GET /api/rest/v1/locales`` item. ``enabled`` means activated (on some channel)."""

    code: str
    enabled: bool = True  # a hand-written catalog that lists a locale means to use it


class Currency(_Item):
    """``GET /api/rest/v1/currencies`` item."""

    code: str
    enabled: bool = True


class Unit(_Item):
    """One unit of a measurement family."""

    code: str
    symbol: str | None = None
    labels: dict[str, str] = {}
    convert_from_standard: tuple[Any, ...] = ()


class MeasurementFamily(_Item):
    """``GET /api/rest/v1/measurement-families`` item."""

    code: str
    standard_unit_code: str | None = None
    units: dict[str, Unit] = {}


class Family(_Item):
    """``GET /api/rest/v1/families`` item (only what the decoder may use)."""

    code: str
    attributes: _Codes = ()
    attribute_as_label: str | None = None
    attribute_as_image: str | None = None
    #: channel code -> the attributes a product of the family needs there (a template
    #: puts them first)
    attribute_requirements: dict[str, tuple[str, ...]] = {}
    labels: dict[str, str] = {}


class FamilyVariant(_Item):
    """``GET /api/rest/v1/families/{code}/variants`` item (``family`` added by whoever wrote it)."""

    code: str
    family: str | None = None
    variant_attribute_sets: tuple[Any, ...] = ()

    def levels(self) -> tuple[VariantLevel, ...]:
        """The variant attribute sets, by level (1 = the first under the root model)."""
        found: list[VariantLevel] = []
        for item in self.variant_attribute_sets:
            if not isinstance(item, Mapping):
                continue
            try:
                level = int(item.get("level", 0))
            except (TypeError, ValueError):
                continue
            axes = tuple(str(a) for a in item.get("axes") or ())
            # axes belong to their level's attributes in Akeneo, even if a file forgets them
            attributes = tuple(
                dict.fromkeys([*(str(a) for a in item.get("attributes") or ()), *axes])
            )
            found.append(VariantLevel(level, axes, attributes))
        return tuple(sorted(found, key=lambda lv: lv.level))


@dataclass(frozen=True, slots=True)
class VariantLevel:
    """One variant attribute set of a family variant."""

    level: int
    axes: tuple[str, ...]
    attributes: tuple[str, ...]  # axes included


class AssetFamily(_Item):
    """``GET /api/rest/v1/asset-families`` item (what a push uses of it)."""

    code: str
    attribute_as_main_media: str | None = None


class AssetAttribute(_Item):
    """``GET /api/rest/v1/asset-families/{code}/attributes`` item.

    ``media_file`` and ``media_link`` attributes may be a family's main media: a file
    uploaded with ``POST /asset-media-files``, or a URL (``prefix`` + data + ``suffix``).
    """

    code: str
    type: str
    value_per_locale: bool = False
    value_per_channel: bool = False
    is_read_only: bool = False
    allowed_extensions: _Codes = ()
    max_file_size: _NumberText = None
    media_type: str | None = None
    prefix: str | None = None
    suffix: str | None = None
    max_characters: int | None = None
    decimals_allowed: bool | None = None
    min_value: _NumberText = None
    max_value: _NumberText = None


#: the asset attribute types that may be a family's main media
MAIN_MEDIA_TYPES = frozenset({"media_file", "media_link"})


class AssociationType(_Item):
    """``GET /api/rest/v1/association-types`` item."""

    code: str
    is_quantified: bool = False


class ProductModel(_Item):
    """Where one product model sits: its family variant and its parent (no values)."""

    code: str
    family_variant: str | None = None
    parent: str | None = None


_SECTIONS: dict[str, type[_Item]] = {
    "attributes": Attribute,
    "channels": Channel,
    "locales": Locale,
    "currencies": Currency,
    "measurement_families": MeasurementFamily,
    "families": Family,
    "family_variants": FamilyVariant,
    "association_types": AssociationType,
    "product_models": ProductModel,
    "asset_families": AssetFamily,
}
#: sections of plain codes (strings, or items with a ``code``)
_CODE_SECTIONS = ("categories", "groups")
#: the sections only the checks read: a new option or category in the PIM changes no line
#: already sent (``--only-changed`` salts its hashes with the rest of the catalog)
CHECK_SECTIONS = (
    "attribute_options",
    "categories",
    "groups",
    "association_types",
    "product_models",
)
#: every optional section, as ``Catalog.has`` names them
OPTIONAL_SECTIONS = (
    "families",
    "family_variants",
    "attribute_options",
    "categories",
    "groups",
    "association_types",
    "product_models",
    "asset_families",
)

#: a catalog file's sections, in the order ``write_catalog`` writes them
SECTION_ORDER = (
    "attributes",
    "channels",
    "locales",
    "currencies",
    "measurement_families",
    "families",
    "family_variants",
    "attribute_options",
    "categories",
    "groups",
    "association_types",
    "product_models",
    "asset_families",
    "asset_attributes",
)

CatalogSection = Iterable[Any] | Mapping[str, Iterable[Any]]


def write_catalog(out: TextIO, sections: Mapping[str, CatalogSection]) -> dict[str, int]:
    """Write a catalog file, one item a line, reading each section as it goes; the counts.

    A section is a list of items (read lazily: an iterator is written as its pages come),
    or, for ``attribute_options``, an object of attribute code -> option codes. Sections
    are written in ``SECTION_ORDER``, others after them.

    >>> import io
    >>> buffer = io.StringIO()
    >>> write_catalog(buffer, {"categories": iter(["men", "women"])})
    {'categories': 2}
    >>> json.loads(buffer.getvalue())
    {'categories': ['men', 'women']}
    """
    counts: dict[str, int] = {}
    names = [n for n in SECTION_ORDER if n in sections]
    names += [n for n in sections if n not in SECTION_ORDER]
    out.write("{")
    for i, name in enumerate(names):
        section = sections[name]
        out.write(("," if i else "") + f"\n  {json.dumps(name)}: ")
        if isinstance(section, Mapping):
            out.write("{")
            total = 0
            for j, (key, items) in enumerate(section.items()):
                out.write(("," if j else "") + f"\n    {json.dumps(key)}: ")
                total += _write_items(out, items, "    ")
            out.write("\n  }" if section else "}")
            counts[name] = total
        else:
            counts[name] = _write_items(out, section, "  ")
    out.write("\n}\n")
    return counts


def _write_items(out: TextIO, items: Iterable[Any], indent: str) -> int:
    count = 0
    for item in items:
        out.write(("," if count else "[") + f"\n{indent}  {json.dumps(item, ensure_ascii=False)}")
        count += 1
    out.write(f"\n{indent}]" if count else "[]")
    return count


# ---------------------------------------------------------------------------
# units


def _fold(text: str) -> str:
    # NFKC makes "m2" meet "m²" and the micro sign meet the Greek mu; casefold the rest
    return unicodedata.normalize("NFKC", text).casefold()


@dataclass(frozen=True, slots=True)
class UnitLookup:
    """Finds a unit of one measurement family from what a feed writes.

    Order (the first that matches wins): Akeneo unit code (any case), symbol as written,
    symbol ignoring case and Unicode look-alikes (``m2`` for ``m²``), UN/CEFACT Rec. 20
    common code (``MMT``). ``checked`` is False when the family is not in the catalog:
    then any unit is passed on upper-cased (after mapping a Rec. 20 code) and the PIM
    judges it.

    >>> units = {"MILLIMETER": Unit(code="MILLIMETER", symbol="mm")}
    >>> lookup = UnitLookup.build(MeasurementFamily(code="Length", units=units))
    >>> [lookup.resolve(t) for t in ("millimeter", "mm", "MM", "MMT", "inch")]
    ['MILLIMETER', 'MILLIMETER', 'MILLIMETER', 'MILLIMETER', None]
    """

    family: str
    checked: bool
    by_code: Mapping[str, str]
    by_symbol: Mapping[str, str]
    by_folded_symbol: Mapping[str, str]
    ambiguous_folded: Mapping[str, tuple[str, ...]]
    by_rec20: Mapping[str, str]
    units: tuple[tuple[str, str | None], ...]  # (code, symbol), for messages

    @classmethod
    def build(cls, family: MeasurementFamily) -> UnitLookup:
        by_code: dict[str, str] = {}
        by_symbol: dict[str, str] = {}
        folded: dict[str, list[str]] = {}
        units: list[tuple[str, str | None]] = []
        for key, unit in family.units.items():
            code = unit.code or key
            by_code[code.upper()] = code
            units.append((code, unit.symbol))
            if unit.symbol:
                by_symbol.setdefault(unit.symbol, code)
                bucket = folded.setdefault(_fold(unit.symbol), [])
                if code not in bucket:
                    bucket.append(code)
        return cls(
            family=family.code,
            checked=True,
            by_code=by_code,
            by_symbol=by_symbol,
            by_folded_symbol={k: v[0] for k, v in folded.items() if len(v) == 1},
            ambiguous_folded={k: tuple(v) for k, v in folded.items() if len(v) > 1},
            by_rec20={
                rec20: by_code[code.upper()]
                for rec20, code in rec20_index(family.code, by_code).items()
                if code.upper() in by_code
            },
            units=tuple(units),
        )

    @classmethod
    def unchecked(cls, family: str) -> UnitLookup:
        """A lookup for a family the catalog does not describe: Rec. 20 codes only."""
        standard = next(
            (units for name, units in REC20.items() if name.lower() == family.lower()), {}
        )
        return cls(
            family=family,
            checked=False,
            by_code={code: code for code in standard},
            by_symbol={},
            by_folded_symbol={},
            ambiguous_folded={},
            by_rec20=rec20_index(family, standard),
            units=tuple((code, None) for code in standard),
        )

    def resolve(self, text: str) -> str | None:
        """The Akeneo unit code for ``text`` (already stripped), or None if unknown/ambiguous."""
        found = self.by_code.get(text.upper())
        if found is not None:
            return found
        found = self.by_symbol.get(text)
        if found is not None:
            return found
        found = self.by_folded_symbol.get(_fold(text))
        if found is not None:
            return found
        found = self.by_rec20.get(text.upper())
        if found is not None:
            return found
        if not self.checked and text and text.replace("_", "").isalnum() and text.isascii():
            return text.upper()
        return None

    def explain(self, text: str) -> str:
        """Why ``text`` is not a unit of this family, and what is (for messages)."""
        clash = self.ambiguous_folded.get(_fold(text))
        if clash:
            names = " or ".join(
                f"{code} ({symbol})" for code, symbol in self.units if code in clash
            )
            return (
                f'unit "{text}" is ambiguous in {self.family}: {names}; '
                "write the symbol with its exact case or the unit code"
            )
        listing = ", ".join(
            f"{code} ({symbol})" if symbol else code for code, symbol in self.units[:12]
        )
        more = f", ... ({len(self.units)} units)" if len(self.units) > 12 else ""
        return f'unknown unit "{text}" for {self.family}; use one of {listing}{more}'


# ---------------------------------------------------------------------------
# the catalog


def _lower_index(items: Iterable[Any]) -> dict[str, Any]:
    return {item.code.lower(): item for item in items}


def _spelling_index(codes: Iterable[str]) -> dict[str, str]:
    """lower-case code -> the catalog's spelling (the first one wins)."""
    index: dict[str, str] = {}
    for code in codes:
        index.setdefault(code.lower(), code)
    return index


def similar_codes(code: str, index: Mapping[str, str], limit: int = 3) -> list[str]:
    """Codes of ``index`` (lower-case -> spelling) that look like ``code`` ("did you mean").

    >>> similar_codes("clothng", {"clothing": "clothing", "shoes": "shoes"})
    ['clothing']
    """
    if len(index) > 50_000:
        return []  # difflib over a huge list costs more than the hint is worth
    hits = difflib.get_close_matches(code.lower(), list(index), n=limit, cutoff=0.75)
    return [index[h] for h in hits]


def _codes_of(items: Any, where: str, problems: list[str]) -> list[str] | None:
    """A list of codes written as strings or as items with a ``code``; None if unusable."""
    if not isinstance(items, list):
        problems.append(f"{where}: expected a list of codes, got {type(items).__name__}")
        return None
    codes: list[str] = []
    for i, item in enumerate(items):
        code = item.get("code") if isinstance(item, Mapping) else item
        if not isinstance(code, str) or not code:
            problems.append(f'{where}[{i}]: expected a code (a string, or an item with "code")')
            continue
        codes.append(code)
    return codes


def _items_of(
    items: Any, model: type[_Item], section: str, problems: list[str]
) -> list[Any] | None:
    """The items of one section, validated; None when the section is not a list."""
    if not isinstance(items, list):
        problems.append(f"{section}: expected a list of items, got {type(items).__name__}")
        return None
    seen: dict[str, int] = {}
    good: list[Any] = []
    for i, item in enumerate(items):
        where = f"{section}[{i}]"
        if isinstance(item, Mapping) and isinstance(item.get("code"), str):
            where += f' (code "{item["code"]}")'
        try:
            obj = model.model_validate(item)
        except ValidationError as exc:
            for err in exc.errors()[:5]:
                loc = ".".join(str(part) for part in err["loc"]) or "item"
                problems.append(f"{where}: {loc}: {err['msg']}")
            continue
        code = getattr(obj, "code", "")
        first = seen.get(code.lower())
        if first is not None:
            problems.append(
                f'{where}: code "{code}" appears twice (also {section}[{first}]); '
                "codes are case-insensitive"
            )
            continue
        seen[code.lower()] = i
        good.append(obj)
    return good


def _decimal(text: str | None) -> Decimal | None:
    if text is None or text == "":
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


class Catalog:
    """The PIM's structure with precomputed, case-insensitive lookups."""

    __slots__ = (
        "_active_locales",
        "_asset_attributes",
        "_asset_families",
        "_association_types",
        "_attributes",
        "_categories",
        "_channel_locales",
        "_channels",
        "_currencies",
        "_currencies_enabled",
        "_currency_check",
        "_families",
        "_family_variants",
        "_groups",
        "_identifier",
        "_locales",
        "_measurement_families",
        "_options",
        "_product_models",
        "_raw",
        "_sections",
        "_unit_lookups",
        "asset_attributes",
        "asset_families",
        "association_types",
        "attributes",
        "channels",
        "currencies",
        "families",
        "family_variants",
        "locales",
        "measurement_families",
        "product_models",
    )

    def __init__(
        self,
        *,
        attributes: Sequence[Attribute] = (),
        channels: Sequence[Channel] = (),
        locales: Sequence[Locale] = (),
        currencies: Sequence[Currency] = (),
        measurement_families: Sequence[MeasurementFamily] = (),
        families: Sequence[Family] = (),
        family_variants: Sequence[FamilyVariant] = (),
        attribute_options: Mapping[str, Sequence[str]] | None = None,
        categories: Sequence[str] | None = None,
        groups: Sequence[str] | None = None,
        association_types: Sequence[AssociationType] | None = None,
        product_models: Sequence[ProductModel] | None = None,
        asset_families: Sequence[AssetFamily] | None = None,
        asset_attributes: Mapping[str, Sequence[AssetAttribute]] | None = None,
        raw: Mapping[str, Any] | None = None,
        has_locales: bool | None = None,
        has_currencies: bool | None = None,
        sections: Iterable[str] | None = None,
    ) -> None:
        """``sections``: the optional sections the catalog holds (``OPTIONAL_SECTIONS``);
        None: those given (a non-empty ``families``, ``family_variants``, or any other
        argument that is not None)."""
        self.attributes = tuple(attributes)
        self.channels = tuple(channels)
        self.locales = tuple(locales)
        self.currencies = tuple(currencies)
        self.measurement_families = tuple(measurement_families)
        self.families = tuple(families)
        self.family_variants = tuple(family_variants)
        self._attributes: dict[str, Attribute] = _lower_index(self.attributes)
        self._channels: dict[str, Channel] = _lower_index(self.channels)
        self._channel_locales: dict[str, frozenset[str]] = {
            ch.code.lower(): frozenset(code.lower() for code in ch.locales) for ch in self.channels
        }
        self._locales: dict[str, Locale] = _lower_index(self.locales)
        self._currencies: dict[str, Currency] = _lower_index(self.currencies)
        self._measurement_families: dict[str, MeasurementFamily] = _lower_index(
            self.measurement_families
        )
        self._families: dict[str, Family] = _lower_index(self.families)
        self._family_variants: dict[str, FamilyVariant] = _lower_index(self.family_variants)
        self._options: dict[str, dict[str, str]] = {
            code.lower(): _spelling_index(codes)
            for code, codes in (attribute_options or {}).items()
        }
        self._categories = _spelling_index(categories or ())
        self._groups = _spelling_index(groups or ())
        self.association_types = tuple(association_types or ())
        self._association_types: dict[str, AssociationType] = _lower_index(self.association_types)
        self.product_models = tuple(product_models or ())
        self._product_models: dict[str, ProductModel] = _lower_index(self.product_models)
        self.asset_families = tuple(asset_families or ())
        self._asset_families: dict[str, AssetFamily] = _lower_index(self.asset_families)
        #: each family's attributes, keyed by the family's code as the catalog spells it
        self.asset_attributes: dict[str, tuple[AssetAttribute, ...]] = {
            code: tuple(items) for code, items in (asset_attributes or {}).items()
        }
        self._asset_attributes: dict[str, dict[str, AssetAttribute]] = {
            code.lower(): _lower_index(items) for code, items in self.asset_attributes.items()
        }
        if sections is None:
            given = {
                "families": bool(self.families),
                "family_variants": bool(self.family_variants),
                "attribute_options": attribute_options is not None,
                "categories": categories is not None,
                "groups": groups is not None,
                "association_types": association_types is not None,
                "product_models": product_models is not None,
                "asset_families": asset_families is not None,
            }
            sections = [name for name, present in given.items() if present]
        self._sections = frozenset(sections)
        # active locales: enabled ones; a catalog without a locales section falls back
        # to the locales its channels use (in Akeneo a locale is activated by a channel)
        if has_locales is None:
            has_locales = bool(self.locales)
        if has_locales:
            active = [loc.code for loc in self.locales if loc.enabled]
        else:
            active = []
            for channel in self.channels:
                active.extend(c for c in channel.locales if c not in active)
        self._active_locales: dict[str, str] = {code.lower(): code for code in active}
        # currencies: Akeneo validates prices against currencies activated on any channel
        # (akeneo-api.md §6.5); the catalog's enabled currencies are our view of that
        if has_currencies is None:
            has_currencies = bool(self.currencies)
        enabled = (
            {c.code.upper() for c in self.currencies if c.enabled} if has_currencies else set()
        )
        if not has_currencies:
            for channel in self.channels:
                enabled.update(code.upper() for code in channel.currencies)
        self._currencies_enabled = frozenset(enabled)
        self._currency_check = has_currencies or any(ch.currencies for ch in self.channels)
        identifiers = [a for a in self.attributes if a.type == "pim_catalog_identifier"]
        main = [a for a in identifiers if a.is_main_identifier]
        self._identifier = main[0] if main else (identifiers[0] if len(identifiers) == 1 else None)
        self._unit_lookups: dict[str, UnitLookup] = {}
        self._raw = dict(raw) if raw is not None else None

    # -- building --------------------------------------------------------------

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str = "catalog") -> Catalog:
        """Validate a catalog-file object; ConfigError names the section and item that is wrong."""
        if not isinstance(data, Mapping):
            raise ConfigError(
                f"{source}: expected a JSON object with keys such as "
                f'"attributes", "channels", "locales", got {type(data).__name__}'
            )
        problems: list[str] = []
        parsed: dict[str, list[Any]] = {}
        codes: dict[str, list[str] | None] = {}
        for section in _CODE_SECTIONS:
            items = data.get(section)
            codes[section] = None if items is None else _codes_of(items, section, problems)
        options: dict[str, list[str]] | None = None
        raw_options = data.get("attribute_options")
        if isinstance(raw_options, Mapping):
            options = {}
            for attribute, items in raw_options.items():
                found = _codes_of(items, f"attribute_options.{attribute}", problems)
                if found is not None:
                    options[str(attribute)] = found
        elif raw_options is not None:
            problems.append(
                "attribute_options: expected an object of attribute code -> option codes, got "
                f"{type(raw_options).__name__}"
            )
        for section, model in _SECTIONS.items():
            items = data.get(section)
            if items is None:
                parsed[section] = []
                continue
            found = _items_of(items, model, section, problems)
            if found is not None:
                parsed[section] = found
        asset_attributes: dict[str, list[Any]] | None = None
        raw_assets = data.get("asset_attributes")
        if isinstance(raw_assets, Mapping):
            asset_attributes = {}
            for family, items in raw_assets.items():
                found = _items_of(items, AssetAttribute, f"asset_attributes.{family}", problems)
                if found is not None:
                    asset_attributes[str(family)] = found
        elif raw_assets is not None:
            problems.append(
                "asset_attributes: expected an object of asset family code -> its attributes, "
                f"got {type(raw_assets).__name__}"
            )
        if problems:
            shown = problems[:20]
            more = f"; ... and {len(problems) - 20} more" if len(problems) > 20 else ""
            raise ConfigError(f"{source}: invalid catalog: " + "; ".join(shown) + more)
        known = (*_SECTIONS, *_CODE_SECTIONS, "attribute_options", "asset_attributes")
        return cls(
            attributes=parsed["attributes"],
            channels=parsed["channels"],
            locales=parsed["locales"],
            currencies=parsed["currencies"],
            measurement_families=parsed["measurement_families"],
            families=parsed["families"],
            family_variants=parsed["family_variants"],
            attribute_options=options,
            categories=codes["categories"],
            groups=codes["groups"],
            association_types=parsed["association_types"],
            product_models=parsed["product_models"],
            asset_families=parsed["asset_families"],
            asset_attributes=asset_attributes,
            raw={key: data[key] for key in known if data.get(key) is not None},
            has_locales=data.get("locales") is not None,
            has_currencies=data.get("currencies") is not None,
            sections=[name for name in OPTIONAL_SECTIONS if data.get(name) is not None],
        )

    @classmethod
    def from_file(cls, path: Path) -> Catalog:
        """Read a catalog file (JSON); ConfigError on a missing file, bad JSON or bad items."""
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            raise ConfigError(f"catalog file not found: {path}") from None
        except OSError as exc:
            raise ConfigError(f"cannot read catalog file {path}: {exc.strerror or exc}") from exc
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ConfigError(
                f"{path}: not UTF-8 text (byte {exc.start}); a catalog file is UTF-8 JSON"
            ) from exc
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(
                f"{path}: invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
            ) from exc
        if isinstance(data, dict) and "attributes" not in data:
            # without it every column would be "unknown": say what the file lacks instead
            found = ", ".join(f'"{key}"' for key in list(data)[:5]) or "nothing"
            raise ConfigError(
                f'{path}: not a catalog file: it has no "attributes" list (it has {found}); '
                'a catalog file holds "attributes", "channels", "locales", "currencies" and '
                '"measurement_families": write one with feed-export catalog pull -o FILE'
            )
        return cls.from_dict(data, source=str(path))

    def to_dict(self, *, without: Iterable[str] = ()) -> dict[str, Any]:
        """The catalog-file shape: items as given (or as validated when built in code).

        ``without``: sections to leave out.
        """
        left_out = set(without)
        if left_out:
            return {k: v for k, v in self.to_dict().items() if k not in left_out}
        if self._raw is not None:
            return copy.deepcopy(self._raw)
        out: dict[str, Any] = {}
        for section in _SECTIONS:
            items: tuple[_Item, ...] = getattr(self, section)
            if items or section in (
                "attributes",
                "channels",
                "locales",
                "currencies",
                "measurement_families",
            ):
                out[section] = [item.model_dump(mode="json") for item in items]
        for section in ("association_types", "product_models", "asset_families"):
            if section in self._sections and section not in out:
                out[section] = []
        if self.asset_attributes:
            out["asset_attributes"] = {
                code: [item.model_dump(mode="json") for item in items]
                for code, items in self.asset_attributes.items()
            }
        if "attribute_options" in self._sections:
            out["attribute_options"] = {
                code: list(index.values()) for code, index in self._options.items()
            }
        for section, index in (("categories", self._categories), ("groups", self._groups)):
            if section in self._sections:
                out[section] = list(index.values())
        return out

    # -- lookups (case-insensitive, answering with the catalog's spelling) -------

    def attribute(self, code: str) -> Attribute | None:
        return self._attributes.get(code.lower())

    @property
    def attribute_codes(self) -> tuple[str, ...]:
        return tuple(a.code for a in self.attributes)

    def similar_attributes(self, code: str, limit: int = 3) -> list[str]:
        """Attribute codes that look like ``code`` (for "did you mean")."""
        hits = difflib.get_close_matches(code.lower(), list(self._attributes), n=limit, cutoff=0.75)
        return [self._attributes[h].code for h in hits]

    @property
    def identifier_attribute(self) -> Attribute | None:
        """The main identifier attribute (``pim_catalog_identifier``), if the catalog names one."""
        return self._identifier

    def locale(self, code: str) -> Locale | None:
        return self._locales.get(code.lower())

    def active_locale(self, code: str) -> str | None:
        """The catalog spelling of an activated locale, or None."""
        return self._active_locales.get(code.lower())

    @property
    def active_locales(self) -> tuple[str, ...]:
        return tuple(self._active_locales.values())

    def channel(self, code: str) -> Channel | None:
        return self._channels.get(code.lower())

    def channel_has_locale(self, channel: str, locale: str) -> bool:
        """Whether ``locale`` is bound to ``channel`` (both any case)."""
        return locale.lower() in self._channel_locales.get(channel.lower(), frozenset())

    @property
    def channel_codes(self) -> tuple[str, ...]:
        return tuple(c.code for c in self.channels)

    def family(self, code: str) -> Family | None:
        return self._families.get(code.lower())

    def family_variant(self, code: str) -> FamilyVariant | None:
        return self._family_variants.get(code.lower())

    def has(self, section: str) -> bool:
        """Whether the catalog holds an optional section (``OPTIONAL_SECTIONS``), even empty."""
        return section in self._sections

    def options(self, attribute_code: str) -> Mapping[str, str] | None:
        """An attribute's options (lower-case code -> spelling); None: the catalog lists none."""
        return self._options.get(attribute_code.lower())

    def category(self, code: str) -> str | None:
        """The catalog spelling of a category code, or None."""
        return self._categories.get(code.lower())

    @property
    def category_index(self) -> Mapping[str, str]:
        return self._categories

    def group(self, code: str) -> str | None:
        """The catalog spelling of a group code, or None."""
        return self._groups.get(code.lower())

    @property
    def group_index(self) -> Mapping[str, str]:
        return self._groups

    def association_type(self, code: str) -> AssociationType | None:
        return self._association_types.get(code.lower())

    def product_model(self, code: str) -> ProductModel | None:
        return self._product_models.get(code.lower())

    def asset_family(self, code: str) -> AssetFamily | None:
        """An asset family (any case; the catalog's spelling in the answer)."""
        return self._asset_families.get(code.lower())

    def asset_attribute(self, family: str, code: str) -> AssetAttribute | None:
        """One attribute of an asset family (both any case)."""
        return self._asset_attributes.get(family.lower(), {}).get(code.lower())

    def asset_attributes_of(self, family: str) -> tuple[AssetAttribute, ...]:
        """The attributes of an asset family, in the catalog's order (none if unknown)."""
        return tuple(self._asset_attributes.get(family.lower(), {}).values())

    def main_media(self, family: str) -> AssetAttribute | None:
        """The attribute an asset family's files go to (``attribute_as_main_media``)."""
        found = self.asset_family(family)
        if found is None or not found.attribute_as_main_media:
            return None
        return self.asset_attribute(found.code, found.attribute_as_main_media)

    @property
    def checks_currencies(self) -> bool:
        """False when the catalog says nothing about currencies (then any code passes)."""
        return self._currency_check

    @property
    def enabled_currencies(self) -> frozenset[str]:
        """Upper-cased codes of the currencies prices may use."""
        return self._currencies_enabled

    def measurement_family(self, code: str) -> MeasurementFamily | None:
        return self._measurement_families.get(code.lower())

    def unit_lookup(self, family_code: str) -> UnitLookup:
        """How units of one measurement family are found (built once, then cached)."""
        key = family_code.lower()
        lookup = self._unit_lookups.get(key)
        if lookup is None:
            family = self._measurement_families.get(key)
            lookup = (
                UnitLookup.build(family)
                if family is not None
                else UnitLookup.unchecked(family_code)
            )
            self._unit_lookups[key] = lookup
        return lookup

    @staticmethod
    def number_limits(attribute: Attribute) -> tuple[Decimal | None, Decimal | None]:
        """``(number_min, number_max)`` of a number, metric or price attribute, as Decimals."""
        return _decimal(attribute.number_min), _decimal(attribute.number_max)

    def __repr__(self) -> str:
        return (
            f"Catalog({len(self.attributes)} attributes, {len(self.channels)} channels, "
            f"{len(self._active_locales)} active locales, {len(self.measurement_families)} "
            "measurement families)"
        )
