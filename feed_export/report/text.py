"""The run report as the text a person reads in a terminal at the end of a run.

Counts in words, the PIM (host only), the problems most frequent first with their rows
and an example, the output files, and a speed only where it means something. Every line
goes through ``printable``: text from the feed or the PIM never moves the cursor, changes
colours or reorders what follows.
"""

from __future__ import annotations

import re
from pathlib import Path

from feed_export.report.model import OUTCOMES, Problem, RunReport

#: the longest problem message shown (its values are capped first)
MAX_MESSAGE = 200
#: rows named per problem before "and N more"
SHOWN_ROWS = 3

# control and formatting characters: C0 and C1 controls, DEL, bidi overrides and isolates,
# zero-width characters, line and paragraph separators, the BOM
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]")


def printable(text: str) -> str:
    """``text`` safe for a terminal: control and bidi characters shown as escapes.

    >>> printable("ok\\x1b[31m red\\u202e\\n")
    'ok\\\\x1b[31m red\\\\u202e\\\\n'
    """
    if not _UNPRINTABLE.search(text):
        return text
    return _UNPRINTABLE.sub(_escape, text)


def _escape(found: re.Match[str]) -> str:
    char = found.group(0)
    code = ord(char)
    if char == "\n":
        return "\\n"
    if char == "\t":
        return "\\t"
    if char == "\r":
        return "\\r"
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}"


def rows_phrase(rows: list[int], total: int, shown: int = SHOWN_ROWS) -> str:
    """``row 7``, ``rows 2 and 7``, ``rows 2, 7, 19 and 41 more``.

    >>> rows_phrase([2, 7, 19, 20], 44)
    'rows 2, 7, 19 and 41 more'
    >>> rows_phrase([2, 7, 19], 3), rows_phrase([5], 1)
    ('rows 2, 7 and 19', 'row 5')
    """
    if not rows:
        return ""
    if total == 1:
        return f"row {rows[0]}"
    head = [str(r) for r in rows[:shown]]
    more = total - len(head)
    if more > 0:
        return f"rows {', '.join(head)} and {more:,} more"
    return f"rows {', '.join(head[:-1])} and {head[-1]}"


def _plural(count: int, word: str, words: str = "") -> str:
    return f"{count:,} " + (word if count == 1 else words or word + "s")


def _duration(seconds: float) -> str:
    if seconds < 10:
        return f"{seconds:.2f} s"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {rest:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def _place(path: Path) -> str:
    """A file's path, or the stream an output went to (``<stdout>``: standard output)."""
    return "standard output" if str(path) == "<stdout>" else str(path)


def headline(report: RunReport) -> str:
    """The first line of the summary: what was done, to which PIM, how many rows, how long."""
    rows = _plural(report.rows, "row")
    took = _duration(report.seconds)
    if report.dry_run:
        against = (
            f"the catalog file {report.catalog_file.name}"
            if report.catalog_file is not None
            else f"the PIM at {report.pim}"
            if report.pim
            else "a catalog"
        )
        what = "Dry run of the deletion of" if report.action == "delete" else "Dry run of"
        return f"{what} {report.feed.name} against {against}: {rows} checked in {took}"
    target = f"the PIM at {report.pim}" if report.pim else "the PIM"
    if report.action == "delete":
        return f"Deletion of the rows of {report.feed.name} from {target}: {rows} in {took}"
    return f"Push of {report.feed.name} to {target}: {rows} in {took}"


def _problem_lines(problem: Problem, width: int) -> list[str]:
    message = problem.message
    if len(message) > MAX_MESSAGE:
        message = message[: MAX_MESSAGE - 1] + "…"
    where = rows_phrase(problem.rows, problem.seen_rows)
    values = problem.example_values
    if values and problem.seen_rows > 1:
        where += f"; e.g. {', '.join(values)} (row {problem.example_row})"
    count = f"{problem.seen_rows:,}"
    return [f"  {count:>{width}} x {message}", f"  {'':>{width}}   {where}"]


def missing_line(report: RunReport) -> str:
    """``push --missing``: what became of the products the feed no longer lists."""
    verb = "disabled" if report.missing_action == "disable" else "deleted"
    head = f"{_plural(report.missing, 'product')} absent from the feed"
    if report.missing_refused:
        return f"{head}: none {verb}, over --max-missing"
    failed = f", {report.missing_failed:,} failed" if report.missing_failed else ""
    where = f" (see {report.missing_out})" if report.missing_out else ""
    return f"{head}: {report.missing_done:,} {verb}{failed}{where}"


def render_text(report: RunReport, top: int = 8) -> str:
    """The summary printed at the end of a run."""
    out = [headline(report)]
    if report.header_problems:
        header = _plural(len(report.header_problems), "header problem")
        out.append(f"  feed rejected, nothing sent: {header} (listed on stderr)")
    counts = [(n, OUTCOMES[kind]) for kind, n in report.counts().items() if n]
    width = max((len(f"{n:,}") for n, _ in counts), default=1)
    for n, label in counts:
        out.append(f"  {n:>{width},}  {label}")
    if report.values_not_kept:
        rows = _plural(report.values_not_kept, "row")
        verb = "would drop" if report.dry_run else "dropped"
        out.append(f"  {rows} with values the PIM {verb} without a word (named on each row)")
    if report.missing_action:
        out.append("  " + missing_line(report))
    if not report.dry_run and report.lines_sent:
        out.append(
            f"  {_plural(report.lines_sent, 'line')} sent; "
            f"{_plural(report.requests, 'request')}, {_plural(report.retries, 'retry', 'retries')}"
        )
    speed = report.speed
    if speed is not None:
        out.append(f"  {speed:,.0f} rows/s")
    if report.resumed_from is not None:
        out.append(
            f"  resumed the push started {report.resumed_from}: "
            f"{_plural(report.resumed, 'row')} answered then, "
            f"{_plural(report.lines_sent, 'line')} sent now"
        )
    if report.aborted:
        out.append(f"  run aborted: {report.aborted}")
        if report.resumable:
            out.append("  the same command with --resume sends the rows not answered")

    problems = report.problem_list()
    if problems:
        total = len(problems) + (1 if report.other_problems else 0)
        out.append("")
        out.append(f"Problems, most frequent first ({total:,} in {_plural(report.failed, 'row')}):")
        width = max(len(f"{p.seen_rows:,}") for p in problems[:top])
        for problem in problems[:top]:
            out.extend(_problem_lines(problem, width))
        more = total - min(top, len(problems))
        if more > 0:
            out.append(
                f"  and {_plural(more, 'more problem')} (every one: --summary-json or --report)"
            )

    files = [
        ("feedback", report.feedback),
        ("payload", report.payload_out),
        ("rejected rows", report.rejected_out),
        ("report", report.report_out),
    ]
    shown = [(what, path) for what, path in files if path is not None]
    if shown:
        out.append("")
        for what, path in shown:
            out.append(f"{what}: {_place(path)}")
    return "\n".join(printable(line) for line in out)
