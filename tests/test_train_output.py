"""Where training writes: a folder of its own per run, never the committed model unless told to,
and a resumable checkpoint at the end of every run."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from domains.cashier.simulation import CashierDomain
from domains.factory.simulation import FactoryDomain
from schemas.errors import ConfigError
from schemas.provenance import sha256_file
from stages.train import model_card as models
from stages.train.config import TrainConfig
from stages.train.model_card import DEFAULT_MODEL, default_model, load_model_card, run_name
from stages.train.run import train
from tests.cli_helpers import run_cli
from tests.train_helpers import TINY, tiny_config

REPO_ROOT = Path(__file__).resolve().parent.parent
TINY_FLAGS = [
    "--quiet",
    "--population=1",
    "--timesteps=512",
    "--n-envs=1",
    "--n-steps=128",
    "--batch-size=64",
    "--n-epochs=2",
    "--eval-freq=256",
]
""":data:`tests.train_helpers.TINY` as command-line flags."""


@pytest.fixture
def models_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty stand-in for data/models/, so default runs never touch the source tree."""
    root = tmp_path / "models"
    monkeypatch.setattr(models, "MODELS_ROOT", root)
    return root


def _default(**overrides: Any) -> TrainConfig:
    """:data:`TINY` with no output directory: the run picks its default one."""
    return TrainConfig.for_domain(**{**TINY, **overrides})


def test_the_default_folder_differs_per_seed_and_variant_and_is_never_records_default() -> None:
    assert run_name(FactoryDomain, {}, 0) == "factory-seed0"
    assert run_name(FactoryDomain, {}, 2) == "factory-seed2"
    assert run_name(CashierDomain, {}, 0) == "cashier-seed0"
    assert run_name(CashierDomain, {"dispatcher": "controlled"}, 0) == "cashier-seed0"
    assert run_name(CashierDomain, {"dispatcher": "automatic"}, 3) == "cashier-automatic-seed3"
    folders = {
        TrainConfig(domain=domain, options=options, seed=seed).output_dir()
        for domain, options in (
            ("factory", {}),
            ("cashier", {}),
            ("cashier", {"dispatcher": "automatic"}),
        )
        for seed in (0, 1, 2)
    }
    assert len(folders) == 9
    assert {folder.parent for folder in folders} == {models.MODELS_ROOT}
    shipped = {
        default_model("factory").parent,
        *(Path(CashierDomain.shipped_models or "") / v for v in ("controlled", "automatic")),
    }
    assert not {folder.resolve() for folder in folders} & shipped
    # A named folder, and a resumed run's checkpoint folder, are used as given.
    assert TrainConfig(out_dir=Path("x")).output_dir() == Path("x")
    assert TrainConfig(resume=Path("y/checkpoint.zip")).output_dir() == Path("y")


@pytest.mark.parametrize("earlier", ["model.zip", "model.json", "checkpoint.zip", "member-0"])
def test_an_earlier_run_in_the_default_folder_is_refused_before_anything_is_written(
    models_root: Path, earlier: str
) -> None:
    folder = models_root / "factory-seed0"
    folder.mkdir(parents=True)
    if earlier.startswith("member-"):
        (folder / earlier).mkdir()
    else:
        (folder / earlier).write_bytes(b"an earlier run's")
    before = sorted(folder.rglob("*"))
    with pytest.raises(ConfigError) as refused:
        train(_default())
    message = str(refused.value)
    assert f"{folder / earlier} already exists" in message
    assert "pass --force to replace it" in message
    assert "--out-dir" in message
    assert sorted(folder.rglob("*")) == before, "a refused run must write nothing"
    assert [p.name for p in models_root.iterdir()] == ["factory-seed0"]


def test_the_refusal_is_one_line_naming_force_and_suggests_training_the_run_on(
    models_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run_cli(["train", *TINY_FLAGS], capsys)
    assert code == 0, err
    checkpoint = models_root / "factory-seed0" / "checkpoint.zip"
    model = checkpoint.with_name("model.zip")
    digest = sha256_file(model)
    code, _, err = run_cli(["train", *TINY_FLAGS], capsys)
    assert code == 2
    assert len(err.strip().splitlines()) == 1, err
    assert f"{model} already exists" in err
    assert "--force" in err
    assert f"simreel train --resume {checkpoint} --timesteps 1024" in err
    assert sha256_file(model) == digest


def test_force_replaces_an_earlier_run_in_the_default_folder(models_root: Path) -> None:
    folder = models_root / "factory-seed0"
    folder.mkdir(parents=True)
    (folder / "model.zip").write_bytes(b"an earlier run's")
    result = train(_default(), force=True)
    assert result.model_path == folder / "model.zip"
    assert load_model_card(result.model_path).model_sha256 == sha256_file(result.model_path)


def test_force_on_the_command_line(models_root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = models_root / "factory-seed3"
    folder.mkdir(parents=True)
    (folder / "model.zip").write_bytes(b"an earlier run's")
    code, out, err = run_cli(["train", *TINY_FLAGS, "--seed=3", "--force"], capsys)
    assert code == 0, err
    assert f"wrote {folder / 'model.zip'}" in out
    assert load_model_card(folder / "model.zip").seed == 3


def test_a_named_out_dir_may_hold_an_earlier_run(models_root: Path) -> None:
    folder = models_root / "factory"  # where record looks: written only when named
    folder.mkdir(parents=True)
    (folder / "model.zip").write_bytes(b"an earlier run's")
    result = train(tiny_config(folder))
    assert result.model_path == folder / "model.zip"
    assert load_model_card(result.model_path).model_sha256 == sha256_file(result.model_path)


def test_a_finished_run_writes_a_checkpoint_that_the_printed_command_trains_on(
    models_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(["train", *TINY_FLAGS], capsys)
    assert code == 0, err
    folder = models_root / "factory-seed0"
    checkpoint = folder / "checkpoint.zip"
    first = load_model_card(folder / "model.zip")
    card = load_model_card(checkpoint)
    assert card.complete
    assert card.model_sha256 == sha256_file(checkpoint)
    assert (card.timesteps, card.evaluations) == (512, first.evaluations)
    assert (folder / "checkpoint-best.zip").read_bytes() == (folder / "model.zip").read_bytes()
    command = f"simreel train --resume {checkpoint} --timesteps 1024"
    assert command in out

    # Without a larger budget the resume is refused, saying what to pass.
    code, _, err = run_cli(["train", "--quiet", "--resume", str(checkpoint)], capsys)
    assert code == 2
    assert f"--timesteps (512) must exceed the 512 timesteps {checkpoint} has done" in err
    assert "the total, not the steps to add" in err
    assert command in err

    # The printed command continues the run beside its checkpoint (no refusal there).
    code, _, err = run_cli(["train", "--quiet", *command.split()[2:]], capsys)
    assert code == 0, err
    resumed = load_model_card(folder / "model.zip")
    assert resumed.complete
    assert resumed.timesteps == 1024
    assert [e.timestep for e in resumed.evaluations] == [0, 256, 512, 768, 1024]
    assert resumed.evaluations[:3] == first.evaluations
    assert resumed.best_score >= first.best_score
    assert resumed.wall_seconds > first.wall_seconds
    again = load_model_card(checkpoint)
    assert (again.complete, again.timesteps) == (True, 1024)
    assert [p.name for p in models_root.iterdir()] == ["factory-seed0"]


_CLONE_MAIN = """
import sys
from pathlib import Path

import stages.train.model_card

if not Path(stages.train.model_card.__file__).resolve().is_relative_to(Path.cwd().resolve()):
    sys.exit(f"simreel was imported from {stages.train.model_card.__file__}, not from the copy")
from stages.cli import main

main(sys.argv[1:])
"""
"""``simreel`` run from the copy in the working directory (never from the source tree)."""


def test_a_default_run_leaves_the_committed_model_alone(tmp_path: Path) -> None:
    clone = tmp_path / "clone"
    for package in ("stages", "schemas", "domains"):
        shutil.copytree(
            REPO_ROOT / package, clone / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copytree(DEFAULT_MODEL.parent, clone / "data" / "models" / "factory")
    committed = sorted((clone / "data" / "models" / "factory").rglob("*"))
    digests = {path: sha256_file(path) for path in committed if path.is_file()}
    source_digest = sha256_file(DEFAULT_MODEL)
    environment = {key: value for key, value in os.environ.items() if key != "PYTHONSAFEPATH"}
    finished = subprocess.run(
        [sys.executable, "-c", _CLONE_MAIN, "train", *TINY_FLAGS],
        cwd=clone,
        env={**environment, "SDL_VIDEODRIVER": "dummy"},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert finished.returncode == 0, finished.stderr
    assert sorted((clone / "data" / "models" / "factory").rglob("*")) == committed
    assert {path: sha256_file(path) for path in digests} == digests
    assert sha256_file(DEFAULT_MODEL) == source_digest
    # The run lands in the working folder (the user's), named as the user would type it.
    run = clone / "data" / "models" / "factory-seed0"
    assert f"wrote {Path('data/models/factory-seed0/model.zip')} " in finished.stdout
    assert load_model_card(run / "model.zip").complete
    assert load_model_card(run / "checkpoint.zip").complete


def test_a_resumed_run_is_not_refused_and_keeps_its_folder(models_root: Path) -> None:
    first = train(_default())
    resumed = train(replace(_default(), resume=first.checkpoint_path, timesteps=768))
    assert resumed.model_path == first.model_path
    assert resumed.card.timesteps == 768
