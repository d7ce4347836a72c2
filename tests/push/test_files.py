"""File downloads under the retry policy: transient failures retried, the rest final.

The files' server is mocked with ``responses``; the policy's clock and sleep are fakes.
(Paths, names, limits and the cache are tested through the media stage in test_media.)
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
import requests
import requests.adapters
import requests.structures
import responses
import urllib3

from feed_export.akeneo.responses import LineResult, MediaUpload
from feed_export.akeneo.retry import RetryPolicy
from feed_export.config import Entity
from feed_export.push.decode import MediaRef
from feed_export.push.files import FetchedFile, FileProblem, FileReader, MediaLimits
from feed_export.push.media import MediaStage, MediaTask

CDN = "https://cdn.test"
JPEG = b"\xff\xd8\xff\xe0 a small jpeg"


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def fake() -> FakeTime:
    return FakeTime()


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
