"""The header grammar alone: parse_header, format_header, HeaderSyntaxError, the codes a
header row names."""

from __future__ import annotations

import doctest
import re
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from feed_export.errors import HeaderError, HeaderSyntaxError
from feed_export.feed import headers
from feed_export.feed.headers import (
    ASSOCIATION_TARGETS,
    FIELDS,
    QUANTIFIED_TARGETS,
    AssociationHeader,
    AttributeHeader,
    FieldHeader,
    HeaderParts,
    clean_header,
    format_header,
    header_attribute_codes,
    parse_header,
)

PARSED: list[tuple[str, HeaderParts]] = [
    ("sku", AttributeHeader("sku")),
    ("identifier", FieldHeader("identifier")),
    (" Family ", FieldHeader("family")),
    ("ENABLED", FieldHeader("enabled")),
    ("add_categories", FieldHeader("add_categories")),
    ("name~en_US", AttributeHeader("name", ("en_US",))),
    ("name ~ en_US", AttributeHeader("name", ("en_US",))),
    ("meta~ecommerce", AttributeHeader("meta", ("ecommerce",))),
    ("description~en_US~ecommerce", AttributeHeader("description", ("en_US", "ecommerce"))),
    ("price@currency", AttributeHeader("price", (), "currency")),
    ("price~de_DE@currency", AttributeHeader("price", ("de_DE",), "currency")),
    ("weight@UNIT", AttributeHeader("weight", (), "unit")),
    ("\ufeffsku", AttributeHeader("sku")),
    ("associations~X_SELL~products", AssociationHeader("X_SELL", "products")),
    ("associations~x_sell~PRODUCT_MODELS", AssociationHeader("x_sell", "product_models")),
    ("associations~PACK~groups", AssociationHeader("PACK", "groups")),
    ("associations~X~product_uuids", AssociationHeader("X", "product_uuids")),
    ("quantified_associations~PACK~products", AssociationHeader("PACK", "products", True)),
    (
        "Quantified_Associations~PACK~product_models",
        AssociationHeader("PACK", "product_models", True),
    ),
    ("associations", AttributeHeader("associations")),
    # case and whitespace: codes keep their spelling, keywords and suffixes do not
    ("PRICE@CURRENCY", AttributeHeader("PRICE", (), "currency")),
    (" price @ Currency ", AttributeHeader("price", (), "currency")),
    (
        "description ~ en_US ~ ecommerce @ unit",
        AttributeHeader("description", ("en_US", "ecommerce"), "unit"),
    ),
    ("Name~EN_us", AttributeHeader("Name", ("EN_us",))),
    ("\ufeff identifier ", FieldHeader("identifier")),
    (" \ufeffEntity", FieldHeader("entity")),
    ("Remove_Categories", FieldHeader("remove_categories")),
    ("associations ~ X ~ products", AssociationHeader("X", "products")),
    ("ASSOCIATIONS~X~Product_Uuids", AssociationHeader("X", "product_uuids")),
    (" quantified_associations ~PACK~ PRODUCTS", AssociationHeader("PACK", "products", True)),
    ("quantified_associations", AttributeHeader("quantified_associations")),
    # a field name with parts is no field: resolution says what is wrong with it
    ("family~en_US", AttributeHeader("family", ("en_US",))),
    ("family_variant@unit", AttributeHeader("family_variant", (), "unit")),
]


@pytest.mark.parametrize(("text", "parts"), PARSED, ids=[p[0].strip() or "blank" for p in PARSED])
def test_parse_header(text: str, parts: HeaderParts) -> None:
    assert parse_header(text) == parts


@pytest.mark.parametrize("field", FIELDS)
@pytest.mark.parametrize(
    "spelling",
    [str, str.upper, str.title, lambda f: f"  {f}\t"],
    ids=["as-is", "upper", "title", "padded"],
)
def test_every_field_in_any_case(field: str, spelling: Any) -> None:
    assert parse_header(spelling(field)) == FieldHeader(field)


_EMPTY_PART = "a part is empty (two ~ in a row, or a ~ at an end); the form is code~locale~channel"
_ASSOCIATION = (
    "an association column is associations~TYPE~products|product_models|groups|product_uuids"
)
_QUANTIFIED = "an association column is quantified_associations~TYPE~products|product_models"
_UNKNOWN_SUFFIX = "unknown suffix @{}; use @currency (prices) or @unit (measures)"

BAD_SYNTAX = [
    # header, the problem exactly
    ("", "the header is empty"),
    ("   ", "the header is empty"),
    ("\ufeff", "the header is empty"),
    ("\ufeff \ufeff", "the header is empty"),
    # part shapes
    ("a~b~c~d", "too many ~ parts (4); at most code~locale~channel"),
    ("a~b~c~d~e", "too many ~ parts (5); at most code~locale~channel"),
    ("a~b~c~d@unit", "too many ~ parts (4); at most code~locale~channel"),
    ("name~", _EMPTY_PART),
    ("~en_US", _EMPTY_PART),
    ("a~~b", _EMPTY_PART),
    ("a~~b~c~d", _EMPTY_PART),
    ("name~ ~ecommerce", _EMPTY_PART),
    ("~", _EMPTY_PART),
    ("@unit", _EMPTY_PART),
    ("~en_US@currency", _EMPTY_PART),
    # suffixes: the currency or unit itself, in place of the suffix word
    (
        "price@EUR",
        '@EUR is not a suffix: the currency goes in the cell ("740.00 EUR"); name the column price@currency',
    ),
    (
        "price@XYZ",
        '@XYZ is not a suffix: the currency goes in the cell ("740.00 XYZ"); name the column price@currency',
    ),
    (
        "price~de_DE @ USD ",
        '@USD is not a suffix: the currency goes in the cell ("740.00 USD"); name the column price~de_DE@currency',
    ),
    (
        "weight@KGM",
        '@KGM is not a suffix: the unit goes in the cell ("3000.00 KGM"); name the column weight@unit',
    ),
    (
        "weight@MMT",
        '@MMT is not a suffix: the unit goes in the cell ("3000.00 MMT"); name the column weight@unit',
    ),
    (
        "weight@ABCD",
        '@ABCD is not a suffix: the unit goes in the cell ("3000.00 ABCD"); name the column weight@unit',
    ),
    (
        "weight@A1B2",
        '@A1B2 is not a suffix: the unit goes in the cell ("3000.00 A1B2"); name the column weight@unit',
    ),
    # ... and suffixes that are neither
    ("price@foo", _UNKNOWN_SUFFIX.format("foo")),
    ("price@", _UNKNOWN_SUFFIX.format("")),
    ("price@eur", _UNKNOWN_SUFFIX.format("eur")),
    ("price@Eur", _UNKNOWN_SUFFIX.format("Eur")),
    ("price@EU", _UNKNOWN_SUFFIX.format("EU")),
    ("price@US1", _UNKNOWN_SUFFIX.format("US1")),
    ("weight@kg", _UNKNOWN_SUFFIX.format("kg")),
    ("price@currencies", _UNKNOWN_SUFFIX.format("currencies")),
    ("price@currency@unit", _UNKNOWN_SUFFIX.format("currency@unit")),
    ("associations@x", _UNKNOWN_SUFFIX.format("x")),
    # associations
    ("associations~X_SELL", _ASSOCIATION),
    ("ASSOCIATIONS ~X_SELL", _ASSOCIATION),
    ("associations~~products", _ASSOCIATION),
    ("associations~ ~products", _ASSOCIATION),
    ("associations~X~products~more", _ASSOCIATION),
    ("associations~X~products@unit", _ASSOCIATION),
    ("associations~X@currency~products", _ASSOCIATION),
    ("associations~X~foo", f"unknown association target 'foo'; {_ASSOCIATION}"),
    ("associations~X~", f"unknown association target ''; {_ASSOCIATION}"),
    ("associations~X~Product", f"unknown association target 'Product'; {_ASSOCIATION}"),
    ("quantified_associations~PACK", _QUANTIFIED),
    ("Quantified_Associations~PACK~products~x", _QUANTIFIED),
    ("quantified_associations~PACK~groups", f"unknown association target 'groups'; {_QUANTIFIED}"),
    (
        "quantified_associations~P~product_uuids",
        f"unknown association target 'product_uuids'; {_QUANTIFIED}",
    ),
]


@pytest.mark.parametrize(("text", "problem"), BAD_SYNTAX, ids=[b[0] or "empty" for b in BAD_SYNTAX])
def test_parse_header_errors(text: str, problem: str) -> None:
    with pytest.raises(HeaderSyntaxError, match=re.escape(problem)) as caught:
        parse_header(text)
    assert caught.value.problem == problem
    assert caught.value.header == text


def test_syntax_error_is_a_header_error_of_one_problem() -> None:
    with pytest.raises(HeaderError, match=r"^header 'a~~b': a part is empty \(") as caught:
        parse_header("a~~b")
    error = caught.value
    assert isinstance(error, HeaderSyntaxError)
    assert error.problems == [_EMPTY_PART]
    assert error.path == ""
    assert str(error) == f"header 'a~~b': {_EMPTY_PART}"
    assert error.exit_code == 2


FORMATTED: list[tuple[HeaderParts, str]] = [
    (FieldHeader("identifier"), "identifier"),
    (FieldHeader("remove_categories"), "remove_categories"),
    (AssociationHeader("X_SELL", "products"), "associations~X_SELL~products"),
    (AssociationHeader("PACK", "product_uuids"), "associations~PACK~product_uuids"),
    (AssociationHeader("PACK", "products", True), "quantified_associations~PACK~products"),
    (AssociationHeader("p", "product_models", True), "quantified_associations~p~product_models"),
    (AttributeHeader("sku"), "sku"),
    (AttributeHeader("Name", ("en_US",)), "Name~en_US"),
    (AttributeHeader("description", ("en_US", "print")), "description~en_US~print"),
    (AttributeHeader("price", (), "currency"), "price@currency"),
    (AttributeHeader("weight", ("ecommerce",), "unit"), "weight~ecommerce@unit"),
    (AttributeHeader("price", ("de_DE", "print"), "currency"), "price~de_DE~print@currency"),
]


@pytest.mark.parametrize(("parts", "text"), FORMATTED, ids=[f[1] for f in FORMATTED])
def test_format_header(parts: HeaderParts, text: str) -> None:
    assert format_header(parts) == text


def test_clean_header() -> None:
    assert clean_header(" \ufeff sku \t") == "sku"
    assert clean_header("\ufeff\ufeffsku") == "sku"
    assert clean_header(" \ufeff\t\ufeff sku ") == "sku"
    assert clean_header("sku\ufeff") == "sku\ufeff"  # only a leading mark is a byte-order mark
    assert clean_header("a b") == "a b"


ATTRIBUTE_CODES = [
    # header row, the attribute codes it names
    ([], []),
    (["sku", "name~en_US", "price@currency"], ["sku", "name", "price"]),
    (["name~en_US", "name~de_DE", "sku", "name"], ["name", "sku"]),
    (["Name~en_US", "name~de_DE"], ["Name", "name"]),
    (["identifier", "family", "categories", "entity", "sku"], ["sku"]),
    (["associations~X~products", "quantified_associations~P~products", "x"], ["x"]),
    (["akeneo_status_code", " akeneo_message ", "color"], ["color"]),
    (["", "  ", "color", "\ufeff"], ["color"]),
    (["a~~b", "price@EUR", "~x", "weight@unit"], ["weight"]),
    ([" description ~ en_US ~ print ", "meta~print"], ["description", "meta"]),
]


@pytest.mark.parametrize(
    ("header", "codes"), ATTRIBUTE_CODES, ids=[",".join(h) or "none" for h, _ in ATTRIBUTE_CODES]
)
def test_header_attribute_codes(header: list[str], codes: list[str]) -> None:
    assert header_attribute_codes(header) == codes


def test_module_examples() -> None:
    """The examples in the module's docstrings are right."""
    assert doctest.testmod(headers, raise_on_error=True).attempted >= 6


CODES = st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,12}", fullmatch=True).filter(
    lambda c: (
        c.lower() not in FIELDS and c.lower() not in ("associations", "quantified_associations")
    )
)


@st.composite
def header_parts(draw: st.DrawFn) -> HeaderParts:
    kind = draw(st.sampled_from(["field", "association", "attribute"]))
    if kind == "field":
        return FieldHeader(draw(st.sampled_from(FIELDS)))
    if kind == "association":
        quantified = draw(st.booleans())
        targets = QUANTIFIED_TARGETS if quantified else ASSOCIATION_TARGETS
        return AssociationHeader(draw(CODES), draw(st.sampled_from(targets)), quantified)
    parts = tuple(draw(st.lists(CODES, max_size=2)))
    return AttributeHeader(draw(CODES), parts, draw(st.sampled_from([None, "currency", "unit"])))


@settings(max_examples=300, deadline=None)
@given(parts=header_parts())
def test_format_then_parse_round_trip(parts: HeaderParts) -> None:
    text = format_header(parts)
    assert parse_header(text) == parts
    assert format_header(parse_header(text)) == text


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet=st.sampled_from("ab_~@ \ufeffcurency"), max_size=20) | st.text())
@example(text="\ufeff \ufeff")  # once read as the code "\ufeff", which format_header lost
@example(text="\ufeff \ufeffsku")
def test_parse_raises_only_syntax_errors(text: str) -> None:
    try:
        parts = parse_header(text)
    except HeaderSyntaxError as exc:
        assert exc.problem
    else:
        assert parse_header(format_header(parts)) == parts
