"""The sandbox PIM's family variants (levels, axes, conflicts), associations to missing
targets and media files on product models, over real loopback HTTP."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from test_sandbox import DOC, Api, v

from feed_export.sandbox import Sandbox, start_sandbox


@pytest.fixture
def api() -> Iterator[Api]:
    with start_sandbox() as sb:
        yield Api(sb)


def _tree(api: Api) -> None:
    """tee (root, clothing_color_size) > tee-red (color) > tee-red-m (size)."""
    results = api.patch(
        "product-models",
        {"code": "tee", "family_variant": "clothing_color_size"},
        {"code": "tee-red", "parent": "tee", "values": {"color": v("red")}},
    )
    assert [r["status_code"] for r in results] == [201, 201]
    assert (
        api.one({"identifier": "tee-red-m", "parent": "tee-red", "values": {"size": v("m")}})[
            "status_code"
        ]
        == 201
    )


def test_two_level_variant_tree_reads_back_with_inherited_values(api: Api) -> None:
    _tree(api)
    api.patch("product-models", {"code": "tee", "values": {"name": v("Tee", "en_US")}})
    shown = api.get("/products/tee-red-m").json()
    assert (shown["parent"], shown["family"]) == ("tee-red", "clothing")
    assert shown["values"]["name"] == v("Tee", "en_US")
    assert shown["values"]["color"] == v("red")
    sub = api.get("/product-models/tee-red").json()
    assert (sub["parent"], sub["family_variant"]) == ("tee", "clothing_color_size")


AXIS_CASES = [
    # id, entity, line, the error entry expected (§2.6 for the conflicts)
    (
        "sub-model-axis-conflict",
        "product-models",
        {"code": "tee-red-2", "parent": "tee", "values": {"color": v("red")}},
        {
            "property": "attribute",
            "message": 'Cannot set value "[red]" for the attribute axis "color" on product model '
            '"tee-red-2", as the product model "tee-red" already has this value',
        },
    ),
    (
        "variant-axis-conflict",
        "products",
        {"identifier": "tee-red-m-2", "parent": "tee-red", "values": {"size": v("m")}},
        {
            "property": "attribute",
            "message": 'Cannot set value "[m]" for the attribute axis "size" on variant product '
            '"tee-red-m-2", as the variant product "tee-red-m" already has this value',
        },
    ),
    (
        "empty-axis",
        "products",
        {"identifier": "tee-red-nosize", "parent": "tee-red"},
        {
            "property": "attribute",
            "message": 'Attribute "size" cannot be empty, as it is defined as an axis for this '
            "entity",
        },
    ),
    (
        "variant-under-the-root-of-two-levels",
        "products",
        {"identifier": "tee-m", "parent": "tee", "values": {"size": v("m")}},
        {
            "property": "parent",
            "message": 'The variant product "tee-m" cannot have product model "tee" as parent, '
            "(this product model can only have other product models as children)",
        },
    ),
    (
        "sub-model-too-deep",
        "product-models",
        {"code": "tee-red-deep", "parent": "tee-red", "values": {"color": v("blue")}},
        {
            "property": "parent",
            "message": 'The product model "tee-red-deep" cannot have the product model '
            '"tee-red" as parent (this product model can only have variant products as '
            "children)",
        },
    ),
]


@pytest.mark.parametrize(
    ("entity", "line", "error"), [c[1:] for c in AXIS_CASES], ids=[c[0] for c in AXIS_CASES]
)
def test_axis_and_level_violations(
    api: Api, entity: str, line: dict[str, Any], error: dict[str, Any]
) -> None:
    _tree(api)
    result = api.one(line, entity)
    assert (result["status_code"], result["message"]) == (422, "Validation failed.")
    assert result["errors"] == [error]


def test_an_update_of_the_same_variant_is_no_conflict_and_a_new_value_is_fine(api: Api) -> None:
    _tree(api)
    again = api.one({"identifier": "tee-red-m", "parent": "tee-red", "values": {"size": v("m")}})
    assert again["status_code"] == 204
    other = {"identifier": "tee-red-l", "parent": "tee-red", "values": {"size": v("l")}}
    assert api.one(other)["status_code"] == 201


def test_associations_to_missing_targets(api: Api) -> None:
    api.one({"identifier": "there"})
    missing = api.one(
        {"identifier": "a", "associations": {"X_SELL": {"products": ["there", "ghost"]}}}
    )
    assert missing["status_code"] == 422
    assert missing["message"] == (
        'Property "associations" expects a valid product identifier. The product does not '
        'exist, "ghost" given.' + DOC
    )
    quantified = api.one(
        {
            "identifier": "b",
            "quantified_associations": {
                "PRODUCT_SET": {"products": [{"identifier": "ghost", "quantity": 2}]}
            },
        }
    )
    assert quantified["errors"] == [
        {
            "property": "quantifiedAssociations.PRODUCT_SET.products",
            "message": "The following products don't exist: ghost. Please make sure the "
            "products haven't been deleted in the meantime.",
        }
    ]
    assert api.get("/products/b").status_code == 404  # a violation saves nothing


def test_media_file_on_a_product_model(api: Api) -> None:
    _tree(api)
    target = {"code": "tee-red", "attribute": "picture", "locale": None, "scope": None}
    r = api.session.post(
        f"{api.sb.url}/api/rest/v1/media-files",
        files={"file": ("red.png", b"\x89PNG", "image/png")},
        data={"product_model": json.dumps(target)},
        headers=api.headers(),
        timeout=10,
    )
    assert r.status_code == 201
    code = r.headers["Location"].split("/media-files/", 1)[1]
    assert api.get("/product-models/tee-red").json()["values"]["picture"] == v(code)
    # the variant product shows the picture it inherits
    assert api.get("/products/tee-red-m").json()["values"]["picture"] == v(code)


def test_sandbox_state_helper_sees_models(api: Api) -> None:
    _tree(api)
    sb: Sandbox = api.sb
    assert [m["code"] for m in sb.state.product_models()] == ["tee", "tee-red"]


# -- values Akeneo removes without a word (ProductAttributeFilter, ProductModelAttributeFilter)
def _own_values(api: Api, entity: str, key: str) -> dict[str, Any]:
    """What the sandbox stored on the item itself, inherited values left out."""
    store = api.sb.store
    if entity == "product-models":
        found = store.product_model(key)
    elif entity == "products":
        found = store.product_by_identifier(key)
    else:
        found = store.product_by_uuid(key)
    assert found is not None
    values: dict[str, Any] = found["values"]
    return values


TEE_RED_L_UUID = "5a0d8f3e-1b7c-4f1e-9a55-0c3f2b6d7e81"
DROPPED = [
    # id, entity, line, status, own attribute codes kept (sku aside)
    (
        "variant-parent-level-values",
        "products",
        {
            "identifier": "tee-red-l",
            "parent": "tee-red",
            "values": {
                "size": v("l"),
                "name": v("Red tee", "en_US"),  # the root model's level
                "color": v("blue"),  # the sub-model's axis
                "picture": v(None),  # the sub-model's level, even as an erase
                "ean": v("4006381333931"),  # the variant's own level
            },
        },
        201,
        {"size", "ean"},
    ),
    (
        "variant-attribute-outside-the-family",
        "products",
        {
            "identifier": "tee-red-l",
            "parent": "tee-red",
            "values": {"size": v("l"), "capacity": v({"amount": 1, "unit": "LITER"})},
        },
        201,
        {"size"},
    ),
    (
        "variant-code-in-another-case",
        "products",
        {"identifier": "tee-red-l", "parent": "tee-red", "values": {"size": v("l"), "EAN": v("1")}},
        201,
        {"size"},
    ),
    (
        "variant-by-uuid",
        "products-uuid",
        {
            "uuid": TEE_RED_L_UUID,
            "parent": "tee-red",
            "values": {"sku": v("tee-red-l"), "size": v("l"), "name": v("Red tee", "en_US")},
        },
        201,
        {"size"},
    ),
    (
        "simple-product-outside-its-family-is-kept",
        "products",
        {
            "identifier": "mug",
            "family": "clothing",
            "values": {"capacity": v({"amount": 1, "unit": "LITER"}), "name": v("Mug", "en_US")},
        },
        201,
        {"capacity", "name"},
    ),
    (
        "simple-product-without-family-is-kept",
        "products",
        {"identifier": "mug", "values": {"waterproof": v(True, None, "ecommerce")}},
        201,
        {"waterproof"},
    ),
    (
        "root-model-keeps-common-attributes",
        "product-models",
        {
            "code": "jacket",
            "family_variant": "clothing_color_size",
            "values": {
                "name": v("Jacket", "en_US"),
                "color": v("red"),  # level 1
                "size": v("m"),  # level 2
                "capacity": v({"amount": 1, "unit": "LITER"}),  # not in the family
            },
        },
        201,
        {"name"},
    ),
    (
        "sub-model-keeps-its-level",
        "product-models",
        {
            "code": "tee-blue",
            "parent": "tee",
            "values": {"color": v("blue"), "size": v("m"), "name": v("Blue", "en_US")},
        },
        201,
        {"color"},
    ),
]


@pytest.mark.parametrize(
    ("entity", "line", "status", "kept"),
    [d[1:] for d in DROPPED],
    ids=[d[0] for d in DROPPED],
)
def test_values_outside_the_level_are_dropped_without_a_word(
    api: Api, entity: str, line: dict[str, Any], status: int, kept: set[str]
) -> None:
    _tree(api)
    result = api.one(line, entity)
    key = {"products": "identifier", "products-uuid": "uuid", "product-models": "code"}[entity]
    assert result == {"line": 1, key: line[key], "status_code": status}
    assert set(_own_values(api, entity, line[key])) - {"sku"} == kept


def test_a_dropped_value_shows_the_parents_and_changes_nothing(api: Api) -> None:
    _tree(api)
    api.patch("product-models", {"code": "tee", "values": {"name": v("Tee", "en_US")}})
    before = api.get("/products/tee-red-m").json()
    # an existing variant is filtered even when the line does not name its parent
    result = api.one({"identifier": "tee-red-m", "values": {"name": v("Other", "en_US")}})
    assert result["status_code"] == 204
    after = api.get("/products/tee-red-m").json()
    assert after["values"]["name"] == v("Tee", "en_US")
    assert after["updated"] == before["updated"]


def test_a_variant_turned_simple_is_not_filtered(api: Api) -> None:
    _tree(api)
    line = {"identifier": "tee-red-m", "parent": None, "values": {"name": v("Loose", "en_US")}}
    assert api.one(line)["status_code"] == 204
    assert _own_values(api, "products", "tee-red-m")["name"] == v("Loose", "en_US")


@pytest.mark.parametrize(
    ("entity", "line", "message"),
    [
        (
            "products",
            {"identifier": "tee-red-l", "parent": "tee-red", "values": {"nope": v("x")}},
            'Property "nope" does not exist.',
        ),
        (
            "product-models",
            {"code": "tee-green", "parent": "tee", "values": {"nope": v("x")}},
            'Property "nope" does not exist.',
        ),
        (
            "products",
            {"identifier": "simple", "values": {"nope": v("x")}},
            "The nope attribute does not exist in your PIM.",
        ),
    ],
    ids=["variant-product", "product-model", "simple-product-updater-text"],
)
def test_an_unknown_attribute_is_refused_by_the_filter_first(
    api: Api, entity: str, line: dict[str, Any], message: str
) -> None:
    _tree(api)
    result = api.one(line, entity)
    assert (result["status_code"], result["message"]) == (422, message + DOC)


def test_a_media_upload_to_a_variant_is_not_filtered(api: Api) -> None:
    _tree(api)  # picture belongs to the sub-model's level
    target = {"identifier": "tee-red-m", "attribute": "picture", "locale": None, "scope": None}
    r = api.session.post(
        f"{api.sb.url}/api/rest/v1/media-files",
        files={"file": ("m.png", b"\x89PNG", "image/png")},
        data={"product": json.dumps(target)},
        headers=api.headers(),
        timeout=10,
    )
    assert r.status_code == 201
    assert "picture" in _own_values(api, "products", "tee-red-m")
