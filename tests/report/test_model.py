"""Run report: counting in words, grouping problems, exit codes, JSON and text agree."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feed_export.report.model import (
    DRY_RUN_MESSAGE,
    INTERRUPTED_NOT_SENT,
    INTERRUPTED_UNKNOWN,
    MAX_PROBLEMS,
    OUTCOMES,
    SKIPPED_MESSAGE,
    RunReport,
    Timeline,
    message_group,
    outcome_kind,
)


def test_messages_group_by_shape() -> None:
    a = message_group('Not sent: price@currency: unknown currency "XYZ" in "12 XYZ"')
    b = message_group('Not sent: price@currency: unknown currency "ABC" in "99.5 ABC"')
    assert a == b
    assert "XYZ" not in a


@pytest.mark.parametrize(
    ("outcomes", "aborted", "header", "code"),
    [
        ([], None, False, 0),
        ([(201, ""), (204, ""), (None, SKIPPED_MESSAGE)], None, False, 0),
        ([(None, DRY_RUN_MESSAGE)], None, False, 0),
        ([(201, ""), (422, "Validation failed.")], None, False, 1),
        ([(0, "connection refused")], None, False, 1),
        ([(400, "Not sent: feed rejected")], None, True, 2),
        ([(201, "")], "credentials rejected", False, 3),
    ],
    ids=["no-rows", "all-accepted", "dry-valid", "one-rejected", "network", "header", "aborted"],
)
def test_exit_codes(
    outcomes: list[tuple[int | None, str]], aborted: str | None, header: bool, code: int
) -> None:
    report = RunReport(feed=Path("f.csv"))
    for status, message in outcomes:
        report.record(status, message)
    report.aborted = aborted
    if header:
        report.header_problems = ["x"]
    assert report.exit_code == code
    assert report.rows == len(outcomes)


@pytest.mark.parametrize(
    ("status", "message", "kind"),
    [
        (201, "", "created"),
        (204, "", "updated"),
        (304, "Unchanged since 2026-11-28T07:10:00Z (not sent)", "unchanged"),
        (None, DRY_RUN_MESSAGE, "valid"),
        (None, SKIPPED_MESSAGE, "skipped"),
        (422, 'Not sent: weight@unit: unknown unit "pc"', "bad_cells"),
        (422, 'Not sent: parent "M1" was not saved (row 2: 422 ...)', "parent_not_saved"),
        (400, "Not sent: feed rejected: column 2 ...", "feed_rejected"),
        (0, INTERRUPTED_NOT_SENT, "stopped"),
        (0, "Not sent: run aborted (authentication failed: ...)", "stopped"),
        (0, INTERRUPTED_UNKNOWN, "unknown"),
        (0, "no answer within 60 s (read timeout) after 6 attempts over 62 s", "network"),
        (422, "Validation failed. values[brand]: The x value is not in the brand ...", "rejected"),
        (404, "Not Found", "rejected"),
        (422, "Saved (201), except: picture not saved (a.jpg): could not fetch it", "partly_saved"),
        (422, "Valid (dry run), except: picture not saved (a.jpg): not a file", "partly_valid"),
    ],
    ids=lambda v: str(v)[:30],
)
def test_outcomes_in_words(status: int | None, message: str, kind: str) -> None:
    assert outcome_kind(status, message) == kind
    assert kind in OUTCOMES


@given(
    st.lists(
        st.tuples(
            st.sampled_from([None, 0, 201, 204, 304, 400, 404, 422, 503]),
            st.sampled_from(
                [
                    "",
                    SKIPPED_MESSAGE,
                    DRY_RUN_MESSAGE,
                    "Not sent: a: b",
                    "Unknown: x",
                    "Saved (201), except: y",
                    "Bad",
                ]
            ),
        ),
        max_size=40,
    )
)
@settings(max_examples=200, deadline=None)
def test_every_row_has_exactly_one_outcome_in_words(rows: list[tuple[int | None, str]]) -> None:
    report = RunReport(feed=Path("f.csv"))
    for number, (status, message) in enumerate(rows, 2):
        report.record(status, message, row=number)
    counts = report.counts()
    assert list(counts) == list(OUTCOMES)
    assert sum(counts.values()) == report.rows == len(rows)
    accepted = sum(counts[k] for k in ("created", "updated", "unchanged", "valid"))
    assert accepted == report.accepted
    assert report.rows - accepted - counts["skipped"] == report.failed


def test_json_and_text_agree() -> None:
    report = RunReport(feed=Path("f.csv"), seconds=2.0, dry_run=True)
    for row in range(2, 5):
        report.record(
            422,
            'Not sent: weight@unit: unknown unit "XX"',
            ('weight@unit: unknown unit "XX"',),
            row,
        )
    report.record(None, DRY_RUN_MESSAGE, row=5)
    data = report.to_json()
    assert data["statuses"] == {"422": 3, "valid": 1}
    assert data["failed"] == 3 and data["accepted"] == 1
    assert data["counts"]["bad_cells"] == 3 and data["counts"]["valid"] == 1
    assert data["problems"][0]["count"] == 3 and data["problems"][0]["rows"] == [2, 3, 4]
    text = report.to_text()
    assert "  1  valid (dry run)" in text and "  3  not sent: bad cells" in text
    assert '3 x weight@unit: unknown unit "XX"' in text
    assert "rows 2, 3 and 4" in text


def _bad_cells(report: RunReport, rows: list[int], problem: str) -> None:
    for row in rows:
        report.record(422, "Not sent: " + problem, (problem,), row, (0,))


def test_a_problem_shows_its_rows_and_one_example() -> None:
    report = RunReport(feed=Path("f.csv"), header=("price@currency",))
    rows = [2, 7, 19, *range(30, 71)]
    for n, row in enumerate(rows):
        _bad_cells(report, [row], f'no currency in "{n}.99"; write it like "12.50 EUR"')
    (problem,) = report.problem_list()
    assert problem.count == problem.seen_rows == 44
    assert problem.column == "price@currency"
    # the hint is the same on every row: shown as it is; the amount differs: one example
    assert problem.message == 'no currency in "0.99"; write it like "12.50 EUR"'
    assert problem.example_values == ['"0.99"']
    text = report.to_text()
    assert '44 x no currency in "0.99"; write it like "12.50 EUR"' in text
    assert 'rows 2, 7, 19 and 41 more; e.g. "0.99" (row 2)' in text
    assert "…" not in text  # no short value is blanked out


def test_long_values_are_capped_short_ones_whole() -> None:
    report = RunReport(feed=Path("f.csv"))
    long = "x" * 500
    _bad_cells(report, [2], f'name: too long, got "{long}"')
    _bad_cells(report, [3], "sku: is empty; every row needs one")
    messages = [p.message for p in report.problem_list()]
    assert messages[0] == 'name: too long, got "' + "x" * 58 + "…"
    assert messages[1] == "sku: is empty; every row needs one"


def test_row_specific_paths_and_pim_values_group_together() -> None:
    report = RunReport(feed=Path("f.csv"))
    for row, (source, option) in enumerate(
        [("images/a b.jpg", "tommh"), ("https://cdn.example.com/x.png?1", "acmee")], 2
    ):
        report.record(
            422,
            f"Saved (201), except: picture not saved ({source}): could not fetch it: 404 Not Found",
            row=row,
        )
        report.record(
            422,
            f"Validation failed. values[brand]: The {option} value is not in the brand attribute option list.",
            row=row + 10,
        )
    problems = report.problem_list()
    assert [(p.kind, p.column, p.count) for p in problems] == [
        ("partly_saved", "", 2),
        ("rejected", "brand", 2),
    ]
    assert problems[0].example_values == ["images/a b.jpg"]
    assert problems[1].example_values == ["tommh"]


def test_several_pim_errors_in_one_answer_are_problems_of_their_own() -> None:
    report = RunReport(feed=Path("f.csv"))
    report.record(
        422,
        "Validation failed. values[color]: The red value is not in the color attribute option list."
        " | values[size]: The xxl value is not in the size attribute option list.",
        row=4,
    )
    assert [p.column for p in report.problem_list()] == ["color", "size"]
    assert report.noted[0].row == 4 and report.noted[0].problems == (0, 1)


def test_and_n_more_problems() -> None:
    report = RunReport(feed=Path("f.csv"))
    for n in range(12):
        _bad_cells(report, [n + 2], f"column{n}: bad")
    text = report.to_text(top=5)
    assert text.count(" x column") == 5
    assert "and 7 more problems" in text
    assert report.to_json(problems=5)["more_problems"] == 7


def test_problem_shapes_are_bounded() -> None:
    report = RunReport(feed=Path("f.csv"))
    for n in range(MAX_PROBLEMS + 10):
        report.record(422, f"Validation failed. values[a{n}]: no", row=n + 2)
    assert len(report.problems) == MAX_PROBLEMS and report.other_problems == 10


@pytest.mark.parametrize(
    ("seconds", "dry_run", "lines_sent", "aborted", "header", "speed"),
    [
        (2.0, True, 0, None, False, 50.0),
        (2.0, False, 100, None, False, 50.0),
        (0.2, True, 0, None, False, None),  # too short to mean anything
        (2.0, False, 0, None, False, None),  # nothing was sent
        (2.0, False, 100, "interrupted", False, None),
        (2.0, True, 0, None, True, None),  # a rejected feed
    ],
    ids=["dry-run", "push", "short", "nothing-sent", "aborted", "rejected"],
)
def test_speed_only_where_it_means_something(
    seconds: float,
    dry_run: bool,
    lines_sent: int,
    aborted: str | None,
    header: bool,
    speed: float | None,
) -> None:
    report = RunReport(feed=Path("f.csv"), seconds=seconds, dry_run=dry_run, lines_sent=lines_sent)
    for row in range(100):
        report.record(201 if not dry_run else None, "" if not dry_run else DRY_RUN_MESSAGE, row=row)
    report.aborted = aborted
    report.header_problems = ["x"] if header else []
    assert report.speed == speed
    assert report.to_json()["rows_per_second"] == speed
    assert ("rows/s" in report.to_text()) is (speed is not None)


def test_the_target_pim_is_named_by_host() -> None:
    report = RunReport(feed=Path("dir/f.csv"), pim="pim.example.com:8443")
    assert report.to_text().startswith("Push of f.csv to the PIM at pim.example.com:8443: ")
    assert report.to_json()["pim"] == "pim.example.com:8443"


def test_timeline_buckets_stay_bounded() -> None:
    timeline = Timeline()
    for second in range(10_000):
        timeline.add(second + 0.5, 2, second // 100)
    assert len(timeline.rows) <= Timeline.MAX_BUCKETS
    assert sum(timeline.rows) == 20_000
    assert timeline.retries[-1] == 99 and timeline.retries == sorted(timeline.retries)
