"""Write outputs all or nothing, and never over a result another command wrote meanwhile.

Every output (table, movie, picture, model, export) is written into a hidden partial
file beside it (:mod:`schemas.partials`) and published by a rename only once the
writing succeeded, so a crash, Ctrl-C or a full disk never leaves half a file, and
an OS error while writing is an :class:`~schemas.errors.OutputError` naming the file,
the cause and the fix (:mod:`schemas.write_failures`).

Publishing follows one rule, so that two commands writing one file at once cannot
silently lose a result:

- the target does not exist: it is created by a hard link, which fails if the file
  has appeared by then (atomic on POSIX; a plain rename where links are unsupported);
- the target exists and was last changed before this command began
  (:func:`command`), or this process published it: it is replaced. It is there
  on purpose: a file the user named (``--out``), or a default name the command was
  allowed to replace (:func:`refuse_to_replace` stops the command up front otherwise);
- the target was changed by someone else after the command began: it is *not*
  replaced; this result is kept beside it as ``<stem>.kept-<n><suffix>`` and the
  command fails saying so.

"Changed" is the file's status-change time (ctime), which a rename or link into
place sets, so a file another command published during this one is recognised
whatever modification time it carries. Outside :func:`command` (library use)
the command is taken to begin when the writing begins. Publishes into one directory
are serialised by an ``flock`` on it, so one command's check and rename never
interleave with another's.
"""

from __future__ import annotations

import contextlib
import errno
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from schemas import partials, write_failures
from schemas.errors import ConfigError, OutputError

try:
    import fcntl
except ImportError:  # not POSIX: publishes are not serialised
    fcntl = None  # type: ignore[assignment]

_NO_LINKS = {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENOSYS, errno.EMLINK}
"""errno of os.link on a file system without hard links (FAT, some network shares)."""
_MAX_KEPT = 1000


@dataclass
class _Session:
    """What this process knows about its outputs."""

    command_started_ns: int | None = None
    """When the running command began (time.time_ns), None outside a command."""
    published: dict[str, tuple[int, int, int, int]] = field(default_factory=dict)
    """Absolute path → identity (device, inode, size, mtime) of each file this process published."""


_SESSION = _Session()


@contextlib.contextmanager
def command() -> Iterator[None]:
    """The span of one command: an output changed after it began was written by someone else.

    The CLI runs every command inside it; a long-lived caller (a notebook, a service) may
    wrap each unit of work. Outside it, a command is taken to begin when its writing does.
    """
    previous = _SESSION.command_started_ns
    _SESSION.command_started_ns = time.time_ns()
    try:
        yield
    finally:
        _SESSION.command_started_ns = previous


@contextlib.contextmanager
def atomic_output(path: str | Path) -> Iterator[Path]:
    """Yield a partial file beside `path`; publish it onto `path` only if the block succeeds.

    On any exception (KeyboardInterrupt included) the partial is removed and `path` is
    left as it was. An OSError in the block, or a failure that left a full disk or a
    file at the file-size limit behind, becomes an OutputError naming `path` and the
    cause. Publishing follows the module's rule: OutputError, with the result kept
    beside `path`, if another command wrote `path` since this command began.
    """
    target = Path(path)
    since = _SESSION.command_started_ns or time.time_ns()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        partials.sweep(target.parent)
        partial, handle = partials.create(target)
    except OSError as error:
        raise OutputError(target, *write_failures.explain(error)) from None
    try:
        try:
            # mkstemp creates 0600 files; outputs are meant to be shared like any other file.
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(partial, 0o666 & ~umask)
            yield partial
        except OSError as error:
            if _names_another_file(error, partial, target):
                raise  # an input or a resource, not this output: not a write failure
            raise OutputError(target, *_write_failure(error, partial)) from None
        except Exception:
            why = write_failures.diagnose(partial)
            if why is None:
                raise
            raise OutputError(target, *why) from None
        try:
            _publish(partial, target, since)
        except OSError as error:
            raise OutputError(target, *write_failures.explain(error)) from None
    finally:
        partials.release(partial, handle)


def refuse_to_replace(path: str | Path, *, force: bool, named_by: str = "--out") -> None:
    """Raise ConfigError if `path` exists and the user neither named it nor passed ``--force``.

    Called for *default* output names only: a file the user names (``--out``) is theirs
    to replace, but a default name must never silently overwrite an earlier artefact
    (the demo movie, a committed model, yesterday's table).
    """
    target = Path(path)
    if force or not target.exists():
        return
    raise ConfigError(
        f"{target} already exists and this command would replace it; pass --force to "
        f"replace it, or choose another file with {named_by}"
    )


def output_suffix(path: str | Path) -> str:
    """An output's extension as every command compares it: the last suffix, lower-cased.

    The one rule for extensions: ``UP.PARQUET`` is a table like ``up.parquet`` and
    ``UP.MP4`` a movie like ``up.mp4`` (file systems and users differ about case; the
    file's kind does not).
    """
    return Path(path).suffix.lower()


def require_suffix(path: str | Path, *suffixes: str, what: str) -> str:
    """Return `path`'s extension (lower case) if it is one of `suffixes`, in any case.

    Raises ConfigError naming the path, the allowed extensions and what was found.
    `what` says why, e.g. "event tables are Parquet files".
    """
    found = output_suffix(path)
    allowed = [suffix.lower() for suffix in suffixes]
    if found in allowed:
        return found
    ending = f"it ends in {found}" if found else "it has no extension"
    raise ConfigError(f"output {path} must end in {' or '.join(suffixes)} ({what}); {ending}")


def _write_failure(error: OSError, partial: Path) -> tuple[str, str]:
    """The cause of an OSError while writing: its errno, or what the failure left behind."""
    if error.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EACCES, errno.EROFS):
        return write_failures.explain(error)
    return write_failures.diagnose(partial) or write_failures.explain(error)


def _names_another_file(error: OSError, partial: Path, target: Path) -> bool:
    names = [error.filename, error.filename2]
    return any(
        name is not None and Path(os.fsdecode(name)).name not in (partial.name, target.name)
        for name in names
    )


def _publish(partial: Path, target: Path, since: int) -> None:
    """Move `partial` onto `target` by the module's rule; OutputError when another command won."""
    with _directory_lock(target.parent):
        try:
            current = os.lstat(target)
        except FileNotFoundError:
            try:
                _link(partial, target)
            except FileExistsError:
                _refuse(partial, target)
        else:
            if _identity(current) != _SESSION.published.get(os.path.abspath(target)) and (
                current.st_ctime_ns > since
            ):
                _refuse(partial, target)
            os.replace(partial, target)
        _SESSION.published[os.path.abspath(target)] = _identity(os.lstat(target))


def _refuse(partial: Path, target: Path) -> None:
    """Keep this result beside `target` and raise OutputError: another command wrote `target`."""
    kept = _keep(partial, target)
    if kept is None:
        raise OutputError(
            target,
            "another command wrote it while this one ran, so this command's result was not "
            "published",
            "run the command again, or choose another output path",
        )
    raise OutputError(
        target,
        f"another command wrote it while this one ran, so this command's result was kept at "
        f"{kept} instead",
        f"compare the two and keep the one you want (mv {kept} {target} keeps this one)",
    )


def _keep(partial: Path, target: Path) -> Path | None:
    """Publish `partial` under the first free name ``<stem>.kept-<n><suffix>``; None if none."""
    for n in range(1, _MAX_KEPT):
        candidate = target.with_name(f"{target.stem}.kept-{n}{target.suffix}")
        try:
            _link(partial, candidate)
        except FileExistsError:
            continue
        except OSError:
            return None
        return candidate
    return None


def _link(source: Path, destination: Path) -> None:
    """Make `destination` name `source`'s file; FileExistsError if `destination` exists."""
    try:
        os.link(source, destination)
    except FileExistsError:
        raise
    except OSError as error:
        if error.errno not in _NO_LINKS:
            raise
        # No hard links here: check, then rename (publishes in the directory are serialised).
        if os.path.lexists(destination):
            raise FileExistsError(errno.EEXIST, "File exists", str(destination)) from None
        os.replace(source, destination)


def _identity(status: os.stat_result) -> tuple[int, int, int, int]:
    return (status.st_dev, status.st_ino, status.st_size, status.st_mtime_ns)


@contextlib.contextmanager
def _directory_lock(directory: Path) -> Iterator[None]:
    """Hold an exclusive flock on `directory` (where the system and file system allow one)."""
    handle: int | None = None
    with contextlib.suppress(OSError):
        handle = os.open(directory, os.O_RDONLY)
        if fcntl is not None:
            fcntl.flock(handle, fcntl.LOCK_EX)
    try:
        yield
    finally:
        if handle is not None:
            os.close(handle)
