"""The ``push`` and ``check`` commands: flags -> ``run_push`` -> summary -> exit code."""

from __future__ import annotations

import argparse
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from feed_export.cli.flags import PROG, model_defaults
from feed_export.cli.groups import (
    add_cells,
    add_common,
    add_connection,
    add_outputs,
    add_reading,
    add_sending,
    add_target,
    add_tracking,
)
from feed_export.cli.outputs import (
    check_cli_outputs,
    output_target,
    stdout_closed,
    stdout_flag,
    write_summary,
)
from feed_export.cli.settings import (
    export_options,
    pim_settings,
    retry_settings,
    run_tracking,
    sandbox_settings,
)
from feed_export.cli.terminal import Progress, err, interrupts
from feed_export.config import ExportOptions
from feed_export.errors import ConfigError

PUSH_EXAMPLES = """\
examples:
  # try a feed against the embedded sandbox PIM (no setup needed)
  feed-export push sample_feeds/apparel.csv --sandbox

  # check a feed offline against a catalog file; write the lines that would be sent
  feed-export push feed.csv --dry-run --catalog catalog.json --payload-out lines.ndjson

  # push to a real PIM; settings from flags, the environment or ./.env
  export AKENEO_BASE_URL=https://pim.example.com AKENEO_CLIENT_ID=... AKENEO_CLIENT_SECRET=...
  export AKENEO_USERNAME=... AKENEO_PASSWORD=...
  feed-export push feed.xlsx --feedback out/feedback.xlsx --summary-json summary.json

  # every hour: send only the rows that changed, and finish a push that was killed
  feed-export push feed.csv --only-changed --resume

exit codes:
  0  every row accepted (dry run: valid), or no data rows
  1  some rows rejected or failed (see the feedback file)
  2  nothing sent: usage, configuration, or a rejected feed
  3  aborted during the run (credentials stopped working, Ctrl-C): --resume continues it
"""

#: the output flags of a push, and how messages name what each writes
_OUTPUTS = {
    "feedback": "the feedback file",
    "payload_out": "the --payload-out file",
    "rejected": "the --rejected file",
    "summary_json": "the summary",
    "report": "the report",
}


def add_commands(sub: Any) -> None:
    """The ``push`` and ``check`` parsers."""
    options = model_defaults(ExportOptions)

    for name, help_text in (
        ("push", "push a feed to the PIM (or check it with --dry-run)"),
        ("check", "check a feed without sending anything (push --dry-run)"),
    ):
        p = sub.add_parser(
            name,
            help=help_text,
            description=help_text,
            epilog=PUSH_EXAMPLES,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        p.add_argument("feed", type=Path, metavar="FEED", help="CSV, TSV, .csv.gz or XLSX feed")
        add_outputs(p)
        add_target(p)
        add_reading(p)
        add_cells(p, options)
        add_sending(p, options, push=name == "push")
        if name == "push":
            add_tracking(p)
        add_connection(p)
        add_common(p)


def run(args: argparse.Namespace, dry_run: bool) -> int:
    """Run ``push`` (or ``check``, ``dry_run``); its exit code."""
    from feed_export.catalog.structure import Catalog
    from feed_export.feed.reader import check_feed_file
    from feed_export.feed.source import FeedSource, read_limits
    from feed_export.push.interrupt import Interrupt
    from feed_export.push.run import RunTargets, check_targets, run_push

    # every input and output is checked before anything starts (the sandbox included)
    stdout_output = stdout_flag(args, list(_OUTPUTS))
    options = export_options(args, dry_run)
    tracking = run_tracking(args, dry_run)
    if args.sandbox and args.env_file:
        raise ConfigError("--env-file names a PIM, --sandbox starts one: pass only one of them")
    catalog = Catalog.from_file(args.catalog) if args.catalog else None
    magic = check_feed_file(args.feed)
    if args.feedback == "-" and magic.startswith(b"PK") and sys.stdout.isatty():
        raise ConfigError(
            "--feedback -: the feedback of an XLSX feed is a workbook, not text for a "
            "terminal; redirect it (> feedback.xlsx) or give a file name"
        )
    source = FeedSource.file(
        args.feed,
        encoding=options.encoding,
        delimiter=options.delimiter,
        sheet=options.sheet,
        limits=read_limits(options),
    )
    targets = RunTargets(
        feedback=output_target(args.feedback),
        payload_out=output_target(args.payload_out),
        rejected=output_target(args.rejected),
    )
    check_targets(source, targets)
    check_cli_outputs(args)
    settings = None
    if not args.sandbox and not (dry_run and catalog is not None):
        settings = pim_settings(args)

    interrupt = Interrupt(getattr(args, "drain_timeout", 30.0))
    progress = Progress(sys.stderr.isatty() and not args.quiet)
    try:
        with interrupts(interrupt), ExitStack() as stack:
            if args.sandbox:
                # the sandbox serves the catalog file given: the push reads it from there,
                # as it would from a real PIM
                settings = stack.enter_context(
                    sandbox_settings(args.sandbox_db, retry_settings(args), args.catalog)
                )
                if not args.quiet:
                    err(f"{PROG}: sandbox PIM at {settings.base_url}")
                if not dry_run:
                    catalog = None
            report = run_push(
                source,
                options,
                catalog=catalog,
                settings=settings,
                targets=targets,
                tracking=tracking,
                interrupt=interrupt,
                progress=progress,
            )
    finally:
        progress.close()
    report.catalog_file = args.catalog
    if args.report:
        report.report_out = Path("<stdout>") if args.report == "-" else Path(args.report)
    try:
        write_summary(report, args, stdout_taken=stdout_output is not None)
    except BrokenPipeError:
        stdout_closed()  # the run is done: its exit code still tells what happened
    return report.exit_code
