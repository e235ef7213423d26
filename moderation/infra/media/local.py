"""Local media files: confined to the media root, opened and read within limits, OS errors in words.

``uris.parse`` confines a local path here at submit (and the worker again, ``uris.reparse``); the
worker and the API read the file through ``open_file`` / ``read_file``. Every OS error about a
path is bad input that says what the OS found (a symlink loop, no permission...), never a 500.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import BinaryIO

from moderation.domain.errors import BadInput, RefusedSubmission


# What an OS error about a local path means to the person who named it; other errors keep the OS's words.
_OS_REASONS = {
    errno.ELOOP: "it is a symlink loop (too many levels of symbolic links)",
    errno.ENOTDIR: "a part of it that should be a directory is a file",
    errno.EACCES: "permission denied: modq cannot read it",
    errno.EPERM: "permission denied: modq cannot read it",
}


class UnusablePath(RefusedSubmission):
    """A local path inside the media root that the OS will not read as a file: a symlink loop, a name too long,
    a path through a file, no permission, a directory. Bad input, never a server error."""

    def __init__(self, raw_path: str, reason: str):
        super().__init__(f"path {raw_path[:200]!r} is not usable: {reason}")
        self.reason = reason  # without the path: what the API may tell a reviewer about a stored item


def os_reason(exc: OSError) -> str:
    return _OS_REASONS.get(exc.errno, exc.strerror or str(exc))


def confine(raw_path: str, media_root: Path) -> Path:
    """The real path of a file inside ``media_root`` that modq may read, or ``RefusedSubmission`` saying why not."""
    root = Path(os.path.realpath(media_root))
    candidate = Path(raw_path)
    if ".." in candidate.parts:
        raise RefusedSubmission(f"path {raw_path!r} contains '..'; give a path inside the media root")
    if not candidate.is_absolute():
        candidate = root / candidate
    # os.path.realpath, not Path.resolve: on Python 3.11-3.12 Path.resolve raises RuntimeError for a symlink
    # loop. realpath follows every link it can (so a link out of the root is caught below) and leaves a loop
    # unresolved, for the stat in _check_readable_file to report as ELOOP.
    try:
        resolved = Path(os.path.realpath(candidate))
    except OSError as exc:  # a link changed while being read
        raise UnusablePath(raw_path, os_reason(exc)) from None
    if resolved != root and root not in resolved.parents:
        raise RefusedSubmission(f"path {raw_path!r} is outside the media root {str(root)!r} (MODQ_MEDIA_ROOT)")
    _check_readable_file(resolved, raw_path, root)
    return resolved


def _check_readable_file(path: Path, raw_path: str, root: Path) -> None:
    """A regular file modq may read, or ``RefusedSubmission`` saying what the OS found instead."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:  # a relative path is read from the root, wherever the command runs
        missing = "" if root.is_dir() else "; that directory does not exist"
        raise RefusedSubmission(f"no such file under the media root {str(root)!r} (MODQ_MEDIA_ROOT){missing}: "
                                f"{raw_path!r}") from None
    except OSError as exc:  # ELOOP, ENAMETOOLONG, ENOTDIR, EACCES, ...
        raise UnusablePath(raw_path, os_reason(exc)) from None
    if stat.S_ISDIR(mode):
        raise UnusablePath(raw_path, "it is a directory, not a file")
    if not stat.S_ISREG(mode):  # a FIFO would block the reader, a device would never end
        raise UnusablePath(raw_path, "it is not a regular file")
    if not os.access(path, os.R_OK):  # the open that reads it still maps its own errors (open_file)
        raise UnusablePath(raw_path, _OS_REASONS[errno.EACCES])


def open_file(path: Path) -> BinaryIO:
    """Open a local media file; ``BadInput`` naming the reason if it went away or became unreadable."""
    try:
        return open(path, "rb")
    except FileNotFoundError:
        raise BadInput(f"file no longer exists: {path}") from None
    except OSError as exc:
        raise BadInput(f"file {path} cannot be read: {os_reason(exc)}") from None


def read_file(path: Path, max_bytes: int) -> bytes:
    """Bytes of a local file with the size limit applied before reading it all."""
    with open_file(path) as fh:
        size = os.fstat(fh.fileno()).st_size
        if size == 0:
            raise BadInput("file is empty (0 bytes)")
        if size > max_bytes:
            raise BadInput(f"file is {size:,} bytes, over the limit of {max_bytes:,} (MODQ_MAX_IMAGE_BYTES)")
        try:
            return fh.read()
        except OSError as exc:  # EIO, or a directory swapped in on some filesystems
            raise BadInput(f"file {path} cannot be read: {os_reason(exc)}") from None
