"""The training configuration and what a run returns: the bottom of the train stage.

:class:`TrainConfig` is everything a training run depends on (its card stores it in
full, so ``--resume`` continues with the same settings); :class:`TrainResult` is what a
finished run wrote; :class:`TrainingInterrupted` is Ctrl-C after the resumable
checkpoint was written. The learner, the population, the sweep and the command line
all build on these and nothing here imports them back.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

from domains.domain import Domain
from domains.registry import load_domain, resolve_options
from schemas.errors import ConfigError, ModelError
from stages.episode_stats import REWARD
from stages.train.model_card import ModelCard, default_run_dir

VecEnvKind = Literal["dummy", "subproc"]
CHECKPOINT = "checkpoint.zip"
CHECKPOINT_BEST = "checkpoint-best.zip"
VALIDATION_SEED = 1_000_000
"""Default seed of validation episode 0 (:attr:`TrainConfig.eval_seed`)."""
RUN_FILES = ("model.zip", "model.json", CHECKPOINT, "checkpoint.json", CHECKPOINT_BEST)
"""What a run writes into its output directory (a population also ``member-<k>/`` folders)."""


@dataclass(frozen=True)
class TrainConfig:
    """Everything a training run depends on; the card stores it in full.

    The defaults here are generic; :meth:`for_domain` lays a domain's own defaults over
    them (what ``simreel train --domain`` does), e.g. ``TrainConfig.for_domain("cashier",
    seed=1)``.
    """

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
    """Validation episodes per evaluation. 1 suffices for a deterministic domain such as the
    factory; a stochastic one needs many (a mean reward with sd 0.6 is good to about ±0.08
    over 200 episodes, ±0.026 over 2,000)."""
    eval_seed: int = VALIDATION_SEED
    """Validation episode k is reset with ``eval_seed + k``: the same episodes at every
    evaluation (so two policies are compared on equal terms), none of them a training
    episode, nor one of ``simreel evaluate``'s held-out episodes."""
    select_by: str = REWARD
    """What evaluations judge a policy by: ``reward`` (mean episode reward) or one of the
    domain's KPIs (its mean over the validation episodes). The kept model is the best by it
    (ties go to the earliest)."""
    stop_at: float | None = None
    """Stop once an evaluation's ``select_by`` value reaches this (e.g. 28 finished items);
    None: use the whole budget."""
    out_dir: Path | None = None
    """Output directory, which the run may write over (the user named it). None: beside the
    checkpoint for a resumed run, else ``data/models/<domain>[-<option values>]-seed<seed>/``
    in the source tree (:func:`stages.train.model_card.default_run_dir`), which is refused
    if an earlier run wrote there unless ``train(..., force=True)``. Only naming the folder
    of :func:`~stages.train.model_card.default_model` here replaces the model ``record``
    plays by default (the committed one)."""
    tensorboard: Path | None = None
    """TensorBoard log directory (None: no logs)."""
    resume: Path | None = None
    """A checkpoint.zip to continue from: one written on Ctrl-C, or at the end of a run (then
    with a larger ``timesteps``). Its card gives the timesteps done and the history; the run
    writes beside it unless ``out_dir`` is given."""
    progress: bool = True
    """Show a progress bar with the best result so far."""
    population: int = 3
    """Independent learners trained side by side as Ray tasks (1: one learner in this process);
    the best model of all is kept. A single learner stays at 27 factory items on one seed in
    four (6 of seeds 0-23), two learners both did on seed 15; three cover each other at ~2/3
    speed on two cores."""

    @classmethod
    def for_domain(
        cls, domain: str = "factory", options: Mapping[str, str] | None = None, **settings: Any
    ) -> TrainConfig:
        """The configuration `domain` trains with by default, `settings` over it.

        The generic defaults of this class, then the domain's ``training_defaults`` (e.g. the
        cashier's validation episodes), then `settings`; what ``simreel train`` uses.
        """
        defaults = dict(load_domain(domain).training_defaults)
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(defaults) - known)
        if unknown:
            raise ConfigError(
                f"domain {domain!r} declares training_defaults {', '.join(unknown)}, which are "
                "not training settings; its author should use TrainConfig field names"
            )
        if isinstance(defaults.get("net_arch"), list):
            defaults["net_arch"] = tuple(defaults["net_arch"])
        return cls(**{**defaults, "domain": domain, "options": dict(options or {}), **settings})

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
        if (
            isinstance(self.eval_seed, bool)
            or not isinstance(self.eval_seed, int)
            or (self.eval_seed < 0)
        ):
            raise ConfigError(f"--eval-seed ({self.eval_seed!r}) must be an integer >= 0")
        choices = (REWARD, *load_domain(self.domain).kpi_names)
        if self.select_by not in choices:
            raise ConfigError(
                f"--select-by ({self.select_by!r}) must be {REWARD} (mean episode reward) or a "
                f"KPI of {self.domain}: {', '.join(choices)}"
            )
        if self.stop_at is not None and not math.isfinite(self.stop_at):
            raise ConfigError(f"--stop-at ({self.stop_at}) must be a finite number or left unset")
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
        if "select_by" not in data:
            # Cards before select_by kept the best by the domain's headline KPI, evaluated
            # on episodes seeded like the training run, and stopped at target_items.
            values["select_by"] = headline_kpi(load_domain(str(data.get("domain", "factory"))))
            values.setdefault("eval_seed", data.get("seed", 0))
            values["stop_at"] = data.get("target_items")
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


def headline_kpi(domain: Domain | type[Domain]) -> str:
    """The domain's first KPI (what cards before ``select_by`` kept the best model by)."""
    return domain.kpi_names[0] if domain.kpi_names else REWARD


def format_score(value: float) -> str:
    """A score as people write it: 28 finished items, or 0.347 for a mean over episodes."""
    return str(int(value)) if float(value).is_integer() else f"{value:.3f}"
