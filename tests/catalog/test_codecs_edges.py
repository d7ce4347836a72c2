"""Codec edges: the shortcuts read exactly what the general path reads, odd cells, exact texts."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest

from feed_export.catalog.codecs import (
    EMPTY,
    _plain_numerals,
    amount_cell,
    check_media_name,
    codes_codec,
    limited_identifier_converter,
    media_source,
    quantified_codec,
    quote,
    value_codec,
    value_converter,
)
from feed_export.catalog.structure import Attribute, Catalog
from feed_export.config import ExportOptions
from feed_export.errors import CellError

OPTIONS = ExportOptions()


def _a(code: str, kind: str, **extra: Any) -> dict[str, Any]:
    return {"code": code, "type": f"pim_catalog_{kind}", **extra}


WEIGHT = {
    "code": "Weight",
    "units": {
        "GRAM": {"code": "GRAM", "symbol": "g"},
        "KILOGRAM": {"code": "KILOGRAM", "symbol": "kg"},
    },
}
CATALOG = Catalog.from_dict(
    {
        "attributes": [
            _a("price", "price_collection", decimals_allowed=True),
            _a("weight", "metric", metric_family="Weight", decimals_allowed=True),
            _a("weight_by_symbol", "metric", metric_family="Weight", default_metric_unit="kg"),
            _a("weight_min_1", "metric", metric_family="Weight", number_min="1"),
            _a("loose", "metric", decimals_allowed=False),
            _a("day", "date"),
            _a("title", "text"),
            _a("short", "text", max_characters=3),
            _a("future", "some_future_type"),
            _a("size_chart", "table"),
            _a("spare_part", "product_link"),
        ],
        "currencies": [
            {"code": "EUR", "enabled": True},
            {"code": "USD", "enabled": True},
            {"code": "GBP", "enabled": True},
        ],
        "measurement_families": [WEIGHT],
    }
)
NONE_ENABLED = Catalog.from_dict(
    {
        "attributes": [_a("price", "price_collection")],
        "currencies": [{"code": "EUR", "enabled": False}],
    }
)


def codec(code: str, catalog: Catalog = CATALOG, **options: Any) -> Any:
    attribute = catalog.attribute(code)
    assert attribute is not None
    return value_codec(attribute, catalog, ExportOptions(**options))


def assert_refused(code: str, cell: str, message: str, catalog: Catalog = CATALOG) -> None:
    with pytest.raises(CellError, match=f"^{re.escape(message)}$"):
        codec(code, catalog).decode(cell)


# -- the plain-numeral shortcut: exactly the numerals that need no work ---------------

D = Decimal
#: id, (number_min, number_max, decimals, negatives allowed, mark), plain, not plain
PLAIN: list[tuple[str, tuple[Any, ...], list[str], list[str]]] = [
    (
        "no-limits",
        (None, None, True, True, "."),
        ["0", "7", "1.5", "0.25", "-5", "-2.5", "9" * 18, "-" + "9" * 18, "12.000"],
        ["9" * 19, "007", "+5", "1.", ".5", "-0", "-0.5", " 5", "1e3", "1,5", "", "-"],
    ),
    (
        "integers-no-negatives",
        (None, None, False, False, "."),
        ["0", "12", "9" * 18],
        ["-5", "1.0", "12.5", "01"],
    ),
    ("min-0-max-1000", (D(0), D(1000), False, True, "."), ["0", "1", "999"], ["1000", "-1"]),
    (
        "max-250",
        (D(0), D(250), False, True, "."),
        ["0", "99", "100", "199"],
        ["200", "249", "250", "1000"],
    ),
    (
        "max-5-decimals",
        (D(0), D(5), True, True, "."),
        ["0", "4", "4.999", "0.5"],
        ["5", "5.0", "10"],
    ),
    ("max-1", (None, D(1), True, True, "."), ["0", "0.99"], ["1", "-1", "1.5"]),
    ("max-10", (None, D(10), False, True, "."), ["0", "9", "-9"], ["10", "-10"]),
    (
        "max-over-19-digits",
        (None, D(10) ** 20, False, True, "."),
        ["9" * 18, "-" + "9" * 18],
        ["9" * 19, "1" + "0" * 18],
    ),
    (
        "max-19-digits",
        (None, D(5) * D(10) ** 18, False, True, "."),
        ["9" * 18, "4" + "9" * 18],
        ["5" + "0" * 18, "9" * 19],
    ),
    ("negative-min", (D(-10), None, False, True, "."), ["0", "5", "9" * 18], ["-5", "-10"]),
    ("comma-mark", (None, None, True, True, ","), ["12,5", "0,5"], ["12.5", "-0", "1,"]),
]


@pytest.mark.parametrize(
    ("limits", "plain", "not_plain"), [c[1:] for c in PLAIN], ids=[c[0] for c in PLAIN]
)
def test_plain_numerals(limits: tuple[Any, ...], plain: list[str], not_plain: list[str]) -> None:
    source = _plain_numerals(*limits)
    assert source is not None
    pattern = re.compile(source)
    assert [n for n in plain if not pattern.fullmatch(n)] == []
    assert [n for n in not_plain if pattern.fullmatch(n)] == []


@pytest.mark.parametrize(
    "limits",
    [
        (D(5), None, True, True, "."),
        (D("0.5"), None, True, True, "."),
        (None, D("0.5"), True, True, "."),
        (None, D(0), False, True, "."),
        (None, D("-3"), False, True, "."),
        (None, D("Infinity"), True, True, "."),
        (D("-Infinity"), None, True, True, "."),
    ],
    ids=["min-5", "min-half", "max-half", "max-0", "max-negative", "max-infinite", "min-infinite"],
)
def test_no_plain_numerals_where_every_amount_needs_checking(limits: tuple[Any, ...]) -> None:
    assert _plain_numerals(*limits) is None


def test_the_largest_plain_integers_stay_under_the_php_limit() -> None:
    attribute = Attribute(
        code="n", type="pim_catalog_number", decimals_allowed=False, number_max="1e20"
    )
    number = value_codec(attribute, Catalog(), OPTIONS)
    assert number.decode("9" * 18) == 10**18 - 1
    with pytest.raises(CellError, match=r"^too large"):
        number.decode("9" * 19)


# -- prices: the one-regex path for one to three items, once their currencies are known


def test_known_currencies_take_the_short_path_and_agree_with_the_long_one() -> None:
    price = codec("price").decode
    assert price("1 EUR<###>2 USD<###>3 GBP") == [
        {"amount": "1", "currency": "EUR"},
        {"amount": "2", "currency": "USD"},
        {"amount": "3", "currency": "GBP"},
    ]  # now every currency is known
    cases = [
        ("4 EUR<###>5 USD<###>6 GBP", [("4", "EUR"), ("5", "USD"), ("6", "GBP")]),
        ("EUR 4<###>USD 5<###>GBP 6", [("4", "EUR"), ("5", "USD"), ("6", "GBP")]),
        ("4EUR<###>5USD", [("4", "EUR"), ("5", "USD")]),
        ("4 EUR<###>4 EUR", [("4", "EUR")]),
        ("4 EUR<###>4.0 EUR<###>5 USD", [("4", "EUR"), ("5", "USD")]),
        ("4 EUR<###>5 USD<###>4 EUR", [("4", "EUR"), ("5", "USD")]),
        ("4 EUR<###>5 USD<###>5.00 USD", [("4", "EUR"), ("5", "USD")]),
        ("4 EUR<###>5 USD<###>6 EUR<###>", None),
        ("4 EUR<###>5 EUR", None),
        ("4 EUR<###>5 USD<###>6 USD", None),
        ("4 EUR<###>5 USD<###>6 EUR", None),
    ]
    for cell, expected in cases:
        if expected is None:
            with pytest.raises(CellError, match=re.escape(f"give one per currency: {quote(cell)}")):
                price(cell)
        else:
            assert price(cell) == [{"amount": a, "currency": c} for a, c in expected], cell


def test_a_third_currency_met_for_the_first_time() -> None:
    price = codec("price").decode
    assert price("1 EUR<###>2 USD") == [
        {"amount": "1", "currency": "EUR"},
        {"amount": "2", "currency": "USD"},
    ]  # EUR and USD are known, GBP is not
    assert price("1 EUR<###>2 USD<###>3 GBP") == [
        {"amount": "1", "currency": "EUR"},
        {"amount": "2", "currency": "USD"},
        {"amount": "3", "currency": "GBP"},
    ]
    assert price("1 EUR<###>3 GBP") == [
        {"amount": "1", "currency": "EUR"},
        {"amount": "3", "currency": "GBP"},
    ]


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("5EUR", [("5", "EUR")]),
        ("EUR5", [("5", "EUR")]),
        ("5 eur", [("5", "EUR")]),
        ("eur 5", [("5", "EUR")]),
        (" 5 EUR ", [("5", "EUR")]),
        ("05 EUR", [("5", "EUR")]),
        ("5 EUR<###>6 USD<###>7 GBP<###>8.0 EUR", None),
    ],
    ids=[
        "glued-one-digit",
        "currency-first-glued",
        "lower",
        "lower-first",
        "spaces",
        "zero",
        "four",
    ],
)
def test_first_meetings_of_a_currency(cell: str, expected: list[tuple[str, str]] | None) -> None:
    price = codec("price").decode
    if expected is None:
        with pytest.raises(CellError, match="two amounts for EUR"):
            price(cell)
    else:
        assert price(cell) == [{"amount": a, "currency": c} for a, c in expected]


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ("XAU 5", 'currency XAU is not enabled in the PIM (enabled: EUR, GBP, USD), got "XAU 5"'),
        ("E5", 'currency E is not enabled in the PIM (enabled: EUR, GBP, USD), got "E5"'),
        ("5 1a", 'expected an amount and a currency like "740.00 EUR", got "5 1a"'),
        ("5 €", 'expected an amount and a currency like "740.00 EUR", got "5 €"'),
        ("٣ XYZ", 'currency XYZ is not enabled in the PIM (enabled: EUR, GBP, USD), got "٣ XYZ"'),
        ("٣ EUR", 'not an amount: "٣ EUR"'),
        ("1.234,50 EUR", 'not an amount: "1.234,50 EUR"'),
    ],
    ids=[
        "x-currency",
        "one-letter",
        "digit-in-currency",
        "symbol",
        "arabic-digit",
        "arabic-eur",
        "dots",
    ],
)
def test_price_messages(cell: str, message: str) -> None:
    assert_refused("price", cell, message)


def test_no_currency_enabled() -> None:
    assert_refused(
        "price",
        "5 EUR",
        'currency EUR is not enabled in the PIM (enabled: none), got "5 EUR"',
        NONE_ENABLED,
    )


# -- measures -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "cell", "expected"),
    [
        ("weight", "012kg", ("12", "KILOGRAM")),
        ("weight", "0012 g", ("12", "GRAM")),
        ("weight", "+3kg", ("3", "KILOGRAM")),
        ("weight", "3 kg", ("3", "KILOGRAM")),
        ("weight_by_symbol", "3", ("3", "KILOGRAM")),
        ("weight_min_1", "1 kg", ("1", "KILOGRAM")),
        ("weight_min_1", "250 g", ("250", "GRAM")),
        ("loose", "3 kg", (3, "KG")),
    ],
    ids=[
        "glued-leading-zero",
        "leading-zeros",
        "plus",
        "plain",
        "default-unit-written-as-a-symbol",
        "at-a-positive-minimum",
        "over-a-positive-minimum",
        "family-outside-the-catalog",
    ],
)
def test_measures(code: str, cell: str, expected: tuple[Any, str]) -> None:
    assert codec(code).decode(cell) == {"amount": expected[0], "unit": expected[1]}


@pytest.mark.parametrize(
    ("code", "cell", "message"),
    [
        (
            "weight",
            "5Xkg",
            'unknown unit "Xkg" for Weight; use one of GRAM (g), KILOGRAM (kg); got "5Xkg"',
        ),
        (
            "weight",
            "0012 parsec",
            'unknown unit "parsec" for Weight; use one of GRAM (g), KILOGRAM (kg); '
            'got "0012 parsec"',
        ),
        ("weight_min_1", "0.5 kg", 'must be at least 1, got "0.5" (in "0.5 kg")'),
        ("weight_min_1", "0 kg", 'must be at least 1, got "0" (in "0 kg")'),
        ("loose", "3 k-g", 'unknown unit "k-g" for ; use one of ; got "3 k-g"'),
    ],
    ids=[
        "x-unit",
        "x-unit-after-a-leading-zero",
        "under-a-positive-minimum",
        "zero-under-a-positive-minimum",
        "no-family",
    ],
)
def test_measure_messages(code: str, cell: str, message: str) -> None:
    assert_refused(code, cell, message)


def test_a_known_unit_is_found_again() -> None:
    weight = codec("weight").decode
    for _ in range(2):
        assert weight("0012 kg") == {"amount": "12", "unit": "KILOGRAM"}
        assert weight("3 kg") == {"amount": "3", "unit": "KILOGRAM"}
    with pytest.raises(CellError, match='unknown unit "parsec"'):
        weight("3 parsec")


# -- dates, texts, the cells that go as read ---------------------------------------------


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("1900-01-01", "1900-01-01"),
        ("2999-12-31", "2999-12-31"),
        ("2021-04-29 10:00", "2021-04-29 10:00"),
    ],
    ids=["old", "far", "space-time"],
)
def test_dates_without_limits(cell: str, expected: str) -> None:
    assert codec("day").decode(cell) == expected


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        (
            "2021-04-29X10:00",
            'not a date, expected YYYY-MM-DD or an ISO-8601 datetime: "2021-04-29X10:00"',
        ),
        (
            "29/04/2021",
            "not a date, expected YYYY-MM-DD or an ISO-8601 datetime (for day/month/year "
            'pass --date-format dd/MM/yyyy): "29/04/2021"',
        ),
        ("2021-02-30", 'not a valid date: "2021-02-30"'),
    ],
    ids=["other-separator", "day-first-hint", "impossible"],
)
def test_date_messages(cell: str, message: str) -> None:
    assert_refused("day", cell, message)


@pytest.mark.parametrize(
    ("code", "cell", "message"),
    [
        (
            "size_chart",
            '{"a": 1}',
            'a table is a JSON array of rows like [{"column": "value"}], got "{\\"a\\": 1}"',
        ),
        (
            "size_chart",
            "[1]",
            'a table is a JSON array of rows like [{"column": "value"}], got "[1]"',
        ),
        (
            "spare_part",
            "[]",
            'a product link is a JSON object like {"type": "product", "identifier": "x"}, got "[]"',
        ),
        ("size_chart", "[", 'not valid JSON (unexpected end of data at line 1, column 2): "["'),
    ],
    ids=["table-object", "table-of-numbers", "link-list", "broken"],
)
def test_json_messages(code: str, cell: str, message: str) -> None:
    assert_refused(code, cell, message)


def test_cells_that_go_as_read_skip_the_call() -> None:
    for code in ("title", "future"):
        attribute = CATALOG.attribute(code)
        assert attribute is not None
        assert value_codec(attribute, CATALOG, OPTIONS).as_read is True
        assert value_converter(attribute, CATALOG, OPTIONS) is None
    short = CATALOG.attribute("short")
    assert short is not None
    assert value_codec(short, CATALOG, OPTIONS).as_read is False
    converter = value_converter(short, CATALOG, OPTIONS)
    assert converter is not None
    assert converter("abc") == "abc"


# -- exact texts: messages and the little things ---------------------------------------


def test_empty_shows_its_name() -> None:
    assert repr(EMPTY) == "EMPTY"


def test_quote_caps_only_past_the_limit() -> None:
    assert quote("x" * 80) == '"' + "x" * 80 + '"'
    assert quote("x" * 81) == '"' + "x" * 80 + '…"'
    assert quote("é") == '"é"'


def test_thousands_hint_with_a_decimal_comma() -> None:
    attribute = Attribute(code="n", type="pim_catalog_number", decimals_allowed=True)
    number = value_codec(attribute, Catalog(), ExportOptions(decimal_separator=","))
    with pytest.raises(
        CellError,
        match="^"
        + re.escape(
            'not a number (the decimal mark is ","; leave out thousands separators): "1.234,50"'
        )
        + "$",
    ):
        number.decode("1.234,50")


def test_amount_cell_writes_a_dot_by_default() -> None:
    assert amount_cell(Decimal("1.5")) == "1.5"
    assert amount_cell("-0.25") == "-0.25"
    with pytest.raises(CellError, match=re.escape('^cannot write "1.5.1"')[1:]):
        amount_cell("1.5.1")


def test_codes_of_a_blank_cell_are_nothing() -> None:
    codes = codes_codec(OPTIONS).decode
    assert codes("  ") is EMPTY
    assert codes("\u00a0") is EMPTY


def test_identifier_without_an_identifier_attribute() -> None:
    assert limited_identifier_converter(None)(" a ") == "a"


def test_quantified_links_of_one() -> None:
    links = quantified_codec(OPTIONS, key="identifier")
    assert links.encode([{"identifier": "a", "quantity": 1}]) == "a|1"
    assert links.decode("a|1") == [{"identifier": "a", "quantity": 1}]


@pytest.mark.parametrize(
    ("cell", "kind"),
    [
        ("http://a", "url"),
        ("http://Xample.com/a.jpg", "url"),
        ("https://x?", "url"),
        ("C:/a.jpg", "path"),
    ],
    ids=["one-letter-host", "capital-host", "host-then-query", "drive"],
)
def test_media_sources_at_their_edges(cell: str, kind: str) -> None:
    assert media_source(cell) == (kind, cell)


def test_a_two_letter_scheme_is_a_scheme() -> None:
    with pytest.raises(
        CellError, match=re.escape("ab: links are not fetched; give an http(s) URL")
    ):
        media_source("ab:x.jpg")


def test_dots_in_folders_are_not_extensions() -> None:
    check_media_name("a/docs.v2/README", frozenset({"pdf"}), "cell")
    check_media_name("a.exe/b.c/guide.pdf", frozenset({"pdf"}), "cell")
    with pytest.raises(CellError, match=re.escape("file type .c is not allowed")):
        check_media_name("a/docs.v2/b.c", frozenset({"pdf"}), "cell")
