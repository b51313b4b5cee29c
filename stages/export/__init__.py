"""``simreel export TABLE --ocel OUT``: an event table as an OCEL 2.0 object-centric event log.

Process-mining tools (pm4py, Celonis, ocpa...) read OCEL 2.0; an event table is
intervals. The export maps one to the other (``schemas/OCEL.md``) reading only the
table, with polars over whole columns, and writes the file with simreel's own writers
(microsecond times; pm4py is a test-only tool, never imported here). One concept per
module:

* :mod:`~stages.export.clock` — simulated seconds to UTC timestamps;
* :mod:`~stages.export.rows` — each row with its neighbours' facts (gaps, open ends);
* :mod:`~stages.export.references` — which objects a row names;
* :mod:`~stages.export.events` — intervals to enter/leave/episode-end events;
* :mod:`~stages.export.objects` — objects, their changing attributes, their links;
* :mod:`~stages.export.mapping` assembles the :class:`~stages.export.model.OcelLog`;
* :mod:`~stages.export.ocel_json`, :mod:`~stages.export.ocel_sqlite` write it;
* :mod:`~stages.export.command` is the stage function and the CLI.
"""

from __future__ import annotations

from stages.export.command import ExportOptions, ExportReport, export_command, export_ocel

__all__ = ["ExportOptions", "ExportReport", "export_command", "export_ocel"]
