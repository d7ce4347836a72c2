"""Switchable, seeded limits and faults of the sandbox PIM, and the WSGI layer that applies them.

Every request draws the same five numbers from one ``random.Random(seed)`` under a lock,
so a sequence of requests meets the same faults on every run. Faults hit the endpoint
kinds in ``Faults.targets`` ("token", "get", "patch", "media", "delete"); the collection PATCH
alone can be cut off mid-stream or get an HTML page appended.
"""

from __future__ import annotations

import contextlib
import logging
import random
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import orjson
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

logger = logging.getLogger(__name__)

FaultKind = Literal["drop", "429", "5xx", "cut", "html_tail"]
#: misplaced answers of a collection PATCH (a proxy that mixes lines up)
AnswerFault = Literal["shift", "extra"]
TARGETS = frozenset({"token", "get", "patch", "media", "delete"})
#: the environ key through which the collection PATCH learns its fault
PLAN_KEY = "feed_export.sandbox.fault_plan"
RATE_LIMIT_MESSAGE = "You have exceeded the limit of API requests per second."


@dataclass
class Faults:
    """What goes wrong, and how often. All rates are per request, between 0 and 1.

    ``latency`` seconds are added to every request, plus a uniform random share of
    ``latency_jitter``; with ``latency_mode="total"`` a normal answer instead leaves
    ``latency`` seconds after the request arrived, processing included (a server with a
    fixed response time, as the transport benchmark wants), or as soon as it is ready if
    processing took longer. ``concurrency_per_token`` (Akeneo: 4) and
    ``concurrency_per_instance`` (Akeneo: 10) answer 429 to requests beyond the limit.
    A random fault is one of: dropping the connection without an answer
    (``rate_drop``; after processing the request if ``drop_after_processing``), a 429
    (``rate_429``, with ``Retry-After: retry_after`` unless None), a 5xx drawn from
    ``statuses_5xx`` (``rate_5xx``, an HTML body if ``html_5xx``), and on collection
    PATCH a response cut off after some lines (``rate_cut``) or followed by an HTML
    error page (``rate_html_tail``); the cut comes after ``cut_after`` lines, or after a
    random number of them. Lines after a cut are not applied. ``max_faults`` caps the
    random faults injected in total. ``code_instead_of_status_code`` makes products-uuid
    error lines carry ``code`` (the quirk of recent Akeneo versions, §2.6).
    ``answers`` misplaces the answers of every collection PATCH, as a broken proxy could
    (each line is still applied): ``"shift"`` labels each answer with the next line's
    number (the first line gets none, the last answer's number is past the end);
    ``"extra"`` sends a copy of the last answer first, labelled line 1, before the real
    ones (a request of one line is answered twice, the same way).
    """

    seed: int = 0
    latency: float = 0.0
    latency_jitter: float = 0.0
    latency_mode: Literal["before", "total"] = "before"
    concurrency_per_token: int | None = None
    concurrency_per_instance: int | None = None
    rate_drop: float = 0.0
    drop_after_processing: bool = False
    rate_429: float = 0.0
    retry_after: int | None = 1
    rate_5xx: float = 0.0
    statuses_5xx: tuple[int, ...] = (500, 502, 503)
    html_5xx: bool = False
    rate_cut: float = 0.0
    rate_html_tail: float = 0.0
    cut_after: int | None = None
    max_faults: int | None = None
    code_instead_of_status_code: bool = False
    answers: AnswerFault | None = None
    targets: frozenset[str] = field(
        default_factory=lambda: frozenset({"get", "patch", "media", "delete"})
    )

    def __post_init__(self) -> None:
        rates = (self.rate_drop, self.rate_429, self.rate_5xx, self.rate_cut, self.rate_html_tail)
        if any(not 0.0 <= r <= 1.0 for r in rates) or sum(rates) > 1.0 + 1e-9:
            raise ValueError("fault rates must each be within 0..1 and sum to at most 1")
        if self.latency < 0 or self.latency_jitter < 0:
            raise ValueError("latency must not be negative")
        if not self.statuses_5xx or any(not 500 <= s <= 599 for s in self.statuses_5xx):
            raise ValueError("statuses_5xx must be 5xx codes")
        unknown = set(self.targets) - TARGETS
        if unknown:
            raise ValueError(f"unknown fault targets {sorted(unknown)}; use {sorted(TARGETS)}")


@dataclass(frozen=True, slots=True)
class FaultPlan:
    """What happens to one request."""

    latency: float = 0.0
    kind: FaultKind | None = None
    status: int = 0
    cut_fraction: float = 0.0  # where the cut falls when Faults.cut_after is None
    cut_after: int | None = None
    code_instead_of_status_code: bool = False
    answers: AnswerFault | None = None

    def cut_line(self, lines: int) -> int:
        """How many result lines are streamed before the cut."""
        if self.cut_after is not None:
            return min(self.cut_after, lines)
        return min(int(self.cut_fraction * (lines + 1)), lines)


class FaultInjector:
    """Draws each request's plan from a seeded generator."""

    def __init__(self, faults: Faults) -> None:
        self.faults = faults
        self._rng = random.Random(faults.seed)
        self._lock = threading.Lock()
        self._injected = 0

    def plan(self, target: str) -> FaultPlan:
        f = self.faults
        with self._lock:
            # always five draws, so one request's kind never shifts the next one's numbers
            u_latency, u_kind, u_status, u_cut, _spare = (self._rng.random() for _ in range(5))
            latency = f.latency + u_latency * f.latency_jitter
            kind: FaultKind | None = None
            exhausted = f.max_faults is not None and self._injected >= f.max_faults
            if target in f.targets and not exhausted:
                kind = _pick_kind(f, u_kind, patch=target == "patch")
                if kind is not None:
                    self._injected += 1
        status = f.statuses_5xx[int(u_status * len(f.statuses_5xx))] if kind == "5xx" else 0
        return FaultPlan(
            latency=latency,
            kind=kind,
            status=status,
            cut_fraction=u_cut,
            cut_after=f.cut_after,
            code_instead_of_status_code=f.code_instead_of_status_code,
            answers=f.answers,
        )


def _pick_kind(f: Faults, u: float, *, patch: bool) -> FaultKind | None:
    bounds: list[tuple[float, FaultKind]] = [
        (f.rate_drop, "drop"),
        (f.rate_429, "429"),
        (f.rate_5xx, "5xx"),
    ]
    if patch:
        bounds += [(f.rate_cut, "cut"), (f.rate_html_tail, "html_tail")]
    edge = 0.0
    for rate, kind in bounds:
        edge += rate
        if u < edge:
            return kind
    return None


@dataclass
class SandboxStats:
    """What the sandbox saw: requests by endpoint, lines received, faults, concurrency."""

    requests: Counter[str] = field(default_factory=Counter)
    patch_requests: int = 0
    patch_lines: int = 0
    faults: Counter[str] = field(default_factory=Counter)
    tokens_issued: int = 0
    in_flight: int = 0
    max_in_flight: int = 0
    max_in_flight_per_token: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def count(self, endpoint: str) -> None:
        with self.lock:
            self.requests[endpoint] += 1

    def count_fault(self, kind: str) -> None:
        with self.lock:
            self.faults[kind] += 1

    def count_patch(self, lines: int) -> None:
        with self.lock:
            self.patch_requests += 1
            self.patch_lines += lines

    def count_token(self) -> None:
        with self.lock:
            self.tokens_issued += 1


_HTML_500 = (
    '<!DOCTYPE html>\n<html>\n<head>\n<meta charset="UTF-8" />\n'
    "<title>An Error Occurred: Internal Server Error</title>\n</head>\n<body>\n"
    '<h1>Oops! An Error Occurred</h1>\n<h2>The server returned a "500 Internal Server '
    'Error".</h2>\n</body>\n</html>\n'
)

REASONS = {
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


def html_error_page(status: int = 500) -> str:
    """An error page as a web server or Symfony would send it (not Akeneo JSON)."""
    if status == 500:
        return _HTML_500
    reason = REASONS.get(status, "Error")
    return (
        f"<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n"
        f"<center><h1>{status} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n"
        "</body>\r\n</html>\r\n"
    )


def drop_connection(environ: WSGIEnvironment) -> None:
    """Close the client's connection at once: it sees no (or no more) answer."""
    sock = environ.get("werkzeug.socket")
    if isinstance(sock, socket.socket):
        with contextlib.suppress(OSError):  # the client may have gone first
            sock.shutdown(socket.SHUT_RDWR)


class FaultMiddleware:
    """WSGI layer in front of the Flask app: counts, concurrency limits, latency, faults."""

    def __init__(self, app: WSGIApplication, url_map: Map, host: Any) -> None:
        self.app = app
        self.url_map = url_map
        self.host = host
        self._lock = threading.Lock()
        self._per_token: Counter[str] = Counter()
        self._in_flight = 0

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        endpoint, target = self._classify(environ, method)
        stats: SandboxStats = self.host.stats
        stats.count(endpoint)
        faults: Faults = self.host.injector.faults
        token = _bearer(environ)
        with self._lock:
            self._in_flight += 1
            if token:
                self._per_token[token] += 1
            over = (
                token is not None
                and faults.concurrency_per_token is not None
                and self._per_token[token] > faults.concurrency_per_token
            ) or (
                faults.concurrency_per_instance is not None
                and self._in_flight > faults.concurrency_per_instance
            )
            with stats.lock:
                stats.in_flight = self._in_flight
                stats.max_in_flight = max(stats.max_in_flight, self._in_flight)
                if token:
                    stats.max_in_flight_per_token = max(
                        stats.max_in_flight_per_token, self._per_token[token]
                    )
        try:
            if over:
                stats.count_fault("concurrency")
                refused = _json_error(start_response, 429, RATE_LIMIT_MESSAGE, faults.retry_after)
                return _Closing(refused, lambda: self._leave(token))
            plan = self.host.injector.plan(target)
            if plan.latency > 0 and faults.latency_mode == "total" and plan.kind is None:
                result = self._answer_after(plan.latency, environ, start_response, plan, faults)
            else:
                if plan.latency > 0:
                    self.host.sleep(plan.latency)
                result = self._answer(environ, start_response, plan, faults)
        except BaseException:
            self._leave(token)
            raise
        return _Closing(result, lambda: self._leave(token))

    def _answer_after(
        self,
        latency: float,
        environ: WSGIEnvironment,
        start_response: StartResponse,
        plan: FaultPlan,
        faults: Faults,
    ) -> Iterable[bytes]:
        """The whole answer, computed first, then held until ``latency`` has passed."""
        started = time.monotonic()
        result = self._answer(environ, start_response, plan, faults)
        try:
            body = list(result)  # applies every line of a collection PATCH
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        remaining = latency - (time.monotonic() - started)
        if remaining > 0:
            self.host.sleep(remaining)
        return body

    def _answer(
        self,
        environ: WSGIEnvironment,
        start_response: StartResponse,
        plan: FaultPlan,
        faults: Faults,
    ) -> Iterable[bytes]:
        stats: SandboxStats = self.host.stats
        if plan.kind is not None:
            stats.count_fault(plan.kind)
        if plan.kind == "drop":
            if faults.drop_after_processing:
                _run_to_completion(self.app, environ)
            drop_connection(environ)
            start_response("500 Internal Server Error", [("Content-Length", "0")])
            return []
        if plan.kind == "429":
            return _json_error(start_response, 429, RATE_LIMIT_MESSAGE, faults.retry_after)
        if plan.kind == "5xx":
            if faults.html_5xx:
                body = html_error_page(plan.status).encode()
                start_response(
                    f"{plan.status} {REASONS.get(plan.status, 'Error')}",
                    [
                        ("Content-Type", "text/html; charset=UTF-8"),
                        ("Content-Length", str(len(body))),
                    ],
                )
                return [body]
            return _json_error(start_response, plan.status, REASONS.get(plan.status, "Error"))
        environ[PLAN_KEY] = plan
        return self.app(environ, start_response)

    def _leave(self, token: str | None) -> None:
        with self._lock:
            self._in_flight -= 1
            if token:
                self._per_token[token] -= 1
                if self._per_token[token] <= 0:
                    del self._per_token[token]
            with self.host.stats.lock:
                self.host.stats.in_flight = self._in_flight

    def _classify(self, environ: WSGIEnvironment, method: str) -> tuple[str, str]:
        path = environ.get("PATH_INFO", "")
        try:
            rule, _args = self.url_map.bind_to_environ(environ).match(return_rule=True)
            name = f"{method} {rule.rule}"
        except HTTPException:
            name = f"{method} (no route)"
        if path.startswith("/api/oauth/"):
            return name, "token"
        if method == "PATCH":
            return name, "patch"
        if method == "POST":
            return name, "media"
        if method == "DELETE":
            return name, "delete"
        return name, "get"


def _bearer(environ: WSGIEnvironment) -> str | None:
    header = environ.get("HTTP_AUTHORIZATION", "")
    if header[:7].lower() == "bearer ":
        return str(header[7:].strip()) or None
    return None


def _json_error(
    start_response: StartResponse, status: int, message: str, retry_after: int | None = None
) -> list[bytes]:
    body = orjson.dumps({"code": status, "message": message})
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    if status == 429 and retry_after is not None:
        headers.append(("Retry-After", str(retry_after)))
    start_response(f"{status} {REASONS.get(status, 'Error')}", headers)
    return [body]


def _run_to_completion(app: WSGIApplication, environ: WSGIEnvironment) -> None:
    """Process a request fully (a streamed PATCH applies every line), discarding the answer."""

    def ignore(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        return lambda data: None

    result = app(environ, ignore)
    try:
        for _chunk in result:
            pass
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()


class _Closing:
    """An answer whose end runs ``on_close`` once: when its last chunk is produced (before
    the server finishes the response, so a client's next request is never counted as
    concurrent with this one), or when the server closes it (error, client gone)."""

    def __init__(self, result: Iterable[bytes], on_close: Callable[[], None]) -> None:
        self._result = result
        self._on_close: Callable[[], None] | None = on_close

    def __iter__(self) -> Iterator[bytes]:
        yield from self._result
        self._finish()

    def close(self) -> None:
        try:
            close = getattr(self._result, "close", None)
            if close is not None:
                close()
        finally:
            self._finish()

    def _finish(self) -> None:
        if self._on_close is not None:
            on_close, self._on_close = self._on_close, None
            on_close()
