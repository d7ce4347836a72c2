"""Settings of a run: conversion options and PIM connection, validated once at the edge."""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from feed_export.errors import ConfigError

Entity = Literal["products", "products-uuid", "product-models", "assets"]
EmptyCells = Literal["skip", "erase"]

#: the identifier column of each entity
IDENTIFIER_FIELD: dict[str, str] = {
    "products": "identifier",
    "products-uuid": "uuid",
    "product-models": "code",
    "assets": "code",
}

DEFAULT_SEPARATOR = "<###>"

#: how a date format may be written besides strftime: Akeneo's import jobs offer these
#: (yyyy-MM-dd, yyyy/MM/dd, MM/dd/yyyy, dd/MM/yyyy, dd.MM.yyyy); any order of day, month
#: and year with one of these separators is read the same way
_DATE_TOKENS = {"dd": "%d", "d": "%d", "mm": "%m", "m": "%m", "yyyy": "%Y", "yy": "%y"}
_DATE_SPELLING = re.compile(
    r"(d{1,2}|m{1,2}|y{4}|y{2})([/.\- ])(d{1,2}|m{1,2}|y{4}|y{2})\2(d{1,2}|m{1,2}|y{4}|y{2})"
)
DATE_FORMAT_EXAMPLES = (
    "dd/MM/yyyy, MM/dd/yyyy, dd.MM.yyyy, yyyy-MM-dd or a strftime pattern such as %d/%m/%Y"
)
#: a day whose day, month and year differ, to prove a pattern names all three
_SAMPLE_DAY = date(2001, 2, 3)


def date_format_pattern(text: str) -> str:
    """The strftime pattern for a date format written the Akeneo way or as strftime.

    Akeneo's spellings (``dd/MM/yyyy``, ``MM/dd/yyyy``, ``dd.MM.yyyy``, ``yyyy-MM-dd``...,
    any case, as its import job's labels show them) become strftime patterns; a strftime
    pattern must name the day, the month and the year. Raises ``ValueError`` with examples.

    >>> date_format_pattern("dd/MM/yyyy"), date_format_pattern("yyyy-MM-dd")
    ('%d/%m/%Y', '%Y-%m-%d')
    >>> date_format_pattern("%d.%m.%Y")
    '%d.%m.%Y'
    """
    spelled = text.strip()
    found = _DATE_SPELLING.fullmatch(spelled.lower())
    if found:
        parts = [found.group(1), found.group(3), found.group(4)]
        if sorted(p[0] for p in parts) == ["d", "m", "y"]:
            separator = found.group(2)
            return separator.join(_DATE_TOKENS[p] for p in parts)
    if "%" in spelled:
        try:
            back = datetime.strptime(_SAMPLE_DAY.strftime(spelled), spelled).date()
        except ValueError:
            back = None
        if back == _SAMPLE_DAY:
            return spelled
        raise ValueError(
            f"{text!r} does not read back a whole date (it must name the day, the month and "
            f"the year); use {DATE_FORMAT_EXAMPLES}"
        )
    raise ValueError(f"{text!r} is not a date format; use {DATE_FORMAT_EXAMPLES}")


class CellFormat(BaseModel):
    """How cells spell values, the same way in both directions: what a push reads is what a
    pull writes (``ExportOptions`` and ``PullOptions`` share it)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    value_separator: str = Field(default=DEFAULT_SEPARATOR, min_length=1)
    decimal_separator: str = Field(default=".", min_length=1, max_length=1)
    date_format: str | None = None

    @field_validator("date_format")
    @classmethod
    def _date_format(cls, value: str | None) -> str | None:
        # Akeneo's spellings become strftime; a strftime pattern is kept as given (the
        # date codec checks it), anything else is refused here
        if value is None or "%" in value:
            return value
        return date_format_pattern(value)

    @field_validator("decimal_separator")
    @classmethod
    def _decimal_separator(cls, value: str) -> str:
        if value not in {".", ","}:
            raise ValueError("must be '.' or ','")
        return value


class ExportOptions(CellFormat):
    """How a feed is read, decoded and batched. Pure data: no connection details."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    entity: Entity = "products"
    asset_family: str | None = None  # --entity assets: the asset family of the rows
    batch_size: int = Field(default=100, ge=1, le=100)
    empty_cells: EmptyCells = "skip"
    ignore_unknown_columns: bool = False
    # reading
    encoding: str | None = None  # None: UTF-8 (BOM tolerated)
    delimiter: str | None = None  # None: sniffed among , ; TAB |
    sheet: str | None = None  # XLSX sheet name; None: the first
    # how large a feed may be (``feed.table.ReadLimits``): beyond, it is refused unread
    max_feed_size: int = Field(default=4096, ge=1)  # MB, inflated (gzip, XLSX parts)
    max_cells: int = Field(default=30_000_000, ge=1)  # XLSX: the sheet's area, shared strings
    max_columns: int = Field(default=20_000, ge=1)  # header columns
    # writing: escape the feed's own cells in a CSV feedback file too (a spreadsheet
    # would run "=..." as a formula); off, the feedback pushes back unchanged
    safe_feedback: bool = False
    # sending
    dry_run: bool = False
    concurrency: int = Field(default=4, ge=1, le=10)
    create_missing_options: bool = False
    # a value the PIM would drop without a word (a variant's parent-level attribute): sent
    # and reported (False), or its row refused (True)
    refuse_dropped_values: bool = False
    # files named by URL in cells: public addresses only, unless opened here
    allow_media_hosts: tuple[str, ...] = ()  # fetched whatever they resolve to
    allow_private_media: bool = False  # loopback and private ranges too (not link-local)

    @model_validator(mode="after")
    def _asset_family_with_assets(self) -> ExportOptions:
        if self.entity == "assets" and not self.asset_family:
            raise ValueError(
                "an assets feed needs its asset family: pass --asset-family FAMILY with "
                "--entity assets"
            )
        if self.entity != "assets" and self.asset_family:
            raise ValueError(
                "--asset-family names the family of an assets feed: pass it with --entity assets"
            )
        return self

    @property
    def identifier_field(self) -> str:
        return IDENTIFIER_FIELD[self.entity]


class RetrySettings(BaseModel):
    """How hard the client tries before it gives a batch up (names follow dlt's)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    request_timeout: float = Field(default=60.0, gt=0)  # seconds, per read
    request_deadline: float = Field(default=300.0, gt=0)  # seconds, the whole request
    connect_timeout: float = Field(default=10.0, gt=0)
    max_attempts: int = Field(default=6, ge=1, le=20)
    backoff_factor: float = Field(default=1.0, ge=0)  # first wait; doubles each attempt
    max_retry_delay: float = Field(default=60.0, ge=0)  # cap on any single wait


def _is_loopback(host: str) -> bool:
    if host in {"localhost", "localhost.localdomain"}:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class Settings(BaseModel):
    """Where the PIM is and how to log in. Secrets are SecretStr: never printed."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    base_url: str
    client_id: str
    client_secret: SecretStr
    username: str
    password: SecretStr
    allow_insecure_http: bool = False
    verify_tls: bool = True
    retry: RetrySettings = RetrySettings()

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        parts = urlsplit(value)
        try:
            _ = parts.port  # a port that is not a number from 0 to 65535 raises
            port_ok = True
        except ValueError:
            port_ok = False
        if parts.scheme not in {"http", "https"} or not parts.hostname or not port_ok:
            raise ValueError(
                f"must be an http(s) URL such as https://pim.example.com, got {value!r}"
            )
        return value

    def check_transport_security(self) -> None:
        """Refuse plain http to anything but loopback unless explicitly allowed."""
        parts = urlsplit(self.base_url)
        if (
            parts.scheme == "http"
            and not self.allow_insecure_http
            and not _is_loopback(parts.hostname or "")
        ):
            raise ConfigError(
                f"refusing to send credentials over plain http to {parts.hostname}: "
                "use https, or pass --allow-insecure-http if you really mean it"
            )

    def __repr__(self) -> str:  # never show secrets, even by accident
        return (
            f"Settings(base_url={self.base_url!r}, client_id={self.client_id!r}, "
            f"username={self.username!r})"
        )

    __str__ = __repr__


def pim_host(base_url: str) -> str:
    """The PIM's host and port, as messages and the summary name it (never credentials).

    >>> pim_host("https://user:pw@pim.example.com:8443/")
    'pim.example.com:8443'
    """
    parts = urlsplit(base_url)
    host = parts.hostname or base_url
    if ":" in host:  # an IPv6 address
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    return f"{host}:{port}" if port else host


def _dotenv(path: Path) -> dict[str, str]:
    from dotenv import dotenv_values

    return {k: v for k, v in dotenv_values(path).items() if v is not None}


def read_env_file(path: Path) -> dict[str, str]:
    """The variables of a ``.env`` file named with ``--env-file``; ``ConfigError`` if unreadable.

    It must name at least one ``AKENEO_*`` variable: a file with none is likely the wrong one.
    """
    if not path.exists():
        raise ConfigError(f"--env-file {path}: file not found")
    if not path.is_file():
        raise ConfigError(f"--env-file {path}: not a file")
    try:
        values = _dotenv(path)
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"--env-file {path}: cannot be read: {exc}") from None
    if not any(name in values for name in ENV_NAMES.values()):
        raise ConfigError(
            f"--env-file {path}: no AKENEO_* setting in it; it should hold lines such as "
            "AKENEO_BASE_URL=https://pim.example.com"
        )
    return values


ENV_NAMES = {
    "base_url": "AKENEO_BASE_URL",
    "client_id": "AKENEO_CLIENT_ID",
    "client_secret": "AKENEO_CLIENT_SECRET",
    "username": "AKENEO_USERNAME",
    "password": "AKENEO_PASSWORD",
}


def load_settings(
    flags: dict[str, str | None],
    *,
    env: dict[str, str] | None = None,
    dotenv_path: Path | None = None,
    allow_insecure_http: bool = False,
    verify_tls: bool = True,
    retry: RetrySettings | None = None,
    env_file: Path | None = None,
) -> Settings:
    """Settings from flags, then the environment, then a ``.env`` file.

    ``env_file`` (``--env-file``) names the file to use instead of ``./.env``, and then it
    wins over the environment: a file named on purpose (``staging.env``, ``prod.env``)
    must not be overridden by a variable left in the shell. Flags still win over it.

    >>> s = load_settings({"base_url": "http://127.0.0.1:8080"}, env={
    ...     "AKENEO_CLIENT_ID": "id", "AKENEO_CLIENT_SECRET": "s",
    ...     "AKENEO_USERNAME": "u", "AKENEO_PASSWORD": "p"}, dotenv_path=Path("/nonexistent"))
    >>> s.base_url
    'http://127.0.0.1:8080'
    """
    environ = dict(os.environ) if env is None else env
    # by variable name, most important first (the flags come before all of them)
    sources: list[Mapping[str, str]]
    if env_file is not None:
        sources = [read_env_file(env_file), environ]
    else:
        path = dotenv_path if dotenv_path is not None else Path.cwd() / ".env"
        sources = [environ, _dotenv(path) if path.is_file() else {}]
    values: dict[str, object] = {}
    missing: list[str] = []
    for key, env_name in ENV_NAMES.items():
        value = flags.get(key) or next((s[env_name] for s in sources if s.get(env_name)), None)
        if value:
            values[key] = value
        else:
            missing.append(env_name)
    if missing:
        where = f"in {env_file}" if env_file is not None else "in the environment or a .env file"
        raise ConfigError(
            "missing PIM settings: " + ", ".join(missing) + f" (set them {where}, pass the flags, "
            "or use --sandbox / --dry-run --catalog FILE)"
        )
    values["allow_insecure_http"] = allow_insecure_http
    values["verify_tls"] = verify_tls
    if retry is not None:
        values["retry"] = retry
    try:
        settings = Settings.model_validate(values)
    except ValidationError as exc:
        problems = "; ".join(
            f"{ENV_NAMES.get(str(e['loc'][0]), e['loc'][0])}: {e['msg']}" for e in exc.errors()
        )
        raise ConfigError(f"invalid PIM settings: {problems}") from None
    settings.check_transport_security()
    return settings


#: ``feed-export delete``: the most products (and product models) it deletes unless told
#: otherwise (``--max-deletions``)
DEFAULT_MAX_DELETIONS = 1000

PullEntity = Literal["products", "product-models", "all"]
ColumnOrder = Literal["family", "groups"]
MissingAction = Literal["disable", "delete"]


class PullOptions(CellFormat):
    """What a pull reads from the PIM and how it writes the cells (``pull.run_pull``).

    The cell options (``value_separator``, ``decimal_separator``, ``date_format``) are
    those a push of the pulled feed must use to read it back: the defaults match.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    entity: PullEntity = "products"
    # filters (Akeneo's ``search``), combined with AND
    families: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    enabled: bool | None = None  # products only
    updated_since: datetime | None = None
    identifiers: tuple[str, ...] = ()  # identifiers (products), codes (product models)
    search: dict[str, list[dict[str, object]]] | None = None  # any filter, as the API takes it
    #: disjoint slices of the items (each a search filter added to the others), read side
    #: by side: one list per slice (``pull.pages``); they must not overlap
    partitions: tuple[dict[str, list[dict[str, object]]], ...] = ()
    # the columns
    locales: tuple[str, ...] = ()  # () = every activated locale
    channels: tuple[str, ...] = ()  # () = every channel
    attributes: tuple[str, ...] = ()  # () = the attributes of the families pulled
    column_order: ColumnOrder = "family"
    with_parent_values: bool = False
    download_media: Path | None = None
    max_media_size: int = Field(default=100, ge=1)  # MB per file downloaded
    # the cells, as a push reads them back: CellFormat's

    def cell_options(self) -> ExportOptions:
        """The options a push reads the pulled cells with (and the codecs write them by)."""
        return ExportOptions(
            value_separator=self.value_separator,
            decimal_separator=self.decimal_separator,
            date_format=self.date_format,
        )
