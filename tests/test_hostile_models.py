"""Hostile model files: zips built to run code, or to make the reader work without end,
put everywhere simreel reads a model or a checkpoint.

The payload is a pickle whose unpickling writes a marker file (:class:`WritesMarker`,
``Path.write_text(marker, "pwned")``), the stand-in for any code. It is planted in a
model's ``data`` member (SB3's cloudpickles) and ``policy.pth`` (a raw pickle, a
torch.save of it, the payload among the genuine weights, an old-style torch file), and
in a checkpoint's ``data``, ``policy.optimizer.pth``, ``policy.pth`` and its
``checkpoint-best.zip``; the other cases are zip bombs (outside and inside the torch
archive), a zip of many members, and files that are no zip at all. Every zip the card
covers gets the card's sha256 made to match, as a hostile author would.

Each case runs the real command line (``record --model``, ``evaluate --model``,
``train --resume``). The marker is never written. A member simreel reads makes the
command exit non-zero with one line, ``error: ...``, naming the file and the fix; a
payload in ``data`` is inert, as simreel never reads that member: the model plays, or the
checkpoint trains on, with its genuine weights. The control tests show every payload is
live: SB3's own loader and torch's unrestricted one do write the marker.

The last tests scan simreel's code: no module may unpickle, load a torch file without
``weights_only=True``, widen torch's weights-only allow-list, or call SB3's loaders.
"""

from __future__ import annotations

import ast
import base64
import contextlib
import io
import json
import pickle
import re
import shutil
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
import torch

from domains.registry import load_domain
from schemas.provenance import sha256_file
from stages.train.learner import train_learner
from stages.train.model_card import DEFAULT_MODEL
from stages.train.model_format import MAX_MEMBER_BYTES
from tests.cli_helpers import run_cli
from tests.train_helpers import tiny_config

ROOT = Path(__file__).resolve().parents[1]
MARKER_TEXT = "pwned"


class WritesMarker:
    """Once unpickled, has written :data:`MARKER_TEXT` into `marker`."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (Path.write_text, (self.marker, MARKER_TEXT))


def _raw_pickle(marker: Path) -> bytes:
    return pickle.dumps(WritesMarker(marker))


def torch_saved(value: Any, *, zip_format: bool = True) -> bytes:
    buffer = io.BytesIO()
    torch.save(value, buffer, _use_new_zipfile_serialization=zip_format)
    return buffer.getvalue()


def zip_members(archive: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(archive) as source:
        return {info.filename: source.read(info) for info in source.infolist()}


def rewrite_zip(archive: Path, changes: dict[str, bytes | None], **options: Any) -> None:
    """`archive` with members replaced (None: removed), written with zipfile `options`."""
    members = zip_members(archive)
    for name, data in changes.items():
        if data is None:
            members.pop(name, None)
        else:
            members[name] = data
    with zipfile.ZipFile(archive, "w", **options) as target:
        for name, data in members.items():
            target.writestr(name, data)


def seal(archive: Path) -> None:
    """Make the card beside `archive` vouch for it, as a hostile author would."""
    card_file = archive.with_suffix(".json")
    card = json.loads(card_file.read_text())
    card["model_sha256"] = sha256_file(archive)
    card_file.write_text(json.dumps(card))


def _state(archive: Path, member: str) -> Any:
    return torch.load(io.BytesIO(zip_members(archive)[member]), weights_only=True)


# What each case does to a zip, given the marker its payload would write.
Plant = Callable[[Path, Path], None]


def _in_data(archive: Path, marker: Path) -> None:
    data = json.loads(zip_members(archive)["data"])
    data["policy_class"][":serialized:"] = base64.b64encode(_raw_pickle(marker)).decode()
    rewrite_zip(archive, {"data": json.dumps(data).encode()})


def _raw_pickle_as(member: str) -> Plant:
    return lambda archive, marker: rewrite_zip(archive, {member: _raw_pickle(marker)})


def _torch_saved_as(member: str, *, zip_format: bool = True) -> Plant:
    def plant(archive: Path, marker: Path) -> None:
        payload = torch_saved(WritesMarker(marker), zip_format=zip_format)
        rewrite_zip(archive, {member: payload})

    return plant


def _among_the_weights(archive: Path, marker: Path) -> None:
    state = dict(_state(archive, "policy.pth"))
    state["action_net.bias"] = WritesMarker(marker)
    rewrite_zip(archive, {"policy.pth": torch_saved(state)})


def _among_adams_state(archive: Path, marker: Path) -> None:
    state = _state(archive, "policy.optimizer.pth")
    state["state"][0]["exp_avg"] = WritesMarker(marker)
    rewrite_zip(archive, {"policy.optimizer.pth": torch_saved(state)})


def _oversized(archive: Path, _marker: Path) -> None:
    members = zip_members(archive)
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as target:
        for name, data in members.items():
            if name != "policy.pth":
                target.writestr(name, data)
        with target.open("policy.pth", "w") as stream:
            for _ in range(MAX_MEMBER_BYTES // 2**20 + 1):
                stream.write(bytes(2**20))


def _bomb(archive: Path, _marker: Path) -> None:
    # 32 MiB of zeros deflate to about 32 KiB: a thousand to one.
    rewrite_zip(archive, {"policy.pth": bytes(32 * 2**20)}, compression=zipfile.ZIP_DEFLATED)


def _deflated_torch_records(archive: Path, _marker: Path) -> None:
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w", zipfile.ZIP_DEFLATED) as target:
        for name, data in _members_of_bytes(zip_members(archive)["policy.pth"]).items():
            target.writestr(name, data)
    rewrite_zip(archive, {"policy.pth": inner.getvalue()})


def _members_of_bytes(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as source:
        return {info.filename: source.read(info) for info in source.infolist()}


def _many_members(archive: Path, _marker: Path) -> None:
    rewrite_zip(archive, {f"padding/{k}": b"" for k in range(5000)})


def _not_a_zip(archive: Path, _marker: Path) -> None:
    archive.write_text("#!/bin/sh\necho pwned > marker\n")


def _empty(archive: Path, _marker: Path) -> None:
    archive.write_bytes(b"")


def _without_weights(archive: Path, _marker: Path) -> None:
    rewrite_zip(archive, {"policy.pth": None})


@dataclass(frozen=True)
class Case:
    name: str
    plant: Plant
    expected: str
    """What the one error line says (a regular expression); empty: the command succeeds."""


MODEL_CASES = [
    Case("data: a cloudpickle", _in_data, ""),
    Case(
        "policy.pth: a raw pickle",
        _raw_pickle_as("policy.pth"),
        r"member policy\.pth is not a torch\.save archive",
    ),
    Case(
        "policy.pth: a torch.save of the payload",
        _torch_saved_as("policy.pth"),
        r"member policy\.pth does not load as plain tensors \(UnpicklingError: ",
    ),
    Case(
        "policy.pth: an old-style torch file",
        _torch_saved_as("policy.pth", zip_format=False),
        r"member policy\.pth is not a torch\.save archive",
    ),
    Case(
        "policy.pth: the payload among the weights",
        _among_the_weights,
        r"member policy\.pth does not load as plain tensors",
    ),
    Case(
        "policy.pth: over the size limit",
        _oversized,
        r"member policy\.pth is \d+ bytes uncompressed, expected at most 268435456",
    ),
    Case("policy.pth: a zip bomb", _bomb, r"member policy\.pth inflates \d+ to one"),
    Case(
        "policy.pth: deflated torch records",
        _deflated_torch_records,
        r"member policy\.pth: record '[^']+' is compressed",
    ),
    Case("a zip of 5,000 members", _many_members, r"the zip lists 500\d members"),
    Case("a shell script", _not_a_zip, r"not a zip archive"),
    Case("an empty file", _empty, r"not a zip archive"),
    Case("no policy.pth", _without_weights, r"the zip has no member policy\.pth"),
]


@pytest.fixture
def marker(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "marker"
    yield path
    assert not path.exists(), "a payload ran"


def _hostile_model(folder: Path, case: Case, marker: Path) -> Path:
    folder.mkdir()
    model = folder / "model.zip"
    shutil.copyfile(DEFAULT_MODEL, model)
    shutil.copyfile(DEFAULT_MODEL.with_suffix(".json"), folder / "model.json")
    case.plant(model, marker)
    seal(model)
    return model


def _check_outcome(
    case: Case, culprit: Path, code: int, err: str, marker: Path, *, fix: str
) -> None:
    assert not marker.exists(), f"{case.name}: the payload ran"
    if not case.expected:
        assert code == 0, err
        return
    lines = err.strip().splitlines()
    assert code != 0
    assert len(lines) == 1, err
    assert lines[0].startswith(f"error: {culprit}: "), lines[0]
    assert fix in lines[0]
    assert re.search(case.expected, lines[0]), lines[0]


@pytest.mark.parametrize("case", MODEL_CASES, ids=lambda case: case.name)
@pytest.mark.parametrize("command", ["record", "evaluate"])
def test_a_hostile_model_never_runs_and_is_refused_in_one_line(
    case: Case, command: str, tmp_path: Path, marker: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = _hostile_model(tmp_path / "model", case, marker)
    if command == "record":
        argv = ["record", "--model", str(model), "--out", str(tmp_path / "t.parquet")]
    else:
        argv = ["evaluate", "--model", str(model), "--episodes", "2", "--here", "--quiet"]
    code, _, err = run_cli(argv, capsys)
    _check_outcome(case, model, code, err, marker, fix="retrain with `simreel train`")


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny finished single-learner run's folder (its card names no output folder, so
    a resumed copy writes into the copy)."""
    folder = tmp_path_factory.mktemp("run")
    config = replace(tiny_config(folder, timesteps=256, eval_freq=256), out_dir=None)
    return train_learner(config, load_domain("factory"), folder).model_path.parent


CHECKPOINT_CASES = [
    (Case("data: a cloudpickle", _in_data, ""), "checkpoint.zip"),
    (
        Case(
            "policy.optimizer.pth: a torch.save of the payload",
            _torch_saved_as("policy.optimizer.pth"),
            r"member policy\.optimizer\.pth does not load as plain tensors \(UnpicklingError",
        ),
        "checkpoint.zip",
    ),
    (
        Case(
            "policy.optimizer.pth: a raw pickle",
            _raw_pickle_as("policy.optimizer.pth"),
            r"member policy\.optimizer\.pth is not a torch\.save archive",
        ),
        "checkpoint.zip",
    ),
    (
        Case(
            "policy.optimizer.pth: the payload in Adam's state",
            _among_adams_state,
            r"member policy\.optimizer\.pth does not load as plain tensors",
        ),
        "checkpoint.zip",
    ),
    (
        Case(
            "policy.pth: a torch.save of the payload",
            _torch_saved_as("policy.pth"),
            r"member policy\.pth does not load as plain tensors",
        ),
        "checkpoint.zip",
    ),
    (
        Case(
            "best weights: a torch.save of the payload",
            _torch_saved_as("policy.pth"),
            r"member policy\.pth does not load as plain tensors",
        ),
        "checkpoint-best.zip",
    ),
    (Case("a zip bomb", _bomb, r"member policy\.pth inflates \d+ to one"), "checkpoint.zip"),
    (Case("a shell script", _not_a_zip, r"not a zip archive"), "checkpoint.zip"),
]


@pytest.mark.parametrize(
    ("case", "target"), CHECKPOINT_CASES, ids=[f"{t}: {c.name}" for c, t in CHECKPOINT_CASES]
)
def test_a_hostile_checkpoint_never_runs_and_is_refused_in_one_line(
    case: Case,
    target: str,
    finished_run: Path,
    tmp_path: Path,
    marker: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    folder = tmp_path / "run"
    shutil.copytree(finished_run, folder)
    culprit = folder / target
    case.plant(culprit, marker)
    if culprit.with_suffix(".json").is_file():
        seal(culprit)
    checkpoint = folder / "checkpoint.zip"
    argv = ["train", "--quiet", "--resume", str(checkpoint), "--timesteps", "512"]
    code, _, err = run_cli(argv, capsys)
    _check_outcome(case, culprit, code, err, marker, fix="simreel train")
    if not case.expected:  # it trained on, from the genuine weights
        assert json.loads((folder / "model.json").read_text())["timesteps"] == 512


def test_the_payloads_are_live(tmp_path: Path, finished_run: Path) -> None:
    """SB3's loader runs the payload in ``data``; torch's unrestricted loader the one in a
    ``.pth`` member: the cases above test a reader against real attacks."""
    from sb3_contrib import MaskablePPO

    case = MODEL_CASES[0]
    through_data = tmp_path / "through-data"
    model = _hostile_model(tmp_path / "model", case, through_data)
    with contextlib.suppress(Exception):  # once the payload ran, SB3 fails on its result
        MaskablePPO.load(model, device="cpu")
    assert through_data.read_text() == MARKER_TEXT

    for plant, member in (
        (_torch_saved_as("policy.pth"), "policy.pth"),
        (_among_the_weights, "policy.pth"),
        (_among_adams_state, "policy.optimizer.pth"),
    ):
        marker = tmp_path / f"through-{member}"
        archive = tmp_path / "checkpoint.zip"
        shutil.copyfile(finished_run / "checkpoint.zip", archive)
        plant(archive, marker)
        torch.load(io.BytesIO(zip_members(archive)[member]), weights_only=False)
        assert marker.read_text() == MARKER_TEXT
        marker.unlink()


# --- simreel's own code never unpickles ------------------------------------------------

UNPICKLING_MODULES = frozenset({"pickle", "_pickle", "cloudpickle", "dill", "shelve", "joblib"})
"""Modules whose loaders run code from the bytes they read."""
SB3_LOADERS = frozenset({"load_from_zip_file", "load_from_pkl", "read_pickle"})
"""Functions that unpickle whatever they are given (SB3's and pandas')."""
SB3_ALGORITHMS = frozenset(
    {"MaskablePPO", "PPO", "A2C", "DQN", "SAC", "TD3", "DDPG", "RecurrentPPO", "QRDQN", "TRPO"}
)
"""Classes whose ``load`` unpickles a zip's ``data``."""
WIDENING = frozenset({"add_safe_globals", "safe_globals"})
"""torch's ways to let ``weights_only`` unpickle more than tensors."""
ALLOWED: frozenset[tuple[str, int]] = frozenset()
"""(file, line) of any exception to the rules; none is needed."""


def _dotted(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return "?"


def unsafe_loads(source: str) -> list[tuple[int, str]]:
    """(line, what) of every import or call in `source` that may unpickle untrusted bytes."""
    tree = ast.parse(source)
    torch_names = {"torch"}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            torch_names |= {a.asname for a in node.names if a.name == "torch" and a.asname}
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names.append(node.module)
                if node.module.split(".")[0] == "torch":
                    names += [f"torch.{a.name}" for a in node.names if a.name == "load"]
                    names += [a.name for a in node.names if a.name in WIDENING]
            for name in names:
                if name.split(".")[0] in UNPICKLING_MODULES or name in WIDENING:
                    found.append((node.lineno, f"imports {name}"))
                if name == "torch.load" or name.split(".")[-1] in SB3_LOADERS:
                    found.append((node.lineno, f"imports {name}"))
        elif isinstance(node, ast.Call):
            called = _dotted(node.func)
            parts = called.split(".")
            keywords = {k.arg: k.value for k in node.keywords}
            weights_only = keywords.get("weights_only")
            safe = isinstance(weights_only, ast.Constant) and weights_only.value is True
            if parts[0] in torch_names and parts[-1] == "load" and len(parts) >= 2 and not safe:
                found.append((node.lineno, f"{called} without weights_only=True"))
            if parts[-1] in SB3_LOADERS or parts[-1] in WIDENING:
                found.append((node.lineno, f"calls {called}"))
            if parts[-1] == "load" and len(parts) >= 2 and parts[-2] in SB3_ALGORITHMS:
                found.append((node.lineno, f"calls {called}"))
            allow_pickle = keywords.get("allow_pickle")
            if isinstance(allow_pickle, ast.Constant) and allow_pickle.value is True:
                found.append((node.lineno, f"{called} with allow_pickle=True"))
    return found


def test_the_scan_finds_every_way_to_unpickle() -> None:
    source = "\n".join(
        [
            "import pickle",
            "import cloudpickle as cp",
            "from dill import loads",
            "import torch as th",
            "th.load(f)",
            "torch.load(f, weights_only=False)",
            "torch.serialization.load(f)",
            "from torch import load",
            "MaskablePPO.load(path)",
            "sb3_contrib.PPO.load(path)",
            "load_from_zip_file(path)",
            "torch.serialization.add_safe_globals([Evil])",
            "np.load(path, allow_pickle=True)",
            "torch.load(f, map_location='cpu', weights_only=True)",  # the one safe call
            "entry_point.load()",
        ]
    )
    flagged = sorted({line for line, _ in unsafe_loads(source)})
    assert flagged == [1, 2, 3, *range(5, 14)]  # line 4 only names torch; 14 and 15 are safe


@pytest.mark.parametrize("package", ["stages", "domains", "schemas"])
def test_no_module_can_unpickle_a_file(package: str) -> None:
    problems = []
    for path in sorted((ROOT / package).rglob("*.py")):
        relative = str(path.relative_to(ROOT))
        for line, what in unsafe_loads(path.read_text(encoding="utf-8")):
            if (relative, line) not in ALLOWED:
                problems.append(f"{relative}:{line}: {what}")
    assert problems == [], "simreel must read models with weights_only=True only: " + "; ".join(
        problems
    )
