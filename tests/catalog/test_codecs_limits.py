"""Codec boundaries: every limit exactly at, and one past; list shapes; odd spellings."""

from __future__ import annotations

import re
from typing import Any

import pytest

from feed_export.catalog.codecs import (
    EMPTY,
    check_media_name,
    codes_codec,
    field_codec,
    media_extensions,
    media_source,
    quantified_codec,
    value_codec,
)
from feed_export.catalog.structure import Attribute, Catalog
from feed_export.config import ExportOptions
from feed_export.errors import CellError

MAX = 2**63 - 1


def _a(code: str, kind: str, **extra: Any) -> dict[str, Any]:
    return {"code": code, "type": f"pim_catalog_{kind}", **extra}


CATALOG = Catalog.from_dict(
    {
        "attributes": [
            # integers
            _a("int_0_100", "number", decimals_allowed=False, number_min="0", number_max="100"),
            _a("int_min_5", "number", decimals_allowed=False, number_min="5.0000"),
            _a("int_max_1000", "number", decimals_allowed=False, number_max="1000.0000"),
            _a("int_max_5", "number", decimals_allowed=False, number_max="5"),
            _a("int_max_250", "number", decimals_allowed=False, number_max="250"),
            _a("int_no_negative", "number", decimals_allowed=False, negative_allowed=False),
            _a("int_any", "number", decimals_allowed=False, negative_allowed=True),
            _a("int_min_neg", "number", decimals_allowed=False, number_min="-10"),
            _a("int_max_half", "number", decimals_allowed=False, number_max="0.5"),
            # decimals
            _a("dec_0_5", "number", decimals_allowed=True, number_min="0", number_max="5.0000"),
            _a("dec_min_2_5", "number", decimals_allowed=True, number_min="2.5"),
            _a("dec_no_negative", "number", decimals_allowed=True, negative_allowed=False),
            _a("dec_max_1000", "number", decimals_allowed=True, number_max="1000"),
            _a("dec_max_99_5", "number", decimals_allowed=True, number_max="99.5"),
            _a("dec_max_inf", "number", decimals_allowed=True, number_max="Infinity"),
            # prices and measures
            _a("price", "price_collection", decimals_allowed=True, number_min="0"),
            _a("price_max", "price_collection", decimals_allowed=True, number_max="100"),
            _a("price_int", "price_collection", decimals_allowed=False, number_min="1"),
            _a(
                "weight",
                "metric",
                metric_family="Weight",
                default_metric_unit="KILOGRAM",
                decimals_allowed=True,
                number_min="0",
                number_max="1000",
            ),
            _a(
                "heat",
                "metric",
                metric_family="Temperature",
                default_metric_unit="CELSIUS",
                decimals_allowed=False,
                negative_allowed=True,
            ),
            # dates and texts
            _a(
                "release",
                "date",
                date_min="2000-01-01T00:00:00+00:00",
                date_max="2030-12-31T00:00:00+00:00",
            ),
            _a("name", "text", max_characters=5),
            _a("notes", "textarea", max_characters=1),
            _a("material", "multiselect"),
            _a("flag", "boolean"),
            _a("manual", "file", allowed_extensions=["pdf"]),
            _a("picture", "image", allowed_extensions=[".jpg", ".PNG"]),
        ],
        "currencies": [{"code": "EUR", "enabled": True}, {"code": "USD", "enabled": True}],
        "measurement_families": [
            {
                "code": "Weight",
                "units": {
                    "GRAM": {"code": "GRAM", "symbol": "g"},
                    "KILOGRAM": {"code": "KILOGRAM", "symbol": "kg"},
                },
            },
            {
                "code": "Temperature",
                "units": {
                    "CELSIUS": {"code": "CELSIUS", "symbol": "°C"},
                    "KELVIN": {"code": "KELVIN", "symbol": "K"},
                },
            },
        ],
    }
)


def decode(code: str, cell: str, **options: Any) -> Any:
    attribute = CATALOG.attribute(code)
    assert attribute is not None
    return value_codec(attribute, CATALOG, ExportOptions(**options)).decode(cell)


TOO_LARGE = f"too large (the PIM's limit is {MAX})"

#: id, attribute, cell, the data, or the error message (a str starting with "!")
LIMITS: list[tuple[str, str, str, Any]] = [
    # integers between 0 and 100
    ("int-at-min", "int_0_100", "0", 0),
    ("int-at-max", "int_0_100", "100", 100),
    ("int-under-max", "int_0_100", "99", 99),
    ("int-one-past-max", "int_0_100", "101", '!must be at most 100, got "101"'),
    ("int-one-under-min", "int_0_100", "-1", '!must be at least 0, got "-1"'),
    ("int-at-max-zero-fraction", "int_0_100", "100.00", 100),
    ("int-past-max-zero-fraction", "int_0_100", "101.0", '!must be at most 100, got "101.0"'),
    ("int-at-max-leading-zeros", "int_0_100", "0100", 100),
    ("int-past-max-leading-zeros", "int_0_100", "00101", '!must be at most 100, got "00101"'),
    ("int-at-max-plus", "int_0_100", "+100", 100),
    ("int-past-max-plus", "int_0_100", "+101", '!must be at most 100, got "+101"'),
    ("int-at-max-spaces", "int_0_100", " 100 ", 100),
    # a positive minimum
    ("int-at-positive-min", "int_min_5", "5", 5),
    ("int-over-positive-min", "int_min_5", "6", 6),
    ("int-one-under-positive-min", "int_min_5", "4", '!must be at least 5, got "4"'),
    ("int-zero-under-positive-min", "int_min_5", "0", '!must be at least 5, got "0"'),
    ("int-large-over-positive-min", "int_min_5", "123456789", 123456789),
    # maxima that are not a power of ten
    ("int-max-1000-at", "int_max_1000", "1000", 1000),
    ("int-max-1000-three-digits", "int_max_1000", "999", 999),
    ("int-max-1000-past", "int_max_1000", "1001", '!must be at most 1000, got "1001"'),
    ("int-max-1000-negative", "int_max_1000", "-5000", -5000),
    ("int-max-5-at", "int_max_5", "5", 5),
    ("int-max-5-under", "int_max_5", "4", 4),
    ("int-max-5-zero", "int_max_5", "0", 0),
    ("int-max-5-past", "int_max_5", "6", '!must be at most 5, got "6"'),
    ("int-max-5-two-digits", "int_max_5", "10", '!must be at most 5, got "10"'),
    ("int-max-250-at", "int_max_250", "250", 250),
    ("int-max-250-first-digit-under", "int_max_250", "199", 199),
    ("int-max-250-same-first-digit", "int_max_250", "249", 249),
    ("int-max-250-past", "int_max_250", "251", '!must be at most 250, got "251"'),
    ("int-max-250-first-digit-over", "int_max_250", "300", '!must be at most 250, got "300"'),
    ("int-max-250-four-digits", "int_max_250", "1000", '!must be at most 250, got "1000"'),
    ("int-max-under-one-at-zero", "int_max_half", "0", 0),
    ("int-max-under-one-past", "int_max_half", "1", '!must be at most 0.5, got "1"'),
    # negative_allowed false, without min or max
    ("no-negative-zero", "int_no_negative", "0", 0),
    ("no-negative-minus-zero", "int_no_negative", "-0", 0),
    ("no-negative-one", "int_no_negative", "1", 1),
    (
        "no-negative-minus-one",
        "int_no_negative",
        "-1",
        '!negative numbers are not allowed here, got "-1"',
    ),
    (
        "no-negative-large",
        "int_no_negative",
        "-123456789012",
        '!negative numbers are not allowed here, got "-123456789012"',
    ),
    ("no-negative-max", "int_no_negative", str(MAX), MAX),
    ("dec-no-negative-zero", "dec_no_negative", "-0.0", "0.0"),
    (
        "dec-no-negative-tiny",
        "dec_no_negative",
        "-0.001",
        '!negative numbers are not allowed here, got "-0.001"',
    ),
    (
        "dec-no-negative-one",
        "dec_no_negative",
        "-1",
        '!negative numbers are not allowed here, got "-1"',
    ),
    ("dec-no-negative-positive", "dec_no_negative", "1.5", "1.5"),
    # a negative minimum
    ("int-at-negative-min", "int_min_neg", "-10", -10),
    ("int-past-negative-min", "int_min_neg", "-11", '!must be at least -10, got "-11"'),
    ("int-over-negative-min", "int_min_neg", "7", 7),
    # 18 and 19 digits, and the PHP integer limits
    ("int-18-digits", "int_any", "9" * 18, 10**18 - 1),
    ("int-18-digits-negative", "int_any", "-" + "9" * 18, -(10**18) + 1),
    ("int-19-digits", "int_any", "1" + "0" * 18, 10**18),
    ("int-php-max", "int_any", str(MAX), MAX),
    ("int-php-max-negative", "int_any", str(-MAX), -MAX),
    ("int-php-max-plus-one", "int_any", str(MAX + 1), f'!{TOO_LARGE}, got "{MAX + 1}"'),
    ("int-php-min", "int_any", str(-MAX - 1), f'!{TOO_LARGE}, got "{-MAX - 1}"'),
    ("int-20-digits", "int_any", "1" + "0" * 19, f'!{TOO_LARGE}, got "1{"0" * 19}"'),
    ("int-php-max-leading-zeros", "int_any", "000" + str(MAX), MAX),
    ("int-php-max-zero-fraction", "int_any", str(MAX) + ".0", MAX),
    ("int-php-max-plus-one-fraction", "int_any", str(MAX + 1) + ".0", "!too large"),
    ("int-minus-zero-fraction", "int_any", "-0.00", 0),
    ("int-negative", "int_any", "-3", -3),
    ("int-negative-zero-fraction", "int_any", "-3.0", -3),
    # decimals between 0 and 5
    ("dec-at-min", "dec_0_5", "0", "0"),
    ("dec-at-min-fraction", "dec_0_5", "0.0000", "0.0000"),
    ("dec-at-max", "dec_0_5", "5", "5"),
    ("dec-at-max-fraction", "dec_0_5", "5.0000", "5.0000"),
    ("dec-under-max", "dec_0_5", "4.9999", "4.9999"),
    ("dec-one-past-max", "dec_0_5", "5.0001", '!must be at most 5, got "5.0001"'),
    ("dec-past-max", "dec_0_5", "6", '!must be at most 5, got "6"'),
    ("dec-one-under-min", "dec_0_5", "-0.0001", '!must be at least 0, got "-0.0001"'),
    ("dec-at-max-leading-zeros", "dec_0_5", "005.0", "5.0"),
    ("dec-leading-mark", "dec_0_5", ".5", "0.5"),
    # a positive decimal minimum, decimal maxima
    ("dec-at-positive-min", "dec_min_2_5", "2.5", "2.5"),
    ("dec-at-positive-min-zeros", "dec_min_2_5", "2.50", "2.50"),
    ("dec-under-positive-min", "dec_min_2_5", "2.49", '!must be at least 2.5, got "2.49"'),
    ("dec-zero-under-positive-min", "dec_min_2_5", "0", '!must be at least 2.5, got "0"'),
    ("dec-over-positive-min", "dec_min_2_5", "3", "3"),
    ("dec-max-1000-at", "dec_max_1000", "1000", "1000"),
    ("dec-max-1000-under", "dec_max_1000", "999.999", "999.999"),
    ("dec-max-1000-one-past", "dec_max_1000", "1000.001", '!must be at most 1000, got "1000.001"'),
    ("dec-max-1000-negative", "dec_max_1000", "-12345.5", "-12345.5"),
    ("dec-max-99.5-at", "dec_max_99_5", "99.5", "99.5"),
    ("dec-max-99.5-under", "dec_max_99_5", "98.99", "98.99"),
    ("dec-max-99.5-past", "dec_max_99_5", "99.51", '!must be at most 99.5, got "99.51"'),
    ("dec-infinite-max", "dec_max_inf", "1" + "0" * 30, "1" + "0" * 30),
    ("dec-infinite-max-small", "dec_max_inf", "12.5", "12.5"),
    # prices and measures keep the same limits
    ("price-at-min", "price", "0 EUR", [{"amount": "0", "currency": "EUR"}]),
    (
        "price-under-min",
        "price",
        "-0.01 EUR",
        '!must be at least 0, got "-0.01" (in "-0.01 EUR")',
    ),
    ("price-at-max", "price_max", "100 USD", [{"amount": "100", "currency": "USD"}]),
    (
        "price-past-max",
        "price_max",
        "EUR 100.01",
        '!must be at most 100, got "100.01" (in "EUR 100.01")',
    ),
    ("price-int-at-positive-min", "price_int", "1 EUR", [{"amount": 1, "currency": "EUR"}]),
    (
        "price-int-under-positive-min",
        "price_int",
        "0 EUR",
        '!must be at least 1, got "0" (in "0 EUR")',
    ),
    ("metric-at-min", "weight", "0 kg", {"amount": "0", "unit": "KILOGRAM"}),
    ("metric-at-max", "weight", "1000 g", {"amount": "1000", "unit": "GRAM"}),
    (
        "metric-past-max",
        "weight",
        "1000.01 kg",
        '!must be at most 1000, got "1000.01" (in "1000.01 kg")',
    ),
    (
        "metric-under-min",
        "weight",
        "-0.5 kg",
        '!must be at least 0, got "-0.5" (in "-0.5 kg")',
    ),
    ("metric-negative-allowed", "heat", "-40 °C", {"amount": -40, "unit": "CELSIUS"}),
    ("metric-negative-glued", "heat", "-40K", {"amount": -40, "unit": "KELVIN"}),
    ("metric-php-max", "heat", f"{MAX} K", {"amount": MAX, "unit": "KELVIN"}),
    (
        "metric-php-max-plus-one",
        "heat",
        f"{MAX + 1} K",
        f'!{TOO_LARGE}, got "{MAX + 1}" (in "{MAX + 1} K")',
    ),
    # dates
    ("date-at-min", "release", "2000-01-01", "2000-01-01"),
    (
        "date-one-before-min",
        "release",
        "1999-12-31",
        '!must be 2000-01-01 or later, got "1999-12-31"',
    ),
    ("date-at-max", "release", "2030-12-31", "2030-12-31"),
    (
        "date-one-after-max",
        "release",
        "2031-01-01",
        '!must be 2030-12-31 or earlier, got "2031-01-01"',
    ),
    ("datetime-on-the-max-day", "release", "2030-12-31T23:59:59", "2030-12-31T23:59:59"),
    (
        "datetime-after-the-max-day",
        "release",
        "2031-01-01T00:00:00",
        '!must be 2030-12-31 or earlier, got "2031-01-01T00:00:00"',
    ),
    ("datetime-on-the-min-day", "release", "2000-01-01 00:00", "2000-01-01 00:00"),
    (
        "date-short-word",
        "release",
        "soon",
        '!not a date, expected YYYY-MM-DD or an ISO-8601 datetime: "soon"',
    ),
    ("date-nine-characters", "release", "2021-04-2", "!not a date, expected"),
    ("date-dashes-elsewhere", "release", "20-04-2021", "!not a date, expected"),
    ("date-eleven-characters", "release", "2021-04-29X", "!not a date, expected"),
    ("date-not-ascii", "release", "\uff12\uff10\uff12\uff11-04-29", "!not a date, expected"),
    # text lengths
    ("text-at-limit", "name", "abcde", "abcde"),
    (
        "text-one-past",
        "name",
        "abcdef",
        '!is 6 characters long, over this attribute\'s limit of 5: "abcdef"',
    ),
    ("text-limit-one", "notes", "x", "x"),
    (
        "text-limit-one-past",
        "notes",
        "xy",
        "!is 2 characters long, over this attribute's limit of 1",
    ),
    ("text-limit-counts-characters", "name", "ééééé", "ééééé"),
]


@pytest.mark.parametrize(
    ("code", "cell", "expected"), [c[1:] for c in LIMITS], ids=[c[0] for c in LIMITS]
)
def test_limits(code: str, cell: str, expected: Any) -> None:
    if isinstance(expected, str) and expected.startswith("!"):
        with pytest.raises(CellError, match=re.escape(expected[1:])):
            decode(code, cell)
        return
    data = decode(code, cell)
    assert data == expected
    assert type(data) is type(expected)


def test_date_limits_with_a_date_format() -> None:
    assert decode("release", "31/12/2030", date_format="%d/%m/%Y") == "2030-12-31"
    with pytest.raises(
        CellError, match=re.escape('must be 2030-12-31 or earlier, got "01/01/2031"')
    ):
        decode("release", "01/01/2031", date_format="%d/%m/%Y")
    with pytest.raises(CellError, match=re.escape('"soon"')):
        decode("release", "soon", date_format="%d/%m/%Y")


# -- list shapes ------------------------------------------------------------------------

SEVENTEEN = [f"c{i}" for i in range(17)]

#: id, attribute or field, cell, data
SHAPES: list[tuple[str, str, str, Any]] = [
    ("codes-blank-item-first", "material", " <###>a<###>b", ["a", "b"]),
    ("codes-blank-item-middle", "material", "a<###> <###>b", ["a", "b"]),
    ("codes-empty-item-middle", "material", "a<###><###>b", ["a", "b"]),
    ("codes-blank-item-last", "material", "a<###>b<###> ", ["a", "b"]),
    ("codes-repeat-middle", "material", "a<###>b<###>a<###>c", ["a", "b", "c"]),
    ("codes-repeat-trimmed", "material", "a<###> a <###>b", ["a", "b"]),
    ("codes-16", "material", "<###>".join(SEVENTEEN[:16]), SEVENTEEN[:16]),
    ("codes-17", "material", "<###>".join(SEVENTEEN), SEVENTEEN),
    (
        "codes-17-repeats-and-blanks",
        "material",
        "<###>".join([*SEVENTEEN[:8], " ", "c3", "", *SEVENTEEN[8:]]),
        SEVENTEEN,
    ),
    ("codes-20-blank", "material", "<###>".join([" "] * 20), EMPTY),
    (
        "codes-40",
        "material",
        "<###>".join(f"x{i}" for i in range(40)),
        [f"x{i}" for i in range(40)],
    ),
    ("codes-only-separators", "material", "<###><###>", EMPTY),
    (
        "price-blank-item-keeps-the-rest",
        "price",
        "1 EUR<###> <###>2 USD",
        [{"amount": "1", "currency": "EUR"}, {"amount": "2", "currency": "USD"}],
    ),
    (
        "price-repeat-keeps-the-rest",
        "price",
        "1 EUR<###>1.0 EUR<###>2 USD",
        [{"amount": "1", "currency": "EUR"}, {"amount": "2", "currency": "USD"}],
    ),
    (
        "price-repeat-lower-case-keeps-the-rest",
        "price",
        "1 EUR<###>1 eur<###>USD 2",
        [{"amount": "1", "currency": "EUR"}, {"amount": "2", "currency": "USD"}],
    ),
    (
        "price-empty-items",
        "price",
        "<###>1 EUR<###><###>",
        [{"amount": "1", "currency": "EUR"}],
    ),
    ("price-only-blank-items", "price", " <###> ", EMPTY),
    (
        "price-three-items-then-more",
        "price",
        "1 EUR<###>2 USD<###>1 EUR<###>2.00 USD",
        [{"amount": "1", "currency": "EUR"}, {"amount": "2", "currency": "USD"}],
    ),
]


@pytest.mark.parametrize(
    ("code", "cell", "expected"), [c[1:] for c in SHAPES], ids=[c[0] for c in SHAPES]
)
def test_list_shapes(code: str, cell: str, expected: Any) -> None:
    assert decode(code, cell) == expected


QUANTIFIED: list[tuple[str, str, Any]] = [
    ("blank-item-keeps-the-rest", "a|1<###> <###>b|2", [("a", 1), ("b", 2)]),
    ("repeat-keeps-the-rest", "a|1<###>a|1<###>b|2", [("a", 1), ("b", 2)]),
    ("repeat-trimmed-keeps-the-rest", "a|1<###> a | 1 <###>b|2", [("a", 1), ("b", 2)]),
    ("empty-item-first", "<###>a|1", [("a", 1)]),
    ("seventeen", "<###>".join(f"{c}|1" for c in SEVENTEEN), [(c, 1) for c in SEVENTEEN]),
    ("18-digit-quantity", "a|" + "9" * 18, [("a", 10**18 - 1)]),
    ("leading-zeros", "a|007", [("a", 7)]),
]


@pytest.mark.parametrize(
    ("cell", "expected"), [c[1:] for c in QUANTIFIED], ids=[c[0] for c in QUANTIFIED]
)
def test_quantified_list_shapes(cell: str, expected: list[tuple[str, int]]) -> None:
    convert = quantified_codec(ExportOptions(), key="identifier").decode
    assert convert(cell) == [{"identifier": c, "quantity": q} for c, q in expected]


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ("a|" + "1" * 19, 'quantity must be a whole number above 0, got "a|1111111111111111111"'),
        ("a|00", 'quantity must be a whole number above 0, got "a|00"'),
        ("a|+2", 'quantity must be a whole number above 0, got "a|+2"'),
        ("a|٢", 'quantity must be a whole number above 0, got "a|٢"'),
        ("b|1<###>a|1<###>a|2", 'two quantities for "a": "b|1<###>a|1<###>a|2"'),
    ],
    ids=["19-digit-quantity", "zero-with-zeros", "plus", "arabic-digit", "repeat-differs"],
)
def test_quantified_refused(cell: str, message: str) -> None:
    convert = quantified_codec(ExportOptions(), key="identifier").decode
    with pytest.raises(CellError, match=f"^{re.escape(message)}$"):
        convert(cell)


def test_fields_and_separators_over_sixteen_items() -> None:
    cell = " <###> ".join([*SEVENTEEN, "c0", ""])
    assert field_codec("categories", ExportOptions()).decode(cell) == SEVENTEEN
    assert codes_codec(ExportOptions(value_separator=",")).decode(",".join(SEVENTEEN)) == SEVENTEEN


# -- booleans and odd spellings -----------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("tRuE", True),
        (" true ", True),
        ("\tTRUE\n", True),
        ("True", True),
        ("FaLsE", False),
        (" false", False),
        ("False ", False),
        (" 1 ", True),
        ("0\t", False),
    ],
    ids=[
        "mixed-case",
        "spaces",
        "tab-newline",
        "title",
        "mixed-false",
        "leading",
        "trailing",
        "one",
        "zero",
    ],
)
def test_booleans_any_case_and_spaces(cell: str, expected: bool) -> None:
    assert decode("flag", cell) is expected
    assert field_codec("enabled", ExportOptions()).decode(cell) is expected


@pytest.mark.parametrize(
    "cell",
    ["yes", "t", "2", "01", "true true", "TRUE!", "on", "\uff54\uff52\uff55\uff45"],
    ids=["yes", "t", "two", "zero-one", "twice", "punctuation", "on", "full-width"],
)
def test_booleans_refused(cell: str) -> None:
    message = f'expected true, false, 1 or 0, got "{cell}"'
    with pytest.raises(CellError, match=f"^{re.escape(message)}$"):
        decode("flag", cell)


# -- files: drive letters, two dots, extensions written with a dot -------------------------


@pytest.mark.parametrize(
    ("cell", "kind", "text"),
    [
        ("C:/pics/a.jpg", "path", "C:/pics/a.jpg"),
        ("c:\\pics\\a.jpg", "path", "c:\\pics\\a.jpg"),
        (" D:a.jpg ", "path", "D:a.jpg"),
        ("pics/a.v2.jpg", "path", "pics/a.v2.jpg"),
        ("HTTPS://cdn.example.com/a.jpg", "url", "HTTPS://cdn.example.com/a.jpg"),
        ("http://cdn.example.com", "url", "http://cdn.example.com"),
        (f"1/2/3/4/{'a' * 40}_a.v2.jpg", "code", f"1/2/3/4/{'a' * 40}_a.v2.jpg"),
        (f"1/2/3/4/{'A' * 40}_a.jpg", "path", f"1/2/3/4/{'A' * 40}_a.jpg"),
        (f"1/2/3/4/{'a' * 39}_a.jpg", "path", f"1/2/3/4/{'a' * 39}_a.jpg"),
    ],
    ids=[
        "drive-slash",
        "drive-backslash",
        "drive-relative",
        "two-dots",
        "url-upper-case-scheme",
        "url-no-path",
        "code-two-dots",
        "code-upper-hex-is-a-path",
        "code-short-hash-is-a-path",
    ],
)
def test_media_sources(cell: str, kind: str, text: str) -> None:
    assert media_source(cell) == (kind, text)


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        (
            "http:/cdn.example.com/a.jpg",
            'not a complete URL (no host): "http:/cdn.example.com/a.jpg"',
        ),
        ("https://", 'not a complete URL (no host): "https://"'),
        ("https://?q=1", 'not a complete URL (no host): "https://?q=1"'),
        ("https://#a", 'not a complete URL (no host): "https://#a"'),
        ("sftp://host/a.jpg", "sftp: links are not fetched; give an http(s) URL"),
        ("data:image/png;base64,AAAA", "data: links are not fetched"),
    ],
    ids=["one-slash", "nothing-after", "query-only", "fragment-only", "sftp", "data"],
)
def test_media_sources_refused(cell: str, message: str) -> None:
    with pytest.raises(CellError, match=re.escape(message)):
        media_source(cell)


def _attribute(code: str) -> Attribute:
    attribute = CATALOG.attribute(code)
    assert attribute is not None
    return attribute


def test_allowed_extensions_written_with_a_dot_or_in_capitals() -> None:
    assert media_extensions(_attribute("picture")) == frozenset({"jpg", "png"})
    assert media_extensions(_attribute("manual")) == frozenset({"pdf"})


@pytest.mark.parametrize(
    ("code", "cell"),
    [
        ("manual", f"1/2/3/4/{'a' * 40}_guide.v2.pdf"),
        ("manual", "docs/guide.v2.PDF"),
        ("manual", "docs/README"),
        ("manual", "docs.v2/README"),
        ("picture", "C:/pics/front.JPG"),
        ("picture", "pics/front.v2.png"),
    ],
    ids=["code-two-dots", "upper-case", "no-extension", "dot-in-folder", "drive", "two-dots"],
)
def test_allowed_file_names(code: str, cell: str) -> None:
    assert decode(code, cell) == cell.strip()


@pytest.mark.parametrize(
    ("code", "cell", "ext"),
    [
        ("manual", "docs/guide.pdf.exe", "exe"),
        ("manual", "docs/guide.", ""),
        ("picture", "C:/pics/front.gif", "gif"),
        ("picture", "pics/.jpg.bmp", "bmp"),
    ],
    ids=["two-dots-last-wins", "trailing-dot", "drive", "hidden-file"],
)
def test_refused_file_names(code: str, cell: str, ext: str) -> None:
    with pytest.raises(CellError, match=re.escape(f"file type .{ext} is not allowed here")):
        decode(code, cell)


def test_check_media_name_without_allowed_extensions_lets_anything_through() -> None:
    check_media_name("a.exe", frozenset(), "a.exe")
    with pytest.raises(CellError, match=re.escape('(allowed: jpg, png), got "cell"')):
        check_media_name("dir.jpg/a.exe", frozenset({"jpg", "png"}), "cell")
