"""The planner: cases that mutation testing found unguarded (bench/mutation.py planner).

Driven through ``Planner``'s own calls (add, next_batch, record, outcomes), no sender: the
edges of "saved" (200 and 299 are, 199 and 300 are not), the quoted message of a parent
that failed, how many lines are held, association targets that are product models, a
product-model feed whose associations name products, and the key index.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import orjson
import pytest

from feed_export.akeneo.responses import LineResult
from feed_export.catalog.layout import resolve_headers
from feed_export.catalog.structure import Catalog
from feed_export.config import Entity, ExportOptions
from feed_export.feed.reader import Row
from feed_export.push.batches import Batch
from feed_export.push.decode import MediaRef, ProductLine, second_pass
from feed_export.push.feedback import Outcome
from feed_export.push.media import MediaTask
from feed_export.push.planner import FeedIndex, Planner, SendPlan, needs_index

KEY_FIELD = {"products": "identifier", "products-uuid": "uuid", "product-models": "code"}


def line(
    row: int,
    key: str,
    entity: Entity = "products",
    *,
    parent: str | None = None,
    links: dict[str, Any] | None = None,
) -> ProductLine:
    """A line shaped like the decoder's: the key first, the associations last."""
    body: dict[str, Any] = {KEY_FIELD[entity]: key, "family": "f"}
    if parent is not None:
        body["parent"] = parent
    base = orjson.dumps(body)
    if not links:
        return ProductLine(row, key, base, entity, parent)
    whole = base[:-1] + b"," + orjson.dumps({"associations": links})[1:]
    return ProductLine(row, key, whole, entity, parent, len(base) - 1)


def keys(batch: Batch | None) -> list[str]:
    assert batch is not None
    return [orjson.loads(sent.body)[KEY_FIELD[batch.entity]] for sent in batch.lines]


def answer(planner: Planner, batch: Batch | None, status: int = 201, message: str = "") -> None:
    assert batch is not None
    planner.record(batch, [LineResult(status, message)] * len(batch.lines))


def mixed_parent_and_child() -> Planner:
    planner = Planner("products", batch_size=10, mixed=True)
    planner.add(line(2, "M", "product-models"))
    planner.add(line(3, "p", parent="M"))
    return planner


@pytest.mark.parametrize("status", [200, 201, 204, 299], ids=str)
def test_a_2xx_answer_saves_the_parent(status: int) -> None:
    planner = mixed_parent_and_child()
    models = planner.next_batch(flush=True)
    assert keys(models) == ["M"]
    assert planner.next_batch(flush=True) is None  # the child waits for its parent
    answer(planner, models, status)
    assert keys(planner.next_batch(flush=True)) == ["p"]
    assert planner.outcomes() == [(line(2, "M", "product-models"), Outcome(2, status, ""))]


@pytest.mark.parametrize("status", [0, 199, 300, 422], ids=str)
def test_any_other_answer_keeps_the_child_back(status: int) -> None:
    planner = mixed_parent_and_child()
    answer(planner, planner.next_batch(flush=True), status, "nope")
    assert planner.next_batch(flush=True) is None
    finished = {outcome.row: outcome for _, outcome in planner.outcomes()}
    assert finished == {
        2: Outcome(2, status, "nope"),
        3: Outcome(3, 422, f'Not sent: parent "M" was not saved (row 2: {status} nope)'),
    }
    assert planner.held == 0


@pytest.mark.parametrize(
    ("length", "quoted"),
    [(196, "422 " + "e" * 196), (197, "422 " + "e" * 196 + "…")],
    ids=["200-characters", "201-characters"],
)
def test_a_failed_parents_message_is_quoted_up_to_200_characters(length: int, quoted: str) -> None:
    planner = mixed_parent_and_child()
    answer(planner, planner.next_batch(flush=True), 422, "e" * length)
    child = [outcome for _, outcome in planner.outcomes() if outcome.row == 3]
    assert child == [Outcome(3, 422, f'Not sent: parent "M" was not saved (row 2: {quoted})')]


def test_held_counts_the_lines_not_handed_out() -> None:
    planner = mixed_parent_and_child()
    assert planner.held == 1  # the model went to the ready queue, the child waits
    models = planner.next_batch(flush=True)
    assert (planner.held, planner.lines_sent) == (1, 1)
    answer(planner, models)
    assert planner.held == 0  # released to the ready queue
    answer(planner, planner.next_batch(flush=True))
    assert (planner.held, planner.lines_sent, planner.open_rows) == (0, 2, 0)
    planner.end_of_input()
    assert planner.done


def test_a_model_that_is_its_own_parent_is_not_sent() -> None:
    planner = Planner("product-models", batch_size=10)
    planner.add(line(2, "M", "product-models", parent="m"))
    assert (planner.held, planner.open_rows) == (0, 0)
    assert planner.next_batch(flush=True) is None
    assert [outcome for _, outcome in planner.outcomes()] == [
        Outcome(
            2,
            422,
            'Not sent: parent cycle: "M" -> "M"; a product model cannot be its own ancestor: '
            "fix the parent column of these rows",
        )
    ]


def test_associations_to_a_model_wait_until_the_model_is_saved() -> None:
    planner = Planner("products", batch_size=10, mixed=True)
    linked = line(2, "p", links={"X_SELL": {"product_models": ["M"]}})
    planner.add(linked)
    main = planner.next_batch(flush=True)
    assert main is not None and main.lines[0].body == b'{"identifier":"p","family":"f"}'
    answer(planner, main)
    planner.add(line(3, "M", "product-models"))
    models = _batch_of(planner, "product-models")
    assert keys(models) == ["M"]
    assert planner.next_batch(flush=True) is None  # the links wait for M's answer
    answer(planner, models)
    links = planner.next_batch(flush=True)
    assert links is not None and links.entity == "products"
    assert [sent.body for sent in links.lines] == [second_pass(linked, "products")]


def _batch_of(planner: Planner, entity: Entity) -> Batch:
    batch = planner.next_batch(flush=True)
    assert batch is not None and batch.entity == entity
    return batch


def test_a_model_feeds_associations_to_products_do_not_wait_for_the_end() -> None:
    # a product-model feed holds no product: a product it names is the PIM's business
    planner = Planner("product-models", batch_size=10)
    planner.add(line(2, "M", "product-models", links={"X_SELL": {"products": ["p1"]}}))
    answer(planner, planner.next_batch(flush=True))
    links = planner.next_batch(flush=True)
    assert links is not None
    assert orjson.loads(links.lines[0].body) == {
        "code": "M",
        "associations": {"X_SELL": {"products": ["p1"]}},
    }


class KeyReader:
    """A decoder stand-in: the key of a row is its first cell, a second cell its entity."""

    def key_of(self, row: Row) -> tuple[Entity, str] | None:
        if not row.cells or not row.cells[0]:
            return None
        entity: Entity = "product-models" if row.cells[1:] == ("model",) else "products"
        return entity, row.cells[0]


def test_feed_index_scan_folds_and_splits_the_keys() -> None:
    rows = [Row(2, ("Shirt", "model")), Row(3, ("SKU-1",)), Row(4, ("",)), Row(5, ("sku-2",))]
    index = FeedIndex.scan(rows, KeyReader())  # type: ignore[arg-type]
    assert index == FeedIndex(frozenset({"sku-1", "sku-2"}), frozenset({"shirt"}))
    assert index.has((True, "shirt")) and index.has((False, "sku-1"))
    assert not index.has((False, "shirt")) and not index.has((True, "sku-1"))


CATALOG = Catalog.from_dict(
    {"attributes": [{"code": "sku", "type": "pim_catalog_identifier", "is_main_identifier": True}]}
)


@pytest.mark.parametrize(
    ("header", "entity", "needed"),
    [
        (["sku", "family"], "products", False),
        (["sku", "associations~X~products"], "products", True),
        (["sku", "quantified_associations~P~products"], "products", True),
        (["sku", "entity", "code"], "products", True),
        (["code", "family_variant"], "product-models", True),
    ],
    ids=["plain", "associations", "quantified-associations", "mixed", "product-models"],
)
def test_needs_index(header: list[str], entity: Entity, needed: bool) -> None:
    layout = resolve_headers("f.csv", header, CATALOG, ExportOptions(entity=entity))
    assert needs_index(layout) is needed


# -- SendPlan: what it hands the sender and the media stage --------------------------


class Pim:
    """Answers 201 to every line; remembers what it was asked."""

    def __init__(self) -> None:
        self.calls: list[tuple[Entity, list[str], bool]] = []

    def patch_collection(
        self, entity: Entity, lines: Sequence[bytes], *, create_missing_options: bool = False
    ) -> list[LineResult]:
        found = [orjson.loads(sent)[KEY_FIELD[entity]] for sent in lines]
        self.calls.append((entity, found, create_missing_options))
        return [LineResult(201, "")] * len(lines)


def media_line(row: int, key: str, source: str) -> ProductLine:
    ref = MediaRef("picture", None, None, source, "url", "picture", frozenset(), None, True)
    return replace(line(row, key), media=(ref,))


@pytest.mark.parametrize("create", [False, True], ids=["plain", "create-missing-options"])
def test_send_plan_hands_its_options_to_the_sender(create: bool) -> None:
    pim, started = Pim(), []
    plan = SendPlan(
        pim, entity="products", batch_size=2, create_missing_options=create, on_send=started.append
    )
    outcomes = list(plan.run([line(2, "a"), line(3, "b"), line(4, "c")]))
    assert sorted(outcome.row for outcome in outcomes) == [2, 3, 4]
    assert pim.calls == [("products", ["a", "b"], create), ("products", ["c"], create)]
    assert [batch.seq for batch in started] == [1, 2]


def test_send_plan_uses_the_index_it_is_given() -> None:
    # with the index, a child whose parent is not in the feed goes at once; the model
    # rows of this feed are "M" only
    index = FeedIndex(frozenset({"p"}), frozenset({"m"}))
    plan = SendPlan(Pim(), entity="products", batch_size=1, index=index, mixed=True)
    plan.planner.add(line(2, "p", parent="Elsewhere"))
    batch = plan.planner.next_batch(flush=False)
    assert keys(batch) == ["p"]


class CrashingMedia:
    def __init__(self) -> None:
        self.closed = False

    def apply(self, task: MediaTask) -> LineResult:
        raise ValueError(f"no such file: {task.ref.source}")

    def close(self) -> None:
        self.closed = True


def test_a_crash_in_the_media_stage_costs_that_file_only() -> None:
    media = CrashingMedia()
    plan = SendPlan(Pim(), entity="products", media=media)
    outcomes = list(plan.run([media_line(2, "a", "https://x.test/a.jpg"), line(3, "b")]))
    assert sorted(outcomes, key=lambda o: o.row) == [
        Outcome(
            2,
            0,
            "Saved (201), except: picture not saved (https://x.test/a.jpg): internal error: "
            "ValueError: no such file: https://x.test/a.jpg",
        ),
        Outcome(3, 201, ""),
    ]
    assert media.closed


def test_without_a_media_stage_every_file_says_so() -> None:
    plan = SendPlan(Pim(), entity="products")
    lines = [media_line(2, "a", "https://x.test/a.jpg"), media_line(3, "b", "https://x.test/b.jpg")]
    outcomes = sorted(plan.run(lines), key=lambda o: o.row)
    assert [(o.row, o.status) for o in outcomes] == [(2, 422), (3, 422)]
    assert outcomes[1].message == (
        "Saved (201), except: picture not saved (https://x.test/b.jpg): files given by URL or "
        "path are not fetched in this run (no media stage)"
    )
