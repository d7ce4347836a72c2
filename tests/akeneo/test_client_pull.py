"""The client's endpoints a pull and a deletion use: pages, counts, DELETE, media downloads.

HTTP is mocked with ``responses``; the clock and the sleeps are fake (no waiting)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import responses
from conftest import FakeTime
from pydantic import SecretStr

from feed_export.akeneo.client import AkeneoClient
from feed_export.akeneo.responses import LineResult
from feed_export.config import RetrySettings, Settings
from feed_export.errors import RetriesExhausted, TransportError

BASE = "https://pim.test"
API = f"{BASE}/api/rest/v1"
TOKEN_URL = f"{BASE}/api/oauth/v1/token"


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.post(TOKEN_URL, json={"access_token": "t", "expires_in": 3600, "refresh_token": "r"})
        yield mock


@pytest.fixture
def client() -> AkeneoClient:
    fake = FakeTime()
    settings = Settings(
        base_url=BASE,
        client_id="cid",
        client_secret=SecretStr("secret"),
        username="u",
        password=SecretStr("p"),
        retry=RetrySettings(max_attempts=3, backoff_factor=1.0, max_retry_delay=5.0),
    )
    return AkeneoClient(settings, clock=fake.clock, sleep=fake.sleep, random=lambda: 0.5)


def page(items: list[dict[str, Any]], next_href: str | None = None) -> dict[str, Any]:
    links: dict[str, Any] = {"self": {"href": "x"}}
    if next_href:
        links["next"] = {"href": next_href}
    return {"_links": links, "_embedded": {"items": items}}


def test_list_pages_gives_each_page_and_follows_next(
    rsps: responses.RequestsMock, client: AkeneoClient
) -> None:
    second = f"{API}/products?search_after=abc&limit=2&pagination_type=search_after"
    rsps.get(
        f"{API}/products",
        json=page([{"identifier": "a", "_links": {}}, {"identifier": "b"}], second),
        match=[responses.matchers.query_param_matcher(
            {"limit": "100", "pagination_type": "search_after"})],
    )  # fmt: skip
    rsps.get(second.split("?")[0], json=page([{"identifier": "c"}]),
             match=[responses.matchers.query_string_matcher(urlsplit(second).query)])  # fmt: skip
    pages = list(client.list_pages("products", {"pagination_type": "search_after"}))
    assert pages == [[{"identifier": "a"}, {"identifier": "b"}], [{"identifier": "c"}]]


def test_an_empty_last_page_is_no_page(rsps: responses.RequestsMock, client: AkeneoClient) -> None:
    rsps.get(f"{API}/products", json=page([]))
    assert list(client.list_pages("products")) == []


def test_count_items_asks_one_offset_page_with_count(
    rsps: responses.RequestsMock, client: AkeneoClient
) -> None:
    rsps.get(f"{API}/products", json={**page([{"identifier": "a"}]), "items_count": 1234})
    search = '{"family":[{"operator":"IN","value":["x"]}]}'
    assert (
        client.count_items("products", {"search": search, "pagination_type": "search_after"})
        == 1234
    )
    query = parse_qs(urlsplit(rsps.calls[-1].request.url or "").query)
    assert query == {"limit": ["1"], "with_count": ["true"], "search": [search]}


@pytest.mark.parametrize("count", [None, "12", True], ids=["absent", "text", "boolean"])
def test_a_count_the_pim_does_not_give_is_none(
    rsps: responses.RequestsMock, client: AkeneoClient, count: Any
) -> None:
    body = page([]) if count is None else {**page([]), "items_count": count}
    rsps.get(f"{API}/products", json=body)
    assert client.count_items("products") is None


@pytest.mark.parametrize(
    ("entity", "key", "path"),
    [
        ("products", "TS 1/x", "/products/TS%201%2Fx"),
        ("products-uuid", "6f1c0e5a-1111-4222-8333-444455556666",
         "/products-uuid/6f1c0e5a-1111-4222-8333-444455556666"),
        ("product-models", "tee", "/product-models/tee"),
    ],
    ids=["identifier-quoted", "uuid", "model"],
)  # fmt: skip
def test_delete_item_sends_one_delete(
    rsps: responses.RequestsMock, client: AkeneoClient, entity: Any, key: str, path: str
) -> None:
    rsps.delete(f"{API}{path}", status=204)
    assert client.delete_item(entity, key) == LineResult(204, "")
    assert rsps.calls[-1].request.method == "DELETE"


def test_delete_item_says_what_the_pim_refused(
    rsps: responses.RequestsMock, client: AkeneoClient
) -> None:
    rsps.delete(f"{API}/products/x", status=404,
                json={"code": 404, "message": "The x product does not exist in your PIM."})  # fmt: skip
    assert client.delete_item("products", "x") == LineResult(
        404, "The x product does not exist in your PIM."
    )


def test_a_retried_delete_whose_first_attempt_went_through_is_deleted(
    rsps: responses.RequestsMock, client: AkeneoClient
) -> None:
    rsps.delete(f"{API}/products/x", status=503)
    rsps.delete(f"{API}/products/x", status=404, json={"code": 404, "message": "gone"})
    result = client.delete_item("products", "x")
    assert result == LineResult(204, "deleted (the first attempt went through)")


def test_a_delete_that_keeps_failing_gives_its_last_status(
    rsps: responses.RequestsMock, client: AkeneoClient
) -> None:
    rsps.delete(f"{API}/products/x", status=503)
    result = client.delete_item("products", "x")
    assert result.status == 503 and "3 attempts" in result.message


def test_download_media_writes_the_file(rsps: responses.RequestsMock, client: AkeneoClient) -> None:
    rsps.get(f"{API}/media-files/a/b/c/d/abc_x.jpg/download", body=b"\xff\xd8 jpeg bytes")
    out = io.BytesIO()
    assert client.download_media("a/b/c/d/abc_x.jpg", out, limit=1000) == 13
    assert out.getvalue() == b"\xff\xd8 jpeg bytes"


def test_download_media_refuses_a_file_over_the_limit_and_a_missing_one(
    rsps: responses.RequestsMock, client: AkeneoClient
) -> None:
    rsps.get(f"{API}/media-files/big.jpg/download", body=b"x" * 5000)
    with pytest.raises(TransportError, match="larger than"):
        client.download_media("big.jpg", io.BytesIO(), limit=1000)
    rsps.get(f"{API}/media-files/none.jpg/download", status=404,
             json={"code": 404, "message": 'Media file "none.jpg" does not exist.'})  # fmt: skip
    with pytest.raises(TransportError, match="does not exist"):
        client.download_media("none.jpg", io.BytesIO(), limit=1000)


def test_a_download_retried_starts_the_file_again(
    rsps: responses.RequestsMock, client: AkeneoClient
) -> None:
    rsps.get(f"{API}/media-files/f.jpg/download", status=502)
    rsps.get(f"{API}/media-files/f.jpg/download", body=b"whole")
    out = io.BytesIO(b"stale bytes from before")
    assert client.download_media("f.jpg", out, limit=1000) == 5
    assert out.getvalue() == b"whole"
    rsps.get(f"{API}/media-files/g.jpg/download", status=502)
    with pytest.raises(RetriesExhausted, match="502"):
        client.download_media("g.jpg", io.BytesIO(), limit=1000)
