# Licensed under a 3-clause BSD style license - see LICENSE
"""Evaluation metrics on real Galaxy Zoo 2 rows, checked against hand computations."""

import numpy as np
import pytest
from astropy import units as u
from astropy.table import Table

from galzoo_cnn import taxonomy
from galzoo_cnn.datasets import load_gz2_sample
from galzoo_cnn.evaluation import acceptance_threshold, crosstab, feature_metrics
from galzoo_cnn.labels import feature_labels, five_class_labels

FEATURES = ["bar", "spiral", "edge_on_yes", "bulge_none", "odd_yes", "merger"]


@pytest.fixture(scope="module")
def scored():
    """Hart et al. (2016) rows: volunteers' labels (debiased fractions >= 0.5, masked where the task
    is not well sampled) scored by a different real number, the weighted vote fraction."""
    table = feature_labels(load_gz2_sample("hart2016"), features=FEATURES)
    for feature in FEATURES:
        table[f"prob_{feature}"] = table[taxonomy.answer(feature).column("weighted_fraction")]
    return table


def _counts(labels, probabilities, threshold):
    accepted = probabilities >= threshold
    tp = np.sum(accepted & labels)
    return tp, np.sum(accepted & ~labels), np.sum(~accepted & labels), np.sum(~accepted & ~labels)


def _f1(labels, probabilities, threshold):
    tp, fp, fn, _ = _counts(labels, probabilities, threshold)
    return 2 * tp / (2 * tp + fp + fn)


def _youden(labels, probabilities, threshold):
    tp, fp, fn, tn = _counts(labels, probabilities, threshold)
    return tp / (tp + fn) - fp / (fp + tn)


def _rank_auc(labels, probabilities):
    """ROC AUC as the probability that a positive outranks a negative (ties count half)."""
    positive, negative = probabilities[labels], probabilities[~labels]
    greater = (positive[:, None] > negative[None, :]).sum()
    ties = (positive[:, None] == negative[None, :]).sum()
    return (greater + 0.5 * ties) / (len(positive) * len(negative))


def test_feature_metrics_match_hand_computations(scored):
    metrics = feature_metrics(scored, FEATURES)
    assert metrics["feature"].tolist() == FEATURES
    for row in metrics:
        label = scored[f"label_{row['feature']}"]
        known = ~np.ma.getmaskarray(label)
        y = np.asarray(label.filled(False), dtype=bool)[known]
        p = np.asarray(scored[f"prob_{row['feature']}"], dtype=float)[known]
        assert row["n_known"] == known.sum() and row["n_positive"] == y.sum()
        if 0 < y.sum() < len(y):
            assert row["roc_auc"] == pytest.approx(_rank_auc(y, p), abs=1e-12)
            candidates = np.unique(p)
            assert _f1(y, p, row["threshold"]) == pytest.approx(max(_f1(y, p, t) for t in candidates))
            everywhere = np.asarray(scored[f"prob_{row['feature']}"], dtype=float)
            assert row["n_accepted"] == int(np.sum(everywhere >= row["threshold"]))
        else:
            assert np.isnan(row["roc_auc"]) and np.isnan(row["threshold"])
    # the weighted fraction ranks galaxies almost as the debiased one that made the labels
    assert np.nanmin(metrics["roc_auc"]) > 0.9


def test_threshold_rules_on_real_rows(scored):
    label = scored["label_bar"]
    known = ~np.ma.getmaskarray(label)
    y = np.asarray(label.filled(False), dtype=bool)[known]
    p = np.asarray(scored["prob_bar"], dtype=float)[known]
    candidates = np.unique(p)
    youden = acceptance_threshold(y, p, "youden")
    assert _youden(y, p, youden) == pytest.approx(max(_youden(y, p, t) for t in candidates))
    strict = acceptance_threshold(y, p, "precision", target_precision=0.95)
    tp, fp, _, _ = _counts(y, p, strict)
    assert tp / (tp + fp) >= 0.95
    below = candidates[candidates < strict]
    assert all(_counts(y, p, t)[0] / max(1, sum(_counts(y, p, t)[:2])) < 0.95 for t in below[-5:])
    assert np.isnan(acceptance_threshold(y, p, "precision", target_precision=1.01))
    with pytest.raises(ValueError, match="rule='median'"):
        acceptance_threshold(y, p, "median")


def test_inference_counts_use_the_given_table(scored):
    inference = scored[:50]
    metrics = feature_metrics(scored, ["spiral"], apply_to=inference)
    threshold = metrics["threshold"][0]
    assert metrics["n_accepted"][0] == int(np.sum(np.asarray(inference["prob_spiral"]) >= threshold))


def test_crosstab_by_id_and_by_position_on_real_rows():
    """GZ2 five-class labels against the broad group of the GZ2 class string (Table 4 layout)."""
    hart = five_class_labels(load_gz2_sample("hart2016"))
    cnn = hart["dr7objid", "ra", "dec"].copy()
    cnn["predicted_class"] = hart["gz2_five_class"]
    other = hart["dr7objid", "ra", "dec"].copy()
    other["group"] = [taxonomy.broad_group(c) or "" for c in hart["gz2_class"]]
    other = other[::-1]  # another order: rows are matched, not aligned
    by_id = crosstab(cnn, other, "group", id_column="dr7objid")
    shifted = other.copy()
    shifted["dec"] = shifted["dec"] + (0.5 * u.arcsec).to_value(u.deg)
    by_sky = crosstab(cnn, shifted, "group", radius=1 * u.arcsec)
    assert by_id.pformat() == by_sky.pformat() and by_id.meta["n_matched"] == len(hart)
    for row in by_id:
        mine = np.asarray(cnn["predicted_class"].filled("")) == row["predicted_class"]
        groups = np.array([taxonomy.broad_group(c) or "" for c in hart["gz2_class"]])
        assert row["N_gal"] == int(np.sum(mine & (groups != "")))
        for group in by_id.colnames[2:]:
            assert row[group] == int(np.sum(mine & (groups == group)))
    far = crosstab(cnn, shifted, "group", radius=0.1 * u.arcsec)
    assert far.meta["n_matched"] == 0 and len(far) == 0


def test_evaluation_inputs_are_checked():
    with pytest.raises(KeyError, match="columns 'label_bar', 'prob_bar' are not in the table"):
        feature_metrics(Table({"x": [1]}), ["bar"])
    with pytest.raises(TypeError, match="features must be a list"):
        feature_metrics(Table({"x": [1]}), "bar")


def test_figures_on_real_rows(scored, tmp_path):
    """Sky map, ROC curves and confusion matrix of real GZ2 rows: what is drawn is what was counted."""
    import matplotlib

    matplotlib.use("agg")
    from galzoo_cnn.evaluation import class_metrics, confusion_table
    from galzoo_cnn.plots import plot_confusion, plot_roc_curves, plot_sky

    hart = five_class_labels(load_gz2_sample("hart2016"))
    ax = plot_sky(hart, class_column="gz2_five_class")
    classes = sorted(set(hart["gz2_five_class"].compressed()))
    assert [len(c.get_offsets()) for c in ax.collections] == [
        int((hart["gz2_five_class"].filled("") == c).sum()) for c in classes]
    assert f"{classes[0]} {int((hart['gz2_five_class'].filled('') == classes[0]).sum())}" in ax.figure.caption
    ax.figure.savefig(tmp_path / "sky.png", dpi=80)
    assert (tmp_path / "sky.png").stat().st_size > 10_000

    ax = plot_roc_curves(scored, ["bar", "spiral"])
    metrics = feature_metrics(scored, ["bar", "spiral"])
    for line, auc in zip(ax.lines[:2], metrics["roc_auc"]):
        fpr, tpr = line.get_data()
        area = np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2)  # the trapezoidal rule
        assert area == pytest.approx(auc, abs=1e-9)

    pairs = hart["gz2_class", "gz2_five_class"]
    pairs.rename_column("gz2_five_class", "predicted_class")
    grouped = class_metrics(pairs, "gz2_class", grouped=True, n_bootstrap=0)
    ax = plot_confusion(grouped)
    counts = confusion_table(grouped)
    assert [t.get_text() for t in ax.texts] == [str(row[c]) for row in counts for c in counts.colnames[1:]]
    assert f"accuracy {grouped.meta['accuracy']:.3f}" in ax.figure.caption
