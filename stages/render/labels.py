"""Names for the two sides of a comparison and for what each table recorded.

A side-by-side movie, ``simreel compare`` and its plot put two tables next to each
other, and a viewer must tell at once which is which: ``model 89cd7762…``, ``random``,
``rules``. The words come from the table's own provenance, which may have been written
by anyone, so every label is made inert with :func:`printable` before it is drawn or
printed (an escape sequence must not reach a terminal, nor a bidi override a picture).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from stages.render.paintkit import CATEGORICAL, Colour
from stages.terminal import printable

LETTERS: Final = ("A", "B")
"""The two sides of a comparison: differences are always B - A."""
SIDE_COLOURS: Final[tuple[Colour, Colour]] = (CATEGORICAL[1], CATEGORICAL[2])
"""Side A blue, side B orange, wherever a side is drawn (chips, bars, chart lines), so
a viewer learns them once for the movie and the plot alike."""
SHA_SHOWN: Final = 8
"""Hex digits of a model's sha256 shown in a label: enough to tell two models apart."""
UNKNOWN_POLICY: Final = "unknown policy"
"""The label of a table whose provenance names no policy (a hand-made table)."""


def policy_label(provenance: Mapping[str, Any]) -> str:
    """``model 89cd7762…``, ``model 89cd7762… sampled``, ``random``, ``rules``: the
    recording policy's kind, and for a trained model the start of its file's sha256
    (two models are told apart by it, not by a path on the recording machine)."""
    policy = provenance.get("policy")
    if not isinstance(policy, Mapping):
        return UNKNOWN_POLICY
    kind = policy.get("kind")
    if not isinstance(kind, str) or not kind:
        return UNKNOWN_POLICY
    label = printable(kind)
    digest = policy.get("sha256")
    if isinstance(digest, str) and digest:
        shown = printable(digest[:SHA_SHOWN])
        label += f" {shown}…" if len(digest) > SHA_SHOWN else f" {shown}"
    if policy.get("sampled") is True:
        label += " sampled"
    return label


def table_label(name: str, episode: int, seed: int | None) -> str:
    """``m.parquet · episode 0 · seed 0``: which recording a panel shows (name escaped)."""
    label = f"{printable(name)} · episode {episode}"
    if seed is not None:
        label += f" · seed {seed}"
    return label
