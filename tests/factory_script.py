"""Drive the factory env with scripted decisions and check who decides when."""

from __future__ import annotations

from dataclasses import dataclass, field

from domains.env import MultiActorEnv
from domains.factory.simulation import make_factory_env
from domains.recorder import RecordedEpisode

WORK = 0


def go(station: int) -> int:
    """Local action that walks to station `station`."""
    return 1 + station


@dataclass
class ScriptResult:
    env: MultiActorEnv
    decisions: list[tuple[float, int]] = field(default_factory=list)
    """(sim time, decider) of every decision taken."""
    total_reward: float = 0.0
    finished_items: float = -1.0
    episode: RecordedEpisode | None = None


def run_script(
    script: list[tuple[int, int]], *, then_work: bool = True, record: bool = True
) -> ScriptResult:
    """Play `script` as (decider, local action) pairs, each checked against the env's decider.

    When the script runs out, every further decision is `work` (if `then_work`).
    """
    env = make_factory_env(on_illegal="raise", record=record)
    env.reset(seed=0)
    result = ScriptResult(env=env)
    remaining = list(script)
    done = False
    while not done:
        decider = env.decider
        assert decider is not None
        if remaining:
            expected, action = remaining.pop(0)
            assert decider == expected, (
                f"at t={env.sim_time} decider {decider} decides, script expected {expected}"
            )
        elif then_work:
            action = WORK
        else:
            raise AssertionError(f"script ran out at t={env.sim_time}")
        result.decisions.append((env.sim_time, decider))
        _, reward, done, truncated, info = env.step(env.global_action(decider, action))
        assert not truncated
        result.total_reward += reward
    assert not remaining, f"episode ended with {len(remaining)} scripted decisions left"
    result.finished_items = info["kpis"]["finished_items"]
    result.episode = env.recorded_episode
    return result


def intervals(episode: RecordedEpisode, actor: str) -> list[tuple[str, float, float, dict]]:
    """(state, start, end, non-null attributes) of `actor`, in order (any domain)."""
    rows = []
    for i, name in enumerate(episode.actor):
        if name == actor:
            attributes = {k: v[i] for k, v in episode.attributes.items() if v[i] is not None}
            rows.append((episode.state[i], episode.start[i], episode.end[i], attributes))
    return rows
