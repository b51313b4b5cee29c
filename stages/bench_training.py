"""Throughput figures of the simulation and of training (``make bench``; figures, not pass/fail).

Timings share the machine with whatever else runs; compare ratios measured in the
same run (e.g. dummy vs subprocess envs), not absolute numbers across runs.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from domains.env import MultiActorEnv
from domains.registry import describe_options, domain_factory, load_domain
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


CASHIER_RULE_EPISODES = 2000
"""Episodes of the cashier's rule per variant: its mean reward is then good to about ±0.026."""


def baseline_figures(
    domain: str, options: dict[str, str], episodes: int, policy: str = "rules"
) -> None:
    """Mean episode reward (95% interval) and mean KPIs of a domain's baseline, seeds 0..n-1.

    The quality check of a stochastic domain's rules: the cashier's rule should give the
    reference figures of its README (0.333 dispatching, -0.50 automatic).
    """
    domain_class = load_domain(domain)
    env = MultiActorEnv(domain_factory(domain_class, options))
    player = domain_class.baselines()[policy](env)
    rewards, kpis = [], []
    started = time.perf_counter()
    for seed in range(episodes):
        observation, _ = env.reset(seed=seed)
        total, done, info = 0.0, False, dict[str, Any]()
        while not done:
            observation, reward, done, _, info = env.step(
                player.act(observation, env.action_masks())
            )
            total += reward
        rewards.append(total)
        kpis.append(info["kpis"])
    elapsed = time.perf_counter() - started
    values = np.array(rewards)
    half_width = 1.96 * values.std(ddof=1) / np.sqrt(len(values))
    means = ", ".join(
        f"{name} {np.mean([k[name] for k in kpis]):.3f}" for name in domain_class.kpi_names
    )
    variant = describe_options(options)
    print(
        f"{domain} {policy} ({variant}), {episodes} episodes: mean reward {values.mean():.3f} "
        f"± {half_width:.3f} (95%), sd {values.std(ddof=1):.2f}; {means} ({elapsed:.0f} s)",
        flush=True,
    )


def training_throughput(timesteps: int = TRAINING_TIMESTEPS) -> None:
    """Timesteps per second of one learner per env layout, then of the default population."""
    defaults = TrainConfig(timesteps=timesteps, progress=False, eval_freq=timesteps)
    learner = replace(defaults, population=1)
    variants = [
        ("one learner, default envs", learner),
        ("one learner, 2 envs", replace(learner, n_envs=2)),
        ("one learner, 1 env", replace(learner, n_envs=1)),
        ("one learner, default envs in subprocesses", replace(learner, vec_env="subproc")),
        (f"defaults: {defaults.population} learners in parallel processes", defaults),
    ]
    with tempfile.TemporaryDirectory(prefix="simreel-bench-") as scratch:
        # Warm-up: the first run pays for imports and torch's lazy initialisation.
        train(replace(learner, timesteps=512, out_dir=Path(scratch) / "warm-up"))
        for index, (label, config) in enumerate(variants):
            started = time.perf_counter()
            card = train(replace(config, out_dir=Path(scratch) / str(index))).card
            elapsed = time.perf_counter() - started
            done = sum(m.timesteps for m in card.members) if card.members else card.timesteps
            print(
                f"training ({label}: {config.vec_env} x {config.n_envs}, n_steps "
                f"{config.n_steps}): {done / elapsed:,.0f} timesteps/s ({done} in {elapsed:.1f} s)",
                flush=True,
            )


def seed_sweep(seeds: list[int], target_items: float = 28.0) -> None:
    """Train with the defaults on each seed until `target_items`; print when each got there.

    This is the quality figure of the train stage (minutes per seed, so not in `make bench`):
    with the defaults every seed should reach the factory's optimum of 28 items.
    """
    print(f"training with the defaults until {target_items:g} items, seeds {seeds}", flush=True)
    reached = 0
    with tempfile.TemporaryDirectory(prefix="simreel-seeds-") as scratch:
        for seed in seeds:
            config = TrainConfig(
                seed=seed,
                target_items=target_items,
                progress=False,
                out_dir=Path(scratch) / str(seed),
            )
            started = time.perf_counter()
            card = train(config).card
            elapsed = time.perf_counter() - started
            chosen = [m for m in card.members if m.chosen]
            learner = f"learner {chosen[0].member}" if chosen else "the learner"
            others = ", ".join(
                f"learner {m.member}: {m.best_finished_items:g}"
                for m in card.members
                if not m.chosen
            )
            reached += card.best_finished_items >= target_items
            print(
                f"seed {seed}: {card.best_finished_items:g} items, first at timestep "
                f"{card.best_timestep:,} of {learner}, {card.best_wall_seconds:.1f} s "
                f"(run {elapsed:.1f} s{'; ' + others if others else ''})",
                flush=True,
            )
    print(f"{reached} of {len(seeds)} seeds reached {target_items:g} items", flush=True)


def run() -> None:
    """Print every figure of this section."""
    simulation_throughput()
    simulation_throughput("cashier")
    for dispatcher in ("controlled", "automatic"):
        baseline_figures("cashier", {"dispatcher": dispatcher}, CASHIER_RULE_EPISODES)
    training_throughput()


if __name__ == "__main__":
    import sys

    if sys.argv[1:2] == ["--seeds"]:
        seed_sweep([int(seed) for seed in sys.argv[2:]])
    else:
        run()
