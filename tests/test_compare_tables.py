"""Tables to compare, made to measure; and the refusal of pairs that do not compare.

``shop`` is a domain no painter knows: a clerk and a ``sold`` counter whose count rises
at chosen times, so each episode's KPI, reward, end time and curve are known exactly.
Factory tables are the golden fixture with another policy written into its metadata.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from schemas.events import write_events
from schemas.vocabulary import Actor, Attribute, Vocabulary
from tests.cli_helpers import run_cli

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "data" / "fixtures"
SHOP = Vocabulary(
    actors=(
        Actor("clerk", ("selling", "idle"), kind="person"),
        Actor("sold", ("counting",), kind="counter"),
    ),
    attributes=(Attribute("count", "int64", "items sold so far", quantity=True),),
)
MODEL_SHA = "3f2a1c" + "0" * 58


class ShopEpisode:
    """One shop episode in column form: a sale (1 s of selling) at each of `sales`."""

    def __init__(
        self, sales: Sequence[float], end_time: float, seed: int, reward: float | None = None
    ) -> None:
        rows: list[tuple[str, str, float, float, int | None]] = []
        previous = 0.0
        for sale in sales:
            if sale - 1.0 > previous:
                rows.append(("clerk", "idle", previous, sale - 1.0, None))
            rows.append(("clerk", "selling", sale - 1.0, sale, None))
            previous = sale
        if previous < end_time:
            rows.append(("clerk", "idle", previous, end_time, None))
        bounds = [0.0, *sales, end_time]
        for count, (start, end) in enumerate(itertools.pairwise(bounds)):
            rows.append(("sold", "counting", start, end, count))
        rows.sort(key=lambda row: row[2])
        self.actor = [row[0] for row in rows]
        self.state = [row[1] for row in rows]
        self.start = [row[2] for row in rows]
        self.end = [row[3] for row in rows]
        self.attributes: dict[str, list[object]] = {"count": [row[4] for row in rows]}
        self.end_time = end_time
        self.seed: int | None = seed
        self.total_reward = float(len(sales)) if reward is None else reward
        self.kpis = {"sold": float(len(sales))}


def write_shop(
    path: Path,
    episodes: Sequence[ShopEpisode],
    *,
    policy: dict[str, Any],
    version: int = 1,
    domain: str = "shop",
) -> Path:
    """A shop table of `episodes` recorded (so its provenance says) by `policy`."""
    return write_events(
        path,
        list(episodes),
        domain_id=domain,
        domain_version=version,
        vocabulary=SHOP,
        provenance={"policy": policy, "seed": 0},
    )


def steady(count: int, every: float, end_time: float, seed: int = 0) -> ShopEpisode:
    """`count` sales, one every `every` seconds from `every` on."""
    return ShopEpisode([every * (k + 1) for k in range(count)], end_time, seed)


def rewritten(source: Path, target: Path, change: Callable[[dict[str, Any]], None]) -> Path:
    """A copy of the table `source` at `target` whose ``simreel`` metadata `change` edited."""
    table = pq.read_table(source)
    metadata = dict(table.schema.metadata or {})
    document = json.loads(metadata[b"simreel"])
    change(document)
    metadata[b"simreel"] = json.dumps(document).encode()
    pq.write_table(table.replace_schema_metadata(metadata), target)
    return target


def factory_as(target: Path, policy: dict[str, Any]) -> Path:
    """The factory fixture as if `policy` had recorded it."""

    def change(document: dict[str, Any]) -> None:
        document["provenance"] = {"policy": policy, "seed": 0}

    return rewritten(FIXTURES / "factory-v2.parquet", target, change)


@pytest.mark.parametrize("command", [["compare"], ["render", "--side-by-side", "--still", "10"]])
def test_two_domains_are_refused_naming_both_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    shop = write_shop(tmp_path / "shop.parquet", [steady(3, 5.0, 20.0)], policy={"kind": "rules"})
    factory = factory_as(tmp_path / "factory.parquet", {"kind": "random"})
    argv = [command[0], str(shop), str(factory), *command[1:], "--out", str(tmp_path / "x.png")]
    if command[0] == "compare":
        argv = [command[0], str(shop), str(factory)]
    code, out, err = run_cli(argv, capsys)
    assert code == 2
    assert out == ""
    assert err.startswith("error: ")
    assert len(err.strip().splitlines()) == 1
    assert str(shop) in err
    assert str(factory) in err
    assert "shop version 1" in err
    assert "factory version 0" in err
    assert not (tmp_path / "x.png").exists()


@pytest.mark.parametrize("command", [["compare"], ["render", "--side-by-side", "--still", "10"]])
def test_two_versions_of_one_domain_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    old = write_shop(tmp_path / "old.parquet", [steady(3, 5.0, 20.0)], policy={"kind": "rules"})
    new = write_shop(
        tmp_path / "new.parquet", [steady(3, 5.0, 20.0)], policy={"kind": "random"}, version=2
    )
    argv = [command[0], str(old), str(new), *command[1:]]
    if command[0] == "render":
        argv += ["--out", str(tmp_path / "x.png")]
    code, _, err = run_cli(argv, capsys)
    assert code == 2
    assert "shop version 1" in err
    assert "shop version 2" in err
    assert str(old) in err
    assert str(new) in err
    assert "re-record" in err


def test_shop_tables_hold_what_they_were_made_with(tmp_path: Path) -> None:
    from schemas.events import read_events

    path = write_shop(
        tmp_path / "shop.parquet",
        [steady(4, 5.0, 30.0), ShopEpisode([2.0, 9.0], 12.0, 1)],
        policy={"kind": "rules"},
    )
    table = read_events(path)
    assert [e.kpis for e in table.metadata.episodes] == [{"sold": 4.0}, {"sold": 2.0}]
    assert [e.end_time for e in table.metadata.episodes] == [30.0, 12.0]
