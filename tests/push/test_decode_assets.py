"""Decoding asset cells: a product's asset collection (codes, and files that become assets
named by the namer), an assets feed's rows (values with ``channel``, its media files)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from imageserver import assets_catalog

from feed_export.catalog.asset_layout import resolve_asset_headers
from feed_export.catalog.layout import resolve_headers
from feed_export.catalog.structure import Catalog
from feed_export.config import ExportOptions
from feed_export.feed.reader import Row
from feed_export.push.assets import AssetNamer, suffixed
from feed_export.push.decode import LineError, ProductLine, RowDecoder, state_payload

CATALOG = Catalog.from_dict(assets_catalog())
A = "https://cdn.test/a/front.jpg"
B = "https://cdn.test/b/front.jpg"


def products(header: list[str], tmp_path: Path, **options: Any) -> RowDecoder:
    chosen = ExportOptions(**options)
    layout = resolve_headers("f.csv", header, CATALOG, chosen)
    return RowDecoder(layout, chosen, assets=AssetNamer(tmp_path))


def assets(header: list[str], **options: Any) -> RowDecoder:
    chosen = ExportOptions(entity="assets", asset_family="packshots", **options)
    layout = resolve_asset_headers("a.csv", header, CATALOG, chosen)
    return RowDecoder(layout, chosen)


def line(decoder: RowDecoder, *cells: str, number: int = 2) -> ProductLine:
    found = decoder.decode(Row(number, tuple(cells)))
    assert isinstance(found, ProductLine), found
    return found


def body(found: ProductLine) -> dict[str, Any]:
    data: dict[str, Any] = orjson.loads(found.body)
    return data


def test_files_become_asset_refs_and_their_codes_go_in_the_line(tmp_path: Path) -> None:
    decoder = products(["sku", "packshots"], tmp_path)
    found = line(decoder, "TS-1", f"tee_label<###>{A}<###>img/Back view.png")
    assert body(found)["values"]["packshots"] == [
        {"locale": None, "scope": None, "data": ["tee_label", "front", "Backview"]}
    ]
    assert found.media == ()
    first, second = found.assets
    assert (first.mode, first.family, first.code, first.named) == (
        "asset",
        "packshots",
        "front",
        False,
    )
    assert (first.attribute, first.locale, first.scope, first.link) == (
        "packshots",
        None,
        None,
        None,
    )
    file = first.file
    assert (file.attribute, file.source, file.kind, file.header) == ("media", A, "url", "packshots")
    assert file.allowed_extensions == frozenset({"jpg", "jpeg", "png", "gif", "webp"})
    assert file.max_bytes == 10 * 1024 * 1024 and file.image
    assert (second.code, second.file.kind, second.file.source) == (
        "Backview",
        "path",
        "img/Back view.png",
    )
    # the sources say "this row changed" when only a picture's URL did
    assert state_payload(found).endswith(
        orjson.dumps([["packshots", A], ["packshots", "img/Back view.png"]])
    )


def test_codes_are_unique_in_the_family_across_rows_and_cells(tmp_path: Path) -> None:
    decoder = products(["sku", "packshots"], tmp_path)
    first = line(decoder, "TS-1", f"{A}<###>{B}")
    second = line(decoder, "TS-2", f"{B}<###>{A}", number=3)
    other = suffixed("front", B)
    assert body(first)["values"]["packshots"][0]["data"] == ["front", other]
    assert body(second)["values"]["packshots"][0]["data"] == [other, "front"]


def test_a_named_code_is_used_and_kept_from_others(tmp_path: Path) -> None:
    decoder = products(["sku", "packshots"], tmp_path)
    found = line(decoder, "TS-1", f"front={B}")
    (ref,) = found.assets
    assert (ref.code, ref.named) == ("front", True)
    later = line(decoder, "TS-2", A, number=3)
    assert body(later)["values"]["packshots"][0]["data"] == [suffixed("front", A)]


def test_a_link_family_carries_its_value(tmp_path: Path) -> None:
    decoder = products(["sku", "links"], tmp_path)
    (ref,) = line(decoder, "TS-1", A).assets
    assert (ref.family, ref.link, ref.file.attribute) == ("links", A, "url")


def test_a_bad_item_names_its_column(tmp_path: Path) -> None:
    decoder = products(["sku", "packshots"], tmp_path)
    found = decoder.decode(Row(2, ("TS-1", "front<###>front-view")))
    assert isinstance(found, LineError)
    assert found.problems == (
        "packshots: not an asset code (letters, digits and underscores) nor a file (a URL, or "
        'a path with its extension): "front-view"',
    )


def test_codes_alone_make_no_refs(tmp_path: Path) -> None:
    found = line(products(["sku", "packshots"], tmp_path), "TS-1", "a<###>b")
    assert found.assets == () and body(found)["values"]["packshots"][0]["data"] == ["a", "b"]


def test_without_a_namer_codes_come_from_the_file_names() -> None:
    chosen = ExportOptions()
    layout = resolve_headers("f.csv", ["sku", "packshots"], CATALOG, chosen)
    found = line(RowDecoder(layout, chosen), "TS-1", f"{A}<###>{B}")
    assert body(found)["values"]["packshots"][0]["data"] == ["front"]
    assert [r.code for r in found.assets] == ["front", "front"]


# -- an assets feed --------------------------------------------------------------------------


def test_an_assets_feed_row_is_an_asset_line() -> None:
    decoder = assets(["code", "media", "alt_text~en_US", "alt_text~fr_FR"])
    found = line(decoder, "tee_front", A, "Front", "")
    assert body(found) == {
        "code": "tee_front",
        "values": {
            "media": [{"locale": None, "channel": None, "data": A}],  # until uploaded
            "alt_text": [{"locale": "en_US", "channel": None, "data": "Front"}],
        },
    }
    (ref,) = found.assets
    assert (ref.mode, ref.code, ref.attribute, ref.locale, ref.scope) == (
        "media", "tee_front", "media", None, None,
    )  # fmt: skip
    assert (ref.file.source, ref.file.kind, ref.family) == (A, "url", "packshots")


def test_a_media_file_code_goes_as_it_is() -> None:
    code = "1/2/3/4/0123456789abcdef0123456789abcdef01234567_a.jpg"
    found = line(assets(["code", "media"]), "tee", code)
    assert body(found)["values"]["media"][0]["data"] == code and found.assets == ()


@pytest.mark.parametrize(
    ("cells", "problem"),
    [
        (("tee-front", ""), "code: an asset code holds only letters, digits and underscores"),
        (("tee", "a.exe"), "media: file type .exe is not allowed here"),
        (("", "a.jpg"), "code: is empty; every row needs one"),
    ],
    ids=["bad-code", "extension", "no-code"],
)
def test_an_assets_feed_row_that_cannot_go(cells: tuple[str, str], problem: str) -> None:
    found = assets(["code", "media"]).decode(Row(2, cells))
    assert isinstance(found, LineError)
    assert found.problems[0].startswith(problem)


def test_empty_cells_of_an_assets_feed_may_erase() -> None:
    decoder = assets(["code", "alt_text~en_US"], empty_cells="erase")
    assert body(line(decoder, "tee", "")) == {
        "code": "tee",
        "values": {"alt_text": [{"locale": "en_US", "channel": None, "data": None}]},
    }
    assert body(line(assets(["code", "alt_text~en_US"]), "tee", "")) == {"code": "tee"}
