"""The text summary: terminal-safe lines, rows in words."""

from __future__ import annotations

from pathlib import Path

import pytest

from feed_export.report.model import RunReport
from feed_export.report.text import printable, rows_phrase


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("plain text, é ü 中文 ✓", "plain text, é ü 中文 ✓"),
        ("\x1b[2J\x1b[31mred", "\\x1b[2J\\x1b[31mred"),
        ("line\nbreak\ttab\rreturn", "line\\nbreak\\ttab\\rreturn"),
        ("bell\x07 del\x7f csi\x9b", "bell\\x07 del\\x7f csi\\x9b"),
        ("abc\u202edcba", "abc\\u202edcba"),  # right-to-left override
        ("zero\u200bwidth\ufeff", "zero\\u200bwidth\\ufeff"),
        ("sep\u2028arator", "sep\\u2028arator"),
    ],
    ids=["plain", "ansi", "whitespace", "c0-c1", "bidi", "zero-width", "line-separator"],
)
def test_printable(text: str, shown: str) -> None:
    assert printable(text) == shown


@pytest.mark.parametrize(
    ("rows", "total", "phrase"),
    [
        ([5], 1, "row 5"),
        ([2, 7], 2, "rows 2 and 7"),
        ([2, 7, 19], 3, "rows 2, 7 and 19"),
        ([2, 7, 19, 20], 4, "rows 2, 7, 19 and 1 more"),
        ([2, 7, 19, 20], 44, "rows 2, 7, 19 and 41 more"),
        ([2, 7, 19], 1_002_003, "rows 2, 7, 19 and 1,002,000 more"),
    ],
    ids=["one", "two", "three", "four", "many", "thousands"],
)
def test_rows_phrase(rows: list[int], total: int, phrase: str) -> None:
    assert rows_phrase(rows, total) == phrase


def test_pim_text_cannot_drive_the_terminal() -> None:
    report = RunReport(feed=Path("f\x1b]0;title\x07.csv"), pim="pim")
    report.record(422, "Validation failed. values[a]: \x1b[2J\x1b[Hgone\u202e", row=2)
    text = report.to_text()
    assert "\x1b" not in text and "\u202e" not in text and "\x07" not in text
    assert "\\x1b[2J\\x1b[Hgone\\u202e" in text
