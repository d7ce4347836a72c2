"""Generate a realistic feed for the demo catalog: ~40 columns of mixed types and header forms.

    python bench/gen_feed.py OUT.csv --rows 200000 [--seed 1] [--bad-rate 0.01] [--repeat-rate 0]

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


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("out", type=Path)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--bad-rate", type=float, default=0.0)
    parser.add_argument("--repeat-rate", type=float, default=0.0)
    args = parser.parse_args()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        writer.writerows(rows(args.rows, args.seed, args.bad_rate, args.repeat_rate))


if __name__ == "__main__":
    main()
