"""Start-up checks: a run that cannot start sends nothing and writes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
import responses
from pydantic import SecretStr

from feed_export.akeneo.client import AkeneoClient
from feed_export.config import ExportOptions, Settings, pim_host
from feed_export.errors import RunAborted, StartupError
from feed_export.push.interrupt import Interrupt
from feed_export.push.run import run_push
from feed_export.push.startup import read_catalog, read_product_models
from feed_export.sandbox import Sandbox

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


def _client(sb: Sandbox) -> AkeneoClient:
    return AkeneoClient(
        Settings(
            base_url=sb.url,
            client_id=sb.client_id,
            client_secret=SecretStr(sb.client_secret),
            username=sb.username,
            password=SecretStr(sb.password),
        )
    )


def test_the_live_catalog_holds_what_the_columns_need(sandbox: Sandbox) -> None:
    header = ("sku", "name~en_US", "color", "family", "categories", "associations~X_SELL~products")
    with _client(sandbox) as client:
        catalog = read_catalog(client, header)
    assert sandbox.stats.requests["GET /api/rest/v1/attributes"] == 1  # found by their codes
    assert {a.code for a in catalog.attributes} == {"sku", "name", "color"}
    assert catalog.options("color") is not None and catalog.options("name") is None
    assert [catalog.has(s) for s in ("families", "family_variants", "categories",
            "association_types", "attribute_options", "product_models")] == [
        True, False, True, True, True, False
    ]  # fmt: skip
    with _client(sandbox) as client:
        variants = read_catalog(client, ("code", "family_variant"), entity="product-models")
    assert variants.family_variant("clothing_size") is not None
    assert variants.family_variant("clothing_size").family == "clothing"  # type: ignore[union-attr]


def test_codes_in_another_case_read_the_whole_attribute_list(sandbox: Sandbox) -> None:
    """The PIM's code filter is case-sensitive: SKU finds nothing, the whole list finds sku
    (and gives an unknown code its "did you mean", as a catalog file does)."""
    with _client(sandbox) as client:
        catalog = read_catalog(client, ("SKU", "Name~EN_us", "nmae~en_US"))
    assert sandbox.stats.requests["GET /api/rest/v1/attributes"] == 2
    assert catalog.attribute("SKU") is not None and catalog.attribute("name") is not None
    assert catalog.similar_attributes("nmae") == ["name"]


def test_the_parents_a_feed_names_are_read_with_their_ancestors(sandbox: Sandbox) -> None:
    with _client(sandbox) as client:
        client.patch_collection(
            "product-models",
            [
                b'{"code":"tee","family_variant":"clothing_color_size"}',
                b'{"code":"tee-red","parent":"tee","values":{"color":[{"locale":null,'
                b'"scope":null,"data":"red"}]}}',
            ],
        )
        found = read_product_models(client, ["TEE-RED", "nosuch"])
    assert sorted((m.code, m.family_variant, m.parent) for m in found) == [
        ("tee", "clothing_color_size", None),
        ("tee-red", "clothing_color_size", "tee"),
    ]
