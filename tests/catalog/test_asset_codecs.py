"""The codecs of assets: an asset collection cell (codes and files), an asset's values."""

from __future__ import annotations

import doctest
import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from feed_export.catalog import asset_codecs
from feed_export.catalog.asset_codecs import (
    ASSET_CODE,
    AssetFile,
    asset_collection_codec,
    asset_value_codec,
)
from feed_export.catalog.codecs import EMPTY
from feed_export.catalog.structure import Catalog
from feed_export.config import ExportOptions
from feed_export.errors import CellError

CATALOG: dict[str, Any] = {
    "attributes": [
        {"code": "packshots", "type": "pim_catalog_asset_collection",
         "reference_data_name": "packshots", "max_items_count": 3},
        {"code": "links", "type": "pim_catalog_asset_collection", "reference_data_name": "links"},
        {"code": "localized", "type": "pim_catalog_asset_collection",
         "reference_data_name": "localized"},
        {"code": "ghosts", "type": "pim_catalog_asset_collection", "reference_data_name": "ghosts"},
    ],
    "asset_families": [
        {"code": "packshots", "attribute_as_main_media": "media"},
        {"code": "links", "attribute_as_main_media": "url"},
        {"code": "localized", "attribute_as_main_media": "media"},
    ],
    "asset_attributes": {
        "packshots": [
            {"code": "media", "type": "media_file", "allowed_extensions": ["jpg", "png"]},
            {"code": "alt", "type": "text", "max_characters": 5},
            {"code": "width", "type": "number", "decimals_allowed": False},
            {"code": "ratio", "type": "number", "decimals_allowed": True},
            {"code": "ok", "type": "boolean"},
            {"code": "tag", "type": "single_option"},
            {"code": "tags", "type": "multiple_options"},
        ],
        "links": [{"code": "url", "type": "media_link", "prefix": "https://cdn.test/"}],
        "localized": [{"code": "media", "type": "media_file", "value_per_locale": True}],
    },
}  # fmt: skip
URL = "https://cdn.test/a/front.jpg"


def codec(attribute: str = "packshots", catalog: dict[str, Any] | None = None) -> Any:
    found = Catalog.from_dict(catalog or CATALOG)
    item = found.attribute(attribute)
    assert item is not None
    return asset_collection_codec(item, found, ExportOptions())


def value_codec(code: str) -> Any:
    found = Catalog.from_dict(CATALOG)
    attribute = found.asset_attribute("packshots", code) or found.asset_attribute("links", code)
    assert attribute is not None
    return asset_value_codec(attribute, found, ExportOptions())


def test_the_module_examples() -> None:
    assert doctest.testmod(asset_codecs, raise_on_error=True).attempted >= 10


@pytest.mark.parametrize(
    ("cell", "data"),
    [
        ("front_tee", ["front_tee"]),
        (" a <###> b <###>a<###>", ["a", "b"]),
        (URL, [AssetFile(URL, "url")]),
        ("img/front.jpg", [AssetFile("img/front.jpg", "path")]),
        ("img\\front.PNG", [AssetFile("img\\front.PNG", "path")]),
        ("front.jpg", [AssetFile("front.jpg", "path")]),
        ("img/front", [AssetFile("img/front", "path")]),
        (f"tee_front={URL}", [AssetFile(URL, "url", "tee_front")]),
        (f" tee = {URL}", [AssetFile(URL, "url", "tee")]),
        (f"{URL}?w=1&h=2", [AssetFile(f"{URL}?w=1&h=2", "url")]),
        (f"a<###>{URL}<###>{URL}<###>b", ["a", AssetFile(URL, "url"), "b"]),
        ("<###> <###>", EMPTY),
    ],
    ids=[
        "code", "codes-trimmed-repeats-dropped", "url", "path", "backslash-path",
        "bare-file-name", "folder-no-extension", "named", "named-spaced", "url-with-query",
        "mixed-in-order", "only-separators",
    ],
)  # fmt: skip
def test_asset_collection_items(cell: str, data: Any) -> None:
    assert codec().decode(cell) == data


@pytest.mark.parametrize(
    ("attribute", "cell", "problem"),
    [
        ("packshots", "front-view",
         'not an asset code (letters, digits and underscores) nor a file (a URL, or a path with '
         'its extension): "front-view"'),
        ("packshots", "ftp://cdn.test/a.jpg", "ftp: links are not fetched"),
        ("packshots", "https:///a.jpg", 'not a complete URL (no host): "https:///a.jpg"'),
        ("packshots", "1/2/3/4/0123456789abcdef0123456789abcdef01234567_a.jpg",
         "a media-file code is not an asset: give the asset's code or the file"),
        ("packshots", "img/front.gif",
         'file type .gif is not allowed here (allowed: jpg, png), got "img/front.gif"'),
        ("packshots", "a<###>b<###>c<###>d",
         'holds 4 assets, over this attribute\'s limit of 3: "a<###>b<###>c<###>d"'),
        ("links", "img/front.jpg",
         'asset family links keeps links: give a URL, got "img/front.jpg"'),
        ("links", "https://elsewhere.test/a.jpg",
         'the links of this asset family begin with "https://cdn.test/"; got '
         '"https://elsewhere.test/a.jpg"'),
        ("localized", URL,
         "files become assets here, but the main media of asset family localized has a value "
         "per locale or channel: push such files with an assets feed (--entity assets)"),
        ("ghosts", URL,
         'files become assets here, but asset family "ghosts" is not in the catalog; got'),
    ],
    ids=[
        "not-a-code-nor-a-file", "other-scheme", "no-host", "media-file-code", "extension",
        "too-many", "link-family-path", "link-prefix", "main-media-per-locale",
        "unknown-family",
    ],
)  # fmt: skip
def test_asset_collection_refusals(attribute: str, cell: str, problem: str) -> None:
    with pytest.raises(CellError, match=re.escape(problem)) as caught:
        codec(attribute).decode(cell)
    assert str(caught.value).startswith(problem), str(caught.value)


def test_codes_still_work_without_asset_families_files_do_not() -> None:
    bare = {"attributes": CATALOG["attributes"]}
    assert codec(catalog=bare).decode("a<###>b") == ["a", "b"]
    with pytest.raises(CellError, match="the catalog has no asset families"):
        codec(catalog=bare).decode(URL)


def test_a_link_familys_value_is_the_url_without_its_prefix() -> None:
    (item,) = codec("links").decode("https://cdn.test/tees/front.jpg")
    assert item == AssetFile("https://cdn.test/tees/front.jpg", "url", None, "tees/front.jpg")


@given(st.lists(st.from_regex(r"[A-Za-z0-9_]{1,20}", fullmatch=True), min_size=1, max_size=5))
def test_codes_read_back_as_written(codes: list[str]) -> None:
    unique = list(dict.fromkeys(codes))
    written = codec().encode(unique[:3])
    assert codec().decode(written) == unique[:3]


@pytest.mark.parametrize(
    ("attribute", "cell", "data"),
    [
        ("media", URL, AssetFile(URL, "url")),
        ("media", "img/a.png", AssetFile("img/a.png", "path")),
        ("media", "1/2/3/4/0123456789abcdef0123456789abcdef01234567_a.jpg",
         "1/2/3/4/0123456789abcdef0123456789abcdef01234567_a.jpg"),
        ("url", "https://cdn.test/x.jpg", "x.jpg"),
        ("url", "x.jpg", "x.jpg"),
        ("alt", "Front", "Front"),
        ("width", "12", "12"),
        ("ratio", "1.50", "1.50"),
        ("ok", "TRUE", True),
        ("tag", " red ", "red"),
        ("tags", "red<###>blue", ["red", "blue"]),
    ],
    ids=[
        "file-url", "file-path", "file-code", "link-prefixed", "link-as-data", "text",
        "integer", "decimal", "boolean", "option", "options",
    ],
)  # fmt: skip
def test_asset_values(attribute: str, cell: str, data: Any) -> None:
    assert value_codec(attribute).decode(cell) == data


@pytest.mark.parametrize(
    ("attribute", "cell", "problem"),
    [
        ("alt", "Too long", 'is 8 characters long, over this attribute\'s limit of 5: "Too long"'),
        ("width", "1.5", 'decimals are not allowed here, got "1.5"'),
        ("ok", "yes", 'expected true, false, 1 or 0, got "yes"'),
        ("media", "a.gif", 'file type .gif is not allowed here (allowed: jpg, png), got "a.gif"'),
        ("tag", "a<###>b", 'takes one code, got several: "a<###>b"'),
    ],
    ids=["text-length", "integer", "boolean", "extension", "one-option"],
)
def test_asset_value_refusals(attribute: str, cell: str, problem: str) -> None:
    with pytest.raises(CellError, match=re.escape(problem)) as caught:
        value_codec(attribute).decode(cell)
    assert str(caught.value) == problem


@pytest.mark.parametrize(
    ("cell", "problem"),
    [
        ("tee-front", 'an asset code holds only letters, digits and underscores (at most 255), '
         'got "tee-front"'),
        ("x" * 256, "an asset code holds only letters, digits and underscores (at most 255)"),
    ],
    ids=["dash", "too-long"],
)  # fmt: skip
def test_an_assets_code(cell: str, problem: str) -> None:
    assert ASSET_CODE.decode(" tee_front ") == "tee_front"
    with pytest.raises(CellError, match="an asset code") as caught:
        ASSET_CODE.decode(cell)
    assert str(caught.value).startswith(problem)
