"""The ``pull``, ``template`` and ``delete`` commands: flags -> library call -> print -> exit code.

As thin as ``push``: the work is in ``pull.run_pull``, ``pull.template.pull_template`` and
``push.delete.run_delete``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any, get_args

from feed_export.cli.flags import (
    PROG,
    code_list,
    date_or_time,
    delimiter,
    encoding,
    model_defaults,
    non_empty,
    number,
    search_filter,
)
from feed_export.cli.groups import add_cell_format, add_common, add_connection
from feed_export.cli.outputs import output_target, write_summary, write_summary_json
from feed_export.cli.settings import (
    pim_settings,
    retry_settings,
    sandbox_settings,
    validation_problems,
)
from feed_export.cli.terminal import Progress, err, interrupts
from feed_export.config import DEFAULT_MAX_DELETIONS, ColumnOrder, PullEntity, PullOptions
from feed_export.errors import ConfigError

if TYPE_CHECKING:
    from feed_export.config import Settings
    from feed_export.push.delete import DeletePlan

COMMANDS = ("pull", "template", "delete")
#: lists a pull reads at once: Akeneo allows 4 concurrent calls per connection
MAX_WORKERS = 4

DELETE_EXAMPLES = """\
examples:
  # what would go: the feedback file says, row by row (nothing deleted)
  feed-export delete discontinued.csv --dry-run

  # delete, without a question (a script), refusing a feed of more than 50 products
  feed-export delete discontinued.csv --yes --max-deletions 50

exit codes:
  0  every row's product deleted (or not in the PIM)
  1  some deletions refused or failed (see the feedback file)
  2  nothing deleted: usage, no confirmation, over --max-deletions, no key column,
     a PIM that cannot be reached
  3  interrupted
"""

PULL_EXAMPLES = """\
examples:
  # the whole catalog, products and product models, in the push's own format
  feed-export pull -o catalog.xlsx --entity all

  # one family's enabled products changed since March, English and German columns only
  feed-export pull -o shirts.csv --family clothing --enabled \\
      --updated-since 2026-03-01 --locales en_US,de_DE

  # any filter of the API, as its reference writes it
  feed-export pull -o - --search '{"completeness":[{"operator":">","value":70,
      "scope":"ecommerce"}]}'

exit codes:
  0  every item written whole
  1  written, but some cells could not be (see the warnings)
  2  nothing written: usage, configuration, a PIM that cannot be reached or refuses the login
  3  stopped during the run (the output is left as it was)
"""


def add_commands(sub: Any) -> None:
    """The ``pull``, ``template`` and ``delete`` parsers."""

    pull_defaults = model_defaults(PullOptions)
    p = sub.add_parser(
        "pull",
        help="write the PIM's products (and product models) as a feed",
        description="write the PIM's products and product models as a feed in the push's own "
        "format (CSV, TSV, .csv.gz or XLSX): edit it and push it back",
        epilog=PULL_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="FILE",
        help="the feed to write: .csv, .tsv, .csv.gz or .xlsx (- for CSV on standard output)",
    )
    p.add_argument(
        "--entity",
        choices=get_args(PullEntity),
        default=pull_defaults["entity"],
        help="what to pull; all: one mixed feed with an entity column, parents before "
        "children (default: %(default)s)",
    )
    g = p.add_argument_group("which items (all filters apply together)")
    g.add_argument(
        "--family",
        type=code_list,
        action="append",
        metavar="CODES",
        help="only these families (comma-separated, repeatable)",
    )
    g.add_argument(
        "--category",
        type=code_list,
        action="append",
        metavar="CODES",
        help="only items in these categories (comma-separated, repeatable)",
    )
    state = g.add_mutually_exclusive_group()
    state.add_argument(
        "--enabled", dest="enabled", action="store_const", const=True, help="only enabled products"
    )
    state.add_argument(
        "--disabled",
        dest="enabled",
        action="store_const",
        const=False,
        help="only disabled products",
    )
    g.add_argument(
        "--updated-since",
        type=date_or_time,
        metavar="WHEN",
        help="only items updated after this date or time (ISO-8601)",
    )
    g.add_argument(
        "--identifiers",
        type=Path,
        metavar="FILE",
        help="only these identifiers (codes for product models): one a line",
    )
    g.add_argument(
        "--partition",
        type=search_filter,
        action="append",
        metavar="JSON",
        help="read this slice of the items side by side with the other --partition slices "
        "(repeatable; up to 4 at once; the slices must not overlap and must cover what "
        "you want), e.g. by updated time: faster over a distant PIM",
    )
    g.add_argument(
        "--search",
        type=search_filter,
        metavar="JSON",
        help="any search filter of the API, as its reference writes it",
    )
    c = p.add_argument_group("which columns")
    c.add_argument(
        "--locales",
        type=code_list,
        metavar="CODES",
        help="localizable values in these locales only (default: every activated one)",
    )
    c.add_argument(
        "--channels",
        type=code_list,
        metavar="CODES",
        help="scopable values of these channels only (default: every channel)",
    )
    c.add_argument(
        "--attributes",
        type=code_list,
        metavar="CODES",
        help="these attribute columns, in this order (default: the attributes of "
        "the families pulled)",
    )
    c.add_argument(
        "--column-order",
        choices=get_args(ColumnOrder),
        default=pull_defaults["column_order"],
        help="attributes in the families' order or by attribute group (default: %(default)s)",
    )
    c.add_argument(
        "--with-parent-values",
        action="store_true",
        help="variant rows with their parents' values filled in (flat rows); "
        "by default a row holds its own level's values, as the PIM keeps them",
    )
    c.add_argument(
        "--download-media",
        type=Path,
        metavar="DIR",
        help="download image and file values into DIR and write their paths "
        "(relative to the feed) instead of media-file codes",
    )
    w = p.add_argument_group("cells (as the push reads them back)")
    add_cell_format(w, pull_defaults)
    p.add_argument("--summary-json", metavar="FILE", help="the summary as JSON (- for stdout)")
    t = p.add_argument_group("the PIM")
    t.add_argument("--sandbox", action="store_true", help="pull from the embedded sandbox PIM")
    t.add_argument(
        "--sandbox-db", type=Path, metavar="FILE", help="the sandbox's SQLite file (its products)"
    )
    add_connection(p)
    add_common(p)

    t = sub.add_parser(
        "template",
        help="write the header row of a family's feed, to fill in",
        description="write the columns a feed for one family needs (required attributes "
        "first); as XLSX, with drop-down lists of the options and a comment on each header "
        "giving the attribute's label and type, to fill in a spreadsheet and push as it is",
        epilog="example:\n  feed-export template --family clothing -o clothing.xlsx\n",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    t.add_argument("--family", required=True, metavar="CODE", help="the family")
    t.add_argument(
        "-o", "--output", required=True, metavar="FILE", help="the template: .xlsx, .csv or .tsv"
    )
    t.add_argument(
        "--locales",
        type=code_list,
        metavar="CODES",
        help="localizable columns in these locales only (default: every activated one)",
    )
    t.add_argument(
        "--channels",
        type=code_list,
        metavar="CODES",
        help="scopable columns of these channels only, and their requirements (default: all)",
    )
    t.add_argument(
        "--column-order",
        choices=get_args(ColumnOrder),
        default=pull_defaults["column_order"],
        help="after the required ones, attributes in the family's order or by attribute "
        "group (default: %(default)s)",
    )
    t.add_argument(
        "--value-separator",
        type=non_empty,
        default=pull_defaults["value_separator"],
        metavar="S",
        help="the separator the comments name for multi-value cells (default: %(default)s)",
    )
    t.add_argument("--sandbox", action="store_true", help="the embedded sandbox PIM's catalog")
    add_connection(t)
    add_common(t)

    d = sub.add_parser(
        "delete",
        help="delete from the PIM the products (or product models) a feed's rows name",
        description="delete from the PIM the products (or product models) a feed's rows name, "
        "by their identifier (or code) column; asks for a confirmation unless --yes, and "
        "writes a feedback file like push's",
        epilog=DELETE_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    d.add_argument("feed", type=Path, metavar="FEED", help="CSV, TSV, .csv.gz or XLSX feed")
    d.add_argument(
        "--entity",
        choices=("products", "products-uuid", "product-models"),
        default="products",
        help="what the rows are (an entity column mixes products and product models) "
        "(default: %(default)s)",
    )
    d.add_argument(
        "--dry-run", action="store_true", help="delete nothing: list what would go, in the feedback"
    )
    d.add_argument("--yes", action="store_true", help="delete without asking for a confirmation")
    d.add_argument(
        "--max-deletions",
        type=number(int, ge=0),
        default=DEFAULT_MAX_DELETIONS,
        metavar="N",
        help="refuse a feed naming more products (and product models) than this, deleting "
        "nothing (default: %(default)s)",
    )
    d.add_argument(
        "--feedback",
        metavar="FILE",
        help="the feed with the PIM's status and message on every row (default: "
        "FEED.deletions.EXT beside the feed; - for standard output)",
    )
    d.add_argument("--summary-json", metavar="FILE", help="the summary as JSON (- for stdout)")
    d.add_argument(
        "--concurrency",
        type=number(int, ge=1, le=10),
        default=4,
        metavar="N",
        help="deletions in flight, 1-10 (default: %(default)s)",
    )
    d.add_argument("--sandbox", action="store_true", help="the embedded sandbox PIM")
    d.add_argument("--sandbox-db", type=Path, metavar="FILE", help="the sandbox's SQLite file")
    d.add_argument("--encoding", type=encoding, help="the feed's encoding (default: UTF-8)")
    d.add_argument("--delimiter", type=delimiter, help="the CSV delimiter (default: guessed)")
    d.add_argument("--sheet", help="the XLSX sheet to read (default: the first visible one)")
    add_connection(d)
    add_common(d)


def run(args: argparse.Namespace) -> int:
    """Run one of ``COMMANDS``; its exit code."""
    if args.command == "template":
        return _cmd_template(args)
    if args.command == "delete":
        return _cmd_delete(args)
    return _cmd_pull(args)


def confirm_on_terminal(plan: DeletePlan) -> bool:
    """Ask on the terminal whether to delete; not on a terminal, refuse (pass --yes)."""
    if not sys.stdin.isatty():
        raise ConfigError(
            f"{plan.words()} would be deleted from {plan.pim}, and standard input is not a "
            "terminal to confirm it: nothing deleted; pass --yes to delete without a question "
            "(or --dry-run to list them in the feedback file)"
        )
    sys.stderr.write(
        f"Delete {plan.words()} from the PIM at {plan.pim}? This cannot be undone.\n"
        "Type yes to delete: "
    )
    sys.stderr.flush()
    return sys.stdin.readline().strip().casefold() == "yes"


def _cmd_delete(args: argparse.Namespace) -> int:
    from feed_export.feed.reader import check_feed_file
    from feed_export.feed.source import FeedSource
    from feed_export.push.delete import run_delete
    from feed_export.push.interrupt import Interrupt

    if args.sandbox and args.env_file:
        raise ConfigError("--env-file names a PIM, --sandbox starts one: pass only one of them")
    if args.feedback == "-" and args.summary_json == "-":
        raise ConfigError("--feedback - and --summary-json - both ask for standard output")
    check_feed_file(args.feed)
    source = FeedSource.file(
        args.feed, encoding=args.encoding, delimiter=args.delimiter, sheet=args.sheet
    )
    settings = None if args.sandbox else pim_settings(args)
    interrupt = Interrupt(5.0)
    shown = sys.stderr.isatty() and not args.quiet
    progress = Progress(shown)
    try:
        with interrupts(interrupt), ExitStack() as stack:
            if args.sandbox:
                settings = stack.enter_context(
                    sandbox_settings(args.sandbox_db, retry_settings(args))
                )
            report = run_delete(
                source,
                entity=args.entity,
                dry_run=args.dry_run,
                max_deletions=args.max_deletions,
                settings=settings,
                feedback=output_target(args.feedback),
                confirm=None if args.yes or args.dry_run else confirm_on_terminal,
                concurrency=args.concurrency,
                interrupt=interrupt,
                progress=progress if shown else None,
            )
    finally:
        progress.close()
    args.report = None
    args.rejected = None
    write_summary(report, args, stdout_taken=args.feedback == "-")
    return report.exit_code


def _cmd_template(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from feed_export.pull.run import output_format
    from feed_export.pull.template import pull_template

    if args.output == "-":
        raise ConfigError("-o -: a template is a file (a workbook); give it a name")
    target = Path(args.output)
    output_format(target)
    if args.sandbox and args.env_file:
        raise ConfigError("--env-file names a PIM, --sandbox starts one: pass only one of them")
    try:
        options = PullOptions(
            locales=args.locales or (),
            channels=args.channels or (),
            column_order=args.column_order,
            value_separator=args.value_separator,
        )
    except ValidationError as exc:
        raise ConfigError(validation_problems(exc)) from None
    with ExitStack() as stack:
        if args.sandbox:
            settings = stack.enter_context(sandbox_settings(None, retry_settings(args)))
        else:
            settings = pim_settings(args)
        columns = pull_template(target, args.family, options, settings=settings)
    if not args.quiet:
        required = sum(1 for c in columns if c.required_in)
        print(
            f"template of family {args.family} written to {target}: {len(columns)} columns, "
            f"{required} required by the family"
        )
    return 0


def _pull_options(args: argparse.Namespace) -> PullOptions:
    from pydantic import ValidationError

    identifiers: tuple[str, ...] = ()
    if args.identifiers is not None:
        identifiers = read_identifiers(args.identifiers)
    try:
        return PullOptions(
            entity=args.entity,
            families=_joined(args.family),
            categories=_joined(args.category),
            enabled=args.enabled,
            updated_since=args.updated_since,
            identifiers=identifiers,
            search=args.search,
            partitions=tuple(args.partition or ()),
            locales=args.locales or (),
            channels=args.channels or (),
            attributes=args.attributes or (),
            column_order=args.column_order,
            with_parent_values=args.with_parent_values,
            download_media=args.download_media,
            value_separator=args.value_separator,
            decimal_separator=args.decimal_separator,
            date_format=args.date_format,
        )
    except ValidationError as exc:
        raise ConfigError(validation_problems(exc)) from None


def _joined(groups: Sequence[tuple[str, ...]] | None) -> tuple[str, ...]:
    return tuple(dict.fromkeys(code for group in groups or () for code in group))


def read_identifiers(path: Path) -> tuple[str, ...]:
    """``--identifiers FILE``: one identifier a line; blank lines and ``#`` comments skipped."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConfigError(f"--identifiers {path}: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"--identifiers {path}: cannot be read: {exc}") from None
    codes = [line.strip() for line in text.splitlines()]
    found = tuple(dict.fromkeys(c for c in codes if c and not c.startswith("#")))
    if not found:
        raise ConfigError(f"--identifiers {path}: no identifier in it (one a line)")
    return found


def _cmd_pull(args: argparse.Namespace) -> int:
    from feed_export.feed.writer import check_writable
    from feed_export.pull.run import output_format, run_pull

    options = _pull_options(args)
    if args.sandbox and args.env_file:
        raise ConfigError("--env-file names a PIM, --sandbox starts one: pass only one of them")
    to_stdout = args.output == "-"
    target = None if to_stdout else Path(args.output)
    output_format(target)  # a name that says no format is a usage error, found first
    if args.summary_json == "-" and to_stdout:
        raise ConfigError("-o - and --summary-json - both ask for standard output: name a file")
    if args.summary_json and args.summary_json != "-":
        check_writable(Path(args.summary_json), "summary", "--summary-json")
    settings: Settings | None = None
    if not args.sandbox:
        settings = pim_settings(args)
    shown = sys.stderr.isatty() and not args.quiet
    progress = Progress(shown)
    try:
        with ExitStack() as stack:
            if args.sandbox:
                settings = stack.enter_context(
                    sandbox_settings(args.sandbox_db, retry_settings(args))
                )
            report = run_pull(
                options,
                output_target(args.output),
                settings=settings,
                progress=progress if shown else None,
                workers=min(len(options.partitions), MAX_WORKERS) or 1,
            )
    finally:
        progress.close()
    write_summary_json(report.to_json(), args.summary_json)
    if not args.quiet:
        print(report.to_text(), file=sys.stderr if to_stdout else sys.stdout)
    if report.aborted:
        err(f"{PROG}: error: pull stopped: {report.aborted}")
    return report.exit_code
