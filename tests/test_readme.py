"""The README, followed top to bottom: every command it shows runs, in order, as written.

The test starts where a new user starts after the quick start: a fresh folder holding
the committed model, in which ``make demo`` has run (its recipe is read from the
Makefile). It then runs every ``simreel`` line of the README's bash blocks and every
python block, in the order they appear, and finally checks that the demo's movie and
table and the committed model are byte for byte what they were. Training lines get a
tiny budget appended (``--timesteps``, one learner; ``--episodes`` for evaluate): the
README's real budgets take minutes. Nothing else is changed.
"""

from __future__ import annotations

import hashlib
import re
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.cli_helpers import run_cli

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
MAKEFILE = ROOT / "Makefile"
TINY_EPISODES = 40
"""Episodes for a README evaluate line (its default is 2,000)."""
TINY_TIMESTEPS = 1024
"""Timesteps for a README training line; a --resume line goes to four times this."""
_FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)


@dataclass(frozen=True)
class Step:
    """One thing the README tells the user to run: a shell line or a python block."""

    language: str
    text: str


def readme_steps(text: str) -> list[Step]:
    """Every ``simreel`` command line and python block, in the README's order."""
    steps: list[Step] = []
    for match in _FENCE.finditer(text):
        language, body = match.group(1), match.group(2)
        if language == "python":
            steps.append(Step("python", body))
        elif language == "bash":
            joined = body.replace("\\\n", " ")
            steps += [
                Step("bash", line.strip())
                for line in joined.splitlines()
                if line.strip().startswith("simreel ") or line.strip() == "simreel"
            ]
    return steps


def demo_commands(makefile: str) -> list[str]:
    """The ``simreel`` lines of the Makefile's demo recipe, as a shell would expand them."""
    variables = dict(re.findall(r"^(\w+) \?= (.*)$", makefile, re.MULTILINE))
    recipe = makefile.split("\ndemo:", 1)[1].split("\n\n", 1)[0]
    lines = [line.strip() for line in recipe.splitlines()[1:] if line.startswith("\t")]
    expanded = []
    for line in lines:
        line = line.replace("$(BIN)/", "")
        expanded.append(re.sub(r"\$\((\w+)\)", lambda m: variables[m.group(1)], line))
    return expanded


def _with_tiny_budget(argv: list[str]) -> list[str]:
    if argv[:1] == ["sweep"]:
        # Every run of a sweep as a tiny single learner (a later --set of a field wins);
        # a resumed sweep keeps the settings it was started with.
        if "--resume" in argv:
            return [*argv, "--quiet"]
        tiny = [f"timesteps={TINY_TIMESTEPS}", f"eval_freq={TINY_TIMESTEPS}", "population=1"]
        tiny += ["n_envs=1", "n_steps=128", "batch_size=64"]
        return [*argv, *(part for setting in tiny for part in ("--set", setting)), "--quiet"]
    if argv[:1] == ["evaluate"]:
        # Every figure is checked elsewhere; here the command must run as written.
        return [*argv, "--episodes", str(TINY_EPISODES), "--quiet"]
    if argv[:1] != ["train"]:
        return argv
    resumed = "--resume" in argv
    # A rollout is 8 envs x 256 steps: a tiny run still does 2048; its resume must go past.
    budget = ["--timesteps", str(4 * TINY_TIMESTEPS if resumed else TINY_TIMESTEPS)]
    budget += ["--eval-freq", str(TINY_TIMESTEPS), "--quiet"]
    if "--population" not in argv and not resumed:
        budget += ["--population", "1"]
    return [*argv, *budget]


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_readme_parses_into_commands_and_the_demo_recipe() -> None:
    steps = readme_steps(README.read_text())
    commands = [step.text.split()[1] for step in steps if step.language == "bash"]
    for stage in ("train", "record", "inspect", "render"):
        assert stage in commands
    assert any(step.language == "python" for step in steps)
    demo = demo_commands(MAKEFILE.read_text())
    assert [line.split()[:2] for line in demo] == [["simreel", "record"], ["simreel", "render"]]
    assert "$(" not in " ".join(demo)


def test_the_readme_says_where_simreel_lives() -> None:
    # A fresh shell has no `simreel` on its PATH: the README must say how to get it.
    text = README.read_text()
    venv = re.search(r"^VENV \?= (.*)$", MAKEFILE.read_text(), re.MULTILINE)
    assert venv is not None
    assert f"source {venv.group(1)}/bin/activate" in text
    assert f"{venv.group(1)}/bin/simreel" in text
    assert (Path(sys.executable).parent / "simreel").exists()


@pytest.mark.slow
def test_every_readme_command_runs_in_order_and_spares_the_demo(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # A user's working folder: outputs land in tmp_path/data, the committed models are
    # found from the package (the source tree), and must come out unchanged.
    monkeypatch.chdir(tmp_path)
    models = tmp_path / "data" / "models"
    shipped = [ROOT / "data" / "models" / "factory", ROOT / "data" / "models" / "cashier"]
    committed = {
        path: _digest(path) for folder in shipped for path in folder.rglob("*") if path.is_file()
    }

    for line in demo_commands(MAKEFILE.read_text()):
        code, _, err = run_cli(shlex.split(line)[1:], capsys)
        assert code == 0, f"make demo: {line}\n{err}"
    demo = {
        path: _digest(path)
        for path in [
            *(tmp_path / "data" / "movies").iterdir(),
            *(tmp_path / "data" / "events").iterdir(),
        ]
    }
    ours = {path: _digest(path) for path in models.rglob("*") if path.is_file()}

    namespace: dict[str, object] = {"__name__": "readme"}  # one session, as a user types it
    for step in readme_steps(README.read_text()):
        if step.language == "python":
            exec(compile(step.text, "README.md", "exec"), namespace)
            continue
        argv = _with_tiny_budget(shlex.split(step.text, comments=True)[1:])
        code, _, err = run_cli(argv, capsys)
        assert code == 0, f"README: {step.text}\n{err}"

    assert {path: _digest(path) for path in demo} == demo, "a README command replaced the demo"
    assert {path: _digest(path) for path in ours} == ours, "a README command replaced a model"
    assert {path: _digest(path) for path in committed} == committed
