# Licensed under a 3-clause BSD style license - see LICENSE
import json

import pytest
import timm
import torch
from torch import nn

from galzoo_cnn import taxonomy
from galzoo_cnn.models import (
    PAPER_BACKBONES,
    available_models,
    build_model,
    derived_model,
    load_model,
    save_model,
)


@pytest.mark.parametrize("task,hidden,activation,outputs", [
    ("five_class", 128, nn.LeakyReLU, 5),
    ("features", 512, nn.ReLU, 34),
    ("adversarial", 128, nn.LeakyReLU, 2),
])
def test_heads_as_in_the_paper(task, hidden, activation, outputs):
    model = build_model(objective=task, backbone="test_resnet")
    first, act, last = model.head
    assert (first.in_features, first.out_features) == (model.backbone.num_features, hidden)
    assert isinstance(act, activation) and last.out_features == outputs
    assert model.backbone.global_pool.pool_type == "max"
    assert model.card["head"]["pooling"] == "max"
    probabilities = model.eval().predict_proba(torch.randn(3, 3, 100, 100))
    if task == "features":
        assert model.classes == taxonomy.DETAILED_FEATURES
        assert not torch.allclose(probabilities.sum(1), torch.ones(3))  # independent sigmoids
    else:
        assert torch.allclose(probabilities.sum(1), torch.ones(3))


def test_default_backbones():
    from galzoo_cnn.objectives import get_objective

    assert get_objective("five_class").default_backbone == "densenet201"
    assert get_objective("features").default_backbone == "densenet201"
    assert get_objective("adversarial").default_backbone == "resnet101"


@pytest.mark.parametrize("backbone", ["test_resnet", "test_efficientnet", "mobilenetv3_small_100"])
def test_head_is_sized_by_the_backbone_without_a_dummy_forward(backbone):
    """num_features is what the pooled backbone returns, also where a layer follows the pooling."""
    model = build_model(objective="five_class", backbone=backbone).eval()
    with torch.no_grad():
        pooled = model.backbone(torch.zeros(1, 3, 100, 100))
    assert pooled.shape[-1] == model.num_features == model.head[0].in_features


@pytest.mark.parametrize("name", PAPER_BACKBONES)
def test_the_papers_eleven_backbones_are_constructible(name):
    backbone = timm.create_model(name, pretrained=False, num_classes=0, global_pool="max")
    assert backbone.num_features >= 512


def test_densenet201_at_paper_input_size():
    model = build_model(objective="five_class").eval()
    assert model.card["backbone"] == "densenet201"
    assert model(torch.zeros(2, 3, 100, 100)).shape == (2, 5)


def test_save_load_round_trip(tmp_path):
    model = build_model(objective="features", backbone="test_efficientnet").eval()
    card_path = save_model(model, tmp_path / "m", name="m", metrics={"auc": 0.9})
    card = json.loads(card_path.read_text())
    assert card["weights"] == "m.safetensors" and len(card["weights_sha256"]) == 64
    assert card["classes"] == list(taxonomy.DETAILED_FEATURES) and card["metrics"] == {"auc": 0.9}
    # the weights file is a safetensors file: an 8-byte header length, then a JSON header
    raw = (tmp_path / "m.safetensors").read_bytes()
    header = json.loads(raw[8:8 + int.from_bytes(raw[:8], "little")])
    assert "head.0.weight" in header
    loaded = load_model(tmp_path / "m.safetensors")
    x = torch.randn(4, 3, 100, 100)
    assert torch.equal(model(x), loaded(x)) and loaded.classes == model.classes
    assert not loaded.training
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.json", "m.safetensors"]


def test_tampered_or_missing_weights_are_refused(tmp_path):
    save_model(build_model(backbone="test_resnet"), tmp_path / "m")
    weights = tmp_path / "m.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="do not match the SHA-256"):
        load_model(tmp_path / "m")
    weights.unlink()
    with pytest.raises(FileNotFoundError, match="m.safetensors' of model card"):
        load_model(tmp_path / "m.json")


def test_unknown_names():
    with pytest.raises(ValueError, match="no model 'densenet-gz9'"):
        load_model("densenet-gz9")
    with pytest.raises(ValueError, match="unknown timm backbone 'resnet9000'"):
        build_model(backbone="resnet9000")
    with pytest.raises(ValueError, match="unknown objective 'regression'"):
        build_model(objective="regression")
    assert isinstance(available_models(), list)


def test_pretrained_weights_from_a_local_file(tmp_path):
    from safetensors.torch import save_file

    source = timm.create_model("test_resnet", pretrained=False)
    path = tmp_path / "test_resnet.safetensors"
    save_file({k: v.contiguous() for k, v in source.state_dict().items()}, str(path))
    model = build_model(backbone="test_resnet", pretrained=str(path))
    reference = source.state_dict()
    backbone = model.backbone.state_dict()
    assert all(torch.equal(backbone[k], reference[k]) for k in backbone)
    with pytest.raises(FileNotFoundError, match="nothere.safetensors' does not exist"):
        build_model(backbone="test_resnet", pretrained=str(tmp_path / "nothere.safetensors"))


def test_user_model_directories_are_a_registry(tmp_path):
    from galzoo_cnn.config import conf

    save_model(build_model(backbone="test_resnet", classes=["a", "b"]), tmp_path / "my-model")
    assert "my-model" not in available_models()
    with conf.set_temp("model_dirs", [str(tmp_path)]):
        assert available_models()[0] == "sample-gz1" and "my-model" in available_models()
        assert load_model("my-model").classes == ("a", "b")


def test_a_card_that_does_not_match_its_weights_is_named(tmp_path):
    """A card whose classes were edited: a clear error before torch's size mismatch."""
    import json
    import shutil
    from importlib.resources import files
    from pathlib import Path

    from galzoo_cnn.models import load_model as load

    bundled = Path(str(files("galzoo_cnn") / "data" / "models"))
    shutil.copy(bundled / "sample-gz1.safetensors", tmp_path / "edited.safetensors")
    card = json.loads((bundled / "sample-gz1.json").read_text())
    card["classes"] = card["classes"] + ["extra_class"]
    card["weights"] = "edited.safetensors"
    (tmp_path / "edited.json").write_text(json.dumps(card))
    with pytest.raises(ValueError, match=r"does not match its weights .*head\.2\.bias is \(4,\) in the "
                                         r"weights, \(5,\) for the card's mobilenetv3_small_100 with 5"):
        load(tmp_path / "edited.json")


def test_model_cards_are_strict_json():
    import json

    from galzoo_cnn.utils._cards import card_path, model_names

    def refuse(name):
        raise AssertionError(f"{name} in a model card: strict JSON parsers refuse it")

    for name in model_names():
        json.loads(card_path(name).read_text(), parse_constant=refuse)


def test_a_card_update_is_all_or_nothing_and_keeps_the_file_mode(tmp_path):
    """update_card_file, which the measuring scripts write their figures with: a change that fails
    leaves the bundled card's copy as it was and no temporary file; one that succeeds is strict JSON
    and the file keeps the permissions an ordinary write gives it."""
    import json
    import os
    import shutil

    from galzoo_cnn.utils._cards import card_path, update_card_file

    path = tmp_path / "sample-gz2.json"
    shutil.copy(card_path("sample-gz2"), path)
    os.chmod(path, 0o644)
    before = path.read_bytes()

    def failing(card):
        card["metrics"] = None
        raise KeyError("a figure the script could not compute")

    with pytest.raises(KeyError):
        update_card_file(path, failing)
    assert path.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == [path.name]
    assert update_card_file(path, lambda card: card["metrics"].update(auc=float("nan"))) == path
    card = json.loads(path.read_text())
    assert card["metrics"]["auc"] is None and card["classes"] == json.loads(before)["classes"]
    mask = os.umask(0)
    os.umask(mask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~mask


def test_head_width_is_recorded_and_rebuilt_from_the_card(tmp_path):
    """head_hidden=0 makes the head one dense layer (a linear model of the pooled features); the card
    records the width, and loading rebuilds the same head with the same outputs."""
    from galzoo_cnn.exceptions import InputError
    from galzoo_cnn.training import TrainConfig

    model = build_model(objective="features", backbone="test_resnet", head_hidden=0).eval()
    assert [type(layer) for layer in model.head] == [nn.Linear]
    assert model.head[0].in_features == model.num_features and model.card["head"]["hidden"] == 0
    save_model(model, tmp_path / "linear")
    again = load_model(tmp_path / "linear.json")
    images = torch.rand(2, 3, 100, 100)
    torch.testing.assert_close(again.predict_proba(images), model.predict_proba(images))
    assert build_model(objective="features", backbone="test_resnet").head[0].out_features == 512
    with pytest.raises(InputError, match="head_hidden=-1"):
        TrainConfig(table="t.ecsv", output="o", objective="features", head_hidden=-1).resolved()


def test_a_derived_model_is_the_bundled_dihedral_model_made_again(tmp_path):
    """derived_model: sample-gz2-robust's weights read through the eight views are sample-gz2-dihedral's
    network (tools/pool_views.py); the source's file, hash and removed entries are not carried over,
    and saving gives the derived model a weights file of its own."""
    robust, dihedral = load_model("sample-gz2-robust"), load_model("sample-gz2-dihedral")
    pooled = derived_model(robust, head=dict(robust.card["head"], view_pooling="dihedral"), calibration=None,
                           name="pooled")
    assert "weights" not in pooled.card and "weights_sha256" not in pooled.card
    assert "calibration" in robust.card and "calibration" not in pooled.card
    assert pooled.card["name"] == "pooled" and robust.card["name"] == "sample-gz2-robust"
    assert not pooled.training and pooled.view_pooling == "dihedral"
    images = torch.rand(3, 3, 100, 100)
    with torch.no_grad():
        torch.testing.assert_close(pooled(images), dihedral(images))
        assert not torch.allclose(pooled(images), robust(images))
    saved = load_model(save_model(pooled, tmp_path / "pooled"))  # its own file, of the same weights
    assert saved.card["weights"] == "pooled.safetensors" and saved.view_pooling == "dihedral"
    assert saved.card.weights_sha256 == robust.card.weights_sha256
