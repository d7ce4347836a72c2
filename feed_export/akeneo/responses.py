"""What an answer means: one classifier for every HTTP response, the result types, the messages.

Every call to the PIM, and every file download, asks ``classify`` (or ``read_verdict``)
what a response means, and the ``Action`` says what the caller does next:

    2xx                      SUCCESS      read the body (a collection PATCH line by line)
    401                      RENEW_TOKEN  renew the token once and send again; a second
                                          401 aborts the run (AuthenticationError)
    408, 429, 5xx            RETRY        wait (Retry-After when given, capped) and try
                                          again, as the retry policy allows
    413; 403 without an      TOO_LARGE    a collection PATCH splits its batch in halves;
      Akeneo message                      for other calls, refused for good
    other 3xx                REDIRECT     never followed to the PIM (check the base URL);
                                          file downloads follow it
    other 4xx                REFUSED      refused for good

Network failures (no response at all) are retried like RETRY; ``describe_exception``
words them.

Per-line message format (``render_error``): the PIM's ``message``, then each entry of
``errors[]`` as ``<property>[<attribute>, locale=<l>, scope=<s>, currency=<c>]: <message>``
(only the parts the PIM gave), entries separated by `` | ``, e.g.
``Validation failed. values[brand]: The tommh value is not in the brand attribute option list.``
"""

from __future__ import annotations

import contextlib
import enum
import json
import logging
import re
import socket
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

import orjson
import requests

from feed_export.config import pim_host
from feed_export.errors import RetriableError, quote_body

log = logging.getLogger(__name__)

RETRIABLE_STATUSES = frozenset({408, 429, *range(500, 600)})
#: how much of an error body is read: enough for a message, never a whole huge page
ERROR_BODY_LIMIT = 64 * 1024
_CHUNK_BYTES = 16 * 1024  # small: a body cut mid-read loses at most one chunk
#: the longest line of a collection PATCH answer that is read (a line's errors included)
MAX_ANSWER_LINE = 1024 * 1024


# --- result types -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LineResult:
    """What the PIM said about one line of a collection PATCH."""

    status: int  # HTTP-like status of that line; 0 = no answer (network error)
    message: str  # "" on 2xx; else message + every errors[] entry (see render_error)


# success lines are by far the most common: share their (immutable) results
_SUCCESS = {code: LineResult(code, "") for code in (200, 201, 204)}


@dataclass(frozen=True, slots=True)
class MediaUpload:
    """What the PIM said to one ``POST /media-files``."""

    status: int  # 201 when stored; else the PIM's status, or 0 (network)
    message: str  # "" on 201
    code: str | None = None  # the media-file code on 201


# --- the classifier -----------------------------------------------------------------------


class Action(enum.Enum):
    """What the caller does next with a response."""

    SUCCESS = "success"
    RENEW_TOKEN = "renew the token"
    RETRY = "retry"
    TOO_LARGE = "too large"
    REDIRECT = "redirect"
    REFUSED = "refused"


@dataclass(frozen=True, slots=True)
class Verdict:
    """A classified response: what to do, and the words for it."""

    action: Action
    status: int
    message: str = ""  # "503 Service Unavailable (the PIM's message)"; "" on success
    pim_message: str | None = None  # the PIM's own message, when it gave one in JSON
    retry_after: float | None = None  # RETRY: seconds the server asked to wait
    location: str | None = None  # REDIRECT: where to

    @property
    def reason(self) -> str:
        """The PIM's own message when it gave one, else the described status."""
        return self.pim_message or self.message

    def retry_error(self, prefix: str = "") -> RetriableError:
        """The error that asks the retry policy for another attempt."""
        return RetriableError(prefix + self.message, self.status, self.retry_after)


def is_success(status: int) -> bool:
    """2xx: the body is the answer."""
    return 200 <= status < 300


def classify(status: int, text: str = "", headers: Mapping[str, str] | None = None) -> Verdict:
    """The verdict on a response, from its status, (the start of) its body and headers.

    >>> classify(503, "", {"Retry-After": "5"}).action, classify(503, "").message
    (<Action.RETRY: 'retry'>, '503 Service Unavailable')
    >>> classify(403, "<html>blocked</html>").action
    <Action.TOO_LARGE: 'too large'>
    """
    if is_success(status):
        return Verdict(Action.SUCCESS, status)
    headers = headers or {}
    pim_message = akeneo_message(text)
    message = describe_response(status, text)
    if status == 401:
        return Verdict(Action.RENEW_TOKEN, status, message, pim_message)
    if status in RETRIABLE_STATUSES:
        retry_after = parse_retry_after(headers.get("Retry-After"), headers.get("Date"))
        return Verdict(Action.RETRY, status, message, pim_message, retry_after)
    if status == 413 or (status == 403 and pim_message is None):
        # Akeneo SaaS may refuse an oversized request with a bare 403 (akeneo-api.md §2.3);
        # a missing permission comes with Akeneo's JSON "Access forbidden..." instead
        return Verdict(Action.TOO_LARGE, status, message, pim_message)
    if 300 <= status < 400:
        location = headers.get("Location")
        return Verdict(Action.REDIRECT, status, message, pim_message, location=location)
    return Verdict(Action.REFUSED, status, message, pim_message)


def read_verdict(
    response: requests.Response, *, redact: Callable[[str], str] | None = None
) -> Verdict:
    """``classify`` a response; its body is read (capped) and closed unless it succeeded.

    ``redact`` cleans the body before it is described, and the words after (a token
    answer may echo the secret: a capped quote must not cut it in half).
    """
    status = response.status_code
    if is_success(status):
        return Verdict(Action.SUCCESS, status)  # the body is the caller's to read
    with response:
        text = read_capped(response)
    if redact is None:
        return classify(status, text, response.headers)
    verdict = classify(status, redact(text), response.headers)
    pim_message = None if verdict.pim_message is None else redact(verdict.pim_message)
    return Verdict(
        verdict.action,
        status,
        redact(verdict.message),
        pim_message,
        verdict.retry_after,
        verdict.location,
    )


def read_capped(response: requests.Response, limit: int = ERROR_BODY_LIMIT) -> str:
    """The start of an error body: enough for a message; a huge page is not kept."""
    parts: list[bytes] = []
    size = 0
    try:
        for chunk in response.iter_content(chunk_size=8192):
            parts.append(chunk)
            size += len(chunk)
            if size >= limit:
                break
    except requests.RequestException:
        pass  # what arrived is all there is to quote
    return b"".join(parts)[:limit].decode(response.encoding or "utf-8", "replace")


def read_limited(response: requests.Response, limit: int) -> bytes | None:
    """A success body whole, or None once it is longer than ``limit`` bytes (read no further).

    Network failures propagate (``requests.RequestException``), as with ``content``.
    """
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    parts: list[bytes] = []
    size = 0
    for chunk in response.iter_content(chunk_size=64 * 1024):
        size += len(chunk)
        if size > limit:
            return None
        parts.append(chunk)
    return b"".join(parts)


def parse_retry_after(value: str | None, date: str | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date.

    An HTTP date is measured against the response's ``Date`` header when present (the
    server's own clock, so clock skew does not matter), else against local time.

    >>> parse_retry_after("15")
    15.0
    >>> parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", "Wed, 21 Oct 2015 07:28:00 GMT")
    30.0
    """
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            target = parsedate_to_datetime(value).timestamp()
        except (TypeError, ValueError, IndexError):
            return None
        now = time.time()
        if date:
            with contextlib.suppress(TypeError, ValueError, IndexError):
                now = parsedate_to_datetime(date).timestamp()
        seconds = target - now
    if seconds != seconds:  # NaN
        return None
    return max(0.0, seconds)


# --- messages -----------------------------------------------------------------------------


def status_phrase(status: int) -> str:
    """``"503 Service Unavailable"``; just the number for unknown codes."""
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return str(status)


def render_error(obj: Mapping[str, Any]) -> str:
    """The message of an Akeneo error object, with every ``errors[]`` entry.

    >>> render_error({"message": "Validation failed.", "errors": [{"property": "values",
    ...     "message": "The tommh value is not in the brand attribute option list.",
    ...     "attribute": "brand", "locale": None, "scope": None}]})
    'Validation failed. values[brand]: The tommh value is not in the brand attribute option list.'
    """
    message = obj.get("message")
    text = message if isinstance(message, str) else ""
    errors = obj.get("errors")
    if not isinstance(errors, list) or not errors:
        return text
    entries = [_render_entry(e) for e in errors if isinstance(e, Mapping)]
    if not text:
        return " | ".join(entries)
    joiner = " " if text.endswith((".", ":", "!", "?")) else ": "
    return text + joiner + " | ".join(entries)


def _render_entry(entry: Mapping[str, Any]) -> str:
    message = entry.get("message")
    text = message if isinstance(message, str) else json.dumps(dict(entry), ensure_ascii=False)
    where = str(entry.get("property") or "")
    qualifiers = [str(entry["attribute"])] if entry.get("attribute") else []
    qualifiers += [f"{k}={entry[k]}" for k in ("locale", "scope", "currency") if entry.get(k)]
    if qualifiers:
        where = f"{where or 'values'}[{', '.join(qualifiers)}]"
    return f"{where}: {text}" if where else text


def akeneo_message(text: str) -> str | None:
    """The message of an Akeneo ``{code, message, errors?}`` body, or None."""
    try:
        obj = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(obj, dict) or not isinstance(obj.get("message"), str):
        return None
    return render_error(obj)


def describe_response(status: int, text: str) -> str:
    """``503 Service Unavailable (the PIM's message)``, never a whole HTML page."""
    head = status_phrase(status)
    message = akeneo_message(text)
    if message:
        return f"{head} ({message})"
    body = text.strip()
    if not body:
        return head
    if body.startswith("<"):
        return f"{head} (an HTML error page)"
    return f"{head} ({quote_body(body, 200)})"


def describe_exception(exc: BaseException, timeouts: tuple[float, float] | None = None) -> str:
    """A network failure in words: which timeout, a TLS error, a connection lost..."""
    if isinstance(exc, requests.ConnectTimeout):
        limit = f" within {timeouts[0]:g} s" if timeouts else ""
        return f"could not connect{limit} (connect timeout)"
    if isinstance(exc, requests.ReadTimeout):
        limit = f" within {timeouts[1]:g} s" if timeouts else ""
        return f"no answer{limit} (read timeout)"
    if isinstance(exc, requests.exceptions.SSLError):
        return f"TLS error ({quote_body(str(exc), 200)})"
    if isinstance(
        exc, requests.exceptions.ChunkedEncodingError | requests.exceptions.ContentDecodingError
    ):
        return f"connection lost while reading the answer ({type(exc).__name__})"
    return f"connection failed ({type(exc).__name__}: {quote_body(str(exc), 200)})"


# --- the answer of a collection PATCH -----------------------------------------------------


def line_result(obj: Mapping[str, Any]) -> LineResult:
    """One decoded response line -> its result; reads ``status_code``, else ``code``.

    Recent PIMs keep ``code`` instead of ``status_code`` on products-uuid error lines
    (akeneo-api.md §2.6).
    """
    status = obj.get("status_code")
    if status is None:
        status = obj.get("code")
    if isinstance(status, str) and status.isdigit():
        status = int(status)
    if not isinstance(status, int) or isinstance(status, bool):
        shown = quote_body(orjson.dumps(dict(obj)).decode())
        return LineResult(0, f"the PIM's answer for this line has no status: {shown}")
    if is_success(status):
        return _SUCCESS.get(status) or LineResult(status, "")
    return LineResult(status, render_error(obj) or status_phrase(status))


@dataclass(slots=True)
class Answers:
    """The lines of a collection PATCH's answer that arrived."""

    by_line: dict[int, LineResult]  # 1-based line of the request -> its result
    interrupted: str  # why the body stopped early ("" when it ended normally)
    #: 1-based line -> the identifier, code or uuid its answer names (when it names one):
    #: the caller checks it against the line it sent, never trusting the number alone
    named: dict[int, str] = field(default_factory=dict)


def answer_key(obj: Mapping[str, Any]) -> str | None:
    """The identifier, uuid or code an answer line names, or None.

    ``code`` counts only as text: recent PIMs put the (numeric) status there on
    products-uuid error lines.

    >>> answer_key({"line": 1, "code": "tee", "status_code": 201}), answer_key({"code": 422})
    ('tee', None)
    """
    for name in ("identifier", "uuid", "code"):
        value = obj.get(name)
        if isinstance(value, str):
            return value
    return None


def read_answers(response: requests.Response, expected: int | None = None) -> Answers:
    """Read a streamed collection response, keeping every line that arrived.

    Bounded whatever the PIM sends: a line is kept up to ``MAX_ANSWER_LINE`` bytes (a
    longer one is dropped: that input line is sent again); with ``expected`` (the lines
    sent), only answers for lines 1..expected are kept, and reading stops once each of
    them has one, or once the PIM sent more than twice as many answers as lines.
    """
    by_line: dict[int, LineResult] = {}
    named: dict[int, str] = {}
    parts: list[bytes] = []  # the pieces of the line being read: joined once, when complete
    size = 0
    overlong = False
    answers = 0
    interrupted = ""

    def take(raw: bytes) -> None:
        nonlocal answers
        raw = raw.strip()
        if not raw:
            return
        obj = _decode_line(raw)
        if not isinstance(obj, dict):
            log.debug(
                "ignoring non-JSON content in the PATCH response: %s",
                quote_body(raw[:1000].decode("utf-8", "replace"), 120),
            )
            return
        answers += 1
        number = obj.get("line")
        if (
            isinstance(number, int)
            and not isinstance(number, bool)
            and number not in by_line
            and (expected is None or 1 <= number <= expected)
        ):
            by_line[number] = line_result(obj)
            key = answer_key(obj)
            if key is not None:
                named[number] = key

    def done() -> bool:
        # every line answered; or a PIM that answers far more than it was sent
        return expected is not None and (len(by_line) >= expected or answers > 2 * expected)

    try:
        for chunk in response.iter_content(chunk_size=_CHUNK_BYTES):
            start = 0
            while (end := chunk.find(b"\n", start)) >= 0:
                if not overlong:
                    parts.append(chunk[start:end])
                    take(b"".join(parts))
                parts, size, overlong = [], 0, False
                start = end + 1
                if done():
                    break
            if done():
                break
            rest = chunk[start:]
            if rest and not overlong:
                size += len(rest)
                if size > MAX_ANSWER_LINE:
                    log.warning(
                        "an answer line of the PATCH response is longer than %d bytes: dropped",
                        MAX_ANSWER_LINE,
                    )
                    parts, overlong = [], True
                else:
                    parts.append(rest)
    except requests.RequestException as exc:
        interrupted = describe_exception(exc)
    if not overlong and not done():
        take(b"".join(parts))
    return Answers(by_line, interrupted, named)


def _decode_line(raw: bytes) -> Any:
    """One response line; tolerates a non-JSON tail glued to the last JSON object."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        pass
    # a fatal error mid-stream once appended an HTML page right after the last line
    # (akeneo-api.md §2.7): keep the leading JSON object if there is a complete one
    if not raw.startswith(b"{"):
        return None
    try:
        obj, _ = json.JSONDecoder().raw_decode(raw.decode("utf-8", "replace"))
    except ValueError:
        return None  # a cut-off line: that input line gets no answer and is sent again
    return obj


# --- a PIM that cannot be reached, in words ----------------------------------------------


def _causes(exc: BaseException | None) -> Iterator[BaseException]:
    """``exc`` and what it wraps: causes, contexts, and urllib3's ``reason``."""
    seen: set[int] = set()
    todo = [exc]
    while todo:
        current = todo.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        todo += [current.__cause__, current.__context__, getattr(current, "reason", None)]
        todo += [arg for arg in current.args if isinstance(arg, BaseException)]


def unreachable_reason(
    base_url: str,
    failure: RetriableError,
    cause: BaseException | None,
    timeout: tuple[float, float],
) -> str:
    """One plain sentence for a login that got no usable answer: which PIM, what to check.

    ``cause`` is the exception of the HTTP library, when there was one (else the PIM
    answered with ``failure.status``). Never the library's own text: it names pools,
    adapters and retries the user never chose.
    """
    host = pim_host(base_url)
    causes = list(_causes(cause))
    if failure.status:
        return (
            f"the PIM at {host} is not available ({status_phrase(failure.status)}): "
            "try again later, or check AKENEO_BASE_URL"
        )
    if any(isinstance(c, requests.exceptions.SSLError) for c in causes):
        found = re.search(r"certificate verify failed: ([^(\]'\"]+)", str(cause))
        why = found.group(1).strip() if found else "the secure connection could not be set up"
        return (
            f"the PIM at {host} failed the TLS check ({why}): check AKENEO_BASE_URL, or pass "
            "--no-verify-tls for a test PIM with a self-signed certificate"
        )
    if any(isinstance(c, socket.gaierror) for c in causes) or "NameResolutionError" in {
        type(c).__name__ for c in causes
    }:
        return (
            f"cannot find the PIM's host {urlsplit(base_url).hostname}: check AKENEO_BASE_URL "
            f"({base_url}) and your network"
        )
    if any(isinstance(c, requests.ConnectTimeout) for c in causes):
        return (
            f"the PIM at {host} did not accept a connection within {timeout[0]:g} s: check "
            "AKENEO_BASE_URL, that the PIM is running and that it can be reached from here "
            "(VPN, firewall)"
        )
    if any(isinstance(c, requests.ReadTimeout) for c in causes):
        return (
            f"the PIM at {host} took the connection but did not answer the login within "
            f"{timeout[1]:g} s: check that AKENEO_BASE_URL is an Akeneo PIM and that it is up"
        )
    if any(isinstance(c, ConnectionRefusedError) for c in causes):
        return (
            f"cannot connect to the PIM at {host} (connection refused): check AKENEO_BASE_URL "
            "and that the PIM is running"
        )
    return (
        f"cannot connect to the PIM at {host} (the connection failed): check AKENEO_BASE_URL "
        "and that the PIM is running"
    )
