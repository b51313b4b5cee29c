"""The hidden partial files outputs are written into, and the removal of those left by dead writers.

:func:`schemas.atomic.atomic_output` writes an output into a partial file beside it
and renames it into place. A writer killed with SIGKILL (or by a power cut) cannot
remove its partial, and a partial can be large (a complete, playable movie), so each
partial's name says who writes it::

    .<target name>.<host>~<pid>.<random>.partial<target suffix>

and every later :func:`atomic_output` in the same directory calls :func:`sweep`,
which removes the partials whose writer is gone: written on this host, by a process
that is no longer running, and not locked. The writer holds an ``flock`` on its
partial for as long as it writes: a process id alone can be misleading (another PID
namespace on the same host, e.g. a container sharing the hostname), a lock cannot.
Partials of other hosts are left alone (their process ids mean nothing here).

Partials named before they carried their writer (``.<name>.<random>.partial<suffix>``)
cannot name their writer; they are removed once unchanged for :data:`LEGACY_AGE_SECONDS`.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import tempfile
import time
from pathlib import Path
from typing import Final

try:
    import fcntl
except ImportError:  # not POSIX: no locks, and no way to tell a dead writer from a live one
    fcntl = None  # type: ignore[assignment]

LEGACY_AGE_SECONDS: Final = 24 * 3600
"""An old-style partial unchanged this long has no live writer (writers append all the time)."""
_NAME_CHARS: Final = 80
"""The target's name is cut to this length in the partial's name (file names have a limit)."""
_PARTIAL: Final = re.compile(
    r"^\.(?P<name>.*)\.(?P<host>[A-Za-z0-9-]+)~(?P<pid>[0-9]+)\.[a-z0-9_]{8}\.partial(?:\..*)?$"
)
_LEGACY: Final = re.compile(r"^\.(?P<name>.+)\.[a-z0-9_]{8}\.partial(?:\..*)?$")

_targets: dict[str, Path] = {}
"""Partial path → the output it becomes, for the partials this process is writing."""


def host_token() -> str:
    """This host's name as it appears in partial names: letters, digits and ``-`` only."""
    name = re.sub(r"[^A-Za-z0-9-]", "-", socket.gethostname())[:40]
    return name or "host"


def create(target: Path) -> tuple[Path, int]:
    """Create an empty partial file for `target` in its directory, locked by this process.

    Returns the partial's path and the open descriptor that holds the lock: keep it open
    while writing and pass it to :func:`release` afterwards. Raises OSError.
    """
    handle, name = tempfile.mkstemp(
        prefix=f".{target.name[:_NAME_CHARS]}.{host_token()}~{os.getpid()}.",
        suffix=f".partial{target.suffix}",
        dir=target.parent,
    )
    if fcntl is not None:
        with contextlib.suppress(OSError):  # a filesystem without locks: the pid still protects it
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    partial = Path(name)
    _targets[os.fspath(partial)] = target
    return partial, handle


def release(partial: Path, handle: int) -> None:
    """Remove `partial` (if still there) and drop its lock."""
    partial.unlink(missing_ok=True)
    _targets.pop(os.fspath(partial), None)
    os.close(handle)


def target_of(partial: str | Path) -> Path | None:
    """The output that `partial` (a file this process is writing) will become, or None."""
    return _targets.get(os.fspath(partial))


def sweep(directory: Path) -> list[Path]:
    """Remove the partials in `directory` whose writers are dead; return what was removed.

    Best effort: a file that cannot be examined or removed is left for a later sweep.
    """
    removed: list[Path] = []
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return removed
    host = host_token()
    for entry in entries:
        if not entry.name.startswith(".") or ".partial" not in entry.name:
            continue
        path = Path(entry.path)
        with contextlib.suppress(OSError):
            if _abandoned(path, entry.name, host) and _unlocked(path):
                path.unlink()
                removed.append(path)
    return removed


def _abandoned(path: Path, name: str, host: str) -> bool:
    """Whether the partial `name` belongs to no running writer (not yet checking its lock)."""
    match = _PARTIAL.match(name)
    if match is not None:
        return match["host"] == host and not _running(int(match["pid"]))
    if _LEGACY.match(name) is not None:
        return time.time() - path.lstat().st_mtime > LEGACY_AGE_SECONDS
    return False


def _running(pid: int) -> bool:
    """Whether a process `pid` exists on this host (when unsure: yes, so nothing is removed)."""
    if pid == os.getpid():
        return True
    if os.name != "posix":  # os.kill would terminate the process on Windows
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: it runs under another user
        return True
    return True


def _unlocked(path: Path) -> bool:
    """Whether no process holds the writer's lock on `path` (True where locks do not exist)."""
    if fcntl is None:
        return True
    handle = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    finally:
        os.close(handle)
    return True
