"""push/lineage.py: the product models a feed defines, and parents judged like the planner does."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from conftest import DEMO_CATALOG, run_cli

from feed_export.catalog.layout import resolve_headers
from feed_export.catalog.structure import Catalog
from feed_export.config import ExportOptions
from feed_export.feed.reader import Row
from feed_export.push.decode import RowDecoder
from feed_export.push.lineage import FeedModelsBuilder

HEADER = ["entity", "code", "sku", "family_variant", "parent", "color", "size"]
GOOD_ROOT = ["product_model", "tee", "", "clothing_color_size", "", "", ""]
BAD_ROOT = ["product_model", "tee", "", "clothing_colour", "", "", ""]
SUB = ["product_model", "tee-red", "", "", "tee", "red", ""]
CHILD = ["product", "", "tee-red-m", "", "tee-red", "", "m"]
BAD_ROOT_PROBLEM = (
    'family_variant: unknown family variant "clothing_colour"; did you mean "clothing_color_size"?'
)
BAD_ROOT_MESSAGE = f"422 Not sent: {BAD_ROOT_PROBLEM}"


def _check(tmp_path: Path, rows: list[list[str]], catalog: Path = DEMO_CATALOG) -> list[str]:
    feed = tmp_path / "feed.csv"
    with feed.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([HEADER, *rows])
    result = run_cli(["check", str(feed), "--catalog", str(catalog), "-q"])
    assert result.code in (0, 1), result.err
    with (tmp_path / "feed.feedback.csv").open(encoding="utf-8", newline="") as fh:
        return [row[-1] for row in list(csv.reader(fh))[1:]]


@pytest.mark.parametrize(
    ("rows", "messages"),
    [
        (
            [CHILD, SUB, GOOD_ROOT],  # children first: they wait for their parents
            [
                "Valid (dry run)",
                "Valid (dry run)",
                "Valid (dry run)",
            ],
        ),
        (
            [BAD_ROOT, SUB, CHILD],
            [
                f"Not sent: {BAD_ROOT_PROBLEM}",
                f'Not sent: parent "tee" would not be saved (row 2: {BAD_ROOT_MESSAGE})',
                'Not sent: parent "tee-red" would not be saved (row 3: Not sent: parent "tee" '
                f"would not be saved (row 2: {BAD_ROOT_MESSAGE}))",
            ],
        ),
        (
            [CHILD, BAD_ROOT, SUB, GOOD_ROOT],  # one of the parent's rows is enough
            [
                "Valid (dry run)",
                f"Not sent: {BAD_ROOT_PROBLEM}",
                "Valid (dry run)",
                "Valid (dry run)",
            ],
        ),
    ],
    ids=["parents-later-in-the-feed", "refused-parent-refuses-its-line", "one-good-row-enough"],
)
def test_a_dry_run_judges_parents_defined_by_the_feed(
    tmp_path: Path, rows: list[list[str]], messages: list[str]
) -> None:
    assert _check(tmp_path, rows) == messages


def test_a_parent_the_pim_holds_lets_its_children_through(tmp_path: Path) -> None:
    """The push sends them (the planner leaves a model not saved in this run to the PIM)."""
    data = json.loads(DEMO_CATALOG.read_text(encoding="utf-8"))
    data["product_models"] = [
        {"code": "tee", "family_variant": "clothing_color_size", "parent": None},
        {"code": "tee-red", "family_variant": "clothing_color_size", "parent": "tee"},
    ]
    catalog = tmp_path / "catalog.json"
    catalog.write_text(json.dumps(data), encoding="utf-8")
    refused_sub = ["product_model", "tee-red", "", "", "tee", "", ""]  # its axis is empty
    messages = _check(tmp_path, [refused_sub, CHILD], catalog)
    assert messages[0].startswith("Not sent: color: is empty")
    assert messages[1] == "Valid (dry run)"
    # the same through push --sandbox --catalog FILE: the sandbox holds those models
    pushed = run_cli(["push", str(tmp_path / "feed.csv"), "--sandbox", "--catalog", str(catalog),
                      "-q", "--feedback", str(tmp_path / "pushed.csv")])  # fmt: skip
    assert pushed.code == 1, pushed.err
    with (tmp_path / "pushed.csv").open(encoding="utf-8", newline="") as fh:
        statuses = [row[-2] for row in list(csv.reader(fh))[1:]]
    assert statuses == ["422", "201"]


def test_feed_models_are_read_from_the_raw_cells() -> None:
    options = ExportOptions()
    layout = resolve_headers("f.csv", HEADER, Catalog.from_file(DEMO_CATALOG), options)
    builder = FeedModelsBuilder(RowDecoder(layout, options))
    rows = [CHILD, ["product_model", "Tee", "", "", "", "", ""], GOOD_ROOT, SUB, SUB]
    for number, cells in enumerate(rows, start=2):
        builder.add(Row(number, tuple(cells)))
    models = builder.build()
    assert [(p.code, p.family_variant, p.parent) for p in models.places] == [
        ("Tee", "clothing_color_size", None),  # a later row fills what the first left out
        ("tee-red", None, "tee"),
    ]
    assert models.rows == {"tee": 2, "tee-red": 2}
    assert models.parents == ("tee-red", "tee")
    catalog = Catalog.from_dict({"attributes": [], "product_models": [{"code": "TEE-RED"}]})
    assert models.unknown_parents(catalog) == []
    orphan = FeedModelsBuilder(RowDecoder(layout, options))
    orphan.add(Row(2, tuple(CHILD)))
    assert orphan.build().unknown_parents(catalog) == []
    assert orphan.build().unknown_parents(Catalog.from_dict({"attributes": []})) == ["tee-red"]
