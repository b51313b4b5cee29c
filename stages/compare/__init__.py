"""``simreel compare A B``: policy A against policy B, from two event tables of one domain.

Reads only the tables (no simulation code; ``.importlinter`` holds it to the
renderer's contract). One concept per module:

* :mod:`~stages.compare.tables` — the two tables, checked to be of one domain and version;
* :mod:`~stages.compare.intervals` — 95% intervals: a mean's (t), a difference's (Welch);
* :mod:`~stages.compare.kpis` — per KPI and the reward, both means and B - A, the verdict;
* :mod:`~stages.compare.text` — the report for a terminal;
* :mod:`~stages.compare.plot` — a quantity over simulated time for both tables, as a PNG;
* :mod:`~stages.compare.command` — the stage function and the CLI.
"""

from __future__ import annotations

from stages.compare.command import CompareOptions, CompareReport, compare, compare_command

__all__ = ["CompareOptions", "CompareReport", "compare", "compare_command"]
