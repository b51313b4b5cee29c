"""The one rollout (domains.rollout.play) and the numpy policy network it batches.

An episode must play the same alone, among others, at any width and in any process:
record, evaluation and training's validation all rely on it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from domains.cashier.simulation import CashierDomain
from domains.env import MultiActorEnv
from domains.factory.simulation import FactoryDomain, make_factory_env
from domains.policies import PolicyFor, baseline_policy_for
from domains.registry import domain_factory
from domains.rollout import PlayedEpisode, play
from schemas.errors import ModelError
from stages.train.model_card import DEFAULT_MODEL
from stages.train.model_policy import ModelPolicy, load_policy, model_policy_for
from stages.train.policy_network import Layer, PolicyNetwork, build, from_sb3

AUTOMATIC = {"dispatcher": "automatic"}


def _random_network(inputs: int, actions: int, seed: int = 0) -> PolicyNetwork:
    rng = np.random.default_rng(seed)

    def layer(n_in: int, n_out: int) -> Layer:
        return Layer(rng.normal(0, 0.5, (n_in, n_out)), rng.normal(0, 0.1, n_out))

    return PolicyNetwork((layer(inputs, 64), layer(64, 64)), layer(64, actions))


def _cashier_env(options: dict[str, str] | None = None) -> Callable[[], MultiActorEnv]:
    make_domain = domain_factory(CashierDomain, options or {})
    return lambda: MultiActorEnv(make_domain)


def _figures(played: list[PlayedEpisode]) -> list[tuple[Any, ...]]:
    return [(p.episode, p.seed, p.total_reward, p.end_time, p.decisions, p.kpis) for p in played]


def test_a_rows_logits_do_not_depend_on_the_rest_of_the_batch() -> None:
    network = _random_network(60, 10)
    rng = np.random.default_rng(1)
    observations = rng.random((200, 60)).astype(np.float32)
    whole = network.logits(observations)
    for size in (1, 2, 3, 7, 16, 31, 32, 33, 64, 100):
        for start in range(0, 200 - size + 1, size):
            part = network.logits(observations[start : start + size])
            assert np.array_equal(part, whole[start : start + size]), (size, start)


def test_the_numpy_network_computes_what_the_trained_torch_network_does() -> None:
    import torch
    from sb3_contrib import MaskablePPO

    from stages.train.model_card import load_model_card
    from stages.train.model_format import policy_kwargs, read_policy_state

    # SB3's own network given the zip's weights (its loader would unpickle the zip).
    card = load_model_card(DEFAULT_MODEL)
    kwargs = policy_kwargs(card.network)
    model = MaskablePPO("MlpPolicy", make_factory_env(), device="cpu", policy_kwargs=kwargs)
    model.policy.load_state_dict(read_policy_state(DEFAULT_MODEL, card))
    network = from_sb3(model.policy, str(DEFAULT_MODEL))
    assert (network.observation_size, network.action_count, network.activation) == (60, 10, "tanh")
    observations = np.random.default_rng(2).random((500, 60)).astype(np.float32)
    with torch.no_grad():
        latent = model.policy.mlp_extractor.forward_actor(torch.as_tensor(observations))
        expected = model.policy.action_net(latent).numpy()
    ours = network.logits(observations)
    assert np.abs(ours - expected).max() < 1e-5
    assert np.array_equal(ours.argmax(axis=1), expected.argmax(axis=1))


def test_masked_choices() -> None:
    network = _random_network(4, 3)
    logits = np.array([5.0, 1.0, 1.0])
    mask = np.array([False, True, True])
    assert network.best_action(logits, mask) == 1  # the first of equal legal ones
    probabilities = network.probabilities(logits, mask)
    assert probabilities[0] == 0.0
    assert probabilities.sum() == pytest.approx(1.0)
    assert probabilities[1] == pytest.approx(0.5)


def test_layers_that_do_not_chain_are_refused_with_the_file_named() -> None:
    good = Layer(np.zeros((4, 8)), np.zeros(8))
    bad_head = Layer(np.zeros((5, 3)), np.zeros(3))
    with pytest.raises(ModelError, match=r"m\.zip: layer 1 of the policy network does not fit"):
        build([good], bad_head, "tanh", "m.zip")
    with pytest.raises(ModelError, match=r"m\.zip: activation 'gelu' is not one of tanh, relu"):
        build([good], Layer(np.zeros((8, 3)), np.zeros(3)), "gelu", "m.zip")


@pytest.mark.parametrize("options", [{}, AUTOMATIC], ids=["controlled", "automatic"])
@pytest.mark.parametrize("kind", ["random", "rules", "model", "sampled"])
def test_an_episode_plays_the_same_at_any_width_and_alone(
    kind: str, options: dict[str, str]
) -> None:
    make_env = _cashier_env(options)
    size = int(np.prod(make_env().observation_space.shape or ()))
    actions = int(make_env().action_space.n)  # type: ignore[attr-defined]
    policy_for: PolicyFor
    if kind in ("model", "sampled"):
        policy = ModelPolicy(_random_network(size, actions, seed=3))
        policy_for = model_policy_for(policy, kind == "sampled", seed=5)
    else:
        policy_for = baseline_policy_for(kind, 5, CashierDomain)
    episodes = range(10, 22)
    one_at_a_time = _figures(list(play(make_env, policy_for, episodes, 100, width=1)))
    side_by_side = _figures(list(play(make_env, policy_for, episodes, 100, width=5)))
    assert side_by_side == one_at_a_time
    alone = _figures(list(play(make_env, policy_for, range(17, 18), 100)))
    assert alone == [one_at_a_time[7]]
    assert [figures[0] for figures in side_by_side] == list(episodes), "episodes come in order"
    assert len({figures[2] for figures in side_by_side}) > 1, "the episodes should differ"


def test_recorded_intervals_do_not_depend_on_the_width() -> None:
    make_domain = domain_factory(CashierDomain, {})
    policy_for = baseline_policy_for("random", 0, CashierDomain)

    def intervals(width: int) -> list[Any]:
        played = play(
            lambda: MultiActorEnv(make_domain, record=True), policy_for, range(6), 0, width=width
        )
        return [
            (p.recorded.seed, p.recorded.actor, p.recorded.state, p.recorded.start, p.recorded.end)
            for p in played
            if p.recorded is not None
        ]

    assert intervals(1) == intervals(4)
    assert len(intervals(3)) == 6


def test_the_committed_factory_model_still_finishes_28_items_in_the_rollout() -> None:
    policy = load_policy(DEFAULT_MODEL, make_factory_env())
    (played,) = play(
        lambda: MultiActorEnv(FactoryDomain), model_policy_for(policy, False, 0), range(1), 0
    )
    assert played.kpis == {"finished_items": 28.0}


def test_a_width_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="width"):
        list(play(_cashier_env(), baseline_policy_for("random", 0, CashierDomain), [0], 0, width=0))
