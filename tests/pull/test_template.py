"""``template``: a family's header, required first; as XLSX, drop-downs and notes; it pushes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import settings_of
from openpyxl import load_workbook

from feed_export.catalog.structure import Catalog
from feed_export.config import ExportOptions, PullOptions
from feed_export.errors import ConfigError
from feed_export.pull.template import pull_template, template_columns
from feed_export.push.run import RunTargets, run_push
from feed_export.sandbox import Sandbox

ROOT = Path(__file__).resolve().parents[2]
DEMO = json.loads((ROOT / "feed_export" / "data" / "demo_catalog.json").read_text())
CATALOG = Catalog.from_dict(DEMO)


def test_required_attributes_come_first_and_are_marked() -> None:
    _, columns = template_columns(CATALOG, "clothing", PullOptions())
    headers = [c.header for c in columns]
    assert headers[:5] == ["identifier", "family", "parent", "categories", "enabled"]
    # clothing requires description, name and price on ecommerce; name on print too
    required = [c.header for c in columns if c.required_in]
    assert headers[5 : 5 + len(required)] == required
    assert required == [
        "description~de_DE~ecommerce", "description~en_US~ecommerce",
        "description~fr_FR~ecommerce", "name~de_DE", "name~en_US", "name~fr_FR", "price@currency",
    ]  # fmt: skip
    name = next(c for c in columns if c.header == "name~en_US")
    assert name.required_in == ("ecommerce", "print")
    assert name.note == "Name (pim_catalog_text)\nrequired for ecommerce, print"
    # description is not required on print: its print columns are not marked
    assert not next(c for c in columns if c.header == "description~en_US~print").required_in


def test_a_channel_filter_narrows_the_requirements_too() -> None:
    _, columns = template_columns(CATALOG, "clothing", PullOptions(channels=("print",)))
    assert [c.header for c in columns if c.required_in] == [
        "name~de_DE",
        "name~en_US",
        "name~fr_FR",
    ]


def test_a_family_without_variants_has_no_parent_column() -> None:
    _, columns = template_columns(CATALOG, "electronics", PullOptions())
    assert "parent" not in [c.header for c in columns]


def test_an_unknown_family_is_refused() -> None:
    with pytest.raises(ConfigError, match='unknown family "clothng"'):
        template_columns(CATALOG, "clothng", PullOptions())


def test_the_workbook_has_drop_downs_and_notes(sandbox: Sandbox, tmp_path: Path) -> None:
    target = tmp_path / "clothing.xlsx"
    columns = pull_template(target, "clothing", settings=settings_of(sandbox))
    book = load_workbook(target)
    sheet = book["template"]
    header = [cell.value for cell in sheet[1]]
    assert header == [c.header for c in columns]
    assert book["options"].sheet_state == "hidden"
    letter = {h: sheet.cell(row=1, column=i + 1).column_letter for i, h in enumerate(header)}
    rules = {str(v.sqref).split(":")[0]: v.formula1 for v in sheet.data_validations.dataValidation}
    assert rules[f"{letter['enabled']}2"] == '"true,false"'
    assert rules[f"{letter['family']}2"] == '"clothing"'
    assert rules[f"{letter['is_new']}2"] == '"true,false"'
    color = rules[f"{letter['color']}2"]
    assert color.startswith("options!$") and color.endswith("$7")  # 6 colours
    options = [row[0] for row in book["options"].iter_rows(values_only=True)]
    assert options[0] == "brand" or "color" in options  # the lists, each headed by its attribute
    assert sheet[f"{letter['name~en_US']}1"].comment.text.startswith("Name (pim_catalog_text)")
    assert sheet[f"{letter['name~en_US']}1"].fill.start_color.rgb == "FFFFE8A3"
    assert sheet.freeze_panes == "A2"


def test_a_template_filled_in_a_spreadsheet_pushes_cleanly(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    target = tmp_path / "clothing.xlsx"
    pull_template(target, "electronics", settings=settings_of(sandbox))
    book = load_workbook(target)
    sheet = book["template"]
    header = [cell.value for cell in sheet[1]]
    filled = {
        "identifier": "NEW-1",
        "family": "electronics",
        "categories": "electronics",
        "enabled": "true",
        "name~en_US": "Cable",
        "price@currency": "9.90 EUR",
        "brand": "voltix",
        "is_new": "true",
    }
    for name, cell in filled.items():
        sheet.cell(row=2, column=header.index(name) + 1, value=cell)
    book.save(target)
    report = run_push(target, ExportOptions(), settings=settings_of(sandbox),
                      targets=RunTargets(feedback=tmp_path / "fb.xlsx"))  # fmt: skip
    assert report.exit_code == 0 and report.counts()["created"] == 1, report.to_text()
    product = sandbox.state.product("NEW-1")
    assert product is not None and product["values"]["brand"][0]["data"] == "voltix"


def test_a_csv_template_is_the_header_alone(sandbox: Sandbox, tmp_path: Path) -> None:
    target = tmp_path / "clothing.csv"
    columns = pull_template(target, "clothing", settings=settings_of(sandbox))
    assert target.read_text().splitlines() == [",".join(c.header for c in columns)]
