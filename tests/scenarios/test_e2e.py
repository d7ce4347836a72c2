"""End to end through the CLI into the embedded sandbox, over real loopback HTTP."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import orjson
import pytest
from conftest import DEMO_CATALOG, GOLDEN, SAMPLE_FEEDS, copy_sample, run_cli

from feed_export.feed.reader import open_feed
from feed_export.sandbox import Faults, Sandbox


def _feedback(path: Path) -> list[tuple[str, str, str]]:
    with open_feed(path) as feed:
        return [(r.cells[0], r.cells[-2], r.cells[-1]) for r in feed.rows()]


def _sent_values(payload: Path) -> dict[str, dict[str, object]]:
    """The last line sent for each identifier (later rows of an identifier win)."""
    merged: dict[str, dict[str, object]] = {}
    for line in payload.read_bytes().splitlines():
        body = orjson.loads(line)
        product = merged.setdefault(body["identifier"], {})
        for code, values in body.get("values", {}).items():
            for v in values:
                product[f"{code}|{v['locale']}|{v['scope']}"] = v["data"]
    return merged


def _stored_values(product: dict[str, object]) -> dict[str, object]:
    out: dict[str, object] = {}
    values = product["values"]
    assert isinstance(values, dict)
    for code, entries in values.items():
        for v in entries:
            out[f"{code}|{v['locale']}|{v['scope']}"] = v["data"]
    return out


def _same(sent: object, stored: object) -> bool:
    """Equal up to Akeneo's normalisation on read (decimals padded, lists sorted, units upper)."""
    if isinstance(sent, str) and isinstance(stored, str):
        try:
            return float(sent) == float(stored)
        except ValueError:
            return stored.startswith(sent) or sent == stored
    if isinstance(sent, list) and isinstance(stored, list):
        if all(isinstance(x, str) for x in sent):
            return sorted(sent) == sorted(stored)  # type: ignore[type-var]
        key = lambda d: json.dumps(d, sort_keys=True)  # noqa: E731
        return len(sent) == len(stored) and all(
            any(_same(a, b) for b in stored) for a in sorted(sent, key=key)
        )
    if isinstance(sent, dict) and isinstance(stored, dict):
        return all(
            _same(v, stored.get(k)) or (k == "unit" and str(v).upper() == stored.get(k))
            for k, v in sent.items()
        )
    return sent == stored


def test_push_apparel_into_sandbox_and_read_back(sandbox: Sandbox, tmp_path: Path) -> None:
    feedback = tmp_path / "fb.csv"
    payload = tmp_path / "sent.ndjson"
    result = run_cli(
        [
            "push",
            str(SAMPLE_FEEDS / "apparel.csv"),
            "--feedback",
            str(feedback),
            "--payload-out",
            str(payload),
            "--summary-json",
            str(tmp_path / "s.json"),
        ]
    )
    assert result.code == 1, result.err  # the sample holds wrong rows on purpose
    rows = _feedback(feedback)
    statuses = [s for _, s, _ in rows]
    assert statuses == [
        "201",
        "201",
        "201",
        "201",
        "201",
        "204",
        "",
        "422",
        "422",
        "422",
        "422",
        "422",
    ]
    # refused before sending, from the catalog the push read (issue 11: the PIM is not
    # asked what the catalog knows), with the words a dry run uses
    assert rows[10][2] == 'Not sent: categories: unknown category "outlet"'
    assert 'brand: option "tommh" does not exist for brand' in rows[11][2]
    summary = json.loads((tmp_path / "s.json").read_text())
    assert summary["statuses"] == {"201": 5, "204": 1, "422": 5, "skipped": 1}
    # every row reported 201/204 is in the PIM with the values sent
    for identifier, values in _sent_values(payload).items():
        status = {s for i, s, _ in rows if i == identifier}
        if not status & {"201", "204"}:
            continue
        product = sandbox.state.product(identifier)
        assert product is not None, identifier
        stored = _stored_values(product)
        for key, data in values.items():
            assert key in stored, (identifier, key)
            assert _same(data, stored[key]), (identifier, key, data, stored[key])
    # the later row of TS-1001 won
    ts = sandbox.state.product("TS-1001")
    assert ts is not None
    assert _stored_values(ts)["name|en_US|None"] == "Classic crew T-shirt (2024 edition)"
    assert _stored_values(ts)["stock_quantity|None|None"] == 95


def test_push_xlsx_feedback_is_xlsx(sandbox: Sandbox, tmp_path: Path) -> None:
    feed = copy_sample("electronics.xlsx", tmp_path)
    result = run_cli(["push", str(feed), "-q"])
    assert result.code == 1
    rows = _feedback(tmp_path / "electronics.feedback.xlsx")
    assert [s for _, s, _ in rows] == ["201", "201", "201", "201", "422"]
    assert sandbox.state.product("HP-5001") is not None
    assert sandbox.state.product("CH-5005") is None


def test_push_under_faults_loses_nothing(sandbox: Sandbox, tmp_path: Path) -> None:
    feed = tmp_path / "feed.csv"
    with feed.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["sku", "name~en_US", "stock_quantity", "brand"])
        for i in range(600):
            w.writerow(
                [f"P{i % 450:04d}", f"Product {i}", str(i), "tommh" if i % 97 == 0 else "acme"]
            )
    sandbox.faults = Faults(
        seed=7, rate_5xx=0.1, rate_429=0.05, retry_after=None, rate_drop=0.02, rate_cut=0.03
    )
    result = run_cli(
        [
            "push",
            str(feed),
            "--batch-size",
            "50",
            "--max-retry-delay",
            "0.05",
            "--max-attempts",
            "8",
            "-q",
        ]
    )
    rows = _feedback(tmp_path / "feed.feedback.csv")
    assert len(rows) == 600
    assert [r[0] for r in rows] == [f"P{i % 450:04d}" for i in range(600)]
    for i, (identifier, status, message) in enumerate(rows):
        if i % 97 == 0:
            assert status == "422" and "tommh" in message
        else:
            assert status in {"201", "204"}, (i, status, message)
            product = sandbox.state.product(identifier)
            assert product is not None
    # later rows of an identifier win
    for n in range(450):
        last = max(i for i in range(600) if i % 450 == n)
        if last % 97 == 0:
            continue
        product = sandbox.state.product(f"P{n:04d}")
        assert product is not None
        assert _stored_values(product)["stock_quantity|None|None"] == last
    assert result.code == 1
    assert sum(sandbox.stats.faults.values()) > 0


def test_catalog_pull_then_offline_check(sandbox: Sandbox, tmp_path: Path) -> None:
    out = tmp_path / "catalog.json"
    result = run_cli(["catalog", "pull", "-o", str(out)])
    assert result.code == 0, result.err
    pulled = json.loads(out.read_text())
    demo = json.loads(DEMO_CATALOG.read_text())
    assert {a["code"] for a in pulled["attributes"]} == {a["code"] for a in demo["attributes"]}
    check = run_cli(
        [
            "check",
            str(SAMPLE_FEEDS / "apparel.csv"),
            "--catalog",
            str(out),
            "--feedback",
            str(tmp_path / "f.csv"),
            "-q",
        ]
    )
    assert check.code == 1
    assert sandbox.stats.patch_requests == 0


def test_wrong_password_stops_before_anything_is_written(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A refused login is a start-up failure: exit 2, the feedback of the last run kept."""
    monkeypatch.setenv("AKENEO_PASSWORD", "SENTINEL-WRONG-PASSWORD")
    feed = tmp_path / "f.csv"
    feed.write_text("sku,name~en_US\nA,x\n", encoding="utf-8")
    earlier = tmp_path / "f.feedback.csv"
    earlier.write_text("sku,name~en_US,akeneo_status_code,akeneo_message\nA,x,201,\n")
    result = run_cli(["push", str(feed), "-vv"])
    assert result.code == 2
    assert "No user found for the given username and password" in result.err
    assert "SENTINEL" not in result.err + result.out
    assert earlier.read_text() == "sku,name~en_US,akeneo_status_code,akeneo_message\nA,x,201,\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.csv", "f.feedback.csv"]


def test_push_summary_matches_golden_text(sandbox: Sandbox, tmp_path: Path) -> None:
    """The summary of pushing apparel.csv, in words (timings from a ticking clock)."""
    import itertools
    import os

    from pydantic import SecretStr

    from feed_export.config import ExportOptions, Settings
    from feed_export.push.run import RunTargets, run_push

    ticks = itertools.count()
    settings = Settings(
        base_url=sandbox.url,
        client_id=sandbox.client_id,
        client_secret=SecretStr(sandbox.client_secret),
        username=sandbox.username,
        password=SecretStr(sandbox.password),
    )
    report = run_push(
        SAMPLE_FEEDS / "apparel.csv",
        ExportOptions(batch_size=4, concurrency=1),
        settings=settings,
        targets=RunTargets(feedback=tmp_path / "apparel.feedback.csv"),
        clock=lambda: next(ticks) * 0.1,
    )
    host = sandbox.url.removeprefix("http://")
    text = report.to_text().replace(host, "127.0.0.1:8080").replace(f"{tmp_path}/", "")
    text = "\n".join(line for line in text.split("\n") if "requests," not in line) + "\n"
    golden = GOLDEN / "apparel.push.summary.txt"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        golden.write_text(text, encoding="utf-8")
    assert text == golden.read_text(encoding="utf-8")
    assert report.to_json()["counts"]["created"] == 5 and report.to_json()["pim"] == host
