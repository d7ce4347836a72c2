"""End to end into the sandbox: a mixed feed with two-level variants, associations and
pictures (served by a local HTTP server, and from the feed's folder), pushed through the
building blocks (decoder -> FeedIndex -> SendPlan with MediaStage) the way pipeline.py is
to wire them, then read back. Every bad row gets its own message; nothing else is lost.
"""

from __future__ import annotations

import csv
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from feed_export.akeneo.client import AkeneoClient
from feed_export.catalog.layout import resolve_headers
from feed_export.catalog.structure import Catalog
from feed_export.config import ExportOptions, RetrySettings, Settings
from feed_export.feed.reader import is_blank, open_feed
from feed_export.push.decode import LineError, ProductLine, RowDecoder
from feed_export.push.feedback import Outcome
from feed_export.push.files import MediaLimits
from feed_export.push.media import MediaStage
from feed_export.push.planner import FeedIndex, SendPlan
from feed_export.sandbox import Sandbox, start_sandbox

RED = b"\xff\xd8\xff\xe0 red tee"
BLUE = b"\x89PNG\r\n\x1a\n blue tee"


class Pictures(BaseHTTPRequestHandler):
    routes: ClassVar[dict[str, tuple[str, bytes]]] = {
        "/red.jpg": ("image/jpeg", RED),
        "/logo.svg": ("image/svg+xml", b"<svg/>"),
        "/big.jpg": ("image/jpeg", b"\xff" * (5 * 1024 * 1024 + 1)),
    }
    hits: ClassVar[dict[str, int]] = {}
    release = threading.Event()

    def do_GET(self) -> None:
        Pictures.hits[self.path] = Pictures.hits.get(self.path, 0) + 1
        if self.path == "/slow.jpg":
            Pictures.release.wait(10)
            return
        found = Pictures.routes.get(self.path)
        if found is None:
            self.send_error(404)
            return
        kind, body = found
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("ETag", f'"{len(body)}"')
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def pictures() -> Iterator[str]:
    Pictures.hits = {}
    Pictures.release = threading.Event()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Pictures)
    threading.Thread(target=httpd.serve_forever, args=(0.02,), daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        Pictures.release.set()
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with start_sandbox() as sb:
        yield sb


HEADER = [
    "entity",
    "code",
    "sku",
    "parent",
    "family",
    "family_variant",
    "name~en_US",
    "color",
    "size",
    "picture",
    "associations~X_SELL~products",
    "associations~PACK~product_models",
    "quantified_associations~PRODUCT_SET~products",
]


def _feed(folder: Path, pictures: str) -> Path:
    (folder / "pictures").mkdir()
    (folder / "pictures" / "blue.png").write_bytes(BLUE)
    rows = [
        # entity, code, sku, parent, family, family_variant, name, color, size, picture, x_sell, pack, set
        ["product_model", "tee", "", "", "", "clothing_color_size", "Tee", "", "", "", "", "", ""],
        [
            "product_model",
            "tee-red",
            "",
            "tee",
            "",
            "",
            "",
            "red",
            "",
            f"{pictures}/red.jpg",
            "",
            "",
            "",
        ],
        [
            "product_model",
            "tee-blue",
            "",
            "tee",
            "",
            "",
            "",
            "blue",
            "",
            "pictures/blue.png",
            "",
            "",
            "",
        ],
        ["product", "", "tee-red-m", "tee-red", "", "", "", "", "m", "", "tee-blue-m", "tee", ""],
        ["product", "", "tee-red-l", "tee-red", "", "", "", "", "l", "", "", "", "tee-red-m|2"],
        ["product", "", "tee-blue-m", "tee-blue", "", "", "", "", "m", "", "tee-red-m", "", ""],
        [
            "product",
            "",
            "mug",
            "",
            "accessories",
            "",
            "Mug",
            "",
            "",
            f"{pictures}/red.jpg",
            "",
            "",
            "",
        ],
        [""] * len(HEADER),
        # bad rows, one problem each
        ["product", "", "orphan-m", "ghost-model", "", "", "", "", "m", "", "", "", ""],
        ["product_model", "loop-a", "", "loop-b", "", "", "", "", "", "", "", "", ""],
        ["product_model", "loop-b", "", "loop-a", "", "", "", "", "", "", "", "", ""],
        ["product", "", "loop-child", "loop-a", "", "", "", "", "m", "", "", "", ""],
        ["product", "", "bad-assoc", "", "accessories", "", "", "", "", "", "nobody", "", ""],
        ["product", "", "bad-qty", "", "accessories", "", "", "", "", "", "", "", "mug|0"],
        [
            "product",
            "",
            "slow-pic",
            "",
            "accessories",
            "",
            "",
            "",
            "",
            f"{pictures}/slow.jpg",
            "",
            "",
            "",
        ],
        [
            "product",
            "",
            "gone-pic",
            "",
            "accessories",
            "",
            "",
            "",
            "",
            f"{pictures}/gone.jpg",
            "",
            "",
            "",
        ],
        [
            "product",
            "",
            "big-pic",
            "",
            "accessories",
            "",
            "",
            "",
            "",
            f"{pictures}/big.jpg",
            "",
            "",
            "",
        ],
        [
            "product",
            "",
            "svg-pic",
            "",
            "accessories",
            "",
            "",
            "",
            "",
            f"{pictures}/logo.svg",
            "",
            "",
            "",
        ],
        ["product_model", "tee-red-2", "", "tee", "", "", "", "red", "", "", "", "", ""],
    ]
    path = folder / "catalog.csv"
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return path


def push(feed_path: Path, sb: Sandbox, **options: Any) -> dict[int, Outcome]:
    """What pipeline._push is to do once wired (see the report): index, plan, media."""
    opts = ExportOptions(**options)
    settings = Settings(
        base_url=sb.url,
        client_id=sb.client_id,
        client_secret=sb.client_secret,
        username=sb.username,
        password=sb.password,
        retry=RetrySettings(max_attempts=2, backoff_factor=0),
    )
    outcomes: dict[int, Outcome] = {}
    with AkeneoClient(settings) as client, open_feed(feed_path) as feed:
        catalog = Catalog.from_dict(client.fetch_catalog())
        layout = resolve_headers(str(feed_path), feed.header, catalog, opts)
        decoder = RowDecoder(layout, opts)
        with open_feed(feed_path) as again:
            index = FeedIndex.scan(again.rows(), decoder)
        media = MediaStage.for_folder(
            client,
            feed_path.parent,
            sb.url,
            limits=MediaLimits(read_timeout=0.3, allow_private=True),
        )
        plan = SendPlan(
            client,
            entity=opts.entity,
            batch_size=opts.batch_size,
            concurrency=opts.concurrency,
            media=media,
            index=index,
            mixed=layout.mixed,
        )

        def lines() -> Iterator[ProductLine]:
            for row in feed.rows():
                if is_blank(row.cells):
                    outcomes[row.number] = Outcome(row.number, None, "Skipped: empty row")
                    continue
                result = decoder.decode(row)
                if isinstance(result, LineError):
                    outcomes[row.number] = Outcome(row.number, 422, result.message)
                    continue
                yield result

        for outcome in plan.run(lines()):
            assert outcome.row not in outcomes
            outcomes[outcome.row] = outcome
    return outcomes


def test_variants_associations_and_pictures_end_to_end(
    sandbox: Sandbox, pictures: str, tmp_path: Path
) -> None:
    feed = _feed(tmp_path, pictures)
    out = push(feed, sandbox, batch_size=3, concurrency=3)
    assert sorted(out) == list(range(2, 21))  # every data row, one outcome
    got = {row: (o.status, o.message) for row, o in out.items()}
    for row in range(2, 9):
        assert got[row] == (201, ""), (row, got[row])
    assert got[9] == (None, "Skipped: empty row")
    assert got[10][0] == 422 and got[10][1].startswith(
        'Property "parent" expects a valid parent code. The parent product model does not exist, '
        '"ghost-model" given.'
    )
    cycle = "a product model cannot be its own ancestor: fix the parent column of these rows"
    assert got[11][0] == got[12][0] == 422
    assert got[11][1].startswith("Not sent: parent cycle: ") and got[11][1].endswith(cycle)
    assert got[12][1].startswith("Not sent: parent cycle: ") and got[12][1].endswith(cycle)
    assert got[13][1].startswith('Not sent: parent "loop-a" was not saved (row 11: 422 Not sent')
    assert got[14] == (
        422,
        'Saved (201), except: associations not saved: Property "associations" expects a valid '
        'product identifier. The product does not exist, "nobody" given. Check the expected format '
        "on the API documentation.",
    )
    assert got[15] == (
        422,
        "Not sent: quantified_associations~PRODUCT_SET~products: quantity must be a whole number "
        'above 0, got "mug|0"',
    )
    assert got[16] == (
        422,
        f"Saved (201), except: picture not saved ({pictures}/slow.jpg): could not fetch it: no "
        "answer within 0.3 s (timeout)",
    )
    assert got[17][1].endswith("could not fetch it: 404 Not Found")
    assert got[18][1].endswith(
        "file too large: 5,242,881 bytes, over the limit of picture (5,242,880 bytes)"
    )
    assert got[19][1].endswith(
        "file type .svg (image/svg+xml) is not allowed here (allowed: gif, jpeg, jpg, png, webp)"
    )
    assert got[20] == (
        422,
        'Validation failed. attribute: Cannot set value "[red]" for the attribute axis "color" on '
        'product model "tee-red-2", as the product model "tee-red" already has this value',
    )

    # read everything back
    state = sandbox.state
    red_m = state.product("tee-red-m")
    assert red_m is not None
    assert (red_m["parent"], red_m["family"]) == ("tee-red", "clothing")
    assert red_m["values"]["name"] == [{"locale": "en_US", "scope": None, "data": "Tee"}]
    assert red_m["values"]["color"][0]["data"] == "red"
    assert red_m["values"]["size"][0]["data"] == "m"
    assert red_m["associations"]["X_SELL"]["products"] == ["tee-blue-m"]
    assert red_m["associations"]["PACK"]["product_models"] == ["tee"]
    red_l = state.product("tee-red-l")
    assert red_l is not None
    assert red_l["quantified_associations"]["PRODUCT_SET"]["products"] == [
        {"identifier": "tee-red-m", "quantity": 2}
    ]
    blue_m = state.product("tee-blue-m")
    assert blue_m is not None and blue_m["associations"]["X_SELL"]["products"] == ["tee-red-m"]
    # pictures: on the sub-models, inherited by their variants; one upload per content
    red_code = (state.product_model("tee-red") or {})["values"]["picture"][0]["data"]
    blue_code = (state.product_model("tee-blue") or {})["values"]["picture"][0]["data"]
    assert red_m["values"]["picture"][0]["data"] == red_code
    assert (state.media_file(red_code) or pytest.fail()).content == RED
    assert (state.media_file(blue_code) or pytest.fail()).content == BLUE
    mug = state.product("mug")
    assert mug is not None and mug["values"]["picture"][0]["data"] == red_code  # reused
    assert Pictures.hits["/red.jpg"] == 1
    assert state.product("orphan-m") is None and state.product_model("loop-a") is None
    bad_assoc = state.product("bad-assoc")  # saved, without its associations
    assert bad_assoc is not None and bad_assoc["associations"] == {}

    # a second run: every row updated (204), no picture downloaded or uploaded again
    uploads = _media_posts(sandbox)
    again = push(feed, sandbox, batch_size=50)
    for row in range(2, 9):
        assert again[row].status == 204, (row, again[row])
    assert _media_posts(sandbox) == uploads
    assert Pictures.hits["/red.jpg"] == 2  # asked again, answered 304 Not Modified


def _media_posts(sb: Sandbox) -> int:
    return sum(n for name, n in sb.stats.requests.items() if "media" in name and "post" in name)


def test_children_before_parents_in_a_product_models_feed(sandbox: Sandbox, tmp_path: Path) -> None:
    path = tmp_path / "models.csv"
    path.write_text(
        "code,parent,family_variant,color\n"
        "tee-red,tee,,red\n"
        "tee-blue,tee,,blue\n"
        "tee,,clothing_color_size,\n",
        encoding="utf-8",
    )
    out = push(path, sandbox, entity="product-models", batch_size=1, concurrency=4)
    assert {row: o.status for row, o in out.items()} == {2: 201, 3: 201, 4: 201}
    assert [m["code"] for m in sandbox.state.product_models()] == ["tee", "tee-blue", "tee-red"]


def test_the_cli_pushes_variants_associations_and_pictures(
    sandbox: Sandbox, pictures: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from conftest import run_cli

    Pictures.release.set()  # the slow picture fails at once (no 30 s timeout in a test)
    feed = _feed(tmp_path, pictures)
    feedback = tmp_path / "fb.csv"
    for name, value in {
        "AKENEO_BASE_URL": sandbox.url,
        "AKENEO_CLIENT_ID": sandbox.client_id,
        "AKENEO_CLIENT_SECRET": sandbox.client_secret,
        "AKENEO_USERNAME": sandbox.username,
        "AKENEO_PASSWORD": sandbox.password,
    }.items():
        monkeypatch.setenv(name, value)
    # downloads retry a dropped connection like any transient failure: no waits in a test
    # (the PIM's settings, not --sandbox, so that --max-retry-delay applies)
    # the pictures' server is on loopback: opened explicitly
    result = run_cli(
        [
            "push",
            str(feed),
            "--feedback",
            str(feedback),
            "--max-retry-delay",
            "0",
            "--allow-media-host",
            "127.0.0.1",
        ]
    )
    assert result.code == 1, result.err  # some rows are wrong on purpose
    with open_feed(feedback) as fb:
        got = {row.number: (row.cells[-2], row.cells[-1]) for row in fb.rows()}
    for row in range(2, 9):
        assert got[row] == ("201", ""), (row, got[row])
    assert got[11][1].startswith("Not sent: parent cycle: ")
    assert got[14][1].startswith("Saved (201), except: associations not saved: ")
    assert got[16][1].startswith("Saved (201), except: picture not saved")
    assert got[17][1].endswith("could not fetch it: 404 Not Found")
    assert got[20][1].startswith('Validation failed. attribute: Cannot set value "[red]"')
