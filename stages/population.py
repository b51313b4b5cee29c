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

Ctrl-C stops every learner at its next step; each writes its checkpoint into its
folder and the population writes ``checkpoint.zip`` (a copy of the best learner's)
whose card ``--resume`` reads to continue all of them.
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
from stages.models import Evaluation, MemberSummary, load_model_card
from stages.train import (
    CHECKPOINT,
    TrainConfig,
    TrainingInterrupted,
    TrainResult,
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
    resume_dir = None if config.resume is None else Path(config.resume).parent
    learners = [_learner(config, out_dir, k, resume_dir) for k in range(config.population)]
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
    wall = time.perf_counter() - started + _wall_before(config)
    if interrupt.is_set():
        checkpoint = _keep_best(config, learners, wall, out_dir / CHECKPOINT)
        raise TrainingInterrupted(
            checkpoint.model_path, sum(member.timesteps for member in checkpoint.card.members)
        )
    return _keep_best(config, learners, wall, out_dir / "model.zip")


def _learner(config: TrainConfig, out_dir: Path, member: int, resume_dir: Path | None) -> _Learner:
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
    if resume_dir is not None:
        checkpoint = member_dir(resume_dir, member) / CHECKPOINT
        finished = member_dir(resume_dir, member) / "model.zip"
        if checkpoint.is_file():
            done = load_model_card(checkpoint).timesteps
            if done >= config.timesteps:
                raise ConfigError(
                    f"--timesteps ({config.timesteps}) must exceed the {done} timesteps "
                    f"{checkpoint} has done; raise --timesteps to train on"
                )
            learner.config = replace(learner_config, resume=checkpoint)
        elif finished.is_file() and load_model_card(finished).complete:
            learner.outcome = "done"
            learner.directory = finished.parent
        else:
            raise ConfigError(
                f"--resume ({config.resume}) belongs to a population of {config.population} "
                f"learners, but {checkpoint} is missing; resume from an untouched checkpoint "
                "folder or start a new run"
            )
    return learner


def _wall_before(config: TrainConfig) -> float:
    """Wall seconds of the interrupted sessions of a resumed population run."""
    return 0.0 if config.resume is None else load_model_card(Path(config.resume)).wall_seconds


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


def _learner_file(learner: _Learner) -> Path:
    """The learner's latest zip: its checkpoint if it was interrupted, else its model."""
    return learner.directory / (CHECKPOINT if learner.outcome == "interrupted" else "model.zip")


def _keep_best(
    config: TrainConfig, learners: list[_Learner], wall: float, target: Path
) -> TrainResult:
    """Copy the chosen learner's latest zip to `target` beside a card listing every learner.

    After Ctrl-C `target` is the population's checkpoint; a learner that had already
    finished then contributes its model instead of a checkpoint.
    """
    cards = [load_model_card(_learner_file(learner)) for learner in learners]
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
        shutil.copyfile(_learner_file(learners[chosen]), temporary)
    card = replace(
        cards[chosen],
        complete=target.name != CHECKPOINT,
        config=config.to_json(),
        seed=config.seed,
        wall_seconds=round(wall, 3),
        best_wall_seconds=members[chosen].best_wall_seconds,
        members=tuple(members),
        model_sha256=sha256_file(target),
    )
    return TrainResult(model_path=target, card_path=write_card(card, target), card=card)
