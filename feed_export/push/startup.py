"""Before anything is sent: the PIM answers, accepts the login, and its catalog is read.

A run that cannot start sends nothing and writes nothing (no feedback file is created or
replaced): these checks come before any output is opened, and fail with ``StartupError``
(exit 2), one sentence that names the PIM's host and what to check. The login is the
client's quick check (short timeouts, one more try at most): a PIM that is down is
reported within about 15 s, not after the minute a whole retry policy would take.

The live catalog holds what the feed's columns need, so that the push checks what a dry
run against a catalog file checks (``catalog.checks``) and asks the PIM nothing the
catalog knows: the attributes the header names (searched as written, since the PIM's
code filter is case-sensitive; when one is not found, the whole list, so that codes
match whatever their case and an unknown one gets a "did you mean" hint), the options of
its select attributes, and, by the columns it has, the families and their variants,
the categories and the association types (product groups have no list in the API: the
PIM checks them), the asset families of its asset collection columns (or of an assets
feed) with their attributes. After the validation pass,
``read_product_models`` asks for the parents the rows name that the feed does not define.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from pydantic import ValidationError

from feed_export.catalog.checks import OPTION_TYPES
from feed_export.catalog.structure import Catalog, ProductModel
from feed_export.config import Entity, pim_host
from feed_export.errors import HeaderSyntaxError, RunAborted, StartupError, TransportError
from feed_export.feed.headers import (
    FEEDBACK_COLUMNS,
    AssociationHeader,
    FieldHeader,
    header_attribute_codes,
    parse_header,
)

if TYPE_CHECKING:
    from feed_export.akeneo.client import AkeneoClient
    from feed_export.push.interrupt import Interrupt


def log_in(client: AkeneoClient, interrupt: Interrupt | None = None) -> None:
    """The client's quick login; ``StartupError`` when the PIM cannot be used."""
    try:
        client.authenticate(quick=True)
    except TransportError as exc:
        raise StartupError(str(exc)) from exc
    _check_interrupt(interrupt)


def read_catalog(
    client: AkeneoClient,
    header: tuple[str, ...],
    interrupt: Interrupt | None = None,
    entity: Entity = "products",
    asset_family: str | None = None,
) -> Catalog:
    """The PIM's catalog for this header; ``StartupError`` when it cannot be read.

    With asset collection columns, the asset families they name, with their attributes;
    an assets feed (``entity`` assets) reads its ``asset_family`` and no attribute.
    """
    # an assets feed's header names asset attributes, not the products' ones
    codes = [] if entity == "assets" else header_attribute_codes(header)
    fields, associations = _header_fields(header)
    variants = bool(fields & {"parent", "family_variant"}) or entity == "product-models"
    lists = [
        name
        for name, used in (
            ("categories", bool(fields & {"categories", "add_categories", "remove_categories"})),
            ("association_types", associations),
        )
        if used
    ]
    try:
        data = client.fetch_catalog(
            codes, families="family" in fields or variants, family_variants=variants, lists=lists
        )
        found = {a.get("code", "").lower() for a in data["attributes"] if isinstance(a, dict)}
        if any(code.lower() not in found for code in codes):
            # a code in another case, or unknown: the whole list finds the first and gives
            # the second its "did you mean", as a catalog file does
            data["attributes"] = list(client.list_items("attributes"))
        wanted = {code.lower() for code in codes}
        selects = [
            a["code"]
            for a in data["attributes"]
            if isinstance(a, dict)
            and a.get("type") in OPTION_TYPES
            and str(a.get("code", "")).lower() in wanted
        ]
        if selects:
            data["attribute_options"] = client.fetch_options(selects)
        asset_families = [
            str(a["reference_data_name"])
            for a in data["attributes"]
            if isinstance(a, dict)
            and a.get("type") == "pim_catalog_asset_collection"
            and a.get("reference_data_name")
            and str(a.get("code", "")).lower() in wanted
        ]
        if asset_family:
            asset_families.append(asset_family)
        if asset_families:
            data.update(client.asset_sections(asset_families))
        catalog = Catalog.from_dict(data)
    except TransportError as exc:
        raise StartupError(
            f"could not read the catalog of the PIM at {pim_host(client.base_url)}: {exc}"
        ) from exc
    _check_interrupt(interrupt)
    return catalog


def read_product_models(
    client: AkeneoClient, codes: Sequence[str], interrupt: Interrupt | None = None
) -> list[ProductModel]:
    """Where the PIM's product models of these codes sit, and their ancestors'.

    ``StartupError`` when they cannot be read. Codes the PIM does not have are absent.
    """
    found: dict[str, ProductModel] = {}
    todo = list(dict.fromkeys(codes))
    try:
        for _ in range(3):  # the parent, its parent: Akeneo has two levels of models
            if not todo:
                break
            for item in client.product_models(todo):
                try:
                    model = ProductModel.model_validate(item)
                except ValidationError:
                    continue  # not a product model we can place: as if absent
                found[model.code.casefold()] = model
            todo = [
                m.parent for m in found.values() if m.parent and m.parent.casefold() not in found
            ]
    except TransportError as exc:
        raise StartupError(
            f"could not read the product models of the PIM at {pim_host(client.base_url)}: {exc}"
        ) from exc
    _check_interrupt(interrupt)
    return list(found.values())


def _header_fields(header: Sequence[str]) -> tuple[set[str], bool]:
    """The top-level fields a header names, and whether it has association columns."""
    fields: set[str] = set()
    associations = False
    for text in header:
        if not text.strip() or text.strip() in FEEDBACK_COLUMNS:
            continue
        try:
            parts = parse_header(text)
        except HeaderSyntaxError:
            continue
        if isinstance(parts, FieldHeader):
            fields.add(parts.field)
        elif isinstance(parts, AssociationHeader):
            associations = True
    return fields, associations


def _check_interrupt(interrupt: Interrupt | None) -> None:
    if interrupt is not None and interrupt.requested:
        raise RunAborted("interrupted before anything was sent; nothing was written")
