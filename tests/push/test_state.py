"""Tests for feed_export.push.state: what the PIM accepted, per PIM, entity and folded key."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feed_export.errors import ConfigError, RunAborted
from feed_export.push.state import (
    PENDING,
    Pushed,
    StateStore,
    Stored,
    context_hash,
    default_state_path,
    format_time,
    payload_hash,
    row_hash,
    state_key,
)

URL = "https://pim.example.com"
NOW = 1_795_850_000  # 2026-11-28T07:13:20Z


def store(path: Path, target: str = URL, entity: str = "products") -> StateStore:
    return StateStore(path / "state.sqlite", target, entity, clock=lambda: NOW)


def test_default_path_and_helpers(tmp_path: Path) -> None:
    assert default_state_path(tmp_path / "f.csv") == tmp_path / ".feed_export" / "state.sqlite"
    assert format_time(0) == "1970-01-01T00:00:00Z"
    assert len(payload_hash(b"{}")) == 16
    assert payload_hash(b'{"a":1}') != payload_hash(b'{"a":2}')
    assert state_key("ÄBC-ß") == state_key("äbc-SS")


@pytest.mark.parametrize(
    ("answers", "body", "holds", "status"),
    [
        ([201], b"x", True, 201),
        ([204], b"y", False, 204),  # another payload
        ([201, 422], b"x", False, 422),  # the last push failed: send again
        ([201, 0], b"x", False, 0),  # network error: may or may not have landed
        ([422], b"x", False, 422),  # never accepted
        ([201, 422, 204], b"x", True, 204),
    ],
    ids=["accepted", "other-payload", "then-rejected", "then-network", "never", "recovered"],
)
def test_record_then_lookup(
    tmp_path: Path, answers: list[int], body: bytes, holds: bool, status: int
) -> None:
    s = store(tmp_path)
    for answer in answers:
        s.mark_pending(["SKU-1"])
        s.record([Pushed("SKU-1", payload_hash(b"x"), answer)])
    found = s.lookup(["sku-1"])["sku-1"]
    assert found.holds(payload_hash(body)) is holds
    assert found.status == status
    if 201 in answers or 204 in answers:
        assert found.accepted_at == NOW


def test_pending_until_the_last_batch_of_a_key_is_answered(tmp_path: Path) -> None:
    s = store(tmp_path)
    s.mark_pending(["A", "B"])  # batch 1
    s.mark_pending(["a"])  # batch 2: the same product, other case
    assert s.lookup(["a"])["a"].status == PENDING
    s.record([Pushed("A", payload_hash(b"1"), 201), Pushed("B", payload_hash(b"2"), 201)])
    # batch 2 is still out: a crash now must not leave "accepted" behind
    assert s.lookup(["a"])["a"].status == PENDING
    assert s.lookup(["b"])["b"].holds(payload_hash(b"2"))
    s.record([Pushed("a", payload_hash(b"3"), 204)])
    assert s.lookup(["a"])["a"].holds(payload_hash(b"3"))


def test_released_batch_stays_pending_in_the_file(tmp_path: Path) -> None:
    s = store(tmp_path)
    s.record([Pushed("A", payload_hash(b"1"), 201)])
    s.mark_pending(["A"])
    s.release(["A"])  # interrupted: never answered
    assert s.lookup(["a"])["a"] == Stored(payload_hash(b"1"), NOW, PENDING)
    s.close()
    assert store(tmp_path).lookup(["a"])["a"].status == PENDING


def test_pims_and_entities_are_apart_and_state_persists(tmp_path: Path) -> None:
    a = store(tmp_path)
    a.record([Pushed("K", payload_hash(b"1"), 201)])
    a.close()
    assert store(tmp_path, target="https://other.example.com").lookup(["k"]) == {}
    assert store(tmp_path, entity="product-models").lookup(["k"]) == {}
    assert store(tmp_path).lookup(["k", "missing"]).keys() == {"k"}


def test_lookup_of_many_keys(tmp_path: Path) -> None:
    s = store(tmp_path)
    s.record([Pushed(f"K{i}", payload_hash(str(i).encode()), 201) for i in range(1500)])
    found = s.lookup(f"k{i}" for i in range(0, 3000, 2))
    assert len(found) == 750
    assert found["k1498"].holds(payload_hash(b"1498"))


@pytest.mark.parametrize(
    ("content", "why"),
    [(b"not a database at all, just text" * 100, "cannot use"), (None, "cannot open")],
    ids=["garbage", "directory"],
)
def test_unusable_file_is_a_config_error(tmp_path: Path, content: bytes | None, why: str) -> None:
    path = tmp_path / "state.sqlite"
    if content is None:
        path.mkdir()
    else:
        path.write_bytes(content)
    with pytest.raises(ConfigError, match=why) as info:
        StateStore(path, URL, "products")
    assert str(path) in str(info.value)


def test_no_target_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="base URL"):
        StateStore(tmp_path / "s.sqlite", "", "products")


def test_failed_write_aborts_the_run(tmp_path: Path) -> None:
    s = store(tmp_path)
    other = sqlite3.connect(tmp_path / "state.sqlite", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another writer holds the file
    s._db.execute("PRAGMA busy_timeout = 0")
    with pytest.raises(RunAborted, match="cannot update the state file"):
        s.record([Pushed("A", payload_hash(b"1"), 201)])
    other.execute("ROLLBACK")
    s.record([Pushed("A", payload_hash(b"1"), 201)])  # usable again afterwards
    assert s.lookup(["a"])["a"].status == 201


keys = st.sampled_from(["a", "A", "b", "B", "c"])
pushes = st.lists(
    st.lists(
        st.tuples(keys, st.sampled_from([b"1", b"2"]), st.sampled_from([201, 204, 422, 0])),
        min_size=1,
        max_size=4,
    ),
    max_size=8,
)


@settings(max_examples=60, deadline=None)
@given(batches=pushes)
def test_state_matches_a_model(
    tmp_path_factory: pytest.TempPathFactory, batches: list[list[tuple[str, bytes, int]]]
) -> None:
    """Per folded key: the last accepted payload, and the status of the last push."""
    s = store(tmp_path_factory.mktemp("model"))
    accepted: dict[str, bytes] = {}
    last: dict[str, int] = {}
    for batch in batches:
        s.mark_pending(k for k, _, _ in batch)
        s.record([Pushed(k, payload_hash(b), status) for k, b, status in batch])
        for k, b, status in batch:
            last[k.casefold()] = status
            if status in (201, 204):
                accepted[k.casefold()] = b
    found = s.lookup(["a", "b", "c"])
    assert found.keys() == last.keys()
    for key, entry in found.items():
        assert entry.status == last[key]
        for body in (b"1", b"2"):
            expected = last[key] in (201, 204) and accepted.get(key) == body
            assert entry.holds(payload_hash(body)) is expected
    s.close()


def test_raw_row_hash_goes_with_its_payload(tmp_path: Path) -> None:
    s = store(tmp_path)
    ctx = context_hash("v1", ["sku", "name"])
    first, second = row_hash(ctx, ("A", "x")), row_hash(ctx, ("A", "y"))
    assert row_hash(ctx, ("A", "x")) == first != second
    assert row_hash(context_hash("v2", ["sku", "name"]), ("A", "x")) != first
    assert row_hash(ctx, ("A,x",)) != row_hash(ctx, ("A", "x"))  # cells are delimited
    s.record([Pushed("A", payload_hash(b"1"), 201, first)])
    assert s.lookup(["a"])["a"].holds_row(first)
    s.record([Pushed("A", payload_hash(b"2"), 422, second)])  # failed: nothing vouched
    entry = s.lookup(["a"])["a"]
    assert entry.row_hash == first and not entry.holds_row(first)  # not accepted last
    s.record([Pushed("A", payload_hash(b"1"), 204, first)])
    # a row found unchanged by its payload notes its raw hash, only for that payload
    s.note_rows([("a", payload_hash(b"1"), second), ("a", payload_hash(b"9"), b"x" * 16)])
    assert s.lookup(["a"])["a"].holds_row(second)
