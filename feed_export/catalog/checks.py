"""What the PIM checks, checked from the catalog before anything is sent.

A dry run must say what the push will meet, and the push need not ask the PIM what the
catalog already knows. So the decoder runs, besides the codecs, the PIM's own rules
that the catalog can answer:

- **per cell** (``CatalogChecks.field`` and ``CatalogChecks.value`` wrap a column's
  converter when the decoder compiles its plans): the family, the family variant, the
  categories and the groups a row names exist; a select cell names options of its
  attribute (with ``--create-missing-options``, a missing option passes only where the
  attribute allows creating options during import, as in Akeneo). A known code comes
  out in the catalog's spelling (the PIM finds codes whatever their case), an unknown
  one is the cell's problem, with a "did you mean" hint;
- **per row** (``CatalogChecks.row``, once the line is decoded): the parent is a product
  model of the PIM or of the feed, at a level that can take this row; a product
  model's family variant belongs to its family; a variant fills the axes of its level;
  and the values the PIM would drop without a word are named: Akeneo's
  ProductAttributeFilter and ProductModelAttributeFilter keep only the attributes of
  the entity's level in its family variant (a simple product is not filtered by the
  API). They are kept in the line and reported as notes (``Saved (201), except: name~en_US
  not kept: ...``), or refused with ``--refuse-dropped-values``.

Where the catalog has no section for a check (``Catalog.has``), the check is skipped and
``warnings`` says so, naming the section: never a silent "Valid". Where the PIM
compares codes (association types are checked with the header, in ``layout``).

Where product models are known from (``ModelTree``): the catalog's ``product_models``,
the model rows of the feed itself (read in the validation pass), and, for a live push,
the PIM (the parents the feed names, fetched once).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from feed_export.catalog.codecs import EMPTY, quote
from feed_export.catalog.layout import Column, FeedLayout
from feed_export.catalog.structure import Catalog, FamilyVariant, ProductModel, similar_codes
from feed_export.config import Entity, ExportOptions
from feed_export.errors import CellError

Converter = Callable[[str], Any]

#: the select types whose options the catalog lists (reference data options live elsewhere)
OPTION_TYPES: Final = frozenset({"pim_catalog_simpleselect", "pim_catalog_multiselect"})
#: codes a message lists, at most
_LISTED = 10
#: how deep a product model tree goes, at most (Akeneo: two levels of variants)
_MAX_DEPTH = 5


def _listing(codes: Iterable[str]) -> str:
    """Codes in alphabetical order (a catalog file and the PIM may list them differently)."""
    shown = sorted(codes, key=str.lower)
    if not shown:
        return "none"
    text = ", ".join(shown[:_LISTED])
    return text + (f", ... ({len(shown)} in all)" if len(shown) > _LISTED else "")


_PLURALS: Final = {"family": "families", "category": "categories"}


def _unknown(what: str, codes: list[str], index: Mapping[str, str]) -> str:
    """``unknown category "outlet"; did you mean "outlets"?`` (several: listed, one hint each)."""
    quoted = ", ".join(quote(code) for code in codes)
    plural = _PLURALS.get(what, what + "s")
    words = f"unknown {what} {quoted}" if len(codes) == 1 else f"unknown {plural} {quoted}"
    hints = [hint for code in codes for hint in similar_codes(code, index, 1)]
    if hints:
        return words + "; did you mean " + " or ".join(quote(h) for h in hints) + "?"
    if len(index) <= _LISTED:
        return f"{words} (known: {_listing(index.values())})"
    return words


# ---------------------------------------------------------------------------
# product models: where each one sits


@dataclass(frozen=True, slots=True)
class ModelPlace:
    """Where a product model sits: its family variant (None: its parent's) and its parent."""

    code: str
    family_variant: str | None
    parent: str | None


class ModelTree:
    """The product models a run knows, by code (any case), and where each one sits.

    ``complete``: a code it lacks is known not to exist (the catalog lists the PIM's
    product models, or the PIM was asked for every parent the feed names).
    """

    def __init__(self, *, complete: bool) -> None:
        self.complete = complete
        self._places: dict[str, ModelPlace] = {}
        self._in_feed: set[str] = set()
        self._in_pim: set[str] = set()

    @classmethod
    def build(
        cls,
        catalog: Catalog,
        feed: Iterable[ModelPlace] = (),
        pim: Iterable[ProductModel] = (),
        *,
        asked_pim: bool = False,
    ) -> ModelTree:
        """The catalog's product models, those fetched from the PIM, then the feed's (which
        win: a row may give a family variant the PIM does not hold yet)."""
        tree = cls(complete=asked_pim or catalog.has("product_models"))
        for model in (*catalog.product_models, *pim):
            tree.add(ModelPlace(model.code, model.family_variant, model.parent), in_feed=False)
        for place in feed:
            tree.add(place, in_feed=True)
        return tree

    def add(self, place: ModelPlace, *, in_feed: bool) -> None:
        key = place.code.casefold()
        (self._in_feed if in_feed else self._in_pim).add(key)
        known = self._places.get(key)
        if known is not None and in_feed:
            # a model row that leaves a cell empty keeps what the PIM holds
            place = ModelPlace(
                place.code,
                place.family_variant or known.family_variant,
                place.parent or known.parent,
            )
        self._places[key] = place

    def find(self, code: str) -> ModelPlace | None:
        return self._places.get(code.casefold())

    def in_pim(self, code: str) -> bool:
        """Whether the PIM holds the model (as far as the catalog or the PIM said)."""
        return code.casefold() in self._in_pim

    def in_feed(self, code: str) -> bool:
        return code.casefold() in self._in_feed

    def family_variant(self, code: str) -> str | None:
        """The family variant of a model: its own, or its nearest ancestor's."""
        place = self.find(code)
        depth = 0
        while place is not None and depth < _MAX_DEPTH:
            if place.family_variant:
                return place.family_variant
            place = self.find(place.parent) if place.parent else None
            depth += 1
        return None

    def level(self, code: str) -> int | None:
        """0 for a root product model, 1 for its sub-models; None when a link is unknown."""
        place = self.find(code)
        level = 0
        while place is not None and place.parent:
            level += 1
            if level > _MAX_DEPTH:
                return None
            place = self.find(place.parent)
        return level if place is not None else None

    def codes(self) -> list[str]:
        return [place.code for place in self._places.values()]


# ---------------------------------------------------------------------------
# the checks


@dataclass(frozen=True, slots=True)
class _Spot:
    """A decoded value column: where a message points."""

    index: int
    header: str


class CatalogChecks:
    """The PIM's checks that the catalog answers, for one feed layout (see the module)."""

    def __init__(
        self, layout: FeedLayout, options: ExportOptions, models: ModelTree | None = None
    ) -> None:
        self.layout = layout
        self.catalog = layout.catalog
        self.options = options
        self.models = models
        self.warnings: list[str] = []
        columns = layout.columns
        self._fields: dict[str, _Spot] = {}
        self._values: dict[tuple[str, str | None, str | None], _Spot] = {}
        self._first_value: dict[str, _Spot] = {}
        for column in columns:
            spot = _Spot(column.index, _label(column))
            if column.kind in ("field", "model_key", "key"):
                self._fields.setdefault(column.name, spot)
            elif column.kind == "value":
                code = column.name.lower()
                self._values[(code, column.locale, column.scope)] = spot
                self._first_value.setdefault(code, spot)
        names = {c.name for c in columns if c.kind == "field"}
        #: whether rows need ``row``: they may name a parent or a family variant
        self.per_row = bool(names & {"parent", "family_variant"})
        ident = self.catalog.identifier_attribute
        self._identifier = ident.code.lower() if ident is not None else None
        self._missing_sections(names)

    # -- warnings ----------------------------------------------------------------------

    def _missing_sections(self, names: set[str]) -> None:
        catalog = self.catalog
        lacking: list[tuple[str, str]] = []
        if "family" in names and not catalog.has("families"):
            lacking.append(("families", "family codes"))
        if names & {"family_variant", "parent"} and not catalog.has("family_variants"):
            what = "family variants, variant levels and axes, and values the PIM would drop"
            lacking.append(("family_variants", what))
        if names & {"family_variant", "parent"} and not catalog.has("families"):
            lacking.append(("families", "values a product model would drop"))
        if names & {"categories", "add_categories", "remove_categories"} and not catalog.has(
            "categories"
        ):
            lacking.append(("categories", "category codes"))
        if "groups" in names and not catalog.has("groups"):
            lacking.append(("groups", "group codes"))
        if "parent" in names and (self.models is None or not self.models.complete):
            lacking.append(("product_models", "parents that are not rows of this feed"))
        selects = [
            c.name
            for c in self.layout.columns
            if c.kind == "value" and c.attribute is not None and c.attribute.type in OPTION_TYPES
        ]
        selects = list(dict.fromkeys(selects))
        if selects and not catalog.has("attribute_options"):
            lacking.append(("attribute_options", f"options of {', '.join(selects)}"))
        elif selects:
            unlisted = [code for code in selects if catalog.options(code) is None]
            if unlisted:
                self.warnings.append(
                    f"the catalog lists no options for {', '.join(unlisted)} (attribute_options): "
                    "their options are not checked before sending; the PIM will check them"
                )
        seen: set[str] = set()
        for section, what in lacking:
            key = section + what
            if key in seen:
                continue
            seen.add(key)
            how = (
                "the PIM's API does not list product groups"
                if section == "groups"
                else "feed-export catalog pull writes a catalog with it"
            )
            self.warnings.append(
                f"the catalog has no {section} section: {what} are not checked before sending, "
                f"the PIM will check them ({how})"
            )

    # -- per cell ----------------------------------------------------------------------

    def field(self, column: Column, convert: Converter) -> Converter:
        """``convert`` for a top-level field, checking the codes the catalog knows."""
        catalog = self.catalog
        name = column.name
        if name == "family" and catalog.has("families"):
            index = {f.code.lower(): f.code for f in catalog.families}
            return _one_code(convert, index, "family")
        if name == "family_variant" and catalog.has("family_variants"):
            index = {v.code.lower(): v.code for v in catalog.family_variants}
            return _one_code(convert, index, "family variant")
        if name in ("categories", "add_categories", "remove_categories") and catalog.has(
            "categories"
        ):
            return _codes(convert, catalog.category_index, "category")
        if name == "groups" and catalog.has("groups"):
            return _codes(convert, catalog.group_index, "group")
        return convert

    def value(self, column: Column, convert: Converter | None) -> Converter | None:
        """``convert`` for an attribute column, checking select options the catalog lists."""
        attribute = column.attribute
        if convert is None or attribute is None or attribute.type not in OPTION_TYPES:
            return convert
        options = self.catalog.options(attribute.code)
        if options is None:
            return convert
        creates = self.options.create_missing_options and bool(
            attribute.enable_option_creation_during_import
        )
        refusal = ""
        if self.options.create_missing_options and not creates:
            refusal = (
                f"; {attribute.code} does not allow creating options during import "
                "(enable_option_creation_during_import is off), so --create-missing-options "
                "does not apply to it"
            )
        code = attribute.code
        multi = attribute.type == "pim_catalog_multiselect"
        exact = {spelled: spelled for spelled in options.values()}

        def check(cell: str) -> Any:
            hit = exact.get(cell)  # the usual cell: one code as the catalog writes it
            if hit is not None:
                return [hit] if multi else hit
            data = convert(cell)
            if data is EMPTY:
                return data
            given = data if multi else [data]
            spelled: list[str] = []
            unknown: list[str] = []
            for option in given:
                found = exact.get(option) or options.get(option.lower())
                if found is not None:
                    spelled.append(found)
                elif creates:
                    spelled.append(option)  # the PIM creates it
                else:
                    unknown.append(option)
            if unknown:
                quoted = ", ".join(quote(option) for option in unknown)
                words = (
                    f"option {quoted} does not exist for {code}"
                    if len(unknown) == 1
                    else f"options {quoted} do not exist for {code}"
                )
                hints = [h for option in unknown for h in similar_codes(option, options, 1)]
                if hints:
                    words += "; did you mean " + " or ".join(quote(h) for h in hints) + "?"
                else:
                    words += f" (options: {_listing(options.values())})"
                raise CellError(words + refusal)
            if not multi:
                return spelled[0]
            return list(dict.fromkeys(spelled))

        return check

    # -- per row -----------------------------------------------------------------------

    def _at(self, problems: list[tuple[int, str]], field: str, text: str) -> None:
        """A problem of the row's ``field`` column (the whole row when the feed has none)."""
        spot = self._fields.get(field)
        if spot is None:
            problems.append((-1, f"{field}: {text}"))
        else:
            problems.append((spot.index, f"{spot.header}: {text}"))

    def row(
        self, entity: Entity, body: Mapping[str, Any], problems: list[tuple[int, str]]
    ) -> tuple[str, ...]:
        """Check a decoded row's parent, family variant and levels; the notes on values the
        PIM would drop (or, with ``--refuse-dropped-values``, problems)."""
        is_model = entity == "product-models"
        parent = body.get("parent")
        variant_code = body.get("family_variant") if is_model else None
        values = body.get("values")
        if isinstance(parent, str) and parent:
            return self._under_parent(parent, is_model, variant_code, values, problems)
        if is_model and isinstance(variant_code, str) and variant_code:
            return self._root_model(variant_code, body.get("family"), values, problems)
        return ()

    def _under_parent(
        self,
        parent: str,
        is_model: bool,
        variant_code: Any,
        values: Any,
        problems: list[tuple[int, str]],
    ) -> tuple[str, ...]:
        models = self.models
        if models is None:
            return ()
        place = models.find(parent)
        if place is None:
            if models.complete:
                hints = similar_codes(parent, {c.lower(): c for c in models.codes()}, 1)
                hint = f"; did you mean {quote(hints[0])}?" if hints else ""
                text = f"product model {quote(parent)} does not exist in the PIM nor in this feed"
                self._at(problems, "parent", text + hint)
            return ()
        parent_variant = models.family_variant(parent)
        variant = self.catalog.family_variant(parent_variant) if parent_variant else None
        level = models.level(parent)
        if variant is None or level is None:
            return ()
        levels = variant.levels()
        own = level + 1
        if (
            isinstance(variant_code, str)
            and variant_code
            and variant_code.lower() != variant.code.lower()
        ):
            text = (
                f"{quote(variant_code)} is not the family variant of its parent {quote(parent)} "
                f"({variant.code}); leave it empty or make them equal"
            )
            self._at(problems, "family_variant", text)
            return ()
        last = len(levels)
        if is_model and own >= last:
            what = (
                "a sub-product model"
                if level > 0
                else f"the root of family variant {variant.code}, which has one level of variants"
            )
            text = (
                f"{quote(parent)} is {what}: its children are variant products, not product models"
            )
            self._at(problems, "parent", text)
            return ()
        if not is_model and own != last:
            text = (
                f"{quote(parent)} is the root product model of family variant {variant.code}, "
                f"which has {last} levels of variants: a variant product's parent is one of "
                "its sub-product models"
            )
            self._at(problems, "parent", text)
            return ()
        current = next((lv for lv in levels if lv.level == own), None)
        if current is None:
            return ()
        self._axes(current.axes, parent, variant, is_model, values, problems)
        keep = {code.lower() for code in current.attributes}
        if not is_model and self._identifier is not None:
            keep.add(self._identifier)  # Akeneo keeps it: it is set from ``identifier``
        return self._dropped(values, keep, variant, own, problems)

    def _root_model(
        self, variant_code: str, family: Any, values: Any, problems: list[tuple[int, str]]
    ) -> tuple[str, ...]:
        variant = self.catalog.family_variant(variant_code)
        if variant is None:
            return ()
        if (
            isinstance(family, str)
            and family
            and variant.family
            and family.lower() != variant.family.lower()
        ):
            text = (
                f"family variant {variant.code} belongs to family {variant.family}, "
                f"not {quote(family)}"
            )
            self._at(problems, "family", text)
            return ()
        common = self._common(variant)
        if common is None:
            return ()
        return self._dropped(values, common, variant, 0, problems)

    def _common(self, variant: FamilyVariant) -> set[str] | None:
        """The root product model's attributes: the family's, minus every level's."""
        family = self.catalog.family(variant.family) if variant.family else None
        if family is None:
            return None
        in_levels = {code.lower() for lv in variant.levels() for code in lv.attributes}
        return {code.lower() for code in family.attributes} - in_levels

    def _axes(
        self,
        axes: tuple[str, ...],
        parent: str,
        variant: FamilyVariant,
        is_model: bool,
        values: Any,
        problems: list[tuple[int, str]],
    ) -> None:
        given = {code.lower(): entries for code, entries in (values or {}).items()}
        what = "sub-product model" if is_model else "variant product"
        flawed = {index for index, _ in problems}
        for axis in axes:
            entries = given.get(axis.lower()) or ()
            if any(_filled(entry.get("data")) for entry in entries):
                continue
            spot = self._first_value.get(axis.lower())
            if spot is not None and spot.index in flawed:
                continue  # its cell already has its problem
            if spot is not None:
                text = (
                    f"{spot.header}: is empty, but {axis} is an axis of family variant "
                    f"{variant.code}: a {what} under {quote(parent)} needs a value"
                )
                problems.append((spot.index, text))
            else:
                text = (
                    f"row: a {what} under {quote(parent)} needs a value for {axis}, an axis of "
                    f"family variant {variant.code}; add a {axis} column"
                )
                problems.append((-1, text))

    def _dropped(
        self,
        values: Any,
        keep: set[str],
        variant: FamilyVariant,
        level: int,
        problems: list[tuple[int, str]],
    ) -> tuple[str, ...]:
        if not isinstance(values, Mapping):
            return ()
        notes: list[str] = []
        for code, entries in values.items():
            if code.lower() in keep:
                continue
            why = self._belongs(code, variant, level)
            for entry in entries:
                spot = self._values.get((code.lower(), entry.get("locale"), entry.get("scope")))
                header = spot.header if spot is not None else code
                if self.options.refuse_dropped_values:
                    text = (
                        f"{header}: the PIM would drop this value: {why}; leave it empty on "
                        "this row (--refuse-dropped-values)"
                    )
                    problems.append((spot.index if spot is not None else -1, text))
                else:
                    notes.append(f"{header} not kept: {why}")
        return tuple(notes)

    def _belongs(self, code: str, variant: FamilyVariant, level: int) -> str:
        """Why a value of ``code`` does not belong at ``level`` of ``variant``."""
        levels = variant.levels()
        lowered = code.lower()
        for lv in levels:
            if lowered in {a.lower() for a in lv.attributes}:
                name = _level_name(lv.level, len(levels))
                return f"it belongs to the {name} level of family variant {variant.code}"
        family = self.catalog.family(variant.family) if variant.family else None
        if family is not None and lowered not in {a.lower() for a in family.attributes}:
            return f"it is not an attribute of family {family.code}"
        return f"it belongs to the product model level of family variant {variant.code}"


def _level_name(level: int, levels: int) -> str:
    if level == 0:
        return "product model"
    if level >= levels:
        return "variant product"
    return "sub-product model"


def _filled(data: Any) -> bool:
    return not (data is None or data == "" or data == [] or data == {})


def _label(column: Column) -> str:
    return column.header.strip().lstrip("\ufeff").strip() or f"column {column.index + 1}"


def _one_code(convert: Converter, index: Mapping[str, str], what: str) -> Converter:
    exact = {spelled: spelled for spelled in index.values()}

    def check(cell: str) -> Any:
        hit = exact.get(cell)  # the usual cell: the code as the catalog writes it
        if hit is not None:
            return hit
        code = convert(cell)
        if not isinstance(code, str):
            return code
        found = index.get(code.lower())
        if found is None:
            raise CellError(_unknown(what, [code], index))
        return found

    return check


def _codes(convert: Converter, index: Mapping[str, str], what: str) -> Converter:
    exact = {spelled: spelled for spelled in index.values()}

    def check(cell: str) -> Any:
        hit = exact.get(cell)  # a cell of one code as the catalog writes it
        if hit is not None:
            return [hit]
        codes = convert(cell)
        if not isinstance(codes, list):
            return codes
        spelled: list[str] = []
        unknown: list[str] = []
        for code in codes:
            found = exact.get(code) or index.get(code.lower())
            if found is None:
                unknown.append(code)
            elif found not in spelled:
                spelled.append(found)
        if unknown:
            raise CellError(_unknown(what, unknown, index))
        return spelled

    return check
