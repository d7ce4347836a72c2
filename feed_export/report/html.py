"""The run report as one self-contained HTML page (``--report FILE.html``).

Everything is inside the page: styles, a small script and the charts, drawn as inline SVG
here (so they show even where scripts are blocked, in a mail or a CI artifact viewer).
Nothing is fetched: no font, no script, no image from the network. The page shows the
outcomes as a chart and a table, the problems by column and by message with links to
their rows (and back), the answers and retries over time, the rows not accepted, and the
run's settings (never a secret). Text from the feed or the PIM is escaped (Jinja2's
autoescape).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from feed_export._version import __version__
from feed_export.report.model import OUTCOMES, RunReport
from feed_export.report.text import headline

#: one colour per outcome: green for the PIM holding the row, red to orange for what needs
#: fixing, greys for what was not tried
COLORS = {
    "created": "#1a7f37",
    "updated": "#2da44e",
    "unchanged": "#7ee2a8",
    "valid": "#0969da",
    "partly_saved": "#d4a72c",
    "partly_valid": "#bf8700",
    "rejected": "#cf222e",
    "bad_cells": "#fb8f44",
    "parent_not_saved": "#bc4c00",
    "feed_rejected": "#8250df",
    "stopped": "#8c959f",
    "skipped": "#d0d7de",
    "network": "#82071e",
    "unknown": "#6e5494",
    "deleted": "#1a7f37",
    "would_delete": "#0969da",
    "absent": "#d0d7de",
}
#: how much each part lists
PROBLEMS_SHOWN = 100
COLUMNS_SHOWN = 20
ROWS_PER_PROBLEM = 12
MAX_MESSAGE = 500
LABEL_CHARS = 32  # a column's name beside its bar (the whole name in the tooltip)


def render_html(report: RunReport, *, now: datetime | None = None) -> str:
    """The page for ``report`` (``now``: when it was written; tests pass a fixed time)."""
    from jinja2 import Environment, PackageLoader, select_autoescape

    env = Environment(
        loader=PackageLoader("feed_export.report", "templates"),
        autoescape=select_autoescape(default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env.get_template("report.html").render(**_context(report, now or datetime.now(UTC)))


def _context(report: RunReport, now: datetime) -> dict[str, Any]:
    counts = report.counts()
    noted_rows = {note.row for note in report.noted}
    problems = report.problem_list()
    code = report.exit_code
    verdict, verdict_class = {
        0: ("every row accepted" if not report.dry_run else "every row valid", "ok"),
        1: ("some rows were not accepted", "some"),
        2: ("nothing sent: the feed was rejected", "none"),
        3: ("the run was aborted", "none"),
    }[code]
    speed = report.speed
    return {
        "title": f"feed_export report: {report.feed.name}",
        "headline": headline(report),
        "written": now.strftime("%Y-%m-%d %H:%M UTC"),
        "version": __version__,
        "verdict": verdict,
        "verdict_class": verdict_class,
        "rows_total": report.rows,
        "rows_total_fmt": f"{report.rows:,}",
        "slices": _slices(counts),
        "counts": [
            {
                "kind": kind,
                "label": OUTCOMES[kind],
                "count": n,
                "count_fmt": f"{n:,}",
                "share": f"{100 * n / report.rows:.1f} %" if report.rows else "",
                "color": COLORS[kind],
            }
            for kind, n in counts.items()
            if n
        ],
        "aborted": report.aborted,
        "resumable": report.resumable,
        "header_problems": report.header_problems,
        "warnings": report.warnings,
        **_columns(problems),
        "problems": _problems(problems[:PROBLEMS_SHOWN], noted_rows),
        "problems_total": len(problems) + (1 if report.other_problems else 0),
        "problems_more": max(0, len(problems) - PROBLEMS_SHOWN),
        "timeline": _timeline(report),
        "retries": report.retries,
        "speed": f"{speed:,.0f}" if speed is not None else None,
        "noted": [
            {
                "row": note.row,
                "outcome": OUTCOMES[note.kind],
                "status": "" if note.status is None else note.status,
                "message": _capped(note.message, MAX_MESSAGE),
                "problems": " ".join(str(p) for p in note.problems),
                "links": note.problems,
            }
            for note in report.noted
        ],
        "noted_more": report.failed > len(report.noted),
        "settings": _settings(report),
    }


def _capped(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _slices(counts: dict[str, int]) -> list[dict[str, Any]]:
    """The donut of outcomes: one SVG path per outcome with rows (centre 130,130, r 120)."""
    total = sum(counts.values())
    out: list[dict[str, Any]] = []
    if not total:
        return out
    start = 0.0
    for kind, n in counts.items():
        if not n:
            continue
        sweep = n / total
        out.append(
            {
                "kind": kind,
                "count": n,
                "label": OUTCOMES[kind],
                "color": COLORS[kind],
                "path": _arc(start, min(sweep, 0.99999)),
            }
        )
        start += sweep
    return out


def _arc(start: float, sweep: float, cx: float = 130, cy: float = 130, r: float = 120) -> str:
    """A pie slice from ``start`` to ``start + sweep``: fractions of the circle from 12 o'clock."""

    def point(fraction: float) -> tuple[float, float]:
        angle = 2 * math.pi * fraction - math.pi / 2
        return cx + r * math.cos(angle), cy + r * math.sin(angle)

    x1, y1 = point(start)
    x2, y2 = point(start + sweep)
    large = 1 if sweep > 0.5 else 0
    return f"M {cx} {cy} L {x1:.2f} {y1:.2f} A {r} {r} 0 {large} 1 {x2:.2f} {y2:.2f} Z"


def _columns(problems: list[Any]) -> dict[str, Any]:
    """Problems by column: a bar per column (occurrences), most first."""
    by_column: Counter[str] = Counter()
    for problem in problems:
        if problem.column:
            by_column[problem.column] += problem.count
    ranked = by_column.most_common()
    shown = ranked[:COLUMNS_SHOWN]
    label_width = 8 + 7 * min(LABEL_CHARS, max((len(name) for name, _ in shown), default=4))
    peak = max((n for _, n in shown), default=1)
    bar_space = 420
    bars = []
    for i, (name, n) in enumerate(shown):
        bars.append(
            {
                "name": name,
                "label": _capped(name, LABEL_CHARS),
                "anchor": _anchor(name),
                "count": n,
                "count_fmt": f"{n:,}",
                "x": label_width,
                "label_x": label_width - 8,
                "y": 4 + i * 22,
                "width": max(2, round(bar_space * n / peak)),
            }
        )
    return {
        "columns": bars,
        "more_columns": len(ranked) - len(shown),
        "bars_width": label_width + bar_space + 60,
        "bars_height": 8 + 22 * len(bars),
    }


def _anchor(name: str) -> str:
    """An id-safe form of a column name (``price@currency`` -> ``price-currency``)."""
    return re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-") or "column"


def _problems(problems: list[Any], noted_rows: set[int]) -> list[dict[str, Any]]:
    seen_columns: set[str] = set()
    out = []
    for problem in problems:
        first = problem.column not in seen_columns
        seen_columns.add(problem.column)
        rows = problem.rows[:ROWS_PER_PROBLEM]
        values = problem.example_values if problem.seen_rows > 1 else []
        out.append(
            {
                "id": problem.id,
                "count": problem.seen_rows,
                "count_fmt": f"{problem.seen_rows:,}",
                "column": problem.column,
                "anchor": _anchor(problem.column),
                "first_of_column": first,
                "outcome": OUTCOMES[problem.kind],
                "message": _capped(problem.message, MAX_MESSAGE),
                "example": ", ".join(values),
                "rows": [{"row": r, "linked": r in noted_rows} for r in rows],
                "more": problem.seen_rows - len(rows),
                "linked": any(r in noted_rows for r in rows),
            }
        )
    return out


def _timeline(report: RunReport) -> dict[str, Any] | None:
    """Rows per time bucket as bars, the retries so far as a line (720 x 200 points)."""
    timeline = report.timeline
    if not timeline.rows:
        return None
    width, height, left, right, top, bottom = 720, 200, 8, 712, 24, 176
    count = len(timeline.rows)
    step = (right - left) / count
    peak = max(timeline.rows) or 1
    bars = []
    for i, rows in enumerate(timeline.rows):
        h = (bottom - top) * rows / peak
        bars.append(
            {
                "x": f"{left + i * step + step * 0.1:.2f}",
                "y": f"{bottom - h:.2f}",
                "width": f"{max(step * 0.8, 0.5):.2f}",
                "height": f"{h:.2f}",
                "rows": rows,
                "label": f"{i * timeline.width:g}-{(i + 1) * timeline.width:g} s: {rows:,} rows, "
                f"{timeline.retries[i]:,} retries so far",
            }
        )
    most = max(timeline.retries) or 0
    retry_path = ""
    if most:
        points = [
            (left + (i + 0.5) * step, bottom - (bottom - top) * n / most)
            for i, n in enumerate(timeline.retries)
        ]
        retry_path = "M " + " L ".join(f"{x:.2f} {y:.2f}" for x, y in points)
    span = count * timeline.width
    bucket = "second" if timeline.width == 1 else f"{timeline.width:g} s"
    return {
        "width": width,
        "height": height,
        "left": left,
        "right": right,
        "bottom": bottom,
        "bars": bars,
        "retry_path": retry_path,
        "peak": f"{peak:,}",
        "bucket": bucket,
        "span": f"{span:g} s",
    }


def _settings(report: RunReport) -> list[tuple[str, str]]:
    """The run's settings as (name, value) lines; the report never holds a secret."""
    lines: list[tuple[str, str]] = [
        ("feed", str(report.feed)),
        ("PIM", report.pim or "none (a catalog file)"),
    ]
    if report.catalog_file is not None:
        lines.append(("catalog file", str(report.catalog_file)))
    for name, value in report.settings.items():
        lines.append((name, _shown(value)))
    for name, path in (
        ("feedback", report.feedback),
        ("payload", report.payload_out),
        ("rejected rows", report.rejected_out),
    ):
        if path is not None:
            lines.append((name, "standard output" if str(path) == "<stdout>" else str(path)))
    return lines


def _shown(value: Any) -> str:
    if value is None:
        return "not set"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)
