"""A training configuration small enough for a test: seconds, not minutes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from stages.train import TrainConfig

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
    return TrainConfig(out_dir=out_dir, **{**TINY, **overrides})
