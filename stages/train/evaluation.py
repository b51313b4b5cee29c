"""Evaluation over many held-out episodes, split across Ray, the same figures bit for bit.

A stochastic domain needs thousands of episodes to tell two policies apart (the
cashier's rule: 2,000 for a mean reward good to ±0.026). :func:`evaluate` plays them
as chunks of consecutive episodes, each a Ray task (on a local Ray started for the
call, or a cluster: :mod:`stages.train.cluster`), and returns one
:class:`~schemas.events.EpisodeSummary` per episode, in episode order;
:func:`stages.episode_stats.kpi_stats` turns them into mean, spread, standard error,
minimum and maximum.

Every chunk plays its episodes with :func:`domains.rollout.play`, the rollout of
``simreel record`` too, many envs side by side with one network call per step. Episode k
is reset with ``seed + k``, and a policy that draws (random, a sampled model) draws from
a generator seeded with ``(seed, k)`` alone, so the figures of an episode never depend
on which process played it, how the episodes were split, or how many ran beside it. One
process (``ray=None``) and any number of chunks return the same summaries, bit for bit.
A model travels to the chunks as its numpy network, so no task loads torch.

:data:`HELD_OUT_SEED` is where evaluation episodes start by default: far from the seeds
training steps its envs with (the run's seed + env index) and from the validation
episodes training picks its best model on (``TrainConfig.eval_seed``), so the figure
printed is not the one the choice was made on.
"""

from __future__ import annotations

import functools
import math
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from domains.domain import Domain
from domains.env import MultiActorEnv
from domains.policies import PolicyFor, baseline_policy_for
from domains.registry import domain_factory, load_domain, resolve_options
from domains.rollout import play
from schemas.errors import ConfigError
from schemas.events import EpisodeSummary
from stages.compare.intervals import Interval, mean_interval
from stages.compare.text import interval_text
from stages.episode_stats import REWARD, KpiStats, kpi_stats
from stages.inspect.cells import columns
from stages.train.cluster import RaySettings, ray_session
from stages.train.model_card import default_model
from stages.train.model_policy import ModelPolicy, load_policy, model_policy_for

CHUNKS_PER_CPU: Final = 4
"""Chunks per CPU of the cluster: enough that a slow chunk does not hold up the end, and
that the progress bar moves; few enough that each task's set-up is small."""
MAX_EPISODES: Final = 1_000_000
"""A guard against a typo (each episode is a full simulation)."""
DEFAULT_EPISODES: Final = 2000
"""Episodes ``simreel evaluate`` plays unless told: a mean reward with sd 0.6 to ±0.026."""
HELD_OUT_SEED: Final = 2_000_000
"""Default seed of evaluation episode 0: apart from training's envs and validation episodes."""
ON_RAY: Final = RaySettings()
"""Ray as :func:`evaluate` uses it by default: the one running, else ``$RAY_ADDRESS``, else a
local Ray for the call."""


@dataclass(frozen=True)
class PolicySource:
    """Who plays the episodes, in a form any process rebuilds (a Ray task on any machine)."""

    policy: str = "model"
    """``model`` (trained), ``random`` (legal actions), ``first-legal``, or a baseline the
    domain ships (e.g. ``rules``)."""
    model: Path | None = None
    """The model zip for ``policy="model"``; None: the domain's default model."""
    sample: bool = False
    """Draw a model's actions from its distribution (seeded per episode) instead of taking
    the most probable one."""


@dataclass(frozen=True)
class Player:
    """A policy source checked and made ready to ship: a model travels as its numpy network
    (:func:`prepare`)."""

    policy: str
    sample: bool
    model: ModelPolicy | None = None
    """The loaded model (None for a baseline)."""
    model_path: Path | None = None
    """The file it was loaded from."""


def policy_for(
    policy: str,
    seed: int,
    domain_class: type[Domain],
    model: ModelPolicy | None = None,
    *,
    sample: bool = False,
) -> PolicyFor:
    """Episode k's policy for any policy name (a ``model`` needs its loaded `model`)."""
    if policy != "model":
        return baseline_policy_for(policy, seed, domain_class)
    if model is None:
        raise ValueError("policy 'model' needs the loaded model")
    return model_policy_for(model, sample, seed)


@dataclass(frozen=True)
class Judged:
    """One figure over the episodes: the mean reward or one KPI."""

    stats: KpiStats
    """Mean, spread, minimum and maximum."""
    interval: Interval
    """The mean with its 95% t interval (none for a single episode), cut to the range of
    the values seen (a rate's interval stays within 0 and 1)."""


def judge(summaries: Sequence[EpisodeSummary]) -> list[Judged]:
    """The mean reward, then each KPI's mean, each with its 95% interval."""
    stats = kpi_stats(summaries)
    ordered = [entry for entry in stats if entry.name == REWARD]
    ordered += [entry for entry in stats if entry.name != REWARD]
    return [Judged(entry, _within_range(mean_interval(entry), entry)) for entry in ordered]


def _within_range(interval: Interval, stats: KpiStats) -> Interval:
    """The t interval cut to the values seen: a survival rate's mean is never below 0."""
    if interval.low is None or interval.high is None:
        return interval
    low = max(interval.low, stats.minimum)
    high = min(interval.high, stats.maximum)
    return Interval(interval.estimate, low, high, interval.df)


def judged_lines(judged: Sequence[Judged]) -> list[str]:
    """The figures as aligned lines, then how sure the mean reward is."""
    rows = [
        [
            "mean reward" if entry.stats.name == REWARD else entry.stats.name,
            interval_text(entry.interval),
            f"sd {entry.stats.std:.3g}, min {entry.stats.minimum:.4g}, "
            f"max {entry.stats.maximum:.4g}",
        ]
        for entry in judged
    ]
    lines = columns(rows)
    reward = next((entry for entry in judged if entry.stats.name == REWARD), None)
    if reward is None:
        return lines
    if reward.interval.high is None:
        lines.append("One episode gives no interval: play more (--episodes) to judge a mean.")
    elif reward.stats.std == 0:
        lines.append(
            f"All {reward.stats.episodes:,} episodes gave the same reward: the figures are "
            "exact for these seeds (--sample draws a model's actions from its distribution)."
        )
    else:
        half = reward.interval.high - reward.interval.estimate
        lines.append(
            f"The mean reward is good to ±{half:.2g} (95%) over {reward.stats.episodes:,} "
            "episodes; a difference smaller than that is noise (4x the episodes halve it)."
        )
    return lines


def evaluate(
    source: PolicySource,
    domain: str = "factory",
    options: Mapping[str, str] | None = None,
    episodes: int = 1,
    seed: int = 0,
    *,
    ray: RaySettings | None = ON_RAY,
    chunk_episodes: int | None = None,
    progress: bool = False,
    player: Player | None = None,
) -> list[EpisodeSummary]:
    """Play `episodes` episodes of `source` in `domain`; one summary per episode, in order.

    The episodes run as Ray tasks of `chunk_episodes` consecutive episodes each (None:
    about :data:`CHUNKS_PER_CPU` chunks per CPU of the cluster), on the Ray `ray` names
    (default: the one running, else ``$RAY_ADDRESS``, else a local Ray for this call);
    ``ray=None`` plays them all in this process. Either way the summaries are the same.
    The request is checked and a model loaded by :func:`prepare` first, unless `player`
    is what :func:`prepare` gave for the same request.
    """
    resolved = resolve_options(load_domain(domain), options or {})
    if player is None:
        player = prepare(source, domain, resolved, episodes, seed, chunk_episodes)
    bar = _bar(progress, episodes)
    try:
        if ray is None:
            summaries = _play(player, domain, resolved, 0, episodes, seed, bar)
        else:
            summaries = _on_ray(player, domain, resolved, episodes, seed, ray, chunk_episodes, bar)
    finally:
        if bar is not None:
            bar.close()
    return summaries


def _check(
    source: PolicySource, domain_class: Any, episodes: int, seed: int, chunk: int | None
) -> None:
    for flag, value, low in (("--episodes", episodes, 1), ("--seed", seed, 0)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ConfigError(f"{flag} ({value!r}) must be an integer >= {low}")
    if episodes > MAX_EPISODES:
        raise ConfigError(f"--episodes ({episodes}) must be at most {MAX_EPISODES:,}")
    if chunk is not None and (isinstance(chunk, bool) or not isinstance(chunk, int) or chunk < 1):
        raise ConfigError(f"chunk_episodes ({chunk!r}) must be a positive integer or None")
    known = ("model", "random", "first-legal", *domain_class.baselines())
    if source.policy not in known:
        raise ConfigError(
            f"--policy ({source.policy}) must be one of {', '.join(known)} for "
            f"{domain_class.domain_id}"
        )
    if source.sample and source.policy != "model":
        raise ConfigError("--sample draws a model's actions; use it with --policy model")


def prepare(
    source: PolicySource,
    domain: str = "factory",
    options: Mapping[str, str] | None = None,
    episodes: int = 1,
    seed: int = 0,
    chunk_episodes: int | None = None,
) -> Player:
    """Check a request (ConfigError naming the bad value) and load its model once, checked
    against the domain (ModelError naming the problem), to ship its network."""
    domain_class = load_domain(domain)
    resolved = resolve_options(domain_class, options or {})
    _check(source, domain_class, episodes, seed, chunk_episodes)
    if source.policy != "model":
        return Player(source.policy, source.sample)
    path = Path(source.model) if source.model is not None else default_model(domain, resolved)
    env = MultiActorEnv(domain_factory(domain_class, resolved))
    # ModelError if missing, changed or made for another env.
    return Player("model", source.sample, load_policy(path, env, resolved), path)


def _play(
    player: Player,
    domain: str,
    options: Mapping[str, str],
    start: int,
    stop: int,
    seed: int,
    bar: Any = None,
) -> list[EpisodeSummary]:
    """Episodes start..stop-1 in this process (a Ray task runs exactly this)."""
    domain_class = load_domain(domain)
    make_domain = domain_factory(domain_class, options)
    episodes = play(
        lambda: MultiActorEnv(make_domain),
        policy_for(player.policy, seed, domain_class, player.model, sample=player.sample),
        range(start, stop),
        seed,
    )
    summaries = []
    for played in episodes:
        summaries.append(played.summary())
        if bar is not None:
            bar.update(1)
    return summaries


def _chunks(episodes: int, size: int) -> list[tuple[int, int]]:
    return [(start, min(start + size, episodes)) for start in range(0, episodes, size)]


@functools.cache
def _remote_play() -> Any:
    import ray

    return ray.remote(num_cpus=1)(_play)


def _on_ray(
    player: Player,
    domain: str,
    options: Mapping[str, str],
    episodes: int,
    seed: int,
    settings: RaySettings,
    chunk_episodes: int | None,
    bar: Any,
) -> list[EpisodeSummary]:
    with ray_session(settings) as session:
        import ray

        size = chunk_episodes or max(1, math.ceil(episodes / (session.cpus * CHUNKS_PER_CPU)))
        shipped = ray.put(player)  # one copy of the network for every chunk
        refs = {
            _remote_play().remote(shipped, domain, dict(options), start, stop, seed): start
            for start, stop in _chunks(episodes, size)
        }
        done: dict[int, list[EpisodeSummary]] = {}
        waiting = list(refs)
        while waiting:
            ready, waiting = ray.wait(waiting, num_returns=1)
            for ref in ready:
                chunk: list[EpisodeSummary] = ray.get(ref)
                done[refs[ref]] = chunk
                if bar is not None:
                    bar.update(len(chunk))
    return [result for start in sorted(done) for result in done[start]]


def _bar(show: bool, episodes: int) -> Any:
    if not show:
        return None
    from tqdm import tqdm

    # disable=None: the bar shows on a terminal only, never in logs or captured output.
    return tqdm(
        total=episodes,
        unit="ep",
        desc="episodes",
        dynamic_ncols=True,
        file=sys.stderr,
        disable=None,
        leave=False,
    )
