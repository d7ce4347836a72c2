"""The feed-export command: help, exit codes, messages, output streams."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import DEMO_CATALOG, SAMPLE_FEEDS, run_cli


def test_help_has_examples_and_exit_codes() -> None:
    result = run_cli(["push", "--help"])
    assert result.code == 0
    assert "examples:" in result.out
    assert "feed-export push sample_feeds/apparel.csv --sandbox" in result.out
    assert "exit codes:" in result.out
    for flag in (
        "--dry-run",
        "--catalog",
        "--payload-out",
        "--feedback",
        "--batch-size",
        "--value-separator",
        "--entity",
        "--sandbox",
        "--empty-cells",
        "--decimal-separator",
        "--date-format",
        "--ignore-unknown-columns",
    ):
        assert flag in result.out, flag


def test_no_command_prints_help_and_exits_2() -> None:
    result = run_cli([])
    assert result.code == 2
    assert "push" in result.err


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (
            ["push", "x.csv", "--batch-size", "101", "--dry-run", "--catalog", str(DEMO_CATALOG)],
            "--batch-size",
        ),
        (
            ["push", "x.csv", "--concurrency", "0", "--dry-run", "--catalog", str(DEMO_CATALOG)],
            "--concurrency",
        ),
        (["push", "x.csv", "--entity", "widgets"], "invalid choice"),
        (["push", "missing.csv", "--dry-run", "--catalog", str(DEMO_CATALOG)], "missing.csv"),
        (["push", str(SAMPLE_FEEDS / "apparel.csv")], "AKENEO_BASE_URL"),
        (
            ["push", str(SAMPLE_FEEDS / "apparel.csv"), "--dry-run", "--catalog", "nope.json"],
            "nope.json",
        ),
        (
            [
                "push",
                str(SAMPLE_FEEDS / "apparel.csv"),
                "--base-url",
                "http://pim.example.com",
                "--client-id",
                "a",
                "--client-secret",
                "b",
                "--username",
                "c",
                "--password",
                "d",
            ],
            "--allow-insecure-http",
        ),
    ],
    ids=[
        "batch-size",
        "concurrency",
        "entity",
        "missing-feed",
        "no-settings",
        "missing-catalog",
        "plain-http",
    ],
)
def test_usage_and_configuration_errors_exit_2(args: list[str], needle: str) -> None:
    result = run_cli(args)
    assert result.code == 2, result
    assert needle in result.err
    assert "Traceback" not in result.err


def test_check_prints_summary_and_writes_feedback(tmp_path: Path) -> None:
    feedback = tmp_path / "out" / "fb.csv"
    result = run_cli(
        [
            "check",
            str(SAMPLE_FEEDS / "apparel.csv"),
            "--catalog",
            str(DEMO_CATALOG),
            "--feedback",
            str(feedback),
        ]
    )
    assert result.code == 1
    assert "dry run of" in result.out
    assert "valid: 8" in result.out and "422: 3" in result.out
    assert feedback.exists()


def test_quiet_prints_nothing_on_stdout(tmp_path: Path) -> None:
    result = run_cli(
        [
            "check",
            str(SAMPLE_FEEDS / "apparel.csv"),
            "--catalog",
            str(DEMO_CATALOG),
            "--feedback",
            str(tmp_path / "fb.csv"),
            "-q",
        ]
    )
    assert result.code == 1
    assert result.out == ""


def test_summary_json_to_stdout(tmp_path: Path) -> None:
    result = run_cli(
        [
            "check",
            str(SAMPLE_FEEDS / "apparel.csv"),
            "--catalog",
            str(DEMO_CATALOG),
            "--feedback",
            str(tmp_path / "fb.csv"),
            "--summary-json",
            "-",
        ]
    )
    data = json.loads(result.out)
    assert data["statuses"] == {"422": 3, "skipped": 1, "valid": 8}
    assert data["exit_code"] == result.code == 1


def test_clean_feed_exits_0(tmp_path: Path) -> None:
    feed = tmp_path / "ok.csv"
    feed.write_text("sku;name~en_US;price@currency\nA;Shirt;10 EUR\n", encoding="utf-8")
    result = run_cli(["check", str(feed), "--catalog", str(DEMO_CATALOG)])
    assert result.code == 0
    assert (tmp_path / "ok.feedback.csv").read_text(encoding="utf-8").splitlines() == [
        "sku;name~en_US;price@currency;akeneo_status_code;akeneo_message",
        "A;Shirt;10 EUR;;Valid (dry run)",
    ]


def test_header_problems_listed_on_stderr_exit_2(tmp_path: Path) -> None:
    feed = tmp_path / "bad.csv"
    feed.write_text("sku,colour,weight\nA,red,3\n", encoding="utf-8")
    result = run_cli(["check", str(feed), "--catalog", str(DEMO_CATALOG)])
    assert result.code == 2
    assert "colour" in result.err and "weight" in result.err
    assert "@unit" in result.err


def test_sandbox_push_is_the_main_job(tmp_path: Path) -> None:
    feedback = tmp_path / "fb.csv"
    result = run_cli(
        ["push", str(SAMPLE_FEEDS / "apparel.csv"), "--sandbox", "--feedback", str(feedback)]
    )
    assert result.code == 1
    assert "201 created: 5" in result.out
    assert "sandbox PIM at http://127.0.0.1:" in result.err
