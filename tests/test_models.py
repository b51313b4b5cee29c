"""The committed model and the checks that guard every model: card, digest, fit, zip."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from gymnasium import spaces

from domains.cashier.simulation import CashierDomain
from domains.env import MultiActorEnv
from domains.factory.simulation import FactoryDomain, make_factory_env
from domains.registry import domain_factory
from schemas.errors import ModelError
from schemas.provenance import sha256_file
from stages.train import model_card
from stages.train.config import TrainConfig
from stages.train.model_card import DEFAULT_MODEL, card_path, load_model_card
from stages.train.model_format import main as upgrade_main
from stages.train.model_format import upgrade_card
from stages.train.model_policy import ModelPolicy, check_model_fits, load_policy
from tests.train_helpers import format_3_factory_model

REPO_ROOT = Path(__file__).resolve().parent.parent


def _play(env: MultiActorEnv, policy: ModelPolicy) -> float:
    observation, _ = env.reset(seed=0)
    done, info = False, dict[str, Any]()
    while not done:
        observation, _, done, _, info = env.step(policy.act(observation, env.action_masks()))
    return float(info["kpis"]["finished_items"])


def test_default_model_is_found_from_the_package_not_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert DEFAULT_MODEL == REPO_ROOT / "data" / "models" / "factory" / "model.zip"
    assert DEFAULT_MODEL.is_absolute()


def test_committed_model_finishes_28_items_deterministically() -> None:
    env = make_factory_env()
    policy = load_policy(DEFAULT_MODEL, env)
    card = policy.card
    assert card.complete
    assert card.domain_id == "factory"
    assert (card.select_by, card.best_score) == ("finished_items", 28.0)
    # made by a bare `simreel train` (SB3 finishes the last rollout, so a learner may pass
    # the budget by less than one rollout). The card predates validation seeds: it evaluated
    # on the run's seed, the same episode in the deterministic factory.
    made_by = TrainConfig.from_json(card.config, card_path(DEFAULT_MODEL))
    bare = TrainConfig.for_domain("factory")
    assert made_by.eval_seed == card.seed != bare.eval_seed
    assert replace(made_by, progress=True, eval_seed=0) == replace(bare, eval_seed=0)
    rollout = card.config["n_steps"] * card.config["n_envs"]
    assert card.config["timesteps"] <= card.timesteps < card.config["timesteps"] + rollout
    assert len(card.members) == card.config["population"] > 1
    (chosen,) = [member for member in card.members if member.chosen]
    assert (chosen.best_score, chosen.best_timestep) == (28.0, card.best_timestep)
    assert _play(env, policy) == 28.0
    assert _play(env, policy) == 28.0, "the same model must replay the same episode"
    described = policy.describe()
    assert described["kind"] == "model"
    assert described["sha256"] == sha256_file(DEFAULT_MODEL)
    assert described["card"]["best_score"] == 28.0


@pytest.fixture
def model_copy(tmp_path: Path) -> Path:
    """The committed model and its card, copied where a test may spoil them."""
    shutil.copy(DEFAULT_MODEL, tmp_path / "model.zip")
    shutil.copy(DEFAULT_MODEL.with_suffix(".json"), tmp_path / "model.json")
    return tmp_path / "model.zip"


def _edit_card(model: Path, **changes: Any) -> None:
    path = model.with_suffix(".json")
    card = json.loads(path.read_text())
    for name, value in changes.items():
        if value is _DELETE:
            del card[name]
        else:
            card[name] = value
    path.write_text(json.dumps(card))


_DELETE = object()
_MEMBER = {
    "member": 0,
    "seed": 0,
    "timesteps": 10,
    "best_score": 1.0,
    "best_timestep": 5,
    "best_wall_seconds": 1.0,
    "chosen": True,
}


def test_missing_model_file(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match=r"missing\.zip: model file not found; train one"):
        load_policy(tmp_path / "missing.zip", make_factory_env())


def test_a_missing_default_model_gives_commands_that_make_and_play_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # In a user's folder, for a domain variant with no shipped model: record looks where a
    # bare `simreel train` writes, in the working folder.
    monkeypatch.setattr(CashierDomain, "shipped_models", tmp_path / "shipped")  # empty
    monkeypatch.chdir(tmp_path)
    options = {"dispatcher": "automatic"}
    env = MultiActorEnv(domain_factory(CashierDomain, options))
    default = model_card.default_model("cashier", options)
    trained = TrainConfig.for_domain("cashier", options).output_dir() / "model.zip"
    assert default == trained == Path("data/models/cashier-automatic-seed0/model.zip")
    flags = "--domain cashier --option dispatcher=automatic"
    with pytest.raises(ModelError) as missing:
        load_policy(default, env, options)
    assert f"train one with `simreel train {flags}` (it writes {trained}, which " in str(
        missing.value
    )
    # Any other missing model: how to train one, play it, or train into that folder.
    elsewhere = tmp_path / "elsewhere" / "model.zip"
    with pytest.raises(ModelError) as missing:
        load_policy(elsewhere, env, options)
    message = str(missing.value)
    assert f"train one with `simreel train {flags}` (it writes {trained})" in message
    assert f"`simreel record {flags} --model {trained}`" in message
    assert f"`simreel train {flags} --out-dir elsewhere`" in message


def test_shipped_models_are_found_from_the_package_not_the_working_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert model_card.default_model("factory") == DEFAULT_MODEL
    assert model_card.default_model("factory").is_absolute()
    for dispatcher in ("controlled", "automatic"):
        shipped = model_card.default_model("cashier", {"dispatcher": dispatcher})
        assert shipped == REPO_ROOT / "data" / "models" / "cashier" / dispatcher / "model.zip"
        assert shipped.is_file()


def test_missing_card(model_copy: Path) -> None:
    model_copy.with_suffix(".json").unlink()
    with pytest.raises(ModelError, match=r"model\.json: model card not found .*simreel train"):
        load_model_card(model_copy)


def test_card_that_is_not_json(model_copy: Path) -> None:
    model_copy.with_suffix(".json").write_text("{not json")
    with pytest.raises(ModelError, match=r"model\.json: the model card is not JSON \(.* line 1\)"):
        load_model_card(model_copy)


def test_card_missing_a_field(model_copy: Path) -> None:
    _edit_card(model_copy, model_sha256=_DELETE)
    with pytest.raises(ModelError, match=r"field 'model_sha256' is missing; retrain"):
        load_model_card(model_copy)


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("timesteps", "many", r"field 'timesteps' must be an integer, found 'many' \(str\)"),
        ("complete", 1, r"field 'complete' must be true or false, found 1 \(int\)"),
        ("observation_shape", [26.5], r"field 'observation_shape' must be a list of integers"),
        ("library_versions", {"torch": 2}, r"field 'library_versions' must be an object of str"),
        (
            "evaluations",
            [{"timestep": 0}],
            r"field 'evaluations' must be a list of \{episodes, kpis",
        ),
        ("card_format", 99, r"field 'card_format' is 99, this simreel reads formats 1 to 6"),
        ("network", {"policy": "MlpPolicy"}, r"field 'network' must be an object with activation"),
        ("members", [{"member": 0}], r"field 'members' must be a list of \{best_score"),
        (
            "members",
            [{**_MEMBER, "chosen": "yes"}],
            r"field 'members\.chosen' must be true or false, found 'yes'",
        ),
    ],
)
def test_card_with_a_mistyped_field(
    model_copy: Path, field: str, value: Any, expected: str
) -> None:
    _edit_card(model_copy, **{field: value})
    with pytest.raises(ModelError, match=expected):
        load_model_card(model_copy)


def test_card_of_format_1_still_reads_as_one_learner(model_copy: Path) -> None:
    """Cards written before population runs existed have no 'members' field."""
    _edit_card(model_copy, card_format=1, members=_DELETE)
    card = load_model_card(model_copy)
    assert (card.card_format, card.members) == (1, ())
    assert card.best_score == 28.0


def test_card_of_format_2_still_reads_as_made_with_no_domain_options(model_copy: Path) -> None:
    """Cards written before domain options existed (the factory has none) have no field."""
    _edit_card(model_copy, card_format=2, domain_options=_DELETE)
    card = load_model_card(model_copy)
    assert (card.card_format, card.domain_options) == (2, {})
    check_model_fits(card, make_factory_env(), {})


def test_a_current_card_must_say_its_domain_options(model_copy: Path) -> None:
    _edit_card(model_copy, domain_options=_DELETE)
    with pytest.raises(ModelError, match=r"field 'domain_options' is missing; retrain"):
        load_model_card(model_copy)


def test_model_of_another_domain_version_does_not_fit(model_copy: Path) -> None:
    _edit_card(model_copy, domain_version=FactoryDomain.domain_version + 1)
    card = load_model_card(model_copy)
    with pytest.raises(ModelError, match=r"trained for factory version 1, the env's is 0; retrain"):
        check_model_fits(card, make_factory_env())


def test_model_of_another_layout_does_not_fit(model_copy: Path) -> None:
    _edit_card(model_copy, domain_id="warehouse", observation_shape=[3], action_count=4)
    card = load_model_card(model_copy)
    with pytest.raises(ModelError) as error:
        check_model_fits(card, make_factory_env())
    message = str(error.value)
    assert "domain 'warehouse', the env's is 'factory'" in message
    assert "observation shape (3,), the env's is" in message
    assert "4 actions, the env has 10" in message


def test_observation_change_is_caught_by_the_fit_check(model_copy: Path) -> None:
    class Wider(FactoryDomain):
        observation_space = spaces.Box(
            0.0, 1.0, shape=(FactoryDomain.observation_space.shape[0] + 1,), dtype=np.float32
        )

    with pytest.raises(ModelError, match=r"observation shape \(\d+,\), the env's is"):
        load_policy(model_copy, MultiActorEnv(Wider))


def test_changed_zip_is_refused_by_its_digest(model_copy: Path) -> None:
    with model_copy.open("ab") as handle:
        handle.write(b"tampered")
    with pytest.raises(ModelError, match=r"sha256 is [0-9a-f]{64}, its card model\.json says"):
        load_policy(model_copy, make_factory_env())


def test_corrupt_zip_is_a_model_error(model_copy: Path) -> None:
    model_copy.write_bytes(b"PK\x03\x04 this is not really a zip")
    _edit_card(model_copy, model_sha256=sha256_file(model_copy))
    with pytest.raises(ModelError, match=r"model\.zip: not a zip archive; expected an SB3"):
        load_policy(model_copy, make_factory_env())


@pytest.mark.parametrize(
    "card", ["factory/model.json", "cashier/controlled/model.json", "cashier/automatic/model.json"]
)
def test_the_committed_cards_are_in_the_current_format(card: str) -> None:
    # Only the kept models are committed (a population's member folders are not).
    path = REPO_ROOT / "data" / "models" / card
    assert json.loads(path.read_text())["card_format"] == model_card.CARD_FORMAT
    loaded = load_model_card(path.with_suffix(".zip"))
    assert loaded.network == model_card.mlp_network((64, 64))
    assert loaded.model_sha256 == sha256_file(path.with_suffix(".zip"))


def test_a_card_before_format_6_plays_with_the_network_simreel_trained(tmp_path: Path) -> None:
    old = format_3_factory_model(tmp_path)
    card = load_model_card(old)
    assert (card.card_format, card.network) == (3, model_card.mlp_network((64, 64)))
    policy = load_policy(old, make_factory_env())
    assert (
        policy.network.digest() == load_policy(DEFAULT_MODEL, make_factory_env()).network.digest()
    )
    assert _play(make_factory_env(), policy) == 28.0


def test_upgrading_a_card_adds_its_network_and_keeps_the_rest(tmp_path: Path) -> None:
    old = format_3_factory_model(tmp_path)
    before = load_model_card(old)
    assert upgrade_card(old) is True
    after = load_model_card(old)
    assert after == replace(before, card_format=model_card.CARD_FORMAT)
    assert json.loads(old.with_suffix(".json").read_text())["network"] == {
        "policy": "MaskableActorCriticPolicy",
        "net_arch": [64, 64],
        "activation": "tanh",
    }
    assert after.model_sha256 == sha256_file(old)
    # The committed card is exactly the upgrade of its format-3 card.
    assert old.with_suffix(".json").read_bytes() == DEFAULT_MODEL.with_suffix(".json").read_bytes()
    assert upgrade_card(old) is False, "a current card is left as it is"


def test_upgrading_refuses_a_card_whose_zip_does_not_belong_to_it(tmp_path: Path) -> None:
    old = format_3_factory_model(tmp_path)
    with old.open("ab") as handle:
        handle.write(b"changed")
    before = old.with_suffix(".json").read_bytes()
    with pytest.raises(ModelError, match=r"sha256 differs from its card's; restore the zip"):
        upgrade_card(old)
    assert old.with_suffix(".json").read_bytes() == before


def test_the_upgrade_command_prints_one_line_per_model(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = format_3_factory_model(tmp_path)
    assert upgrade_main([str(old), str(old)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [
        f"{old.with_suffix('.json')}: upgraded to card format 6",
        f"{old.with_suffix('.json')}: already in card format 6",
    ]
    assert upgrade_main([str(tmp_path / "missing.zip")]) == 2
    assert capsys.readouterr().err.startswith("error: ")


@pytest.mark.parametrize(
    ("network", "expected"),
    [
        ({"policy": "CnnPolicy"}, r"field 'network\.policy' is 'CnnPolicy'; simreel plays only"),
        ({"activation": "gelu"}, r"field 'network\.activation' is 'gelu', expected one of tanh"),
        ({"net_arch": [32]}, r"member policy\.pth is not the state dict of a .* \[32\]"),
        ({"net_arch": [0]}, r"field 'network\.net_arch' is \[0\], expected at most 64 positive"),
    ],
)
def test_a_network_the_card_misdescribes_is_refused(
    model_copy: Path, network: dict[str, Any], expected: str
) -> None:
    card = json.loads(model_copy.with_suffix(".json").read_text())
    _edit_card(model_copy, network={**card["network"], **network})
    with pytest.raises(ModelError, match=expected):
        load_policy(model_copy, make_factory_env())


@pytest.mark.parametrize("dispatcher", ["controlled", "automatic"])
def test_the_committed_cashier_models_are_what_make_train_makes(dispatcher: str) -> None:
    options = {"dispatcher": dispatcher}
    path = model_card.default_model("cashier", options)
    card = load_model_card(path)
    assert card.complete
    assert (card.domain_id, card.domain_options) == ("cashier", options)
    assert card.select_by == "reward"
    # `make train ARGS="--domain cashier [--option ...]"` runs exactly this configuration
    # (only the output folder differs), so it makes the same weights again.
    made_by = TrainConfig.from_json(card.config, card_path(path))
    bare = TrainConfig.for_domain("cashier", options)
    assert replace(made_by, out_dir=None, progress=True) == bare
    assert len(card.members) == bare.population >= 3
    assert all(e.episodes == bare.eval_episodes for e in card.evaluations)
    best = [e for e in card.evaluations if e.timestep == card.best_timestep]
    assert best[0].score == card.best_score == max(e.score for e in card.evaluations)
    # The cashier's README quotes the weights' digest to compare a model made again with.
    env = MultiActorEnv(domain_factory(CashierDomain, options))
    digest = load_policy(path, env, options).network.digest()
    readme = (REPO_ROOT / "domains" / "cashier" / "README.md").read_text()
    assert f"`{digest[:16]}` {dispatcher}" in readme
