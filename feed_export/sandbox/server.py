"""Running the sandbox PIM: werkzeug's threaded server in a background thread, and its CLI."""

from __future__ import annotations

import argparse
import logging
import shlex
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, TextIO

from werkzeug.serving import ThreadedWSGIServer, WSGIRequestHandler

from feed_export.errors import ConfigError
from feed_export.sandbox.api import create_app
from feed_export.sandbox.auth import ACCESS_TOKEN_LIFETIME, TokenStore
from feed_export.sandbox.catalog import SandboxCatalog, demo_catalog_data, load_catalog_data
from feed_export.sandbox.faults import FaultInjector, FaultMiddleware, Faults, SandboxStats
from feed_export.sandbox.state import SandboxState
from feed_export.sandbox.store import SandboxStore
from feed_export.sandbox.updater import Updater

logger = logging.getLogger(__name__)

#: the sandbox's demo API connection and user: not secrets, printed on start
DEMO_CLIENT_ID = "sandbox_client"
DEMO_CLIENT_SECRET = "sandbox_secret"
DEMO_USERNAME = "sandbox"
DEMO_PASSWORD = "sandbox"


class _QuietHandler(WSGIRequestHandler):
    """werkzeug's request handler, logging to our logger at debug level instead of stderr."""

    def log(self, type: str, message: str, *args: Any) -> None:
        level = logging.ERROR if type == "error" else logging.DEBUG
        logger.log(level, "sandbox %s: " + message, self.address_string(), *args)


class _BindError(Exception):
    """A bind failure, kept away from werkzeug (which would print it and exit)."""

    def __init__(self, error: OSError) -> None:
        super().__init__(str(error))
        self.error = error


class _QuietServer(ThreadedWSGIServer):
    def server_bind(self) -> None:
        try:
            super().server_bind()
        except OSError as exc:
            raise _BindError(exc) from exc

    def log(self, type: str, message: str, *args: Any) -> None:
        level = logging.ERROR if type == "error" else logging.DEBUG
        logger.log(level, "sandbox: " + message, *args)


class Sandbox:
    """An Akeneo-compatible PIM on loopback. Use it as a context manager, or start()/stop().

    ``clock`` (seconds, for token expiry and timestamps) and ``sleep`` (for latency) may
    be replaced at any time, e.g. by tests; so may ``faults``. ``state`` reads products
    back; ``stats`` counts requests, lines and faults.
    """

    def __init__(
        self,
        db: str | Path = ":memory:",
        catalog: Mapping[str, Any] | Path | str | None = None,
        faults: Faults | None = None,
        port: int = 0,
        host: str = "127.0.0.1",
        token_lifetime: int = ACCESS_TOKEN_LIFETIME,
    ) -> None:
        self.host = host
        self.port = port
        self.client_id = DEMO_CLIENT_ID
        self.client_secret = DEMO_CLIENT_SECRET
        self.username = DEMO_USERNAME
        self.password = DEMO_PASSWORD
        self.clock: Callable[[], float] = time.time
        self.sleep: Callable[[float], None] = time.sleep
        self.store = SandboxStore(db)
        try:
            data = load_catalog_data(catalog)
            if data is None:
                data = self.store.load_catalog() or demo_catalog_data()
            self.catalog = SandboxCatalog(data)
        except BaseException:
            self.store.close()
            raise
        self.store.save_catalog(self.catalog.data)
        self.store.index_unique_attributes(
            code for code, spec in self.catalog.attributes.items() if spec.unique
        )
        self.stats = SandboxStats()
        self.tokens = TokenStore(clock=lambda: self.clock(), lifetime=token_lifetime)
        self.updater = Updater(self.catalog, self.store, clock=lambda: self.clock())
        # the product models a catalog file lists exist in the PIM it describes
        self.updater.seed_product_models(self.catalog.product_models)
        self.state = SandboxState(self.store, self.updater)
        self.injector = FaultInjector(faults or Faults())
        self.app = create_app(self)
        self.wsgi = FaultMiddleware(self.app.wsgi_app, self.app.url_map, self)
        self._server: _QuietServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def faults(self) -> Faults:
        return self.injector.faults

    @faults.setter
    def faults(self, faults: Faults) -> None:
        """Switch faults at runtime; the random sequence restarts from the new seed."""
        self.injector = FaultInjector(faults)

    @property
    def url(self) -> str:
        """The base URL clients use, e.g. ``http://127.0.0.1:54321`` (no trailing slash)."""
        return f"http://{self.host}:{self.port}"

    def start(self) -> Sandbox:
        if self._server is not None:
            return self
        try:
            server = _QuietServer(self.host, self.port, self.wsgi, handler=_QuietHandler)
        except _BindError as exc:
            raise exc.error from None
        self.port = server.server_port
        self._server = server
        # a short poll keeps stop() quick (shutdown waits for the next poll)
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.02},
            name=f"sandbox-{self.port}",
            daemon=True,
        )
        self._thread.start()
        logger.info("sandbox PIM listening at %s", self.url)
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        self.store.close()

    def serve_until_interrupted(self, stop: threading.Event | None = None) -> None:
        """Block the calling thread until Ctrl-C, or until ``stop`` is set."""
        thread = self._thread
        stop = stop or threading.Event()
        try:
            while thread is not None and thread.is_alive() and not stop.wait(0.2):
                pass
        except KeyboardInterrupt:
            pass

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def start_sandbox(
    db: str | Path = ":memory:",
    catalog: Mapping[str, Any] | Path | str | None = None,
    faults: Faults | None = None,
    port: int = 0,
    host: str = "127.0.0.1",
    token_lifetime: int = ACCESS_TOKEN_LIFETIME,
) -> Sandbox:
    """A running sandbox PIM (port 0: any free port). Stop it, or use it in a ``with``.

    ``catalog`` is a catalog-file dict or path; None keeps the catalog stored in ``db``,
    or uses the demo catalog. Raises ConfigError for an unusable catalog.

    >>> with start_sandbox() as sb:                      # doctest: +SKIP
    ...     requests.get(sb.url + "/api/rest/v1/locales", headers=...)
    """
    sandbox = Sandbox(
        db=db,
        catalog=catalog,
        faults=faults,
        port=port,
        host=host,
        token_lifetime=token_lifetime,
    )
    try:
        return sandbox.start()
    except BaseException:
        sandbox.store.close()
        raise


def env_text(sandbox: Sandbox, *, export: bool) -> str:
    """The sandbox's settings as ``.env`` lines, or as ``export`` lines for a shell."""
    values = {
        "AKENEO_BASE_URL": sandbox.url,
        "AKENEO_CLIENT_ID": sandbox.client_id,
        "AKENEO_CLIENT_SECRET": sandbox.client_secret,
        "AKENEO_USERNAME": sandbox.username,
        "AKENEO_PASSWORD": sandbox.password,
    }
    prefix = "export " if export else ""
    return "".join(f"{prefix}{name}={shlex.quote(value)}\n" for name, value in values.items())


def serve_forever_cli(
    host: str = "127.0.0.1",
    port: int = 8080,
    db: Path | str | None = None,
    catalog: Path | str | None = None,
    latency: float = 0.0,
    out: TextIO | None = None,
    stop: threading.Event | None = None,
    env_out: Path | TextIO | None = None,
) -> int:
    """``feed-export sandbox``: serve until Ctrl-C, after writing the URL and demo credentials.

    ``out`` receives the banner (default stdout): the settings as ``export`` lines to paste
    into a shell. ``env_out`` (a file, or a stream) receives them as ``.env`` text, for
    ``feed-export push --env-file FILE``. Setting ``stop`` ends the serving like Ctrl-C
    does. Returns the exit code (0). Raises ConfigError for a bad catalog file, a busy port
    or an ``env_out`` file that cannot be written.
    """
    stream = out if out is not None else sys.stdout
    # a fixed response time: what a benchmark against a slow PIM wants to see
    faults = Faults(latency=latency, latency_mode="total") if latency else None
    try:
        sandbox = start_sandbox(
            db=db or ":memory:", catalog=catalog, faults=faults, port=port, host=host
        )
    except OSError as exc:
        raise ConfigError(
            f"cannot listen on {host}:{port} ({exc.strerror}); pick another --port"
        ) from None
    with sandbox:
        if env_out is not None:
            text = env_text(sandbox, export=False)
            if isinstance(env_out, Path):
                try:
                    env_out.write_text(text, encoding="utf-8")
                    env_out.chmod(0o600)  # it holds the password
                except OSError as exc:
                    raise ConfigError(
                        f"--env-out {env_out}: cannot write it ({exc.strerror or exc})"
                    ) from None
            else:
                env_out.write(text)
                env_out.flush()
        state = db or "in memory, lost on exit"
        written = (
            f"or pass --env-file {env_out} to feed-export (written now)\n"
            if isinstance(env_out, Path)
            else "or write them to a file with --env-out FILE, then pass --env-file FILE\n"
        )
        stream.write(
            f"Sandbox PIM listening at {sandbox.url} (state: {state})\n"
            "To push to it from another shell, paste:\n"
            + "".join(f"  {line}\n" for line in env_text(sandbox, export=True).splitlines())
            + written
            + "Press Ctrl-C to stop.\n"
        )
        stream.flush()
        sandbox.serve_until_interrupted(stop)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m feed_export.sandbox [--host H] [--port N] [--db FILE] [--catalog FILE]``."""
    parser = argparse.ArgumentParser(
        prog="feed-export sandbox", description="Run the embedded Akeneo-compatible PIM."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--db", type=Path, metavar="FILE", help="SQLite file (default: memory)")
    parser.add_argument("--catalog", type=Path, metavar="FILE", help="catalog JSON (default: demo)")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added per request")
    parser.add_argument("--env-out", type=Path, metavar="FILE", help="write the settings as .env")
    args = parser.parse_args(argv)
    try:
        return serve_forever_cli(
            host=args.host,
            port=args.port,
            db=args.db,
            catalog=args.catalog,
            latency=args.latency,
            env_out=args.env_out,
        )
    except ConfigError as exc:
        sys.stderr.write(f"feed-export sandbox: {exc}\n")
        return 2
