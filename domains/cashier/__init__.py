"""The cashier domain: three lanes, two cashiers, a dispatcher, random durations.

Modules: :mod:`.vocabulary` (names shared by simulation and painter),
:mod:`.simulation` (the rules; importing it registers ``simreel/Cashier-v0``),
:mod:`.painter` (the movie), :mod:`.baselines` (the hand-written rule policy).
The rules are in this folder's README.md.

This package's ``__init__`` imports nothing, so that the painter can be loaded
without the simulator.
"""
