"""Policies that pick a global action from an observation and the action mask.

A trained model (see ``stages.train.model_policy``) and the baselines here share one protocol,
so ``simreel record`` can run any of them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from domains.env import MultiActorEnv
    from domains.recorder import RecordedEpisode


def episode_draw_seed(seed: int, k: int) -> int:
    """The seed of episode k's draws (random legal or sampled actions) in a run seeded `seed`.

    Derived from (seed, k), so episode k draws the same actions however many episodes run
    and however they are split (``simreel record``, evaluation chunks on Ray).
    """
    return int(np.random.SeedSequence([seed, k]).generate_state(1)[0])


class Policy(Protocol):
    """Chooses the deciding actor's action."""

    def act(self, observation: NDArray[np.float32], mask: NDArray[np.bool_]) -> int:
        """A global action index whose entry in `mask` is True."""

    def describe(self) -> dict[str, Any]:
        """Provenance of the policy (kind, and for models: path and sha256)."""


class RandomLegalPolicy:
    """Picks uniformly among the legal actions, from its own seeded generator."""

    def __init__(self, seed: int | None = None) -> None:
        self._seed = seed
        self._rng = np.random.default_rng(seed)

    def act(self, observation: NDArray[np.float32], mask: NDArray[np.bool_]) -> int:
        return int(self._rng.choice(np.flatnonzero(mask)))

    def describe(self) -> dict[str, Any]:
        return {"kind": "random", "seed": self._seed}


class FirstLegalPolicy:
    """Always the lowest legal action (for the factory: every worker keeps working)."""

    def act(self, observation: NDArray[np.float32], mask: NDArray[np.bool_]) -> int:
        return int(np.flatnonzero(mask)[0])

    def describe(self) -> dict[str, Any]:
        return {"kind": "first-legal"}


def play_episode(env: MultiActorEnv, policy: Policy, *, seed: int) -> RecordedEpisode:
    """Play one episode of a recording env (``record=True``) and return what it recorded."""
    observation, _ = env.reset(seed=seed)
    done = False
    while not done:
        action = policy.act(observation, env.action_masks())
        observation, _, terminated, truncated, _ = env.step(action)
        done = terminated or truncated
    episode = env.recorded_episode
    if episode is None:  # the env records whenever record=True; this would be an env bug
        raise RuntimeError("the env finished an episode without recording it")
    episode.seed = seed
    return episode
