"""The cashier follows its rules (domains/cashier/README.md) exactly.

With durations fixed at their means (dispatch 2 s, slow service 7 s, fast 4 s, walk
2 s, leave 3 s) every time below is computed by hand; the gamma draws themselves are
checked statistically.
"""

from __future__ import annotations

import warnings
from functools import partial
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from domains.cashier.baselines import CashierRulesPolicy, cashier_action, dispatch_lane
from domains.cashier.simulation import (
    ENV_ID,
    SERVE,
    Activity,
    CashierDomain,
    CheckoutSnapshot,
    draw_duration,
    make_cashier_env,
)
from domains.cashier.vocabulary import (
    DISPATCH,
    LEAVE,
    SERVICE,
    WALK,
    Duration,
)
from domains.env import MultiActorEnv
from domains.policies import RandomLegalPolicy, play_episode
from domains.recorder import RecordedEpisode
from tests.factory_script import intervals

SLOW, FAST, DISPATCHER = 0, 1, 2


def _means(duration: Duration) -> float:
    return duration.mean


def _env(dispatcher: str = "controlled", durations: Any = _means) -> MultiActorEnv:
    return MultiActorEnv(
        partial(CashierDomain, dispatcher, durations=durations), record=True, on_illegal="raise"
    )


def _play(env: MultiActorEnv, choose: Any) -> tuple[RecordedEpisode, list[tuple[float, int]]]:
    """Play with `choose(env) -> local action` for whoever decides; return the episode and
    the (time, decider) of every decision."""
    env.reset(seed=0)
    decisions = []
    done = False
    while not done:
        decider = env.decider
        assert decider is not None
        decisions.append((env.sim_time, decider))
        *_, done, _, _ = env.step(env.global_action(decider, choose(env)))
    episode = env.recorded_episode
    assert episode is not None
    return episode, decisions


def test_one_customer_goes_through_dispatch_queue_service_and_walk_out() -> None:
    env = _env()
    env.reset(seed=0)
    assert (env.decider, env.sim_time) == (SLOW, 0.0)  # at time 0 in action-space order
    env.step(env.global_action(SLOW, SERVE))  # lane0's queue is empty: stalled
    assert env.decider == FAST
    env.step(env.global_action(FAST, SERVE))
    assert env.decider == DISPATCHER
    env.step(env.global_action(DISPATCHER, 0))  # customer 0 to lane0, arrives at t=2
    assert (env.decider, env.sim_time) == (DISPATCHER, 2.0)
    _, reward, *_ = env.step(env.global_action(DISPATCHER, 2))  # customer 1 to lane2
    assert (env.decider, env.sim_time, reward) == (DISPATCHER, 4.0, 0.0)
    total = 0.0
    while env.sim_time < 9.0:  # keep sending to lane2 (unstaffed) until the service ends
        _, reward, *_ = env.step(env.global_action(DISPATCHER, 2))
        total += reward
    # slow took customer 0 at t=2 and served it 7 s: +0.01 at t=9, when slow decides again.
    assert (env.decider, env.sim_time, total) == (SLOW, 9.0, pytest.approx(0.01))
    env.close()


def test_hand_computed_schedule_of_a_whole_episode_with_mean_durations() -> None:
    sent = iter(range(10**6))

    def choose(env: MultiActorEnv) -> int:
        # Cashiers always serve; the dispatcher alternates lane0 and lane1.
        return SERVE if env.decider != DISPATCHER else next(sent) % 2

    episode, decisions = _play(_env(), choose)
    customer0 = intervals(episode, "customer_0")
    assert customer0 == [
        ("arriving", 0.0, 2.0, {"lane": "lane0"}),
        ("queued", 2.0, 2.0, {"lane": "lane0"}),  # the stalled slow cashier takes it at once
        ("being_served", 2.0, 9.0, {"lane": "lane0", "cashier": "cashier_slow"}),
        ("leaving", 9.0, 12.0, {"lane": "lane0"}),
    ]
    slow = intervals(episode, "cashier_slow")
    assert slow[:3] == [
        ("stalled", 0.0, 2.0, {"lane": "lane0"}),
        ("serving", 2.0, 9.0, {"lane": "lane0", "customer": 0}),
        # customer 2 was sent to lane0 at t=4 and queued at t=6: no stall at t=9.
        ("serving", 9.0, 16.0, {"lane": "lane0", "customer": 2}),
    ]
    served = intervals(episode, "served")
    # customer 1 (lane1, fast: served 4-8, out at 11) walks out before customer 0 (out at 12)
    assert served[:3] == [
        ("count", 0.0, 11.0, {"count": 0}),
        ("count", 11.0, 12.0, {"count": 1}),
        ("count", 12.0, served[2][2], {"count": 2}),
    ]
    # lane0 gets a customer every 4 s (t = 2, 6, 10, ...) and serves one every 7 s: its
    # queue overflows first. Customer 2k arrives at 4k + 2; it is served from
    # t = 2 + 7k, so at t = 4k + 2 the queue holds k - ceil(4k / 7) ... it reaches 10
    # when customer 2k finds 10 waiting: k - (number served by then) - 1 = 10.
    assert episode.end_time == _first_overrun_time_alternating()
    assert episode.kpis["survived"] == 0.0
    lane0 = intervals(episode, "lane0")
    assert lane0[-1] == ("overrun", episode.end_time, episode.end_time, {"level": 10})
    # The episode stopped at once, in the middle of other actors' actions.
    assert slow[-1][0] == "serving"
    assert slow[-1][2] == episode.end_time
    assert all(time < episode.end_time for time, _ in decisions)


def _first_overrun_time_alternating() -> float:
    """lane0 gets customers at t = 2 + 4j; the slow cashier serves back to back from t=2,
    customer j of lane0 leaving the queue at 2 + 7j. The queue length a new arrival finds
    is (arrivals so far) - (taken so far); the first arrival finding 10 overruns."""
    j = 0
    while True:
        arrival = 2.0 + 4.0 * j
        taken = sum(1 for i in range(j) if 2.0 + 7.0 * i <= arrival)
        if j - taken >= 10:
            return arrival
        j += 1


def test_overrun_ends_the_episode_at_that_instant_with_minus_one() -> None:
    # Every customer to lane2, where nobody works: customers arrive at 2, 4, ..., 20 and
    # fill the queue; the 11th arrives at t = 22 and overruns.
    env = _env()
    env.reset(seed=0)
    rewards = []
    done, info = False, {}
    while not done:
        decider = env.decider
        assert decider is not None
        action = 2 if decider == DISPATCHER else SERVE
        _, reward, done, _, info = env.step(env.global_action(decider, action))
        rewards.append(reward)
    assert rewards[-1] == -1.0
    assert sum(rewards) == -1.0
    assert info["sim_time"] == 22.0
    assert info["kpis"] == {"customers_served": 0.0, "survived": 0.0}
    episode = env.recorded_episode
    assert episode is not None
    assert episode.end_time == 22.0
    assert intervals(episode, "lane2")[-1] == ("overrun", 22.0, 22.0, {"level": 10})
    # the cashiers were stalled all along; their intervals close at the overrun
    assert intervals(episode, "cashier_slow") == [("stalled", 0.0, 22.0, {"lane": "lane0"})]
    assert intervals(episode, "customer_10") == [("arriving", 20.0, 22.0, {"lane": "lane2"})]
    assert env.decider is None
    assert env.sim_time == 22.0


def test_the_horizon_bounds_an_episode_without_overrun() -> None:
    # Service in 1 s: the stalled slow cashier takes every customer sent to lane0 at once.
    def durations(duration: Duration) -> float:
        return 1.0 if duration in SERVICE else duration.mean

    episode, decisions = _play(
        _env(durations=durations), lambda env: SERVE if env.decider != DISPATCHER else 0
    )
    assert episode.end_time == 300.0
    # customers arrive at 2, 4, ..., 300 (the one at t=300 joins: events at the horizon
    # happen) and each is served in 1 s: 149 services end by t=299.
    assert episode.kpis == {"customers_served": 149.0, "survived": 1.0}
    assert intervals(episode, "customer_149")[-1] == (
        "being_served",
        300.0,
        300.0,
        {"lane": "lane0", "cashier": "cashier_slow"},
    )
    assert max(time for time, _ in decisions) < 300.0
    # served counter: customer k (arriving at 2k + 2, served until 2k + 3) is out at
    # 2k + 6, so customer 147 walks out exactly at the horizon: 148 counted.
    assert intervals(episode, "served")[-1] == ("count", 300.0, 300.0, {"count": 148})


def test_walking_frees_the_source_and_claims_the_destination_at_once() -> None:
    env = _env()
    env.reset(seed=0)
    # slow at lane0, fast at lane1: slow may go to lane2 only.
    assert env.action_masks().tolist() == [True, False, False, True] + [False] * 7
    env.step(env.global_action(SLOW, 1 + 2))  # lane0 -> lane2, 2 s
    assert env.decider == FAST
    # lane0 is free now, lane2 is claimed by the walker.
    assert env.action_masks().tolist() == [False] * 4 + [True, True, False, False] + [False] * 3
    env.step(env.global_action(FAST, SERVE))
    env.step(env.global_action(DISPATCHER, 1))
    # the walk and the customer's dispatch both end at t=2; the walk started first
    assert (env.decider, env.sim_time) == (SLOW, 2.0)
    store = env.domain.snapshot()  # type: ignore[attr-defined]
    assert store.cashier_lanes == (2, 1)
    assert store.occupant == (None, 1, 0)


def test_decisions_due_together_come_earliest_started_first() -> None:
    # Walks take 4 s, dispatches 2 s: a walk started at t=0 and a dispatch started at
    # t=2 end together at t=4. (DISPATCH and WALK have equal mean and sd: tell them
    # apart by identity.)
    def durations(duration: Duration) -> float:
        return 4.0 if duration is WALK else duration.mean

    env = _env(durations=durations)
    env.reset(seed=0)
    env.step(env.global_action(SLOW, 1 + 2))  # t=0: slow walks to lane2, ends at t=4
    env.step(env.global_action(FAST, SERVE))  # t=0: fast stalls at lane1
    env.step(env.global_action(DISPATCHER, 1))  # t=0: customer to lane1, arrives t=2
    assert (env.decider, env.sim_time) == (DISPATCHER, 2.0)
    env.step(env.global_action(DISPATCHER, 0))  # t=2: customer to lane0, arrives t=4
    # At t=4 the slow cashier's walk (started t=0) and the dispatch (started t=2) end
    # together: the walk started first, so the slow cashier decides first.
    assert (env.decider, env.sim_time) == (SLOW, 4.0)
    env.step(env.global_action(SLOW, SERVE))
    assert (env.decider, env.sim_time) == (DISPATCHER, 4.0)


def test_automatic_dispatcher_sends_round_robin_and_only_cashiers_decide() -> None:
    env = _env("automatic")
    assert env.action_space.n == 8  # two cashiers x 4 actions
    episode, decisions = _play(env, lambda env: SERVE)
    assert {who for _, who in decisions} == {SLOW, FAST}
    lanes = [intervals(episode, f"customer_{k}")[0][3]["lane"] for k in range(9)]
    assert lanes == ["lane0", "lane1", "lane2"] * 3
    assert [intervals(episode, f"customer_{k}")[0][1] for k in range(4)] == [0.0, 2.0, 4.0, 6.0]
    # lane2 is never served: customers 2, 5, ..., 29 fill it by t=60; customer 32
    # arrives at t = 66 and overruns.
    assert episode.end_time == 66.0
    assert intervals(episode, "lane2")[-1][0] == "overrun"


def test_same_seed_and_decisions_give_the_same_episode_bit_for_bit() -> None:
    def record(seed: int, policy_seed: int) -> RecordedEpisode:
        env = make_cashier_env(record=True)
        return play_episode(env, RandomLegalPolicy(policy_seed), seed=seed)

    first, again, other = record(7, 1), record(7, 1), record(8, 1)
    assert first.actor == again.actor
    assert first.state == again.state
    assert first.start == again.start
    assert first.end == again.end
    assert first.attributes == again.attributes
    assert first.total_reward == again.total_reward
    assert first.start != other.start  # another seed draws other durations


@pytest.mark.parametrize("duration", [DISPATCH, *SERVICE, WALK, LEAVE], ids=str)
def test_gamma_draws_have_the_specified_mean_and_sd(duration: Duration) -> None:
    rng = np.random.default_rng(12345)
    draws = np.array([draw_duration(rng, duration) for _ in range(10_000)])
    assert draws.mean() == pytest.approx(duration.mean, rel=0.02)
    assert draws.std() == pytest.approx(duration.sd, rel=0.05)
    assert draws.min() > 0.0


def test_recorded_service_and_dispatch_times_follow_their_distributions() -> None:
    env = make_cashier_env(record=True)
    services: dict[str, list[float]] = {"cashier_slow": [], "cashier_fast": []}
    dispatches: list[float] = []
    for seed in range(40):
        episode = play_episode(env, CashierRulesPolicy(env), seed=seed)
        for actor, state, start, end in zip(
            episode.actor, episode.state, episode.start, episode.end, strict=True
        ):
            if state == "serving" and end < episode.end_time:  # completed services only
                services[actor].append(end - start)
            elif state == "dispatching" and end < episode.end_time:
                dispatches.append(end - start)
    # ~40 episodes give ~1,500 slow services, ~2,500 fast ones and ~5,000 dispatches:
    # their means are within about 3 standard errors of the rules' means.
    assert np.mean(services["cashier_slow"]) == pytest.approx(7.0, rel=0.05)
    assert np.mean(services["cashier_fast"]) == pytest.approx(4.0, rel=0.05)
    assert np.mean(dispatches) == pytest.approx(2.0, rel=0.04)


@pytest.mark.parametrize("dispatcher", ["controlled", "automatic"])
def test_both_variants_pass_gymnasium_check_env_without_warnings(dispatcher: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_env(make_cashier_env(dispatcher), skip_render_check=True)


def test_registered_id_makes_either_variant() -> None:
    assert ENV_ID == "simreel/Cashier-v0"
    env = gym.make(ENV_ID, dispatcher="automatic")
    assert isinstance(env.unwrapped, MultiActorEnv)
    assert env.unwrapped.domain.decider_names == ("cashier_slow", "cashier_fast")
    assert gym.make(ENV_ID).action_space.n == 11  # 4 + 4 + 3


def test_unknown_variant_is_refused() -> None:
    with pytest.raises(ValueError, match=r"dispatcher \('manual'\) must be one of controlled"):
        CashierDomain("manual")


# -- the hand-written rule -----------------------------------------------------------


def _store(queues: tuple[int, int, int], occupant: tuple[int | None, ...]) -> CheckoutSnapshot:
    lanes = tuple(occupant.index(c) for c in (0, 1))
    return CheckoutSnapshot(0.0, queues, occupant, lanes, (Activity.DECIDING,) * 2, 0)


@pytest.mark.parametrize(
    ("queues", "occupant", "lane"),
    [
        ((0, 0, 0), (0, 1, None), 1),  # (0+1) x 7 > (0+1) x 4: the fast cashier's lane
        ((0, 1, 0), (0, 1, None), 0),  # 7 < 2 x 4
        ((1, 2, 0), (0, 1, None), 1),  # 14 > 12
        ((3, 4, 0), (0, 1, None), 1),  # 28 > 20
        ((8, 9, 0), (0, 1, None), 2),  # 63 > 40: lane1 chosen but holds 9: emptiest lane2
        ((0, 9, 9), (None, 0, 1), 0),  # slow at lane1 (70), fast at lane2 (40): both hold 9
        ((5, 5, 5), (0, 1, None), 1),  # 42 > 24 -> lane1
    ],
)
def test_rule_dispatches_to_the_staffed_lane_with_the_shorter_expected_wait(
    queues: tuple[int, int, int], occupant: tuple[int | None, ...], lane: int
) -> None:
    assert dispatch_lane(_store(queues, occupant)) == lane


@pytest.mark.parametrize(
    ("queues", "occupant", "cashier", "action"),
    [
        ((2, 0, 0), (0, 1, None), 0, SERVE),  # own queue not empty
        ((0, 0, 3), (0, 1, None), 0, 1 + 2),  # empty: walk to the free lane with customers
        ((0, 4, 0), (0, 1, None), 0, SERVE),  # the fuller lane is taken by the other cashier
        ((0, 0, 0), (0, 1, None), 1, SERVE),  # nothing anywhere: serve (wait)
        ((3, 0, 3), (None, 1, 0), 1, 1 + 0),  # lane2 taken; lane0 free with 3
    ],
)
def test_rule_moves_an_idle_cashier_to_the_fullest_free_lane(
    queues: tuple[int, int, int], occupant: tuple[int | None, ...], cashier: int, action: int
) -> None:
    assert cashier_action(_store(queues, occupant), cashier) == action


def test_rule_baseline_never_walks_when_it_also_dispatches() -> None:
    env = make_cashier_env(record=True)
    for seed in range(10):
        episode = play_episode(env, CashierRulesPolicy(env), seed=seed)
        assert "walking" not in episode.state


def test_rule_baseline_refuses_another_domain() -> None:
    from domains.factory.simulation import make_factory_env

    with pytest.raises(TypeError, match="plays the cashier, not 'factory'"):
        CashierRulesPolicy(make_factory_env())
