"""Items as the PIM shows them -> cells, by the codecs; a variant row's own values (levels)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from feed_export.catalog.structure import Catalog
from feed_export.config import PullOptions
from feed_export.pull.columns import pull_columns
from feed_export.pull.levels import Levels
from feed_export.pull.rows import RowEncoder

ROOT = Path(__file__).resolve().parents[2]
DEMO = json.loads((ROOT / "feed_export" / "data" / "demo_catalog.json").read_text())
CATALOG = Catalog.from_dict(DEMO)
#: where the demo's product models sit
MODELS = {
    "tee": {"code": "tee", "family_variant": "clothing_color_size", "parent": None},
    "tee_blue": {"code": "tee_blue", "family_variant": "clothing_color_size", "parent": "tee"},
}


def encoder(lookups: list[list[str]] | None = None, **options: Any) -> RowEncoder:
    pull = PullOptions(**options)

    def lookup(codes: Any) -> list[dict[str, Any]]:
        if lookups is not None:
            lookups.append(list(codes))
        return [MODELS[c] for c in codes if c in MODELS]

    columns = pull_columns(CATALOG, pull)
    return RowEncoder(columns, CATALOG, pull, Levels(CATALOG, lookup))


def cells(row: list[str], enc: RowEncoder, **options: Any) -> dict[str, str]:
    header = [c.header for c in pull_columns(CATALOG, PullOptions(**options))]
    return {h: c for h, c in zip(header, row, strict=True) if c}


def value(data: Any, locale: str | None = None, scope: str | None = None) -> list[dict[str, Any]]:
    return [{"locale": locale, "scope": scope, "data": data}]


PRODUCT = {
    "identifier": "TS-1",
    "family": "clothing",
    "parent": None,
    "categories": ["men", "men_tshirts"],
    "groups": [],
    "enabled": False,
    "values": {
        "sku": value("TS-1"),
        "name": value("Tee, \"crew\"", "en_US"),
        "description": value("Soft", "de_DE", "print"),
        "price": value([{"amount": "19.99", "currency": "EUR"}, {"amount": "21.00", "currency": "USD"}]),
        "weight": value({"amount": "180.0000", "unit": "GRAM"}),
        "is_new": value(True),
        "release_date": value("2024-03-01T00:00:00+00:00"),
        "material": value(["cotton", "wool"]),
        "stock_quantity": value(12),
        "size_chart": value([{"size": "m", "chest_cm": "96"}]),
    },
    "associations": {"X_SELL": {"products": ["TS-2"], "product_models": [], "groups": []}},
    "quantified_associations": {"PRODUCT_SET": {"products": [{"identifier": "TS-3", "quantity": 2}],
                                                "product_models": []}},
}  # fmt: skip


def test_a_product_row_as_the_push_writes_it() -> None:
    enc = encoder()
    got = cells(enc.product(PRODUCT), enc)
    assert got == {
        "identifier": "TS-1",
        "family": "clothing",
        "categories": "men<###>men_tshirts",
        "enabled": "false",
        "name~en_US": 'Tee, "crew"',
        "description~de_DE~print": "Soft",
        "price@currency": "19.99 EUR<###>21.00 USD",
        "weight@unit": "180.0000 GRAM",
        "is_new": "true",
        "release_date": "2024-03-01",
        "material": "cotton<###>wool",
        "stock_quantity": "12",
        "size_chart": '[{"size":"m","chest_cm":"96"}]',
        "associations~X_SELL~products": "TS-2",
        "quantified_associations~PRODUCT_SET~products": "TS-3|2",
    }
    assert not enc.left_out and not enc.unwritable


def test_the_value_separator_and_date_format_are_the_pushs_options() -> None:
    enc = encoder(value_separator="|", date_format="dd/MM/yyyy")
    got = cells(enc.product(PRODUCT), enc)
    assert got["categories"] == "men|men_tshirts" and got["release_date"] == "01/03/2024"


def test_a_mixed_row_leaves_the_other_entitys_fields_empty() -> None:
    enc = encoder(entity="all")
    model = {"code": "tee", "family": "clothing", "family_variant": "clothing_color_size",
             "parent": None, "categories": ["men"], "values": {}}  # fmt: skip
    assert cells(enc.model(model), enc, entity="all") == {
        "entity": "product_model",
        "code": "tee",
        "family": "clothing",
        "family_variant": "clothing_color_size",
        "categories": "men",
    }
    product = cells(enc.product(PRODUCT), enc, entity="all")
    assert product["entity"] == "product" and "code" not in product


def test_values_without_a_column_are_counted_unless_a_filter_left_them_out() -> None:
    enc = encoder(families=("accessories",))
    enc.product(PRODUCT)  # release_date and size_chart are not accessories' attributes
    assert enc.left_out == {"release_date": 1, "size_chart": 1}
    chosen = encoder(attributes=("name",), locales=("fr_FR",))
    chosen.product(PRODUCT)
    assert not chosen.left_out  # --attributes and --locales left them out on purpose


def test_data_no_cell_carries_leaves_the_cell_empty_and_is_named() -> None:
    enc = encoder()
    item = {**PRODUCT, "values": {"material": value(["a<###>b"])}}
    got = cells(enc.product(item), enc)
    assert "material" not in got
    assert enc.unwritable == 1 and enc.problems[0].startswith("TS-1: material: not written:")


VARIANT = {
    "identifier": "TS-BLUE-M",
    "family": "clothing",
    "parent": "tee_blue",
    "categories": [],
    "enabled": True,
    "values": {
        "name": value("Tee", "en_US"),  # the root model's
        "color": value("blue"),  # the sub-model's
        "size": value("m"),  # its own
        "ean": value("4006381333931"),  # its own
    },
}


def test_a_variant_product_holds_its_own_level_by_default() -> None:
    lookups: list[list[str]] = []
    enc = encoder(lookups)
    enc._levels.prepare([VARIANT, {**VARIANT, "identifier": "TS-BLUE-L"}])
    got = cells(enc.product(VARIANT), enc)
    assert lookups == [["tee_blue"]]  # the page's parents, asked once
    assert {k: v for k, v in got.items() if k in ("name~en_US", "color", "size", "ean")} == {
        "size": "m",
        "ean": "4006381333931",
    }
    assert not enc.left_out


def test_with_parent_values_a_variant_row_is_flat() -> None:
    enc = encoder(with_parent_values=True)
    got = cells(enc.product(VARIANT), enc, with_parent_values=True)
    assert got["name~en_US"] == "Tee" and got["color"] == "blue" and got["size"] == "m"


@pytest.mark.parametrize(
    ("model", "kept", "dropped"),
    [
        ({"code": "tee", "family_variant": "clothing_color_size", "parent": None},
         "name~en_US", "color"),
        ({"code": "tee_blue", "family_variant": "clothing_color_size", "parent": "tee"},
         "color", "name~en_US"),
    ],
    ids=["root-keeps-common", "sub-model-keeps-its-level"],
)  # fmt: skip
def test_a_product_model_holds_its_own_level(
    model: dict[str, Any], kept: str, dropped: str
) -> None:
    enc = encoder(entity="product-models")
    item = {**model, "family": "clothing", "categories": [],
            "values": {"name": value("Tee", "en_US"), "color": value("blue")}}  # fmt: skip
    got = cells(enc.model(item), enc, entity="product-models")
    assert kept in got and dropped not in got


def test_a_family_variant_the_catalog_lacks_keeps_every_value_and_says_so() -> None:
    levels = Levels(
        CATALOG, lambda codes: [{"code": "x", "family_variant": "gone", "parent": None}]
    )
    levels.prepare([{"parent": "x"}])
    assert levels.product({"parent": "x"}) is None and levels.unknown_variants == {"gone"}
