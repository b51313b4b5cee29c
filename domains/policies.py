"""Policies that pick a global action from an observation and the action mask.

A trained model (see ``stages.train.model_policy``) and the baselines here share one protocol,
so ``simreel record`` can run any of them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from domains.domain import Domain
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


class LogitsNetwork(Protocol):
    """A trained network that scores every action of many observations at once."""

    def logits(self, observations: NDArray[np.floating[Any]]) -> NDArray[np.float64]:
        """One row of action logits per observation row; each row independent of the others."""


class NetworkPolicy(Policy, Protocol):
    """A policy that decides from its network's logits: the rollout batches such policies.

    Several episodes' policies may share one network (:func:`domains.rollout.play` then asks
    it once per step for all of them) and still decide apart, e.g. each drawing from its own
    generator.
    """

    @property
    def network(self) -> LogitsNetwork:
        """The network whose logits :meth:`act_on_logits` takes."""

    def act_on_logits(self, logits: NDArray[np.float64], mask: NDArray[np.bool_]) -> int:
        """The action for one observation, given its row of logits and its mask."""


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


PolicyFor = Callable[[int, "MultiActorEnv"], Policy]
"""Episode k's policy, given the env that plays it (a rule reads that env's store)."""

EPISODE_SEED_RULE = "numpy SeedSequence([seed, episode]).generate_state(1)[0]"
"""How a drawing policy's per-episode seed is made (:func:`episode_draw_seed`), for provenance."""


def baseline_policy_for(kind: str, seed: int, domain_class: type[Domain]) -> PolicyFor:
    """Episode k's policy for a policy that needs no model: ``random``, ``first-legal`` or
    one of the domain's baselines (KeyError for another name; callers validate first)."""
    if kind == "random":
        return lambda k, _env: RandomLegalPolicy(episode_draw_seed(seed, k))
    if kind == "first-legal":
        first_legal = FirstLegalPolicy()
        return lambda _k, _env: first_legal
    baseline = domain_class.baselines()[kind]
    # A baseline reads the store of the env it plays, so each episode gets its own.
    return lambda _k, env: baseline(env)


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
