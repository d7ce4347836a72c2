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
