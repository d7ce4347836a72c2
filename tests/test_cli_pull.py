"""The ``pull``, ``template`` and ``delete`` commands, and ``push --missing``: flags, outputs,
exit codes, as a person meets them."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from conftest import SAMPLE_FEEDS, run_cli

from feed_export.sandbox import Sandbox


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """A sandbox database holding the apparel sample's products."""
    path = tmp_path / "pim.sqlite"
    result = run_cli(["push", str(SAMPLE_FEEDS / "apparel.csv"), "--sandbox", "--sandbox-db",
                      str(path), "--feedback", str(tmp_path / "fb.csv"), "-q"])  # fmt: skip
    assert result.code == 1  # the sample has wrong rows on purpose; 5 products are saved
    return path


def test_pull_writes_the_feed_and_says_what_it_did(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "pulled.xlsx"
    result = run_cli(["pull", "-o", str(out), "--sandbox", "--sandbox-db", str(db)])
    assert result.code == 0, result.err
    first, timing = result.out.splitlines()
    assert first.startswith("pulled 5 products from 127.0.0.1:") and first.endswith(
        f"into {out} (59 columns)"
    )
    assert timing.startswith("  ") and "requests" in timing
    assert out.read_bytes().startswith(b"PK")


def test_pull_to_standard_output_is_csv_and_the_summary_goes_to_stderr(db: Path) -> None:
    result = run_cli(["pull", "-o", "-", "--sandbox", "--sandbox-db", str(db),
                      "--attributes", "name", "--locales", "en_US"])  # fmt: skip
    assert result.code == 0
    lines = result.out.splitlines()
    assert lines[0].startswith("identifier,family,parent,categories,enabled,groups,name~en_US,")
    assert lines[1].startswith("TS-1001,clothing,,men<###>men_tshirts,true,,")
    assert "pulled 5 products" in result.err


def test_pull_summary_json(db: Path, tmp_path: Path) -> None:
    summary = tmp_path / "summary.json"
    result = run_cli(["pull", "-o", str(tmp_path / "p.csv"), "--sandbox", "--sandbox-db", str(db),
                      "--summary-json", str(summary), "-q"])  # fmt: skip
    assert result.code == 0 and result.out == ""
    import json

    data = json.loads(summary.read_text())
    assert (data["products"], data["exit_code"], data["values_without_column"]) == (5, 0, {})


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-o", "out.json"], "cannot tell the format from the name"),
        (["-o", "x.csv", "--search", '{"enabled": true}'], "argument --search: expected an object"),
        (["-o", "x.csv", "--search", "{"], "argument --search: not JSON"),
        (["-o", "x.csv", "--enabled", "--disabled"], "not allowed with argument --enabled"),
        (["-o", "x.csv", "--updated-since", "yesterday"], "expected a date or a date and time"),
        (["-o", "x.csv", "--identifiers", "missing.txt"], "--identifiers missing.txt: file not found"),
        (["-o", "x.csv", "--family", "clothng"], 'unknown family "clothng" (did you mean'),
        (["-o", "x.csv", "--entity", "product-models", "--enabled"], "product models have no enabled"),
        (["-o", "-", "--summary-json", "-"], "both ask for standard output"),
    ],
    ids=["format", "search-shape", "search-json", "enabled-disabled", "date", "identifiers-file",
         "family", "enabled-models", "two-stdout"],
)  # fmt: skip
def test_pull_usage_errors_exit_2_with_one_clear_line(args: list[str], message: str) -> None:
    result = run_cli(["pull", *args, "--sandbox"])
    assert result.code == 2
    assert message in result.err


def test_pull_from_a_pim_that_cannot_be_reached_exits_2_writing_nothing(tmp_path: Path) -> None:
    out = tmp_path / "p.csv"
    result = run_cli(["pull", "-o", str(out), "--base-url", "http://127.0.0.1:9", "--client-id",
                      "c", "--client-secret", "s", "--username", "u", "--password", "p"])  # fmt: skip
    assert result.code == 2 and "feed-export: error:" in result.err and not out.exists()


def test_identifiers_file_and_its_comments(db: Path, tmp_path: Path) -> None:
    wanted = tmp_path / "skus.txt"
    wanted.write_text("# the jacket and the tee\nJK-2001\n\nTS-1001\n")
    out = tmp_path / "p.csv"
    result = run_cli(["pull", "-o", str(out), "--identifiers", str(wanted), "--sandbox",
                      "--sandbox-db", str(db)])  # fmt: skip
    assert result.code == 0
    with out.open(newline="", encoding="utf-8") as f:
        pulled = [row[0] for row in csv.reader(f)][1:]  # cells may hold line breaks
    assert pulled == [
        "TS-1001",
        "JK-2001",
    ]


def test_template_writes_a_workbook(tmp_path: Path) -> None:
    out = tmp_path / "clothing.xlsx"
    result = run_cli(["template", "--family", "clothing", "-o", str(out), "--sandbox"])
    assert result.code == 0, result.err
    assert result.out == (
        f"template of family clothing written to {out}: 38 columns, 7 required by the family\n"
    )
    refused = run_cli(["template", "--family", "clothing", "-o", "-", "--sandbox"])
    assert refused.code == 2 and "a template is a file" in refused.err


def test_delete_off_a_terminal_needs_yes(db: Path, tmp_path: Path) -> None:
    feed = tmp_path / "gone.csv"
    feed.write_text("sku\nTS-1001\nJK-2001\n")
    refused = run_cli(["delete", str(feed), "--sandbox", "--sandbox-db", str(db)])
    assert refused.code == 2
    assert (
        "2 products would be deleted from 127.0.0.1:" in refused.err
        and "standard input is not a terminal to confirm it: nothing deleted; pass --yes"
        in refused.err
    )
    assert not (tmp_path / "gone.deletions.csv").exists()
    done = run_cli(["delete", str(feed), "--yes", "--sandbox", "--sandbox-db", str(db)])
    assert done.code == 0 and "  2  deleted" in done.out
    assert (tmp_path / "gone.deletions.csv").read_text().splitlines()[1] == "TS-1001,204,Deleted"


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(("answer", "code"), [("yes\n", 0), ("no\n", 2)], ids=["yes", "no"])
def test_delete_on_a_terminal_asks(
    db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, answer: str, code: int
) -> None:
    feed = tmp_path / "gone.csv"
    feed.write_text("sku\nTS-1001\n")
    monkeypatch.setattr("sys.stdin", _Terminal(answer))
    result = run_cli(["delete", str(feed), "--sandbox", "--sandbox-db", str(db)])
    assert result.code == code
    assert "Delete 1 product from the PIM at 127.0.0.1:" in result.err
    assert "This cannot be undone.\nType yes to delete: " in result.err


def test_delete_guard_and_dry_run(db: Path, tmp_path: Path) -> None:
    feed = tmp_path / "gone.csv"
    feed.write_text("sku\nTS-1001\nNOPE\n")
    guarded = run_cli(["delete", str(feed), "--yes", "--max-deletions", "1", "--sandbox",
                       "--sandbox-db", str(db)])  # fmt: skip
    assert guarded.code == 2 and "more than --max-deletions 1: nothing deleted" in guarded.err
    dry = run_cli(["delete", str(feed), "--dry-run", "--sandbox", "--sandbox-db", str(db)])
    assert dry.code == 0
    assert "  1  would be deleted (dry run)\n" in dry.out and "  1  not in the PIM" in dry.out


def test_push_missing_flags(tmp_path: Path, sandbox: Sandbox) -> None:
    feed = tmp_path / "feed.csv"
    feed.write_text("sku,family\nA,clothing\n")
    bad = run_cli(["push", str(feed), "--missing", "disable", "--max-missing", "five"])
    assert bad.code == 2 and "--max-missing 'five': expected a share such as 5%" in bad.err
    first = run_cli(["push", str(feed), "--missing", "disable", "-q"])
    assert first.code == 0 and (tmp_path / "feed.missing.csv").read_bytes() == (
        b"identifier,akeneo_status_code,akeneo_message\n"  # the feed's own line ending
    )
    feed.write_text("sku,family\nB,clothing\n")
    second = run_cli(["push", str(feed), "--missing", "disable", "--max-missing", "1"])
    assert second.code == 0
    assert "1 product absent from the feed: 1 disabled (see " in second.out
    assert sandbox.state.product("A")["enabled"] is False  # type: ignore[index]


def test_the_commands_are_listed_with_examples() -> None:
    result = run_cli(["--help"])
    assert "pull" in result.out and "template" in result.out and "delete" in result.out
    pull = run_cli(["pull", "--help"])
    assert pull.code == 0 and "--with-parent-values" in pull.out and "exit codes:" in pull.out


def test_push_missing_is_refused_for_an_assets_feed(tmp_path: Path) -> None:
    feed = tmp_path / "assets.csv"
    feed.write_text("code,media\nfront,a.png\n")
    result = run_cli(["push", str(feed), "--entity", "assets", "--asset-family", "packshots",
                      "--missing", "disable", "--sandbox"])  # fmt: skip
    assert result.code == 2
    assert "--missing disables or deletes products and product models" in result.err
