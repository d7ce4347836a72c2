"""The ``feed-export`` command: parse flags, load settings, call the library, print, exit.

Kept thin on purpose: every piece of work lives in the library (``run_push``).
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, NoReturn, TextIO, get_args

from pydantic import BaseModel

from feed_export._version import __version__
from feed_export.config import (
    DATE_FORMAT_EXAMPLES,
    EmptyCells,
    Entity,
    ExportOptions,
    RetrySettings,
    date_format_pattern,
)
from feed_export.errors import ConfigError, FeedExportError

if TYPE_CHECKING:
    from types import FrameType

    from feed_export.config import Settings
    from feed_export.push.interrupt import Interrupt
    from feed_export.push.tracking import Tracking
    from feed_export.report.model import RunReport

PROG = "feed-export"

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

MAIN_EXAMPLES = """\
examples:
  feed-export push sample_feeds/apparel.csv --sandbox
  feed-export check feed.csv --catalog catalog.json
  feed-export catalog pull -o catalog.json
  feed-export pull -o products.xlsx --family clothing
  feed-export sandbox --port 8080

Run 'feed-export COMMAND --help' for the flags of a command.
"""


class _Redact(logging.Filter):
    """Last line of defence: replace known secret values in any log record."""

    def __init__(self, secrets: Sequence[str]) -> None:
        super().__init__()
        self.secrets: list[str] = []
        self.learn(secrets)

    def learn(self, secrets: Sequence[str]) -> None:
        """Redact these too: ``auth.redact_text``'s rule (short values only as whole words);
        values under 3 characters are left alone (they would blank out ordinary words)."""
        known = set(self.secrets) | {s for s in secrets if s and len(s) >= 3}
        self.secrets = sorted(known, key=len, reverse=True)  # a whole form before its parts

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secrets:
            text = self._redact(record.getMessage())
            record.msg, record.args = text, None
            if record.exc_info and not record.exc_text:
                # the formatter reuses exc_text: render the traceback now, to redact it
                record.exc_text = logging.Formatter().formatException(record.exc_info)
            if record.exc_text:
                record.exc_text = self._redact(record.exc_text)
            if record.stack_info:
                record.stack_info = self._redact(record.stack_info)
        return True

    def _redact(self, text: str) -> str:
        from feed_export.akeneo.auth import redact_text

        return redact_text(text, self.secrets)


#: libraries whose own lines (connection pools, request logs with colours) only --debug shows
_CHATTY = ("urllib3", "werkzeug")


def _quiet_libraries(debug: bool) -> None:
    for name in _CHATTY:
        logging.getLogger(name).setLevel(logging.NOTSET if debug else logging.WARNING)


class _TerminalFormatter(logging.Formatter):
    """Log lines whose message cannot drive the terminal (PIM text quoted in a warning)."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        from feed_export.report.text import printable

        return printable(super().formatMessage(record))


def _setup_logging(verbosity: int) -> None:
    level = logging.WARNING - 10 * verbosity
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_TerminalFormatter("%(levelname)s %(name)s: %(message)s"))
    # what the environment holds now; _settings adds the flags and ./.env once read
    secrets = [os.environ.get("AKENEO_CLIENT_SECRET", ""), os.environ.get("AKENEO_PASSWORD", "")]
    handler.addFilter(_Redact(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(max(level, logging.DEBUG))


def _learn_secrets(secrets: Sequence[str]) -> None:
    """Teach the redaction filters of our log handlers more secret values."""
    for handler in logging.getLogger().handlers:
        for log_filter in handler.filters:
            if isinstance(log_filter, _Redact):
                log_filter.learn(secrets)


class _Parser(argparse.ArgumentParser):
    """argparse, with a usage error in two short lines instead of the whole usage block."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n(run '{self.prog} --help' for the flags)\n")


# --- flag values: checked while parsing, in plain words, with the option models' ranges ---


def _number(
    kind: type[int] | type[float],
    *,
    ge: float | None = None,
    gt: float | None = None,
    le: float | None = None,
    unit: str = "",
) -> Any:
    """An argparse ``type`` for a number within bounds; the error names the valid range."""
    units = f" {unit}" if unit else ""
    what = ("a whole number" if kind is int else "a number") + (f" of{units}" if unit else "")
    if ge is not None and le is not None:
        allowed = f"must be from {ge:g} to {le:g}{units}"
    elif gt is not None:
        allowed = f"must be more than {gt:g}{units}"
    elif ge is not None:
        allowed = f"must be {ge:g}{units} or more"
    else:
        allowed = ""

    def parse(text: str) -> int | float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
        if (
            (ge is not None and value < ge)
            or (gt is not None and value <= gt)
            or (le is not None and value > le)
        ):
            raise argparse.ArgumentTypeError(f"{allowed}, got {text}")
        return value

    return parse


def _model_number(model: type[BaseModel], name: str, unit: str = "") -> Any:
    """``_number`` with the type and bounds of an option model's field."""
    import annotated_types

    field = model.model_fields[name]
    bounds: dict[str, float] = {}
    for rule in field.metadata:
        if isinstance(rule, annotated_types.Ge):
            bounds["ge"] = float(rule.ge)  # type: ignore[arg-type]
        elif isinstance(rule, annotated_types.Gt):
            bounds["gt"] = float(rule.gt)  # type: ignore[arg-type]
        elif isinstance(rule, annotated_types.Le):
            bounds["le"] = float(rule.le)  # type: ignore[arg-type]
    kind: type[int] | type[float] = int if field.annotation is int else float
    return _number(kind, unit=unit, **bounds)


def _date_format(text: str) -> str:
    """``--date-format``: Akeneo's spelling or a strftime pattern -> the strftime pattern."""
    try:
        return date_format_pattern(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _text(text: str) -> str:
    if not text:
        raise argparse.ArgumentTypeError("must not be empty")
    return text


def _delimiter(text: str) -> str:
    from feed_export.feed.reader import check_delimiter

    try:
        value = check_delimiter(text)
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix("the delimiter ")) from None
    assert value is not None
    return value


#: the catalog sections ``catalog pull --without`` may leave out (``OPTIONAL_PULLS``)
_PULLED_SECTIONS = (
    "families",
    "family_variants",
    "attribute_options",
    "categories",
    "association_types",
    "product_models",
    "asset_families",
)


def _sections(text: str) -> str:
    unknown = [c.strip() for c in text.split(",") if c.strip() not in _PULLED_SECTIONS]
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown section {unknown[0]!r}; use {', '.join(_PULLED_SECTIONS)}"
        )
    return text


def _encoding(text: str) -> str:
    import codecs

    try:
        codecs.lookup(text)
    except LookupError:
        raise argparse.ArgumentTypeError(
            f"unknown encoding {text!r}; e.g. utf-8, latin-1, cp1252, utf-16"
        ) from None
    return text


def _add_common(p: argparse.ArgumentParser) -> None:
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


def _add_connection(p: argparse.ArgumentParser) -> None:
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
    retry = _defaults(RetrySettings)
    g.add_argument(
        "--timeout",
        type=_model_number(RetrySettings, "request_timeout", "seconds"),
        default=retry["request_timeout"],
        metavar="S",
        help="read timeout per request, in seconds (default: %(default)g)",
    )
    g.add_argument(
        "--request-deadline",
        type=_model_number(RetrySettings, "request_deadline", "seconds"),
        default=retry["request_deadline"],
        metavar="S",
        help="the longest a whole request may take (connect, send, the answer), in seconds "
        "(default: %(default)g)",
    )
    g.add_argument(
        "--max-attempts",
        type=_model_number(RetrySettings, "max_attempts"),
        default=retry["max_attempts"],
        metavar="N",
        help="attempts per request, 1-20 (default: %(default)s)",
    )
    g.add_argument(
        "--max-retry-delay",
        type=_model_number(RetrySettings, "max_retry_delay", "seconds"),
        default=retry["max_retry_delay"],
        metavar="S",
        help="the longest wait between two attempts, in seconds (default: %(default)g)",
    )


def _add_tracking(p: argparse.ArgumentParser) -> None:
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
        type=_number(float, ge=0, unit="seconds"),
        default=30.0,
        metavar="S",
        help="on Ctrl-C, wait this long for the requests in flight (default: %(default)g)",
    )


def _defaults(model: type[BaseModel]) -> dict[str, Any]:
    """The defaults of an option model's fields: the flags show and use the model's own."""
    return {name: field.default for name, field in model.model_fields.items()}


def _add_outputs(p: argparse.ArgumentParser) -> None:
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


def _add_reading(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("reading the feed")
    g.add_argument(
        "--encoding", type=_encoding, help="the feed's encoding, e.g. latin-1 (default: UTF-8)"
    )
    g.add_argument(
        "--delimiter",
        type=_delimiter,
        help="the CSV delimiter, e.g. ';' or '\\t' (default: guessed among , ; TAB |)",
    )
    g.add_argument("--sheet", help="the XLSX sheet to read (default: the first visible one)")
    options = _defaults(ExportOptions)
    g.add_argument(
        "--max-feed-size",
        type=_model_number(ExportOptions, "max_feed_size", "MB"),
        default=options["max_feed_size"],
        metavar="MB",
        help="refuse a .gz feed or an XLSX workbook that inflates to more (default: %(default)s)",
    )
    g.add_argument(
        "--max-cells",
        type=_model_number(ExportOptions, "max_cells"),
        default=options["max_cells"],
        metavar="N",
        help="refuse an XLSX sheet whose area, from its first to its last cell, is larger "
        "(default: %(default)s)",
    )
    g.add_argument(
        "--max-columns",
        type=_model_number(ExportOptions, "max_columns"),
        default=options["max_columns"],
        metavar="N",
        help="refuse a feed whose header has more columns (default: %(default)s)",
    )


def _add_cells(p: argparse.ArgumentParser, options: dict[str, Any]) -> None:
    g = p.add_argument_group("reading cells")
    g.add_argument(
        "--entity",
        choices=get_args(Entity),
        default=options["entity"],
        help="what the rows are (default: %(default)s); assets: the assets of --asset-family",
    )
    g.add_argument(
        "--asset-family",
        type=_text,
        metavar="FAMILY",
        help="with --entity assets: the asset family the rows are assets of",
    )
    g.add_argument(
        "--value-separator",
        type=_text,
        default=options["value_separator"],
        metavar="S",
        help="separates the values of a multi-value cell (default: %(default)s)",
    )
    g.add_argument(
        "--decimal-separator",
        choices=(".", ","),
        default=options["decimal_separator"],
        help="the decimal separator of numbers in cells (default: %(default)s)",
    )
    g.add_argument(
        "--date-format",
        type=_date_format,
        metavar="FORMAT",
        help="how date cells are written, besides YYYY-MM-DD: "
        + DATE_FORMAT_EXAMPLES.replace("%", "%%"),
    )
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


def _add_sending(p: argparse.ArgumentParser, options: dict[str, Any], push: bool) -> None:
    g = p.add_argument_group("sending")
    if push:
        g.add_argument(
            "--dry-run", action="store_true", help="send nothing: check the feed (= check)"
        )
    g.add_argument(
        "--batch-size",
        type=_model_number(ExportOptions, "batch_size"),
        default=options["batch_size"],
        metavar="N",
        help="lines per request, 1-100 (default: %(default)s)",
    )
    g.add_argument(
        "--concurrency",
        type=_model_number(ExportOptions, "concurrency"),
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
        type=_text,
        help="fetch files named by URL from HOST whatever address it has (repeatable); "
        "without it only public addresses are fetched",
    )
    g.add_argument(
        "--allow-private-media",
        action="store_true",
        help="fetch files from loopback and private-network addresses too (an intranet "
        "image server); link-local addresses (cloud metadata) stay refused",
    )


def _add_target(p: argparse.ArgumentParser) -> None:
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


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="Push Productsup-style product feeds (CSV, XLSX) into Akeneo PIM and "
        "write a feedback file with the PIM's answer for every line.",
        epilog=MAIN_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    options = _defaults(ExportOptions)

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
        _add_outputs(p)
        _add_target(p)
        _add_reading(p)
        _add_cells(p, options)
        _add_sending(p, options, push=name == "push")
        if name == "push":
            _add_tracking(p)
        _add_connection(p)
        _add_common(p)

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
        type=_sections,
        help="comma-separated sections to leave out, of: "
        + ", ".join(_PULLED_SECTIONS)
        + " (a dry run then skips the checks that need them, saying so)",
    )
    pull.add_argument("--sandbox", action="store_true", help="pull from the embedded sandbox PIM")
    _add_connection(pull)
    _add_common(pull)

    from feed_export.cli_pull import add_commands

    add_commands(sub)  # pull, template, delete

    sb = sub.add_parser(
        "sandbox",
        help="run the embedded Akeneo-compatible PIM standalone",
        description="run the embedded Akeneo-compatible PIM until Ctrl-C; it prints the "
        "settings to reach it",
    )
    sb.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: %(default)s)"
    )
    sb.add_argument(
        "--port",
        type=_number(int, ge=0, le=65535),
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
        type=_number(float, ge=0, unit="seconds"),
        default=0.0,
        metavar="S",
        help="seconds added to every request, to try a slow PIM (default: %(default)g)",
    )
    sb.add_argument(
        "--env-out",
        metavar="FILE",
        help="write the settings to reach it as .env text, for --env-file (- for standard output)",
    )
    _add_common(sb)
    return parser


def _options(args: argparse.Namespace, dry_run: bool) -> ExportOptions:
    from pydantic import ValidationError

    try:
        return ExportOptions(
            entity=args.entity,
            asset_family=args.asset_family,
            batch_size=args.batch_size,
            value_separator=args.value_separator,
            empty_cells=args.empty_cells,
            decimal_separator=args.decimal_separator,
            date_format=args.date_format,
            ignore_unknown_columns=args.ignore_unknown_columns,
            encoding=args.encoding,
            delimiter=args.delimiter,
            sheet=args.sheet,
            dry_run=dry_run,
            concurrency=args.concurrency,
            create_missing_options=args.create_missing_options,
            refuse_dropped_values=args.refuse_dropped_values,
            safe_feedback=args.safe_feedback,
            max_feed_size=args.max_feed_size,
            max_cells=args.max_cells,
            max_columns=args.max_columns,
            allow_media_hosts=tuple(args.allow_media_host or ()),
            allow_private_media=args.allow_private_media,
        )
    except ValidationError as exc:  # the flags' types check the same rules first
        raise ConfigError(_validation_problems(exc)) from None


def _validation_problems(exc: Any) -> str:
    """A pydantic error as flag names and plain words (no links, no "Value error, ")."""
    return "; ".join(
        (f"--{str(e['loc'][0]).replace('_', '-')}: " if e["loc"] else "")
        + str(e["msg"]).removeprefix("Value error, ")
        for e in exc.errors()
    )


def _retry_settings(args: argparse.Namespace) -> RetrySettings:
    """The retry flags, for a real PIM and the sandbox alike."""
    from pydantic import ValidationError

    try:
        return RetrySettings(
            request_timeout=args.timeout,
            request_deadline=args.request_deadline,
            max_attempts=args.max_attempts,
            max_retry_delay=args.max_retry_delay,
        )
    except ValidationError as exc:  # the flags' types check the same rules first
        raise ConfigError(_validation_problems(exc)) from None


def _settings(args: argparse.Namespace) -> Settings:
    from feed_export.config import load_settings

    retry = _retry_settings(args)
    flags = {
        "base_url": args.base_url,
        "client_id": args.client_id,
        "client_secret": args.client_secret,
        "username": args.username,
        "password": args.password,
    }
    _learn_secrets([s for s in (args.client_secret, args.password) if s])
    settings = load_settings(
        flags,
        allow_insecure_http=args.allow_insecure_http,
        verify_tls=not args.no_verify_tls,
        retry=retry,
        env_file=args.env_file,
    )
    # the values may come from a .env file, which _setup_logging never saw; the client sends
    # them in other forms too (the Basic header's base64, JSON escapes)
    from feed_export.akeneo.auth import secret_forms

    _learn_secrets(
        secret_forms(
            settings.client_id,
            settings.client_secret.get_secret_value(),
            settings.password.get_secret_value(),
        )
    )
    return settings


@contextmanager
def _sandbox_settings(
    db: Path | None, retry: RetrySettings, catalog: Path | None = None
) -> Iterator[Settings]:
    """A sandbox for one command; ``catalog``: the catalog file it serves (else the demo's,
    or the one ``db`` holds)."""
    import secrets

    from feed_export.config import Settings
    from feed_export.sandbox import Sandbox

    sandbox = Sandbox(db=str(db) if db else ":memory:", catalog=catalog)
    # a secret and a password of this run only, set before it listens: any local process
    # knows the published demo credentials
    sandbox.client_secret = secrets.token_urlsafe(24)
    sandbox.password = secrets.token_urlsafe(24)
    _learn_secrets([sandbox.client_secret, sandbox.password])
    try:
        sandbox.start()
    except BaseException:
        sandbox.store.close()
        raise
    with sandbox as sb:
        yield Settings(
            base_url=sb.url,
            client_id=sb.client_id,
            client_secret=sb.client_secret,  # type: ignore[arg-type]
            username=sb.username,
            password=sb.password,  # type: ignore[arg-type]
            retry=retry,
        )


class _Progress:
    """A tqdm bar on stderr per phase of the run, only when stderr is a terminal.

    Phases with a total (sending, checking rows) show the percentage, the rows and the time
    left; the others show their name, the rows read so far (checking the feed) and the time.
    """

    def __init__(self, enabled: bool) -> None:
        self._enabled = enabled
        self._bar: Any = None

    def phase(self, name: str, total: int | None = None) -> None:
        if not self._enabled:
            return
        from tqdm import tqdm

        self.close()
        if total is not None:
            self._bar = tqdm(
                desc=name,
                total=total,
                unit=" rows",
                file=sys.stderr,
                leave=False,
                dynamic_ncols=True,
            )
        else:
            self._bar = tqdm(
                desc=name,
                unit="row",
                file=sys.stderr,
                leave=False,
                bar_format="{desc}: {n:,} rows, {elapsed}"
                if name.startswith("checking")
                else "{desc}... {elapsed}",
            )

    def rows(self, done: int) -> None:
        if self._bar is not None:
            self._bar.update(done - self._bar.n)
            if self._bar.total is not None and done >= self._bar.total:
                self._bar.refresh()  # the end is drawn, whatever tqdm's pacing skipped

    def __call__(self, done: int) -> None:
        pass  # rows answered: the bar counts every row's outcome instead (``rows``)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def _same_file(a: Path, b: Path) -> bool:
    """Whether two paths name one file (existing or not; links and ``..`` resolved)."""
    with suppress(OSError):
        if a.exists() and b.exists():
            return a.samefile(b)
    return a.resolve() == b.resolve()


#: the output flags of a push, and how messages name what each writes
_OUTPUTS = {
    "feedback": "the feedback file",
    "payload_out": "the --payload-out file",
    "rejected": "the --rejected file",
    "summary_json": "the summary",
    "report": "the report",
}


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _stdout_output(args: argparse.Namespace, names: Sequence[str]) -> str | None:
    """The one output flag given as ``-`` (standard output), if any; two is a usage error."""
    dashes = [name for name in names if getattr(args, name, None) == "-"]
    if len(dashes) > 1:
        raise ConfigError(
            f"{' and '.join(_flag(n) for n in dashes)} both ask for standard output (-); "
            "only one output can go there: give the others a file name"
        )
    return dashes[0] if dashes else None


def _target(value: str | None) -> Path | BinaryIO | None:
    """An output flag's value: a path, or standard output for ``-``."""
    if value is None:
        return None
    if value == "-":
        sys.stdout.flush()  # what print() buffered goes first
        return sys.stdout.buffer
    return Path(value)


def _check_cli_outputs(args: argparse.Namespace) -> None:
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


def _write_summary(report: RunReport, args: argparse.Namespace, stdout_taken: bool) -> None:
    """The report page, the JSON summary, then the text summary (stderr when stdout is taken)."""
    from feed_export.feed.output import write_text

    if args.report:
        from feed_export.report.html import render_html

        page = render_html(report)
        if args.report == "-":
            sys.stdout.write(page)
        else:
            write_text(Path(args.report), page, "report")
    if args.summary_json:
        text = json.dumps(report.to_json(), indent=2, ensure_ascii=False)
        if args.summary_json == "-":
            print(text)
        else:
            write_text(Path(args.summary_json), text + "\n", "summary")
    if not args.quiet:
        print(report.to_text(), file=sys.stderr if stdout_taken else sys.stdout)
    for warning in report.warnings:
        _err(f"{PROG}: warning: {warning}")
    if report.aborted:
        _err(f"{PROG}: error: run aborted: {report.aborted}")
    if report.header_problems:
        _err(f"{PROG}: feed rejected, nothing sent:")
        for problem in report.header_problems:
            _err(f"  - {problem}")


def _err(line: str) -> None:
    """One line on stderr; text from the feed or the PIM cannot drive the terminal."""
    from feed_export.report.text import printable

    print(printable(line), file=sys.stderr)


def _tracking(args: argparse.Namespace, dry_run: bool) -> Tracking:
    from feed_export.push.tracking import Tracking

    only_changed = getattr(args, "only_changed", False)
    full = getattr(args, "full", False)
    resume = getattr(args, "resume", False)
    if dry_run:
        for flag, given in (
            ("--only-changed", only_changed),
            ("--full", full),
            ("--resume", resume),
        ):
            if given:
                raise ConfigError(f"{flag} needs a live push: drop --dry-run")
    target = None
    if args.sandbox and args.sandbox_db:
        # a sandbox listens on a new port each run: name it by its database instead
        target = f"sandbox:{args.sandbox_db.resolve()}"
    missing = None
    if getattr(args, "missing", None):
        from feed_export.push.missing import MissingPolicy, parse_guard

        if getattr(args, "entity", None) == "assets":
            raise ConfigError(
                "--missing disables or deletes products and product models: "
                "not with --entity assets"
            )
        parse_guard(args.max_missing)
        missing = MissingPolicy(args.missing, args.max_missing, _target(args.missing_out))
    return Tracking(
        mode="only-changed" if only_changed else "full" if full else "all",
        state=getattr(args, "state", None),
        resume=resume,
        target=target,
        missing=missing,
    )


def _say(text: str) -> None:
    """Write a line to stderr from a signal handler (os.write: print is not reentrant)."""
    with suppress(OSError):
        os.write(2, (text + "\n").encode("utf-8", "replace"))


@contextmanager
def _interrupts(interrupt: Interrupt) -> Iterator[None]:
    """Ctrl-C or SIGTERM: stop sending and drain; again: stop waiting; a third time: raise."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be set in the main thread
        return
    count = 0

    def handler(signum: int, frame: FrameType | None) -> None:
        nonlocal count
        count += 1
        if count == 1:
            interrupt.request()
            _say(
                f"{PROG}: interrupted: sending nothing more; waiting up to "
                f"{interrupt.drain_timeout:g} s for the requests in flight "
                "(interrupt again to stop waiting)"
            )
        elif count == 2:
            interrupt.abandon()
            _say(f"{PROG}: not waiting for the requests in flight")
        else:
            raise KeyboardInterrupt

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def _cmd_push(args: argparse.Namespace, dry_run: bool) -> int:
    from feed_export.catalog.structure import Catalog
    from feed_export.feed.reader import check_feed_file
    from feed_export.feed.source import FeedSource, read_limits
    from feed_export.push.interrupt import Interrupt
    from feed_export.push.run import RunTargets, check_targets, run_push

    # every input and output is checked before anything starts (the sandbox included)
    stdout_output = _stdout_output(args, list(_OUTPUTS))
    options = _options(args, dry_run)
    tracking = _tracking(args, dry_run)
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
        feedback=_target(args.feedback),
        payload_out=_target(args.payload_out),
        rejected=_target(args.rejected),
    )
    check_targets(source, targets)
    _check_cli_outputs(args)
    settings = None
    if not args.sandbox and not (dry_run and catalog is not None):
        settings = _settings(args)

    interrupt = Interrupt(getattr(args, "drain_timeout", 30.0))
    progress = _Progress(sys.stderr.isatty() and not args.quiet)
    try:
        with _interrupts(interrupt), ExitStack() as stack:
            if args.sandbox:
                # the sandbox serves the catalog file given: the push reads it from there,
                # as it would from a real PIM
                settings = stack.enter_context(
                    _sandbox_settings(args.sandbox_db, _retry_settings(args), args.catalog)
                )
                if not args.quiet:
                    _err(f"{PROG}: sandbox PIM at {settings.base_url}")
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
        _write_summary(report, args, stdout_taken=stdout_output is not None)
    except BrokenPipeError:
        _stdout_closed()  # the run is done: its exit code still tells what happened
    return report.exit_code


def _cmd_catalog_pull(args: argparse.Namespace) -> int:
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
                _err(f"catalog written to standard output: {said}")
        elif not args.quiet:
            print(f"catalog written to {args.output}: {said}")
        return 0

    if args.sandbox:
        with _sandbox_settings(None, _retry_settings(args)) as settings:
            return pull(settings)
    return pull(_settings(args))


def _cmd_sandbox(args: argparse.Namespace) -> int:
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
    _setup_logging(args.verbose)
    _quiet_libraries(args.debug)
    try:
        if args.command in ("push", "check"):
            return _cmd_push(args, dry_run=args.command == "check" or args.dry_run)
        if args.command == "catalog":
            return _cmd_catalog_pull(args)
        if args.command in ("pull", "template", "delete"):
            from feed_export.cli_pull import run_command

            return run_command(args)
        return _cmd_sandbox(args)
    except BrokenPipeError:
        return _stdout_closed()
    except FeedExportError as exc:
        if isinstance(exc.__cause__, BrokenPipeError):  # an output on stdout, cut short
            return _stdout_closed()
        first, *rest = str(exc).split("\n")  # a header error lists its problems below
        _err(f"{PROG}: error: {first}")
        for line in rest:
            _err(line)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 3
    except Exception as exc:
        if args.debug:
            raise
        _err(
            f"{PROG}: internal error: {type(exc).__name__}: {exc} "
            "(run with --debug for a traceback; please report it)"
        )
        return 3


def _stdout_closed() -> int:
    """Standard output was closed early (``| head``): end quietly, as Unix tools do.

    Python's advice: point stdout at devnull, so that the interpreter's last flush at exit
    does not fail again. The exit code of a process killed by SIGPIPE, 141, tells a script.
    """
    with suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    return 141
