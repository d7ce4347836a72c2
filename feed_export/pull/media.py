"""``--download-media DIR``: the files of image and file values, fetched beside the feed.

Each media-file code (``1/d/7/f/<hash>_photo.jpg``) is downloaded once, to
``DIR/1/d/7/f/<hash>/photo.jpg``: the code's folders and hash keep two files of one name
apart, and the file keeps the name it was uploaded with. Its cell holds the file's path
relative to the feed's folder, which a push reads back as a file to upload: pushed back,
the file is uploaded again and the PIM stores it under a new media-file code (the same
content); pull without ``--download-media`` (media-file codes) for a round trip that
changes nothing.
A code that is not a plain relative path (``..``, an absolute path, odd characters: it
comes from the PIM, which we do not let choose where we write) or a download that fails
keeps the media-file code in its cell, and is counted in the report's warnings.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from feed_export.errors import ConfigError, TransportError
from feed_export.feed.output import create_file

log = logging.getLogger(__name__)

#: a media-file code we write under DIR: relative, plain segments, no ``.`` or ``..``
_SAFE_CODE = re.compile(r"[A-Za-z0-9_\-][A-Za-z0-9_.\-]*(?:/[A-Za-z0-9_\-][A-Za-z0-9_.\-]*)*")
#: problems kept to name in the report (the rest are counted)
MAX_NAMED = 20

#: (code, open file, size limit in bytes) -> bytes written; raises TransportError
Download = Callable[[str, BinaryIO, int], int]


class MediaDownloads:
    """Downloads media files once each and says what a cell holds for a code."""

    def __init__(self, download: Download, folder: Path, relative_to: Path, max_bytes: int) -> None:
        self._download = download
        self._folder = folder
        self._relative_to = relative_to
        self._max_bytes = max_bytes
        self._cells: dict[str, str] = {}
        self.downloaded = 0
        self.bytes = 0
        self.failed = 0
        self.problems: list[str] = []
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(
                f"--download-media {folder}: cannot create the folder: {exc.strerror or exc}"
            ) from exc

    def cell(self, code: str) -> str:
        """The cell of a media value: the downloaded file's path, or the code on failure."""
        found = self._cells.get(code)
        if found is None:
            found = self._cells[code] = self._fetch(code)
        return found

    def _fetch(self, code: str) -> str:
        if not _SAFE_CODE.fullmatch(code) or any(p in (".", "..") for p in code.split("/")):
            return self._failed(code, "not a plain relative file code: kept as it is")
        folders, _, last = code.rpartition("/")
        digest, underscore, name = last.partition("_")
        place = f"{folders}/{digest}/{name}" if underscore and name else code
        target = self._folder / place.lstrip("/")
        part = target.with_name(target.name + ".part")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            with create_file(part, "media file") as out:
                written = self._download(code, out, self._max_bytes)
            os.replace(part, target)
        except (OSError, TransportError, ConfigError) as exc:
            part.unlink(missing_ok=True)
            return self._failed(code, str(exc))
        self.downloaded += 1
        self.bytes += written
        return Path(os.path.relpath(target, self._relative_to)).as_posix()

    def _failed(self, code: str, why: str) -> str:
        self.failed += 1
        if len(self.problems) < MAX_NAMED:
            self.problems.append(f"media file {code!r} not downloaded: {why}")
        log.warning("media file %r not downloaded: %s", code, why)
        return code
