"""Asset families and their attributes in the catalog: the file's shape, lookups, checks."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from conftest import DEMO_CATALOG

from feed_export.catalog.structure import Catalog, write_catalog
from feed_export.errors import ConfigError

BASE: dict[str, Any] = {"attributes": [{"code": "sku", "type": "pim_catalog_identifier"}]}
FAMILIES = [
    {"code": "packshots", "attribute_as_main_media": "media", "labels": {"en_US": "P"}},
    {"code": "Links", "attribute_as_main_media": "url"},
]
ATTRIBUTES = {
    "packshots": [
        {"code": "media", "type": "media_file", "allowed_extensions": ["jpg"], "max_file_size": 2},
        {"code": "alt", "type": "text", "value_per_locale": True, "max_characters": 10},
    ],
    "Links": [{"code": "url", "type": "media_link", "prefix": "https://cdn.test/"}],
}


def catalog(**sections: Any) -> Catalog:
    return Catalog.from_dict({**BASE, **sections})


def test_families_and_their_attributes_are_found_in_any_case() -> None:
    found = catalog(asset_families=FAMILIES, asset_attributes=ATTRIBUTES)
    assert found.has("asset_families")
    family = found.asset_family("PACKSHOTS")
    assert family is not None and family.code == "packshots"
    media = found.main_media("packshots")
    assert media is not None and (media.type, media.allowed_extensions) == ("media_file", ("jpg",))
    assert media.max_file_size == "2"  # a number in a hand-written file, text as the API has it
    link = found.main_media("links")
    assert link is not None and (link.type, link.prefix) == ("media_link", "https://cdn.test/")
    assert [a.code for a in found.asset_attributes_of("Packshots")] == ["media", "alt"]
    alt = found.asset_attribute("packshots", "ALT")
    assert alt is not None and alt.value_per_locale and alt.max_characters == 10


def test_absent_sections_are_unknown_not_empty() -> None:
    found = catalog()
    assert not found.has("asset_families")
    assert found.asset_family("packshots") is None
    assert found.main_media("packshots") is None
    assert found.asset_attributes_of("packshots") == ()
    assert catalog(asset_families=[]).has("asset_families")


def test_a_family_without_its_attributes_has_no_main_media() -> None:
    found = catalog(asset_families=FAMILIES)
    assert found.asset_family("packshots") is not None
    assert found.main_media("packshots") is None


@pytest.mark.parametrize(
    ("sections", "problem"),
    [
        ({"asset_families": {"code": "x"}}, "asset_families: expected a list of items, got dict"),
        ({"asset_families": [{"labels": {}}]}, "asset_families[0]: code: Field required"),
        (
            {"asset_families": [{"code": "a"}, {"code": "A"}]},
            'asset_families[1] (code "A"): code "A" appears twice (also asset_families[0])',
        ),
        (
            {"asset_attributes": []},
            "asset_attributes: expected an object of asset family code -> its attributes, got list",
        ),
        (
            {"asset_attributes": {"packshots": [{"code": "media"}]}},
            'asset_attributes.packshots[0] (code "media"): type: Field required',
        ),
        (
            {"asset_attributes": {"packshots": "media"}},
            "asset_attributes.packshots: expected a list of items, got str",
        ),
    ],
    ids=["not-a-list", "no-code", "twice", "attributes-not-an-object", "no-type", "not-items"],
)
def test_invalid_asset_sections_name_the_item(sections: dict[str, Any], problem: str) -> None:
    with pytest.raises(ConfigError, match="invalid catalog") as caught:
        catalog(**sections)
    assert problem in str(caught.value)


def test_written_and_read_back_alike() -> None:
    data = {**BASE, "asset_families": FAMILIES, "asset_attributes": ATTRIBUTES}
    buffer = io.StringIO()
    counts = write_catalog(buffer, data)
    assert counts["asset_families"] == 2 and counts["asset_attributes"] == 3
    text = buffer.getvalue()
    assert text.index('"asset_families"') < text.index('"asset_attributes"')
    again = Catalog.from_dict(json.loads(text))
    assert again.to_dict() == Catalog.from_dict(data).to_dict()
    assert again.to_dict()["asset_attributes"]["Links"][0]["prefix"] == "https://cdn.test/"


def test_a_catalog_built_in_code_writes_its_asset_sections() -> None:
    found = catalog(asset_families=FAMILIES, asset_attributes=ATTRIBUTES)
    rebuilt = Catalog(
        attributes=found.attributes,
        asset_families=found.asset_families,
        asset_attributes=found.asset_attributes,
    )
    out = rebuilt.to_dict()
    assert [f["code"] for f in out["asset_families"]] == ["packshots", "Links"]
    assert [a["code"] for a in out["asset_attributes"]["packshots"]] == ["media", "alt"]
    assert Catalog(attributes=found.attributes, asset_families=[]).to_dict()["asset_families"] == []


def test_the_demo_catalog_has_a_packshots_family_of_files() -> None:
    demo = Catalog.from_file(DEMO_CATALOG)
    media = demo.main_media("packshots")
    assert media is not None and media.type == "media_file" and media.media_type == "image"
    attribute = demo.attribute("packshots")
    assert attribute is not None and attribute.reference_data_name == "packshots"
