"""The planner's assets job: a row's files become assets before its line goes, the line
goes with the assets that exist, every failure is named on its row (fake PIM and stage)."""

from __future__ import annotations

import threading
from dataclasses import replace
from typing import Any

import orjson
from test_planner import FakeMedia, FakePim, mk, push, ref, statuses

from feed_export.push.assets import AssetDone, AssetTask
from feed_export.push.decode import AssetRef, MediaRef, ProductLine

CDN = "https://cdn.test"


def item(name: str, code: str | None = None, header: str = "packshots") -> AssetRef:
    file = MediaRef("media", None, None, f"{CDN}/{name}", "url", header, frozenset(), None, True)
    return AssetRef(
        "asset", "packshots", code or name.split(".")[0], False, file, "packshots", None, None
    )


def with_assets(line: ProductLine, *refs: AssetRef) -> ProductLine:
    body = orjson.loads(line.body)
    body["values"] = {
        "packshots": [{"locale": None, "scope": None, "data": [r.code for r in refs]}]
    }
    return replace(line, body=orjson.dumps(body), assets=refs)


class FakeAssets:
    """Makes assets; fails the files in ``fail``; renames as ``rename`` says."""

    def __init__(
        self,
        pim: FakePim,
        fail: dict[str, tuple[int, str]] | None = None,
        rename: dict[str, str] | None = None,
        crash: bool = False,
    ) -> None:
        self.pim = pim
        self.fail = fail or {}
        self.rename = rename or {}
        self.crash = crash
        self.tasks: list[AssetTask] = []
        self.made: set[str] = set()
        self.closed = False
        self.lock = threading.Lock()

    def apply(self, task: AssetTask) -> tuple[AssetDone, ...]:
        if self.crash:
            raise RuntimeError("boom")
        with self.lock:
            self.tasks.append(task)
            if ("products", task.key.casefold()) in self.pim.saved:
                self.pim.violations.append(f"{task.key}: assets made after the product")
        done = []
        for r in task.refs:
            name = r.file.source.rsplit("/", 1)[-1]
            if name in self.fail:
                status, why = self.fail[name]
                done.append(AssetDone(status, f"{r.file.header}: {r.file.source}: {why}"))
                continue
            code = self.rename.get(r.code, r.code)
            with self.lock:
                self.made.add(code)
            done.append(AssetDone(201, code=code))
        return tuple(done)

    def close(self) -> None:
        self.closed = True


class AssetPim(FakePim):
    """Also checks that a product names only assets made before it."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.assets: FakeAssets | None = None
        self.bodies: dict[str, dict[str, Any]] = {}

    def patch_collection(self, entity: Any, lines: Any, **kwargs: Any) -> Any:
        for line in lines:
            body = orjson.loads(line)
            key = body.get("identifier") or body["code"]
            self.bodies[key] = body
            for entry in body.get("values", {}).get("packshots", []):
                for code in entry["data"]:
                    if self.assets is not None and code not in self.assets.made:
                        self.violations.append(f"{key}: {code} not made first")
        return super().patch_collection(entity, lines, **kwargs)


def setup(**options: Any) -> tuple[AssetPim, FakeAssets]:
    pim = AssetPim(fail=options.pop("fail_products", set()))
    assets = FakeAssets(pim, **options)
    pim.assets = assets
    return pim, assets


def test_assets_are_made_before_their_product_which_names_them() -> None:
    pim, assets = setup()
    lines = [
        with_assets(mk(2, "A"), item("front.jpg"), item("back.jpg")),
        mk(3, "B"),
        with_assets(mk(4, "C"), item("front.jpg")),
    ]
    outcomes = push(lines, pim, assets=assets, batch_size=2)
    assert statuses(outcomes) == {2: 201, 3: 201, 4: 201}
    assert all(o.message == "" for o in outcomes.values())
    assert pim.bodies["A"]["values"]["packshots"][0]["data"] == ["front", "back"]
    assert sorted(t.key for t in assets.tasks) == ["A", "C"]  # one task per row
    assert assets.closed


def test_a_file_that_failed_is_named_and_the_product_saved_with_the_others() -> None:
    pim, assets = setup(fail={"missing.png": (422, "404 Not Found")})
    lines = [with_assets(mk(2, "A"), item("front.jpg"), item("missing.png"))]
    outcomes = push(lines, pim, assets=assets)
    assert outcomes[2].status == 422
    assert outcomes[2].message == (
        f"Saved (201), except: packshots: {CDN}/missing.png: 404 Not Found"
    )
    assert pim.bodies["A"]["values"]["packshots"][0]["data"] == ["front"]


def test_when_every_file_failed_the_product_keeps_its_assets() -> None:
    pim, assets = setup(fail={"a.jpg": (0, "could not connect to the server")})
    outcomes = push([with_assets(mk(2, "A"), item("a.jpg"))], pim, assets=assets)
    assert outcomes[2].status == 0
    assert outcomes[2].message.startswith("Saved (201), except: packshots: ")
    assert "values" not in pim.bodies["A"]  # no empty list: the PIM's assets stay


def test_a_renamed_asset_is_named_so_in_the_line() -> None:
    pim, assets = setup(rename={"front": "front_0a1b2c3d"})
    push([with_assets(mk(2, "A"), item("front.jpg"))], pim, assets=assets)
    assert pim.bodies["A"]["values"]["packshots"][0]["data"] == ["front_0a1b2c3d"]


def test_a_refused_product_names_its_failed_files_too() -> None:
    pim, assets = setup(fail={"x.jpg": (422, "404 Not Found")}, fail_products={"A"})
    outcomes = push([with_assets(mk(2, "A"), item("x.jpg"))], pim, assets=assets)
    assert outcomes[2].status == 422
    assert outcomes[2].message == f"Validation failed. (A); packshots: {CDN}/x.jpg: 404 Not Found"


def test_a_row_whose_parent_failed_is_not_sent_even_with_its_assets_made() -> None:
    pim, assets = setup(fail_products={"M"})
    lines = [
        mk(2, "M", entity="product-models"),
        with_assets(mk(3, "A", parent="M"), item("front.jpg")),
    ]
    pim.in_feed = {"m"}
    outcomes = push(lines, pim, assets=assets, mixed=True, batch_size=1, concurrency=1)
    assert statuses(outcomes) == {2: 422, 3: 422}
    assert outcomes[3].message.startswith('Not sent: parent "M" was not saved (row 2')
    assert "A" not in pim.bodies
    # its assets do not wait for the parent: made (harmless, linked by a later push)
    assert [t.key for t in assets.tasks] == ["A"]


def test_files_after_the_product_still_follow_its_assets() -> None:
    pim, assets = setup()
    media = FakeMedia(pim=pim)
    line = replace(with_assets(mk(2, "A"), item("front.jpg")), media=(ref(),))
    outcomes = push([line], pim, assets=assets, media=media)
    assert outcomes[2].status == 201
    assert [t.key for t in assets.tasks] == ["A"] and [t.key for t in media.tasks] == ["A"]


def test_without_an_asset_stage_files_are_named_not_made() -> None:
    pim = AssetPim()
    outcomes = push([with_assets(mk(2, "A"), item("front.jpg"))], pim)
    assert outcomes[2].status == 0
    assert outcomes[2].message == (
        f"Saved (201), except: packshots: {CDN}/front.jpg: files are not made into assets in "
        "this run (no asset stage)"
    )


def test_a_crashing_stage_costs_that_rows_files_only() -> None:
    pim, assets = setup(crash=True)
    outcomes = push([with_assets(mk(2, "A"), item("front.jpg")), mk(3, "B")], pim, assets=assets)
    assert statuses(outcomes) == {2: 0, 3: 201}
    assert outcomes[2].message.endswith("front.jpg: internal error: RuntimeError: boom")
