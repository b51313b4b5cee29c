"""A learner as a Ray task, and the coordinator actor its population talks to.

:func:`learner_task` is what runs on the cluster: it trains one learner
(:func:`stages.train.learner.train_learner`) in a scratch folder on whichever machine
runs it and returns every file it wrote, so that a cluster needs no shared file system
and one process (the population's, :mod:`stages.train.population`) publishes every
output. Its hooks talk to the :class:`Coordinator`, a small Ray actor shared by all runs
of a command: it holds each run's stop timestep (the earliest timestep at which one of
its learners reached the target), the progress, and Ctrl-C.
"""

from __future__ import annotations

import functools
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from domains.registry import load_domain
from stages.train.config import CHECKPOINT, TrainConfig, TrainingInterrupted
from stages.train.learner import train_learner
from stages.train.model_card import Evaluation

NEVER: Final = 2**62
"""Stop timestep while no learner has reached the target."""
INTERRUPT_POLL_SECONDS: Final = 0.2
"""How often a learner asks whether Ctrl-C was pressed (a Ray call per env step would
cost more than the step)."""


class Coordinator:
    """Shared state of the runs of one command: stop timesteps, progress and Ctrl-C.

    Runs as a Ray actor (no CPU of its own); learners call it once per evaluation and
    a few times a second to ask about Ctrl-C, this process to show the progress.
    """

    def __init__(self) -> None:
        self._stop_at: dict[int, int] = {}
        self._progress: dict[int, dict[int, tuple[int, float]]] = {}
        self._evaluations = 0
        self._interrupted = False

    def register(self, run: int, stop_at: int) -> None:
        """Run `run` starts; a learner that reached the target earlier stops it at `stop_at`."""
        self._stop_at[run] = min(self._stop_at.get(run, NEVER), stop_at)
        self._progress.setdefault(run, {})

    def evaluated(self, run: int, member: int, evaluation: Evaluation, target: float | None) -> int:
        """Note learner `member`'s evaluation; return the run's stop timestep."""
        self._evaluations += 1
        _, best = self._progress[run].get(member, (0, float("-inf")))
        score = evaluation.score
        self._progress[run][member] = (evaluation.timestep, max(best, score))
        if target is not None and score >= target:
            self._stop_at[run] = min(self._stop_at[run], evaluation.timestep)
        return self._stop_at[run]

    def interrupt(self) -> None:
        """Ctrl-C: every learner writes its checkpoint and ends at its next step."""
        self._interrupted = True

    def interrupted(self) -> bool:
        return self._interrupted

    def progress(self) -> tuple[int, dict[int, dict[int, tuple[int, float]]]]:
        """Evaluations so far, and per run and learner: (latest timestep, best result)."""
        return self._evaluations, self._progress


class _Hooks:
    """A learner's hooks: report evaluations, obey the stop timestep and Ctrl-C."""

    def __init__(self, coordinator: Any, run: int, member: int, target: float | None) -> None:
        self._coordinator = coordinator
        self._run = run
        self._member = member
        self._target = target
        self._stop_at = NEVER
        self._next_poll = 0.0
        self._interrupted = False

    def evaluated(self, evaluation: Evaluation) -> None:
        import ray

        call = self._coordinator.evaluated.remote(self._run, self._member, evaluation, self._target)
        self._stop_at = int(ray.get(call))

    def should_stop(self, timestep: int) -> bool:
        return timestep >= self._stop_at

    def interrupted(self) -> bool:
        if not self._interrupted and time.monotonic() >= self._next_poll:
            import ray

            self._next_poll = time.monotonic() + INTERRUPT_POLL_SECONDS
            self._interrupted = bool(ray.get(self._coordinator.interrupted.remote()))
        return self._interrupted


@dataclass(frozen=True)
class LearnerJob:
    """What a learner task needs: everything travels with it (no shared file system)."""

    config: dict[str, Any]
    """The learner's TrainConfig as JSON (its out_dir: its folder on this machine)."""
    run: int
    """The run it belongs to (the coordinator's key)."""
    member: int
    """Its index k in the population."""
    resume_files: dict[str, bytes] = field(default_factory=dict)
    """Its checkpoint files to continue from (empty for a new learner)."""
    scratch: str | None = None
    """Folder to train in on a local Ray (inside the output folder); None: the system's."""


@dataclass(frozen=True)
class LearnerOutcome:
    """How a learner task ended, and the files it wrote."""

    outcome: str
    """'done' or 'interrupted'."""
    started: float
    """time.time() when the task began (the population's start offset comes from it)."""
    files: dict[str, bytes]
    """Every file of its folder: model, cards, checkpoints."""


def learner_task(job: LearnerJob, coordinator: Any) -> LearnerOutcome:
    """Entry point of a learner's Ray task: train in a scratch folder, return its files."""
    started = time.time()
    if job.scratch is not None:
        Path(job.scratch).mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="simreel-learner-", dir=job.scratch) as scratch:
        folder = Path(scratch)
        for name, data in job.resume_files.items():
            (folder / name).write_bytes(data)
        config = TrainConfig.from_json(job.config, Path(job.config.get("out_dir") or "."))
        hooks = _Hooks(coordinator, job.run, job.member, config.stop_at)
        resume_from = folder / CHECKPOINT if job.resume_files else None
        try:
            train_learner(
                config, load_domain(config.domain), folder, hooks, resume_from=resume_from
            )
            outcome = "done"
        except TrainingInterrupted:
            outcome = "interrupted"
        files = {path.name: path.read_bytes() for path in folder.iterdir() if path.is_file()}
    return LearnerOutcome(outcome, started, files)


@functools.cache
def remote_learner() -> Any:
    """:func:`learner_task` as a Ray remote function (made once per process)."""
    import ray

    return ray.remote(learner_task)


@functools.cache
def _remote_coordinator() -> Any:
    import ray

    return ray.remote(num_cpus=0)(Coordinator)


def start_coordinator() -> Any:
    """A coordinator actor for this command's runs."""
    return _remote_coordinator().remote()
