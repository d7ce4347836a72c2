"""AkeneoClient at its edges: the request deadline running out mid-call, bodies too large or
cut mid-read, list bounds (page count, where next links lead), redaction of what the PIM
quotes back, the key a split batch is checked by, and the catalog reads' choices (which
sections, which asset families, which options). HTTP is mocked with ``responses``; the
deadline is made to run out from inside the mocked call, so no test waits."""

from __future__ import annotations

import io
import re
from typing import Any

import orjson
import pytest
import requests
import responses
from conftest import FakeTime
from pydantic import SecretStr

from feed_export.akeneo import client as client_module
from feed_export.akeneo import transport
from feed_export.akeneo.client import AkeneoClient
from feed_export.akeneo.responses import LineResult
from feed_export.config import RetrySettings, Settings
from feed_export.errors import RetriesExhausted, TransportError

BASE = "https://pim.test"
API = f"{BASE}/api/rest/v1"
TOKEN_URL = f"{BASE}/api/oauth/v1/token"
PRODUCTS = f"{API}/products"
CHANNELS = f"{API}/channels"
ASSETS = f"{API}/asset-families/packshots/assets"
ASSET_MEDIA = f"{API}/asset-media-files"
#: how a call past its 42 s deadline is described
LATE = "no complete answer within 42 s (the request deadline)"


def make_client(fake: FakeTime, **retry: Any) -> AkeneoClient:
    options = {
        "max_attempts": 1,
        "backoff_factor": 1.0,
        "max_retry_delay": 10.0,
        "connect_timeout": 2.5,
        "request_timeout": 33.0,
        "request_deadline": 42.0,
    } | retry
    settings = Settings(
        base_url=BASE,
        client_id="cid",
        client_secret=SecretStr("secret"),
        username="api_user",
        password=SecretStr("password"),
        retry=RetrySettings(**options),
    )
    return AkeneoClient(settings, clock=fake.clock, sleep=fake.sleep, random=lambda: 0.5)


def token_ok(rsps: responses.RequestsMock) -> None:
    rsps.post(
        TOKEN_URL, json={"access_token": "tok1", "expires_in": 3600, "refresh_token": "ref-tok1"}
    )


def lines_of(n: int) -> list[bytes]:
    return [orjson.dumps({"identifier": f"sku{i}"}) for i in range(1, n + 1)]


def page(items: list[dict[str, Any]], next_href: str | None = None) -> dict[str, Any]:
    links: dict[str, Any] = {"self": {"href": "x"}}
    if next_href:
        links["next"] = {"href": next_href}
    return {"_links": links, "_embedded": {"items": items}}


def expire_deadline() -> None:
    """What a deadline's watchdog does when the time is up (the call is then late)."""
    deadline = transport.current_deadline()
    assert deadline is not None, "the call runs without a request deadline"
    deadline.expired = True


def late_answer(
    status: int, body: bytes | str | Exception
) -> Any:  # a responses callback: runs inside the call
    def callback(request: requests.PreparedRequest) -> tuple[int, dict[str, str], bytes | str]:
        expire_deadline()
        if isinstance(body, Exception):
            raise body
        return status, {}, body

    return callback


# --- the request deadline ---------------------------------------------------------------


def test_a_patch_answer_cut_off_by_the_deadline_says_so(
    rsps: responses.RequestsMock, fake: FakeTime
) -> None:
    """The lines that arrived in time keep their answer; the others say why they have none."""
    token_ok(rsps)
    rsps.add_callback(
        responses.PATCH, PRODUCTS, callback=late_answer(200, b'{"line":1,"status_code":201}\n')
    )
    results = make_client(fake).patch_collection("products", lines_of(2))
    assert results == [
        LineResult(201, ""),
        LineResult(
            0,
            f"no answer for this line: the PIM answered 1 of 2 lines ({LATE}) "
            "after 1 attempt over 0 s",
        ),
    ]


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (0, requests.ConnectionError("connection reset")),
        (422, b'{"code":422,"message":"Invalid."}'),
    ],
    ids=["connection-lost", "a-refusal-arriving-late"],
)
def test_a_patch_past_its_deadline_is_retried_as_late(
    rsps: responses.RequestsMock, fake: FakeTime, status: int, body: bytes | Exception
) -> None:
    """Whatever the late call ended with, the deadline is the reason (and it is retried:
    a refusal read from a connection that was being shut may not be the PIM's word)."""
    token_ok(rsps)
    rsps.add_callback(responses.PATCH, PRODUCTS, callback=late_answer(status, body))
    rsps.add_callback(
        responses.PATCH,
        PRODUCTS,
        callback=lambda _: (200, {}, b'{"line":1,"status_code":201}\n{"line":2,"status_code":204}'),
    )
    client = make_client(fake, max_attempts=2)
    assert client.patch_collection("products", lines_of(2)) == [
        LineResult(201, ""),
        LineResult(204, ""),
    ]
    assert client.stats.retries == 1
    late_only = make_client(fake)
    rsps.add_callback(responses.PATCH, PRODUCTS, callback=late_answer(status, body))
    assert late_only.patch_collection("products", lines_of(2))[1:] == [
        LineResult(0, f"{LATE} after 1 attempt over 0 s")
    ]


def test_a_page_past_its_deadline_is_late(rsps: responses.RequestsMock, fake: FakeTime) -> None:
    token_ok(rsps)
    rsps.add_callback(
        responses.GET, CHANNELS, callback=late_answer(200, orjson.dumps(page([{"code": "a"}])))
    )
    with pytest.raises(
        RetriesExhausted,
        match=rf"^GET /api/rest/v1/channels: {re.escape(LATE)} after 1 attempt over 0 s$",
    ):
        list(make_client(fake).list_items("channels"))


def test_the_token_request_has_the_request_deadline(
    rsps: responses.RequestsMock, fake: FakeTime
) -> None:
    rsps.add_callback(
        responses.POST,
        TOKEN_URL,
        callback=late_answer(200, b'{"access_token":"t","expires_in":3600,"refresh_token":"r"}'),
    )
    with pytest.raises(
        RetriesExhausted,
        match=r"^POST /api/oauth/v1/token: token request: no complete answer within 42 s after ",
    ):
        make_client(fake).authenticate()


# --- bodies too large or cut mid-read ---------------------------------------------------


def _read_fails(exc: requests.RequestException) -> Any:
    def read_limited(response: requests.Response, limit: int) -> bytes | None:
        raise exc

    return read_limited


def test_a_page_whose_read_times_out_is_retried_with_words(
    rsps: responses.RequestsMock, fake: FakeTime, monkeypatch: pytest.MonkeyPatch
) -> None:
    token_ok(rsps)
    rsps.get(CHANNELS, json=page([]))
    monkeypatch.setattr(client_module, "read_limited", _read_fails(requests.ReadTimeout("slow")))
    with pytest.raises(RetriesExhausted, match=r"^GET /api/rest/v1/channels: ") as info:
        list(make_client(fake).list_items("channels"))
    assert info.value.summary == "no answer within 33 s (read timeout) after 1 attempt over 0 s"
    assert info.value.status == 0


def test_an_asset_file_whose_read_times_out_is_retried_with_words(
    rsps: responses.RequestsMock, fake: FakeTime, monkeypatch: pytest.MonkeyPatch
) -> None:
    token_ok(rsps)
    rsps.get(f"{ASSET_MEDIA}/a.png", body=b"PNG")
    monkeypatch.setattr(client_module, "read_limited", _read_fails(requests.ReadTimeout("slow")))
    with pytest.raises(RetriesExhausted, match=r"^GET /api/rest/v1/asset-media-files: ") as info:
        make_client(fake).download_asset_media_file("a.png", 10)
    assert info.value.summary == "no answer within 33 s (read timeout) after 1 attempt over 0 s"
    assert info.value.status == 0


@pytest.fixture
def too_large(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Every success body is over its limit; the limits asked, in order."""
    asked: list[int] = []

    def read_limited(response: requests.Response, limit: int) -> bytes | None:
        asked.append(limit)
        return None

    monkeypatch.setattr(client_module, "read_limited", read_limited)
    return asked


def test_a_page_over_32_mb_is_refused(
    rsps: responses.RequestsMock, fake: FakeTime, too_large: list[int]
) -> None:
    token_ok(rsps)
    rsps.get(CHANNELS, json=page([]))
    with pytest.raises(
        TransportError, match=r"^GET /api/rest/v1/channels: the PIM's answer is larger than 32 MB$"
    ):
        list(make_client(fake).list_items("channels"))
    assert too_large == [32 * 1024 * 1024]


def test_an_asset_patch_answer_over_32_mb_fails_each_line(
    rsps: responses.RequestsMock, fake: FakeTime, too_large: list[int]
) -> None:
    token_ok(rsps)
    rsps.patch(ASSETS, json=[])
    lines = [orjson.dumps({"code": "a"}), orjson.dumps({"code": "b"})]
    results = make_client(fake).patch_assets("packshots", lines)
    refused = LineResult(
        0,
        "PATCH /api/rest/v1/asset-families/packshots/assets (2 assets): the PIM's answer is "
        "larger than 32 MB",
    )
    assert results == [refused, refused]


@pytest.mark.parametrize(
    ("body", "shown"),
    [
        (b"\xff\xfe not JSON", "\ufffd\ufffd not JSON"),
        (b"<" + b" " * 999 + b"past the first 1000 bytes", "<"),
    ],
    ids=["invalid-utf8", "only-the-first-1000-bytes"],
)
def test_a_page_that_is_not_json_is_quoted_from_its_first_bytes(
    rsps: responses.RequestsMock, fake: FakeTime, body: bytes, shown: str
) -> None:
    token_ok(rsps)
    rsps.get(CHANNELS, body=body)
    message = f"GET /api/rest/v1/channels: the PIM did not answer with JSON ({shown})"
    with pytest.raises(TransportError, match=f"^{re.escape(message)}$"):
        list(make_client(fake).list_items("channels"))


def test_a_missing_resource_is_an_error_unless_allowed(
    rsps: responses.RequestsMock, fake: FakeTime
) -> None:
    token_ok(rsps)
    rsps.get(
        f"{API}/asset-families/gone/attributes", status=404, json={"code": 404, "message": "No."}
    )
    with pytest.raises(
        TransportError,
        match=r"^GET /api/rest/v1/asset-families/gone/attributes: 404 Not Found \(No\.\)$",
    ):
        make_client(fake).asset_attributes("gone")


# --- lists: how far they go, where they may lead ------------------------------------------


def _pages(rsps: responses.RequestsMock, count: int) -> None:
    for number in range(1, count + 1):
        following = f"{CHANNELS}?page={number + 1}" if number < count else None
        rsps.get(
            CHANNELS,
            json=page([{"code": f"c{number}"}], following),
            match=[
                responses.matchers.query_param_matcher(
                    {"limit": "100"} if number == 1 else {"page": str(number)}
                )
            ],
        )


def test_a_list_of_exactly_max_pages_is_read(
    rsps: responses.RequestsMock, fake: FakeTime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(client_module, "MAX_PAGES", 3)
    token_ok(rsps)
    _pages(rsps, 3)
    codes = [item["code"] for item in make_client(fake).list_items("channels")]
    assert codes == ["c1", "c2", "c3"]


def test_a_list_past_max_pages_is_stopped(
    rsps: responses.RequestsMock, fake: FakeTime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(client_module, "MAX_PAGES", 3)
    token_ok(rsps)
    _pages(rsps, 5)
    read: list[str] = []
    with pytest.raises(
        TransportError,
        match=r"^GET /api/rest/v1/channels: more than 3 pages; the PIM's next-page links do "
        r"not end$",
    ):
        read.extend(item["code"] for item in make_client(fake).list_items("channels"))
    assert read == ["c1", "c2", "c3"]


def test_a_next_link_leading_elsewhere_is_quoted_capped(
    rsps: responses.RequestsMock, fake: FakeTime
) -> None:
    token_ok(rsps)
    elsewhere = "/api/rest/v1/" + "x" * 200
    rsps.get(CHANNELS, json=page([{"code": "a"}], f"https://other.test{elsewhere}?page=2"))
    shown = elsewhere[:119] + "…"
    with pytest.raises(
        TransportError,
        match=rf"^GET /api/rest/v1/channels: the PIM's next-page link leads elsewhere "
        rf"\({re.escape(shown)}\)$",
    ):
        list(make_client(fake).list_items("channels"))


# --- what the PIM quotes back is redacted ---------------------------------------------------


def test_patch_answers_and_refusals_are_redacted(
    rsps: responses.RequestsMock, fake: FakeTime
) -> None:
    """An answer line or an error body may quote the token back: it never reaches a row."""
    token_ok(rsps)
    rsps.patch(
        PRODUCTS,
        body=b'{"line":1,"identifier":"sku1","status_code":422,"message":"token tok1 refused"}\n'
        b'{"line":2,"identifier":"sku2","status_code":201}',
    )
    rsps.get(CHANNELS, status=400, json={"code": 400, "message": "bad token tok1"})
    client = make_client(fake)
    assert client.patch_collection("products", lines_of(2)) == [
        LineResult(422, "token *** refused"),
        LineResult(201, ""),
    ]
    with pytest.raises(
        TransportError, match=r"^GET /api/rest/v1/channels: 400 Bad Request \(bad token \*\*\*\)$"
    ):
        list(client.list_items("channels"))


# --- the collection PATCH -----------------------------------------------------------------


def test_the_halves_of_a_split_batch_are_checked_by_their_key(
    rsps: responses.RequestsMock, fake: FakeTime
) -> None:
    """After a 413, each half's answers must still name the lines that half sent."""
    token_ok(rsps)
    rsps.patch(PRODUCTS, status=413, json={"code": 413, "message": "Too large."})
    rsps.patch(PRODUCTS, body=b'{"line":1,"identifier":"sku1","status_code":201}')
    rsps.patch(PRODUCTS, body=b'{"line":1,"identifier":"other","status_code":201}')
    results = make_client(fake).patch_collection("products", lines_of(2))
    assert results == [
        LineResult(201, ""),
        LineResult(
            0,
            'Unknown: the PIM\'s answer named another product ("other" instead of "sku2"); '
            "the PIM may or may not have saved this row",
        ),
    ]


def test_a_patch_answer_is_read_for_the_lines_sent_only(
    rsps: responses.RequestsMock, fake: FakeTime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reader is told how many lines went, so it stops once each has its answer."""
    expected: list[int | None] = []
    real = client_module.read_answers

    def read_answers(response: requests.Response, count: int | None = None) -> Any:
        expected.append(count)
        return real(response, count)

    monkeypatch.setattr(client_module, "read_answers", read_answers)
    token_ok(rsps)
    rsps.patch(PRODUCTS, body=b'{"line":1,"status_code":201}\n{"line":2,"status_code":201}')
    assert make_client(fake).patch_collection("products", lines_of(2)) == [LineResult(201, "")] * 2
    assert expected == [2]


def test_a_delete_is_not_streamed(rsps: responses.RequestsMock, fake: FakeTime) -> None:
    """Only the calls that read a body themselves keep the connection open for it."""
    token_ok(rsps)
    rsps.delete(f"{PRODUCTS}/sku1", status=204)
    assert make_client(fake).delete_item("products", "sku1") == LineResult(204, "")
    (delete,) = [c for c in rsps.calls if c.request.method == "DELETE"]
    assert delete.request.req_kwargs["stream"] is False


# --- the catalog reads' choices -----------------------------------------------------------


def _catalog(rsps: responses.RequestsMock) -> None:
    token_ok(rsps)
    for name in ("channels", "locales", "currencies", "categories", "association-types"):
        rsps.get(f"{API}/{name}", json=page([]))
    rsps.get(f"{API}/measurement-families", json=[])
    rsps.get(f"{API}/attributes", json=page([{"code": "name", "type": "pim_catalog_text"}]))
    rsps.get(f"{API}/families", json=page([{"code": "shirts"}]))
    rsps.get(f"{API}/families/shirts/variants", json=page([{"code": "by_size"}]))
    rsps.get(f"{API}/product-models", json=page([]))
    rsps.get(f"{API}/asset-families", status=404, json={"code": 404, "message": "No."})


def test_catalog_sections_searches_the_attributes_asked(
    rsps: responses.RequestsMock, fake: FakeTime
) -> None:
    _catalog(rsps)
    sections = make_client(fake).catalog_sections(["name"])
    assert sections["attributes"] == [{"code": "name", "type": "pim_catalog_text"}]
    (call,) = [c for c in rsps.calls if (c.request.url or "").startswith(f"{API}/attributes")]
    assert "search=" in (call.request.url or "")


@pytest.mark.parametrize(
    ("without", "families", "variants"),
    [
        (["family_variants"], [{"code": "shirts"}], None),
        (["families"], None, [{"code": "by_size", "family": "shirts"}]),
        ([], [{"code": "shirts"}], [{"code": "by_size", "family": "shirts"}]),
    ],
    ids=["families-without-variants", "variants-without-families", "both"],
)
def test_catalog_sections_keep_families_and_variants_apart(
    rsps: responses.RequestsMock,
    fake: FakeTime,
    without: list[str],
    families: list[dict[str, Any]] | None,
    variants: list[dict[str, Any]] | None,
) -> None:
    _catalog(rsps)
    sections = make_client(fake).catalog_sections(None, without=without)
    assert sections.get("families") == families
    assert sections.get("family_variants") == variants


def test_fetch_options_reads_each_attributes_options(
    rsps: responses.RequestsMock, fake: FakeTime
) -> None:
    token_ok(rsps)
    rsps.get(f"{API}/attributes/color/options", json=page([{"code": "red"}, {"code": "blue"}]))
    rsps.get(f"{API}/attributes/size/options", json=page([{"code": "m"}]))
    assert make_client(fake).fetch_options(["color", "size"]) == {
        "color": ["red", "blue"],
        "size": ["m"],
    }


def test_codes_in_paths_are_escaped_whole(rsps: responses.RequestsMock, fake: FakeTime) -> None:
    """A ``/`` in a code stays inside its path segment (``safe=''``)."""
    token_ok(rsps)
    rsps.get(f"{API}/attributes/a%2Fb/options", json=page([{"code": "x"}]))
    rsps.get(f"{API}/families/f%2Fg/variants", json=page([{"code": "v"}]))
    rsps.get(f"{API}/product-models", json=page([]))
    rsps.get(f"{API}/product-models/m%2Fn", json={"code": "m/n", "parent": None})
    client = make_client(fake)
    assert list(client.option_codes("a/b")) == ["x"]
    assert client.family_variants("f/g") == [{"code": "v", "family": "f/g"}]
    assert list(client.product_models(["m/n"])) == [
        {"code": "m/n", "family_variant": None, "parent": None}
    ]


def test_product_models_looks_up_at_most_100_codes_one_by_one(
    rsps: responses.RequestsMock, fake: FakeTime
) -> None:
    token_ok(rsps)
    rsps.get(f"{API}/product-models", json=page([]))
    for number in range(101):
        rsps.get(
            f"{API}/product-models/m{number}", status=404, json={"code": 404, "message": "No."}
        )
    assert list(make_client(fake).product_models([f"m{n}" for n in range(101)])) == []
    looked_up = [c for c in rsps.calls if "/product-models/" in (c.request.url or "")]
    assert len(looked_up) == 100


def test_an_asset_that_is_not_an_object_is_absent(
    rsps: responses.RequestsMock, fake: FakeTime
) -> None:
    token_ok(rsps)
    rsps.get(f"{API}/asset-families/packshots/assets/a", json=["not", "an", "asset"])
    assert make_client(fake).asset("packshots", "a") is None


def test_fetch_catalog_names_an_unknown_list(fake: FakeTime) -> None:
    with pytest.raises(
        ValueError,
        match=r"^unknown catalog list 'values'; use \['association_types', 'categories'\]$",
    ):
        make_client(fake).fetch_catalog(lists=["values"])


def test_only_the_asset_families_asked_have_their_attributes_read(
    rsps: responses.RequestsMock, fake: FakeTime
) -> None:
    _catalog(rsps)
    rsps.replace(
        responses.GET,
        f"{API}/asset-families",
        json=page([{"code": "packshots"}, {"code": "notices"}, {"code": None}]),
    )
    rsps.get(f"{API}/asset-families/packshots/attributes", json=[{"code": "media"}])
    rsps.get(f"{API}/asset-families/notices/attributes", json=[{"code": "pdf"}])
    catalog = make_client(fake).fetch_catalog([], asset_families=["PACKSHOTS"])
    assert catalog["asset_attributes"] == {"packshots": [{"code": "media"}]}
    every = make_client(fake).fetch_catalog([], asset_families=True)
    assert every["asset_attributes"] == {
        "packshots": [{"code": "media"}],
        "notices": [{"code": "pdf"}],
    }


# --- what an answer naming another item shows -------------------------------------------


def test_the_codes_an_unknown_answer_shows_are_capped_and_readable(
    rsps: responses.RequestsMock, fake: FakeTime
) -> None:
    token_ok(rsps)
    named = "é" + "x" * 100
    rsps.patch(
        PRODUCTS,
        body=orjson.dumps({"line": 1, "identifier": named, "status_code": 201}),
    )
    (result,) = make_client(fake).patch_collection("products", lines_of(1))
    shown = '"é' + "x" * 78 + '…"'
    assert result == LineResult(
        0,
        f'Unknown: the PIM\'s answer named another product ({shown} instead of "sku1"); '
        "the PIM may or may not have saved this row",
    )


# --- pull's calls: one page at a time, counts, deletes, media downloads ------------------


def test_a_missing_list_or_count_is_an_error(rsps: responses.RequestsMock, fake: FakeTime) -> None:
    """Only a caller that says so may take a 404 as "no such list"."""
    token_ok(rsps)
    rsps.get(CHANNELS, status=404, json={"code": 404, "message": "No."})
    client = make_client(fake)
    refused = r"^GET /api/rest/v1/channels: 404 Not Found \(No\.\)$"
    with pytest.raises(TransportError, match=refused):
        list(client.list_pages("channels"))
    with pytest.raises(TransportError, match=refused):
        client.count_items("channels")


def test_a_delete_asks_for_json_and_counts_its_retries(
    rsps: responses.RequestsMock, fake: FakeTime
) -> None:
    token_ok(rsps)
    rsps.delete(f"{PRODUCTS}/sku1", status=503, body="busy")
    client = make_client(fake, max_attempts=3)
    assert client.delete_item("products", "sku1") == LineResult(
        503,
        "DELETE /api/rest/v1/products: 503 Service Unavailable (busy) after 3 attempts over 3 s",
    )
    assert client.stats.retries == 2
    deletes = [c for c in rsps.calls if c.request.method == "DELETE"]
    assert [c.request.headers["Accept"] for c in deletes] == ["application/json"] * 3


class _Writes:
    """A binary file that notes the size of each write."""

    def __init__(self) -> None:
        self.sizes: list[int] = []

    def seek(self, offset: int) -> int:
        return offset

    def truncate(self) -> int:
        self.sizes.clear()
        return 0

    def write(self, data: bytes) -> int:
        self.sizes.append(len(data))
        return len(data)


MIB = 1024 * 1024
DOWNLOAD = f"{API}/media-files/a/b/c.jpg/download"


def test_a_download_is_streamed_in_64_kib_pieces(
    rsps: responses.RequestsMock, fake: FakeTime
) -> None:
    """A large file never sits whole in memory."""
    token_ok(rsps)
    rsps.get(DOWNLOAD, body=b"x" * (3 * 64 * 1024 + 10))
    out = _Writes()
    client = make_client(fake)
    assert client.download_media("a/b/c.jpg", out, limit=MIB) == 3 * 64 * 1024 + 10  # type: ignore[arg-type]
    assert out.sizes == [64 * 1024] * 3 + [10]
    (call,) = [c for c in rsps.calls if c.request.method == "GET"]
    assert call.request.req_kwargs["stream"] is True


@pytest.mark.parametrize(
    ("size", "limit", "written", "shown"),
    [
        (2 * MIB, 2 * MIB, 2 * MIB, ""),
        (2 * MIB + 1, 2 * MIB, None, "2 MB"),
        (100 * 1024, 80 * 1024, None, "80 KB"),
        (3 * MIB, MIB + MIB // 2, None, "1.5 MB"),
    ],
    ids=["exactly-the-limit", "one-byte-more", "over-it-in-the-second-piece", "a-limit-of-1.5-MB"],
)
def test_a_download_at_and_past_its_limit(
    rsps: responses.RequestsMock,
    fake: FakeTime,
    size: int,
    limit: int,
    written: int | None,
    shown: str,
) -> None:
    token_ok(rsps)
    rsps.get(DOWNLOAD, body=b"x" * size)
    client = make_client(fake)
    if written is not None:
        assert client.download_media("a/b/c.jpg", io.BytesIO(), limit=limit) == written
        return
    with pytest.raises(
        TransportError,
        match=rf"^GET /api/rest/v1/media-files/\.\.\./download: the file 'a/b/c\.jpg' is "
        rf"larger than {re.escape(shown)}$",
    ):
        client.download_media("a/b/c.jpg", io.BytesIO(), limit=limit)


class _Broken(io.RawIOBase):
    """A body whose connection drops after its first bytes."""

    def __init__(self) -> None:
        self.sent = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if not self.sent:
            self.sent = True
            buffer[:5] = b"hello"
            return 5
        raise ConnectionResetError("reset by peer")


def test_a_download_cut_mid_read_is_retried_with_words(
    rsps: responses.RequestsMock, fake: FakeTime
) -> None:
    token_ok(rsps)
    for _ in range(2):
        rsps.get(DOWNLOAD, body=io.BufferedReader(_Broken()))
    rsps.get(
        f"{API}/media-files/a/b/c.jpg/download", status=404, json={"code": 404, "message": "Gone."}
    )
    client = make_client(fake, max_attempts=2)
    with pytest.raises(
        RetriesExhausted,
        match=r"^GET /api/rest/v1/media-files/\.\.\./download: connection lost while reading the "
        r"answer \(ChunkedEncodingError\) after 2 attempts over 1 s$",
    ) as info:
        client.download_media("a/b/c.jpg", io.BytesIO(), limit=MIB)
    assert info.value.status == 0
    assert client.stats.retries == 1
    with pytest.raises(
        TransportError,
        match=r"^GET /api/rest/v1/media-files/\.\.\./download: 404 Not Found \(Gone\.\)$",
    ):
        client.download_media("a/b/c.jpg", io.BytesIO(), limit=MIB)
