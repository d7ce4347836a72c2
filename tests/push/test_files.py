"""File downloads under the retry policy: transient failures retried, the rest final.

The files' server is mocked with ``responses``; the policy's clock and sleep are fakes.
(Paths, names, limits and the cache are tested through the media stage in test_media.)
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import pytest
import requests
import requests.adapters
import requests.structures
import responses
import urllib3
from conftest import FakeTime

from feed_export.akeneo.responses import LineResult, MediaUpload
from feed_export.akeneo.retry import RetryPolicy
from feed_export.config import Entity
from feed_export.push.decode import MediaRef
from feed_export.push.files import FetchedFile, FileProblem, FileReader, MediaLimits
from feed_export.push.media import MediaStage, MediaTask

CDN = "https://cdn.test"
JPEG = b"\xff\xd8\xff\xe0 a small jpeg"


@pytest.fixture
def fake() -> FakeTime:
    return FakeTime(0.0)


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def policy(fake: FakeTime, attempts: int = 3, cap: float = 10.0) -> RetryPolicy:
    return RetryPolicy(
        max_attempts=attempts,
        backoff_factor=1.0,
        max_retry_delay=cap,
        clock=fake.clock,
        sleep=fake.sleep,
        random=lambda: 0.5,
    )


def ref(source: str) -> MediaRef:
    return MediaRef("picture", None, None, source, "url", "picture", frozenset({"jpg"}), None, True)


def reader(tmp_path: Path, retry: RetryPolicy, **kwargs: Any) -> FileReader:
    return FileReader(feed_dir=tmp_path, retry=retry, **kwargs)


def fetch(files: FileReader, url: str) -> FetchedFile | FileProblem:
    return files.read(ref(url), url, None)


def jpeg(rsps: responses.RequestsMock, url: str) -> None:
    rsps.get(url, body=JPEG, content_type="image/jpeg")


def hits(rsps: responses.RequestsMock, url: str) -> int:
    return sum(1 for c in rsps.calls if c.request.url == url)


# id, the first answer (status/body/headers or an exception) -> the wait before the retry
TRANSIENT = [
    ("503", {"status": 503}, 1.0),
    ("500-html", {"status": 500, "body": "<html>oops</html>"}, 1.0),
    ("502", {"status": 502}, 1.0),
    ("408", {"status": 408}, 1.0),
    ("429-retry-after", {"status": 429, "headers": {"Retry-After": "4"}}, 4.0),
    ("429-retry-after-capped", {"status": 429, "headers": {"Retry-After": "3600"}}, 10.0),
    ("connection-refused", {"body": requests.ConnectionError("refused")}, 1.0),
    ("read-timeout", {"body": requests.ReadTimeout("slow")}, 1.0),
    ("connect-timeout", {"body": requests.ConnectTimeout("slow")}, 1.0),
]


@pytest.mark.parametrize(
    ("first", "wait"), [c[1:] for c in TRANSIENT], ids=[c[0] for c in TRANSIENT]
)
def test_a_transient_failure_is_retried(
    rsps: responses.RequestsMock,
    fake: FakeTime,
    tmp_path: Path,
    first: dict[str, Any],
    wait: float,
) -> None:
    url = f"{CDN}/a.jpg"
    rsps.get(url, **first)
    jpeg(rsps, url)
    found = fetch(reader(tmp_path, policy(fake)), url)
    assert isinstance(found, FetchedFile)
    assert (found.content, found.name, found.content_type) == (JPEG, "a.jpg", "image/jpeg")
    assert fake.sleeps == [wait]
    assert hits(rsps, url) == 2


# id, the answer every time -> the row's message
EXHAUSTED = [
    (
        "503",
        {"status": 503, "body": "<html>down</html>"},
        "could not fetch it: 503 Service Unavailable",
    ),
    ("429", {"status": 429}, "could not fetch it: 429 Too Many Requests"),
    (
        "connection-refused",
        {"body": requests.ConnectionError("refused")},
        "could not fetch it: could not connect to the server",
    ),
    (
        "connect-timeout",
        {"body": requests.ConnectTimeout("slow")},
        "could not fetch it: could not connect within 10 s",
    ),
    (
        "read-timeout",
        {"body": requests.ReadTimeout("slow")},
        "could not fetch it: no answer within 30 s (timeout)",
    ),
]


@pytest.mark.parametrize(
    ("mock", "message"), [c[1:] for c in EXHAUSTED], ids=[c[0] for c in EXHAUSTED]
)
def test_a_transient_failure_that_lasts(
    rsps: responses.RequestsMock,
    fake: FakeTime,
    tmp_path: Path,
    mock: dict[str, Any],
    message: str,
) -> None:
    url = f"{CDN}/a.jpg"
    rsps.get(url, **mock)
    assert fetch(reader(tmp_path, policy(fake)), url) == FileProblem(message)
    assert hits(rsps, url) == 3
    assert fake.sleeps == [1.0, 2.0]


@pytest.mark.parametrize(
    ("status", "headers", "message"),
    [
        (404, {}, "could not fetch it: 404 Not Found"),
        (410, {}, "could not fetch it: 410 Gone"),
        (403, {}, "could not fetch it: 403 Forbidden"),  # bare: no batch to split here
        (401, {}, "could not fetch it: 401 Unauthorized"),
        (400, {"Retry-After": "1"}, "could not fetch it: 400 Bad Request"),
        (204, {}, "could not fetch it: 204 No Content"),
        (206, {}, "could not fetch it: 206 Partial Content"),
        (304, {}, "could not fetch it: 304 Not Modified"),  # not asked for: no cached copy
        (300, {"Location": "/b.jpg"}, "could not fetch it: 300 Multiple Choices"),
    ],
    ids=["404", "410", "403", "401", "400", "204", "206", "304-unasked", "300"],
)
def test_other_answers_are_final(
    rsps: responses.RequestsMock,
    fake: FakeTime,
    tmp_path: Path,
    status: int,
    headers: dict[str, str],
    message: str,
) -> None:
    url = f"{CDN}/a.jpg"
    rsps.get(url, status=status, headers=headers, body="")
    assert fetch(reader(tmp_path, policy(fake)), url) == FileProblem(message)
    assert hits(rsps, url) == 1
    assert fake.sleeps == []


def test_a_file_that_does_not_fit_is_not_retried(
    rsps: responses.RequestsMock, fake: FakeTime, tmp_path: Path
) -> None:
    url = f"{CDN}/big.jpg"
    rsps.get(url, body=b"\xff" * 3000, content_type="image/jpeg")
    files = reader(tmp_path, policy(fake), limits=MediaLimits(max_bytes=1024))
    assert fetch(files, url) == FileProblem(
        "file too large: more than 3 KB, over the limit for any file (1 KB)"
    )
    assert hits(rsps, url) == 1


def test_a_retry_starts_again_from_the_named_url(
    rsps: responses.RequestsMock, fake: FakeTime, tmp_path: Path
) -> None:
    rsps.get(f"{CDN}/go", status=302, headers={"Location": "/a.jpg"})
    rsps.get(f"{CDN}/a.jpg", status=503)
    jpeg(rsps, f"{CDN}/a.jpg")
    found = fetch(reader(tmp_path, policy(fake)), f"{CDN}/go")
    assert isinstance(found, FetchedFile) and found.content == JPEG
    assert [c.request.url for c in rsps.calls] == [
        f"{CDN}/go",
        f"{CDN}/a.jpg",
        f"{CDN}/go",
        f"{CDN}/a.jpg",
    ]


def test_a_retry_is_logged_without_the_query(
    rsps: responses.RequestsMock,
    fake: FakeTime,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    url = f"{CDN}/a.jpg?X-Amz-Signature=SENTINEL"
    rsps.get(url, status=503)
    jpeg(rsps, url)
    with caplog.at_level(logging.WARNING):
        assert isinstance(fetch(reader(tmp_path, policy(fake)), url), FetchedFile)
    assert [r.getMessage() for r in caplog.records] == [
        "GET https://cdn.test/a.jpg: 503 Service Unavailable; retrying in 1.0 s (attempt 2 of 3)"
    ]
    assert "SENTINEL" not in caplog.text


def test_without_a_policy_a_download_is_tried_once(
    rsps: responses.RequestsMock, tmp_path: Path
) -> None:
    url = f"{CDN}/a.jpg"
    rsps.get(url, status=503)
    files = FileReader(feed_dir=tmp_path)
    assert fetch(files, url) == FileProblem("could not fetch it: 503 Service Unavailable")
    assert hits(rsps, url) == 1
    files.close()


class _Raw:
    """A body that yields ``parts``, then (if ``broken``) loses the connection."""

    def __init__(self, parts: list[bytes], broken: bool) -> None:
        self._parts = parts
        self._broken = broken

    def stream(self, amt: int, decode_content: bool = True) -> Iterator[bytes]:
        yield from self._parts
        if self._broken:
            raise urllib3.exceptions.ProtocolError("Connection broken: connection reset by peer")

    def close(self) -> None:
        pass


class _Adapter(requests.adapters.BaseAdapter):
    """Answers 200 with a body cut after ``cut`` bytes the first time, then a whole one."""

    def __init__(self, cut: int) -> None:
        super().__init__()
        self.cut = cut
        self.calls = 0

    def send(
        self, request: requests.PreparedRequest, *args: Any, **kwargs: Any
    ) -> requests.Response:
        self.calls += 1
        response = requests.Response()
        response.status_code = 200
        response.headers = requests.structures.CaseInsensitiveDict({"Content-Type": "image/jpeg"})
        first = self.calls == 1
        response.raw = _Raw([JPEG[: self.cut]] if first else [JPEG], broken=first)
        response.request = request
        response.url = request.url or ""
        return response

    def close(self) -> None:
        pass


def test_a_connection_lost_mid_body_is_retried(fake: FakeTime, tmp_path: Path) -> None:
    adapter = _Adapter(cut=5)
    session = requests.Session()
    session.mount(CDN, adapter)
    found = fetch(reader(tmp_path, policy(fake), session=session), f"{CDN}/a.jpg")
    assert isinstance(found, FetchedFile) and found.content == JPEG
    assert adapter.calls == 2
    assert fake.sleeps == [1.0]


# --- the media stage picks its policy --------------------------------------------------


class FakePim:
    def __init__(self, retry: RetryPolicy | None = None) -> None:
        if retry is not None:
            self.retry = retry
        self.uploads = 0

    def upload_media_file(self, target: Mapping[str, Any], **_: Any) -> MediaUpload:
        self.uploads += 1
        return MediaUpload(201, "", f"a/b/c/d/{self.uploads:040x}_a.jpg")

    def media_file_exists(self, code: str) -> bool | None:
        return True

    def patch_collection(
        self, entity: Entity, lines: Sequence[bytes], *, create_missing_options: bool = False
    ) -> list[LineResult]:
        return [LineResult(204, "")]


@pytest.mark.parametrize(
    ("client_policy", "stage_policy", "result", "tries"),
    [
        (True, False, LineResult(201, ""), 2),
        (False, False, LineResult(422, "could not fetch it: 503 Service Unavailable"), 1),
        (False, True, LineResult(201, ""), 2),
        (True, True, LineResult(201, ""), 2),
    ],
    ids=["the-clients", "none-one-attempt", "given", "given-wins"],
)
def test_the_media_stage_retries_with_the_clients_policy(
    rsps: responses.RequestsMock,
    fake: FakeTime,
    tmp_path: Path,
    client_policy: bool,
    stage_policy: bool,
    result: LineResult,
    tries: int,
) -> None:
    url = f"{CDN}/a.jpg"
    rsps.get(url, status=503)
    jpeg(rsps, url)
    pim = FakePim(policy(fake, attempts=9) if client_policy else None)
    stage = MediaStage(
        pim,
        feed_dir=tmp_path,
        base_url="https://pim.test",
        retry=policy(fake, attempts=2) if stage_policy else None,
    )
    assert stage.apply(MediaTask(2, "products", "tee", ref(url))) == result
    assert hits(rsps, url) == tries
    stage.close()


# --- where downloads may go (server-side request forgery) ---------------------------------

#: names a hostile feed may use for this machine, a private network or cloud metadata,
#: and what a resolver answers for them (numeric forms: the system's own parse)
HOSTILE_NAMES = {
    "localhost": ["127.0.0.1", "::1"],
    "LOCALHOST.": ["127.0.0.1"],
    "metadata.google.internal": ["169.254.169.254"],
    "rebind.test": ["127.0.0.1"],
    "intranet.test": ["10.0.0.1", "192.168.1.20"],
}


def hostile_resolver(host: str, port: int) -> list[str]:
    """Names from the table; numeric forms parsed by the system (no lookup leaves here)."""
    from feed_export.akeneo.transport import system_resolver

    if host in HOSTILE_NAMES:
        return HOSTILE_NAMES[host]
    return system_resolver(host, port)  # a numeric host: parsed, never looked up


@pytest.fixture
def image_server() -> Iterator[str]:
    """A server on loopback that would hand out an 'admin' picture to anyone."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from threading import Thread

    class Admin(BaseHTTPRequestHandler):
        hits: ClassVar[list[str]] = []

        def do_GET(self) -> None:
            Admin.hits.append(self.path)
            if self.path.startswith("/redirect"):
                self.send_response(302)
                self.send_header("Location", self.path.split("to=", 1)[1])
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
            self.send_header("Content-Length", str(len(JPEG)))
            self.end_headers()
            self.wfile.write(JPEG)

        def log_message(self, *args: Any) -> None:
            pass

    Admin.hits = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Admin)
    Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


REFUSED_HOSTS = [
    "127.0.0.1",
    "localhost",
    "[::1]",
    "2130706433",
    "0177.0.0.1",
    "0x7f000001",
    "127.1",
    "LOCALHOST.",
    "rebind.test",
    "169.254.169.254",
    "metadata.google.internal",
    "10.0.0.1",
    "intranet.test",
    "0.0.0.0",
    "[fd00::1]",
    "[::ffff:169.254.169.254]",
    "[::ffff:127.0.0.1]",
]


@pytest.mark.parametrize("host", REFUSED_HOSTS, ids=REFUSED_HOSTS)
def test_a_url_to_this_machine_or_a_private_network_is_refused_unconnected(
    tmp_path: Path, image_server: str, host: str
) -> None:
    from hostile import loopback_only

    port = image_server.rsplit(":", 1)[1]
    files = FileReader(feed_dir=tmp_path, resolve=hostile_resolver)
    with loopback_only() as asked:
        found = fetch(files, f"http://{host}:{port}/admin.jpg")
    assert found == FileProblem("could not fetch it: could not connect to the server")
    assert asked == []  # refused before any connection


def test_a_refused_address_reads_like_a_closed_port(tmp_path: Path) -> None:
    """No port scanner: a closed port (opened to the policy) says what a refusal says."""
    import socket

    with socket.create_server(("127.0.0.1", 0)) as probe:
        closed = probe.getsockname()[1]
    opened = FileReader(feed_dir=tmp_path, limits=MediaLimits(allow_hosts=frozenset({"127.0.0.1"})))
    refused = FileReader(feed_dir=tmp_path)
    url = f"http://127.0.0.1:{closed}/a.jpg"
    assert fetch(opened, url) == fetch(refused, url)
    assert fetch(refused, url) == FileProblem("could not fetch it: could not connect to the server")


def test_the_flags_open_the_local_server(tmp_path: Path, image_server: str) -> None:
    url = f"http://{image_server}/a.jpg"
    for limits in (
        MediaLimits(allow_hosts=frozenset({"127.0.0.1"})),
        MediaLimits(allow_private=True),
    ):
        found = fetch(FileReader(feed_dir=tmp_path, limits=limits), url)
        assert isinstance(found, FetchedFile) and found.content == JPEG


@pytest.mark.parametrize(
    "target",
    ["http://localhost:{port}/secret.jpg", "http://10.0.0.1/secret.jpg",
     "http://metadata.google.internal/computeMetadata/v1/"],
    ids=["loopback-by-name", "private", "metadata"],
)  # fmt: skip
def test_a_redirect_is_checked_again(tmp_path: Path, image_server: str, target: str) -> None:
    from hostile import loopback_only

    port = image_server.rsplit(":", 1)[1]
    opened = MediaLimits(allow_hosts=frozenset({"127.0.0.1"}))  # only this name, not others
    files = FileReader(feed_dir=tmp_path, limits=opened, resolve=hostile_resolver)
    url = f"http://{image_server}/redirect?to={target.format(port=port)}"
    with loopback_only() as asked:
        found = fetch(files, url)
    assert found == FileProblem("could not fetch it: could not connect to the server")
    assert len(asked) == 1  # the first hop only: the redirect's target was never reached


DRIPS = [
    ("headers", b"HTTP/1.1 200 OK\r\n", b"X-Slow: 1\r\n" * 1000, ""),
    (
        "body",
        b"HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\nContent-Length: 9000\r\n\r\n",
        b"\xff" * 9000,
        " bytes so far)",
    ),
]


@pytest.mark.parametrize(
    ("head", "drip", "tail"), [d[1:] for d in DRIPS], ids=[d[0] for d in DRIPS]
)
def test_a_download_that_drips_stops_at_its_deadline(
    tmp_path: Path, head: bytes, drip: bytes, tail: str
) -> None:
    """One byte every 50 ms never trips a read timeout: the deadline ends it, while reading."""
    import time

    from hostile import DripServer

    limits = MediaLimits(deadline=0.5, read_timeout=5, allow_hosts=frozenset({"127.0.0.1"}))
    with DripServer(head, drip) as server:
        started = time.monotonic()
        found = fetch(FileReader(feed_dir=tmp_path, limits=limits), f"{server.url}/a.jpg")
        took = time.monotonic() - started
    assert isinstance(found, FileProblem)
    assert found.message.startswith("could not fetch it: not complete after 0.5 s")
    assert found.message.endswith(tail)
    assert took < 3
