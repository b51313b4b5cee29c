"""Every golden table, of every schema version, still reads and renders; the cashier's
golden table is what today's code records."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pygame
import pytest

from schemas.events import read_events
from stages.record import RecordConfig, record
from stages.render.cli import RenderOptions, render

FIXTURES = Path(__file__).resolve().parents[1] / "data" / "fixtures"
GOLDENS = sorted(FIXTURES.glob("*.parquet"))


def test_the_goldens_cover_both_versions_and_both_domains() -> None:
    names = {path.name for path in GOLDENS}
    assert {"factory-v1.parquet", "checkout-v1.parquet"} <= names
    assert {"factory-v2.parquet", "cashier-v2.parquet", "checkout-v2.parquet"} <= names


@pytest.mark.parametrize("golden", GOLDENS, ids=lambda p: p.name)
@pytest.mark.parametrize("painter", [None, "timeline"])
def test_every_golden_renders_a_still(golden: Path, painter: str | None, tmp_path: Path) -> None:
    table = read_events(golden)
    middle = table.metadata.episodes[0].end_time / 2
    out = tmp_path / "still.png"
    render(RenderOptions(table=golden, still=middle, out=out, painter=painter))
    picture = pygame.surfarray.array3d(pygame.image.load(str(out)))
    # a real picture: many colours, not a blank canvas
    assert len(np.unique(picture.reshape(-1, 3), axis=0)) > 20


def test_the_cashier_golden_is_what_today_records(tmp_path: Path) -> None:
    """Same domain, options, policy and seed: identical rows, bit for bit."""
    golden = read_events(FIXTURES / "cashier-v2.parquet")
    again = tmp_path / "again.parquet"
    record(
        RecordConfig(
            domain="cashier",
            policy="rules",
            episodes=2,
            seed=0,
            out=again,
            options={"dispatcher": "controlled"},
        )
    )
    fresh = read_events(again)
    assert fresh.table.equals(golden.table)
    assert fresh.metadata.episodes == golden.metadata.episodes
    assert fresh.metadata.domain_options == golden.metadata.domain_options
