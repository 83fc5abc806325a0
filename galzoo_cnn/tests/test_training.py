# Licensed under a 3-clause BSD style license - see LICENSE
import dataclasses
import json
import os
import subprocess
import sys

import lightning as L
import numpy as np
import pytest
import torch
from astropy.table import Table
from PIL import Image
from safetensors.torch import load_file

from galzoo_cnn.exceptions import GalzooDeprecationWarning, InputError, MissingColumnsError
from galzoo_cnn.models import build_model, load_model
from galzoo_cnn.training import LitClassifier, SeededSampler, TrainConfig, split_table, train
from galzoo_cnn.utils._lightning import usable_cores

CLASS_MAP = {"spiral_clockwise": "spiral", "spiral_anticlockwise": "spiral", "dont_know": None}

#: DDP on CPU starts one process a device: refused (conf.max_cpu_processes) with fewer usable cores.
TWO_CORES = pytest.mark.skipif(usable_cores() < 2, reason="DDP with two CPU processes needs two usable cores")


@pytest.fixture
def config(gz1_images, tmp_path):
    labels, directory = gz1_images
    return TrainConfig(table=str(directory / "labels.csv"), image_dir=str(directory),
                       output=str(tmp_path / "run"), name="tiny", backbone="test_resnet",
                       label_column="gz1_class", classes=["elliptical", "spiral", "edge_on", "merger"],
                       class_map=CLASS_MAP, test_fraction=0.25, val_fraction=0.34, epochs=2,
                       batch_size=4, seed=7)


def test_train_on_real_images(config, capfd):
    model, card_path = train(config, progress=False)
    said = "".join(capfd.readouterr())  # Lightning's hardware banner, but not its tips or deprecations
    assert "GPU available" in said and "Tip" not in said and "LeafSpec" not in said, said
    assert "logging interval" not in said  # Lightning's cadence note on a table of 2 batches an epoch
    card = json.loads(card_path.read_text())
    assert card["classes"] == ["elliptical", "spiral", "edge_on", "merger"]
    assert card["training"]["rows"] == {"train": 7, "val": 4, "test": 4}  # 15 rows, dont_know dropped
    test = card["metrics"]["test"]
    assert test["n_test"] == 4 and np.sum(test["confusion_matrix"]) == 4
    assert 0 <= test["accuracy"] <= 1 and set(test["recall"]) == set(card["classes"])
    assert card["config"]["lr"] == 1e-4 and card["config"]["patience"] == 4  # the paper's defaults
    split = Table.read(os.path.join(config.output, "split.ecsv"))
    assert set(split["gz1_class"]) == {"elliptical", "spiral", "edge_on", "merger"}
    loaded = load_model(card_path)
    x = torch.randn(2, 3, 100, 100)
    assert torch.allclose(loaded(x), model(x))


class Crash(L.pytorch.Callback):
    """Kills the run in the middle of an epoch."""

    def __init__(self, epoch, batch):
        self.epoch, self.batch = epoch, batch

    def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx):
        if trainer.current_epoch == self.epoch and batch_idx == self.batch:
            raise RuntimeError("simulated crash")


def test_resume_after_crash_gives_the_same_model(config, tmp_path):
    config = dataclasses.replace(config, epochs=3, test_fraction=0.0)
    _, clean = train(dataclasses.replace(config, output=str(tmp_path / "clean")), progress=False)
    crashed = dataclasses.replace(config, output=str(tmp_path / "crashed"))
    with pytest.raises(RuntimeError, match="simulated crash"):
        train(crashed, callbacks=[Crash(epoch=1, batch=1)], progress=False)
    assert (tmp_path / "crashed" / "checkpoints" / "last.ckpt").exists()
    assert not (tmp_path / "crashed" / "tiny.json").exists()
    _, resumed = train(crashed, progress=False)
    a, b = load_file(clean.with_suffix(".safetensors")), load_file(resumed.with_suffix(".safetensors"))
    assert a.keys() == b.keys()
    assert all(torch.allclose(a[k], b[k], atol=1e-6) for k in a)


def test_sampler_is_a_function_of_seed_and_epoch():
    sampler = SeededSampler(10, seed=3)
    first = list(sampler)
    assert sorted(i for _, i in first) == list(range(10))
    assert list(sampler) == first
    sampler.set_epoch(1)
    assert list(sampler) != first


def test_multilabel_loss_ignores_unknown_labels():
    lit = LitClassifier(build_model(objective="features", backbone="test_resnet"), lr=1e-4)
    logits = torch.randn(4, 34)
    targets = torch.randint(0, 2, (4, 34)).float()
    targets[0, :10] = float("nan")
    loss = lit._loss(logits, targets)
    changed = logits.clone()
    changed[0, :10] += 100.0  # wildly different predictions where the label is unknown
    assert torch.isfinite(loss) and torch.equal(loss, lit._loss(changed, targets))
    assert lit._loss(logits, torch.full((4, 34), float("nan"))) == 0


def test_split_is_stratified_and_seeded():
    table = Table({"label": ["a"] * 80 + ["b"] * 20})
    one, two = split_table(table, label_column="label", seed=1), split_table(table, label_column="label",
                                                                             seed=1)
    assert list(one["split"]) == list(two["split"])
    test = one[one["split"] == "test"]
    assert len(test) == 20 and (test["label"] == "b").sum() == 4
    # a class too rare to split is named, instead of scikit-learn's error about "groups"
    with pytest.raises(InputError, match=r"column 'label': .* the table's rows hold \{'c': 1\}"):
        split_table(Table({"label": ["a"] * 80 + ["c"]}), label_column="label")
    rare = Table({"label": ["a"] * 20 + ["c"] * 2})   # a "c" drawn for the test set leaves one
    with pytest.raises(InputError, match=r"the rows left for training and validation hold \{'c': 1\}"):
        split_table(rare, label_column="label", test_fraction=0.5)
    assert (split_table(rare, label_column="label", test_fraction=0)["split"] == "val").sum() == 6
    # each part must hold a row of every class: 8 rows of 4 classes split 6 / 2 cannot
    with pytest.raises(InputError, match=r"8 rows of 4 classes, split 6 / 2: a stratified split needs"):
        split_table(Table({"label": list("aabbccdd")}), label_column="label", test_fraction=0.25)


def test_a_split_that_cannot_be_drawn_is_refused_before_any_image_is_read(config, count_image_opens):
    """15 real rows of 4 classes cannot give a 3-row test part a row of every class: said before the
    images are packed (seconds on a large table), not after."""
    opened = count_image_opens()
    hopeless = dataclasses.replace(config, test_fraction=0.2, val_fraction=0.25, pack_images=True)
    with pytest.raises(InputError, match=r"15 rows of 4 classes, split 12 / 3"):
        train(hopeless, progress=False)
    assert opened == [] and not os.path.exists(os.path.join(config.output, "images.npy"))


def test_bad_configuration(tmp_path, config):
    path = tmp_path / "bad.yaml"
    path.write_text("objective: five_class\nlearning_rate: 0.1\n")
    with pytest.raises(ValueError, match="unknown configuration keys \\['learning_rate'\\]$"):
        TrainConfig.from_file(path)
    path.write_text("epoch: 3\nlearning_rate: 0.1\n")  # a near miss is named
    with pytest.raises(ValueError, match=r"\['epoch', 'learning_rate'\] \('epoch': did you mean "
                                         r"'epochs'\?\)"):
        TrainConfig.from_file(path)
    path.write_text("task: features\n")  # the name before 0.1
    with pytest.warns(GalzooDeprecationWarning, match="'task' is now 'objective'"):
        assert TrainConfig.from_file(path).objective == "features"
    with pytest.raises(ValueError, match="needs table and output"):
        TrainConfig().resolved()
    bad_label = dataclasses.replace(config, class_map=None)
    with pytest.raises(ValueError, match="label 'spiral_clockwise' in column 'gz1_class' is not one"):
        train(bad_label, progress=False)


@TWO_CORES
def test_ddp_on_cpu_with_two_processes(config, tmp_path):
    """The CLI under Lightning's DDP with two CPU processes (gloo)."""
    import yaml

    output = tmp_path / "ddp"
    config_file = tmp_path / "tiny.yaml"
    config_file.write_text(yaml.safe_dump(dataclasses.asdict(config)))
    command = [sys.executable, "-m", "galzoo_cnn.cli", "train", "--config", str(config_file),
               "--output", str(output), "--epochs", "1", "--batch-size", "2",
               "--accelerator", "cpu", "--devices", "2", "--strategy", "ddp", "--no-progress"]
    env = dict(os.environ, HF_HUB_OFFLINE="1", OMP_NUM_THREADS="1")
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "distributed_backend=gloo" in result.stderr + result.stdout
    assert "All distributed processes registered. Starting with 2 processes" in result.stderr + result.stdout
    card = json.loads((output / "tiny.json").read_text())
    assert card["config"]["devices"] == 2 and card["metrics"]["test"]["n_test"] > 0


def test_multilabel_class_weights_weigh_each_feature_s_positives_and_negatives():
    """class_weights for a multi-label objective: per feature, its known negatives and positives
    weighted by the rule; the loss is then the weighted binary cross-entropy over known labels."""
    from galzoo_cnn.training import class_weights

    model = build_model(objective="features", backbone="test_resnet", classes=["ring", "merger", "smooth"])
    nan = float("nan")
    targets = np.array([[1, 0, nan], [0, 0, 1], [0, nan, 1], [0, 0, nan]], dtype=np.float32)
    counts = model.objective.label_counts(targets, 3)
    assert counts.tolist() == [[3, 1], [3, 0], [0, 2]]  # [negatives, positives] among known labels
    weights = class_weights(counts, "inverse")
    assert np.allclose(weights, [[4 / 6, 2.0], [1, 1], [1, 1]])  # merger and smooth: nothing to balance
    lit = LitClassifier(model, lr=1e-4, class_weights=weights)
    logits = torch.tensor([[2.0, -1.0, 0.5], [-0.5, 0.3, 1.0], [0.1, 9.0, -2.0], [1.5, -0.2, 7.0]])
    known = ~np.isnan(targets)
    p = 1 / (1 + np.exp(-logits.numpy()))
    y = np.nan_to_num(targets)
    bce = -(y * np.log(p) + (1 - y) * np.log(1 - p))
    w = np.where(y >= 0.5, weights[:, 1], weights[:, 0])
    expected = (w * bce)[known].sum() / known.sum()
    lit.train()
    assert float(lit._loss(logits, torch.from_numpy(targets))) == pytest.approx(expected, rel=1e-5)
    lit.eval()  # the validation loss stays unweighted
    assert float(lit._loss(logits, torch.from_numpy(targets))) == pytest.approx(bce[known].mean(), rel=1e-5)


def test_multilabel_training_on_real_gz2_images(real_data, tmp_path):
    from galzoo_cnn.labels import feature_labels

    labelled = feature_labels(real_data / "gz2_hart16_sdss" / "gz2_hart16.csv")
    labelled.write(tmp_path / "features.ecsv")
    config = TrainConfig(objective="features", table=str(tmp_path / "features.ecsv"),
                         image_dir=str(real_data / "gz2_hart16_sdss" / "images"), output=str(tmp_path / "f"),
                         backbone="test_resnet", epochs=1, batch_size=16, test_fraction=0.3, seed=1,
                         class_weights="inverse_sqrt")
    model, card_path = train(config, progress=False)
    card = json.loads(card_path.read_text())
    assert card["config"]["label_column"] is None
    weights = card["training"]["class_weights"]["weights"]  # [negative, positive] per feature
    split = Table.read(tmp_path / "f" / "split.ecsv")
    for feature in ("smooth", "features_or_disk", "bar", "edge_on_yes"):
        labels = np.ma.asarray(labelled["label_" + feature])[np.asarray(split["split"]) == "train"]
        negative, positive = (labels == 0).sum(), (labels == 1).sum()  # masked labels count in neither
        if positive == 0:  # no edge-on disk among the training rows: nothing to balance
            assert weights[feature] == [1.0, 1.0]
        else:
            assert weights[feature][1] / weights[feature][0] == pytest.approx((negative / positive) ** 0.5)
    assert sum(w == [1.0, 1.0] for w in weights.values()) < len(weights)
    assert model.classes[:3] == ("smooth", "features_or_disk", "star_or_artifact")
    assert len(model.classes) == 34
    auc = card["metrics"]["test"]["roc_auc"]
    # AUC needs both classes among the known labels of the 30 test galaxies
    assert "smooth" in auc and all(0 <= v <= 1 for v in auc.values())
    assert "arms_4" not in auc or 0 <= auc["arms_4"] <= 1


def test_multilabel_training_on_vote_fractions(real_data, tmp_path):
    """Soft labels (feature_fractions) end to end: the class weights count a fraction from 0.5 as a positive
    and the card's test AUCs are those of the yes / no labels (feature_labels) of the same test rows."""
    from galzoo_cnn.classify import classify_table
    from galzoo_cnn.labels import feature_fractions, feature_labels
    from galzoo_cnn.utils._metrics import feature_auc

    features = ["smooth", "features_or_disk", "edge_on_yes", "bar"]
    path = real_data / "gz2_hart16_sdss" / "gz2_hart16.csv"
    labelled = feature_labels(feature_fractions(path, features=features), features=features)
    labelled.write(tmp_path / "features.ecsv")
    config = TrainConfig(objective="features", table=str(tmp_path / "features.ecsv"),
                         image_dir=str(real_data / "gz2_hart16_sdss" / "images"), output=str(tmp_path / "f"),
                         backbone="test_resnet", epochs=1, batch_size=16, test_fraction=0.3, seed=1,
                         classes=features, label_columns=[f"fraction_{f}" for f in features],
                         class_weights="inverse")
    model, card_path = train(config, progress=False)
    card = json.loads(card_path.read_text())
    split = np.asarray(Table.read(tmp_path / "f" / "split.ecsv")["split"])
    weights = card["training"]["class_weights"]["weights"]
    labels = np.ma.asarray(labelled["label_smooth"])[split == "train"]
    negative, positive = (labels == 0).sum(), (labels == 1).sum()
    assert weights["smooth"][1] / weights["smooth"][0] == pytest.approx(negative / positive)
    images = real_data / "gz2_hart16_sdss" / "images"
    out = classify_table(labelled[split == "test"], model=model, image_dir=images, progress=False, tta=False)
    for feature, auc in card["metrics"]["test"]["roc_auc"].items():
        assert auc == pytest.approx(feature_auc(out[f"label_{feature}"], out[f"prob_feature_{feature}"]),
                                    abs=1e-6), feature
    assert {"smooth", "features_or_disk"} <= set(card["metrics"]["test"]["roc_auc"])


def test_head_on_a_frozen_view_pooled_backbone(real_data, tmp_path):
    """sample-gz2-features' options: the backbone of a saved model kept exactly (weights and batch-norm
    statistics), only the head trained, on features averaged over the dihedral views."""
    from galzoo_cnn.labels import feature_labels
    from galzoo_cnn.models import save_model

    source = build_model(objective="five_class", backbone="test_resnet")
    with torch.no_grad():  # batch-norm statistics unlike a fresh layer's, to see that they stay
        for module in source.backbone.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.uniform_(-0.1, 0.1)
                module.running_var.uniform_(0.5, 1.5)
    save_model(source, tmp_path / "source")
    labelled = feature_labels(real_data / "gz2_hart16_sdss" / "gz2_hart16.csv",
                              features=["smooth", "edge_on_yes"])
    labelled.write(tmp_path / "features.ecsv")
    config = TrainConfig(objective="features", table=str(tmp_path / "features.ecsv"),
                         image_dir=str(real_data / "gz2_hart16_sdss" / "images"), output=str(tmp_path / "f"),
                         backbone="test_resnet", init_from=str(tmp_path / "source.json"),
                         freeze_backbone=True, view_pooling="dihedral", classes=["smooth", "edge_on_yes"],
                         label_columns=["label_smooth", "label_edge_on_yes"], epochs=2, batch_size=16,
                         test_fraction=0.3, seed=1, lr=0.01)
    model, card_path = train(config, progress=False)
    before = {k: v for k, v in source.state_dict().items() if k.startswith("backbone.")}
    after = load_model(card_path).state_dict()
    assert [k for k, v in before.items() if not torch.equal(after[k], v)] == []
    card = json.loads(card_path.read_text())
    assert card["head"]["view_pooling"] == "dihedral" and card["config"]["freeze_backbone"] is True
    images = torch.randn(2, 3, 100, 100)
    turned = torch.flip(torch.rot90(images, 1, dims=(2, 3)), dims=(3,))
    torch.testing.assert_close(model.predict_proba(images), model.predict_proba(turned), atol=1e-5, rtol=0)
    with pytest.raises(InputError, match="freeze_backbone: true needs init_from"):
        train(dataclasses.replace(config, init_from=None, output=str(tmp_path / "g")), progress=False)
    with pytest.raises(InputError, match="view_pooling='mean'"):
        train(dataclasses.replace(config, view_pooling="mean", output=str(tmp_path / "h")), progress=False)


def test_scale_robust_training_options_on_real_kaggle_gz2_images(real_data, tmp_path):
    """sample-gz2's options: 150-px decoding, random framing, class weights, cosine schedule."""
    from galzoo_cnn.classify import classify_table

    directory = real_data / "gz2_kaggle_5class"
    labels = Table.read(directory / "labels.csv")
    rows = np.concatenate([np.flatnonzero(labels["gz2_five_class"] == c)[:12] for c in
                           ("completely_round", "rounded_in_between", "cigar_shaped", "edge_on", "spiral")])
    labels[rows].write(tmp_path / "labels.ecsv")
    config = TrainConfig(table=str(tmp_path / "labels.ecsv"), image_dir=str(directory / "images"),
                         output=str(tmp_path / "run"), name="scaled", backbone="test_resnet",
                         label_column="gz2_five_class", test_fraction=0.25, val_fraction=0.2, epochs=3,
                         lr=0.01, scheduler="cosine", batch_size=8, pack_images=True, decode_size=150,
                         frame_fraction=[0.45, 1.0], class_weights="inverse_sqrt", seed=3,
                         pixel_scale={"unit": "R90", "per_pixel": 0.06, "trained_range": [0.027, 0.12]})
    model, card_path = train(config, progress=False)
    card = json.loads(card_path.read_text())
    assert np.load(tmp_path / "run" / "images.npy", mmap_mode="r").shape == (60, 150, 150, 3)
    assert card["input"]["pixel_scale"]["unit"] == "R90" and card["input"]["size"] == 100
    assert card["training"]["augmentation"]["frame_fraction"] == [0.45, 1.0]
    weights = card["training"]["class_weights"]
    assert weights["rule"] == "inverse_sqrt" and len(weights["weights"]) == 5
    logged = Table.read(tmp_path / "run" / "logs" / "version_0" / "metrics.csv", format="ascii.csv")
    assert "lr-Adam" not in logged.colnames  # no LR monitor; the schedule is checked below
    lit_lr = [group["lr"] for group in torch.load(tmp_path / "run" / "checkpoints" / "last.ckpt",
                                                  weights_only=True)["optimizer_states"][0]["param_groups"]]
    assert lit_lr[0] == pytest.approx(0.0, abs=1e-12)  # cosine: zero after epochs = T_max steps
    # the card's test metrics are those of classify_table on the same held-out rows, read from the files
    split = Table.read(tmp_path / "run" / "split.ecsv")
    test_rows = split[split["split"] == "test"]
    out = classify_table(test_rows, model=model, image_dir=directory / "images", progress=False)
    accuracy = np.mean(out["predicted_class"] == test_rows["gz2_five_class"])
    assert accuracy == pytest.approx(card["metrics"]["test"]["accuracy"], abs=1.01 / len(test_rows))
    # the temperature was fitted on the validation rows (through classify_table here: the same number)
    from galzoo_cnn.calibration import calibration_error
    from galzoo_cnn.evaluation import calibrate_model

    calibration = card["calibration"]
    val_rows = split[split["split"] == "val"]
    assert calibration["n"] == len(val_rows) and "validation split" in calibration["fitted_on"]
    again = calibrate_model(load_model(card_path), val_rows, image_dir=directory / "images", progress=False)
    assert again["temperature"] == pytest.approx(calibration["temperature"], rel=1e-3)
    assert calibration["ece_after"] <= calibration["ece_before"]
    # and the balanced decision's factors on the calibrated validation probabilities (every class has rows)
    decision = card["decision"]
    assert decision["n"] == len(val_rows) and set(decision["weights"]) == set(model.classes)
    assert decision["balanced_accuracy_after"] >= decision["balanced_accuracy_before"]
    assert model.card.decision_weights == decision["weights"]
    # the card's test ECE is that of the calibrated probabilities classify_table writes
    classes = list(model.classes)
    probabilities = np.column_stack([np.asarray(out[f"prob_{c}"]) for c in classes])
    truth = [classes.index(t) for t in test_rows["gz2_five_class"]]
    assert calibration_error(probabilities, truth) == pytest.approx(card["metrics"]["test"]["ece"], abs=1e-4)


@pytest.mark.parametrize("name", ["sample-gz1", "sample-gz2", "paper-five-class", "paper-features",
                                  "paper-adversarial"])
def test_bundled_configurations(name):
    from galzoo_cnn.objectives import get_objective
    from galzoo_cnn.training import bundled_config

    config = dataclasses.replace(TrainConfig.from_file(bundled_config(name)), table="t.fits",
                                 output="run").resolved()
    assert config.name == name
    if name.startswith("paper"):  # the paper's settings (Khramtsov et al. 2022, Sects. 3.3-3.5)
        defaults = get_objective(config.objective).defaults
        assert (config.lr, config.epochs, config.monitor, config.patience) == (
            defaults["lr"], defaults["epochs"], defaults["monitor"], defaults["patience"])
        assert config.backbone == get_objective(config.objective).default_backbone
        assert config.backbone == ("resnet101" if name == "paper-adversarial" else "densenet201")
    if name == "paper-features":
        assert len(config.label_columns) == 34
    with pytest.raises(FileNotFoundError, match="bundled: paper-adversarial, paper-features"):
        bundled_config("paper-six-class")


def test_class_weights_rules():
    from galzoo_cnn.training import class_weights

    counts = np.array([7764, 7409, 530, 3570, 7000])  # the Kaggle GZ2 five-class counts
    weights = class_weights(counts, "inverse_sqrt")
    assert np.isclose((weights * counts).sum(), counts.sum())  # the mean weight per row stays 1
    assert np.allclose(weights / weights[0], np.sqrt(counts[0] / counts))
    balanced = class_weights(counts, "inverse")
    assert np.allclose(balanced * counts, counts.sum() / len(counts))  # every class weighs the same
    assert np.array_equal(class_weights(counts, None), np.ones(5))
    with pytest.raises(ValueError, match="every class needs training rows"):
        class_weights([10, 0], "inverse")


def test_a_given_split_is_checked_and_gets_validation_rows(config, gz1_images, tmp_path):
    """A test / train split (as adversarial_split makes) trains with validation rows drawn from train."""
    from galzoo_cnn.training import split_table

    labels, directory = gz1_images
    table = labels.copy()
    table["split"] = np.array(["test"] * 4 + ["train"] * (len(table) - 4), dtype="U10")
    run = dataclasses.replace(config, table=table, split_column="split", epochs=1,
                              output=str(tmp_path / "given"))
    _, card_path = train(run, progress=False)
    written = Table.read(tmp_path / "given" / "split.ecsv")
    n_test = sum(c != "dont_know" for c in labels["gz1_class"][:4])  # rows the class map keeps
    assert int((written["split"] == "test").sum()) == n_test > 0
    assert set(written["split"]) == {"train", "val", "test"}
    assert json.loads(card_path.read_text())["training"]["rows"]["test"] == n_test
    table["split"][5] = "validation"
    with pytest.raises(ValueError, match="column 'split', row 5: 'validation' is not one of"):
        train(dataclasses.replace(run, table=table, output=str(tmp_path / "bad")), progress=False)
    with pytest.raises(ValueError, match="already has a 'split' column"):
        split_table(table)
    # a table without the configured split column: the message says how to make one, or to go without
    with pytest.raises(MissingColumnsError, match=r"split column 'split' is not in the table .*Make it "
                                                  r"with adversarial_split .*split_column: null .*random"):
        train(dataclasses.replace(run, table=labels, output=str(tmp_path / "none")), progress=False)
    assert not (tmp_path / "none" / "checkpoints").exists()


@pytest.mark.parametrize("pack_images", [False, True])
def test_unreadable_images_are_left_out_and_listed(config, gz1_images, tmp_path, pack_images,
                                                   count_image_opens):
    """A corrupt and a missing image of real rows leave the run with a warning naming them, instead of
    stopping it in the middle of an epoch; the card lists them.  No readable image at all is an error.
    Packed images (``pack_images``) are decoded once for the check and the whole run, resumed or not."""
    import shutil

    from galzoo_cnn.exceptions import UnusableImagesWarning

    config = dataclasses.replace(config, pack_images=pack_images)
    labels, directory = gz1_images
    images = tmp_path / "images"
    shutil.copytree(directory, images)
    corrupt, missing = images / labels["filename"][3], images / labels["filename"][4]   # two spirals
    corrupt.write_bytes(corrupt.read_bytes()[:200])          # a truncated download
    missing.unlink()
    table = labels.copy()
    table.add_row(labels[5])
    table["filename"][-1] = ""                               # a spiral without an image
    table.add_row(labels[0])
    table["filename"][-1] = "blank.jpg"                      # a black frame: no galaxy to learn from
    Image.fromarray(np.zeros((423, 423, 3), np.uint8)).save(images / "blank.jpg")
    broken = dataclasses.replace(config, table=table, image_dir=str(images), epochs=1)
    opened = count_image_opens()
    with pytest.warns(UnusableImagesWarning, match=r"train: 4 of 17 images cannot be used") as caught:
        _, card_path = train(broken, progress=False)
    assert str(corrupt) in str(caught[0].message)
    if pack_images:  # each image decoded once; the corrupt one again, for its reason
        kept = list(Table.read(os.path.join(config.output, "split.ecsv"))["filename"])
        assert sorted(opened) == sorted(kept + [corrupt.name] * 2 + ["blank.jpg"]) and len(kept) == 13
        opened.clear()
        shutil.rmtree(os.path.join(config.output, "checkpoints"))  # a resumed run: split and file reused
        train(dataclasses.replace(broken, epochs=1), progress=False)
        assert opened == []
        with pytest.raises(InputError, match=r"hold 13 readable 100 px images, not the 13 150 px images"):
            train(dataclasses.replace(broken, decode_size=150), progress=False)
    listed = json.loads(card_path.read_text())["training"]["unreadable_images"]
    assert listed == {"n": 4, "files": [{"file": str(corrupt), "status": "undecodable"},
                                        {"file": str(missing), "status": "missing"},
                                        {"file": "", "status": "no_image"},
                                        {"file": str(images / "blank.jpg"), "status": "blank"}]}
    split = Table.read(os.path.join(config.output, "split.ecsv"))
    assert len(split) == 13 and corrupt.name not in split["filename"]
    nothing = dataclasses.replace(config, image_dir=str(tmp_path), output=str(tmp_path / "none"))
    with pytest.raises(InputError, match=r"none of the 15 images can be used .*check image_dir"):
        train(nothing, progress=False)
