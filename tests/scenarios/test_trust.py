"""Trust: what the dry run says is what the push does; nothing the user wrote is erased."""

from __future__ import annotations

import csv
import zipfile
from pathlib import Path

import pytest
from conftest import DEMO_CATALOG, run_cli
from openpyxl import Workbook, load_workbook

from feed_export.sandbox import Sandbox


def _workbook(path: Path, rows: list[list[object]]) -> Path:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for values in rows:
        sheet.append(values)
    book.save(path)
    return path


def _with_error_cell(path: Path, cell: str, formula: str, error: str) -> None:
    """Give a formula cell the cached error value Excel would save."""
    with zipfile.ZipFile(path) as src:
        items = [(info, src.read(info.filename)) for info in src.infolist()]
    with zipfile.ZipFile(path, "w") as out:
        for info, data in items:
            if info.filename == "xl/worksheets/sheet1.xml":
                old = f'<c r="{cell}"><f>{formula}</f><v /></c>'
                assert old.encode() in data
                data = data.replace(
                    old.encode(), f'<c r="{cell}" t="e"><f>{formula}</f><v>{error}</v></c>'.encode()
                )
            out.writestr(info, data)


def _statuses(feedback: Path) -> list[tuple[str, str, str]]:
    book = load_workbook(feedback, read_only=True)
    sheet = book.active
    assert sheet is not None
    rows = [
        [("" if v is None else str(v)) for v in row] for row in sheet.iter_rows(values_only=True)
    ]
    return [(row[0], row[-2], row[-1]) for row in rows[1:]]


@pytest.mark.parametrize("command", ["check", "push"], ids=["check", "push"])
def test_excel_error_cells_are_line_errors_never_erases(
    command: str, sandbox: Sandbox, tmp_path: Path
) -> None:
    first = _workbook(
        tmp_path / "first.xlsx", [["sku", "family", "stock_quantity"], ["TS-9", "clothing", 12]]
    )
    assert run_cli(["push", str(first), "--feedback", str(tmp_path / "f1.xlsx")]).code == 0
    feed = _workbook(
        tmp_path / "feed.xlsx",
        [["sku", "stock_quantity", "name~en_US"], ["TS-9", "=1/0", "x"], ["TS-8", "=2+2", "y"]],
    )
    _with_error_cell(feed, "B2", "1/0", "#DIV/0!")
    args = [command, str(feed), "--empty-cells", "erase", "--feedback", str(tmp_path / "fb.xlsx")]
    if command == "check":
        args += ["--catalog", str(DEMO_CATALOG)]
    result = run_cli(args)
    assert result.code == 1, result.err
    assert _statuses(tmp_path / "fb.xlsx") == [
        (
            "TS-9",
            "422",
            "Not sent: stock_quantity: Excel error #DIV/0!; fix the formula or type the value",
        ),
        (
            "TS-8",
            "422",
            "Not sent: stock_quantity: a formula with no saved value; open and save the file in "
            "Excel",
        ),
    ]
    product = sandbox.state.product("TS-9")
    assert product is not None
    assert product["values"]["stock_quantity"][0]["data"] == 12  # not erased
    assert sandbox.state.product("TS-8") is None


def test_the_feedback_of_a_csv_feed_is_unaffected(tmp_path: Path) -> None:
    feed = tmp_path / "feed.csv"
    feed.write_text("sku,stock_quantity\nTS-1,#DIV/0!\n", encoding="utf-8")
    result = run_cli(["check", str(feed), "--catalog", str(DEMO_CATALOG)])
    assert result.code == 1
    with (tmp_path / "feed.feedback.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    # in a CSV file "#DIV/0!" is text someone typed: judged as a number like any text
    assert rows[1][2] == "422"
    assert 'stock_quantity: not a number: "#DIV/0!"' in rows[1][3]


def test_reference_data_types_go_out_in_the_pim_spelling_and_shape(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """The sandbox answers the PIM's type codes; a multi-select cell goes out as a list."""
    from feed_export.akeneo.client import AkeneoClient
    from feed_export.config import load_settings

    client = AkeneoClient(load_settings({}))
    kinds = {
        a["code"]: a["type"]
        for a in client.fetch_catalog(["fabrics", "lining_color"])["attributes"]
    }
    client.close()
    assert kinds == {
        "fabrics": "pim_reference_data_multiselect",
        "lining_color": "pim_reference_data_simpleselect",
    }
    feed = tmp_path / "feed.csv"
    feed.write_text("sku,fabrics,lining_color\nRD-1,silk<###>cotton,navy\n", encoding="utf-8")
    payload = tmp_path / "lines.ndjson"
    result = run_cli(["push", str(feed), "--payload-out", str(payload)])
    assert result.code == 0, result.err
    line = payload.read_text(encoding="utf-8")
    assert '"fabrics":[{"locale":null,"scope":null,"data":["silk","cotton"]}]' in line
    product = sandbox.state.product("RD-1")
    assert product is not None
    assert product["values"]["fabrics"][0]["data"] == ["silk", "cotton"]
    assert product["values"]["lining_color"][0]["data"] == "navy"


def _csv_outcomes(feedback: Path) -> list[tuple[str, str, str]]:
    with feedback.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    return [(row[0], row[-2], row[-1]) for row in rows[1:]]


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        (
            "extra",
            [
                (
                    "A-1",
                    "0",
                    'Unknown: the PIM\'s answer named another product ("C-3" instead '
                    'of "A-1"); the PIM may or may not have saved this row',
                ),
                ("B-2", "201", ""),
                ("C-3", "201", ""),
            ],
        ),
        (
            "shift",
            [
                ("A-1", "0", "no answer for this line"),
                (
                    "B-2",
                    "0",
                    'Unknown: the PIM\'s answer named another product ("A-1" instead '
                    'of "B-2"); the PIM may or may not have saved this row',
                ),
                (
                    "C-3",
                    "0",
                    'Unknown: the PIM\'s answer named another product ("B-2" instead '
                    'of "C-3"); the PIM may or may not have saved this row',
                ),
            ],
        ),
    ],
    ids=["an-extra-answer-first", "answers-shifted-by-one"],
)
def test_misplaced_answers_never_give_a_row_another_rows_verdict(
    sandbox: Sandbox, tmp_path: Path, fault: str, expected: list[tuple[str, str, str]]
) -> None:
    from feed_export.sandbox import Faults

    sandbox.faults = Faults(answers=fault)  # type: ignore[arg-type]
    feed = tmp_path / "feed.csv"
    feed.write_text("sku,name~en_US\nA-1,a\nB-2,b\nC-3,c\n", encoding="utf-8")
    result = run_cli(["push", str(feed), "--max-attempts", "1"])
    assert result.code == 1
    outcomes = _csv_outcomes(tmp_path / "feed.feedback.csv")
    for (sku, status, message), (want_sku, want_status, want_message) in zip(
        outcomes, expected, strict=True
    ):
        assert (sku, status) == (want_sku, want_status)
        assert message.startswith(want_message) if want_message else message == ""
    assert "names product" in result.err and "its row is Unknown" in result.err
    # every line was applied: only the answers were misplaced
    assert all(sandbox.state.product(sku) is not None for sku in ("A-1", "B-2", "C-3"))


def test_wrong_case_headers_and_hints_online_as_offline(sandbox: Sandbox, tmp_path: Path) -> None:
    """The live catalog resolves codes like the offline one (issue 11, point 3)."""
    feed = tmp_path / "feed.csv"
    feed.write_text("SKU;Name~EN_us;COLOR;Family\nW-1;Hello;Black;CLOTHING\n", encoding="utf-8")
    payload = tmp_path / "lines.ndjson"
    check = run_cli(["check", str(feed), "--catalog", str(DEMO_CATALOG), "-q"])
    push = run_cli(["push", str(feed), "-q", "--payload-out", str(payload)])
    assert (check.code, push.code) == (0, 0), check.err + push.err
    # the payload in the PIM's spelling: codes as the catalog writes them
    assert payload.read_text(encoding="utf-8") == (
        '{"identifier":"W-1","family":"clothing","values":{"name":[{"locale":"en_US",'
        '"scope":null,"data":"Hello"}],"color":[{"locale":null,"scope":null,"data":"black"}]}}\n'
    )
    product = sandbox.state.product("W-1")
    assert product is not None and product["family"] == "clothing"
    typo = tmp_path / "typo.csv"
    typo.write_text("sku,nmae~en_US\nW-2,x\n", encoding="utf-8")
    offline = run_cli(["check", str(typo), "--catalog", str(DEMO_CATALOG), "-q"])
    online = run_cli(["push", str(typo), "-q"])
    hint = 'column 2 "nmae~en_US": unknown attribute "nmae"; did you mean "name"?'
    assert offline.code == online.code == 2
    assert hint in offline.err and hint in online.err


def test_push_sandbox_serves_the_catalog_file_given(tmp_path: Path) -> None:
    """``push --sandbox --catalog FILE``: the sandbox serves FILE (issue 11, point 7)."""
    import json

    data = json.loads(DEMO_CATALOG.read_text(encoding="utf-8"))
    data["families"].append({"code": "toys", "attributes": ["sku", "name"]})
    data["categories"] = ["toys_all"]  # as catalog pull writes them: codes
    catalog = tmp_path / "catalog.json"
    catalog.write_text(json.dumps(data), encoding="utf-8")
    feed = tmp_path / "feed.csv"
    feed.write_text("sku,family,categories\nT-1,toys,toys_all\n", encoding="utf-8")
    result = run_cli(["push", str(feed), "--sandbox", "--catalog", str(catalog), "-q"])
    assert result.code == 0, result.err
    assert _csv_outcomes(tmp_path / "feed.feedback.csv") == [("T-1", "201", "")]
    demo = run_cli(["push", str(feed), "--sandbox", "-q"])  # the demo PIM has neither
    assert demo.code == 1
    assert _csv_outcomes(tmp_path / "feed.feedback.csv")[0][2] == (
        'Not sent: family: unknown family "toys" (known: accessories, clothing, electronics); '
        'categories: unknown category "toys_all"'
    )


def test_variants_under_models_of_the_pim_pulled_checked_and_pushed(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """Models already in the PIM: catalog pull lists them, check and push place their
    variants alike, and name the values the PIM drops (issue 11, points 1 and 4)."""
    models = tmp_path / "models.csv"
    models.write_text(
        "code,family_variant,parent,color,name~en_US\n"
        "tee,clothing_color_size,,,Tee\n"
        "tee-red,,tee,red,\n",
        encoding="utf-8",
    )
    assert run_cli(["push", str(models), "--entity", "product-models", "-q"]).code == 0
    catalog = tmp_path / "catalog.json"
    assert run_cli(["catalog", "pull", "-o", str(catalog), "-q"]).code == 0
    import json

    assert json.loads(catalog.read_text())["product_models"] == [
        {"code": "tee", "family_variant": "clothing_color_size", "parent": None},
        {"code": "tee-red", "family_variant": "clothing_color_size", "parent": "tee"},
    ]
    feed = tmp_path / "variants.csv"
    feed.write_text(
        "sku,parent,size,name~en_US,ean\n"
        "tee-red-m,tee-red,m,Red tee M,4006381000001\n"
        "tee-red-l,tee-red,l,,4006381000002\n"
        "tee-red-x,tea-red,xl,,\n",
        encoding="utf-8",
    )
    check = run_cli(["check", str(feed), "--catalog", str(catalog)])
    checked = _csv_outcomes(tmp_path / "variants.feedback.csv")
    push = run_cli(["push", str(feed), "--summary-json", str(tmp_path / "s.json"), "-q"])
    pushed = _csv_outcomes(tmp_path / "variants.feedback.csv")
    assert "  1 row with values the PIM would drop without a word (named on each row)" in (
        check.out
    )
    assert json.loads((tmp_path / "s.json").read_text())["values_not_kept"] == 1
    assert (check.code, push.code) == (1, 1), check.err + push.err
    note = (
        "name~en_US not kept: it belongs to the product model level of family variant "
        "clothing_color_size"
    )
    assert checked == [
        ("tee-red-m", "", f"Valid (dry run), except: {note}"),
        ("tee-red-l", "", "Valid (dry run)"),
        ("tee-red-x", "422", 'Not sent: parent: product model "tea-red" does not exist in the '
         'PIM nor in this feed; did you mean "tee-red"?'),
    ]  # fmt: skip
    assert pushed == [
        ("tee-red-m", "201", f"Saved (201), except: {note}"),
        ("tee-red-l", "201", ""),
        checked[2],
    ]
    product = sandbox.state.product("tee-red-m")
    assert product is not None
    assert product["values"]["name"][0]["data"] == "Tee"  # the model's, not the row's
