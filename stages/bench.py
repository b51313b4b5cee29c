"""``make bench``: print throughput figures for every stage (figures, never pass/fail).

Each section measures its own baseline in the same run, so ratios hold on a noisy
machine even when absolute numbers move.
"""

from __future__ import annotations

import importlib
import time

_SECTIONS = (
    ("simulation, training, Ray and evaluation", "stages.train.bench"),
    ("rendering", "stages.render.bench"),
)


def main() -> None:
    started = time.perf_counter()
    for title, module_name in _SECTIONS:
        print(f"\n== {title} ==", flush=True)
        module = importlib.import_module(module_name)
        module.run()
    print(f"\nbench finished in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
