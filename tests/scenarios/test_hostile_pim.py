"""A PIM that misbehaves on purpose: slow, endless, flooding, echoing the token.

Each PIM is the sandbox with some routes answered by the test first (``hostile.HostilePim``),
on 127.0.0.1. Each attack must end quickly, with a plain message, in bounded memory, and
never show the bearer token.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import run_cli
from hostile import HostilePim, Override
from pydantic import SecretStr

from feed_export.akeneo import client as client_module
from feed_export.akeneo.client import AkeneoClient
from feed_export.akeneo.responses import LineResult
from feed_export.config import RetrySettings, Settings
from feed_export.errors import AuthenticationError, RetriesExhausted, TransportError
from feed_export.sandbox import Sandbox

GIB = 1024**3


def _endless(piece: bytes, total: int = 2 * GIB, pause: float = 0.0) -> Iterator[bytes]:
    """``piece`` again and again (up to ``total`` bytes: never reached in a test)."""
    sent = 0
    while sent < total:
        if pause:
            time.sleep(pause)  # the server's thread drips; the test itself never sleeps
        yield piece
        sent += len(piece)


def _route(method: str, suffix: str, answer: Callable[..., Iterable[bytes]]) -> Override:
    def override(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if environ["REQUEST_METHOD"] == method and environ["PATH_INFO"].endswith(suffix):
            return answer(environ, start_response)
        return None

    return override


@pytest.fixture
def hostile() -> Iterator[Callable[[Override], Sandbox]]:
    started: list[Sandbox] = []

    def start(override: Override) -> Sandbox:
        sandbox = Sandbox()
        HostilePim(sandbox, override)
        started.append(sandbox.start())
        return sandbox

    yield start
    for sandbox in started:
        sandbox.stop()


def _client(sandbox: Sandbox, **retry: Any) -> AkeneoClient:
    settings = Settings(
        base_url=sandbox.url,
        client_id=sandbox.client_id,
        client_secret=SecretStr(sandbox.client_secret),
        username=sandbox.username,
        password=SecretStr(sandbox.password),
        retry=RetrySettings(**{"max_attempts": 1, **retry}),
    )
    return AkeneoClient(settings, sleep=lambda _: None)


LINE = b'{"identifier":"A1","values":{}}'


# --- deadlines ------------------------------------------------------------------------------


def _drip_patch(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    start_response("200 OK", [("Content-Type", "application/vnd.akeneo.collection+json")])
    return _endless(b" ", pause=0.05)  # whitespace: never a line, never an end


def test_a_pim_that_drips_its_answer_is_cut_at_the_request_deadline(
    hostile: Callable[[Override], Sandbox],
) -> None:
    sandbox = hostile(_route("PATCH", "/products", _drip_patch))
    started = time.monotonic()
    with _client(sandbox, request_deadline=0.5, request_timeout=5) as client:
        (result,) = client.patch_collection("products", [LINE])
    assert time.monotonic() - started < 4
    assert result.status == 0
    assert "no complete answer within 0.5 s (the request deadline)" in result.message


def test_a_catalog_page_that_drips_is_cut_at_the_request_deadline(
    hostile: Callable[[Override], Sandbox],
) -> None:
    def drip(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        start_response("200 OK", [("Content-Type", "application/json")])
        return _endless(b" ", pause=0.05)

    sandbox = hostile(_route("GET", "/channels", drip))
    with (
        _client(sandbox, request_deadline=0.5, request_timeout=5) as client,
        pytest.raises(RetriesExhausted, match=r"no complete answer within 0\.5 s"),
    ):
        list(client.list_items("channels"))


# --- bounded reads -------------------------------------------------------------------------


def test_a_huge_token_answer_is_not_read_whole(hostile: Callable[[Override], Sandbox]) -> None:
    def huge(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        start_response("200 OK", [("Content-Type", "application/json")])
        return _endless(b'{"access_token": "' + b"t" * 65536)

    sandbox = hostile(_route("POST", "/oauth/v1/token", huge))
    with (
        _client(sandbox) as client,
        pytest.raises(AuthenticationError, match=r"token request with more than 64 KB"),
    ):
        client.authenticate()


def test_a_huge_catalog_page_is_not_read_whole(
    hostile: Callable[[Override], Sandbox], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(client_module, "PAGE_BODY_LIMIT", 1024 * 1024)

    def huge(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        start_response("200 OK", [("Content-Type", "application/json")])
        return _endless(b'{"_embedded": {"items": [' + b" " * 65536)

    sandbox = hostile(_route("GET", "/channels", huge))
    with (
        _client(sandbox) as client,
        pytest.raises(
            TransportError,
            match=r"^GET /api/rest/v1/channels: the PIM's answer is larger than 1 MB$",
        ),
    ):
        list(client.list_items("channels"))


def test_an_endless_answer_line_and_a_flood_of_answers_stay_bounded(
    hostile: Callable[[Override], Sandbox],
) -> None:
    again = b'{"line": 1, "status_code": 422, "message": "again"}\n' * 500

    def flood(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        start_response("200 OK", [("Content-Type", "application/vnd.akeneo.collection+json")])

        def body() -> Iterator[bytes]:
            # the flood arrives with the first answer: the reader has it in hand at once
            yield b'{"line": 1, "status_code": 201}\n' + again
            yield from _endless(again)

        return body()

    sandbox = hostile(_route("PATCH", "/products", flood))
    with _client(sandbox, request_deadline=5) as client:
        started = time.monotonic()
        assert client.patch_collection("products", [LINE]) == [LineResult(201, "")]
        assert time.monotonic() - started < 3  # stopped after the one answer expected


# --- pagination ----------------------------------------------------------------------------


def _pages(next_of: Callable[[str], str]) -> Callable[..., Iterable[bytes]]:
    def page(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        here = environ["PATH_INFO"] + "?" + environ.get("QUERY_STRING", "")
        body = {
            "_links": {"next": {"href": next_of(here)}},
            "_embedded": {"items": [{"code": f"c{len(here)}"}]},
        }
        start_response("200 OK", [("Content-Type", "application/json")])
        return [json.dumps(body).encode()]

    return page


def test_next_links_that_never_end_stop_at_the_page_cap(
    hostile: Callable[[Override], Sandbox], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(client_module, "MAX_PAGES", 30)
    counter = iter(range(1, 10**9))
    sandbox = hostile(
        _route("GET", "/channels", _pages(lambda _: f"/api/rest/v1/channels?page={next(counter)}"))
    )
    with (
        _client(sandbox) as client,
        pytest.raises(
            TransportError, match=r"more than 30 pages; the PIM's next-page links do not end"
        ),
    ):
        list(client.list_items("channels"))


def test_a_next_link_to_another_resource_is_refused(
    hostile: Callable[[Override], Sandbox],
) -> None:
    sandbox = hostile(_route("GET", "/channels", _pages(lambda _: "/api/rest/v1/products")))
    with (
        _client(sandbox) as client,
        pytest.raises(
            TransportError, match=r"next-page link leads elsewhere \(/api/rest/v1/products\)"
        ),
    ):
        list(client.list_items("channels"))


# --- the bearer token echoed back ----------------------------------------------------------


def test_the_bearer_token_echoed_by_the_pim_is_redacted_everywhere(
    hostile: Callable[[Override], Sandbox], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[str] = []

    def echo(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        token = environ.get("HTTP_AUTHORIZATION", "")
        seen.append(token)
        start_response("400 Bad Request", [("Content-Type", "text/plain")])
        return [f"bad request; you sent Authorization: {token}".encode()]

    sandbox = hostile(_route("PATCH", "/products", echo))
    for name, value in {
        "AKENEO_BASE_URL": sandbox.url,
        "AKENEO_CLIENT_ID": sandbox.client_id,
        "AKENEO_CLIENT_SECRET": sandbox.client_secret,
        "AKENEO_USERNAME": sandbox.username,
        "AKENEO_PASSWORD": sandbox.password,
    }.items():
        monkeypatch.setenv(name, value)
    feed = tmp_path / "feed.csv"
    feed.write_text("sku,name~en_US\nA1,Shirt\n", encoding="utf-8")
    outputs = {
        "--feedback": tmp_path / "fb.csv",
        "--summary-json": tmp_path / "summary.json",
        "--report": tmp_path / "report.html",
        "--rejected": tmp_path / "rejected.csv",
    }
    args = ["push", str(feed), "-v"]
    for flag, path in outputs.items():
        args += [flag, str(path)]
    result = run_cli(args)
    assert result.code == 1, result.err
    token = seen[0].removeprefix("Bearer ")
    assert len(token) > 20
    texts = [result.out, result.err, *(p.read_text(encoding="utf-8") for p in outputs.values())]
    for text in texts:
        assert token not in text
    feedback = outputs["--feedback"].read_text(encoding="utf-8")
    assert "you sent Authorization: Bearer ***" in feedback


# --- what the PIM says, in a spreadsheet and in a terminal -----------------------------------

HOSTILE_MESSAGES = [
    ' =HYPERLINK("http://evil.test")',
    "\n=1+1",
    "\uff1dSUM(1)",
    "\x1b[2J\x1b]0;owned\x07cleared your screen",
]


def _env(monkeypatch: pytest.MonkeyPatch, sandbox: Sandbox) -> None:
    for name, value in {
        "AKENEO_BASE_URL": sandbox.url,
        "AKENEO_CLIENT_ID": sandbox.client_id,
        "AKENEO_CLIENT_SECRET": sandbox.client_secret,
        "AKENEO_USERNAME": sandbox.username,
        "AKENEO_PASSWORD": sandbox.password,
    }.items():
        monkeypatch.setenv(name, value)


def test_pim_messages_cannot_run_as_formulas_nor_drive_the_terminal(
    hostile: Callable[[Override], Sandbox], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        start_response("200 OK", [("Content-Type", "application/vnd.akeneo.collection+json")])
        lines = [
            json.dumps({"line": n, "identifier": f"A{n}", "status_code": 422, "message": m})
            for n, m in enumerate(HOSTILE_MESSAGES, 1)
        ]
        return ["\n".join(lines).encode()]

    sandbox = hostile(_route("PATCH", "/products", refuse))
    _env(monkeypatch, sandbox)
    feed = tmp_path / "feed.csv"
    rows = "".join(f"A{n},Shirt\n" for n in range(1, len(HOSTILE_MESSAGES) + 1))
    feed.write_text("sku,name~en_US\n" + rows, encoding="utf-8")
    feedback = tmp_path / "fb.csv"
    result = run_cli(["push", str(feed), "--feedback", str(feedback), "-v"])
    assert result.code == 1, result.err
    import csv

    with feedback.open(encoding="utf-8", newline="") as handle:
        messages = [row[-1] for row in list(csv.reader(handle))[1:]]
    assert len(messages) == len(HOSTILE_MESSAGES)
    for message in messages[:3]:
        assert message.startswith("'"), message
    assert "\x1b" not in result.out and "\x1b" not in result.err
    assert "\x07" not in result.out and "\x07" not in result.err
