"""Reading a model or checkpoint zip without running any of its code; upgrading old cards.

A zip is an SB3 MaskablePPO save (see :mod:`stages.train.model_card` for the whole
format). simreel reads two of its members and nothing else:

* ``policy.pth``, the network's weights, to play a model (:func:`read_policy_state`);
* ``policy.optimizer.pth``, Adam's running averages, to resume a checkpoint
  (:func:`read_checkpoint`).

Each is loaded with ``torch.load(..., weights_only=True)``, whose unpickler builds
tensors and plain containers only and refuses every other global, so a pickle that
would run code is an error, never a call. ``data`` (SB3's cloudpickles of the policy
class, spaces and schedules) is never read: what network the weights belong to comes
from the card's plain JSON (``network``), checked against a fixed list of policies and
activations (:func:`checked_network`), and every tensor is checked against the shape
that network and the card's spaces give it.

The work is bounded before torch sees a byte: at most :data:`MAX_ENTRIES` members and a
central directory of at most :data:`MAX_DIRECTORY_BYTES` (read from the zip's end record,
before :mod:`zipfile` parses the directory), a member of at most :data:`MAX_MEMBER_BYTES`
once uncompressed, stored or deflated only (their readers stop at the size the
directory declares), deflated at most :data:`MAX_COMPRESSION_RATIO` to one (a zip bomb),
and a ``.pth`` member whose inner torch archive stores its records uncompressed, as
``torch.save`` writes them (torch would inflate a deflated record unbounded). Every
refusal is one :class:`~schemas.errors.ModelError` line naming the file, the member,
what was expected and the fix.

:func:`upgrade_card` rewrites a card of format 1 to 5 in the current format; run it as
``python -m stages.train.model_format data/models/<name>/model.zip ...``.
"""

from __future__ import annotations

import io
import math
import struct
import sys
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, Any, Final

import numpy as np

from schemas.errors import ModelError
from schemas.provenance import sha256_file
from stages.terminal import one_line
from stages.train.model_card import (
    CARD_FORMAT,
    MLP_POLICY,
    ModelCard,
    NetworkDescription,
    card_path,
    load_model_card,
    write_card,
)
from stages.train.policy_network import ACTIVATIONS, Layer, PolicyNetwork, build

POLICY_MEMBER: Final = "policy.pth"
"""The zip member holding the policy's state dict (the only one playing reads)."""
OPTIMIZER_MEMBER: Final = "policy.optimizer.pth"
"""The zip member holding Adam's state dict (read, besides the policy, to resume)."""
POLICY_CLASSES: Final = (MLP_POLICY, "MlpPolicy")
"""The policies a card's ``network.policy`` may name: sb3-contrib's MlpPolicy, by its
class name or its alias. Anything else is refused, whatever the zip holds."""
MAX_HIDDEN_LAYERS: Final = 64
MAX_MEMBER_BYTES: Final = 256 * 2**20
"""Largest member read, uncompressed (the committed model's ``policy.pth``: 72 KiB)."""
MAX_COMPRESSION_RATIO: Final = 100
"""Largest uncompressed-to-compressed ratio of a deflated member (weights deflate to
about 0.9 of their size; a zip bomb to a thousandth)."""
MAX_ENTRIES: Final = 64
"""Most members an archive may have (an SB3 zip has 6, a torch.save archive about 20)."""
MAX_DIRECTORY_BYTES: Final = 2**20
"""Largest central directory, so that listing the members is bounded too."""

_END_RECORD = b"PK\x05\x06"
_END_RECORD_SIZE = 22
_TORCH_ARCHIVE_START = b"PK\x03\x04"
_FIX = "retrain with `simreel train` (a model from elsewhere: ask for one simreel wrote)"


def checked_network(card: ModelCard, source: Path) -> NetworkDescription:
    """The card's network, if it is one simreel knows how to rebuild; else ModelError."""
    network = card.network
    where = f"{card_path(source)}: field 'network."
    if network.policy not in POLICY_CLASSES:
        raise ModelError(
            f"{where}policy' is {network.policy!r}; simreel plays only {MLP_POLICY} "
            f"(MlpPolicy) networks, rebuilt from the card; {_FIX}"
        )
    if network.activation not in ACTIVATIONS:
        raise ModelError(
            f"{where}activation' is {network.activation!r}, expected one of "
            f"{', '.join(ACTIVATIONS)}; {_FIX}"
        )
    if len(network.net_arch) > MAX_HIDDEN_LAYERS or any(n < 1 for n in network.net_arch):
        raise ModelError(
            f"{where}net_arch' is {list(network.net_arch)}, expected at most "
            f"{MAX_HIDDEN_LAYERS} positive layer sizes; {_FIX}"
        )
    return network


def parameter_shapes(
    network: NetworkDescription, observation_size: int, actions: int
) -> dict[str, tuple[int, ...]]:
    """Every tensor of the policy's state dict and its shape, in the order of the policy's
    parameters (the order Adam's state numbers them in)."""
    shapes: dict[str, tuple[int, ...]] = {}
    for half in ("policy_net", "value_net"):
        inputs = observation_size
        for index, size in enumerate(network.net_arch):
            # SB3's Sequential alternates Linear and activation: Linears are 0, 2, 4, ...
            prefix = f"mlp_extractor.{half}.{2 * index}"
            shapes[f"{prefix}.weight"] = (size, inputs)
            shapes[f"{prefix}.bias"] = (size,)
            inputs = size
    latent = network.net_arch[-1] if network.net_arch else observation_size
    shapes["action_net.weight"] = (actions, latent)
    shapes["action_net.bias"] = (actions,)
    shapes["value_net.weight"] = (1, latent)
    shapes["value_net.bias"] = (1,)
    return shapes


def _card_shapes(card: ModelCard, source: Path) -> dict[str, tuple[int, ...]]:
    network = checked_network(card, source)
    return parameter_shapes(network, math.prod(card.observation_shape), card.action_count)


def read_policy_state(path: Path, card: ModelCard) -> dict[str, Any]:
    """The policy's state dict from the zip at `path` (tensors by name), checked against
    the network and spaces of `card`. Nothing in the zip can run code."""
    shapes = _card_shapes(card, path)
    loaded = _load_tensors(path, POLICY_MEMBER, "the policy's state dict")
    if not isinstance(loaded, Mapping) or not all(isinstance(key, str) for key in loaded):
        raise _wrong(path, POLICY_MEMBER, "the policy's state dict (tensors by name)", loaded)
    missing = sorted(set(shapes) - set(loaded))
    unexpected = sorted(set(loaded) - set(shapes))
    if missing or unexpected:
        network = card.network
        raise ModelError(
            f"{path}: member {POLICY_MEMBER} is not the state dict of a {network.policy} with "
            f"hidden layers {list(network.net_arch)}, as the card says (missing "
            f"{_names(missing)}; unexpected {_names(unexpected)}); {_FIX}"
        )
    for name, shape in shapes.items():
        _check_tensor(path, POLICY_MEMBER, name, loaded[name], shape)
    return {name: loaded[name] for name in shapes}


def network_from_state(
    state: Mapping[str, Any], network: NetworkDescription, source: str
) -> PolicyNetwork:
    """The actor of a checked state dict (:func:`read_policy_state`) as a numpy network."""
    hidden = [
        _dense(state, f"mlp_extractor.policy_net.{2 * index}")
        for index in range(len(network.net_arch))
    ]
    return build(hidden, _dense(state, "action_net"), network.activation, source)


def _dense(state: Mapping[str, Any], prefix: str) -> Layer:
    # As policy_network.from_sb3 converts a live torch layer: the same numbers, the same digest.
    weight = state[f"{prefix}.weight"].detach().cpu().numpy().astype(np.float64)
    bias = state[f"{prefix}.bias"].detach().cpu().numpy().astype(np.float64)
    return Layer(weights=np.ascontiguousarray(weight.T), bias=bias)


def policy_kwargs(network: NetworkDescription) -> dict[str, Any]:
    """SB3's ``policy_kwargs`` that build `network` (a checked one) afresh."""
    from torch import nn

    activation = {"tanh": nn.Tanh, "relu": nn.ReLU}[network.activation]
    return {"net_arch": list(network.net_arch), "activation_fn": activation}


@dataclass(frozen=True)
class CheckpointWeights:
    """What ``--resume`` takes from a checkpoint zip: the policy and Adam's running averages.

    Adam's settings (its ``param_groups``) are not taken: the resumed run's configuration
    makes them, as it did when the checkpoint was written.
    """

    policy: dict[str, Any]
    """The policy's state dict (:func:`read_policy_state`)."""
    optimizer_state: dict[int, dict[str, Any]]
    """Adam's ``state``: per parameter index, its ``step``, ``exp_avg`` and ``exp_avg_sq``."""


ADAM_STATE_KEYS: Final = ("step", "exp_avg", "exp_avg_sq")


def read_checkpoint(path: Path, card: ModelCard, best: Path | None = None) -> CheckpointWeights:
    """The weights to resume from the checkpoint at `path` (its card `card`), after checking
    its digest, and the policy in `best` if that file exists (the best weights so far, which
    the resumed run may publish as its model: they must play too)."""
    if sha256_file(path) != card.model_sha256:
        raise ModelError(
            f"{path}: its sha256 differs from its card's; the checkpoint was changed after "
            "it was written: resume from an untouched checkpoint"
        )
    policy = read_policy_state(path, card)
    optimizer_state = _read_optimizer_state(path, card)
    if best is not None and best.is_file():
        read_policy_state(best, card)
    return CheckpointWeights(policy, optimizer_state)


def _read_optimizer_state(path: Path, card: ModelCard) -> dict[int, dict[str, Any]]:
    shapes = list(_card_shapes(card, path).values())
    expected = "Adam's state dict ({'state': ..., 'param_groups': ...})"
    loaded = _load_tensors(path, OPTIMIZER_MEMBER, expected)
    if (
        not isinstance(loaded, Mapping)
        or set(loaded) != {"state", "param_groups"}
        or not isinstance(loaded["state"], Mapping)
    ):
        raise _wrong(path, OPTIMIZER_MEMBER, expected, loaded)
    state: dict[int, dict[str, Any]] = {}
    for index, entry in loaded["state"].items():
        if (
            not isinstance(index, int)
            or isinstance(index, bool)
            or index not in range(len(shapes))
            or not isinstance(entry, Mapping)
            or set(entry) != set(ADAM_STATE_KEYS)
        ):
            raise _wrong(
                path,
                OPTIMIZER_MEMBER,
                f"Adam's state of parameters 0 to {len(shapes) - 1}, each {ADAM_STATE_KEYS}",
                entry,
            )
        _check_tensor(path, OPTIMIZER_MEMBER, f"state.{index}.step", entry["step"], ())
        for key in ("exp_avg", "exp_avg_sq"):
            _check_tensor(path, OPTIMIZER_MEMBER, f"state.{index}.{key}", entry[key], shapes[index])
        state[index] = {key: entry[key] for key in ADAM_STATE_KEYS}
    return state


def _load_tensors(path: Path, member: str, expected: str) -> Any:
    """`member` of the zip at `path` loaded by torch's weights-only unpickler."""
    data = read_member(path, member)
    _check_torch_archive(path, member, data)
    import torch  # here: torch takes seconds to load, and card checks do not need it

    try:
        return torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    # Hostile bytes can make an unpickler raise almost anything (UnpicklingError,
    # RuntimeError, KeyError, TypeError, struct.error...): each means "not plain tensors".
    except Exception as error:
        raise ModelError(
            f"{path}: member {member} does not load as plain tensors ({_cause(error)}); "
            f"expected {expected} as torch.save writes it, which loads without running "
            f"code; {_FIX}"
        ) from None


def read_member(path: Path, member: str) -> bytes:
    """The bytes of `member` of the zip at `path`, with the work bounded (see the module
    docstring); ModelError for anything else."""
    try:
        with path.open("rb") as handle, _bounded_zip(handle, str(path)) as archive:
            try:
                info = archive.getinfo(member)
            except KeyError:
                raise ModelError(
                    f"{path}: the zip has no member {member}; expected an SB3 MaskablePPO "
                    f"save (its {member} holds the weights); {_FIX}"
                ) from None
            _check_entry(f"{path}: member {member}", info)
            with archive.open(info) as stream:
                data = stream.read(MAX_MEMBER_BYTES + 1)
    except OSError as error:
        raise ModelError(
            f"{path}: cannot read member {member} ({error.strerror or error}); check the "
            f"file, or {_FIX}"
        ) from None
    # zipfile's own complaints about a damaged archive (a bad CRC, a truncated stream,
    # an unsupported feature) are every other exception here.
    except (zipfile.BadZipFile, EOFError, RuntimeError, NotImplementedError, ValueError) as error:
        raise ModelError(
            f"{path}: member {member} cannot be read from the zip ({_cause(error)}); "
            f"expected an SB3 MaskablePPO save; {_FIX}"
        ) from None
    if len(data) != info.file_size:
        raise ModelError(
            f"{path}: member {member} holds {len(data)} bytes, its zip entry says "
            f"{info.file_size}; the file is damaged: {_FIX}"
        )
    return data


def _bounded_zip(handle: IO[bytes], where: str) -> zipfile.ZipFile:
    """`handle` opened as a zip once its end record promises a small directory."""
    entries, directory_bytes = _directory_size(handle, where)
    if entries > MAX_ENTRIES or directory_bytes > MAX_DIRECTORY_BYTES:
        raise ModelError(
            f"{where}: the zip lists {entries} members in {directory_bytes} bytes, expected "
            f"at most {MAX_ENTRIES} in {MAX_DIRECTORY_BYTES}; it is no model simreel "
            f"wrote: {_FIX}"
        )
    return zipfile.ZipFile(handle)


def _directory_size(handle: IO[bytes], where: str) -> tuple[int, int]:
    """(members, bytes) of the zip's central directory, as its end record says."""
    handle.seek(0, io.SEEK_END)
    size = handle.tell()
    tail_length = min(size, _END_RECORD_SIZE + 0xFFFF)  # the record, then a comment
    handle.seek(size - tail_length)
    tail = handle.read(tail_length)
    handle.seek(0)
    # Where zipfile looks: right at the end (no comment), else the last signature.
    at = len(tail) - _END_RECORD_SIZE
    if at < 0 or tail[at : at + 4] != _END_RECORD:
        at = tail.rfind(_END_RECORD)
    if at < 0 or len(tail) - at < _END_RECORD_SIZE:
        raise ModelError(
            f"{where}: not a zip archive; expected an SB3 MaskablePPO save (model.zip, "
            f"checkpoint.zip); {_FIX}"
        )
    entries, directory_bytes = struct.unpack("<HL", tail[at + 10 : at + 16])
    return int(entries), int(directory_bytes)


def _check_entry(where: str, info: zipfile.ZipInfo) -> None:
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise ModelError(
            f"{where} is compressed with method {info.compress_type}, expected stored or "
            f"deflated (as SB3 and zip tools write); {_FIX}"
        )
    if info.file_size > MAX_MEMBER_BYTES:
        raise ModelError(
            f"{where} is {info.file_size} bytes uncompressed, expected at most "
            f"{MAX_MEMBER_BYTES} (a model's weights are far smaller); {_FIX}"
        )
    ratio = info.file_size / max(info.compress_size, 1)
    if info.compress_type == zipfile.ZIP_DEFLATED and ratio > MAX_COMPRESSION_RATIO:
        raise ModelError(
            f"{where} inflates {ratio:.0f} to one, expected at most {MAX_COMPRESSION_RATIO} "
            f"(weights barely compress; this is a zip bomb); {_FIX}"
        )


def _check_torch_archive(path: Path, member: str, data: bytes) -> None:
    """ModelError unless `data` is a torch.save archive whose records are stored as they are."""
    where = f"{path}: member {member}"
    if not data.startswith(_TORCH_ARCHIVE_START):
        raise ModelError(
            f"{where} is not a torch.save archive (a zip); expected the weights as torch.save "
            f"writes them; {_FIX}"
        )
    handle = io.BytesIO(data)
    try:
        with _bounded_zip(handle, where) as archive:
            records = archive.infolist()
    except (zipfile.BadZipFile, EOFError, ValueError, NotImplementedError) as error:
        raise ModelError(
            f"{where} is a damaged torch.save archive ({_cause(error)}); {_FIX}"
        ) from None
    for record in records:
        # torch inflates a deflated record whole, however large: only stored ones are read.
        if record.compress_type != zipfile.ZIP_STORED or record.file_size > len(data):
            raise ModelError(
                f"{where}: record {record.filename!r} is compressed or larger than the "
                f"member, expected records stored as torch.save writes them; {_FIX}"
            )


def _check_tensor(path: Path, member: str, name: str, value: Any, shape: tuple[int, ...]) -> None:
    import torch

    def wrong(problem: str) -> ModelError:
        return ModelError(
            f"{path}: member {member}: {name} {problem}, expected a float32 tensor of shape "
            f"{shape}; {_FIX}"
        )

    if not isinstance(value, torch.Tensor):
        raise wrong(f"is a {type(value).__name__}")
    if value.layout != torch.strided or value.device.type != "cpu":
        raise wrong(f"is a {value.layout} tensor on {value.device.type}")
    if value.dtype not in (torch.float32, torch.float64):
        raise wrong(f"holds {value.dtype}")
    if tuple(value.shape) != shape:
        raise wrong(f"has shape {tuple(value.shape)}")
    # A view may repeat one stored number endlessly (stride 0): never more numbers than stored.
    if value.numel() * value.element_size() > value.untyped_storage().nbytes():
        raise wrong("claims more numbers than the file stores")
    if not bool(torch.isfinite(value).all()):
        raise wrong("holds NaN or infinite values")


def _wrong(path: Path, member: str, expected: str, found: Any) -> ModelError:
    return ModelError(
        f"{path}: member {member} holds a {type(found).__name__} of another layout, expected "
        f"{expected}; {_FIX}"
    )


def _names(names: Sequence[str]) -> str:
    if not names:
        return "none"
    shown = ", ".join(repr(name[:60]) for name in names[:4])
    return shown + (f" and {len(names) - 4} more" if len(names) > 4 else "")


def _cause(error: BaseException) -> str:
    """The error's type and the sentence that says what went wrong. torch's weights-only
    errors surround it with advice on loading the file unsafely or allowing more globals,
    which must not reach a user holding a stranger's file."""
    text = str(error)
    marker = "WeightsUnpickler error:"
    if marker in text:
        text = text.split(marker, 1)[1]
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    first = (lines[0] if lines else "").split(". ", 1)[0].rstrip(".")
    return f"{type(error).__name__}: {first[:200]}"


def upgrade_card(model_path: Path) -> bool:
    """Rewrite the card beside `model_path` in the current card format; False if it was.

    The card keeps everything it says, in the current layout (as :func:`load_model_card`
    reads an older one), and gains ``network``: the MlpPolicy with ``config.net_arch`` and
    tanh, the only network simreel ever trained. The zip is untouched, so ``model_sha256``
    stays valid; it is checked first, and so are its weights (read as playing reads them),
    so an upgraded card never vouches for a zip that would not play.
    """
    path = Path(model_path)
    card = load_model_card(path)
    if card.card_format == CARD_FORMAT:
        return False
    if sha256_file(path) != card.model_sha256:
        raise ModelError(
            f"{path}: sha256 differs from its card's; restore the zip that belongs to the "
            f"card before upgrading it"
        )
    read_policy_state(path, card)
    write_card(replace(card, card_format=CARD_FORMAT), path)
    return True


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m stages.train.model_format MODEL.zip ...``: upgrade each model's card."""
    paths = list(sys.argv[1:] if argv is None else argv)
    if not paths:
        print(
            "usage: python -m stages.train.model_format MODEL.zip [MODEL.zip ...] "
            f"(upgrades each model's card to format {CARD_FORMAT})",
            file=sys.stderr,
        )
        return 2
    for given in paths:
        try:
            upgraded = upgrade_card(Path(given))
        except ModelError as error:
            print(f"error: {one_line(str(error))}", file=sys.stderr)
            return 2
        done = "upgraded to" if upgraded else "already in"
        print(one_line(f"{card_path(Path(given))}: {done} card format {CARD_FORMAT}"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
