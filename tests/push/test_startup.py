"""Start-up checks: a run that cannot start sends nothing and writes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
import responses
from pydantic import SecretStr

from feed_export.config import ExportOptions, Settings, pim_host
from feed_export.errors import RunAborted, StartupError
from feed_export.push.interrupt import Interrupt
from feed_export.push.run import run_push

BASE = "https://pim.example.com"


def _settings() -> Settings:
    return Settings(
        base_url=BASE,
        client_id="cid",
        client_secret=SecretStr("secret"),
        username="u",
        password=SecretStr("p"),
    )


@pytest.fixture
def feed(tmp_path: Path) -> Path:
    path = tmp_path / "f.csv"
    path.write_text("sku,name~en_US\nA,x\n", encoding="utf-8")
    (tmp_path / "f.feedback.csv").write_text("the last run's feedback\n", encoding="utf-8")
    return path


def _untouched(feed: Path) -> None:
    assert (feed.parent / "f.feedback.csv").read_text() == "the last run's feedback\n"
    assert sorted(p.name for p in feed.parent.iterdir()) == ["f.csv", "f.feedback.csv"]


@pytest.mark.parametrize(
    ("base_url", "host"),
    [
        ("https://pim.example.com", "pim.example.com"),
        ("https://user:pw@pim.example.com:8443/x", "pim.example.com:8443"),
        ("http://[::1]:8080", "[::1]:8080"),
        ("http://127.0.0.1:99999", "127.0.0.1"),
    ],
    ids=["plain", "credentials-and-port", "ipv6", "bad-port"],
)
def test_pim_host_names_the_host_never_the_credentials(base_url: str, host: str) -> None:
    assert pim_host(base_url) == host


def test_a_catalog_that_cannot_be_read_stops_the_run_before_any_output(feed: Path) -> None:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as pim:
        pim.post(f"{BASE}/api/oauth/v1/token", json={"access_token": "t", "expires_in": 3600})
        pim.get(
            f"{BASE}/api/rest/v1/attributes",
            status=403,
            json={"code": 403, "message": "Access forbidden."},
        )
        for name in ("channels", "locales", "currencies", "measurement-families"):
            pim.get(f"{BASE}/api/rest/v1/{name}", json={"_embedded": {"items": []}})
        with pytest.raises(
            StartupError, match=r"could not read the catalog of the PIM at pim\.example\.com: .*403"
        ):
            run_push(feed, ExportOptions(), settings=_settings())
    _untouched(feed)


def test_an_interrupt_before_anything_was_sent_writes_nothing(feed: Path) -> None:
    interrupt = Interrupt()
    interrupt.request()
    with responses.RequestsMock() as pim:
        pim.post(f"{BASE}/api/oauth/v1/token", json={"access_token": "t", "expires_in": 3600})
        with pytest.raises(RunAborted, match="interrupted before anything was sent"):
            run_push(feed, ExportOptions(), settings=_settings(), interrupt=interrupt)
    _untouched(feed)
