"""Tests for feed_export.akeneo.client: auth, retries, catalog reads, the collection PATCH."""

from __future__ import annotations

import base64
import json
import logging
import threading
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, quote, quote_plus, urlsplit

import orjson
import pytest
import requests
import requests.adapters
import requests.structures
import responses
import urllib3
from conftest import FakeTime
from pydantic import SecretStr

from feed_export.akeneo.client import COLLECTION_CONTENT_TYPE, USER_AGENT, AkeneoClient
from feed_export.akeneo.responses import LineResult
from feed_export.config import RetrySettings, Settings
from feed_export.errors import AuthenticationError, RetriableError, TransportError

BASE = "https://pim.test"
TOKEN_URL = f"{BASE}/api/oauth/v1/token"
PRODUCTS = f"{BASE}/api/rest/v1/products"
SECRET = "s3cret-SENTINEL-client"
PASSWORD = "p4ss-SENTINEL-user"

PWD_REJECTED = "No user found for the given username and password"
CLIENT_REJECTED = (
    'Parameter "client_id" is missing or does not match any client, or secret is invalid'
)


def make_settings(**retry: Any) -> Settings:
    options = {"max_attempts": 3, "backoff_factor": 1.0, "max_retry_delay": 10.0} | retry
    return Settings(
        base_url=BASE,
        client_id="cid",
        client_secret=SecretStr(SECRET),
        username="api_user",
        password=SecretStr(PASSWORD),
        retry=RetrySettings(**options),
    )


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def make_client(fake: FakeTime, **retry: Any) -> AkeneoClient:
    return AkeneoClient(
        make_settings(**retry), clock=fake.clock, sleep=fake.sleep, random=lambda: 0.5
    )


def token_ok(
    rsps: responses.RequestsMock,
    access: str = "tok1",
    refresh: str = "ref1",
    expires_in: int = 3600,
) -> None:
    rsps.post(
        TOKEN_URL,
        json={
            "access_token": access,
            "expires_in": expires_in,
            "token_type": "bearer",
            "scope": None,
            "refresh_token": refresh,
        },
    )


def stream(*objs: dict[str, Any]) -> str:
    """A collection response body: one JSON object per line, no trailing newline."""
    return "\n".join(orjson.dumps(o).decode() for o in objs)


def ok_lines(n: int, status: int = 204) -> str:
    return stream(
        *({"line": i, "identifier": f"sku{i}", "status_code": status} for i in range(1, n + 1))
    )


def lines_of(n: int) -> list[bytes]:
    return [orjson.dumps({"identifier": f"sku{i}"}) for i in range(1, n + 1)]


def calls_to(rsps: responses.RequestsMock, url: str) -> list[Any]:
    return [c for c in rsps.calls if (c.request.url or "").split("?")[0] == url]


def grants(rsps: responses.RequestsMock) -> list[str]:
    return [orjson.loads(c.request.body)["grant_type"] for c in calls_to(rsps, TOKEN_URL)]


def answer_by_size(handler: Callable[[list[bytes]], tuple[int, dict[str, str], str]]) -> Any:
    """A responses callback that sees the lines of each PATCH body."""

    def callback(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        body = request.body if isinstance(request.body, bytes) else b""
        return handler(body.split(b"\n"))

    return callback


# --- authentication -----------------------------------------------------------------------


def test_password_grant_then_bearer_on_patch(rsps: responses.RequestsMock, fake: FakeTime) -> None:
    token_ok(rsps)
    rsps.patch(PRODUCTS, body=ok_lines(2))
    client = make_client(fake)
    results = client.patch_collection("products", lines_of(2))
    assert results == [LineResult(204, ""), LineResult(204, "")]
    token_call, patch_call = rsps.calls
    assert orjson.loads(token_call.request.body or b"") == {
        "grant_type": "password",
        "username": "api_user",
        "password": PASSWORD,
    }
    basic = base64.b64encode(f"cid:{SECRET}".encode()).decode()
    assert token_call.request.headers["Authorization"] == f"Basic {basic}"
    assert token_call.request.headers["Content-Type"] == "application/json"
    assert patch_call.request.headers["Authorization"] == "Bearer tok1"
    assert patch_call.request.headers["Content-Type"] == COLLECTION_CONTENT_TYPE
    assert patch_call.request.headers["User-Agent"] == USER_AGENT
    assert patch_call.request.body == b'{"identifier":"sku1"}\n{"identifier":"sku2"}'
    assert client.stats.auth_logins == 1
    assert client.stats.requests_sent == 2


@pytest.mark.parametrize(
    ("elapsed", "expected_grants"),
    [(3000.0, ["password"]), (3545.0, ["password", "refresh_token"])],
    ids=["token-still-fresh", "renewed-shortly-before-expiry"],
)
def test_proactive_refresh(
    rsps: responses.RequestsMock, fake: FakeTime, elapsed: float, expected_grants: list[str]
) -> None:
    token_ok(rsps, "tok1", "ref1")
    token_ok(rsps, "tok2", "ref2")
    rsps.patch(PRODUCTS, body=ok_lines(1))
    client = make_client(fake)
    client.patch_collection("products", lines_of(1))
    fake.now += elapsed
    client.patch_collection("products", lines_of(1))
    assert grants(rsps) == expected_grants
    last = calls_to(rsps, PRODUCTS)[-1].request
    assert last.headers["Authorization"] == (
        "Bearer tok2" if len(expected_grants) == 2 else "Bearer tok1"
    )
    if len(expected_grants) == 2:
        refresh_body = orjson.loads(calls_to(rsps, TOKEN_URL)[1].request.body)
        assert refresh_body == {"grant_type": "refresh_token", "refresh_token": "ref1"}


def test_newest_refresh_token_is_used(rsps: responses.RequestsMock, fake: FakeTime) -> None:
    token_ok(rsps, "tok1", "ref1", expires_in=100)
    token_ok(rsps, "tok2", "ref2", expires_in=100)
    token_ok(rsps, "tok3", "ref3", expires_in=100)
    rsps.patch(PRODUCTS, body=ok_lines(1))
    client = make_client(fake)
    for _ in range(3):
        client.patch_collection("products", lines_of(1))
        fake.now += 95
    bodies = [orjson.loads(c.request.body) for c in calls_to(rsps, TOKEN_URL)]
    assert [b.get("refresh_token") for b in bodies] == [None, "ref1", "ref2"]


def test_401_renews_token_once_and_resends(rsps: responses.RequestsMock, fake: FakeTime) -> None:
    token_ok(rsps, "tok1", "ref1")
    token_ok(rsps, "tok2", "ref2")
    rsps.patch(
        PRODUCTS,
        status=401,
        json={"code": 401, "message": "The access token provided has expired."},
    )
    rsps.patch(PRODUCTS, body=ok_lines(1, 201))
    client = make_client(fake)
    assert client.patch_collection("products", lines_of(1)) == [LineResult(201, "")]
    assert grants(rsps) == ["password", "refresh_token"]
    patches = calls_to(rsps, PRODUCTS)
    assert [p.request.headers["Authorization"] for p in patches] == ["Bearer tok1", "Bearer tok2"]
    assert fake.sleeps == []  # a renewed token is not a retry
    assert client.stats.auth_refreshes == 1


def test_rejected_refresh_falls_back_to_password(
    rsps: responses.RequestsMock, fake: FakeTime
) -> None:
    token_ok(rsps, "tok1", "ref1")
    rsps.post(
        TOKEN_URL,
        status=422,
        json={"code": 422, "message": "Refresh token is invalid or has expired"},
    )
    token_ok(rsps, "tok3", "ref3")
    rsps.patch(
        PRODUCTS, status=401, json={"code": 401, "message": "The access token provided is invalid."}
    )
    rsps.patch(PRODUCTS, body=ok_lines(1))
    client = make_client(fake)
    assert client.patch_collection("products", lines_of(1)) == [LineResult(204, "")]
    assert grants(rsps) == ["password", "refresh_token", "password"]
    assert calls_to(rsps, PRODUCTS)[-1].request.headers["Authorization"] == "Bearer tok3"


@pytest.mark.parametrize(
    ("pim_message", "hint"),
    [
        (PWD_REJECTED, "check AKENEO_USERNAME and AKENEO_PASSWORD"),
        (CLIENT_REJECTED, "check AKENEO_CLIENT_ID and AKENEO_CLIENT_SECRET"),
        ("This grant type is not authorized for this client", "does not allow the password grant"),
    ],
    ids=["user", "client", "grant-type"],
)
def test_rejected_credentials_raise_clear_error(
    rsps: responses.RequestsMock, fake: FakeTime, pim_message: str, hint: str
) -> None:
    rsps.post(TOKEN_URL, status=422, json={"code": 422, "message": pim_message})
    client = make_client(fake)
    with pytest.raises(AuthenticationError, match="refused to log in") as info:
        client.patch_collection("products", lines_of(2))
    text = str(info.value)
    assert f'"{pim_message}"' in text
    assert hint in text
    assert BASE in text
    assert SECRET not in text and PASSWORD not in text
    assert calls_to(rsps, PRODUCTS) == []  # nothing sent without a token


def test_authenticate_raises_on_bad_credentials(
    rsps: responses.RequestsMock, fake: FakeTime
) -> None:
    rsps.post(TOKEN_URL, status=422, json={"code": 422, "message": PWD_REJECTED})
    with pytest.raises(AuthenticationError, match="No user found"):
        make_client(fake).authenticate()


def test_authenticate_retries_a_token_endpoint_outage(
    rsps: responses.RequestsMock, fake: FakeTime
) -> None:
    rsps.post(TOKEN_URL, status=503)
    token_ok(rsps)
    client = make_client(fake)
    client.authenticate()
    assert grants(rsps) == ["password", "password"]
    assert fake.sleeps == [1.0]


def test_token_endpoint_not_found_hints_at_base_url(
    rsps: responses.RequestsMock, fake: FakeTime
) -> None:
    rsps.post(TOKEN_URL, status=404, body="<html>Not found</html>")
    with pytest.raises(AuthenticationError, match="AKENEO_BASE_URL"):
        make_client(fake).authenticate()


def test_401_after_renewal_aborts(rsps: responses.RequestsMock, fake: FakeTime) -> None:
    token_ok(rsps, "tok1", "ref1")
    token_ok(rsps, "tok2", "ref2")
    rsps.patch(
        PRODUCTS, status=401, json={"code": 401, "message": "The access token provided is invalid."}
    )
    client = make_client(fake)
    with pytest.raises(AuthenticationError, match="freshly renewed"):
        client.patch_collection("products", lines_of(1))
    assert len(calls_to(rsps, PRODUCTS)) == 2


def test_one_thread_logs_in_while_others_wait(rsps: responses.RequestsMock, fake: FakeTime) -> None:
    token_ok(rsps)
    client = make_client(fake)
    auth = client._auth
    barrier = threading.Barrier(6)
    tokens: list[str] = []

    def worker() -> None:
        barrier.wait()
        tokens.append(auth.token())

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert tokens == ["tok1"] * 6
    assert grants(rsps) == ["password"]


def test_a_stale_401_does_not_renew_twice(rsps: responses.RequestsMock, fake: FakeTime) -> None:
    token_ok(rsps, "tok1", "ref1")
    token_ok(rsps, "tok2", "ref2")
    client = make_client(fake)
    auth = client._auth
    auth.token()
    auth.unauthorized("Bearer tok1")  # first thread to see the 401 renews
    auth.unauthorized("Bearer tok1")  # a second thread's 401 for the same old token
    assert grants(rsps) == ["password", "refresh_token"]
    assert auth.token() == "tok2"


def test_refused_credentials_are_not_tried_again_by_busy_threads(
    rsps: responses.RequestsMock, fake: FakeTime
) -> None:
    """Regression: at concurrency 4, each waiting thread used to try the password once more."""
    rsps.post(TOKEN_URL, status=422, json={"code": 422, "message": PWD_REJECTED})
    client = make_client(fake)
    barrier = threading.Barrier(4)
    errors: list[str] = []

    def worker() -> None:
        barrier.wait()
        try:
            client.patch_collection("products", lines_of(1))
        except AuthenticationError as exc:
            errors.append(str(exc))

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(errors) == 4 and len(set(errors)) == 1
    assert PWD_REJECTED in errors[0]
    assert grants(rsps) == ["password"]
    assert client.stats.auth_logins == 1
    with pytest.raises(AuthenticationError, match="No user found"):
        client.authenticate()  # remembered: no new request either
    assert grants(rsps) == ["password"]
    assert calls_to(rsps, PRODUCTS) == []


def test_refused_refresh_is_remembered(rsps: responses.RequestsMock, fake: FakeTime) -> None:
    token_ok(rsps, "tok1", "ref1")
    rsps.post(TOKEN_URL, status=400, json={"code": 400, "message": "invalid_client"})
    rsps.patch(
        PRODUCTS, status=401, json={"code": 401, "message": "The access token provided is invalid."}
    )
    client = make_client(fake)
    for _ in range(2):
        with pytest.raises(AuthenticationError, match="invalid_client"):
            client.patch_collection("products", lines_of(1))
    assert grants(rsps) == ["password", "refresh_token"]
    assert len(calls_to(rsps, PRODUCTS)) == 1  # the refused token is not offered again


# a secret and a password with characters that JSON, PHP and URLs escape differently
ODD_SECRET = "S/\u00e9+ cr&t-SENTINEL"
ODD_PASSWORD = "P/\u00e4 ss+w%rd-SENTINEL"
ECHOED_FORMS = {
    "secret-as-is": ODD_SECRET,
    "password-as-is": ODD_PASSWORD,
    "secret-json": json.dumps(ODD_SECRET)[1:-1],
    "password-json": json.dumps(ODD_PASSWORD)[1:-1],
    "password-php-json": json.dumps(ODD_PASSWORD)[1:-1].replace("/", "\\/"),
    "secret-url-encoded": quote(ODD_SECRET, safe=""),
    "password-form-encoded": quote_plus(ODD_PASSWORD),
    "basic-header": base64.b64encode(f"cid:{ODD_SECRET}".encode("latin-1")).decode(),
}


@pytest.mark.parametrize("status", [500, 503, 422, 400], ids=lambda s: str(s))
@pytest.mark.parametrize("form", list(ECHOED_FORMS))
def test_token_answer_echoing_a_secret_is_redacted(
    rsps: responses.RequestsMock,
    fake: FakeTime,
    caplog: pytest.LogCaptureFixture,
    status: int,
    form: str,
) -> None:
    """Regression: a 5xx token answer was quoted unredacted; a 4xx kept the Basic header."""
    caplog.set_level(logging.DEBUG)
    echoed = ECHOED_FORMS[form]
    body = f"Error while handling   {echoed} for you"
    if status == 422:
        body = orjson.dumps({"code": 422, "message": body}).decode()
    rsps.post(TOKEN_URL, status=status, body=body)
    settings = make_settings(max_attempts=2).model_copy(
        update={"client_secret": SecretStr(ODD_SECRET), "password": SecretStr(ODD_PASSWORD)}
    )
    client = AkeneoClient(settings, clock=fake.clock, sleep=fake.sleep, random=lambda: 0.5)
    with pytest.raises((AuthenticationError, RetriableError), match="Error while handling") as info:
        client.authenticate()
    assert "Error while handling" in str(info.value)  # the answer is still quoted
    assert "***" in str(info.value)
    for text in (str(info.value), caplog.text):
        for leaked in ECHOED_FORMS.values():
            assert leaked not in text, (leaked, text)
    if status >= 500:
        assert "retrying in" in caplog.text  # the retry warning was logged, redacted


# --- retries --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "expected_wait"),
    [
        ({"Retry-After": "7"}, 7.0),
        ({"Retry-After": "120"}, 10.0),  # capped at max_retry_delay
        (
            {
                "Retry-After": "Wed, 21 Oct 2015 07:28:04 GMT",
                "Date": "Wed, 21 Oct 2015 07:28:00 GMT",
            },
            4.0,
        ),
        ({}, 1.0),  # no header: backoff_factor * 2**0 * (0.5 + 0.5)
    ],
    ids=["seconds", "seconds-capped", "http-date", "no-header-backoff"],
)
def test_429_waits(
    rsps: responses.RequestsMock, fake: FakeTime, headers: dict[str, str], expected_wait: float
) -> None:
    token_ok(rsps)
    rsps.patch(PRODUCTS, status=429, headers=headers, body="")
    rsps.patch(PRODUCTS, body=ok_lines(2))
    client = make_client(fake)
    assert client.patch_collection("products", lines_of(2)) == [LineResult(204, "")] * 2
    assert fake.sleeps == [expected_wait]
    assert client.stats.retries == 1


def test_5xx_then_success(
    rsps: responses.RequestsMock, fake: FakeTime, caplog: pytest.LogCaptureFixture
) -> None:
    token_ok(rsps)
    rsps.patch(PRODUCTS, status=502, body="<html>Bad gateway</html>")
    rsps.patch(PRODUCTS, status=500, json={"code": 500, "message": "Internal error"})
    rsps.patch(PRODUCTS, body=ok_lines(1))
    with caplog.at_level(logging.WARNING, logger="feed_export.akeneo.retry"):
        results = make_client(fake, max_attempts=5).patch_collection("products", lines_of(1))
    assert results == [LineResult(204, "")]
    assert fake.sleeps == [1.0, 2.0]  # doubles each attempt
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2
    assert "502 Bad Gateway (an HTML error page); retrying in 1.0 s" in warnings[0]
    assert "500 Internal Server Error (Internal error); retrying in 2.0 s" in warnings[1]


def test_backoff_is_capped_and_jittered(rsps: responses.RequestsMock, fake: FakeTime) -> None:
    token_ok(rsps)
    rsps.patch(PRODUCTS, status=503)
    jitter = iter([0.0, 1.0, 0.0, 1.0, 0.5])
    client = AkeneoClient(
        make_settings(max_attempts=6, backoff_factor=2.0, max_retry_delay=20.0),
        clock=fake.clock,
        sleep=fake.sleep,
        random=lambda: next(jitter),
    )
    client.patch_collection("products", lines_of(1))
    # 2*1*0.5, 2*2*1.5, 2*4*0.5, 2*8*1.5 -> capped 20, 2*16*1.0 -> capped 20
    assert fake.sleeps == [1.0, 6.0, 4.0, 20.0, 20.0]


def test_5xx_forever_gives_final_status(rsps: responses.RequestsMock, fake: FakeTime) -> None:
    token_ok(rsps)
    rsps.patch(PRODUCTS, status=503)
    client = make_client(fake)
    results = client.patch_collection("products", lines_of(3))
    assert results == [LineResult(503, "503 Service Unavailable after 3 attempts over 3 s")] * 3
    assert len(calls_to(rsps, PRODUCTS)) == 3
    assert client.stats.retries == 2


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (requests.ConnectTimeout("boom"), "could not connect within 10 s (connect timeout)"),
        (requests.ReadTimeout("boom"), "no answer within 60 s (read timeout)"),
        (
            requests.ConnectionError("connection refused"),
            "connection failed (ConnectionError: connection refused)",
        ),
    ],
    ids=["connect-timeout", "read-timeout", "connection-error"],
)
def test_network_errors_end_as_status_0(
    rsps: responses.RequestsMock, fake: FakeTime, error: Exception, expected: str
) -> None:
    token_ok(rsps)
    rsps.patch(PRODUCTS, body=error)
    results = make_client(fake, max_attempts=2).patch_collection("products", lines_of(2))
    assert results == [LineResult(0, f"{expected} after 2 attempts over 1 s")] * 2


@pytest.mark.parametrize("status", [408, 504], ids=["408", "504"])
def test_retriable_statuses(rsps: responses.RequestsMock, fake: FakeTime, status: int) -> None:
    token_ok(rsps)
    rsps.patch(PRODUCTS, status=status)
    rsps.patch(PRODUCTS, body=ok_lines(1))
    assert make_client(fake).patch_collection("products", lines_of(1)) == [LineResult(204, "")]
    assert len(fake.sleeps) == 1


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (
            400,
            {"code": 400, "message": "Invalid json message received"},
            "Request refused by the PIM (400 Bad Request): Invalid json message received",
        ),
        (
            415,
            {"code": 415, "message": '"application/json" in "Content-Type" header is not valid.'},
            'Request refused by the PIM (415 Unsupported Media Type): "application/json" in '
            '"Content-Type" header is not valid.',
        ),
        (
            403,
            {
                "code": 403,
                "message": "Access forbidden. You are not allowed to create or update products.",
            },
            "Request refused by the PIM (403 Forbidden): Access forbidden. You are not allowed to "
            "create or update products.",
        ),
    ],
    ids=["400", "415", "403-acl"],
)
def test_whole_request_refused(
    rsps: responses.RequestsMock, fake: FakeTime, status: int, body: dict[str, Any], expected: str
) -> None:
    token_ok(rsps)
    rsps.patch(PRODUCTS, status=status, json=body)
    results = make_client(fake).patch_collection("products", lines_of(4))
    assert results == [LineResult(status, expected)] * 4
    assert len(calls_to(rsps, PRODUCTS)) == 1  # not retried, not split
    assert fake.sleeps == []


def test_redirect_is_refused_not_followed(rsps: responses.RequestsMock, fake: FakeTime) -> None:
    token_ok(rsps)
    rsps.patch(PRODUCTS, status=302, headers={"Location": "https://other.test/login"})
    results = make_client(fake).patch_collection("products", lines_of(1))
    assert results[0].status == 302
    assert "check AKENEO_BASE_URL" in results[0].message
    assert len(rsps.calls) == 2


# --- splitting ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (
            413,
            '{"code":413,"message":"Too many resources to process, 100 is the maximum allowed."}',
        ),
        (403, ""),
        (403, "<html><body>Request blocked</body></html>"),
    ],
    ids=["413", "403-empty", "403-html"],
)
def test_too_large_request_is_split(
    rsps: responses.RequestsMock, fake: FakeTime, status: int, body: str
) -> None:
    token_ok(rsps)
    sizes: list[int] = []

    def handler(lines: list[bytes]) -> tuple[int, dict[str, str], str]:
        sizes.append(len(lines))
        if len(lines) > 2:
            return status, {}, body
        objs = [orjson.loads(x) for x in lines]
        return (
            200,
            {},
            stream(
                *(
                    {"line": i, "identifier": o["identifier"], "status_code": 201}
                    for i, o in enumerate(objs, 1)
                )
            ),
        )

    rsps.add_callback(responses.PATCH, PRODUCTS, callback=answer_by_size(handler))
    client = make_client(fake)
    assert client.patch_collection("products", lines_of(5)) == [LineResult(201, "")] * 5
    assert sizes == [5, 2, 3, 1, 2]
    assert client.stats.batch_splits == 2


def test_single_line_too_large_gets_the_status(
    rsps: responses.RequestsMock, fake: FakeTime
) -> None:
    token_ok(rsps)
    rsps.patch(PRODUCTS, status=403, body="")
    results = make_client(fake).patch_collection("products", lines_of(1))
    assert results[0].status == 403
    assert "too large" in results[0].message


# --- reading the streamed answer --------------------------------------------------------


def test_cut_off_stream_resends_only_missing_lines(
    rsps: responses.RequestsMock, fake: FakeTime
) -> None:
    token_ok(rsps)
    first = ok_lines(3, 201) + '\n{"line":4,"identifier":"sku4","stat'
    rsps.patch(PRODUCTS, body=first)
    rsps.patch(
        PRODUCTS,
        body=stream(
            {"line": 1, "identifier": "sku4", "status_code": 204},
            {"line": 2, "identifier": "sku5", "status_code": 422, "message": "Boom."},
        ),
    )
    client = make_client(fake)
    results = client.patch_collection("products", lines_of(5))
    assert results == [LineResult(201, "")] * 3 + [LineResult(204, ""), LineResult(422, "Boom.")]
    second = calls_to(rsps, PRODUCTS)[1].request.body
    assert second == b'{"identifier":"sku4"}\n{"identifier":"sku5"}'
    assert client.stats.lines_resent == 2


def test_cut_off_stream_until_the_budget_ends(rsps: responses.RequestsMock, fake: FakeTime) -> None:
    token_ok(rsps)
    rsps.patch(PRODUCTS, body=ok_lines(1))
    rsps.patch(PRODUCTS, body="")
    results = make_client(fake, max_attempts=2).patch_collection("products", lines_of(3))
    assert results[0] == LineResult(204, "")
    assert results[1] == results[2]
    assert results[1].status == 0
    assert results[1].message == (
        "no answer for this line: the PIM answered 0 of 2 lines after 2 attempts over 1 s"
    )


class _BreakingRaw:
    """A response body that yields ``parts`` and then loses the connection."""

    def __init__(self, parts: list[bytes]) -> None:
        self._parts = parts

    def stream(self, amt: int, decode_content: bool = True) -> Iterator[bytes]:
        yield from self._parts
        raise urllib3.exceptions.ProtocolError("Connection broken: connection reset by peer")

    def close(self) -> None:
        pass


class _ScriptedAdapter(requests.adapters.BaseAdapter):
    """Answers each request with the next scripted body (a list of parts, then a break)."""

    def __init__(self, script: list[list[bytes]]) -> None:
        super().__init__()
        self.script = script
        self.bodies: list[bytes] = []

    def send(
        self, request: requests.PreparedRequest, *args: Any, **kwargs: Any
    ) -> requests.Response:
        self.bodies.append(request.body if isinstance(request.body, bytes) else b"")
        response = requests.Response()
        response.status_code = 200
        response.headers = requests.structures.CaseInsensitiveDict(
            {"Content-Type": COLLECTION_CONTENT_TYPE}
        )
        response.raw = _BreakingRaw(self.script.pop(0))
        response.request = request
        response.url = request.url or ""
        return response

    def close(self) -> None:
        pass


def test_dropped_connection_keeps_lines_already_read(
    rsps: responses.RequestsMock, fake: FakeTime
) -> None:
    token_ok(rsps)
    first = ok_lines(3, 201).encode()
    adapter = _ScriptedAdapter(
        [
            [first[:40], first[40:90]],  # the connection drops in the middle of line 2
            [b'{"line":1,"status_code":204}\n{"line":2,"status_code":204}'],
        ]
    )
    session = requests.Session()
    session.mount(PRODUCTS, adapter)  # the token still goes to the responses mock
    client = AkeneoClient(
        make_settings(), session=session, clock=fake.clock, sleep=fake.sleep, random=lambda: 0.5
    )
    results = client.patch_collection("products", lines_of(3))
    assert results == [LineResult(201, ""), LineResult(204, ""), LineResult(204, "")]
    assert adapter.bodies[1] == b'{"identifier":"sku2"}\n{"identifier":"sku3"}'
    assert client.stats.lines_resent == 2


@pytest.mark.parametrize(
    "tail",
    [
        "\n<!DOCTYPE html><html><body>500 Internal Server Error</body></html>",
        "<!DOCTYPE html>\n<html><body>\nFatal error\n</body></html>",
    ],
    ids=["html-on-its-own-lines", "html-glued-to-last-line"],
)
def test_trailing_html_page_is_ignored(
    rsps: responses.RequestsMock, fake: FakeTime, tail: str
) -> None:
    token_ok(rsps)
    rsps.patch(PRODUCTS, body=ok_lines(2) + tail)
    client = make_client(fake)
    assert client.patch_collection("products", lines_of(2)) == [LineResult(204, "")] * 2
    assert len(calls_to(rsps, PRODUCTS)) == 1


def test_code_instead_of_status_code(rsps: responses.RequestsMock, fake: FakeTime) -> None:
    url = f"{BASE}/api/rest/v1/products-uuid"
    token_ok(rsps)
    rsps.patch(
        url,
        body=stream(
            {
                "line": 1,
                "uuid": "fc24e6c3-933c-4a93-8a81-e5c703d134d5",
                "code": 422,
                "message": "The a_metric attribute does not exist in your PIM.",
                "_links": {"documentation": {"href": "http://api.akeneo.com/"}},
            },
            {"line": 2, "uuid": "1b1e3f4a-0c3b-4b8e-9a55-0d8e6c4b9f11", "status_code": 201},
        ),
    )
    results = make_client(fake).patch_collection("products-uuid", lines_of(2))
    assert results == [
        LineResult(422, "The a_metric attribute does not exist in your PIM."),
        LineResult(201, ""),
    ]


def test_create_missing_options_query(rsps: responses.RequestsMock, fake: FakeTime) -> None:
    url = f"{BASE}/api/rest/v1/product-models"
    token_ok(rsps)
    rsps.patch(url, body=ok_lines(1))
    client = make_client(fake)
    client.patch_collection("product-models", lines_of(1), create_missing_options=True)
    client.patch_collection("product-models", lines_of(1))
    first, second = calls_to(rsps, url)
    assert parse_qs(urlsplit(first.request.url).query) == {"create_missing_options": ["true"]}
    assert urlsplit(second.request.url).query == ""


def test_no_lines_sends_nothing(rsps: responses.RequestsMock, fake: FakeTime) -> None:
    assert make_client(fake).patch_collection("products", []) == []
    assert len(rsps.calls) == 0


# --- catalog ------------------------------------------------------------------------------


def _page(items: list[dict[str, Any]], next_href: str | None) -> dict[str, Any]:
    links: dict[str, Any] = {"self": {"href": "x"}}
    if next_href:
        links["next"] = {"href": next_href}
    return {"_links": links, "current_page": 1, "_embedded": {"items": items}}


def _item(code: str, **extra: Any) -> dict[str, Any]:
    return {"_links": {"self": {"href": f"{BASE}/x/{code}"}}, "code": code, **extra}


def _catalog_mocks(rsps: responses.RequestsMock) -> None:
    token_ok(rsps)
    api = f"{BASE}/api/rest/v1"
    rsps.get(f"{api}/channels", json=_page([_item("ecommerce", locales=["en_US"])], None))
    rsps.get(
        f"{api}/locales",
        json=_page([_item("en_US", enabled=True), _item("fr_FR", enabled=False)], None),
    )
    rsps.get(f"{api}/currencies", json=_page([_item("EUR", enabled=True)], None))
    rsps.get(
        f"{api}/measurement-families",
        json=[
            {
                "_links": {"self": {"href": "x"}},
                "code": "AREA",
                "standard_unit_code": "SQUARE_METER",
                "units": {},
            }
        ],
    )


def test_fetch_catalog_follows_pages_until_empty(
    rsps: responses.RequestsMock, fake: FakeTime
) -> None:
    _catalog_mocks(rsps)
    api = f"{BASE}/api/rest/v1"
    # the PIM may advertise another host in its links: follow the path on our base URL
    rsps.get(
        f"{api}/attributes",
        json=_page(
            [_item("a"), _item("b")], "http://internal:8080/api/rest/v1/attributes?page=2&limit=2"
        ),
        match=[responses.matchers.query_param_matcher({"limit": "100"})],
    )
    rsps.get(
        f"{api}/attributes",
        json=_page([_item("c"), _item("d")], f"{api}/attributes?page=3&limit=2"),
        match=[responses.matchers.query_param_matcher({"page": "2", "limit": "2"})],
    )
    rsps.get(
        f"{api}/attributes",
        json=_page([], None),
        match=[responses.matchers.query_param_matcher({"page": "3", "limit": "2"})],
    )
    catalog = make_client(fake).fetch_catalog()
    assert [a["code"] for a in catalog["attributes"]] == ["a", "b", "c", "d"]
    assert catalog["locales"] == [
        {"code": "en_US", "enabled": True},
        {"code": "fr_FR", "enabled": False},
    ]
    assert catalog["channels"] == [{"code": "ecommerce", "locales": ["en_US"]}]
    assert catalog["currencies"] == [{"code": "EUR", "enabled": True}]
    assert catalog["measurement_families"] == [
        {"code": "AREA", "standard_unit_code": "SQUARE_METER", "units": {}}
    ]
    assert set(catalog) == {
        "attributes",
        "channels",
        "locales",
        "currencies",
        "measurement_families",
    }
    assert all(urlsplit(c.request.url).netloc == "pim.test" for c in rsps.calls)
    assert all(c.request.headers["Authorization"] == "Bearer tok1" for c in list(rsps.calls)[1:])


def test_fetch_catalog_searches_codes_in_chunks(
    rsps: responses.RequestsMock, fake: FakeTime
) -> None:
    _catalog_mocks(rsps)
    searched: list[list[str]] = []

    def attributes(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        query = parse_qs(urlsplit(request.url or "").query)
        assert query["limit"] == ["100"]
        codes = orjson.loads(query["search"][0])["code"][0]["value"]
        assert orjson.loads(query["search"][0])["code"][0]["operator"] == "IN"
        searched.append(codes)
        items = [_item(c) for c in codes if c != "unknown"]
        return 200, {}, orjson.dumps(_page(items, None)).decode()

    rsps.add_callback(responses.GET, f"{BASE}/api/rest/v1/attributes", callback=attributes)
    codes = [f"attr_{i}" for i in range(150)] + ["attr_0", "unknown"]
    catalog = make_client(fake).fetch_catalog(codes)
    assert [len(chunk) for chunk in searched] == [100, 51]  # duplicates sent once
    assert len(catalog["attributes"]) == 150
    assert "_links" not in catalog["attributes"][0]


def test_search_chunks_respect_url_length(rsps: responses.RequestsMock, fake: FakeTime) -> None:
    _catalog_mocks(rsps)
    lengths: list[int] = []

    def attributes(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        lengths.append(len(request.url or ""))
        return 200, {}, orjson.dumps(_page([], None)).decode()

    rsps.add_callback(responses.GET, f"{BASE}/api/rest/v1/attributes", callback=attributes)
    make_client(fake).fetch_catalog([f"{'x' * 90}_{i}" for i in range(100)])
    assert len(lengths) > 1
    assert max(lengths) < 8000


def test_fetch_catalog_with_families(rsps: responses.RequestsMock, fake: FakeTime) -> None:
    _catalog_mocks(rsps)
    rsps.get(f"{BASE}/api/rest/v1/attributes", json=_page([], None))
    rsps.get(f"{BASE}/api/rest/v1/families", json=_page([_item("shoes", attributes=["sku"])], None))
    catalog = make_client(fake).fetch_catalog([], families=True)
    assert catalog["families"] == [{"code": "shoes", "attributes": ["sku"]}]
    assert catalog["attributes"] == []


def test_catalog_read_errors(rsps: responses.RequestsMock, fake: FakeTime) -> None:
    token_ok(rsps)
    rsps.get(
        f"{BASE}/api/rest/v1/channels",
        status=403,
        json={"code": 403, "message": "Access forbidden. You are not allowed to list channels."},
    )
    rsps.get(f"{BASE}/api/rest/v1/locales", status=503)
    client = make_client(fake)
    with pytest.raises(
        TransportError, match="GET /api/rest/v1/channels: 403 Forbidden \\(Access forbidden"
    ):
        list(client.list_items("channels"))
    with pytest.raises(RetriableError, match="503 Service Unavailable after 3 attempts over 3 s"):
        list(client.list_items("locales"))


def test_catalog_page_that_is_not_a_list(rsps: responses.RequestsMock, fake: FakeTime) -> None:
    token_ok(rsps)
    rsps.get(f"{BASE}/api/rest/v1/channels", json={"hello": "world"})
    with pytest.raises(TransportError, match="not an Akeneo list page"):
        list(make_client(fake).list_items("channels"))


# --- secrets ------------------------------------------------------------------------------


def test_secrets_never_in_logs_messages_or_reprs(
    rsps: responses.RequestsMock, fake: FakeTime, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    token_ok(rsps, "tok1", "ref1", expires_in=10)
    rsps.post(
        TOKEN_URL,
        status=422,
        json={"code": 422, "message": "Refresh token is invalid or has expired"},
    )
    rsps.post(TOKEN_URL, status=503)
    # a (hypothetical) PIM that echoes the password back must not leak it either
    rsps.post(TOKEN_URL, status=422, json={"code": 422, "message": f"{PWD_REJECTED} ({PASSWORD})"})
    rsps.patch(PRODUCTS, status=500, body=f"<html>{SECRET}</html>")
    rsps.patch(PRODUCTS, body=ok_lines(1))
    client = make_client(fake)
    results = client.patch_collection("products", lines_of(1))
    fake.now += 60  # expired: refresh refused, then the password is refused
    with pytest.raises(AuthenticationError, match=r"refused to log in \(422: ") as info:
        client.patch_collection("products", lines_of(1))
    texts = [
        caplog.text,
        str(info.value),
        repr(client),
        repr(client._auth),
        repr(client.stats),
        str(results),
    ]
    texts.append(repr(make_settings()))
    for text in texts:
        assert SECRET not in text
        assert PASSWORD not in text
        assert "tok1" not in text and "ref1" not in text
    assert "***" in str(info.value)
    assert caplog.records  # something was logged at DEBUG and WARNING


# --- the start-up check: authenticate(quick=True) -----------------------------------------


class _DeadPim(requests.Session):
    """A session whose token requests fail with ``errors`` in turn; records the timeouts."""

    def __init__(self, *errors: BaseException) -> None:
        super().__init__()
        self.errors = list(errors)
        self.timeouts: list[tuple[float, float]] = []

    def post(self, url: Any, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        self.timeouts.append(kwargs["timeout"])
        error = self.errors.pop(0) if len(self.errors) > 1 else self.errors[0]
        raise error


def _refused() -> requests.ConnectionError:
    """What requests raises for a closed port, with urllib3's chain of causes."""
    reason = urllib3.exceptions.NewConnectionError(None, "Failed to establish a new connection")  # type: ignore[arg-type]
    reason.__cause__ = ConnectionRefusedError(111, "Connection refused")
    pool = urllib3.exceptions.MaxRetryError(None, "/api/oauth/v1/token", reason)  # type: ignore[arg-type]
    return requests.ConnectionError(pool)


@pytest.mark.parametrize(
    ("errors", "attempts", "says"),
    [
        ([_refused()], 2, "cannot connect to the PIM at pim.test (connection refused): check AKENEO_BASE_URL and that the PIM is running"),
        ([requests.ConnectTimeout("pool says")], 2, "the PIM at pim.test did not accept a connection within 5 s"),
        ([requests.ReadTimeout("pool says")], 1, "the PIM at pim.test took the connection but did not answer the login within 10 s"),
        ([requests.exceptions.SSLError("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed certificate (_ssl.c:1006)")], 2, "failed the TLS check (self-signed certificate): check AKENEO_BASE_URL, or pass --no-verify-tls"),
        ([requests.ConnectionError(OSError("Name or service not known"))], 2, "cannot connect to the PIM at pim.test (the connection failed)"),
        ([_refused(), requests.ReadTimeout("pool says")], 2, "did not answer the login within 10 s"),
    ],
    ids=["refused", "connect-timeout", "read-timeout-no-second-try", "tls", "other", "refused-then-silent"],
)  # fmt: skip
def test_quick_login_gives_up_within_15_s_in_one_plain_sentence(
    fake: FakeTime, errors: list[BaseException], attempts: int, says: str
) -> None:
    session = _DeadPim(*errors)
    client = AkeneoClient(
        make_settings(max_attempts=6), session=session, clock=fake.clock, sleep=fake.sleep
    )
    with pytest.raises(RetriableError, match="PIM") as caught:
        client.authenticate(quick=True)
    message = str(caught.value)
    assert says in message
    for library_text in ("HTTPConnectionPool", "Max retries", "urllib3", "pool says", "_ssl.c"):
        assert library_text not in message
    assert len(session.timeouts) == attempts
    assert all(t == (5.0, 10.0) for t in session.timeouts)
    # a host that never answers costs its connect timeouts and the wait between them; a
    # PIM that takes the connection and stays silent costs one read timeout, not two
    assert sum(t[0] for t in session.timeouts) + sum(fake.sleeps) <= 15


def test_quick_login_does_not_wait_for_retry_after(
    rsps: responses.RequestsMock, fake: FakeTime
) -> None:
    for _ in range(2):
        rsps.post(TOKEN_URL, status=503, headers={"Retry-After": "120"}, body="down")
    client = make_client(fake, max_attempts=6)
    with pytest.raises(
        RetriableError, match=r"the PIM at pim.test is not available \(503 Service Unavailable\)"
    ):
        client.authenticate(quick=True)
    assert len(grants(rsps)) == 2 and sum(fake.sleeps) <= 1


@pytest.mark.parametrize(
    ("answers", "status"),
    [([503, 503], 503), ([502, 504], 504), ([None, 503], 503), ([503, None], 0)],
    ids=["503-twice", "the-last-status", "refused-then-503", "503-then-refused"],
)
def test_quick_login_keeps_the_last_status(
    rsps: responses.RequestsMock,
    fake: FakeTime,
    monkeypatch: pytest.MonkeyPatch,
    answers: list[int | None],
    status: int,
) -> None:
    """The start-up check's error carries the status of the last try (0: no answer)."""
    monkeypatch.setattr("feed_export.akeneo.client.QUICK_RETRY_WAIT", 1.5)
    for answer in answers:
        if answer is None:
            rsps.post(TOKEN_URL, body=requests.ConnectionError("refused"))
        else:
            rsps.post(TOKEN_URL, status=answer, body="down")
    with pytest.raises(RetriableError, match=r"the PIM at pim\.test") as caught:
        make_client(fake, max_attempts=6).authenticate(quick=True)
    assert caught.value.status == status
    assert fake.sleeps == [1.5]


def test_quick_login_logs_the_second_try_once(
    fake: FakeTime, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("feed_export.akeneo.client.QUICK_RETRY_WAIT", 1.5)
    session = _DeadPim(_refused())
    client = AkeneoClient(make_settings(), session=session, clock=fake.clock, sleep=fake.sleep)
    with (
        caplog.at_level(logging.DEBUG, logger="feed_export.akeneo.client"),
        pytest.raises(RetriableError, match="connection refused"),
    ):
        client.authenticate(quick=True)
    said = [r.getMessage() for r in caplog.records if r.name == "feed_export.akeneo.client"]
    assert said == [
        "cannot connect to the PIM at pim.test (connection refused): check AKENEO_BASE_URL "
        "and that the PIM is running; trying once more in 1.5 s"
    ]
    assert client.stats.retries == 1


def test_quick_login_refused_credentials_say_what_to_check(
    rsps: responses.RequestsMock, fake: FakeTime
) -> None:
    rsps.post(TOKEN_URL, status=422, json={"code": 422, "message": PWD_REJECTED})
    with pytest.raises(AuthenticationError, match="check AKENEO_USERNAME and AKENEO_PASSWORD"):
        make_client(fake).authenticate(quick=True)
    assert len(grants(rsps)) == 1  # refused credentials are not tried again


def test_an_answer_naming_another_product_gives_unknown_never_its_verdict(
    rsps: responses.RequestsMock, fake: FakeTime, caplog: pytest.LogCaptureFixture
) -> None:
    """A proxy that adds a line first: line 1's answer names sku3 (issue 11)."""
    token_ok(rsps)
    rsps.patch(
        PRODUCTS,
        body=stream(
            {"line": 1, "identifier": "sku3", "status_code": 422, "message": "Bad."},
            {"line": 1, "identifier": "sku1", "status_code": 201},
            {"line": 2, "identifier": "SKU2", "status_code": 204},  # the PIM's case: same product
            {"line": 3, "status_code": 400, "message": "Invalid json message received"},
        ),
    )
    with caplog.at_level(logging.WARNING, logger="feed_export.akeneo.client"):
        results = make_client(fake).patch_collection("products", lines_of(3))
    assert results == [
        LineResult(
            0,
            'Unknown: the PIM\'s answer named another product ("sku3" instead of "sku1"); '
            "the PIM may or may not have saved this row",
        ),
        LineResult(204, ""),
        LineResult(400, "Invalid json message received"),  # names nothing: trusted by its line
    ]
    assert [r.getMessage() for r in caplog.records] == [
        'PATCH /api/rest/v1/products: the answer to line 1 names product "sku3", but that line '
        'sent "sku1": its row is Unknown'
    ]


def test_product_model_answers_are_checked_by_code(
    rsps: responses.RequestsMock, fake: FakeTime
) -> None:
    token_ok(rsps)
    rsps.patch(
        f"{BASE}/api/rest/v1/product-models",
        body=stream(
            {"line": 1, "code": "tee-blue", "status_code": 201},
            {"line": 2, "code": "tee-blue", "status_code": 201},
        ),
    )
    lines = [orjson.dumps({"code": "tee-blue"}), orjson.dumps({"code": "tee-red"})]
    results = make_client(fake).patch_collection("product-models", lines)
    assert results[0] == LineResult(201, "")
    assert results[1].status == 0
    assert results[1].message.startswith(
        'Unknown: the PIM\'s answer named another product model ("tee-blue" instead of "tee-red")'
    )


def test_catalog_sections_read_what_a_dry_run_needs(
    rsps: responses.RequestsMock, fake: FakeTime
) -> None:
    """Families with their variants, the select attributes' options page by page, categories
    as codes, association types, where each product model sits (issue 11)."""
    import io

    from feed_export.catalog.structure import Catalog, write_catalog

    _catalog_mocks(rsps)
    api = f"{BASE}/api/rest/v1"
    rsps.get(
        f"{api}/attributes",
        json=_page([_item("color", type="pim_catalog_simpleselect"), _item("name", type="pim_catalog_text")], None),
    )  # fmt: skip
    rsps.get(f"{api}/families", json=_page([_item("shirts", attributes=["color"])], None))
    rsps.get(
        f"{api}/families/shirts/variants",
        json=_page([_item("by_color", variant_attribute_sets=[{"level": 1, "axes": ["color"]}])], None),
    )  # fmt: skip
    rsps.get(f"{api}/categories", json=_page([_item("men", parent=None), _item("sale")], None))
    rsps.get(f"{api}/association-types", json=_page([_item("PACK", is_quantified=True)], None))
    rsps.get(
        f"{api}/attributes/color/options",
        json=_page([_item("red"), _item("blue")], f"{api}/attributes/color/options?page=2"),
        match=[responses.matchers.query_param_matcher({"limit": "100"})],
    )
    rsps.get(
        f"{api}/attributes/color/options",
        json=_page([_item("Green")], None),
        match=[responses.matchers.query_param_matcher({"page": "2"})],
    )
    rsps.get(
        f"{api}/product-models",
        json=_page([_item("tee", family_variant="by_color", parent=None, values={"x": 1})], None),
        match=[
            responses.matchers.query_param_matcher(
                {"limit": "100", "pagination_type": "search_after"}
            )
        ],
    )
    rsps.get(
        f"{api}/asset-families",
        json=_page([_item("packshots", attribute_as_main_media="media")], None),
    )
    rsps.get(
        f"{api}/asset-families/packshots/attributes",
        json=[{"code": "media", "type": "media_file", "_links": {}}],
    )
    sections = make_client(fake).catalog_sections()
    out = io.StringIO()
    counts = write_catalog(out, sections)
    assert counts["attribute_options"] == 3 and counts["product_models"] == 1
    assert counts["asset_families"] == 1 and counts["asset_attributes"] == 1
    written = json.loads(out.getvalue())
    assert written["attribute_options"] == {"color": ["red", "blue", "Green"]}
    assert written["categories"] == ["men", "sale"]
    assert written["association_types"] == [{"code": "PACK", "is_quantified": True}]
    assert written["family_variants"] == [
        {"code": "by_color", "variant_attribute_sets": [{"level": 1, "axes": ["color"]}],
         "family": "shirts"}
    ]  # fmt: skip
    assert written["product_models"] == [
        {"code": "tee", "family_variant": "by_color", "parent": None}  # no values
    ]
    catalog = Catalog.from_dict(written)
    assert catalog.options("COLOR") == {"red": "red", "blue": "blue", "green": "Green"}
    assert catalog.product_model("TEE") is not None and catalog.category("SALE") == "sale"
    media = catalog.main_media("packshots")
    assert media is not None and media.type == "media_file"


def test_catalog_sections_leave_out_what_is_asked(
    rsps: responses.RequestsMock, fake: FakeTime
) -> None:
    _catalog_mocks(rsps)
    rsps.get(f"{BASE}/api/rest/v1/attributes", json=_page([], None))
    sections = make_client(fake).catalog_sections(
        [], without=["families", "family_variants", "attribute_options", "categories",
                     "association_types", "product_models", "asset_families"]
    )  # fmt: skip
    assert set(sections) == {"attributes", "channels", "locales", "currencies",
                             "measurement_families"}  # fmt: skip
    with pytest.raises(ValueError, match="unknown catalog sections"):
        make_client(fake).catalog_sections([], without=["values"])


def test_product_models_by_code_then_one_by_one_for_another_case(
    rsps: responses.RequestsMock, fake: FakeTime
) -> None:
    token_ok(rsps)
    api = f"{BASE}/api/rest/v1"
    searched: list[Any] = []

    def search(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        query = parse_qs(urlsplit(request.url or "").query)
        searched.append(orjson.loads(query["search"][0]))
        items = [_item("tee", family_variant="fv", parent=None)]
        return 200, {}, orjson.dumps(_page(items, None)).decode()

    rsps.add_callback(responses.GET, f"{api}/product-models", callback=search)
    rsps.get(f"{api}/product-models/TEE-RED", json={"code": "tee-red", "parent": "tee"})
    rsps.get(
        f"{api}/product-models/nosuch",
        status=404,
        json={"code": 404, "message": 'Product model "nosuch" does not exist.'},
    )
    found = list(make_client(fake).product_models(["tee", "TEE-RED", "nosuch", "tee"]))
    assert searched == [{"identifier": [{"operator": "IN", "value": ["tee", "TEE-RED", "nosuch"]}]}]
    assert found == [
        {"code": "tee", "family_variant": "fv", "parent": None},
        {"code": "tee-red", "family_variant": None, "parent": "tee"},
    ]
