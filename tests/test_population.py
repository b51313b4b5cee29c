"""Population runs: learners as Ray tasks, the best kept, Ctrl-C and resume."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import torch

import stages.train.population as population_module
from schemas.errors import ConfigError, ModelError
from schemas.provenance import sha256_file
from stages.train.config import TrainConfig, TrainingInterrupted, TrainResult
from stages.train.model_card import MemberSummary, load_model_card
from stages.train.population import choose, member_dir, member_seed
from stages.train.run import train
from tests.test_hostile_models import WritesMarker, rewrite_zip, seal, torch_saved
from tests.train_helpers import local_ray, tiny_config

pytestmark = pytest.mark.usefixtures(local_ray.__name__)


def _tiny(out_dir: Path, **overrides: Any) -> TrainConfig:
    return tiny_config(out_dir, **{"population": 2, **overrides})


def _member(member: int, items: float, timestep: int) -> MemberSummary:
    return MemberSummary(member, member, 1000, items, timestep, 1.0, chosen=False)


def test_choose_takes_most_items_then_earliest_timestep_then_lowest_learner() -> None:
    assert choose([_member(0, 27.0, 100), _member(1, 28.0, 900)]) == 1
    assert choose([_member(0, 28.0, 900), _member(1, 28.0, 100)]) == 1
    assert choose([_member(0, 28.0, 100), _member(1, 28.0, 100)]) == 0
    assert choose([_member(3, 5.0, 100), _member(2, 5.0, 100)]) == 1


def test_learner_zero_trains_with_the_run_seed_and_the_others_apart() -> None:
    assert member_seed(7, 0) == 7
    seeds = {member_seed(seed, k) for seed in range(50) for k in range(4)}
    assert len(seeds) == 200, "learners of different runs must not share seeds"


@pytest.fixture(scope="module")
def population_run(tmp_path_factory: pytest.TempPathFactory) -> TrainResult:
    """One real tiny population run of two learners."""
    return train(_tiny(tmp_path_factory.mktemp("population")))


def test_population_keeps_the_chosen_learners_model_and_lists_every_learner(
    population_run: TrainResult,
) -> None:
    out_dir = population_run.model_path.parent
    card = load_model_card(population_run.model_path)
    assert card == population_run.card
    assert card.complete
    assert card.config["population"] == 2
    assert [m.member for m in card.members] == [0, 1]
    assert [m.seed for m in card.members] == [member_seed(0, 0), member_seed(0, 1)]
    (chosen,) = [m for m in card.members if m.chosen]
    assert chosen.member == choose(list(card.members))
    learner_zip = member_dir(out_dir, chosen.member) / "model.zip"
    assert population_run.model_path.read_bytes() == learner_zip.read_bytes()
    learner_card = load_model_card(learner_zip)
    assert learner_card.config["population"] == 1
    assert learner_card.seed == chosen.seed
    assert card.evaluations == learner_card.evaluations
    assert (card.best_score, card.best_timestep) == (
        chosen.best_score,
        chosen.best_timestep,
    )
    for member in card.members:
        assert load_model_card(member_dir(out_dir, member.member) / "model.zip").timesteps == 512
    assert not list(out_dir.rglob("*.partial*")), "atomic writes left temporary files"


def test_learner_zero_trains_exactly_as_a_single_learner_with_the_run_seed(
    population_run: TrainResult, tmp_path: Path
) -> None:
    single = train(_tiny(tmp_path, population=1)).card
    learner_zero = load_model_card(member_dir(population_run.model_path.parent, 0) / "model.zip")
    assert [e.score for e in single.evaluations] == [e.score for e in learner_zero.evaluations]
    # The zips differ in their saved settings (output folder); the weights must not.
    single_weights = _weights(tmp_path / "model.zip")
    zero_weights = _weights(member_dir(population_run.model_path.parent, 0) / "model.zip")
    assert single_weights.keys() == zero_weights.keys()
    assert all(torch.equal(single_weights[k], zero_weights[k]) for k in single_weights)


def _weights(model_zip: Path) -> dict[str, Any]:
    from sb3_contrib import MaskablePPO

    return dict(MaskablePPO.load(model_zip, device="cpu").policy.state_dict())


def test_ctrl_c_stops_every_learner_and_the_checkpoint_resumes_them_all(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_poll = population_module._poll
    pressed = {"ctrl-c": False}

    def poll(coordinator: Any) -> Any:
        evaluations, progress = real_poll(coordinator)
        if evaluations >= 3 and not pressed["ctrl-c"]:  # as if Ctrl-C came in mid-run
            pressed["ctrl-c"] = True
            raise KeyboardInterrupt
        return evaluations, progress

    monkeypatch.setattr(population_module, "_poll", poll)
    config = _tiny(tmp_path, timesteps=4096)
    with pytest.raises(TrainingInterrupted) as interrupted:
        train(config)
    checkpoint = interrupted.value.checkpoint
    assert checkpoint == tmp_path / "checkpoint.zip"
    assert not (tmp_path / "model.zip").exists(), "an interrupted run must not write a model"
    card = load_model_card(checkpoint)
    assert not card.complete
    assert card.config["population"] == 2
    for member in (0, 1):
        learner = load_model_card(member_dir(tmp_path, member) / "checkpoint.zip")
        assert not learner.complete
        assert learner.timesteps < 4096, "every learner stopped early"
    assert interrupted.value.timesteps == sum(m.timesteps for m in card.members)

    monkeypatch.undo()
    resumed = train(replace(config, resume=checkpoint)).card
    assert resumed.complete
    assert resumed.config["resume"] == str(checkpoint)
    for member in resumed.members:
        # Ctrl-C lands mid-rollout, and the resumed learner trains in whole rollouts
        assert 4096 <= member.timesteps < 4096 + config.n_steps
    assert resumed.wall_seconds > card.wall_seconds


def _copy_of(run: TrainResult, tmp_path: Path) -> Path:
    """A copy of `run`'s folder (the shared run stays as it was)."""
    copy = tmp_path / "copy"
    shutil.copytree(run.model_path.parent, copy)
    return copy


def test_a_finished_population_writes_a_checkpoint_that_trains_every_learner_on(
    population_run: TrainResult, tmp_path: Path
) -> None:
    out_dir = population_run.model_path.parent
    assert population_run.checkpoint_path == out_dir / "checkpoint.zip"
    checkpoint = load_model_card(population_run.checkpoint_path)
    assert checkpoint.complete
    assert checkpoint.members == population_run.card.members
    assert checkpoint.model_sha256 == sha256_file(population_run.checkpoint_path)
    for member in (0, 1):
        learner = load_model_card(member_dir(out_dir, member) / "checkpoint.zip")
        assert (learner.complete, learner.timesteps) == (True, 512)

    copy = _copy_of(population_run, tmp_path)
    config = _tiny(copy, resume=copy / "checkpoint.zip")
    with pytest.raises(ConfigError, match=r"--timesteps \(512\) must exceed the 512 timesteps"):
        train(config)
    resumed = train(replace(config, timesteps=1024))
    assert resumed.card.complete
    assert [m.timesteps for m in resumed.card.members] == [1024, 1024]
    for member in (0, 1):
        first = load_model_card(member_dir(out_dir, member) / "model.zip")
        learner = load_model_card(member_dir(copy, member) / "model.zip")
        assert learner.timesteps == 1024
        assert [e.timestep for e in learner.evaluations] == [0, 256, 512, 768, 1024]
        assert learner.evaluations[:3] == first.evaluations
    assert resumed.card.wall_seconds > population_run.card.wall_seconds
    assert load_model_card(resumed.checkpoint_path).timesteps == resumed.card.timesteps


def test_resume_needs_every_learners_checkpoint(
    population_run: TrainResult, tmp_path: Path
) -> None:
    copy = _copy_of(population_run, tmp_path)
    (member_dir(copy, 0) / "checkpoint.zip").unlink()
    with pytest.raises(ConfigError, match=r"member-0/checkpoint\.zip is missing"):
        train(_tiny(copy, resume=copy / "checkpoint.zip", timesteps=1024))


def test_a_hostile_learner_checkpoint_is_refused_before_any_learner_starts(
    population_run: TrainResult, tmp_path: Path
) -> None:
    copy = _copy_of(population_run, tmp_path)
    checkpoint = member_dir(copy, 1) / "checkpoint.zip"
    marker = tmp_path / "marker"
    rewrite_zip(checkpoint, {"policy.optimizer.pth": torch_saved(WritesMarker(marker))})
    seal(checkpoint)
    with pytest.raises(ModelError, match=r"member-1/checkpoint\.zip: member policy\.optimizer"):
        train(_tiny(copy, resume=copy / "checkpoint.zip", timesteps=1024))
    assert not marker.exists()


def test_a_failing_learner_fails_the_run_naming_the_learner_and_its_error(
    tmp_path: Path,
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    # Each learner logs to <tensorboard>/member-<k>, which its task cannot create.
    config = _tiny(tmp_path / "run", tensorboard=blocker / "logs")
    with pytest.raises(RuntimeError, match=r"learner 0 failed: NotADirectoryError: .*a-file"):
        train(config)
    assert not (tmp_path / "run" / "model.zip").exists()
