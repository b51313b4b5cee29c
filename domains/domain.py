"""The contract between a simulated world and the multi-actor Gymnasium env.

A domain is one folder under ``domains/``: a vocabulary module (names shared with the
painter), a simulation module with a :class:`Domain` subclass, and a painter module.
The generic :class:`~domains.env.MultiActorEnv` turns any domain into a Gymnasium
env for MaskablePPO.

Lifecycle of one episode, as the env drives it::

    deciders = domain.start(sim, recorder, rng)      # t = 0
    loop:
        actor = first actor waiting for a decision
        mask  = domain.legal_actions(actor)          # what the learner may pick
        domain.commit(actor, action)                 # immediate effects (reservations)
        sim.process(domain.perform(actor, action))   # effects over simulated time
        ... the simulation runs until a performed process ends (that actor decides
        again) or the horizon passes; every event due at the horizon is processed.
        reward = domain.collect_reward()             # earned since the last call
"""

from __future__ import annotations

import abc
from collections.abc import Generator, Sequence
from typing import Any, ClassVar

import numpy as np
import simpy
from gymnasium import spaces
from numpy.typing import NDArray

from domains.recorder import Recorder
from schemas.vocabulary import Vocabulary

Process = Generator[simpy.Event, Any, Any]
"""A SimPy process body: what one decision does over simulated time."""


class DomainError(RuntimeError):
    """A domain broke its contract (a bug in the domain, not in the caller's input)."""


class Domain(abc.ABC):
    """A simulated world with several actors that take decisions at different times."""

    domain_id: ClassVar[str]
    """Stable name of the domain, stored in models and tables (e.g. ``"factory"``)."""
    domain_version: ClassVar[int]
    """Raised whenever a rule changes, so old models and tables are told apart."""
    vocabulary: ClassVar[Vocabulary]
    """Actors, states and attributes this domain records."""
    decider_names: ClassVar[tuple[str, ...]]
    """Actors controlled by the policy, in action-space order."""
    action_names: ClassVar[tuple[tuple[str, ...], ...]]
    """Per decider, the names of its local actions (their count is the local action count)."""
    observation_space: ClassVar[spaces.Box]
    """Space of :meth:`observe` (the env appends the deciding actor's one-hot index)."""
    horizon: ClassVar[float]
    """Simulated seconds an episode lasts; events due exactly at the horizon still happen."""

    @abc.abstractmethod
    def start(
        self, sim: simpy.Environment, recorder: Recorder, rng: np.random.Generator
    ) -> Sequence[int]:
        """Build the world at time 0; return the deciders that need a decision now, in order."""

    @abc.abstractmethod
    def legal_actions(self, decider: int) -> NDArray[np.bool_]:
        """Mask over `decider`'s local actions; at least one entry must be True."""

    @abc.abstractmethod
    def commit(self, decider: int, action: int) -> None:
        """Apply what a legal decision changes at once (the next mask must already see it)."""

    @abc.abstractmethod
    def perform(self, decider: int, action: int) -> Process:
        """What the decision does over simulated time; when it returns, `decider` decides again."""

    @abc.abstractmethod
    def observe(self) -> NDArray[np.float32]:
        """The world now, as a vector in :attr:`observation_space`."""

    @abc.abstractmethod
    def collect_reward(self) -> float:
        """Reward earned by all actors since the previous call."""

    @abc.abstractmethod
    def kpis(self) -> dict[str, float]:
        """Key figures of the episode so far (e.g. ``{"finished_items": 28}``)."""
