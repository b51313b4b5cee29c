"""Baseline policies: seeded random play and the rule-based factory policy."""

from __future__ import annotations

import numpy as np
import pytest

from domains.factory.baselines import FactoryRulesPolicy
from domains.factory.simulation import make_factory_env
from domains.policies import FirstLegalPolicy, Policy, RandomLegalPolicy


def _play(policy_for_env, seed: int = 0) -> float:  # type: ignore[no-untyped-def]
    env = make_factory_env(on_illegal="raise")
    observation, _ = env.reset(seed=seed)
    policy: Policy = policy_for_env(env)
    done = False
    while not done:
        observation, _, done, _, info = env.step(policy.act(observation, env.action_masks()))
    return float(info["kpis"]["finished_items"])


def test_random_policy_is_seeded_and_finishes_about_one_and_a_half_items() -> None:
    items = [_play(lambda env, s=seed: RandomLegalPolicy(seed=s)) for seed in range(40)]
    assert items[:10] == [
        _play(lambda env, s=seed: RandomLegalPolicy(seed=s)) for seed in range(10)
    ]
    # The spec: uniformly random legal actions finish about 1.5 items on average.
    assert 0.5 <= float(np.mean(items)) <= 2.5


def test_first_legal_policy_never_moves_and_finishes_nothing() -> None:
    assert _play(lambda env: FirstLegalPolicy()) == 0


def test_rules_policy_is_a_real_yardstick() -> None:
    items = _play(FactoryRulesPolicy)
    assert items >= 20, f"the rule-based baseline finished only {items} items"


def test_rules_policy_refuses_a_bad_batch() -> None:
    with pytest.raises(ValueError, match=r"batch \(0\) must be between 1 and 10"):
        FactoryRulesPolicy(make_factory_env(), batch=0)
