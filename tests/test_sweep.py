"""Sweeps: runs over seeds and settings on Ray, one results table, learning curves, resume."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow.parquet as pq
import pytest

import stages.train.population as population_module
import stages.train.sweep as sweep_module
from schemas.errors import ConfigError
from schemas.provenance import sha256_file
from stages.render.png import SIGNATURE
from stages.train.config import TrainConfig
from stages.train.curves import nice_ticks
from stages.train.model_card import load_model_card
from stages.train.run import train
from stages.train.sweep import (
    SweepConfig,
    SweepInterrupted,
    SweepResult,
    load_sweep,
    parse_seeds,
    parse_value,
    sweep,
)
from tests.cli_helpers import run_cli
from tests.train_helpers import TINY, local_ray

pytestmark = pytest.mark.usefixtures(local_ray.__name__)

SETTINGS: dict[str, Any] = {name: value for name, value in TINY.items() if name != "progress"}
"""A tiny single learner per run: seconds per run."""


def _config(out_dir: Path, **overrides: Any) -> SweepConfig:
    values: dict[str, Any] = {
        "settings": dict(SETTINGS),
        "grid": {"learning_rate": (3e-4, 1e-3)},
        "seeds": (0, 1),
        "out_dir": out_dir,
        "progress": False,
    }
    return SweepConfig(**{**values, **overrides})


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> SweepResult:
    """A finished sweep of 4 runs: 2 learning rates x 2 seeds."""
    return sweep(_config(tmp_path_factory.mktemp("sweep")))


def test_a_sweep_writes_one_results_table_that_polars_reads(finished: SweepResult) -> None:
    out = finished.out_dir
    assert finished.trained == 4
    assert [s.run.describe() for s in finished.finished] == [
        "run-000 (seed 0, learning_rate 0.0003)",
        "run-001 (seed 1, learning_rate 0.0003)",
        "run-002 (seed 0, learning_rate 0.001)",
        "run-003 (seed 1, learning_rate 0.001)",
    ]
    table = pl.read_parquet(out / "results.parquet")
    assert table.schema["learning_rate"] == pl.Float64
    assert table.schema["kpi"] == pl.Float64
    assert table.schema["timestep"] == pl.Int64
    runs = table.group_by("run", "seed", "learning_rate").agg(pl.len()).sort("run")
    assert runs["seed"].to_list() == [0, 1, 0, 1]
    assert runs["learning_rate"].to_list() == [3e-4, 3e-4, 1e-3, 1e-3]
    for summary in finished.finished:
        rows = table.filter(pl.col("run") == summary.run.index).sort("timestep")
        card = load_model_card(out / "runs" / f"run-{summary.run.index:03d}" / "model.zip")
        assert rows["timestep"].to_list() == [e.timestep for e in card.evaluations]
        assert rows["kpi"].to_list() == [e.score for e in card.evaluations]
        assert rows["wall_seconds"].to_list() == [e.wall_seconds for e in card.evaluations]
        assert set(rows["run_wall_seconds"].to_list()) == {card.wall_seconds}
        assert rows["chosen"].all()
        config = json.loads(rows["config"][0])
        assert (config["seed"], config["learning_rate"]) == (
            summary.run.seed,
            summary.run.values["learning_rate"],
        )
    assert set(table["kpi_name"].to_list()) == {"finished_items"}
    metadata = json.loads(pq.read_schema(out / "results.parquet").metadata[b"simreel.sweep"])
    assert metadata["sweep"] == json.loads((out / "sweep.json").read_text())


def test_a_sweep_draws_the_learning_curves_with_provenance(finished: SweepResult) -> None:
    png = finished.curves_path.read_bytes()
    assert png.startswith(SIGNATURE)
    assert b"tEXtComment" in png
    assert b"learning_rate" in png
    assert b"Software\x00simreel" in png


def test_a_run_of_a_sweep_is_the_training_run_of_its_config(
    finished: SweepResult, tmp_path: Path
) -> None:
    run = finished.finished[3].run
    alone = train(
        TrainConfig.for_domain(
            **{**SETTINGS, "progress": False}, learning_rate=1e-3, seed=1, out_dir=tmp_path
        )
    ).card
    swept = finished.finished[3].card
    assert [(e.timestep, e.score) for e in swept.evaluations] == [
        (e.timestep, e.score) for e in alone.evaluations
    ]
    assert swept.config["learning_rate"] == run.values["learning_rate"]


def test_the_same_sweep_again_continues_and_another_is_refused(finished: SweepResult) -> None:
    digests = {s.run.index: sha256_file(s.run.folder / "model.zip") for s in finished.finished}
    again = sweep(_config(finished.out_dir))
    assert again.trained == 0
    assert {s.run.index: sha256_file(s.run.folder / "model.zip") for s in again.finished} == digests
    with pytest.raises(ConfigError, match=r"holds another sweep .*--resume .*--force"):
        sweep(_config(finished.out_dir, seeds=(5,)))


def test_an_interrupted_sweep_continues_without_redoing_finished_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sweep_module, "runs_at_once", lambda _session, _population: 1)
    real_poll = population_module._poll
    pressed = {"ctrl-c": False}

    def poll(coordinator: Any) -> Any:
        evaluations, progress = real_poll(coordinator)
        if progress.get(1) and not pressed["ctrl-c"]:  # run 1 has begun: Ctrl-C
            pressed["ctrl-c"] = True
            raise KeyboardInterrupt
        return evaluations, progress

    monkeypatch.setattr(population_module, "_poll", poll)
    config = _config(tmp_path, settings={**SETTINGS, "timesteps": 4096})
    with pytest.raises(SweepInterrupted) as interrupted:
        sweep(config)
    assert f"continue with: simreel sweep --resume {tmp_path}" in str(interrupted.value)
    runs = tmp_path / "runs"
    assert load_model_card(runs / "run-000" / "model.zip").complete
    checkpoint = load_model_card(runs / "run-001" / "checkpoint.zip")
    assert not checkpoint.complete
    assert 0 < checkpoint.timesteps < 4096
    assert not (runs / "run-002").exists()
    assert pl.read_parquet(tmp_path / "results.parquet")["run"].unique().to_list() == [0]
    first = sha256_file(runs / "run-000" / "model.zip")

    monkeypatch.undo()
    resumed = sweep(load_sweep(tmp_path))
    assert resumed.trained == 3
    assert sha256_file(runs / "run-000" / "model.zip") == first, "a finished run was trained again"
    continued = load_model_card(runs / "run-001" / "model.zip")
    assert continued.complete
    assert continued.evaluations[: len(checkpoint.evaluations)] == checkpoint.evaluations
    assert continued.config["resume"] == str(runs / "run-001" / "checkpoint.zip")
    table = pl.read_parquet(tmp_path / "results.parquet")
    assert table["run"].unique().sort().to_list() == [0, 1, 2, 3]


def test_a_population_sweep_lists_every_learner(tmp_path: Path) -> None:
    result = sweep(_config(tmp_path, grid={}, seeds=(4,), settings={**SETTINGS, "population": 2}))
    table = pl.read_parquet(result.results_path)
    assert table["member"].unique().sort().to_list() == [0, 1]
    (card,) = [s.card for s in result.finished]
    chosen = table.filter(pl.col("chosen"))["member"].unique().to_list()
    assert chosen == [m.member for m in card.members if m.chosen]


def test_seeds_and_values_parse_and_bad_ones_say_how() -> None:
    assert parse_seeds("0-3") == (0, 1, 2, 3)
    assert parse_seeds("0,3 7") == (0, 3, 7)
    assert parse_value("net_arch", "64x32") == (64, 32)
    assert parse_value("stop_at", "none") is None
    assert parse_value("n_envs", "4") == 4
    with pytest.raises(ConfigError, match=r"--seeds \(3-1\): '3-1' is not a seed or a range"):
        parse_seeds("3-1")
    with pytest.raises(ConfigError, match=r"--set seed: not a setting a sweep varies .*--seeds"):
        parse_value("seed", "1")
    with pytest.raises(
        ConfigError, match=r"--grid learning_rate=fast: not a value of learning_rate"
    ):
        parse_value("learning_rate", "fast", "--grid")
    with pytest.raises(ConfigError, match=r"--set vec_env=gpu: must be one of dummy, subproc"):
        parse_value("vec_env", "gpu")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--set", "seed=3"], "--set seed: not a setting a sweep varies"),
        (["--grid", "n_envs=2,x"], "--grid n_envs=x: not a value of n_envs"),
        (
            ["--list", "n_steps=64,128", "--list", "batch_size=64"],
            "--list fields take their values in step",
        ),
        (["--set", "n_envs=2", "--grid", "n_envs=2,4"], "--grid n_envs: the field is given twice"),
        (
            ["--set", "n_steps=8", "--set", "batch_size=512"],
            "run-000 (seed 0): --batch-size (512) must be at most",
        ),
        (["--seeds", "0-2", "--resume", "somewhere"], "--resume (somewhere) continues that sweep"),
        (["--resume", "nowhere"], "--resume (nowhere) holds no sweep"),
    ],
)
def test_bad_sweeps_give_one_line_and_exit_2(
    args: list[str], expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run_cli(["sweep", "--quiet", *args], capsys)
    assert code == 2, err
    assert expected in err
    assert len(err.strip().splitlines()) == 1, err


def test_the_command_prints_each_run_and_where_it_wrote(
    finished: SweepResult, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(["sweep", "--quiet", "--resume", str(finished.out_dir)], capsys)
    assert code == 0, err
    lines = out.strip().splitlines()
    assert lines[0].startswith("run-000 (seed 0, learning_rate 0.0003): best finished items ")
    assert lines[-1] == (
        f"trained 0 of 4 runs; wrote {finished.results_path} and {finished.curves_path}"
    )


def test_nice_ticks_are_round_and_cover_the_range() -> None:
    assert nice_ticks(0, 28) == [0, 5, 10, 15, 20, 25, 30]
    assert nice_ticks(0, 500_000) == [0, 100_000, 200_000, 300_000, 400_000, 500_000]
    assert nice_ticks(-1, 1) == [-1, -0.5, 0, 0.5, 1]


def test_help_has_an_example(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(["sweep", "--help"], capsys)
    assert code == 0
    assert "Example:" in out
    assert "simreel sweep --seeds 0-9 --set stop_at=28" in out
    for flag in ("--set", "--grid", "--list", "--resume", "--address", "--force"):
        assert flag in out
