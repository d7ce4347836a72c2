"""A local image server and the catalogs the asset tests push into, on 127.0.0.1 only.

- ``ImageServer``: serves ``routes`` (path -> status, headers, body) over real loopback
  HTTP, answers ``If-None-Match`` with 304 when an ``ETag`` matches, counts the requests
  per path (``hits``) and the full downloads (``bodies``). Downloads from loopback are
  refused by the address policy unless allowed (``--allow-private-media`` or
  ``MediaLimits(allow_hosts=LOCAL)``), as a real run would refuse them.
- ``assets_catalog()``: the demo catalog, plus a ``links`` asset family whose main media
  is a ``media_link`` and a ``links`` asset collection attribute in the clothing family.
- ``asset_requests``: what a sandbox was asked of its asset endpoints.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from feed_export.sandbox import Sandbox
from feed_export.sandbox.catalog import demo_catalog_data

LOCAL = frozenset({"127.0.0.1"})
JPEG = b"\xff\xd8\xff\xe0 front of the tee"
JPEG_BACK = b"\xff\xd8\xff\xe0 back of the tee"
PNG = b"\x89PNG\r\n\x1a\n a label"

UPLOAD = "POST /api/rest/v1/asset-media-files"
PATCH_ASSETS = "PATCH /api/rest/v1/asset-families/<family>/assets"
PATCH_ASSET = "PATCH /api/rest/v1/asset-families/<family>/assets/<code>"
GET_ASSET = "GET /api/rest/v1/asset-families/<family>/assets/<code>"
DOWNLOAD = "GET /api/rest/v1/asset-media-files/<path:code>"


class ImageServer:
    """Image files over loopback HTTP; a context manager. ``url(path)`` names one."""

    def __init__(self, routes: Mapping[str, tuple[int, dict[str, str], bytes]]) -> None:
        self.routes = dict(routes)
        self.hits: dict[str, int] = {}
        self.bodies: dict[str, int] = {}  # 200 answers with the file
        lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = self.path
                status, headers, body = server.routes.get(path, (404, {}, b"no such file"))
                etag = headers.get("ETag")
                if etag and self.headers.get("If-None-Match") == etag:
                    status, body = 304, b""
                with lock:
                    server.hits[path] = server.hits.get(path, 0) + 1
                    if status == 200:
                        server.bodies[path] = server.bodies.get(path, 0) + 1
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.02,), daemon=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def url(self, path: str) -> str:
        return self.base + path

    def __enter__(self) -> ImageServer:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


def images() -> ImageServer:
    """The usual files: two JPEGs (one with an ETag), a PNG, the same front elsewhere."""
    return ImageServer(
        {
            "/tees/front.jpg": (200, {"Content-Type": "image/jpeg", "ETag": '"f1"'}, JPEG),
            "/tees/back.jpg": (200, {"Content-Type": "image/jpeg"}, JPEG_BACK),
            "/other/front.jpg": (200, {"Content-Type": "image/jpeg"}, JPEG_BACK),
            "/labels/care%20label.png": (200, {"Content-Type": "image/png"}, PNG),
            "/notes.txt": (200, {"Content-Type": "text/plain"}, b"not an image"),
        }
    )


def assets_catalog() -> dict[str, Any]:
    """The demo catalog with a media_link asset family ``links`` and its collection."""
    data = copy.deepcopy(demo_catalog_data())
    data["asset_families"].append(
        {
            "code": "links",
            "labels": {"en_US": "Links"},
            "attribute_as_main_media": "url",
            "naming_convention": {},
            "product_link_rules": [],
            "transformations": [],
            "sharing_enabled": False,
        }
    )
    data["asset_attributes"]["links"] = [
        {
            "code": "url",
            "labels": {"en_US": "URL"},
            "type": "media_link",
            "value_per_locale": False,
            "value_per_channel": False,
            "is_required_for_completeness": True,
            "is_read_only": False,
            "prefix": None,
            "suffix": None,
            "media_type": "image",
        }
    ]
    packshots = next(a for a in data["attributes"] if a["code"] == "packshots")
    data["attributes"].append(
        {**packshots, "code": "links", "reference_data_name": "links", "labels": {}}
    )
    for family in data["families"]:
        if family["code"] == "clothing":
            family["attributes"].append("links")
    return data


def asset_requests(sb: Sandbox) -> dict[str, int]:
    """How often each asset endpoint was asked (zeros left out)."""
    wanted = (UPLOAD, PATCH_ASSETS, PATCH_ASSET, GET_ASSET, DOWNLOAD)
    return {name: sb.stats.requests[name] for name in wanted if sb.stats.requests[name]}
