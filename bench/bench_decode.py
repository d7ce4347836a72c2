"""Micro benchmark of the pure core: header resolution once, then RowDecoder.decode per row.

    python bench/bench_decode.py [--rows 100000] [--feed inline|light|heavy] [--repeat 1]
                                 [--profile]

``inline`` (the default) builds an inline catalog and a 40-column feed layout (fields,
localizable and scopable texts, numbers, booleans, a date, selects, prices, metrics,
assets, associations) and synthetic rows, all valid; ``light`` and ``heavy`` take the rows
and catalog of ``bench/gen_feed.py``'s profiles (1% bad rows), in memory. It then times
decoding alone (no file reading, no HTTP) in slices of 1,000 rows, ``--repeat`` times, and
prints the median slice as µs/row, rows/s and cells/s. ``--profile`` runs the same loop
under cProfile and prints the top functions.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import gen_feed

from feed_export.catalog.layout import resolve_headers
from feed_export.catalog.structure import Catalog
from feed_export.config import ExportOptions
from feed_export.feed.reader import Row
from feed_export.push.decode import LineError, RowDecoder


def _attr(code: str, kind: str, **extra: Any) -> dict[str, Any]:
    return {"code": code, "type": f"pim_catalog_{kind}", **extra}


CATALOG: dict[str, Any] = {
    "attributes": [
        _attr("sku", "identifier", max_characters=255, is_main_identifier=True),
        _attr("name", "text", localizable=True, max_characters=255),
        _attr("description", "textarea", localizable=True, scopable=True),
        _attr("meta_title", "text", scopable=True),
        _attr("ean", "text"),
        _attr("gtin", "text"),
        _attr("stock", "number", decimals_allowed=False, negative_allowed=False),
        _attr("rating", "number", decimals_allowed=True, number_min="0.0000", number_max="5.0000"),
        _attr("margin", "number", decimals_allowed=True),
        _attr("is_new", "boolean"),
        _attr("waterproof", "boolean", scopable=True),
        _attr("release_date", "date"),
        _attr("color", "simpleselect"),
        _attr("size", "simpleselect"),
        _attr("brand", "simpleselect"),
        _attr("material", "multiselect"),
        _attr("season", "multiselect"),
        _attr("price", "price_collection", decimals_allowed=True),
        _attr("eco_tax", "price_collection", decimals_allowed=False),
        _attr(
            "weight",
            "metric",
            metric_family="Weight",
            default_metric_unit="KILOGRAM",
            decimals_allowed=True,
        ),
        _attr(
            "length",
            "metric",
            metric_family="Length",
            default_metric_unit="CENTIMETER",
            decimals_allowed=True,
        ),
        _attr(
            "volume",
            "metric",
            metric_family="Volume",
            default_metric_unit="LITER",
            decimals_allowed=True,
        ),
        {"code": "designer", "type": "akeneo_reference_entity"},
        {"code": "pictures", "type": "pim_catalog_asset_collection"},
    ],
    "channels": [
        {"code": "ecommerce", "locales": ["en_US", "fr_FR", "de_DE"], "currencies": ["EUR", "USD"]},
        {"code": "print", "locales": ["en_US", "de_DE"], "currencies": ["EUR"]},
    ],
    "locales": [{"code": c, "enabled": True} for c in ("en_US", "fr_FR", "de_DE")],
    "currencies": [{"code": c, "enabled": True} for c in ("EUR", "USD")],
    "measurement_families": [
        {
            "code": "Weight",
            "standard_unit_code": "KILOGRAM",
            "units": {
                "GRAM": {"code": "GRAM", "symbol": "g"},
                "KILOGRAM": {"code": "KILOGRAM", "symbol": "kg"},
            },
        },
        {
            "code": "Length",
            "standard_unit_code": "METER",
            "units": {
                "MILLIMETER": {"code": "MILLIMETER", "symbol": "mm"},
                "CENTIMETER": {"code": "CENTIMETER", "symbol": "cm"},
                "METER": {"code": "METER", "symbol": "m"},
            },
        },
        {
            "code": "Volume",
            "standard_unit_code": "CUBIC_METER",
            "units": {
                "MILLILITER": {"code": "MILLILITER", "symbol": "ml"},
                "LITER": {"code": "LITER", "symbol": "l"},
            },
        },
    ],
}

HEADER = [
    "sku", "family", "categories", "enabled", "groups",
    "name~en_US", "name~fr_FR", "name~de_DE",
    "description~en_US~ecommerce", "description~fr_FR~ecommerce", "description~de_DE~ecommerce",
    "description~en_US~print", "description~de_DE~print",
    "meta_title~ecommerce", "meta_title~print", "ean",
    "stock", "rating", "margin", "is_new", "waterproof~ecommerce", "waterproof~print",
    "release_date", "color", "size", "brand", "material", "season",
    "price@currency", "eco_tax@currency", "weight@unit", "length@unit", "volume@unit",
    "designer", "pictures", "parent",
    "associations~X_SELL~products", "associations~UPSELL~product_models",
    "quantified_associations~PACK~products", "gtin",
]  # fmt: skip

WORDS = [
    "soft",
    "durable",
    "slim",
    "classic",
    "vintage",
    "wireless",
    "compact",
    "urban",
    "premium",
    "recycled",
]


def _text(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize()


def make_rows(count: int, seed: int = 1) -> list[Row]:
    """Synthetic rows, all valid, with realistic cell shapes and some empty cells."""
    rng = random.Random(seed)
    rows = []
    for i in range(count):
        name = _text(rng, 3)
        cells = [
            f"SKU-{i:07d}", rng.choice(["clothing", "shoes"]), "women<###>sale", "true", "",
            name, name + " (FR)", name + " (DE)",
            _text(rng, 14), _text(rng, 14), _text(rng, 14), _text(rng, 8), "",
            name, name, f"{rng.randrange(10**12, 10**13)}",
            str(rng.randrange(0, 5000)), f"{rng.uniform(0, 5):.1f}", f"{rng.uniform(0, 80):.2f}",
            rng.choice(["true", "false", "1", "0"]), "TRUE", "",
            f"2024-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}",
            rng.choice(["red", "blue", "grey"]), rng.choice(["s", "m", "l"]), "acme",
            "cotton<###>elastane", "",
            f"{rng.uniform(5, 900):.2f} EUR<###>{rng.uniform(5, 900):.2f} USD", "2 EUR",
            f"{rng.uniform(0.1, 40):.2f} kg", f"{rng.randrange(5, 300)} CMT", "",
            "studio_x", "pic_1<###>pic_2", "",
            f"SKU-{rng.randrange(count):07d}", "", f"SKU-{rng.randrange(count):07d}|2",
            "0012345678905",
        ]  # fmt: skip
        rows.append(Row(i + 2, tuple(cells)))
    return rows


def generated(profile: str, count: int) -> tuple[dict[str, Any], list[str], list[Row]]:
    """The catalog, header and rows of ``bench/gen_feed.py``'s profile (1% bad rows)."""
    if profile == "heavy":
        catalog = gen_feed.heavy_catalog()
        header, make = gen_feed.HEAVY_HEADER, gen_feed.heavy_rows
    else:
        catalog = json.loads(gen_feed.DEMO_CATALOG.read_text(encoding="utf-8"))
        header, make = gen_feed.HEADER, gen_feed.rows
    rows = [Row(n, tuple(cells)) for n, cells in enumerate(make(count, 1, 0.01, 0.0), 2)]
    return catalog, header, rows


def run(decoder: RowDecoder, rows: list[Row]) -> int:
    errors = 0
    decode = decoder.decode
    for row in rows:
        if isinstance(decode(row), LineError):
            errors += 1
    return errors


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--feed", choices=["inline", "light", "heavy"], default="inline")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()

    if args.feed == "inline":
        source, header, rows = CATALOG, HEADER, make_rows(args.rows)
    else:
        source, header, rows = generated(args.feed, args.rows)
    catalog = Catalog.from_dict(source)
    options = ExportOptions()
    layout = resolve_headers("bench", header, catalog, options)
    decoder = RowDecoder(layout, options)
    run(decoder, rows[:1000])  # warm the unit caches

    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        run(decoder, rows)
        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(15)
        return 0

    # the rows in slices of 1,000, each timed alone, ``--repeat`` times: the median slice
    # is what the machine gives between interruptions (2 shared cores are noisy)
    slices: list[float] = []
    errors = 0
    started = time.perf_counter()
    for _ in range(args.repeat):
        errors = 0
        for start in range(0, len(rows), 1000):
            chunk = rows[start : start + 1000]
            t0 = time.perf_counter()
            errors += run(decoder, chunk)
            slices.append((time.perf_counter() - t0) / len(chunk))
    seconds = time.perf_counter() - started
    per_row = statistics.median(slices)
    rate = 1 / per_row
    name = args.feed
    print(
        f"{name}: {len(rows):,} rows x {len(header)} columns, {args.repeat} pass(es) in "
        f"{seconds:.2f} s: median {per_row * 1e6:.1f} us/row = {rate:,.0f} rows/s, "
        f"{rate * len(header):,.0f} cells/s (best slice {min(slices) * 1e6:.1f} us/row; "
        f"{errors} line errors)"
    )
    return 1 if errors and args.feed == "inline" else 0


if __name__ == "__main__":
    raise SystemExit(main())
