"""Creating output files without following a planted symlink, and the private state folder.

A feed's folder may be writable by others (a shared drop folder, an extracted archive):
whoever can write there can plant ``feed.feedback.csv`` as a symlink to any file of the
user who runs the push, or a ``.feed_export`` symlink that moves the state elsewhere.
So every file feed_export creates is opened with ``O_NOFOLLOW`` (a symlink at the name
is refused, never written through), and ``.feed_export`` must be a real folder owned by
the user (created ``0700``; one writable by others is made private first). State files
(state store, journal, media cache) are created ``0600``: they name the PIM and every
product pushed.

Where the platform has no ``O_NOFOLLOW`` (Windows), files are opened normally.
"""

from __future__ import annotations

import errno
import logging
import os
import stat
from pathlib import Path
from typing import BinaryIO

from feed_export.errors import ConfigError

log = logging.getLogger(__name__)

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)


def _refuse_link(path: Path, what: str) -> ConfigError:
    return ConfigError(
        f"{path} is a symbolic link: the {what} is never written through one (it could "
        "point at any file); remove the link or choose another path"
    )


def create_file(path: Path, what: str = "file", *, private: bool = False) -> BinaryIO:
    """``path`` opened for writing, created or emptied; never through a symlink at its name.

    ``private``: created ``0600`` (an existing file of ours is made ``0600`` too). Raises
    ``ConfigError`` for a symlink; other failures as ``OSError``.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | _NOFOLLOW | _CLOEXEC
    fd = _open(path, flags, 0o600 if private else 0o666, what)
    if private:
        _make_private(fd)
    return os.fdopen(fd, "wb")


def prepare_private_file(path: Path, what: str) -> None:
    """Create ``path`` (``0600``, no symlink followed) unless it exists; an existing one
    of ours is made ``0600``. For files another library opens by name (SQLite)."""
    fd = _open(path, os.O_RDWR | os.O_CREAT | _NOFOLLOW | _CLOEXEC, 0o600, what)
    try:
        _make_private(fd)
    finally:
        os.close(fd)


def open_private(path: Path, what: str) -> int:
    """A read-write descriptor of ``path`` (created ``0600``), never through a symlink."""
    fd = _open(path, os.O_RDWR | os.O_CREAT | _NOFOLLOW | _CLOEXEC, 0o600, what)
    _make_private(fd)
    return fd


def write_text(path: Path, text: str, what: str = "file") -> None:
    """``text`` as UTF-8 into ``path`` (``create_file``'s rules)."""
    with create_file(path, what) as out:
        out.write(text.encode("utf-8"))


def private_folder(path: Path) -> Path:
    """``path`` as a real folder of this user (created ``0700``); ``ConfigError`` otherwise.

    A symlink, a file, or a folder of another user is refused; a folder of ours that
    others may write into is made private (``0700``) first.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        pass
    except OSError as exc:
        raise ConfigError(f"cannot create the folder {path}: {exc.strerror or exc}") from exc
    info = os.lstat(path)
    if stat.S_ISLNK(info.st_mode):
        raise ConfigError(
            f"{path} is a symbolic link: feed_export keeps its state only in a real folder "
            "(a link could move it anywhere); remove the link"
        )
    if not stat.S_ISDIR(info.st_mode):
        raise ConfigError(f"{path} is not a folder: remove it (feed_export keeps its state there)")
    getuid = getattr(os, "getuid", None)
    if getuid is not None and info.st_uid != getuid():
        raise ConfigError(
            f"{path} belongs to another user: feed_export keeps its state only in a folder of "
            "yours; remove it, or pass --state FILE"
        )
    if info.st_mode & 0o022:
        log.info("%s: writable by others; making it private (0700)", path)
        os.chmod(path, 0o700)
    return path


def _open(path: Path, flags: int, mode: int, what: str) -> int:
    try:
        return os.open(path, flags, mode)
    except OSError as exc:
        # ELOOP on Linux; some systems say EMLINK or EFTYPE for O_NOFOLLOW on a link
        refused = (errno.ELOOP, errno.EMLINK, getattr(errno, "EFTYPE", -1))
        if _NOFOLLOW and exc.errno in refused and path.is_symlink():
            raise _refuse_link(path, what) from None
        raise


def _make_private(fd: int) -> None:
    info = os.fstat(fd)
    if stat.S_ISREG(info.st_mode) and info.st_mode & 0o077 and hasattr(os, "fchmod"):
        os.fchmod(fd, 0o600)
