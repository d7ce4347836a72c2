"""Row decoding: payload shape per entity, line errors, ragged rows, empty cells."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feed_export.catalog.layout import resolve_headers
from feed_export.catalog.structure import Catalog
from feed_export.config import ExportOptions
from feed_export.feed.reader import Row, open_feed
from feed_export.push.decode import (
    MAX_LINE_BYTES,
    LineError,
    ProductLine,
    RowDecoder,
    first_pass,
    link_targets,
    second_pass,
    state_payload,
)

CATALOG = Catalog.from_dict(
    {
        "attributes": [
            {"code": "sku", "type": "pim_catalog_identifier", "is_main_identifier": True},
            {"code": "Name", "type": "pim_catalog_text", "localizable": True},
            {
                "code": "description",
                "type": "pim_catalog_textarea",
                "localizable": True,
                "scopable": True,
            },
            {"code": "meta", "type": "pim_catalog_text", "scopable": True},
            {"code": "color", "type": "pim_catalog_simpleselect"},
            {"code": "material", "type": "pim_catalog_multiselect"},
            {"code": "stock", "type": "pim_catalog_number", "decimals_allowed": False},
            {"code": "is_new", "type": "pim_catalog_boolean"},
            {"code": "price", "type": "pim_catalog_price_collection", "decimals_allowed": True},
            {
                "code": "weight",
                "type": "pim_catalog_metric",
                "metric_family": "Weight",
                "default_metric_unit": "KILOGRAM",
                "decimals_allowed": True,
            },
            {"code": "notes", "type": "pim_catalog_textarea"},
        ],
        "channels": [{"code": "ecommerce", "locales": ["en_US", "fr_FR"], "currencies": ["EUR"]}],
        "locales": [{"code": "en_US", "enabled": True}, {"code": "fr_FR", "enabled": True}],
        "currencies": [{"code": "EUR", "enabled": True}, {"code": "USD", "enabled": True}],
        "measurement_families": [
            {
                "code": "Weight",
                "units": {
                    "GRAM": {"code": "GRAM", "symbol": "g"},
                    "KILOGRAM": {"code": "KILOGRAM", "symbol": "kg"},
                },
            }
        ],
    }
)
UUID1 = "25566245-55c3-42ce-86d9-8610ac459fa8"
UUID2 = "fc24e6c3-933c-4a93-8a81-e5c703d134d5"


def decoder(header: list[str], **options: Any) -> RowDecoder:
    has_data = options.pop("column_has_data", None)
    opts = ExportOptions(**options)
    layout = resolve_headers("feed.csv", header, CATALOG, opts, column_has_data=has_data)
    return RowDecoder(layout, opts)


def line(header: list[str], cells: list[str], **options: Any) -> ProductLine:
    result = decoder(header, **options).decode(Row(2, tuple(cells)))
    assert isinstance(result, ProductLine), result
    return result


def body(header: list[str], cells: list[str], **options: Any) -> dict[str, Any]:
    data: dict[str, Any] = orjson.loads(line(header, cells, **options).body)
    return data


def problems(header: list[str], cells: list[str], **options: Any) -> tuple[str, ...]:
    result = decoder(header, **options).decode(Row(7, tuple(cells)))
    assert isinstance(result, LineError), result
    assert result.row == 7
    return result.problems


def value(data: Any, locale: str | None = None, scope: str | None = None) -> dict[str, Any]:
    return {"locale": locale, "scope": scope, "data": data}


# -- payload shape -------------------------------------------------------------------


def test_products_payload() -> None:
    header = [
        "Name~fr_FR",
        "sku",
        "family",
        "categories",
        "enabled",
        "groups",
        "parent",
        "uuid",
        "name~en_US",
        "description~en_US~ecommerce",
        "meta~ecommerce",
        "price@currency",
        "weight@unit",
        "color",
        "material",
        "stock",
        "is_new",
        "associations~X_SELL~products",
        "associations~X_SELL~groups",
        "quantified_associations~PACK~products",
        "associations~UPSELL~product_models",
    ]
    cells = [
        "Robe",
        " SKU-1 ",
        "dresses",
        "women<###>sale",
        "TRUE",
        "promo",
        "model_1",
        UUID1,
        "Dress",
        "A long dress",
        "Buy it",
        "740.00 EUR<###>800 USD",
        "3 kg",
        " red ",
        "cotton<###>silk",
        "12",
        "0",
        "SKU-2<###>SKU-3",
        "summer",
        "SKU-4|2<###>SKU-5|1",
        "model_9",
    ]
    result = line(header, cells)
    assert result.row == 2
    assert result.key == "SKU-1"
    expected = {
        "identifier": "SKU-1",
        "family": "dresses",
        "categories": ["women", "sale"],
        "enabled": True,
        "groups": ["promo"],
        "parent": "model_1",
        "uuid": UUID1,
        "values": {
            "Name": [value("Robe", "fr_FR"), value("Dress", "en_US")],
            "description": [value("A long dress", "en_US", "ecommerce")],
            "meta": [value("Buy it", None, "ecommerce")],
            "price": [
                value(
                    [{"amount": "740.00", "currency": "EUR"}, {"amount": "800", "currency": "USD"}]
                )
            ],
            "weight": [value({"amount": "3", "unit": "KILOGRAM"})],
            "color": [value("red")],
            "material": [value(["cotton", "silk"])],
            "stock": [value(12)],
            "is_new": [value(False)],
        },
        "associations": {
            "X_SELL": {"products": ["SKU-2", "SKU-3"], "groups": ["summer"]},
            "UPSELL": {"product_models": ["model_9"]},
        },
        "quantified_associations": {
            "PACK": {
                "products": [
                    {"identifier": "SKU-4", "quantity": 2},
                    {"identifier": "SKU-5", "quantity": 1},
                ]
            }
        },
    }
    # the exact bytes: key order is part of the contract (stable golden files)
    assert result.body == orjson.dumps(expected)


def test_products_uuid_payload() -> None:
    header = [
        "sku",
        "uuid",
        "family",
        "associations~X_SELL~products",
        "quantified_associations~PACK~products",
        "quantified_associations~PACK~product_models",
        "associations~X_SELL~product_uuids",
    ]
    cells = [" SKU-1 ", f" {UUID1}", "shoes", UUID2, f"{UUID2}|3", "model_1|1", UUID1]
    result = line(header, cells, entity="products-uuid")
    assert result.key == UUID1
    assert orjson.loads(result.body) == {
        "uuid": UUID1,
        "family": "shoes",
        # the identifier is a value here, sent as read like any identifier attribute
        "values": {"sku": [value(" SKU-1 ")]},
        "associations": {"X_SELL": {"products": [UUID2], "product_uuids": [UUID1]}},
        "quantified_associations": {
            "PACK": {
                "products": [{"uuid": UUID2, "quantity": 3}],
                "product_models": [{"identifier": "model_1", "quantity": 1}],
            }
        },
    }
    assert list(orjson.loads(result.body)) == [
        "uuid",
        "family",
        "values",
        "associations",
        "quantified_associations",
    ]


def test_product_models_payload() -> None:
    header = ["family_variant", "code", "parent", "categories", "name~en_US", "add_categories"]
    header[3] = "remove_categories"
    cells = ["shoes_by_size", " model_1 ", "root_1", "old", "Model", ""]
    data = body(header, cells, entity="product-models")
    assert list(data) == ["code", "family_variant", "parent", "remove_categories", "values"]
    assert data == {
        "code": "model_1",
        "family_variant": "shoes_by_size",
        "parent": "root_1",
        "remove_categories": ["old"],
        "values": {"Name": [value("Model", "en_US")]},
    }


def test_identifier_column_beats_the_attribute_column() -> None:
    data = body(["color", "identifier", "sku"], ["red", "SKU-1", " SKU-1 "])
    assert data == {"identifier": "SKU-1", "values": {"color": [value("red")]}}


def test_values_follow_the_feed_order_of_first_appearance() -> None:
    data = body(["color", "sku", "name~en_US", "stock", "NAME~fr_FR"], ["red", "S", "a", "1", "b"])
    assert list(data["values"]) == ["color", "Name", "stock"]
    assert data["values"]["Name"] == [value("a", "en_US"), value("b", "fr_FR")]


def test_decoding_is_deterministic_and_rows_do_not_leak() -> None:
    dec = decoder(["sku", "name~en_US", "name~fr_FR", "color"])
    first = dec.decode(Row(2, ("A", "one", "un", "red")))
    second = dec.decode(Row(3, ("B", "", "deux", "")))
    again = dec.decode(Row(2, ("A", "one", "un", "red")))
    assert isinstance(first, ProductLine) and isinstance(second, ProductLine)
    assert isinstance(again, ProductLine)
    assert orjson.loads(second.body) == {
        "identifier": "B",
        "values": {"Name": [value("deux", "fr_FR")]},
    }
    assert first.body == again.body
    assert orjson.loads(first.body)["values"]["color"] == [value("red")]


# -- empty cells -----------------------------------------------------------------------

EMPTY_HEADER = [
    "sku",
    "family",
    "parent",
    "categories",
    "groups",
    "enabled",
    "notes",
    "uuid",
    "name~en_US",
    "material",
    "price@currency",
    "weight@unit",
    "is_new",
    "associations~X~products",
    "quantified_associations~P~products",
]


@pytest.mark.parametrize(
    "blank", ["", "   ", "\t", "<###>"], ids=["empty", "spaces", "tab", "separators"]
)
def test_empty_cells_say_nothing_by_default(blank: str) -> None:
    cells = ["SKU-1"] + [blank] * (len(EMPTY_HEADER) - 1)
    if blank == "<###>":  # separators only: empty for list cells, text for the others
        cells = ["SKU-1", "", "", blank, blank, "", "", "", "", blank, blank, "", "", blank, blank]
    assert body(EMPTY_HEADER, cells) == {"identifier": "SKU-1"}


def test_erase_sends_null_or_empty_lists() -> None:
    cells = ["SKU-1"] + [""] * (len(EMPTY_HEADER) - 1)
    cells[9] = "<###>"  # material: only separators is empty too
    data = body(EMPTY_HEADER, cells, empty_cells="erase")
    assert data == {
        "identifier": "SKU-1",
        "family": None,
        "parent": None,
        "categories": [],
        "groups": [],
        # enabled and uuid say nothing when empty
        "values": {
            "notes": [value(None)],
            "Name": [value(None, "en_US")],
            "material": [value([])],
            "price": [value([])],
            "weight": [value(None)],
            "is_new": [value(None)],
        },
        "associations": {"X": {"products": []}},
        "quantified_associations": {"P": {"products": []}},
    }


def test_erase_never_touches_family_variant_or_category_intents() -> None:
    data = body(
        ["code", "family_variant", "add_categories", "remove_categories"],
        ["m", "", "", "<###>"],
        entity="product-models",
        empty_cells="erase",
    )
    assert data == {"code": "m"}


# -- line errors -----------------------------------------------------------------------


def test_every_bad_cell_is_listed_in_column_order() -> None:
    header = ["sku", "stock", "name~en_US", "is_new", "price@currency", "enabled", "weight@unit"]
    found = problems(header, ["SKU-1", "12.5", "fine", "maybe", "5 XYZ", "yes", "3 parsec"])
    assert found == (
        'stock: decimals are not allowed here, got "12.5"',
        'is_new: expected true, false, 1 or 0, got "maybe"',
        'price@currency: currency XYZ is not enabled in the PIM (enabled: EUR, USD), got "5 XYZ"',
        'enabled: expected true, false, 1 or 0, got "yes"',
        'weight@unit: unknown unit "parsec" for Weight; use one of GRAM (g), KILOGRAM (kg); '
        'got "3 parsec"',
    )


def test_line_errors_name_the_header_trimmed() -> None:
    assert problems([" sku ", " stock "], ["A", "x"]) == ('stock: not a number: "x"',)
    assert problems([" sku "], [" "]) == ("sku: is empty; every row needs one",)


def test_message() -> None:
    error = LineError(4, ("a: one", "b: two"))
    assert error.message == "Not sent: a: one; b: two"


@pytest.mark.parametrize("blank", ["", "  "], ids=["empty", "spaces"])
def test_empty_identifier(blank: str) -> None:
    found = problems(["sku", "stock"], [blank, "x"])
    assert found == ("sku: is empty; every row needs one", 'stock: not a number: "x"')


@pytest.mark.parametrize(
    ("header", "cells", "options", "expected"),
    [
        (
            ["identifier"],
            ["a,b"],
            {},
            'identifier: an identifier may not contain a comma or a semicolon: "a,b"',
        ),
        (
            ["uuid"],
            ["nope"],
            {"entity": "products-uuid"},
            'uuid: not a valid UUID (like 25566245-55c3-42ce-86d9-8610ac459fa8): "nope"',
        ),
        (
            ["code"],
            ["a<###>b"],
            {"entity": "product-models"},
            'code: takes one code, got several: "a<###>b"',
        ),
        (["code"], [""], {"entity": "product-models"}, "code: is empty; every row needs one"),
    ],
    ids=["identifier-comma", "bad-uuid", "two-codes", "empty-code"],
)
def test_bad_keys(
    header: list[str], cells: list[str], options: dict[str, Any], expected: str
) -> None:
    assert problems(header, cells, **options) == (expected,)


SHORT_SKU = Catalog.from_dict(
    {
        "attributes": [
            {
                "code": "sku",
                "type": "pim_catalog_identifier",
                "is_main_identifier": True,
                "max_characters": 5,
            }
        ]
    }
)


@pytest.mark.parametrize(
    ("header", "cell", "expected"),
    [
        ("sku", "ABCDE", "ABCDE"),
        ("identifier", "  ABCDE ", "ABCDE"),  # counted once trimmed, as sent
        (
            "sku",
            "ABCDEF",
            "sku: is 6 characters long, over the limit of 5 set by the identifier attribute "
            'sku: "ABCDEF"',
        ),
        (
            "identifier",
            "\u00e9" * 6,
            "identifier: is 6 characters long, over the limit of 5 set by the identifier "
            'attribute sku: "\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9"',
        ),
        ("sku", "A;B", 'sku: an identifier may not contain a comma or a semicolon: "A;B"'),
    ],
    ids=["at-the-limit", "trimmed-at-the-limit", "over", "over-in-characters", "semicolon"],
)
def test_identifier_within_the_identifier_attributes_max_characters(
    header: str, cell: str, expected: str
) -> None:
    """Regression: the key column skipped max_characters; the PIM refused it after sending."""
    opts = ExportOptions()
    decoder = RowDecoder(resolve_headers("feed.csv", [header], SHORT_SKU, opts), opts)
    result = decoder.decode(Row(2, (cell,)))
    if isinstance(result, LineError):
        assert result.problems == (expected,)
    else:
        assert orjson.loads(result.body) == {"identifier": expected}


def test_identifier_attribute_must_agree_with_identifier() -> None:
    found = problems(["identifier", "sku"], ["SKU-1", "SKU-2"])
    assert found == (
        'sku: differs from identifier "SKU-1", got "SKU-2"; the identifier column wins in '
        "Akeneo, so make them equal or drop one",
    )


@pytest.mark.parametrize(
    ("cells", "expected"),
    [
        (
            ["A", "red", "x"],
            "row has 3 cells but the header has 2: an unquoted delimiter in a cell, "
            "or a value beyond the last column?",
        ),
        (
            ["A", "red", "", "x", " "],
            "row has 4 cells but the header has 2: an unquoted delimiter in "
            "a cell, or a value beyond the last column?",
        ),
        (["A"], "row has 1 cells but the header has 2: a broken quote or a missing delimiter?"),
        ([], "row has 0 cells but the header has 2: a broken quote or a missing delimiter?"),
    ],
    ids=["one-extra", "extra-then-blank", "short", "no-cells"],
)
def test_ragged_rows(cells: list[str], expected: str) -> None:
    assert problems(["sku", "color"], cells) == (expected,)


def test_trailing_blank_cells_are_harmless() -> None:
    assert body(["sku", "color"], ["A", "red", "", "  "]) == {
        "identifier": "A",
        "values": {"color": [value("red")]},
    }


def test_a_line_over_the_limit_is_not_sent() -> None:
    found = problems(["sku", "notes"], ["A", "x" * MAX_LINE_BYTES])
    assert len(found) == 1
    assert found[0].startswith("row: the product line is 1,000,0")
    assert "over the PIM's limit of 1,000,000 bytes per line" in found[0]


def test_a_line_just_under_the_limit_is_sent() -> None:
    overhead = len(orjson.dumps({"identifier": "A", "values": {"notes": [value("")]}}))
    result = line(["sku", "notes"], ["A", "é" * ((MAX_LINE_BYTES - overhead) // 2)])
    assert len(result.body) <= MAX_LINE_BYTES


def test_value_under_an_unchecked_empty_header_is_a_line_error() -> None:
    dec = decoder(["sku", "", "color"])
    result = dec.decode(Row(9, ("A", "surprise", "red")))
    assert isinstance(result, LineError)
    assert result.problems == (
        'column 2 (no header): has a value but no header, "surprise"; name the column or empty it',
    )
    fine = dec.decode(Row(10, ("A", " ", "red")))
    assert isinstance(fine, ProductLine)


# -- properties --------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(text=st.text(min_size=1).filter(lambda t: not t.isspace()))
def test_text_goes_as_read(text: str) -> None:
    data = body(["sku", "notes"], ["A", text])
    assert data["values"]["notes"] == [value(text)]


@settings(max_examples=200, deadline=None)
@given(cells=st.lists(st.text(max_size=12), min_size=4, max_size=4))
def test_decode_never_crashes(cells: list[str]) -> None:
    dec = decoder(["sku", "stock", "price@currency", "material"])
    result = dec.decode(Row(2, tuple(cells)))
    if isinstance(result, LineError):
        assert result.problems and all(": " in p for p in result.problems)
    else:
        assert orjson.loads(result.body)["identifier"] == result.key


# -- variants, mixed feeds, files, associations in two passes ----------------------------

SHOP = Catalog.from_dict(
    {
        "attributes": [
            {"code": "sku", "type": "pim_catalog_identifier", "is_main_identifier": True},
            {"code": "name", "type": "pim_catalog_text"},
            {"code": "color", "type": "pim_catalog_simpleselect"},
            {
                "code": "picture",
                "type": "pim_catalog_image",
                "allowed_extensions": ["jpg", "png"],
                "max_file_size": "5.00",
            },
            {"code": "manual", "type": "pim_catalog_file", "localizable": True},
        ],
        "locales": [{"code": "en_US", "enabled": True}],
    }
)
CODE = "1/d/7/f/" + "1d7f0987000cea4d14908fe679af4e36ea3632ef" + "_front.jpg"
MIXED = ["entity", "code", "sku", "parent", "family_variant", "enabled", "name", "color"]


def shop(header: list[str], **options: Any) -> RowDecoder:
    opts = ExportOptions(**options)
    return RowDecoder(resolve_headers("feed.csv", header, SHOP, opts), opts)


MIXED_ROWS = [
    # id, cells, expected entity, key, body (or problems)
    (
        "root-model",
        ["product_model", "tee", "", "", "clothing_size", "", "Tee", ""],
        "product-models",
        {"code": "tee", "family_variant": "clothing_size", "values": {"name": [value("Tee")]}},
    ),
    (
        "sub-model-any-spelling",
        [" Product-Models ", "tee-red", "", "tee", "", "", "", "red"],
        "product-models",
        {"code": "tee-red", "parent": "tee", "values": {"color": [value("red")]}},
    ),
    (
        "variant-product",
        ["PRODUCT", "", "tee-red-m", "tee-red", "", "1", "", ""],
        "products",
        {"identifier": "tee-red-m", "parent": "tee-red", "enabled": True},
    ),
    (
        "model-row-with-product-cells",
        ["product_model", "tee", "tee-sku", "", "", "true", "", ""],
        None,
        (
            'sku: does not apply to a product_model row; leave it empty, got "tee-sku"',
            'enabled: does not apply to a product_model row; leave it empty, got "true"',
        ),
    ),
    (
        "product-row-with-model-cells",
        ["product", "tee", "tee-m", "", "clothing_size", "", "", ""],
        None,
        (
            'code: does not apply to a product row; leave it empty, got "tee"',
            'family_variant: does not apply to a product row; leave it empty, got "clothing_size"',
        ),
    ),
    (
        "empty-entity",
        ["", "tee", "", "", "", "", "", ""],
        None,
        ("entity: is empty; say product or product_model",),
    ),
    (
        "unknown-entity",
        ["variant", "tee", "", "", "", "", "", ""],
        None,
        ('entity: expected product or product_model, got "variant"',),
    ),
]


@pytest.mark.parametrize(
    ("cells", "entity", "expected"),
    [case[1:] for case in MIXED_ROWS],
    ids=[case[0] for case in MIXED_ROWS],
)
def test_mixed_feed_rows(cells: list[str], entity: str | None, expected: Any) -> None:
    result = shop(MIXED).decode(Row(2, tuple(cells)))
    if entity is None:
        assert isinstance(result, LineError)
        assert result.problems == expected
        return
    assert isinstance(result, ProductLine), result
    assert result.entity == entity
    assert orjson.loads(result.body) == expected
    assert result.parent == expected.get("parent")


def test_key_of_reads_only_the_key() -> None:
    dec = shop(MIXED)
    assert dec.key_of(Row(2, ("product_model", " tee ", "", "", "", "", "", ""))) == (
        "product-models",
        "tee",
    )
    assert dec.key_of(Row(3, ("product", "", "tee-m", "", "", "", "", ""))) == ("products", "tee-m")
    assert dec.key_of(Row(4, ("nonsense", "tee", "", "", "", "", "", ""))) is None
    assert dec.key_of(Row(5, ("product", "", " ", "", "", "", "", ""))) is None


def test_parent_erased_makes_a_variant_simple_again() -> None:
    result = shop(["sku", "parent"], empty_cells="erase").decode(Row(2, ("tee-red-m", "")))
    assert isinstance(result, ProductLine)
    assert orjson.loads(result.body) == {"identifier": "tee-red-m", "parent": None}
    assert result.parent is None


MEDIA_CELLS = [
    # id, header, cell, in the body, media ref (source, kind) or a problem
    ("akeneo-code", "picture", f" {CODE} ", {"picture": [value(CODE)]}, None),
    (
        "url",
        "picture",
        "https://cdn.example.com/tee.jpg?v=2",
        None,
        ("https://cdn.example.com/tee.jpg?v=2", "url"),
    ),
    (
        "url-without-extension",
        "picture",
        "HTTP://cdn.example.com/p/123",
        None,
        ("HTTP://cdn.example.com/p/123", "url"),
    ),
    ("relative-path", "picture", "pictures/tee red.png", None, ("pictures/tee red.png", "path")),
    ("localized-file", "manual~en_US", "docs/manual.pdf", None, ("docs/manual.pdf", "path")),
]


@pytest.mark.parametrize(
    ("header", "cell", "values", "media"),
    [case[1:] for case in MEDIA_CELLS],
    ids=[case[0] for case in MEDIA_CELLS],
)
def test_file_cells(
    header: str, cell: str, values: dict[str, Any] | None, media: tuple[str, str] | None
) -> None:
    result = shop(["sku", header]).decode(Row(2, ("tee", cell)))
    assert isinstance(result, ProductLine), result
    assert orjson.loads(result.body).get("values") == values
    if media is None:
        assert result.media == ()
        return
    (ref,) = result.media
    assert (ref.source, ref.kind, ref.header) == (*media, header)
    if header == "picture":
        assert (ref.attribute, ref.locale, ref.image) == ("picture", None, True)
        assert ref.allowed_extensions == frozenset({"jpg", "png"})
        assert ref.max_bytes == 5 * 1024 * 1024
    else:
        assert (ref.attribute, ref.locale, ref.image, ref.max_bytes) == (
            "manual",
            "en_US",
            False,
            None,
        )


@pytest.mark.parametrize(
    ("cell", "problem"),
    [
        (
            "ftp://files.example.com/a.jpg",
            'picture: ftp: links are not fetched; give an http(s) URL, a path relative to the feed\'s folder or a media-file code: "ftp://files.example.com/a.jpg"',
        ),
        (
            "file:///etc/a.jpg",
            'picture: file: links are not fetched; give an http(s) URL, a path relative to the feed\'s folder or a media-file code: "file:///etc/a.jpg"',
        ),
        ("https:///a.jpg", 'picture: not a complete URL (no host): "https:///a.jpg"'),
        (
            "pictures/anim.gif",
            'picture: file type .gif is not allowed here (allowed: jpg, png), got "pictures/anim.gif"',
        ),
    ],
    ids=["ftp", "file-scheme", "no-host", "path-with-a-disallowed-extension"],
)
def test_file_cells_refused_before_sending(cell: str, problem: str) -> None:
    result = shop(["sku", "picture"]).decode(Row(2, ("tee", cell)))
    assert isinstance(result, LineError)
    assert result.problems == (problem,)


def test_an_empty_file_cell_erases_with_erase() -> None:
    result = shop(["sku", "picture"], empty_cells="erase").decode(Row(2, ("tee", "")))
    assert isinstance(result, ProductLine)
    assert orjson.loads(result.body)["values"] == {"picture": [value(None)]}


def test_associations_split_into_two_passes() -> None:
    dec = decoder(
        [
            "sku",
            "color",
            "associations~X_SELL~products",
            "associations~PACK~product_models",
            "quantified_associations~SET~products",
        ]
    )
    result = dec.decode(Row(2, ("A", "red", "B<###>C", "tee", "B|2<###>D|1")))
    assert isinstance(result, ProductLine)
    whole = orjson.loads(result.body)
    first = orjson.loads(first_pass(result))
    second = orjson.loads(second_pass(result, "products") or b"")
    assert first == {"identifier": "A", "values": {"color": [value("red")]}}
    assert set(second) == {"identifier", "associations", "quantified_associations"}
    assert {**first, **second} == whole
    assert link_targets(result) == (
        ("products", "B"),
        ("products", "C"),
        ("product_models", "tee"),
        ("products", "D"),
    )
    plain = line(["sku", "color"], ["A", "red"])
    assert plain.links_at == 0 and first_pass(plain) == plain.body
    assert second_pass(plain, "products") is None and link_targets(plain) == ()


@settings(max_examples=100, deadline=None)
@given(cells=st.lists(st.text(alphabet="ab|<#>12 ", max_size=10), min_size=3, max_size=3))
def test_the_two_passes_always_rebuild_the_line(cells: list[str]) -> None:
    dec = decoder(["sku", "associations~X_SELL~products", "quantified_associations~SET~products"])
    result = dec.decode(Row(2, ("A", *cells[:2])))
    if isinstance(result, LineError):
        return
    merged = {
        **orjson.loads(first_pass(result)),
        **orjson.loads(second_pass(result, "products") or b"{}"),
    }
    assert merged == orjson.loads(result.body)


def test_state_payload_sees_a_changed_picture_url() -> None:
    dec = shop(["sku", "picture"])
    one = dec.decode(Row(2, ("tee", "https://cdn.example.com/v1.jpg")))
    two = dec.decode(Row(3, ("tee", "https://cdn.example.com/v2.jpg")))
    plain = dec.decode(Row(4, ("tee", "")))
    assert isinstance(one, ProductLine) and isinstance(two, ProductLine)
    assert isinstance(plain, ProductLine)
    assert one.body == two.body  # the URL is not in the line
    assert state_payload(one) != state_payload(two)
    assert state_payload(plain) == plain.body


# one row is the sum of its columns: decoding a row gives what decoding each of its
# columns alone gives (the key and entity cells kept), merged in column order. This holds
# for any decoding loop, and catches a column written to the wrong place, a value object
# shared by two columns, a problem lost or a value leaking from one row into the next.

# each column's usual cells (empty, blank and separators-only ones included), so most rows
# decode; one cell of a row may then be replaced by arbitrary text
ROUND_TRIP_COLUMNS: dict[str, list[str]] = {
    "sku": ["A", " B "],
    "family": ["", " ", "shirts"],
    "categories": ["", "a<###>b<###>a", "<###>", "c"],
    "enabled": ["", "true", "0"],
    "groups": ["", "<###>", "g"],
    "parent": ["", "m"],
    "Name~en_US": ["", " ", "x"],
    "name~fr_FR": ["", "y"],
    "description~en_US~ecommerce": ["", "d"],
    "meta~ecommerce": ["", "m"],
    "color": ["", "red", " "],
    "material": ["", "<###>", "a<###>b"],
    "stock": ["", "12", "0012", "1.0"],
    "is_new": ["", "true", "FALSE"],
    "price@currency": ["", "740.00 EUR", "<###>", "12 USD<###>3 EUR"],
    "weight@unit": ["", "3 kg", "4", "0.5 g"],
    "notes": ["", "n"],
    "associations~X_SELL~products": ["", "a<###>b", "<###>"],
    "quantified_associations~SET~products": ["", "x|2", "<###>"],
}
ROUND_TRIP_HEADER = list(ROUND_TRIP_COLUMNS)
CELL_TEXT = st.text(alphabet="ab1-0.,|; EURkg<#>", max_size=8)


@st.composite
def round_trip_cells(draw: st.DrawFn) -> tuple[str, ...]:
    cells = [draw(st.sampled_from(choices)) for choices in ROUND_TRIP_COLUMNS.values()]
    if draw(st.booleans()):
        cells[draw(st.integers(0, len(cells) - 1))] = draw(CELL_TEXT)
    return tuple(cells)


def _merge(into: dict[str, Any], part: dict[str, Any]) -> None:
    """``part``'s keys into ``into``: lists of values appended, sections merged."""
    for key, data in part.items():
        if key == "values":
            for code, entries in data.items():
                into.setdefault("values", {}).setdefault(code, []).extend(entries)
        elif key in ("associations", "quantified_associations"):
            for kind, targets in data.items():
                into.setdefault(key, {}).setdefault(kind, {}).update(targets)
        else:
            into[key] = data


def assert_decodes_columnwise(dec: RowDecoder, row: Row, keep: frozenset[int]) -> None:
    """``row`` decodes as its columns decoded one at a time (``keep``: cells always kept)."""
    cells = row.cells

    def alone(columns: set[int]) -> ProductLine | LineError:
        only = tuple(c if i in keep or i in columns else "" for i, c in enumerate(cells))
        return dec.decode(Row(row.number, only))

    whole = dec.decode(row)
    base = alone(set())
    parts = [alone({i}) for i, cell in enumerate(cells) if i not in keep and cell.strip()]
    failed = [part for part in (base, *parts) if isinstance(part, LineError)]
    if failed:
        assert isinstance(whole, LineError), (row, whole)
        found = {problem for part in failed for problem in part.problems}
        assert set(whole.problems) == found
        assert len(whole.problems) == len(found)
        return
    assert isinstance(whole, ProductLine), (row, whole)
    assert isinstance(base, ProductLine)
    expected = orjson.loads(base.body)
    media = list(base.media)
    for part in parts:
        assert isinstance(part, ProductLine)
        body = orjson.loads(part.body)
        _merge(expected, {k: v for k, v in body.items() if k not in expected or k == "values"})
        media.extend(part.media)
    got = orjson.loads(whole.body)
    assert got == expected
    # values in the order the feed first names their attributes
    assert list(got.get("values", {})) == list(expected.get("values", {}))
    assert (whole.row, whole.key, whole.entity, whole.media) == (
        row.number,
        base.key,
        base.entity,
        tuple(media),
    )


@settings(max_examples=200, deadline=None)
@given(cells=round_trip_cells())
def test_a_row_decodes_as_its_columns_one_at_a_time(cells: tuple[str, ...]) -> None:
    opts = ExportOptions()
    dec = RowDecoder(resolve_headers("feed.csv", ROUND_TRIP_HEADER, CATALOG, opts), opts)
    assert_decodes_columnwise(dec, Row(2, cells), frozenset({0}))


def test_rows_do_not_leak_into_the_next_row() -> None:
    opts = ExportOptions()
    dec = RowDecoder(resolve_headers("feed.csv", ROUND_TRIP_HEADER, CATALOG, opts), opts)
    full = tuple(choices[-1] for choices in ROUND_TRIP_COLUMNS.values())
    bare = ("A",) + ("",) * (len(full) - 1)
    first = dec.decode(Row(2, full))
    assert isinstance(first, ProductLine)
    after = dec.decode(Row(3, bare))
    assert isinstance(after, ProductLine)
    assert orjson.loads(after.body) == {"identifier": "A"}
    again = dec.decode(Row(4, full))
    assert isinstance(again, ProductLine)
    assert again.body == first.body


@pytest.mark.parametrize(
    ("catalog", "header", "keep", "rows"),
    [
        (
            SHOP,
            ["sku", "picture", "manual~en_US", "name"],
            {0},
            [
                ("a", "https://cdn.example.com/a.jpg", "docs/m.pdf", "x"),
                ("b", CODE, "", ""),
                ("c", "ftp://x/a.jpg", "a.exe", "y"),
                ("d", "p.gif", " ", "z"),
            ],
        ),
        (
            SHOP,
            MIXED,
            {0, 1, 2},
            [
                ("product", "", "A", "M", "", "true", "n", "red"),
                ("product_model", "M", "", "", "fv", "", "n", "blue"),
                ("model", "M", "A", "", "fv", "1", "", ""),
                ("thing", "", "", "", "", "", "", ""),
            ],
        ),
    ],
    ids=["media", "mixed-entities"],
)
def test_media_and_mixed_rows_decode_as_their_columns_one_at_a_time(
    catalog: Catalog, header: list[str], keep: set[int], rows: list[tuple[str, ...]]
) -> None:
    opts = ExportOptions()
    dec = RowDecoder(resolve_headers("feed.csv", header, catalog, opts), opts)
    for number, cells in enumerate(rows, 2):
        assert_decodes_columnwise(dec, Row(number, cells), frozenset(keep))


@pytest.mark.parametrize("name", ["apparel.csv", "electronics.xlsx"])
def test_sample_feed_rows_decode_as_their_columns_one_at_a_time(name: str) -> None:
    root = Path(__file__).resolve().parents[2]
    catalog = Catalog.from_file(root / "feed_export" / "data" / "demo_catalog.json")
    opts = ExportOptions()
    with open_feed(root / "sample_feeds" / name) as feed:
        layout = resolve_headers(name, feed.header, catalog, opts)
        rows = list(feed.rows())
    assert len(rows) >= 5
    dec = RowDecoder(layout, opts)
    keep = {layout.key.index}
    if layout.entity_column is not None and layout.model_key is not None:
        keep |= {layout.entity_column.index, layout.model_key.index}
    for row in rows:
        assert_decodes_columnwise(dec, row, frozenset(keep))
