"""Evaluation over many held-out episodes, split across Ray, the same figures bit for bit.

A stochastic domain needs thousands of episodes to tell two policies apart (the
cashier's rule: 2,000 for a mean reward good to ±0.026). :func:`evaluate` plays them
as chunks of consecutive episodes, each a Ray task (on a local Ray started for the
call, or a cluster: :mod:`stages.train.cluster`), and returns one
:class:`~schemas.events.EpisodeSummary` per episode, in episode order;
:func:`stages.episode_stats.kpi_stats` turns them into mean, spread, standard error,
minimum and maximum.

Episode k is reset with ``seed + k``, and a policy that draws (random, a sampled model)
draws from a generator seeded with ``(seed, k)`` alone: the conventions of ``simreel
record``, so the figures of an episode never depend on which process played it, how
the episodes were split, or how many ran before it. One process (``ray=None``) and any
number of chunks return the same summaries, bit for bit. A model's network runs on one
torch thread everywhere, so its arithmetic is the same in every process too.

:func:`play_episodes` is the loop both use, and train's periodic evaluation of the model
being trained (:mod:`stages.train.learner`) too.
"""

from __future__ import annotations

import contextlib
import functools
import math
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

from domains.env import MultiActorEnv
from domains.policies import FirstLegalPolicy, Policy, RandomLegalPolicy, episode_draw_seed
from domains.registry import domain_factory, load_domain, resolve_options
from schemas.errors import ConfigError
from schemas.events import EpisodeSummary
from stages.train.cluster import RaySettings, ray_session
from stages.train.model_card import ModelCard, default_model, load_model_card
from stages.train.model_policy import (
    ModelPolicy,
    SampledModelPolicy,
    load_policy,
    policy_from_bytes,
)

CHUNKS_PER_CPU: Final = 4
"""Chunks per CPU of the cluster: enough that a slow chunk does not hold up the end, and
that the progress bar moves; few enough that each task's set-up (a model load) is small."""
MAX_EPISODES: Final = 1_000_000
"""A guard against a typo (each episode is a full simulation)."""
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
class _Player:
    """A policy source made ready to ship: the model's bytes travel, not its path."""

    policy: str
    sample: bool
    model_path: Path | None = None
    model_bytes: bytes | None = None
    card: ModelCard | None = None


class _Predicting:
    """A model being trained, as a deterministic Policy (its masked argmax)."""

    def __init__(self, model: Any) -> None:
        self._model = model

    def act(self, observation: NDArray[np.float32], mask: NDArray[np.bool_]) -> int:
        action, _ = self._model.predict(observation, action_masks=mask, deterministic=True)
        return int(action)

    def describe(self) -> dict[str, Any]:
        return {"kind": "model", "training": True}


def predicting(model: Any) -> Policy:
    """A MaskablePPO model (e.g. the one being trained) as a deterministic Policy."""
    return _Predicting(model)


def play_episodes(
    env: MultiActorEnv,
    policy_for: Callable[[int], Policy],
    episodes: Iterable[int],
    seed: int,
) -> list[EpisodeSummary]:
    """Play episode k of `episodes` (reset with ``seed + k``, policy ``policy_for(k)``).

    The env need not record: the summaries carry KPIs, total reward and end time, and
    ``rows`` is 0 (no intervals were kept).
    """
    summaries = []
    for k in episodes:
        observation, _ = env.reset(seed=seed + k)
        policy = policy_for(k)
        total, done, info = 0.0, False, dict[str, Any]()
        while not done:
            action = policy.act(observation, env.action_masks())
            observation, reward, terminated, truncated, info = env.step(action)
            total += reward
            done = terminated or truncated
        summaries.append(
            EpisodeSummary(
                episode=k,
                seed=seed + k,
                total_reward=float(total),
                end_time=float(env.sim_time),
                rows=0,
                kpis={name: float(value) for name, value in info.get("kpis", {}).items()},
            )
        )
    return summaries


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
) -> list[EpisodeSummary]:
    """Play `episodes` episodes of `source` in `domain`; one summary per episode, in order.

    The episodes run as Ray tasks of `chunk_episodes` consecutive episodes each (None:
    about :data:`CHUNKS_PER_CPU` chunks per CPU of the cluster), on the Ray `ray` names
    (default: the one running, else ``$RAY_ADDRESS``, else a local Ray for this call);
    ``ray=None`` plays them all in this process. Either way the summaries are the same.
    A model is checked against the domain first (ModelError naming the problem).
    """
    domain_class = load_domain(domain)
    resolved = resolve_options(domain_class, options or {})
    _check(source, domain_class, episodes, seed, chunk_episodes)
    player = _prepare(source, domain, resolved)
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


def _prepare(source: PolicySource, domain: str, options: Mapping[str, str]) -> _Player:
    """Check a model against the domain here, once, and read its bytes to ship them."""
    if source.policy != "model":
        return _Player(source.policy, source.sample)
    path = Path(source.model) if source.model is not None else default_model(domain)
    env = MultiActorEnv(domain_factory(load_domain(domain), options))
    load_policy(path, env, options)  # ModelError if missing, changed or made for another env
    return _Player("model", source.sample, path, path.read_bytes(), load_model_card(path))


def _play(
    player: _Player,
    domain: str,
    options: Mapping[str, str],
    start: int,
    stop: int,
    seed: int,
    bar: Any = None,
) -> list[EpisodeSummary]:
    """Episodes start..stop-1 in this process (a Ray task runs exactly this)."""
    env = MultiActorEnv(domain_factory(load_domain(domain), options))
    policy_for = _policies(player, env, seed)
    summaries = []
    with _one_torch_thread(player.policy == "model"):
        for k in range(start, stop):
            summaries += play_episodes(env, policy_for, (k,), seed)
            if bar is not None:
                bar.update(1)
    return summaries


@contextlib.contextmanager
def _one_torch_thread(model: bool) -> Iterator[None]:
    """A model's network on one torch thread: the same arithmetic in every process."""
    if not model:
        yield
        return
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def _policies(player: _Player, env: MultiActorEnv, seed: int) -> Callable[[int], Policy]:
    """Episode k's policy; those that draw get a generator of their own per episode."""
    if player.policy == "random":
        return lambda k: RandomLegalPolicy(episode_draw_seed(seed, k))
    if player.policy == "first-legal":
        first_legal = FirstLegalPolicy()
        return lambda _k: first_legal
    if player.policy != "model":
        baseline = env.domain.baselines()[player.policy](env)
        return lambda _k: baseline
    if player.model_bytes is None or player.model_path is None or player.card is None:
        raise RuntimeError("a model player without its model")  # _prepare always sets them
    model: ModelPolicy = policy_from_bytes(player.model_bytes, player.model_path, player.card)
    if player.sample:
        return lambda k: SampledModelPolicy(model, episode_draw_seed(seed, k))
    return lambda _k: model


def _chunks(episodes: int, size: int) -> list[tuple[int, int]]:
    return [(start, min(start + size, episodes)) for start in range(0, episodes, size)]


@functools.cache
def _remote_play() -> Any:
    import ray

    return ray.remote(num_cpus=1)(_play)


def _on_ray(
    player: _Player,
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
        shipped = ray.put(player)  # one copy of the model for every chunk
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
    return [summary for start in sorted(done) for summary in done[start]]


def _bar(show: bool, episodes: int) -> Any:
    if not show:
        return None
    from tqdm import tqdm

    return tqdm(total=episodes, unit="ep", desc="episodes", dynamic_ncols=True, file=sys.stderr)
