"""Hostile servers for the attack tests, on 127.0.0.1 only; each stops by itself.

- ``DripServer``: a raw TCP server that answers every connection with ``head`` and then
  one byte of ``drip`` every ``interval`` seconds (headers or body that never end),
  for at most ``lasts`` seconds.
- ``HostilePim``: the sandbox PIM with some routes answered by a function of the test
  (a WSGI layer in front of the sandbox's own): echo the request, flood, loop pages...
- ``loopback_only``: a fixture-ready guard that makes any connection to an address
  other than loopback fail loudly, so that a test of address refusals can never send
  a packet elsewhere even if the code under test were wrong.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from types import TracebackType
from typing import Any

from feed_export.sandbox import Sandbox

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
#: environ, start_response -> a body, or None to let the sandbox answer
Override = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes] | None]


class DripServer:
    """``head`` at once, then ``drip`` one byte at a time; a context manager."""

    def __init__(
        self, head: bytes, drip: bytes = b"x" * 10_000, interval: float = 0.05, lasts: float = 10.0
    ) -> None:
        self.head = head
        self.drip = drip
        self.interval = interval
        self.lasts = lasts
        self.connections = 0
        self._stop = threading.Event()
        self._server = socket.create_server(("127.0.0.1", 0))
        self._server.settimeout(0.1)
        self.port = self._server.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> DripServer:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._server.close()

    def _serve(self) -> None:
        ends = time.monotonic() + self.lasts
        while not self._stop.is_set() and time.monotonic() < ends:
            try:
                conn, _ = self._server.accept()
            except TimeoutError:
                continue
            self.connections += 1
            threading.Thread(target=self._answer, args=(conn, ends), daemon=True).start()

    def _answer(self, conn: socket.socket, ends: float) -> None:
        with conn, contextlib.suppress(OSError):
            conn.settimeout(1.0)
            conn.recv(65536)
            conn.sendall(self.head)
            for byte in self.drip:
                if self._stop.is_set() or time.monotonic() > ends:
                    return
                conn.sendall(bytes([byte]))
                self._stop.wait(self.interval)


class HostilePim:
    """Wraps a (not yet started) sandbox: ``override`` answers first, else the sandbox does."""

    def __init__(self, sandbox: Sandbox, override: Override) -> None:
        self.sandbox = sandbox
        inner: WSGIApp = sandbox.wsgi

        def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            answer = override(environ, start_response)
            return inner(environ, start_response) if answer is None else answer

        sandbox.wsgi = app  # type: ignore[assignment]


@contextlib.contextmanager
def loopback_only() -> Iterator[list[Any]]:
    """Every ``connect`` to a non-loopback address raises; yields the addresses asked for."""
    asked: list[Any] = []
    real = socket.socket.connect

    def connect(self: socket.socket, address: Any) -> None:
        asked.append(address)
        host = address[0] if isinstance(address, tuple) else address
        if not ipaddress.ip_address(str(host).split("%")[0]).is_loopback:
            raise AssertionError(f"a test tried to connect to {address!r}")
        real(self, address)

    socket.socket.connect = connect  # type: ignore[method-assign]
    try:
        yield asked
    finally:
        socket.socket.connect = real  # type: ignore[method-assign]
