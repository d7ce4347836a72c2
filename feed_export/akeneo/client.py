"""The PIM's REST API: OAuth token, retries, catalog reads and the collection PATCH.

One ``AkeneoClient`` wraps one ``requests.Session``. Base URL, timeouts, TLS verification
and the ``User-Agent`` are set once; the token lives in ``AkeneoAuth`` (an ``AuthBase``).

How a response is classified (and what the caller does next):

    2xx                      success (a collection PATCH is then read line by line)
    401                      renew the token once and send again; a second 401 aborts
                             the run (AuthenticationError)
    408, 429, 5xx, network   retry with capped exponential backoff and jitter (429 and
                             503 honour Retry-After), at most ``max_attempts`` attempts
    413 / bare 403 on PATCH  the request is too big: split the batch in halves
    other 3xx / 4xx          refused for good (BatchRejected, or TransportError on reads)

Per-line message format (``render_error``): the PIM's ``message``, then each entry of
``errors[]`` as ``<property>[<attribute>, locale=<l>, scope=<s>, currency=<c>]: <message>``
(only the parts the PIM gave), entries separated by `` | ``, e.g.
``Validation failed. values[brand]: The tommh value is not in the brand attribute option list.``
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import random as _random
import re
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from http import HTTPStatus
from typing import Any, TypeVar
from urllib.parse import quote, quote_plus, urlsplit

import orjson
import requests
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from requests.adapters import HTTPAdapter
from requests.auth import AuthBase, HTTPBasicAuth

from feed_export._version import __version__
from feed_export.config import Entity, Settings, pim_host
from feed_export.errors import (
    AuthenticationError,
    BatchRejected,
    RetriableError,
    TransportError,
    quote_body,
)

log = logging.getLogger(__name__)

T = TypeVar("T")

USER_AGENT = f"feed_export/{__version__}"
TOKEN_PATH = "/api/oauth/v1/token"
API_PATH = "/api/rest/v1"
COLLECTION_CONTENT_TYPE = "application/vnd.akeneo.collection+json"
#: renew the access token this long before ``expires_in`` runs out (at most 10 % of it)
REFRESH_MARGIN = 60.0
#: Akeneo's maximum page size (akeneo-api.md §6.1)
PAGE_LIMIT = 100
#: codes per ``search`` filter, and the budget of their URL-encoded length (proxies
#: commonly cap a request line at 8 KiB)
SEARCH_CHUNK = 100
SEARCH_CHUNK_CHARS = 4000
#: catalog lists read at once: Akeneo allows 4 concurrent requests per token
CATALOG_READERS = 4
RETRIABLE_STATUSES = frozenset({408, 429, *range(500, 600)})
_CHUNK_BYTES = 16 * 1024  # small: a body cut mid-read loses at most one chunk
_TOKEN_HINTS = (
    (
        '"client_id"',
        "check AKENEO_CLIENT_ID and AKENEO_CLIENT_SECRET (the API connection's id and secret)",
    ),
    ("No user found", "check AKENEO_USERNAME and AKENEO_PASSWORD (the API connection's user)"),
    ("grant type is not authorized", "the API connection does not allow the password grant"),
    ('"username" or "password"', "AKENEO_USERNAME and AKENEO_PASSWORD must both be set"),
)


@dataclass(frozen=True, slots=True)
class LineResult:
    """What the PIM said about one line of a collection PATCH."""

    status: int  # HTTP-like status of that line; 0 = no answer (network error)
    message: str  # "" on 2xx; else message + every errors[] entry (see render_error)


# success lines are by far the most common: share their (immutable) results
_SUCCESS = {code: LineResult(code, "") for code in (200, 201, 204)}


class ClientStats:
    """Thread-safe counters of what the client did (read them after a run)."""

    __slots__ = (
        "_lock",
        "auth_logins",
        "auth_refreshes",
        "batch_splits",
        "lines_resent",
        "requests_sent",
        "retries",
    )

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests_sent = 0  # every HTTP request, token requests included
        self.retries = 0  # waits before a retry (backoff or Retry-After)
        self.lines_resent = 0  # lines sent again after a response was cut off
        self.auth_logins = 0  # password grants
        self.auth_refreshes = 0  # refresh-token grants
        self.batch_splits = 0  # requests split in halves because they were too big

    def add(self, name: str, amount: int = 1) -> None:
        with self._lock:
            setattr(self, name, getattr(self, name) + amount)

    def as_dict(self) -> dict[str, int]:
        with self._lock:
            return {name: getattr(self, name) for name in self.__slots__ if name != "_lock"}

    def __repr__(self) -> str:
        return f"ClientStats({self.as_dict()})"


# --- response parsing -------------------------------------------------------------------


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
    if 200 <= status < 300:
        return _SUCCESS.get(status) or LineResult(status, "")
    return LineResult(status, render_error(obj) or status_phrase(status))


def status_phrase(status: int) -> str:
    """``"503 Service Unavailable"``; just the number for unknown codes."""
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return str(status)


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


@dataclass(slots=True)
class _Answers:
    by_line: dict[int, LineResult]  # 1-based line of the request -> its result
    interrupted: str  # why the body stopped early ("" when it ended normally)


def _read_answers(response: requests.Response) -> _Answers:
    """Read a streamed collection response, keeping every line that arrived."""
    by_line: dict[int, LineResult] = {}
    buffer = b""
    interrupted = ""

    def take(raw: bytes) -> None:
        raw = raw.strip()
        if not raw:
            return
        obj = _decode_line(raw)
        if not isinstance(obj, dict):
            log.debug(
                "ignoring non-JSON content in the PATCH response: %s",
                quote_body(raw.decode("utf-8", "replace"), 120),
            )
            return
        number = obj.get("line")
        if isinstance(number, int) and not isinstance(number, bool) and number not in by_line:
            by_line[number] = line_result(obj)

    try:
        for chunk in response.iter_content(chunk_size=_CHUNK_BYTES):
            buffer += chunk
            if b"\n" in chunk:
                *complete, buffer = buffer.split(b"\n")
                for raw in complete:
                    take(raw)
    except requests.RequestException as exc:
        interrupted = _describe_exception(exc)
    take(buffer)
    return _Answers(by_line, interrupted)


def _json_object(text: str) -> dict[str, Any] | None:
    try:
        obj = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
    return obj if isinstance(obj, dict) else None


def _akeneo_message(text: str) -> str | None:
    """The message of an Akeneo ``{code, message, errors?}`` body, or None."""
    obj = _json_object(text)
    if obj is None or not isinstance(obj.get("message"), str):
        return None
    return render_error(obj)


def _describe_response(status: int, text: str) -> str:
    """``503 Service Unavailable (the PIM's message)``, never a whole HTML page."""
    head = status_phrase(status)
    message = _akeneo_message(text)
    if message:
        return f"{head} ({message})"
    body = text.strip()
    if not body:
        return head
    if body.startswith("<"):
        return f"{head} (an HTML error page)"
    return f"{head} ({quote_body(body, 200)})"


def _describe_exception(exc: BaseException, timeouts: tuple[float, float] | None = None) -> str:
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


# --- authentication ---------------------------------------------------------------------


class _TokenAnswer(BaseModel):
    model_config = ConfigDict(extra="ignore")

    access_token: str
    expires_in: float = 3600.0
    refresh_token: str | None = None


class _GrantRejected(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class AkeneoAuth(AuthBase):
    """Bearer token for the REST API, obtained and renewed on ``/api/oauth/v1/token``.

    Password grant first; afterwards the newest refresh token is used, shortly before the
    access token expires and once after a 401. A rejected refresh falls back to the password
    grant; rejected credentials raise ``AuthenticationError``. One lock: when several
    batches need a token at once, one thread asks and the others wait and reuse it.
    """

    def __init__(
        self,
        settings: Settings,
        session: requests.Session,
        *,
        timeout: tuple[float, float],
        clock: Callable[[], float],
        stats: ClientStats,
    ) -> None:
        self._base_url = settings.base_url
        self._url = settings.base_url + TOKEN_PATH
        self._client_id = settings.client_id
        self._client_secret = settings.client_secret
        self._username = settings.username
        self._password = settings.password
        self._verify = settings.verify_tls
        self._session = session
        self._timeout = timeout
        self._clock = clock
        self._stats = stats
        self._lock = threading.Lock()
        self._access_token: str | None = None
        self._refresh_token: str | None = None
        self._renew_at = 0.0
        # set (under the lock) once the PIM refused the credentials: every later caller
        # raises at once instead of trying the password again (one refusal per run)
        self._refused: str | None = None
        self._secret_forms = secret_forms(
            settings.client_id,
            settings.client_secret.get_secret_value(),
            settings.password.get_secret_value(),
        )

    def __repr__(self) -> str:  # never the secret, the password or a token
        return (
            f"AkeneoAuth(base_url={self._base_url!r}, client_id={self._client_id!r}, "
            f"username={self._username!r})"
        )

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = "Bearer " + self.token()
        return request

    def token(self) -> str:
        """A valid access token, asking the PIM for one when needed."""
        with self._lock:
            if self._refused is not None:
                raise AuthenticationError(self._refused)
            if self._access_token is None:
                self._login()
            elif self._clock() >= self._renew_at:
                log.debug("access token about to expire: renewing it")
                self._refresh()
            assert self._access_token is not None
            return self._access_token

    def login(self, timeout: tuple[float, float] | None = None) -> None:
        """Password grant now, whatever the current token (``AkeneoClient.authenticate``).

        ``timeout``: (connect, read) for this one request instead of the client's.
        """
        with self._lock:
            self._login(timeout)

    def unauthorized(self, sent: str | None) -> None:
        """The PIM answered 401 to a request that carried the header ``sent``.

        Renew the token unless another thread already did since that request left.
        """
        with self._lock:
            if self._access_token is None or sent == "Bearer " + self._access_token:
                log.info("the PIM refused the access token (401): renewing it")
                self._refresh()

    def _login(self, timeout: tuple[float, float] | None = None) -> None:
        if self._refused is not None:
            raise AuthenticationError(self._refused)
        self._stats.add("auth_logins")
        try:
            self._grant(
                {
                    "grant_type": "password",
                    "username": self._username,
                    "password": self._password.get_secret_value(),
                },
                timeout,
            )
        except _GrantRejected as exc:
            raise self._refuse(exc) from None

    def _refresh(self) -> None:
        if self._refused is not None:
            raise AuthenticationError(self._refused)
        if self._refresh_token is None:
            self._login()
            return
        self._stats.add("auth_refreshes")
        try:
            self._grant({"grant_type": "refresh_token", "refresh_token": self._refresh_token})
        except _GrantRejected as exc:
            if exc.status != 422:
                raise self._refuse(exc) from None
            log.info("the PIM refused the refresh token (%s): logging in again", exc.message)
            self._refresh_token = None
            self._login()

    def _grant(self, body: dict[str, str], timeout: tuple[float, float] | None = None) -> None:
        """One token request; stores the token or raises _GrantRejected / RetriableError."""
        started = self._clock()
        timeout = timeout or self._timeout
        try:
            response = self._session.post(
                self._url,
                json=body,
                # client id and secret go in a Basic header (akeneo-api.md §1.1)
                auth=HTTPBasicAuth(self._client_id, self._client_secret.get_secret_value()),
                headers={"Accept": "application/json"},
                timeout=timeout,
                verify=self._verify,
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            raise RetriableError(f"token request: {_describe_exception(exc, timeout)}", 0) from None
        finally:
            self._stats.add("requests_sent")
        with response:
            status, text = response.status_code, response.text
            retry_after = parse_retry_after(
                response.headers.get("Retry-After"), response.headers.get("Date")
            )
        if status != 200:
            # a PIM or a proxy may echo the request (JSON body, Basic header) in its answer:
            # redact the raw text, and again once described (JSON unescaped, spaces joined)
            text = self._redact(text)
        if status in RETRIABLE_STATUSES:
            raise RetriableError(
                f"token request: {self._redact(_describe_response(status, text))}",
                status,
                retry_after,
            )
        if status != 200:
            message = _akeneo_message(text)
            if message is None:
                message = _describe_response(status, text)
            raise _GrantRejected(status, self._redact(message))
        try:
            answer = _TokenAnswer.model_validate_json(text)
        except ValidationError:
            raise AuthenticationError(
                f"the PIM at {self._base_url} answered the token request (200) without a "
                "token: is AKENEO_BASE_URL the address of an Akeneo PIM?"
            ) from None
        self._access_token = answer.access_token
        if answer.refresh_token:
            self._refresh_token = answer.refresh_token  # Akeneo issues a new one each time
        margin = min(REFRESH_MARGIN, answer.expires_in * 0.1)
        self._renew_at = started + answer.expires_in - margin

    def _rejection(self, exc: _GrantRejected) -> str:
        hint = "check the API connection settings"
        if exc.status == 404:
            hint = "is AKENEO_BASE_URL the address of an Akeneo PIM?"
        else:
            for needle, text in _TOKEN_HINTS:
                if needle in exc.message:
                    hint = text
                    break
        return (
            f'the PIM at {self._base_url} refused to log in ({exc.status}: "{exc.message}"): {hint}'
        )

    def _refuse(self, exc: _GrantRejected) -> AuthenticationError:
        """Remember that the PIM refused the credentials; the error to raise."""
        self._refused = self._rejection(exc)
        return AuthenticationError(self._refused)

    def _redact(self, text: str) -> str:
        """``text`` with every form of the secret, the password and the tokens as ``***``."""
        tokens = [t for t in (self._access_token, self._refresh_token) if t]
        for secret in (*self._secret_forms, *tokens):
            if secret in text:
                text = text.replace(secret, "***")
        return text


def secret_forms(client_id: str, secret: str, password: str) -> tuple[str, ...]:
    """Every form in which the token request carries the secret or the password.

    As is; JSON-escaped (the request body is JSON: ``requests`` escapes non-ASCII, PHP
    escapes ``/`` too); URL-encoded (form bodies, query strings); and the Basic header's
    base64 of ``client_id:secret``. Longest first, so a form is replaced before a part of it.
    """
    forms: set[str] = set()
    for value in (secret, password):
        if not value:
            continue
        forms |= {
            value,
            json.dumps(value)[1:-1],
            json.dumps(value, ensure_ascii=False)[1:-1],
            json.dumps(value)[1:-1].replace("/", "\\/"),  # PHP's json_encode escapes "/"
            quote(value, safe=""),
            quote_plus(value),
        }
    if secret:
        pair = f"{client_id}:{secret}"
        for encoding in ("latin-1", "utf-8"):  # requests encodes Basic credentials as latin-1
            with contextlib.suppress(UnicodeEncodeError):
                forms.add(base64.b64encode(pair.encode(encoding)).decode("ascii"))
    return tuple(sorted(forms, key=len, reverse=True))


# --- the start-up check ----------------------------------------------------------------

#: ``authenticate(quick=True)``: a PIM that is down is reported within about 15 s (two
#: connection attempts at most), not after the minute a whole retry policy takes
QUICK_CONNECT_TIMEOUT = 5.0
QUICK_READ_TIMEOUT = 10.0
QUICK_RETRY_WAIT = 1.0


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
        text = str(cause)
        found = re.search(r"certificate verify failed: ([^(\]'\"]+)", text)
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


# --- the client -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MediaUpload:
    """What the PIM said to one ``POST /media-files``."""

    status: int  # 201 when stored; else the PIM's status, or 0 (network)
    message: str  # "" on 201
    code: str | None = None  # the media-file code on 201


class _TooLarge(Exception):
    """The PIM refused a whole request for its size: split it."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class AkeneoClient:
    """The PIM's REST API over one ``requests.Session`` (thread-safe for PATCH calls).

    ``clock``, ``sleep`` and ``random`` are injected so tests never wait.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        session: requests.Session | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        random: Callable[[], float] = _random.random,
    ) -> None:
        self._base_url = settings.base_url
        self._api = settings.base_url + API_PATH
        self._own_session = session is None
        if session is None:
            session = requests.Session()
            # room for the most batches the sender keeps in flight (concurrency <= 10)
            adapter = HTTPAdapter(pool_connections=2, pool_maxsize=16)
            session.mount("https://", adapter)
            session.mount("http://", adapter)
        session.headers["User-Agent"] = USER_AGENT
        self._session = session
        self._verify = settings.verify_tls
        retry = settings.retry
        self._timeout = (retry.connect_timeout, retry.request_timeout)
        self._max_attempts = retry.max_attempts
        self._backoff_factor = retry.backoff_factor
        self._max_delay = retry.max_retry_delay
        self._clock = clock
        self._sleep = sleep
        self._random = random
        self.stats = ClientStats()
        self._auth = AkeneoAuth(
            settings, session, timeout=self._timeout, clock=clock, stats=self.stats
        )
        if not settings.verify_tls:
            log.warning("TLS certificates are not verified (verify_tls is off)")

    def __repr__(self) -> str:
        return f"AkeneoClient(base_url={self._base_url!r})"

    @property
    def base_url(self) -> str:
        """The PIM's address (no trailing slash), e.g. to key caches by PIM."""
        return self._base_url

    def __enter__(self) -> AkeneoClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the session if this client created it."""
        if self._own_session:
            self._session.close()

    def authenticate(self, *, quick: bool = False) -> None:
        """Log in with the password grant now (retrying transient failures).

        Raises ``AuthenticationError`` when the PIM refuses the credentials. ``quick`` is the
        start-up check of a run: shorter timeouts and one more try at most, so that a PIM
        that is down is reported within about 15 s; a PIM that cannot be reached raises
        ``RetriableError`` with one plain sentence (which host, what to check).
        """
        if not quick:
            self._retrying("POST " + TOKEN_PATH, self._auth.login)
            return
        timeout = (
            min(self._timeout[0], QUICK_CONNECT_TIMEOUT),
            min(self._timeout[1], QUICK_READ_TIMEOUT),
        )
        for attempt in (1, 2):
            try:
                self._auth.login(timeout)
                return
            except RetriableError as exc:
                # the token request drops its cause (``from None``); the context keeps it
                cause = exc.__context__
                reason = unreachable_reason(self._base_url, exc, cause, timeout)
                # an answer that never came will not come faster a second time
                if attempt == 2 or isinstance(cause, requests.ReadTimeout):
                    raise RetriableError(reason, exc.status) from None
                log.debug("%s; trying once more in %g s", reason, QUICK_RETRY_WAIT)
                self.stats.add("retries")
                self._sleep(QUICK_RETRY_WAIT)

    # --- catalog --------------------------------------------------------------------

    def fetch_catalog(
        self, attribute_codes: Iterable[str] | None = None, *, families: bool = False
    ) -> dict[str, Any]:
        """The PIM's structure in the catalog-file shape (items without ``_links``).

        ``attribute_codes``: only these attributes (``None``: all of them). Codes the PIM
        does not know are simply absent. ``families``: add every family (one more list).
        """
        codes = None if attribute_codes is None else list(dict.fromkeys(attribute_codes))
        readers: dict[str, Callable[[], list[dict[str, Any]]]] = {
            "attributes": lambda: self._attributes(codes),
            "channels": lambda: list(self.list_items("channels")),
            "locales": lambda: list(self.list_items("locales")),
            "currencies": lambda: list(self.list_items("currencies")),
            "measurement_families": self._measurement_families,
        }
        if families:
            readers["families"] = lambda: list(self.list_items("families"))
        # the lists do not depend on each other: read them side by side, so a distant PIM
        # costs about one round trip here instead of one per list (the first request logs
        # in; the others wait for its token). At most CATALOG_READERS requests at once.
        pool = ThreadPoolExecutor(
            max_workers=CATALOG_READERS, thread_name_prefix="feed_export-catalog"
        )
        try:
            futures = {name: pool.submit(read) for name, read in readers.items()}
            # the first failure in this order is the one reported, as when read one by one
            return {name: future.result() for name, future in futures.items()}
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    def _attributes(self, codes: list[str] | None) -> list[dict[str, Any]]:
        if codes is None:
            return list(self.list_items("attributes"))
        attributes: list[dict[str, Any]] = []
        for chunk in _chunk_codes(codes):
            search = orjson.dumps({"code": [{"operator": "IN", "value": chunk}]}).decode()
            attributes.extend(self.list_items("attributes", {"search": search}))
        return attributes

    def list_items(
        self, resource: str, params: Mapping[str, str] | None = None
    ) -> Iterator[dict[str, Any]]:
        """Every item of a paginated list, following ``_links.next`` (items lose ``_links``).

        Stops when there is no next link or a page is empty: Akeneo gives a next link
        whenever a page is full, so the last page may be empty (akeneo-api.md §6.1).
        """
        url: str | None = f"{self._api}/{resource}"
        query: dict[str, str] | None = {"limit": str(PAGE_LIMIT), **(params or {})}
        seen: set[str] = set()
        while url is not None:
            page = self._get_json(url, query)
            if not isinstance(page, dict):
                raise TransportError(
                    f"GET {_path_of(url)}: expected a page of items, got {type(page).__name__}"
                )
            try:
                parsed = _Page.model_validate(page)
            except ValidationError:
                shown = quote_body(orjson.dumps(page).decode())
                raise TransportError(
                    f"GET {_path_of(url)}: not an Akeneo list page: {shown}"
                ) from None
            for item in parsed.embedded.items:
                item.pop("_links", None)
                yield item
            next_href = parsed.links.next.href if parsed.links.next else None
            if not parsed.embedded.items or not next_href:
                break
            # follow the link's path and query on *our* base URL: a PIM behind a proxy may
            # advertise an internal host, and the bearer token must go nowhere else
            url = self._same_origin(next_href)
            if url in seen:
                raise TransportError(f"GET {_path_of(url)}: the PIM's next-page link loops")
            seen.add(url)
            query = None

    def _measurement_families(self) -> list[dict[str, Any]]:
        # a plain JSON array, not paginated (akeneo-api.md §6.6)
        data = self._get_json(f"{self._api}/measurement-families", None)
        if not isinstance(data, list):
            raise TransportError(f"GET {API_PATH}/measurement-families: expected a JSON array")
        families = [item for item in data if isinstance(item, dict)]
        for item in families:
            item.pop("_links", None)
        return families

    def _same_origin(self, href: str) -> str:
        parts = urlsplit(href)
        base = urlsplit(self._base_url)
        return f"{base.scheme}://{base.netloc}{parts.path}" + (
            f"?{parts.query}" if parts.query else ""
        )

    def _get_json(self, url: str, params: Mapping[str, str] | None) -> Any:
        path = _path_of(url)

        def once() -> Any:
            response = self._send("GET", url, params=params, headers={"Accept": "application/json"})
            with response:
                status, text, content = response.status_code, response.text, response.content
                headers = response.headers
            if 200 <= status < 300:
                try:
                    return orjson.loads(content)
                except orjson.JSONDecodeError:
                    raise TransportError(
                        f"GET {path}: the PIM did not answer with JSON ({quote_body(text, 200)})"
                    ) from None
            if status in RETRIABLE_STATUSES:
                raise RetriableError(
                    _describe_response(status, text),
                    status,
                    parse_retry_after(headers.get("Retry-After"), headers.get("Date")),
                )
            if 300 <= status < 400:
                raise TransportError(
                    f"GET {path}: redirected to {headers.get('Location')!r}: check AKENEO_BASE_URL"
                )
            raise TransportError(f"GET {path}: {_describe_response(status, text)}")

        return self._retrying(f"GET {path}", once)

    # --- collection PATCH -------------------------------------------------------------

    def patch_collection(
        self, entity: Entity, lines: Sequence[bytes], *, create_missing_options: bool = False
    ) -> list[LineResult]:
        """Upsert ``lines`` (one JSON object each) with one collection PATCH.

        Returns one result per input line, in order; never raises for a failed batch
        (its lines carry the status and what was tried) except ``AuthenticationError``.
        """
        if not lines:
            return []
        url = f"{self._api}/{entity}"
        # the PIM only looks for the parameter's presence (openapi: "regardless of value")
        params = {"create_missing_options": "true"} if create_missing_options else None
        return self._patch_lines(url, params, lines)

    def _patch_lines(
        self, url: str, params: Mapping[str, str] | None, lines: Sequence[bytes]
    ) -> list[LineResult]:
        results: list[LineResult | None] = [None] * len(lines)
        pending = list(range(len(lines)))  # positions still without an answer
        what = f"PATCH {_path_of(url)}"
        started = self._clock()
        failure = RetriableError("not sent", 0)
        unanswered = False  # the last failure was a response that stopped early
        attempt = 0
        while pending:
            attempt += 1
            body = b"\n".join([lines[i] for i in pending])  # no trailing newline (§2.4)
            try:
                answers = self._patch_once(url, params, body, len(pending))
            except _TooLarge as exc:
                if len(pending) == 1:
                    results[pending[0]] = LineResult(exc.status, str(exc))
                    return _complete(results)
                self.stats.add("batch_splits")
                half = len(pending) // 2
                log.warning("%s: %s; splitting %d lines in two", what, exc, len(pending))
                for part in (pending[:half], pending[half:]):
                    for i, result in zip(
                        part, self._patch_lines(url, params, [lines[i] for i in part]), strict=True
                    ):
                        results[i] = result
                return _complete(results)
            except BatchRejected as exc:
                refused = LineResult(exc.status, str(exc))
                for i in pending:
                    results[i] = refused
                return _complete(results)
            except RetriableError as exc:
                failure = exc
                unanswered = False
            else:
                missing = []
                for number, i in enumerate(pending, start=1):
                    answer = answers.by_line.get(number)
                    if answer is None:
                        missing.append(i)
                    else:
                        results[i] = answer
                if not missing:
                    return _complete(results)
                why = f" ({answers.interrupted})" if answers.interrupted else ""
                failure = RetriableError(
                    f"the PIM answered {len(pending) - len(missing)} of {len(pending)} lines{why}",
                    0,
                )
                unanswered = True
                if attempt < self._max_attempts:
                    # a collection PATCH is an upsert, so sending a line again is safe;
                    # only the lines without an answer go again
                    self.stats.add("lines_resent", len(missing))
                pending = missing
            if attempt >= self._max_attempts:
                break
            self._wait_before_retry(what + f" ({len(pending)} lines)", failure, attempt)
        elapsed = self._clock() - started
        prefix = "no answer for this line: " if unanswered else ""
        final = LineResult(
            failure.status, f"{prefix}{failure} after {_attempts(attempt)} over {elapsed:.0f} s"
        )
        for i in pending:
            results[i] = final
        return _complete(results)

    def _patch_once(
        self, url: str, params: Mapping[str, str] | None, body: bytes, count: int
    ) -> _Answers:
        response = self._send(
            "PATCH",
            url,
            params=params,
            data=body,
            headers={"Content-Type": COLLECTION_CONTENT_TYPE},
            # streamed: the lines that arrived before a dropped connection are kept
            stream=True,
        )
        with response:
            status = response.status_code
            if 200 <= status < 300:
                return _read_answers(response)
            text = _read_capped(response)
            headers = response.headers
        if status in RETRIABLE_STATUSES:
            raise RetriableError(
                _describe_response(status, text),
                status,
                parse_retry_after(headers.get("Retry-After"), headers.get("Date")),
            )
        message = _akeneo_message(text)
        if status == 413:
            raise _TooLarge(413, message or _describe_response(status, text))
        if status == 403 and message is None:
            # Akeneo SaaS may refuse an oversized request with a bare 403 (§2.3); a
            # missing permission comes with Akeneo's JSON "Access forbidden..." instead
            if count > 1:
                raise _TooLarge(403, _describe_response(status, text))
            raise BatchRejected(
                "Request refused by the PIM (403 Forbidden, without an Akeneo message; on "
                "Akeneo SaaS this can mean the line is too large)",
                403,
            )
        if 300 <= status < 400:
            raise BatchRejected(
                f"Request refused by the PIM ({status_phrase(status)} to "
                f"{headers.get('Location')!r}): check AKENEO_BASE_URL",
                status,
            )
        detail = message or _describe_response(status, text)
        raise BatchRejected(
            f"Request refused by the PIM ({status_phrase(status)}): {detail}", status
        )

    # --- media files ------------------------------------------------------------------

    def upload_media_file(
        self,
        target: Mapping[str, Any],
        *,
        model: bool,
        filename: str,
        content: bytes,
        content_type: str,
    ) -> MediaUpload:
        """``POST /media-files``: store a file and set it as one value of a product (model).

        ``target`` is ``{"identifier" (or "code" for a model), "attribute", "scope",
        "locale"}``; the product must exist (akeneo-api.md §7). Returns the media-file code
        (from ``Location``) or the PIM's refusal; transient failures are retried like any
        call. Only ``AuthenticationError`` is raised.
        """
        from urllib3 import encode_multipart_formdata

        part = "product_model" if model else "product"
        body, multipart = encode_multipart_formdata(
            {part: orjson.dumps(dict(target)).decode(), "file": (filename, content, content_type)}
        )
        url = f"{self._api}/media-files"

        def once() -> MediaUpload:
            # a retried upload after a lost answer may store the file twice: the value
            # then names the second copy, which is harmless
            response = self._send("POST", url, data=body, headers={"Content-Type": multipart})
            with response:
                status, headers = response.status_code, response.headers
                text = _read_capped(response)
            if status == 201:
                location = headers.get("Location") or ""
                _, found, code = location.partition(API_PATH + "/media-files/")
                if found and code:
                    return MediaUpload(201, "", code)
                return MediaUpload(0, f"the PIM stored the file but gave no code ({location!r})")
            if status in RETRIABLE_STATUSES:
                raise RetriableError(
                    _describe_response(status, text),
                    status,
                    parse_retry_after(headers.get("Retry-After"), headers.get("Date")),
                )
            return MediaUpload(status, _akeneo_message(text) or _describe_response(status, text))

        try:
            return self._retrying(f"POST {API_PATH}/media-files", once)
        except RetriableError as exc:
            return MediaUpload(exc.status, str(exc))

    def media_file_exists(self, code: str) -> bool | None:
        """Whether the PIM holds this media-file code (``GET /media-files/{code}``).

        None when it could not tell (a network failure, an unexpected answer).
        """
        url = f"{self._api}/media-files/{quote(code, safe='/')}"
        try:
            response = self._send("GET", url, headers={"Accept": "application/json"})
        except RetriableError:
            return None
        with response:
            status = response.status_code
        if status == 200:
            return True
        if status == 404:
            return False
        return None

    # --- sending and retrying ---------------------------------------------------------

    def _send(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        data: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        stream: bool = False,
    ) -> requests.Response:
        """One authenticated exchange; a 401 renews the token and sends once more.

        Network failures become ``RetriableError`` (status 0).
        """
        renewed = False
        while True:
            try:
                response = self._session.request(
                    method,
                    url,
                    params=params,
                    data=data,
                    headers=headers,
                    auth=self._auth,
                    timeout=self._timeout,
                    verify=self._verify,
                    stream=stream,
                    allow_redirects=False,  # a redirected PATCH may turn into a GET
                )
            except requests.RequestException as exc:
                self.stats.add("requests_sent")
                raise RetriableError(_describe_exception(exc, self._timeout), 0) from exc
            self.stats.add("requests_sent")
            log.debug("%s %s -> %d", method, _path_of(url), response.status_code)
            if response.status_code != 401:
                return response
            with response:
                text = _read_capped(response)
            sent = response.request.headers.get("Authorization")
            if renewed:
                message = _akeneo_message(text) or status_phrase(401)
                raise AuthenticationError(
                    f"the PIM at {self._base_url} refused a freshly renewed access token "
                    f'("{message}"): check that the API user still has API access'
                )
            renewed = True
            self._auth.unauthorized(sent if isinstance(sent, str) else None)

    def _retrying(self, what: str, call: Callable[[], T]) -> T:
        """``call()`` until it does not raise RetriableError, at most max_attempts times."""
        started = self._clock()
        attempt = 0
        while True:
            attempt += 1
            try:
                return call()
            except RetriableError as exc:
                if attempt >= self._max_attempts:
                    elapsed = self._clock() - started
                    raise RetriableError(
                        f"{what}: {exc} after {_attempts(attempt)} over {elapsed:.0f} s", exc.status
                    ) from exc
                self._wait_before_retry(what, exc, attempt)

    def _wait_before_retry(self, what: str, failure: RetriableError, attempt: int) -> None:
        if failure.retry_after is not None:
            wait = min(self._max_delay, failure.retry_after)
        else:
            # exponential backoff with jitter (0.5x to 1.5x), capped
            wait = self._backoff_factor * 2 ** (attempt - 1) * (0.5 + self._random())
            wait = min(self._max_delay, wait)
        log.warning(
            "%s: %s; retrying in %.1f s (attempt %d of %d)",
            what,
            failure,
            wait,
            attempt + 1,
            self._max_attempts,
        )
        self.stats.add("retries")
        self._sleep(wait)


class _Link(BaseModel):
    href: str


class _Links(BaseModel):
    model_config = ConfigDict(extra="ignore")
    next: _Link | None = None


class _Embedded(BaseModel):
    items: list[dict[str, Any]]


class _Page(BaseModel):
    model_config = ConfigDict(extra="ignore")
    links: _Links = Field(default_factory=_Links, alias="_links")
    embedded: _Embedded = Field(alias="_embedded")


def _chunk_codes(codes: Iterable[str]) -> Iterator[list[str]]:
    """Codes in chunks small enough for one ``search`` query string."""
    chunk: list[str] = []
    size = 0
    for code in codes:
        cost = len(quote(code, safe="")) + 9  # the quotes and comma around it, encoded
        if chunk and (len(chunk) >= SEARCH_CHUNK or size + cost > SEARCH_CHUNK_CHARS):
            yield chunk
            chunk, size = [], 0
        chunk.append(code)
        size += cost
    if chunk:
        yield chunk


def _read_capped(response: requests.Response, limit: int = 64 * 1024) -> str:
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


def _complete(results: list[LineResult | None]) -> list[LineResult]:
    done = [r for r in results if r is not None]
    if len(done) != len(results):
        raise AssertionError("a line was left without a result")
    return done


def _attempts(n: int) -> str:
    return f"{n} attempt" + ("" if n == 1 else "s")


def _path_of(url: str) -> str:
    return urlsplit(url).path
