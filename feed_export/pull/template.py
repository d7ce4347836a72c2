"""``feed-export template``: the header row a feed for one family needs, ready to fill in.

The columns are a pull's (``columns``) for the family's products: ``identifier``,
``family``, ``parent`` (when the family has variants), ``categories``, ``enabled``, then
each attribute of the family in its locale and channel columns; the columns the family
requires (``attribute_requirements``: on the column's channel, or on any channel for a
value that is not scopable) come first, each kept in the family's order.

As XLSX, the workbook is made to be filled in a spreadsheet and pushed as it is:

- the header row is bold and frozen; a required column is tinted, and every header
  carries a comment with the attribute's label and type (and, for a required one, the
  channels that require it);
- select columns get a drop-down list of their option codes (kept on a hidden
  ``options`` sheet: a list typed into the validation itself is limited to 255
  characters); booleans and ``enabled`` get ``true`` / ``false``; ``family`` gets the
  family's code. A multi-select cell cannot be a drop-down (one value per cell in
  Excel): its comment says how to write several, with the value separator.

As CSV (or TSV), it is the header row alone.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from feed_export.catalog.structure import Attribute, Catalog, Family
from feed_export.config import PullOptions, Settings
from feed_export.errors import ConfigError, StartupError, TransportError
from feed_export.feed.output import create_file
from feed_export.feed.table import FeedFormat
from feed_export.feed.writer import check_writable, open_table
from feed_export.pull.columns import (
    IDENTIFIER_TYPE,
    AttributeDetails,
    attribute_details,
    by_group,
    pulled_families,
    value_columns,
)

if TYPE_CHECKING:
    from feed_export.akeneo.client import AkeneoClient

SELECT = "pim_catalog_simpleselect"
MULTISELECT = "pim_catalog_multiselect"
BOOLEAN = "pim_catalog_boolean"
#: the tint of a required column's header (a light amber)
REQUIRED_FILL = "FFFFE8A3"
#: the sheet of the template, and the hidden one holding the option lists
SHEET = "template"
OPTIONS_SHEET = "options"
#: rows the drop-down lists cover (Excel's last row)
LAST_ROW = 1_048_576


@dataclass(frozen=True, slots=True)
class TemplateColumn:
    """One column of a template, with what its header says about it."""

    header: str
    attribute: Attribute | None = None
    required_in: tuple[str, ...] = ()  # channels that require the value
    note: str = ""


def template_columns(
    catalog: Catalog, family_code: str, options: PullOptions
) -> tuple[Family, list[TemplateColumn]]:
    """The family and the columns of its template, required attributes first."""
    (code,) = pulled_families(catalog, [family_code])
    family = catalog.family(code)
    assert family is not None
    details = attribute_details(catalog)
    channels = {c.casefold() for c in options.channels}
    requirements: dict[str, list[str]] = {}
    for channel, codes in family.attribute_requirements.items():
        if channels and channel.casefold() not in channels:
            continue
        for attribute_code in codes:
            requirements.setdefault(attribute_code.casefold(), []).append(channel)
    attributes = [catalog.attribute(c) for c in family.attributes]
    chosen = [a for a in attributes if a is not None and a.type != IDENTIFIER_TYPE]
    if options.column_order == "groups":
        chosen = by_group(catalog, chosen)
    has_variants = any(
        (v.family or "").casefold() == family.code.casefold() for v in catalog.family_variants
    )
    fields = ["identifier", "family", *(["parent"] if has_variants else []), "categories"]
    columns = [TemplateColumn(name, note=_FIELD_NOTES[name]) for name in [*fields, "enabled"]]
    values: list[TemplateColumn] = []
    for attribute in chosen:
        needed = requirements.get(attribute.code.casefold(), [])
        for column in value_columns(attribute, catalog, options.locales, options.channels):
            required_in = tuple(
                c for c in needed if not attribute.scopable or c.casefold() == _fold(column.scope)
            )
            note = _note(attribute, details.get(attribute.code.casefold()), required_in, options)
            values.append(TemplateColumn(column.header, attribute, required_in, note))
    values.sort(key=lambda c: not c.required_in)  # required columns first; stable: order kept
    return family, [*columns, *values]


def write_template(
    target: Path,
    catalog: Catalog,
    family_code: str,
    options: PullOptions,
    option_codes: Mapping[str, Sequence[str]],
) -> list[TemplateColumn]:
    """Write the template of a family to ``target`` (.xlsx, or .csv/.tsv: the header only);
    the columns written. ``option_codes``: attribute code -> its option codes."""
    from feed_export.pull.run import output_format

    fmt = output_format(target)
    family, columns = template_columns(catalog, family_code, options)
    part = target.with_name(f"{target.stem}.part{target.suffix}")
    try:
        if fmt.kind == "xlsx":
            _write_workbook(part, family, columns, option_codes, options)
        else:
            _write_header(part, fmt, columns)
        os.replace(part, target)
    except OSError as exc:
        raise ConfigError(f"{target}: cannot write the template: {exc.strerror or exc}") from exc
    finally:
        part.unlink(missing_ok=True)
    return columns


def _write_header(path: Path, fmt: FeedFormat, columns: Sequence[TemplateColumn]) -> None:
    header = [column.header for column in columns]
    with open_table(path, fmt, header, what="template", flag="--output"):
        pass


def _write_workbook(
    path: Path,
    family: Family,
    columns: Sequence[TemplateColumn],
    option_codes: Mapping[str, Sequence[str]],
    options: PullOptions,
) -> None:
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = SHEET
    lists = book.create_sheet(OPTIONS_SHEET)
    lists.sheet_state = "hidden"
    bold = Font(bold=True)
    fill = PatternFill("solid", start_color=REQUIRED_FILL, end_color=REQUIRED_FILL)
    list_column: dict[str, str] = {}  # attribute code -> its range on the options sheet

    def options_range(code: str, values: Sequence[str]) -> str:
        found = list_column.get(code)
        if found is None:
            letter = get_column_letter(len(list_column) + 1)
            lists[f"{letter}1"] = code
            for row, value in enumerate(values, 2):
                lists[f"{letter}{row}"] = value
            found = list_column[code] = f"{OPTIONS_SHEET}!${letter}$2:${letter}${len(values) + 1}"
        return found

    def drop_down(letter: str, formula: str) -> None:
        validation = DataValidation(type="list", formula1=formula, allow_blank=True)
        validation.error = "Choose a value from the list"
        validation.showErrorMessage = True
        sheet.add_data_validation(validation)
        validation.add(f"{letter}2:{letter}{LAST_ROW}")

    for index, column in enumerate(columns, 1):
        letter = get_column_letter(index)
        cell = sheet.cell(row=1, column=index, value=column.header)
        cell.font = bold
        if column.required_in or column.header == "identifier":
            cell.fill = fill
        if column.note:
            comment = Comment(column.note, "feed_export")
            comment.width, comment.height = 320, 120
            cell.comment = comment
        sheet.column_dimensions[letter].width = max(12, min(40, len(column.header) + 4))
        attribute = column.attribute
        if column.header == "enabled" or (attribute is not None and attribute.type == BOOLEAN):
            drop_down(letter, '"true,false"')
        elif column.header == "family":
            drop_down(letter, f'"{family.code}"')
        elif attribute is not None and attribute.type == SELECT:
            codes = list(option_codes.get(attribute.code, ()))
            if codes:
                drop_down(letter, options_range(attribute.code, codes))
    sheet.freeze_panes = "A2"
    with create_file(path, "template") as out:
        book.save(out)


_FIELD_NOTES = {
    "identifier": "identifier: the product's identifier (required)",
    "family": "family: the product's family code",
    "parent": "parent: the code of the product model a variant product belongs to "
    "(empty for a simple product)",
    "categories": "categories: category codes, several separated by the value separator",
    "enabled": "enabled: true or false",
}


def _note(
    attribute: Attribute,
    details: AttributeDetails | None,
    required_in: Sequence[str],
    options: PullOptions,
) -> str:
    label = ""
    if details is not None and details.labels:
        label = next(iter(details.labels.values()))
        for locale in ("en_US", *details.labels):
            if locale in details.labels:
                label = details.labels[locale]
                break
    words = [f"{label} ({attribute.type})" if label else attribute.type]
    if required_in:
        words.append("required for " + ", ".join(required_in))
    hint = _HINTS.get(attribute.type)
    if hint:
        words.append(hint.replace("SEP", options.value_separator))
    return "\n".join(words)


_HINTS = {
    MULTISELECT: "option codes, several separated by SEP",
    "pim_catalog_price_collection": 'amounts with their currency, e.g. "19.99 EUR"; several '
    "separated by SEP",
    "pim_catalog_metric": 'an amount and its unit, e.g. "180 GRAM"',
    "pim_catalog_date": "a date, YYYY-MM-DD",
    "pim_catalog_image": "an image: a URL, a path beside the feed, or a media-file code",
    "pim_catalog_file": "a file: a URL, a path beside the feed, or a media-file code",
    "pim_catalog_table": "the table's rows as JSON",
}


def _fold(text: str | None) -> str:
    return text.casefold() if text else ""


def pull_template(
    target: Path,
    family_code: str,
    options: PullOptions | None = None,
    *,
    settings: Settings | None = None,
    client: AkeneoClient | None = None,
) -> list[TemplateColumn]:
    """Read the catalog (and the family's select options) from the PIM and write the
    template; ``StartupError`` when the PIM cannot be used, ``ConfigError`` for a family,
    locale or channel it does not know."""
    from feed_export.pull.run import log_in, read_pull_catalog

    options = options or PullOptions()
    check_writable(target, "template", "--output")
    with ExitStack() as stack:
        if client is None:
            if settings is None:
                raise ConfigError("a template needs PIM settings (or --sandbox)")
            from feed_export.akeneo.client import AkeneoClient

            client = AkeneoClient(settings)
            stack.callback(client.close)
            log_in(client)
        catalog = read_pull_catalog(client)
        family, _ = template_columns(catalog, family_code, options)
        selects = [
            a.code
            for a in (catalog.attribute(c) for c in family.attributes)
            if a is not None and a.type == SELECT
        ]
        try:
            codes = client.fetch_options(selects) if selects else {}
        except TransportError as exc:
            raise StartupError(
                f"could not read the options of {family.code}'s attributes: {exc}"
            ) from exc
        return write_template(target, catalog, family.code, options, codes)
