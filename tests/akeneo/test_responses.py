"""Tests for feed_export.akeneo.responses: the one classifier, the messages, the PATCH answer reader."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import requests.structures
import urllib3

from feed_export.akeneo.responses import (
    ERROR_BODY_LIMIT,
    Action,
    LineResult,
    Verdict,
    _causes,
    answer_key,
    classify,
    describe_exception,
    describe_response,
    is_success,
    line_result,
    parse_retry_after,
    read_answers,
    read_capped,
    read_verdict,
    render_error,
    status_phrase,
    unreachable_reason,
)
from feed_export.errors import RetriableError

AKENEO_403 = '{"code":403,"message":"Access forbidden. You are not allowed to list channels."}'
AKENEO_413 = '{"code":413,"message":"Too many resources to process, 100 is the maximum allowed."}'
HTML = "<!DOCTYPE html><html><body><h1>Oops</h1></body></html>"


class _Raw:
    """A response body that yields ``parts``, then (if ``broken``) loses the connection."""

    def __init__(self, parts: list[bytes], broken: bool) -> None:
        self.parts = parts
        self.broken = broken
        self.read_parts = 0
        self.closed = False
        self.asked: list[int | None] = []  # the chunk size of each read

    def stream(self, amt: int | None, decode_content: bool = True) -> Iterator[bytes]:
        self.asked.append(amt)
        for part in self.parts:
            self.read_parts += 1
            yield part
        if self.broken:
            raise urllib3.exceptions.ProtocolError("Connection broken: connection reset by peer")

    def close(self) -> None:
        self.closed = True

    def release_conn(self) -> None:  # what Response.close calls once the body was read
        self.closed = True


def make_response(
    status: int,
    *parts: bytes,
    headers: dict[str, str] | None = None,
    broken: bool = False,
    encoding: str | None = None,
) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response.headers = requests.structures.CaseInsensitiveDict(headers or {})
    response.raw = _Raw(list(parts), broken)
    response.encoding = encoding
    return response


def raw_of(response: requests.Response) -> _Raw:
    assert isinstance(response.raw, _Raw)
    return response.raw


# --- the classifier -------------------------------------------------------------------------

# id, status, body, headers -> action, message, pim_message, retry_after, location
CLASSIFY = [
    ("200", 200, "", {}, Action.SUCCESS, "", None, None, None),
    ("201-body-not-read", 201, HTML, {}, Action.SUCCESS, "", None, None, None),
    ("204", 204, "", {}, Action.SUCCESS, "", None, None, None),
    ("299-last-2xx", 299, "", {}, Action.SUCCESS, "", None, None, None),
    ("199-below-2xx", 199, "", {}, Action.REFUSED, "199", None, None, None),
    (
        "300-first-3xx",
        300,
        "",
        {"Location": "/x"},
        Action.REDIRECT,
        "300 Multiple Choices",
        None,
        None,
        "/x",
    ),
    (
        "302",
        302,
        "",
        {"Location": "https://other.test/login"},
        Action.REDIRECT,
        "302 Found",
        None,
        None,
        "https://other.test/login",
    ),
    ("304", 304, "", {}, Action.REDIRECT, "304 Not Modified", None, None, None),
    (
        "301-akeneo-json",
        301,
        '{"code":301,"message":"Moved."}',
        {"Location": "/new"},
        Action.REDIRECT,
        "301 Moved Permanently (Moved.)",
        "Moved.",
        None,
        "/new",
    ),
    ("399-last-3xx", 399, "", {"Location": "/y"}, Action.REDIRECT, "399", None, None, "/y"),
    (
        "400-json",
        400,
        '{"code":400,"message":"Invalid json message received"}',
        {},
        Action.REFUSED,
        "400 Bad Request (Invalid json message received)",
        "Invalid json message received",
        None,
        None,
    ),
    (
        "400-html",
        400,
        HTML,
        {},
        Action.REFUSED,
        "400 Bad Request (an HTML error page)",
        None,
        None,
        None,
    ),
    (
        "404-text",
        404,
        "no such thing\n",
        {},
        Action.REFUSED,
        "404 Not Found (no such thing)",
        None,
        None,
        None,
    ),
    ("409-empty", 409, "", {"Retry-After": "5"}, Action.REFUSED, "409 Conflict", None, None, None),
    (
        "401",
        401,
        '{"code":401,"message":"The access token provided has expired."}',
        {},
        Action.RENEW_TOKEN,
        "401 Unauthorized (The access token provided has expired.)",
        "The access token provided has expired.",
        None,
        None,
    ),
    (
        "403-akeneo",
        403,
        AKENEO_403,
        {},
        Action.REFUSED,
        "403 Forbidden (Access forbidden. You are not allowed to list channels.)",
        "Access forbidden. You are not allowed to list channels.",
        None,
        None,
    ),
    ("403-empty", 403, "", {}, Action.TOO_LARGE, "403 Forbidden", None, None, None),
    (
        "403-html",
        403,
        HTML,
        {},
        Action.TOO_LARGE,
        "403 Forbidden (an HTML error page)",
        None,
        None,
        None,
    ),
    (
        "403-text",
        403,
        "Request blocked",
        {},
        Action.TOO_LARGE,
        "403 Forbidden (Request blocked)",
        None,
        None,
        None,
    ),
    (
        "403-json-without-message",
        403,
        '{"error":"blocked"}',
        {},
        Action.TOO_LARGE,
        '403 Forbidden ({"error":"blocked"})',
        None,
        None,
        None,
    ),
    (
        "413-akeneo",
        413,
        AKENEO_413,
        {},
        Action.TOO_LARGE,
        f"{status_phrase(413)} (Too many resources to process, 100 is the maximum allowed.)",
        "Too many resources to process, 100 is the maximum allowed.",
        None,
        None,
    ),
    ("413-empty", 413, "", {}, Action.TOO_LARGE, status_phrase(413), None, None, None),
    ("408", 408, "", {}, Action.RETRY, "408 Request Timeout", None, None, None),
    (
        "429-retry-after",
        429,
        "",
        {"Retry-After": "7"},
        Action.RETRY,
        "429 Too Many Requests",
        None,
        7.0,
        None,
    ),
    (
        "500-json",
        500,
        '{"code":500,"message":"Internal error"}',
        {},
        Action.RETRY,
        "500 Internal Server Error (Internal error)",
        "Internal error",
        None,
        None,
    ),
    (
        "502-html",
        502,
        HTML,
        {},
        Action.RETRY,
        "502 Bad Gateway (an HTML error page)",
        None,
        None,
        None,
    ),
    (
        "503-http-date",
        503,
        "",
        {"Retry-After": "Wed, 21 Oct 2015 07:28:04 GMT", "Date": "Wed, 21 Oct 2015 07:28:00 GMT"},
        Action.RETRY,
        "503 Service Unavailable",
        None,
        4.0,
        None,
    ),
    (
        "504-text",
        504,
        "upstream timed out",
        {},
        Action.RETRY,
        "504 Gateway Timeout (upstream timed out)",
        None,
        None,
        None,
    ),
    ("599-last-5xx", 599, "", {}, Action.RETRY, "599", None, None, None),
    ("499-not-retried", 499, "", {}, Action.REFUSED, "499", None, None, None),
    ("600-not-retried", 600, "", {}, Action.REFUSED, "600", None, None, None),
]


@pytest.mark.parametrize(
    ("status", "text", "headers", "action", "message", "pim_message", "retry_after", "location"),
    [case[1:] for case in CLASSIFY],
    ids=[case[0] for case in CLASSIFY],
)
def test_classify(
    status: int,
    text: str,
    headers: dict[str, str],
    action: Action,
    message: str,
    pim_message: str | None,
    retry_after: float | None,
    location: str | None,
) -> None:
    assert classify(status, text, headers) == Verdict(
        action, status, message, pim_message, retry_after, location
    )


def test_classify_without_headers() -> None:
    assert classify(503) == Verdict(Action.RETRY, 503, "503 Service Unavailable")
    assert classify(302, "") == Verdict(Action.REDIRECT, 302, "302 Found")


@pytest.mark.parametrize(
    ("status", "expected"),
    [(199, False), (200, True), (250, True), (299, True), (300, False)],
    ids=["199", "200", "250", "299", "300"],
)
def test_is_success(status: int, expected: bool) -> None:
    assert is_success(status) is expected


def test_verdict_reason_and_retry_error() -> None:
    refused = classify(400, '{"code":400,"message":"Bad."}')
    assert refused.reason == "Bad."
    assert classify(400, HTML).reason == "400 Bad Request (an HTML error page)"
    error = classify(429, "", {"Retry-After": "3"}).retry_error("token request: ")
    assert isinstance(error, RetriableError)
    assert (str(error), error.status, error.retry_after) == (
        "token request: 429 Too Many Requests",
        429,
        3.0,
    )
    plain = classify(502, HTML).retry_error()
    assert (str(plain), plain.status, plain.retry_after) == (
        "502 Bad Gateway (an HTML error page)",
        502,
        None,
    )


# --- reading a response -----------------------------------------------------------------


def test_read_verdict_leaves_a_successful_body_unread() -> None:
    response = make_response(200, b'{"line":1}', b"\n")
    assert read_verdict(response) == Verdict(Action.SUCCESS, 200)
    assert raw_of(response).read_parts == 0
    assert not raw_of(response).closed
    assert b"".join(response.iter_content(16)) == b'{"line":1}\n'


def test_read_verdict_reads_and_closes_an_error_body() -> None:
    response = make_response(
        503, b'{"code":503,', b'"message":"Down"}', headers={"Retry-After": "2"}
    )
    assert read_verdict(response) == Verdict(
        Action.RETRY, 503, "503 Service Unavailable (Down)", "Down", 2.0
    )
    assert raw_of(response).closed


def test_read_verdict_keeps_the_location_of_a_redirect() -> None:
    response = make_response(301, headers={"Location": "https://elsewhere.test/"})
    verdict = read_verdict(response)
    assert (verdict.action, verdict.location) == (Action.REDIRECT, "https://elsewhere.test/")


SECRET = "s3cret-SENTINEL"


def _redact(text: str) -> str:
    return text.replace(SECRET, "***")


@pytest.mark.parametrize(
    ("body", "message", "pim_message"),
    [
        # the quote is capped at 200 characters: redacted first, the secret is not cut in two
        (
            "x" * 190 + SECRET + "y" * 20,
            "400 Bad Request (" + "x" * 190 + "***" + "y" * 6 + "…)",
            None,
        ),
        (
            '{"code":400,"message":"bad secret ' + SECRET + '"}',
            "400 Bad Request (bad secret ***)",
            "bad secret ***",
        ),
    ],
    ids=["capped-text", "akeneo-json"],
)
def test_read_verdict_redacts_before_and_after_describing(
    body: str, message: str, pim_message: str | None
) -> None:
    verdict = read_verdict(make_response(400, body.encode()), redact=_redact)
    assert (verdict.message, verdict.pim_message) == (message, pim_message)
    assert SECRET[:5] not in verdict.message


def test_read_verdict_redacts_words_the_body_did_not_hold_as_such() -> None:
    """JSON escapes: the body holds ``s3cret\\u002dSENTINEL``, the PIM's message the secret."""
    body = '{"code":422,"message":"s3cret\\u002dSENTINEL is wrong"}'
    verdict = read_verdict(make_response(422, body.encode()), redact=_redact)
    assert verdict.pim_message == "*** is wrong"
    assert verdict.message == f"{status_phrase(422)} (*** is wrong)"
    assert verdict.action is Action.REFUSED


def test_read_verdict_redacts_a_redirect_and_keeps_its_location() -> None:
    response = make_response(302, SECRET.encode(), headers={"Location": "https://sso.test/"})
    assert read_verdict(response, redact=_redact) == Verdict(
        Action.REDIRECT, 302, "302 Found (***)", None, None, "https://sso.test/"
    )


def test_read_verdict_redacts_a_retriable_answer_too() -> None:
    verdict = read_verdict(
        make_response(503, SECRET.encode(), headers={"Retry-After": "4"}), redact=_redact
    )
    assert verdict == Verdict(Action.RETRY, 503, "503 Service Unavailable (***)", None, 4.0)


@pytest.mark.parametrize(
    ("parts", "limit", "expected", "parts_read"),
    [
        ([b"short"], 100, "short", 1),
        ([b"a" * 60, b"b" * 60], 100, "a" * 60 + "b" * 40, 2),
        ([b"a" * 100, b"never read"], 100, "a" * 100, 1),
        ([b"ab", b"c", b"def"], 3, "abc", 2),
        ([], 100, "", 0),
    ],
    ids=["short", "cut-in-a-chunk", "stops-at-the-limit", "exactly-the-limit", "empty"],
)
def test_read_capped(parts: list[bytes], limit: int, expected: str, parts_read: int) -> None:
    response = make_response(500, *parts)
    assert read_capped(response, limit) == expected
    assert raw_of(response).read_parts == parts_read


def test_read_capped_default_limit_and_encoding() -> None:
    huge = make_response(500, *([b"x" * 8192] * 20))
    assert len(read_capped(huge)) == ERROR_BODY_LIMIT
    assert raw_of(huge).read_parts == ERROR_BODY_LIMIT // 8192
    assert read_capped(make_response(500, "é".encode("latin-1"), encoding="latin-1")) == "é"
    assert read_capped(make_response(500, "é".encode())) == "é"  # UTF-8 when unsaid
    assert read_capped(make_response(500, b"\xff")) == "\ufffd"


def test_bodies_are_read_in_bounded_chunks() -> None:
    """A whole read (chunk size None) would hold a huge page, or lose a cut answer."""
    error = make_response(500, b"x" * 10)
    read_capped(error)
    answer = make_response(200, b'{"line":1,"status_code":201}')
    read_answers(answer)
    for response in (error, answer):
        asked = raw_of(response).asked
        assert len(asked) == 1
        assert isinstance(asked[0], int) and 0 < asked[0] <= 16 * 1024


def test_read_capped_keeps_what_arrived_before_a_dropped_connection() -> None:
    assert read_capped(make_response(502, b"<html>Bad", broken=True)) == "<html>Bad"


# --- messages ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "text", "expected"),
    [
        (
            500,
            '{"code":500,"message":"Internal error"}',
            "500 Internal Server Error (Internal error)",
        ),
        (
            422,
            '{"code":422,"message":"Validation failed.","errors":[{"property":"values","message":"Bad.","attribute":"a"}]}',
            f"{status_phrase(422)} (Validation failed. values[a]: Bad.)",
        ),
        (502, HTML, "502 Bad Gateway (an HTML error page)"),
        (502, "\n  <html>late tag</html>", "502 Bad Gateway (an HTML error page)"),
        (400, "plain   words\nover lines", "400 Bad Request (plain words over lines)"),
        (400, "", "400 Bad Request"),
        (400, " \n\t ", "400 Bad Request"),
        (400, '{"error":"x"}', '400 Bad Request ({"error":"x"})'),
        (400, '["a list"]', '400 Bad Request (["a list"])'),
        (400, '{"message":""}', '400 Bad Request ({"message":""})'),
        (400, '{"message":7}', '400 Bad Request ({"message":7})'),
        (400, "z" * 250, "400 Bad Request (" + "z" * 199 + "…)"),
        (599, "", "599"),
    ],
    ids=[
        "akeneo-message",
        "akeneo-errors",
        "html",
        "html-after-blanks",
        "plain-text",
        "empty",
        "blank",
        "json-without-message",
        "json-array",
        "empty-message",
        "message-not-text",
        "long-text-capped-at-200",
        "unknown-status",
    ],
)
def test_describe_response(status: int, text: str, expected: str) -> None:
    assert describe_response(status, text) == expected


@pytest.mark.parametrize(
    ("status", "expected"),
    [(503, "503 Service Unavailable"), (200, "200 OK"), (599, "599"), (0, "0")],
    ids=["known", "ok", "unknown", "zero"],
)
def test_status_phrase(status: int, expected: str) -> None:
    assert status_phrase(status) == expected


LONG = "w" * 300


@pytest.mark.parametrize(
    ("exc", "timeouts", "expected"),
    [
        (
            requests.ConnectTimeout("boom"),
            (10.0, 60.0),
            "could not connect within 10 s (connect timeout)",
        ),
        (
            requests.ConnectTimeout("boom"),
            (2.5, 60.0),
            "could not connect within 2.5 s (connect timeout)",
        ),
        (requests.ConnectTimeout("boom"), None, "could not connect (connect timeout)"),
        (requests.ReadTimeout("boom"), (10.0, 60.0), "no answer within 60 s (read timeout)"),
        (requests.ReadTimeout("boom"), None, "no answer (read timeout)"),
        (
            requests.exceptions.SSLError("certificate verify failed"),
            None,
            "TLS error (certificate verify failed)",
        ),
        (requests.exceptions.SSLError(LONG), None, f"TLS error ({'w' * 199}…)"),
        (
            requests.exceptions.ChunkedEncodingError("broken"),
            None,
            "connection lost while reading the answer (ChunkedEncodingError)",
        ),
        (
            requests.exceptions.ContentDecodingError("gzip"),
            None,
            "connection lost while reading the answer (ContentDecodingError)",
        ),
        (
            requests.ConnectionError("connection refused"),
            (1.0, 2.0),
            "connection failed (ConnectionError: connection refused)",
        ),
        (
            requests.ConnectionError(LONG),
            None,
            f"connection failed (ConnectionError: {'w' * 199}…)",
        ),
        (
            requests.exceptions.InvalidURL("no host"),
            None,
            "connection failed (InvalidURL: no host)",
        ),
    ],
    ids=[
        "connect-timeout",
        "connect-timeout-fraction",
        "connect-timeout-unknown",
        "read-timeout",
        "read-timeout-unknown",
        "tls",
        "tls-capped",
        "chunked",
        "decoding",
        "connection",
        "connection-capped",
        "other",
    ],
)
def test_describe_exception(
    exc: requests.RequestException, timeouts: tuple[float, float] | None, expected: str
) -> None:
    assert describe_exception(exc, timeouts) == expected


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        ({"line": 1, "status_code": 204}, LineResult(204, "")),
        ({"line": 1, "status_code": 201}, LineResult(201, "")),
        ({"line": 1, "code": 422, "message": "Bad."}, LineResult(422, "Bad.")),
        (
            {"line": 1, "status_code": "413", "message": "Line is too long."},
            LineResult(413, "Line is too long."),
        ),
        (
            {"line": 1, "status_code": 400, "message": "Invalid json message received"},
            LineResult(400, "Invalid json message received"),
        ),
        ({"line": 1, "status_code": 404}, LineResult(404, "404 Not Found")),
        (
            {"line": 1, "message": "?"},
            LineResult(
                0, 'the PIM\'s answer for this line has no status: {"line":1,"message":"?"}'
            ),
        ),
    ],
    ids=["204", "201", "code-fallback", "string-status", "400", "no-message", "no-status"],
)
def test_line_result(obj: dict[str, Any], expected: LineResult) -> None:
    assert line_result(obj) == expected


BRAND = "The tommh value is not in the brand attribute option list."


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        ({"message": "Boom."}, "Boom."),
        (
            {
                "message": "Validation failed.",
                "errors": [
                    {
                        "property": "values",
                        "message": BRAND,
                        "attribute": "brand",
                        "locale": None,
                        "scope": None,
                    }
                ],
            },
            f"Validation failed. values[brand]: {BRAND}",
        ),
        (
            {
                "message": "Validation failed.",
                "errors": [
                    {
                        "property": "values",
                        "message": "Too long.",
                        "attribute": "name",
                        "locale": "en_US",
                        "scope": "ecommerce",
                    },
                    {
                        "property": "values",
                        "message": "Please specify a valid currency",
                        "attribute": "price",
                        "locale": None,
                        "scope": None,
                        "currency": "XYZ",
                    },
                    {
                        "property": "identifier",
                        "message": "This field should not contain any comma",
                    },
                ],
            },
            "Validation failed. values[name, locale=en_US, scope=ecommerce]: Too long. | "
            "values[price, currency=XYZ]: Please specify a valid currency | "
            "identifier: This field should not contain any comma",
        ),
        ({"message": "Oops", "errors": [{"message": "no property"}]}, "Oops: no property"),
        ({"errors": [{"property": "x", "message": "y"}]}, "x: y"),
        # added for mutation testing
        (
            {"errors": [{"property": "x", "message": "y"}, {"property": "z", "message": "w"}]},
            "x: y | z: w",
        ),
        ({"message": "Failed:", "errors": [{"message": "a"}]}, "Failed: a"),
        ({"message": "Failed!", "errors": [{"message": "a"}]}, "Failed! a"),
        ({"message": "Failed?", "errors": [{"message": "a"}]}, "Failed? a"),
        ({"message": "Boom.", "errors": []}, "Boom."),
        ({"message": "Boom.", "errors": "not a list"}, "Boom."),
        ({"message": "Boom.", "errors": ["not an object", {"message": "a"}]}, "Boom. a"),
        ({}, ""),
        ({"message": 5}, ""),
        ({"message": None, "errors": []}, ""),
        ({"errors": [{"attribute": "brand", "message": "Unknown."}]}, "values[brand]: Unknown."),
        (
            {"errors": [{"property": "values", "attribute": "name", "scope": "print"}]},
            'values[name, scope=print]: {"property": "values", "attribute": "name", "scope": "print"}',
        ),
        (
            {"errors": [{"property": "label", "message": None, "locale": "fr_FR", "detail": "é"}]},
            'label[locale=fr_FR]: {"property": "label", "message": null, "locale": "fr_FR", "detail": "é"}',
        ),
        ({"errors": [{"message": "Bare."}]}, "Bare."),
        ({"errors": [{"property": "", "attribute": "", "message": "Bare."}]}, "Bare."),
    ],
    ids=[
        "plain",
        "one-value-error",
        "many-errors",
        "no-final-period",
        "no-message",
        "no-message-two-errors",
        "ends-with-colon",
        "ends-with-bang",
        "ends-with-question-mark",
        "empty-errors",
        "errors-not-a-list",
        "entry-not-an-object",
        "nothing",
        "message-not-text",
        "message-null",
        "attribute-without-property",
        "entry-without-message",
        "entry-message-null-non-ascii",
        "entry-message-only",
        "entry-empty-where",
    ],
)
def test_render_error(obj: dict[str, Any], expected: str) -> None:
    assert render_error(obj) == expected


@pytest.mark.parametrize(
    ("value", "date", "expected"),
    [
        ("15", None, 15.0),
        (" 3 ", None, 3.0),
        ("-5", None, 0.0),
        ("Wed, 21 Oct 2015 07:28:30 GMT", "Wed, 21 Oct 2015 07:28:00 GMT", 30.0),
        ("Wed, 21 Oct 2015 07:28:00 GMT", "Wed, 21 Oct 2015 07:29:00 GMT", 0.0),
        ("Wed, 21 Oct 2015 07:28:00 GMT", None, 0.0),  # in the past by local time
        ("Wed, 21 Oct 2015 07:28:00 GMT", "yesterday", 0.0),  # a bad Date: local time
        ("soon", None, None),
        ("", None, None),
        (None, None, None),
    ],
    ids=[
        "seconds",
        "spaces",
        "negative",
        "date",
        "date-past",
        "date-local",
        "bad-date-header",
        "garbage",
        "empty",
        "absent",
    ],
)
def test_parse_retry_after(value: str | None, date: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, date) == expected


# --- the answer of a collection PATCH -------------------------------------------------------

OK1 = b'{"line":1,"identifier":"a","status_code":201}'
OK2 = b'{"line":2,"identifier":"b","status_code":204}'
BAD3 = b'{"line":3,"identifier":"c","status_code":422,"message":"Bad."}'

# id, body parts, broken -> results by line, interrupted
ANSWERS: list[tuple[str, list[bytes], bool, dict[int, LineResult], str]] = [
    (
        "three-lines",
        [OK1 + b"\n" + OK2 + b"\n" + BAD3],
        False,
        {1: LineResult(201, ""), 2: LineResult(204, ""), 3: LineResult(422, "Bad.")},
        "",
    ),
    (
        "lines-across-chunks",
        [OK1[:10], OK1[10:] + b"\n" + OK2[:5], OK2[5:], b"\n", BAD3],
        False,
        {1: LineResult(201, ""), 2: LineResult(204, ""), 3: LineResult(422, "Bad.")},
        "",
    ),
    (
        "blank-lines-and-trailing-newline",
        [b"\n\n" + OK1 + b"\r\n  \n" + OK2 + b"\n"],
        False,
        {1: LineResult(201, ""), 2: LineResult(204, "")},
        "",
    ),
    (
        "first-answer-for-a-line-wins",
        [OK1 + b"\n" + b'{"line":1,"status_code":500,"message":"late"}'],
        False,
        {1: LineResult(201, "")},
        "",
    ),
    (
        "line-numbers-that-are-not-numbers",
        [b'{"line":true,"status_code":500}\n{"line":"2","status_code":500}\n{"status_code":500}'],
        False,
        {},
        "",
    ),
    (
        "json-that-is-not-an-object",
        [b'[1,2]\n42\n"text"\n' + OK2],
        False,
        {2: LineResult(204, "")},
        "",
    ),
    (
        "html-glued-to-the-last-line",
        [OK1 + b"<!DOCTYPE html><html>Fatal</html>"],
        False,
        {1: LineResult(201, "")},
        "",
    ),
    (
        "html-page-after-the-lines",
        [OK1 + b"\n<html>\n<body>Fatal error</body>\n</html>"],
        False,
        {1: LineResult(201, "")},
        "",
    ),
    ("cut-off-last-line", [OK1 + b"\n" + OK2[:20]], False, {1: LineResult(201, "")}, ""),
    ("broken-json-object", [b'{"line":1,"status_code":201,}'], False, {}, ""),
    (
        "dropped-connection",
        [OK1 + b"\n", OK2[:15]],
        True,
        {1: LineResult(201, "")},
        "connection lost while reading the answer (ChunkedEncodingError)",
    ),
    (
        "dropped-after-a-whole-line",
        [OK1 + b"\n" + OK2],
        True,
        {1: LineResult(201, ""), 2: LineResult(204, "")},
        "connection lost while reading the answer (ChunkedEncodingError)",
    ),
    ("empty", [], False, {}, ""),
]


@pytest.mark.parametrize(
    ("parts", "broken", "by_line", "interrupted"),
    [case[1:] for case in ANSWERS],
    ids=[case[0] for case in ANSWERS],
)
def test_read_answers(
    parts: list[bytes], broken: bool, by_line: dict[int, LineResult], interrupted: str
) -> None:
    answers = read_answers(make_response(200, *parts, broken=broken))
    assert answers.by_line == by_line
    assert answers.interrupted == interrupted


def test_success_lines_share_their_result() -> None:
    assert line_result({"line": 1, "status_code": 204}) is line_result(
        {"line": 9, "status_code": 204}
    )
    assert line_result({"line": 1, "status_code": 202}) == LineResult(202, "")


def test_invalid_utf8_does_not_lose_an_answer(caplog: pytest.LogCaptureFixture) -> None:
    body = OK1 + b"\xff<html>Fatal</html>\n\xfe\xff not JSON\n" + OK2
    with caplog.at_level(logging.DEBUG, logger="feed_export.akeneo.responses"):
        answers = read_answers(make_response(200, body))
    assert answers.by_line == {1: LineResult(201, ""), 2: LineResult(204, "")}
    assert [r.getMessage() for r in caplog.records] == [
        "ignoring non-JSON content in the PATCH response: \ufffd\ufffd not JSON"
    ]


def test_ignored_content_is_logged_capped(caplog: pytest.LogCaptureFixture) -> None:
    junk = b"<p>" + b"a" * 200 + b"</p>"
    with caplog.at_level(logging.DEBUG, logger="feed_export.akeneo.responses"):
        read_answers(make_response(200, OK1 + b"\n" + junk))
    (record,) = caplog.records
    assert (record.levelno, record.getMessage()) == (
        logging.DEBUG,
        "ignoring non-JSON content in the PATCH response: <p>" + "a" * 116 + "…",
    )


def test_read_answers_keeps_the_key_each_answer_names() -> None:
    """The caller checks it against the line it sent (issue 11: answers checked)."""
    body = (
        OK1
        + b'\n{"line":2,"code":"tee-red","status_code":201}'
        + b'\n{"line":3,"uuid":"8d5b3a9c-0000-4000-8000-000000000001","code":422,"message":"x"}'
        + b'\n{"line":4,"status_code":400,"message":"Invalid json message received"}'
        + b'\n{"line":1,"identifier":"late-duplicate","status_code":201}'
    )
    answers = read_answers(make_response(200, body))
    assert answers.named == {
        1: "a",
        2: "tee-red",
        3: "8d5b3a9c-0000-4000-8000-000000000001",
    }
    assert set(answers.by_line) == {1, 2, 3, 4}


@pytest.mark.parametrize(
    ("answer", "key"),
    [
        ({"line": 1, "identifier": "sku1", "status_code": 201}, "sku1"),
        ({"line": 1, "code": "model", "status_code": 201}, "model"),
        ({"line": 1, "uuid": "u", "code": 422}, "u"),
        ({"line": 1, "code": 422, "message": "x"}, None),
        ({"line": 1, "identifier": None, "status_code": 422}, None),
        ({"line": 1, "status_code": 400}, None),
    ],
    ids=["identifier", "model-code", "uuid-before-numeric-code", "numeric-code", "null", "none"],
)
def test_answer_key(answer: dict[str, Any], key: str | None) -> None:
    assert answer_key(answer) == key


class _Stream:
    """A response whose body is ``chunks`` (counted as they are read)."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self.read = 0

    def iter_content(self, chunk_size: int) -> Iterator[bytes]:
        for chunk in self._chunks:
            self.read += 1
            yield chunk


def test_an_endless_answer_line_is_read_in_bounded_memory() -> None:
    """100 MB without a line break: the line is dropped past MAX_ANSWER_LINE, not grown."""
    import tracemalloc

    from feed_export.akeneo.responses import MAX_ANSWER_LINE, read_answers

    piece = b"x" * 16384

    def body() -> Iterator[bytes]:
        yield b'{"line": 1, "status_code": 201}\n'
        for _ in range(6400):
            yield piece
        yield b'\n{"line": 2, "status_code": 201}'

    tracemalloc.start()
    try:
        answers = read_answers(_Stream(body()), 2)  # type: ignore[arg-type]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert sorted(answers.by_line) == [1, 2]
    assert peak < 4 * MAX_ANSWER_LINE


def test_no_more_answers_are_read_than_lines_were_sent() -> None:
    from feed_export.akeneo.responses import read_answers

    def flood() -> Iterator[bytes]:
        number = 0
        while True:  # endless: the reader must stop by itself
            number += 1
            yield b'{"line": %d, "status_code": 201}\n' % number

    stream = _Stream(flood())
    answers = read_answers(stream, 3)  # type: ignore[arg-type]
    assert sorted(answers.by_line) == [1, 2, 3]
    assert stream.read == 3


def test_answers_for_lines_never_sent_are_not_kept() -> None:
    from feed_export.akeneo.responses import read_answers

    body = b'{"line": 99, "status_code": 201}\n{"line": 1, "status_code": 201}\n'
    answers = read_answers(_Stream(iter([body])), 1)  # type: ignore[arg-type]
    assert answers.by_line == {1: LineResult(201, "")}


# --- a PIM that cannot be reached, in words (the start-up check) -----------------------


def _through_urllib3(reason: BaseException) -> requests.ConnectionError:
    """What requests raises: its error holds urllib3's MaxRetryError, whose ``reason`` is it."""
    pool = urllib3.exceptions.MaxRetryError(None, "/api/oauth/v1/token", reason)  # type: ignore[arg-type]
    return requests.ConnectionError(pool)


def _name_resolution_without_gaierror() -> requests.ConnectionError:
    """urllib3's NameResolutionError whose own cause is not a socket.gaierror."""
    reason = urllib3.exceptions.NameResolutionError("pim.test", None, OSError("lookup failed"))  # type: ignore[arg-type]
    return _through_urllib3(reason)


def _refused_connection() -> requests.ConnectionError:
    reason = urllib3.exceptions.NewConnectionError(None, "Failed to establish a new connection")  # type: ignore[arg-type]
    reason.__cause__ = ConnectionRefusedError(111, "Connection refused")
    return _through_urllib3(reason)


UNREACHABLE = "https://pim.test:8443/akeneo"
HOST = "pim.test:8443"


@pytest.mark.parametrize(
    ("status", "cause", "says"),
    [
        (503, None, f"the PIM at {HOST} is not available (503 Service Unavailable): try again later, or check AKENEO_BASE_URL"),
        (0, requests.exceptions.SSLError("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: unable to get local issuer certificate (_ssl.c:1006)"), f"the PIM at {HOST} failed the TLS check (unable to get local issuer certificate): check AKENEO_BASE_URL, or pass --no-verify-tls for a test PIM with a self-signed certificate"),
        (0, requests.exceptions.SSLError("[SSL: WRONG_VERSION_NUMBER] wrong version number (_ssl.c:1006)"), f"the PIM at {HOST} failed the TLS check (the secure connection could not be set up): check AKENEO_BASE_URL, or pass --no-verify-tls for a test PIM with a self-signed certificate"),
        (0, requests.ConnectionError(socket.gaierror(-2, "Name or service not known")), f"cannot find the PIM's host pim.test: check AKENEO_BASE_URL ({UNREACHABLE}) and your network"),
        (0, _name_resolution_without_gaierror(), f"cannot find the PIM's host pim.test: check AKENEO_BASE_URL ({UNREACHABLE}) and your network"),
        (0, requests.ConnectTimeout("pool says"), f"the PIM at {HOST} did not accept a connection within 2.5 s: check AKENEO_BASE_URL, that the PIM is running and that it can be reached from here (VPN, firewall)"),
        (0, requests.ReadTimeout("pool says"), f"the PIM at {HOST} took the connection but did not answer the login within 7 s: check that AKENEO_BASE_URL is an Akeneo PIM and that it is up"),
        (0, _refused_connection(), f"cannot connect to the PIM at {HOST} (connection refused): check AKENEO_BASE_URL and that the PIM is running"),
        (0, requests.ConnectionError(OSError("Network is unreachable")), f"cannot connect to the PIM at {HOST} (the connection failed): check AKENEO_BASE_URL and that the PIM is running"),
        (0, None, f"cannot connect to the PIM at {HOST} (the connection failed): check AKENEO_BASE_URL and that the PIM is running"),
    ],
    ids=["status", "tls-verify", "tls-other", "gaierror", "name-resolution", "connect-timeout", "read-timeout", "refused", "other", "no-cause"],
)  # fmt: skip
def test_an_unreachable_pim_is_one_whole_sentence(
    status: int, cause: BaseException | None, says: str
) -> None:
    failure = RetriableError("token request: the library's words", status)
    assert unreachable_reason(UNREACHABLE, failure, cause, (2.5, 7.0)) == says


def test_causes_walks_every_branch_once() -> None:
    """Causes, contexts, urllib3's ``reason`` and exceptions in ``args``, each once."""
    root = ConnectionRefusedError(111, "Connection refused")
    reason = OSError("reason")
    reason.__cause__ = root
    reason.__context__ = root  # ``raise ... from root`` inside ``except root`` sets both
    in_args = ValueError("in args")
    in_args.__context__ = root
    outer = requests.ConnectionError(in_args)
    outer.__cause__ = reason
    found = list(_causes(outer))
    assert sorted(map(str, found)) == sorted(map(str, [outer, reason, root, in_args]))
    assert len(found) == 4
    assert list(_causes(None)) == []


def test_causes_ends_on_a_cycle() -> None:
    first, second = OSError("first"), OSError("second")
    first.__context__, second.__context__ = second, first
    assert [str(c) for c in _causes(first)] == ["first", "second"]


# --- the bounded reads at their edges ----------------------------------------------------


@pytest.mark.parametrize(
    ("parts", "declared", "limit", "expected", "parts_read"),
    [
        ([b"abc", b"de"], None, 5, b"abcde", 2),
        ([b"abc", b"def"], None, 5, None, 2),
        ([b"abc", b"abc"], None, 4, None, 2),
        ([b"abcde"], "5", 5, b"abcde", 1),
        ([b"abcdef"], "6", 5, None, 0),
        ([b"abc"], "not a number", 5, b"abc", 1),
        ([], None, 5, b"", 0),
    ],
    ids=[
        "exactly-the-limit-in-two-chunks",
        "one-past-the-limit",
        "each-chunk-under-the-limit-together-over",
        "declared-exactly-the-limit",
        "declared-too-large-never-read",
        "declared-nonsense-read",
        "empty",
    ],
)
def test_read_limited(
    parts: list[bytes], declared: str | None, limit: int, expected: bytes | None, parts_read: int
) -> None:
    from feed_export.akeneo.responses import read_limited

    headers = {"Content-Length": declared} if declared is not None else None
    response = make_response(200, *parts, headers=headers)
    assert read_limited(response, limit) == expected
    assert raw_of(response).read_parts == parts_read


def test_read_limited_reads_in_64_kib_chunks() -> None:
    """A whole read (chunk size None) could hold a file far past the limit in memory."""
    from feed_export.akeneo.responses import read_limited

    response = make_response(200, b"x")
    assert read_limited(response, 10) == b"x"
    assert raw_of(response).asked == [64 * 1024]


def test_an_answer_line_exactly_max_answer_line_long_is_kept() -> None:
    """The bound is on bytes past ``MAX_ANSWER_LINE``: a line of exactly that size counts,
    first in the body or after another line, whatever the chunks."""
    from feed_export.akeneo.responses import MAX_ANSWER_LINE

    def padded(number: int) -> bytes:
        head = b'{"line":%d,"status_code":201' % number
        return head + b" " * (MAX_ANSWER_LINE - len(head) - 1) + b"}"

    first, second = padded(1), padded(2)
    assert len(first) == len(second) == MAX_ANSWER_LINE
    answers = read_answers(_Stream(iter([first, b"\n" + second, b"\n"])), 2)  # type: ignore[arg-type]
    assert answers.by_line == {1: LineResult(201, ""), 2: LineResult(201, "")}


def test_an_overlong_answer_line_is_dropped_with_one_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from feed_export.akeneo.responses import MAX_ANSWER_LINE

    head = b'{"line":1,"status_code":201'
    overlong = head + b" " * (MAX_ANSWER_LINE - len(head)) + b"}"
    with caplog.at_level(logging.DEBUG, logger="feed_export.akeneo.responses"):
        answers = read_answers(
            _Stream(iter([overlong, b'\n{"line":2,"status_code":204}\n'])),  # type: ignore[arg-type]
            2,
        )
    assert answers.by_line == {2: LineResult(204, "")}
    assert [(r.levelno, r.getMessage()) for r in caplog.records] == [
        (
            logging.WARNING,
            f"an answer line of the PATCH response is longer than {MAX_ANSWER_LINE} bytes: dropped",
        )
    ]


def test_a_pim_answering_other_lines_is_read_until_twice_the_lines_sent() -> None:
    """Answers that name lines never sent count: reading stops after 2 x expected + 1."""
    chunks = [b'{"line":99,"status_code":201}\n'] * 2 + [b'{"line":1,"status_code":201}\n']
    stream = _Stream(iter(chunks + [b'{"line":98,"status_code":201}\n'] * 10))
    answers = read_answers(stream, 1)  # type: ignore[arg-type]
    assert answers.by_line == {1: LineResult(201, "")}
    assert stream.read == 3

    flood = _Stream(iter([b'{"line":99,"status_code":201}\n'] * 10 + chunks))
    assert read_answers(flood, 1).by_line == {}  # type: ignore[arg-type]
    assert flood.read == 3


def test_a_last_line_without_newline_across_chunks_is_read_whole() -> None:
    body = b'{"line":1,"status_code":422,"message":"Bad."}'
    answers = read_answers(make_response(200, body[:12], body[12:30], body[30:]))
    assert answers.by_line == {1: LineResult(422, "Bad.")}


def test_ignored_content_is_looked_at_within_its_first_1000_bytes(
    caplog: pytest.LogCaptureFixture,
) -> None:
    junk = b"<" + b" " * 998 + b"!tail"
    with caplog.at_level(logging.DEBUG, logger="feed_export.akeneo.responses"):
        read_answers(make_response(200, OK1 + b"\n" + junk))
    assert [r.getMessage() for r in caplog.records] == [
        "ignoring non-JSON content in the PATCH response: < !"
    ]
