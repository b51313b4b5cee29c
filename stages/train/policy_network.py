"""A trained policy's actor network in numpy: fast batched inference, the same act per row.

Playing a model needs only the actor half of the MaskablePPO network (the hidden layers
and the action head); SB3's ``predict`` adds a torch round trip per call that costs far
more than the arithmetic, one observation at a time. :class:`PolicyNetwork` holds those
layers as float64 numpy arrays and computes the logits of many observations at once, so
record and evaluation step many episodes side by side and ask the network once per step
(:func:`domains.rollout.play`).

Every row's result is independent of the other rows of the batch, bit for bit: each
layer sums along the inputs in one fixed order per output (:func:`_layer`), where a BLAS
matrix product may pick another summation order for another batch size. An episode
therefore plays the same whether it ran alone, among 31 others, or in a Ray chunk on
another machine.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

import numpy as np
from numpy.typing import NDArray

from schemas.errors import ModelError

Activation = Literal["tanh", "relu"]
ACTIVATIONS: Final[tuple[str, ...]] = ("tanh", "relu")
"""Hidden-layer activations the network knows (SB3's MlpPolicy uses tanh by default)."""


@dataclass(frozen=True)
class Layer:
    """One dense layer: ``inputs @ weights + bias``."""

    weights: NDArray[np.float64]
    """Shape (inputs, outputs)."""
    bias: NDArray[np.float64]
    """Shape (outputs,)."""


@dataclass(frozen=True)
class PolicyNetwork:
    """The actor of a MaskablePPO MlpPolicy: hidden layers with an activation, then the head."""

    hidden: tuple[Layer, ...]
    """The policy's hidden layers, input first."""
    head: Layer
    """The action net: hidden features to one logit per action."""
    activation: Activation = "tanh"
    """Applied after every hidden layer (not after the head)."""

    @property
    def observation_size(self) -> int:
        return int((self.hidden[0] if self.hidden else self.head).weights.shape[0])

    @property
    def action_count(self) -> int:
        return int(self.head.weights.shape[1])

    def digest(self) -> str:
        """sha256 of the activation and every layer's shape and values: two models with the
        same digest play alike (a retrained model that reproduces one shows its digest)."""
        digest = hashlib.sha256(self.activation.encode())
        for layer in (*self.hidden, self.head):
            for array in (layer.weights, layer.bias):
                digest.update(repr(array.shape).encode())
                digest.update(np.ascontiguousarray(array, dtype="<f8").tobytes())
        return digest.hexdigest()

    def logits(self, observations: NDArray[np.floating[Any]]) -> NDArray[np.float64]:
        """One row of logits per observation row (shape (batch, actions))."""
        values = np.asarray(observations, dtype=np.float64).reshape(-1, self.observation_size)
        for layer in self.hidden:
            values = _layer(values, layer)
            values = np.tanh(values) if self.activation == "tanh" else np.maximum(values, 0.0)
        return _layer(values, self.head)

    def best_action(self, logits: NDArray[np.float64], mask: NDArray[np.bool_]) -> int:
        """The most probable legal action (the first of equal ones)."""
        return int(np.argmax(np.where(mask, logits, -np.inf)))

    def probabilities(self, logits: NDArray[np.float64], mask: NDArray[np.bool_]) -> NDArray[Any]:
        """The masked softmax: illegal actions get probability 0, the rest sum to 1."""
        legal = np.where(mask, logits, -np.inf)
        weights = np.exp(legal - legal.max())
        return weights / weights.sum()


def _layer(values: NDArray[np.float64], layer: Layer) -> NDArray[np.float64]:
    # einsum without `optimize` runs numpy's own loops, never BLAS: each output sums
    # its products in input order whatever the batch size (see the module docstring).
    result: NDArray[np.float64] = (
        np.einsum("bi,io->bo", values, layer.weights, optimize=False) + layer.bias
    )
    return result


def from_sb3(policy: Any, source: str) -> PolicyNetwork:
    """The actor of an SB3 ``MaskableActorCriticPolicy`` (MlpPolicy) as a PolicyNetwork.

    `source` names the model file in the ModelError raised for any other architecture.
    """
    from torch import nn  # loaded with the model already

    def unsupported(what: str) -> ModelError:
        return ModelError(
            f"{source}: {what}; simreel plays MaskablePPO MlpPolicy networks (Linear layers "
            "with tanh or relu); retrain with `simreel train`"
        )

    extractor = getattr(policy, "features_extractor", None)
    if type(extractor).__name__ != "FlattenExtractor":
        raise unsupported(f"its features extractor is {type(extractor).__name__}")
    layers: list[Layer] = []
    activation: str | None = None
    for module in policy.mlp_extractor.policy_net:
        if isinstance(module, nn.Linear):
            layers.append(_dense(module))
        elif isinstance(module, nn.Tanh | nn.ReLU):
            name = "tanh" if isinstance(module, nn.Tanh) else "relu"
            if activation not in (None, name):
                raise unsupported("its hidden layers mix activations")
            activation = name
        else:
            raise unsupported(f"its policy network has a {type(module).__name__} layer")
    if not isinstance(policy.action_net, nn.Linear):
        raise unsupported(f"its action net is a {type(policy.action_net).__name__}")
    return build(layers, _dense(policy.action_net), activation or "tanh", source)


def build(hidden: Sequence[Layer], head: Layer, activation: str, source: str) -> PolicyNetwork:
    """A PolicyNetwork after checking that the layers chain (ModelError naming `source`)."""
    if activation not in ACTIVATIONS:
        raise ModelError(
            f"{source}: activation {activation!r} is not one of {', '.join(ACTIVATIONS)}; "
            "retrain with `simreel train`"
        )
    previous: int | None = None
    for index, layer in enumerate((*hidden, head)):
        inputs, outputs = layer.weights.shape
        if layer.bias.shape != (outputs,) or (previous is not None and inputs != previous):
            raise ModelError(
                f"{source}: layer {index} of the policy network does not fit the one before "
                f"(weights {layer.weights.shape}, bias {layer.bias.shape}); the model file is "
                "damaged: retrain with `simreel train`"
            )
        previous = outputs
    return PolicyNetwork(tuple(hidden), head, activation)  # type: ignore[arg-type]


def _dense(module: Any) -> Layer:
    weight = module.weight.detach().cpu().numpy().astype(np.float64)
    bias = module.bias.detach().cpu().numpy().astype(np.float64)
    return Layer(weights=np.ascontiguousarray(weight.T), bias=bias)
