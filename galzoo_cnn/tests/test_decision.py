# Licensed under a 3-clause BSD style license - see LICENSE
"""The ``'balanced'`` decision: class factors fitted on labelled rows, applied in the one prediction path."""

import copy
import json
from importlib.resources import files

import numpy as np
import pytest
from astropy.table import Table, vstack

from galzoo_cnn import classify_table
from galzoo_cnn.calibration import decision_entry
from galzoo_cnn.cli import main
from galzoo_cnn.evaluation import balance_model
from galzoo_cnn.exceptions import InputError
from galzoo_cnn.models import build_model, load_model, save_model


def _probabilities(table, classes):
    return np.stack([np.ma.getdata(table[f"prob_{c}"]) for c in classes], axis=1)


@pytest.fixture(scope="module")
def test_rows(real_data):
    """sample-gz2's held-out test rows (real Kaggle GZ2 crops) and their image directory."""
    rows = Table.read(files("galzoo_cnn") / "data" / "models" / "sample-gz2-test.ecsv")
    return rows, real_data / "gz2_kaggle_5class" / "images"


def test_decision_entry_against_a_hand_computation():
    # two classes, priors 2/3 and 1/3: the factors are 1 and (prior_common / prior_rare)**tau = 2**tau, so
    # the [0.6, 0.4] rows (rare) turn rare where 0.4 * 2**tau > 0.6: tau > log2(1.5) = 0.585, while the
    # [0.9, 0.1] rows stay common up to tau = log2(9)
    p = np.array([[0.9, 0.1]] * 6 + [[0.6, 0.4]] * 2 + [[0.45, 0.55]])
    labels = np.array([0] * 6 + [1] * 3)
    entry = decision_entry(p, labels, ["common", "rare"])
    assert entry["tau"] == 0.6  # the smallest of the grid above 0.585
    assert entry["weights"] == {"common": 1.0, "rare": round(2 ** 0.6, 5)}
    assert entry["prior"] == {"common": round(2 / 3, 5), "rare": round(1 / 3, 5)}
    assert entry["balanced_accuracy_before"] == round((1 + 1 / 3) / 2, 4)
    assert entry["balanced_accuracy_after"] == 1.0 and entry["accuracy_after"] == 1.0
    assert entry["balanced_accuracy_by_tau"]["0.55"] == entry["balanced_accuracy_before"]
    with pytest.raises(InputError, match=r"every class; none of \['rare'\]"):
        decision_entry(p[:6], labels[:6], ["common", "rare"])
    with pytest.raises(InputError, match=r"class indices in \[0, 2\)"):
        decision_entry(p, labels + 1, ["common", "rare"])
    with pytest.raises(InputError, match="3 class names for 2 probability columns"):
        decision_entry(p, labels, ["common", "rare", "other"])


def test_balanced_decision_on_real_held_out_rows(test_rows):
    """Fitted on 800 real rows (20 cigar-shaped), applied by classify_table to every cigar-shaped galaxy
    of the others and 200 more: the probabilities are those of the default decision, the class is the
    highest probability times its factor, and no cigar-shaped galaxy found by the default decision is
    lost (its factor is the largest)."""
    table, image_dir = test_rows
    fit, rest = table[:800], table[800:]
    cigar = np.asarray(rest["gz2_five_class"]) == "cigar_shaped"
    rows = vstack([rest[cigar], rest[~cigar][:200]])
    model = copy.deepcopy(load_model("sample-gz2"))
    bundled = model.card.pop("decision")  # fitted on the validation rows: fitted again here
    with pytest.raises(InputError, match="no fitted class factors"):
        classify_table(rows[:2], model=model, image_dir=image_dir, progress=False, decision="balanced")
    entry = balance_model(model, fit, image_dir=image_dir, progress=False)
    assert entry["n"] == len(fit) and model.card["decision"] is entry
    assert set(entry["weights"]) == set(bundled["weights"])
    assert entry["tau"] > 0 and entry["balanced_accuracy_after"] > entry["balanced_accuracy_before"]
    weights = entry["weights"]
    assert max(weights, key=weights.get) == "cigar_shaped"
    plain = classify_table(rows, model=model, image_dir=image_dir, progress=False)
    balanced = classify_table(rows, model=model, image_dir=image_dir, progress=False, decision="balanced")
    p = _probabilities(plain, model.classes)
    np.testing.assert_array_equal(_probabilities(balanced, model.classes), p)
    classes = np.array(model.classes)
    assert plain["predicted_class"].tolist() == classes[p.argmax(1)].tolist()
    factors = np.array([weights[c] for c in model.classes])
    assert balanced["predicted_class"].tolist() == classes[(p * factors).argmax(1)].tolist()
    cigar = np.asarray(rows["gz2_five_class"]) == "cigar_shaped"
    found = {name: np.asarray(t["predicted_class"])[cigar] == "cigar_shaped"
             for name, t in (("plain", plain), ("balanced", balanced))}
    assert (found["balanced"] >= found["plain"]).all() and found["balanced"].sum() > found["plain"].sum()
    assert balanced.meta["provenance"]["decision"].startswith("balanced: the class of highest probability")
    assert plain.meta["provenance"]["decision"].startswith("most_probable")


def test_bad_decisions_are_refused_before_any_image_is_read(test_rows):
    rows, _ = test_rows
    for decision, message in (("argmax", r"decision='argmax'; expected one of \['most_probable'"),
                              ("balanced", "no fitted class factors")):
        with pytest.raises(InputError, match=message):
            classify_table(rows[:1], model="sample-gz1", image_dir="/nonexistent", decision=decision)
    with pytest.raises(InputError, match="multi-label model"):
        classify_table(rows[:1], model="sample-gz2-features", image_dir="/nonexistent", decision="balanced")


def test_a_card_with_bad_factors_is_refused(tmp_path):
    path = save_model(build_model(objective="five_class", backbone="test_resnet", classes=["a", "b"]),
                      tmp_path / "m", decision={"weights": {"a": 1.0, "b": 2.0}})
    assert load_model(path).card.decision_weights == {"a": 1.0, "b": 2.0}
    card = json.loads(path.with_suffix(".json").read_text())
    for weights in ({"a": 1.0}, {"a": 1.0, "b": -2.0}, {"a": 1.0, "b": "x"}):
        card["decision"] = {"weights": weights}
        path.with_suffix(".json").write_text(json.dumps(card))
        with pytest.raises(InputError, match="decision 'weights'.*a positive number for each of the card"):
            load_model(path)


def test_classify_command_takes_the_decision(tmp_path, capsys):
    from galzoo_cnn.datasets import load_demo_sample

    sample, image_dir = load_demo_sample()
    sample[:4]["dr7objid", "ra", "dec", "filename"].write(tmp_path / "in.ecsv")
    base = tmp_path / "cat"
    assert main(["classify", str(tmp_path / "in.ecsv"), "--image-dir", str(image_dir), "--output", str(base),
                 "--no-progress", "--formats", "fits", "--decision", "balanced"]) == 0
    from astropy.io import fits

    with fits.open(f"{base}.fits") as hdul:
        assert "balanced" in repr(hdul[1].header)
    assert main(["classify", str(tmp_path / "in.ecsv"), "--image-dir", str(image_dir), "--output",
                 str(tmp_path / "y"), "--model", "sample-gz1", "--decision", "balanced"]) == 2
    assert "no fitted class factors" in capsys.readouterr().err and not list(tmp_path.glob("y*"))


def test_evaluate_model_scores_the_decision_it_is_given(test_rows, tmp_path):
    from galzoo_cnn.report import evaluate_model

    table, image_dir = test_rows
    rows = table[:300]
    metrics = evaluate_model(rows, output=tmp_path / "e", model="sample-gz2-robust", image_dir=image_dir,
                             n_bootstrap=0, progress=False, decision="balanced")
    balanced = classify_table(rows, model="sample-gz2-robust", image_dir=image_dir, progress=False,
                              decision="balanced")
    right = np.asarray(balanced["predicted_class"]) == np.asarray(rows["gz2_five_class"])
    assert metrics.meta["accuracy"] == pytest.approx(right.mean())
    summary = json.loads((tmp_path / "e" / "summary.json").read_text())
    assert summary["provenance"]["decision"].startswith("balanced")
