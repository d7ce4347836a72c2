"""What AkeneoClient hands to requests, and what it makes of edge answers: timeouts and TLS
on every call, the last word when retries run out, 413 and bare 403 splits at batch sizes
1 to 3, error bodies that are not JSON. HTTP is mocked with ``responses``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
import pytest
import requests
import responses
from pydantic import SecretStr

from feed_export.akeneo.client import AkeneoClient
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


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class RecordingSession(requests.Session):
    """A real session that notes the keyword arguments of every ``request`` call."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[str, str, dict[str, Any]]] = []

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        self.seen.append((str(method), str(url).split("?")[0], dict(kwargs)))
        return super().request(method, url, *args, **kwargs)


@pytest.fixture
def fake() -> FakeTime:
    return FakeTime()


@pytest.fixture
def rsps(monkeypatch: pytest.MonkeyPatch) -> Iterator[responses.RequestsMock]:
    # requests swaps verify=True for these when set: the test checks what the client passes
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


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
    assert [c.request.req_kwargs["stream"] for c in rsps.calls] == [
        False,
        False,
        False,
        True,  # the collection PATCH is read line by line
        False,
        False,
    ]


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
    with pytest.raises(RetriesExhausted) as info:
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
