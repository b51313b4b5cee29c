"""The render stage: paint an event table into an MP4 movie, a PNG still or a Gantt chart.

Nothing in this package may import simulation code (SimPy, Gymnasium, RL libraries,
any domain's simulation module): it reads only the event table. ``.importlinter``
enforces that, and ``tests/test_render_boundary.py`` checks it at run time.

Two tables side by side (``--side-by-side``): ``side_by_side`` is the stage function,
``pairing`` refuses tables that do not compare, ``compositor`` paints both episodes on
one clock laid out by ``layout``, with ``kpi_card`` and ``live_chart`` under them
(``chart`` and ``series`` are shared with ``simreel compare --plot``), and ``labels``
names each side.

This file stays empty of imports so that a painter importing
``stages.render.paintkit`` loads nothing else of the stage.
"""
