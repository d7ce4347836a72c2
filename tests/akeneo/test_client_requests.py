"""What AkeneoClient hands to requests, and what it makes of edge answers: timeouts and TLS
on every call, the last word when retries run out, 413 and bare 403 splits at batch sizes
1 to 3, error bodies that are not JSON. HTTP is mocked with ``responses``."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

import orjson
import pytest
import requests
import requests.adapters
import responses
import urllib3
from conftest import FakeTime
from pydantic import SecretStr

from feed_export.akeneo.client import AkeneoClient, _chunk_codes
from feed_export.akeneo.responses import LineResult, MediaUpload, status_phrase
from feed_export.config import RetrySettings, Settings
from feed_export.errors import AuthenticationError, RetriableError, RetriesExhausted, TransportError

BASE = "https://pim.test"
API = f"{BASE}/api/rest/v1"
TOKEN_URL = f"{BASE}/api/oauth/v1/token"
PRODUCTS = f"{API}/products"
CHANNELS = f"{API}/channels"
MEDIA = f"{API}/media-files"
HTML = "<!DOCTYPE html><html><body><h1>Error</h1></body></html>"
BARE_403 = (
    "Request refused by the PIM (403 Forbidden, without an Akeneo message; on Akeneo SaaS "
    "this can mean the line is too large)"
)
TOO_MANY = "Too many resources to process, 100 is the maximum allowed."


class RecordingSession(requests.Session):
    """A real session that notes the keyword arguments of every ``request`` call."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[str, str, dict[str, Any]]] = []

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        self.seen.append((str(method), str(url).split("?")[0], dict(kwargs)))
        return super().request(method, url, *args, **kwargs)


def settings(verify_tls: bool = True, **retry: Any) -> Settings:
    options = {"max_attempts": 3, "backoff_factor": 1.0, "max_retry_delay": 10.0} | retry
    return Settings(
        base_url=BASE,
        client_id="cid",
        client_secret=SecretStr("secret"),
        username="api_user",
        password=SecretStr("password"),
        verify_tls=verify_tls,
        retry=RetrySettings(**options),
    )


def make_client(
    fake: FakeTime, session: requests.Session | None = None, **retry: Any
) -> AkeneoClient:
    return AkeneoClient(
        settings(**retry), session=session, clock=fake.clock, sleep=fake.sleep, random=lambda: 0.5
    )


def token_ok(rsps: responses.RequestsMock, access: str = "tok1", expires_in: int = 3600) -> None:
    rsps.post(
        TOKEN_URL,
        json={"access_token": access, "expires_in": expires_in, "refresh_token": "ref-" + access},
    )


def lines_of(n: int) -> list[bytes]:
    return [orjson.dumps({"identifier": f"sku{i}"}) for i in range(1, n + 1)]


def answer(lines: list[bytes], status: int = 201) -> str:
    return "\n".join(
        orjson.dumps({"line": i, **orjson.loads(x), "status_code": status}).decode()
        for i, x in enumerate(lines, 1)
    )


def calls_to(rsps: responses.RequestsMock, url: str) -> list[Any]:
    return [c for c in rsps.calls if (c.request.url or "").split("?")[0] == url]


def page(items: list[dict[str, Any]]) -> dict[str, Any]:
    return {"_links": {}, "_embedded": {"items": items}}


# --- what goes to requests ------------------------------------------------------------------


@pytest.mark.parametrize("verify_tls", [True, False], ids=["verify", "no-verify"])
def test_every_call_gets_the_timeouts_and_the_tls_choice(
    rsps: responses.RequestsMock, fake: FakeTime, verify_tls: bool
) -> None:
    token_ok(rsps, "tok1", expires_in=100)
    token_ok(rsps, "tok2")
    rsps.get(CHANNELS, json=page([{"code": "ecommerce"}]))
    rsps.patch(PRODUCTS, body=answer(lines_of(1)))
    rsps.post(MEDIA, status=201, headers={"Location": f"{MEDIA}/a/b/c/d/abc_x.jpg"})
    rsps.get(f"{MEDIA}/a/b/c/d/abc_x.jpg", json={"code": "a/b/c/d/abc_x.jpg"})
    session = RecordingSession()
    client = AkeneoClient(
        settings(verify_tls, connect_timeout=3.5, request_timeout=42.0),
        session=session,
        clock=fake.clock,
        sleep=fake.sleep,
    )
    client.authenticate()
    assert [item["code"] for item in client.list_items("channels")] == ["ecommerce"]
    fake.now += 95  # the token is about to expire: the next call refreshes it first
    assert client.patch_collection("products", lines_of(1)) == [LineResult(201, "")]
    upload = client.upload_media_file(
        {"identifier": "sku1", "attribute": "picture", "scope": None, "locale": None},
        model=False,
        filename="x.jpg",
        content=b"\xff\xd8",
        content_type="image/jpeg",
    )
    assert upload == MediaUpload(201, "", "a/b/c/d/abc_x.jpg")
    assert client.media_file_exists("a/b/c/d/abc_x.jpg") is True
    assert [(method, url) for method, url, _ in session.seen] == [
        ("POST", TOKEN_URL),
        ("GET", CHANNELS),
        ("PATCH", PRODUCTS),
        ("POST", TOKEN_URL),  # the refresh, asked while the PATCH is prepared
        ("POST", MEDIA),
        ("GET", f"{MEDIA}/a/b/c/d/abc_x.jpg"),
    ]
    for method, url, kwargs in session.seen:
        assert kwargs["timeout"] == (3.5, 42.0), (method, url)
        assert kwargs["verify"] is verify_tls, (method, url)
        assert kwargs["allow_redirects"] is False, (method, url)
    # and what reached the transport after requests merged its own settings
    assert len(rsps.calls) == 6
    for call in rsps.calls:
        assert call.request.req_kwargs["timeout"] == (3.5, 42.0)
        assert call.request.req_kwargs["verify"] is verify_tls
    # every answer is streamed: bodies are read within caps, never whole by requests
    # (the collection PATCH line by line)
    assert [c.request.req_kwargs["stream"] for c in rsps.calls] == [True] * 6


def test_default_timeouts_are_the_settings_defaults(
    rsps: responses.RequestsMock, fake: FakeTime
) -> None:
    token_ok(rsps)
    rsps.patch(PRODUCTS, body=answer(lines_of(1)))
    client = AkeneoClient(
        Settings(
            base_url=BASE,
            client_id="cid",
            client_secret=SecretStr("s"),
            username="u",
            password=SecretStr("p"),
        ),
        clock=fake.clock,
        sleep=fake.sleep,
    )
    client.patch_collection("products", lines_of(1))
    assert [c.request.req_kwargs["timeout"] for c in rsps.calls] == [(10.0, 60.0)] * 2
    assert [c.request.req_kwargs["verify"] for c in rsps.calls] == [True, True]


def test_the_policy_is_the_settings(fake: FakeTime) -> None:
    client = AkeneoClient(
        settings(max_attempts=4, backoff_factor=0.5, max_retry_delay=7.0, connect_timeout=2.0),
        clock=fake.clock,
        sleep=fake.sleep,
    )
    retry = client.retry
    assert (retry.max_attempts, retry.backoff_factor, retry.max_retry_delay) == (4, 0.5, 7.0)
    assert retry.timeout == (2.0, 60.0)
    assert (retry.clock, retry.sleep) == (fake.clock, fake.sleep)


# --- when retries run out -------------------------------------------------------------------

# id, mocked answer (status, body, headers, or an exception) -> final status, message, waits
EXHAUSTED: list[tuple[str, dict[str, Any], int, str, list[float]]] = [
    ("503-empty", {"status": 503}, 503, "503 Service Unavailable", [1.0, 2.0]),
    (
        "500-akeneo",
        {"status": 500, "json": {"code": 500, "message": "Internal error"}},
        500,
        "500 Internal Server Error (Internal error)",
        [1.0, 2.0],
    ),
    (
        "502-html",
        {"status": 502, "body": HTML},
        502,
        "502 Bad Gateway (an HTML error page)",
        [1.0, 2.0],
    ),
    (
        "504-text",
        {"status": 504, "body": "upstream timed out"},
        504,
        "504 Gateway Timeout (upstream timed out)",
        [1.0, 2.0],
    ),
    (
        "429-retry-after-capped",
        {"status": 429, "headers": {"Retry-After": "120"}},
        429,
        "429 Too Many Requests",
        [10.0, 10.0],
    ),
    ("408", {"status": 408}, 408, "408 Request Timeout", [1.0, 2.0]),
    (
        "connection-refused",
        {"body": requests.ConnectionError("connection refused")},
        0,
        "connection failed (ConnectionError: connection refused)",
        [1.0, 2.0],
    ),
    (
        "read-timeout",
        {"body": requests.ReadTimeout("slow")},
        0,
        "no answer within 60 s (read timeout)",
        [1.0, 2.0],
    ),
]


def _over(sleeps: list[float]) -> str:
    return f"after 3 attempts over {sum(sleeps):.0f} s"


@pytest.mark.parametrize(
    ("mock", "status", "message", "sleeps"),
    [case[1:] for case in EXHAUSTED],
    ids=[case[0] for case in EXHAUSTED],
)
def test_patch_when_retries_run_out(
    rsps: responses.RequestsMock,
    fake: FakeTime,
    mock: dict[str, Any],
    status: int,
    message: str,
    sleeps: list[float],
) -> None:
    token_ok(rsps)
    rsps.patch(PRODUCTS, **mock)
    client = make_client(fake)
    final = LineResult(status, f"{message} {_over(sleeps)}")
    assert client.patch_collection("products", lines_of(2)) == [final, final]
    assert len(calls_to(rsps, PRODUCTS)) == 3
    assert fake.sleeps == sleeps
    assert (client.stats.retries, client.stats.lines_resent) == (2, 0)


@pytest.mark.parametrize(
    ("mock", "status", "message", "sleeps"),
    [case[1:] for case in EXHAUSTED],
    ids=[case[0] for case in EXHAUSTED],
)
def test_get_when_retries_run_out(
    rsps: responses.RequestsMock,
    fake: FakeTime,
    mock: dict[str, Any],
    status: int,
    message: str,
    sleeps: list[float],
) -> None:
    token_ok(rsps)
    rsps.get(CHANNELS, **mock)
    client = make_client(fake)
    with pytest.raises(RetriesExhausted, match=r"^GET /api/rest/v1/channels: ") as info:
        list(client.list_items("channels"))
    assert str(info.value) == f"GET /api/rest/v1/channels: {message} {_over(sleeps)}"
    assert (info.value.status, info.value.attempts) == (status, 3)
    assert len(calls_to(rsps, CHANNELS)) == 3
    assert fake.sleeps == sleeps
    assert client.stats.retries == 2


def test_upload_when_retries_run_out(rsps: responses.RequestsMock, fake: FakeTime) -> None:
    token_ok(rsps)
    rsps.post(MEDIA, status=503, body=HTML)
    client = make_client(fake)
    upload = client.upload_media_file(
        {"identifier": "a"}, model=False, filename="a.jpg", content=b"x", content_type="image/jpeg"
    )
    assert upload == MediaUpload(
        503,
        "POST /api/rest/v1/media-files: 503 Service Unavailable (an HTML error page) after 3 "
        "attempts over 3 s",
    )
    assert len(calls_to(rsps, MEDIA)) == 3


def test_login_when_retries_run_out(rsps: responses.RequestsMock, fake: FakeTime) -> None:
    rsps.post(TOKEN_URL, status=502, body=HTML)
    with pytest.raises(
        RetriesExhausted,
        match=r"^POST /api/oauth/v1/token: token request: 502 Bad Gateway \(an HTML error "
        r"page\) after 3 attempts over 3 s$",
    ):
        make_client(fake).authenticate()
    assert len(calls_to(rsps, TOKEN_URL)) == 3


def test_a_cut_off_answer_on_the_last_attempt_says_no_answer(
    rsps: responses.RequestsMock, fake: FakeTime
) -> None:
    token_ok(rsps)
    lines = lines_of(3)
    rsps.patch(PRODUCTS, status=503)
    rsps.patch(PRODUCTS, body=answer(lines[:1]))  # only line 1 answered
    rsps.patch(PRODUCTS, body="")  # nothing at all
    client = make_client(fake)
    results = client.patch_collection("products", lines)
    final = LineResult(
        0, "no answer for this line: the PIM answered 0 of 2 lines after 3 attempts over 3 s"
    )
    assert results == [LineResult(201, ""), final, final]
    bodies = [c.request.body for c in calls_to(rsps, PRODUCTS)]
    assert bodies == [b"\n".join(lines), b"\n".join(lines), b"\n".join(lines[1:])]
    assert client.stats.lines_resent == 2


def test_a_failure_after_a_cut_off_answer_says_the_failure(
    rsps: responses.RequestsMock, fake: FakeTime
) -> None:
    token_ok(rsps)
    lines = lines_of(3)
    rsps.patch(PRODUCTS, body=answer(lines[:2]))
    rsps.patch(PRODUCTS, status=503)
    client = make_client(fake, max_attempts=2)
    results = client.patch_collection("products", lines)
    assert results == [
        LineResult(201, ""),
        LineResult(201, ""),
        LineResult(503, "503 Service Unavailable after 2 attempts over 1 s"),
    ]
    assert client.stats.lines_resent == 1


def test_a_cut_off_answer_is_resent_without_the_answered_lines(
    rsps: responses.RequestsMock, fake: FakeTime
) -> None:
    token_ok(rsps)
    lines = lines_of(4)
    first = answer(lines[:1]) + "\n" + answer(lines[2:3]).replace('"line":1', '"line":3')
    rsps.patch(PRODUCTS, body=first)  # lines 1 and 3 answered, 2 and 4 not
    rsps.patch(PRODUCTS, body=answer([lines[1], lines[3]], 204))
    client = make_client(fake)
    assert client.patch_collection("products", lines) == [
        LineResult(201, ""),
        LineResult(204, ""),
        LineResult(201, ""),
        LineResult(204, ""),
    ]
    assert calls_to(rsps, PRODUCTS)[1].request.body == lines[1] + b"\n" + lines[3]
    assert fake.sleeps == [1.0]
    assert client.stats.lines_resent == 2


# --- 413 and a bare 403: split --------------------------------------------------------------

REFUSALS = {
    "413-akeneo": (413, orjson.dumps({"code": 413, "message": TOO_MANY}).decode()),
    "413-empty": (413, ""),
    "403-empty": (403, ""),
    "403-html": (403, HTML),
    "403-text": (403, "Request blocked by the firewall"),
}
# what a line refused on its own gets
ALONE = {
    "413-akeneo": LineResult(413, TOO_MANY),
    "413-empty": LineResult(413, status_phrase(413)),
    "403-empty": LineResult(403, BARE_403),
    "403-html": LineResult(403, BARE_403),
    "403-text": LineResult(403, BARE_403),
}
# the requests' lines (1-based) for a batch of n when every request of more than one line
# is refused: halves, the first one the smaller
SPLITS = {1: [[1]], 2: [[1, 2], [1], [2]], 3: [[1, 2, 3], [1], [2, 3], [2], [3]]}


def _split_server(
    rsps: responses.RequestsMock, status: int, body: str, most: int
) -> list[list[int]]:
    """The PIM refuses (status, body) any request of more than ``most`` lines."""
    seen: list[list[int]] = []

    def callback(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        raw = request.body if isinstance(request.body, bytes) else b""
        objs = [orjson.loads(x) for x in raw.split(b"\n")]
        seen.append([int(o["identifier"][3:]) for o in objs])
        if len(objs) > most:
            return status, {}, body
        return 200, {}, answer([orjson.dumps(o) for o in objs])

    rsps.add_callback(responses.PATCH, PRODUCTS, callback=callback)
    return seen


@pytest.mark.parametrize("size", [1, 2, 3])
@pytest.mark.parametrize("refusal", list(REFUSALS))
def test_too_large_when_lines_fit_alone(
    rsps: responses.RequestsMock, fake: FakeTime, refusal: str, size: int
) -> None:
    token_ok(rsps)
    status, body = REFUSALS[refusal]
    seen = _split_server(rsps, status, body, most=1)
    client = make_client(fake)
    assert client.patch_collection("products", lines_of(size)) == [LineResult(201, "")] * size
    assert seen == SPLITS[size]
    assert client.stats.batch_splits == {1: 0, 2: 1, 3: 2}[size]
    assert fake.sleeps == []  # a split is not a retry


@pytest.mark.parametrize("size", [1, 2, 3])
@pytest.mark.parametrize("refusal", list(REFUSALS))
def test_too_large_even_alone(
    rsps: responses.RequestsMock, fake: FakeTime, refusal: str, size: int
) -> None:
    token_ok(rsps)
    status, body = REFUSALS[refusal]
    seen = _split_server(rsps, status, body, most=0)
    client = make_client(fake)
    assert client.patch_collection("products", lines_of(size)) == [ALONE[refusal]] * size
    assert seen == SPLITS[size]
    assert fake.sleeps == []


@pytest.mark.parametrize("size", [1, 2, 3])
def test_a_403_with_akeneos_message_is_not_split(
    rsps: responses.RequestsMock, fake: FakeTime, size: int
) -> None:
    token_ok(rsps)
    forbidden = {
        "code": 403,
        "message": "Access forbidden. You are not allowed to create or update products.",
    }
    seen = _split_server(rsps, 403, orjson.dumps(forbidden).decode(), most=0)
    client = make_client(fake)
    refused = LineResult(403, f"Request refused by the PIM (403 Forbidden): {forbidden['message']}")
    assert client.patch_collection("products", lines_of(size)) == [refused] * size
    assert seen == [list(range(1, size + 1))]
    assert client.stats.batch_splits == 0


def test_split_halves_get_their_own_attempts(rsps: responses.RequestsMock, fake: FakeTime) -> None:
    token_ok(rsps)
    lines = lines_of(2)
    rsps.patch(PRODUCTS, status=413, body="")
    rsps.patch(PRODUCTS, status=503)  # the first half: one retry
    rsps.patch(PRODUCTS, body=answer(lines[:1]))
    rsps.patch(PRODUCTS, body=answer(lines[1:], 204))
    client = make_client(fake)
    assert client.patch_collection("products", lines) == [LineResult(201, ""), LineResult(204, "")]
    assert [c.request.body for c in calls_to(rsps, PRODUCTS)] == [
        b"\n".join(lines),
        lines[0],
        lines[0],
        lines[1],
    ]
    assert fake.sleeps == [1.0]


def test_a_split_is_logged(
    rsps: responses.RequestsMock, fake: FakeTime, caplog: pytest.LogCaptureFixture
) -> None:
    token_ok(rsps)
    _split_server(rsps, 413, "", most=1)
    make_client(fake).patch_collection("products", lines_of(3))
    warnings = [r.getMessage() for r in caplog.records if r.name == "feed_export.akeneo.client"]
    assert warnings == [
        f"PATCH /api/rest/v1/products: {status_phrase(413)}; splitting 3 lines in two",
        f"PATCH /api/rest/v1/products: {status_phrase(413)}; splitting 2 lines in two",
    ]


# --- error bodies that are not JSON ---------------------------------------------------------

# id, status, body -> how the PIM's answer is described
NOT_JSON = [
    ("400-html", 400, HTML, "400 Bad Request (an HTML error page)"),
    ("404-text", 404, "No route found\n", "404 Not Found (No route found)"),
    ("405-empty", 405, "", "405 Method Not Allowed"),
    ("409-json-without-message", 409, '{"error":"locked"}', '409 Conflict ({"error":"locked"})'),
    ("400-long-text", 400, "e" * 500, "400 Bad Request (" + "e" * 199 + "…)"),
]


@pytest.mark.parametrize(
    ("status", "body", "described"),
    [case[1:] for case in NOT_JSON],
    ids=[case[0] for case in NOT_JSON],
)
def test_patch_refused_with_a_body_that_is_not_json(
    rsps: responses.RequestsMock, fake: FakeTime, status: int, body: str, described: str
) -> None:
    token_ok(rsps)
    rsps.patch(PRODUCTS, status=status, body=body)
    client = make_client(fake)
    phrase = status_phrase(status)
    refused = LineResult(status, f"Request refused by the PIM ({phrase}): {described}")
    assert client.patch_collection("products", lines_of(2)) == [refused, refused]
    assert len(calls_to(rsps, PRODUCTS)) == 1
    assert fake.sleeps == []


@pytest.mark.parametrize(
    ("status", "body", "described"),
    [case[1:] for case in NOT_JSON],
    ids=[case[0] for case in NOT_JSON],
)
def test_get_refused_with_a_body_that_is_not_json(
    rsps: responses.RequestsMock, fake: FakeTime, status: int, body: str, described: str
) -> None:
    token_ok(rsps)
    rsps.get(CHANNELS, status=status, body=body)
    with pytest.raises(TransportError, match=r"^GET /api/rest/v1/channels: ") as info:
        list(make_client(fake).list_items("channels"))
    assert str(info.value) == f"GET /api/rest/v1/channels: {described}"
    assert not isinstance(info.value, RetriableError)
    assert len(calls_to(rsps, CHANNELS)) == 1


@pytest.mark.parametrize(
    ("status", "body", "described"),
    [case[1:] for case in NOT_JSON],
    ids=[case[0] for case in NOT_JSON],
)
def test_upload_refused_with_a_body_that_is_not_json(
    rsps: responses.RequestsMock, fake: FakeTime, status: int, body: str, described: str
) -> None:
    token_ok(rsps)
    rsps.post(MEDIA, status=status, body=body)
    upload = make_client(fake).upload_media_file(
        {"identifier": "a"}, model=False, filename="a.jpg", content=b"x", content_type="image/jpeg"
    )
    assert upload == MediaUpload(status, described)
    assert len(calls_to(rsps, MEDIA)) == 1


@pytest.mark.parametrize(
    ("status", "body", "described"),
    [case[1:] for case in NOT_JSON],
    ids=[case[0] for case in NOT_JSON],
)
def test_login_refused_with_a_body_that_is_not_json(
    rsps: responses.RequestsMock, fake: FakeTime, status: int, body: str, described: str
) -> None:
    rsps.post(TOKEN_URL, status=status, body=body)
    with pytest.raises(
        AuthenticationError, match=r"^the PIM at https://pim.test refused to log in"
    ) as info:
        make_client(fake).authenticate()
    assert f'({status}: "{described}")' in str(info.value)
    assert len(calls_to(rsps, TOKEN_URL)) == 1


def test_a_2xx_page_that_is_not_json(rsps: responses.RequestsMock, fake: FakeTime) -> None:
    token_ok(rsps)
    rsps.get(CHANNELS, body="<html>Welcome to the proxy</html>")
    with pytest.raises(
        TransportError,
        match=r"^GET /api/rest/v1/channels: the PIM did not answer with JSON "
        r"\(<html>Welcome to the proxy</html>\)$",
    ):
        list(make_client(fake).list_items("channels"))


def test_a_token_answer_without_a_token(rsps: responses.RequestsMock, fake: FakeTime) -> None:
    rsps.post(TOKEN_URL, body="<html>login page</html>")
    with pytest.raises(
        AuthenticationError,
        match=r"^the PIM at https://pim.test answered the token request \(200\) without a "
        r"token: is AKENEO_BASE_URL the address of an Akeneo PIM\?$",
    ):
        make_client(fake).authenticate()


# --- other answers --------------------------------------------------------------------------


def test_a_redirected_read_is_refused(rsps: responses.RequestsMock, fake: FakeTime) -> None:
    token_ok(rsps)
    rsps.get(CHANNELS, status=301, headers={"Location": "https://other.test/login"})
    with pytest.raises(
        TransportError,
        match=r"^GET /api/rest/v1/channels: redirected to 'https://other.test/login': check "
        r"AKENEO_BASE_URL$",
    ):
        list(make_client(fake).list_items("channels"))
    assert len(calls_to(rsps, CHANNELS)) == 1


@pytest.mark.parametrize(
    ("headers", "shown"),
    [({"Location": "https://other.test/login"}, "'https://other.test/login'"), ({}, "None")],
    ids=["with-location", "without-location"],
)
def test_a_redirected_patch_is_refused(
    rsps: responses.RequestsMock, fake: FakeTime, headers: dict[str, str], shown: str
) -> None:
    token_ok(rsps)
    rsps.patch(PRODUCTS, status=307, headers=headers)
    refused = LineResult(
        307,
        f"Request refused by the PIM (307 Temporary Redirect to {shown}): check AKENEO_BASE_URL",
    )
    assert make_client(fake).patch_collection("products", lines_of(2)) == [refused] * 2
    assert len(calls_to(rsps, PRODUCTS)) == 1


@pytest.mark.parametrize(
    ("mock", "expected"),
    [
        ({"status": 200, "json": {"code": "x"}}, True),
        ({"status": 404, "json": {"code": 404, "message": "Not found"}}, False),
        ({"status": 201}, None),
        ({"status": 500}, None),
        ({"status": 403, "body": ""}, None),
        ({"body": requests.ConnectionError("down")}, None),
    ],
    ids=["200", "404", "201", "500", "403", "network"],
)
def test_media_file_exists(
    rsps: responses.RequestsMock, fake: FakeTime, mock: dict[str, Any], expected: bool | None
) -> None:
    token_ok(rsps)
    url = f"{MEDIA}/a/b/c/d/x%20y.jpg"
    rsps.get(url, **mock)
    client = make_client(fake)
    assert client.media_file_exists("a/b/c/d/x y.jpg") is expected
    assert len(calls_to(rsps, url)) == 1  # never retried
    assert fake.sleeps == []


@pytest.mark.parametrize(
    ("mock", "expected"),
    [
        (
            {"status": 201, "headers": {"Location": f"{MEDIA}/1/2/3/4/abc_a.jpg"}},
            MediaUpload(201, "", "1/2/3/4/abc_a.jpg"),
        ),
        (
            {"status": 201, "headers": {"Location": "https://pim.test/elsewhere"}},
            MediaUpload(
                0, "the PIM stored the file but gave no code ('https://pim.test/elsewhere')"
            ),
        ),
        (
            {"status": 201, "headers": {"Location": f"{MEDIA}/"}},
            MediaUpload(0, f"the PIM stored the file but gave no code ('{MEDIA}/')"),
        ),
        ({"status": 201}, MediaUpload(0, "the PIM stored the file but gave no code ('')")),
        (
            {"status": 422, "json": {"code": 422, "message": 'Property "picture" does not exist.'}},
            MediaUpload(422, 'Property "picture" does not exist.'),
        ),
        ({"status": 413, "body": ""}, MediaUpload(413, status_phrase(413))),
        ({"status": 302, "headers": {"Location": "/login"}}, MediaUpload(302, "302 Found")),
    ],
    ids=["stored", "odd-location", "empty-code", "no-location", "refused", "too-large", "redirect"],
)
def test_upload_answers(
    rsps: responses.RequestsMock, fake: FakeTime, mock: dict[str, Any], expected: MediaUpload
) -> None:
    token_ok(rsps)
    rsps.post(MEDIA, **mock)
    client = make_client(fake)
    upload = client.upload_media_file(
        {"code": "tee"}, model=True, filename="a.jpg", content=b"\xff", content_type="image/jpeg"
    )
    assert upload == expected
    assert len(calls_to(rsps, MEDIA)) == 1
    body = calls_to(rsps, MEDIA)[0].request.body
    assert b'name="product_model"' in body and b'{"code":"tee"}' in body
    assert b'filename="a.jpg"' in body and b"Content-Type: image/jpeg" in body


@pytest.mark.parametrize("method", ["GET", "POST"], ids=["read", "upload"])
def test_a_401_renews_the_token_on_any_call(
    rsps: responses.RequestsMock, fake: FakeTime, method: str
) -> None:
    token_ok(rsps, "tok1")
    token_ok(rsps, "tok2")
    url = CHANNELS if method == "GET" else MEDIA
    rsps.add(
        method,
        url,
        status=401,
        json={"code": 401, "message": "The access token provided has expired."},
    )
    if method == "GET":
        rsps.get(url, json=page([]))
    else:
        rsps.post(url, status=201, headers={"Location": f"{MEDIA}/c"})
    client = make_client(fake)
    if method == "GET":
        assert list(client.list_items("channels")) == []
    else:
        assert client.upload_media_file(
            {}, model=False, filename="a", content=b"", content_type="image/png"
        ) == MediaUpload(201, "", "c")
    assert [c.request.headers["Authorization"] for c in calls_to(rsps, url)] == [
        "Bearer tok1",
        "Bearer tok2",
    ]
    assert fake.sleeps == []


def test_a_second_401_quotes_the_pim_or_the_status(
    rsps: responses.RequestsMock, fake: FakeTime
) -> None:
    token_ok(rsps, "tok1")
    token_ok(rsps, "tok2")
    rsps.get(CHANNELS, status=401, body="")
    with pytest.raises(
        AuthenticationError,
        match=r'^the PIM at https://pim.test refused a freshly renewed access token \("401 '
        r'Unauthorized"\): check that the API user still has API access$',
    ):
        list(make_client(fake).list_items("channels"))
    assert len(calls_to(rsps, CHANNELS)) == 2


def test_requests_are_counted_failures_included(
    rsps: responses.RequestsMock, fake: FakeTime
) -> None:
    token_ok(rsps)
    rsps.get(CHANNELS, body=requests.ConnectionError("down"))
    rsps.get(CHANNELS, json=page([]))
    client = make_client(fake)
    assert list(client.list_items("channels")) == []
    assert client.stats.as_dict() == {
        "auth_logins": 1,
        "auth_refreshes": 0,
        "batch_splits": 0,
        "lines_resent": 0,
        "requests_sent": 3,
        "retries": 1,
    }


# --- added for mutation testing: what each call says, counts and logs ------------------------


def test_each_call_sends_its_headers(rsps: responses.RequestsMock, fake: FakeTime) -> None:
    token_ok(rsps)
    rsps.get(CHANNELS, json=page([]))
    rsps.patch(PRODUCTS, body=answer(lines_of(1)))
    rsps.post(MEDIA, status=201, headers={"Location": f"{MEDIA}/k"})
    rsps.get(f"{MEDIA}/a/b/c%3Fd%20e.jpg", status=404)
    session = RecordingSession()
    client = make_client(fake, session=session)
    list(client.list_items("channels"))
    client.patch_collection("products", lines_of(1))
    client.upload_media_file(
        {"identifier": "sku1"},
        model=False,
        filename="a.jpg",
        content=b"\xff",
        content_type="image/jpeg",
    )
    assert client.media_file_exists("a/b/c?d e.jpg") is False
    headers = {(method, url): kwargs["headers"] for method, url, kwargs in session.seen}
    assert headers[("GET", CHANNELS)] == {"Accept": "application/json"}
    assert headers[("PATCH", PRODUCTS)] == {
        "Content-Type": "application/vnd.akeneo.collection+json"
    }
    assert headers[("POST", MEDIA)]["Content-Type"].startswith("multipart/form-data; boundary=")
    # the code's slashes stay path separators; anything else is escaped
    assert headers[("GET", f"{MEDIA}/a/b/c%3Fd%20e.jpg")] == {"Accept": "application/json"}
    body = calls_to(rsps, MEDIA)[0].request.body
    assert b'name="product"\r\n' in body and b'{"identifier":"sku1"}' in body
    assert b'name="file"; filename="a.jpg"' in body
    assert rsps.calls[-1].request.url == f"{MEDIA}/a/b/c%3Fd%20e.jpg"


def test_retries_are_counted_on_every_call(rsps: responses.RequestsMock, fake: FakeTime) -> None:
    rsps.post(TOKEN_URL, status=503)
    token_ok(rsps)
    rsps.post(MEDIA, status=502)
    rsps.post(MEDIA, status=201, headers={"Location": f"{MEDIA}/k"})
    client = make_client(fake)
    client.authenticate()
    assert client.stats.retries == 1
    client.upload_media_file({}, model=False, filename="a", content=b"", content_type="image/png")
    assert client.stats.retries == 2
    assert fake.sleeps == [1.0, 1.0]


def test_a_patch_retry_is_logged_with_the_batch(
    rsps: responses.RequestsMock, fake: FakeTime, caplog: pytest.LogCaptureFixture
) -> None:
    token_ok(rsps)
    rsps.patch(PRODUCTS, status=503)
    rsps.patch(PRODUCTS, body=answer(lines_of(2)))
    make_client(fake).patch_collection("products", lines_of(2))
    assert [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING] == [
        "PATCH /api/rest/v1/products (2 lines): 503 Service Unavailable; retrying in 1.0 s "
        "(attempt 2 of 3)"
    ]


def test_each_exchange_is_logged_at_debug(
    rsps: responses.RequestsMock, fake: FakeTime, caplog: pytest.LogCaptureFixture
) -> None:
    token_ok(rsps)
    rsps.get(
        CHANNELS, json=page([]), match=[responses.matchers.query_param_matcher({"limit": "100"})]
    )
    with caplog.at_level(logging.DEBUG, logger="feed_export.akeneo.client"):
        list(make_client(fake).list_items("channels"))
    assert [r.getMessage() for r in caplog.records if r.name == "feed_export.akeneo.client"] == [
        "GET /api/rest/v1/channels -> 200"
    ]


def test_a_split_keeps_the_query(rsps: responses.RequestsMock, fake: FakeTime) -> None:
    token_ok(rsps)
    _split_server(rsps, 413, "", most=1)
    client = make_client(fake)
    results = client.patch_collection("products", lines_of(3), create_missing_options=True)
    assert results == [LineResult(201, "")] * 3
    queries = [urlsplit(c.request.url).query for c in calls_to(rsps, PRODUCTS)]
    assert queries == ["create_missing_options=true"] * 5


def test_a_long_page_that_is_not_json_is_quoted_capped(
    rsps: responses.RequestsMock, fake: FakeTime
) -> None:
    token_ok(rsps)
    rsps.get(CHANNELS, body="q" * 500)
    with pytest.raises(
        TransportError,
        match=r"^GET /api/rest/v1/channels: the PIM did not answer with JSON \(q{199}…\)$",
    ):
        list(make_client(fake).list_items("channels"))


class _Cut:
    """A body that yields ``data`` and then loses the connection."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def stream(self, amt: int, decode_content: bool = True) -> Iterator[bytes]:
        yield self.data
        raise urllib3.exceptions.ProtocolError("Connection broken: connection reset by peer")

    def close(self) -> None:
        pass


class _CutAdapter(requests.adapters.BaseAdapter):
    def __init__(self, data: bytes) -> None:
        super().__init__()
        self.data = data

    def send(
        self, request: requests.PreparedRequest, *args: Any, **kwargs: Any
    ) -> requests.Response:
        response = requests.Response()
        response.status_code = 200
        response.raw = _Cut(self.data)
        response.request = request
        response.url = request.url or ""
        return response

    def close(self) -> None:
        pass


def test_the_last_word_on_a_cut_answer_says_why(
    rsps: responses.RequestsMock, fake: FakeTime
) -> None:
    token_ok(rsps)
    lines = lines_of(3)
    session = requests.Session()
    session.mount(PRODUCTS, _CutAdapter(answer(lines[:1]).encode() + b"\n"))
    client = make_client(fake, session=session, max_attempts=1)
    cut = LineResult(
        0,
        "no answer for this line: the PIM answered 1 of 3 lines (connection lost while "
        "reading the answer (ChunkedEncodingError)) after 1 attempt over 0 s",
    )
    assert client.patch_collection("products", lines) == [LineResult(201, ""), cut, cut]


# --- the session and the catalog reads ------------------------------------------------------


def test_an_own_session_is_pooled_for_the_sender_and_closed(
    fake: FakeTime, monkeypatch: pytest.MonkeyPatch
) -> None:
    closed: list[requests.Session] = []
    monkeypatch.setattr(requests.Session, "close", lambda self: closed.append(self))
    client = make_client(fake)
    session = client._session
    for url in ("https://pim.test/", "http://127.0.0.1:8080/"):
        adapter = session.get_adapter(url)
        assert isinstance(adapter, requests.adapters.HTTPAdapter)
        assert (adapter._pool_connections, adapter._pool_maxsize) == (2, 16)
    assert session.headers["User-Agent"].startswith("feed_export/")
    client.close()
    assert closed == [session]


def test_a_given_session_is_left_open(fake: FakeTime, monkeypatch: pytest.MonkeyPatch) -> None:
    closed: list[requests.Session] = []
    monkeypatch.setattr(requests.Session, "close", lambda self: closed.append(self))
    session = requests.Session()
    with make_client(fake, session=session) as client:
        assert client._session is session
    assert closed == []
    assert session.headers["User-Agent"].startswith("feed_export/")


@pytest.mark.parametrize("verify_tls", [True, False], ids=["verify", "no-verify"])
def test_unverified_tls_is_warned_about(
    fake: FakeTime, caplog: pytest.LogCaptureFixture, verify_tls: bool
) -> None:
    AkeneoClient(settings(verify_tls), clock=fake.clock, sleep=fake.sleep)
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warned == (
        [] if verify_tls else ["TLS certificates are not verified (verify_tls is off)"]
    )


@pytest.mark.parametrize(
    ("answer_json", "message"),
    [
        ([{"code": "a"}], "GET /api/rest/v1/channels: expected a page of items, got list"),
        (
            {"items": []},
            'GET /api/rest/v1/channels: not an Akeneo list page: {"items":[]}',
        ),
    ],
    ids=["a-list", "no-embedded-items"],
)
def test_a_page_that_is_not_a_page(
    rsps: responses.RequestsMock, fake: FakeTime, answer_json: Any, message: str
) -> None:
    token_ok(rsps)
    rsps.get(CHANNELS, json=answer_json)
    with pytest.raises(TransportError, match=r"^GET /api/rest/v1/channels: ") as info:
        list(make_client(fake).list_items("channels"))
    assert str(info.value) == message


def test_a_next_link_that_loops_is_refused(rsps: responses.RequestsMock, fake: FakeTime) -> None:
    token_ok(rsps)
    second = f"{CHANNELS}/page-two"  # no query: followed as is, on our host
    rsps.get(
        CHANNELS,
        json={
            "_links": {"next": {"href": "http://internal:8080/api/rest/v1/channels/page-two"}},
            "_embedded": {"items": [{"code": "a"}]},
        },
    )
    rsps.get(
        second, json={"_links": {"next": {"href": second}}, "_embedded": {"items": [{"code": "b"}]}}
    )
    seen: list[str] = []
    with pytest.raises(
        TransportError,
        match=r"^GET /api/rest/v1/channels/page-two: the PIM's next-page link loops$",
    ):
        seen.extend(item["code"] for item in make_client(fake).list_items("channels"))
    assert seen == ["a", "b"]
    assert [c.request.url for c in rsps.calls[1:]] == [f"{CHANNELS}?limit=100", second]


@pytest.mark.parametrize(
    ("answer_json", "expected"),
    [
        (
            [{"code": "AREA", "_links": {}}, {"code": "LENGTH"}, "junk"],
            [{"code": "AREA"}, {"code": "LENGTH"}],
        ),
        ({"code": "AREA"}, None),
    ],
    ids=["items", "not-an-array"],
)
def test_measurement_families(
    rsps: responses.RequestsMock, fake: FakeTime, answer_json: Any, expected: Any
) -> None:
    token_ok(rsps)
    url = f"{API}/measurement-families"
    for name in ("channels", "locales", "currencies", "attributes"):
        rsps.get(f"{API}/{name}", json=page([]))
    rsps.get(url, json=answer_json)
    client = make_client(fake)
    if expected is None:
        with pytest.raises(
            TransportError, match=r"^GET /api/rest/v1/measurement-families: expected a JSON array$"
        ):
            client.fetch_catalog([])
    else:
        assert client.fetch_catalog([])["measurement_families"] == expected


def test_catalog_lists_are_read_by_named_threads(
    rsps: responses.RequestsMock, fake: FakeTime
) -> None:
    token_ok(rsps)
    names: set[str] = set()

    def listing(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        names.add(threading.current_thread().name)
        return 200, {}, orjson.dumps(page([])).decode()

    for name in ("channels", "locales", "currencies", "attributes", "families"):
        rsps.add_callback(responses.GET, f"{API}/{name}", callback=listing)
    rsps.get(f"{API}/measurement-families", json=[])
    assert make_client(fake).fetch_catalog(families=True)["families"] == []
    assert names and all(n.startswith("feed_export-catalog") for n in names)


@pytest.mark.parametrize(
    ("codes", "sizes"),
    [
        ([f"{i:091d}" for i in range(40)], [40]),  # 40 x (91 + 9) = 4,000: exactly the budget
        ([f"{i:091d}" for i in range(41)], [40, 1]),
        ([f"{i:091d}" for i in range(80)], [40, 40]),
        ([f"c{i}" for i in range(250)], [100, 100, 50]),
        (["a b"] * 3, [3]),  # "a%20b": the encoded length counts
        ([], []),
    ],
    ids=["at-the-budget", "one-past", "two-full", "by-count", "encoded", "none"],
)
def test_search_chunks(codes: list[str], sizes: list[int]) -> None:
    chunks = list(_chunk_codes(codes))
    assert [len(c) for c in chunks] == sizes
    assert [code for chunk in chunks for code in chunk] == codes


def test_search_chunk_cost_is_the_encoded_length() -> None:
    # 36 codes of 100 encoded characters (20 x "%2F" + 40) cost 109 each: 36 fit in 4,000
    codes = [("/" * 20) + f"{i:040d}" for i in range(37)]
    assert [len(c) for c in _chunk_codes(codes)] == [36, 1]


def test_at_most_four_catalog_lists_are_read_at_once(
    rsps: responses.RequestsMock, fake: FakeTime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Akeneo allows 4 concurrent requests per token (the pool's size, whatever the cores)."""
    import feed_export.akeneo.client as client_module

    sizes: list[int | None] = []

    class Pool(ThreadPoolExecutor):
        def __init__(self, max_workers: int | None = None, **kwargs: Any) -> None:
            sizes.append(max_workers)
            super().__init__(max_workers, **kwargs)

    monkeypatch.setattr(client_module, "ThreadPoolExecutor", Pool)
    token_ok(rsps)
    for name in ("channels", "locales", "currencies", "attributes", "families"):
        rsps.get(f"{API}/{name}", json=page([]))
    rsps.get(f"{API}/measurement-families", json=[])
    make_client(fake).fetch_catalog(families=True)
    assert sizes == [4]


# --- the asset manager's endpoints ---------------------------------------------------------

ASSET_MEDIA = f"{API}/asset-media-files"
ODD_FAMILY = "pack/shots ü"  # every character that needs escaping in a path segment
ODD_ASSETS = f"{API}/asset-families/pack%2Fshots%20%C3%BC/assets"


def asset_line(code: str) -> bytes:
    return orjson.dumps({"code": code, "values": {}})


def test_every_asset_call_gets_the_timeouts_streams_and_escapes(
    rsps: responses.RequestsMock, fake: FakeTime
) -> None:
    token_ok(rsps)
    rsps.get(
        f"{API}/asset-families/pack%2Fshots%20%C3%BC/attributes",
        json=[{"code": "media", "_links": {}}, "x"],
    )
    rsps.get(f"{ODD_ASSETS}/a%2Fb%20c", json={"code": "a/b c"})
    rsps.get(f"{ASSET_MEDIA}/1/2/3/4/ab%20c.png", body=b"PNG")
    rsps.post(ASSET_MEDIA, status=201, headers={"Asset-media-file-code": "1/2/3/4/abc.png"})
    rsps.patch(ODD_ASSETS, json=[{"code": "a", "status_code": 201}])
    session = RecordingSession()
    client = AkeneoClient(
        settings(False, connect_timeout=2.5, request_timeout=33.0),
        session=session,
        clock=fake.clock,
        sleep=fake.sleep,
    )
    assert client.asset_attributes(ODD_FAMILY) == [{"code": "media"}]
    assert client.asset(ODD_FAMILY, "a/b c") == {"code": "a/b c"}
    assert client.download_asset_media_file("1/2/3/4/ab c.png", 10) == b"PNG"
    upload = client.upload_asset_media_file(
        filename="a.png", content=b"x", content_type="image/png"
    )
    assert upload == MediaUpload(201, "", "1/2/3/4/abc.png")
    assert client.patch_assets(ODD_FAMILY, [asset_line("a")]) == [LineResult(201, "")]
    assert [(method, url) for method, url, _ in session.seen] == [
        ("GET", f"{API}/asset-families/pack%2Fshots%20%C3%BC/attributes"),
        ("POST", TOKEN_URL),  # the login, asked while the first request is prepared
        ("GET", f"{ODD_ASSETS}/a%2Fb%20c"),
        ("GET", f"{ASSET_MEDIA}/1/2/3/4/ab%20c.png"),
        ("POST", ASSET_MEDIA),
        ("PATCH", ODD_ASSETS),
    ]
    for method, url, kwargs in session.seen:
        assert kwargs["timeout"] == (2.5, 33.0), (method, url)
        assert kwargs["verify"] is False, (method, url)
        assert kwargs["allow_redirects"] is False, (method, url)
    assert [c.request.req_kwargs["stream"] for c in rsps.calls] == [True] * 6
    upload_call, patch_call = rsps.calls[4], rsps.calls[5]
    assert upload_call.request.headers["Content-Type"].startswith("multipart/form-data; boundary=")
    assert patch_call.request.headers["Content-Type"] == "application/json"
    assert patch_call.request.body == b'[{"code":"a","values":{}}]'


def test_asset_attributes_that_are_not_a_list(rsps: responses.RequestsMock, fake: FakeTime) -> None:
    token_ok(rsps)
    rsps.get(f"{API}/asset-families/packshots/attributes", json={"code": "media"})
    with pytest.raises(
        TransportError,
        match=r"^GET /api/rest/v1/asset-families/packshots/attributes: expected a JSON array$",
    ):
        make_client(fake).asset_attributes("packshots")


def test_asset_media_download_answers(rsps: responses.RequestsMock, fake: FakeTime) -> None:
    token_ok(rsps)
    rsps.get(f"{ASSET_MEDIA}/gone.png", status=404, json={"code": 404, "message": "Not found"})
    rsps.get(f"{ASSET_MEDIA}/big.png", body=b"x" * 11)
    rsps.get(f"{ASSET_MEDIA}/no.png", status=403, json={"code": 403, "message": "Not yours."})
    client = make_client(fake)
    assert client.download_asset_media_file("gone.png", 10) is None
    assert client.download_asset_media_file("big.png", 10) is None
    with pytest.raises(
        TransportError,
        match=r"^GET /api/rest/v1/asset-media-files: 403 Forbidden \(Not yours\.\)$",
    ):
        client.download_asset_media_file("no.png", 10)


def test_asset_media_download_when_retries_run_out(
    rsps: responses.RequestsMock, fake: FakeTime, caplog: pytest.LogCaptureFixture
) -> None:
    token_ok(rsps)
    rsps.get(f"{ASSET_MEDIA}/a.png", body=requests.ConnectionError("reset"))
    client = make_client(fake)
    with (
        caplog.at_level(logging.WARNING),
        pytest.raises(RetriesExhausted, match=r"^GET /api/rest/v1/asset-media-files: ") as info,
    ):
        client.download_asset_media_file("a.png", 10)
    assert (info.value.status, info.value.attempts) == (0, 3)
    assert client.stats.retries == 2
    retried = [r.getMessage() for r in caplog.records if "retry" in r.getMessage()]
    assert len(retried) == 2
    assert all(m.startswith("GET /api/rest/v1/asset-media-files") for m in retried)


def test_asset_upload_answers(
    rsps: responses.RequestsMock, fake: FakeTime, caplog: pytest.LogCaptureFixture
) -> None:
    token_ok(rsps)
    rsps.post(ASSET_MEDIA, status=201, headers={"Location": f"{ASSET_MEDIA}/5/6/7/8/def_b.png"})
    rsps.post(ASSET_MEDIA, status=201)
    rsps.post(ASSET_MEDIA, status=503, body=HTML)
    client = make_client(fake)

    def upload() -> MediaUpload:
        return client.upload_asset_media_file(
            filename="b.png", content=b"x", content_type="image/png"
        )

    assert upload() == MediaUpload(201, "", "5/6/7/8/def_b.png")
    assert upload() == MediaUpload(0, "the PIM stored the file but gave no Asset-media-file-code")
    with caplog.at_level(logging.WARNING):
        last = upload()
    assert last == MediaUpload(
        503,
        "POST /api/rest/v1/asset-media-files: 503 Service Unavailable (an HTML error page) "
        "after 3 attempts over 3 s",
    )
    assert client.stats.retries == 2
    retried = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(retried) == 2
    assert all(m.startswith("POST /api/rest/v1/asset-media-files") for m in retried)


@pytest.mark.parametrize("size", [1, 2, 3], ids=["one", "two", "three"])
def test_asset_patch_when_retries_run_out(
    rsps: responses.RequestsMock, fake: FakeTime, caplog: pytest.LogCaptureFixture, size: int
) -> None:
    token_ok(rsps)
    rsps.patch(f"{API}/asset-families/packshots/assets", status=502, body=HTML)
    client = make_client(fake)
    with caplog.at_level(logging.WARNING):
        results = client.patch_assets("packshots", [asset_line(f"a{i}") for i in range(size)])
    final = LineResult(
        502,
        "502 Bad Gateway (an HTML error page) after 3 attempts over 3 s",
    )
    assert results == [final] * size
    assert client.stats.retries == 2
    retried = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(retried) == 2
    assert all(
        m.startswith(f"PATCH /api/rest/v1/asset-families/packshots/assets ({size} assets)")
        for m in retried
    )


def test_a_redirected_asset_patch_is_refused(rsps: responses.RequestsMock, fake: FakeTime) -> None:
    token_ok(rsps)
    rsps.patch(
        f"{API}/asset-families/packshots/assets",
        status=302,
        headers={"Location": "https://elsewhere.test/"},
    )
    results = make_client(fake).patch_assets("packshots", [asset_line("a"), asset_line("b")])
    assert results == [LineResult(302, "Request refused by the PIM (302 Found): 302 Found")] * 2
    assert len(rsps.calls) == 2  # the token, then one PATCH: a redirect is not followed


@pytest.mark.parametrize(
    ("size", "requests_sent"),
    [(1, [["a0"]]), (2, [["a0", "a1"], ["a0"], ["a1"]]), (3, [["a0", "a1", "a2"], ["a0"], ["a1", "a2"], ["a1"], ["a2"]])],
    ids=["one", "two", "three"],
)  # fmt: skip
def test_asset_patch_too_large_is_split_in_halves(
    rsps: responses.RequestsMock, fake: FakeTime, size: int, requests_sent: list[list[str]]
) -> None:
    token_ok(rsps)

    def only_one(request: Any) -> tuple[int, dict[str, str], str]:
        sent = orjson.loads(request.body)
        if len(sent) > 1:
            return 413, {}, orjson.dumps({"code": 413, "message": TOO_MANY}).decode()
        if sent[0]["code"] == "a0":
            return 413, {}, orjson.dumps({"code": 413, "message": TOO_MANY}).decode()
        return 200, {}, orjson.dumps([{"code": sent[0]["code"], "status_code": 201}]).decode()

    url = f"{API}/asset-families/packshots/assets"
    rsps.add_callback(responses.PATCH, url, callback=only_one)
    client = make_client(fake)
    results = client.patch_assets("packshots", [asset_line(f"a{i}") for i in range(size)])
    alone = LineResult(
        413, f"Request refused by the PIM (413 Request Entity Too Large): {TOO_MANY}"
    )
    assert results == [alone] + [LineResult(201, "")] * (size - 1)
    sent = [[a["code"] for a in orjson.loads(c.request.body)] for c in calls_to(rsps, url)]
    assert sent == requests_sent
    assert client.stats.batch_splits == {1: 0, 2: 1, 3: 2}[size]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'[{"code": "a", "status_code": 201}]', "the PIM answered 1 of 2 assets"),
        (b'{"code": "a"}', "the PIM answered 0 of 2 assets"),
        (b"", "the PIM answered 0 of 2 assets"),
    ],
    ids=["one-of-two", "an-object", "empty"],
)
def test_asset_answers_cut_short_are_retried_then_named(
    rsps: responses.RequestsMock, fake: FakeTime, body: bytes, message: str
) -> None:
    token_ok(rsps)
    rsps.patch(f"{API}/asset-families/packshots/assets", body=body)
    client = make_client(fake)
    results = client.patch_assets("packshots", [asset_line("a"), asset_line("b")])
    final = LineResult(
        0,
        f"{message} after 3 attempts over 3 s",
    )
    assert results == [final, final]
    assert client.stats.retries == 2


def test_asset_answers_that_are_not_objects_or_name_another(
    rsps: responses.RequestsMock, fake: FakeTime, caplog: pytest.LogCaptureFixture
) -> None:
    token_ok(rsps)
    rsps.patch(
        f"{API}/asset-families/packshots/assets",
        json=[
            "oops",
            {"code": "a", "status_code": 201},
            {"code": "c", "status_code": 204},
            {"code": "x"},
        ],
    )
    lines = [asset_line("a"), asset_line("b"), asset_line("c")]
    with caplog.at_level(logging.WARNING):
        results = make_client(fake).patch_assets("packshots", lines)
    assert results[0] == LineResult(0, "the PIM's answer for this asset is not an object")
    assert results[1].status == 0
    assert results[1].message.startswith(
        'Unknown: the PIM\'s answer named another asset ("a" instead of "b")'
    )
    assert results[2] == LineResult(204, "")
    assert len(results) == 3
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warned == [
        'PATCH /api/rest/v1/asset-families/packshots/assets: the answer to line 2 names asset "a", '
        'but that line sent "b": its row is Unknown'
    ]
