"""The human-readable form of :func:`stages.inspect.summary.summarise`'s result.

Sections come in the order a reader asks: what ran (episodes), what the actors did
(state shares, short-lived kinds), why (stalls, levels), how output grew (counters),
and how the table was made. A section with nothing to say is left out, and no section
grows with the number of episodes or instances beyond :data:`MAX_TEXT_EPISODES` rows.
"""

from __future__ import annotations

from typing import Any, Final

from stages.inspect.cells import columns, flat, number
from stages.inspect.counters import counters_text
from stages.inspect.levels import levels_text
from stages.inspect.shares import state_share_text
from stages.inspect.short_lived import short_lived_text
from stages.inspect.stalls import stalls_text
from stages.terminal import printable

MAX_TEXT_EPISODES: Final = 10
"""Episodes listed in the text summary (``--json`` lists all)."""


def format_text(summary: dict[str, Any]) -> str:
    """The summary as text; every line is made inert for the terminal (:func:`printable`)."""
    episodes = len(summary["episodes"])
    lines = [
        *_header(summary),
        *_episodes(summary["episodes"]),
        *state_share_text(summary["state_share"]),
        *short_lived_text(summary.get("short_lived", {})),
        *stalls_text(summary["stalls"], episodes),
        *levels_text(summary["levels"], episodes),
        *counters_text(summary["counters"], MAX_TEXT_EPISODES),
        *_provenance(summary["provenance"]),
    ]
    return "\n".join(printable(line) for line in lines)


def _header(summary: dict[str, Any]) -> list[str]:
    options = summary["domain"].get("options") or {}
    return [
        f"{summary['path']}: simreel.events v{summary['schema_version']}"
        + (f" (migrated from v{summary['migrated_from']})" if summary["migrated_from"] else "")
        + f", domain {summary['domain']['id']} v{summary['domain']['version']}"
        + (f" ({flat(options)})" if options else "")
        + f", {len(summary['episodes'])} episode(s), {summary['rows']} intervals"
    ]


def _episodes(episodes: list[dict[str, Any]]) -> list[str]:
    """The first episodes, then (for several) the mean of every column over all episodes."""
    if not episodes:
        return []
    kpi_names = sorted({name for episode in episodes for name in episode["kpis"]})
    header = ["episode", "seed", "reward", *kpi_names, "rows", "end"]
    table = [
        [
            str(e["episode"]),
            "-" if e["seed"] is None else str(e["seed"]),
            f"{e['total_reward']:.2f}",
            *(number(e["kpis"].get(name)) for name in kpi_names),
            str(e["rows"]),
            f"{e['end_time']:g}s",
        ]
        for e in episodes[:MAX_TEXT_EPISODES]
    ]
    if len(episodes) > 1:

        def mean(values: list[float]) -> float:
            return sum(values) / len(values)

        kpi_means = []
        for name in kpi_names:
            values = [e["kpis"][name] for e in episodes if name in e["kpis"]]
            kpi_means.append(number(mean(values)) if values else "-")
        table.append(
            [
                "mean",
                "",
                f"{mean([e['total_reward'] for e in episodes]):.2f}",
                *kpi_means,
                number(mean([e["rows"] for e in episodes])),
                f"{mean([e['end_time'] for e in episodes]):g}s",
            ]
        )
    lines = ["", "Episodes", *columns([header, *table])]
    if len(episodes) > MAX_TEXT_EPISODES:
        lines.insert(-1, f"  ... and {len(episodes) - MAX_TEXT_EPISODES} more (see --json)")
    return lines


def _provenance(provenance: dict[str, Any]) -> list[str]:
    if not provenance:
        return []
    return ["", "Provenance", *(f"  {key}: {flat(value)}" for key, value in provenance.items())]
