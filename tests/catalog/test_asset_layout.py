"""An assets feed's header resolved against its asset family's attributes."""

from __future__ import annotations

import doctest
from typing import Any

import pytest

from feed_export.catalog import asset_layout
from feed_export.catalog.asset_layout import resolve_asset_headers
from feed_export.catalog.structure import Catalog
from feed_export.config import ExportOptions
from feed_export.errors import HeaderError

CATALOG: dict[str, Any] = {
    "attributes": [{"code": "sku", "type": "pim_catalog_identifier"}],
    "locales": [
        {"code": "en_US"},
        {"code": "fr_FR"},
        {"code": "de_DE", "enabled": False},
    ],
    "channels": [
        {"code": "ecommerce", "locales": ["en_US", "fr_FR"]},
        {"code": "print", "locales": ["en_US"]},
    ],
    "asset_families": [{"code": "packshots", "attribute_as_main_media": "media"}],
    "asset_attributes": {
        "packshots": [
            {"code": "media", "type": "media_file"},
            {"code": "alt_text", "type": "text", "value_per_locale": True},
            {"code": "crop", "type": "media_file", "value_per_channel": True},
            {"code": "notice", "type": "text", "value_per_locale": True, "value_per_channel": True},
        ]
    },
}


def resolve(header: list[str], family: str = "packshots", **options: Any) -> Any:
    catalog = Catalog.from_dict(options.pop("catalog", CATALOG))
    chosen = ExportOptions(entity="assets", asset_family=family, **options)
    return resolve_asset_headers("assets.csv", header, catalog, chosen)


def test_the_module_example() -> None:
    assert doctest.testmod(asset_layout, raise_on_error=True).attempted >= 3


def test_columns_in_the_catalogs_spelling() -> None:
    layout = resolve(
        [
            "Code",
            "MEDIA",
            "alt_text~FR_fr",
            "crop~Print",
            "notice~en_US~ecommerce",
            "akeneo_message",
        ]
    )
    assert layout.entity == "assets" and layout.key.index == 0
    assert [(c.kind, c.name, c.locale, c.scope) for c in layout.columns] == [
        ("key", "code", None, None),
        ("asset_value", "media", None, None),
        ("asset_value", "alt_text", "fr_FR", None),
        ("asset_value", "crop", None, "print"),
        ("asset_value", "notice", "en_US", "ecommerce"),
    ]
    assert layout.columns[1].asset_attribute is not None
    assert layout.columns[1].asset_attribute.type == "media_file"


@pytest.mark.parametrize(
    ("header", "problem"),
    [
        (["media"], 'no code column: the rows of an assets feed are identified by "code"'),
        (
            ["code", "alt_txt~en_US"],
            'column 2 "alt_txt~en_US": unknown attribute "alt_txt" of asset family packshots; '
            'did you mean "alt_text"?',
        ),
        (
            ["code", "colour"],
            'column 2 "colour": unknown attribute "colour" of asset family packshots; its '
            "attributes: media, alt_text, crop, notice",
        ),
        (
            ["code", "alt_text"],
            'column 2 "alt_text": alt_text has a value per locale, so its column is '
            "alt_text~<locale>",
        ),
        (
            ["code", "media~en_US"],
            'column 2 "media~en_US": media has a value neither per locale nor per channel, so its '
            "column is media",
        ),
        (
            ["code", "alt_text~de_DE"],
            'column 2 "alt_text~de_DE": unknown or inactive locale "de_DE"; activated locales: '
            "en_US, fr_FR",
        ),
        (
            ["code", "crop~web"],
            'column 2 "crop~web": unknown channel "web"; channels: ecommerce, print',
        ),
        (
            ["code", "notice~fr_FR~print"],
            'column 2 "notice~fr_FR~print": locale fr_FR is not bound to channel print',
        ),
        (
            ["code", "media@unit"],
            'column 2 "media@unit": @unit is for product prices and measures; name the column '
            "media",
        ),
        (
            ["code", "family"],
            'column 2 "family": an assets feed has a code column and the attributes of asset '
            "family packshots (media, alt_text, crop, notice); products' fields and "
            "associations do not apply",
        ),
        (
            ["code", "associations~X_SELL~products"],
            'column 2 "associations~X_SELL~products": an assets feed has a code column',
        ),
        (
            ["code", "media", "MEDIA"],
            'column 3 "MEDIA" means the same value as column 2 "media": keep only one of them',
        ),
        (["code", "code"], 'column 2 "code" means the same value as column 1 "code"'),
    ],
    ids=[
        "no-code",
        "did-you-mean",
        "unknown",
        "missing-locale",
        "extra-locale",
        "inactive-locale",
        "unknown-channel",
        "unbound-locale",
        "suffix",
        "product-field",
        "association",
        "twice",
        "code-twice",
    ],
)
def test_header_problems(header: list[str], problem: str) -> None:
    with pytest.raises(HeaderError, match=r"assets\.csv") as caught:
        resolve(header)
    assert any(p.startswith(problem) for p in caught.value.problems), caught.value.problems


def test_every_problem_at_once() -> None:
    with pytest.raises(HeaderError, match="colour") as caught:
        resolve(["media", "colour", "alt_text"])
    assert len(caught.value.problems) == 3


@pytest.mark.parametrize(
    ("family", "catalog", "problem"),
    [
        ("packshot", CATALOG, '--asset-family "packshot": unknown asset family; did you mean '
         '"packshots"?'),
        ("videos", CATALOG, '--asset-family "videos": unknown asset family; asset families: '
         "packshots"),
        ("packshots", {"attributes": []}, '--asset-family "packshots": the catalog has no asset '
         "families"),
    ],
    ids=["did-you-mean", "unknown", "no-asset-manager"],
)  # fmt: skip
def test_the_asset_family_must_exist(family: str, catalog: dict[str, Any], problem: str) -> None:
    with pytest.raises(HeaderError, match="--asset-family") as caught:
        resolve(["code", "media"], family, catalog=catalog)
    assert caught.value.problems[0].startswith(problem)


def test_unknown_columns_may_be_left_out_with_a_warning() -> None:
    layout = resolve(["code", "colour", "media"], ignore_unknown_columns=True)
    assert [c.name for c in layout.columns] == ["code", "media"]
    assert layout.warnings == [
        'ignored 1 column(s) naming no attribute of asset family packshots: column 2 "colour"'
    ]


def test_empty_headers_over_data_are_problems() -> None:
    catalog = Catalog.from_dict(CATALOG)
    options = ExportOptions(entity="assets", asset_family="packshots")
    with pytest.raises(HeaderError, match="no header") as caught:
        resolve_asset_headers(
            "a.csv", ["code", "", ""], catalog, options, column_has_data=[True, True, False]
        )
    assert caught.value.problems == [
        "column 2 has values but no header: name the column or remove it"
    ]
    layout = resolve_asset_headers("a.csv", ["code", ""], catalog, options)
    assert layout.blank_unchecked == (1,)
