"""Tests for feed_export.push.batches: numbered batches in feed order, streaming."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from feed_export.push.batches import Batch, make_batches

try:
    from feed_export.push.decode import ProductLine
except ImportError:  # products.py is written in parallel: a stand-in with the same fields
    from dataclasses import dataclass

    @dataclass(frozen=True, slots=True)
    class ProductLine:  # type: ignore[no-redef]
        row: int
        key: str
        body: bytes


def lines(n: int) -> list[ProductLine]:
    return [
        ProductLine(row, f"sku{row}", b'{"identifier":"sku%d"}' % row) for row in range(2, n + 2)
    ]


@pytest.mark.parametrize(
    ("count", "size", "sizes"),
    [
        (0, 3, []),
        (1, 100, [1]),
        (5, 2, [2, 2, 1]),
        (4, 4, [4]),
        (250, 100, [100, 100, 50]),
        (3, 1, [1, 1, 1]),
    ],
    ids=["empty", "one-line", "ragged-tail", "exact", "default-size", "size-1"],
)
def test_batch_sizes(count: int, size: int, sizes: list[int]) -> None:
    batches = list(make_batches(lines(count), size, "products"))
    assert [len(b.lines) for b in batches] == sizes
    assert [b.seq for b in batches] == list(range(1, len(sizes) + 1))
    assert [line for b in batches for line in b.lines] == lines(count)


@pytest.mark.parametrize("size", [0, -1], ids=["zero", "negative"])
def test_size_must_be_positive(size: int) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        list(make_batches(lines(3), size, "products"))


def test_streaming_pulls_only_what_a_batch_needs() -> None:
    pulled: list[int] = []

    def source() -> Iterator[ProductLine]:
        for line in lines(1000):
            pulled.append(line.row)
            yield line

    batches = make_batches(source(), 10, "products")
    first = next(batches)
    assert len(first.lines) == 10
    assert len(pulled) == 10
    next(batches)
    assert len(pulled) == 20


def test_batch_is_frozen() -> None:
    batch = Batch(1, "products", tuple(lines(1)))
    with pytest.raises(AttributeError, match="cannot assign to field 'seq'"):
        batch.seq = 2  # type: ignore[misc]


@given(count=st.integers(0, 300), size=st.integers(1, 100))
def test_batches_partition_the_lines_in_order(count: int, size: int) -> None:
    source = lines(count)
    batches = list(make_batches(source, size, "products"))
    assert [line for b in batches for line in b.lines] == source
    assert all(len(b.lines) == size for b in batches[:-1])
    assert all(1 <= len(b.lines) <= size for b in batches)
    assert [b.seq for b in batches] == list(range(1, len(batches) + 1))
