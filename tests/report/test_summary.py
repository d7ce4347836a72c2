"""Run report: counting, grouping messages, exit codes."""

from __future__ import annotations

from pathlib import Path

import pytest

from feed_export.report.summary import DRY_RUN_MESSAGE, SKIPPED_MESSAGE, RunReport, message_group


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


def test_json_and_text_agree() -> None:
    report = RunReport(feed=Path("f.csv"), seconds=2.0)
    for _ in range(3):
        report.record(422, 'Not sent: weight@unit: unknown unit "XX"')
    report.record(201, "")
    data = report.to_json()
    assert data["statuses"] == {"201": 1, "422": 3}
    assert data["failed"] == 3 and data["accepted"] == 1
    assert data["top_messages"][0]["count"] == 3
    text = report.to_text()
    assert "201 created: 1" in text and "422: 3" in text
    assert "3 x Not sent: weight@unit" in text
