"""Header row -> column specs: each header resolved against the catalog and the entity.

``resolve_headers`` checks every header (split by ``feed.headers.parse_header``) against
the catalog and the entity, collects every problem and raises one ``HeaderError``
listing them all, each naming the column and what would be right.

Decisions where the contract is silent:

- An empty header over a column: ``column_has_data`` tells whether the column holds
  anything. Given, a column with data is a header problem and an all-empty one is
  ignored. Not given (``None``), the column is ignored here and the decoder checks it
  row by row: a value under an empty header makes that row a line error.
- On ``products``, the identifier attribute's column (e.g. ``sku``) stands in for a
  missing ``identifier`` column. When both are present, the ``sku`` column is checked
  against ``identifier`` row by row (Akeneo would silently overwrite it) and not sent.
- ``uuid`` is an optional field on ``products``; on ``products-uuid`` the identifier
  is an ordinary value of the identifier attribute and ``identifier`` is refused
  (akeneo-api.md §2.8). ``family_variant`` is for product models only; ``enabled`` and
  ``groups`` are for products only.
- ``categories`` with ``add_categories`` / ``remove_categories`` is refused: Akeneo
  does not accept the combination.
- ``--ignore-unknown-columns`` drops the columns naming no attribute of the catalog. A
  malformed header that starts with a known attribute, a field or an association keyword
  (``price@EUR``, ``family@x``, ``associations~X_SELL``) is still a problem: the user meant
  that column, and dropping it would lose its data without a word.
- A mixed feed (products and product models) has an ``entity`` column whose cells say
  ``product`` or ``product_model``, with ``--entity products`` (or ``products-uuid``).
  It then needs both key columns: the product key for product rows and ``code`` for
  product-model rows; each entity's own fields are accepted, and the decoder checks row
  by row that a cell which does not apply to the row's entity is empty.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

from feed_export.catalog.structure import AssetAttribute, Attribute, Catalog, similar_codes
from feed_export.config import ExportOptions
from feed_export.errors import HeaderError, HeaderSyntaxError
from feed_export.feed.headers import (
    ENTITY_COLUMN,
    ENTITY_FIELDS,
    FEEDBACK_COLUMNS,
    FIELD_SET,
    FIELDS,
    QUANTIFIED_TARGETS,
    AssociationHeader,
    AttributeHeader,
    FieldHeader,
    clean_header,
    format_header,
    parse_header,
)

_PRICE = "pim_catalog_price_collection"
_METRIC = "pim_catalog_metric"
#: a malformed header starting with one of these is a problem, never an unknown column
_KNOWN_HEADS = FIELD_SET | {"associations", "quantified_associations"}

ColumnKind = Literal[
    "key",
    "model_key",  # mixed feeds: ``code``, the key of product-model rows
    "entity",  # mixed feeds: which entity the row is
    "field",
    "value",
    "identifier_check",
    "association",
    "quantified_association",
    "asset_value",  # an assets feed: a value of an attribute of the asset family
]


@dataclass(frozen=True, slots=True)
class Column:
    """One feed column, resolved: what it is and where its data goes."""

    index: int  # 0-based position in the row
    header: str  # as written in the feed
    kind: ColumnKind
    name: str  # field name, attribute code (catalog spelling) or association type
    attribute: Attribute | None = None
    locale: str | None = None  # catalog spelling
    scope: str | None = None  # channel, catalog spelling
    target: str | None = None  # association target (products, product_models, ...)
    asset_attribute: AssetAttribute | None = None  # asset_value: the asset family's attribute

    @property
    def position(self) -> str:
        """How messages name the column: ``column 7 "description~de_DE"``."""
        return f'column {self.index + 1} "{self.header}"'


@dataclass(frozen=True, slots=True)
class FeedLayout:
    """A header row resolved against the catalog: what the decoder compiles."""

    path: str
    entity: str
    header: tuple[str, ...]
    columns: tuple[Column, ...]  # every decoded column, feed order, the key included
    key: Column  # the identifier / uuid / code column
    catalog: Catalog
    blank_unchecked: tuple[int, ...] = ()  # empty-header columns that must stay empty
    warnings: list[str] = field(default_factory=list)
    #: mixed feeds: the ``entity`` column and the ``code`` column of product-model rows
    entity_column: Column | None = None
    model_key: Column | None = None

    @property
    def mixed(self) -> bool:
        """The feed holds products and product models (it has an ``entity`` column)."""
        return self.entity_column is not None

    @property
    def width(self) -> int:
        return len(self.header)

    @property
    def attribute_codes(self) -> tuple[str, ...]:
        """The attributes the feed sends values for, catalog spelling, feed order."""
        codes = dict.fromkeys(
            c.name for c in self.columns if c.kind in ("value", "identifier_check")
        )
        return tuple(codes)


def _describe(attribute: Attribute) -> str:
    if attribute.localizable and attribute.scopable:
        return "localizable and scopable"
    if attribute.localizable:
        return "localizable, not scopable"
    if attribute.scopable:
        return "scopable, not localizable"
    return "neither localizable nor scopable"


def _listing(codes: Sequence[str], limit: int = 10) -> str:
    if not codes:
        return "none"
    shown = ", ".join(codes[:limit])
    return shown + (f", ... ({len(codes)} in all)" if len(codes) > limit else "")


_FIELD_REASONS: dict[tuple[str, str], str] = {
    ("products", "code"): (
        "code identifies product models; products use identifier (or push product models "
        "with --entity product-models, or add an entity column saying product or "
        "product_model on each row)"
    ),
    ("products", "family_variant"): (
        "family_variant is a product-model field; a variant product gets it from its parent "
        "(push product models with --entity product-models, or add an entity column saying "
        "product or product_model on each row)"
    ),
    ("products-uuid", "code"): "code identifies product models; products-uuid rows use uuid",
    ("products-uuid", "family_variant"): (
        "family_variant is a product-model field (push product models with --entity product-models)"
    ),
    ("product-models", "identifier"): "product models are identified by code, not identifier",
    ("product-models", "uuid"): "product models are identified by code, not uuid",
    ("product-models", "enabled"): "product models have no enabled field (only products do)",
    ("product-models", "groups"): "product models have no groups field (only products do)",
}


class _Resolver:
    """Collects columns and problems for one header row."""

    def __init__(self, catalog: Catalog, options: ExportOptions, *, mixed: bool = False) -> None:
        self.catalog = catalog
        self.options = options
        self.entity = options.entity
        self.mixed = mixed
        self.fields = ENTITY_FIELDS[self.entity]
        if mixed:
            self.fields = self.fields | ENTITY_FIELDS["product-models"]
        self.entity_column: Column | None = None
        self.problems: list[str] = []
        self.unknown: list[str] = []
        self.columns: list[Column] = []
        self.seen: dict[tuple[str, ...], str] = {}

    # -- one header --------------------------------------------------------

    def add(self, index: int, text: str) -> None:
        pos = f'column {index + 1} "{text}"'
        try:
            parts = parse_header(text)
        except HeaderSyntaxError as exc:
            code = clean_header(text).split("~", 1)[0].split("@", 1)[0].strip()
            if (
                self.options.ignore_unknown_columns
                and code
                and self.catalog.attribute(code) is None
                and code.lower() not in _KNOWN_HEADS
            ):
                self.unknown.append(pos)
            else:
                self.problems.append(f"{pos}: {exc.problem}")
            return
        if isinstance(parts, FieldHeader):
            self._field(index, text, pos, parts)
        elif isinstance(parts, AssociationHeader):
            self._association(index, text, pos, parts)
        else:
            self._attribute(index, text, pos, parts)

    def _keep(self, column: Column, key: tuple[str, ...]) -> None:
        first = self.seen.get(key)
        if first is not None:
            self.problems.append(
                f"{column.position} means the same value as {first}: keep only one of them"
            )
            return
        self.seen[key] = column.position
        self.columns.append(column)

    def _field(self, index: int, text: str, pos: str, parts: FieldHeader) -> None:
        name = parts.field
        if name == ENTITY_COLUMN:
            if self.entity == "product-models":
                self.problems.append(
                    f"{pos}: an entity column mixes products and product models in one feed; "
                    "push it with --entity products (or products-uuid), or drop the column"
                )
                return
            column = Column(index, text, "entity", name)
            self._keep(column, ("field", name))
            if self.entity_column is None:
                self.entity_column = column
            return
        if name not in self.fields:
            reason = _FIELD_REASONS.get((self.entity, name))
            if reason is None and name == "identifier":  # products-uuid
                attr = self.catalog.identifier_attribute
                example = attr.code if attr else "sku"
                reason = (
                    "products-uuid rows carry the identifier as a value: name the column "
                    f'after the identifier attribute (e.g. "{example}") instead of identifier'
                )
            self.problems.append(f"{pos}: {reason or f'{name} is not a field of {self.entity}'}")
            return
        kind: ColumnKind = "key" if name == self.options.identifier_field else "field"
        if self.mixed and name == "code":
            kind = "model_key"
        self._keep(Column(index, text, kind, name), ("field", name))

    def _association(self, index: int, text: str, pos: str, parts: AssociationHeader) -> None:
        kind: ColumnKind = "quantified_association" if parts.quantified else "association"
        name = parts.type
        catalog = self.catalog
        if catalog.has("association_types"):
            # the PIM refuses a type it lacks, or of the other kind (AssociationTypeIsNotQuantified)
            found = catalog.association_type(name)
            if found is None:
                index_ = {t.code.lower(): t.code for t in catalog.association_types}
                similar = similar_codes(name, index_)
                hint = (
                    "did you mean " + " or ".join(f'"{s}"' for s in similar) + "?"
                    if similar
                    else f"association types: {_listing(list(index_.values()))}"
                )
                self.problems.append(f'{pos}: unknown association type "{name}"; {hint}')
                return
            if found.is_quantified != parts.quantified:
                target = parts.target
                if found.is_quantified and target not in QUANTIFIED_TARGETS:
                    target = "products"
                right = format_header(
                    replace(parts, type=found.code, quantified=found.is_quantified, target=target)
                )
                what = "a quantified" if found.is_quantified else "not a quantified"
                self.problems.append(
                    f"{pos}: {found.code} is {what} association type: name the column {right}"
                )
                return
            name = found.code  # the PIM's spelling
        column = Column(index, text, kind, name, target=parts.target)
        self._keep(column, (kind, name.lower(), parts.target))

    def _attribute(self, index: int, text: str, pos: str, parts: AttributeHeader) -> None:
        catalog = self.catalog
        attr = catalog.attribute(parts.attribute)
        if attr is None:
            self._unknown(pos, parts)
            return
        found: list[str] = []
        if self.entity == "product-models" and attr.type == "pim_catalog_identifier":
            self.problems.append(
                f"{pos}: {attr.code} is an identifier attribute: it belongs to products, and "
                "product models are identified by code"
            )
            return
        locale, scope = self._locale_scope(attr, parts, found)
        if len(parts.parts) == int(attr.localizable) + int(attr.scopable):
            # (a wrong number of parts already got an example with the right suffix)
            self._check_suffix(attr, parts, found)
        if found:
            self.problems.extend(f"{pos}: {problem}" for problem in found)
            return
        column = Column(index, text, "value", attr.code, attr, locale, scope)
        key = ("value", attr.code.lower(), (locale or "").lower(), (scope or "").lower())
        self._keep(column, key)

    def _unknown(self, pos: str, parts: AttributeHeader) -> None:
        if self.options.ignore_unknown_columns:
            self.unknown.append(pos)
            return
        code = parts.attribute
        hints: list[str] = []
        similar = self.catalog.similar_attributes(code)
        fields = difflib.get_close_matches(code.lower(), FIELDS, n=1, cutoff=0.8)
        if "-" in code and self.catalog.attribute(code.split("-", 1)[0]) is not None:
            hints.append('separate locale and channel with "~", never "-"')
        if similar:
            hints.append("did you mean " + " or ".join(f'"{s}"' for s in similar) + "?")
        elif fields:
            hints.append(f'did you mean the field "{fields[0]}"?')
        if not hints:
            hints.append("check the code, or pass --ignore-unknown-columns to skip such columns")
        self.problems.append(f'{pos}: unknown attribute "{code}"; ' + "; ".join(hints))

    def _check_suffix(self, attr: Attribute, parts: AttributeHeader, found: list[str]) -> None:
        want = "currency" if attr.type == _PRICE else "unit" if attr.type == _METRIC else None
        if parts.suffix == want:
            return
        right = format_header(replace(parts, suffix=want))
        if want == "currency":
            found.append(
                f"{attr.code} is a price attribute: name the column {right} and write "
                'amounts like "740.00 EUR"'
            )
        elif want == "unit":
            found.append(
                f"{attr.code} is a measure (metric) attribute: name the column {right} and write "
                'values like "3000.00 MMT" or "3 kg"'
            )
        else:
            found.append(
                f"@{parts.suffix} is only for price (@currency) and metric (@unit) attributes; "
                f"{attr.code} is {attr.type}: name the column {right}"
            )

    def _locale_scope(
        self, attr: Attribute, parts: AttributeHeader, found: list[str]
    ) -> tuple[str | None, str | None]:
        catalog = self.catalog
        localizable, scopable = attr.localizable, attr.scopable
        wanted = int(localizable) + int(scopable)
        given = parts.parts
        if len(given) != wanted:
            found.append(self._shape_problem(attr, parts))
            return None, None
        if localizable and scopable and catalog.channel(given[0]) and catalog.locale(given[1]):
            right = format_header(replace(parts, parts=(given[1], given[0])))
            found.append(f"locale and channel are swapped: the locale comes first, {right}")
            return None, None
        locale = scope = None
        if localizable:
            locale = self._locale(attr, given[0], found)
        if scopable:
            scope = self._channel(attr, given[-1], found)
        if locale and scope and not catalog.channel_has_locale(scope, locale):
            channel = catalog.channel(scope)
            bound = list(channel.locales) if channel else []
            found.append(
                f"locale {locale} is not bound to channel {scope} (its locales: {_listing(bound)})"
            )
        return locale, scope

    def _example(self, attr: Attribute) -> str:
        catalog = self.catalog
        parts: list[str] = []
        if attr.localizable:
            locales = list(attr.available_locales) or list(catalog.active_locales)
            parts.append(locales[0] if locales else "en_US")
        if attr.scopable:
            parts.append(catalog.channel_codes[0] if catalog.channel_codes else "ecommerce")
        suffix = "currency" if attr.type == _PRICE else "unit" if attr.type == _METRIC else None
        return format_header(AttributeHeader(attr.code, tuple(parts), suffix))

    def _shape_problem(self, attr: Attribute, parts: AttributeHeader) -> str:
        given = parts.parts
        wanted = int(attr.localizable) + int(attr.scopable)
        catalog = self.catalog
        if len(given) < wanted:
            if attr.localizable and attr.scopable and len(given) == 1:
                what = "the channel" if catalog.locale(given[0]) else "the locale"
                if catalog.channel(given[0]):
                    what = "the locale"
            elif attr.localizable and attr.scopable:
                what = "the locale and the channel"
            else:
                what = "the locale" if attr.localizable else "the channel"
            problem = f"missing {what}"
        else:
            extra = given[wanted:]
            words = []
            for part in extra:
                if catalog.channel(part):
                    words.append(f"{part} is a channel")
                elif catalog.locale(part):
                    words.append(f"{part} is a locale")
            problem = "too many parts" + (f" ({'; '.join(words)})" if words else "")
        form = (
            attr.code
            + ("~<locale>" if attr.localizable else "")
            + ("~<channel>" if attr.scopable else "")
        )
        return (
            f"{problem}: {attr.code} is {_describe(attr)}, so its column is {form}, "
            f"e.g. {self._example(attr)}"
        )

    def _locale(self, attr: Attribute, text: str, found: list[str]) -> str | None:
        catalog = self.catalog
        active = catalog.active_locale(text)
        if active is None:
            known = catalog.locale(text)
            listing = _listing(list(catalog.active_locales))
            if known is not None:
                found.append(f"locale {known.code} is not activated; activated locales: {listing}")
            elif catalog.channel(text) is not None:
                found.append(
                    f"{text} is a channel, but the locale is expected here; "
                    f"activated locales: {listing}"
                )
            else:
                found.append(f'unknown locale "{text}"; activated locales: {listing}')
            return None
        available = attr.available_locales
        if available and active.lower() not in {code.lower() for code in available}:
            found.append(
                f"{attr.code} is specific to the locale(s) {_listing(list(available))}; "
                f"{active} is not one of them"
            )
            return None
        return active

    def _channel(self, attr: Attribute, text: str, found: list[str]) -> str | None:
        catalog = self.catalog
        channel = catalog.channel(text)
        if channel is None:
            listing = _listing(list(catalog.channel_codes))
            if catalog.locale(text) is not None and not attr.localizable:
                found.append(
                    f"{text} is a locale, but {attr.code} is not localizable: the part after ~ "
                    f"is a channel ({listing})"
                )
            else:
                found.append(f'unknown channel "{text}"; channels: {listing}')
            return None
        return channel.code

    # -- the whole row -----------------------------------------------------

    def finish(self, path: str, header: tuple[str, ...], blank_unchecked: list[int]) -> FeedLayout:
        columns = self.columns
        names = {c.name for c in columns if c.kind == "field"}
        if "categories" in names and names & {"add_categories", "remove_categories"}:
            both = [c.position for c in columns if c.name.endswith("categories")]
            self.problems.append(
                f"{', '.join(both)}: categories replaces every category and cannot be combined "
                "with add_categories / remove_categories; keep one kind"
            )
        key = next((c for c in columns if c.kind == "key"), None)
        ident = self.catalog.identifier_attribute
        if self.entity == "products" and ident is not None:
            stand_ins = [
                c
                for c in columns
                if c.kind == "value"
                and c.attribute is ident
                and c.locale is None
                and c.scope is None
            ]
            for column in stand_ins:
                position = columns.index(column)
                if key is None:
                    key = replace(column, kind="key", name="identifier")
                    columns[position] = key
                else:
                    columns[position] = replace(column, kind="identifier_check")
        if key is None:
            field_name = self.options.identifier_field
            if self.entity == "products":
                example = ident.code if ident else "sku"
                self.problems.append(
                    'no identifier column: add an "identifier" column (or the identifier '
                    f'attribute\'s own column, e.g. "{example}")'
                )
            else:
                self.problems.append(
                    f'no {field_name} column: {self.entity} rows are identified by "{field_name}"'
                )
        model_key = next((c for c in columns if c.kind == "model_key"), None)
        if self.mixed and self.entity_column is not None and model_key is None:
            self.problems.append(
                f"{self.entity_column.position}: a feed with an entity column needs a code "
                "column too: it identifies the product_model rows"
            )
        if self.problems:
            raise HeaderError(path, self.problems)
        assert key is not None
        warnings: list[str] = []
        if self.unknown:
            warnings.append(
                f"ignored {len(self.unknown)} column(s) naming no attribute of the catalog: "
                + ", ".join(self.unknown)
            )
        return FeedLayout(
            path=path,
            entity=self.entity,
            header=header,
            columns=tuple(columns),
            key=key,
            catalog=self.catalog,
            blank_unchecked=tuple(blank_unchecked),
            warnings=warnings,
            entity_column=self.entity_column,
            model_key=model_key,
        )


def resolve_headers(
    path: str,
    header: Sequence[str],
    catalog: Catalog,
    options: ExportOptions,
    *,
    column_has_data: Sequence[bool] | None = None,
) -> FeedLayout:
    """Resolve a header row; ``HeaderError(path, problems)`` lists every problem at once.

    ``column_has_data[i]`` says whether column ``i`` holds any non-blank cell; it only
    matters for empty headers (see the module docstring).
    """
    mixed = options.entity != "product-models" and _names_entity_column(header)
    resolver = _Resolver(catalog, options, mixed=mixed)
    blank_unchecked: list[int] = []
    feedback = set(FEEDBACK_COLUMNS)
    for index, text in enumerate(header):
        cleaned = clean_header(text)
        if not cleaned:
            if column_has_data is None:
                blank_unchecked.append(index)
            elif index < len(column_has_data) and column_has_data[index]:
                resolver.problems.append(
                    f"column {index + 1} has values but no header: name the column or remove it"
                )
            continue
        if cleaned.lower() in feedback:
            continue
        resolver.add(index, text)
    return resolver.finish(path, tuple(header), blank_unchecked)


def _names_entity_column(header: Sequence[str]) -> bool:
    """Whether one of the headers is the ``entity`` field (the feed is then mixed)."""
    return any(clean_header(text).lower() == ENTITY_COLUMN for text in header)
