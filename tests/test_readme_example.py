"""The README's DataFrame example runs as it is, and prints what its comments say."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"
MARKER = "<!-- dataframe-example"


def example() -> str:
    text = README.read_text(encoding="utf-8")
    after = text[text.index(MARKER) :]
    found = re.search(r"```python\n(.*?)```", after, re.S)
    assert found is not None, "the README lost its DataFrame example"
    return found.group(1)


def test_the_dataframe_example_runs() -> None:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(example(), "README.md", "exec"), {"__name__": "readme"})
    lines = out.getvalue().splitlines()
    assert lines[0] == "0"
    assert lines[1] == "['201', '201']"
    assert (
        "TS-1" in out.getvalue() and "Crew tee" in out.getvalue() and "25.00 EUR" in out.getvalue()
    )
