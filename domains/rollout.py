"""The one rollout loop: play episodes of any policy, many side by side.

``simreel record``, ``simreel evaluate`` and training's periodic evaluation all play
episodes through :func:`play`. It keeps up to `width` envs in flight; at every step it
asks a trained network once for the logits of every env that a network policy plays
(one batched call instead of one call per env), and every other policy one observation
at a time. Episode k is reset with ``seed + k`` and gets its own policy from
``policy_for(k, env)``, so an episode's course depends on nothing but (seed, k) and the
policy: not on the width, on which episodes ran beside it, nor on the process that
played it (a network's rows are computed independently of each other, see
``stages.train.policy_network``).

Episodes come back in the order they were asked for, as soon as every earlier one has
finished, so a recording can be written while later episodes still play.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Final, cast

import numpy as np
from numpy.typing import NDArray

from domains.env import MultiActorEnv
from domains.policies import NetworkPolicy, PolicyFor
from domains.recorder import RecordedEpisode
from schemas.events import EpisodeSummary

DEFAULT_WIDTH: Final = 32
"""Envs in flight: wide enough that the network's per-call overhead is shared, small enough
that a recording keeps few finished episodes waiting for an earlier one."""


@dataclass(frozen=True)
class PlayedEpisode:
    """One finished episode: its figures, and its intervals when the env recorded."""

    episode: int
    """Index k of the episode in the run."""
    seed: int
    """The seed it was reset with (``seed + k``)."""
    total_reward: float
    """Sum of every reward the learner would have received."""
    end_time: float
    """Simulated time at which it ended."""
    decisions: int
    """Decisions taken (env steps)."""
    kpis: dict[str, float] = field(default_factory=dict)
    """The domain's KPIs at the end."""
    recorded: RecordedEpisode | None = None
    """Its intervals (None unless the envs record)."""

    def summary(self) -> EpisodeSummary:
        """The episode as record, evaluation and training's validation report it (``rows``
        counts its intervals: 0 when the env did not record)."""
        return EpisodeSummary(
            episode=self.episode,
            seed=self.seed,
            total_reward=self.total_reward,
            end_time=self.end_time,
            rows=0 if self.recorded is None else len(self.recorded),
            kpis=dict(self.kpis),
        )


@dataclass
class _Slot:
    env: MultiActorEnv
    episode: int = -1
    order: int = -1
    policy: Any = None
    observation: NDArray[np.float32] | None = None
    total_reward: float = 0.0
    decisions: int = 0


def play(
    make_env: Callable[[], MultiActorEnv],
    policy_for: PolicyFor,
    episodes: Iterable[int],
    seed: int,
    *,
    width: int = DEFAULT_WIDTH,
) -> Iterator[PlayedEpisode]:
    """Play `episodes` (episode k reset with ``seed + k``) and yield them in that order.

    `make_env` builds each of the up to `width` envs (with ``record=True`` to get the
    intervals); `policy_for` gives episode k's policy for the env playing it.
    """
    if width < 1:
        raise ValueError(f"width ({width}) must be at least 1")
    queue = iter(enumerate(episodes))
    free: list[MultiActorEnv] = []
    active: list[_Slot] = []
    finished: dict[int, PlayedEpisode] = {}
    next_order = 0
    made = 0
    exhausted = False
    while True:
        while not exhausted and len(active) < width:
            try:
                order, k = next(queue)
            except StopIteration:
                exhausted = True
                break
            if free:
                env = free.pop()
            else:
                env, made = make_env(), made + 1
            slot = _Slot(env, episode=k, order=order, policy=policy_for(k, env))
            slot.observation, _ = env.reset(seed=seed + k)
            active.append(slot)
        if not active:
            break
        for slot, action in zip(active, _actions(active), strict=True):
            observation, reward, terminated, truncated, info = slot.env.step(action)
            slot.observation = observation
            slot.total_reward += float(reward)
            slot.decisions += 1
            if terminated or truncated:
                finished[slot.order] = _played(slot, seed, info)
        still = []
        for slot in active:
            if slot.order in finished:
                free.append(slot.env)
            else:
                still.append(slot)
        active = still
        while next_order in finished:
            yield finished.pop(next_order)
            next_order += 1


def _actions(active: list[_Slot]) -> list[int]:
    """Every active env's action; network policies share one batched call per network."""
    actions: list[int | None] = [None] * len(active)
    masks = [slot.env.action_masks() for slot in active]
    groups: dict[int, list[int]] = {}
    for index, slot in enumerate(active):
        network = getattr(slot.policy, "network", None)
        if network is None:
            actions[index] = int(slot.policy.act(slot.observation, masks[index]))
        else:
            groups.setdefault(id(network), []).append(index)
    for indices in groups.values():
        policies: list[NetworkPolicy] = [active[i].policy for i in indices]
        observations = np.stack([cast(NDArray[np.float32], active[i].observation) for i in indices])
        logits = policies[0].network.logits(observations)
        for row, (index, policy) in enumerate(zip(indices, policies, strict=True)):
            actions[index] = policy.act_on_logits(logits[row], masks[index])
    return cast(list[int], actions)  # every index was set by one of the two loops


def _played(slot: _Slot, seed: int, info: dict[str, Any]) -> PlayedEpisode:
    recorded = slot.env.recorded_episode
    if recorded is not None:
        recorded.seed = seed + slot.episode
    return PlayedEpisode(
        episode=slot.episode,
        seed=seed + slot.episode,
        total_reward=slot.total_reward,
        end_time=float(slot.env.sim_time),
        decisions=slot.decisions,
        kpis={name: float(value) for name, value in info.get("kpis", {}).items()},
        recorded=recorded,
    )
