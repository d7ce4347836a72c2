"""Settings: flags over environment over .env, validation, secrets kept secret."""

from __future__ import annotations

from pathlib import Path

import pytest

from feed_export.config import ExportOptions, Settings, date_format_pattern, load_settings
from feed_export.errors import ConfigError

FULL_ENV = {
    "AKENEO_BASE_URL": "https://pim.example.com/",
    "AKENEO_CLIENT_ID": "cid",
    "AKENEO_CLIENT_SECRET": "SENTINEL-SECRET",
    "AKENEO_USERNAME": "bob",
    "AKENEO_PASSWORD": "SENTINEL-PASSWORD",
}
NO_DOTENV = Path("/nonexistent/.env")


def test_environment_is_read_and_url_normalised() -> None:
    s = load_settings({}, env=FULL_ENV, dotenv_path=NO_DOTENV)
    assert s.base_url == "https://pim.example.com"
    assert s.client_secret.get_secret_value() == "SENTINEL-SECRET"


def test_flags_win_over_environment() -> None:
    s = load_settings({"username": "alice"}, env=FULL_ENV, dotenv_path=NO_DOTENV)
    assert s.username == "alice"


def test_dotenv_fills_what_is_missing(tmp_path: Path) -> None:
    env = dict(FULL_ENV)
    del env["AKENEO_PASSWORD"]
    dotenv = tmp_path / ".env"
    dotenv.write_text("AKENEO_PASSWORD=from-dotenv\nAKENEO_USERNAME=ignored\n")
    s = load_settings({}, env=env, dotenv_path=dotenv)
    assert s.password.get_secret_value() == "from-dotenv"
    assert s.username == "bob"  # the environment wins over .env


def test_missing_settings_are_named() -> None:
    with pytest.raises(ConfigError, match="AKENEO_CLIENT_ID, AKENEO_CLIENT_SECRET"):
        load_settings({"base_url": "https://x"}, env={}, dotenv_path=NO_DOTENV)


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("http://127.0.0.1:8080", True),
        ("http://localhost:8080", True),
        ("http://[::1]:8080", True),
        ("https://pim.example.com", True),
        ("http://pim.example.com", False),
        ("http://10.0.0.5", False),
    ],
    ids=[
        "loopback-v4",
        "localhost",
        "loopback-v6",
        "https",
        "plain-http-remote",
        "plain-http-private",
    ],
)
def test_plain_http_only_to_loopback(url: str, allowed: bool) -> None:
    env = dict(FULL_ENV, AKENEO_BASE_URL=url)
    if allowed:
        assert load_settings({}, env=env, dotenv_path=NO_DOTENV).base_url == url
    else:
        with pytest.raises(ConfigError, match="--allow-insecure-http"):
            load_settings({}, env=env, dotenv_path=NO_DOTENV)
        s = load_settings({}, env=env, dotenv_path=NO_DOTENV, allow_insecure_http=True)
        assert s.base_url == url


def test_bad_url_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="AKENEO_BASE_URL"):
        load_settings({}, env=dict(FULL_ENV, AKENEO_BASE_URL="ftp://x"), dotenv_path=NO_DOTENV)


def test_secrets_never_in_repr_or_dump() -> None:
    s = load_settings({}, env=FULL_ENV, dotenv_path=NO_DOTENV)
    for text in (repr(s), str(s), s.model_dump_json(), str(s.model_dump())):
        assert "SENTINEL" not in text
    assert isinstance(s, Settings)


@pytest.mark.parametrize(
    ("kwargs", "ok"),
    [
        ({"batch_size": 100}, True),
        ({"batch_size": 101}, False),
        ({"batch_size": 0}, False),
        ({"concurrency": 10}, True),
        ({"concurrency": 11}, False),
        ({"decimal_separator": ","}, True),
        ({"decimal_separator": ";"}, False),
        ({"value_separator": ""}, False),
    ],
    ids=[
        "batch-100",
        "batch-101",
        "batch-0",
        "conc-10",
        "conc-11",
        "dec-comma",
        "dec-semicolon",
        "sep-empty",
    ],
)
def test_option_bounds(kwargs: dict[str, object], ok: bool) -> None:
    if ok:
        ExportOptions.model_validate(kwargs)
    else:
        field = next(iter(kwargs))
        with pytest.raises(ValueError, match=rf"1 validation error for ExportOptions\n{field}\n"):
            ExportOptions.model_validate(kwargs)


# --- --date-format: Akeneo's spellings and strftime ----------------------------------


@pytest.mark.parametrize(
    ("given", "pattern"),
    [
        ("dd/MM/yyyy", "%d/%m/%Y"),
        ("MM/dd/yyyy", "%m/%d/%Y"),
        ("dd.MM.yyyy", "%d.%m.%Y"),
        ("yyyy-MM-dd", "%Y-%m-%d"),
        ("yyyy/MM/dd", "%Y/%m/%d"),
        ("dd-MM-yyyy", "%d-%m-%Y"),
        ("dd/mm/yyyy", "%d/%m/%Y"),  # the label Akeneo's job form shows
        ("DD.MM.YYYY", "%d.%m.%Y"),
        ("d/M/yy", "%d/%m/%y"),
        ("%d/%m/%Y", "%d/%m/%Y"),
        ("%Y%m%d", "%Y%m%d"),
        ("%d %B %Y", "%d %B %Y"),
    ],
    ids=lambda v: str(v),
)
def test_date_formats_akeneo_spellings_and_strftime(given: str, pattern: str) -> None:
    assert date_format_pattern(given) == pattern
    assert ExportOptions(date_format=given).date_format == pattern


@pytest.mark.parametrize(
    ("given", "says"),
    [
        ("dd/mm", "is not a date format"),
        ("dd/MM/yyyy HH:mm", "is not a date format"),
        ("yyyy-dd-dd", "is not a date format"),
        ("dd/MM-yyyy", "is not a date format"),
        ("european", "is not a date format"),
        ("%Y", "does not read back a whole date"),
        ("%d/%m", "does not read back a whole date"),
        ("%Q", "does not read back a whole date"),
    ],
    ids=lambda v: str(v),
)
def test_other_date_formats_are_refused_with_examples(given: str, says: str) -> None:
    with pytest.raises(ValueError, match=says) as caught:
        date_format_pattern(given)
    assert "dd/MM/yyyy, MM/dd/yyyy, dd.MM.yyyy, yyyy-MM-dd" in str(caught.value)
    assert "%d/%m/%Y" in str(caught.value)
