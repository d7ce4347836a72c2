"""Assets end to end: a feed's pictures (URLs from a local image server, paths beside the
feed) become assets of the sandbox over real loopback HTTP, linked to their products in
feed order; failures named on their rows; an assets feed; nothing sent again when nothing
changed; a push killed between a row's assets and its product, then resumed.

The image server is on loopback, which downloads refuse unless opened: every push here
passes ``--allow-private-media``, as a push from an intranet image server would.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import DEMO_CATALOG, ROOT, run_cli
from hostile import HostilePim
from imageserver import (
    DOWNLOAD,
    GET_ASSET,
    JPEG,
    JPEG_BACK,
    PATCH_ASSETS,
    PNG,
    UPLOAD,
    ImageServer,
    asset_requests,
    assets_catalog,
    images,
)

from feed_export.push.assets import suffixed
from feed_export.sandbox import Sandbox, start_sandbox

OPEN = ["--allow-private-media", "-q"]
GUARD = 30.0  # seconds: reached only when something hangs


@pytest.fixture
def server() -> Iterator[ImageServer]:
    with images() as found:
        yield found


def point_at(sb: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in env(sb).items():
        monkeypatch.setenv(name, value)


def env(sb: Sandbox) -> dict[str, str]:
    return {
        "AKENEO_BASE_URL": sb.url,
        "AKENEO_CLIENT_ID": sb.client_id,
        "AKENEO_CLIENT_SECRET": sb.client_secret,
        "AKENEO_USERNAME": sb.username,
        "AKENEO_PASSWORD": sb.password,
    }


@pytest.fixture
def sb(monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    with start_sandbox(catalog=assets_catalog()) as sandbox:
        point_at(sandbox, monkeypatch)
        yield sandbox


def write(path: Path, header: list[str], rows: Iterable[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(header)
        out.writerows(rows)
    return path


def products_feed(folder: Path, rows: dict[str, str], column: str = "packshots") -> Path:
    (folder / "img").mkdir(exist_ok=True)
    (folder / "img" / "care label.png").write_bytes(PNG)
    return write(
        folder / "feed.csv",
        ["sku", "family", column],
        [[sku, "clothing", cell] for sku, cell in rows.items()],
    )


def feedback(feed: Path) -> list[tuple[str, str]]:
    with feed.with_suffix(".feedback.csv").open(encoding="utf-8", newline="") as fh:
        return [(r["akeneo_status_code"], r["akeneo_message"]) for r in csv.DictReader(fh)]


def packshots(sb: Sandbox, sku: str, attribute: str = "packshots") -> list[str] | None:
    product = sb.state.product(sku)
    assert product is not None, sku
    values = product["values"].get(attribute)
    return None if values is None else values[0]["data"]


def media_of(sb: Sandbox, code: str) -> bytes | None:
    asset = sb.state.asset("packshots", code)
    if asset is None:
        return None
    stored = sb.state.asset_media_file(asset["values"]["media"][0]["data"])
    return None if stored is None else stored.content


def push(feed: Path, *flags: str) -> int:
    result = run_cli(["push", str(feed), *OPEN, *flags])
    assert "internal error" not in result.err, result.err
    return result.code


# -- product rows ------------------------------------------------------------------------


def test_urls_and_paths_become_assets_linked_in_feed_order(
    sb: Sandbox, server: ImageServer, tmp_path: Path
) -> None:
    front, back = server.url("/tees/front.jpg"), server.url("/tees/back.jpg")
    feed = products_feed(
        tmp_path,
        {
            "TS-1": f"{front}<###>img/care label.png",
            "TS-2": front,  # the same image on another row: uploaded once
            "TS-3": f"img/care label.png<###>{back}<###>carelabel",  # a code too
        },
    )
    assert push(feed) == 0
    assert feedback(feed) == [("201", "")] * 3
    assert packshots(sb, "TS-1") == ["front", "carelabel"]
    assert packshots(sb, "TS-2") == ["front"]
    assert packshots(sb, "TS-3") == ["carelabel", "back"]
    assert (media_of(sb, "front"), media_of(sb, "back"), media_of(sb, "carelabel")) == (
        JPEG,
        JPEG_BACK,
        PNG,
    )
    # counted at the sandbox: one upload and one asset per file, one look before making it
    assert asset_requests(sb) == {UPLOAD: 3, PATCH_ASSETS: 3, GET_ASSET: 3}
    assert server.bodies == {"/tees/front.jpg": 1, "/tees/back.jpg": 1}


def test_a_missing_file_is_named_on_its_row_and_the_product_saved_with_the_others(
    sb: Sandbox, server: ImageServer, tmp_path: Path
) -> None:
    front, missing = server.url("/tees/front.jpg"), server.url("/tees/missing.png")
    feed = products_feed(tmp_path, {"TS-1": f"{front}<###>{missing}", "TS-2": missing})
    assert push(feed) == 1
    assert feedback(feed) == [
        ("422", f"Saved (201), except: packshots: {missing}: 404 Not Found"),
        ("422", f"Saved (201), except: packshots: {missing}: 404 Not Found"),
    ]
    assert packshots(sb, "TS-1") == ["front"]
    assert packshots(sb, "TS-2") is None  # nothing left to link: the value is not sent
    assert server.hits["/tees/missing.png"] == 1  # tried once per run


def test_two_different_files_of_one_name_become_two_assets(
    sb: Sandbox, server: ImageServer, tmp_path: Path
) -> None:
    first, second = server.url("/tees/front.jpg"), server.url("/other/front.jpg")
    feed = products_feed(tmp_path, {"TS-1": first, "TS-2": second, "TS-3": first})
    assert push(feed) == 0
    other = suffixed("front", second)
    assert [packshots(sb, s) for s in ("TS-1", "TS-2", "TS-3")] == [["front"], [other], ["front"]]
    assert (media_of(sb, "front"), media_of(sb, other)) == (JPEG, JPEG_BACK)


def test_a_code_named_in_the_cell(sb: Sandbox, server: ImageServer, tmp_path: Path) -> None:
    feed = products_feed(tmp_path, {"TS-1": f"tee_front={server.url('/tees/front.jpg')}"})
    assert push(feed) == 0
    assert packshots(sb, "TS-1") == ["tee_front"]
    assert media_of(sb, "tee_front") == JPEG


def test_a_media_link_family_links_the_url_and_downloads_nothing(
    sb: Sandbox, server: ImageServer, tmp_path: Path
) -> None:
    front = server.url("/tees/front.jpg")
    feed = products_feed(tmp_path, {"TS-1": front, "TS-2": front}, column="links")
    assert push(feed) == 0
    assert packshots(sb, "TS-1", "links") == ["front"] == packshots(sb, "TS-2", "links")
    asset = sb.state.asset("links", "front")
    assert asset is not None and asset["values"]["url"][0]["data"] == front
    assert server.hits == {}
    assert asset_requests(sb) == {PATCH_ASSETS: 1, GET_ASSET: 1}


def test_an_unchanged_second_push_sends_no_asset_request(
    sb: Sandbox, server: ImageServer, tmp_path: Path
) -> None:
    front = server.url("/tees/front.jpg")
    feed = products_feed(tmp_path, {"TS-1": f"{front}<###>img/care label.png", "TS-2": front})
    assert push(feed) == 0
    first = asset_requests(sb)
    assert sb.stats.patch_lines == 2
    assert push(feed) == 0
    assert asset_requests(sb) == first  # not one asset request the second time
    assert sb.stats.patch_lines == 4  # the products went again
    assert feedback(feed) == [("204", "")] * 2
    assert server.bodies == {"/tees/front.jpg": 1}  # asked again, answered 304
    # --only-changed: the first run keeps a state, the second sends not even the products
    assert push(feed, "--only-changed") == 0
    assert sb.stats.patch_lines == 6
    assert push(feed, "--only-changed") == 0
    assert sb.stats.patch_lines == 6
    assert [status for status, _ in feedback(feed)] == ["304", "304"]
    assert asset_requests(sb) == first


def test_a_dry_run_shows_the_codes_and_fetches_nothing(server: ImageServer, tmp_path: Path) -> None:
    front = server.url("/tees/front.jpg")
    feed = products_feed(tmp_path, {"TS-1": f"{front}<###>img/care label.png<###>front_tee"})
    payload = tmp_path / "payload.ndjson"
    result = run_cli(
        ["check", str(feed), "--catalog", str(DEMO_CATALOG), "--payload-out", str(payload)]
    )
    assert result.code == 0, result.err
    (line,) = payload.read_bytes().splitlines()
    assert json.loads(line)["values"]["packshots"][0]["data"] == [
        "front",
        "carelabel",
        "front_tee",
    ]
    assert server.hits == {}


# -- an assets feed ----------------------------------------------------------------------


def test_an_assets_feed(sb: Sandbox, server: ImageServer, tmp_path: Path) -> None:
    (tmp_path / "img").mkdir()
    (tmp_path / "img" / "label.png").write_bytes(PNG)
    feed = write(
        tmp_path / "assets.csv",
        ["code", "media", "alt_text~en_US", "alt_text~fr_FR"],
        [
            ["tee_front", server.url("/tees/front.jpg"), "Front of the tee", "Devant"],
            ["tee_label", "img/label.png", "Care label", ""],
            ["tee_gone", server.url("/gone.jpg"), "Gone", ""],
            ["tee-bad", "", "A bad code", ""],
            ["tee_text", "", "Only a text", ""],
        ],
    )
    flags = ["--entity", "assets", "--asset-family", "packshots", "--only-changed"]
    assert push(feed, *flags) == 1
    rows = feedback(feed)
    assert rows[0] == ("201", "") and rows[1] == ("201", "") and rows[4] == ("201", "")
    assert rows[2] == (
        "422",
        f"Saved (201), except: media: {server.url('/gone.jpg')}: 404 Not Found",
    )
    assert rows[3][0] == "422" and rows[3][1].startswith("Not sent: code: ")
    front = sb.state.asset("packshots", "tee_front")
    assert front is not None
    assert front["values"]["alt_text"] == [
        {"locale": "en_US", "channel": None, "data": "Front of the tee"},
        {"locale": "fr_FR", "channel": None, "data": "Devant"},
    ]
    assert media_of(sb, "tee_front") == JPEG and media_of(sb, "tee_label") == PNG
    gone = sb.state.asset("packshots", "tee_gone")
    assert gone is not None and "media" not in gone["values"]  # saved without its file
    assert asset_requests(sb)[UPLOAD] == 2  # the file that failed was not uploaded
    # again: the rows the PIM accepted are unchanged, nothing of them is sent
    before = asset_requests(sb)
    assert push(feed, *flags) == 1
    again = feedback(feed)
    assert [status for status, _ in again] == ["304", "304", "422", "422", "304"]
    assert asset_requests(sb)[UPLOAD] == before[UPLOAD]
    assert asset_requests(sb)[PATCH_ASSETS] == before[PATCH_ASSETS] + 1  # the failed row


def test_an_assets_feed_checked_offline(server: ImageServer, tmp_path: Path) -> None:
    feed = write(
        tmp_path / "assets.csv",
        ["code", "media", "alt_text~en_US"],
        [["tee_front", server.url("/tees/front.jpg"), "Front"], ["tee-bad", "", ""]],
    )
    payload = tmp_path / "payload.ndjson"
    result = run_cli(
        ["check", str(feed), "--catalog", str(DEMO_CATALOG), "--entity", "assets",
         "--asset-family", "packshots", "--payload-out", str(payload)]
    )  # fmt: skip
    assert result.code == 1
    (line,) = payload.read_bytes().splitlines()
    assert json.loads(line) == {
        "code": "tee_front",
        "values": {
            "media": [{"locale": None, "channel": None, "data": server.url("/tees/front.jpg")}],
            "alt_text": [{"locale": "en_US", "channel": None, "data": "Front"}],
        },
    }
    assert feedback(feed) == [
        ("", "Valid (dry run)"),
        (
            "422",
            "Not sent: code: an asset code holds only letters, digits and underscores (at most "
            '255), got "tee-bad"',
        ),
    ]
    assert server.hits == {}


def test_an_assets_feed_needs_its_family(tmp_path: Path) -> None:
    feed = write(tmp_path / "assets.csv", ["code", "media"], [["a", ""]])
    result = run_cli(["check", str(feed), "--catalog", str(DEMO_CATALOG), "--entity", "assets"])
    assert result.code == 2
    assert "an assets feed needs its asset family: pass --asset-family FAMILY" in result.err


# -- a kill between a row's assets and its product, then --resume ----------------------------


def test_resume_after_a_kill_between_the_assets_and_the_product(
    server: ImageServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    arrived, release = threading.Event(), threading.Event()

    def hold_products(environ: dict[str, Any], start: Callable[..., Any]) -> None:
        if environ["REQUEST_METHOD"] == "PATCH" and environ["PATH_INFO"].endswith("/products"):
            arrived.set()
            release.wait(GUARD)  # the PIM applies it later, answering no one
        return None

    sandbox = Sandbox(catalog=assets_catalog())
    HostilePim(sandbox, hold_products)
    with sandbox.start() as sb:
        point_at(sb, monkeypatch)
        front = server.url("/tees/front.jpg")
        feed = products_feed(tmp_path, {"TS-1": f"{front}<###>img/care label.png"})
        proc = subprocess.Popen(
            [sys.executable, "-m", "feed_export", "push", str(feed), *OPEN],
            cwd=tmp_path,
            env={**os.environ, **env(sb), "PYTHONPATH": str(ROOT)},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        try:
            assert arrived.wait(GUARD), proc.stderr.read() if proc.stderr else ""
            proc.kill()  # the assets are made, the product's PATCH held in the PIM
            proc.wait(GUARD)
        finally:
            proc.kill()
            release.set()
        assert proc.returncode == -signal.SIGKILL
        made = asset_requests(sb)
        assert made[UPLOAD] == 2 and made[PATCH_ASSETS] == 2
        deadline = time.monotonic() + GUARD
        while sb.stats.in_flight and time.monotonic() < deadline:
            time.sleep(0.002)
        result = run_cli(["push", str(feed), *OPEN, "--resume"])
        assert result.code == 0, result.err
        assert feedback(feed) == [("204", "")]  # the held PATCH was applied: an update
        assert packshots(sb, "TS-1") == ["front", "carelabel"]
        after = asset_requests(sb)
        # the killed run's cache was never written: the PIM's assets are found and
        # compared, and nothing is uploaded or made again
        assert after[UPLOAD] == 2 and after[PATCH_ASSETS] == 2
        assert after[GET_ASSET] == made[GET_ASSET] + 2 and after[DOWNLOAD] == 2
