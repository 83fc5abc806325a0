# Licensed under a 3-clause BSD style license - see LICENSE
"""The backbone comparison (paper Table 1) on real Kaggle GZ2 images, with two of timm's test models."""

import numpy as np
import pytest
from astropy.table import Table

from galzoo_cnn.classify import classify_table
from galzoo_cnn.comparison import COMPARISON_COLUMNS, compare_backbones
from galzoo_cnn.models import load_model
from galzoo_cnn.training import TrainConfig


def test_backbones_share_one_split_and_are_scored_alike(real_data, tmp_path):
    directory = real_data / "gz2_kaggle_5class"
    rows = Table.read(directory / "labels.csv")[:240]
    config = TrainConfig(table=rows, image_dir=str(directory / "images"), label_column="gz2_five_class",
                         epochs=1, batch_size=32, test_fraction=0.25, val_fraction=0.25, seed=3)
    output = tmp_path / "table1"
    result = compare_backbones(config, backbones=["test_resnet", "test_efficientnet"], output=output,
                               progress=False)
    assert result.colnames == list(COMPARISON_COLUMNS)
    assert result["backbone"].tolist() == ["test_resnet", "test_efficientnet"]
    splits = [Table.read(output / b / "split.ecsv") for b in result["backbone"]]
    assert splits[0]["filename"].tolist() == splits[1]["filename"].tolist()
    assert splits[0]["split"].tolist() == splits[1]["split"].tolist()

    model = load_model(output / "test_efficientnet" / "test_efficientnet.json")
    row = result[1]
    assert row["n_parameters"] == sum(p.numel() for p in model.parameters())
    val = splits[1][splits[1]["split"] == "val"]
    classified = classify_table(val, model=model, image_dir=directory / "images", progress=False)
    expected = np.mean(classified["predicted_class"] == val["gz2_five_class"])
    assert row["val_accuracy"] == pytest.approx(expected)
    assert 0 <= row["test_roc_auc"] <= 1 and row["images_per_second"] > 0
    assert Table.read(output / "backbones.ecsv")["backbone"].tolist() == result["backbone"].tolist()

    # started again, the finished runs are reused: the weights are not rewritten
    weights = output / "test_resnet" / "test_resnet.safetensors"
    before = weights.stat().st_mtime_ns
    again = compare_backbones(config, backbones=["test_resnet"], output=output, progress=False)
    assert weights.stat().st_mtime_ns == before
    assert again["val_accuracy"][0] == result["val_accuracy"][0]


def test_compare_backbones_command(real_data, tmp_path, capsys):
    from galzoo_cnn.cli import main

    directory = real_data / "gz2_kaggle_5class"
    Table.read(directory / "labels.csv")[:120].write(tmp_path / "rows.ecsv")
    config = tmp_path / "run.yaml"
    config.write_text("label_column: gz2_five_class\nepochs: 1\nbatch_size: 32\nseed: 1\n")
    assert main(["compare-backbones", "--config", str(config), "--backbones", "test_resnet", "--table",
                 str(tmp_path / "rows.ecsv"), "--image-dir", str(directory / "images"), "--output",
                 str(tmp_path / "t1"), "--no-progress"]) == 0
    assert "test_resnet" in capsys.readouterr().out
    assert Table.read(tmp_path / "t1" / "backbones.ecsv")["backbone"].tolist() == ["test_resnet"]
    assert main(["compare-backbones", "--config", "no-such-config", "--output", str(tmp_path / "x")]) == 2
    capsys.readouterr()
    # an unknown name is refused before any training, wherever it stands in the list
    assert main(["compare-backbones", "--config", str(config), "--backbones", "test_resnet", "resnet5O",
                 "--table", str(tmp_path / "rows.ecsv"), "--output", str(tmp_path / "t2")]) == 2
    assert "unknown timm backbone 'resnet5O'" in capsys.readouterr().err
    assert not (tmp_path / "t2").exists()


def test_multilabel_backbones_are_scored_by_their_mean_feature_auc(real_data, tmp_path):
    from sklearn.metrics import roc_auc_score

    from galzoo_cnn.labels import feature_labels

    directory = real_data / "gz2_hart16_sdss"
    labelled = feature_labels(directory / "gz2_hart16.csv", features=["smooth", "features_or_disk", "bar"])
    config = TrainConfig(objective="features", table=labelled, image_dir=str(directory / "images"),
                         label_columns=["label_smooth", "label_features_or_disk", "label_bar"], epochs=1,
                         batch_size=16, test_fraction=0.4, val_fraction=0.2, seed=2)
    result = compare_backbones(config, backbones=["test_resnet"], output=tmp_path / "t", progress=False)
    split = Table.read(tmp_path / "t" / "test_resnet" / "split.ecsv")
    test = split[split["split"] == "test"]
    classified = classify_table(test, model=load_model(tmp_path / "t" / "test_resnet" / "test_resnet.json"),
                                image_dir=directory / "images", progress=False)
    aucs = []
    for feature in ("smooth", "features_or_disk", "bar"):
        known = ~np.ma.getmaskarray(classified[f"label_{feature}"])
        y = np.asarray(classified[f"label_{feature}"][known], dtype=bool)
        if 0 < y.sum() < len(y):
            aucs.append(roc_auc_score(y, np.asarray(classified[f"prob_feature_{feature}"])[known]))
    assert result["test_roc_auc"][0] == pytest.approx(np.mean(aucs))
    assert np.isnan(result["val_accuracy"][0])  # no accuracy for a multi-label model
