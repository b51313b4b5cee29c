"""Population training: independent learners side by side as Ray tasks; the best is kept.

A learner of the factory settles on a 27-item schedule on some seeds and never leaves
it; learners started from other seeds rarely all do. :func:`train_population` runs
``config.population`` learners (learner k with :func:`member_seed`) through
:func:`stages.train.learner.train_learner`, each as a Ray task (on a local Ray started
for the command, or on a cluster: :mod:`stages.train.cluster`), then copies the chosen
learner's model to ``model.zip`` beside a card that lists every learner.

The outcome depends only on the seed, never on scheduling (which learner runs faster,
or on which machine):

* the chosen learner has the best score (``select_by``), then the earliest timestep, then
  the lowest k;
* with ``stop_at``, once learner k reaches the target at timestep T every other
  learner still trains until it reaches the target itself or passes T, so a learner
  that would reach it earlier (in its own timesteps) is never cut off.

A learner task trains in a scratch folder on whichever machine runs it and returns its
files; this process writes them into ``member-<k>/`` of the output folder. So a cluster
needs no shared file system, and every output is published by this one process
(:func:`schemas.atomic.atomic_output`). A small Ray actor, the coordinator, relays the
stop timestep, the progress and Ctrl-C between this process and the learners.

Ctrl-C stops every learner at its next step; each writes its checkpoint, and the
population then writes ``checkpoint.zip`` (a copy of the kept learner's) whose card
``--resume`` reads to continue all of them: after Ctrl-C to finish the budget, after a
finished run to train every learner on to a larger ``--timesteps``. A second Ctrl-C
stops at once, without checkpoints.

:class:`PopulationRun` is one run's learners; :func:`follow_runs` runs several at once
(a sweep's runs) with one coordinator.
"""

from __future__ import annotations

import shutil
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Final

from domains.domain import Domain
from schemas.atomic import atomic_output
from schemas.errors import ConfigError
from schemas.provenance import sha256_file
from stages.train.cluster import RaySession, RaySettings, ray_session, share
from stages.train.config import (
    CHECKPOINT,
    CHECKPOINT_BEST,
    TrainConfig,
    TrainingInterrupted,
    TrainResult,
    resume_budget_error,
)
from stages.train.model_card import (
    MemberSummary,
    ModelCard,
    card_path,
    load_model_card,
    write_card,
)
from stages.train.model_format import read_checkpoint
from stages.train.ray_learner import (
    NEVER,
    LearnerJob,
    LearnerOutcome,
    remote_learner,
    start_coordinator,
)

MEMBER_SEED_STRIDE: Final = 1_000_003
"""Learner k of a run with seed s trains with seed s + k * stride (learner 0: s itself)."""
POLL_SECONDS: Final = 0.5
"""How often this process looks at the learners' progress (and notices ended ones)."""
_RESUME_FILES: Final = (CHECKPOINT, card_path(Path(CHECKPOINT)).name, CHECKPOINT_BEST)


def member_seed(seed: int, member: int) -> int:
    """The seed of learner `member` of a population run with `seed`."""
    return seed + member * MEMBER_SEED_STRIDE


def member_dir(out_dir: Path, member: int) -> Path:
    """Where learner `member` writes its model, card and checkpoints."""
    return out_dir / f"member-{member}"


def choose(members: list[MemberSummary]) -> int:
    """Index (into `members`) of the kept learner: best score, earliest timestep, lowest k."""
    return min(
        range(len(members)),
        key=lambda i: (
            -members[i].best_score,
            members[i].best_timestep,
            members[i].member,
        ),
    )


@dataclass
class _Learner:
    member: int
    config: TrainConfig
    directory: Path
    ref: Any = None
    """The running task's object ref."""
    outcome: str | None = None
    """'done', 'interrupted' or 'failed' once its task has ended."""
    error: str = ""
    start_offset: float = 0.0
    """Seconds from the run's start to the learner's (worker start-up, Ray's start-up)."""
    timestep: int = 0
    best: float = float("-inf")


class PopulationRun:
    """One training run's learners on Ray, followed from this process.

    A population (``config.population`` > 1) trains learner k in ``member-<k>/`` and
    keeps the best; a single learner (a sweep's run of one) trains in `out_dir` itself.
    The constructor checks a resume (ConfigError) before anything runs.
    """

    def __init__(self, key: int, config: TrainConfig, out_dir: Path) -> None:
        self.key = key
        self.config = config
        self.out_dir = out_dir
        self.started_at: float | None = None
        """time.time() when the run began (learners' start offsets count from it)."""
        self._clock = 0.0
        self._resumed = None if config.resume is None else load_model_card(Path(config.resume))
        self.learners = [self._learner(k) for k in range(config.population)]

    @property
    def single(self) -> bool:
        return self.config.population == 1

    @property
    def ended(self) -> bool:
        return all(learner.outcome is not None for learner in self.learners)

    def timesteps(self) -> int:
        """Timesteps done so far by all its learners (as reported)."""
        return sum(learner.timestep for learner in self.learners)

    def _learner(self, member: int) -> _Learner:
        config = self.config
        if self.single:
            return _Learner(
                member, replace(config, progress=False, out_dir=self.out_dir), self.out_dir
            )
        directory = member_dir(self.out_dir, member)
        learner_config = replace(
            config,
            seed=member_seed(config.seed, member),
            population=1,
            out_dir=directory,
            progress=False,
            resume=None,
            tensorboard=None if config.tensorboard is None else config.tensorboard / directory.name,
        )
        learner = _Learner(member, learner_config, directory)
        resumed = self._resumed
        if config.resume is None or resumed is None:
            return learner
        resume_dir = Path(config.resume).parent
        checkpoint = member_dir(resume_dir, member) / CHECKPOINT
        finished = member_dir(resume_dir, member) / "model.zip"
        own = load_model_card(checkpoint) if checkpoint.is_file() else None
        if own is not None and (resumed.complete or not own.complete):
            # Every learner of a finished run trains on; of an interrupted one, those cut off.
            if own.timesteps >= config.timesteps:
                done = max([resumed.timesteps, *(m.timesteps for m in resumed.members)])
                raise ConfigError(resume_budget_error(config.timesteps, done, Path(config.resume)))
            # Read here as the learner will (weights only, nothing unpickled), so that a
            # damaged or hostile checkpoint is one line now, not a failed task later.
            read_checkpoint(checkpoint, own, best=checkpoint.with_name(CHECKPOINT_BEST))
            learner.config = replace(learner_config, resume=checkpoint)
        elif not resumed.complete and finished.is_file() and load_model_card(finished).complete:
            # It finished before the Ctrl-C that is resumed (its end checkpoint is complete).
            learner.outcome = "done"
            learner.directory = finished.parent
            card = load_model_card(finished)
            learner.timestep, learner.best = card.timesteps, card.best_score
        else:
            raise ConfigError(
                f"--resume ({config.resume}) belongs to a population of {config.population} "
                f"learners, but {checkpoint} is missing; resume from an untouched checkpoint "
                "folder or start a new run"
            )
        return learner

    def begin(self) -> None:
        """Start the run's clock (:meth:`start` does, unless called before, e.g. before Ray
        started: then Ray's start-up counts in the run's wall time)."""
        self.started_at, self._clock = time.time(), time.perf_counter()

    def start(self, coordinator: Any, session: RaySession) -> None:
        """Submit every learner that has still to train, each asking for its share of CPUs."""
        import ray

        if self.started_at is None:
            self.begin()
        stop_at = NEVER
        target = self.config.stop_at
        for learner in self.learners:
            if learner.outcome == "done" and target is not None:
                card = load_model_card(learner.directory / "model.zip")
                if card.best_score >= target:
                    stop_at = min(stop_at, card.best_timestep)
        ray.get(coordinator.register.remote(self.key, stop_at))
        cpus = share(session.cpus, len(self.learners))
        scratch = None if session.scratch is None else str(session.scratch)
        for learner in self.learners:
            if learner.outcome is not None:
                continue
            resume = learner.config.resume
            files = {}
            if resume is not None:
                folder = Path(resume).parent
                files = {
                    name: (folder / name).read_bytes()
                    for name in _RESUME_FILES
                    if (folder / name).is_file()
                }
            job = LearnerJob(learner.config.to_json(), self.key, learner.member, files, scratch)
            learner.ref = (
                remote_learner()
                .options(num_cpus=cpus, name=f"simreel-learner-{self.key}-{learner.member}")
                .remote(job, coordinator)
            )

    def running(self) -> list[Any]:
        return [learner.ref for learner in self.learners if learner.outcome is None]

    def collect(self, ref: Any) -> bool:
        """Take in the ended task `ref` if it is one of this run's: write its files."""
        import ray

        for learner in self.learners:
            if learner.ref is not ref or learner.outcome is not None:
                continue
            try:
                result: LearnerOutcome = ray.get(ref)
            except (ray.exceptions.RayError, ConfigError) as error:
                learner.outcome, learner.error = "failed", _cause(error)
                return True
            _publish(learner.directory, result.files)
            learner.start_offset = max(result.started - (self.started_at or result.started), 0.0)
            card = load_model_card(learner.directory / _latest(result))
            learner.timestep = card.timesteps
            learner.best = max(learner.best, card.best_score)
            learner.outcome = result.outcome
            return True
        return False

    def note_progress(self, progress: dict[int, tuple[int, float]]) -> None:
        for learner in self.learners:
            if learner.outcome is None and learner.member in progress:
                learner.timestep, learner.best = progress[learner.member]

    def cancel(self) -> None:
        """Stop every running learner at once (a second Ctrl-C): no checkpoints."""
        import ray

        for ref in self.running():
            ray.cancel(ref, force=True)

    def failure(self) -> str | None:
        failed = [learner for learner in self.learners if learner.outcome == "failed"]
        return None if not failed else f"learner {failed[0].member} failed: {failed[0].error}"

    def finish(self) -> TrainResult:
        """The run's result once every learner ended (TrainingInterrupted after Ctrl-C)."""
        failure = self.failure()
        if failure is not None:
            raise RuntimeError(failure)
        interrupted = any(learner.outcome == "interrupted" for learner in self.learners)
        checkpoint = self.out_dir / CHECKPOINT
        if self.single:
            card = load_model_card(
                self.out_dir / ("checkpoint.zip" if interrupted else "model.zip")
            )
            if interrupted:
                raise TrainingInterrupted(checkpoint, card.timesteps)
            model = self.out_dir / "model.zip"
            return TrainResult(model, card_path(model), card, checkpoint)
        resumed = 0.0 if self._resumed is None else self._resumed.wall_seconds
        wall = time.perf_counter() - self._clock + resumed
        if interrupted:
            card = _keep_best(self.config, self.learners, wall, checkpoint, complete=False)
            raise TrainingInterrupted(checkpoint, sum(member.timesteps for member in card.members))
        model = self.out_dir / "model.zip"
        card = _keep_best(self.config, self.learners, wall, model, complete=True)
        # Written at the end too, not only on Ctrl-C: a finished run can then be trained on.
        _keep_best(self.config, self.learners, wall, checkpoint, complete=True)
        return TrainResult(
            model_path=model, card_path=card_path(model), card=card, checkpoint_path=checkpoint
        )


def _latest(result: LearnerOutcome) -> str:
    return (
        CHECKPOINT
        if result.outcome == "interrupted" or "model.zip" not in result.files
        else "model.zip"
    )


def _cause(error: BaseException) -> str:
    """The learner's own exception from Ray's wrapper, in one line."""
    cause = getattr(error, "cause", None) or error
    text = str(cause).strip().splitlines()
    return f"{type(cause).__name__}: {text[-1] if text else ''}".rstrip(": ")


def _publish(directory: Path, files: dict[str, bytes]) -> None:
    """Write a learner's files into its folder: each zip before the card that names it."""
    for name in sorted(files, key=lambda n: (not n.endswith(".zip"), n)):
        with atomic_output(directory / name) as temporary:
            temporary.write_bytes(files[name])


def train_population(
    config: TrainConfig,
    domain_class: type[Domain],
    out_dir: Path,
    settings: RaySettings | None = None,
) -> TrainResult:
    """Train `config.population` learners as Ray tasks; keep the best model."""
    run = PopulationRun(0, config, out_dir)  # ConfigError for a bad resume, before Ray starts
    run.begin()  # Ray's start-up counts in the run's wall time
    settings = replace(settings or RaySettings(), workdir=out_dir)
    bar = _bar(
        config.progress, config.timesteps * len(run.learners), f"{len(run.learners)} learners"
    )
    try:
        with ray_session(settings) as session:
            follow_runs([run], session, at_once=1, bar=bar)
    finally:
        if bar is not None:
            bar.close()
    return run.finish()


def runs_at_once(session: RaySession, population: int) -> int:
    """How many runs of `population` learners fit the cluster side by side (at least one)."""
    return max(1, int(session.cpus // min(population, session.cpus)))


def follow_runs(
    runs: Sequence[PopulationRun],
    session: RaySession,
    *,
    at_once: int,
    bar: Any = None,
    on_ended: Callable[[PopulationRun], None] | None = None,
) -> bool:
    """Run `runs`, at most `at_once` at a time, until every started run has ended.

    Returns True if Ctrl-C came: it tells every learner to write its checkpoint and end
    (their runs end interrupted), and runs not started by then stay so. A second Ctrl-C
    stops every learner at once and raises KeyboardInterrupt. A failed learner ends the
    others as Ctrl-C would. `on_ended` is called as each run ends.
    """
    coordinator = start_coordinator()
    waiting = list(runs)
    flying: list[PopulationRun] = []
    state = {"interrupted": False}

    def launch() -> None:
        while waiting and len(flying) < at_once and not state["interrupted"]:
            run = waiting.pop(0)
            run.start(coordinator, session)
            flying.append(run)

    def follow() -> None:
        launch()
        while flying:
            _step(flying, coordinator)
            if bar is not None:
                _show(bar, runs)
            for run in [run for run in flying if run.ended]:
                flying.remove(run)
                if run.failure() is not None:
                    coordinator.interrupt.remote()  # end the others soon, with checkpoints
                    state["interrupted"] = True
                if on_ended is not None:
                    on_ended(run)
            launch()

    try:
        try:
            follow()
            return False
        except KeyboardInterrupt:
            state["interrupted"] = True
            coordinator.interrupt.remote()  # each learner writes its checkpoint at its next step
            try:
                follow()
            except KeyboardInterrupt:  # a second Ctrl-C: stop now, without checkpoints
                for run in flying:
                    run.cancel()
                raise
            return True
    finally:
        import ray

        ray.kill(coordinator)


def _step(flying: list[PopulationRun], coordinator: Any) -> None:
    """Wait up to POLL_SECONDS for a learner to end; take in what ended and the progress."""
    import ray

    refs = [ref for run in flying for ref in run.running()]
    ready: list[Any] = []
    if refs:
        ready, _ = ray.wait(refs, num_returns=len(refs), timeout=POLL_SECONDS, fetch_local=False)
    for ref in ready:
        for run in flying:
            if run.collect(ref):
                break
    _, progress = _poll(coordinator)
    for run in flying:
        run.note_progress(progress.get(run.key, {}))


def _poll(coordinator: Any) -> tuple[int, dict[int, dict[int, tuple[int, float]]]]:
    """The coordinator's count of evaluations and each learner's progress."""
    import ray

    progress: tuple[int, dict[int, dict[int, tuple[int, float]]]] = ray.get(
        coordinator.progress.remote()
    )
    return progress


def _bar(show: bool, total: int, description: str) -> Any:
    if not show:
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit="step", desc=description, dynamic_ncols=True, file=sys.stderr)


def _show(bar: Any, runs: Sequence[PopulationRun]) -> None:
    bar.update(max(sum(run.timesteps() for run in runs) - bar.n, 0))
    best = max((learner.best for run in runs for learner in run.learners), default=float("-inf"))
    if best > float("-inf"):
        bar.set_postfix(best=f"{best:g}", refresh=False)


def _learner_file(learner: _Learner, target: Path) -> Path:
    """The learner's zip that the population's `target` is made from.

    For the population's model: the learner's model. For its checkpoint: the learner's
    latest weights, i.e. the checkpoint it wrote on Ctrl-C or at its end (its model if it
    finished before checkpoints were written at the end).
    """
    latest = learner.directory / CHECKPOINT
    if target.name == CHECKPOINT and (
        learner.outcome == "interrupted" or (latest.is_file() and load_model_card(latest).complete)
    ):
        return latest
    return learner.directory / "model.zip"


def _keep_best(
    config: TrainConfig, learners: list[_Learner], wall: float, target: Path, *, complete: bool
) -> ModelCard:
    """Copy the chosen learner's zip for `target` there, beside a card listing every learner.

    `target` is the population's model or its checkpoint (see :func:`_learner_file`);
    `complete` is False only for the checkpoint written after Ctrl-C.
    """
    sources = [_learner_file(learner, target) for learner in learners]
    cards = [load_model_card(source) for source in sources]
    members = [
        MemberSummary(
            member=learner.member,
            seed=card.seed,
            timesteps=card.timesteps,
            best_score=card.best_score,
            best_timestep=card.best_timestep,
            best_wall_seconds=round(card.best_wall_seconds + learner.start_offset, 3),
            chosen=False,
        )
        for learner, card in zip(learners, cards, strict=True)
    ]
    chosen = choose(members)
    members[chosen] = replace(members[chosen], chosen=True)
    with atomic_output(target) as temporary:
        shutil.copyfile(sources[chosen], temporary)
    card = replace(
        cards[chosen],
        complete=complete,
        config=config.to_json(),
        seed=config.seed,
        wall_seconds=round(wall, 3),
        best_wall_seconds=members[chosen].best_wall_seconds,
        members=tuple(members),
        model_sha256=sha256_file(target),
    )
    write_card(card, target)
    return card
