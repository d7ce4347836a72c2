"""Shared fixtures: the demo catalog, the sample feeds, a CLI runner."""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

import pytest
import responses

from feed_export.config import Settings
from feed_export.sandbox import Sandbox, start_sandbox

ROOT = Path(__file__).resolve().parent.parent
DEMO_CATALOG = ROOT / "feed_export" / "data" / "demo_catalog.json"
SAMPLE_FEEDS = ROOT / "sample_feeds"
GOLDEN = Path(__file__).resolve().parent / "golden"


def copy_sample(name: str, folder: Path) -> Path:
    """A sample feed copied into ``folder`` with the pictures it names: a live push writes
    its state and caches beside the feed, never in the project's own folder."""
    import shutil

    shutil.copy(SAMPLE_FEEDS / name, folder / name)
    if not (folder / "pictures").exists():
        shutil.copytree(SAMPLE_FEEDS / "pictures", folder / "pictures")
    return folder / name


@dataclass
class CliResult:
    code: int
    out: str
    err: str
    raw: bytes = b""  # stdout as bytes (a workbook written to standard output)


class FakeTime:
    """An injected clock and sleep: sleeping advances the clock, nothing waits; ``sleeps``
    lists every wait asked for."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def fake() -> FakeTime:
    """A fresh injected clock and sleep (``FakeTime``), at 1000 s."""
    return FakeTime()


@pytest.fixture
def rsps(monkeypatch: pytest.MonkeyPatch) -> Iterator[responses.RequestsMock]:
    """A ``responses`` mock of every HTTP call; requests swaps ``verify=True`` for the CA
    bundle of these variables when set, so they are cleared: a test sees what the client
    passes. Test modules whose mock needs a token answer define their own."""
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def settings_of(sandbox: Sandbox, password: str | None = None) -> Settings:
    """The settings that reach ``sandbox`` (its own password unless another is given)."""
    return Settings(
        base_url=sandbox.url,
        client_id=sandbox.client_id,
        client_secret=sandbox.client_secret,  # type: ignore[arg-type]
        username=sandbox.username,
        password=password or sandbox.password,  # type: ignore[arg-type]
    )


def run_cli(args: Sequence[str]) -> CliResult:
    """Run ``feed-export`` in-process and capture what it prints.

    Standard output has a byte buffer under it, as a real one does (``--feedback -``
    writes bytes there).
    """
    from feed_export.cli import main

    raw = io.BytesIO()
    raw.name = "<stdout>"  # type: ignore[misc]  # as sys.stdout.buffer is named
    out = io.TextIOWrapper(raw, encoding="utf-8", write_through=True)
    err = io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        try:
            code = main(list(args))
        except SystemExit as exc:  # argparse usage errors and --help
            code = int(exc.code or 0)
    out.flush()
    data = raw.getvalue()
    return CliResult(code, data.decode("utf-8", "replace"), err.getvalue(), data)


@pytest.fixture
def sandbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    """A sandbox PIM on loopback, with the AKENEO_* variables pointing at it."""
    with start_sandbox() as sb:
        monkeypatch.setenv("AKENEO_BASE_URL", sb.url)
        monkeypatch.setenv("AKENEO_CLIENT_ID", sb.client_id)
        monkeypatch.setenv("AKENEO_CLIENT_SECRET", sb.client_secret)
        monkeypatch.setenv("AKENEO_USERNAME", sb.username)
        monkeypatch.setenv("AKENEO_PASSWORD", sb.password)
        yield sb


@pytest.fixture
def demo_catalog_path() -> Path:
    return DEMO_CATALOG


@pytest.fixture(autouse=True)
def _no_wait_before_the_second_login(monkeypatch: pytest.MonkeyPatch) -> None:
    """The start-up login's one retry waits a second; tests that reach it need not."""
    monkeypatch.setattr("feed_export.akeneo.client.QUICK_RETRY_WAIT", 0.0)


@pytest.fixture(autouse=True)
def _no_pim_settings_from_the_machine(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Tests never pick up a developer's AKENEO_* variables or ./.env."""
    for name in (
        "AKENEO_BASE_URL",
        "AKENEO_CLIENT_ID",
        "AKENEO_CLIENT_SECRET",
        "AKENEO_USERNAME",
        "AKENEO_PASSWORD",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
