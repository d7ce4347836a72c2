"""Files named by URL or path in a feed -> the PIM: fetched, checked, uploaded once.

For each file or image cell that holds an ``http(s)`` URL or a path (``MediaRef``),
once its product (model) is saved, ``MediaStage.apply``:

1. reads the file: a path relative to the feed's folder (never outside it, unless
   allowed), or a URL (``http``/``https`` only, redirects followed only to
   ``http``/``https``, a connect/read timeout and an overall deadline, a size cap:
   the attribute's ``max_file_size`` and a global one);
2. checks it: the file name's extension, or the one its content type implies, must be
   in the attribute's ``allowed_extensions``; an image attribute takes only ``image/*``;
3. sends it: the first time a content (SHA-1) is met, ``POST /media-files`` stores it and
   sets the value (akeneo-api.md §7); every later row with the same content gets the
   returned code in a one-line PATCH instead, so a file used by many rows is uploaded
   once per run.

A cache file (``.feed_export/media-cache.json`` beside the feed) remembers, per PIM,
each source's content hash and media-file code, with what tells a change: a path's size
and mtime, a URL's ``ETag`` / ``Last-Modified`` (asked with ``If-None-Match`` /
``If-Modified-Since``). On a later run an unchanged file is neither read again (paths)
nor downloaded again (a 304), nor uploaded again: its code is checked once with
``GET /media-files/{code}`` and sent in a PATCH.

Decisions where the reference is silent:

- Several products may name one media-file code: the sandbox allows it, real Akeneo
  stores the key in each value (UNCONFIRMED that it never garbage-collects a shared
  file; a PIM that refused would answer the PATCH with its 422 and the row says so).
- A URL that fails (404, timeout...) fails every row that names it, and is tried once
  per run; a file's failure never fails the product: the row says
  ``Saved (201), except: picture not saved (<source>): <why>`` with status 422 for a
  file problem, or the PIM's status when the PIM refused the upload.
- ``max_file_size`` is read as MiB (1,048,576 bytes per MB); the PIM has the last word.
- Products by uuid (``--entity products-uuid``): the upload names products by
  identifier only (§7), so files by URL or path are refused there with a clear message.
"""

from __future__ import annotations

import hashlib
import json
import logging
import mimetypes
import os
import re
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from email.message import Message
from http import HTTPStatus
from pathlib import Path, PurePosixPath
from typing import Any, Protocol
from urllib.parse import unquote, urljoin, urlsplit

import orjson
import requests

from feed_export import __version__
from feed_export.akeneo.responses import LineResult, MediaUpload
from feed_export.catalog.codecs import MEDIA_TYPES
from feed_export.catalog.layout import FeedLayout
from feed_export.config import IDENTIFIER_FIELD, Entity
from feed_export.push.decode import MediaRef
from feed_export.push.planner import MediaTask

log = logging.getLogger(__name__)

#: where the cache lives, relative to the feed's folder
CACHE_PATH = Path(".feed_export") / "media-cache.json"
_CHUNK = 64 * 1024
_MIB = 1024 * 1024
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_GENERIC = "application/octet-stream"


def feed_has_files(layout: FeedLayout) -> bool:
    """Whether the feed has file or image columns (cells there may name files to fetch)."""
    return any(c.attribute is not None and c.attribute.type in MEDIA_TYPES for c in layout.columns)


class MediaClient(Protocol):
    """What the media stage needs of ``AkeneoClient``."""

    def upload_media_file(
        self,
        target: Mapping[str, Any],
        *,
        model: bool,
        filename: str,
        content: bytes,
        content_type: str,
    ) -> MediaUpload: ...

    def media_file_exists(self, code: str) -> bool | None: ...

    def patch_collection(
        self, entity: Entity, lines: Sequence[bytes], *, create_missing_options: bool = False
    ) -> list[LineResult]: ...


@dataclass(frozen=True, slots=True)
class MediaLimits:
    """How files are fetched: timeouts in seconds, sizes in bytes."""

    connect_timeout: float = 10.0
    read_timeout: float = 30.0  # per read
    deadline: float = 120.0  # the whole download
    max_bytes: int = 100 * _MIB  # whatever the attribute says
    max_redirects: int = 5
    allow_outside_folder: bool = False  # absolute paths and ``..`` out of the feed's folder


class MediaStats:
    """Counters of what the stage did (thread-safe)."""

    __slots__ = ("_lock", "cache_hits", "downloads", "failures", "reused", "uploads")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.downloads = 0  # files read from a URL or a path
        self.cache_hits = 0  # files known unchanged from an earlier run (no read, no upload)
        self.uploads = 0  # POST /media-files
        self.reused = 0  # values set with a code already in the PIM
        self.failures = 0

    def add(self, name: str) -> None:
        with self._lock:
            setattr(self, name, getattr(self, name) + 1)

    def as_dict(self) -> dict[str, int]:
        with self._lock:
            return {name: getattr(self, name) for name in self.__slots__ if name != "_lock"}


class _Failed(Exception):
    """A file that cannot be fetched or does not fit: the message says why."""

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True, slots=True)
class _File:
    content: bytes | None  # None: unchanged since the cached run, not read again
    name: str
    content_type: str
    sha1: str
    validators: dict[str, Any]  # what tells a change next time (size/mtime, etag...)


class MediaCache:
    """Source -> content hash and media-file code, per PIM, kept in a JSON file."""

    VERSION = 1

    def __init__(self, path: Path | None, base_url: str) -> None:
        self.path = path
        self._base = base_url
        self._lock = threading.Lock()
        self._data: dict[str, Any] = {"version": self.VERSION, "pims": {}}
        self._dirty = False
        if path is not None and path.is_file():
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                if isinstance(data, dict) and data.get("version") == self.VERSION:
                    self._data = data
            except (OSError, ValueError) as exc:
                log.warning("%s: media cache not read (%s); starting a new one", path, exc)
        self._entries: dict[str, dict[str, Any]] = self._data.setdefault("pims", {}).setdefault(
            base_url, {}
        )

    def get(self, source: str) -> dict[str, Any] | None:
        with self._lock:
            entry = self._entries.get(source)
            return dict(entry) if isinstance(entry, dict) else None

    def put(self, source: str, entry: dict[str, Any]) -> None:
        with self._lock:
            self._entries[source] = entry
            self._dirty = True

    def forget(self, source: str) -> None:
        with self._lock:
            if self._entries.pop(source, None) is not None:
                self._dirty = True

    def save(self) -> None:
        """Write the file (atomically) if anything changed; a failure is only logged."""
        with self._lock:
            if self.path is None or not self._dirty:
                return
            text = json.dumps(self._data, indent=1, sort_keys=True)
            self._dirty = False
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".media-cache.")
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(text)
            os.replace(tmp, self.path)
        except OSError as exc:
            log.warning("%s: media cache not written (%s)", self.path, exc)


class MediaStage:
    """Fetches, checks and uploads the files of saved rows; ``apply`` is thread-safe."""

    def __init__(
        self,
        client: MediaClient,
        *,
        feed_dir: Path,
        base_url: str,
        cache_path: Path | None = None,
        limits: MediaLimits = MediaLimits(),
        session: requests.Session | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._feed_dir = feed_dir.resolve()
        self._limits = limits
        self._own_session = session is None
        self._session = session or requests.Session()
        self._session.headers["User-Agent"] = f"feed_export/{__version__}"
        self._clock = clock
        self.cache = MediaCache(cache_path, base_url)
        self.stats = MediaStats()
        self._lock = threading.Lock()
        self._source_locks: dict[str, threading.Lock] = {}
        self._by_source: dict[str, str | _Failed] = {}  # this run: source -> code or failure
        self._by_hash: dict[str, str] = {}  # this run: content -> code in the PIM
        self._checked: dict[str, bool] = {}  # cached codes checked with the PIM this run

    @classmethod
    def for_feed(cls, client: MediaClient, feed: Path, base_url: str, **options: Any) -> MediaStage:
        """A stage for ``feed``: paths relative to its folder, the cache beside it."""
        folder = feed.resolve().parent
        return cls(
            client, feed_dir=folder, base_url=base_url, cache_path=folder / CACHE_PATH, **options
        )

    def close(self) -> None:
        """Save the cache; close the HTTP session if this stage made it."""
        self.cache.save()
        if self._own_session:
            self._session.close()

    # -- one file -----------------------------------------------------------------------

    def apply(self, task: MediaTask) -> LineResult:
        """Set ``task``'s file as its product's value; the result says how it went."""
        ref = task.ref
        if task.entity == "products-uuid":
            self.stats.add("failures")
            return LineResult(
                422,
                "files by URL or path need products by identifier (the PIM's upload names "
                "products by identifier): push with --entity products, or give media-file codes",
            )
        source = self._source_key(ref)
        if isinstance(source, _Failed):
            self.stats.add("failures")
            return LineResult(source.status, str(source))
        with self._lock_for(source):
            known = self._by_source.get(source)
            if isinstance(known, _Failed):
                self.stats.add("failures")
                return LineResult(known.status, str(known))
            if known is not None:
                return self._set_code(task, known)
            try:
                return self._first_time(task, source)
            except _Failed as exc:
                self._by_source[source] = exc
                self.stats.add("failures")
                return LineResult(exc.status, str(exc))

    def _first_time(self, task: MediaTask, source: str) -> LineResult:
        ref = task.ref
        cached = self.cache.get(source)
        found = self._read(ref, source, cached)
        code = None
        if found.content is None and cached is not None:
            code = self._usable(cached.get("code"))
            if code is None:  # unchanged here, but gone from the PIM: read it again
                found = self._read(ref, source, None)
            else:
                self.stats.add("cache_hits")
        if code is None:
            with self._lock:
                code = self._by_hash.get(found.sha1)
        if code is not None:
            result = self._set_code(task, code)
            if 200 <= result.status < 300:
                self._remember(source, found, code)
            return result
        assert found.content is not None
        target: dict[str, Any] = {
            IDENTIFIER_FIELD[task.entity]: task.key,
            "attribute": ref.attribute,
            "scope": ref.scope,
            "locale": ref.locale,
        }
        upload = self._client.upload_media_file(
            target,
            model=task.entity == "product-models",
            filename=found.name,
            content=found.content,
            content_type=found.content_type,
        )
        self.stats.add("uploads")
        if upload.code is None:
            return LineResult(upload.status, f"the PIM refused the file: {upload.message}")
        self._remember(source, found, upload.code)
        return LineResult(upload.status, "")

    def _remember(self, source: str, found: _File, code: str) -> None:
        with self._lock:
            self._by_source[source] = code
            self._by_hash.setdefault(found.sha1, code)
            self._checked[code] = True
        self.cache.put(source, {"sha1": found.sha1, "code": code, **found.validators})

    def _usable(self, code: Any) -> str | None:
        """A cached code, if the PIM still holds it (asked once per code and run)."""
        if not isinstance(code, str) or not code:
            return None
        with self._lock:
            known = self._checked.get(code)
        if known is None:
            known = self._client.media_file_exists(code) is True
            with self._lock:
                self._checked[code] = known
        return code if known else None

    def _set_code(self, task: MediaTask, code: str) -> LineResult:
        """The value set with a code the PIM already holds: a one-line PATCH."""
        ref = task.ref
        line = orjson.dumps(
            {
                IDENTIFIER_FIELD[task.entity]: task.key,
                "values": {
                    ref.attribute: [{"locale": ref.locale, "scope": ref.scope, "data": code}]
                },
            }
        )
        (result,) = self._client.patch_collection(task.entity, [line])
        if 200 <= result.status < 300:
            self.stats.add("reused")
        return result

    def _lock_for(self, source: str) -> threading.Lock:
        with self._lock:
            lock = self._source_locks.get(source)
            if lock is None:
                lock = self._source_locks[source] = threading.Lock()
            return lock

    # -- reading ------------------------------------------------------------------------

    def _source_key(self, ref: MediaRef) -> str | _Failed:
        """The cache key: the URL, or the resolved path (checked to stay in the folder)."""
        if ref.kind == "url":
            return ref.source
        try:
            return str(self._resolve(ref.source))
        except _Failed as exc:
            return exc

    def _resolve(self, text: str) -> Path:
        raw = text.replace("\\", "/")
        absolute = raw.startswith("/") or bool(re.match(r"[A-Za-z]:/", raw))
        if absolute and not self._limits.allow_outside_folder:
            raise _Failed(
                "absolute paths are not read: write the path relative to the feed's folder"
            )
        path = (Path(raw) if absolute else self._feed_dir / raw).resolve()
        if not self._limits.allow_outside_folder and not path.is_relative_to(self._feed_dir):
            raise _Failed("the path leads outside the feed's folder: only files inside it are read")
        return path

    def _read(self, ref: MediaRef, source: str, cached: dict[str, Any] | None) -> _File:
        if ref.kind == "url":
            return self._download(ref, cached)
        return self._read_path(ref, Path(source), cached)

    def _cap(self, ref: MediaRef) -> tuple[int, str]:
        limit = self._limits.max_bytes
        if ref.max_bytes is not None and ref.max_bytes < limit:
            return ref.max_bytes, f"the limit of {ref.attribute}"
        return limit, "the limit for any file"

    def _read_path(self, ref: MediaRef, path: Path, cached: dict[str, Any] | None) -> _File:
        try:
            stat = path.stat()
        except OSError:
            shown = (
                path.relative_to(self._feed_dir) if path.is_relative_to(self._feed_dir) else path
            )
            raise _Failed(
                f"file not found: {shown} (paths are relative to the feed's folder)"
            ) from None
        if not path.is_file():
            raise _Failed("not a file")
        validators = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
        kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        name = _checked_name(path.name, kind, ref)
        if cached is not None and all(cached.get(k) == v for k, v in validators.items()):
            sha1 = cached.get("sha1")
            if isinstance(sha1, str):
                return _File(None, name, kind, sha1, validators)
        limit, which = self._cap(ref)
        if stat.st_size > limit:
            raise _Failed(_too_large(stat.st_size, limit, which))
        try:
            content = path.read_bytes()
        except OSError as exc:
            raise _Failed(f"cannot read the file ({exc.strerror or exc})") from None
        self.stats.add("downloads")
        return _File(content, name, kind, hashlib.sha1(content).hexdigest(), validators)

    def _download(self, ref: MediaRef, cached: dict[str, Any] | None) -> _File:
        limits = self._limits
        headers: dict[str, str] = {}
        if cached is not None and isinstance(cached.get("sha1"), str):
            if cached.get("etag"):
                headers["If-None-Match"] = str(cached["etag"])
            if cached.get("last_modified"):
                headers["If-Modified-Since"] = str(cached["last_modified"])
        url = ref.source
        started = self._clock()
        for _ in range(limits.max_redirects + 1):
            try:
                response = self._session.get(
                    url,
                    headers=headers,
                    stream=True,
                    timeout=(limits.connect_timeout, limits.read_timeout),
                    allow_redirects=False,
                )
            except requests.RequestException as exc:
                raise _Failed(f"could not fetch it: {_describe(exc, limits)}") from None
            with response:
                status = response.status_code
                if status in _REDIRECTS:
                    location = response.headers.get("Location", "")
                    url = urljoin(url, location)
                    if urlsplit(url).scheme.lower() not in ("http", "https"):
                        raise _Failed(
                            f"could not fetch it: redirected to {location!r}; only http and "
                            "https are followed"
                        )
                    continue
                if status == 304 and headers and cached is not None:
                    validators = {k: cached[k] for k in ("etag", "last_modified") if cached.get(k)}
                    kind = str(cached.get("content_type") or "application/octet-stream")
                    name = str(cached.get("name") or _url_name(url))
                    return _File(None, name, kind, str(cached["sha1"]), validators)
                if status != 200:
                    raise _Failed(f"could not fetch it: {_phrase(status)}")
                return self._body(ref, url, response, started)
        raise _Failed(f"could not fetch it: more than {limits.max_redirects} redirects")

    def _body(self, ref: MediaRef, url: str, response: requests.Response, started: float) -> _File:
        limits = self._limits
        limit, which = self._cap(ref)
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > limit:
            raise _Failed(_too_large(int(declared), limit, which))
        kind = (response.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        name = _disposition_name(response.headers.get("Content-Disposition")) or _url_name(url)
        name = _checked_name(name, kind or "application/octet-stream", ref)
        parts: list[bytes] = []
        size = 0
        try:
            for chunk in response.iter_content(_CHUNK):
                size += len(chunk)
                if size > limit:
                    raise _Failed(_too_large(size, limit, which, at_least=True))
                if self._clock() - started > limits.deadline:
                    raise _Failed(
                        f"could not fetch it: not complete after {limits.deadline:g} s "
                        f"({size:,} bytes so far)"
                    )
                parts.append(chunk)
        except requests.RequestException as exc:
            raise _Failed(f"could not fetch it: {_describe(exc, limits)}") from None
        content = b"".join(parts)
        self.stats.add("downloads")
        validators: dict[str, Any] = {"name": name, "content_type": kind}
        for header, field in (("ETag", "etag"), ("Last-Modified", "last_modified")):
            if response.headers.get(header):
                validators[field] = response.headers[header]
        return _File(
            content,
            name,
            kind or "application/octet-stream",
            hashlib.sha1(content).hexdigest(),
            validators,
        )


def _checked_name(name: str, content_type: str, ref: MediaRef) -> str:
    """The file name to upload, its extension checked (or taken from the content type)."""
    if ref.image and content_type and not content_type.startswith(("image/", _GENERIC)):
        raise _Failed(f"not an image: the server sent {content_type}")
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    ext = ext.lower()
    allowed = ref.allowed_extensions
    if ext and (not allowed or ext in allowed):
        return name
    implied = [e.lstrip(".") for e in mimetypes.guess_all_extensions(content_type)]
    if allowed:
        implied = [e for e in implied if e in allowed]
    if implied:  # e.g. "photo.php" sent as image/jpeg: uploaded as "photo.jpg"
        return f"{stem or 'file'}.{implied[0]}"
    if not allowed:
        return name
    shown = f".{ext}" if ext else "without an extension"
    raise _Failed(
        f"file type {shown} ({content_type}) is not allowed here "
        f"(allowed: {', '.join(sorted(allowed))})"
    )


def _url_name(url: str) -> str:
    name = unquote(PurePosixPath(urlsplit(url).path).name)
    return name or "file"


def _disposition_name(header: str | None) -> str | None:
    if not header:
        return None
    message = Message()
    message["Content-Disposition"] = header
    name = message.get_filename()
    return PurePosixPath(name.replace("\\", "/")).name if name else None


def _too_large(size: int, limit: int, which: str, *, at_least: bool = False) -> str:
    more = "more than " if at_least else ""
    shown, cap = _size(size), _size(limit)
    if shown == cap:  # 5.0 MB over 5.0 MB says nothing: give the bytes
        shown, cap = f"{size:,} bytes", f"{limit:,} bytes"
    return f"file too large: {more}{shown}, over {which} ({cap})"


def _size(n: int) -> str:
    if n >= _MIB:
        return f"{n / _MIB:.1f} MB"
    if n >= 1024:
        return f"{n / 1024:.0f} KB"
    return f"{n} bytes"


def _phrase(status: int) -> str:
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return str(status)


def _describe(exc: requests.RequestException, limits: MediaLimits) -> str:
    if isinstance(exc, requests.ConnectTimeout):
        return f"could not connect within {limits.connect_timeout:g} s"
    if isinstance(exc, requests.ReadTimeout):
        return f"no answer within {limits.read_timeout:g} s (timeout)"
    if isinstance(exc, requests.ConnectionError):
        return "could not connect to the server"
    return f"{type(exc).__name__}"
