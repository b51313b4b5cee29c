"""Ray as the command's engine: a local Ray kept inside the output folder, a real Ctrl-C,
and the same command joining an existing cluster (with its token) unchanged."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from stages.train.cluster import RAY_DIR, RaySettings, ray_session
from stages.train.model_card import Evaluation, load_model_card
from stages.train.population import member_dir
from stages.train.run import train
from tests.cli_helpers import run_cli
from tests.train_helpers import tiny_config

TINY_FLAGS = [
    "--quiet",
    "--n-envs=1",
    "--n-steps=128",
    "--batch-size=64",
    "--n-epochs=2",
    "--eval-freq=256",
]
""":data:`tests.train_helpers.TINY` as flags, but for the budget and the population."""


def _environment(home: Path, **extra: str) -> dict[str, str]:
    """This process's environment for a `simreel` subprocess, with a HOME of its own."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in ("RAY_ADDRESS", "PYTHONSAFEPATH")
    }
    return {**environment, "HOME": str(home), "SDL_VIDEODRIVER": "dummy", **extra}


def _simreel(*args: str) -> list[str]:
    return [sys.executable, "-m", "stages.cli", *args]


def _ray_sessions_in_tmp() -> set[str]:
    folder = Path(tempfile.gettempdir()) / "ray"
    return {p.name for p in folder.iterdir()} if folder.is_dir() else set()


def test_a_local_ray_keeps_its_files_in_the_output_folder(tmp_path: Path) -> None:
    workdir = tmp_path / ("a-long-output-folder-name-" * 3)  # too long for Ray's sockets
    before = _ray_sessions_in_tmp()
    home_token = Path.home() / ".ray" / "auth_token"
    had_token = home_token.exists()
    with ray_session(RaySettings(workdir=workdir, quiet=True)) as session:
        import ray

        assert session.local
        assert session.temp_dir == workdir.resolve() / RAY_DIR
        assert session.cpus >= 1
        assert ray.get(ray.remote(lambda: 6 * 7).remote()) == 42
        sessions = [p for p in session.temp_dir.glob("session_*") if not p.is_symlink()]
        assert len(sessions) == 1
        assert (sessions[0] / "logs").is_dir()
        assert os.environ["RAY_AUTH_MODE"] == "token"  # on, with a token of this process
    assert not ray.is_initialized()
    assert _ray_sessions_in_tmp() == before, "Ray wrote into the system's /tmp/ray"
    assert home_token.exists() == had_token, "Ray wrote a token into the home folder"
    links = [p for p in Path(tempfile.gettempdir()).glob("simreel-*/ray") if p.is_symlink()]
    assert not [p for p in links if p.resolve() == session.temp_dir], "the short link stayed"
    assert not (session.temp_dir / "scratch").exists()


def test_ctrl_c_stops_every_learner_with_a_checkpoint_and_exits_130(tmp_path: Path) -> None:
    out = tmp_path / "run"
    home = tmp_path / "home"
    home.mkdir()
    process = subprocess.Popen(
        _simreel(
            "train", *TINY_FLAGS, "--population=2", "--timesteps=200000", "--out-dir", str(out)
        ),
        env=_environment(home),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a terminal's foreground job
    )
    try:
        deadline = time.monotonic() + 240
        scratch = out / RAY_DIR / "scratch"
        while len(list(scratch.glob("simreel-learner-*"))) < 2:
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the learners never started"
            time.sleep(0.2)
        time.sleep(3)  # let them train a little
        os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in a terminal sends
        _, stderr = process.communicate(timeout=180)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == 130, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    checkpoint = out / "checkpoint.zip"
    assert lines[0].startswith("interrupted at ")
    assert f"simreel train --resume {checkpoint}" in lines[0]
    assert not (out / "model.zip").exists(), "an interrupted run must not write a model"
    card = load_model_card(checkpoint)
    assert not card.complete
    for member in (0, 1):
        learner = load_model_card(member_dir(out, member) / "checkpoint.zip")
        assert not learner.complete
        assert 0 < learner.timesteps < 200000
    assert not list(home.rglob("*")), "the command wrote into the home folder"

    # The checkpoints continue every learner (to a budget just past where they stopped).
    done = max(member.timesteps for member in card.members)
    config = tiny_config(out, population=2, timesteps=done + 256, resume=checkpoint)
    resumed = train(config).card
    assert resumed.complete
    assert all(member.timesteps >= done + 256 for member in resumed.members)


def _curve(evaluations: tuple[Evaluation, ...]) -> list[tuple[int, float]]:
    return [(e.timestep, e.score) for e in evaluations]


def _same_weights(first: Path, second: Path) -> bool:
    """Whether two model zips hold the same network (their bytes differ in timestamps)."""
    import torch
    from sb3_contrib import MaskablePPO

    a = MaskablePPO.load(first, device="cpu").policy.state_dict()
    b = MaskablePPO.load(second, device="cpu").policy.state_dict()
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[str]:
    """The address of a Ray cluster this test started (a local Ray other processes join)."""
    with ray_session(RaySettings(workdir=tmp_path / "cluster", quiet=True)):
        import ray

        yield ray.get_runtime_context().gcs_address


def test_the_same_command_runs_on_a_cluster_unchanged(cluster: str, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    budget = ["--population=2", "--timesteps=512", "--seed=3"]
    joined = subprocess.run(
        _simreel("train", *TINY_FLAGS, *budget, "--out-dir", str(tmp_path / "joined")),
        env=_environment(home, RAY_ADDRESS=cluster, RAY_AUTH_TOKEN=os.environ["RAY_AUTH_TOKEN"]),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert joined.returncode == 0, joined.stderr
    assert joined.stderr == ""
    assert not (tmp_path / "joined" / RAY_DIR).exists(), "a cluster keeps its own files"
    # The result depends only on the seed: the same run on this process's Ray agrees.
    here = train(tiny_config(tmp_path / "here", population=2, seed=3)).card
    there = load_model_card(tmp_path / "joined" / "model.zip")
    assert [m.member for m in there.members if m.chosen] == [
        m.member for m in here.members if m.chosen
    ]
    for member in (0, 1):
        ours = load_model_card(member_dir(tmp_path / "here", member) / "model.zip")
        theirs = load_model_card(member_dir(tmp_path / "joined", member) / "model.zip")
        assert _curve(theirs.evaluations) == _curve(ours.evaluations)
    assert _same_weights(tmp_path / "here" / "model.zip", tmp_path / "joined" / "model.zip")

    # Without the cluster's token: one line saying which variable to set.
    environment = _environment(home, RAY_ADDRESS=cluster)
    environment.pop("RAY_AUTH_TOKEN", None)
    environment.pop("RAY_AUTH_MODE", None)
    refused = subprocess.run(
        _simreel("train", *TINY_FLAGS, *budget, "--out-dir", str(tmp_path / "refused")),
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert refused.returncode == 2
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1, refused.stderr
    assert f"--address ({cluster}): the Ray cluster there needs its token" in lines[0]
    assert "RAY_AUTH_TOKEN" in lines[0]


def test_a_ray_client_address_is_refused_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["train", *TINY_FLAGS, "--population=2", "--timesteps=512", "--out-dir", str(tmp_path)]
    code, _, err = run_cli([*args, "--address", "ray://head:10001"], capsys)
    assert code == 2
    assert len(err.strip().splitlines()) == 1, err
    assert "--address (ray://head:10001): Ray Client addresses (ray://) are not supported" in err
    assert "--address auto" in err
