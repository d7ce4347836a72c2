"""``push --missing disable|delete``: what an earlier run of this feed pushed and this one lacks.

For full-catalog feeds: a product the feed no longer lists is disabled (``enabled:
false``, one collection PATCH per 100) or deleted (one ``DELETE`` each). The state store
remembers, per feed (its file, resolved) and PIM, every key the feed had and the last run
that had it (``state.feed_keys``); the keys of this run are noted as its rows are read.
After a live push that went through (not aborted, its header accepted), the keys of
earlier runs that this run lacks are the missing ones.

The guard: ``--max-missing`` is a share (``5%``, of the keys the feed's earlier runs had)
or a count (``20``); more missing keys than that and nothing is disabled or deleted: the
summary says so and the exit code is 1. Each key's outcome goes to the missing file
(``<feed>.missing.<ext>``, the feed's format: the key, ``akeneo_status_code``,
``akeneo_message``). A key done is forgotten (out of the feed's keys and of the state: a
row bringing it back is sent again, even with ``--only-changed``); a key the PIM refused
is kept, and tried again by the next run. A disabled product that comes back is not
enabled again unless its row says so (an ``enabled`` column).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import orjson

from feed_export.config import Entity
from feed_export.errors import ConfigError
from feed_export.feed.reader import FeedFormat, Row
from feed_export.feed.writer import Target, open_table, target_name
from feed_export.push.state import StateStore

if TYPE_CHECKING:
    from feed_export.akeneo.client import AkeneoClient
    from feed_export.report.model import RunReport

MissingAction = Literal["disable", "delete"]

#: the default guard: at most this share of the feed's earlier keys may go at once
DEFAULT_MAX_MISSING = "5%"
#: keys noted in one transaction while rows are read
NOTE_EVERY = 5000
_GUARD = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(%?)\s*")


@dataclass(frozen=True, slots=True)
class MissingPolicy:
    """What ``--missing`` does with the keys a feed lost, and how many it may touch."""

    action: MissingAction
    max_missing: str = DEFAULT_MAX_MISSING  # "5%" (of the earlier keys) or "20"
    out: Target | None = None  # None: <feed>.missing.<ext> beside the feed

    def allowed(self, earlier: int) -> int:
        """How many keys may go, of ``earlier`` keys.

        >>> MissingPolicy("disable", "5%").allowed(100), MissingPolicy("delete", "3").allowed(100)
        (5, 3)
        """
        share, percent = parse_guard(self.max_missing)
        return math.floor(earlier * share / 100) if percent else int(share)


def parse_guard(text: str) -> tuple[float, bool]:
    """``5%`` -> (5.0, True); ``20`` -> (20.0, False); ``ConfigError`` otherwise."""
    found = _GUARD.fullmatch(text)
    if found is None or (found.group(2) and float(found.group(1)) > 100):
        raise ConfigError(
            f"--max-missing {text!r}: expected a share such as 5% or a count such as 20"
        )
    if not found.group(2) and "." in found.group(1):
        raise ConfigError(f"--max-missing {text!r}: a count is a whole number")
    return float(found.group(1)), bool(found.group(2))


def default_missing_path(feed_path: Path) -> Path:
    """``<name>.missing.<ext>`` beside the feed."""
    from feed_export.push.feedback import default_feedback_path

    feedback = default_feedback_path(feed_path)
    return feedback.with_name(feedback.name.replace(".feedback", ".missing", 1))


def check_policy(policy: MissingPolicy, entity: Entity, mixed: bool, dry_run: bool) -> None:
    """``ConfigError`` for a ``--missing`` that cannot work on this push."""
    parse_guard(policy.max_missing)
    if dry_run:
        raise ConfigError("--missing needs a live push: drop --dry-run")
    if mixed:
        raise ConfigError("--missing works on feeds of one entity (this one has an entity column)")
    if entity == "assets":
        raise ConfigError(
            "--missing disables or deletes products and product models: not with --entity assets"
        )
    if policy.action == "disable" and entity == "product-models":
        raise ConfigError(
            "--missing disable: product models have no enabled field; use --missing delete"
        )


class FeedKeys:
    """Notes, as rows are read, the keys of this run of a feed in the state store."""

    def __init__(self, store: StateStore, feed: str, key_column: int) -> None:
        self.store = store
        self.feed = feed
        self.run, self.earlier = store.feed_run(feed)
        self._column = key_column
        self._pending: set[str] = set()

    def watch(self, rows: Iterable[Row]) -> Iterator[Row]:
        """``rows``, each one's key noted on the way."""
        for row in rows:
            cells = row.cells
            if self._column < len(cells):
                key = cells[self._column].strip()
                if key:
                    self._pending.add(key)
                    if len(self._pending) >= NOTE_EVERY:
                        self.flush()
            yield row

    def flush(self) -> None:
        self.store.note_feed_keys(self.feed, self.run, self._pending)
        self._pending.clear()


def apply_missing(
    client: AkeneoClient,
    keys: FeedKeys,
    policy: MissingPolicy,
    entity: Entity,
    report: RunReport,
    fmt: FeedFormat,
    out: Target,
) -> None:
    """Disable or delete what the feed lost; every key's outcome in the missing file."""
    keys.flush()
    missing = keys.store.missing_keys(keys.feed, keys.run)
    report.missing_action = policy.action
    report.missing = len(missing)
    report.missing_out = target_name(out)
    allowed = policy.allowed(keys.earlier)
    field = {"products": "identifier", "products-uuid": "uuid"}.get(entity, "code")
    header = [field, "akeneo_status_code", "akeneo_message"]
    with open_table(out, fmt, header, what="missing file", flag="--missing-out") as table:
        if len(missing) > allowed:
            report.missing_refused = refused = (
                f"{len(missing):,} absent from the feed, more than --max-missing "
                f"{policy.max_missing} allows ({allowed:,} of {keys.earlier:,}): none "
                f"{'disabled' if policy.action == 'disable' else 'deleted'}; pass "
                f"--max-missing {len(missing)} if you mean it"
            )
            report.warnings.append(refused)
            for key in missing:
                table.write([key, "", f"Not done: {refused}"])
            return
        done: list[str] = []
        for key, status, message in _act(client, policy.action, entity, field, missing):
            if status in (200, 204):
                done.append(key)
                report.missing_done += 1
            elif status == 404:
                done.append(key)  # not in the PIM: nothing left to do
                report.missing_done += 1
            else:
                report.missing_failed += 1
            table.write([key, str(status), message])
        keys.store.forget(keys.feed, done)


def _act(
    client: AkeneoClient, action: MissingAction, entity: Entity, field: str, keys: list[str]
) -> Iterator[tuple[str, int, str]]:
    word = "Disabled" if action == "disable" else "Deleted"
    why = f"{word}: absent from the feed"
    if action == "delete":
        for key in keys:
            answer = client.delete_item(entity, key)
            ok = answer.status in (200, 204) or answer.status == 404
            yield key, answer.status, why if ok else answer.message
        return
    for start in range(0, len(keys), 100):
        chunk = keys[start : start + 100]
        # a PATCH would create a product someone else deleted: only those still there
        search = orjson.dumps({field: [{"operator": "IN", "value": chunk}]}).decode()
        held = {
            str(item.get(field, "")).casefold()
            for item in client.list_items(entity, {"search": search})
        }
        there = [key for key in chunk if key.casefold() in held]
        for key in chunk:
            if key.casefold() not in held:
                yield key, 404, "Not in the PIM: nothing to disable"
        lines = [orjson.dumps({field: key, "enabled": False}) for key in there]
        for key, answer in zip(there, client.patch_collection(entity, lines), strict=True):
            ok = answer.status in (200, 201, 204)
            yield key, answer.status, why if ok else answer.message
