"""Cell conversion: every rule of the contract's cell table, valid and invalid."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feed_export.catalog.codecs import (
    EMPTY,
    association_converter,
    erase_data,
    field_converter,
    quantified_converter,
    quote,
    value_converter,
)
from feed_export.catalog.structure import Catalog
from feed_export.config import ExportOptions
from feed_export.errors import CellError, ConfigError


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
            _a("sku", "identifier"),
            _a("name", "text", max_characters=10),
            _a("notes", "textarea"),
            _a(
                "stock",
                "number",
                decimals_allowed=False,
                negative_allowed=False,
                number_max="1000.0000",
            ),
            _a("temp", "number", decimals_allowed=False, negative_allowed=True),
            _a("rating", "number", decimals_allowed=True, number_min="0.0000", number_max="5.0000"),
            _a("margin", "number", decimals_allowed=True),
            _a("discount", "number", decimals_allowed=True, negative_allowed=False),
            _a("is_new", "boolean"),
            _a(
                "release",
                "date",
                date_min="2000-01-01T00:00:00+01:00",
                date_max="2030-12-31T00:00:00+01:00",
            ),
            _a("color", "simpleselect"),
            _a("brand", "reference_data_simpleselect", reference_data_name="brands"),
            _a("designer", "akeneo_reference_entity"),
            _a("material", "multiselect"),
            _a("fabrics", "reference_data_multiselect"),
            _a("suppliers", "akeneo_reference_entity_collection"),
            _a("pictures", "asset_collection"),
            _a("price", "price_collection", decimals_allowed=True),
            _a("eco_tax", "price_collection", decimals_allowed=False),
            _a(
                "weight",
                "metric",
                metric_family="Weight",
                default_metric_unit="KILOGRAM",
                decimals_allowed=True,
                negative_allowed=False,
            ),
            _a("length", "metric", metric_family="Length", decimals_allowed=False),
            _a(
                "heat",
                "metric",
                metric_family="Temperature",
                default_metric_unit="CELSIUS",
                decimals_allowed=True,
                negative_allowed=True,
            ),
            _a("manual", "file", allowed_extensions=["pdf"]),
            _a("picture", "image"),
            _a("size_chart", "table"),
            _a("related", "product_link"),
            _a("mystery", "some_future_type"),
        ],
        "currencies": [
            {"code": "EUR", "enabled": True},
            {"code": "USD", "enabled": True},
            {"code": "GBP", "enabled": False},
        ],
        "measurement_families": [
            {"code": "Weight", "units": _units(("GRAM", "g"), ("KILOGRAM", "kg"), ("POUND", "lb"))},
            {
                "code": "Length",
                "units": _units(("MILLIMETER", "mm"), ("CENTIMETER", "cm"), ("METER", "m")),
            },
            {"code": "Temperature", "units": _units(("CELSIUS", "°C"), ("FAHRENHEIT", "°F"))},
        ],
    }
)


def convert(code: str, cell: str, **options: Any) -> Any:
    attribute = CATALOG.attribute(code)
    assert attribute is not None
    converter = value_converter(attribute, CATALOG, ExportOptions(**options))
    return cell if converter is None else converter(cell)


def P(amount: Any, currency: str) -> dict[str, Any]:
    return {"amount": amount, "currency": currency}


def M(amount: Any, unit: str) -> dict[str, Any]:
    return {"amount": amount, "unit": unit}


VALID: list[tuple[str, str, str, Any, dict[str, Any]]] = [
    # id, attribute, cell, data, options
    ("text-as-read", "name", "  Hello ", "  Hello ", {}),
    ("text-at-limit", "name", "0123456789", "0123456789", {}),
    ("textarea-line-breaks", "notes", "one\ntwo  ", "one\ntwo  ", {}),
    ("identifier-as-read", "sku", " SKU-1 ", " SKU-1 ", {}),
    ("int", "stock", "12", 12, {}),
    ("int-zero-fraction", "stock", "12.0", 12, {}),
    ("int-zero-fractions", "stock", "12.000", 12, {}),
    ("int-trailing-mark", "stock", "12.", 12, {}),
    ("int-plus", "stock", "+7", 7, {}),
    ("int-leading-zeros", "stock", "007", 7, {}),
    ("int-spaces", "stock", " 42 ", 42, {}),
    ("int-at-max", "stock", "1000", 1000, {}),
    ("int-minus-zero", "stock", "-0", 0, {}),
    ("int-negative", "temp", "-3", -3, {}),
    ("int-comma-zero-fraction", "stock", "12,00", 12, {"decimal_separator": ","}),
    ("int-php-max", "temp", "9223372036854775807", 2**63 - 1, {}),
    ("decimal", "margin", "12.50", "12.50", {}),
    ("decimal-whole", "margin", "12", "12", {}),
    ("decimal-leading-mark", "margin", ".5", "0.5", {}),
    ("decimal-negative", "margin", "-12.5", "-12.5", {}),
    ("decimal-leading-zeros", "margin", "0012.5", "12.5", {}),
    ("decimal-minus-zero", "margin", "-0.00", "0.00", {}),
    ("decimal-comma", "margin", "12,50", "12.50", {"decimal_separator": ","}),
    ("decimal-at-min", "rating", "0", "0", {}),
    ("decimal-at-max", "rating", "5.0000", "5.0000", {}),
    ("decimal-in-range", "rating", "4.5", "4.5", {}),
    ("bool-true", "is_new", "true", True, {}),
    ("bool-TRUE", "is_new", "TRUE", True, {}),
    ("bool-1", "is_new", "1", True, {}),
    ("bool-false", "is_new", "False", False, {}),
    ("bool-0-spaces", "is_new", " 0 ", False, {}),
    ("date", "release", "2021-04-29", "2021-04-29", {}),
    ("date-spaces", "release", " 2021-04-29 ", "2021-04-29", {}),
    ("datetime-offset", "release", "2021-04-29T08:58:00+02:00", "2021-04-29T08:58:00+02:00", {}),
    ("datetime-z", "release", "2021-04-29T08:58:00.101Z", "2021-04-29T08:58:00.101Z", {}),
    ("datetime-space", "release", "2021-04-29 08:58", "2021-04-29 08:58", {}),
    ("date-format", "release", "29/04/2021", "2021-04-29", {"date_format": "%d/%m/%Y"}),
    ("date-format-iso-too", "release", "2021-04-29", "2021-04-29", {"date_format": "%d/%m/%Y"}),
    ("date-at-min", "release", "2000-01-01", "2000-01-01", {}),
    ("simpleselect-trimmed", "color", " red ", "red", {}),
    ("refdata-simple", "brand", "acme", "acme", {}),
    ("ref-entity", "designer", " studio_x", "studio_x", {}),
    ("multiselect", "material", "cotton<###>wool", ["cotton", "wool"], {}),
    ("multiselect-one", "material", " cotton ", ["cotton"], {}),
    ("multiselect-trim-dedupe", "material", " b <###> a <###>b", ["b", "a"], {}),
    ("multiselect-empty-items", "material", "a<###><###> <###>b", ["a", "b"], {}),
    ("multiselect-only-separators", "material", "<###><###>", EMPTY, {}),
    ("multiselect-own-separator", "material", "a|b|a", ["a", "b"], {"value_separator": "|"}),
    ("default-separator-is-text", "material", "a<###>b", ["a<###>b"], {"value_separator": "|"}),
    ("refdata-multi", "fabrics", "silk<###>linen", ["silk", "linen"], {}),
    ("ref-entity-collection", "suppliers", "s1<###>s2", ["s1", "s2"], {}),
    ("asset-collection", "pictures", "p1<###>p2<###>p1", ["p1", "p2"], {}),
    ("price", "price", "740.00 EUR", [P("740.00", "EUR")], {}),
    ("price-currency-first", "price", "EUR 740.00", [P("740.00", "EUR")], {}),
    ("price-glued", "price", "740.00EUR", [P("740.00", "EUR")], {}),
    ("price-glued-currency-first", "price", "EUR740", [P("740", "EUR")], {}),
    ("price-lowercase-currency", "price", "740.00 eur", [P("740.00", "EUR")], {}),
    ("price-nbsp", "price", "740.00\u00a0EUR", [P("740.00", "EUR")], {}),
    ("price-several", "price", "10 EUR<###>12.5 USD", [P("10", "EUR"), P("12.5", "USD")], {}),
    ("price-same-twice", "price", "10 EUR<###>10.00 EUR", [P("10", "EUR")], {}),
    ("price-comma", "price", "12,50 EUR", [P("12.50", "EUR")], {"decimal_separator": ","}),
    ("price-negative", "price", "-5 EUR", [P("-5", "EUR")], {}),
    ("price-only-separators", "price", "<###>", EMPTY, {}),
    ("price-integer", "eco_tax", "799.00 EUR", [P(799, "EUR")], {}),
    ("metric-rec20", "length", "3000.00 MMT", M(3000, "MILLIMETER"), {}),
    ("metric-code", "weight", "3 KILOGRAM", M("3", "KILOGRAM"), {}),
    ("metric-code-any-case", "weight", "3 kilogram", M("3", "KILOGRAM"), {}),
    ("metric-symbol", "weight", "3 kg", M("3", "KILOGRAM"), {}),
    ("metric-glued", "weight", "3kg", M("3", "KILOGRAM"), {}),
    ("metric-nbsp", "weight", "3\u00a0kg", M("3", "KILOGRAM"), {}),
    ("metric-symbol-case", "weight", "2.5 KG", M("2.5", "KILOGRAM"), {}),
    ("metric-bare-default", "weight", "2.5", M("2.5", "KILOGRAM"), {}),
    ("metric-spaces", "weight", " 3 KGM ", M("3", "KILOGRAM"), {}),
    ("metric-negative-symbol", "heat", "-5 °C", M("-5", "CELSIUS"), {}),
    ("metric-rec20-temperature", "heat", "40 CEL", M("40", "CELSIUS"), {}),
    ("metric-comma", "weight", "2,5 kg", M("2.5", "KILOGRAM"), {"decimal_separator": ","}),
    ("file", "manual", " f/2/e/6/abc_manual.pdf ", "f/2/e/6/abc_manual.pdf", {}),
    ("file-any-case-extension", "manual", "x/manual.PDF", "x/manual.PDF", {}),
    ("image", "picture", "1/d/7/f/abc_front.jpg", "1/d/7/f/abc_front.jpg", {}),
    ("table", "size_chart", '[{"size": "M", "chest": "100"}]', [{"size": "M", "chest": "100"}], {}),
    ("table-empty", "size_chart", "[]", [], {}),
    (
        "product-link",
        "related",
        '{"type": "product", "identifier": "x"}',
        {"type": "product", "identifier": "x"},
        {},
    ),
    ("other-type", "mystery", " anything ", " anything ", {}),
]


@pytest.mark.parametrize(
    ("code", "cell", "data", "options"), [v[1:] for v in VALID], ids=[v[0] for v in VALID]
)
def test_valid_cells(code: str, cell: str, data: Any, options: dict[str, Any]) -> None:
    assert convert(code, cell, **options) == data


def test_integer_amounts_are_json_integers() -> None:
    assert type(convert("stock", "12.0")) is int
    assert type(convert("margin", "12")) is str


INVALID: list[tuple[str, str, str, str, dict[str, Any]]] = [
    # id, attribute, cell, fragment of the message, options
    (
        "text-too-long",
        "name",
        "01234567890",
        'is 11 characters long, over this attribute\'s limit of 10: "01234567890"',
        {},
    ),
    ("int-word", "stock", "abc", 'not a number: "abc"', {}),
    ("int-decimal", "stock", "12.5", 'decimals are not allowed here, got "12.5"', {}),
    ("int-negative", "stock", "-3", 'negative numbers are not allowed here, got "-3"', {}),
    ("int-over-max", "stock", "1001", 'must be at most 1000, got "1001"', {}),
    ("int-exponent", "stock", "1e3", "not a number", {}),
    ("int-thousands", "stock", "1 000", "not a number", {}),
    ("int-comma-hint", "stock", "12,5", "--decimal-separator ,", {}),
    (
        "int-dot-with-comma-mark",
        "stock",
        "1.234,5",
        'the decimal mark is ","',
        {"decimal_separator": ","},
    ),
    ("int-too-large", "temp", "9223372036854775808", "too large", {}),
    ("int-way-too-large", "temp", "9" * 5000, "too large", {}),
    ("int-arabic-digits", "stock", "\u0661\u0662", "not a number", {}),
    ("int-sign-only", "stock", "-", "not a number", {}),
    ("int-double-sign", "temp", "--3", "not a number", {}),
    ("decimal-two-marks", "margin", "1.2.3", "not a number", {}),
    ("decimal-nan", "margin", "NaN", "not a number", {}),
    ("decimal-under-min", "rating", "-0.1", 'must be at least 0, got "-0.1"', {}),
    ("decimal-over-max", "rating", "5.01", 'must be at most 5, got "5.01"', {}),
    ("decimal-negative", "discount", "-1.5", "negative numbers are not allowed", {}),
    ("bool-yes", "is_new", "yes", 'expected true, false, 1 or 0, got "yes"', {}),
    ("bool-2", "is_new", "2", "expected true, false, 1 or 0", {}),
    ("date-impossible", "release", "2021-02-30", 'not a valid date: "2021-02-30"', {}),
    ("date-day-first-hint", "release", "29/04/2021", "--date-format dd/MM/yyyy", {}),
    ("date-bad-time", "release", "2021-04-29T25:00", "not a date", {}),
    (
        "date-words",
        "release",
        "tomorrow",
        'not a date, expected YYYY-MM-DD or an ISO-8601 datetime: "tomorrow"',
        {},
    ),
    ("date-compact", "release", "20210429", "not a date", {}),
    (
        "date-before-min",
        "release",
        "1999-12-31",
        'must be 2000-01-01 or later, got "1999-12-31"',
        {},
    ),
    ("date-after-max", "release", "2031-01-01", "must be 2030-12-31 or earlier", {}),
    ("datetime-before-min", "release", "1999-01-01T10:00:00", "or later", {}),
    ("date-format-mismatch", "release", "04-29-2021", "or %d/%m/%Y", {"date_format": "%d/%m/%Y"}),
    (
        "simpleselect-several",
        "color",
        "red<###>blue",
        'takes one code, got several: "red<###>blue"',
        {},
    ),
    ("price-no-currency", "price", "740.00", 'no currency in "740.00"', {}),
    ("price-no-amount", "price", "EUR", 'no amount in "EUR"', {}),
    (
        "price-disabled-currency",
        "price",
        "740.00 GBP",
        "currency GBP is not enabled in the PIM (enabled: EUR, USD)",
        {},
    ),
    ("price-unknown-currency", "price", "740.00 XYZ", "currency XYZ is not enabled", {}),
    ("price-bad-amount", "price", "abc EUR", 'not an amount: "abc EUR"', {}),
    (
        "price-two-amounts",
        "price",
        "10 EUR<###>12 EUR",
        'two amounts for EUR, give one per currency: "10 EUR<###>12 EUR"',
        {},
    ),
    (
        "price-decimals-not-allowed",
        "eco_tax",
        "799.50 EUR",
        'decimals are not allowed here, got "799.50" (in "799.50 EUR")',
        {},
    ),
    (
        "price-three-words",
        "price",
        "740 EU R",
        'expected an amount and a currency like "740.00 EUR"',
        {},
    ),
    ("price-symbol", "price", "740.00 €", "expected an amount and a currency", {}),
    ("price-bad-second-item", "price", "10 EUR<###>ten USD", 'not an amount: "ten USD"', {}),
    (
        "metric-unknown-unit",
        "weight",
        "3 parsec",
        'unknown unit "parsec" for Weight; use one of GRAM (g)',
        {},
    ),
    ("metric-unit-first", "weight", "kg 3", 'expected an amount and a unit like "3000.00 MMT"', {}),
    ("metric-word", "weight", "heavy", "expected an amount and a unit", {}),
    ("metric-bad-amount", "weight", "3.2.1 kg", 'not an amount: "3.2.1 kg"', {}),
    (
        "metric-decimals-not-allowed",
        "length",
        "3.5 mm",
        'decimals are not allowed here, got "3.5" (in "3.5 mm")',
        {},
    ),
    ("metric-no-default-unit", "length", "5", "no unit, and the attribute has no default unit", {}),
    ("metric-negative", "weight", "-1 kg", "negative numbers are not allowed", {}),
    ("metric-other-family", "weight", "3 MMT", 'unknown unit "MMT" for Weight', {}),
    (
        "file-extension",
        "manual",
        "x/manual.exe",
        "file type .exe is not allowed here (allowed: pdf)",
        {},
    ),
    ("table-bad-json", "size_chart", '[{"size": }]', "not valid JSON (", {}),
    ("table-json-position", "size_chart", '[{"a":', "at line 1, column 7", {}),
    ("table-not-a-list", "size_chart", '{"a": 1}', "a table is a JSON array of rows", {}),
    ("table-rows-not-objects", "size_chart", "[1, 2]", "a table is a JSON array of rows", {}),
    ("product-link-not-object", "related", "[]", "a product link is a JSON object", {}),
]


@pytest.mark.parametrize(
    ("code", "cell", "fragment", "options"), [v[1:] for v in INVALID], ids=[v[0] for v in INVALID]
)
def test_invalid_cells(code: str, cell: str, fragment: str, options: dict[str, Any]) -> None:
    with pytest.raises(CellError, match=re.escape(fragment)) as caught:
        convert(code, cell, **options)
    assert fragment in str(caught.value)


COMMA_HINT = ' (the decimal mark is "."; for "12,50" pass --decimal-separator ,)'
NUMBER_MESSAGES: list[tuple[str, str, str, str, dict[str, Any]]] = [
    # id, attribute, cell, the whole message, options
    ("comma-decimal", "stock", "12,50", f'not a number{COMMA_HINT}: "12,50"', {}),
    ("comma-decimal-signed", "margin", "-0,5", f'not a number{COMMA_HINT}: "-0,5"', {}),
    # regression: any comma got the hint, formulas and lists included
    (
        "formula-with-commas",
        "stock",
        '=HYPERLINK("a","b")',
        'not a number: "=HYPERLINK(\\"a\\",\\"b\\")"',
        {},
    ),
    ("list-of-numbers", "margin", "1,2,3", 'not a number: "1,2,3"', {}),
    (
        "thousands-comma",
        "margin",
        "1,234.50",
        'not a number (leave out thousands separators): "1,234.50"',
        {},
    ),
    (
        "text-with-dot",
        "margin",
        "www.x.com",
        'not a number: "www.x.com"',
        {"decimal_separator": ","},
    ),
    # regression: the trimmed value was quoted, so "\t=1+1" showed as "=1+1"
    ("tab-formula", "stock", "\t=1+1", 'not a number: "\\t=1+1"', {}),
    ("spaces-around", "stock", " 12,50 ", f'not a number{COMMA_HINT}: " 12,50 "', {}),
    ("over-max-as-read", "stock", " 1001\t", 'must be at most 1000, got " 1001\\t"', {}),
    ("decimal-as-read", "stock", "\t12.5", 'decimals are not allowed here, got "\\t12.5"', {}),
    ("price-comma", "price", "12,50 EUR", f'not an amount{COMMA_HINT}: "12,50 EUR"', {}),
    (
        "price-formula",
        "price",
        "\t=SUM(A1,B1) EUR",
        'not an amount: "\\t=SUM(A1,B1) EUR"',
        {},
    ),
    ("metric-comma", "weight", "3,5 kg", f'not an amount{COMMA_HINT}: "3,5 kg"', {}),
    ("metric-comma-as-read", "weight", "\t+1,2 kg", f'not an amount{COMMA_HINT}: "\\t+1,2 kg"', {}),
    (
        "dot-decimal-with-comma-mark",
        "margin",
        "12.50",
        'not a number (the decimal mark is ","; for "12.50" leave out --decimal-separator ,): '
        '"12.50"',
        {"decimal_separator": ","},
    ),
]


@pytest.mark.parametrize(
    ("code", "cell", "message", "options"),
    [v[1:] for v in NUMBER_MESSAGES],
    ids=[v[0] for v in NUMBER_MESSAGES],
)
def test_number_messages_quote_the_cell_as_read_and_hint_only_at_decimals(
    code: str, cell: str, message: str, options: dict[str, Any]
) -> None:
    with pytest.raises(CellError, match=f"^{re.escape(message)}$") as caught:
        convert(code, cell, **options)
    assert str(caught.value) == message


def test_long_values_are_capped_in_messages() -> None:
    with pytest.raises(CellError, match=r'^not a number: "x+…"$') as caught:
        convert("stock", "x" * 500)
    message = str(caught.value)
    assert len(message) < 150
    assert message.endswith('x…"')


def test_quote() -> None:
    assert quote('a "b"\n') == '"a \\"b\\"\\n"'
    assert quote("é") == '"é"'
    assert quote("y" * 100, limit=5) == '"yyyyy…"'


def test_bad_date_format_is_a_configuration_error() -> None:
    with pytest.raises(ConfigError, match="--date-format"):
        convert("release", "2021-01-01", date_format="%Q")


@pytest.mark.parametrize(
    ("code", "erased"),
    [
        ("material", []),
        ("pictures", []),
        ("price", []),
        ("name", None),
        ("weight", None),
        ("is_new", None),
        ("size_chart", None),
    ],
    ids=lambda v: str(v),
)
def test_erase_data(code: str, erased: Any) -> None:
    attribute = CATALOG.attribute(code)
    assert attribute is not None
    assert erase_data(attribute) == erased


def test_currencies_are_not_checked_when_the_catalog_knows_none() -> None:
    catalog = Catalog.from_dict({"attributes": [_a("price", "price_collection")]})
    attribute = catalog.attribute("price")
    assert attribute is not None
    converter = value_converter(attribute, catalog, ExportOptions())
    assert converter is not None
    assert converter("5 CHF") == [P("5", "CHF")]


# -- fields and associations ---------------------------------------------------------

OPTIONS = ExportOptions()
UUID = "25566245-55c3-42ce-86d9-8610ac459fa8"


@pytest.mark.parametrize(
    ("field", "cell", "data"),
    [
        ("identifier", " SKU-1 ", "SKU-1"),
        ("uuid", f" {UUID} ", UUID),
        ("uuid", UUID.upper(), UUID.upper()),
        ("code", " model_1 ", "model_1"),
        ("family", " shoes ", "shoes"),
        ("family_variant", "shoes_by_size", "shoes_by_size"),
        ("parent", " model_1", "model_1"),
        ("categories", "a<###> b<###>a", ["a", "b"]),
        ("add_categories", "a", ["a"]),
        ("remove_categories", "<###>", EMPTY),
        ("groups", "promo", ["promo"]),
        ("enabled", "TRUE", True),
        ("enabled", "0", False),
    ],
    ids=lambda v: str(v)[:20],
)
def test_fields(field: str, cell: str, data: Any) -> None:
    assert field_converter(field, OPTIONS)(cell) == data


@pytest.mark.parametrize(
    ("field", "cell", "fragment"),
    [
        ("identifier", "a,b", "may not contain a comma or a semicolon"),
        ("identifier", "a;b", "may not contain a comma or a semicolon"),
        ("uuid", "123", 'not a valid UUID (like 25566245-55c3-42ce-86d9-8610ac459fa8): "123"'),
        ("uuid", UUID.replace("-", ""), "not a valid UUID"),
        ("uuid", UUID[:-1] + "g", "not a valid UUID"),
        ("family", "a<###>b", "takes one code"),
        ("enabled", "yes", "expected true, false, 1 or 0"),
    ],
    ids=lambda v: str(v)[:20],
)
def test_invalid_fields(field: str, cell: str, fragment: str) -> None:
    with pytest.raises(CellError, match=re.escape(fragment)) as caught:
        field_converter(field, OPTIONS)(cell)
    assert fragment in str(caught.value)


def test_associations() -> None:
    assert association_converter(OPTIONS, uuids=False)("a<###>b<###>a") == ["a", "b"]
    uuids = association_converter(OPTIONS, uuids=True)
    assert uuids(f"{UUID}<###> {UUID}") == [UUID]
    with pytest.raises(CellError, match='not a valid UUID: "sku-1"'):
        uuids("sku-1")


@pytest.mark.parametrize(
    ("cell", "data"),
    [
        ("a|2", [{"identifier": "a", "quantity": 2}]),
        (
            " a | 2 <###>b|3",
            [{"identifier": "a", "quantity": 2}, {"identifier": "b", "quantity": 3}],
        ),
        ("a|2<###>a|2", [{"identifier": "a", "quantity": 2}]),
        ("a|b|2", [{"identifier": "a|b", "quantity": 2}]),
        ("<###>", EMPTY),
    ],
    ids=["one", "two-trimmed", "repeated", "bar-in-code", "only-separators"],
)
def test_quantified_associations(cell: str, data: Any) -> None:
    assert quantified_converter(OPTIONS, key="identifier")(cell) == data


@pytest.mark.parametrize(
    ("cell", "fragment"),
    [
        ("a", 'expected items like "code|quantity", got "a"'),
        ("|2", "expected items like"),
        ("a|0", 'quantity must be a whole number above 0, got "a|0"'),
        ("a|-1", "quantity must be a whole number above 0"),
        ("a|1.5", "quantity must be a whole number above 0"),
        ("a|", "quantity must be a whole number above 0"),
        ("a|2<###>a|3", 'two quantities for "a"'),
    ],
    ids=["no-bar", "no-code", "zero", "negative", "decimal", "no-quantity", "two-quantities"],
)
def test_invalid_quantified_associations(cell: str, fragment: str) -> None:
    with pytest.raises(CellError, match=re.escape(fragment)) as caught:
        quantified_converter(OPTIONS, key="identifier")(cell)
    assert fragment in str(caught.value)


def test_quantified_associations_by_uuid() -> None:
    convert_uuid = quantified_converter(OPTIONS, key="uuid")
    assert convert_uuid(f"{UUID}|1") == [{"uuid": UUID, "quantity": 1}]
    with pytest.raises(CellError, match=r'^not a valid UUID: "sku-1" in "sku-1\|1"$'):
        convert_uuid("sku-1|1")


# -- properties --------------------------------------------------------------------

ALL_OPTIONS = [ExportOptions(), ExportOptions(decimal_separator=",", value_separator="|")]
CONVERTERS = (
    [
        (f"{a.code}/{i}", value_converter(a, CATALOG, o))
        for a in CATALOG.attributes
        for i, o in enumerate(ALL_OPTIONS)
    ]
    + [
        (f"field {name}", field_converter(name, OPTIONS))
        for name in ("identifier", "uuid", "code", "family", "categories", "enabled")
    ]
    + [
        ("quantified", quantified_converter(OPTIONS, key="identifier")),
        ("quantified uuid", quantified_converter(OPTIONS, key="uuid")),
        ("associations uuid", association_converter(OPTIONS, uuids=True)),
    ]
)

CELL_TEXT = st.one_of(
    st.text(),
    st.text(alphabet='0123456789.,-+ eEUR<#>|kgmM°C°\u00a0[]{}":', max_size=20),
)


@pytest.mark.parametrize(
    "converter", [c for _, c in CONVERTERS if c is not None], ids=[n for n, c in CONVERTERS if c]
)
@settings(max_examples=150, deadline=None)
@given(cell=CELL_TEXT)
def test_converters_raise_only_cell_errors(converter: Any, cell: str) -> None:
    try:
        data = converter(cell)
    except CellError as exc:
        assert str(exc).strip()
    else:
        assert data is not None


AMOUNTS = st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False, allow_infinity=False)


@settings(max_examples=200, deadline=None)
@given(
    amount=AMOUNTS,
    currency=st.sampled_from(["EUR", "USD", "eur", "Usd"]),
    form=st.sampled_from(["{a} {c}", "{c} {a}", "{a}{c}", "{c}{a}", " {a}\u00a0{c} "]),
    comma=st.booleans(),
)
def test_price_format_then_parse(amount: Decimal, currency: str, form: str, comma: bool) -> None:
    text = form.format(a=str(amount).replace(".", "," if comma else "."), c=currency)
    options = {"decimal_separator": ","} if comma else {}
    [price] = convert("price", text, **options)
    assert price["currency"] == currency.upper()
    assert Decimal(price["amount"]) == amount


@settings(max_examples=200, deadline=None)
@given(
    amount=AMOUNTS,
    unit=st.sampled_from(
        [
            ("kg", "KILOGRAM"),
            ("KGM", "KILOGRAM"),
            ("gram", "GRAM"),
            ("LBR", "POUND"),
            ("lb", "POUND"),
        ]
    ),
    glued=st.booleans(),
)
def test_metric_format_then_parse(amount: Decimal, unit: tuple[str, str], glued: bool) -> None:
    text = f"{amount}{'' if glued else ' '}{unit[0]}"
    data = convert("weight", text)
    assert data["unit"] == unit[1]
    assert Decimal(data["amount"]) == amount


@settings(max_examples=200, deadline=None)
@given(number=st.integers(min_value=-(2**63) + 1, max_value=2**63 - 1))
def test_integers_round_trip(number: int) -> None:
    assert convert("temp", str(number)) == number


@settings(max_examples=200, deadline=None)
@given(codes=st.lists(st.from_regex(r"[a-z0-9_]{1,8}", fullmatch=True), min_size=1, max_size=8))
def test_code_lists_round_trip(codes: list[str]) -> None:
    assert convert("material", " <###> ".join(codes)) == list(dict.fromkeys(codes))


@settings(max_examples=300, deadline=None)
@given(
    cell=st.one_of(
        st.text(alphabet=' \t0123456789,.+-=()"aE', max_size=12),
        st.from_regex(r"\s*[+-]?[0-9]{0,4},[0-9]{0,3}\s*", fullmatch=True),
    )
)
def test_number_errors_quote_the_cell_and_hint_a_comma_only_at_a_decimal(cell: str) -> None:
    try:
        convert("margin", cell)
    except CellError as exc:
        message = str(exc)
        assert message.endswith(": " + quote(cell)) or message.endswith(f"got {quote(cell)}")
        decimal_with_comma = re.fullmatch(r"[+-]?([0-9]+,[0-9]*|,[0-9]+)", cell.strip())
        assert ("--decimal-separator ," in message) == bool(decimal_with_comma), message


@pytest.mark.parametrize(
    ("kind", "cell", "data"),
    [
        ("pim_reference_data_simpleselect", " silk ", "silk"),
        ("pim_catalog_reference_data_simpleselect", " silk ", "silk"),
        ("pim_reference_data_multiselect", "silk<###>cotton", ["silk", "cotton"]),
        ("pim_catalog_reference_data_multiselect", "silk<###>cotton", ["silk", "cotton"]),
    ],
    ids=["pim-simple", "docs-simple", "pim-multi", "docs-multi"],
)
def test_reference_data_under_both_type_spellings(kind: str, cell: str, data: Any) -> None:
    """The PIM answers pim_reference_data_*; older docs write pim_catalog_reference_data_*."""
    attribute = Catalog.from_dict({"attributes": [{"code": "fabrics", "type": kind}]}).attribute(
        "fabrics"
    )
    assert attribute is not None
    convert = value_converter(attribute, Catalog(), ExportOptions())
    assert convert is not None
    assert convert(cell) == data
    assert erase_data(attribute) == ([] if "multi" in kind else None)
