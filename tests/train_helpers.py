"""A training configuration small enough for a test (seconds, not minutes), one local
Ray per test module, and the committed model with its card as it was in format 3."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from stages.train.cluster import RaySession, RaySettings, ray_session
from stages.train.config import TrainConfig
from stages.train.model_card import DEFAULT_MODEL

FORMAT_3_CARD = (
    Path(__file__).resolve().parents[1] / "data" / "fixtures" / "factory-model-card-format3.json"
)
"""The committed factory model's card before its upgrade to format 6 (the zip is the same)."""


def format_3_factory_model(folder: Path) -> Path:
    """The committed model's zip in `folder` beside its card of format 3; its path."""
    model = folder / "model.zip"
    shutil.copyfile(DEFAULT_MODEL, model)
    shutil.copyfile(FORMAT_3_CARD, folder / "model.json")
    return model


TINY: dict[str, Any] = {
    "timesteps": 512,
    "n_envs": 1,
    "n_steps": 128,
    "batch_size": 64,
    "n_epochs": 2,
    "eval_freq": 256,
    "progress": False,
    "population": 1,
}
"""Evaluations at timesteps 0, 256 and 512; one learner in this process."""


def tiny_config(out_dir: Path, **overrides: Any) -> TrainConfig:
    """:data:`TINY` writing into `out_dir`, with `overrides` applied."""
    settings = {**TINY, **overrides}
    domain = settings.pop("domain", "factory")
    options = settings.pop("options", None)
    return TrainConfig.for_domain(domain, options, out_dir=out_dir, **settings)


@pytest.fixture(scope="module")
def local_ray(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RaySession]:
    """One local Ray for a test module; train(), sweep() and evaluate() join it instead of
    starting their own (a start costs seconds). ``tests/test_ray.py`` tests the start."""
    workdir = tmp_path_factory.mktemp("ray")
    with ray_session(RaySettings(workdir=workdir, quiet=True)) as session:
        yield session
