"""Episodes played under watch: the checks of :func:`domains.check.check_domain` that play.

:func:`play_watched` plays one episode with the seeded random legal policy and checks,
as it goes, every mask the domain hands the env and every observation, and that the
episode ends within a number of decisions; :func:`episode_checks` then checks the rows
it recorded and its KPIs, and :func:`check_determinism` plays it again. Each failure is
a :class:`DomainCheckError` naming the check, the problem and the fix.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
from gymnasium import spaces
from numpy.typing import NDArray

from domains.domain import Domain
from domains.env import MultiActorEnv
from domains.policies import RandomLegalPolicy
from domains.recorder import RecordedEpisode, RecordingError
from schemas.errors import SimreelError
from schemas.vocabulary import Vocabulary

DECLARATION: Final = "declaration"
TRAINING_DEFAULTS: Final = "training defaults"
PLAY: Final = "play"
MASKS: Final = "masks"
OBSERVATIONS: Final = "observations"
EPISODES_END: Final = "episodes end"
VOCABULARY: Final = "vocabulary"
KPIS: Final = "kpis"
DETERMINISM: Final = "determinism"
GYMNASIUM: Final = "gymnasium"
PAINTER: Final = "painter"
CHECKS: Final = (
    DECLARATION,
    TRAINING_DEFAULTS,
    PLAY,
    MASKS,
    OBSERVATIONS,
    EPISODES_END,
    VOCABULARY,
    KPIS,
    DETERMINISM,
    GYMNASIUM,
    PAINTER,
)
"""Every check of :func:`~domains.check.check_domain`, in the order they run."""


_NAN: Final = "NaN"


class DomainCheckError(SimreelError):
    """A domain breaks its contract: the message names the domain, the check that failed,
    the problem and the fix.

    Exit code 1 on the command line (a failed check, like a failed test); mistakes in
    the command itself (an unknown domain or option) stay ConfigErrors, exit code 2.
    """

    exit_code = 1

    def __init__(self, check: str, problem: str, fix: str, *, subject: str = "") -> None:
        self.check = check
        """One of :data:`CHECKS`."""
        self.problem = problem
        self.fix = fix
        self.subject = subject
        """The domain and variant checked (empty until check_domain names it)."""
        about = f"{subject} fails the {check} check" if subject else f"the {check} check fails"
        super().__init__(f"{about}: {problem}; {fix}")

    def about(self, subject: str) -> DomainCheckError:
        """The same failure, naming `subject` (``ferry (weather=calm)``)."""
        return DomainCheckError(self.check, self.problem, self.fix, subject=subject)


@dataclass(frozen=True)
class WatchedEpisode:
    """One episode played by the check, with what it saw along the way."""

    seed: int
    draw_seed: int
    decisions: int
    episode: RecordedEpisode


def play_watched(
    factory: Callable[[], Domain],
    seed: int,
    draw_seed: int,
    max_decisions: int,
    *,
    record: bool = True,
) -> WatchedEpisode:
    """Play one episode with the random legal policy drawing from `draw_seed`, checking the
    masks and observations at every decision and that the episode ends."""
    decisions = 0

    def where() -> str:
        # Read while the env runs (the probe asks it mid-step), so `env` exists by then.
        return f"episode seed {seed}, after {decisions:,} decisions, t = {env.sim_time:g} s"

    env = MultiActorEnv(_probed(factory, where), record=record)
    policy = RandomLegalPolicy(draw_seed)
    try:
        observation, _ = env.reset(seed=seed)
        while True:
            _check_observation(env, observation, where())
            decider = env.decider
            if decider is None:
                break
            if decisions >= max_decisions:
                raise DomainCheckError(
                    EPISODES_END,
                    f"the episode of seed {seed} did not end within {max_decisions:,} "
                    f"decisions (simulated time {env.sim_time:g} s, horizon "
                    f"{env.domain.horizon:g} s)",
                    "every episode must end: make every action take simulated time (actions "
                    "that take none stop the clock short of the horizon), keep the horizon "
                    "finite, or end the episode with episode_ended()",
                )
            mask = env.action_masks()
            _check_global_mask(env, decider, mask, where())
            observation, _, terminated, truncated, _ = env.step(policy.act(observation, mask))
            decisions += 1
            if terminated or truncated:
                _check_observation(env, observation, f"episode seed {seed} at its end")
                break
    except DomainCheckError:
        raise
    except RecordingError as error:
        raise DomainCheckError(
            VOCABULARY,
            f"{where()}: the simulation recorded a row outside its vocabulary: {error}",
            "declare that actor, state or attribute in the vocabulary, or correct the name "
            "or value the simulation passes to recorder.enter",
        ) from error
    except Exception as error:  # the domain's own bug: say where it happened
        raise DomainCheckError(
            PLAY,
            f"{where()}: {type(error).__name__}: {error}",
            "fix the domain (the contract: domains/domain.py; call check_domain in a test "
            "to see the traceback)",
        ) from error
    episode = env.recorded_episode
    if episode is None:
        # Not recorded: only how it ended, to compare with a recorded run.
        episode = RecordedEpisode([], [], [], [], {}, end_time=env.sim_time)
        episode.kpis = env.domain.kpis()
    episode.seed = seed
    return WatchedEpisode(seed=seed, draw_seed=draw_seed, decisions=decisions, episode=episode)


def _probed(factory: Callable[[], Domain], where: Callable[[], str]) -> Callable[[], Domain]:
    """`factory`, whose domains check every mask before the env sees it; `where` says
    where the episode is, for the message."""

    def build() -> Domain:
        domain = factory()
        ask = domain.legal_actions

        def legal_actions(decider: int) -> NDArray[np.bool_]:
            mask = ask(decider)
            _check_local_mask(domain, decider, mask, where())
            return mask

        # An instance attribute: the env calls the probe, the class stays untouched.
        domain.legal_actions = legal_actions  # type: ignore[method-assign]
        return domain

    return build


def _check_local_mask(domain: Domain, decider: int, mask: object, where: str) -> None:
    names = domain.action_names[decider]
    who = f"{where}: legal_actions({decider}) of {domain.decider_names[decider]!r}"
    array = np.asarray(mask)
    if array.dtype != np.bool_ or array.shape != (len(names),):
        raise DomainCheckError(
            MASKS,
            f"{who} returned {array.dtype} of shape {array.shape}",
            f"return a boolean array of {len(names)} entries, one per action in action_names",
        )
    if not array.any():
        raise DomainCheckError(
            MASKS,
            f"{who} returned no legal action while a decision is due (all of "
            f"{', '.join(map(repr, names))} masked)",
            "a decider asked to decide needs a legal action: give it one that is always "
            "legal (such as 'wait'), or do not ask it until one is",
        )


def _check_global_mask(
    env: MultiActorEnv, decider: int, mask: NDArray[np.bool_], where: str
) -> None:
    first = env.global_action(decider, 0)
    own = np.zeros_like(mask)
    own[first : first + len(env.domain.action_names[decider])] = True
    if not mask.any() or (mask & ~own).any():
        raise DomainCheckError(
            MASKS,
            f"{where}: the mask {np.flatnonzero(mask).tolist()} is empty or enables actions "
            f"of another decider than {env.domain.decider_names[decider]!r}",
            "the env builds the mask from legal_actions(decider) alone: a simreel bug",
        )


def _check_observation(env: MultiActorEnv, observation: object, where: str) -> None:
    space = env.observation_space
    if not isinstance(space, spaces.Box):  # the env always builds a Box: a simreel bug
        raise TypeError(f"the env's observation_space is {space!r}, not a Box")
    if not isinstance(observation, np.ndarray) or observation.shape != space.shape:
        found = getattr(observation, "shape", type(observation).__name__)
        raise DomainCheckError(
            OBSERVATIONS,
            f"{where}: the observation has shape {found}, observation_space {space.shape}",
            "observe() must return as many values as observation_space declares",
        )
    if observation.dtype != space.dtype:
        raise DomainCheckError(
            OBSERVATIONS,
            f"{where}: the observation is {observation.dtype}, observation_space {space.dtype}",
            "observe() must return a float32 array",
        )
    outside = ~((observation >= space.low) & (observation <= space.high))
    if outside.any():
        index = int(np.flatnonzero(outside)[0])
        raise DomainCheckError(
            OBSERVATIONS,
            f"{where}: observe()[{index}] is {float(observation[index]):g}, outside "
            f"[{space.low[index]:g}, {space.high[index]:g}] of observation_space",
            "clip or scale the value, or widen observation_space (the learner is told "
            "values stay inside it)",
        )


def episode_checks(
    domain_class: type[Domain], played: list[WatchedEpisode]
) -> list[tuple[str, str]]:
    """Check the rows and KPIs of the played episodes; the detail lines of the checks that
    ran while they were played (masks, observations, episodes end) and of these."""
    vocabulary = domain_class.vocabulary
    rows = instances = 0
    for one in played:
        _check_rows(vocabulary, one)
        _check_kpis(domain_class, one)
        rows += len(one.episode)
        instances += len({a for a in one.episode.actor if vocabulary.kind_of(a) is not None})
    decisions = sum(one.decisions for one in played)
    longest = max(one.decisions for one in played)
    ends = ", ".join(f"{one.episode.end_time:g}" for one in played)
    count = f"{len(played)} episode{'s' if len(played) != 1 else ''}"
    return [
        (PLAY, f"{count} played to their end without an error"),
        (MASKS, f"{decisions:,} decisions over {count}: never empty, only the decider's"),
        (OBSERVATIONS, f"{decisions + len(played):,} observations inside observation_space"),
        (EPISODES_END, f"ended at t = {ends} s, after at most {longest:,} decisions"),
        (VOCABULARY, f"{rows:,} rows ({instances:,} short-lived instances), all declared"),
        (KPIS, f"{', '.join(domain_class.kpi_names) or 'none'}, as kpi_names declares"),
    ]


def _check_rows(vocabulary: Vocabulary, played: WatchedEpisode) -> None:
    episode = played.episode
    for row, (actor, state, start, end) in enumerate(
        zip(episode.actor, episode.state, episode.start, episode.end, strict=True)
    ):
        where = f"episode seed {played.seed}, row {row} ({actor!r} in {state!r})"
        try:
            declaration = vocabulary.declaration(actor)
        except KeyError as error:
            problem = f"{where}: {error.args[0]}"
            raise DomainCheckError(VOCABULARY, problem, "declare the actor") from None
        if state not in declaration.states:
            raise DomainCheckError(
                VOCABULARY,
                f"{where}: {state!r} is not one of its states {declaration.states}",
                "declare the state",
            )
        if not 0.0 <= start <= end <= episode.end_time:
            raise DomainCheckError(
                VOCABULARY,
                f"{where}: the interval {start:g}..{end:g} s is not inside the episode "
                f"(0..{episode.end_time:g} s)",
                "record only at simulated times of the episode",
            )
    undeclared = sorted(set(episode.attributes) - set(vocabulary.attribute_names))
    if undeclared:
        raise DomainCheckError(
            VOCABULARY, f"rows carry undeclared attributes {undeclared}", "declare them"
        )


def _check_kpis(domain_class: type[Domain], played: WatchedEpisode) -> None:
    found = {str(name): value for name, value in played.episode.kpis.items()}
    declared = tuple(domain_class.kpi_names)
    if set(found) != set(declared):
        missing = sorted(set(declared) - set(found))
        extra = sorted(set(found) - set(declared))
        raise DomainCheckError(
            KPIS,
            f"episode seed {played.seed}: kpis() returned {sorted(found)}, kpi_names declares "
            f"{list(declared)} (missing {missing}, not declared {extra})",
            "return exactly the names in kpi_names from kpis(), or declare them there",
        )
    for name, value in found.items():
        if isinstance(value, bool) or not isinstance(value, int | float | np.number):
            raise DomainCheckError(
                KPIS,
                f"episode seed {played.seed}: KPI {name!r} is {value!r}",
                "return a number per KPI",
            )
        if not math.isfinite(float(value)):
            raise DomainCheckError(
                KPIS,
                f"episode seed {played.seed}: KPI {name!r} is {value!r}",
                "return a finite number per KPI",
            )


def check_determinism(
    factory: Callable[[], Domain], first: WatchedEpisode, max_decisions: int
) -> str:
    fix = (
        "draw every random number from the rng that start() receives (not numpy's global "
        "np.random, the random module or a generator of your own), and keep no state "
        "between episodes in class attributes or module globals"
    )
    again = play_watched(factory, first.seed, first.draw_seed, max_decisions)
    difference = _first_difference(first.episode, again.episode)
    if difference is not None:
        raise DomainCheckError(
            DETERMINISM,
            f"the seed {first.seed} and the same decisions gave two different episodes: "
            f"{difference}",
            fix,
        )
    quiet = play_watched(factory, first.seed, first.draw_seed, max_decisions, record=False)
    recorded, unrecorded = first.episode, quiet.episode
    if (recorded.end_time, _plain(recorded.kpis)) != (unrecorded.end_time, _plain(unrecorded.kpis)):
        raise DomainCheckError(
            DETERMINISM,
            f"recording changes the episode of seed {first.seed}: recorded, it ends at "
            f"{recorded.end_time:g} s with {_plain(recorded.kpis)}; unrecorded (as in "
            f"training) at {unrecorded.end_time:g} s with {_plain(unrecorded.kpis)}",
            "the simulation must behave the same whatever recorder start() receives: only "
            "tell the recorder what happened",
        )
    return f"the episode of seed {first.seed} twice: the same {len(first.episode):,} rows"


def _plain(kpis: Mapping[str, float]) -> dict[str, float]:
    return {str(name): float(value) for name, value in kpis.items()}


def _first_difference(a: RecordedEpisode, b: RecordedEpisode) -> str | None:
    columns = sorted(set(a.attributes) | set(b.attributes))
    for row in range(max(len(a), len(b))):
        rows = [_row(episode, row, columns) for episode in (a, b)]
        if rows[0] != rows[1]:
            return f"row {row} is {rows[0]} the first time, {rows[1]} the second"
    if a.end_time != b.end_time:
        return f"the episode ends at {a.end_time:g} s the first time, {b.end_time:g} s the second"
    if _plain(a.kpis) != _plain(b.kpis):
        return f"the KPIs are {_plain(a.kpis)} the first time, {_plain(b.kpis)} the second"
    return None


def _row(episode: RecordedEpisode, row: int, columns: list[str]) -> tuple[Any, ...] | str:
    if row >= len(episode):
        return "missing"
    values = [episode.attributes.get(name, [None] * len(episode))[row] for name in columns]
    # NaN never equals itself: compare it as a word, or a repeatable NaN looks random.
    values = [_NAN if isinstance(v, float) and math.isnan(v) else v for v in values]
    return (episode.actor[row], episode.state[row], episode.start[row], episode.end[row], *values)
