"""The ``simreel`` command group itself: help, version, lazy sub-commands, error handling."""

from __future__ import annotations

import subprocess
import sys

import pytest
from click.testing import CliRunner

from stages.cli import cli, main


def test_help_lists_every_stage_with_an_example() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    for command in ("train", "record", "inspect", "render"):
        assert command in result.output
    assert "Example:" in result.output


def test_help_does_not_import_the_stages() -> None:
    code = (
        "import sys; from stages.cli import main\n"
        "try: main(['--help'])\n"
        "except SystemExit: pass\n"
        "heavy = [m for m in ('torch', 'stable_baselines3', 'simpy', 'pygame')"
        " if m in sys.modules]\n"
        "print('HEAVY', heavy)"
    )
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert "HEAVY []" in output.stdout


def test_unknown_command_fails_with_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["launch"])
    assert exit_info.value.code == 2
    assert "No such command 'launch'" in capsys.readouterr().err


def test_version() -> None:
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0
    assert "version" in result.output
