"""The ``sandbox`` command: the embedded Akeneo-compatible PIM, run standalone until Ctrl-C."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, TextIO

from feed_export.cli.flags import number
from feed_export.cli.groups import add_common


def add_commands(sub: Any) -> None:
    """The ``sandbox`` parser."""
    sb = sub.add_parser(
        "sandbox",
        help="run the embedded Akeneo-compatible PIM standalone",
        description="run the embedded Akeneo-compatible PIM until Ctrl-C; it prints the "
        "settings to reach it",
        epilog="examples:\n"
        "  # a PIM on port 8080 that keeps its products between runs\n"
        "  feed-export sandbox --db pim.sqlite --env-out sandbox.env\n"
        "  feed-export push feed.csv --env-file sandbox.env      # in another terminal\n\n"
        "  # a slow PIM, to see how a push copes\n"
        "  feed-export sandbox --port 0 --latency 0.2\n",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sb.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: %(default)s)"
    )
    sb.add_argument(
        "--port",
        type=number(int, ge=0, le=65535),
        default=8080,
        help="port to listen on, 0 for any free one (default: %(default)s)",
    )
    sb.add_argument(
        "--db",
        type=Path,
        metavar="FILE",
        help="keep the products in this SQLite file (default: in memory, lost on exit)",
    )
    sb.add_argument(
        "--catalog",
        type=Path,
        metavar="FILE",
        help="the catalog to serve (default: the demo catalog)",
    )
    sb.add_argument(
        "--latency",
        type=number(float, ge=0, unit="seconds"),
        default=0.0,
        metavar="S",
        help="seconds added to every request, to try a slow PIM (default: %(default)g)",
    )
    sb.add_argument(
        "--env-out",
        metavar="FILE",
        help="write the settings to reach it as .env text, for --env-file (- for standard output)",
    )
    add_common(sb)


def run(args: argparse.Namespace) -> int:
    """Run the sandbox until Ctrl-C; its exit code."""
    from feed_export.sandbox import serve_forever_cli

    env_out: Path | TextIO | None = None
    out: TextIO = sys.stdout
    if args.env_out == "-":
        env_out, out = sys.stdout, sys.stderr  # the .env text alone on stdout
    elif args.env_out:
        env_out = Path(args.env_out)
    return serve_forever_cli(
        host=args.host,
        port=args.port,
        db=args.db,
        catalog=args.catalog,
        latency=args.latency,
        out=out,
        env_out=env_out,
    )
