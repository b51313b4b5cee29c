"""Training judges policies by the mean reward or any KPI, on validation episodes, and a
domain brings its own training defaults."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from domains.cashier.simulation import CashierDomain
from domains.env import MultiActorEnv
from domains.factory.simulation import make_factory_env
from domains.registry import domain_factory
from schemas.errors import ConfigError
from stages.train.config import VALIDATION_SEED, TrainConfig
from stages.train.evaluation import PolicySource, evaluate
from stages.train.model_card import DEFAULT_MODEL, load_model_card
from stages.train.model_policy import load_policy
from stages.train.run import train
from tests.cli_helpers import run_cli
from tests.train_helpers import format_3_factory_model, tiny_config


def test_a_domain_lays_its_defaults_under_the_users_settings() -> None:
    generic = TrainConfig()
    cashier = TrainConfig.for_domain("cashier", {"dispatcher": "automatic"}, seed=4)
    for name, value in CashierDomain.training_defaults.items():
        assert getattr(cashier, name) == value, name
    assert (cashier.seed, cashier.options) == (4, {"dispatcher": "automatic"})
    assert cashier.learning_rate == generic.learning_rate  # not a cashier default
    assert TrainConfig.for_domain("cashier", eval_episodes=7).eval_episodes == 7
    assert TrainConfig.for_domain("factory").select_by == "finished_items"
    assert generic.select_by == "reward"


def test_a_domain_default_that_is_no_setting_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(CashierDomain, "training_defaults", {"learning_speed": 2})
    with pytest.raises(ConfigError, match=r"training_defaults learning_speed, which are not"):
        TrainConfig.for_domain("cashier")


def test_bad_selection_settings_are_refused() -> None:
    with pytest.raises(
        ConfigError,
        match=r"--select-by \('items'\) must be reward \(mean episode reward\) or a KPI of "
        r"cashier: reward, customers_served, survived",
    ):
        TrainConfig.for_domain("cashier", select_by="items").validate()
    with pytest.raises(ConfigError, match=r"--stop-at \(nan\) must be a finite number"):
        TrainConfig(stop_at=math.nan).validate()
    with pytest.raises(ConfigError, match=r"--eval-seed \(-1\) must be an integer >= 0"):
        TrainConfig(eval_seed=-1).validate()


def test_the_command_line_refuses_an_unknown_kpi(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(["train", "--select-by", "speed", "--quiet"], capsys)
    assert code == 2
    assert "--select-by ('speed') must be reward (mean episode reward) or a KPI of factory" in err


def test_the_kept_models_validation_is_what_evaluate_says_of_it(tmp_path: Path) -> None:
    config = tiny_config(
        tmp_path, domain="cashier", timesteps=1024, eval_freq=512, eval_episodes=12
    )
    assert (config.select_by, config.eval_seed) == ("reward", VALIDATION_SEED)
    card = train(config).card
    assert card.select_by == "reward"
    assert [e.timestep for e in card.evaluations] == [0, 512, 1024]
    for evaluation in card.evaluations:
        assert evaluation.episodes == 12
        assert evaluation.score == evaluation.mean_reward
        assert set(evaluation.kpis) == {"customers_served", "survived"}
        assert evaluation.reward_half_width is not None
        assert evaluation.reward_half_width >= 0
    best = max(card.evaluations, key=lambda e: e.score)
    assert (card.best_score, card.best_timestep) == (best.score, best.timestep)
    judged = evaluate(
        PolicySource("model", tmp_path / "model.zip"),
        "cashier",
        {},
        episodes=12,
        seed=VALIDATION_SEED,
        ray=None,
    )
    rewards = [s.total_reward for s in judged]
    assert math.fsum(rewards) / 12 == pytest.approx(card.best_score, abs=1e-12)
    served = [s.kpis["customers_served"] for s in judged]
    assert best.kpis["customers_served"] == pytest.approx(sum(served) / 12)


def test_a_kpi_can_be_what_the_best_model_is_chosen_by(tmp_path: Path) -> None:
    config = tiny_config(
        tmp_path,
        domain="cashier",
        timesteps=512,
        eval_freq=256,
        eval_episodes=5,
        select_by="customers_served",
    )
    card = train(config).card
    assert card.select_by == "customers_served"
    for evaluation in card.evaluations:
        assert evaluation.score == evaluation.kpis["customers_served"]
    assert card.best_score == max(e.score for e in card.evaluations)


def test_resuming_with_another_yardstick_is_refused(tmp_path: Path) -> None:
    result = train(tiny_config(tmp_path, timesteps=256, eval_freq=256))
    with pytest.raises(ConfigError, match=r"kept its best model by finished_items, not reward"):
        train(
            tiny_config(tmp_path, timesteps=1024, resume=result.checkpoint_path, select_by="reward")
        )


def test_a_card_from_before_select_by_reads_as_judged_by_its_headline_kpi(tmp_path: Path) -> None:
    card = load_model_card(format_3_factory_model(tmp_path))
    assert card.card_format == 3
    assert card.select_by == "finished_items"
    assert card.evaluations[-1].kpis == {"finished_items": card.evaluations[-1].score}
    assert card.evaluations[-1].mean_reward is None
    assert {member.best_score for member in card.members} >= {28.0}


def _digest(model: Path, options: dict[str, str] | None = None) -> str:
    env = MultiActorEnv(domain_factory(CashierDomain, options or {}))
    return load_policy(model, env, options or {}).network.digest()


def test_the_same_settings_train_the_same_network(tmp_path: Path) -> None:
    # What lets `make train` make a committed model again: nothing but the settings and
    # the seed decide the weights (the zips differ in their time stamps).
    settings = {"domain": "cashier", "timesteps": 512, "eval_episodes": 3}
    first = train(tiny_config(tmp_path / "a", **settings)).model_path
    again = train(tiny_config(tmp_path / "b", **settings)).model_path
    other = train(tiny_config(tmp_path / "c", seed=1, **settings)).model_path
    assert _digest(first) == _digest(again)
    assert _digest(first) != _digest(other)


def test_evaluate_shows_the_weights_digest(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(["evaluate", "--episodes", "1", "--json", "--here"], capsys)
    assert code == 0, err
    factory = load_policy(DEFAULT_MODEL, make_factory_env())
    assert json.loads(out)["weights_sha256"] == factory.network.digest()
    code, out, err = run_cli(["evaluate", "--episodes", "1", "--here"], capsys)
    assert f"(weights sha256 {factory.network.digest()[:16]})" in out.splitlines()[0]
