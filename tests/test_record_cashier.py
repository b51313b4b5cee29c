"""Recording the cashier: its variants, its rule baseline, and models of other variants."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from domains.cashier.simulation import CashierDomain
from schemas.errors import ConfigError, ModelError
from schemas.events import read_events
from stages.inspect import summarise
from stages.record import RecordConfig, record
from stages.train import model_card as models
from stages.train.run import train
from tests.cli_helpers import run_cli
from tests.train_helpers import tiny_config


def test_rules_and_random_record_several_episodes_of_either_variant(tmp_path: Path) -> None:
    for policy in ("rules", "random"):
        for variant in ("controlled", "automatic"):
            out = tmp_path / f"{policy}-{variant}.parquet"
            result = record(
                RecordConfig(
                    domain="cashier",
                    policy=policy,
                    episodes=3,
                    seed=4,
                    out=out,
                    options={"dispatcher": variant},
                )
            )
            table = read_events(out)
            meta = table.metadata
            assert (meta.domain_id, meta.domain_options) == ("cashier", {"dispatcher": variant})
            assert meta.provenance["domain"]["options"] == {"dispatcher": variant}
            assert meta.provenance["policy"]["kind"] == policy
            assert [s.seed for s in meta.episodes] == [4, 5, 6]
            assert result.rows == table.table.num_rows
            # the short-lived customers are in the table, resolved to their kind
            actors = set(table.table.column("actor").to_pylist())
            assert "customer_0" in actors
            for summary in meta.episodes:
                assert summary.end_time <= 300.0
                assert summary.kpis["survived"] == (1.0 if summary.end_time == 300.0 else 0.0)


def test_an_unknown_option_or_value_is_a_clear_error() -> None:
    with pytest.raises(ConfigError, match="option dispatcher='manual' is not one of controlled"):
        RecordConfig(domain="cashier", policy="rules", options={"dispatcher": "manual"}).validate()
    with pytest.raises(ConfigError, match="domain 'cashier' has no option 'lanes'"):
        RecordConfig(domain="cashier", policy="rules", options={"lanes": "4"}).validate()
    with pytest.raises(ConfigError, match=r"domain 'factory' has no option 'dispatcher'.*none"):
        RecordConfig(policy="random", options={"dispatcher": "automatic"}).validate()


def test_a_baseline_is_offered_only_by_its_domain() -> None:
    RecordConfig(domain="factory", policy="rules").validate()  # the factory has rules too
    with pytest.raises(ConfigError, match="choose one of model, random, first-legal, rules"):
        RecordConfig(domain="cashier", policy="greedy").validate()


def test_the_command_line_takes_options_and_baselines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "auto.parquet"
    argv = ["record", "--domain", "cashier", "--option", "dispatcher=automatic"]
    code, stdout, _ = run_cli(
        [*argv, "--policy", "rules", "--episodes", "2", "--out", str(out)], capsys
    )
    assert code == 0
    assert "of cashier (dispatcher=automatic)" in stdout
    code, _, stderr = run_cli([*argv[:-2], "--option", "dispatcher", "--out", str(out)], capsys)
    assert code == 2
    assert "must be NAME=VALUE" in stderr


def test_inspect_counts_agree_with_the_recorded_kpis(tmp_path: Path) -> None:
    out = tmp_path / "rules.parquet"
    record(RecordConfig(domain="cashier", policy="rules", episodes=2, out=out))
    table = read_events(out)
    summary = summarise(table)
    frame = table.to_polars()
    for episode in summary["episodes"]:
        rows = frame.filter(
            (frame["episode"] == episode["episode"]) & (frame["actor"] == "cashier_slow")
            | (frame["episode"] == episode["episode"]) & (frame["actor"] == "cashier_fast")
        )
        completed = rows.filter(
            (rows["state"] == "serving") & (rows["end"] < episode["end_time"])
        ).height
        # a service still running when the episode ends earned nothing
        assert completed == episode["kpis"]["customers_served"]


@pytest.fixture(scope="module")
def automatic_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("cashier-auto")
    result = train(tiny_config(out, domain="cashier", options={"dispatcher": "automatic"}))
    return result.model_path


def test_training_stores_the_variant_in_the_card(automatic_model: Path) -> None:
    card = json.loads(automatic_model.with_suffix(".json").read_text())
    assert card["domain_options"] == {"dispatcher": "automatic"}
    assert card["config"]["options"] == {"dispatcher": "automatic"}


def test_record_plays_a_model_of_its_own_variant_and_refuses_another(
    automatic_model: Path, tmp_path: Path
) -> None:
    ok = RecordConfig(
        domain="cashier",
        model=automatic_model,
        options={"dispatcher": "automatic"},
        out=tmp_path / "ok.parquet",
    )
    assert record(ok).options == {"dispatcher": "automatic"}
    wrong = RecordConfig(domain="cashier", model=automatic_model, out=tmp_path / "no.parquet")
    with pytest.raises(
        ModelError,
        match=r"cashier with options dispatcher=automatic, the recording asks for "
        r"dispatcher=controlled",
    ):
        record(wrong)
    assert not (tmp_path / "no.parquet").exists()


def test_without_a_model_the_domain_own_default_is_looked_for(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A cashier that ships no model: record plays what a bare `simreel train` writes.
    monkeypatch.setattr(CashierDomain, "shipped_models", None)
    monkeypatch.setattr(models, "MODELS_ROOT", tmp_path / "models")  # none trained there
    code, _, stderr = run_cli(
        ["record", "--domain", "cashier", "--out", str(tmp_path / "t.parquet")], capsys
    )
    assert code == 2
    expected = tmp_path / "models" / "cashier-seed0" / "model.zip"
    assert f"{expected}: model file not found" in stderr
    assert (
        "train one with `simreel train --domain cashier --option dispatcher=controlled`" in stderr
    )
    assert not (tmp_path / "t.parquet").exists()
