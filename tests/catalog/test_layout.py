"""Header resolution against the catalog: every form, every problem.

The grammar alone (parse_header, format_header) is tests/feed/test_headers.py."""

from __future__ import annotations

import re
from typing import Any

import pytest

from feed_export.catalog.layout import Column, resolve_headers
from feed_export.catalog.structure import Catalog
from feed_export.config import ExportOptions
from feed_export.errors import HeaderError
from feed_export.feed.headers import ENTITY_FIELDS

CATALOG = Catalog.from_dict(
    {
        "attributes": [
            {"code": "sku", "type": "pim_catalog_identifier", "is_main_identifier": True},
            {"code": "name", "type": "pim_catalog_text", "localizable": True},
            {
                "code": "description",
                "type": "pim_catalog_textarea",
                "localizable": True,
                "scopable": True,
            },
            {"code": "meta", "type": "pim_catalog_text", "scopable": True},
            {"code": "color", "type": "pim_catalog_simpleselect"},
            {"code": "price", "type": "pim_catalog_price_collection"},
            {"code": "weight", "type": "pim_catalog_metric", "metric_family": "Weight"},
            {
                "code": "legal_de",
                "type": "pim_catalog_text",
                "localizable": True,
                "available_locales": ["de_DE"],
            },
            {"code": "Title", "type": "pim_catalog_text", "localizable": True},
        ],
        "channels": [
            {"code": "ecommerce", "locales": ["en_US", "fr_FR"], "currencies": ["EUR"]},
            {"code": "print", "locales": ["de_DE", "en_US"], "currencies": ["EUR"]},
        ],
        "locales": [
            {"code": "en_US", "enabled": True},
            {"code": "fr_FR", "enabled": True},
            {"code": "de_DE", "enabled": True},
            {"code": "es_ES", "enabled": False},
        ],
    }
)


def resolve(header: list[str], **options: Any) -> Any:
    has_data = options.pop("column_has_data", None)
    return resolve_headers(
        "feed.csv", header, CATALOG, ExportOptions(**options), column_has_data=has_data
    )


# -- resolution: every form ------------------------------------------------------

FORMS = [
    # header, entity, expected (kind, name, locale, scope, target)
    ("identifier", "products", ("key", "identifier", None, None, None)),
    ("uuid", "products", ("field", "uuid", None, None, None)),
    ("uuid", "products-uuid", ("key", "uuid", None, None, None)),
    ("code", "product-models", ("key", "code", None, None, None)),
    ("family", "products", ("field", "family", None, None, None)),
    ("family_variant", "product-models", ("field", "family_variant", None, None, None)),
    ("parent", "product-models", ("field", "parent", None, None, None)),
    ("categories", "products", ("field", "categories", None, None, None)),
    ("groups", "products-uuid", ("field", "groups", None, None, None)),
    ("enabled", "products", ("field", "enabled", None, None, None)),
    ("color", "products", ("value", "color", None, None, None)),
    ("COLOR", "products", ("value", "color", None, None, None)),
    ("name~en_US", "products", ("value", "name", "en_US", None, None)),
    ("name~EN_us", "products", ("value", "name", "en_US", None, None)),
    ("title~fr_fr", "products", ("value", "Title", "fr_FR", None, None)),
    ("meta~ECOMMERCE", "products", ("value", "meta", None, "ecommerce", None)),
    ("description~de_DE~print", "products", ("value", "description", "de_DE", "print", None)),
    ("price@currency", "products", ("value", "price", None, None, None)),
    ("weight@unit", "product-models", ("value", "weight", None, None, None)),
    ("legal_de~de_DE", "products", ("value", "legal_de", "de_DE", None, None)),
    ("sku", "products-uuid", ("value", "sku", None, None, None)),
    ("associations~X_SELL~products", "products", ("association", "X_SELL", None, None, "products")),
    ("associations~X~groups", "product-models", ("association", "X", None, None, "groups")),
    (
        "quantified_associations~PACK~product_models",
        "products",
        ("quantified_association", "PACK", None, None, "product_models"),
    ),
]
KEYS = {"products": "identifier", "products-uuid": "uuid", "product-models": "code"}


@pytest.mark.parametrize(
    ("header", "entity", "expected"), FORMS, ids=[f"{f[0]}/{f[1]}" for f in FORMS]
)
def test_every_header_form_resolves(header: str, entity: str, expected: tuple[Any, ...]) -> None:
    key = KEYS[entity]
    headers = [header] if header == key else [key, header]
    layout = resolve(headers, entity=entity)
    column = next(c for c in layout.columns if c.header == header)
    assert (column.kind, column.name, column.locale, column.scope, column.target) == expected
    assert column.index == headers.index(header)
    assert layout.key.name == key
    assert layout.warnings == []


@pytest.mark.parametrize("entity", sorted(ENTITY_FIELDS))
def test_every_field_of_an_entity_is_accepted(entity: str) -> None:
    fields = sorted(ENTITY_FIELDS[entity] - {"categories"})  # categories excludes add/remove
    layout = resolve(fields, entity=entity)
    assert sorted(c.name for c in layout.columns) == sorted(
        KEYS[entity] if f == KEYS[entity] else f for f in fields
    )


# -- resolution: every problem ---------------------------------------------------

PROBLEMS: list[tuple[str, list[str], dict[str, Any], str | list[str]]] = [
    # id, headers, options, the problem(s) expected, exact
    (
        "unknown-did-you-mean",
        ["sku", "nmae~en_US"],
        {},
        'column 2 "nmae~en_US": unknown attribute "nmae"; did you mean "name"?',
    ),
    (
        "unknown-no-hint",
        ["sku", "zzz"],
        {},
        'column 2 "zzz": unknown attribute "zzz"; check the code, or pass '
        "--ignore-unknown-columns to skip such columns",
    ),
    (
        "dash-instead-of-tilde",
        ["sku", "name-en_US"],
        {},
        'column 2 "name-en_US": unknown attribute "name-en_US"; separate locale and channel '
        'with "~", never "-"',
    ),
    (
        "field-typo",
        ["sku", "familly"],
        {},
        'column 2 "familly": unknown attribute "familly"; did you mean the field "family"?',
    ),
    (
        "locale-missing",
        ["sku", "name"],
        {},
        'column 2 "name": missing the locale: name is localizable, not scopable, so its column '
        "is name~<locale>, e.g. name~en_US",
    ),
    (
        "channel-missing",
        ["sku", "meta"],
        {},
        'column 2 "meta": missing the channel: meta is scopable, not localizable, so its column '
        "is meta~<channel>, e.g. meta~ecommerce",
    ),
    (
        "locale-and-channel-missing",
        ["sku", "description"],
        {},
        'column 2 "description": missing the locale and the channel: description is localizable '
        "and scopable, so its column is description~<locale>~<channel>, "
        "e.g. description~en_US~ecommerce",
    ),
    (
        "channel-missing-after-locale",
        ["sku", "description~en_US"],
        {},
        'column 2 "description~en_US": missing the channel: description is localizable and '
        "scopable, so its column is description~<locale>~<channel>, "
        "e.g. description~en_US~ecommerce",
    ),
    (
        "locale-missing-before-channel",
        ["sku", "description~print"],
        {},
        'column 2 "description~print": missing the locale: description is localizable and '
        "scopable, so its column is description~<locale>~<channel>, "
        "e.g. description~en_US~ecommerce",
    ),
    (
        "extra-locale",
        ["sku", "color~en_US"],
        {},
        'column 2 "color~en_US": too many parts (en_US is a locale): color is neither localizable '
        "nor scopable, so its column is color, e.g. color",
    ),
    (
        "extra-channel",
        ["sku", "name~en_US~ecommerce"],
        {},
        'column 2 "name~en_US~ecommerce": too many parts (ecommerce is a channel): name is '
        "localizable, not scopable, so its column is name~<locale>, e.g. name~en_US",
    ),
    (
        "extra-suffix-example",
        ["sku", "price~en_US"],
        {},
        'column 2 "price~en_US": too many parts (en_US is a locale): price is neither '
        "localizable nor scopable, so its column is price, e.g. price@currency",
    ),
    (
        "unknown-locale",
        ["sku", "name~xx_XX"],
        {},
        'column 2 "name~xx_XX": unknown locale "xx_XX"; activated locales: en_US, fr_FR, de_DE',
    ),
    (
        "locale-not-activated",
        ["sku", "name~es_es"],
        {},
        'column 2 "name~es_es": locale es_ES is not activated; activated locales: '
        "en_US, fr_FR, de_DE",
    ),
    (
        "channel-instead-of-locale",
        ["sku", "name~ecommerce"],
        {},
        'column 2 "name~ecommerce": ecommerce is a channel, but the locale is expected here; '
        "activated locales: en_US, fr_FR, de_DE",
    ),
    (
        "unknown-channel",
        ["sku", "meta~web"],
        {},
        'column 2 "meta~web": unknown channel "web"; channels: ecommerce, print',
    ),
    (
        "locale-instead-of-channel",
        ["sku", "meta~en_US"],
        {},
        'column 2 "meta~en_US": en_US is a locale, but meta is not localizable: the part after ~ '
        "is a channel (ecommerce, print)",
    ),
    (
        "locale-not-bound-to-channel",
        ["sku", "description~fr_FR~print"],
        {},
        'column 2 "description~fr_FR~print": locale fr_FR is not bound to channel print '
        "(its locales: de_DE, en_US)",
    ),
    (
        "locale-and-channel-swapped",
        ["sku", "description~ecommerce~en_US"],
        {},
        'column 2 "description~ecommerce~en_US": locale and channel are swapped: the locale '
        "comes first, description~en_US~ecommerce",
    ),
    (
        "unknown-locale-and-channel",
        ["sku", "description~xx~yy"],
        {},
        [
            'column 2 "description~xx~yy": unknown locale "xx"; activated locales: '
            "en_US, fr_FR, de_DE",
            'column 2 "description~xx~yy": unknown channel "yy"; channels: ecommerce, print',
        ],
    ),
    (
        "unknown-locale-and-wrong-suffix",
        ["sku", "price~xx"],
        {},
        'column 2 "price~xx": too many parts: price is neither localizable nor scopable, so its '
        "column is price, e.g. price@currency",
    ),
    (
        "outside-available-locales",
        ["sku", "legal_de~en_US"],
        {},
        'column 2 "legal_de~en_US": legal_de is specific to the locale(s) de_DE; en_US is not '
        "one of them",
    ),
    (
        "price-without-suffix",
        ["sku", "price"],
        {},
        'column 2 "price": price is a price attribute: name the column price@currency and write '
        'amounts like "740.00 EUR"',
    ),
    (
        "price-with-unit",
        ["sku", "price@unit"],
        {},
        'column 2 "price@unit": price is a price attribute: name the column price@currency and '
        'write amounts like "740.00 EUR"',
    ),
    (
        "metric-without-suffix",
        ["sku", "weight"],
        {},
        'column 2 "weight": weight is a measure (metric) attribute: name the column weight@unit '
        'and write values like "3000.00 MMT" or "3 kg"',
    ),
    (
        "suffix-on-other-type",
        ["sku", "name~en_US@unit"],
        {},
        'column 2 "name~en_US@unit": @unit is only for price (@currency) and metric (@unit) '
        "attributes; name is pim_catalog_text: name the column name~en_US",
    ),
    (
        "currency-as-suffix",
        ["sku", "price@EUR"],
        {},
        'column 2 "price@EUR": @EUR is not a suffix: the currency goes in the cell '
        '("740.00 EUR"); name the column price@currency',
    ),
    (
        "syntax-error",
        ["sku", "a~b~c~d"],
        {},
        'column 2 "a~b~c~d": too many ~ parts (4); at most code~locale~channel',
    ),
    (
        "same-header-twice",
        ["sku", "name~en_US", "name~en_US"],
        {},
        'column 3 "name~en_US" means the same value as column 2 "name~en_US": keep only one of them',
    ),
    (
        "same-value-other-case",
        ["sku", "NAME~EN_us", "name~en_US"],
        {},
        'column 3 "name~en_US" means the same value as column 2 "NAME~EN_us": keep only one of them',
    ),
    (
        "same-field-twice",
        ["sku", "family", "Family"],
        {},
        'column 3 "Family" means the same value as column 2 "family": keep only one of them',
    ),
    (
        "same-association-twice",
        ["sku", "associations~X~products", "associations~x~PRODUCTS"],
        {},
        'column 3 "associations~x~PRODUCTS" means the same value as column 2 '
        '"associations~X~products": keep only one of them',
    ),
    (
        "same-identifier-twice",
        ["identifier", "identifier"],
        {},
        'column 2 "identifier" means the same value as column 1 "identifier": keep only one of them',
    ),
    (
        "empty-header-over-data",
        ["sku", "", "color"],
        {"column_has_data": [True, True, False]},
        "column 2 has values but no header: name the column or remove it",
    ),
    (
        "no-identifier",
        ["name~en_US"],
        {},
        'no identifier column: add an "identifier" column (or the identifier attribute\'s own '
        'column, e.g. "sku")',
    ),
    (
        "localized-sku-is-no-identifier",
        ["color"],
        {},
        'no identifier column: add an "identifier" column (or the identifier attribute\'s own '
        'column, e.g. "sku")',
    ),
    (
        "no-uuid",
        ["sku", "family"],
        {"entity": "products-uuid"},
        'no uuid column: products-uuid rows are identified by "uuid"',
    ),
    (
        "no-code",
        ["family_variant"],
        {"entity": "product-models"},
        'no code column: product-models rows are identified by "code"',
    ),
    (
        "family-variant-on-products",
        ["sku", "family_variant"],
        {},
        'column 2 "family_variant": family_variant is a product-model field; a variant product '
        "gets it from its parent (push product models with --entity product-models, or add an "
        "entity column saying product or product_model on each row)",
    ),
    (
        "code-on-products",
        ["sku", "code"],
        {},
        'column 2 "code": code identifies product models; products use identifier (or push '
        "product models with --entity product-models, or add an entity column saying product "
        "or product_model on each row)",
    ),
    (
        "entity-column-on-product-models",
        ["code", "entity"],
        {"entity": "product-models"},
        'column 2 "entity": an entity column mixes products and product models in one feed; '
        "push it with --entity products (or products-uuid), or drop the column",
    ),
    (
        "entity-column-without-code",
        ["sku", "entity", "family_variant"],
        {},
        'column 2 "entity": a feed with an entity column needs a code column too: it '
        "identifies the product_model rows",
    ),
    (
        "entity-column-twice",
        ["sku", "code", "entity", "Entity"],
        {},
        'column 4 "Entity" means the same value as column 3 "entity": keep only one of them',
    ),
    (
        "identifier-on-products-uuid",
        ["uuid", "identifier"],
        {"entity": "products-uuid"},
        'column 2 "identifier": products-uuid rows carry the identifier as a value: name the '
        'column after the identifier attribute (e.g. "sku") instead of identifier',
    ),
    (
        "enabled-on-product-models",
        ["code", "enabled"],
        {"entity": "product-models"},
        'column 2 "enabled": product models have no enabled field (only products do)',
    ),
    (
        "groups-on-product-models",
        ["code", "groups"],
        {"entity": "product-models"},
        'column 2 "groups": product models have no groups field (only products do)',
    ),
    (
        "identifier-on-product-models",
        ["code", "identifier"],
        {"entity": "product-models"},
        'column 2 "identifier": product models are identified by code, not identifier',
    ),
    (
        "identifier-attribute-on-product-models",
        ["code", "sku"],
        {"entity": "product-models"},
        'column 2 "sku": sku is an identifier attribute: it belongs to products, and product '
        "models are identified by code",
    ),
    (
        "categories-with-add-categories",
        ["sku", "categories", "add_categories"],
        {},
        'column 2 "categories", column 3 "add_categories": categories replaces every category '
        "and cannot be combined with add_categories / remove_categories; keep one kind",
    ),
    (
        "known-attribute-syntax-error-not-ignored",
        ["sku", "price@EUR"],
        {"ignore_unknown_columns": True},
        'column 2 "price@EUR": @EUR is not a suffix: the currency goes in the cell '
        '("740.00 EUR"); name the column price@currency',
    ),
]


@pytest.mark.parametrize(
    ("headers", "options", "problem"), [p[1:] for p in PROBLEMS], ids=[p[0] for p in PROBLEMS]
)
def test_header_problems(
    headers: list[str], options: dict[str, Any], problem: str | list[str]
) -> None:
    problems = [problem] if isinstance(problem, str) else problem
    message = f"feed.csv: the header row has {len(problems)} problem(s); nothing was sent:\n"
    message += "\n".join(f"  - {p}" for p in problems)
    with pytest.raises(HeaderError, match=f"^{re.escape(message)}$") as caught:
        resolve(headers, **options)
    assert caught.value.problems == problems
    assert caught.value.path == "feed.csv"


def test_every_problem_is_listed_at_once() -> None:
    headers = ["name", "zzz", "meta~web", "price", "color", "color", "legal_de~en_US"]
    with pytest.raises(
        HeaderError, match=r"^feed\.csv: the header row has 7 problem\(s\)"
    ) as caught:
        resolve(headers)
    problems = caught.value.problems
    assert len(problems) == 7  # six columns, plus the missing identifier
    assert [p.split(":")[0] for p in problems[:6]] == [
        'column 1 "name"',
        'column 2 "zzz"',
        'column 3 "meta~web"',
        'column 4 "price"',
        'column 6 "color" means the same value as column 5 "color"',
        'column 7 "legal_de~en_US"',
    ]
    assert problems[6].startswith("no identifier column")
    assert "feed.csv: the header row has 7 problem(s); nothing was sent" in str(caught.value)


# -- options and special columns -------------------------------------------------


def test_ignore_unknown_columns_drops_them_with_one_warning() -> None:
    layout = resolve(
        ["sku", "zzz", "name~en_US", "foo~a~b~c", "other@thing"], ignore_unknown_columns=True
    )
    assert [c.header for c in layout.columns] == ["sku", "name~en_US"]
    assert layout.warnings == [
        "ignored 3 column(s) naming no attribute of the catalog: "
        'column 2 "zzz", column 4 "foo~a~b~c", column 5 "other@thing"'
    ]


def test_ignore_unknown_columns_keeps_other_problems() -> None:
    with pytest.raises(
        HeaderError, match=r'has 1 problem\(s\).*\n  - column 3 "name": missing'
    ) as caught:
        resolve(["sku", "zzz", "name"], ignore_unknown_columns=True)
    assert len(caught.value.problems) == 1
    assert caught.value.problems[0].startswith('column 3 "name": missing the locale')


@pytest.mark.parametrize(
    ("has_data", "blank_unchecked"),
    [(None, (1, 3)), ([True, False, True, False], ())],
    ids=["unknown-data-checked-per-row", "all-empty-ignored"],
)
def test_empty_headers(has_data: list[bool] | None, blank_unchecked: tuple[int, ...]) -> None:
    layout = resolve(["sku", "", "color", "  "], column_has_data=has_data)
    assert layout.blank_unchecked == blank_unchecked
    assert [c.header for c in layout.columns] == ["sku", "color"]
    assert layout.width == 4


def test_feedback_columns_are_ignored() -> None:
    layout = resolve(["sku", "color", "akeneo_status_code", "AKENEO_MESSAGE "])
    assert [c.header for c in layout.columns] == ["sku", "color"]


def test_identifier_attribute_stands_in_for_identifier() -> None:
    layout = resolve(["SKU", "color"])
    assert layout.key.kind == "key"
    assert layout.key.name == "identifier"
    assert layout.key.header == "SKU"
    assert layout.key.index == 0


def test_identifier_attribute_beside_identifier_is_checked_not_sent() -> None:
    layout = resolve(["color", "identifier", "sku"])
    assert layout.key.header == "identifier"
    kinds = {c.header: c.kind for c in layout.columns}
    assert kinds == {"color": "value", "identifier": "key", "sku": "identifier_check"}


def test_products_uuid_sends_the_identifier_as_a_value() -> None:
    layout = resolve(["sku", "uuid"], entity="products-uuid")
    assert layout.key.header == "uuid"
    assert [(c.header, c.kind) for c in layout.columns] == [("sku", "value"), ("uuid", "key")]


def test_attribute_codes_use_catalog_spelling_in_feed_order() -> None:
    layout = resolve(["sku", "TITLE~en_US", "color", "title~fr_FR", "family"])
    assert layout.attribute_codes == ("Title", "color")


def test_column_position() -> None:
    layout = resolve(["sku", "color"])
    assert layout.columns[1].position == 'column 2 "color"'


def test_layout_keeps_the_header_and_catalog() -> None:
    header = ["sku", "", "color"]
    layout = resolve(header)
    assert layout.header == tuple(header)
    assert layout.catalog is CATALOG
    assert layout.entity == "products"
    assert layout.path == "feed.csv"


# -- boundaries and the cases mutation testing found unguarded --------------------

LOCALE_CODES = [f"{a}_{b}" for a, b in zip("abcdefghijklm", "NOPQRSTUVWXYZ", strict=True)]


def small_catalog(
    *,
    locales: list[str],
    channels: dict[str, list[str]],
    identifier: str | None = "sku",
    extra: list[dict[str, Any]] | None = None,
) -> Catalog:
    """A catalog with the given activated locales and channels, and a few attributes."""
    attributes: list[dict[str, Any]] = [
        {"code": "name", "type": "pim_catalog_text", "localizable": True},
        {"code": "meta", "type": "pim_catalog_text", "scopable": True},
        {"code": "color", "type": "pim_catalog_simpleselect"},
        *(extra or []),
    ]
    if identifier is not None:
        attributes.insert(
            0, {"code": identifier, "type": "pim_catalog_identifier", "is_main_identifier": True}
        )
    return Catalog.from_dict(
        {
            "attributes": attributes,
            "channels": [{"code": code, "locales": bound} for code, bound in channels.items()],
            "locales": [{"code": code, "enabled": True} for code in locales],
        }
    )


def problems_of(catalog: Catalog, header: list[str], **options: Any) -> list[str]:
    with pytest.raises(HeaderError, match=r"^feed\.csv: the header row has") as caught:
        resolve_headers("feed.csv", header, catalog, ExportOptions(**options))
    return caught.value.problems


_TEN = "a_N, b_O, c_P, d_Q, e_R, f_S, g_T, h_U, i_V, j_W"
LISTINGS = [
    # how many activated locales, how a message lists them
    (0, "none"),
    (1, "a_N"),
    (9, "a_N, b_O, c_P, d_Q, e_R, f_S, g_T, h_U, i_V"),
    (10, _TEN),
    (11, f"{_TEN}, ... (11 in all)"),
    (13, f"{_TEN}, ... (13 in all)"),
]


@pytest.mark.parametrize(("n", "listing"), LISTINGS, ids=[f"{n}-locales" for n, _ in LISTINGS])
def test_long_listings_end_with_the_count(n: int, listing: str) -> None:
    # at most ten codes are listed; past ten the list ends with how many there are in all
    catalog = small_catalog(locales=LOCALE_CODES[:n], channels={"web": []})
    assert problems_of(catalog, ["sku", "name~xx_XX"]) == [
        f'column 2 "name~xx_XX": unknown locale "xx_XX"; activated locales: {listing}'
    ]


def test_long_listing_of_a_channels_locales() -> None:
    catalog = small_catalog(
        locales=LOCALE_CODES,
        channels={"web": LOCALE_CODES[1:], "print": []},
        extra=[{"code": "text", "type": "pim_catalog_text", "localizable": True, "scopable": True}],
    )
    assert problems_of(catalog, ["sku", "text~a_N~web"]) == [
        'column 2 "text~a_N~web": locale a_N is not bound to channel web (its locales: '
        "b_O, c_P, d_Q, e_R, f_S, g_T, h_U, i_V, j_W, k_X, ... (12 in all))"
    ]
    assert problems_of(catalog, ["sku", "text~a_N~print"]) == [
        'column 2 "text~a_N~print": locale a_N is not bound to channel print (its locales: none)'
    ]


def test_long_listing_of_available_locales() -> None:
    catalog = small_catalog(
        locales=LOCALE_CODES,
        channels={"web": LOCALE_CODES},
        extra=[
            {
                "code": "legal",
                "type": "pim_catalog_text",
                "localizable": True,
                "available_locales": LOCALE_CODES[1:],
            }
        ],
    )
    assert problems_of(catalog, ["sku", "legal~a_N"]) == [
        'column 2 "legal~a_N": legal is specific to the locale(s) b_O, c_P, d_Q, e_R, f_S, '
        "g_T, h_U, i_V, j_W, k_X, ... (12 in all); a_N is not one of them"
    ]


def test_more_than_ten_problems_are_all_listed() -> None:
    # the problems of a header row are never cut short, however many there are
    headers = ["sku", *(f"zz{i}" for i in range(12))]
    problems = problems_of(CATALOG, headers)
    assert problems == [
        f'column {i + 2} "zz{i}": unknown attribute "zz{i}"; check the code, or pass '
        "--ignore-unknown-columns to skip such columns"
        for i in range(12)
    ]


@pytest.mark.parametrize(
    ("locales", "channels", "header", "example"),
    [
        (["de_DE", "en_US"], {"print": ["de_DE"]}, "name", "name~de_DE"),
        ([], {}, "name", "name~en_US"),
        (["en_US"], {"print": ["en_US"], "web": ["en_US"]}, "meta", "meta~print"),
        (["en_US"], {}, "meta", "meta~ecommerce"),
        (["fr_FR"], {"web": ["fr_FR"]}, "both", "both~fr_FR~web"),
        (["fr_FR"], {"web": ["fr_FR"]}, "depth~fr_FR", "depth@unit"),
        (["fr_FR"], {"web": ["fr_FR"]}, "cost~web", "cost@currency"),
    ],
    ids=[
        "first-activated-locale",
        "no-locale-at-all",
        "first-channel",
        "no-channel-at-all",
        "locale-and-channel",
        "metric",
        "price",
    ],
)
def test_the_example_of_the_right_header(
    locales: list[str], channels: dict[str, list[str]], header: str, example: str
) -> None:
    extra = [
        {"code": "both", "type": "pim_catalog_text", "localizable": True, "scopable": True},
        {"code": "depth", "type": "pim_catalog_metric", "metric_family": "Length"},
        {"code": "cost", "type": "pim_catalog_price_collection"},
    ]
    catalog = small_catalog(locales=locales, channels=channels, extra=extra)
    (problem,) = problems_of(catalog, ["sku", header])
    assert problem.endswith(f", e.g. {example}")


def test_the_example_uses_the_attributes_own_locales() -> None:
    (problem,) = problems_of(CATALOG, ["sku", "legal_de"])
    assert problem == (
        'column 2 "legal_de": missing the locale: legal_de is localizable, not scopable, so its '
        "column is legal_de~<locale>, e.g. legal_de~de_DE"
    )


@pytest.mark.parametrize(
    ("identifier", "example"),
    [("ean_code", "ean_code"), (None, "sku")],
    ids=["named-identifier", "no-identifier-attribute"],
)
def test_identifier_messages_name_the_catalogs_identifier(
    identifier: str | None, example: str
) -> None:
    catalog = small_catalog(locales=["en_US"], channels={}, identifier=identifier)
    assert problems_of(catalog, ["uuid", "identifier"], entity="products-uuid") == [
        'column 2 "identifier": products-uuid rows carry the identifier as a value: name the '
        f'column after the identifier attribute (e.g. "{example}") instead of identifier'
    ]
    assert problems_of(catalog, ["color"]) == [
        'no identifier column: add an "identifier" column (or the identifier attribute\'s own '
        f'column, e.g. "{example}")'
    ]


SHAPES = [
    # header, the problem after 'column 2 "<header>": '
    (
        "description~xx",
        "missing the locale: description is localizable and scopable, so its column is "
        "description~<locale>~<channel>, e.g. description~en_US~ecommerce",
    ),
    (
        "description~en_US~print~x",
        "too many ~ parts (4); at most code~locale~channel",
    ),
    (
        "color~en_US~ecommerce",
        "too many parts (en_US is a locale; ecommerce is a channel): color is neither "
        "localizable nor scopable, so its column is color, e.g. color",
    ),
    (
        "color~xx~yy",
        "too many parts: color is neither localizable nor scopable, so its column is color, "
        "e.g. color",
    ),
    (
        "meta~print~en_US",
        "too many parts (en_US is a locale): meta is scopable, not localizable, so its column "
        "is meta~<channel>, e.g. meta~ecommerce",
    ),
    (
        "weight~en_US",
        "too many parts (en_US is a locale): weight is neither localizable nor scopable, so its "
        "column is weight, e.g. weight@unit",
    ),
    (
        "price~de_DE~print@currency",
        "too many parts (de_DE is a locale; print is a channel): price is neither localizable "
        "nor scopable, so its column is price, e.g. price@currency",
    ),
    (
        "Description ~ PRINT",
        "missing the locale: description is localizable and scopable, so its column is "
        "description~<locale>~<channel>, e.g. description~en_US~ecommerce",
    ),
    (
        " NAME ",
        "missing the locale: name is localizable, not scopable, so its column is "
        "name~<locale>, e.g. name~en_US",
    ),
]


@pytest.mark.parametrize(("header", "problem"), SHAPES, ids=[s[0].strip() for s in SHAPES])
def test_part_shape_problems(header: str, problem: str) -> None:
    assert problems_of(CATALOG, ["sku", header]) == [f'column 2 "{header}": {problem}']


SUFFIXES = [
    # header, the problem after 'column 2 "<header>": '
    (
        "price~en_US~print",
        "too many parts (en_US is a locale; print is a channel): price is neither localizable "
        "nor scopable, so its column is price, e.g. price@currency",
    ),
    (
        "PRICE@UNIT",
        "price is a price attribute: name the column PRICE@currency and write amounts like "
        '"740.00 EUR"',
    ),
    (
        "weight@currency",
        "weight is a measure (metric) attribute: name the column weight@unit and write values "
        'like "3000.00 MMT" or "3 kg"',
    ),
    (
        "color@currency",
        "@currency is only for price (@currency) and metric (@unit) attributes; color is "
        "pim_catalog_simpleselect: name the column color",
    ),
    (
        "description~en_US~print@unit",
        "@unit is only for price (@currency) and metric (@unit) attributes; description is "
        "pim_catalog_textarea: name the column description~en_US~print",
    ),
    (
        "weight@KGM",
        '@KGM is not a suffix: the unit goes in the cell ("3000.00 KGM"); name the column '
        "weight@unit",
    ),
    ("weight @ unit x", "unknown suffix @unit x; use @currency (prices) or @unit (measures)"),
]


@pytest.mark.parametrize(("header", "problem"), SUFFIXES, ids=[s[0] for s in SUFFIXES])
def test_suffix_problems(header: str, problem: str) -> None:
    assert problems_of(CATALOG, ["sku", header]) == [f'column 2 "{header}": {problem}']


def test_suffix_is_checked_on_localizable_and_scopable_prices() -> None:
    catalog = small_catalog(
        locales=["en_US"],
        channels={"web": ["en_US"]},
        extra=[
            {
                "code": "msrp",
                "type": "pim_catalog_price_collection",
                "localizable": True,
                "scopable": True,
            },
            {"code": "depth", "type": "pim_catalog_metric", "scopable": True},
        ],
    )
    assert problems_of(catalog, ["sku", "msrp~en_US~web", "depth~web"]) == [
        'column 2 "msrp~en_US~web": msrp is a price attribute: name the column '
        'msrp~en_US~web@currency and write amounts like "740.00 EUR"',
        'column 3 "depth~web": depth is a measure (metric) attribute: name the column '
        'depth~web@unit and write values like "3000.00 MMT" or "3 kg"',
    ]


UNKNOWN = [
    # header, the hints after 'unknown attribute "<code>"; '
    ("fam", "check the code, or pass --ignore-unknown-columns to skip such columns"),
    ("famliy", 'did you mean the field "family"?'),
    ("zzz-en_US", "check the code, or pass --ignore-unknown-columns to skip such columns"),
    ("description-en_US-print", 'separate locale and channel with "~", never "-"'),
    (
        "color-x",
        'separate locale and channel with "~", never "-"; did you mean "color" or "colour"?',
    ),
    ("colr", 'did you mean "color" or "colour"?'),
]


@pytest.mark.parametrize(("header", "hints"), UNKNOWN, ids=[u[0] for u in UNKNOWN])
def test_unknown_attribute_hints(header: str, hints: str) -> None:
    catalog = small_catalog(
        locales=["en_US"],
        channels={"print": ["en_US"]},
        extra=[
            {"code": "colour", "type": "pim_catalog_text"},
            {
                "code": "description",
                "type": "pim_catalog_text",
                "localizable": True,
                "scopable": True,
            },
        ],
    )
    assert problems_of(catalog, ["sku", header]) == [
        f'column 2 "{header}": unknown attribute "{header}"; {hints}'
    ]


@pytest.mark.parametrize(
    "other", ["add_categories", "remove_categories", "ADD_CATEGORIES", " Remove_Categories "]
)
def test_categories_combined_with_add_or_remove_is_refused(other: str) -> None:
    assert problems_of(CATALOG, ["sku", "categories", other]) == [
        f'column 2 "categories", column 3 "{other}": categories replaces every category and '
        "cannot be combined with add_categories / remove_categories; keep one kind"
    ]


def test_categories_with_add_and_remove_lists_all_three() -> None:
    assert problems_of(CATALOG, ["remove_categories", "sku", "Categories", "add_categories"]) == [
        'column 1 "remove_categories", column 3 "Categories", column 4 "add_categories": '
        "categories replaces every category and cannot be combined with add_categories / "
        "remove_categories; keep one kind"
    ]


def test_add_and_remove_categories_go_together() -> None:
    layout = resolve(["sku", "add_categories", "remove_categories"])
    assert [(c.kind, c.name) for c in layout.columns] == [
        ("key", "identifier"),
        ("field", "add_categories"),
        ("field", "remove_categories"),
    ]


STILL_REPORTED = [
    # header, the problem it still is under --ignore-unknown-columns
    ("family@x", "unknown suffix @x; use @currency (prices) or @unit (measures)"),
    ("Family@x", "unknown suffix @x; use @currency (prices) or @unit (measures)"),
    ("ENABLED@x", "unknown suffix @x; use @currency (prices) or @unit (measures)"),
    ("family@x@y", "unknown suffix @x@y; use @currency (prices) or @unit (measures)"),
    ("family~a~b~c", "too many ~ parts (4); at most code~locale~channel"),
    (
        "family~~x",
        "a part is empty (two ~ in a row, or a ~ at an end); the form is code~locale~channel",
    ),
    (
        "price@EUR",
        '@EUR is not a suffix: the currency goes in the cell ("740.00 EUR"); name the column price@currency',
    ),
    ("color~a~b~c~d", "too many ~ parts (5); at most code~locale~channel"),
    ("color~en US@foo", "unknown suffix @foo; use @currency (prices) or @unit (measures)"),
    (
        "associations~X_SELL",
        "an association column is associations~TYPE~products|product_models|groups|product_uuids",
    ),
    (
        "Associations~X~products@unit",
        "an association column is associations~TYPE~products|product_models|groups|product_uuids",
    ),
    (
        "quantified_associations~P~groups",
        "unknown association target 'groups'; an association column is quantified_associations~TYPE~products|product_models",
    ),
    (
        "@unit",
        "a part is empty (two ~ in a row, or a ~ at an end); the form is code~locale~channel",
    ),
    (
        "~en_US",
        "a part is empty (two ~ in a row, or a ~ at an end); the form is code~locale~channel",
    ),
]


@pytest.mark.parametrize(("header", "problem"), STILL_REPORTED, ids=[h[0] for h in STILL_REPORTED])
def test_ignore_unknown_columns_never_swallows_a_malformed_known_header(
    header: str, problem: str
) -> None:
    # a known attribute, a field name or an association keyword: the user meant that column
    assert problems_of(CATALOG, ["sku", header], ignore_unknown_columns=True) == [
        f'column 2 "{header}": {problem}'
    ]


@pytest.mark.parametrize(
    "header", ["zzz", "zzz~en_US", "zzz@x", "zzz~~x", "zzz~a~b~c", "family x@y", "Zzz @EUR"]
)
def test_ignore_unknown_columns_drops_any_header_naming_no_attribute(header: str) -> None:
    layout = resolve(["sku", header], ignore_unknown_columns=True)
    assert [c.header for c in layout.columns] == ["sku"]
    assert layout.warnings == [
        f'ignored 1 column(s) naming no attribute of the catalog: column 2 "{header}"'
    ]


def test_mixed_feed_layout() -> None:
    layout = resolve(["sku", "entity", "code", "family_variant", "enabled"])
    assert layout.mixed
    assert layout.entity_column == Column(1, "entity", "entity", "entity")
    assert layout.model_key == Column(2, "code", "model_key", "code")
    assert layout.key == Column(0, "sku", "key", "identifier", CATALOG.attribute("sku"))
    assert [(c.header, c.kind) for c in layout.columns] == [
        ("sku", "key"),
        ("entity", "entity"),
        ("code", "model_key"),
        ("family_variant", "field"),
        ("enabled", "field"),
    ]


def test_a_feed_without_entity_column_is_not_mixed() -> None:
    layout = resolve(["sku", "family"])
    assert not layout.mixed
    assert layout.entity_column is None
    assert layout.model_key is None


def test_code_is_the_key_of_product_models() -> None:
    layout = resolve(["code", "parent"], entity="product-models")
    assert layout.key == Column(0, "code", "key", "code")
    assert layout.model_key is None


def test_two_associations_of_different_types_are_kept() -> None:
    layout = resolve(
        [
            "sku",
            "associations~X_SELL~products",
            "associations~UPSELL~products",
            "associations~X_SELL~groups",
            "quantified_associations~X_SELL~products",
        ]
    )
    assert [(c.kind, c.name, c.target) for c in layout.columns[1:]] == [
        ("association", "X_SELL", "products"),
        ("association", "UPSELL", "products"),
        ("association", "X_SELL", "groups"),
        ("quantified_association", "X_SELL", "products"),
    ]


def test_columns_after_a_feedback_column_are_read() -> None:
    layout = resolve(["sku", "akeneo_status_code", "color", "akeneo_message", "family"])
    assert [c.header for c in layout.columns] == ["sku", "color", "family"]
    assert [c.index for c in layout.columns] == [0, 2, 4]


def test_column_has_data_shorter_than_the_header() -> None:
    # a column past the end of column_has_data holds nothing
    layout = resolve(["sku", "color", "", ""], column_has_data=[True, True])
    assert layout.blank_unchecked == ()
    assert [c.header for c in layout.columns] == ["sku", "color"]
    assert problems_of_data(["sku", "", "color"], [True, True]) == [
        "column 2 has values but no header: name the column or remove it"
    ]


def problems_of_data(header: list[str], has_data: list[bool]) -> list[str]:
    with pytest.raises(HeaderError, match="has values but no header") as caught:
        resolve(header, column_has_data=has_data)
    return caught.value.problems
