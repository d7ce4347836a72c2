"""Tests for feed_export.push.sender: bounded concurrency, same-key ordering, failures."""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent import futures
from typing import Any
from unittest import mock

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feed_export.akeneo.responses import LineResult
from feed_export.config import Entity
from feed_export.errors import AuthenticationError, FeedReadError
from feed_export.push import sender
from feed_export.push.batches import Batch
from feed_export.push.sender import send_batches

try:
    from feed_export.push.decode import ProductLine
except ImportError:  # products.py is written in parallel: a stand-in with the same fields
    from dataclasses import dataclass

    @dataclass(frozen=True, slots=True)
    class ProductLine:  # type: ignore[no-redef]
        row: int
        key: str
        body: bytes


GUARD = 10.0  # seconds: only reached when the code under test deadlocks


def line(row: int, key: str) -> ProductLine:
    return ProductLine(row, key, orjson.dumps({"row": row, "key": key}))


def make(spec: Sequence[Sequence[str]], entity: Entity = "products") -> list[Batch]:
    """Batches (of ``entity``) from lists of keys; rows are numbered from 2 in feed order."""
    batches, row = [], 2
    for seq, keys in enumerate(spec, start=1):
        batch_lines = []
        for key in keys:
            batch_lines.append(line(row, key))
            row += 1
        batches.append(Batch(seq, entity, tuple(batch_lines)))
    return batches


class ScriptedClient:
    """A fake client whose calls block until the sender waits; then one is released.

    Patched in place of ``sender.wait``, ``scripted_wait`` first lets every submitted call
    arrive here, then releases one of the blocked calls (the ``choices`` pick which), so
    the sender always has as much in flight as it chose to have, and completion order is
    scripted. It records violations: two calls with a shared key in flight at once.
    """

    def __init__(
        self,
        choices: Iterable[int] = (),
        fail: Callable[[list[dict[str, Any]]], BaseException | None] = lambda lines: None,
    ) -> None:
        self._choices = iter(choices)
        self._fail = fail
        self._cond = threading.Condition()
        self._blocked: list[tuple[int, list[bool]]] = []  # (first row, release flag)
        self._submitted: set[Any] = set()  # the futures themselves: ids could be reused
        self.entered = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.busy: set[str] = set()
        self.violations: list[str] = []
        self.applied: list[tuple[str, int]] = []  # (case-folded key, row) in applied order
        self.calls: list[tuple[str, list[int], bool]] = []

    def patch_collection(
        self, entity: str, lines: Sequence[bytes], *, create_missing_options: bool = False
    ) -> list[LineResult]:
        objs = [orjson.loads(b) for b in lines]
        keys = {o["key"].casefold() for o in objs}
        flag = [False]
        with self._cond:
            self.calls.append((entity, [o["row"] for o in objs], create_missing_options))
            if not keys.isdisjoint(self.busy):
                self.violations.append(
                    f"rows {[o['row'] for o in objs]} overlap {self.busy & keys}"
                )
            self.busy |= keys
            self.entered += 1
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            self._blocked.append((objs[0]["row"], flag))
            self._cond.notify_all()
            if not self._cond.wait_for(lambda: flag[0], timeout=GUARD):
                raise AssertionError("a call was never released")
            self.applied.extend((o["key"].casefold(), o["row"]) for o in objs)
            self.busy -= keys
            self.in_flight -= 1
        error = self._fail(objs)
        if error is not None:
            raise error
        return [LineResult(201, f"row {o['row']}") for o in objs]

    def scripted_wait(self, fs: Any, timeout: float | None = None, return_when: str = "") -> Any:
        with self._cond:
            self._submitted |= set(fs)
            arrived = self._cond.wait_for(
                lambda: self.entered >= len(self._submitted), timeout=GUARD
            )
            assert arrived, "a submitted call never reached the client"
            if self._blocked:
                self._blocked.sort()
                pick = next(self._choices, 0) % len(self._blocked)
                _, flag = self._blocked.pop(pick)
                flag[0] = True
                self._cond.notify_all()
        return futures.wait(fs, timeout=GUARD, return_when=futures.FIRST_COMPLETED)


def run(
    client: ScriptedClient,
    batches: Iterable[Batch],
    concurrency: int,
    on_result: Callable[[Batch, list[LineResult]], None] | None = None,
    **kwargs: Any,
) -> list[tuple[Batch, list[LineResult]]]:
    out = []
    with mock.patch.object(sender, "wait", client.scripted_wait):
        for batch, results in send_batches(
            client,
            batches,
            concurrency=concurrency,
            **kwargs,
        ):
            out.append((batch, results))
            if on_result is not None:
                on_result(batch, results)
    return out


def test_results_are_complete_and_match_lines() -> None:
    batches = make([["a", "b"], ["c"], ["d", "e", "f"], ["g"]])
    client = ScriptedClient(choices=[2, 1, 0, 0])
    out = run(client, batches, concurrency=3)
    assert sorted(b.seq for b, _ in out) == [1, 2, 3, 4]
    for batch, results in out:
        assert results == [LineResult(201, f"row {ln.row}") for ln in batch.lines]
    assert [b.seq for b, _ in out][:1] == [3]  # yielded as completed, not in feed order


def test_each_batch_goes_to_its_entity_with_create_missing_options() -> None:
    client = ScriptedClient()
    batches = [*make([["a"]], "product-models"), *make([["b"]])]
    batches[1] = Batch(2, "products", batches[1].lines)
    run(client, batches, concurrency=1, create_missing_options=True)
    assert client.calls == [("product-models", [2], True), ("products", [2], True)]


def test_on_send_is_called_in_the_worker_before_each_request() -> None:
    client = ScriptedClient()
    began: list[tuple[int, int]] = []
    run(
        client,
        make([["a"], ["b"]]),
        concurrency=1,
        on_send=lambda b: began.append((b.seq, len(client.calls))),
    )
    assert began == [(1, 0), (2, 1)]


@pytest.mark.parametrize("concurrency", [1, 3, 10], ids=["1", "3", "10"])
def test_concurrency_is_bounded_and_used(concurrency: int) -> None:
    batches = make([[f"k{i}"] for i in range(12)])
    client = ScriptedClient(choices=[1, 0, 2] * 10)
    run(client, batches, concurrency=concurrency)
    assert client.max_in_flight == min(concurrency, 12)
    assert client.violations == []


def test_batches_are_pulled_only_when_a_slot_is_free() -> None:
    pulled: list[int] = []

    def source() -> Iterator[Batch]:
        for batch in make([[f"k{i}"] for i in range(50)]):
            pulled.append(batch.seq)
            yield batch

    done: list[int] = []

    def check(batch: Batch, results: list[LineResult]) -> None:
        done.append(batch.seq)
        # in flight (<= 2) + the one waiting for a slot; nothing more is read ahead
        assert len(pulled) - len(done) <= 2 + 1

    run(ScriptedClient(), source(), concurrency=2, on_result=check)
    assert len(done) == 50


@pytest.mark.parametrize(
    ("spec", "choices"),
    [
        ([["A"], ["a"]], [1, 0]),
        ([["x", "A"], ["b"], ["c", "a"], ["d"]], [1, 1, 1, 0]),
        ([["a", "a"], ["a"], ["b"], ["a", "b"]], [0, 1, 0, 1]),
    ],
    ids=["case-folded", "behind-a-waiting-batch", "repeats-within-a-batch"],
)
def test_shared_keys_are_never_in_flight_together(
    spec: list[list[str]], choices: list[int]
) -> None:
    client = ScriptedClient(choices=choices)
    out = run(client, make(spec), concurrency=4)
    assert client.violations == []
    rows_by_key: dict[str, list[int]] = defaultdict(list)
    for key, row in client.applied:
        rows_by_key[key].append(row)
    assert all(rows == sorted(rows) for rows in rows_by_key.values())
    assert len(out) == len(spec)


def test_authentication_error_stops_submission() -> None:
    def fail(objs: list[dict[str, Any]]) -> BaseException | None:
        return AuthenticationError("credentials revoked") if objs[0]["key"] == "b" else None

    client = ScriptedClient(choices=[1, 0, 0, 0], fail=fail)
    yielded: list[int] = []
    with pytest.raises(AuthenticationError, match="credentials revoked"):
        run(
            client,
            make([["a"], ["b"], ["c"], ["d"], ["e"]]),
            concurrency=2,
            on_result=lambda b, r: yielded.append(b.seq),
        )
    assert [rows for _, rows, _ in client.calls] == [[2], [3]]  # nothing sent after the error
    assert yielded == [1]  # the batch in flight finished and was yielded


def test_source_error_lets_in_flight_batches_finish() -> None:
    def source() -> Iterator[Batch]:
        yield from make([["a"], ["b"]])
        raise FeedReadError("feed.csv: row 4: unreadable")

    yielded: list[int] = []
    with pytest.raises(FeedReadError, match="unreadable"):
        run(ScriptedClient(), source(), concurrency=4, on_result=lambda b, r: yielded.append(b.seq))
    assert sorted(yielded) == [1, 2]


def test_worker_crash_gives_status_0_lines(caplog: pytest.LogCaptureFixture) -> None:
    def fail(objs: list[dict[str, Any]]) -> BaseException | None:
        return RuntimeError("kaput") if objs[0]["key"] == "b" else None

    caplog.set_level(logging.DEBUG, logger="feed_export.push.sender")
    out = dict(
        (b.seq, r)
        for b, r in run(ScriptedClient(fail=fail), make([["a"], ["b", "c"], ["d"]]), concurrency=2)
    )
    message = "Unknown: internal error while sending this batch (RuntimeError: kaput)"
    assert out[2] == [LineResult(0, message)] * 2
    assert out[1] == [LineResult(201, "row 2")]
    assert out[3] == [LineResult(201, "row 5")]
    assert any(r.exc_info for r in caplog.records if r.levelno == logging.DEBUG)


def test_wrong_number_of_results_becomes_status_0() -> None:
    class Short:
        def patch_collection(
            self, entity: str, lines: Sequence[bytes], *, create_missing_options: bool = False
        ) -> list[LineResult]:
            return [LineResult(204, "")]

    out = list(send_batches(Short(), make([["a", "b"]]), concurrency=1))
    assert [r.status for r in out[0][1]] == [0, 0]


def test_concurrency_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        list(send_batches(ScriptedClient(), make([["a"]]), concurrency=0))


keys = st.sampled_from(["a", "A", "b", "c", "d", "é", "É"])


@settings(max_examples=60, deadline=None)
@given(
    spec=st.lists(st.lists(keys, min_size=1, max_size=4), min_size=1, max_size=12),
    choices=st.lists(st.integers(0, 9), max_size=30),
    concurrency=st.integers(1, 4),
)
def test_every_line_one_result_and_same_keys_in_order(
    spec: list[list[str]], choices: list[int], concurrency: int
) -> None:
    batches = make(spec)
    client = ScriptedClient(choices=choices)
    out = run(client, batches, concurrency=concurrency)
    rows = [ln.row for batch, _ in out for ln in batch.lines]
    assert sorted(rows) == [ln.row for b in batches for ln in b.lines]  # each exactly once
    for batch, results in out:
        assert results == [LineResult(201, f"row {ln.row}") for ln in batch.lines]
    assert client.violations == []
    assert client.max_in_flight <= concurrency
    rows_by_key: dict[str, list[int]] = defaultdict(list)
    for key, row in client.applied:
        rows_by_key[key].append(row)
    assert all(r == sorted(r) for r in rows_by_key.values())
