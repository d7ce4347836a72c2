"""Files named by URL or path in a feed -> the PIM: uploaded once per content, cached across runs.

For each file or image cell that holds an ``http(s)`` URL or a path (``MediaRef``),
once its product (model) is saved, ``MediaStage.apply``:

1. reads the file with ``files.FileReader`` (a path beside the feed, or a URL, within the
   limits of ``files.MediaLimits``; transient download failures retried under the run's
   retry policy) and checks its name and type there;
2. sends it: the first time a content (SHA-1) is met, ``POST /media-files`` stores it and
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
  per run (its transient failures retried within that once); a file's failure never
  fails the product: the row says
  ``Saved (201), except: picture not saved (<source>): <why>`` with status 422 for a
  file problem, or the PIM's status when the PIM refused the upload.
- ``max_file_size`` is read as MiB (1,048,576 bytes per MB); the PIM has the last word.
- Products by uuid (``--entity products-uuid``): the upload names products by
  identifier only (§7), so files by URL or path are refused there with a clear message.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import orjson
import requests

from feed_export.akeneo.responses import LineResult, MediaUpload
from feed_export.akeneo.retry import RetryPolicy
from feed_export.catalog.codecs import MEDIA_TYPES
from feed_export.catalog.layout import FeedLayout
from feed_export.config import IDENTIFIER_FIELD, Entity
from feed_export.errors import ConfigError
from feed_export.push.decode import MediaRef
from feed_export.push.files import ONE_ATTEMPT, FetchedFile, FileProblem, FileReader, MediaLimits
from feed_export.push.state import state_folder

log = logging.getLogger(__name__)

#: where the cache lives, relative to the feed's folder
CACHE_PATH = Path(".feed_export") / "media-cache.json"
_LIMITS = MediaLimits()


def not_saved(ref: MediaRef, why: str) -> str:
    """How a row names a file of its file or image cells that failed (after "except: ")."""
    return f"{ref.header} not saved ({ref.source}): {why}"


def feed_has_files(layout: FeedLayout) -> bool:
    """Whether the feed has file or image columns (cells there may name files to fetch)."""
    return any(c.attribute is not None and c.attribute.type in MEDIA_TYPES for c in layout.columns)


#: why a file by URL or path cannot go with ``--entity products-uuid`` (a dry run says it too)
FILES_NEED_IDENTIFIERS = (
    "files by URL or path need products by identifier (the PIM's upload names "
    "products by identifier): push with --entity products, or give media-file codes"
)


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
class MediaTask:
    """A file to fetch and upload for one saved row."""

    row: int
    entity: Entity
    key: str
    ref: MediaRef


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

    def entries(self) -> list[tuple[str, dict[str, Any]]]:
        """Every entry of this PIM (copies)."""
        with self._lock:
            return [(k, dict(v)) for k, v in self._entries.items() if isinstance(v, dict)]

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
            state_folder(self.path.parent)
            # mkstemp: 0600, a new name; the rename replaces whatever is at the path, a
            # planted symlink included, without writing through it
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".media-cache.")
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(text)
            os.replace(tmp, self.path)
        except (OSError, ConfigError) as exc:
            log.warning("%s: media cache not written (%s)", self.path, exc)


class MediaStage:
    """Fetches, checks and uploads the files of saved rows; ``apply`` is thread-safe.

    ``retry``: how downloads retry transient failures (None: the client's policy).
    """

    def __init__(
        self,
        client: MediaClient,
        *,
        feed_dir: Path,
        base_url: str,
        cache_path: Path | None = None,
        limits: MediaLimits = _LIMITS,
        retry: RetryPolicy | None = None,
        session: requests.Session | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        if retry is None:
            # the client's policy (AkeneoClient.retry): downloads follow the run's retry
            # settings; a client without one (a test double) gets a single attempt
            policy = getattr(client, "retry", None)
            retry = policy if isinstance(policy, RetryPolicy) else ONE_ATTEMPT
        self._files = FileReader(
            feed_dir=feed_dir, limits=limits, retry=retry, session=session, clock=clock
        )
        self.cache = MediaCache(cache_path, base_url)
        self.stats = MediaStats()
        self._lock = threading.Lock()
        self._source_locks: dict[str, threading.Lock] = {}
        self._by_source: dict[str, str | FileProblem] = {}  # this run: source -> code or failure
        self._by_hash: dict[str, str] = {}  # this run: content -> code in the PIM
        self._checked: dict[str, bool] = {}  # cached codes checked with the PIM this run

    @classmethod
    def for_folder(
        cls, client: MediaClient, folder: Path, base_url: str, **options: Any
    ) -> MediaStage:
        """A stage for a feed in ``folder``: paths relative to it, the cache beside the feed."""
        folder = folder.resolve()
        return cls(
            client, feed_dir=folder, base_url=base_url, cache_path=folder / CACHE_PATH, **options
        )

    def close(self) -> None:
        """Save the cache; close the HTTP session if this stage made it."""
        self.cache.save()
        self._files.close()

    # -- one file -----------------------------------------------------------------------

    def apply(self, task: MediaTask) -> LineResult:
        """Set ``task``'s file as its product's value; the result says how it went."""
        ref = task.ref
        if task.entity == "products-uuid":
            self.stats.add("failures")
            return LineResult(422, FILES_NEED_IDENTIFIERS)
        source = self._files.source_key(ref)
        if isinstance(source, FileProblem):
            return self._failed(source)
        with self._lock_for(source):
            known = self._by_source.get(source)
            if isinstance(known, FileProblem):
                return self._failed(known)
            if known is not None:
                return self._set_code(task, known)
            result = self._first_time(task, source)
            if isinstance(result, FileProblem):
                self._by_source[source] = result
                return self._failed(result)
            return result

    def _failed(self, problem: FileProblem) -> LineResult:
        self.stats.add("failures")
        return LineResult(problem.status, problem.message)

    def _read(
        self, ref: MediaRef, source: str, cached: dict[str, Any] | None
    ) -> FetchedFile | FileProblem:
        found = self._files.read(ref, source, cached)
        if isinstance(found, FetchedFile) and found.content is not None:
            self.stats.add("downloads")
        return found

    def _first_time(self, task: MediaTask, source: str) -> LineResult | FileProblem:
        ref = task.ref
        cached = self.cache.get(source)
        found = self._read(ref, source, cached)
        if isinstance(found, FileProblem):
            return found
        code = None
        if found.content is None and cached is not None:
            code = self._usable(cached.get("code"))
            if code is None:  # unchanged here, but gone from the PIM: read it again
                found = self._read(ref, source, None)
                if isinstance(found, FileProblem):
                    return found
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

    def _remember(self, source: str, found: FetchedFile, code: str) -> None:
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
