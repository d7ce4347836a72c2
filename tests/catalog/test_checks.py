"""catalog/checks.py: the PIM's checks the catalog answers, per cell and per row."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import DEMO_CATALOG

from feed_export.akeneo.client import SELECT_TYPES
from feed_export.catalog.checks import OPTION_TYPES, CatalogChecks, ModelPlace, ModelTree
from feed_export.catalog.layout import resolve_headers
from feed_export.catalog.structure import Catalog
from feed_export.config import ExportOptions
from feed_export.errors import HeaderError
from feed_export.feed.reader import Row
from feed_export.push.decode import LineError, ProductLine, RowDecoder

DEMO = Catalog.from_file(DEMO_CATALOG)


def _decoder(
    header: list[str],
    catalog: Catalog = DEMO,
    models: ModelTree | None = None,
    **options: Any,
) -> tuple[RowDecoder, CatalogChecks]:
    opts = ExportOptions(**options)
    layout = resolve_headers("feed.csv", header, catalog, opts)
    checks = CatalogChecks(layout, opts, models)
    return RowDecoder(layout, opts, checks=checks), checks


def _decode(header: list[str], cells: list[str], **kw: Any) -> ProductLine | LineError:
    decoder, _ = _decoder(header, **kw)
    return decoder.decode(Row(2, tuple(cells)))


@pytest.mark.parametrize(
    ("header", "cells", "expected"),
    [
        (["sku", "family"], ["A", "Clothing"], '"family":"clothing"'),
        (["sku", "categories"], ["A", "MEN<###>men_Tshirts"], '"categories":["men","men_tshirts"]'),
        (["sku", "color"], ["A", "BLACK"], '"data":"black"'),
        (["sku", "material"], ["A", "Cotton<###>WOOL<###>cotton"], '"data":["cotton","wool"]'),
        (["sku", "groups"], ["A", ""], '{"identifier":"A"}'),
    ],
    ids=["family", "categories", "simple-select", "multi-select-deduplicated", "empty-cell"],
)
def test_known_codes_go_out_in_the_catalogs_spelling(
    header: list[str], cells: list[str], expected: str
) -> None:
    line = _decode(header, cells)
    assert isinstance(line, ProductLine), line
    assert expected in line.body.decode()


@pytest.mark.parametrize(
    ("header", "cells", "problem", "options"),
    [
        (
            ["sku", "family"],
            ["A", "clothng"],
            'family: unknown family "clothng"; did you mean "clothing"?',
            {},
        ),
        (
            ["sku", "family"],
            ["A", "toys"],
            'family: unknown family "toys" (known: accessories, clothing, electronics)',
            {},
        ),
        (
            ["sku", "categories"],
            ["A", "men<###>outlet<###>womn"],
            'categories: unknown categories "outlet", "womn"; did you mean "women"?',
            {},
        ),
        (
            ["sku", "groups"],
            ["A", "promo"],
            'groups: unknown group "promo" (known: none)',
            {},
        ),
        (
            ["sku", "color"],
            ["A", "navy"],
            'color: option "navy" does not exist for color (options: black, blue, green, grey, '
            "red, white)",
            {},
        ),
        (
            ["sku", "color"],
            ["A", "gren"],
            'color: option "gren" does not exist for color; did you mean "green"?',
            {},
        ),
        (
            ["sku", "material"],
            ["A", "cotton<###>kevlar<###>vinyl"],
            'material: options "kevlar", "vinyl" do not exist for material (options: aluminium, '
            "cotton, leather, plastic, polyester, wool)",
            {},
        ),
        (
            ["sku", "color"],
            ["A", "navy"],
            'color: option "navy" does not exist for color (options: black, blue, green, grey, '
            "red, white); color does not allow creating options during import "
            "(enable_option_creation_during_import is off), so --create-missing-options does "
            "not apply to it",
            {"create_missing_options": True},
        ),
    ],
    ids=[
        "family-hint",
        "family-listed",
        "categories",
        "groups",
        "option",
        "option-hint",
        "options",
        "option-not-creatable",
    ],
)
def test_unknown_codes_are_line_errors(
    header: list[str], cells: list[str], problem: str, options: dict[str, Any]
) -> None:
    result = _decode(header, cells, **options)
    assert isinstance(result, LineError)
    assert result.problems == (problem,)
    assert result.columns == (1,)


def test_missing_options_pass_where_the_attribute_allows_creating_them() -> None:
    line = _decode(["sku", "brand", "material"], ["A", "New_Brand", "cotton<###>hemp"],
                   create_missing_options=True)  # fmt: skip
    assert isinstance(line, ProductLine)
    assert '"data":"New_Brand"' in line.body.decode()
    assert '"data":["cotton","hemp"]' in line.body.decode()


def test_checks_agree_with_the_clients_select_types() -> None:
    assert OPTION_TYPES == SELECT_TYPES


def _tree(*places: tuple[str, str | None, str | None], complete: bool = True) -> ModelTree:
    tree = ModelTree(complete=complete)
    for code, variant, parent in places:
        tree.add(ModelPlace(code, variant, parent), in_feed=False)
    return tree


TREE = _tree(
    ("tee", "clothing_color_size", None),
    ("tee-red", None, "tee"),
    ("cap", "clothing_size", None),
)
VARIANT_HEADER = ["sku", "parent", "color", "size", "name~en_US", "ean", "weight@unit"]


@pytest.mark.parametrize(
    ("cells", "outcome"),
    [
        (["V1", "tee-red", "", "m", "", "123", "1 kg"], ()),
        (
            ["V2", "TEE-RED", "", "m", "Red", "", ""],
            (
                "name~en_US not kept: it belongs to the product model level of family variant "
                "clothing_color_size",
            ),
        ),
        (
            ["V3", "tee-red", "red", "m", "", "", ""],
            (
                "color not kept: it belongs to the sub-product model level of family variant "
                "clothing_color_size",
            ),
        ),
        (["V4", "cap", "", "s", "", "1", ""], ()),
        (
            ["V5", "tee-red", "", "", "", "", ""],
            LineError(
                2,
                (
                    "size: is empty, but size is an axis of family variant clothing_color_size: "
                    'a variant product under "tee-red" needs a value',
                ),
                (3,),
            ),
        ),
        (
            ["V6", "tee", "", "m", "", "", ""],
            LineError(
                2,
                (
                    'parent: "tee" is the root product model of family variant '
                    "clothing_color_size, which has 2 levels of variants: a variant product's "
                    "parent is one of its sub-product models",
                ),
                (1,),
            ),
        ),
        (
            ["V7", "tea-red", "", "m", "", "", ""],
            LineError(
                2,
                (
                    'parent: product model "tea-red" does not exist in the PIM nor in this '
                    'feed; did you mean "tee-red"?',
                ),
                (1,),
            ),
        ),
        (["V8", "", "red", "m", "Plain", "", ""], ()),  # a simple product: not filtered
    ],
    ids=[
        "level-attributes",
        "parent-level-value-noted",
        "sub-model-level-value-noted",
        "one-level-variant",
        "axis-empty",
        "wrong-level",
        "unknown-parent-hint",
        "simple-product",
    ],
)
def test_variant_rows(cells: list[str], outcome: tuple[str, ...] | LineError) -> None:
    decoder, _ = _decoder(VARIANT_HEADER, models=TREE)
    result = decoder.decode(Row(2, tuple(cells)))
    if isinstance(outcome, LineError):
        assert result == outcome
    else:
        assert isinstance(result, ProductLine), result
        assert result.notes == outcome


def test_values_the_pim_would_drop_refuse_the_row_when_asked() -> None:
    decoder, _ = _decoder(VARIANT_HEADER, models=TREE, refuse_dropped_values=True)
    result = decoder.decode(Row(2, ("V2", "tee-red", "", "m", "Red", "", "")))
    assert result == LineError(
        2,
        (
            "name~en_US: the PIM would drop this value: it belongs to the product model level "
            "of family variant clothing_color_size; leave it empty on this row "
            "(--refuse-dropped-values)",
        ),
        (4,),
    )


def test_an_unknown_parent_passes_when_the_tree_is_not_complete() -> None:
    decoder, checks = _decoder(VARIANT_HEADER, models=_tree(complete=False))
    assert isinstance(decoder.decode(Row(2, ("V", "nosuch", "", "m", "", "", ""))), ProductLine)
    assert any("no product_models section" in w for w in checks.warnings)


MODEL_HEADER = ["code", "family", "family_variant", "parent", "color", "name~en_US", "ean"]


@pytest.mark.parametrize(
    ("cells", "outcome"),
    [
        (["m1", "clothing", "clothing_color_size", "", "", "Tee", ""], ()),
        (
            ["m2", "", "clothing_color_size", "", "", "Tee", "123"],
            (
                "ean not kept: it belongs to the variant product level of family variant "
                "clothing_color_size",
            ),
        ),
        (
            ["m3", "electronics", "clothing_size", "", "", "", ""],
            LineError(
                2,
                (
                    "family: family variant clothing_size belongs to family clothing, not "
                    '"electronics"',
                ),
                (1,),
            ),
        ),
        (
            ["m4", "", "", "tee", "blue", "Blue", ""],
            (
                "name~en_US not kept: it belongs to the product model level of family variant "
                "clothing_color_size",
            ),
        ),
        (
            ["m5", "", "clothing_size", "tee", "blue", "", ""],
            LineError(
                2,
                (
                    'family_variant: "clothing_size" is not the family variant of its parent '
                    '"tee" (clothing_color_size); leave it empty or make them equal',
                ),
                (2,),
            ),
        ),
        (
            ["m6", "", "", "tee-red", "blue", "", ""],
            LineError(
                2,
                (
                    'parent: "tee-red" is a sub-product model: its children are variant '
                    "products, not product models",
                ),
                (3,),
            ),
        ),
        (
            ["m7", "", "", "cap", "", "", ""],
            LineError(
                2,
                (
                    'parent: "cap" is the root of family variant clothing_size, which has one '
                    "level of variants: its children are variant products, not product models",
                ),
                (3,),
            ),
        ),
        (
            ["m8", "", "", "tee", "", "", ""],
            LineError(
                2,
                (
                    "color: is empty, but color is an axis of family variant "
                    'clothing_color_size: a sub-product model under "tee" needs a value',
                ),
                (4,),
            ),
        ),
    ],
    ids=[
        "root",
        "root-drops-a-variant-value",
        "family-of-another-variant",
        "sub-model-drops-a-common-value",
        "sub-model-in-another-variant",
        "sub-model-too-deep",
        "one-level-variant-takes-no-sub-model",
        "sub-model-axis-empty",
    ],
)
def test_product_model_rows(cells: list[str], outcome: tuple[str, ...] | LineError) -> None:
    decoder, _ = _decoder(MODEL_HEADER, models=TREE, entity="product-models")
    result = decoder.decode(Row(2, tuple(cells)))
    if isinstance(outcome, LineError):
        assert result == outcome
    else:
        assert isinstance(result, ProductLine), result
        assert result.notes == outcome


def test_model_tree_levels_and_family_variants() -> None:
    tree = _tree(("a", "fv", None), ("b", None, "a"), ("c", None, "B"), ("loop", None, "loop"))
    assert [tree.level(code) for code in ("a", "B", "c", "x", "loop")] == [0, 1, 2, None, None]
    assert [tree.family_variant(code) for code in ("a", "b", "C", "x")] == ["fv", "fv", "fv", None]
    feed_first = ModelTree.build(DEMO, [ModelPlace("a", None, None)], asked_pim=True)
    assert feed_first.complete and feed_first.in_feed("A") and not feed_first.in_pim("a")


@pytest.mark.parametrize(
    ("header", "dropped", "warned"),
    [
        (["sku", "family"], "families", "family codes"),
        (["sku", "categories"], "categories", "category codes"),
        (["sku", "groups"], "groups", "the PIM's API does not list product groups"),
        (["sku", "color"], "attribute_options", "options of color"),
        (["sku", "parent"], "family_variants", "variant levels and axes"),
        (["sku", "parent"], "product_models", "parents that are not rows of this feed"),
    ],
    ids=["families", "categories", "groups", "options", "variants", "product-models"],
)
def test_a_catalog_without_a_section_warns_and_skips_its_check(
    header: list[str], dropped: str, warned: str
) -> None:
    data = DEMO.to_dict()
    data.pop(dropped, None)
    catalog = Catalog.from_dict(data)
    models = ModelTree.build(catalog)
    decoder, checks = _decoder(header, catalog, models)
    assert any(f"no {dropped} section" in w and warned in w for w in checks.warnings), (
        checks.warnings
    )
    line = decoder.decode(Row(2, ("A", "nosuch")))
    if dropped != "family_variants":  # (the parent then still has to exist)
        assert isinstance(line, ProductLine), line


def test_a_full_catalog_warns_about_nothing() -> None:
    _, checks = _decoder(
        ["sku", "family", "categories", "color", "parent", "groups"],
        models=ModelTree.build(DEMO),
    )
    assert checks.warnings == []


def test_options_not_listed_for_an_attribute_are_named() -> None:
    data = DEMO.to_dict()
    data["attribute_options"] = {"color": ["black"]}
    _, checks = _decoder(["sku", "color", "size"], Catalog.from_dict(data))
    assert checks.warnings == [
        "the catalog lists no options for size (attribute_options): their options are not "
        "checked before sending; the PIM will check them"
    ]


@pytest.mark.parametrize(
    ("header", "problem"),
    [
        (
            "associations~X_SEL~products",
            'column 2 "associations~X_SEL~products": unknown association type "X_SEL"; '
            'did you mean "X_SELL"?',
        ),
        (
            "associations~PRODUCT_SET~products",
            'column 2 "associations~PRODUCT_SET~products": PRODUCT_SET is a quantified '
            "association type: name the column quantified_associations~PRODUCT_SET~products",
        ),
        (
            "quantified_associations~pack~products",
            'column 2 "quantified_associations~pack~products": PACK is not a quantified '
            "association type: name the column associations~PACK~products",
        ),
    ],
    ids=["unknown", "quantified-as-plain", "plain-as-quantified"],
)
def test_association_types_are_checked_with_the_header(header: str, problem: str) -> None:
    with pytest.raises(HeaderError, match="association type") as caught:
        resolve_headers("feed.csv", ["sku", header], DEMO, ExportOptions())
    assert caught.value.problems == [problem]


def test_association_types_take_the_catalogs_spelling() -> None:
    line = _decode(["sku", "associations~x_sell~products"], ["A", "B"])
    assert isinstance(line, ProductLine)
    assert b'"associations":{"X_SELL":{"products":["B"]}}' in line.body


def test_a_cell_error_of_the_codec_comes_first() -> None:
    result = _decode(["sku", "color"], ["A", "navy<###>black"])
    assert isinstance(result, LineError)
    assert result.problems == ('color: takes one code, got several: "navy<###>black"',)
