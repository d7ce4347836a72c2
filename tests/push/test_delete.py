"""``run_delete``: a feed's rows deleted from the PIM, guarded, confirmed and reported."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import settings_of

from feed_export.config import ExportOptions
from feed_export.errors import ConfigError, FeedError
from feed_export.feed.reader import open_feed
from feed_export.push.delete import DeletePlan, default_deletions_path, run_delete
from feed_export.push.run import RunTargets, run_push
from feed_export.sandbox import Sandbox


@pytest.fixture
def pim(sandbox: Sandbox, tmp_path: Path) -> Sandbox:
    feed = tmp_path / "setup.csv"
    feed.write_text("sku,family\nA-1,clothing\nA-2,clothing\nA-3,accessories\n")
    report = run_push(feed, ExportOptions(), settings=settings_of(sandbox),
                      targets=RunTargets(feedback=tmp_path / "setup.fb.csv"))  # fmt: skip
    assert report.exit_code == 0
    models = tmp_path / "models.csv"
    models.write_text("code,family_variant\nM-1,clothing_size\n")
    report = run_push(models, ExportOptions(entity="product-models"), settings=settings_of(sandbox),
                      targets=RunTargets(feedback=tmp_path / "models.fb.csv"))  # fmt: skip
    assert report.exit_code == 0, report.to_text()
    variant = tmp_path / "variant.csv"
    variant.write_text("sku,parent,size\nM-1-S,M-1,s\n")
    report = run_push(variant, ExportOptions(), settings=settings_of(sandbox),
                      targets=RunTargets(feedback=tmp_path / "variant.fb.csv"))  # fmt: skip
    assert report.exit_code == 0, report.to_text()
    return sandbox


def feedback_rows(path: Path) -> list[tuple[str, ...]]:
    with open_feed(path) as feed:
        return [row.cells for row in feed.rows()]


def test_the_rows_keys_are_deleted_and_each_row_says_so(pim: Sandbox, tmp_path: Path) -> None:
    feed = tmp_path / "gone.csv"
    feed.write_text("sku,name~en_US\nA-1,x\nnope,y\n,\nA-1,again\n ,no key\n")
    report = run_delete(feed, settings=settings_of(pim))
    assert feedback_rows(default_deletions_path(feed)) == [
        ("A-1", "x", "204", "Deleted"),
        ("nope", "y", "404", "Not in the PIM: nothing to delete "
                             "(The nope product does not exist in your PIM.)"),
        ("", "", "", "Skipped: empty row"),
        ("A-1", "again", "204", "Deleted (as row 2: the same key)"),
        (" ", "no key", "422", "Not sent: no identifier: nothing to delete"),
    ]  # fmt: skip
    assert pim.state.product("A-1") is None and pim.state.product("A-2") is not None
    assert report.counts()["deleted"] == 2 and report.counts()["absent"] == 1
    assert report.exit_code == 1  # the row without a key
    assert report.to_text().startswith("Deletion of the rows of gone.csv from the PIM at ")


def test_a_dry_run_lists_what_would_go_and_deletes_nothing(pim: Sandbox, tmp_path: Path) -> None:
    feed = tmp_path / "gone.csv"
    feed.write_text("identifier\nA-1\nA-3\nnope\n")
    report = run_delete(feed, dry_run=True, settings=settings_of(pim))
    assert [r[1:] for r in feedback_rows(default_deletions_path(feed))] == [
        ("", "Would be deleted (dry run)"),
        ("", "Would be deleted (dry run)"),
        ("", "Not in the PIM: nothing to delete"),
    ]
    assert pim.state.product("A-1") is not None and report.exit_code == 0
    assert report.to_text().startswith("Dry run of the deletion of gone.csv against the PIM")


def test_nothing_goes_without_the_confirmation(pim: Sandbox, tmp_path: Path) -> None:
    feed = tmp_path / "gone.csv"
    feed.write_text("sku\nA-1\nA-2\nA-2\n")
    asked: list[DeletePlan] = []

    def refuse(plan: DeletePlan) -> bool:
        asked.append(plan)
        return False

    with pytest.raises(ConfigError, match="not confirmed: nothing deleted"):
        run_delete(feed, settings=settings_of(pim), confirm=refuse)
    assert asked[0].products == 2 and asked[0].words() == "2 products"
    assert pim.state.product("A-1") is not None
    assert not default_deletions_path(feed).exists()


def test_more_keys_than_the_guard_deletes_nothing(pim: Sandbox, tmp_path: Path) -> None:
    feed = tmp_path / "gone.csv"
    feed.write_text("sku\nA-1\nA-2\nA-3\n")
    with pytest.raises(ConfigError, match="more than --max-deletions 2: nothing deleted; "
                                          "pass --max-deletions 3"):  # fmt: skip
        run_delete(feed, settings=settings_of(pim), max_deletions=2)
    assert pim.state.count_products() == 4


def test_a_product_model_goes_with_its_children(pim: Sandbox, tmp_path: Path) -> None:
    feed = tmp_path / "models.csv"
    feed.write_text("entity,identifier,code\nproduct_model,,M-1\nproduct,M-1-S,\nproduct,A-3,\n")
    report = run_delete(feed, settings=settings_of(pim))
    assert [r[3:] for r in feedback_rows(default_deletions_path(feed))] == [
        ("204", "Deleted"),
        ("204", "Deleted"),  # products before product models: no race with the cascade
        ("204", "Deleted"),
    ]
    assert pim.state.product_model("M-1") is None and report.exit_code == 0


@pytest.mark.parametrize(
    ("header", "entity", "message"),
    [
        ("name~en_US", "products", "no identifier (or the identifier attribute's) column"),
        ("identifier", "product-models", "no code column"),
        ("sku", "products-uuid", "no uuid column"),
    ],
    ids=["products", "product-models", "products-uuid"],
)
def test_a_feed_without_a_key_column_is_refused(
    pim: Sandbox, tmp_path: Path, header: str, entity: str, message: str
) -> None:
    feed = tmp_path / "keys.csv"
    feed.write_text(f"{header}\nA-1\n")
    with pytest.raises(FeedError, match=re.escape(message)):
        run_delete(feed, entity=entity, settings=settings_of(pim))  # type: ignore[arg-type]
    assert pim.state.product("A-1") is not None


def test_the_default_feedback_is_beside_the_feed() -> None:
    assert default_deletions_path(Path("x/old.csv.gz")).as_posix() == "x/old.deletions.csv.gz"
