"""``push --missing``: what an earlier push of the same feed sent and this one lacks."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import settings_of

from feed_export.config import ExportOptions
from feed_export.errors import ConfigError
from feed_export.feed.reader import open_feed
from feed_export.push.missing import MissingPolicy, default_missing_path, parse_guard
from feed_export.push.run import RunTargets, run_push
from feed_export.push.tracking import Tracking
from feed_export.report.model import RunReport
from feed_export.sandbox import Sandbox


def push(sandbox: Sandbox, feed: Path, skus: list[str], policy: MissingPolicy) -> RunReport:
    feed.write_text("sku,family\n" + "".join(f"{sku},clothing\n" for sku in skus))
    return run_push(feed, ExportOptions(), settings=settings_of(sandbox),
                    targets=RunTargets(feedback=feed.with_suffix(".fb.csv")),
                    tracking=Tracking(missing=policy, target="the-pim"))  # fmt: skip


def missing_rows(feed: Path) -> list[tuple[str, ...]]:
    with open_feed(default_missing_path(feed)) as table:
        return [row.cells for row in table.rows()]


def enabled(sandbox: Sandbox, sku: str) -> bool | None:
    product = sandbox.state.product(sku)
    return None if product is None else bool(product["enabled"])


SKUS = [f"P-{i:02}" for i in range(20)]


def test_products_the_feed_lost_are_disabled_once(sandbox: Sandbox, tmp_path: Path) -> None:
    feed = tmp_path / "catalog.csv"
    policy = MissingPolicy("disable", "10%")
    first = push(sandbox, feed, SKUS, policy)
    assert first.exit_code == 0 and first.missing == 0 and missing_rows(feed) == []
    second = push(sandbox, feed, SKUS[2:], policy)
    assert (second.missing, second.missing_done, second.exit_code) == (2, 2, 0)
    assert missing_rows(feed) == [
        ("P-00", "204", "Disabled: absent from the feed"),
        ("P-01", "204", "Disabled: absent from the feed"),
    ]
    assert enabled(sandbox, "P-00") is False and enabled(sandbox, "P-02") is True
    assert "2 products absent from the feed: 2 disabled" in second.to_text()
    third = push(sandbox, feed, SKUS[2:], policy)  # done keys are forgotten: not again
    assert third.missing == 0


def test_over_the_guard_nothing_is_done_and_the_run_says_why(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    feed = tmp_path / "catalog.csv"
    push(sandbox, feed, SKUS, MissingPolicy("delete"))
    report = push(sandbox, feed, SKUS[:10], MissingPolicy("delete"))  # half the catalog gone
    assert report.missing == 10 and report.missing_done == 0 and report.exit_code == 1
    assert report.missing_refused is not None
    assert "more than --max-missing 5% allows (1 of 20): none deleted" in report.missing_refused
    assert sandbox.state.product("P-15") is not None
    assert missing_rows(feed)[0][2].startswith("Not done: 10 absent from the feed")
    allowed = push(sandbox, feed, SKUS[:10], MissingPolicy("delete", "10"))
    assert allowed.missing_done == 10 and sandbox.state.product("P-15") is None


def test_a_deleted_product_that_comes_back_is_sent_again(sandbox: Sandbox, tmp_path: Path) -> None:
    feed = tmp_path / "catalog.csv"
    push(sandbox, feed, SKUS, MissingPolicy("delete", "100%"))
    push(sandbox, feed, SKUS[1:], MissingPolicy("delete", "100%"))
    assert sandbox.state.product("P-00") is None
    feed.write_text("sku,family\nP-00,clothing\n")
    back = run_push(feed, ExportOptions(), settings=settings_of(sandbox),
                    targets=RunTargets(feedback=tmp_path / "fb.csv"),
                    tracking=Tracking(mode="only-changed", target="the-pim"))  # fmt: skip
    assert back.counts()["created"] == 1  # the state forgot it: not "unchanged"


@pytest.mark.parametrize(
    ("entity", "header", "dry_run", "message"),
    [
        ("product-models", "code", False, "product models have no enabled field"),
        ("products", "sku", True, "--missing needs a live push"),
        ("products", "entity,sku,code", False, "feeds of one entity"),
        ("assets", "code,media", False, "not with --entity assets"),
    ],
    ids=["models-disable", "dry-run", "mixed", "assets"],
)
def test_a_missing_that_cannot_work_is_refused_before_anything(
    sandbox: Sandbox, tmp_path: Path, entity: str, header: str, dry_run: bool, message: str
) -> None:
    feed = tmp_path / "feed.csv"
    feed.write_text(f"{header}\n")
    family = "packshots" if entity == "assets" else None
    with pytest.raises(ConfigError, match=message):
        run_push(feed, ExportOptions(entity=entity, dry_run=dry_run, asset_family=family),  # type: ignore[arg-type]
                 settings=settings_of(sandbox), tracking=Tracking(missing=MissingPolicy("disable")))  # fmt: skip


@pytest.mark.parametrize(
    ("text", "expected"),
    [("5%", (5.0, True)), (" 12 ", (12.0, False)), ("0.5%", (0.5, True)), ("0", (0.0, False))],
    ids=["share", "count", "fraction-of-percent", "zero"],
)
def test_the_guard_reads_a_share_or_a_count(text: str, expected: tuple[float, bool]) -> None:
    assert parse_guard(text) == expected


@pytest.mark.parametrize(
    "text", ["five", "1.5", "150%", "-1"], ids=["word", "fraction", "over-100", "negative"]
)
def test_a_guard_that_is_neither_is_a_usage_error(text: str) -> None:
    with pytest.raises(ConfigError, match="--max-missing"):
        parse_guard(text)
