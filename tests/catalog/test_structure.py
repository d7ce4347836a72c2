"""The catalog: validation of catalog files, case-insensitive lookups, units."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feed_export.catalog.structure import Attribute, Catalog, MeasurementFamily, Unit, UnitLookup
from feed_export.errors import ConfigError

DEMO_CATALOG = Path(__file__).resolve().parents[2] / "feed_export" / "data" / "demo_catalog.json"


def _units(*pairs: tuple[str, str]) -> dict[str, Any]:
    return {code: {"code": code, "symbol": symbol, "labels": {}} for code, symbol in pairs}


def catalog_data() -> dict[str, Any]:
    return {
        "attributes": [
            {"code": "sku", "type": "pim_catalog_identifier", "is_main_identifier": True},
            {"code": "ean", "type": "pim_catalog_identifier"},
            {
                "code": "Description",
                "type": "pim_catalog_textarea",
                "localizable": True,
                "scopable": True,
                "available_locales": None,
            },
            {
                "code": "stock",
                "type": "pim_catalog_number",
                "number_min": 1,
                "number_max": "100.0000",
                "decimals_allowed": False,
                "negative_allowed": False,
                "labels": {"en_US": "Stock"},
            },
            {
                "code": "weight",
                "type": "pim_catalog_metric",
                "metric_family": "Weight",
                "default_metric_unit": "KILOGRAM",
            },
        ],
        "channels": [
            {
                "code": "ecommerce",
                "locales": ["en_US", "fr_FR"],
                "currencies": ["EUR", "USD"],
                "category_tree": "master",
            },
            {
                "code": "Print",
                "locales": ["de_DE"],
                "currencies": ["EUR"],
                "category_tree": "master",
            },
        ],
        "locales": [
            {"code": "en_US", "enabled": True},
            {"code": "fr_FR", "enabled": True},
            {"code": "de_DE", "enabled": True},
            {"code": "es_ES", "enabled": False},
        ],
        "currencies": [
            {"code": "EUR", "enabled": True, "label": "Euro"},
            {"code": "usd", "enabled": True},
            {"code": "JPY", "enabled": False},
        ],
        "measurement_families": [
            {
                "code": "Weight",
                "standard_unit_code": "KILOGRAM",
                "labels": {"en_US": "Weight"},
                "units": _units(("GRAM", "g"), ("KILOGRAM", "kg"), ("POUND", "lb")),
            },
            {
                "code": "Pressure",
                "standard_unit_code": "BAR",
                "units": _units(("BAR", "Bar"), ("MILLIBAR", "mBar"), ("MEGABAR", "Mbar")),
            },
            {
                "code": "Area",
                "standard_unit_code": "SQUARE_METER",
                "units": _units(("SQUARE_METER", "m²"), ("SQUARE_CENTIMETER", "cm²")),
            },
            {
                "code": "Length",
                "standard_unit_code": "METER",
                "units": _units(("MICROMETER", "μm"), ("METER", "m"), ("MILLIMETER", "mm")),
            },
        ],
        "families": [{"code": "shoes", "attributes": ["sku"], "attribute_as_label": "sku"}],
        "family_variants": [{"code": "shoes_by_size", "variant_attribute_sets": []}],
    }


@pytest.fixture
def catalog() -> Catalog:
    return Catalog.from_dict(catalog_data())


# -- lookups -------------------------------------------------------------------


@pytest.mark.parametrize("code", ["description", "DESCRIPTION", "Description"], ids=str)
def test_attribute_lookup_is_case_insensitive_and_answers_the_catalog_spelling(
    catalog: Catalog, code: str
) -> None:
    attribute = catalog.attribute(code)
    assert attribute is not None
    assert attribute.code == "Description"


def test_lookups(catalog: Catalog) -> None:
    assert catalog.attribute("nope") is None
    assert catalog.attribute_codes == ("sku", "ean", "Description", "stock", "weight")
    channel = catalog.channel("PRINT")
    assert channel is not None and channel.code == "Print"
    assert catalog.channel_codes == ("ecommerce", "Print")
    locale = catalog.locale("ES_es")
    assert locale is not None and locale.code == "es_ES"
    assert catalog.active_locale("FR_fr") == "fr_FR"
    assert catalog.active_locale("es_ES") is None  # exists, not enabled
    assert catalog.active_locales == ("en_US", "fr_FR", "de_DE")
    family = catalog.family("SHOES")
    assert family is not None and family.attribute_as_label == "sku"
    assert catalog.family_variant("Shoes_By_Size") is not None
    measurement = catalog.measurement_family("weight")
    assert measurement is not None and measurement.standard_unit_code == "KILOGRAM"


def test_channel_locale_binding(catalog: Catalog) -> None:
    assert catalog.channel_has_locale("ECOMMERCE", "en_us")
    assert not catalog.channel_has_locale("ecommerce", "de_DE")
    assert not catalog.channel_has_locale("nope", "en_US")


def test_items_are_coerced_and_extra_keys_ignored(catalog: Catalog) -> None:
    description = catalog.attribute("description")
    stock = catalog.attribute("stock")
    assert description is not None and stock is not None
    assert description.available_locales == ()  # null in the API
    assert stock.number_min == "1"  # a number in a hand-written file
    assert Catalog.number_limits(stock) == (Decimal(1), Decimal(100))
    assert not hasattr(stock, "labels")


def test_main_identifier(catalog: Catalog) -> None:
    ident = catalog.identifier_attribute
    assert ident is not None and ident.code == "sku"


@pytest.mark.parametrize(
    ("attributes", "expected"),
    [
        ([{"code": "sku", "type": "pim_catalog_identifier"}], "sku"),
        (
            [
                {"code": "a", "type": "pim_catalog_identifier"},
                {"code": "b", "type": "pim_catalog_identifier"},
            ],
            None,
        ),
        ([{"code": "name", "type": "pim_catalog_text"}], None),
    ],
    ids=["single", "two-without-main", "none"],
)
def test_identifier_attribute_without_main_flag(
    attributes: list[dict[str, Any]], expected: str | None
) -> None:
    ident = Catalog.from_dict({"attributes": attributes}).identifier_attribute
    assert (ident.code if ident else None) == expected


def test_similar_attributes(catalog: Catalog) -> None:
    assert catalog.similar_attributes("descripton") == ["Description"]
    assert catalog.similar_attributes("zzzzzz") == []


def test_currencies_are_the_enabled_ones(catalog: Catalog) -> None:
    assert catalog.checks_currencies
    assert catalog.enabled_currencies == frozenset({"EUR", "USD"})


def test_without_a_currencies_section_the_channels_tell() -> None:
    data = catalog_data()
    del data["currencies"]
    catalog = Catalog.from_dict(data)
    assert catalog.checks_currencies
    assert catalog.enabled_currencies == frozenset({"EUR", "USD"})


def test_without_any_currency_information_nothing_is_checked() -> None:
    catalog = Catalog.from_dict({"attributes": []})
    assert not catalog.checks_currencies


def test_without_a_locales_section_the_channels_tell() -> None:
    data = catalog_data()
    del data["locales"]
    catalog = Catalog.from_dict(data)
    assert catalog.active_locales == ("en_US", "fr_FR", "de_DE")


def test_an_empty_locales_section_activates_nothing() -> None:
    data = catalog_data()
    data["locales"] = []
    assert Catalog.from_dict(data).active_locales == ()


# -- validation ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "fragments"),
    [
        (lambda d: d["attributes"].append({"code": "x"}), ["attributes[5]", '"x"', "type"]),
        (lambda d: d["attributes"].append({"type": "pim_catalog_text"}), ["attributes[5]", "code"]),
        (
            lambda d: d["attributes"].append({"code": "SKU", "type": "pim_catalog_text"}),
            ["attributes[5]", '"SKU"', "appears twice", "attributes[0]"],
        ),
        (
            lambda d: d["attributes"][3].update(localizable="perhaps"),
            ["attributes[3]", '"stock"', "localizable"],
        ),
        (
            lambda d: d["attributes"][3].update(max_characters="lots"),
            ["attributes[3]", "max_characters"],
        ),
        (lambda d: d.update(channels={"code": "x"}), ["channels", "expected a list"]),
        (lambda d: d["channels"].append("ecommerce"), ["channels[2]"]),
        (lambda d: d["locales"].append({"code": "en_us"}), ["locales[4]", "appears twice"]),
        (
            lambda d: d["measurement_families"][0]["units"]["GRAM"].pop("code"),
            ["measurement_families[0]", "units.GRAM.code"],
        ),
    ],
    ids=[
        "missing-type",
        "missing-code",
        "duplicate-code",
        "bad-bool",
        "bad-int",
        "section-not-list",
        "item-not-object",
        "duplicate-locale",
        "unit-without-code",
    ],
)
def test_invalid_catalogs_name_the_item(change: Any, fragments: list[str]) -> None:
    data = catalog_data()
    change(data)
    with pytest.raises(ConfigError, match=f"^cat\\.json: .*{re.escape(fragments[0])}") as caught:
        Catalog.from_dict(data, source="cat.json")
    message = str(caught.value)
    assert message.startswith("cat.json: ")
    for fragment in fragments:
        assert fragment in message


def test_every_problem_is_reported_at_once() -> None:
    data = catalog_data()
    data["attributes"].append({"code": "a"})
    data["channels"].append({"locales": []})
    with pytest.raises(ConfigError, match=r"attributes\[5\]") as caught:
        Catalog.from_dict(data)
    assert "attributes[5]" in str(caught.value) and "channels[2]" in str(caught.value)


def test_not_an_object() -> None:
    with pytest.raises(ConfigError, match="expected a JSON object"):
        Catalog.from_dict([])  # type: ignore[arg-type]


def test_missing_sections_are_empty() -> None:
    catalog = Catalog.from_dict({})
    assert catalog.attributes == () and catalog.channels == () and catalog.active_locales == ()


# -- files -----------------------------------------------------------------------


def test_from_file_and_back(tmp_path: Path) -> None:
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps(catalog_data()), encoding="utf-8")
    catalog = Catalog.from_file(path)
    assert catalog.attribute("SKU") is not None
    again = catalog.to_dict()
    assert again["attributes"] == catalog_data()["attributes"]  # items as given, labels kept
    again["attributes"].clear()
    assert catalog.to_dict()["attributes"], "to_dict hands out a copy"


def test_to_dict_of_a_catalog_built_in_code() -> None:
    catalog = Catalog(attributes=[Attribute(code="sku", type="pim_catalog_identifier")])
    data = catalog.to_dict()
    assert data["attributes"][0]["code"] == "sku"
    assert Catalog.from_dict(data).attribute("sku") is not None


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"catalog file not found: .*nope\.json"):
        Catalog.from_file(tmp_path / "nope.json")


def test_a_folder_is_not_a_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read catalog file"):
        Catalog.from_file(tmp_path)


def test_invalid_json_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{\n  "attributes": [\n    {"code": "sku",}\n  ]\n}\n', encoding="utf-8")
    with pytest.raises(
        ConfigError, match=r"bad\.json: invalid JSON at line 3, column 20"
    ) as caught:
        Catalog.from_file(path)
    assert "bad.json: invalid JSON at line 3, column 20" in str(caught.value)


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.json"
    path.write_bytes('{"attributes": [{"code": "caf\xe9"}]}'.encode("latin-1"))
    with pytest.raises(ConfigError, match="not UTF-8"):
        Catalog.from_file(path)


def test_item_errors_in_a_file_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "cat.json"
    path.write_text('{"attributes": [{"code": 12}]}', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"cat\.json: invalid catalog: attributes\[0\]"):
        Catalog.from_file(path)


def test_demo_catalog_loads() -> None:
    catalog = Catalog.from_file(DEMO_CATALOG)
    assert repr(catalog) == (
        "Catalog(31 attributes, 2 channels, 3 active locales, 4 measurement families)"
    )
    assert catalog.identifier_attribute is not None
    assert catalog.identifier_attribute.code == "sku"
    assert catalog.active_locales == ("de_DE", "en_US", "fr_FR")
    assert {c.code: c.locales for c in catalog.channels} == {
        "ecommerce": ("de_DE", "en_US", "fr_FR"),
        "print": ("de_DE", "en_US"),
    }
    assert catalog.enabled_currencies == {"EUR", "GBP", "USD"}
    assert [f.code for f in catalog.families] == ["clothing", "electronics", "accessories"]
    assert [v.code for v in catalog.family_variants] == ["clothing_color_size", "clothing_size"]
    assert [m.code for m in catalog.measurement_families] == [
        "Length",
        "Weight",
        "Volume",
        "Temperature",
    ]
    description, weight = catalog.attribute("description"), catalog.attribute("weight")
    assert description is not None and (description.localizable, description.scopable) == (
        True,
        True,
    )
    assert weight is not None and (weight.type, weight.metric_family) == (
        "pim_catalog_metric",
        "Weight",
    )
    # one attribute of every type the feed format knows, at least
    assert {a.type.removeprefix("pim_catalog_") for a in catalog.attributes} == {
        "identifier",
        "text",
        "textarea",
        "number",
        "boolean",
        "date",
        "simpleselect",
        "multiselect",
        "price_collection",
        "metric",
        "file",
        "image",
        "table",
        "product_link",
        "pim_reference_data_simpleselect",  # the PIM's own type codes (issue 11)
        "pim_reference_data_multiselect",
        "akeneo_reference_entity",
        "akeneo_reference_entity_collection",
        "asset_collection",
    }


# -- units -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("family", "text", "unit"),
    [
        ("Weight", "KILOGRAM", "KILOGRAM"),
        ("Weight", "kilogram", "KILOGRAM"),
        ("Weight", "kg", "KILOGRAM"),
        ("Weight", "KG", "KILOGRAM"),
        ("Weight", "KGM", "KILOGRAM"),
        ("Weight", "grm", "GRAM"),
        ("Weight", "LBR", "POUND"),
        ("Pressure", "mBar", "MILLIBAR"),
        ("Pressure", "Mbar", "MEGABAR"),
        ("Pressure", "MBR", "MILLIBAR"),
        ("Area", "m²", "SQUARE_METER"),
        ("Area", "m2", "SQUARE_METER"),
        ("Area", "CM2", "SQUARE_CENTIMETER"),
        ("Length", "µm", "MICROMETER"),  # micro sign, the catalog has the Greek mu
        ("Length", "mm", "MILLIMETER"),
        ("Length", "MMT", "MILLIMETER"),
        ("Length", "mtr", "METER"),
    ],
    ids=lambda v: str(v),
)
def test_unit_resolution(catalog: Catalog, family: str, text: str, unit: str) -> None:
    assert catalog.unit_lookup(family).resolve(text) == unit


@pytest.mark.parametrize(
    ("family", "text"),
    [("Weight", "parsec"), ("Weight", "MMT"), ("Weight", ""), ("Pressure", "mbar"), ("Area", "m3")],
    ids=["unknown", "other-family-code", "empty", "ambiguous-case", "wrong-power"],
)
def test_unresolved_units(catalog: Catalog, family: str, text: str) -> None:
    assert catalog.unit_lookup(family).resolve(text) is None


def test_ambiguous_unit_is_explained(catalog: Catalog) -> None:
    message = catalog.unit_lookup("pressure").explain("mbar")
    assert "ambiguous" in message
    assert "MILLIBAR (mBar)" in message and "MEGABAR (Mbar)" in message


def test_unknown_unit_is_explained(catalog: Catalog) -> None:
    message = catalog.unit_lookup("Weight").explain("parsec")
    assert message == (
        'unknown unit "parsec" for Weight; use one of GRAM (g), KILOGRAM (kg), POUND (lb)'
    )


def test_akeneo_code_beats_symbol_beats_rec20() -> None:
    family = MeasurementFamily(
        code="Weight",
        units={
            # silly symbols on purpose: each one collides with a higher-ranked spelling
            "KILOGRAM": Unit(code="KILOGRAM", symbol="POUND"),
            "POUND": Unit(code="POUND", symbol="KGM"),
            "GRAM": Unit(code="GRAM", symbol="g"),
        },
    )
    lookup = UnitLookup.build(family)
    assert lookup.resolve("POUND") == "POUND"  # a code, not KILOGRAM's symbol
    assert lookup.resolve("KGM") == "POUND"  # a symbol, not the Rec. 20 code of KILOGRAM
    assert lookup.resolve("GRM") == "GRAM"  # Rec. 20 when nothing else matches


def test_unit_lookups_are_cached(catalog: Catalog) -> None:
    assert catalog.unit_lookup("Weight") is catalog.unit_lookup("WEIGHT")


def test_family_missing_from_the_catalog_is_unchecked(catalog: Catalog) -> None:
    lookup = catalog.unit_lookup("Volume")
    assert not lookup.checked
    assert lookup.resolve("LTR") == "LITER"
    assert lookup.resolve("liter") == "LITER"
    assert lookup.resolve("custom_unit") == "CUSTOM_UNIT"  # the PIM will judge
    assert lookup.resolve("°C") is None


_CODE = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_0123456789ÄéЖ", min_size=1, max_size=8)


@settings(max_examples=60, deadline=None)
@given(
    categories=st.lists(_CODE, unique_by=str.lower, max_size=6),
    options=st.dictionaries(_CODE, st.lists(_CODE, unique_by=str.lower, max_size=4), max_size=3),
    models=st.lists(
        st.tuples(_CODE, st.none() | _CODE, st.none() | _CODE), unique_by=lambda m: m[0].lower()
    ),
)
def test_write_catalog_then_read_it_back(
    categories: list[str],
    options: dict[str, list[str]],
    models: list[tuple[str, str | None, str | None]],
) -> None:
    """What ``catalog pull`` writes (streamed, one item a line) reads back the same."""
    import io

    from feed_export.catalog.structure import write_catalog

    out = io.StringIO()
    counts = write_catalog(
        out,
        {
            "product_models": iter(
                [{"code": c, "family_variant": fv, "parent": p} for c, fv, p in models]
            ),
            "attributes": iter([{"code": "sku", "type": "pim_catalog_identifier"}]),
            "attribute_options": {code: iter(codes) for code, codes in options.items()},
            "categories": iter(categories),
        },
    )
    data = json.loads(out.getvalue())
    assert list(data) == ["attributes", "attribute_options", "categories", "product_models"]
    assert counts["attribute_options"] == sum(len(v) for v in options.values())
    catalog = Catalog.from_dict(data)
    assert [catalog.category(c.upper()) for c in categories] == categories
    for code, codes in options.items():
        listed = catalog.options(code)
        assert listed is not None and list(listed.values()) == codes
    assert [(m.code, m.family_variant, m.parent) for m in catalog.product_models] == models
    assert all(catalog.has(s) for s in ("categories", "attribute_options", "product_models"))
    assert not catalog.has("groups") and not catalog.has("families")


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ({"categories": "men"}, "categories: expected a list of codes, got str"),
        ({"categories": [1]}, 'categories[0]: expected a code (a string, or an item with "code")'),
        ({"attribute_options": []}, "attribute_options: expected an object of attribute code"),
        ({"attribute_options": {"color": [{}]}}, "attribute_options.color[0]: expected a code"),
        ({"product_models": [{"parent": "x"}]}, "product_models[0]: code: Field required"),
    ],
    ids=["categories-not-a-list", "category-not-a-code", "options-not-an-object",
         "option-not-a-code", "model-without-code"],
)  # fmt: skip
def test_optional_sections_are_validated(data: dict[str, Any], problem: str) -> None:
    with pytest.raises(ConfigError, match="invalid catalog") as caught:
        Catalog.from_dict({"attributes": [], **data})
    assert problem in str(caught.value)
