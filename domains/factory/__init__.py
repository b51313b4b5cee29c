"""The reference factory domain (its rules: this folder's README.md).

Modules: :mod:`.vocabulary` (names shared by simulation and painter),
:mod:`.simulation` (the rules; importing it registers ``simreel/Factory-v0``),
:mod:`.painter` (the movie), :mod:`.baselines` (a rule-based policy).

This package's ``__init__`` imports nothing, so that the painter can be loaded
without the simulator.
"""
