"""The dry run and the push agree, row for row (issue 11).

Over the sample feeds and a corpus of wrong feeds (family, option, category, parent,
axes, currency, association type, group, wrong-case headers, variants carrying values
of their parent's level, product models in the wrong family...): every row ``check
--catalog`` calls valid is accepted by ``push --sandbox``, and every row it refuses is
not. Then the checks themselves are held to the PIM: each line the catalog checks
refuse, sent anyway (decoded without them) to a fresh sandbox, is refused there too,
and each line they let through is accepted.
"""

from __future__ import annotations

import csv
import shutil
from collections.abc import Sequence
from pathlib import Path

import pytest
from conftest import DEMO_CATALOG, SAMPLE_FEEDS, copy_sample, run_cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from feed_export.akeneo.client import AkeneoClient
from feed_export.catalog.layout import resolve_headers
from feed_export.catalog.structure import Catalog
from feed_export.config import ExportOptions, Settings
from feed_export.feed.reader import is_blank, open_feed
from feed_export.push.decode import LineError, RowDecoder
from feed_export.push.media import FILES_NEED_IDENTIFIERS
from feed_export.sandbox import start_sandbox

MODEL_HEADER = ["entity", "code", "sku", "family", "family_variant", "parent", "color", "size"]

#: id -> (header, rows, extra flags)
CORPUS: dict[str, tuple[list[str], list[list[str]], list[str]]] = {
    "families": (
        ["sku", "family", "name~en_US"],
        [["F-1", "clothing", "ok"], ["F-2", "clothng", "typo"], ["F-3", "CLOTHING", "case"]],
        [],
    ),
    "options": (
        ["sku", "color", "size", "material"],
        [
            ["O-1", "black", "m", "cotton"],
            ["O-2", "navy", "m", "cotton"],
            ["O-3", "BLACK", "XL", "Cotton<###>wool"],
            ["O-4", "red", "m", "cotton<###>kevlar"],
        ],
        [],
    ),
    "options-created-where-allowed": (
        ["sku", "brand", "color", "material"],
        [
            ["C-1", "brand_new", "black", "cotton"],  # brand allows creating options
            ["C-2", "acme", "navy", "cotton"],  # color does not
            ["C-3", "acme", "red", "new_fibre"],  # material does
        ],
        ["--create-missing-options"],
    ),
    "categories": (
        ["sku", "categories"],
        [["K-1", "men<###>men_tshirts"], ["K-2", "men<###>outlet"], ["K-3", "MEN"]],
        [],
    ),
    "add-categories": (
        ["sku", "add_categories"],
        [["A-1", "sale"], ["A-2", "sales"]],
        [],
    ),
    "groups": (
        ["sku", "groups"],
        [["G-1", "summer_promo"], ["G-2", ""]],
        [],
    ),
    "currencies": (
        ["sku", "price@currency", "eco_tax@currency"],
        [
            ["P-1", "10.00 EUR<###>12 USD", "1 GBP"],
            ["P-2", "10 JPY", ""],  # known to the PIM, not activated
            ["P-3", "10 XYZ", ""],
        ],
        [],
    ),
    "association-types": (
        ["sku", "associations~X_SELL~products", "associations~NOPE~products"],
        [["AT-1", "", ""], ["AT-2", "", ""]],
        [],
    ),
    "quantified-as-plain": (
        ["sku", "associations~PRODUCT_SET~products"],
        [["Q-1", ""]],
        [],
    ),
    "wrong-case-headers": (
        ["SKU", "Name~EN_us", "COLOR", "Family", "PRICE@currency"],
        [["W-1", "Hello", "Black", "Clothing", "1 eur"], ["W-2", "x", "navy", "clothing", ""]],
        [],
    ),
    "variants": (
        [*MODEL_HEADER, "name~en_US", "ean"],
        [
            ["product_model", "tee", "", "clothing", "clothing_color_size", "", "", "", "Tee", ""],
            ["product_model", "tee-red", "", "", "", "tee", "red", "", "Red tee", ""],
            ["product", "", "tee-red-m", "", "", "tee-red", "", "m", "Red M", "4006381000001"],
            ["product", "", "tee-red-l", "", "", "tee-red", "", "", "", ""],  # no axis
            ["product", "", "tee-red-s", "", "", "tee", "", "s", "", ""],  # wrong level
            ["product_model", "tee-x", "", "", "", "tee-red", "blue", "", "", ""],  # too deep
            ["product", "", "orphan", "", "", "nosuch", "", "s", "", ""],
            ["product", "", "plain", "clothing", "", "", "", "", "Plain", ""],
        ],
        [],
    ),
    "models-in-another-family": (
        MODEL_HEADER,
        [
            ["product_model", "shoe", "", "electronics", "clothing_size", "", "", ""],
            ["product", "", "shoe-42", "", "", "shoe", "", "xl"],
            ["product_model", "bad", "", "", "clothing_colour", "", "", ""],
            ["product", "", "bad-1", "", "", "bad", "", "m"],
            ["product_model", "ok", "", "", "clothing_size", "", "", ""],
            ["product", "", "ok-1", "", "", "ok", "", "m"],
        ],
        [],
    ),
    "variants-refused-when-values-would-drop": (
        [*MODEL_HEADER, "name~en_US"],
        [
            ["product_model", "cap", "", "", "clothing_size", "", "", "", "Cap"],
            ["product", "", "cap-m", "", "", "cap", "", "m", ""],
            ["product", "", "cap-l", "", "", "cap", "", "l", "Cap L"],
        ],
        ["--refuse-dropped-values"],
    ),
}


def _write(path: Path, header: Sequence[str], rows: Sequence[Sequence[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _outcomes(feedback: Path) -> list[tuple[str, str]]:
    """(status, message) per data row of a feedback file (CSV or XLSX)."""
    if feedback.suffix == ".xlsx":
        sheet = load_workbook(feedback, read_only=True).active
        assert sheet is not None
        rows = [
            ["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)
        ]
    else:
        with feedback.open(encoding="utf-8", newline="") as fh:
            rows = list(csv.reader(fh))
    status = rows[0].index("akeneo_status_code")
    padded = [row + [""] * (status + 2 - len(row)) for row in rows[1:]]  # trailing blanks
    return [(row[status], row[status + 1]) for row in padded]


def _verdict(status: str, message: str) -> str:
    if message.startswith("Skipped"):
        return "skipped"
    if status in ("", "200", "201", "204"):
        return "accepted"
    return "refused"


def _check_and_push(feed: Path, flags: Sequence[str], tmp: Path) -> tuple[list, list]:
    suffix = feed.suffix
    checked = tmp / f"checked{suffix}"
    pushed = tmp / f"pushed{suffix}"
    check = run_cli(
        ["check", str(feed), "--catalog", str(DEMO_CATALOG), "--feedback", str(checked), "-q",
         *flags]
    )  # fmt: skip
    push = run_cli(["push", str(feed), "--sandbox", "--feedback", str(pushed), "-q", *flags])
    assert check.code in (0, 1, 2) and push.code in (0, 1, 2), check.err + push.err
    return _outcomes(checked), _outcomes(pushed)


def _assert_agree(checked: list[tuple[str, str]], pushed: list[tuple[str, str]]) -> None:
    assert len(checked) == len(pushed)
    for number, (dry, live) in enumerate(zip(checked, pushed, strict=True), start=2):
        assert _verdict(*dry) == _verdict(*live), f"row {number}: check {dry} / push {live}"
        if ", except: " in dry[1] and ", except: " in live[1]:
            # the values the PIM drops are named alike, and so are the files the push
            # could not read (saved, but without them: the same status)
            assert dry[1].split(", except: ", 1)[1] == live[1].split(", except: ", 1)[1]
            if _verdict(*dry) == "refused":
                assert dry[0] == live[0], f"row {number}: check {dry} / push {live}"
        elif _verdict(*dry) == "accepted":
            assert ", except: " not in dry[1] + live[1], f"row {number}: {dry} / {live}"


@pytest.mark.parametrize("name", [*CORPUS, "apparel.csv", "electronics.xlsx"])
def test_check_and_push_agree_row_for_row(name: str, tmp_path: Path) -> None:
    if name in CORPUS:
        header, rows, flags = CORPUS[name]
        feed = _write(tmp_path / "feed.csv", header, rows)
    else:
        feed = copy_sample(name, tmp_path)
        flags = []
    checked, pushed = _check_and_push(feed, flags, tmp_path)
    _assert_agree(checked, pushed)
    # the corpus holds both kinds of rows, so agreeing means something
    if name in CORPUS and name not in ("association-types", "quantified-as-plain"):
        verdicts = {_verdict(*o) for o in checked}
        assert verdicts >= {"accepted", "refused"}, checked


def test_the_corpus_verdicts(tmp_path: Path) -> None:
    """What the dry run says for the corpus's telling rows, in words."""
    header, rows, flags = CORPUS["variants"]
    feed = _write(tmp_path / "feed.csv", header, rows)
    checked, pushed = _check_and_push(feed, flags, tmp_path)
    note = "name~en_US not kept: it belongs to the product model level of family variant "
    assert checked[1] == ("", f"Valid (dry run), except: {note}clothing_color_size")
    assert pushed[1] == ("201", f"Saved (201), except: {note}clothing_color_size")
    assert checked[2] == ("", f"Valid (dry run), except: {note}clothing_color_size")
    assert pushed[2] == ("201", f"Saved (201), except: {note}clothing_color_size")
    assert checked[3][1] == (
        "Not sent: size: is empty, but size is an axis of family variant clothing_color_size: "
        'a variant product under "tee-red" needs a value'
    )
    assert checked[4][1].startswith('Not sent: parent: "tee" is the root product model of')
    assert checked[5][1].startswith('Not sent: parent: "tee-red" is a sub-product model')
    assert checked[6][1] == (
        'Not sent: parent: product model "nosuch" does not exist in the PIM nor in this feed'
    )
    assert checked[7] == ("", "Valid (dry run)")  # a simple product is not filtered


# --- files named by path ----------------------------------------------------------------

#: id -> (picture cell, packshots cell, family): the files a row names beside the feed
FILE_ROWS: dict[str, tuple[str, str, str]] = {
    "files that are there": ("pictures/ok.png", "pictures/ok.png", "clothing"),
    "a missing picture": ("pictures/gone.png", "", "clothing"),
    "a missing asset": ("", "pictures/gone.png", "clothing"),
    "a missing asset beside a good one": ("", "pictures/ok.png<###>nope/x.png", "clothing"),
    "a folder": ("pictures/folder.png", "", "clothing"),
    "up and out": ("../outside.png", "", "clothing"),
    "an asset up and out": ("", "../outside.png", "clothing"),
    "a link leading out": ("", "pictures/out.png", "clothing"),
    "an absolute path": ("/etc/hosts.png", "", "clothing"),
    "over the attribute's size limit": ("pictures/big.png", "", "clothing"),
    "the same missing picture again": ("pictures/gone.png", "", "clothing"),
    "no file": ("", "", "clothing"),
    "a missing picture and a bad family": ("pictures/gone.png", "", "clothng"),
}


def _files_beside(folder: Path) -> None:
    """What ``FILE_ROWS`` name: a picture, a folder, a file outside the feed's folder and a
    link to it, a file over the picture attribute's 5 MB (sparse: nothing written)."""
    pictures = folder / "feed" / "pictures"
    (pictures / "folder.png").mkdir(parents=True)
    shutil.copy(SAMPLE_FEEDS / "pictures" / "voltix-box.png", pictures / "ok.png")
    shutil.copy(SAMPLE_FEEDS / "pictures" / "voltix-box.png", folder / "outside.png")
    (pictures / "out.png").symlink_to(folder / "outside.png")
    with (pictures / "big.png").open("wb") as fh:
        fh.truncate(5 * 1024 * 1024 + 1)


def test_check_and_push_agree_on_the_files_rows_name(tmp_path: Path) -> None:
    _files_beside(tmp_path)
    rows = [[f"FILE-{i}", family, picture, packshots]
            for i, (picture, packshots, family) in enumerate(FILE_ROWS.values())]  # fmt: skip
    feed = _write(tmp_path / "feed" / "feed.csv", ["sku", "family", "picture", "packshots"], rows)
    checked, pushed = _check_and_push(feed, [], tmp_path)
    _assert_agree(checked, pushed)
    verdicts = {name: _verdict(*o) for name, o in zip(FILE_ROWS, checked, strict=True)}
    accepted = {"files that are there", "no file"}
    assert verdicts == {name: "accepted" if name in accepted else "refused" for name in FILE_ROWS}
    said = dict(zip(FILE_ROWS, checked, strict=True))
    not_found = "file not found: pictures/gone.png (paths are relative to the feed's folder)"
    assert said["a missing picture"] == (
        "422",
        f"Valid (dry run), except: picture not saved (pictures/gone.png): {not_found}",
    )
    assert said["a missing asset"] == (
        "422", f"Valid (dry run), except: packshots: pictures/gone.png: {not_found}"
    )  # fmt: skip
    assert said["a link leading out"][1].endswith(
        "packshots: pictures/out.png: the path leads outside the feed's folder: only files "
        "inside it are read"
    )
    assert said["over the attribute's size limit"][1].endswith(
        "file too large: 5,242,881 bytes, over the limit of picture (5,242,880 bytes)"
    )
    assert said["a missing picture and a bad family"][1].startswith("Not sent: family: ")


def test_check_and_push_agree_on_files_of_products_by_uuid(tmp_path: Path) -> None:
    """The upload names products by identifier: with --entity products-uuid a file by path
    or URL is not saved, and the dry run says so in the push's words."""
    _files_beside(tmp_path)
    header = ["uuid", "sku", "family", "picture"]
    rows = [
        ["0d3b4a1e-6c2f-4f57-9a51-2b6f0d5c7e11", "UU-1", "clothing", "pictures/ok.png"],
        ["5a0f8f0e-94b4-4a5e-8f11-0c2d4e6b7a22", "UU-2", "clothing", ""],
        ["7c1e2d3f-4a5b-4c6d-8e9f-0a1b2c3d4e33", "UU-3", "clothing", "https://cdn.example/a.png"],
    ]
    feed = _write(tmp_path / "feed" / "feed.csv", header, rows)
    checked, pushed = _check_and_push(feed, ["--entity", "products-uuid"], tmp_path)
    _assert_agree(checked, pushed)
    why = FILES_NEED_IDENTIFIERS
    assert checked == [
        ("422", f"Valid (dry run), except: picture not saved (pictures/ok.png): {why}"),
        ("", "Valid (dry run)"),
        ("422", f"Valid (dry run), except: picture not saved (https://cdn.example/a.png): {why}"),
    ]
    assert [status for status, _ in pushed] == ["422", "201", "422"]


def test_check_and_push_agree_on_an_assets_feeds_files(tmp_path: Path) -> None:
    _files_beside(tmp_path)
    rows = [
        ["ok_1", "pictures/ok.png", "there"],
        ["gone_1", "pictures/gone.png", "missing"],
        ["out_1", "../outside.png", "outside"],
        ["folder_1", "pictures/folder.png", "a folder"],
    ]
    feed = _write(tmp_path / "feed" / "assets.csv", ["code", "media", "alt_text~en_US"], rows)
    flags = ["--entity", "assets", "--asset-family", "packshots"]
    checked, pushed = _check_and_push(feed, flags, tmp_path)
    _assert_agree(checked, pushed)
    assert [_verdict(*o) for o in checked] == ["accepted", "refused", "refused", "refused"]
    assert checked[3] == ("422", "Valid (dry run), except: media: pictures/folder.png: not a file")


# --- the checks against the PIM itself -------------------------------------------------


def _unchecked_lines(feed: Path, flags: Sequence[str]) -> list[tuple[int, str, bytes | None]]:
    """Each data row's (number, entity, line decoded without the catalog checks)."""
    catalog = Catalog.from_file(DEMO_CATALOG)
    options = ExportOptions(create_missing_options="--create-missing-options" in flags)
    lines: list[tuple[int, str, bytes | None]] = []
    with open_feed(feed) as opened:
        layout = resolve_headers(str(feed), opened.header, catalog, options)
        decoder = RowDecoder(layout, options)
        for row in opened.rows():
            if is_blank(row.cells):
                continue
            result = decoder.decode(row)
            if isinstance(result, LineError):
                lines.append((row.number, "", None))
            else:
                lines.append((row.number, result.entity or "products", result.body))
    return lines


CHECKED_AGAINST_THE_PIM = [
    "families",
    "options",
    "options-created-where-allowed",
    "categories",
    "add-categories",
    "groups",
    "currencies",
    "wrong-case-headers",
    "variants",
]


@pytest.mark.parametrize("name", CHECKED_AGAINST_THE_PIM)
def test_what_the_checks_refuse_the_pim_refuses(name: str, tmp_path: Path) -> None:
    header, rows, flags = CORPUS[name]
    feed = _write(tmp_path / "feed.csv", header, rows)
    run_cli(["check", str(feed), "--catalog", str(DEMO_CATALOG), "-q", *flags])
    checked = _outcomes(tmp_path / "feed.feedback.csv")
    lines = _unchecked_lines(feed, flags)
    compared = 0
    with start_sandbox() as sb:
        settings = Settings(
            base_url=sb.url,
            client_id=sb.client_id,
            client_secret=sb.client_secret,  # type: ignore[arg-type]
            username=sb.username,
            password=sb.password,  # type: ignore[arg-type]
        )
        with AkeneoClient(settings) as client:
            for (number, entity, line), (status, message) in zip(lines, checked, strict=True):
                if line is None:
                    continue  # a codec's line error: not the checks' business
                (answer,) = client.patch_collection(
                    entity,  # type: ignore[arg-type]
                    [line],
                    create_missing_options="--create-missing-options" in flags,
                )
                pim_accepts = 200 <= answer.status < 300
                assert pim_accepts == (_verdict(status, message) == "accepted"), (
                    f"row {number}: check says {status} {message!r}, the PIM {answer}"
                )
                compared += 1
    assert compared


# --- the property, over generated feeds --------------------------------------------------

_FAMILIES = ["clothing", "electronics", "clothng", "Clothing"]
_COLORS = ["black", "red", "navy", "BLUE", ""]
_CATEGORIES = ["men", "men<###>sale", "outlet", "WOMEN", ""]
_PRICES = ["10 EUR", "5 USD<###>4 GBP", "3 JPY", "2 XYZ", ""]


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(_FAMILIES),
            st.sampled_from(_COLORS),
            st.sampled_from(_CATEGORIES),
            st.sampled_from(_PRICES),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_agreement_holds_for_generated_feeds(
    tmp_path_factory: pytest.TempPathFactory, cells: list[tuple[str, str, str, str]]
) -> None:
    tmp = tmp_path_factory.mktemp("generated")
    rows = [[f"G-{i}", *row] for i, row in enumerate(cells)]
    feed = _write(
        tmp / "feed.csv", ["sku", "family", "color", "categories", "price@currency"], rows
    )
    checked, pushed = _check_and_push(feed, [], tmp)
    _assert_agree(checked, pushed)
