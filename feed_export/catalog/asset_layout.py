"""An assets feed's header row -> column specs, against its asset family's attributes.

An assets feed (``--entity assets --asset-family FAMILY``) has one row per asset: a
``code`` column (the asset's code, the key) and one column per value of the family's
attributes, named with the usual grammar (``feed.headers``): ``alt_text~en_US``,
``media~en_US~ecommerce``, ``media`` (the main media: a URL or path, or a media-file
code). Asset attributes have a value per locale and/or per channel
(``value_per_locale``, ``value_per_channel``), as product attributes are localizable and
scopable. Like ``layout.resolve_headers``, every problem is collected and one
``HeaderError`` lists them all, each naming the column and what would be right.

>>> from feed_export.catalog.structure import Catalog
>>> from feed_export.config import ExportOptions
>>> catalog = Catalog.from_dict({"attributes": [], "locales": [{"code": "en_US"}],
...     "asset_families": [{"code": "packshots", "attribute_as_main_media": "media"}],
...     "asset_attributes": {"packshots": [{"code": "media", "type": "media_file"},
...         {"code": "alt", "type": "text", "value_per_locale": True}]}})
>>> layout = resolve_asset_headers("f.csv", ["code", "media", "alt~en_us"], catalog,
...     ExportOptions(entity="assets", asset_family="PACKSHOTS"))
>>> [(c.kind, c.name, c.locale) for c in layout.columns]
[('key', 'code', None), ('asset_value', 'media', None), ('asset_value', 'alt', 'en_US')]
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence

from feed_export.catalog.layout import Column, FeedLayout
from feed_export.catalog.structure import AssetAttribute, Catalog
from feed_export.config import ExportOptions
from feed_export.errors import HeaderError, HeaderSyntaxError
from feed_export.feed.headers import (
    FEEDBACK_COLUMNS,
    AttributeHeader,
    FieldHeader,
    clean_header,
    parse_header,
)


def _listing(codes: Sequence[str], limit: int = 10) -> str:
    if not codes:
        return "none"
    shown = ", ".join(codes[:limit])
    return shown + (f", ... ({len(codes)} in all)" if len(codes) > limit else "")


def _form(attribute: AssetAttribute) -> str:
    return (
        attribute.code
        + ("~<locale>" if attribute.value_per_locale else "")
        + ("~<channel>" if attribute.value_per_channel else "")
    )


def resolve_asset_headers(
    path: str,
    header: Sequence[str],
    catalog: Catalog,
    options: ExportOptions,
    *,
    column_has_data: Sequence[bool] | None = None,
) -> FeedLayout:
    """Resolve an assets feed's header; ``HeaderError(path, problems)`` lists every problem.

    ``column_has_data`` as for ``layout.resolve_headers`` (empty headers).
    """
    wanted = options.asset_family or ""
    family = catalog.asset_family(wanted)
    if family is None:
        if not catalog.has("asset_families"):
            why = (
                "the catalog has no asset families (a PIM without the asset manager, or a "
                "catalog file written without them: feed-export catalog pull writes them)"
            )
        else:
            known = [f.code for f in catalog.asset_families]
            close = difflib.get_close_matches(wanted, known, n=1, cutoff=0.75)
            hint = f'did you mean "{close[0]}"?' if close else f"asset families: {_listing(known)}"
            why = f"unknown asset family; {hint}"
        raise HeaderError(path, [f'--asset-family "{wanted}": {why}'])
    attributes = catalog.asset_attributes_of(family.code)
    problems: list[str] = []
    unknown: list[str] = []
    columns: list[Column] = []
    blank_unchecked: list[int] = []
    seen: dict[tuple[str, ...], str] = {}
    feedback = set(FEEDBACK_COLUMNS)

    def keep(column: Column, key: tuple[str, ...]) -> None:
        first = seen.get(key)
        if first is not None:
            problems.append(
                f"{column.position} means the same value as {first}: keep only one of them"
            )
            return
        seen[key] = column.position
        columns.append(column)

    for index, text in enumerate(header):
        cleaned = clean_header(text)
        pos = f'column {index + 1} "{text}"'
        if not cleaned:
            if column_has_data is None:
                blank_unchecked.append(index)
            elif index < len(column_has_data) and column_has_data[index]:
                problems.append(
                    f"column {index + 1} has values but no header: name the column or remove it"
                )
            continue
        if cleaned.lower() in feedback:
            continue
        try:
            parts = parse_header(text)
        except HeaderSyntaxError as exc:
            problems.append(f"{pos}: {exc.problem}")
            continue
        if isinstance(parts, FieldHeader) and parts.field == "code":
            keep(Column(index, text, "key", "code"), ("field", "code"))
            continue
        if not isinstance(parts, AttributeHeader):
            problems.append(
                f"{pos}: an assets feed has a code column and the attributes of asset family "
                f"{family.code} ({_listing([a.code for a in attributes])}); products' fields "
                "and associations do not apply"
            )
            continue
        attribute = catalog.asset_attribute(family.code, parts.attribute)
        if attribute is None:
            if options.ignore_unknown_columns:
                unknown.append(pos)
                continue
            codes = [a.code for a in attributes]
            close = difflib.get_close_matches(parts.attribute, codes, n=1, cutoff=0.75)
            hint = f'did you mean "{close[0]}"?' if close else f"its attributes: {_listing(codes)}"
            problems.append(
                f'{pos}: unknown attribute "{parts.attribute}" of asset family {family.code}; '
                + hint
            )
            continue
        found: list[str] = []
        locale, channel = _locale_channel(catalog, attribute, parts, found)
        if parts.suffix is not None:
            found.append(
                f"@{parts.suffix} is for product prices and measures; name the column "
                f"{_form(attribute)}"
            )
        if found:
            problems.extend(f"{pos}: {problem}" for problem in found)
            continue
        column = Column(
            index,
            text,
            "asset_value",
            attribute.code,
            locale=locale,
            scope=channel,
            asset_attribute=attribute,
        )
        keep(
            column,
            ("value", attribute.code.lower(), (locale or "").lower(), (channel or "").lower()),
        )
    key = next((c for c in columns if c.kind == "key"), None)
    if key is None:
        problems.append('no code column: the rows of an assets feed are identified by "code"')
    if problems:
        raise HeaderError(path, problems)
    assert key is not None
    warnings = []
    if unknown:
        warnings.append(
            f"ignored {len(unknown)} column(s) naming no attribute of asset family "
            f"{family.code}: " + ", ".join(unknown)
        )
    return FeedLayout(
        path=path,
        entity="assets",
        header=tuple(header),
        columns=tuple(columns),
        key=key,
        catalog=catalog,
        blank_unchecked=tuple(blank_unchecked),
        warnings=warnings,
    )


def _locale_channel(
    catalog: Catalog, attribute: AssetAttribute, parts: AttributeHeader, found: list[str]
) -> tuple[str | None, str | None]:
    """The column's locale and channel (catalog spelling), or problems in ``found``."""
    per_locale, per_channel = attribute.value_per_locale, attribute.value_per_channel
    given = parts.parts
    if len(given) != int(per_locale) + int(per_channel):
        what = {
            (False, False): "neither per locale nor per channel",
            (True, False): "per locale",
            (False, True): "per channel",
            (True, True): "per locale and per channel",
        }[(per_locale, per_channel)]
        found.append(f"{attribute.code} has a value {what}, so its column is {_form(attribute)}")
        return None, None
    locale = channel = None
    if per_locale:
        locale = catalog.active_locale(given[0])
        if locale is None:
            found.append(
                f'unknown or inactive locale "{given[0]}"; activated locales: '
                f"{_listing(list(catalog.active_locales))}"
            )
    if per_channel:
        found_channel = catalog.channel(given[-1])
        if found_channel is None:
            found.append(
                f'unknown channel "{given[-1]}"; channels: {_listing(list(catalog.channel_codes))}'
            )
        else:
            channel = found_channel.code
    if locale and channel and not catalog.channel_has_locale(channel, locale):
        found.append(f"locale {locale} is not bound to channel {channel}")
    return locale, channel
