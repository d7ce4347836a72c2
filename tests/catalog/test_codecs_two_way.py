"""Codecs both ways: value -> cell -> value is the identity, cell -> value -> cell normalises."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from decimal import ROUND_DOWN, Decimal
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from feed_export.catalog.codecs import (
    EMPTY,
    Codec,
    amount_cell,
    association_codec,
    field_codec,
    quantified_codec,
    value_codec,
)
from feed_export.catalog.structure import Catalog
from feed_export.config import ExportOptions
from feed_export.errors import CellError


def _a(code: str, kind: str, **extra: Any) -> dict[str, Any]:
    return {
        "code": code,
        "type": kind if kind.startswith("akeneo") else f"pim_catalog_{kind}",
        **extra,
    }


def _units(*pairs: tuple[str, str]) -> dict[str, Any]:
    return {code: {"code": code, "symbol": symbol} for code, symbol in pairs}


CATALOG = Catalog.from_dict(
    {
        "attributes": [
            _a("sku", "identifier", max_characters=40),
            _a("name", "text", max_characters=10),
            _a("notes", "textarea"),
            _a(
                "stock", "number", decimals_allowed=False, negative_allowed=False, number_max="1000"
            ),
            _a("temp", "number", decimals_allowed=False, negative_allowed=True),
            _a("rating", "number", decimals_allowed=True, number_min="0", number_max="5"),
            _a("margin", "number", decimals_allowed=True),
            _a("is_new", "boolean"),
            _a("release", "date", date_min="2000-01-01T00:00:00+00:00", date_max="2030-12-31"),
            _a("color", "simpleselect"),
            _a("brand", "reference_data_simpleselect", reference_data_name="brands"),
            _a("designer", "akeneo_reference_entity"),
            _a("material", "multiselect"),
            _a("fabrics", "reference_data_multiselect"),
            _a("suppliers", "akeneo_reference_entity_collection"),
            _a("pictures", "asset_collection"),
            _a("price", "price_collection", decimals_allowed=True),
            _a("eco_tax", "price_collection", decimals_allowed=False, number_min="0"),
            _a(
                "weight",
                "metric",
                metric_family="Weight",
                default_metric_unit="KILOGRAM",
                decimals_allowed=True,
                negative_allowed=False,
            ),
            _a("length", "metric", metric_family="Length", decimals_allowed=False),
            _a("manual", "file", allowed_extensions=["pdf"]),
            _a("picture", "image", allowed_extensions=[".jpg", "png"]),
            _a("size_chart", "table"),
            _a("related", "product_link"),
            _a("mystery", "some_future_type"),
        ],
        "currencies": [{"code": c, "enabled": True} for c in ("EUR", "USD", "GBP")],
        "measurement_families": [
            {"code": "Weight", "units": _units(("GRAM", "g"), ("KILOGRAM", "kg"), ("POUND", "lb"))},
            {"code": "Length", "units": _units(("MILLIMETER", "mm"), ("METER", "m"))},
        ],
    }
)

DEFAULT = ExportOptions()
#: every mark that can change: decimal comma, another separator, a day-first date format
OTHER = ExportOptions(decimal_separator=",", value_separator=";", date_format="%d/%m/%Y")
OPTIONS = [DEFAULT, OTHER]
OPTION_IDS = ["default-options", "comma-semicolon-day-first"]


def codec(code: str, options: ExportOptions = DEFAULT) -> Codec:
    attribute = CATALOG.attribute(code)
    assert attribute is not None
    return value_codec(attribute, CATALOG, options)


# -- what the PIM can hold, per type ------------------------------------------------

CODES = st.from_regex(r"[A-Za-z0-9_]{1,20}", fullmatch=True)
CODE_LISTS = st.lists(CODES, min_size=1, max_size=24, unique=True)  # > 16: the long path


def decimal_text(low: int | None, high: int | None) -> st.SearchStrategy[str]:
    """Decimal strings as the PIM gives them: 0 to 4 places, no exponent, no "+", no "-0"."""
    numbers = st.decimals(
        min_value=low, max_value=high, places=4, allow_nan=False, allow_infinity=False
    )
    return (
        st.tuples(numbers, st.sampled_from([0, 1, 2, 4]))
        .map(lambda p: format(p[0].quantize(Decimal(1).scaleb(-p[1]), rounding=ROUND_DOWN), "f"))
        .filter(lambda t: not (t.startswith("-") and not t.strip("-0.")))
    )


def _media_code(extension: str) -> st.SearchStrategy[str]:
    return st.from_regex(
        rf"[0-9a-f]/[0-9a-f]/[0-9a-f]/[0-9a-f]/[0-9a-f]{{40}}_[A-Za-z0-9_.-]{{1,20}}\.{extension}",
        fullmatch=True,
    )


JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
)
JSON_ROWS = st.dictionaries(st.text(min_size=1, max_size=10), JSON_SCALARS, max_size=5)


def _prices(amounts: st.SearchStrategy[Any]) -> st.SearchStrategy[list[dict[str, Any]]]:
    return st.lists(
        st.tuples(st.sampled_from(["EUR", "USD", "GBP"]), amounts),
        min_size=1,
        max_size=3,
        unique_by=lambda pair: pair[0],
    ).map(lambda pairs: [{"amount": a, "currency": c} for c, a in pairs])


NOT_BLANK = st.text(min_size=1).filter(lambda t: not t.isspace())
HELD: dict[str, st.SearchStrategy[Any]] = {
    "sku": NOT_BLANK.filter(lambda t: len(t) <= 40),
    "name": st.text(min_size=1, max_size=10).filter(lambda t: not t.isspace()),
    "notes": NOT_BLANK,
    "stock": st.integers(min_value=0, max_value=1000),
    "temp": st.integers(min_value=-(2**63) + 1, max_value=2**63 - 1),
    "rating": decimal_text(0, 5),
    "margin": decimal_text(-(10**12), 10**12),
    "is_new": st.booleans(),
    "release": st.dates(date(2000, 1, 1), date(2030, 12, 31)).map(date.isoformat),
    "color": CODES,
    "brand": CODES,
    "designer": CODES,
    "material": CODE_LISTS,
    "fabrics": CODE_LISTS,
    "suppliers": CODE_LISTS,
    "pictures": CODE_LISTS,
    "price": _prices(decimal_text(-(10**9), 10**9)),
    "eco_tax": _prices(st.integers(min_value=0, max_value=2**63 - 1)),
    "weight": st.fixed_dictionaries(
        {"amount": decimal_text(0, 10**6), "unit": st.sampled_from(["GRAM", "KILOGRAM", "POUND"])}
    ),
    "length": st.fixed_dictionaries(
        {
            "amount": st.integers(min_value=-(2**63) + 1, max_value=2**63 - 1),
            "unit": st.sampled_from(["MILLIMETER", "METER"]),
        }
    ),
    "manual": _media_code("pdf"),
    "picture": _media_code("(jpg|JPG|png)"),
    "size_chart": st.lists(JSON_ROWS, min_size=1, max_size=4),
    "related": JSON_ROWS,
    "mystery": NOT_BLANK,
}


def test_every_attribute_has_a_strategy() -> None:
    assert set(HELD) == {a.code for a in CATALOG.attributes}


@pytest.mark.parametrize("options", OPTIONS, ids=OPTION_IDS)
@pytest.mark.parametrize("code", sorted(HELD))
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_value_to_cell_to_value_is_the_identity(
    code: str, options: ExportOptions, data: st.DataObject
) -> None:
    held = data.draw(HELD[code], label=code)
    both = codec(code, options)
    cell = both.to_cell(held)
    assert both.decode(cell) == held


@pytest.mark.parametrize(
    ("name", "held"),
    [
        ("identifier", st.from_regex(r"[A-Za-z0-9_.\-]{1,30}", fullmatch=True)),
        ("uuid", st.uuids().map(str)),
        ("code", CODES),
        ("family", CODES),
        ("family_variant", CODES),
        ("parent", CODES),
        ("categories", CODE_LISTS),
        ("add_categories", CODE_LISTS),
        ("remove_categories", CODE_LISTS),
        ("groups", CODE_LISTS),
        ("enabled", st.booleans()),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
@pytest.mark.parametrize("options", OPTIONS, ids=OPTION_IDS)
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_fields_value_to_cell_to_value_is_the_identity(
    name: str, held: st.SearchStrategy[Any], options: ExportOptions, data: st.DataObject
) -> None:
    value = data.draw(held)
    both = field_codec(name, options)
    assert both.decode(both.to_cell(value)) == value


UUIDS = st.lists(st.uuids().map(str), min_size=1, max_size=5, unique=True)
LINKS: list[tuple[str, Callable[[], Codec], st.SearchStrategy[Any]]] = [
    ("associations", lambda: association_codec(OTHER, uuids=False), CODE_LISTS),
    ("associations by uuid", lambda: association_codec(OTHER, uuids=True), UUIDS),
    (
        "quantified",
        lambda: quantified_codec(OTHER, key="identifier"),
        st.lists(
            st.fixed_dictionaries({"identifier": CODES, "quantity": st.integers(1, 10**18 - 1)}),
            min_size=1,
            max_size=20,
            unique_by=lambda link: link["identifier"],
        ),
    ),
    (
        "quantified by uuid",
        lambda: quantified_codec(DEFAULT, key="uuid"),
        st.lists(
            st.fixed_dictionaries({"uuid": st.uuids().map(str), "quantity": st.integers(1, 99)}),
            min_size=1,
            max_size=5,
            unique_by=lambda link: link["uuid"],
        ),
    ),
]


@pytest.mark.parametrize(("make", "held"), [c[1:] for c in LINKS], ids=[c[0] for c in LINKS])
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_associations_value_to_cell_to_value_is_the_identity(
    make: Callable[[], Codec], held: st.SearchStrategy[Any], data: st.DataObject
) -> None:
    value = data.draw(held)
    both = make()
    assert both.decode(both.to_cell(value)) == value


# -- cell -> value -> cell: the normalised cell ---------------------------------------

NORMALISED: list[tuple[str, str, str, str, ExportOptions]] = [
    # id, attribute, cell, the normalised cell, options
    ("text-as-read", "notes", " two  spaces\n", " two  spaces\n", DEFAULT),
    ("int-zero-fraction", "stock", " 12.00 ", "12", DEFAULT),
    ("int-plus-leading-zeros", "stock", "+007", "7", DEFAULT),
    ("int-minus-zero", "temp", "-0", "0", DEFAULT),
    ("decimal-leading-zeros", "margin", "0012.50", "12.50", DEFAULT),
    ("decimal-leading-mark", "margin", ".5", "0.5", DEFAULT),
    ("decimal-minus-zero", "margin", "-0.00", "0.00", DEFAULT),
    ("decimal-comma", "margin", "12,50", "12,50", OTHER),
    ("bool-TRUE", "is_new", "TRUE", "true", DEFAULT),
    ("bool-1", "is_new", " 1 ", "true", DEFAULT),
    ("bool-mixed-case", "is_new", "fAlSe", "false", DEFAULT),
    ("date-trimmed", "release", " 2021-04-29 ", "2021-04-29", DEFAULT),
    ("datetime-to-its-day", "release", "2021-04-29T08:58:00+02:00", "2021-04-29", DEFAULT),
    ("date-in-the-format", "release", "2021-04-29", "29/04/2021", OTHER),
    ("date-format-kept", "release", "29/04/2021", "29/04/2021", OTHER),
    ("code-trimmed", "color", " red ", "red", DEFAULT),
    ("codes-trimmed-deduplicated", "material", " b <###> a <###>b<###>", "b<###>a", DEFAULT),
    ("codes-own-separator", "material", "a ; b;a", "a;b", OTHER),
    ("price-currency-first", "price", "EUR 740.00", "740.00 EUR", DEFAULT),
    ("price-glued-lower-case", "price", "740.00eur", "740.00 EUR", DEFAULT),
    (
        "price-repeat-dropped",
        "price",
        "10 EUR<###>10.00 EUR<###>USD 3",
        "10 EUR<###>3 USD",
        DEFAULT,
    ),
    ("price-comma", "price", "12,50 EUR;3 usd", "12,50 EUR;3 USD", OTHER),
    ("price-integer", "eco_tax", "799.00 EUR", "799 EUR", DEFAULT),
    ("metric-rec20", "weight", "3 KGM", "3 KILOGRAM", DEFAULT),
    ("metric-symbol-glued", "weight", "2.5kg", "2.5 KILOGRAM", DEFAULT),
    ("metric-default-unit", "weight", "2.5", "2.5 KILOGRAM", DEFAULT),
    ("metric-comma", "weight", "2,50 lb", "2,50 POUND", OTHER),
    ("metric-integer", "length", "3000.00 MMT", "3000 MILLIMETER", DEFAULT),
    ("file-trimmed", "manual", f" 1/2/3/4/{'a' * 40}_m.pdf ", f"1/2/3/4/{'a' * 40}_m.pdf", DEFAULT),
    ("table-compact", "size_chart", '[ {"size": "M", "n": 1} ]', '[{"size":"M","n":1}]', DEFAULT),
    ("product-link-compact", "related", '{"type": "product"}', '{"type":"product"}', DEFAULT),
    ("other-type-as-read", "mystery", " anything ", " anything ", DEFAULT),
]


@pytest.mark.parametrize(
    ("code", "cell", "normal", "options"),
    [c[1:] for c in NORMALISED],
    ids=[c[0] for c in NORMALISED],
)
def test_cell_to_value_to_cell_gives_the_normalised_cell(
    code: str, cell: str, normal: str, options: ExportOptions
) -> None:
    both = codec(code, options)
    assert both.to_cell(both.decode(cell)) == normal
    assert both.to_cell(both.decode(normal)) == normal


FIELD_NORMALISED = [
    ("identifier", " SKU-1 ", "SKU-1"),
    ("code", " model_1 ", "model_1"),
    ("categories", "a<###> b<###>a<###>", "a<###>b"),
    ("enabled", "TRUE", "true"),
    ("enabled", "0", "false"),
]


@pytest.mark.parametrize(
    ("name", "cell", "normal"), FIELD_NORMALISED, ids=[f"{c[0]}-{c[1]}" for c in FIELD_NORMALISED]
)
def test_fields_normalise(name: str, cell: str, normal: str) -> None:
    both = field_codec(name, DEFAULT)
    assert both.to_cell(both.decode(cell)) == normal


def test_quantified_links_normalise() -> None:
    both = quantified_codec(DEFAULT, key="identifier")
    assert both.to_cell(both.decode(" a | 2 <###>b|3<###>a|2")) == "a|2<###>b|3"


#: cells made of the characters that matter to the codecs, so many of them decode
CELLS = st.one_of(
    st.text(alphabet='0123456789.,+- eEuUsSdDkgGmMlbLB<#>;|TtrRfFaA/[]{}":', max_size=24),
    st.text(max_size=12),
)


def _same_value(code: str, a: Any, b: Any) -> bool:
    """A datetime cell normalises to its day: the PIM keeps only the day of a date."""
    if code == "release":
        return bool(a[:10] == b[:10])
    return bool(a == b)


@pytest.mark.parametrize("options", OPTIONS, ids=OPTION_IDS)
@pytest.mark.parametrize("code", sorted(HELD))
@settings(max_examples=80, deadline=None)
@given(cell=CELLS)
def test_normalising_a_cell_keeps_its_value_and_is_stable(
    code: str, options: ExportOptions, cell: str
) -> None:
    assume(cell.strip())
    both = codec(code, options)
    try:
        value = both.decode(cell)
    except CellError:
        return
    assume(value is not EMPTY)
    normal = both.to_cell(value)
    if normal == "":
        # an empty table or list: the PIM holds nothing, and an empty cell says nothing
        assert value == []
        return
    assert _same_value(code, both.decode(normal), value)
    assert both.to_cell(both.decode(normal)) == normal


# -- what cannot be written -------------------------------------------------------------

CANNOT: list[tuple[str, str, Any, str, ExportOptions]] = [
    # id, attribute, data, the whole message after "cannot write ", options
    ("text-not-text", "notes", 12, '"12" in a cell: expected text', DEFAULT),
    ("number-bool", "stock", True, '"True" in a cell: expected a number', DEFAULT),
    ("number-word", "margin", "twelve", '"twelve" in a cell: expected a number', DEFAULT),
    ("number-plus", "margin", "+12", '"+12" in a cell: expected a number', DEFAULT),
    ("number-spaces", "margin", " 12", '" 12" in a cell: expected a number', DEFAULT),
    (
        "number-nan",
        "margin",
        Decimal("NaN"),
        "\"Decimal('NaN')\" in a cell: expected a number",
        DEFAULT,
    ),
    ("number-list", "margin", [1], '"[1]" in a cell: expected a number', DEFAULT),
    ("bool-text", "is_new", "true", '"true" in a cell: expected true or false', DEFAULT),
    ("bool-one", "is_new", 1, '"1" in a cell: expected true or false', DEFAULT),
    ("date-not-a-date", "release", "soon", '"soon" in a cell: expected a date', DEFAULT),
    (
        "date-not-text",
        "release",
        date(2021, 4, 29),
        '"datetime.date(2021, 4, 29)" in a cell: expected a date',
        DEFAULT,
    ),
    ("code-not-text", "color", 3, '"3" in a cell: expected a code', DEFAULT),
    (
        "code-with-the-separator",
        "color",
        "a;b",
        '"a;b" in a cell: it holds the value separator ";"; choose another --value-separator',
        OTHER,
    ),
    ("codes-not-a-list", "material", "a", '"a" in a cell: expected a list', DEFAULT),
    ("codes-item-not-text", "material", ["a", 2], '"2" in a cell: expected a code', DEFAULT),
    (
        "codes-item-with-separator",
        "material",
        ["a<###>b"],
        '"a<###>b" in a cell: it holds the value separator "<###>"; choose another '
        "--value-separator",
        DEFAULT,
    ),
    (
        "price-not-a-list",
        "price",
        {"amount": 1},
        "\"{'amount': 1}\" in a cell: expected a list of prices",
        DEFAULT,
    ),
    (
        "price-no-currency",
        "price",
        [{"amount": "1"}],
        "\"{'amount': '1'}\" in a cell: expected a price like "
        '{"amount": "19.99", "currency": "EUR"}',
        DEFAULT,
    ),
    (
        "price-not-a-dict",
        "price",
        ["1 EUR"],
        '"1 EUR" in a cell: expected a price like {"amount": "19.99", "currency": "EUR"}',
        DEFAULT,
    ),
    (
        "price-bad-amount",
        "price",
        [{"amount": "x", "currency": "EUR"}],
        '"x" in a cell: expected a number',
        DEFAULT,
    ),
    (
        "metric-no-unit",
        "weight",
        {"amount": "1"},
        "\"{'amount': '1'}\" in a cell: expected a measure like "
        '{"amount": "180", "unit": "GRAM"}',
        DEFAULT,
    ),
    (
        "metric-not-a-dict",
        "weight",
        "3 kg",
        '"3 kg" in a cell: expected a measure like {"amount": "180", "unit": "GRAM"}',
        DEFAULT,
    ),
    (
        "media-not-text",
        "manual",
        ["a.pdf"],
        "\"['a.pdf']\" in a cell: expected a media-file code",
        DEFAULT,
    ),
    ("media-empty", "manual", "", '"" in a cell: expected a media-file code', DEFAULT),
    ("media-spaces", "manual", " a.pdf", '" a.pdf" in a cell: expected a media-file code', DEFAULT),
    (
        "json-not-json",
        "size_chart",
        [{1, 2}],
        '"[{1, 2}]" in a cell: expected JSON data (Type is not JSON serializable: set)',
        DEFAULT,
    ),
    (
        "json-too-large",
        "related",
        {"n": 2**64},
        "\"{'n': 18446744073709551616}\" in a cell: expected JSON data "
        "(Integer exceeds 64-bit range)",
        DEFAULT,
    ),
]


@pytest.mark.parametrize(
    ("code", "data", "message", "options"),
    [c[1:] for c in CANNOT],
    ids=[c[0] for c in CANNOT],
)
def test_data_that_no_cell_can_carry(
    code: str, data: Any, message: str, options: ExportOptions
) -> None:
    with pytest.raises(CellError, match=f"^cannot write {re.escape(message)}$"):
        codec(code, options).encode(data)


LINK = 'expected a link like {"identifier": "x", "quantity": 2}'
LINKS_CANNOT: list[tuple[str, Callable[[], Codec], Any, str]] = [
    # id, the codec, data, the whole message
    ("uuid", lambda: field_codec("uuid", DEFAULT), "123", '"123" in a cell: expected a UUID'),
    (
        "enabled-null",
        lambda: field_codec("enabled", DEFAULT),
        None,
        '"None" in a cell: expected true or false',
    ),
    (
        "identifier-not-text",
        lambda: field_codec("identifier", DEFAULT),
        7,
        '"7" in a cell: expected text',
    ),
    (
        "association-not-uuid",
        lambda: association_codec(DEFAULT, uuids=True),
        ["x"],
        '"x" in a cell: expected a UUID',
    ),
    (
        "quantified-not-a-list",
        lambda: quantified_codec(DEFAULT, key="identifier"),
        "a|1",
        '"a|1" in a cell: expected a list of quantified links',
    ),
    (
        "quantified-zero",
        lambda: quantified_codec(DEFAULT, key="identifier"),
        [{"identifier": "a", "quantity": 0}],
        f"\"{{'identifier': 'a', 'quantity': 0}}\" in a cell: {LINK}",
    ),
    (
        "quantified-text-quantity",
        lambda: quantified_codec(DEFAULT, key="identifier"),
        [{"identifier": "a", "quantity": "2"}],
        f"\"{{'identifier': 'a', 'quantity': '2'}}\" in a cell: {LINK}",
    ),
    (
        "quantified-item-not-a-dict",
        lambda: quantified_codec(DEFAULT, key="identifier"),
        ["a|2"],
        f'"a|2" in a cell: {LINK}',
    ),
    (
        "quantified-bar-separator",
        lambda: quantified_codec(ExportOptions(value_separator="|"), key="identifier"),
        [{"identifier": "a", "quantity": 2}],
        'quantified links with the value separator "|": "|" marks the quantity; '
        "choose another --value-separator",
    ),
    (
        "quantified-uuid-target",
        lambda: quantified_codec(DEFAULT, key="uuid"),
        [{"uuid": "sku-1", "quantity": 2}],
        '"sku-1" in a cell: expected a UUID',
    ),
    (
        "quantified-uuid-key-form",
        lambda: quantified_codec(DEFAULT, key="uuid"),
        [{"uuid": "sku-1", "quantity": -1}],
        "\"{'uuid': 'sku-1', 'quantity': -1}\" in a cell: expected a link like "
        '{"uuid": "x", "quantity": 2}',
    ),
]


@pytest.mark.parametrize(
    ("make", "data", "message"),
    [c[1:] for c in LINKS_CANNOT],
    ids=[c[0] for c in LINKS_CANNOT],
)
def test_fields_and_links_that_no_cell_can_carry(
    make: Callable[[], Codec], data: Any, message: str
) -> None:
    with pytest.raises(CellError, match=f"^cannot write {re.escape(message)}$"):
        make().encode(data)


# -- writing, case by case ----------------------------------------------------------------

EUROS = {"amount": "19.99", "currency": "EUR"}
WRITTEN: list[tuple[str, str, Any, str, ExportOptions]] = [
    # id, attribute, data as the PIM holds it, cell, options
    ("price-pim-form", "price", [EUROS], "19.99 EUR", DEFAULT),
    (
        "prices-in-order",
        "price",
        [{"amount": "19.99", "currency": "EUR"}, {"amount": "21.99", "currency": "USD"}],
        "19.99 EUR<###>21.99 USD",
        DEFAULT,
    ),
    (
        "price-empty-amount-left-out",
        "price",
        [{"amount": None, "currency": "EUR"}, {"amount": "2.5", "currency": "USD"}],
        "2.5 USD",
        DEFAULT,
    ),
    ("price-decimal-comma", "price", [EUROS], "19,99 EUR", OTHER),
    ("price-integer", "eco_tax", [{"amount": 799, "currency": "EUR"}], "799 EUR", DEFAULT),
    ("metric", "weight", {"amount": "180", "unit": "GRAM"}, "180 GRAM", DEFAULT),
    (
        "metric-pim-decimals",
        "weight",
        {"amount": "0.5000", "unit": "KILOGRAM"},
        "0,5000 KILOGRAM",
        OTHER,
    ),
    ("metric-float", "weight", {"amount": 0.25, "unit": "KILOGRAM"}, "0.25 KILOGRAM", DEFAULT),
    ("metric-no-amount", "weight", {"amount": None, "unit": "KILOGRAM"}, "", DEFAULT),
    ("bool-true", "is_new", True, "true", DEFAULT),
    ("bool-false", "is_new", False, "false", DEFAULT),
    ("date", "release", "2021-04-29", "2021-04-29", DEFAULT),
    ("date-pim-datetime", "release", "2021-04-29T00:00:00+00:00", "2021-04-29", DEFAULT),
    ("date-format", "release", "2021-04-29T00:00:00+00:00", "29/04/2021", OTHER),
    ("number-int", "stock", 12, "12", DEFAULT),
    ("number-decimal-string", "margin", "-12.5000", "-12,5000", OTHER),
    ("number-decimal", "margin", Decimal("1E+2"), "100", DEFAULT),
    ("codes", "material", ["cotton", "wool"], "cotton;wool", OTHER),
    ("asset-codes", "pictures", ["p1", "p2"], "p1<###>p2", DEFAULT),
    ("media-code", "picture", "1/2/3/4/abc_a.jpg", "1/2/3/4/abc_a.jpg", DEFAULT),
    ("table", "size_chart", [{"size": "M", "fits": True}], '[{"size":"M","fits":true}]', DEFAULT),
    ("other-type-text", "mystery", "as it is", "as it is", DEFAULT),
    ("other-type-data", "mystery", {"a": [1]}, '{"a":[1]}', DEFAULT),
]


@pytest.mark.parametrize(
    ("code", "data", "cell", "options"), [c[1:] for c in WRITTEN], ids=[c[0] for c in WRITTEN]
)
def test_written_cells(code: str, data: Any, cell: str, options: ExportOptions) -> None:
    assert codec(code, options).encode(data) == cell


@pytest.mark.parametrize("nothing", [None, []], ids=["null", "empty-list"])
@pytest.mark.parametrize("code", ["notes", "material", "price", "weight", "size_chart"])
def test_nothing_held_is_an_empty_cell(code: str, nothing: Any) -> None:
    assert codec(code).to_cell(nothing) == ""


def test_links_written() -> None:
    uuid = "25566245-55c3-42ce-86d9-8610ac459fa8"
    assert association_codec(DEFAULT, uuids=True).encode([uuid, uuid.upper()]) == (
        f"{uuid}<###>{uuid.upper()}"
    )
    quantified = quantified_codec(DEFAULT, key="identifier")
    assert quantified.encode([{"identifier": "a|b", "quantity": 2}]) == "a|b|2"
    assert quantified.decode("a|b|2") == [{"identifier": "a|b", "quantity": 2}]


@pytest.mark.parametrize(
    ("data", "mark", "cell"),
    [
        (0, ".", "0"),
        (-7, ",", "-7"),
        ("0.5000", ",", "0,5000"),
        ("-3", ".", "-3"),
        (Decimal("-0.25"), ",", "-0,25"),
        (1.5, ".", "1.5"),
        (1e-7, ".", "0.0000001"),
    ],
    ids=[
        "zero",
        "negative-int",
        "pim-decimal",
        "negative-text",
        "negative-decimal",
        "float",
        "tiny-float",
    ],
)
def test_amount_cell(data: Any, mark: str, cell: str) -> None:
    assert amount_cell(data, mark) == cell


def test_the_boolean_codec_is_shared() -> None:
    assert codec("is_new") is field_codec("enabled", OTHER)
