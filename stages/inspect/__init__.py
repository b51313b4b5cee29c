"""``simreel inspect TABLE``: what happened in a recording, and why, summarised with polars.

Works for any domain, reading only the table and its metadata. The summary says
*what* happened (episodes and KPIs, each named actor's share of time per state, the
short-lived kinds, how counters rose over time) and *why* (how long each actor was
stalled and what it waited for, how full the buffers and queues were), then the
provenance. Each part is one module:

* :mod:`~stages.inspect.shares` — time per state;
* :mod:`~stages.inspect.short_lived` — instances summarised per kind;
* :mod:`~stages.inspect.stalls` — stalled time, and the rule for what counts as stalled;
* :mod:`~stages.inspect.levels` — levels of quantity attributes: mean, empty, full, peaks;
* :mod:`~stages.inspect.counters` — the rise of ``kind: "counter"`` actors per time bucket;
* :mod:`~stages.inspect.summary` assembles them (the ``--json`` output),
  :mod:`~stages.inspect.text` prints them, :mod:`~stages.inspect.command` is the CLI.

Everything is computed with polars group-bys, so the cost does not grow with Python
work per row or per instance, and the text does not grow with the episodes: tables of
many episodes are summarised over all of them, per-episode detail is in ``--json``.
The table is streamed (:mod:`~stages.inspect.source`): each section accumulates its
figures chunk by chunk, so memory follows the actors, episodes and instances, never
the rows (10^7 rows: under 300 MB).
"""

from __future__ import annotations

from stages.inspect.command import inspect_command
from stages.inspect.summary import summarise
from stages.inspect.text import format_text

__all__ = ["format_text", "inspect_command", "summarise"]
