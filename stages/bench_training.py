"""Throughput figures of the simulation and of training (``make bench``; figures, not pass/fail).

Timings share the machine with whatever else runs; compare ratios measured in the
same run (e.g. dummy vs subprocess envs), not absolute numbers across runs.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from domains.env import MultiActorEnv
from domains.registry import load_domain
from stages.train import TrainConfig, train

SIMULATION_SECONDS = 5.0
"""Wall time of the random-play measurement."""
TRAINING_TIMESTEPS = 8192
"""Budget of each training measurement (includes start-up and evaluations)."""


def simulation_throughput(domain: str = "factory", seconds: float = SIMULATION_SECONDS) -> None:
    """Decisions per second of one env in this process, random legal actions, many episodes."""
    env = MultiActorEnv(load_domain(domain))
    rng = np.random.default_rng(0)
    decisions = episodes = 0
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        env.reset(seed=episodes)
        done = False
        while not done:
            action = int(rng.choice(np.flatnonzero(env.action_masks())))
            _, _, terminated, truncated, _ = env.step(action)
            done = terminated or truncated
            decisions += 1
        episodes += 1
    elapsed = time.perf_counter() - started
    print(
        f"simulation ({domain}, random legal play): {decisions / elapsed:,.0f} decisions/s, "
        f"{episodes / elapsed:,.0f} episodes/s ({decisions / episodes:.0f} decisions/episode, "
        f"{episodes} episodes)",
        flush=True,
    )


def training_throughput(timesteps: int = TRAINING_TIMESTEPS) -> None:
    """Timesteps per second of `train()` with the defaults, then per env layout for comparison."""
    base = TrainConfig(timesteps=timesteps, progress=False, eval_freq=timesteps)
    variants = [
        ("defaults", base),
        ("dummy, 1 env", replace(base, vec_env="dummy", n_envs=1)),
        ("subproc, same envs", replace(base, vec_env="subproc")),
        ("dummy, 8 envs", replace(base, vec_env="dummy", n_envs=8)),
    ]
    with tempfile.TemporaryDirectory(prefix="simreel-bench-") as scratch:
        # Warm-up: the first run pays for imports and torch's lazy initialisation.
        train(replace(base, timesteps=512, out_dir=Path(scratch) / "warm-up"))
        for label, config in variants:
            started = time.perf_counter()
            result = train(replace(config, out_dir=Path(scratch) / label.replace(" ", "-")))
            elapsed = time.perf_counter() - started
            print(
                f"training ({label}: {config.vec_env} x {config.n_envs}, n_steps "
                f"{config.n_steps}): {result.card.timesteps / elapsed:,.0f} timesteps/s "
                f"({result.card.timesteps} in {elapsed:.1f} s)",
                flush=True,
            )


def run() -> None:
    """Print every figure of this section."""
    simulation_throughput()
    training_throughput()


if __name__ == "__main__":
    run()
