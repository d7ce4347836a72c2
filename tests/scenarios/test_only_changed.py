"""--only-changed and --full: only rows the PIM does not hold are sent, and the PIM ends
as a full push would leave it (through the CLI into the sandbox, and against a model PIM).
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
import threading
from collections.abc import Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import orjson
import pytest
from conftest import DEMO_CATALOG, run_cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feed_export.akeneo.responses import LineResult, MediaUpload
from feed_export.catalog.structure import Catalog
from feed_export.config import ExportOptions
from feed_export.feed.reader import open_feed
from feed_export.push.run import run_push
from feed_export.push.tracking import Tracking
from feed_export.sandbox import Sandbox

HEADER = ("sku", "name~en_US", "stock_quantity", "brand")
UNCHANGED = re.compile(r"^Unchanged since \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \(not sent\)$")


def write_feed(path: Path, rows: Sequence[Sequence[str]], header: Sequence[str] = HEADER) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


def catalog_rows(n: int, stock: int = 0) -> list[tuple[str, str, str, str]]:
    return [(f"P{i:03d}", f"Product {i}", str(i + stock), "acme") for i in range(n)]


def feedback(feed: Path) -> list[tuple[str, str, str]]:
    with open_feed(feed.with_suffix(".feedback.csv")) as fb:
        return [(r.cells[0], r.cells[-2], r.cells[-1]) for r in fb.rows()]


def push(sb: Sandbox, feed: Path, *flags: str) -> tuple[int, list[tuple[str, str, str]], int]:
    """Push through the CLI: exit code, feedback (sku, status, message), lines received."""
    before = sb.stats.patch_lines
    result = run_cli(["push", str(feed), "-q", *flags])
    return result.code, feedback(feed), sb.stats.patch_lines - before


def stored(sb: Sandbox, identifier: str, attribute: str) -> object:
    product = sb.state.product(identifier)
    assert product is not None, identifier
    return product["values"][attribute][0]["data"]


def test_unchanged_feed_sends_nothing_and_succeeds(sandbox: Sandbox, tmp_path: Path) -> None:
    feed = write_feed(tmp_path / "f.csv", catalog_rows(250))
    code, rows, sent = push(sandbox, feed, "--only-changed")
    assert (code, sent) == (0, 250)
    assert {s for _, s, _ in rows} == {"201"}
    assert (tmp_path / ".feed_export" / "state.sqlite").exists()
    assert not (tmp_path / ".feed_export" / "f.csv.journal.sqlite").exists()  # run ended

    summary = tmp_path / "s.json"
    code, rows, sent = push(sandbox, feed, "--only-changed", "--summary-json", str(summary))
    assert (code, sent) == (0, 0)
    assert [sku for sku, _, _ in rows] == [f"P{i:03d}" for i in range(250)]
    assert all(s == "304" and UNCHANGED.match(m) for _, s, m in rows), rows[:3]
    data = json.loads(summary.read_text())
    assert data["statuses"] == {"304": 250}
    assert (data["accepted"], data["failed"], data["lines_sent"]) == (250, 0, 0)


def test_only_changed_rows_are_sent(sandbox: Sandbox, tmp_path: Path) -> None:
    feed = write_feed(tmp_path / "f.csv", catalog_rows(120))
    push(sandbox, feed, "--only-changed")
    rows = catalog_rows(120)
    for i in (3, 50, 119):
        rows[i] = (rows[i][0], rows[i][1], "999", "acme")
    write_feed(feed, rows)
    code, out, sent = push(sandbox, feed, "--only-changed")
    assert (code, sent) == (0, 3)
    assert [i for i, (_, s, _) in enumerate(out) if s != "304"] == [3, 50, 119]
    assert {s for i, (_, s, _) in enumerate(out) if i in (3, 50, 119)} == {"204"}
    assert stored(sandbox, "P050", "stock_quantity") == 999


def test_row_the_pim_rejected_is_sent_again(sandbox: Sandbox, tmp_path: Path) -> None:
    # an EAN another product holds: only the PIM knows (an unknown option, the catalog's
    # own knowledge, is refused before sending since issue 11)
    other = write_feed(tmp_path / "other.csv", [("X999", "4006381333931")], ("sku", "ean"))
    assert push(sandbox, other)[0] == 0
    header = (*HEADER, "ean")
    rows = [(*row, f"{i:013d}") for i, row in enumerate(catalog_rows(30))]
    rows[7] = ("P007", "Product 7", "7", "acme", "4006381333931")  # unique: the PIM says 422
    feed = write_feed(tmp_path / "f.csv", rows, header)
    code, out, sent = push(sandbox, feed, "--only-changed")
    assert (code, sent, out[7][1]) == (1, 30, "422")
    code, out, sent = push(sandbox, feed, "--only-changed")
    assert (code, sent) == (1, 1)
    assert out[7][1] == "422" and "4006381333931" in out[7][2]
    assert [s for i, (_, s, _) in enumerate(out) if i != 7] == ["304"] * 29


def test_full_sends_everything_and_records(sandbox: Sandbox, tmp_path: Path) -> None:
    feed = write_feed(tmp_path / "f.csv", catalog_rows(40))
    code, _, sent = push(sandbox, feed)  # a plain push creates no state
    assert (code, sent) == (0, 40)
    assert not (tmp_path / ".feed_export").exists()
    code, out, sent = push(sandbox, feed, "--full")
    assert (code, sent) == (0, 40) and {s for _, s, _ in out} == {"204"}
    code, out, sent = push(sandbox, feed, "--only-changed")
    assert (code, sent) == (0, 0) and {s for _, s, _ in out} == {"304"}
    code, out, sent = push(sandbox, feed, "--full")  # ignores the state for deciding
    assert sent == 40


def test_plain_push_keeps_an_existing_state_true(sandbox: Sandbox, tmp_path: Path) -> None:
    """Without this, --only-changed would trust a payload the PIM no longer holds."""
    feed = write_feed(tmp_path / "f.csv", [("K", "X", "1", "acme")])
    push(sandbox, feed, "--only-changed")
    write_feed(feed, [("K", "Y", "1", "acme")])
    push(sandbox, feed)  # no flag: the state exists, so it is updated
    write_feed(feed, [("K", "X", "1", "acme")])
    code, out, sent = push(sandbox, feed, "--only-changed")
    assert (code, sent, out[0][1]) == (0, 1, "204")
    assert stored(sandbox, "K", "name") == "X"


@pytest.mark.parametrize(
    ("before", "now", "statuses", "final"),
    [
        (
            [("K", "Y", "1", "acme")],
            [("K", "X", "1", "acme"), ("K", "Y", "1", "acme")],
            ["204", "204"],
            "Y",
        ),
        (
            [("K", "X", "1", "acme"), ("K", "Y", "1", "acme")],
            [("K", "X", "1", "acme"), ("K", "Y", "1", "acme")],
            ["204", "204"],
            "Y",
        ),
        (
            [("K", "Y", "1", "acme")],
            [("K", "Y", "1", "acme"), ("K", "Y", "1", "acme")],
            ["304", "304"],
            "Y",
        ),
        (
            [("K", "Y", "1", "acme")],
            [("K", "Y", "1", "acme"), ("K", "X", "1", "acme")],
            ["304", "204"],
            "X",
        ),
    ],
    ids=[
        "changed-then-set-back",
        "two-rows-unchanged-feed",
        "same-row-twice",
        "unchanged-then-changed",
    ],
)
def test_repeated_identifier(
    sandbox: Sandbox,
    tmp_path: Path,
    before: list[tuple[str, ...]],
    now: list[tuple[str, ...]],
    statuses: list[str],
    final: str,
) -> None:
    """Once a row of an identifier is sent, its later rows go too (their order matters)."""
    feed = write_feed(tmp_path / "f.csv", before)
    push(sandbox, feed, "--only-changed")
    write_feed(feed, now)
    code, out, _ = push(sandbox, feed, "--only-changed")
    assert code == 0
    assert [s for _, s, _ in out] == statuses
    assert stored(sandbox, "K", "name") == final


def test_identifiers_are_case_folded(sandbox: Sandbox, tmp_path: Path) -> None:
    """The sandbox, like MySQL, matches identifiers case-insensitively: ABC is abc."""
    feed = write_feed(tmp_path / "f.csv", [("ABC", "Y", "1", "acme"), ("abc", "X", "1", "acme")])
    push(sandbox, feed, "--only-changed")
    write_feed(feed, [("ABC", "Y", "1", "acme")])
    code, out, sent = push(sandbox, feed, "--only-changed")
    assert (code, sent, out[0][1]) == (0, 1, "204")  # "ABC" as Y is not what the PIM holds last
    assert stored(sandbox, "abc", "name") == "Y"


def test_state_file_where_asked(sandbox: Sandbox, tmp_path: Path) -> None:
    feed = write_feed(tmp_path / "f.csv", catalog_rows(5))
    state = tmp_path / "states" / "pim.sqlite"
    push(sandbox, feed, "--only-changed", "--state", str(state))
    assert state.exists() and not (tmp_path / ".feed_export").exists()
    assert push(sandbox, feed, "--only-changed", "--state", str(state))[2] == 0
    assert push(sandbox, feed, "--only-changed")[2] == 5  # the default state knows nothing


@pytest.mark.parametrize("flag", ["--only-changed", "--full", "--resume"])
def test_dry_run_refuses_the_flags(tmp_path: Path, flag: str) -> None:
    feed = write_feed(tmp_path / "f.csv", catalog_rows(2))
    result = run_cli(["push", str(feed), "--dry-run", "--catalog", str(DEMO_CATALOG), flag])
    assert result.code == 2
    assert f"{flag} needs a live push" in result.err


def test_only_changed_and_full_exclude_each_other(tmp_path: Path) -> None:
    result = run_cli(["push", "f.csv", "--only-changed", "--full"])
    assert result.code == 2 and "not allowed with" in result.err


# --- the invariant, against a model PIM -----------------------------------------------


class ModelPim:
    """Collection PATCH as Akeneo applies it: per line, in order, each value replaced.

    Identifiers match case-insensitively. A name "bad" is refused (422, nothing applied).
    Status 0 (no answer) comes in both kinds: "lost" is applied (the answer was cut
    off); "gone" is not applied the first time this PIM sees that line (the request
    never arrived), and is the next time (networks recover).
    """

    def __init__(self) -> None:
        self.products: dict[str, dict[tuple[str, object, object], object]] = {}
        self.lines = 0
        self.uploads = 0
        self.stats = SimpleNamespace(requests_sent=0, retries=0)
        self._lock = threading.Lock()
        self._seen: set[bytes] = set()

    def patch_collection(
        self, entity: str, lines: Sequence[bytes], *, create_missing_options: bool = False
    ) -> list[LineResult]:
        out = []
        with self._lock:
            self.stats.requests_sent += 1
            for raw in lines:
                self.lines += 1
                body = orjson.loads(raw)
                values = body.get("values", {})
                names = [v["data"] for v in values.get("name", [])]
                if "bad" in names:
                    out.append(LineResult(422, "Validation failed."))
                    continue
                if "gone" in names and raw not in self._seen:
                    self._seen.add(raw)
                    out.append(LineResult(0, "connection refused"))
                    continue
                product = self.products.setdefault(body["identifier"].casefold(), {})
                created = not product
                product[("_exists", None, None)] = True
                for code, entries in values.items():
                    for v in entries:
                        product[(code, v["locale"], v["scope"])] = v["data"]
                status = 0 if "lost" in names else 201 if created else 204
                out.append(LineResult(status, "" if status else "connection lost"))
        return out

    def upload_media_file(self, target: Any, *, content: bytes, **_: Any) -> MediaUpload:
        """Every file is stored (the pipeline wires the media stage to this client too)."""
        with self._lock:
            self.uploads += 1
        return MediaUpload(201, "", f"a/b/c/d/{hashlib.sha1(content).hexdigest()}_f.jpg")

    def media_file_exists(self, code: str) -> bool | None:
        return True


row = st.tuples(
    st.sampled_from(["A", "a", "B", "C"]),
    st.sampled_from(["", "n1", "n2", "bad", "lost", "gone"]),
    st.sampled_from(["", "1", "2"]),
)


@st.composite
def feeds(draw: st.DrawFn) -> list[list[tuple[str, str, str]]]:
    """Feeds drawn from a small pool of rows, so that rows come back from feed to feed."""
    pool = draw(st.lists(row, min_size=1, max_size=5, unique=True))
    pick = st.lists(st.sampled_from(pool), min_size=1, max_size=6)
    return draw(st.lists(pick, min_size=2, max_size=5))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(feeds=feeds())
def test_only_changed_ends_where_a_full_push_ends(
    tmp_path_factory: pytest.TempPathFactory, feeds: list[list[tuple[str, str, str]]]
) -> None:
    """After every push of a sequence of feeds, the PIM holds what full pushes leave."""
    catalog = Catalog.from_file(DEMO_CATALOG)
    options = ExportOptions(batch_size=2, concurrency=3)
    incremental, full = ModelPim(), ModelPim()
    runs = (
        (incremental, Tracking(mode="only-changed", target="model"), tmp_path_factory.mktemp("a")),
        (full, Tracking(journal=False), tmp_path_factory.mktemp("b")),
    )
    for n, rows in enumerate(feeds):
        for pim, tracking, folder in runs:
            feed = folder / "f.csv"
            with feed.open("w", newline="", encoding="utf-8") as fh:
                w = csv.writer(fh)
                w.writerow(["sku", "name~en_US", "stock_quantity"])
                w.writerows(rows)
            run_push(
                feed,
                options,
                catalog=catalog,
                client=pim,  # type: ignore[arg-type]
                tracking=tracking,
            )
        assert incremental.products == full.products, n
    assert incremental.lines <= full.lines


# --- the raw-row shortcut: unchanged rows are not even decoded -------------------------


class CountingDecodes:
    """Counts RowDecoder.decode calls (the shortcut's whole point is to skip them)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        from feed_export.push import decode as products

        self.calls = 0
        real = products.RowDecoder.decode

        def decode(decoder: products.RowDecoder, row: Any) -> Any:
            self.calls += 1
            return real(decoder, row)

        monkeypatch.setattr(products.RowDecoder, "decode", decode)


def model_push(
    folder: Path, rows: Sequence[tuple[str, ...]], catalog: Catalog, pim: ModelPim
) -> None:
    feed = folder / "f.csv"
    with feed.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["sku", "weight@unit", "name~en_US"])
        w.writerows(rows)
    run_push(
        feed,
        ExportOptions(),
        catalog=catalog,
        client=pim,  # type: ignore[arg-type]
        tracking=Tracking(mode="only-changed", target="model"),
    )


def test_unchanged_rows_are_not_decoded(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    decodes = CountingDecodes(monkeypatch)
    catalog = Catalog.from_file(DEMO_CATALOG)
    pim = ModelPim()
    rows = [(f"K{i}", "3", f"n{i}") for i in range(50)]
    model_push(tmp_path, rows, catalog, pim)
    assert (decodes.calls, pim.lines) == (50, 50)
    rows[7] = ("K7", "4", "n7")
    model_push(tmp_path, rows, catalog, pim)
    assert (decodes.calls, pim.lines) == (51, 51)  # only the changed row was decoded


def test_a_catalog_change_is_seen_through_the_shortcut(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The same cells under another catalog may mean another payload: decode again."""
    decodes = CountingDecodes(monkeypatch)
    data = json.loads(DEMO_CATALOG.read_text())
    pim = ModelPim()
    rows = [("K1", "3", "a"), ("K2", "", "b")]  # K2 has no weight: its payload stays
    model_push(tmp_path, rows, Catalog.from_dict(data), pim)
    for attribute in data["attributes"]:
        if attribute["code"] == "weight":
            attribute["default_metric_unit"] = "GRAM"  # a bare "3" is now 3 g
    decodes.calls = 0
    model_push(tmp_path, rows, Catalog.from_dict(data), pim)
    assert decodes.calls == 2 and pim.lines == 3  # both decoded, K1 sent again
    assert pim.products["k1"][("weight", None, None)] == {"amount": "3", "unit": "GRAM"}
    fb = feedback(tmp_path / "f.csv")
    assert [s for _, s, _ in fb] == ["204", "304"]
    decodes.calls = 0
    model_push(tmp_path, rows, Catalog.from_dict(data), pim)  # K2's raw hash was noted
    assert decodes.calls == 0 and pim.lines == 3


def test_unchanged_counts_as_accepted_in_the_summary() -> None:
    from feed_export.report.model import RunReport, unchanged_message

    report = RunReport(feed=Path("f.csv"), seconds=1.0)
    report.record(304, unchanged_message("2026-11-28T07:10:00Z"))
    report.record(201, "")
    assert (report.accepted, report.failed, report.exit_code) == (2, 0, 0)
    assert not report.messages  # not a problem to list
    assert "  1  unchanged" in report.to_text()
    report.record(422, "Validation failed.")
    assert (report.failed, report.exit_code) == (1, 1)


def test_a_new_picture_url_makes_the_row_changed(tmp_path: Path) -> None:
    """A URL is not in the body (the file goes separately), yet it is part of the row."""
    catalog = Catalog.from_file(DEMO_CATALOG)
    pim = ModelPim()
    feed = tmp_path / "f.csv"
    for name in ("a.jpg", "b.jpg"):  # paths beside the feed: no network needed
        (tmp_path / name).write_bytes(b"\xff\xd8\xff\xe0 " + name.encode())
    sent = []
    for url in ("a.jpg", "a.jpg", "b.jpg"):
        feed.write_text(f"sku,name~en_US,picture\nK1,n,{url}\n", encoding="utf-8")
        before = pim.lines
        report = run_push(
            feed,
            ExportOptions(),
            catalog=catalog,
            client=pim,  # type: ignore[arg-type]
            tracking=Tracking(mode="only-changed", target="model"),
        )
        assert report.rows == 1
        sent.append(pim.lines - before)
    assert sent == [1, 0, 1]
    assert pim.uploads == 2


def test_a_new_option_in_the_pim_changes_no_row(sandbox: Sandbox, tmp_path: Path) -> None:
    """The live catalog now holds options (issue 11): they are not part of the rows' hashes,
    so a PIM that gained an option does not make every row look changed."""
    feed = write_feed(tmp_path / "f.csv", catalog_rows(20))
    assert push(sandbox, feed, "--only-changed")[0] == 0
    sandbox.catalog.add_option("brand", "brand_new")
    code, out, sent = push(sandbox, feed, "--only-changed")
    assert (code, sent) == (0, 0)
    assert {s for _, s, _ in out} == {"304"}
