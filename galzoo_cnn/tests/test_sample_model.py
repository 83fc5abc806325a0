# Licensed under a 3-clause BSD style license - see LICENSE
"""The bundled sample model, sample-gz1."""

import json
from importlib.resources import files
from pathlib import Path

import numpy as np
import pytest
import torch
from astropy.table import Table

from galzoo_cnn.images import ImageTableDataset
from galzoo_cnn.models import available_models, load_model, predict_dataset

CLASSES = ("elliptical", "spiral", "edge_on", "merger")
MODEL_DIR = Path(str(files("galzoo_cnn") / "data" / "models"))
GZ1_TO_SAMPLE = {"elliptical": "elliptical", "spiral_clockwise": "spiral",
                 "spiral_anticlockwise": "spiral", "edge_on": "edge_on", "merger": "merger"}


@pytest.fixture(scope="module")
def model():
    return load_model("sample-gz1")


def test_bundled_and_listed(model):
    assert "sample-gz1" in available_models()
    assert model.classes == CLASSES and model.task == "five_class"
    assert (MODEL_DIR / "sample-gz1.safetensors").stat().st_size <= 16 * 2**20


def test_card_records_the_evaluation(model):
    card = model.card
    test = card["metrics"]["test"]
    matrix = np.array(test["confusion_matrix"])
    assert matrix.shape == (4, 4) and matrix.sum() == test["n_test"] == card["training"]["rows"]["test"]
    assert test["accuracy"] == pytest.approx(np.trace(matrix) / matrix.sum())
    recall = np.diag(matrix) / matrix.sum(1)
    assert [test["recall"][c] for c in CLASSES] == pytest.approx(recall.tolist())
    assert card["training"]["augmentation"]["adversarial"] is True
    assert card["input"]["crop"] == 0.5 and card["seed"] == 2022
    # a stratified 20 % test split of the 6 608 labelled galaxies (dont_know dropped)
    assert sum(card["training"]["rows"].values()) == 6608 and test["n_test"] == 1322


def test_predicts_the_bundled_real_galaxies(model, gz1_images):
    labels, directory = gz1_images
    known = np.isin(labels["gz1_class"], list(GZ1_TO_SAMPLE))
    dataset = ImageTableDataset(labels[known], image_dir=directory, crop=model.card["input"]["crop"])
    p = predict_dataset(model, dataset)
    assert p.shape == (15, 4) and np.allclose(p.sum(1), 1, atol=1e-5)
    truth = [CLASSES.index(GZ1_TO_SAMPLE[c]) for c in labels["gz1_class"][known]]
    assert np.mean(p.argmax(1) == truth) >= 0.5  # well above chance (0.25) on real images


def test_test_accuracy_reproduces_from_the_held_out_images(model, real_data):
    """Recompute the card's test metrics from the real images of the held-out split."""
    test_rows = Table.read(MODEL_DIR / "sample-gz1-test.ecsv")
    dataset = ImageTableDataset(test_rows, image_dir=real_data / "gz1_sdss" / "images",
                                label_column="label", classes=CLASSES, crop=model.card["input"]["crop"])
    torch.set_num_threads(max(1, torch.get_num_threads()))
    p = predict_dataset(model, dataset, batch_size=128)
    accuracy = float(np.mean(p.argmax(1) == dataset.targets))
    # the same images and weights; batch sizes differ, so allow one near-tie to flip
    assert accuracy == pytest.approx(model.card["metrics"]["test"]["accuracy"], abs=1.01 / len(test_rows))
    assert json.loads((MODEL_DIR / "sample-gz1.json").read_text())["weights"] == "sample-gz1.safetensors"
