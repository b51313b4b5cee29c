"""A domain in a package of its own is first-class: the ferry example of examples/ferry/.

The example is loaded as a separate package, exactly as ``pip install`` would make it
visible, but without touching the environment: a ``simreel_ferry-0.1.0.dist-info``
folder declaring its entry points, and ``examples/ferry/src``, go on ``sys.path`` for
in-process commands and on ``PYTHONPATH`` for a ``simreel`` subprocess. Then every
stage runs on it: ``domains``, ``check-domain``, a tiny ``train``, ``record``,
``inspect`` and ``render`` with the ferry's painter and with the generic timeline.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pygame
import pytest

from domains.check import CHECKS, check_domain
from schemas.events import read_events
from tests.cli_helpers import run_cli

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "ferry"
SOURCE = EXAMPLE / "src"
PACKAGE = SOURCE / "ferry_domain"


def _entry_points_txt() -> str:
    """The entry points of the example's own pyproject.toml, as a wheel would write them."""
    project = tomllib.loads((EXAMPLE / "pyproject.toml").read_text())["project"]
    sections = []
    for group, entries in project["entry-points"].items():
        lines = "".join(f"{name} = {value}\n" for name, value in entries.items())
        sections.append(f"[{group}]\n{lines}")
    return "\n".join(sections)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding the example's distribution metadata, as an install would leave it."""
    project = tomllib.loads((EXAMPLE / "pyproject.toml").read_text())["project"]
    folder = tmp_path_factory.mktemp("site")
    info = folder / "simreel_ferry-0.1.0.dist-info"
    info.mkdir()
    info.joinpath("METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {project['name']}\nVersion: {project['version']}\n"
    )
    info.joinpath("entry_points.txt").write_text(_entry_points_txt())
    return folder


@pytest.fixture
def ferry(site: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The ferry package visible to this process, as if installed."""
    monkeypatch.syspath_prepend(str(SOURCE))
    monkeypatch.syspath_prepend(str(site))
    return site


def test_the_example_is_a_package_of_its_own() -> None:
    project = tomllib.loads((EXAMPLE / "pyproject.toml").read_text())["project"]
    assert project["name"] == "simreel-ferry"
    assert project["license"] == {"text": "MIT"}
    assert project["entry-points"]["simreel.domains"] == {
        "ferry": "ferry_domain.simulation:FerryDomain"
    }
    assert project["entry-points"]["simreel.painters"] == {
        "ferry": "ferry_domain.painter:FerryPainter"
    }
    assert (EXAMPLE / "README.md").is_file()
    assert (EXAMPLE / "LICENSE").read_text().startswith("MIT License")


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def test_the_example_keeps_the_layout_rules() -> None:
    assert _imports(PACKAGE / "__init__.py") == set()
    vocabulary = _imports(PACKAGE / "vocabulary.py")
    assert {m.split(".")[0] for m in vocabulary} <= {"__future__", "dataclasses", "enum"} | {
        "typing",
        "schemas",
    }
    painter = _imports(PACKAGE / "painter.py")
    allowed = ("__future__", "typing", "pygame", "schemas", "stages.render.paintkit")
    bad = sorted(m for m in painter - {"ferry_domain.vocabulary"} if not m.startswith(allowed))
    assert bad == [], f"the ferry painter imports {bad}"
    simreel_api = ("domains.domain", "domains.recorder", "domains.stores", "schemas.")
    own = {m for m in _imports(PACKAGE / "simulation.py") if m.split(".")[0] in {"domains"}}
    assert all(m.startswith(simreel_api) for m in own), own


def test_simreel_domains_lists_the_ferry_with_its_package(site: Path) -> None:
    # A subprocess, as a user runs it: the package found through PYTHONPATH alone.
    paths = [str(site), str(SOURCE), os.environ.get("PYTHONPATH", "")]
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in paths if p)}
    result = subprocess.run(
        [sys.executable, "-m", "stages.cli", "domains"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    block = result.stdout.split("ferry  (")[1].split("\nfactory")[0]
    assert block.startswith("simreel-ferry 0.1.0)")
    assert "  version   0" in block
    assert "  variants  --option weather={calm (default), windy}: " in block
    assert "  KPIs      cars_delivered, cars_waiting" in block
    assert "  painter   ferry (ferry_domain.painter:FerryPainter)" in block
    assert "cashier  (simreel " in result.stdout


def test_check_domain_passes_for_the_ferry(ferry: Path) -> None:
    report = check_domain("ferry", {"weather": "windy"}, episodes=2)
    assert report.names == CHECKS
    details = {check.name: check.detail for check in report.passed}
    assert details["painter"].startswith("the painter 'ferry' drew a still")
    assert "select_by='cars_delivered'" in details["training defaults"]
    assert "short-lived instances" in details["vocabulary"]
    assert not details["vocabulary"].startswith("0 ")


def test_the_examples_own_tests_pass(ferry: Path) -> None:
    spec = importlib.util.spec_from_file_location(
        "ferry_example_tests", EXAMPLE / "tests" / "test_ferry_domain.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.test_the_ferry_keeps_simreels_contract("calm")


def test_check_domain_command_on_the_ferry(ferry: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(["check-domain", "ferry", "--episodes", "1"], capsys)
    assert code == 0, err
    assert "ferry (weather=calm), from simreel-ferry 0.1.0: 1 episode from seed 0" in out
    assert "the painter 'ferry' drew a still" in out
    assert out.rstrip().endswith("ferry: all 2 variants pass")


def _pixels_of(path: Path, colour: tuple[int, int, int]) -> float:
    """The share of `path`'s pixels that are exactly `colour`."""
    picture = pygame.image.load(str(path))
    pixels = np.frombuffer(pygame.image.tobytes(picture, "RGB"), np.uint8).reshape(-1, 3)
    return float((pixels == np.array(colour, np.uint8)).all(axis=1).mean())


def test_train_record_inspect_and_render_the_ferry(
    ferry: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from ferry_domain.painter import RIVER
    from ferry_domain.simulation import FerryDomain

    # A user's working folder: train writes there, and record finds it there.
    monkeypatch.chdir(tmp_path)
    run = Path("data/models/ferry-seed0")
    train = ["train", "--domain", "ferry", "--timesteps", "512", "--population", "1"]
    train += ["--n-envs", "1", "--n-steps", "128", "--batch-size", "64", "--eval-freq", "256"]
    code, out, err = run_cli([*train, "--quiet"], capsys)
    assert code == 0, err
    assert f"wrote {run / 'model.zip'} " in out
    card = json.loads((run / "model.json").read_text())
    assert card["domain_id"] == "ferry"
    assert card["domain_package"] == {"name": "simreel-ferry", "version": "0.1.0"}
    assert card["domain_options"] == {"weather": "calm"}
    # The domain's own defaults reached the run: select by cars delivered, over 20 episodes.
    assert card["config"]["select_by"] == FerryDomain.training_defaults["select_by"]
    assert card["config"]["select_by"] == card["select_by"] == "cars_delivered"
    assert card["config"]["eval_episodes"] == FerryDomain.training_defaults["eval_episodes"]

    table = tmp_path / "t.parquet"
    code, out, err = run_cli(["record", "--domain", "ferry", "--out", str(table)], capsys)
    assert code == 0, err
    assert "of ferry (weather=calm)" in out
    events = read_events(table)
    assert events.metadata.domain_id == "ferry"
    provenance = events.metadata.provenance
    assert provenance["domain"]["package"] == {"name": "simreel-ferry", "version": "0.1.0"}
    assert provenance["policy"]["path"] == str(run / "model.zip")
    assert events.metadata.vocabulary == FerryDomain.vocabulary
    assert set(events.metadata.episodes[0].kpis) == {"cars_delivered", "cars_waiting"}

    code, out, err = run_cli(["inspect", str(table)], capsys)
    assert code == 0, err
    assert "domain ferry v0 (weather=calm)" in out
    assert "car (car_<n>)" in out
    assert "landing (level)" in out

    ferry_still, generic_still = tmp_path / "ferry.png", tmp_path / "timeline.png"
    code, out, err = run_cli(
        ["render", str(table), "--still", "10", "--out", str(ferry_still)], capsys
    )
    assert code == 0, err
    assert "ferry painter" in out
    argv = ["render", str(table), "--still", "10", "--painter", "timeline"]
    code, out, err = run_cli([*argv, "--out", str(generic_still)], capsys)
    assert code == 0, err
    assert "timeline painter" in out
    # The ferry painter's river fills much of its picture; the timeline has no river.
    assert _pixels_of(ferry_still, RIVER) > 0.15
    assert _pixels_of(generic_still, RIVER) == 0.0
