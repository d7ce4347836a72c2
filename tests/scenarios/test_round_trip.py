"""Round trip: a pulled feed pushed back changes nothing, and ``check`` calls every row valid.

A property over generated catalogs and products, per attribute type, through the
sandbox: each example builds a catalog (attributes of one type with random locale and
channel flags and limits, a family, a family variant with an axis), puts generated
products, product models and variant products into a sandbox through the API (so the
PIM's state does not depend on our decoder), pulls everything (``--entity all``, CSV),
pushes the pulled feed back and compares what the PIM shows before and after, then
checks the feed against the live catalog: every row valid, no value the PIM would drop.
"""

from __future__ import annotations

import difflib
import json
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feed_export.akeneo.client import AkeneoClient
from feed_export.config import ExportOptions, PullOptions, Settings
from feed_export.pull.run import run_pull
from feed_export.push.run import RunTargets, run_push
from feed_export.sandbox import Sandbox, start_sandbox

ROOT = Path(__file__).resolve().parents[2]
DEMO = json.loads((ROOT / "feed_export" / "data" / "demo_catalog.json").read_text())
CHANNELS = {c["code"]: c["locales"] for c in DEMO["channels"]}
LOCALES = sorted({loc for locales in CHANNELS.values() for loc in locales})
CURRENCIES = ["EUR", "USD", "GBP"]
WEIGHT_UNITS = ["MILLIGRAM", "GRAM", "KILOGRAM", "OUNCE"]
OPTIONS = ["red", "blue", "green", "x_1", "Mixed_Case"]
AXIS_OPTIONS = ["s", "m", "l", "xl"]

TYPES = [
    "pim_catalog_text",
    "pim_catalog_textarea",
    "pim_catalog_number",
    "pim_catalog_boolean",
    "pim_catalog_date",
    "pim_catalog_simpleselect",
    "pim_catalog_multiselect",
    "pim_catalog_price_collection",
    "pim_catalog_metric",
]
BASE_ATTRIBUTE: dict[str, Any] = {
    key: None
    for key in (
        "metric_family",
        "default_metric_unit",
        "reference_data_name",
        "max_characters",
        "number_min",
        "number_max",
        "decimals_allowed",
        "negative_allowed",
        "date_min",
        "date_max",
        "table_configuration",
    )
}

# text the PIM holds as it is: no surrogates, no NUL, not blank (a blank value is no value)
TEXT = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=25
).filter(lambda s: s.strip() != "")


def attribute_item(
    code: str, kind: str, localizable: bool, scopable: bool, decimals: bool
) -> dict[str, Any]:
    item = {
        **BASE_ATTRIBUTE,
        "code": code,
        "type": kind,
        "localizable": localizable,
        "scopable": scopable,
        "available_locales": [],
        "unique": False,
        "group": "other",
        "labels": {"en_US": code},
    }
    if kind in ("pim_catalog_number", "pim_catalog_metric", "pim_catalog_price_collection"):
        item["decimals_allowed"] = decimals
        item["negative_allowed"] = True
    if kind == "pim_catalog_metric":
        item.update(metric_family="Weight", default_metric_unit="GRAM")
    return item


def slots(attribute: dict[str, Any]) -> list[tuple[str | None, str | None]]:
    if attribute["localizable"] and attribute["scopable"]:
        return [(loc, ch) for ch, locales in CHANNELS.items() for loc in locales]
    if attribute["localizable"]:
        return [(loc, None) for loc in LOCALES]
    if attribute["scopable"]:
        return [(None, ch) for ch in CHANNELS]
    return [(None, None)]


def amount(draw: st.DrawFn, decimals: bool) -> int | str:
    if not decimals:
        return draw(st.integers(-(10**9), 10**9))
    value = draw(st.decimals(-(10**6), 10**6, places=draw(st.integers(0, 4)), allow_nan=False))
    return str(value)


def data_for(draw: st.DrawFn, attribute: dict[str, Any]) -> Any:
    kind, decimals = attribute["type"], bool(attribute.get("decimals_allowed"))
    if kind in ("pim_catalog_text", "pim_catalog_textarea"):
        return draw(TEXT)
    if kind == "pim_catalog_number":
        return amount(draw, decimals)
    if kind == "pim_catalog_boolean":
        return draw(st.booleans())
    if kind == "pim_catalog_date":
        return draw(st.dates()).isoformat()
    if kind == "pim_catalog_simpleselect":
        return draw(st.sampled_from(OPTIONS))
    if kind == "pim_catalog_multiselect":
        return draw(st.lists(st.sampled_from(OPTIONS), min_size=1, max_size=3, unique=True))
    if kind == "pim_catalog_price_collection":
        currencies = draw(
            st.lists(st.sampled_from(CURRENCIES), min_size=1, max_size=3, unique=True)
        )
        return [{"amount": amount(draw, decimals), "currency": c} for c in currencies]
    assert kind == "pim_catalog_metric"
    return {"amount": amount(draw, decimals), "unit": draw(st.sampled_from(WEIGHT_UNITS))}


def values_for(
    draw: st.DrawFn, attributes: list[dict[str, Any]]
) -> dict[str, list[dict[str, Any]]]:
    values: dict[str, list[dict[str, Any]]] = {}
    for attribute in attributes:
        chosen = draw(st.lists(st.sampled_from(slots(attribute)), unique=True, max_size=3))
        if chosen:
            values[attribute["code"]] = [
                {"locale": loc, "scope": ch, "data": data_for(draw, attribute)}
                for loc, ch in chosen
            ]
    return values


@st.composite
def worlds(draw: st.DrawFn, kind: str) -> tuple[dict[str, Any], list[bytes], list[bytes]]:
    """(a catalog, product model lines, product lines) with attributes of type ``kind``."""
    count = draw(st.integers(1, 3))
    attributes = [
        attribute_item(f"a{i}", kind, draw(st.booleans()), draw(st.booleans()), draw(st.booleans()))
        for i in range(count)
    ]
    axis = attribute_item("axis", "pim_catalog_simpleselect", False, False, False)
    sku = {
        **BASE_ATTRIBUTE,
        "code": "sku",
        "type": "pim_catalog_identifier",
        "localizable": False,
        "scopable": False,
        "available_locales": [],
        "unique": True,
        "group": "other",
        "is_main_identifier": True,
    }
    variant_level = [a["code"] for a in attributes if draw(st.booleans())]
    catalog = {
        **{
            k: DEMO[k]
            for k in (
                "channels",
                "locales",
                "currencies",
                "measurement_families",
                "association_types",
                "categories",
            )
        },
        "attributes": [sku, axis, *attributes],
        "attribute_options": {
            **{
                a["code"]: [{"code": o, "attribute": a["code"]} for o in OPTIONS]
                for a in attributes
                if a["type"].endswith("select")
            },
            "axis": [{"code": o, "attribute": "axis"} for o in AXIS_OPTIONS],
        },
        "families": [
            {
                "code": "fam",
                "attributes": ["sku", "axis", *(a["code"] for a in attributes)],
                "attribute_as_label": None,
                "attribute_requirements": {},
            }
        ],
        "family_variants": [
            {
                "code": "fam_v",
                "family": "fam",
                "variant_attribute_sets": [
                    {"level": 1, "axes": ["axis"], "attributes": ["axis", "sku", *variant_level]}
                ],
            }
        ],
        "product_models": [],
    }
    common = [a for a in attributes if a["code"] not in variant_level]
    level = [a for a in attributes if a["code"] in variant_level]
    models: list[bytes] = []
    products: list[bytes] = []
    for i in range(draw(st.integers(0, 3))):
        categories = draw(
            st.lists(st.sampled_from(["men", "women", "bags"]), unique=True, max_size=2)
        )
        body = {
            "identifier": f"P-{i}",
            "family": "fam",
            "categories": categories,
            "enabled": draw(st.booleans()),
            "values": values_for(draw, attributes),
        }
        products.append(orjson.dumps(body))
    for m in range(draw(st.integers(0, 2))):
        models.append(
            orjson.dumps(
                {"code": f"M-{m}", "family_variant": "fam_v", "values": values_for(draw, common)}
            )
        )
        axes = draw(st.lists(st.sampled_from(AXIS_OPTIONS), min_size=1, max_size=2, unique=True))
        for v, option in enumerate(axes):
            values = values_for(draw, level)
            values["axis"] = [{"locale": None, "scope": None, "data": option}]
            products.append(
                orjson.dumps({"identifier": f"M-{m}-{v}", "parent": f"M-{m}", "values": values})
            )
    return catalog, models, products


def settings_of(sandbox: Sandbox) -> Settings:
    return Settings(
        base_url=sandbox.url,
        client_id=sandbox.client_id,
        client_secret=sandbox.client_secret,  # type: ignore[arg-type]
        username=sandbox.username,
        password=sandbox.password,
    )  # type: ignore[arg-type]


def pim_state(sandbox: Sandbox) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """What the PIM shows of every product and product model (value entries in one order:
    the order of a value's locales and channels is not part of what the PIM holds)."""

    def ordered(item: dict[str, Any]) -> dict[str, Any]:
        values = {
            code: sorted(entries, key=lambda e: (e["locale"] or "", e["scope"] or ""))
            for code, entries in item.get("values", {}).items()
        }
        return {**item, "values": values}

    return (
        [ordered(p) for p in sandbox.state.products()],
        [ordered(m) for m in sandbox.state.product_models()],
    )


def assert_unchanged(before: Any, after: Any, sent: str) -> None:
    """Nothing changed in the PIM; else the differences, as a diff."""
    if before != after:
        a = json.dumps(before, indent=1, sort_keys=True).splitlines()
        b = json.dumps(after, indent=1, sort_keys=True).splitlines()
        diff = "\n".join(difflib.unified_diff(a, b, "before", "after", lineterm="", n=6))
        raise AssertionError(f"the push of the pulled feed changed the PIM:\n{diff}\nsent:\n{sent}")


def assert_round_trip(
    tmp: Path, world: tuple[dict[str, Any], list[bytes], list[bytes]], name: str
) -> None:
    catalog, models, products = world
    with start_sandbox(catalog=catalog) as sandbox:
        settings = settings_of(sandbox)
        with AkeneoClient(settings) as client:
            for entity, lines in (("product-models", models), ("products", products)):
                if lines:
                    answers = client.patch_collection(entity, lines)
                    assert all(a.status in (201, 204) for a in answers), answers
        before = pim_state(sandbox)
        feed = tmp / name
        pulled = run_pull(PullOptions(entity="all"), feed, settings=settings)
        assert pulled.exit_code == 0 and not pulled.left_out, pulled.to_text()
        assert pulled.rows == len(models) + len(products)

        sent = tmp / f"sent-{name}.ndjson"
        pushed = run_push(
            feed,
            ExportOptions(),
            settings=settings,
            targets=RunTargets(feedback=tmp / f"fb-{name}", payload_out=sent),
        )
        assert pushed.exit_code == 0, (pushed.to_text(), (tmp / f"fb-{name}").read_text())
        assert_unchanged(before, pim_state(sandbox), sent.read_text())

        checked = run_push(
            feed,
            ExportOptions(dry_run=True),
            settings=settings,
            targets=RunTargets(feedback=tmp / f"check-{name}"),
        )
        assert checked.exit_code == 0 and checked.values_not_kept == 0, checked.to_text()
        assert checked.counts()["valid"] == pulled.rows


@pytest.mark.parametrize("kind", TYPES, ids=[t.removeprefix("pim_catalog_") for t in TYPES])
@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_a_pulled_feed_pushed_back_changes_nothing(
    tmp_path: Path, kind: str, data: st.DataObject
) -> None:
    world = data.draw(worlds(kind))
    assert_round_trip(tmp_path, world, "pulled.csv")
