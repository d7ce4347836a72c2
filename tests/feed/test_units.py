"""UN/CEFACT Rec. 20 common codes for Akeneo's standard units."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from feed_export.feed.units import REC20, akeneo_units_for_rec20, rec20_code, rec20_index

DEMO_CATALOG = Path(__file__).resolve().parents[2] / "feed_export" / "data" / "demo_catalog.json"


@pytest.mark.parametrize(
    ("family", "unit", "code"),
    [
        ("Length", "MILLIMETER", "MMT"),
        ("Length", "CENTIMETER", "CMT"),
        ("Length", "METER", "MTR"),
        ("Length", "INCH", "INH"),
        ("Length", "FEET", "FOT"),
        ("Weight", "KILOGRAM", "KGM"),
        ("Weight", "GRAM", "GRM"),
        ("Weight", "POUND", "LBR"),
        ("Weight", "OUNCE", "ONZ"),
        ("Volume", "LITER", "LTR"),
        ("Volume", "MILLILITER", "MLT"),
        ("Volume", "OUNCE", "OZI"),
        ("Area", "SQUARE_METER", "MTK"),
        ("Temperature", "CELSIUS", "CEL"),
        ("Power", "WATT", "WTT"),
        ("Voltage", "VOLT", "VLT"),
        ("Energy", "KILOJOULE", "KJO"),
        ("Duration", "MINUTE", "MIN"),
        ("Angle", "MINUTE", "D61"),
        ("Frequency", "HERTZ", "HTZ"),
        ("ElectricCharge", "MILLIAMPEREHOUR", "E09"),
        ("Capacitance", "MICROFARAD", "4O"),
        ("Binary", "MEGABYTE", "4L"),
    ],
    ids=lambda v: str(v),
)
def test_known_codes(family: str, unit: str, code: str) -> None:
    assert REC20[family][unit] == code
    assert rec20_code(family.upper(), unit.lower()) == code
    assert unit in akeneo_units_for_rec20(code.lower())


def test_no_rec20_code_stands_for_two_units() -> None:
    counts = Counter(code for units in REC20.values() for code in units.values())
    assert [code for code, n in counts.items() if n > 1] == []


def test_table_uses_akeneo_spelling() -> None:
    assert sum(len(units) for units in REC20.values()) > 100  # the loops below check them all
    for family, units in REC20.items():
        assert family[0].isupper(), family
        for unit, code in units.items():
            assert unit == unit.upper() and " " not in unit, unit
            assert code == code.upper() and 2 <= len(code) <= 3, code


def test_demo_catalog_units_are_in_the_table() -> None:
    """The table's unit codes match those of the families a real PIM returns."""
    data = json.loads(DEMO_CATALOG.read_text(encoding="utf-8"))
    compared: list[str] = []
    for family in data["measurement_families"]:
        table = REC20.get(family["code"], {})
        for unit in table:
            if unit in family["units"]:
                assert family["units"][unit]["code"] == unit
                compared.append(f"{family['code']}.{unit}")
    # the comparison ran: the demo catalog's families are in the table
    assert {"Weight.KILOGRAM", "Length.METER"} <= set(compared)


def test_index_of_a_standard_family_uses_its_own_codes() -> None:
    assert rec20_index("duration", ["MINUTE", "SECOND"]) == {"MIN": "MINUTE", "SEC": "SECOND"}
    assert rec20_index("Angle", ["MINUTE"]) == {"D61": "MINUTE"}


def test_index_keeps_only_the_units_the_family_has() -> None:
    assert rec20_index("Weight", ["KILOGRAM"]) == {"KGM": "KILOGRAM"}


def test_index_of_a_custom_family_reuses_standard_unit_codes() -> None:
    index = rec20_index("shoe_weight", ["GRAM", "KILOGRAM", "MY_UNIT"])
    assert index["GRM"] == "GRAM"
    assert index["KGM"] == "KILOGRAM"
    assert "MY_UNIT" not in index.values()


def test_unknown_codes() -> None:
    assert akeneo_units_for_rec20("XXX") == ()
    assert rec20_code("Length", "FURLONG") is None
    assert rec20_code("NoSuchFamily", "METER") is None
    assert rec20_index("Length", []) == {}


def test_piece_count_aliases() -> None:
    index = rec20_index("CaseBox", ["PIECE", "DOZEN"])
    assert index == {"H87": "PIECE", "C62": "PIECE", "DZN": "DOZEN"}
