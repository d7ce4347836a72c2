"""The sandbox PIM's product and product-model lists (search, pagination, value filters)
and DELETE, over real loopback HTTP.

Expected texts come from Akeneo's sources named in feed_export/sandbox/search.py and
routes/listing.py (most from its ErrorListProductWithUuidEndToEnd test).
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

from feed_export.sandbox import Faults, Sandbox, start_sandbox

DAY = 86_400
T0 = 1_700_000_000.0  # 2023-11-14 22:13:20 UTC, the first product's creation
NOW = T0 + 10 * DAY


def _price(*pairs: tuple[str, str]) -> list[dict[str, Any]]:
    return v([{"amount": amount, "currency": currency} for amount, currency in pairs])


PRODUCTS: list[dict[str, Any]] = [
    {
        "identifier": "tee-a",
        "family": "clothing",
        "categories": ["men_tshirts"],
        "values": {
            "name": v("Alpha tee", "en_US"),
            "description": v("Soft cotton", "en_US", "ecommerce"),
            "price": _price(("19.99", "EUR")),
            "weight": v({"amount": 200, "unit": "GRAM"}),
            "color": v("red"),
            "is_new": v(True),
            "release_date": v("2020-05-01"),
            "stock_quantity": v(5),
        },
    },
    {
        "identifier": "tee-b",
        "family": "clothing",
        "enabled": False,
        "categories": ["women"],
        "values": {
            "name": v("Beta tee", "en_US"),
            "weight": v({"amount": "0.5", "unit": "KILOGRAM"}),
            "color": v("blue"),
            "is_new": v(False),
            "stock_quantity": v(50),
        },
    },
    {
        "identifier": "phone",
        "family": "electronics",
        "categories": ["phones"],
        "values": {"name": v("Gamma phone", "en_US"), "waterproof": v(True, None, "ecommerce")},
    },
    {"identifier": "loose"},
    {"identifier": "bag", "family": "accessories", "categories": ["sale", "bags"]},
]
MODELS: list[dict[str, Any]] = [
    {
        "code": "jacket",
        "family_variant": "clothing_color_size",
        "values": {"name": v("Jacket", "en_US")},
    },
    {"code": "jacket-red", "parent": "jacket", "values": {"color": v("red")}},
]
VARIANTS: list[dict[str, Any]] = [
    {"identifier": "jacket-red-m", "parent": "jacket-red", "values": {"size": v("m")}},
    {"identifier": "jacket-red-l", "parent": "jacket-red", "values": {"size": v("l")}},
]
ALL = ["tee-a", "tee-b", "phone", "loose", "bag", "jacket-red-m", "jacket-red-l"]


@pytest.fixture(scope="module")
def api() -> Iterator[Api]:
    """Products created one day apart; the models on day 5, the variants on day 5 and 6."""
    now = [T0]
    with start_sandbox(token_lifetime=10**9) as sb:  # the clock jumps days ahead
        sb.clock = lambda: now[0]
        client = Api(sb)
        for line in PRODUCTS:
            assert client.one(line)["status_code"] == 201
            now[0] += DAY
        assert [r["status_code"] for r in client.patch("product-models", *MODELS)] == [201, 201]
        for line in VARIANTS:
            assert client.one(line)["status_code"] == 201
            now[0] += DAY
        now[0] = NOW
        yield client


def codes(r: requests.Response, key: str = "identifier") -> list[str]:
    assert r.status_code == 200, r.text
    return [item[key] for item in r.json()["_embedded"]["items"]]


def search(api: Api, path: str = "/products", **params: Any) -> requests.Response:
    query = {k: (json.dumps(p) if k == "search" else p) for k, p in params.items()}
    return api.get(path, limit=100, **query)


# -- search filters -------------------------------------------------------------------------
FILTERS = [
    (
        "family-in",
        {"family": [{"operator": "IN", "value": ["clothing"]}]},
        {},
        ["tee-a", "tee-b", "jacket-red-m", "jacket-red-l"],
    ),
    (
        "family-not-in",
        {"family": [{"operator": "NOT IN", "value": ["clothing"]}]},
        {},
        ["phone", "loose", "bag"],
    ),
    ("family-empty", {"family": [{"operator": "EMPTY"}]}, {}, ["loose"]),
    (
        "family-not-empty",
        {"family": [{"operator": "NOT EMPTY"}]},
        {},
        ["tee-a", "tee-b", "phone", "bag", "jacket-red-m", "jacket-red-l"],
    ),
    (
        "categories-in",
        {"categories": [{"operator": "IN", "value": ["men_tshirts", "sale"]}]},
        {},
        ["tee-a", "bag"],
    ),
    ("categories-in-exact-only", {"categories": [{"operator": "IN", "value": ["men"]}]}, {}, []),
    (
        "categories-in-children",
        {"categories": [{"operator": "IN CHILDREN", "value": ["men", "electronics"]}]},
        {},
        ["tee-a", "phone"],
    ),
    (
        "categories-not-in",
        {"categories": [{"operator": "NOT IN", "value": ["women", "phones"]}]},
        {},
        ["tee-a", "loose", "bag", "jacket-red-m", "jacket-red-l"],
    ),
    (
        "categories-not-in-children",
        {"categories": [{"operator": "NOT IN CHILDREN", "value": ["master"]}]},
        {},
        ["loose", "jacket-red-m", "jacket-red-l"],
    ),
    (
        "categories-unclassified",
        {"categories": [{"operator": "UNCLASSIFIED"}]},
        {},
        ["loose", "jacket-red-m", "jacket-red-l"],
    ),
    (
        "categories-in-or-unclassified",
        {"categories": [{"operator": "IN OR UNCLASSIFIED", "value": ["phones"]}]},
        {},
        ["phone", "loose", "jacket-red-m", "jacket-red-l"],
    ),
    (
        "categories-two-conditions",
        {
            "categories": [
                {"operator": "IN CHILDREN", "value": ["master"]},
                {"operator": "NOT IN", "value": ["bags"]},
            ]
        },
        {},
        ["tee-a", "tee-b", "phone"],
    ),
    ("enabled", {"enabled": [{"operator": "=", "value": False}]}, {}, ["tee-b"]),
    (
        "enabled-not-equal",
        {"enabled": [{"operator": "!=", "value": False}]},
        {},
        ["tee-a", "phone", "loose", "bag", "jacket-red-m", "jacket-red-l"],
    ),
    (
        "completeness-any-locale",
        {"completeness": [{"operator": "=", "value": 100, "scope": "ecommerce"}]},
        {},
        ["tee-a"],
    ),
    (
        "completeness-one-locale",
        {
            "completeness": [
                {"operator": ">=", "value": 50, "scope": "ecommerce", "locale": "de_DE"}
            ]
        },
        {},
        ["tee-a"],
    ),
    (
        "completeness-all-locales",
        {
            "completeness": [
                {
                    "operator": "GREATER OR EQUALS THAN ON ALL LOCALES",
                    "value": 50,
                    "scope": "ecommerce",
                    "locales": ["en_US", "fr_FR"],
                }
            ]
        },
        {},
        ["tee-a"],
    ),
    (
        "completeness-lower",
        {
            "completeness": [
                {
                    "operator": "LOWER THAN ON ALL LOCALES",
                    "value": 100,
                    "scope": "ecommerce",
                    "locales": ["en_US"],
                }
            ]
        },
        {},
        ["tee-b", "phone", "bag", "jacket-red-m", "jacket-red-l"],
    ),
    (
        "completeness-print",
        {"completeness": [{"operator": "=", "value": 100, "scope": "print"}]},
        {},
        ["tee-a", "tee-b", "phone", "bag", "jacket-red-m", "jacket-red-l"],
    ),
    (
        "updated-after",
        {"updated": [{"operator": ">", "value": "2023-11-17 00:00:00"}]},
        {},
        ["loose", "bag", "jacket-red-m", "jacket-red-l"],
    ),
    (
        "updated-before",
        {"updated": [{"operator": "<", "value": "2023-11-15 00:00:00"}]},
        {},
        ["tee-a"],
    ),
    (
        "updated-between",
        {
            "updated": [
                {"operator": "BETWEEN", "value": ["2023-11-15 00:00:00", "2023-11-16 23:59:59"]}
            ]
        },
        {},
        ["tee-b", "phone"],
    ),
    (
        "updated-equal",
        {"updated": [{"operator": "=", "value": "2023-11-14 22:13:20"}]},
        {},
        ["tee-a"],
    ),
    (
        "updated-since-last-n-days",
        {"updated": [{"operator": "SINCE LAST N DAYS", "value": 6}]},
        {},
        ["jacket-red-m", "jacket-red-l"],
    ),
    (
        "created-since-more-days-than-dates-hold",
        {"created": [{"operator": "SINCE LAST N DAYS", "value": 10**15}]},
        {},
        ALL,
    ),
    (
        "created-since-minus-more-days-than-dates-hold",
        {"created": [{"operator": "SINCE LAST N DAYS", "value": -(10**15)}]},
        {},
        [],
    ),
    (
        "parent-any-ancestor",
        {"parent": [{"operator": "=", "value": "jacket"}]},
        {},
        ["jacket-red-m", "jacket-red-l"],
    ),
    ("parent-in-direct-only", {"parent": [{"operator": "IN", "value": ["jacket"]}]}, {}, []),
    (
        "parent-in",
        {"parent": [{"operator": "IN", "value": ["jacket-red"]}]},
        {},
        ["jacket-red-m", "jacket-red-l"],
    ),
    (
        "parent-empty",
        {"parent": [{"operator": "EMPTY"}]},
        {},
        ["tee-a", "tee-b", "phone", "loose", "bag"],
    ),
    (
        "parent-not-empty",
        {"parent": [{"operator": "NOT EMPTY"}]},
        {},
        ["jacket-red-m", "jacket-red-l"],
    ),
    (
        "identifier-in",
        {"identifier": [{"operator": "IN", "value": ["PHONE", "bag", "ghost"]}]},
        {},
        ["phone", "bag"],
    ),
    (
        "identifier-starts-with",
        {"identifier": [{"operator": "STARTS WITH", "value": "tee-"}]},
        {},
        ["tee-a", "tee-b"],
    ),
    (
        "text-contains",
        {"name": [{"operator": "CONTAINS", "value": "TEE", "locale": "en_US"}]},
        {},
        ["tee-a", "tee-b"],
    ),
    (
        "text-search-locale",
        {"name": [{"operator": "STARTS WITH", "value": "Jack"}]},
        {"search_locale": "en_US"},
        ["jacket-red-m", "jacket-red-l"],
    ),
    (
        "text-not-equal-needs-a-value",
        {"name": [{"operator": "!=", "value": "Alpha tee", "locale": "en_US"}]},
        {},
        ["tee-b", "phone", "jacket-red-m", "jacket-red-l"],
    ),
    (
        "textarea-locale-and-scope",
        {"description": [{"operator": "NOT EMPTY", "locale": "en_US", "scope": "ecommerce"}]},
        {},
        ["tee-a"],
    ),
    ("number-greater", {"stock_quantity": [{"operator": ">", "value": 10}]}, {}, ["tee-b"]),
    (
        "select-in",
        {"color": [{"operator": "IN", "value": ["red"]}]},
        {},
        ["tee-a", "jacket-red-m", "jacket-red-l"],
    ),
    (
        "select-not-in-needs-a-value",
        {"color": [{"operator": "NOT IN", "value": ["red"]}]},
        {},
        ["tee-b"],
    ),
    ("boolean", {"is_new": [{"operator": "=", "value": True}]}, {}, ["tee-a"]),
    (
        "boolean-scopable-search-scope",
        {"waterproof": [{"operator": "=", "value": True}]},
        {"search_scope": "ecommerce"},
        ["phone"],
    ),
    ("date-before", {"release_date": [{"operator": "<", "value": "2021-01-01"}]}, {}, ["tee-a"]),
    (
        "price-greater",
        {"price": [{"operator": ">", "value": {"amount": 10, "currency": "EUR"}}]},
        {},
        ["tee-a"],
    ),
    (
        "metric-in-another-unit",
        {"weight": [{"operator": ">", "value": {"amount": "0.3", "unit": "KILOGRAM"}}]},
        {},
        ["tee-b"],
    ),
    (
        "attribute-empty-needs-a-family",
        {"stock_quantity": [{"operator": "EMPTY"}]},
        {},
        ["phone", "bag", "jacket-red-m", "jacket-red-l"],
    ),
    (
        "attribute-context-ignored-when-not-localizable",
        {"color": [{"operator": "IN", "value": ["blue"], "locale": "fr_FR"}]},
        {},
        ["tee-b"],
    ),
    (
        "scope-keeps-the-channel-tree",
        {},
        {"scope": "ecommerce"},
        ["tee-a", "tee-b", "phone", "bag"],
    ),
    (
        "several-properties",
        {
            "family": [{"operator": "IN", "value": ["clothing"]}],
            "enabled": [{"operator": "=", "value": True}],
        },
        {},
        ["tee-a", "jacket-red-m", "jacket-red-l"],
    ),
    ("uuid-not-in-empty-list", {"uuid": [{"operator": "NOT IN", "value": []}]}, {}, ALL),
]


@pytest.mark.parametrize(
    ("criteria", "extra", "expected"), [f[1:] for f in FILTERS], ids=[f[0] for f in FILTERS]
)
def test_search_filters(
    api: Api, criteria: dict[str, Any], extra: dict[str, str], expected: list[str]
) -> None:
    params: dict[str, Any] = dict(extra)
    if criteria:
        params["search"] = criteria
    assert codes(search(api, **params)) == expected


MODEL_FILTERS = [
    ("all", {}, ["jacket", "jacket-red"]),
    ("parent-empty", {"parent": [{"operator": "EMPTY"}]}, ["jacket"]),
    ("parent-in", {"parent": [{"operator": "IN", "value": ["jacket"]}]}, ["jacket-red"]),
    ("family", {"family": [{"operator": "IN", "value": ["clothing"]}]}, ["jacket", "jacket-red"]),
    ("identifier", {"identifier": [{"operator": "IN", "value": ["JACKET-RED"]}]}, ["jacket-red"]),
    (
        "value-with-ancestors",
        {"name": [{"operator": "=", "value": "jacket", "locale": "en_US"}]},
        ["jacket", "jacket-red"],
    ),
    (
        "completeness-all-incomplete",
        {
            "completeness": [
                {"operator": "ALL INCOMPLETE", "scope": "ecommerce", "locales": ["en_US"]}
            ]
        },
        ["jacket", "jacket-red"],
    ),
    (
        "completeness-at-least-complete",
        {
            "completeness": [
                {"operator": "AT LEAST COMPLETE", "scope": "ecommerce", "locale": "en_US"}
            ]
        },
        [],
    ),
]


@pytest.mark.parametrize(
    ("criteria", "expected"), [f[1:] for f in MODEL_FILTERS], ids=[f[0] for f in MODEL_FILTERS]
)
def test_product_model_filters(api: Api, criteria: dict[str, Any], expected: list[str]) -> None:
    params = {"search": criteria} if criteria else {}
    assert codes(search(api, "/product-models", **params), "code") == expected


ERRORS = [
    (
        "bad-json",
        "/products",
        {"search": "{oops"},
        400,
        "Search query parameter should be valid JSON.",
    ),
    (
        "bad-json-models",
        "/product-models",
        {"search": "{oops"},
        422,
        "Search query parameter should be valid JSON.",
    ),
    (
        "not-an-object",
        "/products",
        {"search": '"text"'},
        400,
        "Search query parameter should be valid JSON.",
    ),
    (
        "structure",
        "/products",
        {"search": '{"name":{"operator":"="}}'},
        422,
        'Structure of filter "name" should respect this structure: {"name":[{"operator": "my_operator", "value": "my_value"}]}',
    ),
    (
        "operator-missing",
        "/products",
        {"search": '{"name":[{"value":"x"}]}'},
        422,
        'Operator is missing for the property "name".',
    ),
    (
        "operator-array",
        "/products",
        {"search": '{"name":[{"operator":["="],"value":"x"}]}'},
        422,
        'Operator has to be a string, "array" given.',
    ),
    (
        "unknown-property",
        "/products",
        {"search": '{"nope":[{"operator":"EMPTY"}]}'},
        422,
        'Filter on property "nope" is not supported or does not support operator "EMPTY"',
    ),
    (
        "wrong-operator",
        "/products",
        {"search": '{"name":[{"operator":"BETWEEN","value":"x"}]}'},
        422,
        'Filter on property "name" is not supported or does not support operator "BETWEEN"',
    ),
    (
        "enabled-on-models",
        "/product-models",
        {"search": '{"enabled":[{"operator":"=","value":true}]}'},
        422,
        'Filter on property "enabled" is not supported or does not support operator "="',
    ),
    (
        "missing-locale",
        "/products",
        {"search": '{"name":[{"operator":"CONTAINS","value":"x"}]}'},
        422,
        'Attribute "name" expects a locale, none given.',
    ),
    (
        "missing-scope",
        "/products",
        {"search": '{"waterproof":[{"operator":"=","value":true}]}'},
        422,
        'Attribute "waterproof" expects a scope, none given.',
    ),
    (
        "unknown-scope",
        "/products",
        {"search": '{"waterproof":[{"operator":"=","value":true,"scope":"mobile"}]}'},
        422,
        'Attribute "waterproof" expects an existing scope, "mobile" given.',
    ),
    (
        "search-locale-unknown",
        "/products",
        {"search_locale": "xx_XX", "search": '{"name":[{"operator":"CONTAINS","value":"x"}]}'},
        422,
        'Locale "xx_XX" does not exist or is not activated.',
    ),
    (
        "filter-locale-inactive",
        "/products",
        {"search": '{"name":[{"operator":"CONTAINS","value":"x","locale":"es_ES"}]}'},
        422,
        'Locale "es_ES" does not exist or is not activated.',
    ),
    (
        "unknown-category",
        "/products",
        {"search": '{"categories":[{"operator":"IN","value":["nope"]}]}'},
        422,
        'Category "nope" does not exist.',
    ),
    (
        "unknown-categories",
        "/products",
        {"search": '{"categories":[{"operator":"IN","value":["a","b"]}]}'},
        422,
        'Categories "a, b" do not exist.',
    ),
    (
        "unknown-family",
        "/products",
        {"search": '{"family":[{"operator":"IN","value":["hats"]}]}'},
        422,
        'Object "family" with code "hats" does not exist',
    ),
    (
        "family-not-array",
        "/products",
        {"search": '{"family":[{"operator":"IN","value":"clothing"}]}'},
        422,
        'Property "family" expects an array as data, "string" given.',
    ),
    (
        "enabled-not-boolean",
        "/products",
        {"search": '{"enabled":[{"operator":"=","value":"yes"}]}'},
        422,
        'Property "enabled" expects a boolean as data, "string" given.',
    ),
    (
        "completeness-no-scope",
        "/products",
        {"search": '{"completeness":[{"operator":"=","value":100}]}'},
        422,
        'Property "completeness" expects a valid scope.',
    ),
    (
        "completeness-no-locales",
        "/products",
        {
            "search": '{"completeness":[{"operator":"GREATER THAN ON ALL LOCALES","value":100,"scope":"ecommerce"}]}'
        },
        422,
        'Property "completeness" expects an array with the key "locales".',
    ),
    (
        "completeness-locales-string",
        "/products",
        {
            "search": '{"completeness":[{"operator":"GREATER THAN ON ALL LOCALES","value":100,"scope":"ecommerce","locales":"fr_FR"}]}'
        },
        422,
        'Property "completeness" expects an array with the key "locales".',
    ),
    (
        "since-not-integer",
        "/products",
        {"search": '{"updated":[{"operator":"SINCE LAST N DAYS","value":"4"}]}'},
        422,
        'Property "updated" expects an integer as data, "string" given.',
    ),
    (
        "since-beyond-64-bits",
        "/products",
        {"search": '{"updated":[{"operator":"SINCE LAST N DAYS","value":1000000000000000000000}]}'},
        422,
        'Property "updated" expects an integer as data, "double" given.',
    ),
    (
        "between-one-date",
        "/products",
        {"search": '{"updated":[{"operator":"BETWEEN","value":["2023-01-01 00:00:00"]}]}'},
        422,
        'Property "updated" expects an array with valid data, should contain 2 strings with the format "yyyy-mm-dd H:i:s".',
    ),
    (
        "identifiers-over-100",
        "/products",
        {
            "search": json.dumps(
                {"identifier": [{"operator": "IN", "value": [f"p{i}" for i in range(101)]}]}
            )
        },
        400,
        "The identifier filter can't contain more than 100 product identifiers.",
    ),
    ("scope-unknown", "/products", {"scope": "mobile"}, 422, 'Scope "mobile" does not exist.'),
    (
        "locale-unknown",
        "/products",
        {"locales": "xx_XX"},
        422,
        'Locale "xx_XX" does not exist or is not activated.',
    ),
    (
        "locales-unknown",
        "/products",
        {"locales": "xx_XX, yy_YY"},
        422,
        'Locales "xx_XX, yy_YY" do not exist or are not activated.',
    ),
    (
        "locale-not-on-scope",
        "/products",
        {"scope": "print", "locales": "fr_FR"},
        422,
        'Locale "fr_FR" is not activated for the scope "print".',
    ),
    (
        "attribute-unknown",
        "/products",
        {"attributes": "nope"},
        422,
        'Attribute "nope" does not exist.',
    ),
    (
        "attributes-unknown",
        "/products",
        {"attributes": "nope,name,zip"},
        422,
        'Attributes "nope, zip" do not exist.',
    ),
    (
        "pagination-first",
        "/products",
        {"limit": "0", "search": '{"nope":[{"operator":"EMPTY"}]}'},
        422,
        '"0" is not a valid limit number.',
    ),
    (
        "page-beyond-64-bits",
        "/products-uuid",
        {"page": "18446744073709551616"},
        422,
        '"18446744073709551616" is not a valid page number.',
    ),
]


@pytest.mark.parametrize(
    ("path", "params", "status", "message"), [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS]
)
def test_list_errors(
    api: Api, path: str, params: dict[str, str], status: int, message: str
) -> None:
    r = api.get(path, **params)
    assert (r.status_code, r.json()) == (status, {"code": status, "message": message})


def test_offset_pages_stop_at_the_search_window(api: Api) -> None:
    r = api.get("/products", page="101", limit="100")
    assert r.status_code == 422
    assert r.json() == {
        "code": 422,
        "message": 'You have reached the maximum number of pages you can retrieve with the "page" '
        "pagination type. Please use the search after pagination type instead",
        "_links": {
            "documentation": {
                "href": "http://api.akeneo.com/documentation/pagination.html#the-search-after-method"
            }
        },
    }
    assert api.get("/products", page="100", limit="100").status_code == 200


# -- pagination -----------------------------------------------------------------------------
def _walk(api: Api, first: str) -> list[list[str]]:
    pages, href = [], first
    while True:
        r = api.session.get(href, headers=api.headers(), timeout=10)
        pages.append(codes(r))
        if "next" not in r.json()["_links"]:
            return pages
        href = r.json()["_links"]["next"]["href"]


def test_search_after_pages_follow_next_links(api: Api) -> None:
    first = f"{api.sb.url}/api/rest/v1/products?pagination_type=search_after&limit=3"
    r = api.session.get(first, headers=api.headers(), timeout=10)
    body = r.json()
    assert set(body) == {"_links", "_embedded"}  # no current_page, no count
    assert body["_links"]["first"]["href"].endswith(
        "/products?with_count=false&pagination_type=search_after&limit=3"
    )
    assert "search_after=" in body["_links"]["next"]["href"]
    # 7 products: 3 + 3 + 1, the last page without next
    assert _walk(api, first) == [ALL[:3], ALL[3:6], ALL[6:]]


def test_an_unreadable_cursor_starts_from_the_beginning(api: Api) -> None:
    r = api.get("/products", pagination_type="search_after", limit="2", search_after="garbage")
    assert codes(r) == ALL[:2]


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(limit=st.integers(min_value=1, max_value=8), enabled=st.sampled_from([None, True, False]))
def test_both_paginations_list_the_same_items_in_creation_order(
    api: Api, limit: int, enabled: bool | None
) -> None:
    query = f"limit={limit}"
    if enabled is not None:
        query += "&search=" + requests.utils.quote(
            json.dumps({"enabled": [{"operator": "=", "value": enabled}]})
        )
    base = f"{api.sb.url}/api/rest/v1/products?{query}"
    after = [c for page in _walk(api, base + "&pagination_type=search_after") for c in page]
    offset = [c for page in _walk(api, base + "&with_count=true") for c in page]
    expected = [c for c in ALL if enabled is None or (c != "tee-b") == enabled]
    assert after == offset == expected


def test_offset_page_links_and_count(api: Api) -> None:
    r = api.get("/products", page="2", limit="3", with_count="true")
    body = r.json()
    assert (body["current_page"], body["items_count"]) == (2, 7)
    assert codes(r) == ALL[3:6]
    links = body["_links"]
    assert links["self"]["href"].endswith(
        "/products?page=2&with_count=true&pagination_type=page&limit=3"
    )
    assert links["previous"]["href"].endswith("page=1&with_count=true&pagination_type=page&limit=3")
    assert links["next"]["href"].endswith("page=3&with_count=true&pagination_type=page&limit=3")
    item = body["_embedded"]["items"][0]
    assert item["_links"] == {"self": {"href": f"{api.sb.url}/api/rest/v1/products/loose"}}
    assert item == {"_links": item["_links"], **api.get("/products/loose").json()}


def test_uuid_list_items_link_to_their_uuid(api: Api) -> None:
    r = api.get("/products-uuid", limit="1")
    (item,) = r.json()["_embedded"]["items"]
    assert "identifier" not in item
    assert (
        item["_links"]["self"]["href"] == f"{api.sb.url}/api/rest/v1/products-uuid/{item['uuid']}"
    )


def test_search_is_repeated_in_the_links_as_php_encodes_it(api: Api) -> None:
    criteria = {"categories": [{"operator": "IN", "value": ["men_tshirts"]}]}
    r = search(api, search=criteria, attributes="name")
    href = r.json()["_links"]["self"]["href"]
    query = requests.utils.unquote(href.split("?", 1)[1].replace("+", " "))
    assert query == (
        "page=1&with_count=false&pagination_type=page&limit=100"
        '&search={"categories":[{"operator":"IN","value":["men_tshirts"]}]}&attributes=name'
    )


# -- values shown ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"attributes": "name,color"}, {"name": ["en_US"], "color": [None]}),
        (
            {"locales": "fr_FR", "attributes": "name,description,color"},
            {"color": [None]},
        ),
        (
            {"scope": "print", "attributes": "description,name"},
            {"name": ["en_US"]},
        ),
        (
            {"scope": "ecommerce", "attributes": "description,name"},
            {"name": ["en_US"], "description": ["en_US"]},
        ),
    ],
    ids=["attributes", "locales", "scope-drops-other-channels", "scope-keeps-its-own"],
)
def test_attributes_locales_and_scope_trim_the_values(
    api: Api, params: dict[str, str], expected: dict[str, list[str | None]]
) -> None:
    r = search(api, search={"identifier": [{"operator": "IN", "value": ["tee-a"]}]}, **params)
    (item,) = r.json()["_embedded"]["items"]
    assert {code: [e["locale"] for e in entries] for code, entries in item["values"].items()} == (
        expected
    )


# -- DELETE ---------------------------------------------------------------------------------
@pytest.fixture
def fresh() -> Iterator[Api]:
    with start_sandbox() as sb:
        yield Api(sb)


def test_delete_products_by_identifier_and_by_uuid(fresh: Api) -> None:
    fresh.patch("products", {"identifier": "gone"}, {"identifier": "kept"})
    r = fresh.session.delete(f"{fresh.sb.url}/api/rest/v1/products/GONE", headers=fresh.headers())
    assert (r.status_code, r.content) == (204, b"")
    assert fresh.sb.state.product("gone") is None and fresh.sb.state.product("kept")
    r = fresh.session.delete(f"{fresh.sb.url}/api/rest/v1/products/gone", headers=fresh.headers())
    assert (r.status_code, r.json()) == (
        404,
        {"code": 404, "message": "The gone product does not exist in your PIM."},
    )
    uid = fresh.get("/products/kept").json()["uuid"]
    url = f"{fresh.sb.url}/api/rest/v1/products-uuid"
    assert fresh.session.delete(f"{url}/{uid}", headers=fresh.headers()).status_code == 204
    again = fresh.session.delete(f"{url}/{uid}", headers=fresh.headers())
    assert (again.status_code, again.json()["message"]) == (
        404,
        f"The {uid} product does not exist in your PIM.",
    )
    bad = fresh.session.delete(f"{url}/not-a-uuid", headers=fresh.headers())
    assert (bad.status_code, bad.json()["message"]) == (400, "The provided uuid is not valid")
    assert fresh.sb.state.count_products() == 0


def test_delete_a_product_model_takes_its_children(fresh: Api) -> None:
    fresh.patch("product-models", *MODELS)
    fresh.patch("products", *VARIANTS, {"identifier": "other"})
    url = f"{fresh.sb.url}/api/rest/v1/product-models"
    r = fresh.session.delete(f"{url}/jacket", headers=fresh.headers())
    assert (r.status_code, r.content) == (204, b"")
    assert fresh.sb.state.product_models() == []
    assert [p["identifier"] for p in fresh.sb.state.products()] == ["other"]
    r = fresh.session.delete(f"{url}/jacket", headers=fresh.headers())
    assert (r.status_code, r.json()["message"]) == (
        404,
        'Product model "jacket" does not exist or you do not have permission to access it.',
    )


def test_a_deleted_unique_value_is_free_again(fresh: Api) -> None:
    sb: Sandbox = fresh.sb
    sb.store.index_unique_attributes(["ean"])
    fresh.one({"identifier": "first", "values": {"ean": v("123")}})
    fresh.session.delete(f"{sb.url}/api/rest/v1/products/first", headers=fresh.headers())
    assert fresh.one({"identifier": "second", "values": {"ean": v("123")}})["status_code"] == 201


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/products"), ("GET", "/product-models"), ("DELETE", "/products/x")],
    ids=["list-products", "list-models", "delete"],
)
def test_faults_reach_the_new_routes(fresh: Api, method: str, path: str) -> None:
    fresh.sb.faults = Faults(rate_429=1.0, retry_after=3)
    r = fresh.session.request(
        method, f"{fresh.sb.url}/api/rest/v1{path}", headers=fresh.headers(), timeout=10
    )
    assert (r.status_code, r.headers.get("Retry-After")) == (429, "3")
    fresh.sb.faults = Faults(rate_drop=1.0)
    with pytest.raises(
        requests.ConnectionError, match="Remote end closed connection without response"
    ):
        fresh.session.request(
            method, f"{fresh.sb.url}/api/rest/v1{path}", headers=fresh.headers(), timeout=10
        )
    assert fresh.sb.stats.faults["drop"] == 1
