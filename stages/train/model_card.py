"""The model card: the file contract between ``simreel train`` and ``simreel record``.

A trained model is two files side by side: ``model.zip`` (an SB3 MaskablePPO save) and
``model.json``, its card: how it was made (the full training configuration, seed,
timesteps, wall time, every periodic evaluation, the learners of a population), what
it fits (domain id, version and options, observation shape, action count, the network's
layout) and the zip's sha256. Train writes cards (:func:`write_card`); record reads them
(:func:`load_model_card`, through :mod:`stages.train.model_policy`), and so does
``train --resume``. This module also says where models live on disk
(:data:`MODELS_ROOT`, :func:`default_run_dir`, :func:`default_model`).

**The model format: a model file cannot run code.** The zip is what SB3's
``MaskablePPO.save`` writes: ``data`` (JSON whose ``:serialized:`` entries are
cloudpickles: the policy class, the spaces, the schedules), ``policy.pth`` (the
network's weights), ``policy.optimizer.pth`` (Adam's state), ``pytorch_variables.pth``,
``_stable_baselines3_version`` and ``system_info.txt``. simreel never unpickles any of it
the way SB3 does. What the network is comes from this card, in plain JSON
(:class:`NetworkDescription`: a policy class from a fixed list, the hidden layer sizes,
the activation); the weights come from ``policy.pth`` only, and a checkpoint's Adam
state from ``policy.optimizer.pth`` only, each read with ``torch.load(...,
weights_only=True)`` after bounded checks of the zip (:mod:`stages.train.model_format`).
``data``, ``pytorch_variables.pth`` and the rest are never read, so a pickle planted
there does nothing. simreel keeps writing SB3's whole zip, so ``MaskablePPO.load`` still
opens a model, but only as the user's own choice for a file they trust.

It sits at the bottom of the train package: it imports nothing else of it, so
``record`` reads a card without loading training code (nor torch).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, get_args, get_origin, get_type_hints

from domains.domain import Domain
from domains.registry import load_domain, resolve_options, run_label
from schemas.atomic import atomic_output
from schemas.errors import ConfigError, ModelError

DEFAULT_MODEL: Path = (
    Path(__file__).resolve().parents[2] / "data" / "models" / "factory" / "model.zip"
)
"""The committed factory model, found from this file (never from the working directory)."""
MODELS_ROOT: Path = Path("data") / "models"
"""Where ``simreel train`` writes a run given no --out-dir (``<root>/<run name>/``, see
:func:`default_run_dir`): relative, so in the user's working folder, never inside the
installed package."""


def default_model(domain: str, options: Mapping[str, str] | None = None) -> Path:
    """The model ``record`` and ``evaluate`` play for `domain` when no --model is given.

    The model the domain's package ships for the variant, if any
    (``Domain.shipped_models``: simreel's factory and cashier), else the one a bare
    ``simreel train --domain <id> [--option ...]`` writes in the working folder (seed 0,
    :func:`default_run_dir`): record finds what train wrote. Only a run whose --out-dir
    names a shipped folder writes there, so a committed model is never replaced by a
    training run that was not told to."""
    domain_class = load_domain(domain)
    resolved = resolve_options(domain_class, options or {})
    if domain_class.shipped_models is not None:
        shipped = Path(domain_class.shipped_models).joinpath(
            *(_file_safe(value) for value in resolved.values()), "model.zip"
        )
        if shipped.is_file():
            return shipped
    return default_run_dir(domain_class, resolved, 0) / "model.zip"


def _file_safe(part: str) -> str:
    return "".join(c if c.isalnum() or c in "._-" else "_" for c in str(part))


def run_name(domain_class: type[Domain], options: Mapping[str, str], seed: int) -> str:
    """``<domain>[-<option values>]-seed<seed>``, e.g. ``factory-seed0`` or
    ``cashier-automatic-seed2``: the folder name of a training run given no --out-dir.

    Every seed and variant gets a folder of its own and none of them is ``<domain>``, the
    folder ``record`` plays by default. Other settings (e.g. --timesteps) do not appear: a
    second run that differs only in them finds the first one's folder and is refused
    instead of replacing it.
    """
    return run_label(domain_class, options, f"seed{seed}")


def default_run_dir(domain_class: type[Domain], options: Mapping[str, str], seed: int) -> Path:
    """Where ``simreel train`` writes a run given neither --out-dir nor --resume."""
    return MODELS_ROOT / run_name(domain_class, options, seed)


CARD_FORMAT = 6
"""Version of the card's layout; raised when a field changes meaning or goes away.

Format 2 added ``members``; format 3 added ``domain_options``; format 4 judges models by
any KPI or the mean reward (``select_by``, ``best_score``) and keeps each evaluation's
reward interval and KPI means; format 5 names the domain's package and its version
(``domain_package``); format 6 describes the network in plain JSON (``network``), so
that playing a model never unpickles its zip. Older cards still read: format 1 as one
learner with no members, formats 1 and 2 as made with no options (the only domain then,
the factory, has none), formats 1 to 3 as judged by the domain's headline KPI (their
``finished_items`` figures; no reward was kept), formats 1 to 4 with the package
unknown, formats 1 to 5 with the network simreel always trained (:func:`mlp_network` of
``config.net_arch``). ``python -m stages.train.model_format`` upgrades such a card.
"""

MLP_POLICY = "MaskableActorCriticPolicy"
"""The policy class of every model simreel trains (sb3-contrib's ``MlpPolicy``)."""
TRAINED_ACTIVATION = "tanh"
"""The hidden layers' activation of every model simreel trains (SB3's default)."""


@dataclass(frozen=True)
class NetworkDescription:
    """What network the zip's weights belong to, in plain JSON (card format 6).

    The reader rebuilds the network from this and the weights alone
    (:mod:`stages.train.model_format` accepts only the policies and activations it knows).
    """

    policy: str
    """The SB3 policy class, e.g. ``MaskableActorCriticPolicy``."""
    net_arch: tuple[int, ...]
    """Hidden layer sizes, input first (the actor's and the critic's alike)."""
    activation: str
    """After every hidden layer: ``tanh`` or ``relu``."""


def mlp_network(net_arch: tuple[int, ...] | list[int]) -> NetworkDescription:
    """The network simreel trains with hidden layers `net_arch`."""
    return NetworkDescription(MLP_POLICY, tuple(net_arch), TRAINED_ACTIVATION)


@dataclass(frozen=True)
class Evaluation:
    """One periodic deterministic evaluation during training, over the validation episodes."""

    timestep: int
    """Environment steps done when the policy was evaluated."""
    wall_seconds: float
    """Training wall time then."""
    score: float
    """The value of the card's ``select_by``: the mean reward or one KPI's mean."""
    episodes: int = 1
    """Validation episodes played."""
    mean_reward: float | None = None
    """Mean episode reward (None on cards before format 4)."""
    reward_half_width: float | None = None
    """Half-width of the mean reward's 95% interval (None for one episode or old cards)."""
    kpis: dict[str, float] = field(default_factory=dict)
    """Each KPI's mean over the episodes."""


@dataclass(frozen=True)
class MemberSummary:
    """One learner of a population run (its own card is in ``member-<k>/model.json``)."""

    member: int
    """Index k of the learner; its files are in ``member-<k>/`` beside the population's."""
    seed: int
    """The learner's own seed (see ``stages.train.population.member_seed``)."""
    timesteps: int
    """Environment steps the learner did."""
    best_score: float
    """Its best evaluation, in the population's ``select_by``."""
    best_timestep: int
    """Its timestep at which that result was first reached."""
    best_wall_seconds: float
    """Wall second of the population run at which that result was first reached."""
    chosen: bool
    """True for the learner whose model the population kept."""


@dataclass(frozen=True)
class ModelCard:
    """What ``model.json`` says about the zip beside it: how it was made and what it fits."""

    card_format: int
    """Layout version of this card (:data:`CARD_FORMAT`)."""
    domain_id: str
    """Domain the model was trained on (``simreel.domains`` entry-point name)."""
    domain_version: int
    """That domain's rule version; a model of other rules is refused."""
    complete: bool
    """False for a checkpoint written on Ctrl-C (``simreel train --resume`` finishes its budget);
    True for a model and for the checkpoint a run writes at its end (``--resume`` with a larger
    ``--timesteps`` trains it on)."""
    config: dict[str, Any]
    """The full training configuration (``stages.train.config.TrainConfig`` as JSON)."""
    seed: int
    """Seed of the training run."""
    timesteps: int
    """Environment steps done when the zip was written (all parallel envs together)."""
    wall_seconds: float
    """Training wall time, resumed runs included."""
    select_by: str
    """What evaluations judged the policies by: ``reward`` (mean episode reward) or a KPI."""
    best_score: float
    """Best evaluation in ``select_by``; the zip holds that model (a checkpoint: the latest)."""
    best_timestep: int
    """Timestep at which the best result was first reached."""
    best_wall_seconds: float
    """Wall second at which the best result was first reached."""
    evaluations: tuple[Evaluation, ...]
    """Every periodic evaluation, in order."""
    observation_shape: tuple[int, ...]
    """Shape of the env's observation the model reads."""
    action_count: int
    """Size of the env's Discrete action space."""
    network: NetworkDescription
    """The network the zip's weights belong to (cards before format 6: :func:`mlp_network`
    of ``config.net_arch``, the only network simreel trained)."""
    library_versions: dict[str, str]
    """Versions of the numeric libraries (results depend on them)."""
    system: dict[str, str]
    """Platform of the training machine."""
    git_commit: str | None
    """Commit of the source tree that trained the model (None outside git)."""
    model_sha256: str
    """Digest of the zip beside the card; a different zip is refused."""
    members: tuple[MemberSummary, ...] = ()
    """The learners of a population run, the chosen one marked (empty for a single learner)."""
    domain_options: dict[str, str] = field(default_factory=dict)
    """The domain variant the model was trained on (e.g. ``{"dispatcher": "automatic"}``)."""
    domain_package: dict[str, str] = field(default_factory=dict)
    """The distribution that provided the domain, ``{"name": ..., "version": ...}``
    (``domains.registry.domain_package``); empty on cards before format 5."""

    def to_json(self) -> dict[str, Any]:
        """The card as JSON-ready data (tuples become lists)."""
        return asdict(self)

    def summary(self) -> dict[str, Any]:
        """The few fields a recorded table's provenance needs."""
        return {
            "domain_id": self.domain_id,
            "domain_version": self.domain_version,
            "domain_options": dict(self.domain_options),
            "domain_package": dict(self.domain_package),
            "seed": self.seed,
            "timesteps": self.timesteps,
            "select_by": self.select_by,
            "best_score": self.best_score,
            "git_commit": self.git_commit,
        }


def card_path(model_path: Path) -> Path:
    """The card that belongs to `model_path` (``model.zip`` -> ``model.json``)."""
    return Path(model_path).with_suffix(".json")


_FIX = "retrain with `simreel train` (its card is written beside the model)"


def load_model_card(model_path: Path) -> ModelCard:
    """Read and check the card beside `model_path`; ModelError names the file, field and fix."""
    path = card_path(model_path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ModelError(
            f"{path}: model card not found (expected beside {Path(model_path).name}); {_FIX}"
        ) from None
    except OSError as error:
        raise ModelError(f"{path}: cannot read the model card ({error.strerror}); {_FIX}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ModelError(
            f"{path}: the model card is not JSON ({error.msg} at line {error.lineno}); {_FIX}"
        ) from None
    if not isinstance(data, dict):
        raise ModelError(
            f"{path}: the model card must be a JSON object, found {type(data).__name__}; {_FIX}"
        )
    values: dict[str, Any] = {}
    hints = get_type_hints(ModelCard)
    layout = data.get("card_format")
    if _is_int(layout) and layout not in range(1, CARD_FORMAT + 1):
        raise ModelError(
            f"{path}: field 'card_format' is {layout}, this simreel reads formats 1 to "
            f"{CARD_FORMAT}; {_FIX}"
        )
    if data.get("card_format") == 1:  # format 1 had no population runs
        data = {**data, "members": []}
    if data.get("card_format") in (1, 2):  # formats 1 and 2 knew no domain options
        data = {**data, "domain_options": {}}
    if data.get("card_format") in (1, 2, 3):
        data = _judged_by_headline(data)
    if data.get("card_format") in (1, 2, 3, 4):  # the domain's package was not recorded
        data = {**data, "domain_package": {}}
    if data.get("card_format") in (1, 2, 3, 4, 5) and isinstance(data.get("config"), dict):
        # (A card without a config is reported as such below.)
        data = {**data, "network": _inferred_network(path, data["config"])}
    for card_field in fields(ModelCard):
        name = card_field.name
        if name not in data:
            raise ModelError(f"{path}: field {name!r} is missing; {_FIX}")
        values[name] = _checked(path, name, data[name], hints[name])
    if values["card_format"] not in range(1, CARD_FORMAT + 1):
        raise ModelError(
            f"{path}: field 'card_format' is {values['card_format']}, this simreel reads "
            f"formats 1 to {CARD_FORMAT}; {_FIX}"
        )
    return ModelCard(**values)


def _inferred_network(path: Path, config: dict[str, Any]) -> dict[str, Any]:
    """The ``network`` of a card before format 6: simreel only ever trained MlpPolicy with
    SB3's default activation (tanh) and the hidden layers of ``config.net_arch``."""
    net_arch = config.get("net_arch")
    if not isinstance(net_arch, list) or not all(_is_int(n) and n > 0 for n in net_arch):
        raise ModelError(
            f"{path}: field 'config.net_arch' must be a list of positive integers (the "
            f"network's hidden layers), found {net_arch!r}; {_FIX}"
        )
    return {"policy": MLP_POLICY, "net_arch": net_arch, "activation": TRAINED_ACTIVATION}


def _judged_by_headline(data: dict[str, Any]) -> dict[str, Any]:
    """A card of format 1 to 3 in format 4's fields: it was judged by the domain's headline
    KPI, whose value it kept as ``finished_items`` (whatever the domain)."""
    try:
        kpi_names = load_domain(str(data.get("domain_id"))).kpi_names
    except ConfigError:  # a domain no longer installed: its model is refused later anyway
        kpi_names = ()
    headline = kpi_names[0] if kpi_names else "finished_items"
    config = data.get("config")
    episodes = config.get("eval_episodes", 1) if isinstance(config, dict) else 1

    def evaluation(entry: Any) -> Any:
        if not isinstance(entry, dict) or "finished_items" not in entry:
            return entry  # reported as malformed by the reader
        rest = {k: v for k, v in entry.items() if k != "finished_items"}
        value = entry["finished_items"]
        return {
            **rest,
            "score": value,
            "episodes": episodes,
            "mean_reward": None,
            "reward_half_width": None,
            "kpis": {headline: value},
        }

    def member(entry: Any) -> Any:
        if not isinstance(entry, dict) or "best_finished_items" not in entry:
            return entry
        rest = {k: v for k, v in entry.items() if k != "best_finished_items"}
        return {**rest, "best_score": entry["best_finished_items"]}

    converted = {k: v for k, v in data.items() if k != "best_finished_items"}
    converted["select_by"] = headline
    if "best_finished_items" in data:
        converted["best_score"] = data["best_finished_items"]
    if isinstance(data.get("evaluations"), list):
        converted["evaluations"] = [evaluation(entry) for entry in data["evaluations"]]
    if isinstance(data.get("members"), list):
        converted["members"] = [member(entry) for entry in data["members"]]
    return converted


def _checked(path: Path, name: str, value: Any, hint: Any) -> Any:
    """`value` converted to the field's type (lists to tuples), or ModelError."""

    def wrong(expected: str) -> ModelError:
        return ModelError(
            f"{path}: field {name!r} must be {expected}, found {value!r}"
            f" ({type(value).__name__}); {_FIX}"
        )

    if hint in (tuple[MemberSummary, ...], tuple[Evaluation, ...]):
        record = get_args(hint)[0]
        names = {f.name for f in fields(record)}
        if not isinstance(value, list) or not all(
            isinstance(entry, dict) and set(entry) == names for entry in value
        ):
            raise wrong(f"a list of {{{', '.join(sorted(names))}}} objects")
        record_hints = get_type_hints(record)
        return tuple(
            record(
                **{
                    key: _checked(path, f"{name}.{key}", entry[key], record_hints[key])
                    for key in names
                }
            )
            for entry in value
        )
    if hint is NetworkDescription:
        names = {f.name for f in fields(NetworkDescription)}
        if not isinstance(value, dict) or set(value) != names:
            raise wrong(f"an object with {', '.join(sorted(names))}")
        network_hints = get_type_hints(NetworkDescription)
        return NetworkDescription(
            **{
                key: _checked(path, f"{name}.{key}", value[key], network_hints[key])
                for key in names
            }
        )
    if hint == float | None:
        if value is None:
            return None
        return _checked(path, name, value, float)
    if hint == tuple[int, ...]:
        if not isinstance(value, list) or not all(_is_int(v) for v in value):
            raise wrong("a list of integers")
        return tuple(value)
    if hint == str | None:
        if value is not None and not isinstance(value, str):
            raise wrong("a string or null")
        return value
    if get_origin(hint) is dict:
        value_type = get_args(hint)[1]
        if not isinstance(value, dict) or (
            value_type is str and not all(isinstance(v, str) for v in value.values())
        ):
            raise wrong("an object" + (" of strings" if value_type is str else ""))
        if value_type is float:
            return {key: _checked(path, f"{name}.{key}", v, float) for key, v in value.items()}
        return value
    if hint is bool:
        if not isinstance(value, bool):
            raise wrong("true or false")
        return value
    if hint is int:
        if not _is_int(value):
            raise wrong("an integer")
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise wrong("a number")
        return float(value)
    if hint is str:
        if not isinstance(value, str):
            raise wrong("a string")
        return value
    raise TypeError(f"ModelCard field {name!r} has a type the card reader does not know: {hint}")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def write_card(card: ModelCard, model_path: Path) -> Path:
    """Write `card` beside `model_path` (atomically); return the card's path."""
    path = card_path(model_path)
    with atomic_output(path) as temporary:
        temporary.write_text(json.dumps(card.to_json(), indent=2) + "\n", encoding="utf-8")
    return path
