"""One learner: MaskablePPO over a domain's multi-actor env, keeping the best model.

:func:`train_learner` trains one learner into an output directory, which receives:

* ``model.zip``: the model whose deterministic evaluation on the validation episodes
  scored best by ``config.select_by`` (the mean reward or a KPI's mean; ties go to the
  earliest), as an SB3 MaskablePPO save (simreel reads back only its weights, see
  :mod:`stages.train.model_format`);
* ``model.json``: its card (:class:`stages.train.model_card.ModelCard`): config, seed,
  timesteps, wall time, evaluation history, spaces, library versions, git commit, sha256;
* ``checkpoint.zip``/``checkpoint.json``: the latest weights and their card, so that
  ``--resume`` with a larger ``--timesteps`` trains a finished run on, plus
  ``checkpoint-best.zip`` (the best weights so far, which the resumed run must beat).

Ctrl-C writes only the checkpoint files and leaves ``model.zip`` as it was; ``--resume``
then finishes the budget. A resumed learner is a fresh MaskablePPO built from the
checkpoint's card, given the checkpoint's weights and Adam state read without
unpickling (:class:`_Resumed`), never ``MaskablePPO.load``. A learner that is one of a
population talks to the process that runs them all through its :class:`LearnerHooks`.
"""

from __future__ import annotations

import contextlib
import io
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from domains.domain import Domain
from domains.env import MultiActorEnv
from domains.registry import domain_factory, domain_package, resolve_options
from domains.rollout import DEFAULT_WIDTH as WIDTH
from domains.rollout import play
from schemas.atomic import atomic_output
from schemas.errors import ConfigError
from schemas.provenance import git_commit, library_versions, sha256_file, system_info
from stages.train.config import (
    CHECKPOINT,
    CHECKPOINT_BEST,
    TrainConfig,
    TrainingInterrupted,
    TrainResult,
    format_score,
    resume_budget_error,
)
from stages.train.evaluation import policy_for
from stages.train.model_card import (
    CARD_FORMAT,
    Evaluation,
    ModelCard,
    load_model_card,
    mlp_network,
    write_card,
)
from stages.train.model_format import (
    CheckpointWeights,
    checked_network,
    policy_kwargs,
    read_checkpoint,
)
from stages.train.model_policy import ModelPolicy, action_count
from stages.train.policy_network import from_sb3


class LearnerHooks(Protocol):
    """How a learner that is one of a population talks to the process that runs them all."""

    def evaluated(self, evaluation: Evaluation) -> None:
        """Called after every periodic evaluation."""

    def should_stop(self, timestep: int) -> bool:
        """True once another learner reached the target at or before `timestep`."""

    def interrupted(self) -> bool:
        """True once the user pressed Ctrl-C (the learner then writes its checkpoint)."""


class _NoHooks:
    def evaluated(self, evaluation: Evaluation) -> None:
        pass

    def should_stop(self, timestep: int) -> bool:
        return False

    def interrupted(self) -> bool:
        return False


def train_learner(
    config: TrainConfig,
    domain_class: type[Domain],
    out_dir: Path,
    hooks: LearnerHooks | None = None,
    *,
    resume_from: Path | None = None,
) -> TrainResult:
    """Train one learner into `out_dir` (config.population is not looked at).

    `resume_from` is where ``config.resume``'s checkpoint files are read from when not
    there: a learner on another machine gets copies in a scratch folder, and its card
    still names the checkpoint it continued (``config.resume``).
    """
    # Imported here so that `simreel --help` and config errors stay instant.
    import torch

    threads, validate = torch.get_num_threads(), torch.distributions.Distribution._validate_args
    # One thread per process: the networks are tiny, and extra threads only fight the
    # env steps (and other processes) for the cores. Argument validation of torch
    # distributions costs ~15% of a rollout step and checks nothing the mask leaves open.
    torch.set_num_threads(1)
    torch.distributions.Distribution.set_default_validate_args(False)
    try:
        return _train(config, domain_class, out_dir, hooks or _NoHooks(), resume_from)
    finally:
        torch.set_num_threads(threads)
        torch.distributions.Distribution.set_default_validate_args(validate)


def _train(
    config: TrainConfig,
    domain_class: type[Domain],
    out_dir: Path,
    hooks: LearnerHooks,
    resume_from: Path | None,
) -> TrainResult:
    from sb3_contrib import MaskablePPO
    from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv

    state = _RunState()
    resume = resume_from or (None if config.resume is None else Path(config.resume))
    resumed = None
    if resume is not None:
        state = _RunState.from_checkpoint(resume, config)
        resumed = _Resumed.read(resume, config)  # before any env starts: a bad file fails fast
    vec_class = SubprocVecEnv if config.vec_env == "subproc" else DummyVecEnv
    make_domain = domain_factory(domain_class, config.options)
    venv = vec_class([_EnvFactory(make_domain) for _ in range(config.n_envs)])
    venv.seed(config.seed)
    eval_env = MultiActorEnv(make_domain)
    validation = _Validation(make_domain, config)
    try:
        model = MaskablePPO(
            "MlpPolicy",
            venv,
            seed=config.seed,
            device="cpu",
            verbose=0,
            policy_kwargs=policy_kwargs(mlp_network(config.net_arch)),
            **_ppo_args(config),
        )
        if resumed is not None:
            resumed.restore(model)
        callback = _Callback(config, validation, state, hooks)
        remaining = config.timesteps - int(model.num_timesteps)  # > 0: checked on resume
        try:
            model.learn(
                remaining,
                callback=callback,
                reset_num_timesteps=resume is None,
                tb_log_name=config.domain,
            )
            callback.evaluate_now()  # the last update's policy gets its evaluation too
        except KeyboardInterrupt:
            checkpoint = _write_checkpoint(
                model, config, domain_class, eval_env, state, out_dir, complete=False
            )
            raise TrainingInterrupted(checkpoint, int(model.num_timesteps)) from None
        finally:
            callback.close()
    finally:
        _close(venv)
    if state.best_zip is None:  # no evaluation ran (impossible with timesteps >= 1)
        raise RuntimeError("training finished without any evaluation")
    model_path = out_dir / "model.zip"
    with atomic_output(model_path) as temporary:
        temporary.write_bytes(state.best_zip)
    card = _card(config, domain_class, eval_env, state, int(model.num_timesteps), model_path, True)
    written_card = write_card(card, model_path)
    # Written at the end too, not only on Ctrl-C: a finished run can then be trained on.
    checkpoint = _write_checkpoint(
        model, config, domain_class, eval_env, state, out_dir, complete=True
    )
    return TrainResult(
        model_path=model_path, card_path=written_card, card=card, checkpoint_path=checkpoint
    )


@dataclass(frozen=True)
class _Resumed:
    """What a resumed learner takes from its checkpoint: weights, Adam's state, timesteps.

    Read without unpickling anything (:func:`stages.train.model_format.read_checkpoint`)
    and put into a MaskablePPO built afresh from the configuration, as SB3's loader would
    put them: the same seed, the same network, the same optimizer settings. SB3's zip
    also keeps ``data`` (cloudpickled settings, the last observation, logging counters);
    the configuration gives the settings, and the loader would discard the observation
    anyway (it resets the envs), so nothing of it is needed.
    """

    weights: CheckpointWeights
    timesteps: int

    @classmethod
    def read(cls, checkpoint: Path, config: TrainConfig) -> _Resumed:
        card = load_model_card(checkpoint)
        network = checked_network(card, checkpoint)
        trains = mlp_network(config.net_arch)
        if (network.net_arch, network.activation) != (trains.net_arch, trains.activation):
            raise ConfigError(
                f"--resume ({checkpoint}) holds a network with hidden layers "
                f"{list(network.net_arch)} and {network.activation}, this run trains "
                f"{list(trains.net_arch)} and {trains.activation}; resume without --net-arch "
                "(the checkpoint's settings apply), or train anew"
            )
        weights = read_checkpoint(checkpoint, card, best=checkpoint.with_name(CHECKPOINT_BEST))
        return cls(weights, card.timesteps)

    def restore(self, model: Any) -> None:
        """Give `model` (a fresh MaskablePPO of this network) the checkpoint's state."""
        optimizer = model.policy.optimizer.state_dict()
        parameters = {
            "policy": self.weights.policy,
            # Adam's settings are the configuration's; its running averages the checkpoint's.
            "policy.optimizer": {**optimizer, "state": self.weights.optimizer_state},
        }
        model.set_parameters(parameters, exact_match=True, device="cpu")
        model.num_timesteps = self.timesteps


def _ppo_args(config: TrainConfig) -> dict[str, Any]:
    return {
        "learning_rate": config.learning_rate,
        "n_steps": config.n_steps,
        "batch_size": config.batch_size,
        "n_epochs": config.n_epochs,
        "gamma": config.gamma,
        "gae_lambda": config.gae_lambda,
        "ent_coef": config.ent_coef,
        "tensorboard_log": None if config.tensorboard is None else str(config.tensorboard),
    }


class _EnvFactory:
    """Builds one env; a picklable class (not a lambda) so SubprocVecEnv can send it."""

    def __init__(self, make_domain: Callable[[], Domain]) -> None:
        self._make_domain = make_domain

    def __call__(self) -> MultiActorEnv:
        return MultiActorEnv(self._make_domain)


def _close(venv: Any) -> None:
    # Subprocess envs may already be gone after Ctrl-C.
    with contextlib.suppress(OSError, EOFError, BrokenPipeError):
        venv.close()


@dataclass
class _RunState:
    """Best-model tracking and history, carried across a resume."""

    evaluations: list[Evaluation] = field(default_factory=list)
    best_score: float = float("-inf")
    best_timestep: int = 0
    best_wall: float = 0.0
    best_zip: bytes | None = None
    wall_before: float = 0.0
    """Wall seconds of earlier (interrupted) sessions of this run."""
    started: float = field(default_factory=time.perf_counter)

    def wall(self) -> float:
        return self.wall_before + time.perf_counter() - self.started

    @classmethod
    def from_checkpoint(cls, checkpoint: Path, config: TrainConfig) -> _RunState:
        card = load_model_card(checkpoint)
        if card.domain_id != config.domain:
            raise ConfigError(
                f"--resume ({checkpoint}) was trained on domain {card.domain_id!r}, not "
                f"{config.domain!r}; pass --domain {card.domain_id} or another checkpoint"
            )
        if card.evaluations and card.select_by != config.select_by:
            raise ConfigError(
                f"--resume ({checkpoint}) kept its best model by {card.select_by}, not "
                f"{config.select_by}; resume with --select-by {card.select_by} (or train anew)"
            )
        if card.timesteps >= config.timesteps:
            raise ConfigError(resume_budget_error(config.timesteps, card.timesteps, checkpoint))
        best_path = checkpoint.with_name(CHECKPOINT_BEST)
        return cls(
            evaluations=list(card.evaluations),
            best_score=card.best_score if card.evaluations else float("-inf"),
            best_timestep=card.best_timestep,
            best_wall=card.best_wall_seconds,
            best_zip=best_path.read_bytes() if best_path.is_file() else None,
            wall_before=card.wall_seconds,
        )


class _Callback:
    """Factory for the SB3 callback (SB3 is imported lazily, so the class is built on demand)."""

    def __new__(
        cls, config: TrainConfig, validation: _Validation, state: _RunState, hooks: LearnerHooks
    ) -> Any:
        from stable_baselines3.common.callbacks import BaseCallback
        from tqdm import tqdm

        class EvalCallback(BaseCallback):
            """Entropy schedule, periodic deterministic evaluation, best model, progress bar."""

            def __init__(self) -> None:
                super().__init__()
                self._last_eval: int | None = None
                self._stop = False
                self._bar: Any = None

            def _on_training_start(self) -> None:
                self._bar = tqdm(
                    total=config.timesteps,
                    initial=int(self.model.num_timesteps),
                    unit="step",
                    disable=not config.progress,
                    dynamic_ncols=True,
                    file=sys.stderr,
                )
                done = int(self.model.num_timesteps)
                if state.evaluations and state.evaluations[-1].timestep == done:
                    # A finished run trained on: its last policy was evaluated at its end.
                    self._last_eval = done
                self._show()

            def _on_rollout_start(self) -> None:
                # The policy changes only in the update between rollouts: evaluating
                # here sees every new policy exactly once.
                done = int(self.model.num_timesteps)
                if self._last_eval is None or done - self._last_eval >= config.eval_freq:
                    self.evaluate_now()

            def _on_step(self) -> bool:
                if hooks.interrupted():
                    raise KeyboardInterrupt
                progress = min(self.model.num_timesteps / config.timesteps, 1.0)
                ent_coef = config.ent_coef + progress * (config.ent_coef_final - config.ent_coef)
                self.model.ent_coef = ent_coef  # type: ignore[attr-defined]
                if self._bar is not None:
                    self._bar.update(int(self.model.num_timesteps) - self._bar.n)
                return not self._stop

            def evaluate_now(self) -> None:
                done = int(self.model.num_timesteps)
                if self._last_eval == done:
                    return
                self._last_eval = done
                evaluation = validation.evaluate(self.model, done, round(state.wall(), 3))
                score = evaluation.score
                state.evaluations.append(evaluation)
                hooks.evaluated(evaluation)
                if score > state.best_score:
                    state.best_score, state.best_timestep = score, done
                    state.best_wall = evaluation.wall_seconds
                    buffer = io.BytesIO()
                    self.model.save(buffer)
                    state.best_zip = buffer.getvalue()
                if config.stop_at is not None and score >= config.stop_at:
                    self._stop = True
                if hooks.should_stop(done):
                    self._stop = True
                self._show()

            def _show(self) -> None:
                if self._bar is not None and state.evaluations:
                    self._bar.set_postfix(
                        best=format_score(state.best_score),
                        last=format_score(state.evaluations[-1].score),
                        refresh=False,
                    )

            def close(self) -> None:
                if self._bar is not None:
                    self._bar.close()
                    self._bar = None

        return EvalCallback()


class _Validation:
    """The run's periodic evaluation: the deterministic policy on the validation episodes.

    Episode k is reset with ``config.eval_seed + k``: the same episodes at every
    evaluation, played by the rollout of ``record`` and ``evaluate``
    (:func:`domains.rollout.play`) with the network's weights as they are now.
    """

    def __init__(self, make_domain: Callable[[], Domain], config: TrainConfig) -> None:
        self._envs = [MultiActorEnv(make_domain) for _ in range(min(config.eval_episodes, WIDTH))]
        self._config = config

    def evaluate(self, model: Any, timestep: int, wall_seconds: float) -> Evaluation:
        from stages.compare.intervals import mean_interval
        from stages.episode_stats import REWARD, kpi_stats

        config = self._config
        policy = ModelPolicy(from_sb3(model.policy, "the model being trained"))
        spare = iter(self._envs)
        summaries = [
            played.summary()
            for played in play(
                lambda: next(spare),
                policy_for("model", config.eval_seed, type(self._envs[0].domain), policy),
                range(config.eval_episodes),
                config.eval_seed,
                width=len(self._envs),
            )
        ]
        stats = {entry.name: entry for entry in kpi_stats(summaries)}
        reward = mean_interval(stats[REWARD])
        half = None if reward.high is None else (reward.high - reward.estimate)
        return Evaluation(
            timestep=timestep,
            wall_seconds=wall_seconds,
            score=stats[config.select_by].mean,
            episodes=config.eval_episodes,
            mean_reward=stats[REWARD].mean,
            reward_half_width=half,
            kpis={name: entry.mean for name, entry in stats.items() if name != REWARD},
        )


def _card(
    config: TrainConfig,
    domain_class: type[Domain],
    env: MultiActorEnv,
    state: _RunState,
    timesteps: int,
    model_path: Path,
    complete: bool,
) -> ModelCard:
    return ModelCard(
        card_format=CARD_FORMAT,
        domain_id=domain_class.domain_id,
        domain_version=domain_class.domain_version,
        domain_options=resolve_options(domain_class, config.options),
        domain_package=domain_package(domain_class.domain_id),
        complete=complete,
        config=config.to_json(),
        seed=config.seed,
        timesteps=timesteps,
        wall_seconds=round(state.wall(), 3),
        select_by=config.select_by,
        best_score=state.best_score if state.evaluations else 0.0,
        best_timestep=state.best_timestep,
        best_wall_seconds=state.best_wall,
        evaluations=tuple(state.evaluations),
        observation_shape=tuple(int(n) for n in env.observation_space.shape or ()),
        action_count=action_count(env),
        network=mlp_network(config.net_arch),
        library_versions=library_versions(),
        system=system_info(),
        git_commit=git_commit(),
        model_sha256=sha256_file(model_path),
    )


def _write_checkpoint(
    model: Any,
    config: TrainConfig,
    domain_class: type[Domain],
    env: MultiActorEnv,
    state: _RunState,
    out_dir: Path,
    *,
    complete: bool,
) -> Path:
    """Write the resumable checkpoint (the latest weights) and the best weights so far.

    `complete`: the run ended by itself (its budget or target), not by Ctrl-C."""
    path = out_dir / CHECKPOINT
    with atomic_output(path) as temporary:
        model.save(temporary)
    if state.best_zip is not None:
        with atomic_output(out_dir / CHECKPOINT_BEST) as temporary:
            temporary.write_bytes(state.best_zip)
    card = _card(config, domain_class, env, state, int(model.num_timesteps), path, complete)
    write_card(card, path)
    return path
