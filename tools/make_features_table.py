# Licensed under a 3-clause BSD style license - see LICENSE
"""The training table of the detailed-feature model ``sample-gz2-features`` (configuration bundled).

From the project's development data (``--data``): the 4 312 Kaggle GZ2 galaxies of
``gz2_kaggle_votes`` (real GZ2 vote fractions in the Kaggle challenge layout), labelled with
`galzoo_cnn.labels.feature_labels` (Kaggle layout: 16 of the 34 features; the labels every evaluation
reads), their vote fractions from `galzoo_cnn.labels.feature_fractions` (the soft labels the model
trains on, known where the labels are) and a ``split`` column that keeps the evaluation honest for a
model that starts from the five-class backbone:

* galaxies in the five-class models' held-out test split (``sample-gz2-test.ecsv``, among them the
  355 native frames of ``gz2_kaggle_native``) are test rows;
* galaxies the five-class backbone trained on are training rows;
* the others (not in ``gz2_kaggle_5class``, or in its validation split) are drawn at random
  (seed 2022): 30 % test, 15 % validation, the rest training.

    python tools/make_features_table.py --data ../shared/data --output runs/features/table.ecsv
"""

import argparse
from importlib.resources import files
from pathlib import Path

import numpy as np
from astropy.table import Table

from galzoo_cnn import taxonomy
from galzoo_cnn.columns import FEATURE_PREFIX, FRACTION_PREFIX
from galzoo_cnn.labels import feature_fractions, feature_labels

#: The 16 detailed features the Kaggle subset's answer columns carry (Class1, 2, 6, 7, 8).
FEATURES = ("smooth", "features_or_disk", "star_or_artifact", "edge_on_yes", "edge_on_no", "odd_yes",
            "odd_no", "completely_round", "in_between", "cigar_shaped", "ring", "disturbed", "irregular",
            "odd_other", "merger", "dust_lane")


def split_rows(votes, five_class_split, seed=2022):
    """``split`` for every row of ``votes`` (see the module docstring)."""
    known = dict(zip(five_class_split["filename"], five_class_split["split"]))
    given = np.array([known.get(name, "") for name in votes["filename"]])
    split = np.where(given == "test", "test", np.where(given == "train", "train", ""))
    free = np.flatnonzero(split == "")
    draw = np.random.default_rng(seed).random(len(free))
    split[free] = np.where(draw < 0.30, "test", np.where(draw < 0.45, "val", "train"))
    return split


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--five-class-split", type=Path,
                        help="split.ecsv of the five-class training run (default: rebuilt from the bundled "
                             "test rows and gz2_kaggle_5class: test rows, else train or val as drawn there)")
    parser.add_argument("--output", type=Path, required=True)
    args = parser.parse_args()
    votes = Table.read(args.data / "gz2_kaggle_votes" / "votes.csv")
    # labels last: their provenance is the table's (the test rows bundled with the model are labels)
    labelled = feature_labels(feature_fractions(votes, features=FEATURES, layout="kaggle"), features=FEATURES,
                              layout="kaggle")
    if args.five_class_split:
        five_class = Table.read(args.five_class_split)
    else:
        from galzoo_cnn.training import split_table

        table = Table.read(args.data / "gz2_kaggle_5class" / "labels.csv")
        # sample-gz2's split
        five_class = split_table(table, label_column="gz2_five_class", test_fraction=0.15,
                                 val_fraction=0.1, seed=2022)
        bundled = Table.read(files("galzoo_cnn") / "data" / "models" / "sample-gz2-test.ecsv")
        assert set(five_class["filename"][five_class["split"] == "test"]) == set(bundled["filename"])
    labelled["split"] = split_rows(labelled, five_class)
    keep = ["galaxy_id", "filename", "split"] + [prefix + f for prefix in (FEATURE_PREFIX, FRACTION_PREFIX)
                                                 for f in FEATURES]
    args.output.parent.mkdir(parents=True, exist_ok=True)
    labelled[keep].write(args.output, overwrite=True)
    counts = {s: int((labelled["split"] == s).sum()) for s in ("train", "val", "test")}
    print(f"{len(labelled)} rows {counts}; reference: {taxonomy.DIELEMAN2015}")
    for feature in FEATURES:
        column = labelled[FEATURE_PREFIX + feature]
        known = ~column.mask
        print(f"  {feature:18s} positive {int((column.data & known).sum()):5d}  known {int(known.sum()):5d}")


if __name__ == "__main__":
    main()
