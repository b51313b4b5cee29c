"""``simreel record``: configuration, determinism, provenance, atomic output, the CLI."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import stages.record as record_module
from schemas.errors import ConfigError
from schemas.events import read_events
from schemas.provenance import simreel_version
from stages.cli import cli
from stages.record import RecordConfig, record
from tests.cli_helpers import run_cli

_run = run_cli


def test_defaults_follow_the_domain() -> None:
    config = RecordConfig()
    assert (config.domain, config.policy, config.episodes, config.seed) == (
        "factory",
        "model",
        1,
        0,
    )
    assert config.out_path == Path("data/events/factory-model-seed0.parquet")


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (RecordConfig(policy="random", episodes=0), r"episodes \(0\) must be between 1 and"),
        (RecordConfig(policy="random", seed=-1), r"seed \(-1\) must be >= 0"),
        (RecordConfig(policy="random", out=Path("t.csv")), "must end in .parquet"),
        (RecordConfig(policy="random", domain="bakery"), "unknown domain 'bakery'"),
        (RecordConfig(policy="random", model=Path("m.zip")), "--model is only used with"),
        (RecordConfig(policy="greedy"), "policy 'greedy' is unknown"),  # type: ignore[arg-type]
    ],
)
def test_bad_configuration_is_a_config_error(config: RecordConfig, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        config.validate()


def test_recording_is_deterministic_except_for_the_creation_time(tmp_path: Path) -> None:
    def run(name: str, episodes: int = 3, seed: int = 5) -> Any:
        config = RecordConfig(policy="random", episodes=episodes, seed=seed, out=tmp_path / name)
        return read_events(record(config).path)

    first, second = run("a.parquet"), run("b.parquet")
    assert first.table.equals(second.table)
    meta_a, meta_b = first.metadata.to_json(), second.metadata.to_json()
    assert meta_a["provenance"].pop("created_at")
    assert meta_b["provenance"].pop("created_at")
    assert meta_a == meta_b
    # Episode k does not depend on how many episodes run ...
    assert run("two.parquet", episodes=2).episode(1).equals(first.episode(1))
    # ... and another seed gives another recording (so the check above can fail).
    assert not run("other.parquet", seed=50).table.equals(first.table)


def test_episodes_are_reset_with_seed_plus_k_and_described(tmp_path: Path) -> None:
    result = record(
        RecordConfig(policy="first-legal", episodes=2, seed=3, out=tmp_path / "t.parquet")
    )
    events = read_events(result.path)
    assert [s.seed for s in events.metadata.episodes] == [3, 4]
    assert result.episodes == events.metadata.episodes
    provenance = events.metadata.provenance
    assert provenance["policy"] == {"kind": "first-legal"}
    assert provenance["domain"] == {
        "id": "factory",
        "version": 0,
        "options": {},
        "package": {"name": "simreel", "version": simreel_version()},
    }
    assert provenance["seed"] == 3
    assert set(provenance) >= {"simreel_version", "library_versions", "created_at", "git_commit"}
    assert provenance["created_at"].endswith("+00:00")
    assert "pyarrow" in provenance["library_versions"]


def test_interrupted_recording_leaves_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "t.parquet"
    out.write_bytes(b"previous table")
    real = record_module.play

    def interrupted(*args: Any, **kwargs: Any) -> Any:
        for number, played in enumerate(real(*args, **kwargs)):
            if number == 1:
                raise KeyboardInterrupt
            yield played

    monkeypatch.setattr(record_module, "play", interrupted)
    code, _, err = _run(
        ["record", "--policy", "random", "--episodes", "3", "--out", str(out)], capsys
    )
    assert code == 130
    assert "interrupted" in err
    assert out.read_bytes() == b"previous table"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.parquet"]


def test_cli_prints_one_line_per_episode_and_the_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "events" / "t.parquet"
    code, stdout, _ = _run(
        ["record", "--policy", "random", "--episodes", "2", "--seed", "1", "--out", str(out)],
        capsys,
    )
    assert code == 0
    lines = stdout.strip().splitlines()
    assert len(lines) == 3
    assert lines[0].startswith("episode 0 (seed 1): finished_items ")
    assert "reward " in lines[0]
    assert lines[1].startswith("episode 1 (seed 2): ")
    assert lines[2].endswith(str(out))
    assert len(read_events(out).metadata.episodes) == 2


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--policy", "random", "--episodes", "0"], "episodes (0) must be between"),
        (["--policy", "random", "--domain", "bakery"], "unknown domain 'bakery'"),
        (["--policy", "random", "--out", "x.txt"], "must end in .parquet"),
        (["--policy", "model", "--model", "no/such/model.zip"], "model"),
    ],
)
def test_cli_bad_input_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    argv = ["record", *argv]
    if "--out" not in argv:
        argv += ["--out", str(tmp_path / "t.parquet")]
    code, _, err = _run(argv, capsys)
    assert code == 2
    assert err.startswith("error: ")
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "t.parquet").exists()


def test_cli_help_has_an_example() -> None:
    result = CliRunner().invoke(cli, ["record", "--help"])
    assert result.exit_code == 0
    assert "Example:" in result.output
    assert "simreel record --sample --episodes 20" in result.output
    assert "deterministic" in result.output
    for option in ("--policy", "--model", "--episodes", "--seed", "--out", "--domain", "--force"):
        assert option in result.output
