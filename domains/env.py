"""One Gymnasium env for every domain: several actors, one learner.

Gymnasium speaks to one agent. The env keeps a first-come list of actors waiting for
a decision and always asks the learner about the first of them:

* observation: the domain's observation followed by a one-hot vector of the
  deciding actor's index (all zeros once the episode is over);
* action space: one ``Discrete`` holding every decider's local actions, concatenated
  in decider order (decider 0's actions first);
* :meth:`MultiActorEnv.action_masks` (what MaskablePPO calls) enables only the
  deciding actor's legal local actions.

When nobody waits, the SimPy environment runs until some actor's process ends, the
domain ends the episode (:meth:`~domains.domain.Domain.episode_ended`: at once, in
the middle of other actors' actions) or the horizon passes. Every event due at the
horizon is processed; decisions are never asked at or after it. Because the horizon
bounds the run, an episode in which every actor is blocked ends instead of hanging.

Actors whose actions end at the same instant decide in the order in which they
started those actions (the earliest started first; at time 0, in the order the
domain's ``start`` returns): the env numbers every action it starts and keeps the
waiting actors in a heap by that number.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from functools import partial
from typing import Any, Literal, SupportsInt

import gymnasium as gym
import numpy as np
import simpy
from gymnasium import spaces
from numpy.typing import NDArray

from domains.domain import Domain, DomainError
from domains.recorder import EventRecorder, NullRecorder, RecordedEpisode, Recorder

IllegalActionPolicy = Literal["substitute", "raise"]


class IllegalActionError(ValueError):
    """The learner chose an action that is masked out (only raised with ``on_illegal="raise"``)."""


class MultiActorEnv(gym.Env[NDArray[np.float32], np.int64]):
    """Adapts any :class:`~domains.domain.Domain` to the Gymnasium API with action masks.

    Args:
        domain_factory: Builds a fresh domain for every episode (usually the class).
        on_illegal: What a masked-out action does. ``"substitute"`` (default, so any
            action of the space is accepted, as Gymnasium requires) performs the
            decider's first legal action instead and sets ``info["illegal_action"]``;
            ``"raise"`` raises :class:`IllegalActionError`.
        record: Record every episode's intervals; read them after the episode from
            :attr:`recorded_episode`.
    """

    metadata = {"render_modes": []}  # noqa: RUF012  (Gymnasium's declared attribute)

    def __init__(
        self,
        domain_factory: Callable[[], Domain],
        *,
        on_illegal: IllegalActionPolicy = "substitute",
        record: bool = False,
    ) -> None:
        if on_illegal not in ("substitute", "raise"):
            raise ValueError(f"on_illegal ({on_illegal!r}) must be 'substitute' or 'raise'")
        self._domain_factory = domain_factory
        self._on_illegal = on_illegal
        self._record = record
        self.domain: Domain = domain_factory()
        action_counts = [len(names) for names in self.domain.action_names]
        if (
            len(action_counts) != len(self.domain.decider_names)
            or min(action_counts, default=0) < 1
        ):
            raise DomainError(
                f"domain {self.domain.domain_id!r} declares "
                f"{len(self.domain.decider_names)} deciders but action names for "
                f"{len(action_counts)}; every decider needs at least one action"
            )
        self._action_counts = tuple(action_counts)
        self._action_offsets = tuple(int(x) for x in np.cumsum([0, *action_counts[:-1]]))
        self._n_deciders = len(action_counts)
        domain_space = self.domain.observation_space
        self.observation_space = spaces.Box(
            low=np.concatenate([domain_space.low, np.zeros(self._n_deciders, np.float32)]),
            high=np.concatenate([domain_space.high, np.ones(self._n_deciders, np.float32)]),
            dtype=np.float32,
        )
        self._n_actions = sum(action_counts)
        self.action_space = spaces.Discrete(self._n_actions)
        self._sim = simpy.Environment()
        self._waiting: list[tuple[int, int]] = []
        """Heap of (number of the action that ended, decider): who decides next comes first."""
        self._actions_started = 0
        self._end_time = 0.0
        self._decider: int | None = None
        self._legal = np.zeros(0, dtype=bool)
        self._recorder: Recorder = NullRecorder()
        self._episode: RecordedEpisode | None = None
        self._episode_reward = 0.0

    # -- Gymnasium API -------------------------------------------------------------

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[NDArray[np.float32], dict[str, Any]]:
        super().reset(seed=seed)
        self.domain = self._domain_factory()
        self._sim = sim = simpy.Environment()
        self._recorder = (
            EventRecorder(self.domain.vocabulary, lambda: sim.now)
            if self._record
            else NullRecorder()
        )
        self._episode = None
        self._episode_reward = 0.0
        first = list(self.domain.start(sim, self._recorder, self.np_random))
        self._waiting = [(number, decider) for number, decider in enumerate(first)]
        self._actions_started = len(first)
        self.domain.collect_reward()  # nothing done yet; drop set-up rewards, if any
        terminated = self._advance()
        if terminated:
            raise DomainError(f"domain {self.domain.domain_id!r} ended before its first decision")
        return self._observation(), self._info()

    def step(
        self, action: SupportsInt
    ) -> tuple[NDArray[np.float32], float, bool, bool, dict[str, Any]]:
        decider = self._decider
        if decider is None:
            raise gym.error.ResetNeeded(
                "step() was called on a finished episode; call reset() first"
            )
        global_action = int(action)
        if not 0 <= global_action < self._n_actions:
            raise ValueError(f"action ({global_action}) must be in [0, {self._n_actions})")
        local = global_action - self._action_offsets[decider]
        illegal = not (0 <= local < self._action_counts[decider]) or not self._legal[local]
        if illegal:
            if self._on_illegal == "raise":
                legal = [
                    self._action_offsets[decider] + int(i) for i in np.flatnonzero(self._legal)
                ]
                raise IllegalActionError(
                    f"action ({global_action}) is not legal for decider {decider} "
                    f"({self.domain.decider_names[decider]}); legal actions now: {legal}"
                )
            local = int(np.flatnonzero(self._legal)[0])
        heapq.heappop(self._waiting)
        self.domain.commit(decider, local)
        process = self._sim.process(self.domain.perform(decider, local))
        process.callbacks.append(partial(self._needs_decision, decider, self._actions_started))
        self._actions_started += 1
        terminated = self._advance()
        reward = self.domain.collect_reward()
        self._episode_reward += reward
        info = self._info()
        if illegal:
            info["illegal_action"] = True
        if terminated:
            info["kpis"] = self.domain.kpis()
            if self._episode is not None:
                self._episode.total_reward = self._episode_reward
        return self._observation(), reward, terminated, False, info

    def action_masks(self) -> NDArray[np.bool_]:
        """Legal global actions: only the deciding actor's legal local actions are True.

        Once the episode is over no actor decides; the mask then enables decider 0's
        first action so that masked distributions stay defined (the action is ignored).
        """
        mask = np.zeros(self._n_actions, dtype=np.bool_)
        if self._decider is None:
            mask[0] = True
        else:
            offset = self._action_offsets[self._decider]
            mask[offset : offset + len(self._legal)] = self._legal
        return mask

    # -- extras --------------------------------------------------------------------

    @property
    def decider(self) -> int | None:
        """Index of the actor that must decide now; None once the episode is over."""
        return self._decider

    @property
    def sim_time(self) -> float:
        """Current simulated time in seconds (once the episode is over: its end time)."""
        return self._end_time if self._decider is None else float(self._sim.now)

    @property
    def recorded_episode(self) -> RecordedEpisode | None:
        """The finished episode's intervals (only with ``record=True``, after it ended)."""
        return self._episode

    def global_action(self, decider: int, local_action: int) -> int:
        """The index in the action space of `decider`'s `local_action`."""
        return self._action_offsets[decider] + local_action

    # -- internals -----------------------------------------------------------------

    def _advance(self) -> bool:
        """Run the simulation until someone must decide; True once the episode is over."""
        sim, waiting, horizon, domain = self._sim, self._waiting, self.domain.horizon, self.domain
        end_time = float(horizon)
        while True:
            next_time = sim.peek()
            # Settle the whole current instant first, so the decider sees every
            # change due now (e.g. a buffer filled by another actor at this instant).
            if waiting and next_time > sim.now and sim.now < horizon:
                decider = waiting[0][1]
                legal = np.asarray(domain.legal_actions(decider), dtype=bool)
                if legal.shape != (self._action_counts[decider],) or not legal.any():
                    raise DomainError(
                        f"domain {domain.domain_id!r}: legal_actions({decider}) returned "
                        f"{legal!r}; expected {self._action_counts[decider]} booleans, one True"
                    )
                self._decider, self._legal = decider, legal
                return False
            if next_time > horizon:
                break
            sim.step()
            if domain.episode_ended():
                end_time = float(sim.now)
                break
        self._decider = None
        self._end_time = end_time
        if isinstance(self._recorder, EventRecorder):
            self._episode = self._recorder.finish(end_time)
            self._episode.kpis = domain.kpis()
        return True

    def _needs_decision(self, decider: int, action_number: int, _event: simpy.Event) -> None:
        heapq.heappush(self._waiting, (action_number, decider))

    def _observation(self) -> NDArray[np.float32]:
        who = np.zeros(self._n_deciders, dtype=np.float32)
        if self._decider is not None:
            who[self._decider] = 1.0
        return np.concatenate([self.domain.observe(), who])

    def _info(self) -> dict[str, Any]:
        if self._decider is None:
            return {"decider": -1, "sim_time": self._end_time}
        return {"decider": self._decider, "sim_time": float(self._sim.now)}
