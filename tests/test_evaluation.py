"""Evaluation at scale: Ray chunks give the figures of one process, bit for bit."""

from __future__ import annotations

from pathlib import Path

import pytest

from schemas.errors import ConfigError, ModelError
from stages.episode_stats import kpi_stats
from stages.record import RecordConfig, record
from stages.train.cluster import RaySettings
from stages.train.evaluation import PolicySource, evaluate
from stages.train.model_card import DEFAULT_MODEL
from tests.train_helpers import local_ray

pytestmark = pytest.mark.usefixtures(local_ray.__name__)

ON_RAY = RaySettings()
"""The module's local Ray (evaluate joins the running one), named for the reader."""


@pytest.mark.parametrize(
    ("source", "domain", "options", "episodes"),
    [
        (PolicySource("rules"), "cashier", {}, 60),
        (PolicySource("random"), "cashier", {"dispatcher": "automatic"}, 40),
        (PolicySource("model", DEFAULT_MODEL, sample=True), "factory", {}, 6),
    ],
    ids=["cashier-rules", "cashier-random", "factory-sampled-model"],
)
def test_chunks_on_ray_give_the_figures_of_one_process_bit_for_bit(
    source: PolicySource, domain: str, options: dict[str, str], episodes: int
) -> None:
    alone = evaluate(source, domain, options, episodes, seed=11, ray=None)
    assert [s.episode for s in alone] == list(range(episodes))
    assert [s.seed for s in alone] == [11 + k for k in range(episodes)]
    for chunk in (1, 7):
        split = evaluate(
            source, domain, options, episodes, seed=11, ray=ON_RAY, chunk_episodes=chunk
        )
        assert split == alone, f"chunks of {chunk} differ from one process"
    assert evaluate(source, domain, options, episodes, seed=11, ray=ON_RAY) == alone
    # Episodes differ from each other (the check would be empty otherwise).
    assert len({s.total_reward for s in alone}) > 1 or len({str(s.kpis) for s in alone}) > 1


def test_episode_k_does_not_depend_on_how_many_ran_before() -> None:
    source = PolicySource("random")
    many = evaluate(source, "cashier", {}, 12, seed=3, ray=None)
    few = evaluate(source, "cashier", {}, 5, seed=3, ray=ON_RAY, chunk_episodes=2)
    assert few == many[:5]


def test_the_figures_are_those_record_writes(tmp_path: Path) -> None:
    recorded = record(
        RecordConfig(
            domain="cashier", policy="random", episodes=4, seed=5, out=tmp_path / "t.parquet"
        )
    ).episodes
    evaluated = evaluate(PolicySource("random"), "cashier", {}, 4, seed=5)  # Ray by default
    assert [(s.seed, s.kpis, s.total_reward, s.end_time) for s in evaluated] == [
        (s.seed, s.kpis, s.total_reward, s.end_time) for s in recorded
    ]
    stats = {s.name: s for s in kpi_stats(evaluated)}
    assert stats["reward"].episodes == 4
    assert stats["reward"].mean == pytest.approx(sum(s.total_reward for s in recorded) / 4)


def test_bad_requests_are_refused_before_any_episode() -> None:
    with pytest.raises(ConfigError, match=r"--policy \(smart\) must be one of model, random"):
        evaluate(PolicySource("smart"), "cashier", {}, 2)
    with pytest.raises(ConfigError, match=r"--sample draws a model's actions"):
        evaluate(PolicySource("random", sample=True), "cashier", {}, 2)
    with pytest.raises(ConfigError, match=r"--episodes \(0\) must be an integer >= 1"):
        evaluate(PolicySource("rules"), "cashier", {}, 0)
    with pytest.raises(ModelError, match=r"trained for domain 'factory', the env's is 'cashier'"):
        evaluate(PolicySource("model", DEFAULT_MODEL), "cashier", {}, 2)
