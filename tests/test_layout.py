"""The repository's layout rules, checked rather than hoped for.

A domain is one folder under ``domains/`` with a vocabulary module (shared names), a
simulation module and a painter module; a domain's ``__init__`` imports nothing, so
that loading its painter never loads its simulator.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOMAIN_DIRS = sorted(
    p for p in (ROOT / "domains").iterdir() if p.is_dir() and (p / "__init__.py").exists()
)


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def test_top_level_folders_exist() -> None:
    for name in ("stages", "schemas", "domains", "tests", "data", ".ci"):
        assert (ROOT / name).is_dir(), f"missing top-level folder {name}/"


def test_there_is_at_least_one_domain() -> None:
    assert [p.name for p in DOMAIN_DIRS] != []


@pytest.mark.parametrize("domain", DOMAIN_DIRS, ids=lambda p: p.name)
def test_domain_folder_has_separate_vocabulary_simulation_and_painter(domain: Path) -> None:
    for module in ("vocabulary.py", "simulation.py", "painter.py"):
        assert (domain / module).is_file(), f"domains/{domain.name}/ lacks {module}"


@pytest.mark.parametrize("domain", DOMAIN_DIRS, ids=lambda p: p.name)
def test_domain_init_imports_nothing(domain: Path) -> None:
    assert _imports(domain / "__init__.py") == set(), (
        f"domains/{domain.name}/__init__.py must not import (its painter would load the simulator)"
    )


@pytest.mark.parametrize("domain", DOMAIN_DIRS, ids=lambda p: p.name)
def test_vocabulary_depends_only_on_the_schema_package(domain: Path) -> None:
    allowed_prefixes = ("schemas", "__future__", "enum", "typing", "dataclasses")
    imports = _imports(domain / "vocabulary.py")
    bad = sorted(m for m in imports if not m.startswith(allowed_prefixes))
    assert bad == [], f"domains/{domain.name}/vocabulary.py imports {bad}"


def test_schemas_never_import_domains_or_stages() -> None:
    for path in (ROOT / "schemas").rglob("*.py"):
        bad = sorted(m for m in _imports(path) if m.split(".")[0] in {"domains", "stages"})
        assert bad == [], f"{path.relative_to(ROOT)} imports {bad}"


TRAIN_ORDER = (
    "model_card",
    "policy_network",
    "model_format",
    "cluster",
    "model_policy",
    "config",
    "evaluation",
    "learner",
    "ray_learner",
    "population",
    "run",
    "curves",
    "sweep",
    "cli",
    "bench",
)
"""The train stage's modules, lowest first: each may import only modules listed before it
(config → learner → population/sweep → command line), so there is no circle to untangle."""


def _train_modules() -> list[Path]:
    return sorted(p for p in (ROOT / "stages" / "train").glob("*.py") if p.name != "__init__.py")


def test_the_train_stage_is_one_package_with_one_way_imports() -> None:
    assert not list((ROOT / "stages").glob("train*.py")), "the train stage lives in stages/train/"
    assert _imports(ROOT / "stages" / "train" / "__init__.py") == set(), (
        "stages/train/__init__.py must not import (record reads a model card without training code)"
    )
    modules = _train_modules()
    unplaced = sorted(p.stem for p in modules if p.stem not in TRAIN_ORDER)
    assert unplaced == [], f"add {unplaced} to TRAIN_ORDER in tests/test_layout.py"
    for path in modules:
        rank = TRAIN_ORDER.index(path.stem)
        for module in _imports(path):
            if module == "stages.train":
                raise AssertionError(f"stages/train/{path.name} imports the package itself")
            if module.startswith("stages.train."):
                imported = module.split(".")[2]
                assert TRAIN_ORDER.index(imported) < rank, (
                    f"stages/train/{path.name} imports stages.train.{imported}, which comes "
                    f"after it in TRAIN_ORDER: imports in the train stage go one way"
                )


def test_only_the_command_line_loads_the_train_stages_command() -> None:
    for path in (ROOT / "stages").rglob("*.py"):
        if path.parent.name == "train" and path.stem in ("cli", "bench"):
            continue
        bad = sorted(m for m in _imports(path) if m == "stages.train.cli")
        assert bad == [], f"{path.relative_to(ROOT)} imports the train command line"
