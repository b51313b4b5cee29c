"""A two-ferry river crossing for simreel: an example of a domain in a package of its own.

Modules: :mod:`.vocabulary` (names shared by simulation and painter), :mod:`.simulation`
(the rules, a ``domains.domain.Domain``) and :mod:`.painter` (the movie). The package
registers both through the ``simreel.domains`` and ``simreel.painters`` entry points of
its ``pyproject.toml``.

This ``__init__`` imports nothing, so that loading the painter never loads the simulator.
"""
