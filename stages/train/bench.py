"""Throughput figures of the simulation, training, Ray and evaluation (``make bench``; figures,
not pass/fail).

Timings share the machine with whatever else runs; compare ratios measured in the
same run (e.g. dummy vs subprocess envs), not absolute numbers across runs.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import tempfile
import time
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from domains.env import MultiActorEnv
from domains.registry import (
    describe_options,
    domain_factory,
    known_domains,
    load_domain,
    resolve_options,
)
from domains.rollout import DEFAULT_WIDTH, play
from stages.compare.text import interval_text
from stages.episode_stats import REWARD
from stages.train.cluster import RaySettings, ray_session, share
from stages.train.config import TrainConfig
from stages.train.evaluation import HELD_OUT_SEED, Judged, PolicySource, evaluate, judge
from stages.train.model_card import DEFAULT_MODEL, default_model, load_model_card
from stages.train.model_policy import model_policy_for
from stages.train.ray_learner import start_coordinator
from stages.train.run import train

SIMULATION_SECONDS = 5.0
"""Wall time of the random-play measurement."""
TRAINING_TIMESTEPS = 8192
"""Budget of each training measurement (includes start-up and evaluations)."""


def simulation_throughput(
    domain: str = "factory",
    options: Mapping[str, str] | None = None,
    seconds: float = SIMULATION_SECONDS,
) -> None:
    """Decisions per second of one env in this process, random legal actions, many episodes.

    The pick indexes the legal actions with one integer draw (numpy's ``choice`` alone
    would take a third of the time); the figure without the pick is the env's own."""
    env = MultiActorEnv(domain_factory(load_domain(domain), options or {}))
    rng = np.random.default_rng(0)
    decisions = episodes = 0
    picking = 0.0
    clock = time.perf_counter
    started = clock()
    while clock() - started < seconds:
        env.reset(seed=episodes)
        done = False
        while not done:
            mask = env.action_masks()
            pick_started = clock()
            legal = np.flatnonzero(mask)
            action = int(legal[rng.integers(len(legal))])
            picking += clock() - pick_started
            _, _, terminated, truncated, _ = env.step(action)
            done = terminated or truncated
            decisions += 1
        episodes += 1
    elapsed = clock() - started
    variant = describe_options(resolve_options(load_domain(domain), options or {}))
    print(
        f"simulation ({domain}, {variant}, random legal play): {decisions / elapsed:,.0f} "
        f"decisions/s, {episodes / elapsed:,.0f} episodes/s ({decisions / episodes:.0f} "
        f"decisions/episode, {episodes} episodes); without the random pick "
        f"({picking / elapsed:.0%} of the time) {decisions / (elapsed - picking):,.0f} decisions/s",
        flush=True,
    )


CASHIER_RULE_EPISODES = 2000
"""Episodes of the cashier's rule per variant: its mean reward is then good to about ±0.026."""
FACTORY_MODEL_EPISODES = 200
"""Episodes of the committed factory model (sampled) for the evaluation figure."""


def baseline_figures(
    domain: str, options: dict[str, str], episodes: int, policy: str = "rules"
) -> None:
    """Mean episode reward and KPIs (95% intervals) of a domain's baseline on the held-out
    episodes ``simreel evaluate`` plays.

    The quality check of a stochastic domain's rules: the cashier's rule should give the
    reference figures of its README (0.333 dispatching, -0.50 automatic).
    """
    started = time.perf_counter()
    summaries = evaluate(PolicySource(policy), domain, options, episodes, HELD_OUT_SEED, ray=None)
    elapsed = time.perf_counter() - started
    figures = "; ".join(_figure(entry) for entry in judge(summaries))
    print(
        f"{domain} {policy} ({describe_options(resolve_options(load_domain(domain), options))}), "
        f"{episodes} held-out episodes: {figures} "
        f"({elapsed:.0f} s)",
        flush=True,
    )


def _figure(entry: Judged) -> str:
    name = "mean reward" if entry.stats.name == REWARD else entry.stats.name
    return f"{name} {interval_text(entry.interval)}"


def inference_throughput(episodes: int = 96) -> None:
    """Decisions per second of the committed factory model in three ways, in one run: SB3's
    predict on one observation at a time (how record and evaluation played before the
    numpy network), the numpy network one env at a time, and the rollout's batch across
    envs (one network call per step for every env)."""
    import torch
    from sb3_contrib import MaskablePPO

    from stages.train.model_format import policy_kwargs, read_policy_state
    from stages.train.model_policy import load_policy

    env = MultiActorEnv(load_domain("factory"))
    policy = load_policy(DEFAULT_MODEL, env)
    card = load_model_card(DEFAULT_MODEL)
    # A fresh model given the zip's weights: SB3's own loader would unpickle the zip.
    model = MaskablePPO("MlpPolicy", env, device="cpu", policy_kwargs=policy_kwargs(card.network))
    model.policy.load_state_dict(read_policy_state(DEFAULT_MODEL, card))

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as evaluation ran it
    try:
        started = time.perf_counter()
        decisions = 0
        for k in range(episodes):
            observation, _ = env.reset(seed=k)
            done = False
            while not done:
                action, _ = model.predict(
                    observation, action_masks=env.action_masks(), deterministic=True
                )
                observation, _, done, _, _ = env.step(int(action))
                decisions += 1
        sb3 = decisions / (time.perf_counter() - started)
    finally:
        torch.set_num_threads(threads)
    rates = []
    for width in (1, DEFAULT_WIDTH):
        started = time.perf_counter()
        played = list(
            play(
                lambda: MultiActorEnv(load_domain("factory")),
                model_policy_for(policy, False, 0),
                range(episodes),
                0,
                width=width,
            )
        )
        rates.append(sum(p.decisions for p in played) / (time.perf_counter() - started))
    print(
        f"inference (factory model, {episodes} episodes, env steps included): SB3 predict one "
        f"at a time {sb3:,.0f} decisions/s; numpy network one env at a time {rates[0]:,.0f} "
        f"({rates[0] / sb3:.1f}x); batched across {DEFAULT_WIDTH} envs {rates[1]:,.0f} "
        f"({rates[1] / sb3:.1f}x)",
        flush=True,
    )


def committed_model_figures(episodes: int = CASHIER_RULE_EPISODES) -> None:
    """Each committed cashier model on the held-out episodes: its figures, and the time
    ``simreel evaluate`` takes in one process and on a local Ray (its start counted)."""
    for dispatcher in ("controlled", "automatic"):
        options = {"dispatcher": dispatcher}
        path = default_model("cashier", options)
        if not path.is_file():
            print(f"cashier model ({dispatcher}): none committed at {path}", flush=True)
            continue
        source = PolicySource("model", path)
        started = time.perf_counter()
        alone = evaluate(source, "cashier", options, episodes, HELD_OUT_SEED, ray=None)
        one = time.perf_counter() - started
        with tempfile.TemporaryDirectory(prefix="simreel-bench-") as scratch:
            started = time.perf_counter()
            settings = RaySettings(workdir=Path(scratch), quiet=True)
            split = evaluate(source, "cashier", options, episodes, HELD_OUT_SEED, ray=settings)
            on_ray = time.perf_counter() - started
        figures = "; ".join(_figure(entry) for entry in judge(alone))
        print(
            f"cashier model ({dispatcher}), {episodes} held-out episodes: {figures}; "
            f"{one:.1f} s in one process, {on_ray:.1f} s on a local Ray counting its start; "
            f"figures identical: {'yes' if split == alone else 'NO'}",
            flush=True,
        )


def training_throughput(timesteps: int = TRAINING_TIMESTEPS) -> None:
    """Timesteps per second of one learner per env layout, then of the default population."""
    defaults = TrainConfig.for_domain(timesteps=timesteps, progress=False, eval_freq=timesteps)
    learner = replace(defaults, population=1)
    variants = [
        ("one learner, default envs", learner),
        ("one learner, 2 envs", replace(learner, n_envs=2)),
        ("one learner, 1 env", replace(learner, n_envs=1)),
        ("one learner, default envs in subprocesses", replace(learner, vec_env="subproc")),
        (f"defaults: {defaults.population} learners as Ray tasks, Ray started per run", defaults),
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


def _descendants(root: int) -> list[int]:
    """Process ids below `root` (Linux /proc; empty elsewhere)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = entry.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.parent.name))
    found, stack = [], [root]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


def _rss_mib(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total / 1024


def _ready_learner() -> int:
    """What a learner process loads before its first step (torch, SB3, the train stage)."""
    import sb3_contrib  # noqa: F401
    import torch  # noqa: F401

    import stages.train.learner  # noqa: F401

    return os.getpid()


def _spawned_learner(ready: Any, release: Any) -> None:
    """A spawned learner's start-up (the mechanism Ray replaced), held until measured."""
    ready.put(_ready_learner())
    release.wait()


def ray_overhead(learners: int = 3) -> None:
    """What Ray adds to a population's start against the spawned processes it replaced.

    Both start `learners` processes that load what a learner loads; Ray also starts its
    own daemons (GCS, raylet, monitors) and stops them at the end.
    """
    context = multiprocessing.get_context("spawn")
    started_pids, release = context.Queue(), context.Event()
    started = time.perf_counter()
    processes = [
        context.Process(target=_spawned_learner, args=(started_pids, release))
        for _ in range(learners)
    ]
    for process in processes:
        process.start()
    pids = [started_pids.get() for _ in range(learners)]
    spawned = time.perf_counter() - started
    spawned_mib = _rss_mib(pids)
    release.set()
    for process in processes:
        process.join()
    with tempfile.TemporaryDirectory(prefix="simreel-bench-") as scratch:
        import ray

        started = time.perf_counter()
        with ray_session(RaySettings(workdir=Path(scratch), quiet=True)) as session:
            initialised = time.perf_counter() - started
            idle_mib = _rss_mib(_descendants(os.getpid()))
            task = ray.remote(num_cpus=share(session.cpus, learners))(_ready_learner)
            coordinator = start_coordinator()  # a population's actor: a process of its own
            ray.get([task.remote() for _ in range(learners)])
            ray.get(coordinator.interrupted.remote())
            ready = time.perf_counter() - started
            busy_mib = _rss_mib(_descendants(os.getpid()))
            stopping = time.perf_counter()
        stopped = time.perf_counter() - stopping
    print(
        f"Ray start-up ({learners} learners' processes ready to train): local Ray {ready:.1f} s "
        f"(init {initialised:.1f} s) + {stopped:.1f} s to stop, against {spawned:.1f} s for "
        f"{learners} spawned processes: +{ready + stopped - spawned:.1f} s, "
        f"{(ready + stopped) / spawned:.1f}x",
        flush=True,
    )
    print(
        f"Ray memory: its daemons and idle workers {idle_mib:,.0f} MiB, with {learners} "
        f"learners' processes and the coordinator {busy_mib:,.0f} MiB, against "
        f"{spawned_mib:,.0f} MiB for {learners} spawned processes ({busy_mib / spawned_mib:.1f}x)",
        flush=True,
    )


def evaluation_throughput(
    domain: str = "cashier", policy: str = "rules", episodes: int = CASHIER_RULE_EPISODES
) -> None:
    """Episodes per second of :func:`stages.train.evaluation.evaluate`: one process, a local
    Ray counting its start (and its workers' first imports), the same Ray again (warm),
    and whether the figures agree."""
    source = PolicySource(policy, sample=policy == "model")
    evaluate(source, domain, {}, 2, seed=0, ray=None)  # this process's imports, not counted
    started = time.perf_counter()
    alone = evaluate(source, domain, {}, episodes, seed=0, ray=None)
    one = episodes / (time.perf_counter() - started)
    with tempfile.TemporaryDirectory(prefix="simreel-bench-") as scratch:
        started = time.perf_counter()
        with ray_session(RaySettings(workdir=Path(scratch), quiet=True)) as session:
            cold_split = evaluate(source, domain, {}, episodes, seed=0, ray=RaySettings())
            cold = episodes / (time.perf_counter() - started)
            started = time.perf_counter()
            warm_split = evaluate(source, domain, {}, episodes, seed=0, ray=RaySettings())
            warm = episodes / (time.perf_counter() - started)
            cpus = session.cpus
    identical = cold_split == alone and warm_split == alone
    print(
        f"evaluation ({domain}, {policy}{' sampled' if policy == 'model' else ''}, {episodes} "
        f"episodes): one process {one:,.0f} episodes/s; local Ray ({cpus:g} CPUs) "
        f"{cold:,.0f} episodes/s counting its start ({cold / one:.2f}x), {warm:,.0f} "
        f"episodes/s warm ({warm / one:.2f}x); figures identical: {'yes' if identical else 'NO'}",
        flush=True,
    )


def run() -> None:
    """Print every figure of this section."""
    for domain in known_domains():
        domain_class = load_domain(domain)
        choices = [option.choices for option in domain_class.options]
        for values in itertools.product(*choices):
            options = dict(zip((o.name for o in domain_class.options), values, strict=True))
            simulation_throughput(domain, options)
    for dispatcher in ("controlled", "automatic"):
        baseline_figures("cashier", {"dispatcher": dispatcher}, CASHIER_RULE_EPISODES)
    committed_model_figures()
    inference_throughput()
    training_throughput()
    ray_overhead()
    evaluation_throughput()
    evaluation_throughput("factory", "model", FACTORY_MODEL_EPISODES)


if __name__ == "__main__":
    run()
