"""``simreel compare``: intervals, verdicts only when they are earned, text, JSON and the plot."""

from __future__ import annotations

import json
import math
import struct
from pathlib import Path
from typing import Any

import pygame
import pytest

from stages.compare.intervals import Interval, mean_interval, t_cdf, t_quantile, welch
from stages.compare.plot import chart_frame, plot_sides
from stages.compare.tables import read_pair
from stages.episode_stats import KpiStats
from stages.render.labels import SIDE_COLOURS
from stages.render.paintkit import PANEL
from stages.render.series import resolve
from tests.cli_helpers import run_cli
from tests.test_compare_tables import (
    MODEL_SHA,
    rewritten,
    steady,
    write_shop,
)

T_975 = {1: 12.7062, 2: 4.3027, 4: 2.7764, 10: 2.2281, 30: 2.0423, 1000: 1.9623}
"""Student's t 0.975 quantiles from printed tables."""


def _stats(values: list[float]) -> KpiStats:
    mean = sum(values) / len(values)
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1)) if values[1:] else 0.0
    return KpiStats("x", len(values), mean, sd, min(values), max(values))


@pytest.mark.parametrize(("df", "expected"), sorted(T_975.items()))
def test_t_quantiles_match_the_tables(df: int, expected: float) -> None:
    assert t_quantile(0.975, df) == pytest.approx(expected, abs=1e-4)
    assert t_cdf(expected, df) == pytest.approx(0.975, abs=1e-5)
    assert t_cdf(-expected, df) == pytest.approx(0.025, abs=1e-5)


def test_t_quantile_takes_fractional_degrees_of_freedom() -> None:
    # Welch's degrees of freedom are rarely whole: the quantile falls between its neighbours.
    assert t_quantile(0.975, 4) < t_quantile(0.975, 3.5) < t_quantile(0.975, 3)
    assert t_quantile(0.975, 1e9) == pytest.approx(1.959964, abs=1e-6)


def test_mean_interval_is_t_times_the_standard_error() -> None:
    interval = mean_interval(_stats([4.0, 5.0, 6.0]))
    half = 4.3027 * 1.0 / math.sqrt(3)
    assert interval.estimate == 5.0
    assert interval.low == pytest.approx(5.0 - half, abs=1e-4)
    assert interval.high == pytest.approx(5.0 + half, abs=1e-4)
    single = mean_interval(_stats([7.0]))
    assert (single.estimate, single.low, single.high) == (7.0, None, None)


def test_welch_interval_by_hand() -> None:
    # sd 1 on both sides, n = 3: se = sqrt(2/3), df = 4.
    difference = welch(_stats([4.0, 5.0, 6.0]), _stats([10.0, 11.0, 12.0]))
    half = 2.7764 * math.sqrt(2 / 3)
    assert difference.estimate == 6.0
    assert difference.df == pytest.approx(4.0)
    assert difference.low == pytest.approx(6.0 - half, abs=1e-3)
    assert difference.high == pytest.approx(6.0 + half, abs=1e-3)
    assert difference.excludes_zero
    # Unequal spreads: df from Welch-Satterthwaite, between the smaller n - 1 and the sum.
    unequal = welch(_stats([1.0, 9.0, 5.0, 3.0]), _stats([4.0, 4.5, 5.0]))
    assert unequal.df is not None
    assert 3 < unequal.df < 5


def test_welch_without_spread_is_exact_and_without_episodes_is_absent() -> None:
    exact = welch(_stats([28.0, 28.0]), _stats([3.0, 3.0, 3.0]))
    assert (exact.low, exact.high) == (-25.0, -25.0)
    assert exact.excludes_zero
    assert not welch(_stats([28.0]), _stats([3.0, 4.0])).excludes_zero
    assert welch(_stats([28.0]), _stats([3.0, 4.0])).low is None
    assert not Interval(1.0, -0.5, 2.5).excludes_zero


def _tables(tmp_path: Path, a: list[int], b: list[int]) -> tuple[Path, Path]:
    first = write_shop(
        tmp_path / "a.parquet",
        [steady(n, 5.0, 100.0, seed) for seed, n in enumerate(a)],
        policy={"kind": "model", "sha256": MODEL_SHA, "path": "/somewhere/model.zip"},
    )
    second = write_shop(
        tmp_path / "b.parquet",
        [steady(n, 5.0, 100.0, seed) for seed, n in enumerate(b)],
        policy={"kind": "random"},
    )
    return first, second


def _json(argv: list[str], capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    code, out, err = run_cli([*argv, "--json"], capsys)
    assert code == 0, err
    result: dict[str, Any] = json.loads(out)
    return result


def test_a_verdict_only_where_the_interval_excludes_zero(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = _tables(tmp_path, [4, 5, 6], [10, 11, 12])
    report = _json(["compare", str(first), str(second)], capsys)
    sold = next(kpi for kpi in report["kpis"] if kpi["name"] == "sold")
    assert sold["A"]["mean"]["estimate"] == 5.0
    assert sold["B"]["mean"]["estimate"] == 11.0
    assert sold["difference"]["estimate"] == 6.0
    assert sold["difference"]["low"] == pytest.approx(6.0 - 2.7764 * math.sqrt(2 / 3), abs=1e-3)
    assert sold["verdict"] == "B higher than A"
    assert [kpi["name"] for kpi in report["kpis"]] == ["sold", "reward"]
    assert report["tables"]["A"]["policy"] == "model 3f2a1c00…"
    assert report["tables"]["A"]["recorded"]["model_sha256"] == MODEL_SHA
    assert report["tables"]["B"]["episodes"] == 3

    code, text, _ = run_cli(["compare", str(first), str(second)], capsys)
    assert code == 0
    line = next(line for line in text.splitlines() if line.strip().startswith("sold"))
    assert "5.0 [2.5, 7.5]" in line
    assert "11.0 [8.5, 13.5]" in line
    assert "+6.0 [3.7, 8.3]" in line
    assert line.rstrip().endswith("B higher than A")

    close_a, close_b = _tables(tmp_path / "close", [4, 8, 12], [5, 9, 10])
    report = _json(["compare", str(close_a), str(close_b)], capsys)
    sold = next(kpi for kpi in report["kpis"] if kpi["name"] == "sold")
    assert sold["difference"]["low"] < 0 < sold["difference"]["high"]
    assert sold["verdict"] is None
    code, text, _ = run_cli(["compare", str(close_a), str(close_b)], capsys)
    assert "higher" not in text.split("\n\n")[1]
    assert "lower" not in text.split("\n\n")[1]
    assert "No KPI differs beyond chance" in text


def test_single_episodes_get_no_interval_and_say_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = _tables(tmp_path, [9], [3, 4])
    code, text, err = run_cli(["compare", str(first), str(second)], capsys)
    assert code == 0, err
    assert "9 (no interval)" in text
    assert "B lower than A" not in text
    assert "No intervals for A" in text
    assert "--episodes" in text


def test_text_from_the_table_is_escaped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first, second = _tables(tmp_path, [4, 5], [6, 7])

    def hostile(document: dict[str, Any]) -> None:
        document["provenance"]["policy"]["kind"] = "rules\x1b[2J\u202e"
        for episode in document["episodes"]:
            episode["kpis"] = {"sold\x1b[31m": episode["kpis"]["sold"]}

    evil = rewritten(second, tmp_path / "evil.parquet", hostile)
    code, text, err = run_cli(["compare", str(first), str(evil)], capsys)
    assert code == 0, err
    assert "\x1b" not in text
    assert "\u202e" not in text
    assert "rules\\x1b[2J\\u202e" in text
    assert "sold\\x1b[31m" in text


def test_plot_shows_each_tables_mean_and_band_at_the_right_heights(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A: 8, 10 and 12 sales every 5 s; B: 5 sales every 18 s, and 5 sales by t = 50 in
    # an episode that ends there (its last value holds in the mean).
    first = write_shop(
        tmp_path / "a.parquet",
        [steady(n, 5.0, 100.0, seed) for seed, n in enumerate([8, 10, 12])],
        policy={"kind": "rules"},
    )
    second = write_shop(
        tmp_path / "b.parquet",
        [steady(5, 18.0, 100.0, 0), steady(5, 10.0, 50.0, 1)],
        policy={"kind": "random"},
    )
    out = tmp_path / "plot.png"
    code, text, err = run_cli(
        ["compare", str(first), str(second), "--plot", "sold", "--out", str(out)], capsys
    )
    assert code == 0, err
    assert f"wrote {out}" in text
    picture = pygame.image.load(str(out))
    assert picture.get_size() == (1280, 720)
    tables = read_pair(first, second)
    chart = chart_frame(plot_sides(tables, resolve(tables[0].table, "sold")), 1.0)
    blue, orange = SIDE_COLOURS

    def at(time: float, value: float) -> tuple[int, int, int]:
        red, green, blue_, _ = picture.get_at((round(chart.x(time)), round(chart.y(value))))
        return (red, green, blue_)

    assert at(97.5, 10.0) == blue  # A's mean at the end: (8 + 10 + 12) / 3
    assert at(22.5, 4.0) == blue  # every A episode has 4 sales by 22.5 s
    assert at(95.0, 5.0) == orange  # B: both episodes end up at 5
    assert at(75.0, 4.5) == orange  # B at 75 s: (4 + 5) / 2, the ended episode holds 5
    band = at(97.5, 12.5)  # inside A's band (t(2) * 2 / sqrt(3) ~ 5 around 10)
    assert band not in (blue, PANEL)
    assert band[2] > band[0]
    assert at(97.5, 16.5) == PANEL  # above A's band: the card


def test_plot_refuses_an_unknown_quantity_naming_the_choices(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = _tables(tmp_path, [4, 5], [6, 7])
    code, out, err = run_cli(["compare", str(first), str(second), "--plot", "nope"], capsys)
    assert code == 2
    assert out == ""
    assert "--plot 'nope'" in err
    assert "sold.count" in err
    code, _, err = run_cli(["compare", str(first), str(second), "--out", "x.png"], capsys)
    assert code == 2
    assert "--plot" in err
    assert not Path("x.png").exists()


def test_default_plot_name_is_never_replaced_without_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _first, _second = _tables(tmp_path, [4, 5], [6, 7])
    monkeypatch.chdir(tmp_path)
    argv = ["compare", "a.parquet", "b.parquet", "--plot", "sold.count"]
    code, _, err = run_cli(argv, capsys)
    assert code == 0, err
    target = tmp_path / "data" / "plots" / "a-vs-b-sold-count.png"
    assert target.exists()
    target.write_bytes(b"an earlier plot")
    code, _, err = run_cli(argv, capsys)
    assert code == 2
    assert "--force" in err
    assert "a-vs-b-sold-count.png" in err
    assert target.read_bytes() == b"an earlier plot"
    code, _, err = run_cli([*argv, "--force"], capsys)
    assert code == 0, err
    assert pygame.image.load(str(target)).get_size() == (1280, 720)


def test_plot_carries_both_tables_provenance(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import hashlib

    first, second = _tables(tmp_path, [4, 5], [6, 7])
    out = tmp_path / "plot.png"
    argv = ["compare", str(first), str(second), "--plot", "sold", "--out", str(out)]
    code, _, err = run_cli([*argv, "--scale", "0.5"], capsys)
    assert code == 0, err
    record = json.loads(_png_text(out)["Comment"])
    assert [side["table"]["file"] for side in record["compare"]] == ["a.parquet", "b.parquet"]
    assert record["compare"][0]["table"]["sha256"] == hashlib.sha256(first.read_bytes()).hexdigest()
    assert record["compare"][0]["recorded"]["model_sha256"] == MODEL_SHA
    assert record["plot"] == {"actor": "sold", "attribute": "count", "confidence": 0.95}
    assert pygame.image.load(str(out)).get_size() == (640, 360)


def _png_text(path: Path) -> dict[str, str]:
    """The PNG's tEXt chunks, walking the chunks (length, type, data, CRC)."""
    data, offset, found = path.read_bytes(), 8, {}
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind, body = data[offset + 4 : offset + 8], data[offset + 8 : offset + 8 + length]
        if kind == b"tEXt":
            keyword, _, value = body.partition(b"\0")
            found[keyword.decode("latin-1")] = value.decode("latin-1")
        offset += 12 + length
    return found
