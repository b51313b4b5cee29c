"""``simreel record``: default names that never collide, --force, --sample and many episodes."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from schemas.events import EpisodeSummary, read_events
from stages.episode_stats import REWARD, kpi_stats
from stages.record import LINES_UP_TO, RecordConfig, record
from tests.cli_helpers import run_cli


def test_default_names_differ_for_every_kind_of_run() -> None:
    configs = [
        RecordConfig(),
        RecordConfig(seed=1),
        RecordConfig(episodes=5),
        RecordConfig(sample=True),
        RecordConfig(policy="random"),
        RecordConfig(policy="rules"),
        RecordConfig(model=Path("data/models/factory-seed2/model.zip")),
        RecordConfig(domain="cashier", policy="rules"),
        RecordConfig(domain="cashier", policy="rules", options={"dispatcher": "automatic"}),
    ]
    names = [config.out_path for config in configs]
    assert len(set(names)) == len(names)
    assert all(name.parent == Path("data/events") for name in names)
    assert names[0].name == "factory-model-seed0.parquet"
    assert names[-1].name == "cashier-automatic-rules-seed0.parquet"
    # The default option value is not spelled out: the same table as no option at all.
    explicit = RecordConfig(domain="cashier", policy="rules", options={"dispatcher": "controlled"})
    assert explicit.out_path == configs[-2].out_path


def test_a_default_name_never_replaces_a_table_without_force(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    argv = ["record", "--policy", "first-legal"]
    assert run_cli(argv, capsys)[0] == 0
    table = tmp_path / "data/events/factory-first-legal-seed0.parquet"
    table.write_bytes(b"yesterday's table")

    code, _, err = run_cli(argv, capsys)
    assert code == 2
    assert "already exists" in err
    assert "--force" in err
    assert table.read_bytes() == b"yesterday's table"

    assert run_cli([*argv, "--force"], capsys)[0] == 0
    assert read_events(table).metadata.domain_id == "factory"
    # A table the user names is theirs to replace.
    named = tmp_path / "mine.parquet"
    named.write_bytes(b"old")
    assert run_cli([*argv, "--out", str(named)], capsys)[0] == 0
    assert read_events(named).metadata.domain_id == "factory"


def test_deterministic_episodes_are_flagged_and_sampling_varies_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plain = tmp_path / "plain.parquet"
    code, _, err = run_cli(["record", "--episodes", "2", "--out", str(plain)], capsys)
    assert code == 0
    assert "all 2 episodes are identical" in err
    assert "--sample" in err

    sampled = tmp_path / "sampled.parquet"
    argv = ["record", "--episodes", "3", "--sample", "--seed", "4", "--out", str(sampled)]
    code, _, err = run_cli(argv, capsys)
    assert code == 0
    assert "identical" not in err
    events = read_events(sampled)
    episodes = [events.episode(k) for k in range(3)]
    assert not episodes[0].equals(episodes[1]) or not episodes[1].equals(episodes[2])
    assert events.metadata.provenance["policy"]["sampled"] is True

    again = tmp_path / "again.parquet"
    assert run_cli([*argv[:-1], str(again)], capsys)[0] == 0
    assert read_events(again).table.equals(events.table)


def test_sampling_needs_a_model() -> None:
    from schemas.errors import ConfigError

    with pytest.raises(ConfigError, match="--sample draws a trained model's actions"):
        RecordConfig(policy="random", sample=True).validate()


def test_many_episodes_print_a_summary_not_a_line_each(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    episodes = LINES_UP_TO + 2
    out = tmp_path / "many.parquet"
    argv = ["record", "--policy", "random", "--episodes", str(episodes), "--out", str(out)]
    code, stdout, _ = run_cli(argv, capsys)
    assert code == 0
    lines = stdout.strip().splitlines()
    assert not any(line.startswith("episode ") for line in lines)
    served = [float(e.kpis["finished_items"]) for e in read_events(out).metadata.episodes]
    summary = next(line for line in lines if line.startswith("finished_items: "))
    assert f"mean {np.mean(served):.4g}" in summary
    assert f"min {min(served):.4g}, max {max(served):.4g}" in summary
    assert f"over {episodes} episodes" in summary
    assert any(line.startswith("reward: ") for line in lines)

    code, stdout, _ = run_cli([*argv, "--per-episode"], capsys)
    assert code == 0
    assert sum(line.startswith("episode ") for line in stdout.splitlines()) == episodes


def _summary(k: int, reward: float, **kpis: float) -> EpisodeSummary:
    return EpisodeSummary(episode=k, seed=k, total_reward=reward, end_time=300.0, rows=1, kpis=kpis)


def test_kpi_stats_match_numpy() -> None:
    summaries = [
        _summary(0, 1.0, served=10.0),
        _summary(1, -1.0, served=14.0),
        _summary(2, 0.5, served=9.0),
    ]
    served, reward = kpi_stats(summaries)
    values = np.array([10.0, 14.0, 9.0])
    assert served.name == "served"
    assert served.mean == pytest.approx(values.mean())
    assert served.std == pytest.approx(values.std(ddof=1))
    assert served.standard_error == pytest.approx(values.std(ddof=1) / math.sqrt(3))
    assert (served.minimum, served.maximum) == (9.0, 14.0)
    assert reward.name == REWARD
    assert reward.mean == pytest.approx(0.5 / 3)
    assert kpi_stats([_summary(0, 2.0, served=3.0)])[0].std == 0.0


def test_record_result_knows_identical_episodes(tmp_path: Path) -> None:
    config = RecordConfig(policy="random", episodes=2, out=tmp_path / "r.parquet")
    assert not record(config).identical
    config = RecordConfig(policy="first-legal", episodes=2, out=tmp_path / "f.parquet")
    assert record(config).identical
