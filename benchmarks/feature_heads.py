# Licensed under a 3-clause BSD style license - see LICENSE
"""Which head for sample-gz2-features: a logistic regression on sample-gz2-robust's frozen pooled
features, from single views or averaged over the eight dihedral views (real images only).

For each of the 16 features of ``tools/make_features_table.py``'s table it fits one logistic
regression (scikit-learn, C = 0.01, balanced classes) on the training and validation rows' features
and prints the ROC AUC on the held-out test rows, for both kinds of features: the measurement behind
``view_pooling: dihedral`` in the ``sample-gz2-features`` configuration.

    python benchmarks/feature_heads.py --data ../shared/data --table runs/features/table.ecsv
"""

import argparse
import warnings
from pathlib import Path

import numpy as np
from astropy.table import Table

from galzoo_cnn._inference import predict_images
from galzoo_cnn.models import load_model

#: The features whose mean the acceptance list of the features model names.
LISTED = ("smooth", "features_or_disk", "edge_on_yes", "completely_round", "in_between", "cigar_shaped",
          "odd_yes", "ring", "merger", "irregular", "odd_other")


def pooled_features(model, paths, crop, tta):
    _, _, (features,), _ = predict_images([model], paths, [crop], embed=True, tta=tta, num_workers=0)
    return features


def test_aucs(features, table):
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.preprocessing import StandardScaler

    split = np.asarray(table["split"]).astype(str)
    fit_rows = split != "test"
    scaled = StandardScaler().fit(features[fit_rows]).transform(features)
    aucs = {}
    for name in [c.removeprefix("label_") for c in table.colnames if c.startswith("label_")]:
        label = np.ma.asarray(table[f"label_{name}"])
        known = ~np.ma.getmaskarray(label)
        y = np.asarray(label.filled(False)).astype(int)
        train, test = known & fit_rows, known & ~fit_rows
        if len(set(y[train])) < 2 or len(set(y[test])) < 2:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            regression = LogisticRegression(C=0.01, max_iter=3000, class_weight="balanced")
            fitted = regression.fit(scaled[train], y[train])
        aucs[name] = roc_auc_score(y[test], fitted.predict_proba(scaled[test])[:, 1])
    return aucs


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--table", type=Path, required=True, help="tools/make_features_table.py output")
    parser.add_argument("--model", default="sample-gz2-robust", help="the backbone's model")
    parser.add_argument("--crop", type=float, help="central fraction of each image read; default the card's")
    args = parser.parse_args()
    table = Table.read(args.table)
    model = load_model(args.model)
    paths = [args.data / "gz2_kaggle_votes" / "images" / name for name in table["filename"]]
    crop = args.crop or float(model.card["input"].get("crop", 1.0))
    results = {kind: test_aucs(pooled_features(model, paths, crop, tta), table)
               for kind, tta in (("single view", False), ("8 dihedral views averaged", True))}
    print(f"Logistic regression on {args.model}'s frozen pooled features (crop {crop:g}); test ROC AUC "
          f"({int((table['split'] == 'test').sum())} held-out galaxies)")
    print(f"{'feature':18s} " + "  ".join(f"{kind:>26s}" for kind in results))
    for name in results["single view"]:
        print(f"{name:18s} " + "  ".join(f"{aucs.get(name, np.nan):26.3f}" for aucs in results.values()))
    print(f"{'mean (listed 11)':18s} " + "  ".join(
        f"{np.mean([aucs[f] for f in LISTED if f in aucs]):26.3f}" for aucs in results.values()))


if __name__ == "__main__":
    main()
