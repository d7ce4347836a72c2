"""Security checks: secrets never leak, TLS is verified, plain http is refused, no formulas.

- A sentinel client secret and password go in through flags, the environment and a
  ``.env`` file, against a sandbox PIM that accepts or refuses them; they must not appear
  in anything a run prints, logs (``-vv`` and every ``logging`` record at DEBUG), writes
  (feedback, payload, summary JSON) or raises.
- Every request verifies TLS unless ``--no-verify-tls``; a plain ``http://`` base URL to a
  host that is not loopback is refused (exit 2) unless ``--allow-insecure-http``.
- Cells that feed_export writes into a feedback file cannot run as spreadsheet formulas:
  CSV cells of ours are escaped with ``'``; XLSX cells are text, never formulas.
"""

from __future__ import annotations

import base64
import copy
import csv
import io
import logging
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import requests
import responses
from conftest import DEMO_CATALOG, CliResult, run_cli
from openpyxl import Workbook, load_workbook
from pydantic import SecretStr

import feed_export.cli
from feed_export.akeneo.auth import AkeneoAuth
from feed_export.akeneo.client import AkeneoClient
from feed_export.config import RetrySettings, Settings
from feed_export.errors import FeedExportError
from feed_export.push.feedback import FEEDBACK_COLUMNS
from feed_export.sandbox import Sandbox, start_sandbox

PASSWORD = "SENTINEL-PW-7f3a"
SECRET = "SENTINEL-SECRET-9c1d"
CLIENT_ID = "sentinel_client"
USERNAME = "sentinel_user"
#: the forms a secret could leak in: as is, and inside a Basic header (base64 of id:secret)
FORBIDDEN = (
    PASSWORD,
    SECRET,
    base64.b64encode(f"{CLIENT_ID}:{SECRET}".encode()).decode(),
)

FEED = (
    "sku,name~en_US,brand,stock_quantity\n"
    "S1,Good row,acme,1\n"
    "S2,Unknown option,no_such_brand,2\n"  # the PIM refuses it
    "S3,Line error,acme,not a number\n"  # refused before sending
)


def _assert_clean(*texts: str) -> None:
    for text in texts:
        for secret in FORBIDDEN:
            assert secret not in text, f"{secret!r} leaked in: {text[:2000]!r}"


def _exception_texts(exc: BaseException) -> list[str]:
    """str, repr and traceback of ``exc`` and of every exception chained to it."""
    texts = ["".join(traceback.format_exception(exc))]
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        current = todo.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        texts += [str(current), repr(current), repr(current.args)]
        todo += [current.__cause__, current.__context__]
    return texts


def _record_texts(records: list[logging.LogRecord]) -> list[str]:
    texts = []
    for record in records:
        texts += [record.getMessage(), repr(record.args), str(record.msg)]
        if record.exc_info and record.exc_info[1] is not None:
            texts += _exception_texts(record.exc_info[1])
        if record.exc_text:
            texts.append(record.exc_text)
    return texts


@pytest.fixture
def records(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[logging.LogRecord]]:
    """Every logging record of a CLI run, at DEBUG, before any redaction filter sees it.

    The CLI replaces the root logger's handlers when it sets up logging, so the capturing
    handler is put back in front of them right after.
    """
    captured: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            # a copy: the CLI's redaction filter rewrites the record in place afterwards
            captured.append(copy.copy(record))

    keep = Keep(logging.DEBUG)
    original = feed_export.cli.setup_logging

    def setup(verbosity: int) -> None:
        original(verbosity)
        root = logging.getLogger()
        root.handlers.insert(0, keep)
        root.setLevel(logging.DEBUG)

    # main looks the name up in feed_export.cli, where it imports it
    monkeypatch.setattr(feed_export.cli, "setup_logging", setup)
    yield captured
    logging.getLogger().removeHandler(keep)


# --- secrets: a real run against the sandbox ---------------------------------------------


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with start_sandbox() as sb:
        sb.client_id = CLIENT_ID
        sb.username = USERNAME
        yield sb


def _credentials(
    source: str, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> list[str]:
    """Point the CLI at the sandbox with the sentinel credentials; the flags to add."""
    values = {
        "AKENEO_BASE_URL": sandbox.url,
        "AKENEO_CLIENT_ID": CLIENT_ID,
        "AKENEO_CLIENT_SECRET": SECRET,
        "AKENEO_USERNAME": USERNAME,
        "AKENEO_PASSWORD": PASSWORD,
    }
    if source == "flags":
        return [
            "--base-url",
            sandbox.url,
            "--client-id",
            CLIENT_ID,
            "--client-secret",
            SECRET,
            "--username",
            USERNAME,
            "--password",
            PASSWORD,
        ]
    if source == "env":
        for name, value in values.items():
            monkeypatch.setenv(name, value)
        return []
    (tmp_path / ".env").write_text("".join(f"{k}={v}\n" for k, v in values.items()))
    return []


def _push(tmp_path: Path, *extra: str, feed_text: str = FEED) -> tuple[CliResult, list[str]]:
    """Push FEED at the most verbose level; what it printed and every file it wrote."""
    feed = tmp_path / "feed.csv"
    feed.write_text(feed_text)
    outputs = [tmp_path / n for n in ("fb.csv", "sent.ndjson", "summary.json")]
    result = run_cli(
        [
            "push",
            str(feed),
            "-vv",
            "--feedback",
            str(outputs[0]),
            "--payload-out",
            str(outputs[1]),
            "--summary-json",
            str(outputs[2]),
            "--max-attempts",
            "1",
            *extra,
        ]
    )
    files = [p.read_text(encoding="utf-8") for p in outputs if p.exists()]
    return result, files


ACCEPTED = {"secret": SECRET, "password": PASSWORD}
SCENARIOS = {
    # (what the sandbox accepts, exit code, what the run must say, files written at least)
    "accepted": (ACCEPTED, 1, "  1  created", 2),
    # a refused login stops the run before anything is written
    "wrong-password": ({"secret": SECRET, "password": "other"}, 2, "No user found", 0),
    "wrong-secret": ({"secret": "other", "password": PASSWORD}, 2, '"client_id"', 0),
}


@pytest.mark.parametrize("source", ["flags", "env", "dotenv"])
@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_secrets_never_leak_from_a_run(
    sandbox: Sandbox,
    records: list[logging.LogRecord],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    scenario: str,
    source: str,
) -> None:
    accepts, code, says, written = SCENARIOS[scenario]
    sandbox.client_secret = accepts["secret"]
    sandbox.password = accepts["password"]
    flags = _credentials(source, sandbox, monkeypatch, tmp_path)
    result, files = _push(tmp_path, *flags)
    assert result.code == code, result.err
    assert says in result.out + result.err
    # feedback and summary once the run started (the payload once sent); nothing before
    assert len(files) >= written if written else files == []
    assert records, "nothing was logged at DEBUG"
    assert any(r.levelno == logging.DEBUG for r in records)
    _assert_clean(result.out, result.err, *files, *_record_texts(records))


@pytest.mark.parametrize(
    "source",
    ["flags", "env", "dotenv"],
)
def test_cli_log_filter_hides_secrets_from_every_source(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, source: str
) -> None:
    """The last line of defence: a careless log line with a secret is still redacted."""
    sandbox.client_secret = SECRET
    sandbox.password = PASSWORD
    login = AkeneoAuth._login

    def careless_login(self: AkeneoAuth, *args: Any) -> None:
        logging.getLogger("feed_export.akeneo.client").debug(
            "logging in with %s / %s",
            self._client_secret.get_secret_value(),
            self._password.get_secret_value(),
        )
        login(self, *args)

    monkeypatch.setattr(AkeneoAuth, "_login", careless_login)
    result, _ = _push(tmp_path, *_credentials(source, sandbox, monkeypatch, tmp_path))
    assert result.code == 1, result.err
    assert "logging in with" in result.err
    _assert_clean(result.err)


@pytest.mark.parametrize("scenario", ["accepted", "wrong-password", "wrong-secret"])
def test_secrets_never_in_library_exceptions_or_reprs(sandbox: Sandbox, scenario: str) -> None:
    accepts = SCENARIOS[scenario][0]
    sandbox.client_secret = accepts["secret"]
    sandbox.password = accepts["password"]
    settings = Settings(
        base_url=sandbox.url,
        client_id=CLIENT_ID,
        client_secret=SecretStr(SECRET),
        username=USERNAME,
        password=SecretStr(PASSWORD),
    )
    texts = [repr(settings), str(settings), settings.model_dump_json(), str(settings.model_dump())]
    with AkeneoClient(settings) as client:
        texts += [repr(client), repr(client._auth)]
        try:
            client.authenticate()
            client.fetch_catalog(["name"])
        except FeedExportError as exc:
            assert scenario != "accepted", exc
            texts += _exception_texts(exc)
        else:
            assert scenario == "accepted"
    _assert_clean(*texts)


# a PIM (or a proxy in front of it) whose error page echoes the request: body and headers
def _echo(status: int) -> Callable[[requests.PreparedRequest], tuple[int, dict[str, str], str]]:
    def answer(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        body = request.body.decode() if isinstance(request.body, bytes) else str(request.body)
        text = f"Error while handling {body} with {request.headers.get('Authorization')}"
        if status == 422:
            return status, {}, orjson.dumps({"code": 422, "message": text}).decode()
        return status, {}, text

    return answer


@pytest.mark.parametrize(
    "status",
    [500, 422],
    ids=["500-echoes-request", "422-echoes-request"],
)
def test_secrets_never_leak_when_the_pim_echoes_the_request(
    records: list[logging.LogRecord],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    status: int,
) -> None:
    for name, value in {
        "AKENEO_BASE_URL": "https://pim.example.com",
        "AKENEO_CLIENT_ID": CLIENT_ID,
        "AKENEO_CLIENT_SECRET": SECRET,
        "AKENEO_USERNAME": USERNAME,
        "AKENEO_PASSWORD": PASSWORD,
    }.items():
        monkeypatch.setenv(name, value)
    with responses.RequestsMock() as pim:
        pim.add_callback(
            responses.POST, "https://pim.example.com/api/oauth/v1/token", callback=_echo(status)
        )
        result, files = _push(tmp_path)
    assert result.code == 2, result.err  # the login failed: nothing was sent or written
    assert files == []
    _assert_clean(result.out, result.err, *files, *_record_texts(records))


# --- TLS verification and plain http -------------------------------------------------------


@pytest.fixture
def sends(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Every request that would leave the machine: recorded, then failed as unreachable."""
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)
    seen: list[dict[str, Any]] = []

    def send(self: requests.Session, request: requests.PreparedRequest, **kwargs: Any) -> Any:
        seen.append({"url": request.url, **kwargs})
        raise requests.ConnectionError("no network in tests")

    monkeypatch.setattr(requests.Session, "send", send)
    return seen


def _connection_flags(base_url: str) -> list[str]:
    return [
        "--base-url",
        base_url,
        "--client-id",
        "cid",
        "--client-secret",
        SECRET,
        "--username",
        "u",
        "--password",
        PASSWORD,
        "--max-attempts",
        "1",
    ]


def _push_to(tmp_path: Path, base_url: str, *extra: str) -> CliResult:
    feed = tmp_path / "feed.csv"
    feed.write_text(FEED)
    return run_cli(["push", str(feed), "--catalog", str(DEMO_CATALOG), *extra])


def test_tls_is_verified_by_default(sends: list[dict[str, Any]], tmp_path: Path) -> None:
    result = _push_to(tmp_path, "", *_connection_flags("https://pim.example.com"))
    assert result.code == 2  # nothing reachable: the run could not start
    assert sends, "no request was attempted"
    assert all(s["verify"] is True for s in sends), sends
    assert all(s["url"].startswith("https://pim.example.com/") for s in sends)


def test_tls_verification_is_on_in_the_library_default(sends: list[dict[str, Any]]) -> None:
    settings = Settings(
        base_url="https://pim.example.com",
        client_id="cid",
        client_secret=SecretStr(SECRET),
        username="u",
        password=SecretStr(PASSWORD),
        retry=RetrySettings(max_attempts=1),
    )
    assert settings.verify_tls is True
    with (
        AkeneoClient(settings) as client,
        pytest.raises(FeedExportError, match="token request: connection failed"),
    ):
        client.authenticate()
    assert [s["verify"] for s in sends] == [True]


def test_no_verify_tls_turns_it_off_and_says_so(
    sends: list[dict[str, Any]], tmp_path: Path
) -> None:
    flags = _connection_flags("https://pim.example.com")
    result = _push_to(tmp_path, "", *flags, "--no-verify-tls")
    assert sends and all(s["verify"] is False for s in sends)
    assert "TLS certificates are not verified" in result.err


REFUSED_URLS = [
    "http://pim.example.com",
    "http://10.0.0.5:8080",
    "HTTP://PIM.EXAMPLE.COM/",
    "http://127.0.0.1.nip.io",
    "http://localhost.example.com",
    "http://user@pim.example.com:80/pim",
]


@pytest.mark.parametrize("source", ["flag", "env"])
@pytest.mark.parametrize("base_url", REFUSED_URLS, ids=REFUSED_URLS)
def test_plain_http_to_a_remote_host_is_refused(
    sends: list[dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    base_url: str,
    source: str,
) -> None:
    flags = _connection_flags(base_url)
    if source == "env":
        monkeypatch.setenv("AKENEO_BASE_URL", base_url)
        flags = flags[2:]
    result = _push_to(tmp_path, base_url, *flags)
    assert result.code == 2
    assert "--allow-insecure-http" in result.err
    assert "refusing to send credentials over plain http" in result.err
    assert sends == []  # not one request, not even for a token
    assert not (tmp_path / "feed.feedback.csv").exists()
    _assert_clean(result.out, result.err)


def test_catalog_pull_refuses_plain_http_too(sends: list[dict[str, Any]], tmp_path: Path) -> None:
    flags = _connection_flags("http://pim.example.com")[:-2]
    result = run_cli(["catalog", "pull", "-o", str(tmp_path / "c.json"), *flags])
    assert result.code == 2
    assert "--allow-insecure-http" in result.err
    assert sends == []


@pytest.mark.parametrize(
    "base_url",
    ["http://127.0.0.1:9", "http://localhost:9", "http://[::1]:9", "https://pim.example.com"],
    ids=["ipv4-loopback", "localhost", "ipv6-loopback", "https"],
)
def test_loopback_and_https_are_allowed(
    sends: list[dict[str, Any]], tmp_path: Path, base_url: str
) -> None:
    result = _push_to(tmp_path, base_url, *_connection_flags(base_url))
    assert result.code == 2, result.err  # it tried: the (fake) network is down
    assert "cannot connect to the PIM" in result.err
    assert sends and sends[0]["url"].startswith(base_url.replace("HTTP", "http"))


def test_allow_insecure_http_lets_plain_http_through(
    sends: list[dict[str, Any]], tmp_path: Path
) -> None:
    flags = _connection_flags("http://pim.example.com")
    result = _push_to(tmp_path, "", *flags, "--allow-insecure-http")
    assert result.code == 2, result.err  # it tried: the (fake) network is down
    assert sends and all(s["url"].startswith("http://pim.example.com/") for s in sends)


# --- no formulas in feedback files ----------------------------------------------------------

UNSAFE_START = ("=", "+", "-", "@", "\t", "\r")
FORMULA_TEXTS = [
    '=HYPERLINK("http://evil.example","click")',
    "+1",
    "-1",
    "@SUM(A1)",
    "\t=1+1",
    "\r=1+1",
    "=cmd|' /C calc'!A0",
    "#N/A",
]
#: what the fake PIM answers for line n (1-based): messages that start like formulas
PIM_MESSAGES = FORMULA_TEXTS


def _fake_pim(pim: responses.RequestsMock, base_url: str) -> None:
    """Token, then a collection PATCH answering each line with a formula-like message."""
    pim.post(
        f"{base_url}/api/oauth/v1/token",
        json={"access_token": "t", "expires_in": 3600, "refresh_token": "r"},
    )

    def patch(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        body = request.body if isinstance(request.body, bytes) else b""
        lines = []
        for n, raw in enumerate(body.split(b"\n"), 1):
            identifier = orjson.loads(raw)["identifier"]
            message = PIM_MESSAGES[(int(identifier[1:]) - 1) % len(PIM_MESSAGES)]
            lines.append(
                orjson.dumps(
                    {"line": n, "identifier": identifier, "status_code": 422, "message": message}
                ).decode()
            )
        return 200, {"Content-Type": "application/vnd.akeneo.collection+json"}, "\n".join(lines)

    pim.add_callback(responses.PATCH, f"{base_url}/api/rest/v1/products", callback=patch)


def _push_to_fake_pim(feed: Path, monkeypatch: pytest.MonkeyPatch, *extra: str) -> CliResult:
    base_url = "https://pim.example.com"
    for name, value in {
        "AKENEO_BASE_URL": base_url,
        "AKENEO_CLIENT_ID": "cid",
        "AKENEO_CLIENT_SECRET": "s",
        "AKENEO_USERNAME": "u",
        "AKENEO_PASSWORD": "p",
    }.items():
        monkeypatch.setenv(name, value)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as pim:
        _fake_pim(pim, base_url)
        return run_cli(["push", str(feed), "--catalog", str(DEMO_CATALOG), *extra])


def _formula_rows() -> list[list[str]]:
    """Rows whose text cells look like formulas; the last ones also break a number rule."""
    rows = [[f"F{i}", text, "1"] for i, text in enumerate(FORMULA_TEXTS, 1)]
    rows += [[f"F{i}", "ok", text] for i, text in enumerate(FORMULA_TEXTS, len(rows) + 1)]
    return rows


def _assert_ours_are_safe(status: str, message: str) -> None:
    for cell in (status, message):
        assert not cell.startswith(UNSAFE_START), repr(cell)


def test_csv_feedback_escapes_every_cell_we_write(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    feed = tmp_path / "feed.csv"
    with feed.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["sku", "name~en_US", "stock_quantity"])
        writer.writerows(_formula_rows())
    result = _push_to_fake_pim(feed, monkeypatch)
    assert result.code == 1, result.err
    with (tmp_path / "feed.feedback.csv").open(newline="", encoding="utf-8") as back:
        header, *rows = list(csv.reader(back))
    assert header == ["sku", "name~en_US", "stock_quantity", *FEEDBACK_COLUMNS]
    assert len(rows) == 2 * len(FORMULA_TEXTS)
    for row, source in zip(rows, _formula_rows(), strict=True):
        assert row[:3] == source  # the feed's own cells are echoed as read
        _assert_ours_are_safe(row[3], row[4])
    messages = [row[4] for row in rows]
    # the PIM's formula-like messages come back escaped with a leading '
    expected = ["'" + t if t.startswith(UNSAFE_START) else t for t in PIM_MESSAGES]
    assert messages[:8] == expected
    assert messages[9] == "'+1"  # "+1" is a valid number: sent, and the PIM said "+1"
    # line errors quote the feed's value after "Not sent:", never at the start of the cell
    line_errors = messages[8:9] + messages[10:]
    assert all(m.startswith("Not sent: stock_quantity: ") for m in line_errors)
    assert line_errors[0].endswith('"=HYPERLINK(\\"http://evil.example\\",\\"click\\")"')
    assert line_errors[2].endswith('not a number: "@SUM(A1)"')


def _xlsx_feed(path: Path, header: list[str], rows: list[list[str]]) -> None:
    """A workbook whose formula-looking cells are text cells, as a user types them with '."""
    from openpyxl.cell import WriteOnlyCell

    book = Workbook(write_only=True)
    sheet = book.create_sheet("Feed")
    for values in [header, *rows]:
        cells = []
        for value in values:
            cell = WriteOnlyCell(sheet, value=value)
            cell.data_type = "s"
            cells.append(cell)
        sheet.append(cells)
    book.save(path)


def _assert_xlsx_has_no_formula(path: Path) -> list[list[str]]:
    book = load_workbook(path)  # formulas would come back as data_type "f"
    sheet = book.worksheets[0]
    rows: list[list[str]] = []
    for row in sheet.iter_rows():
        for cell in row:
            assert cell.data_type in ("s", "n"), (cell.coordinate, cell.data_type, cell.value)
            if cell.data_type == "n":
                assert cell.value is None, (cell.coordinate, cell.value)  # only empty cells
        rows.append(["" if c.value is None else str(c.value) for c in row])
    return rows


def test_xlsx_feedback_holds_no_formula(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    feed = tmp_path / "feed.xlsx"
    _xlsx_feed(feed, ["sku", "name~en_US", "stock_quantity"], _formula_rows())
    result = _push_to_fake_pim(feed, monkeypatch)
    assert result.code == 1, result.err
    header, *rows = _assert_xlsx_has_no_formula(tmp_path / "feed.feedback.xlsx")
    assert header == ["sku", "name~en_US", "stock_quantity", *FEEDBACK_COLUMNS]
    messages = [row[4] for row in rows]
    # the PIM's messages and the feed's own cells kept as text, starting "=" or not
    for text in FORMULA_TEXTS:
        if text.startswith("\r"):
            continue  # a CR is kept too, but openpyxl reads "_x000D_" back as is
        assert text in messages
        assert any(row[1] == text for row in rows)
    assert any('"=HYPERLINK(\\"http://evil.example\\",\\"click\\")"' in m for m in messages)


def test_xlsx_rejected_feed_with_formula_headers(tmp_path: Path) -> None:
    feed = tmp_path / "feed.xlsx"
    _xlsx_feed(feed, ["sku", "=1+1", "@SUM(A1)"], [["A1", "=2+2", "x"]])
    result = run_cli(["check", str(feed), "--catalog", str(DEMO_CATALOG)])
    assert result.code == 2
    assert 'column 2 "=1+1": unknown attribute' in result.err
    header, row = _assert_xlsx_has_no_formula(tmp_path / "feed.feedback.xlsx")
    assert header[:3] == ["sku", "=1+1", "@SUM(A1)"]
    assert row[:4] == ["A1", "=2+2", "x", "400"]
    assert row[4].startswith("Not sent: feed rejected: ")


def test_csv_feedback_of_a_dry_run_quotes_values_safely(tmp_path: Path) -> None:
    feed = tmp_path / "feed.csv"
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(["sku", "stock_quantity", "release_date"])
    writer.writerows([[f"D{i}", text, text] for i, text in enumerate(FORMULA_TEXTS)])
    feed.write_text(buffer.getvalue(), encoding="utf-8")
    result = run_cli(["check", str(feed), "--catalog", str(DEMO_CATALOG)])
    assert result.code == 1, result.err
    with (tmp_path / "feed.feedback.csv").open(newline="", encoding="utf-8") as back:
        _, *rows = list(csv.reader(back))
    for row in rows:
        _assert_ours_are_safe(row[3], row[4])
        assert row[3] == "422" and row[4].startswith("Not sent: ")
