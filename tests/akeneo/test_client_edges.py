"""AkeneoClient at its edges: the request deadline running out mid-call, bodies too large or
cut mid-read, list bounds (page count, where next links lead), redaction of what the PIM
quotes back, the key a split batch is checked by, and the catalog reads' choices (which
sections, which asset families, which options). HTTP is mocked with ``responses``; the
deadline is made to run out from inside the mocked call, so no test waits."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
import requests
import responses
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


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def fake() -> FakeTime:
    return FakeTime()


@pytest.fixture
def rsps(monkeypatch: pytest.MonkeyPatch) -> Iterator[responses.RequestsMock]:
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


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
        RetriesExhausted, match=rf"^GET /api/rest/v1/channels: {re.escape(LATE)} after 1 attempt over 0 s$",
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
    rsps.get(f"{API}/asset-families/gone/attributes", status=404, json={"code": 404, "message": "No."})
    with pytest.raises(
        TransportError, match=r"^GET /api/rest/v1/asset-families/gone/attributes: 404 Not Found \(No\.\)$"
    ):
        make_client(fake).asset_attributes("gone")
