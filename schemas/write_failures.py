"""Why writing an output failed, as a cause and a fix a user can act on.

Writers report a failure in their own way: pyarrow and Python raise OSError with an
errno, ffmpeg exits with a code (or is killed by SIGXFSZ at the file-size limit) and
a line of text, pygame says only "Error writing the PNG file". So the cause is found,
in this order, in the errno (:func:`explain`), in a writer's words or signal
(:func:`explain_process`), and in the state the failure left behind
(:func:`diagnose`): a partial file as large as the file-size limit, or a disk
without free space.
"""

from __future__ import annotations

import errno
import os
import signal
from pathlib import Path
from typing import Final

from schemas import partials

try:
    import resource
except ImportError:  # not POSIX: no file-size limit to report
    resource = None  # type: ignore[assignment]

LOW_SPACE_BYTES: Final = 1 << 20
"""A disk with less free space than this after a failed write is the reason it failed
(writers fail when a buffer of a few KiB no longer fits)."""
WRITABLE_PATH: Final = "choose a writable output path"

Why = tuple[str, str]
"""(cause, fix): "no space left on the device", "free some space on it, ..."."""

_TEXTS: Final = {
    "no space left on device": errno.ENOSPC,
    "file too large": errno.EFBIG,
    "disk quota exceeded": errno.EDQUOT,
    "permission denied": errno.EACCES,
    "read-only file system": errno.EROFS,
    "input/output error": errno.EIO,
}
"""strerror texts (lower case) that writers such as ffmpeg print, and their errno."""


def explain(error: OSError) -> Why:
    """The cause and fix of an OSError raised while writing an output."""
    code = error.errno
    if code == errno.ENOSPC:
        return "no space left on the device", "free some space on it, or write to another disk"
    if code == errno.EDQUOT:
        return "the disk quota is used up", "free some of your files, or write to another disk"
    if code == errno.EFBIG:
        return _too_large()
    if code in (errno.EACCES, errno.EPERM):
        return "permission denied", WRITABLE_PATH
    if code == errno.EROFS:
        return "the file system is read-only", WRITABLE_PATH
    if code in (errno.ENOTDIR, errno.EEXIST):
        return "a part of the path is a file, not a directory", WRITABLE_PATH
    if code == errno.EISDIR:
        return "it is a directory", "give a file name"
    if code == errno.ENAMETOOLONG:
        return "the name is too long", "choose a shorter output name"
    if code == errno.EIO:
        return "input/output error (the disk or its connection failed)", "check the disk"
    text = error.strerror or str(error) or type(error).__name__
    return text[:1].lower() + text[1:], "check the disk and the output path, or " + WRITABLE_PATH


def explain_process(returncode: int | None, message: str) -> Why | None:
    """The cause and fix when a writer process (ffmpeg) failed, from its exit and its words.

    None when neither says anything about the disk or the file (then its own message is best).
    """
    if returncode is not None and returncode < 0 and -returncode == getattr(signal, "SIGXFSZ", 0):
        return _too_large()
    lowered = message.lower()
    for text, code in _TEXTS.items():
        if text in lowered:
            return explain(OSError(code, os.strerror(code)))
    return None


def diagnose(partial: Path) -> Why | None:
    """The cause a failed write left behind at `partial`: the file-size limit or a full disk.

    None when neither is the case (the failure had another reason).
    """
    limit = file_size_limit()
    try:
        size = partial.stat().st_size
    except OSError:
        size = 0
    if limit is not None and size >= limit:
        return _too_large()
    free = free_bytes(partial.parent)
    if free is not None and free < LOW_SPACE_BYTES:
        return explain(OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)))
    return None


def file_size_limit() -> int | None:
    """This process's file-size limit in bytes (``ulimit -f``), None if unlimited."""
    if resource is None:
        return None
    soft, _ = resource.getrlimit(resource.RLIMIT_FSIZE)
    return None if soft == resource.RLIM_INFINITY else int(soft)


def free_bytes(directory: Path) -> int | None:
    """Bytes this process may still write on `directory`'s file system (None if unknown)."""
    try:
        stats = os.statvfs(directory)
    except (OSError, AttributeError):
        return None
    # root may use the blocks reserved for it; others only the available ones.
    blocks = stats.f_bfree if hasattr(os, "geteuid") and os.geteuid() == 0 else stats.f_bavail
    return blocks * stats.f_frsize


def _too_large() -> Why:
    limit = file_size_limit()
    if limit is not None:
        return (
            f"the file reached the file-size limit of {limit} bytes (ulimit -f)",
            "raise the limit (ulimit -f unlimited) or make a smaller file",
        )
    return (
        "the file is larger than its file system allows",
        "write to a file system that holds larger files",
    )


def process_failure(output: str | Path, returncode: int | None, message: str) -> str | None:
    """One line for a writer process (ffmpeg) that failed writing `output` for a reason the
    user can fix (the file-size limit, the disk), or None when its exit and `message` tell
    of none. `output` may be the partial file the process wrote: the line names its target.
    """
    why = explain_process(returncode, message)
    if why is None:
        return None
    cause, fix = why
    target = partials.target_of(output) or output
    return f"cannot write {target}: the encoder stopped (exit code {returncode}): {cause}; {fix}"
