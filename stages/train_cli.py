"""``simreel train``: the command line over :func:`stages.train.train`."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import click

from domains.registry import load_domain, parse_option_pairs
from stages.models import card_path, load_model_card
from stages.record import domain_options_flag
from stages.train import (
    TrainConfig,
    TrainingInterrupted,
    format_items,
    headline_kpi,
    option_flag,
    train,
)


def _net_arch(_ctx: click.Context, _param: click.Parameter, value: str | None) -> Any:
    if value is None:
        return None
    try:
        return tuple(int(part) for part in value.split(",") if part.strip())
    except ValueError:
        raise click.BadParameter(
            f"{value!r} must be comma-separated layer sizes, e.g. 64,64"
        ) from None


_DEFAULTS = TrainConfig()


def _option(name: str, kind: Any, help_text: str, **extra: Any) -> Any:
    default = getattr(_DEFAULTS, name)
    shown = default
    return click.option(
        option_flag(name),
        name,
        type=kind,
        default=None,
        help=f"{help_text} [default: {shown}]" if shown is not None else help_text,
        **extra,
    )


@click.command("train")
@_option("domain", str, "Domain id to train on.")
@domain_options_flag
@_option("timesteps", int, "Environment steps to train for.")
@_option("seed", int, "Seed of the run.")
@_option("n_envs", int, "Envs stepped in parallel.")
@_option("vec_env", click.Choice(["dummy", "subproc"]), "Vectorised env kind.")
@_option("learning_rate", float, "Adam step size.")
@_option("n_steps", int, "Steps per env per rollout.")
@_option("batch_size", int, "PPO minibatch size.")
@_option("n_epochs", int, "PPO passes over each rollout.")
@_option("gamma", float, "Discount factor.")
@_option("gae_lambda", float, "GAE lambda.")
@_option("ent_coef", float, "Entropy bonus at the start.")
@_option("ent_coef_final", float, "Entropy bonus at the end (linear decay).")
@click.option(
    "--net-arch",
    "net_arch",
    default=None,
    callback=_net_arch,
    help="Hidden layer sizes, comma-separated. [default: 64,64]",
)
@_option("population", int, "Independent learners trained in parallel processes.")
@_option("eval_freq", int, "Timesteps between deterministic evaluations.")
@_option("eval_episodes", int, "Episodes per evaluation.")
@_option("target_items", float, "Stop once an evaluation finishes this many items.")
@_option(
    "out_dir",
    click.Path(path_type=Path, file_okay=False),
    "Output directory; an earlier run in it is replaced (you named it). "
    "[default: data/models/<domain>[-<option values>]-seed<seed>/, "
    "with --resume: the checkpoint's folder]",
)
@_option("tensorboard", click.Path(path_type=Path, file_okay=False), "TensorBoard log directory.")
@_option(
    "resume",
    click.Path(path_type=Path, dir_okay=False),
    "A run's checkpoint.zip to continue (written at its end, or on Ctrl-C).",
)
@click.option(
    "--force",
    is_flag=True,
    help="Replace an earlier run in the default output directory (refused without it).",
)
@click.option("--quiet", is_flag=True, help="No progress bar.")
def train_command(quiet: bool, force: bool, option_pairs: tuple[str, ...], **options: Any) -> None:
    """Train a MaskablePPO policy; write model.zip (the best model), its card model.json
    and checkpoint.zip (to train it on later).

    Without --out-dir a run writes into a folder of its own per seed and domain variant,
    data/models/<domain>[-<option values>]-seed<seed>/ (e.g. data/models/factory-seed0/),
    and refuses to replace an earlier run there unless --force is given. It never writes
    data/models/<domain>/, where `simreel record` finds its default model (the committed
    factory model), unless you name that folder with --out-dir.

    --population learners (default 3) train side by side, one process each, in
    member-<k>/ folders of the output directory; the best model of all is kept.
    Every setting defaults to the configuration that made the committed model, so a
    bare `simreel train` makes it again (in data/models/factory-seed0/).

    Every run ends by writing a resumable checkpoint, and Ctrl-C writes one too.
    --resume continues it with the run's own settings (options given with --resume
    override them) and writes beside the checkpoint: an interrupted run finishes its
    budget; a finished one needs a larger --timesteps (the total, not the steps to add).

    \b
    Example:
        simreel train --seed 2
        simreel record --model data/models/factory-seed2/model.zip
        simreel train --resume data/models/factory-seed2/checkpoint.zip --timesteps 1000000
        simreel train --domain cashier --option dispatcher=automatic --timesteps 20000
            # writes data/models/cashier-automatic-seed0/
        simreel train --out-dir data/models/factory   # replace the committed model
    """
    given = {name: value for name, value in options.items() if value is not None}
    if option_pairs:
        given["options"] = parse_option_pairs(option_pairs)
    base = _DEFAULTS
    if "resume" in given and Path(given["resume"]).is_file():
        card = load_model_card(Path(given["resume"]))
        base = TrainConfig.from_json(card.config, card_path(Path(given["resume"])))
        # The interrupted run's own output directory was recorded only if it was given.
        base = replace(base, out_dir=base.out_dir or Path(given["resume"]).parent)
    config = replace(base, progress=not quiet, **given)
    try:
        result = train(config, force=force)
    except TrainingInterrupted as interrupted:
        click.echo(str(interrupted), err=True)
        sys.exit(130)
    card = result.card
    headline = headline_kpi(load_domain(config.domain))
    chosen = [member.member for member in card.members if member.chosen]
    done = max([card.timesteps, *(member.timesteps for member in card.members)])
    click.echo(
        ("" if not chosen else f"learner {chosen[0]} of {len(card.members)}: ")
        + f"best {headline.replace('_', ' ')} {format_items(card.best_finished_items)} "
        f"(first at timestep "
        f"{card.best_timestep}, {card.best_wall_seconds:.0f} s); {card.timesteps} timesteps "
        f"in {card.wall_seconds:.0f} s; wrote {result.model_path} and {result.card_path}; "
        f"train on with: simreel train --resume {result.checkpoint_path} "
        f"--timesteps {2 * done}"
    )
