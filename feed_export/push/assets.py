"""Files named in asset collection cells -> assets of the PIM, made before their product.

On Akeneo's asset manager a product holds asset *codes* (``pim_catalog_asset_collection``);
each asset belongs to the family named by the attribute's ``reference_data_name``, and
the family's ``attribute_as_main_media`` carries its file: a ``media_file`` (uploaded with
``POST /asset-media-files``, whose ``Asset-media-file-code`` header names it) or a
``media_link`` (the URL is the value). For each file a row names (``decode.AssetRef``),
before the row's line is sent, ``AssetStage.apply``:

1. ``mode`` ``asset`` (an asset collection cell): reads the file with
   ``files.FileReader`` (the limits, timeouts and address rules of every download),
   uploads it and upserts the asset with it as its main media (a one-asset collection
   PATCH); for a ``media_link`` family nothing is read: the URL is the value;
2. ``mode`` ``media`` (an assets feed's main media cell): reads and uploads the file; the
   row's own line is the asset, sent with the returned code.

The row's line then goes with what happened (``rewrite_line``): a file that failed is
left out of the asset list (the product is saved with the assets that did exist, and the
row says ``Saved (201), except: packshots: https://.../missing.png: 404 Not Found``).

Codes (``AssetNamer``): a file's asset code is its name without the extension, made a
valid code the way Akeneo's own asset upload does it (spaces dropped, any character but
letters, digits and ``_`` turned into ``_``; accents first taken off, ``é`` -> ``e``),
at most 255 characters, ``asset`` when nothing is left. Two different files (URLs, or
paths beside the feed) with the same name in one family: the second gets
``<name>_<8 hex of its source's SHA-1>`` (a path relative to the feed's folder, so the
code does not depend on where the folder is). A cell item ``code=URL`` names the code itself.

What went is remembered per PIM in ``.feed_export/asset-cache.json`` beside the feed:
for each family and source, the asset's code, the file's SHA-1 and what tells a change
(a path's size and mtime, a URL's ``ETag`` / ``Last-Modified``), and the media-file code.
So a code stays the same from run to run for the same file and name, and a file that did
not change is neither uploaded nor sent again: a second identical push sends no asset
request. ``--full`` sends them all again.

Decisions where the reference is silent:

- An asset the PIM already holds under a code derived from a file name, that this
  folder's cache does not know (made by hand, or by a push whose cache is gone), is
  looked at (``GET`` the asset; for a file, its media downloaded, at most as large as
  ours): the same media (URL, or content) is used as it is, nothing sent; other media
  means another asset, so the file gets the suffixed code. An asset is never overwritten
  unless this folder's pushes made it, or the feed named its code.
- A file the cache knows but the PIM lost (an asset deleted since) is not checked: the
  product's PATCH then says the asset is missing; ``--full`` makes it again.
- Files in product cells go to a main media that has one value (neither per locale nor
  per channel); an assets feed gives the others their locale and channel columns.
- The same file on many rows is read, uploaded and made once per run; a file that
  failed fails every row that names it (tried once per run).
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Protocol

import orjson
import requests

from feed_export.akeneo.responses import LineResult, MediaUpload, is_success
from feed_export.akeneo.retry import RetryPolicy
from feed_export.catalog.asset_codecs import code_from_name, file_name, is_asset_code, suffixed
from feed_export.catalog.layout import FeedLayout
from feed_export.config import Entity
from feed_export.errors import RetriesExhausted, TransportError
from feed_export.push.decode import AssetRef, MediaRef
from feed_export.push.files import (
    ONE_ATTEMPT,
    FetchedFile,
    FileProblem,
    FileReader,
    MediaLimits,
    file_identity,
)
from feed_export.push.media import MediaCache

log = logging.getLogger(__name__)

#: where the cache lives, relative to the feed's folder
CACHE_PATH: Final = Path(".feed_export") / "asset-cache.json"
#: what a download's messages begin with; an asset failure names the source instead
_FETCH_PREFIX: Final = "could not fetch it: "
_LIMITS: Final = MediaLimits()


class AssetNamer:
    """The code of each file of an asset collection cell: from its name, unique in its
    family, the same as in earlier runs (``claims``: what the cache remembers).

    Called by the decoder in feed order, so the first file of a name keeps it.
    """

    def __init__(
        self,
        feed_dir: Path,
        *,
        allow_outside: bool = False,
        claims: Iterable[tuple[str, str, str]] = (),
    ) -> None:
        self._feed_dir = feed_dir.resolve()
        self._allow_outside = allow_outside
        self._lock = threading.Lock()
        self._codes: dict[tuple[str, str], str] = {}  # (family, source) -> code
        self._holders: dict[tuple[str, str], str] = {}  # (family, code), folded -> source
        for family, source, code in claims:
            self.claim(family, source, code)

    def source_of(self, ref: MediaRef) -> str:
        """The file's identity (``files.file_identity``); as written when it may not be read."""
        found = file_identity(ref, self._feed_dir, self._allow_outside)
        return ref.source if isinstance(found, FileProblem) else found

    def code(self, family: str, ref: MediaRef) -> str:
        """The code of the asset made from ``ref`` in ``family``."""
        source = self.source_of(ref)
        folded = family.casefold()
        with self._lock:
            known = self._codes.get((folded, source))
            if known is not None:
                return known
            code = code_from_name(file_name(ref.source, ref.kind))
            holder = self._holders.get((folded, code.casefold()))
            if holder is not None and holder != source:
                code = self.unique(code, source)
            self._claim(folded, source, code)
            return code

    def unique(self, code: str, source: str) -> str:
        """``code`` made unique for ``source``, the same wherever the feed's folder is: a
        path inside it is hashed relative to it (``img/front.jpg``), a URL as it is."""
        path = Path(source)
        if path.is_absolute() and path.is_relative_to(self._feed_dir):
            source = path.relative_to(self._feed_dir).as_posix()
        return suffixed(code, source)

    def claim(self, family: str, source: str, code: str) -> None:
        """``source`` is the asset ``code`` of ``family`` (named by the feed, or renamed)."""
        with self._lock:
            self._claim(family.casefold(), source, code)

    def _claim(self, folded: str, source: str, code: str) -> None:
        self._codes[(folded, source)] = code
        self._holders.setdefault((folded, code.casefold()), source)


def cache_claims(cache: MediaCache) -> list[tuple[str, str, str]]:
    """``(family, source, code)`` of every asset the cache remembers."""
    found: list[tuple[str, str, str]] = []
    for key, entry in cache.entries():
        family, newline, source = key.partition("\n")
        code = entry.get("code")
        if newline and isinstance(code, str) and is_asset_code(code):
            found.append((family, source, code))
    return found


def asset_failure(ref: AssetRef, why: str) -> str:
    """How a row names a file of its asset cells that failed (after "except: ")."""
    return f"{ref.file.header}: {ref.file.source}: {why}"


def feed_has_assets(layout: FeedLayout) -> bool:
    """Whether cells of the feed may name files that become assets (or an asset's media)."""
    if layout.entity == "assets":
        return True
    return any(
        c.attribute is not None and c.attribute.type == "pim_catalog_asset_collection"
        for c in layout.columns
    )


# ---------------------------------------------------------------------------
# the stage


@dataclass(frozen=True, slots=True)
class AssetTask:
    """The files of one row, to make into assets before its line goes."""

    row: int
    key: str
    refs: tuple[AssetRef, ...]


@dataclass(frozen=True, slots=True)
class AssetDone:
    """What became of one ``AssetRef``."""

    status: int  # 2xx: done (200: nothing had to be sent)
    message: str = ""  # the failure, as the row's feedback says it
    code: str | None = None  # mode asset: the asset's code in the PIM
    media: str | None = None  # mode media: the uploaded file's code

    @property
    def ok(self) -> bool:
        return is_success(self.status)


class AssetClient(Protocol):
    """What the asset stage needs of ``AkeneoClient``."""

    def upload_asset_media_file(
        self, *, filename: str, content: bytes, content_type: str
    ) -> MediaUpload: ...

    def patch_assets(self, family: str, lines: Sequence[bytes]) -> list[LineResult]: ...

    def asset(self, family: str, code: str) -> dict[str, Any] | None: ...

    def download_asset_media_file(self, code: str, limit: int) -> bytes | None: ...


class AssetStage:
    """Makes the assets of rows' files before their lines go; ``apply`` is thread-safe.

    ``full``: trust nothing the cache says was sent (``--full``). ``retry``: how downloads
    retry transient failures (None: the client's policy).
    """

    def __init__(
        self,
        client: AssetClient,
        *,
        feed_dir: Path,
        base_url: str,
        cache_path: Path | None = None,
        limits: MediaLimits = _LIMITS,
        retry: RetryPolicy | None = None,
        session: requests.Session | None = None,
        clock: Callable[[], float] = time.monotonic,
        full: bool = False,
    ) -> None:
        self._client = client
        if retry is None:
            policy = getattr(client, "retry", None)
            retry = policy if isinstance(policy, RetryPolicy) else ONE_ATTEMPT
        self._files = FileReader(
            feed_dir=feed_dir, limits=limits, retry=retry, session=session, clock=clock
        )
        self._full = full
        self.cache = MediaCache(cache_path, base_url)
        self.namer = AssetNamer(
            feed_dir, allow_outside=limits.allow_outside_folder, claims=cache_claims(self.cache)
        )
        self.stats: Counter[str] = Counter()  # downloads, uploads, assets, cache_hits...
        self._lock = threading.Lock()
        self._locks: dict[tuple[str, ...], threading.Lock] = {}
        self._done: dict[tuple[str, ...], AssetDone] = {}  # this run, per file and code

    @classmethod
    def for_folder(
        cls, client: AssetClient, folder: Path, base_url: str, **options: Any
    ) -> AssetStage:
        """A stage for a feed in ``folder``: paths relative to it, the cache beside the feed."""
        folder = folder.resolve()
        return cls(
            client, feed_dir=folder, base_url=base_url, cache_path=folder / CACHE_PATH, **options
        )

    def close(self) -> None:
        """Save the cache; close the HTTP session if this stage made it."""
        self.cache.save()
        self._files.close()

    def apply(self, task: AssetTask) -> tuple[AssetDone, ...]:
        """What became of each file of ``task``, in order."""
        return tuple(self._one(ref) for ref in task.refs)

    # -- one file -------------------------------------------------------------------

    def _one(self, ref: AssetRef) -> AssetDone:
        source = self._files.source_key(ref.file)
        if isinstance(source, FileProblem):
            return self._failed(ref, source.status, source.message)
        key = (ref.mode, ref.family.casefold(), source, ref.code.casefold())
        with self._lock_for(key):
            with self._lock:
                done = self._done.get(key)
            if done is None:
                try:
                    done = self._first_time(ref, source)
                except (TransportError, RetriesExhausted) as exc:
                    done = self._failed(ref, getattr(exc, "status", 0), str(exc))
                with self._lock:
                    self._done[key] = done
            return done

    def _first_time(self, ref: AssetRef, source: str) -> AssetDone:
        cache_key = f"{ref.family}\n{source}"
        cached = self.cache.get(cache_key)
        if ref.mode == "media":
            return self._upload_only(ref, source, cache_key, cached)
        ours = cached is not None and str(cached.get("code", "")).casefold() == ref.code.casefold()
        if ref.link is not None:
            return self._link(ref, source, cache_key, cached if ours else None)
        return self._file(ref, source, cache_key, cached if ours else None)

    def _link(
        self, ref: AssetRef, source: str, cache_key: str, cached: dict[str, Any] | None
    ) -> AssetDone:
        data = ref.link
        assert data is not None
        if cached is not None and cached.get("link") == data and not self._full:
            self.stats["cache_hits"] += 1
            return AssetDone(200, code=ref.code)
        code = ref.code
        if cached is None and not ref.named:
            code, same = self._free_code(ref, source, lambda asset: _main_data(asset, ref) == data)
            if same is not None:
                self.stats["reused"] += 1
                self._remember(cache_key, {"code": code, "link": data})
                return AssetDone(200, code=code)
        done = self._patch(ref, code, data)
        if done.ok:
            self._remember(cache_key, {"code": code, "link": data})
        return done

    def _file(
        self, ref: AssetRef, source: str, cache_key: str, cached: dict[str, Any] | None
    ) -> AssetDone:
        found = self._read(ref, source, cached)
        if isinstance(found, AssetDone):
            return found
        if found.content is None:
            if cached is not None and cached.get("media") and not self._full:
                self.stats["cache_hits"] += 1
                return AssetDone(200, code=ref.code)
            found = self._read(ref, source, None)
            if isinstance(found, AssetDone):
                return found
        code = ref.code
        if cached is None and not ref.named:
            code, same = self._free_code(
                ref, source, lambda asset: self._same_file(asset, ref, found)
            )
            if same is not None:
                self.stats["reused"] += 1
                media = _main_data(same, ref)
                self._remember(cache_key, _entry(found, code=code, media=media))
                return AssetDone(200, code=code)
        media_code = self._upload(ref, found)
        if isinstance(media_code, AssetDone):
            return media_code
        done = self._patch(ref, code, media_code)
        if done.ok:
            self._remember(cache_key, _entry(found, code=code, media=media_code))
        return done

    def _upload_only(
        self, ref: AssetRef, source: str, cache_key: str, cached: dict[str, Any] | None
    ) -> AssetDone:
        """An assets feed's main media: the file uploaded, its code for the row's line."""
        found = self._read(ref, source, cached)
        if isinstance(found, AssetDone):
            return found
        if found.content is None:
            media = cached.get("media") if cached is not None else None
            if isinstance(media, str) and media and not self._full:
                self.stats["cache_hits"] += 1
                return AssetDone(200, media=media)
            found = self._read(ref, source, None)
            if isinstance(found, AssetDone):
                return found
        media_code = self._upload(ref, found)
        if isinstance(media_code, AssetDone):
            return media_code
        self._remember(cache_key, _entry(found, media=media_code))
        return AssetDone(201, media=media_code)

    # -- steps ----------------------------------------------------------------------

    def _read(
        self, ref: AssetRef, source: str, cached: dict[str, Any] | None
    ) -> FetchedFile | AssetDone:
        found = self._files.read(ref.file, source, cached)
        if isinstance(found, FileProblem):
            return self._failed(ref, found.status, found.message)
        if found.content is not None:
            self.stats["downloads"] += 1
        return found

    def _upload(self, ref: AssetRef, found: FetchedFile) -> str | AssetDone:
        assert found.content is not None
        upload = self._client.upload_asset_media_file(
            filename=found.name, content=found.content, content_type=found.content_type
        )
        self.stats["uploads"] += 1
        if upload.code is None:
            return self._failed(ref, upload.status, f"the PIM refused the file: {upload.message}")
        return upload.code

    def _patch(self, ref: AssetRef, code: str, data: str) -> AssetDone:
        """Create or update the asset ``code`` with ``data`` as its main media."""
        line = orjson.dumps(
            {
                "code": code,
                "values": {ref.file.attribute: [{"locale": None, "channel": None, "data": data}]},
            }
        )
        (result,) = self._client.patch_assets(ref.family, [line])
        self.stats["assets"] += 1
        if not is_success(result.status):
            return self._failed(ref, result.status, f"asset {code} not saved: {result.message}")
        return AssetDone(result.status, code=code)

    def _free_code(
        self, ref: AssetRef, source: str, same: Callable[[dict[str, Any]], bool]
    ) -> tuple[str, dict[str, Any] | None]:
        """A code for the file that no other asset of the PIM holds, and the PIM's asset
        of that code when it already has this very media (else None)."""
        base = code_from_name(file_name(ref.file.source, ref.file.kind))
        alternative = self.namer.unique(base, source)
        candidates = [ref.code] if ref.code == alternative else [ref.code, alternative]
        for candidate in candidates:
            asset = self._client.asset(ref.family, candidate)
            if asset is None:
                break
            if same(asset):
                self.namer.claim(ref.family, source, candidate)
                return candidate, asset
            # another file's asset: never overwritten (the suffixed one derives from
            # this very source: it is this file's, made by a push whose cache is gone)
        else:
            candidate = candidates[-1]
        if candidate != ref.code:
            log.info("asset %s of %s holds another file: %s gets %s", ref.code, ref.family,
                     ref.file.source, candidate)  # fmt: skip
            self.namer.claim(ref.family, source, candidate)
        return candidate, None

    def _same_file(self, asset: Mapping[str, Any], ref: AssetRef, found: FetchedFile) -> bool:
        """Whether the PIM's asset holds the content of ``found`` as its main media."""
        media = _main_data(asset, ref)
        if not media or found.content is None:
            return False
        try:
            content = self._client.download_asset_media_file(media, len(found.content))
        except (TransportError, RetriesExhausted) as exc:
            log.info("asset media %s could not be compared (%s): taken as another file", media, exc)
            return False
        return content is not None and hashlib.sha1(content).hexdigest() == found.sha1

    def _remember(self, cache_key: str, entry: dict[str, Any]) -> None:
        old = self.cache.get(cache_key) or {}
        self.cache.put(cache_key, {**old, **entry})

    def _failed(self, ref: AssetRef, status: int, message: str) -> AssetDone:
        self.stats["failures"] += 1
        return AssetDone(status, asset_failure(ref, message.removeprefix(_FETCH_PREFIX)))

    def _lock_for(self, key: tuple[str, ...]) -> threading.Lock:
        with self._lock:
            lock = self._locks.get(key)
            if lock is None:
                lock = self._locks[key] = threading.Lock()
            return lock


def _entry(found: FetchedFile, **fields: Any) -> dict[str, Any]:
    return {"sha1": found.sha1, **found.validators, **fields}


def _main_data(asset: Mapping[str, Any], ref: AssetRef) -> str | None:
    """The asset's main media value (no locale, no channel), or None."""
    values = asset.get("values")
    entries = values.get(ref.file.attribute) if isinstance(values, Mapping) else None
    for entry in entries if isinstance(entries, list) else ():
        if (
            isinstance(entry, Mapping)
            and entry.get("locale") is None
            and entry.get("channel") is None
            and isinstance(entry.get("data"), str)
        ):
            return str(entry["data"])
    return None


# ---------------------------------------------------------------------------
# the line, once its assets are made


def rewrite_line(body: bytes, done: Sequence[tuple[AssetRef, AssetDone]]) -> bytes:
    """``body`` with what became of its files: an asset's code as the PIM holds it (a
    suffixed one), a failed asset left out of its list (its value left out when none is
    left: the product keeps the assets it has), an uploaded file's code as its value.

    >>> from feed_export.push.decode import MediaRef
    >>> file = MediaRef("media", None, None, "a.jpg", "path", "packshots", frozenset(), None, True)
    >>> ref = AssetRef("asset", "packshots", "a", False, file, "packshots", None, None)
    >>> rewrite_line(b'{"identifier":"x","values":{"packshots":[{"locale":null,'
    ...              b'"scope":null,"data":["a","b"]}]}}', [(ref, AssetDone(404, "gone"))])
    b'{"identifier":"x","values":{"packshots":[{"locale":null,"scope":null,"data":["b"]}]}}'
    """
    if all(d.ok and (ref.mode == "asset" and d.code == ref.code) for ref, d in done):
        return body
    line = orjson.loads(body)
    values = line.get("values")
    if not isinstance(values, dict):
        return body
    for ref, result in done:
        place = "scope" if ref.mode == "asset" else "channel"
        entries = values.get(ref.attribute)
        if not isinstance(entries, list):
            continue
        kept = []
        for entry in entries:
            if entry.get("locale") != ref.locale or entry.get(place) != ref.scope:
                kept.append(entry)
                continue
            if ref.mode == "media":
                if result.ok:
                    entry["data"] = result.media
                    kept.append(entry)
                continue
            codes = entry.get("data")
            if not isinstance(codes, list):
                kept.append(entry)
                continue
            folded = ref.code.casefold()
            changed = [
                (result.code or c) if result.ok and c.casefold() == folded else c
                for c in codes
                if result.ok or c.casefold() != folded
            ]
            entry["data"] = list(dict.fromkeys(changed))
            if entry["data"]:
                kept.append(entry)
        if kept:
            values[ref.attribute] = kept
        else:
            del values[ref.attribute]
    if not values:
        del line["values"]
    return orjson.dumps(line)


class FamilyClient:
    """An assets feed's PATCH client: every batch goes to its family's asset endpoint."""

    def __init__(self, client: AssetClient, family: str) -> None:
        self._client = client
        self._family = family

    def patch_collection(
        self, entity: Entity, lines: Sequence[bytes], *, create_missing_options: bool = False
    ) -> list[LineResult]:
        return self._client.patch_assets(self._family, lines)
