# Licensed under a 3-clause BSD style license - see LICENSE
"""The bundled sample models: their cards' figures recomputed from the real images."""

import json
from importlib.resources import files
from pathlib import Path

import numpy as np
import pytest
from astropy.table import Table

from galzoo_cnn import classify_table, five_class_labels, taxonomy
from galzoo_cnn.config import conf
from galzoo_cnn.evaluation import class_metrics
from galzoo_cnn.models import available_models, load_model, models_table

MODEL_DIR = Path(str(files("galzoo_cnn") / "data" / "models"))

#: What each bundled model is: classes, crop, the source of its held-out rows and their size.
MODELS = {
    "sample-gz1": {"classes": ("elliptical", "spiral", "edge_on", "merger"), "crop": 0.5,
                   "images": "gz1_sdss/images", "truth": "label", "rows": 6608, "test": 1322,
                   "test_rows": "sample-gz1-test.ecsv"},
    "sample-gz2": {"classes": taxonomy.FIVE_CLASSES, "crop": 1.0,
                   "images": "gz2_kaggle_5class/images", "truth": "gz2_five_class", "rows": 26273,
                   "test": 3941, "test_rows": "sample-gz2-test.ecsv"},
    # sample-gz2 fine-tuned on the same split: the same held-out rows
    "sample-gz2-robust": {"classes": taxonomy.FIVE_CLASSES, "crop": 0.85,
                          "images": "gz2_kaggle_5class/images", "truth": "gz2_five_class", "rows": 26273,
                          "test": 3941, "test_rows": "sample-gz2-test.ecsv"},
    # sample-gz2-robust's frozen backbone, a head on its features averaged over eight views
    "sample-gz2-dihedral": {"classes": taxonomy.FIVE_CLASSES, "crop": 0.85,
                            "images": "gz2_kaggle_5class/images", "truth": "gz2_five_class", "rows": 26273,
                            "test": 3941, "test_rows": "sample-gz2-test.ecsv"},
}


@pytest.fixture(scope="module", params=sorted(MODELS))
def bundled(request):
    return request.param, load_model(request.param)


def test_bundled_listed_and_small(bundled):
    name, model = bundled
    expected = MODELS[name]
    assert name in available_models() and model.classes == expected["classes"]
    assert model.objective.name == "five_class" and model.card["input"]["crop"] == expected["crop"]
    assert (MODEL_DIR / f"{name}.safetensors").stat().st_size <= 16 * 2**20
    assert json.loads((MODEL_DIR / f"{name}.json").read_text())["weights"] == f"{name}.safetensors"
    card = model.card
    assert sum(card["training"]["rows"].values()) == expected["rows"]
    assert card["training"]["rows"]["test"] == expected["test"] == card["metrics"]["test"]["n_test"]
    assert card["training"]["augmentation"]["adversarial"] is True and card["seed"] == 2022
    row = models_table(names=[name])[0]
    assert row["test_accuracy"] == pytest.approx(card["metrics"]["test"]["accuracy"], abs=5e-4)


def test_bundled_cards_name_no_file_of_the_machine_that_made_them():
    """A bundled card travels to every user: the files of its training run are named relative to the
    development data or the runs folder (tools/pool_views.py makes them so), never by absolute paths."""
    from galzoo_cnn.utils._cards import portable_run_paths

    def strings(value):
        if isinstance(value, dict):
            return [s for v in value.values() for s in strings(v)]
        if isinstance(value, list):
            return [s for v in value for s in strings(v)]
        return [value] if isinstance(value, str) else []

    cards = sorted(MODEL_DIR.glob("*.json"))
    assert len(cards) == 5
    for path in cards:
        absolute = [s for s in strings(json.loads(path.read_text())) if Path(s.split(" (")[0]).is_absolute()]
        assert not absolute, (path.name, absolute)
    assert models_table(names=["sample-gz2-features"])["trained_on"][0] == "runs/features/table.ecsv"
    # how the tool rewrites a run's absolute paths
    run = {"training": {"table": "/data/gz/votes.csv (GZ2 votes)"},
           "config": {"table": "/data/gz/votes.csv", "output": "/home/me/runs/a",
                      "image_dir": "/elsewhere/x"}}
    assert portable_run_paths(run, [Path("/data"), Path("/home/me")]) == {
        "training": {"table": "gz/votes.csv (GZ2 votes)"},
        "config": {"table": "gz/votes.csv", "output": "runs/a", "image_dir": "/elsewhere/x"}}


def test_sample_gz2_card_states_its_scale_and_class_weights():
    card = load_model("sample-gz2").card
    scale = card["input"]["pixel_scale"]
    low, high = scale["trained_range"]
    assert scale["unit"] == "R90" and low < scale["per_pixel"] < high
    weights = card["training"]["class_weights"]
    assert weights["rule"] == "inverse_sqrt"
    assert weights["weights"]["cigar_shaped"] == max(weights["weights"].values())  # the rarest class
    assert card["training"]["augmentation"]["frame_fraction"] == [0.45, 1.0]


def test_card_test_metrics_recomputed_from_the_held_out_images(bundled, real_data):
    """classify_table on the bundled test rows' real images gives the card's confusion matrix."""
    name, model = bundled
    expected = MODELS[name]
    rows = Table.read(MODEL_DIR / expected["test_rows"])
    assert len(rows) == expected["test"]
    out = classify_table(rows, model=model, image_dir=real_data / expected["images"], batch_size=128,
                         progress=False)
    metrics = class_metrics(out, expected["truth"], classes=list(model.classes), n_bootstrap=0)
    card = model.card["metrics"]["test"]
    flipped = np.abs(np.array(metrics.meta["confusion_matrix"]) - np.array(card["confusion_matrix"]))
    # the same images and weights; batch sizes differ, so allow a near-tie or two to flip
    assert flipped.sum() <= 4
    assert metrics.meta["accuracy"] == pytest.approx(card["accuracy"], abs=2.01 / len(rows))
    for cls in model.classes:
        assert metrics["recall"][list(metrics["class"]).index(cls)] == pytest.approx(
            card["recall"][cls], abs=2.01 / max(1, np.sum(rows[expected["truth"]] == cls)))
    if "ece" in card:  # the calibrated probabilities classify_table writes
        from galzoo_cnn.calibration import calibration_error

        classes = list(model.classes)
        probabilities = np.column_stack([np.asarray(out[f"prob_{c}"]) for c in classes])
        truth = [classes.index(t) for t in out[expected["truth"]]]
        assert calibration_error(probabilities, truth) == pytest.approx(card["ece"], abs=2e-3)
    decision = model.card.get("decision", {}).get("test")
    if decision:  # the balanced decision's figures, from the same probabilities
        from galzoo_cnn.objectives import decided_classes

        classes = np.array(model.classes)
        probabilities = np.column_stack([np.asarray(out[f"prob_{c}"]) for c in classes])
        predicted = classes[decided_classes(probabilities, classes, model.card, decision="balanced")]
        truth = np.asarray(out[expected["truth"]])
        assert np.mean(predicted == truth) == pytest.approx(decision["accuracy"], abs=2.01 / len(rows))
        for cls in classes:
            assert np.mean(predicted[truth == cls] == cls) == pytest.approx(
                decision["recall"][cls], abs=2.01 / max(1, np.sum(truth == cls)))


def test_other_source_figures_recomputed(bundled, real_data):
    """The card's grouped accuracy on the Hart et al. (2016) GZ2 images (0.1"/px), from the images."""
    name, model = bundled
    other = model.card["metrics"].get("other_sources")
    assert other, "the card has no figures for other image sources (benchmarks/evaluate_sample_models.py)"
    hart = five_class_labels(Table.read(real_data / "gz2_hart16_sdss" / "gz2_hart16.csv"))
    out = classify_table(hart["dr7objid", "filename", "gz2_five_class"], model=model,
                         image_dir=real_data / "gz2_hart16_sdss" / "images", progress=False)
    grouped = class_metrics(out, "gz2_five_class", grouped=True)  # the benchmark's 1 000 drawings, seed 0
    assert grouped.meta["n"] == other["hart16"]["n"]
    assert grouped.meta["accuracy"] == pytest.approx(other["hart16"]["grouped_accuracy"],
                                                     abs=1.01 / grouped.meta["n"])
    assert [grouped.meta["accuracy_low"], grouped.meta["accuracy_high"]] == pytest.approx(
        other["hart16"]["grouped_accuracy_interval"], abs=1.01 / grouped.meta["n"])
    assert set(other) == {"kaggle-test", "hart16", "gz1"}


@pytest.mark.parametrize("name", ["sample-gz2-robust", "sample-gz2-dihedral"])
def test_framing_figures_of_the_card_recomputed_on_native_frames(real_data, name):
    """The card's accuracies on the 355 native 424 px GZ2 frames, bare and reframed from the table."""
    import astropy.units as u

    model = load_model(name)
    figures = model.card["metrics"]["framing"]["native"]
    native = Table.read(real_data / "gz2_kaggle_native" / "labels.csv")
    image_dir = real_data / "gz2_kaggle_native" / "images"

    def accuracy(table):
        out = classify_table(table, model=model, image_dir=image_dir, progress=False)
        return np.mean(np.asarray(out["predicted_class"]) == np.asarray(native["gz2_five_class"]))

    assert accuracy(native) == pytest.approx(figures["bare"]["accuracy"], abs=1.01 / len(native))
    if "ece_if_calibrated" in figures["bare"]:  # the ECE and what exact probabilities read on these rows
        from galzoo_cnn.calibration import calibration_error, calibration_floor
        from galzoo_cnn.evaluation import labelled_probabilities

        out = classify_table(native, model=model, image_dir=image_dir, progress=False)
        probabilities, labels = labelled_probabilities(out, "gz2_five_class", model.classes)
        assert calibration_error(probabilities, labels) == pytest.approx(figures["bare"]["ece"], abs=1e-3)
        floor = calibration_floor(probabilities)
        expected = figures["bare"]["ece_if_calibrated"]
        assert [floor["median"], floor["p95"]] == pytest.approx(expected, abs=2e-3)
        assert figures["bare"]["ece"] <= floor["p95"]
    framed = native.copy()
    framed["petroR90_r"] = np.ones(len(native)) * u.arcsec  # GZ2 frames span 8.48 R90: only the ratio counts
    framed["cutout_fov"] = 8.48 * framed["petroR90_r"]
    assert accuracy(framed) == pytest.approx(figures["reframed"]["accuracy"], abs=1.01 / len(native))


def test_calibration_of_gz2_framed_test_galaxies_recomputed(real_data):
    """The default card's ECE on all 3 941 test galaxies widened with sky to GZ2's 8.48 R90 and read by
    bare file name, and on random subsets of the native set's size, from the images."""
    from galzoo_cnn.calibration import calibration_error
    from galzoo_cnn.evaluation import labelled_probabilities

    model = load_model(conf.default_model)
    figures = model.card["metrics"]["framing"]["crops"]["bare_as_gz2_frames"]
    rows = Table.read(MODEL_DIR / "sample-gz2-test.ecsv")
    out = classify_table(rows, model=model, image_dir=real_data / "gz2_kaggle_5class" / "images",
                         crop=model.card.crop * 8.48 / 6, progress=False)
    probabilities, labels = labelled_probabilities(out, "gz2_five_class", model.classes)
    assert len(labels) == figures["n"] == len(rows)
    assert calibration_error(probabilities, labels) == pytest.approx(figures["ece"], abs=1e-3)
    right = np.asarray(out["predicted_class"]) == np.asarray(out["gz2_five_class"])
    assert right.mean() == pytest.approx(figures["accuracy"], abs=2.01 / len(rows))
    n_native = len(Table.read(real_data / "gz2_kaggle_native" / "labels.csv"))
    rng = np.random.default_rng(0)  # the benchmark's subsets
    eces = [calibration_error(probabilities[r], labels[r])
            for r in (rng.choice(len(labels), n_native, replace=False) for _ in range(300))]
    assert [np.median(eces), np.percentile(eces, 95)] == pytest.approx(
        figures["ece_of_native_sized_subsets"], abs=2e-3)
    # a few hundred rows read several times the ECE of the whole set
    assert figures["ece"] < figures["ece_of_native_sized_subsets"][0] / 2


def test_the_dihedral_model_is_the_robust_network_reading_eight_views():
    """sample-gz2-dihedral: sample-gz2-robust's weights unchanged, with view pooling (tools/pool_views.py)."""
    robust, pooled = load_model("sample-gz2-robust"), load_model("sample-gz2-dihedral")
    assert pooled.view_pooling == "dihedral" and robust.view_pooling is None
    assert all((pooled.state_dict()[k] == v).all() for k, v in robust.state_dict().items())
    assert pooled.card["derived_from"]["weights_sha256"] == robust.card.weights_sha256


def test_features_model_card_recomputed_from_its_held_out_images(real_data):
    """sample-gz2-features: the card's per-feature test ROC AUC (Tables 2-3, written by
    benchmarks/feature_auc.py) and its training's test metrics, both recomputed from the bundled test
    rows' real images through classify_table and feature_metrics."""
    from galzoo_cnn.evaluation import feature_metrics

    model = load_model("sample-gz2-features")
    card = model.card
    assert model.objective.name == "features" and model.view_pooling == "dihedral"
    assert (MODEL_DIR / "sample-gz2-features.safetensors").stat().st_size <= 16 * 2**20
    robust = load_model("sample-gz2-robust")
    # fine-tuned from sample-gz2-robust on single views, then pooled over the eight views (pool_views.py)
    assert card["config"]["init_from"] == "sample-gz2-robust" and not card["config"]["freeze_backbone"]
    derived = card["derived_from"]
    assert derived["model"] == "sample-gz2-features" and "view_pooling: dihedral" in derived["how"]
    assert card["input"]["crop"] == robust.card["input"]["crop"]  # so one read serves both
    assert card["input"]["frame_r90"] == robust.card["input"]["frame_r90"]
    rows = Table.read(MODEL_DIR / "sample-gz2-features-test.ecsv")
    assert len(rows) == card["training"]["rows"]["test"] == card["metrics"]["features"]["crops"]["n"]
    out = classify_table(rows, model=model, image_dir=real_data / "gz2_kaggle_votes" / "images",
                         progress=False)
    assert (out["status"] == "ok").all()
    metrics = feature_metrics(out, features=list(model.classes))
    measured = {str(r["feature"]): float(r["roc_auc"]) for r in metrics}
    stated = card["metrics"]["features"]["crops"]["roc_auc"]
    intervals = card["metrics"]["features"]["crops"]["roc_auc_interval"]
    assert set(intervals) == {f for f, v in stated.items() if v is not None}
    mean = card["metrics"]["features"]["crops"]["mean_roc_auc"]  # the acceptance list's, rows drawn together
    listed = feature_metrics(out, features=mean["features"]).meta
    assert mean["roc_auc"] == pytest.approx(np.mean([stated[f] for f in mean["features"]]), abs=1e-3)
    assert mean["interval"] == pytest.approx([listed["mean_roc_auc_low"], listed["mean_roc_auc_high"]],
                                             abs=5e-3)
    for row in metrics:
        if str(row["feature"]) in intervals:  # the same resampling (seed 0) of the same rows
            assert [row["roc_auc_low"], row["roc_auc_high"]] == pytest.approx(intervals[str(row["feature"])],
                                                                              abs=5e-3)
    assert {f for f, v in stated.items() if v is not None} == {f for f, v in measured.items()
                                                              if np.isfinite(v)}
    for feature, auc in stated.items():
        if auc is not None:
            assert measured[feature] == pytest.approx(auc, abs=2e-3), feature
            assert card["metrics"]["test"]["roc_auc"][feature] == pytest.approx(auc, abs=2e-3), feature
    no_aug = card["metrics"]["features"]["crops"]["roc_auc_without_augmentation"]
    difference = card["metrics"]["features"]["crops"]["difference"]
    for feature, auc in stated.items():
        if auc is not None and no_aug.get(feature) is not None:
            assert difference[feature] == pytest.approx(auc - no_aug[feature], abs=2e-4)
    assert set(card["thresholds"]) <= set(model.classes) and "validation" in card["threshold_rule"]
    for feature, threshold in card["thresholds"].items():
        above = np.asarray(out[f"prob_feature_{feature}"]) >= threshold
        leading = taxonomy.task(taxonomy.answer(feature).task).requires
        expected = above & np.asarray(out[f"flag_{leading}"]) if leading in model.classes else above
        assert (np.asarray(out[f"flag_{feature}"]) == expected).all(), feature


def test_card_test_metrics_equal_evaluate_model_on_the_bundled_rows(real_data, tmp_path):
    """One metrics path: what training wrote into the card and what evaluate_model measures on the same
    held-out rows' images are the same numbers (up to a near-tie flipped by another batch size)."""
    from galzoo_cnn.report import evaluate_model

    model = load_model("sample-gz2-robust")
    rows = Table.read(MODEL_DIR / "sample-gz2-test.ecsv")
    metrics = evaluate_model(rows, output=tmp_path / "evaluation", model=model, truth_column="gz2_five_class",
                             image_dir=real_data / "gz2_kaggle_5class" / "images", n_bootstrap=0,
                             progress=False)
    card = model.card["metrics"]["test"]
    assert metrics.meta["n"] == card["n_test"] == len(rows)
    assert metrics.meta["accuracy"] == pytest.approx(card["accuracy"], abs=2.01 / len(rows))
    flipped = np.abs(np.array(metrics.meta["confusion_matrix"]) - np.array(card["confusion_matrix"]))
    assert flipped.sum() <= 4
    recall = dict(zip(metrics["class"], metrics["recall"]))
    for cls, value in card["recall"].items():
        assert recall[cls] == pytest.approx(value, abs=2.01 / np.sum(rows["gz2_five_class"] == cls))
