"""The header grammar alone: parse_header, format_header, HeaderSyntaxError."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feed_export.feed.headers import (
    ASSOCIATION_TARGETS,
    FIELDS,
    QUANTIFIED_TARGETS,
    AssociationHeader,
    AttributeHeader,
    FieldHeader,
    HeaderParts,
    HeaderSyntaxError,
    format_header,
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
]


@pytest.mark.parametrize(("text", "parts"), PARSED, ids=[p[0].strip() or "blank" for p in PARSED])
def test_parse_header(text: str, parts: HeaderParts) -> None:
    assert parse_header(text) == parts


BAD_SYNTAX = [
    ("", "the header is empty"),
    ("   ", "the header is empty"),
    ("a~b~c~d", "too many ~ parts (4); at most code~locale~channel"),
    ("name~", "a part is empty"),
    ("~en_US", "a part is empty"),
    ("a~~b", "a part is empty"),
    ("price@EUR", 'the currency goes in the cell ("740.00 EUR"); name the column price@currency'),
    ("weight@KGM", 'the unit goes in the cell ("3000.00 KGM"); name the column weight@unit'),
    ("price@foo", "unknown suffix @foo; use @currency (prices) or @unit (measures)"),
    ("price@", "unknown suffix @"),
    ("associations~X_SELL", "an association column is associations~TYPE~products|product_models"),
    ("associations~~products", "an association column is"),
    ("associations~X~products@unit", "an association column is"),
    ("associations~X~foo", "unknown association target 'foo'"),
    ("quantified_associations~PACK~groups", "quantified_associations~TYPE~products|product_models"),
]


@pytest.mark.parametrize(
    ("text", "fragment"), BAD_SYNTAX, ids=[b[0] or "empty" for b in BAD_SYNTAX]
)
def test_parse_header_errors(text: str, fragment: str) -> None:
    with pytest.raises(HeaderSyntaxError) as caught:
        parse_header(text)
    assert fragment in caught.value.problem
    assert caught.value.header == text


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
def test_parse_raises_only_syntax_errors(text: str) -> None:
    try:
        parts = parse_header(text)
    except HeaderSyntaxError as exc:
        assert exc.problem
    else:
        assert parse_header(format_header(parts)) == parts
