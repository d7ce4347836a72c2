"""``safe_cell``: what a spreadsheet could run as a formula gets a leading quote."""

from __future__ import annotations

import pytest

from feed_export.feed.writer import safe_cell

CELLS = [
    ("equals", "=1+1", "'=1+1"),
    ("plus", "+1", "'+1"),
    ("minus", "-5", "'-5"),
    ("at", "@SUM(A1)", "'@SUM(A1)"),
    ("tab", "\t=1", "'\t=1"),
    ("carriage-return", "\r=1", "'\r=1"),
    ("line-feed", "\n=1", "'\n=1"),
    ("space-then-equals", " =1", "' =1"),
    ("spaces-then-plus", "   +1", "'   +1"),
    ("ideographic-space", "\u3000=1", "'\u3000=1"),
    ("fullwidth-equals", "\uff1d1", "'\uff1d1"),
    ("fullwidth-plus", "\uff0b1", "'\uff0b1"),
    ("fullwidth-minus", "\uff0d1", "'\uff0d1"),
    ("fullwidth-at", "\uff20x", "'\uff20x"),
    ("plain", "Created", "Created"),
    ("equals-later", "a=b", "a=b"),
    ("space-then-text", " ok", " ok"),
    ("empty", "", ""),
]


@pytest.mark.parametrize(("cell", "safe"), [c[1:] for c in CELLS], ids=[c[0] for c in CELLS])
def test_safe_cell(cell: str, safe: str) -> None:
    assert safe_cell(cell) == safe
