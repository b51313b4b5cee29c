"""``simreel train`` and ``simreel sweep``: the command lines over
:func:`stages.train.run.train` and :func:`stages.train.sweep.sweep`."""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import click

from domains.registry import (
    describe_options,
    load_domain,
    parse_option_pairs,
    resolve_options,
)
from schemas.errors import ConfigError
from stages.episode_stats import REWARD
from stages.record import domain_options_flag, policy_flags
from stages.terminal import printable
from stages.train.cluster import RaySettings
from stages.train.config import (
    TrainConfig,
    TrainingInterrupted,
    format_score,
    option_flag,
)
from stages.train.evaluation import (
    DEFAULT_EPISODES,
    HELD_OUT_SEED,
    Judged,
    PolicySource,
    evaluate,
    judge,
    judged_lines,
    prepare,
)
from stages.train.model_card import ModelCard, card_path, load_model_card
from stages.train.model_policy import shown_path
from stages.train.run import train
from stages.train.sweep import (
    SweepConfig,
    SweepInterrupted,
    load_sweep,
    parse_seeds,
    parse_value,
    summary_line,
    sweep,
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

address_option = click.option(
    "--address",
    default=None,
    metavar="ADDRESS",
    help="Ray cluster to run on, from one of its machines: auto, or the head's host:6379 "
    "(its token in RAY_AUTH_TOKEN). [default: $RAY_ADDRESS, else a local Ray started for "
    "the command]",
)
"""``--address``: where the learners, sweep runs or evaluation chunks run."""


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
@_option("population", int, "Independent learners trained side by side as Ray tasks.")
@_option("eval_freq", int, "Timesteps between deterministic evaluations.")
@_option("eval_episodes", int, "Validation episodes per evaluation.")
@_option("eval_seed", int, "Validation episode k is reset with eval-seed + k.")
@_option(
    "select_by",
    str,
    "Keep the model that is best by this: reward (mean episode reward) or a KPI's mean "
    "(e.g. finished_items, survived).",
)
@_option("stop_at", float, "Stop once an evaluation's --select-by value reaches this.")
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
@address_option
def train_command(
    quiet: bool,
    force: bool,
    address: str | None,
    option_pairs: tuple[str, ...],
    **options: Any,
) -> None:
    """Train a MaskablePPO policy; write model.zip (the best model), its card model.json
    and checkpoint.zip (to train it on later).

    Without --out-dir a run writes into a folder of its own per seed and domain variant,
    data/models/<domain>[-<option values>]-seed<seed>/ (e.g. data/models/factory-seed0/),
    and refuses to replace an earlier run there unless --force is given. It never writes
    the folder where `simreel record` and `simreel evaluate` find the domain's committed
    model (data/models/factory/, data/models/cashier/<dispatcher>/) unless you name it
    with --out-dir.

    --population learners (default 3) train side by side as Ray tasks, in member-<k>/
    folders of the output directory; the best model of all is kept. They run on a
    local Ray started for the run (its files in <out-dir>/ray/), or with --address (or
    RAY_ADDRESS) on an existing Ray cluster, unchanged; --population 1 trains in this
    process, without Ray.
    Every setting defaults to the configuration that made the committed model of the
    domain, so a bare `simreel train` makes the factory's again (in
    data/models/factory-seed0/), and `simreel train --domain cashier` the cashier's. A
    domain may set its own defaults over the generic ones shown here (the cashier
    evaluates on 200 validation episodes and keeps the best mean reward); the card,
    model.json, stores every setting a run used.

    Every evaluation plays the deterministic policy on the same validation episodes
    (--eval-episodes of them, reset with --eval-seed + k: never training episodes, nor
    `simreel evaluate`'s held-out ones) and the best by --select-by is kept.

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
        simreel train --select-by finished_items --stop-at 28 --seed 3
        simreel train --out-dir data/models/factory   # replace the committed model
    """
    given = {name: value for name, value in options.items() if value is not None}
    if option_pairs:
        given["options"] = parse_option_pairs(option_pairs)
    base = TrainConfig.for_domain(given.get("domain", _DEFAULTS.domain), given.get("options"))
    if "resume" in given and Path(given["resume"]).is_file():
        card = load_model_card(Path(given["resume"]))
        base = TrainConfig.from_json(card.config, card_path(Path(given["resume"])))
        # The interrupted run's own output directory was recorded only if it was given.
        base = replace(base, out_dir=base.out_dir or Path(given["resume"]).parent)
    config = replace(base, progress=not quiet, **given)
    try:
        result = train(config, force=force, ray=RaySettings(address=address, quiet=quiet))
    except TrainingInterrupted as interrupted:
        click.echo(str(interrupted), err=True)
        sys.exit(130)
    card = result.card
    chosen = [member.member for member in card.members if member.chosen]
    done = max([card.timesteps, *(member.timesteps for member in card.members)])
    click.echo(
        ("" if not chosen else f"learner {chosen[0]} of {len(card.members)}: ")
        + f"best {best_text(card)} (first at timestep "
        f"{card.best_timestep}, {card.best_wall_seconds:.0f} s); {card.timesteps} timesteps "
        f"in {card.wall_seconds:.0f} s; wrote {result.model_path} and {result.card_path}; "
        f"train on with: simreel train --resume {result.checkpoint_path} "
        f"--timesteps {2 * done}"
    )


def best_text(card: ModelCard) -> str:
    """``mean reward 0.352 ± 0.041 over 200 validation episodes`` or ``finished items 28``."""
    name = "mean reward" if card.select_by == REWARD else card.select_by.replace("_", " ")
    text = f"{name} {format_score(card.best_score)}"
    best = [e for e in card.evaluations if e.timestep == card.best_timestep]
    if best and best[0].episodes > 1:
        evaluation = best[0]
        if card.select_by == REWARD and evaluation.reward_half_width is not None:
            text += f" ± {evaluation.reward_half_width:.3f}"
        text += f" over {evaluation.episodes} validation episodes"
    return text


def _pairs(flag: str, given: tuple[str, ...], *, many: bool) -> dict[str, Any]:
    """``FIELD=VALUE`` (or ``FIELD=V1,V2``) pairs as typed values; a field given again wins."""
    values: dict[str, Any] = {}
    for pair in given:
        name, separator, text = pair.partition("=")
        name = name.strip().replace("-", "_")
        if not separator or not name or not text.strip():
            example = "learning_rate=3e-4,1e-3" if many else "timesteps=200000"
            raise ConfigError(
                f"{flag} ({pair}) must be FIELD=VALUE{'S' if many else ''}, e.g. {example}"
            )
        if many:
            values[name] = tuple(parse_value(name, part, flag) for part in text.split(","))
        else:
            values[name] = parse_value(name, text, flag)
    return values


@click.command("sweep")
@click.option(
    "--seeds",
    default=None,
    metavar="SEEDS",
    help="Seeds every combination trains with: 0-9, 0,3,7 or '0 1 2'. [default: 0]",
)
@click.option(
    "--set",
    "settings",
    multiple=True,
    metavar="FIELD=VALUE",
    help="A training setting for every run (repeatable), e.g. --set stop_at=28.",
)
@click.option(
    "--grid",
    multiple=True,
    metavar="FIELD=V1,V2,...",
    help="Values to cross with every other --grid field (repeatable).",
)
@click.option(
    "--list",
    "lists",
    multiple=True,
    metavar="FIELD=V1,V2,...",
    help="Values taken in step with every other --list field (repeatable).",
)
@click.option("--domain", default=None, help="Domain id every run trains on. [default: factory]")
@domain_options_flag
@click.option(
    "--out-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="The sweep's folder. [default: data/sweeps/<domain>[-<option values>]-sweep-<digest>/]",
)
@click.option(
    "--resume",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Continue the sweep in this folder (its runs, as given then).",
)
@click.option("--force", is_flag=True, help="Start over a folder that holds a sweep.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@address_option
def sweep_command(
    seeds: str | None,
    settings: tuple[str, ...],
    grid: tuple[str, ...],
    lists: tuple[str, ...],
    domain: str | None,
    option_pairs: tuple[str, ...],
    out_dir: Path | None,
    resume: Path | None,
    force: bool,
    quiet: bool,
    address: str | None,
) -> None:
    """Train many runs over seeds and settings; write results.parquet (one row per
    evaluation: config, seed, swept values, timestep, wall time, KPI) and curves.png
    (every run's learning curve, with the target line) into the sweep's folder.

    Each run is a `simreel train` run with the defaults, the --set values and its
    combination of --grid and --list values, in runs/run-<k>/ of the folder. The runs
    train as Ray tasks, as many side by side as the CPUs hold: on a local Ray started
    for the sweep (its files in <folder>/ray/), or with --address (or RAY_ADDRESS) on a
    cluster. Values are typed as the training settings (`simreel train --help`);
    net_arch layers are joined by x (64x64).

    \b
    Ctrl-C writes every running run's checkpoint. Finished runs are never trained
    again: the same command (its default folder is named by a digest of the sweep)
    or --resume FOLDER continues the sweep where it stopped.

    \b
    Example:
        simreel sweep --seeds 0-9 --set stop_at=28
        simreel sweep --seeds 0-2 --grid learning_rate=3e-4,1e-3 --grid n_epochs=5,10
        simreel sweep --list n_steps=128,256 --list batch_size=128,256 --seeds 0,1
        simreel sweep --resume data/sweeps/factory-sweep-1a2b3c4d
    """
    spec_given = seeds is not None or settings or grid or lists or domain or option_pairs
    if resume is not None:
        if spec_given or out_dir is not None:
            raise ConfigError(
                f"--resume ({resume}) continues that sweep as it was given; drop --seeds, "
                "--set, --grid, --list, --domain, --option and --out-dir (or start a new sweep)"
            )
        config = replace(load_sweep(resume), progress=not quiet)
    else:
        config = SweepConfig(
            domain=domain or "factory",
            options=parse_option_pairs(option_pairs),
            settings=_pairs("--set", settings, many=False),
            grid=_pairs("--grid", grid, many=True),
            lists=_pairs("--list", lists, many=True),
            seeds=parse_seeds(seeds if seeds is not None else "0"),
            out_dir=out_dir,
            progress=not quiet,
        )
    try:
        result = sweep(config, force=force, ray=RaySettings(address=address, quiet=quiet))
    except SweepInterrupted as interrupted:
        click.echo(str(interrupted), err=True)
        sys.exit(130)
    for summary in result.finished:
        click.echo(summary_line(summary, summary.card.select_by))
    target = config.settings.get("stop_at")
    if target is not None:
        reached = sum(s.card.best_score >= target for s in result.finished)
        click.echo(f"{reached} of {len(result.finished)} runs reached {format_score(target)}")
    click.echo(
        f"trained {result.trained} of {len(result.finished)} runs; wrote {result.results_path} "
        f"and {result.curves_path}"
    )


@click.command("evaluate")
@click.option("--domain", default="factory", show_default=True, help="Domain id to play.")
@domain_options_flag
@policy_flags
@click.option(
    "--episodes",
    type=int,
    default=DEFAULT_EPISODES,
    show_default=True,
    help="Held-out episodes to play (2,000 pin a mean reward with sd 0.6 to about ±0.026).",
)
@click.option(
    "--seed",
    type=int,
    default=HELD_OUT_SEED,
    show_default=True,
    help="Episode k is reset with seed + k (the default is apart from training's episodes).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the figures as one JSON object.")
@click.option("--here", is_flag=True, help="Play every episode in this process, without Ray.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@address_option
def evaluate_command(
    domain: str,
    option_pairs: tuple[str, ...],
    policy: str,
    model: Path | None,
    sample: bool,
    episodes: int,
    seed: int,
    as_json: bool,
    here: bool,
    quiet: bool,
    address: str | None,
) -> None:
    """Judge a model or a baseline over many held-out episodes: its mean episode reward
    with a 95% interval, and each KPI's mean with its interval (for the cashier: the
    survival rate, `survived`, and customers served).

    Episode k is reset with --seed + k; the default seeds are none that training stepped
    or chose its best model on, so the figures are not flattered by the choice. Two
    policies evaluated with the same --seed and --episodes meet the same episodes. The
    episodes run as Ray tasks (a local Ray for the command, or --address), or with --here
    in this process: the figures are the same, bit for bit.

    \b
    Example:
        simreel evaluate --domain cashier
        simreel evaluate --domain cashier --policy rules --episodes 2000
        simreel evaluate --domain cashier --option dispatcher=automatic --json
        simreel evaluate --model data/models/factory-seed2/model.zip --sample --episodes 200
    """
    options = parse_option_pairs(option_pairs)
    source = PolicySource(policy, model, sample)
    ray = None if here else RaySettings(address=address, quiet=quiet)
    resolved = resolve_options(load_domain(domain), options)
    player = prepare(source, domain, resolved, episodes, seed)  # the model is loaded once
    summaries = evaluate(
        source,
        domain,
        resolved,
        episodes,
        seed,
        ray=ray,
        progress=not quiet and not as_json,
        player=player,
    )
    judged = judge(summaries)
    weights = None if player.model is None else player.model.network.digest()
    if as_json:
        model_path = None if player.model_path is None else str(player.model_path)
        figures = _judged_json(domain, resolved, seed, judged)
        shown = {"policy": policy, "model": model_path, "weights_sha256": weights, "sample": sample}
        click.echo(json.dumps({**figures, **shown}))
        return
    played_by = f"policy {policy}"
    if player.model_path is not None and weights is not None:
        played_by = f"model {shown_path(player.model_path)}" + (" (sampled)" if sample else "")
        played_by += f" (weights sha256 {weights[:16]})"
    variant = f" ({describe_options(resolved)})" if resolved else ""
    click.echo(
        f"{printable(domain)}{printable(variant)}, {printable(played_by)}: {episodes:,} "
        f"episodes (seeds {seed}-{seed + episodes - 1}), means with 95% intervals"
    )
    for line in judged_lines(judged):
        click.echo(printable(line))


def _judged_json(
    domain: str, options: Mapping[str, str], seed: int, judged: list[Judged]
) -> dict[str, Any]:
    return {
        "domain": domain,
        "options": dict(options),
        "seed": seed,
        "episodes": judged[0].stats.episodes if judged else 0,
        "figures": {
            entry.stats.name: {
                "mean": entry.stats.mean,
                "low": entry.interval.low,
                "high": entry.interval.high,
                "sd": entry.stats.std,
                "min": entry.stats.minimum,
                "max": entry.stats.maximum,
            }
            for entry in judged
        },
    }
