"""The planner: parents before children, associations after their targets, files after
their product, one outcome per row, whatever fails (with a fake PIM, no HTTP)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feed_export.akeneo.responses import LineResult
from feed_export.config import Entity
from feed_export.errors import AuthenticationError
from feed_export.push.batches import Batch
from feed_export.push.decode import MediaRef, ProductLine, first_pass, second_pass
from feed_export.push.feedback import Outcome
from feed_export.push.media import MediaTask
from feed_export.push.planner import FeedIndex, Planner, SendPlan

KEY_FIELD = {"products": "identifier", "products-uuid": "uuid", "product-models": "code"}


def mk(
    row: int,
    key: str,
    *,
    entity: Entity = "products",
    parent: str | None = None,
    links: dict[str, Any] | None = None,
    media: tuple[MediaRef, ...] = (),
) -> ProductLine:
    """A line shaped like RowDecoder's: key first, associations last."""
    body: dict[str, Any] = {KEY_FIELD[entity]: key, "family": "f"}
    if parent is not None:
        body["parent"] = parent
    base = orjson.dumps(body)
    if not links:
        return ProductLine(row, key, base, entity, parent, 0, media)
    whole = base[:-1] + b"," + orjson.dumps(links)[1:]
    return ProductLine(row, key, whole, entity, parent, len(base) - 1, media)


def assoc(*products: str, models: Sequence[str] = ()) -> dict[str, Any]:
    targets: dict[str, Any] = {"products": list(products)}
    if models:
        targets["product_models"] = list(models)
    return {"associations": {"X_SELL": targets}}


def ref(source: str = "https://cdn.test/a.jpg", header: str = "picture") -> MediaRef:
    return MediaRef("picture", None, None, source, "url", header, frozenset({"jpg"}), None, True)


class FakePim:
    """Saves lines like the PIM would; checks, at call time, the planner's promises."""

    def __init__(
        self, fail: set[str] = frozenset(), in_feed: set[str] = frozenset(), auth_after: int = -1
    ) -> None:
        self.fail = {k.casefold() for k in fail}
        self.in_feed = {k.casefold() for k in in_feed}  # keys the run may create
        self.saved: set[tuple[str, str]] = set()  # (entity, folded key)
        self.calls: list[tuple[str, list[dict[str, Any]]]] = []
        self.violations: list[str] = []
        self.lock = threading.Lock()
        self.auth_after = auth_after

    def patch_collection(
        self, entity: Entity, lines: Sequence[bytes], *, create_missing_options: bool = False
    ) -> list[LineResult]:
        with self.lock:
            if self.auth_after == 0:
                raise AuthenticationError("token refused")
            self.auth_after -= 1
            bodies = [orjson.loads(line) for line in lines]
            self.calls.append((entity, bodies))
            results = []
            for body in bodies:
                key = body[KEY_FIELD[entity]]
                parent = body.get("parent")
                if (
                    parent
                    and parent.casefold() in self.in_feed
                    and ("product-models", parent.casefold()) not in self.saved
                ):
                    self.violations.append(f"{key} sent before its parent {parent} was saved")
                if "associations" in body:
                    missing = [
                        t
                        for t in body["associations"]["X_SELL"].get("products", [])
                        if t.casefold() in self.in_feed
                        and ("products", t.casefold()) not in self.saved
                    ]
                    if missing and "family" in body:
                        # with the line itself only when every target is already saved
                        self.violations.append(f"{key}: associations sent before {missing}")
                    if missing:
                        results.append(
                            LineResult(422, f'Property "associations": "{missing[0]}" missing')
                        )
                        continue
                if key.casefold() in self.fail and "family" in body:  # its main line
                    results.append(LineResult(422, f"Validation failed. ({key})"))
                    continue
                status = 204 if (entity, key.casefold()) in self.saved else 201
                results.append(LineResult(status, ""))
            # saved only once the whole request is answered: what a concurrent batch sees
            for body, result in zip(bodies, results, strict=True):
                if result.status < 300:
                    self.saved.add((entity, body[KEY_FIELD[entity]].casefold()))
            return results


class FakeMedia:
    def __init__(self, fail: set[str] = frozenset(), pim: FakePim | None = None) -> None:
        self.fail = fail
        self.pim = pim
        self.tasks: list[MediaTask] = []
        self.closed = False

    def apply(self, task: MediaTask) -> LineResult:
        self.tasks.append(task)
        if self.pim is not None and (task.entity, task.key.casefold()) not in self.pim.saved:
            self.pim.violations.append(f"{task.key}: file sent before the product was saved")
        if task.ref.source in self.fail:
            return LineResult(422, "could not fetch it: 404 Not Found")
        return LineResult(201, "")

    def close(self) -> None:
        self.closed = True


def push(
    lines: list[ProductLine],
    pim: FakePim,
    *,
    entity: Entity = "products",
    index: FeedIndex | None = None,
    media: FakeMedia | None = None,
    **options: Any,
) -> dict[int, Outcome]:
    plan = SendPlan(pim, entity=entity, index=index, media=media, **options)
    outcomes: dict[int, Outcome] = {}
    for outcome in plan.run(lines):
        assert outcome.row not in outcomes, f"row {outcome.row} got two outcomes"
        outcomes[outcome.row] = outcome
    assert sorted(outcomes) == sorted(line.row for line in lines)
    assert not pim.violations, pim.violations
    return outcomes


def statuses(outcomes: dict[int, Outcome]) -> dict[int, int | None]:
    return {row: o.status for row, o in sorted(outcomes.items())}


# -- the line cut in two ------------------------------------------------------------


def test_first_and_second_pass_rebuild_the_line() -> None:
    line = mk(2, "A", links=assoc("B", "C"))
    whole = orjson.loads(line.body)
    first = orjson.loads(first_pass(line))
    second = orjson.loads(second_pass(line, "products") or b"")
    assert first == {"identifier": "A", "family": "f"}
    assert second == {"identifier": "A", **assoc("B", "C")}
    assert {**first, **second} == whole
    assert second_pass(mk(3, "B"), "products") is None
    assert first_pass(mk(3, "B")) == mk(3, "B").body


# -- parents ------------------------------------------------------------------------

MODEL_FEEDS = [
    # id, lines, failing keys, expected statuses
    (
        "roots-then-subs-then-variants",
        [
            mk(2, "tshirt", entity="product-models"),
            mk(3, "tshirt-red", entity="product-models", parent="tshirt"),
            mk(4, "tshirt-red-m", parent="tshirt-red"),
            mk(5, "tshirt-red-l", parent="tshirt-red"),
        ],
        set(),
        {2: 201, 3: 201, 4: 201, 5: 201},
    ),
    (
        "children-before-parents",
        [
            mk(2, "tshirt-red-m", parent="tshirt-red"),
            mk(3, "tshirt-red", entity="product-models", parent="tshirt"),
            mk(4, "tshirt", entity="product-models"),
        ],
        set(),
        {2: 201, 3: 201, 4: 201},
    ),
    (
        "failed-parent-stops-its-descendants",
        [
            mk(2, "tshirt", entity="product-models"),
            mk(3, "tshirt-red", entity="product-models", parent="tshirt"),
            mk(4, "tshirt-red-m", parent="tshirt-red"),
            mk(5, "other", entity="product-models"),
            mk(6, "other-m", parent="other"),
        ],
        {"tshirt"},
        {2: 422, 3: 422, 4: 422, 5: 201, 6: 201},
    ),
    (
        "parent-not-in-feed-is-left-to-the-pim",
        [mk(2, "jeans-32", parent="jeans"), mk(3, "jeans-34", parent="JEANS")],
        set(),
        {2: 201, 3: 201},
    ),
    (
        "second-row-of-a-failed-parent-saves-it",
        [
            mk(2, "tshirt", entity="product-models"),
            mk(3, "tshirt", entity="product-models"),
            mk(4, "tshirt-m", parent="tshirt"),
        ],
        set(),
        {2: 201, 3: 204, 4: 201},
    ),
]


@pytest.mark.parametrize(
    ("lines", "fail", "expected"),
    [case[1:] for case in MODEL_FEEDS],
    ids=[case[0] for case in MODEL_FEEDS],
)
@pytest.mark.parametrize("with_index", [False, True], ids=["streaming", "indexed"])
def test_parents_are_saved_before_their_children(
    lines: list[ProductLine], fail: set[str], expected: dict[int, int], with_index: bool
) -> None:
    keys = {line.key for line in lines}
    pim = FakePim(fail=fail, in_feed=keys)
    index = (
        FeedIndex(
            frozenset(k.casefold() for k in keys),
            frozenset(line.key.casefold() for line in lines if line.entity == "product-models"),
        )
        if with_index
        else None
    )
    outcomes = push(lines, pim, index=index, mixed=True, batch_size=1, concurrency=4)
    assert statuses(outcomes) == expected


def test_a_child_of_a_failed_parent_says_which_row_failed() -> None:
    lines = [
        mk(2, "tshirt", entity="product-models"),
        mk(3, "tshirt-red", entity="product-models", parent="tshirt"),
        mk(4, "tshirt-red-m", parent="tshirt-red"),
    ]
    outcomes = push(lines, FakePim(fail={"tshirt"}, in_feed={"tshirt", "tshirt-red"}), mixed=True)
    assert outcomes[2].message == "Validation failed. (tshirt)"
    assert outcomes[3].message == (
        'Not sent: parent "tshirt" was not saved (row 2: 422 Validation failed. (tshirt))'
    )
    assert outcomes[4].message.startswith(
        'Not sent: parent "tshirt-red" was not saved (row 3: 422 Not sent: parent "tshirt"'
    )


def test_a_parent_cycle_fails_every_row_in_it_and_below_it() -> None:
    lines = [
        mk(2, "a", entity="product-models", parent="b"),
        mk(3, "b", entity="product-models", parent="a"),
        mk(4, "c", entity="product-models", parent="a"),
        mk(5, "self", entity="product-models", parent="SELF"),
        mk(6, "fine", entity="product-models"),
    ]
    pim = FakePim(in_feed={line.key for line in lines})
    outcomes = push(lines, pim, entity="product-models")
    cycle = (
        'Not sent: parent cycle: "a" -> "b" -> "a"; a product model cannot be its own '
        "ancestor: fix the parent column of these rows"
    )
    assert {outcomes[2].message, outcomes[3].message} == {
        cycle,
        cycle.replace('"a" -> "b" -> "a"', '"b" -> "a" -> "b"'),
    } or outcomes[2].message == outcomes[3].message
    assert outcomes[2].message.startswith("Not sent: parent cycle: ")
    assert outcomes[3].message.startswith("Not sent: parent cycle: ")
    assert outcomes[4].message.startswith('Not sent: parent "a" was not saved (row 2: ')
    assert outcomes[5].message.startswith('Not sent: parent cycle: "self" -> "self"')
    assert statuses(outcomes) == {2: 422, 3: 422, 4: 422, 5: 422, 6: 201}
    assert [b["code"] for _, bodies in pim.calls for b in bodies] == ["fine"]


def test_with_an_index_a_child_goes_without_waiting_for_the_end_of_the_feed() -> None:
    planner = Planner("products", batch_size=1, index=FeedIndex(frozenset({"m1"}), frozenset()))
    planner.add(mk(2, "m1", parent="model-in-the-pim"))
    batch = planner.next_batch(flush=False)
    assert batch is not None and batch.lines[0].key == "m1"
    streaming = Planner("product-models", batch_size=1)
    streaming.add(mk(2, "sub", entity="product-models", parent="root-maybe-later"))
    assert streaming.next_batch(flush=True) is None  # the root may still come
    streaming.end_of_input()
    assert streaming.next_batch(flush=True) is not None


def test_a_products_only_feed_never_waits_for_parents() -> None:
    planner = Planner("products", batch_size=1)  # no models can be in this feed
    planner.add(mk(2, "m1", parent="jeans"))
    assert planner.next_batch(flush=False) is not None


def test_rows_of_one_product_keep_feed_order() -> None:
    lines = [
        mk(2, "tshirt", entity="product-models"),
        mk(3, "A", parent="tshirt"),
        mk(4, "A"),  # ready at once, but must not overtake row 3
        mk(5, "B"),
    ]
    pim = FakePim(in_feed={"tshirt", "A", "B"})
    push(lines, pim, mixed=True, batch_size=1, concurrency=4)
    sent = [b for _, bodies in pim.calls for b in bodies if b.get("identifier") == "A"]
    assert [b.get("parent") for b in sent] == ["tshirt", None]


def test_mixed_feed_lines_go_to_their_own_endpoint() -> None:
    lines = [
        mk(2, "tshirt", entity="product-models"),
        mk(3, "tshirt-m", parent="tshirt"),
        mk(4, "mug"),
    ]
    pim = FakePim(in_feed={"tshirt"})
    push(lines, pim, mixed=True)
    endpoints = {
        b.get("code") or b.get("identifier"): entity for entity, bs in pim.calls for b in bs
    }
    assert endpoints == {"tshirt": "product-models", "tshirt-m": "products", "mug": "products"}


# -- associations ---------------------------------------------------------------------


def test_associations_go_after_their_targets_and_report_once() -> None:
    lines = [
        mk(2, "A", links=assoc("B")),  # B comes later in the feed
        mk(3, "B", links=assoc("A")),
        mk(4, "C", links=assoc("ghost")),  # not in the feed: the PIM decides
        mk(5, "D", links=assoc("BAD")),  # in the feed, but refused: associations fail
        mk(6, "BAD"),
    ]
    pim = FakePim(fail={"BAD"}, in_feed={"A", "B", "C", "D", "BAD"})
    outcomes = push(lines, pim, batch_size=2, concurrency=3)
    assert statuses(outcomes) == {2: 201, 3: 201, 4: 201, 5: 422, 6: 422}
    assert outcomes[5].message == (
        'Saved (201), except: associations not saved: Property "associations": "BAD" missing'
    )
    second = [b for _, bodies in pim.calls for b in bodies if "associations" in b]
    assert sorted(b["identifier"] for b in second) == ["A", "B", "C", "D"]
    assert all(set(b) == {"identifier", "associations"} for b in second)


def test_associations_to_products_already_saved_go_with_the_line() -> None:
    planner = Planner("products", batch_size=1)
    planner.add(mk(2, "A"))
    first = planner.next_batch(flush=False)
    assert first is not None
    planner.record(first, [LineResult(201, "")])
    planner.add(mk(3, "B", links=assoc("A")))  # A is saved: no second pass needed
    planner.add(mk(4, "C", links=assoc("A", "D")))  # D is not: the associations wait
    planner.end_of_input()
    sent = [planner.next_batch(flush=True), planner.next_batch(flush=True)]
    bodies = [orjson.loads(b.lines[0].body) for b in sent if b is not None]
    assert bodies == [
        {"identifier": "B", "family": "f", **assoc("A")},
        {"identifier": "C", "family": "f"},
    ]


def test_a_row_that_fails_sends_no_associations() -> None:
    pim = FakePim(fail={"A"}, in_feed={"A"})
    outcomes = push([mk(2, "A", links=assoc("B"))], pim)
    assert statuses(outcomes) == {2: 422}
    assert all("associations" not in b for _, bodies in pim.calls for b in bodies)


# -- media ----------------------------------------------------------------------------


def test_files_go_after_the_product_and_failures_name_the_column() -> None:
    pim = FakePim()
    media = FakeMedia(fail={"https://cdn.test/404.jpg"}, pim=pim)
    lines = [
        mk(2, "A", media=(ref(),)),
        mk(3, "B", media=(ref("https://cdn.test/404.jpg"), ref(header="picture~en_US"))),
        mk(4, "C", links=assoc("A"), media=(ref(),)),
    ]
    outcomes = push(lines, pim, media=media)
    assert statuses(outcomes) == {2: 201, 3: 422, 4: 201}
    assert outcomes[3].message == (
        "Saved (201), except: picture not saved (https://cdn.test/404.jpg): could not fetch "
        "it: 404 Not Found"
    )
    assert sorted(t.key for t in media.tasks) == ["A", "B", "B", "C"]
    assert media.closed


def test_without_a_media_stage_files_are_reported_not_fetched() -> None:
    outcomes = push([mk(2, "A", media=(ref(),))], FakePim())
    assert outcomes[2].status == 422
    assert "not fetched in this run" in outcomes[2].message


# -- aborts ---------------------------------------------------------------------------


def test_an_abort_leaves_unfinished_rows_to_the_caller() -> None:
    pim = FakePim(auth_after=1)  # the first request passes, the next is refused
    plan = SendPlan(pim, entity="products", batch_size=10, concurrency=1)
    seen: list[Outcome] = []
    with pytest.raises(AuthenticationError, match="token refused"):
        for outcome in plan.run([mk(2, "A", links=assoc("B")), mk(3, "B"), mk(4, "C")]):
            seen.append(outcome)
    # one request saves A, B and C; the second pass (A's associations) is refused
    assert [(o.row, o.status) for o in seen] == [(3, 201), (4, 201)]
    assert plan.saved_unfinished() == [(2, 201)]


def test_hooks_see_every_batch_and_a_stopped_batch_is_left_to_the_caller() -> None:
    pim = FakePim(in_feed={"tee"})
    handed: list[int] = []
    stop = {"now": False}

    def on_answer(batch: Batch, results: list[LineResult]) -> bool:
        if any(line.key == "tee" for line in batch.lines):
            stop["now"] = True  # e.g. Ctrl-C while the parent was in flight
            return False  # and the guard says it was not sent
        return True

    plan = SendPlan(
        pim,
        entity="products",
        batch_size=1,
        concurrency=1,
        mixed=True,
        on_batch=lambda batch: handed.extend(line.row for line in batch.lines),
        on_answer=on_answer,
        stop_when=lambda: stop["now"],
    )
    lines = [mk(2, "tee", entity="product-models"), mk(3, "tee-m", parent="tee"), mk(4, "mug")]
    answers = [pair for group in plan.answers(lines) for pair in group]
    # the parent's batch does not count: its child is neither failed nor sent
    assert all(outcome.row != 3 for _, outcome in answers)
    assert 2 in handed and 3 not in handed
    assert 3 in plan.never_sent()
    for line, outcome in answers:
        assert line.row == outcome.row  # the line as decoded comes with its outcome


# -- every row, one outcome, whatever the shape of the feed ---------------------------


@st.composite
def forests(draw: st.DrawFn) -> tuple[list[ProductLine], set[str]]:
    n_models = draw(st.integers(0, 8))
    models = [f"m{i}" for i in range(n_models)]
    lines: list[ProductLine] = []
    for code in models:
        parent = draw(st.sampled_from([None, "outside", *models]))
        lines.append(mk(0, code, entity="product-models", parent=parent))
    for i in range(draw(st.integers(0, 10))):
        parent = draw(st.sampled_from([None, "outside", *models]))
        others = [f"p{j}" for j in range(10)]
        links = assoc(*draw(st.lists(st.sampled_from(others), max_size=2)))
        lines.append(
            mk(
                0,
                f"p{i}",
                parent=parent,
                links=links if links["associations"]["X_SELL"]["products"] else None,
            )
        )
    order = draw(st.permutations(range(len(lines))))
    shuffled = [lines[i] for i in order]
    numbered = [
        ProductLine(n + 2, line.key, line.body, line.entity, line.parent, line.links_at)
        for n, line in enumerate(shuffled)
    ]
    fail = set(draw(st.lists(st.sampled_from([*models, "p0", "p1"]), max_size=3)))
    return numbered, fail


@given(forests(), st.integers(1, 3), st.integers(1, 3), st.booleans())
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_every_row_gets_one_outcome_and_no_child_overtakes_its_parent(
    feed: tuple[list[ProductLine], set[str]], batch_size: int, concurrency: int, indexed: bool
) -> None:
    lines, fail = feed
    pim = FakePim(fail=fail, in_feed={line.key for line in lines})
    index = None
    if indexed:
        index = FeedIndex(
            frozenset(ln.key.casefold() for ln in lines if ln.entity == "products"),
            frozenset(ln.key.casefold() for ln in lines if ln.entity == "product-models"),
        )
    outcomes = push(
        lines, pim, mixed=True, index=index, batch_size=batch_size, concurrency=concurrency
    )  # push() asserts one outcome per row and no ordering violation
    for line in lines:
        status = outcomes[line.row].status
        if line.key in fail:
            assert status == 422
        if status is not None and status < 300:
            assert (
                line.parent is None
                or line.parent == "outside"
                or any(
                    other.key == line.parent and outcomes[other.row].status in (201, 204)
                    for other in lines
                )
            )


def test_closing_the_run_early_is_quiet_and_never_sent_rows_are_known() -> None:
    pim = FakePim()
    plan = SendPlan(pim, entity="products", batch_size=1, concurrency=1)
    # A is saved first, its associations wait for the end of the feed
    lines = [mk(2, "A", links=assoc("Z")), mk(3, "B"), mk(4, "C"), mk(5, "D"), mk(6, "E")]
    run = plan.run(lines)
    first = next(run)
    run.close()  # e.g. the caller was interrupted: no RuntimeError, nothing more yielded
    assert first.row == 3
    sent = {b["identifier"] for _, bodies in pim.calls for b in bodies}
    assert "E" not in sent and set(plan.never_sent()) <= {4, 5, 6}


@pytest.mark.parametrize(
    ("header", "options", "expected"),
    [
        (["sku", "name"], {}, False),
        (["sku", "associations~X_SELL~products"], {}, True),
        (["sku", "code", "entity"], {}, True),
        (["code", "parent"], {"entity": "product-models"}, True),
    ],
    ids=["simple", "associations", "mixed", "product-models"],
)
def test_needs_index(header: list[str], options: dict[str, Any], expected: bool) -> None:
    from feed_export.catalog.layout import resolve_headers
    from feed_export.catalog.structure import Catalog
    from feed_export.config import ExportOptions
    from feed_export.push.planner import needs_index

    catalog = Catalog.from_dict(
        {
            "attributes": [
                {"code": "sku", "type": "pim_catalog_identifier"},
                {"code": "name", "type": "pim_catalog_text"},
            ]
        }
    )
    layout = resolve_headers("f.csv", header, catalog, ExportOptions(**options))
    assert needs_index(layout) is expected


def test_a_parent_the_index_lists_but_no_line_brings_is_left_to_the_pim() -> None:
    # a resumed or unchanged (--only-changed) parent row is skipped by the caller
    index = FeedIndex(frozenset({"tee-m"}), frozenset({"tee"}))
    pim = FakePim()
    outcomes = push([mk(3, "tee-m", parent="tee")], pim, index=index, mixed=True)
    assert statuses(outcomes) == {3: 201}


def test_many_children_waiting_for_a_parent_in_flight_stream_in_waves() -> None:
    # more children than the read-ahead limit (1,000 lines) wait for one parent
    lines = [mk(2, "tee", entity="product-models")]
    lines += [mk(n, f"tee-{n}", parent="tee") for n in range(3, 1600)]
    pim = FakePim(in_feed={"tee"})
    outcomes = push(lines, pim, mixed=True, batch_size=1, concurrency=2)
    assert len(outcomes) == 1598 and all(o.status == 201 for o in outcomes.values())
