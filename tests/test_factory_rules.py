"""The factory follows its rules (domains/factory/README.md) exactly.

Every expected time and count below was computed by hand from the spec's rules:
walking s0-s1 4 s, s0-s2 4 s, s0-s3 8 s, s1-s2 1 s, s1-s3 4 s, s2-s3 4 s; work 5 s
at s0 and s3, 10 s at s1/s2; buffers of 10; horizon 300 s inclusive.
"""

from __future__ import annotations

import numpy as np
import pytest

from domains.env import IllegalActionError
from domains.factory.simulation import make_factory_env
from tests.factory_script import WORK, go, intervals, run_script


def test_never_moving_finishes_nothing_and_both_workers_end_stalled_for_room() -> None:
    result = run_script([])
    assert result.finished_items == 0
    # worker0 makes an item every 5 s (decisions at 0, 5, ..., 105); worker1 takes one
    # every 10 s from t=5 (decisions at 0, 15, ..., 105); B fills at 105, A at 100.
    w0_times = [t for t, who in result.decisions if who == 0]
    w1_times = [t for t, who in result.decisions if who == 1]
    assert w0_times == [5.0 * k for k in range(22)]
    assert w1_times == [0.0, *(15.0 + 10 * k for k in range(10))]
    episode = result.episode
    assert episode is not None
    last_w0 = intervals(episode, "worker0")[-1]
    last_w1 = intervals(episode, "worker1")[-1]
    assert last_w0 == (
        "stalled",
        110.0,
        300.0,
        {"station": "s0", "item": 21, "waiting_for": "room"},
    )
    assert last_w1 == (
        "stalled",
        115.0,
        300.0,
        {"station": "s1", "item": 10, "waiting_for": "room"},
    )
    assert intervals(episode, "buffer_a")[-1][3] == {"level": 10}
    assert intervals(episode, "buffer_b")[-1][3] == {"level": 10}
    # Items 0..20 go into A (item 20's put at 105 fits once worker1 takes one at 105);
    # item 21 (worked 105-110) never fits. Ten items go into B.
    assert result.total_reward == pytest.approx(21 * 0.01 + 10 * 0.01)


def test_walking_times_and_occupancy_masks() -> None:
    env = make_factory_env(on_illegal="raise")
    env.reset(seed=0)
    assert (env.decider, env.sim_time) == (0, 0.0)
    # worker0 at s0: s0 (own) and s1 (worker1) are occupied.
    assert env.action_masks().tolist() == [True, False, False, True, True] + [False] * 5
    env.step(env.global_action(0, go(3)))  # s0 -> s3, 8 s: frees s0, claims s3 at once
    assert (env.decider, env.sim_time) == (1, 0.0)
    assert env.action_masks().tolist() == [False] * 5 + [True, True, False, True, False]
    env.step(env.global_action(1, go(2)))  # s1 -> s2, 1 s
    assert (env.decider, env.sim_time) == (1, 1.0)
    assert env.action_masks().tolist() == [False] * 5 + [True, True, True, False, False]
    env.step(env.global_action(1, go(0)))  # s2 -> s0, 4 s: arrives at 5
    assert (env.decider, env.sim_time) == (1, 5.0)
    env.step(env.global_action(1, go(1)))  # s0 -> s1, 4 s: arrives at 9; worker0 arrives at 8
    assert (env.decider, env.sim_time) == (0, 8.0)
    assert env.action_masks().tolist() == [True, True, False, True, False] + [False] * 5


def test_two_workers_can_never_head_for_the_same_station() -> None:
    env = make_factory_env(on_illegal="raise")
    env.reset(seed=0)
    env.step(env.global_action(0, go(2)))
    with pytest.raises(IllegalActionError, match=r"action \(8\) is not legal for decider 1"):
        env.step(env.global_action(1, go(2)))


def test_an_item_finished_exactly_at_300_counts() -> None:
    # worker1 walks to s3 and stalls for an item. worker0 burns 276 s walking
    # (30 x s0-s1-s0 = 240 s, 4 x s0-s2-s1-s0 = 36 s), works at s0 276-281, walks to
    # s1 (285), works 285-295 and puts into B at 295; worker1 works 295-300.
    result = run_script(_burn_then_deliver(loops_8s=30, loops_9s=4))
    assert result.finished_items == 1
    assert result.total_reward == pytest.approx(1.0)  # 0.01 + 0.01 + 0.98
    episode = result.episode
    assert episode is not None
    assert intervals(episode, "worker1")[-1][:3] == ("working", 295.0, 300.0)
    assert intervals(episode, "finished")[-1] == ("count", 300.0, 300.0, {"count": 1})


def test_an_item_finished_at_301_does_not_count() -> None:
    # Same, one second later: 29 x 8 s + 5 x 9 s = 277 s of walking.
    result = run_script(_burn_then_deliver(loops_8s=29, loops_9s=5))
    assert result.finished_items == 0
    episode = result.episode
    assert episode is not None
    assert intervals(episode, "worker1")[-1][:3] == ("working", 296.0, 300.0)


def _burn_then_deliver(loops_8s: int, loops_9s: int) -> list[tuple[int, int]]:
    script = [(0, go(2)), (1, go(3))]  # t=0: worker0 s0->s2 (4 s), worker1 s1->s3 (4 s)
    # worker1 arrives at s3 at t=4 and waits for an item from B (none comes until the end).
    # Order at t=4: worker0 arrives at s2 first (its walk was started first).
    script += [(0, go(0)), (1, WORK)]  # back to s0 by t=8; worker1 stalls
    burnt = 8.0
    for _ in range(loops_8s - 1):
        script += [(0, go(1)), (0, go(0))]
        burnt += 8.0
    for _ in range(loops_9s):
        script += [(0, go(2)), (0, go(1)), (0, go(0))]
        burnt += 9.0
    assert burnt == 8.0 * loops_8s + 9.0 * loops_9s
    # work at s0 (5 s) -> A; walk to s1 (4 s); work at s1 (10 s) -> B; then anything.
    script += [(0, WORK), (0, go(1)), (0, WORK), (0, go(2))]
    return script


def test_work_on_an_empty_buffer_stalls_without_cancel() -> None:
    # worker1 works at s1 on an empty A at t=0; worker0 walks away and never produces.
    env = make_factory_env(on_illegal="raise", record=True)
    env.reset(seed=0)
    env.step(env.global_action(0, go(3)))
    env.step(env.global_action(1, WORK))
    deciders = []
    done = False
    while not done:
        deciders.append(env.decider)
        _, _, done, _, info = env.step(env.global_action(0, WORK))
    assert deciders == [0]  # worker0 at s3 stalls for B; worker1 never decides again
    assert info["kpis"]["finished_items"] == 0
    episode = env.recorded_episode
    assert episode is not None
    assert intervals(episode, "worker1") == [
        ("stalled", 0.0, 300.0, {"station": "s1", "waiting_for": "item"})
    ]
    assert intervals(episode, "worker0")[-1] == (
        "stalled",
        8.0,
        300.0,
        {"station": "s3", "waiting_for": "item"},
    )


def test_parallel_stage_two_and_a_full_pipeline_item() -> None:
    # worker0 makes an item at s0 (0-5), walks s0->s2 (5-9) and back (9-13), works;
    # worker1 at s1 waits, works 5-15, puts into B at 15, walks to s3 (15-19) and
    # works 19-24: one item finished at t=24.
    result = run_script(
        [(0, WORK), (1, WORK), (0, go(2)), (0, go(0)), (0, WORK), (1, go(3))],
    )
    episode = result.episode
    assert episode is not None
    finished = intervals(episode, "finished")
    assert finished[1] == ("count", 24.0, finished[1][2], {"count": 1})
    assert intervals(episode, "worker1")[:4] == [
        ("stalled", 0.0, 5.0, {"station": "s1", "waiting_for": "item"}),
        ("working", 5.0, 15.0, {"station": "s1", "item": 0}),
        ("walking", 15.0, 19.0, {"station": "s1", "destination": "s3"}),
        ("working", 19.0, 24.0, {"station": "s3", "item": 0}),
    ]


def test_same_actions_give_the_same_events() -> None:
    def play(seed: int) -> tuple[list, list]:
        env = make_factory_env(record=True)
        env.reset(seed=seed)
        rng = np.random.default_rng(1234)
        observations, done = [], False
        while not done:
            action = int(rng.choice(np.flatnonzero(env.action_masks())))
            obs, _, done, _, _ = env.step(action)
            observations.append(obs)
        episode = env.recorded_episode
        assert episode is not None
        return observations, [
            episode.actor,
            episode.state,
            episode.start,
            episode.end,
            episode.attributes,
        ]

    first, second = play(0), play(7)  # the factory has no randomness: the seed changes nothing
    assert all(np.array_equal(a, b) for a, b in zip(first[0], second[0], strict=True))
    assert first[1] == second[1]


def test_decisions_due_together_come_earliest_started_first() -> None:
    """At t=39 worker0's work (begun at 34: 5 s, then a put into A) and worker1's walk
    (begun at 35: s3 -> s2, 4 s) end together. SimPy finishes the walk first (its
    timeout was set at 35, the put only at 39), but worker0 started first, so it
    decides first."""
    env = make_factory_env(on_illegal="raise")
    env.reset(seed=0)
    script = [
        (0.0, 0, go(3)),  # s0 -> s3, arrives at 8
        (0.0, 1, go(2)),  # s1 -> s2, 1 s
        (1.0, 1, go(1)),
        (2.0, 1, go(2)),
        (3.0, 1, WORK),  # stalled at s2 until an item reaches A (t=21), works until 31
        (8.0, 0, go(0)),  # s3 -> s0, 8 s
        (16.0, 0, WORK),
        (21.0, 0, WORK),
        (26.0, 0, go(1)),
        (30.0, 0, go(0)),
        (31.0, 1, go(3)),  # s2 -> s3, arrives at 35
        (34.0, 0, WORK),  # 34-39, then puts its item into A
        (35.0, 1, go(2)),  # s3 -> s2, arrives at 39
    ]
    for time, worker, local in script:
        assert (env.sim_time, env.decider) == (time, worker)
        env.step(env.global_action(worker, local))
    assert (env.sim_time, env.decider) == (39.0, 0)
    env.step(env.global_action(0, WORK))
    assert (env.sim_time, env.decider) == (39.0, 1)
