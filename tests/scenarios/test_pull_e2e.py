"""The issue's story: pull the sample catalog to CSV and XLSX, change cells, push it back, and
see exactly those changes land (the command line, against the sandbox)."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from conftest import copy_sample, run_cli
from openpyxl import load_workbook

from feed_export.sandbox import Sandbox


def state(sandbox: Sandbox) -> dict[str, Any]:
    """Every product as the PIM shows it, by identifier, without its ``updated`` time."""
    return {
        p["identifier"]: {k: v for k, v in p.items() if k != "updated"}
        for p in sandbox.state.products()
    }


def in_order(values: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """An attribute's values sorted by channel and locale: their order means nothing to the
    PIM (the API answers in the order of its storage, not of the request)."""
    return sorted(values, key=lambda v: (str(v.get("scope")), str(v.get("locale"))))


def changed(before: dict[str, Any], after: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """identifier -> the top-level fields and values that differ (after's side), each
    attribute's values in channel and locale order."""
    out: dict[str, dict[str, Any]] = {}
    for key, product in after.items():
        old = before.get(key, {})
        diff = {k: v for k, v in product.items() if k != "values" and old.get(k) != v}
        values = product.get("values", {})
        diff.update(
            {
                f"values.{code}": in_order(v)
                for code, v in values.items()
                if in_order(old.get("values", {}).get(code) or []) != in_order(v)
            }
        )
        if diff:
            out[key] = diff
    return out


@pytest.fixture
def pim(sandbox: Sandbox, tmp_path: Path) -> Sandbox:
    for name in ("apparel.csv", "electronics.xlsx"):
        run_cli(
            [
                "push",
                str(copy_sample(name, tmp_path)),
                "--feedback",
                str(tmp_path / f"{name}.fb"),
                "-q",
            ]
        )
    return sandbox


def test_a_csv_pulled_edited_and_pushed_back_changes_exactly_the_edits(
    pim: Sandbox, tmp_path: Path
) -> None:
    pulled = tmp_path / "catalog.csv"
    assert run_cli(["pull", "-o", str(pulled), "--entity", "all", "-q"]).code == 0
    before = state(pim)
    with pulled.open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    header = rows[0]
    row = next(r for r in rows if r[1] == "TS-1001")
    row[header.index("name~en_US")] = "Crew tee, new edition"
    row[header.index("price@currency")] = "17.99 EUR<###>21.99 USD"
    with pulled.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)
    result = run_cli(["push", str(pulled), "--feedback", str(tmp_path / "fb.csv")])
    assert result.code == 0, result.out
    assert changed(before, state(pim)) == {
        "TS-1001": {
            "values.name": [
                {"locale": "de_DE", "scope": None, "data": "Rundhals-T-Shirt"},
                {"locale": "en_US", "scope": None, "data": "Crew tee, new edition"},
                {"locale": "fr_FR", "scope": None, "data": "T-shirt col rond"},
            ],
            "values.price": [
                {"locale": None, "scope": None, "data": [
                    {"amount": "17.99", "currency": "EUR"}, {"amount": "21.99", "currency": "USD"}]},
            ],
        }
    }  # fmt: skip


def test_an_xlsx_pulled_edited_in_a_spreadsheet_and_pushed_back(
    pim: Sandbox, tmp_path: Path
) -> None:
    pulled = tmp_path / "catalog.xlsx"
    assert run_cli(["pull", "-o", str(pulled), "--family", "electronics", "-q"]).code == 0
    before = state(pim)
    book = load_workbook(pulled)
    sheet = book.active
    assert sheet is not None
    header = [c.value for c in sheet[1]]
    for row in sheet.iter_rows(min_row=2):
        if row[0].value == "HP-5001":
            row[header.index("stock_quantity")].value = "41"
            row[header.index("is_new")].value = "false"
    book.save(pulled)
    result = run_cli(["push", str(pulled), "--feedback", str(tmp_path / "fb.xlsx"), "-q"])
    assert result.code == 0
    assert changed(before, state(pim)) == {
        "HP-5001": {
            "values.stock_quantity": [{"locale": None, "scope": None, "data": 41}],
            "values.is_new": [{"locale": None, "scope": None, "data": False}],
        }
    }


def test_check_calls_every_pulled_row_valid(pim: Sandbox, tmp_path: Path) -> None:
    pulled = tmp_path / "catalog.csv"
    assert run_cli(["pull", "-o", str(pulled), "--entity", "all", "-q"]).code == 0
    summary = tmp_path / "check.json"
    result = run_cli(["check", str(pulled), "--feedback", str(tmp_path / "fb.csv"),
                      "--summary-json", str(summary), "-q"])  # fmt: skip
    data = json.loads(summary.read_text())
    assert result.code == 0 and data["counts"]["valid"] == data["rows"] == 9
    assert data["values_not_kept"] == 0
