# Licensed under a 3-clause BSD style license - see LICENSE
"""The detailed-feature model on real images: the paper's Tables 2-3 and the DECaLS deep test.

Real images only (the project's development data, ``--data``):

``crops``
    the features model's held-out test rows (``split == 'test'`` of
    ``tools/make_features_table.py``'s table): 150 px Kaggle GZ2 crops, 6 R90.
``native``
    the 355 of them that ``gz2_kaggle_native`` holds as native 424 px GZ2
    frames (8.48 R90): bare file names, as a user would classify them.
``hart16``
    ``gz2_hart16_sdss``: 100 GZ2 galaxies in their own SDSS cutouts
    (0.1"/px: the galaxy larger in the frame), labelled from their
    debiased vote fractions: another framing, never trained on.
``decals``
    ``gz_decals_rings``: 100 DECaLS images (another survey, 0.262"/px,
    deeper), volunteers' ring tags and three GZ DECaLS vote fractions.
``val``
    the features model's validation rows (``split == 'val'``), which chose
    its flag thresholds and, between the two runs, say which to bundle
    without reading the test rows.

It prints per-feature ROC AUC for the model trained with the adversarial augmentation
(``--model``: a model name or card path, e.g. ``runs/sample-gz2-features/sample-gz2-features.json``)
and without it (``--no-aug-model``), in the layout of the paper's Tables 2-3
(`galzoo_cnn.evaluation.feature_table`), and the deep test.  ``--update-card`` writes into the card
(bundled by name, or at its path): the flag thresholds chosen on the validation rows (rule
``best_f1``), both test AUCs per feature and their difference, the 95 % bootstrap interval of each AUC
with the augmentation (`galzoo_cnn.evaluation.feature_metrics`), the native-frame AUCs and the DECaLS
figures; ``--test-rows`` writes the test rows' labels beside it; ``--docs`` writes the tables, the ROC
curves and feature galleries the documentation shows (``docs/_static/features/``).

    python benchmarks/feature_auc.py --data ../shared/data --table runs/features/table.ecsv \\
        --model runs/sample-gz2-features/sample-gz2-features.json \\
        --no-aug-model runs/sample-gz2-features-noadv/sample-gz2-features-noadv.json
"""

import argparse
import json
from pathlib import Path

import numpy as np
from astropy.table import Table, join
from feature_heads import LISTED  # beside this one: the features of the acceptance list
from sklearn.metrics import roc_auc_score

from galzoo_cnn import classify_table
from galzoo_cnn.columns import FEATURE_PREFIX as LABEL
from galzoo_cnn.columns import FEATURE_PROBABILITY_PREFIX as PROB
from galzoo_cnn.evaluation import feature_metrics, feature_table
from galzoo_cnn.labels import feature_labels
from galzoo_cnn.models import load_model
from galzoo_cnn.utils._cards import update_card_file
from galzoo_cnn.utils._metrics import feature_auc_interval, mean_auc

DOCS = Path(__file__).resolve().parents[1] / "docs" / "_static" / "features"
TITLES = {"crops": "Held-out Kaggle GZ2 galaxies, 150 px crops (6 R90)",
          "native": "The same galaxies' native 424 px GZ2 frames (8.48 R90)",
          "hart16": "Hart et al. (2016) GZ2 galaxies, their own SDSS cutouts (0.1\"/px; another framing)",
          "val": "Validation Kaggle GZ2 galaxies, 150 px crops (6 R90): the rows that chose the thresholds"}
#: GZ DECaLS fractions and the model's features they answer (Walmsley et al. 2022 names).
DECALS_PAIRS = {"smooth-or-featured_featured-or-disk_fraction": "features_or_disk",
                "disk-edge-on_no_fraction": "edge_on_no"}


def classified(model, rows, image_dir):
    out = classify_table(rows, model=model, image_dir=image_dir, progress=False)
    return out[out["status"] == "ok"]


def native_rows(data, test):
    native = Table.read(data / "gz2_kaggle_native" / "labels.csv")["galaxy_id", "filename"]
    labels = test[["galaxy_id"] + [c for c in test.colnames if c.startswith(LABEL)]]
    return join(native, labels, keys="galaxy_id")


def hart_rows(data, features):
    """The 100 Hart et al. (2016) GZ2 galaxies with their own SDSS cutouts (0.1"/px, the galaxy larger
    in the frame than in GZ2's), labelled from their debiased vote fractions."""
    import warnings

    with warnings.catch_warnings():  # questions not well sampled are masked: expected
        warnings.simplefilter("ignore")
        return feature_labels(Table.read(data / "gz2_hart16_sdss" / "gz2_hart16.csv"), features=features)


def decals(model, data):
    rows = Table.read(data / "gz_decals_rings" / "labels.csv")
    out = classified(model, rows, data / "gz_decals_rings" / "images")
    result = {"n": len(out)}
    if PROB + "ring" in out.colnames:
        result["ring_auc"] = round(float(roc_auc_score(np.asarray(out["ring"]), out[PROB + "ring"])), 4)
        interval = feature_auc_interval(out["ring"], out[PROB + "ring"])
        result["ring_auc_interval"] = [round(v, 4) for v in interval]
    for column, feature in DECALS_PAIRS.items():
        fraction = np.asarray(out[column], dtype=float)
        known = np.isfinite(fraction)
        majority = fraction[known] >= 0.5
        if 0 < majority.sum() < known.sum():
            result[f"{feature}_auc_vs_{column}"] = round(float(roc_auc_score(
                majority, np.asarray(out[PROB + feature])[known])), 4)
        result[f"{feature}_spearman_vs_{column}"] = round(float(
            _spearman(fraction[known], np.asarray(out[PROB + feature])[known])), 4)
    return result


def write_docs(tables, sets, deep, images, model):
    """The tables (text), ROC curves and ring / merger galleries of the documentation."""
    import matplotlib

    matplotlib.use("agg")
    from galzoo_cnn.plots import plot_feature_gallery, plot_roc_curves

    DOCS.mkdir(parents=True, exist_ok=True)
    lines = []
    for name, result in tables.items():
        shown = result["feature", "auc_test_no_aug", "auc_test_aug", "auc_test_aug_low", "auc_test_aug_high",
                       "auc_test_diff", "threshold"]
        lines += [f"{TITLES[name]} ({len(sets[name])} galaxies)", *shown.pformat(max_lines=-1, max_width=-1),
                  f"mean ROC AUC over the features with labels: "
                  f"{np.nanmean(np.ma.filled(result['auc_test_aug'], np.nan)):.3f}", ""]
    lines += ["DECaLS deep test (gz_decals_rings, 100 galaxies): " + json.dumps(deep)]
    (DOCS / "feature_tables.txt").write_text("\n".join(lines) + "\n")
    crops = sets["crops"]
    shown = [f for f in ("smooth", "edge_on_yes", "cigar_shaped", "odd_yes", "ring", "merger", "irregular")
             if f in model.classes]
    ax = plot_roc_curves(crops, shown)
    ax.set_title(f"{model.card['name']}: held-out Kaggle GZ2 galaxies ({len(crops)})")
    ax.figure.savefig(DOCS / "roc.png", dpi=80, bbox_inches="tight")
    for feature in ("ring", "merger"):
        figure = plot_feature_gallery(crops, feature, n=12, image_dir=images)
        figure.savefig(DOCS / f"{feature}_gallery.png", dpi=70, bbox_inches="tight")


def _spearman(a, b):
    from scipy.stats import spearmanr

    return spearmanr(a, b).statistic


def with_intervals(result, out):
    """``feature_table``'s ``result`` with the 95 % bootstrap interval of each AUC with augmentation
    (``auc_test_aug_low`` / ``_high``; `feature_metrics` on the classified rows ``out``) and, in its
    ``meta``, the mean AUC of the acceptance list's features with its interval."""
    known = [str(f) for f, v in zip(result["feature"], result["auc_test_aug"]) if not np.ma.is_masked(v)]
    features = [f for f in LISTED if f in known]
    listed = mean_auc(out, [LABEL + f for f in features], [PROB + f for f in features])
    interval = [round(listed[f"mean_roc_auc_{side}"], 4) for side in ("low", "high")]
    result.meta["mean_listed"] = {"features": features, "roc_auc": round(listed["mean_roc_auc"], 4),
                                  "interval": interval}
    bounds = {str(r["feature"]): (r["roc_auc_low"], r["roc_auc_high"])
              for r in feature_metrics(out, features=known)}
    for k, side in enumerate(("low", "high")):
        result[f"auc_test_aug_{side}"] = [bounds.get(str(f), (np.nan, np.nan))[k] for f in result["feature"]]
        result[f"auc_test_aug_{side}"].info.format = ".3f"
    return result


def auc_column(result, name):
    """Feature -> a `feature_table` column's value, rounded (None where the set lacks the feature)."""
    return {str(f): (None if np.ma.is_masked(v) or not np.isfinite(v) else round(float(v), 4))
            for f, v in zip(result["feature"], result[name])}


def write_figures(card, thresholds, tables, sets, deep):
    """Write the thresholds and every set's AUCs (``tables``, by set name) into ``card``."""
    card["thresholds"] = thresholds
    card["threshold_rule"] = ("best_f1 on the validation rows (evaluation.acceptance_threshold); "
                              "features without a positive validation row keep 0.5")
    card.setdefault("metrics", {})["features"] = {
        name: {"n": len(sets[name]), "roc_auc": auc_column(result, "auc_test_aug"),
               "roc_auc_interval": {f: [low, high] for (f, low), high in zip(
                   auc_column(result, "auc_test_aug_low").items(),
                   auc_column(result, "auc_test_aug_high").values()) if low is not None},
               "roc_auc_without_augmentation": auc_column(result, "auc_test_no_aug"),
               "difference": auc_column(result, "auc_test_diff")}
        for name, result in tables.items()}
    for name, result in tables.items():
        card["metrics"]["features"][name]["mean_roc_auc"] = result.meta["mean_listed"]
    card["metrics"]["features"]["decals"] = deep
    if not card["metrics"].get("test"):  # tools/pool_views.py made it: training never tested it
        crops = auc_column(tables["crops"], "auc_test_aug")
        card["metrics"]["test"] = {"roc_auc": {f: v for f, v in crops.items() if v is not None},
                                   "n_test": len(sets["crops"])}
    card["metrics"]["features"]["note"] = (
        "benchmarks/feature_auc.py; crops = held-out 150 px Kaggle rows (6 R90), native = the 355 of "
        "them as 424 px GZ2 frames, hart16 = the 100 gz2_hart16_sdss cutouts labelled from their "
        "debiased fractions, decals = gz_decals_rings, val = the validation rows (thresholds chosen there); "
        "without_augmentation = sample-gz2-features-noadv")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--table", type=Path, required=True, help="tools/make_features_table.py output")
    parser.add_argument("--model", required=True, help="model name or card path")
    parser.add_argument("--no-aug-model", help="the same model trained without the adversarial augmentation")
    parser.add_argument("--update-card", action="store_true")
    parser.add_argument("--test-rows", action="store_true", help="bundle the test rows' labels")
    parser.add_argument("--docs", action="store_true", help="write docs/_static/features/")
    args = parser.parse_args()
    table = Table.read(args.table)
    images = args.data / "gz2_kaggle_votes" / "images"
    test, val = table[table["split"] == "test"], table[table["split"] == "val"]
    model = load_model(args.model)
    features = list(model.classes)
    native_images = args.data / "gz2_kaggle_native" / "images"
    hart_images = args.data / "gz2_hart16_sdss" / "images"
    hart = hart_rows(args.data, features)
    validation = feature_metrics(classified(model, val, images), features=features)
    thresholds = {str(r["feature"]): round(float(r["threshold"]), 4) for r in validation
                  if np.isfinite(r["threshold"])}
    if args.update_card:  # the flags below (and the galleries) are those of the thresholds written
        model.card["thresholds"] = thresholds
    sets = {"crops": classified(model, test, images),
            "native": classified(model, native_rows(args.data, test), native_images),
            "hart16": classified(model, hart, hart_images),
            "val": classified(model, val, images)}  # again: its flags are those of the thresholds chosen
    no_aug = {}
    if args.no_aug_model:
        other = load_model(args.no_aug_model)
        no_aug = {"crops": classified(other, test, images),
                  "native": classified(other, native_rows(args.data, test), native_images),
                  "hart16": classified(other, hart, hart_images), "val": classified(other, val, images)}
    tables = {name: with_intervals(feature_table(out, test_without_augmentation=no_aug.get(name),
                                                 features=features), out)
              for name, out in sets.items()}
    for name, result in tables.items():
        print(f"\n{name}: {len(sets[name])} rows")
        result.pprint(max_lines=-1, max_width=-1)
        print(f"mean AUC (with augmentation) {np.nanmean(np.ma.filled(result['auc_test_aug'], np.nan)):.4f}; "
              f"of the acceptance list's features: {json.dumps(result.meta['mean_listed'])}")
    deep = decals(model, args.data)
    if args.no_aug_model:
        deep["ring_auc_without_augmentation"] = decals(other, args.data).get("ring_auc")
    print("\nDECaLS deep test:", json.dumps(deep))
    if args.update_card:
        card_path = update_card_file(
            args.model, lambda card: write_figures(card, thresholds, tables, sets, deep))
        if args.test_rows:
            test[["galaxy_id", "filename"] + [LABEL + f for f in features]].write(
                card_path.with_name(f"{card_path.stem}-test.ecsv"), overwrite=True)
    if args.docs:
        write_docs(tables, sets, deep, images, model)


if __name__ == "__main__":
    main()
