"""Cell text -> Akeneo value data: one converter per column, compiled once, called per cell.

A converter is a plain function ``str -> data`` chosen by the attribute's type when the
layout is compiled, with everything it needs (limits, units, currencies, separators)
bound in, so the hot path is one call and a few string methods. Converters are called
with cells that are not blank (the caller handles empty cells); a cell that breaks a
rule raises ``CellError`` whose text says what is wrong and quotes the value, without the
header (the caller prefixes it). A list cell made only of separators returns ``EMPTY``,
which the caller treats like an empty cell.

>>> from feed_export.catalog.structure import Attribute, Catalog
>>> from feed_export.config import ExportOptions
>>> weight = Attribute(code="weight", type="pim_catalog_metric", metric_family="Weight",
...                    decimals_allowed=False, default_metric_unit="KILOGRAM")
>>> convert = value_converter(weight, Catalog(), ExportOptions())
>>> convert("3 KGM"), convert("4")
({'amount': 3, 'unit': 'KILOGRAM'}, {'amount': 4, 'unit': 'KILOGRAM'})
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import date, datetime
from decimal import ROUND_FLOOR, Decimal
from typing import Any, Final, Literal

import orjson

from feed_export.catalog.structure import Attribute, Catalog
from feed_export.config import ExportOptions
from feed_export.errors import CellError, ConfigError


class _Empty:
    """The type of ``EMPTY``: a list cell that holds nothing but separators."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "EMPTY"


EMPTY: Final = _Empty()

#: cell text (not blank) -> data; raises CellError
Converter = Callable[[str], Any]

#: how much of a value a message quotes
MAX_QUOTED = 80

#: Akeneo stores integers as PHP ints
PHP_INT_MAX = 2**63 - 1

TEXT_TYPES = frozenset({"pim_catalog_identifier", "pim_catalog_text", "pim_catalog_textarea"})
#: reference data under both spellings: the PIM's own type codes (``pim_reference_data_*``,
#: what ``GET /attributes`` answers) and the ``pim_catalog_reference_data_*`` of older docs
REFERENCE_DATA_SIMPLE = frozenset(
    {"pim_reference_data_simpleselect", "pim_catalog_reference_data_simpleselect"}
)
REFERENCE_DATA_MULTI = frozenset(
    {"pim_reference_data_multiselect", "pim_catalog_reference_data_multiselect"}
)
CODE_TYPES = (
    frozenset({"pim_catalog_simpleselect", "akeneo_reference_entity"}) | REFERENCE_DATA_SIMPLE
)
CODES_TYPES = (
    frozenset(
        {
            "pim_catalog_multiselect",
            "akeneo_reference_entity_collection",
            "pim_catalog_asset_collection",
        }
    )
    | REFERENCE_DATA_MULTI
)
#: types whose data is a list: ``--empty-cells erase`` sends ``[]`` for them, else ``null``
LIST_TYPES = CODES_TYPES | {"pim_catalog_price_collection"}


def quote(text: str, limit: int = MAX_QUOTED) -> str:
    """A value as a message quotes it: double quotes, escapes visible, capped at ``limit``.

    >>> quote('say "hi"\\n'), quote("x" * 100)[-3:]
    ('"say \\\\"hi\\\\"\\\\n"', 'x…"')
    """
    if len(text) > limit:
        text = text[:limit] + "…"
    return json.dumps(text, ensure_ascii=False)


def erase_data(attribute: Attribute) -> list[Any] | None:
    """What ``--empty-cells erase`` sends for an empty cell: ``[]`` for lists, else ``null``."""
    return [] if attribute.type in LIST_TYPES else None


# ---------------------------------------------------------------------------
# numbers


def _split_number(text: str, sep: str) -> tuple[bool, str, str] | None:
    """``(negative, whole, fraction)`` of a plain decimal numeral, digits only, or None.

    ``whole`` has no leading zeros (``"0"`` at least); no exponent, no thousands mark.
    """
    first = text[:1]
    negative = False
    if first == "-" or first == "+":
        negative = first == "-"
        text = text[1:]
    whole, _, fraction = text.partition(sep)
    if whole:
        if not (whole.isdigit() and whole.isascii()):
            return None
    elif not fraction:
        return None
    if fraction and not (fraction.isdigit() and fraction.isascii()):
        return None
    return negative, whole.lstrip("0") or "0", fraction


#: ``1,234.50`` and ``1.234,50``: thousands separators (ASCII digits only)
_GROUPED_BY_COMMAS: Final = re.compile(r"[+-]?[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]*)?")
_GROUPED_BY_DOTS: Final = re.compile(r"[+-]?[0-9]{1,3}(?:\.[0-9]{3})+(?:,[0-9]*)?")


def _not_a_number(cell: str, sep: str, what: str = "a number", number: str = "") -> CellError:
    """The error for ``cell`` (quoted as read), with a hint when ``number`` looks close.

    ``number`` is the part meant as the amount (default: the whole cell, trimmed). The
    hint is given only for what is a number but for its marks: ``12,50`` with ``.`` as
    the decimal mark, never any text that holds a comma (``=HYPERLINK("a","b")``).
    """
    text = number or cell.strip()
    hint = ""
    if sep == ".":
        if _split_number(text, ",") is not None:
            hint = ' (the decimal mark is "."; for "12,50" pass --decimal-separator ,)'
        elif _GROUPED_BY_COMMAS.fullmatch(text):
            hint = " (leave out thousands separators)"
    elif _GROUPED_BY_DOTS.fullmatch(text):
        hint = ' (the decimal mark is ","; leave out thousands separators)'
    elif _split_number(text, ".") is not None:
        hint = ' (the decimal mark is ","; for "12.50" leave out --decimal-separator ,)'
    return CellError(f"not {what}{hint}: {quote(cell)}")


def _show(number: Decimal) -> str:
    return format(number.normalize(), "f")


def _same(a: int | str, b: int | str) -> bool:
    return Decimal(str(a)) == Decimal(str(b))


def amount_parser(attribute: Attribute, options: ExportOptions) -> Callable[[str], int | str]:
    """Parse an amount (surrounding spaces ignored) as the attribute wants it, checking limits.

    Integer (JSON int) when ``decimals_allowed`` is false (a zero fraction is fine),
    else a decimal string with ``.`` as its mark. ``number_min``, ``number_max`` and
    ``negative_allowed`` come from the catalog.
    """
    sep = options.decimal_separator
    decimals = attribute.decimals_allowed is not False
    no_negative = attribute.negative_allowed is False
    low, high = Catalog.number_limits(attribute)
    bounded = low is not None or high is not None
    # an unsigned numeral whose whole part is below ``ceiling`` is within the limits: no
    # Decimal needed (None: always build one, e.g. a positive minimum or an infinite limit)
    ceiling: int | None = None
    if (low is None or (low.is_finite() and low <= 0)) and (high is None or high.is_finite()):
        ceiling = int(high.to_integral_value(ROUND_FLOOR)) if high is not None else PHP_INT_MAX

    def check(value: Decimal | int, cell: str) -> None:
        if no_negative and value < 0:
            raise CellError(f"negative numbers are not allowed here, got {quote(cell)}")
        if low is not None and value < low:
            raise CellError(f"must be at least {_show(low)}, got {quote(cell)}")
        if high is not None and value > high:
            raise CellError(f"must be at most {_show(high)}, got {quote(cell)}")

    def parse(cell: str) -> int | str:
        # messages quote the cell as read: trimmed, "\t=1+1" would show as "=1+1"
        text = cell.strip()
        if text.isdigit() and text.isascii():
            # the commonest form, a whole unsigned numeral ("12"): no partition, no copies
            if decimals:
                result = text if text[0] != "0" else (text.lstrip("0") or "0")
                if bounded and not (
                    ceiling is not None and len(result) < 19 and int(result) < ceiling
                ):
                    check(Decimal(result), cell)
                return result
            if len(text) > 18:
                # int() refuses over 4,300 digits: the length decides first
                digits = text.lstrip("0") or "0"
                if len(digits) > 18 and (len(digits) > 19 or int(digits) > PHP_INT_MAX):
                    raise CellError(
                        f"too large (the PIM's limit is {PHP_INT_MAX}), got {quote(cell)}"
                    )
            number = int(text)
            if bounded and not (ceiling is not None and number < ceiling):
                check(number, cell)
            return number
        whole, _, fraction = text.partition(sep)
        if (
            whole.isdigit()
            and whole.isascii()
            and (not fraction or (fraction.isdigit() and fraction.isascii()))
        ):
            # the usual case, an unsigned numeral: no second pass over the text
            negative = False
            if whole[0] == "0" and len(whole) > 1:
                whole = whole.lstrip("0") or "0"
        else:
            parts = _split_number(text, sep)
            if parts is None:
                raise _not_a_number(cell, sep)
            negative, whole, fraction = parts
            if negative and whole == "0" and not fraction.strip("0"):
                negative = False  # "-0" and "-0.00" are zero
        if decimals:
            result = ("-" + whole if negative else whole) + ("." + fraction if fraction else "")
            if bounded and (
                negative or ceiling is None or len(whole) > 18 or int(whole) >= ceiling
            ):
                check(Decimal(result), cell)
            elif negative and no_negative:
                check(-1, cell)
            return result
        if fraction and fraction.strip("0"):
            raise CellError(f"decimals are not allowed here, got {quote(cell)}")
        if len(whole) > 18 and (len(whole) > 19 or int(whole) > PHP_INT_MAX):
            raise CellError(f"too large (the PIM's limit is {PHP_INT_MAX}), got {quote(cell)}")
        integer = -int(whole) if negative else int(whole)
        if bounded or no_negative:
            check(integer, cell)
        return integer

    return parse


def _number(attribute: Attribute, options: ExportOptions) -> Converter:
    return amount_parser(attribute, options)


# ---------------------------------------------------------------------------
# text, booleans, dates, codes


def _text(attribute: Attribute) -> Converter | None:
    limit = attribute.max_characters
    if not limit:
        return None  # the cell as read: the caller skips the call

    def convert(cell: str) -> str:
        if len(cell) > limit:
            raise CellError(
                f"is {len(cell)} characters long, over this attribute's limit of {limit}: "
                f"{quote(cell)}"
            )
        return cell

    return convert


_BOOLEANS: Final = {"true": True, "1": True, "false": False, "0": False}
_BOOLEANS_AS_WRITTEN: Final = {
    **_BOOLEANS,
    **{"TRUE": True, "True": True, "FALSE": False, "False": False},
}


def to_boolean(cell: str) -> bool:
    """``true`` ``false`` ``1`` ``0``, any case, surrounding spaces ignored."""
    value = _BOOLEANS_AS_WRITTEN.get(cell)
    if value is not None:
        return value
    value = _BOOLEANS.get(cell.strip().lower())
    if value is None:
        raise CellError(f"expected true, false, 1 or 0, got {quote(cell)}")
    return value


def check_date_format(fmt: str) -> None:
    """ConfigError unless ``fmt`` is a strftime format that reads back what it writes."""
    sample = datetime(2001, 2, 3, 4, 5, 6)
    try:
        datetime.strptime(sample.strftime(fmt), fmt)
    except ValueError as exc:
        raise ConfigError(f"--date-format {fmt!r} is not a usable strftime format: {exc}") from None


def _date(attribute: Attribute, options: ExportOptions) -> Converter:
    fmt = options.date_format
    if fmt:
        check_date_format(fmt)
    low = attribute.date_min[:10] if attribute.date_min else None
    high = attribute.date_max[:10] if attribute.date_max else None
    expected = "YYYY-MM-DD or an ISO-8601 datetime" + (f" or {fmt}" if fmt else "")

    def convert(cell: str) -> str:
        text = cell.strip()
        out: str | None = None
        if fmt:
            try:
                out = datetime.strptime(text, fmt).date().isoformat()
            except ValueError:
                out = None
        if out is None and len(text) >= 10 and text[4] == "-" and text[7] == "-" and text.isascii():
            if len(text) == 10:
                try:
                    date.fromisoformat(text)
                except ValueError:
                    raise CellError(f"not a valid date: {quote(cell)}") from None
                out = text
            elif text[10] in "T ":
                try:
                    datetime.fromisoformat(text)
                    out = text  # a datetime goes as given
                except ValueError:
                    out = None
        if out is None:
            hint = (
                ""
                if fmt or "/" not in text
                else " (for day/month/year pass --date-format %d/%m/%Y)"
            )
            raise CellError(f"not a date, expected {expected}{hint}: {quote(cell)}")
        day = out[:10]
        if low is not None and day < low:
            raise CellError(f"must be {low} or later, got {quote(cell)}")
        if high is not None and day > high:
            raise CellError(f"must be {high} or earlier, got {quote(cell)}")
        return out

    return convert


def code_converter(options: ExportOptions) -> Converter:
    """One code, trimmed (simple select, family, parent...)."""
    sep = options.value_separator

    def convert(cell: str) -> str:
        code = cell.strip()
        if sep in code:
            raise CellError(f"takes one code, got several: {quote(cell)}")
        return code

    return convert


def codes_converter(options: ExportOptions) -> Converter:
    """Codes split on the separator: trimmed, empty and repeated ones dropped, order kept."""
    sep = options.value_separator

    def convert(cell: str) -> list[str] | _Empty:
        if sep not in cell:
            code = cell.strip()
            return [code] if code else EMPTY
        parts = cell.split(sep)
        if len(parts) > 16:
            codes = list(dict.fromkeys(c for c in (p.strip() for p in parts) if c))
            return codes if codes else EMPTY
        codes = []
        for part in parts:
            code = part.strip()
            # a short list: scanning it beats building a set
            if code and code not in codes:
                codes.append(code)
        return codes if codes else EMPTY

    return convert


_HEX: Final = frozenset("0123456789abcdefABCDEF")


def is_uuid(text: str) -> bool:
    """The canonical 8-4-4-4-12 hexadecimal form Akeneo accepts."""
    return (
        len(text) == 36
        and text[8] == text[13] == text[18] == text[23] == "-"
        and _HEX.issuperset(text.replace("-", ""))
    )


def to_uuid(cell: str) -> str:
    value = cell.strip()
    if not is_uuid(value):
        raise CellError(
            f"not a valid UUID (like 25566245-55c3-42ce-86d9-8610ac459fa8): {quote(cell)}"
        )
    return value


def uuids_converter(options: ExportOptions) -> Converter:
    """UUIDs split on the separator, like codes, each checked."""
    codes = codes_converter(options)

    def convert(cell: str) -> list[str] | _Empty:
        values: list[str] | _Empty = codes(cell)
        if isinstance(values, list):
            for value in values:
                if not is_uuid(value):
                    raise CellError(f"not a valid UUID: {quote(value)} in {quote(cell)}")
        return values

    return convert


# ---------------------------------------------------------------------------
# prices and measures


def _price(attribute: Attribute, catalog: Catalog, options: ExportOptions) -> Converter:
    sep = options.value_separator
    amount = amount_parser(attribute, options)
    check_currency = catalog.checks_currencies
    enabled = catalog.enabled_currencies
    enabled_list = ", ".join(sorted(enabled)) or "none"

    currencies: dict[str, str] = {}  # currency as written -> its checked code
    numeric_start = frozenset("0123456789+-" + options.decimal_separator)

    def currency_code(currency: str, text: str) -> str:
        code = currencies.get(currency)
        if code is not None:
            return code
        code = currency.upper()
        if not (code.isalpha() and code.isascii()):
            raise CellError(
                f'expected an amount and a currency like "740.00 EUR", got {quote(text)}'
            )
        if check_currency and code not in enabled:
            raise CellError(
                f"currency {code} is not enabled in the PIM (enabled: {enabled_list}), "
                f"got {quote(text)}"
            )
        if len(currencies) < 256:
            currencies[currency] = code
        return code

    def item(raw: str) -> tuple[str, int | str]:
        text = raw.strip()  # parsed trimmed, quoted as read
        parts = text.split()
        if len(parts) == 2:
            first, second = parts
            if first[0] in numeric_start:
                number, currency = first, second
            elif second[0] in numeric_start:
                currency, number = first, second
            else:
                raise _not_a_number(raw, options.decimal_separator, "an amount")
        elif len(parts) == 1:
            # glued: "740.00EUR" or "EUR740.00"
            i = len(text)
            while i and text[i - 1].isalpha():
                i -= 1
            if 0 < i < len(text):
                number, currency = text[:i], text[i:]
            else:
                j = 0
                while j < len(text) and text[j].isalpha():
                    j += 1
                if not 0 < j < len(text):
                    if j == 0:
                        raise CellError(f'no currency in {quote(raw)}; write it like "740.00 EUR"')
                    raise CellError(f'no amount in {quote(raw)}; write it like "740.00 EUR"')
                currency, number = text[:j], text[j:]
        else:
            raise CellError(
                f'expected an amount and a currency like "740.00 EUR", got {quote(raw)}'
            )
        code = currency_code(currency, raw)
        try:
            return code, amount(number)
        except CellError as exc:
            sep = options.decimal_separator
            if _split_number(number, sep) is None:
                raise _not_a_number(raw, sep, "an amount", number) from None
            raise CellError(f"{exc} (in {quote(raw)})") from None

    def convert(cell: str) -> list[dict[str, Any]] | _Empty:
        out: list[dict[str, Any]] = []
        seen: dict[str, int | str] = {}
        for raw in cell.split(sep) if sep in cell else (cell,):
            parts = raw.split()
            if not parts:
                continue
            if len(parts) == 2 and parts[0][0].isdigit():
                # the usual "740.00 EUR", without the detours of item()
                code = currencies.get(parts[1]) or currency_code(parts[1], raw)
                try:
                    value = amount(parts[0])
                except CellError:
                    code, value = item(raw)
            else:
                code, value = item(raw)
            previous = seen.get(code)
            if previous is not None:
                if _same(previous, value):
                    continue
                raise CellError(f"two amounts for {code}, give one per currency: {quote(cell)}")
            seen[code] = value
            out.append({"amount": value, "currency": code})
        return out if out else EMPTY

    return convert


def _metric(attribute: Attribute, catalog: Catalog, options: ExportOptions) -> Converter:
    lookup = catalog.unit_lookup(attribute.metric_family or "")
    amount = amount_parser(attribute, options)
    number_chars = frozenset("0123456789+-" + options.decimal_separator)
    default = attribute.default_metric_unit
    default_unit = (lookup.resolve(default) or default) if default else None
    found: dict[str, str] = {}  # unit as written -> Akeneo code; feeds repeat a few units

    def convert(cell: str) -> dict[str, Any]:
        text = cell.strip()
        head, _, rest = text.partition(" ")
        if rest:
            number, unit_text = head, rest.strip()
        else:
            i = 0
            while i < len(text) and text[i] in number_chars:
                i += 1
            number, unit_text = text[:i], text[i:].strip()
        if not number or number[0] not in number_chars:
            raise CellError(
                f'expected an amount and a unit like "3000.00 MMT" or "3 kg", got {quote(cell)}'
            )
        try:
            value = amount(number)
        except CellError as exc:
            sep = options.decimal_separator
            if _split_number(number, sep) is None:
                raise _not_a_number(cell, sep, "an amount", number) from None
            raise CellError(f"{exc} (in {quote(cell)})") from None
        if unit_text:
            unit = found.get(unit_text)
            if unit is None:
                unit = lookup.resolve(unit_text)
                if unit is None:
                    raise CellError(f"{lookup.explain(unit_text)}; got {quote(cell)}")
                if len(found) < 1024:
                    found[unit_text] = unit
        elif default_unit is not None:
            unit = default_unit
        else:
            raise CellError(
                f'no unit, and the attribute has no default unit; write it like "3 KILOGRAM", '
                f"got {quote(cell)}"
            )
        return {"amount": value, "unit": unit}

    return convert


# ---------------------------------------------------------------------------
# media and JSON


MEDIA_TYPES: Final = frozenset({"pim_catalog_file", "pim_catalog_image"})

#: Akeneo's file-info key: four one-character folders, a 40-hex hash, ``_``, the file name
_MEDIA_CODE = re.compile(r"[0-9a-f]/[0-9a-f]/[0-9a-f]/[0-9a-f]/[0-9a-f]{40}_[^/]+")
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")

MediaKind = Literal["code", "url", "path"]


def media_source(cell: str) -> tuple[MediaKind, str]:
    """What a file or image cell holds: a media-file code, an http(s) URL or a relative path.

    The text is trimmed. Any other scheme (``ftp:``, ``file:``, ``data:``...) is a
    ``CellError``; whether a path stays inside the feed's folder is the media stage's check.

    >>> media_source(" https://cdn.example.com/a.jpg ")
    ('url', 'https://cdn.example.com/a.jpg')
    >>> media_source("pictures/a.jpg")
    ('path', 'pictures/a.jpg')
    """
    text = cell.strip()
    if _MEDIA_CODE.fullmatch(text):
        return "code", text
    scheme = _SCHEME.match(text)
    if scheme is not None and len(scheme.group(1)) > 1:  # one letter: a Windows drive
        name = scheme.group(1).lower()
        if name in ("http", "https"):
            rest = text[scheme.end() :]
            if not rest.startswith("//") or len(rest) <= 2 or rest[2] in "/?#":
                raise CellError(f"not a complete URL (no host): {quote(cell)}")
            return "url", text
        raise CellError(
            f"{name}: links are not fetched; give an http(s) URL, a path relative to the "
            f"feed's folder or a media-file code: {quote(cell)}"
        )
    return "path", text


def check_media_name(name: str, allowed: frozenset[str], cell: str) -> None:
    """CellError when ``name`` has an extension outside ``allowed`` (empty: anything goes)."""
    if not allowed:
        return
    base = name.rsplit("/", 1)[-1]
    if "." in base:
        ext = base.rsplit(".", 1)[-1].lower()
        if ext not in allowed:
            raise CellError(
                f"file type .{ext} is not allowed here (allowed: {', '.join(sorted(allowed))}), "
                f"got {quote(cell)}"
            )


def media_extensions(attribute: Attribute) -> frozenset[str]:
    """The attribute's ``allowed_extensions``, lower case, without dots (empty: any)."""
    return frozenset(ext.lower().lstrip(".") for ext in attribute.allowed_extensions)


def _media(attribute: Attribute) -> Converter:
    allowed = media_extensions(attribute)

    def convert(cell: str) -> str:
        code = cell.strip()
        check_media_name(code, allowed, cell)
        return code

    return convert


def _json(kind: str) -> Converter:
    def convert(cell: str) -> Any:
        try:
            data = orjson.loads(cell)
        except orjson.JSONDecodeError as exc:
            raise CellError(
                f"not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno}): "
                f"{quote(cell)}"
            ) from None
        if kind == "pim_catalog_table":
            if not (isinstance(data, list) and all(isinstance(row, dict) for row in data)):
                raise CellError(
                    'a table is a JSON array of rows like [{"column": "value"}], '
                    f"got {quote(cell)}"
                )
        elif not isinstance(data, dict):
            raise CellError(
                f'a product link is a JSON object like {{"type": "product", "identifier": "x"}}, '
                f"got {quote(cell)}"
            )
        return data

    return convert


# ---------------------------------------------------------------------------
# dispatch


def value_converter(
    attribute: Attribute, catalog: Catalog, options: ExportOptions
) -> Converter | None:
    """The converter for one attribute column, or None when the cell goes as read."""
    kind = attribute.type
    if kind in TEXT_TYPES:
        return _text(attribute)
    if kind == "pim_catalog_number":
        return _number(attribute, options)
    if kind == "pim_catalog_boolean":
        return to_boolean
    if kind == "pim_catalog_date":
        return _date(attribute, options)
    if kind in CODE_TYPES:
        return code_converter(options)
    if kind in CODES_TYPES:
        return codes_converter(options)
    if kind == "pim_catalog_price_collection":
        return _price(attribute, catalog, options)
    if kind == "pim_catalog_metric":
        return _metric(attribute, catalog, options)
    if kind in MEDIA_TYPES:
        return _media(attribute)
    if kind in ("pim_catalog_table", "pim_catalog_product_link"):
        return _json(kind)
    return None  # any other type: the string as read


# ---------------------------------------------------------------------------
# top-level fields and associations

#: fields whose empty cell may erase under ``--empty-cells erase``, and with what
ERASABLE_FIELDS: Final[dict[str, list[Any] | None]] = {
    "family": None,
    "parent": None,
    "categories": [],
    "groups": [],
}


def field_converter(name: str, options: ExportOptions) -> Converter:
    """The converter of a top-level field (``identifier``, ``uuid``, ``code`` included)."""
    if name in ("categories", "add_categories", "remove_categories", "groups"):
        return codes_converter(options)
    if name == "enabled":
        return to_boolean
    if name == "uuid":
        return to_uuid
    if name == "identifier":
        return identifier_converter
    return code_converter(options)  # code, family, family_variant, parent


def identifier_converter(cell: str) -> str:
    """A product identifier: trimmed; Akeneo refuses commas and semicolons in it.

    (It refuses leading and trailing spaces too: trimming removes them.)
    """
    value = cell.strip()
    if "," in value or ";" in value:
        raise CellError(f"an identifier may not contain a comma or a semicolon: {quote(cell)}")
    return value


def limited_identifier_converter(attribute: Attribute | None) -> Converter:
    """``identifier_converter`` within the identifier attribute's ``max_characters``.

    >>> convert = limited_identifier_converter(
    ...     Attribute(code="sku", type="pim_catalog_identifier", max_characters=3))
    >>> convert(" AB1 ")
    'AB1'
    """
    limit = attribute.max_characters if attribute is not None else None
    if not limit or attribute is None:
        return identifier_converter
    code = attribute.code

    def convert(cell: str) -> str:
        value = identifier_converter(cell)
        if len(value) > limit:
            raise CellError(
                f"is {len(value)} characters long, over the limit of {limit} set by the "
                f"identifier attribute {code}: {quote(value)}"
            )
        return value

    return convert


def association_converter(options: ExportOptions, *, uuids: bool) -> Converter:
    """Codes of an association column; UUIDs when the targets are products by uuid."""
    return uuids_converter(options) if uuids else codes_converter(options)


def quantified_converter(options: ExportOptions, *, key: str) -> Converter:
    """``code|quantity`` items -> ``[{key: code, "quantity": n}]`` (key: identifier or uuid)."""
    sep = options.value_separator
    uuids = key == "uuid"

    def convert(cell: str) -> list[dict[str, Any]] | _Empty:
        out: list[dict[str, Any]] = []
        seen: dict[str, int] = {}
        for raw in cell.split(sep) if sep in cell else (cell,):
            text = raw.strip()
            if not text:
                continue
            code, bar, count = text.rpartition("|")
            code, count = code.strip(), count.strip()
            if not bar or not code:
                raise CellError(f'expected items like "code|quantity", got {quote(text)}')
            if not (count.isdigit() and count.isascii()) or len(count) > 18 or int(count) == 0:
                raise CellError(f"quantity must be a whole number above 0, got {quote(text)}")
            if uuids and not is_uuid(code):
                raise CellError(f"not a valid UUID: {quote(code)} in {quote(text)}")
            quantity = int(count)
            previous = seen.get(code)
            if previous is not None:
                if previous == quantity:
                    continue
                raise CellError(f"two quantities for {quote(code)}: {quote(cell)}")
            seen[code] = quantity
            out.append({key: code, "quantity": quantity})
        return out if out else EMPTY

    return convert
