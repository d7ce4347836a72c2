"""The header of a pulled feed: the push grammar's columns, in order, from the catalog.

``pull_columns`` lays out what a push reads back (``catalog.layout``): the key
(``identifier`` for products, ``code`` for product models, both and an ``entity`` column
in a mixed feed), the fields, then one column per attribute value (``CODE``,
``CODE~LOCALE``, ``CODE~CHANNEL``, ``CODE~LOCALE~CHANNEL``, with ``@currency`` for
prices and ``@unit`` for measures), then the associations.

Decisions where the issue is silent (docs/DECISIONS.md, "Pull"):

- Fields, in this order: ``entity``, ``identifier``, ``code``, ``family``,
  ``family_variant``, ``parent``, ``categories``, ``enabled``, ``groups``, each only
  where the entity has it (``enabled`` and ``groups`` for products, ``family_variant``
  for product models).
- Attributes: those of the families pulled (``--family``, else every family), in the
  families' attribute order, the families in the catalog's order; or, with
  ``column_order="groups"``, by attribute group (the groups in the order the attribute
  list first meets them), then the attribute's ``sort_order`` in its group. The
  identifier attribute has no column of its own: the ``identifier`` column is its value.
  ``--attributes`` names the attribute columns, in the order given.
- A localizable attribute gets a column per activated locale (those of
  ``available_locales`` for a locale-specific one), a scopable one per channel, one both
  localizable and scopable per channel and each locale bound to it (channel by channel).
  ``--locales`` and ``--channels`` narrow these.
- Associations: per association type of the catalog, ``products``, ``product_models``
  and ``groups`` (quantified types: ``products`` and ``product_models``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from feed_export.catalog.structure import Attribute, Catalog, similar_codes
from feed_export.config import PullOptions
from feed_export.errors import ConfigError
from feed_export.feed.headers import AssociationHeader, AttributeHeader, format_header

PullColumnKind = Literal["entity", "field", "value", "association", "quantified"]

PRICE = "pim_catalog_price_collection"
METRIC = "pim_catalog_metric"
IDENTIFIER_TYPE = "pim_catalog_identifier"

#: the fields of each kind of row, in the order a pulled feed writes them
PRODUCT_FIELDS = ("identifier", "family", "parent", "categories", "enabled", "groups")
MODEL_FIELDS = ("code", "family", "family_variant", "parent", "categories")
MIXED_FIELDS = (
    "entity",
    "identifier",
    "code",
    "family",
    "family_variant",
    "parent",
    "categories",
    "enabled",
    "groups",
)
ASSOCIATION_TARGETS = ("products", "product_models", "groups")
QUANTIFIED_TARGETS = ("products", "product_models")


@dataclass(frozen=True, slots=True)
class PullColumn:
    """One column of a pulled feed: its header and where its cells come from."""

    header: str
    kind: PullColumnKind
    name: str  # field name, attribute code (catalog spelling) or association type
    attribute: Attribute | None = None
    locale: str | None = None
    scope: str | None = None
    target: str | None = None  # association target: products, product_models, groups


class AttributeDetails(BaseModel):
    """What the catalog says about an attribute beyond what a push checks: its labels,
    its group and its place in the group (the template's notes and the group order)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    code: str
    type: str = ""
    labels: dict[str, str] = {}
    group: str | None = None
    sort_order: int | None = None


def attribute_details(catalog: Catalog) -> dict[str, AttributeDetails]:
    """Lower-case code -> the attribute's labels, group and sort order, from the catalog's
    own items (a catalog built in code has none: then empty labels, no group)."""
    found: dict[str, AttributeDetails] = {}
    for item in catalog.to_dict().get("attributes", ()):
        if isinstance(item, dict) and isinstance(item.get("code"), str):
            try:
                details = AttributeDetails.model_validate(item)
            except ValueError:
                details = AttributeDetails(code=item["code"])
            found[details.code.lower()] = details
    return found


def pull_columns(catalog: Catalog, options: PullOptions) -> tuple[PullColumn, ...]:
    """The columns of a pulled feed, in order; ``ConfigError`` for a family, attribute,
    locale or channel the catalog does not know."""
    fields = {"products": PRODUCT_FIELDS, "product-models": MODEL_FIELDS}.get(
        options.entity, MIXED_FIELDS
    )
    columns = [PullColumn(name, "entity" if name == "entity" else "field", name) for name in fields]
    for attribute in attribute_order(catalog, options):
        columns.extend(value_columns(attribute, catalog, options.locales, options.channels))
    columns.extend(association_columns(catalog))
    return tuple(columns)


def pulled_families(catalog: Catalog, codes: Sequence[str]) -> list[str]:
    """The families pulled, catalog spelling (every family when ``codes`` is empty)."""
    if not codes:
        return [family.code for family in catalog.families]
    found: list[str] = []
    unknown: list[str] = []
    for code in codes:
        family = catalog.family(code)
        if family is None:
            unknown.append(code)
        elif family.code not in found:
            found.append(family.code)
    if unknown:
        known = {f.code.lower(): f.code for f in catalog.families}
        raise ConfigError(_unknown("family", "families", unknown, known))
    return found


def attribute_order(catalog: Catalog, options: PullOptions) -> list[Attribute]:
    """The attributes that get columns, in column order (the identifier attribute left out)."""
    if options.attributes:
        chosen: list[Attribute] = []
        unknown: list[str] = []
        for code in options.attributes:
            attribute = catalog.attribute(code)
            if attribute is None:
                unknown.append(code)
            elif attribute not in chosen:
                chosen.append(attribute)
        if unknown:
            known = {a.code.lower(): a.code for a in catalog.attributes}
            raise ConfigError(_unknown("attribute", "attributes", unknown, known))
        return [a for a in chosen if a.type != IDENTIFIER_TYPE]
    codes: dict[str, None] = {}
    for code in pulled_families(catalog, options.families):
        family = catalog.family(code)
        assert family is not None
        codes.update(dict.fromkeys(family.attributes))
    attributes = [a for a in (catalog.attribute(c) for c in codes) if a is not None]
    attributes = [a for a in attributes if a.type != IDENTIFIER_TYPE]
    if options.column_order == "groups":
        attributes = by_group(catalog, attributes)
    return attributes


def by_group(catalog: Catalog, attributes: Iterable[Attribute]) -> list[Attribute]:
    """Attributes by attribute group (first met in the catalog's list), then sort order."""
    details = attribute_details(catalog)
    group_rank: dict[str, int] = {}
    for item in details.values():
        group_rank.setdefault(item.group or "", len(group_rank))

    def rank(attribute: Attribute) -> tuple[int, int, str]:
        found = details.get(attribute.code.lower())
        group = found.group or "" if found else ""
        order = found.sort_order if found and found.sort_order is not None else 1 << 30
        return group_rank.get(group, len(group_rank)), order, attribute.code

    return sorted(attributes, key=rank)


def value_columns(
    attribute: Attribute,
    catalog: Catalog,
    locales: Sequence[str] = (),
    channels: Sequence[str] = (),
) -> list[PullColumn]:
    """The columns of one attribute: one per locale and channel its values may have."""
    suffix = "currency" if attribute.type == PRICE else "unit" if attribute.type == METRIC else None
    out: list[PullColumn] = []
    for locale, scope in value_slots(attribute, catalog, locales, channels):
        parts = tuple(p for p in (locale, scope) if p is not None)
        header = format_header(AttributeHeader(attribute.code, parts, suffix))
        out.append(PullColumn(header, "value", attribute.code, attribute, locale, scope))
    return out


def value_slots(
    attribute: Attribute,
    catalog: Catalog,
    locales: Sequence[str] = (),
    channels: Sequence[str] = (),
) -> list[tuple[str | None, str | None]]:
    """(locale, channel) of each value an attribute may hold, in column order."""
    wanted_locales = _chosen_locales(catalog, locales)
    wanted_channels = _chosen_channels(catalog, channels)
    allowed = {code.lower() for code in attribute.available_locales}

    def usable(locale: str) -> bool:
        return (not allowed or locale.lower() in allowed) and (
            wanted_locales is None or locale.lower() in wanted_locales
        )

    active = list(catalog.active_locales)
    if attribute.localizable and attribute.scopable:
        slots: list[tuple[str | None, str | None]] = []
        for channel in catalog.channels:
            if wanted_channels is not None and channel.code.lower() not in wanted_channels:
                continue
            for code in channel.locales:
                locale = catalog.active_locale(code)
                if locale is not None and usable(locale):
                    slots.append((locale, channel.code))
        return slots
    if attribute.localizable:
        return [(locale, None) for locale in active if usable(locale)]
    if attribute.scopable:
        return [
            (None, channel.code)
            for channel in catalog.channels
            if wanted_channels is None or channel.code.lower() in wanted_channels
        ]
    return [(None, None)]


def association_columns(catalog: Catalog) -> list[PullColumn]:
    """The association columns, per association type of the catalog."""
    out: list[PullColumn] = []
    for kind in catalog.association_types:
        targets = QUANTIFIED_TARGETS if kind.is_quantified else ASSOCIATION_TARGETS
        for target in targets:
            header = format_header(AssociationHeader(kind.code, target, kind.is_quantified))
            column_kind: PullColumnKind = "quantified" if kind.is_quantified else "association"
            out.append(PullColumn(header, column_kind, kind.code, target=target))
    return out


def _chosen_locales(catalog: Catalog, codes: Sequence[str]) -> set[str] | None:
    if not codes:
        return None
    unknown = [code for code in codes if catalog.active_locale(code) is None]
    if unknown:
        known = {code.lower(): code for code in catalog.active_locales}
        raise ConfigError(_unknown("activated locale", "activated locales", unknown, known))
    return {code.lower() for code in codes}


def _chosen_channels(catalog: Catalog, codes: Sequence[str]) -> set[str] | None:
    if not codes:
        return None
    unknown = [code for code in codes if catalog.channel(code) is None]
    if unknown:
        known = {code.lower(): code for code in catalog.channel_codes}
        raise ConfigError(_unknown("channel", "channels", unknown, known))
    return {code.lower() for code in codes}


def _unknown(what: str, plural: str, unknown: Sequence[str], known: dict[str, str]) -> str:
    """``unknown family "clothng" (did you mean "clothing"?); families: ...``."""
    parts = []
    for code in unknown:
        similar = similar_codes(code, known)
        hint = f" (did you mean {' or '.join(repr(s) for s in similar)}?)" if similar else ""
        parts.append(f'"{code}"{hint}')
    listing = ", ".join(list(known.values())[:20]) or "none"
    more = f", ... ({len(known)} in all)" if len(known) > 20 else ""
    return f"unknown {what} {', '.join(parts)}; the PIM's {plural}: {listing}{more}"


def header_of(columns: Sequence[PullColumn]) -> list[str]:
    return [column.header for column in columns]


def describe(columns: Sequence[PullColumn]) -> dict[str, Any]:
    """How many columns of each kind (for the summary)."""
    counts: dict[str, int] = {}
    for column in columns:
        counts[column.kind] = counts.get(column.kind, 0) + 1
    return counts
