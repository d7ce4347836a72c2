"""Where the command's outputs go, and the summary it writes at the end.

A file name or ``-`` for standard output (``output_target``, ``stdout_flag``), the checks
that an output replaces no input or other output (``check_cli_outputs``), the summary and
report writer (``write_summary``), and a quiet end when stdout's reader has gone
(``stdout_closed``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from feed_export.cli.flags import PROG
from feed_export.cli.terminal import err
from feed_export.errors import ConfigError

if TYPE_CHECKING:
    from feed_export.report.model import RunReport


def _same_file(a: Path, b: Path) -> bool:
    """Whether two paths name one file (existing or not; links and ``..`` resolved)."""
    with suppress(OSError):
        if a.exists() and b.exists():
            return a.samefile(b)
    return a.resolve() == b.resolve()


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def stdout_flag(args: argparse.Namespace, names: Sequence[str]) -> str | None:
    """The one output flag given as ``-`` (standard output), if any; two is a usage error."""
    dashes = [name for name in names if getattr(args, name, None) == "-"]
    if len(dashes) > 1:
        raise ConfigError(
            f"{' and '.join(_flag(n) for n in dashes)} both ask for standard output (-); "
            "only one output can go there: give the others a file name"
        )
    return dashes[0] if dashes else None


def output_target(value: str | None) -> Path | BinaryIO | None:
    """An output flag's value: a path, or standard output for ``-``."""
    if value is None:
        return None
    if value == "-":
        sys.stdout.flush()  # what print() buffered goes first
        return sys.stdout.buffer
    return Path(value)


def check_cli_outputs(args: argparse.Namespace) -> None:
    """The outputs the CLI writes itself (summary, report) are writable and collide with nothing.

    Checked before the run: they are written last, when a file they replace is already lost.
    """
    from feed_export.feed.writer import check_writable
    from feed_export.push.feedback import default_feedback_path

    feedback = args.feedback if args.feedback and args.feedback != "-" else None
    others = [
        ("the feed", args.feed),
        ("the feedback file", Path(feedback) if feedback else default_feedback_path(args.feed)),
        ("the --payload-out file", _path_or_none(args.payload_out)),
        ("the --rejected file", _path_or_none(args.rejected)),
        ("the --catalog file", args.catalog),
        ("the --state file", getattr(args, "state", None)),
    ]
    for flag, what in (("summary_json", "summary"), ("report", "report")):
        value = getattr(args, flag)
        if not value or value == "-":
            continue
        target = Path(value)
        for other_what, path in others:
            if path is not None and _same_file(target, path):
                raise ConfigError(
                    f"{_flag(flag)} {value} is {other_what}: "
                    f"the {what} would replace it; choose another file"
                )
        check_writable(target, what, _flag(flag))
        others.append((f"the {what}", target))


def _path_or_none(value: str | None) -> Path | None:
    return Path(value) if value and value != "-" else None


def write_summary_json(summary: dict[str, Any], target: str | None) -> None:
    """``--summary-json``: ``summary`` as indented JSON to the file ``target``, ``-`` for
    standard output; nothing when ``target`` is empty."""
    if not target:
        return
    from feed_export.feed.output import write_text

    text = json.dumps(summary, indent=2, ensure_ascii=False)
    if target == "-":
        print(text)
    else:
        write_text(Path(target), text + "\n", "summary")


def write_summary(report: RunReport, args: argparse.Namespace, stdout_taken: bool) -> None:
    """The report page, the JSON summary, then the text summary (stderr when stdout is taken)."""
    from feed_export.feed.output import write_text

    if args.report:
        from feed_export.report.html import render_html

        page = render_html(report)
        if args.report == "-":
            sys.stdout.write(page)
        else:
            write_text(Path(args.report), page, "report")
    write_summary_json(report.to_json(), args.summary_json)
    if not args.quiet:
        print(report.to_text(), file=sys.stderr if stdout_taken else sys.stdout)
    for warning in report.warnings:
        err(f"{PROG}: warning: {warning}")
    if report.aborted:
        err(f"{PROG}: error: run aborted: {report.aborted}")
    if report.header_problems:
        err(f"{PROG}: feed rejected, nothing sent:")
        for problem in report.header_problems:
            err(f"  - {problem}")


def stdout_closed() -> int:
    """Standard output was closed early (``| head``): end quietly, as Unix tools do.

    Python's advice: point stdout at devnull, so that the interpreter's last flush at exit
    does not fail again. The exit code of a process killed by SIGPIPE, 141, tells a script.
    """
    with suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    return 141
