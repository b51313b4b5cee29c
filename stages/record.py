"""``simreel record``: run a policy through a domain's episodes and write the event table.

:func:`record` is the typed stage function; :func:`record_command` is its thin click
wrapper. Recording is deterministic: the same domain, policy (and model file),
seed and episode count give identical rows and identical metadata apart from
``provenance.created_at``. Episode ``k`` resets the env with ``seed + k``; the random
policy and a sampled model draw from a generator seeded with ``(seed, k)``.

A deterministic model in a deterministic domain (the factory) plays the same episode
whatever the seed: ``--sample`` draws its actions from the policy's distribution
instead, and the command says so when every recorded episode came out identical.

Policies: a trained ``model`` (its card must name the same domain, version and
options as the recording), ``random`` and ``first-legal`` for any domain, and the
rule-based baselines a domain ships (:meth:`~domains.domain.Domain.baselines`, e.g.
``rules`` for the factory and the cashier).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, Literal, get_args

import click
from tqdm import tqdm

from domains.domain import Domain
from domains.env import MultiActorEnv
from domains.policies import (
    EPISODE_SEED_RULE,
    Policy,
    PolicyFor,
    baseline_policy_for,
)
from domains.recorder import RecordedEpisode
from domains.registry import (
    describe_options,
    domain_factory,
    domain_package,
    load_domain,
    parse_option_pairs,
    resolve_options,
    run_label,
)
from domains.rollout import play
from schemas.atomic import refuse_to_replace, require_suffix
from schemas.errors import ConfigError
from schemas.events import EpisodeSummary, write_events
from schemas.provenance import git_commit, library_versions, sha256_file, simreel_version
from stages.episode_stats import format_stats, kpi_stats
from stages.terminal import printable

PolicyKind = Literal["model", "random", "first-legal"]
POLICY_KINDS: Final[tuple[str, ...]] = get_args(PolicyKind)
"""Policies every domain offers; a domain adds its own baselines (``Domain.baselines``)."""
MAX_EPISODES: Final = 10_000
"""A guard against typos such as ``--episodes 10000000`` (each episode is a full simulation)."""
EVENTS: Final = Path("data/events")
"""Where tables go unless ``--out`` names one."""
LINES_UP_TO: Final = 10
"""Up to this many episodes the command prints one line each; beyond, one summary per KPI."""


@dataclass(frozen=True)
class RecordConfig:
    """What to record and where; :meth:`validate` explains any bad value."""

    domain: str = "factory"
    """Id of the domain to simulate (see ``domains.registry``)."""
    policy: str = "model"
    """Who decides: a trained ``model``, uniformly ``random`` legal actions, ``first-legal``,
    or a baseline of the domain (e.g. ``rules``)."""
    model: Path | None = None
    """Model file for ``policy="model"``; None means the domain's committed model in the
    source tree, ``data/models/<domain>/model.zip`` (a domain with options: one per variant,
    e.g. ``data/models/cashier/automatic/model.zip``)."""
    episodes: int = 1
    """How many episodes to run and write (episode k is reset with seed + k)."""
    seed: int = 0
    """Seed of episode 0; also seeds the random policy."""
    out: Path | None = None
    """Output table; None means a name of its own under ``data/events`` (:attr:`out_path`)."""
    options: Mapping[str, str] = field(default_factory=dict)
    """The domain's variant (e.g. ``{"dispatcher": "automatic"}``); unset options take their
    defaults."""
    sample: bool = False
    """Draw the model's actions from its distribution (seeded per episode) instead of taking
    the most probable one; only with ``policy="model"``."""
    force: bool = False
    """Replace the default output table if it exists (a table named with ``out`` is always
    replaced: the user named it)."""

    @property
    def out_path(self) -> Path:
        """The table to write: `out`, or a default name that differs for every kind of run.

        ``data/events/<domain>[-<option values>]-<policy>[-sampled]-seed<seed>[-<n>ep].parquet``,
        e.g. ``factory-model-seed0.parquet`` or ``cashier-automatic-random-seed0-20ep.parquet``.
        A model other than the default one adds its folder's name after ``model``.
        """
        if self.out is not None:
            return self.out
        parts = [self.policy]
        if self.policy == "model" and self.model is not None:
            parts.append(Path(self.model).resolve().parent.name)
        if self.sample:
            parts.append("sampled")
        parts.append(f"seed{self.seed}")
        if self.episodes != 1:
            parts.append(f"{self.episodes}ep")
        try:
            name = run_label(load_domain(self.domain), self.options, *parts)
        except ConfigError:  # validate() reports a bad domain or option; no name is needed then
            name = "-".join((self.domain, *parts))
        return EVENTS / f"{name}.parquet"

    def validate(self) -> None:
        """Raise ConfigError naming the first bad value, what is allowed, and the fix."""
        domain_class = load_domain(self.domain)  # ConfigError listing the installed domains
        choices = (*POLICY_KINDS, *domain_class.baselines())
        if self.policy not in choices:
            raise ConfigError(
                f"policy {self.policy!r} is unknown for domain {self.domain!r}; choose one of "
                f"{', '.join(choices)}"
            )
        resolve_options(domain_class, self.options)  # ConfigError naming the option
        if isinstance(self.episodes, bool) or not 1 <= self.episodes <= MAX_EPISODES:
            raise ConfigError(
                f"episodes ({self.episodes}) must be between 1 and {MAX_EPISODES}; "
                "record more in several tables"
            )
        if isinstance(self.seed, bool) or self.seed < 0:
            raise ConfigError(f"seed ({self.seed}) must be >= 0 (numpy seeds are non-negative)")
        require_suffix(self.out_path, ".parquet", what="event tables are Parquet files")
        if self.out_path.is_dir():
            raise ConfigError(f"output {self.out_path} is a directory; give a file name")
        if self.policy != "model" and self.model is not None:
            raise ConfigError(
                f"--model is only used with --policy model, not with --policy {self.policy}; "
                "drop --model or choose --policy model"
            )
        if self.policy != "model" and self.sample:
            raise ConfigError(
                f"--sample draws a trained model's actions; --policy {self.policy} has no "
                "distribution to sample (random is random already): drop --sample or choose "
                "--policy model"
            )
        if self.out is None:
            refuse_to_replace(self.out_path, force=self.force)


@dataclass(frozen=True)
class RecordResult:
    """What :func:`record` wrote."""

    path: Path
    episodes: tuple[EpisodeSummary, ...]
    rows: int
    identical: bool = False
    """True when there were several episodes and all of them came out the same."""
    policy: dict[str, Any] = field(default_factory=dict)
    """The policy description stored in the table's provenance."""
    options: dict[str, str] = field(default_factory=dict)
    """The domain options the episodes were simulated with (defaults filled in)."""
    notes: tuple[str, ...] = ()
    """What the user should know about the recording (e.g. a model of another package)."""


def record(
    config: RecordConfig,
    *,
    on_episode: Callable[[EpisodeSummary], None] | None = None,
    progress: bool = False,
) -> RecordResult:
    """Run ``config.episodes`` episodes and write them as one event table (atomically).

    `on_episode` is called after each episode with its summary (the CLI prints it);
    `progress` shows a progress bar over episodes on stderr.
    """
    config.validate()
    domain_class = load_domain(config.domain)
    options = resolve_options(domain_class, config.options)
    make_domain = domain_factory(domain_class, options)
    policy_for, description = _policy_for(config, domain_class, options)
    package = domain_package(domain_class.domain_id)
    recorded: list[RecordedEpisode] = []
    summaries: list[EpisodeSummary] = []
    bar = tqdm(
        total=config.episodes,
        desc="episodes",
        unit="ep",
        # None: show the bar only on a terminal, never in logs or captured output.
        disable=None if progress else True,
        leave=False,
    )
    with bar:
        for played in play(
            lambda: MultiActorEnv(make_domain, record=True),
            policy_for,
            range(config.episodes),
            config.seed,
        ):
            if played.recorded is None:  # the envs record; this would be a rollout bug
                raise RuntimeError("the rollout finished an episode without its intervals")
            recorded.append(played.recorded)
            summaries.append(played.summary())
            bar.update(1)
            if on_episode is not None:
                on_episode(summaries[-1])
    provenance = {
        "policy": description,
        "domain": {
            "id": domain_class.domain_id,
            "version": domain_class.domain_version,
            "options": options,
            "package": package,
        },
        "seed": config.seed,
        "episodes": config.episodes,
        "simreel_version": simreel_version(),
        "git_commit": git_commit(),
        "library_versions": library_versions(),
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    path = write_events(
        config.out_path,
        recorded,
        domain_id=domain_class.domain_id,
        domain_version=domain_class.domain_version,
        vocabulary=domain_class.vocabulary,
        provenance=provenance,
        domain_options=options,
    )
    return RecordResult(
        path=path,
        episodes=tuple(summaries),
        rows=sum(len(episode) for episode in recorded),
        identical=len(recorded) > 1 and all(_same(recorded[0], e) for e in recorded[1:]),
        policy=description,
        options=options,
        notes=_package_notes(description, package),
    )


def _package_notes(description: Mapping[str, Any], package: Mapping[str, str]) -> tuple[str, ...]:
    """A note when the model was trained with another package (or version) of the domain:
    the same domain version should mean the same rules, but only the package's author
    can promise that."""
    trained = description.get("card", {}).get("domain_package") or {}
    if not trained or dict(trained) == dict(package):
        return ()
    return (
        f"the model was trained with {trained.get('name')} {trained.get('version')}, this is "
        f"{package['name']} {package['version']}: if the domain's rules changed without a new "
        "domain version, its episodes differ from those it learned on",
    )


def _policy_for(
    config: RecordConfig, domain_class: type[Domain], options: Mapping[str, str]
) -> tuple[PolicyFor, dict[str, Any]]:
    """Episode k's policy (for the env playing it), and the policy's provenance description."""
    drawn = {"seed": config.seed, "episode_seed": EPISODE_SEED_RULE}
    env = MultiActorEnv(domain_factory(domain_class, options))
    if config.policy != "model":
        policy_for = baseline_policy_for(config.policy, config.seed, domain_class)
        if config.policy == "random":
            return policy_for, {"kind": "random", **drawn}
        return policy_for, policy_for(0, env).describe()
    model_policy, description = _load_model(config.model, config.domain, env, options)
    models = importlib.import_module("stages.train.model_policy")
    policy_for = models.model_policy_for(model_policy, config.sample, config.seed)
    if not config.sample:
        return policy_for, description
    return policy_for, {**description, "sampled": True, **drawn}


def _same(first: RecordedEpisode, other: RecordedEpisode) -> bool:
    """Whether two episodes have the same intervals (their seeds may differ)."""
    return (
        first.actor == other.actor
        and first.state == other.state
        and first.start == other.start
        and first.end == other.end
        and first.attributes == other.attributes
    )


def _load_model(
    model: Path | None, domain: str, env: MultiActorEnv, options: Mapping[str, str]
) -> tuple[Policy, dict[str, Any]]:
    try:
        # Imported here: it loads torch, which the baseline policies do not need.
        models = importlib.import_module("stages.train.model_policy")
        cards = importlib.import_module("stages.train.model_card")
    except ImportError as error:
        raise ConfigError(
            f"cannot load trained models in this installation ({error}); "
            "use --policy random or --policy first-legal"
        ) from None
    path = Path(model) if model is not None else Path(cards.default_model(domain, options))
    # ModelError if missing, or made for another domain, version, variant or layout.
    policy: Policy = models.load_policy(path, env, options)
    description = {"kind": "model", **policy.describe()}
    description.setdefault("path", str(path))
    description.setdefault("sha256", sha256_file(path))
    return policy, description


def format_summary(summary: EpisodeSummary) -> str:
    """One line per episode: its seed, KPIs and reward."""
    kpis = ", ".join(f"{name} {_number(value)}" for name, value in summary.kpis.items())
    return (
        f"episode {summary.episode} (seed {summary.seed}): {kpis or 'no KPIs'}, "
        f"reward {summary.total_reward:.2f}, {summary.rows} intervals"
    )


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.3g}"


domain_options_flag = click.option(
    "--option",
    "option_pairs",
    multiple=True,
    metavar="NAME=VALUE",
    help="A domain option (repeatable), e.g. --option dispatcher=automatic for the cashier.",
)
"""``--option NAME=VALUE`` (repeatable): the domain's variant, for every command that builds it."""


def policy_flags(command: Callable[..., Any]) -> Callable[..., Any]:
    """``--policy``, ``--model`` and ``--sample``: who plays, for every command that plays."""
    flags = (
        click.option(
            "--policy",
            default="model",
            show_default=True,
            help="Who decides: model (trained), random (legal actions), first-legal, or a "
            "baseline of the domain such as rules.",
        ),
        click.option(
            "--model",
            type=click.Path(path_type=Path, dir_okay=False),
            default=None,
            help="Model file for --policy model (default: the model the domain ships, "
            "data/models/<domain>/[<option values>/]model.zip for simreel's, else what a "
            "bare `simreel train --domain <id>` writes here).",
        ),
        click.option(
            "--sample",
            is_flag=True,
            help="Draw the model's actions from its distribution (seeded per episode) "
            "instead of always taking the most probable one.",
        ),
    )
    for flag in reversed(flags):
        command = flag(command)
    return command


@click.command("record")
@click.option("--domain", default="factory", show_default=True, help="Domain id to simulate.")
@domain_options_flag
@policy_flags
@click.option("--episodes", type=int, default=1, show_default=True, help="Episodes to record.")
@click.option(
    "--seed", type=int, default=0, show_default=True, help="Episode k is reset with seed + k."
)
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Output table, replaced if it exists (default: a new name per domain, variant, "
    "policy, seed and episode count under data/events/).",
)
@click.option("--force", is_flag=True, help="Replace the default output table if it exists.")
@click.option(
    "--per-episode",
    is_flag=True,
    help=f"One line per episode even beyond {LINES_UP_TO} episodes (default: a summary).",
)
def record_command(
    domain: str,
    option_pairs: tuple[str, ...],
    policy: str,
    model: Path | None,
    sample: bool,
    episodes: int,
    seed: int,
    out: Path | None,
    force: bool,
    per_episode: bool,
) -> None:
    """Run a policy through a domain and write the episodes as an event table.

    Up to 10 episodes, prints one line per episode (its KPIs and reward); beyond, a
    progress bar and then per KPI the mean ± its standard error, the spread, minimum
    and maximum (--per-episode prints every line). The table is written atomically:
    an interrupted run leaves no partial file. A default output name never replaces
    an existing table unless --force is given; a table named with --out is replaced.

    \b
    The committed factory model is deterministic and so is the factory: every
    episode it plays is the same, whatever --seed. --sample draws its actions from
    the policy's distribution instead (seeded: the same seed gives the same table).
    In a stochastic domain (the cashier) episode k is reset with seed + k, so the
    episodes differ anyway.

    \b
    The variant of the domain is given with --option; a model is refused unless its
    card names the same domain, version and options.

    \b
    Example:
        simreel record                        # data/events/factory-model-seed0.parquet
        simreel record --sample --episodes 20 --seed 3
        simreel record --policy random --episodes 20 --out data/events/random.parquet
        simreel record --domain cashier --policy rules --episodes 2000
        simreel record --domain cashier --option dispatcher=automatic --policy rules
    """
    config = RecordConfig(
        domain=domain,
        policy=policy,
        model=model,
        episodes=episodes,
        seed=seed,
        out=out,
        options=parse_option_pairs(option_pairs),
        sample=sample,
        force=force,
    )
    lines = per_episode or episodes <= LINES_UP_TO
    result = record(
        config,
        on_episode=(lambda summary: tqdm.write(format_summary(summary))) if lines else None,
        progress=True,
    )
    if not lines:
        for stats in kpi_stats(result.episodes):
            click.echo(format_stats(stats))
    for note in result.notes:
        click.echo(f"note: {printable(note)}", err=True)
    if result.identical:
        click.echo(
            f"note: all {len(result.episodes)} episodes are identical: the domain and the "
            "policy are deterministic, so the seed changes nothing; --sample draws the "
            "model's actions from its distribution instead",
            err=True,
        )
    click.echo(
        f"wrote {result.rows} intervals of {len(result.episodes)} episode(s) of "
        f"{domain} ({describe_options(result.options)}) to {printable(str(result.path))}"
    )
