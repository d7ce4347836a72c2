"""Flags -> the library's models: the options, the retry settings, the PIM's settings (a real
PIM's, or a sandbox started for one command) and the tracking of a push.

A model that refuses a value names the flag (``validation_problems``); every secret read
here is taught to the log filter.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from feed_export.cli.logs import learn_secrets
from feed_export.cli.outputs import output_target
from feed_export.config import ExportOptions, RetrySettings
from feed_export.errors import ConfigError

if TYPE_CHECKING:
    from feed_export.config import Settings
    from feed_export.push.tracking import Tracking


def export_options(args: argparse.Namespace, dry_run: bool) -> ExportOptions:
    """The flags of ``push`` and ``check`` as ``ExportOptions``."""
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
        raise ConfigError(validation_problems(exc)) from None


def validation_problems(exc: Any) -> str:
    """A pydantic error as flag names and plain words (no links, no "Value error, ")."""
    return "; ".join(
        (f"--{str(e['loc'][0]).replace('_', '-')}: " if e["loc"] else "")
        + str(e["msg"]).removeprefix("Value error, ")
        for e in exc.errors()
    )


def retry_settings(args: argparse.Namespace) -> RetrySettings:
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
        raise ConfigError(validation_problems(exc)) from None


def pim_settings(args: argparse.Namespace) -> Settings:
    """A real PIM's settings: the flags, then the environment and ``./.env`` (or ``--env-file``)."""
    from feed_export.config import load_settings

    retry = retry_settings(args)
    flags = {
        "base_url": args.base_url,
        "client_id": args.client_id,
        "client_secret": args.client_secret,
        "username": args.username,
        "password": args.password,
    }
    learn_secrets([s for s in (args.client_secret, args.password) if s])
    settings = load_settings(
        flags,
        allow_insecure_http=args.allow_insecure_http,
        verify_tls=not args.no_verify_tls,
        retry=retry,
        env_file=args.env_file,
    )
    # the values may come from a .env file, which setup_logging never saw; the client sends
    # them in other forms too (the Basic header's base64, JSON escapes)
    from feed_export.akeneo.auth import secret_forms

    learn_secrets(
        secret_forms(
            settings.client_id,
            settings.client_secret.get_secret_value(),
            settings.password.get_secret_value(),
        )
    )
    return settings


@contextmanager
def sandbox_settings(
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
    learn_secrets([sandbox.client_secret, sandbox.password])
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


def run_tracking(args: argparse.Namespace, dry_run: bool) -> Tracking:
    """The incremental, resume and ``--missing`` flags of a push as ``Tracking``."""
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

        parse_guard(args.max_missing)
        missing = MissingPolicy(args.missing, args.max_missing, output_target(args.missing_out))
    return Tracking(
        mode="only-changed" if only_changed else "full" if full else "all",
        state=getattr(args, "state", None),
        resume=resume,
        target=target,
        missing=missing,
    )
