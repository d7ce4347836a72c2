"""The sandbox PIM over real loopback HTTP: token, lists, collection PATCH, validation, updates.

Expected texts are quoted from the reference (akeneo-api.md, section in each test's id).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feed_export.sandbox import Sandbox, start_sandbox
from feed_export.sandbox.routes.collection import split_lines
from feed_export.sandbox.updater import fixed_number, plain_number, to_decimal

COLLECTION = "application/vnd.akeneo.collection+json"
DOC = " Check the expected format on the API documentation."
DOC_LINKS = {
    "documentation": {"href": "http://api.akeneo.com/api-reference.html#patch_products__code_"}
}


class Api:
    """A tiny client for the tests: token handling and collection PATCH helpers."""

    def __init__(self, sb: Sandbox) -> None:
        self.sb = sb
        self.session = requests.Session()
        self.token = self.login()["access_token"]

    def login(self) -> dict[str, Any]:
        r = self.session.post(
            f"{self.sb.url}/api/oauth/v1/token",
            json={
                "grant_type": "password",
                "username": self.sb.username,
                "password": self.sb.password,
            },
            auth=(self.sb.client_id, self.sb.client_secret),
            timeout=10,
        )
        assert r.status_code == 200, r.text
        data: dict[str, Any] = r.json()
        return data

    def headers(self, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", **extra}

    def get(self, path: str, **params: Any) -> requests.Response:
        return self.session.get(
            f"{self.sb.url}/api/rest/v1{path}", params=params, headers=self.headers(), timeout=10
        )

    def patch_raw(
        self, entity: str, body: bytes | str, content_type: str | None = COLLECTION, **kw: Any
    ) -> requests.Response:
        headers = self.headers()
        if content_type is not None:
            headers["Content-Type"] = content_type
        return self.session.patch(
            f"{self.sb.url}/api/rest/v1/{entity}", data=body, headers=headers, timeout=30, **kw
        )

    def patch(self, entity: str, *lines: dict[str, Any] | str) -> list[dict[str, Any]]:
        body = "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines)
        r = self.patch_raw(entity, body)
        assert r.status_code == 200, r.text
        assert r.headers["Content-Type"] == COLLECTION
        return [json.loads(line) for line in r.text.split("\n")] if r.text else []

    def one(self, line: dict[str, Any], entity: str = "products") -> dict[str, Any]:
        (result,) = self.patch(entity, line)
        return result


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with start_sandbox() as sb:
        yield sb


@pytest.fixture(scope="module")
def api(sandbox: Sandbox) -> Api:
    return Api(sandbox)


def v(data: Any, locale: str | None = None, scope: str | None = None) -> list[dict[str, Any]]:
    """One value in the standard format."""
    return [{"locale": locale, "scope": scope, "data": data}]


# -- authentication (§1) ------------------------------------------------------------------
def _token(sb: Sandbox, body: Any = None, *, auth: Any = "demo", **kw: Any) -> requests.Response:
    if auth == "demo":
        auth = (sb.client_id, sb.client_secret)
    return requests.post(f"{sb.url}/api/oauth/v1/token", json=body, auth=auth, timeout=10, **kw)


def test_password_grant_answers_the_documented_keys(sandbox: Sandbox) -> None:
    r = _token(sandbox, {"grant_type": "password", "username": "sandbox", "password": "sandbox"})
    assert r.status_code == 200
    data = r.json()
    assert set(data) == {"access_token", "expires_in", "token_type", "scope", "refresh_token"}
    assert (data["expires_in"], data["token_type"], data["scope"]) == (3600, "bearer", None)


def test_form_encoded_token_request_is_accepted(sandbox: Sandbox) -> None:
    r = requests.post(
        f"{sandbox.url}/api/oauth/v1/token",
        data={"grant_type": "password", "username": "sandbox", "password": "sandbox"},
        auth=(sandbox.client_id, sandbox.client_secret),
        timeout=10,
    )
    assert r.status_code == 200 and r.json()["access_token"]


@pytest.mark.parametrize(
    ("body", "auth", "message"),
    [
        (
            {"username": "sandbox", "password": "sandbox"},
            "demo",
            'Parameter "grant_type", "username" or "password" is missing, empty or invalid',
        ),
        (
            {"grant_type": "password", "username": "sandbox"},
            "demo",
            'Parameter "grant_type", "username" or "password" is missing, empty or invalid',
        ),
        (
            {"grant_type": "password", "username": "sandbox", "password": "sandbox"},
            None,
            'Parameter "client_id" is missing or does not match any client, or secret is invalid',
        ),
        (
            {"grant_type": "password", "username": "sandbox", "password": "sandbox"},
            ("sandbox_client", "wrong"),
            'Parameter "client_id" is missing or does not match any client, or secret is invalid',
        ),
        ({"grant_type": "token"}, "demo", "This grant type is not authorized for this client"),
        (
            {"grant_type": "password", "username": "sandbox", "password": "nope"},
            "demo",
            "No user found for the given username and password",
        ),
        (
            {"grant_type": "refresh_token"},
            "demo",
            'Parameter "grant_type" or "refresh_token" is missing or empty',
        ),
        (
            {"grant_type": "refresh_token", "refresh_token": "bogus"},
            "demo",
            "Refresh token is invalid or has expired",
        ),
    ],
    ids=[
        "no-grant",
        "no-password",
        "no-client",
        "bad-secret",
        "grant-not-allowed",
        "wrong-password",
        "no-refresh-token",
        "unknown-refresh-token",
    ],
)
def test_token_errors_are_422_with_akeneo_texts(
    sandbox: Sandbox, body: dict[str, Any], auth: Any, message: str
) -> None:
    r = _token(sandbox, body, auth=auth)
    assert (r.status_code, r.json()) == (422, {"code": 422, "message": message})


def test_token_endpoint_refuses_other_content_types_and_big_bodies(sandbox: Sandbox) -> None:
    r = requests.post(
        f"{sandbox.url}/api/oauth/v1/token",
        data="<x/>",
        headers={"Content-Type": "application/xml"},
        timeout=10,
    )
    assert r.status_code == 415
    assert r.json()["message"] == (
        '"application/xml" in "Content-Type" header is not valid. Only "application/json" or '
        '"application/x-www-form-urlencoded" are allowed.'
    )
    big = {"grant_type": "password", "username": "x" * 300, "password": "y"}
    r = _token(sandbox, big)
    assert (r.status_code, r.json()["message"]) == (
        413,
        "Request content exceeded the maximum allowed size of 300 bytes",
    )


def test_refresh_gives_new_tokens_and_uses_the_old_refresh_token_up(sandbox: Sandbox) -> None:
    first = _token(
        sandbox, {"grant_type": "password", "username": "sandbox", "password": "sandbox"}
    ).json()
    second = _token(
        sandbox, {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    )
    assert second.status_code == 200
    data = second.json()
    assert data["access_token"] != first["access_token"]
    assert data["refresh_token"] != first["refresh_token"]
    again = _token(
        sandbox, {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    )
    assert again.json()["message"] == "Refresh token is invalid or has expired"


def test_api_calls_without_valid_token_get_401_texts(sandbox: Sandbox) -> None:
    url = f"{sandbox.url}/api/rest/v1/locales"
    r = requests.get(url, timeout=10)
    assert (r.status_code, r.json()) == (
        401,
        {"code": 401, "message": "Authentication is required"},
    )
    r = requests.get(url, headers={"Authorization": "Bearer nope"}, timeout=10)
    assert (r.status_code, r.json()["message"]) == (401, "The access token provided is invalid.")


def test_tokens_expire_by_the_sandbox_clock() -> None:
    now = [1_000_000.0]
    with start_sandbox(token_lifetime=60) as sb:
        sb.clock = lambda: now[0]
        api = Api(sb)
        assert api.get("/locales").status_code == 200
        now[0] += 59.9
        assert api.get("/locales").status_code == 200
        now[0] += 0.2
        r = api.get("/locales")
        assert (r.status_code, r.json()["message"]) == (
            401,
            "The access token provided has expired.",
        )
        refreshed = _token(
            sb, {"grant_type": "refresh_token", "refresh_token": api.login()["refresh_token"]}
        )
        assert refreshed.json()["expires_in"] == 60
        # refresh tokens last 14 days
        stale = api.login()["refresh_token"]
        now[0] += 1_209_600
        r = _token(sb, {"grant_type": "refresh_token", "refresh_token": stale})
        assert r.json()["message"] == "Refresh token is invalid or has expired"


# -- reference data, pagination and search (§6) ----------------------------------------
def test_offset_pagination_ends_with_an_empty_page_when_the_last_is_full(api: Api) -> None:
    page1 = api.get("/locales", limit=5).json()  # the demo catalog has exactly 5 locales
    assert [i["code"] for i in page1["_embedded"]["items"]] == [
        "de_DE",
        "en_US",
        "es_ES",
        "fr_FR",
        "it_IT",
    ]
    assert page1["current_page"] == 1 and "previous" not in page1["_links"]
    assert "next" in page1["_links"]
    page2 = requests.get(page1["_links"]["next"]["href"], headers=api.headers(), timeout=10).json()
    assert page2["_embedded"]["items"] == []
    assert "next" not in page2["_links"] and "previous" in page2["_links"]


def test_pagination_pages_links_and_count(api: Api) -> None:
    r = api.get("/locales", limit=2, page=3, with_count="true").json()
    assert [i["code"] for i in r["_embedded"]["items"]] == ["it_IT"]
    assert r["items_count"] == 5 and r["current_page"] == 3
    assert "next" not in r["_links"]
    assert r["_links"]["previous"]["href"].endswith("page=2&limit=2&with_count=true")
    item = r["_embedded"]["items"][0]
    assert item == {
        "_links": {"self": {"href": f"{api.sb.url}/api/rest/v1/locales/it_IT"}},
        "code": "it_IT",
        "enabled": False,
    }
    assert len(api.get("/attributes").json()["_embedded"]["items"]) == 10  # default limit


@pytest.mark.parametrize(
    ("params", "status", "message"),
    [
        ({"limit": "101"}, 422, "You cannot request more than 100 items."),
        ({"limit": "abc"}, 422, '"abc" is not a valid limit number.'),
        ({"limit": "0"}, 422, '"0" is not a valid limit number.'),
        ({"page": "0"}, 422, '"0" is not a valid page number.'),
        (
            {"with_count": "yes"},
            422,
            'Parameter "with_count" has to be a boolean. Only "true" or "false" allowed, '
            '"yes" given.',
        ),
        (
            {"page": "99999999999999999999"},
            422,
            '"99999999999999999999" is not a valid page number.',
        ),
        ({"page": "9223372036854775808"}, 422, '"9223372036854775808" is not a valid page number.'),
        ({"page": "007"}, 422, '"007" is not a valid page number.'),
        ({"page": "1e3"}, 422, '"1e3" is not a valid page number.'),
        ({"page": "-1"}, 422, '"-1" is not a valid page number.'),
        ({"page": "9" * 5000}, 422, f'"{"9" * 5000}" is not a valid page number.'),
        (
            {"limit": "18446744073709551616"},
            422,
            '"18446744073709551616" is not a valid limit number.',
        ),
        ({"limit": "+5"}, 422, '"+5" is not a valid limit number.'),
        ({"limit": "9223372036854775807"}, 422, "You cannot request more than 100 items."),
        (
            {"limit": "abc", "page": "0"},
            422,
            '"abc" is not a valid limit number.',
        ),
        ({"pagination_type": "cursor"}, 422, "Pagination type does not exist."),
        ({"pagination_type": "search_after"}, 422, "Pagination type is not supported."),
        ({"search": "{code"}, 400, "Search query parameter should be valid JSON."),
        (
            {"search": '{"labels":[{"operator":"=","value":1}]}'},
            422,
            'Filter on property "labels" is not supported or does not support operator "="',
        ),
    ],
    ids=[
        "limit-over-100",
        "limit-text",
        "limit-zero",
        "page-zero",
        "page-beyond-64-bits",
        "page-just-beyond-php-int-max",
        "page-leading-zero",
        "page-exponent",
        "page-negative",
        "page-5000-digits",
        "limit-beyond-64-bits",
        "limit-plus-sign",
        "limit-php-int-max",
        "limit-checked-before-page",
        "with-count",
        "type-unknown",
        "search-after",
        "search-not-json",
        "filter-unsupported",
    ],
)
def test_list_parameter_errors(api: Api, params: dict[str, str], status: int, message: str) -> None:
    r = api.get("/locales", **params)
    assert (r.status_code, r.json()) == (status, {"code": status, "message": message})


def test_the_largest_php_integer_is_a_valid_page(api: Api) -> None:
    r = api.get("/locales", page="9223372036854775807")
    assert r.status_code == 200
    assert r.json()["_embedded"]["items"] == [] and "next" not in r.json()["_links"]


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    page=st.one_of(st.integers(min_value=-(2**70), max_value=2**70).map(str), st.text(max_size=30)),
    limit=st.one_of(
        st.integers(min_value=-(2**70), max_value=2**70).map(str), st.text(max_size=30)
    ),
)
def test_any_page_or_limit_text_answers_200_or_422_never_500(
    api: Api, page: str, limit: str
) -> None:
    r = api.get("/locales", page=page, limit=limit)
    assert r.status_code in {200, 422}, r.text
    assert r.status_code == 422 or (page.isdigit() and limit.isdigit())


def test_search_by_code_and_by_enabled(api: Api) -> None:
    search = json.dumps({"code": [{"operator": "IN", "value": ["price", "weight", "nope"]}]})
    items = api.get("/attributes", search=search).json()["_embedded"]["items"]
    assert [i["code"] for i in items] == ["price", "weight"]
    enabled = json.dumps({"enabled": [{"operator": "=", "value": True}]})
    codes = [i["code"] for i in api.get("/currencies", search=enabled).json()["_embedded"]["items"]]
    assert codes == ["EUR", "GBP", "USD"]
    locales = api.get("/locales", search=enabled).json()["_embedded"]["items"]
    assert [i["code"] for i in locales] == ["de_DE", "en_US", "fr_FR"]


def test_reference_endpoints(api: Api) -> None:
    families = api.get("/measurement-families").json()
    assert isinstance(families, list)  # not paginated (§6.6)
    assert {f["code"] for f in families} >= {"Length", "Weight", "Volume"}
    attribute = api.get("/attributes/weight").json()
    assert (attribute["metric_family"], attribute["default_metric_unit"]) == ("Weight", "KILOGRAM")
    options = api.get("/attributes/color/options", limit=100).json()["_embedded"]["items"]
    assert "red" in [o["code"] for o in options]
    variants = api.get("/families/clothing/variants").json()["_embedded"]["items"]
    assert variants and all("family" not in item for item in variants)
    assert [c["code"] for c in api.get("/channels").json()["_embedded"]["items"]] == [
        "ecommerce",
        "print",
    ]
    r = api.get("/attributes/nope")
    assert (r.status_code, r.json()["message"]) == (404, 'Attribute "nope" does not exist.')
    r = api.get("/products/nope")
    assert (r.status_code, r.json()["message"]) == (404, 'Product "nope" does not exist.')


def test_accept_header_other_than_json_gives_406(api: Api) -> None:
    r = api.session.get(
        f"{api.sb.url}/api/rest/v1/locales",
        headers={**api.headers(), "Accept": "application/xml"},
        timeout=10,
    )
    assert r.status_code == 406
    assert r.json()["message"] == (
        '"application/xml" in "Accept" header is not valid. Only "application/json" is allowed.'
    )


def test_unknown_route_and_wrong_method(api: Api) -> None:
    assert api.get("/nothing-here").status_code == 404
    r = api.session.post(f"{api.sb.url}/api/rest/v1/products", headers=api.headers(), timeout=10)
    # the sandbox serves GET and PATCH on /products (Akeneo also POST)
    assert r.status_code == 405 and "Method Not Allowed (Allow: GET, PATCH)" in r.json()["message"]


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("POST", "/products", "GET, PATCH"),
        ("PUT", "/products/x", "GET, DELETE"),
        ("DELETE", "/locales", "GET"),
        ("PUT", "/media-files", "POST"),
        ("PATCH", "/locales/en_US", "GET"),
    ],
    ids=["post-products", "put-product", "delete-locales", "put-media-files", "patch-locale"],
)
def test_405_carries_an_allow_header_matching_its_message(
    api: Api, method: str, path: str, allow: str
) -> None:
    r = api.session.request(
        method, f"{api.sb.url}/api/rest/v1{path}", headers=api.headers(), timeout=10
    )
    assert (r.status_code, r.headers.get("Allow")) == (405, allow)
    assert r.json() == {
        "code": 405,
        "message": f"No route found for '{method} /api/rest/v1{path}': Method Not Allowed "
        f"(Allow: {allow})",
    }


# -- collection PATCH: whole-request answers and the stream layer (§2) ------------------
def test_wrong_or_missing_content_type_gives_415(api: Api) -> None:
    r = api.patch_raw("products", b'{"identifier":"x"}', "application/json")
    assert (r.status_code, r.json()) == (
        415,
        {
            "code": 415,
            "message": (
                '"application/json" in "Content-Type" header is not valid. Only '
                '"application/vnd.akeneo.collection+json" is allowed.'
            ),
        },
    )
    r = api.patch_raw("products", b'{"identifier":"x"}', None)
    assert r.status_code == 415
    assert r.json()["message"] == (
        'The "Content-Type" header is missing. "application/vnd.akeneo.collection+json" has to '
        "be specified as value."
    )
    r = api.patch_raw("products", b'{"identifier":"ct-param"}', COLLECTION + "; charset=utf-8")
    assert r.status_code == 200


@pytest.mark.parametrize("empty_lines", [0, 50], ids=["valid-lines", "empty-lines-count"])
def test_more_than_100_lines_is_413_and_nothing_is_written(api: Api, empty_lines: int) -> None:
    lines = [""] * empty_lines  # empty lines count too (they would each get a 400)
    lines += [json.dumps({"identifier": f"too-many-{i}"}) for i in range(101 - empty_lines)]
    before = api.sb.state.count_products()
    r = api.patch_raw("products", "\n".join(lines))
    assert (r.status_code, r.json()) == (
        413,
        {"code": 413, "message": ("Too many resources to process, 100 is the maximum allowed.")},
    )
    assert api.sb.state.count_products() == before


def test_100_lines_and_a_final_newline_are_accepted(api: Api) -> None:
    body = "\n".join(json.dumps({"identifier": f"hundred-{i}"}) for i in range(100)) + "\n"
    r = api.patch_raw("products", body)
    assert r.status_code == 200 and len(r.text.split("\n")) == 100
    assert not r.text.endswith("\n")


@pytest.mark.parametrize(
    ("entity", "line", "expected"),
    [
        ("products", "x" * 1_000_001, {"status_code": 413, "message": "Line is too long."}),
        ("products", "{not json", {"status_code": 400, "message": "Invalid json message received"}),
        ("products", "", {"status_code": 400, "message": "Invalid json message received"}),
        ("products", "null", {"status_code": 400, "message": "Invalid json message received"}),
        (
            "products",
            '{"identifier": 12}',
            {"status_code": 422, "message": "identifier must be of type string."},
        ),
        ("products", '{"values": {}}', {"status_code": 422, "message": "Identifier is missing."}),
        (
            "products",
            '{"identifier": null}',
            {"status_code": 422, "message": "Identifier is missing."},
        ),
        (
            "products",
            '{"identifier": "  "}',
            {"status_code": 422, "message": "Identifier is missing."},
        ),
        ("products", "[1, 2]", {"status_code": 422, "message": "Identifier is missing."}),
        (
            "products-uuid",
            '{"uuid": 5}',
            {"status_code": 422, "message": "uuid must be of type string."},
        ),
        ("products-uuid", "{}", {"status_code": 422, "message": "Uuid is missing."}),
        (
            "product-models",
            '{"code": 123456}',
            {"status_code": 422, "message": "code must be of type string."},
        ),
        ("product-models", '{"code": ""}', {"status_code": 422, "message": "Code is missing."}),
    ],
    ids=[
        "too-long",
        "bad-json",
        "empty-line",
        "null",
        "identifier-int",
        "identifier-absent",
        "identifier-null",
        "identifier-blank",
        "not-object",
        "uuid-int",
        "uuid-absent",
        "code-int",
        "code-empty",
    ],
)
def test_stream_layer_line_errors(
    api: Api, entity: str, line: str, expected: dict[str, Any]
) -> None:
    ok = json.dumps({ENTITY_KEY[entity]: OK_KEY[entity], **OK_EXTRA.get(entity, {})})
    results = api.patch(entity, line, ok)
    assert results[0] == {"line": 1, **expected}  # no identifier key on these lines
    assert results[1]["line"] == 2 and results[1]["status_code"] in {201, 204}


ENTITY_KEY = {"products": "identifier", "products-uuid": "uuid", "product-models": "code"}
OK_KEY = {
    "products": "stream-ok",
    "products-uuid": "0b6d2a52-6d8e-4c2a-9f35-6a4f4f3f1a10",
    "product-models": "stream-ok-model",
}
OK_EXTRA = {"product-models": {"family_variant": "clothing_size"}}


def test_results_are_streamed_one_chunk_per_line_in_order(api: Api) -> None:
    body = "\n".join(json.dumps({"identifier": f"chunk-{i}"}) for i in range(5))
    r = api.patch_raw("products", body, stream=True)
    assert r.headers.get("Transfer-Encoding") == "chunked"
    chunks = list(r.raw.read_chunked(decode_content=False))
    assert len(chunks) == 5
    assert chunks[0].startswith(b"{") and all(c.startswith(b"\n{") for c in chunks[1:])
    assert [json.loads(c)["line"] for c in chunks] == [1, 2, 3, 4, 5]


def test_empty_body_gives_an_empty_stream(api: Api) -> None:
    r = api.patch_raw("products", b"")
    assert (r.status_code, r.text) == (200, "")


# -- validation: documented 422s and violations (§3.4) ---------------------------------
DOCUMENTED = [
    ("unknown-property", {"group": "x"}, 'Property "group" does not exist.'),
    (
        "unknown-attribute",
        {"values": {"unknown_attribute": v("x")}},
        "The unknown_attribute attribute does not exist in your PIM.",
    ),
    (
        "locale-not-expected",
        {"values": {"ean": v("123", "en_US")}},
        'Attribute "ean" expects a null channel code and a null locale code, "" channel code and '
        '"en_US" locale code given.',
    ),
    (
        "locale-missing",
        {"values": {"name": v("Shirt")}},
        'Attribute "name" expects a locale code and a null channel code, "" channel code and "" '
        "locale code given.",
    ),
    (
        "scope-missing",
        {"values": {"meta_title": v("Shirt")}},
        'Attribute "meta_title" expects a channel code and a null locale code, "" channel code and '
        '"" locale code given.',
    ),
    (
        "scope-and-locale",
        {"values": {"description": v("Shirt", "en_US")}},
        'Attribute "description" expects a channel code and a locale code, "" channel code and '
        '"en_US" locale code given.',
    ),
    (
        "boolean-string",
        {"values": {"is_new": v("true")}},
        'Property "is_new" expects a boolean as data, "string" given.',
    ),
    (
        "boolean-integer",
        {"values": {"is_new": v(1)}},
        'Property "is_new" expects a boolean as data, "integer" given.',
    ),
    (
        "number-array",
        {"values": {"stock_quantity": v([1])}},
        'Property "stock_quantity" expects a numeric as data, "array" given.',
    ),
    (
        "date-format",
        {"values": {"release_date": v("2016/01/01")}},
        'Property "release_date" expects a string with the format "yyyy-mm-dd" as data, '
        '"2016/01/01" given.',
    ),
    (
        "price-not-array",
        {"values": {"price": v("10 EUR")}},
        'Property "price" expects an array as data, "string" given.',
    ),
    (
        "price-no-currency",
        {"values": {"price": v([{"amount": "10"}])}},
        'Property "price" expects an array with the key "currency".',
    ),
    (
        "metric-not-object",
        {"values": {"weight": v("3 kg")}},
        'Property "weight" expects an array as data, "string" given.',
    ),
    (
        "metric-no-unit",
        {"values": {"weight": v({"amount": 3})}},
        'Property "weight" expects an array with the key "unit".',
    ),
    (
        "select-array",
        {"values": {"color": v(["red"])}},
        'Property "color" expects a string as data, "array" given.',
    ),
    (
        "multiselect-string",
        {"values": {"material": v("cotton")}},
        'Property "material" expects an array as data, "string" given.',
    ),
    (
        "multiselect-not-strings",
        {"values": {"material": v(["cotton", 3])}},
        'Property "material" expects an array with valid data, one of the options is not a string.',
    ),
    (
        "text-array",
        {"values": {"ean": v(["1"])}},
        'Property "ean" expects a string as data, "array" given.',
    ),
    (
        "media-unknown",
        {"values": {"picture": v("a/b/c/d/abc_x.jpg")}},
        'Property "picture" expects a valid fileinfo key. The media does not exist, '
        '"a/b/c/d/abc_x.jpg" given.',
    ),
    (
        "table-not-array",
        {"values": {"size_chart": v("S: 90cm")}},
        'Property "size_chart" expects an array as data, "string" given.',
    ),
    ("unknown-family", {"family": "hats"}, "The hats family does not exist in your PIM."),
    (
        "unknown-category",
        {"categories": ["sunglasses"]},
        "The sunglasses category does not exist in your PIM.",
    ),
    (
        "enabled-null",
        {"enabled": None},
        'Property "enabled" expects a boolean as data, "NULL" given.',
    ),
    (
        "unknown-parent",
        {"parent": "nope"},
        'Property "parent" expects a valid parent code. The parent product model does not exist, '
        '"nope" given.',
    ),
    (
        "association-target",
        {"associations": {"X_SELL": {"products": ["ghost"]}}},
        'Property "associations" expects a valid product identifier. The product does not exist, '
        '"ghost" given.',
    ),
    (
        "categories-and-add",
        {"categories": ["men"], "add_categories": ["sale"]},
        'The "add_categories" and "remove_categories" properties cannot be used with the '
        '"categories" property.',
    ),
    (
        "first-error-wins",
        {"values": {"is_new": v("yes"), "nope": v("x")}},
        'Property "is_new" expects a boolean as data, "string" given.',
    ),
]


@pytest.mark.parametrize(
    ("body", "message"), [d[1:] for d in DOCUMENTED], ids=[d[0] for d in DOCUMENTED]
)
def test_updater_errors_are_documented_422s(api: Api, body: dict[str, Any], message: str) -> None:
    result = api.one({"identifier": "doc-error", **body})
    assert result == {
        "line": 1,
        "identifier": "doc-error",
        "status_code": 422,
        "message": message + DOC,
        "_links": DOC_LINKS,
    }
    assert api.sb.state.product("doc-error") is None


def _err(
    message: str, attribute: str, locale: str | None = None, scope: str | None = None, **extra: str
) -> dict[str, Any]:
    return {
        "property": "values",
        "message": message,
        "attribute": attribute,
        "locale": locale,
        "scope": scope,
        **extra,
    }


VIOLATIONS = [
    (
        "max-characters",
        {"meta_title": v("x" * 61, None, "ecommerce")},
        [
            _err(
                "The meta_title attribute must not contain more than 60 characters. The submitted "
                "value is too long.",
                "meta_title",
                None,
                "ecommerce",
            )
        ],
    ),
    (
        "text-integer",
        {"name": v(123, "en_US")},
        [_err("The name attribute requires a string, a integer was detected.", "name", "en_US")],
    ),
    (
        "not-numeric",
        {"rating": v("abc")},
        [
            _err(
                "The rating attribute requires a number, and the submitted abc value is not.",
                "rating",
            )
        ],
    ),
    (
        "not-decimal",
        {"stock_quantity": v("12.5")},
        [
            _err(
                "The stock_quantity attribute requires a non-decimal value, and 12.5 is not a "
                "valid value.",
                "stock_quantity",
            )
        ],
    ),
    (
        "negative",
        {"stock_quantity": v(-1)},
        [
            _err(
                "The stock_quantity attribute requires an equal or greater than 0 value.",
                "stock_quantity",
            )
        ],
    ),
    (
        "above-max",
        {"rating": v("5.5")},
        [_err("The rating attribute requires an equal or lesser than 5 value.", "rating")],
    ),
    (
        "metric-negative",
        {"weight": v({"amount": "-1", "unit": "KILOGRAM"})},
        [_err("The weight attribute requires an equal or greater than 0 value.", "weight")],
    ),
    (
        "unknown-unit",
        {"weight": v({"amount": 1, "unit": "PARSEC"})},
        [_err("Please specify a valid metric unit", "weight")],
    ),
    (
        "unknown-currency",
        {"price": v([{"amount": "9.99", "currency": "JPY"}])},
        [
            _err(
                "Please specify a valid currency for the price attribute, the JPY code was sent.",
                "price",
                currency="JPY",
            )
        ],
    ),
    (
        "price-not-decimal",
        {"eco_tax": v([{"amount": "1.5", "currency": "EUR"}])},
        [
            _err(
                "The eco_tax attribute requires a non-decimal value, and 1.5 is not a valid value.",
                "eco_tax",
                currency="EUR",
            )
        ],
    ),
    (
        "option-unknown",
        {"color": v("pink")},
        [_err("The pink value is not in the color attribute option list.", "color")],
    ),
    (
        "options-unknown",
        {"size": v("m"), "material": v(["cotton", "Silk", "Mohair"])},
        [
            _err(
                "The silk, mohair values are not in the material attribute option list.", "material"
            )
        ],
    ),
    (
        "date-too-early",
        {"release_date": v("1999-12-31")},
        [
            _err(
                "The release_date attribute requires a date that should be 2000-01-01 or after.",
                "release_date",
            )
        ],
    ),
    (
        "inactive-locale",
        {"name": v("Camisa", "es_ES")},
        [
            _err(
                'Attribute "name" expects an existing and activated locale, "es_ES" given.',
                "name",
                "es_ES",
            )
        ],
    ),
    (
        "locale-not-bound",
        {"description": v("Texte", "fr_FR", "print")},
        [
            _err(
                'Attribute "description" expects a valid locale, "fr_FR" is not bound to channel '
                '"print".',
                "description",
                "fr_FR",
                "print",
            )
        ],
    ),
    (
        "unknown-channel",
        {"meta_title": v("Shirt", None, "mobile")},
        [
            _err(
                'Value "meta_title" expects an existing channel, "mobile" given',
                "meta_title",
                None,
                "mobile",
            )
        ],
    ),
    (
        "locale-specific",
        {"legal_notice": v("Notice", "en_US")},
        [
            _err(
                "The en_US locale is not available on the legal_notice attribute.",
                "legal_notice",
                "en_US",
            )
        ],
    ),
    (
        "all-together",
        {"color": v("pink"), "rating": v("9")},
        [
            _err("The pink value is not in the color attribute option list.", "color"),
            _err("The rating attribute requires an equal or lesser than 5 value.", "rating"),
        ],
    ),
]


@pytest.mark.parametrize(
    ("values", "errors"), [x[1:] for x in VIOLATIONS], ids=[x[0] for x in VIOLATIONS]
)
def test_validation_failures_list_every_violation(
    api: Api, values: dict[str, Any], errors: list[dict[str, Any]]
) -> None:
    result = api.one({"identifier": "violation", "values": values})
    assert result == {
        "line": 1,
        "identifier": "violation",
        "status_code": 422,
        "message": "Validation failed.",
        "errors": errors,
    }
    assert api.sb.state.product("violation") is None


def test_variant_group_points_to_the_variants_documentation(api: Api) -> None:
    result = api.one({"identifier": "old-style", "variant_group": "tshirts"})
    assert result["message"] == (
        'Property "variant_group" does not exist anymore. Check the link below to understand why.'
    )
    assert result["_links"]["documentation"]["href"].endswith("products-with-variants.html")


def test_identifier_with_a_comma_is_a_violation_on_identifier(api: Api) -> None:
    result = api.one({"identifier": "foo,"})
    assert result["errors"] == [
        {
            "property": "identifier",
            "message": (
                "This field should not contain any comma or semicolon or leading/trailing space"
            ),
        }
    ]


def test_unique_attribute_values_clash_across_products(api: Api) -> None:
    results = api.patch(
        "products",
        {"identifier": "uniq-1", "values": {"ean": v("4006381333931")}},
        {"identifier": "uniq-2", "values": {"ean": v("4006381333931")}},
    )
    assert results[0]["status_code"] == 201
    assert results[1]["errors"] == [
        _err(
            "The ean attribute can not have the same value more than once. The 4006381333931 value "
            "is already set on another product.",
            "ean",
        )
    ]


def test_table_cells_are_checked(api: Api) -> None:
    good = [{"size": "s", "chest_cm": "90.5", "fits_tall": True}]
    assert (
        api.one({"identifier": "table-ok", "values": {"size_chart": v(good)}})["status_code"] == 201
    )
    bad = [{"chest_cm": "wide", "sleeve": "x"}]
    result = api.one({"identifier": "table-bad", "values": {"size_chart": v(bad)}})
    messages = [e["message"] for e in result["errors"]]
    assert len(messages) == 3 and all("size_chart" in m for m in messages)


# -- update rules (§4) ---------------------------------------------------------------------
def test_create_then_update_then_identical_update(api: Api) -> None:
    line = {"identifier": "rules-1", "family": "clothing", "values": {"name": v("Tee", "en_US")}}
    assert api.one(line)["status_code"] == 201
    assert api.one(line)["status_code"] == 204
    assert api.one({"identifier": "rules-1"})["status_code"] == 204


def test_same_identifier_twice_in_one_request_is_applied_in_order(api: Api) -> None:
    results = api.patch(
        "products",
        {"identifier": "twice", "values": {"name": v("First", "en_US")}},
        {"identifier": "twice", "values": {"name": v("Second", "en_US")}},
    )
    assert [r["status_code"] for r in results] == [201, 204]
    assert api.get("/products/twice").json()["values"]["name"] == v("Second", "en_US")


def test_values_merge_per_attribute_locale_and_channel_and_null_erases(api: Api) -> None:
    api.one(
        {
            "identifier": "merge",
            "values": {
                "name": v("Tee", "en_US"),
                "description": v("Long", "en_US", "ecommerce") + v("Kurz", "de_DE", "print"),
                "color": v("red"),
            },
        }
    )
    api.one(
        {
            "identifier": "merge",
            "values": {
                "name": v("T-shirt", "fr_FR"),
                "description": v("Longer", "en_US", "ecommerce"),
                "color": v(None),
            },
        }
    )
    values = api.get("/products/merge").json()["values"]
    assert sorted(x["locale"] for x in values["name"]) == ["en_US", "fr_FR"]
    assert sorted((x["locale"], x["scope"], x["data"]) for x in values["description"]) == [
        ("de_DE", "print", "Kurz"),
        ("en_US", "ecommerce", "Longer"),
    ]
    assert "color" not in values
    api.one({"identifier": "merge", "values": {"name": v("", "fr_FR")}})
    assert api.get("/products/merge").json()["values"]["name"] == v("Tee", "en_US")


def test_lists_replace_and_categories_can_be_added_or_removed(api: Api) -> None:
    api.one(
        {
            "identifier": "lists",
            "categories": ["men", "sale"],
            "values": {"material": v(["wool", "cotton"])},
        }
    )
    api.one(
        {"identifier": "lists", "categories": ["women"], "values": {"material": v(["leather"])}}
    )
    product = api.get("/products/lists").json()
    assert product["categories"] == ["women"]
    assert product["values"]["material"] == v(["leather"])
    api.one({"identifier": "lists", "add_categories": ["sale", "women"]})
    assert api.get("/products/lists").json()["categories"] == ["women", "sale"]
    api.one({"identifier": "lists", "remove_categories": ["women", "men"]})
    assert api.get("/products/lists").json()["categories"] == ["sale"]


def test_values_are_normalised_on_storage(api: Api) -> None:
    api.one(
        {
            "identifier": "normal",
            "values": {
                "rating": v("4.5"),
                "margin_percent": v("-99.873200000000"),
                "stock_quantity": v("12"),
                "price": v(
                    [
                        {"amount": "21.5", "currency": "USD"},
                        {"amount": 19, "currency": "EUR"},
                        {"amount": None, "currency": "GBP"},
                    ]
                ),
                "eco_tax": v([{"amount": "2.00", "currency": "EUR"}]),
                "weight": v({"amount": "0.25", "unit": "kilogram"}),
                "capacity": v({"amount": 500, "unit": "MilliLiter"}),
                "color": v("RED"),
                "material": v(["wool", "Cotton"]),
                "release_date": v("2016-06-13"),
            },
        }
    )
    values = api.get("/products/normal").json()["values"]
    data = {code: entries[0]["data"] for code, entries in values.items()}
    assert data == {
        "sku": "normal",
        "rating": "4.5000",
        "margin_percent": "-99.8732",
        "stock_quantity": 12,
        "price": [{"amount": "19.00", "currency": "EUR"}, {"amount": "21.50", "currency": "USD"}],
        "eco_tax": [{"amount": 2, "currency": "EUR"}],
        "weight": {"amount": "0.2500", "unit": "KILOGRAM"},
        "capacity": {"amount": 500, "unit": "MILLILITER"},
        "color": "red",
        "material": ["cotton", "wool"],
        "release_date": "2016-06-13T00:00:00+00:00",
    }


def test_updated_moves_only_when_something_changed(api: Api) -> None:
    clock = [1_700_000_000.0]
    api.sb.clock = lambda: clock[0]
    try:
        api.one({"identifier": "stamped", "values": {"name": v("A", "en_US")}})
        first = api.get("/products/stamped").json()
        clock[0] += 60
        api.one({"identifier": "stamped", "values": {"name": v("A", "en_US")}})
        assert api.get("/products/stamped").json()["updated"] == first["updated"]
        api.one({"identifier": "stamped", "values": {"name": v("B", "en_US")}})
        second = api.get("/products/stamped").json()
        assert second["updated"] != first["updated"] and second["created"] == first["created"]
    finally:
        api.sb.clock = __import__("time").time


def test_associations_merge_per_type_and_replace_lists(api: Api) -> None:
    api.patch(
        "products", {"identifier": "assoc-a"}, {"identifier": "assoc-b"}, {"identifier": "assoc-c"}
    )
    api.one(
        {
            "identifier": "assoc-main",
            "associations": {
                "X_SELL": {"products": ["assoc-a", "assoc-b"]},
                "UPSELL": {"products": ["assoc-c"]},
            },
        }
    )
    api.one({"identifier": "assoc-main", "associations": {"X_SELL": {"products": ["assoc-c"]}}})
    assoc = api.get("/products/assoc-main").json()["associations"]
    assert assoc["X_SELL"]["products"] == ["assoc-c"]
    assert assoc["UPSELL"]["products"] == ["assoc-c"]


def test_product_models_variants_and_parent_null(api: Api) -> None:
    results = api.patch(
        "product-models",
        {
            "code": "tee-root",
            "family_variant": "clothing_color_size",
            "values": {"name": v("Tee", "en_US")},
        },
        {"code": "tee-red", "parent": "tee-root", "values": {"color": v("red")}},
        {"code": "tee-blue"},
    )
    assert [r["status_code"] for r in results] == [201, 201, 422]
    assert results[2]["errors"] == [
        {"property": "family_variant", "message": "This value should not be blank."}
    ]
    model = api.get("/product-models/tee-red").json()
    assert (model["family"], model["family_variant"]) == ("clothing", "clothing_color_size")
    assert (
        api.one({"identifier": "tee-red-m", "parent": "tee-red", "values": {"size": v("m")}})[
            "status_code"
        ]
        == 201
    )
    variant = api.get("/products/tee-red-m").json()
    assert variant["family"] == "clothing" and variant["parent"] == "tee-red"
    assert {"name", "color", "size", "sku"} <= set(variant["values"])
    api.one({"identifier": "tee-red-m", "parent": None})
    simple = api.get("/products/tee-red-m").json()
    assert simple["parent"] is None
    assert {"name", "color", "size"} <= set(simple["values"])  # keeps the values it showed


def test_products_uuid_endpoint(api: Api) -> None:
    uid = "6f1f0a0e-2f4b-4c59-9c43-1b1c5a7e0d11"
    assert (
        api.one({"uuid": uid, "values": {"sku": v("by-uuid")}}, "products-uuid")["status_code"]
        == 201
    )
    shown = api.get(f"/products-uuid/{uid}").json()
    assert "identifier" not in shown and shown["values"]["sku"] == v("by-uuid")
    assert api.get("/products/by-uuid").json()["uuid"] == uid
    result = api.one({"uuid": uid, "identifier": "x"}, "products-uuid")
    assert result["message"] == 'Property "identifier" does not exist.' + DOC
    assert result["_links"]["documentation"]["href"].endswith("#patch_products_uuid__uuid_")
    bad = api.one({"uuid": "122345"}, "products-uuid")
    assert bad["message"] == "This is not a valid UUID." + DOC
    other = "9a1f0a0e-2f4b-4c59-9c43-1b1c5a7e0d12"
    clash = api.one({"uuid": other, "values": {"sku": v("by-uuid")}}, "products-uuid")
    assert clash["errors"] == [
        {
            "property": "identifier",
            "message": "The by-uuid identifier is already used for another product.",
        }
    ]


def test_create_missing_options_only_where_allowed(api: Api) -> None:
    body = json.dumps(
        {"identifier": "new-brand", "values": {"brand": v("zenith"), "color": v("teal")}}
    )
    r = api.session.patch(
        f"{api.sb.url}/api/rest/v1/products?create_missing_options=true",
        data=body,
        headers=api.headers(**{"Content-Type": COLLECTION}),
        timeout=10,
    )
    (result,) = [json.loads(x) for x in r.text.split("\n")]
    # color does not allow option creation: still an error, and the line is not saved
    assert result["errors"] == [
        _err("The teal value is not in the color attribute option list.", "color")
    ]
    r = api.session.patch(
        f"{api.sb.url}/api/rest/v1/products?create_missing_options=true",
        data=json.dumps({"identifier": "new-brand", "values": {"brand": v("zenith")}}),
        headers=api.headers(**{"Content-Type": COLLECTION}),
        timeout=10,
    )
    assert json.loads(r.text)["status_code"] == 201
    options = api.get("/attributes/brand/options", limit=100).json()["_embedded"]["items"]
    assert "zenith" in [o["code"] for o in options]


# -- media files (§7) ------------------------------------------------------------------------
def _upload(api: Api, files: dict[str, Any] | None, data: dict[str, str]) -> requests.Response:
    return api.session.post(
        f"{api.sb.url}/api/rest/v1/media-files",
        files=files,
        data=data,
        headers=api.headers(),
        timeout=10,
    )


def test_media_upload_sets_the_value_and_serves_the_file(api: Api) -> None:
    api.one({"identifier": "with-picture"})
    target = {"identifier": "with-picture", "attribute": "picture", "locale": None, "scope": None}
    r = _upload(
        api,
        {"file": ("red tee.jpg", b"\xff\xd8jpeg", "image/jpeg")},
        {"product": json.dumps(target)},
    )
    assert (r.status_code, r.content) == (201, b"")
    code = r.headers["Location"].split("/api/rest/v1/media-files/", 1)[1]
    assert code.endswith("_red_tee.jpg") and code.count("/") == 4
    assert api.get("/products/with-picture").json()["values"]["picture"] == v(code)
    meta = api.get(f"/media-files/{code}").json()
    assert (meta["original_filename"], meta["size"], meta["mime_type"]) == (
        "red tee.jpg",
        6,
        "image/jpeg",
    )
    assert api.get(f"/media-files/{code}/download").content == b"\xff\xd8jpeg"
    # the code can be sent in a product PATCH afterwards
    assert api.one({"identifier": "reuse", "values": {"picture": v(code)}})["status_code"] == 201


@pytest.mark.parametrize(
    ("files", "data", "status", "message"),
    [
        (None, {"product": "{}"}, 422, 'Property "file" is required.'),
        (
            "file",
            {},
            422,
            'You should at least give one of the following properties: "product" or '
            '"product_model".',
        ),
        (
            "file",
            {"product": "{}", "product_model": "{}"},
            422,
            'You should give either a "product" or a "product_model" key.',
        ),
        ("file", {"product": "{oops"}, 400, "Invalid json message received"),
        (
            "file",
            {"product": '{"identifier": "x"}'},
            422,
            'Product property must contain "identifier", "attribute", "locale" and "scope" '
            "properties.",
        ),
        (
            "file",
            {
                "product": json.dumps(
                    {"identifier": "ghost", "attribute": "picture", "locale": None, "scope": None}
                )
            },
            422,
            'Product "ghost" does not exist.',
        ),
        (
            "file",
            {
                "product": json.dumps(
                    {
                        "identifier": "media-target",
                        "attribute": "picture",
                        "locale": "en_US",
                        "scope": None,
                    }
                )
            },
            422,
            'Attribute "picture" does not expect a locale, "en_US" given.',
        ),
    ],
    ids=[
        "no-file",
        "no-target",
        "both-targets",
        "bad-json",
        "missing-keys",
        "unknown-product",
        "locale-not-expected",
    ],
)
def test_media_upload_errors(
    api: Api, files: Any, data: dict[str, str], status: int, message: str
) -> None:
    api.one({"identifier": "media-target"})
    # a multipart body either way: without a file part, a dummy part keeps it multipart
    upload = {"file": ("a.png", b"png", "image/png")} if files == "file" else {"x": (None, "")}
    r = _upload(api, upload, data)
    assert (r.status_code, r.json()) == (status, {"code": status, "message": message})


def test_media_upload_needs_multipart(api: Api) -> None:
    r = api.session.post(
        f"{api.sb.url}/api/rest/v1/media-files", json={}, headers=api.headers(), timeout=10
    )
    assert r.status_code == 415
    assert r.json()["message"] == (
        '"application/json" in "Content-Type" header is not valid. Only "multipart/form-data" '
        "is allowed."
    )


# -- pure helpers ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("body", "count"),
    [(b"", 0), (b"a", 1), (b"a\n", 1), (b"a\nb", 2), (b"a\n\nb", 3), (b"\n", 1), (b"a\n\n", 2)],
    ids=["empty", "one", "final-newline", "two", "empty-middle", "only-newline", "two-newlines"],
)
def test_split_lines_counts_like_stream_get_line(body: bytes, count: int) -> None:
    assert len(split_lines(body)) == count


@pytest.mark.parametrize(
    ("text", "places", "expected"),
    [
        ("12.56", 4, "12.5600"),
        ("12.56787697870", 4, "12.5678769787"),
        ("-99.873200000000", 4, "-99.8732"),
        ("10", 4, "10.0000"),
        ("56.5", 2, "56.50"),
        ("-0", 2, "0.00"),
        ("1E+2", 2, "100.00"),
    ],
    ids=["pad", "keep-more", "strip", "integer", "price", "negative-zero", "exponent"],
)
def test_fixed_number(text: str, places: int, expected: str) -> None:
    value = to_decimal(text)
    assert value is not None and fixed_number(value, places) == expected


@given(
    st.decimals(
        allow_nan=False, allow_infinity=False, places=6, min_value=-(10**9), max_value=10**9
    )
)
def test_fixed_number_keeps_the_value(value: Any) -> None:
    text = fixed_number(value, 4)
    assert to_decimal(text) == value and len(text.split(".")[1]) >= 4
    assert to_decimal(plain_number(value)) == value


@pytest.mark.parametrize(
    ("value", "numeric"),
    [
        ("12", True),
        (" 1.5", True),
        ("1e3", True),
        (".5", True),
        ("abc", False),
        ("1,5", False),
        ("NaN", False),
        ("", False),
        (True, False),
        (7, True),
    ],
    ids=[
        "int",
        "leading-blank",
        "exponent",
        "dot-first",
        "text",
        "comma",
        "nan",
        "empty",
        "bool",
        "json-int",
    ],
)
def test_to_decimal_follows_php_is_numeric(value: Any, numeric: bool) -> None:
    assert (to_decimal(value) is not None) is numeric
