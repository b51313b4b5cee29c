"""Any simreel domain as a PettingZoo ``AECEnv``: one agent per deciding actor.

PettingZoo's agent-environment-cycle (AEC) API steps one agent at a time, which is
how a simreel world asks for decisions: one actor at a time, whenever its last action
ends in simulated time. :class:`MultiActorAECEnv` wraps a
:class:`~domains.env.MultiActorEnv` (the one rollout core: the same stepping, seeding
and recording as training and ``simreel record``) and only translates:

* **agents** are the domain's deciders, named as the domain names them
  (``decider_names``; read from the instance, since options such as the cashier's
  ``dispatcher`` change who decides). Actors that follow fixed rules are not agents.
* **agent_selection** is the actor that must decide now: the first in the core
  env's first-come order (:attr:`~domains.env.MultiActorEnv.decider`). It need not
  cycle: one worker may decide several times before another decides once.
* **actions** are local: each agent has its own ``Discrete`` over its own actions
  (``action_names``); the adapter maps them to the core env's global index.
* **observations** are ``{"observation": ..., "action_mask": ...}``, the layout
  PettingZoo documents for legal-action masks. ``"observation"`` is exactly the core
  env's vector (the domain's observation, then the one-hot index of the deciding
  actor), so a policy reads the same numbers under either API. ``"action_mask"`` is
  an ``int8`` vector over the agent's local actions (``Discrete.sample(mask)`` takes
  it as is): the legal actions for the deciding agent, all zeros for every other
  agent and once the episode is over (nobody else may act now).
* **rewards** (cooperative): the domain earns one team reward between a decision and
  the next. After every step, *every* agent receives that step's team reward in
  ``rewards`` and accumulates it in ``_cumulative_rewards``, so ``last()`` gives the
  deciding agent the team reward earned since it last acted, and each agent's
  rewards over an episode sum to the episode's team return. Summing over agents
  counts the team return once per agent.
* **terminations and truncations** end all agents together: the episode ends for
  the whole world (horizon reached, or the domain ended it). Every agent is then
  visited once more and must step ``None``, as PettingZoo requires.

Seeding goes through ``reset(seed=...)`` to the core env's generator: the same seed
and the same actions give the same episode, bit for bit, and the same event table.
With ``record=True``, :attr:`MultiActorAECEnv.recorded_episode` holds the finished
episode and :func:`write_recording` writes episodes as an event table with the
provenance ``simreel record`` writes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any, Final, cast

import numpy as np
from gymnasium import spaces
from numpy.typing import NDArray

from domains.domain import Domain, DomainError
from domains.env import IllegalActionPolicy, MultiActorEnv
from domains.recorder import RecordedEpisode
from domains.registry import domain_factory, domain_package, load_domain, resolve_options
from schemas.errors import ConfigError
from schemas.events import write_events
from schemas.provenance import git_commit, library_versions, simreel_version

try:
    from pettingzoo import AECEnv  # type: ignore[import-untyped]
except ImportError as error:  # an optional extra: say how to get it
    raise ConfigError(
        f"the PettingZoo adapter needs pettingzoo ({error}); install the extra: "
        "pip install -e '.[pettingzoo]' (or pip install 'simreel[pettingzoo]')"
    ) from None

Observation = dict[str, NDArray[Any]]
"""``{"observation": float32 vector, "action_mask": int8 vector over local actions}``."""
RENDER_MODES: Final[tuple[str, ...]] = ("ansi",)
"""Text only: movies come from the recorded event table (``simreel render``)."""


class MultiActorAECEnv(AECEnv):
    """A simreel domain under PettingZoo's AEC API (see the module docstring).

    Args:
        domain: A domain id (``"factory"``; see :func:`~domains.registry.known_domains`)
            or a :class:`~domains.domain.Domain` subclass (also an unregistered one).
        options: The domain's variant, e.g. ``{"dispatcher": "automatic"}``; unset
            options take their defaults. ConfigError names a bad one.
        record: Record every episode; read it from :attr:`recorded_episode`.
        on_illegal: What a masked-out action does, as in
            :class:`~domains.env.MultiActorEnv`: ``"substitute"`` performs the
            agent's first legal action (``infos[agent]["illegal_action"]`` says so),
            ``"raise"`` raises :class:`~domains.env.IllegalActionError`.
        render_mode: None, or ``"ansi"``: :meth:`render` returns one line of text.
    """

    def __init__(
        self,
        domain: str | type[Domain] = "factory",
        options: Mapping[str, str] | None = None,
        *,
        record: bool = False,
        on_illegal: IllegalActionPolicy = "substitute",
        render_mode: str | None = None,
    ) -> None:
        super().__init__()
        domain_class = load_domain(domain) if isinstance(domain, str) else domain
        self.options: dict[str, str] = resolve_options(domain_class, options or {})
        """Every option of the domain with its value (defaults filled in)."""
        if render_mode is not None and render_mode not in RENDER_MODES:
            raise ConfigError(
                f"render_mode {render_mode!r} is not supported; use None or one of "
                f"{', '.join(RENDER_MODES)} (for pictures, record and run simreel render)"
            )
        self.render_mode = render_mode
        self.core = MultiActorEnv(
            domain_factory(domain_class, self.options), on_illegal=on_illegal, record=record
        )
        """The Gymnasium env that steps the simulation (read-only for callers)."""
        names = tuple(self.core.domain.decider_names)
        if len(set(names)) != len(names):
            raise DomainError(
                f"domain {domain_class.domain_id!r} declares decider names {names}; "
                "PettingZoo agents need unique names: rename the duplicates"
            )
        self.domain_class = domain_class
        self.metadata = {
            "render_modes": list(RENDER_MODES),
            "name": f"simreel_{domain_class.domain_id}_v{domain_class.domain_version}",
            "is_parallelizable": False,  # actors decide at different simulated times
        }
        self.possible_agents: list[str] = list(names)
        self._index = {name: i for i, name in enumerate(names)}
        self._offsets = tuple(self.core.global_action(i, 0) for i in range(len(names)))
        self._counts = tuple(len(actions) for actions in self.core.domain.action_names)
        core_space = cast(spaces.Box, self.core.observation_space)  # MultiActorEnv's Box
        # One space object per agent, returned as is (PettingZoo seeds spaces in place).
        self.observation_spaces = {
            name: spaces.Dict(
                {
                    "observation": spaces.Box(core_space.low, core_space.high, dtype=np.float32),
                    "action_mask": spaces.Box(0, 1, shape=(count,), dtype=np.int8),
                }
            )
            for name, count in zip(names, self._counts, strict=True)
        }
        self.action_spaces = {
            name: spaces.Discrete(count) for name, count in zip(names, self._counts, strict=True)
        }
        self.state_space = spaces.Box(
            self.core.domain.observation_space.low,
            self.core.domain.observation_space.high,
            dtype=np.float32,
        )
        self._vector: NDArray[np.float32] = np.zeros(core_space.shape, dtype=np.float32)
        self._seed: int | None = None

    # -- PettingZoo API -----------------------------------------------------------

    def observation_space(self, agent: str) -> spaces.Dict:
        return self.observation_spaces[agent]

    def action_space(self, agent: str) -> spaces.Discrete:
        return self.action_spaces[agent]

    def reset(self, seed: int | None = None, options: dict[str, Any] | None = None) -> None:
        """Start an episode; `seed` seeds the simulation (`options` is accepted and unused:
        the domain's variant is fixed by the constructor)."""
        self._vector, info = self.core.reset(seed=seed)
        self._seed = seed
        self.agents = list(self.possible_agents)
        self.rewards = dict.fromkeys(self.agents, 0.0)
        self._cumulative_rewards = dict.fromkeys(self.agents, 0.0)
        self.terminations = dict.fromkeys(self.agents, False)
        self.truncations = dict.fromkeys(self.agents, False)
        self.infos = {agent: _shared_info(info) for agent in self.agents}
        self.agent_selection = self._deciding_agent()

    def step(self, action: int | np.integer[Any] | None) -> None:
        """Perform the selected agent's local `action`; the next agent to decide is selected.

        Once the episode is over every agent is still selected once and must step None."""
        agent = self.agent_selection
        if self.terminations[agent] or self.truncations[agent]:
            self._was_dead_step(action)
            return
        if action is None:
            raise ValueError(
                f"agent {agent!r} must decide now; step(None) is only for finished agents "
                f"(pick one of its {self._counts[self._index[agent]]} local actions)"
            )
        local = int(action)
        decider = self._index[agent]
        if not 0 <= local < self._counts[decider]:
            raise ValueError(
                f"action ({local}) of agent {agent!r} must be in [0, {self._counts[decider]}): "
                f"a local action of its own action_space"
            )
        self._cumulative_rewards[agent] = 0.0
        vector, reward, terminated, truncated, info = self.core.step(self._offsets[decider] + local)
        self._vector = vector
        for other in self.agents:
            self.rewards[other] = float(reward)
            self.terminations[other] = bool(terminated)
            self.truncations[other] = bool(truncated)
            self.infos[other] = _shared_info(info)
        if info.get("illegal_action"):
            self.infos[agent]["illegal_action"] = True
        self._accumulate_rewards()
        if terminated or truncated:
            episode = self.core.recorded_episode
            if episode is not None:
                episode.seed = self._seed
            self.agent_selection = self.agents[0]
        else:
            self.agent_selection = self._deciding_agent()

    def observe(self, agent: str) -> Observation:
        """The core env's observation vector and `agent`'s mask over its local actions."""
        decider = self._index[agent]
        mask = np.zeros(self._counts[decider], dtype=np.int8)
        if self.core.decider == decider:
            offset = self._offsets[decider]
            mask[:] = self.core.action_masks()[offset : offset + self._counts[decider]]
        return {"observation": self._vector.copy(), "action_mask": mask}

    def state(self) -> NDArray[np.float32]:
        """The world as the domain observes it, without the deciding actor's index."""
        return np.asarray(self.core.domain.observe(), dtype=np.float32)

    def render(self) -> str | None:
        """With ``render_mode="ansi"``: the time, who decides and the KPIs, on one line."""
        if self.render_mode is None:
            return None
        decider = self.core.decider
        who = "episode over" if decider is None else f"{self.possible_agents[decider]} decides"
        kpis = ", ".join(f"{name} {value:g}" for name, value in self.core.domain.kpis().items())
        return f"t={self.core.sim_time:.1f}s: {who}" + (f"; {kpis}" if kpis else "")

    def close(self) -> None:
        self.core.close()

    # -- extras -------------------------------------------------------------------

    @property
    def recorded_episode(self) -> RecordedEpisode | None:
        """The finished episode's intervals, with the seed of its reset (only with
        ``record=True``, once every agent is terminated)."""
        return self.core.recorded_episode

    def _deciding_agent(self) -> str:
        decider = self.core.decider
        if decider is None:  # the core env raises before this: a started episode has one
            raise DomainError("no actor decides in a running episode")
        return self.possible_agents[decider]


def _shared_info(info: Mapping[str, Any]) -> dict[str, Any]:
    """What every agent learns after a step: the simulated time (and the KPIs at the end).

    The core env's decider index is left out: ``agent_selection`` names the decider."""
    return {key: value for key, value in info.items() if key in ("sim_time", "kpis")}


def write_recording(
    path: str | Path,
    env: MultiActorAECEnv,
    episodes: Sequence[RecordedEpisode],
    *,
    policy: Mapping[str, Any],
) -> Path:
    """Write episodes played through `env` (``record=True``) as one event table.

    The provenance is that of ``simreel record`` (policy, domain id, version and
    options, seed of the first episode, episode count, versions, commit, time), plus
    ``driver``: the PettingZoo API and version. `policy` describes who decided, e.g.
    ``{"kind": "random", "seed": 0}``. The rows equal those of the same episodes
    driven through :class:`~domains.env.MultiActorEnv` with the same seeds and actions.
    """
    if not episodes:
        raise ConfigError(
            "no episodes to write; play at least one episode with "
            "MultiActorAECEnv(..., record=True) and pass env.recorded_episode"
        )
    domain_class = env.domain_class
    provenance = {
        "policy": dict(policy),
        "domain": {
            "id": domain_class.domain_id,
            "version": domain_class.domain_version,
            "options": dict(env.options),
            "package": domain_package(domain_class.domain_id),
        },
        "seed": episodes[0].seed,
        "episodes": len(episodes),
        "driver": {"api": "pettingzoo.AECEnv", "pettingzoo": metadata.version("pettingzoo")},
        "simreel_version": simreel_version(),
        "git_commit": git_commit(),
        "library_versions": library_versions(),
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    return write_events(
        path,
        episodes,
        domain_id=domain_class.domain_id,
        domain_version=domain_class.domain_version,
        vocabulary=domain_class.vocabulary,
        provenance=provenance,
        domain_options=env.options,
    )
