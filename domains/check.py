"""``check_domain``: does a domain keep the contract? Run it in the domain's own tests.

Like Gymnasium's ``check_env`` and PettingZoo's ``api_test``, for a simreel domain, built
in or shipped by a package of its own::

    from domains.check import check_domain

    def test_my_domain_keeps_the_contract() -> None:
        check_domain("mydomain")                         # every check, 3 episodes
        check_domain("mydomain", {"weather": "windy"})   # another variant

It plays episodes with the seeded random legal policy and checks, in this order:

* **declaration**: the class attributes the env and the stages read, and that the
  domain and its env can be built;
* **training defaults**: ``training_defaults`` names only ``TrainConfig`` fields (and
  passes ``TrainConfig.validate`` for a registered domain);
* **play**: every episode plays to its end without an error;
* **masks**: whenever a decision is due, the decider's mask has one boolean per local
  action and at least one True, and only the decider's actions are legal;
* **observations**: every observation lies inside ``observation_space``;
* **episodes end**: every episode ends within ``max_decisions`` decisions;
* **vocabulary**: every recorded row names a declared actor, state and attribute;
* **kpis**: ``kpis()`` returns exactly ``kpi_names``, as finite numbers;
* **determinism**: the same seed and the same decisions record the same table, and
  reach the same end without a recorder (as in training);
* **gymnasium**: the env passes Gymnasium's ``check_env`` without a warning;
* **painter**: the domain's painter (the generic timeline for a domain without one)
  draws a still of a recorded table.

The first check that fails raises :class:`DomainCheckError`, whose message says what
is wrong and how to fix it; otherwise a :class:`DomainCheckReport` lists the checks.

Where it lives: here, beside the env and the registry it checks, so a domain's author
imports it from ``domains`` as they import ``Domain``. Two checks need a stage:
``TrainConfig`` (``stages.train.config``) and the render stage's ``render`` function
(``stages.render.cli``). Both are imported inside those checks, never when this module
loads, and a check whose stage cannot be imported is skipped with a note. The import
contracts (``.importlinter``) forbid only the other direction, the render stage, the
paint kit and the painters loading simulation code; nothing of the render stage imports
this module, and ``import domains.check`` loads neither torch nor pygame.
"""

from __future__ import annotations

import re
import tempfile
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Final

import numpy as np
from gymnasium import spaces
from gymnasium.utils.env_checker import check_env

from domains.check_episodes import (
    CHECKS,
    DECLARATION,
    DETERMINISM,
    GYMNASIUM,
    PAINTER,
    TRAINING_DEFAULTS,
    DomainCheckError,
    WatchedEpisode,
    check_determinism,
    episode_checks,
    play_watched,
)
from domains.domain import Domain
from domains.env import MultiActorEnv
from domains.policies import episode_draw_seed
from domains.registry import describe_options, domain_factory, load_domain, resolve_options
from schemas.errors import ConfigError, SimreelError
from schemas.vocabulary import Vocabulary

__all__ = [
    "CHECKS",
    "MAX_DECISIONS",
    "DomainCheckError",
    "DomainCheckReport",
    "PassedCheck",
    "check_domain",
]

MAX_DECISIONS: Final = 100_000
"""Decisions an episode may take before the check says it does not end: far more than any
episode of the reference domains takes (hundreds), yet a few seconds to play."""
MAX_EPISODES: Final = 1_000
_ANSI: Final = re.compile(r"\x1b\[[0-9;]*m")
_NOT_TRAINING_SETTINGS: Final = ("domain", "options")
"""TrainConfig fields that ``simreel train`` sets itself: a domain's defaults cannot."""


@dataclass(frozen=True)
class PassedCheck:
    """One check that passed, and what it covered."""

    name: str
    """One of :data:`CHECKS`."""
    detail: str

    def __str__(self) -> str:
        return f"{self.name}: {self.detail}"


@dataclass(frozen=True)
class DomainCheckReport:
    """What :func:`check_domain` checked: every check passed, or was skipped with a note."""

    domain_id: str
    options: dict[str, str]
    """The variant checked (every option, defaults filled in)."""
    episodes: int
    seed: int
    passed: tuple[PassedCheck, ...]
    notes: tuple[str, ...] = ()
    """Checks skipped, and why (a stage that cannot be imported in this installation)."""

    @property
    def names(self) -> tuple[str, ...]:
        """The names of the checks that passed, in the order they ran."""
        return tuple(check.name for check in self.passed)


OnPass = Callable[[PassedCheck], None]


def check_domain(
    domain: str | type[Domain],
    options: Mapping[str, str] | None = None,
    episodes: int = 3,
    seed: int = 0,
    *,
    max_decisions: int = MAX_DECISIONS,
    on_pass: OnPass | None = None,
) -> DomainCheckReport:
    """Check that `domain` (an installed domain's id, or a Domain class) keeps the contract.

    Plays `episodes` episodes of the variant `options` (unset options take their
    defaults), episode k reset with ``seed + k``, with the random legal policy.
    `on_pass` is called with each check as it passes (the command line prints it).

    Raises DomainCheckError for the first check that fails, and ConfigError for an
    unknown domain, option or value, or a bad `episodes`, `seed` or `max_decisions`.
    """
    for name, value, lowest in (
        ("episodes", episodes, 1),
        ("seed", seed, 0),
        ("max_decisions", max_decisions, 1),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or value < lowest:
            raise ConfigError(f"{name} ({value!r}) must be an integer >= {lowest}")
    if episodes > MAX_EPISODES:
        raise ConfigError(f"episodes ({episodes}) must be at most {MAX_EPISODES}")
    domain_class, registered = _domain_class(domain)
    # Plain strings: a domain may declare its choices as StrEnum members.
    resolved = {k: str(v) for k, v in resolve_options(domain_class, options or {}).items()}
    passed: list[PassedCheck] = []
    notes: list[str] = []

    def done(name: str, detail: str) -> None:
        check = PassedCheck(name, detail)
        passed.append(check)
        if on_pass is not None:
            on_pass(check)

    factory = domain_factory(domain_class, resolved)
    try:
        done(DECLARATION, _check_declaration(domain_class, factory))
        defaults = _check_training_defaults(domain_class, resolved, registered)
        if defaults is None:
            notes.append("training defaults not checked: the train stage cannot be imported")
        else:
            done(TRAINING_DEFAULTS, defaults)
        played = [
            play_watched(factory, seed + k, episode_draw_seed(seed, k), max_decisions)
            for k in range(episodes)
        ]
        for name, detail in episode_checks(domain_class, played):
            done(name, detail)
        done(DETERMINISM, check_determinism(factory, played[0], max_decisions))
        done(GYMNASIUM, _check_gymnasium(factory))
        painted = _check_painter(domain_class, resolved, played[0], seed)
        if painted is None:
            notes.append("painter not checked: the render stage cannot be imported")
        else:
            done(PAINTER, painted)
    except DomainCheckError as error:
        subject = f"{domain_class.domain_id} ({describe_options(resolved)})"
        # The cause stays chained: in a test, the domain's own traceback shows.
        raise error.about(subject) from error.__cause__
    return DomainCheckReport(
        domain_id=domain_class.domain_id,
        options=resolved,
        episodes=episodes,
        seed=seed,
        passed=tuple(passed),
        notes=tuple(notes),
    )


# -- declaration -------------------------------------------------------------------


def _domain_class(domain: str | type[Domain]) -> tuple[type[Domain], bool]:
    """The class to check, and whether it is the one registered under its id."""
    if isinstance(domain, str):
        try:
            loaded = load_domain(domain)  # ConfigError for an unknown id: exit code 2
        except SimreelError:
            raise
        except Exception as error:  # a broken third-party package, not our caller's input
            raise DomainCheckError(
                DECLARATION,
                f"the domain {domain!r} cannot be imported: {type(error).__name__}: {error}",
                "fix or reinstall the package that declares it in the 'simreel.domains' "
                "entry points",
            ) from error
        declared = getattr(loaded, "domain_id", None)
        if declared != domain:
            # Tables and cards store domain_id, and painters are found by it: a table
            # recorded with --domain x would say y.
            raise DomainCheckError(
                DECLARATION,
                f"the entry point {domain!r} names a class whose domain_id is {declared!r}",
                "name the 'simreel.domains' entry point after the class's domain_id",
            )
        return loaded, True
    if not (isinstance(domain, type) and issubclass(domain, Domain)):
        raise DomainCheckError(
            DECLARATION,
            f"{domain!r} is not a Domain class",
            "pass a domain id or a subclass of domains.domain.Domain",
        )
    try:
        registered = load_domain(domain.domain_id) is domain
    except Exception:  # not installed under its id (a class defined in a test): fine
        registered = False
    return domain, registered


def _check_declaration(domain_class: type[Domain], factory: Callable[[], Domain]) -> str:
    def fail(problem: str, fix: str) -> DomainCheckError:
        return DomainCheckError(DECLARATION, f"{domain_class.__name__}: {problem}", fix)

    domain_id = getattr(domain_class, "domain_id", None)
    if not isinstance(domain_id, str) or not domain_id:
        raise fail(f"domain_id is {domain_id!r}", "set domain_id to the domain's stable name")
    version = getattr(domain_class, "domain_version", None)
    if isinstance(version, bool) or not isinstance(version, int) or version < 0:
        raise fail(f"domain_version is {version!r}", "set domain_version to an integer >= 0")
    if not isinstance(getattr(domain_class, "vocabulary", None), Vocabulary):
        raise fail("vocabulary is not a schemas.vocabulary.Vocabulary", "declare one")
    horizon = getattr(domain_class, "horizon", None)
    if not isinstance(horizon, int | float) or not horizon > 0:
        raise fail(f"horizon is {horizon!r}", "set horizon to a positive number of seconds")
    space = getattr(domain_class, "observation_space", None)
    if not (isinstance(space, spaces.Box) and space.dtype == np.float32 and len(space.shape) == 1):
        raise fail(
            f"observation_space is {space!r}",
            "declare a one-dimensional gymnasium.spaces.Box of dtype float32",
        )
    kpi_names = tuple(getattr(domain_class, "kpi_names", ()))
    if not all(isinstance(name, str) for name in kpi_names) or len(set(kpi_names)) != len(
        kpi_names
    ):
        raise fail(f"kpi_names is {kpi_names!r}", "name every KPI once, as a string")
    if not isinstance(domain_class.training_defaults, Mapping):
        raise fail("training_defaults is not a mapping", "declare a dict of TrainConfig fields")
    try:
        built = factory()
        MultiActorEnv(factory)  # its constructor checks an action list per decider
    except Exception as error:
        raise fail(
            f"cannot be built: {type(error).__name__}: {error}",
            "the constructor must take the domain's options as keyword arguments, implement "
            "every abstract method of Domain and declare an action name list per decider",
        ) from error
    deciders = ", ".join(built.decider_names)
    actions = sum(len(names) for names in built.action_names)
    return (
        f"{domain_id} v{version}: {len(built.decider_names)} deciders ({deciders}), "
        f"{actions} actions, {len(kpi_names)} KPI{'' if len(kpi_names) == 1 else 's'}, "
        f"horizon {horizon:g} s"
    )


def _check_training_defaults(
    domain_class: type[Domain], options: Mapping[str, str], registered: bool
) -> str | None:
    """The check's detail line, or None when the train stage cannot be imported."""
    try:
        from stages.train.config import TrainConfig  # loads no torch: only the dataclass
    except ImportError:
        return None
    defaults = dict(domain_class.training_defaults)
    known = {field.name for field in fields(TrainConfig)} - set(_NOT_TRAINING_SETTINGS)
    unknown = sorted(set(defaults) - known)
    if unknown:
        raise DomainCheckError(
            TRAINING_DEFAULTS,
            f"training_defaults names {', '.join(map(repr, unknown))}, which "
            f"{'is not a setting' if len(unknown) == 1 else 'are not settings'} of simreel train",
            "use TrainConfig field names (simreel train --help lists them, with '-' for '_'), "
            "and leave domain and options to the command",
        )
    choices = ("reward", *domain_class.kpi_names)
    select_by = defaults.get("select_by", "reward")
    if select_by not in choices:
        raise DomainCheckError(
            TRAINING_DEFAULTS,
            f"training_defaults selects by {select_by!r}",
            f"select_by must be 'reward' or one of the domain's kpi_names: {', '.join(choices)}",
        )
    if registered:  # TrainConfig looks the domain up by its id
        try:
            TrainConfig.for_domain(domain_class.domain_id, options).validate()
        except ConfigError as error:
            raise DomainCheckError(
                TRAINING_DEFAULTS,
                f"training_defaults give an invalid configuration: {error}",
                "correct that value in the domain's training_defaults",
            ) from None
    shown = ", ".join(f"{name}={value!r}" for name, value in defaults.items())
    return shown or "none (the generic defaults of simreel train)"


def _check_gymnasium(factory: Callable[[], Domain]) -> str:
    fix = "see the message: the env's reset, step or spaces break the Gymnasium API"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            check_env(MultiActorEnv(factory), skip_render_check=True)
        except Exception as error:
            problem = f"gymnasium's check_env failed: {type(error).__name__}: {error}"
            raise DomainCheckError(GYMNASIUM, problem, fix) from error
    complaints = [w for w in caught if issubclass(w.category, UserWarning)]
    if complaints:
        text = _ANSI.sub("", str(complaints[0].message))
        raise DomainCheckError(GYMNASIUM, f"gymnasium's check_env warned: {text}", fix)
    return "the env passes gymnasium's check_env without a warning"


def _check_painter(
    domain_class: type[Domain], options: Mapping[str, str], first: WatchedEpisode, seed: int
) -> str | None:
    """Write the first episode as a table and draw a still of it through the render stage;
    the check's detail line, or None when the render stage cannot be imported."""
    from schemas.events import write_events  # pyarrow: only for this check

    try:
        from stages.render.cli import RenderOptions, render
        from stages.render.painters import TIMELINE, installed_painters
    except ImportError:
        return None
    domain_id = domain_class.domain_id
    name = domain_id if domain_id in installed_painters() else TIMELINE
    episode = first.episode
    with tempfile.TemporaryDirectory(prefix="simreel-check-") as folder:
        try:
            table = write_events(
                Path(folder) / f"{domain_id}.parquet",
                [episode],
                domain_id=domain_id,
                domain_version=domain_class.domain_version,
                vocabulary=domain_class.vocabulary,
                provenance={"policy": {"kind": "random", "seed": seed}, "check_domain": True},
                domain_options=dict(options),
            )
        except SimreelError as error:
            raise DomainCheckError(
                PAINTER,
                f"the recorded episode does not make a valid event table: {error}",
                "record only what the vocabulary declares, with values of the declared types",
            ) from error
        still = episode.end_time / 2
        try:
            render(RenderOptions(table=table, still=still, out=Path(folder) / "still.png"))
        except Exception as error:
            raise DomainCheckError(
                PAINTER,
                f"the painter {name!r} cannot draw a still at t = {still:g} s of the "
                f"episode of seed {first.seed}: {type(error).__name__}: {error}",
                "fix the painter (it may import only its vocabulary, schemas and "
                "stages.render.paintkit), or remove its 'simreel.painters' entry point to "
                "fall back to the generic timeline",
            ) from error
    kind = "the generic timeline" if name == TIMELINE else f"the painter {name!r}"
    return f"{kind} drew a still at t = {still:g} s of a recorded table"
