"""Ray for the train stage: a local Ray started for the command, or an existing cluster.

Learners of a population, runs of a sweep and chunks of a many-episode evaluation run
as Ray tasks, one mechanism for all parallel work. :func:`ray_session` gives a command
a Ray to submit them to:

* by default a **local Ray started for the command** and stopped at its end, sized to
  the machine (its CPUs), keeping its temp files, logs and spilled objects inside the
  command's output folder (``<out>/ray/``), never in ``/tmp/ray``;
* with an **address** (``--address``, else ``$RAY_ADDRESS``) the cluster there, joined
  as it is from one of its machines (``auto`` finds the cluster ``ray start`` began on
  this one): the same command then runs unchanged on many machines;
* inside a Ray task, or when the caller started Ray itself, **that Ray** (left running).

Traps this module avoids (measured with ray 2.60): a bare ``ray.init()`` joins
``$RAY_ADDRESS`` or the last local cluster, so a local start always passes
``address="local"``; a new local Ray turns token authentication on and, unless given a
token, writes one to ``~/.ray/auth_token``, so a local start gets a fresh token in its
environment instead (its workers inherit it; nothing is written to the home folder);
Ray's Unix sockets live in its temp folder and a socket path may not exceed 107 bytes,
so an output folder with a long path is reached through a short symbolic link in the
system's temp folder (the files stay in the output folder; the link is removed at the
end). Joining a cluster needs that cluster's token: ``$RAY_AUTH_TOKEN``,
``$RAY_AUTH_TOKEN_PATH`` or ``~/.ray/auth_token`` (``ray get-auth-token`` on the head
node prints it); simreel joins in token mode unless ``$RAY_AUTH_MODE`` says otherwise.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, Final

from schemas.errors import ConfigError

RAY_PIN: Final = "ray==2.60.0"
"""The Ray release simreel is tested with (pinned in pyproject.toml)."""
RAY_DIR: Final = "ray"
"""The folder inside a command's output folder where a local Ray keeps its files."""
_MAX_TEMP_DIR: Final = 40
"""Longest temp folder path Ray's sockets fit under: 107 bytes minus the session folder
(``session_<date>_<time>_<micros>_<pid>``, up to 42) and ``/sockets/plasma_store`` (21)."""
_OBJECT_STORE_BYTES: Final = 256 * 2**20
"""Shared memory of a local Ray's object store: the tasks exchange models and episode
summaries of kilobytes, and a small store keeps the command's memory use predictable."""


@dataclass(frozen=True)
class RaySettings:
    """Where a command's parallel work runs; a decision about this invocation, not the
    results (the results depend only on seeds, so no card or table stores it)."""

    address: str | None = None
    """Ray cluster to join from one of its machines (``auto``, or the head's ``host:6379``);
    None: ``$RAY_ADDRESS`` if set, else a local Ray for this command; ``local`` forces that."""
    num_cpus: int | None = None
    """CPUs a local Ray offers (None: this machine's); ignored on a cluster."""
    workdir: Path | None = None
    """Where a local Ray keeps its files (``<workdir>/ray/``); None: a temporary folder
    removed at the end."""
    quiet: bool = False
    """Say nothing on stderr (no note about a short link to the temp folder)."""


@dataclass(frozen=True)
class RaySession:
    """The Ray a command submits its tasks to."""

    cpus: float
    """CPUs of the whole cluster (a local Ray: the ones it was given)."""
    local: bool
    """True for a Ray this command started on this machine."""
    temp_dir: Path | None
    """Where a local Ray this command started keeps its files (None otherwise)."""

    @property
    def scratch(self) -> Path | None:
        """Where tasks on a local Ray work on files before returning them (None: the
        system's temp folder of whichever machine runs the task)."""
        return None if self.temp_dir is None else self.temp_dir / "scratch"


def require_ray() -> ModuleType:
    """The ray module, or ConfigError saying how to install it."""
    try:
        import ray
    except ImportError:
        raise ConfigError(
            f"this command runs its parallel work on Ray, which is not installed; install it "
            f"with `pip install '{RAY_PIN}'` (`make setup` does), or train a single learner "
            "with --population 1"
        ) from None
    return ray


def resolve_address(settings: RaySettings) -> str | None:
    """The cluster to join, or None for a local Ray (``--address``, else ``$RAY_ADDRESS``).

    A Ray Client address (``ray://``) is refused: a command whose driver runs off the
    cluster through Ray Client hung with ray 2.60 (its learners ran, the driver never
    saw them end). The command runs on a machine of the cluster instead, or is sent
    there with ``ray job submit``.
    """
    address = settings.address or os.environ.get("RAY_ADDRESS") or None
    if address is not None and address.startswith("ray://"):
        raise ConfigError(
            f"--address ({address}): Ray Client addresses (ray://) are not supported; run "
            "the command on a machine of the cluster with --address auto (or the head's "
            "host:6379), or send it there with `ray job submit --address "
            "http://<head>:8265 -- simreel ... --address auto`"
        )
    return None if address in (None, "local") else address


def local_cpus() -> int:
    """CPUs this process may run on (its affinity, not the whole machine's if restricted)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


@contextlib.contextmanager
def ray_session(settings: RaySettings) -> Iterator[RaySession]:
    """Ray for the duration of the block: started, joined, or the one already running."""
    running = sys.modules.get("ray")
    if running is not None and running.is_initialized():
        yield RaySession(cpus=_cluster_cpus(running), local=False, temp_dir=None)
        return
    address = resolve_address(settings)
    if address is not None:
        _joining_token_mode()
        with _joined(require_ray(), address) as session:
            yield session
        return
    _local_token()
    with _started(require_ray(), settings) as session:
        yield session


@contextlib.contextmanager
def _joined(ray: Any, address: str) -> Iterator[RaySession]:
    log: list[str] = []
    try:
        with _stderr_into(log):
            ray.init(address=address, log_to_driver=False, logging_level="warning")
    except (ConnectionError, RuntimeError) as error:
        if "InvalidAuthToken" in "".join(log):
            raise ConfigError(
                f"--address ({address}): the Ray cluster there refused this client's token; "
                "export that cluster's token as RAY_AUTH_TOKEN (`ray get-auth-token` on the "
                "head node prints it) or its file as RAY_AUTH_TOKEN_PATH"
            ) from None
        raise ConfigError(
            f"--address ({address}): cannot join a Ray cluster there ({_first_line(error)}); "
            "start one with `ray start --head` and pass its address, or leave --address "
            "and RAY_ADDRESS unset to run on this machine"
        ) from None
    except ray.exceptions.AuthenticationError:
        raise ConfigError(
            f"--address ({address}): the Ray cluster there needs its token (Ray clusters use "
            "token authentication by default) and this client has none or another; export "
            "RAY_AUTH_TOKEN=<token> (`ray get-auth-token` on the head node prints it) or "
            "RAY_AUTH_TOKEN_PATH=<its file>; for a cluster without authentication export "
            "RAY_AUTH_MODE=disabled"
        ) from None
    except ValueError as error:
        raise ConfigError(
            f"--address ({address}): cannot join a Ray cluster there ({_first_line(error)}); "
            "start one with `ray start --head` and pass its address, or leave --address "
            "and RAY_ADDRESS unset to run on this machine"
        ) from None
    try:
        yield RaySession(cpus=_cluster_cpus(ray), local=False, temp_dir=None)
    finally:
        ray.shutdown()


@contextlib.contextmanager
def _started(ray: Any, settings: RaySettings) -> Iterator[RaySession]:
    scratch = None
    if settings.workdir is None:
        scratch = Path(tempfile.mkdtemp(prefix="simreel-ray-"))
        temp_dir = scratch
    else:
        temp_dir = Path(settings.workdir).resolve() / RAY_DIR
    temp_dir.mkdir(parents=True, exist_ok=True)
    link = None
    reached = temp_dir
    if len(str(temp_dir)) > _MAX_TEMP_DIR:
        link = Path(tempfile.mkdtemp(prefix="simreel-")) / "ray"
        link.symlink_to(temp_dir, target_is_directory=True)
        reached = link
        if not settings.quiet:
            print(
                f"note: Ray's files go to {temp_dir}, reached through the short link {link} "
                f"(Unix socket paths cannot be that long); the link is removed at the end",
                file=sys.stderr,
            )
    cpus = settings.num_cpus or local_cpus()
    try:
        ray.init(
            address="local",
            num_cpus=cpus,
            include_dashboard=False,
            object_store_memory=_OBJECT_STORE_BYTES,
            _temp_dir=str(reached),
            log_to_driver=False,
            logging_level="warning",
        )
        yield RaySession(cpus=float(cpus), local=True, temp_dir=temp_dir)
    finally:
        ray.shutdown()
        with contextlib.suppress(OSError):
            (temp_dir / "scratch").rmdir()  # emptied by the tasks that used it
        if link is not None:
            link.unlink(missing_ok=True)
            with contextlib.suppress(OSError):
                link.parent.rmdir()
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)


def _joining_token_mode() -> None:
    """Join a cluster in token mode unless the user chose a mode.

    Ray joins a cluster given by address in token mode only when told to, yet starts
    clusters in token mode by default; a client without the mode is refused after 20
    seconds of retries printed to stderr. In token mode a missing token is one clear
    error at once (and a cluster without authentication accepts a token-mode client).
    """
    if "RAY_AUTH_MODE" not in os.environ:
        _set_auth_mode("token")


def _set_auth_mode(mode: str) -> None:
    os.environ["RAY_AUTH_MODE"] = mode
    raylet = sys.modules.get("ray._raylet")
    if raylet is not None:  # imported before: make it read the mode again, as Ray itself does
        raylet.Config.initialize("")


def _local_token() -> None:
    """Give local Rays a token of this process's own unless the user chose a mode or token.

    Ray 2.60 turns token authentication on for a new local Ray and, lacking a token,
    writes one to ``~/.ray/auth_token``. A token in this process's environment (which the
    Ray processes it starts inherit) keeps the protection and leaves the home folder
    alone. It stays set for the life of the process: Ray reads the mode when imported and
    caches the token, so every later local Ray of this process uses the same one.
    """
    if any(
        name in os.environ for name in ("RAY_AUTH_MODE", "RAY_AUTH_TOKEN", "RAY_AUTH_TOKEN_PATH")
    ):
        return
    os.environ["RAY_AUTH_TOKEN"] = secrets.token_hex(32)
    _set_auth_mode("token")


@contextlib.contextmanager
def _stderr_into(log: list[str]) -> Iterator[None]:
    """Collect what is written to file descriptor 2 meanwhile into `log`.

    Ray's C++ client prints a warning a second while it retries a cluster that refuses
    it (20 of them); the command says what went wrong in one line instead.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            log.append(sink.read().decode("utf-8", "replace"))


def _cluster_cpus(ray: Any) -> float:
    return float(ray.cluster_resources().get("CPU", 1.0))


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def share(cpus: float, tasks: int) -> float:
    """CPUs to request per task so that `tasks` tasks run at once on `cpus` CPUs.

    Learners of one population must progress side by side (one stops only once it has
    passed the timestep at which another reached the target), so on fewer CPUs than
    learners each asks for a share: three learners on two cores run at 2/3 each, as
    three processes did before. Ray accepts fractions down to 1/10,000.
    """
    return max(min(1.0, cpus / max(tasks, 1)), 0.0001)
