"""Models and tables name the package (and its version) that provided their domain, and
``record`` says when a model was trained with another one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from domains.registry import domain_package
from schemas.events import read_events
from schemas.provenance import simreel_version
from stages.train.model_card import load_model_card
from stages.train.run import train
from tests.cli_helpers import run_cli
from tests.train_helpers import format_3_factory_model, tiny_config

SIMREEL = {"name": "simreel", "version": simreel_version()}


def test_the_built_in_domains_come_from_simreel() -> None:
    assert domain_package("factory") == SIMREEL
    assert domain_package("cashier") == SIMREEL


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("run")
    return train(tiny_config(folder, timesteps=256, eval_freq=256)).model_path


def test_a_card_and_a_table_name_the_domains_package(
    trained: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert load_model_card(trained).domain_package == SIMREEL
    table = tmp_path / "t.parquet"
    code, _, err = run_cli(["record", "--model", str(trained), "--out", str(table)], capsys)
    assert code == 0, err
    assert "note:" not in err
    provenance = read_events(table).metadata.provenance
    assert provenance["domain"]["package"] == SIMREEL
    assert provenance["policy"]["card"]["domain_package"] == SIMREEL


def test_record_says_when_the_model_was_trained_with_another_version(
    trained: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = tmp_path / "model.zip"
    model.write_bytes(trained.read_bytes())
    card = json.loads(trained.with_suffix(".json").read_text())
    card["domain_package"] = {"name": "simreel", "version": "0.0.1"}
    model.with_suffix(".json").write_text(json.dumps(card))
    table = tmp_path / "t.parquet"
    code, _, err = run_cli(["record", "--model", str(model), "--out", str(table)], capsys)
    assert code == 0, err
    assert (
        f"note: the model was trained with simreel 0.0.1, this is simreel {simreel_version()}"
        in err
    )


def test_a_card_from_before_packages_were_named_reads_as_unknown(tmp_path: Path) -> None:
    card = load_model_card(format_3_factory_model(tmp_path))
    assert card.card_format < 5
    assert card.domain_package == {}
