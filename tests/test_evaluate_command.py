"""``simreel evaluate``: a model or baseline judged over held-out episodes, figures with
95% intervals, cross-checked against the tables ``simreel record`` writes."""

from __future__ import annotations

import json
import re
from pathlib import Path

import polars as pl
import pytest

from schemas.events import read_events
from stages.compare.intervals import t_quantile
from stages.train.evaluation import HELD_OUT_SEED
from stages.train.model_card import DEFAULT_MODEL
from tests.cli_helpers import run_cli


def test_prints_the_mean_reward_and_every_kpi_with_intervals(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run_cli(
        ["evaluate", "--domain", "cashier", "--policy", "rules", "--episodes", "40", "--here"],
        capsys,
    )
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == (
        "cashier (dispatcher=controlled), policy rules: 40 episodes "
        f"(seeds {HELD_OUT_SEED}-{HELD_OUT_SEED + 39}), means with 95% intervals"
    )
    assert lines[1].lstrip().startswith("mean reward ")
    assert any(line.lstrip().startswith("survived ") for line in lines)
    assert any(line.lstrip().startswith("customers_served ") for line in lines)
    assert "good to ±" in lines[-1]
    assert "over 40 episodes" in lines[-1]


def test_the_json_figures_are_those_of_the_recorded_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    table = tmp_path / "t.parquet"
    args = ["--domain", "cashier", "--option", "dispatcher=automatic", "--episodes", "30"]
    code, _, err = run_cli(
        ["record", *args, "--policy", "random", "--seed", "7", "--out", str(table)], capsys
    )
    assert code == 0, err
    code, out, err = run_cli(
        ["evaluate", *args, "--policy", "random", "--seed", "7", "--json", "--here"], capsys
    )
    assert code == 0, err
    judged = json.loads(out)
    assert (judged["domain"], judged["options"]) == ("cashier", {"dispatcher": "automatic"})
    assert (judged["policy"], judged["model"], judged["episodes"]) == ("random", None, 30)
    # The table's own episode summaries (its metadata), and its rows, hold the same episodes.
    recorded = read_events(table).metadata.episodes
    assert pl.read_parquet(table, columns=["episode"])["episode"].n_unique() == 30
    rewards = [s.total_reward for s in recorded]
    survived = [s.kpis["survived"] for s in recorded]
    figures = judged["figures"]
    assert figures["reward"]["mean"] == pytest.approx(sum(rewards) / 30)
    assert figures["survived"]["mean"] == pytest.approx(sum(survived) / 30)
    assert figures["customers_served"]["mean"] == pytest.approx(
        sum(s.kpis["customers_served"] for s in recorded) / 30
    )
    # The interval is the mean's t interval.
    mean, sd = figures["reward"]["mean"], figures["reward"]["sd"]
    half = t_quantile(0.975, 29) * sd / 30**0.5
    assert figures["reward"]["low"] == pytest.approx(mean - half)
    assert figures["reward"]["high"] == pytest.approx(mean + half)


def test_a_deterministic_model_in_a_deterministic_domain_has_no_spread(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run_cli(["evaluate", "--episodes", "3", "--json", "--here"], capsys)
    assert code == 0, err
    judged = json.loads(out)
    assert judged["model"] == str(DEFAULT_MODEL)
    assert judged["figures"]["finished_items"]["mean"] == 28.0
    assert judged["figures"]["finished_items"]["sd"] == 0.0


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--policy", "smart"], r"--policy \(smart\) must be one of model, random, first-legal"),
        (["--policy", "rules", "--sample"], "--sample draws a model's actions"),
        (["--episodes", "0"], r"--episodes \(0\) must be an integer >= 1"),
        (["--option", "dispatcher=psychic"], "dispatcher"),
        (["--model", str(DEFAULT_MODEL)], "trained for domain 'factory', the env's is 'cashier'"),
    ],
)
def test_mistakes_are_one_line_and_exit_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run_cli(["evaluate", "--domain", "cashier", "--here", *argv], capsys)
    assert code == 2
    assert err.startswith("error: ")
    assert "Traceback" not in err
    assert re.search(message, err), err


def test_help_has_an_example(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(["evaluate", "--help"], capsys)
    assert code == 0
    assert "Example:" in out
    assert "simreel evaluate --domain cashier" in out
