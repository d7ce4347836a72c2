"""The asset manager's endpoints of AkeneoClient: asset families and their attributes in the
catalog, the asset media upload and download, the asset collection PATCH (a JSON array,
per-asset answers), one asset; against the sandbox, and edge cases with ``responses``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
import responses
from conftest import FakeTime, settings_of
from test_client import BASE, make_client

from feed_export.akeneo.client import AkeneoClient
from feed_export.akeneo.responses import LineResult
from feed_export.sandbox import Sandbox, start_sandbox

ASSETS = f"{BASE}/api/rest/v1/asset-families/packshots/assets"
FAMILIES = f"{BASE}/api/rest/v1/asset-families"
TOKEN = {"access_token": "t", "refresh_token": "r", "expires_in": 3600}


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    with start_sandbox() as sandbox:
        yield sandbox


@pytest.fixture
def client(sb: Sandbox) -> Iterator[AkeneoClient]:
    with AkeneoClient(settings_of(sb)) as c:
        yield c


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.post(f"{BASE}/api/oauth/v1/token", json=TOKEN)
        yield mock


def asset(code: str, media: str | None = None, **values: Any) -> bytes:
    body: dict[str, Any] = {"code": code, "values": {}}
    if media is not None:
        body["values"]["media"] = [{"locale": None, "channel": None, "data": media}]
    for name, data in values.items():
        body["values"][name] = [{"locale": "en_US", "channel": None, "data": data}]
    return orjson.dumps(body)


# -- against the sandbox -----------------------------------------------------------------


def test_catalog_reads_asset_families_and_their_attributes(client: AkeneoClient) -> None:
    catalog = client.fetch_catalog(["sku"], asset_families=True)
    assert [f["code"] for f in catalog["asset_families"]] == ["packshots"]
    assert catalog["asset_families"][0]["attribute_as_main_media"] == "media"
    attributes = catalog["asset_attributes"]["packshots"]
    assert [a["code"] for a in attributes] == ["media", "alt_text"]
    assert all("_links" not in a for a in attributes)


def test_catalog_reads_only_the_families_asked_for(client: AkeneoClient) -> None:
    catalog = client.fetch_catalog(["sku"], asset_families=["PACKSHOTS", "other"])
    assert list(catalog["asset_attributes"]) == ["packshots"]
    assert "asset_families" not in client.fetch_catalog(["sku"])


def test_catalog_sections_hold_asset_families_unless_left_out(client: AkeneoClient) -> None:
    sections = client.catalog_sections(["sku"], without=["product_models"])
    assert list(sections["asset_attributes"]) == ["packshots"]
    left_out = client.catalog_sections(["sku"], without=["asset_families", "product_models"])
    assert "asset_families" not in left_out and "asset_attributes" not in left_out


def test_upload_then_create_assets_then_read_them_back(client: AkeneoClient, sb: Sandbox) -> None:
    upload = client.upload_asset_media_file(
        filename="front view.png", content=b"\x89PNG front", content_type="image/png"
    )
    assert upload.status == 201 and upload.code is not None, upload
    stored = sb.state.asset_media_file(upload.code)
    assert stored is not None and stored.content == b"\x89PNG front"
    results = client.patch_assets(
        "packshots",
        [asset("front", upload.code, alt_text="Front"), asset("back", "no/such/file.png")],
    )
    assert results[0] == LineResult(201, "")
    assert results[1].status == 422
    assert 'The file "no/such/file.png" was not found.' in results[1].message
    found = client.asset("packshots", "front")
    assert found is not None and found["values"]["media"][0]["data"] == upload.code
    assert client.asset("packshots", "back") is None
    assert client.download_asset_media_file(upload.code, 1000) == b"\x89PNG front"
    assert client.download_asset_media_file(upload.code, 3) is None  # larger than allowed
    assert client.download_asset_media_file("a/b/c/d/nothing.png", 1000) is None
    again = client.patch_assets("packshots", [asset("front", upload.code, alt_text="Front")])
    assert again == [LineResult(204, "")]
    assert sb.stats.requests["PATCH /api/rest/v1/asset-families/<family>/assets"] == 2


def test_more_than_100_assets_are_split_by_the_pim_refusal(
    client: AkeneoClient, sb: Sandbox
) -> None:
    results = client.patch_assets("packshots", [asset(f"a{i}") for i in range(150)])
    assert [r.status for r in results] == [201] * 150
    assert client.stats.batch_splits == 1
    assert len(sb.state.assets("packshots")) == 150


def test_an_unknown_family_refuses_every_line(client: AkeneoClient) -> None:
    results = client.patch_assets("nope", [asset("a"), asset("b")])
    assert [r.status for r in results] == [404, 404]
    assert results[0].message == (
        'Request refused by the PIM (404 Not Found): Asset family "nope" does not exist.'
    )


# -- edge cases ----------------------------------------------------------------------------


def test_no_asset_manager_leaves_the_sections_out(
    rsps: responses.RequestsMock, fake: FakeTime
) -> None:
    rsps.get(FAMILIES, status=404, json={"code": 404, "message": "No route found"})
    client = make_client(fake)
    assert client.asset_families() is None
    rsps.get(f"{BASE}/api/rest/v1/attributes", json={"_embedded": {"items": []}, "_links": {}})
    rsps.get(f"{BASE}/api/rest/v1/channels", json={"_embedded": {"items": []}, "_links": {}})
    rsps.get(f"{BASE}/api/rest/v1/locales", json={"_embedded": {"items": []}, "_links": {}})
    rsps.get(f"{BASE}/api/rest/v1/currencies", json={"_embedded": {"items": []}, "_links": {}})
    rsps.get(f"{BASE}/api/rest/v1/measurement-families", json=[])
    catalog = client.fetch_catalog(None, asset_families=True)
    assert "asset_families" not in catalog and "asset_attributes" not in catalog


def test_asset_families_follow_search_after_pages(
    rsps: responses.RequestsMock, fake: FakeTime
) -> None:
    second = f"{FAMILIES}?search_after=b"
    rsps.get(
        second,
        json={"_embedded": {"items": [{"code": "c"}]}, "_links": {}},
        match=[responses.matchers.query_param_matcher({"search_after": "b"})],
    )
    rsps.get(
        FAMILIES,
        json={
            "_embedded": {"items": [{"code": "a", "_links": {}}, {"code": "b"}]},
            "_links": {"next": {"href": second}},
        },
    )
    assert make_client(fake).asset_families() == [{"code": "a"}, {"code": "b"}, {"code": "c"}]


def test_an_answer_cut_short_sends_the_assets_again(
    rsps: responses.RequestsMock, fake: FakeTime
) -> None:
    rsps.patch(ASSETS, body=b'[{"code": "a", "status_code": 201}')  # not a whole array
    rsps.patch(ASSETS, json=[{"code": "a", "status_code": 204}, {"code": "b", "status_code": 201}])
    client = make_client(fake)
    assert client.patch_assets("packshots", [asset("a"), asset("b")]) == [
        LineResult(204, ""),
        LineResult(201, ""),
    ]
    assert client.stats.retries == 1
    bodies = [json.loads(c.request.body) for c in rsps.calls if c.request.method == "PATCH"]
    assert [[a["code"] for a in body] for body in bodies] == [["a", "b"], ["a", "b"]]


def test_an_answer_naming_another_asset_is_unknown(
    rsps: responses.RequestsMock, fake: FakeTime
) -> None:
    rsps.patch(ASSETS, json=[{"code": "b", "status_code": 201}, {"code": "A", "status_code": 201}])
    results = make_client(fake).patch_assets("packshots", [asset("a"), asset("b")])
    assert results[0].status == 0
    assert results[0].message.startswith(
        'Unknown: the PIM\'s answer named another asset ("b" instead of "a")'
    )
    assert results[1].status == 0


def test_per_asset_errors_are_rendered(rsps: responses.RequestsMock, fake: FakeTime) -> None:
    rsps.patch(
        ASSETS,
        json=[
            {
                "code": "a",
                "status_code": 422,
                "message": "The asset has data that does not comply with the business rules.",
                "errors": [{"property": "values.media", "message": 'The file "x" was not found.'}],
            }
        ],
    )
    (result,) = make_client(fake).patch_assets("packshots", [asset("a")])
    assert result == LineResult(
        422,
        "The asset has data that does not comply with the business rules. "
        'values.media: The file "x" was not found.',
    )


def test_upload_takes_the_code_from_its_header_or_location(
    rsps: responses.RequestsMock, fake: FakeTime
) -> None:
    url = f"{BASE}/api/rest/v1/asset-media-files"
    rsps.post(url, status=201, headers={"Asset-media-file-code": "1/2/3/4/abc_a.png"})
    rsps.post(url, status=201, headers={"Location": f"{url}/5/6/7/8/def_b.png"})
    rsps.post(url, status=201)
    rsps.post(url, status=422, json={"code": 422, "message": 'Property "file" is required.'})
    client = make_client(fake)
    codes = [
        client.upload_asset_media_file(filename="a.png", content=b"x", content_type="image/png")
        for _ in range(4)
    ]
    assert [(u.status, u.code) for u in codes] == [
        (201, "1/2/3/4/abc_a.png"),
        (201, "5/6/7/8/def_b.png"),
        (0, None),
        (422, None),
    ]
    assert codes[3].message == 'Property "file" is required.'
    assert b'filename="a.png"' in (rsps.calls[1].request.body or b"")
