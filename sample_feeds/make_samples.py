"""Write the sample feeds of this folder (run it after changing them; the files are committed).

    python sample_feeds/make_samples.py

apparel.csv      a clothing feed: every header form, multi-values, units by symbol and
                 UN/CEFACT code, associations; a few rows wrong the way real feeds are
                 wrong (caught before sending) and a few the PIM rejects.
electronics.xlsx the same catalog from a spreadsheet: typed cells (numbers, dates,
                 booleans), a semicolon-free layout, one bad row; product pictures in the
                 `packshots` asset collection column, as paths of pictures/ (files become
                 assets of the demo catalog's `packshots` family; one picture is shared
                 by two products and goes once).
pictures/        small PNG files the electronics feed names.
"""

from __future__ import annotations

import csv
import datetime as dt
import struct
import zlib
from pathlib import Path

HERE = Path(__file__).parent

APPAREL_HEADER = [
    "sku", "family", "categories", "enabled", "name~en_US", "name~fr_FR", "name~de_DE",
    "description~en_US~ecommerce", "description~de_DE~print", "meta_title~ecommerce", "ean",
    "legal_notice~fr_FR", "stock_quantity", "rating", "margin_percent", "is_new",
    "waterproof~ecommerce", "release_date", "color", "size", "brand", "material",
    "price@currency", "eco_tax@currency", "package_length@unit", "weight@unit",
    "max_wash_temperature@unit", "size_chart", "associations~X_SELL~products",
    "quantified_associations~PRODUCT_SET~products",
]  # fmt: skip

CHART = '[{"size":"m","chest_cm":"96","fits_tall":true}]'

APPAREL_ROWS = [
    # fine rows
    ["TS-1001", "clothing", "men<###>men_tshirts", "1", "Classic crew T-shirt", "T-shirt col rond",
     "Rundhals-T-Shirt", "Soft organic cotton tee.\nMachine washable.", "Weiches Bio-T-Shirt.",
     "Classic crew T-shirt | Acme", "4006381333931", "Coton biologique", "120", "4.5", "35.50",
     "true", "0", "2024-03-01", "black", "m", "acme", "cotton", "19.99 EUR<###>21.99 USD", "0 EUR",
     "30 cm", "180 g", "40 CELSIUS", CHART, "", ""],
    ["TS-1002", "clothing", "men_tshirts", "1", "Classic crew T-shirt, white", "T-shirt blanc",
     "", "Soft organic cotton tee, white.", "", "", "4006381333948", "", "80", "4.2", "35.50",
     "false", "0", "2024-03-01", "white", "l", "acme", "cotton", "EUR 19.99<###>USD 21.99", "0 EUR",
     "30 CMT", "0.18 KGM", "40 CELSIUS", "", "TS-1001", ""],
    ["JK-2001", "clothing", "men_jackets<###>new_arrivals", "true", "Storm shell jacket",
     "Veste coupe-pluie", "Regenjacke", "Waterproof, breathable, packable.", "Wasserdicht.",
     "Storm shell jacket", "4006381333955", "", "35", "4.8", "42", "TRUE", "1", "2024-09-15",
     "blue", "xl", "northwind", "polyester<###>polyester<###>wool", "149.00 EUR<###>159.00 USD",
     "1 EUR", "45.5 cm", "620 g", "30", "", "TS-1001<###>TS-1002", "TS-1001|2"],
    ["DR-3001", "clothing", "women<###>women_dresses", "1", "Linen summer dress", "Robe d'été en lin",
     "Sommerkleid aus Leinen", "Light linen; a relaxed fit.", "", "Linen summer dress",
     "4006381333962", "Lin", "18", "", "", "true", "0", "2025-05-01", "green", "s", "urban_threads",
     "", "89.90 EUR", "", "", "350 g", "", "", "", ""],
    ["BG-4001", "accessories", "accessories<###>bags", "1", "Leather weekender", "Sac week-end",
     "Reisetasche", "Full-grain leather, brass hardware.", "Vollnarbenleder.", "", "", "", "7",
     "5", "55", "false", "", "2023-11-20", "", "", "acme", "leather", "249.00 EUR<###>199.00 GBP",
     "2 EUR", "55 cm", "1.9 kg", "", "", "", "JK-2001|1<###>TS-1001|3"],
    # the same product again, later in the feed: the PIM applies the rows in feed order
    ["TS-1001", "", "", "", "Classic crew T-shirt (2024 edition)", "", "", "", "", "", "", "", "95",
     "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", ""],
    ["", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "",
     "", "", "", "", "", "", ""],  # a blank row: skipped, not a failure
    # wrong the way real feeds are wrong: caught before sending
    ["TS-1003", "clothing", "men_tshirts", "yes please", "Striped tee", "", "", "", "", "", "", "",
     "12.5", "", "", "", "", "31/02/2024", "red", "m", "acme", "", "19.99 XYZ", "", "", "12 parsecs",
     "", "", "", ""],
    ["TS-1004", "clothing", "men_tshirts", "1", "Oversized tee", "", "", "", "", "A title that is far too long for the meta title field of the web shop",
     "", "", "", "7", "", "", "", "2024-01-10", "grey", "xxl", "acme", "", "24.50 EUR<###>26 EUR",
     "0.50 EUR", "", "", "", "", "", "TS-1001|0"],
    ["", "clothing", "men", "1", "A row without an identifier", "", "", "", "", "", "", "", "", "",
     "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", ""],
    # valid for feed_export, rejected by the PIM
    ["TS-1005", "clothing", "men_tshirts<###>outlet", "1", "Tee in an unknown category", "", "", "",
     "", "", "", "", "10", "", "", "", "", "", "black", "s", "acme", "", "15.00 EUR", "", "", "", "",
     "", "", ""],
    ["TS-1006", "clothing", "men_tshirts", "1", "Tee of an unknown brand", "", "", "", "", "", "", "",
     "10", "", "", "", "", "", "purple", "s", "tommh", "", "15.00 EUR", "", "", "", "", "", "", ""],
]  # fmt: skip

ELECTRONICS_HEADER = [
    "sku", "family", "categories", "enabled", "name~en_US", "name~de_DE",
    "description~en_US~ecommerce", "stock_quantity", "rating", "is_new", "release_date",
    "brand", "material", "price@currency", "weight@unit", "package_length@unit", "capacity@unit",
    "packshots",
]  # fmt: skip

ELECTRONICS_ROWS: list[list[object]] = [
    ["HP-5001", "electronics", "electronics<###>audio", True, "Wireless headphones ANC",
     "Kabellose Kopfhörer", "40 h battery, active noise cancelling.", 250, 4.6, True,
     dt.date(2024, 10, 1), "voltix", "plastic<###>aluminium", "199.00 EUR<###>219.00 USD",
     "254 g", "22 cm", "", "pictures/hp-5001-front.png<###>pictures/voltix-box.png"],
    ["SP-5002", "electronics", "electronics<###>audio", True, "Bluetooth speaker",
     "Bluetooth-Lautsprecher", "Splash-proof, 12 h.", 80, 4.1, False, dt.date(2023, 6, 12),
     "voltix", "plastic", "59.90 EUR", "0.6 KGM", "18.5 CMT", "", "pictures/voltix-box.png"],
    ["PH-5003", "electronics", "phones", 1, "Smartphone 128 GB", "Smartphone 128 GB",
     "6.1 inch display.", 40, 4.4, True, dt.datetime(2025, 2, 3, 9, 30), "voltix", "aluminium",
     "699.00 EUR<###>749.00 USD", "172 g", "15 cm", "", ""],
    ["BT-5004", "electronics", "electronics", True, "Sports bottle", "Sportflasche",
     "Keeps cold for 24 h.", 300, 3.9, False, dt.date(2022, 4, 2), "acme", "aluminium",
     "24.00 EUR", "320 g", "26 cm", "750 ml", "pictures/bt-5004-front.png"],
    ["CH-5005", "electronics", "electronics", True, "USB-C charger", "USB-C-Ladegerät",
     "65 W.", 2.5, 4.0, True, dt.date(2024, 1, 15), "voltix", "plastic", "39.00 EUR",
     "120 furlongs", "6 cm", "", ""],
]  # fmt: skip


#: the pictures the electronics feed names: file name -> its one colour (red, green, blue)
PICTURES = {
    "hp-5001-front.png": (30, 30, 30),
    "voltix-box.png": (240, 200, 40),
    "bt-5004-front.png": (40, 120, 220),
}


def png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A PNG image of one colour (8-bit RGB, no filter): a real picture in a few bytes."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    row = b"\x00" + bytes(rgb) * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * height, 9))
        + chunk(b"IEND", b"")
    )


def write_pictures(folder: Path) -> None:
    folder.mkdir(exist_ok=True)
    for name, rgb in PICTURES.items():
        (folder / name).write_bytes(png(64, 64, rgb))


def write_apparel(path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(APPAREL_HEADER)
        for row in APPAREL_ROWS:
            assert len(row) == len(APPAREL_HEADER), row[0]
            writer.writerow(row)


def write_electronics(path: Path) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Products"
    ws.append(ELECTRONICS_HEADER)
    for row in ELECTRONICS_ROWS:
        assert len(row) == len(ELECTRONICS_HEADER), row[0]
        ws.append(row)
    notes = wb.create_sheet("Notes")
    notes.append(
        ["This sheet is not read: feed_export reads the first sheet unless --sheet names one."]
    )
    wb.save(path)


if __name__ == "__main__":
    write_apparel(HERE / "apparel.csv")
    write_electronics(HERE / "electronics.xlsx")
    write_pictures(HERE / "pictures")
