"""Codecs: cell text <-> Akeneo value data, both ways, one codec per column, chosen once.

A ``Codec`` holds a column's two conversions side by side, built from the attribute's
type (or the field's name) when the layout is compiled, with everything they need
(limits, units, currencies, separators) bound in:

- ``decode``: cell -> data, what a push sends. It is called with cells that are not
  blank (the caller handles empty cells); a cell that breaks a rule raises ``CellError``
  whose text says what is wrong and quotes the value, without the header (the caller
  prefixes it). A list cell made only of separators returns ``EMPTY``, which the caller
  treats like an empty cell. The hot path is one call and a few string methods.
- ``encode``: data as the PIM holds it -> the cell that a push reads back (what a pull
  writes): prices ``19.99 EUR<###>21.99 USD``, metrics ``180 GRAM`` (Akeneo unit codes),
  booleans ``true`` / ``false``, dates in the configured format, codes joined with the
  value separator, tables as JSON. Data that no cell can carry (a code holding the value
  separator, data of the wrong shape) raises ``CellError``.

For data the PIM can hold, ``decode(encode(data)) == data``; for a valid cell,
``encode(decode(cell))`` is its normalised form (trimmed codes, repeats dropped, units by
their Akeneo code, ``TRUE`` as ``true``, ``0012.50`` as ``12.50``).

>>> from feed_export.catalog.structure import Attribute, Catalog
>>> from feed_export.config import ExportOptions
>>> weight = Attribute(code="weight", type="pim_catalog_metric", metric_family="Weight",
...                    decimals_allowed=False, default_metric_unit="KILOGRAM")
>>> codec = value_codec(weight, Catalog(), ExportOptions())
>>> codec.decode("3 KGM"), codec.decode("4")
({'amount': 3, 'unit': 'KILOGRAM'}, {'amount': 4, 'unit': 'KILOGRAM'})
>>> codec.encode({"amount": 3, "unit": "KILOGRAM"})
'3 KILOGRAM'
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_FLOOR, Decimal
from operator import methodcaller
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
#: data (not None) -> cell text; raises CellError
Encoder = Callable[[Any], str]
#: a compiled regex's ``fullmatch``
_Matcher = Callable[..., "re.Match[str] | None"]

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
MEDIA_TYPES: Final = frozenset({"pim_catalog_file", "pim_catalog_image"})
JSON_TYPES: Final = frozenset({"pim_catalog_table", "pim_catalog_product_link"})


@dataclass(frozen=True, slots=True)
class Codec:
    """One column's two conversions, side by side (see the module docstring).

    ``as_read``: ``decode`` returns the cell unchanged, so a caller may skip the call.
    """

    decode: Converter
    encode: Encoder
    as_read: bool = False

    def to_cell(self, data: Any) -> str:
        """The cell for ``data``; ``None`` and ``[]`` (the PIM holds nothing) are empty."""
        if data is None or (data.__class__ is list and not data):
            return ""
        return self.encode(data)


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


def _shown(data: Any) -> str:
    """Data that an encoder cannot write, as its message quotes it."""
    return quote(data if isinstance(data, str) else repr(data))


def _wrong(data: Any, expected: str) -> CellError:
    return CellError(f"cannot write {_shown(data)} in a cell: expected {expected}")


def _as_read(cell: str) -> str:
    return cell


def _no_match(text: str) -> re.Match[str] | None:
    """A regex that never matches (a shortcut that does not apply)."""
    return None


def _text_cell(data: Any) -> str:
    if data.__class__ is not str:
        raise _wrong(data, "text")
    text: str = data
    return text


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


def _plain_numerals(
    low: Decimal | None, high: Decimal | None, decimals: bool, negative: bool, sep: str
) -> str | None:
    """A regex for the numerals that need no work: the amount is the cell itself.

    No leading zero, no exponent, no ``+``, a ``-`` only where negative numbers are
    allowed and there is no minimum, and few enough whole digits to lie within the limits
    whatever they are: ``12``, ``0.5``, ``385.49``, ``-3`` (``int()`` of it when decimals
    are not allowed, with ``.`` put for a ``,`` mark). One regex match instead of a dozen
    string methods and a Decimal. None when every numeral needs the full parse (a
    positive minimum, an infinite limit, a maximum under 1).
    """
    if low is not None and not (low.is_finite() and low <= 0):
        return None
    if high is None:
        digits, first = 18, 0  # 18 digits stay under PHP_INT_MAX
    elif high.is_finite() and high >= 1:
        ceiling = str(int(high.to_integral_value(ROUND_FLOOR)))
        # numerals under 10**digits, or of one digit more with a smaller first digit
        digits, first = min(len(ceiling) - 1, 18), int(ceiling[0])
    else:
        return None
    wholes = []  # without a leading zero
    if digits:
        wholes.append(f"[1-9][0-9]{{0,{digits - 1}}}")
    if first > 1:
        # (with 19 digits, a first digit under 9 keeps it under PHP_INT_MAX too)
        wholes.append(f"[1-{first - 1}][0-9]{{{digits}}}")
    fraction = f"(?:{re.escape(sep)}[0-9]+)?" if decimals else ""
    source = "|".join(["0", *wholes])
    if negative and low is None and wholes:
        # "-0" is read as 0: not the cell itself
        source = f"-?(?:{'|'.join(wholes)})|0"
    return f"(?:{source}){fraction}"


@dataclass(frozen=True, slots=True)
class _Amounts:
    """How one attribute's amounts are read: the parser, and its shortcut for plain numerals."""

    parse: Callable[[str], int | str]
    plain: str | None  # regex source of the numerals ``parse`` takes as they are
    plain_value: Callable[[str], int | str]  # what ``parse`` gives for such a numeral


def _amounts(attribute: Attribute, options: ExportOptions) -> _Amounts:
    sep = options.decimal_separator
    decimals = attribute.decimals_allowed is not False
    no_negative = attribute.negative_allowed is False
    low, high = Catalog.number_limits(attribute)
    bounded = low is not None or high is not None
    plain_source = _plain_numerals(low, high, decimals, not no_negative, sep)
    plain = re.compile(plain_source).fullmatch if plain_source is not None else None
    # C-level callables: no Python frame per amount
    plain_value: Callable[[str], int | str] = (
        int if not decimals else str if sep == "." else methodcaller("replace", sep, ".")
    )

    def check(value: Decimal | int, cell: str) -> None:
        if no_negative and value < 0:
            raise CellError(f"negative numbers are not allowed here, got {quote(cell)}")
        if low is not None and value < low:
            raise CellError(f"must be at least {_show(low)}, got {quote(cell)}")
        if high is not None and value > high:
            raise CellError(f"must be at most {_show(high)}, got {quote(cell)}")

    def parse(cell: str) -> int | str:
        if plain is not None and plain(cell) is not None:
            return plain_value(cell)
        # messages quote the cell as read: trimmed, "\t=1+1" would show as "=1+1"
        parts = _split_number(cell.strip(), sep)
        if parts is None:
            raise _not_a_number(cell, sep)
        negative, whole, fraction = parts
        if negative and whole == "0" and not fraction.strip("0"):
            negative = False  # "-0" and "-0.00" are zero
        if decimals:
            result = ("-" + whole if negative else whole) + ("." + fraction if fraction else "")
            if bounded or (negative and no_negative):
                check(Decimal(result), cell)
            return result
        if fraction.strip("0"):
            raise CellError(f"decimals are not allowed here, got {quote(cell)}")
        # int() refuses over 4,300 digits: the length decides first
        if len(whole) > 18 and (len(whole) > 19 or int(whole) > PHP_INT_MAX):
            raise CellError(f"too large (the PIM's limit is {PHP_INT_MAX}), got {quote(cell)}")
        integer = -int(whole) if negative else int(whole)
        if bounded or no_negative:
            check(integer, cell)
        return integer

    return _Amounts(parse, plain_source, plain_value)


def amount_parser(attribute: Attribute, options: ExportOptions) -> Callable[[str], int | str]:
    """Parse an amount (surrounding spaces ignored) as the attribute wants it, checking limits.

    Integer (JSON int) when ``decimals_allowed`` is false (a zero fraction is fine),
    else a decimal string with ``.`` as its mark. ``number_min``, ``number_max`` and
    ``negative_allowed`` come from the catalog.
    """
    return _amounts(attribute, options).parse


def amount_cell(data: Any, mark: str = ".") -> str:
    """An amount as the PIM holds it (int, decimal string, Decimal) -> its cell text.

    >>> amount_cell(12), amount_cell("12.5000", ","), amount_cell(Decimal("1E+2"))
    ('12', '12,5000', '100')
    """
    kind = data.__class__
    if kind is int:
        return str(data)
    if kind is str:
        text: str = data
        parts = _split_number(text, ".")
        if parts is None or text != text.strip() or text.startswith("+"):
            raise _wrong(data, "a number")
    elif kind is Decimal or kind is float:
        number = Decimal(str(data))
        if not number.is_finite():
            raise _wrong(data, "a number")
        text = format(number, "f")
    else:
        raise _wrong(data, "a number")
    return text if mark == "." else text.replace(".", mark)


def _number(attribute: Attribute, options: ExportOptions) -> Codec:
    mark = options.decimal_separator

    def encode(data: Any) -> str:
        return amount_cell(data, mark)

    return Codec(amount_parser(attribute, options), encode)


# ---------------------------------------------------------------------------
# text, booleans, dates, codes


def _text(attribute: Attribute) -> Codec:
    limit = attribute.max_characters
    if not limit:
        return Codec(_as_read, _text_cell, as_read=True)  # the caller skips the call

    def decode(cell: str) -> str:
        if len(cell) > limit:
            raise CellError(
                f"is {len(cell)} characters long, over this attribute's limit of {limit}: "
                f"{quote(cell)}"
            )
        return cell

    return Codec(decode, _text_cell)


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


def boolean_cell(data: Any) -> str:
    """``true`` or ``false``."""
    if data is True:
        return "true"
    if data is False:
        return "false"
    raise _wrong(data, "true or false")


BOOLEAN: Final = Codec(to_boolean, boolean_cell)


#: a date and time whose every field differs, to try a --date-format on
_SAMPLE_TIME: Final = datetime(2001, 2, 3, 4, 5, 6)


def check_date_format(fmt: str) -> None:
    """ConfigError unless ``fmt`` is a strftime format that reads back what it writes."""
    try:
        datetime.strptime(_SAMPLE_TIME.strftime(fmt), fmt)
    except ValueError as exc:
        raise ConfigError(f"--date-format {fmt!r} is not a usable strftime format: {exc}") from None


def _date(attribute: Attribute, options: ExportOptions) -> Codec:
    fmt = options.date_format
    if fmt:
        check_date_format(fmt)
    low = attribute.date_min[:10] if attribute.date_min else None
    high = attribute.date_max[:10] if attribute.date_max else None
    expected = "YYYY-MM-DD or an ISO-8601 datetime" + (f" or {fmt}" if fmt else "")

    def decode(cell: str) -> str:
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
                else " (for day/month/year pass --date-format dd/MM/yyyy)"
            )
            raise CellError(f"not a date, expected {expected}{hint}: {quote(cell)}")
        day = out[:10]
        if low is not None and day < low:
            raise CellError(f"must be {low} or later, got {quote(cell)}")
        if high is not None and day > high:
            raise CellError(f"must be {high} or earlier, got {quote(cell)}")
        return out

    def encode(data: Any) -> str:
        # the PIM gives a date as a datetime at midnight ("2021-04-29T00:00:00+00:00"):
        # the cell holds the day, which is what a date attribute keeps
        if data.__class__ is not str:
            raise _wrong(data, "a date")
        try:
            day = date.fromisoformat(data[:10])
        except ValueError:
            raise _wrong(data, "a date") from None
        return day.strftime(fmt) if fmt else day.isoformat()

    return Codec(decode, encode)


def _code_cell(sep: str) -> Encoder:
    def encode(data: Any) -> str:
        if data.__class__ is not str:
            raise _wrong(data, "a code")
        code: str = data
        if sep in code:
            raise CellError(
                f"cannot write {quote(code)} in a cell: it holds the value separator "
                f"{quote(sep)}; choose another --value-separator"
            )
        return code

    return encode


def _codes_cell(sep: str, item: Encoder | None = None) -> Encoder:
    """Items joined with the separator, each written by ``item`` (default: a code)."""
    write = item or _code_cell(sep)

    def encode(data: Any) -> str:
        if data.__class__ is not list:
            raise _wrong(data, "a list")
        return sep.join([write(code) for code in data])

    return encode


def code_codec(options: ExportOptions) -> Codec:
    """One code: trimmed; a cell with the separator in it is refused."""
    sep = options.value_separator

    def decode(cell: str) -> str:
        code = cell.strip()
        if sep in code:
            raise CellError(f"takes one code, got several: {quote(cell)}")
        return code

    return Codec(decode, _code_cell(sep))


def codes_codec(options: ExportOptions) -> Codec:
    """Codes split on (and joined with) the separator; see ``codes_converter``."""
    sep = options.value_separator

    def decode(cell: str) -> list[str] | _Empty:
        if sep not in cell:
            code = cell.strip()
            return [code] if code else EMPTY
        parts = cell.split(sep)
        if len(parts) > 16:
            # a long list: a dict keeps the first of each code in order
            codes = list(dict.fromkeys(c for c in (p.strip() for p in parts) if c))
            return codes if codes else EMPTY
        codes = []
        for part in parts:
            code = part.strip()
            # a short list: scanning it beats building a set
            if code and code not in codes:
                codes.append(code)
        return codes if codes else EMPTY

    return Codec(decode, _codes_cell(sep))


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


def _uuid_cell(data: Any) -> str:
    if data.__class__ is not str or not is_uuid(data):
        raise _wrong(data, "a UUID")
    text: str = data
    return text


UUID: Final = Codec(to_uuid, _uuid_cell)


def _uuids(options: ExportOptions) -> Codec:
    codes = codes_codec(options).decode

    def decode(cell: str) -> list[str] | _Empty:
        values: list[str] | _Empty = codes(cell)
        if isinstance(values, list):
            for value in values:
                if not is_uuid(value):
                    raise CellError(f"not a valid UUID: {quote(value)} in {quote(cell)}")
        return values

    return Codec(decode, _codes_cell(options.value_separator, _uuid_cell))


# ---------------------------------------------------------------------------
# prices and measures


def _price(attribute: Attribute, catalog: Catalog, options: ExportOptions) -> Codec:
    sep = options.value_separator
    mark = options.decimal_separator
    amounts = _amounts(attribute, options)
    amount = amounts.parse
    check_currency = catalog.checks_currencies
    enabled = catalog.enabled_currencies
    enabled_list = ", ".join(sorted(enabled)) or "none"
    plain_value = amounts.plain_value
    # the usual cell, one to three plain items written alike ("740.00 EUR<###>12 USD",
    # "EUR 740.00"), is read by one regex; anything else item by item, below
    amount_first: _Matcher = _no_match
    currency_first: _Matcher = _no_match
    if amounts.plain is not None:
        also = re.escape(sep)
        item = f"({amounts.plain}) ?([A-Za-z]+)"
        amount_first = re.compile(f"{item}(?:{also}{item}(?:{also}{item})?)?").fullmatch
        item = f"([A-Za-z]+) ?({amounts.plain})"
        currency_first = re.compile(f"{item}(?:{also}{item}(?:{also}{item})?)?").fullmatch

    currencies: dict[str, str] = {}  # currency as written -> its checked code
    numeric_start = frozenset("0123456789+-" + mark)

    def currency_code(currency: str, text: str) -> str:
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

    def one(raw: str) -> tuple[str, int | str]:
        text = raw.strip()  # parsed trimmed, quoted as read
        parts = text.split()
        if len(parts) == 2:
            first, second = parts
            # (any digit: "٣ XYZ" is refused for its currency, as it always was)
            if first[0] in numeric_start or first[0].isdigit():
                number, currency = first, second
            elif second[0] in numeric_start:
                currency, number = first, second
            else:
                raise _not_a_number(raw, mark, "an amount")
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
            if _split_number(number, mark) is None:
                raise _not_a_number(raw, mark, "an amount", number) from None
            raise CellError(f"{exc} (in {quote(raw)})") from None

    def decode(cell: str) -> list[dict[str, Any]] | _Empty:
        found = amount_first(cell)
        if found is not None:
            amount1, written1, amount2, written2, amount3, written3 = found.groups()
        else:
            found = currency_first(cell)
            if found is not None:
                written1, amount1, written2, amount2, written3, amount3 = found.groups()
        if found is not None:
            # plain amounts, taken as they are (what amount() returns for them), in
            # currencies met before (else messages would need the item): no repeats
            code1 = currencies.get(written1)
            if code1 is not None:
                out = [{"amount": plain_value(amount1), "currency": code1}]
                if amount2 is None:
                    return out
                code2 = currencies.get(written2)
                if code2 is not None and code2 != code1:
                    out.append({"amount": plain_value(amount2), "currency": code2})
                    if amount3 is None:
                        return out
                    code3 = currencies.get(written3)
                    if code3 is not None and code3 != code1 and code3 != code2:
                        out.append({"amount": plain_value(amount3), "currency": code3})
                        return out
        return items(cell)

    def items(cell: str) -> list[dict[str, Any]] | _Empty:
        out: list[dict[str, Any]] = []
        seen: dict[str, int | str] = {}
        for raw in cell.split(sep):
            if not raw or raw.isspace():
                continue
            code, value = one(raw)
            previous = seen.get(code)
            if previous is not None:
                if _same(previous, value):
                    continue
                raise CellError(f"two amounts for {code}, give one per currency: {quote(cell)}")
            seen[code] = value
            out.append({"amount": value, "currency": code})
        return out if out else EMPTY

    def encode(data: Any) -> str:
        if data.__class__ is not list:
            raise _wrong(data, "a list of prices")
        cells = []
        for price in data:
            if price.__class__ is not dict or price.get("currency").__class__ is not str:
                raise _wrong(price, 'a price like {"amount": "19.99", "currency": "EUR"}')
            if price.get("amount") is None:
                continue  # the PIM keeps an empty price per currency: nothing to write
            cells.append(f"{amount_cell(price['amount'], mark)} {price['currency']}")
        return sep.join(cells)

    return Codec(decode, encode)


def _metric(attribute: Attribute, catalog: Catalog, options: ExportOptions) -> Codec:
    lookup = catalog.unit_lookup(attribute.metric_family or "")
    mark = options.decimal_separator
    amounts = _amounts(attribute, options)
    amount = amounts.parse
    plain_value = amounts.plain_value
    number_chars = frozenset("0123456789+-" + mark)
    default = attribute.default_metric_unit
    default_unit = (lookup.resolve(default) or default) if default else None
    found: dict[str, str] = {}  # unit as written -> Akeneo code; feeds repeat a few units
    # "3 kg" and "3kg" with a plain amount: read by one regex; the unit starts where the
    # amount's characters end, as below
    plain: _Matcher = _no_match
    if amounts.plain is not None:
        not_number = "".join(re.escape(c) for c in sorted(number_chars))
        plain = re.compile(f"({amounts.plain}) ?([^\\s{not_number}]\\S*)").fullmatch

    def unit_of(unit_text: str, cell: str) -> str:
        unit = lookup.resolve(unit_text)
        if unit is None:
            raise CellError(f"{lookup.explain(unit_text)}; got {quote(cell)}")
        if len(found) < 1024:
            found[unit_text] = unit
        return unit

    def decode(cell: str) -> dict[str, Any]:
        match = plain(cell)
        if match is not None:
            number, unit_text = match.groups()
            return {
                "amount": plain_value(number),
                "unit": found.get(unit_text) or unit_of(unit_text, cell),
            }
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
            value: int | str = amount(number)
        except CellError as exc:
            if _split_number(number, mark) is None:
                raise _not_a_number(cell, mark, "an amount", number) from None
            raise CellError(f"{exc} (in {quote(cell)})") from None
        if unit_text:
            unit = found.get(unit_text) or unit_of(unit_text, cell)
        elif default_unit is not None:
            unit = default_unit
        else:
            raise CellError(
                f'no unit, and the attribute has no default unit; write it like "3 KILOGRAM", '
                f"got {quote(cell)}"
            )
        return {"amount": value, "unit": unit}

    def encode(data: Any) -> str:
        if data.__class__ is not dict or data.get("unit").__class__ is not str:
            raise _wrong(data, 'a measure like {"amount": "180", "unit": "GRAM"}')
        if data.get("amount") is None:
            return ""
        return f"{amount_cell(data['amount'], mark)} {data['unit']}"

    return Codec(decode, encode)


# ---------------------------------------------------------------------------
# media and JSON


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


def _media_cell(data: Any) -> str:
    """A media-file code (``a/b/c/d/<hash>_name.jpg``) as it is."""
    if data.__class__ is not str or not data or data != data.strip():
        raise _wrong(data, "a media-file code")
    code: str = data
    return code


def _media(attribute: Attribute) -> Codec:
    allowed = media_extensions(attribute)

    def decode(cell: str) -> str:
        code = cell.strip()
        check_media_name(code, allowed, cell)
        return code

    return Codec(decode, _media_cell)


def _json_cell(data: Any) -> str:
    try:
        return orjson.dumps(data).decode()
    except TypeError as exc:  # orjson.JSONEncodeError
        raise _wrong(data, f"JSON data ({exc})") from None


def _json(kind: str) -> Codec:
    def decode(cell: str) -> Any:
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

    return Codec(decode, _json_cell)


def _other_cell(data: Any) -> str:
    """Any other type: text as it is, anything else as JSON."""
    if data.__class__ is str:
        text: str = data
        return text
    return _json_cell(data)


# ---------------------------------------------------------------------------
# dispatch


def value_codec(attribute: Attribute, catalog: Catalog, options: ExportOptions) -> Codec:
    """The codec of one attribute column, by the attribute's type."""
    kind = attribute.type
    if kind in TEXT_TYPES:
        return _text(attribute)
    if kind == "pim_catalog_number":
        return _number(attribute, options)
    if kind == "pim_catalog_boolean":
        return BOOLEAN
    if kind == "pim_catalog_date":
        return _date(attribute, options)
    if kind in CODE_TYPES:
        return code_codec(options)
    if kind in CODES_TYPES:
        return codes_codec(options)
    if kind == "pim_catalog_price_collection":
        return _price(attribute, catalog, options)
    if kind == "pim_catalog_metric":
        return _metric(attribute, catalog, options)
    if kind in MEDIA_TYPES:
        return _media(attribute)
    if kind in JSON_TYPES:
        return _json(kind)
    return Codec(_as_read, _other_cell, as_read=True)  # any other type: the string as read


def value_converter(
    attribute: Attribute, catalog: Catalog, options: ExportOptions
) -> Converter | None:
    """The cell -> data converter of one attribute column, or None when the cell goes as read."""
    codec = value_codec(attribute, catalog, options)
    return None if codec.as_read else codec.decode


# ---------------------------------------------------------------------------
# top-level fields and associations

#: fields whose empty cell may erase under ``--empty-cells erase``, and with what
ERASABLE_FIELDS: Final[dict[str, list[Any] | None]] = {
    "family": None,
    "parent": None,
    "categories": [],
    "groups": [],
}

LIST_FIELDS: Final = frozenset({"categories", "add_categories", "remove_categories", "groups"})


def field_codec(name: str, options: ExportOptions) -> Codec:
    """The codec of a top-level field (``identifier``, ``uuid``, ``code`` included)."""
    if name in LIST_FIELDS:
        return codes_codec(options)
    if name == "enabled":
        return BOOLEAN
    if name == "uuid":
        return UUID
    if name == "identifier":
        return IDENTIFIER
    return code_codec(options)  # code, family, family_variant, parent


def field_converter(name: str, options: ExportOptions) -> Converter:
    """The cell -> data converter of a top-level field."""
    return field_codec(name, options).decode


def identifier_converter(cell: str) -> str:
    """A product identifier: trimmed; Akeneo refuses commas and semicolons in it.

    (It refuses leading and trailing spaces too: trimming removes them.)
    """
    value = cell.strip()
    if "," in value or ";" in value:
        raise CellError(f"an identifier may not contain a comma or a semicolon: {quote(cell)}")
    return value


IDENTIFIER: Final = Codec(identifier_converter, _text_cell)


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


def association_codec(options: ExportOptions, *, uuids: bool) -> Codec:
    """Codes of an association column; UUIDs when the targets are products by uuid."""
    return _uuids(options) if uuids else codes_codec(options)


def association_converter(options: ExportOptions, *, uuids: bool) -> Converter:
    """The cell -> data converter of an association column."""
    return association_codec(options, uuids=uuids).decode


def quantified_codec(options: ExportOptions, *, key: str) -> Codec:
    """``code|quantity`` items <-> ``[{key: code, "quantity": n}]`` (key: identifier or uuid)."""
    sep = options.value_separator
    uuids = key == "uuid"
    target = _uuid_cell if uuids else _code_cell(sep)

    def decode(cell: str) -> list[dict[str, Any]] | _Empty:
        out: list[dict[str, Any]] = []
        seen: dict[str, int] = {}
        for raw in cell.split(sep):
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

    def encode(data: Any) -> str:
        if data.__class__ is not list:
            raise _wrong(data, "a list of quantified links")
        if "|" in sep:
            raise CellError(
                f"cannot write quantified links with the value separator {quote(sep)}: "
                '"|" marks the quantity; choose another --value-separator'
            )
        cells = []
        for link in data:
            quantity = link.get("quantity") if link.__class__ is dict else None
            if quantity.__class__ is not int or quantity < 1:
                raise _wrong(link, f'a link like {{"{key}": "x", "quantity": 2}}')
            cells.append(f"{target(link.get(key))}|{quantity}")
        return sep.join(cells)

    return Codec(decode, encode)


def quantified_converter(options: ExportOptions, *, key: str) -> Converter:
    """``code|quantity`` items -> ``[{key: code, "quantity": n}]`` (key: identifier or uuid)."""
    return quantified_codec(options, key=key).decode
