"""Settings of a run: conversion options and PIM connection, validated once at the edge."""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from feed_export.errors import ConfigError

Entity = Literal["products", "products-uuid", "product-models"]
EmptyCells = Literal["skip", "erase"]

#: the identifier column of each entity
IDENTIFIER_FIELD: dict[str, str] = {
    "products": "identifier",
    "products-uuid": "uuid",
    "product-models": "code",
}

DEFAULT_SEPARATOR = "<###>"


class ExportOptions(BaseModel):
    """How a feed is read, decoded and batched. Pure data: no connection details."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    entity: Entity = "products"
    batch_size: int = Field(default=100, ge=1, le=100)
    value_separator: str = Field(default=DEFAULT_SEPARATOR, min_length=1)
    empty_cells: EmptyCells = "skip"
    decimal_separator: str = Field(default=".", min_length=1, max_length=1)
    date_format: str | None = None
    ignore_unknown_columns: bool = False
    # reading
    encoding: str | None = None  # None: UTF-8 (BOM tolerated)
    delimiter: str | None = None  # None: sniffed among , ; TAB |
    sheet: str | None = None  # XLSX sheet name; None: the first
    # sending
    dry_run: bool = False
    concurrency: int = Field(default=4, ge=1, le=10)
    create_missing_options: bool = False

    @field_validator("decimal_separator")
    @classmethod
    def _decimal_separator(cls, value: str) -> str:
        if value not in {".", ","}:
            raise ValueError("must be '.' or ','")
        return value

    @property
    def identifier_field(self) -> str:
        return IDENTIFIER_FIELD[self.entity]


class RetrySettings(BaseModel):
    """How hard the client tries before it gives a batch up (names follow dlt's)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    request_timeout: float = Field(default=60.0, gt=0)  # seconds, per read
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
        if parts.scheme not in {"http", "https"} or not parts.hostname:
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
) -> Settings:
    """Settings from flags, then the environment, then a ``.env`` file.

    >>> s = load_settings({"base_url": "http://127.0.0.1:8080"}, env={
    ...     "AKENEO_CLIENT_ID": "id", "AKENEO_CLIENT_SECRET": "s",
    ...     "AKENEO_USERNAME": "u", "AKENEO_PASSWORD": "p"}, dotenv_path=Path("/nonexistent"))
    >>> s.base_url
    'http://127.0.0.1:8080'
    """
    from dotenv import dotenv_values

    environ = dict(os.environ) if env is None else env
    path = dotenv_path if dotenv_path is not None else Path.cwd() / ".env"
    dotenv = (
        {k: v for k, v in dotenv_values(path).items() if v is not None} if path.is_file() else {}
    )
    values: dict[str, object] = {}
    missing: list[str] = []
    for key, env_name in ENV_NAMES.items():
        value = flags.get(key) or environ.get(env_name) or dotenv.get(env_name)
        if value:
            values[key] = value
        else:
            missing.append(env_name)
    if missing:
        raise ConfigError(
            "missing PIM settings: "
            + ", ".join(missing)
            + " (set them in the environment or a .env file, pass the flags, "
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
