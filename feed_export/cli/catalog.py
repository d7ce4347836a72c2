"""The ``catalog pull`` command: the PIM's catalog -> a file, for ``--catalog``."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from feed_export.cli.flags import PULLED_SECTIONS, section_list
from feed_export.cli.groups import add_common, add_connection
from feed_export.cli.settings import pim_settings, retry_settings, sandbox_settings
from feed_export.cli.terminal import err
from feed_export.errors import ConfigError

if TYPE_CHECKING:
    from feed_export.config import Settings


def add_commands(sub: Any) -> None:
    """The ``catalog`` parser and its ``pull``."""
    cat = sub.add_parser(
        "catalog",
        help="catalog files for offline runs",
        description="catalog files for offline runs",
    )
    cat.set_defaults(group_help=cat.format_help)
    cat_sub = cat.add_subparsers(dest="catalog_command", metavar="ACTION")
    pull = cat_sub.add_parser(
        "pull",
        help="write the PIM's catalog to a file",
        description="write the PIM's catalog to a file, for --catalog: attributes, channels, "
        "locales, currencies, measurement families, and what a dry run checks like the PIM: "
        "families and their variants, the options of select attributes, categories, "
        "association types, where each product model sits, and the asset families with "
        "their attributes",
        epilog="examples:\n"
        "  # the catalog of the PIM in ./.env, for offline checks\n"
        "  feed-export catalog pull -o catalog.json\n"
        "  feed-export check feed.csv --catalog catalog.json\n\n"
        "  # a big PIM: only what the feed's columns need, without the categories\n"
        "  feed-export catalog pull -o catalog.json --attributes sku,name,price \\\n"
        "      --without categories\n",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    pull.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="FILE",
        help="the catalog file to write (- for standard output)",
    )
    pull.add_argument(
        "--attributes",
        metavar="CODES",
        help="comma-separated attribute codes (default: every attribute)",
    )
    pull.add_argument(
        "--without",
        metavar="SECTIONS",
        type=section_list,
        help="comma-separated sections to leave out, of: "
        + ", ".join(PULLED_SECTIONS)
        + " (a dry run then skips the checks that need them, saying so)",
    )
    pull.add_argument("--sandbox", action="store_true", help="pull from the embedded sandbox PIM")
    add_connection(pull)
    add_common(pull)


def run(args: argparse.Namespace) -> int:
    """Run ``catalog pull``; its exit code."""
    from feed_export.akeneo.client import AkeneoClient
    from feed_export.catalog.structure import write_catalog
    from feed_export.feed.writer import check_writable
    from feed_export.push.startup import log_in

    codes = (
        [c.strip() for c in args.attributes.split(",") if c.strip()] if args.attributes else None
    )
    without = [c.strip() for c in args.without.split(",") if c.strip()] if args.without else []
    if args.sandbox and args.env_file:
        raise ConfigError("--env-file names a PIM, --sandbox starts one: pass only one of them")
    if args.output != "-":
        check_writable(Path(args.output), "catalog file", "--output")

    def pull(settings: Settings) -> int:
        client = AkeneoClient(settings)
        try:
            log_in(client)
            sections = client.catalog_sections(codes, without=without)
            if args.output == "-":
                counts = write_catalog(sys.stdout, sections)
            else:
                # written beside the target, then moved: a pull that fails midway (its
                # options and product models are read as they are written) leaves the
                # catalog file as it was
                import io

                from feed_export.feed.output import create_file

                target = Path(args.output)
                part = target.with_name(target.name + ".part")
                try:
                    # created without following a planted symlink; the move replaces
                    # whatever is at the target's name, a link included, never its target
                    with io.TextIOWrapper(
                        create_file(part, "catalog file"), encoding="utf-8"
                    ) as out:
                        counts = write_catalog(out, sections)
                    os.replace(part, target)
                finally:
                    part.unlink(missing_ok=True)
        finally:
            client.close()
        said = ", ".join(f"{count} {name}" for name, count in counts.items())
        if args.output == "-":
            if not args.quiet:
                err(f"catalog written to standard output: {said}")
        elif not args.quiet:
            print(f"catalog written to {args.output}: {said}")
        return 0

    if args.sandbox:
        with sandbox_settings(None, retry_settings(args)) as settings:
            return pull(settings)
    return pull(pim_settings(args))
