# Licensed under a 3-clause BSD style license - see LICENSE
"""Judge a five-class model, bundled or a training run's, on every real image set at once.

A candidate default model has to hold on all of these together (real images only, ``--data``):

``crops``
    sample-gz2's 3 941 held-out Kaggle GZ2 test rows, 150 px crops of 6 Petrosian R90;
``native``
    355 of them as Galaxy Zoo 2 framed them (``gz2_kaggle_native``, 424 px, 8.48 R90);
``hart16``
    the 100 ``gz2_hart16_sdss`` close-up cutouts (0.1 arcsec/px), classes from `five_class_labels` on
    their debiased votes: the image source the model was not trained on.

The first two sets are ``framing_accuracy.py``'s, read with bare file names and reframed from
``cutout_fov`` / ``petroR90_r`` columns; the Hart et al. rows are ``evaluate_sample_models.py``'s.

For each it prints the five-class accuracy, the cigar-shaped recall (the rarest class, 2 % of the
rows), the accuracy grouped to smooth / edge-on / spiral and the top-label ECE beside the ECE exact
probabilities read on the same rows (`calibration_floor`, median). ``--pool-views`` reads
a single-view model through its eight dihedral views (as ``tools/pool_views.py`` makes
``sample-gz2-dihedral``); ``--crop`` / ``--frame-r90`` set the input a run's card does not have yet;
``--split`` fits the temperature on the run's validation rows first (`calibrate_model`), and with
``--decision balanced`` the class factors too (`balance_model`); ``--decision balanced`` alone reads the
card's factors (``benchmarks/select_decision.py`` writes them).

    python benchmarks/five_class_acceptance.py --models sample-gz2-dihedral
    python benchmarks/five_class_acceptance.py --models sample-gz2-dihedral --decision balanced
    python benchmarks/five_class_acceptance.py --models runs/x/x.json --pool-views --crop 0.85 \\
        --frame-r90 5.5 --split runs/x/split.ecsv
"""

import argparse
from pathlib import Path

import numpy as np
from astropy.table import Table
from evaluate_sample_models import sources  # the benchmarks beside this one
from framing_accuracy import SETS, image_sets, reframed, scores

from galzoo_cnn import classify_table
from galzoo_cnn.evaluation import balance_model, calibrate_model, class_metrics
from galzoo_cnn.models import derived_model, load_model
from galzoo_cnn.objectives import DECISIONS
from galzoo_cnn.taxonomy import FIVE_CLASSES


def judged_sets(data):
    """(name, table, image directory) of each set, every table with its ``gz2_five_class`` truth: the
    framing benchmark's sets bare and reframed, and the Hart et al. cutouts that have a class."""
    for name, table, image_dir in image_sets(data):
        yield f"{name} bare", table, image_dir
        yield f"{name} reframed", reframed(table, SETS[name]), image_dir
    _, hart, image_dir, _, _ = next(source for source in sources(data) if source[0] == "hart16")
    yield "hart16", hart[~np.ma.getmaskarray(hart["gz2_five_class"])], image_dir


def candidate(name_or_path, *, pool_views=False, crop=None, frame_r90=None):
    """The model to judge: loaded, optionally read through eight views, with the input given."""
    model = load_model(name_or_path)
    if not (pool_views or crop or frame_r90):
        return model
    given = {k: v for k, v in (("crop", crop), ("frame_r90", frame_r90)) if v}
    changes = {"input": dict(model.card["input"], **given)}
    if pool_views:  # averaged views soften the probabilities: temperature and factors fitted again (--split)
        changes.update(head=dict(model.card["head"], view_pooling="dihedral"), calibration=None,
                       decision=None)
    return derived_model(model, **changes)


def figures(model, table, image_dir, decision="most_probable"):
    """`framing_accuracy.scores` on one set, with its count of cigar-shaped rows and the grouped accuracy."""
    out = classify_table(table, model=model, image_dir=image_dir, progress=False, decision=decision)
    grouped = class_metrics(out, "gz2_five_class", grouped=True, n_bootstrap=0)
    return dict(scores(out, list(model.classes)), grouped=grouped.meta["accuracy"],
                n_cigar=int((np.asarray(out["gz2_five_class"]).astype(str) == "cigar_shaped").sum()))


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--models", nargs="+", default=["sample-gz2-dihedral"])
    parser.add_argument("--pool-views", action="store_true", help="read each image through its eight views")
    parser.add_argument("--crop", type=float, help="bare-name crop, instead of the card's")
    parser.add_argument("--frame-r90", type=float, help="frame to reframe to, instead of the card's")
    parser.add_argument("--split", type=Path,
                        help="the run's split.ecsv: fit the temperature on its validation rows")
    parser.add_argument("--decision", choices=DECISIONS, default="most_probable",
                        help="how predicted_class is chosen (classify_table's decision)")
    args = parser.parse_args()
    for name in args.models:
        model = candidate(name, pool_views=args.pool_views, crop=args.crop, frame_r90=args.frame_r90)
        if list(model.classes) != list(FIVE_CLASSES):
            raise SystemExit(f"{name} is not a five-class model")
        if args.split:
            split = Table.read(args.split)
            val, images = split[split["split"] == "val"], args.data / "gz2_kaggle_5class" / "images"
            calibrate_model(model, val, image_dir=images, progress=False)
            if args.decision == "balanced":
                balance_model(model, val, image_dir=images, progress=False)
        print(f"{name} (crop {model.card.crop:g}, frame {model.card.frame_r90:g} R90, "
              f"T {model.temperature:g}{', eight views' if model.view_pooling else ''}, "
              f"decision {args.decision})")
        for set_name, table, image_dir in judged_sets(args.data):
            f = figures(model, table, image_dir, args.decision)
            print(f"  {set_name:15s} n={f['n']:5d}  accuracy {f['accuracy']:.3f}  cigar-shaped "
                  f"{f['cigar_recall']:.3f} of {f['n_cigar']:2d}  grouped {f['grouped']:.3f}  "
                  f"ECE {f['ece']:.3f} (exact probabilities: {f['ece_if_calibrated'][0]:.3f})")


if __name__ == "__main__":
    np.seterr(all="ignore")
    raise SystemExit(main())
