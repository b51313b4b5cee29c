"""The train stage: a tiny real run, its card, the command line's errors, Ctrl-C and resume."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import stages.train.learner as train_module
from domains.factory.simulation import make_factory_env
from schemas.errors import ConfigError
from schemas.provenance import sha256_file
from stages.cli import main
from stages.train.cli import train_command
from stages.train.config import TrainConfig, TrainingInterrupted, TrainResult
from stages.train.model_card import Evaluation, load_model_card
from stages.train.model_policy import load_policy
from stages.train.run import train
from tests.train_helpers import tiny_config


def _tiny(out_dir: Path, **overrides: Any) -> TrainConfig:
    return tiny_config(out_dir, **overrides)


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> TrainResult:
    """One real tiny training run, shared by the tests that only read its outputs."""
    return train(_tiny(tmp_path_factory.mktemp("tiny")))


def test_train_writes_a_model_and_a_valid_card(tiny_run: TrainResult) -> None:
    result = tiny_run
    tmp_path = result.model_path.parent
    assert result.model_path == tmp_path / "model.zip"
    assert result.card_path == tmp_path / "model.json"
    card = load_model_card(result.model_path)
    assert card == result.card
    assert card.complete
    assert card.domain_id == "factory"
    assert card.timesteps == 512
    assert card.config["timesteps"] == 512
    assert card.config["n_envs"] == 1
    assert card.model_sha256 == sha256_file(result.model_path)
    assert card.observation_shape == make_factory_env().observation_space.shape
    assert card.action_count == 10
    # timestep 0, then every 256 steps (checked at rollout starts: 128, 256, ...), then the end
    assert [e.timestep for e in card.evaluations] == [0, 256, 512]
    assert card.best_score == max(e.score for e in card.evaluations)
    assert card.library_versions["sb3-contrib"] != "not installed"
    assert not list(tmp_path.glob("*.partial*")), "atomic writes left temporary files"
    policy = load_policy(result.model_path, make_factory_env())
    assert policy.describe()["sha256"] == card.model_sha256


def _script_evaluations(monkeypatch: pytest.MonkeyPatch, results: list[float]) -> None:
    """Evaluation k returns results[k] (the last one from then on) instead of playing."""
    calls = {"n": 0}

    def evaluate(_self: Any, _model: Any, timestep: int, wall_seconds: float) -> Evaluation:
        calls["n"] += 1
        return Evaluation(timestep, wall_seconds, results[min(calls["n"], len(results)) - 1])

    monkeypatch.setattr(train_module._Validation, "evaluate", evaluate)


def test_best_is_the_earliest_of_the_most_items(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _script_evaluations(monkeypatch, [1.0, 3.0, 2.0, 3.0, 3.0])
    card = train(_tiny(tmp_path, timesteps=1024)).card
    assert [e.score for e in card.evaluations] == [1.0, 3.0, 2.0, 3.0, 3.0]
    assert (card.best_score, card.best_timestep) == (3.0, 256)
    assert card.best_wall_seconds == card.evaluations[1].wall_seconds


def test_stop_at_stops_training_once_reached(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _script_evaluations(monkeypatch, [0.0, 3.0])
    card = train(_tiny(tmp_path, timesteps=4096, stop_at=3.0)).card
    # reached at the evaluation of timestep 256; the very next env step stops training
    assert card.timesteps == 257
    assert (card.best_score, card.best_timestep) == (3.0, 256)


def test_help_has_an_example() -> None:
    result = CliRunner().invoke(train_command, ["--help"])
    assert result.exit_code == 0
    assert "Example:" in result.output
    assert "simreel train --seed" in result.output
    for flag in ("--timesteps", "--n-envs", "--net-arch", "--resume", "--tensorboard", "--force"):
        assert flag in result.output
    assert f"--population learners (default {TrainConfig().population})" in result.output


def _run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """Run `simreel train --quiet ARGS` as the console script does: exit code and stderr."""
    try:
        main(["train", "--quiet", *args])
        code = 0
    except SystemExit as exited:
        code = exited.code if isinstance(exited.code, int) else 1
    return code, capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--timesteps", "-5"], "--timesteps (-5) must be a positive integer"),
        (["--n-envs", "0"], "--n-envs (0) must be a positive integer"),
        (["--population", "0"], "--population (0) must be a positive integer"),
        (["--gamma", "1.5"], "--gamma (1.5) must be in [0, 1]"),
        (["--batch-size", "4096", "--n-steps", "64"], "--batch-size (4096) must be at most"),
        (["--domain", "nope"], "unknown domain 'nope'; installed domains: cashier, factory"),
        (["--resume", "missing.zip"], "--resume (missing.zip) is not a file"),
    ],
)
def test_bad_options_give_one_line_and_exit_2(
    args: list[str], expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = _run_cli(args, capsys)
    assert code == 2
    assert expected in err
    assert len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err


def test_unwritable_output_directory_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    code, err = _run_cli(["--out-dir", str(blocker / "models")], capsys)
    assert code != 0
    assert f"--out-dir ({blocker / 'models'}) is not a writable directory" in err
    assert len(err.strip().splitlines()) == 1, err


def test_config_errors_name_the_field() -> None:
    with pytest.raises(ConfigError, match=r"--net-arch \(empty\)"):
        TrainConfig(net_arch=()).validate()
    with pytest.raises(ConfigError, match=r"--ent-coef \(-0.1\) must be >= 0"):
        TrainConfig(ent_coef=-0.1).validate()
    TrainConfig().validate()  # the defaults are valid


def _interrupt_at_evaluation(monkeypatch: pytest.MonkeyPatch, number: int) -> None:
    """Make the `number`-th evaluation raise KeyboardInterrupt, as Ctrl-C would."""
    real = train_module._Validation.evaluate
    calls = {"n": 0}

    def evaluate(*args: Any) -> Evaluation:
        calls["n"] += 1
        if calls["n"] == number:
            raise KeyboardInterrupt
        return real(*args)

    monkeypatch.setattr(train_module._Validation, "evaluate", evaluate)


def test_ctrl_c_writes_a_checkpoint_that_resumes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = _tiny(tmp_path, timesteps=1024)
    _interrupt_at_evaluation(monkeypatch, 3)  # evaluations at 0 and 256 ran; 512 is cut
    with pytest.raises(TrainingInterrupted) as interrupted:
        train(config)
    checkpoint = interrupted.value.checkpoint
    assert checkpoint == tmp_path / "checkpoint.zip"
    assert not (tmp_path / "model.zip").exists(), "an interrupted run must not replace the model"
    card = load_model_card(checkpoint)
    assert not card.complete
    assert card.timesteps == interrupted.value.timesteps == 512
    assert [e.timestep for e in card.evaluations] == [0, 256]
    assert (tmp_path / "checkpoint-best.zip").is_file()

    monkeypatch.undo()
    with pytest.raises(ConfigError, match=r"--timesteps \(512\) must exceed the 512 timesteps"):
        train(replace(config, resume=checkpoint, timesteps=512))
    result = train(replace(config, resume=checkpoint))
    resumed = result.card
    assert resumed.complete
    assert resumed.timesteps == 1024
    assert [e.timestep for e in resumed.evaluations] == [0, 256, 512, 768, 1024]
    assert resumed.wall_seconds > card.wall_seconds
    assert resumed.config["resume"] == str(checkpoint)


def test_a_resumed_learner_trains_on_exactly_as_after_sb3s_own_loader(
    tiny_run: TrainResult,
) -> None:
    # Resume reads only the checkpoint's weights and Adam state into a fresh model
    # (nothing unpickled); the run must go on bit for bit as after `MaskablePPO.load`,
    # which unpickles the whole zip. Each model learns right after it is made: both
    # draw on torch's and numpy's global generators, which their seeding resets.
    import torch
    from sb3_contrib import MaskablePPO
    from stable_baselines3.common.vec_env import DummyVecEnv

    from domains.registry import domain_factory, load_domain

    checkpoint = tiny_run.checkpoint_path
    config = _tiny(checkpoint.parent, timesteps=1024, resume=checkpoint)

    def venv() -> Any:
        make_domain = domain_factory(load_domain("factory"), {})
        envs = DummyVecEnv([train_module._EnvFactory(make_domain)] * config.n_envs)
        envs.seed(config.seed)
        return envs

    def learned(model: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        model.learn(256, reset_num_timesteps=False)
        assert model.num_timesteps == 768
        return model.policy.state_dict(), model.policy.optimizer.state_dict()

    args = train_module._ppo_args(config)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as a learner trains
    try:
        sb3 = learned(MaskablePPO.load(checkpoint, env=venv(), device="cpu", seed=0, **args))
        ours = MaskablePPO(
            "MlpPolicy",
            venv(),
            seed=0,
            device="cpu",
            policy_kwargs=train_module.policy_kwargs(train_module.mlp_network(config.net_arch)),
            **args,
        )
        train_module._Resumed.read(checkpoint, config).restore(ours)
        resumed = learned(ours)
    finally:
        torch.set_num_threads(threads)
    assert sb3[0].keys() == resumed[0].keys()
    assert all(torch.equal(sb3[0][name], resumed[0][name]) for name in sb3[0])
    assert sb3[1]["param_groups"] == resumed[1]["param_groups"]
    for index, entry in sb3[1]["state"].items():
        assert all(torch.equal(value, resumed[1]["state"][index][k]) for k, value in entry.items())


def test_resume_refuses_another_net_arch(tmp_path: Path, tiny_run: TrainResult) -> None:
    with pytest.raises(ConfigError, match=r"hidden layers \[64, 64\] and tanh, this run trains"):
        train(_tiny(tmp_path, resume=tiny_run.checkpoint_path, timesteps=1024, net_arch=(32,)))


def test_ctrl_c_on_the_command_line_prints_one_line_and_exits_130(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _interrupt_at_evaluation(monkeypatch, 2)
    args = ["--out-dir", str(tmp_path), "--population", "1", "--n-envs", "1", "--n-steps", "128"]
    args += ["--batch-size", "64", "--timesteps", "1024", "--eval-freq", "128"]
    code, err = _run_cli(args, capsys)
    assert code == 130
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("interrupted at 128 timesteps; checkpoint written to ")
    assert f"simreel train --resume {tmp_path / 'checkpoint.zip'}" in lines[0]

    # The suggested command continues with the interrupted run's settings and directory.
    monkeypatch.undo()
    code, err = _run_cli(["--resume", str(tmp_path / "checkpoint.zip")], capsys)
    assert code == 0, err
    card = load_model_card(tmp_path / "model.zip")
    assert (card.timesteps, card.config["eval_freq"], card.config["n_envs"]) == (1024, 128, 1)


def test_resume_refuses_a_checkpoint_of_another_domain(
    tmp_path: Path, tiny_run: TrainResult
) -> None:
    checkpoint = tmp_path / "checkpoint.zip"
    checkpoint.write_bytes(b"not used")
    card = json.loads(tiny_run.card_path.read_text())
    card["domain_id"] = "other"
    card["model_sha256"] = sha256_file(checkpoint)
    (tmp_path / "checkpoint.json").write_text(json.dumps(card))
    with pytest.raises(ConfigError, match=r"trained on domain 'other', not 'factory'"):
        train(_tiny(tmp_path / "out", resume=checkpoint))
