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
    table = feature_labels(load_gz2_sample(layout="hart2016"), features=FEATURES)
    for feature in FEATURES:
        table[f"prob_feature_{feature}"] = table[taxonomy.answer(feature).column("weighted_fraction")]
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


def test_feature_auc_intervals_are_the_percentiles_of_resampled_aucs(scored):
    """roc_auc_low / high: the 2.5 and 97.5 percentiles of the AUCs of the known rows drawn again with
    replacement (numpy's generator seeded as the seed option), each AUC counted by hand here."""
    metrics = feature_metrics(scored, features=FEATURES, n_bootstrap=300, seed=7)
    assert metrics.meta["confidence"] == 0.95 and metrics.meta["n_bootstrap"] == 300
    checked = 0
    for row in metrics:
        label = scored[f"label_{row['feature']}"]
        known = ~np.ma.getmaskarray(label)
        y = np.asarray(label.filled(False), dtype=bool)[known]
        p = np.asarray(scored[f"prob_feature_{row['feature']}"], dtype=float)[known]
        if not 0 < y.sum() < len(y):
            assert np.isnan(row["roc_auc_low"]) and np.isnan(row["roc_auc_high"])
            continue
        draws = np.random.default_rng(7).integers(0, len(y), (300, len(y)))
        aucs = [_rank_auc(y[i], p[i]) for i in draws if 0 < y[i].sum() < len(y)]
        np.testing.assert_allclose([row["roc_auc_low"], row["roc_auc_high"]],
                                   np.percentile(aucs, [2.5, 97.5]), rtol=0, atol=1e-12)
        assert row["roc_auc_low"] <= row["roc_auc"] <= row["roc_auc_high"]
        checked += 1
    assert checked >= 4 and np.nanmax(metrics["roc_auc_high"] - metrics["roc_auc_low"]) > 0.01
    none = feature_metrics(scored, features=FEATURES, n_bootstrap=0)
    assert np.isnan(none["roc_auc_low"]).all()
    assert np.array_equal(none["roc_auc"], metrics["roc_auc"], equal_nan=True)


def test_mean_auc_interval_is_the_percentiles_of_jointly_resampled_means(scored):
    """meta's mean_roc_auc_low / high: every row drawn again with all its labels (one generator, seeded),
    each feature's AUC counted by hand over the drawn rows whose label is known, drawings where a
    feature holds one answer left out.  The scores are vote fractions: many ties."""
    metrics = feature_metrics(scored, features=FEATURES, n_bootstrap=200, seed=3)
    used = [f for f, auc in zip(FEATURES, metrics["roc_auc"]) if np.isfinite(auc)]
    assert metrics.meta["n_in_mean"] == len(used) >= 4
    known = np.column_stack([~np.ma.getmaskarray(scored[f"label_{f}"]) for f in used])
    labels = np.column_stack([np.asarray(scored[f"label_{f}"].filled(False), dtype=bool) for f in used])
    scores = np.column_stack([np.asarray(scored[f"prob_feature_{f}"], dtype=float) for f in used])
    assert len(np.unique(scores)) < scores.size / 2 and not known.all()
    means = []
    for rows in np.random.default_rng(3).integers(0, len(scored), (200, len(scored))):
        aucs = []
        for k in range(len(used)):
            y, p = labels[rows, k][known[rows, k]], scores[rows, k][known[rows, k]]
            aucs.append(_rank_auc(y, p) if 0 < y.sum() < len(y) else np.nan)
        if np.isfinite(aucs).all():
            means.append(np.mean(aucs))
    assert len(means) > 100
    np.testing.assert_allclose([metrics.meta["mean_roc_auc_low"], metrics.meta["mean_roc_auc_high"]],
                               np.percentile(means, [2.5, 97.5]), rtol=0, atol=1e-12)


def test_class_intervals_are_the_percentiles_of_resampled_scores():
    """class_metrics' *_low / *_high: the percentiles of scikit-learn's scores of the rows drawn again
    (one seeded generator), on real GZ2 rows: Hart et al.'s class string against the five classes of the
    debiased votes, grouped; a class of no row ('bar', given in classes) stays undefined."""
    from sklearn.metrics import accuracy_score, precision_recall_fscore_support

    from galzoo_cnn.evaluation import class_metrics, paired_labels

    hart = five_class_labels(load_gz2_sample(layout="hart2016"))
    pairs = hart["gz2_class", "gz2_five_class"]
    pairs.rename_column("gz2_five_class", "predicted_class")
    classes = ["smooth", "edge_on", "spiral", "bar"]
    metrics = class_metrics(pairs, "gz2_class", grouped=True, classes=classes, n_bootstrap=200, seed=4)
    truth, predicted, _ = paired_labels(pairs, "gz2_class", grouped=True)
    assert 0.9 < metrics.meta["accuracy"] < 1  # the two disagree on a few rows
    scores, accuracies = [], []
    for rows in np.random.default_rng(4).integers(0, len(truth), (200, len(truth))):
        scores.append(precision_recall_fscore_support(truth[rows], predicted[rows], labels=classes,
                                                      average=None, zero_division=np.nan)[:3])
        accuracies.append(accuracy_score(truth[rows], predicted[rows]))
    with np.errstate(all="ignore"), pytest.warns(RuntimeWarning, match="All-NaN"):
        low, high = np.nanpercentile(np.array(scores), [2.5, 97.5], axis=0)
    for k, name in enumerate(("precision", "recall", "f1")):
        np.testing.assert_allclose(metrics[f"{name}_low"], low[k], rtol=0, atol=1e-12)
        np.testing.assert_allclose(metrics[f"{name}_high"], high[k], rtol=0, atol=1e-12)
    np.testing.assert_allclose([metrics.meta["accuracy_low"], metrics.meta["accuracy_high"]],
                               np.percentile(accuracies, [2.5, 97.5]), rtol=0, atol=1e-12)
    assert np.isnan(metrics["recall_low"][3]) and metrics["recall_high"][0] > metrics["recall_low"][0]
    # one edge-on and one spiral galaxy among five rows: some drawings hold no row of the classes asked for
    _, _, kept = paired_labels(pairs, "gz2_class", grouped=True)
    rows = np.flatnonzero(kept)
    few = pairs[np.r_[rows[truth == "edge_on"][:1], rows[truth != "edge_on"][:4]]]
    tiny = class_metrics(few, "gz2_class", grouped=True, classes=["edge_on", "spiral"],
                         n_bootstrap=50)
    assert 0 <= tiny.meta["accuracy_low"] <= tiny.meta["accuracy"] <= tiny.meta["accuracy_high"] <= 1


def test_feature_metrics_match_hand_computations(scored):
    metrics = feature_metrics(scored, features=FEATURES)
    assert metrics["feature"].tolist() == FEATURES
    for row in metrics:
        label = scored[f"label_{row['feature']}"]
        known = ~np.ma.getmaskarray(label)
        y = np.asarray(label.filled(False), dtype=bool)[known]
        p = np.asarray(scored[f"prob_feature_{row['feature']}"], dtype=float)[known]
        assert row["n_known"] == known.sum() and row["n_positive"] == y.sum()
        if 0 < y.sum() < len(y):
            assert row["roc_auc"] == pytest.approx(_rank_auc(y, p), abs=1e-12)
            candidates = np.unique(p)
            assert _f1(y, p, row["threshold"]) == pytest.approx(max(_f1(y, p, t) for t in candidates))
            everywhere = np.asarray(scored[f"prob_feature_{row['feature']}"], dtype=float)
            assert row["n_accepted"] == int(np.sum(everywhere >= row["threshold"]))
        else:
            assert np.isnan(row["roc_auc"]) and np.isnan(row["threshold"])
    # the weighted fraction ranks galaxies almost as the debiased one that made the labels
    assert np.nanmin(metrics["roc_auc"]) > 0.9


def test_threshold_rules_on_real_rows(scored):
    label = scored["label_bar"]
    known = ~np.ma.getmaskarray(label)
    y = np.asarray(label.filled(False), dtype=bool)[known]
    p = np.asarray(scored["prob_feature_bar"], dtype=float)[known]
    candidates = np.unique(p)
    youden = acceptance_threshold(y, p, rule="youden")
    assert _youden(y, p, youden) == pytest.approx(max(_youden(y, p, t) for t in candidates))
    strict = acceptance_threshold(y, p, rule="precision", target_precision=0.95)
    tp, fp, _, _ = _counts(y, p, strict)
    assert tp / (tp + fp) >= 0.95
    below = candidates[candidates < strict]
    assert all(_counts(y, p, t)[0] / max(1, sum(_counts(y, p, t)[:2])) < 0.95 for t in below[-5:])
    assert np.isnan(acceptance_threshold(y, p, rule="precision", target_precision=1.01))
    with pytest.raises(ValueError, match="rule='median'"):
        acceptance_threshold(y, p, rule="median")


def test_inference_counts_use_the_given_table(scored):
    inference = scored[:50]
    metrics = feature_metrics(scored, features=["spiral"], apply_to=inference)
    threshold = metrics["threshold"][0]
    assert metrics["n_accepted"][0] == int(np.sum(np.asarray(inference["prob_feature_spiral"]) >= threshold))


def test_crosstab_by_id_and_by_position_on_real_rows():
    """GZ2 five-class labels against the broad group of the GZ2 class string (Table 4 layout)."""
    hart = five_class_labels(load_gz2_sample(layout="hart2016"))
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
    from galzoo_cnn.evaluation import feature_table

    with pytest.raises(ValueError, match="no pair of label_<feature> and prob_feature_<feature>"):
        feature_table(Table({"label_bar": [True, False]}))
    with pytest.raises(KeyError, match="columns 'label_bar', 'prob_feature_bar' are not in the table"):
        feature_metrics(Table({"x": [1]}), features=["bar"])
    with pytest.raises(TypeError, match="features must be a list"):
        feature_metrics(Table({"x": [1]}), features="bar")


def test_figures_on_real_rows(scored, tmp_path):
    """Sky map, ROC curves and confusion matrix of real GZ2 rows: what is drawn is what was counted."""
    import matplotlib

    matplotlib.use("agg")
    from galzoo_cnn.evaluation import class_metrics, confusion_table
    from galzoo_cnn.plots import plot_confusion, plot_roc_curves, plot_sky

    hart = five_class_labels(load_gz2_sample(layout="hart2016"))
    ax = plot_sky(hart, class_column="gz2_five_class")
    classes = sorted(set(hart["gz2_five_class"].compressed()))
    assert [len(c.get_offsets()) for c in ax.collections] == [
        int((hart["gz2_five_class"].filled("") == c).sum()) for c in classes]
    assert f"{classes[0]} {int((hart['gz2_five_class'].filled('') == classes[0]).sum())}" in ax.figure.caption
    ax.figure.savefig(tmp_path / "sky.png", dpi=80)
    assert (tmp_path / "sky.png").stat().st_size > 10_000

    ax = plot_roc_curves(scored, ["bar", "spiral"])
    metrics = feature_metrics(scored, features=["bar", "spiral"])
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


def test_feature_table_has_the_layout_of_tables_2_and_3(scored, real_data):
    """Two real scores of the same rows stand for the models with and without augmentation; the
    1 550 Hart16 rows without images stand for the inference set."""
    from galzoo_cnn.evaluation import feature_table

    without = scored.copy()
    for feature in FEATURES:
        without[f"prob_feature_{feature}"] = without[taxonomy.answer(feature).column("fraction")]
    inference = Table.read(real_data / "gz2_hart16_sdss" / "gz2_hart16_no_images.csv")
    for feature in FEATURES:
        inference[f"prob_feature_{feature}"] = inference[taxonomy.answer(feature).column("weighted_fraction")]
    table = feature_table(scored, test_without_augmentation=without, inference=inference, target=scored)
    assert table.colnames == ["feature", "auc_test_no_aug", "auc_test_aug", "auc_test_diff",
                              "auc_deep_no_aug", "auc_deep_aug", "auc_deep_diff", "threshold",
                              "n_target", "n_inference"]
    with_metrics, without_metrics = feature_metrics(scored, features=FEATURES), feature_metrics(without,
                                                                                                features=FEATURES)
    assert table["feature"].tolist() == FEATURES
    np.testing.assert_allclose(table["auc_test_aug"], with_metrics["roc_auc"])
    np.testing.assert_allclose(table["auc_test_no_aug"], without_metrics["roc_auc"])
    np.testing.assert_allclose(table["auc_test_diff"], with_metrics["roc_auc"] - without_metrics["roc_auc"])
    assert table["auc_deep_aug"].mask.all()  # no deep-test set given: the paper's empty cells
    for row in table:
        probabilities = np.asarray(inference[f"prob_feature_{row['feature']}"], dtype=float)
        assert row["n_inference"] == np.sum(probabilities >= row["threshold"])
        column = f"prob_feature_{row['feature']}"
        assert row["n_target"] == np.sum(np.asarray(scored[column]) >= row["threshold"])


# The answer columns of the GZ DECaLS DR5 volunteer catalogue (Walmsley et al. 2022, gz_decals_volunteers_5),
# as documented there: counts are <question>_<answer>, fractions add _fraction / _debiased.  No GZ DECaLS
# table reaches this machine, so the mapping is tested on these names, not on real votes.
DECALS_DOCUMENTED = [
    "smooth-or-featured_smooth", "smooth-or-featured_featured-or-disk", "smooth-or-featured_artifact",
    "disk-edge-on_yes", "disk-edge-on_no", "has-spiral-arms_yes", "has-spiral-arms_no",
    "bar_strong", "bar_weak", "bar_no", "bulge-size_dominant", "bulge-size_large", "bulge-size_moderate",
    "bulge-size_small", "bulge-size_none", "how-rounded_round", "how-rounded_in-between",
    "how-rounded_cigar-shaped", "edge-on-bulge_boxy", "edge-on-bulge_none", "edge-on-bulge_rounded",
    "spiral-winding_tight", "spiral-winding_medium", "spiral-winding_loose", "spiral-arm-count_1",
    "spiral-arm-count_2", "spiral-arm-count_3", "spiral-arm-count_4", "spiral-arm-count_more-than-4",
    "spiral-arm-count_cant-tell", "merging_none", "merging_minor-disturbance", "merging_major-disturbance",
    "merging_merger"]


def test_gz_decals_tree_names_the_documented_columns_and_maps_28_features():
    tree = taxonomy.GZ_DECALS_TREE
    assert [tree.column(a.feature, "") for a in tree.answers] == DECALS_DOCUMENTED
    assert [tree.column(a.feature, "fraction") for a in tree.answers] == [
        c + "_fraction" for c in DECALS_DOCUMENTED]
    assert tree.task_votes_column("bar") == "bar_total-votes"
    comparable = [f for f in taxonomy.DETAILED_FEATURES if f in tree.gz2_features]
    assert len(comparable) == 28  # the paper's "28 GZ2 features labels" (Sect. 2.2)
    assert sorted(set(taxonomy.DETAILED_FEATURES) - set(comparable)) == [
        "dust_lane", "irregular", "odd_no", "odd_other", "odd_yes", "ring"]
    # both trees answer the same questions through one interface
    assert taxonomy.GZ2_TREE.column("spiral", "debiased") == taxonomy.answer("spiral").column("debiased")
    assert tree.answer("bar_weak").task == "bar"
    with pytest.raises(KeyError, match="no answer 'bar_medium'"):
        tree.answer("bar_medium")


def test_decals_labels_sum_fractions_and_mask_unasked_questions(tmp_path):
    """The labelling rules on two hand-made rows (arithmetic only; not evidence about real votes)."""
    from galzoo_cnn.exceptions import MissingColumnsError
    from galzoo_cnn.labels import decals_feature_labels

    columns = {f"{c}_fraction": [0.0, 0.0] for c in DECALS_DOCUMENTED}
    columns |= {f"{t.stem}_total-votes": [30, 30] for t in taxonomy.GZ_DECALS_TREE.tasks}
    columns |= {"bulge-size_large_fraction": [0.3, 0.2], "bulge-size_moderate_fraction": [0.25, 0.2],
                "bulge-size_total-votes": [12, 4], "merging_merger_fraction": [0.7, np.nan]}
    labels = decals_feature_labels(Table(columns))
    assert len([c for c in labels.colnames if c.startswith("label_")]) == 28
    assert labels["label_bulge_obvious"].tolist() == [True, None]  # 0.55 >= 0.5; 4 votes < 10
    assert labels["label_merger"].tolist() == [True, None]  # no fraction: unknown
    assert labels["label_smooth"].tolist() == [False, False]
    assert labels.meta["feature_labels"]["bulge_obvious"] == {"positive": 1, "negative": 0, "unknown": 1}
    with pytest.raises(MissingColumnsError, match="bar_total-votes"):
        decals_feature_labels(Table({"bar_strong_fraction": [0.1], "bar_weak_fraction": [0.1]}),
                              features=["bar"])
    with pytest.raises(ValueError, match="no counterpart of the GZ2 feature"):
        decals_feature_labels(Table(columns), features=["ring"])

    from galzoo_cnn.cli import main

    Table(columns).write(tmp_path / "decals.ecsv")
    assert main(["labels", str(tmp_path / "decals.ecsv"), "--gz-decals", "--min-votes", "5",
                 "--output", str(tmp_path / "deep.ecsv")]) == 0
    deep = Table.read(tmp_path / "deep.ecsv")
    assert deep["label_bulge_obvious"].tolist() == [True, None]  # 4 votes < 5
    assert main(["labels", str(tmp_path / "decals.ecsv"), "--gz-decals", "--fractions", "weighted_fraction",
                 "--output", str(tmp_path / "x.ecsv")]) == 2


def test_sample_class_and_feature_figures_on_real_rows(real_data, tmp_path):
    """Figs. 1, 7 and 9-13 on real GZ2 rows and images: what is drawn is what was counted."""
    import matplotlib

    matplotlib.use("agg")
    from galzoo_cnn.plots import plot_class_histograms, plot_feature_gallery, plot_sample_histograms

    hart = Table.read(real_data / "gz2_hart16_sdss" / "gz2_hart16.csv")
    others = Table.read(real_data / "gz2_hart16_sdss" / "gz2_hart16_no_images.csv")
    axes = plot_sample_histograms(hart, others, ["total_votes", "dec"])
    for ax, column in zip(axes, ["total_votes", "dec"]):
        heights = [p for p in ax.patches]
        assert [p.get_label() for p in heights][:1] == [f"training ({len(hart)})"]
        assert f"{column} median {np.median(others[column]):.3g} (inference)" in axes[0].figure.caption
    assert axes[0].get_xlabel() == "total_votes"

    labelled = five_class_labels(hart)
    ax = plot_class_histograms(labelled, "dec", class_column="gz2_five_class")
    classes = sorted(set(labelled["gz2_five_class"].compressed()))
    assert [p.get_label() for p in ax.patches] == [
        f"{c} ({int((labelled['gz2_five_class'].filled('') == c).sum())})" for c in classes]

    scored = hart.copy()
    scored["prob_spiral"] = scored[taxonomy.answer("spiral").column("weighted_fraction")]
    figure = plot_feature_gallery(scored, "spiral", n=6, image_dir=real_data / "gz2_hart16_sdss" / "images",
                                  fov=30 * u.arcsec, threshold=0.5)
    best = np.argsort(-np.asarray(scored["prob_spiral"]), kind="stable")[:6]
    assert [ax.get_title().splitlines()[0] for ax in figure.axes] == [
        f"spiral {scored['prob_spiral'][i]:.2f}" for i in best]
    ra, dec = scored["ra"][best[0]], scored["dec"][best[0]]
    assert figure.axes[0].get_title().splitlines()[1] == f"{ra:.4f} {dec:+.4f}"
    assert any(t.get_text() == '5"' for t in figure.axes[0].texts)  # the scale bar
    assert "galaxies prob_spiral >= 0.50" in figure.caption
    figure.savefig(tmp_path / "spiral.png", dpi=60)
    with pytest.raises(ValueError, match="no galaxy is prob_spiral >= 1.01"):
        plot_feature_gallery(scored, "spiral", threshold=1.01)


def test_match_labels_pairs_rows_by_id_and_by_position(real_data):
    from galzoo_cnn.evaluation import match_labels

    hart = Table.read(real_data / "gz2_hart16_sdss" / "gz2_hart16.csv")
    labelled = feature_labels(hart, features=["bar", "spiral"])
    classified = hart["dr7objid", "ra", "dec"][::-1][:60]
    classified["dec"] = classified["dec"] + (0.5 * u.arcsec).to_value(u.deg)
    for options in ({"id_column": "dr7objid"}, {}):
        matched = match_labels(classified, labelled, **options)
        assert len(matched) == 60 and matched.meta["n_matched"] == 60
        expected = labelled[matched["match_row"]]
        assert (matched["dr7objid"] == expected["dr7objid"]).all()
        assert matched["label_bar"].tolist() == expected["label_bar"].tolist()
    assert len(match_labels(classified, labelled, radius=0.1 * u.arcsec)) == 0


def test_roc_curves_of_many_features_stay_legible():
    """With the paper's many features, every curve gets its own colour and style and the legend sits
    beside the axes instead of over the curves."""
    import matplotlib

    matplotlib.use("agg")
    from galzoo_cnn.plots import plot_roc_curves

    features = ["smooth", "features_or_disk", "edge_on_yes", "edge_on_no", "bar", "no_bar", "spiral",
                "no_spiral", "odd_yes", "odd_no", "completely_round", "in_between"]
    table = feature_labels(load_gz2_sample(layout="hart2016"), features=features)
    for feature in features:
        table[f"prob_feature_{feature}"] = table[taxonomy.answer(feature).column("weighted_fraction")]
    ax = plot_roc_curves(table, features)
    curves = ax.lines[:-1]  # the last line is the diagonal
    assert len(curves) == len(features)
    assert len({(tuple(c.get_color()), c.get_linestyle()) for c in curves}) == len(curves)
    ax.figure.canvas.draw()
    legend = ax.get_legend().get_window_extent()
    assert legend.x0 >= ax.get_window_extent().x1


def test_decals_labels_of_a_partial_real_table(real_data):
    """gz_decals_rings gives three GZ DECaLS fractions and no vote counts: those three features are
    labelled (fraction >= 0.5, by hand below), the others are not guessed, and the missing counts are said."""
    from galzoo_cnn.exceptions import GalzooWarning
    from galzoo_cnn.labels import decals_feature_labels

    table = Table.read(real_data / "gz_decals_rings" / "labels.csv")
    with pytest.warns(GalzooWarning, match="no vote counts .*disk-edge-on_total-votes"):
        labels = decals_feature_labels(table)
    labelled = [c.removeprefix("label_") for c in labels.colnames if c.startswith("label_")]
    assert labelled == ["features_or_disk", "edge_on_no", "no_spiral"]
    for feature, column in (("features_or_disk", "smooth-or-featured_featured-or-disk_fraction"),
                            ("edge_on_no", "disk-edge-on_no_fraction"),
                            ("no_spiral", "has-spiral-arms_no_fraction")):
        expected = [float(v) >= 0.5 for v in table[column]]
        assert labels[f"label_{feature}"].tolist() == expected
    # the sample is featured, face-on, not spiral: every label positive, as selected
    assert all(labels.meta["feature_labels"][f]["negative"] == 0 for f in labelled)
