"""The sandbox PIM's asset manager: asset families and attributes, asset media files, the
asset PATCH (collection and single), the asset list, and product asset collections.

Texts come from Akeneo's asset manager sources named in feed_export/sandbox/assets.py and
routes/assets.py; the ones the sandbox could not confirm are marked there.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_sandbox import Api, v

from feed_export.sandbox import Faults, start_sandbox
from feed_export.sandbox.catalog import demo_catalog_data

JSON = "application/json"


@pytest.fixture
def api() -> Iterator[Api]:
    with start_sandbox() as sb:
        yield Api(sb)


def url(api: Api, path: str) -> str:
    return f"{api.sb.url}/api/rest/v1{path}"


def upload(api: Api, name: str = "red tee.png", content: bytes = b"\x89PNG") -> requests.Response:
    return api.session.post(
        url(api, "/asset-media-files"),
        files={"file": (name, content, "image/png")},
        headers=api.headers(),
        timeout=10,
    )


def patch_assets(
    api: Api, body: Any, family: str = "packshots", content_type: str = JSON
) -> requests.Response:
    return api.session.patch(
        url(api, f"/asset-families/{family}/assets"),
        data=body if isinstance(body, str | bytes) else json.dumps(body),
        headers=api.headers(**{"Content-Type": content_type}),
        timeout=10,
    )


def patch_asset(api: Api, code: str, body: Any, family: str = "packshots") -> requests.Response:
    return api.session.patch(
        url(api, f"/asset-families/{family}/assets/{code}"),
        data=json.dumps(body),
        headers=api.headers(**{"Content-Type": JSON}),
        timeout=10,
    )


def a(data: Any, locale: str | None = None, channel: str | None = None) -> list[dict[str, Any]]:
    """One asset value: ``channel``, not ``scope``."""
    return [{"locale": locale, "channel": channel, "data": data}]


# -- asset families and their attributes ------------------------------------------------------
def test_asset_families_list_one_and_404(api: Api) -> None:
    body = api.get("/asset-families").json()
    assert set(body) == {"_links", "_embedded"}
    (item,) = body["_embedded"]["items"]
    assert item["_links"] == {"self": {"href": url(api, "/asset-families/packshots")}}
    assert (item["code"], item["attribute_as_main_media"]) == ("packshots", "media")
    assert body["_links"] == {
        "self": {"href": url(api, "/asset-families")},
        "first": {"href": url(api, "/asset-families")},
    }
    one = api.get("/asset-families/packshots").json()
    assert one == {k: val for k, val in item.items() if k != "_links"}
    r = api.get("/asset-families/Packshots")  # case-sensitive
    assert (r.status_code, r.json()["message"]) == (404, 'Asset family "Packshots" does not exist.')


def test_asset_families_pages_follow_search_after() -> None:
    catalog = demo_catalog_data()
    catalog["asset_families"] = [{"code": f"family_{i:03d}"} for i in range(150)]
    with start_sandbox(catalog=catalog) as sb:
        client = Api(sb)
        first = client.get("/asset-families").json()
        assert len(first["_embedded"]["items"]) == 100
        assert first["_links"]["next"]["href"].endswith("/asset-families?search_after=family_099")
        second = client.session.get(
            first["_links"]["next"]["href"], headers=client.headers(), timeout=10
        ).json()
        codes = [i["code"] for i in second["_embedded"]["items"]]
        assert codes == [f"family_{i:03d}" for i in range(100, 150)]
        assert "next" not in second["_links"]


def test_asset_family_attributes(api: Api) -> None:
    items = api.get("/asset-families/packshots/attributes").json()
    assert [(i["code"], i["type"], i["value_per_locale"]) for i in items] == [
        ("media", "media_file", False),
        ("alt_text", "text", True),
    ]
    assert items[0]["_links"] == {
        "self": {"href": url(api, "/asset-families/packshots/attributes/media")}
    }
    r = api.get("/asset-families/nope/attributes")
    assert (r.status_code, r.json()["message"]) == (404, 'Asset family "nope" does not exist.')


# -- asset media files --------------------------------------------------------------------------
def test_asset_media_file_upload_answers_its_code_in_a_header(api: Api) -> None:
    r = upload(api)
    assert (r.status_code, r.content) == (201, b"")
    code = r.headers["Asset-media-file-code"]
    assert code.endswith("_red_tee.png") and code.count("/") == 4
    assert r.headers["Location"] == url(api, f"/asset-media-files/{code}")
    got = api.session.get(r.headers["Location"], headers=api.headers(), timeout=10)
    assert (got.status_code, got.content, got.headers["Content-Type"]) == (
        200,
        b"\x89PNG",
        "image/png",
    )
    # an asset file is not a product media file
    assert api.get(f"/media-files/{code}").status_code == 404


@pytest.mark.parametrize(
    ("files", "status", "message"),
    [
        ({"other": ("a.png", b"x", "image/png")}, 422, 'Property "file" is required.'),
        (
            {"file": ("a.p#g", b"x", "image/png")},
            422,
            "File extension cannot contain special characters.",
        ),
    ],
    ids=["no-file", "special-extension"],
)
def test_asset_media_file_upload_errors(
    api: Api, files: dict[str, Any], status: int, message: str
) -> None:
    r = api.session.post(
        url(api, "/asset-media-files"), files=files, headers=api.headers(), timeout=10
    )
    assert (r.status_code, r.json()) == (status, {"code": status, "message": message})


def test_asset_media_file_needs_multipart_and_an_existing_code(api: Api) -> None:
    r = api.session.post(url(api, "/asset-media-files"), json={}, headers=api.headers(), timeout=10)
    assert r.status_code == 415
    r = api.get("/asset-media-files/a/b/c/d/nope.png")
    assert r.status_code == 404


# -- the asset collection PATCH -----------------------------------------------------------------
def test_asset_collection_patch_answers_each_asset_in_order(api: Api) -> None:
    media = upload(api).headers["Asset-media-file-code"]
    r = patch_assets(
        api,
        [
            {"code": "tee_red", "values": {"media": a(media), "alt_text": a("Red tee", "en_US")}},
            {"code": "bad-code"},
            {"code": "wrong", "values": {"media": a("a/b/c/d/nope.png", "en_US")}},
            {"code": "shape", "values": {"media": a(5)}},
            {"code": "stray", "values": {"size": a("m")}},
            {"code": "tee_red", "values": {"alt_text": a("Rotes T-Shirt", "de_DE")}},
        ],
    )
    assert (r.status_code, r.headers["Content-Type"]) == (200, JSON)
    assert r.json() == [
        {"code": "tee_red", "status_code": 201},
        {
            "code": "bad-code",
            "status_code": 422,
            "message": 'Asset code may contain only letters, numbers and underscores. "bad-code" '
            "given",
        },
        {
            "code": "wrong",
            "status_code": 422,
            "message": "The asset has data that does not comply with the business rules.",
            "errors": [
                {
                    "property": "values.media",
                    "message": 'A locale is not expected for attribute "media" because it has '
                    "not a value per locale.",
                },
                {
                    "property": "values.media",
                    "message": 'The file "a/b/c/d/nope.png" was not found.',
                },
            ],
        },
        {
            "code": "shape",
            "status_code": 422,
            "message": "The asset has an invalid format.",
            "errors": [
                {
                    "property": "values.media[0].data",
                    "message": "Integer value found, but a string or a null is required",
                }
            ],
        },
        {
            "code": "stray",
            "status_code": 422,
            "message": 'The attribute "size" does not exist for the asset family "packshots".',
        },
        {"code": "tee_red", "status_code": 204},
    ]
    shown = api.get("/asset-families/packshots/assets/TEE_RED").json()
    assert shown["code"] == "tee_red"
    assert shown["values"]["media"] == [
        {
            "locale": None,
            "channel": None,
            "data": media,
            "_links": {"download": {"href": url(api, f"/asset-media-files/{media}")}},
        }
    ]
    assert sorted(x["locale"] for x in shown["values"]["alt_text"]) == ["de_DE", "en_US"]
    assert [x["code"] for x in api.sb.state.assets("packshots")] == ["tee_red"]
    assert api.sb.state.asset_media_file(media) is not None


@pytest.mark.parametrize(
    ("family", "body", "content_type", "status", "expected"),
    [
        ("Packshots", "[]", JSON, 404, {"message": 'Asset family "Packshots" does not exist.'}),
        ("packshots", "[oops", JSON, 400, {"message": "Invalid json message received"}),
        (
            "packshots",
            '{"code": "x"}',
            JSON,
            400,
            {
                "message": "The list of assets has an invalid format.",
                "errors": [{"property": "", "message": "The list must be an array of objects"}],
            },
        ),
        (
            "packshots",
            json.dumps([{"code": f"a{i}"} for i in range(101)]),
            JSON,
            413,
            {"message": "Too many resources to process, 100 is the maximum allowed."},
        ),
        (
            "packshots",
            "[]",
            "application/vnd.akeneo.collection+json",
            415,
            {
                "message": '"application/vnd.akeneo.collection+json" in "Content-Type" header is '
                'not valid. Only "application/json" is allowed.'
            },
        ),
    ],
    ids=["family-case-sensitive", "bad-json", "not-a-list", "over-100", "content-type"],
)
def test_asset_collection_patch_whole_request_errors(
    api: Api, family: str, body: str, content_type: str, status: int, expected: dict[str, Any]
) -> None:
    r = patch_assets(api, body, family, content_type)
    assert (r.status_code, r.json()) == (status, {"code": status, **expected})
    assert list(api.sb.store.iter_assets("packshots")) == []


def test_null_erases_an_asset_value_and_unchanged_assets_keep_their_date(api: Api) -> None:
    clock = [1_700_000_000.0]
    api.sb.clock = lambda: clock[0]
    try:
        patch_assets(api, [{"code": "one", "values": {"alt_text": a("Hi", "en_US")}}])
        first = api.get("/asset-families/packshots/assets/one").json()
        clock[0] += 60
        again = patch_assets(api, [{"code": "one", "values": {"alt_text": a("Hi", "en_US")}}])
        assert again.json() == [{"code": "one", "status_code": 204}]
        assert api.get("/asset-families/packshots/assets/one").json() == first
        patch_assets(api, [{"code": "one", "values": {"alt_text": a(None, "en_US")}}])
        erased = api.get("/asset-families/packshots/assets/one").json()
        assert erased["values"] == {} and erased["updated"] != first["updated"]
    finally:
        api.sb.clock = __import__("time").time


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    codes=st.lists(
        st.one_of(st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True), st.text(max_size=6)),
        max_size=12,
    )
)
def test_every_asset_gets_one_answer_naming_it_in_order(api: Api, codes: list[str]) -> None:
    r = patch_assets(api, [{"code": c} for c in codes])
    assert [line["code"] for line in r.json()] == codes
    assert all(line["status_code"] in {201, 204, 422} for line in r.json())


# -- one asset ----------------------------------------------------------------------------------
def test_single_asset_patch_and_get(api: Api) -> None:
    r = patch_asset(api, "hero", {"code": "hero", "values": {"alt_text": a("Hero", "fr_FR")}})
    assert (r.status_code, r.content) == (201, b"")
    assert r.headers["Location"] == url(api, "/asset-families/packshots/assets/hero")
    assert patch_asset(api, "hero", {"code": "hero"}).status_code == 204
    r = patch_asset(api, "hero", {"code": "other"})
    assert (r.status_code, r.json()["message"]) == (
        422,
        "The code of the asset provided in the URI must be the same as the one provided in the "
        "request body.",
    )
    r = patch_asset(api, "hero", {"code": "hero", "values": {"alt_text": a("x")}})
    assert r.json() == {
        "code": 422,
        "message": "The asset has data that does not comply with the business rules.",
        "errors": [
            {
                "property": "values.alt_text",
                "message": 'A locale is expected for attribute "alt_text" because it has a value '
                "per locale.",
            }
        ],
    }
    r = patch_asset(api, "hero", {"code": "hero", "labels": {}})
    assert r.json() == {
        "code": 422,
        "message": "The asset has an invalid format.",
        "errors": [
            {
                "property": "",
                "message": "The property labels is not defined and the definition does not "
                "allow additional properties",
            }
        ],
    }
    r = api.get("/asset-families/packshots/assets/ghost")
    assert (r.status_code, r.json()["message"]) == (
        404,
        'Asset "ghost" does not exist for the asset family "packshots".',
    )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (a("Hi", "es_ES"), 'The locale "es_ES" is not activated.'),
        (a("x" * 256, "en_US"), "This value is too long. It should have 255 characters or less."),
    ],
    ids=["inactive-locale", "too-long"],
)
def test_asset_value_rules(api: Api, value: list[dict[str, Any]], message: str) -> None:
    r = patch_asset(api, "rules", {"code": "rules", "values": {"alt_text": value}})
    assert r.json()["errors"] == [{"property": "values.alt_text", "message": message}]


def test_a_media_file_extension_outside_the_allowed_list(api: Api) -> None:
    media = upload(api, "manual.pdf", b"%PDF").headers["Asset-media-file-code"]
    r = patch_asset(api, "doc", {"code": "doc", "values": {"media": a(media)}})
    assert r.json()["errors"] == [
        {
            "property": "values.media",
            "message": '"pdf" files are not allowed for this attribute. Allowed extensions are: '
            "jpg, jpeg, png, gif, webp",
        }
    ]


# -- the asset list -----------------------------------------------------------------------------
def test_asset_list_search_on_codes_and_value_filters(api: Api) -> None:
    patch_assets(
        api,
        [
            {
                "code": code,
                "values": {"alt_text": a(f"{code} en", "en_US") + a(f"{code} fr", "fr_FR")},
            }
            for code in ("b_two", "a_one", "c_three")
        ],
    )
    items = api.get("/asset-families/packshots/assets").json()["_embedded"]["items"]
    assert [i["code"] for i in items] == ["a_one", "b_two", "c_three"]  # by code
    search = json.dumps({"code": [{"operator": "IN", "value": ["C_THREE", "a_one", "nope"]}]})
    r = api.get("/asset-families/packshots/assets", search=search, locales="fr_FR")
    body = r.json()
    assert [i["code"] for i in body["_embedded"]["items"]] == ["a_one", "c_three"]
    assert body["_embedded"]["items"][0]["values"] == {"alt_text": a("a_one fr", "fr_FR")}
    assert "search=" in body["_links"]["self"]["href"]


@pytest.mark.parametrize(
    ("search", "status", "message"),
    [
        ("{oops", 400, "The search query parameter must be a valid JSON."),
        (
            '{"family":[{"operator":"IN","value":["x"]}]}',
            422,
            "The search filters have an invalid format.",
        ),
    ],
    ids=["bad-json", "unknown-filter"],
)
def test_asset_list_search_errors(api: Api, search: str, status: int, message: str) -> None:
    r = api.get("/asset-families/packshots/assets", search=search)
    assert (r.status_code, r.json()["message"]) == (status, message)


def test_asset_list_pages_by_code() -> None:
    with start_sandbox() as sb:
        client = Api(sb)
        patch_assets(client, [{"code": f"a_{i:03d}"} for i in range(100)])
        patch_assets(client, [{"code": f"b_{i:03d}"} for i in range(20)])
        first = client.get("/asset-families/packshots/assets").json()
        assert len(first["_embedded"]["items"]) == 100
        assert first["_links"]["next"]["href"].endswith("/assets?search_after=a_099")
        second = client.session.get(
            first["_links"]["next"]["href"], headers=client.headers(), timeout=10
        ).json()
        assert [i["code"] for i in second["_embedded"]["items"]] == [
            f"b_{i:03d}" for i in range(20)
        ]


# -- product asset collections ------------------------------------------------------------------
def test_product_asset_collections_need_existing_assets_of_the_family(api: Api) -> None:
    patch_assets(api, [{"code": "front"}, {"code": "back"}])
    ok = api.one(
        {"identifier": "tee", "family": "clothing", "values": {"packshots": v(["front", "BACK"])}}
    )
    assert ok["status_code"] == 201
    assert api.get("/products/tee").json()["values"]["packshots"] == v(["front", "BACK"])
    bad = api.one({"identifier": "tee", "values": {"packshots": v(["front", "side"])}})
    assert bad["errors"] == [
        {
            "property": "values",
            "message": 'Please make sure the "side" asset exists and belongs to the "packshots" '
            "asset family.",
            "attribute": "packshots",
            "locale": None,
            "scope": None,
        }
    ]


def test_product_asset_collections_respect_the_attribute_limit(api: Api) -> None:
    codes = [f"shot_{i}" for i in range(11)]  # the demo attribute allows 10
    patch_assets(api, [{"code": c} for c in codes])
    assert (
        api.one({"identifier": "ten", "values": {"packshots": v(codes[:10])}})["status_code"] == 201
    )
    over = api.one({"identifier": "eleven", "values": {"packshots": v(codes)}})
    assert [e["message"] for e in over["errors"]] == [
        "You have reached the limit of 10 assets per collection, you can no longer add assets "
        "to your collection."
    ]


# -- faults -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/asset-families"),
        ("GET", "/asset-families/packshots/assets"),
        ("PATCH", "/asset-families/packshots/assets"),
        ("POST", "/asset-media-files"),
    ],
    ids=["families", "assets", "patch", "media"],
)
def test_faults_reach_the_asset_routes(api: Api, method: str, path: str) -> None:
    api.sb.faults = Faults(rate_5xx=1.0, statuses_5xx=(503,))
    r = api.session.request(method, url(api, path), headers=api.headers(), timeout=10)
    assert r.status_code == 503


def test_a_cut_asset_patch_applies_only_the_assets_before_the_cut(api: Api) -> None:
    api.sb.faults = Faults(rate_cut=1.0, cut_after=2)
    with pytest.raises(
        requests.ConnectionError, match="Remote end closed connection without response"
    ):
        patch_assets(api, [{"code": f"cut_{i}"} for i in range(5)])
    api.sb.faults = Faults()
    assert [x["code"] for x in api.sb.store.iter_assets("packshots")] == ["cut_0", "cut_1"]
    api.sb.faults = Faults(rate_html_tail=1.0, cut_after=1)
    r = patch_assets(api, [{"code": "tail_0"}, {"code": "tail_1"}])
    assert r.text.startswith('[{"code":"tail_0","status_code":201}]<!DOCTYPE html>')
