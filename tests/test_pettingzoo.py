"""The PettingZoo adapter: the AEC API on every shipped domain and variant, agents,
masks, rewards, seeding, and event tables equal to those of ``simreel record``."""

from __future__ import annotations

import itertools
import re
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from domains.env import IllegalActionError, MultiActorEnv
from domains.pettingzoo import MultiActorAECEnv, write_recording
from domains.policies import play_episode
from domains.registry import domain_factory, known_domains, load_domain
from schemas.errors import ConfigError
from schemas.events import read_events
from stages.record import RecordConfig, record

with warnings.catch_warnings():
    # pettingzoo.test loads its example board games through a deprecated helper.
    warnings.simplefilter("ignore", DeprecationWarning)
    from pettingzoo.test import api_test, seed_test

README = Path(__file__).resolve().parents[1] / "README.md"


def _variants() -> list[tuple[str, dict[str, str]]]:
    """Every installed domain with every combination of its options' values."""
    found = []
    for domain_id in known_domains():
        options = load_domain(domain_id).options
        for values in itertools.product(*(option.choices for option in options)):
            found.append((domain_id, {o.name: v for o, v in zip(options, values, strict=True)}))
    return found


VARIANTS = _variants()
VARIANT_IDS = [domain + "".join(f"-{v}" for v in opts.values()) for domain, opts in VARIANTS]
EXPECTED_API_WARNINGS = (
    # The dict observation PettingZoo documents for masks; its checker warns about
    # every dict observation of an env outside its own list of board games.
    "Observation is not a NumPy array",
    "Observation space for each agent probably should be",
    # Agents keep the domain's names (worker0, slow, dispatcher).
    "We recommend agents to be named",
    # The mask's length is the agent's own action count (the cashier's dispatcher).
    "Agents have different observation space sizes",
)


def _random_episode(env: MultiActorAECEnv, seed: int, policy_seed: int) -> list[tuple[str, int]]:
    """Play one episode with uniformly random legal actions; the (agent, action) pairs."""
    env.reset(seed=seed)
    rng = np.random.default_rng(policy_seed)
    played = []
    for agent in env.agent_iter():
        observation, _, terminated, truncated, _ = env.last()
        if terminated or truncated:
            env.step(None)
            continue
        action = int(rng.choice(np.flatnonzero(observation["action_mask"])))
        played.append((agent, action))
        env.step(action)
    return played


def test_the_variants_cover_every_domain_and_option_value() -> None:
    assert {domain for domain, _ in VARIANTS} == set(known_domains()) >= {"factory", "cashier"}
    assert {"dispatcher": "automatic"} in [opts for domain, opts in VARIANTS if domain == "cashier"]


@pytest.mark.parametrize(("domain", "options"), VARIANTS, ids=VARIANT_IDS)
def test_pettingzoo_api_test_passes(domain: str, options: dict[str, str]) -> None:
    env = _CountingDeadSteps(domain, options)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        # Enough cycles for whole episodes: the play test then checks termination too.
        api_test(env, num_cycles=500)
    unexpected = {
        str(w.message) for w in caught if not str(w.message).startswith(EXPECTED_API_WARNINGS)
    }
    assert unexpected == set()
    # The play test ran an episode to its end: every agent stepped None once.
    assert env.dead_steps >= len(env.possible_agents)


class _CountingDeadSteps(MultiActorAECEnv):
    """Counts the steps of finished agents, to see that a test reached an episode's end."""

    dead_steps = 0

    def _was_dead_step(self, action: Any) -> None:
        self.dead_steps += 1
        super()._was_dead_step(action)


@pytest.mark.parametrize(("domain", "options"), VARIANTS, ids=VARIANT_IDS)
def test_pettingzoo_seed_test_passes(domain: str, options: dict[str, str]) -> None:
    seed_test(lambda: MultiActorAECEnv(domain, options), num_cycles=500)


@pytest.mark.parametrize(("domain", "options"), VARIANTS, ids=VARIANT_IDS)
def test_agents_are_the_deciders_of_the_variant(domain: str, options: dict[str, str]) -> None:
    env = MultiActorAECEnv(domain, options)
    built = load_domain(domain)(**options)
    assert env.possible_agents == list(built.decider_names)
    for name, actions in zip(built.decider_names, built.action_names, strict=True):
        assert env.action_space(name).n == len(actions)
        assert env.observation_space(name)["action_mask"].shape == (len(actions),)
    env.reset(seed=0)
    assert env.agents == env.possible_agents


def test_the_automatic_dispatcher_is_no_agent() -> None:
    controlled = MultiActorAECEnv("cashier", {"dispatcher": "controlled"})
    automatic = MultiActorAECEnv("cashier", {"dispatcher": "automatic"})
    assert "dispatcher" in controlled.possible_agents
    assert "dispatcher" not in automatic.possible_agents
    assert automatic.possible_agents == controlled.possible_agents[:-1]


@pytest.mark.parametrize(("domain", "options"), VARIANTS, ids=VARIANT_IDS)
def test_selection_observations_masks_and_rewards_follow_the_core_env(
    domain: str, options: dict[str, str]
) -> None:
    """The adapter in lockstep with a MultiActorEnv of its own, given the same actions."""
    env = MultiActorAECEnv(domain, options)
    core = MultiActorEnv(domain_factory(load_domain(domain), options))
    env.reset(seed=3)
    vector, _ = core.reset(seed=3)
    rng = np.random.default_rng(0)
    rewards: list[float] = []
    terminated = False
    while not terminated:
        agent, decider = env.agent_selection, core.decider
        assert decider is not None
        assert agent == env.possible_agents[decider]
        observation = env.observe(agent)
        assert observation["observation"].dtype == np.float32
        np.testing.assert_array_equal(observation["observation"], vector)
        offset, count = core.global_action(decider, 0), env.action_space(agent).n
        assert observation["action_mask"].dtype == np.int8
        np.testing.assert_array_equal(
            observation["action_mask"], core.action_masks()[offset : offset + count]
        )
        for other in env.agents:
            if other != agent:
                assert not env.observe(other)["action_mask"].any()
        action = int(rng.choice(np.flatnonzero(observation["action_mask"])))
        env.step(action)
        vector, reward, terminated, _, _ = core.step(offset + action)
        rewards.append(reward)
        # Every agent receives the step's team reward.
        assert env.rewards == dict.fromkeys(env.possible_agents, reward)
        assert env.terminations == dict.fromkeys(env.possible_agents, terminated)
    assert len(rewards) > 1
    for agent in env.agents:
        assert not env.observe(agent)["action_mask"].any()
        np.testing.assert_array_equal(env.observe(agent)["observation"], vector)


def test_last_gives_each_agent_the_team_return_over_an_episode() -> None:
    env = MultiActorAECEnv("cashier", record=True)
    env.reset(seed=1)
    step_rewards: list[float] = []
    from_last = dict.fromkeys(env.agents, 0.0)
    rng = np.random.default_rng(1)
    for agent in env.agent_iter():
        observation, reward, terminated, truncated, _ = env.last()
        from_last[agent] += reward
        if terminated or truncated:
            env.step(None)
            continue
        env.step(int(rng.choice(np.flatnonzero(observation["action_mask"]))))
        step_rewards.append(env.rewards[agent])
    assert any(step_rewards)  # the cashier scores customers served and overruns
    # last() hands each agent the team reward earned since it last acted: over an
    # episode, each agent's share is the whole team return.
    team_return = float(sum(step_rewards))
    assert env.recorded_episode is not None
    assert env.recorded_episode.total_reward == pytest.approx(team_return)
    assert from_last == pytest.approx(dict.fromkeys(from_last, team_return))


def test_the_episode_ends_for_all_agents_together() -> None:
    env = MultiActorAECEnv("factory")
    _random_episode(env, seed=0, policy_seed=0)
    assert env.agents == []
    env.reset(seed=0)
    while not env.terminations[env.agent_selection]:
        env.step(0)
    assert all(env.terminations.values())
    assert len(env.terminations) == len(env.possible_agents)
    assert not any(env.truncations.values())
    assert "kpis" in env.infos[env.agent_selection]
    with pytest.raises(ValueError, match="only valid action is None"):
        env.step(0)
    for _ in env.possible_agents:
        env.step(None)
    assert env.agents == []


def test_same_seed_and_actions_give_the_same_episode_and_other_seeds_differ() -> None:
    first = MultiActorAECEnv("cashier", record=True)
    second = MultiActorAECEnv("cashier", record=True)
    played = _random_episode(first, seed=7, policy_seed=0)
    # Replay the first episode's actions: the same seed gives the same decisions to take.
    second.reset(seed=7)
    for agent, action in played:
        assert second.agent_selection == agent
        second.step(action)
    a, b = first.recorded_episode, second.recorded_episode
    assert a is not None
    assert b is not None
    assert a == b
    assert a.seed == 7
    _random_episode(second, seed=8, policy_seed=0)
    other = second.recorded_episode
    assert other is not None
    assert other.seed == 8
    assert (other.start, other.end) != (a.start, a.end)


@pytest.mark.parametrize(("domain", "options"), VARIANTS, ids=VARIANT_IDS)
def test_an_aec_episode_records_the_same_table_as_simreel_record(
    domain: str, options: dict[str, str], tmp_path: Path
) -> None:
    seed, episodes = 3, 2
    reference = record(
        RecordConfig(
            domain=domain,
            policy="random",
            seed=seed,
            episodes=episodes,
            options=options,
            out=tmp_path / "record.parquet",
        )
    )
    env = MultiActorAECEnv(domain, options, record=True)
    recorded = []
    for k in range(episodes):
        # simreel record's random policy, drawing from the legal local actions.
        policy_seed = int(np.random.SeedSequence([seed, k]).generate_state(1)[0])
        _random_episode(env, seed=seed + k, policy_seed=policy_seed)
        recorded.append(env.recorded_episode)
    path = write_recording(tmp_path / "aec.parquet", env, recorded, policy=reference.policy)

    ours, theirs = read_events(path), read_events(reference.path)
    assert ours.table.num_rows > 0
    assert ours.table.equals(theirs.table)
    ours_meta, theirs_meta = ours.metadata.to_json(), theirs.metadata.to_json()
    assert ours_meta["provenance"].pop("created_at")
    assert theirs_meta["provenance"].pop("created_at")
    driver = ours_meta["provenance"].pop("driver")
    assert driver["api"] == "pettingzoo.AECEnv"
    assert driver["pettingzoo"]
    assert ours_meta == theirs_meta


def test_an_aec_table_equals_the_core_env_driven_with_the_same_actions(tmp_path: Path) -> None:
    env = MultiActorAECEnv("cashier", record=True)
    played = _random_episode(env, seed=11, policy_seed=5)
    aec_episode = env.recorded_episode
    assert aec_episode is not None

    class Replay:
        """Plays the AEC episode's actions through the core env's global action space."""

        def __init__(self) -> None:
            self.actions = iter(played)

        def act(self, observation: Any, mask: Any) -> int:
            agent, action = next(self.actions)
            return core.global_action(env.possible_agents.index(agent), action)

        def describe(self) -> dict[str, Any]:
            return {"kind": "replay"}

    core = MultiActorEnv(domain_factory(load_domain("cashier"), {}), record=True)
    core_episode = play_episode(core, Replay(), seed=11)
    assert core_episode == aec_episode
    a = write_recording(tmp_path / "a.parquet", env, [aec_episode], policy={"kind": "replay"})
    b = write_recording(tmp_path / "b.parquet", env, [core_episode], policy={"kind": "replay"})
    assert read_events(a).table.equals(read_events(b).table)


def test_actions_outside_the_agents_space_or_masked_out() -> None:
    env = MultiActorAECEnv("factory")
    env.reset(seed=0)
    agent = env.agent_selection
    count = env.action_space(agent).n
    with pytest.raises(ValueError, match=rf"must be in \[0, {count}\)"):
        env.step(count)
    with pytest.raises(ValueError, match="step\\(None\\) is only for finished agents"):
        env.step(None)
    masked = np.flatnonzero(env.observe(agent)["action_mask"] == 0)
    assert masked.size > 0  # at t = 0 a worker cannot work at a station it is not at
    env.step(int(masked[0]))
    assert env.infos[agent]["illegal_action"] is True
    strict = MultiActorAECEnv("factory", on_illegal="raise")
    strict.reset(seed=0)
    with pytest.raises(IllegalActionError):
        strict.step(int(masked[0]))


def test_bad_construction_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="unknown domain 'bakery'"):
        MultiActorAECEnv("bakery")
    with pytest.raises(ConfigError, match=r"dispatcher=.*not one of controlled, automatic"):
        MultiActorAECEnv("cashier", {"dispatcher": "nobody"})
    with pytest.raises(ConfigError, match="render_mode 'human' is not supported"):
        MultiActorAECEnv("factory", render_mode="human")
    with pytest.raises(ConfigError, match="play at least one episode"):
        write_recording("t.parquet", MultiActorAECEnv("factory"), [], policy={})


def test_render_state_and_close() -> None:
    env = MultiActorAECEnv("factory", render_mode="ansi")
    env.reset(seed=0)
    assert env.render() == f"t=0.0s: {env.agent_selection} decides; finished_items 0"
    np.testing.assert_array_equal(env.state(), env.core.domain.observe())
    assert env.state_space.contains(env.state())
    _random_episode(env, seed=0, policy_seed=0)
    rendered = env.render()
    assert rendered is not None
    assert rendered.startswith("t=300.0s: episode over")
    env.close()
    assert MultiActorAECEnv("factory").render() is None


def test_the_readme_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # the example writes a table under data/events/
    section = README.read_text().split("### PettingZoo", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, re.DOTALL)
    assert len(blocks) == 1
    namespace: dict[str, Any] = {"__name__": "readme"}
    exec(compile(blocks[0], "README.md", "exec"), namespace)
    env = namespace["env"]
    assert isinstance(env, MultiActorAECEnv)
    assert env.agents == []  # the example plays a whole episode
    assert env.recorded_episode is not None
    written = read_events(tmp_path / "data" / "events" / "cashier-aec.parquet")
    assert written.table.num_rows == len(env.recorded_episode) > 0
