"""Observations built from float32 byte strings: the fast path of ``observe``.

A domain's ``observe`` runs at every decision. Joining precomputed float32 byte strings
and reading them once with ``np.frombuffer`` costs about a third of building a list of
floats and converting it; ``struct``'s native ``"f"`` and numpy round a float64 to
float32 alike (a C cast), so the values are those of the plain formulas.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import numpy as np
from numpy.typing import NDArray

FLOAT32: Final = np.dtype(np.float32)


def float32_bytes(values: Sequence[float]) -> bytes:
    """`values` as float32 bytes (precompute constant parts of an observation with it)."""
    return np.asarray(values, dtype=np.float32).tobytes()


def float32_array(parts: list[bytes]) -> NDArray[np.float32]:
    """Float32 byte strings joined into a new (writable) array."""
    # The dtype as an object, passed by position: frombuffer then takes half as long.
    return np.frombuffer(bytearray(b"".join(parts)), FLOAT32)


class ObservationFromParts:
    """``observe`` and ``observe_with`` of a domain that gives its observation as float32
    byte strings (:meth:`_observation_parts`); list it before ``Domain`` in the bases."""

    def _observation_parts(self) -> list[bytes]:
        raise NotImplementedError

    def observe(self) -> NDArray[np.float32]:
        return float32_array(self._observation_parts())

    def observe_with(self, suffix: NDArray[np.float32]) -> NDArray[np.float32]:
        if suffix.dtype != FLOAT32:  # Domain's default: join the two arrays
            return np.concatenate([self.observe(), suffix])
        parts = self._observation_parts()
        parts.append(suffix.tobytes())
        return float32_array(parts)


def one_hot(index: int, size: int) -> list[float]:
    """The one-hot code of `index` among `size`."""
    return [1.0 if i == index else 0.0 for i in range(size)]
