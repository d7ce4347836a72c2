"""A push from a FeedSource: rows in memory end to end; a feed file read exactly twice."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest
from conftest import DEMO_CATALOG, SAMPLE_FEEDS

from feed_export.catalog.structure import Catalog
from feed_export.config import ExportOptions, Settings
from feed_export.errors import ConfigError
from feed_export.feed import reader
from feed_export.feed.source import FeedSource
from feed_export.push.run import RunTargets, run_push
from feed_export.push.tracking import Tracking
from feed_export.sandbox import Sandbox


def _settings(sb: Sandbox) -> Settings:
    return Settings(
        base_url=sb.url,
        client_id=sb.client_id,
        client_secret=sb.client_secret,
        username=sb.username,
        password=sb.password,
    )


def _sample() -> tuple[list[str], list[list[str]]]:
    with (SAMPLE_FEEDS / "apparel.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    return rows[0], rows[1:]


def _feedback(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.reader(fh))


def test_rows_in_memory_give_the_same_feedback_as_the_file(tmp_path: Path) -> None:
    catalog = Catalog.from_file(DEMO_CATALOG)
    header, rows = _sample()
    options = ExportOptions(dry_run=True)
    from_file = run_push(
        SAMPLE_FEEDS / "apparel.csv",
        options,
        catalog=catalog,
        targets=RunTargets(feedback=tmp_path / "file.csv"),
    )
    from_rows = run_push(
        FeedSource.from_rows(header, rows),
        options,
        catalog=catalog,
        targets=RunTargets(feedback=tmp_path / "rows.csv"),
    )
    assert _feedback(tmp_path / "rows.csv") == _feedback(tmp_path / "file.csv")
    assert from_rows.statuses == from_file.statuses
    assert from_rows.feed == Path("<rows in memory>")


def test_rows_in_memory_need_a_feedback_target() -> None:
    with pytest.raises(ConfigError, match=r"rows in memory need a feedback file"):
        run_push(
            FeedSource.from_rows(["sku"], [["A"]]),
            ExportOptions(dry_run=True),
            catalog=Catalog.from_file(DEMO_CATALOG),
        )


def test_rows_in_memory_pushed_into_the_sandbox(sandbox: Sandbox, tmp_path: Path) -> None:
    header, rows = _sample()
    report = run_push(
        FeedSource.from_rows(header, rows, folder=tmp_path),
        ExportOptions(),
        settings=_settings(sandbox),
        targets=RunTargets(feedback=tmp_path / "fb.csv"),
        tracking=Tracking(journal=False),
    )
    assert report.statuses == {"201": 5, "204": 1, "422": 5, "skipped": 1}
    assert sandbox.state.product("TS-1001") is not None
    assert not (tmp_path / ".feed_export").exists()  # no state store asked for, no journal


def test_only_a_file_can_be_resumed(sandbox: Sandbox, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"only a feed file can be resumed"):
        run_push(
            FeedSource.from_rows(["sku"], [["A"]]),
            ExportOptions(),
            settings=_settings(sandbox),
            targets=RunTargets(feedback=tmp_path / "fb.csv"),
            tracking=Tracking(resume=True),
        )


def test_a_live_push_reads_the_feed_file_once_to_check_and_once_to_send(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A mixed feed (the key index is needed) with an empty header (its data is looked
    at): both are learnt in the validation pass, not in passes of their own."""
    feed = tmp_path / "mixed.csv"
    feed.write_text(
        "entity,sku,code,family,family_variant,parent,name~en_US,\n"
        "product,TS-1,,clothing,,,Shirt,\n"
        "product_model,,tshirt_model,clothing,clothing_color_size,,,\n"
        "product,TS-2,,clothing,,,Other,\n",
        encoding="utf-8",
    )
    passes: list[str] = []
    validate, csv_rows = reader._validate_csv, reader._csv_rows

    def counted_validate(*args: Any, **kwargs: Any) -> None:
        passes.append("validate")
        validate(*args, **kwargs)

    def counted_rows(*args: Any, **kwargs: Any) -> Any:
        passes.append("send")
        return csv_rows(*args, **kwargs)

    monkeypatch.setattr(reader, "_validate_csv", counted_validate)
    monkeypatch.setattr(reader, "_csv_rows", counted_rows)
    report = run_push(feed, ExportOptions(), settings=_settings(sandbox))
    assert passes == ["validate", "send"]
    assert report.rows == 3
    assert report.statuses["201"] == 3, report.to_text()
