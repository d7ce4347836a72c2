"""UN/CEFACT Recommendation 20 common codes for Akeneo's standard measurement units.

Feeds often carry units as Rec. 20 common codes (``MMT``, ``KGM``), the convention of
GS1, Productsup and most marketplaces, while Akeneo wants its own unit codes
(``MILLIMETER``, ``KILOGRAM``). This table maps one to the other for the units of the
measurement families Akeneo installs by default. Only codes whose meaning matches the
Akeneo unit are listed: a unit with no exact Rec. 20 twin (``CENTIVOLT``, ``LIVRE``,
``ARPENT``...) is left out rather than guessed.

>>> REC20["Weight"]["KILOGRAM"]
'KGM'
>>> akeneo_units_for_rec20("mmt")
('MILLIMETER',)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

#: Akeneo standard family -> {Akeneo unit code: UN/CEFACT Rec. 20 common code}
REC20: Mapping[str, Mapping[str, str]] = {
    "Area": {
        "SQUARE_MILLIMETER": "MMK",
        "SQUARE_CENTIMETER": "CMK",
        "SQUARE_DECIMETER": "DMK",
        "SQUARE_METER": "MTK",
        "SQUARE_DEKAMETER": "H16",
        "ARE": "ARE",
        "SQUARE_HECTOMETER": "H17",
        "HECTARE": "HAR",
        "SQUARE_KILOMETER": "KMK",
        "SQUARE_INCH": "INK",
        "SQUARE_FOOT": "FTK",
        "SQUARE_YARD": "YDK",
        "ACRE": "ACR",
        "SQUARE_MILE": "MIK",
    },
    "Binary": {
        "BIT": "A99",
        "BYTE": "AD",
        "KILOBIT": "C37",
        "MEGABIT": "D36",
        "GIGABIT": "B68",
        "KILOBYTE": "2P",
        "MEGABYTE": "4L",
        "GIGABYTE": "E34",
        "TERABYTE": "E35",
    },
    "Decibel": {"DECIBEL": "2N"},
    "Frequency": {
        "HERTZ": "HTZ",
        "KILOHERTZ": "KHZ",
        "MEGAHERTZ": "MHZ",
        "GIGAHERTZ": "A86",
        "TERAHERTZ": "D29",
    },
    "Length": {
        "MICROMETER": "4H",
        "MILLIMETER": "MMT",
        "CENTIMETER": "CMT",
        "DECIMETER": "DMT",
        "METER": "MTR",
        "DEKAMETER": "A45",
        "HECTOMETER": "HMT",
        "KILOMETER": "KMT",
        "MIL": "77",
        "INCH": "INH",
        "FEET": "FOT",
        "YARD": "YRD",
        "MILE": "SMI",
        "NAUTICAL_MILE": "NMI",
    },
    "Power": {
        "WATT": "WTT",
        "KILOWATT": "KWT",
        "MEGAWATT": "MAW",
        "GIGAWATT": "A90",
        "TERAWATT": "D31",
    },
    "Voltage": {"MILLIVOLT": "2Z", "VOLT": "VLT", "KILOVOLT": "KVT"},
    "Intensity": {"MILLIAMPERE": "4K", "AMPERE": "AMP", "KILOAMPERE": "B22"},
    "Resistance": {"MILLIOHM": "E45", "OHM": "OHM", "KILOHM": "B49", "MEGOHM": "B75"},
    "Speed": {
        "METER_PER_SECOND": "MTS",
        "METER_PER_MINUTE": "2X",
        "KILOMETER_PER_HOUR": "KMH",
        "FOOT_PER_SECOND": "FS",
        "MILE_PER_HOUR": "HM",
    },
    "ElectricCharge": {
        "MILLIAMPEREHOUR": "E09",
        "AMPEREHOUR": "AMH",
        "MILLICOULOMB": "D86",
        "COULOMB": "COU",
        "KILOCOULOMB": "B26",
    },
    "Duration": {
        "MILLISECOND": "C26",
        "SECOND": "SEC",
        "MINUTE": "MIN",
        "HOUR": "HUR",
        "DAY": "DAY",
        "WEEK": "WEE",
        "MONTH": "MON",
        "YEAR": "ANN",
    },
    "Temperature": {"CELSIUS": "CEL", "FAHRENHEIT": "FAH", "KELVIN": "KEL", "RANKINE": "A48"},
    "Volume": {
        "MICROLITER": "4G",
        "CUBIC_MILLIMETER": "MMQ",
        "CUBIC_CENTIMETER": "CMQ",
        "MILLILITER": "MLT",
        "CENTILITER": "CLT",
        "DECILITER": "DLT",
        "CUBIC_DECIMETER": "DMQ",
        "LITER": "LTR",
        "HECTOLITER": "HLT",
        "CUBIC_METER": "MTQ",
        # Akeneo's OUNCE, PINT and GALLON are the imperial (UK) ones: their factors
        # are built on 4.54609 litres
        "OUNCE": "OZI",
        "PINT": "PTI",
        "GALLON": "GLI",
        "CUBIC_FOOT": "FTQ",
        "CUBIC_INCH": "INQ",
        "CUBIC_YARD": "YDQ",
    },
    "Weight": {
        "MICROGRAM": "MC",
        "MILLIGRAM": "MGM",
        "GRAM": "GRM",
        "KILOGRAM": "KGM",
        "TON": "TNE",
        "GRAIN": "GRN",
        "OUNCE": "ONZ",
        "POUND": "LBR",
    },
    "Pressure": {
        "MILLIBAR": "MBR",
        "BAR": "BAR",
        "KILOBAR": "KBA",
        "PASCAL": "PAL",
        "HECTOPASCAL": "A97",
        "KILOPASCAL": "KPA",
        "MEGAPASCAL": "MPA",
        "GIGAPASCAL": "A89",
        "ATM": "ATM",
        "PSI": "PS",
        "TORR": "UA",
        "MMHG": "HN",
    },
    "Energy": {"JOULE": "JOU", "KILOJOULE": "KJO", "CALORIE": "D70", "KILOCALORIE": "E14"},
    "CaseBox": {"PIECE": "H87", "DOZEN": "DZN"},
    "Brightness": {"LUMEN": "LUM"},
    "Force": {"MILLINEWTON": "C20", "NEWTON": "NEW", "KILONEWTON": "B47", "MEGANEWTON": "B73"},
    "Angle": {
        "RADIAN": "C81",
        "MILLIRADIAN": "C25",
        "MICRORADIAN": "B97",
        "DEGREE": "DD",
        "MINUTE": "D61",
        "SECOND": "D62",
        "GON": "A91",
    },
    "Capacitance": {
        "ATTOFARAD": "H48",
        "PICOFARAD": "4T",
        "NANOFARAD": "C41",
        "MICROFARAD": "4O",
        "MILLIFARAD": "C10",
        "FARAD": "FAR",
    },
    "VolumeFlow": {
        "CUBIC_METER_PER_SECOND": "MQS",
        "CUBIC_METER_PER_HOUR": "MQH",
        "LITER_PER_MINUTE": "L2",
    },
}

#: Rec. 20 codes that name the same thing as a listed one (``C62`` "one" is the usual
#: code for a piece count)
_EXTRA: Mapping[str, Mapping[str, str]] = {"CaseBox": {"C62": "PIECE"}}


def _family_index(family: str) -> dict[str, str]:
    units = REC20[family]
    index = {rec20: akeneo_code for akeneo_code, rec20 in units.items()}
    index.update(_EXTRA.get(family, {}))
    return index


_BY_FAMILY: dict[str, dict[str, str]] = {name.lower(): _family_index(name) for name in REC20}


def _flat_index() -> dict[str, tuple[str, ...]]:
    flat: dict[str, list[str]] = {}
    for index in _BY_FAMILY.values():
        for rec20, akeneo_code in index.items():
            bucket = flat.setdefault(rec20, [])
            if akeneo_code not in bucket:
                bucket.append(akeneo_code)
    return {code: tuple(units) for code, units in flat.items()}


# Rec. 20 code -> every Akeneo unit it stands for in any standard family
_BY_REC20 = _flat_index()


def akeneo_units_for_rec20(code: str) -> tuple[str, ...]:
    """The Akeneo unit codes a Rec. 20 common code (any case) stands for, or ``()``."""
    return _BY_REC20.get(code.strip().upper(), ())


def rec20_index(family: str, unit_codes: Iterable[str]) -> dict[str, str]:
    """``{Rec. 20 code: Akeneo unit code}`` for a measurement family with these units.

    A standard family (matched case-insensitively by code) uses its own table, so
    ``MIN`` is the minute of Duration and ``D61`` the minute of Angle. A custom family
    that reuses standard unit codes gets every Rec. 20 code that points to exactly one
    of its units.

    >>> rec20_index("Duration", ["SECOND", "MINUTE"])
    {'SEC': 'SECOND', 'MIN': 'MINUTE'}
    """
    units = {code.upper() for code in unit_codes}
    standard = _BY_FAMILY.get(family.lower())
    if standard is not None:
        return {rec20: code for rec20, code in standard.items() if code in units}
    index: dict[str, str] = {}
    for rec20, candidates in _BY_REC20.items():
        mine = [code for code in candidates if code in units]
        if len(mine) == 1:
            index[rec20] = mine[0]
    return index


def rec20_code(family: str, unit: str) -> str | None:
    """The Rec. 20 common code of an Akeneo unit of a standard family, if it has one.

    >>> rec20_code("length", "millimeter")
    'MMT'
    """
    for name, units in REC20.items():
        if name.lower() == family.lower():
            return units.get(unit.upper())
    return None
