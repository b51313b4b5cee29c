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

A decision's process body runs as a SimPy process would, event for event, but is not
a ``simpy.Process`` (see :class:`_Decision`): it cannot be interrupted, and
``sim.active_process`` is None while it runs. Processes a domain starts itself are
ordinary SimPy processes.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, SupportsInt

import gymnasium as gym
import numpy as np
import simpy
from gymnasium import spaces
from numpy.typing import NDArray

from domains.domain import Domain, DomainError, Process
from domains.recorder import EventRecorder, NullRecorder, RecordedEpisode, Recorder

IllegalActionPolicy = Literal["substitute", "raise"]


_CHOICES_CACHE_SIZE = 4096
"""Distinct (decider, mask) pairs remembered; a domain with huge action spaces may see more."""


class IllegalActionError(ValueError):
    """The learner chose an action that is masked out (only raised with ``on_illegal="raise"``)."""


@dataclass(frozen=True)
class _Choices:
    """What one decider may do under one mask, worked out once per distinct mask: domains
    return few distinct masks, and checking and widening one at every decision took a
    tenth of the decision's time."""

    legal: tuple[bool, ...]
    """Per local action, whether it is legal."""
    first_legal: int
    """The local action substituted for an illegal one."""
    global_mask: NDArray[np.bool_]
    """The mask over the whole action space (read-only: action_masks hands out copies)."""


class _Decision:
    """Runs one decision's process body (what :meth:`~domains.domain.Domain.perform`
    returns) on the SimPy environment, and puts the decider back in line when it ends.

    It resumes the body exactly as ``simpy.Process`` would, but without the process's
    own two events, which cost about a tenth of a decision: one that starts the body
    first thing at the current instant (here the env starts it at once), and one at the
    instant the body ends whose callback would put the decider in line (here the body's
    end does). Neither is observable, since the env asks for a decision only once the
    current instant is settled.
    """

    __slots__ = ("_body", "_entry", "_resume_callback", "_waiting")

    def __init__(self, body: Process, waiting: list[tuple[int, int]], entry: tuple[int, int]):
        self._body = body
        self._waiting = waiting
        self._entry = entry
        """(number of the action, decider): the decider's place in line once it ends."""
        self._resume_callback = self._resume  # one bound method for every event waited on

    def start(self, sim: simpy.Environment) -> bool:
        """Run the body up to its first wait now; True if it ran.

        False when an urgent event is due now (``commit`` started a process, say): SimPy
        would start the body after it, so a ``simpy.Process`` runs the body instead.
        """
        queue = sim._queue
        if queue and queue[0][0] == sim._now and queue[0][1] == simpy.core.URGENT:
            sim.process(self._body).callbacks.append(self._ended)
            return False
        self._resume(None)
        return True

    def _resume(self, event: simpy.Event | None) -> None:
        """Send the event's value into the body (None: start it), as simpy.Process does."""
        body = self._body
        try:
            while True:
                if event is None:
                    waited_for = body.send(None)
                elif event._ok:
                    waited_for = body.send(event._value)
                else:
                    # Like simpy.Process: the body gets its own copy of the failure and
                    # handles it, or fails itself.
                    event._defused = True
                    failure = type(event._value)(*event._value.args)
                    failure.__cause__ = event._value
                    waited_for = body.throw(failure)
                try:
                    callbacks = waited_for.callbacks
                except AttributeError:
                    raise DomainError(
                        f"a decision's process yielded {waited_for!r}, not a SimPy event"
                    ) from None
                if callbacks is not None:  # not processed yet: wait for it
                    callbacks.append(self._resume_callback)
                    return
                event = waited_for  # already processed: go on at once with its value
        except StopIteration:
            heapq.heappush(self._waiting, self._entry)

    def _ended(self, _process: simpy.Event) -> None:
        heapq.heappush(self._waiting, self._entry)


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
        self._choices: _Choices | None = None
        """The decider's legal actions (None once the episode is over)."""
        self._choices_cache: dict[tuple[int, tuple[int, ...], bytes], _Choices] = {}
        self._done_mask = np.zeros(self._n_actions, dtype=np.bool_)
        self._done_mask[0] = True
        self._done_mask.flags.writeable = False
        # The deciding actor's one-hot index, per decider, and all zeros once it is over.
        self._who = [
            np.zeros(self._n_deciders, dtype=np.float32) for _ in range(1 + self._n_deciders)
        ]
        for decider, who in enumerate(self._who[: self._n_deciders]):
            who[decider] = 1.0
        for who in self._who:
            who.flags.writeable = False
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
        decider, choices = self._decider, self._choices
        if decider is None or choices is None:
            raise gym.error.ResetNeeded(
                "step() was called on a finished episode; call reset() first"
            )
        global_action = int(action)
        if not 0 <= global_action < self._n_actions:
            raise ValueError(f"action ({global_action}) must be in [0, {self._n_actions})")
        local = global_action - self._action_offsets[decider]
        illegal = not (0 <= local < len(choices.legal)) or not choices.legal[local]
        if illegal:
            if self._on_illegal == "raise":
                offset = self._action_offsets[decider]
                legal = [offset + i for i, ok in enumerate(choices.legal) if ok]
                raise IllegalActionError(
                    f"action ({global_action}) is not legal for decider {decider} "
                    f"({self.domain.decider_names[decider]}); legal actions now: {legal}"
                )
            local = choices.first_legal
        heapq.heappop(self._waiting)
        domain = self.domain
        domain.commit(decider, local)
        number = self._actions_started
        self._actions_started = number + 1
        decision = _Decision(domain.perform(decider, local), self._waiting, (number, decider))
        terminated = self._advance(decision)
        reward = domain.collect_reward()
        self._episode_reward += reward
        info = self._info()
        if illegal:
            info["illegal_action"] = True
        if terminated:
            info["kpis"] = domain.kpis()
            if self._episode is not None:
                self._episode.total_reward = self._episode_reward
        return self._observation(), reward, terminated, False, info

    def action_masks(self) -> NDArray[np.bool_]:
        """Legal global actions: only the deciding actor's legal local actions are True.

        Once the episode is over no actor decides; the mask then enables decider 0's
        first action so that masked distributions stay defined (the action is ignored).
        """
        # A copy: the caller may keep or change it.
        if self._choices is None:
            return self._done_mask.copy()
        return self._choices.global_mask.copy()

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

    def _advance(self, decision: _Decision | None = None) -> bool:
        """Start `decision`, if any, and run the simulation until someone must decide;
        True once the episode is over."""
        sim, waiting, horizon, domain = self._sim, self._waiting, self.domain.horizon, self.domain
        end_time = float(horizon)
        # Most domains never end early; skipping the call after each event saves time.
        ends_early = type(domain).episode_ended is not Domain.episode_ended
        # SimPy's event queue, read directly: sim.peek() and sim.now, inlined, cost a
        # noticeable share of a decision (simpy is pinned to 4.1.2 in pyproject.toml).
        queue = sim._queue
        ended = (
            decision is not None and decision.start(sim) and ends_early and domain.episode_ended()
        )
        while not ended:
            next_time = queue[0][0] if queue else math.inf
            now = sim._now
            # Settle the whole current instant first, so the decider sees every
            # change due now (e.g. a buffer filled by another actor at this instant).
            if waiting and next_time > now and now < horizon:
                decider = waiting[0][1]
                self._decider = decider
                self._choices = self._choices_for(decider, domain.legal_actions(decider))
                return False
            if next_time > horizon:
                break
            sim.step()
            ended = ends_early and domain.episode_ended()
        if ended:
            end_time = float(sim.now)
        self._decider = self._choices = None
        self._end_time = end_time
        if isinstance(self._recorder, EventRecorder):
            self._episode = self._recorder.finish(end_time)
            self._episode.kpis = domain.kpis()
        return True

    def _choices_for(self, decider: int, legal_actions: NDArray[np.bool_]) -> _Choices:
        """Check a mask the domain returned and widen it to the action space (cached)."""
        legal = np.asarray(legal_actions, dtype=bool)
        key = (decider, legal.shape, legal.tobytes())
        choices = self._choices_cache.get(key)
        if choices is not None:
            return choices
        if legal.shape != (self._action_counts[decider],) or not legal.any():
            raise DomainError(
                f"domain {self.domain.domain_id!r}: legal_actions({decider}) returned "
                f"{legal!r}; expected {self._action_counts[decider]} booleans, one True"
            )
        global_mask = np.zeros(self._n_actions, dtype=np.bool_)
        offset = self._action_offsets[decider]
        global_mask[offset : offset + len(legal)] = legal
        global_mask.flags.writeable = False
        flags = tuple(bool(ok) for ok in legal)
        choices = _Choices(legal=flags, first_legal=flags.index(True), global_mask=global_mask)
        if len(self._choices_cache) >= _CHOICES_CACHE_SIZE:
            self._choices_cache.clear()
        self._choices_cache[key] = choices
        return choices

    def _observation(self) -> NDArray[np.float32]:
        who = self._who[-1 if self._decider is None else self._decider]
        return self.domain.observe_with(who)

    def _info(self) -> dict[str, Any]:
        if self._decider is None:
            return {"decider": -1, "sim_time": self._end_time}
        return {"decider": self._decider, "sim_time": float(self._sim.now)}
