"""The argument parser and the checks of flag values, made while parsing, in plain words.

Numbers take their type and range from the option models (``model_number``), and the flags'
defaults are the models' own (``model_defaults``): nothing here repeats a rule of theirs.
"""

from __future__ import annotations

import argparse
import json
import math
from datetime import datetime
from typing import Any, NoReturn

from pydantic import BaseModel

from feed_export.config import date_format_pattern
from feed_export.errors import ConfigError

PROG = "feed-export"


class Parser(argparse.ArgumentParser):
    """argparse, with a usage error in two short lines instead of the whole usage block."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n(run '{self.prog} --help' for the flags)\n")


def model_defaults(model: type[BaseModel]) -> dict[str, Any]:
    """The defaults of an option model's fields: the flags show and use the model's own."""
    return {name: field.default for name, field in model.model_fields.items()}


# --- flag values: checked while parsing, in plain words, with the option models' ranges ---


def number(
    kind: type[int] | type[float],
    *,
    ge: float | None = None,
    gt: float | None = None,
    le: float | None = None,
    unit: str = "",
) -> Any:
    """An argparse ``type`` for a number within bounds; the error names the valid range."""
    units = f" {unit}" if unit else ""
    what = ("a whole number" if kind is int else "a number") + (f" of{units}" if unit else "")
    if ge is not None and le is not None:
        allowed = f"must be from {ge:g} to {le:g}{units}"
    elif gt is not None:
        allowed = f"must be more than {gt:g}{units}"
    elif ge is not None:
        allowed = f"must be {ge:g}{units} or more"
    else:
        allowed = ""

    def parse(text: str) -> int | float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
        if (
            (ge is not None and value < ge)
            or (gt is not None and value <= gt)
            or (le is not None and value > le)
        ):
            raise argparse.ArgumentTypeError(f"{allowed}, got {text}")
        return value

    return parse


def model_number(model: type[BaseModel], name: str, unit: str = "") -> Any:
    """``number`` with the type and bounds of an option model's field."""
    import annotated_types

    field = model.model_fields[name]
    bounds: dict[str, float] = {}
    for rule in field.metadata:
        if isinstance(rule, annotated_types.Ge):
            bounds["ge"] = float(rule.ge)  # type: ignore[arg-type]
        elif isinstance(rule, annotated_types.Gt):
            bounds["gt"] = float(rule.gt)  # type: ignore[arg-type]
        elif isinstance(rule, annotated_types.Le):
            bounds["le"] = float(rule.le)  # type: ignore[arg-type]
    kind: type[int] | type[float] = int if field.annotation is int else float
    return number(kind, unit=unit, **bounds)


def date_format(text: str) -> str:
    """``--date-format``: Akeneo's spelling or a strftime pattern -> the strftime pattern."""
    try:
        return date_format_pattern(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def non_empty(text: str) -> str:
    """Any text but the empty one (a separator, an asset family, a host)."""
    if not text:
        raise argparse.ArgumentTypeError("must not be empty")
    return text


def delimiter(text: str) -> str:
    """``--delimiter``: the one character it names (``;``, ``\\t``, ``tab``...)."""
    from feed_export.feed.reader import check_delimiter

    try:
        value = check_delimiter(text)
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix("the delimiter ")) from None
    assert value is not None
    return value


#: the catalog sections ``catalog pull --without`` may leave out (``OPTIONAL_PULLS``)
PULLED_SECTIONS = (
    "families",
    "family_variants",
    "attribute_options",
    "categories",
    "association_types",
    "product_models",
    "asset_families",
)


def section_list(text: str) -> str:
    """``--without``: comma-separated names of ``PULLED_SECTIONS``."""
    unknown = [c.strip() for c in text.split(",") if c.strip() not in PULLED_SECTIONS]
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown section {unknown[0]!r}; use {', '.join(PULLED_SECTIONS)}"
        )
    return text


def encoding(text: str) -> str:
    """``--encoding``: a name Python's codecs know, e.g. ``latin-1``."""
    import codecs

    try:
        codecs.lookup(text)
    except LookupError:
        raise argparse.ArgumentTypeError(
            f"unknown encoding {text!r}; e.g. utf-8, latin-1, cp1252, utf-16"
        ) from None
    return text


def code_list(text: str) -> tuple[str, ...]:
    """Comma-separated codes, e.g. ``en_US,de_DE``; at least one."""
    codes = tuple(c.strip() for c in text.split(",") if c.strip())
    if not codes:
        raise argparse.ArgumentTypeError("expected comma-separated codes")
    return codes


def date_or_time(text: str) -> datetime:
    """An ISO-8601 date or date and time, e.g. ``2026-03-01T08:00:00+01:00``."""
    try:
        return datetime.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a date or a date and time such as 2026-03-01 or 2026-03-01T08:00:00+01:00,"
            f" got {text!r}"
        ) from None


def search_filter(text: str) -> dict[str, list[dict[str, object]]]:
    """``--search``: a JSON object of property -> list of conditions, as the API takes it."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise argparse.ArgumentTypeError(f"not JSON: {exc.msg} at character {exc.pos}") from None
    example = '{"enabled":[{"operator":"=","value":true}]}'
    if not isinstance(data, dict) or not all(
        isinstance(conditions, list)
        and conditions
        and all(isinstance(c, dict) and isinstance(c.get("operator"), str) for c in conditions)
        for conditions in data.values()
    ):
        raise argparse.ArgumentTypeError(
            f"expected an object of property -> list of conditions with an operator, e.g. {example}"
        )
    return data
