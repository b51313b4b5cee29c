"""The contract between a simulated world and the multi-actor Gymnasium env.

A domain is a vocabulary module (names shared with the painter), a simulation module
with a :class:`Domain` subclass, and a painter module: a folder under ``domains/``, or a
package of its own registered through the ``simreel.domains`` entry points (the guide:
``docs/your-own-domain.md``; check one with :func:`domains.check.check_domain`). The
generic :class:`~domains.env.MultiActorEnv` turns any domain into a Gymnasium env for
MaskablePPO.

Lifecycle of one episode, as the env drives it::

    deciders = domain.start(sim, recorder, rng)      # t = 0
    loop:
        actor = first actor waiting for a decision
        mask  = domain.legal_actions(actor)          # what the learner may pick
        domain.commit(actor, action)                 # immediate effects (reservations)
        sim.process(domain.perform(actor, action))   # effects over simulated time
        ... the simulation runs until a performed process ends (that actor decides
        again), the domain ends the episode (:meth:`Domain.episode_ended`), or the
        horizon passes; every event due at the horizon is processed.
        reward = domain.collect_reward()             # earned since the last call

Decisions due at the same instant are asked in the order in which the deciders
started the actions that have just ended (the earliest started first); at time 0 in
the order :meth:`Domain.start` returns.

Randomness: every random draw of a domain comes from the ``rng`` handed to
:meth:`Domain.start` (the env's seeded generator), so the same seed and the same
decisions give the same episode, bit for bit.

Actors that are not deciders (an automatic dispatcher) are SimPy processes the
domain starts itself in :meth:`Domain.start`; they act by their own rules beside the
deciders. A domain's variants are :attr:`Domain.options`, passed to its constructor
as keyword arguments.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Generator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import simpy
from gymnasium import spaces
from numpy.typing import NDArray

from domains.recorder import Recorder
from schemas.vocabulary import Vocabulary

if TYPE_CHECKING:
    from domains.env import MultiActorEnv
    from domains.policies import Policy

Process = Generator[simpy.Event, Any, Any]
"""A SimPy process body: what one decision does over simulated time."""

BaselineFactory = Callable[["MultiActorEnv"], "Policy"]
"""Builds a rule-based policy that plays the given env (it may read the env's domain)."""


@dataclass(frozen=True)
class DomainOption:
    """One switch between variants of a domain's rules (e.g. who dispatches customers)."""

    name: str
    """Keyword argument of the domain's constructor, and the key in cards and tables."""
    choices: tuple[str, ...]
    """Allowed values; the first is the default."""
    description: str
    """What the option changes, for ``--help`` and error messages."""


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
    decider_names: tuple[str, ...]
    """Actors controlled by the policy, in action-space order (a class attribute, or set by
    the constructor when an option changes who decides)."""
    action_names: tuple[tuple[str, ...], ...]
    """Per decider, the names of its local actions (their count is the local action count)."""
    observation_space: ClassVar[spaces.Box]
    """Space of :meth:`observe` (the env appends the deciding actor's one-hot index)."""
    horizon: ClassVar[float]
    """Simulated seconds an episode lasts at most; events due exactly at the horizon happen."""
    options: ClassVar[tuple[DomainOption, ...]] = ()
    """The variants the constructor accepts as keyword arguments (none by default).

    ``decider_names`` and ``action_names`` may depend on them: the constructor then sets
    them on the instance."""
    kpi_names: ClassVar[tuple[str, ...]] = ()
    """The keys :meth:`kpis` returns, in display order."""
    training_defaults: ClassVar[Mapping[str, Any]] = {}
    """Settings of ``simreel train`` that suit this domain better than the generic ones, by
    ``TrainConfig`` field name (e.g. more evaluation episodes for a stochastic domain, or
    the KPI to keep the best model by). ``TrainConfig.for_domain`` applies them under the
    user's own; a model's card stores the settings it was made with in full."""
    shipped_models: ClassVar[Path | None] = None
    """A folder of default models the domain's package ships (None: none): ``model.zip``
    and its card in ``<folder>/<option values>/`` per variant (``<folder>/`` without
    options). ``record`` and ``evaluate`` play it when given no --model; without one they
    play what a bare ``simreel train --domain <id>`` writes in the working folder."""

    @abc.abstractmethod
    def start(
        self, sim: simpy.Environment, recorder: Recorder, rng: np.random.Generator
    ) -> Sequence[int]:
        """Build the world at time 0; return the deciders that need a decision now, in order.

        `sim` is the episode's SimPy environment; `recorder` takes every state change
        (a ``NullRecorder`` that does nothing while training). `rng` is the env's seeded
        generator (Gymnasium's ``np_random``, seeded by ``reset(seed=...)``): draw every
        random number of the episode from it, never from numpy's global state, the
        ``random`` module or a generator of the domain's own, so that the same seed and
        the same decisions give the same episode. Start actors that follow fixed rules
        here as SimPy processes (``sim.process(...)``)."""

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

    def observe_with(self, suffix: NDArray[np.float32]) -> NDArray[np.float32]:
        """:meth:`observe` followed by `suffix`, as one new array: what the env hands the
        learner at every step (the suffix is the deciding actor's one-hot index).

        The default joins the two. A domain may override it to build both at once, which
        saves a copy per decision; the result must be the default's, bit for bit."""
        return np.concatenate([self.observe(), suffix])

    @abc.abstractmethod
    def collect_reward(self) -> float:
        """Reward earned by all actors since the previous call."""

    @abc.abstractmethod
    def kpis(self) -> dict[str, float]:
        """Key figures of the episode so far (e.g. ``{"finished_items": 28}``)."""

    def episode_ended(self) -> bool:
        """True once a domain event has ended the episode before the horizon (a lane
        overran). The env checks it after every simulation event and stops at that
        instant, in the middle of other actors' actions. Default: never."""
        return False

    @classmethod
    def baselines(cls) -> Mapping[str, BaselineFactory]:
        """Rule-based policies by name, offered by ``simreel record --policy NAME``.

        Override it to ship a yardstick for trained models (default: none)."""
        return {}
