"""Population training: independent learners side by side, one process each; the best is kept.

A learner of the factory settles on a 27-item schedule on some seeds and never leaves
it; learners started from other seeds rarely all do. :func:`train_population` runs
``config.population`` learners (learner k with :func:`member_seed`) through
:func:`stages.train.train_learner`, each in its own process and writing into
``member-<k>/`` of the output directory, then copies the chosen learner's model to
``model.zip`` beside a card that lists every learner.

The outcome depends only on the seed, never on which process happens to run faster:

* the chosen learner has the most items, then the earliest timestep, then the lowest k;
* with ``target_items``, once learner k reaches the target at timestep T every other
  learner still trains until it reaches the target itself or passes T, so a learner
  that would reach it earlier (in its own timesteps) is never cut off.

Every learner writes its checkpoint into its folder when it ends, and the population
then writes ``checkpoint.zip`` (a copy of the kept learner's) whose card ``--resume``
reads to continue all of them: after Ctrl-C (which stops every learner at its next
step) to finish the budget, after a finished run to train every learner on to a larger
``--timesteps``.
"""

from __future__ import annotations

import multiprocessing
import queue
import shutil
import signal
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from domains.domain import Domain
from domains.registry import load_domain
from schemas.atomic import atomic_output
from schemas.errors import ConfigError
from schemas.provenance import sha256_file
from stages.models import Evaluation, MemberSummary, ModelCard, card_path, load_model_card
from stages.train import (
    CHECKPOINT,
    TrainConfig,
    TrainingInterrupted,
    TrainResult,
    resume_budget_error,
    train_learner,
    write_card,
)

MEMBER_SEED_STRIDE = 1_000_003
"""Learner k of a run with seed s trains with seed s + k * stride (learner 0: s itself)."""
_NEVER = 2**62
"""Stop timestep while no learner has reached the target."""


def member_seed(seed: int, member: int) -> int:
    """The seed of learner `member` of a population run with `seed`."""
    return seed + member * MEMBER_SEED_STRIDE


def member_dir(out_dir: Path, member: int) -> Path:
    """Where learner `member` writes its model, card and checkpoints."""
    return out_dir / f"member-{member}"


def choose(members: list[MemberSummary]) -> int:
    """Index (into `members`) of the kept learner: most items, earliest timestep, lowest k."""
    return min(
        range(len(members)),
        key=lambda i: (
            -members[i].best_finished_items,
            members[i].best_timestep,
            members[i].member,
        ),
    )


# -- the learner's side (runs in a process of its own) ----------------------------------


class _Channel:
    """A learner's hooks: report evaluations, obey the stop timestep and Ctrl-C."""

    def __init__(self, member: int, messages: Any, stop_at: Any, interrupt: Any) -> None:
        self._member = member
        self._messages = messages
        self._stop_at = stop_at
        self._interrupt = interrupt

    def evaluated(self, evaluation: Evaluation) -> None:
        self._messages.put(("evaluated", self._member, evaluation))

    def should_stop(self, timestep: int) -> bool:
        return bool(timestep >= self._stop_at.value)

    def interrupted(self) -> bool:
        return bool(self._interrupt.is_set())


def _learner_main(
    config_json: dict[str, Any],
    member: int,
    out_dir: str,
    messages: Any,
    stop_at: Any,
    interrupt: Any,
) -> None:
    """Entry point of learner `member`'s process: train, then say how it ended."""
    # Ctrl-C reaches the whole process group; the population decides what it means
    # and tells the learners through `interrupt`, so every learner stops the same way.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    messages.put(("started", member, time.time()))
    try:
        config = TrainConfig.from_json(config_json, Path(out_dir))
        train_learner(
            config,
            load_domain(config.domain),
            Path(out_dir),
            _Channel(member, messages, stop_at, interrupt),
        )
        messages.put(("done", member, None))
    except TrainingInterrupted as interrupted:
        messages.put(("interrupted", member, interrupted.timesteps))
    except BaseException as error:  # reported to the parent, which raises it there
        messages.put(("failed", member, f"{type(error).__name__}: {error}"))


# -- the population's side --------------------------------------------------------------


@dataclass
class _Learner:
    member: int
    config: TrainConfig
    directory: Path
    process: Any = None
    timestep: int = 0
    best_items: float = float("-inf")
    outcome: str | None = None
    """'done', 'interrupted' or 'failed' once the learner's process has said so."""
    error: str = ""
    start_offset: float = 0.0
    """Seconds from the population's start to the learner's (process start-up)."""
    silent_polls: int = 0
    """Polls that found the learner's process gone without its last message."""


def train_population(config: TrainConfig, domain_class: type[Domain], out_dir: Path) -> TrainResult:
    """Train `config.population` learners in parallel processes; keep the best model."""
    started, epoch = time.perf_counter(), time.time()
    resumed = None if config.resume is None else load_model_card(Path(config.resume))
    learners = [_learner(config, out_dir, k, resumed) for k in range(config.population)]
    context = multiprocessing.get_context("spawn")  # fork would copy torch's thread state
    messages = context.Queue()
    stop_at = context.Value("q", _NEVER)
    interrupt = context.Event()
    for learner in learners:
        if learner.outcome == "done":  # finished before the interruption that is resumed
            _restore_stop(learner, config, stop_at)
            continue
        learner.process = context.Process(
            target=_learner_main,
            args=(
                learner.config.to_json(),
                learner.member,
                str(learner.directory),
                messages,
                stop_at,
                interrupt,
            ),
            name=f"simreel-learner-{learner.member}",
        )
        learner.process.start()
    bar = _bar(config, learners)
    try:
        try:
            _follow(learners, config, messages, stop_at, bar, epoch)
        except KeyboardInterrupt:
            interrupt.set()  # each learner writes its checkpoint at its next step
            try:
                _follow(learners, config, messages, stop_at, bar, epoch)
            except KeyboardInterrupt:  # a second Ctrl-C: stop now, without checkpoints
                for learner in learners:
                    if learner.process is not None:
                        learner.process.terminate()
                raise
    finally:
        if bar is not None:
            bar.close()
        for learner in learners:
            if learner.process is not None:
                learner.process.join(timeout=30)
                if learner.process.is_alive():
                    learner.process.terminate()
    failed = [learner for learner in learners if learner.outcome == "failed"]
    if failed:
        raise RuntimeError(f"learner {failed[0].member} failed: {failed[0].error}")
    wall = time.perf_counter() - started + (0.0 if resumed is None else resumed.wall_seconds)
    checkpoint = out_dir / CHECKPOINT
    if interrupt.is_set():
        card = _keep_best(config, learners, wall, checkpoint, complete=False)
        raise TrainingInterrupted(checkpoint, sum(member.timesteps for member in card.members))
    model = out_dir / "model.zip"
    card = _keep_best(config, learners, wall, model, complete=True)
    # Written at the end too, not only on Ctrl-C: a finished run can then be trained on.
    _keep_best(config, learners, wall, checkpoint, complete=True)
    return TrainResult(
        model_path=model, card_path=card_path(model), card=card, checkpoint_path=checkpoint
    )


def _learner(
    config: TrainConfig, out_dir: Path, member: int, resumed: ModelCard | None
) -> _Learner:
    directory = member_dir(out_dir, member)
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
    if config.resume is not None and resumed is not None:
        resume_dir = Path(config.resume).parent
        checkpoint = member_dir(resume_dir, member) / CHECKPOINT
        finished = member_dir(resume_dir, member) / "model.zip"
        own = load_model_card(checkpoint) if checkpoint.is_file() else None
        if own is not None and (resumed.complete or not own.complete):
            # Every learner of a finished run trains on; of an interrupted one, those cut off.
            if own.timesteps >= config.timesteps:
                raise ConfigError(
                    resume_budget_error(
                        config.timesteps,
                        max([resumed.timesteps, *(m.timesteps for m in resumed.members)]),
                        Path(config.resume),
                    )
                )
            learner.config = replace(learner_config, resume=checkpoint)
        elif not resumed.complete and finished.is_file() and load_model_card(finished).complete:
            # It finished before the Ctrl-C that is resumed (its end checkpoint is complete).
            learner.outcome = "done"
            learner.directory = finished.parent
        else:
            raise ConfigError(
                f"--resume ({config.resume}) belongs to a population of {config.population} "
                f"learners, but {checkpoint} is missing; resume from an untouched checkpoint "
                "folder or start a new run"
            )
    return learner


def _restore_stop(learner: _Learner, config: TrainConfig, stop_at: Any) -> None:
    card = load_model_card(learner.directory / "model.zip")
    learner.timestep, learner.best_items = card.timesteps, card.best_finished_items
    if config.target_items is not None and card.best_finished_items >= config.target_items:
        stop_at.value = min(stop_at.value, card.best_timestep)


def _follow(
    learners: list[_Learner],
    config: TrainConfig,
    messages: Any,
    stop_at: Any,
    bar: Any,
    epoch: float,
) -> None:
    """Relay the learners' messages until every learner has ended."""
    while any(learner.outcome is None for learner in learners):
        message = _receive(messages)
        if message is None:
            for learner in learners:
                if learner.outcome is None and not learner.process.is_alive():
                    # Its last message may still be in the pipe: give it one more poll.
                    learner.silent_polls += 1
                    if learner.silent_polls > 1:
                        learner.outcome = "failed"
                        learner.error = (
                            f"its process ended with exit code {learner.process.exitcode}"
                        )
            continue
        kind, member, payload = message
        learner = learners[member]
        if kind == "started":
            learner.start_offset = max(payload - epoch, 0.0)
        elif kind == "evaluated":
            learner.timestep = payload.timestep
            learner.best_items = max(learner.best_items, payload.finished_items)
            if config.target_items is not None and payload.finished_items >= config.target_items:
                with stop_at.get_lock():
                    stop_at.value = min(stop_at.value, payload.timestep)
            _show(bar, learners)
        else:
            learner.outcome = kind
            learner.error = payload if kind == "failed" else ""


def _receive(messages: Any) -> tuple[str, int, Any] | None:
    """The next message of a learner, or None if none came within half a second."""
    try:
        message: tuple[str, int, Any] = messages.get(timeout=0.5)
    except queue.Empty:
        return None
    return message


def _bar(config: TrainConfig, learners: list[_Learner]) -> Any:
    if not config.progress:
        return None
    from tqdm import tqdm

    return tqdm(
        total=config.timesteps * len(learners),
        unit="step",
        desc=f"{len(learners)} learners",
        dynamic_ncols=True,
        file=sys.stderr,
    )


def _show(bar: Any, learners: list[_Learner]) -> None:
    if bar is None:
        return
    bar.update(sum(learner.timestep for learner in learners) - bar.n)
    best = max(learner.best_items for learner in learners)
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
            best_finished_items=card.best_finished_items,
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
