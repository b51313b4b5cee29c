"""``train(config)``: the train stage's entry point, one learner or a population.

It checks the configuration and the output directory before anything is written,
then trains one learner in this process (:func:`stages.train.learner.train_learner`)
or a population of them (:mod:`stages.train.population`).

The output directory of a new run is, unless named, a folder of its own per seed and
domain variant (:func:`stages.train.model_card.default_run_dir`, e.g.
``data/models/factory-seed0/``), and a run refuses to replace an earlier run there
unless forced: the committed model in ``data/models/factory/`` is only ever replaced by
a run told to write there.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from domains.registry import load_domain
from schemas.atomic import refuse_to_replace
from schemas.errors import ConfigError, ModelError
from stages.train.cluster import RaySettings
from stages.train.config import CHECKPOINT, RUN_FILES, TrainConfig, TrainResult
from stages.train.learner import train_learner
from stages.train.model_card import load_model_card
from stages.train.population import train_population


def train(
    config: TrainConfig, *, force: bool = False, ray: RaySettings | None = None
) -> TrainResult:
    """Train MaskablePPO on `config.domain`; return the best model's paths and card.

    With ``config.population`` > 1 the learners run as Ray tasks
    (:mod:`stages.train.population`), each writing into ``member-<k>/`` of the output
    directory; `ray` says where (default: a local Ray for this run, or ``$RAY_ADDRESS``).
    A single learner trains in this process.

    `force` lets a run given no output directory replace an earlier run in its default
    one (``--force``); without it ConfigError says so before anything is written. It and
    `ray` are arguments, not config fields, because they are decisions about this
    invocation, not about how the model is made: the card does not store them and a
    resumed run does not inherit them.
    """
    config.validate()
    domain_class = load_domain(config.domain)
    out_dir = config.output_dir()
    if config.output_is_default():
        _refuse_earlier_run(out_dir, force=force)
    _check_writable(out_dir)
    if config.population > 1:
        return train_population(config, domain_class, out_dir, ray)
    return train_learner(config, domain_class, out_dir)


def _refuse_earlier_run(out_dir: Path, *, force: bool) -> None:
    """ConfigError if an earlier run wrote into the default `out_dir` (unless `force`)."""
    earlier = [out_dir / name for name in RUN_FILES if (out_dir / name).exists()]
    if out_dir.is_dir():
        earlier += sorted(out_dir.glob("member-*"))
    if not earlier:
        return
    try:
        refuse_to_replace(earlier[0], force=force, named_by="--out-dir")
    except ConfigError as error:
        raise ConfigError(f"{error}{_resume_hint(out_dir / CHECKPOINT)}") from None


def _resume_hint(checkpoint: Path) -> str:
    """How to train the earlier run on instead (empty if it left no readable checkpoint)."""
    try:
        card = load_model_card(checkpoint)
    except ModelError:
        return ""
    done = max([card.timesteps, *(member.timesteps for member in card.members)])
    budget = card.config.get("timesteps")  # an interrupted run: its budget is still ahead
    more = budget if isinstance(budget, int) and budget > done else max(2 * done, 1)
    return f"; or train that run on with `simreel train --resume {checkpoint} --timesteps {more}`"


def _check_writable(out_dir: Path) -> None:
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out_dir):
            pass
    except OSError as error:
        raise ConfigError(
            f"--out-dir ({out_dir}) is not a writable directory ({error.strerror or error}); "
            "choose a writable directory with --out-dir"
        ) from None
