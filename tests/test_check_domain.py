"""``check_domain`` and ``simreel check-domain`` / ``simreel domains``: every installed domain
passes, and a domain that breaks the contract fails with a message naming the check, the
problem and the fix.

The broken domains are a tiny working domain with one thing changed each.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest
import simpy
from gymnasium import spaces
from numpy.typing import NDArray

from domains.check import CHECKS, DomainCheckError, DomainCheckReport, check_domain
from domains.domain import Domain, DomainOption, Process
from domains.recorder import NullRecorder, Recorder
from domains.registry import known_domains, load_domain
from schemas.errors import ConfigError
from schemas.vocabulary import Actor, Attribute, Vocabulary
from stages.render.painters import installed_painters
from tests.cli_helpers import run_cli


def _variants(domain_id: str) -> list[tuple[str, dict[str, str]]]:
    options = load_domain(domain_id).options
    names = [option.name for option in options]
    return [
        (domain_id, dict(zip(names, values, strict=True)))
        for values in itertools.product(*(option.choices for option in options))
    ]


VARIANTS = [variant for domain_id in known_domains() for variant in _variants(domain_id)]
"""Every variant of every installed domain (the built-in ones at least)."""


@pytest.mark.parametrize(("domain_id", "options"), VARIANTS, ids=[f"{d}-{o}" for d, o in VARIANTS])
def test_every_installed_domain_and_variant_passes(domain_id: str, options: dict[str, str]) -> None:
    seen: list[str] = []
    report = check_domain(domain_id, options, episodes=2, on_pass=lambda c: seen.append(c.name))
    assert isinstance(report, DomainCheckReport)
    assert report.names == CHECKS
    assert seen == list(CHECKS)  # reported as each passed, in order
    assert report.notes == ()
    assert report.options == {name: str(value) for name, value in options.items()}
    painter = {check.name: check.detail for check in report.passed}["painter"]
    drawn_by = f"the painter {domain_id!r}" if domain_id in installed_painters() else "timeline"
    assert drawn_by in painter


def test_the_built_in_domains_are_checked_with_all_their_variants() -> None:
    assert ("factory", {}) in VARIANTS
    assert [o for d, o in VARIANTS if d == "cashier"] == [
        {"dispatcher": "controlled"},
        {"dispatcher": "automatic"},
    ]


# -- a tiny domain that keeps the contract, and ways to break it ----------------------

TINY_VOCABULARY = Vocabulary(
    actors=(Actor("worker", ("working", "resting")), Actor("tally", ("count",))),
    attributes=(Attribute("count", "int64", "jobs done", quantity=True),),
)


class TinyDomain(Domain):
    """One worker who works (a random 1-2 s, +1) or rests (1 s) for 20 s."""

    domain_id: ClassVar[str] = "tiny_check"
    domain_version: ClassVar[int] = 0
    vocabulary = TINY_VOCABULARY
    decider_names = ("worker",)
    action_names = (("work", "rest"),)
    observation_space: ClassVar[spaces.Box] = spaces.Box(0.0, 1.0, shape=(1,), dtype=np.float32)
    horizon: ClassVar[float] = 20.0
    kpi_names: ClassVar[tuple[str, ...]] = ("jobs_done",)
    training_defaults: ClassVar[Mapping[str, Any]] = {"select_by": "jobs_done"}

    def __init__(self) -> None:
        self.sim = simpy.Environment()
        self.recorder: Recorder = NullRecorder()
        self.rng = np.random.default_rng(0)
        self.done = 0
        self.reward = 0.0

    def start(
        self, sim: simpy.Environment, recorder: Recorder, rng: np.random.Generator
    ) -> Sequence[int]:
        self.sim, self.recorder, self.rng = sim, recorder, rng
        recorder.enter("tally", "count", count=0)
        return [0]

    def legal_actions(self, decider: int) -> NDArray[np.bool_]:
        return np.array([True, True])

    def commit(self, decider: int, action: int) -> None:
        pass

    def perform(self, decider: int, action: int) -> Process:
        return self.work() if action == 0 else self.rest()

    def work(self) -> Process:
        self.recorder.enter("worker", "working")
        yield self.sim.timeout(self.duration())
        self.done += 1
        self.reward += 1.0
        self.recorder.enter("tally", "count", count=self.done)

    def rest(self) -> Process:
        self.recorder.enter("worker", "resting")
        yield self.sim.timeout(1.0)

    def duration(self) -> float:
        return 1.0 + float(self.rng.random())

    def observe(self) -> NDArray[np.float32]:
        return np.array([min(self.sim.now / self.horizon, 1.0)], dtype=np.float32)

    def collect_reward(self) -> float:
        reward, self.reward = self.reward, 0.0
        return reward

    def kpis(self) -> dict[str, float]:
        return {"jobs_done": float(self.done)}


class EmptyMaskDomain(TinyDomain):
    domain_id: ClassVar[str] = "tiny_empty_mask"

    def legal_actions(self, decider: int) -> NDArray[np.bool_]:
        tired = self.sim.now > 5.0
        return np.array([not tired, not tired])


class OutsideVocabularyDomain(TinyDomain):
    def rest(self) -> Process:
        self.recorder.enter("worker", "sleeping")
        yield self.sim.timeout(1.0)


class GlobalRandomDomain(TinyDomain):
    def duration(self) -> float:
        return 1.0 + float(np.random.random())  # the mistake under test: the global RNG


class ZeroTimeDomain(TinyDomain):
    def rest(self) -> Process:
        self.recorder.enter("worker", "resting")
        yield self.sim.timeout(0.0)

    def legal_actions(self, decider: int) -> NDArray[np.bool_]:
        return np.array([False, True])


class EndlessDomain(TinyDomain):
    horizon: ClassVar[float] = math.inf

    def observe(self) -> NDArray[np.float32]:
        return np.zeros(1, dtype=np.float32)


class WrongKpisDomain(TinyDomain):
    def kpis(self) -> dict[str, float]:
        return {"jobs": float(self.done)}


class ObservationOutsideDomain(TinyDomain):
    def observe(self) -> NDArray[np.float32]:
        return np.array([self.sim.now], dtype=np.float32)


class UnknownTrainingSettingDomain(TinyDomain):
    training_defaults: ClassVar[Mapping[str, Any]] = {"learning_rat": 1e-3}


class SelectByNoKpiDomain(TinyDomain):
    training_defaults: ClassVar[Mapping[str, Any]] = {"select_by": "finished_items"}


class RecordingChangesItDomain(TinyDomain):
    def rest(self) -> Process:
        self.recorder.enter("worker", "resting")
        # A rule that depends on whether the episode is recorded: training sees another world.
        yield self.sim.timeout(1.0 if isinstance(self.recorder, NullRecorder) else 2.0)


class WithOptionDomain(TinyDomain):
    options: ClassVar[tuple[DomainOption, ...]] = (
        DomainOption("pace", ("slow", "fast"), "how fast the worker works"),
    )

    def __init__(self, pace: str = "slow") -> None:
        super().__init__()
        self.pace = pace


def test_the_tiny_domain_passes() -> None:
    report = check_domain(TinyDomain, episodes=2)
    assert report.names == CHECKS
    assert report.domain_id == "tiny_check"
    # No painter is installed for it: the generic timeline draws its still.
    assert "the generic timeline drew a still" in str(report.passed[-1])


@pytest.mark.parametrize(
    ("domain", "check", "problem", "fix"),
    [
        (
            EmptyMaskDomain,
            "masks",
            r"legal_actions\(0\) of 'worker' returned no legal action while a decision is due",
            "give it one that is always legal",
        ),
        (
            OutsideVocabularyDomain,
            "vocabulary",
            r"actor 'worker' cannot enter state 'sleeping'",
            "declare that actor, state or attribute in the vocabulary",
        ),
        (
            GlobalRandomDomain,
            "determinism",
            r"the seed 0 and the same decisions gave two different episodes: row \d+",
            r"draw every random number from the rng that start\(\) receives",
        ),
        (
            WrongKpisDomain,
            "kpis",
            r"kpis\(\) returned \['jobs'\], kpi_names declares \['jobs_done'\]",
            "return exactly the names in kpi_names",
        ),
        (
            ObservationOutsideDomain,
            "observations",
            r"observe\(\)\[0\] is [\d.]+, outside \[0, 1\] of observation_space",
            "clip or scale the value, or widen observation_space",
        ),
        (
            UnknownTrainingSettingDomain,
            "training defaults",
            r"training_defaults names 'learning_rat', which is not a setting of simreel train",
            "use TrainConfig field names",
        ),
        (
            SelectByNoKpiDomain,
            "training defaults",
            r"selects by 'finished_items'",
            "select_by must be 'reward' or one of the domain's kpi_names: reward, jobs_done",
        ),
        (
            RecordingChangesItDomain,
            "determinism",
            r"recording changes the episode of seed 0",
            "only tell the recorder what happened",
        ),
    ],
    ids=lambda value: value.__name__ if isinstance(value, type) else None,
)
def test_a_broken_domain_fails_with_the_check_the_problem_and_the_fix(
    domain: type[Domain], check: str, problem: str, fix: str
) -> None:
    with pytest.raises(DomainCheckError) as raised:
        check_domain(domain, episodes=2)
    error = raised.value
    assert error.check == check
    assert str(error).startswith(f"{domain.domain_id} (no options) fails the {check} check: ")
    assert re_search(problem, error.problem), error.problem
    assert re_search(fix, error.fix), error.fix
    assert error.exit_code == 1


def re_search(pattern: str, text: str) -> bool:
    import re

    return re.search(pattern, text) is not None


@pytest.mark.parametrize("domain", [ZeroTimeDomain, EndlessDomain], ids=lambda d: d.__name__)
def test_an_episode_that_never_ends_fails_within_the_decision_budget(
    domain: type[Domain],
) -> None:
    with pytest.raises(DomainCheckError) as raised:
        check_domain(domain, episodes=1, max_decisions=500)
    error = raised.value
    assert error.check == "episodes end"
    assert "the episode of seed 0 did not end within 500 decisions" in error.problem
    assert "make every action take simulated time" in error.fix
    assert "episode_ended()" in error.fix


def test_the_where_of_a_failure_is_the_episode_the_decisions_and_the_time() -> None:
    with pytest.raises(DomainCheckError) as raised:
        check_domain(EmptyMaskDomain, episodes=1, seed=7)
    where = raised.value.problem
    assert where.startswith("episode seed 7, after ")
    time = float(where.split("t = ")[1].split(" s")[0])
    assert time > 5.0  # the worker tires after 5 s, not before


def test_the_domains_own_error_is_chained_for_its_traceback() -> None:
    class CrashingDomain(TinyDomain):
        def rest(self) -> Process:
            yield self.sim.timeout(1.0)
            raise ZeroDivisionError("the rest rule divides by zero")

    with pytest.raises(DomainCheckError) as raised:
        check_domain(CrashingDomain, episodes=3)
    assert raised.value.check == "play"
    assert "ZeroDivisionError: the rest rule divides by zero" in raised.value.problem
    assert isinstance(raised.value.__cause__, ZeroDivisionError)


def test_options_are_checked_by_name_and_value() -> None:
    report = check_domain(WithOptionDomain, {"pace": "fast"}, episodes=1)
    assert report.options == {"pace": "fast"}
    assert str(check_domain(WithOptionDomain, episodes=1).options) == "{'pace': 'slow'}"
    with pytest.raises(ConfigError, match=r"has no option 'speed'; its options: pace"):
        check_domain(WithOptionDomain, {"speed": "fast"})
    with pytest.raises(ConfigError, match=r"option pace='warp' is not one of slow, fast"):
        check_domain(WithOptionDomain, {"pace": "warp"})


def test_bad_arguments_and_unknown_domains_are_config_errors() -> None:
    with pytest.raises(ConfigError, match=r"episodes \(0\) must be an integer >= 1"):
        check_domain("factory", episodes=0)
    with pytest.raises(ConfigError, match=r"unknown domain 'nowhere'; installed domains: "):
        check_domain("nowhere")
    with pytest.raises(DomainCheckError, match="is not a Domain class"):
        check_domain(int)  # type: ignore[arg-type]


# -- the command line -----------------------------------------------------------------


def _install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, entries: Mapping[str, str]) -> None:
    """Make `entries` (id -> "module:Class") installed domains, as a package would, through
    a *.dist-info folder on sys.path (the venv is left alone)."""
    info = tmp_path / "site" / "simreel_check_fixtures-1.2.3.dist-info"
    info.mkdir(parents=True)
    info.joinpath("METADATA").write_text(
        "Metadata-Version: 2.1\nName: simreel-check-fixtures\nVersion: 1.2.3\n"
    )
    lines = "".join(f"{name} = {value}\n" for name, value in entries.items())
    info.joinpath("entry_points.txt").write_text(f"[simreel.domains]\n{lines}")
    monkeypatch.syspath_prepend(str(info.parent))


def test_check_domain_command_prints_each_check_of_every_variant(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run_cli(["check-domain", "cashier", "--episodes", "1"], capsys)
    assert code == 0, err
    for variant in ("dispatcher=controlled", "dispatcher=automatic"):
        assert f"cashier ({variant}), from simreel " in out
        assert f"cashier ({variant}) passes all {len(CHECKS)} checks" in out
    for check in CHECKS:
        assert out.count(f"  ok  {check} ") == 2
    assert out.rstrip().endswith("cashier: all 2 variants pass")


def test_check_domain_command_checks_only_the_variant_asked_for(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["check-domain", "cashier", "--option", "dispatcher=automatic", "--episodes", "1"]
    code, out, _ = run_cli(argv, capsys)
    assert code == 0
    assert "dispatcher=controlled" not in out
    assert "cashier (dispatcher=automatic) passes all" in out


def test_a_failing_check_is_one_line_and_exit_code_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _install(tmp_path, monkeypatch, {"tiny_empty_mask": f"{__name__}:EmptyMaskDomain"})
    code, out, err = run_cli(["check-domain", "tiny_empty_mask", "--episodes", "1"], capsys)
    assert code == 1
    assert "ok  declaration" in out  # the checks before it passed, and said so
    assert "ok  masks" not in out
    assert err.count("\n") == 1
    assert err.startswith("error: tiny_empty_mask (no options) fails the masks check: ")
    assert "Traceback" not in err


def test_user_mistakes_in_check_domain_are_exit_code_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, _, err = run_cli(["check-domain", "nowhere"], capsys)
    assert code == 2
    assert "unknown domain 'nowhere'" in err
    code, _, err = run_cli(["check-domain", "cashier", "--option", "lanes=4"], capsys)
    assert code == 2
    assert "has no option 'lanes'" in err


def test_domains_lists_the_built_in_domains(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(["domains"], capsys)
    assert code == 0
    assert "factory  (simreel " in out
    assert "  variants  --option dispatcher={controlled (default), automatic}: " in out
    assert "  KPIs      customers_served, survived" in out
    assert "  painter   factory (domains.factory.painter:FactoryPainter)" in out
    assert "  variants  none (no options)" in out


class EscapeDomain(TinyDomain):
    domain_id: ClassVar[str] = "tiny_escape"
    options: ClassVar[tuple[DomainOption, ...]] = (
        DomainOption("mode", ("plain",), "turns the terminal \x1b[31mred\x1b[0m"),
    )

    def __init__(self, mode: str = "plain") -> None:
        super().__init__()


def test_domains_lists_a_packages_domain_escaped_and_a_broken_one_with_its_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    entries = {"tiny_escape": f"{__name__}:EscapeDomain", "tiny_broken": "nowhere_at_all:Thing"}
    _install(tmp_path, monkeypatch, entries)
    code, out, _ = run_cli(["domains"], capsys)
    assert code == 0
    assert "tiny_escape  (simreel-check-fixtures 1.2.3)" in out
    assert "turns the terminal \\x1b[31mred\\x1b[0m" in out
    assert "\x1b" not in out
    assert "  painter   generic timeline" in out
    assert "tiny_broken  (simreel-check-fixtures 1.2.3)" in out
    assert "cannot be imported: ModuleNotFoundError: No module named 'nowhere_at_all'" in out
    assert "factory  (simreel " in out  # the broken package hides nothing else


def test_an_entry_point_named_otherwise_than_its_domain_id_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _install(tmp_path, monkeypatch, {"tiny_alias": f"{__name__}:TinyDomain"})
    with pytest.raises(DomainCheckError) as raised:
        check_domain("tiny_alias")
    assert raised.value.check == "declaration"
    assert "the entry point 'tiny_alias' names a class whose domain_id is 'tiny_check'" in str(
        raised.value
    )
    assert "name the 'simreel.domains' entry point after the class's domain_id" in str(raised.value)


@pytest.mark.parametrize("command", ["domains", "check-domain"])
def test_each_command_explains_itself_with_an_example(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run_cli([command, "--help"], capsys)
    assert code == 0
    assert "Example:" in out
    assert f"simreel {command}" in out
