"""A trained model as a Policy: the fit checks, the digest check, and deterministic or
sampled play.

``simreel record`` plays a model through :func:`load_policy`, which refuses a model
whose card (:mod:`stages.train.model_card`) is missing or broken, whose zip was changed
after training, or that was trained on another domain, another domain version, another
variant of the domain (its options) or another observation/action layout. It rebuilds
the network from the card and reads only the weights from the zip, so playing a model
never runs code from it (:mod:`stages.train.model_format`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, cast

import numpy as np
from gymnasium import spaces
from numpy.typing import NDArray

from domains.env import MultiActorEnv
from domains.policies import PolicyFor, episode_draw_seed
from domains.registry import describe_options, option_flags, resolve_options
from schemas.errors import ModelError
from schemas.provenance import sha256_file
from stages.train.model_card import ModelCard, card_path, default_run_dir, load_model_card
from stages.train.model_format import network_from_state, read_policy_state
from stages.train.policy_network import PolicyNetwork


def check_model_fits(
    card: ModelCard, env: MultiActorEnv, options: Mapping[str, str] | None = None
) -> None:
    """Raise ModelError unless the card's domain, version, options and spaces are the env's.

    `options` are the domain options the env was built with (None: the domain's defaults,
    i.e. what a card without options means)."""
    domain = env.domain
    problems = []
    if card.domain_id != domain.domain_id:
        problems.append(f"domain {card.domain_id!r}, the env's is {domain.domain_id!r}")
    elif card.domain_version != domain.domain_version:
        problems.append(
            f"{card.domain_id} version {card.domain_version}, the env's is {domain.domain_version}"
        )
    elif options is not None and dict(card.domain_options) != resolve_options(
        type(domain), options
    ):
        problems.append(
            f"{card.domain_id} with options {describe_options(card.domain_options)}, "
            f"the recording asks for {describe_options(options)}"
        )
    env_shape = tuple(int(n) for n in env.observation_space.shape or ())
    if card.observation_shape != env_shape:
        problems.append(f"observation shape {card.observation_shape}, the env's is {env_shape}")
    env_actions = action_count(env)
    if card.action_count != env_actions:
        problems.append(f"{card.action_count} actions, the env has {env_actions}")
    if problems:
        raise ModelError(
            f"the model was trained for {'; '.join(problems)}; retrain it for this domain "
            f"with `simreel train --domain {domain.domain_id}"
            + option_flags(options or {})
            + "` or pick a model made for it"
        )


def action_count(env: MultiActorEnv) -> int:
    """Size of the env's Discrete action space."""
    return int(cast(spaces.Discrete, env.action_space).n)


class ModelPolicy:
    """A trained model as a :class:`~domains.policies.NetworkPolicy` (deterministic).

    It plays the model's actor network in numpy (:class:`PolicyNetwork`), which the
    rollout batches across envs.

    Args:
        network: The model's actor network.
        path: The zip it came from (None: the model being trained).
        card: Its checked card (None: the model being trained).
    """

    def __init__(
        self, network: PolicyNetwork, path: Path | None = None, card: ModelCard | None = None
    ) -> None:
        self._network = network
        self._path = None if path is None else Path(path)
        self._card = card

    @property
    def card(self) -> ModelCard | None:
        return self._card

    @property
    def network(self) -> PolicyNetwork:
        return self._network

    def act(self, observation: NDArray[np.float32], mask: NDArray[np.bool_]) -> int:
        """The most probable legal action (masked argmax): the same observation, the same act."""
        return self.act_on_logits(self._network.logits(observation)[0], mask)

    def act_on_logits(self, logits: NDArray[np.float64], mask: NDArray[np.bool_]) -> int:
        return self._network.best_action(logits, mask)

    def describe(self) -> dict[str, Any]:
        if self._path is None or self._card is None:
            return {"kind": "model", "training": True}
        return {
            "kind": "model",
            "path": str(self._path),
            "sha256": self._card.model_sha256,
            "card": self._card.summary(),
        }


def load_policy(
    model_path: Path, env: MultiActorEnv, options: Mapping[str, str] | None = None
) -> ModelPolicy:
    """The model at `model_path` ready to play `env` (built with domain `options`), after
    checking its card, digest and fit."""
    path = Path(model_path)
    if not path.is_file():
        raise ModelError(_missing_model(path, env, options or {}))
    card = load_model_card(path)
    check_model_fits(card, env, options)
    digest = sha256_file(path)
    if digest != card.model_sha256:
        raise ModelError(
            f"{path}: sha256 is {digest}, its card {card_path(path).name} says "
            f"{card.model_sha256}; the zip was changed after training: restore the zip that "
            "belongs to the card, or retrain with `simreel train`"
        )
    # The weights alone, checked against the card's network and spaces; never SB3's loader,
    # which unpickles the zip's `data` (a stranger's zip could run code there).
    state = read_policy_state(path, card)
    return ModelPolicy(network_from_state(state, card.network, str(path)), path, card)


def _missing_model(path: Path, env: MultiActorEnv, options: Mapping[str, str]) -> str:
    """The message for a model file that is not there: commands that make and play one.

    A bare ``simreel train`` writes into a folder of its own per seed
    (:func:`default_run_dir`), which is where ``record`` looks by default for a domain
    that ships no model; any other missing path gets both ways: play the trained run's
    model with --model, or train into the missing model's folder with --out-dir.
    """
    domain = env.domain.domain_id
    flags = f"--domain {domain}" + option_flags(options)
    # Seed 0: the default of ``simreel train`` (tests/test_models.py checks they agree).
    trained = shown_path(default_run_dir(type(env.domain), options, 0) / "model.zip")
    if shown_path(path) == trained:
        return (
            f"{path}: model file not found; train one with `simreel train {flags}` (it writes "
            f"{trained}, which `simreel record {flags}` then plays), or pass --model, "
            "or record a baseline (--policy random, or the domain's rules)"
        )
    message = (
        f"{path}: model file not found; train one with `simreel train {flags}` (it writes "
        f"{trained}) and play it with `simreel record {flags} --model {trained}`"
    )
    if path.name == "model.zip":
        folder = shown_path(path.parent)
        message += f", or train straight into {folder} with `simreel train {flags} "
        message += f"--out-dir {folder}`"
    return message + (
        "; or pass an existing --model path, or record a baseline (--policy random, "
        "or the domain's rules)"
    )


def shown_path(path: Path) -> Path:
    """`path` as the user would type it: relative to the working directory when inside it."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve())
    except ValueError:
        return path


def model_policy_for(policy: ModelPolicy, sample: bool, seed: int) -> PolicyFor:
    """Episode k's policy: `policy` itself, or with `sample` a :class:`SampledModelPolicy`
    drawing from a generator seeded with ``episode_draw_seed(seed, k)``."""
    if not sample:
        return lambda _k, _env: policy
    return lambda k, _env: SampledModelPolicy(policy, episode_draw_seed(seed, k))


class SampledModelPolicy:
    """A trained model that draws each action from its masked action distribution.

    The committed models are deterministic (the masked argmax), so in a deterministic
    domain such as the factory every episode of :class:`ModelPolicy` is the same.
    Sampling shows the spread of what the policy would do. Draws come from this
    policy's own numpy generator, never from torch's global one, so the same seed gives
    the same episode whatever else ran in the process, or beside it in the rollout.

    Args:
        policy: The deterministic model policy whose network is sampled.
        seed: Seed of the generator (``record`` derives one per episode).
    """

    def __init__(self, policy: ModelPolicy, seed: int) -> None:
        self._policy = policy
        self._seed = seed
        self._rng = np.random.default_rng(seed)

    @property
    def network(self) -> PolicyNetwork:
        return self._policy.network

    def act(self, observation: NDArray[np.float32], mask: NDArray[np.bool_]) -> int:
        """A legal action drawn with the probabilities the network gives it."""
        return self.act_on_logits(self._policy.network.logits(observation)[0], mask)

    def act_on_logits(self, logits: NDArray[np.float64], mask: NDArray[np.bool_]) -> int:
        probabilities = self._policy.network.probabilities(logits, mask)
        return int(self._rng.choice(len(probabilities), p=probabilities))

    def describe(self) -> dict[str, Any]:
        return {**self._policy.describe(), "sampled": True, "sample_seed": self._seed}
