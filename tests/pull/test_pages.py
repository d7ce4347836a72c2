"""The lists a pull reads (search filters as the API takes them) and reading pages ahead."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from feed_export.config import PullOptions
from feed_export.errors import ConfigError, TransportError
from feed_export.pull.pages import listings, read_ahead, read_side_by_side


def searches(**options: Any) -> list[tuple[str, int, dict[str, Any]]]:
    return [
        (listing.resource, listing.phase, json.loads(listing.params.get("search", "{}")))
        for listing in listings(PullOptions(**options))
    ]


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({}, {}),
        ({"families": ("clothing", "shoes")},
         {"family": [{"operator": "IN", "value": ["clothing", "shoes"]}]}),
        ({"categories": ("men",)}, {"categories": [{"operator": "IN", "value": ["men"]}]}),
        ({"enabled": True}, {"enabled": [{"operator": "=", "value": True}]}),
        ({"enabled": False}, {"enabled": [{"operator": "=", "value": False}]}),
        ({"updated_since": datetime(2026, 3, 1, 8, 0, tzinfo=timezone(timedelta(hours=1)))},
         {"updated": [{"operator": ">", "value": "2026-03-01 07:00:00"}]}),
        ({"updated_since": datetime(2026, 3, 1)},
         {"updated": [{"operator": ">", "value": "2026-03-01 00:00:00"}]}),
        ({"families": ("a",), "search": {"family": [{"operator": "NOT IN", "value": ["b"]}],
                                         "completeness": [{"operator": ">", "value": 70,
                                                           "scope": "ecommerce"}]}},
         {"family": [{"operator": "IN", "value": ["a"]}, {"operator": "NOT IN", "value": ["b"]}],
          "completeness": [{"operator": ">", "value": 70, "scope": "ecommerce"}]}),
    ],
    ids=["none", "families", "categories", "enabled", "disabled", "updated-with-zone",
         "updated-naive", "search-added"],
)  # fmt: skip
def test_products_filters_become_one_search(
    options: dict[str, Any], expected: dict[str, Any]
) -> None:
    assert searches(**options) == [("products", 2, expected)]


def test_every_list_reads_search_after_pages() -> None:
    for listing in listings(PullOptions(entity="all", locales=("en_US",), attributes=("name",))):
        assert listing.params["pagination_type"] == "search_after"
        assert listing.params["locales"] == "en_US" and listing.params["attributes"] == "name"
        assert "scope" not in listing.params  # a scope would also filter the products


def test_product_models_roots_then_sub_models_then_products() -> None:
    got = searches(entity="all", families=("clothing",))
    family = [{"operator": "IN", "value": ["clothing"]}]
    assert got == [
        ("product-models", 0, {"family": family, "parent": [{"operator": "EMPTY"}]}),
        ("product-models", 1, {"family": family, "parent": [{"operator": "NOT EMPTY"}]}),
        ("products", 2, {"family": family}),
    ]
    assert [one.entity for one in listings(PullOptions(entity="all"))] == [
        "product_model", "product_model", "product"]  # fmt: skip


def test_enabled_is_a_products_filter_only() -> None:
    got = searches(entity="all", enabled=True)
    assert "enabled" not in got[0][2] and got[2][2]["enabled"] == [{"operator": "=", "value": True}]
    with pytest.raises(ConfigError, match="product models have no enabled field"):
        listings(PullOptions(entity="product-models", enabled=False))


@given(count=st.integers(1, 350))
def test_identifiers_go_by_chunks_of_100(count: int) -> None:
    codes = tuple(f"SKU-{i}" for i in range(count))
    got = searches(identifiers=codes, families=("x",))
    asked: list[str] = []
    for _, _, search in got:
        (condition,) = search["identifier"]
        assert condition["operator"] == "IN" and 1 <= len(condition["value"]) <= 100
        assert search["family"] == [{"operator": "IN", "value": ["x"]}]
        asked.extend(condition["value"])
    assert asked == list(codes) and len(got) == -(-count // 100)


def test_partitions_make_one_list_each_with_the_filters() -> None:
    parts = ({"updated": [{"operator": "<", "value": "2026-01-01 00:00:00"}]},
             {"updated": [{"operator": ">", "value": "2025-12-31 23:59:59"}]})  # fmt: skip
    got = searches(partitions=parts, families=("x",))
    assert [search for _, _, search in got] == [
        {"family": [{"operator": "IN", "value": ["x"]}], **parts[0]},
        {"family": [{"operator": "IN", "value": ["x"]}], **parts[1]},
    ]


# --- reading ahead ---------------------------------------------------------------------


@given(pages=st.lists(st.lists(st.integers(), max_size=3), max_size=20))
def test_read_ahead_gives_every_page_in_order(pages: list[list[int]]) -> None:
    assert list(read_ahead(iter(pages))) == pages


def test_the_next_page_is_fetched_while_the_previous_is_worked_on() -> None:
    fetched: list[int] = []
    second_fetched = threading.Event()

    def pages() -> Iterator[int]:
        for number in range(3):
            fetched.append(number)
            if number == 1:
                second_fetched.set()
            yield number

    reader = read_ahead(pages())
    assert next(reader) == 0
    # while the caller holds page 0, the reader fetches page 1 without being asked
    assert second_fetched.wait(5)
    assert list(reader) == [1, 2]


def test_a_reader_failure_is_raised_where_the_next_page_is_read() -> None:
    def pages() -> Iterator[int]:
        yield 1
        raise TransportError("GET /api/rest/v1/products: 500 after 6 attempts")

    reader = read_ahead(pages())
    assert next(reader) == 1
    with pytest.raises(TransportError, match="500 after 6 attempts"):
        next(reader)


def test_a_caller_that_stops_early_stops_the_reader() -> None:
    produced: list[int] = []

    def pages() -> Iterator[int]:
        for number in range(1000):
            produced.append(number)
            yield number

    reader = read_ahead(pages())
    assert next(reader) == 0
    reader.close()  # the generator's finally stops and joins the reader thread
    assert len(produced) < 10
    assert not any(t.name.startswith("feed_export-pull") for t in threading.enumerate())


def test_side_by_side_reads_every_source_each_in_order() -> None:
    sources = [lambda n=n: iter([(n, i) for i in range(5)]) for n in range(4)]
    got = list(read_side_by_side(sources, workers=3))
    assert sorted(got) == [(n, i) for n in range(4) for i in range(5)]
    for n in range(4):
        assert [i for m, i in got if m == n] == list(range(5))


def test_one_worker_reads_the_sources_one_after_the_other() -> None:
    sources = [lambda n=n: iter([n, n]) for n in range(3)]
    assert list(read_side_by_side(sources, workers=1)) == [0, 0, 1, 1, 2, 2]
