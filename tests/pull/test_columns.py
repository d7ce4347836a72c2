"""The header of a pulled feed: the push grammar's columns, in order, that a push reads back."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feed_export.catalog.layout import resolve_headers
from feed_export.catalog.structure import Catalog
from feed_export.config import ExportOptions, PullOptions
from feed_export.errors import ConfigError
from feed_export.pull.columns import attribute_order, pull_columns, value_slots

ROOT = Path(__file__).resolve().parents[2]
DEMO = json.loads((ROOT / "feed_export" / "data" / "demo_catalog.json").read_text())
CATALOG = Catalog.from_dict(DEMO)


def headers(**options: Any) -> list[str]:
    return [c.header for c in pull_columns(CATALOG, PullOptions(**options))]


@pytest.mark.parametrize(
    ("entity", "fields"),
    [
        ("products", ["identifier", "family", "parent", "categories", "enabled", "groups"]),
        ("product-models", ["code", "family", "family_variant", "parent", "categories"]),
        (
            "all",
            ["entity", "identifier", "code", "family", "family_variant", "parent",
             "categories", "enabled", "groups"],
        ),
    ],
    ids=["products", "product-models", "all"],
)  # fmt: skip
def test_the_fields_come_first_in_the_issue_order(entity: str, fields: list[str]) -> None:
    assert headers(entity=entity)[: len(fields)] == fields
    assert headers(entity=entity)[len(fields)] == "brand"  # then the first attribute


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("ean", ["ean"]),
        ("name", ["name~de_DE", "name~en_US", "name~fr_FR"]),
        ("meta_title", ["meta_title~ecommerce", "meta_title~print"]),
        (
            "description",
            ["description~de_DE~ecommerce", "description~en_US~ecommerce",
             "description~fr_FR~ecommerce", "description~de_DE~print", "description~en_US~print"],
        ),
        ("price", ["price@currency"]),
        ("weight", ["weight@unit"]),
        ("legal_notice", ["legal_notice~de_DE", "legal_notice~fr_FR"]),  # locale-specific
    ],
    ids=["plain", "localizable", "scopable", "both", "price", "metric", "locale-specific"],
)  # fmt: skip
def test_each_attribute_gets_a_column_per_locale_and_channel(
    code: str, expected: list[str]
) -> None:
    assert headers(attributes=(code,))[6:] == expected + headers(attributes=("ean",))[7:]


def test_locales_and_channels_narrow_the_columns() -> None:
    got = headers(attributes=("description", "name"), locales=("en_US",), channels=("print",))
    assert got[6:8] == ["description~en_US~print", "name~en_US"]


def test_the_families_order_and_the_identifier_attribute_left_out() -> None:
    order = [a.code for a in attribute_order(CATALOG, PullOptions(families=("electronics",)))]
    family = CATALOG.family("electronics")
    assert family is not None
    assert order == [c for c in family.attributes if c != "sku"]


def test_several_families_keep_the_first_met_order_without_repeats() -> None:
    order = [a.code for a in attribute_order(CATALOG, PullOptions())]
    assert len(order) == len(set(order))
    assert "sku" not in order and {"capacity", "fabrics"} <= set(order)


def test_group_order_puts_each_group_together_by_sort_order() -> None:
    order = attribute_order(CATALOG, PullOptions(column_order="groups"))
    groups = {a["code"]: (a["group"], a["sort_order"]) for a in DEMO["attributes"]}
    seen: list[str] = []
    for attribute in order:
        group = groups[attribute.code][0]
        if not seen or seen[-1] != group:
            assert group not in seen, f"group {group} split"
            seen.append(group)
    within = [groups[a.code][1] for a in order if groups[a.code][0] == "marketing"]
    assert within == sorted(within)


def test_associations_per_type_last() -> None:
    got = headers()
    assert got[-3:] == [
        "associations~X_SELL~products",
        "associations~X_SELL~product_models",
        "associations~X_SELL~groups",
    ]
    assert "quantified_associations~PRODUCT_SET~products" in got
    assert "quantified_associations~PRODUCT_SET~groups" not in got


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"families": ("clothng",)}, "unknown family \"clothng\" (did you mean 'clothing'?)"),
        ({"attributes": ("nmae",)}, "unknown attribute \"nmae\" (did you mean 'name'?)"),
        ({"locales": ("es_ES",)}, 'unknown activated locale "es_ES"'),
        ({"channels": ("web",)}, 'unknown channel "web"; the PIM\'s channels: ecommerce, print'),
    ],
    ids=["family", "attribute", "locale-not-activated", "channel"],
)
def test_unknown_codes_are_refused_with_a_hint(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match="unknown") as caught:
        pull_columns(CATALOG, PullOptions(**options))
    assert message in str(caught.value)


@settings(max_examples=40, deadline=None)
@given(
    entity=st.sampled_from(["products", "product-models", "all"]),
    locales=st.lists(st.sampled_from(["de_DE", "en_US", "fr_FR"]), unique=True),
    channels=st.lists(st.sampled_from(["ecommerce", "print"]), unique=True),
    families=st.lists(st.sampled_from(["clothing", "electronics", "accessories"]), unique=True),
)
def test_a_push_reads_every_pulled_header_back(
    entity: str, locales: list[str], channels: list[str], families: list[str]
) -> None:
    options = PullOptions(entity=entity, locales=tuple(locales), channels=tuple(channels),  # type: ignore[arg-type]
                          families=tuple(families))  # fmt: skip
    header = [c.header for c in pull_columns(CATALOG, options)]
    push_entity = "product-models" if entity == "product-models" else "products"
    layout = resolve_headers("pulled", header, CATALOG, ExportOptions(entity=push_entity))
    assert [c.header for c in layout.columns] == header


def test_value_slots_follow_the_locale_filter() -> None:
    attribute = CATALOG.attribute("name")
    assert attribute is not None
    assert value_slots(attribute, CATALOG, ("fr_FR",)) == [("fr_FR", None)]
