"""The sandbox PIM's seeded faults and limits, its state across restarts, and its CLI."""

from __future__ import annotations

import io
import json
import re
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from feed_export.errors import ConfigError
from feed_export.sandbox import Faults, Sandbox, main, serve_forever_cli, start_sandbox
from feed_export.sandbox.catalog import demo_catalog_data

COLLECTION = "application/vnd.akeneo.collection+json"


def login(sb: Sandbox) -> str:
    r = requests.post(
        f"{sb.url}/api/oauth/v1/token",
        json={"grant_type": "password", "username": sb.username, "password": sb.password},
        auth=(sb.client_id, sb.client_secret),
        timeout=10,
    )
    token: str = r.json()["access_token"]
    return token


def patch(
    sb: Sandbox, token: str, identifiers: list[str], entity: str = "products", **kw: Any
) -> requests.Response:
    key = "uuid" if entity == "products-uuid" else "identifier"
    body = "\n".join(json.dumps({key: i}) for i in identifiers)
    return requests.patch(
        f"{sb.url}/api/rest/v1/{entity}",
        data=body,
        headers={"Authorization": f"Bearer {token}", "Content-Type": COLLECTION},
        timeout=10,
        **kw,
    )


def get(sb: Sandbox, token: str, path: str = "/locales") -> requests.Response:
    return requests.get(
        f"{sb.url}/api/rest/v1{path}", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    with start_sandbox() as sandbox:
        yield sandbox


@pytest.fixture
def token(sb: Sandbox) -> str:
    return login(sb)


def outcome(call: Callable[[], requests.Response]) -> str:
    """A request's fate as a short word: its status, or the client-side error."""
    try:
        return str(call().status_code)
    except requests.ConnectionError:
        return "dropped"


# -- random faults: reproducible by seed ------------------------------------------------------
def _pattern(seed: int, n: int = 30) -> list[str]:
    faults = Faults(seed=seed, rate_drop=0.2, rate_429=0.2, rate_5xx=0.2)
    with start_sandbox(faults=faults) as sandbox:
        token = login(sandbox)
        return [outcome(lambda: get(sandbox, token)) for _ in range(n)]


def test_faults_are_reproducible_by_seed() -> None:
    first, again, other = _pattern(7), _pattern(7), _pattern(8)
    assert first == again
    assert first != other
    assert {"dropped", "429", "200"} <= set(first)
    assert set(first) <= {"dropped", "429", "500", "502", "503", "200"}


def test_drop_closes_the_connection_without_an_answer_or_a_write(sb: Sandbox, token: str) -> None:
    sb.faults = Faults(rate_drop=1.0)
    with pytest.raises(
        requests.ConnectionError, match="Remote end closed connection without response"
    ):
        patch(sb, token, ["dropped-1"])
    assert sb.state.product("dropped-1") is None
    sb.faults = Faults(rate_drop=1.0, drop_after_processing=True)
    with pytest.raises(
        requests.ConnectionError, match="Remote end closed connection without response"
    ):
        patch(sb, token, ["dropped-2"])
    assert sb.state.product("dropped-2") is not None  # applied, answer lost
    assert sb.stats.faults["drop"] == 2


def test_429_with_and_without_retry_after(sb: Sandbox, token: str) -> None:
    sb.faults = Faults(rate_429=1.0, retry_after=15)
    r = get(sb, token)
    assert (r.status_code, r.headers.get("Retry-After")) == (429, "15")
    assert r.json() == {
        "code": 429,
        "message": "You have exceeded the limit of API requests per second.",
    }
    sb.faults = Faults(rate_429=1.0, retry_after=None)
    r = get(sb, token)
    assert r.status_code == 429 and "Retry-After" not in r.headers


@pytest.mark.parametrize(
    ("html", "status", "content_type", "start"),
    [
        (False, 503, "application/json", '{"code":503'),
        (True, 502, "text/html; charset=UTF-8", "<html>"),
        (True, 500, "text/html; charset=UTF-8", "<!DOCTYPE html>"),
    ],
    ids=["json-503", "html-502", "html-500"],
)
def test_server_errors_json_or_html(
    sb: Sandbox, token: str, html: bool, status: int, content_type: str, start: str
) -> None:
    sb.faults = Faults(rate_5xx=1.0, statuses_5xx=(status,), html_5xx=html)
    r = patch(sb, token, ["never-written"])
    assert (r.status_code, r.headers["Content-Type"]) == (status, content_type)
    assert r.text.startswith(start)
    assert sb.state.product("never-written") is None


def test_cut_off_stream_applies_only_the_lines_sent(sb: Sandbox, token: str) -> None:
    sb.faults = Faults(rate_cut=1.0, cut_after=3)
    identifiers = [f"cut-{i}" for i in range(6)]
    r = patch(sb, token, identifiers, stream=True)
    assert r.status_code == 200
    received = b""
    with pytest.raises(
        requests.exceptions.ChunkedEncodingError, match="Response ended prematurely"
    ):
        for chunk in r.iter_content(chunk_size=None):
            received += chunk
    assert [json.loads(x)["line"] for x in received.split(b"\n")] == [1, 2, 3]
    assert [sb.state.product(i) is not None for i in identifiers] == [True] * 3 + [False] * 3


def test_cut_at_a_random_line_is_seeded(sb: Sandbox, token: str) -> None:
    def written(seed: int) -> int:
        sb.faults = Faults(seed=seed, rate_cut=1.0)
        prefix = f"seed{seed}-"
        with pytest.raises(
            requests.RequestException, match=r"Response ended prematurely|Connection aborted"
        ):
            patch(sb, token, [f"{prefix}{i}" for i in range(20)]).content  # noqa: B018
        return sum(1 for p in sb.state.products() if p["identifier"].startswith(prefix))

    assert written(3) == written(3) and 0 <= written(3) <= 20


def test_html_page_after_some_lines(sb: Sandbox, token: str) -> None:
    sb.faults = Faults(rate_html_tail=1.0, cut_after=2)
    r = patch(sb, token, ["tail-1", "tail-2", "tail-3"])
    assert r.status_code == 200
    first, second_and_page = r.text.split("\n", 1)
    assert json.loads(first)["line"] == 1
    assert second_and_page.startswith('{"line":2,"identifier":"tail-2","status_code":201}<!DOCTYPE')
    assert sb.state.product("tail-3") is None


def test_max_faults_then_normal_service(sb: Sandbox, token: str) -> None:
    sb.faults = Faults(rate_5xx=1.0, statuses_5xx=(503,), max_faults=2)
    assert [get(sb, token).status_code for _ in range(4)] == [503, 503, 200, 200]


def test_faults_spare_the_token_endpoint_unless_targeted(sb: Sandbox) -> None:
    sb.faults = Faults(rate_5xx=1.0)
    assert login(sb)
    sb.faults = Faults(rate_5xx=1.0, statuses_5xx=(500,), targets=frozenset({"token"}))
    r = requests.post(f"{sb.url}/api/oauth/v1/token", json={}, timeout=10)
    assert r.status_code == 500


def test_code_instead_of_status_code_on_products_uuid_error_lines(sb: Sandbox, token: str) -> None:
    sb.faults = Faults(code_instead_of_status_code=True)
    good = "0b6d2a52-6d8e-4c2a-9f35-6a4f4f3f1a10"
    results = [
        json.loads(x) for x in patch(sb, token, ["bad", good], "products-uuid").text.split("\n")
    ]
    assert results[0]["code"] == 422 and "status_code" not in results[0]
    assert results[1] == {"line": 2, "uuid": good, "status_code": 201}
    by_identifier = json.loads(patch(sb, token, ["bad,"]).text)
    assert by_identifier["status_code"] == 422 and "code" not in by_identifier


@pytest.mark.parametrize(
    ("settings", "problem"),
    [
        ({"rate_drop": 0.6, "rate_429": 0.5}, "fault rates must each be within 0..1 and sum"),
        ({"rate_5xx": 1.5}, "fault rates must each be within 0..1 and sum"),
        ({"statuses_5xx": (404,)}, "statuses_5xx must be 5xx codes"),
        ({"targets": frozenset({"everything"})}, r"unknown fault targets \['everything'\]"),
        ({"latency": -1}, "latency must not be negative"),
    ],
    ids=["rates-over-1", "rate-over-1", "not-5xx", "unknown-target", "negative-latency"],
)
def test_impossible_faults_are_refused(settings: dict[str, Any], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        Faults(**settings)


# -- latency and concurrency --------------------------------------------------------------
class Gate:
    """A fake sleep that holds requests until released, counting who waits."""

    def __init__(self) -> None:
        self.waiting = 0
        self.slept: list[float] = []
        self.cond = threading.Condition()
        self.release = threading.Event()

    def sleep(self, seconds: float) -> None:
        with self.cond:
            self.slept.append(seconds)
            self.waiting += 1
            self.cond.notify_all()
        self.release.wait(timeout=10)

    def wait_for(self, count: int) -> bool:
        with self.cond:
            return self.cond.wait_for(lambda: self.waiting >= count, timeout=10)


def _in_threads(
    count: int, call: Callable[[], requests.Response]
) -> tuple[list[Any], list[threading.Thread]]:
    results: list[Any] = []

    def run() -> None:
        results.append(call().status_code)

    threads = [threading.Thread(target=run) for _ in range(count)]
    for t in threads:
        t.start()
    return results, threads


def test_latency_is_fixed_plus_seeded_jitter(sb: Sandbox, token: str) -> None:
    slept: list[float] = []
    sb.sleep = slept.append
    sb.faults = Faults(seed=1, latency=0.2, latency_jitter=0.1)
    for _ in range(3):
        get(sb, token)
    first = list(slept)
    slept.clear()
    sb.faults = Faults(seed=1, latency=0.2, latency_jitter=0.1)
    for _ in range(3):
        get(sb, token)
    assert slept == first
    assert all(0.2 <= s < 0.3 for s in first) and len(set(first)) == 3


def test_total_latency_counts_the_processing_in(sb: Sandbox, token: str) -> None:
    """latency_mode="total": the answer leaves `latency` after arrival, work included."""
    slept: list[float] = []
    sb.sleep = slept.append
    sb.faults = Faults(latency=0.5, latency_mode="total")
    r = get(sb, token)
    assert r.status_code == 200
    assert len(slept) == 1 and 0.3 < slept[0] < 0.5  # some of the 0.5 s went to the work
    sb.faults = Faults(latency=0.5)
    get(sb, token)
    assert slept[1] == 0.5  # "before": the whole latency, then the work


def test_concurrency_limit_per_token_answers_429(sb: Sandbox, token: str) -> None:
    other = login(sb)
    gate = Gate()
    sb.sleep = gate.sleep
    sb.faults = Faults(latency=1.0, concurrency_per_token=4)
    results, threads = _in_threads(4, lambda: get(sb, token))
    try:
        assert gate.wait_for(4)
        r = get(sb, token)  # the fifth at once: refused before any latency
        assert r.status_code == 429 and r.headers["Retry-After"] == "1"
        assert gate.waiting == 4
        _, more = _in_threads(1, lambda: get(sb, other))  # another token is not limited
        threads += more
        assert gate.wait_for(5)
    finally:
        gate.release.set()
        for t in threads:
            t.join(timeout=10)
    assert sorted(results) == [200] * 4
    assert sb.stats.faults["concurrency"] == 1
    assert sb.stats.max_in_flight_per_token == 5


def test_serves_ten_requests_at_once_and_caps_the_instance(sb: Sandbox, token: str) -> None:
    gate = Gate()
    sb.sleep = gate.sleep
    sb.faults = Faults(latency=1.0, concurrency_per_instance=10)
    results, threads = _in_threads(10, lambda: get(sb, token))
    try:
        assert gate.wait_for(10)  # ten requests in flight together
        assert get(sb, token).status_code == 429
    finally:
        gate.release.set()
        for t in threads:
            t.join(timeout=10)
    assert results == [200] * 10 and sb.stats.max_in_flight == 11


# -- stats ------------------------------------------------------------------------------------
def test_stats_count_requests_and_lines(sb: Sandbox, token: str) -> None:
    patch(sb, token, ["s1", "s2", "s3"])
    patch(sb, token, ["s4"])
    get(sb, token, "/products/s1")
    assert sb.stats.patch_requests == 2 and sb.stats.patch_lines == 4
    assert sb.stats.requests["PATCH /api/rest/v1/products"] == 2
    assert sb.stats.requests["GET /api/rest/v1/products/<path:identifier>"] == 1
    assert sb.stats.tokens_issued == 1


# -- state across restarts, catalogs --------------------------------------------------------------
def test_state_survives_a_restart_with_a_file_database(tmp_path: Path) -> None:
    db = tmp_path / "pim.sqlite"
    with start_sandbox(db=db) as first:
        token = login(first)
        body = json.dumps(
            {
                "identifier": "kept",
                "values": {"brand": [{"locale": None, "scope": None, "data": "brand_new"}]},
            }
        )
        requests.patch(
            f"{first.url}/api/rest/v1/products?create_missing_options=1",
            data=body,
            headers={"Authorization": f"Bearer {token}", "Content-Type": COLLECTION},
            timeout=10,
        )
    with start_sandbox(db=db) as second:
        r = get(second, token)
        assert (r.status_code, r.json()["message"]) == (
            401,
            "The access token provided is invalid.",
        )
        product = second.state.product("kept")
        assert product is not None and product["values"]["brand"][0]["data"] == "brand_new"
        options = second.state.catalog["attribute_options"]["brand"]
        assert "brand_new" in [o["code"] for o in options]  # the catalog is kept too


def test_catalog_from_a_dict_or_a_file(tmp_path: Path) -> None:
    catalog = demo_catalog_data()
    catalog["locales"] = [{"code": "en_US", "enabled": True}]
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps(catalog), encoding="utf-8")
    for source in (catalog, path):
        with start_sandbox(catalog=source) as sandbox:
            items = get(sandbox, login(sandbox)).json()["_embedded"]["items"]
            assert [i["code"] for i in items] == ["en_US"]


@pytest.mark.parametrize(
    ("content", "message"),
    [("{not json", "not valid JSON"), ('{"attributes": []}', "not in the catalog-file shape")],
    ids=["bad-json", "missing-keys"],
)
def test_bad_catalog_file_is_a_config_error(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "catalog.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        start_sandbox(catalog=path)


# -- the standalone command ---------------------------------------------------------------------
class Banner(io.StringIO):
    """Captures the banner and says when it is complete."""

    def __init__(self) -> None:
        super().__init__()
        self.done = threading.Event()

    def write(self, text: str) -> int:
        written = super().write(text)
        if "Ctrl-C" in self.getvalue():
            self.done.set()
        return written


def test_serve_forever_cli_prints_url_and_credentials_and_stops(tmp_path: Path) -> None:
    out = Banner()
    stop = threading.Event()
    codes: list[int] = []
    thread = threading.Thread(
        target=lambda: codes.append(
            serve_forever_cli(port=0, db=tmp_path / "cli.sqlite", out=out, stop=stop)
        )
    )
    thread.start()
    try:
        assert out.done.wait(timeout=10)
        text = out.getvalue()
        url = re.search(r"AKENEO_BASE_URL=(\S+)", text)
        assert url is not None and "AKENEO_CLIENT_SECRET=sandbox_secret" in text
        r = requests.get(f"{url.group(1)}/api/rest/v1/locales", timeout=10)
        assert r.status_code == 401
    finally:
        stop.set()
        thread.join(timeout=10)
    assert codes == [0]


def test_main_reports_a_bad_catalog(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--port", "0", "--catalog", str(tmp_path / "missing.json")]) == 2
    assert "cannot read the sandbox catalog" in capsys.readouterr().err


def test_a_client_within_the_limit_is_never_refused(sb: Sandbox, token: str) -> None:
    sb.faults = Faults(concurrency_per_token=4)
    statuses: list[int] = []

    def worker() -> None:
        with requests.Session() as session:
            for n in range(10):
                r = session.patch(
                    f"{sb.url}/api/rest/v1/products",
                    data=json.dumps({"identifier": f"limit-{threading.get_ident()}-{n}"}),
                    headers={"Authorization": f"Bearer {token}", "Content-Type": COLLECTION},
                    timeout=10,
                )
                statuses.append(r.status_code)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert statuses == [200] * 40
    assert sb.stats.max_in_flight_per_token <= 4


def test_busy_port_is_a_config_error(sb: Sandbox) -> None:
    with pytest.raises(ConfigError, match="pick another --port"):
        serve_forever_cli(port=sb.port, out=io.StringIO())


def test_the_banner_is_shell_export_lines_and_env_out_is_dotenv_text(tmp_path: Path) -> None:
    import shlex
    import subprocess

    from feed_export.config import load_settings

    out = Banner()
    stop = threading.Event()
    env_file = tmp_path / "sandbox.env"
    thread = threading.Thread(
        target=lambda: serve_forever_cli(port=0, out=out, stop=stop, env_out=env_file)
    )
    thread.start()
    try:
        assert out.done.wait(timeout=10)
        exports = [line.strip() for line in out.getvalue().splitlines() if "export AKENEO" in line]
        assert [line.split("=")[0] for line in exports] == [
            "export AKENEO_BASE_URL",
            "export AKENEO_CLIENT_ID",
            "export AKENEO_CLIENT_SECRET",
            "export AKENEO_USERNAME",
            "export AKENEO_PASSWORD",
        ]
        assert f"--env-file {env_file}" in out.getvalue()
        # pasted into a shell, the lines set the variables
        script = "\n".join(exports) + "\necho $AKENEO_BASE_URL $AKENEO_PASSWORD"
        shown = subprocess.run(["sh", "-c", script], capture_output=True, text=True, check=True)
        url = exports[0].split("=", 1)[1]
        assert shown.stdout.split() == [url, shlex.split(exports[4].split("=", 1)[1])[0]]
        # the .env text is what --env-file reads
        settings = load_settings({}, env={}, env_file=env_file)
        assert settings.base_url == url
        assert requests.post(f"{url}/api/oauth/v1/token", timeout=10).status_code != 404
        assert env_file.stat().st_mode & 0o777 == 0o600
    finally:
        stop.set()
        thread.join(timeout=10)
