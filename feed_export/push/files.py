"""Reading the files a feed names: a path beside the feed or an http(s) URL, within limits.

``FileReader.read`` gives a file's bytes, name, content type and SHA-1, or a
``FileProblem`` that says why not:

- a path is read relative to the feed's folder, never outside it (``..``, absolute paths,
  symlinks), unless ``MediaLimits.allow_outside_folder``;
- a URL is fetched with ``http``/``https`` only, redirects followed only to
  ``http``/``https`` (at most ``max_redirects``), a connect and a read timeout, an overall
  deadline enforced while reading (``akeneo.transport.request_deadline``) and a size cap
  (the attribute's ``max_file_size`` and a global one);
- a URL's host is resolved first and only public unicast addresses are connected to
  (``akeneo.transport.AddressPolicy``), on every redirect too, unless the user opened
  more: ``MediaLimits.allow_hosts`` (``--allow-media-host``), ``allow_private``
  (``--allow-private-media``). A refused address reads exactly like an unreachable one
  ("could not connect to the server"), so the feedback cannot be used to scan a network.
  Downloads go straight to the server: no proxy from the environment, no ``.netrc``;
- transient failures (408, 429, 5xx, a network error) are retried under the run's
  ``RetryPolicy`` (the same as for the PIM, Retry-After capped the same way); the
  response classifier (``akeneo.responses.classify``) says which; any other status is
  final, as are a file too large, too slow, or of a type the attribute refuses;
- the name's extension, or the one its content type implies, must be in the attribute's
  ``allowed_extensions``; an image attribute takes only ``image/*``.

With the validators of an earlier read (``cached``), an unchanged file is not read
again: a path's size and mtime, a URL's ``ETag`` / ``Last-Modified`` (asked with
``If-None-Match`` / ``If-Modified-Since``; a 304 answers).

``PathCheck.problem`` is a dry run's view: the same rules for a path, in the same words,
from its ``stat`` alone; a URL is not fetched.
"""

from __future__ import annotations

import errno
import hashlib
import logging
import mimetypes
import os
import re
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.message import Message
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

import requests

from feed_export._version import __version__
from feed_export.akeneo.responses import Action, read_verdict, status_phrase
from feed_export.akeneo.retry import RetryPolicy
from feed_export.akeneo.transport import (
    AddressPolicy,
    GuardedAdapter,
    Resolver,
    allowed_hosts,
    refused_by_policy,
    request_deadline,
    system_resolver,
)
from feed_export.errors import RetriableError, RetriesExhausted
from feed_export.push.decode import MediaRef

log = logging.getLogger(__name__)

_CHUNK = 64 * 1024
_MIB = 1024 * 1024
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_GENERIC = "application/octet-stream"
#: no retry: what a reader gets without a policy
ONE_ATTEMPT = RetryPolicy(max_attempts=1)
#: what a refused address and an unreachable server both read as
CANNOT_CONNECT = "could not connect to the server"


@dataclass(frozen=True, slots=True)
class MediaLimits:
    """How files are fetched: timeouts in seconds, sizes in bytes."""

    connect_timeout: float = 10.0
    read_timeout: float = 30.0  # per read
    deadline: float = 120.0  # the whole download (each attempt)
    max_bytes: int = 100 * _MIB  # whatever the attribute says
    max_redirects: int = 5
    allow_outside_folder: bool = False  # absolute paths and ``..`` out of the feed's folder
    allow_hosts: frozenset[str] = frozenset()  # hosts fetched whatever their address
    allow_private: bool = False  # loopback and private ranges too (never link-local)


@dataclass(frozen=True, slots=True)
class FetchedFile:
    """A file read from a path or a URL (``content`` None: unchanged, not read again)."""

    content: bytes | None
    name: str
    content_type: str
    sha1: str
    validators: dict[str, Any]  # what tells a change next time (size/mtime, etag...)


@dataclass(frozen=True, slots=True)
class FileProblem:
    """Why a file cannot be used; ``message`` goes to the row's feedback."""

    message: str
    status: int = 422


class _Failed(Exception):
    """A file that cannot be fetched or does not fit (becomes a ``FileProblem``)."""


class _BodyCut(RetriableError):
    """The body stopped coming after ``received`` bytes (worth another attempt)."""

    def __init__(self, message: str, received: int) -> None:
        super().__init__(message, 0)
        self.received = received


class FileReader:
    """Reads the files of one feed (thread-safe: one ``requests.Session`` for URLs)."""

    def __init__(
        self,
        *,
        feed_dir: Path,
        limits: MediaLimits = MediaLimits(),
        retry: RetryPolicy = ONE_ATTEMPT,
        session: requests.Session | None = None,
        clock: Callable[[], float] = time.monotonic,
        resolve: Resolver = system_resolver,
    ) -> None:
        """``session``: the HTTP session to use (the reader's adapters are mounted on it);
        ``resolve``: host, port -> addresses (the system's resolver by default)."""
        self._feed_dir = feed_dir.resolve()
        self._limits = limits
        self._retry = retry
        self._own_session = session is None
        if session is None:
            session = requests.Session()
            session.trust_env = False  # no proxy (it would connect for us), no .netrc
        policy = AddressPolicy(
            allow_hosts=allowed_hosts(limits.allow_hosts),
            allow_private=limits.allow_private,
            resolve=resolve,
        )
        adapter = GuardedAdapter(policy)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        self._session = session
        self._session.headers["User-Agent"] = f"feed_export/{__version__}"
        self._clock = clock

    def close(self) -> None:
        """Close the HTTP session if this reader made it."""
        if self._own_session:
            self._session.close()

    def source_key(self, ref: MediaRef) -> str | FileProblem:
        """The file's identity: the URL, or the resolved path (checked to stay in the folder)."""
        return file_identity(ref, self._feed_dir, self._limits.allow_outside_folder)

    def read(
        self, ref: MediaRef, source: str, cached: dict[str, Any] | None
    ) -> FetchedFile | FileProblem:
        """The file at ``source`` (a ``source_key``); ``cached``: validators of an earlier read."""
        try:
            if ref.kind == "url":
                return self._download(ref, cached)
            return self._read_path(ref, Path(source), cached)
        except _Failed as exc:
            return FileProblem(str(exc))

    # -- paths --------------------------------------------------------------------------

    def _read_path(self, ref: MediaRef, path: Path, cached: dict[str, Any] | None) -> FetchedFile:
        found = _regular_file(path, self._feed_dir)
        validators = {"size": found.st_size, "mtime_ns": found.st_mtime_ns}
        kind = _path_type(path)
        name = _checked_name(path.name, kind, ref)
        if cached is not None and all(cached.get(k) == v for k, v in validators.items()):
            sha1 = cached.get("sha1")
            if isinstance(sha1, str):
                return FetchedFile(None, name, kind, sha1, validators)
        _check_size(found.st_size, ref, self._limits)
        try:
            content = path.read_bytes()
        except OSError as exc:
            raise _Failed(f"cannot read the file ({exc.strerror or exc})") from None
        return FetchedFile(content, name, kind, hashlib.sha1(content).hexdigest(), validators)

    # -- URLs ---------------------------------------------------------------------------

    def _download(self, ref: MediaRef, cached: dict[str, Any] | None) -> FetchedFile:
        headers: dict[str, str] = {}
        if cached is not None and isinstance(cached.get("sha1"), str):
            if cached.get("etag"):
                headers["If-None-Match"] = str(cached["etag"])
            if cached.get("last_modified"):
                headers["If-Modified-Since"] = str(cached["last_modified"])
        # a signed URL's query may hold a secret: the log names the file without it
        parts = urlsplit(ref.source)
        what = f"GET {parts.scheme}://{parts.netloc}{parts.path}"
        try:
            return self._retry.run(what, lambda: self._attempt(ref, headers, cached))
        except RetriesExhausted as exc:
            raise _Failed(f"could not fetch it: {exc.last}") from None

    def _attempt(
        self, ref: MediaRef, headers: dict[str, str], cached: dict[str, Any] | None
    ) -> FetchedFile:
        """One attempt within the deadline (connect, headers and body of every hop)."""
        deadline = self._limits.deadline
        with request_deadline(deadline) as watch:
            try:
                found = self._fetch(ref, headers, cached)
            except (RetriableError, _Failed) as exc:
                if watch is None or not watch.expired:
                    raise
                received = exc.received if isinstance(exc, _BodyCut) else None
                raise _Failed(_late(deadline, received)) from None
            if watch is not None and watch.expired:  # cut off, yet looking complete
                raise _Failed(_late(deadline))
            return found

    def _fetch(
        self, ref: MediaRef, headers: dict[str, str], cached: dict[str, Any] | None
    ) -> FetchedFile:
        """One attempt, redirects followed; ``RetriableError`` when worth another."""
        limits = self._limits
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
                if refused_by_policy(exc):
                    # not retried, and worded as a server that cannot be reached: the
                    # feedback must not tell an address refused from a port closed
                    raise _Failed(f"could not fetch it: {CANNOT_CONNECT}") from None
                raise RetriableError(_describe(exc, limits), 0) from None
            verdict = read_verdict(response)
            status = verdict.status
            if verdict.action is Action.REDIRECT and status in _REDIRECTS:
                location = verdict.location or ""
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
                return FetchedFile(None, name, kind, str(cached["sha1"]), validators)
            if verdict.action is Action.RETRY:
                raise RetriableError(status_phrase(status), status, verdict.retry_after)
            if status != 200:
                response.close()
                raise _Failed(f"could not fetch it: {status_phrase(status)}")
            with response:
                return self._body(ref, url, response, started)
        raise _Failed(f"could not fetch it: more than {limits.max_redirects} redirects")

    def _body(
        self, ref: MediaRef, url: str, response: requests.Response, started: float
    ) -> FetchedFile:
        limits = self._limits
        limit, which = _cap(ref, limits)
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
                    raise _Failed(_late(limits.deadline, size))
                parts.append(chunk)
        except requests.RequestException as exc:
            raise _BodyCut(_describe(exc, limits), size) from None
        content = b"".join(parts)
        validators: dict[str, Any] = {"name": name, "content_type": kind}
        for header, field in (("ETag", "etag"), ("Last-Modified", "last_modified")):
            if response.headers.get(header):
                validators[field] = response.headers[header]
        return FetchedFile(
            content,
            name,
            kind or "application/octet-stream",
            hashlib.sha1(content).hexdigest(),
            validators,
        )


def file_identity(ref: MediaRef, feed_dir: Path, allow_outside: bool = False) -> str | FileProblem:
    """A file's identity: its URL, or its path resolved in ``feed_dir`` (which it must not
    leave unless ``allow_outside``); a ``FileProblem`` when the path may not be read."""
    if ref.kind == "url":
        return ref.source
    try:
        return str(_resolve(ref.source, feed_dir, allow_outside))
    except _Failed as exc:
        return FileProblem(str(exc))


def _resolve(text: str, feed_dir: Path, allow_outside: bool) -> Path:
    raw = text.replace("\\", "/")
    absolute = raw.startswith("/") or bool(re.match(r"[A-Za-z]:/", raw))
    if absolute and not allow_outside:
        raise _Failed("absolute paths are not read: write the path relative to the feed's folder")
    path = (Path(raw) if absolute else feed_dir / raw).resolve()
    if not allow_outside and not path.is_relative_to(feed_dir):
        raise _Failed("the path leads outside the feed's folder: only files inside it are read")
    return path


def _regular_file(path: Path, feed_dir: Path) -> os.stat_result:
    """``path``'s ``stat`` (links followed) when it is a regular file; ``_Failed`` when it
    is missing or something else (a folder, a device, a fifo: never opened)."""
    try:
        found = path.stat()
    except OSError:
        shown = path.relative_to(feed_dir) if path.is_relative_to(feed_dir) else path
        raise _Failed(
            f"file not found: {shown} (paths are relative to the feed's folder)"
        ) from None
    if not stat.S_ISREG(found.st_mode):
        raise _Failed("not a file")
    return found


def _path_type(path: Path) -> str:
    """A local file's content type, from its name."""
    return mimetypes.guess_type(path.name)[0] or _GENERIC


def _cap(ref: MediaRef, limits: MediaLimits) -> tuple[int, str]:
    """The largest file ``ref`` takes, and how a message names that limit."""
    limit = limits.max_bytes
    if ref.max_bytes is not None and ref.max_bytes < limit:
        return ref.max_bytes, f"the limit of {ref.attribute}"
    return limit, "the limit for any file"


def _check_size(size: int, ref: MediaRef, limits: MediaLimits) -> None:
    limit, which = _cap(ref, limits)
    if size > limit:
        raise _Failed(_too_large(size, limit, which))


class PathCheck:
    """A dry run's look at the files rows name by path: the rules ``FileReader.read``
    applies (in the folder, a regular file, its type, its size), without reading a byte.

    Each path is resolved once and each file looked at once (``stat``, never opened), however
    many rows name it. URLs are not fetched: a dry run has no effect on the network.
    """

    def __init__(self, feed_dir: Path, limits: MediaLimits = MediaLimits()) -> None:
        self._feed_dir = feed_dir.resolve()
        self._limits = limits
        self._identities: dict[str, str | FileProblem] = {}  # source as written -> identity
        self._files: dict[str, tuple[int, bool] | FileProblem] = {}  # resolved -> size, readable

    def problem(self, ref: MediaRef) -> FileProblem | None:
        """Why the push could not read ``ref``'s file, or None (always None for a URL)."""
        if ref.kind == "url":
            return None
        source = self._identities.get(ref.source)
        if source is None:
            source = file_identity(ref, self._feed_dir, self._limits.allow_outside_folder)
            self._identities[ref.source] = source
        if isinstance(source, FileProblem):
            return source
        path = Path(source)
        found = self._files.get(source)
        if found is None:
            found = self._files[source] = self._look(path)
        if isinstance(found, FileProblem):
            return found
        size, readable = found
        try:  # in the reader's order: the type the column takes, the size, then reading
            _checked_name(path.name, _path_type(path), ref)
            _check_size(size, ref, self._limits)
        except _Failed as exc:
            return FileProblem(str(exc))
        if not readable:  # what reading it would meet, asked without opening it
            return FileProblem(f"cannot read the file ({os.strerror(errno.EACCES)})")
        return None

    def _look(self, path: Path) -> tuple[int, bool] | FileProblem:
        """The file's size and whether it may be read, or why it is not a file here."""
        try:
            found = _regular_file(path, self._feed_dir)
        except _Failed as exc:
            return FileProblem(str(exc))
        return found.st_size, os.access(path, os.R_OK)


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


def _describe(exc: requests.RequestException, limits: MediaLimits) -> str:
    if isinstance(exc, requests.ConnectTimeout):
        return f"could not connect within {limits.connect_timeout:g} s"
    if isinstance(exc, requests.ReadTimeout):
        return f"no answer within {limits.read_timeout:g} s (timeout)"
    if isinstance(exc, requests.ConnectionError):
        return CANNOT_CONNECT
    return f"{type(exc).__name__}"


def _late(deadline: float, received: int | None = None) -> str:
    so_far = f" ({received:,} bytes so far)" if received is not None else ""
    return f"could not fetch it: not complete after {deadline:g} s{so_far}"
