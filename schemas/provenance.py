"""Where an artefact came from: versions, commit, file digests. Standard library only."""

from __future__ import annotations

import hashlib
import platform
import subprocess
from importlib import metadata
from pathlib import Path

TRACKED_DISTRIBUTIONS = (
    "simreel",
    "numpy",
    "simpy",
    "gymnasium",
    "torch",
    "stable-baselines3",
    "sb3-contrib",
    "pyarrow",
    "polars",
    "pygame",
    "imageio-ffmpeg",
)


def library_versions() -> dict[str, str]:
    """Installed versions of the packages that shape simreel's results (read without importing)."""
    versions = {"python": platform.python_version()}
    for name in TRACKED_DISTRIBUTIONS:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def simreel_version() -> str:
    try:
        return metadata.version("simreel")
    except metadata.PackageNotFoundError:
        return "unknown"


def system_info() -> dict[str, str]:
    return {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": platform.processor(),
    }


def sha256_file(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def git_commit(directory: str | Path | None = None) -> str | None:
    """The commit checked out in `directory` (default: this source tree), or None outside git."""
    where = Path(directory) if directory else Path(__file__).resolve().parent
    try:
        result = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=where,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip() or None if result.returncode == 0 else None
