"""The ``feed-export`` command: parse flags, load settings, call the library, print, exit.

Kept thin on purpose: every piece of work lives in the library (``run_push``, ``run_pull``).
Here are the entry point (``main``: the dispatch, errors -> exit codes, a closed stdout) and
the parser put together from the commands' modules:

  flags.py     the parser class and the checks of flag values; defaults from the option models
  groups.py    the flag groups the commands are made of
  settings.py  flags -> options, retry settings, the PIM's settings, a sandbox, tracking
  logs.py      logging set-up and secret redaction
  terminal.py  lines on stderr, the progress bar, Ctrl-C
  outputs.py   files or standard output, their collision checks, the summary
  push.py, pull.py, catalog.py, sandbox.py   the commands (push and check; pull, template
               and delete; catalog pull; sandbox)

The commands import the shared modules, never the other way round.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from feed_export._version import __version__
from feed_export.cli import catalog, pull, push, sandbox
from feed_export.cli.flags import PROG, Parser
from feed_export.cli.logs import quiet_libraries, setup_logging
from feed_export.cli.outputs import stdout_closed
from feed_export.cli.terminal import err
from feed_export.errors import FeedExportError

__all__ = ["build_parser", "main"]

MAIN_EXAMPLES = """\
examples:
  feed-export push sample_feeds/apparel.csv --sandbox
  feed-export check feed.csv --catalog catalog.json
  feed-export catalog pull -o catalog.json
  feed-export pull -o products.xlsx --family clothing
  feed-export sandbox --port 8080

Run 'feed-export COMMAND --help' for the flags of a command.
"""


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog=PROG,
        description="Move Productsup-style product feeds (CSV, XLSX) between spreadsheets and "
        "Akeneo PIM: push a feed and get a feedback file with the PIM's answer for every "
        "line; pull the PIM back into the same format.",
        epilog=MAIN_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    push.add_commands(sub)  # push, check
    catalog.add_commands(sub)  # catalog pull
    pull.add_commands(sub)  # pull, template, delete
    sandbox.add_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    if args.command == "catalog" and args.catalog_command is None:
        print(args.group_help(), end="", file=sys.stderr)  # the group's own help
        return 2
    setup_logging(args.verbose)
    quiet_libraries(args.debug)
    try:
        if args.command in ("push", "check"):
            return push.run(args, dry_run=args.command == "check" or args.dry_run)
        if args.command == "catalog":
            return catalog.run(args)
        if args.command in pull.COMMANDS:
            return pull.run(args)
        return sandbox.run(args)
    except BrokenPipeError:
        return stdout_closed()
    except FeedExportError as exc:
        if isinstance(exc.__cause__, BrokenPipeError):  # an output on stdout, cut short
            return stdout_closed()
        first, *rest = str(exc).split("\n")  # a header error lists its problems below
        err(f"{PROG}: error: {first}")
        for line in rest:
            err(line)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 3
    except Exception as exc:
        if args.debug:
            raise
        err(
            f"{PROG}: internal error: {type(exc).__name__}: {exc} "
            "(run with --debug for a traceback; please report it)"
        )
        return 3
