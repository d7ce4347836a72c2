"""Generate a realistic feed for the demo catalog, in one of two profiles.

    python bench/gen_feed.py OUT.csv --rows 200000 [--profile light|heavy] [--seed 1]
                             [--bad-rate 0.01] [--repeat-rate 0]

``light`` (the default): 40 columns of mixed types and header forms, for the demo catalog.
``heavy``: 50 columns with about 33 numbers to parse per row: 9 price columns with two
currencies each, 12 metric columns in different units (Akeneo codes, symbols, UN/CEFACT
codes, glued), 3 numbers, 3 dates, booleans, selects and texts in three locales. The demo
catalog has 2 price and 4 metric attributes, so the heavy profile also writes its catalog
beside the feed (``OUT.catalog.json``): the demo catalog plus the bench's own price, metric
and date attributes (``bench_*``), added to every family. Pass it with ``--catalog``.

Deterministic for a seed. Every header form appears: plain, ~locale, ~channel,
~locale~channel, @currency, @unit; multi-values with <###>; and with --bad-rate some rows
carry a cell that feed_export must reject (a wrong unit, a bad date, a decimal where an
integer is due, an unknown currency, an unknown boolean word).
"""

from __future__ import annotations

import argparse
import csv
import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

DEMO_CATALOG = Path(__file__).resolve().parent.parent / "feed_export" / "data" / "demo_catalog.json"

HEADER = [
    "sku",
    "family",
    "categories",
    "enabled",
    "groups",
    "name~en_US",
    "name~fr_FR",
    "name~de_DE",
    "description~en_US~ecommerce",
    "description~fr_FR~ecommerce",
    "description~de_DE~ecommerce",
    "description~en_US~print",
    "description~de_DE~print",
    "meta_title~ecommerce",
    "meta_title~print",
    "ean",
    "legal_notice~fr_FR",
    "legal_notice~de_DE",
    "stock_quantity",
    "rating",
    "margin_percent",
    "is_new",
    "waterproof~ecommerce",
    "waterproof~print",
    "release_date",
    "color",
    "size",
    "brand",
    "material",
    "price@currency",
    "eco_tax@currency",
    "package_length@unit",
    "weight@unit",
    "capacity@unit",
    "max_wash_temperature@unit",
    "size_chart",
    "lining_color",
    "fabrics",
    "designer",
    "suppliers",
]

WORDS = [
    "soft",
    "organic",
    "cotton",
    "classic",
    "fit",
    "breathable",
    "lightweight",
    "durable",
    "premium",
    "stretch",
    "waterproof",
    "recycled",
    "wireless",
    "noise",
    "cancelling",
    "compact",
    "ergonomic",
    "vintage",
    "slim",
    "urban",
]
COLORS = ["black", "white", "red", "blue", "green", "grey"]
SIZES = ["xs", "s", "m", "l", "xl", "xxl"]
BRANDS = ["acme", "northwind", "voltix", "urban_threads"]
MATERIALS = ["cotton", "polyester", "wool", "leather", "aluminium", "plastic"]
CATEGORIES = ["men", "men_tshirts", "women", "women_dresses", "electronics", "audio", "sale"]
FAMILIES = ["clothing", "electronics", "accessories"]
UNITS_LENGTH = ["MMT", "CENTIMETER", "cm", "mm", "INCH"]
UNITS_WEIGHT = ["KGM", "GRAM", "kg", "g", "POUND"]
BAD_CELLS = {
    "weight@unit": "12 parsecs",
    "release_date": "31/02/2024",
    "stock_quantity": "12.5",
    "price@currency": "19.99 XYZ",
    "is_new": "maybe",
}


def _sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + "."


def rows(count: int, seed: int, bad_rate: float, repeat_rate: float) -> Iterator[list[str]]:
    rng = random.Random(seed)
    for i in range(count):
        n = i if not (repeat_rate and i and rng.random() < repeat_rate) else rng.randrange(i)
        name = _sentence(rng, 3)[:-1]
        row = [
            f"SKU-{n:07d}",
            rng.choice(FAMILIES),
            "<###>".join(rng.sample(CATEGORIES, rng.randint(1, 3))),
            rng.choice(["1", "true", "0", "TRUE"]),
            "",
            name,
            name + " (FR)",
            name + " (DE)",
            _sentence(rng, 12),
            _sentence(rng, 12),
            _sentence(rng, 12),
            _sentence(rng, 8),
            _sentence(rng, 8),
            name[:60],
            name[:40],
            f"{rng.randrange(10**12, 10**13)}",
            "Mentions légales" if rng.random() < 0.5 else "",
            "Impressum" if rng.random() < 0.5 else "",
            str(rng.randint(0, 5000)),
            f"{rng.uniform(0, 5):.1f}",
            f"{rng.uniform(5, 60):.2f}",
            rng.choice(["true", "false"]),
            rng.choice(["1", "0"]),
            rng.choice(["1", "0", ""]),
            f"20{rng.randint(10, 29)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
            rng.choice(COLORS),
            rng.choice(SIZES),
            rng.choice(BRANDS),
            "<###>".join(rng.sample(MATERIALS, rng.randint(1, 2))),
            f"{rng.randint(5, 500)}.{rng.choice(['00', '50', '99'])} EUR<###>"
            f"{rng.randint(5, 500)}.00 USD",
            f"{rng.randint(0, 3)} EUR",
            f"{rng.randint(10, 900)}.{rng.randint(0, 9)} {rng.choice(UNITS_LENGTH)}",
            f"{rng.randint(1, 900)} {rng.choice(UNITS_WEIGHT)}",
            f"{rng.randint(100, 2000)} MILLILITER" if rng.random() < 0.3 else "",
            f"{rng.choice([30, 40, 60])} CELSIUS" if rng.random() < 0.5 else "",
            json.dumps([{"size": rng.choice(SIZES), "chest_cm": str(rng.randint(80, 120))}])
            if rng.random() < 0.2
            else "",
            "",
            "",
            "",
            "",
        ]
        if bad_rate and rng.random() < bad_rate:
            column, value = rng.choice(list(BAD_CELLS.items()))
            row[HEADER.index(column)] = value
        yield row


# -- the heavy profile ---------------------------------------------------------------

#: the bench's own attributes: (code, type, extra fields)
HEAVY_ATTRIBUTES: list[tuple[str, str, dict[str, Any]]] = [
    *(
        (f"bench_{code}", "pim_catalog_price_collection", extra)
        for code, extra in [
            ("msrp", {"decimals_allowed": True, "number_min": "0.0000"}),
            ("sale_price", {"decimals_allowed": True, "number_min": "0.0000"}),
            ("b2b_price", {"decimals_allowed": True}),
            ("member_price", {"decimals_allowed": True, "number_max": "100000.0000"}),
            ("outlet_price", {"decimals_allowed": True, "number_min": "0.0000"}),
            ("shipping_fee", {"decimals_allowed": True, "number_min": "0.0000"}),
            ("deposit", {"decimals_allowed": False, "number_min": "0.0000"}),
        ]
    ),
    *(
        (
            f"bench_{code}",
            "pim_catalog_metric",
            {"metric_family": family, "default_metric_unit": unit, "decimals_allowed": decimals},
        )
        for code, family, unit, decimals in [
            ("width", "Length", "CENTIMETER", True),
            ("height", "Length", "CENTIMETER", True),
            ("cable_length", "Length", "METER", True),
            ("net_weight", "Weight", "GRAM", True),
            ("gross_weight", "Weight", "KILOGRAM", True),
            ("fill_volume", "Volume", "MILLILITER", False),
            ("tank_volume", "Volume", "LITER", True),
            ("storage_temperature", "Temperature", "CELSIUS", False),
        ]
    ),
    ("bench_available_from", "pim_catalog_date", {"date_min": "2000-01-01T00:00:00+00:00"}),
    ("bench_warranty_end", "pim_catalog_date", {"date_max": "2060-12-31T00:00:00+00:00"}),
]

HEAVY_HEADER = [
    "sku", "family", "categories", "enabled",
    "name~en_US", "name~fr_FR", "name~de_DE",
    "description~en_US~ecommerce", "description~fr_FR~ecommerce",
    "description~de_DE~ecommerce", "description~en_US~print",
    "meta_title~ecommerce", "ean", "legal_notice~fr_FR", "legal_notice~de_DE",
    "stock_quantity", "rating", "margin_percent",
    "release_date", "bench_available_from", "bench_warranty_end",
    "is_new", "waterproof~ecommerce",
    "color", "size", "brand", "material", "lining_color", "designer",
    "price@currency", "eco_tax@currency", "bench_msrp@currency", "bench_sale_price@currency",
    "bench_b2b_price@currency", "bench_member_price@currency", "bench_outlet_price@currency",
    "bench_shipping_fee@currency", "bench_deposit@currency",
    "package_length@unit", "weight@unit", "capacity@unit", "max_wash_temperature@unit",
    "bench_width@unit", "bench_height@unit", "bench_cable_length@unit",
    "bench_net_weight@unit", "bench_gross_weight@unit", "bench_fill_volume@unit",
    "bench_tank_volume@unit", "bench_storage_temperature@unit",
]  # fmt: skip

NAMES = {
    "en_US": ["soft", "organic", "classic", "lightweight", "durable", "premium", "recycled"],
    "fr_FR": ["doux", "bio", "classique", "léger", "résistant", "élégant", "recyclé"],
    "de_DE": ["weich", "Bio", "klassisch", "leicht", "langlebig", "hochwertig", "großartig"],
}
HEAVY_BAD_CELLS = {
    **BAD_CELLS,
    "bench_net_weight@unit": "12 parsecs",
    "bench_deposit@currency": "2.50 EUR<###>3 USD",
    "bench_available_from": "1999-12-31",
}


def _words(rng: random.Random, locale: str, n: int) -> str:
    return " ".join(rng.choice(NAMES[locale]) for _ in range(n)).capitalize()


def _price(rng: random.Random, low: int, high: int, second: str) -> str:
    """Two currencies, in the forms feeds use: ``12.50 EUR``, ``EUR 12.50``, ``12.50USD``."""
    a, b = rng.randint(low, high), rng.randint(low, high)
    cents = rng.choice(["00", "50", "99", "95"])
    form = rng.random()
    if form < 0.7:
        return f"{a}.{cents} EUR<###>{b}.{cents} {second}"
    if form < 0.85:
        return f"EUR {a}.{cents}<###>{second} {b}.{cents}"
    return f"{a}.{cents}EUR<###>{b}{second}"


def heavy_rows(count: int, seed: int, bad_rate: float, repeat_rate: float) -> Iterator[list[str]]:
    rng = random.Random(seed)
    for i in range(count):
        n = i if not (repeat_rate and i and rng.random() < repeat_rate) else rng.randrange(i)
        names = {loc: _words(rng, loc, 3) for loc in NAMES}
        row = [
            f"SKU-{n:07d}",
            rng.choice(FAMILIES),
            "<###>".join(rng.sample(CATEGORIES, rng.randint(1, 3))),
            rng.choice(["1", "true", "0", "TRUE"]),
            names["en_US"],
            names["fr_FR"],
            names["de_DE"],
            _words(rng, "en_US", 12) + ".",
            _words(rng, "fr_FR", 12) + ".",
            _words(rng, "de_DE", 12) + ".",
            _words(rng, "en_US", 8) + ".",
            names["en_US"][:60],
            f"{rng.randrange(10**12, 10**13)}",
            "Mentions légales : voir l'étiquette." if rng.random() < 0.5 else "",
            "Impressum: siehe Etikett, Größe beachten." if rng.random() < 0.5 else "",
            str(rng.randint(0, 5000)),
            f"{rng.uniform(0, 5):.1f}",
            f"{rng.uniform(-20, 60):.2f}",
            f"20{rng.randint(10, 29)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
            f"20{rng.randint(10, 29)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
            f"20{rng.randint(30, 59)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
            rng.choice(["true", "false", "1", "0"]),
            rng.choice(["1", "0", "True", "FALSE"]),
            rng.choice(COLORS),
            rng.choice(SIZES),
            rng.choice(BRANDS),
            "<###>".join(rng.sample(MATERIALS, rng.randint(1, 3))),
            rng.choice(COLORS),
            rng.choice(["studio_x", "atelier_y", "werkstatt_z"]),
            _price(rng, 5, 500, "USD"),
            f"{rng.randint(0, 3)} EUR<###>{rng.randint(0, 3)} GBP",
            _price(rng, 10, 900, "USD"),
            _price(rng, 5, 500, "GBP"),
            _price(rng, 5, 400, "USD"),
            _price(rng, 5, 500, "USD"),
            _price(rng, 1, 300, "USD"),
            _price(rng, 0, 30, "GBP"),
            f"{rng.randint(0, 20)} EUR<###>{rng.randint(0, 20)} USD",
            f"{rng.randint(10, 900)}.{rng.randint(0, 9)} {rng.choice(UNITS_LENGTH)}",
            f"{rng.randint(1, 900)} {rng.choice(UNITS_WEIGHT)}",
            f"{rng.randint(100, 2000)} {rng.choice(['MILLILITER', 'ml', 'MLT'])}",
            f"{rng.choice([30, 40, 60])} {rng.choice(['CELSIUS', '°C', 'CEL'])}",
            f"{rng.randint(1, 200)}.{rng.randint(0, 99):02d} {rng.choice(UNITS_LENGTH)}",
            f"{rng.randint(1, 200)}.{rng.randint(0, 9)}{rng.choice(['cm', 'mm'])}",
            f"{rng.randint(1, 5)}.{rng.randint(0, 9)} {rng.choice(['METER', 'm', 'MTR', 'FEET'])}",
            f"{rng.randint(10, 5000)} {rng.choice(['GRAM', 'g', 'GRM', 'OUNCE'])}",
            f"{rng.randint(0, 40)}.{rng.randint(0, 99):02d} {rng.choice(UNITS_WEIGHT)}",
            f"{rng.randint(5, 1000)} {rng.choice(['MILLILITER', 'ml', 'CENTILITER', 'cl'])}",
            f"{rng.randint(1, 80)}.{rng.randint(0, 9)} {rng.choice(['LITER', 'l', 'GALLON'])}",
            f"{rng.randint(-30, 40)} {rng.choice(['CELSIUS', '°C', 'CEL', 'FAHRENHEIT'])}",
        ]
        if bad_rate and rng.random() < bad_rate:
            column, value = rng.choice(list(HEAVY_BAD_CELLS.items()))
            row[HEAVY_HEADER.index(column)] = value
        yield row


def heavy_catalog() -> dict[str, Any]:
    """The demo catalog plus the heavy profile's own attributes (in every family)."""
    catalog: dict[str, Any] = json.loads(DEMO_CATALOG.read_text(encoding="utf-8"))
    template = next(a for a in catalog["attributes"] if a["code"] == "name")
    for code, kind, extra in HEAVY_ATTRIBUTES:
        attribute = {**template, "code": code, "type": kind, "localizable": False, **extra}
        attribute["labels"] = {"en_US": code.removeprefix("bench_").replace("_", " ").title()}
        catalog["attributes"].append(attribute)
        for family in catalog.get("families", []):
            family["attributes"].append(code)
    return catalog


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("out", type=Path)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--bad-rate", type=float, default=0.0)
    parser.add_argument("--repeat-rate", type=float, default=0.0)
    parser.add_argument("--profile", choices=["light", "heavy"], default="light")
    args = parser.parse_args()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    heavy = args.profile == "heavy"
    make = heavy_rows if heavy else rows
    with args.out.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEAVY_HEADER if heavy else HEADER)
        writer.writerows(make(args.rows, args.seed, args.bad_rate, args.repeat_rate))
    if heavy:
        catalog = args.out.with_name(args.out.name.split(".")[0] + ".catalog.json")
        catalog.write_text(json.dumps(heavy_catalog(), ensure_ascii=False), encoding="utf-8")


if __name__ == "__main__":
    main()
