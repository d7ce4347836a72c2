"""The feed-export command: help, exit codes, messages, output streams."""

from __future__ import annotations

import argparse
import base64
import json
import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import DEMO_CATALOG, SAMPLE_FEEDS, run_cli

from feed_export import cli
from feed_export.cli.logs import Redact, setup_logging
from feed_export.cli.settings import pim_settings
from feed_export.sandbox import Sandbox


@pytest.mark.parametrize(
    ("command", "example"),
    [
        (["push"], "feed-export push sample_feeds/apparel.csv --sandbox"),
        (["check"], "feed-export push feed.csv --dry-run --catalog catalog.json"),
        (["catalog", "pull"], "feed-export catalog pull -o catalog.json\n"),
        (["sandbox"], "feed-export sandbox --db pim.sqlite --env-out sandbox.env"),
        (["pull"], "feed-export pull -o catalog.xlsx --entity all"),
        (["template"], "feed-export template --family clothing -o clothing.xlsx"),
        (["delete"], "feed-export delete discontinued.csv --dry-run"),
    ],
    ids=["push", "check", "catalog-pull", "sandbox", "pull", "template", "delete"],
)
def test_every_command_shows_an_example(command: list[str], example: str) -> None:
    result = run_cli([*command, "--help"])
    assert result.code == 0
    # under the examples heading at the end of the help, after the flags
    heading = max(result.out.rfind("\nexamples:\n"), result.out.rfind("\nexample:\n"))
    assert heading > result.out.index("options:") and example in result.out[heading:]


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
    assert "Dry run of apparel.csv" in result.out
    # TS-1005 (category outlet) and TS-1006 (options purple, tommh): refused from the
    # catalog, as the push into the PIM refuses them (issue 11)
    assert "  6  valid (dry run)" in result.out and "  5  not sent: bad cells" in result.out
    assert feedback.exists()


def test_check_names_the_row_column_and_path_of_a_missing_file(tmp_path: Path) -> None:
    feed = tmp_path / "m.csv"
    feed.write_text(
        "sku,family,picture\nA,clothing,\nB,clothing,nope/missing.jpg\n", encoding="utf-8"
    )
    result = run_cli(["check", str(feed), "--catalog", str(DEMO_CATALOG)])
    why = (
        "picture not saved (nope/missing.jpg): file not found: nope/missing.jpg "
        "(paths are relative to the feed's folder)"
    )
    assert result.code == 1  # as the push's: the row would be saved without its picture
    lines = result.out.splitlines()
    assert lines[1:3] == ["  1  valid (dry run)", "  1  valid (dry run), but files would fail"]
    assert lines[5:7] == [f"  1 x Valid (dry run), except: {why}", "      row 3"]
    feedback = (tmp_path / "m.feedback.csv").read_text(encoding="utf-8").splitlines()
    assert feedback[2] == f'B,clothing,nope/missing.jpg,422,"Valid (dry run), except: {why}"'


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
    assert data["statuses"] == {"422": 5, "skipped": 1, "valid": 6}
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
    assert "  5  created" in result.out
    assert "sandbox PIM at http://127.0.0.1:" in result.err


# --- --summary-json never replaces a file of the run -------------------------------------


@pytest.mark.parametrize(
    ("extra", "what"),
    [
        (["--summary-json", "ok.csv"], "the feed"),
        (["--summary-json", "sub/../ok.csv"], "the feed"),
        (["--summary-json", "link.csv"], "the feed"),  # a symbolic link to the feed
        (["--summary-json", "ok.feedback.csv"], "the feedback file"),  # the default feedback
        (["--feedback", "fb.csv", "--summary-json", "fb.csv"], "the feedback file"),
        (["--payload-out", "lines.json", "--summary-json", "lines.json"], "--payload-out"),
        (["--summary-json", "cat.json"], "the --catalog file"),
        (["--state", "st.sqlite", "--summary-json", "st.sqlite"], "the --state file"),
    ],
    ids=["feed", "feed-other-spelling", "feed-symlink", "default-feedback", "feedback",
         "payload-out", "catalog", "state"],
)  # fmt: skip
def test_summary_json_never_replaces_a_file_of_the_run(
    tmp_path: Path, extra: list[str], what: str
) -> None:
    feed = tmp_path / "ok.csv"
    feed.write_text("sku,name~en_US\nA,Shirt\n", encoding="utf-8")
    (tmp_path / "sub").mkdir()
    (tmp_path / "link.csv").symlink_to(feed)
    catalog = tmp_path / "cat.json"
    catalog.write_bytes(DEMO_CATALOG.read_bytes())
    before = {p.name: p.read_bytes() for p in (feed, catalog)}
    result = run_cli(["push", "ok.csv", "--dry-run", "--catalog", "cat.json", *extra])
    assert result.code == 2, result.err
    assert what in result.err and "choose another file" in result.err
    assert {p.name: p.read_bytes() for p in (feed, catalog)} == before
    written = {p.name for p in tmp_path.iterdir()}
    assert written == {"ok.csv", "sub", "link.csv", "cat.json"}  # the run never started


def test_summary_json_beside_the_other_outputs_is_written(tmp_path: Path) -> None:
    feed = tmp_path / "ok.csv"
    feed.write_text("sku,name~en_US\nA,Shirt\n", encoding="utf-8")
    result = run_cli(
        ["check", "ok.csv", "--catalog", str(DEMO_CATALOG), "--summary-json", "ok.summary.json"]
    )
    assert result.code == 0, result.err
    assert json.loads((tmp_path / "ok.summary.json").read_text())["exit_code"] == 0
    assert (tmp_path / "ok.feedback.csv").exists()


# --- the log filter learns every secret, from every source -----------------------------

DOTENV_SECRET = "dotenv-SECRET-41b7"
DOTENV_PASSWORD = "dotenv/PASSWORD+é"


@pytest.fixture
def root_logger(monkeypatch: pytest.MonkeyPatch) -> logging.Logger:
    """The root logger, its handlers and level put back after the test."""
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", [])
    monkeypatch.setattr(root, "level", root.level)
    return root


def _redact_filter(root: logging.Logger) -> Redact:
    (found,) = [f for h in root.handlers for f in h.filters if isinstance(f, Redact)]
    return found


def test_settings_from_dotenv_teach_the_log_filter_every_form(
    tmp_path: Path, root_logger: logging.Logger
) -> None:
    """Regression: the filter knew the environment and the flags, never ./.env."""
    (tmp_path / ".env").write_text(
        "AKENEO_BASE_URL=https://pim.example.com\nAKENEO_CLIENT_ID=cid\n"
        f"AKENEO_CLIENT_SECRET={DOTENV_SECRET}\nAKENEO_USERNAME=u\n"
        f"AKENEO_PASSWORD={DOTENV_PASSWORD}\n",
        encoding="utf-8",
    )
    setup_logging(2)
    pim_settings(cli.build_parser().parse_args(["push", "feed.csv"]))
    basic = base64.b64encode(f"cid:{DOTENV_SECRET}".encode()).decode()
    escaped = json.dumps(DOTENV_PASSWORD)[1:-1]
    record = logging.LogRecord(
        "feed_export.x", logging.DEBUG, __file__, 1, "%s %s Basic %s {%s}",
        (DOTENV_SECRET, DOTENV_PASSWORD, basic, escaped), None,
    )  # fmt: skip
    assert _redact_filter(root_logger).filter(record)
    assert record.getMessage() == "*** *** Basic *** {***}"


def test_log_filter_redacts_tracebacks_too(root_logger: logging.Logger) -> None:
    setup_logging(0)
    handler = root_logger.handlers[0]
    _redact_filter(root_logger).learn([DOTENV_SECRET, "ab"])
    try:
        raise ValueError(f"careless {DOTENV_SECRET} ab")
    except ValueError:
        record = logging.LogRecord(
            "feed_export.x", logging.ERROR, __file__, 1, "failed", None, sys.exc_info()
        )
    assert handler.filter(record)
    text = handler.format(record)
    assert "careless *** ab" in text  # values under 3 characters are not redacted
    assert DOTENV_SECRET not in text


# --- start-up failures: nothing sent, nothing written, one plain sentence, exit 2 ---------


def _closed_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


EARLIER_FEEDBACK = "sku,name~en_US,akeneo_status_code,akeneo_message\nA,Shirt,201,\n"


@pytest.fixture
def small_feed(tmp_path: Path) -> Path:
    """A feed with the feedback file of an earlier run beside it."""
    feed = tmp_path / "ok.csv"
    feed.write_text("sku,name~en_US\nA,Shirt\n", encoding="utf-8")
    (tmp_path / "ok.feedback.csv").write_text(EARLIER_FEEDBACK, encoding="utf-8")
    return feed


def _credentials(base_url: str) -> list[str]:
    return ["--base-url", base_url, "--client-id", "cid", "--client-secret", "secret",
            "--username", "user", "--password", "password"]  # fmt: skip


@pytest.mark.parametrize("verbosity", [[], ["-v"], ["-vv"], ["-q"]], ids=["", "-v", "-vv", "-q"])
def test_unreachable_pim_exits_2_with_one_sentence(small_feed: Path, verbosity: list[str]) -> None:
    port = _closed_port()
    result = run_cli(
        ["push", str(small_feed), *_credentials(f"http://127.0.0.1:{port}"), *verbosity]
    )
    error = (
        f"feed-export: error: cannot connect to the PIM at 127.0.0.1:{port} (connection refused): "
        "check AKENEO_BASE_URL and that the PIM is running\n"
    )
    assert (result.code, result.out) == (2, "")
    if verbosity == ["-vv"]:  # one line while waiting, then the error
        waiting, rest = result.err.split("\n", 1)
        assert waiting.startswith("DEBUG feed_export.akeneo.client: cannot connect to the PIM")
        assert waiting.endswith("; trying once more in 0 s")
        assert rest == error
    else:
        assert result.err == error
    assert (small_feed.parent / "ok.feedback.csv").read_text() == EARLIER_FEEDBACK
    assert sorted(p.name for p in small_feed.parent.iterdir()) == ["ok.csv", "ok.feedback.csv"]


def test_refused_login_exits_2_and_keeps_the_last_feedback(
    sandbox: Sandbox, small_feed: Path
) -> None:
    sandbox.password = "not-this-one"
    result = run_cli(["push", str(small_feed)])
    assert (result.code, result.out) == (2, "")
    assert result.err == (
        f'feed-export: error: the PIM at {sandbox.url} refused to log in (422: "No user found '
        'for the given username and password"): check AKENEO_USERNAME and AKENEO_PASSWORD '
        "(the API connection's user)\n"
    )
    assert (small_feed.parent / "ok.feedback.csv").read_text() == EARLIER_FEEDBACK
    assert not (small_feed.parent / ".feed_export").exists()
    assert sandbox.stats.patch_requests == 0


def test_a_url_that_is_not_a_pim_exits_2(sandbox: Sandbox, small_feed: Path) -> None:
    result = run_cli(["push", str(small_feed), "--base-url", sandbox.url + "/not-here"])
    assert (result.code, result.out) == (2, "")
    assert result.err.startswith(
        f"feed-export: error: the PIM at {sandbox.url}/not-here refused to log in (404"
    )
    assert result.err.endswith("is AKENEO_BASE_URL the address of an Akeneo PIM?\n")
    assert (small_feed.parent / "ok.feedback.csv").read_text() == EARLIER_FEEDBACK


# --- flag errors: usage errors in plain words, before any work ---------------------------

FLAG_ERRORS = [
    (["--timeout", "-1"], "argument --timeout: must be more than 0 seconds, got -1"),
    (["--timeout", "soon"], "argument --timeout: expected a number of seconds, got 'soon'"),
    (["--timeout", "inf"], "argument --timeout: expected a number of seconds, got 'inf'"),
    (["--max-attempts", "0"], "argument --max-attempts: must be from 1 to 20, got 0"),
    (["--max-attempts", "2.5"], "argument --max-attempts: expected a whole number, got '2.5'"),
    (["--max-retry-delay", "-3"], "argument --max-retry-delay: must be 0 seconds or more, got -3"),
    (["--batch-size", "101"], "argument --batch-size: must be from 1 to 100, got 101"),
    (["--batch-size", "0"], "argument --batch-size: must be from 1 to 100, got 0"),
    (["--concurrency", "11"], "argument --concurrency: must be from 1 to 10, got 11"),
    (["--drain-timeout", "-1"], "argument --drain-timeout: must be 0 seconds or more, got -1"),
    (["--value-separator", ""], "argument --value-separator: must not be empty"),
    (
        ["--decimal-separator", ";"],
        "argument --decimal-separator: invalid choice: ';' (choose from '.', ',')",
    ),
    (
        ["--delimiter", ";;"],
        "argument --delimiter: must be one character such as , ; | or \\t (tab), got ';;'",
    ),
    (
        ["--encoding", "klingon"],
        "argument --encoding: unknown encoding 'klingon'; e.g. utf-8, latin-1, cp1252, utf-16",
    ),
    (
        ["--entity", "widgets"],
        "argument --entity: invalid choice: 'widgets' (choose from 'products', 'products-uuid', 'product-models', 'assets')",
    ),
    (
        ["--date-format", "dd/mm"],
        "argument --date-format: 'dd/mm' is not a date format; use dd/MM/yyyy, MM/dd/yyyy, dd.MM.yyyy, yyyy-MM-dd or a strftime pattern such as %d/%m/%Y",
    ),
    (
        ["--date-format", "%Y"],
        "argument --date-format: '%Y' does not read back a whole date (it must name the day, the month and the year); use dd/MM/yyyy, MM/dd/yyyy, dd.MM.yyyy, yyyy-MM-dd or a strftime pattern such as %d/%m/%Y",
    ),
]


@pytest.mark.parametrize(("flags", "says"), FLAG_ERRORS, ids=[" ".join(f) for f, _ in FLAG_ERRORS])
def test_each_bad_flag_is_a_usage_error(tmp_path: Path, flags: list[str], says: str) -> None:
    result = run_cli(["push", "missing.csv", "--sandbox", *flags])
    assert (result.code, result.out) == (2, "")
    assert result.err == (
        f"feed-export push: error: {says}\n(run 'feed-export push --help' for the flags)\n"
    )
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["sandbox", "--port", "70000"], "feed-export sandbox: error: argument --port: must be from 0 to 65535, got 70000"),
        (["sandbox", "--latency", "-1"], "feed-export sandbox: error: argument --latency: must be 0 seconds or more, got -1"),
        (["catalog", "pull", "-o", "c.json", "--timeout", "0"], "feed-export catalog pull: error: argument --timeout: must be more than 0 seconds, got 0"),
    ],
    ids=["port", "latency", "catalog-timeout"],
)  # fmt: skip
def test_bad_flags_of_other_commands(args: list[str], says: str) -> None:
    result = run_cli(args)
    assert result.code == 2
    assert result.err.startswith(says + "\n")


@pytest.mark.parametrize("spelling", ["dd/MM/yyyy", "dd/mm/yyyy", "%d/%m/%Y"])
def test_date_format_in_akeneo_spelling_reads_dates(tmp_path: Path, spelling: str) -> None:
    feed = tmp_path / "dates.csv"
    feed.write_text("sku,release_date\nA,29/04/2021\nB,2021-04-30\n", encoding="utf-8")
    out = tmp_path / "lines.ndjson"
    result = run_cli(
        ["check", str(feed), "--catalog", str(DEMO_CATALOG), "--date-format", spelling,
         "--payload-out", str(out), "-q"]
    )  # fmt: skip
    assert result.code == 0, result.err
    dates = [
        json.loads(line)["values"]["release_date"][0]["data"]
        for line in out.read_text().splitlines()
    ]
    assert dates == ["2021-04-29", "2021-04-30"]


def test_catalog_alone_prints_its_own_help() -> None:
    result = run_cli(["catalog"])
    assert result.code == 2
    assert result.err.startswith("usage: feed-export catalog [-h] ACTION ...")
    assert "write the PIM's catalog to a file" in result.err
    assert "push a feed" not in result.err  # not the top-level help


# --- conventions: - for standard output, --env-file, help, checks before anything starts ---


def test_feedback_to_standard_output_is_the_feedback_file(tmp_path: Path) -> None:
    feed = SAMPLE_FEEDS / "apparel.csv"
    on_disk = tmp_path / "fb.csv"
    run_cli(["check", str(feed), "--catalog", str(DEMO_CATALOG), "--feedback", str(on_disk), "-q"])
    result = run_cli(["check", str(feed), "--catalog", str(DEMO_CATALOG), "--feedback", "-"])
    assert result.code == 1
    assert result.raw == on_disk.read_bytes()
    assert "Dry run of apparel.csv" in result.err  # the summary moved to stderr
    assert "feedback: standard output" in result.err
    assert not (SAMPLE_FEEDS / "apparel.feedback.csv").exists()


def test_xlsx_feedback_to_standard_output_is_a_workbook(tmp_path: Path) -> None:
    import io

    from openpyxl import load_workbook

    feed = SAMPLE_FEEDS / "electronics.xlsx"
    result = run_cli(["check", str(feed), "--catalog", str(DEMO_CATALOG), "--feedback", "-", "-q"])
    assert result.code == 1 and result.raw.startswith(b"PK")
    sheet = load_workbook(io.BytesIO(result.raw)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][-2:] == ("akeneo_status_code", "akeneo_message") and len(rows) == 6


def test_payload_to_standard_output(tmp_path: Path) -> None:
    feed = SAMPLE_FEEDS / "apparel.csv"
    lines = tmp_path / "lines.ndjson"
    run_cli(["check", str(feed), "--catalog", str(DEMO_CATALOG), "--payload-out", str(lines), "-q",
             "--feedback", str(tmp_path / "a.csv")])  # fmt: skip
    result = run_cli(["check", str(feed), "--catalog", str(DEMO_CATALOG), "--payload-out", "-",
                      "--feedback", str(tmp_path / "b.csv")])  # fmt: skip
    assert result.raw == lines.read_bytes() and len(result.raw.splitlines()) == 6
    assert "payload: standard output" in result.err


def test_only_one_output_can_take_standard_output(tmp_path: Path) -> None:
    result = run_cli(["check", str(SAMPLE_FEEDS / "apparel.csv"), "--catalog", str(DEMO_CATALOG),
                      "--feedback", "-", "--summary-json", "-"])  # fmt: skip
    assert (result.code, result.out) == (2, "")
    assert result.err == (
        "feed-export: error: --feedback and --summary-json both ask for standard output (-); "
        "only one output can go there: give the others a file name\n"
    )


def _env_file(path: Path, sandbox: Sandbox) -> Path:
    from feed_export.sandbox.server import env_text

    path.write_text(env_text(sandbox, export=False), encoding="utf-8")
    return path


def test_env_file_names_the_pim_and_wins_over_the_environment(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    prod = _env_file(tmp_path / "prod.env", sandbox)
    # a variable left in the shell from another PIM must not win over the file named
    monkeypatch.setenv("AKENEO_BASE_URL", f"http://127.0.0.1:{_closed_port()}")
    feed = tmp_path / "ok.csv"
    feed.write_text("sku,name~en_US\nA,Shirt\n", encoding="utf-8")
    result = run_cli(["push", str(feed), "--env-file", str(prod), "-q"])
    assert result.code == 0, result.err
    assert sandbox.state.product("A") is not None


@pytest.mark.parametrize(
    ("content", "extra", "says"),
    [
        (None, [], "feed-export: error: --env-file {env}: file not found\n"),
        ("FOO=1\n", [], "feed-export: error: --env-file {env}: no AKENEO_* setting in it; it should hold lines such as AKENEO_BASE_URL=https://pim.example.com\n"),
        ("AKENEO_BASE_URL=http://127.0.0.1:9\n", ["--sandbox"], "feed-export: error: --env-file names a PIM, --sandbox starts one: pass only one of them\n"),
    ],
    ids=["missing", "not-settings", "with-sandbox"],
)  # fmt: skip
def test_env_file_problems(
    tmp_path: Path, content: str | None, extra: list[str], says: str
) -> None:
    env = tmp_path / "staging.env"
    if content is not None:
        env.write_text(content, encoding="utf-8")
    feed = tmp_path / "ok.csv"
    feed.write_text("sku,name~en_US\nA,Shirt\n", encoding="utf-8")
    result = run_cli(["push", str(feed), "--env-file", str(env), *extra])
    assert (result.code, result.out) == (2, "")
    assert result.err == says.format(env=env)


def _all_actions(parser: argparse.ArgumentParser) -> Iterator[tuple[str, argparse.Action]]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                for found, inner in _all_actions(sub):
                    yield f"{name} {found}", inner
        elif not isinstance(action, argparse._HelpAction | argparse._VersionAction):
            yield action.dest, action


def test_every_flag_has_help_and_shows_its_default() -> None:
    parser = cli.build_parser()
    checked = 0
    for where, action in _all_actions(parser):
        assert action.help and action.help != argparse.SUPPRESS, f"{where}: no help text"
        default = action.default
        if default not in (None, False, 0) and action.option_strings:
            assert "%(default)" in action.help, f"{where}: the help does not show {default!r}"
        checked += 1
    assert checked > 60
    text = " ".join(run_cli(["push", "--help"]).out.split())
    assert "(default: 100)" in text and "(default: <###>)" in text and "(default: 60)" in text


def test_the_feed_and_every_input_are_checked_before_the_sandbox_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[str] = []
    import feed_export.sandbox

    monkeypatch.setattr(feed_export.sandbox, "start_sandbox", lambda **_: started.append("x"))
    feed = tmp_path / "ok.csv"
    feed.write_text("sku,name~en_US\nA,Shirt\n", encoding="utf-8")
    not_a_catalog = tmp_path / "cat.json"
    not_a_catalog.write_text('{"foo": 1}', encoding="utf-8")
    (tmp_path / "folder").mkdir()
    cases = [
        (["push", "missing.csv", "--sandbox"], "feed-export: error: missing.csv: file not found\n"),
        (["push", str(tmp_path), "--sandbox"], f"feed-export: error: {tmp_path}: not a file\n"),
        (["check", str(feed), "--sandbox", "--catalog", str(not_a_catalog)],
         f'feed-export: error: {not_a_catalog}: not a catalog file: it has no "attributes" list (it has "foo"); a catalog file holds "attributes", "channels", "locales", "currencies" and "measurement_families": write one with feed-export catalog pull -o FILE\n'),
        (["push", str(feed), "--sandbox", "--feedback", str(tmp_path / "folder")],
         f"feed-export: error: {tmp_path / 'folder'}: is a folder; give the feedback file a file name (--feedback)\n"),
        (["push", str(feed), "--sandbox", "--payload-out", str(feed / "x.ndjson")],
         f"feed-export: error: {feed / 'x.ndjson'}: {feed} is a file, not a folder; choose another path for the payload file (--payload-out)\n"),
        (["push", str(feed), "--sandbox", "--summary-json", str(tmp_path / "folder")],
         f"feed-export: error: {tmp_path / 'folder'}: is a folder; give the summary a file name (--summary-json)\n"),
    ]  # fmt: skip
    for args, says in cases:
        result = run_cli(args)
        assert (result.code, result.err) == (2, says), args
    assert started == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cat.json", "folder", "ok.csv"]


def test_terminal_escapes_are_shown_not_run(tmp_path: Path) -> None:
    """A file name (or a PIM's message) with escape sequences cannot drive the terminal."""
    feed = tmp_path / "feed\x1b[2J\x1b]0;owned\x07.csv"
    feed.write_text("sku,stock_quantity\nA,many\n", encoding="utf-8")
    result = run_cli(["check", str(feed), "--catalog", str(DEMO_CATALOG)])
    assert result.code == 1
    assert "\x1b" not in result.out + result.err and "\x07" not in result.out + result.err
    assert "Dry run of feed\\x1b[2J\\x1b]0;owned\\x07.csv against" in result.out
    missing = run_cli(["check", str(tmp_path / "gone\x1b[31m.csv"), "--catalog", str(DEMO_CATALOG)])
    assert missing.err == f"feed-export: error: {tmp_path}/gone\\x1b[31m.csv: file not found\n"


def _closed_stdout_run(*args: str) -> tuple[int, str]:
    """Run the command with a standard output whose reader has gone (``| head``)."""
    import os
    import subprocess

    env = dict(os.environ, PYTHONPATH=str(Path(cli.__file__).parents[2]))
    proc = subprocess.Popen(
        [sys.executable, "-m", "feed_export", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # before it writes anything: every write to stdout fails
    err = proc.stderr.read().decode()
    return proc.wait(timeout=60), err


def test_a_closed_standard_output_ends_the_run_quietly(tmp_path: Path) -> None:
    feed = SAMPLE_FEEDS / "apparel.csv"
    code, err = _closed_stdout_run(
        "check", str(feed), "--catalog", str(DEMO_CATALOG), "--feedback", str(tmp_path / "a.csv")
    )
    assert (code, err) == (1, "")  # the run's own exit code; no BrokenPipeError
    code, err = _closed_stdout_run(
        "check", str(feed), "--catalog", str(DEMO_CATALOG), "--feedback", "-", "-q"
    )
    assert (code, err) == (141, "")  # an output cut short: as if killed by SIGPIPE


def test_catalog_pull_to_standard_output() -> None:
    result = run_cli(["catalog", "pull", "--sandbox", "-o", "-"])
    assert result.code == 0, result.err
    assert {"attributes", "channels", "locales"} <= set(json.loads(result.out))
    assert result.err.startswith("catalog written to standard output: ")


def test_sandbox_pushes_use_the_retry_flags(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from feed_export.akeneo import client as client_module

    seen = []
    original = client_module.AkeneoClient.__init__

    def spy(self: Any, settings: Any, **kwargs: Any) -> None:
        seen.append(settings.retry)
        original(self, settings, **kwargs)

    monkeypatch.setattr(client_module.AkeneoClient, "__init__", spy)
    feed = tmp_path / "apparel.csv"
    feed.write_bytes((SAMPLE_FEEDS / "apparel.csv").read_bytes())
    args = ["push", str(feed), "--sandbox", "-q"]
    result = run_cli([*args, "--max-attempts", "2", "--max-retry-delay", "0", "--timeout", "7"])
    assert result.code == 1, result.err
    assert [(r.max_attempts, r.max_retry_delay, r.request_timeout) for r in seen] == [(2, 0.0, 7.0)]
