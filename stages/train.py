"""The train stage: MaskablePPO over a domain's multi-actor env, keeping the best model.

``train(config)`` is the library entry point; ``stages.train_cli.train_command`` is the
thin click layer (``simreel train``). A run writes into its output directory:

* ``model.zip``: the model whose deterministic evaluation finished the most items
  (ties go to the earliest), as an SB3 MaskablePPO save;
* ``model.json``: its card (:class:`stages.models.ModelCard`): config, seed, timesteps,
  wall time, evaluation history, spaces, library versions, git commit, sha256;
* ``checkpoint.zip``/``checkpoint.json``: the latest weights and their card, so that
  ``--resume`` with a larger ``--timesteps`` trains a finished run on, plus
  ``checkpoint-best.zip`` (the best weights so far, which the resumed run must beat).

Ctrl-C writes only the checkpoint files and leaves ``model.zip`` as it was; ``--resume``
then finishes the budget.

The output directory of a new run is, unless named, a folder of its own per seed and
domain variant (:func:`stages.models.default_run_dir`, e.g. ``data/models/factory-seed0/``),
and a run refuses to replace an earlier run there unless forced: the committed model in
``data/models/factory/`` is only ever replaced by a run told to write there.

By default ``config.population`` learners train side by side in processes of their own
(:mod:`stages.population`), each as above in ``member-<k>/``; the population then writes
the kept learner's model and a card listing every learner.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Literal, Protocol

from domains.domain import Domain
from domains.env import MultiActorEnv
from domains.registry import domain_factory, load_domain, resolve_options
from schemas.atomic import atomic_output, refuse_to_replace
from schemas.errors import ConfigError, ModelError
from schemas.provenance import git_commit, library_versions, sha256_file, system_info
from stages.models import (
    CARD_FORMAT,
    Evaluation,
    ModelCard,
    action_count,
    card_path,
    default_run_dir,
    load_model_card,
)

VecEnvKind = Literal["dummy", "subproc"]
CHECKPOINT = "checkpoint.zip"
CHECKPOINT_BEST = "checkpoint-best.zip"
RUN_FILES = ("model.zip", "model.json", CHECKPOINT, "checkpoint.json", CHECKPOINT_BEST)
"""What a run writes into its output directory (a population also ``member-<k>/`` folders)."""


@dataclass(frozen=True)
class TrainConfig:
    """Everything a training run depends on; the card stores it in full."""

    domain: str = "factory"
    """Domain id, looked up with ``domains.registry.load_domain``."""
    options: dict[str, str] = field(default_factory=dict)
    """The domain's variant (e.g. ``{"dispatcher": "automatic"}``); unset options take their
    defaults. The card stores every option, so ``record`` can refuse another variant."""
    timesteps: int = 500_000
    """Environment steps to train for (all parallel envs together); the entropy bonus decays over
    all of them, so a longer budget also explores for longer. A total, not an increment: a
    resumed run trains until it, so continuing a finished run needs a larger value (the bonus
    then picks up the longer schedule where the steps done leave it)."""
    seed: int = 0
    """Seeds torch, the action sampling and env i (with seed + i)."""
    n_envs: int = 8
    """Envs stepped together (fixed, not the core count, so every machine trains the same model)."""
    vec_env: VecEnvKind = "dummy"
    """'dummy' steps the envs in this process (faster here: an env step is far cheaper than IPC)."""
    learning_rate: float = 3e-4
    """Adam step size (1e-3 reaches 27 items sooner but then stays there)."""
    n_steps: int = 256
    """Steps per env per rollout (8 envs x 256: about 23 factory episodes per update)."""
    batch_size: int = 256
    """Minibatch size of the PPO update."""
    n_epochs: int = 10
    """Passes over each rollout in the PPO update."""
    gamma: float = 1.0
    """Discount; 1 because every finished item counts the same, early or late."""
    gae_lambda: float = 0.95
    """GAE bias/variance trade-off."""
    ent_coef: float = 0.1
    """Entropy bonus at the start (0.05 often settles on a 27-item schedule for good)."""
    ent_coef_final: float = 0.0
    """Entropy bonus at the end; it falls linearly so the policy settles on one schedule."""
    net_arch: tuple[int, ...] = (64, 64)
    """Hidden layer sizes of the policy and value networks."""
    eval_freq: int = 512
    """Timesteps between deterministic evaluations, checked once per rollout (512: after every
    update, which catches policies that finish more items for only one or two updates)."""
    eval_episodes: int = 1
    """Episodes per evaluation (1 suffices for a deterministic domain such as the factory)."""
    target_items: float | None = None
    """Stop once an evaluation reaches this value of the domain's headline KPI (its first
    ``kpi_names`` entry: finished items for the factory); None: use the whole budget."""
    out_dir: Path | None = None
    """Output directory, which the run may write over (the user named it). None: beside the
    checkpoint for a resumed run, else ``data/models/<domain>[-<option values>]-seed<seed>/``
    in the source tree (:func:`stages.models.default_run_dir`), which is refused if an earlier
    run wrote there unless ``train(..., force=True)``. Only naming ``data/models/<domain>/``
    here replaces the model ``record`` plays by default (for the factory: the committed one)."""
    tensorboard: Path | None = None
    """TensorBoard log directory (None: no logs)."""
    resume: Path | None = None
    """A checkpoint.zip to continue from: one written on Ctrl-C, or at the end of a run (then
    with a larger ``timesteps``). Its card gives the timesteps done and the history; the run
    writes beside it unless ``out_dir`` is given."""
    progress: bool = True
    """Show a progress bar with the best result so far."""
    population: int = 3
    """Independent learners trained side by side, one process each; the best model of all is
    kept. A single learner stays at 27 factory items on one seed in four (6 of seeds 0-23),
    two learners both did on seed 15; three cover each other at ~2/3 speed on two cores."""

    def output_dir(self) -> Path:
        """Where model.zip, model.json and the checkpoint go (see :attr:`out_dir`)."""
        if self.out_dir is not None:
            return self.out_dir
        if self.resume is not None:
            return Path(self.resume).parent
        return default_run_dir(load_domain(self.domain), self.options, self.seed)

    def output_is_default(self) -> bool:
        """True when the user named no output directory (neither out_dir nor resume)."""
        return self.out_dir is None and self.resume is None

    def validate(self) -> None:
        """Raise ConfigError naming the first bad field, its value and the fix."""
        positive_ints = ("timesteps", "n_envs", "n_steps", "batch_size", "n_epochs", "population")
        for name in (*positive_ints, "eval_freq", "eval_episodes"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"{option_flag(name)} ({value!r}) must be a positive integer")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ConfigError(f"--seed ({self.seed!r}) must be an integer >= 0")
        if self.vec_env not in ("dummy", "subproc"):
            raise ConfigError(f"--vec-env ({self.vec_env!r}) must be 'dummy' or 'subproc'")
        if not 0.0 < self.learning_rate <= 1.0:
            raise ConfigError(f"--learning-rate ({self.learning_rate}) must be in (0, 1]")
        for name in ("gamma", "gae_lambda"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ConfigError(f"{option_flag(name)} ({value}) must be in [0, 1]")
        for name in ("ent_coef", "ent_coef_final"):
            if not getattr(self, name) >= 0.0:
                raise ConfigError(f"{option_flag(name)} ({getattr(self, name)}) must be >= 0")
        if not self.net_arch or any(
            isinstance(n, bool) or not isinstance(n, int) or n < 1 for n in self.net_arch
        ):
            raise ConfigError(
                f"--net-arch ({','.join(map(str, self.net_arch)) or 'empty'}) must be "
                "comma-separated positive layer sizes, e.g. 64,64"
            )
        rollout = self.n_steps * self.n_envs
        if rollout < 2:
            raise ConfigError(
                f"--n-steps x --n-envs ({rollout}) must be at least 2 (PPO normalises advantages)"
            )
        if self.batch_size > rollout:
            raise ConfigError(
                f"--batch-size ({self.batch_size}) must be at most --n-steps x --n-envs "
                f"({rollout}); lower it or raise --n-steps"
            )
        if self.target_items is not None and not self.target_items > 0:
            raise ConfigError(f"--target-items ({self.target_items}) must be > 0 or left unset")
        if self.resume is not None and not Path(self.resume).is_file():
            raise ConfigError(
                f"--resume ({self.resume}) is not a file; pass the checkpoint.zip an "
                "interrupted run wrote"
            )
        resolve_options(load_domain(self.domain), self.options)  # ConfigError naming it
        if self.tensorboard is not None:
            try:
                import torch.utils.tensorboard  # noqa: F401
            except ImportError:
                raise ConfigError(
                    f"--tensorboard ({self.tensorboard}) needs the tensorboard package; "
                    "install simreel's dev extras or leave --tensorboard unset"
                ) from None

    @classmethod
    def from_json(cls, data: dict[str, Any], source: Path) -> TrainConfig:
        """The config a card stores (see :meth:`to_json`); ModelError if it does not fit."""
        known = {f.name for f in fields(cls)}
        values = {name: value for name, value in data.items() if name in known}
        values.setdefault("population", 1)  # cards from before populations: one learner
        if isinstance(values.get("net_arch"), list):
            values["net_arch"] = tuple(values["net_arch"])
        for name in ("out_dir", "tensorboard", "resume"):
            if values.get(name) is not None:
                values[name] = Path(values[name])
        try:
            return cls(**values)
        except TypeError as error:
            raise ModelError(
                f"{source}: field 'config' is not a training configuration ({error}); "
                "resume from a checkpoint this simreel wrote"
            ) from None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["net_arch"] = list(self.net_arch)
        data["options"] = dict(self.options)
        for name in ("out_dir", "tensorboard", "resume"):
            data[name] = None if data[name] is None else str(data[name])
        return data


def resume_budget_error(timesteps: int, done: int, checkpoint: Path) -> str:
    """The message for a resume whose --timesteps the checkpoint has already done."""
    return (
        f"--timesteps ({timesteps}) must exceed the {done} timesteps {checkpoint} has done "
        f"(--timesteps is the total, not the steps to add); train on with e.g. "
        f"`simreel train --resume {checkpoint} --timesteps {max(2 * done, 1)}`"
    )


def option_flag(name: str) -> str:
    """The command-line flag of config field `name` (``n_envs`` -> ``--n-envs``)."""
    return "--" + name.replace("_", "-")


@dataclass(frozen=True)
class TrainResult:
    """What a finished run wrote."""

    model_path: Path
    """The best model (``model.zip``)."""
    card_path: Path
    """Its card (``model.json``)."""
    card: ModelCard
    """The card's content."""
    checkpoint_path: Path
    """The resumable checkpoint written at the end (``--resume`` it with more timesteps)."""


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C during training, after the resumable checkpoint was written."""

    def __init__(self, checkpoint: Path, timesteps: int) -> None:
        super().__init__(
            f"interrupted at {timesteps} timesteps; checkpoint written to {checkpoint}; "
            f"continue with: simreel train --resume {checkpoint}"
        )
        self.checkpoint = checkpoint
        self.timesteps = timesteps


def train(config: TrainConfig, *, force: bool = False) -> TrainResult:
    """Train MaskablePPO on `config.domain`; return the best model's paths and card.

    With ``config.population`` > 1 the learners run in processes of their own
    (:mod:`stages.population`), each writing into ``member-<k>/`` of the output directory.

    `force` lets a run given no output directory replace an earlier run in its default
    one (``--force``); without it ConfigError says so before anything is written. It is
    an argument, not a config field, because it is a decision about this invocation's
    files, not about how the model is made: the card does not store it and a resumed
    run does not inherit it.
    """
    config.validate()
    domain_class = load_domain(config.domain)
    out_dir = config.output_dir()
    if config.output_is_default():
        _refuse_earlier_run(out_dir, force=force)
    _check_writable(out_dir)
    if config.population > 1:
        from stages.population import train_population

        return train_population(config, domain_class, out_dir)
    return train_learner(config, domain_class, out_dir)


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
) -> TrainResult:
    """Train one learner into `out_dir` (config.population is not looked at)."""
    # Imported here so that `simreel --help` and config errors stay instant.
    import torch

    threads, validate = torch.get_num_threads(), torch.distributions.Distribution._validate_args
    # One thread per process: the networks are tiny, and extra threads only fight the
    # env steps (and other processes) for the cores. Argument validation of torch
    # distributions costs ~15% of a rollout step and checks nothing the mask leaves open.
    torch.set_num_threads(1)
    torch.distributions.Distribution.set_default_validate_args(False)
    try:
        return _train(config, domain_class, out_dir, hooks or _NoHooks())
    finally:
        torch.set_num_threads(threads)
        torch.distributions.Distribution.set_default_validate_args(validate)


def _train(
    config: TrainConfig, domain_class: type[Domain], out_dir: Path, hooks: LearnerHooks
) -> TrainResult:
    from sb3_contrib import MaskablePPO
    from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv

    state = _RunState()
    if config.resume is not None:
        state = _RunState.from_checkpoint(Path(config.resume), config)
    vec_class = SubprocVecEnv if config.vec_env == "subproc" else DummyVecEnv
    make_domain = domain_factory(domain_class, config.options)
    venv = vec_class([_EnvFactory(make_domain) for _ in range(config.n_envs)])
    venv.seed(config.seed)
    eval_env = MultiActorEnv(make_domain)
    try:
        if config.resume is not None:
            model = MaskablePPO.load(
                Path(config.resume), env=venv, device="cpu", seed=config.seed, **_ppo_args(config)
            )
        else:
            model = MaskablePPO(
                "MlpPolicy",
                venv,
                seed=config.seed,
                device="cpu",
                verbose=0,
                policy_kwargs={"net_arch": list(config.net_arch)},
                **_ppo_args(config),
            )
        callback = _Callback(config, eval_env, state, hooks)
        remaining = config.timesteps - int(model.num_timesteps)  # > 0: checked on resume
        try:
            model.learn(
                remaining,
                callback=callback,
                reset_num_timesteps=config.resume is None,
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


def _refuse_earlier_run(out_dir: Path, *, force: bool) -> None:
    """ConfigError if an earlier run wrote into the default `out_dir` (unless `force`)."""
    earlier = [out_dir / name for name in RUN_FILES if (out_dir / name).exists()]
    if out_dir.is_dir():
        earlier += sorted(out_dir.glob("member-*"))
    if not earlier:
        return
    try:
        refuse_to_replace(earlier[0], force=force, named_by="--out-dir")
    except ConfigError as error:
        raise ConfigError(f"{error}{_resume_hint(out_dir / CHECKPOINT)}") from None


def _resume_hint(checkpoint: Path) -> str:
    """How to train the earlier run on instead (empty if it left no readable checkpoint)."""
    try:
        card = load_model_card(checkpoint)
    except ModelError:
        return ""
    done = max([card.timesteps, *(member.timesteps for member in card.members)])
    budget = card.config.get("timesteps")  # an interrupted run: its budget is still ahead
    more = budget if isinstance(budget, int) and budget > done else max(2 * done, 1)
    return f"; or train that run on with `simreel train --resume {checkpoint} --timesteps {more}`"


def _check_writable(out_dir: Path) -> None:
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out_dir):
            pass
    except OSError as error:
        raise ConfigError(
            f"--out-dir ({out_dir}) is not a writable directory ({error.strerror or error}); "
            "choose a writable directory with --out-dir"
        ) from None


@dataclass
class _RunState:
    """Best-model tracking and history, carried across a resume."""

    evaluations: list[Evaluation] = field(default_factory=list)
    best_items: float = float("-inf")
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
        if sha256_file(checkpoint) != card.model_sha256:
            raise ModelError(
                f"{checkpoint}: its sha256 differs from its card's; the checkpoint was "
                "changed after it was written: resume from an untouched checkpoint"
            )
        if card.timesteps >= config.timesteps:
            raise ConfigError(resume_budget_error(config.timesteps, card.timesteps, checkpoint))
        best_path = checkpoint.with_name(CHECKPOINT_BEST)
        return cls(
            evaluations=list(card.evaluations),
            best_items=card.best_finished_items if card.evaluations else float("-inf"),
            best_timestep=card.best_timestep,
            best_wall=card.best_wall_seconds,
            best_zip=best_path.read_bytes() if best_path.is_file() else None,
            wall_before=card.wall_seconds,
        )


class _Callback:
    """Factory for the SB3 callback (SB3 is imported lazily, so the class is built on demand)."""

    def __new__(
        cls, config: TrainConfig, eval_env: MultiActorEnv, state: _RunState, hooks: LearnerHooks
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
                items = _evaluate(self.model, eval_env, config)
                evaluation = Evaluation(done, round(state.wall(), 3), items)
                state.evaluations.append(evaluation)
                hooks.evaluated(evaluation)
                if items > state.best_items:
                    state.best_items, state.best_timestep = items, done
                    state.best_wall = evaluation.wall_seconds
                    buffer = io.BytesIO()
                    self.model.save(buffer)
                    state.best_zip = buffer.getvalue()
                if config.target_items is not None and items >= config.target_items:
                    self._stop = True
                if hooks.should_stop(done):
                    self._stop = True
                self._show()

            def _show(self) -> None:
                if self._bar is not None and state.evaluations:
                    self._bar.set_postfix(
                        best=format_items(state.best_items),
                        last=format_items(state.evaluations[-1].finished_items),
                        refresh=False,
                    )

            def close(self) -> None:
                if self._bar is not None:
                    self._bar.close()
                    self._bar = None

        return EvalCallback()


def headline_kpi(domain: Domain | type[Domain]) -> str:
    """The KPI training evaluates and keeps the best model by: the domain's first KPI."""
    return domain.kpi_names[0] if domain.kpi_names else "finished_items"


def _evaluate(model: Any, env: MultiActorEnv, config: TrainConfig) -> float:
    """Mean headline KPI over deterministic episodes (masked argmax actions)."""
    kpi = headline_kpi(env.domain)
    total = 0.0
    for episode in range(config.eval_episodes):
        observation, _ = env.reset(seed=config.seed + episode)
        done, info = False, dict[str, Any]()
        while not done:
            action, _ = model.predict(
                observation, action_masks=env.action_masks(), deterministic=True
            )
            observation, _, terminated, truncated, info = env.step(int(action))
            done = terminated or truncated
        total += float(info.get("kpis", {}).get(kpi, 0.0))
    return total / config.eval_episodes


def format_items(value: float) -> str:
    """An item count as people write it: 28, or 27.50 for a mean over episodes."""
    return str(int(value)) if float(value).is_integer() else f"{value:.2f}"


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
        complete=complete,
        config=config.to_json(),
        seed=config.seed,
        timesteps=timesteps,
        wall_seconds=round(state.wall(), 3),
        best_finished_items=state.best_items if state.evaluations else 0.0,
        best_timestep=state.best_timestep,
        best_wall_seconds=state.best_wall,
        evaluations=tuple(state.evaluations),
        observation_shape=tuple(int(n) for n in env.observation_space.shape or ()),
        action_count=action_count(env),
        library_versions=library_versions(),
        system=system_info(),
        git_commit=git_commit(),
        model_sha256=sha256_file(model_path),
    )


def write_card(card: ModelCard, model_path: Path) -> Path:
    """Write `card` beside `model_path` (atomically); return the card's path."""
    path = card_path(model_path)
    with atomic_output(path) as temporary:
        temporary.write_text(json.dumps(card.to_json(), indent=2) + "\n", encoding="utf-8")
    return path


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
