"""Sweeps: many training runs over seeds and settings, one results table, one picture.

A user who cannot trust one seed trains many: :func:`sweep` expands a
:class:`SweepConfig` (fixed settings, a grid of values crossed with each other, lists
of values taken in step, and seeds) into training runs, runs them as Ray tasks (each
run's learners, as ``train`` does: :mod:`stages.train.population`; as many runs side by
side as the cluster's CPUs hold), and writes into the sweep's folder:

* ``sweep.json``: the sweep as given, so ``--resume`` continues it;
* ``runs/run-<k>/``: each run's model, card and checkpoints, exactly as ``train`` writes;
* ``results.parquet``: one row per evaluation of every learner of every finished run
  (its config, seed, swept values, timestep, wall time, KPI; polars reads it);
* ``curves.png``: the learning curves of all runs, with the target line.

Ray's plain tasks, not Ray Tune: a run is a whole training run with its own
checkpoints, early stop and population, which Tune's trials would only wrap, at a
start-up cost of their own; and plain tasks keep every file inside the sweep's folder
(Tune writes to ``~/ray_results``).

Results are resumable: a run whose model is written is never trained again; one cut
off by Ctrl-C continues from its checkpoint; the others start. Running the same sweep
into its folder again (the default folder's name is a digest of the sweep) continues
it; ``--resume`` continues the sweep in a folder without repeating its settings.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import shutil
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, get_args, get_type_hints

import stages.train.model_card as model_card
from domains.registry import describe_options, load_domain, resolve_options, run_label
from schemas.atomic import atomic_output
from schemas.errors import ConfigError, ModelError
from schemas.provenance import git_commit, library_versions, simreel_version
from stages.train.cluster import RaySettings, ray_session
from stages.train.config import (
    CHECKPOINT,
    TrainConfig,
    TrainingInterrupted,
    format_score,
)
from stages.train.curves import Curve, write_curves
from stages.train.model_card import ModelCard, load_model_card
from stages.train.population import PopulationRun, follow_runs, member_dir, runs_at_once

SPEC: Final = "sweep.json"
RESULTS: Final = "results.parquet"
CURVES: Final = "curves.png"
RUNS: Final = "runs"
MAX_RUNS: Final = 1000
"""A guard against a typo that would expand into thousands of training runs."""
NOT_SWEPT: Final = frozenset(
    {"seed", "domain", "options", "out_dir", "resume", "progress", "tensorboard"}
)
"""TrainConfig fields a sweep does not vary: seeds have --seeds, the domain and its options
--domain and --option; the rest are about files and display."""


def sweeps_root() -> Path:
    """Where sweeps go without --out-dir: ``data/sweeps/`` beside ``data/models/``."""
    return model_card.MODELS_ROOT.parent / "sweeps"


@dataclass(frozen=True)
class SweepConfig:
    """A sweep: what every run shares, what varies, and the seeds; :meth:`validate` explains
    any bad value."""

    domain: str = "factory"
    """Domain id every run trains on."""
    options: dict[str, str] = field(default_factory=dict)
    """The domain's variant, the same for every run."""
    settings: dict[str, Any] = field(default_factory=dict)
    """TrainConfig fields fixed for every run (``--set``); the rest keep their defaults."""
    grid: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    """Fields whose values are crossed with each other (``--grid``): every combination runs."""
    lists: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    """Fields whose values are taken in step (``--list``): the i-th entry of the list takes
    the i-th value of each; crossed with the grid."""
    seeds: tuple[int, ...] = (0,)
    """Every combination trains once per seed (a population's learners derive theirs)."""
    out_dir: Path | None = None
    """The sweep's folder; None: ``data/sweeps/<domain>[-<option values>]-sweep-<digest>/``."""
    progress: bool = True
    """Show a progress bar over all runs."""

    def spec(self) -> dict[str, Any]:
        """The sweep as JSON: what ``sweep.json`` stores and the default folder's digest hashes."""
        return {
            "domain": self.domain,
            "options": dict(sorted(self.options.items())),
            "settings": {name: _to_json(value) for name, value in sorted(self.settings.items())},
            "grid": {name: [_to_json(v) for v in values] for name, values in self.grid.items()},
            "lists": {name: [_to_json(v) for v in values] for name, values in self.lists.items()},
            "seeds": list(self.seeds),
        }

    def digest(self) -> str:
        """Eight hex digits naming the sweep (the same sweep, the same digest)."""
        text = json.dumps(self.spec(), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:8]

    def output_dir(self) -> Path:
        if self.out_dir is not None:
            return Path(self.out_dir)
        name = run_label(load_domain(self.domain), self.options, f"sweep-{self.digest()}")
        return sweeps_root() / name

    def varied(self) -> list[str]:
        """The swept fields, in the order the runs' values are listed."""
        return [*self.grid, *self.lists]

    def runs(self, out_dir: Path) -> list[SweepRun]:
        """Every run: the list entries, crossed with the grid, crossed with the seeds."""
        entries = [
            dict(zip(self.lists, values, strict=True))
            for values in zip(*self.lists.values(), strict=True)
        ] or [{}]
        combinations = [
            dict(zip(self.grid, values, strict=True))
            for values in itertools.product(*self.grid.values())
        ]
        runs: list[SweepRun] = []
        for entry, combination, seed in itertools.product(entries, combinations, self.seeds):
            index = len(runs)
            values = {**combination, **entry}
            config = TrainConfig.for_domain(
                self.domain,
                self.options,
                **{**self.settings, **values},
                seed=seed,
                out_dir=out_dir / RUNS / f"run-{index:03d}",
                progress=False,
            )
            runs.append(SweepRun(index, seed, values, config))
        return runs

    def validate(self) -> None:
        """Raise ConfigError naming the first bad value, and the fix."""
        load_domain(self.domain)
        resolve_options(load_domain(self.domain), self.options)
        seen: set[str] = set()
        for flag, names in (
            ("--set", self.settings),
            ("--grid", self.grid),
            ("--list", self.lists),
        ):
            for name in names:
                check_field(name, flag)
                if name in seen:
                    raise ConfigError(
                        f"{flag} {name}: the field is given twice; give each field once, "
                        "with --set (one value), --grid (crossed) or --list (in step)"
                    )
                seen.add(name)
        for flag, table in (("--grid", self.grid), ("--list", self.lists)):
            for name, values in table.items():
                if not values:
                    raise ConfigError(f"{flag} {name}: give at least one value, e.g. {name}=1,2")
        lengths = {name: len(values) for name, values in self.lists.items()}
        if len(set(lengths.values())) > 1:
            shown = ", ".join(f"{name} has {n}" for name, n in lengths.items())
            raise ConfigError(
                f"--list fields take their values in step, so each needs as many values ({shown}); "
                "give them equally many values, or use --grid to cross them"
            )
        if not self.seeds:
            raise ConfigError("--seeds is empty; give seeds such as 0-9 or 0,3,7")
        if any(isinstance(s, bool) or not isinstance(s, int) or s < 0 for s in self.seeds):
            raise ConfigError(f"--seeds ({_seeds_text(self.seeds)}) must be integers >= 0")
        if len(set(self.seeds)) != len(self.seeds):
            raise ConfigError(f"--seeds ({_seeds_text(self.seeds)}) lists a seed twice")
        count = (
            len(self.seeds)
            * math.prod(len(v) for v in self.grid.values())
            * (next(iter(lengths.values()), 1))
        )
        if count > MAX_RUNS:
            raise ConfigError(
                f"the sweep expands into {count} runs, more than {MAX_RUNS}; sweep fewer values "
                "or seeds, or split it into several sweeps"
            )
        for run in self.runs(Path(".")):
            try:
                run.config.validate()
            except ConfigError as error:
                raise ConfigError(f"{run.describe()}: {error}") from None

    @classmethod
    def from_spec(cls, data: Any, source: Path, out_dir: Path) -> SweepConfig:
        """The sweep ``sweep.json`` stores (see :meth:`spec`); ConfigError if it does not fit."""
        fix = "pass the folder of a sweep simreel wrote, or start a new sweep"
        if not isinstance(data, dict) or set(data) != set(cls().spec()):
            raise ConfigError(f"{source}: not a sweep simreel wrote (its fields differ); {fix}")
        try:
            config = cls(
                domain=str(data["domain"]),
                options={str(k): str(v) for k, v in data["options"].items()},
                settings={name: _from_json(name, v) for name, v in data["settings"].items()},
                grid={n: tuple(_from_json(n, v) for v in vs) for n, vs in data["grid"].items()},
                lists={n: tuple(_from_json(n, v) for v in vs) for n, vs in data["lists"].items()},
                seeds=tuple(int(s) for s in data["seeds"]),
                out_dir=out_dir,
            )
        except (AttributeError, TypeError, ValueError) as error:
            raise ConfigError(f"{source}: a field has the wrong type ({error}); {fix}") from None
        return config


@dataclass(frozen=True)
class SweepRun:
    """One run of a sweep."""

    index: int
    seed: int
    values: dict[str, Any]
    """Its values of the swept fields."""
    config: TrainConfig

    @property
    def folder(self) -> Path:
        return Path(self.config.out_dir or ".")

    def describe(self) -> str:
        """``run-003 (seed 2, learning_rate 0.001)``."""
        values = ", ".join(f"{name} {_shown(value)}" for name, value in self.values.items())
        return f"run-{self.index:03d} (seed {self.seed}{', ' + values if values else ''})"

    def label(self) -> str:
        values = ", ".join(f"{name}={_shown(value)}" for name, value in self.values.items())
        return f"seed {self.seed}" + (f", {values}" if values else "")


@dataclass(frozen=True)
class RunSummary:
    """A finished run's outcome, as the sweep's summary line gives it."""

    run: SweepRun
    card: ModelCard


@dataclass(frozen=True)
class SweepResult:
    """What a sweep wrote."""

    out_dir: Path
    results_path: Path
    curves_path: Path
    finished: tuple[RunSummary, ...]
    """Every finished run, in run order."""
    trained: int
    """Runs this call trained (the others had finished before)."""


class SweepInterrupted(KeyboardInterrupt):
    """Ctrl-C during a sweep, after the running runs wrote their checkpoints."""

    def __init__(self, out_dir: Path, finished: int, total: int) -> None:
        super().__init__(
            f"interrupted with {finished} of {total} runs finished (the others keep their "
            f"checkpoints); continue with: simreel sweep --resume {out_dir}"
        )
        self.out_dir = out_dir


def check_field(name: str, flag: str = "--set") -> None:
    """ConfigError unless `name` is a TrainConfig field a sweep may vary."""
    names = {f.name for f in fields(TrainConfig)}
    if name not in names or name in NOT_SWEPT:
        swept = ", ".join(sorted(names - NOT_SWEPT))
        hint = {"seed": "; give seeds with --seeds", "domain": "; give it with --domain"}.get(
            name, "; give domain options with --option" if name == "options" else ""
        )
        raise ConfigError(f"{flag} {name}: not a setting a sweep varies ({swept}){hint}")


def parse_value(name: str, text: str, flag: str = "--set") -> Any:
    """`text` as the type of TrainConfig field `name` (ConfigError naming flag and field)."""
    check_field(name, flag)
    hint = get_type_hints(TrainConfig)[name]
    text = text.strip()
    try:
        if hint is int:
            return int(text)
        if hint is float:
            return float(text)
        if hint == float | None:
            return None if text.lower() == "none" else float(text)
        if hint == tuple[int, ...]:
            return tuple(int(part) for part in text.split("x"))
    except ValueError:
        example = "64x64" if hint == tuple[int, ...] else ("1e-3" if hint is not int else "8")
        raise ConfigError(
            f"{flag} {name}={text}: not a value of {name} ({_type_name(hint)}), "
            f"e.g. {name}={example}"
        ) from None
    choices = get_args(hint)
    if choices and text not in choices:
        raise ConfigError(f"{flag} {name}={text}: must be one of {', '.join(choices)}")
    return text


def parse_seeds(text: str) -> tuple[int, ...]:
    """``0-9``, ``0,3,7``, ``"0 1 2"`` or a mix, in the order given."""
    seeds: list[int] = []
    for part in text.replace(",", " ").split():
        try:
            if "-" in part.strip("-"):
                first, last = (int(n) for n in part.split("-", 1))
                if last < first:
                    raise ValueError
                seeds.extend(range(first, last + 1))
            else:
                seeds.append(int(part))
        except ValueError:
            raise ConfigError(
                f"--seeds ({text}): {part!r} is not a seed or a range; give e.g. 0-9 or 0,3,7"
            ) from None
    return tuple(seeds)


def sweep(
    config: SweepConfig, *, force: bool = False, ray: RaySettings | None = None
) -> SweepResult:
    """Train every run of `config` that has not finished; write the results and the curves.

    `force` starts over a folder that holds another sweep (or the same one); without it
    such a folder is refused, while the same sweep is continued.
    """
    config.validate()
    out_dir = config.output_dir()
    _claim(out_dir, config, force=force)
    runs = config.runs(out_dir)
    pending = [
        PopulationRun(run.index, _continued(run), run.folder) for run in runs if not _finished(run)
    ]
    finished_before = len(runs) - len(pending)
    failures: list[str] = []
    interrupted = False
    if pending:
        bar = _bar(config, pending)

        def ended(population: PopulationRun) -> None:
            try:
                population.finish()
            except TrainingInterrupted:
                return
            except RuntimeError as error:
                failures.append(f"{runs[population.key].describe()}: {error}")
                return
            _write_outputs(config, runs, out_dir)

        try:
            settings = replace(ray or RaySettings(), workdir=out_dir)
            with ray_session(settings) as session:
                at_once = runs_at_once(session, max(run.config.population for run in pending))
                interrupted = follow_runs(
                    pending, session, at_once=at_once, bar=bar, on_ended=ended
                )
        finally:
            if bar is not None:
                bar.close()
    result = _write_outputs(config, runs, out_dir)
    if failures:
        raise RuntimeError(failures[0])
    if interrupted:
        raise SweepInterrupted(out_dir, len(result.finished), len(runs))
    return replace(result, trained=len(result.finished) - finished_before)


def _claim(out_dir: Path, config: SweepConfig, *, force: bool) -> None:
    """Make `out_dir` this sweep's: continue the same sweep, refuse another unless forced."""
    spec_path = out_dir / SPEC
    if spec_path.exists():
        try:
            same = json.loads(spec_path.read_text(encoding="utf-8")) == config.spec()
        except (OSError, ValueError):
            same = False
        if same and not force:
            return
        if not force:
            raise ConfigError(
                f"{out_dir} holds another sweep ({spec_path}); continue that one with "
                f"`simreel sweep --resume {out_dir}`, pass --force to replace it, or choose "
                "another folder with --out-dir"
            )
        for name in (RUNS, RESULTS, CURVES):
            target = out_dir / name
            if target.is_dir():
                shutil.rmtree(target)
            else:
                target.unlink(missing_ok=True)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        with atomic_output(spec_path) as temporary:
            temporary.write_text(json.dumps(config.spec(), indent=2) + "\n", encoding="utf-8")
    except OSError as error:
        raise ConfigError(
            f"--out-dir ({out_dir}) is not a writable folder ({error.strerror or error}); "
            "choose a writable folder with --out-dir"
        ) from None


def load_sweep(folder: Path) -> SweepConfig:
    """The sweep in `folder` (its ``sweep.json``), to continue it; ConfigError if none."""
    path = Path(folder) / SPEC
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            f"--resume ({folder}) holds no sweep ({SPEC} is missing); pass the folder a sweep "
            "wrote (data/sweeps/<name>/)"
        ) from None
    except (OSError, ValueError) as error:
        raise ConfigError(f"{path}: cannot read the sweep ({error}); start a new sweep") from None
    return SweepConfig.from_spec(data, path, Path(folder))


def _finished(run: SweepRun) -> bool:
    try:
        return load_model_card(run.folder / "model.zip").complete
    except ModelError:
        return False


def _continued(run: SweepRun) -> TrainConfig:
    """The run's config, resuming its checkpoint if Ctrl-C cut it off."""
    checkpoint = run.folder / CHECKPOINT
    try:
        card = load_model_card(checkpoint)
    except ModelError:
        return run.config
    if card.complete:  # it ended by itself, yet its model is missing: train it again
        return run.config
    return replace(run.config, resume=checkpoint)


def _bar(config: SweepConfig, pending: Sequence[PopulationRun]) -> Any:
    if not config.progress:
        return None
    from tqdm import tqdm

    total = sum(run.config.timesteps * run.config.population for run in pending)
    return tqdm(
        total=total, unit="step", desc=f"{len(pending)} runs", dynamic_ncols=True, file=sys.stderr
    )


def _write_outputs(config: SweepConfig, runs: Sequence[SweepRun], out_dir: Path) -> SweepResult:
    """The results table and the curves of every finished run (rewritten as runs finish)."""
    finished = [
        RunSummary(run, load_model_card(run.folder / "model.zip")) for run in runs if _finished(run)
    ]
    kpi = _select_by(config)
    target = config.settings.get("stop_at")
    provenance = {
        "sweep": config.spec(),
        "runs": len(runs),
        "finished": len(finished),
        "kpi": kpi,
        "simreel_version": simreel_version(),
        "git_commit": git_commit(),
        "library_versions": library_versions(),
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    results = write_results(out_dir / RESULTS, config, finished, kpi, provenance)
    curves = [
        Curve(
            summary.run.label(),
            tuple((e.timestep, e.score) for e in summary.card.evaluations),
        )
        for summary in finished
    ]
    options = resolve_options(load_domain(config.domain), config.options)
    domain = config.domain + (f" ({describe_options(options)})" if options else "")
    title = (
        f"{domain}: {len(finished)} of {len(runs)} runs, "
        f"{kpi.replace('_', ' ')} of the kept learner"
    )
    picture = write_curves(
        out_dir / CURVES,
        curves,
        kpi=kpi,
        title=title,
        target=target if isinstance(target, int | float) else None,
        provenance={
            "Title": title,
            "Software": f"simreel {simreel_version()}",
            "Comment": json.dumps(provenance, sort_keys=True, separators=(",", ":")),
        },
    )
    return SweepResult(out_dir, results, picture, tuple(finished), trained=0)


def _select_by(config: SweepConfig) -> str:
    """What every run of the sweep keeps its best model by (the runs share it)."""
    selected = config.settings.get("select_by")
    if isinstance(selected, str):
        return selected
    return TrainConfig.for_domain(config.domain, config.options).select_by


def write_results(
    path: Path,
    config: SweepConfig,
    finished: Sequence[RunSummary],
    kpi: str,
    provenance: Mapping[str, Any],
) -> Path:
    """One row per evaluation of every learner of every finished run, as Parquet."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows: list[dict[str, Any]] = []
    for summary in finished:
        run, card = summary.run, summary.card
        base = {
            "run": run.index,
            "run_dir": str(run.folder.relative_to(path.parent)),
            "seed": run.seed,
            **{name: _cell(value) for name, value in run.values.items()},
            "config": json.dumps(card.config, sort_keys=True),
            "run_timesteps": card.timesteps,
            "run_wall_seconds": card.wall_seconds,
            "run_best_kpi": card.best_score,
            "run_best_timestep": card.best_timestep,
            "run_best_wall_seconds": card.best_wall_seconds,
            "kpi_name": kpi,
        }
        for member, chosen, evaluations, offset in _learners(run, card):
            for evaluation in evaluations:
                rows.append(
                    {
                        **base,
                        "member": member,
                        "chosen": chosen,
                        "timestep": evaluation.timestep,
                        "wall_seconds": round(evaluation.wall_seconds + offset, 3),
                        "kpi": evaluation.score,
                    }
                )
    types = {
        "run": pa.int32(),
        "run_dir": pa.string(),
        "seed": pa.int64(),
        **{name: _arrow_type(name) for name in config.varied()},
        "config": pa.string(),
        "member": pa.int32(),
        "chosen": pa.bool_(),
        "timestep": pa.int64(),
        "wall_seconds": pa.float64(),
        "kpi": pa.float64(),
        "kpi_name": pa.string(),
        "run_timesteps": pa.int64(),
        "run_wall_seconds": pa.float64(),
        "run_best_kpi": pa.float64(),
        "run_best_timestep": pa.int64(),
        "run_best_wall_seconds": pa.float64(),
    }
    schema = pa.schema(list(types.items()), metadata={"simreel.sweep": json.dumps(provenance)})
    table = pa.Table.from_pylist(rows, schema=schema)
    with atomic_output(path) as temporary:
        pq.write_table(table, temporary)
    return path


def _learners(run: SweepRun, card: ModelCard) -> list[tuple[int, bool, tuple[Any, ...], float]]:
    """(learner, chosen, evaluations, start offset) of every learner of a finished run."""
    if not card.members:
        return [(0, True, card.evaluations, 0.0)]
    learners = []
    for member in card.members:
        own = load_model_card(member_dir(run.folder, member.member) / "model.zip")
        offset = member.best_wall_seconds - own.best_wall_seconds
        learners.append((member.member, member.chosen, own.evaluations, offset))
    return learners


def summary_line(summary: RunSummary, kpi: str) -> str:
    """``run-000 (seed 0): best finished items 28 at timestep 83,968 (43 s); ...``."""
    card = summary.card
    chosen = [m for m in card.members if m.chosen]
    learner = f" of learner {chosen[0].member}" if chosen else ""
    return (
        f"{summary.run.describe()}: best {kpi.replace('_', ' ')} "
        f"{format_score(card.best_score)} at timestep {card.best_timestep:,}{learner} "
        f"({card.best_wall_seconds:.0f} s); {card.timesteps:,} timesteps in "
        f"{card.wall_seconds:.0f} s"
    )


def _to_json(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def _from_json(name: str, value: Any) -> Any:
    check_field(name)
    hint = get_type_hints(TrainConfig)[name]
    if hint == tuple[int, ...]:
        if not isinstance(value, list):
            raise TypeError(f"{name} must be a list of layer sizes")
        return tuple(int(v) for v in value)
    return value


def _cell(value: Any) -> Any:
    return "x".join(map(str, value)) if isinstance(value, tuple) else value


def _arrow_type(name: str) -> Any:
    import pyarrow as pa

    hint = get_type_hints(TrainConfig)[name]
    if hint is int:
        return pa.int64()
    if hint in (float, float | None):
        return pa.float64()
    return pa.string()


def _type_name(hint: Any) -> str:
    if hint == tuple[int, ...]:
        return "layer sizes joined by x"
    if hint == float | None:
        return "a number or none"
    return getattr(hint, "__name__", str(hint))


def _shown(value: Any) -> str:
    if isinstance(value, tuple):
        return "x".join(map(str, value))
    return f"{value:g}" if isinstance(value, float) else str(value)


def _seeds_text(seeds: Sequence[int]) -> str:
    return ",".join(map(str, seeds))
