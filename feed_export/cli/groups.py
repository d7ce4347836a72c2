"""The groups of flags the commands are made of, with the option models' defaults.

``add_common`` (messages) and ``add_connection`` (the PIM) serve every command that reaches
a PIM; the others make up ``push`` and ``check``.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, get_args

from feed_export.cli.flags import (
    date_format,
    delimiter,
    encoding,
    model_defaults,
    model_number,
    non_empty,
    number,
)
from feed_export.config import (
    DATE_FORMAT_EXAMPLES,
    EmptyCells,
    Entity,
    ExportOptions,
    RetrySettings,
)


def add_common(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("messages")
    g.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        help="more log output: -v for each step, -vv for debugging (default: warnings only)",
    )
    g.add_argument("-q", "--quiet", action="store_true", help="no summary and no progress bar")
    g.add_argument(
        "--debug",
        action="store_true",
        help="show tracebacks and the HTTP library's own log lines (for bug reports)",
    )


def add_connection(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("PIM connection (default: AKENEO_* from the environment, else ./.env)")
    g.add_argument(
        "--env-file",
        type=Path,
        metavar="FILE",
        help="read AKENEO_* from this .env file instead of ./.env; it wins over the "
        "environment (e.g. staging.env, prod.env)",
    )
    g.add_argument("--base-url", help="the PIM's address, e.g. https://pim.example.com")
    g.add_argument("--client-id", help="the API connection's client id")
    g.add_argument(
        "--client-secret",
        help="the API connection's secret; prefer AKENEO_CLIENT_SECRET (flags show in "
        "process lists)",
    )
    g.add_argument("--username", help="the API connection's user")
    g.add_argument(
        "--password",
        help="the API user's password; prefer AKENEO_PASSWORD (flags show in process lists)",
    )
    g.add_argument(
        "--allow-insecure-http",
        action="store_true",
        help="allow a plain http:// base URL to a host other than this machine",
    )
    g.add_argument(
        "--no-verify-tls",
        action="store_true",
        help="do not verify the PIM's TLS certificate (a test PIM with a self-signed one)",
    )
    retry = model_defaults(RetrySettings)
    g.add_argument(
        "--timeout",
        type=model_number(RetrySettings, "request_timeout", "seconds"),
        default=retry["request_timeout"],
        metavar="S",
        help="read timeout per request, in seconds (default: %(default)g)",
    )
    g.add_argument(
        "--request-deadline",
        type=model_number(RetrySettings, "request_deadline", "seconds"),
        default=retry["request_deadline"],
        metavar="S",
        help="the longest a whole request may take (connect, send, the answer), in seconds "
        "(default: %(default)g)",
    )
    g.add_argument(
        "--max-attempts",
        type=model_number(RetrySettings, "max_attempts"),
        default=retry["max_attempts"],
        metavar="N",
        help="attempts per request, 1-20 (default: %(default)s)",
    )
    g.add_argument(
        "--max-retry-delay",
        type=model_number(RetrySettings, "max_retry_delay", "seconds"),
        default=retry["max_retry_delay"],
        metavar="S",
        help="the longest wait between two attempts, in seconds (default: %(default)g)",
    )


def add_tracking(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("incremental and resumable pushes")
    mode = g.add_mutually_exclusive_group()
    mode.add_argument(
        "--only-changed",
        action="store_true",
        help="send only rows whose payload differs from what the PIM last accepted "
        "(the others get 304); the state lives in .feed_export/ beside the feed",
    )
    mode.add_argument(
        "--full",
        action="store_true",
        help="send every row, and record what the PIM accepts for a later --only-changed",
    )
    g.add_argument(
        "--state",
        type=Path,
        metavar="FILE",
        help="the state file (default: .feed_export/state.sqlite beside the feed)",
    )
    g.add_argument(
        "--resume",
        action="store_true",
        help="continue the interrupted push of FEED (same feed, same options): "
        "send only rows without an answer yet; without one, push normally",
    )
    g.add_argument(
        "--missing",
        choices=("disable", "delete"),
        help="full-catalog feeds: disable (or delete) the products earlier pushes of this "
        "feed sent and this one lacks (the state store remembers them); see --max-missing",
    )
    g.add_argument(
        "--max-missing",
        default="5%",
        metavar="N|P%",
        help="--missing does nothing when more products are absent than this count or share "
        "of the feed's earlier products (default: %(default)s)",
    )
    g.add_argument(
        "--missing-out",
        metavar="FILE",
        help="what --missing did, product by product (default: FEED.missing.EXT)",
    )
    g.add_argument(
        "--drain-timeout",
        type=number(float, ge=0, unit="seconds"),
        default=30.0,
        metavar="S",
        help="on Ctrl-C, wait this long for the requests in flight (default: %(default)g)",
    )


def add_outputs(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("outputs (FILE, or - for standard output)")
    g.add_argument(
        "--feedback",
        metavar="FILE",
        help="the feed with the PIM's status and message on every row (default: "
        "FEED.feedback.EXT beside the feed)",
    )
    g.add_argument(
        "--payload-out",
        metavar="FILE",
        help="the lines sent (a dry run: that would be sent), one JSON object each",
    )
    g.add_argument(
        "--rejected",
        metavar="FILE",
        help="only the rows not accepted, as a feed in the feed's own format, with the "
        "PIM's status and message: fix the cells and push this file",
    )
    g.add_argument(
        "--safe-feedback",
        action="store_true",
        help="in a CSV feedback or --rejected file, prefix with ' the feed's own cells that "
        "a spreadsheet would run as a formula (=, +, -, @...); such a file no longer pushes "
        "back the same values",
    )
    g.add_argument("--summary-json", metavar="FILE", help="the summary as JSON")
    g.add_argument(
        "--report",
        metavar="FILE",
        help="a page to open in a browser (FILE.html): the outcomes and problems as charts, "
        "with links to their rows; self-contained, nothing fetched",
    )


def add_reading(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("reading the feed")
    g.add_argument(
        "--encoding", type=encoding, help="the feed's encoding, e.g. latin-1 (default: UTF-8)"
    )
    g.add_argument(
        "--delimiter",
        type=delimiter,
        help="the CSV delimiter, e.g. ';' or '\\t' (default: guessed among , ; TAB |)",
    )
    g.add_argument("--sheet", help="the XLSX sheet to read (default: the first visible one)")
    options = model_defaults(ExportOptions)
    g.add_argument(
        "--max-feed-size",
        type=model_number(ExportOptions, "max_feed_size", "MB"),
        default=options["max_feed_size"],
        metavar="MB",
        help="refuse a .gz feed or an XLSX workbook that inflates to more (default: %(default)s)",
    )
    g.add_argument(
        "--max-cells",
        type=model_number(ExportOptions, "max_cells"),
        default=options["max_cells"],
        metavar="N",
        help="refuse an XLSX sheet whose area, from its first to its last cell, is larger "
        "(default: %(default)s)",
    )
    g.add_argument(
        "--max-columns",
        type=model_number(ExportOptions, "max_columns"),
        default=options["max_columns"],
        metavar="N",
        help="refuse a feed whose header has more columns (default: %(default)s)",
    )


def add_cell_format(g: argparse._ArgumentGroup, defaults: dict[str, Any]) -> None:
    """``--value-separator``, ``--decimal-separator``, ``--date-format``: how cells spell
    values (``CellFormat``), the same flags for the feed a push reads and a pull writes."""
    g.add_argument(
        "--value-separator",
        type=non_empty,
        default=defaults["value_separator"],
        metavar="S",
        help="separates the values of a multi-value cell (default: %(default)s)",
    )
    g.add_argument(
        "--decimal-separator",
        choices=(".", ","),
        default=defaults["decimal_separator"],
        help="the decimal separator of numbers in cells (default: %(default)s)",
    )
    g.add_argument(
        "--date-format",
        type=date_format,
        metavar="FORMAT",
        help="how date cells are written, besides YYYY-MM-DD: "
        + DATE_FORMAT_EXAMPLES.replace("%", "%%"),
    )


def add_cells(p: argparse.ArgumentParser, options: dict[str, Any]) -> None:
    g = p.add_argument_group("reading cells")
    g.add_argument(
        "--entity",
        choices=get_args(Entity),
        default=options["entity"],
        help="what the rows are (default: %(default)s); assets: the assets of --asset-family",
    )
    g.add_argument(
        "--asset-family",
        type=non_empty,
        metavar="FAMILY",
        help="with --entity assets: the asset family the rows are assets of",
    )
    add_cell_format(g, options)
    g.add_argument(
        "--empty-cells",
        choices=get_args(EmptyCells),
        default=options["empty_cells"],
        help="an empty cell leaves the PIM's value as it is (skip) or erases it (erase) "
        "(default: %(default)s)",
    )
    g.add_argument(
        "--ignore-unknown-columns",
        action="store_true",
        help="leave out columns the catalog does not know, with a warning, instead of "
        "rejecting the feed",
    )


def add_sending(p: argparse.ArgumentParser, options: dict[str, Any], push: bool) -> None:
    g = p.add_argument_group("sending")
    if push:
        g.add_argument(
            "--dry-run", action="store_true", help="send nothing: check the feed (= check)"
        )
    g.add_argument(
        "--batch-size",
        type=model_number(ExportOptions, "batch_size"),
        default=options["batch_size"],
        metavar="N",
        help="lines per request, 1-100 (default: %(default)s)",
    )
    g.add_argument(
        "--concurrency",
        type=model_number(ExportOptions, "concurrency"),
        default=options["concurrency"],
        metavar="N",
        help="requests in flight, 1-10 (default: %(default)s)",
    )
    g.add_argument(
        "--create-missing-options",
        action="store_true",
        help="let the PIM create the select options a row names and it lacks (only for "
        "attributes that allow creating options during import, as in Akeneo)",
    )
    g.add_argument(
        "--refuse-dropped-values",
        action="store_true",
        help="refuse a row carrying values the PIM would drop without a word (a variant's "
        "value of an attribute of its parent's level) instead of sending it and naming them "
        "in its feedback",
    )
    g.add_argument(
        "--allow-media-host",
        action="append",
        metavar="HOST",
        type=non_empty,
        help="fetch files named by URL from HOST whatever address it has (repeatable); "
        "without it only public addresses are fetched",
    )
    g.add_argument(
        "--allow-private-media",
        action="store_true",
        help="fetch files from loopback and private-network addresses too (an intranet "
        "image server); link-local addresses (cloud metadata) stay refused",
    )


def add_target(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("the PIM (one of)")
    g.add_argument(
        "--catalog",
        type=Path,
        metavar="FILE",
        help="a catalog file (feed-export catalog pull): check without a PIM; with "
        "--sandbox, the catalog the sandbox serves",
    )
    g.add_argument(
        "--sandbox",
        action="store_true",
        help="the embedded sandbox PIM, started for this run (nothing to set up)",
    )
    g.add_argument(
        "--sandbox-db",
        type=Path,
        metavar="FILE",
        help="keep the sandbox's products in this SQLite file (default: in memory)",
    )
