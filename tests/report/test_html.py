"""--report: one self-contained HTML page, checked as text and in a real headless browser.

The browser test needs Debian's ``chromium`` (``.ci/run`` installs it). Without it the test
fails, so that a machine that cannot run it does not pass it silently; set
``FEED_EXPORT_SKIP_BROWSER_TESTS=1`` to skip it on purpose.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import DEMO_CATALOG, SAMPLE_FEEDS, run_cli
from pydantic import SecretStr

from feed_export.catalog.structure import Catalog
from feed_export.config import ExportOptions, Settings
from feed_export.push.run import RunTargets, run_push
from feed_export.report.html import render_html
from feed_export.report.model import RunReport, run_settings
from feed_export.sandbox import Sandbox

SKIP_BROWSER = "FEED_EXPORT_SKIP_BROWSER_TESTS"
NOW = datetime(2026, 12, 4, 9, 30, tzinfo=UTC)


class Elements(HTMLParser):
    """Every element of a page: (tag, attributes, text directly inside it)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, str], list[str]]] = []
        self._open: list[int] = []
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, {k: v or "" for k, v in attrs}, []))
        if tag not in {"meta", "link", "br", "input", "img", "circle", "rect", "path", "line"}:
            self._open.append(len(self.found) - 1)

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self._open) - 1, -1, -1):
            if self.found[self._open[i]][0] == tag:
                del self._open[i:]
                break

    def handle_data(self, data: str) -> None:
        if self._open:
            self.found[self._open[-1]][2].append(data)

    def having(self, attribute: str) -> list[dict[str, str]]:
        return [attrs for _, attrs, _ in self.found if attribute in attrs]

    def tags(self, tag: str) -> list[dict[str, str]]:
        return [attrs for name, attrs, _ in self.found if name == tag]


def _sample_report(tmp_path: Path) -> RunReport:
    return run_push(
        SAMPLE_FEEDS / "apparel.csv",
        ExportOptions(dry_run=True),
        catalog=Catalog.from_file(DEMO_CATALOG),
        targets=RunTargets(feedback=tmp_path / "fb.csv"),
    )


def test_the_page_fetches_nothing(tmp_path: Path) -> None:
    page = render_html(_sample_report(tmp_path), now=NOW)
    elements = Elements(page)
    for tag in ("link", "img", "iframe", "object", "embed", "audio", "video", "source"):
        assert not elements.tags(tag), tag
    assert not elements.having("src"), "an element loads something"
    assert all(a["href"].startswith("#") for a in elements.tags("a")), "a link leaves the page"
    assert "@import" not in page and "url(" not in page
    assert len(elements.tags("script")) == len(elements.tags("style")) == 1  # both inline


def test_text_from_the_feed_and_the_pim_is_escaped() -> None:
    report = RunReport(feed=Path('<img src=x onerror="alert(1)">.csv'), pim="pim")
    report.record(422, "Validation failed. values[a]: <script>alert(1)</script>", row=2)
    page = render_html(report, now=NOW)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert len(Elements(page).tags("script")) == 1 and not Elements(page).tags("img")


def test_the_settings_never_hold_a_secret(tmp_path: Path) -> None:
    settings = Settings(
        base_url="https://pim.example.com",
        client_id="cid",
        client_secret=SecretStr("SENTINEL-SECRET-3f1"),
        username="api",
        password=SecretStr("SENTINEL-PASSWORD-9a2"),
    )
    report = _sample_report(tmp_path)
    report.settings = run_settings(ExportOptions(), settings, mode="only-changed")
    page = render_html(report, now=NOW)
    assert "SENTINEL" not in page
    assert "only changed rows" in page and "attempts per request" in page


def test_the_numbers_of_the_page_are_the_summarys(tmp_path: Path) -> None:
    report = _sample_report(tmp_path)
    elements = Elements(render_html(report, now=NOW))
    shown = {a["data-count-kind"]: int(a["data-count"]) for a in elements.having("data-count-kind")}
    assert shown == {kind: n for kind, n in report.counts().items() if n}
    slices = {a["data-kind"]: int(a["data-count"]) for a in elements.having("data-kind")}
    assert slices == shown
    problems = {
        int(a["data-problem"]): int(a["data-count"]) for a in elements.having("data-problem")
    }
    assert problems == {p.id: p.seen_rows for p in report.problem_list()}
    # a problem links to its rows, and a row back to its problems
    rows = {a["id"] for a in elements.having("data-problems")}
    links = {a["href"] for a in elements.tags("a")}
    assert {"#row-9", "#row-10", "#row-11"} <= links and {"row-9", "row-10", "row-11"} <= rows
    assert {f"#problem-{p.id}" for p in report.problem_list()} <= links


# --- in a real browser -------------------------------------------------------------------


def _chromium() -> str:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    if os.environ.get(SKIP_BROWSER) == "1":
        pytest.skip(f"no chromium, and {SKIP_BROWSER}=1 allows skipping the browser test")
    pytest.fail(
        "the report's browser test needs Debian's chromium (apt-get install chromium; .ci/run "
        f"installs it); set {SKIP_BROWSER}=1 to skip it on purpose"
    )


def _browse(page: Path, profile: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    """Chromium, headless, with no network at all (every host name fails to resolve)."""
    return subprocess.run(
        [
            _chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--host-resolver-rules=MAP * ~NOTFOUND",
            f"--user-data-dir={profile}",
            "--window-size=1280,2400",
            *extra,
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_report_renders_in_a_browser_with_its_charts_and_the_summarys_numbers(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    page, summary = tmp_path / "report.html", tmp_path / "summary.json"
    result = run_cli(
        ["push", str(SAMPLE_FEEDS / "apparel.csv"), "--feedback", str(tmp_path / "fb.csv"),
         "--report", str(page), "--summary-json", str(summary), "-q"]
    )  # fmt: skip
    assert result.code == 1, result.err
    data = json.loads(summary.read_text(encoding="utf-8"))

    browsed = _browse(page, tmp_path / "profile", "--dump-dom")
    assert browsed.returncode == 0, browsed.stderr[-2000:]
    dom = Elements(browsed.stdout)
    (body,) = dom.tags("body")
    assert body["data-ready"] == "yes", "the page's script did not run"
    charts = [a for a in dom.tags("svg") if "chart" in a.get("class", "").split()]
    assert {c["id"] for c in charts} == {"chart-outcomes", "chart-columns", "chart-timeline"}
    marks = {"chart-outcomes": len(dom.having("data-kind"))}
    for chart in charts:
        assert chart["data-drawn"] == "yes", chart["id"]
        assert int(chart["data-marks-drawn"]) > 0, chart["id"]
    assert int(charts[0]["data-marks-drawn"]) == marks["chart-outcomes"]

    # the numbers on the page are the summary's
    shown = {a["data-count-kind"]: int(a["data-count"]) for a in dom.having("data-count-kind")}
    assert shown == {kind: n for kind, n in data["counts"].items() if n}
    (total,) = dom.having("data-rows-total")
    assert int(total["data-rows-total"]) == data["rows"] == 12
    problems = {int(a["data-problem"]): int(a["data-count"]) for a in dom.having("data-problem")}
    assert problems == {p["id"]: p["row_count"] for p in data["problems"]}
    assert "127.0.0.1" in browsed.stdout and data["pim"] in browsed.stdout

    shot = tmp_path / "report.png"
    taken = _browse(page, tmp_path / "profile2", f"--screenshot={shot}")
    assert taken.returncode == 0, taken.stderr[-2000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000


def test_report_to_standard_output_and_refused_collisions(tmp_path: Path) -> None:
    feed = SAMPLE_FEEDS / "apparel.csv"
    result = run_cli(["check", str(feed), "--catalog", str(DEMO_CATALOG), "--report", "-",
                      "--feedback", str(tmp_path / "fb.csv")])  # fmt: skip
    assert result.code == 1 and result.out.startswith("<!doctype html>")
    assert "report: standard output" in result.err
    clash = run_cli(["check", str(feed), "--catalog", str(DEMO_CATALOG), "--report",
                     str(tmp_path / "s.json"), "--summary-json", str(tmp_path / "s.json")])  # fmt: skip
    assert clash.code == 2
    assert re.search(r"--report .*s\.json is the summary", clash.err)
