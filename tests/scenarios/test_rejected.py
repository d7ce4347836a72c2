"""--rejected: the rows not accepted, as a feed to fix and push again (round trips)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from conftest import DEMO_CATALOG, run_cli
from openpyxl import Workbook, load_workbook

from feed_export.sandbox import Sandbox

HEADER = ["sku", "name~en_US", "stock_quantity", "brand", "release_date"]
ROWS = [
    ["A1", "Good", "1", "acme", "2024-01-01"],
    ["A2", "Bad quantity", "1.5", "acme", "2024-01-02"],  # a bad cell: not sent
    ["A3", "Unknown brand", "2", "nosuchbrand", "2024-01-03"],  # not an option: refused
    ["", "", "", "", ""],  # blank: skipped, nothing to fix
    ["A4", "Bad date, ünicode", "3", "acme", "31/02/2024"],  # a bad cell: not sent
    ["A5", "Good too", "5", "acme", ""],
]
FIXES = {"1.5": "1", "nosuchbrand": "acme", "31/02/2024": "2024-02-28"}


def _fixed(cells: list[str]) -> list[str]:
    return [FIXES.get(cell, cell) for cell in cells]


def test_fix_the_rejected_csv_and_push_it_again(sandbox: Sandbox, tmp_path: Path) -> None:
    feed = tmp_path / "feed.csv"
    # the feed's own dialect: semicolons, latin-1, CRLF
    with feed.open("w", encoding="latin-1", newline="") as fh:
        csv.writer(fh, delimiter=";", lineterminator="\r\n").writerows([HEADER, *ROWS])
    rejected = tmp_path / "feed.rejected.csv"
    first = run_cli(["push", str(feed), "--encoding", "latin-1", "--rejected", str(rejected), "-q"])
    assert first.code == 1, first.err

    raw = rejected.read_bytes()
    assert b"\r\n" in raw and "ünicode".encode("latin-1") in raw  # same encoding, line ends
    table = list(csv.reader(io.StringIO(raw.decode("latin-1"), newline=""), delimiter=";"))
    assert table[0] == [*HEADER, "akeneo_status_code", "akeneo_message"]
    assert [row[0] for row in table[1:]] == ["A2", "A3", "A4"]
    assert [row[-2] for row in table[1:]] == ["422", "422", "422"]
    assert "brand" in table[2][-1] and "nosuchbrand" in table[2][-1]

    # fix the cells, leave the feedback columns as they are, push the file
    with rejected.open("w", encoding="latin-1", newline="") as fh:
        writer = csv.writer(fh, delimiter=";", lineterminator="\r\n")
        writer.writerow(table[0])
        writer.writerows([*_fixed(row[: len(HEADER)]), *row[len(HEADER) :]] for row in table[1:])
    again = tmp_path / "again.rejected.csv"
    second = run_cli(
        ["push", str(rejected), "--encoding", "latin-1", "--rejected", str(again), "--summary-json", str(tmp_path / "s.json")]
    )  # fmt: skip
    assert second.code == 0, second.out + second.err
    assert "  3  created" in second.out
    assert again.read_text(encoding="latin-1").splitlines() == [
        ";".join([*HEADER, "akeneo_status_code", "akeneo_message"])
    ]  # nothing left to fix: the header alone
    for sku in ("A1", "A2", "A3", "A4", "A5"):
        assert sandbox.state.product(sku) is not None, sku


def test_fix_the_rejected_workbook_and_push_it_again(sandbox: Sandbox, tmp_path: Path) -> None:
    feed = tmp_path / "feed.xlsx"
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Products"
    for row in [HEADER, *ROWS]:
        sheet.append(row)
    book.save(feed)
    rejected = tmp_path / "feed.rejected.xlsx"
    assert run_cli(["push", str(feed), "--rejected", str(rejected), "-q"]).code == 1

    book = load_workbook(rejected)
    sheet = book.active
    assert sheet is not None and sheet.title == "Products"
    values = [
        [c if c is not None else "" for c in row] for row in sheet.iter_rows(values_only=True)
    ]
    assert values[0] == [*HEADER, "akeneo_status_code", "akeneo_message"]
    assert [row[0] for row in values[1:]] == ["A2", "A3", "A4"]
    for r, row in enumerate(values[1:], start=2):
        for c, cell in enumerate(row[: len(HEADER)], start=1):
            sheet.cell(r, c, FIXES.get(str(cell), str(cell)))
    book.save(rejected)

    result = run_cli(["push", str(rejected), "-q", "--summary-json", "-"])
    assert result.code == 0, result.err
    assert '"created": 3' in result.out


def test_rejected_goes_to_standard_output_and_refuses_collisions(tmp_path: Path) -> None:
    feed = tmp_path / "feed.csv"
    feed.write_text(",".join(HEADER) + "\n" + "\n".join(",".join(r) for r in ROWS) + "\n")
    result = run_cli(["check", str(feed), "--catalog", str(DEMO_CATALOG), "--rejected", "-"])
    assert result.code == 1
    # the dry run refuses what the push refuses, the unknown brand included (issue 11)
    assert [line.split(",")[0] for line in result.out.splitlines()] == ["sku", "A2", "A3", "A4"]
    assert "rejected rows: standard output" in result.err
    clash = run_cli(
        [
            "check",
            str(feed),
            "--catalog",
            str(DEMO_CATALOG),
            "--rejected",
            str(tmp_path / "feed.feedback.csv"),
        ]
    )
    assert clash.code == 2
    assert "--rejected" in clash.err and "is the feedback file too" in clash.err


@pytest.mark.parametrize("name", ["feed.xlsx", "feed.tsv"])
def test_rejected_must_keep_the_feeds_kind(tmp_path: Path, name: str) -> None:
    feed = tmp_path / "feed.csv"
    feed.write_text(",".join(HEADER) + "\n" + ",".join(ROWS[1]) + "\n")
    result = run_cli(
        ["check", str(feed), "--catalog", str(DEMO_CATALOG), "--rejected", str(tmp_path / name)]
    )
    if name.endswith(".xlsx"):
        assert result.code == 2 and "give the rejected-rows file a .csv name" in result.err
    else:
        assert result.code == 1  # a CSV under another CSV name is fine
