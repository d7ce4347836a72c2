"""The media stage: fetching by URL (a local HTTP server) or path, checks, upload once,
reuse by content, the cache across runs; the PIM is a fake recording what it is asked."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import orjson
import pytest

from feed_export.akeneo.responses import LineResult, MediaUpload
from feed_export.config import Entity
from feed_export.push.decode import MediaRef
from feed_export.push.files import MediaLimits
from feed_export.push.media import MediaStage, MediaTask

#: the test's files server runs on loopback, which downloads refuse unless allowed
LOCAL = frozenset({"127.0.0.1"})

JPEG = b"\xff\xd8\xff\xe0 a small jpeg"
PNG = b"\x89PNG\r\n\x1a\n a small png"


class Files(BaseHTTPRequestHandler):
    """Serves ``routes``: path -> (status, headers, body); counts hits per path."""

    routes: ClassVar[dict[str, tuple[int, dict[str, str], bytes]]] = {}
    hits: ClassVar[dict[str, int]] = {}
    release = threading.Event()

    def do_GET(self) -> None:
        path = self.path
        Files.hits[path] = Files.hits.get(path, 0) + 1
        if path == "/slow.jpg":
            Files.release.wait(10)  # never answers within the test's read timeout
            return
        status, headers, body = Files.routes.get(path, (404, {}, b"no such file"))
        etag = headers.get("ETag")
        if etag and self.headers.get("If-None-Match") == etag:
            status, body = 304, b""
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        if "Content-Length" not in headers:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    Files.routes = {
        "/a.jpg": (200, {"Content-Type": "image/jpeg", "ETag": '"v1"'}, JPEG),
        "/same-content.jpg": (200, {"Content-Type": "image/jpeg"}, JPEG),
        "/photo": (200, {"Content-Type": "image/png"}, PNG),
        "/photo.php": (200, {"Content-Type": "image/jpeg"}, JPEG),
        "/anim.gif": (200, {"Content-Type": "image/gif"}, b"GIF89a"),
        "/soft-404.jpg": (200, {"Content-Type": "text/html"}, b"<html>not found</html>"),
        "/big.jpg": (200, {"Content-Type": "image/jpeg"}, b"\xff" * 3000),
        "/to-a": (302, {"Location": "/a.jpg"}, b""),
        "/to-ftp": (302, {"Location": "ftp://files.example/a.jpg"}, b""),
        "/loop": (302, {"Location": "/loop"}, b""),
        "/named": (
            200,
            {
                "Content-Type": "image/jpeg",
                "Content-Disposition": 'attachment; filename="front.jpg"',
            },
            JPEG,
        ),
    }
    Files.hits = {}
    Files.release = threading.Event()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Files)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        Files.release.set()
        httpd.shutdown()
        httpd.server_close()


class FakePim:
    """Records uploads and value PATCHes; knows which media codes it holds."""

    def __init__(self) -> None:
        self.uploads: list[tuple[dict[str, Any], bool, str, bytes, str]] = []
        self.patches: list[dict[str, Any]] = []
        self.codes: set[str] = set()
        self.asked: list[str] = []
        self.refuse: str | None = None
        self.lock = threading.Lock()

    def upload_media_file(
        self,
        target: Mapping[str, Any],
        *,
        model: bool,
        filename: str,
        content: bytes,
        content_type: str,
    ) -> MediaUpload:
        with self.lock:
            self.uploads.append((dict(target), model, filename, content, content_type))
            if self.refuse:
                return MediaUpload(422, self.refuse)
            code = f"a/b/c/d/{len(self.uploads):040x}_{filename}"
            self.codes.add(code)
            return MediaUpload(201, "", code)

    def media_file_exists(self, code: str) -> bool | None:
        self.asked.append(code)
        return code in self.codes

    def patch_collection(
        self, entity: Entity, lines: Sequence[bytes], *, create_missing_options: bool = False
    ) -> list[LineResult]:
        self.patches.extend(orjson.loads(line) for line in lines)
        return [LineResult(204, "")]


def ref(
    source: str,
    *,
    kind: str = "url",
    allowed: frozenset[str] = frozenset({"jpg", "jpeg", "png"}),
    max_bytes: int | None = None,
    image: bool = True,
) -> MediaRef:
    return MediaRef("picture", None, None, source, kind, "picture", allowed, max_bytes, image)  # type: ignore[arg-type]


def task(r: MediaRef, key: str = "tee", entity: Entity = "products") -> MediaTask:
    return MediaTask(2, entity, key, r)


@pytest.fixture
def pim() -> FakePim:
    return FakePim()


def stage(pim: FakePim, tmp_path: Path, **limits: Any) -> MediaStage:
    return MediaStage(
        pim,
        feed_dir=tmp_path,
        base_url="http://pim.test",
        cache_path=tmp_path / ".feed_export" / "media-cache.json",
        # the files' server is on loopback: opened explicitly (--allow-media-host)
        limits=MediaLimits(**{"read_timeout": 0.3, "allow_hosts": LOCAL, **limits}),
    )


# -- upload once, reuse afterwards ------------------------------------------------------


def test_first_row_uploads_later_rows_reuse_the_code(
    server: str, pim: FakePim, tmp_path: Path
) -> None:
    media = stage(pim, tmp_path)
    assert media.apply(task(ref(f"{server}/a.jpg"), "tee-1")) == LineResult(201, "")
    assert media.apply(task(ref(f"{server}/a.jpg"), "tee-2")) == LineResult(204, "")
    # another URL with the same bytes: fetched, but not uploaded again
    assert media.apply(task(ref(f"{server}/same-content.jpg"), "tee-3")) == LineResult(204, "")
    media.close()
    (target, model, filename, content, content_type) = pim.uploads[0]
    assert len(pim.uploads) == 1
    assert target == {"identifier": "tee-1", "attribute": "picture", "scope": None, "locale": None}
    assert (model, filename, content, content_type) == (False, "a.jpg", JPEG, "image/jpeg")
    code = next(iter(pim.codes))
    value = [{"locale": None, "scope": None, "data": code}]
    assert pim.patches == [
        {"identifier": "tee-2", "values": {"picture": value}},
        {"identifier": "tee-3", "values": {"picture": value}},
    ]
    assert Files.hits["/a.jpg"] == 1
    assert media.stats.as_dict() == {
        "cache_hits": 0,
        "downloads": 2,
        "failures": 0,
        "reused": 2,
        "uploads": 1,
    }


def test_a_later_run_neither_downloads_nor_uploads_an_unchanged_file(
    server: str, pim: FakePim, tmp_path: Path
) -> None:
    first = stage(pim, tmp_path)
    first.apply(task(ref(f"{server}/a.jpg")))
    first.close()
    assert (tmp_path / ".feed_export" / "media-cache.json").is_file()
    second = stage(pim, tmp_path)
    assert second.apply(task(ref(f"{server}/a.jpg"))) == LineResult(204, "")
    second.close()
    assert len(pim.uploads) == 1
    assert pim.asked == [next(iter(pim.codes))]  # the cached code is checked once
    assert second.stats.as_dict()["cache_hits"] == 1
    assert second.stats.as_dict()["downloads"] == 0  # a 304


def test_a_cached_code_the_pim_lost_is_uploaded_again(
    server: str, pim: FakePim, tmp_path: Path
) -> None:
    first = stage(pim, tmp_path)
    first.apply(task(ref(f"{server}/a.jpg")))
    first.close()
    pim.codes.clear()  # e.g. the sandbox was restarted
    second = stage(pim, tmp_path)
    assert second.apply(task(ref(f"{server}/a.jpg"))) == LineResult(201, "")
    assert len(pim.uploads) == 2


def test_product_models_upload_by_code(server: str, pim: FakePim, tmp_path: Path) -> None:
    stage(pim, tmp_path).apply(task(ref(f"{server}/a.jpg"), "tee-red", "product-models"))
    target, model, *_ = pim.uploads[0]
    assert model is True and target["code"] == "tee-red"


# -- names and types ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "filename"),
    [
        ("/photo", "photo.png"),  # no extension: the content type gives one
        ("/photo.php", "photo.jpg"),  # a script's name, an image inside
        ("/named", "front.jpg"),  # Content-Disposition wins
        ("/to-a", "a.jpg"),  # a redirect to http is followed
    ],
    ids=["no-extension", "wrong-extension-right-type", "content-disposition", "redirect"],
)
def test_the_uploaded_name(
    server: str, pim: FakePim, tmp_path: Path, path: str, filename: str
) -> None:
    assert stage(pim, tmp_path).apply(task(ref(server + path))).status == 201
    assert pim.uploads[0][2] == filename


# -- bad input: one clear message per row -----------------------------------------------

URL_FAILURES = [
    # id, path, ref options, the message
    ("404", "/missing.jpg", {}, "could not fetch it: 404 Not Found"),
    ("timeout", "/slow.jpg", {}, "could not fetch it: no answer within 0.3 s (timeout)"),
    (
        "too-large-for-the-attribute",
        "/big.jpg",
        {"max_bytes": 1024},
        "file too large: 3 KB, over the limit of picture (1 KB)",
    ),
    (
        "disallowed-extension",
        "/anim.gif",
        {},
        "file type .gif (image/gif) is not allowed here (allowed: jpeg, jpg, png)",
    ),
    ("html-instead-of-an-image", "/soft-404.jpg", {}, "not an image: the server sent text/html"),
    (
        "redirect-to-ftp",
        "/to-ftp",
        {},
        "could not fetch it: redirected to 'ftp://files.example/a.jpg'; only http and https "
        "are followed",
    ),
    ("redirect-loop", "/loop", {}, "could not fetch it: more than 5 redirects"),
]


@pytest.mark.parametrize(
    ("path", "options", "message"),
    [case[1:] for case in URL_FAILURES],
    ids=[case[0] for case in URL_FAILURES],
)
def test_url_failures(
    server: str, pim: FakePim, tmp_path: Path, path: str, options: dict[str, Any], message: str
) -> None:
    media = stage(pim, tmp_path)
    assert media.apply(task(ref(server + path, **options))) == LineResult(422, message)
    assert pim.uploads == [] and pim.patches == []


def test_global_size_cap_and_a_stream_longer_than_announced(
    server: str, pim: FakePim, tmp_path: Path
) -> None:
    media = stage(pim, tmp_path, max_bytes=2048)
    result = media.apply(task(ref(f"{server}/big.jpg")))
    assert result.message == "file too large: 3 KB, over the limit for any file (2 KB)"


def test_a_download_past_its_deadline_stops(server: str, pim: FakePim, tmp_path: Path) -> None:
    ticks = iter(range(0, 10_000, 200))  # every look at the clock: 200 s later
    media = MediaStage(
        pim,
        feed_dir=tmp_path,
        base_url="http://pim.test",
        limits=MediaLimits(deadline=120, allow_hosts=LOCAL),
        clock=lambda: float(next(ticks)),
    )
    result = media.apply(task(ref(f"{server}/big.jpg")))
    assert result == LineResult(
        422, "could not fetch it: not complete after 120 s (3,000 bytes so far)"
    )


def test_a_failed_url_is_tried_once_per_run(server: str, pim: FakePim, tmp_path: Path) -> None:
    media = stage(pim, tmp_path)
    for key in ("a", "b", "c"):
        assert media.apply(task(ref(f"{server}/missing.jpg"), key)).status == 422
    assert Files.hits["/missing.jpg"] == 1
    assert media.stats.as_dict()["failures"] == 3


def test_the_pims_refusal_is_reported(server: str, pim: FakePim, tmp_path: Path) -> None:
    pim.refuse = 'Attribute "picture" does not expect a locale, "en_US" given.'
    result = stage(pim, tmp_path).apply(task(ref(f"{server}/a.jpg")))
    assert result == LineResult(
        422,
        'the PIM refused the file: Attribute "picture" does not expect a locale, "en_US" given.',
    )


def test_products_by_uuid_are_refused(pim: FakePim, tmp_path: Path) -> None:
    result = stage(pim, tmp_path).apply(
        task(ref("https://cdn.test/a.jpg"), "6f1f0a0e-2f4b-4c59-9c43-1b1c5a7e0d11", "products-uuid")
    )
    assert result.status == 422 and "--entity products" in result.message


# -- paths ----------------------------------------------------------------------------


def test_paths_relative_to_the_feed_folder(pim: FakePim, tmp_path: Path) -> None:
    (tmp_path / "pictures").mkdir()
    (tmp_path / "pictures" / "red tee.jpg").write_bytes(JPEG)
    media = stage(pim, tmp_path)
    assert media.apply(task(ref("pictures/red tee.jpg", kind="path"))).status == 201
    assert media.apply(task(ref("pictures\\red tee.jpg", kind="path"), "b")).status == 204
    media.close()
    assert pim.uploads[0][2:] == ("red tee.jpg", JPEG, "image/jpeg")
    again = stage(pim, tmp_path)  # a later run: unchanged size and mtime, not even read
    assert again.apply(task(ref("pictures/red tee.jpg", kind="path"))).status == 204
    assert again.stats.as_dict()["downloads"] == 0
    (tmp_path / "pictures" / "red tee.jpg").write_bytes(JPEG + b" edited")
    changed = stage(pim, tmp_path)
    assert changed.apply(task(ref("pictures/red tee.jpg", kind="path"))).status == 201
    assert len(pim.uploads) == 2


PATH_FAILURES = [
    (
        "missing",
        "pictures/none.jpg",
        "file not found: pictures/none.jpg (paths are relative to the feed's folder)",
    ),
    (
        "dot-dot",
        "../secret.jpg",
        "the path leads outside the feed's folder: only files inside it are read",
    ),
    (
        "absolute",
        "/etc/passwd.jpg",
        "absolute paths are not read: write the path relative to the feed's folder",
    ),
    (
        "windows-absolute",
        "C:\\pictures\\a.jpg",
        "absolute paths are not read: write the path relative to the feed's folder",
    ),
]


@pytest.mark.parametrize(
    ("source", "message"), [c[1:] for c in PATH_FAILURES], ids=[c[0] for c in PATH_FAILURES]
)
def test_path_failures(pim: FakePim, tmp_path: Path, source: str, message: str) -> None:
    feed_dir = tmp_path / "feed"
    feed_dir.mkdir()
    (tmp_path / "secret.jpg").write_bytes(JPEG)
    media = MediaStage(pim, feed_dir=feed_dir, base_url="http://pim.test")
    assert media.apply(task(ref(source, kind="path"))) == LineResult(422, message)


def test_a_symlink_out_of_the_folder_is_refused(pim: FakePim, tmp_path: Path) -> None:
    feed_dir = tmp_path / "feed"
    feed_dir.mkdir()
    (tmp_path / "secret.jpg").write_bytes(JPEG)
    (feed_dir / "link.jpg").symlink_to(tmp_path / "secret.jpg")
    media = MediaStage(pim, feed_dir=feed_dir, base_url="http://pim.test")
    assert "outside the feed's folder" in media.apply(task(ref("link.jpg", kind="path"))).message
    allowed = MediaStage(
        pim,
        feed_dir=feed_dir,
        base_url="http://pim.test",
        limits=MediaLimits(allow_outside_folder=True),
    )
    assert allowed.apply(task(ref("link.jpg", kind="path"))).status == 201


def test_a_cache_file_that_cannot_be_read_is_started_again(pim: FakePim, tmp_path: Path) -> None:
    cache = tmp_path / ".feed_export" / "media-cache.json"
    cache.parent.mkdir()
    cache.write_text("{not json")
    (tmp_path / "a.jpg").write_bytes(JPEG)
    media = stage(pim, tmp_path)
    assert media.apply(task(ref("a.jpg", kind="path"))).status == 201
    media.close()
    assert orjson.loads(cache.read_bytes())["version"] == 1


def test_feed_has_files() -> None:
    from feed_export.catalog.layout import resolve_headers
    from feed_export.catalog.structure import Catalog
    from feed_export.config import ExportOptions
    from feed_export.push.media import feed_has_files

    catalog = Catalog.from_dict(
        {
            "attributes": [
                {"code": "sku", "type": "pim_catalog_identifier"},
                {"code": "picture", "type": "pim_catalog_image"},
            ]
        }
    )
    opts = ExportOptions()
    assert feed_has_files(resolve_headers("f.csv", ["sku", "picture"], catalog, opts))
    assert not feed_has_files(resolve_headers("f.csv", ["sku"], catalog, opts))
