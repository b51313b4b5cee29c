"""Write outputs through a temporary file and a rename, so a crash never leaves half a file."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from schemas.errors import ConfigError, SimreelError


@contextlib.contextmanager
def atomic_output(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside `path`; rename it onto `path` only if the block succeeds.

    On any exception (KeyboardInterrupt included) the temporary file is removed and
    `path` is left as it was.
    """
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(
            prefix=f".{target.name}.", suffix=f".partial{target.suffix}", dir=target.parent
        )
        os.close(handle)
        # mkstemp creates 0600 files; outputs are meant to be shared like any other file.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)
    except OSError as error:
        raise SimreelError(
            f"cannot write {target}: {error.strerror or error}; choose a writable output path"
        ) from None
    temporary_path = Path(temporary)
    try:
        yield temporary_path
        os.replace(temporary_path, target)
    finally:
        temporary_path.unlink(missing_ok=True)


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
