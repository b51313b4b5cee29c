"""Event tables for the render tests, built from the real factory simulation or by hand.

The render stage may never import the simulation; its tests may, to make realistic
tables without waiting for a golden fixture.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from domains.env import MultiActorEnv
from domains.factory.baselines import FactoryRulesPolicy
from domains.factory.simulation import make_factory_env
from domains.factory.vocabulary import DOMAIN_ID, DOMAIN_VERSION, VOCABULARY
from domains.policies import play_episode
from domains.recorder import RecordedEpisode
from schemas.events import EpisodeColumns, read_events, write_events
from schemas.vocabulary import Actor, Attribute, Vocabulary


def factory_episode(seed: int = 0) -> RecordedEpisode:
    """One full factory episode played by the rule-based policy (deterministic)."""
    env: MultiActorEnv = make_factory_env(record=True)
    return play_episode(env, FactoryRulesPolicy(env), seed=seed)


def write_factory_table(path: Path, episodes: int = 1) -> Path:
    """A factory table of `episodes` rule-policy episodes at `path`."""
    return write_events(
        path,
        [factory_episode(seed) for seed in range(episodes)],
        domain_id=DOMAIN_ID,
        domain_version=DOMAIN_VERSION,
        vocabulary=VOCABULARY,
        provenance={"policy": {"kind": "rules"}, "test": True},
    )


class _Episode:
    """Hand-made columns satisfying :class:`schemas.events.EpisodeColumns`."""

    def __init__(self, rows: list[tuple[str, str, float, float, dict[str, object]]]) -> None:
        names = ("temperature", "note")
        self.actor = [row[0] for row in rows]
        self.state = [row[1] for row in rows]
        self.start = [row[2] for row in rows]
        self.end = [row[3] for row in rows]
        self.attributes = {name: [row[4].get(name) for row in rows] for name in names}
        self.end_time = max(self.end)
        self.seed: int | None = 3
        self.total_reward = 1.5
        self.kpis = {"cups": 4.0}


BAKERY = Vocabulary(
    actors=(
        Actor("oven", ("heating", "baking", "idle"), kind="machine"),
        Actor("baker", ("kneading", "resting"), kind="person"),
        Actor("till", ("open", "closed")),
    ),
    attributes=(
        Attribute("temperature", "float64", "oven temperature"),
        Attribute("note", "string"),
    ),
)


def write_invented_table(path: Path) -> Path:
    """A table of a domain no painter knows ('bakery'), with a numeric attribute."""
    rows: list[tuple[str, str, float, float, dict[str, object]]] = []
    t = 0.0
    for k in range(6):
        rows.append(("oven", "heating", t, t + 3.0, {"temperature": 100.0 + 20 * k}))
        rows.append(("oven", "baking", t + 3.0, t + 8.0, {"temperature": 220.0}))
        rows.append(("baker", "kneading", t, t + 5.0, {"note": f"batch {k}"}))
        rows.append(("baker", "resting", t + 5.0, t + 10.0, {}))
        t += 10.0
    rows.append(("oven", "idle", 58.0, 60.0, {}))
    rows.append(("till", "open", 0.0, 60.0, {}))
    rows.sort(key=lambda row: row[2])
    episode: EpisodeColumns = _Episode(rows)
    return write_events(
        path,
        [episode],
        domain_id="bakery",
        domain_version=1,
        vocabulary=BAKERY,
        provenance={"test": True},
    )


def test_factory_table_is_readable(tmp_path: Path) -> None:
    table = read_events(write_factory_table(tmp_path / "factory.parquet"))
    assert table.metadata.domain_id == DOMAIN_ID
    assert table.table.num_rows > 50
    assert np.isclose(table.metadata.episodes[0].end_time, 300.0)


def test_invented_table_is_readable(tmp_path: Path) -> None:
    table = read_events(write_invented_table(tmp_path / "bakery.parquet"))
    assert table.metadata.domain_id == "bakery"
