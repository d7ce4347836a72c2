"""``run_push()``: a feed into the PIM, the stages in order; the only module that knows that order.

open the feed -> log in and read the catalog (``startup``; or the catalog given) -> the
state store and journal -> the validation pass (``scan``: the whole feed read once,
headers resolved) -> the catalog checks (``catalog.checks``, with the product models the
feed, the catalog and, live, the PIM know) -> decode and send (``live.LivePush``: plan,
send, record; or ``rows.dry_run``) -> the feedback file, one row per data row, in feed
order.

Nothing is written before the start-up checks pass: a PIM that cannot be reached, refuses
the login or whose catalog cannot be read stops the run with ``StartupError``, and an
existing feedback file is left as it was. From there on, every data row gets exactly one
outcome, whatever fails: a header problem (400 on every
row), a bad cell (422 ``Not sent: ...``), a blank row (``Skipped: empty row``), a batch the
PIM refused, a network failure after all retries (0), lost credentials or a crash (rows in
requests that began and got no answer are ``Unknown: ...``, the rest ``Not sent: ...``).

A live push also keeps two SQLite files beside the feed (``.feed_export/``, see
``tracking.py``): the state store (what the PIM accepted, for ``--only-changed``) and the
run journal (every answer as it arrives, for ``--resume``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from feed_export._version import __version__
from feed_export.catalog.checks import CatalogChecks
from feed_export.catalog.structure import CHECK_SECTIONS, Catalog, ProductModel
from feed_export.config import ExportOptions, Settings, pim_host
from feed_export.errors import ConfigError
from feed_export.feed.headers import ENTITY_COLUMN, clean_header
from feed_export.feed.output import create_file
from feed_export.feed.source import FeedSource, read_limits
from feed_export.feed.writer import Target, check_writable, target_name
from feed_export.push.assets import AssetNamer, AssetStage, FamilyClient, feed_has_assets
from feed_export.push.decode import RowDecoder
from feed_export.push.feedback import (
    OrderedFeedback,
    default_feedback_path,
    open_feedback,
    open_rejected,
)
from feed_export.push.files import MediaLimits, PathCheck
from feed_export.push.interrupt import Interrupt
from feed_export.push.lineage import ParentWait, model_tree
from feed_export.push.live import LivePush
from feed_export.push.media import MediaStage, feed_has_files
from feed_export.push.missing import FeedKeys, apply_missing, check_policy, default_missing_path
from feed_export.push.payload import PayloadLog
from feed_export.push.progress import (
    CHECKING_FEED,
    CHECKING_ROWS,
    LOGGING_IN,
    READING_CATALOG,
    SENDING,
    SENDING_FILES,
    WRITING,
    Phases,
    ProgressCallback,
    RunProgress,
)
from feed_export.push.rows import dry_run, finish_rows, rejected_message
from feed_export.push.scan import scan_feed
from feed_export.push.sender import PatchClient
from feed_export.push.startup import log_in, read_catalog, read_product_models
from feed_export.push.state import context_hash
from feed_export.push.tracking import RunMemory, Tracking, payload_options
from feed_export.report.model import RunReport, run_settings

if TYPE_CHECKING:
    from feed_export.akeneo.client import AkeneoClient


@dataclass(frozen=True, slots=True)
class RunTargets:
    """Where a run writes: feedback file, optional NDJSON of the lines (to be) sent.

    Each is a path or an open binary stream (``sys.stdout.buffer`` for ``-``), which the
    run writes to and leaves open.
    """

    feedback: Target | None = None  # None: default_feedback_path(feed)
    payload_out: Target | None = None
    rejected: Target | None = None  # the rows not accepted, as a feed to fix and push again


def check_targets(source: FeedSource, targets: RunTargets) -> Target:
    """The feedback target; ``ConfigError`` if an output path cannot be written or collides.

    Writes nothing: ``run_push`` calls it first, and a command calls it before it starts
    anything else (the sandbox), so that a wrong output path is found before any work.
    """
    feedback = _feedback_target(source, targets)
    outputs = (
        (feedback, "feedback file", "--feedback"),
        (targets.payload_out, "payload file", "--payload-out"),
        (targets.rejected, "rejected-rows file", "--rejected"),
    )
    _refuse_collisions(source.path, outputs)
    for target, what, flag in outputs:
        if isinstance(target, Path):
            check_writable(target, what, flag)
    return feedback


def run_push(
    source: FeedSource | Path,
    options: ExportOptions,
    *,
    catalog: Catalog | None = None,
    settings: Settings | None = None,
    client: AkeneoClient | None = None,
    targets: RunTargets = RunTargets(),
    tracking: Tracking = Tracking(),
    interrupt: Interrupt | None = None,
    progress: RunProgress | ProgressCallback | None = None,
    clock: Callable[[], float] = time.perf_counter,
) -> RunReport:
    """Push (or, with ``options.dry_run``, only check) one feed; return what happened.

    ``source`` is a feed file's path or a ``FeedSource`` (a file, or rows in memory). The
    catalog comes from ``catalog`` when given, else from the PIM (``settings`` or
    ``client``). Raises ``FeedExportError`` subclasses only for problems found before any
    feedback is written (a file that cannot be read, a missing catalog, bad settings, a PIM
    that cannot be reached or refuses the login: ``StartupError``, a resume the journal
    refuses); then no output is created or replaced. A client built from ``settings`` logs
    in first, on a short budget; a ``client`` given is used as it is. ``tracking`` says
    what a live push remembers (state store, journal); ``interrupt`` stops it cleanly from
    another thread or a signal handler. ``progress`` is told the phases and the rows done
    (a ``RunProgress``), or only the rows the PIM answered (a plain callable).
    """
    if not isinstance(source, FeedSource):
        source = FeedSource.file(
            source,
            encoding=options.encoding,
            delimiter=options.delimiter,
            sheet=options.sheet,
            limits=read_limits(options),
        )
    feedback_target = check_targets(source, targets)
    missing_target = _missing_target(source, tracking, options)
    report = RunReport(
        feed=Path(source.name),
        feedback=target_name(feedback_target),
        payload_out=target_name(targets.payload_out) if targets.payload_out is not None else None,
        rejected_out=target_name(targets.rejected) if targets.rejected is not None else None,
        dry_run=options.dry_run,
    )
    report.start(clock)
    report.settings = run_settings(options, settings, mode=tracking.mode, resume=tracking.resume)
    phases = Phases(progress)
    with ExitStack() as stack:
        feed = stack.enter_context(source.open())
        report.header = feed.header
        if tracking.missing is not None:
            mixed = any(clean_header(text).lower() == ENTITY_COLUMN for text in feed.header)
            check_policy(tracking.missing, options.entity, mixed, options.dry_run)
            if tracking.mode == "all":  # --missing keeps the state store, as --full does
                tracking = replace(tracking, mode="full")
        # the start-up checks: nothing is written before the PIM and its catalog answer
        own_client = client is None
        client = _client(stack, options, catalog, settings, client)
        pim = tracking.target or (settings.base_url if settings is not None else "")
        if client is not None:
            base_url = getattr(client, "base_url", "") or pim  # fakes in tests may have none
            report.pim = pim_host(base_url) if base_url else None
            stats = client.stats
            report.retries_now = lambda: stats.retries
        if client is not None and own_client:
            phases.phase(f"{LOGGING_IN} at {report.pim}")
            log_in(client, interrupt)
        live_catalog = catalog is None
        if catalog is None:
            assert client is not None
            phases.phase(READING_CATALOG)
            catalog = read_catalog(
                client, feed.header, interrupt, options.entity, options.asset_family
            )
        memory: RunMemory | None = None
        if not options.dry_run:
            memory = RunMemory.open(source, options, tracking, pim, report)
            stack.callback(memory.close)
        try:
            phases.phase(CHECKING_FEED)
            scan = scan_feed(
                feed, catalog, options, index=not options.dry_run, count=phases.wanted,
                tick=phases.rows,
            )  # fmt: skip
            pim_models: list[ProductModel] = []
            if live_catalog and scan.models is not None:
                assert client is not None  # the parents the feed names and does not define
                pim_models = read_product_models(
                    client, scan.models.unknown_parents(catalog), interrupt
                )
        except BaseException:
            if memory is not None:
                memory.finish()  # nothing was sent: nothing to resume
            raise
        # from here on, every data row gets its feedback row
        safe = options.safe_feedback
        writer = stack.enter_context(
            open_feedback(feedback_target, feed.format, feed.header, safe=safe)
        )
        rejected = None
        if targets.rejected is not None:
            rejected = stack.enter_context(
                open_rejected(targets.rejected, feed.format, feed.header, safe=safe)
            )
        ordered = OrderedFeedback(writer, report, phases.rows if phases.wanted else None, rejected)
        rows = feed.rows()
        if scan.layout is None:
            report.header_problems = list(scan.problems)
            phases.phase(WRITING, scan.rows)
            finish_rows(rows, ordered, 400, rejected_message(scan.problems), phases.answered)
            phases.rows(report.rows)
            if memory is not None:
                memory.finish()  # nothing was sent: nothing to resume
            report.seconds = clock() - report.started
            return report
        layout = scan.layout
        report.warnings.extend(layout.warnings)
        tree = model_tree(catalog, scan.models, pim_models, asked_pim=live_catalog)
        checks = CatalogChecks(layout, options, tree)
        report.warnings.extend(checks.warnings)
        assets = None
        names: AssetNamer | None = None
        if feed_has_assets(layout):
            # files in asset cells get their codes as rows are decoded, in feed order, the
            # same as in earlier runs (the stage's cache); a dry run names them afresh
            if options.dry_run:
                names = AssetNamer(source.folder)
            else:
                assert client is not None
                assets = AssetStage.for_folder(
                    client,
                    source.folder,
                    pim or client.base_url,
                    limits=_media_limits(options),
                    full=tracking.mode == "full",
                )
                stack.callback(assets.close)
                names = assets.namer
        decoder = RowDecoder(layout, options, checks=checks, assets=names)
        payload: BinaryIO | None = None
        if isinstance(targets.payload_out, Path):
            try:
                payload = stack.enter_context(create_file(targets.payload_out, "payload file"))
            except OSError as exc:
                raise ConfigError(
                    f"{targets.payload_out}: cannot create the payload file: "
                    f"{exc.strerror or exc}; choose another path with --payload-out"
                ) from exc
        elif targets.payload_out is not None:
            payload = targets.payload_out  # a stream given: written, left open
            stack.callback(payload.flush)

        if options.dry_run:
            phases.phase(CHECKING_ROWS, scan.rows)
            waits = ParentWait(scan.models, tree) if scan.models is not None else None
            paths = None
            if feed_has_files(layout) or feed_has_assets(layout):
                paths = PathCheck(source.folder, _media_limits(options))
            dry_run(rows, decoder, ordered, payload, phases.answered, waits, paths, options.entity)
        else:
            assert client is not None and memory is not None
            # what decoding depends on besides the row: the raw-row hashes are salted with it
            context = context_hash(
                __version__,
                list(feed.header),
                list(scan.has_data) if scan.has_data is not None else None,
                payload_options(options),
                catalog.to_dict(without=CHECK_SECTIONS),
            )
            media = None
            if feed_has_files(layout):
                # the media cache is keyed like the state store: by the PIM's name
                media = MediaStage.for_folder(
                    client, source.folder, pim or client.base_url, limits=_media_limits(options)
                )
            files = media is not None or assets is not None
            phases.phase(SENDING_FILES if files else SENDING, scan.rows)
            pusher = LivePush(
                ordered,
                PayloadLog(payload) if payload is not None else None,
                options,
                report,
                phases,
                memory,
                interrupt,
            )
            feed_keys = None
            if tracking.missing is not None and memory.state is not None:
                feed_keys = FeedKeys(memory.state, feed_id(source), layout.key.index)
                rows = feed_keys.watch(rows)
            sender: PatchClient = client
            if options.entity == "assets":
                assert options.asset_family is not None
                family = catalog.asset_family(options.asset_family)
                sender = FamilyClient(client, family.code if family else options.asset_family)
            pusher.run(
                rows,
                decoder,
                sender,
                context,
                layout.key.index,
                index=scan.index,
                media=media,
                assets=assets,
            )
            if feed_keys is not None and tracking.missing is not None and not report.aborted:
                assert missing_target is not None
                apply_missing(
                    client,
                    feed_keys,
                    tracking.missing,
                    options.entity,
                    report,
                    feed.format,
                    missing_target,
                )
        if client is not None:
            report.requests = client.stats.requests_sent
            report.retries = client.stats.retries
        if ordered.pending:
            raise AssertionError(f"rows left without an outcome: {ordered.unresolved()[:10]}")
        if memory is not None and report.aborted is None:
            memory.finish()  # the feedback is complete: nothing to resume
        phases.rows(report.rows)  # the last rows, then the next phase
        phases.phase(WRITING)  # an XLSX file is assembled as its writer closes
    report.seconds = clock() - report.started
    return report


def _media_limits(options: ExportOptions) -> MediaLimits:
    """How files named by URL are fetched: public addresses only, unless opened."""
    return MediaLimits(
        allow_hosts=frozenset(options.allow_media_hosts),
        allow_private=options.allow_private_media,
    )


def _client(
    stack: ExitStack,
    options: ExportOptions,
    catalog: Catalog | None,
    settings: Settings | None,
    client: AkeneoClient | None,
) -> AkeneoClient | None:
    """The client the run talks to the PIM with (None: an offline dry run)."""
    offline = options.dry_run and catalog is not None
    if client is None and settings is not None and not offline:
        from feed_export.akeneo.client import AkeneoClient

        client = AkeneoClient(settings)
        stack.callback(client.close)
    if client is None and not options.dry_run:
        raise ConfigError("a push needs PIM settings (or --sandbox, or --dry-run --catalog FILE)")
    if client is None and catalog is None:
        raise ConfigError("a dry run needs a catalog: pass --catalog FILE or PIM settings")
    return client


def _missing_target(
    source: FeedSource, tracking: Tracking, options: ExportOptions
) -> Target | None:
    """Where ``--missing`` writes what it did (checked before anything starts)."""
    policy = tracking.missing
    if policy is None or options.dry_run:
        return None
    target = policy.out
    if target is None:
        if source.path is None:
            raise ConfigError(
                f"{source.name}: rows in memory need a missing file: "
                "pass Tracking(missing=MissingPolicy(..., out=...))"
            )
        target = default_missing_path(source.path)
    if isinstance(target, Path):
        check_writable(target, "missing file", "--missing-out")
    return target


def feed_id(source: FeedSource) -> str:
    """How the state store names a feed for ``--missing``: its file, resolved (rows in
    memory: their name)."""
    return str(source.path.resolve()) if source.path is not None else source.name


def _feedback_target(source: FeedSource, targets: RunTargets) -> Target:
    if targets.feedback is not None:
        return targets.feedback
    if source.path is None:
        raise ConfigError(
            f"{source.name}: rows in memory need a feedback file: pass RunTargets(feedback=...)"
        )
    return default_feedback_path(source.path)


def _same_file(a: Path, b: Path) -> bool:
    """Whether two paths name one file, existing or not (links and ``..`` resolved)."""
    try:
        if a.exists() and b.exists():
            return a.samefile(b)
        return a.resolve() == b.resolve()
    except OSError:
        return a.absolute() == b.absolute()


def _refuse_collisions(
    feed_path: Path | None, outputs: Sequence[tuple[Target | None, str, str]]
) -> None:
    """No output may be the feed or another output: checked before anything is written."""
    seen: list[tuple[Path, str]] = []
    for target, what, flag in outputs:
        if not isinstance(target, Path):
            continue
        if feed_path is not None and _same_file(target, feed_path):
            raise ConfigError(f"{target} is the feed itself: choose another output file")
        for other, other_what in seen:
            if _same_file(target, other):
                raise ConfigError(
                    f"{flag} {target} is the {other_what} too: both would be written into it; "
                    "choose another file for one of them"
                )
        seen.append((target, what))
