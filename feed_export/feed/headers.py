"""The Productsup header grammar: header text <-> its parts, with no catalog.

Grammar (feed-format.md §2)::

    header           = field | association | attribute_column
    field            = identifier | uuid | code | family | family_variant | parent
                     | categories | add_categories | remove_categories | groups | enabled
                     | entity
    association      = "associations~" TYPE "~" (products | product_models | groups | product_uuids)
                     | "quantified_associations~" TYPE "~" (products | product_models)
    attribute_column = CODE [ "~" PART [ "~" PART ] ] [ "@currency" | "@unit" ]

``parse_header`` splits one header by the grammar alone and ``format_header`` writes it
back; what the parts mean (a locale, a channel, an attribute) is
``catalog.layout.resolve_headers``'s work.

Headers are trimmed (spreadsheets pad them); field names, association keywords and the
suffix words match in any case, and are written back in lower case. The suffix is
literally ``@currency`` or ``@unit`` (Productsup's terms): the currency or unit itself goes
in the cell (``740.00 EUR``), so ``price@EUR`` is an error that says so.

>>> parse_header("description~en_US~ecommerce")
AttributeHeader(attribute='description', parts=('en_US', 'ecommerce'), suffix=None)
>>> format_header(parse_header("Price@Currency"))
'Price@currency'
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from feed_export.errors import HeaderSyntaxError
from feed_export.feed.units import akeneo_units_for_rec20

FIELDS: tuple[str, ...] = (
    "identifier",
    "uuid",
    "code",
    "family",
    "family_variant",
    "parent",
    "categories",
    "add_categories",
    "remove_categories",
    "groups",
    "enabled",
    "entity",
)
#: the field that makes a feed mixed: its cells say which entity each row is
ENTITY_COLUMN = "entity"
ASSOCIATION_TARGETS: tuple[str, ...] = ("products", "product_models", "groups", "product_uuids")
QUANTIFIED_TARGETS: tuple[str, ...] = ("products", "product_models")
SUFFIXES: tuple[str, ...] = ("currency", "unit")
#: the two columns feed_export appends to a feed in its feedback file (ignored on input)
FEEDBACK_COLUMNS: tuple[str, ...] = ("akeneo_status_code", "akeneo_message")

#: the top-level fields each entity accepts (akeneo-api.md §2, the collection PATCH bodies)
_SHARED_FIELDS = frozenset(
    {"family", "parent", "categories", "add_categories", "remove_categories"}
)
_PRODUCT_FIELDS = _SHARED_FIELDS | {"uuid", "enabled", "groups"}
ENTITY_FIELDS: dict[str, frozenset[str]] = {
    "products": _PRODUCT_FIELDS | {"identifier"},
    # by uuid the identifier is a value, never a field (akeneo-api.md §2.8)
    "products-uuid": _PRODUCT_FIELDS,
    "product-models": _SHARED_FIELDS | {"code", "family_variant"},
}

FIELD_SET = frozenset(FIELDS)


@dataclass(frozen=True, slots=True)
class FieldHeader:
    """A top-level field: ``identifier``, ``family``, ``categories``..."""

    field: str


@dataclass(frozen=True, slots=True)
class AssociationHeader:
    """``associations~TYPE~target`` or ``quantified_associations~TYPE~target``."""

    type: str
    target: str
    quantified: bool = False


@dataclass(frozen=True, slots=True)
class AttributeHeader:
    """``code[~part[~part]][@suffix]``; what the parts mean needs the catalog."""

    attribute: str
    parts: tuple[str, ...] = ()
    suffix: str | None = None  # "currency" or "unit"


HeaderParts = FieldHeader | AssociationHeader | AttributeHeader


def clean_header(text: str) -> str:
    """A header as compared: trimmed, byte-order marks (and spaces between them) removed."""
    head = text.strip()
    while head.startswith("\ufeff"):
        head = head[1:].strip()
    return head


def parse_header(text: str) -> HeaderParts:
    """Split one header by the grammar; ``HeaderSyntaxError`` if it cannot be read.

    >>> parse_header("associations~X_SELL~product_models")
    AssociationHeader(type='X_SELL', target='product_models', quantified=False)
    >>> parse_header("weight@unit")
    AttributeHeader(attribute='weight', parts=(), suffix='unit')
    """
    header = clean_header(text)
    if not header:
        raise HeaderSyntaxError(text, "the header is empty")
    lowered = header.lower()
    if lowered in FIELD_SET:
        return FieldHeader(lowered)
    head = lowered.split("~", 1)[0].strip()
    if "~" in header and head in ("associations", "quantified_associations"):
        quantified = head == "quantified_associations"
        targets = QUANTIFIED_TARGETS if quantified else ASSOCIATION_TARGETS
        form = f"{head}~TYPE~{'|'.join(targets)}"
        parts = [p.strip() for p in header.split("~")]
        if len(parts) != 3 or not parts[1] or "@" in header:
            raise HeaderSyntaxError(text, f"an association column is {form}")
        target = parts[2].lower()
        if target not in targets:
            raise HeaderSyntaxError(
                text, f"unknown association target {parts[2]!r}; an association column is {form}"
            )
        return AssociationHeader(parts[1], target, quantified)
    base, at, suffix = header.partition("@")
    word: str | None = None
    if at:
        word = suffix.strip().lower()
        if word not in SUFFIXES:
            raise HeaderSyntaxError(text, _suffix_problem(base.strip(), suffix.strip()))
    parts = [p.strip() for p in base.split("~")]
    if not all(parts):
        raise HeaderSyntaxError(
            text,
            "a part is empty (two ~ in a row, or a ~ at an end); the form is code~locale~channel",
        )
    if len(parts) > 3:
        raise HeaderSyntaxError(
            text, f"too many ~ parts ({len(parts)}); at most code~locale~channel"
        )
    return AttributeHeader(parts[0], tuple(parts[1:]), word)


def _suffix_problem(base: str, suffix: str) -> str:
    looks_like_unit = bool(akeneo_units_for_rec20(suffix)) or (suffix.isupper() and len(suffix) > 3)
    if suffix.isalpha() and len(suffix) == 3 and suffix.isupper() and not looks_like_unit:
        return (
            f'@{suffix} is not a suffix: the currency goes in the cell ("740.00 {suffix}"); '
            f"name the column {base}@currency"
        )
    if looks_like_unit:
        return (
            f'@{suffix} is not a suffix: the unit goes in the cell ("3000.00 {suffix}"); '
            f"name the column {base}@unit"
        )
    return f"unknown suffix @{suffix}; use @currency (prices) or @unit (measures)"


def format_header(parts: HeaderParts) -> str:
    """The header text for ``parts``: the inverse of ``parse_header``.

    >>> format_header(AttributeHeader("price", ("de_DE",), "currency"))
    'price~de_DE@currency'
    """
    if isinstance(parts, FieldHeader):
        return parts.field
    if isinstance(parts, AssociationHeader):
        head = "quantified_associations" if parts.quantified else "associations"
        return f"{head}~{parts.type}~{parts.target}"
    text = "~".join((parts.attribute, *parts.parts))
    return f"{text}@{parts.suffix}" if parts.suffix else text


def header_attribute_codes(header: Sequence[str]) -> list[str]:
    """The attribute codes a header row names, in order (what a live catalog must hold).

    >>> header_attribute_codes(["sku", "name~en_US", "price@currency", "family", "name~de_DE"])
    ['sku', 'name', 'price']
    """
    codes: list[str] = []
    for text in header:
        if not text.strip() or text.strip() in FEEDBACK_COLUMNS:
            continue
        try:
            parts = parse_header(text)
        except HeaderSyntaxError:
            continue
        if isinstance(parts, AttributeHeader) and parts.attribute not in codes:
            codes.append(parts.attribute)
    return codes
